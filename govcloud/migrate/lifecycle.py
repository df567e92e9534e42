"""The per-system lifecycle and its replay from the journal (pure).

pending → prechecked → provisioned → synced (delta syncs repeat) → cutover → verified → done;
``rolled_back`` returns a system to a state from which it can be run again, ``failed`` keeps the
step and the reason; ``failed_back`` (a `migrate failback` during the soak: what the target wrote copied
back to the source, which serves again) does too. Rehearsals (kind ``rehearsal``) change no state: they are
listed per system (``rehearsals``), and the cutover may require a recent successful one. Journal entries of kind ``state`` are the only source of truth; ``step``
entries (start/ok/fail) explain them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from govcloud.migrate.syncstats import SyncRun, convergence, last_delta
from govcloud.model.enums import LabeledEnum, Strategy
from govcloud.store.entries import (Entry, RehearsalEntry, ResourceEntry, RunEntry, StateEntry, StepEntry,
                                    SyncStatsEntry, as_entry)


class State(LabeledEnum):
    pending = "pending"
    prechecked = "prechecked"
    provisioned = "provisioned"
    synced = "synced"
    cutover = "cutover"
    verified = "verified"
    done = "done"
    rolled_back = "rolled_back", "rolled back"
    failed = "failed"
    decommissioned = "decommissioned", "source decommissioned"
    # `migrate failback` during the soak: the target's writes copied back, the source serves again
    failed_back = "failed_back", "failed back"


class Step(LabeledEnum):
    precheck = "precheck"
    provision = "provision"
    configure = "configure"
    sync = "sync"
    cutover = "cutover"
    verify = "verify"
    rollback = "rollback"
    decommission = "decommission"
    rehearse = "rehearse"
    failback = "failback"


# The forward path: the state a system reaches when the step succeeds.
FORWARD: tuple[tuple[Step, State], ...] = (
    (Step.precheck, State.prechecked),
    (Step.provision, State.provisioned),
    (Step.configure, State.provisioned),      # configure keeps the state; sync needs it done first
    (Step.sync, State.synced),
    (Step.cutover, State.cutover),
    (Step.verify, State.verified),
)
# the only step → state table: the executor transitions through it
STATE_AFTER: dict[Step, State] = dict(FORWARD)
ORDER = [State.pending, State.prechecked, State.provisioned, State.synced, State.cutover, State.verified,
         State.done, State.decommissioned]

# Stages `migrate run --until` accepts, and what `run` does by default (cutover is its own command).
RUN_STAGES = (State.prechecked, State.provisioned, State.synced)

EXECUTABLE = {Strategy.rehost, Strategy.replatform, Strategy.relocate_intranet}


def rank(state: State) -> int:
    return ORDER.index(state) if state in ORDER else -1


RUN_STEPS: dict[State, tuple[Step, ...]] = {
    State.prechecked: (Step.precheck,),
    State.provisioned: (Step.precheck, Step.provision, Step.configure),
    State.synced: (Step.precheck, Step.provision, Step.configure, Step.sync),
}


@dataclass
class SystemStatus:
    system: str
    state: State = State.pending
    failed_step: str | None = None
    reason: str | None = None
    at: str | None = None
    who: str | None = None
    syncs: int = 0
    # forward steps completed since the last rollback: a resumed run skips them
    done_steps: set[str] = field(default_factory=set)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)   # key → {id, kind, name, ...}
    cutover_at: str | None = None
    done_at: str | None = None
    downtime_s: float | None = None          # measured by the client's prober at the last cutover
    downtime_note: str | None = None
    last_sync_s: float | None = None         # wall time of the last successful sync step
    history: list[dict[str, Any]] = field(default_factory=list)
    sync_runs: list[SyncRun] = field(default_factory=list)   # rsync statistics per sync run (kind sync_stats)
    # what the last `migrate cutover` of this system recorded before it started: the projected
    # window, the approved one, and the reason when it was forced
    cutover_projection: dict[str, Any] | None = None
    approved_downtime_s: float | None = None
    forced_reason: str | None = None
    # `migrate rehearse` runs of this system, oldest first: {id, status (start|ok|fail|cleaned), at,
    # started_at, reason, timings {…_s}, projected_window_s, network, checks}
    rehearsals: list[dict[str, Any]] = field(default_factory=list)
    # `migrate failback` runs, oldest first: {status (ok|fail), at, reason, evidence}
    failbacks: list[dict[str, Any]] = field(default_factory=list)

    def to_plain(self) -> dict[str, Any]:
        return {"system": self.system, "state": self.state.value, "failed_step": self.failed_step,
                "reason": self.reason, "at": self.at, "who": self.who, "syncs": self.syncs,
                "done_steps": sorted(self.done_steps), "resources": self.resources,
                "cutover_at": self.cutover_at, "done_at": self.done_at, "downtime_s": self.downtime_s,
                "downtime_note": self.downtime_note, "last_sync_s": self.last_sync_s,
                "sync_runs": [r.to_plain() for r in self.sync_runs],
                "last_delta": (d.to_plain() if (d := last_delta(self.sync_runs)) else None),
                "convergence": convergence(self.sync_runs),
                "final_sync": (f.to_plain() if (f := self.final_sync) else None),
                "cutover_projection": self.cutover_projection, "approved_downtime_s": self.approved_downtime_s,
                "forced_reason": self.forced_reason, "over_window": self.over_window,
                "rehearsals": self.rehearsals, "last_rehearsal": self.last_rehearsal, "failbacks": self.failbacks}

    @property
    def last_rehearsal(self) -> dict[str, Any] | None:
        """The newest rehearsal that succeeded (status ok, or ok then cleaned up), or None."""
        for r in reversed(self.rehearsals):
            if r.get("ok"):
                return r
        return None

    @property
    def final_sync(self) -> SyncRun | None:
        """The file copy of the last cutover (the one made with the source's services stopped)."""
        return self.sync_runs[-1] if self.sync_runs and self.sync_runs[-1].mode == "final" else None

    @property
    def over_window(self) -> bool | None:
        """The measured downtime exceeded the approved window (None: one of them is not known)."""
        if self.downtime_s is None or self.approved_downtime_s is None:
            return None
        return self.downtime_s > self.approved_downtime_s


def replay(entries: Iterable[Entry | Mapping[str, Any]]) -> dict[str, SystemStatus]:
    """Per-system status from journal entries (typed, as store/journal.read returns them; a plain
    mapping is read by Entry.from_dict), in order."""
    out: dict[str, SystemStatus] = {}
    starts: dict[tuple[str, str | None], str | None] = {}
    for e in map(as_entry, entries):
        if isinstance(e, RunEntry) and e.command == "cutover" and e.systems is not None:
            _cutover_run(out, e)
            continue
        sid = e.system
        if not sid:
            continue
        st = out.setdefault(sid, SystemStatus(sid))
        if isinstance(e, RehearsalEntry):
            _rehearsal(st, e)
        elif isinstance(e, ResourceEntry):
            if e.key is None:
                continue
            if e.removed:
                st.resources.pop(e.key, None)
            else:
                st.resources[e.key] = dict(e.resource or {})
        elif isinstance(e, SyncStatsEntry):
            run = SyncRun.from_journal(e.figures)
            if run is not None:
                st.sync_runs.append(run)
        elif isinstance(e, StepEntry) and e.status == "start":
            starts[(sid, e.step)] = e.at
        elif isinstance(e, StepEntry) and e.status == "ok":
            if e.step is None:
                continue
            st.done_steps.add(e.step)
            if e.step == Step.sync.value:
                st.syncs += 1
                st.last_sync_s = _seconds_between(starts.get((sid, e.step)), e.at) or st.last_sync_s
            detail = e.detail or {}
            if e.step == Step.cutover.value and "downtime_s" in detail:
                st.downtime_s, st.downtime_note = _seconds(detail.get("downtime_s")), _note(detail.get("downtime"))
            if e.step == Step.failback.value:
                ev = detail.get("evidence") if isinstance(detail.get("evidence"), dict) else {}
                st.failbacks.append({"status": "ok", "at": e.at, "who": e.who, "reason": None, "evidence": ev,
                                     **_proved(ev)})
        elif isinstance(e, StepEntry) and e.status == "fail" and e.step == Step.failback.value:
            st.failbacks.append({"status": "fail", "at": e.at, "who": e.who, "reason": _note(e.reason),
                                 "evidence": {}})
        elif isinstance(e, StateEntry):
            new = State(e.to)
            st.state = new
            st.at, st.who = e.at, e.who
            # a rollback keeps the step and reason that caused it, so `status` says why
            st.failed_step, st.reason = ((e.step, e.reason) if new in (State.failed, State.rolled_back,
                                                                       State.failed_back) else (None, None))
            if new in (State.rolled_back, State.failed_back):
                st.done_steps.clear()
                st.cutover_at = None
            elif new is State.cutover:
                st.cutover_at = e.at
            elif new is State.done:
                st.done_at = e.at
            st.history.append({"to": new.value, "at": e.at, "who": e.who, "step": e.step, "reason": e.reason})
    return out


def _proved(ev: Mapping[str, Any]) -> dict[str, int]:
    """How many tables (per-table checksums, per database) and data trees a failback's evidence proved
    equal on the source — counted from what the journal holds, whatever its shape."""
    sums = ev.get("checksums")
    tables = sum(len(v) if isinstance(v, dict) else 1 for v in sums.values()) if isinstance(sums, dict) else 0
    trees = ev.get("trees")
    return {"tables": tables, "trees": len(trees) if isinstance(trees, (list, dict)) else 0}


def _rehearsal(st: SystemStatus, e: RehearsalEntry) -> None:
    """One line of a rehearsal (start, then ok or fail, then cleaned): lines of one rehearsal id make
    one record; a rehearsal whose start has no outcome was interrupted (its clones are removed by the
    next rehearsal of the system)."""
    rid = e.rehearsal
    if not rid or e.status not in ("start", "ok", "fail", "cleaned"):
        return
    rec = next((r for r in st.rehearsals if r["id"] == rid), None)
    if rec is None:
        rec = {"id": rid, "status": e.status, "ok": False, "at": e.at, "started_at": e.at, "reason": None,
               "timings": {}, "projected_window_s": None, "network": None, "checks": []}
        st.rehearsals.append(rec)
    if e.status != "cleaned" or rec["status"] == "start":
        rec["status"] = e.status
    rec["at"] = e.at
    if e.status == "ok":
        rec["ok"] = True
    elif e.status == "fail":
        rec["ok"], rec["reason"] = False, _note(e.reason)
    elif e.status == "cleaned":
        rec["cleaned_at"] = e.at
    timings = {k: s for k, v in (e.timings or {}).items() if isinstance(k, str) and (s := _seconds(v)) is not None}
    rec["timings"].update(timings)
    if (w := _seconds(e.projected_window_s)) is not None:
        rec["projected_window_s"] = w
    if e.network:
        rec["network"] = e.network[:200]
    if e.checks:
        rec["checks"] = [c[:500] for c in e.checks if isinstance(c, str)][:200]


def _seconds(v: Any) -> float | None:
    """A duration from the journal (which others may have edited): a finite number ≥ 0, else None."""
    import math
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v < 1e9:
        return None
    return float(v)


def _note(v: Any) -> str | None:
    return v[:500] if isinstance(v, str) else None


def _cutover_run(out: dict[str, SystemStatus], e: RunEntry) -> None:
    """A `migrate cutover` run line: the projection, approved window and forced reason it recorded."""
    projection = e.projection or {}
    approved = _seconds(e.approved_downtime_s)
    reason = _note(e.reason) if e.forced else None
    for sid in e.systems or ():
        if not isinstance(sid, str) or not sid:
            continue
        st = out.setdefault(sid, SystemStatus(sid))
        p = projection.get(sid)
        st.cutover_projection = ({k: v for k, v in p.items() if isinstance(k, str) and isinstance(v, (int, float, str))
                                  or v is None} if isinstance(p, dict) else None)
        st.approved_downtime_s = approved
        st.forced_reason = reason


def _seconds_between(a: str | None, b: str | None) -> float | None:
    from datetime import datetime
    try:
        return round((datetime.fromisoformat(b.replace("Z", "+00:00")) -
                      datetime.fromisoformat(a.replace("Z", "+00:00"))).total_seconds(), 3)
    except (AttributeError, TypeError, ValueError):
        return None


def run_steps(st: SystemStatus, until: State, *, resync: bool = False) -> list[Step]:
    """The forward steps `migrate run` performs for this system to reach ``until`` (≤ synced);
    steps already completed since the last rollback are skipped, so a re-run resumes."""
    if rank(st.state) >= rank(State.cutover):
        return []
    todo = [s for s in RUN_STEPS[until] if s.value not in st.done_steps]
    if resync and Step.sync in RUN_STEPS[until] and Step.sync not in todo and st.state is State.synced:
        todo.append(Step.sync)
    return todo
