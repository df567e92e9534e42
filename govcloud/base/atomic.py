"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Crash points: with ``GOVCLOUD_CRASH_AT=<point>`` (or ``<point>#<n>``: its n-th passage) the
process SIGKILLs itself when it passes that point, so tests can check that a kill at every
rename and fsync leaves the state before or after (tests/unit/test_crash_points.py). Unset,
:func:`crash_point` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

TMP_SUFFIX = ".govcloud-tmp"    # a killed write's leftover: swept by txn.recover under the lock
_passes: dict[str, int] = {}
_SPEC = os.environ.get("GOVCLOUD_CRASH_AT") or None


def crash_point(name: str) -> None:
    """Die here (SIGKILL, as a power cut or ``kill -9`` would) when the environment asks to."""
    if _SPEC is None:
        return
    _crash_point(name)


def _crash_point(name: str) -> None:
    point, _, nth = _SPEC.partition("#")
    if point != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def fsync_dir(directory: Path | str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path | str, data: str | bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """``durable=False`` skips the fsync: for output that can be regenerated (a synthetic
    inventory of 60,000 files spends most of its write time in fsync otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        crash_point("write.fsync")
        os.replace(tmp, path)
        crash_point("write.rename")
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def append_private(path: Path | str, text: str, *, private_dir: Path | str | None = None) -> None:
    """Append ``text`` to a file only its owner may read (0600), created if missing, never through a
    symlink. ``private_dir`` (created 0700, and set back to 0700 when we own it) is the directory that
    must stay private too — the debug log's cache directory."""
    path = Path(path)
    parent = path.parent
    parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if private_dir is not None and parent == Path(private_dir) and parent.stat().st_uid == os.getuid():
        os.chmod(parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8", "replace"))
    finally:
        os.close(fd)
