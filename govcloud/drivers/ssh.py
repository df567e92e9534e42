"""SSH driver: run one script on many hosts over paramiko (the only module importing it).

* Host keys are checked strictly against ``known_hosts`` (``RejectPolicy``): an unknown or
  changed key is an error for that host, never a silent trust-on-first-use.  Only a target
  with ``accept_new=True`` (asked for explicitly, e.g. ``--accept-new``) trusts an *unknown*
  key on first use and appends it to known_hosts atomically; a *changed* key is always refused.
* Key authentication only (a key file, or the agent when asked); no passwords are taken,
  so none can leak into logs, argv or exceptions.  Error texts are built from the
  exception *type* and paramiko's own message, which never contains key material.
* The script goes to the remote ``sh -s`` on stdin, so it never appears in a process list;
  ``sudo -n`` is used when the login user is not root (no password prompt can hang a run).
* Bounded concurrency (a thread pool) and a wall-clock timeout per host.
"""

from __future__ import annotations

import os
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from govcloud.base.sshfail import DESCRIPTIONS, RETRYABLE

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
    accept_new: bool = False               # trust on first use: add an UNKNOWN key (a changed key is still refused)


@dataclass
class RunResult:
    target: str
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str | None = None
    seconds: float = 0.0
    error_kind: str | None = None          # auth, hostkey-changed, hostkey-unknown, timeout, connect, other
    attempts: int = 1
    host_key_added: bool = False           # --accept-new stored this host's key
    connect_seconds: float | None = None   # TCP + key exchange + authentication (all attempts)
    script_seconds: float | None = None    # session open → exit status (the script's run + transfer)


@dataclass
class _Limits:
    connect_timeout: float = 15.0
    run_timeout: float = 180.0
    max_output: int = 8 << 20


_KH_LOCK = threading.Lock()


def _known_hosts_path(t: SshTarget) -> Path:
    return Path(t.known_hosts or os.path.expanduser("~/.ssh/known_hosts"))


def _add_known_host(path: Path, hostname: str, key) -> None:
    """Append one ``hostname keytype base64`` line, atomically (readers see the old file or the
    new one), serialised between the threads of this process."""
    from govcloud.base.atomic import write_atomic

    with _KH_LOCK:
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old and not old.endswith("\n"):
            old += "\n"
        mode = (path.stat().st_mode & 0o777) if path.exists() else 0o600
        write_atomic(path, old + f"{hostname} {key.get_name()} {key.get_base64()}\n", mode=mode)


def _accept_new_policy(path: Path, added: list):
    import paramiko

    class _AcceptNew(paramiko.MissingHostKeyPolicy):
        # paramiko calls this only for a host with NO key in known_hosts; a different key for a
        # known host raises BadHostKeyException before any policy is consulted.
        def missing_host_key(self, client, hostname, key):
            _add_known_host(path, hostname, key)
            added.append(hostname)

    return _AcceptNew()


_HK_CACHE: dict[str, tuple[tuple[int, int], object]] = {}


def _load_host_keys(c: paramiko.SSHClient, path: Path) -> None:
    """``c.load_host_keys(path)``, parsed once per file version: paramiko's parser is
    quadratic in the number of lines, and 50 threads parsing the same 50-line file cost more
    CPU (under the GIL) than all their key exchanges."""
    import paramiko

    st = path.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    with _KH_LOCK:
        hit = _HK_CACHE.get(str(path))
        if hit is None or hit[0] != stamp:
            hk = paramiko.HostKeys()
            hk.load(str(path))
            _HK_CACHE[str(path)] = hit = (stamp, hk)
    mine = c.get_host_keys()
    entries = getattr(hit[1], "_entries", None)
    if entries is not None and hasattr(mine, "_entries"):
        mine._entries = list(entries)           # the entries are never mutated by a client
    else:                                        # another paramiko: the documented, slower way
        c.load_host_keys(str(path))


def _client(t: SshTarget, limits: _Limits, _added: list | None = None) -> paramiko.SSHClient:
    import paramiko

    c = paramiko.SSHClient()
    kh = _known_hosts_path(t)
    if kh.exists():
        _load_host_keys(c, kh)
    if t.accept_new:
        c.set_missing_host_key_policy(_accept_new_policy(kh, _added if _added is not None else []))
    else:
        c.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        c.connect(t.host, port=t.port, username=t.user, key_filename=t.key_filename,
                  look_for_keys=t.key_filename is None and t.use_agent, allow_agent=t.use_agent,
                  timeout=limits.connect_timeout, banner_timeout=limits.connect_timeout,
                  auth_timeout=limits.connect_timeout)
    except Exception as exc:
        # a handshake that died in the transport thread (no SSH banner: a wedged sshd, a tarpit)
        # surfaces as "No existing session"; report the transport's own reason instead
        tr = c.get_transport()
        saved = getattr(tr, "saved_exception", None) if tr is not None else None
        c.close()
        if "No existing session" in str(exc):
            if saved is not None:
                raise saved from None
            # start_client gave up at the connect timeout before the transport did
            raise socket.timeout("SSH negotiation timed out") from None
        raise
    return c


def _describe(exc: BaseException) -> str:
    """One line for a person, derived from classify() so both always agree; never key material."""
    kind = classify(exc)
    if kind in DESCRIPTIONS:
        return DESCRIPTIONS[kind]
    if kind == "connect" and isinstance(exc, OSError):
        return f"connection failed: {exc.strerror or type(exc).__name__}"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


def classify(exc: BaseException) -> str:
    """A stable category for an error: ``auth``, ``hostkey-changed``, ``hostkey-unknown``,
    ``timeout``, ``connect`` or ``other``."""
    import paramiko

    if isinstance(exc, paramiko.BadHostKeyException):
        return "hostkey-changed"
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return "hostkey-unknown"
    if isinstance(exc, paramiko.AuthenticationException):
        return "auth"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, paramiko.SSHException) and "banner" in str(exc).lower():
        # a listener that accepts TCP but never speaks SSH (or too slowly)
        msg = str(exc).lower()
        return "connect" if any(w in msg for w in ("reset", "refused", "eof")) else "timeout"
    if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
        return "connect"
    return "other"




HEREDOC_END = "@@GOVCLOUD-SCRIPT-END"


def wrap_with_prelude(script: str, prelude: str, *, elevate: bool) -> str:
    """One ``sh -s`` input that runs ``prelude`` as the login user at once (e.g. a background
    sampler that needs no privileges, so it does not wait for sudo), then ``script`` — under
    ``sudo -n`` when ``elevate`` — and waits for the prelude's background jobs before exiting."""
    if any(line.strip() == HEREDOC_END for line in script.splitlines()):
        raise ValueError("script contains the here-document delimiter")
    runner = "sudo -n sh -s" if elevate else "sh -s"
    return (f"{prelude}\n{runner} <<'{HEREDOC_END}'\n{script}\n{HEREDOC_END}\n"
            "rc=$?\nwait\nexit $rc\n")


def run_script(t: SshTarget, script: str, *, sudo: bool = True, connect_timeout: float = 15.0,
               run_timeout: float = 180.0, retries: int = 0, backoff: float = 0.5,
               prelude: str | None = None) -> RunResult:
    """Run ``script`` with ``sh -s`` (under ``sudo -n`` unless the user is root).

    ``prelude``: shell code run first as the login user, without sudo (see ``wrap_with_prelude``);
    the channel closes after its background jobs end.

    ``retries``: extra connection attempts, after ``backoff``, 2×``backoff``, … seconds, for
    connection errors and connect timeouts only — never after an authentication or host-key
    failure, and never once the script has started (it is not re-run)."""
    limits = _Limits(connect_timeout, run_timeout)
    res = RunResult(t.name)
    start = time.monotonic()
    client = None
    added: list = []
    try:
        attempt = 0
        while True:
            attempt += 1
            try:
                client = _client(t, limits, added)
                break
            except Exception as exc:
                res.attempts = attempt
                if attempt > retries or classify(exc) not in RETRYABLE:
                    raise
                time.sleep(backoff * (2 ** (attempt - 1)))
        res.attempts = attempt
        t_conn = time.monotonic()
        res.connect_seconds = t_conn - start
        elevate = not (t.user == "root" or not sudo)
        if prelude is not None:
            script, cmd = wrap_with_prelude(script, prelude, elevate=elevate), "sh -s"
        else:
            cmd = "sudo -n sh -s" if elevate else "sh -s"
        chan = client.get_transport().open_session(timeout=limits.connect_timeout)
        chan.settimeout(0.25)          # recv blocks until data (no busy polling of 50+ channels)
        chan.exec_command(cmd)
        chan.sendall(script.encode())
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        deadline = start + limits.run_timeout
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError
            try:
                data = chan.recv(1 << 16)
            except socket.timeout:
                data = None
            if data:
                out += data
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(1 << 16)
            if len(out) + len(err) > limits.max_output:
                raise RuntimeError("remote output exceeds the limit")
            if data == b"":           # EOF: the remote side is done writing (stderr came before it)
                break
        while not chan.status_event.wait(0.25):
            if time.monotonic() > deadline:
                raise TimeoutError
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(1 << 16)
        res.rc = chan.recv_exit_status()
        res.script_seconds = time.monotonic() - t_conn
        res.stdout = out.decode("utf-8", "replace")
        res.stderr = err.decode("utf-8", "replace")
        if prelude is None:            # the prelude's output may be on stderr: keep it whole
            res.stderr = res.stderr[-4000:]
    except Exception as exc:       # one host's failure must not stop the others
        res.error = _describe(exc)
        res.error_kind = classify(exc)
        if res.error_kind == "timeout" and res.error != "timed out":
            res.error = "timed out (no SSH banner)"
    finally:
        if client is not None:
            client.close()
        res.seconds = time.monotonic() - start
        res.host_key_added = bool(added)
    return res


def run_many(targets: list[SshTarget], script: str, *, workers: int = 16, sudo: bool = True,
             connect_timeout: float = 15.0, run_timeout: float = 180.0, retries: int = 0,
             backoff: float = 0.5, on_done: Callable[[RunResult], None] | None = None,
             prelude: str | None = None) -> list[RunResult]:
    """``run_script`` on every target, at most ``workers`` at a time; results in input order.
    ``on_done`` (e.g. a progress bar) is called with each result as soon as it is ready."""
    if not targets:
        return []

    def one(t: SshTarget) -> RunResult:
        r = run_script(t, script, sudo=sudo, connect_timeout=connect_timeout, run_timeout=run_timeout,
                       retries=retries, backoff=backoff, prelude=prelude)
        if on_done is not None:
            on_done(r)
        return r

    # All worker threads are started *before* the first connection: a thread pool that spawns its
    # threads lazily starts the 50th while 49 handshakes already hold the GIL, and each start
    # waits for the new thread to run — the last hosts began connecting ~1.5 s late.
    n = max(1, min(workers, len(targets)))
    results: list[RunResult | None] = [None] * len(targets)
    todo: queue.SimpleQueue = queue.SimpleQueue()
    go = threading.Event()

    def worker() -> None:
        go.wait()
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = one(targets[i])
            except Exception as exc:       # e.g. the on_done callback: never lose the other hosts
                results[i] = RunResult(targets[i].name, error=f"{type(exc).__name__}: {str(exc)[:200]}",
                                       error_kind="other")

    for i in range(len(targets)):
        todo.put(i)
    threads = [threading.Thread(target=worker, name=f"ssh-{k}", daemon=True) for k in range(n)]
    for th in threads:
        th.start()
    go.set()
    for th in threads:
        th.join()
    return [r if r is not None else RunResult(t.name, error="internal error: no result", error_kind="other")
            for t, r in zip(targets, results)]


@dataclass
class SshConfigHints:
    """The few ssh_config settings a target needs (from an Ansible ``-F ssh_config``)."""

    known_hosts: str | None = None
    user: str | None = None
    identity: str | None = None
    hostname: str | None = None
    port: int | None = None
    extra: dict = field(default_factory=dict)


_CFG_CACHE: dict[str, tuple[tuple[int, int], object]] = {}


def _ssh_config(path: str):
    """``paramiko.SSHConfig.from_path``, parsed once per file version (not once per host)."""
    import paramiko

    st = os.stat(path)
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CFG_CACHE.get(path)
    if hit is None or hit[0] != stamp:
        _CFG_CACHE[path] = hit = (stamp, paramiko.SSHConfig.from_path(path))
    return hit[1]


def ssh_config_hints(path: str, host: str) -> SshConfigHints:
    d = _ssh_config(path).lookup(host)
    kh = d.get("userknownhostsfile")
    ids = d.get("identityfile") or []
    return SshConfigHints(known_hosts=(kh.split()[0] if kh else None), user=d.get("user"),
                          identity=ids[0] if ids else None,
                          hostname=d.get("hostname") if d.get("hostname") != host else None,
                          port=int(d["port"]) if "port" in d else None)
