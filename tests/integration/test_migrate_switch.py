"""`govcloud migrate` switching real traffic (issue 16), end to end on the harness: two systems run
the sample workload on test hosts and move onto Nova servers (harness/bridge):

* ``swdns`` (source h63, client h64): its record is an A record in ``gov.test`` on the harness BIND,
  switched by a TSIG-signed RFC 2136 update; the TSIG key is referenced by NAME
  ($GOVCLOUD_TSIG_DIR/govcloud-tsig.key), never written in the inventory;
* ``swlb`` (source h64, client h63): its record is HAProxy's backend ``govapp`` slot ``s1`` (the
  harness frontend lb.gov.test), switched through the admin socket.

Checked: a wrong TSIG key is a clear error naming no secret; `migrate run` lowers the DNS TTL to
the policy's value and journals when the old one expires; cutover refuses before that (unless
--force --reason) and refuses, changing nothing, a record changed behind govcloud's back; the
cutover switches both records (compare-and-swap, old → new journaled) and verification sees the
target from the clients (resolved through BIND, requested through HAProxy); rollback switches both
back; the key's secret is in no journal line, runner artefact or output.

The HAProxy backend is shared with test_switching.py: both hold /tmp/govcloud-haproxy-govapp.lock
while they change it, and this module puts ``s1`` back (198.18.1.1:80, ready) when it ends.
Hosts h63 and h64 are reserved for this module.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from datetime import date
from pathlib import Path

import pytest
import yaml

from govcloud.drivers.switching import DnsSwitch, HaproxySwitch
from integration_helpers import wait_until
from migrate_env import ROOT, approve_args, approvers_yaml, server_yaml
from migrate_helpers import ssh

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SRC_DNS, SRC_LB = "h63", "h64"
HAPROXY_LOCK = "/tmp/govcloud-haproxy-govapp.lock"
LB_HOME = ("198.18.1.1:80",)          # the harness's own value of govapp/s1


def addr(host: str) -> str:
    return f"198.18.1.{host[1:]}"


@contextlib.contextmanager
def haproxy_lock():
    with open(HAPROXY_LOCK, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def system(sid: str, host: str, record: str) -> str:
    return textwrap.dedent(f"""\
      - id: {sid}
        name: 切换演练{sid}
        owner_org: org-drill
        network_zone: gov_extranet
        extranet_area: private_vpn
        mlps_level: 2
        mlps_status: filed
        importance: ordinary
        servers: [{host}]
        workload:
          data_paths: [/srv/govapp, /etc/nginx/sites-enabled]
          services:
            - {{name: nginx, port: 80, health_path: /api/stats.json}}
            - {{name: postgresql, port: 5432}}
          databases:
            - {{engine: postgresql, name: govapp}}
          cutover_record: {record}
    """)


class Env:
    def __init__(self, root: Path, plan_id: str, hosts, bridged, netsvc, dns_name: str) -> None:
        self.root, self.plan_id, self.hosts, self.netsvc = root, plan_id, hosts, netsvc
        self.cloud = bridged.cloud
        self.plan = root / "plans" / plan_id
        self.dns_name = dns_name
        self.tsig_dir = root / "tsig"
        self.secret = next(ln.split('"')[1] for ln in Path(netsvc["key"]).read_text().splitlines() if "secret" in ln)
        self.outputs: list[str] = []

    def gc(self, *args: str, tsig_dir: Path | None = None, timeout: float = 1500) -> subprocess.CompletedProcess:
        env = {**os.environ, "GOVCLOUD_TSIG_DIR": str(tsig_dir or self.tsig_dir)}
        p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                           timeout=timeout, cwd=REPO, env=env)
        self.outputs += [p.stdout, p.stderr]
        return p

    def conn(self) -> list[str]:
        return ["--key", str(self.hosts.key), "--source-user", "govcloud", "--target-user", "govcloud",
                "--known-hosts", str(self.hosts.known_hosts)]

    def status(self) -> dict[str, dict]:
        p = self.gc("migrate", "status", str(self.plan), "-o", "json")
        assert p.returncode == 0, p.stderr
        return {s["system"]: s for s in json.loads(p.stdout)["systems"]}

    def journal(self) -> list[dict]:
        return [json.loads(ln) for ln in (self.plan / "journal.jsonl").read_text().splitlines() if ln.strip()]

    def target_addr(self, system: str) -> str:
        for e in self.journal():
            if e.get("kind") == "resource" and e.get("system") == system and (e.get("resource") or {}).get("address"):
                a = e["resource"]["address"]
        return a

    def dns(self) -> DnsSwitch:
        return DnsSwitch(self.dns_name, "gov.test", self.netsvc["dns"], self.netsvc["key"])

    def lb(self) -> HaproxySwitch:
        return HaproxySwitch("govapp", "s1", self.netsvc["api"])

    def servers(self) -> list:
        return list(self.cloud.member.compute.servers(details=True, tags=f"gc-plan={self.plan_id}"))


def _on(host: str, cmd: str) -> str:
    return ssh(host, cmd, check=False).stdout.decode().strip()


@pytest.fixture(scope="module")
def env(test_hosts, bridged_cloud, netsvc, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("migrate-switch")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini,
                          limit=f"{SRC_DNS},{SRC_LB}", private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    dns_name = f"sw-{uuid.uuid4().hex[:6]}.gov.test"
    e = Env(root, "it-sw-" + uuid.uuid4().hex[:6], test_hosts, bridged_cloud, netsvc, dns_name)
    e.tsig_dir.mkdir(mode=0o700)
    shutil.copy(netsvc["key"], e.tsig_dir / "govcloud-tsig.key")
    os.chmod(e.tsig_dir / "govcloud-tsig.key", 0o600)
    # the record as a department runs it today: the source's address, the usual long TTL
    e.dns().switch((), (addr(SRC_DNS),), ttl=3600)
    inv = root / "inv"
    (inv / "departments").mkdir(parents=True)
    (inv / "inventory.yaml").write_text(ROOT.replace("{start}", date.today().isoformat())
                                        + "    thresholds: {cutover_dns_ttl_s: 5}\n" + approvers_yaml(), encoding="utf-8")
    dns_rec = (f"{{name: {dns_name}, kind: dns, zone: gov.test, server: '198.18.0.1:53', rdtype: A, "
               f"tsig_key: govcloud-tsig, clients: [{SRC_LB}]}}")
    lb_rec = (f"{{name: lb.gov.test, kind: haproxy, api: {netsvc['api']}, backend: govapp, server: s1, "
              f"mode: point, port: 80, clients: [{SRC_DNS}]}}")
    (inv / "departments" / "drill.yaml").write_text(
        "format_version: 1\nservers:\n" + server_yaml(SRC_DNS, addr(SRC_DNS)) + server_yaml(SRC_LB, addr(SRC_LB))
        + "systems:\n" + system("swdns", SRC_DNS, dns_rec) + system("swlb", SRC_LB, lb_rec), encoding="utf-8")
    assert e.secret not in "".join(p.read_text() for p in inv.rglob("*.yaml"))
    p = e.gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", e.plan_id)
    assert p.returncode == 0, p.stdout + p.stderr
    p = e.gc(*approve_args(e.plan))
    assert p.returncode == 0, p.stdout + p.stderr
    with haproxy_lock():
        # the load balancer sends lb.gov.test to this module's source (the harness's value is restored below)
        e.lb().switch(LB_HOME, (f"{addr(SRC_LB)}:80",))
        try:
            yield e
        finally:
            with contextlib.suppress(Exception):
                lb = e.lb()
                lb._cmd("set server govapp/s1 addr 198.18.1.1 port 80")
                lb._cmd("set server govapp/s1 state ready")
            c = bridged_cloud.cloud.member
            for s in e.servers():
                c.compute.delete_server(s, ignore_missing=True)
            with contextlib.suppress(Exception):
                wait_until(lambda: not e.servers(), 180, 1, "servers deleted")
            for sg in c.network.security_groups(tags=f"gc-plan={e.plan_id}"):
                with contextlib.suppress(Exception):
                    c.network.delete_security_group(sg, ignore_missing=True)
            with contextlib.suppress(Exception):
                c.compute.delete_keypair(f"govcloud-{e.plan_id}", ignore_missing=True)
            with contextlib.suppress(Exception):
                sw = e.dns()
                sw._update(sw.read().values, (addr(SRC_DNS),), 60)   # then delete it
                subprocess.run(["nsupdate", "-k", str(netsvc["key"])], text=True, timeout=30, capture_output=True,
                               input=f"server 198.18.0.1 53\nzone gov.test\nupdate delete {dns_name} A\nsend\n")
            run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini,
                         limit=f"{SRC_DNS},{SRC_LB}", private_data_dir=root / "redeploy")


def test_run_with_a_wrong_tsig_key_is_a_clear_error(env):
    wrong = env.root / "wrong-tsig"
    wrong.mkdir(mode=0o700)
    bad = wrong / "govcloud-tsig.key"
    bad.write_text('key "govcloud-tsig" { algorithm hmac-sha256; secret "'
                   + "QUJD" * 11 + '"; };\n')
    os.chmod(bad, 0o600)
    p = env.gc("migrate", "run", str(env.plan), "--batch", "0", "--system", "swdns", "--yes", "--lang", "en",
               "-o", "json", *env.conn(), tsig_dir=wrong)
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]          # exit 1: the system failed
    res = json.loads(p.stdout)["results"][0]
    assert res["state"] == "failed" and "refused the TSIG key govcloud-tsig" in res["error"], res
    # the key file, and the inventory's file, line and field that name the key
    assert str(bad) in res["error"], res["error"]
    assert "departments/drill.yaml:" in res["error"] and "systems[swdns].workload.cutover_record.tsig_key" \
        in res["error"], res["error"]
    assert env.status()["swdns"]["failed_step"] == "precheck"                 # before anything was provisioned
    assert env.servers() == []
    assert "QUJD" * 11 not in p.stdout + p.stderr
    assert env.dns().read().ttl == 3600                          # nothing was changed on the server


def test_dry_run_shows_the_ttl_change_with_the_live_value(env):
    p = env.gc("migrate", "run", str(env.plan), "--batch", "0", "--dry-run", "-o", "json")
    assert p.returncode == 0, p.stderr
    by = {s["system"]: s for s in json.loads(p.stdout)["systems"]}
    dns = [{k: c[k] for k in ("action", "kind", "name", "detail", "step")}
           for c in by["swdns"]["changes"] if c["kind"] == "dns"]
    assert dns == [{"action": "change", "kind": "dns", "name": f"dns:{env.dns_name}",
                    "detail": f"TTL 3600 → 5 s (live {addr(SRC_DNS)})", "step": "sync"}], by["swdns"]["changes"]


def test_run_lowers_the_ttl_and_journals_its_expiry(env):
    p = env.gc("migrate", "run", str(env.plan), "--batch", "0", "--parallel", "2", "--yes", "-o", "json", *env.conn())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    st = env.status()
    assert st["swdns"]["state"] == "synced" and st["swlb"]["state"] == "synced", st
    cur = env.dns().read()
    assert cur.values == (addr(SRC_DNS),) and cur.ttl == 5
    ttl = [e for e in env.journal() if e.get("kind") == "record_ttl" and e.get("system") == "swdns"]
    assert ttl and ttl[-1]["ttl_before"] == 3600 and ttl[-1]["ttl"] == 5
    assert ttl[-1]["expires_at"] >= ttl[-1]["lowered_at"] + 3600 - 1


def _planned_day(env) -> str:
    plan = yaml.safe_load((env.plan / "plan.yaml").read_text())
    return next(i["cutover"] for b in plan["batches"] for i in b["systems"] if i["id"] == "swdns")


def test_cutover_dry_run_shows_live_values(env):
    p = env.gc("migrate", "cutover", str(env.plan), "--batch", "0", "--dry-run", "-o", "json")
    assert p.returncode == 0, p.stderr
    rows = {r["system"]: r for r in json.loads(p.stdout)["records"]}
    assert rows["swdns"]["live"] == [addr(SRC_DNS)] and rows["swdns"]["action"] == "switch"
    assert rows["swdns"]["new"] == [env.target_addr("swdns")] and rows["swdns"]["ttl"] == 5
    assert rows["swlb"]["live"] == [f"{addr(SRC_LB)}:80"] and rows["swlb"]["new"] == [f"{env.target_addr('swlb')}:80"]


def test_cutover_refuses_before_the_old_ttl_expired(env):
    p = env.gc("migrate", "cutover", str(env.plan), "--batch", "0", "--yes", "--lang", "en",
               "--today", _planned_day(env), *env.conn())
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
    assert "old TTL of a DNS record has not expired" in p.stderr and "3600" in p.stderr, p.stderr
    assert env.status()["swdns"]["state"] == "synced"
    assert _on(SRC_DNS, "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/api/stats.json") == "200"


def test_cutover_refuses_a_record_changed_behind_its_back_and_changes_nothing(env):
    sw = env.dns()
    sw._update((addr(SRC_DNS),), ("198.18.1.99",), 5)          # someone else's change
    try:
        before = len(env.journal())
        p = env.gc("migrate", "cutover", str(env.plan), "--batch", "0", "--yes", "--lang", "en", "--force",
                   "--reason", "演练", *env.conn())
        assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
        assert "a record is not what the plan expects, nothing was changed" in p.stderr, p.stderr
        assert "198.18.1.99" in p.stderr
        assert sw.read().values == ("198.18.1.99",)                 # left as found
        assert env.lb().read().values == (f"{addr(SRC_LB)}:80",)
        new = env.journal()[before:]
        assert [e["status"] for e in new if e.get("kind") == "switch"] == ["refused"]
        assert not [e for e in new if e.get("kind") in ("step", "state")]       # no step ran
        st = env.status()
        assert st["swdns"]["state"] == "synced" and st["swlb"]["state"] == "synced"
        # the sources still serve: their services were not stopped
        for h in (SRC_DNS, SRC_LB):
            assert _on(h, "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1/api/stats.json") == "200"
    finally:
        sw._update(("198.18.1.99",), (addr(SRC_DNS),), 5)


def test_cutover_switches_both_and_the_clients_reach_the_targets(env):
    p = env.gc("migrate", "cutover", str(env.plan), "--batch", "0", "--yes", "--force", "--reason", "演练 TTL",
               "--parallel", "2", "-o", "json", *env.conn())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    st = env.status()
    assert st["swdns"]["state"] == "done" and st["swlb"]["state"] == "done", st
    t_dns, t_lb = env.target_addr("swdns"), env.target_addr("swlb")
    assert env.dns().read().values == (t_dns,)
    assert env.lb().read().values == (f"{t_lb}:80",)
    # the clients: h64 resolves through the harness BIND; h63 is answered through HAProxy
    assert _on(SRC_LB, f"getent ahostsv4 {env.dns_name} | awk 'NR==1{{print $1}}'") == t_dns
    assert _on(SRC_LB, f"curl -s -o /dev/null -w '%{{http_code}} %{{remote_ip}}' http://{env.dns_name}/api/stats.json") \
        == f"200 {t_dns}"
    assert _on(SRC_DNS, "curl -s -o /dev/null -w '%{http_code}' http://lb.gov.test/api/stats.json") == "200"
    j = env.journal()
    sw = [e for e in j if e.get("kind") == "switch" and e.get("status") == "ok" and e.get("to") == "target"]
    assert {(e["system"], tuple(e["before"]), tuple(e["after"])) for e in sw} == {
        ("swdns", (addr(SRC_DNS),), (t_dns,)), ("swlb", (f"{addr(SRC_LB)}:80",), (f"{t_lb}:80",))}
    assert {e["system"] for e in j if e.get("kind") == "switch" and e.get("status") == "verified"} == {"swdns", "swlb"}
    run = [e for e in j if e.get("kind") == "run" and e.get("command") == "cutover"][-1]
    assert run["forced"] and run["reason"] == "演练 TTL"
    # the verify playbook requested the health URL by name from each client
    msgs = json.dumps([e for e in j if e.get("kind") == "step" and e.get("step") == "verify"], ensure_ascii=False)
    assert f"verify client {SRC_LB}: {env.dns_name} -> {t_dns}, health 200 {t_dns}" in msgs, msgs[-2000:]
    assert f"verify client {SRC_DNS}: lb.gov.test" in msgs and "health 200" in msgs
    cut = {e["system"]: e["detail"] for e in j if e.get("kind") == "step" and e.get("step") == "cutover"
           and e.get("status") == "ok"}
    # the downtime each first client saw: through DNS (by the target's address), through the HAProxy frontend
    assert cut["swdns"].get("downtime_s") is not None and f"first healthy answer from {t_dns}" in cut["swdns"]["downtime"]
    assert cut["swlb"].get("downtime_s") is not None, cut["swlb"].get("downtime")
    assert "through the load balancer" in cut["swlb"]["downtime"] and cut["swlb"]["downtime_client"] == SRC_DNS
    st = env.status()
    assert st["swdns"]["downtime_s"] == cut["swdns"]["downtime_s"] and st["swlb"]["downtime_s"] == cut["swlb"]["downtime_s"]


def test_rollback_switches_both_back(env):
    for s in ("swdns", "swlb"):
        p = env.gc("migrate", "rollback", str(env.plan), "--system", s, "--yes", "-o", "json", *env.conn())
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert env.dns().read().values == (addr(SRC_DNS),)
    assert env.lb().read().values == (f"{addr(SRC_LB)}:80",)
    assert _on(SRC_LB, f"getent ahostsv4 {env.dns_name} | awk 'NR==1{{print $1}}'") == addr(SRC_DNS)
    wait_until(lambda: _on(SRC_DNS, "curl -s -o /dev/null -w '%{http_code}' http://lb.gov.test/api/stats.json")
               == "200", 30, 1, "lb.gov.test answers from the source again")
    back = [e for e in env.journal() if e.get("kind") == "switch" and e.get("to") == "source" and e.get("status") == "ok"]
    assert {e["system"] for e in back if e["changed"]} == {"swdns", "swlb"}


def test_no_secret_in_any_artefact(env):
    assert len(env.secret) >= 40
    hits = []
    for p in env.plan.rglob("*"):
        if p.is_file() and env.secret.encode() in p.read_bytes():
            hits.append(str(p))
    assert hits == []
    assert not any(env.secret in o for o in env.outputs)
    debug = Path.home() / ".cache" / "govcloud" / "debug.log"       # the internal-error log, if any
    assert not debug.exists() or env.secret.encode() not in debug.read_bytes()
    assert any((env.plan / "runs").rglob("*")), "the runs left artefacts to check"
