"""Small helpers shared by the integration tests (imported by name; no mocks)."""
from __future__ import annotations

import concurrent.futures as cf
import socket
import time


def run_ssh(client, cmd: str, stdin: bytes | None = None, timeout: float = 120) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` on an open paramiko client: (exit status, stdout, stderr).

    Reads stdout to its EOF before taking the exit status: sshd may send the exit status while the
    command's last output is still on its way, so "exit status ready and nothing buffered" can come
    before the output does (a `cat /etc/hosts` then read as empty under load)."""
    chan = client.get_transport().open_session(timeout=timeout)
    chan.settimeout(0.25)
    chan.exec_command(cmd)
    if stdin is not None:
        chan.sendall(stdin)
        chan.shutdown_write()
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            chan.close()
            raise TimeoutError(f"{cmd[:80]!r}: no EOF after {timeout}s")
        try:
            data = chan.recv(1 << 16)
        except socket.timeout:
            data = None
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(1 << 16)
        if data:
            out += data
        elif data == b"":                 # EOF: the remote side is done writing (stderr came before it)
            break
    if not chan.status_event.wait(max(0.0, deadline - time.monotonic())):
        chan.close()
        raise TimeoutError(f"{cmd[:80]!r}: no exit status after {timeout}s")
    while chan.recv_stderr_ready():
        err += chan.recv_stderr(1 << 16)
    rc = chan.recv_exit_status()
    chan.close()
    return rc, bytes(out), bytes(err)


def wait_until(pred, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def parallel(fn, items, workers: int = 16):
    with cf.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def throwaway_database(state_db: str, prefix: str):
    """A new, empty database on the state PostgreSQL (the harness role may CREATEDB) named
    ``<prefix>_<random>``: yields its URL (the state URL with the database swapped) and drops it
    afterwards. A generator for a pytest fixture to ``yield from``."""
    import uuid
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql
    db = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(state_db, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    p = urlsplit(state_db)
    try:
        yield urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))
    finally:
        with psycopg.connect(state_db, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
