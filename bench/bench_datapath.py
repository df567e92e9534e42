"""Data path benchmark: control-node bytes per migrated byte (reverse tunnel vs direct path vs
execution node) and aggregate sync throughput of 4 systems in parallel vs raw ``rsync -a``.

    python bench/bench_datapath.py                    # 4 systems (h69-h72), 128 MiB each per round
    python bench/bench_datapath.py --size-mb 256 --output json

One plan, 4 systems (the sample workload on h69, h70, h71, h72; cutover record on h68), moved by
``govcloud migrate`` onto 4 Nova servers made real by the harness bridge, ``--parallel 4``. Each
round writes a fresh incompressible file of --size-mb on every source and runs ``migrate run
--resync`` (a delta sync: the new file is what moves), with the data path forced for the round:

* tunnel — the direct path blocked in each source's namespace (``ip route add prohibit TARGET``):
  the fallback through the control node's reverse tunnel;
* direct — targets pull from their sources over the routed network (the harness router);
* node — h68 declared as the zone's execution node (prepared with ``govcloud node prepare``): every
  playbook runs there (ansible-runner streaming), data still direct. The node is part of the
  inventory a plan is approved from, so this round has a plan (and 4 servers) of its own;
* raw — plain ``rsync -a`` on each target pulling the same size from its source over the same
  direct path, the 4 at once (the peer: what the network and disks give without govcloud).

Control-node bytes: rx+tx of the control node's own interfaces on both pools (gctbr0, gcbbr0)
around the round — an upper bound (anything else running on the machine adds to it). Throughput:
the rsync statistics govcloud journals per system (bytes transferred, rsync wall time); aggregate =
the 4 systems' bytes / the longest of their rsync times. Needs root and the harness (OpenStack,
bridge, test hosts h68-h72, which are reserved for this and the execution-node tests).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from migrate_env import approve_args, write_inventory  # noqa: E402
from migrate_helpers import HSTATE, known_line, ssh, start_agent  # noqa: E402

SOURCES = ("h69", "h70", "h71", "h72")
NODE = CLIENT = "h68"
BRIDGE_KNOWN = HSTATE.parent / "bridge" / "known_hosts"
BRIDGES = ("gctbr0", "gcbbr0")


def addr(h: str) -> str:
    return f"198.18.1.{int(h[1:])}"


def gc(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=timeout,
                       cwd=REPO)
    if p.returncode != 0:
        raise SystemExit(f"govcloud {' '.join(args[:3])} → {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def controller_bytes() -> int:
    return sum(int(Path(f"/sys/class/net/{d}/statistics/{k}").read_text()) for d in BRIDGES
               for k in ("rx_bytes", "tx_bytes"))


def netns(host: str, *cmd: str) -> None:
    subprocess.run(["ip", "netns", "exec", f"gct-{host}", *cmd], capture_output=True, timeout=30)


def target_ssh(address: str, cmd: str, env: dict[str, str], timeout: float = 1800) -> subprocess.CompletedProcess:
    """ssh to a Nova server (the bridge's published host key, strict), the agent in ``env`` forwarded."""
    return subprocess.run(["ssh", "-A", "-o", "IdentitiesOnly=no", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                           "-o", f"UserKnownHostsFile={BRIDGE_KNOWN}", "-o", "ControlMaster=no",
                           f"govcloud@{address}", cmd], capture_output=True, text=True, timeout=timeout, env=env)


def write_payloads(name: str, size_mb: int) -> None:
    def one(h: str) -> None:
        ssh(h, f"sudo -n sh -c 'rm -f /srv/govapp/data/bench-*.bin; "
               f"head -c {size_mb << 20} /dev/urandom > /srv/govapp/data/bench-{name}.bin'", timeout=600)
    with cf.ThreadPoolExecutor(4) as pool:
        list(pool.map(one, SOURCES))


def journal(plan: Path) -> list[dict]:
    return [json.loads(ln) for ln in (plan / "journal.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]


def round_stats(plan: Path, run_id: str | None) -> dict:
    entries = journal(plan)
    runs = [e for e in entries if e.get("kind") == "run" and e.get("command") == "run"]
    rid = run_id or (runs[-1].get("run") if runs else None)
    stats = [e for e in entries if e.get("kind") == "sync_stats" and e.get("run") == rid]
    steps = [e for e in entries if e.get("kind") == "step" and e.get("step") == "sync" and e.get("status") == "ok"
             and e.get("run") == rid]
    nbytes = sum(int(s.get("bytes_transferred") or 0) for s in stats)
    walls = [float(s.get("wall_s") or 0) for s in stats]
    routes = sorted({r.get("path") for e in steps for r in ((e.get("detail") or {}).get("routes") or {}).values()})
    nodes = sorted({(e.get("detail") or {}).get("node", {}).get("id") for e in steps if (e.get("detail") or {}).get("node")})
    stream = sum((e.get("detail") or {}).get("node", {}).get("sent", 0) + (e.get("detail") or {}).get("node", {}).get("received", 0)
                 for e in steps)
    return {"systems": len(stats), "bytes": nbytes, "max_wall_s": max(walls) if walls else None,
            "per_system_MBps": [round(int(s.get("bytes_transferred") or 0) / 1e6 / float(s["wall_s"]), 1)
                                for s in stats if s.get("wall_s")],
            "routes": routes, "nodes": nodes, "stream_bytes": stream}


def run_round(name: str, plan: Path, conn: list[str], size_mb: int) -> dict:
    write_payloads(name, size_mb)
    before = controller_bytes()
    t0 = time.monotonic()
    gc("migrate", "run", str(plan), "--batch", "0", "--resync", "--parallel", "4", "--yes", "-o", "json", *conn)
    wall = time.monotonic() - t0
    carried = controller_bytes() - before
    st = round_stats(plan, None)
    st.update(round=name, controller_bytes=carried, run_wall_s=round(wall, 1),
              controller_per_byte=round(carried / st["bytes"], 4) if st["bytes"] else None,
              aggregate_MBps=round(st["bytes"] / 1e6 / st["max_wall_s"], 1) if st["max_wall_s"] else None)
    return st


def raw_round(targets: dict[str, str], size_mb: int) -> dict:
    """rsync -a on each target from its source, the 4 at once, same direct path, timed on the target."""
    write_payloads("raw", size_mb)
    agent = start_agent(HSTATE / "id_ed25519")
    env = {**os.environ, "SSH_AUTH_SOCK": agent.sock}

    def one(h: str) -> float:
        kh = known_line(addr(h))
        t = targets[h]
        cmd = (f"d=$(mktemp -d) && printf '%s\\n' {shlex.quote(kh)} > $d/kh && "
               f"s=$(date +%s.%N) && rsync -a -e 'ssh -o StrictHostKeyChecking=yes -o UserKnownHostsFile='$d/kh "
               f"--rsync-path='sudo -n rsync' govcloud@{addr(h)}:/srv/govapp/data/bench-raw.bin $d/ && "
               f"e=$(date +%s.%N) && rm -rf $d && echo $s $e")
        p = target_ssh(t, cmd, env)
        if p.returncode != 0:
            raise SystemExit(f"raw rsync {h} -> {t}: {p.stderr[-800:]}")
        s, e = map(float, p.stdout.split()[-2:])
        return e - s
    before = controller_bytes()
    try:
        with cf.ThreadPoolExecutor(4) as pool:
            walls = list(pool.map(one, SOURCES))
    finally:
        agent.stop()
    carried = controller_bytes() - before
    nbytes = 4 * (size_mb << 20)
    return {"round": "raw", "systems": 4, "bytes": nbytes, "max_wall_s": round(max(walls), 2),
            "per_system_MBps": [round((size_mb << 20) / 1e6 / w, 1) for w in walls],
            "aggregate_MBps": round(nbytes / 1e6 / max(walls), 1), "controller_bytes": carried,
            "controller_per_byte": round(carried / nbytes, 4), "routes": ["direct"], "nodes": [], "stream_bytes": 0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=int, default=128, help="fresh data per source per round")
    ap.add_argument("--rounds", nargs="+", default=["tunnel", "direct", "raw", "node"],
                    choices=["tunnel", "direct", "node", "raw"])
    ap.add_argument("--output", choices=["text", "json"], default="text")
    a = ap.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", "/var/lib/govcloud-harness/openstack/clouds.yaml")
    os.environ.setdefault("OS_CLOUD", "govcloud-test")
    root = Path(tempfile.mkdtemp(prefix="govcloud-bench-datapath-"))
    # a state of its own (locks, claims): the bench's two plans hold the same system ids, and
    # nobody else's plans should see them
    os.environ["GOVCLOUD_STATE"] = "file://" + str(root / "state")
    from govcloud.drivers.ansible import run_playbook
    print(f"deploying the sample workload on {', '.join(SOURCES)} …", file=sys.stderr, flush=True)
    dep = run_playbook(REPO / "playbooks" / "sample_workload.yml", HSTATE / "inventory.ini", limit=",".join(SOURCES),
                       private_data_dir=root / "deploy")
    if not dep.ok:
        raise SystemExit(f"sample workload: {dep.failed_tasks}")
    conn = ["--key", str(HSTATE / "id_ed25519"), "--source-user", "govcloud", "--target-user", "govcloud",
            "--known-hosts", str(HSTATE / "known_hosts")]
    import openstack
    cloud = openstack.connect(cloud="govcloud-test")
    plans: list[str] = []

    def stage(name: str, with_node: bool) -> tuple[Path, dict[str, str]]:
        """An inventory (with h68 as the zone's execution node, or without: the node is part of what
        the plan was approved from), its approved plan, 4 Nova servers and the initial sync."""
        inv = write_inventory(root / f"inv-{name}", [(h, addr(h)) for h in SOURCES], (CLIENT, addr(CLIENT)),
                              start=date.today().isoformat())
        if with_node:
            (inv / "nodes.yaml").write_text("format_version: 1\nexecution_nodes:\n"
                                            f"  - {{id: node-{NODE}, address: {addr(NODE)}, user: govcloud, "
                                            f"cloud_zones: [z1]}}\n", encoding="utf-8")
            gc("node", "prepare", str(inv), f"node-{NODE}", "--key", str(HSTATE / "id_ed25519"),
               "--known-hosts", str(HSTATE / "known_hosts"))
        plan_id = "bench-dp" + uuid.uuid4().hex[:6]
        plans.append(plan_id)
        gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id)
        plan = root / "plans" / plan_id
        gc(*approve_args(plan))
        print(f"{name}: provisioning 4 Nova servers and the initial sync …", file=sys.stderr, flush=True)
        gc("migrate", "run", str(plan), "--batch", "0", "--parallel", "4", "--yes", "-o", "json", *conn)
        st = json.loads(gc("migrate", "status", str(plan), "-o", "json").stdout)
        return plan, {h: s["resources"][f"server:{h}"]["address"] for s in st["systems"] for h in SOURCES
                      if f"server:{h}" in s.get("resources", {})}

    def cleanup(plan_id: str) -> None:
        for s in cloud.compute.servers(tags=f"gc-plan={plan_id}"):
            cloud.compute.delete_server(s, ignore_missing=True)
        for _ in range(180):
            if not list(cloud.compute.servers(tags=f"gc-plan={plan_id}")):
                break
            time.sleep(1)
        for sg in cloud.network.security_groups(tags=f"gc-plan={plan_id}"):
            with contextlib.suppress(Exception):
                cloud.network.delete_security_group(sg, ignore_missing=True)
        with contextlib.suppress(Exception):
            cloud.compute.delete_keypair(f"govcloud-{plan_id}", ignore_missing=True)

    results, blocked = [], []
    try:
        plain = [r for r in a.rounds if r != "node"]
        if plain:
            plan, by_source = stage("control node", with_node=False)
            for name in plain:
                print(f"round {name} …", file=sys.stderr, flush=True)
                if name == "tunnel":
                    for h, t in by_source.items():
                        netns(h, "ip", "route", "add", "prohibit", f"{t}/32")
                        blocked.append((h, t))
                try:
                    results.append(raw_round(by_source, a.size_mb) if name == "raw"
                                   else run_round(name, plan, conn, a.size_mb))
                    print(json.dumps(results[-1]), file=sys.stderr, flush=True)
                finally:
                    for h, t in blocked:
                        netns(h, "ip", "route", "del", "prohibit", f"{t}/32")
                    blocked.clear()
            cleanup(plans[-1])
            for n in range(1, len(SOURCES) + 1):      # its servers are gone: the next plan may claim them
                gc("migrate", "release", str(plan), "--system", f"app{n}", "--reason", "bench: next round's plan",
                   "--yes")
        if "node" in a.rounds:
            plan, _ = stage("execution node", with_node=True)
            print("round node …", file=sys.stderr, flush=True)
            results.append(run_round("node", plan, conn, a.size_mb))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    finally:
        for h in SOURCES:
            with contextlib.suppress(Exception):
                ssh(h, "sudo -n rm -f /srv/govapp/data/bench-*.bin", check=False)
        for p in plans:
            cleanup(p)
    load = os.getloadavg()[0]
    raw = next((r for r in results if r["round"] == "raw"), None)
    for r in results:
        r["vs_raw"] = round(r["aggregate_MBps"] / raw["aggregate_MBps"], 2) if raw and r.get("aggregate_MBps") else None
    if a.output == "json":
        print(json.dumps({"size_mb_per_system": a.size_mb, "load": load, "rounds": results}, indent=2))
        return 0
    print(f"4 systems × {a.size_mb} MiB per round, --parallel 4 (load {load:.1f})")
    print(f"{'round':8} {'route':7} {'ctl bytes/byte':>14} {'aggregate MB/s':>14} {'vs raw':>7} {'per system MB/s':>24} "
          f"{'stream B':>10}")
    for r in results:
        print(f"{r['round']:8} {','.join(r['routes']) or '-':7} {r['controller_per_byte'] if r['controller_per_byte'] is not None else '-':>14} "
              f"{r['aggregate_MBps'] or '-':>14} {r['vs_raw'] or '-':>7} {str(r['per_system_MBps']):>24} "
              f"{r['stream_bytes']:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
