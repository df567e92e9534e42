"""Enumerations of the domain, each value with its Chinese label (DOMAIN.md §4.2).

Inventory files may use either the English key (``classified``) or the Chinese
label (``涉密``); both parse to the same member. Output always uses the key, and
renderers show the label for the chosen language.
"""

from __future__ import annotations

from enum import Enum


class LabeledEnum(str, Enum):
    """A string enum whose members carry a Chinese (``zh``) and English (``en``) label."""

    zh: str
    en: str

    def __new__(cls, value: str, zh: str, en: str | None = None):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh
        obj.en = en or value.replace("_", " ")
        return obj

    def __str__(self) -> str:  # so f-strings and json show the key, not "Enum.member"
        return self.value

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

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
    national = "national", "国家"
    province = "province", "省级"
    prefecture = "prefecture", "地市级"
    county = "county", "区县级"
    township = "township", "乡镇/街道"
    village = "village", "村/社区"


class OrgType(LabeledEnum):
    party_dept = "party_dept", "党委部门", "Party department"
    gov_component = "gov_component", "政府组成部门", "government component department"
    gov_direct = "gov_direct", "政府直属机构", "directly affiliated agency"
    dept_managed = "dept_managed", "部门管理机构", "department-managed agency"
    public_institution = "public_institution", "事业单位", "public institution"
    vertical_managed = "vertical_managed", "垂直管理单位", "vertically managed unit"
    congress_cppcc_court_proc = "congress_cppcc_court_proc", "人大/政协/法院/检察院", "congress/CPPCC/court/procuratorate"
    mass_org = "mass_org", "群团组织", "mass organisation"
    soe = "soe", "国有企业", "state-owned enterprise"
    town_gov = "town_gov", "镇街", "town/sub-district government"
    operator = "operator", "建设运营公司", "operating company"
    authority = "authority", "政务服务数据管理局", "data administration"


class ItUnitStatus(LabeledEnum):
    retained = "retained", "保留"
    abolished = "abolished", "撤销"
    merged = "merged", "整合"
    adjusted = "adjusted", "调整"


class RoomType(LabeledEnum):
    dept_self_built = "dept_self_built", "部门自建机房", "department self-built room"
    info_center = "info_center", "信息中心机房", "information-centre room"
    carrier_idc = "carrier_idc", "运营商IDC托管", "carrier IDC"
    unified_dc = "unified_dc", "统一数据中心", "unified data centre"
    cloud_pool = "cloud_pool", "政务云资源池", "government-cloud pool"
    intranet_room = "intranet_room", "内网(涉密)机房", "intranet (classified) room"


class RoomStatus(LabeledEnum):
    in_use = "in_use", "在用", "in use"
    consolidating = "consolidating", "整合中"
    closed = "closed", "已关闭"


class NetworkZone(LabeledEnum):
    gov_intranet = "gov_intranet", "政务内网", "e-government intranet"
    gov_extranet = "gov_extranet", "政务外网", "e-government extranet"
    dedicated_net = "dedicated_net", "业务专网", "dedicated (sector) network"
    internet = "internet", "互联网", "Internet"
    isolated_lan = "isolated_lan", "单机/局域网", "standalone/isolated LAN"


class ExtranetArea(LabeledEnum):
    private_vpn = "private_vpn", "专用网络区", "private VPN area"
    common = "common", "公用网络区", "common area"
    internet_access = "internet_access", "互联网接入区", "Internet access area"


class SystemCategory(LabeledEnum):
    business = "business", "业务系统", "business system"
    portal = "portal", "门户网站", "portal/website"
    office = "office", "办公系统(OA)", "office system (OA)"
    data_platform = "data_platform", "数据平台", "data platform"
    infra_support = "infra_support", "基础支撑", "infrastructure support"
    video_iot = "video_iot", "视频/物联", "video/IoT"


class BuildMode(LabeledEnum):
    self_built = "self_built", "自建", "self-built"
    national_vertical = "national_vertical", "国家垂直", "national vertical"
    provincial_vertical = "provincial_vertical", "省级垂直", "provincial vertical"
    city_unified = "city_unified", "市级统建", "city unified"
    provincial_unified = "provincial_unified", "省级统建/集约化", "provincial unified"
    co_built = "co_built", "共建", "co-built"
    purchased_service = "purchased_service", "购买服务", "purchased service"

    @property
    def is_vertical(self) -> bool:
        return self in (BuildMode.national_vertical, BuildMode.provincial_vertical)


class Secrecy(LabeledEnum):
    non_classified = "non_classified", "非涉密", "non-classified"
    classified = "classified", "涉密"


class SecrecyGrade(LabeledEnum):
    secret = "secret", "秘密"
    confidential = "confidential", "机密"
    top_secret = "top_secret", "绝密", "top secret"


class FenbaoStatus(LabeledEnum):
    none = "none", "未开展"
    assessed = "assessed", "已测评"
    approved = "approved", "已审批"
    filed = "filed", "已备案"


class MlpsStatus(LabeledEnum):
    ungraded = "ungraded", "未定级"
    graded = "graded", "已定级"
    filed = "filed", "已备案"
    assessed = "assessed", "已测评"
    rectifying = "rectifying", "整改中"


class ServiceScope(LabeledEnum):
    national = "national", "全国"
    province = "province", "全省"
    city = "city", "全市"
    local_area = "local_area", "本地区", "local area"
    own_unit = "own_unit", "本单位", "own unit"


class Audience(LabeledEnum):
    public = "public", "公众"
    enterprises = "enterprises", "企业"
    internal = "internal", "政府内部", "government internal"


class Importance(LabeledEnum):
    very_important = "very_important", "非常重要", "very important"
    important = "important", "重要"
    ordinary = "ordinary", "一般"


class Lifecycle(LabeledEnum):
    planned = "planned", "规划"
    building = "building", "在建"
    in_service = "in_service", "在用", "in service"
    idle = "idle", "闲置"
    zombie = "zombie", "僵尸"
    decommissioned = "decommissioned", "已下线"


class ZombieCriterion(LabeledEnum):
    detached_from_business = "detached_from_business", "与业务脱节", "detached from business"
    replaceable = "replaceable", "功能可替代", "function replaceable"
    idle_resources = "idle_resources", "资源长期闲置", "resources idle"
    no_maintenance = "no_maintenance", "停止运维更新", "no maintenance"
    low_usage = "low_usage", "使用范围小频度低", "low usage"


class FundingSource(LabeledEnum):
    fiscal = "fiscal", "财政拨款", "fiscal appropriation"
    higher_subsidy = "higher_subsidy", "上级补助", "higher-level subsidy"
    self_funded = "self_funded", "自筹", "self-funded"
    other = "other", "其他"


class XinchuangStatus(LabeledEnum):
    not_assessed = "not_assessed", "未评估", "not assessed"
    compatible = "compatible", "已适配"
    needs_adaptation = "needs_adaptation", "需适配", "needs adaptation"
    infeasible = "infeasible", "无法适配"


class ServerKind(LabeledEnum):
    physical = "physical", "物理机"
    vm = "vm", "虚拟机", "virtual machine"
    minicomputer = "minicomputer", "小型机"
    container_host = "container_host", "容器宿主机", "container host"


class Hypervisor(LabeledEnum):
    vmware = "vmware", "VMware"
    kvm = "kvm", "KVM"
    hyperv = "hyperv", "Hyper-V"
    xen = "xen", "Xen"
    fusioncompute = "fusioncompute", "FusionCompute"
    cas = "cas", "H3C CAS"
    none = "none", "无(物理机)", "none"


class CpuVendor(LabeledEnum):
    intel = "intel", "英特尔", "Intel"
    amd = "amd", "AMD"
    hygon = "hygon", "海光", "Hygon"
    zhaoxin = "zhaoxin", "兆芯", "Zhaoxin"
    kunpeng = "kunpeng", "鲲鹏", "Kunpeng"
    phytium = "phytium", "飞腾", "Phytium"
    loongson = "loongson", "龙芯", "Loongson"
    sunway = "sunway", "申威", "Sunway"
    ibm = "ibm", "IBM"
    other = "other", "其他"


class CpuArch(LabeledEnum):
    x86_64 = "x86_64", "x86_64", "x86_64"
    aarch64 = "aarch64", "ARM64(aarch64)", "aarch64"
    loongarch64 = "loongarch64", "龙架构(loongarch64)", "loongarch64"
    mips64el = "mips64el", "MIPS64(mips64el)", "mips64el"
    sw_64 = "sw_64", "申威(sw_64)", "sw_64"
    ppc64 = "ppc64", "Power(ppc64)", "ppc64"
    ppc64le = "ppc64le", "Power(ppc64le)", "ppc64le"
    ia64 = "ia64", "安腾(ia64)", "ia64"
    sparc = "sparc", "SPARC", "sparc"

    @property
    def is_minicomputer(self) -> bool:
        return self in (CpuArch.ppc64, CpuArch.ppc64le, CpuArch.ia64, CpuArch.sparc)


class OsDistribution(LabeledEnum):
    centos = "centos", "CentOS"
    rhel = "rhel", "Red Hat Enterprise Linux"
    openeuler = "openeuler", "openEuler(欧拉)", "openEuler"
    kylin = "kylin", "银河麒麟", "Kylin"
    neokylin = "neokylin", "中标麒麟", "NeoKylin"
    uos = "uos", "统信UOS", "UOS"
    anolis = "anolis", "龙蜥Anolis", "Anolis OS"
    opencloudos = "opencloudos", "OpenCloudOS"
    tencentos = "tencentos", "TencentOS"
    alinux = "alinux", "Alibaba Cloud Linux"
    euleros = "euleros", "EulerOS"
    suse = "suse", "SUSE"
    debian = "debian", "Debian"
    ubuntu = "ubuntu", "Ubuntu"
    windows = "windows", "Windows Server"
    aix = "aix", "AIX"
    hpux = "hpux", "HP-UX"
    solaris = "solaris", "Solaris"
    other = "other", "其他"

    @property
    def is_domestic(self) -> bool:
        return self in _DOMESTIC_OS


_DOMESTIC_OS = {OsDistribution.openeuler, OsDistribution.kylin, OsDistribution.neokylin,
                OsDistribution.uos, OsDistribution.anolis}


class CensusField(LabeledEnum):
    """A server field an import could not state and discovery is to supply (``Server.census_missing``)."""
    cores = "cores", "CPU核数", "cores"
    ram_gb = "ram_gb", "内存(GB)", "RAM (GB)"
    os_distribution = "os_distribution", "操作系统", "OS distribution"
    cpu_arch = "cpu_arch", "CPU架构", "CPU architecture"


class ServerRole(LabeledEnum):
    web = "web", "Web服务器", "web"
    app = "app", "应用服务器", "application"
    db = "db", "数据库服务器", "database"
    cache = "cache", "缓存", "cache"
    mq = "mq", "消息队列", "message queue"
    file = "file", "文件服务器", "file"
    backup = "backup", "备份", "backup"
    security = "security", "安全设备", "security"


class DbEngine(LabeledEnum):
    oracle = "oracle", "Oracle"
    sqlserver = "sqlserver", "SQL Server"
    mysql = "mysql", "MySQL"
    mariadb = "mariadb", "MariaDB"
    postgresql = "postgresql", "PostgreSQL"
    db2 = "db2", "DB2"
    sybase = "sybase", "Sybase"
    informix = "informix", "Informix"
    dm = "dm", "达梦", "DM (Dameng)"
    kingbase = "kingbase", "人大金仓", "KingbaseES"
    gbase = "gbase", "南大通用", "GBase"
    oscar = "oscar", "神通", "OSCAR"
    opengauss = "opengauss", "openGauss/GaussDB"
    oceanbase = "oceanbase", "OceanBase"
    tidb = "tidb", "TiDB"
    polardb = "polardb", "PolarDB"
    highgo = "highgo", "瀚高", "HighGo"
    mongodb = "mongodb", "MongoDB"
    other = "other", "其他"

    @property
    def is_domestic(self) -> bool:
        return self in _DOMESTIC_DB


_DOMESTIC_DB = {DbEngine.dm, DbEngine.kingbase, DbEngine.gbase, DbEngine.oscar, DbEngine.opengauss,
                DbEngine.oceanbase, DbEngine.tidb, DbEngine.polardb, DbEngine.highgo}


class Replication(LabeledEnum):
    none = "none", "无"
    primary_replica = "primary_replica", "主备", "primary-replica"
    cluster = "cluster", "集群"


class DepType(LabeledEnum):
    shared_db = "shared_db", "共享数据库", "shared database"
    sync_api = "sync_api", "同步接口", "synchronous API"
    async_mq = "async_mq", "消息队列", "asynchronous message queue"
    file_exchange = "file_exchange", "文件交换", "file exchange"
    via_exchange_platform = "via_exchange_platform", "经共享交换平台", "via exchange platform"
    sso = "sso", "统一身份认证", "single sign-on"
    vertical_uplink = "vertical_uplink", "上联垂直系统", "vertical uplink"


class Criticality(LabeledEnum):
    high = "high", "高"
    medium = "medium", "中"
    low = "low", "低"


class SharingType(LabeledEnum):
    unconditional = "unconditional", "无条件共享", "unconditional sharing"
    conditional = "conditional", "有条件共享", "conditional sharing"
    not_shared = "not_shared", "不予共享", "not shared"


class SharingMethod(LabeledEnum):
    table = "table", "库表"
    api = "api", "接口", "API"
    file = "file", "文件"
    offline = "offline", "邮件/拷盘", "email/disk copy"


class UpdateCycle(LabeledEnum):
    realtime = "realtime", "实时", "real-time"
    daily = "daily", "每日"
    weekly = "weekly", "每周"
    monthly = "monthly", "每月"
    quarterly = "quarterly", "每季度"
    half_yearly = "half_yearly", "每半年", "half-yearly"
    yearly = "yearly", "每年"
    other = "other", "其他"


class ResourceLib(LabeledEnum):
    business = "business", "业务库", "operational DB"
    shared = "shared", "共享库", "shared DB"
    base = "base", "基础库", "base DB"
    thematic = "thematic", "主题库", "thematic DB"
    special = "special", "专题库", "special-purpose DB"


class BaseDb(LabeledEnum):
    population = "population", "人口(自然人)", "population"
    legal_entity = "legal_entity", "法人单位", "legal entities"
    geo = "geo", "空间地理", "spatial/geographic"
    credit = "credit", "社会信用", "social credit"
    e_license = "e_license", "电子证照", "e-licences"


class CloudTier(LabeledEnum):
    national = "national", "国家政务云", "national"
    provincial = "provincial", "省政务云", "provincial"
    municipal = "municipal", "市政务云", "municipal"
    sector = "sector", "行业云", "sector"
    county = "county", "县级(待整合)", "county (to be consolidated)"
    intranet_cloud = "intranet_cloud", "政务内网云(涉密)", "intranet cloud (classified)"


class ApiKind(LabeledEnum):
    openstack = "openstack", "OpenStack"
    openstack_partial = "openstack_partial", "部分兼容OpenStack", "partly OpenStack"
    proprietary = "proprietary", "私有接口", "proprietary"


class DrMode(LabeledEnum):
    none = "none", "无灾备", "none"
    scheduled_offsite = "scheduled_offsite", "异地定时备份", "scheduled off-site backup"
    realtime_offsite = "realtime_offsite", "异地实时备份", "real-time off-site backup"
    realtime_offsite_ha = "realtime_offsite_ha", "异地实时备份+热冗余", "real-time off-site backup + HA"


class TakeoverStatus(LabeledEnum):
    not_started = "not_started", "未接管", "not started"
    in_progress = "in_progress", "接管中", "in progress"
    taken_over = "taken_over", "已接管", "taken over"
    exempt = "exempt", "免接管"


class BatchKind(LabeledEnum):
    takeover = "takeover", "接管"
    migration = "migration", "迁移上云", "migration"
    website = "website", "网站集约化", "website consolidation"
    network = "network", "专网迁移", "dedicated-network migration"
    it_unit_reform = "it_unit_reform", "机构改革", "IT-unit reform"


class FreezeScope(LabeledEnum):
    global_ = "global", "全局", "global"
    region = "region", "地区"
    org = "org", "部门", "department"
    system = "system", "系统"


class EvidenceKind(LabeledEnum):
    approval_doc = "approval_doc", "立项文件", "approval document"
    budget_doc = "budget_doc", "预算指标文件", "budget document"
    screenshot = "screenshot", "系统截图"
    mlps_filing = "mlps_filing", "等保备案证明", "MLPS filing proof"
    assessment_report = "assessment_report", "测评报告", "assessment report"
    superior_approval = "superior_approval", "上级主管部门批复", "superior approval"
    other = "other", "其他"


class Strategy(LabeledEnum):
    """Migration strategy per system (DOMAIN.md §3.8); decided by the planner."""

    retire = "retire", "下线"
    retain = "retain", "保留"
    relocate_intranet = "relocate_intranet", "迁入政务内网", "relocate to intranet"
    rehost = "rehost", "平迁"
    replatform = "replatform", "平台迁移/信创适配"
    repurchase = "repurchase", "替换为统建平台"
    refactor = "refactor", "重构"


class Severity(LabeledEnum):
    error = "error", "错误"
    warning = "warning", "警告"
