"""Host discovery: ``govcloud inventory discover`` vs ``ansible all -m setup`` on the same hosts.

    python bench/bench_discover.py                 # 50 harness hosts, 2 rounds, alternating
    python bench/bench_discover.py --rounds 3 --sample-seconds 3

Both run in fresh subprocesses (interpreter start-up included), against the same real SSH
test hosts (harness/README.md), in the same run, alternating so both see the same load:

* govcloud: paramiko, ``--concurrency 50``, strict host-key checking, one read-only script per
  host: OS distribution/version, kernel, CPU arch/model/cores, RAM, filesystems + usage,
  listening ports + processes, established connections (→ dependency proposals), database
  engines, services (systemd or /etc/init.d), cron jobs, CPU/memory utilisation sampled over
  ``--sample-seconds`` (p95) — and writes observed/discovery.yaml.
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

RUN_GOVCLOUD = r"""
import sys, typer
from govcloud.cli.discover import discover
app = typer.Typer(); app.command("discover")(discover); app.command("noop")(lambda: None)
app(["discover", *sys.argv[1:]])
"""


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


def run_govcloud(inv: Path, n: int, sample_seconds: float) -> tuple[float, int, dict]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN_GOVCLOUD, str(inv), "--ssh-config", str(HOSTS_DIR / "ssh_config"),
                        "--known-hosts", str(HOSTS_DIR / "known_hosts"), "--concurrency", str(n),
                        "--sample-seconds", str(sample_seconds), "-o", "json"],
                       capture_output=True, text=True, cwd=REPO)
    dt = time.perf_counter() - t0
    doc = json.loads(p.stdout) if p.stdout.strip().startswith("{") else {}
    return dt, p.returncode, doc


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
    ap.add_argument("--sample-seconds", type=float, default=3.0)
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
        g_times, a_times = [], []
        with tempfile.TemporaryDirectory(prefix="bench-discover-") as tmp:
            inv = Path(tmp) / "inv"
            make_inventory(inv, hosts)
            m_times = []
            for r in range(a.rounds):
                gt, grc, doc = run_govcloud(inv, n, a.sample_seconds)
                s = doc.get("summary", {})
                print(f"round {r + 1}: govcloud discover  {gt:6.2f} s  exit {grc}  reached {s.get('reached')}/{n}  "
                      f"(utilisation window {a.sample_seconds:g} s)")
                at, arc, ok = run_ansible(n)
                print(f"round {r + 1}: ansible -m setup   {at:6.2f} s  exit {arc}  ok {ok}/{n}")
                mt, mrc, mdoc = run_govcloud(inv, n, 0)
                print(f"round {r + 1}: govcloud discover  {mt:6.2f} s  exit {mrc}  reached "
                      f"{mdoc.get('summary', {}).get('reached')}/{n}  (--sample-seconds 0: minimal 0.5 s window)")
                g_times.append(gt)
                a_times.append(at)
                m_times.append(mt)
                if s.get("reached") != n or ok != n:
                    print("  WARNING: not every host answered in this round", file=sys.stderr)
        g, an, mn = statistics.median(g_times), statistics.median(a_times), statistics.median(m_times)
        print(f"\n{n} hosts, median of {a.rounds} round(s): ansible -m setup {an:.2f} s; govcloud {g:.2f} s with a "
              f"{a.sample_seconds:g} s utilisation window → {an / g:.1f}× faster; govcloud {mn:.2f} s with the "
              f"minimal 0.5 s window → {an / mn:.1f}× faster (goal ≥ 5×)")
        print("govcloud collects: os distribution/version, kernel, cpu arch/model/cores, ram, filesystems+usage, "
              "listening ports+processes, established connections → dependency proposals, database engines, "
              "services, cron jobs, cpu/mem utilisation p95 over the sample window; writes observed/discovery.yaml")
        print("ansible setup collects: os, kernel, cpu, ram, mounts+usage, interfaces, env, … (no ports, "
              "connections, databases, services, cron or utilisation)")
    finally:
        if started:
            subprocess.run([str(REPO / "harness" / "hosts"), "down"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
