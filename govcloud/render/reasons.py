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


# code → (zh, en); parameters in {braces}; optional ones are pre-formatted by _params
TEXT: dict[str, tuple[str, str]] = {
    # ------------------------------------------------ strategy: architecture and OS
    "H-ARCH.mixed": ("服务器架构混合（{arches}）：统一到 {target}，按平台迁移（replatform）重建 {rebuild} 台",
                     "mixed architectures ({arches}): consolidate onto {target}, replatform rebuilding {rebuild} "
                     "server(s)"),
    "XC.org": ("信创决定：策略将部门 {org} 列为信创迁移部门 → 迁入信创资源池",
               "Xinchuang decision: the policy names department {org} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.category": ("信创决定：策略将系统类型“{category}”列为信创迁移 → 迁入信创资源池",
                    "Xinchuang decision: the policy names system category {category} for Xinchuang pools → onto a Xinchuang pool"),
    "XC.share": ("信创决定：策略要求 {pct}% 的已适配x86系统迁入信创资源池（本系统为第 {rank}/{quota} 个）",
                 "Xinchuang decision: the policy moves {pct}% of adapted x86 systems onto Xinchuang pools (this one is "
                 "{rank} of {quota})"),
    "XC.windows": ("策略要求信创迁移，但 Windows 系统无国产替代镜像：保持原架构",
                   "the policy asks for Xinchuang, but a Windows system has no domestic image: the architecture is kept"),
    "ARCH.native": ("保持原架构 {arch}（有该架构的资源池，策略未要求信创迁移）",
                    "native architecture {arch} kept (a pool of it exists; the policy asks for no Xinchuang move)"),
    "ARCH.replatform": ("没有符合硬性规则的 {arch} 资源池可平迁 → 平台迁移到现有资源池（重建）",
                        "no {arch} pool meets the hard rules for a rehost → replatform onto a pool that exists "
                        "(rebuild)"),
    "ARCH.no_native": ("没有符合硬性规则的 {arch} 资源池（{why}）→ 迁往 {zone}（{target}），需异构重建",
                       "no {arch} pool meets the hard rules ({why}) → {zone} ({target}), rebuild for the new "
                       "architecture"),
    "XC.no_pool": ("策略要求信创迁移，但没有符合硬性规则的信创资源池（{why}）→ 保持原架构 {arch}",
                   "the policy asks for Xinchuang, but no Xinchuang pool meets the hard rules ({why}) → native {arch} kept"),
    "XC.pool": ("信创资源池 {zone}（{target}）{rebuild}", "Xinchuang pool {zone} ({target}){rebuild}"),
    "OS.keep": ("保持操作系统系列 {os}：镜像 {image}", "OS family {os} kept: image {image}"),
    "OS.policy": ("策略指定统一目标操作系统 {os}：镜像 {image}", "the policy's target OS {os}: image {image}"),
    "OS.xc": ("信创决定：{os} 改为国产操作系统镜像 {image}", "Xinchuang decision: {os} becomes the domestic image {image}"),
    "OS.eol": ("原操作系统 {os} 已停止维护或无可用镜像 → {image}",
               "the OS {os} is end-of-life or has no image here → {image}"),
    # ------------------------------------------------ strategy
    "H-VERT-1.retain": ("H-VERT-1：{authority}的{mode}系统，未取得上级主管部门迁移或下线批复 → 由上级部门负责",
                        "H-VERT-1: {mode} system of {authority}; no recorded superior approval to migrate or retire → "
                        "left to its owner"),
    "H-VERT-1.approved": ("H-VERT-1：垂直系统按上级批复 {doc} 迁移", "H-VERT-1: vertical system migrates under the "
                          "superior approval {doc}"),
    "H-ZOMBIE-1.retire": ("H-ZOMBIE-1：生命周期 {lifecycle}（{why}）→ 下线，不分配云资源",
                          "H-ZOMBIE-1: lifecycle {lifecycle} ({why}) → retire; no cloud capacity is allocated"),
    "SCOPE.out": ("业主单位 {org} 不在策略 {policy} 的适用范围内", "owner {org} is outside policy {policy}'s scope"),
    "H-SEC-1.stay": ("H-SEC-1：涉密系统，且没有可承载涉密系统的政务内网资源池 → 保留",
                     "H-SEC-1: classified and no intranet cloud zone accepts classified systems → stays"),
    "H-SEC-1.relocate": ("H-SEC-1：涉密系统不上政务云，迁入政务内网云（{zones}）",
                         "H-SEC-1: classified systems never go to the government cloud; relocate to the intranet "
                         "cloud ({zones})"),
    "H-SEC-2.fenbao": ("H-SEC-2：上线前须完成分保测评、审批和备案",
                       "H-SEC-2: classified-system protection (fenbao) testing, approval and filing must finish before go-live"),
    "LIFE.not_in_service": ("生命周期 {lifecycle}：建成后直接部署到政务云",
                            "lifecycle {lifecycle}: deploy it directly on the cloud when built"),
    "H-MLPS-3.regrade": ("H-MLPS-3：等保级别 {level} 低于策略最低级别 {minimum}：上线前重新定级并测评",
                         "H-MLPS-3: level {level} is below the policy minimum {minimum}: re-grade and assess before "
                         "go-live"),
    "H-MLPS-2.assess": ("H-MLPS-2：等保级别 {level}，状态 {status}：上线前完成定级、备案和测评",
                        "H-MLPS-2: level {level} and MLPS status {status}: grading, filing and assessment before "
                        "go-live"),
    "STRAT.repurchase": ("功能已由统建平台 {platform} 覆盖 → 替换为统建平台",
                         "function covered by the unified platform {platform} → replace (repurchase)"),
    "STRAT.refactor": ("信创适配评估为不可行 → 重构", "Xinchuang adaptation assessed infeasible → re-architect (refactor)"),
    "STRAT.rehost": ("操作系统与架构均受支持 → 平迁（rehost）原有主机",
                     "supported OS on a supported architecture → rehost the existing machines"),
    "H-ARCH-2.mini": ("H-ARCH-2：小型机 {servers} 不能平迁 → 平台迁移，在目标资源池的架构上重建（目标资源池见下）",
                      "H-ARCH-2: minicomputer(s) {servers} cannot be rehosted → replatform, rebuilt on the target "
                      "pool's architecture (zone below)"),
    "H-OS-1.eol": ("H-OS-1：{n} 台服务器的操作系统在 {horizon} 前停止维护（如 {server}：{os}）→ 平台迁移到受支持的镜像",
                   "H-OS-1: {n} server(s) run an OS that is end-of-life by {horizon} (e.g. {server}: {os}) → "
                   "replatform onto a supported image"),
    "H-OS-1.at_cutover": ("H-OS-1：割接日 {cutover} 时操作系统已停止维护：须迁移操作系统",
                          "H-OS-1: an OS is end-of-life by the cutover {cutover}: migrate the OS"),
    # ------------------------------------------------ move groups
    "CPL.db": ("共享数据库 {db}（{engine}）", "share database {db} ({engine})"),
    "CPL.server": ("共享服务器 {server}", "share server {server}"),
    "CPL.latency": ("时延敏感的 {type} 调用", "latency-sensitive {type} link"),
    "CPL.shared_db": ("共享数据库依赖", "shared-database dependency"),
    "CPL.manual": ("人工指定迁移组 {name}", "manual move group {name}"),
    "CPL.cycle": ("相互同步调用（环）", "mutual synchronous calls (cycle)"),
    "GRP.with": ("与 {peers} 一起迁移", "moves with {peers}"),
    "GRP.coupling": ("{members}：{why}", "{members}: {why}"),
    "GRP.alone": ("没有数据库、服务器或时延敏感调用把它与其他迁移系统绑定",
                  "no database, server or latency-sensitive link ties it to another moving system"),
    "GRP.arch_differs": ("架构或操作系统不同", "the architecture or the OS differs"),
    "H-DEP-1.stays": ("H-DEP-1：迁移组 {group}：与保留的 {other}（{code}）{why}；请在依赖上声明桥接或一起迁移",
                      "H-DEP-1: move group {group}: {why} with {other}, which stays ({code}); declare a bridge on the "
                      "dependency or move them together"),
    "H-CENSUS-1.incomplete": ("H-CENSUS-1：服务器普查信息不完整（{servers}），无法确定规格与镜像；请运行 "
                              "`govcloud inventory discover` 补全后重新生成计划",
                              "H-CENSUS-1: server census incomplete ({servers}): no size or image can be chosen; "
                              "run `govcloud inventory discover` to complete it, then generate the plan again"),
    "H-DEP-2.stuck": ("H-DEP-2：与 {first} 同属迁移组 {group}，而它无法迁移",
                      "H-DEP-2: moves together with {first} (group {group}), which cannot move"),
    "H-DEP-1.partner": ("H-DEP-1：迁移组 {group} 与 {partners}（迁移组 {partner_group}）绑定，后者无法按时下线或替换：{why}",
                        "H-DEP-1: move group {group} is coupled with {partners} (group {partner_group}), which cannot "
                        "be retired or replaced in time: {why}"),
    "WHO.takeover": ("{name}（{org}，{system}）", "{name} ({org}, {system})"),
    "WHO.deadline": ("{system}：{source}", "{system}: {source}"),
    "ROOM.deadline": ("机房 {room} 的{kind}", "the {kind_en} of machine room {room}"),
    # ------------------------------------------------ batches
    "BATCH.cutover": ("{batch}：割接日 {cutover}（周六，{window}）", "{batch}: cutover {cutover} (Saturday, {window})"),
    "BATCH.takeover": ("接管完成于 {ready}", "takeover ready from {ready}"),
    "BATCH.no_takeover": ("无接管约束", "no takeover constraint"),
    "BATCH.deadline": ("期限 {deadline}（{source}）", "deadline {deadline} ({source})"),
    "BATCH.no_deadline": ("无期限", "no deadline"),
    "BATCH.after": ("在其同步调用的迁移组之后：{callees}", "after the groups it calls synchronously: {callees}"),
    "PRIO": ("优先级 {score} = 紧迫 {urgency} + 重要 {importance} − 难度 {difficulty}",
             "priority {score} = urgency {urgency} + importance {importance} − difficulty {difficulty}"),
    # ------------------------------------------------ zones and images
    "ZONE.chosen": ("{zone}（{name}）：网络 {net}，等保 {zone_level} 级 ≥ {level}，{arch}{xc_zh}，灾备 {dr}",
                    "{zone} ({name}): network {net}, MLPS level {zone_level} ≥ {level}, {arch}{xc_en}, DR {dr}"),
    "ZONE.reject": ("{zone}：{why}", "{zone}: {why}"),
    "ZONE.none": ("没有任何云资源池", "no cloud zone exists"),
    "H-CN-1.abroad": ("H-CN-1：不在境内或不由境内运维", "H-CN-1: not located and operated in China"),
    "H-SEC-1.net": ("H-SEC-1/H-NET：资源池在 {zone_net}，系统在 {net}{classified_zh}",
                   "H-SEC-1/H-NET: zone is on {zone_net}, system is {net}{classified_en}"),
    "H-MLPS-1.level": ("H-MLPS-1：资源池等保 {zone_level} 级 < 系统 {level} 级",
                       "H-MLPS-1: zone level {zone_level} < system level {level}"),
    "H-MLPS-3.zone": ("H-MLPS-3：资源池等保 {zone_level} 级 < 策略最低 {minimum} 级",
                      "H-MLPS-3: zone level {zone_level} < policy minimum {minimum}"),
    "H-MLPS-3.extranet": ("H-MLPS-3：政务外网资源池等保 {zone_level} 级 < 策略要求 {minimum} 级",
                          "H-MLPS-3: extranet zone level {zone_level} < policy extranet level {minimum}"),
    "H-MLPS-1.dedicated": ("H-MLPS-1：四级系统须使用独立资源池", "H-MLPS-1: a level-4 system needs a dedicated pool"),
    "H-DR-1.level3": ("H-DR-1：{level} 级系统须异地实时备份与热冗余，资源池为 {dr}",
                      "H-DR-1: level {level} needs real-time off-site backup with HA, zone has {dr}"),
    "H-DR-1.level2": ("H-DR-1：二级系统至少须异地定时备份", "H-DR-1: level 2 needs at least scheduled off-site backup"),
    "H-ARCH-1.rehost": ("H-ARCH-1：平迁保持原架构（{arches}），资源池为 {zone_arch}",
                        "H-ARCH-1: rehost keeps the architecture ({arches}), zone is {zone_arch}"),
    "H-ARCH-1.rebuild": ("H-ARCH-1：架构变化（{arches} → {zone_arch}）：须重建",
                         "H-ARCH-1: architecture changes ({arches} → {zone_arch}): rebuild"),
    "H-CAP-1.left": ("H-CAP-1 剩余容量 {vcpus} vCPU / {ram} GB / {storage} GB 存储，需要 {need_vcpus} / {need_ram} / "
                     "{need_storage}", "H-CAP-1 capacity left {vcpus} vCPU / {ram} GB / {storage} GB storage, needs "
                     "{need_vcpus} / {need_ram} / {need_storage}"),
    "FLAVOR.none": ("没有 ≥{vcpus} vCPU、≥{ram} GB 的规格（{server}）", "no flavor with ≥{vcpus} vCPU and ≥{ram} GB for "
                    "{server}"),
    "IMG.missing": ("{why}（{server}，{os}）", "{why} for {server} ({os})"),
    "IMG.import": ("平迁导入主机自身磁盘", "rehost imports the machine's own disk"),
    "IMG.windows": ("最新的受支持 Windows Server 镜像 {image}", "newest supported Windows Server image {image}"),
    "IMG.no_windows": ("资源池没有受支持的 Windows Server 镜像", "no supported Windows Server image in the zone"),
    "IMG.no_linux": ("资源池没有受支持的 Linux 镜像", "no supported Linux image in the zone"),
    # ------------------------------------------------ group placement
    "GRP.same_zone": ("与迁移组 {group} 同一资源池", "same zone as its move group {group}"),
    "GRP.same_platform": ("与迁移组 {group} 同一云平台 {platform}（资源池 {zone} 不能承载：{why}）",
                          "same platform {platform} as its move group {group} (zone {zone} cannot take it: {why})"),
    "GRP.other_platform": ("迁移组 {group} 的资源池 {zone} 与平台 {platform} 均不能承载（{why}）",
                           "neither its move group {group}'s zone {zone} nor platform {platform} can take it ({why})"),
    # ------------------------------------------------ pilot
    "PILOT.ok": ("试点：{servers} 台服务器，低风险（非涉密、非四级、无小型机、无停服操作系统、单一部门）",
                 "pilot: {servers} server(s), low risk (not classified, not level 4, no minicomputer, no "
                 "end-of-life OS, one department)"),
    # ------------------------------------------------ scheduling
    "H-DATE-1.takeover": (
        "H-DATE-1：迁移组 {group} 的期限 {deadline}（{deadline_of}）无法满足：{takeover_of}的接管 {ready} 才完成，"
        "期限前没有割接日——策略的里程碑冲突（先接管后迁移，H-TKO-1）；请提前接管或调整期限",
        "H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: the takeover of "
        "{takeover_of} is due only {ready}, leaving no cutover day before it — the policy's milestones conflict "
        "(takeover precedes migration, H-TKO-1); bring the takeover forward or move the deadline"),
    "H-DATE-1.callee": (
        "H-DATE-1：迁移组 {group} 的期限 {deadline}（{deadline_of}）无法满足：它同步调用的 {callee} {when} 才割接；"
        "请在该依赖上声明桥接或提前被调用方",
        "H-DATE-1: move group {group}'s deadline {deadline} ({deadline_of}) cannot be met: it calls {callee} "
        "synchronously, which cuts over only on {when}; declare a bridge or bring the callee forward"),
    "H-DATE-1.throughput": (
        "H-DATE-1：迁移组 {group}（{servers} 台）的期限 {deadline}（{deadline_of}）无法满足：{when}，"
        "每周 {per_week} 台（接管完成 {ready}）；请提高每周迁移能力或调整期限",
        "H-DATE-1: move group {group} ({servers} servers) cannot meet the deadline {deadline} ({deadline_of}): "
        "{when_en} at {per_week} servers/week (takeover ready {ready}); raise servers_per_week or move the deadline"),
    "H-CAP-2.batch": (
        "迁移组 {group} 共 {servers} 台，超过单批次迁移能力（{cap} = 每周 {per_week} 台 × {weeks} 周）；"
        "请提高每周迁移能力或声明桥接拆分",
        "move group {group} of {servers} servers exceeds a batch's throughput ({cap} = {per_week}/week × "
        "{weeks} weeks); raise servers_per_week or split it with a declared bridge"),
    "NOZONE": ("迁移组 {group}：没有资源池能承载 {system}：{why}", "move group {group}: no zone can take {system}: {why}"),
    "H-DEP-2.member": ("与 {first} 同属迁移组 {group}：{why}", "moves together with {first} (group {group}): {why}"),
    "H-ROOM-2.lease": ("机房 {room} 的{kind} {date} 前无法迁出：{why}",
                       "cannot leave machine room {room} before its {kind_en} {date}: {why}"),
    "SCHED.windows": ("在 {n} 个批次窗口内无法排期", "not scheduled within {n} batch windows"),
    # ------------------------------------------------ lower bound
    "LB": ("吞吐量：迁移 {moved} 台服务器{actions}，每周 {per_week} 台、每批 {weeks} 周，试点不超过 {pilot} 台 → 至少 "
           "{by_tp} 批；接管至期限的时间窗需要至少 {by_time} 个不同割接日{expansion}；同步依赖可同批 → 至少 1 批",
           "throughput: {moved} servers moved{actions_en} at {per_week}/week in {weeks}-week batches after a pilot "
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
