"""The inventory's entities (DOMAIN.md §4) as plain dataclasses.

These classes are the single source of truth for the on-disk format: the loader,
the validator, the JSON Schema and the export headers are all derived from the
field annotations and the ``meta`` of each field (Chinese label, reference kind,
whether it is required). Adding a field here adds it everywhere.

Lists are tuples so that a million servers share the empty tuple instead of each
carrying its own empty list.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from govcloud.model.observed import Observed
from govcloud.model.enums import (
    AdminLevel, ApiKind, Audience, BaseDb, BatchKind, BuildMode, CensusField, CloudTier, CpuArch, CpuVendor,
    Criticality, DbEngine, DepType, DrMode, EvidenceKind, ExtranetArea, FenbaoStatus, FreezeScope,
    FundingSource, Hypervisor, Importance, ItUnitStatus, Lifecycle, MlpsStatus, NetworkZone,
    OrgType, OsDistribution, Replication, ResourceLib, RoomStatus, RoomType, Secrecy, SecrecyGrade,
    ServerKind, ServerRole, ServiceScope, SharingMethod, SharingType, SystemCategory,
    TakeoverStatus, UpdateCycle, XinchuangStatus, ZombieCriterion,
)


def fld(zh: str, en: str | None = None, *, ref: str | None = None, required: bool = False,
        default: Any = None, default_factory: Any = None, minimum: float | None = None, maximum: float | None = None,
        doc: str | None = None, ident: bool = False, waives: bool = False) -> Any:
    """A dataclass field with its label, the entity kind it references and its bounds.

    ``ident``: the value is an identifier and must match the id grammar (``model/ids.py``).
    ``waives``: the field lists (by YAML key) required fields the record may leave out (a census
    record an import created without them, ``Server.census_missing``)."""
    meta = {"zh": zh, "en": en, "ref": ref, "required": required, "min": minimum, "max": maximum,
            "doc": doc, "ident": ident, "waives": waives}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------- nested values


@dataclass(slots=True)
class Approval:
    body: str | None = fld("审批部门", "approving body")
    doc_no: str | None = fld("审批文号", "document number")
    date: date | None = fld("审批时间", "approval date")


@dataclass(slots=True)
class SecrecyExemption:
    approved: bool = fld("已批准", "approved", default=False)
    approval_ref: str | None = fld("批准文号", "approval reference")
    approver: str | None = fld("批准机关", "approver")


@dataclass(slots=True)
class CryptoAssessment:
    done: bool = fld("已开展密评", "done", default=False)
    date: date | None = fld("密评时间", "date")
    result: str | None = fld("密评结论", "result")


@dataclass(slots=True)
class Contact:
    name: str | None = fld("姓名", "name")
    role: str | None = fld("职务/角色", "role")
    phone: str | None = fld("电话", "phone")


@dataclass(slots=True)
class Evidence:
    kind: EvidenceKind | None = fld("材料类型", "kind")
    ref: str | None = fld("文号/文件", "reference")
    note: str | None = fld("说明", "note")


@dataclass(slots=True)
class Disk:
    size_gb: float = fld("容量(GB)", "size (GB)", required=True, minimum=0)
    used_gb: float | None = fld("已用(GB)", "used (GB)", minimum=0)
    name: str | None = fld("名称", "name")


@dataclass(slots=True)
class Software:
    name: str = fld("名称", "name", required=True)
    version: str | None = fld("版本", "version")


@dataclass(slots=True)
class ServiceSpec:
    """A service the system runs, as the migration steps need it: started on the target, stopped
    on the source at cutover (restarted on rollback), checked by port and URL at verification."""

    name: str = fld("服务名", "service name", required=True, doc="init/systemd unit name, e.g. nginx")
    port: int | None = fld("端口", "port", minimum=1, maximum=65535)
    health_path: str | None = fld("健康检查路径", "health-check path", doc="HTTP path, e.g. /api/stats.json")


@dataclass(slots=True)
class DatabaseSpec:
    engine: DbEngine = fld("数据库类型", "engine", required=True)
    name: str = fld("库名", "database name", required=True, ident=True,
                    doc="the database's own name; it names dump files and is a shell and SQL argument")


@dataclass(slots=True)
class CutoverRecord:
    """The name clients use to reach the system, switched from source to target at cutover."""

    name: str = fld("访问域名", "name", required=True, doc="e.g. govapp.gov.test")
    kind: str = fld("记录类型", "kind", default="hosts",
                    doc="hosts: an /etc/hosts line on the client servers; dns: an A/AAAA/CNAME record changed by "
                        "a TSIG-signed RFC 2136 update on the zone's authoritative server; haproxy: a backend "
                        "server slot changed through HAProxy's runtime API")
    clients: tuple[str, ...] = fld("客户端服务器", "client servers", ref="server", default=())
    # dns
    zone: str | None = fld("DNS区域", "DNS zone", doc="dns: the zone holding the record, e.g. gov.test")
    server: str | None = fld("服务器", "server",
                             doc="dns: the zone's authoritative server ADDR[:PORT]; haproxy: the backend's server "
                                 "slot (name) that points at the system")
    rdtype: str = fld("记录类型(A/AAAA/CNAME)", "record type", default="A", doc="dns: A, AAAA or CNAME")
    tsig_key: str | None = fld("TSIG密钥", "TSIG key",
                               doc="dns: a key FILE (absolute path, BIND key syntax, mode 0600) or a key name "
                                   "looked up as $GOVCLOUD_TSIG_DIR/NAME.key — never the secret itself")
    cname_source: str | None = fld("源CNAME目标", "CNAME source target",
                                   doc="dns rdtype CNAME: the name the record points to while the source serves "
                                       "(what the switch expects, compare-and-swap), e.g. govapp-old.gov.test")
    cname_target: str | None = fld("目标CNAME目标", "CNAME target",
                                   doc="dns rdtype CNAME: the name the record points to once the target serves "
                                       "(a name that resolves to the target server), e.g. govapp-cloud.gov.test")
    # haproxy
    api: str | None = fld("HAProxy运行时接口", "HAProxy runtime API",
                          doc="haproxy: the admin socket path, or ADDR:PORT of a TCP runtime API")
    backend: str | None = fld("HAProxy后端", "HAProxy backend", doc="haproxy: the backend name")
    target_server: str | None = fld("目标服务器槽位", "target server slot",
                                    doc="haproxy mode drain-enable: the spare slot pointed at the target and "
                                        "enabled while the source's slot is drained")
    mode: str = fld("切换方式", "switch mode", default="point",
                    doc="haproxy: point (repoint the slot at the target) or drain-enable")
    port: int | None = fld("端口", "port", minimum=1, maximum=65535,
                           doc="the port clients request on `name` to reach the health URL (default: the first "
                               "service port with a health path; for haproxy the frontend's port)")


@dataclass(slots=True)
class Workload:
    """What moving the system means on the hosts: its data, services, databases and the record
    clients use. Precheck refuses a system whose workload is unknown."""

    data_paths: tuple[str, ...] = fld("数据目录", "data paths", default=())
    services: tuple[ServiceSpec, ...] = fld("服务", "services", default=())
    databases: tuple[DatabaseSpec, ...] = fld("数据库", "databases", default=())
    cutover_record: CutoverRecord | None = fld("切换记录", "cutover record")


@dataclass(slots=True)
class Capacity:
    vcpus: int = fld("vCPU", "vCPUs", default=0, minimum=0)
    ram_gb: float = fld("内存(GB)", "RAM (GB)", default=0, minimum=0)
    storage_gb: float = fld("存储(GB)", "storage (GB)", default=0, minimum=0)
    public_ips: int = fld("公网IP", "public IPs", default=0, minimum=0)


@dataclass(slots=True)
class CapacityExpansion:
    """Capacity a zone gains on a date (扩容): usable by cutovers on or after that date."""

    date: date = fld("扩容日期", "date", required=True)
    vcpus: int = fld("新增vCPU", "added vCPUs", default=0, minimum=0)
    ram_gb: float = fld("新增内存(GB)", "added RAM (GB)", default=0, minimum=0)
    storage_gb: float = fld("新增存储(GB)", "added storage (GB)", default=0, minimum=0)
    note: str | None = fld("说明", "note")


@dataclass(slots=True)
class Flavor:
    name: str = fld("规格名称", "name", required=True)
    vcpus: int = fld("vCPU", "vCPUs", required=True, minimum=1)
    ram_gb: float = fld("内存(GB)", "RAM (GB)", required=True, minimum=0)
    disk_gb: float = fld("系统盘(GB)", "root disk (GB)", default=0, minimum=0)


@dataclass(slots=True)
class Image:
    name: str = fld("镜像名称", "name", required=True)
    os_distribution: OsDistribution = fld("操作系统", "OS distribution", required=True)
    os_version: str | None = fld("系统版本", "OS version")
    cpu_arch: CpuArch = fld("CPU架构", "CPU architecture", default=CpuArch.x86_64)
    domestic: bool = fld("国产", "domestic", default=False)


@dataclass(slots=True)
class Batch:
    id: str = fld("批次编号", "id", required=True, ident=True)
    name: str = fld("批次名称", "name", required=True)
    kind: BatchKind = fld("批次类型", "kind", default=BatchKind.migration)
    deadline: date | None = fld("截止日期", "deadline")
    start: date | None = fld("开始日期", "start")
    declared_count: int | None = fld("文件所列数量", "declared count", minimum=0,
                                     doc="count the source document states, kept even when it differs from the list")
    scope_orgs: tuple[str, ...] = fld("范围部门", "department scope", ref="organization", default=())
    scope_systems: tuple[str, ...] = fld("范围系统", "system scope", ref="system", default=())
    principle: str | None = fld("原则", "principle")
    source: str | None = fld("依据", "source")


@dataclass(slots=True)
class Thresholds:
    """Every number a rule or check uses; data, not code (DOMAIN.md §4.2 PolicyProfile)."""

    min_mlps_level: int = fld("最低等保级别", "minimum MLPS level", default=2, minimum=1, maximum=5)
    extranet_mlps_level: int = fld("政务外网等保级别", "extranet MLPS level", default=3, minimum=1, maximum=5)
    no_new_machine_room_after: date | None = fld("禁止新建机房起始日", "no new machine room after")
    eol_os_blocking: bool = fld("禁止EOL系统直接迁移", "EOL OS blocks rehost", default=True)
    prefer_domestic: bool = fld("优先信创", "prefer domestic targets", default=True)
    log_retention_days: int = fld("日志留存天数", "log retention (days)", default=180, minimum=0)
    password_max_days: int = fld("密码最长有效期", "password max days", default=90, minimum=0)
    lockout_deny: int = fld("登录失败锁定次数", "login-failure lockout", default=5, minimum=0)
    tmout: int = fld("空闲超时(秒)", "idle timeout (s)", default=600, minimum=0)
    password_warn_age: int = fld("密码过期提前告警天数", "password warn age (days)", default=7, minimum=0)
    password_min_len: int = fld("密码最小长度", "password minimum length", default=8, minimum=1)
    password_min_class: int = fld("密码字符类别数", "password character classes", default=3, minimum=1, maximum=4)
    password_remember: int = fld("密码历史记忆次数", "password history", default=5, minimum=0)
    lockout_unlock_time: int = fld("锁定时长(秒)", "lockout unlock time (s)", default=300, minimum=0)
    ssh_client_alive_count_max: int = fld("SSH空闲探测次数", "SSH ClientAliveCountMax", default=3, minimum=0)
    ssh_max_auth_tries: int = fld("SSH最大认证尝试次数", "SSH MaxAuthTries", default=5, minimum=1)
    umask: str = fld("默认umask", "default umask", default="027")
    shadow_max_mode: str = fld("shadow文件最大权限", "max mode of /etc/shadow", default="400")
    sudo_admins: tuple[str, ...] = fld("可拥有完整sudo权限的管理员", "sudo admins", default=("root", "%sudo"))
    sudo_nopasswd_allowed: tuple[str, ...] = fld("允许免密sudo的账号", "accounts allowed NOPASSWD sudo", default=())
    allowed_ports: tuple[int, ...] = fld("允许监听的高危端口", "allowed high-risk ports", default=())
    headroom_pct: float = fld("资源余量(%)", "sizing headroom (%)", default=30, minimum=0)
    servers_per_week: int = fld("每周迁移服务器数", "servers per week", default=40, minimum=1)
    pilot_max_servers: int = fld("试点批次服务器上限", "pilot batch max servers", default=20, minimum=1)
    cutover_window: str | None = fld("割接窗口", "cutover window", doc="e.g. 'Sat 22:00-06:00'")
    cutover_dns_ttl_s: int = fld("割接前DNS记录TTL(秒)", "DNS record TTL before cutover (s)", default=60,
                                 minimum=1, maximum=86400,
                                 doc="`migrate run` lowers a dns cutover record's TTL to this during sync; "
                                     "`migrate cutover` waits until the old TTL has expired")
    xinchuang_share_pct: float = fld("信创迁移比例(%)", "信创 share (%)", default=0, minimum=0, maximum=100,
                                     doc="share of adapted x86 systems the policy moves onto 信创 pools "
                                         "(with prefer_domestic)")
    cutover_max_downtime_s: int | None = fld("批准的割接停机时长上限(秒)", "approved cutover downtime (s)", minimum=0,
                                             doc="`migrate cutover` refuses when the projected downtime exceeds it")


# ---------------------------------------------------------------- entities


@dataclass(slots=True)
class InventoryMeta:
    name: str = fld("清单名称", "name", required=True)
    region: str | None = fld("行政区划", "region", ref="region")
    as_of: date | None = fld("普查截至日期", "census date")
    default_policy: str | None = fld("默认策略", "default policy", ref="policy")
    description: str | None = fld("说明", "description")
    source: str | None = fld("依据文件", "source document")


@dataclass(slots=True)
class Region:
    code: str = fld("区划代码", "code", required=True, ident=True)
    name: str = fld("名称", "name", required=True)
    level: AdminLevel = fld("层级", "level", required=True)
    parent: str | None = fld("上级区划", "parent", ref="region")

    @property
    def id(self) -> str:
        return self.code


@dataclass(slots=True)
class Organization:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("部门全称", "full name", required=True)
    short_name: str | None = fld("简称", "short name")
    aliases: tuple[str, ...] = fld("别名", "aliases", default=())
    predecessors: tuple[str, ...] = fld("前身", "predecessors", ref="organization", default=())
    successors: tuple[str, ...] = fld("承继机构", "successors", ref="organization", default=())
    usci: str | None = fld("统一社会信用代码", "unified social credit code")
    region: str | None = fld("行政区划", "region", ref="region")
    org_type: OrgType | None = fld("机构类型", "organisation type")
    parent: str | None = fld("上级单位", "parent organisation", ref="organization")
    cdo: str | None = fld("首席数据官", "chief data officer")
    it_unit_status: ItUnitStatus | None = fld("信息机构状态", "IT-unit status")
    established: date | None = fld("设立日期", "established")
    abolished: date | None = fld("撤销/合并日期", "abolished or merged")
    contacts: tuple[Contact, ...] = fld("联系人", "contacts", default=())


@dataclass(slots=True)
class MachineRoom:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("机房名称", "name", required=True)
    owner_org: str = fld("所属单位", "owner", ref="organization", required=True)
    room_type: RoomType = fld("机房类型", "room type", required=True)
    address: str | None = fld("地址", "address")
    network_zones: tuple[NetworkZone, ...] = fld("网络区域", "network zones", default=())
    built_on: date | None = fld("建成日期", "built on")
    secrecy_exemption: SecrecyExemption | None = fld("保密特殊要求批准", "secrecy exemption")
    status: RoomStatus = fld("状态", "status", default=RoomStatus.in_use)
    racks: int | None = fld("机柜数", "racks", minimum=0)
    power_kw: float | None = fld("供电(kW)", "power (kW)", minimum=0)
    lease_expiry: date | None = fld("租约到期", "lease expiry")
    closure_date: date | None = fld("关停日期", "closure date", doc="the room must be empty by this date")
    mlps_physical_level: int | None = fld("物理环境等保级别", "physical MLPS level", minimum=1, maximum=5)


@dataclass(slots=True)
class Server:
    id: str = fld("编号", "id", required=True, ident=True)
    hostname: str = fld("主机名", "hostname", required=True)
    machine_room: str | None = fld("所在机房", "machine room", ref="machine_room")
    kind: ServerKind = fld("类型", "kind", default=ServerKind.vm)
    hypervisor: Hypervisor | None = fld("虚拟化平台", "hypervisor")
    rack: str | None = fld("机柜", "rack")
    ips: tuple[str, ...] = fld("IP地址", "IP addresses", default=())
    mgmt_ip: str | None = fld("管理IP", "management IP")
    cpu_vendor: CpuVendor | None = fld("CPU厂商", "CPU vendor")
    cpu_arch: CpuArch = fld("CPU架构", "CPU architecture", default=CpuArch.x86_64)
    # required, except while ``census_missing`` names them (None then: unknown, never a guessed 0)
    cores: int | None = fld("CPU核数", "cores", required=True, minimum=1, maximum=4096)
    ram_gb: float | None = fld("内存(GB)", "RAM (GB)", required=True, minimum=0, maximum=65536)
    disks: tuple[Disk, ...] = fld("磁盘", "disks", default=())
    os_distribution: OsDistribution | None = fld("操作系统", "OS distribution", required=True)
    os_version: str | None = fld("系统版本", "OS version")
    kernel: str | None = fld("内核", "kernel")
    role: ServerRole | None = fld("角色", "role")
    software: tuple[Software, ...] = fld("中间件/软件", "software", default=())
    observed: dict | None = fld("采集信息", "observed facts",
                                doc="written only by discovery and import, with source and time")
    notes: str | None = fld("备注", "notes")
    census_missing: tuple[CensusField, ...] = fld(
        "普查待补字段", "census: fields still missing", default=(), waives=True,
        doc="written by an import for a host its source names (address, groups) without cores, RAM, OS or "
            "architecture: the record is incomplete — validation warns, planning leaves its systems "
            "unscheduled — until `govcloud inventory discover` (or a later import) supplies them")

    @property
    def disk_gb(self) -> float:
        return sum(d.size_gb for d in self.disks)

    @property
    def known_cpu_arch(self) -> CpuArch | None:
        """``cpu_arch``, or None while the census has not established it (the x86_64 default is then
        no answer): what reports and listings show."""
        return None if CensusField.cpu_arch in self.census_missing else self.cpu_arch

    @property
    def incomplete(self) -> tuple[str, ...]:
        """The census fields still unknown (after validation merged discovery into the record): the
        fields ``census_missing`` names that have no value yet, and any required one that is None."""
        out = [m.value for m in self.census_missing
               if m is CensusField.cpu_arch or getattr(self, m.value, None) is None]
        for key in ("cores", "ram_gb", "os_distribution"):
            if getattr(self, key) is None and key not in out:
                out.append(key)
        return tuple(out)

    @property
    def observation(self) -> Observed:
        """``observed`` as a typed record (model/observed.py): what planning reads."""
        return Observed.from_dict(self.observed)


@dataclass(slots=True)
class InformationSystem:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("信息系统名称", "name", required=True)
    owner_org: str = fld("业主单位", "owner", ref="organization", required=True)
    description: str | None = fld("系统简介", "description")
    category: SystemCategory = fld("系统类型", "category", default=SystemCategory.business)
    build_mode: BuildMode = fld("建设模式", "build mode", default=BuildMode.self_built)
    vertical_authority: str | None = fld("上级主管部门", "vertical authority")
    builder: str | None = fld("建设单位", "builder")
    developer: str | None = fld("承建单位", "developer")
    maintainer: str | None = fld("运维单位", "maintainer")
    secrecy: Secrecy = fld("是否涉密", "secrecy", default=Secrecy.non_classified)
    secrecy_grade: SecrecyGrade | None = fld("密级", "secrecy grade")
    fenbao_status: FenbaoStatus | None = fld("分保状态", "classified-protection status")
    network_zone: NetworkZone = fld("网络环境", "network zone", required=True)
    extranet_area: ExtranetArea | None = fld("外网区域", "extranet area")
    dedicated_net_owner: str | None = fld("专网主管部门", "dedicated-network owner")
    mlps_level: int | None = fld("等保级别", "MLPS level", minimum=1, maximum=5)
    mlps_s_level: int | None = fld("业务信息安全等级", "MLPS S sub-level", minimum=1, maximum=5)
    mlps_a_level: int | None = fld("系统服务安全等级", "MLPS A sub-level", minimum=1, maximum=5)
    mlps_status: MlpsStatus = fld("等保状态", "MLPS status", default=MlpsStatus.ungraded)
    mlps_filing_no: str | None = fld("备案证明编号", "MLPS filing number")
    mlps_last_assessed: date | None = fld("最近测评时间", "last MLPS assessment")
    mlps_result: str | None = fld("测评结论", "MLPS assessment result")
    crypto_assessment: CryptoAssessment | None = fld("密评情况", "crypto assessment")
    service_scope: ServiceScope | None = fld("使用范围", "service scope")
    audience: tuple[Audience, ...] = fld("服务对象", "audience", default=())
    users: int | None = fld("用户数", "users", minimum=0)
    daily_visits: int | None = fld("日均访问量", "daily visits", minimum=0)
    monthly_cases: int | None = fld("月办件量", "monthly cases", minimum=0)
    last_used_at: date | None = fld("最近使用时间", "last used")
    importance: Importance = fld("重要程度", "importance", default=Importance.important)
    is_24x7: bool = fld("是否24小时运行", "24x7", default=False)
    can_business_continue_without: bool | None = fld("可否脱离系统完成业务", "business can run without it")
    lifecycle: Lifecycle = fld("运行状态", "lifecycle", default=Lifecycle.in_service)
    zombie_criteria: tuple[ZombieCriterion, ...] = fld("僵尸系统判定依据", "zombie criteria", default=())
    approval: Approval | None = fld("立项审批", "project approval")
    superior_approval: Approval | None = fld("上级主管部门迁移批复", "superior approval to migrate",
                                             doc="for vertical systems: the superior department's approval")
    investment_wan: float | None = fld("总投资(万元)", "investment (10k CNY)", minimum=0)
    funding_source: FundingSource | None = fld("资金来源", "funding source")
    annual_om_wan: float | None = fld("年运维费用(万元)", "annual O&M (10k CNY)", minimum=0)
    contract_end: date | None = fld("合同到期时间", "contract end")
    built_at: date | None = fld("建设时间", "built")
    go_live: date | None = fld("上线时间", "go-live")
    shared_platform_connected: bool = fld("是否接入共享交换平台", "connected to the exchange platform",
                                          default=False)
    internet_egress_own: bool = fld("自有互联网出口", "own Internet egress", default=False)
    covered_by_platform: str | None = fld("可由统建平台替代", "unified platform covering it")
    rpo_minutes: int | None = fld("RPO(分钟)", "RPO (minutes)", minimum=0)
    rto_minutes: int | None = fld("RTO(分钟)", "RTO (minutes)", minimum=0)
    xinchuang_status: XinchuangStatus = fld("信创适配状态", "xinchuang status",
                                            default=XinchuangStatus.not_assessed)
    data_gb: float | None = fld("数据量(GB)", "data volume (GB)", minimum=0)
    servers: tuple[str, ...] = fld("服务器", "servers", ref="server", default=())
    move_group: str | None = fld("指定迁移组", "manual move group", ident=True)
    workload: Workload | None = fld("迁移工作负载", "migration workload",
                                    doc="data paths, services, databases and cutover record the migration steps act on")
    evidence: tuple[Evidence, ...] = fld("证明材料", "evidence", default=())
    contacts: tuple[Contact, ...] = fld("联系人", "contacts", default=())
    observed: dict | None = fld("采集信息", "observed facts")
    notes: str | None = fld("备注", "notes")

    @property
    def is_classified(self) -> bool:
        return self.secrecy is Secrecy.classified


@dataclass(slots=True)
class DatabaseInstance:
    id: str = fld("编号", "id", required=True, ident=True)
    engine: DbEngine = fld("数据库类型", "engine", required=True)
    name: str | None = fld("名称", "name")
    version: str | None = fld("版本", "version")
    servers: tuple[str, ...] = fld("所在服务器", "servers", ref="server", default=())
    schemas: tuple[str, ...] = fld("库/模式", "schemas", default=())
    size_gb: float | None = fld("数据量(GB)", "size (GB)", minimum=0)
    used_by: tuple[str, ...] = fld("使用系统", "used by", ref="system", default=())
    replication: Replication = fld("复制方式", "replication", default=Replication.none)


@dataclass(slots=True)
class Dependency:
    from_: str = fld("调用方系统", "from", ref="system", required=True)
    to: str = fld("被调用系统", "to", ref="system", required=True)
    type: DepType = fld("依赖类型", "type", required=True)
    latency_sensitive: bool = fld("时延敏感", "latency sensitive", default=False)
    criticality: Criticality = fld("重要性", "criticality", default=Criticality.medium)
    bridge: str | None = fld("过渡桥接", "bridge",
                             doc="a declared replication/sync link that lets the two move in different batches")
    description: str | None = fld("说明", "description")

    @property
    def id(self) -> str:
        return f"{self.from_}->{self.to}"


@dataclass(slots=True)
class DataItem:
    name: str = fld("信息项名称", "item name", required=True)
    type: str | None = fld("数据类型", "data type")


@dataclass(slots=True)
class InformationResource:
    id: str = fld("信息资源代码", "resource code", required=True)
    name: str = fld("信息资源名称", "resource name", required=True)
    provider_org: str = fld("信息资源提供方", "provider", ref="organization", required=True)
    abstract: str = fld("信息资源摘要", "abstract", required=True)
    classification: str | None = fld("信息资源分类", "classification")
    format: str | None = fld("信息资源格式", "format")
    items: tuple[DataItem, ...] = fld("信息项", "data items", default=())
    sharing_type: SharingType = fld("共享类型", "sharing type", default=SharingType.conditional)
    sharing_conditions: str | None = fld("共享条件", "sharing conditions")
    sharing_method: SharingMethod | None = fld("共享方式", "sharing method")
    open_to_public: bool = fld("是否向社会开放", "open to the public", default=False)
    open_conditions: str | None = fld("开放条件", "open conditions")
    update_cycle: UpdateCycle | None = fld("更新周期", "update cycle")
    published: date | None = fld("发布日期", "published")
    related_systems: tuple[str, ...] = fld("关联系统", "related systems", ref="system", default=())
    related_resources: tuple[str, ...] = fld("关联资源代码", "related resources", default=())
    management_method: str | None = fld("管理方式", "management method")
    negative_list: bool = fld("负面清单", "negative list", default=False)
    base_db: BaseDb | None = fld("基础库", "base database")
    lib_kind: ResourceLib | None = fld("库类型", "library kind")
    secrecy: Secrecy = fld("密级", "secrecy", default=Secrecy.non_classified)
    authoritative_system: str | None = fld("权威来源系统", "authoritative source system", ref="system")


@dataclass(slots=True)
class CloudPlatform:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("平台名称", "name", required=True)
    tier: CloudTier = fld("层级", "tier", required=True)
    stack: str | None = fld("技术栈", "stack")
    api_kind: ApiKind = fld("接口类型", "API kind", default=ApiKind.openstack)
    operator_org: str | None = fld("运营单位", "operator", ref="organization")
    cloud: str | None = fld("clouds.yaml条目", "clouds.yaml entry")


@dataclass(slots=True)
class CloudZone:
    id: str = fld("编号", "id", required=True, ident=True)
    platform: str = fld("所属平台", "platform", ref="cloud_platform", required=True)
    name: str = fld("资源池名称", "name", required=True)
    network_zone: NetworkZone = fld("网络区域", "network zone", required=True)
    extranet_area: ExtranetArea | None = fld("外网区域", "extranet area")
    mlps_level: int = fld("等保级别", "MLPS level", required=True, minimum=1, maximum=5)
    accepts_classified: bool = fld("可承载涉密", "accepts classified", default=False)
    dedicated_pool: bool = fld("独立资源池", "dedicated pool", default=False,
                               doc="a separate pool, required for level-4 systems")
    cpu_arch: CpuArch = fld("CPU架构", "CPU architecture", default=CpuArch.x86_64)
    cpu_vendor: CpuVendor | None = fld("CPU厂商", "CPU vendor")
    is_xinchuang: bool = fld("信创资源池", "xinchuang pool", default=False)
    in_china: bool = fld("位于境内", "in China", default=True)
    ops_in_china: bool = fld("运维位于境内", "operated in China", default=True)
    dr_site: str | None = fld("灾备站点", "DR site")
    dr_mode: DrMode = fld("灾备方式", "DR mode", default=DrMode.none)
    capacity: Capacity = fld("容量", "capacity", default_factory=Capacity)
    expansions: tuple[CapacityExpansion, ...] = fld("扩容计划", "capacity expansions", default=(),
                                                    doc="dated additions to the capacity")
    flavors: tuple[Flavor, ...] = fld("规格", "flavors", default=())
    images: tuple[Image, ...] = fld("镜像", "images", default=())
    availability_zone: str | None = fld("可用区", "availability zone")
    network: str | None = fld("云网络", "cloud network",
                              doc="OpenStack network the zone's servers attach to (migrate provisions on it)")
    network_cidr: str | None = fld("网段", "network CIDR",
                                   doc="when set and the network does not exist, migrate creates it with this subnet")
    floating_network: str | None = fld("外部网络", "floating-IP network",
                                       doc="external network for floating IPs of Internet-facing systems")


@dataclass(slots=True)
class TakeoverRecord:
    id: str = fld("编号", "id", required=True, ident=True)
    system: str | None = fld("系统", "system", ref="system")
    org: str | None = fld("部门", "department", ref="organization")
    from_maintainer: str | None = fld("原运维单位", "from maintainer")
    to_operator: str | None = fld("接管运营单位", "to operator")
    planned_date: date | None = fld("计划接管日期", "planned date")
    done_date: date | None = fld("完成接管日期", "done date")
    status: TakeoverStatus = fld("接管状态", "status", default=TakeoverStatus.not_started)
    batch: str | None = fld("接管批次", "batch")
    handover_items: tuple[str, ...] = fld("移交内容", "handover items", default=())


@dataclass(slots=True)
class FreezeWindow:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("名称", "name", required=True)
    start: date = fld("开始日期", "start", required=True)
    end: date = fld("结束日期", "end", required=True)
    scope: FreezeScope = fld("范围", "scope", default=FreezeScope.global_)
    targets: tuple[str, ...] = fld("适用对象", "targets", default=())
    reason: str | None = fld("原因", "reason")


@dataclass(slots=True)
class Approver:
    """Who may approve plans made under a policy: a name and a public key (one key per entry;
    list a person twice for two keys), optionally limited to departments or batches."""

    name: str = fld("审批人", "name", required=True, doc="the name `plan approve --by` gives")
    ssh_key: str | None = fld("SSH公钥", "SSH public key",
                              doc="the key part of an allowed_signers line: 'ssh-ed25519 AAAA… comment'")
    sm2_key: str | None = fld("SM2公钥", "SM2 public key",
                              doc="PEM SubjectPublicKeyInfo of an SM2 key (国密 GB/T 32918, SM3 digest)")
    departments: tuple[str, ...] = fld("限定部门", "only these departments", ref="organization", default=())
    batches: tuple[str, ...] = fld("限定批次", "only these batches", default=(),
                                   doc="plan batch ids (B01) or the policy's batch ids (T1)")


@dataclass(slots=True)
class Policy:
    id: str = fld("编号", "id", required=True, ident=True)
    name: str = fld("名称", "name", required=True)
    region: str | None = fld("行政区划", "region", ref="region")
    source: str | None = fld("依据文件", "source document")
    start: date | None = fld("计划开始日期", "plan start")
    batches: tuple[Batch, ...] = fld("批次", "batches", default=())
    thresholds: Thresholds = fld("阈值", "thresholds", default_factory=Thresholds)
    scope_orgs: tuple[str, ...] = fld("适用部门", "organisations in scope", ref="organization", default=())
    final_deadline: date | None = fld("全部上云期限", "final deadline")
    approvers: tuple[Approver, ...] = fld("计划审批人", "plan approvers", default=(),
                                          doc="allowed signers of `plan approve`; declare them in the "
                                              "inventory's root policy.yaml (or the --policy file)")
    xinchuang_orgs: tuple[str, ...] = fld("信创迁移部门", "信创 departments", ref="organization", default=(),
                                          doc="departments whose systems move onto 信创 pools (with prefer_domestic)")
    xinchuang_categories: tuple[SystemCategory, ...] = fld("信创迁移系统类型", "信创 system categories", default=(),
                                                          doc="system categories that move onto 信创 pools")
    target_os: OsDistribution | None = fld("统一目标操作系统", "target OS",
                                           doc="OS every rebuilt server gets (default: keep the OS family)")


@dataclass(slots=True)
class Observation:
    """Facts a machine observed about a record (discovery, import), kept apart from what people
    wrote: observations live in their own files (e.g. observed/discovery.yaml) and the loader
    merges them into the record's ``observed`` — a person's value is never overwritten."""

    source: str = fld("来源", "source", required=True, doc="e.g. discovery:ssh, import:rvtools:vInfo.xlsx")
    server: str | None = fld("服务器", "server", ref="server")
    system: str | None = fld("信息系统", "system", ref="system")
    collected_at: str | None = fld("采集时间", "collected at", doc="ISO 8601 timestamp")
    facts: dict | None = fld("采集结果", "facts")

    @property
    def id(self) -> str:
        return f"{self.source}:{self.server or self.system}"


@dataclass(frozen=True, slots=True)
class Section:
    """One top-level key of an inventory file and the entity it holds."""

    key: str            # YAML key, e.g. "machine_rooms"
    kind: str           # reference kind, e.g. "machine_room"
    cls: type
    zh: str
    en: str


SECTIONS: tuple[Section, ...] = (
    Section("regions", "region", Region, "行政区划", "regions"),
    Section("organizations", "organization", Organization, "部门/单位", "organisations"),
    Section("machine_rooms", "machine_room", MachineRoom, "机房", "machine rooms"),
    Section("servers", "server", Server, "服务器", "servers"),
    Section("systems", "system", InformationSystem, "信息系统", "information systems"),
    Section("databases", "database", DatabaseInstance, "数据库实例", "database instances"),
    Section("dependencies", "dependency", Dependency, "系统依赖", "dependencies"),
    Section("resources", "resource", InformationResource, "政务信息资源目录", "information resources"),
    Section("cloud_platforms", "cloud_platform", CloudPlatform, "政务云平台", "cloud platforms"),
    Section("cloud_zones", "cloud_zone", CloudZone, "资源池", "cloud zones"),
    Section("takeovers", "takeover", TakeoverRecord, "接管记录", "takeover records"),
    Section("freeze_windows", "freeze_window", FreezeWindow, "封网期", "freeze windows"),
    Section("policies", "policy", Policy, "策略", "policies"),
    Section("observations", "observation", Observation, "采集信息", "observations"),
)
# sections whose records have no id of their own: kept as lists, duplicates allowed
LIST_SECTIONS = frozenset({"dependencies", "observations"})
SECTION_BY_KEY = {s.key: s for s in SECTIONS}
SECTION_BY_KIND = {s.kind: s for s in SECTIONS}

# YAML keys that differ from the Python attribute (``from`` is a keyword).
KEY_TO_ATTR = {"from": "from_"}
ATTR_TO_KEY = {v: k for k, v in KEY_TO_ATTR.items()}


def yaml_key(attr: str) -> str:
    return ATTR_TO_KEY.get(attr, attr)


def entity_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)
