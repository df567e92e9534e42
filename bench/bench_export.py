"""Inventory export to XLSX: govcloud vs openpyxl (write-only) on the very same rows, and vs CSV.

    python bench/bench_export.py              # province inventory (bench/out/province-1), 2 rounds
    python bench/bench_export.py --rounds 3

Every measurement runs in a fresh subprocess (interpreter start-up included), in the same run,
alternating, so they share the machine's load:

* ``govcloud xlsx`` — the whole command, ``govcloud inventory export INV --format xlsx --out DIR``:
  load + validate, build the 8 tables, write the workbook (our streaming writer,
  govcloud/inventory/xlsxstream.py), MANIFEST.sha256, the audit-log entry. Goal < 30 s.
* ``govcloud csv`` — the same command with ``--format csv`` (8 CSV files): the floor of the
  pipeline when the spreadsheet container costs nothing.
* writer only, same cell values in memory: our writer vs ``openpyxl.Workbook(write_only=True)``
  with the same headers, values, bold/filled header, frozen panes, widths and auto-filter —
  what the export used before (and the best openpyxl offers for writing).

The province inventory is generated once and cached in bench/out/ (see bench_inventory.py).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

WRITERS = r"""
import io, json, sys, time
from pathlib import Path
from govcloud.inventory.validate import validate_path
from govcloud.inventory import export as ex
from govcloud.inventory.xlsxstream import Sheet, write_workbook
t0 = time.perf_counter()
inv = validate_path(Path(sys.argv[1])).inventory
t1 = time.perf_counter()
tables = ex.build_tables(inv)
data = [([c.label("zh") for c in t.columns], [[ex.cell(v, "zh") for v in row] for row in t.rows]) for t in tables]
t2 = time.perf_counter()
names = [ex._sheet_name(t.title("zh")) for t in tables]
cells = sum(1 for _, rows in data for r in rows for v in r if v is not None)

def ours():
    buf = io.BytesIO()
    write_workbook(buf, [Sheet(n, h, rows, len(rows), [20] * len(h)) for n, (h, rows) in zip(names, data)],
                   title="bench", creator="bench")
    return len(buf.getvalue())

def openpyxl_wo():
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    wb = Workbook(write_only=True)
    font, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for n, (h, rows) in zip(names, data):
        ws = wb.create_sheet(n)
        for i in range(1, len(h) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 20
        ws.freeze_panes = "A2"
        if rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(h))}{len(rows) + 1}"
        head = []
        for x in h:
            c = WriteOnlyCell(ws, value=x)
            c.font, c.fill = font, fill
            head.append(c)
        ws.append(head)
        for r in rows:
            ws.append(r)
    wb.properties.title = "bench"
    buf = io.BytesIO()
    wb.save(buf)
    return len(buf.getvalue())

out = {"load_validate_s": t1 - t0, "tables_cells_s": t2 - t1, "cells": cells}
for name, fn in (("ours", ours), ("openpyxl", openpyxl_wo)):
    t = time.perf_counter()
    size = fn()
    out[name] = {"s": time.perf_counter() - t, "bytes": size}
print(json.dumps(out))
"""


def run_cli(inv: Path, fmt: str, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "govcloud", "inventory", "export", str(inv), "--format", fmt,
                    "--out", str(out), "--actor", "bench", "--reason", "bench_export"],
                   check=True, capture_output=True, cwd=REPO)
    dt = time.perf_counter() - t0
    subprocess.run([sys.executable, "-m", "govcloud", "inventory", "export", "--verify", str(out)],
                   check=True, capture_output=True, cwd=REPO)
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="province")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    from bench_inventory import ensure_inventory
    inv = ensure_inventory(a.scale, a.seed)
    xs, cs, ws = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        for r in range(a.rounds):
            x = run_cli(inv, "xlsx", Path(tmp) / "xlsx")
            size = (Path(tmp) / "xlsx" / "inventory.xlsx").stat().st_size
            c = run_cli(inv, "csv", Path(tmp) / "csv")
            p = subprocess.run([sys.executable, "-c", WRITERS, str(inv)], check=True, capture_output=True,
                               text=True, cwd=REPO)
            w = json.loads(p.stdout.strip().splitlines()[-1])
            print(f"round {r + 1}: govcloud export xlsx {x:6.2f} s ({size / 1e6:.1f} MB, verified)   "
                  f"csv {c:6.2f} s   writer only ({w['cells']:,} cells): ours {w['ours']['s']:.2f} s, "
                  f"openpyxl write-only {w['openpyxl']['s']:.2f} s   "
                  f"[load+validate {w['load_validate_s']:.2f} s, tables+cells {w['tables_cells_s']:.2f} s]",
                  flush=True)
            xs.append(x)
            cs.append(c)
            ws.append(w)
    x, c = statistics.median(xs), statistics.median(cs)
    wo = statistics.median(w["ours"]["s"] for w in ws)
    wp = statistics.median(w["openpyxl"]["s"] for w in ws)
    print(f"\n{a.scale}-{a.seed}, median of {a.rounds} round(s):")
    print(f"  govcloud inventory export --format xlsx  {x:6.2f} s   (goal < 30 s)")
    print(f"  govcloud inventory export --format csv   {c:6.2f} s   xlsx/csv = {x / c:.2f}")
    print(f"  XLSX writer alone, same {ws[0]['cells']:,} cells: ours {wo:.2f} s vs openpyxl write-only {wp:.2f} s "
          f"→ {wp / wo:.1f}× faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
