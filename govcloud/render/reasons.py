"""Plan reasons as codes with parameters, worded here in Chinese (default) or English.

The planner stores a reason as ``"<code> <json object>"`` (e.g.
``H-DATE-1.takeover {"group": "mg-a", "deadline": "2019-08-31", …}``): plan.yaml stays
language-neutral and every reader (`plan explain`, plan.md, `plan diff`) words it in the
reader's language. A reason that is not coded (older plans, hand edits) is shown as written.
Pure: no I/O.
"""

from __future__ import annotations

import functools
import json

from typing import Any

from govcloud.model.enums import (
    BuildMode, CpuArch, DbEngine, DepType, DrMode, LabeledEnum, Lifecycle, MlpsStatus, NetworkZone, OsDistribution,
)
from govcloud.model.plan import coded as code, parse_coded  # noqa: F401  (code re-exported)
from govcloud.base.i18n import N_, tr


# code → its English text (translated with tr); parameters in {braces}; optional ones are pre-formatted by _render
TEXT: dict[str, str] = {
    # ------------------------------------------------ strategy: architecture and OS
    "H-ARCH.mixed": N_("mixed architectures ({arches}): consolidate onto {target}, replatform rebuilding {rebuild} "
                     "server(s)"),
    "XC.org": N_("Xinchuang decision: the policy names department {org} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.category": N_("Xinchuang decision: the policy names system category {category} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.share": N_("Xinchuang decision: the policy moves {pct}% of adapted x86 systems onto Xinchuang pools (this one is "
                 "{rank} of {quota})"),
    "XC.windows": N_("the policy asks for Xinchuang, but a Windows system has no domestic image: the architecture is kept"),
    "ARCH.native": N_("native architecture {arch} kept (a pool of it exists; the policy asks for no Xinchuang move)"),
    "ARCH.replatform": N_("no {arch} pool meets the hard rules for a rehost → replatform onto a pool that exists "
                        "(rebuild)"),
    "ARCH.no_native": N_("no {arch} pool meets the hard rules ({why}) → {zone} ({target}), rebuild for the new "
                       "architecture"),
    "XC.no_pool": N_("the policy asks for Xinchuang, but no Xinchuang pool meets the hard rules ({why}) → native {arch} kept"),
    "XC.pool": N_("Xinchuang pool {zone} ({target}){rebuild}"),
    "OS.keep": N_("OS family {os} kept: image {image}"),
    "OS.policy": N_("the policy's target OS {os}: image {image}"),
    "OS.xc": N_("Xinchuang decision: {os} becomes the domestic image {image}"),
    "OS.eol": N_("the OS {os} is end-of-life or has no image here → {image}"),
    # ------------------------------------------------ strategy
    "H-VERT-1.retain": N_("H-VERT-1: {mode} system of {authority}; no recorded superior approval to migrate or retire → "
                        "left to its owner"),
    "H-VERT-1.approved": N_("H-VERT-1: vertical system migrates under the "
                          "superior approval {doc}"),
    "H-ZOMBIE-1.retire": N_("H-ZOMBIE-1: lifecycle {lifecycle} ({why}) → retire; no cloud capacity is allocated"),
    "SCOPE.out": N_("owner {org} is outside policy {policy}'s scope"),
    "H-SEC-1.stay": N_("H-SEC-1: classified and no intranet cloud zone accepts classified systems → stays"),
    "H-SEC-1.relocate": N_("H-SEC-1: classified systems never go to the government cloud; relocate to the intranet "
                         "cloud ({zones})"),
    "H-SEC-2.fenbao": N_("H-SEC-2: classified-system protection (fenbao) testing, approval and filing must finish before go-live"),
    "LIFE.not_in_service": N_("lifecycle {lifecycle}: deploy it directly on the cloud when built"),
    "H-MLPS-3.regrade": N_("H-MLPS-3: level {level} is below the policy minimum {minimum}: re-grade and assess before "
                         "go-live"),
    "H-MLPS-2.assess": N_("H-MLPS-2: level {level} and MLPS status {status}: grading, filing and assessment before "
                        "go-live"),
    "STRAT.repurchase": N_("function covered by the unified platform {platform} → replace (repurchase)"),
    "STRAT.refactor": N_("Xinchuang adaptation assessed infeasible → re-architect (refactor)"),
    "STRAT.rehost": N_("supported OS on a supported architecture → rehost the existing machines"),
    "H-ARCH-2.mini": N_("H-ARCH-2: minicomputer(s) {servers} cannot be rehosted → replatform, rebuilt on the target "
                      "pool's architecture (zone below)"),
    "H-OS-1.eol": N_("H-OS-1: {n} server(s) run an OS that is end-of-life by {horizon} (e.g. {server}: {os}) → "
                   "replatform onto a supported image"),
    "H-OS-1.at_cutover": N_("H-OS-1: an OS is end-of-life by the cutover {cutover}: migrate the OS"),
    # ------------------------------------------------ move groups
    "CPL.db": N_("share database {db} ({engine})"),
    "CPL.server": N_("share server {server}"),
    "CPL.latency": N_("latency-sensitive {type} link"),
    "CPL.shared_db": N_("shared-database dependency"),
    "CPL.manual": N_("manual move group {name}"),
    "CPL.cycle": N_("mutual synchronous calls (cycle)"),
    "GRP.with": N_("moves with {peers}"),
    "GRP.coupling": N_("{members}: {why}"),
    "GRP.alone": N_("no database, server or latency-sensitive link ties it to another moving system"),
    "GRP.arch_differs": N_("the architecture or the OS differs"),
    "H-DEP-1.stays": N_("H-DEP-1: move group {group}: {why} with {other}, which stays ({code}); declare a bridge on the "
                      "dependency or move them together"),
    "H-CENSUS-1.incomplete": N_("H-CENSUS-1: server census incomplete ({servers}): no size or image can be chosen; "
                              "run `govcloud inventory discover` to complete it, then generate the plan again"),
    "H-DEP-2.stuck": N_("H-DEP-2: moves together with {first} (group {group}), which cannot move"),
    "H-DEP-1.partner": N_("H-DEP-1: move group {group} is coupled with {partners} (group {partner_group}), which cannot "
                        "be retired or replaced in time: {why}"),
    "WHO.takeover": N_("{name} ({org}, {system})"),
    "WHO.deadline": N_("{system}: {source}"),
    "ROOM.deadline": N_("the {kind} of machine room {room}"),
    # ------------------------------------------------ batches
    "BATCH.cutover": N_("{batch}: cutover {cutover} (Saturday, {window})"),
    "BATCH.takeover": N_("takeover ready from {ready}"),
    "BATCH.no_takeover": N_("no takeover constraint"),
    "BATCH.deadline": N_("deadline {deadline} ({source})"),
    "BATCH.no_deadline": N_("no deadline"),
    "BATCH.after": N_("after the groups it calls synchronously: {callees}"),
    "PRIO": N_("priority {score} = urgency {urgency} + importance {importance} − difficulty {difficulty}"),
    # ------------------------------------------------ zones and images
    "ZONE.chosen": N_("{zone} ({name}): network {net}, MLPS level {zone_level} ≥ {level}, {arch}{xc_note}, DR {dr}"),
    "ZONE.reject": N_("{zone}: {why}"),
    "ZONE.none": N_("no cloud zone exists"),
    "H-CN-1.abroad": N_("H-CN-1: not located and operated in China"),
    "H-SEC-1.net": N_("H-SEC-1/H-NET: zone is on {zone_net}, system is {net}{classified_note}"),
    "H-MLPS-1.level": N_("H-MLPS-1: zone level {zone_level} < system level {level}"),
    "H-MLPS-3.zone": N_("H-MLPS-3: zone level {zone_level} < policy minimum {minimum}"),
    "H-MLPS-3.extranet": N_("H-MLPS-3: extranet zone level {zone_level} < policy extranet level {minimum}"),
    "H-MLPS-1.dedicated": N_("H-MLPS-1: a level-4 system needs a dedicated pool"),
    "H-DR-1.level3": N_("H-DR-1: level {level} needs real-time off-site backup with HA, zone has {dr}"),
    "H-DR-1.level2": N_("H-DR-1: level 2 needs at least scheduled off-site backup"),
    "H-ARCH-1.rehost": N_("H-ARCH-1: rehost keeps the architecture ({arches}), zone is {zone_arch}"),
    "H-ARCH-1.rebuild": N_("H-ARCH-1: architecture changes ({arches} → {zone_arch}): rebuild"),
    "H-CAP-1.left": N_("H-CAP-1 capacity left {vcpus} vCPU / {ram} GB / {storage} GB storage, needs "
                     "{need_vcpus} / {need_ram} / {need_storage}"),
    "FLAVOR.none": N_("no flavor with ≥{vcpus} vCPU and ≥{ram} GB for "
                    "{server}"),
    "IMG.missing": N_("{why} for {server} ({os})"),
    "IMG.import": N_("rehost imports the machine's own disk"),
    "IMG.windows": N_("newest supported Windows Server image {image}"),
    "IMG.no_windows": N_("no supported Windows Server image in the zone"),
    "IMG.no_linux": N_("no supported Linux image in the zone"),
    # ------------------------------------------------ group placement
    "GRP.same_zone": N_("same zone as its move group {group}"),
    "GRP.same_platform": N_("same platform {platform} as its move group {group} (zone {zone} cannot take it: {why})"),
    "GRP.other_platform": N_("neither its move group {group}'s zone {zone} nor platform {platform} can take it ({why})"),
    # ------------------------------------------------ pilot
    "PILOT.ok": N_("pilot: {servers} server(s), low risk (not classified, not level 4, no minicomputer, no "
                 "end-of-life OS, one department)"),
    # ------------------------------------------------ scheduling
    "H-DATE-1.takeover": N_("H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: the takeover of "
        "{takeover_of} is due only {ready}, leaving no cutover day before it — the policy's milestones conflict "
        "(takeover precedes migration, H-TKO-1); bring the takeover forward or move the deadline"),
    "H-DATE-1.callee": N_("H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: it calls {callee} "
        "synchronously, which cuts over only on {when}; declare a bridge or bring the callee forward"),
    "H-DATE-1.throughput": N_("H-DATE-1: move group {group} ({servers} servers) cannot meet the deadline {deadline} ({deadline_of}): "
        "{when} at {per_week} servers/week (takeover ready {ready}); raise servers_per_week or move the deadline"),
    "H-CAP-2.batch": N_("move group {group} of {servers} servers exceeds a batch's throughput ({cap} = {per_week}/week × "
        "{weeks} weeks); raise servers_per_week or split it with a declared bridge"),
    "NOZONE": N_("move group {group}: no zone can take {system}: {why}"),
    "H-DEP-2.member": N_("moves together with {first} (group {group}): {why}"),
    "H-ROOM-2.lease": N_("cannot leave machine room {room} before its {kind} {date}: {why}"),
    "SCHED.windows": N_("not scheduled within {n} batch windows"),
    # ------------------------------------------------ lower bound
    "LB": N_("throughput: {moved} servers moved{actions} at {per_week}/week in {weeks}-week batches after a pilot "
           "of ≤{pilot} → ≥{by_tp}; takeover-to-deadline windows need ≥{by_time} distinct cutover dates"
           "{expansion}; synchronous dependencies may share a batch → ≥1"),
}

# words the parameters use (translated to the reader's language)
_WORDS = {
    "lease_expiry": N_("lease expiry", ctx="reason"), "closure_date": N_("closure date", ctx="reason"),
    "final_deadline": N_("final deadline", ctx="reason"), "no_room": N_("no batch before it has room"),
}
# parameters the planner stores worded in both languages: `<name>` Chinese, `<name>_en` English
_WORDED = ("when", "actions", "expansion")


def parse(reason: str) -> tuple[str, dict[str, Any]] | None:
    parsed = parse_coded(reason)
    return parsed if parsed and parsed[0] in TEXT else None


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def render(reason: str, lang: str = "zh") -> str:
    """One reason in the reader's language; an uncoded reason as written."""
    parsed = parse(reason)
    if parsed is None:
        return reason
    return _render(parsed[0], parsed[1], lang)


# parameters that carry an enum key: Chinese text shows the enum's label (政务外网, not gov_extranet)
_ENUM_PARAMS: dict[str, type[LabeledEnum]] = {
    "net": NetworkZone, "zone_net": NetworkZone, "mode": BuildMode, "lifecycle": Lifecycle, "status": MlpsStatus,
    "engine": DbEngine, "type": DepType, "os": OsDistribution, "dr": DrMode, "arch": CpuArch, "zone_arch": CpuArch,
    "arches": CpuArch, "target": CpuArch,
}


def _labelled(k: str, v: Any, lang: str) -> Any:
    enum_cls = _ENUM_PARAMS.get(k)
    if enum_cls is None:
        return v
    members = {m.value: m for m in enum_cls}
    if isinstance(v, str) and v in members:
        return members[v].label(lang)
    if isinstance(v, list) and v and all(isinstance(x, str) and x in members for x in v):
        return [members[x].label(lang) for x in v]
    return v


@functools.lru_cache(maxsize=None)
def _words(lang: str) -> dict[str, str]:
    return {k: tr(v, lang) for k, v in _WORDS.items()}


def _render(key: str, params: dict[str, Any], lang: str) -> str:
    words = _words(lang)
    values = _Default({k: _value(_labelled(k, v, lang), lang, words) for k, v in params.items()})
    if lang == "en":
        for k in _WORDED:
            if k + "_en" in values:
                values[k] = values[k + "_en"]
    values.setdefault("xc_note", tr(", Xinchuang", lang) if params.get("xc") else "")
    values.setdefault("classified_note", tr(" and classified", lang) if params.get("classified") else "")
    try:
        return tr(TEXT[key], lang).format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return key + " " + json.dumps(params, ensure_ascii=False)


def _value(v: Any, lang: str, words: dict[str, str]) -> Any:
    if isinstance(v, list):
        return tr("; ", lang).join(str(_value(x, lang, words)) for x in v) or "-"
    if isinstance(v, dict) and v.get("@") in TEXT:
        return _render(v["@"], {k: x for k, x in v.items() if k != "@"}, lang)
    if isinstance(v, str):
        return render(v, lang) if parse(v) else words.get(v, v)
    return v


def render_all(reasons, lang: str = "zh") -> list[str]:
    return [render(r, lang) for r in reasons]


OBJECTIVE = N_("planning objective (in order, README \"Planning objective\"): 1. hard rules 2. deadlines and machine-room "
               "lease expiries/closures 3. risk (low-risk pilot, native architecture and OS kept, takeover before work, "
               "latency-sensitive partners in one pool) 4. fewest batches")


def batch_name(name: str, batch_id: str, pilot: bool, lang: str) -> str:
    """A batch's name in the reader's language (plan.yaml keeps the Chinese one)."""
    if lang != "en":
        return name
    return "pilot" if pilot else f"batch {batch_id[1:].lstrip('0') or '0'}"
