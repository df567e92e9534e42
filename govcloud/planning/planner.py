"""build_plan: inventory + policy → a batched migration plan. Pure and deterministic.

Steps: strategy per system → move groups → units (groups, plus retire/replace
actions) → scheduling with zone placement in schedule order → batches, rooms,
lower bound. Every decision keeps its reasons for ``plan explain``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date

from govcloud import __version__
from govcloud.base.i18n import tr
from govcloud.model.entities import InformationSystem, Policy
from govcloud.model.enums import (
    Audience, CpuArch, DepType, Importance, MlpsStatus, RoomType, ServerKind, Strategy,
)
from govcloud.model.inventory import Inventory
from govcloud.model.oslife import os_eol_date
from govcloud.model.plan import (
    REQ_OS_MIGRATION, LowerBound, Plan, PlanBatch, PlanItem, Retained, RoomClosure, Unscheduled, Why, coded,
)
from govcloud.planning.context import Context, build_context
from govcloud.planning.grouping import couplings, group
from govcloud.planning.placement import Ledger, Placement, Refusal, _need, place, zone_rejection
from govcloud.planning.scheduling import Scheduler, Unit, is_mover, stabbing_bound, throughput_bound
from govcloud.planning.strategy import RETAIN_NOT_IN_SERVICE, Decision, decide

GENERATOR = f"govcloud {__version__} (planner 1)"



def priority(ctx: Context, s: InformationSystem) -> tuple[float, Why]:
    """轻重缓急 (DOMAIN.md §5.2): urgency + importance − difficulty, with its parts for explain."""
    horizon = ctx.final_deadline or ctx.start
    servers = ctx.servers_of(s)
    urgency = 0.0
    if any((d := os_eol_date(x.os_distribution, x.os_version)) and d <= horizon for x in servers):
        urgency += 2
    if s.mlps_status is MlpsStatus.rectifying:
        urgency += 1
    rooms = {x.machine_room for x in servers if x.machine_room}
    if any((r := ctx.inv.machine_rooms.get(rid)) and r.lease_expiry and r.lease_expiry <= horizon for rid in rooms):
        urgency += 2
    if s.annual_om_wan and s.annual_om_wan >= 50:
        urgency += 1
    importance = {Importance.very_important: 2.0, Importance.important: 1.0}.get(s.importance, 0.0)
    if Audience.public in s.audience or Audience.enterprises in s.audience:
        importance += 1
    if (s.daily_visits or 0) >= 10_000:
        importance += 1
    difficulty = math.log2(1 + len(servers))
    if (s.data_gb or 0) >= 1024:
        difficulty += 1
    if any(x.cpu_arch is not CpuArch.x86_64 for x in servers):
        difficulty += 2
    if s.build_mode.is_vertical:
        difficulty += 1
    if s.is_classified:
        difficulty += 1
    score = urgency + importance - difficulty
    return score, Why("PRIO", score=f"{score:.1f}", urgency=f"{urgency:g}", importance=f"{importance:g}",
                      difficulty=f"{difficulty:.1f}")


def build_plan(inv: Inventory, policy: Policy, *, plan_id: str, inventory_ref: str, inputs_digest: str,
               start: date | None = None, batch_weeks: int = 4) -> Plan:
    ctx = build_context(inv, policy, start=start, batch_weeks=batch_weeks)
    systems = inv.systems
    decisions: dict[str, Decision] = {sid: decide(ctx, systems[sid]) for sid in sorted(systems)}
    _no_native_pool(ctx, decisions)

    plan = Plan(plan_id=plan_id, inventory=inventory_ref, inventory_name=inv.meta.name if inv.meta else "",
                policy=policy.id, inputs_digest=inputs_digest, generator=GENERATOR, start=ctx.start,
                settings=ctx.settings.to_plain())
    unscheduled: dict[str, list[str]] = {}

    movers = {sid for sid, d in decisions.items() if d.moves}
    edges = couplings(inv)
    grouping = group(inv, movers, edges)

    # H-CENSUS-1: a system one of whose servers is not completely censused (cores, RAM, OS or
    # architecture unknown: an import created it for discovery to complete) is not sized, placed or
    # scheduled; its move group stays with it (H-DEP-2 below)
    for sid, d in decisions.items():
        if d.strategy is None:
            continue        # retained for its own reason: nothing to size or schedule
        gaps = [(x.id, x.incomplete) for x in ctx.servers_of(systems[sid]) if x.incomplete]
        if gaps:
            unscheduled.setdefault(sid, []).append(coded(
                "H-CENSUS-1.incomplete", servers="; ".join(f"{x} ({', '.join(f)})" for x, f in gaps)))

    # H-DEP-1: a mover tied to a system that stays cannot move without a bridge
    for e in edges:
        # a system not yet built will be deployed on the cloud, so it holds nothing back
        staying = [m for m in e.members if m not in movers and decisions[m].strategy is None
                   and decisions[m].retain_code != RETAIN_NOT_IN_SERVICE]
        for mover in (m for m in e.members if m in movers):
            for other in staying:
                unscheduled.setdefault(mover, []).append(coded(
                    "H-DEP-1.stays", why=e.why, other=other, code=decisions[other].retain_code or "-",
                    group=grouping.group_of.get(mover, "-")))
    for gid, members in grouping.members.items():
        stuck = [m for m in members if m in unscheduled]
        if stuck:
            for m in members:
                if m not in unscheduled:
                    unscheduled[m] = [coded("H-DEP-2.stuck", first=stuck[0], group=gid)]

    # units: move groups of movers, single actions for retire/repurchase
    units: dict[str, Unit] = {}
    dept_order = _department_order(ctx)
    unit_of: dict[str, str] = {}
    priority_text: dict[str, str] = {}
    for gid, members in grouping.members.items():
        if any(m in unscheduled for m in members):
            continue
        units[gid] = _unit(ctx, gid, members, moving=True, priority_text=priority_text, dept_order=dept_order,
                           decisions=decisions)
        for m in members:
            unit_of[m] = gid
    for sid, d in decisions.items():
        if d.strategy in (Strategy.retire, Strategy.repurchase) and sid not in unscheduled:
            uid = f"act-{sid}"
            units[uid] = _unit(ctx, uid, [sid], moving=False, priority_text=priority_text, dept_order=dept_order,
                               decisions=decisions)
            unit_of[sid] = uid
    for e in edges:  # a mover leaves no coupled partner behind: retire/replace it first (H-DEP-1)
        for mover in e.members:
            for other in e.members:
                um, uo = unit_of.get(mover), unit_of.get(other)
                if um and uo and um != uo and units[um].moves and not units[uo].moves:
                    units[um].callees.add(uo)
                    units[um].partners.add(uo)
    for dep in inv.dependencies:
        if dep.type is DepType.sync_api and not dep.bridge:
            ua, ub = unit_of.get(dep.from_), unit_of.get(dep.to)
            if ua and ub and ua != ub and units[ua].moves:
                units[ua].callees.add(ub)

    ledger = Ledger.of(list(inv.cloud_zones.values()))
    placements: dict[str, Placement] = {}

    def place_unit(u: Unit, cutover: date, window: int):
        if not u.moves:
            return None  # retire/replace actions need no capacity
        done: list[Placement] = []
        zone = platform = None
        placed_servers: set[str] = set()
        # members bound to an architecture choose the group's pool; a member free to land on any
        # (a minicomputer being replatformed) follows it, so latency-sensitive partners share one pool
        order = sorted(u.systems, key=lambda m: decisions[m].arch is None)
        for sid in order:
            p = place(ctx, systems[sid], decisions[sid], ledger, zone, placed_servers, when=cutover,
                      group=u.id, prefer_platform=platform)
            if not isinstance(p, Placement):
                for q in done:  # the group moves together or not at all: give the capacity back
                    v, r, d = q.totals
                    ledger.take(q.zone, -v, -r, -d)
                why = p.reasons[:6] + (["…"] if len(p.reasons) > 6 else [])
                return Refusal([coded("NOZONE", group=u.id, system=sid, why=why)], p.retry)
            done.append(p)
            placed_servers.update(x.server for x in p.servers)
            if zone is None:
                zone, platform = p.zone, p.platform
        for sid, p in zip(order, done):
            placements[sid] = p
        return None

    scheduler = Scheduler(ctx, units, place_unit)
    scheduler.run()
    for uid, reasons in scheduler.failed.items():
        for sid in units[uid].systems:
            unscheduled[sid] = reasons if len(units[uid].systems) == 1 or units[uid].systems[0] == sid else \
                [coded("H-DEP-2.member", first=units[uid].systems[0], group=uid, why=reasons[0])]

    # batches, numbered over the windows actually used
    by_window: dict[int, list[str]] = defaultdict(list)
    for uid, slot in scheduler.slot.items():
        by_window[slot.batch].append(uid)
    first = 0 if scheduler.pilot_window is not None else 1
    for n, k in enumerate(sorted(by_window)):
        start, weeks = scheduler.windows[k]
        pilot = k == scheduler.pilot_window
        # plan.yaml keeps the batch's Chinese name (render/reasons.batch_name words it in English)
        name = tr("pilot batch", "zh", ctx="batch-name") if pilot else \
            tr("batch {n}", "zh", ctx="batch-name").format(n=n + first)
        batch = PlanBatch(id=f"B{n + first:02d}", name=name, start=start,
                          end=weeks[-1].saturday, deadline=None, policy_batch=None, pilot=pilot)
        for uid in sorted(by_window[k], key=lambda u: (scheduler.slot[u].cutover, u)):
            for sid in units[uid].systems:
                batch.items.append(_item(ctx, systems[sid], decisions[sid], uid, grouping, placements.get(sid),
                                         scheduler.slot[uid].cutover, batch, priority_text[uid], units[uid]))
        batch.end = max(i.cutover for i in batch.items)
        # the earliest deadline the batch's last cutover still meets (each item meets its own)
        deadlines = [(ctx.deadline[i.system], ctx.policy_batch[i.system] or "") for i in batch.items
                     if ctx.deadline[i.system] and ctx.deadline[i.system] >= batch.end]
        if deadlines:
            batch.deadline, pb = min(deadlines)
            batch.policy_batch = pb or None
        batch.rules = _rules(ctx, batch)
        plan.batches.append(batch)

    for sid, d in decisions.items():
        s = systems[sid]
        if d.strategy is None:
            # one coded reason per retain decision; plan.md and `plan explain` word it
            plan.retained.append(Retained(sid, s.name, s.owner_org, d.retain_code or "", d.reasons[0]))
    for sid in sorted(unscheduled):
        s = systems[sid]
        plan.unscheduled.append(Unscheduled(sid, s.name, s.owner_org, decisions[sid].strategy, unscheduled[sid]))

    plan.rooms = _rooms(ctx, plan)
    plan.lower_bound = _lower_bound(ctx, units, scheduler, decisions)
    return plan


def _no_native_pool(ctx: Context, decisions: dict[str, Decision]) -> None:
    """A rehost of a non-x86 system (e.g. Kunpeng) that no zone of its architecture can take under the hard
    rules (say, no ARM pool on the Internet side) becomes a replatform onto what exists, with that reason —
    the native architecture is kept only where a pool for it exists."""
    zones = sorted(ctx.inv.cloud_zones.values(), key=lambda z: z.id)
    for sid, d in decisions.items():
        if d.strategy is not Strategy.rehost or d.arch is None or d.arch is CpuArch.x86_64:
            continue
        s = ctx.inv.systems[sid]
        servers = ctx.servers_of(s)
        if any(zone_rejection(ctx, s, servers, Strategy.rehost, z) is None for z in zones):
            continue
        if any(zone_rejection(ctx, s, servers, Strategy.replatform, z) is None for z in zones):
            d.strategy = Strategy.replatform
            d.reasons = [r for r in d.reasons if not r.startswith("STRAT.rehost")] + [
                coded("ARCH.replatform", arch=d.arch.value)]


def _department_order(ctx: Context) -> dict[str, tuple]:
    """Per organisation: when its takeover is ready and how heavy it is — light, early
    departments go first and heavy ones (公安, 财政, 人社 …) last (轻重缓急)."""
    ready: dict[str, date] = {}
    size: dict[str, int] = defaultdict(int)
    for s in ctx.inv.systems.values():
        r = ctx.takeover_ready[s.id] or ctx.start
        ready[s.owner_org] = min(ready.get(s.owner_org, r), r)
        size[s.owner_org] += len(s.servers)
    return {org: (ready[org], size[org], min(ctx.family(org))) for org in ready}


def _unit(ctx: Context, uid: str, members: list[str], *, moving: bool, priority_text: dict[str, str],
          dept_order: dict[str, tuple], decisions: dict[str, Decision] | None = None) -> Unit:
    systems = [ctx.inv.systems[m] for m in members]
    # throughput: every server moved; a retire or replace action costs one slot (decommission
    # or switch-over work), which also keeps the pilot batch small
    servers = len({x for s in systems for x in s.servers}) if moving else 1
    # replacing a system by the unified platform (repurchase) does not wait for the server takeover
    repurchase = not moving and decisions is not None and \
        all(decisions[m].strategy is Strategy.repurchase for m in members)
    readies = [] if repurchase else [(ctx.takeover_ready[m], m) for m in members if ctx.takeover_ready[m]]
    deadlines = [(ctx.deadline[m], m) for m in members if ctx.deadline[m]]
    scores = [priority(ctx, s) for s in systems]
    owner = min(s.owner_org for s in systems)
    priority_text[uid] = str(scores[0][1])  # coded for the unit's first system only
    ready, ready_sys = max(readies) if readies else (None, "")
    deadline, deadline_sys = min(deadlines) if deadlines else (None, "")
    # department by department; inside one, its retirements and replacements before its moves
    u = Unit(uid, members, servers, ready, deadline,
             sum(sc for sc, _ in scores), (*dept_order[owner], 1 if moving else 0), moves=moving)
    if ready_sys:
        org_id = ctx.inv.systems[ready_sys].owner_org
        org = ctx.inv.organizations.get(org_id)
        u.ready_of = Why("WHO.takeover", org=org_id, name=(org.short_name or org.name) if org else org_id,
                           system=ready_sys)
    if deadline_sys:
        u.deadline_of = Why("WHO.deadline", system=deadline_sys, source=ctx.deadline_source[deadline_sys] or "-")
    u.pilot_ok = moving and servers <= ctx.settings.pilot_max_servers and _low_risk(ctx, systems)
    return u


def _low_risk(ctx: Context, systems: list[InformationSystem]) -> bool:
    """Fit for the pilot: no classified, level-4, minicomputer or end-of-life-OS system, one department."""
    horizon = ctx.final_deadline or ctx.start
    if len({min(ctx.family(s.owner_org)) for s in systems}) > 1:
        return False
    for s in systems:
        if s.is_classified or (s.mlps_level or 0) >= 4:
            return False
        for x in ctx.servers_of(s):
            if x.kind is ServerKind.minicomputer or x.cpu_arch.is_minicomputer:
                return False
            e = os_eol_date(x.os_distribution, x.os_version)
            if e is not None and e <= horizon:
                return False
    return True


def _item(ctx: Context, s: InformationSystem, d: Decision, uid: str, grouping, p: Placement | None,
          cutover: date, batch: PlanBatch, prio: str, unit: Unit) -> PlanItem:
    reasons: dict[str, list[str]] = {"strategy": list(d.reasons)}
    gid = uid if uid.startswith("mg-") else f"mg-{s.id}"
    peers = grouping.members.get(uid, [s.id])
    if len(peers) > 1:
        reasons["group"] = [coded("GRP.with", peers=", ".join(x for x in peers if x != s.id))] + sorted(
            {coded("GRP.coupling", members=" ↔ ".join(c.members), why=c.why)
             for c in grouping.couplings_of.get(s.id, ())})
    else:
        reasons["group"] = [coded("GRP.alone")]
    ready = ctx.takeover_ready.get(s.id)
    batch_why = [coded("BATCH.cutover", batch=batch.id, pilot=batch.pilot, cutover=cutover,
                       window=ctx.policy.thresholds.cutover_window or "-"),
                 coded("BATCH.takeover", ready=ready) if ready and unit.ready else coded("BATCH.no_takeover"),
                 coded("BATCH.deadline", deadline=ctx.deadline[s.id], source=ctx.deadline_source[s.id])
                 if ctx.deadline[s.id] else coded("BATCH.no_deadline"),
                 prio]
    if batch.pilot:
        batch_why.append(coded("PILOT.ok", servers=unit.servers))
    if unit.callees:
        batch_why.append(coded("BATCH.after", callees=", ".join(sorted(unit.callees))))
    reasons["batch"] = batch_why
    requires = list(d.requires)
    if d.strategy is Strategy.rehost and ctx.settings.eol_os_blocking and REQ_OS_MIGRATION not in requires and any(
            (e := os_eol_date(x.os_distribution, x.os_version)) is not None and e <= cutover for x in ctx.servers_of(s)):
        requires.append(REQ_OS_MIGRATION)
        reasons["strategy"].append(coded("H-OS-1.at_cutover", cutover=cutover))
    if p is not None:
        reasons.update(p.reasons)
        requires += [r for r in p.requires if r not in requires]
    return PlanItem(system=s.id, name=s.name, owner_org=s.owner_org, strategy=d.strategy, move_group=gid,
                    target_zone=p.zone if p else None, servers=p.servers if p else (), cutover=cutover,
                    requires=tuple(requires), reasons=reasons)


def _rules(ctx: Context, batch: PlanBatch) -> list[str]:
    strategies = {i.strategy for i in batch.items}
    rules = ["H-ONE-1", "H-TKO-1", "H-DATE-1", "H-FRZ-1"]
    if any(is_mover(s) for s in strategies):
        rules += ["H-CN-1", "H-MLPS-1", "H-DR-1", "H-CAP-1", "H-DEP-1", "H-DEP-2", "H-ARCH-1"]
    if Strategy.relocate_intranet in strategies:
        rules += ["H-SEC-1", "H-SEC-2"]
    if Strategy.retire in strategies:
        rules.append("H-ZOMBIE-1")
    if Strategy.replatform in strategies:
        rules += ["H-ARCH-2", "H-OS-1"]
    if any(ctx.inv.systems[i.system].build_mode.is_vertical for i in batch.items):
        rules.append("H-VERT-1")
    return sorted(set(rules))


def _rooms(ctx: Context, plan: Plan) -> list[RoomClosure]:
    cutover = {i.system: i.cutover for i in plan.items()}
    staying = {r.system for r in plan.retained} | {u.system for u in plan.unscheduled}
    by_room: dict[str, list[str]] = defaultdict(list)
    for srv in ctx.inv.servers.values():
        if srv.machine_room:
            by_room[srv.machine_room].append(srv.id)
    out = []
    for room in sorted(ctx.inv.machine_rooms.values(), key=lambda r: r.id):
        if room.room_type is RoomType.cloud_pool:
            continue
        blocked: list[str] = []
        last = plan.start
        for srv in by_room.get(room.id, []):
            users = ctx.inv.server_systems.get(srv, [])
            if not users:
                blocked.append(f"server:{srv}")
            for sid in users:
                if sid in staying:
                    blocked.append(sid)
                elif cutover.get(sid) and cutover[sid] > last:
                    last = cutover[sid]
        blocked = sorted(set(blocked))
        dates = [(d, kind) for d, kind in ((room.lease_expiry, "lease_expiry"), (room.closure_date, "closure_date")) if d]
        deadline, kind = min(dates) if dates else (None, "")
        out.append(RoomClosure(room.id, room.name, None if blocked else last, tuple(blocked), deadline, kind))
    return out


def _expansion_needed(ctx: Context, scheduled: list[Unit], decisions: dict[str, Decision]) -> date | None:
    """The day from which the zones can hold what is scheduled, when that needs a dated expansion: for each
    set of zones the hard rules allow a system, the vCPUs of the systems confined to it (the sized need, a
    lower bound on any flavor) must fit in the set's capacity, which grows only on expansion days."""
    zones = sorted(ctx.inv.cloud_zones.values(), key=lambda z: z.id)
    if not any(z.expansions for z in zones):
        return None
    need_of: dict[frozenset[str], float] = defaultdict(float)
    seen: set[str] = set()
    for u in scheduled:
        if not u.moves:
            continue
        for sid in u.systems:
            s = ctx.inv.systems[sid]
            servers = ctx.servers_of(s)
            allowed = frozenset(z.id for z in zones
                                if zone_rejection(ctx, s, servers, decisions[sid].strategy, z) is None)
            for x in servers:
                if x.id not in seen:
                    seen.add(x.id)
                    need_of[allowed] += _need(ctx, x)[0]
    latest: date | None = None
    for zset in need_of:
        demand = sum(v for other, v in need_of.items() if other <= zset)
        cap = sum(ctx.inv.cloud_zones[z].capacity.vcpus for z in zset)
        if demand <= cap:
            continue
        for day, added in sorted((e.date, e.vcpus) for z in zset for e in ctx.inv.cloud_zones[z].expansions):
            cap += added
            if demand <= cap:
                if day > ctx.start and (latest is None or day > latest):
                    latest = day
                break
    return latest


def _lower_bound(ctx: Context, units: dict[str, Unit], scheduler: Scheduler,
                 decisions: dict[str, Decision]) -> LowerBound:
    s = ctx.settings
    scheduled = [units[u] for u in scheduler.slot]
    slots = sum(u.servers for u in scheduled)
    moved = sum(u.servers for u in scheduled if u.moves)   # the servers that move, as the overview counts them
    actions = slots - moved                                 # retire/replace actions: one slot each
    by_tp = throughput_bound(slots, s.pilot_max_servers, s.servers_per_week * s.batch_weeks)
    intervals = [(u.ready or ctx.start, u.deadline or date.max) for u in scheduled]
    grown_by = _expansion_needed(ctx, scheduled, decisions)
    if grown_by is not None:
        intervals.append((grown_by, date.max))   # some cutover must wait for the expansion
    by_time = stabbing_bound(intervals)
    lb = max(by_tp, by_time, 1 if scheduled else 0)
    grows = sorted({(e.date, z.id) for z in ctx.inv.cloud_zones.values() for e in z.expansions})

    # the reason stores both wordings of these parts (plans written before keep rendering the same)
    def words(lang: str) -> tuple[str, str]:
        acts = tr(" + {n} retire/replace action(s) (one slot each)", lang).format(n=actions) if actions else ""
        if not grows:
            return acts, ""
        listed = tr(", ", lang, ctx="list").join(f"{z} {d}" for d, z in grows)
        needs = tr("; what is scheduled needs the expansion of {date}", lang).format(date=grown_by) if grown_by else ""
        return acts, tr(" (zone expansions: {zones}{needs})", lang).format(zones=listed, needs=needs)
    (actions_zh, expansion_zh), (actions_en, expansion_en) = words("zh"), words("en")
    return LowerBound(lb, by_tp, by_time, 1 if scheduled else 0, coded(
        "LB", moved=moved, per_week=s.servers_per_week, weeks=s.batch_weeks, pilot=s.pilot_max_servers, by_tp=by_tp,
        by_time=by_time, actions=actions_zh, actions_en=actions_en, expansion=expansion_zh,
        expansion_en=expansion_en))
