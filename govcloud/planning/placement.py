"""Target zone, flavor and image for each moving system (DOMAIN.md §5.1 H-SEC/MLPS/ARCH/OS/CN/DR/CAP).

Zones are filtered by the hard rules, then ranked: the group's zone first (systems that
cut over together should land together), domestic pools for replatformed systems when
the policy prefers them, the lowest sufficient MLPS level (the level-4 pool is scarce),
then the most room left. Capacity is cumulative: migrated systems stay on the cloud.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from govcloud.model.entities import CloudZone, Flavor, Image, InformationSystem, Server
from govcloud.model.enums import CpuArch, DrMode, ExtranetArea, NetworkZone, OsDistribution, Strategy
from govcloud.model.oslife import os_eol_date
from govcloud.model.plan import IMAGE_IMPORT_PREFIX, REQ_REBUILD, ServerPlacement, Why, coded
from govcloud.planning.context import Context

_EXTRANET_FAMILY = (NetworkZone.gov_extranet, NetworkZone.dedicated_net, NetworkZone.isolated_lan)
# GB/T 22239-2019 8.1.4.9: level 3 needs real-time off-site backup *and* hot redundancy
_LEVEL3_DR = (DrMode.realtime_offsite_ha,)
# domestic OS preference when a new image is installed (信创: openEuler, then Kylin, then UOS)
_DOMESTIC_ORDER = (OsDistribution.openeuler, OsDistribution.kylin, OsDistribution.uos, OsDistribution.anolis)


@dataclass
class Ledger:
    """Capacity per zone, consumed as systems are placed in schedule order. A zone's capacity grows by
    its dated expansions: a placement counts against the capacity on its cutover day, and since what is
    placed stays, total use so far + the new need ≤ capacity on the cutover day keeps every day within."""

    vcpus: dict[str, float] = field(default_factory=dict)       # capacity left before any expansion
    ram_gb: dict[str, float] = field(default_factory=dict)
    storage_gb: dict[str, float] = field(default_factory=dict)
    expansions: dict[str, list[tuple[date, float, float, float]]] = field(default_factory=dict)

    @classmethod
    def of(cls, zones: list[CloudZone]) -> "Ledger":
        return cls({z.id: z.capacity.vcpus for z in zones}, {z.id: z.capacity.ram_gb for z in zones},
                   {z.id: z.capacity.storage_gb for z in zones},
                   {z.id: sorted((e.date, e.vcpus, e.ram_gb, e.storage_gb) for e in z.expansions)
                    for z in zones if z.expansions})

    def left(self, zone: str, when: date | None = None) -> tuple[float, float, float]:
        v, r, d = self.vcpus[zone], self.ram_gb[zone], self.storage_gb[zone]
        for day, ev, er, ed in self.expansions.get(zone, ()):
            if when is not None and day <= when:
                v, r, d = v + ev, r + er, d + ed
        return v, r, d

    def fits(self, zone: str, vcpus: float, ram: float, disk: float, when: date | None = None) -> bool:
        v, r, d = self.left(zone, when)
        return vcpus <= v and ram <= r and disk <= d

    def next_expansion(self, zone: str, when: date | None) -> date | None:
        """The first expansion of ``zone`` after ``when``."""
        return next((day for day, *_ in self.expansions.get(zone, ()) if when is None or day > when), None)

    def take(self, zone: str, vcpus: float, ram: float, disk: float) -> None:
        self.vcpus[zone] -= vcpus
        self.ram_gb[zone] -= ram
        self.storage_gb[zone] -= disk


@dataclass
class Placement:
    zone: str
    servers: tuple[ServerPlacement, ...]
    reasons: dict[str, list[str]]
    requires: tuple[str, ...] = ()
    platform: str = ""

    @property
    def totals(self) -> tuple[float, float, float]:
        return (sum(p.vcpus for p in self.servers), sum(p.ram_gb for p in self.servers),
                sum(p.disk_gb for p in self.servers))


def network_fits(s: InformationSystem, z: CloudZone) -> bool:
    if s.is_classified:
        return z.accepts_classified and z.network_zone is NetworkZone.gov_intranet
    if z.network_zone is NetworkZone.gov_intranet:
        return s.network_zone is NetworkZone.gov_intranet
    if s.network_zone is NetworkZone.internet:
        return z.network_zone is NetworkZone.internet or z.extranet_area is ExtranetArea.internet_access
    if s.network_zone in _EXTRANET_FAMILY:  # H-NET-1: dedicated networks move onto the extranet
        return z.network_zone is NetworkZone.gov_extranet
    return False


def zone_rejection(ctx: Context, s: InformationSystem, servers: list[Server], strategy: Strategy,
                   z: CloudZone) -> Why | None:
    """Why ``z`` cannot take ``s`` under the hard rules, or None."""
    level = s.mlps_level or ctx.settings.min_mlps_level
    if not (z.in_china and z.ops_in_china):
        return Why("H-CN-1.abroad")
    if not network_fits(s, z):
        return Why("H-SEC-1.net", zone_net=z.network_zone.value, net=s.network_zone.value,
                     classified=s.is_classified)
    if z.mlps_level < level:
        return Why("H-MLPS-1.level", zone_level=z.mlps_level, level=level)
    if z.mlps_level < ctx.settings.min_mlps_level:
        return Why("H-MLPS-3.zone", zone_level=z.mlps_level, minimum=ctx.settings.min_mlps_level)
    if z.network_zone is NetworkZone.gov_extranet and z.mlps_level < ctx.policy.thresholds.extranet_mlps_level:
        return Why("H-MLPS-3.extranet", zone_level=z.mlps_level, minimum=ctx.policy.thresholds.extranet_mlps_level)
    if level >= 4 and not z.dedicated_pool:
        return Why("H-MLPS-1.dedicated")
    if level >= 3 and z.dr_mode not in _LEVEL3_DR:
        return Why("H-DR-1.level3", level=level, dr=z.dr_mode.value)
    if level == 2 and z.dr_mode is DrMode.none:
        return Why("H-DR-1.level2")
    if strategy is Strategy.rehost:
        other = sorted({x.cpu_arch.value for x in servers if x.cpu_arch != z.cpu_arch})
        if other:
            return Why("H-ARCH-1.rehost", arches=", ".join(other), zone_arch=z.cpu_arch.value)
    return None


def _need(ctx: Context, srv: Server) -> tuple[int, float, str]:
    """vCPU and RAM a server needs: p95 of observed utilisation plus headroom, else its declared size."""
    got = ctx.need_of.get(srv.id)
    if got is None:
        got = ctx.need_of[srv.id] = _sized(ctx, srv)
    return got


def _sized(ctx: Context, srv: Server) -> tuple[int, float, str]:
    util = srv.observation.utilization
    p95 = util.p95 if util is not None else None
    head = 1 + ctx.settings.headroom_pct / 100
    if p95 is not None:
        cpu, mem = p95
        vcpus = max(1, math.ceil(srv.cores * cpu / 100 * head))
        ram = max(1.0, math.ceil(srv.ram_gb * mem / 100 * head))
        return min(vcpus, srv.cores), min(ram, srv.ram_gb), f"observed p95 (CPU {cpu}%, RAM {mem}%) +{ctx.settings.headroom_pct:g}%"
    return srv.cores, srv.ram_gb, "declared"


def pick_flavor(flavors: tuple[Flavor, ...], vcpus: int, ram: float) -> Flavor | None:
    fitting = [f for f in flavors if f.vcpus >= vcpus and f.ram_gb >= ram]
    return min(fitting, key=lambda f: (f.vcpus, f.ram_gb, f.name), default=None)


def pick_image(ctx: Context, srv: Server, z: CloudZone, strategy: Strategy,
               domestic: bool = False) -> tuple[str | None, str]:
    """The image a server lands on: its own disk for rehost; for a rebuild the OS family it runs (Kylin stays
    Kylin) unless that is end-of-life or has no image here, the policy names a target OS, or a 信创 decision
    needs a domestic OS."""
    if strategy is Strategy.rehost:
        return f"{IMAGE_IMPORT_PREFIX}{srv.os_distribution.value}-{srv.os_version or ''}".rstrip("-"), \
            coded("IMG.import")
    key = (z.id, srv.os_distribution, domestic)
    cached = ctx.image_choice.get(key)
    if cached is None:  # the choice depends only on the zone, the OS family and 信创: decide it once
        cached = ctx.image_choice[key] = _choose_image(ctx, z, srv.os_distribution, domestic)
    return cached


def _choose_image(ctx: Context, z: CloudZone, family: OsDistribution, domestic: bool) -> tuple[str | None, str]:
    horizon = ctx.final_deadline or date.max  # no final deadline: no image that ever reaches EOL
    usable = [i for i in z.images if i.cpu_arch == z.cpu_arch and not _eol(i, horizon)]

    def newest(images: list[Image]) -> Image | None:
        return max(images, key=lambda i: (i.os_version or "", i.name), default=None)
    if family is OsDistribution.windows:
        win = newest([i for i in usable if i.os_distribution is OsDistribution.windows])
        return (win.name, coded("IMG.windows", image=win.name)) if win else (None, coded("IMG.no_windows"))
    linux = [i for i in usable if i.os_distribution is not OsDistribution.windows]
    target = ctx.policy.target_os
    if target is not None and target is not OsDistribution.windows:
        best = newest([i for i in linux if i.os_distribution is target])
        if best is not None:
            return best.name, coded("OS.policy", os=target.value, image=best.name)
    if not domestic or family in _DOMESTIC_ORDER:
        best = newest([i for i in linux if i.os_distribution is family])
        if best is not None:
            return best.name, coded("OS.keep", os=family.value, image=best.name)

    def rank(i: Image) -> tuple:
        dom = i.os_distribution in _DOMESTIC_ORDER
        order = _DOMESTIC_ORDER.index(i.os_distribution) if dom else len(_DOMESTIC_ORDER)
        return (0 if (dom and (ctx.settings.prefer_domestic or domestic)) else 1, order, i.name)
    best = min(linux, key=rank, default=None)
    if best is None:
        return None, coded("IMG.no_linux")
    if domestic and family not in _DOMESTIC_ORDER and best.os_distribution in _DOMESTIC_ORDER:
        return best.name, coded("OS.xc", os=family.value, image=best.name)
    return best.name, coded("OS.eol", os=family.value, image=best.name)


def _eol(i: Image, horizon) -> bool:
    d = os_eol_date(i.os_distribution, i.os_version)
    return d is not None and d <= horizon


@dataclass
class Refusal:
    """Why no zone takes a system now; ``retry`` is the day a zone expansion could change that."""

    reasons: list[str]
    retry: date | None = None


def place(ctx: Context, s: InformationSystem, decision, ledger: Ledger, prefer_zone: str | None,
          already_placed: set[str] = frozenset(), *, when: date | None = None, group: str = "",
          prefer_platform: str | None = None) -> Placement | Refusal:
    """The best zone with flavors, images and capacity for every server, or the reasons none fits.

    The architecture is a decision, not a capacity valve: the zones considered are the 信创 pools when the
    policy asks for 信创 (else the native architecture's), or the native architecture's pools — other
    architectures only when no zone of the wanted kind meets the hard rules, never because it is full.
    Servers in ``already_placed`` belong to another system of the same move group (a shared
    server) and were placed with it: they are checked for the zone's rules but not placed twice."""
    strategy = decision.strategy
    all_servers = ctx.servers_of(s)
    servers = [x for x in all_servers if x.id not in already_placed]
    rejections: list[Why] = []
    rejected_zone: dict[int, CloudZone] = {}
    fitting: list[CloudZone] = []
    level = s.mlps_level or ctx.settings.min_mlps_level
    zones = ctx.zones_by_id
    if zones is None:
        zones = ctx.zones_by_id = sorted(ctx.inv.cloud_zones.values(), key=lambda z: z.id)
    for z in zones:  # reasons independent of input order
        why = zone_rejection(ctx, s, all_servers, strategy, z)
        if why:
            rejections.append(Why("ZONE.reject", zone=z.id, why=why))
            rejected_zone[len(rejections) - 1] = z
        else:
            fitting.append(z)
    arch: CpuArch | None = decision.arch
    wanted = fitting
    arch_note: list[tuple[str, dict]] = []
    xc = bool(decision.xinchuang)
    if xc:
        pools = [z for z in fitting if z.is_xinchuang]
        if pools:
            wanted = pools
        else:
            xc = False
            arch_note.append(("XC.no_pool", dict(why=[r for i, r in enumerate(rejections)
                                                      if rejected_zone[i].is_xinchuang][:3],
                                                 arch=arch.value if arch else "-")))
    if not xc and arch is not None:
        native = [z for z in wanted if z.cpu_arch == arch]
        if native:
            wanted = native
        elif wanted:
            own = [r for i, r in enumerate(rejections) if rejected_zone[i].cpu_arch == arch]
            arch_note.append(("ARCH.no_native", dict(arch=arch.value, why=own[:3])))
    candidates: list[tuple[tuple, CloudZone]] = []
    for z in wanted:
        platform_rank = 0 if z.id == prefer_zone else 1 if (prefer_platform and z.platform == prefer_platform) else 2
        rank = (platform_rank if prefer_zone else 0,
                0 if arch is None or z.cpu_arch == arch else 1,           # no rebuild where avoidable
                0 if z.is_xinchuang and (xc or (arch is None and ctx.settings.prefer_domestic)) else 1,
                z.mlps_level - level, 1 if (z.dedicated_pool and level < 4 and not s.is_classified) else 0,
                -ledger.left(z.id, when)[0], z.id)
        candidates.append((rank, z))
    retry: date | None = None
    for _, z in sorted(candidates, key=lambda c: c[0]):
        placements: list[ServerPlacement] = []
        problem = None
        image_whys: list[str] = []
        for srv in servers:
            vcpus, ram, sized = _need(ctx, srv)
            fkey = (z.id, vcpus, ram)
            flavor = ctx.flavor_choice.get(fkey, False)
            if flavor is False:   # the smallest fitting flavor depends only on the zone and the size
                flavor = ctx.flavor_choice[fkey] = pick_flavor(z.flavors, vcpus, ram)
            if flavor is None:
                problem = Why("ZONE.reject", zone=z.id, why=Why("FLAVOR.none", vcpus=vcpus, ram=f"{ram:g}",
                                                                     server=srv.id))
                break
            image, image_why = pick_image(ctx, srv, z, strategy, domestic=xc)
            if image_why not in image_whys:
                image_whys.append(image_why)
            if image is None:
                problem = Why("ZONE.reject", zone=z.id, why=Why("IMG.missing", why=image_why, server=srv.id,
                                                                     os=srv.os_distribution.value))
                break
            disk = srv.disk_gb or flavor.disk_gb
            placements.append(ServerPlacement(srv.id, flavor.name, flavor.vcpus, flavor.ram_gb, disk, image, sized))
        if problem:
            rejections.append(problem)
            continue
        p = Placement(z.id, tuple(placements), {}, platform=z.platform)
        v, r, d = p.totals
        if not ledger.fits(z.id, v, r, d, when):
            lv, lr, ld = ledger.left(z.id, when)
            rejections.append(Why("ZONE.reject", zone=z.id, why=Why(
                "H-CAP-1.left", vcpus=f"{lv:.0f}", ram=f"{lr:.0f}", storage=f"{ld:.0f}", need_vcpus=f"{v:.0f}",
                need_ram=f"{r:.0f}", need_storage=f"{d:.0f}")))
            nxt = ledger.next_expansion(z.id, when)
            if nxt is not None and (retry is None or nxt < retry):
                retry = nxt
            continue
        arch_change = sorted({x.cpu_arch.value for x in all_servers if x.cpu_arch != z.cpu_arch})
        p.requires = (REQ_REBUILD,) if arch_change else ()
        group_why: list[str] = []
        if prefer_zone and z.id == prefer_zone:
            group_why.append(coded("GRP.same_zone", group=group))
        elif prefer_zone:
            why = next((r.params["why"] for r in rejections if r.params.get("zone") == prefer_zone),
                       Why("GRP.arch_differs"))
            group_why.append(coded("GRP.same_platform" if z.platform == prefer_platform else "GRP.other_platform",
                                   group=group, zone=prefer_zone, platform=prefer_platform or "-", why=why))
        notes = [coded(key, **params, zone=z.id, target=z.cpu_arch.value) for key, params in arch_note]
        if xc:
            notes.append(coded("XC.pool", zone=z.id, target=z.cpu_arch.value,
                               rebuild=f" ({', '.join(arch_change)} → {z.cpu_arch.value})" if arch_change else ""))
        elif arch is not None and z.cpu_arch == arch and not arch_note and not arch_change:
            notes.append(coded("ARCH.native", arch=arch.value))
        p.reasons = {
            "zone": [coded("ZONE.chosen", zone=z.id, name=z.name, net=z.network_zone.value, zone_level=z.mlps_level,
                           level=level, arch=z.cpu_arch.value, xc=z.is_xinchuang, dr=z.dr_mode.value)]
            + group_why + notes
            + ([coded("H-ARCH-1.rebuild", arches=", ".join(arch_change), zone_arch=z.cpu_arch.value)]
               if arch_change else []),
            # flavors are the smallest covering each server's need; placements say what sized it
            "image": image_whys,
        }
        ledger.take(z.id, v, r, d)
        return p
    return Refusal([str(r) for r in rejections] or [coded("ZONE.none")], retry)
