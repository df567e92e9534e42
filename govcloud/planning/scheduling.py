"""Batches with dates (DOMAIN.md §5.1 H-DEP/TKO/DATE/FRZ/CAP, §5.2 轻重缓急).

Time runs in weeks from the plan start; a batch is ``batch_weeks`` weeks and can move
``servers_per_week`` servers a week (the first batch, the pilot, at most
``pilot_max_servers``). Systems cut over on Saturdays. A move group is released when
its department's takeover is done and every group it calls synchronously has been
scheduled (the same batch is fine: callees cut over first or on the same day).
Released groups are taken earliest-deadline first, then by department (light and
already-taken-over departments first, so departments finish together), then by
priority. A group that can no longer meet its deadline, or finds no zone with the
capacity, flavors and images it needs, becomes unscheduled with the reason.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from govcloud.model.enums import Strategy
from govcloud.base.i18n import tr
from govcloud.model.plan import coded
from govcloud.planning.context import Context

_FAR = date.max


@dataclass
class Unit:
    id: str
    systems: list[str]
    servers: int                      # servers to move (0 for retire/repurchase: no throughput used)
    ready: date | None
    deadline: date | None
    priority: float
    dept_key: tuple
    callees: set[str] = field(default_factory=set)   # units this one calls synchronously
    callers: set[str] = field(default_factory=set)
    partners: set[str] = field(default_factory=set)  # callees it is coupled to: if they fail, so does it
    waiting_on: int = 0
    moves: bool = True                 # False: a retire/replace action (not in the pilot)
    # ordering deadline: its own, or earlier when a caller with an earlier deadline waits for it
    urgent_by: date | None = None
    pilot_ok: bool = False             # small and low-risk enough for the pilot batch
    ready_of: object = ""               # whose takeover sets ``ready`` (department, system)
    deadline_of: object = ""            # whose deadline binds (system: source)
    retry_from: date | None = None     # capacity refused until a zone expansion on this day

    def key(self) -> tuple:
        return (self.urgent_by or self.deadline or _FAR, self.dept_key, -self.priority, self.id)


@dataclass
class Slot:
    batch: int                        # window index
    cutover: date


@dataclass
class Week:
    saturday: date
    capacity: int
    used: int = 0

    @property
    def spare(self) -> int:
        return self.capacity - self.used


def first_monday(d: date) -> date:
    return d + timedelta(days=(7 - d.weekday()) % 7)


class Scheduler:
    """Fills consecutive batch windows; ``place`` decides zones and may refuse a unit."""

    def __init__(self, ctx: Context, units: dict[str, Unit], place, max_windows: int = 400) -> None:
        self.ctx = ctx
        self.units = units
        self.place = place                    # (unit, cutover, window) -> list[str] | None (reasons if refused)
        self.max_windows = max_windows
        self.slot: dict[str, Slot] = {}
        self.failed: dict[str, list[str]] = {}
        self.windows: dict[int, tuple[date, list[Week]]] = {}
        self.pilot_window: int | None = None  # the window run as the pilot, if anything went into it
        self._monday = first_monday(ctx.start)

    # ------------------------------------------------------------ calendar

    def window(self, k: int, pilot: bool) -> tuple[date, list[Week]]:
        s = self.ctx.settings
        start = self._monday + timedelta(weeks=k * s.batch_weeks)
        weeks = []
        budget = s.pilot_max_servers if pilot else s.servers_per_week * s.batch_weeks
        for w in range(s.batch_weeks):
            sat = start + timedelta(weeks=w, days=s.cutover_weekday)
            global_freeze = any(f.start <= sat <= f.end and f.scope.value == "global" for f in self.ctx.freezes)
            cap = 0 if global_freeze else min(s.servers_per_week, budget)
            budget -= cap
            weeks.append(Week(sat, cap))
        return start, weeks

    def _inherit_deadlines(self) -> None:
        """Callees are scheduled no later than their callers need them (no priority inversion)."""
        units = self.units
        pending = {uid: len(u.callers) for uid, u in units.items()}
        queue = [uid for uid, n in pending.items() if n == 0]  # callers first (sync cycles were merged)
        for u in units.values():
            u.urgent_by = u.deadline
        while queue:
            uid = queue.pop()
            u = units[uid]
            for c in u.callees:
                callee = units[c]
                if u.urgent_by and (callee.urgent_by is None or u.urgent_by < callee.urgent_by):
                    callee.urgent_by = u.urgent_by
                pending[c] -= 1
                if pending[c] == 0:
                    queue.append(c)

    # ------------------------------------------------------------ main loop

    def run(self) -> None:
        for u in self.units.values():
            for c in u.callees:
                self.units[c].callers.add(u.id)
            u.waiting_on = len(u.callees)
        self._inherit_deadlines()
        ready: list[tuple] = []
        waiting: list[tuple] = []     # (ready date, key, id): released by the calendar
        for u in self.units.values():
            if u.waiting_on == 0:
                heapq.heappush(waiting, ((u.ready or date.min), u.key(), u.id))
        self._blocked = {u.id for u in self.units.values() if u.waiting_on}
        k = 0
        pilot_open = True
        while (ready or waiting or self._blocked) and k < self.max_windows:
            start, weeks = self.window(k, pilot=pilot_open)
            last = weeks[-1].saturday
            while waiting and waiting[0][0] <= last:
                _, key, uid = heapq.heappop(waiting)
                heapq.heappush(ready, (key, uid))
            if not ready and not waiting and self._blocked:
                # only units whose callees never got scheduled remain: release them
                for uid in sorted(self._blocked - set(self.failed)):
                    heapq.heappush(ready, (self.units[uid].key(), uid))
                self._blocked.clear()
            placed = self._fill(k, weeks, ready, waiting, pilot=pilot_open)
            if placed:
                self.windows[k] = (start, weeks)
            if pilot_open and placed:
                self.pilot_window, pilot_open = k, False
            elif pilot_open and ready and all(not self.units[uid].pilot_ok for _, uid in ready):
                # nothing released can be piloted (only retirements, groups larger than pilot_max_servers
                # or systems too risky for a pilot): there is no pilot, the work goes on in full batches
                pilot_open = False
            k += 1
        leftovers = [uid for _, uid in ready] + [uid for _, _, uid in waiting] + sorted(self._blocked)
        for uid in leftovers:
            if uid not in self.slot:
                self.failed.setdefault(uid, [coded("SCHED.windows", n=self.max_windows)])

    def _fill(self, k: int, weeks: list[Week], ready: list, waiting: list, pilot: bool = False) -> int:
        placed = 0
        deferred: list[tuple] = []
        misses = 0
        # After many refusals in a row the window is as full as it gets; stop scanning so a
        # national inventory does not rescan every released group for every window.
        while ready and misses < 256:
            key, uid = heapq.heappop(ready)
            if uid in self.failed or uid in self.slot:
                continue  # failed through a coupled partner while it waited
            u = self.units[uid]
            # the pilot proves the migration path on a few real systems; retirements come after
            cutover = None if (pilot and not u.pilot_ok) else self._cutover(u, weeks)
            if cutover is None:
                deferred.append((key, uid))
                misses += 1
                continue
            if u.deadline and cutover > u.deadline:
                self._fail(u, [self._deadline_reason(u, cutover)], ready, waiting)
                continue
            refused = self.place(u, cutover, k)
            if refused:
                retry = getattr(refused, "retry", None)
                reasons = getattr(refused, "reasons", refused)
                if retry is not None and (u.deadline is None or retry <= u.deadline):
                    # a zone grows on ``retry``: wait for it instead of giving up
                    u.retry_from = retry
                    heapq.heappush(waiting, (retry, u.key(), uid))
                    continue
                self._fail(u, reasons, ready, waiting)
                continue
            self._consume(weeks, cutover, u.servers, u.ready)
            self.slot[uid] = Slot(k, cutover)
            placed += 1
            misses = 0
            for caller in sorted(u.callers):
                self._release(caller, ready, waiting, weeks)
        next_saturday = weeks[-1].saturday + timedelta(weeks=1)
        for item in deferred:
            u = self.units[item[1]]
            if u.servers > self._batch_capacity():
                st = self.ctx.settings
                self._fail(u, [coded("H-CAP-2.batch", group=u.id, servers=u.servers, cap=self._batch_capacity(),
                                     per_week=st.servers_per_week, weeks=st.batch_weeks)], ready, waiting)
            elif u.deadline and u.deadline < next_saturday:
                self._fail(u, [self._deadline_reason(u, None)], ready, waiting)
            else:
                heapq.heappush(ready, item)
        return placed

    def _batch_capacity(self) -> int:
        s = self.ctx.settings
        return s.servers_per_week * s.batch_weeks

    def _cutover(self, u: Unit, weeks: list[Week]) -> date | None:
        """The first Saturday of the window with enough throughput left before it, on or after
        the takeover and every callee's cutover, outside freezes that apply to the unit's systems.
        No work for a department before its takeover: only the days from the takeover on count."""
        not_before = max(u.ready or date.min, u.retry_from or date.min)
        for c in u.callees:
            slot = self.slot.get(c)
            if slot is not None and slot.cutover > not_before:
                not_before = slot.cutover
        systems = [self.ctx.inv.systems[s] for s in u.systems]
        spare = 0
        for w in weeks:
            spare += self._usable(w, u.ready)
            if w.saturday < not_before or spare < u.servers:
                continue
            if any(self.ctx.frozen(w.saturday, s) for s in systems):
                continue
            return w.saturday
        return None

    @staticmethod
    def _usable(w: Week, ready: date | None) -> int:
        """What a week's spare throughput gives a unit taken over on ``ready``: all of it from a week that
        starts on or after the takeover, the days left of the takeover week (Monday–Saturday), none before."""
        monday = w.saturday - timedelta(days=5)
        if ready is None or ready <= monday:
            return w.spare
        if ready > w.saturday:
            return 0
        return w.spare * ((w.saturday - ready).days + 1) // 6

    @classmethod
    def _consume(cls, weeks: list[Week], cutover: date, servers: int, ready: date | None = None) -> None:
        left = servers
        for w in weeks:
            if w.saturday > cutover or left == 0:
                break
            take = min(cls._usable(w, ready), left)
            w.used += take
            left -= take

    def _deadline_reason(self, u: Unit, cutover: date | None) -> str:
        """Name the move group, what actually makes the deadline impossible (the takeover, a callee, or
        throughput) and whose date it is."""
        wd = self.ctx.settings.cutover_weekday
        first_cutover = u.ready + timedelta(days=(wd - u.ready.weekday()) % 7) if u.ready else None
        common = dict(group=u.id, deadline=u.deadline, deadline_of=u.deadline_of or "-")
        if first_cutover and u.deadline and first_cutover > u.deadline:
            return coded("H-DATE-1.takeover", **common, ready=u.ready, takeover_of=u.ready_of or "-")
        late = [(self.slot[c].cutover, c) for c in u.callees if c in self.slot]
        if late and u.deadline and max(late)[0] > u.deadline:
            when, callee = max(late)
            return coded("H-DATE-1.callee", **common, callee=callee, when=when)
        s = self.ctx.settings
        return coded("H-DATE-1.throughput", **common, servers=u.servers, per_week=s.servers_per_week,
                     ready=u.ready or "-",
                     when=tr("the earliest cutover is {date}", "zh").format(date=cutover) if cutover else "no_room",
                     when_en=tr("the earliest cutover is {date}", "en").format(date=cutover) if cutover else "no_room")

    def _fail(self, u: Unit, reasons: list[str], ready: list, waiting: list) -> None:
        self.failed[u.id] = reasons
        for caller in sorted(u.callers):
            if u.id in self.units[caller].partners and caller not in self.failed:
                # coupled (shared database/server, latency-sensitive link): it cannot leave u behind
                self._fail(self.units[caller], [coded("H-DEP-1.partner", group=caller, partners=", ".join(u.systems),
                                                      partner_group=u.id, why=reasons[0])], ready, waiting)
            else:  # a callee that stays behind does not hold its callers back
                self._release(caller, ready, waiting, None)

    def _release(self, uid: str, ready: list, waiting: list, weeks: list[Week] | None) -> None:
        u = self.units[uid]
        u.waiting_on -= 1
        if u.waiting_on == 0 and uid not in self.slot and uid not in self.failed:
            self._blocked.discard(uid)
            if weeks is not None and (u.ready or date.min) <= weeks[-1].saturday:
                heapq.heappush(ready, (u.key(), uid))
            else:
                heapq.heappush(waiting, ((u.ready or date.min), u.key(), uid))


def stabbing_bound(intervals: list[tuple[date, date]]) -> int:
    """Minimum number of cutover dates that hit every [ready, deadline] interval: a lower
    bound on batches that no throughput can beat (greedy by deadline is optimal)."""
    count = 0
    point: date | None = None
    for lo, hi in sorted(intervals, key=lambda iv: iv[1]):
        if point is None or lo > point:
            point = hi
            count += 1
    return count


def throughput_bound(servers: int, pilot: int, per_batch: int) -> int:
    if servers <= 0:
        return 0
    if servers <= pilot:
        return 1
    return 1 + math.ceil((servers - pilot) / per_batch)


def is_mover(strategy: Strategy) -> bool:
    return strategy in (Strategy.rehost, Strategy.replatform, Strategy.relocate_intranet, Strategy.refactor)
