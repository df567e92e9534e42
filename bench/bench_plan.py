"""Plan generation: govcloud's planner vs the naive wave planner one would otherwise write.

    python bench/bench_plan.py                # province (≥10k systems, ≥40k servers)
    python bench/bench_plan.py --national     # also national (≥300k systems, ≥1M servers)

Measured in fresh subprocesses (peak RSS is theirs alone), on the same inventory:

* ``govcloud plan generate`` end to end (load + validate + plan + independent rule
  check + write plan.yaml and plan.md), and the planner alone (``build_plan``);
* the naive baseline: waves of whole departments in policy order, every system
  rehosted onto the first zone on its network, no move groups, no capacity,
  takeover, freeze or deadline awareness — what wave planners without the domain's
  rules do. Both plans are scored by the same independent validator.

Inventories are generated once into bench/out/ (cached by scale and seed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))

MEASURE = r"""
import json, resource, sys, time, gc
from pathlib import Path
mode, root, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
t0 = time.perf_counter()
if mode == "cli":
    from govcloud.cli.app import main
    try:
        main(["plan", "generate", str(root), "--out", str(out), "--output", "json"])
    except SystemExit as exc:
        code = exc.code
    wall = time.perf_counter() - t0
    print(json.dumps({"wall_s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "exit": code}))
    sys.exit(0)
from govcloud.inventory.validate import validate_path
from govcloud.planning.rules import check_plan
r = validate_path(root)
inv = r.inventory
t1 = time.perf_counter()
if mode == "planner":
    from govcloud.planning.planner import build_plan
    plan = build_plan(inv, inv.policy(), plan_id="bench", inventory_ref=str(root), inputs_digest="bench")
else:
    from naive_planner import naive_plan
    plan = naive_plan(inv, inv.policy())
t2 = time.perf_counter()
violations = check_plan(plan, inv)
t3 = time.perf_counter()
rules = {}
for v in violations:
    rules[v.rule] = rules.get(v.rule, 0) + 1
lb = plan.lower_bound
print(json.dumps({"load_s": t1 - t0, "plan_s": t2 - t1, "check_s": t3 - t2,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "systems": len(inv.systems), "servers": len(inv.servers), "batches": len(plan.batches),
                  "lower_bound": lb.batches if lb else None, "in_batches": len(plan.items()),
                  "retained": len(plan.retained), "unscheduled": len(plan.unscheduled),
                  "violations": len(violations), "violations_by_rule": rules}))
"""


def ensure_inventory(scale: str, seed: int) -> Path:
    target = OUT / f"{scale}-{seed}"
    if not (target / "inventory.yaml").exists():
        from govcloud.inventory.generate import generate_inventory, write_generated
        t0 = time.perf_counter()
        write_generated(generate_inventory(scale, seed), target, force=True)
        print(f"generated {scale} (seed {seed}) in {time.perf_counter() - t0:.0f} s → {target}", file=sys.stderr)
    return target


def measure(mode: str, root: Path, out: Path) -> dict:
    env_path = f"{HERE}"
    proc = subprocess.run([sys.executable, "-c", MEASURE, mode, str(root), str(out)], capture_output=True,
                          text=True, env={**__import__("os").environ, "PYTHONPATH": env_path})
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(scale: str, seed: int, repeat: int, target_s: float | None, target_mb: float | None) -> dict:
    root = ensure_inventory(scale, seed)
    out = OUT / f"plans-{scale}"
    cli = [measure("cli", root, out) for _ in range(repeat)]
    best_cli = min(cli, key=lambda r: r["wall_s"])
    planner = measure("planner", root, out)
    naive = measure("naive", root, out)
    print(f"\n== {scale}: {planner['systems']:,} systems, {planner['servers']:,} servers ==")
    print(f"{'':34}{'plan s':>9}{'batches':>9}{'LB':>5}{'gap':>5}{'in batches':>12}{'unsched.':>10}{'violations':>12}")
    for label, r in (("govcloud planner", planner), ("naive wave planner", naive)):
        lb = r["lower_bound"]
        gap = r["batches"] - lb if lb is not None else None
        print(f"{label:34}{r['plan_s']:>9.2f}{r['batches']:>9}{lb if lb is not None else '-':>5}"
              f"{gap if gap is not None else '-':>5}{r['in_batches']:>12,}{r['unscheduled']:>10,}{r['violations']:>12,}")
    print(f"naive planner's violations by rule: {json.dumps(naive['violations_by_rule'], ensure_ascii=False)}")
    print(f"govcloud planner: load+validate {planner['load_s']:.2f} s, plan {planner['plan_s']:.2f} s, "
          f"independent check {planner['check_s']:.2f} s, peak RSS {planner['rss_mb']:.0f} MB")
    print(f"`govcloud plan generate` end to end: {best_cli['wall_s']:.2f} s (runs: "
          f"{[round(r['wall_s'], 2) for r in cli]}), peak RSS {best_cli['rss_mb']:.0f} MB, exit {best_cli['exit']}")
    if target_s is not None:
        ok = best_cli["wall_s"] < target_s and planner["violations"] == 0 and \
            (target_mb is None or best_cli["rss_mb"] < target_mb)
        print(f"target: < {target_s} s" + (f", < {target_mb:.0f} MB" if target_mb else "") +
              f", 0 violations → {'MET' if ok else 'NOT MET'}")
    return {"scale": scale, "cli": cli, "planner": planner, "naive": naive}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--national", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    results = [run("province", args.seed, args.repeat, 5.0, None)]
    if args.national:
        results.append(run("national", args.seed, 1, 90.0, 8 * 1024))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
