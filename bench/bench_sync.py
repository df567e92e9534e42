"""Data-sync throughput: the govcloud_sync role (playbooks/migrate_sync.yml) vs plain ``rsync -a``
over the same kind of SSH link, same hosts, same data, same run.

    python bench/bench_sync.py                      # 1024 MiB of mixed files, h43 -> h44, 2 rounds
    python bench/bench_sync.py --size-mb 2048 --rounds 3
    python bench/bench_sync.py --ssh-compress       # keep Ansible's default ssh -C on the link

The link is the one migration uses (source and target cannot reach each other; the controller can
reach both): the target pulls from its source through a reverse tunnel on the controller's SSH
connection to the target (-R 127.0.0.1:PORT:SOURCE:22, ForwardAgent=yes), inner ssh with strict
host-key checking.  Data: half in 8 large files, ~35 % in 1 MiB files, ~15 % in 8 KiB files,
random (incompressible) bytes, generated on the source (a test host, h43 by default; hosts
h40-h47 are reserved for migration tests).

* govcloud: ``migrate_sync.yml`` (initial) into an empty target path — rsync -aHAX --numeric-ids
  --delete with sudo on both ends; the figure is the rsync task's own duration on the target
  (data transfer), the playbook's wall time (Ansible overhead included) is printed beside it.
* peer: ``rsync -a`` on the target through the same tunnel — literally: one ssh master connection
  to the target (ControlPath) carries the -R tunnel and the agent for both, Ansible reuses it —
  timed on the target around rsync.

The link's outer ssh runs without compression (``ansible_ssh_args: -o ControlMaster=auto -o
ControlPersist=60s`` on target hosts, as the orchestrator should set it): Ansible's default ``-C``
compresses the forwarded data stream on the controller, which costs far more CPU than it saves
on a LAN (random data through -C measured 4-20 MiB/s vs 30-80 without, same run).
``--ssh-compress`` measures both sides with it.

Rounds alternate peer / govcloud into fresh directories so both see the same load and caches.
Needs the harness test hosts (harness/hosts up 50 --role webapp:2) and root for nothing else.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from migrate_helpers import HSTATE, PLAYBOOKS, host_vars, runner_inventory, ssh, start_agent  # noqa: E402

from govcloud.drivers.ansible import run_playbook  # noqa: E402

GEN = r"""
import os, sys
root, total = sys.argv[1], int(sys.argv[2]) << 20
os.makedirs(root + '/large', exist_ok=True); os.makedirs(root + '/medium', exist_ok=True)
big = total // 2 // 8
for i in range(8):
    with open(f'{root}/large/f{i:02d}.bin', 'wb') as f:
        for _ in range(big >> 20): f.write(os.urandom(1 << 20))
for i in range(total * 35 // 100 >> 20):
    open(f'{root}/medium/m{i:05d}.bin', 'wb').write(os.urandom(1 << 20))
n = total * 15 // 100 // 8192
for i in range(n):
    d = f'{root}/small/d{i // 500:03d}'
    if i % 500 == 0: os.makedirs(d, exist_ok=True)
    open(f'{d}/s{i:06d}.dat', 'wb').write(os.urandom(8192))
print(sum(os.path.getsize(os.path.join(r, x)) for r, _, fs in os.walk(root) for x in fs), n + 8 + (total * 35 // 100 >> 20))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default="h43")
    ap.add_argument("--target", default="h44")
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--ssh-compress", action="store_true", help="links with Ansible's default ssh -C")
    ap.add_argument("--keep", action="store_true", help="keep the generated data on the source")
    a = ap.parse_args()
    addr = {h: f"198.18.1.{int(h[1:])}" for h in (a.source, a.target)}
    data = "/srv/govbench"
    tmp = Path(tempfile.mkdtemp(prefix="govcloud-bench-sync-"))
    inv = runner_inventory(tmp / "inventory.yml", {a.source: addr[a.source]}, {a.target: (addr[a.target], a.source)}, {},
                           tunnel_base=23000)
    ssh_args = "-C -o ControlMaster=auto -o ControlPersist=60s" if a.ssh_compress else "-o ControlMaster=auto -o ControlPersist=60s"
    if not a.ssh_compress:
        doc = yaml.safe_load(inv.read_text())
        doc["all"]["children"]["target"]["hosts"][a.target]["ansible_ssh_args"] = ssh_args
        inv.write_text(yaml.safe_dump(doc, sort_keys=False))
    agent = start_agent(HSTATE / "id_ed25519")
    env = {**os.environ, **agent.envvars}
    ev = {"govcloud_plan_id": "bench", "govcloud_system_id": "bench", "govcloud_data_paths": [data],
          "govcloud_services": [], "govcloud_databases": [], "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0}
    try:
        print(f"generating {a.size_mb} MiB of mixed files on {a.source}:{data} ...", flush=True)
        ssh(a.source, f"sudo -n rm -rf {data} /srv/govbench-peer")
        out = ssh(a.source, f"sudo -n python3 -c {shlex.quote(GEN)} {data} {a.size_mb}", timeout=1800).stdout.decode().split()
        nbytes, nfiles = int(out[0]), int(out[1])
        print(f"  {nbytes / 2**20:.0f} MiB in {nfiles} files")
        ours, peer, walls = [], [], []
        # ONE ssh connection to the target carries the tunnel for both sides: opened here, reused by
        # Ansible (same ControlPath) and by the peer's ssh
        port = 23000 + int(addr[a.target].rsplit(".", 1)[1])
        cpath = f"{agent.cp_dir}/%h-%p-%r"
        hv = host_vars(addr[a.target])
        base = ["ssh", "-o", f"ControlPath={cpath}"] + shlex.split(hv["ansible_ssh_common_args"])
        master = (base + shlex.split(ssh_args.replace("ControlMaster=auto", "ControlMaster=yes").replace("60s", "900s"))
                  + ["-fN", "-o", "ForwardAgent=yes", "-R", f"127.0.0.1:{port}:{addr[a.source]}:22", f"govcloud@{addr[a.target]}"])
        subprocess.run(master, check=True, env=env, timeout=60)
        runner_env = {**agent.envvars, "ANSIBLE_SSH_CONTROL_PATH": cpath.replace("%", "%%")}
        inner = (f"ssh -p {port} -l govcloud -o HostKeyAlias={a.source} "
                 f"-o UserKnownHostsFile=/var/lib/govcloud/migrate/known_hosts.{a.source} -o StrictHostKeyChecking=yes "
                 f"-o BatchMode=yes -o Compression=no")
        r = run_playbook(PLAYBOOKS / "migrate_precheck.yml", inv, extravars=ev, envvars=runner_env,
                         private_data_dir=tmp / "precheck")     # also writes the known_hosts file both use
        if not r.ok:
            print("precheck failed:", r.failed_tasks)
            return 1

        def fresh(path: str) -> None:
            # empty destination, and the deletion's writeback done before the clock starts (else the
            # run after an `rm -rf` of 1 GB pays for it: the first of each pair was up to 2x slower)
            ssh(a.target, f"sudo -n rm -rf {path} && sync")

        def run_peer() -> float:
            fresh("/srv/govbench-peer")
            remote = (f"s=$(date +%s.%N); sudo -n env SSH_AUTH_SOCK=$SSH_AUTH_SOCK rsync -a -e {shlex.quote(inner)} "
                      f"127.0.0.1:{data}/ /srv/govbench-peer/ && e=$(date +%s.%N) && echo \"$s $e\"")
            p = subprocess.run(base + ["-o", "ControlMaster=no", f"govcloud@{addr[a.target]}", remote],
                               capture_output=True, text=True, env=env, timeout=3600)
            if p.returncode != 0:
                raise RuntimeError("peer rsync failed: " + p.stderr[-2000:])
            s, e = map(float, p.stdout.split()[-2:])
            return e - s

        def run_ours(rnd: int) -> tuple[float, float]:
            fresh(data)
            t0 = time.monotonic()
            r = run_playbook(PLAYBOOKS / "migrate_sync.yml", inv, extravars=ev, envvars=runner_env,
                             private_data_dir=tmp / f"sync-{rnd}", timeout=3600)
            wall = time.monotonic() - t0
            if not r.ok:
                raise RuntimeError(f"govcloud sync failed: {r.failed_tasks}")
            h, m, sec = re.search(r"in (\d+):(\d+):([\d.]+)", "\n".join(r.messages.get(a.target, []))).groups()
            return int(h) * 3600 + int(m) * 60 + float(sec), wall

        for rnd in range(1, a.rounds + 1):
            if rnd % 2:                     # alternate who goes first
                tp = run_peer(); to, wall = run_ours(rnd)
            else:
                to, wall = run_ours(rnd); tp = run_peer()
            peer.append(nbytes / tp)
            ours.append(nbytes / to)
            walls.append(wall)
            print(f"round {rnd}: rsync -a {peer[-1] / 2**20:7.1f} MiB/s ({tp:6.1f} s) | govcloud_sync "
                  f"{ours[-1] / 2**20:7.1f} MiB/s ({to:6.1f} s transfer, {wall:6.1f} s playbook) | ratio {ours[-1] / peer[-1]:.0%}",
                  flush=True)
        o, pp = statistics.median(ours), statistics.median(peer)
        print(f"\n{'':22}{'MiB/s':>10}")
        print(f"{'plain rsync -a':22}{pp / 2**20:10.1f}")
        print(f"{'govcloud_sync (role)':22}{o / 2**20:10.1f}   (playbook wall, median {statistics.median(walls):.1f} s "
              f"= {nbytes / statistics.median(walls) / 2**20:.1f} MiB/s end to end)")
        ratios = [x / y for x, y in zip(ours, peer)]
        print(f"{'ratio govcloud/peer':22}{o / pp:10.0%}   of the medians; median of the per-round ratios "
              f"{statistics.median(ratios):.0%} (rounds {', '.join(f'{r:.0%}' for r in ratios)}; goal >= 90 %)")
        print(f"data {nbytes / 2**20:.0f} MiB, {nfiles} files, {a.source} -> {a.target}, link: reverse tunnel over ssh "
              f"{'with' if a.ssh_compress else 'without'} -C, rounds {a.rounds}, load {os.getloadavg()[0]:.1f}")
        return 0
    finally:
        ssh(a.target, f"sudo -n rm -rf {data} /srv/govbench-peer /var/lib/govcloud", check=False)
        if not a.keep:
            ssh(a.source, f"sudo -n rm -rf {data}", check=False)
        agent.stop()


if __name__ == "__main__":
    sys.exit(main())
