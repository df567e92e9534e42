"""MLPS compliance against real SSH test hosts: findings of a stock host, the baseline role
(real ansible-playbook through ansible-runner), idempotence and check mode.

Hosts h48 and h49 are this module's own: the other integration tests only read them
(test_testhosts probes every host with ``sudo -n``, which the baseline keeps working) and
h50 is the rsync destination, so it is left alone.  Hosts live as long as the harness, so
the module first puts every file the role manages back to the pristine rootfs version
(the overlay's lower layer) and does so again at the end.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govcloud.compliance.collect import assess, collect
from govcloud.compliance.model import ComplianceThresholds, Status
from govcloud.compliance.targets import read_ansible_ini, target_for
from govcloud.drivers.ansible import run_playbook
from integration_helpers import run_ssh

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "mlps_baseline.yml"
ROOTFS = Path(os.environ.get("GOVCLOUD_HARNESS_CACHE", "/opt/govcloud-harness")) / "rootfs"
MINE = ("h48", "h49")

# every path the role may write on a Debian 12 test host (and the account files it chmods)
MANAGED = ["/etc/login.defs", "/etc/pam.d/common-auth", "/etc/pam.d/common-password", "/etc/security/faillock.conf",
           "/etc/security/pwquality.conf", "/etc/ssh/sshd_config.d/00-govcloud-mlps.conf",
           "/etc/profile.d/govcloud-mlps.sh", "/etc/logrotate.conf", "/etc/rsyslog.d/60-govcloud-remote.conf",
           "/etc/audit/rules.d/govcloud-mlps.rules"]
MODES = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"]

# a stock Debian 12 test host at level 3 (the same set the unit test derives from recorded facts)
DEFAULT_FAIL = {"pwd.complexity", "pwd.expiry", "pwd.history", "auth.lockout", "session.tmout", "ssh.client_alive",
                "ssh.max_auth_tries", "ssh.permit_root_login", "sudo.least_privilege", "file.permissions", "umask",
                "mac.enforcing", "audit.enabled", "audit.rules", "audit.immutable", "log.syslog", "time.sync",
                "log.remote", "log.retention", "firewall.host", "ids.presence", "malware.protection"}
# what the role fixes offline on these hosts
FIXED = {"pwd.expiry", "pwd.history", "auth.lockout", "session.tmout", "ssh.client_alive", "ssh.max_auth_tries",
         "ssh.permit_root_login", "file.permissions", "umask"}
L3_ONLY = {"mac.enforcing", "audit.immutable", "ids.presence", "auth.mfa"}


def _reset(client) -> None:
    """Put every managed file back to the rootfs version (or remove it), then reload sshd."""
    script = ["set -e"]
    for path in MANAGED:
        src = ROOTFS / path.lstrip("/")
        if src.is_file():
            script.append(f"base64 -d > {path} <<'EOF'\n{__import__('base64').b64encode(src.read_bytes()).decode()}\nEOF")
            script.append(f"chmod {oct(src.stat().st_mode & 0o7777)[2:]} {path}")
        else:
            script.append(f"rm -f {path}")
    for path in MODES:
        script.append(f"chmod {oct((ROOTFS / path.lstrip('/')).stat().st_mode & 0o7777)[2:]} {path}")
    script.append("/usr/sbin/sshd -t && kill -HUP $(cat /run/sshd.pid)")
    rc, _, err = run_ssh(client, "sudo -n sh -s", stdin="\n".join(script).encode() + b"\n")
    assert rc == 0, err.decode()


@pytest.fixture(scope="module")
def mlps(test_hosts):
    hosts = {h["name"]: h for h in test_hosts.hosts}
    missing = [n for n in MINE if n not in hosts]
    assert not missing, f"need hosts {MINE} (harness/hosts up 50)"
    for n in MINE:
        c = test_hosts.client(hosts[n])
        try:
            _reset(c)
        finally:
            c.close()
    ini = read_ansible_ini(test_hosts.inventory_ini)
    targets = [target_for(n, ini.hosts[n]) for n in MINE]
    yield test_hosts, targets
    for n in MINE:
        c = test_hosts.client(hosts[n])
        try:
            _reset(c)
        finally:
            c.close()


def _findings(targets, level, th=None):
    reports = assess(collect(targets, workers=4, timeout=120), level, th or ComplianceThresholds())
    for r in reports:
        assert r.error is None, (r.host, r.error)
    return {r.host: {f.check_id: f for f in r.findings} for r in reports}


def _status(findings, status):
    return {k for k, f in findings.items() if f.status is status}


def _hashes(test_hosts, name):
    c = test_hosts.client(next(h for h in test_hosts.hosts if h["name"] == name))
    try:
        rc, out, err = run_ssh(c, "sudo -n sh -c 'for f in " + " ".join(MANAGED + MODES)
                               + "; do [ -e $f ] && stat -c \"%n %a\" $f && sha256sum $f; done; true'")
        assert rc == 0, err
        return hashlib.sha256(out).hexdigest(), out.decode()
    finally:
        c.close()


def test_stock_host_has_exactly_the_expected_findings(mlps):
    test_hosts, targets = mlps
    got = _findings(targets, 3)
    for host, f in got.items():
        assert _status(f, Status.fail) == DEFAULT_FAIL, (host, _status(f, Status.fail) ^ DEFAULT_FAIL)
        assert _status(f, Status.error) == set()
        assert f["ssh.permit_root_login"].actual == "PermitRootLogin without-password"
        assert "permitrootlogin without-password" in f["ssh.permit_root_login"].evidence
        assert f["pwd.expiry"].clause == "GB/T 22239-2019 8.1.4.1 a"
        assert "PASS_MAX_DAYS=99999" in f["pwd.expiry"].actual
        assert f["session.tmout"].status.zh == "不符合"


def test_cli_check_json_and_exit_code(mlps, tmp_path):
    test_hosts, _ = mlps
    out = tmp_path / "findings.csv"
    p = subprocess.run([sys.executable, "-c", "from govcloud.cli.compliance import app; app()", "check",
                        "--hosts", "h49", "--inventory-file", str(test_hosts.inventory_ini), "--level", "2",
                        "--output", "json", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr                      # 不符合 findings → exit 1
    doc = json.loads(p.stdout)                              # stdout is exactly one JSON document
    f = {x["check_id"]: x for x in doc["hosts"][0]["findings"]}
    assert f["ssh.permit_root_login"]["status"] == "fail" and f["ssh.permit_root_login"]["clause"].endswith("7.1.4.2 b")
    assert {k for k, x in f.items() if x["status"] == "not_applicable"} == L3_ONLY
    import csv
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines(keepends=True)))
    assert len(rows) == len(f) and {r["核查结果"] for r in rows} >= {"不符合", "符合", "不适用"}


def test_check_mode_changes_nothing(mlps, tmp_path):
    test_hosts, _ = mlps
    before = _hashes(test_hosts, "h49")
    run = run_playbook(PLAYBOOK, test_hosts.inventory_ini, limit="h49", check=True,
                       extravars={"govcloud_mlps_level": 3}, private_data_dir=tmp_path / "runner")
    assert run.ok, run.failed_tasks
    assert run.changed("h49") > 0                           # it would change things …
    assert _hashes(test_hosts, "h49") == before             # … and changed nothing


def test_baseline_fixes_what_it_can_and_is_idempotent(mlps, tmp_path):
    test_hosts, targets = mlps
    run = run_playbook(PLAYBOOK, test_hosts.inventory_ini, limit=",".join(MINE),
                       extravars={"govcloud_mlps_level": 3}, private_data_dir=tmp_path / "run1")
    assert run.ok, run.failed_tasks
    assert all(run.changed(h) > 0 for h in MINE), run.stats
    assert any("libpam-pwquality missing" in m for m in run.messages["h49"])      # gaps are reported
    again = run_playbook(PLAYBOOK, test_hosts.inventory_ini, limit=",".join(MINE),
                         extravars={"govcloud_mlps_level": 3}, private_data_dir=tmp_path / "run2")
    assert again.ok, again.failed_tasks
    assert {h: again.changed(h) for h in MINE} == {h: 0 for h in MINE}, again.changed_tasks

    l3 = _findings(targets, 3)
    l2 = _findings(targets, 2)
    for host in MINE:
        assert FIXED <= _status(l3[host], Status.passed), (host, FIXED - _status(l3[host], Status.passed))
        assert _status(l3[host], Status.fail) == DEFAULT_FAIL - FIXED
        assert _status(l2[host], Status.fail) == DEFAULT_FAIL - FIXED - L3_ONLY
        assert FIXED <= _status(l2[host], Status.passed)

    # the harness's automation account is a documented exception: with it in policy, sudo passes
    th = ComplianceThresholds.from_policy(None, {"sudo_admins": "root,%sudo,govcloud", "sudo_nopasswd_allowed": "govcloud"})
    assert _findings(targets[:1], 3, th)["h48"]["sudo.least_privilege"].status is Status.passed

    # the hosts still do what every other test needs: key login and sudo -n
    c = test_hosts.client(next(h for h in test_hosts.hosts if h["name"] == "h49"))
    try:
        rc, out, _ = run_ssh(c, "sudo -n id -u; bash -lc 'echo $TMOUT; umask'")
        assert rc == 0 and out.decode().split() == ["0", "600", "0027"]
    finally:
        c.close()
