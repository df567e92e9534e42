"""Strategy per system (DOMAIN.md §3.8, §5.1), first matching rule wins, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from govcloud.base.i18n import tr
from govcloud.model.entities import InformationSystem
from collections import Counter

from govcloud.model.enums import (
    CpuArch, FenbaoStatus, Lifecycle, NetworkZone, OsDistribution, ServerKind, Strategy, XinchuangStatus,
)
from govcloud.model.oslife import os_eol_date
from govcloud.model.plan import REQ_FENBAO, REQ_MLPS_ASSESSMENT, REQ_SUPERIOR_APPROVAL, coded
from govcloud.planning.context import Context

# Codes for systems that stay where they are; plan.md and `plan explain` word them.
RETAIN_VERTICAL = "vertical_without_approval"
RETAIN_NO_INTRANET = "classified_without_intranet_cloud"
RETAIN_NOT_IN_SERVICE = "not_in_service"
RETAIN_OUT_OF_SCOPE = "out_of_scope"

_MOVING = (Strategy.rehost, Strategy.replatform, Strategy.relocate_intranet, Strategy.refactor)


@dataclass
class Decision:
    strategy: Strategy | None           # None: retained
    retain_code: str | None = None
    reasons: list[str] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    # target architecture: the servers' own (kept where a pool exists), the majority of a mixed system,
    # or None (minicomputers: any); xinchuang: the coded 信创 decision that sends it onto a 信创 pool
    arch: CpuArch | None = None
    xinchuang: str | None = None

    @property
    def moves(self) -> bool:
        """Needs target capacity and a cutover on the cloud."""
        return self.strategy in _MOVING


def _in_policy_scope(ctx: Context, s: InformationSystem) -> bool:
    scope = ctx.policy_scope
    return not scope or not scope.isdisjoint(ctx.family(s.owner_org))


def decide(ctx: Context, s: InformationSystem) -> Decision:
    servers = ctx.servers_of(s)
    vertical_approved = s.superior_approval is not None and bool(s.superior_approval.doc_no)
    if s.build_mode.is_vertical and not vertical_approved:
        # before the zombie rule: even a zombie vertical is its superior department's to retire
        return Decision(None, RETAIN_VERTICAL, [coded("H-VERT-1.retain", mode=s.build_mode.value,
                                                      authority=s.vertical_authority or "-")])
    if s.lifecycle in (Lifecycle.zombie, Lifecycle.decommissioned):
        why = tr(", ", "zh", ctx="list").join(c.zh for c in s.zombie_criteria) or s.lifecycle.zh
        return Decision(Strategy.retire, requires=[REQ_SUPERIOR_APPROVAL] if s.build_mode.is_vertical else [],
                        reasons=[coded("H-ZOMBIE-1.retire", lifecycle=s.lifecycle.value, why=why)])
    if not _in_policy_scope(ctx, s):
        return Decision(None, RETAIN_OUT_OF_SCOPE, [coded("SCOPE.out", org=s.owner_org, policy=ctx.policy.id)])
    if s.is_classified:
        intranet = [z for z in ctx.inv.cloud_zones.values()
                    if z.accepts_classified and z.network_zone is NetworkZone.gov_intranet]
        if not intranet:
            return Decision(None, RETAIN_NO_INTRANET, [coded("H-SEC-1.stay")])
        d = Decision(Strategy.relocate_intranet, requires=[REQ_SUPERIOR_APPROVAL] if s.build_mode.is_vertical else [],
                     reasons=[coded("H-SEC-1.relocate", zones=", ".join(z.id for z in intranet))])
        if s.fenbao_status not in (FenbaoStatus.approved, FenbaoStatus.filed):
            d.requires.append(REQ_FENBAO)
            d.reasons.append(coded("H-SEC-2.fenbao"))
        return d
    requires: list[str] = []
    reasons: list[str] = []
    if s.build_mode.is_vertical:
        requires.append(REQ_SUPERIOR_APPROVAL)
        reasons.append(coded("H-VERT-1.approved", doc=s.superior_approval.doc_no))
    if s.lifecycle in (Lifecycle.planned, Lifecycle.building):
        return Decision(None, RETAIN_NOT_IN_SERVICE, [coded("LIFE.not_in_service", lifecycle=s.lifecycle.value)])
    minimum = ctx.settings.min_mlps_level
    level = s.mlps_level or minimum
    if level < minimum:
        requires.append(REQ_MLPS_ASSESSMENT)
        reasons.append(coded("H-MLPS-3.regrade", level=level, minimum=minimum))
    elif level >= 2 and s.mlps_status.value not in ("filed", "assessed"):
        requires.append(REQ_MLPS_ASSESSMENT)
        reasons.append(coded("H-MLPS-2.assess", level=s.mlps_level or f"?→{minimum}", status=s.mlps_status.value))

    if s.covered_by_platform:
        return Decision(Strategy.repurchase, reasons=reasons + [
            coded("STRAT.repurchase", platform=s.covered_by_platform)], requires=requires)
    if s.xinchuang_status is XinchuangStatus.infeasible:
        return Decision(Strategy.refactor, reasons=reasons + [coded("STRAT.refactor")], requires=requires)
    mini = [x.id for x in servers if x.kind is ServerKind.minicomputer or x.cpu_arch.is_minicomputer]
    windows = any(x.os_distribution is OsDistribution.windows for x in servers)
    xc = ctx.xinchuang.get(s.id)
    if xc and windows:
        reasons = reasons + [coded("XC.windows")]
        xc = None
    arches = Counter(x.cpu_arch for x in servers if x.id not in mini)
    # the majority architecture of the servers that are not minicomputers; a tie goes to x86_64
    native = max(arches, key=lambda a: (arches[a], a is CpuArch.x86_64, a.value)) if arches else None
    if mini:
        return Decision(Strategy.replatform, reasons=reasons + [coded("H-ARCH-2.mini", servers=", ".join(mini[:3]))],
            requires=requires, arch=native if len(arches) == 1 else None, xinchuang=xc)
    if len(arches) > 1:
        listing = ", ".join(f"{a.value} ×{n}" for a, n in sorted(arches.items(), key=lambda kv: kv[0].value))
        return Decision(Strategy.replatform, reasons=reasons + [coded(
            "H-ARCH.mixed", arches=listing, target=native.value, rebuild=len(servers) - arches[native])],
            requires=requires, arch=native, xinchuang=xc)
    horizon = ctx.final_deadline or ctx.start
    eol = [(x.id, x.os_distribution, x.os_version) for x in servers
           if (d := os_eol_date(x.os_distribution, x.os_version)) is not None and d <= horizon]
    if eol and ctx.settings.eol_os_blocking:
        first = eol[0]
        return Decision(Strategy.replatform, reasons=reasons + [coded(
            "H-OS-1.eol", n=len(eol), horizon=horizon, server=first[0], os=f"{first[1].value} {first[2] or ''}".strip())],
            requires=requires, arch=native, xinchuang=xc)
    if xc and native is CpuArch.x86_64:
        return Decision(Strategy.replatform, reasons=reasons + [xc], requires=requires, arch=native, xinchuang=xc)
    return Decision(Strategy.rehost, reasons=reasons + [coded("STRAT.rehost")]
        + ([xc] if xc else []), requires=requires, arch=native, xinchuang=xc)
