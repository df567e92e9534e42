"""What every planning step needs to know about the inventory and the policy, computed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from govcloud.model.entities import (
    Batch, FreezeWindow, InformationSystem, Policy, Server, Thresholds,
)
from govcloud.model.enums import (
    BatchKind, CpuArch, FreezeScope, Lifecycle, OsDistribution, ServerKind, TakeoverStatus, XinchuangStatus,
)
from govcloud.model.inventory import Inventory
from govcloud.model.plan import coded


@dataclass
class Settings:
    """The numbers scheduling runs on; all come from the policy's thresholds."""

    servers_per_week: int
    pilot_max_servers: int
    batch_weeks: int
    headroom_pct: float
    eol_os_blocking: bool
    prefer_domestic: bool
    min_mlps_level: int
    cutover_weekday: int = 5  # Saturday: government systems cut over at the weekend

    def to_plain(self) -> dict[str, object]:
        return {"servers_per_week": self.servers_per_week, "pilot_max_servers": self.pilot_max_servers,
                "batch_weeks": self.batch_weeks, "headroom_pct": self.headroom_pct,
                "eol_os_blocking": self.eol_os_blocking, "prefer_domestic": self.prefer_domestic,
                "min_mlps_level": self.min_mlps_level}


def settings_of(t: Thresholds, batch_weeks: int) -> Settings:
    return Settings(t.servers_per_week, t.pilot_max_servers, batch_weeks, t.headroom_pct, t.eol_os_blocking,
                    t.prefer_domestic, t.min_mlps_level)


@dataclass
class Context:
    inv: Inventory
    policy: Policy
    settings: Settings
    start: date
    final_deadline: date | None
    # department → the organisations counted as the same department (reform lineage)
    _dept_family: dict[str, frozenset[str]] = field(default_factory=dict)
    _servers: dict[str, list[Server]] = field(default_factory=dict, repr=False)
    flavor_choice: dict[tuple, object] = field(default_factory=dict, repr=False)   # (zone, vcpus, ram) → Flavor
    need_of: dict[str, tuple] = field(default_factory=dict, repr=False)           # server → (vcpus, ram, sized from)
    zones_by_id: list | None = field(default=None, repr=False)                    # cloud zones sorted by id
    takeover_ready: dict[str, date | None] = field(default_factory=dict)  # system → earliest cutover
    deadline: dict[str, date | None] = field(default_factory=dict)        # system → binding deadline
    deadline_source: dict[str, str] = field(default_factory=dict)
    policy_batch: dict[str, str | None] = field(default_factory=dict)     # system → migration batch id
    freezes: list[FreezeWindow] = field(default_factory=list)
    image_choice: dict[tuple[str, bool], tuple[str | None, str]] = field(default_factory=dict)
    policy_scope: frozenset[str] = frozenset()
    xinchuang: dict[str, str] = field(default_factory=dict)   # system → the coded 信创 decision asking for it
    room_deadline: dict[str, tuple[date, str, str]] = field(default_factory=dict)  # system → (date, room, kind)

    def servers_of(self, s: InformationSystem) -> list[Server]:
        """The system's server records (computed once per system; callers do not change the list)."""
        got = self._servers.get(s.id)
        if got is None:
            got = self._servers[s.id] = [self.inv.servers[x] for x in s.servers if x in self.inv.servers]
        return got

    def family(self, org_id: str) -> frozenset[str]:
        fam = self._dept_family.get(org_id)
        if fam is None:
            seen: set[str] = set()
            todo = [org_id]
            while todo:
                oid = todo.pop()
                if oid in seen or oid not in self.inv.organizations:
                    continue
                seen.add(oid)
                o = self.inv.organizations[oid]
                todo.extend(o.successors)
                todo.extend(o.predecessors)
            fam = frozenset(seen or {org_id})
            self._dept_family[org_id] = fam
        return fam

    def org_ids(self, refs) -> set[str]:
        """Organisation ids that references (ids, names or aliases) denote."""
        out: set[str] = set()
        for ref in refs:
            ids, _ = self.inv.resolve_org(ref)
            out.update(ids or [ref])
        return out

    def regions_of(self, system: InformationSystem) -> list[str]:
        """The owner's region (else the inventory's) and every region above it."""
        org = self.inv.organizations.get(system.owner_org)
        code = org.region if org and org.region else (self.inv.meta.region if self.inv.meta else None)
        chain: list[str] = []
        while code and code not in chain:
            chain.append(code)
            region = self.inv.regions.get(code)
            code = region.parent if region else None
        return chain

    def frozen(self, day: date, system: InformationSystem) -> FreezeWindow | None:
        for f in self.freezes:
            if f.start <= day <= f.end:
                if f.scope is FreezeScope.global_:
                    return f
                if f.scope is FreezeScope.org and (self.org_ids(f.targets) & self.family(system.owner_org)):
                    return f
                if f.scope is FreezeScope.system and system.id in f.targets:
                    return f
                if f.scope is FreezeScope.region and set(self.regions_of(system)) & set(f.targets):
                    return f
        return None


@dataclass(frozen=True)
class _Scope:
    """A policy batch with its scope as sets, built once: a national batch names ~17,000
    organisations, and testing every system against a tuple of them was quadratic."""

    batch: Batch
    orgs: frozenset[str]
    systems: frozenset[str]

    @classmethod
    def of(cls, batch: Batch) -> "_Scope":
        return cls(batch, frozenset(batch.scope_orgs), frozenset(batch.scope_systems))

    @property
    def scoped(self) -> bool:
        return bool(self.orgs or self.systems)

    def covers(self, system: InformationSystem, family: frozenset[str]) -> bool:
        if not self.scoped:
            return True
        return system.id in self.systems or not self.orgs.isdisjoint(family)


def build_context(inv: Inventory, policy: Policy, *, start: date | None = None, batch_weeks: int = 4) -> Context:
    plan_start = start or policy.start or (inv.meta.as_of if inv.meta and inv.meta.as_of else None) or date.today()
    ctx = Context(inv, policy, settings_of(policy.thresholds, batch_weeks), plan_start, policy.final_deadline)
    ctx.freezes = sorted(inv.freeze_windows.values(), key=lambda f: (f.start, f.id))
    ctx.policy_scope = frozenset(policy.scope_orgs)

    takeover_batches = [_Scope.of(b) for b in policy.batches if b.kind is BatchKind.takeover and b.deadline]
    # migration, website consolidation and dedicated-network batches all set deadlines
    migration_batches = [_Scope.of(b) for b in policy.batches if b.kind is not BatchKind.takeover and b.deadline]
    by_system: dict[str, list] = {}
    by_org: dict[str, list] = {}
    for t in sorted(inv.takeovers.values(), key=lambda t: t.id):
        if t.system:
            by_system.setdefault(t.system, []).append(t)
        elif t.org:
            by_org.setdefault(t.org, []).append(t)

    for s in inv.systems.values():
        fam = ctx.family(s.owner_org)
        # takeover precedes migration (H-TKO-1): the record's date, else the takeover batch deadline
        # every record counts: a department is taken over when its last record is done
        recs = by_system.get(s.id) or [t for o in sorted(fam) for t in by_org.get(o, [])]
        exempt = bool(recs) and all(t.status is TakeoverStatus.exempt for t in recs)
        dated = [t.done_date or t.planned_date for t in recs
                 if t.status is not TakeoverStatus.exempt and (t.done_date or t.planned_date)]
        ready: date | None = max(dated) if dated else None
        if ready is None and not exempt:
            dates = [sc.batch.deadline for sc in takeover_batches if sc.scoped and sc.covers(s, fam)]
            ready = min(dates) if dates else None
        ctx.takeover_ready[s.id] = ready  # H-TKO-1 allows cutover on the takeover day itself

        binding = [(sc.batch.deadline, sc.batch.id) for sc in migration_batches if sc.covers(s, fam)]
        if binding:
            d, bid = min(binding)
            ctx.deadline[s.id], ctx.deadline_source[s.id], ctx.policy_batch[s.id] = d, bid, bid
        else:
            ctx.deadline[s.id] = policy.final_deadline
            ctx.deadline_source[s.id] = "final_deadline" if policy.final_deadline else ""
            ctx.policy_batch[s.id] = None
        # a machine room's lease expiry or closure date is a deadline for the systems in it
        room_dates = []
        for x in ctx.servers_of(s):
            room = inv.machine_rooms.get(x.machine_room) if x.machine_room else None
            if room is not None:
                room_dates += [(d, room.id, kind) for d, kind in ((room.lease_expiry, "lease_expiry"),
                                                                    (room.closure_date, "closure_date")) if d]
        if room_dates:
            d, rid, kind = min(room_dates)
            ctx.room_deadline[s.id] = (d, rid, kind)
            if ctx.deadline[s.id] is None or d < ctx.deadline[s.id]:
                ctx.deadline[s.id], ctx.deadline_source[s.id] = d, coded("ROOM.deadline", room=rid, kind=kind)
    ctx.xinchuang = _xinchuang_decisions(ctx)
    return ctx


def _native_x86(ctx: Context, s: InformationSystem) -> bool:
    servers = ctx.servers_of(s)
    return bool(servers) and all(x.cpu_arch is CpuArch.x86_64 and x.kind is not ServerKind.minicomputer
                                 for x in servers)


def _xinchuang_decisions(ctx: Context) -> dict[str, str]:
    """The systems the policy sends onto 信创 pools, each with the decision that asks for it: by department,
    by system category, or a share of the adapted x86 systems. Nothing without ``prefer_domestic``."""
    policy = ctx.policy
    if not ctx.settings.prefer_domestic:
        return {}
    out: dict[str, str] = {}
    orgs = ctx.org_ids(policy.xinchuang_orgs)
    categories = set(policy.xinchuang_categories)
    for sid in sorted(ctx.inv.systems):
        s = ctx.inv.systems[sid]
        hit = sorted(orgs & ctx.family(s.owner_org))
        if hit:
            out[sid] = coded("XC.org", org=hit[0])
        elif s.category in categories:
            out[sid] = coded("XC.category", category=s.category.value)
    pct = ctx.policy.thresholds.xinchuang_share_pct
    if pct > 0:
        eligible = [s for s in ctx.inv.systems.values()
                    if s.lifecycle not in (Lifecycle.zombie, Lifecycle.decommissioned, Lifecycle.planned,
                                           Lifecycle.building)
                    and s.xinchuang_status is XinchuangStatus.compatible and not s.covered_by_platform
                    and _native_x86(ctx, s)
                    and all(x.os_distribution is not OsDistribution.windows for x in ctx.servers_of(s))]
        quota = int(len(eligible) * pct / 100 + 0.5)
        # the smallest adapted systems first: the cheapest rebuilds reach the share
        picked = sorted(eligible, key=lambda s: (len(s.servers), s.id))
        taken = 0
        for s in picked:
            if taken >= quota:
                break
            if s.id in out:
                continue
            taken += 1
            out[s.id] = coded("XC.share", pct=f"{pct:g}", rank=taken, quota=quota)
    return out
