"""MLPS host checks evaluated offline against recorded facts (no SSH, no hosts).

DEBIAN_DEFAULT is what a stock Debian 12 test host reports (recorded with the collector and
trimmed); COMPLIANT is a hardened host.  Every check has a passing and a failing example.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from govcloud.compliance.checks import CHECKS, check_ids, evaluate, logrotate_retention
from govcloud.compliance.facts import HostFacts, Section, parse_output
from govcloud.compliance.model import ComplianceThresholds, Status

TODAY = date(2026, 11, 23)
DAY = (TODAY - date(1970, 1, 1)).days

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
govcloud:x:1000:1000::/home/govcloud:/bin/bash"""

DEBIAN_DEFAULT = {
    "meta": f"uid=0\nnow={DAY * 86400}\nhostname=h49\ninit=tini\nsystemd=no",
    "os_release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"',
    "login_defs": "UMASK\t\t022\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7",
    "pam": """## /etc/pam.d/common-password
password	[success=1 default=ignore]	pam_unix.so obscure yescrypt
password	requisite			pam_deny.so
## /etc/pam.d/common-auth
auth	[success=1 default=ignore]	pam_unix.so nullok
auth	requisite			pam_deny.so
auth	required			pam_permit.so""",
    "pam_modules": "pam_faillock.so\npam_pwhistory.so\npam_unix.so",
    "pwquality": "", "faillock": "## /etc/security/faillock.conf",
    "shadow": f"root:L:{DAY - 10}:0:99999:7::\ndaemon:L:{DAY - 10}:0:99999:7::\nsync:L:{DAY - 10}:0:99999:7::\n"
              f"lp:L:{DAY - 10}:0:99999:7::\nsshd:L:{DAY - 10}:::::\ngovcloud:L:{DAY - 10}:0:99999:7::",
    "passwd": PASSWD,
    "sshd": "port 22\nmaxauthtries 6\nclientaliveinterval 0\nclientalivecountmax 3\npermitrootlogin without-password\n"
            "authenticationmethods any",
    "sshd_config": "## /etc/ssh/sshd_config\nInclude /etc/ssh/sshd_config.d/*.conf",
    "profile": "",
    "sudoers": "## /etc/sudoers\nDefaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n"
               "@includedir /etc/sudoers.d\n## /etc/sudoers.d/govcloud\ngovcloud ALL=(ALL) NOPASSWD:ALL",
    "perms": "/etc/passwd 644 root root\n/etc/shadow 640 root shadow\n/etc/group 644 root root\n"
             "/etc/gshadow 640 root shadow\n/etc/sudoers 440 root root",
    "selinux": "", "apparmor": "module_enabled=",
    "audit": "", "processes": "sh\nsleep\nsshd\nsudo\ntini",
    "syslog": "", "logrotate": "## /etc/logrotate.d/dpkg\n/var/log/dpkg.log {\n\tmonthly\n\trotate 12\n}",
    "listening": 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=54,fd=4))',
    "firewall": "", "packages": "bash\nopenssh-server\nsudo", "updates": "apt_lists=0",
    "security_tools": "", "hosts_access": "", "backup": "## /etc/crontab\n17 * * * * root cd / && run-parts --report /etc/cron.hourly",
}

COMPLIANT = dict(DEBIAN_DEFAULT) | {
    "login_defs": "UMASK\t027\nPASS_MAX_DAYS\t90\nPASS_WARN_AGE\t7",
    "pam": """## /etc/pam.d/common-password
password	requisite	pam_pwquality.so retry=3
password	required	pam_pwhistory.so remember=5 use_authtok
password	[success=1 default=ignore]	pam_unix.so obscure use_authtok yescrypt
## /etc/pam.d/common-auth
auth	requisite	pam_faillock.so preauth
auth	[success=1 default=ignore]	pam_unix.so
auth	[default=die]	pam_faillock.so authfail
auth	sufficient	pam_faillock.so authsucc""",
    "pwquality": "## /etc/security/pwquality.conf\nminlen = 10\nminclass = 3",
    "faillock": "## /etc/security/faillock.conf\ndeny = 5\nunlock_time = 600\neven_deny_root",
    "shadow": DEBIAN_DEFAULT["shadow"] + f"\nalice:P:{DAY - 10}:1:90:7:30::",
    "passwd": PASSWD + "\nalice:x:1001:1001::/home/alice:/bin/bash",
    "sshd": "port 22\nmaxauthtries 4\nclientaliveinterval 300\nclientalivecountmax 0\npermitrootlogin no\n"
            "authenticationmethods publickey,keyboard-interactive",
    "profile": "/etc/profile.d/mlps.sh:4:  *) TMOUT=600; readonly TMOUT; export TMOUT ;;\n/etc/profile.d/mlps.sh:6:umask 027",
    "sudoers": "## /etc/sudoers\nroot\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n## /etc/sudoers.d/ops\n"
               "backup ALL=(root) /usr/bin/rsync",
    "perms": "/etc/passwd 644 root root\n/etc/shadow 0 root shadow\n/etc/group 644 root root\n/etc/gshadow 400 root shadow",
    "selinux": "getenforce=/usr/sbin/getenforce\nmode=Enforcing",
    "audit": "auditd=/sbin/auditd\nauditctl=/sbin/auditctl\n## auditctl -s\nenabled 2\n## auditctl -l\n"
             "-w /etc/passwd -p wa -k identity\n-w /etc/shadow -p wa -k identity\n-w /etc/group -p wa -k identity\n"
             "-w /etc/sudoers -p wa -k scope\n-w /var/log/lastlog -p wa -k logins\n"
             "-a always,exit -F arch=b64 -S execve -F euid=0 -k privileged",
    "processes": "auditd\nchronyd\nrsyslogd\nsshd\nwazuh-agentd",
    "syslog": "rsyslogd=/usr/sbin/rsyslogd\nlogrotate=/usr/sbin/logrotate\n## /etc/rsyslog.d/60-remote.conf\n*.* @@198.18.0.10:514",
    "logrotate": "## /etc/logrotate.conf\nweekly\nrotate 4\n## /etc/logrotate.d/rsyslog\n/var/log/syslog\n/var/log/auth.log\n{\n\tweekly\n\trotate 26\n}",
    "listening": DEBIAN_DEFAULT["listening"] + '\ntcp LISTEN 0 5 127.0.0.1:6010 0.0.0.0:* users:(("sshd",pid=9,fd=9))',
    "firewall": "nft=/usr/sbin/nft\n## nft\ntable inet filter {\n\tchain input {\n\t\ttype filter hook input priority 0; policy drop;\n"
                "\t\ttcp dport 22 ip saddr 198.18.0.0/24 accept\n\t}\n}",
    "updates": "apt_lists=4\n## apt-get -s upgrade\nInst tzdata [2024a-0] (2024b-0 Debian:12.8/stable [all])",
    "security_tools": f"aide=/usr/bin/aide\nwazuh-control=/var/ossec/bin/wazuh-control\nclamscan=/usr/bin/clamscan\n"
                      f"-rw-r--r-- 1 clamav clamav 1 {DAY * 86400 - 3600} /var/lib/clamav/daily.cvd",
}

# checks that can only ever be "manual" on a host
ALWAYS_MANUAL = {"account.interactive", "backup.config"}

# how to break each check, starting from COMPLIANT
BREAK = {
    "pwd.complexity": {"pwquality": "## /etc/security/pwquality.conf\nminlen = 6"},
    "pwd.expiry": {"login_defs": "UMASK 027\nPASS_MAX_DAYS 99999\nPASS_WARN_AGE 7"},
    "pwd.history": {"pam": COMPLIANT["pam"].replace("remember=5", "remember=2")},
    "account.uid_unique": {"passwd": PASSWD + "\ntoor:x:0:0::/root:/bin/bash"},
    "account.empty_password": {"shadow": COMPLIANT["shadow"] + "\nguest:NP:19000:0:99999:7:::"},
    "auth.lockout": {"faillock": "## /etc/security/faillock.conf\ndeny = 10"},
    "session.tmout": {"profile": "/etc/profile:3:TMOUT=1800"},
    "ssh.client_alive": {"sshd": COMPLIANT["sshd"].replace("clientaliveinterval 300", "clientaliveinterval 0")},
    "ssh.max_auth_tries": {"sshd": COMPLIANT["sshd"].replace("maxauthtries 4", "maxauthtries 6")},
    "remote.encrypted_only": {"listening": COMPLIANT["listening"] + '\ntcp LISTEN 0 5 0.0.0.0:23 0.0.0.0:* users:(("inetd",pid=3,fd=4))'},
    "auth.mfa": {"sshd": COMPLIANT["sshd"].replace("publickey,keyboard-interactive", "any")},   # → manual
    "ssh.permit_root_login": {"sshd": COMPLIANT["sshd"].replace("permitrootlogin no", "permitrootlogin yes")},
    "account.system_locked": {"shadow": COMPLIANT["shadow"].replace("lp:L:", "lp:P:"),
                              "passwd": COMPLIANT["passwd"].replace("/var/spool/lpd:/usr/sbin/nologin", "/var/spool/lpd:/bin/sh")},
    "account.expired": {"shadow": COMPLIANT["shadow"].replace(f"alice:P:{DAY - 10}:", f"alice:P:{DAY - 200}:")},
    "sudo.least_privilege": {"sudoers": COMPLIANT["sudoers"] + "\nalice ALL=(ALL) ALL"},
    "file.permissions": {"perms": COMPLIANT["perms"].replace("/etc/shadow 0 ", "/etc/shadow 644 ")},
    "umask": {"profile": COMPLIANT["profile"].replace("umask 027", "umask 022")},
    "mac.enforcing": {"selinux": "getenforce=/usr/sbin/getenforce\nmode=Permissive"},
    "audit.enabled": {"processes": "chronyd\nrsyslogd\nsshd\nwazuh-agentd"},
    "audit.rules": {"audit": "auditd=/sbin/auditd\nauditctl=/sbin/auditctl\n## auditctl -l\nNo rules\n-e 2"},
    "audit.immutable": {"audit": COMPLIANT["audit"].replace("enabled 2", "enabled 1")},
    "log.syslog": {"processes": "auditd\nchronyd\nsshd\nwazuh-agentd"},
    "time.sync": {"processes": "auditd\nrsyslogd\nsshd\nwazuh-agentd"},
    "log.remote": {"syslog": "rsyslogd=/usr/sbin/rsyslogd\nlogrotate=/usr/sbin/logrotate\n## /etc/rsyslog.conf\n*.* /var/log/syslog"},
    "log.retention": {"logrotate": COMPLIANT["logrotate"].replace("rotate 26", "rotate 4")},
    "service.minimal": {"packages": "bash\ncups\nopenssh-server"},
    "service.high_risk_ports": {"listening": COMPLIANT["listening"] + '\ntcp LISTEN 0 50 0.0.0.0:445 0.0.0.0:* users:(("smbd",pid=7,fd=3))'},
    "firewall.host": {"firewall": "nft=/usr/sbin/nft\n## nft"},
    "vuln.os_eol": {"os_release": 'PRETTY_NAME="CentOS Linux 7 (Core)"\nID="centos"\nVERSION_ID="7"'},
    "vuln.security_updates": {"updates": "apt_lists=4\n## apt-get -s upgrade\nInst openssl [3.0.11-1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])"},
    "ids.presence": {"security_tools": "clamscan=/usr/bin/clamscan", "processes": "auditd\nchronyd\nrsyslogd\nsshd"},
    "malware.protection": {"security_tools": ""},
}


def facts(sections: dict[str, str], host: str = "h") -> HostFacts:
    return HostFacts(host=host, sections={k: Section(out=v, rc=0) for k, v in sections.items()})


def by_id(fs, level=3, th=None):
    return {f.check_id: f for f in evaluate(fs, level, th, TODAY)}


def test_every_check_has_a_failing_example():
    assert set(BREAK) | ALWAYS_MANUAL == set(check_ids())


@pytest.mark.parametrize("level", [2, 3])
def test_compliant_host_passes_everything_applicable(level):
    got = by_id(facts(COMPLIANT), level)
    expected_manual = ALWAYS_MANUAL | ({"malware.protection"} if level == 3 else set())
    for cid, f in got.items():
        if level not in next(c for c in CHECKS if c.id == cid).clauses:
            assert f.status is Status.not_applicable, cid
        elif cid in expected_manual:
            assert f.status is Status.manual, (cid, f.actual)
        else:
            assert f.status is Status.passed, (cid, f.actual, f.evidence)


@pytest.mark.parametrize("cid", sorted(BREAK))
def test_each_check_fails_on_its_broken_example(cid):
    f = by_id(facts(COMPLIANT | BREAK[cid]))[cid]
    want = Status.manual if cid == "auth.mfa" else Status.fail
    assert f.status is want, (cid, f.actual)
    assert f.clause.startswith("GB/T 22239-2019 8.1.4.")


def test_debian_default_findings():
    got = by_id(facts(DEBIAN_DEFAULT))
    fail = {k for k, v in got.items() if v.status is Status.fail}
    assert fail == {"pwd.complexity", "pwd.expiry", "pwd.history", "auth.lockout", "session.tmout", "ssh.client_alive",
                    "ssh.max_auth_tries", "ssh.permit_root_login", "sudo.least_privilege", "file.permissions", "umask",
                    "mac.enforcing", "audit.enabled", "audit.rules", "audit.immutable", "log.syslog", "time.sync",
                    "log.remote", "log.retention", "firewall.host", "ids.presence", "malware.protection"}
    assert got["vuln.security_updates"].status is Status.manual      # no package lists: not measurable
    assert got["ssh.permit_root_login"].actual == "PermitRootLogin without-password"
    assert got["ssh.permit_root_login"].evidence == "sshd -T: permitrootlogin without-password"
    assert got["ssh.permit_root_login"].status.zh == "不符合"
    assert got["pwd.expiry"].clause == "GB/T 22239-2019 8.1.4.1 a"


def test_level_2_uses_7_1_4_clauses_and_skips_level_3_only_checks():
    got = by_id(facts(DEBIAN_DEFAULT), level=2)
    assert got["auth.lockout"].clause == "GB/T 22239-2019 7.1.4.1 b"
    assert got["backup.config"].clause == "GB/T 22239-2019 7.1.4.8"
    for cid in ("mac.enforcing", "audit.immutable", "ids.presence", "auth.mfa"):
        assert got[cid].status is Status.not_applicable and got[cid].status.zh == "不适用"


def test_apparmor_counts_as_equivalent_mac_only_when_enforcing():
    base = COMPLIANT | {"selinux": ""}
    assert by_id(facts(base | {"apparmor": "module_enabled=Y\napparmor_parser=/sbin/apparmor_parser\nenforce_profiles=12"}))[
        "mac.enforcing"].status is Status.passed
    assert by_id(facts(base | {"apparmor": "module_enabled=Y\nenforce_profiles=12"}))["mac.enforcing"].status is Status.fail
    assert by_id(facts(base | {"apparmor": "module_enabled=Y\napparmor_parser=/sbin/apparmor_parser\nenforce_profiles=0"}))[
        "mac.enforcing"].status is Status.fail


def test_thresholds_come_from_policy_and_overrides():
    class PT:  # the inventory's Thresholds shape: only some fields exist
        log_retention_days, password_max_days, lockout_deny, tmout = 365, 60, 3, 300
    class Pol:
        thresholds = PT()
    th = ComplianceThresholds.from_policy(Pol(), {"ssh_max_auth_tries": "3", "sudo_nopasswd_allowed": "govcloud"})
    assert (th.log_retention_days, th.password_max_days, th.lockout_deny, th.tmout) == (365, 60, 3, 300)
    assert th.ssh_max_auth_tries == 3 and th.sudo_nopasswd_allowed == ("govcloud",)
    got = by_id(facts(COMPLIANT), th=th)
    assert got["log.retention"].status is Status.fail            # 26 weeks < 365 days
    assert got["pwd.expiry"].status is Status.fail               # 90 > 60
    assert got["auth.lockout"].status is Status.fail             # deny 5 > 3
    assert got["ssh.max_auth_tries"].status is Status.fail       # 4 > 3
    # an automation account allowed by policy: the stock sudoers then only fails on ALL
    d = by_id(facts(DEBIAN_DEFAULT), th=th)["sudo.least_privilege"]
    assert "NOPASSWD" not in d.actual and "ALL 命令" in d.actual
    with pytest.raises(KeyError):
        ComplianceThresholds().set("no_such", "1")


def test_collection_errors_are_error_not_fail():
    bad = facts(COMPLIANT)
    bad.sections["shadow"] = Section(out="cat: /etc/shadow: Permission denied", rc=1)
    got = by_id(bad)
    assert got["account.empty_password"].status is Status.error
    assert got["account.expired"].status is Status.error
    assert got["ssh.permit_root_login"].status is Status.passed
    down = HostFacts(host="h9", error="timed out")
    assert {f.status for f in evaluate(down, 3, today=TODAY) if f.check_id != "auth.mfa"} == {Status.error}


def test_logrotate_retention_rotate_times_period():
    text = "## /etc/logrotate.conf\nweekly\nrotate 4\n## /etc/logrotate.d/rsyslog\n/var/log/syslog\n{\n\trotate 7\n\tdaily\n}\n" \
           "/var/log/messages {\n\tmonthly\n}"
    r = logrotate_retention(text)
    assert r["/var/log/syslog"][0] == 7 and r["/var/log/messages"][0] == 120


def test_parse_output_sections_and_redacted_shadow():
    out = ("noise\n@@GOVCLOUD-BEGIN meta\nuid=0\n\n@@GOVCLOUD-END meta rc=0\n"
           "@@GOVCLOUD-BEGIN shadow\nroot:L:1:0:99999:7::\n\n@@GOVCLOUD-END shadow rc=0\n@@GOVCLOUD-BEGIN cut\npartial")
    f = parse_output("h", out)
    assert f.kv("meta") == {"uid": "0"} and f.rc("shadow") == 0 and "cut" not in f.sections
    assert HostFacts.from_plain(json.loads(json.dumps(f.to_plain()))).out("shadow") == "root:L:1:0:99999:7::"


def test_collector_never_ships_password_hashes():
    from govcloud.compliance.facts import COLLECT_SCRIPT
    assert "cat /etc/shadow" not in COLLECT_SCRIPT and "awk -F:" in COLLECT_SCRIPT


def test_cli_evaluates_recorded_facts(tmp_path):
    from typer.testing import CliRunner
    from govcloud.cli.compliance import app
    p = tmp_path / "facts.json"
    p.write_text(json.dumps({"hosts": [facts(DEBIAN_DEFAULT, "h49").to_plain(), facts(COMPLIANT, "ok").to_plain()]}))
    csv_out = tmp_path / "r.csv"
    r = CliRunner().invoke(app, ["check", "--facts", str(p), "--level", "3", "-o", "json", "--out", str(csv_out)])
    assert r.exit_code == 1, r.output                 # findings with 不符合 → exit 1
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert [h["host"] for h in doc["hosts"]] == ["h49", "ok"]
    assert doc["thresholds"]["tmout"] == 600
    # auditors' exports carry Chinese headers by default, English with --lang en
    assert csv_out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("主机,检查项编号,标准条款")
    xlsx_out = tmp_path / "r.xlsx"
    r = CliRunner().invoke(app, ["check", "--facts", str(p), "--level", "3", "--lang", "en", "--out", str(xlsx_out)])
    assert r.exit_code == 1, r.output
    from openpyxl import load_workbook
    ws = load_workbook(xlsx_out).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("host", "check_id", "clause")
    by_check = {(row[0], row[1]): row for row in rows[1:]}
    assert by_check[("h49", "ssh.permit_root_login")][5] == "fail"
    assert by_check[("ok", "ssh.permit_root_login")][5] == "pass"
    assert len(rows) - 1 == sum(len(h["findings"]) for h in doc["hosts"])
    r = CliRunner().invoke(app, ["check", "--facts", str(p), "--level", "3", "-t", "bogus=1"])
    from govcloud.errors import UsageError       # exit code 2 is set by cli.app's error boundary
    assert isinstance(r.exception, UsageError) and "bogus" in str(r.exception)


def test_an_empty_list_that_overrides_a_non_empty_default_is_written():
    """A policy saying "no sudo admins at all" must survive a save; only empty lists whose default
    is empty are left out."""
    from govcloud.inventory.writer import to_plain
    from govcloud.model.entities import Thresholds
    assert "sudo_admins" not in to_plain(Thresholds())
    t = Thresholds()
    t.sudo_admins = ()
    assert to_plain(t)["sudo_admins"] == []


@pytest.mark.parametrize("os_release, dist, version, status", [
    # the MLPS check's own table used to miss these (ID aliases, single quotes): "manual", while
    # discovery classified the same host; one table now, one answer
    ("NAME='Red Hat Enterprise Linux Server'\nID=redhat\nVERSION_ID='6.10'\n", "rhel", "6.10", Status.fail),
    ("NAME='CentOS Linux'\nID='centos'\nVERSION_ID='6'\n", "centos", "6", Status.fail),
    ('NAME="UnionTech OS Server 20"\nID=uniontech\nVERSION_ID="20"\n', "uos", "20", Status.passed),
    ('NAME="Kylin Linux Advanced Server"\nID=kylinsec\nVERSION_ID="10"\n', "kylin", "V10", Status.passed),
    ('NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n', "other", "9.3", Status.manual),
])
def test_discovery_and_the_eol_check_classify_a_host_alike(os_release, dist, version, status):
    from govcloud.compliance.checks import os_identity
    from govcloud.inventory.discover import parse_os_release

    found = parse_os_release(os_release)
    assert (found["os_distribution"], found["os_version"]) == (dist, version)
    check_dist, check_version = os_identity(os_release)
    assert (check_dist.value if check_dist else "other", check_version) == (dist, version)
    assert by_id(facts({"os_release": os_release}))["vuln.os_eol"].status is status


# ---------------------------------------------------------------- both languages (--lang en)

import ast                                       # noqa: E402
import re                                        # noqa: E402
from pathlib import Path                         # noqa: E402

from govcloud.compliance.facts import HostFacts as _HostFacts   # noqa: E402

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _all_findings():
    """Every check at both levels over the compliant host, the stock Debian host, each check's
    broken example, an unreachable host, a failed collection and a check that raises."""
    sets = [COMPLIANT, DEBIAN_DEFAULT] + [COMPLIANT | b for _k, b in sorted(BREAK.items())]
    out = [f for s in sets for level in (2, 3) for f in evaluate(facts(s), level, None, TODAY)]
    out += evaluate(_HostFacts(host="x", error="ssh: connection refused"), 3, None, TODAY)
    broken = facts(COMPLIANT)
    broken.sections["sshd"] = Section(out="sudo: a password is required", rc=1)
    out += evaluate(broken, 3, None, TODAY)
    return out


def test_every_check_words_expected_and_actual_in_english_without_chinese():
    found = _all_findings()
    assert {f.check_id for f in found} == set(check_ids())
    assert {f.status for f in found} == set(Status)
    for f in found:
        for zh, en in ((f.expected, f.expected_en), (f.actual, f.actual_en)):
            assert not CJK.search(en), (f.check_id, f.status, en)
            if not CJK.search(zh):
                assert en == zh, (f.check_id, zh, en)        # data (config lines, paths, names) is not translated
            else:
                assert en, (f.check_id, zh)                  # words have an English wording


def test_a_check_that_raises_is_an_error_in_both_languages(monkeypatch):
    import govcloud.compliance.checks as C
    chk = next(c for c in C.CHECKS if c.id == "umask")
    checks = list(C.CHECKS)
    checks[checks.index(chk)] = C.Check(chk.id, chk.title, chk.title_en, chk.clauses, chk.sections, lambda c: 1 / 0)
    monkeypatch.setattr(C, "CHECKS", checks)
    f = by_id(facts(COMPLIANT))["umask"]
    assert f.status is Status.error
    assert (f.actual, f.actual_en) == ("规则执行出错: ZeroDivisionError", "the check failed to run: ZeroDivisionError")


def test_chinese_wording_is_unchanged_and_english_says_the_same():
    """Recorded from the Chinese-only wording before the checks became bilingual."""
    got = by_id(facts(DEBIAN_DEFAULT))
    want = {
        "pwd.complexity": (("pam_pwquality/pam_cracklib: minlen≥8, ≥3 类字符 (minclass or *credit=-1)",
                            "密码栈中无 pam_pwquality/pam_cracklib (no complexity module in the password stack)"),
                           ("pam_pwquality/pam_cracklib: minlen≥8, ≥3 character classes (minclass or *credit=-1)",
                            "no pam_pwquality/pam_cracklib in the password stack")),
        "auth.lockout": (("pam_faillock/pam_tally2: deny≤5, unlock_time≥300s (或0=需管理员解锁)",
                          "common-auth: 无 pam_faillock/pam_tally2"),
                         ("pam_faillock/pam_tally2: deny≤5, unlock_time≥300s (or 0 = an administrator unlocks)",
                          "common-auth: no pam_faillock/pam_tally2")),
        "account.interactive": (("每个可登录账户对应具体责任人，无共享/多余账户", "2 个可登录账户，需与人员名单核对"),
                                ("each login account belongs to a named person; no shared or redundant accounts",
                                 "2 login accounts, to be checked against the staff list")),
        "log.retention": (("≥180 天 (网络安全法第21条；logrotate rotate×周期)", "logrotate 未安装 (not installed)；无法保证留存期"),
                          ("≥180 days (Cybersecurity Law art. 21; logrotate rotate × period)",
                           "logrotate not installed; retention cannot be ensured")),
        "firewall.host": (("nftables/iptables/firewalld 有规则", "无防火墙规则 (未安装防火墙工具)"),
                          ("nftables/iptables/firewalld have rules", "no firewall rules (no firewall tool installed)")),
        "vuln.os_eol": (("操作系统未停止维护 (EOL)", "Debian GNU/Linux 12 (bookworm)，无已知 EOL 日期"),
                        ("operating system not end-of-life (EOL)", "Debian GNU/Linux 12 (bookworm), no known EOL date")),
        "ssh.permit_root_login": (("PermitRootLogin no", "PermitRootLogin without-password"),) * 2,
    }
    for cid, (zh, en) in want.items():
        f = got[cid]
        assert (f.expected, f.actual) == zh, cid
        assert (f.expected_in("zh"), f.actual_in("zh")) == zh, cid
        assert (f.expected_in("en"), f.actual_in("en")) == en, cid
    assert by_id(facts(COMPLIANT))["account.uid_unique"].actual == "7 个账户 UID 唯一"


def test_expired_password_says_how_many_days_ago():
    f = by_id(facts(COMPLIANT | BREAK["account.expired"]))["account.expired"]
    days = re.search(r"(-?\d+) 天前过期", f.actual)
    assert days and int(days.group(1)) > 0, f.actual                   # was "-110 天前"
    assert f"password expired {days.group(1)} days ago" in f.actual_en


def test_no_chinese_literal_escapes_the_bilingual_wording():
    """In checks.py a Chinese string is a check's title (@check), the zh side of M(zh, en),
    evidence (ev(...): recorded, not translated) or a docstring — so a new or edited Result
    cannot word its expected/actual in Chinese only."""
    import govcloud.compliance.checks as C
    tree = ast.parse(Path(C.__file__).read_text(encoding="utf-8"))
    parent = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}

    def allowed(node: ast.AST) -> bool:
        if id(node) in docstrings:
            return True
        child, up = node, parent.get(node)
        while up is not None:
            if isinstance(up, ast.Call) and isinstance(up.func, ast.Name):
                if up.func.id == "M" and up.args and up.args[0] is child:
                    return True
                if up.func.id in ("check", "ev"):
                    return True
            child, up = up, parent.get(up)
        return False

    bad = [(n.lineno, n.value) for n in ast.walk(tree)
           if isinstance(n, ast.Constant) and isinstance(n.value, str) and CJK.search(n.value) and not allowed(n)]
    assert not bad, bad
    # and the English side of every M(...) is free of Chinese
    en = [(n.lineno, ast.unparse(n.args[1])) for n in ast.walk(tree) if isinstance(n, ast.Call)
          and isinstance(n.func, ast.Name) and n.func.id == "M" and len(n.args) == 2 and CJK.search(ast.unparse(n.args[1]))]
    assert not en, en


def test_exports_follow_the_language(tmp_path):
    from rich.console import Console

    from govcloud.compliance.render import render_table, rows, to_document, write_file
    from govcloud.compliance.model import ComplianceThresholds, HostReport
    rep = [HostReport(host="h49", level=3, findings=evaluate(facts(DEBIAN_DEFAULT, "h49"), 3, None, TODAY))]
    th = ComplianceThresholds()
    zh, en = to_document(rep, 3, th), to_document(rep, 3, th, "en")
    fz = {f["check_id"]: f for f in zh["hosts"][0]["findings"]}
    fe = {f["check_id"]: f for f in en["hosts"][0]["findings"]}
    old_keys = {"host", "check_id", "title", "title_en", "clause", "levels", "level", "expected", "actual", "status",
                "evidence", "status_label"}
    assert old_keys <= set(fz["firewall.host"]) and set(fz["firewall.host"]) == set(fe["firewall.host"])
    assert fz["firewall.host"]["actual"] == "无防火墙规则 (未安装防火墙工具)" and fz["firewall.host"]["status_label"] == "不符合"
    assert fe["firewall.host"]["actual"] == "no firewall rules (no firewall tool installed)"
    assert fe["firewall.host"]["status_label"] == "fail"
    assert fe["firewall.host"]["actual_zh"] == fz["firewall.host"]["actual"]
    assert fz["firewall.host"]["actual_en"] == fe["firewall.host"]["actual"]
    assert not CJK.search(json.dumps([{k: f[k] for k in ("expected", "actual", "status_label")} for f in fe.values()],
                                     ensure_ascii=False))
    assert not any(CJK.search(str(r[c])) for r in rows(rep, "en")
                   for c in ("title", "status_label", "expected", "actual"))
    write_file(tmp_path / "en.csv", rep, 3, th, "en")
    text = (tmp_path / "en.csv").read_text(encoding="utf-8-sig")
    assert "no firewall rules (no firewall tool installed)" in text and "无防火墙规则" not in text
    con = Console(record=True, width=200)
    render_table(rep, con, "en")
    assert not CJK.search(con.export_text())
    con = Console(record=True, width=200)
    render_table(rep, con)
    assert "无防火墙规则 (未安装防火墙工具)" in con.export_text()
