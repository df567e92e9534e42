"""File sync statistics (pure): rsync's own ``--stats`` words, per sync run and system, as a typed
journal record; whether repeated delta syncs converge; what the last delta predicts.

The sync role (``roles/govcloud_sync``) reports, per target and data path, one debug line
``rsync-stats {json}`` — rsync's exit code, the stats block it printed (every stdout line that is
not an itemised change) and the command's wall time as Ansible measured it on the target — and the
sync playbook one ``sync-end {json}`` line per target after the databases were copied. Nothing
here trusts that text: a garbled, truncated, localised or hostile stats block gives ``None``
fields, never an exception.

One sync run of a system is a :class:`SyncRun` (journal kind ``sync_stats``): the sums over its
targets and paths, and ``wall_s``, the time the file copy itself took (per target the rsync runs
one after another, targets in parallel: the slowest target's sum) — not the whole sync step,
whose provisioning checks, tunnels and Ansible overhead do not recur inside the cutover window.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

STATS_PREFIX = "rsync-stats "
END_PREFIX = "sync-end "

# rsync ≥ 3.1 and 3.0 wordings (rsync has no translations; only the number format follows the locale)
_FIELDS: tuple[tuple[str, str], ...] = (
    ("files", r"Number of files"),
    ("created", r"Number of created files"),
    ("deleted", r"Number of deleted files"),
    ("files_transferred", r"Number of (?:regular )?files transferred"),
    ("total_size", r"Total file size"),
    ("transferred_size", r"Total transferred file size"),
    ("literal_bytes", r"Literal data"),
    ("matched_bytes", r"Matched data"),
    ("bytes_sent", r"Total bytes sent"),
    ("bytes_received", r"Total bytes received"),
)
_LINE = {name: re.compile(rf"^\s*{label}:\s*(.*)$") for name, label in _FIELDS}
# a count as rsync prints it: plain digits, or thousands grouped by , . ' or a (narrow) space
# (-h level 1, the default since 3.1, follows the locale), or a human size with a suffix (-hh)
_GROUPED = re.compile(r"^\d{1,3}(?:([,.'\u202f\u00a0 ])\d{3})(?:\1\d{3})*$")
_HUMAN = re.compile(r"^(\d+(?:[.,]\d+)?)([KMGTP])$", re.IGNORECASE)
_MAX = 1 << 62        # beyond any real tree: a number this large is not rsync's


def parse_count(word: str) -> int | None:
    """rsync's number ``1,234,567`` / ``1.234.567`` / ``1234567`` / ``1.18M`` → int, else None."""
    if not isinstance(word, str):
        return None
    w = word.strip().removesuffix(" bytes").strip()
    if len(w) > 40:
        return None
    if w.isascii() and w.isdigit():
        n = int(w)
    elif _GROUPED.match(w):
        n = int(re.sub(r"\D", "", w))
    elif (m := _HUMAN.match(w)):
        n = int(float(m.group(1).replace(",", ".")) * 1024 ** ("KMGTP".index(m.group(2).upper()) + 1))
    else:
        return None
    return n if 0 <= n < _MAX else None


@dataclass(frozen=True)
class RsyncStats:
    """One rsync run's ``--stats`` (None: not in the output, or not a number rsync prints)."""
    files: int | None = None
    created: int | None = None
    deleted: int | None = None
    files_transferred: int | None = None
    total_size: int | None = None
    transferred_size: int | None = None
    literal_bytes: int | None = None
    matched_bytes: int | None = None
    bytes_sent: int | None = None
    bytes_received: int | None = None

    @property
    def complete(self) -> bool:
        """The figures a delta is judged by are all there."""
        return None not in (self.files_transferred, self.total_size, self.bytes_received)


def parse_rsync_stats(output: str | Iterable[Any]) -> RsyncStats:
    """The ``--stats`` block of rsync's output (text or lines; other lines are ignored)."""
    lines = output.splitlines() if isinstance(output, str) else [x for x in output if isinstance(x, str)]
    found: dict[str, int | None] = {}
    for line in lines[-400:]:                       # the block is at the end; the rest is itemised noise
        if len(line) > 300:
            continue
        for name, rx in _LINE.items():
            if name in found:
                continue
            m = rx.match(line)
            if m:
                # "Number of files: 2 (reg: 1, dir: 1)" / "Total file size: 1,234 bytes"
                value = m.group(1).split(" (")[0].strip().removesuffix("bytes").strip()
                n = parse_count(value)
                found[name] = n if n is not None else parse_count(value.split(" ")[0])
                break
    return RsyncStats(**found)


# ---------------------------------------------------------------- one sync run of one system


@dataclass(frozen=True)
class PathSync:
    target: str
    path: str
    rc: int | None
    wall_s: float | None
    stats: RsyncStats


def _seconds(delta: Any) -> float | None:
    """Ansible's command ``delta`` ("0:00:01.234567") → seconds."""
    if not isinstance(delta, str) or len(delta) > 40:
        return None
    m = re.fullmatch(r"(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)", delta.strip())
    if not m:
        return None
    d, h, mi, s = m.groups()
    return round(int(d or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(s), 3)


def _stamp(value: Any) -> datetime | None:
    """A command's start/end as Ansible prints it on the target ("2026-12-06 06:20:01.123456")."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _json_obj(text: str) -> dict[str, Any] | None:
    if len(text) > 200_000:
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < _MAX else None


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) and 0 <= v < 1e9 else None


def _text(v: Any, limit: int = 200) -> str | None:
    return v[:limit] if isinstance(v, str) else None


@dataclass(frozen=True)
class SyncRun:
    """One sync run of one system (journal kind ``sync_stats``): sums over targets and paths."""
    mode: str                         # initial | delta | final
    paths: int                        # rsync runs reported (targets × data paths)
    complete: bool                    # every run's stats were read
    files: int                        # files in the trees
    files_transferred: int            # regular files copied (new or changed)
    deleted: int
    total_size: int                   # bytes in the trees
    transferred_size: int             # size of the files copied
    literal_bytes: int                # new data rsync sent (the rest matched the target)
    bytes_transferred: int            # what crossed the network into the targets (pull: bytes received)
    wall_s: float                     # the file copy's wall time: the slowest target's rsync runs
    database_s: float | None = None   # from the last rsync to the end of the sync play (databases), if known
    at: str | None = None

    def to_journal(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "at"}

    @classmethod
    def from_journal(cls, e: Mapping[str, Any]) -> "SyncRun | None":
        """Read back a journal line (which anyone with write access may have edited): None when a
        figure is missing or not a number."""
        if not isinstance(e, Mapping):
            return None
        out: dict[str, Any] = {}
        for f in fields(cls):
            v = e.get(f.name)
            if f.name in ("mode", "at"):
                out[f.name] = _text(v, 40)
            elif f.name == "complete":
                out[f.name] = v is True
            elif f.name in ("wall_s", "database_s"):
                out[f.name] = _num(v)
            else:
                out[f.name] = _int(v)
        if out["mode"] is None or out["wall_s"] is None or any(
                out[f.name] is None for f in fields(cls) if f.type in ("int",)):
            return None
        return cls(**out)

    def to_plain(self) -> dict[str, Any]:
        return asdict(self)


def path_syncs(messages: Mapping[str, Sequence[Any]]) -> tuple[list[PathSync], dict[str, datetime]]:
    """The ``rsync-stats`` and ``sync-end`` lines of a playbook run's debug messages."""
    runs: list[PathSync] = []
    ends: dict[str, datetime] = {}
    if not isinstance(messages, Mapping):
        return runs, ends
    for host, msgs in messages.items():
        if not isinstance(msgs, (list, tuple)):
            continue
        for m in msgs:
            if not isinstance(m, str):
                continue
            if m.startswith(STATS_PREFIX):
                obj = _json_obj(m[len(STATS_PREFIX):])
                if obj is None:
                    continue
                stats = parse_rsync_stats(obj.get("stats") if isinstance(obj.get("stats"), list) else [])
                rc = obj.get("rc")
                runs.append(PathSync(target=_text(obj.get("target")) or str(host)[:200],
                                     path=_text(obj.get("path"), 4096) or "?",
                                     rc=rc if isinstance(rc, int) and not isinstance(rc, bool) else None,
                                     wall_s=_seconds(obj.get("delta")), stats=stats))
                end = _stamp(obj.get("end"))
                key = _text(obj.get("target")) or str(host)
                if end is not None:
                    ends.setdefault("rsync:" + key, end)
                    ends["rsync:" + key] = max(ends["rsync:" + key], end)
            elif m.startswith(END_PREFIX):
                obj = _json_obj(m[len(END_PREFIX):])
                at = _stamp(obj.get("at")) if obj else None
                if obj and at is not None:
                    ends["end:" + (_text(obj.get("target")) or str(host))] = at
    return runs, ends


def sync_run(messages: Mapping[str, Sequence[Any]], mode: str) -> SyncRun | None:
    """One system's sync run from its playbook's messages, or None if the role reported nothing."""
    runs, ends = path_syncs(messages)
    if not runs:
        return None
    per_target: dict[str, float] = {}
    for r in runs:
        per_target[r.target] = per_target.get(r.target, 0.0) + (r.wall_s or 0.0)

    def total(name: str) -> int:
        return sum(getattr(r.stats, name) or 0 for r in runs)

    db = [(ends["end:" + t] - ends["rsync:" + t]).total_seconds() for t in per_target
          if "end:" + t in ends and "rsync:" + t in ends]
    db = [x for x in db if 0 <= x < 1e7]
    return SyncRun(mode=mode[:40], paths=len(runs),
                   complete=all(r.stats.complete and r.wall_s is not None for r in runs),
                   files=total("files"), files_transferred=total("files_transferred"), deleted=total("deleted"),
                   total_size=total("total_size"), transferred_size=total("transferred_size"),
                   literal_bytes=total("literal_bytes"), bytes_transferred=total("bytes_received"),
                   wall_s=round(max(per_target.values()), 3), database_s=round(max(db), 3) if db else None)


def without_stats(messages: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The messages minus the raw stats lines (the typed record carries them)."""
    return {h: [m for m in ms if not (isinstance(m, str) and m.startswith((STATS_PREFIX, END_PREFIX)))]
            for h, ms in (messages or {}).items() if isinstance(ms, (list, tuple))}


# ---------------------------------------------------------------- convergence


# a delta within this of the one before still counts as not growing: the file list and a live
# source's small churn make equal deltas differ by a little
CONVERGE_TOLERANCE = 0.10
CONVERGE_FLOOR_BYTES = 64 * 1024


def convergence(runs: Sequence[SyncRun], last: int = 3) -> dict[str, Any]:
    """Whether repeated delta syncs converge, over the last ``last`` sync runs (initial included):

    * ``converged`` — the last delta copied no file and deleted none: the final sync has nothing
      but the changes made after it to copy;
    * ``converging`` — each of the last runs moved no more than the one before (within 10 %
      or 64 KiB): the next delta is expected to be no larger;
    * ``not_converging`` — a delta grew: the source changes faster than a delta copies, or a bulk
      change landed; sync again before cutting over;
    * ``unknown`` — fewer than two sync runs with statistics.
    """
    seq = [r for r in runs if r.mode in ("initial", "delta")][-max(2, last):]
    out: dict[str, Any] = {"state": "unknown", "runs": len(seq), "bytes": [r.bytes_transferred for r in seq],
                           "wall_s": [r.wall_s for r in seq]}
    if len(seq) < 2:
        return out
    lastrun = seq[-1]
    if lastrun.files_transferred == 0 and lastrun.deleted == 0:
        out["state"] = "converged"
        return out
    grows = any(b.bytes_transferred > a.bytes_transferred * (1 + CONVERGE_TOLERANCE) + CONVERGE_FLOOR_BYTES
                for a, b in zip(seq, seq[1:]))
    out["state"] = "not_converging" if grows else "converging"
    return out


def last_delta(runs: Sequence[SyncRun]) -> SyncRun | None:
    """The last initial or delta sync run (the final sync of a cutover is not a prediction)."""
    return next((r for r in reversed(runs) if r.mode in ("initial", "delta")), None)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return "?"
