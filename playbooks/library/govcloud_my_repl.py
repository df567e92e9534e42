#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""MariaDB GTID replication from a source server to its target, for a seconds-long cutover.

role: source (runs on the SOURCE, delegated)
  state: check    read-only: can this server be a replication source for these databases?  Returns
                  ``reason`` (why not, exactly — then the databases are copied by dump/restore),
                  ``warnings``, the settings read and ``gtid_binlog_pos``.
  state: present  the replication account ``'govcloud_repl'@'<client_host>'`` with REPLICATION
                  SLAVE only; its password is random, generated here, kept in ``secret_file`` (0600,
                  stage-then-rename; a re-run keeps it) and given to the server on stdin with
                  ``sql_log_bin = 0`` (never in a binary log, a command line or the module's result).
  state: absent   the account dropped and ``secret_file`` removed.
role: replica (runs on the TARGET)
  state: reachable  can the target open a TCP connection to source_host:source_port?
  state: status   the connection ``govcloud`` as it runs: threads, errors, seconds behind the
                  source, GTID distance to ``source_gtid`` (the source's gtid_binlog_pos).
  state: started  (re)configures and starts it: a server_id distinct from the source's (set and
                  persisted in ``cnf_file``), gtid_slave_pos from the initial dump (``dump_file``),
                  CHANGE MASTER … MASTER_USE_GTID=slave_pos (password read from ``secret_file``,
                  fed on stdin), replicate_wild_do_table = only ``databases`` (set while stopped),
                  MASTER_SSL when the source offers TLS; then waits up to ``timeout`` s for it to run.
  state: caught_up  waits (MASTER_GTID_WAIT, ``timeout``) until the target has applied everything
                  up to ``source_gtid`` (the source is closed to writes by then), then STOP SLAVE,
                  RESET SLAVE ALL: the target stands alone.
  state: absent   STOP SLAVE, RESET SLAVE ALL, ``secret_file`` removed (rollback).
SQL goes to the ``mysql`` client on stdin (values as SQL literals, never on a command line).
"""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
import socket
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_my_repl
short_description: MariaDB GTID replication source checks, account, and replica control
options:
  role: {type: str, required: true, choices: [source, replica]}
  state: {type: str, required: true, choices: [check, present, absent, status, started, caught_up]}
  databases: {type: list, elements: str, default: []}
  secret_file: {type: path}
  client_host: {type: str, description: the address the source sees the replica connect from}
  source_host: {type: str}
  source_port: {type: int, default: 3306}
  source_server_id: {type: int}
  source_ssl: {type: bool, default: false}
  source_gtid: {type: str, default: ''}
  dump_file: {type: path, description: initial dump whose commented SET GLOBAL gtid_slave_pos is used}
  cnf_file: {type: path, default: /etc/mysql/mariadb.conf.d/90-govcloud-replica.cnf}
  timeout: {type: int, default: 60}
  wait: {type: int, default: 0, description: "status: seconds to wait for source_gtid first (not an error if not reached)"}
  client: {type: list, elements: str, default: [mysql], description: the client command (tests use a private server)}
"""

CONNECTION = "govcloud"
ACCOUNT = "govcloud_repl"
MIN_VERSION = (10, 0, 2)              # MariaDB GTID
SHORT_RETENTION_S = 24 * 3600         # less binlog retention than a day: a replica down that long cannot resume


class Failed(Exception):
    pass


def ql(text: str) -> str:
    """A SQL string literal (MariaDB, default sql_mode: backslash escapes)."""
    return "'" + str(text).replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0").replace("\n", "\\n") + "'"


def wild_pattern(db: str) -> str:
    """replicate_wild_do_table pattern for every table of ``db`` (LIKE wildcards in the name escaped)."""
    return db.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ".%"


def parse_gtid(pos: str) -> dict[int, tuple[int, int]]:
    """'0-1-100,1-2-7' -> {domain: (server_id, seq_no)}."""
    out: dict[int, tuple[int, int]] = {}
    for part in (pos or "").replace("\n", ",").split(","):
        part = part.strip()
        if not part:
            continue
        d, s, n = part.split("-")
        out[int(d)] = (int(s), int(n))
    return out


def gtid_distance(source: str, target: str) -> int:
    """Transactions the target still lacks: per replication domain, the source's sequence number
    minus the target's (a domain the target has not seen counts whole)."""
    s, t = parse_gtid(source), parse_gtid(target)
    return sum(max(0, seq - t.get(d, (0, 0))[1]) for d, (_, seq) in s.items())


def dump_gtid(path: str) -> str:
    """The GTID position mysqldump --gtid --master-data=2 recorded (commented) in its dump."""
    pat = re.compile(r"^(?:-- )?SET GLOBAL gtid_slave_pos\s*=\s*'([0-9,\- ]*)'")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            hit = pat.match(line)
            if hit:
                return hit.group(1).replace(" ", "")
    raise Failed(f"{path}: no GTID position in the dump (mysqldump --gtid --master-data=2)")


def is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return addr == "localhost"


def version_tuple(v: str) -> tuple[int, ...]:
    hit = re.match(r"(\d+)\.(\d+)\.(\d+)", v or "")
    return tuple(int(x) for x in hit.groups()) if hit else (0, 0, 0)


# why a source cannot replicate: code -> English text (govcloud/migrate/replication.py has the
# same codes in Chinese and English for the orchestrator's dry run and status)
EN = {
    "my.not_mariadb": "the source runs MySQL {version}, not MariaDB: govcloud replicates MariaDB GTID only",
    "my.version": "MariaDB {version} is too old for GTID replication (10.0.2 or later)",
    "my.log_bin": "log_bin is OFF on the source: enabling the binary log needs a restart of the source's MariaDB "
                  "(log_bin in its configuration), which govcloud does not do on its own",
    "my.binlog_format": "binlog_format is {format} on the source: replicating only this system's databases needs ROW "
                        "(SET GLOBAL binlog_format = 'ROW' changes it for every client of the server: the operator's "
                        "decision)",
    "my.server_id": "server_id is 0 on the source: a server without a server id cannot be a replication source",
    "my.skip_networking": "skip_networking is ON on the source: it accepts no TCP connections (changing it needs a "
                          "restart)",
    "my.bind": "the source's MariaDB listens only on {bind} (bind_address): the replica cannot connect (changing it "
               "needs a restart of the source's MariaDB)",
    "my.db_comma": "its name holds a comma (replication filters are comma-separated lists)",
    "my.db_non_transactional": "non-transactional tables ({tables}): no consistent snapshot at a GTID position "
                               "without locking them for the whole dump",
    "my.db_missing": "no such database on the source",
}


def en(b: dict) -> str:
    return EN[b["code"]].format(**b.get("params", {}))


def server_blocker(facts: dict) -> dict | None:
    """The first thing that keeps this server from being a replication source (None: nothing)."""
    ver = facts.get("version", "")
    if "mariadb" not in ver.lower():
        return {"code": "my.not_mariadb", "params": {"version": ver}}
    if version_tuple(ver) < MIN_VERSION:
        return {"code": "my.version", "params": {"version": ver}}
    if str(facts.get("log_bin")) not in ("1", "ON"):
        return {"code": "my.log_bin", "params": {}}
    fmt = str(facts.get("binlog_format", "")).upper()
    if fmt == "STATEMENT":
        return {"code": "my.binlog_format", "params": {"format": fmt}}
    if str(facts.get("server_id")) in ("0", "", "None"):
        return {"code": "my.server_id", "params": {}}
    if str(facts.get("skip_networking")) in ("1", "ON"):
        return {"code": "my.skip_networking", "params": {}}
    bind = str(facts.get("bind_address") or "")
    if bind == "localhost" or (bind and all(is_loopback(b) for b in bind.replace(" ", "").split(","))):
        return {"code": "my.bind", "params": {"bind": bind}}
    return None


def db_blockers(facts: dict, databases: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for db in databases:
        if "," in db:
            out[db] = {"code": "my.db_comma", "params": {}}
        elif facts.get("non_transactional", {}).get(db):
            out[db] = {"code": "my.db_non_transactional",
                       "params": {"tables": ", ".join(facts["non_transactional"][db][:5])}}
        elif db not in facts.get("present", [db]):
            out[db] = {"code": "my.db_missing", "params": {}}
    return out


def advice(facts: dict) -> list[str]:
    out = []
    if str(facts.get("binlog_format", "")).upper() == "MIXED":
        out.append("binlog_format is MIXED: statements MariaDB logs as statements are filtered by their "
                   "default database; ROW is safer")
    if str(facts.get("gtid_strict_mode")) not in ("1", "ON"):
        out.append("gtid_strict_mode is OFF on the source (ON is recommended: out-of-order GTIDs are refused)")
    ret = facts.get("retention_s")
    if ret and 0 < float(ret) < SHORT_RETENTION_S:
        out.append(f"binary logs are kept only {float(ret) / 3600:.1f} h on the source: a replica stopped "
                   "longer cannot resume (a new initial copy is needed)")
    if str(facts.get("have_ssl")).upper() != "YES":
        out.append("the source offers no TLS (have_ssl): replication traffic is not encrypted")
    return out


def decide(facts: dict, databases: list[str]) -> tuple[str | None, list[str], dict[str, str]]:
    """(reason the server cannot replicate — None if it can, advice, per-database reasons), in
    English.  ``facts``: what state=check read.  Pure (unit-tested)."""
    b = server_blocker(facts)
    if b is not None:
        return en(b), [], {}
    return None, advice(facts), {db: en(x) for db, x in db_blockers(facts, databases).items()}


class My:
    def __init__(self, m: AnsibleModule) -> None:
        self.m = m
        self.client = list(m.params["client"]) or ["mysql"]
        self.hide: list[str] = []          # never in a message: the replication password

    def scrub(self, text: str) -> str:
        for h in self.hide:
            text = text.replace(h, "********")
        return text

    def run(self, sql: str, vertical: bool = False, header: bool = False, timeout: int = 120) -> str:
        argv = self.client + (["-B"] if header else ["-NB"]) + (["-E"] if vertical else [])
        p = subprocess.run(argv, input=sql, capture_output=True, text=True, timeout=timeout, cwd="/")
        if p.returncode != 0:
            raise Failed(self.scrub(p.stderr.strip()[-400:]) or f"mysql exited {p.returncode}")
        return p.stdout

    def one(self, sql: str) -> str:
        return self.run(sql).strip()

    def slave(self) -> dict[str, str] | None:
        out = self.run(f"show slave {ql(CONNECTION)} status;", header=True) if self.has_connection() else ""
        lines = out.rstrip("\n").split("\n")
        if len(lines) < 2:
            return None
        return dict(zip(lines[0].split("\t"), lines[1].split("\t")))

    def has_connection(self) -> bool:
        out = self.run("show all slaves status;", header=True).rstrip("\n").split("\n")
        if len(out) < 2:
            return False
        cols = out[0].split("\t")
        i = cols.index("Connection_name")
        return any(r.split("\t")[i] == CONNECTION for r in out[1:])


# ------------------------------------------------------------------------------------------ source
def source_facts(my: My, databases: list[str]) -> dict:
    row = my.one("select @@version, @@log_bin, @@binlog_format, @@server_id, @@gtid_strict_mode, "
                 "@@expire_logs_days, ifnull(@@global.binlog_expire_logs_seconds, 0), @@have_ssl, "
                 "ifnull(@@bind_address, ''), @@skip_networking, @@port, @@gtid_binlog_pos;").split("\t")
    (ver, log_bin, fmt, sid, strict, days, secs, ssl, bind, skipnet, port, pos) = (row + [""] * 12)[:12]
    ret = float(secs or 0) or float(days or 0) * 86400
    facts = {"version": ver, "log_bin": log_bin, "binlog_format": fmt, "server_id": sid, "gtid_strict_mode": strict,
             "retention_s": ret, "have_ssl": ssl, "bind_address": bind, "skip_networking": skipnet,
             "port": int(port or 3306), "gtid_binlog_pos": pos}
    if databases:
        names = ", ".join(ql(d) for d in databases)
        facts["present"] = my.one(f"select schema_name from information_schema.schemata where schema_name in ({names});"
                                  ).splitlines()
        nt: dict[str, list[str]] = {}
        for line in my.one("select table_schema, table_name, engine from information_schema.tables where "
                           f"table_type = 'BASE TABLE' and table_schema in ({names}) and engine not in "
                           "('InnoDB', 'Aria', 'MEMORY') order by 1, 2;").splitlines():
            s, t, e = (line.split("\t") + ["", ""])[:3]
            nt.setdefault(s, []).append(f"{t} ({e})")
        facts["non_transactional"] = nt
    return facts


def write_secret(path: str, value: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_secret(path: str) -> str:
    with open(path) as f:
        value = f.read().strip()
    if not re.fullmatch(r"[0-9a-f]{32,128}", value):
        raise Failed(f"{path}: not a replication secret written by govcloud")
    return value


def account(client_host: str) -> str:
    return f"{ql(ACCOUNT)}@{ql(client_host)}"


def source_present(my: My, client_host: str, secret_file: str, ssl: bool) -> dict:
    created = not os.path.exists(secret_file)
    if created:
        write_secret(secret_file, secrets.token_hex(24))
    pw = read_secret(secret_file)
    my.hide.append(pw)
    acct = account(client_host)
    # sql_log_bin = 0: the statement (and its password) stays out of the binary log, and the
    # account is not replicated anywhere
    my.run(f"set session sql_log_bin = 0;\ncreate user if not exists {acct} identified by {ql(pw)};\n"
           f"alter user {acct} identified by {ql(pw)}{' require ssl' if ssl else ''};\n"
           f"grant replication slave on *.* to {acct};\n")
    return {"account": f"{ACCOUNT}@{client_host}", "created": created}


def source_absent(my: My, client_host: str, secret_file: str | None) -> dict:
    acct = account(client_host)
    had = my.one(f"select count(*) from mysql.user where user = {ql(ACCOUNT)} and host = {ql(client_host)};") != "0"
    my.run(f"set session sql_log_bin = 0;\ndrop user if exists {acct};\n")
    if secret_file and os.path.exists(secret_file):
        os.unlink(secret_file)
    return {"account": f"{ACCOUNT}@{client_host}", "removed": had}


# ----------------------------------------------------------------------------------------- replica
def lag(st: dict | None, source_gtid: str, my: My) -> dict:
    tpos = my.one("select @@gtid_slave_pos;")
    out = {"configured": st is not None, "gtid_slave_pos": tpos, "source_gtid": source_gtid,
           "gtid_distance": gtid_distance(source_gtid, tpos) if source_gtid else None}
    if st is None:
        return {**out, "running": False, "io": "No", "sql": "No", "seconds_behind": None, "error": ""}
    sbm = st.get("Seconds_Behind_Master", "NULL")
    err = "; ".join(x for x in (st.get("Last_IO_Error", ""), st.get("Last_SQL_Error", "")) if x)
    return {**out, "running": st.get("Slave_IO_Running") == "Yes" and st.get("Slave_SQL_Running") == "Yes",
            "io": st.get("Slave_IO_Running"), "sql": st.get("Slave_SQL_Running"),
            "seconds_behind": int(sbm) if sbm.isdigit() else None, "error": err,
            "master_host": st.get("Master_Host"), "master_port": st.get("Master_Port"),
            "master_user": st.get("Master_User"), "ssl": st.get("Master_SSL_Allowed") == "Yes",
            "filter": st.get("Replicate_Wild_Do_Table", "")}


def persist_server_id(path: str, sid: int) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("# govcloud: this server replicates from its migration source; a server id of its own\n"
                f"[mariadb]\nserver_id = {int(sid)}\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def replica_started(my: My, p: dict) -> dict:
    dbs = p["databases"]
    if not dbs:
        raise Failed("no databases to replicate")
    pw = read_secret(p["secret_file"])
    my.hide.append(pw)
    sid_changed = None
    sid = int(my.one("select @@server_id;") or 0)
    if p.get("source_server_id") is not None and sid == int(p["source_server_id"]) or sid == 0:
        new = (int(p.get("source_server_id") or 0) % 4000000000) + 1000
        my.run(f"set global server_id = {new};")
        persist_server_id(p["cnf_file"], new)
        sid_changed = {"from": sid, "to": new}
        sid = new
    pos = dump_gtid(p["dump_file"])
    c = ql(CONNECTION)
    if my.has_connection():
        my.run(f"stop slave {c};\nreset slave {c} all;\n")
    ssl = ", master_ssl = 1" if p["source_ssl"] else ""
    my.run(f"set global gtid_slave_pos = {ql(pos)};\n"
           f"change master {c} to master_host = {ql(p['source_host'])}, master_port = {int(p['source_port'])}, "
           f"master_user = {ql(ACCOUNT)}, master_password = {ql(pw)}, master_use_gtid = slave_pos, "
           f"master_connect_retry = 5{ssl};\n"
           f"set global {CONNECTION}.replicate_wild_do_table = {ql(','.join(wild_pattern(d) for d in dbs))};\n"
           f"start slave {c};\n")
    deadline = time.time() + p["timeout"]
    while True:
        st = lag(my.slave(), p["source_gtid"], my)
        if st["running"] and st["seconds_behind"] is not None:
            break
        if time.time() > deadline or (st["error"] and st["sql"] == "No"):
            raise Failed(f"replication from {p['source_host']}:{p['source_port']} did not start within "
                         f"{p['timeout']} s: IO thread {st['io']}, SQL thread {st['sql']}"
                         + (f": {st['error']}" if st["error"] else ""))
        time.sleep(0.5)
    return {**st, "server_id": sid, "server_id_changed": sid_changed, "initial_gtid": pos}


def replica_caught_up(my: My, p: dict) -> dict:
    st = my.slave()
    if st is None:
        raise Failed("no replication connection on the target")
    src = p["source_gtid"]
    t0 = time.time()
    if src:
        res = my.one(f"select master_gtid_wait({ql(src)}, {int(p['timeout'])});")
        if res != "0":
            now = lag(my.slave(), src, my)
            raise Failed(f"the target did not reach the source's GTID position {src} within {p['timeout']} s "
                         f"(target {now['gtid_slave_pos']}, {now['gtid_distance']} transactions behind, IO thread "
                         f"{now['io']}, SQL thread {now['sql']}{': ' + now['error'] if now['error'] else ''})")
    waited = round(time.time() - t0, 2)
    final = lag(my.slave(), src, my)
    c = ql(CONNECTION)
    my.run(f"stop slave {c};\nreset slave {c} all;\n")
    return {**final, "waited_s": waited, "stopped": True}


def replica_absent(my: My, p: dict) -> dict:
    had = my.has_connection()
    if had:
        c = ql(CONNECTION)
        my.run(f"stop slave {c};\nreset slave {c} all;\n")
    sf = p.get("secret_file")
    if sf and os.path.exists(sf):
        os.unlink(sf)
    return {"removed": had}


def tcp_reachable(host: str, port: int, timeout: float = 5.0) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"


def main() -> None:
    m = AnsibleModule(argument_spec=dict(
        role=dict(type="str", required=True, choices=["source", "replica"]),
        state=dict(type="str", required=True, choices=["check", "present", "absent", "status", "started", "caught_up",
                                                       "reachable"]),
        databases=dict(type="list", elements="str", default=[]),
        secret_file=dict(type="path", no_log=False),
        client_host=dict(type="str"),
        source_host=dict(type="str"),
        source_port=dict(type="int", default=3306),
        source_server_id=dict(type="int"),
        source_ssl=dict(type="bool", default=False),
        source_gtid=dict(type="str", default=""),
        dump_file=dict(type="path"),
        cnf_file=dict(type="path", default="/etc/mysql/mariadb.conf.d/90-govcloud-replica.cnf"),
        timeout=dict(type="int", default=60),
        wait=dict(type="int", default=0),
        client=dict(type="list", elements="str", default=["mysql"])), supports_check_mode=True)
    p = m.params
    my = My(m)
    role, state = p["role"], p["state"]
    try:
        if role == "source" and state == "check":
            facts = source_facts(my, p["databases"])
            reason, warnings, per_db = decide(facts, p["databases"])
            sb = server_blocker(facts)
            m.exit_json(changed=False, reason=reason, advice=warnings, per_db=per_db, facts=facts,
                        blocker=sb, db_blockers=db_blockers(facts, p["databases"]) if sb is None else {},
                        gtid_binlog_pos=facts["gtid_binlog_pos"],
                        replicate=[] if reason else [d for d in p["databases"] if d not in per_db])
        if state == "reachable":
            why = tcp_reachable(p["source_host"], p["source_port"])
            m.exit_json(changed=False, reachable=why is None, why=why)
        if state == "status":
            if p["wait"] > 0 and p["source_gtid"] and my.has_connection():
                # not an error when it does not get there: the lag says how far it is
                my.one(f"select master_gtid_wait({ql(p['source_gtid'])}, {int(p['wait'])});")
            m.exit_json(changed=False, **lag(my.slave(), p["source_gtid"], my))
        if m.check_mode:
            m.exit_json(changed=True)
        if role == "source" and state == "present":
            m.exit_json(changed=True, **source_present(my, p["client_host"], p["secret_file"], p["source_ssl"]))
        if role == "source" and state == "absent":
            out = source_absent(my, p["client_host"], p["secret_file"])
            m.exit_json(changed=out["removed"], **out)
        if role == "replica" and state == "started":
            m.exit_json(changed=True, **replica_started(my, p))
        if role == "replica" and state == "caught_up":
            m.exit_json(changed=True, **replica_caught_up(my, p))
        if role == "replica" and state == "absent":
            out = replica_absent(my, p)
            m.exit_json(changed=out["removed"], **out)
        m.fail_json(msg=f"role {role} has no state {state}")
    except Failed as exc:
        m.fail_json(msg=str(exc))
    except (OSError, subprocess.TimeoutExpired) as exc:
        m.fail_json(msg=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
