"""Cutover of a MariaDB database with an application writer running (issue 14), on real test
hosts: h28 is the source, h29 the target.  The writer (an account without SUPER / READ_ONLY
ADMIN) INSERTs and UPDATEs during the cutover; the source is set read_only and its connections
killed before the final dump; every acknowledged write must be on the target and CHECKSUM TABLE
equal; rollback puts read_only back as it was.  Hosts h28-h29 are reserved for this module."""
from __future__ import annotations

import json
import shlex
import time

import pytest

from cutover_writer import Writer, lost, setup_my, target_rows
from migrate_helpers import Migration, ssh

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT = "h28", "h29"
ADDR = {SRC: "198.18.1.28", TGT: "198.18.1.29"}
TREES = ["/srv/govcut"]
EXTRAVARS = {
    "govcloud_plan_id": "it-migrate-cutover-mysql", "govcloud_system_id": "govcut",
    "govcloud_data_paths": TREES,
    "govcloud_services": [{"name": "mariadb", "port": 3306, "health_path": None}],
    "govcloud_databases": [{"engine": "mariadb", "name": "govcut"}],
    "govcloud_cutover_record": {}, "govcloud_verify_record": False,
    "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
    "govcloud_apply_baseline": False,
}
SCHEMA = """
drop database if exists govcut;
create database govcut character set utf8mb4;
create table govcut.item (id int auto_increment primary key, name varchar(64) not null) engine=InnoDB;
insert into govcut.item (name) with recursive s(i) as (select 1 union all select i + 1 from s where i < 200)
  select concat('事项-', i) from s;
"""


def _sql(host: str, sql: str) -> str:
    return ssh(host, "cd / && sudo -n mysql -NB -e " + shlex.quote(sql)).stdout.decode().strip()


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-cutover-mysql"), SRC, TGT, None, ADDR, TREES, EXTRAVARS)
    try:
        for h in (SRC, TGT):
            ssh(h, "sudo -n /etc/init.d/mariadb start >/dev/null 2>&1 || sudo -n /etc/init.d/mariadb status")
        _sql(TGT, "drop database if exists govcut; drop user if exists 'govwriter'@'localhost'")
        ssh(TGT, "sudo -n rm -rf /srv/govcut /var/lib/govcloud")
        ssh(SRC, "sudo -n rm -rf /var/lib/govcloud; sudo -n mkdir -p /srv/govcut; cd / && sudo -n mysql -e 'set global read_only = 0'")
        ssh(SRC, "cd / && sudo -n mysql", input=SCHEMA.encode())
        setup_my(SRC, "govcut", "writer-secret-in-test")
        r = m.play("migrate_configure")
        assert r.ok, _failed(r)
        r = m.play("migrate_sync", govcloud_sync_mode="initial")
        assert r.ok, _failed(r)
        yield m
    finally:
        m.agent.stop()
        ssh(SRC, "sudo -n /etc/init.d/mariadb start >/dev/null 2>&1; cd / && sudo -n mysql -e 'set global read_only = 0'",
            check=False)


def test_mariadb_cutover_with_a_writer_loses_nothing_and_rollback_reopens(mig):
    w = Writer(SRC, db="govcut", seconds=240, engine="mariadb").start()
    time.sleep(3)
    r = mig.play("migrate_cutover")
    res = w.stop()
    assert r.ok, _failed(r)
    assert w.acknowledged > 10 and res["failed"] > 0, res
    rows = target_rows(TGT, "govcut", engine="mariadb")
    assert lost(res, rows) == [], lost(res, rows)[:20]
    msgs = "\n".join(r.messages.get(TGT, []))
    assert "row counts equal, checksums equal (2 tables)" in msgs, msgs
    assert "writes closed h28 mariadb/govcut" in "\n".join(r.messages.get(SRC, []))
    # the writer's password is in no runner artefact
    seen = b"".join(p.read_bytes() for p in mig.tmp.rglob("*") if p.is_file())
    assert b"writer-secret-in-test" not in seen

    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert "writes reopened h28 govcut" in "\n".join(r.messages.get(SRC, []))
    assert _sql(SRC, "select @@global.read_only") == "0"
    assert ssh(SRC, "sudo -n test -e /var/lib/govcloud/migrate/govcut/source-writes-mysql.json", check=False).returncode == 1
