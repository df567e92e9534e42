"""The audit log (审计日志, DOMAIN.md §4.2 AuditLog): append-only and hash-chained.

One JSON object per line in ``<inventory>/.govcloud/audit.jsonl``::

    {"seq": 1, "at": "2026-11-23T04:20:00Z", "who": {"os_user": "li", "actor": "李工"},
     "action": "export", "entity": {"kind": "inventory", "id": "heyuan"},
     "before": null, "after": {...}, "reason": null,
     "prev_hash": "000…0", "hash": "<sha256 of the canonical entry without hash>"}

The canonical form is compact JSON with sorted keys and UTF-8 text. Each entry
names the hash of the one before it (the first names 64 zeros), so editing,
removing, reordering or inserting an entry breaks the chain at that ``seq``.

A chain alone cannot show that its last entries were cut off; so after every
append the head (last ``seq`` and ``hash``) is also written to ``audit.head``.
``verify`` reports a log shorter than its head, or a head whose hash differs.

Writers take an exclusive ``fcntl`` lock on ``audit.lock`` for the whole
read-last-entry / append / fsync / write-head sequence, so two processes never
interleave or fork the chain. Only metadata goes in: never file contents and never
secrets (the inventory model holds none).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from govcloud.errors import GovcloudError
from govcloud.store.atomic import write_atomic

LOG_DIR = ".govcloud"
LOG_NAME = "audit.jsonl"
HEAD_NAME = "audit.head"
LOCK_NAME = "audit.lock"
GENESIS = "0" * 64
FIELDS = ("seq", "at", "who", "action", "entity", "before", "after", "reason", "prev_hash", "hash")


class AuditLogError(GovcloudError):
    """The log cannot be appended to (damaged tail, unwritable directory)."""


@dataclass(frozen=True)
class AuditProblem:
    seq: int | None     # the seq of the entry at fault (the expected one when the line is unreadable)
    line: int | None    # 1-based line in audit.jsonl
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "line": self.line, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "log"
        seq = f" seq {self.seq}" if self.seq is not None else ""
        return f"{where}{seq}: {self.code}: {self.message}"


def log_root(path: Path | str) -> Path:
    """The inventory directory a log belongs to (an inventory given as one file: its folder)."""
    path = Path(path)
    return path.parent if path.is_file() else path


def log_path(root: Path | str) -> Path:
    return log_root(root) / LOG_DIR / LOG_NAME


def canonical(entry: dict[str, Any]) -> bytes:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def _who(who: str | dict | None) -> dict[str, Any]:
    if isinstance(who, dict):
        out = dict(who)
        out.setdefault("os_user", _os_user())
        return out
    return {"os_user": _os_user(), "actor": who or None}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (container without passwd entry)
        return f"uid:{os.getuid()}"


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates → ISO strings) so the hashed form equals what a reader parses."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, allow_nan=False))


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _last_line(path: Path) -> bytes | None:
    """The file's last line (without newline), read from the end; None for an empty file.
    A last line without its newline is returned as is; the caller rejects it."""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return None
        chunk = 8192
        while True:
            start = max(0, size - chunk)
            fh.seek(start)
            data = fh.read(size - start)
            body = data[:-1] if data.endswith(b"\n") else data
            nl = body.rfind(b"\n")
            if nl >= 0 or start == 0:
                last = body[nl + 1:]
                return last if data.endswith(b"\n") else last + b"\x00torn"
            chunk *= 2


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append(root: Path | str, *, action: str, entity: dict[str, Any] | tuple[str, str],
           before: Any = None, after: Any = None, who: str | dict | None = None,
           reason: str | None = None) -> dict[str, Any]:
    """Append one entry and return it. ``entity`` is ``{"kind": …, "id": …}`` or ``(kind, id)``;
    ``who`` is an optional actor name added to the OS user."""
    if isinstance(entity, tuple):
        entity = {"kind": entity[0], "id": entity[1]}
    path = log_path(root)
    directory = path.parent
    try:
        with _locked(directory):
            created = not path.exists()
            prev_seq, prev_hash = 0, GENESIS
            if not created:
                last = _last_line(path)
                if last is not None:
                    try:
                        prev = json.loads(last.decode("utf-8"))
                        prev_seq, prev_hash = int(prev["seq"]), str(prev["hash"])
                    except (ValueError, KeyError, TypeError) as exc:
                        raise AuditLogError(
                            f"the audit log {path} ends in a damaged entry; nothing was appended",
                            hint=f"run `govcloud audit verify {log_root(root)}` and restore the log") from exc
            entry: dict[str, Any] = {
                "seq": prev_seq + 1,
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                "who": _who(who),
                "action": action,
                "entity": entity,
                "before": before,
                "after": after,
                "reason": reason,
                "prev_hash": prev_hash,
            }
            entry = _plain(entry)
            entry["hash"] = entry_hash(entry)
            line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(line)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(directory)
            write_atomic(directory / HEAD_NAME,
                         json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n")
            return entry
    except OSError as exc:
        raise AuditLogError(f"cannot write the audit log {path}: {exc.strerror or exc}") from exc


def read(root: Path | str) -> list[dict[str, Any]]:
    """Every readable entry, in file order (unreadable lines are skipped; ``verify`` reports them)."""
    path = log_path(root)
    if not path.exists():
        return []
    out = []
    with path.open("rb") as fh:
        for raw in fh:
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(entry, dict):
                out.append(entry)
    return out


def verify(root: Path | str) -> list[AuditProblem]:
    """Every break in the chain: edited, removed, reordered, inserted or torn entries, and a tail
    cut off after the recorded head. An empty list means the log is intact (or absent)."""
    path = log_path(root)
    problems: list[AuditProblem] = []
    if not path.exists():
        head = _read_head(path.parent, problems)
        if head is not None and head[0] > 0:
            problems.append(AuditProblem(head[0], None, "missing",
                                         f"audit.jsonl is missing but audit.head records seq {head[0]}"))
        return problems
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = bool(lines) and lines[-1] != b""
    if not torn and lines:
        lines.pop()
    expected_seq, prev_hash = 1, GENESIS
    hashes: dict[int, str] = {}
    last_seq = 0
    for lineno, raw in enumerate(lines, 1):
        try:
            entry = json.loads(raw.decode("utf-8"))
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(AuditProblem(expected_seq, lineno, "unreadable",
                                         f"not a JSON entry ({exc.__class__.__name__}); expected seq {expected_seq}"))
            expected_seq += 1
            prev_hash = None  # type: ignore[assignment] # the next link cannot be checked
            continue
        seq = entry.get("seq")
        missing = [f for f in FIELDS if f not in entry]
        extra = [f for f in entry if f not in FIELDS]
        if missing or extra:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(extra)}"] if extra else [])
            problems.append(AuditProblem(seq if isinstance(seq, int) else expected_seq, lineno, "fields",
                                         "; ".join(parts)))
        if not isinstance(seq, int) or isinstance(seq, bool):
            problems.append(AuditProblem(expected_seq, lineno, "seq", f"seq is {seq!r}, expected {expected_seq}"))
            seq = expected_seq
        elif seq != expected_seq:
            if seq > expected_seq:
                what = (f"entry {expected_seq} is missing" if seq == expected_seq + 1
                        else f"entries {expected_seq}–{seq - 1} are missing")
            elif seq in hashes:
                what = f"seq {seq} appears again (inserted or duplicated entry)"
            else:
                what = "entries out of order"
            problems.append(AuditProblem(seq, lineno, "sequence", f"expected seq {expected_seq}, found {seq}: {what}"))
        actual = entry_hash(entry) if "hash" in entry else None
        if entry.get("hash") != actual:
            problems.append(AuditProblem(seq, lineno, "hash",
                                         "the entry does not match its hash (edited after it was written)"))
        if prev_hash is not None and entry.get("prev_hash") != prev_hash:
            problems.append(AuditProblem(seq, lineno, "chain",
                                         "prev_hash does not name the entry before it "
                                         "(an entry was removed, inserted or reordered here)"))
        hashes.setdefault(seq, str(entry.get("hash")))
        last_seq = max(last_seq, seq)
        expected_seq = seq + 1
        prev_hash = entry.get("hash")
    if torn:
        problems.append(AuditProblem(expected_seq - 1, len(lines), "torn",
                                     "the last line has no newline (a write was cut short or the file truncated)"))
    head = _read_head(path.parent, problems)
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:
            problems.append(AuditProblem(head_seq, None, "truncated",
                                         f"audit.head records seq {head_seq} but the log ends at seq {last_seq} "
                                         "(entries were cut off the end)"))
        elif head_seq in hashes and hashes[head_seq] != head_hash:
            problems.append(AuditProblem(head_seq, None, "head",
                                         f"the hash of seq {head_seq} differs from the one audit.head recorded"))
    return problems


def _read_head(directory: Path, problems: list[AuditProblem]) -> tuple[int, str] | None:
    path = directory / HEAD_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["seq"]), str(data["hash"])
    except (ValueError, KeyError, TypeError):
        problems.append(AuditProblem(None, None, "head", "audit.head is unreadable"))
        return None
