"""Enumerations of the domain, each value with its Chinese label (DOMAIN.md §4.2).

Inventory files may use either the English key (``classified``) or the Chinese
label (``涉密``); both parse to the same member. Output always uses the key, and
renderers show the label for the chosen language.
"""

from __future__ import annotations

from enum import Enum

from govcloud.base.i18n import Msg, tr


class Label(Msg):
    """A word inside a ``Msg`` that has its own (Chinese, English) wording: ``str`` is ``plain``
    (what JSON and logs keep), ``text(lang)`` the wording in ``lang``."""

    __slots__ = ("zh", "en")

    def __new__(cls, plain: str, zh: str, en: str) -> "Label":
        obj = str.__new__(cls, plain)
        obj.msgid, obj.ctx, obj.params, obj.zh, obj.en = plain, None, {}, zh, en
        return obj

    def text(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __reduce__(self):  # type: ignore[override]
        return (Label, (str(self), self.zh, self.en))


class Items(Msg):
    """A list of words or messages inside a ``Msg``: ``str`` joins them with ", " (JSON, logs),
    ``text(lang)`` shows each in ``lang``, joined as that language lists them."""

    __slots__ = ("items",)

    def __new__(cls, items: "list[str] | tuple[str, ...]") -> "Items":
        items = tuple(items)
        obj = str.__new__(cls, ", ".join(items))
        obj.msgid, obj.ctx, obj.params, obj.items = ", ".join(items), None, {}, items
        return obj

    def text(self, lang: str) -> str:
        sep = tr(", ", lang, ctx="list separator")
        return sep.join(x.text(lang) if isinstance(x, Msg) else str(x) for x in self.items)

    def __reduce__(self):  # type: ignore[override]
        return (Items, (self.items,))


class LabeledEnum(str, Enum):
    """A string enum whose members carry an English label (``en``, the key with spaces unless
    given) and its Chinese translation (``zh``) from the catalog, context ``enum:<Class>``."""

    zh: str
    en: str

    def __new__(cls, value: str, en: str | None = None):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.en = en or value.replace("_", " ")
        obj.zh = tr(obj.en, "zh", ctx=f"enum:{cls.__name__}")
        return obj

    def __str__(self) -> str:  # so f-strings and json show the key, not "Enum.member"
        return self.value

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def msg(self) -> Label:
        """The member as a message parameter: its key as plain text (JSON, logs), its label in the
        language a renderer shows it in."""
        return Label(self.value, self.zh, self.en)

    @classmethod
    def lookup(cls) -> dict[str, "LabeledEnum"]:
        """Every accepted spelling → member: key, Chinese label, English label."""
        table = cls.__dict__.get("_lookup_cache")
        if table is None:
            table = {}
            for m in cls:
                table[m.value] = m
                table.setdefault(m.zh, m)
                table.setdefault(m.en, m)
            type.__setattr__(cls, "_lookup_cache", table)
        return table


class AdminLevel(LabeledEnum):
    national = "national"
    province = "province"
    prefecture = "prefecture"
    county = "county"
    township = "township"
    village = "village"


class OrgType(LabeledEnum):
    party_dept = "party_dept", "Party department"
    gov_component = "gov_component", "government component department"
    gov_direct = "gov_direct", "directly affiliated agency"
    dept_managed = "dept_managed", "department-managed agency"
    public_institution = "public_institution", "public institution"
    vertical_managed = "vertical_managed", "vertically managed unit"
    congress_cppcc_court_proc = "congress_cppcc_court_proc", "congress/CPPCC/court/procuratorate"
    mass_org = "mass_org", "mass organisation"
    soe = "soe", "state-owned enterprise"
    town_gov = "town_gov", "town/sub-district government"
    operator = "operator", "operating company"
    authority = "authority", "data administration"


class ItUnitStatus(LabeledEnum):
    retained = "retained"
    abolished = "abolished"
    merged = "merged"
    adjusted = "adjusted"


class RoomType(LabeledEnum):
    dept_self_built = "dept_self_built", "department self-built room"
    info_center = "info_center", "information-centre room"
    carrier_idc = "carrier_idc", "carrier IDC"
    unified_dc = "unified_dc", "unified data centre"
    cloud_pool = "cloud_pool", "government-cloud pool"
    intranet_room = "intranet_room", "intranet (classified) room"


class RoomStatus(LabeledEnum):
    in_use = "in_use", "in use"
    consolidating = "consolidating"
    closed = "closed"


class NetworkZone(LabeledEnum):
    gov_intranet = "gov_intranet", "e-government intranet"
    gov_extranet = "gov_extranet", "e-government extranet"
    dedicated_net = "dedicated_net", "dedicated (sector) network"
    internet = "internet", "Internet"
    isolated_lan = "isolated_lan", "standalone/isolated LAN"


class ExtranetArea(LabeledEnum):
    private_vpn = "private_vpn", "private VPN area"
    common = "common", "common area"
    internet_access = "internet_access", "Internet access area"


class SystemCategory(LabeledEnum):
    business = "business", "business system"
    portal = "portal", "portal/website"
    office = "office", "office system (OA)"
    data_platform = "data_platform", "data platform"
    infra_support = "infra_support", "infrastructure support"
    video_iot = "video_iot", "video/IoT"


class BuildMode(LabeledEnum):
    self_built = "self_built", "self-built"
    national_vertical = "national_vertical", "national vertical"
    provincial_vertical = "provincial_vertical", "provincial vertical"
    city_unified = "city_unified", "city unified"
    provincial_unified = "provincial_unified", "provincial unified"
    co_built = "co_built", "co-built"
    purchased_service = "purchased_service", "purchased service"

    @property
    def is_vertical(self) -> bool:
        return self in (BuildMode.national_vertical, BuildMode.provincial_vertical)


class Secrecy(LabeledEnum):
    non_classified = "non_classified", "non-classified"
    classified = "classified"


class SecrecyGrade(LabeledEnum):
    secret = "secret"
    confidential = "confidential"
    top_secret = "top_secret", "top secret"


class FenbaoStatus(LabeledEnum):
    none = "none"
    assessed = "assessed"
    approved = "approved"
    filed = "filed"


class MlpsStatus(LabeledEnum):
    ungraded = "ungraded"
    graded = "graded"
    filed = "filed"
    assessed = "assessed"
    rectifying = "rectifying"


class ServiceScope(LabeledEnum):
    national = "national"
    province = "province"
    city = "city"
    local_area = "local_area", "local area"
    own_unit = "own_unit", "own unit"


class Audience(LabeledEnum):
    public = "public"
    enterprises = "enterprises"
    internal = "internal", "government internal"


class Importance(LabeledEnum):
    very_important = "very_important", "very important"
    important = "important"
    ordinary = "ordinary"


class Lifecycle(LabeledEnum):
    planned = "planned"
    building = "building"
    in_service = "in_service", "in service"
    idle = "idle"
    zombie = "zombie"
    decommissioned = "decommissioned"


class ZombieCriterion(LabeledEnum):
    detached_from_business = "detached_from_business", "detached from business"
    replaceable = "replaceable", "function replaceable"
    idle_resources = "idle_resources", "resources idle"
    no_maintenance = "no_maintenance", "no maintenance"
    low_usage = "low_usage", "low usage"


class FundingSource(LabeledEnum):
    fiscal = "fiscal", "fiscal appropriation"
    higher_subsidy = "higher_subsidy", "higher-level subsidy"
    self_funded = "self_funded", "self-funded"
    other = "other"


class XinchuangStatus(LabeledEnum):
    not_assessed = "not_assessed", "not assessed"
    compatible = "compatible"
    needs_adaptation = "needs_adaptation", "needs adaptation"
    infeasible = "infeasible"


class ServerKind(LabeledEnum):
    physical = "physical"
    vm = "vm", "virtual machine"
    minicomputer = "minicomputer"
    container_host = "container_host", "container host"


class Hypervisor(LabeledEnum):
    vmware = "vmware"
    kvm = "kvm"
    hyperv = "hyperv"
    xen = "xen"
    fusioncompute = "fusioncompute"
    cas = "cas"
    none = "none", "none"


class CpuVendor(LabeledEnum):
    intel = "intel", "Intel"
    amd = "amd"
    hygon = "hygon", "Hygon"
    zhaoxin = "zhaoxin", "Zhaoxin"
    kunpeng = "kunpeng", "Kunpeng"
    phytium = "phytium", "Phytium"
    loongson = "loongson", "Loongson"
    sunway = "sunway", "Sunway"
    ibm = "ibm"
    other = "other"


class CpuArch(LabeledEnum):
    x86_64 = "x86_64", "x86_64"
    aarch64 = "aarch64", "aarch64"
    loongarch64 = "loongarch64", "loongarch64"
    mips64el = "mips64el", "mips64el"
    sw_64 = "sw_64", "sw_64"
    ppc64 = "ppc64", "ppc64"
    ppc64le = "ppc64le", "ppc64le"
    ia64 = "ia64", "ia64"
    sparc = "sparc", "sparc"

    @property
    def is_minicomputer(self) -> bool:
        return self in (CpuArch.ppc64, CpuArch.ppc64le, CpuArch.ia64, CpuArch.sparc)


class OsDistribution(LabeledEnum):
    centos = "centos"
    rhel = "rhel"
    openeuler = "openeuler", "openEuler"
    kylin = "kylin", "Kylin"
    neokylin = "neokylin", "NeoKylin"
    uos = "uos", "UOS"
    anolis = "anolis", "Anolis OS"
    opencloudos = "opencloudos"
    tencentos = "tencentos"
    alinux = "alinux"
    euleros = "euleros"
    suse = "suse"
    debian = "debian"
    ubuntu = "ubuntu"
    windows = "windows"
    aix = "aix"
    hpux = "hpux"
    solaris = "solaris"
    other = "other"

    @property
    def is_domestic(self) -> bool:
        return self in _DOMESTIC_OS


_DOMESTIC_OS = {OsDistribution.openeuler, OsDistribution.kylin, OsDistribution.neokylin,
                OsDistribution.uos, OsDistribution.anolis}


class CensusField(LabeledEnum):
    """A server field an import could not state and discovery is to supply (``Server.census_missing``)."""
    cores = "cores", "cores"
    ram_gb = "ram_gb", "RAM (GB)"
    os_distribution = "os_distribution", "OS distribution"
    cpu_arch = "cpu_arch", "CPU architecture"


class ServerRole(LabeledEnum):
    web = "web", "web"
    app = "app", "application"
    db = "db", "database"
    cache = "cache", "cache"
    mq = "mq", "message queue"
    file = "file", "file"
    backup = "backup", "backup"
    security = "security", "security"


class DbEngine(LabeledEnum):
    oracle = "oracle"
    sqlserver = "sqlserver"
    mysql = "mysql"
    mariadb = "mariadb"
    postgresql = "postgresql"
    db2 = "db2"
    sybase = "sybase"
    informix = "informix"
    dm = "dm", "DM (Dameng)"
    kingbase = "kingbase", "KingbaseES"
    gbase = "gbase", "GBase"
    oscar = "oscar", "OSCAR"
    opengauss = "opengauss"
    oceanbase = "oceanbase"
    tidb = "tidb"
    polardb = "polardb"
    highgo = "highgo", "HighGo"
    mongodb = "mongodb"
    other = "other"

    @property
    def is_domestic(self) -> bool:
        return self in _DOMESTIC_DB


_DOMESTIC_DB = {DbEngine.dm, DbEngine.kingbase, DbEngine.gbase, DbEngine.oscar, DbEngine.opengauss,
                DbEngine.oceanbase, DbEngine.tidb, DbEngine.polardb, DbEngine.highgo}


class Replication(LabeledEnum):
    none = "none"
    primary_replica = "primary_replica", "primary-replica"
    cluster = "cluster"


class DepType(LabeledEnum):
    shared_db = "shared_db", "shared database"
    sync_api = "sync_api", "synchronous API"
    async_mq = "async_mq", "asynchronous message queue"
    file_exchange = "file_exchange", "file exchange"
    via_exchange_platform = "via_exchange_platform", "via exchange platform"
    sso = "sso", "single sign-on"
    vertical_uplink = "vertical_uplink", "vertical uplink"


class Criticality(LabeledEnum):
    high = "high"
    medium = "medium"
    low = "low"


class SharingType(LabeledEnum):
    unconditional = "unconditional", "unconditional sharing"
    conditional = "conditional", "conditional sharing"
    not_shared = "not_shared", "not shared"


class SharingMethod(LabeledEnum):
    table = "table"
    api = "api", "API"
    file = "file"
    offline = "offline", "email/disk copy"


class UpdateCycle(LabeledEnum):
    realtime = "realtime", "real-time"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly", "half-yearly"
    yearly = "yearly"
    other = "other"


class ResourceLib(LabeledEnum):
    business = "business", "operational DB"
    shared = "shared", "shared DB"
    base = "base", "base DB"
    thematic = "thematic", "thematic DB"
    special = "special", "special-purpose DB"


class BaseDb(LabeledEnum):
    population = "population", "population"
    legal_entity = "legal_entity", "legal entities"
    geo = "geo", "spatial/geographic"
    credit = "credit", "social credit"
    e_license = "e_license", "e-licences"


class CloudTier(LabeledEnum):
    national = "national", "national"
    provincial = "provincial", "provincial"
    municipal = "municipal", "municipal"
    sector = "sector", "sector"
    county = "county", "county (to be consolidated)"
    intranet_cloud = "intranet_cloud", "intranet cloud (classified)"


class ApiKind(LabeledEnum):
    openstack = "openstack"
    openstack_partial = "openstack_partial", "partly OpenStack"
    proprietary = "proprietary", "proprietary"


class DrMode(LabeledEnum):
    none = "none", "none"
    scheduled_offsite = "scheduled_offsite", "scheduled off-site backup"
    realtime_offsite = "realtime_offsite", "real-time off-site backup"
    realtime_offsite_ha = "realtime_offsite_ha", "real-time off-site backup + HA"


class TakeoverStatus(LabeledEnum):
    not_started = "not_started", "not started"
    in_progress = "in_progress", "in progress"
    taken_over = "taken_over", "taken over"
    exempt = "exempt"


class BatchKind(LabeledEnum):
    takeover = "takeover"
    migration = "migration", "migration"
    website = "website", "website consolidation"
    network = "network", "dedicated-network migration"
    it_unit_reform = "it_unit_reform", "IT-unit reform"


class FreezeScope(LabeledEnum):
    global_ = "global", "global"
    region = "region"
    org = "org", "department"
    system = "system"


class EvidenceKind(LabeledEnum):
    approval_doc = "approval_doc", "approval document"
    budget_doc = "budget_doc", "budget document"
    screenshot = "screenshot"
    mlps_filing = "mlps_filing", "MLPS filing proof"
    assessment_report = "assessment_report", "assessment report"
    superior_approval = "superior_approval", "superior approval"
    other = "other"


class Strategy(LabeledEnum):
    """Migration strategy per system (DOMAIN.md §3.8); decided by the planner."""

    retire = "retire"
    retain = "retain"
    relocate_intranet = "relocate_intranet", "relocate to intranet"
    rehost = "rehost"
    replatform = "replatform"
    repurchase = "repurchase"
    refactor = "refactor"


class Severity(LabeledEnum):
    error = "error"
    warning = "warning"
