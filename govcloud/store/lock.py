"""One writer at a time per directory (an inventory, a plan directory): an flock'd lock file
that names its holder.

Every writing command takes :func:`writer_lock` on the directory it changes for the whole of
its read-decide-write sequence, so two imports into one inventory cannot lose each other's
records. The lock is ``<dir>/.govcloud/lock``; flock is released by the kernel when the holder
dies, so a ``kill -9`` never leaves a stale lock. The file's content (pid, user, host, command,
since) is only there to tell the next writer who holds it.

A second writer waits up to ``wait`` seconds (``GOVCLOUD_LOCK_WAIT``, default 60; the migrate
commands do not wait) and is then refused with :class:`LockedError` (exit code 75, "busy"),
naming the holder. Readers (:func:`reader_lock`) share the lock, so they see a directory as it
was before a write or after it, never in between (a plan is read during a migrate run, which
holds its directory's lock for hours but never rewrites plan.yaml or plan.md).

Right after taking the writer lock, an interrupted transaction of a killed writer is completed
or discarded (:func:`govcloud.store.txn.recover`), so every writer starts from a consistent state.

Locks are re-entrant within one process (flock on a second descriptor of the same file would
block on itself): a nested ``writer_lock`` or ``reader_lock`` of a directory this process
already holds is a no-op.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from govcloud.base import stamp
from govcloud.base.i18n import Msg
from govcloud.errors import ExitCode, GovcloudError

LOCK_DIR = ".govcloud"
LOCK_NAME = "lock"
DEFAULT_WAIT = 60.0

_held: dict[str, list[str]] = {}     # lock path → modes held by this process ("ex" / "sh")


class LockedError(GovcloudError):
    """Another process holds the lock (exit code 75)."""

    exit_code = ExitCode.BUSY


def lock_path(directory: Path | str) -> Path:
    return Path(directory) / LOCK_DIR / LOCK_NAME


def default_wait() -> float:
    raw = os.environ.get("GOVCLOUD_LOCK_WAIT")
    if raw is None or raw.strip() == "":
        return DEFAULT_WAIT
    try:
        value = float(raw)
    except ValueError:
        raise GovcloudError(Msg("GOVCLOUD_LOCK_WAIT={raw!r} is not a number of seconds", raw=raw)) from None
    if not 0 <= value <= 86400:
        raise GovcloudError(Msg("GOVCLOUD_LOCK_WAIT={raw!r} must be between 0 and 86400 seconds", raw=raw))
    return value


def _user() -> str:
    return stamp.os_user()


def _now() -> str:
    return stamp.utc_now(ms=True)


def holder_record(command: str) -> dict[str, object]:
    """What a lock file holds while its lock is held: who holds it (pid, user, host, command,
    since). The one format of every flock'd lock (directories here, systems in store/filestate)."""
    user, host = _user(), socket.gethostname()
    return {"pid": os.getpid(), "user": user, "host": host, "who": f"{user}@{host}", "command": command,
            "since": _now()}


def write_holder(fd: int, command: str) -> None:
    """Name this process as the holder in the (flock'd) lock file ``fd``."""
    body = json.dumps(holder_record(command), ensure_ascii=False)
    os.ftruncate(fd, 0)
    os.pwrite(fd, body.encode("utf-8") + b"\n", 0)


def read_holder(fd: int) -> dict[str, object] | None:
    """The holder record in an open lock file, or None (empty, being written, or not ours)."""
    raw = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
    try:
        h = json.loads(raw)
    except ValueError:
        return None
    return h if isinstance(h, dict) else None


def describe_holder(h: dict[str, object] | None) -> str:
    """A holder record as one line for people."""
    if h is None:
        return Msg("another process")
    who = h.get("who") or f"{h.get('user')}@{h.get('host')}"
    return Msg("pid {pid} ({who}, `{command}`, since {since})", pid=h.get("pid"), who=who,
               command=h.get("command"), since=h.get("since"))


def holder_of(fd: int) -> str:
    """The holder named in an open lock file, as one line for people."""
    return describe_holder(read_holder(fd))


def try_flock(fd: int, mode: int) -> bool:
    """Take flock ``mode`` on ``fd`` without waiting: False when another descriptor holds it."""
    return _flock(fd, mode, 0)


def wait_flock(fd: int, mode: int, wait: float) -> bool:
    """Take flock ``mode`` on ``fd``, waiting up to ``wait`` seconds: False when still held."""
    return _flock(fd, mode, wait)


def _flock(fd: int, mode: int, wait: float) -> bool:
    deadline = time.monotonic() + wait
    delay = 0.02
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.5)


# what the lock's holder is doing, as the writers say it (``busy=``)
_BUSY = {"is being changed by": Msg("is being changed by"), "is in use by": Msg("is in use by")}


def _refuse(fd: int, directory: Path, what: str, wait: float) -> LockedError:
    doing = _BUSY.get(what, what)
    if wait:
        msg = Msg("{directory} {what} {holder} (waited {seconds:g} s): another command is writing "
                  "(one writer at a time)", directory=str(directory), what=doing, holder=holder_of(fd),
                  seconds=wait)
    else:
        msg = Msg("{directory} {what} {holder}: another command is writing (one writer at a time)",
                  directory=str(directory), what=doing, holder=holder_of(fd))
    if read_holder(fd) is None:
        # no writer named: readers share it — for a plan directory, its migrate runs (one per system)
        return LockedError(msg, hint=Msg("it is shared by readers, such as the migrate runs of a plan (`govcloud "
                                         "migrate status PLAN` names the run holding each system); wait for them "
                                         "to finish and try again"))
    return LockedError(msg, hint=Msg("wait for it to finish and try again "
                                     "(GOVCLOUD_LOCK_WAIT sets how many seconds to wait)"))


def _open_lock_file(path: Path, named: Path) -> int:
    """Open (creating it and its directory when absent) the lock file ``path``; ``named`` is what a
    failure names (the directory a writer locks, or the lock file itself)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise GovcloudError(Msg("cannot lock {directory}: {reason}", directory=named,
                                reason=exc.strerror or exc)) from None


@contextmanager
def writer_lock(directory: Path | str, command: str, *, wait: float | None = None,
                busy: str = "is being changed by", recover: bool = True) -> Iterator[None]:
    """Hold the directory's writer lock (creating ``directory`` and its lock file when absent)."""
    directory = Path(directory)
    path = lock_path(directory)
    key = str(path.absolute())
    if key in _held:
        if "ex" not in _held[key]:
            raise GovcloudError(Msg("internal: {directory} is read-locked by this process; cannot write it",
                                    directory=directory))
        _held[key].append("ex")
        try:
            yield
        finally:
            _held[key].pop()
        return
    wait = default_wait() if wait is None else wait
    fd = _open_lock_file(path, directory)
    try:
        if not _flock(fd, fcntl.LOCK_EX, wait):
            raise _refuse(fd, directory, busy, wait)
        write_holder(fd, command)
        _held[key] = ["ex"]
        try:
            if recover:
                from govcloud.store import txn
                txn.recover(directory)
            yield
        finally:
            del _held[key]
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)


def _holder_command(fd: int) -> str:
    h = read_holder(fd)
    return str(h.get("command") or "") if h else ""


@contextmanager
def reader_lock(directory: Path | str, *, wait: float | None = None,
                tolerate: tuple[str, ...] = ()) -> Iterator[None]:
    """Share the directory's lock while reading it. A directory that no writer ever locked
    (no lock file) or that this process may not lock is read as it is. When a killed writer
    left a transaction behind, it is completed first (when this process may write)."""
    directory = Path(directory)
    path = lock_path(directory)
    key = str(path.absolute())
    if key in _held or not path.is_file():
        yield
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    try:
        wait = default_wait() if wait is None else wait
        if not _flock(fd, fcntl.LOCK_SH, 0):
            if tolerate and _holder_command(fd).startswith(tolerate):
                yield                   # a holder that does not rewrite what is read (a migrate run)
                return
            if not _flock(fd, fcntl.LOCK_SH, wait):
                raise _refuse(fd, directory, "is being changed by", wait)
        from govcloud.store import txn
        if txn.pending(directory) and os.access(path, os.W_OK):
            fcntl.flock(fd, fcntl.LOCK_UN)
            with writer_lock(directory, "recover an interrupted write", wait=wait):
                pass
            if not _flock(fd, fcntl.LOCK_SH, wait):
                raise _refuse(fd, directory, "is being changed by", wait)
        _held[key] = ["sh"]
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)


@contextmanager
def file_lock(path: Path | str, *, wait: float | None = None) -> Iterator[None]:
    """Hold an exclusive flock of the lock file ``path`` (created when absent), waiting up to
    ``wait`` seconds (default ``GOVCLOUD_LOCK_WAIT``): for short read-modify-writes of a file
    shared by concurrent processes (a plan's known_hosts.targets). Not re-entrant."""
    path = Path(path)
    wait = default_wait() if wait is None else wait
    fd = _open_lock_file(path, path)
    try:
        if not _flock(fd, fcntl.LOCK_EX, wait):
            raise _refuse(fd, path, "is being changed by", wait)
        write_holder(fd, "update " + path.name)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
