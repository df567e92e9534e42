"""Continuous PostgreSQL replication (issue 14), on real test hosts: h51 runs the sample workload and
is the source, h52 stands in for the new cloud server (its subscription connects straight to h51's
address), h53 holds the cutover record.  The method per database is decided by
govcloud.migrate.replication from the facts playbook's findings, exactly as the orchestrator does:
first the reasons it cannot replicate (Debian's wal_level=replica, listen_addresses=localhost; a
table without a primary key), then replication set up, lag measured, a cutover with an application
writer running (no acknowledged write lost, checksums equal, sequences carried, the source left
without govcloud's role, slot, publication or pg_hba line), and a difference only the checksums see
caught and rolled back.  The replication password never appears in the runner's artefacts or in any
process's command line.  Hosts h51-h54 are reserved for this module."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import time

import pytest

from cutover_writer import Writer, lost, setup_pg, target_rows
from govcloud.migrate import replication as R
from migrate_helpers import Migration, ssh

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT, CLI = "h51", "h52", "h53"
ADDR = {SRC: "198.18.1.51", TGT: "198.18.1.52", CLI: "198.18.1.53"}
TREES = ["/srv/govapp", "/etc/nginx/sites-enabled"]
RECORD = "govapp-repl.gov.test"
PLAN, SYSTEM = "it-migrate-repl", "govapp-repl"
EXTRAVARS = {
    "govcloud_plan_id": PLAN, "govcloud_system_id": SYSTEM,
    "govcloud_data_paths": TREES,
    "govcloud_services": [{"name": "nginx", "port": 80, "health_path": "/api/stats.json"},
                          {"name": "postgresql", "port": 5432, "health_path": None}],
    "govcloud_databases": [{"engine": "postgresql", "name": "govapp"}],
    "govcloud_cutover_record": {"name": RECORD, "kind": "hosts", "clients": [CLI]},
    "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
    "govcloud_apply_baseline": False,
}
SLOT = R.slot_name(PLAN, SYSTEM, "postgresql", "govapp")

CLEAN_TARGET = r"""
/etc/init.d/nginx stop >/dev/null 2>&1; /etc/init.d/postgresql start >/dev/null 2>&1
cd /
for db in $(runuser -u postgres -- psql -XqAt -d postgres -c "select datname from pg_database where datname = 'govapp'"); do
  for s in $(runuser -u postgres -- psql -XqAt -d govapp -c "select subname from pg_subscription where subname like 'govcloud%'"); do
    runuser -u postgres -- psql -Xq -d govapp -c "alter subscription $s disable" -c "alter subscription $s set (slot_name = none)" -c "drop subscription $s"
  done
done
runuser -u postgres -- psql -Xq -d postgres -c "drop database if exists govapp" -c "drop role if exists govapp" -c "drop role if exists govcloud_repl"
rm -rf /srv/govapp /var/lib/govcloud /var/lib/postgresql/govcloud
"""

CLEAN_SOURCE = r"""
cd /
# a logical slot left by an interrupted run keeps PostgreSQL from starting with wal_level < logical
/etc/init.d/postgresql start >/dev/null 2>&1 || {
  echo "wal_level = 'logical'" >> /var/lib/postgresql/15/main/postgresql.auto.conf
  /etc/init.d/postgresql start >/dev/null 2>&1; }
p() { runuser -u postgres -- psql -XqAt "$@"; }
for s in $(p -d postgres -c "select slot_name from pg_replication_slots where slot_name like 'govcloud%'"); do
  for i in 1 2 3 4 5 6 7 8 9 10; do
    p -d postgres -c "select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name = '$s' and active" >/dev/null
    sleep 0.5; p -d postgres -c "select pg_drop_replication_slot('$s')" >/dev/null 2>&1 && break
  done
done
p -d govapp -c "drop publication if exists govcloud_pub" -c "drop schema if exists govcloud cascade" -c "drop table if exists nokey" >/dev/null 2>&1
p -d govapp -c "drop owned by govcloud_repl" >/dev/null 2>&1
p -d postgres -c "drop role if exists govcloud_repl" -c "alter database govapp connection limit -1" >/dev/null 2>&1
hba=$(p -d postgres -c "show hba_file"); sed -i '/# govcloud /d' "$hba"
p -d postgres -c "alter system reset wal_level" -c "alter system reset listen_addresses" >/dev/null
/etc/init.d/postgresql restart >/dev/null 2>&1
rm -rf /var/lib/govcloud /tmp/cutover-writer.stop
"""

PREPARE_SOURCE = """cd / && runuser -u postgres -- psql -Xq -d postgres -c "alter system set wal_level = logical" \
  -c "alter system set listen_addresses = '*'" && /etc/init.d/postgresql restart >/dev/null"""


def _psql(host: str, sql: str, db: str = "govapp") -> str:
    return ssh(host, f"cd / && sudo -n -u postgres psql -XqAt -d {db} -c " + shlex.quote(sql)).stdout.decode().strip()


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


def _msgs(r, host) -> str:
    return "\n".join(r.messages.get(host, []))


def _decide(mig) -> list[R.MethodDecision]:
    """What the orchestrator does in the sync step: facts playbook → replication.decide_all."""
    r = mig.play("migrate_repl_facts", govcloud_db_methods=[{"engine": "postgresql", "name": "govapp",
                                                             "method": "dump", "slot": SLOT}])
    assert r.ok, _failed(r)
    facts = R.facts_from_messages(r.messages, measured_at="now")
    return R.decide_all([("postgresql", "govapp")], facts)


def _methods(decisions, before=()) -> dict:
    return R.methods_extravar(decisions, plan_id=PLAN, system=SYSTEM, replicated_before=before)


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-repl"), SRC, TGT, CLI, ADDR, TREES, EXTRAVARS)
    try:
        ssh(TGT, "sudo -n sh -c " + shlex.quote(CLEAN_TARGET), check=False)
        ssh(CLI, f"sudo -n sed -i '/{RECORD}/d' /etc/hosts")
        ssh(SRC, "sudo -n sh -c " + shlex.quote(CLEAN_SOURCE))
        r = m.play("sample_workload", source_may_change=True, limit=SRC, govcloud_data_paths=[])
        assert r.ok, _failed(r)
        setup_pg(SRC)
        _psql(SRC, "truncate cutover_probe")
        r = m.play("migrate_configure")
        assert r.ok, _failed(r)
        yield m
    finally:
        m.agent.stop()
        ssh(SRC, "sudo -n sh -c " + shlex.quote(CLEAN_SOURCE + "/etc/init.d/nginx start >/dev/null 2>&1"), check=False)
        ssh(TGT, "sudo -n sh -c " + shlex.quote(CLEAN_TARGET), check=False)


def test_fallback_says_exactly_why(mig):
    # Debian's defaults: wal_level=replica and listen_addresses=localhost - both need a restart
    d = _decide(mig)[0]
    assert d.method is R.Method.dump
    codes = [r.code for r in d.reasons]
    assert codes == ["pg.wal_level", "pg.listen"], d.why("en")
    assert "wal_level=replica" in d.why("en") and "localhost" in d.why("en")
    # the operator prepares the source in a maintenance window (restart): now a table without a key
    ssh(SRC, "sudo -n sh -c " + shlex.quote(PREPARE_SOURCE))
    _psql(SRC, "create table nokey (x int); insert into nokey values (1)")
    d = _decide(mig)[0]
    assert d.method is R.Method.dump and [r.code for r in d.reasons] == ["pg.no_key"], d.why("en")
    assert "public.nokey" in d.why("en") and "主键" in d.why("zh")
    # dump/restore still moves it (the fallback works)
    r = mig.play("migrate_sync", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    assert "db postgresql/govapp h51 -> h52: restored" in _msgs(r, TGT), _msgs(r, TGT)
    _psql(SRC, "drop table nokey")


def test_replication_set_up_lag_measured_and_rerun_keeps_it(mig):
    d = _decide(mig)[0]
    assert d.method is R.Method.replication, d.why("en")
    assert d.sslmode == "require"                       # Debian's PostgreSQL has ssl on
    # the database was restored by the dump before: replication replaces it (teardown is a no-op)
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    st = R.statuses_from_messages(r.messages)
    assert [(s.name, s.state) for s in st] == [("govapp", "streaming")], _msgs(r, TGT)
    assert st[0].lag_bytes is not None and st[0].lag_bytes >= 0
    assert "db postgresql/govapp h51 -> h52: replicated" in _msgs(r, TGT)
    # the source: a reload, never a restart (the postmaster is the one PREPARE_SOURCE started)
    assert _psql(SRC, "select count(*) from pg_hba_file_rules where user_name = '{govcloud_repl}' "
                      "and address = '198.18.1.52'", db="postgres") == "1"
    assert _psql(SRC, "select ssl::text from pg_stat_ssl s join pg_stat_replication r using (pid) "
                      f"where r.application_name = '{SLOT}'", db="postgres") == "true"
    # writes on the source arrive on the target while replication runs (catching up)
    _psql(SRC, "insert into cutover_probe (note) values ('while replicating') returning id")
    deadline = time.time() + 30
    while time.time() < deadline and _psql(TGT, "select count(*) from cutover_probe where note = 'while replicating'") != "1":
        time.sleep(0.5)
    assert _psql(TGT, "select count(*) from cutover_probe where note = 'while replicating'") == "1"
    # a second sync keeps the subscription (no new schema dump) and reports the lag again
    oid = _psql(TGT, "select oid from pg_subscription where subname = '" + SLOT + "'")
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    assert _psql(TGT, "select oid from pg_subscription where subname = '" + SLOT + "'") == oid
    assert [s.state for s in R.statuses_from_messages(r.messages)] == ["streaming"]


def test_no_secret_in_artefacts_or_command_lines(mig):
    pw = ssh(TGT, f"sudo -n cat /var/lib/postgresql/govcloud/{SLOT}.pgpass").stdout.decode().strip().rsplit(":", 1)[1]
    verifier = ssh(TGT, f"sudo -n cat /var/lib/postgresql/govcloud/{SLOT}.pgpass.verifier").stdout.decode().strip()
    assert len(pw) >= 32 and verifier.startswith("SCRAM-SHA-256$")
    mode = ssh(TGT, f"sudo -n stat -c '%a %U' /var/lib/postgresql/govcloud/{SLOT}.pgpass").stdout.decode().split()
    assert mode == ["600", "postgres"]
    # the subscription's catalog entry names the passfile, not the password
    assert pw not in _psql(TGT, "select subconninfo from pg_subscription")
    found = subprocess.run(["grep", "-rlF", "-e", pw, "-e", verifier.split("$", 2)[2], str(mig.tmp)],
                           capture_output=True, text=True)
    assert found.stdout == "", f"secret in runner artefacts: {found.stdout}"
    for h in (SRC, TGT):
        ps = ssh(h, "ps -eo args").stdout.decode()
        assert pw not in ps and "SCRAM-SHA-256$" not in ps
        assert "logical replication" in ps or h == SRC


def test_rollback_before_cutover_ends_replication_and_leaves_the_source_serving(mig):
    """A synced system rolled back (no cutover): migrate_repl_teardown.yml, as `migrate rollback`
    runs it, removes what the sync set up — an inactive slot would hold back the source's WAL —
    and touches nothing else: the source keeps serving, its database stays open."""
    d = _decide(mig)[0]
    assert d.method is R.Method.replication, d.why("en")
    assert _psql(SRC, f"select count(*) from pg_replication_slots where slot_name = '{SLOT}'", db="postgres") == "1"
    before = ssh(SRC, "cat /run/nginx.pid").stdout.decode().strip()
    r = mig.play("migrate_repl_teardown", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    assert _psql(SRC, "select count(*) from pg_replication_slots where slot_name like 'govcloud%'", db="postgres") == "0"
    assert _psql(SRC, "select count(*) from pg_roles where rolname = 'govcloud_repl'", db="postgres") == "0"
    assert _psql(SRC, "select count(*) from pg_publication") == "0"
    assert "# govcloud" not in ssh(SRC, "sudo -n cat /etc/postgresql/15/main/pg_hba.conf").stdout.decode()
    assert _psql(TGT, "select count(*) from pg_subscription", db="postgres") == "0"
    assert ssh(TGT, f"sudo -n ls /var/lib/postgresql/govcloud/ 2>/dev/null | grep -c {SLOT}; true").stdout.decode().strip() == "0"
    # nothing else touched: the same nginx serves, the database is open to its application
    assert ssh(SRC, "cat /run/nginx.pid").stdout.decode().strip() == before
    assert _psql(SRC, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
    assert _psql(SRC, "insert into cutover_probe (note) values ('after teardown') returning id").isdigit()
    # idempotent: a second run finds nothing and fails nothing
    r = mig.play("migrate_repl_teardown", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    # the next sync sets replication up again (the cutover test below relies on it)
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", govcloud_db_methods=_methods([d], before={d.key}))
    assert r.ok, _failed(r)
    assert [s.state for s in R.statuses_from_messages(r.messages)] == ["streaming"], _msgs(r, TGT)


def test_cutover_with_a_writer_running_loses_nothing_and_cleans_the_source(mig):
    d = _decide(mig)[0]
    assert d.method is R.Method.replication and d.reasons[0].code == "ok"   # our own slot counts as ours
    w = Writer(SRC, seconds=240).start()
    time.sleep(3)
    r = mig.play("migrate_cutover", govcloud_db_methods=_methods([d]))
    res = w.stop()
    assert r.ok, _failed(r)
    assert w.acknowledged > 10 and res["failed"] > 0, res
    rows = target_rows(TGT)
    assert lost(res, rows) == [], lost(res, rows)[:20]
    msgs = _msgs(r, TGT)
    assert "replicated" in msgs and re.search(r"row counts equal, checksums equal \(\d+ tables\)", msgs), msgs
    catchup = [x for x in R.parse_messages(r.messages) if x.get("kind") == "catchup"]
    assert catchup and catchup[0]["sequences"] >= 2, catchup      # cutover_probe's and the marker table's
    # sequences carried: the next id on the target follows the source's last one
    assert int(_psql(TGT, "select nextval('cutover_probe_id_seq')")) > max(rows)
    # the target has no subscription; the source (its engine stopped by the cutover) no pg_hba line
    assert _psql(TGT, "select count(*) from pg_subscription", db="postgres") == "0"
    assert "# govcloud" not in ssh(SRC, "sudo -n cat /etc/postgresql/15/main/pg_hba.conf").stdout.decode()
    down = re.search(r"downtime govapp-repl: ([\d.]+) s", _msgs(r, CLI))
    assert down and float(down.group(1)) > 0, _msgs(r, CLI)
    r = mig.play("migrate_rollback", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    # ... nor slot, publication, marker schema or role (the engine runs again after the rollback)
    assert _psql(SRC, "select count(*) from pg_replication_slots where slot_name like 'govcloud%'", db="postgres") == "0"
    assert _psql(SRC, "select count(*) from pg_roles where rolname = 'govcloud_repl'", db="postgres") == "0"
    assert _psql(SRC, "select count(*) from pg_publication") == "0"
    assert _psql(SRC, "select count(*) from pg_namespace where nspname = 'govcloud'") == "0"


def test_a_difference_only_checksums_see_is_caught_and_rolled_back(mig):
    d = _decide(mig)[0]
    assert d.method is R.Method.replication, d.why("en")
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    _psql(TGT, "update service_item set name = name || ' (drift)' where id = 7")
    r = mig.play("migrate_cutover", govcloud_db_methods=_methods([d]))
    assert not r.ok
    failed = _failed(r)
    assert "postgresql/govapp public.service_item: contents differ" in failed, failed
    r = mig.play("migrate_rollback", govcloud_db_methods=_methods([d]))
    assert r.ok, _failed(r)
    # rollback ended replication on both sides and opened the source again
    assert _psql(SRC, "select count(*) from pg_replication_slots where slot_name like 'govcloud%'", db="postgres") == "0"
    assert _psql(SRC, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
    ssh(TGT, "sudo -n /etc/init.d/postgresql start >/dev/null")     # rollback stopped the target's services
    assert _psql(TGT, "select count(*) from pg_subscription", db="postgres") == "0"
