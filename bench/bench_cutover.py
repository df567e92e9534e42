"""Cutover downtime and acknowledged writes lost, on the harness (issue 14).

    flock /tmp/govcloud-harness.lock python3 bench/bench_cutover.py              # ≈100 MB and ≈1 GB
    flock /tmp/govcloud-harness.lock python3 bench/bench_cutover.py --quick --output json

Per database size: the source (h18 by default) runs the sample workload plus a bulk table of that
size; the target (h19) is synced (configure + initial sync); then an application writer (the
database's own account, INSERTs and UPDATEs, tests/integration/cutover_writer.py) runs while
`migrate_cutover.yml` runs, exactly as `govcloud migrate cutover` runs it.  Reported per run:

* ``downtime_s``   what the client (h20) saw: the prober the cutover playbook starts requests the
                   health URL through the cutover record, from the first failed request to the
                   first healthy answer from the target;
* ``rows_lost``    writes the writer counted as acknowledged by the source that are not on the
                   target afterwards (inserted ids missing, updates whose value is not there);
* ``acknowledged`` acknowledged writes, ``cutover_s`` the playbook's wall time, ``db_mb`` the
                   source database size (pg_database_size).

Methods, side by side per size: ``dump`` (dump/restore inside the window, the writers stopped and
the database closed first) and ``replication`` (PostgreSQL logical replication set up by the sync;
the cutover closes the source, waits for a marker row on the target, carries sequences, compares
counts and checksums).  The method is decided as `migrate run` decides it
(govcloud.migrate.replication from the facts playbook); the bench prepares the source for logical
replication first (wal_level=logical, listen_addresses='*': one restart, put back at the end).  A
replication run the decision refuses is reported with the reason instead of figures.  Each run
ends with migrate_rollback.yml so the next starts from a serving source.

The record (``--record``): ``dns`` (default) is govapp-bench.gov.test on the harness BIND, switched
as `govcloud migrate cutover` switches it — migrate_cutover.yml with the record external, then the
TSIG-signed compare-and-swap update (drivers/switching.DnsSwitch), then migrate_switched.yml, whose
prober reports the downtime; the client resolves through that BIND.  ``hosts`` runs
migrate_cutover.yml on its own, which switches the clients' /etc/hosts in its last play.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from cutover_writer import Writer, lost, setup_pg, target_rows  # noqa: E402
from migrate_helpers import Migration, ssh  # noqa: E402

from govcloud.migrate import replication as R  # noqa: E402

PLAN, SYSTEM = "bench-cutover", "govapp-bench"
PREPARE = ("cd / && runuser -u postgres -- psql -Xq -d postgres -c \"alter system set wal_level = logical\" "
           "-c \"alter system set listen_addresses = '*'\" && /etc/init.d/postgresql restart >/dev/null")
UNPREPARE = ("cd / && runuser -u postgres -- psql -Xq -d postgres -c \"alter system reset wal_level\" "
             "-c \"alter system reset listen_addresses\" && /etc/init.d/postgresql restart >/dev/null")

RECORD = "govapp-bench.gov.test"


def _psql(host: str, sql: str, db: str = "govapp") -> str:
    import shlex
    return ssh(host, f"cd / && sudo -n -u postgres psql -XqAt -d {db} -c " + shlex.quote(sql), timeout=3600
               ).stdout.decode().strip()


def _bulk(host: str, mb: int) -> float:
    """A bulk table making the database about ``mb`` MB; returns the database's size in MB."""
    rows = max(1, int(mb * 1024 * 1024 / 600))
    _psql(host, "drop table if exists bench_bulk")
    _psql(host, "create table bench_bulk (id bigint primary key, body text not null); "
                "alter table bench_bulk owner to govapp")
    _psql(host, f"insert into bench_bulk select g, repeat(md5(g::text), 16) from generate_series(1, {rows}) g")
    return int(_psql(host, "select pg_database_size('govapp')")) / 1048576


def _downtime(msgs: list[str]) -> float | None:
    for m in msgs:
        hit = re.match(r"downtime \S+: ([\d.]+) s seen from", m)
        if hit:
            return float(hit.group(1))
    return None


def run(args: argparse.Namespace) -> list[dict]:
    src, tgt, cli = args.source, args.target, args.client
    addr = {h: f"198.18.1.{h[1:]}" for h in (src, tgt, cli)}
    extravars = {
        "govcloud_plan_id": PLAN, "govcloud_system_id": SYSTEM,
        "govcloud_data_paths": ["/srv/govapp", "/etc/nginx/sites-enabled"],
        "govcloud_services": [{"name": "nginx", "port": 80, "health_path": "/api/stats.json"},
                              {"name": "postgresql", "port": 5432, "health_path": None}],
        "govcloud_databases": [{"engine": "postgresql", "name": "govapp"}],
        "govcloud_cutover_record": {"name": RECORD, "kind": args.record, "clients": [cli]},
        "govcloud_record_external": args.record == "dns",
        "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
        "govcloud_apply_baseline": False,
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-cutover-"))
    m = Migration(tmp, src, tgt, cli, addr, extravars["govcloud_data_paths"], extravars)
    runs: list[dict] = []

    def log(msg: str) -> None:
        print(f"[bench_cutover] {msg}", file=sys.stderr, flush=True)

    def play(name: str, **kw):
        r = m.play(name, source_may_change=True, **kw)
        if not r.ok and name not in ("migrate_cutover", "migrate_switched"):
            raise SystemExit(f"{name} failed: {json.dumps(r.failed_tasks, ensure_ascii=False)[:2000]}")
        return r

    dns = None
    if args.record == "dns":
        from govcloud.drivers.switching import DnsSwitch
        dns = DnsSwitch(RECORD, "gov.test", args.dns, Path(args.tsig_key))

    def point_dns(to: str) -> None:
        """The record → ``to`` (compare-and-swap from whatever it holds now, as the bench owns it)."""
        if dns is not None:
            dns.switch(dns.read().values, (addr[to],), ttl=5)

    try:
        point_dns(src)
        ssh(tgt, "sudo -n sh -c '/etc/init.d/nginx stop; /etc/init.d/postgresql start; cd / && runuser -u postgres -- "
                 "psql -qc \"drop database if exists govapp\"; rm -rf /srv/govapp /var/lib/govcloud' >/dev/null 2>&1; true")
        ssh(cli, f"sudo -n sed -i '/{RECORD}/d' /etc/hosts")
        ssh(src, "sudo -n sh -c '/etc/init.d/postgresql start; rm -rf /var/lib/govcloud'; cd / && sudo -n -u postgres "
                 "psql -qc 'alter database govapp connection limit -1' >/dev/null 2>&1; true")
        play("sample_workload", limit=src, govcloud_data_paths=[])
        setup_pg(src)
        play("migrate_configure")
        if "replication" in args.methods:
            ssh(src, "sudo -n sh -c " + shlex.quote(PREPARE))

        def methods(method: str) -> tuple[list[dict], list[R.MethodDecision]]:
            if method == "dump":
                dec = [R.decide("postgresql", "govapp", None, enabled=False)]
            else:   # as `migrate run` decides: the facts playbook, then replication.decide
                r = play("migrate_repl_facts", govcloud_db_methods=[])
                dec = R.decide_all([("postgresql", "govapp")], R.facts_from_messages(r.messages))
            return R.methods_extravar(dec, plan_id=PLAN, system=SYSTEM, replicated_before={"postgresql/govapp"}), dec

        for mb in args.sizes:
            for method in args.methods:
                log(f"{method} ≈{mb} MB: preparing")
                db_mb = _bulk(src, mb)
                _psql(src, "truncate cutover_probe")
                ev, dec = methods(method)
                if ev[0]["method"] != method:
                    runs.append({"method": method, "db_mb": round(db_mb, 1), "downtime_s": None, "rows_lost": None,
                                 "skipped": f"decided {dec[0].method.value}: {dec[0].why('en')}"})
                    continue
                t = time.time()
                play("migrate_sync", govcloud_sync_mode="initial", govcloud_db_methods=ev)
                sync_s = time.time() - t
                w = Writer(src, seconds=3000).start()
                time.sleep(args.warmup)
                log(f"{method} {db_mb:.0f} MB: cutover with the writer running")
                load = os.getloadavg()[0]
                t = time.time()
                r = play("migrate_cutover", govcloud_db_methods=ev)
                if dns is not None and r.ok:
                    # as the executor does after the cutover playbook: the switch, then the prober's report
                    dns.switch((addr[src],), (addr[tgt],))
                    r2 = play("migrate_switched", govcloud_db_methods=ev)
                    r2.messages = {h: r.messages.get(h, []) + r2.messages.get(h, [])
                                   for h in set(r.messages) | set(r2.messages)}
                    r = r2
                cutover_s = time.time() - t
                res = w.stop()
                rows = target_rows(tgt) if r.ok else {}
                missing = lost(res, rows) if r.ok else None
                runs.append({
                    "method": method, "db_mb": round(db_mb, 1), "ok": r.ok,
                    "downtime_s": _downtime(r.messages.get(cli, [])), "rows_lost": len(missing) if missing is not None else None,
                    "acknowledged": w.acknowledged, "writes_refused": res.get("failed"),
                    "cutover_s": round(cutover_s, 1), "initial_sync_s": round(sync_s, 1),
                    # the machine's 1-minute load average when the cutover started (2 cores, shared):
                    # every Ansible task of the window slows with it
                    "load": round(load, 1),
                    "error": None if r.ok else json.dumps(r.failed_tasks, ensure_ascii=False)[:500]})
                log(json.dumps(runs[-1], ensure_ascii=False))
                play("migrate_rollback", govcloud_db_methods=ev)
                point_dns(src)
    finally:
        try:
            ssh(src, "touch /tmp/cutover-writer.stop", check=False)
            _psql(src, "drop table if exists bench_bulk")
            if "replication" in args.methods:
                ssh(src, "sudo -n sh -c " + shlex.quote(UNPREPARE), check=False)
        finally:
            m.agent.stop()
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (≈10 and ≈50 MB) for a fast run")
    ap.add_argument("--sizes", type=int, nargs="*", help="database sizes in MB (default 100 1024)")
    ap.add_argument("--methods", nargs="*", default=["dump", "replication"], choices=["dump", "replication"])
    ap.add_argument("--source", default="h18")
    ap.add_argument("--target", default="h19")
    ap.add_argument("--client", default="h20")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds the writer writes before the cutover")
    ap.add_argument("--record", choices=["dns", "hosts"], default="dns",
                    help="the cutover record: dns on the harness BIND (as migrate cutover switches it) or the "
                         "clients' /etc/hosts")
    ap.add_argument("--dns", default="198.18.0.1:53", help="the harness BIND (for --record dns)")
    ap.add_argument("--tsig-key", default="/var/lib/govcloud-harness/netsvc/tsig.key",
                    help="the harness TSIG key file (for --record dns)")
    ap.add_argument("--output", choices=["text", "json"], default="text")
    args = ap.parse_args()
    args.sizes = args.sizes or ([10, 50] if args.quick else [100, 1024])
    runs = run(args)
    if args.output == "json":
        print(json.dumps(runs, ensure_ascii=False, indent=1))
        return
    print(f"{'method':<12}{'db MB':>8}{'downtime s':>12}{'rows lost':>10}{'acked':>8}{'cutover s':>11}{'load':>6}")
    for r in runs:
        if r.get("skipped"):
            print(f"{r['method']:<12}{r['db_mb']:>8}  {r['skipped']}")
            continue
        print(f"{r['method']:<12}{r['db_mb']:>8}{r['downtime_s'] if r['downtime_s'] is not None else '-':>12}"
              f"{r['rows_lost'] if r['rows_lost'] is not None else '-':>10}{r['acknowledged']:>8}{r['cutover_s']:>11}"
              f"{r['load']:>6}"
              + ("" if r["ok"] else f"  FAILED: {r['error']}"))


if __name__ == "__main__":
    main()
