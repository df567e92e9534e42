"""Migration use cases: the executor for an approved plan, and the status read from its journal.

The guard a run passes first is ``usecases.approval.open_approved`` (approved, unedited, inputs
unchanged, hard rules); then ``run``/``rehearse``/``cutover``/``rollback``/``decommission`` carry out the
executor's step under the locks of its systems (the state port: store/state.py). ``cli/migrate.py`` only parses, confirms and renders. ``status`` reads the journal (and, probed, measures
replication now under those locks) and returns one typed result for the table and the JSON.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from govcloud.base.progress import NULL, Progress
from govcloud.errors import GovcloudError
from govcloud.migrate.executor import Executor, Options
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan
from govcloud.store.entries import Entry
from govcloud.usecases.plan_state import PlanState


def executor(path: Path, plan: Plan, inv: Inventory, *, key: Path | None, source_user: str, target_user: str,
             known_hosts: Path | None, target_known_hosts: Path | None, cloud_config: Path | None,
             cloud: str | None, parallel: int = 1, bwlimit: int = 0, admin_cidr: list[str] | None = None,
             apply_baseline: bool = False, replication: bool = True,
             on_event: Callable[[str, str], None] | None = None, state: str | None = None) -> Executor:
    """The executor for a plan that passed the guard; ``on_event(system, message)`` for its events
    (default: notes to the executor's progress, set by :func:`run`, :func:`cutover`, :func:`rollback`);
    ``replication`` False: databases by dump/restore only (``--no-replication``); ``state``: the
    state backend's URL (``--state``; else ``GOVCLOUD_STATE``, else ``file:``)."""
    from govcloud.drivers.state import open_state
    opts = Options(key=key, source_user=source_user, target_user=target_user, known_hosts=known_hosts,
                   target_known_hosts=target_known_hosts, cloud_config=str(cloud_config) if cloud_config else None,
                   cloud=cloud, admin_cidrs=list(admin_cidr or []), parallel=parallel, bwlimit_kbps=bwlimit,
                   apply_baseline=apply_baseline, replication=replication)
    return Executor(path.parent, plan, inv, opts, on_event=on_event, state=open_state(state))


@dataclass
class MigrationStatus:
    plan: Plan
    journal_entries: int
    torn_tail: bool                     # the journal ends in a line cut short by a crash (ignored)
    plan_state: PlanState               # approval and stale inputs, as every view shows them
    systems: list[dict[str, Any]] = field(default_factory=list)   # see :func:`status_rows`
    counts: dict[str, int] = field(default_factory=dict)          # state → systems

    def to_plain(self) -> dict[str, Any]:
        return {"plan": self.plan.plan_id, "journal_entries": self.journal_entries, "torn_tail": self.torn_tail,
                "approval": self.plan_state.to_plain(), "counts": self.counts, "systems": self.systems}


def _in_batch(batch_id: str, batch: str | None) -> bool:
    return not batch or batch_id == batch or batch_id.lstrip("B0") == batch.lstrip("B0")


def approved_window(plan: Plan, path: Path) -> float | None:
    """The policy's approved cutover downtime, read from the plan's inventory (None when it cannot
    be read: `status` shows what the journal holds even without the inventory)."""
    from govcloud.inventory.loader import load_inventory
    from govcloud.store.planfile import inventory_of
    try:
        inv = load_inventory(inventory_of(plan, path)).inventory
        pol = inv.policies.get(plan.policy)
        v = pol.thresholds.cutover_max_downtime_s if pol is not None else None
    except (GovcloudError, OSError, ValueError, AttributeError):
        return None
    return float(v) if isinstance(v, (int, float)) else None


def status_rows(plan: Plan, statuses: dict[str, Any], batch: str | None, approved_now: float | None, *,
                entries: Sequence[Entry] | None = None,
                probed: dict[str, list[Any]] | None = None) -> list[dict[str, Any]]:
    """One row per planned system: its journal status, per database the method and the replication
    state and lag (last measured with its time, or live when probed), the projection of its cutover
    window now, and the approved window (the one its last cutover recorded, else the policy's)."""
    from govcloud.migrate import replication as R
    from govcloud.migrate.executor import project_downtime
    from govcloud.migrate.lifecycle import SystemStatus
    rows = []
    for b in plan.batches:
        if not _in_batch(b.id, batch):
            continue
        for i in b.items:
            st = statuses.get(i.system, SystemStatus(i.system))
            decisions, repl = R.latest(entries or [], i.system)
            repl = (probed or {}).get(i.system, repl)
            row = {"batch": b.id, "name": i.name, **st.to_plain(),
                   # last measured (journaled by sync/cutover, with its time), never a guess
                   "replication": {"methods": [d.to_plain() for d in decisions],
                                   "status": [r.to_plain() for r in repl]},
                   "projection": project_downtime(st, decisions, repl)}
            if row["approved_downtime_s"] is None:
                row["approved_downtime_s"] = approved_now
                row["over_window"] = (None if st.downtime_s is None or approved_now is None
                                      else st.downtime_s > approved_now)
            rows.append(row)
    return rows


def status(plan_arg: Path, batch: str | None = None, *, probe: dict[str, Any] | None = None, lang: str = "zh",
           progress: Progress = NULL, state: str | None = None) -> MigrationStatus:
    """Per-system state from the journal (``batch``: only that batch, by id or number), read through
    the state backend (``state``: its URL). ``probe`` (the executor's SSH options): first measure
    replication state and lag now — read-only, journaled, under the systems' locks, on a plan that
    passes the run guard. Each row also names the run holding the system now, if one does."""
    from govcloud.base.digest import file_sha256
    from govcloud.drivers.state import open_state
    from govcloud.migrate.lifecycle import replay
    from govcloud.store.planfile import plan_path, read_plan
    from govcloud.store.state import PlanRef
    from govcloud.usecases import plan_state
    path = plan_path(Path(plan_arg))
    plan = read_plan(path)
    backend = open_state(state)
    probed: dict[str, list[Any]] = {}
    if probe is not None:
        from govcloud.usecases.approval import open_approved
        opened = open_approved(plan_arg, lang)
        path, plan = opened.path, opened.plan
        ex = executor(path, plan, opened.inventory, **probe, state=state)
        items = [i for b in plan.batches if _in_batch(b.id, batch) for i in b.items]
        with ex.locked(items, "migrate status --probe"), _reporting(ex, progress):
            probed = ex.probe_replication(items)
    ref = PlanRef(plan.plan_id, path.parent.resolve(), file_sha256(path) if path.is_file() else "")
    jr = backend.read_journal(ref)
    held = backend.holders([i.system for b in plan.batches if _in_batch(b.id, batch) for i in b.items])
    statuses = replay(jr.entries)
    rows = status_rows(plan, statuses, batch, approved_window(plan, path), entries=jr.entries, probed=probed)
    for r in rows:
        h = held.get(r["system"]) if isinstance(r.get("system"), str) else None
        r["held_by"] = ({"pid": h.pid, "user": h.user, "host": h.host, "command": h.command, "since": h.since}
                        if h is not None else None)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    return MigrationStatus(plan, len(jr.entries), jr.torn_tail, plan_state.plan_state(plan, path), rows, counts)


# ---------------------------------------------------------------- the steps, under the systems' locks
# Per system, not per plan (store.state): each command's step holds the locks of its systems (their
# move groups whole), named after the command, so two operators run different batches or systems of
# one plan at once and a second run of a system is refused at once naming the holder (exit 75).
# Before a system's resources are created it is claimed for the plan: another plan (or another copy
# of the plan directory) holding it is refused naming the owner (exit 75).


@contextmanager
def _reporting(ex: Executor, progress: Progress) -> Iterator[None]:
    """The executor reports to ``progress`` for one step (per system its steps, hosts and tasks;
    its events as notes), and to nowhere again after it."""
    before, ex.progress = ex.progress, progress
    try:
        yield
    finally:
        ex.progress = before


def _label(items: list[Any]) -> str:
    names = [i.system for i in items]
    return ",".join(names[:8]) + (f",+{len(names) - 8}" if len(names) > 8 else "")


def run(ex: Executor, items: list[Any], stage: Any, *, resync: bool, batch: str,
        progress: Progress = NULL) -> list[Any]:
    """Precheck, provision, configure and sync ``items`` up to ``stage`` (resumes from the journal)."""
    from govcloud.migrate.lifecycle import State
    with ex.locked(items, f"migrate run --batch {batch} --system {_label(items)}"), _reporting(ex, progress):
        if stage is not State.prechecked:       # resources will be created: the systems become this plan's
            ex.claim(items)
        return ex.run(items, stage, resync=resync)


def cutover(ex: Executor, items: list[Any], *, today: Any, force_reason: str | None, batch: str,
            progress: Progress = NULL) -> list[Any]:
    with ex.locked(items, f"migrate cutover --batch {batch} --system {_label(items)}"), _reporting(ex, progress):
        ex.claim(items)
        return ex.cutover(items, today=today, force_reason=force_reason)


def rehearse(ex: Executor, items: list[Any], *, keep: bool, batch: str, progress: Progress = NULL) -> list[Any]:
    """Rehearse the cutover of synced ``items`` in their zones' isolated networks (Executor.rehearse),
    under the systems' locks: a run or cutover of one of them meanwhile is refused (exit 75)."""
    with ex.locked(items, f"migrate rehearse --batch {batch} --system {_label(items)}"), _reporting(ex, progress):
        ex.claim(items)
        return ex.rehearse(items, keep=keep)


def rollback(ex: Executor, item: Any, *, keep_target: bool, reason: str, progress: Progress = NULL) -> Any:
    with ex.locked([item], f"migrate rollback --system {item.system}"), _reporting(ex, progress):
        return ex.rollback(item, keep_target=keep_target, reason=reason)


def failback(ex: Executor, item: Any, *, reason: str, progress: Progress = NULL) -> Any:
    """`migrate failback`: back to the source during the soak, keeping what was written on the target."""
    with ex.locked([item], f"migrate failback --system {item.system}"), _reporting(ex, progress):
        return ex.failback(item, reason=reason)


def failback_plan(ex: Executor, item: Any) -> dict[str, Any]:
    """`migrate failback --dry-run`: the preconditions checked, the steps and the record's live value."""
    return ex.failback_plan(item)


def decommission(ex: Executor, item: Any, *, soak_days: int, today: Any, reason: str) -> Any:
    with ex.locked([item], f"migrate decommission --system {item.system}"):
        return ex.decommission(item, soak_days=soak_days, today=today, reason=reason)


@dataclass
class Released:
    plan_id: str
    system: str
    had_claim: bool            # the plan held the system (else: nothing to release)
    resources_left: list[str]  # what the journal still records in the cloud for it

    def to_plain(self) -> dict[str, Any]:
        return {"plan": self.plan_id, "system": self.system, "released": self.had_claim,
                "resources_left": self.resources_left}


def release(plan_arg: Path, system: str, *, reason: str, state: str | None = None) -> Released:
    """Give up the plan's claim of ``system`` explicitly (journaled with ``reason``), under the
    system's lock: another plan may then migrate it. Resources the journal still records for it
    are named (they stay in the cloud; the next plan's run refuses to create servers while the
    cloud holds some of this plan's)."""
    from govcloud.base.digest import file_sha256
    from govcloud.base.i18n import Msg
    from govcloud.drivers.state import open_state
    from govcloud.migrate.lifecycle import replay
    from govcloud.store.planfile import plan_path, read_plan
    from govcloud.store.state import PlanRef
    if not reason or not reason.strip():
        raise GovcloudError(Msg("release needs --reason \"…\" (it is journaled)"))
    path = plan_path(Path(plan_arg))
    plan = read_plan(path)
    item = next((i for i in plan.items() if i.system == system), None)
    if item is None:
        raise GovcloudError(Msg("system {system} is not in a batch of {plan}", system=repr(system), plan=plan.plan_id))
    backend = open_state(state)
    ref = PlanRef(plan.plan_id, path.parent.resolve(), file_sha256(path))
    with backend.lock_systems(ref, [system], f"migrate release --system {system}"):
        def held() -> bool:
            return any(c.system == system for c in backend.claims(plan.plan_id))

        st = replay(backend.read_journal(ref).entries).get(system)
        left = sorted(k for k, v in (st.resources if st else {}).items() if v.get("kind") not in ("network", "keypair"))
        before = held()
        backend.release(ref, system, reason.strip())
        released = before and not held()      # (another copy's claim of the same plan id is not ours)
        if released:
            backend.append_journal(ref, {"kind": "release", "system": system, "reason": reason.strip(),
                                         "resources_left": left})
    return Released(plan.plan_id, system, released, left)
