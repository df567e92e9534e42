"""Cutover loses no acknowledged write and proves it (issue 14), on real test hosts: h31 runs the
sample workload (nginx + PostgreSQL) and is the source, h32 stands in for the new cloud server,
h33 holds the cutover record.  An application writer (the database's own account, not a
superuser) INSERTs and UPDATEs while the cutover runs; every write the source acknowledged must
be on the target, the per-table content checksums must be equal, and a difference the row counts
cannot see must fail the cutover.  Hosts h31-h33 are reserved for this module."""
from __future__ import annotations

import json
import re
import shlex
import time

import pytest

from cutover_writer import Writer, lost, setup_pg, target_rows
from migrate_helpers import Migration, ssh

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT, CLI = "h31", "h32", "h33"
ADDR = {SRC: "198.18.1.31", TGT: "198.18.1.32", CLI: "198.18.1.33"}
TREES = ["/srv/govapp", "/etc/nginx/sites-enabled"]
RECORD = "govapp-cutover.gov.test"
EXTRAVARS = {
    "govcloud_plan_id": "it-migrate-cutover", "govcloud_system_id": "govapp-cut",
    "govcloud_data_paths": TREES,
    "govcloud_services": [{"name": "nginx", "port": 80, "health_path": "/api/stats.json"},
                          {"name": "postgresql", "port": 5432, "health_path": None}],
    "govcloud_databases": [{"engine": "postgresql", "name": "govapp"}],
    "govcloud_cutover_record": {"name": RECORD, "kind": "hosts", "clients": [CLI]},
    "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
    "govcloud_apply_baseline": False,
}


def _psql(host: str, sql: str, db: str = "govapp") -> str:
    return ssh(host, f"cd / && sudo -n -u postgres psql -XqAt -d {db} -c " + shlex.quote(sql)).stdout.decode().strip()


def _as_app(host: str, sql: str) -> tuple[int, str]:
    p = ssh(host, "cd / && sudo -n -u govapp psql -XqAt -d govapp -c " + shlex.quote(sql), check=False)
    return p.returncode, (p.stdout + p.stderr).decode()


def _msgs(r, host) -> str:
    return "\n".join(r.messages.get(host, []))


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


def _running(host: str, svc: str) -> bool:
    return ssh(host, f"sudo -n /etc/init.d/{svc} status", check=False).returncode == 0


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-cutover"), SRC, TGT, CLI, ADDR, TREES, EXTRAVARS)
    try:
        ssh(TGT, "sudo -n sh -c '/etc/init.d/nginx stop; /etc/init.d/postgresql start; "
                 "cd / && runuser -u postgres -- psql -qc \"drop database if exists govapp\" -c \"drop role if exists govapp\"; "
                 "rm -rf /srv/govapp /var/lib/govcloud' >/dev/null 2>&1; true")
        ssh(CLI, f"sudo -n sed -i '/{RECORD}/d' /etc/hosts")
        # the source: sample workload, open to writes (a previous run's record gone), the writer's table
        ssh(SRC, "sudo -n sh -c '/etc/init.d/postgresql start; rm -rf /var/lib/govcloud'; cd / && "
                 "sudo -n -u postgres psql -qc 'alter database govapp connection limit -1' >/dev/null 2>&1; true")
        r = m.play("sample_workload", source_may_change=True, limit=SRC, govcloud_data_paths=[])
        assert r.ok, _failed(r)
        setup_pg(SRC)
        _psql(SRC, "truncate cutover_probe")
        r = m.play("migrate_configure")
        assert r.ok, _failed(r)
        r = m.play("migrate_sync", govcloud_sync_mode="initial")
        assert r.ok, _failed(r)
        yield m
    finally:
        m.agent.stop()
        # leave the source serving and open whatever happened
        ssh(SRC, "sudo -n sh -c '/etc/init.d/postgresql start; /etc/init.d/nginx start'; cd / && "
                 "sudo -n -u postgres psql -qc 'alter database govapp connection limit -1' >/dev/null 2>&1; true",
            check=False)


def test_cutover_with_a_writer_running_loses_no_acknowledged_write(mig):
    w = Writer(SRC, seconds=240).start()
    time.sleep(3)                                    # the writer is writing before the cutover starts
    r = mig.play("migrate_cutover")
    res = w.stop()
    assert r.ok, _failed(r)
    assert w.acknowledged > 10 and res["failed"] > 0, res            # it wrote, and was then shut out
    rows = target_rows(TGT)
    assert lost(res, rows) == [], lost(res, rows)[:20]
    msgs = _msgs(r, TGT)
    assert "row counts equal, checksums equal (3 tables)" in msgs, msgs
    assert "writes closed h31 postgresql/govapp" in _msgs(r, SRC)
    # the client saw the service go away and come back from the target: the downtime is measured
    down = re.search(r"downtime govapp-cut: ([\d.]+) s seen from h33 \(first failed request \S+, first healthy "
                     r"answer from 198\.18\.1\.32 \S+\)", _msgs(r, CLI))
    assert down and 0 < float(down.group(1)) < 600, _msgs(r, CLI)
    # the target serves and takes the application's writes (the dump carried CONNECTION LIMIT 0)
    assert _psql(TGT, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
    assert ssh(CLI, f"getent hosts {RECORD}").stdout.decode().split()[0] == ADDR[TGT]
    r = mig.play("migrate_verify")
    assert r.ok, _failed(r)


def test_rollback_opens_the_source_database_again(mig):
    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert "writes reopened h31 govapp" in _msgs(r, SRC)
    assert _psql(SRC, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
    rc, out = _as_app(SRC, "insert into cutover_probe (note) values ('after rollback') returning id")
    assert rc == 0, out
    assert _running(SRC, "nginx") and not _running(TGT, "nginx")


def test_a_difference_row_counts_cannot_see_fails_the_cutover(mig):
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    # the target drifts (same row count, other contents) and the source has nothing new: the
    # final dump is unchanged, nothing is restored - only the checksums can see it
    _psql(TGT, "update service_item set name = name || ' (drift)' where id = 7")
    r = mig.play("migrate_cutover")
    assert not r.ok
    failed = _failed(r)
    assert "row counts or contents differ after the final dump" in failed, failed
    assert "postgresql/govapp public.service_item: contents differ" in failed, failed
    assert "public.department" not in failed
    _psql(TGT, "update service_item set name = replace(name, ' (drift)', '') where id = 7")
    # the orchestrator rolls back: the source is open and serving again
    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert _as_app(SRC, "select count(*) from service_item")[0] == 0
    assert _running(SRC, "nginx")


def test_a_source_that_cannot_be_closed_refuses(mig):
    # a superuser session of the application is not kept out by closing the database: refused
    # (it reconnects at once when terminated; ends with a stop file, or after 120 s)
    loop = ("end=$(($(date +%s) + 120)); while [ ! -e /tmp/gc-hold.stop ] && [ $(date +%s) -lt $end ]; do "
            "psql -XqAt -d govapp -c 'select pg_sleep(60)'; sleep 0.1; done")
    ssh(SRC, "rm -f /tmp/gc-hold.stop; cd / && sudo -n setsid -f runuser -u postgres -- nohup sh -c "
             + shlex.quote(loop) + " </dev/null >/dev/null 2>&1")
    try:
        time.sleep(3)
        assert _psql(SRC, "select count(*) from pg_stat_activity where query like 'select pg_sleep%'", db="postgres") == "1"
        r = mig.play("migrate_cutover", govcloud_close_timeout=3)
        assert not r.ok
        assert "sessions still open 3s after the database was closed" in _failed(r), _failed(r)
    finally:
        ssh(SRC, "touch /tmp/gc-hold.stop; cd / && sudo -n -u postgres psql -qc \"select pg_terminate_backend(pid) "
                 "from pg_stat_activity where query like 'select pg_sleep%'\"", check=False)
    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert _psql(SRC, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
