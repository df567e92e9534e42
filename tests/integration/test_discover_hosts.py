"""``govcloud inventory discover`` against real SSH test hosts (harness/README.md).

Read-only on every host, except one short-lived process this module starts on h30 (an open
TCP connection to h2's nginx, for the dependency proposal) and kills again.  Hosts used:
h1..h24 reached, h25 (changed host key in our known_hosts copy), h26 (wrong client key),
h27 (missing from known_hosts: --accept-new), a local listener that never speaks SSH (hang).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from govcloud.cli.audit import app as _audit_app
from govcloud.cli.discover import discover
from govcloud.inventory.validate import validate_path
from govcloud.store import auditlog

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

REACHED = [f"h{i}" for i in range(1, 25)]
CHANGED, AUTHFAIL, NEWKEY, DEPCLIENT = "h25", "h26", "h27", "h30"

_app = typer.Typer()
_app.command("discover")(discover)
_app.command("noop")(lambda: None)     # two commands → typer keeps the sub-command name


def run_cli(*args: str):
    r = CliRunner().invoke(_app, ["discover", *args])
    doc = json.loads(r.stdout) if r.stdout.strip().startswith("{") else None
    return r.exit_code, doc, r.output


class Hang:
    """Accepts TCP connections and never says a word (a wedged sshd or a tarpit)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def _inventory(root: Path, hosts: dict[str, dict]) -> Path:
    names = REACHED + [CHANGED, AUTHFAIL, NEWKEY, DEPCLIENT]
    servers = "\n".join(
        f'  - {{id: {n}, hostname: {n}, mgmt_ip: {hosts[n]["addr"]}, cores: 2, ram_gb: 4, os_distribution: debian}}'
        for n in names)
    servers += "\n  - {id: hang-01, hostname: hang-01, mgmt_ip: 127.0.0.2, cores: 2, ram_gb: 4, os_distribution: centos}"
    systems = "\n".join(
        f"  - {{id: sys-{n}, name: 系统{n}, owner_org: org-a, network_zone: gov_extranet, servers: [{n}]}}"
        for n in names)
    (root / "inventory.yaml").write_text(
        'format_version: 1\ninventory: {name: 发现测试, region: "441600", as_of: 2026-11-01}\n'
        'regions:\n  - {code: "441600", name: 河源市, level: prefecture}\n'
        'organizations:\n  - {id: org-a, name: 甲局, org_type: gov_component, region: "441600"}\n', encoding="utf-8")
    (root / "servers.yaml").write_text(f"format_version: 1\nservers:\n{servers}\nsystems:\n{systems}\n",
                                       encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def env(test_hosts, tmp_path_factory):
    hosts = {h["name"]: h for h in test_hosts.hosts}
    tmp = tmp_path_factory.mktemp("discover")
    (tmp / "inv").mkdir()
    inv = _inventory(tmp / "inv", hosts)
    before = {p: p.read_bytes() for p in inv.rglob("*.yaml")}
    # known_hosts copy: h25's key replaced by h24's (a "changed" key), h27 left out
    lines = []
    for line in test_hosts.known_hosts.read_text().splitlines():
        names = line.split()[0].split(",")
        if NEWKEY in names:
            continue
        if CHANGED in names:
            line = f"{line.split()[0]} {hosts['h24']['host_key']}"
        lines.append(line)
    kh = tmp / "known_hosts"
    kh.write_text("\n".join(lines) + "\n")
    wrong = tmp / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    hang = Hang()
    cfg = tmp / "ssh_config"
    cfg.write_text(f"Host {AUTHFAIL}\n  IdentityFile {wrong}\nHost hang-01\n  Port {hang.port}\n"
                   f"Host *\n  User govcloud\n  IdentityFile {test_hosts.key}\n")
    # an established connection h30 → h2:80 (nginx) for the whole run
    c = test_hosts.client(hosts[DEPCLIENT])
    chan = c.get_transport().open_session()
    chan.exec_command("python3 -c \"import os,socket,time; s=socket.create_connection(('198.18.1.2', 80)); "
                      "print(os.getpid(), flush=True); time.sleep(120)\"")
    pid = int(chan.makefile().readline().strip())
    try:
        yield {"inv": inv, "kh": kh, "cfg": cfg, "hang": hang, "before": before}
    finally:
        hang.close()
        _, out, _ = c.exec_command(f"kill {pid}")
        out.channel.recv_exit_status()
        c.close()


@pytest.fixture(scope="module")
def first_run(env):
    return run_cli(str(env["inv"]), "--ssh-config", str(env["cfg"]), "--known-hosts", str(env["kh"]),
                   "--sample-seconds", "1", "--connect-timeout", "3", "--retries", "1",
                   "--concurrency", "32", "-o", "json")


def test_partial_run_reports_every_failure_and_continues(env, first_run):
    code, doc, out = first_run
    assert code == 3, out
    reached = {r["server"] for r in doc["reached"]}
    assert set(REACHED) | {DEPCLIENT} == reached
    failed = {f["server"]: f for f in doc["failed"]}
    assert failed[CHANGED]["reason"] == "hostkey-changed" and failed[CHANGED]["attempts"] == 1
    assert failed[AUTHFAIL]["reason"] == "auth" and failed[AUTHFAIL]["attempts"] == 1
    assert failed[NEWKEY]["reason"] == "hostkey-unknown"
    assert failed["hang-01"]["reason"] == "timeout" and failed["hang-01"]["attempts"] == 2, failed["hang-01"]
    assert doc["summary"]["failed_by_reason"] == {"hostkey-changed": 1, "auth": 1, "hostkey-unknown": 1,
                                                  "timeout": 1}
    assert "PRIVATE" not in out and "BEGIN OPENSSH" not in out


def test_database_service_and_proposed_dependency(env, first_run):
    _, doc, _ = first_run
    obs = _observations(env["inv"])
    web = obs["h1"]["facts"]
    assert web["databases"][0]["engine"] == "postgresql" and 5432 in web["databases"][0]["ports"]
    assert any(l["port"] == 80 and "nginx" in l["processes"] for l in web["listening"])
    assert web["services"]["init"] == "sysv" and "nginx" in web["services"]["installed"]
    plain = obs["h5"]["facts"]
    assert plain["databases"] == [] and plain["os_distribution"] == "debian" and plain["os_version"] == "12"
    props = {(p["from"], p["to"]): p for p in doc["proposed_dependencies"]}
    assert ("sys-h30", "sys-h2") in props, doc["proposed_dependencies"]
    p = props[("sys-h30", "sys-h2")]
    assert p["type"] == "sync_api" and any("h2:80" in e for e in p["evidence"])
    # proposals are never written as dependencies
    assert "dependencies" not in (env["inv"] / "observed" / "discovery.yaml").read_text()


def _observations(inv: Path) -> dict[str, dict]:
    doc = json.loads((inv / "observed" / "discovery.yaml").read_text().split("\n", 1)[1])
    return {o["server"]: o for o in doc["observations"]}


def test_observations_written_only_there_and_merge(env, first_run):
    inv = env["inv"]
    assert {p: p.read_bytes() for p in inv.rglob("*.yaml") if "observed" not in p.parts} == env["before"]
    obs = _observations(inv)
    assert set(obs) == set(REACHED) | {DEPCLIENT}
    assert all(o["source"] == "discovery:ssh" and o["collected_at"].endswith("Z") for o in obs.values())
    result = validate_path(inv)
    assert not result.errors, [p.message for p in result.errors]
    srv = result.inventory.servers["h3"]
    assert srv.observed["os_distribution"] == "debian" and srv.observed["cores"] >= 1
    assert srv.observed["cpu_arch"] == "x86_64" and srv.observed["ram_gb"] > 0
    u = srv.observed["utilization"]
    assert 0 <= u["cpu_p95_pct"] <= 100 and 0 < u["mem_p95_pct"] <= 100 and u["samples"] >= 2
    # --sample-seconds 1: up to 10 intervals of 0.1 s in a window bounded by time (fewer samples on a
    # loaded host, never a longer window), timed by the samples themselves; longer horizons too
    assert 5 <= u["samples"] <= 11 and 0.9 <= u["window_s"] <= 1.6 and len(u["load_avg"]) == 3


def test_the_write_is_audited(env, first_run):
    _, doc, _ = first_run
    entries = [e for e in auditlog.read(env["inv"]) if e["action"] == "discover"]
    e = entries[0]
    assert e["entity"] == {"kind": "observations", "id": "observed/discovery.yaml"}
    assert e["who"]["os_user"] and doc["summary"]["audit_seq"] == e["seq"]
    after = e["after"]
    assert set(after["servers"]) == set(REACHED) | {DEPCLIENT}          # first run: every server is new
    assert after["servers"]["h1"]["databases"] == ["postgresql"] and "tcp/80" in after["servers"]["h1"]["listening"]
    assert e["before"]["file_sha256"] is None and e["before"]["servers"]["h1"] is None
    assert after["failed"] == {CHANGED: "hostkey-changed", AUTHFAIL: "auth", NEWKEY: "hostkey-unknown",
                               "hang-01": "timeout"}
    assert "utilization" not in json.dumps(after)           # a summary, not a dump of every fact
    assert auditlog.verify(env["inv"]) == []


def test_accept_new_adds_unknown_key_and_never_a_changed_one(env, first_run):
    kh_before = env["kh"].read_text()
    code, doc, out = run_cli(str(env["inv"]), "--hosts", f"{NEWKEY},{CHANGED}", "--ssh-config", str(env["cfg"]),
                             "--known-hosts", str(env["kh"]), "--accept-new", "--sample-seconds", "0", "-o", "json")
    assert code == 3, out
    assert [r["server"] for r in doc["reached"]] == [NEWKEY] and doc["reached"][0]["host_key_added"]
    assert [(f["server"], f["reason"]) for f in doc["failed"]] == [(CHANGED, "hostkey-changed")]
    added = env["kh"].read_text()[len(kh_before):]
    assert added.startswith("198.18.1.27 ssh-ed25519 ") and added.count("\n") == 1
    # without --accept-new now: strict checking passes for h27
    code, doc, out = run_cli(str(env["inv"]), "--hosts", NEWKEY, "--ssh-config", str(env["cfg"]),
                             "--known-hosts", str(env["kh"]), "--sample-seconds", "0", "-o", "json")
    assert code == 0, out
    # the file keeps the latest observation of every server: h27 added, the others kept
    obs = _observations(env["inv"])
    assert NEWKEY in obs and set(REACHED) <= set(obs)


def test_none_reached_exits_1(env):
    code, doc, out = run_cli(str(env["inv"]), "--hosts", "hang-01", "--ssh-config", str(env["cfg"]),
                             "--known-hosts", str(env["kh"]), "--connect-timeout", "1", "--retries", "0",
                             "-o", "json")
    assert code == 1 and doc["summary"]["reached"] == 0, out


def test_via_ansible_same_script_same_facts_same_failures(env, first_run):
    """--via ansible: ansible-runner + OpenSSH (-m raw, become) on the same targets; the same
    parsers, observation file, summary, exit code and audit entry."""
    inv = env["inv"]
    ssh_obs = _observations(inv)
    n_audit = len(auditlog.read(inv))
    code, doc, out = run_cli(str(inv), "--via", "ansible", "--hosts", f"h1,h2,h3,h5,{CHANGED},{AUTHFAIL},hang-01",
                             "--ssh-config", str(env["cfg"]), "--known-hosts", str(env["kh"]), "--sample-seconds", "1",
                             "--connect-timeout", "3", "--retries", "0", "--actor", "审计员", "-o", "json")
    assert code == 3, out
    assert {r["server"] for r in doc["reached"]} == {"h1", "h2", "h3", "h5"}
    assert {f["server"]: f["reason"] for f in doc["failed"]} == {CHANGED: "hostkey-changed", AUTHFAIL: "auth",
                                                                 "hang-01": "timeout"}, doc["failed"]
    obs = _observations(inv)
    for h in ("h1", "h5"):
        a, b = obs[h], ssh_obs[h]
        assert a["source"] == "discovery:ansible" and b["source"] == "discovery:ssh"
        for k in ("os_distribution", "os_version", "kernel", "cpu_arch", "cores", "ram_gb", "databases", "services",
                  "cron"):
            assert a["facts"][k] == b["facts"][k], (h, k)
        assert {(x["port"], tuple(x["processes"])) for x in a["facts"]["listening"]} == \
            {(x["port"], tuple(x["processes"])) for x in b["facts"]["listening"]}
        assert a["facts"]["utilization"]["samples"] >= 5 and "incomplete" not in a["facts"]
    assert obs["h10"]["source"] == "discovery:ssh"           # servers not visited keep their observation
    entries = auditlog.read(inv)
    assert len(entries) == n_audit + 1 and entries[-1]["action"] == "discover"
    assert entries[-1]["after"]["via"] == "ansible" and entries[-1]["who"]["actor"] == "审计员"
    assert auditlog.verify(inv) == []
    res = CliRunner().invoke(_audit_app, ["verify", str(inv)])
    assert res.exit_code == 0, res.output


def test_via_ansible_accept_new_adds_an_unknown_key_never_a_changed_one(env, first_run, tmp_path):
    kh = tmp_path / "known_hosts"
    kh.write_text("".join(line + "\n" for line in env["kh"].read_text().splitlines()
                          if "h24" not in line.split()[0].split(",")))
    before = kh.read_text()
    code, doc, out = run_cli(str(env["inv"]), "--via", "ansible", "--hosts", f"h24,{CHANGED}", "--accept-new",
                             "--ssh-config", str(env["cfg"]), "--known-hosts", str(kh), "--sample-seconds", "0",
                             "-o", "json")
    assert code == 3, out
    assert [r["server"] for r in doc["reached"]] == ["h24"] and doc["reached"][0]["host_key_added"]
    assert [(f["server"], f["reason"]) for f in doc["failed"]] == [(CHANGED, "hostkey-changed")]
    added = kh.read_text()[len(before):]
    assert added.startswith("198.18.1.24 ") and added.count("\n") == 1
