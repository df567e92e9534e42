"""The per-system lifecycle and its replay from the journal (pure).

pending → prechecked → provisioned → synced (delta syncs repeat) → cutover → verified → done;
``rolled_back`` returns a system to a state from which it can be run again, ``failed`` keeps the
step and the reason. Journal entries of kind ``state`` are the only source of truth; ``step``
entries (start/ok/fail) explain them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from govcloud.model.enums import LabeledEnum, Strategy


class State(LabeledEnum):
    pending = "pending", "待迁移"
    prechecked = "prechecked", "已预检"
    provisioned = "provisioned", "已开通资源"
    synced = "synced", "已同步数据"
    cutover = "cutover", "已切换"
    verified = "verified", "已验证"
    done = "done", "已完成"
    rolled_back = "rolled_back", "已回退", "rolled back"
    failed = "failed", "失败"
    decommissioned = "decommissioned", "源系统已下线", "source decommissioned"


class Step(LabeledEnum):
    precheck = "precheck", "预检"
    provision = "provision", "开通云资源"
    configure = "configure", "基础配置"
    sync = "sync", "数据同步"
    cutover = "cutover", "业务切换"
    verify = "verify", "验证"
    rollback = "rollback", "回退"
    decommission = "decommission", "源系统下线"


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

    def to_plain(self) -> dict[str, Any]:
        return {"system": self.system, "state": self.state.value, "failed_step": self.failed_step,
                "reason": self.reason, "at": self.at, "who": self.who, "syncs": self.syncs,
                "done_steps": sorted(self.done_steps), "resources": self.resources,
                "cutover_at": self.cutover_at, "done_at": self.done_at, "downtime_s": self.downtime_s,
                "downtime_note": self.downtime_note, "last_sync_s": self.last_sync_s}


def replay(entries: Iterable[dict[str, Any]]) -> dict[str, SystemStatus]:
    """Per-system status from journal entries, in order."""
    out: dict[str, SystemStatus] = {}
    starts: dict[tuple[str, str], str | None] = {}
    for e in entries:
        sid = e.get("system")
        if not sid:
            continue
        st = out.setdefault(sid, SystemStatus(sid))
        kind = e.get("kind")
        if kind == "resource":
            key = e["key"]
            if e.get("removed"):
                st.resources.pop(key, None)
            else:
                st.resources[key] = dict(e.get("resource") or {})
        elif kind == "step" and e.get("status") == "start":
            starts[(sid, e.get("step"))] = e.get("at")
        elif kind == "step" and e.get("status") == "ok":
            st.done_steps.add(e["step"])
            if e["step"] == Step.sync.value:
                st.syncs += 1
                st.last_sync_s = _seconds_between(starts.get((sid, e["step"])), e.get("at")) or st.last_sync_s
            detail = e.get("detail") or {}
            if e["step"] == Step.cutover.value and isinstance(detail, dict) and "downtime_s" in detail:
                st.downtime_s, st.downtime_note = detail.get("downtime_s"), detail.get("downtime")
        elif kind == "state":
            new = State(e["to"])
            st.state = new
            st.at, st.who = e.get("at"), e.get("who")
            # a rollback keeps the step and reason that caused it, so `status` says why
            st.failed_step, st.reason = ((e.get("step"), e.get("reason")) if new in (State.failed, State.rolled_back)
                                         else (None, None))
            if new is State.rolled_back:
                st.done_steps.clear()
                st.cutover_at = None
            elif new is State.cutover:
                st.cutover_at = e.get("at")
            elif new is State.done:
                st.done_at = e.get("at")
            st.history.append({"to": new.value, "at": e.get("at"), "who": e.get("who"), "step": e.get("step"),
                               "reason": e.get("reason")})
    return out


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
