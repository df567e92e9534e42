"""The public clouds' server-import templates → server records. Teams that assessed a move to a
public cloud already hold their estate in one of these; the column names are the providers' own:

- AWS Migration Hub / Application Discovery Service import template (``import_template.csv``):
  ``ExternalId, SMBiosId, IPAddress, MACAddress, HostName, VMware.MoRefId, VMware.VCenterId,
  CPU.NumberOfProcessors, CPU.NumberOfCores, CPU.NumberOfLogicalCores, OS.Name, OS.Version,
  VMware.VMName, RAM.TotalSizeInMB, RAM.UsedSizeInMB.Avg/Max, CPU.UsagePct.Avg/Max, …,
  Applications, ApplicationWave, Tags, ServerId``. A record is identified by ExternalId, else
  the VMware MoRefId + vCenterId pair, else HostName, IP or MAC.
- Azure Migrate "import using CSV" template: ``Server name*, IP addresses, Cores*, Memory (In MB)*,
  OS name*, OS version, OS architecture, Number of disks, Disk N size (In GB), …, Server type,
  Hypervisor, Virtual machine ID, Virtual machine manager ID, MAC address, BIOS ID, Custom server ID,
  Application N name, Business unit, Location, Groups`` (required columns carry a ``*``).
- Google Migration Center manually populated ``vmInfo.csv``: ``MachineId, MachineName,
  PrimaryIPAddress, PrimaryMACAddress, PublicIPAddress, IpAddressListSemiColonDelimited,
  TotalDiskAllocatedGiB, TotalDiskUsedGiB, MachineTypeLabel, AllocatedProcessorCoreCount,
  MemoryGiB, HostingLocation, OsType, OsPublisher, OsName, OsVersion, MachineStatus,
  ProvisioningState, CreateDate, IsPhysical, Source`` (the template marks optional columns with
  ``(optional)``).

Header matching is tolerant (case, spaces, ``*``, ``(optional)``); sizes are converted to GB.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Callable

from govcloud.base.i18n import Msg
from govcloud.interchange.osmap import classify_os
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.interchange.tabular import (
    Column, Row, Sheet, TableFile, TableRefused, ValueProblem, make_problem, split_list, to_bool, to_number, to_text,
)
from govcloud.model.enums import Severity


def C(key: str, *names: str, required: bool = False) -> Column:
    return Column(key, names, required)


AWS = (
    C("external_id", "ExternalId"), C("smbios", "SMBiosId"), C("ips", "IPAddress"), C("macs", "MACAddress"),
    C("hostname", "HostName"), C("moref", "VMware.MoRefId"), C("vcenter", "VMware.VCenterId"),
    C("vm_name", "VMware.VMName"), C("processors", "CPU.NumberOfProcessors"), C("cores", "CPU.NumberOfCores"),
    C("logical", "CPU.NumberOfLogicalCores"), C("os_name", "OS.Name"), C("os_version", "OS.Version"),
    C("ram_mb", "RAM.TotalSizeInMB"), C("ram_used_avg_mb", "RAM.UsedSizeInMB.Avg"),
    C("ram_used_max_mb", "RAM.UsedSizeInMB.Max"), C("cpu_avg", "CPU.UsagePct.Avg"), C("cpu_max", "CPU.UsagePct.Max"),
    C("applications", "Applications"), C("wave", "ApplicationWave"), C("tags", "Tags"), C("server_id", "ServerId"),
)
AWS_IGNORE = ("DiskReadsPerSecondInKB.Avg", "DiskWritesPerSecondInKB.Avg", "DiskReadsPerSecondInKB.Max",
              "DiskWritesPerSecondInKB.Max", "DiskReadsOpsPerSecond.Avg", "DiskWritesOpsPerSecond.Avg",
              "DiskReadsOpsPerSecond.Max", "DiskWritesOpsPerSecond.Max", "NetworkReadsPerSecondInKB.Avg",
              "NetworkWritesPerSecondInKB.Avg", "NetworkReadsPerSecondInKB.Max", "NetworkWritesPerSecondInKB.Max")

AZURE = (
    C("name", "Server name", required=True), C("ips", "IP addresses", "IP address"), C("cores", "Cores", required=True),
    C("ram_mb", "Memory (In MB)", required=True), C("os_name", "OS name", required=True),
    C("os_version", "OS version"), C("os_arch", "OS architecture"), C("disk_count", "Number of disks"),
    *(C(f"disk{i}", f"Disk {i} size (In GB)", f"Disk {i} size") for i in range(1, 17)),
    C("cpu_util", "CPU utilization percentage"), C("mem_util", "Memory utilization percentage"),
    C("nics", "Network adapters"), C("firmware", "Firmware type", "Boot type"), C("server_type", "Server type"),
    C("hypervisor", "Hypervisor"), C("hypervisor_version", "Hypervisor version number"),
    C("vm_id", "Virtual machine ID"), C("vmm_id", "Virtual machine manager ID"), C("macs", "MAC address"),
    C("bios_id", "BIOS ID"), C("custom_id", "Custom server ID"),
    *(C(f"app{i}", f"Application {i} name") for i in range(1, 6)),
    C("business_unit", "Business unit"), C("business_owner", "Business owner"),
    C("business_app", "Business application name"), C("location", "Location"), C("groups", "Groups"),
    C("decommission", "Server decommission date"),
)
AZURE_IGNORE = tuple(f"Disk {i} {k}" for i in range(1, 17) for k in (
    "read ops (operations per second)", "write ops (operations per second)", "read throughput (MB per second)",
    "write throughput (MB per second)", "read ops", "write ops", "read throughput", "write throughput")) + (
    "Total disks read ops", "Total disks write ops", "Total disks read throughput", "Total disks write throughput",
    "Network In throughput", "Network Out throughput", "Error details",
    *(f"Application {i} {k}" for i in range(1, 6) for k in ("type", "version", "license expiry")))

GCP = (
    C("machine_id", "MachineId", required=True), C("name", "MachineName", required=True),
    C("primary_ip", "PrimaryIPAddress"), C("primary_mac", "PrimaryMACAddress"), C("public_ip", "PublicIPAddress"),
    C("ips", "IpAddressListSemiColonDelimited"), C("disk_gib", "TotalDiskAllocatedGiB"),
    C("disk_used_gib", "TotalDiskUsedGiB"), C("machine_type", "MachineTypeLabel"),
    C("cores", "AllocatedProcessorCoreCount"), C("ram_gib", "MemoryGiB"), C("location", "HostingLocation"),
    C("os_type", "OsType"), C("os_publisher", "OsPublisher"), C("os_name", "OsName"), C("os_version", "OsVersion"),
    C("status", "MachineStatus"), C("provisioning", "ProvisioningState"), C("created", "CreateDate"),
    C("physical", "IsPhysical"), C("source", "Source"),
)


class _Ctx:
    def __init__(self, tf: TableFile, sheet: Sheet) -> None:
        self.tf, self.sheet = tf, sheet

    def bad(self, row: Row, key: str, msg: str, severity: Severity = Severity.warning) -> None:
        sh = self.sheet
        self.tf.problems.append(make_problem(
            severity, "import.bad_value", msg, file=self.tf.display, sheet=sh.name, row=row.number,
            column=sh.columns[key][0] + 1 if key in sh.columns else None, field=sh.labels.get(key, key)))

    def num(self, row: Row, key: str) -> float | None:
        v = row.get(key)
        if v is None:
            return None
        try:
            x = to_number(v)
        except ValueProblem as exc:
            self.bad(row, key, Msg("{error}; ignored", error=exc.args[0]))
            return None
        if x < 0:
            self.bad(row, key, Msg("{value!r} is negative; ignored", value=v))
            return None
        return x


def _addresses(v: Any) -> list[str]:
    """Server addresses of a cell; link-local (fe80::…, 169.254/16), loopback and unspecified left out."""
    out = []
    for part in split_list(v):
        for p in part.split():
            try:
                ip = ipaddress.ip_address(p.strip().split("%", 1)[0])
            except ValueError:
                continue
            if not (ip.is_link_local or ip.is_loopback or ip.is_unspecified):
                out.append(str(ip))
    return list(dict.fromkeys(out))


# the columns that make a file this template: a server's identity (AWS marks none required, so a
# file without any of these is another template that merely shares a column such as Tags)
KEY_COLUMNS = {
    "aws-csv": ("external_id", "hostname", "ips", "macs", "moref", "smbios", "vm_name"),
    "azure-csv": ("name", "cores", "ram_mb", "os_name"),
    "gcp-csv": ("machine_id", "name"),
}
_TEMPLATE = {"aws-csv": Msg("the AWS Migration Hub import template"),
             "azure-csv": Msg("the Azure Migrate import template"),
             "gcp-csv": Msg("the Google Migration Center vmInfo template")}


def _template_problem(tf: TableFile, sheet: Sheet, fmt: str, spec: tuple[Column, ...]) -> Any:
    """A refusal when the header row holds none of the template's key (AWS) or required (Azure,
    Google) columns: a different template, named with what was expected and what it shares."""
    keys = KEY_COLUMNS[fmt]
    have = [k for k in keys if k in sheet.columns]
    required = [c.key for c in spec if c.required]
    # Azure and Google mark their required columns: one of them present is that template with a
    # column missing (reported as such); none of them is another template
    if (fmt == "aws-csv" and have) or (fmt != "aws-csv" and any(k in sheet.columns for k in required)):
        return None
    label = {c.key: c.names[0] for c in spec}
    shared = [sheet.labels[k] for k in sheet.columns]
    expected = ", ".join(label[k] for k in (keys if fmt == "aws-csv" else required))
    return make_problem(
        Severity.error, "import.wrong_template",
        (Msg("this is not {template}: it has none of its key columns ({expected})", template=_TEMPLATE[fmt],
             expected=expected)
         if fmt == "aws-csv" else
         Msg("this is not {template}: it has none of its required columns ({expected})", template=_TEMPLATE[fmt],
             expected=expected))
        if not shared else
        (Msg("this is not {template}: it has none of its key columns ({expected}); it shares only {shared}",
             template=_TEMPLATE[fmt], expected=expected, shared=", ".join(shared[:8]))
         if fmt == "aws-csv" else
         Msg("this is not {template}: it has none of its required columns ({expected}); it shares only {shared}",
             template=_TEMPLATE[fmt], expected=expected, shared=", ".join(shared[:8]))),
        file=tf.display, sheet=sheet.name, row=sheet.header_row,
        hint=Msg("fill in {template} (its header row names these columns), or give the --format this file is",
                 template=_TEMPLATE[fmt]))


def _parse(path: Path | str, fmt: str, spec: tuple[Column, ...], ignore: tuple[str, ...],
           build: Callable[[_Ctx, Row], tuple[str | None, dict[str, Any], dict[str, Any], list[tuple[str, str]]]],
           max_rows: int | None) -> ParseResult:
    path = Path(path)
    result = ParseResult(fmt)
    try:
        tf = TableFile(path, **({"max_rows": max_rows} if max_rows else {}))
    except TableRefused as exc:
        result.problems.append(exc.problem)
        return result
    with tf:
        sheet_name = tf.sheet_names()[0]
        sheet = tf.read(sheet_name, spec, ignore=ignore, report_unknown=False)
        wrong = _template_problem(tf, sheet, fmt, spec) if sheet is not None else None
        if wrong is not None:
            tf.problems.append(wrong)
        elif sheet is not None and not any(p.is_error for p in tf.problems if p.code == "import.missing_column"):
            ctx = _Ctx(tf, sheet)
            seen: dict[str, int] = {}
            for row in sheet.rows:
                ext, values, extra, match = build(ctx, row)
                if ext is None:
                    ctx.bad(row, spec[0].key, Msg("no identifying value in this row (no id, name, IP or MAC); "
                                                  "skipped"))
                    continue
                if ext in seen:
                    ctx.bad(row, spec[0].key, Msg("the same server ({ext}) as row {seen}; this row is skipped",
                                                  ext=ext, seen=seen[ext]))
                    continue
                seen[ext] = row.number
                result.records.append(ImportedRecord(
                    "servers", ext, values, Provenance(path.name, tf.sha256, sheet.name, row.number),
                    tuple(dict.fromkeys(match)), extra))
        result.problems = tf.problems
    return result


def _os(values: dict[str, Any], extra: dict[str, Any], name: Any, version: Any) -> None:
    if name is None:
        return
    dist, ver = classify_os(name)
    values["os_distribution"] = dist
    if version is not None:
        values["os_version"] = to_text(version)
    elif ver:
        values["os_version"] = ver
    extra["os_name"] = to_text(name)


def _host_match(name: str | None, ips: list[str]) -> list[tuple[str, str]]:
    m: list[tuple[str, str]] = []
    if name:
        m.append(("hostname", name))
        short = name.split(".")[0]
        if short != name and not re.fullmatch(r"[\d.]+", name):
            m.append(("hostname", short))
    m.extend(("ip", ip) for ip in ips)
    return m


# ---------------------------------------------------------------- AWS


def _aws_row(ctx: _Ctx, row: Row) -> tuple[str | None, dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    host = to_text(row["hostname"]) if row.get("hostname") is not None else None
    vm_name = to_text(row["vm_name"]) if row.get("vm_name") is not None else None
    ips = _addresses(row.get("ips"))
    macs = [m.lower() for m in split_list(row.get("macs"))]
    if row.get("external_id") is not None:
        ext = f"aws:{to_text(row['external_id'])}"
    elif row.get("moref") is not None and row.get("vcenter") is not None:
        ext = f"aws:vmware:{to_text(row['vcenter'])}/{to_text(row['moref'])}"
    elif host or ips or macs:
        ext = f"aws:{host or (ips[0] if ips else macs[0])}"
    else:
        ext = None
    name = host or vm_name
    if name:
        values["hostname"] = name.split(".")[0] if host and not _is_ip(name) else name
    if ips:
        values["ips"] = ips
    # cores as the guest sees them: logical cores, else physical cores, else processors
    for key in ("logical", "cores", "processors"):
        n = ctx.num(row, key)
        if n is not None:
            values["cores"] = int(n)
            if key != "logical":
                extra["cores_from"] = key
            break
    ram = ctx.num(row, "ram_mb")
    if ram is not None:
        values["ram_gb"] = round(ram / 1024, 2)
    _os(values, extra, row.get("os_name"), row.get("os_version"))
    if row.get("moref") is not None:
        values["hypervisor"] = "vmware"
        values["kind"] = "vm"
    for k in ("smbios", "moref", "vcenter", "vm_name", "processors", "cores", "ram_used_avg_mb", "ram_used_max_mb",
              "cpu_avg", "cpu_max", "wave", "server_id", "external_id"):
        if row.get(k) is not None:
            extra[k] = row[k]
    if macs:
        extra["macs"] = macs
    for k in ("applications", "tags"):
        if row.get(k) is not None:
            extra[k] = split_list(row[k])
    if host and host != values.get("hostname"):
        extra["fqdn"] = host
    return ext, values, extra, _host_match(host or vm_name, ips)


def parse_aws(path: Path | str, *, max_rows: int | None = None) -> ParseResult:
    """AWS Migration Hub import template (CSV or XLSX)."""
    return _parse(path, "aws-csv", AWS, AWS_IGNORE, _aws_row, max_rows)


# ---------------------------------------------------------------- Azure


def _azure_row(ctx: _Ctx, row: Row) -> tuple[str | None, dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    name = to_text(row["name"]) if row.get("name") is not None else None
    ips = _addresses(row.get("ips"))
    if row.get("custom_id") is not None:
        ext = f"azure:{to_text(row['custom_id'])}"
    elif row.get("vm_id") is not None:
        ext = f"azure:vm:{to_text(row['vm_id']).lower()}"
    elif name:
        ext = f"azure:{name}"
    else:
        ext = None
    if name:
        values["hostname"] = name if _is_ip(name) else name.split(".")[0]
        if "." in name and not _is_ip(name):
            extra["fqdn"] = name
    else:
        ctx.bad(row, "name", Msg("Server name is blank"), Severity.warning)
    if ips:
        values["ips"] = ips
    cores = ctx.num(row, "cores")
    if cores is not None:
        values["cores"] = int(cores)
    ram = ctx.num(row, "ram_mb")
    if ram is not None:
        values["ram_gb"] = round(ram / 1024, 2)
    _os(values, extra, row.get("os_name"), row.get("os_version"))
    disks = []
    for i in range(1, 17):
        size = ctx.num(row, f"disk{i}")
        if size is not None:
            disks.append({"size_gb": size, "name": f"Disk {i}"})
    if disks:
        values["disks"] = disks
    st = to_text(row["server_type"]).casefold() if row.get("server_type") is not None else ""
    if st.startswith("phys"):
        values["kind"] = "physical"
        values["hypervisor"] = "none"
    elif st.startswith("virt"):
        values["kind"] = "vm"
    hv = to_text(row["hypervisor"]).casefold() if row.get("hypervisor") is not None else ""
    hv_map = {"vmware": "vmware", "hyper-v": "hyperv", "hyperv": "hyperv", "xen": "xen"}
    if hv in hv_map:
        values["hypervisor"] = hv_map[hv]
        values.setdefault("kind", "vm")
    elif hv:
        extra["hypervisor"] = to_text(row["hypervisor"])
    for k in ("os_arch", "disk_count", "cpu_util", "mem_util", "nics", "firmware", "hypervisor_version", "vm_id",
              "vmm_id", "bios_id", "custom_id", "business_unit", "business_owner", "business_app", "location",
              "groups", "decommission"):
        if row.get(k) is not None:
            extra[k] = to_text(row[k])
    if row.get("macs") is not None:
        extra["macs"] = [m.lower() for m in split_list(row["macs"])]
    apps = [to_text(row[f"app{i}"]) for i in range(1, 6) if row.get(f"app{i}") is not None]
    if apps:
        extra["applications"] = apps
    return ext, values, extra, _host_match(name, ips)


def parse_azure(path: Path | str, *, max_rows: int | None = None) -> ParseResult:
    """Azure Migrate "import using CSV" template."""
    return _parse(path, "azure-csv", AZURE, AZURE_IGNORE, _azure_row, max_rows)


# ---------------------------------------------------------------- Google


def _gcp_row(ctx: _Ctx, row: Row) -> tuple[str | None, dict[str, Any], dict[str, Any], list[tuple[str, str]]]:
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    name = to_text(row["name"]) if row.get("name") is not None else None
    ext = f"gcp:{to_text(row['machine_id'])}" if row.get("machine_id") is not None else None
    if name:
        values["hostname"] = name if _is_ip(name) else name.split(".")[0]
    ips = _addresses(row.get("primary_ip")) + _addresses(row.get("ips"))
    ips = list(dict.fromkeys(ips))
    if ips:
        values["ips"] = ips
    cores = ctx.num(row, "cores")
    if cores is not None:
        values["cores"] = int(cores)
    ram = ctx.num(row, "ram_gib")
    if ram is not None:
        values["ram_gb"] = round(ram, 2)
    _os(values, extra, row.get("os_name"), row.get("os_version"))
    size = ctx.num(row, "disk_gib")
    if size is not None:
        disk: dict[str, Any] = {"size_gb": size, "name": "total"}
        used = ctx.num(row, "disk_used_gib")
        if used is not None:
            disk["used_gb"] = used
        values["disks"] = [disk]
    if row.get("physical") is not None:
        try:
            phys = to_bool(row["physical"])
            values["kind"] = "physical" if phys else "vm"
            if phys:
                values["hypervisor"] = "none"
        except ValueProblem as exc:
            ctx.bad(row, "physical", Msg("{error}; ignored", error=exc.args[0]))
    for k in ("primary_mac", "public_ip", "machine_type", "location", "os_type", "os_publisher", "status",
              "provisioning", "created", "source", "machine_id"):
        if row.get(k) is not None:
            extra[k] = to_text(row[k])
    return ext, values, extra, _host_match(name, ips)


def parse_gcp(path: Path | str, *, max_rows: int | None = None) -> ParseResult:
    """Google Migration Center manually populated vmInfo table."""
    return _parse(path, "gcp-csv", GCP, (), _gcp_row, max_rows)


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False
