"""An application writer for cutover tests and bench/bench_cutover.py: it runs ON the source host
as the application's own database account (PostgreSQL: OS user ``govapp``, peer authentication;
not a superuser, so closing the database applies to it), INSERTs and UPDATEs a table of its own
while the cutover runs, and counts only the writes the server acknowledged (the statement's
RETURNING row came back, which in autocommit is after COMMIT).  Afterwards ``lost()`` compares
every acknowledged write with the target: an inserted id missing there, or a row whose value is
lower than the last acknowledged update, is a lost write."""
from __future__ import annotations

import json
import shlex
import subprocess
import threading
from dataclasses import dataclass, field

from migrate_helpers import HSTATE, ssh

TABLE = "cutover_probe"

SETUP_PG = f"""
create table if not exists {TABLE} (id bigserial primary key, v bigint not null default 0, note text);
alter table {TABLE} owner to govapp;
"""

SETUP_MY = f"""
create table if not exists {{db}}.{TABLE} (id bigint auto_increment primary key, v bigint not null default 0,
  note text) engine=InnoDB;
create user if not exists 'govwriter'@'localhost' identified by '{{password}}';
grant select, insert, update on {{db}}.* to 'govwriter'@'localhost';
"""

# one client per write: a write is acknowledged when the client exits 0 having printed the row
# (autocommit: after COMMIT).  MySQL/MariaDB: the account's password is in a 0600 option file.
WRITER = r"""
import json, os, random, subprocess, sys, time
db, table, seconds, engine = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
stop = '/tmp/cutover-writer.stop'
ins, upd, failed = [], {}, 0
end = time.time() + seconds
while time.time() < end and not os.path.exists(stop):
    upd_i = random.choice(ins) if ins and random.random() < 0.5 else None
    if engine == 'postgresql':
        sql = (f"update {table} set v = v + 1 where id = {upd_i} returning id, v" if upd_i is not None else
               f"insert into {table} (note) values ('w ' || now()) returning id, v")
        argv = ['psql', '-XqAt', '-F', ' ', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql]
    else:
        sql = (f"update {table} set v = v + 1 where id = {upd_i}; select id, v from {table} where id = {upd_i}"
               if upd_i is not None else f"insert into {table} (note) values (now()); select last_insert_id(), 0")
        argv = ['mysql', '--defaults-extra-file=/root/.gc-writer.cnf', '-NB', '-D', db, '-e', sql]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd='/')
    except subprocess.TimeoutExpired:
        failed += 1
        continue
    out = p.stdout.split()
    if p.returncode == 0 and len(out) == 2:
        i, v = int(out[0]), int(out[1])
        if upd_i is None:
            ins.append(i)
        else:
            upd[i] = max(v, upd.get(i, 0))
    else:
        failed += 1
        time.sleep(0.05)
print(json.dumps({'inserted': ins, 'updated': upd, 'failed': failed}))
"""


def setup_pg(host: str, db: str = "govapp") -> None:
    """The application's OS account (peer authentication) and the writer's table."""
    ssh(host, "id govapp >/dev/null 2>&1 || sudo -n useradd -M -s /usr/sbin/nologin govapp")
    ssh(host, f"cd / && sudo -n -u postgres psql -XqAt -v ON_ERROR_STOP=1 -d {shlex.quote(db)}",
        input=SETUP_PG.encode())


def setup_my(host: str, db: str, password: str) -> None:
    """The writer's table and account (password only in a root-only option file on the host)."""
    ssh(host, "cd / && sudo -n mysql", input=SETUP_MY.format(db=db, password=password).encode())
    ssh(host, "sudo -n sh -c 'umask 077; cat > /root/.gc-writer.cnf'",
        input=f"[client]\nuser=govwriter\npassword={password}\n".encode())


@dataclass
class Writer:
    host: str
    db: str = "govapp"
    seconds: float = 600
    engine: str = "postgresql"
    result: dict = field(default_factory=dict)
    _t: threading.Thread | None = None
    _err: list = field(default_factory=list)

    def start(self) -> "Writer":
        ssh(self.host, "rm -f /tmp/cutover-writer.stop")

        def go() -> None:
            try:
                p = subprocess.run(["ssh", "-F", str(HSTATE / "ssh_config"), self.host,
                                    "cd / && sudo -n " + ("-u govapp " if self.engine == "postgresql" else "")
                                    + "python3 -c " + shlex.quote(WRITER) + " "
                                    + " ".join(map(shlex.quote, [self.db, TABLE, str(self.seconds), self.engine]))],
                                   capture_output=True, text=True, timeout=self.seconds + 120)
                self.result = json.loads(p.stdout.strip().splitlines()[-1])
            except Exception as exc:  # noqa: BLE001 — reported by stop()
                self._err.append(exc)
        self._t = threading.Thread(target=go, daemon=True)
        self._t.start()
        return self

    def stop(self) -> dict:
        ssh(self.host, "touch /tmp/cutover-writer.stop")
        assert self._t is not None
        self._t.join(self.seconds + 150)
        if self._err:
            raise self._err[0]
        return self.result

    @property
    def acknowledged(self) -> int:
        return len(self.result.get("inserted", [])) + len(self.result.get("updated", {}))


def target_rows(host: str, db: str = "govapp", engine: str = "postgresql") -> dict[int, int]:
    if engine == "postgresql":
        out = ssh(host, f"cd / && sudo -n -u postgres psql -XqAt -F ' ' -d {shlex.quote(db)} -c "
                        + shlex.quote(f"select id, v from {TABLE}")).stdout.decode()
    else:
        out = ssh(host, f"cd / && sudo -n mysql -NB -D {shlex.quote(db)} -e "
                        + shlex.quote(f"select id, v from {TABLE}")).stdout.decode()
    return {int(a): int(b) for a, b in (ln.split() for ln in out.splitlines() if ln.strip())}


def lost(result: dict, rows: dict[int, int]) -> list[str]:
    """Acknowledged writes not on the target."""
    out = [f"insert {i}" for i in result.get("inserted", []) if i not in rows]
    out += [f"update {i} (acknowledged v={v}, target v={rows.get(int(i))})"
            for i, v in result.get("updated", {}).items() if rows.get(int(i), -1) < v]
    return out
