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
    BatchKind, CpuArch, DepType, DrMode, ExtranetArea, FenbaoStatus, FreezeScope, Label, Lifecycle, MlpsStatus,
    NetworkZone,
    ServerKind, Strategy, TakeoverStatus, XinchuangStatus,
)
from govcloud.model.inventory import Inventory
from govcloud.model.oslife import os_eol_date
from govcloud.model.plan import (
    IMAGE_IMPORT_PREFIX, Plan, PlanBatch, PlanItem, REQ_FENBAO, REQ_MLPS_ASSESSMENT,
    REQ_OS_MIGRATION, REQ_REBUILD, REQ_SUPERIOR_APPROVAL, ServerPlacement,
)
from govcloud.base.i18n import Msg, N_, localize, tr


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str               # DOMAIN.md §5.1 id, e.g. "H-SEC-1" (H-DEP-3, H-TGT-1, H-NET-2, H-POL-1 are ours)
    system: str | None      # None for a violation of the plan as a whole or of a batch
    message: str            # a Msg: English as a str (JSON, tests), any language with localize()
    name: str = ""          # the system's name, filled in by check_plan for format_violation

    @property
    def message_zh(self) -> str:
        """The message in Chinese (the English one when it is not a catalog message)."""
        return localize(self.message, "zh")


def term(en: str, zh: str) -> Label:
    """A word a message names whose spelling per language comes from elsewhere (an enum's label,
    a list joined the Chinese or the English way): a ``Msg`` parameter whose ``str`` is ``en``."""
    return Label(en, zh, en)


def both(words: Callable[[str], str]) -> Label:
    """``words(lang)`` in both languages, as a ``term``."""
    return term(words("en"), words("zh"))


def strategy_term(strategy: Strategy) -> Label:
    """A strategy as the messages name it: its key in English, its label in Chinese."""
    return term(strategy.value, strategy.label("zh"))


# What each rule means (translate with tr(RULES[rule], lang)); the report's legend shows these.
RULES: dict[str, str] = {
    "H-ONE-1": N_("every inventory system appears exactly once: in a batch, retained or unscheduled"),
    "H-SEC-1": N_("classified systems stay, retire or move to an intranet zone that accepts classified systems"),
    "H-SEC-2": N_("a classified system moving to the intranet has classified-system protection (fenbao) "
                  "approval/filing or carries that prerequisite"),
    "H-MLPS-1": N_("the zone's MLPS level is at least the system's; level 4 needs a dedicated pool"),
    "H-MLPS-2": N_("a level-2+ system not filed/assessed carries the MLPS-assessment prerequisite"),
    "H-MLPS-3": N_("systems below the policy's minimum level are re-graded; zones meet the policy's levels"),
    "H-DEP-1": N_("systems sharing a database or server, or tightly linked, move in the same move group"),
    "H-DEP-2": N_("a move group cuts over in one batch on one date"),
    "H-DEP-3": N_("a caller (sync_api, no bridge) does not move before the system it calls"),
    "H-TKO-1": N_("takeover is done no later than the cutover"),
    "H-DATE-1": N_("cutovers lie inside their batch window and meet the binding policy deadline"),
    "H-VERT-1": N_("vertical systems move only with the superior department's documented approval"),
    "H-ZOMBIE-1": N_("zombie systems are retired, with no zone and no servers"),
    "H-ROOM-1": N_("no system targets a machine room"),
    "H-ROOM-2": N_("a system in a batch leaves its machine rooms by their lease expiry or closure date"),
    "H-NET-1": N_("no target lies on a dedicated network; dedicated-net systems meet network-batch deadlines"),
    "H-NET-2": N_("the target zone's network fits the system's network"),
    "H-ARCH-1": N_("rehost keeps the CPU architecture; other moves across architectures carry the rebuild prerequisite"),
    "H-ARCH-2": N_("minicomputers are not rehosted"),
    "H-ARCH-3": N_("x86 systems are rebuilt onto another architecture (ARM/Kunpeng, …) only when the policy "
                   "asks for Xinchuang for them, or when no pool of their own architecture meets the hard rules"),
    "H-OS-1": N_("no end-of-life target image; rehost of an end-of-life OS carries the OS-migration prerequisite"),
    "H-CN-1": N_("target zones are located and operated in China"),
    "H-FRZ-1": N_("no cutover inside a freeze window in scope"),
    "H-CAP-1": N_("placements per zone stay within the zone's capacity"),
    "H-TGT-1": N_("targets, flavors, images and server placements are consistent with the inventory"),
    "H-DR-1": N_("level-3 systems get real-time off-site backup with HA; level 2 at least scheduled off-site backup"),
    "H-POL-1": N_("the plan's policy exists in the inventory"),
    "H-CENSUS-1": N_("a system is scheduled only when every one of its servers is completely censused "
                     "(cores, RAM, OS and architecture known)"),
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
    colon = tr(": ", lang, ctx="list") if isinstance(v.message, Msg) else ": "
    who = " ".join(x for x in (v.system, v.name) if x) or tr("(plan)", lang)
    return " ".join(f"{v.rule} {who}{colon}{localize(v.message, lang)}".split())


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

    def add(self, rule: str, system: str | None, message: Msg, pos: int | None = None) -> None:
        """A violation; ``message`` a catalog message (English as its ``str``)."""
        s = self.inv.systems.get(system) if system else None
        key = (self.pos_of(system) if pos is None else pos, system or "", rule, str(message))
        self.found.append((key, Violation(rule, system, message, s.name if s else "")))

    def where(self, system: str) -> Msg:
        """Where the plan puts ``system``, in words."""
        if system in self.first:
            e = self.first[system]
            return Msg("in batch {batch} ({strategy}, move group {group})", batch=e.batch.id,
                       strategy=strategy_term(e.item.strategy), group=e.item.move_group)
        if system in self.retained:
            return Msg("retained", "rules:where")
        if system in self.unscheduled:
            return Msg("unscheduled", "rules:where")
        return Msg("not in the plan")

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


def _level_text(ctx: _Context, s: InformationSystem) -> Msg:
    if s.mlps_level is not None:
        return Msg("level-{level}", level=s.mlps_level)
    return Msg("level-unknown (taken as level {level}, the policy minimum)", level=ctx.th.min_mlps_level)


def _zone_text(z: CloudZone) -> str:
    area = f"/{z.extranet_area.zh}" if z.extranet_area else ""
    return f"{z.id} ({z.network_zone.zh}{area})"


# the prerequisites the messages name: their key in English, their label in Chinese
_REQ_LABEL = {
    REQ_SUPERIOR_APPROVAL: N_("superior approval", ctx="requirement"),
    REQ_OS_MIGRATION: N_("OS migration", ctx="requirement"),
    REQ_MLPS_ASSESSMENT: N_("MLPS assessment", ctx="requirement"),
    REQ_FENBAO: N_("fenbao approval", ctx="requirement"),
    REQ_REBUILD: N_("rebuild for another architecture", ctx="requirement"),
}


def _req(key: str) -> Label:
    return term(key, tr(_REQ_LABEL[key], "zh"))


def _listing(items: list, en: str = ", ", zh: str | None = None) -> Label:
    """Items (``Msg`` or plain text) joined the English or the Chinese way (、 unless ``zh``)."""
    zh = tr(", ", "zh", ctx="list") if zh is None else zh
    return term(en.join(str(x) for x in items), zh.join(localize(x, "zh") for x in items))


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
        ctx.add("H-POL-1", None, Msg("policy {policy} is not in the inventory (policies: {known}); "
                                     "deadlines and thresholds fall back to defaults",
                                     policy=repr(ctx.plan.policy), known=known))


@_check
def check_exactly_once(ctx: _Context) -> None:
    places: dict[str, list[tuple[int, Msg]]] = {}
    for pos, batch in enumerate(ctx.plan.batches):
        for item in batch.items:
            places.setdefault(item.system, []).append((pos, Msg("batch {batch}", batch=batch.id)))
    for r in ctx.plan.retained:
        places.setdefault(r.system, []).append((ctx.nb, Msg("retained", "rules:listed")))
    for u in ctx.plan.unscheduled:
        places.setdefault(u.system, []).append((ctx.nb + 1, Msg("unscheduled", "rules:listed")))
    for sid, where in places.items():
        listed = _listing([w for _, w in where])
        if sid not in ctx.inv.systems:
            ctx.add("H-ONE-1", sid, Msg("the plan lists system {system} ({listed}) but the inventory has no such "
                                        "system", system=sid, listed=listed), pos=where[0][0])
        elif len(where) > 1:
            ctx.add("H-ONE-1", sid, Msg("appears {n} times ({listed}); a system is planned exactly once",
                                        n=len(where), listed=listed), pos=where[0][0])
    for sid in sorted(ctx.inv.systems):
        if sid not in places:
            ctx.add("H-ONE-1", sid, Msg("is in the inventory but not in the plan (no batch, not retained, "
                                        "not unscheduled)"))


# ---------------------------------------------------------------- H-SEC-1, H-SEC-2


@_check
def check_secrecy(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it, z = e.system, e.item, e.zone
        if s.is_classified:
            # Retire is allowed: nothing of a retired system reaches any cloud.
            if it.strategy not in (Strategy.relocate_intranet, Strategy.retire):
                ctx.add("H-SEC-1", s.id, Msg("classified system has strategy {strategy} in batch {batch}; a classified "
                                             "system stays (retained), moves to the intranet (relocate_intranet) or "
                                             "retires", strategy=strategy_term(it.strategy), batch=e.batch.id))
            if z is not None and not (z.accepts_classified and z.network_zone is NetworkZone.gov_intranet):
                why = (Msg("which does not accept classified systems") if not z.accepts_classified
                       else Msg("which is not on the {net}", net=NetworkZone.gov_intranet.zh))
                ctx.add("H-SEC-1", s.id, Msg("classified system targets zone {zone}, {why}", zone=_zone_text(z), why=why))
            if it.strategy is Strategy.relocate_intranet and s.fenbao_status not in _FENBAO_DONE \
                    and REQ_FENBAO not in it.requires:
                status = s.fenbao_status.value if s.fenbao_status else "unset"
                ctx.add("H-SEC-2", s.id, Msg("moves to the intranet with fenbao_status {status} and without the {req} "
                                             "prerequisite; fenbao testing, approval and filing precede go-live",
                                             status=status, req=_req(REQ_FENBAO)))
        else:
            if it.strategy is Strategy.relocate_intranet:
                ctx.add("H-SEC-1", s.id, Msg("strategy relocate_intranet is reserved for classified systems; "
                                             "this system is non-classified"))
            # The intranet is physically isolated: only systems already on it may move onto it.
            if z is not None and z.network_zone is NetworkZone.gov_intranet \
                    and s.network_zone is not NetworkZone.gov_intranet:
                ctx.add("H-SEC-1", s.id, Msg("non-classified system on {net} targets intranet zone {zone}; only "
                                             "{intranet} systems may move onto the intranet", net=s.network_zone.zh,
                                             zone=_zone_text(z), intranet=NetworkZone.gov_intranet.zh))


# ---------------------------------------------------------------- MLPS, DR (non-classified only: 分保 governs the rest)


@_check
def check_mlps(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if not s.is_classified:
            lvl = ctx.level(s)
            if z.mlps_level < lvl:
                ctx.add("H-MLPS-1", s.id, Msg("{level} system targets zone {zone} rated level {zone_level}; a cloud "
                                              "zone must not host systems graded above its own level",
                                              level=_level_text(ctx, s), zone=_zone_text(z), zone_level=z.mlps_level))
            if lvl >= 4 and not z.dedicated_pool:
                ctx.add("H-MLPS-1", s.id, Msg("level-{level} system targets zone {zone}, which is not a dedicated pool; "
                                              "level 4 needs its own resource pool (GB/T 22239-2019 9.2)",
                                              level=lvl, zone=z.id))
        # The zone's own rating is policy (Lu'an: everything ≥ 2, extranet infrastructure ≥ 3).
        if z.mlps_level < ctx.th.min_mlps_level:
            ctx.add("H-MLPS-3", s.id, Msg("zone {zone} is rated level {zone_level}, below the policy minimum {minimum}",
                                          zone=z.id, zone_level=z.mlps_level, minimum=ctx.th.min_mlps_level))
        if z.network_zone is NetworkZone.gov_extranet and z.mlps_level < ctx.th.extranet_mlps_level:
            ctx.add("H-MLPS-3", s.id, Msg("extranet zone {zone} is rated level {zone_level}, below the policy's "
                                          "extranet level {minimum}", zone=z.id, zone_level=z.mlps_level,
                                          minimum=ctx.th.extranet_mlps_level))
    for e in ctx.entries:
        s, it = e.system, e.item
        if s.is_classified or it.strategy not in PLACING or REQ_MLPS_ASSESSMENT in it.requires:
            continue
        lvl = ctx.level(s)
        if lvl >= 2 and s.mlps_status not in _MLPS_DONE:
            ctx.add("H-MLPS-2", s.id, Msg("{level} system has MLPS status {status} and the item lacks the {req} "
                                          "prerequisite; filing and assessment precede go-live",
                                          level=_level_text(ctx, s), req=_req(REQ_MLPS_ASSESSMENT),
                                          status=term(f"{s.mlps_status.value} ({s.mlps_status.zh})", s.mlps_status.zh)))
        elif s.mlps_level is not None and s.mlps_level < ctx.th.min_mlps_level:
            ctx.add("H-MLPS-3", s.id, Msg("level-{level} system is below the policy minimum level {minimum} and the "
                                          "item lacks the {req} prerequisite (re-grading)", level=s.mlps_level,
                                          minimum=ctx.th.min_mlps_level, req=_req(REQ_MLPS_ASSESSMENT)))


@_check
def check_dr(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if s.is_classified:
            continue
        lvl = ctx.level(s)
        if lvl >= 3 and z.dr_mode not in _DR_FOR_LEVEL3:
            ctx.add("H-DR-1", s.id, Msg("{level} system targets zone {zone} with DR mode {dr}; level 3 needs {need} "
                                        "(real-time off-site backup and hot redundancy)", level=_level_text(ctx, s),
                                        zone=z.id, dr=term(f"{z.dr_mode.value} ({z.dr_mode.zh})", z.dr_mode.zh),
                                        need=DrMode.realtime_offsite_ha.value))
        elif lvl == 2 and z.dr_mode not in _DR_FOR_LEVEL2:
            ctx.add("H-DR-1", s.id, Msg("{level} system targets zone {zone} with DR mode {dr}; level 2 needs at least "
                                        "{need}", level=_level_text(ctx, s), zone=z.id,
                                        dr=term(f"{z.dr_mode.value} ({z.dr_mode.zh})", z.dr_mode.zh),
                                        need=DrMode.scheduled_offsite.value))


# ---------------------------------------------------------------- zone location and network


@_check
def check_zone_site_and_network(ctx: _Context) -> None:
    for e in _zone_entries(ctx):
        s, z = e.system, e.zone
        assert z is not None
        if not z.in_china or not z.ops_in_china:
            where = _listing([w for w, ok in ((Msg("located"), z.in_china), (Msg("operated"), z.ops_in_china))
                              if not ok], " and ", tr("and", "zh", ctx="rules:join"))
            ctx.add("H-CN-1", s.id, Msg("targets zone {zone}, which is not {where} in China", zone=z.id, where=where))
        if z.network_zone is NetworkZone.dedicated_net:
            ctx.add("H-NET-1", s.id, Msg("targets zone {zone}; no dedicated network ({dedicated}) may appear in the "
                                         "target state", zone=_zone_text(z), dedicated=NetworkZone.dedicated_net.zh))
            continue
        if s.is_classified or z.network_zone is NetworkZone.gov_intranet:
            continue  # H-SEC-1 decides who may go onto the intranet
        if not _network_fits(s.network_zone, z):
            ctx.add("H-NET-2", s.id, Msg("system on {net} targets zone {zone}; it needs {need}", net=s.network_zone.zh,
                                         zone=_zone_text(z), need=_network_need(s.network_zone)))
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
                ctx.add("H-NET-1", s.id, Msg("dedicated-network system cuts over on {when}, after the deadline "
                                             "{deadline} of network batch {batch} ({name})", when=e.when,
                                             deadline=b.deadline, batch=b.id, name=b.name))


def _network_fits(net: NetworkZone, z: CloudZone) -> bool:
    if net is NetworkZone.internet:
        return z.network_zone is NetworkZone.internet or (
            z.network_zone is NetworkZone.gov_extranet and z.extranet_area is ExtranetArea.internet_access)
    if net is NetworkZone.gov_intranet:
        return z.network_zone is NetworkZone.gov_intranet
    # extranet, dedicated networks (moving to the extranet, H-NET-1) and isolated LANs
    return z.network_zone is NetworkZone.gov_extranet


def _network_need(net: NetworkZone) -> Msg:
    if net is NetworkZone.internet:
        return Msg("an {internet} zone or a {extranet} zone in the {area}", internet=NetworkZone.internet.zh,
                   extranet=NetworkZone.gov_extranet.zh, area=ExtranetArea.internet_access.zh)
    if net is NetworkZone.gov_intranet:
        return Msg("a {net} zone", net=NetworkZone.gov_intranet.zh)
    return Msg("a {net} zone", net=NetworkZone.gov_extranet.zh)


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
            ctx.add("H-TGT-1", s.id, Msg("strategy retain belongs in the plan's retained list, not in batch {batch}",
                                         batch=e.batch.id), pos=e.pos)
        if it.target_zone is not None and z is None:
            room = ctx.inv.machine_rooms.get(it.target_zone)
            if room is not None:
                ctx.add("H-ROOM-1", s.id, Msg("targets machine room {room} ({name}); systems move to cloud zones, "
                                              "never into a machine room", room=room.id, name=room.name), pos=e.pos)
            else:
                ctx.add("H-TGT-1", s.id, Msg("targets zone {zone}, which is not a cloud zone of the inventory",
                                             zone=it.target_zone), pos=e.pos)
        if it.strategy in PLACING and it.target_zone is None:
            ctx.add("H-TGT-1", s.id, Msg("strategy {strategy} needs a target zone", strategy=strategy_term(it.strategy)),
                    pos=e.pos)
        if it.strategy is Strategy.retire and s.lifecycle is not Lifecycle.zombie and (it.target_zone or it.servers):
            ctx.add("H-TGT-1", s.id, Msg("a retired system takes no target zone and no servers (has zone {zone}, "
                                         "{n} placements)", zone=it.target_zone, n=len(it.servers)), pos=e.pos)
        for p in it.servers:
            _check_placement(ctx, e, p, placed_by)
        if it.strategy in PLACING:
            missing = [x for x in s.servers if x not in by_group.get(it.move_group, set())]
            if missing:
                ctx.add("H-TGT-1", s.id, Msg("servers not placed: {servers}; every server of a {strategy} system is "
                                             "placed by its item or one of move group {group}",
                                             servers=", ".join(missing), strategy=strategy_term(it.strategy),
                                             group=it.move_group), pos=e.pos)


def _check_placement(ctx: _Context, e: _Entry, p: ServerPlacement, placed_by: dict[str, _Entry]) -> None:
    s, z = e.system, e.zone
    if p.server not in ctx.inv.servers:
        ctx.add("H-TGT-1", s.id, Msg("places server {server}, which is not in the inventory", server=p.server),
                pos=e.pos)
        return
    if p.server not in s.servers:
        owners = _listing(ctx.server_systems.get(p.server, [])) or Msg("no system")
        ctx.add("H-TGT-1", s.id, Msg("places server {server}, which belongs to {owners}, not to this system",
                                     server=p.server, owners=owners), pos=e.pos)
    first = placed_by.setdefault(p.server, e)
    if first is not e:
        ctx.add("H-TGT-1", s.id, Msg("places server {server} again (already placed by {system} in batch {batch}); "
                                     "a server moves once and counts once against capacity", server=p.server,
                                     system=first.system.id, batch=first.batch.id), pos=e.pos)
    if e.item.strategy in REBUILDING and p.image is None:
        ctx.add("H-TGT-1", s.id, Msg("server {server}: {strategy} builds on a target image, but none is given",
                                     server=p.server, strategy=strategy_term(e.item.strategy)), pos=e.pos)
    if z is None:
        return
    if p.flavor is not None:
        flavor = next((f for f in z.flavors if f.name == p.flavor), None)
        if flavor is None:
            offered = ", ".join(f.name for f in z.flavors) or "none"
            ctx.add("H-TGT-1", s.id, Msg("server {server}: flavor {flavor} is not offered by zone {zone} (offers: "
                                         "{offered})", server=p.server, flavor=p.flavor, zone=z.id, offered=offered),
                    pos=e.pos)
        elif flavor.vcpus < p.vcpus or flavor.ram_gb < p.ram_gb:
            ctx.add("H-TGT-1", s.id, Msg("server {server}: flavor {flavor} ({has}) is smaller than the placement "
                                         "({needs})", server=p.server, flavor=p.flavor,
                                         has=f"{flavor.vcpus} vCPU/{flavor.ram_gb:g} GB",
                                         needs=f"{p.vcpus} vCPU/{p.ram_gb:g} GB"), pos=e.pos)
    if p.image is not None and p.image.startswith(IMPORTED_IMAGE):
        if e.item.strategy is not Strategy.rehost:
            ctx.add("H-TGT-1", s.id, Msg("server {server}: {strategy} builds on a catalogue image of zone {zone}, "
                                         "not on an imported disk ({image})", server=p.server,
                                         strategy=strategy_term(e.item.strategy), zone=z.id, image=p.image), pos=e.pos)
    elif p.image is not None:
        image = next((i for i in z.images if i.name == p.image), None)
        if image is None:
            offered = ", ".join(i.name for i in z.images) or "none"
            ctx.add("H-TGT-1", s.id, Msg("server {server}: image {image} ({strategy}) is not offered by zone {zone} "
                                         "(offers: {offered})", server=p.server, image=p.image,
                                         strategy=strategy_term(e.item.strategy), zone=z.id, offered=offered),
                    pos=e.pos)
        elif image.cpu_arch is not z.cpu_arch:
            ctx.add("H-TGT-1", s.id, Msg("server {server}: image {image} is built for {arch} but zone {zone} runs "
                                         "{zone_arch}", server=p.server, image=p.image, arch=image.cpu_arch.value,
                                         zone=z.id, zone_arch=z.cpu_arch.value), pos=e.pos)


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
            for day, kind in ((room.lease_expiry, Msg("lease expiry", "rules:room")),
                              (room.closure_date, Msg("closure date", "rules:room"))):
                if day is not None and e.when > day:
                    ctx.add("H-ROOM-2", e.system.id, Msg("cutover {when} is after the {kind} {day} of machine room "
                                                         "{room} ({name}), where server {server} runs", when=e.when,
                                                         kind=kind, day=day, room=room.id, name=room.name,
                                                         server=srv.id), pos=e.pos)
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
            ctx.add("H-ZOMBIE-1", s.id, Msg("zombie system has strategy {strategy}; zombies are retired",
                                            strategy=strategy_term(it.strategy)))
        elif it.target_zone or it.servers:
            ctx.add("H-ZOMBIE-1", s.id, Msg("zombie system is retired but still takes zone {zone} and {n} server "
                                            "placements; no cloud capacity goes to a zombie", zone=it.target_zone,
                                            n=len(it.servers)))


@_check
def check_census(ctx: _Context) -> None:
    for e in ctx.entries:
        gaps = [f"{x.id} ({', '.join(x.incomplete)})" for sid in e.system.servers
                if (x := ctx.inv.servers.get(sid)) is not None and x.incomplete]
        if gaps:
            ctx.add("H-CENSUS-1", e.system.id, Msg("is scheduled ({strategy}) although the census of server(s) "
                                                   "{servers} is incomplete", strategy=strategy_term(e.item.strategy),
                                                   servers="; ".join(gaps)), pos=e.pos)


@_check
def check_verticals(ctx: _Context) -> None:
    for e in ctx.entries:
        s, it = e.system, e.item
        if not s.build_mode.is_vertical:
            continue
        doc_no = s.superior_approval.doc_no if s.superior_approval else None
        missing: list[Msg] = []
        if REQ_SUPERIOR_APPROVAL not in it.requires:
            missing.append(Msg("the item lacks the {req} prerequisite", req=_req(REQ_SUPERIOR_APPROVAL)))
        if not doc_no:
            missing.append(Msg("the inventory records no superior approval document number "
                               "(superior_approval.doc_no)"))
        if missing:
            ctx.add("H-VERT-1", s.id, Msg("{mode} system is in batch {batch} ({strategy}) but {missing}; verticals "
                                          "stay unless the superior department approves", mode=s.build_mode.zh,
                                          batch=e.batch.id, strategy=strategy_term(it.strategy),
                                          missing=_listing(missing, " and ", tr(", and ", "zh", ctx="rules:join"))))


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
                ctx.add("H-ARCH-2", s.id, Msg("rehost of minicomputer server(s) {servers}; minicomputers cannot be "
                                              "rehosted (replatform them)", servers=", ".join(mini)))
        if z is None or not _moving(e):
            continue
        # Hygon and Zhaoxin report x86_64: comparing architectures, not vendors, is exact.
        other = [f"{x.id} ({x.cpu_arch.value})" for x in servers if x.cpu_arch is not z.cpu_arch]
        if not other:
            continue
        if it.strategy is Strategy.rehost:
            ctx.add("H-ARCH-1", s.id, Msg("rehost onto zone {zone} ({arch}) of server(s) on another architecture: "
                                          "{servers}; changing architecture is a replatform with rebuilt artefacts",
                                          zone=z.id, arch=z.cpu_arch.value, servers=", ".join(other)))
        elif it.strategy in PLACING and REQ_REBUILD not in it.requires:
            ctx.add("H-ARCH-1", s.id, Msg("{strategy} onto zone {zone} ({arch}) moves server(s) {servers} across "
                                          "architectures without the {req} prerequisite",
                                          strategy=strategy_term(it.strategy), zone=z.id, arch=z.cpu_arch.value,
                                          servers=", ".join(other), req=_req(REQ_REBUILD)))


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
        why = Msg("prefer_domestic is off") if not ctx.th.prefer_domestic else \
            Msg("the policy names neither its department, its category nor a xinchuang share for it")
        ctx.add("H-ARCH-3", s.id, Msg("x86 system is rebuilt onto {arch} zone {zone} in batch {batch} ({strategy}) "
                                      "though {why} and x86 zone(s) {native} meet the hard rules for it; x86→ARM is a "
                                      "xinchuang decision of the policy, not a spill-over", arch=z.cpu_arch.value,
                                      zone=z.id, batch=e.batch.id, strategy=strategy_term(it.strategy), why=why,
                                      native=_listing([n.id for n in native[:3]])))


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
                    ctx.add("H-OS-1", s.id, Msg("server {server}: image {image} ({os}) is end-of-life since {eol}, on "
                                                "or before cutover {when}", server=p.server, image=p.image,
                                                os=f"{image.os_distribution.value} {image.os_version}", eol=eol,
                                                when=e.when))
        if it.strategy is Strategy.rehost and REQ_OS_MIGRATION not in it.requires:
            old = []
            for x in ctx.servers_of(e):
                eol = os_eol_date(x.os_distribution, x.os_version)
                if eol is not None and eol <= e.when:
                    old.append(f"{x.id} ({x.os_distribution.value} {x.os_version}, EOL {eol})")
            if old:
                ctx.add("H-OS-1", s.id, Msg("rehost of server(s) whose OS is end-of-life at cutover {when}: {servers}; "
                                            "the item lacks the {req} prerequisite", when=e.when,
                                            servers=", ".join(old), req=_req(REQ_OS_MIGRATION)))


# ---------------------------------------------------------------- dates: H-DATE-1, H-TKO-1, H-FRZ-1


@_check
def check_dates(ctx: _Context) -> None:
    for pos, b in enumerate(ctx.plan.batches):
        if b.start is None or b.end is None:
            ctx.add("H-DATE-1", None, Msg("batch {batch} has no start date", batch=b.id) if b.start is None
                    else Msg("batch {batch} has no end date", batch=b.id), pos=pos)
            continue
        if b.start > b.end:
            ctx.add("H-DATE-1", None, Msg("batch {batch} starts on {start}, after its end {end}", batch=b.id,
                                          start=b.start, end=b.end), pos=pos)
        if b.deadline is not None and b.end > b.deadline:
            ctx.add("H-DATE-1", None, Msg("batch {batch} ends on {end}, after its deadline {deadline}", batch=b.id,
                                          end=b.end, deadline=b.deadline), pos=pos)
    for e in ctx.entries:
        s, it, b = e.system, e.item, e.batch
        if it.cutover is None:
            ctx.add("H-DATE-1", s.id, Msg("has no cutover date in batch {batch}", batch=b.id))
        elif b.start is not None and b.end is not None and not b.start <= it.cutover <= b.end:
            ctx.add("H-DATE-1", s.id, Msg("cutover {cutover} lies outside batch {batch} ({start} – {end})",
                                          cutover=it.cutover, batch=b.id, start=b.start, end=b.end))
        bound = _binding_deadline(ctx, s)
        if bound is not None and e.when is not None and e.when > bound[0]:
            ctx.add("H-DATE-1", s.id, Msg("cutover {when} is after {deadline}, the deadline of {whose}", when=e.when,
                                          deadline=bound[0], whose=bound[1]))


def _binding_deadline(ctx: _Context, s: InformationSystem) -> tuple[date, Msg] | None:
    """The earliest migration deadline covering the system, or the policy's final deadline:
    (date, whose)."""
    if ctx.policy is None:
        return None
    best: tuple[date, Msg] | None = None
    for b in ctx.policy.batches:
        if b.kind is not BatchKind.migration or b.deadline is None:
            continue
        if (not b.scope_orgs and not b.scope_systems) or ctx.in_scope(b, s):
            if best is None or b.deadline < best[0]:
                best = (b.deadline, Msg("policy batch {batch} ({name})", batch=b.id, name=b.name))
    final = ctx.policy.final_deadline
    if final is not None and (best is None or final < best[0]):
        best = (final, Msg("policy {policy} (final deadline)", policy=ctx.policy.id))
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
            ctx.add("H-TKO-1", s.id, Msg("takeover ({which}) is dated {day}, after cutover {when}; takeover "
                                         "precedes migration", which=found[1], day=found[0], when=e.when))


def _takeover_date(ctx: _Context, s: InformationSystem, by_system: dict,
                   by_dept: dict) -> tuple[date, Msg] | None:
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
            return d, (Msg("record {record}, done", record=t.id) if t.done_date
                       else Msg("record {record}, planned", record=t.id))
    if ctx.policy is None:
        return None
    batches = [b for b in ctx.policy.batches
               if b.kind is BatchKind.takeover and b.deadline is not None and ctx.in_scope(b, s)]
    if not batches:
        return None
    b = min(batches, key=lambda b: (b.deadline, b.id))
    return b.deadline, Msg("policy takeover batch {batch} ({name}) deadline", batch=b.id, name=b.name)


@_check
def check_freeze(ctx: _Context) -> None:
    windows = sorted(ctx.inv.freeze_windows.values(), key=lambda w: (w.start, w.id))
    for e in ctx.entries:
        for w in windows:
            if e.when is not None and w.start <= e.when <= w.end and _freeze_applies(ctx, w, e.system):
                ctx.add("H-FRZ-1", e.system.id, Msg("cutover {when} falls in freeze window {window} {name} ({start} – "
                                                    "{end}, scope {scope})", when=e.when, window=w.id, name=w.name,
                                                    start=w.start, end=w.end, scope=w.scope.value))


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
            grown = Msg("; with the expansions dated up to {when}", when=e.when) if added else ""
            ctx.add("H-CAP-1", e.system.id, Msg("zone {zone} capacity exceeded in batch {batch}: {over} (cumulative "
                                                "over batches {span}{grown})", zone=z.id, batch=batch.id,
                                                over=", ".join(over), span=span, grown=grown), pos=pos)


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
            spread = _listing([Msg("{system} in {batch}", system=e.system.id, batch=e.batch.id) for e in members])
            for e in members:
                if e.batch.id != head:
                    ctx.add("H-DEP-2", e.system.id, Msg("move group {group} is split across batches {batches} ({spread}); "
                                                        "a move group cuts over in one batch", group=mg,
                                                        batches=_listing(batches), spread=spread), pos=e.pos)
            continue
        dates = sorted({e.item.cutover for e in members if e.item.cutover is not None})
        if len(dates) > 1:
            spread = ", ".join(f"{e.system.id} {e.item.cutover}" for e in members)
            for e in members:
                if e.item.cutover != dates[0]:
                    ctx.add("H-DEP-2", e.system.id, Msg("move group {group} has several cutover dates ({spread}); a "
                                                        "move group cuts over together", group=mg, spread=spread),
                            pos=e.pos)


@_check
def check_coupling(ctx: _Context) -> None:
    for (a, b), reasons in sorted(_couplings(ctx).items()):
        ea, eb = ctx.first.get(a), ctx.first.get(b)
        why = _listing(reasons, "; ", tr("; ", "zh", ctx="list"))
        if _carries(ea) and _carries(eb):
            assert ea is not None and eb is not None
            if ea.item.move_group != eb.item.move_group:
                x, y = sorted((ea, eb), key=lambda e: (e.pos, e.system.id))
                ctx.add("H-DEP-1", x.system.id, Msg("is coupled with {other} ({why}) but moves {where} while {other} "
                                                    "moves {other_where}; coupled systems share a move group",
                                                    other=y.system.id, why=why, where=ctx.where(x.system.id),
                                                    other_where=ctx.where(y.system.id)))
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
            ctx.add("H-DEP-1", mover.system.id, Msg("moves {where} while {other}, coupled with it ({why}), is "
                                                    "{other_where}; coupled systems move together unless a bridge is "
                                                    "declared", where=ctx.where(mover.system.id), other=other, why=why,
                                                    other_where=ctx.where(other)))


def _couplings(ctx: _Context) -> dict[tuple[str, str], list[Msg]]:
    """Pairs of systems that must move together, with why. Star pairs around the first member
    suffice: any member apart from the first is caught."""
    if ctx._couplings is not None:
        return ctx._couplings
    inv = ctx.inv
    bridged = {frozenset((d.from_, d.to)) for d in inv.dependencies if d.bridge}
    pairs: dict[tuple[str, str], list[Msg]] = {}

    def couple(members: list[str], reason: Msg, bridgeable: bool) -> None:
        members = sorted(dict.fromkeys(m for m in members if m in inv.systems))
        for other in members[1:]:
            key = (members[0], other)
            if bridgeable and frozenset(key) in bridged:
                continue
            pairs.setdefault(key, []).append(reason)

    for db in sorted(inv.databases.values(), key=lambda d: d.id):
        couple(list(db.used_by), Msg("shared database {db}", db=db.id), True)
    for srv, systems in sorted(ctx.server_systems.items()):
        couple(systems, Msg("shared server {server}", server=srv), False)
    for d in inv.dependencies:
        if d.bridge or not (d.latency_sensitive or d.type is DepType.shared_db):
            continue
        link = f"{d.from_}->{d.to}"
        couple([d.from_, d.to], Msg("latency-sensitive {type} dependency {link}", type=d.type.value, link=link)
               if d.latency_sensitive else Msg("{type} dependency {link}", type=d.type.value, link=link), True)
    manual: dict[str, list[str]] = {}
    for s in inv.systems.values():
        if s.move_group:
            manual.setdefault(s.move_group, []).append(s.id)
    for mg, members in sorted(manual.items()):
        couple(members, Msg("manual move group {group}", group=mg), False)
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
            ctx.add("H-DEP-3", d.from_, Msg("calls {callee} (sync_api) but moves in batch {batch}, before it (batch "
                                            "{callee_batch}); a caller moves with or after what it calls unless a "
                                            "bridge is declared", callee=d.to, batch=caller.batch.id,
                                            callee_batch=callee.batch.id))
