"""Execution nodes (issue 19) on the real harness: h68, a test host in its own network namespace, is
prepared as a site would do it (`govcloud node prepare`: wheels downloaded on the control node,
copied over SSH, pip --no-index into a venv on the node) and declared in the inventory as the
execution node of the cloud zone. `govcloud migrate run` then runs every playbook of the system
there through ansible-runner's streaming mode (transmit → ssh → worker → process); the sync of h71
(sample workload + 256 MiB) into a Nova server carries ≈0 bytes of data through the control node.

Hosts: h68 (node), h71 (source), h72 (cutover record) — h68–h72 are reserved for the execution-node
and data-path tests. Control-node bytes: the counters of its own interfaces on both pools (an upper
bound: other runs on the machine only add to them) and the stream's own size, journaled.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from migrate_env import approve_args, write_inventory
from test_datapath import controller_bytes
from test_migrate_e2e import Drill, addr, gc

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts]

REPO = Path(__file__).resolve().parents[2]
NODE, SOURCE, CLIENT = "h68", "h71", "h72"
PAYLOAD = "/srv/govapp/data/it-execnode.bin"
SIZE = 256 << 20        # large: other runs on the machine add to the counters


@pytest.fixture(scope="module")
def drill(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("execnode")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SOURCE,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(SOURCE, addr(SOURCE))], (CLIENT, addr(CLIENT)), start=date.today().isoformat())
    (inv / "nodes.yaml").write_text(
        "format_version: 1\nexecution_nodes:\n"
        f"  - {{id: node-{NODE}, address: {addr(NODE)}, user: govcloud, cloud_zones: [z1]}}\n", encoding="utf-8")
    plan_id = "it-en" + uuid.uuid4().hex[:6]
    gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id, check=True)
    d = Drill(root, plan_id, test_hosts, bridged_cloud)
    d.inv = inv
    gc(*approve_args(d.plan), check=True)
    d.ssh(SOURCE, f"sudo -n rm -f {PAYLOAD}")
    try:
        yield d
    finally:
        d.remove_cloud()
        d.ssh(SOURCE, f"sudo -n rm -f {PAYLOAD}")


def test_node_prepare_installs_the_runner_offline(drill, tmp_path):
    # a wheel cache of this test's own: the download is proven on every run, not only on a cold machine
    wheels = tmp_path / "node-wheels"
    p = gc("node", "prepare", str(drill.inv), f"node-{NODE}", "--key", str(drill.hosts.key),
           "--known-hosts", str(drill.hosts.known_hosts), "--wheels", str(wheels), "-o", "json")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    res = json.loads(p.stdout)
    assert res["downloaded"] is True and any(wheels.rglob("ansible_runner-*.whl")), res
    from importlib.metadata import version
    assert res["runner_version"] == version("ansible-runner") and res["venv"] == "/opt/govcloud-node"
    assert f"core {version('ansible-core')}" in res["ansible"]
    # installed from the copied wheels only: the node has no route to any package index
    rc, out = drill.ssh(NODE, "/opt/govcloud-node/bin/python -c 'import ansible_runner, ansible; print(ansible.__file__)'"
                              " && ls /tmp | grep -c govcloud-wheels || true")
    assert rc == 0 and out.splitlines()[0].startswith("/opt/govcloud-node/lib/"), out
    assert out.splitlines()[-1].strip() == "0", out        # the wheels were removed after the install
    # again: idempotent, from the cache
    p = gc("node", "prepare", str(drill.inv), f"node-{NODE}", "--key", str(drill.hosts.key),
           "--known-hosts", str(drill.hosts.known_hosts), "--wheels", str(wheels), "-o", "json")
    assert p.returncode == 0 and json.loads(p.stdout)["downloaded"] is False, p.stderr[-2000:]


def test_an_unknown_node_is_a_clear_error(drill):
    p = gc("node", "prepare", str(drill.inv), "node-nope", "--lang", "en")
    assert p.returncode == 1 and "no execution node 'node-nope'" in p.stderr and f"node-{NODE}" in p.stderr, p.stderr


def test_the_sync_runs_on_the_node_and_the_controller_carries_no_data(drill):
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--until", "provisioned", "--yes", "-o", "json",
           *drill.conn_args())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--dry-run", "-o", "json", "--lang", "en",
           *drill.conn_args())
    rows = [r for s in json.loads(p.stdout)["systems"] for r in s.get("databases", []) if r["action"] == "path"]
    assert any(r["kind"] == "playbooks" and r["name"] == f"node-{NODE}" for r in rows), rows
    assert any(f"through execution node node-{NODE} ({addr(NODE)})" in r["detail"] for r in rows), rows
    rc, out = drill.ssh(SOURCE, f"sudo -n sh -c 'head -c {SIZE} /dev/urandom > {PAYLOAD}'")
    assert rc == 0, out
    before = controller_bytes()
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--yes", "-o", "json", *drill.conn_args())
    carried = controller_bytes() - before
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    journal = [json.loads(ln) for ln in (drill.plan / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    sync = [e for e in journal if e.get("kind") == "step" and e.get("step") == "sync" and e.get("status") == "ok"][-1]
    node = sync["detail"]["node"]
    assert node["id"] == f"node-{NODE}" and node["address"] == addr(NODE) and node["ssh_rc"] == 0, node
    assert sync["detail"]["routes"][f"{SOURCE}-cloud"]["path"] == "direct"
    # the stream is the job and its events, not the data
    assert 0 < node["sent"] + node["received"] < 8 << 20, node
    # every playbook of the system ran there: the artefacts came back from the node's worker
    arts = sorted((drill.plan / "runs").glob(f"*/app1/sync-*/artifacts/*/job_events"))
    assert arts and any(arts[-1].iterdir())
    target = drill.status()["app1"]["resources"][f"server:{SOURCE}"]["address"]
    rc, t = drill.ssh_target(target, f"sudo -n sha256sum {PAYLOAD}")
    rc2, s = drill.ssh(SOURCE, f"sudo -n sha256sum {PAYLOAD}")
    assert rc == rc2 == 0 and t.split()[0] == s.split()[0]
    print(f"execution node: payload {SIZE} B, control node carried {carried} B ({carried / SIZE:.3f}×), "
          f"stream {node['sent']} B out / {node['received']} B back")
    assert carried < 0.15 * SIZE, carried
    # nothing of the job is left on the node (the worker deletes its directory)
    rc, out = drill.ssh(NODE, "ls -A /var/tmp/govcloud-node | wc -l")
    assert rc == 0 and out.strip() == "0", out
