"""Synthetic inventories at city, province and national scale (DOMAIN.md §6).

``generate_inventory(scale, seed)`` builds an :class:`Inventory` whose sizes and
attribute mixes follow DOMAIN.md §6; ``write_generated`` writes it with the one
writer in the ``lines`` style. The output is a pure function of (scale, seed,
overrides): one ``random.Random(seed)`` drives every draw, regions and
organisations are visited in list order, and no set or clock is consulted.

National scale means about a million servers, so the per-server path is kept to
a dozen cheap draws and immutable values (disk layouts, software, flavours) are
built once and shared between records.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

# the names and mixes drawn from (data only; heyuan.py also imports GENERIC_SYSTEMS and VERTICALS from here)
from govcloud.base.i18n import Msg
from govcloud.inventory.catalogue import (
    DEPARTMENTS, PARTY, INSTITUTION_TOPICS, GENERIC_SYSTEMS, VARIANT_SUFFIXES, VERTICALS, HEAVY, NAME_CHARS,
    PROVINCES, FLAVORS, KP_FLAVORS, X86_IMAGES, ARM_IMAGES, _OS_TABLE, _OS_CUM, _HYPERVISORS, _VM_CORES,
    _PHYS_CORES, _SYS_DISKS, _DATA_DISKS, _SOFTWARE, _DB_BY_OS, _ZOMBIE_CRITERIA, _ITEMS, _DEVELOPERS,
)
from govcloud.inventory.writer import write_inventory
from govcloud.model.entities import (
    Approval, Batch, Capacity, CloudPlatform, CloudZone, DatabaseInstance, Dependency,
    FreezeWindow, InformationResource, InformationSystem, InventoryMeta,
    MachineRoom, Organization, Policy, Region, Server, TakeoverRecord, Thresholds,
)
from govcloud.model.enums import (
    AdminLevel, ApiKind, Audience, BatchKind, BuildMode, CloudTier, CpuArch, CpuVendor,
    Criticality, DepType, DrMode, ExtranetArea, FenbaoStatus, FundingSource,
    Importance, Lifecycle, MlpsStatus, NetworkZone, OrgType, OsDistribution,
    Replication, ResourceLib, RoomType, Secrecy, SecrecyGrade, ServerKind, ServerRole,
    ServiceScope, SharingMethod, SharingType, SystemCategory, TakeoverStatus, UpdateCycle,
)
from govcloud.model.inventory import Inventory

SCALES = ("city", "province", "national")

# ---------------------------------------------------------------- parameters


@dataclass
class Params:
    """Every knob of the generator; `generate_inventory(..., **overrides)` sets any of them."""

    provinces: int = 1
    cities_per_province: tuple[int, int] = (1, 1)
    counties_per_city: tuple[int, int] = (6, 9)
    province_units: tuple[int, int] = (0, 0)        # provincial-level units per province
    city_units: tuple[int, int] = (105, 135)
    county_units: tuple[int, int] = (1, 1)
    # systems per organisation: lognormal, median 3, p90 12 (DOMAIN.md §6)
    systems_median: float = 3.0
    systems_p90: float = 12.0
    systems_max: int = 60
    heavy_factor: float = 2.0                        # 公安/卫健/人社/教育/自然资源
    province_factor: float = 1.5
    county_factor: float = 0.6
    institution_factor: float = 0.35                 # public institutions build less
    # servers per system: lognormal, median 2, p90 8, plus a video/big-data tail
    servers_median: float = 2.0
    servers_p90: float = 8.0
    heavy_system_share: float = 0.006
    heavy_system_servers: tuple[int, int] = (30, 150)
    # attribute mixes
    classified_share: float = 0.035
    mlps_mix: tuple[float, float, float, float] = (0.10, 0.575, 0.31, 0.015)
    ungraded_share: float = 0.06
    zombie_share: float = 0.10
    idle_share: float = 0.05
    building_share: float = 0.05
    unified_share: float = 0.10                      # city_unified / purchased / co-built among own builds
    vertical_approval_share: float = 0.2
    shared_db_group_share: float = 0.07              # systems sharing a DatabaseInstance
    db_cohost_share: float = 0.12                    # DB servers hosting several systems' databases
    dependency_mean: float = 2.0
    latency_sensitive_share: float = 0.25            # of sync_api links
    resources_per_org: tuple[int, int] = (10, 30)
    resource_items: bool = True                      # catalogue data items; off for large scales (load time)
    dept_rooms_share: float = 0.3                    # departments that run their own room
    county_rooms: tuple[int, int] = (5, 15)
    as_of: date = date(2021, 6, 30)
    name: str | None = None


def scale_params(scale: str) -> Params:
    if scale == "city":
        return Params()
    if scale == "province":
        return Params(provinces=1, cities_per_province=(13, 21), counties_per_city=(5, 7),
                      province_units=(150, 250), city_units=(100, 130), county_units=(12, 20),
                      resources_per_org=(4, 12), resource_items=False, county_rooms=(3, 6))
    if scale == "national":
        return Params(provinces=31, cities_per_province=(9, 13), counties_per_city=(8, 9),
                      province_units=(150, 220), city_units=(100, 120), county_units=(8, 10),
                      county_factor=0.9, resources_per_org=(1, 3), resource_items=False, dept_rooms_share=0.15,
                      county_rooms=(1, 2))
    raise ValueError(Msg("unknown scale {scale!r}; choose one of {scales}", scale=scale, scales=", ".join(SCALES)))


# ---------------------------------------------------------------- the builder


def _lognormal(median: float, p90: float) -> tuple[float, float]:
    return math.log(median), math.log(p90 / median) / 1.2816


@dataclass
class _OrgPlan:
    """What the builder needs to know about an organisation while filling it."""

    org: Organization
    code: str                      # catalogue code: decides names and verticals
    systems: Sequence[str]         # names to draw from
    n_systems: int
    heavy: bool = False
    classified_prone: bool = False
    host_prefix: str = ""
    region_rooms: "_RegionRooms | None" = None
    own_room: str | None = None


@dataclass
class _RegionRooms:
    info_center: str
    idc: str | None
    intranet: str


@dataclass
class _Estate:
    system_ids: list[str] = field(default_factory=list)
    hubs: dict[str, str] = field(default_factory=dict)     # role → hub system id
    vcpus: int = 0
    ram: float = 0
    disk: float = 0


class Builder:
    """Appends records to an Inventory; shared by the generator and the Heyuan example."""

    def __init__(self, rng: random.Random, params: Params, inv: Inventory | None = None):
        self.rng = rng
        self.p = params
        self.inv = inv or Inventory()
        self.as_of = params.as_of
        self._ip = itertools.count(1)
        self._sys_mu, self._sys_sigma = _lognormal(params.systems_median, params.systems_p90)
        self._srv_mu, self._srv_sigma = _lognormal(params.servers_median, params.servers_p90)
        m = params.mlps_mix
        self._mlps_cum = list(itertools.accumulate(m))
        self.estates: dict[str, _Estate] = {}     # region code → estate totals and hubs

    # ----------------------------------------------------------- small draws

    def n_systems(self, factor: float) -> int:
        x = self.rng.lognormvariate(self._sys_mu, self._sys_sigma) * factor
        return min(self.p.systems_max, int(x + 0.5))

    def n_servers(self, category: SystemCategory) -> int:
        rng = self.rng
        heavy = self.p.heavy_system_share * (4 if category in (SystemCategory.video_iot, SystemCategory.data_platform) else 1)
        if rng.random() < heavy:
            return rng.randint(*self.p.heavy_system_servers)
        return max(1, min(200, int(rng.lognormvariate(self._srv_mu, self._srv_sigma) + 0.5)))

    def date_between(self, start: date, end: date) -> date:
        span = (end - start).days
        return start + timedelta(days=self.rng.randint(0, max(0, span)))

    def next_ip(self, zone: NetworkZone) -> str:
        """Addresses only from 198.18.0.0/15 (the benchmarking range): a synthetic inventory must
        never point discovery or compliance checks at a real network. Extranet 198.18.0.0/16,
        Internet-facing 198.19.0.0/17, intranet 198.19.128.0/17; they repeat past 65,534 hosts."""
        n = next(self._ip)
        if zone is NetworkZone.internet:
            base, size = (198 << 24) | (19 << 16), 1 << 15
        elif zone is NetworkZone.gov_intranet:
            base, size = (198 << 24) | (19 << 16) | (128 << 8), 1 << 15
        else:
            base, size = (198 << 24) | (18 << 16), 1 << 16
        host = base + 1 + n % (size - 2)
        return ".".join(str((host >> shift) & 255) for shift in (24, 16, 8, 0))

    # ----------------------------------------------------------- servers

    def server(self, sid: str, hostname: str, room: str | None, role: ServerRole, zone: NetworkZone,
               *, os_row: tuple | None = None) -> Server:
        rng = self.rng
        row = os_row or _OS_TABLE[bisect.bisect_left(_OS_CUM, rng.random() * _OS_CUM[-1])]
        _w, os_dist, versions, arch, vendors, kind = row
        if kind is None:
            kind = ServerKind.physical if (role is ServerRole.db and rng.random() < 0.5) or rng.random() < 0.2 \
                else ServerKind.vm
        if kind is ServerKind.vm:
            cores = _VM_CORES[int(rng.random() * len(_VM_CORES))]
            hyp = _HYPERVISORS[int(rng.random() * len(_HYPERVISORS))]
        else:
            cores = _PHYS_CORES[int(rng.random() * len(_PHYS_CORES))]
            hyp = None
        disks = _SYS_DISKS[int(rng.random() * len(_SYS_DISKS))]
        if role in (ServerRole.db, ServerRole.file, ServerRole.backup) or rng.random() < 0.3:
            disks = disks + (_DATA_DISKS[int(rng.random() * len(_DATA_DISKS))],)
        software = ()
        pool = _SOFTWARE.get(role)
        if pool:
            software = pool[int(rng.random() * len(pool))]
        inv = self.inv
        srv = Server(id=sid, hostname=hostname, machine_room=room, kind=kind, hypervisor=hyp,
                     ips=(self.next_ip(zone),), cpu_vendor=vendors[int(rng.random() * len(vendors))],
                     cpu_arch=arch, cores=cores, ram_gb=cores * (2 if rng.random() < 0.4 else 4),
                     disks=disks, os_distribution=os_dist, os_version=versions[int(rng.random() * len(versions))],
                     role=role, software=software)
        inv.servers[sid] = srv
        return srv

    # ----------------------------------------------------------- systems

    def system(self, plan: _OrgPlan, sid: str, name: str, *, build_mode: BuildMode = BuildMode.self_built,
               authority: str | None = None, n_servers: int | None = None, region: str,
               **attrs: Any) -> InformationSystem:
        """One system with its servers and database; attrs override any drawn field."""
        rng, p = self.rng, self.p
        category = _category(name)
        vertical = build_mode.is_vertical
        classified = attrs.get("secrecy") is Secrecy.classified or (
            "secrecy" not in attrs and not vertical and category is not SystemCategory.portal and
            rng.random() < p.classified_share * (6 if plan.classified_prone else 0.55))
        zone = attrs.get("network_zone") or _draw_zone(rng, category, classified, plan.code)
        fields: dict[str, Any] = dict(id=sid, name=name, owner_org=plan.org.id, category=category,
                                      build_mode=build_mode, network_zone=zone)
        if vertical:
            fields["vertical_authority"] = authority
            fields["funding_source"] = FundingSource.higher_subsidy
            if rng.random() < p.vertical_approval_share:
                fields["superior_approval"] = Approval(authority, f"{authority[:2]}函〔{rng.randint(2018, 2020)}〕"
                                                       f"{rng.randint(10, 300)}号",
                                                       self.as_of - timedelta(days=rng.randint(30, 700)))
        else:
            fields["funding_source"] = FundingSource.fiscal if rng.random() < 0.85 else FundingSource.self_funded
        if zone is NetworkZone.gov_extranet:
            fields["extranet_area"] = ExtranetArea.internet_access if category is SystemCategory.portal else (
                ExtranetArea.private_vpn if rng.random() < 0.6 else ExtranetArea.common)
        if zone is NetworkZone.dedicated_net:
            fields["dedicated_net_owner"] = authority or f"{plan.org.short_name or plan.org.name}业务专网"
        if classified:
            fields.update(secrecy=Secrecy.classified,
                          secrecy_grade=SecrecyGrade.secret if rng.random() < 0.8 else SecrecyGrade.confidential,
                          fenbao_status=(FenbaoStatus.filed, FenbaoStatus.approved, FenbaoStatus.assessed,
                                         FenbaoStatus.none)[min(3, int(rng.random() * 4.5))])
        else:
            self._draw_mlps(fields, zone)
        built = self.date_between(date(2006, 1, 1), min(self.as_of, date(2020, 12, 31)) - timedelta(days=120))
        go_live = built + timedelta(days=rng.randint(60, 400))
        lifecycle = self._draw_lifecycle()
        if go_live > self.as_of:
            go_live = None
            lifecycle = Lifecycle.building
        fields.update(built_at=built, go_live=go_live, lifecycle=lifecycle,
                      developer=_DEVELOPERS[int(rng.random() * len(_DEVELOPERS))],
                      importance=(Importance.very_important, Importance.important, Importance.ordinary)[
                          min(2, int(rng.random() * 3.2))],
                      users=int(rng.lognormvariate(5.5, 1.5)),
                      audience=_audience(category, zone), service_scope=_scope(vertical, rng),
                      investment_wan=round(rng.lognormvariate(4.5, 1.1), 1),
                      annual_om_wan=round(rng.lognormvariate(2.8, 0.9), 1),
                      data_gb=round(rng.lognormvariate(3.9, 1.7), 1),
                      shared_platform_connected=rng.random() < 0.35)
        if go_live is not None and rng.random() < 0.6:
            fields["contract_end"] = go_live + timedelta(days=365 * rng.randint(1, 5))
        if lifecycle is Lifecycle.zombie:
            k = 1 + (rng.random() < 0.4)
            fields["zombie_criteria"] = tuple(sorted(rng.sample(_ZOMBIE_CRITERIA, k), key=_ZOMBIE_CRITERIA.index))
            fields["last_used_at"] = self.as_of - timedelta(days=rng.randint(200, 1500))
        elif lifecycle is Lifecycle.in_service and rng.random() < 0.5:
            fields["last_used_at"] = self.as_of - timedelta(days=rng.randint(0, 20))
        if category is SystemCategory.portal and not classified:
            fields["covered_by_platform"] = "省网站集约化平台"
        elif category is SystemCategory.office and rng.random() < 0.5:
            fields["covered_by_platform"] = "协同办公平台"
        fields.update(attrs)
        if n_servers is None:
            n_servers = rng.randint(1, 2) if vertical else self.n_servers(category)
        room = self._room_for(plan, fields["network_zone"], fields.get("secrecy") is Secrecy.classified)
        servers = self._servers_for(plan, sid, n_servers, room, fields["network_zone"], region)
        fields["servers"] = servers
        system = InformationSystem(**fields)
        self.inv.systems[sid] = system
        self.estates.setdefault(region, _Estate()).system_ids.append(sid)
        return system

    def _draw_mlps(self, fields: dict, zone: NetworkZone) -> None:
        rng = self.rng
        if rng.random() < self.p.ungraded_share:
            return
        level = bisect.bisect_left(self._mlps_cum, rng.random() * self._mlps_cum[-1]) + 1
        fields["mlps_level"] = level
        if level == 1:
            fields["mlps_status"] = MlpsStatus.graded
            return
        fields["mlps_status"] = (MlpsStatus.filed, MlpsStatus.assessed, MlpsStatus.assessed,
                                 MlpsStatus.rectifying)[int(rng.random() * 4)]
        fields["mlps_filing_no"] = f"{rng.randint(11, 65)}{rng.randint(1000, 9999)}{rng.randint(10000, 99999)}-000{level}1"
        if fields["mlps_status"] in (MlpsStatus.assessed, MlpsStatus.rectifying):
            fields["mlps_last_assessed"] = self.as_of - timedelta(days=rng.randint(30, 900))
            fields["mlps_result"] = "符合" if rng.random() < 0.3 else "基本符合"
        s = level
        a = level if rng.random() < 0.6 else max(1, level - 1)
        fields["mlps_s_level"], fields["mlps_a_level"] = (s, a) if rng.random() < 0.5 else (a, s)

    def _draw_lifecycle(self) -> Lifecycle:
        x, p = self.rng.random(), self.p
        if x < p.zombie_share:
            return Lifecycle.zombie
        if x < p.zombie_share + p.idle_share:
            return Lifecycle.idle
        if x < p.zombie_share + p.idle_share + p.building_share:
            return Lifecycle.building
        return Lifecycle.in_service

    def _room_for(self, plan: _OrgPlan, zone: NetworkZone, classified: bool) -> str | None:
        rooms = plan.region_rooms
        if rooms is None:
            return plan.own_room
        if classified or zone is NetworkZone.gov_intranet:
            return rooms.intranet
        x = self.rng.random()
        if plan.own_room and x < 0.65:
            return plan.own_room
        if rooms.idc and x > 0.88:
            return rooms.idc
        return rooms.info_center

    def _servers_for(self, plan: _OrgPlan, sid: str, n: int, room: str | None, zone: NetworkZone,
                     region: str) -> tuple[str, ...]:
        ids = []
        prefix = plan.host_prefix
        short = sid.rsplit("-", 1)[-1]
        for k in range(n):
            role = _role_for(k, n)
            srv_id = f"{sid}-h{k + 1:02d}"
            self.server(srv_id, f"{prefix}-{short}-{role.value}{k + 1:02d}", room, role, zone)
            ids.append(srv_id)
        return tuple(ids)

    # ----------------------------------------------------------- databases

    def database_for(self, db_id: str, system: InformationSystem, servers: tuple[str, ...],
                     used_by: tuple[str, ...] | None = None) -> DatabaseInstance | None:
        if not servers:
            return None
        host = self.inv.servers[servers[0]]
        family = ("windows" if host.os_distribution is OsDistribution.windows else
                  "mini" if host.cpu_arch.is_minicomputer else
                  "domestic" if host.os_distribution.is_domestic else "linux")
        options = _DB_BY_OS[family]
        engine, version = options[int(self.rng.random() * len(options))]
        db = DatabaseInstance(id=db_id, engine=engine, version=version, servers=servers,
                              name=f"{system.name}数据库", size_gb=system.data_gb,
                              used_by=used_by or (system.id,),
                              replication=Replication.primary_replica if len(servers) > 1 else Replication.none)
        self.inv.databases[db_id] = db
        return db


def _category(name: str) -> SystemCategory:
    if "门户网站" in name or name.endswith("网站"):
        return SystemCategory.portal
    if "OA" in name or "办公" in name:
        return SystemCategory.office
    if "视频" in name or "监控" in name or "监测" in name:
        return SystemCategory.video_iot
    if "数据" in name or "一张图" in name or "信息资源" in name:
        return SystemCategory.data_platform
    if "云" in name or "网络" in name or "身份认证" in name or "共享交换" in name:
        return SystemCategory.infra_support
    return SystemCategory.business


def _draw_zone(rng: random.Random, category: SystemCategory, classified: bool, code: str) -> NetworkZone:
    if classified:
        return NetworkZone.gov_intranet
    if category is SystemCategory.portal:
        return NetworkZone.internet if rng.random() < 0.5 else NetworkZone.gov_extranet
    x = rng.random()
    if code == "gaj" and x < 0.7:
        return NetworkZone.dedicated_net
    if x < 0.64:
        return NetworkZone.gov_extranet
    if x < 0.78:
        return NetworkZone.internet
    if x < 0.94:
        return NetworkZone.dedicated_net
    return NetworkZone.isolated_lan


def _audience(category: SystemCategory, zone: NetworkZone) -> tuple[Audience, ...]:
    if category is SystemCategory.portal or zone is NetworkZone.internet:
        return (Audience.public, Audience.enterprises)
    return (Audience.internal,)


def _scope(vertical: bool, rng: random.Random) -> ServiceScope:
    if vertical:
        return ServiceScope.national if rng.random() < 0.5 else ServiceScope.province
    return (ServiceScope.city, ServiceScope.local_area, ServiceScope.own_unit)[int(rng.random() * 3)]


def _role_for(k: int, n: int) -> ServerRole:
    if n == 1:
        return ServerRole.app
    if k == n - 1:
        return ServerRole.db
    if n >= 4 and k == 0:
        return ServerRole.web
    if n >= 6 and k == n - 2:
        return (ServerRole.cache, ServerRole.file, ServerRole.backup, ServerRole.mq)[n % 4]
    return ServerRole.app


def unique_names(rng: random.Random, pool: Sequence[str], n: int) -> list[str]:
    """n distinct system names from pool, then variants (二期, 移动端 …) once the pool runs out."""
    names = list(pool)
    rng.shuffle(names)
    out = names[:n]
    variants = (f"{base}{suffix}" for suffix in VARIANT_SUFFIXES for base in names)
    seen = set(out)
    for v in variants:
        if len(out) >= n:
            break
        if v not in seen:
            seen.add(v)
            out.append(v)
    k = 2
    while len(out) < n:
        out.append(f"{names[len(out) % len(names)]}{k}号节点")
        k += 1
    return out


# ---------------------------------------------------------------- generator


class _Generator:
    def __init__(self, scale: str, seed: int, params: Params):
        self.scale = scale
        self.rng = random.Random(seed)
        self.p = params
        self.b = Builder(self.rng, params)
        self.inv = self.b.inv
        self.policy_orgs: list[list[str]] = []   # per region tier: orgs in takeover/migration order
        self.region_names: set[str] = set()
        self.has_db: set[str] = set()            # membership only, never iterated

    # ----------------------------------------------------------- names

    def place_name(self, suffix: str, used: set[str]) -> str:
        rng = self.rng
        while True:
            name = rng.choice(NAME_CHARS) + rng.choice(NAME_CHARS) + suffix
            if name not in used and name[0] != name[1]:
                used.add(name)
                return name

    # ----------------------------------------------------------- regions

    def run(self) -> Inventory:
        p, rng, inv = self.p, self.rng, self.inv
        provinces = list(PROVINCES)
        if p.provinces < len(provinces):
            provinces = sorted(rng.sample(provinces, p.provinces))
        used: set[str] = set()
        capital_orgs: list[str] = []
        for pcode, pname in provinces:
            inv.regions[pcode] = Region(pcode, pname, AdminLevel.province)
            if p.province_units[1] > 0:
                self.fill_region(pcode, pname, AdminLevel.province, rng.randint(*p.province_units),
                                 p.province_factor)
            n_cities = rng.randint(*p.cities_per_province)
            for ci in range(n_cities):
                ccode = f"{pcode[:2]}{ci + 1:02d}00"
                cname = self.place_name("市", used)
                inv.regions[ccode] = Region(ccode, cname, AdminLevel.prefecture, pcode)
                orgs = self.fill_region(ccode, cname, AdminLevel.prefecture, rng.randint(*p.city_units), 1.0)
                if not capital_orgs:
                    capital_orgs = orgs
                for k in range(rng.randint(*p.counties_per_city)):
                    kcode = f"{ccode[:4]}{k + 21:02d}"
                    kname = self.place_name("县" if k % 3 else "区", used)
                    inv.regions[kcode] = Region(kcode, kname, AdminLevel.county, ccode)
                    self.fill_region(kcode, kname, AdminLevel.county, rng.randint(*p.county_units),
                                     p.county_factor)
        top = provinces[0][0] if self.scale != "city" else next(
            c for c, r in inv.regions.items() if r.level is AdminLevel.prefecture)
        self.add_cloud(top)
        self.add_policy(top)
        name = p.name or {"city": f"{inv.regions[top].name}政务信息系统普查(合成数据)",
                          "province": f"{inv.regions[top].name}政务信息系统普查(合成数据)",
                          "national": "全国政务信息系统普查(合成数据)"}[self.scale]
        inv.meta = InventoryMeta(name=name, region=top if self.scale != "national" else None, as_of=p.as_of,
                                 default_policy="synthetic", description=f"govcloud generate --scale {self.scale}",
                                 source="govcloud.inventory.generate")
        return inv

    def fill_region(self, code: str, place: str, level: AdminLevel, n_units: int, factor: float) -> list[str]:
        """Organisations, rooms and estate of one region; returns its organisation ids."""
        short_place = {AdminLevel.province: "省", AdminLevel.prefecture: "市"}.get(level, place[-1])
        first_dep = len(self.inv.dependencies)
        plans = self.org_plans(code, place, short_place, level, n_units, factor)
        rooms = self.add_rooms(code, place, level, plans)
        hub_plan = next(pl for pl in plans if pl.code in ("xxzx", "sjzx"))
        self.add_hubs(hub_plan, code, rooms)
        for plan in plans:
            plan.region_rooms = rooms
            self.fill_org(plan, code, factor)
        self.add_dependencies(code, first_dep)
        self.add_takeovers(plans)
        self.policy_orgs.append([pl.org.id for pl in plans if pl.n_systems or pl.code in ("xxzx",)])
        return [pl.org.id for pl in plans]

    def org_plans(self, code: str, place: str, short_place: str, level: AdminLevel, n_units: int,
                  factor: float) -> list[_OrgPlan]:
        rng = self.rng
        plans: list[_OrgPlan] = []
        host = f"r{code}"
        county = level is AdminLevel.county

        def add(ocode: str, name: str, short: str, otype: OrgType, systems: Sequence[str], n: int,
                heavy: bool = False, classified: bool = False) -> None:
            oid = f"{code}-{ocode}"
            org = Organization(id=oid, name=name, short_name=short, region=code, org_type=otype)
            self.inv.organizations[oid] = org
            plans.append(_OrgPlan(org, ocode, systems, n, heavy, classified, f"{host}-{ocode}"))

        def sys_count(f: float) -> int:
            return self.b.n_systems(factor * f)

        # the units every region has first: the information centre runs the shared platforms
        add("xxzx", f"{place}政务服务数据管理局" if not county else f"{place}政务服务数据管理局",
            f"{short_place}政务服务数据管理局", OrgType.authority, (), 0)
        add("sjzx", f"{place}信息中心", f"{short_place}信息中心", OrgType.public_institution,
            ("政务外网管理系统", "网络安全监测平台", "电子政务灾备系统"), sys_count(0.5))
        budget = n_units - 2
        if county:
            picks = [d for d in DEPARTMENTS if d[0] not in ("xxzx",)]
            rng.shuffle(picks)
            for d in sorted(picks[:max(0, budget)], key=DEPARTMENTS.index):
                dcode, cname, _pname, otype, heavy, classified, systems = d
                add(dcode, f"{place}{cname}", f"{short_place}{cname}", otype, systems + GENERIC_SYSTEMS[:3],
                    sys_count(self.p.heavy_factor if dcode in HEAVY else 1.0), heavy, classified)
            return plans
        for d in DEPARTMENTS:
            if budget <= 0:
                break
            dcode, cname, pname, otype, heavy, classified, systems = d
            if dcode == "xxzx":
                continue
            name = pname if level is AdminLevel.province else cname
            add(dcode, f"{place}{name}", f"{short_place}{name}", otype, systems + GENERIC_SYSTEMS,
                sys_count(self.p.heavy_factor if dcode in HEAVY else 1.0), heavy, classified)
            budget -= 1
        for pcode, pname, otype, classified, systems in PARTY:
            if budget <= 0:
                break
            add(pcode, f"中共{place}{pname}" if pname.startswith("委") else f"{place}{pname}",
                f"{short_place}{pname}", otype, systems + GENERIC_SYSTEMS[:3], sys_count(0.6), False, classified)
            budget -= 1
        topics = list(INSTITUTION_TOPICS)
        rng.shuffle(topics)
        i = 0
        while budget > 0:
            topic, systems = topics[i % len(topics)]
            label = topic if i < len(topics) else f"{topic}{'第' + str(i // len(topics) + 1) + '分部'}"
            n = sys_count(self.p.institution_factor * 2) if rng.random() < 0.7 else 0
            add(f"sy{i + 1:03d}", f"{place}{label}", f"{short_place}{label}", OrgType.public_institution,
                systems + GENERIC_SYSTEMS[:2], n)
            budget -= 1
            i += 1
        return plans

    # ----------------------------------------------------------- rooms

    def add_rooms(self, code: str, place: str, level: AdminLevel, plans: list[_OrgPlan]) -> _RegionRooms:
        rng, inv = self.rng, self.inv
        authority = plans[0].org.id
        info = plans[1].org.id

        def room(rid: str, name: str, owner: str, rtype: RoomType, zones: tuple, racks: int,
                 built: date) -> str:
            inv.machine_rooms[rid] = MachineRoom(id=rid, name=name, owner_org=owner, room_type=rtype,
                                                 network_zones=zones, built_on=built, racks=racks,
                                                 power_kw=racks * 5.0, address=f"{place}")
            return rid

        ext = (NetworkZone.gov_extranet, NetworkZone.internet)
        ic = room(f"{code}-room-xxzx", f"{place}信息中心机房", info, RoomType.info_center, ext,
                  rng.randint(20, 80), date(rng.randint(2008, 2014), rng.randint(1, 12), 1))
        idc = None
        if level is not AdminLevel.county:
            idc = room(f"{code}-room-idc", f"中国电信{place}IDC机房(托管)", authority, RoomType.carrier_idc, ext,
                       rng.randint(10, 40), date(2012, 6, 1))
        intranet = room(f"{code}-room-nw", f"{place}政务内网机房", plans[1].org.id, RoomType.intranet_room,
                        (NetworkZone.gov_intranet,), rng.randint(4, 12), date(rng.randint(2006, 2012), 3, 1))
        candidates = sorted((pl for pl in plans[2:] if pl.n_systems >= 3), key=lambda pl: -pl.n_systems)
        if level is AdminLevel.county:
            n_rooms = min(len(candidates), rng.randint(*self.p.county_rooms))
        else:
            n_rooms = min(len(candidates), max(1, int(len(plans) * self.p.dept_rooms_share)))
        for pl in candidates[:n_rooms]:
            zones = (NetworkZone.gov_extranet, NetworkZone.dedicated_net) if pl.code == "gaj" else \
                (NetworkZone.gov_extranet,)
            pl.own_room = room(f"{pl.org.id}-room", f"{pl.org.name}机房", pl.org.id, RoomType.dept_self_built,
                               zones, rng.randint(2, 12),
                               self.b.date_between(date(2005, 1, 1), date(2017, 12, 31)))
        return _RegionRooms(ic, idc, intranet)

    # ----------------------------------------------------------- systems

    def add_hubs(self, plan: _OrgPlan, region: str, rooms: _RegionRooms) -> None:
        """The shared platforms other systems call: exchange, identity, e-licence."""
        plan.region_rooms = rooms
        est = self.b.estates.setdefault(region, _Estate())
        for role, name, cat_zone in (("exchange", "政务信息资源共享交换平台", NetworkZone.gov_extranet),
                                     ("sso", "统一身份认证平台", NetworkZone.gov_extranet),
                                     ("license", "电子证照系统", NetworkZone.gov_extranet)):
            sid = f"{plan.org.id}-{role}"
            self.b.system(plan, sid, name, region=region, build_mode=BuildMode.city_unified,
                          network_zone=cat_zone, lifecycle=Lifecycle.in_service, secrecy=Secrecy.non_classified,
                          zombie_criteria=(), mlps_level=3, mlps_s_level=3, mlps_a_level=3,
                          mlps_status=MlpsStatus.assessed, mlps_last_assessed=self.p.as_of - timedelta(days=200),
                          go_live=date(2017, 6, 1), built_at=date(2016, 9, 1), last_used_at=self.p.as_of,
                          contract_end=date(2022, 6, 30),
                          n_servers=self.rng.randint(3, 6), importance=Importance.very_important)
            self._db(plan, self.inv.systems[sid], 1)
            est.hubs[role] = sid

    def fill_org(self, plan: _OrgPlan, region: str, factor: float) -> None:
        rng, b = self.rng, self.b
        if plan.n_systems == 0 and plan.code not in VERTICALS:
            self.add_resources(plan, [])
            return
        names = unique_names(rng, plan.systems, plan.n_systems)
        made: list[InformationSystem] = []
        for k, name in enumerate(names):
            mode = BuildMode.self_built
            if rng.random() < self.p.unified_share:
                mode = (BuildMode.city_unified, BuildMode.purchased_service, BuildMode.co_built)[int(rng.random() * 3)]
            sysobj = b.system(plan, f"{plan.org.id}-s{k + 1:02d}", name, region=region, build_mode=mode)
            made.append(sysobj)
        for k, (lvl, authority, name) in enumerate(VERTICALS.get(plan.code, ())):
            if rng.random() < 0.25:
                continue
            mode = BuildMode.national_vertical if lvl == "n" else BuildMode.provincial_vertical
            made.append(b.system(plan, f"{plan.org.id}-v{k + 1:02d}", name, region=region, build_mode=mode,
                                 authority=authority))
        self.add_databases(plan, made)
        self.add_resources(plan, made)

    def _db(self, plan: _OrgPlan, system: InformationSystem, k: int) -> None:
        db_servers = tuple(s for s in system.servers if self.inv.servers[s].role is ServerRole.db) or system.servers[-1:]
        self.b.database_for(f"{system.id}-db{k}", system, db_servers)
        self.has_db.add(system.id)

    def share_database(self, plan: _OrgPlan, group: Sequence[InformationSystem]) -> DatabaseInstance:
        """The first system's database used by the whole group (DatabaseInstance.used_by)."""
        first = group[0]
        db = self.b.database_for(f"{first.id}-db1", first, first.servers[-1:], used_by=tuple(s.id for s in group))
        self.has_db.add(first.id)
        for member in group[1:]:
            # a shared database puts its server in every user's server list
            member.servers = member.servers + db.servers
            self.inv.dependencies.append(Dependency(member.id, first.id, DepType.shared_db,
                                                    criticality=Criticality.high, description=f"共用数据库 {db.id}"))
            self._db(plan, member, 2)
        return db

    def add_databases(self, plan: _OrgPlan, made: list[InformationSystem]) -> None:
        """One database per system with a DB server; some share a server or a whole instance."""
        rng = self.rng
        with_db = [s for s in made if len(s.servers) > 1 and not s.build_mode.is_vertical
                   and s.id not in self.has_db]
        i = 0
        while i < len(with_db):
            system = with_db[i]
            group_size = rng.randint(2, 6)
            if rng.random() < self.p.shared_db_group_share / 1.2 and i + group_size <= len(with_db) and \
                    not any(s.is_classified for s in with_db[i:i + group_size]):
                self.share_database(plan, with_db[i:i + group_size])
                i += group_size
                continue
            self._db(plan, system, 1)
            i += 1
        # co-hosting: another system's DB on an existing DB server of the same department
        hosts = [s for s in with_db if not s.is_classified]
        for system in hosts[1:]:
            if rng.random() < self.p.db_cohost_share:
                other = hosts[int(rng.random() * len(hosts))]
                host = other.servers[-1]
                if other is system or host in system.servers:
                    continue
                system.servers = system.servers + (host,)
                self.b.database_for(f"{system.id}-db9", system, (host,))

    def add_dependencies(self, region: str, since: int = 0) -> None:
        """Random links inside one region; ``since`` skips earlier regions' links (linear at national scale)."""
        rng, inv = self.rng, self.inv
        est = self.b.estates.get(region)
        if est is None:
            return
        declared: dict[str, set[tuple[str, DepType]]] = {}
        for dep in itertools.islice(inv.dependencies, since, None):
            declared.setdefault(dep.from_, set()).add((dep.to, dep.type))
        ids = [s for s in est.system_ids if not inv.systems[s].is_classified]
        hubs = est.hubs
        hub_ids = set(hubs.values())
        lam = self.p.dependency_mean
        for sid in ids:
            system = inv.systems[sid]
            if sid in hub_ids:
                continue
            k = min(7, _poisson(rng, lam))
            seen = declared.get(sid, set())
            for _ in range(k):
                x = rng.random()
                if x < 0.25:
                    to, dtype = hubs["exchange"], DepType.via_exchange_platform
                elif x < 0.45:
                    to, dtype = hubs["sso"], DepType.sso
                elif x < 0.52:
                    to, dtype = hubs["license"], DepType.sync_api
                else:
                    to = ids[int(rng.random() * len(ids))]
                    dtype = (DepType.sync_api, DepType.sync_api, DepType.async_mq, DepType.file_exchange)[
                        int(rng.random() * 4)]
                    if system.build_mode.is_vertical and inv.systems[to].build_mode.is_vertical:
                        dtype = DepType.vertical_uplink
                if to == sid or (to, dtype) in seen:
                    continue
                seen.add((to, dtype))
                latency = dtype is DepType.sync_api and rng.random() < self.p.latency_sensitive_share
                inv.dependencies.append(Dependency(sid, to, dtype, latency_sensitive=latency,
                                                   criticality=Criticality.high if latency else
                                                   (Criticality.medium, Criticality.low)[int(rng.random() * 2)]))

    # ----------------------------------------------------------- catalogue, takeover

    def add_resources(self, plan: _OrgPlan, made: list[InformationSystem],
                      count: tuple[int, int] | None = None) -> None:
        rng, inv = self.rng, self.inv
        lo, hi = count or self.p.resources_per_org
        if not made:
            lo, hi = 0, max(0, lo // 2)
        open_systems = [s.id for s in made if not s.is_classified]
        n = rng.randint(lo, hi)
        for k in range(n):
            base = open_systems[int(rng.random() * len(open_systems))] if open_systems else None
            topic = inv.systems[base].name.replace("系统", "").replace("平台", "") if base else \
                (plan.org.short_name or plan.org.name)
            kind = ("登记信息", "办件信息", "统计数据", "监管信息", "许可信息", "基本信息")[k % 6]
            rid = f"{plan.org.id}-r{k + 1:03d}"
            sharing = (SharingType.unconditional, SharingType.conditional, SharingType.conditional,
                       SharingType.not_shared)[int(rng.random() * 4)]
            inv.resources[rid] = InformationResource(
                id=rid, name=f"{topic}{kind}" if k < 6 else f"{topic}{kind}({k // 6 + 1})",
                provider_org=plan.org.id, abstract=f"{plan.org.name}在履职过程中产生的{topic}{kind}",
                classification="政务信息资源/部门类", format="数据库", sharing_type=sharing,
                sharing_conditions="经审批后共享" if sharing is SharingType.conditional else None,
                sharing_method=(SharingMethod.api, SharingMethod.table, SharingMethod.file)[int(rng.random() * 3)],
                open_to_public=sharing is SharingType.unconditional and rng.random() < 0.4,
                update_cycle=(UpdateCycle.realtime, UpdateCycle.daily, UpdateCycle.monthly,
                              UpdateCycle.yearly)[int(rng.random() * 4)],
                related_systems=(base,) if base else (), authoritative_system=base,
                lib_kind=ResourceLib.business, management_method="部门自管",
                items=_ITEMS if self.p.resource_items else ())

    def add_takeovers(self, plans: list[_OrgPlan]) -> None:
        rng = self.rng
        for pl in plans[2:]:
            if not pl.n_systems:
                continue
            x = rng.random()
            status = TakeoverStatus.taken_over if x < 0.2 else (
                TakeoverStatus.in_progress if x < 0.35 else TakeoverStatus.not_started)
            self.inv.takeovers[f"{pl.org.id}-tk"] = TakeoverRecord(
                id=f"{pl.org.id}-tk", org=pl.org.id, from_maintainer=_DEVELOPERS[int(rng.random() * len(_DEVELOPERS))],
                to_operator="数字政府建设运营中心", status=status,
                planned_date=self.p.as_of + timedelta(days=rng.randint(-200, 400)),
                done_date=self.p.as_of - timedelta(days=rng.randint(1, 200)) if status is TakeoverStatus.taken_over else None,
                handover_items=("系统账号", "运维文档", "源代码") if status is TakeoverStatus.taken_over else ())

    # ----------------------------------------------------------- cloud, policy

    def add_cloud(self, top: str) -> None:
        inv = self.inv
        vcpus = sum(s.cores for s in inv.servers.values())
        ram = sum(s.ram_gb for s in inv.servers.values())
        disk = sum(d.size_gb for s in inv.servers.values() for d in s.disks)
        add_cloud_platform(inv, f"{top}-cloud", f"{inv.regions[top].name}政务云", top,
                           CloudTier.national if self.scale == "national" else
                           CloudTier.provincial if self.scale == "province" else CloudTier.municipal,
                           vcpus, ram, disk, operator=f"{top}-xxzx" if f"{top}-xxzx" in inv.organizations else None)

    def add_policy(self, top: str) -> None:
        inv, p = self.inv, self.p
        start = p.as_of + timedelta(days=1)
        tiers = [orgs for orgs in self.policy_orgs if orgs]
        everyone = [o for orgs in tiers for o in orgs]
        pilot = [o for o in everyone[:8] if o.endswith(("-xxzx", "-sjzx", "-ggzy", "-dfz"))][:2] or everyone[:2]
        rest = [o for o in everyone if o not in set(pilot)]
        n_batches = 4
        size = math.ceil(len(rest) / n_batches)
        batches = [Batch("P0", "试点批次", BatchKind.migration, start + timedelta(days=90), start,
                         declared_count=len(pilot), scope_orgs=tuple(pilot), principle="先易后难",
                         source="合成数据")]
        for i in range(n_batches):
            chunk = tuple(rest[i * size:(i + 1) * size])
            batches.append(Batch(f"B{i + 1}", f"第{'一二三四五六'[i]}批", BatchKind.migration,
                                 start + timedelta(days=180 * (i + 1)), declared_count=len(chunk),
                                 scope_orgs=chunk, principle="轻重缓急", source="合成数据"))
        final = start + timedelta(days=180 * n_batches)
        # A synthetic programme should be feasible, as a real one is meant to be: each
        # department's takeover is planned before its batch deadline, and the team moves
        # enough servers a week to finish the estate with a third of the time to spare.
        deadline_of = {o: b.deadline for b in batches for o in b.scope_orgs}
        for t in inv.takeovers.values():
            due = deadline_of.get(t.org or "")
            if due and t.planned_date and t.planned_date > due - timedelta(days=60):
                t.planned_date = max(p.as_of, due - timedelta(days=60 + (hash_days(t.id) % 60)))
        weeks = (final - start).days / 7
        per_week = max(40, math.ceil(len(inv.servers) / (weeks * 0.66)))
        inv.policies["synthetic"] = Policy(
            id="synthetic", name="合成数据迁移策略", region=top if self.scale != "national" else None,
            source="govcloud.inventory.generate", start=start, batches=tuple(batches),
            thresholds=Thresholds(no_new_machine_room_after=date(2018, 11, 11), servers_per_week=per_week,
                                  pilot_max_servers=40, cutover_window="Sat 22:00-06:00"),
            final_deadline=final)
        for fid, fname, s, e in (("lianghui", "全国两会", (3, 1), (3, 15)), ("guoqing", "国庆假期", (9, 25), (10, 8))):
            year = start.year if date(start.year, *s) >= start else start.year + 1
            inv.freeze_windows[fid] = FreezeWindow(fid, f"{year}年{fname}", date(year, *s), date(year, *e),
                                                   reason="重大活动保障期间暂停割接")


def hash_days(text: str) -> int:
    """A stable small number from an id (Python's hash() is salted per process)."""
    return sum(text.encode()) * 2654435761 % 1_000_003


def add_cloud_platform(inv: Inventory, pid: str, name: str, region: str, tier: CloudTier, vcpus: float,
                       ram: float, disk: float, *, operator: str | None, headroom: float = 1.4) -> None:
    """A gov cloud with an x86 pool, a Kunpeng 信创 pool, an L4 dedicated pool and an intranet cloud."""
    def cap(share: float) -> Capacity:
        return Capacity(int(vcpus * headroom * share) + 64, round(ram * headroom * share + 256),
                        round(disk * headroom * share + 10240), int(20 + 200 * share))

    inv.cloud_platforms[pid] = CloudPlatform(pid, name, tier, stack="华为云Stack", api_kind=ApiKind.openstack,
                                             operator_org=operator, cloud=pid)
    inv.cloud_platforms[f"{pid}-nw"] = CloudPlatform(f"{pid}-nw", f"{name.removesuffix('政务云')}政务内网云",
                                                     CloudTier.intranet_cloud, stack="国产化私有云",
                                                     api_kind=ApiKind.proprietary, operator_org=operator)
    zones = (
        CloudZone(f"{pid}-x86", pid, "政务外网x86通用资源池", NetworkZone.gov_extranet, ExtranetArea.private_vpn, 3,
                  cpu_arch=CpuArch.x86_64, cpu_vendor=CpuVendor.intel, dr_site="异地灾备中心",
                  dr_mode=DrMode.realtime_offsite_ha, capacity=cap(0.6), flavors=FLAVORS, images=X86_IMAGES,
                  availability_zone="az1"),
        CloudZone(f"{pid}-arm", pid, "鲲鹏信创资源池", NetworkZone.gov_extranet, ExtranetArea.private_vpn, 3,
                  cpu_arch=CpuArch.aarch64, cpu_vendor=CpuVendor.kunpeng, is_xinchuang=True,
                  dr_site="异地灾备中心", dr_mode=DrMode.realtime_offsite_ha, capacity=cap(0.35), flavors=KP_FLAVORS, images=ARM_IMAGES,
                  availability_zone="az2"),
        CloudZone(f"{pid}-inet", pid, "互联网接入区资源池", NetworkZone.internet, None, 3,
                  dr_site="异地灾备中心", dr_mode=DrMode.realtime_offsite_ha, capacity=cap(0.12), flavors=FLAVORS,
                  images=X86_IMAGES,
                  availability_zone="az1"),
        CloudZone(f"{pid}-l4", pid, "四级等保专属资源池", NetworkZone.gov_extranet, ExtranetArea.private_vpn, 4,
                  dedicated_pool=True, dr_mode=DrMode.realtime_offsite_ha, capacity=cap(0.04), flavors=FLAVORS[1:],
                  images=X86_IMAGES[:2], availability_zone="az3"),
        CloudZone(f"{pid}-nw-1", f"{pid}-nw", "政务内网涉密资源池", NetworkZone.gov_intranet, None, 3,
                  accepts_classified=True, dedicated_pool=True, cpu_arch=CpuArch.x86_64, cpu_vendor=CpuVendor.hygon,
                  is_xinchuang=True, dr_site="内网异地灾备中心", dr_mode=DrMode.realtime_offsite_ha,
                  capacity=cap(0.06), flavors=FLAVORS[1:],
                  images=X86_IMAGES[:2]),
    )
    for z in zones:
        inv.cloud_zones[z.id] = z


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, prod = math.exp(-lam), 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


# ---------------------------------------------------------------- public API


def generate_inventory(scale: str, seed: int, **overrides: Any) -> Inventory:
    """A synthetic inventory of the given scale; identical for identical (scale, seed, overrides)."""
    params = scale_params(scale)
    unknown = [k for k in overrides if not hasattr(params, k)]
    if unknown:
        raise TypeError(f"unknown generator parameter(s): {', '.join(sorted(unknown))}")
    params = replace(params, **overrides)
    return _Generator(scale, seed, params).run()


def write_generated(inv: Inventory, out_dir: Path | str, *, force: bool = False) -> list[Path]:
    """Write with the machine style; refuses a non-empty directory unless ``force``.

    With ``force``, inventory files left from an earlier run that this run did not
    write are removed: the loader reads every .yaml under the root, so a stale
    department file would silently join the new inventory.
    """
    out = Path(out_dir)
    if out.exists() and any(p.name != ".govcloud" for p in out.iterdir()) and not force:
        raise FileExistsError(Msg("{out} is not empty; pass force=True (--force) to overwrite it", out=out))
    written = write_inventory(inv, out, style="lines", durable=False)  # regenerable from the seed
    if force:
        keep = {p.resolve() for p in written}
        for stale in sorted(out.rglob("*")):
            if stale.suffix in (".yaml", ".yml") and stale.is_file() and stale.resolve() not in keep:
                stale.unlink()
    return written


def summary(inv: Inventory) -> dict[str, int]:
    return inv.counts()
