"""Plan reasons as codes with parameters, worded here in Chinese (default) or English.

The planner stores a reason as ``"<code> <json object>"`` (e.g.
``H-DATE-1.takeover {"group": "mg-a", "deadline": "2019-08-31", …}``): plan.yaml stays
language-neutral and every reader (`plan explain`, plan.md, `plan diff`) words it in the
reader's language. A reason that is not coded (older plans, hand edits) is shown as written.
Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from typing import Any

from govcloud.model.plan import coded as code  # noqa: F401  (re-exported)

_CODED = re.compile(r"^([A-Za-z][A-Za-z0-9-]*(?:\.[a-z0-9_.]+)?) (\{.*\})$", re.S)

# code → (zh, en); parameters in {braces}; optional ones are pre-formatted by _params
TEXT: dict[str, tuple[str, str]] = {
    # ------------------------------------------------ strategy: architecture and OS
    "H-ARCH.mixed": ("服务器架构混合（{arches}）：统一到 {target}，按平台迁移（replatform）重建 {rebuild} 台",
                     "mixed architectures ({arches}): consolidate onto {target}, replatform rebuilding {rebuild} "
                     "server(s)"),
    "XC.org": ("信创决定：策略将部门 {org} 列为信创迁移部门 → 迁入信创资源池",
               "信创 decision: the policy names department {org} for 信创 pools → onto a 信创 pool"),
    "XC.category": ("信创决定：策略将系统类型“{category}”列为信创迁移 → 迁入信创资源池",
                    "信创 decision: the policy names system category {category} for 信创 pools → onto a 信创 pool"),
    "XC.share": ("信创决定：策略要求 {pct}% 的已适配x86系统迁入信创资源池（本系统为第 {rank}/{quota} 个）",
                 "信创 decision: the policy moves {pct}% of adapted x86 systems onto 信创 pools (this one is "
                 "{rank} of {quota})"),
    "XC.windows": ("策略要求信创迁移，但 Windows 系统无国产替代镜像：保持原架构",
                   "the policy asks for 信创, but a Windows system has no domestic image: the architecture is kept"),
    "ARCH.native": ("保持原架构 {arch}（有该架构的资源池，策略未要求信创迁移）",
                    "native architecture {arch} kept (a pool of it exists; the policy asks for no 信创 move)"),
    "ARCH.no_native": ("没有符合硬性规则的 {arch} 资源池（{why}）→ 迁往 {zone}（{target}），需异构重建",
                       "no {arch} pool meets the hard rules ({why}) → {zone} ({target}), rebuild for the new "
                       "architecture"),
    "XC.no_pool": ("策略要求信创迁移，但没有符合硬性规则的信创资源池（{why}）→ 保持原架构 {arch}",
                   "the policy asks for 信创, but no 信创 pool meets the hard rules ({why}) → native {arch} kept"),
    "XC.pool": ("信创资源池 {zone}（{target}）{rebuild}", "信创 pool {zone} ({target}){rebuild}"),
    "OS.keep": ("保持操作系统系列 {os}：镜像 {image}", "OS family {os} kept: image {image}"),
    "OS.policy": ("策略指定统一目标操作系统 {os}：镜像 {image}", "the policy's target OS {os}: image {image}"),
    "OS.xc": ("信创决定：{os} 改为国产操作系统镜像 {image}", "信创 decision: {os} becomes the domestic image {image}"),
    "OS.eol": ("原操作系统 {os} 已停止维护或无可用镜像 → {image}",
               "the OS {os} is end-of-life or has no image here → {image}"),
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
        "H-DATE-1：迁移组 {group} 的期限 {deadline}（{deadline_of}）无法满足：{takeover_of} 的接管 {ready} 才完成，"
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
    m = _CODED.match(reason)
    if not m or m.group(1) not in TEXT:
        return None
    try:
        params = json.loads(m.group(2))
    except ValueError:
        return None
    return (m.group(1), params) if isinstance(params, dict) else None


class _Default(dict):
    def __missing__(self, key: str) -> str:
        return "-"


def render(reason: str, lang: str = "zh") -> str:
    """One reason in the reader's language; an uncoded reason as written."""
    parsed = parse(reason)
    if parsed is None:
        return reason
    key, params = parsed
    words = _WORDS.get(lang, _WORDS["zh"])
    values = _Default({k: (render(v, lang) if parse(v) else words.get(v, v)) if isinstance(v, str) else v
                       for k, v in params.items()})
    zh, en = TEXT[key]
    try:
        return (en if lang == "en" else zh).format_map(values)
    except (ValueError, IndexError, AttributeError):
        return reason


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
