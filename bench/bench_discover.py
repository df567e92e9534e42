"""Host discovery: ``govcloud inventory discover`` vs ``ansible all -m setup`` on the same hosts.

    python bench/bench_discover.py                 # 50 harness hosts, 2 rounds, alternating
    python bench/bench_discover.py --rounds 3
    python bench/bench_discover.py --baseline /tmp/gc-old   # also an older checkout, same run
                                   # (git archive COMMIT | tar -x -C /tmp/gc-old)

Both run in fresh subprocesses (interpreter start-up included: the real ``python -m govcloud
inventory discover`` command), against the same real SSH test hosts (harness/README.md), in
the same run, alternating so both see the same load:

* govcloud at its defaults (utilisation window 2 s = 20 × 0.1 s, p95 + mean, plus load
  averages, PSI and the since-boot mean), and again with the former 3 s window:
  paramiko, ``--concurrency 50``, strict host-key checking, one read-only script per
  host: OS distribution/version, kernel, CPU arch/model/cores, RAM, filesystems + usage,
  listening ports + processes, established connections (→ dependency proposals), database
  engines, services (systemd or /etc/init.d), cron jobs, CPU/memory utilisation sampled over
  ``--sample-seconds`` — and writes observed/discovery.yaml. Its JSON summary gives the
  timeline printed below each round: inventory load, per-host connect (TCP + key exchange +
  auth) and script time, parse + write.
* govcloud ``--via ansible``: the same script and facts through ansible-runner (``-m raw``,
  OpenSSH, become), forks 50 — what the ansible transport costs for the same work.
* ansible: ``ansible all -i inventory.ini -m setup -f 50`` (OpenSSH, the harness ssh_config,
  StrictHostKeyChecking yes): OS, kernel, CPU, RAM, mounts + usage, interfaces, … — no
  listening ports, connections, databases, services, cron or utilisation (those would need
  further modules/tasks: service_facts, listen_ports_facts, shell…).

If the harness hosts are down, they are started (``harness/hosts up N --role webapp:2``) and
stopped again at the end; hosts that were already up are left as they were.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOSTS_DIR = Path(os.environ.get("GOVCLOUD_HARNESS_STATE", "/var/lib/govcloud-harness")) / "hosts"

def hosts_up(n: int) -> bool:
    p = subprocess.run([str(REPO / "harness" / "hosts"), "status", "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        return False
    return len(json.loads(p.stdout)["hosts"]) >= n


def make_inventory(root: Path, hosts: list[dict]) -> None:
    servers = "\n".join(f'  - {{id: {h["name"]}, hostname: {h["name"]}, mgmt_ip: {h["addr"]}, cores: 2, ram_gb: 4, '
                        f'os_distribution: debian}}' for h in hosts)
    systems = "\n".join(f'  - {{id: sys-{h["name"]}, name: 系统{h["name"]}, owner_org: org-a, '
                        f'network_zone: gov_extranet, servers: [{h["name"]}]}}' for h in hosts)
    root.mkdir(parents=True, exist_ok=True)
    (root / "inventory.yaml").write_text(
        'format_version: 1\ninventory: {name: bench, region: "441600", as_of: 2026-11-01}\n'
        'regions:\n  - {code: "441600", name: 河源市, level: prefecture}\n'
        'organizations:\n  - {id: org-a, name: 甲局, org_type: gov_component, region: "441600"}\n', encoding="utf-8")
    (root / "servers.yaml").write_text(f"format_version: 1\nservers:\n{servers}\nsystems:\n{systems}\n", encoding="utf-8")


def run_govcloud(inv: Path, n: int, sample_seconds: float | None, code: Path = REPO,
                 extra: tuple[str, ...] = ()) -> tuple[float, int, dict]:
    args = [sys.executable, "-m", "govcloud", "inventory", "discover", str(inv), *extra,
            "--ssh-config", str(HOSTS_DIR / "ssh_config"), "--known-hosts", str(HOSTS_DIR / "known_hosts"),
            "--concurrency", str(n), "-o", "json"]
    if sample_seconds is not None:
        args += ["--sample-seconds", f"{sample_seconds:g}"]
    env = dict(os.environ, PYTHONPATH=str(code))
    t0 = time.perf_counter()
    p = subprocess.run(args, capture_output=True, text=True, cwd=code, env=env)
    dt = time.perf_counter() - t0
    doc = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
    if not doc:
        print(p.stderr[-1500:], file=sys.stderr)
    return dt, p.returncode, doc


def timeline(doc: dict) -> str:
    s = doc.get("summary", {})
    tl = s.get("timeline")
    rs = doc.get("reached", [])
    if not tl or not rs or rs[0].get("connect_seconds") is None:
        return ""
    con = sorted(r["connect_seconds"] for r in rs)
    scr = sorted(r["script_seconds"] for r in rs)
    u = [((r.get("utilization") or {}).get("window_s") or 0) for r in rs]
    return (f"      timeline: load {tl['load']:.2f} s | hosts {tl['hosts']:.2f} s (connect med {statistics.median(con):.2f}"
            f" max {con[-1]:.2f}; script med {statistics.median(scr):.2f} max {scr[-1]:.2f}; window "
            f"{statistics.median(u):.2f} s) | parse+write {tl['parse_write']:.2f} s")


def run_ansible(n: int) -> tuple[float, int, int]:
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="True", ANSIBLE_RETRY_FILES_ENABLED="False")
    t0 = time.perf_counter()
    p = subprocess.run(["ansible", "all", "-i", str(HOSTS_DIR / "inventory.ini"), "-m", "setup", "-f", str(n), "-o"],
                       capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    ok = sum(1 for line in p.stdout.splitlines() if " | SUCCESS" in line)
    if ok == 0:
        print(p.stderr[-1500:], file=sys.stderr)
    return dt, p.returncode, ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline", type=Path, help="an older govcloud checkout to run too (its defaults), same run")
    a = ap.parse_args()
    started = False
    if not hosts_up(a.hosts):
        print(f"starting harness hosts: harness/hosts up {a.hosts} --role webapp:2", file=sys.stderr)
        subprocess.run([str(REPO / "harness" / "hosts"), "up", str(a.hosts), "--role", "webapp:2"], check=True)
        started = True
    try:
        hosts = json.loads((HOSTS_DIR / "hosts.json").read_text())
        if len(hosts) < a.hosts:
            raise SystemExit(f"need {a.hosts} hosts, harness has {len(hosts)}")
        n = len(hosts)
        times: dict[str, list[float]] = {"default": [], "3s": [], "ansible": [], "baseline": [], "via_ansible": []}
        with tempfile.TemporaryDirectory(prefix="bench-discover-") as tmp:
            inv = Path(tmp) / "inv"
            make_inventory(inv, hosts)
            if a.baseline:
                make_inventory(Path(tmp) / "inv-old", hosts)
            for r in range(a.rounds):
                gt, grc, doc = run_govcloud(inv, n, None)
                s = doc.get("summary", {})
                w = statistics.median([(x.get("utilization") or {}).get("window_s") or 0 for x in doc.get("reached", [])] or [0])
                print(f"round {r + 1}: govcloud discover (defaults)  {gt:6.2f} s  exit {grc}  reached "
                      f"{s.get('reached')}/{n}  (utilisation window {w:.2f} s)", flush=True)
                print(timeline(doc), flush=True)
                at, arc, ok = run_ansible(n)
                print(f"round {r + 1}: ansible -m setup -f {n}       {at:6.2f} s  exit {arc}  ok {ok}/{n}", flush=True)
                t3, rc3, doc3 = run_govcloud(inv, n, 3.0)
                print(f"round {r + 1}: govcloud --sample-seconds 3   {t3:6.2f} s  exit {rc3}  reached "
                      f"{doc3.get('summary', {}).get('reached')}/{n}", flush=True)
                print(timeline(doc3), flush=True)
                vt, vrc, vdoc = run_govcloud(inv, n, None, extra=("--via", "ansible"))
                print(f"round {r + 1}: govcloud --via ansible        {vt:6.2f} s  exit {vrc}  reached "
                      f"{vdoc.get('summary', {}).get('reached')}/{n}  (same script through ansible-runner, "
                      f"-f {n})", flush=True)
                times["via_ansible"].append(vt)
                times["default"].append(gt)
                times["ansible"].append(at)
                times["3s"].append(t3)
                if a.baseline:
                    bt, brc, bdoc = run_govcloud(Path(tmp) / "inv-old", n, None, code=a.baseline.resolve())
                    print(f"round {r + 1}: baseline {a.baseline} (its defaults) {bt:6.2f} s  exit {brc}  reached "
                          f"{bdoc.get('summary', {}).get('reached')}/{n}", flush=True)
                    times["baseline"].append(bt)
                if s.get("reached") != n or ok != n:
                    print("  WARNING: not every host answered in this round", file=sys.stderr)
        med = {k: statistics.median(v) for k, v in times.items() if v}
        an = med["ansible"]
        print(f"\n{n} hosts, median of {a.rounds} round(s), ansible -m setup -f {n}: {an:.2f} s")
        print(f"  govcloud, defaults (2 s window, 20 × 0.1 s)   {med['default']:6.2f} s  → {an / med['default']:.1f}× faster "
              f"(goal ≥ 5×)")
        print(f"  govcloud, --sample-seconds 3                  {med['3s']:6.2f} s  → {an / med['3s']:.1f}× faster")
        print(f"  govcloud --via ansible (same facts)           {med['via_ansible']:6.2f} s  → "
              f"{an / med['via_ansible']:.1f}× faster")
        if "baseline" in med:
            print(f"  baseline checkout, its defaults               {med['baseline']:6.2f} s  → {an / med['baseline']:.1f}× faster")
        print("govcloud collects: os distribution/version, kernel, cpu arch/model/cores, ram, filesystems+usage, "
              "listening ports+processes, established connections → dependency proposals, database engines, "
              "services, cron jobs, cpu/mem utilisation (p95 + mean over the window, load averages 1/5/15 min, "
              "PSI 10/60/300 s, mean since boot); writes observed/discovery.yaml")
        print("ansible setup collects: os, kernel, cpu, ram, mounts+usage, interfaces, env, … (no ports, "
              "connections, databases, services, cron or utilisation samples)")
    finally:
        if started:
            subprocess.run([str(REPO / "harness" / "hosts"), "down"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
