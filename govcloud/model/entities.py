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

from govcloud.base.i18n import tr, zh_en
from govcloud.model.observed import Observed
from govcloud.model.enums import (
    AdminLevel, ApiKind, Audience, BaseDb, BatchKind, BuildMode, CensusField, CloudTier, CpuArch, CpuVendor,
    Criticality, DbEngine, DepType, DrMode, EvidenceKind, ExtranetArea, FenbaoStatus, FreezeScope,
    FundingSource, Hypervisor, Importance, ItUnitStatus, Lifecycle, MlpsStatus, NetworkZone,
    OrgType, OsDistribution, Replication, ResourceLib, RoomStatus, RoomType, Secrecy, SecrecyGrade,
    ServerKind, ServerRole, ServiceScope, SharingMethod, SharingType, SystemCategory,
    TakeoverStatus, UpdateCycle, XinchuangStatus, ZombieCriterion,
)


def fld(en: str, *, ctx: str = "field", ref: str | None = None, required: bool = False,
        default: Any = None, default_factory: Any = None, minimum: float | None = None, maximum: float | None = None,
        doc: str | None = None, ident: bool = False, waives: bool = False) -> Any:
    """A dataclass field with its label (English; Chinese from the catalog, context ``ctx``), the
    entity kind it references and its bounds.

    ``ident``: the value is an identifier and must match the id grammar (``model/ids.py``).
    ``waives``: the field lists (by YAML key) required fields the record may leave out (a census
    record an import created without them, ``Server.census_missing``)."""
    meta = {"zh": tr(en, "zh", ctx=ctx), "en": en, "ref": ref, "required": required, "min": minimum, "max": maximum,
            "doc": doc, "ident": ident, "waives": waives}
    if default_factory is not None:
        return field(default_factory=default_factory, metadata=meta)
    return field(default=default, metadata=meta)


# ---------------------------------------------------------------- nested values


@dataclass(slots=True)
class Approval:
    body: str | None = fld("approving body")
    doc_no: str | None = fld("document number")
    date: date | None = fld("approval date")


@dataclass(slots=True)
class SecrecyExemption:
    approved: bool = fld("approved", default=False)
    approval_ref: str | None = fld("approval reference")
    approver: str | None = fld("approver")


@dataclass(slots=True)
class CryptoAssessment:
    done: bool = fld("done", default=False)
    date: date | None = fld("date")
    result: str | None = fld("result")


@dataclass(slots=True)
class Contact:
    name: str | None = fld("name")
    role: str | None = fld("role")
    phone: str | None = fld("phone")


@dataclass(slots=True)
class Evidence:
    kind: EvidenceKind | None = fld("kind")
    ref: str | None = fld("reference")
    note: str | None = fld("note")


@dataclass(slots=True)
class Disk:
    size_gb: float = fld("size (GB)", required=True, minimum=0)
    used_gb: float | None = fld("used (GB)", minimum=0)
    name: str | None = fld("name", ctx="field:Disk")


@dataclass(slots=True)
class Software:
    name: str = fld("name", ctx="field:Software", required=True)
    version: str | None = fld("version")


@dataclass(slots=True)
class ServiceSpec:
    """A service the system runs, as the migration steps need it: started on the target, stopped
    on the source at cutover (restarted on rollback), checked by port and URL at verification."""

    name: str = fld("service name", required=True, doc="init/systemd unit name, e.g. nginx")
    port: int | None = fld("port", minimum=1, maximum=65535)
    health_path: str | None = fld("health-check path", doc="HTTP path, e.g. /api/stats.json")


@dataclass(slots=True)
class DatabaseSpec:
    engine: DbEngine = fld("engine", required=True)
    name: str = fld("database name", required=True, ident=True,
                    doc="the database's own name; it names dump files and is a shell and SQL argument")


@dataclass(slots=True)
class CutoverRecord:
    """The name clients use to reach the system, switched from source to target at cutover."""

    name: str = fld("name", ctx="field:CutoverRecord", required=True, doc="e.g. govapp.gov.test")
    kind: str = fld("kind", ctx="field:CutoverRecord", default="hosts",
                    doc="hosts: an /etc/hosts line on the client servers; dns: an A/AAAA/CNAME record changed by "
                        "a TSIG-signed RFC 2136 update on the zone's authoritative server; haproxy: a backend "
                        "server slot changed through HAProxy's runtime API")
    clients: tuple[str, ...] = fld("client servers", ref="server", default=())
    # dns
    zone: str | None = fld("DNS zone", doc="dns: the zone holding the record, e.g. gov.test")
    server: str | None = fld("server",
                             doc="dns: the zone's authoritative server ADDR[:PORT]; haproxy: the backend's server "
                                 "slot (name) that points at the system")
    rdtype: str = fld("record type", default="A", doc="dns: A, AAAA or CNAME")
    tsig_key: str | None = fld("TSIG key",
                               doc="dns: a key FILE (absolute path, BIND key syntax, mode 0600) or a key name "
                                   "looked up as $GOVCLOUD_TSIG_DIR/NAME.key — never the secret itself")
    cname_source: str | None = fld("CNAME source target",
                                   doc="dns rdtype CNAME: the name the record points to while the source serves "
                                       "(what the switch expects, compare-and-swap), e.g. govapp-old.gov.test")
    cname_target: str | None = fld("CNAME target",
                                   doc="dns rdtype CNAME: the name the record points to once the target serves "
                                       "(a name that resolves to the target server), e.g. govapp-cloud.gov.test")
    # haproxy
    api: str | None = fld("HAProxy runtime API",
                          doc="haproxy: the admin socket path, or ADDR:PORT of a TCP runtime API")
    backend: str | None = fld("HAProxy backend", doc="haproxy: the backend name")
    target_server: str | None = fld("target server slot",
                                    doc="haproxy mode drain-enable: the spare slot pointed at the target and "
                                        "enabled while the source's slot is drained")
    mode: str = fld("switch mode", default="point",
                    doc="haproxy: point (repoint the slot at the target) or drain-enable")
    port: int | None = fld("port", minimum=1, maximum=65535,
                           doc="the port clients request on `name` to reach the health URL (default: the first "
                               "service port with a health path; for haproxy the frontend's port)")


@dataclass(slots=True)
class Workload:
    """What moving the system means on the hosts: its data, services, databases and the record
    clients use. Precheck refuses a system whose workload is unknown."""

    data_paths: tuple[str, ...] = fld("data paths", default=())
    services: tuple[ServiceSpec, ...] = fld("services", default=())
    databases: tuple[DatabaseSpec, ...] = fld("databases", default=())
    cutover_record: CutoverRecord | None = fld("cutover record")


@dataclass(slots=True)
class Capacity:
    vcpus: int = fld("vCPUs", default=0, minimum=0)
    ram_gb: float = fld("RAM (GB)", default=0, minimum=0)
    storage_gb: float = fld("storage (GB)", default=0, minimum=0)
    public_ips: int = fld("public IPs", default=0, minimum=0)


@dataclass(slots=True)
class CapacityExpansion:
    """Capacity a zone gains on a date (扩容): usable by cutovers on or after that date."""

    date: date = fld("date", ctx="field:CapacityExpansion", required=True)
    vcpus: int = fld("added vCPUs", default=0, minimum=0)
    ram_gb: float = fld("added RAM (GB)", default=0, minimum=0)
    storage_gb: float = fld("added storage (GB)", default=0, minimum=0)
    note: str | None = fld("note")


@dataclass(slots=True)
class Flavor:
    name: str = fld("name", ctx="field:Flavor", required=True)
    vcpus: int = fld("vCPUs", required=True, minimum=1)
    ram_gb: float = fld("RAM (GB)", required=True, minimum=0)
    disk_gb: float = fld("root disk (GB)", default=0, minimum=0)


@dataclass(slots=True)
class Image:
    name: str = fld("name", ctx="field:Image", required=True)
    os_distribution: OsDistribution = fld("OS distribution", required=True)
    os_version: str | None = fld("OS version")
    cpu_arch: CpuArch = fld("CPU architecture", default=CpuArch.x86_64)
    domestic: bool = fld("domestic", default=False)


@dataclass(slots=True)
class Batch:
    id: str = fld("id", required=True, ident=True)
    name: str = fld("name", ctx="field:Batch", required=True)
    kind: BatchKind = fld("kind", ctx="field:Batch", default=BatchKind.migration)
    deadline: date | None = fld("deadline")
    start: date | None = fld("start")
    declared_count: int | None = fld("declared count", minimum=0,
                                     doc="count the source document states, kept even when it differs from the list")
    scope_orgs: tuple[str, ...] = fld("department scope", ref="organization", default=())
    scope_systems: tuple[str, ...] = fld("system scope", ref="system", default=())
    principle: str | None = fld("principle")
    source: str | None = fld("source")


@dataclass(slots=True)
class Thresholds:
    """Every number a rule or check uses; data, not code (DOMAIN.md §4.2 PolicyProfile)."""

    min_mlps_level: int = fld("minimum MLPS level", default=2, minimum=1, maximum=5)
    extranet_mlps_level: int = fld("extranet MLPS level", default=3, minimum=1, maximum=5)
    no_new_machine_room_after: date | None = fld("no new machine room after")
    eol_os_blocking: bool = fld("EOL OS blocks rehost", default=True)
    prefer_domestic: bool = fld("prefer domestic targets", default=True)
    log_retention_days: int = fld("log retention (days)", default=180, minimum=0)
    password_max_days: int = fld("password max days", default=90, minimum=0)
    lockout_deny: int = fld("login-failure lockout", default=5, minimum=0)
    tmout: int = fld("idle timeout (s)", default=600, minimum=0)
    password_warn_age: int = fld("password warn age (days)", default=7, minimum=0)
    password_min_len: int = fld("password minimum length", default=8, minimum=1)
    password_min_class: int = fld("password character classes", default=3, minimum=1, maximum=4)
    password_remember: int = fld("password history", default=5, minimum=0)
    lockout_unlock_time: int = fld("lockout unlock time (s)", default=300, minimum=0)
    ssh_client_alive_count_max: int = fld("SSH ClientAliveCountMax", default=3, minimum=0)
    ssh_max_auth_tries: int = fld("SSH MaxAuthTries", default=5, minimum=1)
    umask: str = fld("default umask", default="027")
    shadow_max_mode: str = fld("max mode of /etc/shadow", default="400")
    sudo_admins: tuple[str, ...] = fld("sudo admins", default=("root", "%sudo"))
    sudo_nopasswd_allowed: tuple[str, ...] = fld("accounts allowed NOPASSWD sudo", default=())
    allowed_ports: tuple[int, ...] = fld("allowed high-risk ports", default=())
    headroom_pct: float = fld("sizing headroom (%)", default=30, minimum=0)
    servers_per_week: int = fld("servers per week", default=40, minimum=1)
    pilot_max_servers: int = fld("pilot batch max servers", default=20, minimum=1)
    cutover_window: str | None = fld("cutover window", doc="e.g. 'Sat 22:00-06:00'")
    cutover_dns_ttl_s: int = fld("DNS record TTL before cutover (s)", default=60,
                                 minimum=1, maximum=86400,
                                 doc="`migrate run` lowers a dns cutover record's TTL to this during sync; "
                                     "`migrate cutover` waits until the old TTL has expired")
    xinchuang_share_pct: float = fld("Xinchuang share (%)", default=0, minimum=0, maximum=100,
                                     doc="share of adapted x86 systems the policy moves onto Xinchuang (domestic IT) pools "
                                         "(with prefer_domestic)")
    cutover_max_downtime_s: int | None = fld("approved cutover downtime (s)", minimum=0,
                                             doc="`migrate cutover` refuses when the projected downtime exceeds it")
    rehearsal_max_age_days: int | None = fld("rehearsal max age (days)", minimum=0,
                                             doc="`migrate cutover` refuses a system without a successful "
                                                 "`migrate rehearse` this many days old or newer")


# ---------------------------------------------------------------- entities


@dataclass(slots=True)
class InventoryMeta:
    name: str = fld("name", ctx="field:InventoryMeta", required=True)
    region: str | None = fld("region", ref="region")
    as_of: date | None = fld("census date")
    default_policy: str | None = fld("default policy", ref="policy")
    description: str | None = fld("description")
    source: str | None = fld("source document")


@dataclass(slots=True)
class Region:
    code: str = fld("code", required=True, ident=True)
    name: str = fld("name", ctx="field:Region", required=True)
    level: AdminLevel = fld("level", required=True)
    parent: str | None = fld("parent", ref="region")

    @property
    def id(self) -> str:
        return self.code


@dataclass(slots=True)
class Organization:
    id: str = fld("id", ctx="field:Organization", required=True, ident=True)
    name: str = fld("full name", required=True)
    short_name: str | None = fld("short name")
    aliases: tuple[str, ...] = fld("aliases", default=())
    predecessors: tuple[str, ...] = fld("predecessors", ref="organization", default=())
    successors: tuple[str, ...] = fld("successors", ref="organization", default=())
    usci: str | None = fld("unified social credit code")
    region: str | None = fld("region", ref="region")
    org_type: OrgType | None = fld("organisation type")
    parent: str | None = fld("parent organisation", ref="organization")
    cdo: str | None = fld("chief data officer")
    it_unit_status: ItUnitStatus | None = fld("IT-unit status")
    established: date | None = fld("established")
    abolished: date | None = fld("abolished or merged")
    contacts: tuple[Contact, ...] = fld("contacts", default=())


@dataclass(slots=True)
class MachineRoom:
    id: str = fld("id", ctx="field:MachineRoom", required=True, ident=True)
    name: str = fld("name", ctx="field:MachineRoom", required=True)
    owner_org: str = fld("owner", ref="organization", required=True)
    room_type: RoomType = fld("room type", required=True)
    address: str | None = fld("address")
    network_zones: tuple[NetworkZone, ...] = fld("network zones", default=())
    built_on: date | None = fld("built on")
    secrecy_exemption: SecrecyExemption | None = fld("secrecy exemption")
    status: RoomStatus = fld("status", default=RoomStatus.in_use)
    racks: int | None = fld("racks", minimum=0)
    power_kw: float | None = fld("power (kW)", minimum=0)
    lease_expiry: date | None = fld("lease expiry")
    closure_date: date | None = fld("closure date", doc="the room must be empty by this date")
    mlps_physical_level: int | None = fld("physical MLPS level", minimum=1, maximum=5)


@dataclass(slots=True)
class Server:
    id: str = fld("id", ctx="field:Server", required=True, ident=True)
    hostname: str = fld("hostname", required=True)
    machine_room: str | None = fld("machine room", ref="machine_room")
    kind: ServerKind = fld("kind", ctx="field:Server", default=ServerKind.vm)
    hypervisor: Hypervisor | None = fld("hypervisor")
    rack: str | None = fld("rack")
    ips: tuple[str, ...] = fld("IP addresses", default=())
    mgmt_ip: str | None = fld("management IP")
    cpu_vendor: CpuVendor | None = fld("CPU vendor")
    cpu_arch: CpuArch = fld("CPU architecture", default=CpuArch.x86_64)
    # required, except while ``census_missing`` names them (None then: unknown, never a guessed 0)
    cores: int | None = fld("cores", required=True, minimum=1, maximum=4096)
    ram_gb: float | None = fld("RAM (GB)", required=True, minimum=0, maximum=65536)
    disks: tuple[Disk, ...] = fld("disks", default=())
    os_distribution: OsDistribution | None = fld("OS distribution", required=True)
    os_version: str | None = fld("OS version")
    kernel: str | None = fld("kernel")
    role: ServerRole | None = fld("role", ctx="field:Server")
    software: tuple[Software, ...] = fld("software", default=())
    observed: dict | None = fld("observed facts",
                                doc="written only by discovery and import, with source and time")
    notes: str | None = fld("notes")
    census_missing: tuple[CensusField, ...] = fld(
        "census: fields still missing", default=(), waives=True,
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
    id: str = fld("id", ctx="field:InformationSystem", required=True, ident=True)
    name: str = fld("name", ctx="field:InformationSystem", required=True)
    owner_org: str = fld("owner", ctx="field:InformationSystem", ref="organization", required=True)
    description: str | None = fld("description", ctx="field:InformationSystem")
    category: SystemCategory = fld("category", default=SystemCategory.business)
    build_mode: BuildMode = fld("build mode", default=BuildMode.self_built)
    vertical_authority: str | None = fld("vertical authority")
    builder: str | None = fld("builder")
    developer: str | None = fld("developer")
    maintainer: str | None = fld("maintainer")
    secrecy: Secrecy = fld("secrecy", default=Secrecy.non_classified)
    secrecy_grade: SecrecyGrade | None = fld("secrecy grade")
    fenbao_status: FenbaoStatus | None = fld("classified-protection status")
    network_zone: NetworkZone = fld("network zone", required=True)
    extranet_area: ExtranetArea | None = fld("extranet area")
    dedicated_net_owner: str | None = fld("dedicated-network owner")
    mlps_level: int | None = fld("MLPS level", minimum=1, maximum=5)
    mlps_s_level: int | None = fld("MLPS S sub-level", minimum=1, maximum=5)
    mlps_a_level: int | None = fld("MLPS A sub-level", minimum=1, maximum=5)
    mlps_status: MlpsStatus = fld("MLPS status", default=MlpsStatus.ungraded)
    mlps_filing_no: str | None = fld("MLPS filing number")
    mlps_last_assessed: date | None = fld("last MLPS assessment")
    mlps_result: str | None = fld("MLPS assessment result")
    crypto_assessment: CryptoAssessment | None = fld("crypto assessment")
    service_scope: ServiceScope | None = fld("service scope")
    audience: tuple[Audience, ...] = fld("audience", default=())
    users: int | None = fld("users", minimum=0)
    daily_visits: int | None = fld("daily visits", minimum=0)
    monthly_cases: int | None = fld("monthly cases", minimum=0)
    last_used_at: date | None = fld("last used")
    importance: Importance = fld("importance", default=Importance.important)
    is_24x7: bool = fld("24x7", default=False)
    can_business_continue_without: bool | None = fld("business can run without it")
    lifecycle: Lifecycle = fld("lifecycle", default=Lifecycle.in_service)
    zombie_criteria: tuple[ZombieCriterion, ...] = fld("zombie criteria", default=())
    approval: Approval | None = fld("project approval")
    superior_approval: Approval | None = fld("superior approval to migrate",
                                             doc="for vertical systems: the superior department's approval")
    investment_wan: float | None = fld("investment (10k CNY)", minimum=0)
    funding_source: FundingSource | None = fld("funding source")
    annual_om_wan: float | None = fld("annual O&M (10k CNY)", minimum=0)
    contract_end: date | None = fld("contract end")
    built_at: date | None = fld("built")
    go_live: date | None = fld("go-live")
    shared_platform_connected: bool = fld("connected to the exchange platform",
                                          default=False)
    internet_egress_own: bool = fld("own Internet egress", default=False)
    covered_by_platform: str | None = fld("unified platform covering it")
    rpo_minutes: int | None = fld("RPO (minutes)", minimum=0)
    rto_minutes: int | None = fld("RTO (minutes)", minimum=0)
    xinchuang_status: XinchuangStatus = fld("xinchuang status",
                                            default=XinchuangStatus.not_assessed)
    data_gb: float | None = fld("data volume (GB)", minimum=0)
    servers: tuple[str, ...] = fld("servers", ref="server", default=())
    move_group: str | None = fld("manual move group", ident=True)
    workload: Workload | None = fld("migration workload",
                                    doc="data paths, services, databases and cutover record the migration steps act on")
    evidence: tuple[Evidence, ...] = fld("evidence", default=())
    contacts: tuple[Contact, ...] = fld("contacts", default=())
    observed: dict | None = fld("observed facts")
    notes: str | None = fld("notes")

    @property
    def is_classified(self) -> bool:
        return self.secrecy is Secrecy.classified


@dataclass(slots=True)
class DatabaseInstance:
    id: str = fld("id", ctx="field:DatabaseInstance", required=True, ident=True)
    engine: DbEngine = fld("engine", required=True)
    name: str | None = fld("name", ctx="field:DatabaseInstance")
    version: str | None = fld("version")
    servers: tuple[str, ...] = fld("servers", ctx="field:DatabaseInstance", ref="server", default=())
    schemas: tuple[str, ...] = fld("schemas", default=())
    size_gb: float | None = fld("size (GB)", ctx="field:DatabaseInstance", minimum=0)
    used_by: tuple[str, ...] = fld("used by", ref="system", default=())
    replication: Replication = fld("replication", default=Replication.none)


@dataclass(slots=True)
class Dependency:
    from_: str = fld("from", ref="system", required=True)
    to: str = fld("to", ref="system", required=True)
    type: DepType = fld("type", required=True)
    latency_sensitive: bool = fld("latency sensitive", default=False)
    criticality: Criticality = fld("criticality", default=Criticality.medium)
    bridge: str | None = fld("bridge",
                             doc="a declared replication/sync link that lets the two move in different batches")
    description: str | None = fld("description")

    @property
    def id(self) -> str:
        return f"{self.from_}->{self.to}"


@dataclass(slots=True)
class DataItem:
    name: str = fld("item name", required=True)
    type: str | None = fld("data type")


@dataclass(slots=True)
class InformationResource:
    id: str = fld("resource code", required=True)
    name: str = fld("resource name", required=True)
    provider_org: str = fld("provider", ref="organization", required=True)
    abstract: str = fld("abstract", required=True)
    classification: str | None = fld("classification")
    format: str | None = fld("format")
    items: tuple[DataItem, ...] = fld("data items", default=())
    sharing_type: SharingType = fld("sharing type", default=SharingType.conditional)
    sharing_conditions: str | None = fld("sharing conditions")
    sharing_method: SharingMethod | None = fld("sharing method")
    open_to_public: bool = fld("open to the public", default=False)
    open_conditions: str | None = fld("open conditions")
    update_cycle: UpdateCycle | None = fld("update cycle")
    published: date | None = fld("published")
    related_systems: tuple[str, ...] = fld("related systems", ref="system", default=())
    related_resources: tuple[str, ...] = fld("related resources", default=())
    management_method: str | None = fld("management method")
    negative_list: bool = fld("negative list", default=False)
    base_db: BaseDb | None = fld("base database")
    lib_kind: ResourceLib | None = fld("library kind")
    secrecy: Secrecy = fld("secrecy", ctx="field:InformationResource", default=Secrecy.non_classified)
    authoritative_system: str | None = fld("authoritative source system", ref="system")


@dataclass(slots=True)
class CloudPlatform:
    id: str = fld("id", ctx="field:CloudPlatform", required=True, ident=True)
    name: str = fld("name", ctx="field:CloudPlatform", required=True)
    tier: CloudTier = fld("tier", required=True)
    stack: str | None = fld("stack")
    api_kind: ApiKind = fld("API kind", default=ApiKind.openstack)
    operator_org: str | None = fld("operator", ref="organization")
    cloud: str | None = fld("clouds.yaml entry")


@dataclass(slots=True)
class CloudZone:
    id: str = fld("id", ctx="field:CloudZone", required=True, ident=True)
    platform: str = fld("platform", ref="cloud_platform", required=True)
    name: str = fld("name", ctx="field:CloudZone", required=True)
    network_zone: NetworkZone = fld("network zone", ctx="field:CloudZone", required=True)
    extranet_area: ExtranetArea | None = fld("extranet area")
    mlps_level: int = fld("MLPS level", required=True, minimum=1, maximum=5)
    accepts_classified: bool = fld("accepts classified", default=False)
    dedicated_pool: bool = fld("dedicated pool", default=False,
                               doc="a separate pool, required for level-4 systems")
    cpu_arch: CpuArch = fld("CPU architecture", default=CpuArch.x86_64)
    cpu_vendor: CpuVendor | None = fld("CPU vendor")
    is_xinchuang: bool = fld("xinchuang pool", default=False)
    in_china: bool = fld("in China", default=True)
    ops_in_china: bool = fld("operated in China", default=True)
    dr_site: str | None = fld("DR site")
    dr_mode: DrMode = fld("DR mode", default=DrMode.none)
    capacity: Capacity = fld("capacity", default_factory=Capacity)
    expansions: tuple[CapacityExpansion, ...] = fld("capacity expansions", default=(),
                                                    doc="dated additions to the capacity")
    flavors: tuple[Flavor, ...] = fld("flavors", default=())
    images: tuple[Image, ...] = fld("images", default=())
    availability_zone: str | None = fld("availability zone")
    network: str | None = fld("cloud network",
                              doc="OpenStack network the zone's servers attach to (migrate provisions on it)")
    network_cidr: str | None = fld("network CIDR",
                                   doc="when set and the network does not exist, migrate creates it with this subnet")
    floating_network: str | None = fld("floating-IP network",
                                       doc="external network for floating IPs of Internet-facing systems")
    rehearsal_network: str | None = fld("rehearsal network",
                                        doc="isolated OpenStack network (no router, no gateway) the clones of "
                                            "`migrate rehearse` boot on")


@dataclass(slots=True)
class ExecutionNode:
    """A machine in a department's or zone's network that runs the migration playbooks of the systems
    it serves (ansible-runner's streaming worker over SSH), so their data never crosses the control node."""
    id: str = fld("id", ctx="field:ExecutionNode", required=True, ident=True)
    address: str = fld("address", ctx="field:ExecutionNode", required=True,
                       doc="IP address the control node reaches the node's SSH on")
    port: int = fld("SSH port", default=22, minimum=1, maximum=65535)
    user: str = fld("SSH user", required=True, doc="login of the control node on the node (key in the run's ssh-agent)")
    host_key: str | None = fld("host key", doc="the node's SSH host public key ('ssh-ed25519 AAAA…'), checked strictly; "
                                              "else the node must be in the --known-hosts file")
    runner: str = fld("ansible-runner path", default="/opt/govcloud-node/bin/ansible-runner",
                      doc="ansible-runner on the node (`govcloud node prepare` installs it there)")
    work_dir: str = fld("work directory", default="/var/tmp/govcloud-node",
                        doc="where the node unpacks each playbook run (removed after the run)")
    cloud_zones: tuple[str, ...] = fld("cloud zones served", ref="cloud_zone", default=(),
                                       doc="systems moving into these zones run their playbooks here")
    organizations: tuple[str, ...] = fld("departments served", ref="organization", default=(),
                                         doc="systems of these departments run their playbooks here")


@dataclass(slots=True)
class TakeoverRecord:
    id: str = fld("id", ctx="field:TakeoverRecord", required=True, ident=True)
    system: str | None = fld("system", ref="system")
    org: str | None = fld("department", ref="organization")
    from_maintainer: str | None = fld("from maintainer")
    to_operator: str | None = fld("to operator")
    planned_date: date | None = fld("planned date")
    done_date: date | None = fld("done date")
    status: TakeoverStatus = fld("status", ctx="field:TakeoverRecord", default=TakeoverStatus.not_started)
    batch: str | None = fld("batch")
    handover_items: tuple[str, ...] = fld("handover items", default=())


@dataclass(slots=True)
class FreezeWindow:
    id: str = fld("id", ctx="field:FreezeWindow", required=True, ident=True)
    name: str = fld("name", ctx="field:FreezeWindow", required=True)
    start: date = fld("start", required=True)
    end: date = fld("end", required=True)
    scope: FreezeScope = fld("scope", default=FreezeScope.global_)
    targets: tuple[str, ...] = fld("targets", default=())
    reason: str | None = fld("reason")


@dataclass(slots=True)
class Approver:
    """Who may approve plans made under a policy: a name and a public key (one key per entry;
    list a person twice for two keys), optionally limited to departments or batches."""

    name: str = fld("name", ctx="field:Approver", required=True, doc="the name `plan approve --by` gives")
    ssh_key: str | None = fld("SSH public key",
                              doc="the key part of an allowed_signers line: 'ssh-ed25519 AAAA… comment'")
    sm2_key: str | None = fld("SM2 public key",
                              doc="PEM SubjectPublicKeyInfo of an SM2 key (Chinese commercial cryptography, GB/T 32918, SM3 digest)")
    departments: tuple[str, ...] = fld("only these departments", ref="organization", default=())
    batches: tuple[str, ...] = fld("only these batches", default=(),
                                   doc="plan batch ids (B01) or the policy's batch ids (T1)")


@dataclass(slots=True)
class Policy:
    id: str = fld("id", ctx="field:Policy", required=True, ident=True)
    name: str = fld("name", ctx="field:Policy", required=True)
    region: str | None = fld("region", ref="region")
    source: str | None = fld("source document")
    start: date | None = fld("plan start")
    batches: tuple[Batch, ...] = fld("batches", default=())
    thresholds: Thresholds = fld("thresholds", default_factory=Thresholds)
    scope_orgs: tuple[str, ...] = fld("organisations in scope", ref="organization", default=())
    final_deadline: date | None = fld("final deadline")
    approvers: tuple[Approver, ...] = fld("plan approvers", default=(),
                                          doc="allowed signers of `plan approve`; declare them in the "
                                              "inventory's root policy.yaml (or the --policy file)")
    xinchuang_orgs: tuple[str, ...] = fld("Xinchuang departments", ref="organization", default=(),
                                          doc="departments whose systems move onto Xinchuang (domestic IT) pools (with prefer_domestic)")
    xinchuang_categories: tuple[SystemCategory, ...] = fld("Xinchuang system categories", default=(),
                                                          doc="system categories that move onto Xinchuang (domestic IT) pools")
    target_os: OsDistribution | None = fld("target OS",
                                           doc="OS every rebuilt server gets (default: keep the OS family)")


@dataclass(slots=True)
class Observation:
    """Facts a machine observed about a record (discovery, import), kept apart from what people
    wrote: observations live in their own files (e.g. observed/discovery.yaml) and the loader
    merges them into the record's ``observed`` — a person's value is never overwritten."""

    source: str = fld("source", ctx="field:Observation", required=True, doc="e.g. discovery:ssh, import:rvtools:vInfo.xlsx")
    server: str | None = fld("server", ref="server")
    system: str | None = fld("system", ctx="field:Observation", ref="system")
    collected_at: str | None = fld("collected at", doc="ISO 8601 timestamp")
    facts: dict | None = fld("facts")

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
    Section("regions", "region", Region, *zh_en("regions")),
    Section("organizations", "organization", Organization, *zh_en("organisations")),
    Section("machine_rooms", "machine_room", MachineRoom, *zh_en("machine rooms")),
    Section("servers", "server", Server, *zh_en("servers")),
    Section("systems", "system", InformationSystem, *zh_en("information systems")),
    Section("databases", "database", DatabaseInstance, *zh_en("database instances")),
    Section("dependencies", "dependency", Dependency, *zh_en("dependencies", ctx="section")),
    Section("resources", "resource", InformationResource, *zh_en("information resources")),
    Section("cloud_platforms", "cloud_platform", CloudPlatform, *zh_en("cloud platforms")),
    Section("cloud_zones", "cloud_zone", CloudZone, *zh_en("cloud zones")),
    Section("execution_nodes", "execution_node", ExecutionNode, *zh_en("execution nodes")),
    Section("takeovers", "takeover", TakeoverRecord, *zh_en("takeover records")),
    Section("freeze_windows", "freeze_window", FreezeWindow, *zh_en("freeze windows")),
    Section("policies", "policy", Policy, *zh_en("policies")),
    Section("observations", "observation", Observation, *zh_en("observations", ctx="section")),
)
# sections whose records have no id of their own: kept as lists, duplicates allowed
LIST_SECTIONS = frozenset({"dependencies", "observations"})
SECTION_BY_KEY = {s.key: s for s in SECTIONS}
SECTION_BY_KIND = {s.kind: s for s in SECTIONS}


def kind_label(kind: str) -> str:
    """A reference kind ("machine_room") as a message parameter: "machine room" in English text
    and JSON, the section's Chinese name (机房) in Chinese text."""
    from govcloud.model.enums import Label
    sec = SECTION_BY_KIND.get(kind)
    plain = kind.replace("_", " ")
    return Label(plain, sec.zh, plain) if sec else plain


def section_label(key: str) -> str:
    """A section key ("machine_rooms") as a message parameter, as :func:`kind_label`."""
    from govcloud.model.enums import Label
    sec = SECTION_BY_KEY.get(key)
    plain = key.replace("_", " ")
    return Label(plain, sec.zh, plain) if sec else plain

# YAML keys that differ from the Python attribute (``from`` is a keyword).
KEY_TO_ATTR = {"from": "from_"}
ATTR_TO_KEY = {v: k for k, v in KEY_TO_ATTR.items()}


def yaml_key(attr: str) -> str:
    return ATTR_TO_KEY.get(attr, attr)


def entity_fields(cls: type) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(cls)
