"""Orchestration overhead of `govcloud migrate` per system, on the harness.

    python3 bench/bench_migrate.py                 # drill: N systems (sample workload) → run → cutover → rollback
    python3 bench/bench_migrate.py --journal DIR   # only analyse an existing plan directory's journal

Prints, per step, the median and max wall time per system from the journal, the whole run per
system, and — side by side — the floor for the same work done by hand in the same run: one
`ansible-playbook -m ping` round trip to a source and one Nova server create→ACTIVE→delete,
so the overhead govcloud adds on top of its tools is visible. The sample data set is small
(~1 MB, 28 files), so sync time is mostly orchestration, not transfer (for throughput see
bench/bench_sync.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
STATE = Path("/var/lib/govcloud-harness")
H = STATE / "hosts"


def gc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, cwd=REPO)


def _t(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def analyse(plan_dir: Path) -> dict[str, dict[str, list[float]]]:
    starts: dict[tuple[str, str], float] = {}
    per_step: dict[str, list[float]] = {}
    per_system: dict[str, float] = {}
    for line in (plan_dir / "journal.jsonl").read_text().splitlines():
        e = json.loads(line)
        if e.get("kind") != "step":
            continue
        key = (e["system"], e["step"])
        if e["status"] == "start":
            starts[key] = _t(e["at"])
        elif key in starts:
            d = _t(e["at"]) - starts.pop(key)
            per_step.setdefault(e["step"], []).append(d)
            per_system[e["system"]] = per_system.get(e["system"], 0.0) + d
    return {"steps": per_step, "systems": {"total": list(per_system.values())}}


def floor() -> dict[str, float]:
    """The tools alone, same run: an Ansible round trip and a Nova boot/delete."""
    out = {}
    t = time.perf_counter()
    subprocess.run(["ansible", "h43", "-i", str(H / "inventory.ini"), "-m", "ping"], capture_output=True,
                   env={**__import__("os").environ, "ANSIBLE_HOST_KEY_CHECKING": "True"})
    out["ansible ping (1 host)"] = time.perf_counter() - t
    import openstack
    c = openstack.connect(cloud="govcloud-test")
    t = time.perf_counter()
    s = c.compute.create_server(name="bench-" + uuid.uuid4().hex[:6], flavor_id=c.compute.find_flavor("m1.small").id,
                                image_id=c.image.find_image("Debian-12-x86_64").id,
                                networks=[{"uuid": c.network.find_network("govcloud-net").id}])
    c.compute.wait_for_server(s, wait=300)
    out["nova create→ACTIVE"] = time.perf_counter() - t
    c.compute.delete_server(s)
    return out


def drill(n: int, parallel: int, work: Path) -> Path:
    from migrate_env import approve_args, write_inventory
    hosts = [f"h{43 + i}" for i in range(n)]
    subprocess.run(["ansible-playbook", "-i", str(H / "inventory.ini"), str(REPO / "playbooks" / "sample_workload.yml"),
                    "-l", ",".join(hosts)], check=True, capture_output=True)
    inv = write_inventory(work / "inv", [(h, f"198.18.1.{h[1:]}") for h in hosts], ("h38", "198.18.1.38"),
                          start=date.today().isoformat())
    pid = "bench-" + uuid.uuid4().hex[:6]
    assert gc("plan", "generate", str(inv), "--out", str(work / "plans"), "--id", pid).returncode == 0
    plan = work / "plans" / pid
    assert gc(*approve_args(plan)).returncode == 0  # signed with the test approver key
    ssh = ["--key", str(H / "id_ed25519"), "--source-user", "govcloud", "--target-user", "govcloud",
           "--known-hosts", str(H / "known_hosts")]
    t = time.perf_counter()
    r = gc("migrate", "run", str(plan), "--batch", "0", "--parallel", str(parallel), "--yes", *ssh)
    print(f"run ({n} systems, --parallel {parallel}): {time.perf_counter() - t:.1f} s, exit {r.returncode}")
    t = time.perf_counter()
    r = gc("migrate", "cutover", str(plan), "--batch", "0", "--parallel", str(parallel), "--yes", "--force",
           "--reason", "bench", *ssh)
    print(f"cutover: {time.perf_counter() - t:.1f} s, exit {r.returncode}")
    for i in range(1, n + 1):
        gc("migrate", "rollback", str(plan), "--system", f"app{i}", "--yes", *ssh)
    return plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--journal", type=Path, help="analyse this plan directory's journal only")
    ap.add_argument("-n", type=int, default=3, help="systems in the drill (hosts h43…)")
    ap.add_argument("--parallel", type=int, default=3)
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "migrate")
    a = ap.parse_args()
    plan = a.journal or drill(a.n, a.parallel, a.work)
    res = analyse(plan)
    print(f"\n{'step':<12} {'systems':>7} {'median s':>9} {'max s':>7}")
    for step in ("precheck", "provision", "configure", "sync", "cutover", "verify", "rollback"):
        v = res["steps"].get(step)
        if v:
            print(f"{step:<12} {len(v):>7} {statistics.median(v):>9.1f} {max(v):>7.1f}")
    tot = res["systems"]["total"]
    if tot:
        print(f"{'per system':<12} {len(tot):>7} {statistics.median(tot):>9.1f} {max(tot):>7.1f}")
    if not a.journal:
        f = floor()
        print("\nfloor, same run:")
        for k, v in f.items():
            print(f"  {k:<26} {v:6.1f} s")


if __name__ == "__main__":
    main()
