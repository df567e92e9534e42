"""The direct data path (issue 19) through `govcloud migrate` on the real harness: the Nova target
pulls from its source straight over the routed network (the harness router, gcr-router, stands for
the e-gov extranet), so the control node carries ≈0 bytes of migration data; when the direct path
does not answer (blocked in the source's namespace), the sync falls back to the reverse tunnel
through the control node — still correct, and journaled as the route taken.

h69 is the source (sample workload), h70 holds the cutover record: hosts h68–h72 are reserved for
the execution-node and data-path tests. Control-node bytes are the counters of the control node's
own interfaces on both pools (gctbr0: test hosts, gcbbr0: Nova servers) around the sync: an upper
bound (other runs on the machine only add to them), so "≈0" is asserted against the payload.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from datetime import date
from pathlib import Path

import pytest

from migrate_env import approve_args, write_inventory
from test_migrate_e2e import Drill, addr, gc

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts]

REPO = Path(__file__).resolve().parents[2]
SOURCE, CLIENT = "h69", "h70"
PAYLOAD = "/srv/govapp/data/it-datapath-1.bin"
PAYLOAD2 = "/srv/govapp/data/it-datapath-2.bin"
SIZE = 256 << 20         # incompressible: what the sync must move (large: other runs on the machine add noise)
SIZE2 = 32 << 20
BRIDGES = ("gctbr0", "gcbbr0")


def controller_bytes() -> int:
    """Bytes in + out of the control node's interfaces on both pools (the host side of the bridges)."""
    total = 0
    for dev in BRIDGES:
        for d in ("rx_bytes", "tx_bytes"):
            total += int(Path(f"/sys/class/net/{dev}/statistics/{d}").read_text())
    return total


def netns(host: str, *cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", f"gct-{host}", *cmd], capture_output=True, text=True, timeout=30)


@pytest.fixture(scope="module")
def drill(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("datapath")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SOURCE,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(SOURCE, addr(SOURCE))], (CLIENT, addr(CLIENT)), start=date.today().isoformat())
    plan_id = "it-dp" + uuid.uuid4().hex[:6]
    gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id, check=True)
    d = Drill(root, plan_id, test_hosts, bridged_cloud)
    gc(*approve_args(d.plan), check=True)
    d.ssh(SOURCE, f"sudo -n rm -f {PAYLOAD} {PAYLOAD2}")
    blocked: list[str] = []
    d.blocked = blocked
    try:
        yield d
    finally:
        for b in blocked:
            netns(SOURCE, "ip", "route", "del", "prohibit", b)
        d.remove_cloud()
        d.ssh(SOURCE, f"sudo -n rm -f {PAYLOAD} {PAYLOAD2}")


def _routes(drill) -> list[dict]:
    """The routes each successful sync step journaled, in order."""
    out = []
    for line in (drill.plan / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e.get("kind") == "step" and e.get("step") == "sync" and e.get("status") == "ok":
            out.append((e.get("detail") or {}).get("routes") or {})
    return out


def _sha(drill, host_or_addr: str, path: str, target: bool = False) -> str:
    cmd = f"sudo -n sha256sum {path}"
    rc, out = drill.ssh_target(host_or_addr, cmd) if target else drill.ssh(host_or_addr, cmd)
    assert rc == 0, out
    return out.split()[0]


def test_direct_path_the_controller_carries_no_data(drill):
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--until", "provisioned", "--yes", "-o", "json",
           *drill.conn_args())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    # the dry run says which route the sync will take
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--dry-run", "-o", "json", "--lang", "en",
           *drill.conn_args())
    assert p.returncode in (0, 2), p.stdout[-3000:] + p.stderr[-3000:]
    rows = [r for s in json.loads(p.stdout)["systems"] for r in s.get("databases", []) if r["action"] == "path"]
    assert rows and rows[0]["name"] == f"{SOURCE} → {SOURCE}-cloud", rows
    assert f"direct from {addr(SOURCE)} if it answers from the target" in rows[0]["detail"], rows
    rc, out = drill.ssh(SOURCE, f"sudo -n sh -c 'head -c {SIZE} /dev/urandom > {PAYLOAD}'")
    assert rc == 0, out
    before = controller_bytes()
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--yes", "-o", "json", *drill.conn_args())
    carried = controller_bytes() - before
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    routes = _routes(drill)
    assert routes and routes[-1][f"{SOURCE}-cloud"]["path"] == "direct", routes
    assert routes[-1][f"{SOURCE}-cloud"]["source"] == SOURCE
    target = drill.status()["app1"]["resources"][f"server:{SOURCE}"]["address"]
    assert _sha(drill, target, PAYLOAD, target=True) == _sha(drill, SOURCE, PAYLOAD)
    # ≈0: the control node's interfaces carried a small fraction of the payload (Ansible's own SSH
    # traffic and whatever else runs on the machine), where the tunnel carries it twice
    print(f"direct path: payload {SIZE} B, control node carried {carried} B ({carried / SIZE:.3f}×)")
    assert carried < 0.15 * SIZE, carried


def test_blocked_direct_path_falls_back_to_the_tunnel(drill):
    target = drill.status()["app1"]["resources"][f"server:{SOURCE}"]["address"]
    r = netns(SOURCE, "ip", "route", "add", "prohibit", f"{target}/32")
    assert r.returncode == 0, r.stderr
    drill.blocked.append(f"{target}/32")
    rc, out = drill.ssh(SOURCE, f"sudo -n sh -c 'head -c {SIZE2} /dev/urandom > {PAYLOAD2}'")
    assert rc == 0, out
    before = controller_bytes()
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--resync", "--yes", "-o", "json", *drill.conn_args())
    carried = controller_bytes() - before
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    last = _routes(drill)[-1][f"{SOURCE}-cloud"]
    assert last["path"] == "tunnel" and last["direct_rc"] not in (None, 0) and last["direct_error"], last
    assert _sha(drill, target, PAYLOAD2, target=True) == _sha(drill, SOURCE, PAYLOAD2)
    print(f"tunnel path: payload {SIZE2} B, control node carried {carried} B ({carried / SIZE2:.3f}×)")
    assert carried > 1.8 * SIZE2, carried          # in from the source and out to the target
    # the dry run now names the route the last sync took
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--resync", "--dry-run", "-o", "json", "--lang", "en",
           *drill.conn_args())
    rows = [r for s in json.loads(p.stdout)["systems"] for r in s.get("databases", []) if r["action"] == "path"]
    assert rows and "last sync: tunnel" in rows[0]["detail"], rows
