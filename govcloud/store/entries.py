"""The journal's entries as typed records: one class per kind, with ``from_dict``/``to_dict`` at the file
boundary (store/journal.parse reads through ``from_dict``; everything above it — the executor's replay,
`migrate status`, the report — reads attributes, never string keys).

The on-disk format is unchanged: one JSON object per line with ``at``, ``who``, ``run``, ``kind``,
``system`` and the fields of its kind. Fields a kind does not model (older or newer writers, hand
edits) are kept in ``extra`` and written back by ``to_dict``, so a round trip loses nothing.

The journal is a file anyone with write access may edit, so ``from_dict`` never trusts a type: a field of
the wrong type reads as absent (``None``, an empty tuple, ``False``), except what the journal's shape
check already refuses (store/journal._shape_problem). Values whose meaning belongs to a floor above
(durations, replication decisions, rsync figures) stay plain here and are validated by their readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Mapping

# the fields every entry may carry (written by journal.append and the executor's `j`)
_COMMON = ("kind", "system", "at", "who", "run", "step", "reason")


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _map(v: Any) -> Mapping[str, Any] | None:
    return v if isinstance(v, dict) else None


def _seq(v: Any) -> tuple[Any, ...]:
    return tuple(v) if isinstance(v, list) else ()


def _maps(v: Any) -> tuple[Mapping[str, Any], ...]:
    return tuple(x for x in v if isinstance(x, dict)) if isinstance(v, list) else ()


def _num(v: Any) -> float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None     # an int stays an int


@dataclass(frozen=True)
class Entry:
    """A journal line of a kind this version does not model (kept whole, in ``extra``), and the base of
    every kind: who wrote it when, in which run, about which system and step, and why."""
    kind: str | None = None
    system: str | None = None
    at: str | None = None
    who: str | None = None
    run: str | None = None
    step: str | None = None
    reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    KIND: ClassVar[str | None] = None
    # the kind's own fields: name → reader of the raw JSON value
    _READ: ClassVar[dict[str, Any]] = {}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Entry":
        """The typed entry of one journal object (the class is chosen by its ``kind``)."""
        if "kind" not in d:
            return PlainState._build(d)
        kind = d.get("kind")
        return KINDS.get(kind, Entry)._build(d) if isinstance(kind, str) else Entry._build(d)

    @classmethod
    def _build(cls, d: Mapping[str, Any]) -> "Entry":
        own = {name: read(d.get(name)) for name, read in cls._READ.items()}
        modelled = set(_COMMON) | set(cls._READ)
        return cls(**{k: _text(d.get(k)) for k in _COMMON}, **own,
                   extra={k: v for k, v in d.items() if k not in modelled})

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this entry (fields that are absent are left out; ``extra`` goes back as it came)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if v is None or v is False or (isinstance(v, tuple) and not v):
                continue                        # absent (a kind's flags and lists are written only when set)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        if type(self) is Entry and "kind" not in out:
            out["kind"] = None
        out.update(self.extra)
        return out

    def get(self, name: str, default: Any = None) -> Any:
        """A field this kind does not model, by its JSON name (or a modelled one)."""
        if name in self.extra:
            return self.extra[name]
        v = getattr(self, name, None) if name != "extra" else None
        return default if v is None else v


@dataclass(frozen=True)
class PlainState(Entry):
    """A ``{system, state}`` line without a kind (the report's older journal shape)."""
    state: str | None = None
    _READ: ClassVar[dict[str, Any]] = {"state": _text}


@dataclass(frozen=True)
class StateEntry(Entry):
    """A system's state changed (``to``): the only source of truth of where a system is."""
    to: str | None = None
    evidence: Mapping[str, Any] | None = None
    KIND: ClassVar[str] = "state"
    _READ: ClassVar[dict[str, Any]] = {"to": _text, "evidence": _map}


@dataclass(frozen=True)
class StepEntry(Entry):
    """A step started, succeeded or failed (``status`` start/ok/fail) with what it did (``detail``)."""
    status: str | None = None
    detail: Mapping[str, Any] | None = None
    KIND: ClassVar[str] = "step"
    _READ: ClassVar[dict[str, Any]] = {"status": _text, "detail": _map}


@dataclass(frozen=True)
class ResourceEntry(Entry):
    """A cloud resource made, adopted or kept for a system (``key`` kind:name), or ``removed``."""
    key: str | None = None
    action: str | None = None
    removed: bool = False
    resource: Mapping[str, Any] | None = None
    KIND: ClassVar[str] = "resource"
    _READ: ClassVar[dict[str, Any]] = {"key": _text, "action": _text, "removed": bool, "resource": _map}


@dataclass(frozen=True)
class SyncStatsEntry(Entry):
    """The rsync figures of one sync run; its figures are in ``extra`` (read by syncstats.SyncRun)."""
    KIND: ClassVar[str] = "sync_stats"

    @property
    def figures(self) -> dict[str, Any]:
        return {**self.extra, "at": self.at}


@dataclass(frozen=True)
class RunEntry(Entry):
    """A command started (run/cutover/rollback/decommission) over ``systems``; a cutover records its
    projection, the approved window and, when forced, the reason."""
    command: str | None = None
    systems: tuple[Any, ...] | None = None
    until: str | None = None
    forced: bool = False
    projection: Mapping[str, Any] | None = None
    approved_downtime_s: Any = None
    KIND: ClassVar[str] = "run"
    _READ: ClassVar[dict[str, Any]] = {"command": _text, "systems": lambda v: tuple(v) if isinstance(v, list) else None,
                                       "until": _text, "forced": lambda v: v is True, "projection": _map,
                                       "approved_downtime_s": lambda v: v}


@dataclass(frozen=True)
class ReplicationEntry(Entry):
    """Per database the method decided (``decisions``, with the ``facts`` they rest on) or the replication
    state measured (``status``)."""
    decisions: tuple[Mapping[str, Any], ...] = ()
    status: tuple[Mapping[str, Any], ...] = ()
    facts: tuple[Mapping[str, Any], ...] = ()
    KIND: ClassVar[str] = "replication"
    _READ: ClassVar[dict[str, Any]] = {"decisions": _maps, "status": _maps, "facts": _maps}


@dataclass(frozen=True)
class RecordTtlEntry(Entry):
    """A DNS cutover record's TTL lowered during sync, and when the old TTL expires from every cache."""
    record: str | None = None
    values: tuple[Any, ...] = ()
    ttl_before: float | None = None
    ttl: float | None = None
    changed: bool = False
    lowered_at: float | None = None
    expires_at: float | None = None
    expires: str | None = None
    KIND: ClassVar[str] = "record_ttl"
    _READ: ClassVar[dict[str, Any]] = {"record": _text, "values": _seq, "ttl_before": _num, "ttl": _num,
                                       "changed": lambda v: v is True, "lowered_at": _num, "expires_at": _num,
                                       "expires": _text}


@dataclass(frozen=True)
class SwitchEntry(Entry):
    """A cutover record switched (``to`` source/target), verified, or refused (``code``)."""
    record: str | None = None
    to: str | None = None
    status: str | None = None
    code: str | None = None
    live: tuple[Any, ...] = ()
    expected: tuple[Any, ...] = ()
    KIND: ClassVar[str] = "switch"
    _READ: ClassVar[dict[str, Any]] = {"record": _text, "to": _text, "status": _text, "code": _text,
                                       "live": _seq, "expected": _seq}


@dataclass(frozen=True)
class ChangeEntry(Entry):
    """One change of the dry run's list carried out by the run, with its ``outcome``."""
    change: Mapping[str, Any] | None = None
    outcome: str | None = None
    KIND: ClassVar[str] = "change"
    _READ: ClassVar[dict[str, Any]] = {"change": _map, "outcome": _text}


@dataclass(frozen=True)
class CleanupEntry(Entry):
    """A half-made resource removed after a failed create."""
    key: str | None = None
    resource: Any = None
    KIND: ClassVar[str] = "cleanup"
    _READ: ClassVar[dict[str, Any]] = {"key": _text, "resource": lambda v: v}


@dataclass(frozen=True)
class RetryEntry(Entry):
    """A playbook retried after hosts were unreachable."""
    attempt: int | None = None
    unreachable: tuple[Any, ...] = ()
    KIND: ClassVar[str] = "retry"
    _READ: ClassVar[dict[str, Any]] = {"attempt": lambda v: v if isinstance(v, int) and not isinstance(v, bool)
                                       else None, "unreachable": _seq}


@dataclass(frozen=True)
class ReapedEntry(Entry):
    """Processes an earlier, killed run left behind, ended by this one."""
    pid: int | None = None
    processes: tuple[Mapping[str, Any], ...] = ()
    KIND: ClassVar[str] = "reaped"
    _READ: ClassVar[dict[str, Any]] = {"pid": lambda v: v if isinstance(v, int) and not isinstance(v, bool)
                                       else None, "processes": _maps}


@dataclass(frozen=True)
class RehearsalEntry(Entry):
    """A `migrate rehearse` of a system in an isolated network: ``status`` start | ok | fail | cleaned
    (its clones removed), one ``rehearsal`` id across its lines, the measured ``timings`` (seconds per
    phase), the ``projected_window_s`` of the cutover, the isolated ``network`` and the ``checks`` run."""
    rehearsal: str | None = None
    status: str | None = None
    timings: Mapping[str, Any] | None = None
    projected_window_s: float | None = None
    network: str | None = None
    checks: tuple[Any, ...] = ()
    KIND: ClassVar[str] = "rehearsal"
    _READ: ClassVar[dict[str, Any]] = {"rehearsal": _text, "status": _text, "timings": _map,
                                       "projected_window_s": _num, "network": _text, "checks": _seq}


KINDS: dict[str, type[Entry]] = {c.KIND: c for c in (StateEntry, StepEntry, ResourceEntry, SyncStatsEntry, RunEntry,
                                                     ReplicationEntry, RecordTtlEntry, SwitchEntry, ChangeEntry,
                                                     CleanupEntry, RetryEntry, ReapedEntry, RehearsalEntry)}


def as_entry(e: "Entry | Mapping[str, Any]") -> Entry:
    """An entry as a typed record (a plain mapping — a test's or an older caller's — is read by from_dict)."""
    return e if isinstance(e, Entry) else Entry.from_dict(e)
