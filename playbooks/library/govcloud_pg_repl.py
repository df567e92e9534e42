#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""PostgreSQL logical replication from a source database to its target, one action per call.

On the SOURCE (as the postgres OS user, SQL on stdin, names as psql variables):
  facts      read-only: version, wal_level, ssl, superuser, listen_addresses, free slots and WAL
             senders, tables without a primary key or replica identity (UPDATE/DELETE could not
             replicate), whether govcloud's slot exists.  Never fails: an error is a fact.
  role       the replication role (LOGIN REPLICATION, password given as a SCRAM verifier — the
             password itself never leaves the target; the task is no_log).
  publish    read access for the role, the marker table
             ``govcloud.cutover_marker``, the publication ``govcloud_pub`` (FOR ALL TABLES), one
             pg_hba.conf line for the target's address (marked ``# govcloud <slot>``, first in the
             file; the file's original kept once as ``pg_hba.conf.govcloud-orig``) and a reload
             (pg_reload_conf — never a restart).  Idempotent.
  lag        read-only: the slot's confirmed position vs the current WAL position (bytes), the
             walsender's replay_lag (seconds).
  marker     insert one marker row (token) — the last write before the cutover copy ends.
  sequences  read-only: every sequence's last value (logical replication does not carry them).
  unpublish  drop the slot (waiting for its walsender), publication, marker table, role and the
             pg_hba line, then reload.  Idempotent.
On the TARGET:
  credential ensure the replication password in ``passfile`` (owned by postgres, 0600; generated
             here with ``secrets``) and return its SCRAM verifier (the task is no_log).
  subscribe  create the subscription (copy_data) connecting straight to the source's address with
             the passfile (no password in the conninfo or the catalog).  Idempotent.
  status     read-only: the subscription's tables and their copy state, the worker's last message.
  wait_marker wait (deadline) until the marker row arrived.
  setval     set every sequence to the source's value.
  drop       disable the subscription, detach and drop it (the slot is dropped on the source by
             ``unpublish``: the source is closed to non-superusers at cutover).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_pg_repl
short_description: PostgreSQL logical replication source → target for govcloud migrations
options:
  action: {type: str, required: true, choices: [facts, role, publish, lag, marker, sequences, unpublish, credential,
           subscribe, status, wait_marker, setval, drop]}
  name: {type: str, required: true, description: the database}
  slot: {type: str, description: slot, subscription and pg_hba marker name (lowercase, digits, _)}
  role: {type: str, default: govcloud_repl}
  verifier: {type: str, no_log: true, description: SCRAM-SHA-256 verifier of the replication password}
  target_address: {type: str, description: the target's address the source admits (pg_hba)}
  address: {type: str, description: the source's address the target connects to}
  port: {type: int, default: 5432}
  sslmode: {type: str, default: prefer}
  passfile: {type: path}
  token: {type: str}
  timeout: {type: int, default: 60}
  sequences: {type: list, elements: dict}
"""

SLOT_RE = re.compile(r"^[a-z0-9_]{1,63}$")
MARKER = "govcloud.cutover_marker"


def run(argv, stdin=None, timeout=600):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, cwd="/")
    return p.returncode, p.stdout, p.stderr


def psql_raw(db, sql, variables=None, timeout=600):
    pre = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["sudo", "-n", "-u", "postgres"]
    argv = pre + ["psql", "-XqAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", db]
    for k, v in (variables or {}).items():
        argv += ["-v", f"{k}={v}"]     # names and addresses only: never a secret (ps shows argv)
    return run(argv, stdin=sql, timeout=timeout)


class Ctx:
    def __init__(self, m):
        self.m = m
        self.p = m.params
        self.db = self.p["name"]

    def sql(self, sql, db=None, **variables):
        rc, so, se = psql_raw(db or self.db, sql, {"db": self.db, **variables})
        if rc != 0:
            self.m.fail_json(msg=f"postgresql {self.db}: {se.strip()[-500:]}")
        return so.strip()

    def rows(self, sql, db=None, **variables):
        out = self.sql(sql, db, **variables)
        return [line.split("\t") for line in out.splitlines() if line]


def scram_verifier(password, salt=None, iterations=4096):
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()   # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


# ----------------------------------------------------------------------------- source

def facts(c):
    out = {"engine": "postgresql", "name": c.db}
    rc, so, se = psql_raw("postgres", """select current_setting('server_version_num'), current_setting('wal_level'),
  current_setting('ssl'), (select rolsuper from pg_roles where rolname = current_user)::text,
  current_setting('listen_addresses'), current_setting('max_replication_slots'),
  (select count(*) from pg_replication_slots), current_setting('max_wal_senders'),
  (select count(*) from pg_stat_replication),
  (select count(*) from pg_replication_slots where slot_name = :'slot')::text,
  (select count(*) from pg_database where datname = :'db')::text""",
                          {"db": c.db, "slot": c.p.get("slot") or "-"})
    if rc != 0:
        out["error"] = se.strip()[-300:] or f"psql rc {rc}"
        return out
    v = so.strip().split("\t")
    keys = ["version_num", "wal_level", "ssl", "superuser", "listen_addresses", "max_replication_slots",
            "used_replication_slots", "max_wal_senders", "used_wal_senders", "has_govcloud_slot", "exists"]
    out.update(dict(zip(keys, v)))
    out["superuser"] = out.get("superuser") in ("true", "t")
    out["has_govcloud_slot"] = out.get("has_govcloud_slot") == "1"
    if out.pop("exists", "0") != "1":
        out["error"] = f"database {c.db} does not exist on the source"
        return out
    rc, so, se = psql_raw(c.db, """select n.nspname || '.' || c.relname from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p') and not c.relispartition
    and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
    and (c.relreplident = 'n' or (c.relreplident = 'd' and not exists
         (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary)))
  order by 1""")
    if rc != 0:
        out["error"] = se.strip()[-300:]
        return out
    out["tables_without_key"] = [x for x in so.splitlines() if x]
    return out


def hba_path(c):
    return c.sql("select current_setting('hba_file')", db="postgres")


def hba_line(c):
    addr = c.p["target_address"]
    if not re.match(r"^[0-9a-fA-F.:]+$", addr or ""):
        c.m.fail_json(msg=f"target address {addr!r} is not an IP address")
    mask = "128" if ":" in addr else "32"
    db = c.db
    if not re.match(r"^[A-Za-z0-9_]+$", db):
        db = '"' + db.replace('"', '""') + '"'
    # host (not hostssl): the subscription asks for TLS itself (sslmode=require when ssl is on)
    return f"host {db} {c.p['role']} {addr}/{mask} scram-sha-256 # govcloud {c.p['slot']}"


def edit_hba(c, add):
    path = hba_path(c)
    with open(path) as f:
        lines = f.read().splitlines()
    mark = f"# govcloud {c.p['slot']}"
    kept = [ln for ln in lines if not ln.rstrip().endswith(mark)]
    new = ([hba_line(c)] if add else []) + kept
    if new == lines:
        return False
    st = os.stat(path)
    orig = path + ".govcloud-orig"
    if add and not os.path.exists(orig):
        shutil.copy2(path, orig)
    tmp = path + ".govcloud-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(new) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chown(tmp, st.st_uid, st.st_gid)
    os.chmod(tmp, st.st_mode & 0o777)
    os.replace(tmp, path)
    c.sql("select pg_reload_conf()", db="postgres")
    # a reload that rejects the file keeps the old rules: say so
    err = c.sql("select count(*) from pg_hba_file_rules where error is not null", db="postgres") \
        if int(c.sql("select current_setting('server_version_num')", db="postgres")) >= 100000 else "0"
    if err not in ("", "0"):
        c.m.fail_json(msg=f"pg_hba.conf {path} has {err} line(s) PostgreSQL rejects after govcloud's edit "
                          f"(the original is {orig})")
    return True


def role(c):
    p = c.p
    if not (p.get("verifier") or "").startswith("SCRAM-SHA-256$"):
        c.m.fail_json(msg="the role needs the replication password's SCRAM verifier")
    changed = False
    have = c.sql("select count(*) from pg_roles where rolname = :'role'", db="postgres", role=p["role"])
    # the verifier on stdin, never in argv; psql variables are set from the script itself
    verifier_sql = "\\set verifier " + "'" + p["verifier"].replace("'", "''") + "'\n"
    if have == "0":
        c.sql(verifier_sql + "create role :\"role\" login replication password :'verifier'", db="postgres",
              role=p["role"])
        changed = True
    else:
        cur = c.sql(verifier_sql + "select (rolpassword = :'verifier' and rolreplication and rolcanlogin)::text "
                    "from pg_authid where rolname = :'role'", db="postgres", role=p["role"])
        if cur != "true":
            c.sql(verifier_sql + "alter role :\"role\" login replication password :'verifier'", db="postgres",
                  role=p["role"])
            changed = True
    return {"changed": changed, "verified": True}


def publish(c):
    p = c.p
    changed = False
    version = int(c.sql("select current_setting('server_version_num')", db="postgres"))
    before = c.sql("select count(*) from pg_publication where pubname = 'govcloud_pub'")
    c.sql("""create schema if not exists govcloud;
create table if not exists govcloud.cutover_marker (id bigserial primary key, token text not null,
  at timestamptz not null default now());
grant usage on schema govcloud to :"role";
""" + ("grant pg_read_all_data to :\"role\";\n" if version >= 140000 else """
select format('grant usage on schema %I to %I; grant select on all tables in schema %I to %I;',
              nspname, :'role', nspname, :'role') from pg_namespace
 where nspname not in ('pg_catalog', 'information_schema') and nspname !~ '^pg_(toast|temp)' \\gexec
""") + """select 'create publication govcloud_pub for all tables'
 where not exists (select 1 from pg_publication where pubname = 'govcloud_pub') \\gexec
""", role=p["role"])
    changed = changed or before == "0"
    changed = edit_hba(c, True) or changed
    return {"changed": changed}


def lag(c):
    slot = c.p["slot"]
    r = c.rows("""select s.active::text, coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint, -1),
  coalesce((select extract(epoch from r.replay_lag) from pg_stat_replication r where r.pid = s.active_pid)::text, ''),
  coalesce((select r.state from pg_stat_replication r where r.pid = s.active_pid), '')
from pg_replication_slots s where s.slot_name = :'slot'""", db="postgres", slot=slot)
    if not r:
        return {"slot": False, "active": False, "lag_bytes": None, "lag_s": None, "sender_state": None}
    active, lag_b, lag_s, st = r[0]
    lag_b = int(lag_b)
    return {"slot": True, "active": active == "true", "lag_bytes": None if lag_b < 0 else lag_b,
            "lag_s": float(lag_s) if lag_s else (0.0 if lag_b == 0 else None), "sender_state": st or None}


def marker(c):
    tok = c.p["token"]
    c.sql("insert into govcloud.cutover_marker (token) values (:'token')", token=tok)
    return {"changed": True, "token": tok}


def sequences(c):
    rows = c.rows("""select schemaname, sequencename, coalesce(last_value::text, ''), start_value
from pg_sequences order by 1, 2""")
    return {"sequences": [{"schema": s, "name": n, "last_value": (int(v) if v else None), "start": int(st)}
                          for s, n, v, st in rows]}


def unpublish(c):
    p = c.p
    changed = False
    deadline = time.time() + p["timeout"]
    while True:
        r = c.rows("select active::text, coalesce(active_pid, 0) from pg_replication_slots where slot_name = :'slot'",
                   db="postgres", slot=p["slot"])
        if not r:
            break
        if r[0][0] == "true":
            c.sql("select pg_terminate_backend(:pid)", db="postgres", pid=r[0][1])
            if time.time() > deadline:
                c.m.fail_json(msg=f"slot {p['slot']} still in use {p['timeout']} s after its walsender was ended")
            time.sleep(0.5)
            continue
        c.sql("select pg_drop_replication_slot(:'slot')", db="postgres", slot=p["slot"])
        changed = True
        break
    if c.sql("select count(*) from pg_database where datname = :'db'", db="postgres") == "1":
        n = c.sql("select count(*) from pg_publication where pubname = 'govcloud_pub'")
        m = c.sql("select count(*) from pg_namespace where nspname = 'govcloud'")
        if n != "0" or m != "0":
            c.sql("drop publication if exists govcloud_pub; drop schema if exists govcloud cascade")
            changed = True
        if c.sql("select count(*) from pg_roles where rolname = :'role'", db="postgres", role=p["role"]) == "1":
            c.sql('drop owned by :"role"', role=p["role"])
    changed = edit_hba(c, False) or changed
    # the role goes once no other govcloud slot still uses it (privileges it holds elsewhere keep it)
    others = c.sql("select count(*) from pg_replication_slots where slot_name like 'govcloud\\_%'", db="postgres")
    if others == "0" and c.sql("select count(*) from pg_roles where rolname = :'role'", db="postgres",
                               role=p["role"]) == "1":
        rc, _, _ = psql_raw("postgres", 'drop role :"role"', {"role": p["role"]})
        changed = changed or rc == 0
    return {"changed": changed}


# ----------------------------------------------------------------------------- target

def credential(c):
    path = c.p["passfile"]
    pg = pwd.getpwnam("postgres")
    d = os.path.dirname(path)
    os.makedirs(d, mode=0o700, exist_ok=True)
    os.chown(d, pg.pw_uid, pg.pw_gid)
    os.chmod(d, 0o700)
    vpath = path + ".verifier"
    line_pre = f"{c.p['address']}:{c.p['port']}:*:{c.p['role']}:"
    changed = False
    try:
        with open(path) as f:
            existing = f.read().strip()
    except FileNotFoundError:
        existing = ""
    if not existing.startswith(line_pre) or not os.path.exists(vpath):
        password = secrets.token_urlsafe(32)          # no ':' or '\\': safe in a passfile
        for target, text in ((path, line_pre + password + "\n"), (vpath, scram_verifier(password) + "\n")):
            tmp = target + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chown(tmp, pg.pw_uid, pg.pw_gid) if target == path else None
            os.replace(tmp, target)
        changed = True
    with open(vpath) as f:
        return {"changed": changed, "verifier": f.read().strip()}


def subscribe(c):
    p = c.p
    have = c.sql("select count(*) from pg_subscription where subname = :'slot'", db=c.db, slot=p["slot"])
    if have != "0":
        return {"changed": False}
    conninfo = " ".join(f"{k}='{str(v)}'" for k, v in (
        ("host", p["address"]), ("port", p["port"]), ("dbname", c.db), ("user", p["role"]),
        ("passfile", p["passfile"]), ("sslmode", p["sslmode"]), ("application_name", p["slot"]),
        ("connect_timeout", 10)))
    if "'" in conninfo.replace("='", "").replace("' ", "")[:-1]:
        c.m.fail_json(msg="a quote in the connection parameters")
    c.sql("create subscription :\"slot\" connection :'conninfo' publication govcloud_pub "
          "with (copy_data = true, slot_name = :'slot')", slot=p["slot"], conninfo=conninfo)
    return {"changed": True}


def status(c):
    r = c.rows("""select s.subenabled::text,
  (select count(*) from pg_subscription_rel r where r.srsubid = s.oid),
  (select count(*) from pg_subscription_rel r where r.srsubid = s.oid and r.srsubstate <> 'r'),
  coalesce((select max(st.last_msg_receipt_time)::text from pg_stat_subscription st where st.subid = s.oid), ''),
  coalesce((select count(*) from pg_stat_subscription st where st.subid = s.oid and st.pid is not null), 0)
from pg_subscription s where s.subname = :'slot'""", slot=c.p["slot"])
    if not r:
        return {"subscription": False, "state": "absent"}
    enabled, tables, pending, last_msg, workers = r[0]
    state = ("down" if enabled != "true" or workers == "0" else
             "copying" if int(pending) else "streaming")
    return {"subscription": True, "state": state, "tables": int(tables), "tables_copying": int(pending),
            "last_msg": last_msg or None}


def wait_marker(c):
    deadline = time.time() + c.p["timeout"]
    start = time.time()
    while time.time() < deadline:
        rc, so, _ = psql_raw(c.db, "select count(*) from govcloud.cutover_marker where token = :'token'",
                             {"token": c.p["token"]})
        if rc == 0 and so.strip() not in ("", "0"):
            return {"arrived": True, "waited_s": round(time.time() - start, 3)}
        time.sleep(0.2)
    c.m.fail_json(msg=f"the cutover marker did not arrive on the target within {c.p['timeout']} s "
                      f"(replication behind or down)", arrived=False)


def setval(c):
    n = 0
    stmts = []
    for s in c.p.get("sequences") or []:
        name = '"' + str(s["schema"]).replace('"', '""') + '"."' + str(s["name"]).replace('"', '""') + '"'
        lit = "'" + name.replace("'", "''") + "'"
        if s.get("last_value") is None:
            stmts.append(f"select setval({lit}::regclass, {int(s['start'])}, false);")
        else:
            stmts.append(f"select setval({lit}::regclass, {int(s['last_value'])}, true);")
        n += 1
    if stmts:
        c.sql("\n".join(stmts))
    return {"changed": bool(n), "sequences_set": n}


def drop(c):
    slot = c.p["slot"]
    if c.sql("select count(*) from pg_database where datname = :'db'", db="postgres") != "1":
        return {"changed": False}
    if c.sql("select count(*) from pg_subscription where subname = :'slot'", slot=slot) == "0":
        return {"changed": False}
    c.sql('alter subscription :"slot" disable', slot=slot)
    c.sql('alter subscription :"slot" set (slot_name = none)', slot=slot)
    c.sql('drop subscription :"slot"', slot=slot)
    return {"changed": True}


ACTIONS = {"facts": facts, "role": role, "publish": publish, "lag": lag, "marker": marker, "sequences": sequences,
           "unpublish": unpublish, "credential": credential, "subscribe": subscribe, "status": status,
           "wait_marker": wait_marker, "setval": setval, "drop": drop}


def main():
    m = AnsibleModule(argument_spec=dict(
        action=dict(type="str", required=True, choices=list(ACTIONS)),
        name=dict(type="str", required=True),
        slot=dict(type="str"),
        role=dict(type="str", default="govcloud_repl"),
        verifier=dict(type="str", no_log=True),
        target_address=dict(type="str"),
        address=dict(type="str"),
        port=dict(type="int", default=5432),
        sslmode=dict(type="str", default="prefer", choices=["disable", "prefer", "require", "verify-ca", "verify-full"]),
        passfile=dict(type="path"),
        token=dict(type="str"),
        timeout=dict(type="int", default=60),
        sequences=dict(type="list", elements="dict"),
    ), supports_check_mode=True)
    p = m.params
    if p.get("slot") is not None and not SLOT_RE.match(p["slot"]):
        m.fail_json(msg=f"slot name {p['slot']!r}: lowercase letters, digits and _ only")
    if not re.match(r"^[a-z_][a-z0-9_]{0,62}$", p["role"]):
        m.fail_json(msg=f"role name {p['role']!r}: lowercase letters, digits and _ only")
    read_only = p["action"] in ("facts", "lag", "sequences", "status")
    if m.check_mode and not read_only:
        m.exit_json(changed=False, skipped=True, msg="check mode")
    res = ACTIONS[p["action"]](Ctx(m))
    res.setdefault("changed", False)
    m.exit_json(**res)


if __name__ == "__main__":
    main()
