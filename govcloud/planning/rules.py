"""The plan validator: re-check a plan against its inventory, rule by rule (DOMAIN.md §5.1).

``govcloud plan validate`` runs this on a plan file that people may have edited by
hand since the planner wrote it. It deliberately shares no code with the planner and
reads only the data model, so that a broken plan passes only if the planner and this
module are wrong in the same way.

Pure: no I/O and no clock. The violations come back in a fixed order: by the batch
where the system sits (retained, then unscheduled, then systems missing from the
plan come after the batches), then system id, then rule id, then message.

Where DOMAIN.md leaves a choice, this module decides as follows (each check says so
again where it applies):

* Classified systems are governed by 分保, not 等保: the MLPS rules about the system
  (H-MLPS-1/2/3) and H-DR-1 apply to non-classified systems only (a zone's own rating,
  H-MLPS-3, is checked whoever targets it); H-SEC-1/H-SEC-2 cover classified ones.
  A classified system may also be *retired* (nothing of it reaches a cloud), so that
  H-ZOMBIE-1 and H-SEC-1 never contradict each other.
* A non-classified system may move onto a 政务内网 zone only if it already lives on the
  政务内网; ``relocate_intranet`` is reserved for classified systems (H-SEC-1).
* An unknown MLPS level counts as the policy's ``min_mlps_level``.
* H-DR-1 follows GB/T 22239-2019 8.1.4.9 b/c: level 3 and above need real-time
  off-site backup *and* hot redundancy (``realtime_offsite_ha``); level 2 needs at
  least scheduled off-site backup (7.1.4.9 b).
* Shared servers: a server used by several systems of one move group is placed once,
  by any item of that group. Placing a server twice counts it twice against capacity,
  so it is a violation (H-TGT-1).
* Capacity dimensions a zone leaves at 0 are "not declared" and are not checked.
* A bridge (``Dependency.bridge``) between two systems releases them from moving
  together when they are coupled through a shared database or a dependency; it cannot
  split a shared server or a manual move group.
* Coupling (H-DEP-1, H-DEP-3) and takeover (H-TKO-1) concern systems carried to a zone
  (rehost, replatform, relocate_intranet, refactor). Retire and repurchase replace a
  system instead of moving it: its shared database or server stays with the others and
  nothing of it needs taking over first.
* A rehost may place a server's own disk (image ``import:…``) instead of a catalogue image.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterator

from govcloud.model.entities import Batch, CloudZone, FreezeWindow, InformationSystem, Server, Thresholds
from govcloud.model.enums import (
    BatchKind, CpuArch, DepType, DrMode, ExtranetArea, FenbaoStatus, FreezeScope, Lifecycle, MlpsStatus, NetworkZone,
    ServerKind, Strategy, TakeoverStatus, XinchuangStatus,
)
from govcloud.model.inventory import Inventory
from govcloud.model.oslife import os_eol_date
from govcloud.model.plan import (
    IMAGE_IMPORT_PREFIX, Plan, PlanBatch, PlanItem, REQ_FENBAO, REQ_MLPS_ASSESSMENT,
    REQ_OS_MIGRATION, REQ_REBUILD, REQ_SUPERIOR_APPROVAL, ServerPlacement,
)


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str               # DOMAIN.md §5.1 id, e.g. "H-SEC-1" (H-DEP-3, H-TGT-1, H-NET-2, H-POL-1 are ours)
    system: str | None      # None for a violation of the plan as a whole or of a batch
    message: str            # English
    name: str = ""          # the system's name, filled in by check_plan for format_violation
    message_zh: str = ""    # the same in Chinese (format_violation falls back to the English one)


RULES: dict[str, str] = {
    "H-ONE-1": "every inventory system appears exactly once: in a batch, retained or unscheduled",
    "H-SEC-1": "classified systems stay, retire or move to an intranet zone that accepts classified systems",
    "H-SEC-2": "a classified system moving to the intranet has 分保 approval/filing or carries that prerequisite",
    "H-MLPS-1": "the zone's MLPS level is at least the system's; level 4 needs a dedicated pool",
    "H-MLPS-2": "a level-2+ system not filed/assessed carries the MLPS-assessment prerequisite",
    "H-MLPS-3": "systems below the policy's minimum level are re-graded; zones meet the policy's levels",
    "H-DEP-1": "systems sharing a database or server, or tightly linked, move in the same move group",
    "H-DEP-2": "a move group cuts over in one batch on one date",
    "H-DEP-3": "a caller (sync_api, no bridge) does not move before the system it calls",
    "H-TKO-1": "takeover (接管) is done no later than the cutover",
    "H-DATE-1": "cutovers lie inside their batch window and meet the binding policy deadline",
    "H-VERT-1": "vertical systems move only with the superior department's documented approval",
    "H-ZOMBIE-1": "zombie systems are retired, with no zone and no servers",
    "H-ROOM-1": "no system targets a machine room",
    "H-ROOM-2": "a system in a batch leaves its machine rooms by their lease expiry or closure date",
    "H-NET-1": "no target lies on a dedicated network; dedicated-net systems meet network-batch deadlines",
    "H-NET-2": "the target zone's network fits the system's network",
    "H-ARCH-1": "rehost keeps the CPU architecture; other moves across architectures carry the rebuild prerequisite",
    "H-ARCH-2": "minicomputers are not rehosted",
    "H-ARCH-3": "x86 systems are rebuilt onto another architecture (ARM/Kunpeng, …) only when the policy asks for "
                "信创 for them, or when no pool of their own architecture meets the hard rules",
    "H-OS-1": "no end-of-life target image; rehost of an end-of-life OS carries the OS-migration prerequisite",
    "H-CN-1": "target zones are located and operated in China",
    "H-FRZ-1": "no cutover inside a freeze window in scope",
    "H-CAP-1": "placements per zone stay within the zone's capacity",
    "H-TGT-1": "targets, flavors, images and server placements are consistent with the inventory",
    "H-DR-1": "level-3 systems get real-time off-site backup with HA; level 2 at least scheduled off-site backup",
    "H-POL-1": "the plan's policy exists in the inventory",
    "H-CENSUS-1": "a system is scheduled only when every one of its servers is completely censused "
                  "(cores, RAM, OS and architecture known)",
}

# Strategies that put the system's servers onto a target zone.
PLACING = frozenset({Strategy.rehost, Strategy.replatform, Strategy.relocate_intranet, Strategy.refactor})
# Strategies that build the servers afresh from a target image.
REBUILDING = frozenset({Strategy.replatform, Strategy.refactor})
# A rehost may carry the server's own disk instead of a catalogue image ("import:centos-7.6",
# P2V/V2V): such an image is not looked up in the zone's catalogue.
IMPORTED_IMAGE = IMAGE_IMPORT_PREFIX

_MLPS_DONE = (MlpsStatus.filed, MlpsStatus.assessed)
_FENBAO_DONE = (FenbaoStatus.approved, FenbaoStatus.filed)
# GB/T 22239-2019: L3 8.1.4.9 b (异地实时备份) + c (热冗余); L2 7.1.4.9 b (异地定时批量备份).
_DR_FOR_LEVEL3 = frozenset({DrMode.realtime_offsite_ha})
_DR_FOR_LEVEL2 = frozenset({DrMode.scheduled_offsite, DrMode.realtime_offsite, DrMode.realtime_offsite_ha})


def check_plan(plan: Plan, inv: Inventory) -> list[Violation]:
    """Every hard-rule violation of ``plan`` against ``inv``, in a fixed order."""
    ctx = _Context(plan, inv)
    for check in _CHECKS:
        check(ctx)
    return [v for _, v in sorted(ctx.found, key=lambda kv: kv[0])]


def format_violation(v: Violation, lang: str = "en") -> str:
    """One line: rule, system id and name, message (in ``lang``: zh or en)."""
    zh = lang == "zh" and bool(v.message_zh)
    who = " ".join(x for x in (v.system, v.name) if x) or ("（整个计划）" if lang == "zh" else "(plan)")
    return " ".join(f"{v.rule} {who}{'：' if zh else ': '}{v.message_zh if zh else v.message}".split())


# ---------------------------------------------------------------- context


@dataclass(frozen=True, slots=True)
class _Entry:
    """One plan item of a known system, with what the checks look up about it."""

    pos: int                    # index of the batch
    batch: PlanBatch
    item: PlanItem
    system: InformationSystem
    zone: CloudZone | None      # None when the item names no zone or an unknown one
    when: date | None           # the cutover, else the batch's last day (so date rules still apply)


class _Context:
    def __init__(self, plan: Plan, inv: Inventory) -> None:
        self.plan, self.inv = plan, inv
        self.policy = inv.policies.get(plan.policy)
        self.th = self.policy.thresholds if self.policy else Thresholds()
        self.nb = len(plan.batches)
        self.found: list[tuple[tuple, Violation]] = []
        self.entries: list[_Entry] = []
        self.first: dict[str, _Entry] = {}          # system → its first batch item
        for pos, batch in enumerate(plan.batches):
            for item in batch.items:
                system = inv.systems.get(item.system)
                if system is None:
                    continue  # reported by H-ONE-1; nothing else can be checked
                zone = inv.cloud_zones.get(item.target_zone) if item.target_zone else None
                e = _Entry(pos, batch, item, system, zone, item.cutover or batch.end or batch.start)
                self.entries.append(e)
                self.first.setdefault(system.id, e)
        self.retained = {r.system for r in plan.retained}
        self.unscheduled = {u.system for u in plan.unscheduled}
        # Our own server → systems index: the inventory's cached one may predate an edit.
        self.server_systems: dict[str, list[str]] = {}
        for sid in sorted(inv.systems):
            for srv in inv.systems[sid].servers:
                self.server_systems.setdefault(srv, []).append(sid)
        self._dept: dict[str, frozenset[str]] = {}
        self._later: dict[str, list[str]] | None = None
        self._scopes: dict[int, frozenset[str]] = {}
        self._couplings: dict[tuple[str, str], list[tuple[str, str]]] | None = None

    # ------------------------------------------------------------ reporting

    def pos_of(self, system: str | None) -> int:
        if system is None:
            return -1
        if system in self.first:
            return self.first[system].pos
        if system in self.retained:
            return self.nb
        if system in self.unscheduled:
            return self.nb + 1
        return self.nb + 2

    def add(self, rule: str, system: str | None, message: str, zh: str = "", pos: int | None = None) -> None:
        """A violation; ``message`` in English, ``zh`` the same in Chinese."""
        s = self.inv.systems.get(system) if system else None
        key = (self.pos_of(system) if pos is None else pos, system or "", rule, message)
        self.found.append((key, Violation(rule, system, message, s.name if s else "", zh)))

    def where(self, system: str, lang: str = "en") -> str:
        """Where the plan puts ``system``, in words."""
        zh = lang == "zh"
        if system in self.first:
            e = self.first[system]
            if zh:
                return f"在批次 {e.batch.id}（{e.item.strategy.label('zh')}，迁移组 {e.item.move_group}）"
            return f"in batch {e.batch.id} ({e.item.strategy.value}, move group {e.item.move_group})"
        if system in self.retained:
            return "保留不迁" if zh else "retained"
        if system in self.unscheduled:
            return "暂无法排期" if zh else "unscheduled"
        return "不在计划中" if zh else "not in the plan"

    # ------------------------------------------------------------ departments
    # Reorganisations (机构改革) merge and rename departments; a batch or takeover
    # written with a pre-reform name still means today's department. Two ids denote
    # the same department when the organisations carrying their work today overlap.

    def dept(self, org_id: str) -> frozenset[str]:
        cached = self._dept.get(org_id)
        if cached is not None:
            return cached
        if self._later is None:  # successors, plus organisations that name this one a predecessor
            later: dict[str, list[str]] = {}
            for org in self.inv.organizations.values():
                later.setdefault(org.id, []).extend(s for s in org.successors if s in self.inv.organizations)
                for p in org.predecessors:
                    later.setdefault(p, []).append(org.id)
            self._later = later
        seen: set[str] = set()
        current: set[str] = set()
        frontier = [org_id]
        while frontier:
            oid = frontier.pop()
            if oid in seen:
                continue
            seen.add(oid)
            nxt = self._later.get(oid, [])
            if nxt:
                frontier.extend(nxt)
            else:
                current.add(oid)
        result = frozenset(current or {org_id})
        self._dept[org_id] = result
        return result

    def org_refs(self, refs: tuple[str, ...]) -> frozenset[str]:
        """Today's departments that org references (ids, names or aliases) denote."""
        out: set[str] = set()
        for ref in refs:
            ids, _ = self.inv.resolve_org(ref)
            for oid in ids or [ref]:
                out |= self.dept(oid)
        return frozenset(out)

    def in_scope(self, batch: Batch, system: InformationSystem) -> bool:
        """Whether a policy batch covers the system (by id or by its owner's department)."""
        if system.id in batch.scope_systems:
            return True
        scope = self._scopes.get(id(batch))
        if scope is None:
            scope = self._scopes[id(batch)] = self.org_refs(batch.scope_orgs)
        return bool(scope & self.dept(system.owner_org))

    def servers_of(self, e: _Entry) -> list[Server]:
        """The system's servers and whatever else its item places, as inventory records."""
        ids = list(dict.fromkeys([*e.system.servers, *(p.server for p in e.item.servers)]))
        return [self.inv.servers[i] for i in ids if i in self.inv.servers]

    def level(self, system: InformationSystem) -> int:
        return system.mlps_level if system.mlps_level is not None else self.th.min_mlps_level


def _level_text(ctx: _Context, s: InformationSystem, lang: str = "en") -> str:
    if s.mlps_level is not None:
        return f"{s.mlps_level}级" if lang == "zh" else f"level-{s.mlps_level}"
    if lang == "zh":
        return f"等保级别未知（按策略最低级别 {ctx.th.min_mlps_level} 级计）"
    return f"level-unknown (taken as level {ctx.th.min_mlps_level}, the policy minimum)"


def _zone_text(z: CloudZone) -> str:
    area = f"/{z.extranet_area.zh}" if z.extranet_area else ""
    return f"{z.id} ({z.network_zone.zh}{area})"


def _moving(e: _Entry) -> bool:
    """Anything but retire: the item changes where or how the system runs."""
    return e.item.strategy is not Strategy.retire


def _carries(e: _Entry | None) -> bool:
    """The item carries the system's servers and data to a zone (rehost, replatform, …).

    Retire and repurchase do not: the old system goes away (repurchase replaces it with a
    unified platform, e.g. 网站集约化), so its shared database, shared server and
    tightly-coupled callers stay where they are, and nothing of it is taken over first.
    """
    return e is not None and e.item.strategy in PLACING


def _zone_entries(ctx: _Context) -> Iterator[_Entry]:
    """Items that land in a known zone (a retire with a zone is reported elsewhere)."""
    return (e for e in ctx.entries if e.zone is not None and _moving(e))


_Check = Callable[[_Context], None]
_CHECKS: list[_Check] = []


def _check(fn: _Check) -> _Check:
    """Register a rule check; each adds its violations to the context."""
    _CHECKS.append(fn)
    return fn


# ---------------------------------------------------------------- H-POL-1, H-ONE-1


@_check
def check_policy(ctx: _Context) -> None:
    if ctx.policy is None:
        known = ", ".join(sorted(ctx.inv.policies)) or "none"
        ctx.add("H-POL-1", None, f"policy {ctx.plan.policy!r} is not in the inventory (policies: {known}); "
                "deadlines and thresholds fall back to defaults",
                f"清单中没有策略 {ctx.plan.policy!r}（现有策略：{known}）；期限和阈值按默认值处理")


@_check
def check_exactly_once(ctx: _Context) -> None:
    places: dict[str, list[tuple[int, str, str]]] = {}
    for pos, batch in enumerate(ctx.plan.batches):
        for item in batch.items:
            places.setdefault(item.system, []).append((pos, f"batch {batch.id}", f"批次 {batch.id}"))
    for r in ctx.plan.retained:
        places.setdefault(r.system, []).append((ctx.nb, "retained", "保留"))
    for u in ctx.plan.unscheduled:
        places.setdefault(u.system, []).append((ctx.nb + 1, "unscheduled", "暂无法排期"))
    for sid, where in places.items():
        listed = ", ".join(w for _, w, _ in where)
        listed_zh = "、".join(w for _, _, w in where)
        if sid not in ctx.inv.systems:
            ctx.add("H-ONE-1", sid, f"the plan lists system {sid} ({listed}) but the inventory has no such system",
                    f"计划列出了系统 {sid}（{listed_zh}），但清单中没有该系统", pos=where[0][0])
        elif len(where) > 1:
            ctx.add("H-ONE-1", sid, f"appears {len(where)} times ({listed}); a system is planned exactly once",
                    f"出现 {len(where)} 次（{listed_zh}）；每个系统在计划中只能出现一次", pos=where[0][0])
    for sid in sorted(ctx.inv.systems):
        if sid not in places:
            ctx.add("H-ONE-1", sid, "is in the inventory but not in the plan (no batch, not retained, "
                    "not unscheduled)", "在清单中但不在计划中（不在任何批次，也未列为保留或暂无法排期）")


# ---------------------------------------------------------------- H-SEC-1, H-SEC-2


@_check
def check_secrecy(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        if s.is_classified:
            # Retire is allowed: nothing of a retired system reaches any cloud.
            if it.strategy not in (Strategy.relocate_intranet, Strategy.retire):
                ctx.add("H-SEC-1", s.id, f"classified system has strategy {it.strategy.value} in batch {e.batch.id}; "
                        "a classified system stays (retained), moves to the intranet (relocate_intranet) or retires",
                        f"涉密系统在批次 {e.batch.id} 中的策略为{it.strategy.label('zh')}；涉密系统只能保留、"
                        "迁入政务内网（relocate_intranet）或下线")
            if z is not None and not (z.accepts_classified and z.network_zone is NetworkZone.gov_intranet):
                why = ("which does not accept classified systems" if not z.accepts_classified
                       else f"which is not on the {NetworkZone.gov_intranet.zh}")
                why_zh = "该资源池不接收涉密系统" if not z.accepts_classified else f"该资源池不在{NetworkZone.gov_intranet.zh}"
                ctx.add("H-SEC-1", s.id, f"classified system targets zone {_zone_text(z)}, {why}",
                        f"涉密系统的目标资源池为 {_zone_text(z)}，{why_zh}")
            if it.strategy is Strategy.relocate_intranet and s.fenbao_status not in _FENBAO_DONE \
                    and REQ_FENBAO not in it.requires:
                status = s.fenbao_status.value if s.fenbao_status else "unset"
                ctx.add("H-SEC-2", s.id, f"moves to the intranet with fenbao_status {status} and without the "
                        f"{REQ_FENBAO} prerequisite; 分保 testing, approval and filing precede go-live",
                        f"分保状态为 {status} 却迁入政务内网，且没有“分保审批”前置条件；分保测评、审批和备案须在上线前完成")
        else:
            if it.strategy is Strategy.relocate_intranet:
                ctx.add("H-SEC-1", s.id, "strategy relocate_intranet is reserved for classified systems; "
                        "this system is non-classified", "迁入政务内网（relocate_intranet）仅用于涉密系统；本系统非涉密")
            # The intranet is physically isolated: only systems already on it may move onto it.
            if z is not None and z.network_zone is NetworkZone.gov_intranet \
                    and s.network_zone is not NetworkZone.gov_intranet:
                ctx.add("H-SEC-1", s.id, f"non-classified system on {s.network_zone.zh} targets intranet zone "
                        f"{_zone_text(z)}; only 政务内网 systems may move onto the intranet",
                        f"位于{s.network_zone.zh}的非涉密系统的目标是政务内网资源池 {_zone_text(z)}；只有原在政务内网的系统可迁入政务内网")


# ---------------------------------------------------------------- MLPS, DR (non-classified only: 分保 governs the rest)


@_check
def check_mlps(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if not s.is_classified:
            lvl = ctx.level(s)
            if z.mlps_level < lvl:
                ctx.add("H-MLPS-1", s.id, f"{_level_text(ctx, s)} system targets zone {_zone_text(z)} rated level "
                        f"{z.mlps_level}; a cloud zone must not host systems graded above its own level",
                        f"{_level_text(ctx, s, 'zh')}系统的目标资源池 {_zone_text(z)} 仅为等保 {z.mlps_level} 级；"
                        "资源池不得承载等保级别高于自身的系统")
            if lvl >= 4 and not z.dedicated_pool:
                ctx.add("H-MLPS-1", s.id, f"level-{lvl} system targets zone {z.id}, which is not a dedicated pool; "
                        "level 4 needs its own resource pool (GB/T 22239-2019 9.2)",
                        f"{lvl}级系统的目标资源池 {z.id} 不是专属资源池；四级系统须使用独立资源池（GB/T 22239-2019 9.2）")
        # The zone's own rating is policy (Lu'an: everything ≥ 2, extranet infrastructure ≥ 3).
        if z.mlps_level < ctx.th.min_mlps_level:
            ctx.add("H-MLPS-3", s.id, f"zone {z.id} is rated level {z.mlps_level}, below the policy minimum "
                    f"{ctx.th.min_mlps_level}", f"资源池 {z.id} 等保 {z.mlps_level} 级，低于策略最低级别 {ctx.th.min_mlps_level} 级")
        if z.network_zone is NetworkZone.gov_extranet and z.mlps_level < ctx.th.extranet_mlps_level:
            ctx.add("H-MLPS-3", s.id, f"extranet zone {z.id} is rated level {z.mlps_level}, below the policy's "
                    f"extranet level {ctx.th.extranet_mlps_level}",
                    f"政务外网资源池 {z.id} 等保 {z.mlps_level} 级，低于策略要求的外网级别 {ctx.th.extranet_mlps_level} 级")
    for e in ctx.entries:
        s, it = e.system, e.item
        if s.is_classified or it.strategy not in PLACING or REQ_MLPS_ASSESSMENT in it.requires:
            continue
        lvl = ctx.level(s)
        if lvl >= 2 and s.mlps_status not in _MLPS_DONE:
            ctx.add("H-MLPS-2", s.id, f"{_level_text(ctx, s)} system has MLPS status {s.mlps_status.value} "
                    f"({s.mlps_status.zh}) and the item lacks the {REQ_MLPS_ASSESSMENT} prerequisite; filing and "
                    "assessment precede go-live",
                    f"{_level_text(ctx, s, 'zh')}系统的等保状态为{s.mlps_status.zh}，且没有“等保测评”前置条件；"
                    "备案和测评须在上线前完成")
        elif s.mlps_level is not None and s.mlps_level < ctx.th.min_mlps_level:
            ctx.add("H-MLPS-3", s.id, f"level-{s.mlps_level} system is below the policy minimum level "
                    f"{ctx.th.min_mlps_level} and the item lacks the {REQ_MLPS_ASSESSMENT} prerequisite (re-grading)",
                    f"{s.mlps_level}级系统低于策略最低级别 {ctx.th.min_mlps_level} 级，且没有“等保测评”前置条件（重新定级）")


@_check
def check_dr(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if s.is_classified:
            continue
        lvl = ctx.level(s)
        if lvl >= 3 and z.dr_mode not in _DR_FOR_LEVEL3:
            ctx.add("H-DR-1", s.id, f"{_level_text(ctx, s)} system targets zone {z.id} with DR mode {z.dr_mode.value} "
                    f"({z.dr_mode.zh}); level 3 needs {DrMode.realtime_offsite_ha.value} (real-time off-site "
                    "backup and hot redundancy)",
                    f"{_level_text(ctx, s, 'zh')}系统的目标资源池 {z.id} 容灾方式为{z.dr_mode.zh}；三级系统须异地实时备份"
                    f"并热冗余（{DrMode.realtime_offsite_ha.value}）")
        elif lvl == 2 and z.dr_mode not in _DR_FOR_LEVEL2:
            ctx.add("H-DR-1", s.id, f"{_level_text(ctx, s)} system targets zone {z.id} with DR mode {z.dr_mode.value} "
                    f"({z.dr_mode.zh}); level 2 needs at least {DrMode.scheduled_offsite.value}",
                    f"{_level_text(ctx, s, 'zh')}系统的目标资源池 {z.id} 容灾方式为{z.dr_mode.zh}；二级系统至少须异地定时备份"
                    f"（{DrMode.scheduled_offsite.value}）")


# ---------------------------------------------------------------- zone location and network


@_check
def check_zone_site_and_network(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if not z.in_china or not z.ops_in_china:
            where = " and ".join(w for w, ok in (("located", z.in_china), ("operated", z.ops_in_china)) if not ok)
            where_zh = "和".join(w for w, ok in (("位于", z.in_china), ("运维于", z.ops_in_china)) if not ok)
            ctx.add("H-CN-1", s.id, f"targets zone {z.id}, which is not {where} in China",
                    f"目标资源池 {z.id} 不{where_zh}境内")
        if z.network_zone is NetworkZone.dedicated_net:
            ctx.add("H-NET-1", s.id, f"targets zone {_zone_text(z)}; no dedicated network (业务专网) may appear in "
                    "the target state", f"目标资源池 {_zone_text(z)} 位于业务专网；迁移后的目标状态中不得出现业务专网")
            continue
        if s.is_classified or z.network_zone is NetworkZone.gov_intranet:
            continue  # H-SEC-1 decides who may go onto the intranet
        need = _network_need(s.network_zone)
        if not _network_fits(s.network_zone, z):
            ctx.add("H-NET-2", s.id, f"system on {s.network_zone.zh} targets zone {_zone_text(z)}; it needs {need}",
                    f"位于{s.network_zone.zh}的系统的目标资源池为 {_zone_text(z)}；它需要{_network_need(s.network_zone, 'zh')}")
    # Dedicated networks have their own deadline when the policy has a network batch (H-NET-1).
    if ctx.policy is None:
        return
    net_batches = [b for b in ctx.policy.batches if b.kind is BatchKind.network and b.deadline]
    for e in ctx.entries:
        s = e.system
        if s.is_classified or s.network_zone is not NetworkZone.dedicated_net or not _moving(e):
            continue
        for b in net_batches:
            if e.when is not None and ctx.in_scope(b, s) and e.when > b.deadline:
                ctx.add("H-NET-1", s.id, f"dedicated-network system cuts over on {e.when}, after the deadline "
                        f"{b.deadline} of network batch {b.id} ({b.name})",
                        f"业务专网系统的割接日 {e.when} 晚于网络整合批次 {b.id}（{b.name}）的截止日期 {b.deadline}")


def _network_fits(net: NetworkZone, z: CloudZone) -> bool:
    if net is NetworkZone.internet:
        return z.network_zone is NetworkZone.internet or (
            z.network_zone is NetworkZone.gov_extranet and z.extranet_area is ExtranetArea.internet_access)
    if net is NetworkZone.gov_intranet:
        return z.network_zone is NetworkZone.gov_intranet
    # extranet, dedicated networks (moving to the extranet, H-NET-1) and isolated LANs
    return z.network_zone is NetworkZone.gov_extranet


def _network_need(net: NetworkZone, lang: str = "en") -> str:
    if lang == "zh":
        if net is NetworkZone.internet:
            return f"{NetworkZone.internet.zh}资源池，或{NetworkZone.gov_extranet.zh}{ExtranetArea.internet_access.zh}的资源池"
        if net is NetworkZone.gov_intranet:
            return f"{NetworkZone.gov_intranet.zh}资源池"
        return f"{NetworkZone.gov_extranet.zh}资源池"
    if net is NetworkZone.internet:
        return f"an {NetworkZone.internet.zh} zone or a {NetworkZone.gov_extranet.zh} zone in the " \
               f"{ExtranetArea.internet_access.zh}"
    if net is NetworkZone.gov_intranet:
        return f"a {NetworkZone.gov_intranet.zh} zone"
    return f"a {NetworkZone.gov_extranet.zh} zone"


# ---------------------------------------------------------------- targets and placements (H-TGT-1, H-ROOM-1)


@_check
def check_targets(ctx: _Context) -> None:
    by_group: dict[str, set[str]] = {}
    for e in ctx.entries:
        by_group.setdefault(e.item.move_group, set()).update(p.server for p in e.item.servers)
    placed_by: dict[str, _Entry] = {}
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        if it.strategy is Strategy.retain:
            ctx.add("H-TGT-1", s.id, f"strategy retain belongs in the plan's retained list, not in batch {e.batch.id}",
                    f"保留策略的系统应列入计划的保留清单，而不是批次 {e.batch.id}", pos=e.pos)
        if it.target_zone is not None and z is None:
            room = ctx.inv.machine_rooms.get(it.target_zone)
            if room is not None:
                ctx.add("H-ROOM-1", s.id, f"targets machine room {room.id} ({room.name}); systems move to cloud "
                        "zones, never into a machine room",
                        f"目标为机房 {room.id}（{room.name}）；系统只能迁往云资源池，不得迁入机房", pos=e.pos)
            else:
                ctx.add("H-TGT-1", s.id, f"targets zone {it.target_zone}, which is not a cloud zone of the inventory",
                        f"目标资源池 {it.target_zone} 不是清单中的云资源池", pos=e.pos)
        if it.strategy in PLACING and it.target_zone is None:
            ctx.add("H-TGT-1", s.id, f"strategy {it.strategy.value} needs a target zone",
                    f"{it.strategy.label('zh')}策略需要目标资源池", pos=e.pos)
        if it.strategy is Strategy.retire and s.lifecycle is not Lifecycle.zombie and (it.target_zone or it.servers):
            ctx.add("H-TGT-1", s.id, "a retired system takes no target zone and no servers "
                    f"(has zone {it.target_zone}, {len(it.servers)} placements)",
                    f"下线的系统不占用目标资源池和服务器（现有资源池 {it.target_zone}，{len(it.servers)} 台放置）", pos=e.pos)
        for p in it.servers:
            _check_placement(ctx, e, p, placed_by)
        if it.strategy in PLACING:
            missing = [x for x in s.servers if x not in by_group.get(it.move_group, set())]
            if missing:
                ctx.add("H-TGT-1", s.id, f"servers not placed: {', '.join(missing)}; every server of a "
                        f"{it.strategy.value} system is placed by its item or one of move group {it.move_group}",
                        f"服务器未放置：{', '.join(missing)}；{it.strategy.label('zh')}系统的每台服务器须由本系统或迁移组 "
                        f"{it.move_group} 中的系统放置", pos=e.pos)


def _check_placement(ctx: _Context, e: _Entry, p: ServerPlacement, placed_by: dict[str, _Entry]) -> None:
    s, z = e.system, e.zone
    if p.server not in ctx.inv.servers:
        ctx.add("H-TGT-1", s.id, f"places server {p.server}, which is not in the inventory",
                f"放置的服务器 {p.server} 不在清单中", pos=e.pos)
        return
    if p.server not in s.servers:
        owners = ", ".join(ctx.server_systems.get(p.server, [])) or "no system"
        owners_zh = "、".join(ctx.server_systems.get(p.server, [])) or "无系统"
        ctx.add("H-TGT-1", s.id, f"places server {p.server}, which belongs to {owners}, not to this system",
                f"放置的服务器 {p.server} 属于 {owners_zh}，不属于本系统", pos=e.pos)
    first = placed_by.setdefault(p.server, e)
    if first is not e:
        ctx.add("H-TGT-1", s.id, f"places server {p.server} again (already placed by {first.system.id} in batch "
                f"{first.batch.id}); a server moves once and counts once against capacity",
                f"重复放置服务器 {p.server}（已由批次 {first.batch.id} 的 {first.system.id} 放置）；每台服务器只迁移一次、"
                "只计一次容量", pos=e.pos)
    if e.item.strategy in REBUILDING and p.image is None:
        ctx.add("H-TGT-1", s.id, f"server {p.server}: {e.item.strategy.value} builds on a target image, "
                "but none is given", f"服务器 {p.server}：{e.item.strategy.label('zh')}需基于目标镜像重建，但未指定镜像",
                pos=e.pos)
    if z is None:
        return
    if p.flavor is not None:
        flavor = next((f for f in z.flavors if f.name == p.flavor), None)
        if flavor is None:
            offered = ", ".join(f.name for f in z.flavors) or "none"
            ctx.add("H-TGT-1", s.id, f"server {p.server}: flavor {p.flavor} is not offered by zone {z.id} "
                    f"(offers: {offered})", f"服务器 {p.server}：资源池 {z.id} 不提供规格 {p.flavor}（提供：{offered}）",
                    pos=e.pos)
        elif flavor.vcpus < p.vcpus or flavor.ram_gb < p.ram_gb:
            ctx.add("H-TGT-1", s.id, f"server {p.server}: flavor {p.flavor} ({flavor.vcpus} vCPU/{flavor.ram_gb:g} GB) "
                    f"is smaller than the placement ({p.vcpus} vCPU/{p.ram_gb:g} GB)",
                    f"服务器 {p.server}：规格 {p.flavor}（{flavor.vcpus} vCPU/{flavor.ram_gb:g} GB）小于放置需求"
                    f"（{p.vcpus} vCPU/{p.ram_gb:g} GB）", pos=e.pos)
    if p.image is not None and p.image.startswith(IMPORTED_IMAGE):
        if e.item.strategy is not Strategy.rehost:
            ctx.add("H-TGT-1", s.id, f"server {p.server}: {e.item.strategy.value} builds on a catalogue image of "
                    f"zone {z.id}, not on an imported disk ({p.image})",
                    f"服务器 {p.server}：{e.item.strategy.label('zh')}须使用资源池 {z.id} 目录中的镜像，而不是导入的磁盘"
                    f"（{p.image}）", pos=e.pos)
    elif p.image is not None:
        image = next((i for i in z.images if i.name == p.image), None)
        if image is None:
            offered = ", ".join(i.name for i in z.images) or "none"
            ctx.add("H-TGT-1", s.id, f"server {p.server}: image {p.image} ({e.item.strategy.value}) is not offered "
                    f"by zone {z.id} (offers: {offered})",
                    f"服务器 {p.server}：资源池 {z.id} 不提供镜像 {p.image}（{e.item.strategy.label('zh')}；提供：{offered}）",
                    pos=e.pos)
        elif image.cpu_arch is not z.cpu_arch:
            ctx.add("H-TGT-1", s.id, f"server {p.server}: image {p.image} is built for {image.cpu_arch.value} but "
                    f"zone {z.id} runs {z.cpu_arch.value}",
                    f"服务器 {p.server}：镜像 {p.image} 适用于 {image.cpu_arch.value}，而资源池 {z.id} 是 {z.cpu_arch.value}",
                    pos=e.pos)


@_check
def check_room_dates(ctx: _Context) -> None:
    """A machine room's lease expiry or closure date is a deadline for every system with a server in it
    (moved, retired or replaced alike: the room must be empty)."""
    for e in ctx.entries:
        if e.when is None:
            continue
        for srv in ctx.servers_of(e):
            room = ctx.inv.machine_rooms.get(srv.machine_room) if srv.machine_room else None
            if room is None:
                continue
            for day, kind, kind_zh in ((room.lease_expiry, "lease expiry", "租约到期日"),
                                       (room.closure_date, "closure date", "关停日期")):
                if day is not None and e.when > day:
                    ctx.add("H-ROOM-2", e.system.id, f"cutover {e.when} is after the {kind} {day} of machine room "
                            f"{room.id} ({room.name}), where server {srv.id} runs",
                            f"割接日 {e.when} 晚于服务器 {srv.id} 所在机房 {room.id}（{room.name}）的{kind_zh} {day}",
                            pos=e.pos)
                    break
            else:
                continue
            break


# ---------------------------------------------------------------- H-ZOMBIE-1, H-VERT-1


@_check
def check_zombies(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it = e.system, e.item
        if s.lifecycle is not Lifecycle.zombie:
            continue
        if it.strategy is not Strategy.retire:
            ctx.add("H-ZOMBIE-1", s.id, f"zombie system (僵尸系统) has strategy {it.strategy.value}; zombies are retired",
                    f"僵尸系统的策略为{it.strategy.label('zh')}；僵尸系统应下线")
        elif it.target_zone or it.servers:
            ctx.add("H-ZOMBIE-1", s.id, f"zombie system is retired but still takes zone {it.target_zone} and "
                    f"{len(it.servers)} server placements; no cloud capacity goes to a zombie",
                    f"僵尸系统已下线却仍占用资源池 {it.target_zone} 和 {len(it.servers)} 台服务器放置；僵尸系统不分配云资源")


@_check
def check_census(ctx: _Context) -> None:
    for e in ctx.entries:
        gaps = [f"{x.id} ({', '.join(x.incomplete)})" for sid in e.system.servers
                if (x := ctx.inv.servers.get(sid)) is not None and x.incomplete]
        if gaps:
            ctx.add("H-CENSUS-1", e.system.id, f"is scheduled ({e.item.strategy.value}) although the census of "
                    f"server(s) {'; '.join(gaps)} is incomplete", f"已排期（{e.item.strategy.label('zh')}），但服务器 "
                    f"{'; '.join(gaps)} 的普查信息不完整", pos=e.pos)


@_check
def check_verticals(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it = e.system, e.item
        if not s.build_mode.is_vertical:
            continue
        doc_no = s.superior_approval.doc_no if s.superior_approval else None
        missing, missing_zh = [], []
        if REQ_SUPERIOR_APPROVAL not in it.requires:
            missing.append(f"the item lacks the {REQ_SUPERIOR_APPROVAL} prerequisite")
            missing_zh.append("没有“上级批复”前置条件")
        if not doc_no:
            missing.append("the inventory records no superior approval document number (superior_approval.doc_no)")
            missing_zh.append("清单未记录上级批复文号（superior_approval.doc_no）")
        if missing:
            ctx.add("H-VERT-1", s.id, f"{s.build_mode.zh} system is in batch {e.batch.id} ({it.strategy.value}) but "
                    f"{' and '.join(missing)}; verticals stay unless the superior department approves",
                    f"{s.build_mode.zh}系统在批次 {e.batch.id}（{it.strategy.label('zh')}）中，但{'，且'.join(missing_zh)}；"
                    "垂直系统未经上级主管部门批复不得迁移")


# ---------------------------------------------------------------- H-ARCH-1, H-ARCH-2, H-OS-1


@_check
def check_architecture(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        servers = ctx.servers_of(e)
        if it.strategy is Strategy.rehost:
            mini = [f"{x.id} ({x.cpu_arch.value}, {x.kind.zh})" for x in servers
                    if x.cpu_arch.is_minicomputer or x.kind is ServerKind.minicomputer]
            if mini:
                ctx.add("H-ARCH-2", s.id, f"rehost of minicomputer server(s) {', '.join(mini)}; minicomputers "
                        "cannot be rehosted (replatform them)",
                        f"小型机服务器 {', '.join(mini)} 被平迁；小型机不能平迁（应平台迁移）")
        if z is None or not _moving(e):
            continue
        # Hygon and Zhaoxin report x86_64: comparing architectures, not vendors, is exact.
        other = [f"{x.id} ({x.cpu_arch.value})" for x in servers if x.cpu_arch is not z.cpu_arch]
        if not other:
            continue
        if it.strategy is Strategy.rehost:
            ctx.add("H-ARCH-1", s.id, f"rehost onto zone {z.id} ({z.cpu_arch.value}) of server(s) on another "
                    f"architecture: {', '.join(other)}; changing architecture is a replatform with rebuilt artefacts",
                    f"将其他架构的服务器 {', '.join(other)} 平迁到资源池 {z.id}（{z.cpu_arch.value}）；"
                    "更换架构须平台迁移并重新构建")
        elif it.strategy in PLACING and REQ_REBUILD not in it.requires:
            ctx.add("H-ARCH-1", s.id, f"{it.strategy.value} onto zone {z.id} ({z.cpu_arch.value}) moves server(s) "
                    f"{', '.join(other)} across architectures without the {REQ_REBUILD} prerequisite",
                    f"{it.strategy.label('zh')}到资源池 {z.id}（{z.cpu_arch.value}）跨架构迁移服务器 {', '.join(other)}，"
                    "却没有“异构重建”前置条件")


@_check
def check_unrequested_arch_change(ctx: _Context) -> None:
    """H-ARCH-3 (ours, issue 17 classes 2 and 3): moving an x86 system onto an ARM (Kunpeng, …) pool costs
    a rebuild; it is a 信创 decision the policy takes — ``prefer_domestic`` together with the owner in
    ``xinchuang_orgs``, the system's category in ``xinchuang_categories``, or an adapted (``compatible``)
    system under a ``xinchuang_share_pct`` — never a way to use an emptier pool. Allowed without one
    only when no zone of the system's own architecture meets the hard rules for it (capacity aside:
    a full native pool is a reason to wait, not to rebuild)."""
    pol = ctx.policy
    if pol is None:
        return      # what the policy asks is unknown (H-POL-1 reports it)
    asked_orgs = ctx.org_refs(pol.xinchuang_orgs)
    asked_categories = set(pol.xinchuang_categories)
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        if z is None or it.strategy not in PLACING or z.cpu_arch is CpuArch.x86_64:
            continue
        servers = ctx.servers_of(e)
        if not servers or any(x.cpu_arch is not CpuArch.x86_64 or x.kind is ServerKind.minicomputer
                              for x in servers):
            continue    # not a native x86 system (mixed, ARM already, minicomputer): H-ARCH-1/2 govern it
        if ctx.th.prefer_domestic and (
                ctx.dept(s.owner_org) & asked_orgs or s.category in asked_categories
                or (ctx.th.xinchuang_share_pct > 0 and s.xinchuang_status is XinchuangStatus.compatible)):
            continue
        native = [n for n in sorted(ctx.inv.cloud_zones.values(), key=lambda n: n.id)
                  if n.cpu_arch is CpuArch.x86_64 and _meets_hard_rules(ctx, s, n)]
        if not native:
            continue
        why = "prefer_domestic is off" if not ctx.th.prefer_domestic else \
            "the policy names neither its department, its category nor a 信创 share for it"
        why_zh = "策略未开启优先信创（prefer_domestic）" if not ctx.th.prefer_domestic else \
            "策略的信创部门、信创系统类型和信创比例均不涉及本系统"
        ctx.add("H-ARCH-3", s.id,
                f"x86 system is rebuilt onto {z.cpu_arch.value} zone {z.id} in batch {e.batch.id} ({it.strategy.value}) "
                f"though {why} and x86 zone(s) {', '.join(n.id for n in native[:3])} meet the hard rules for it; x86→ARM is a 信创 decision "
                "of the policy, not a spill-over",
                f"x86 系统在批次 {e.batch.id}（{it.strategy.label('zh')}）中被重建到 {z.cpu_arch.value} 资源池 {z.id}，"
                f"但{why_zh}，且 x86 资源池 {'、'.join(n.id for n in native[:3])} 满足其硬性规则；x86 迁往 ARM 须由策略作出信创决定，"
                "不能作为容量溢出")


def _meets_hard_rules(ctx: _Context, s: InformationSystem, z: CloudZone) -> bool:
    """Whether zone ``z`` could take ``s`` under the placement rules this module checks (location, network,
    classification, MLPS, DR), capacity aside."""
    if not z.in_china or not z.ops_in_china or z.network_zone is NetworkZone.dedicated_net:
        return False
    if s.is_classified:
        return z.accepts_classified and z.network_zone is NetworkZone.gov_intranet
    if z.network_zone is NetworkZone.gov_intranet:
        if s.network_zone is not NetworkZone.gov_intranet:
            return False
    elif not _network_fits(s.network_zone, z):
        return False
    lvl = ctx.level(s)
    if z.mlps_level < lvl or (lvl >= 4 and not z.dedicated_pool) or z.mlps_level < ctx.th.min_mlps_level:
        return False
    if z.network_zone is NetworkZone.gov_extranet and z.mlps_level < ctx.th.extranet_mlps_level:
        return False
    if lvl >= 3 and z.dr_mode not in _DR_FOR_LEVEL3 or lvl == 2 and z.dr_mode not in _DR_FOR_LEVEL2:
        return False
    return True


@_check
def check_eol_os(ctx: _Context) -> None:
    if not ctx.th.eol_os_blocking:
        return
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        if e.when is None:
            continue
        if z is not None:
            images = {i.name: i for i in z.images}
            for p in it.servers:
                image = images.get(p.image) if p.image else None
                eol = os_eol_date(image.os_distribution, image.os_version) if image else None
                if eol is not None and eol <= e.when:
                    ctx.add("H-OS-1", s.id, f"server {p.server}: image {p.image} ({image.os_distribution.value} "
                            f"{image.os_version}) is end-of-life since {eol}, on or before cutover {e.when}",
                            f"服务器 {p.server}：镜像 {p.image}（{image.os_distribution.value} {image.os_version}）"
                            f"自 {eol} 起停止维护，不晚于割接日 {e.when}")
        if it.strategy is Strategy.rehost and REQ_OS_MIGRATION not in it.requires:
            old = []
            for x in ctx.servers_of(e):
                eol = os_eol_date(x.os_distribution, x.os_version)
                if eol is not None and eol <= e.when:
                    old.append(f"{x.id} ({x.os_distribution.value} {x.os_version}, EOL {eol})")
            if old:
                ctx.add("H-OS-1", s.id, f"rehost of server(s) whose OS is end-of-life at cutover {e.when}: "
                        f"{', '.join(old)}; the item lacks the {REQ_OS_MIGRATION} prerequisite",
                        f"平迁的服务器在割接日 {e.when} 时操作系统已停止维护：{', '.join(old)}；没有“操作系统迁移”前置条件")


# ---------------------------------------------------------------- dates: H-DATE-1, H-TKO-1, H-FRZ-1


@_check
def check_dates(ctx: _Context) -> None:
    for pos, b in enumerate(ctx.plan.batches):
        if b.start is None or b.end is None:
            ctx.add("H-DATE-1", None, f"batch {b.id} has no {'start' if b.start is None else 'end'} date",
                    f"批次 {b.id} 没有{'开始' if b.start is None else '结束'}日期", pos=pos)
            continue
        if b.start > b.end:
            ctx.add("H-DATE-1", None, f"batch {b.id} starts on {b.start}, after its end {b.end}",
                    f"批次 {b.id} 的开始日期 {b.start} 晚于结束日期 {b.end}", pos=pos)
        if b.deadline is not None and b.end > b.deadline:
            ctx.add("H-DATE-1", None, f"batch {b.id} ends on {b.end}, after its deadline {b.deadline}",
                    f"批次 {b.id} 的结束日期 {b.end} 晚于其截止日期 {b.deadline}", pos=pos)
    for e in ctx.entries:
        s, it, b = e.system, e.item, e.batch
        if it.cutover is None:
            ctx.add("H-DATE-1", s.id, f"has no cutover date in batch {b.id}", f"在批次 {b.id} 中没有割接日期")
        elif b.start is not None and b.end is not None and not b.start <= it.cutover <= b.end:
            ctx.add("H-DATE-1", s.id, f"cutover {it.cutover} lies outside batch {b.id} ({b.start} – {b.end})",
                    f"割接日 {it.cutover} 不在批次 {b.id} 的时间内（{b.start} – {b.end}）")
        bound = _binding_deadline(ctx, s)
        if bound is not None and e.when is not None and e.when > bound[0]:
            ctx.add("H-DATE-1", s.id, f"cutover {e.when} is after {bound[0]}, the deadline of {bound[1]}",
                    f"割接日 {e.when} 晚于{bound[2]}的截止日期 {bound[0]}")


def _binding_deadline(ctx: _Context, s: InformationSystem) -> tuple[date, str, str] | None:
    """The earliest migration deadline covering the system, or the policy's final deadline:
    (date, whose in English, whose in Chinese)."""
    if ctx.policy is None:
        return None
    best: tuple[date, str, str] | None = None
    for b in ctx.policy.batches:
        if b.kind is not BatchKind.migration or b.deadline is None:
            continue
        if (not b.scope_orgs and not b.scope_systems) or ctx.in_scope(b, s):
            if best is None or b.deadline < best[0]:
                best = (b.deadline, f"policy batch {b.id} ({b.name})", f"策略批次 {b.id}（{b.name}）")
    final = ctx.policy.final_deadline
    if final is not None and (best is None or final < best[0]):
        best = (final, f"policy {ctx.policy.id} (final deadline)", f"策略 {ctx.policy.id}（最终期限）")
    return best


@_check
def check_takeover(ctx: _Context) -> None:
    by_system: dict[str, list] = {}
    by_dept: dict[str, list] = {}
    for t in sorted(ctx.inv.takeovers.values(), key=lambda t: t.id):
        if t.system:
            by_system.setdefault(t.system, []).append(t)
        elif t.org:
            for oid in ctx.org_refs((t.org,)):
                by_dept.setdefault(oid, []).append(t)
    for e in ctx.entries:
        s = e.system
        # Only non-classified systems are taken over (Heyuan §三(三)3), and only what is carried
        # to the cloud needs it first (a retired or repurchased system is replaced, not moved).
        if s.is_classified or not _carries(e) or e.when is None:
            continue
        found = _takeover_date(ctx, s, by_system, by_dept)
        if found is not None and found[0] > e.when:
            ctx.add("H-TKO-1", s.id, f"takeover ({found[1]}) is dated {found[0]}, after cutover {e.when}; "
                    "takeover precedes migration",
                    f"接管（{found[2]}）日期为 {found[0]}，晚于割接日 {e.when}；须先接管后迁移")


def _takeover_date(ctx: _Context, s: InformationSystem, by_system: dict,
                   by_dept: dict) -> tuple[date, str, str] | None:
    """When the system is taken over: its own record, else its department's, else the takeover batch.

    Exempt records end the search (no takeover needed). Of several records the latest
    date counts: a department is taken over when its last record is done.
    """
    for records in (by_system.get(s.id, []),
                    list({t.id: t for oid in sorted(ctx.dept(s.owner_org)) for t in by_dept.get(oid, [])}.values())):
        if not records:
            continue
        if all(t.status is TakeoverStatus.exempt for t in records):
            return None
        dated = [(t.done_date or t.planned_date, t) for t in records
                 if t.status is not TakeoverStatus.exempt and (t.done_date or t.planned_date)]
        if dated:
            d, t = max(dated, key=lambda x: (x[0], x[1].id))
            kind = "done" if t.done_date else "planned"
            return d, f"record {t.id}, {kind}", f"记录 {t.id}，{'已完成' if t.done_date else '计划'}"
    if ctx.policy is None:
        return None
    batches = [b for b in ctx.policy.batches
               if b.kind is BatchKind.takeover and b.deadline is not None and ctx.in_scope(b, s)]
    if not batches:
        return None
    b = min(batches, key=lambda b: (b.deadline, b.id))
    return b.deadline, f"policy takeover batch {b.id} ({b.name}) deadline", f"策略接管批次 {b.id}（{b.name}）截止日期"


@_check
def check_freeze(ctx: _Context) -> None:
    windows = sorted(ctx.inv.freeze_windows.values(), key=lambda w: (w.start, w.id))
    for e in ctx.entries:
        for w in windows:
            if e.when is not None and w.start <= e.when <= w.end and _freeze_applies(ctx, w, e.system):
                ctx.add("H-FRZ-1", e.system.id, f"cutover {e.when} falls in freeze window {w.id} {w.name} "
                        f"({w.start} – {w.end}, scope {w.scope.value})",
                        f"割接日 {e.when} 落在封网期 {w.id} {w.name}（{w.start} – {w.end}，范围 {w.scope.value}）内")


def _freeze_applies(ctx: _Context, w: FreezeWindow, s: InformationSystem) -> bool:
    if w.scope is FreezeScope.global_:
        return True
    if w.scope is FreezeScope.system:
        return s.id in w.targets
    if w.scope is FreezeScope.org:
        return bool(ctx.org_refs(w.targets) & ctx.dept(s.owner_org))
    if w.scope is FreezeScope.region:
        return bool(set(w.targets) & set(_regions_of(ctx, s)))
    return False


def _regions_of(ctx: _Context, s: InformationSystem) -> list[str]:
    """The owner's region and every region above it (a city freeze covers its counties' systems too)."""
    org = ctx.inv.organizations.get(s.owner_org)
    code = org.region if org and org.region else (ctx.inv.meta.region if ctx.inv.meta else None)
    chain: list[str] = []
    while code and code not in chain:
        chain.append(code)
        region = ctx.inv.regions.get(code)
        code = region.parent if region else None
    return chain


# ---------------------------------------------------------------- H-CAP-1


@_check
def check_capacity(ctx: _Context) -> None:
    """Cumulative use per zone within its capacity. A zone's dated expansions (扩容) count from their date:
    for a zone with expansions the placements are summed in cutover order and each is compared with the
    capacity on its own cutover day (what is placed stays, so every later day is covered too)."""
    used: dict[str, list[float]] = {}
    reported: set[str] = set()
    first_batch: dict[str, str] = {}

    def order(e: _Entry) -> tuple:
        grows = e.zone is not None and bool(e.zone.expansions)
        return (e.when or date.min, e.pos, e.system.id) if grows else (date.min, e.pos, e.system.id)
    for e in sorted(ctx.entries, key=order):
        z = e.zone
        batch = e.batch
        pos = e.pos
        if z is None or not _moving(e) or not e.item.servers:
            continue
        first_batch.setdefault(z.id, batch.id)
        u = used.setdefault(z.id, [0.0, 0.0, 0.0])
        for p in e.item.servers:
            u[0] += p.vcpus
            u[1] += p.ram_gb
            u[2] += p.disk_gb
        if z.id in reported:
            continue
        cap = [z.capacity.vcpus, z.capacity.ram_gb, z.capacity.storage_gb]
        added = [x for x in z.expansions if e.when is not None and x.date <= e.when]
        for x in added:
            cap[0] += x.vcpus
            cap[1] += x.ram_gb
            cap[2] += x.storage_gb
        over = [f"{name} {have:g} > {limit:g}" for name, have, limit, declared in
                (("vcpus", u[0], cap[0], z.capacity.vcpus), ("ram_gb", u[1], cap[1], z.capacity.ram_gb),
                 ("storage_gb", u[2], cap[2], z.capacity.storage_gb))
                if declared and have > limit]  # 0 = not declared
        if over:
            reported.add(z.id)
            span = batch.id if first_batch[z.id] == batch.id else f"{first_batch[z.id]}–{batch.id}"
            grown = f"; with the expansions dated up to {e.when}" if added else ""
            grown_zh = f"；已计入 {e.when} 及之前的扩容" if added else ""
            ctx.add("H-CAP-1", e.system.id, f"zone {z.id} capacity exceeded in batch {batch.id}: "
                    f"{', '.join(over)} (cumulative over batches {span}{grown})",
                    f"资源池 {z.id} 在批次 {batch.id} 超出容量：{', '.join(over)}（批次 {span} 累计{grown_zh}）", pos=pos)


# ---------------------------------------------------------------- H-DEP-1, H-DEP-2, H-DEP-3


@_check
def check_move_groups(ctx: _Context) -> None:
    groups: dict[str, list[_Entry]] = {}
    for e in ctx.entries:
        groups.setdefault(e.item.move_group, []).append(e)
    for mg in sorted(groups):
        members = groups[mg]
        batches = list(dict.fromkeys(e.batch.id for e in members))
        if len(batches) > 1:
            head = members[0].batch.id
            spread = ", ".join(f"{e.system.id} in {e.batch.id}" for e in members)
            spread_zh = "、".join(f"{e.system.id} 在 {e.batch.id}" for e in members)
            for e in members:
                if e.batch.id != head:
                    ctx.add("H-DEP-2", e.system.id, f"move group {mg} is split across batches {', '.join(batches)} "
                            f"({spread}); a move group cuts over in one batch",
                            f"迁移组 {mg} 被拆到批次 {'、'.join(batches)}（{spread_zh}）；同一迁移组须在同一批次割接",
                            pos=e.pos)
            continue
        dates = sorted({e.item.cutover for e in members if e.item.cutover is not None})
        if len(dates) > 1:
            spread = ", ".join(f"{e.system.id} {e.item.cutover}" for e in members)
            for e in members:
                if e.item.cutover != dates[0]:
                    ctx.add("H-DEP-2", e.system.id, f"move group {mg} has several cutover dates ({spread}); "
                            "a move group cuts over together",
                            f"迁移组 {mg} 有多个割接日期（{spread}）；同一迁移组须同时割接", pos=e.pos)


@_check
def check_coupling(ctx: _Context) -> None:
    for (a, b), reasons in sorted(_couplings(ctx).items()):
        ea, eb = ctx.first.get(a), ctx.first.get(b)
        why = "; ".join(en for en, _ in reasons)
        why_zh = "；".join(zh for _, zh in reasons)
        if _carries(ea) and _carries(eb):
            assert ea is not None and eb is not None
            if ea.item.move_group != eb.item.move_group:
                x, y = sorted((ea, eb), key=lambda e: (e.pos, e.system.id))
                ctx.add("H-DEP-1", x.system.id, f"is coupled with {y.system.id} ({why}) but moves "
                        f"{ctx.where(x.system.id)} while {y.system.id} moves {ctx.where(y.system.id)}; coupled "
                        "systems share a move group",
                        f"与 {y.system.id} 紧耦合（{why_zh}），但本系统{ctx.where(x.system.id, 'zh')}迁移，而 {y.system.id} "
                        f"{ctx.where(y.system.id, 'zh')}迁移；紧耦合系统须在同一迁移组")
            continue
        for mover, other, oe in ((ea, b, eb), (eb, a, ea)):
            if not _carries(mover):
                continue
            assert mover is not None
            # The partner is retired or replaced no later than the move: nothing is left behind.
            if oe is not None and oe.when is not None and mover.when is not None and oe.when <= mover.when:
                continue
            # The partner is not built yet: it will be deployed on the cloud, nothing is left behind.
            partner = ctx.inv.systems.get(other)
            if not _carries(oe) and partner is not None and partner.lifecycle in (Lifecycle.planned,
                                                                                   Lifecycle.building):
                continue
            ctx.add("H-DEP-1", mover.system.id, f"moves {ctx.where(mover.system.id)} while {other}, coupled with "
                    f"it ({why}), is {ctx.where(other)}; coupled systems move together unless a bridge is declared",
                    f"本系统{ctx.where(mover.system.id, 'zh')}迁移，而与其紧耦合（{why_zh}）的 {other} "
                    f"{ctx.where(other, 'zh')}；紧耦合系统须一起迁移，除非声明了过渡桥接（bridge）")


def _couplings(ctx: _Context) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Pairs of systems that must move together, with why (English, Chinese). Star pairs around the
    first member suffice: any member apart from the first is caught."""
    if ctx._couplings is not None:
        return ctx._couplings
    inv = ctx.inv
    bridged = {frozenset((d.from_, d.to)) for d in inv.dependencies if d.bridge}
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}

    def couple(members: list[str], reason: tuple[str, str], bridgeable: bool) -> None:
        members = sorted(dict.fromkeys(m for m in members if m in inv.systems))
        for other in members[1:]:
            key = (members[0], other)
            if bridgeable and frozenset(key) in bridged:
                continue
            pairs.setdefault(key, []).append(reason)

    for db in sorted(inv.databases.values(), key=lambda d: d.id):
        couple(list(db.used_by), (f"shared database {db.id}", f"共享数据库 {db.id}"), True)
    for srv, systems in sorted(ctx.server_systems.items()):
        couple(systems, (f"shared server {srv}", f"共享服务器 {srv}"), False)
    for d in inv.dependencies:
        if d.bridge or not (d.latency_sensitive or d.type is DepType.shared_db):
            continue
        kind = "latency-sensitive " if d.latency_sensitive else ""
        kind_zh = "时延敏感的" if d.latency_sensitive else ""
        couple([d.from_, d.to], (f"{kind}{d.type.value} dependency {d.from_}->{d.to}",
                                 f"{kind_zh}{d.type.value} 依赖 {d.from_}->{d.to}"), True)
    manual: dict[str, list[str]] = {}
    for s in inv.systems.values():
        if s.move_group:
            manual.setdefault(s.move_group, []).append(s.id)
    for mg, members in sorted(manual.items()):
        couple(members, (f"manual move group {mg}", f"人工指定迁移组 {mg}"), False)
    ctx._couplings = pairs
    return pairs


@_check
def check_call_order(ctx: _Context) -> None:
    coupled = {frozenset(k) for k in _couplings(ctx)}
    for d in sorted(ctx.inv.dependencies, key=lambda d: (d.from_, d.to)):
        if d.type is not DepType.sync_api or d.bridge or frozenset((d.from_, d.to)) in coupled:
            continue  # coupled pairs are H-DEP-1's business
        caller, callee = ctx.first.get(d.from_), ctx.first.get(d.to)
        if not _carries(caller) or not _carries(callee):
            continue
        if caller.pos < callee.pos:
            ctx.add("H-DEP-3", d.from_, f"calls {d.to} (sync_api) but moves in batch {caller.batch.id}, before it "
                    f"(batch {callee.batch.id}); a caller moves with or after what it calls unless a bridge is "
                    "declared", f"同步调用 {d.to}（sync_api），却在批次 {caller.batch.id} 中先于它（批次 {callee.batch.id}）迁移；"
                    "调用方须与被调用方同批或在其后迁移，除非声明了过渡桥接（bridge）")
