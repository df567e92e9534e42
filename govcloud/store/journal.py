"""The migration journal: one JSON object per line, appended and fsync'd, never rewritten.

It is the executor's memory: every step start, result and state transition of every system
is a line, and a re-run replays it to resume where the last run stopped. A line torn by a
crash (kill -9 between write and newline) is the only damage tolerated: readers ignore an
incomplete *last* line and the next append starts on a fresh line; damage anywhere else is an
error, because a journal with a hole cannot be trusted to resume from.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from govcloud.base.i18n import Msg
from govcloud.base import stamp
from govcloud.errors import GovcloudError
from govcloud.store.entries import Entry

JOURNAL_NAME = "journal.jsonl"
_lock = threading.Lock()


class JournalError(GovcloudError):
    pass


def journal_path(plan_dir: Path) -> Path:
    return Path(plan_dir) / JOURNAL_NAME


def who() -> str:
    return stamp.user_at_host()


def now() -> str:
    return stamp.utc_now(ms=True)


@dataclass
class JournalRead:
    entries: list[Entry]     # typed, one class per kind (store/entries.py)
    torn_tail: bool          # the last line was incomplete (a crash mid-append) and was ignored
    line_numbers: list[int] = field(default_factory=list)    # the line of each entry (for messages)


def read(plan_dir: Path) -> JournalRead:
    path = journal_path(plan_dir)
    if not path.exists():
        return JournalRead([], False)
    return parse(path.read_bytes(), str(path))


def parse(data: bytes | str, source: str = JOURNAL_NAME) -> JournalRead:
    """The one journal reader (the executor's replay, `migrate status` and the report all read
    through it). One JSON object per line; blank lines are skipped. What follows the last newline
    is a line a crash cut short unless it is a complete entry (a file written by hand may lack
    its final newline): a torn tail is ignored. Damage anywhere else is an error naming the line.
    Each line becomes its kind's typed entry (store/entries.Entry.from_dict)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    lines = raw.split(b"\n")
    tail = lines.pop()          # what follows the last newline: empty unless a write was cut short
    torn = False
    if tail.strip():
        try:
            complete = isinstance(json.loads(tail), dict)
        except (ValueError, RecursionError):
            complete = False
        if complete:
            lines.append(tail)
        else:
            torn = True
    out: list[Entry] = []
    numbers: list[int] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            raise JournalError(Msg("{source}:{n}: damaged journal line", source=source, n=n), hint=_DAMAGED) from None
        problem = _shape_problem(entry)
        if problem:
            raise JournalError(Msg("{source}:{n}: damaged journal line: {problem}", source=source, n=n,
                                   problem=problem), hint=_DAMAGED)
        out.append(Entry.from_dict(entry))
        numbers.append(n)
    return JournalRead(out, torn, numbers)


_DAMAGED = Msg("the journal is append-only; restore it from backup or move it aside "
               "and inspect the cloud by hand")
# what replay relies on, by entry kind: field → the type it must have when present (None: required)
_STATES = ("pending", "prechecked", "provisioned", "synced", "cutover", "verified", "done", "rolled_back",
           "failed", "decommissioned", "failed_back")


def _shape_problem(entry: Any) -> str | None:
    """Why an entry cannot be an entry of this journal, or None. Checks what replay reads."""
    if not isinstance(entry, dict):
        return Msg("not a JSON object")
    for key in ("kind", "system", "at", "who", "step", "reason"):
        if entry.get(key) is not None and not isinstance(entry[key], str):
            return Msg("'{key}' is not text", key=key)
    kind = entry.get("kind")
    if kind == "state" and entry.get("to") not in _STATES:
        return Msg("unknown state {state!r}", state=entry.get("to"))
    if kind == "resource":
        if not isinstance(entry.get("key"), str):
            return Msg("a resource line without a text 'key'")
        if entry.get("resource") is not None and not isinstance(entry["resource"], dict):
            return Msg("'resource' is not an object")
    return None


def _drop_torn_tail(fd: int, path: Path) -> None:
    """A crash between write and newline leaves a partial last line; it never reached the
    journal (its step is re-done on resume), so cut it off before appending after it."""
    size = os.fstat(fd).st_size
    if not size:
        return
    with open(path, "rb") as f:
        f.seek(max(0, size - 65536))
        chunk = f.read()
    if chunk.endswith(b"\n"):
        return
    cut = chunk.rfind(b"\n")
    try:                         # a complete entry that only lacks its newline is kept (parse reads it)
        if isinstance(json.loads(chunk[cut + 1:]), dict):
            os.write(fd, b"\n")
            return
    except (ValueError, RecursionError):
        pass
    os.ftruncate(fd, size - len(chunk) + cut + 1 if cut >= 0 else 0)


def append(plan_dir: Path, entry: Mapping[str, Any] | Entry) -> dict[str, Any]:
    """Append one entry (``at`` and ``who`` added) and fsync before returning."""
    path = journal_path(plan_dir)
    record = {"at": now(), "who": who(), **(entry.to_dict() if isinstance(entry, Entry) else entry)}
    data = (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
    with _lock:
        created = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _drop_torn_tail(fd, path)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    return record
