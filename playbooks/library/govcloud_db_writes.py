#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Close a source database to application writes before the final copy, or open it again.

closed:
  PostgreSQL  ``ALTER DATABASE … CONNECTION LIMIT 0`` (no new sessions but superusers'), then every
              other client session of the database terminated, and waited for until it is gone: a
              transaction that had not committed is rolled back, every acknowledged commit is on
              disk before the final copy starts.  A session that is back after that (a superuser
              application) cannot be excluded: the module fails, the cutover refuses.
  MariaDB /   ``SET GLOBAL read_only = ON`` (waits for commits in progress; afterwards only accounts
  MySQL       with SUPER / READ_ONLY ADMIN write), then every other client connection killed and
              waited for; a connection of such a privileged account that is back fails the module.
The setting it changes is recorded first (``state_dir/<system>/source-writes-<engine>-<db>.json``,
0600, written stage-then-rename; a re-run keeps the first record), so ``open`` restores exactly it.

open: puts back the recorded setting and removes the record (nothing recorded: nothing to do).
SQL is fed on stdin with the name as a psql variable (never spliced into a command line).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_db_writes
short_description: close a source database to application writes (cutover), or open it again (rollback)
options:
  engine: {type: str, required: true, choices: [postgresql, mysql, mariadb]}
  name: {type: str, required: true}
  state: {type: str, required: true, choices: [closed, open]}
  record_dir: {type: path, required: true, description: where the previous setting is recorded}
  timeout: {type: int, default: 30, description: seconds to wait for terminated sessions to go}
"""

QUIET = 2.0          # seconds without another session before the database counts as closed


def run(argv: list[str], stdin: str | None = None, timeout: int = 120) -> tuple[int, str, str]:
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, cwd="/")
    return p.returncode, p.stdout, p.stderr


def psql(m: AnsibleModule, db: str, sql: str) -> str:
    pre = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["sudo", "-n", "-u", "postgres"]
    rc, so, se = run(pre + ["psql", "-XqAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-v", f"db={db}", "-d", "postgres"],
                     stdin=sql)
    if rc != 0:
        m.fail_json(msg=f"postgresql {db}: {se.strip()[-400:]}", closed=False)
    return so.strip()


def mysql(m: AnsibleModule, db: str, sql: str) -> str:
    rc, so, se = run(["mysql", "-NB"], stdin=sql)
    if rc != 0:
        m.fail_json(msg=f"mysql {db}: {se.strip()[-400:]}", closed=False)
    return so.strip()


def write_record(path: str, data: dict) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_record(path: str) -> dict | None:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


PG_OTHERS = """select pid from pg_stat_activity where datname = :'db' and pid <> pg_backend_pid()
  and backend_type = 'client backend'"""


def pg_closed(m: AnsibleModule, db: str, rec_path: str, timeout: int) -> dict:
    limit = psql(m, db, "select datconnlimit from pg_database where datname = :'db'")
    if limit == "":
        m.fail_json(msg=f"postgresql {db}: no such database", closed=False)
    rec = read_record(rec_path)
    if rec is None:
        rec = {"engine": "postgresql", "name": db, "connlimit": int(limit), "at": time.time()}
        write_record(rec_path, rec)
    psql(m, db, 'alter database :"db" connection limit 0')
    killed = psql(m, db, f"select count(pg_terminate_backend(pid)) from ({PG_OTHERS}) s")
    # quiet for QUIET seconds in a row: a superuser that reconnects at once is seen, not missed
    deadline, quiet_since = time.time() + timeout, time.time()
    while True:
        left = psql(m, db, f"select string_agg(a.pid || ' ' || a.usename || ' (' || coalesce(a.application_name, '') || ')', ', ')"
                           f" from pg_stat_activity a where a.pid in ({PG_OTHERS})")
        now = time.time()
        if left:
            if now > deadline:
                m.fail_json(msg=f"postgresql {db}: sessions still open {timeout}s after the database was closed "
                                f"(superuser applications cannot be kept out): {left}", closed=False)
            psql(m, db, f"select count(pg_terminate_backend(pid)) from ({PG_OTHERS}) s")
            quiet_since = time.time()
        elif now - quiet_since >= min(QUIET, timeout):
            break
        time.sleep(0.1)
    # the checksum both sides compute depends on it (govcloud_db_counts: hash64 needs 11)
    version = psql(m, db, "show server_version_num")
    return {"previous": {"connlimit": rec["connlimit"]}, "terminated": int(killed or 0),
            "server_version_num": int(version) if version.isdigit() else None}


MY_OTHERS = ("select id from information_schema.processlist where id <> connection_id() "
             "and command not in ('Daemon', 'Binlog Dump', 'Killed') "
             "and user not in ('system user', 'event_scheduler', '')")
MY_PRIVILEGED = ("select group_concat(concat(p.id, ' ', p.user) separator ', ') from information_schema.processlist p "
                 "where p.id in (" + MY_OTHERS + ") and exists (select 1 from information_schema.user_privileges u "
                 "where u.grantee like concat('''', replace(p.user, '''', ''''''), '''@%') "
                 "and u.privilege_type in ('SUPER', 'READ_ONLY ADMIN'))")


def my_kill_others(m: AnsibleModule, db: str) -> int:
    ids = [i for i in mysql(m, db, MY_OTHERS + ";").split() if i.isdigit()]
    for i in ids:
        run(["mysql", "-NB"], stdin=f"kill connection {int(i)};")    # gone already: fine
    return len(ids)


def my_closed(m: AnsibleModule, db: str, rec_path: str, timeout: int) -> dict:
    ro = mysql(m, db, "select @@global.read_only;")
    rec = read_record(rec_path)
    if rec is None:
        rec = {"engine": "mysql", "name": db, "read_only": ro, "at": time.time()}
        write_record(rec_path, rec)
    mysql(m, db, "set global read_only = 1;")
    killed = my_kill_others(m, db)
    deadline, quiet_since = time.time() + timeout, time.time()
    while True:
        # non-privileged sessions back after the kill cannot write (read_only); privileged ones could
        left = mysql(m, db, MY_PRIVILEGED + ";")
        gone = mysql(m, db, "select count(*) from information_schema.processlist where command = 'Killed';")
        now = time.time()
        if (left and left != "NULL") or gone not in ("0", ""):
            if now > deadline:
                m.fail_json(msg=f"mysql {db}: sessions of accounts that write despite read_only still open "
                                f"{timeout}s after the server was set read-only: {left}", closed=False)
            my_kill_others(m, db)
            quiet_since = time.time()
        elif now - quiet_since >= min(QUIET, timeout):
            break
        time.sleep(0.1)
    return {"previous": {"read_only": rec["read_only"]}, "terminated": killed}


def main() -> None:
    m = AnsibleModule(argument_spec=dict(
        engine=dict(type="str", required=True, choices=["postgresql", "mysql", "mariadb"]),
        name=dict(type="str", required=True),
        state=dict(type="str", required=True, choices=["closed", "open"]),
        record_dir=dict(type="path", required=True),
        timeout=dict(type="int", default=30)), supports_check_mode=True)
    engine, db, state = m.params["engine"], m.params["name"], m.params["state"]
    fam = "postgresql" if engine == "postgresql" else "mysql"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in db)
    # read_only is the server's: one record per server, whichever database closed it first
    rec_path = os.path.join(m.params["record_dir"],
                            f"source-writes-postgresql-{safe}.json" if fam == "postgresql" else "source-writes-mysql.json")
    if m.check_mode:
        m.exit_json(changed=True, record=rec_path)
    if state == "closed":
        out = (pg_closed if fam == "postgresql" else my_closed)(m, db, rec_path, m.params["timeout"])
        m.exit_json(changed=True, closed=True, record=rec_path, **out)
    rec = read_record(rec_path)
    if rec is None:
        m.exit_json(changed=False, closed=False, reopened=False, record=rec_path)
    if fam == "postgresql":
        psql(m, db, f'alter database :"db" connection limit {int(rec["connlimit"])}')
    else:
        mysql(m, db, f"set global read_only = {1 if str(rec['read_only']) in ('1', 'ON') else 0};")
    os.unlink(rec_path)
    m.exit_json(changed=True, closed=False, reopened=True, record=rec_path, previous=rec)


if __name__ == "__main__":
    main()
