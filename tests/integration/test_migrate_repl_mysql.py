"""MariaDB GTID replication from source to target through the migration playbooks, on real test
hosts (issue 14).  h55 is a source with the binary log on (ROW, listening on its address), h56
its target: the sync sets up replication (account with REPLICATION SLAVE, one dump at a GTID
position, only the system's database), a second sync keeps it and reports the lag; a difference
forced on the target is caught by the cutover's checksums and rolled back (source open again,
replication and its account gone); the cutover with an application writer INSERTing and UPDATEing
loses no acknowledged write.  The method is decided as `migrate run` decides it: the facts playbook
(read-only), then govcloud.migrate.replication.  h57 is a source with the binary log off (Debian's
default), h58 its target: decided dump/restore, saying why in Chinese and English; forced to
replicate anyway, the sync's own check still refuses.  The replication password is never in the runner's artefacts,
the source's binary log or a process list.  Hosts h55-h58 are reserved for this module."""
from __future__ import annotations

import json
import re
import shlex
import threading
import time

import pytest

from cutover_writer import Writer, lost, setup_my, target_rows
from migrate_helpers import Migration, ssh

from govcloud.migrate import replication as R

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT, SRC2, TGT2 = "h55", "h56", "h57", "h58"
ADDR = {h: f"198.18.1.{h[1:]}" for h in (SRC, TGT, SRC2, TGT2)}
TREES = ["/srv/govrep"]


def extravars(system: str, db: str) -> dict:
    return {"govcloud_plan_id": f"it-repl-mysql-{system}", "govcloud_system_id": system,
            "govcloud_data_paths": TREES,
            "govcloud_services": [{"name": "mariadb", "port": 3306, "health_path": None}],
            "govcloud_databases": [{"engine": "mariadb", "name": db}],
            "govcloud_cutover_record": {}, "govcloud_verify_record": False,
            "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
            "govcloud_apply_baseline": False, "govcloud_repl_sync_wait": 10}


SCHEMA = """
drop database if exists {db};
create database {db} character set utf8mb4;
create table {db}.item (id int auto_increment primary key, name varchar(64) not null) engine=InnoDB;
insert into {db}.item (name) with recursive s(i) as (select 1 union all select i + 1 from s where i < 300)
  select concat('事项-', i) from s;
drop database if exists otherapp;
create database otherapp;
create table otherapp.note (id int primary key) engine=InnoDB;
"""

# a source ready for replication: binary log (ROW), GTID strict, listening on its address (inside
# the host's network namespace); server_id left at its default 1, as on the target
SOURCE_CNF = """[mariadbd]
log_bin = mysql-bin
binlog_format = ROW
gtid_strict_mode = 1
bind_address = 0.0.0.0
"""


def _sql(host: str, sql: str) -> str:
    return ssh(host, "cd / && sudo -n mysql -NB -e " + shlex.quote(sql)).stdout.decode().strip()


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


def _msgs(r, host) -> str:
    return "\n".join(r.messages.get(host, []))


def _records(r, host) -> list[dict]:
    return [json.loads(m.split(" ", 1)[1]) for m in r.messages.get(host, []) if m.startswith("govcloud-repl ")]


def _decide(m: Migration, system: str, db: str) -> tuple[R.MethodDecision, list[dict]]:
    """What the orchestrator does in the sync step: facts playbook → replication.decide_all, and
    the govcloud_db_methods the playbooks then receive."""
    r = m.play("migrate_repl_facts", govcloud_db_methods=[])
    assert r.ok, _failed(r)
    d = R.decide_all([("mariadb", db)], R.facts_from_messages(r.messages, measured_at="now"))
    return d[0], R.methods_extravar(d, plan_id=f"it-repl-mysql-{system}", system=system)


def _artefacts(m: Migration) -> bytes:
    return b"".join(p.read_bytes() for p in m.tmp.rglob("*") if p.is_file())


class PsWatch:
    """Every process's command line on some hosts, sampled every 0.1 s while a playbook runs."""

    def __init__(self, *hosts: str) -> None:
        self.hosts = hosts
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> "PsWatch":
        for h in self.hosts:
            ssh(h, "sudo -n rm -f /tmp/gc-ps.stop /tmp/gc-ps.log")
            t = threading.Thread(target=ssh, args=(h, "sudo -n sh -c 'while [ ! -e /tmp/gc-ps.stop ]; do "
                                                      "ps -eo args >> /tmp/gc-ps.log; sleep 0.1; done'"),
                                 kwargs={"check": False, "timeout": 900}, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        for h in self.hosts:
            ssh(h, "sudo -n touch /tmp/gc-ps.stop", check=False)
        for t in self.threads:
            t.join(30)

    def seen(self, host: str) -> bytes:
        return ssh(host, "sudo -n cat /tmp/gc-ps.log").stdout


def _start_mariadb(*hosts: str) -> None:
    for h in hosts:
        ssh(h, "sudo -n /etc/init.d/mariadb start >/dev/null 2>&1 || sudo -n /etc/init.d/mariadb status")


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-repl-mysql"), SRC, TGT, None, ADDR, TREES,
                  extravars("govrep", "govrep"))
    try:
        ssh(SRC, "sudo -n sh -c 'cat > /etc/mysql/mariadb.conf.d/60-govtest-source.cnf'", input=SOURCE_CNF.encode())
        ssh(SRC, "sudo -n /etc/init.d/mariadb restart >/dev/null 2>&1 || sudo -n /etc/init.d/mariadb start")
        _start_mariadb(TGT)
        ssh(TGT, "cd / && sudo -n mysql -e \"stop all slaves; reset slave 'govcloud' all\"", check=False)
        _sql(TGT, "drop database if exists govrep; drop database if exists otherapp; "
                  "drop user if exists 'govwriter'@'localhost'")
        ssh(TGT, "sudo -n rm -rf /srv/govrep /var/lib/govcloud /etc/mysql/mariadb.conf.d/90-govcloud-replica.cnf")
        _sql(TGT, "set global server_id = 1")
        ssh(SRC, "sudo -n rm -rf /var/lib/govcloud; sudo -n mkdir -p /srv/govrep; cd / && sudo -n mysql -e "
                 "\"set global read_only = 0; drop user if exists 'govcloud_repl'@'198.18.1.56'; reset master\"")
        ssh(SRC, "cd / && sudo -n mysql", input=SCHEMA.format(db="govrep").encode())
        setup_my(SRC, "govrep", "writer-secret-in-repl-test")
        r = m.play("migrate_configure")
        assert r.ok, _failed(r)
        yield m
    finally:
        m.agent.stop()
        ssh(SRC, "sudo -n /etc/init.d/mariadb start >/dev/null 2>&1; cd / && sudo -n mysql -e 'set global read_only = 0'",
            check=False)


def test_sync_sets_up_replication_of_the_systems_database_only_and_keeps_it(mig):
    d, methods = _decide(mig, "govrep", "govrep")
    assert d.method is R.Method.replication and [x.code for x in d.reasons] == ["ok"], d.why("en")
    mig.extravars["govcloud_db_methods"] = methods           # every later play of this module, as migrate passes it
    with PsWatch(SRC, TGT) as ps:
        r = mig.play("migrate_sync", govcloud_sync_mode="initial")
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT)
    assert "replication mariadb/govrep h55 -> h56: streaming, initialised (first set-up), 0 s behind, 0 transactions" in msgs, msgs
    assert "db mariadb/govrep h55 -> h56: replicated, accounts restored, 2 tables, source 300 rows, target 300 rows" in msgs, msgs
    rec = _records(r, TGT)
    assert [(x["kind"], x["name"], x["method"], x["state"]) for x in rec] == [("status", "govrep", "replication", "streaming")], rec
    # the target replicates from the source's address, only govrep, with a server id of its own
    st = ssh(TGT, "cd / && sudo -n mysql -E -e \"show slave 'govcloud' status\"").stdout.decode()
    assert "Master_Host: 198.18.1.55" in st and "Replicate_Wild_Do_Table: govrep.%" in st, st
    assert "Slave_IO_Running: Yes" in st and "Slave_SQL_Running: Yes" in st and "Using_Gtid: Slave_Pos" in st, st
    assert _sql(TGT, "select @@server_id") != _sql(SRC, "select @@server_id")
    # the source's account: REPLICATION SLAVE from the target's address, nothing else
    grants = _sql(SRC, "show grants for 'govcloud_repl'@'198.18.1.56'")
    assert grants.startswith("GRANT REPLICATION SLAVE ON *.* TO `govcloud_repl`@`198.18.1.56`"), grants
    assert grants.count("GRANT") == 1, grants

    # writes on the source arrive; another database of the same server does not
    _sql(SRC, "insert into govrep.item (name) values ('复制-1'); update govrep.item set name = 'x' where id = 7; "
              "insert into otherapp.note values (1)")
    for _ in range(50):
        if _sql(TGT, "select count(*) from govrep.item") == "301":
            break
        time.sleep(0.2)
    assert _sql(TGT, "select count(*), sum(name = 'x') from govrep.item") == "301\t1"
    assert _sql(TGT, "show databases like 'otherapp'") == ""

    # the password: 0600 on both sides, in no runner artefact, binary log or command line
    secret = ssh(SRC, "sudo -n cat /var/lib/govcloud/migrate/govrep/repl-mysql.secret").stdout.decode().strip()
    assert re.fullmatch(r"[0-9a-f]{48}", secret)
    assert ssh(TGT, "sudo -n cat /var/lib/govcloud/migrate/govrep/repl-mysql.secret").stdout.decode().strip() == secret
    for h in (SRC, TGT):
        assert ssh(h, "sudo -n stat -c %a /var/lib/govcloud/migrate/govrep/repl-mysql.secret").stdout.decode().strip() == "600"
        assert ps.seen(h).count(b"\n") > 20          # the sampler saw the run
        assert secret.encode() not in ps.seen(h), f"replication password in a command line on {h}"
    assert secret.encode() not in _artefacts(mig)
    assert secret not in ssh(SRC, "cd /var/lib/mysql && sudo -n mysqlbinlog mysql-bin.0*").stdout.decode(errors="replace")

    # a second sync keeps it (no new dump) and reports the lag
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    assert "replication mariadb/govrep h55 -> h56: streaming, kept, 0 s behind, 0 transactions behind" in _msgs(r, TGT), _msgs(r, TGT)
    assert [x["action"] for x in _records(r, TGT)] == ["kept"]


def test_a_difference_on_the_target_fails_the_cutover_and_rollback_reopens_the_source(mig):
    _sql(TGT, "delete from govrep.item where id = 5")           # the target drifts from its source
    r = mig.play("migrate_cutover")
    assert not r.ok
    msgs = _msgs(r, TGT)
    assert "caught up with the source at GTID" in msgs, msgs
    assert "govrep.item: source 301 rows, target 300" in _failed(r) or "CHECKSUMS DIFFER" in msgs, _failed(r)
    assert _sql(SRC, "select @@global.read_only") == "1"                  # closed for the final copy

    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert _sql(SRC, "select @@global.read_only") == "0"
    assert "replication removed h55 -> h56" in _msgs(r, TGT), _msgs(r, TGT)
    assert _sql(SRC, "select count(*) from mysql.user where user = 'govcloud_repl'") == "0"
    _start_mariadb(TGT)                          # rollback stops the target's services; nothing replicates there
    assert _sql(TGT, "show all slaves status") == ""
    for h in (SRC, TGT):
        assert ssh(h, "sudo -n ls /var/lib/govcloud/migrate/govrep/").stdout.decode().count("repl-mysql") == 0


def test_cutover_with_a_writer_running_loses_no_acknowledged_write(mig):
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")       # set up again after the rollback
    assert r.ok, _failed(r)
    assert "streaming, initialised (first set-up)" in _msgs(r, TGT), _msgs(r, TGT)
    w = Writer(SRC, db="govrep", seconds=240, engine="mariadb").start()
    time.sleep(4)
    r0 = mig.play("migrate_sync", govcloud_sync_mode="delta")       # lag while writing: reported, kept
    assert r0.ok, _failed(r0)
    assert [x["method"] for x in _records(r0, TGT)] == ["replication"]
    t0 = time.monotonic()
    r = mig.play("migrate_cutover")
    took = time.monotonic() - t0
    res = w.stop()
    assert r.ok, _failed(r)
    assert w.acknowledged > 10 and res["failed"] > 0, res
    rows = target_rows(TGT, "govrep", engine="mariadb")
    assert lost(res, rows) == [], lost(res, rows)[:20]
    msgs = _msgs(r, TGT)
    assert "caught up with the source at GTID" in msgs and "replication stopped and removed" in msgs, msgs
    assert "replicated, accounts" in msgs and "row counts equal, checksums equal (2 tables)" in msgs, msgs
    assert "replication account govcloud_repl@198.18.1.56 removed from h55" in msgs, msgs
    assert _sql(TGT, "show all slaves status") == ""
    assert ssh(TGT, "sudo -n ls /var/lib/govcloud/migrate/govrep/").stdout.decode().count("repl-mysql") == 0
    assert b"writer-secret-in-repl-test" not in _artefacts(mig)
    print(f"cutover playbook with replication: {took:.1f} s, {w.acknowledged} acknowledged writes, 0 lost")


@pytest.fixture(scope="module")
def mig2(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-repl-mysql-fallback"), SRC2, TGT2, None, ADDR, TREES,
                  extravars("govrep2", "govrep2"))
    try:
        ssh(SRC2, "sudo -n rm -f /etc/mysql/mariadb.conf.d/60-govtest-source.cnf")
        _start_mariadb(SRC2, TGT2)
        _sql(TGT2, "drop database if exists govrep2")
        ssh(TGT2, "sudo -n rm -rf /srv/govrep /var/lib/govcloud")
        ssh(SRC2, "sudo -n rm -rf /var/lib/govcloud; sudo -n mkdir -p /srv/govrep")
        ssh(SRC2, "cd / && sudo -n mysql", input=SCHEMA.format(db="govrep2").encode())
        yield m
    finally:
        m.agent.stop()


def test_without_binary_log_the_decision_says_why_and_the_sync_copies_by_dump(mig2):
    assert _sql(SRC2, "select @@log_bin") == "0"
    r = mig2.play("migrate_configure")
    assert r.ok, _failed(r)
    d, methods = _decide(mig2, "govrep2", "govrep2")
    assert d.method is R.Method.dump and [x.code for x in d.reasons] == ["my.log_bin"], d.why("en")
    assert "log_bin is OFF on the source" in d.why("en") and "二进制日志" in d.why("zh")
    r = mig2.play("migrate_sync", govcloud_sync_mode="initial", govcloud_db_methods=methods)
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT2)
    assert ("replication mariadb/govrep2 h57 -> h58: not possible, copied by dump/restore: decided by the "
            "orchestrator") in msgs, msgs
    assert "db mariadb/govrep2 h57 -> h58: restored, 1 tables, source 300 rows, target 300 rows" in msgs, msgs
    assert [(x["kind"], x["method"]) for x in _records(r, TGT2)] == [("method", "dump")]
    assert _sql(TGT2, "show all slaves status") == ""
    assert _sql(SRC2, "select count(*) from mysql.user where user = 'govcloud_repl'") == "0"


def test_forced_to_replicate_the_syncs_own_check_still_refuses_and_says_why(mig2):
    """The source changed between the decision and the sync (or a hand-made extravar): the sync's
    check at that moment still keeps a source without a binary log from replicating."""
    forced = R.methods_extravar([R.MethodDecision("mariadb", "govrep2", R.Method.replication, (R.Reason("ok"),))],
                                plan_id="it-repl-mysql-govrep2", system="govrep2")
    r = mig2.play("migrate_sync", govcloud_sync_mode="delta", govcloud_db_methods=forced)
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT2)
    assert ("replication mariadb/govrep2 h57 -> h58: not possible, copied by dump/restore: log_bin is OFF on the "
            "source: enabling the binary log needs a restart") in msgs, msgs
    assert [(x["kind"], x["method"], x["reason"][:17]) for x in _records(r, TGT2)] == [("method", "dump", "log_bin is OFF on")]
    assert _sql(TGT2, "show all slaves status") == ""
