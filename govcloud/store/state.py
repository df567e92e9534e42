"""The state port: where a plan's run state lives, behind one interface.

A migration's state is three things, and every backend keeps all three:

* the **journal** of each plan (append-only; the executor's memory, read by ``migrate status``
  and the report) — entries are the typed records of :mod:`govcloud.store.entries`;
* **system locks**: one holder per system at a time (a move group is locked as the set of its
  systems, all or none), taken without waiting by the migrate commands, so two operators run
  different batches or systems of one plan at once and the same system twice is refused naming
  the holder (pid, user, host, command, since). A lock dies with its holder (flock, a PostgreSQL
  session): a SIGKILLed run never leaves one behind;
* **claims**: a system's cloud resources belong to one plan. The first run of a system claims it
  for its plan; another plan (another ``plan_id``, or for the files backend another copy of the
  plan directory, whose journal is another journal) is refused until the claim is released
  (rollback that removed the resources, or an explicit release with a reason).

Backends (chosen with ``--state URL`` or ``GOVCLOUD_STATE``; default ``file:``):

* ``file:`` / ``file:///DIR`` — the journal stays ``<plan dir>/journal.jsonl`` (as always);
  locks and claims live under the state root (default ``$XDG_STATE_HOME/govcloud``), shared by
  every plan directory on this machine;
* ``postgresql://…`` — journal rows, advisory locks per system, claims and the approved plan's
  digest by reference, shared by every operator that points at the same database.

This module is the port only (no backend library): the executor and the use cases depend on it;
``tests/conformance/state_contract.py`` holds every backend to the same behaviour.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from govcloud.errors import ExitCode, GovcloudError
from govcloud.store.journal import JournalRead

__all__ = ["PlanRef", "Claim", "Holder", "StatePort", "StateError", "SystemBusyError", "SystemClaimedError"]


class StateError(GovcloudError):
    """The state backend cannot be reached or used (bad URL, database down, permissions)."""


class SystemBusyError(GovcloudError):
    """A system is locked by another run (exit code 75, busy); the message names the holder."""

    exit_code = ExitCode.BUSY


class SystemClaimedError(GovcloudError):
    """A system's cloud resources belong to another plan (exit code 75): the message names it."""

    exit_code = ExitCode.BUSY


@dataclass(frozen=True)
class PlanRef:
    """One plan as the state knows it: its id, the directory it was read from (the files
    backend's journal lives there) and the digest of its approved plan.yaml (so every copy that
    shares a state runs the same approved plan)."""

    plan_id: str
    plan_dir: Path
    digest: str


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: shown to the operator who was refused."""

    pid: int
    user: str
    host: str
    command: str
    since: str                 # UTC, ISO 8601


@dataclass(frozen=True)
class Claim:
    """A system's resources belong to this plan (``location``: where its state lives — the plan
    directory for the files backend, the plan id for PostgreSQL)."""

    system: str
    plan_id: str
    location: str
    since: str
    by: str                    # user@host


@runtime_checkable
class StatePort(Protocol):
    url: str                   # as the operator wrote it, credentials removed

    # -- journal
    def read_journal(self, plan: PlanRef) -> JournalRead: ...
    def append_journal(self, plan: PlanRef, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one entry (``at`` and ``who`` added), durable before it returns."""
        ...

    # -- locks
    def lock_systems(self, plan: PlanRef, systems: Sequence[str], command: str) -> AbstractContextManager[None]:
        """Hold the locks of ``systems`` (all or none, without waiting); raises
        :class:`SystemBusyError` naming the holder of the first one held elsewhere."""
        ...

    def plan_lock(self, plan: PlanRef, command: str) -> AbstractContextManager[None]:
        """A short lock of the whole plan (by ``plan_id``) that WAITS for its holder (up to
        ``GOVCLOUD_LOCK_WAIT`` seconds, then :class:`SystemBusyError`): held only around the
        creation of plan-wide cloud resources (the network, the keypair), so two runs of one
        plan never create two with one name."""
        ...

    def holders(self, systems: Iterable[str]) -> dict[str, Holder]:
        """The current holder of each locked system among ``systems``."""
        ...

    # -- claims
    def claim(self, plan: PlanRef, system: str) -> Claim:
        """Claim ``system`` for ``plan`` (idempotent for the same plan and location); raises
        :class:`SystemClaimedError` naming the owning plan when another holds it. The caller
        holds the system's lock."""
        ...

    def release(self, plan: PlanRef, system: str, reason: str) -> None:
        """Give up ``plan``'s claim of ``system`` (a no-op when it holds none)."""
        ...

    def claims(self, plan_id: str | None = None) -> list[Claim]: ...

    def close(self) -> None: ...
