"""Inventory load + validate: govcloud vs the loaders one would otherwise have written.

    python bench/bench_inventory.py                 # province (≥10k systems, ≥40k servers)
    python bench/bench_inventory.py --national      # also the national inventory (≥1M servers)

Each measurement runs in a fresh subprocess so peak RSS (ru_maxrss) belongs to it
alone. Peers, on the very same files in the same run:

* ``yaml.safe_load`` — the pure-Python PyYAML loader, the naive baseline;
* ``yaml CSafeLoader`` — PyYAML with libyaml, what "use the C loader" gives;
both only parse (no validation at all), so every second they take is a lower bound
for a tool built on them. govcloud parses *and* validates every record.

Generated inventories are cached in bench/out/ by scale and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

MEASURE = r"""
import json, resource, sys, time
from pathlib import Path
mode, root = sys.argv[1], Path(sys.argv[2])
t0 = time.perf_counter()
if mode == "govcloud":
    from govcloud.inventory.validate import validate_path
    r = validate_path(root)
    extra = {"errors": len(r.errors), "warnings": len(r.problems) - len(r.errors),
             "systems": len(r.inventory.systems), "servers": len(r.inventory.servers)}
else:
    import yaml
    from govcloud.inventory.loader import inventory_files
    loader = yaml.SafeLoader if mode == "pyyaml-pure" else yaml.CSafeLoader
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else float("inf")
    n = 0
    for f in inventory_files(root):
        yaml.load(f.read_text(encoding="utf-8"), Loader=loader)
        n += 1
        if time.perf_counter() - t0 > limit:
            break
    extra = {"files": n, "complete": time.perf_counter() - t0 <= limit}
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def ensure_inventory(scale: str, seed: int) -> Path:
    target = OUT / f"{scale}-{seed}"
    if not (target / "inventory.yaml").exists():
        from govcloud.inventory.generate import generate_inventory, write_generated
        t0 = time.perf_counter()
        inv = generate_inventory(scale, seed)
        write_generated(inv, target, force=True)
        print(f"generated {scale} (seed {seed}) in {time.perf_counter() - t0:.1f} s → {target}", file=sys.stderr)
    return target


def measure(mode: str, root: Path, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, mode, str(root), *extra], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def size_of(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*.yaml")]
    return len(files), sum(p.stat().st_size for p in files)


def bench(scale: str, seed: int, repeat: int, baseline_budget_s: float) -> dict:
    root = ensure_inventory(scale, seed)
    nfiles, nbytes = size_of(root)
    runs = [measure("govcloud", root) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["wall_s"])
    peers = {}
    for mode in ("pyyaml-csafe", "pyyaml-pure"):
        r = measure(mode, root, str(baseline_budget_s))
        if not r["complete"]:
            # extrapolate from the share of bytes parsed inside the budget, and say so
            done = sum(p.stat().st_size for p in sorted(root.rglob("*.yaml"))[: r["files"]]) or 1
            r["wall_s_extrapolated"] = r["wall_s"] * nbytes / done
        peers[mode] = r
    return {"scale": scale, "seed": seed, "files": nfiles, "mb": nbytes / 1e6, "govcloud": best,
            "govcloud_runs_s": [round(r["wall_s"], 3) for r in runs], "peers": peers}


def report(res: dict, target_s: float | None, target_mb: float | None) -> None:
    g = res["govcloud"]
    print(f"\n== {res['scale']}: {g['systems']:,} systems, {g['servers']:,} servers; "
          f"{res['files']:,} files, {res['mb']:.1f} MB ==")
    print(f"{'loader':<34}{'wall s':>10}{'peak RSS MB':>14}{'vs govcloud':>13}")
    print(f"{'govcloud load + validate':<34}{g['wall_s']:>10.2f}{g['rss_mb']:>14.0f}{'1.0×':>13}")
    for mode, label in (("pyyaml-csafe", "PyYAML CSafeLoader (parse only)"),
                        ("pyyaml-pure", "PyYAML safe_load (parse only)")):
        p = res["peers"][mode]
        wall = p.get("wall_s_extrapolated", p["wall_s"])
        mark = "*" if "wall_s_extrapolated" in p else " "
        print(f"{label:<34}{wall:>9.2f}{mark}{p['rss_mb']:>14.0f}{wall / g['wall_s']:>12.1f}×")
    print(f"govcloud runs: {res['govcloud_runs_s']} s; problems: {g['errors']} errors, {g['warnings']} warnings")
    if any("wall_s_extrapolated" in p for p in res["peers"].values()):
        print("* stopped at the time budget and extrapolated by bytes parsed")
    if target_s is not None:
        ok = g["wall_s"] < target_s and (target_mb is None or g["rss_mb"] < target_mb)
        print(f"target: < {target_s} s and < {target_mb} MB → {'MET' if ok else 'NOT MET'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--national", action="store_true", help="also measure the national inventory")
    ap.add_argument("--baseline-budget", type=float, default=60.0,
                    help="stop a baseline after this many seconds and extrapolate")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    results = [bench("province", args.seed, args.repeat, args.baseline_budget)]
    report(results[0], 3.0, 1024)
    if args.national:
        results.append(bench("national", args.seed, 1, args.baseline_budget))
        report(results[1], None, None)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
