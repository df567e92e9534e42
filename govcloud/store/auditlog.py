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

Keyed: every entry also carries ``mac``, an HMAC-SHA256 of its ``hash`` under a key kept
outside the inventory (``GOVCLOUD_AUDIT_KEY_FILE``, default ``~/.config/govcloud/audit.key``,
32 random bytes created mode 0600 on first use). Someone who can write ``audit.jsonl`` but not
read the key cannot re-hash an edited history: the macs no longer match.

Anchored: after every append the last ``seq`` and ``hash`` (and the first entry's hash, which
names the log) are also written, with a mac, to an anchor beside the key
(``<key dir>/audit-anchors/<sha256 of the inventory path>.json``). A log that is deleted (the
whole ``.govcloud/`` folder), truncated together with its ``audit.head``, or replaced by
another log is reported by ``verify`` from the anchor.

Writers take an exclusive ``fcntl`` lock on ``audit.lock`` for the whole
read-last-entry / append / fsync / write-head sequence, so two processes never
interleave or fork the chain. Only metadata goes in: ids, counts, field names and keyed
digests of values, never file contents, free text from imported files or secrets.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import math
import secrets
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from govcloud.base.i18n import Msg
from govcloud.base import stamp
from govcloud.errors import GovcloudError
from govcloud.base.atomic import write_atomic

LOG_DIR = ".govcloud"
LOG_NAME = "audit.jsonl"
HEAD_NAME = "audit.head"
LOCK_NAME = "audit.lock"
GENESIS = "0" * 64
FIELDS = ("seq", "at", "who", "action", "entity", "before", "after", "reason", "prev_hash", "hash", "mac")
KEY_ENV = "GOVCLOUD_AUDIT_KEY_FILE"
ANCHOR_DIR = "audit-anchors"


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
    body = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
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
    return stamp.os_user()


def _plain(value: Any) -> Any:
    """JSON-safe copy (dates → ISO strings) so the hashed form equals what a reader parses."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, allow_nan=False))


# ---------------------------------------------------------------- the key and the anchor


def key_file() -> Path:
    raw = os.environ.get(KEY_ENV)
    if raw:
        return Path(raw).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "govcloud" / "audit.key"


def load_key(*, create: bool) -> bytes | None:
    """The audit key (created, mode 0600, when ``create`` and absent; None when absent otherwise).
    A key that others may read, or that is not 32+ bytes of hex, is refused."""
    path = key_file()
    try:
        if create and not path.exists():
            _create_key(path)
        if not path.exists():
            return None
        st = path.stat()
        if not path.is_file():
            raise AuditLogError(Msg("the audit key {path} is not a file", path=path))
        if st.st_mode & 0o077:
            raise AuditLogError(Msg("the audit key {path} can be read by others (mode {mode:o})", path=path,
                                    mode=st.st_mode & 0o777),
                                hint=Msg("chmod 600 {path}", path=path))
        text = path.read_text(encoding="ascii", errors="replace").strip()
        key = bytes.fromhex(text)
        if len(key) < 32:
            raise ValueError
        return key
    except ValueError:
        raise AuditLogError(Msg("the audit key {path} is damaged (expected 64 hex digits)", path=path)) from None
    except OSError as exc:
        raise AuditLogError(Msg("cannot read the audit key {path}: {reason}", path=path, reason=exc.strerror or exc)) from None


def _create_key(path: Path) -> None:
    """A new key, whole or not at all: written and fsync'd under a private name, then linked into
    place (which fails if another process made one first — theirs is kept). A reader never sees a
    key file that is still empty, and a kill mid-write leaves no damaged key behind."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"govcloud-audit-key-id\0" + key).hexdigest()[:16]


def mac_of(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def value_digest(value: Any, *, key: bytes | None = None) -> str:
    """A keyed digest of a value for the audit log: equal values give equal digests, yet the
    log does not reveal a value (a guessable password typed into a free-text field)."""
    key = key if key is not None else load_key(create=True)
    body = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hmac.new(key or b"", b"value\0" + body.encode("utf-8"), hashlib.sha256).hexdigest()[:24]


def anchor_path(root: Path | str) -> Path:
    ident = hashlib.sha256(str(log_root(root).resolve()).encode("utf-8")).hexdigest()
    return key_file().parent / ANCHOR_DIR / f"{ident}.json"


def _anchor_body(a: dict[str, Any]) -> str:
    return json.dumps({k: a.get(k) for k in ("inventory", "seq", "hash", "first", "key_id")},
                      sort_keys=True, ensure_ascii=False)


def _write_anchor(root: Path | str, key: bytes, seq: int, head_hash: str, first: str) -> None:
    a = {"inventory": str(log_root(root).resolve()), "seq": seq, "hash": head_hash, "first": first,
         "key_id": key_id(key)}
    a["mac"] = mac_of(key, _anchor_body(a))
    path = anchor_path(root)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_atomic(path, json.dumps(a, ensure_ascii=False) + "\n", mode=0o600)


def _read_anchor(root: Path | str, key: bytes | None, problems: list["AuditProblem"]) -> dict[str, Any] | None:
    path = anchor_path(root)
    try:
        if not path.exists():
            return None
        a = loads_strict(path.read_bytes())
        if not isinstance(a, dict) or not isinstance(a.get("seq"), int) or isinstance(a.get("seq"), bool):
            raise ValueError("not an anchor")
    except (ValueError, OSError, UnicodeDecodeError):
        problems.append(AuditProblem(None, None, "anchor", Msg("the anchor {path} is unreadable", path=path)))
        return None
    if key is None:
        problems.append(AuditProblem(None, None, "key", Msg("the audit key {key_file} is missing: the log was "
                                                            "written with a key that this account does not have",
                                                            key_file=key_file())))
        return None
    if not hmac.compare_digest(str(a.get("mac", "")), mac_of(key, _anchor_body(a))):
        problems.append(AuditProblem(None, None, "anchor", Msg("the anchor {path} does not match its mac (edited, "
                                                               "or written with another key)", path=path)))
        return None
    return a


def loads_strict(raw: bytes | str) -> Any:
    """JSON without NaN/Infinity (they have no canonical form); ValueError otherwise."""
    def bad(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")
    return json.loads(raw, parse_constant=bad)


def _int_seq(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1 << 62 else None


def last_entry(root: Path | str) -> dict[str, Any] | None:
    """The log's last entry, or None (no log, empty, or unreadable last line)."""
    path = log_path(root)
    try:
        last = _last_line(path)
        if last is None:
            return None
        entry = loads_strict(last.decode("utf-8"))
        return entry if isinstance(entry, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


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
    key = load_key(create=True)
    assert key is not None
    try:
        with _locked(directory):
            created = not path.exists()
            prev_seq, prev_hash = 0, GENESIS
            if not created:
                last = _last_line(path)
                if last is not None:
                    try:
                        prev = loads_strict(last.decode("utf-8"))
                        prev_seq, prev_hash = _int_seq(prev["seq"]), str(prev["hash"])
                        if prev_seq is None:
                            raise ValueError("seq is not a positive integer")
                    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                        raise AuditLogError(
                            Msg("the audit log {path} ends in a damaged entry; nothing was appended", path=path),
                            hint=Msg("run `govcloud audit verify {log_root}` and restore the log",
                                     log_root=log_root(root))) from exc
            entry: dict[str, Any] = {
                "seq": prev_seq + 1,
                "at": stamp.utc_now(),
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
            entry["mac"] = mac_of(key, entry["hash"])
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
            first = entry["hash"] if entry["seq"] == 1 else _first_hash(path)
            _write_anchor(root, key, entry["seq"], entry["hash"], first)
            return entry
    except OSError as exc:
        raise AuditLogError(Msg("cannot write the audit log {path}: {reason}", path=path, reason=exc.strerror or exc)) from exc


def _first_hash(path: Path) -> str:
    with path.open("rb") as fh:
        line = fh.readline()
    try:
        first = loads_strict(line.decode("utf-8"))
        return str(first.get("hash")) if isinstance(first, dict) else ""
    except (ValueError, UnicodeDecodeError):
        return ""


def read(root: Path | str) -> list[dict[str, Any]]:
    """Every readable entry, in file order (unreadable lines are skipped; ``verify`` reports them)."""
    path = log_path(root)
    if not path.exists():
        return []
    out = []
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise AuditLogError(Msg("cannot read the audit log {path}: {reason}", path=path, reason=exc.strerror or exc)) from None
    with fh:
        for raw in fh:
            try:
                entry = loads_strict(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(entry, dict):
                out.append(entry)
    return out


def verify(root: Path | str) -> list[AuditProblem]:
    """Every break in the chain: edited, removed, reordered, inserted or torn entries, entries
    whose mac does not match (re-hashed without the key), a tail cut off after the recorded head
    or anchor, and a log removed or replaced while its anchor remains. An empty list means the
    log is intact (or there never was one for this inventory on this account)."""
    path = log_path(root)
    problems: list[AuditProblem] = []
    key = load_key(create=False)
    anchor = _read_anchor(root, key, problems)
    try:
        exists = path.is_file()
        if path.exists() and not exists:
            problems.append(AuditProblem(None, None, "unreadable", Msg("{path} is not a file", path=path)))
            return problems
        data = path.read_bytes() if exists else None
    except OSError as exc:
        problems.append(AuditProblem(None, None, "unreadable", Msg("cannot read {path}: {reason}", path=path,
                                                                   reason=exc.strerror or exc)))
        return problems
    if data is None:
        head = _read_head(path.parent, problems)
        if head is not None and head[0] > 0:
            problems.append(AuditProblem(head[0], None, "missing",
                                         Msg("audit.jsonl is missing but audit.head records seq {head}", head=head[0])))
        elif anchor is not None:
            problems.append(AuditProblem(anchor["seq"], None, "missing",
                                         Msg("the audit log is gone: the anchor {anchor_path} records seq {anchor} "
                                             "(if this inventory was deliberately deleted and re-created, remove "
                                             "that anchor)", anchor_path=anchor_path(root), anchor=anchor['seq'])))
        return problems
    lines = data.split(b"\n")
    torn = bool(lines) and lines[-1] != b""
    if not torn and lines:
        lines.pop()
    if key is None and lines:
        problems.append(AuditProblem(None, None, "key", Msg("no audit key at {key_file}: the macs cannot be checked "
                                                            "(copy the key the log was written with, or set "
                                                            "{key_env})", key_file=key_file(), key_env=KEY_ENV)))
    expected_seq, prev_hash = 1, GENESIS
    hashes: dict[int, str] = {}
    last_seq = 0
    for lineno, raw in enumerate(lines, 1):
        try:
            entry = loads_strict(raw.decode("utf-8"))
            if not isinstance(entry, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            problems.append(AuditProblem(expected_seq, lineno, "unreadable",
                                         Msg("not a JSON entry ({type}); expected seq {expected_seq}",
                                             type=exc.__class__.__name__, expected_seq=expected_seq)))
            expected_seq += 1
            prev_hash = None  # type: ignore[assignment] # the next link cannot be checked
            continue
        seq = entry.get("seq")
        missing = [f for f in FIELDS if f not in entry]
        extra = [f for f in entry if f not in FIELDS]
        if missing or extra:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(extra)[:200]}"] if extra else [])
            problems.append(AuditProblem(_int_seq(seq) or expected_seq, lineno, "fields", "; ".join(parts)))
        if _int_seq(seq) is None:
            problems.append(AuditProblem(expected_seq, lineno, "seq",
                                         Msg("seq is {seq!r}, expected {expected_seq}", seq=str(seq)[:40],
                                             expected_seq=expected_seq)))
            seq = expected_seq
        elif seq != expected_seq:
            if seq > expected_seq:
                what = (Msg("entry {seq} is missing", seq=expected_seq) if seq == expected_seq + 1
                        else Msg("entries {first}–{last} are missing", first=expected_seq, last=seq - 1))
            elif seq in hashes:
                what = Msg("seq {seq} appears again (inserted or duplicated entry)", seq=seq)
            else:
                what = Msg("entries out of order")
            problems.append(AuditProblem(seq, lineno, "sequence", Msg("expected seq {expected_seq}, found {seq}: "
                                                                      "{what}", expected_seq=expected_seq, seq=seq,
                                                                      what=what)))
        try:
            actual = entry_hash(entry) if "hash" in entry else None
        except (ValueError, TypeError, RecursionError):
            actual = None
        if entry.get("hash") != actual or actual is None:
            problems.append(AuditProblem(seq, lineno, "hash",
                                         Msg("the entry does not match its hash (edited after it was written)")))
        elif key is not None and not (isinstance(entry.get("mac"), str)
                                      and hmac.compare_digest(entry["mac"], mac_of(key, actual))):
            problems.append(AuditProblem(seq, lineno, "mac",
                                         Msg("the entry's mac does not match: it was re-hashed or written without "
                                             "the audit key")))
        if prev_hash is not None and entry.get("prev_hash") != prev_hash:
            problems.append(AuditProblem(seq, lineno, "chain",
                                         Msg("prev_hash does not name the entry before it (an entry was removed, "
                                             "inserted or reordered here)")))
        hashes.setdefault(seq, str(entry.get("hash")))
        last_seq = max(last_seq, seq)
        expected_seq = seq + 1
        prev_hash = entry.get("hash") if isinstance(entry.get("hash"), str) else None
    if torn:
        problems.append(AuditProblem(expected_seq - 1, len(lines), "torn",
                                     Msg("the last line has no newline (a write was cut short or the file "
                                         "truncated)")))
    head = _read_head(path.parent, problems)
    truncated = False
    if head is not None:
        head_seq, head_hash = head
        if head_seq > last_seq:
            truncated = True
            problems.append(AuditProblem(head_seq, None, "truncated",
                                         Msg("audit.head records seq {head_seq} but the log ends at seq {last_seq} "
                                             "(entries were cut off the end)", head_seq=head_seq, last_seq=last_seq)))
        elif head_seq in hashes and hashes[head_seq] != head_hash:
            problems.append(AuditProblem(head_seq, None, "head",
                                         Msg("the hash of seq {head_seq} differs from the one audit.head recorded",
                                             head_seq=head_seq)))
    if anchor is not None:
        a_seq = anchor["seq"]
        if a_seq > last_seq and not truncated:
            problems.append(AuditProblem(a_seq, None, "truncated",
                                         Msg("the anchor outside the inventory records seq {a_seq} but the log ends "
                                             "at seq {last_seq} (entries were cut off, log and head alike)",
                                             a_seq=a_seq, last_seq=last_seq)))
        elif a_seq in hashes and hashes[a_seq] != anchor.get("hash"):
            problems.append(AuditProblem(a_seq, None, "anchor",
                                         Msg("the hash of seq {a_seq} differs from the one the anchor recorded (the "
                                             "log was replaced or rewritten)", a_seq=a_seq)))
        if 1 in hashes and anchor.get("first") and hashes[1] != anchor.get("first"):
            problems.append(AuditProblem(1, None, "anchor", Msg("the log's first entry is not the one the anchor "
                                                                "recorded: the log was replaced by another one (if "
                                                                "the inventory was deliberately re-created, remove "
                                                                "{anchor_path})", anchor_path=anchor_path(root))))
    return problems


def _read_head(directory: Path, problems: list[AuditProblem]) -> tuple[int, str] | None:
    path = directory / HEAD_NAME
    try:
        if not path.exists():
            return None
        data = loads_strict(path.read_bytes())
        seq = _int_seq(data["seq"]) if isinstance(data, dict) else None
        if seq is None or not isinstance(data.get("hash"), str):
            raise ValueError("not a head")
        return seq, data["hash"]
    except (ValueError, KeyError, TypeError, OSError, UnicodeDecodeError):
        problems.append(AuditProblem(None, None, "head", Msg("{path} is unreadable", path=path)))
        return None
