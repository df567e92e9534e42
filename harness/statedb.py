#!/usr/bin/env python3
"""harness/statedb up|down|status|env - the PostgreSQL that govcloud's shared state lives in.

Debian's PostgreSQL 15 (package ``postgresql-15``; Debian's own cluster is never used or
started) with a cluster of our own, ``initdb``'d under ``$STATE/statedb/data``:

* it listens on **127.0.0.1:15432** only (TCP) and on a Unix socket in ``$STATE/statedb/run``
  that only the ``postgres`` system user may use (peer authentication, for the bootstrap);
* it runs as the unprivileged ``postgres`` system user (PostgreSQL refuses root);
* the role ``govcloud`` (LOGIN, CREATEDB: the tests create throw-away databases) owns the
  database ``govcloud_state`` and authenticates over TCP with SCRAM-SHA-256. Its password is
  random, generated at the first ``up`` and kept only in the libpq passfile
  ``$STATE/statedb/pgpass`` (mode 600, root's); the server is given the SCRAM verifier only, on
  stdin. No password on a command line, in a URL or in a log.

``env`` prints ``export GOVCLOUD_HARNESS_STATE_URL=postgresql://govcloud@127.0.0.1:15432/
govcloud_state?passfile=…`` — the URL govcloud's ``--state`` takes. The data survive
``down``/``up`` (it is a database); a fresh state directory gets a fresh cluster. The
postmaster runs in its own process group, recorded as ``PID STARTTIME BOOT_ID`` like the other
harness services: ``down`` signals only what it started.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import testhosts  # noqa: E402

PORT = 15432
HOST = "127.0.0.1"
ROLE = "govcloud"
DB = "govcloud_state"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id").read_text().strip()


def state() -> Path:
    return testhosts.state_root() / "statedb"


def data() -> Path:
    return state() / "data"


def passfile() -> Path:
    return state() / "pgpass"


def url() -> str:
    return f"postgresql://{ROLE}@{HOST}:{PORT}/{DB}?passfile={passfile()}"


def env_line() -> str:
    return f"export GOVCLOUD_HARNESS_STATE_URL={url()}"


# ------------------------------------------------------------------ process record
def _starttime(pid: int) -> str | None:
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return st.rsplit(")", 1)[1].split()[19]


def our_pid() -> int | None:
    """The recorded postmaster pid if it is still the process we started."""
    try:
        pid_s, st, boot = (state() / "postgres.pid").read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    if boot != BOOT_ID or _starttime(pid) != st:
        return None
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
    except OSError:
        return None
    return pid


def _recorded_group() -> int | None:
    """The process group we started last (the postmaster led it), if this boot recorded one."""
    try:
        pid_s, _st, boot = (state() / "postgres.pid").read_text().split()
        return int(pid_s) if boot == BOOT_ID else None
    except (OSError, ValueError):
        return None


def _group_members(pgid: int) -> list[int]:
    """Live processes of the postgres user in process group ``pgid`` (a killed postmaster's
    children hold its shared memory until they notice; a new postmaster refuses to start then)."""
    uid = _pg_user().pw_uid
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z" and p.stat().st_uid == uid:
                out.append(int(p.name))
        except (OSError, ValueError, IndexError):
            continue
    return out


def _reap_group() -> None:
    """End what is left of the process group we started (never anything else)."""
    pgid = _recorded_group()
    if pgid is None:
        return
    deadline = time.monotonic() + 10
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)                  # children exit by themselves once the postmaster is gone
    if _group_members(pgid):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # a killed postmaster stays a zombie until its adoptive parent reaps it, and PostgreSQL
    # refuses to start while the pid in postmaster.pid exists: wait for the reaper
    deadline = time.monotonic() + 20
    while (_group_members(pgid) or Path(f"/proc/{pgid}").exists()) and time.monotonic() < deadline:
        time.sleep(0.2)


def _bin(name: str) -> str:
    p = PG_BIN / name
    if not os.access(p, os.X_OK):
        raise SystemExit(f"statedb: {p} not found (apt-get install postgresql-15; harness/ci-up.sh installs it)")
    return str(p)


def _pg_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        raise SystemExit(f"statedb: no system user {PG_USER!r} (the postgresql-15 package creates it)") from None


def _as_pg(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    u = _pg_user()
    return subprocess.run(cmd, user=u.pw_uid, group=u.pw_gid, extra_groups=[], cwd=str(state()),
                          env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8", "HOME": str(state())},
                          text=True, capture_output=True, **kw)


def _query_ok() -> bool:
    """One real login as govcloud over TCP with the passfile (what govcloud itself does)."""
    if not passfile().exists():
        return False
    env = {"PATH": "/usr/bin:/bin", "PGPASSFILE": str(passfile()), "PGCONNECT_TIMEOUT": "3", "LC_ALL": "C.UTF-8"}
    try:
        r = subprocess.run([str(PG_BIN / "psql"), "-X", "-w", "-h", HOST, "-p", str(PORT), "-U", ROLE, "-d", DB,
                            "-Atc", "select 1"], env=env, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0 and r.stdout.strip() == "1"


def healthy() -> bool:
    return our_pid() is not None and _query_ok()


# ------------------------------------------------------------------ SCRAM verifier
def scram_verifier(password: str, iterations: int = 4096) -> str:
    """RFC 5802/7677 SCRAM-SHA-256 verifier in PostgreSQL's format: the server stores this and
    never sees the password."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _password() -> str:
    """The govcloud role's password: from the passfile, or a new one written there (0600)."""
    f = passfile()
    if f.exists():
        line = f.read_text().strip().splitlines()[0]
        return line.split(":", 4)[4]
    pw = secrets.token_hex(24)            # hex: nothing to escape in the passfile or SQL
    old = os.umask(0o077)
    try:
        tmp = f.with_suffix(".tmp")
        tmp.write_text(f"{HOST}:{PORT}:*:{ROLE}:{pw}\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, f)
    finally:
        os.umask(old)
    return pw


# ------------------------------------------------------------------ up / down
def _traversable(path: Path) -> None:
    """The postgres user must reach its data directory: give every ancestor that lacks it the
    search bit for others (x only: nothing becomes listable or readable)."""
    for p in reversed(path.parents):
        try:
            mode = p.stat().st_mode
        except OSError:
            continue
        if not mode & stat.S_IXOTH:
            os.chmod(p, stat.S_IMODE(mode) | stat.S_IXOTH)


def _initdb() -> None:
    u = _pg_user()
    d, dd = state(), data()
    if dd.exists():
        shutil.rmtree(dd)
    dd.mkdir(mode=0o700)
    (d / "run").mkdir(mode=0o700, exist_ok=True)
    for p in (dd, d / "run"):
        os.chown(p, u.pw_uid, u.pw_gid)
    r = _as_pg([_bin("initdb"), "-D", str(dd), "-U", PG_USER, "--auth-local=peer", "--auth-host=reject",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"])
    if r.returncode != 0:
        raise SystemExit(f"statedb: initdb failed:\n{r.stdout}{r.stderr}")
    conf = dd / "postgresql.conf"
    with open(conf, "a") as f:
        f.write(f"\n# harness/statedb\nlisten_addresses = '{HOST}'\nport = {PORT}\n"
                f"unix_socket_directories = '{d / 'run'}'\nunix_socket_permissions = 0700\n"
                "password_encryption = 'scram-sha-256'\nmax_connections = 200\nshared_buffers = 32MB\n"
                "fsync = on\nlog_min_messages = warning\nlog_connections = off\n")
    (dd / "pg_hba.conf").write_text(
        f"# harness/statedb: postgres by peer on the socket (bootstrap), govcloud by SCRAM over TCP\n"
        f"local all {PG_USER} peer\n"
        f"host all {ROLE} {HOST}/32 scram-sha-256\n")
    os.chown(dd / "pg_hba.conf", u.pw_uid, u.pw_gid)


def _bootstrap(password: str) -> None:
    """Create (or re-key) the govcloud role and its database, as postgres on the socket; SQL
    on stdin, the password only as its SCRAM verifier."""
    sql = (f"SELECT 'CREATE ROLE {ROLE} LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}')\\gexec\n"
           f"ALTER ROLE {ROLE} LOGIN CREATEDB NOSUPERUSER PASSWORD '{scram_verifier(password)}';\n"
           f"SELECT 'CREATE DATABASE {DB} OWNER {ROLE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DB}')\\gexec\n"
           f"REVOKE ALL ON DATABASE {DB} FROM PUBLIC;\n")
    r = _as_pg([_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(state() / "run"), "-p", str(PORT),
                "-U", PG_USER, "-d", "postgres", "-f", "-"], input=sql)
    if r.returncode != 0:
        raise SystemExit(f"statedb: bootstrap failed:\n{r.stdout}{r.stderr}")


def _start() -> None:
    u = _pg_user()
    d = state()
    log = open(d / "postgres.log", "ab")
    p = subprocess.Popen([_bin("postgres"), "-D", str(data())], stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, start_new_session=True, user=u.pw_uid, group=u.pw_gid,
                         extra_groups=[], cwd=str(d), env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    (d / "postgres.pid").write_text(f"{p.pid} {_starttime(p.pid) or 0} {BOOT_ID}\n")


def _socket_ready() -> bool:
    r = _as_pg([_bin("pg_isready"), "-q", "-h", str(state() / "run"), "-p", str(PORT), "-U", PG_USER])
    return r.returncode == 0


def down() -> int:
    f = state() / "postgres.pid"
    pid = our_pid()
    if pid is not None:
        for sig, wait in ((signal.SIGINT, 20.0), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 3.0)):
            try:          # SIGINT: PostgreSQL's fast shutdown (sessions ended, a clean checkpoint)
                os.kill(pid, sig) if sig != signal.SIGKILL else os.killpg(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and our_pid() is not None:
                time.sleep(0.1)
            if our_pid() is None:
                break
    left = our_pid() is not None
    if not left:
        _reap_group()
        f.unlink(missing_ok=True)
    print("statedb: stopped" if not left else f"statedb: still running (pid {pid})")
    return 1 if left else 0


def up() -> int:
    if healthy():
        print("statedb: already up")
        print(env_line())
        return 0
    _bin("postgres")
    if our_pid() is not None:
        down()
    d = state()
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o711)                        # postgres traverses to data/ and run/, lists nothing
    _traversable(d)
    t = time.monotonic()
    fresh = not (data() / "PG_VERSION").exists()
    if fresh:
        passfile().unlink(missing_ok=True)
        _initdb()
    _reap_group()
    if _stale_postmaster():                  # a SIGKILLed server's leftover: postgres would refuse to start
        (data() / "postmaster.pid").unlink(missing_ok=True)
    _start()
    deadline = time.monotonic() + 60
    while not _socket_ready():
        if our_pid() is None:
            tail = (d / "postgres.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"statedb: postgres exited at start:\n{tail}")
        if time.monotonic() > deadline:
            down()
            raise SystemExit(f"statedb: not accepting connections within 60 s (see {d}/postgres.log)")
        time.sleep(0.2)
    _bootstrap(_password())
    if not _query_ok():
        down()
        raise SystemExit(f"statedb: govcloud cannot log in over TCP (see {d}/postgres.log)")
    print(f"statedb: PostgreSQL 15 on {HOST}:{PORT} up in {time.monotonic() - t:.1f} s"
          f" ({'new cluster' if fresh else 'existing cluster'})")
    print(env_line())
    return 0


def _stale_postmaster() -> bool:
    """A postmaster.pid left by a killed server whose pid is not a running postgres."""
    f = data() / "postmaster.pid"
    try:
        pid = int(f.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    try:
        return "postgres" not in Path(f"/proc/{pid}/comm").read_text()
    except OSError:
        return True


def status() -> int:
    ok = healthy()
    print(f"statedb: {'up' if ok else 'down'}" + (f"; {env_line()}" if ok else ""))
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(prog="harness/statedb", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("up", "down", "status", "env"))
    a = ap.parse_args()
    if a.cmd == "env":
        print(env_line())
        return 0
    return {"up": up, "down": down, "status": status}[a.cmd]()


if __name__ == "__main__":
    sys.exit(main())
