"""RVTools import of 10,000 VMs: govcloud's XLSX reader and parser vs openpyxl and csv on the same data.

    python bench/bench_import.py              # 2 rounds
    python bench/bench_import.py --rounds 3 --vms 10000

The workbook is generated once (openpyxl write-only) and cached in bench/out/: vInfo with all 90
columns of RVTools 4.7.1.4, vDisk (2 disks per VM, 40 columns), vNetwork (1 NIC per VM, 27
columns), vPartition (1 per VM) and vHost (50 hosts); the same sheets are also written as CSV.
Every measurement runs in a fresh subprocess (interpreter start-up and imports included), in
the same run, alternating, so they share the machine's load:

* ``xlsxread rows`` — govcloud's own XLSX reader (govcloud/interchange/xlsxread.py) reading
  every cell of the four sheets, values touched, no records built: the same work as the peer.
* ``openpyxl iter_rows`` — the peer: ``load_workbook(read_only=True, data_only=True)`` and
  ``iter_rows(values_only=True)`` over the same four sheets.
* ``csv.reader`` — the same four sheets as CSV files read with the standard library: the
  floor, what the data costs when the spreadsheet container costs nothing.
* ``govcloud rvtools.parse`` — ``govcloud.interchange.rvtools.parse(FILE)``: safe open (zip
  check, hash), header matching, all sheets joined into 10,000 server records. Goal < 10 s.
* ``govcloud inventory import --format rvtools --dry-run`` — the whole command into a copy of
  inventories/heyuan (load, parse, change set, validation of the inventory as it would be,
  nothing written). Goal < 10 s.

Wall clock and CPU seconds (user + system of the child) are both printed: on a shared machine
the wall clock includes waiting for a core, the CPU figure does not.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
HEADERS = ROOT.parent / "shared" / "data" / "rvtools-headers" / "rvtools-headers.json"
SHEETS = ("vInfo", "vDisk", "vNetwork", "vPartition")
VMS = 10_000


def _headers() -> dict[str, list[str]]:
    tabs = json.loads(HEADERS.read_text())["rvtools_4.7.1.4_full_export_27_tabs"]["tabs"]
    return {k: tabs[k] for k in ("vInfo", "vDisk", "vNetwork", "vPartition", "vHost")}


def _value(header: str, sheet: str, i: int, n: int = 0) -> object:
    vm = f"vm{i:05d}"
    uuid = f"4201{i:04x}-0000-4000-8000-{i:012x}"
    common = {"VM": vm, "Powerstate": "poweredOn", "Template": "False", "SRM Placeholder": "False",
              "VM UUID": uuid, "VM ID": f"vm-{1000 + i}", "VI SDK Server": "vc01.gov.test",
              "VI SDK UUID": "6c1f0000-0000-4000-8000-000000000001", "Datacenter": "DC-Heyuan",
              "Cluster": f"CL{i % 8}", "Host": f"esx{i % 50:02d}.gov.test", "Folder": "/gov/apps",
              "OS according to the configuration file": "CentOS 7 (64-bit)",
              "OS according to the VMware Tools": ("CentOS 7 (64-bit)" if i % 3 else
                                                   "Microsoft Windows Server 2012 R2 (64-bit)"),
              "Annotation": f"河源市政务系统 {i % 97}"}
    if header in common:
        return common[header]
    if sheet == "vInfo":
        return {"DNS Name": f"{vm}.gov.test", "CPUs": 2 + i % 15, "Memory": 4096 * (1 + i % 8), "NICs": 1,
                "Disks": 2, "Primary IP Address": f"198.18.{i // 250}.{i % 250 + 1}",
                "Provisioned MiB": 153600 + i, "In Use MiB": 80000 + i, "Unshared MiB": 70000,
                "Total disk capacity MiB": 153600, "Network #1": "VLAN-110", "Firmware": "bios",
                "HW version": 14, "Creation date": "2019-03-01 10:00:00"}.get(header, f"x{i % 7}")
    if sheet == "vDisk":
        return {"Disk": f"Hard disk {n + 1}", "Disk Key": 2000 + n, "Capacity MiB": 51200 if n == 0 else 102400,
                "Thin": "True", "Disk Mode": "persistent", "Controller": "SCSI controller 0"}.get(header, f"d{n}")
    if sheet == "vNetwork":
        return {"NIC label": "Network adapter 1", "Network": "VLAN-110", "Mac Address": f"00:50:56:00:{i // 256 % 256:02x}:{i % 256:02x}",
                "IPv4 Address": f"198.18.{i // 250}.{i % 250 + 1}", "Connected": "True",
                "Adapter": "vmxnet3"}.get(header, "n")
    if sheet == "vPartition":
        return {"Disk Key": 2000, "Disk": "/", "Capacity MiB": 51000, "Consumed MiB": 20000 + i % 1000,
                "Free MiB": 31000, "Free %": 60}.get(header, "p")
    return None


def generate(path: Path, vms: int) -> None:
    from openpyxl import Workbook
    hdr = _headers()
    wb = Workbook(write_only=True)
    csv_dir = path.with_suffix("")
    csv_dir.mkdir(parents=True, exist_ok=True)
    for sheet in ("vInfo", "vDisk", "vNetwork", "vPartition"):
        ws = wb.create_sheet(sheet)
        heads = hdr[sheet]
        ws.append(heads)
        with (csv_dir / f"{sheet}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(heads)
            per = 2 if sheet == "vDisk" else 1
            for i in range(vms):
                for n in range(per):
                    row = [_value(h, sheet, i, n) for h in heads]
                    ws.append(row)
                    w.writerow(row)
    ws = wb.create_sheet("vHost")
    ws.append(hdr["vHost"])
    for h in range(50):
        ws.append([{"Host": f"esx{h:02d}.gov.test", "CPU Model": "Hygon C86 7285 32-core Processor", "# CPU": 2,
                    "# Cores": 64, "# Memory": 524288, "ESX Version": "VMware ESXi 7.0.3"}.get(x, "h")
                   for x in hdr["vHost"]])
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    _add_dimensions(tmp, path, {"vInfo": (len(hdr["vInfo"]), vms + 1), "vDisk": (len(hdr["vDisk"]), 2 * vms + 1),
                                "vNetwork": (len(hdr["vNetwork"]), vms + 1),
                                "vPartition": (len(hdr["vPartition"]), vms + 1), "vHost": (len(hdr["vHost"]), 51)})
    tmp.unlink()


def _add_dimensions(src: Path, dst: Path, sizes: dict[str, tuple[int, int]]) -> None:
    """RVTools writes a <dimension> element on every sheet; openpyxl's write-only mode does not, and
    openpyxl's reader then parses a whole sheet just to size it. Add it, so the file is read as a
    real RVTools export is (by us and by the peer alike)."""
    import re
    import zipfile
    from openpyxl.utils import get_column_letter
    order = list(sizes)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m and int(m.group(1)) <= len(order) and b"<dimension" not in data[:2000]:
                cols, rows = sizes[order[int(m.group(1)) - 1]]
                dim = f'<dimension ref="A1:{get_column_letter(cols)}{rows}"/>'.encode()
                at = min(i for i in (data.find(b"<sheetViews"), data.find(b"<sheetFormatPr"), data.find(b"<cols"),
                                     data.find(b"<sheetData")) if i > 0)
                data = data[:at] + dim + data[at:]
            zout.writestr(info, data)


GOVCLOUD = """
import sys, time
t = time.perf_counter()
from govcloud.interchange import rvtools
r = rvtools.parse(sys.argv[1])
assert len(r.records) == int(sys.argv[2]), (len(r.records), r.problems[:3])
assert not r.errors, r.errors[:3]
print(time.perf_counter() - t)
"""

XLSXREAD = """
import sys, time
t = time.perf_counter()
from govcloud.interchange.xlsxread import Workbook
wb = Workbook(sys.argv[1])
n = 0
for name in %r:
    for _, vals in wb.sheet(name).rows():
        for v in vals.values():
            if v is not None:
                n += 1
wb.close()
assert n > 0
print(time.perf_counter() - t)
""" % (SHEETS,)

OPENPYXL = """
import sys, time
t = time.perf_counter()
from openpyxl import load_workbook
wb = load_workbook(sys.argv[1], read_only=True, data_only=True)
n = 0
for name in %r:
    ws = wb[name]
    for row in ws.iter_rows(values_only=True):
        for v in row:
            if v is not None:
                n += 1
wb.close()
assert n > 0
print(time.perf_counter() - t)
""" % (SHEETS,)

CSVREAD = """
import csv, sys, time
from pathlib import Path
t = time.perf_counter()
n = 0
for name in %r:
    with (Path(sys.argv[1]) / (name + ".csv")).open(newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            for v in row:
                if v:
                    n += 1
assert n > 0
print(time.perf_counter() - t)
""" % (SHEETS,)


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _timed(argv: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, subprocess.CompletedProcess]:
    cpu0, started = _child_cpu(), time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.perf_counter() - started, _child_cpu() - cpu0
    if proc.returncode not in ok:
        raise SystemExit(f"failed (rc={proc.returncode}): {' '.join(argv[:4])} …\n{proc.stderr[-2000:]}")
    return wall, cpu, proc


def _run(code: str, *args: str) -> tuple[float, float]:
    wall, cpu, _ = _timed([sys.executable, "-c", code, *args])
    return wall, cpu


def _cli(xlsx: Path, inv: Path) -> tuple[float, float]:
    wall, cpu, proc = _timed([sys.executable, "-m", "govcloud", "inventory", "import", "--format", "rvtools",
                              str(xlsx), "--into", str(inv), "--dry-run", "--output", "json"], ok=(0, 1))
    out = json.loads(proc.stdout)
    assert out["ok"] and out["summary"]["create"] + out["summary"]["observe"] == VMS, out["summary"]
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vms", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-peer", action="store_true", help="leave out openpyxl (the slowest, ~45 s a round)")
    args = ap.parse_args()
    global VMS
    VMS = args.vms
    OUT.mkdir(parents=True, exist_ok=True)
    xlsx = OUT / f"rvtools-{args.vms}.xlsx"
    if not xlsx.exists():
        print(f"generating {xlsx} …", flush=True)
        t = time.perf_counter()
        generate(xlsx, args.vms)
        print(f"  {time.perf_counter() - t:.1f} s, {xlsx.stat().st_size / 2**20:.1f} MiB")
    csv_dir = xlsx.with_suffix("")
    inv_tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    inv = inv_tmp / "heyuan"
    shutil.copytree(ROOT / "inventories" / "heyuan", inv, ignore=shutil.ignore_patterns(".govcloud"))
    PARSE, OURS, PEER, FLOOR, CLI = ("govcloud rvtools.parse (10,000 records)", "xlsxread rows (ours)",
                                     "openpyxl iter_rows (peer)", "csv.reader, same sheets as CSV (floor)",
                                     "govcloud inventory import --dry-run")
    runs = {OURS: lambda: _run(XLSXREAD, str(xlsx)), PEER: lambda: _run(OPENPYXL, str(xlsx)),
            FLOOR: lambda: _run(CSVREAD, str(csv_dir)), PARSE: lambda: _run(GOVCLOUD, str(xlsx), str(args.vms)),
            CLI: lambda: _cli(xlsx, inv)}
    if args.skip_peer:
        del runs[PEER]
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    try:
        for r in range(args.rounds):
            for k, fn in runs.items():
                results[k].append(fn())
            print(f"round {r + 1}: " + ", ".join(f"{k.split(' (')[0]} {v[-1][0]:.2f}s" for k, v in results.items()),
                  flush=True)
    finally:
        shutil.rmtree(inv_tmp, ignore_errors=True)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
    print(f"\nRVTools import, {args.vms:,} VMs ({xlsx.stat().st_size / 2**20:.1f} MiB; sheets {', '.join(SHEETS)}, "
          f"vHost), median of {args.rounds}, fresh process each (interpreter start-up included); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    peer = med.get(PEER)
    floor = med[FLOOR]
    print(f"  {'':42s} {'wall s':>7s} {'CPU s':>7s}  {'peer/this (CPU)':>15s}  {'this/floor (CPU)':>16s}")
    for k, (w, c) in med.items():
        vs_peer = f"{peer[1] / c:14.1f}×" if peer else f"{'-':>15s}"
        print(f"  {k:42s} {w:7.2f} {c:7.2f}  {vs_peer}  {c / floor[1]:15.1f}×")
    for k in (PARSE, CLI):
        w, c = med[k]
        print(f"  goal {k.split(' (')[0]} < 10 s: wall {w:.2f} s → {'met' if w < 10 else 'NOT met'}; "
              f"CPU {c:.2f} s → {'met' if c < 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
