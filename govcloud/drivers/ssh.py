"""SSH driver: run one script on many hosts over paramiko (the only module importing it).

* Host keys are checked strictly against ``known_hosts`` (``RejectPolicy``): an unknown or
  changed key is an error for that host, never a silent trust-on-first-use.
* Key authentication only (a key file, or the agent when asked); no passwords are taken,
  so none can leak into logs, argv or exceptions.  Error texts are built from the
  exception *type* and paramiko's own message, which never contains key material.
* The script goes to the remote ``sh -s`` on stdin, so it never appears in a process list;
  ``sudo -n`` is used when the login user is not root (no password prompt can hang a run).
* Bounded concurrency (a thread pool) and a wall-clock timeout per host.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: paramiko costs 0.12 s of every govcloud start-up
    import paramiko


@dataclass(frozen=True)
class SshTarget:
    name: str
    host: str
    port: int = 22
    user: str = "root"
    key_filename: str | None = None
    known_hosts: str | None = None         # None → ~/.ssh/known_hosts
    use_agent: bool = False


@dataclass
class RunResult:
    target: str
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    seconds: float = 0.0


@dataclass
class _Limits:
    connect_timeout: float = 15.0
    run_timeout: float = 180.0
    max_output: int = 8 << 20


def _client(t: SshTarget, limits: _Limits) -> paramiko.SSHClient:
    import paramiko

    c = paramiko.SSHClient()
    kh = Path(t.known_hosts or os.path.expanduser("~/.ssh/known_hosts"))
    if kh.exists():
        c.load_host_keys(str(kh))
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect(t.host, port=t.port, username=t.user, key_filename=t.key_filename,
              look_for_keys=t.key_filename is None and t.use_agent, allow_agent=t.use_agent,
              timeout=limits.connect_timeout, banner_timeout=limits.connect_timeout,
              auth_timeout=limits.connect_timeout)
    return c


def _describe(exc: BaseException) -> str:
    import paramiko

    if isinstance(exc, paramiko.BadHostKeyException):
        return "host key does not match known_hosts (possible man-in-the-middle; refusing)"
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return "host key not in known_hosts (strict host-key checking; add it with ssh-keyscan after verifying)"
    if isinstance(exc, paramiko.AuthenticationException):
        return "authentication failed (key not accepted)"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, OSError):
        return f"connection failed: {exc.strerror or type(exc).__name__}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def run_script(t: SshTarget, script: str, *, sudo: bool = True, connect_timeout: float = 15.0,
               run_timeout: float = 180.0) -> RunResult:
    """Run ``script`` with ``sh -s`` (under ``sudo -n`` unless the user is root)."""
    limits = _Limits(connect_timeout, run_timeout)
    res = RunResult(t.name)
    start = time.monotonic()
    client = None
    try:
        client = _client(t, limits)
        cmd = "sh -s" if (t.user == "root" or not sudo) else "sudo -n sh -s"
        chan = client.get_transport().open_session(timeout=limits.connect_timeout)
        chan.settimeout(1.0)
        chan.exec_command(cmd)
        chan.sendall(script.encode())
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        deadline = start + limits.run_timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError
            progressed = False
            if chan.recv_ready():
                out += chan.recv(1 << 16)
                progressed = True
            if chan.recv_stderr_ready():
                err += chan.recv_stderr(1 << 16)
                progressed = True
            if len(out) > limits.max_output:
                raise RuntimeError("remote output exceeds the limit")
            if not progressed:
                if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                    break
                time.sleep(0.01)
        res.rc = chan.recv_exit_status()
        res.stdout = out.decode("utf-8", "replace")
        res.stderr = err.decode("utf-8", "replace")[-4000:]
    except Exception as exc:       # one host's failure must not stop the others
        res.error = _describe(exc)
    finally:
        if client is not None:
            client.close()
        res.seconds = time.monotonic() - start
    return res


def run_many(targets: list[SshTarget], script: str, *, workers: int = 16, sudo: bool = True,
             connect_timeout: float = 15.0, run_timeout: float = 180.0) -> list[RunResult]:
    """``run_script`` on every target, at most ``workers`` at a time; results in input order."""
    if not targets:
        return []
    with cf.ThreadPoolExecutor(max(1, min(workers, len(targets)))) as ex:
        return list(ex.map(lambda t: run_script(t, script, sudo=sudo, connect_timeout=connect_timeout,
                                                 run_timeout=run_timeout), targets))


@dataclass
class SshConfigHints:
    """The few ssh_config settings a target needs (from an Ansible ``-F ssh_config``)."""

    known_hosts: str | None = None
    user: str | None = None
    identity: str | None = None
    hostname: str | None = None
    port: int | None = None
    extra: dict = field(default_factory=dict)


def ssh_config_hints(path: str, host: str) -> SshConfigHints:
    import paramiko

    cfg = paramiko.SSHConfig.from_path(path)
    d = cfg.lookup(host)
    kh = d.get("userknownhostsfile")
    ids = d.get("identityfile") or []
    return SshConfigHints(known_hosts=(kh.split()[0] if kh else None), user=d.get("user"),
                          identity=ids[0] if ids else None,
                          hostname=d.get("hostname") if d.get("hostname") != host else None,
                          port=int(d["port"]) if "port" in d else None)
