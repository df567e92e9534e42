"""The plan is the dry run, on the real harness: `migrate run` carries out exactly the change
list `migrate run --dry-run` printed — against the real OpenStack, Ansible and test host h61
(source of app1; h62 is its cutover client, only an address in its rules) — for a fresh run
(create everything, a data volume for the server) and after a rollback that kept the target
while someone added an ingress rule by hand (the run says and does "update") and detached the
data volume (the run says and does "attach").

The same assertions run on the fakes in tests/unit/test_executor_fake.py.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from integration_helpers import wait_until
from migrate_env import approve_args, write_inventory

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["h61"]
CLIENT = "h62"          # holds the cutover record (no cutover here: only its address is in the rules)


def addr(host: str) -> str:
    return f"198.18.1.{host[1:]}"


def gc(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def ok(p: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert p.returncode == 0, f"rc {p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def drill(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("dry-run-real")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini,
                          limit=",".join(SOURCES), private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(h, addr(h)) for h in SOURCES], (CLIENT, addr(CLIENT)),
                          start=date.today().isoformat())
    dept = inv / "departments" / "drill.yaml"      # a data disk per server: a volume to attach
    dept.write_text(dept.read_text().replace("disks: [{size_gb: 10}]", "disks: [{size_gb: 10}, {size_gb: 1}]"))
    plan_id = "dr-" + uuid.uuid4().hex[:6]
    ok(gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id))
    plan = root / "plans" / plan_id
    ok(gc(*approve_args(plan)))
    conn = bridged_cloud.cloud.member
    conn_args = ["--key", str(test_hosts.key), "--source-user", "govcloud", "--target-user", "govcloud",
                 "--known-hosts", str(test_hosts.known_hosts)]
    yield {"plan": plan, "plan_id": plan_id, "conn": conn, "args": conn_args}
    # leave the cloud as we found it: the rollback removes what the cloud holds for each system
    gc("migrate", "rollback", str(plan), "--system", "app1", "--yes", "--reason", "test over", *conn_args)
    for s in conn.compute.servers(details=True, tags=f"gc-plan={plan_id}"):
        conn.compute.delete_server(s, ignore_missing=True)
    with contextlib.suppress(Exception):
        conn.compute.delete_keypair(f"govcloud-{plan_id}", ignore_missing=True)


def dry_run(d, until: str) -> dict:
    p = ok(gc("migrate", "run", str(d["plan"]), "--batch", "0", "--until", until, "--dry-run", "-o", "json"))
    return json.loads(p.stdout)


def run(d, until: str) -> str:
    """`migrate run --yes`; returns the run's id (from the journal)."""
    ok(gc("migrate", "run", str(d["plan"]), "--batch", "0", "--until", until, "--parallel", "2", "--yes",
          "-o", "json", *d["args"]))
    runs = [e for e in entries(d) if e.get("kind") == "run" and e.get("command") == "run"]
    return runs[-1]["run"]


def entries(d) -> list[dict]:
    return [json.loads(ln) for ln in (d["plan"] / "journal.jsonl").read_text().splitlines() if ln.strip()]


def assert_did_the_dry_run(d, dry: dict, run_id: str) -> dict[str, list[dict]]:
    done: dict[str, list[dict]] = {}
    outcomes = []
    for e in entries(d):
        if e.get("kind") == "change" and e.get("run") == run_id:
            done.setdefault(e["system"], []).append(e["change"])
            outcomes.append((e["change"]["action"], e["change"]["kind"], e["outcome"]))
    assert done == {s["system"]: s["changes"] for s in dry["systems"] if s["changes"]}
    expect = {"create": "created", "keep": "kept", "adopt": "kept", "update": "changed", "attach": "changed",
              "run": "ran"}
    for action, kind, outcome in outcomes:
        assert outcome == expect[action] or (kind == "keypair" and outcome == "kept"), (action, kind, outcome)
    return done


def test_the_run_does_exactly_what_the_dry_run_showed_fresh_and_after_drift(drill):
    d = drill
    # 1. fresh: everything is created, the server gets its data volume
    dry = dry_run(d, "provisioned")
    acts = {(c["action"], c["kind"]) for s in dry["systems"] for c in s["changes"]}
    assert {("create", "security_group"), ("create", "server"), ("create", "volume"), ("run", "playbook")} <= acts
    first = run(d, "provisioned")
    assert_did_the_dry_run(d, dry, first)
    again = dry_run(d, "provisioned")
    assert again["to_do"] == 0 and all(s["changes"] == [] for s in again["systems"])

    # 2. the target is kept through a rollback; by hand, a port is opened on its group and its
    #    data volume is detached
    ok(gc("migrate", "rollback", str(d["plan"]), "--system", "app1", "--keep-target", "--yes",
          "--reason", "rehearsal over", *d["args"]))
    c, pid = d["conn"], d["plan_id"]
    group = next(g for g in c.network.security_groups(tags=f"gc-plan={pid}") if g.name.endswith("-app1"))
    c.network.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4",
                                         protocol="tcp", port_range_min=8080, port_range_max=8080,
                                         remote_ip_prefix="0.0.0.0/0")
    vol = next(v for v in c.block_storage.volumes(details=True)
               if (v.metadata or {}).get("govcloud_plan") == pid and (v.metadata or {}).get("govcloud_system") == "app1")
    server_id = vol.attachments[0]["server_id"]
    c.compute.delete_volume_attachment(server_id, vol.id)
    wait_until(lambda: c.block_storage.get_volume(vol.id).status == "available", 180, 1, "volume detached")

    dry = dry_run(d, "provisioned")
    prov = {s["system"]: {(c["action"], c["kind"]) for c in s["changes"] if c["step"] == "provision"}
            for s in dry["systems"]}
    assert prov["app1"] == {("keep", "keypair"), ("keep", "network"), ("update", "security_group"),
                            ("keep", "server"), ("attach", "volume")}
    second = run(d, "provisioned")
    assert_did_the_dry_run(d, dry, second)
    # the cloud is what the plan wants: the hand-made rule is gone, the volume is attached again
    rules = c.network.get_security_group(group.id).security_group_rules
    assert not any(r.get("port_range_min") == 8080 for r in rules)
    assert [a["server_id"] for a in c.block_storage.get_volume(vol.id).attachments] == [server_id]
    assert dry_run(d, "provisioned")["to_do"] == 0
