"""MySQL/MariaDB through the migration playbooks on real test hosts (no mocks): h36 runs MariaDB
with a database of its own (a foreign key, Chinese text, a view, a trigger, a stored procedure,
two application accounts with database and table grants) and a data directory; h37 stands in for the new cloud server. The runner inventory is the
orchestrator's (reverse tunnel, forwarded agent). The dump is taken on the source through the
tunnel and restored on the target; the tables' contents (CHECKSUM TABLE) must be equal, the source
database is never written by the playbooks, and a re-run with nothing new restores nothing.
Hosts h36-h37 are reserved for this test."""
from __future__ import annotations

import json
import shlex

import pytest

from migrate_helpers import Migration, ssh, tree_hash

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT = "h36", "h37"
ADDR = {SRC: "198.18.1.36", TGT: "198.18.1.37"}
TREES = ["/srv/govdb"]
TABLES = ["department", "service_item", "audit"]
EXTRAVARS = {
    "govcloud_plan_id": "it-migrate-mysql", "govcloud_system_id": "govdb",
    "govcloud_data_paths": TREES,
    "govcloud_services": [{"name": "mariadb", "port": 3306, "health_path": None}],
    "govcloud_databases": [{"engine": "mariadb", "name": "govdb"}],
    "govcloud_cutover_record": {}, "govcloud_verify_record": False,
    "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
    "govcloud_apply_baseline": False,
}

SCHEMA = """
drop database if exists govdb;
create database govdb character set utf8mb4 collate utf8mb4_unicode_ci;
use govdb;
create table department (code varchar(16) primary key, name varchar(64) not null) engine=InnoDB;
create table service_item (id int auto_increment primary key, dept_code varchar(16) not null,
  name varchar(128) not null, fee decimal(10,2), foreign key (dept_code) references department(code)) engine=InnoDB;
create table audit (id int auto_increment primary key, item_id int not null) engine=InnoDB;
create view dept_items as select d.name, count(*) as n from department d join service_item s on s.dept_code = d.code group by d.name;
create trigger item_audit after insert on service_item for each row insert into audit (item_id) values (new.id);
create procedure item_count(out n int) select count(*) into n from service_item;
insert into department values ('gov', '政务服务数据管理局'), ('health', '卫生健康局'), ('edu', '教育局');
drop user if exists 'govapp'@'localhost', 'govreport'@'%';
create user 'govapp'@'localhost' identified by 'app-secret-in-test';
grant select, insert, update, delete on govdb.* to 'govapp'@'localhost';
create user 'govreport'@'%' identified by 'report-secret-in-test';
grant select on govdb.department to 'govreport'@'%';
insert into service_item (dept_code, name, fee)
  with recursive seq(i) as (select 1 union all select i + 1 from seq where i < 300)
  select elt(1 + i % 3, 'gov', 'health', 'edu'), concat('事项-', i), i * 1.5 from seq;
"""


def _sql(host: str, sql: str) -> str:
    return ssh(host, "cd / && sudo -n mysql -NB -e " + shlex.quote(sql)).stdout.decode().strip()


def _checksums(host: str) -> str:
    return _sql(host, "checksum table " + ", ".join(f"govdb.{t}" for t in TABLES) + " extended")


def _msgs(r, host) -> str:
    return "\n".join(r.messages.get(host, []))


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-mysql"), SRC, TGT, None, ADDR, TREES, EXTRAVARS)
    try:
        for h in (SRC, TGT):
            ssh(h, "sudo -n /etc/init.d/mariadb start >/dev/null 2>&1 || sudo -n /etc/init.d/mariadb status")
        # clean slate: target without the database and without migration state; source with both
        _sql(TGT, "drop database if exists govdb; drop user if exists 'govapp'@'localhost', 'govreport'@'%'")
        ssh(TGT, "sudo -n rm -rf /srv/govdb /var/lib/govcloud")
        ssh(SRC, "cd / && sudo -n mysql", input=SCHEMA.encode())
        ssh(SRC, "sudo -n sh -c 'mkdir -p /srv/govdb/exports && seq 1 2000 > /srv/govdb/exports/items.txt'")
        yield m
    finally:
        m.agent.stop()


def test_initial_sync_restores_tables_view_trigger_and_procedure(mig):
    before = _checksums(SRC)
    r = mig.play("migrate_configure")
    assert r.ok, _failed(r)
    r = mig.play("migrate_sync", govcloud_sync_mode="initial")
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT)
    assert "db mariadb/govdb h36 -> h37: restored, 3 tables, source 603 rows, target 603 rows" in msgs, msgs
    assert "row counts equal" in msgs
    assert _checksums(TGT) == _checksums(SRC) == before            # same contents; the source untouched
    assert _sql(TGT, "select name from govdb.department where code = 'health'") == "卫生健康局"
    assert _sql(TGT, "select n from govdb.dept_items where name = '教育局'") == "100"
    assert _sql(TGT, "call govdb.item_count(@n); select @n") == "300"
    assert "item_audit" in _sql(TGT, "show triggers from govdb")
    # the application's accounts come along: same password hashes, same grants (database and table)
    users = "select user, host, password from mysql.user where user like 'gov%' order by 1"
    assert _sql(TGT, users) == _sql(SRC, users) and "*" in _sql(TGT, users)
    for acct in ("'govapp'@'localhost'", "'govreport'@'%'"):
        assert _sql(TGT, f"show grants for {acct}") == _sql(SRC, f"show grants for {acct}")
    assert "GRANT SELECT ON `govdb`.`department` TO `govreport`@`%`" in _sql(TGT, "show grants for 'govreport'@'%'")
    # ... and no password (nor its hash) is in the runner's artefacts and logs
    hashes = _sql(SRC, "select password from mysql.user where user like 'gov%'").split()
    seen = b"".join(p.read_bytes() for p in mig.tmp.rglob("*") if p.is_file())
    assert hashes and not any(x.encode() in seen for x in hashes + ["app-secret-in-test", "report-secret-in-test"])
    assert tree_hash(TGT, *TREES) == tree_hash(SRC, *TREES)


def test_rerun_with_nothing_new_restores_nothing(mig):
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    # an unchanged database dumps to the same text (no dump date in it): nothing is restored
    assert r.changed() == 0, r.changed_tasks
    assert "db mariadb/govdb h36 -> h37: unchanged" in _msgs(r, TGT)


def test_delta_sync_brings_new_rows_and_verify_compares_them(mig):
    _sql(SRC, "insert into govdb.service_item (dept_code, name, fee) values ('gov', '新增事项', 9.9)")
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    assert "restored, 3 tables, source 605 rows, target 605 rows" in _msgs(r, TGT)    # + the trigger's audit row
    assert _checksums(TGT) == _checksums(SRC)
    r = mig.play("migrate_verify")
    assert r.ok, _failed(r)
    # a row lost on the target is a difference verify names, table and counts
    _sql(TGT, "set foreign_key_checks = 0; delete from govdb.audit where id = 1")
    r = mig.play("migrate_verify")
    assert not r.ok
    assert "mariadb/govdb govdb.audit: source 301 rows, target 300" in _failed(r), _failed(r)


def test_engine_named_mysql_runs_on_the_mariadb_service(mig):
    """A census says "mysql" where the host runs MariaDB (Debian, Kylin, openEuler): the roles find
    the service that is there (/etc/init.d/mariadb) instead of failing on a missing "mysql"."""
    assert ssh(TGT, "test -e /etc/init.d/mysql", check=False).returncode == 1
    ssh(TGT, "sudo -n /etc/init.d/mariadb stop")
    mysql = [{"engine": "mysql", "name": "govdb"}]
    r = mig.play("migrate_configure", govcloud_databases=mysql)
    assert r.ok, _failed(r)
    assert "engines ['mysql'] running" in _msgs(r, TGT)
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", govcloud_databases=mysql)
    assert r.ok, _failed(r)
    assert "db mysql/govdb h36 -> h37: restored" in _msgs(r, TGT) and "row counts equal" in _msgs(r, TGT)
    assert _checksums(TGT) == _checksums(SRC)


def test_database_without_accounts_of_its_own(mig):
    _sql(SRC, "drop user 'govapp'@'localhost', 'govreport'@'%'; "
              "insert into govdb.department values ('water', '水务局')")
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    assert "restored" in _msgs(r, TGT) and _checksums(TGT) == _checksums(SRC)
