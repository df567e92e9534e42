"""Plan reasons as codes with parameters, worded here in Chinese (default) or English.

The planner stores a reason as ``"<code> <json object>"`` (e.g.
``H-DATE-1.takeover {"group": "mg-a", "deadline": "2019-08-31", …}``): plan.yaml stays
language-neutral and every reader (`plan explain`, plan.md, `plan diff`) words it in the
reader's language. A reason that is not coded (older plans, hand edits) is shown as written.
Pure: no I/O.
"""

from __future__ import annotations

import json

from typing import Any

from govcloud.model.enums import (
    BuildMode, CpuArch, DbEngine, DepType, DrMode, LabeledEnum, Lifecycle, MlpsStatus, NetworkZone, OsDistribution,
)
from govcloud.model.plan import coded as code, parse_coded  # noqa: F401  (code re-exported)
from govcloud.base.i18n import zh_en


# code → (zh, en); parameters in {braces}; optional ones are pre-formatted by _params
TEXT: dict[str, tuple[str, str]] = {
    # ------------------------------------------------ strategy: architecture and OS
    "H-ARCH.mixed": zh_en("mixed architectures ({arches}): consolidate onto {target}, replatform rebuilding {rebuild} "
                     "server(s)"),
    "XC.org": zh_en("Xinchuang decision: the policy names department {org} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.category": zh_en("Xinchuang decision: the policy names system category {category} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.share": zh_en("Xinchuang decision: the policy moves {pct}% of adapted x86 systems onto Xinchuang pools (this one is "
                 "{rank} of {quota})"),
    "XC.windows": zh_en("the policy asks for Xinchuang, but a Windows system has no domestic image: the architecture is kept"),
    "ARCH.native": zh_en("native architecture {arch} kept (a pool of it exists; the policy asks for no Xinchuang move)"),
    "ARCH.replatform": zh_en("no {arch} pool meets the hard rules for a rehost → replatform onto a pool that exists "
                        "(rebuild)"),
    "ARCH.no_native": zh_en("no {arch} pool meets the hard rules ({why}) → {zone} ({target}), rebuild for the new "
                       "architecture"),
    "XC.no_pool": zh_en("the policy asks for Xinchuang, but no Xinchuang pool meets the hard rules ({why}) → native {arch} kept"),
    "XC.pool": zh_en("Xinchuang pool {zone} ({target}){rebuild}"),
    "OS.keep": zh_en("OS family {os} kept: image {image}"),
    "OS.policy": zh_en("the policy's target OS {os}: image {image}"),
    "OS.xc": zh_en("Xinchuang decision: {os} becomes the domestic image {image}"),
    "OS.eol": zh_en("the OS {os} is end-of-life or has no image here → {image}"),
    # ------------------------------------------------ strategy
    "H-VERT-1.retain": zh_en("H-VERT-1: {mode} system of {authority}; no recorded superior approval to migrate or retire → "
                        "left to its owner"),
    "H-VERT-1.approved": zh_en("H-VERT-1: vertical system migrates under the "
                          "superior approval {doc}"),
    "H-ZOMBIE-1.retire": zh_en("H-ZOMBIE-1: lifecycle {lifecycle} ({why}) → retire; no cloud capacity is allocated"),
    "SCOPE.out": zh_en("owner {org} is outside policy {policy}'s scope"),
    "H-SEC-1.stay": zh_en("H-SEC-1: classified and no intranet cloud zone accepts classified systems → stays"),
    "H-SEC-1.relocate": zh_en("H-SEC-1: classified systems never go to the government cloud; relocate to the intranet "
                         "cloud ({zones})"),
    "H-SEC-2.fenbao": zh_en("H-SEC-2: classified-system protection (fenbao) testing, approval and filing must finish before go-live"),
    "LIFE.not_in_service": zh_en("lifecycle {lifecycle}: deploy it directly on the cloud when built"),
    "H-MLPS-3.regrade": zh_en("H-MLPS-3: level {level} is below the policy minimum {minimum}: re-grade and assess before "
                         "go-live"),
    "H-MLPS-2.assess": zh_en("H-MLPS-2: level {level} and MLPS status {status}: grading, filing and assessment before "
                        "go-live"),
    "STRAT.repurchase": zh_en("function covered by the unified platform {platform} → replace (repurchase)"),
    "STRAT.refactor": zh_en("Xinchuang adaptation assessed infeasible → re-architect (refactor)"),
    "STRAT.rehost": zh_en("supported OS on a supported architecture → rehost the existing machines"),
    "H-ARCH-2.mini": zh_en("H-ARCH-2: minicomputer(s) {servers} cannot be rehosted → replatform, rebuilt on the target "
                      "pool's architecture (zone below)"),
    "H-OS-1.eol": zh_en("H-OS-1: {n} server(s) run an OS that is end-of-life by {horizon} (e.g. {server}: {os}) → "
                   "replatform onto a supported image"),
    "H-OS-1.at_cutover": zh_en("H-OS-1: an OS is end-of-life by the cutover {cutover}: migrate the OS"),
    # ------------------------------------------------ move groups
    "CPL.db": zh_en("share database {db} ({engine})"),
    "CPL.server": zh_en("share server {server}"),
    "CPL.latency": zh_en("latency-sensitive {type} link"),
    "CPL.shared_db": zh_en("shared-database dependency"),
    "CPL.manual": zh_en("manual move group {name}"),
    "CPL.cycle": zh_en("mutual synchronous calls (cycle)"),
    "GRP.with": zh_en("moves with {peers}"),
    "GRP.coupling": zh_en("{members}: {why}"),
    "GRP.alone": zh_en("no database, server or latency-sensitive link ties it to another moving system"),
    "GRP.arch_differs": zh_en("the architecture or the OS differs"),
    "H-DEP-1.stays": zh_en("H-DEP-1: move group {group}: {why} with {other}, which stays ({code}); declare a bridge on the "
                      "dependency or move them together"),
    "H-CENSUS-1.incomplete": zh_en("H-CENSUS-1: server census incomplete ({servers}): no size or image can be chosen; "
                              "run `govcloud inventory discover` to complete it, then generate the plan again"),
    "H-DEP-2.stuck": zh_en("H-DEP-2: moves together with {first} (group {group}), which cannot move"),
    "H-DEP-1.partner": zh_en("H-DEP-1: move group {group} is coupled with {partners} (group {partner_group}), which cannot "
                        "be retired or replaced in time: {why}"),
    "WHO.takeover": zh_en("{name} ({org}, {system})"),
    "WHO.deadline": zh_en("{system}: {source}"),
    "ROOM.deadline": zh_en("the {kind_en} of machine room {room}"),
    # ------------------------------------------------ batches
    "BATCH.cutover": zh_en("{batch}: cutover {cutover} (Saturday, {window})"),
    "BATCH.takeover": zh_en("takeover ready from {ready}"),
    "BATCH.no_takeover": zh_en("no takeover constraint"),
    "BATCH.deadline": zh_en("deadline {deadline} ({source})"),
    "BATCH.no_deadline": zh_en("no deadline"),
    "BATCH.after": zh_en("after the groups it calls synchronously: {callees}"),
    "PRIO": zh_en("priority {score} = urgency {urgency} + importance {importance} − difficulty {difficulty}"),
    # ------------------------------------------------ zones and images
    "ZONE.chosen": zh_en("{zone} ({name}): network {net}, MLPS level {zone_level} ≥ {level}, {arch}{xc_en}, DR {dr}"),
    "ZONE.reject": zh_en("{zone}: {why}"),
    "ZONE.none": zh_en("no cloud zone exists"),
    "H-CN-1.abroad": zh_en("H-CN-1: not located and operated in China"),
    "H-SEC-1.net": zh_en("H-SEC-1/H-NET: zone is on {zone_net}, system is {net}{classified_en}"),
    "H-MLPS-1.level": zh_en("H-MLPS-1: zone level {zone_level} < system level {level}"),
    "H-MLPS-3.zone": zh_en("H-MLPS-3: zone level {zone_level} < policy minimum {minimum}"),
    "H-MLPS-3.extranet": zh_en("H-MLPS-3: extranet zone level {zone_level} < policy extranet level {minimum}"),
    "H-MLPS-1.dedicated": zh_en("H-MLPS-1: a level-4 system needs a dedicated pool"),
    "H-DR-1.level3": zh_en("H-DR-1: level {level} needs real-time off-site backup with HA, zone has {dr}"),
    "H-DR-1.level2": zh_en("H-DR-1: level 2 needs at least scheduled off-site backup"),
    "H-ARCH-1.rehost": zh_en("H-ARCH-1: rehost keeps the architecture ({arches}), zone is {zone_arch}"),
    "H-ARCH-1.rebuild": zh_en("H-ARCH-1: architecture changes ({arches} → {zone_arch}): rebuild"),
    "H-CAP-1.left": zh_en("H-CAP-1 capacity left {vcpus} vCPU / {ram} GB / {storage} GB storage, needs "
                     "{need_vcpus} / {need_ram} / {need_storage}"),
    "FLAVOR.none": zh_en("no flavor with ≥{vcpus} vCPU and ≥{ram} GB for "
                    "{server}"),
    "IMG.missing": zh_en("{why} for {server} ({os})"),
    "IMG.import": zh_en("rehost imports the machine's own disk"),
    "IMG.windows": zh_en("newest supported Windows Server image {image}"),
    "IMG.no_windows": zh_en("no supported Windows Server image in the zone"),
    "IMG.no_linux": zh_en("no supported Linux image in the zone"),
    # ------------------------------------------------ group placement
    "GRP.same_zone": zh_en("same zone as its move group {group}"),
    "GRP.same_platform": zh_en("same platform {platform} as its move group {group} (zone {zone} cannot take it: {why})"),
    "GRP.other_platform": zh_en("neither its move group {group}'s zone {zone} nor platform {platform} can take it ({why})"),
    # ------------------------------------------------ pilot
    "PILOT.ok": zh_en("pilot: {servers} server(s), low risk (not classified, not level 4, no minicomputer, no "
                 "end-of-life OS, one department)"),
    # ------------------------------------------------ scheduling
    "H-DATE-1.takeover": zh_en("H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: the takeover of "
        "{takeover_of} is due only {ready}, leaving no cutover day before it — the policy's milestones conflict "
        "(takeover precedes migration, H-TKO-1); bring the takeover forward or move the deadline"),
    "H-DATE-1.callee": zh_en("H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: it calls {callee} "
        "synchronously, which cuts over only on {when}; declare a bridge or bring the callee forward"),
    "H-DATE-1.throughput": zh_en("H-DATE-1: move group {group} ({servers} servers) cannot meet the deadline {deadline} ({deadline_of}): "
        "{when_en} at {per_week} servers/week (takeover ready {ready}); raise servers_per_week or move the deadline"),
    "H-CAP-2.batch": zh_en("move group {group} of {servers} servers exceeds a batch's throughput ({cap} = {per_week}/week × "
        "{weeks} weeks); raise servers_per_week or split it with a declared bridge"),
    "NOZONE": zh_en("move group {group}: no zone can take {system}: {why}"),
    "H-DEP-2.member": zh_en("moves together with {first} (group {group}): {why}"),
    "H-ROOM-2.lease": zh_en("cannot leave machine room {room} before its {kind_en} {date}: {why}"),
    "SCHED.windows": zh_en("not scheduled within {n} batch windows"),
    # ------------------------------------------------ lower bound
    "LB": zh_en("throughput: {moved} servers moved{actions_en} at {per_week}/week in {weeks}-week batches after a pilot "
           "of ≤{pilot} → ≥{by_tp}; takeover-to-deadline windows need ≥{by_time} distinct cutover dates"
           "{expansion_en}; synchronous dependencies may share a batch → ≥1"),
}

# words the parameters use, per language
_WORDS = {
    "zh": {"lease_expiry": "租约到期日", "closure_date": "关停日期", "final_deadline": "最终期限",
           "no_room": "期限前没有批次有空余能力"},
    "en": {"lease_expiry": "lease expiry", "closure_date": "closure date", "final_deadline": "final deadline",
           "no_room": "no batch before it has room"},
}


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


def _render(key: str, params: dict[str, Any], lang: str) -> str:
    words = _WORDS.get(lang, _WORDS["zh"])
    values = _Default({k: _value(_labelled(k, v, lang), lang, words) for k, v in params.items()})
    if isinstance(params.get("kind"), str):
        values.setdefault("kind_en", _WORDS["en"].get(params["kind"], params["kind"]))
    values.setdefault("xc_zh", "，信创" if params.get("xc") else "")
    values.setdefault("xc_en", ", 信创" if params.get("xc") else "")
    values.setdefault("classified_zh", "，且为涉密系统" if params.get("classified") else "")
    values.setdefault("classified_en", " and classified" if params.get("classified") else "")
    zh, en = TEXT[key]
    try:
        return (en if lang == "en" else zh).format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return key + " " + json.dumps(params, ensure_ascii=False)


def _value(v: Any, lang: str, words: dict[str, str]) -> Any:
    if isinstance(v, list):
        return ("；" if lang != "en" else "; ").join(str(_value(x, lang, words)) for x in v) or "-"
    if isinstance(v, dict) and v.get("@") in TEXT:
        return _render(v["@"], {k: x for k, x in v.items() if k != "@"}, lang)
    if isinstance(v, str):
        return render(v, lang) if parse(v) else words.get(v, v)
    return v


def render_all(reasons, lang: str = "zh") -> list[str]:
    return [render(r, lang) for r in reasons]


OBJECTIVE = {
    "zh": "规划目标（按优先级，见 README「Planning objective」）：① 硬性规则 ② 期限与机房租约到期/关停日期 "
          "③ 风险（低风险试点、保持原架构和操作系统、先接管后迁移、时延敏感系统同池） ④ 批次最少",
    "en": "planning objective (in order, README \"Planning objective\"): 1. hard rules 2. deadlines and machine-room "
          "lease expiries/closures 3. risk (low-risk pilot, native architecture and OS kept, takeover before work, "
          "latency-sensitive partners in one pool) 4. fewest batches",
}


def batch_name(name: str, batch_id: str, pilot: bool, lang: str) -> str:
    """A batch's name in the reader's language (plan.yaml keeps the Chinese one)."""
    if lang != "en":
        return name
    return "pilot" if pilot else f"batch {batch_id[1:].lstrip('0') or '0'}"
