"""Shell completion: the time of one TAB through the real ``govcloud`` entry point.

    python bench/bench_completion.py              # 20 TABs per case, alternating with the floor
    python bench/bench_completion.py -n 50
    python bench/bench_completion.py --inventory /tmp/province --plan /tmp/plans/province   # a larger pair too
                                     # (govcloud inventory generate /tmp/province --scale province --seed 1;
                                     #  govcloud plan generate /tmp/province --out /tmp/plans --id province)

Each TAB is what bash does after ``govcloud --install-completion``: a fresh ``govcloud`` process with
``_GOVCLOUD_COMPLETE=complete_bash``, ``COMP_WORDS`` and ``COMP_CWORD`` set. The peer/floor is
``python -c pass`` with the same interpreter (interpreter start-up with the venv's site-packages:
no completion can be faster), measured in the same run, interleaved so both see the same load.
The cases: command names, an enum option's values, ids read from the bundled inventory (every
record kind, the heaviest) and batch/system ids read from the bundled plan. The target is < 150 ms
per TAB; before the fast path a TAB imported the whole CLI (≈ 0.5 s). Ids are cached per inventory
and plan (base/idscan.py): the first TAB after a change reads the files, the rest read the cache —
the cases are timed warm (one untimed TAB first), and the first (cold) TAB is printed too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CASES = [
    ("commands", "govcloud "),
    ("enum --format", "govcloud inventory export inventories/heyuan --format "),
    ("inventory ids (all kinds)", "govcloud inventory show inventories/heyuan "),
    ("departments", "govcloud inventory list inventories/heyuan --department "),
    ("plan batches", "govcloud migrate run migration-plans/heyuan-2018 --batch "),
    ("plan systems of B03", "govcloud migrate run migration-plans/heyuan-2018 --batch B03 --system "),
]


def entry_point() -> str:
    beside = Path(sys.executable).parent / "govcloud"
    found = str(beside) if beside.exists() else shutil.which("govcloud")
    if not found:
        sys.exit("no govcloud entry point beside this python or on PATH: pip install -e . first")
    return found


def one(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return time.perf_counter() - t, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20, help="TABs per case (default 20)")
    ap.add_argument("--inventory", help="also an inventory of your own (e.g. a generated province)")
    ap.add_argument("--plan", help="also a plan of your own")
    args = ap.parse_args()
    cases = list(CASES)
    if args.inventory:
        cases += [(f"{Path(args.inventory).name}: departments", f"govcloud inventory list {args.inventory} --department "),
                  (f"{Path(args.inventory).name}: all ids", f"govcloud inventory show {args.inventory} ")]
    if args.plan:
        cases += [(f"{Path(args.plan).name}: systems of B03", f"govcloud migrate run {args.plan} --batch B03 --system ")]
    govcloud = entry_point()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COMP_", "_GOVCLOUD", "_TYPER"))}
    floor_times: list[float] = []
    print(f"{args.n} TABs per case through {govcloud}; floor: {sys.executable} -c pass")
    print(f"{'case':34} {'median ms':>9} {'p90 ms':>7} {'floor ms':>8} {'ratio':>6} {'over floor ms':>13} "
          f"{'first ms':>8}  answers")
    worst = 0.0
    for name, line in cases:
        words = line.split()
        cword = len(words) if line.endswith(" ") else len(words) - 1
        env = dict(base, _GOVCLOUD_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(cword))
        tab: list[float] = []
        floor: list[float] = []
        cold = one([govcloud], env)[0]     # the first TAB (fills the id cache when it is stale)
        out = ""
        for _ in range(args.n):
            dt, out = one([govcloud], env)
            tab.append(dt)
            floor.append(one([sys.executable, "-c", "pass"], base)[0])
        floor_times += floor
        med, fl = statistics.median(tab), statistics.median(floor)
        p90 = sorted(tab)[int(0.9 * (len(tab) - 1))]
        worst = max(worst, med)
        answers = len(out.split())
        print(f"{name:34} {med * 1e3:9.1f} {p90 * 1e3:7.1f} {fl * 1e3:8.1f} {med / fl:6.2f} {(med - fl) * 1e3:13.1f} "
              f"{cold * 1e3:8.1f}  {answers}")
    print(f"slowest case median {worst * 1e3:.1f} ms (target < 150 ms); floor median "
          f"{statistics.median(floor_times) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
