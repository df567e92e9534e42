"""RVTools exports (xlsx, or the vInfo tab saved as CSV) → server records.

Sheets: ``vInfo`` (required: one row per VM), and when present ``vHost`` (the ESXi host's CPU),
``vDisk`` (one row per virtual disk), ``vPartition`` (guest file systems: used space per disk),
``vNetwork`` (NICs and their addresses), ``vCPU`` (sockets, cores per socket) and ``vMemory``
(configured size). RVTools 3.x wrote ``… MB`` headers and 4.x writes ``… MiB``; both hold
binary megabytes, so both divide by 1024 to give GiB. Memory ("Memory") is MiB in every version.

The external id is the VM's UUID (``VM UUID``, the vCenter instance UUID); without one it is
the vCenter's UUID (or server name) plus the VM name. Templates are not servers and are skipped.
Rows of the other sheets join their VM by UUID where both have it, else by vCenter and VM name.
A blank cell is absent, never zero: a VM whose CPUs are blank in vInfo takes them from vCPU if
that sheet states them, and is reported otherwise.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.base.progress import NULL, Progress
from govcloud.interchange.osmap import classify_os, cpu_vendor_of
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.interchange.tabular import (
    Column, Row, Sheet, TableFile, TableRefused, ValueProblem, make_problem, to_number, to_text,
)
from govcloud.model.vocabulary import YES
from govcloud.model.enums import Severity

FORMAT = "rvtools"


def C(key: str, *names: str, required: bool = False) -> Column:
    return Column(key, names, required)


_VM = C("vm", "VM", required=True)
_COMMON = (
    _VM, C("powerstate", "Powerstate"), C("template", "Template"),
    C("os_config", "OS according to the configuration file"),
    C("os_tools", "OS according to the VMware Tools", "OS according to the VMware tools"),
    C("vm_uuid", "VM UUID", "Instance UUID"), C("vm_id", "VM ID"),
    C("sdk_server", "VI SDK Server"), C("sdk_uuid", "VI SDK UUID"),
    C("datacenter", "Datacenter"), C("cluster", "Cluster"), C("host", "Host"),
)

VINFO = _COMMON + (
    C("dns", "DNS Name"), C("cpus", "CPUs"), C("memory_mib", "Memory"), C("nics", "NICs"),
    C("disks", "Disks"), C("primary_ip", "Primary IP Address"),
    C("provisioned_mib", "Provisioned MiB", "Provisioned MB"), C("in_use_mib", "In Use MiB", "In Use MB"),
    C("capacity_mib", "Total disk capacity MiB", "Total disk capacity MB"),
    C("folder", "Folder"), C("annotation", "Annotation"), C("firmware", "Firmware"),
    C("smbios_uuid", "SMBIOS UUID"), C("created", "Creation date"), C("hw_version", "HW version"),
    C("resource_pool", "Resource pool"),
    *(C(f"net{i}", f"Network #{i}") for i in range(1, 9)),
)
VHOST = (
    C("host", "Host", required=True), C("cpu_model", "CPU Model"), C("sockets", "# CPU"),
    C("cores", "# Cores"), C("memory_mib", "# Memory"), C("esx", "ESX Version"), C("vendor", "Vendor"),
    C("model", "Model"),
)
VDISK = _COMMON + (
    C("disk", "Disk"), C("disk_key", "Disk Key"), C("capacity_mib", "Capacity MiB", "Capacity MB"),
    C("thin", "Thin"), C("disk_path", "Path"),
)
VPARTITION = _COMMON + (
    C("disk", "Disk"), C("disk_key", "Disk Key"), C("capacity_mib", "Capacity MiB", "Capacity MB"),
    C("consumed_mib", "Consumed MiB", "Consumed MB"),
)
VNETWORK = _COMMON + (
    C("nic", "NIC label"), C("network", "Network"), C("mac", "Mac Address"),
    C("ipv4", "IPv4 Address", "IP Address"), C("ipv6", "IPv6 Address"), C("connected", "Connected"),
)
VCPU = _COMMON + (C("cpus", "CPUs"), C("sockets", "Sockets"), C("cores_per_socket", "Cores p/s"))
VMEMORY = _COMMON + (C("size_mib", "Size MiB", "Size MB"),)

# Every other column RVTools 3.x/4.x writes on the sheets read here (header names only, from the
# public header lists in shared/data/rvtools-headers): known and unused, so never a "did you mean".
KNOWN_UNUSED: dict[str, tuple[str, ...]] = {
    "vInfo": (
        'SRM Placeholder', 'Config status', 'Connection state', 'Guest state', 'Heartbeat',
        'Consolidation Needed', 'PowerOn', 'Suspended To Memory', 'Suspend time', 'Suspend Interval',
        'Change Version', 'Overall Cpu Readiness', 'Active Memory', 'Fixed Passthru HotPlug',
        'min Required EVC Mode Key', 'Latency Sensitivity', 'Op Notification Timeout', 'EnableUUID', 'CBT',
        'Num Monitors', 'Video Ram KiB', 'Folder ID', 'vApp', 'DAS protection', 'FT State', 'FT Role',
        'FT Latency', 'FT Bandwidth', 'FT Sec. Latency', 'Vm Failover In Progress', 'Unshared MiB',
        'HA Restart Priority', 'HA Isolation Response', 'HA VM Monitoring', 'Cluster rule(s)',
        'Cluster rule name(s)', 'Boot Required', 'Boot delay', 'Boot retry delay', 'Boot retry enabled',
        'Boot BIOS setup', 'Reboot PowerOff', 'EFI Secure boot', 'HW upgrade status', 'HW upgrade policy',
        'HW target', 'Path', 'Log directory', 'Snapshot directory', 'Suspend directory', 'Customization Info',
        'Guest Detailed Data', 'VI SDK Server type', 'VI SDK API Version', 'Video Ram KB', 'Unshared MB',
        'Last Backup',
    ),
    "vHost": (
        'Datacenter', 'Cluster', 'Config status', 'Compliance Check State', 'in Maintenance Mode',
        'in Quarantine Mode', 'vSAN Fault Domain Name', 'Speed', 'HT Available', 'HT Active', 'Cores per CPU',
        'CPU usage %', 'Memory Tiering Type', 'Memory usage %', 'Console', '# NICs', '# HBAs', '# VMs total',
        '# VMs', 'VMs per Core', '# vCPUs', 'vCPUs per Core', 'vRAM', 'VM Used memory', 'VM Memory Swapped',
        'VM Memory Ballooned', 'VMotion support', 'Storage VMotion support', 'Current EVC', 'Max EVC',
        'Assigned License(s)', 'ATS Heartbeat', 'ATS Locking', 'Current CPU power man. policy',
        'Supported CPU power man.', 'Host Power Policy', 'Boot time', 'DNS Servers', 'DHCP', 'Domain',
        'Domain List', 'DNS Search Order', 'NTP Server(s)', 'NTPD running', 'Time Zone', 'Time Zone Name',
        'GMT Offset', 'Serial number', 'Service tag', 'OEM specific string', 'BIOS Vendor', 'BIOS Version',
        'BIOS Date', 'Certificate Issuer', 'Certificate Start Date', 'Certificate Expiry Date',
        'Certificate Status', 'Certificate Subject', 'Object ID', 'AutoDeploy.MachineIdentity', 'UUID',
        'VI SDK Server', 'VI SDK UUID',
    ),
    "vDisk": (
        'SRM Placeholder', 'Disk UUID', 'Disk Path', 'Raw', 'Disk Mode', 'Sharing mode', 'Eagerly Scrub',
        'Split', 'Write Through', 'Level', 'Shares', 'Reservation', 'Limit', 'Controller', 'Label',
        'SCSI Unit #', 'Unit #', 'Shared Bus', 'Raw LUN ID', 'Raw Comp. Mode', 'Internal Sort Column',
        'Annotation', 'Folder', 'owner', 'mmtest-tags', 'Last Backup',
    ),
    "vPartition": (
        'SRM Placeholder', 'Free MiB', 'Free %', 'Internal Sort Column', 'Annotation', 'Folder', 'Free MB',
        'Free % ', 'Last Backup',
    ),
    "vNetwork": (
        'SRM Placeholder', 'Adapter', 'Switch', 'Starts Connected', 'Type', 'Direct Path IO',
        'Internal Sort Column', 'Annotation', 'Folder',
    ),
    "vCPU": (
        'SRM Placeholder', 'Max', 'Overall', 'Level', 'Shares', 'Reservation', 'Entitlement',
        'DRS Entitlement', 'Limit', 'Hot Add', 'Hot Remove', 'Numa Hotadd Exposed', 'Annotation', 'Folder',
    ),
    "vMemory": (
        'SRM Placeholder', 'Memory Reservation Locked To Max', 'Overhead', 'Max', 'Consumed',
        'Consumed Overhead', 'Private', 'Shared', 'Swapped', 'Ballooned', 'Active', 'Entitlement',
        'DRS Entitlement', 'Level', 'Shares', 'Reservation', 'Limit', 'Hot Add', 'Annotation', 'Folder',
        'owner', 'mmtest-tags',
    ),
}

OPTIONAL_SHEETS = (("vHost", VHOST), ("vDisk", VDISK), ("vPartition", VPARTITION), ("vNetwork", VNETWORK),
                   ("vCPU", VCPU), ("vMemory", VMEMORY))


def _gib(mib: float) -> float:
    return round(mib / 1024, 2)


def _truthy(v: Any) -> bool:
    return to_text(v).casefold() in ("true", "yes", "1", YES)


class _Ctx:
    def __init__(self, tf: TableFile) -> None:
        self.tf = tf
        self.problems = tf.problems

    def num(self, row: Row, key: str, sheet: Sheet) -> float | None:
        v = row.get(key)
        if v is None:
            return None
        try:
            return to_number(v)
        except ValueProblem as exc:
            self.problems.append(make_problem(
                Severity.warning, "import.bad_value", Msg("{error}; ignored", error=exc.args[0]), file=self.tf.display, sheet=sheet.name,
                row=row.number, column=sheet.columns[key][0] + 1, field=sheet.labels[key]))
            return None


def _vm_key(row: Row) -> tuple[str, str]:
    return (to_text(row.get("sdk_server") or row.get("sdk_uuid") or ""), to_text(row["vm"]))


def parse(path: Path | str, *, max_rows: int | None = None, progress: Progress = NULL) -> ParseResult:
    """Parse an RVTools export. Never raises for a bad file: its problems are in the result.
    ``progress``: the VMs as their records are built (phase ``import.records``)."""
    path = Path(path)
    result = ParseResult(FORMAT)
    try:
        kw = {"max_rows": max_rows} if max_rows else {}
        tf = TableFile(path, **kw)
    except TableRefused as exc:
        result.problems.append(exc.problem)
        return result
    with tf:
        ctx = _Ctx(tf)
        if tf.kind == "xlsx":
            sheet_name = tf.find_sheet("vInfo", "tabvInfo")
            if sheet_name is None:
                names = [s for s in tf.sheet_names() if s]
                from govcloud.inventory.problems import did_you_mean
                near = did_you_mean("vInfo", names)
                tf.problems.append(make_problem(
                    Severity.error, "import.missing_sheet",
                    Msg("no vInfo sheet: this is not an RVTools export (is {near!r} the vInfo sheet renamed?)",
                        near=near) if near else
                    Msg("no vInfo sheet: this is not an RVTools export (sheets: {sheets})",
                        sheets=", ".join(names[:10])),
                    file=tf.display, hint=Msg("export with RVTools (File → Export all to xlsx), keep the vInfo tab")))
                result.problems = tf.problems
                return result
        else:
            sheet_name = None
        requests: list[tuple[str | None, Any, dict[str, Any]]] = [
            (sheet_name, VINFO, {"ignore": KNOWN_UNUSED["vInfo"]})]
        optional: list[tuple[str, str, Any]] = []
        if tf.kind == "xlsx":
            for name, spec in OPTIONAL_SHEETS:
                actual = tf.find_sheet(name)
                if actual is not None:
                    optional.append((name, actual, spec))
                    requests.append((actual, spec, {"missing": Severity.warning, "ignore": KNOWN_UNUSED[name]}))
        # about half the reading each: vInfo (+ vNetwork, vHost) here, the per-disk sheets aside
        aside = [actual for name, actual, _ in optional if name in ("vDisk", "vPartition", "vCPU", "vMemory")]
        vinfo, *others = tf.read_all(requests, aside=aside)
        extra_sheets: dict[str, Sheet] = {}
        for (name, actual, spec), sh in zip(optional, others):
            if sh is not None and all(c.key in sh.columns for c in spec if c.required):
                extra_sheets[name] = sh
            elif sh is not None:
                tf.problems.append(make_problem(
                    Severity.warning, "import.sheet_skipped",
                    Msg("sheet {sheet} is skipped: it lacks the columns it is joined by", sheet=actual),
                    file=tf.display, sheet=actual, row=sh.header_row))
        if vinfo is None or "vm" not in vinfo.columns:
            result.problems = tf.problems
            return result
        result.records = _build(path, tf, ctx, vinfo, extra_sheets, progress)
        result.problems = tf.problems
    return result


def _index(sheet: Sheet | None, by_uuid: dict[str, Any], by_name: dict[tuple[str, str], Any]) -> dict[Any, list[Row]]:
    """Rows of a per-VM sheet grouped by the vInfo row they belong to."""
    out: dict[Any, list[Row]] = {}
    if sheet is None:
        return out
    names_only: dict[str, Any] = {}
    for (server, vm), rec in by_name.items():
        names_only.setdefault(vm, rec)
    for row in sheet.rows:
        if row.get("vm") is None:
            continue
        target = None
        u = row.get("vm_uuid")
        if u is not None:
            target = by_uuid.get(to_text(u))
        if target is None:
            target = by_name.get(_vm_key(row)) or names_only.get(to_text(row["vm"]))
        if target is not None:
            out.setdefault(id(target), []).append(row)
    return out


def _build(path: Path, tf: TableFile, ctx: _Ctx, vinfo: Sheet, sheets: dict[str, Sheet],
           progress: Progress = NULL) -> list[ImportedRecord]:
    """One server record per vInfo VM (templates and blank names left out), joined with what the
    other sheets say of it."""
    b = _Builder(path, tf, ctx, vinfo, sheets)
    out: list[ImportedRecord] = []
    with progress.phase("import.records", total=len(b.rows)) as ph:
        for n, row in enumerate(b.rows, 1):
            rec = b.record(row)
            if rec is not None:
                out.append(rec)
            if n % 500 == 0 or n == len(b.rows):
                ph.advance(500 if n % 500 == 0 else n % 500)
    return out


class _Builder:
    """The vInfo rows, the other sheets' rows grouped by the VM they belong to, and one method
    per part of a VM's record (identity, CPU and memory, OS, disks, addresses, host)."""

    def __init__(self, path: Path, tf: TableFile, ctx: _Ctx, vinfo: Sheet, sheets: dict[str, Sheet]) -> None:
        self.path, self.tf, self.ctx, self.vinfo, self.sheets = path, tf, ctx, vinfo, sheets
        self.display = tf.display
        self.seen: dict[str, int] = {}
        by_uuid: dict[str, Row] = {}
        by_name: dict[tuple[str, str], Row] = {}
        self.rows: list[Row] = []
        for row in vinfo.rows:
            if row.get("vm") is None:
                ctx.problems.append(make_problem(
                    Severity.warning, "import.blank_key", Msg("the VM name is blank; row skipped"), file=self.display,
                    sheet=vinfo.name, row=row.number, field=vinfo.labels.get("vm", "VM")))
                continue
            if _truthy(row.get("template", "")):
                continue
            self.rows.append(row)
            if row.get("vm_uuid") is not None:
                by_uuid.setdefault(to_text(row["vm_uuid"]), row)
            by_name.setdefault(_vm_key(row), row)
        self.disks = _index(sheets.get("vDisk"), by_uuid, by_name)
        self.parts = _index(sheets.get("vPartition"), by_uuid, by_name)
        self.nets = _index(sheets.get("vNetwork"), by_uuid, by_name)
        self.cpus = _index(sheets.get("vCPU"), by_uuid, by_name)
        self.mems = _index(sheets.get("vMemory"), by_uuid, by_name)
        self.hosts: dict[str, Row] = {}
        if "vHost" in sheets:
            for h in sheets["vHost"].rows:
                if h.get("host") is not None:
                    self.hosts.setdefault(to_text(h["host"]), h)
        # VMware where the file says so (vCenter columns, VM UUIDs, ESX hosts): a Hyper-V inventory
        # exported in RVTools' layout has none of them, and its VMs are not called VMware ones
        self.vmware = any(r.get(k) is not None for r in self.rows for k in ("sdk_server", "sdk_uuid", "vm_uuid")) \
            or any(h.get("esx") is not None for h in self.hosts.values())

    def _warn(self, code: str, message: str, *, sheet: Sheet, row: int, field: str) -> None:
        self.ctx.problems.append(make_problem(Severity.warning, code, message, file=self.display, sheet=sheet.name,
                                              row=row, field=field))

    def record(self, row: Row) -> ImportedRecord | None:
        vinfo = self.vinfo
        vm = to_text(row["vm"])
        values: dict[str, Any] = {"kind": "vm"}
        if self.vmware:
            values["hypervisor"] = "vmware"
        extra: dict[str, Any] = {"vm_name": vm}
        uuid = to_text(row["vm_uuid"]) if row.get("vm_uuid") is not None else None
        vcenter = row.get("sdk_uuid") or row.get("sdk_server")
        if uuid:
            ext = f"vm-uuid:{uuid.lower()}"
        elif vcenter is not None:
            ext = f"vcenter:{to_text(vcenter).lower()}/vm:{vm}"
        else:
            ext = f"vm:{vm}"
        if ext in self.seen:
            self._warn("import.duplicate", Msg("VM {vm!r} has the same identity ({ext}) as row {seen}; this row is "
                                               "skipped", vm=vm, ext=ext, seen=self.seen[ext]), sheet=vinfo, row=row.number, field=vinfo.labels.get("vm_uuid", "VM"))
            return None
        self.seen[ext] = row.number
        dns = to_text(row["dns"]) if row.get("dns") is not None else None
        hostname = (dns.split(".")[0] if dns and not _is_ip(dns) else None) or vm
        values["hostname"] = hostname
        self._cpu_and_memory(row, vm, values, extra)
        self._os(row, values, extra)
        self._disks(row, vm, values, extra)
        ips = self._addresses(row, values, extra)
        self._host(row, values, extra)
        for k in ("powerstate", "datacenter", "cluster", "host", "folder", "annotation", "firmware",
                  "vm_id", "smbios_uuid", "sdk_server", "resource_pool", "hw_version"):
            if row.get(k) is not None:
                extra[k] = to_text(row[k])
        if dns:
            extra["dns_name"] = dns
        if uuid:
            extra["vm_uuid"] = uuid
        match: list[tuple[str, str]] = [("hostname", hostname)]
        if vm != hostname:
            match.append(("hostname", vm))
        match.extend(("ip", ip) for ip in ips)
        return ImportedRecord(section="servers", external_id=ext, values=values,
                              provenance=Provenance(self.path.name, self.tf.sha256, vinfo.name, row.number),
                              match=tuple(match), extra=extra)

    def _cpu_and_memory(self, row: Row, vm: str, values: dict[str, Any], extra: dict[str, Any]) -> None:
        """CPU and memory: vInfo, else what vCPU / vMemory state for the same VM."""
        ctx, vinfo, sheets = self.ctx, self.vinfo, self.sheets
        cores = ctx.num(row, "cpus", vinfo)
        cpu_rows = self.cpus.get(id(row), [])
        if cores is None:
            for r in cpu_rows:
                cores = ctx.num(r, "cpus", sheets["vCPU"])
                if cores is not None:
                    extra["cores_from"] = "vCPU"
                    break
        if cores is not None:
            values["cores"] = int(cores)
        else:
            self._warn("import.blank_value", Msg("VM {vm!r}: CPUs is blank; cores left unknown", vm=vm),
                       sheet=vinfo, row=row.number, field=vinfo.labels.get("cpus", "CPUs"))
        for r in cpu_rows[:1]:
            for k in ("sockets", "cores_per_socket"):
                if r.get(k) is not None:
                    extra[k] = r[k]
        mem = ctx.num(row, "memory_mib", vinfo)
        if mem is None:
            for r in self.mems.get(id(row), []):
                mem = ctx.num(r, "size_mib", sheets["vMemory"])
                if mem is not None:
                    extra["ram_from"] = "vMemory"
                    break
        if mem is not None:
            values["ram_gb"] = _gib(mem)
        else:
            self._warn("import.blank_value", Msg("VM {vm!r}: Memory is blank; RAM left unknown", vm=vm),
                       sheet=vinfo, row=row.number, field=vinfo.labels.get("memory_mib", "Memory"))

    def _os(self, row: Row, values: dict[str, Any], extra: dict[str, Any]) -> None:
        """OS: what VMware Tools sees in the running guest, else the configured guest type."""
        os_tools = row.get("os_tools")
        os_config = row.get("os_config")
        if os_tools is None and os_config is None:
            for group in (self.cpus.get(id(row), []), self.mems.get(id(row), []), self.disks.get(id(row), [])):
                for r in group:
                    os_tools = os_tools or r.get("os_tools")
                    os_config = os_config or r.get("os_config")
        os_name = os_tools or os_config
        if os_name is not None:
            dist, version = classify_os(os_name)
            values["os_distribution"] = dist
            if version:
                values["os_version"] = version
        if os_tools is not None:
            extra["os_tools"] = to_text(os_tools)
        if os_config is not None:
            extra["os_config"] = to_text(os_config)

    def _disks(self, row: Row, vm: str, values: dict[str, Any], extra: dict[str, Any]) -> None:
        """Disks: vDisk rows, used space from vPartition by disk key; else vInfo's total. A file
        system mounted at several paths (bind mounts, container volume subpaths) is one vPartition
        row per path with the same capacity and consumption: counted once per disk."""
        ctx, vinfo, sheets = self.ctx, self.vinfo, self.sheets
        used_by_key: dict[str, float] = {}
        part_rows: dict[str, list[int]] = {}
        seen_fs: set[tuple[str, float | None, float]] = set()
        for p in self.parts.get(id(row), []):
            key = p.get("disk_key")
            used = ctx.num(p, "consumed_mib", sheets["vPartition"])
            if key is not None and used is not None:
                fs = (to_text(key), ctx.num(p, "capacity_mib", sheets["vPartition"]), used)
                if fs in seen_fs:
                    continue
                seen_fs.add(fs)
                used_by_key[to_text(key)] = used_by_key.get(to_text(key), 0.0) + used
                part_rows.setdefault(to_text(key), []).append(p.number)
        disk_list = []
        for d in self.disks.get(id(row), []):
            cap = ctx.num(d, "capacity_mib", sheets["vDisk"])
            if cap is None:
                continue
            disk: dict[str, Any] = {"size_gb": _gib(cap)}
            if d.get("disk") is not None:
                disk["name"] = to_text(d["disk"])
            key = to_text(d["disk_key"]) if d.get("disk_key") is not None else None
            if key and key in used_by_key:
                if used_by_key[key] <= cap:
                    disk["used_gb"] = _gib(used_by_key[key])
                else:       # partitions that span disks (LVM) or a stale row: no used figure, not a wrong one
                    self._warn("import.used_exceeds_size",
                               Msg("VM {vm!r} disk {disk!r}: its partitions (vPartition rows {rows}) consume {used_gib} GiB of "
                                   "{size_gib} GiB; used space left unknown", vm=vm, disk=disk.get("name", key),
                                   rows=", ".join(map(str, part_rows[key])), used_gib=_gib(used_by_key[key]),
                                   size_gib=_gib(cap)),
                               sheet=sheets["vDisk"], row=d.number,
                               field=sheets["vDisk"].labels.get("capacity_mib", "Capacity MiB"))
            disk_list.append(disk)
        if disk_list:
            values["disks"] = disk_list
        else:
            total = ctx.num(row, "capacity_mib", vinfo)
            if total is None:
                total = ctx.num(row, "provisioned_mib", vinfo)
            if total:
                values["disks"] = [{"size_gb": _gib(total), "name": "vInfo total"}]
                extra["disks_from"] = "vInfo"
        for key, name in (("provisioned_mib", "provisioned_gb"), ("in_use_mib", "in_use_gb")):
            v = ctx.num(row, key, vinfo)
            if v is not None:
                extra[name] = _gib(v)

    def _addresses(self, row: Row, values: dict[str, Any], extra: dict[str, Any]) -> list[str]:
        """Addresses: the primary IP, then every address vNetwork lists (and MACs, networks)."""
        ips: list[str] = []
        macs: list[str] = []
        networks: list[str] = []
        if row.get("primary_ip") is not None:
            ips.extend(_ips(row["primary_ip"]))
        for n in self.nets.get(id(row), []):
            for k in ("ipv4", "ipv6"):
                if n.get(k) is not None:
                    ips.extend(_ips(n[k]))
            if n.get("mac") is not None:
                macs.append(to_text(n["mac"]).lower())
            if n.get("network") is not None:
                networks.append(to_text(n["network"]))
        for i in range(1, 9):
            if row.get(f"net{i}") is not None:
                networks.append(to_text(row[f"net{i}"]))
        ips = list(dict.fromkeys(ips))
        if ips:
            values["ips"] = ips
        if macs:
            extra["macs"] = list(dict.fromkeys(macs))
        if networks:
            extra["networks"] = list(dict.fromkeys(networks))
        return ips

    def _host(self, row: Row, values: dict[str, Any], extra: dict[str, Any]) -> None:
        """The ESX host's CPU model (→ the CPU vendor) and version, from vHost."""
        host = to_text(row["host"]) if row.get("host") is not None else None
        if host and host in self.hosts:
            h = self.hosts[host]
            if h.get("cpu_model") is not None:
                extra["host_cpu_model"] = to_text(h["cpu_model"])
                vendor = cpu_vendor_of(h["cpu_model"])
                if vendor:
                    values["cpu_vendor"] = vendor
            if h.get("esx") is not None:
                extra["host_esx_version"] = to_text(h["esx"])


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def _ips(v: Any) -> list[str]:
    """Usable addresses from a cell ("198.18.0.5, fe80::1"): link-local and unspecified dropped."""
    out = []
    for part in to_text(v).replace(";", ",").replace(" ", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            ip = ipaddress.ip_address(part.split("%")[0])
        except ValueError:
            continue
        if ip.is_link_local or ip.is_unspecified or ip.is_loopback:
            continue
        out.append(str(ip))
    return out
