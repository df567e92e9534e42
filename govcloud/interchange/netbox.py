"""NetBox → inventory records: tenants, sites, racks, devices, virtual machines, IP addresses.

Accepted input (NetBox 2.x–4.x REST API shapes, and ``manage.py dumpdata`` JSON):

* a directory of per-endpoint files (``sites.json``, ``dcim/devices.json``,
  ``virtual-machines.json`` …), each a page ``{count, next, previous, results}``, a plain list,
  or one object;
* one combined JSON object keyed by endpoint (``{"sites": {...page...}, "devices": [...]}``;
  ``dcim.sites`` / ``dcim/sites`` keys work too) — optionally with ``status`` (the
  ``/api/status/`` answer, whose ``netbox-version`` fixes the units);
* a ``dumpdata`` list of ``{"model": "dcim.site", "pk": 1, "fields": {...}}``.

Mapping: tenant → organisation; site → machine room (name, address, owner = the site's tenant,
racks = the number of its racks); device → physical server (rack name, platform → OS, IPs);
virtual machine → vm server (``vcpus`` → cores, ``memory`` MB → GB, ``disk`` → one disk — **GB
before NetBox 4.1, MB from 4.1** (the ``virtualization.0040_convert_disk_size`` migration) — machine
room through its cluster's site). Status objects
``{"value", "label"}`` (or bare strings, or 2.x integers) are kept in ``extra`` with role,
device type, serial and the rest, so nothing the source said is lost. References point at other
records of the same file by external id (``site:3``); a missing OS or CPU count makes the record
incomplete (the change set says so) — never a guessed value.

The NetBox version: ``status['netbox-version']`` when given, else the newest release whose own
models or fields the file holds (``display_url``, rack types, notifications, VM serials → 4.1;
MAC address objects, cluster scopes, primary MAC addresses → 4.2; ``object_type`` of contact
assignments and image attachments → 4.0), else 3.x. ``dumpdata --natural-foreign`` content types
(``["dcim", "interface"]``) are read as ``dcim.interface``.

Nothing is dropped silently: a device or virtual machine without a name is kept (named by its
NetBox id as its external id) and reported incomplete; a site's tenant (an organisation) missing from a capture without its tenants file
makes that site incomplete, not the whole import refused; a site or cluster named but not held is
an unresolved reference (an error with the record's place).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Iterable

from govcloud.base.i18n import Msg
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.inventory.problems import Problem
from govcloud.model.enums import Severity

FORMAT = "netbox"
MAX_BYTES = 512 * 1024 * 1024
MB_PER_GB = 1024

# endpoint → our kind
_ENDPOINTS = {
    "tenants": "tenant", "tenant": "tenant",
    "sites": "site", "site": "site",
    "racks": "rack", "rack": "rack",
    "devices": "device", "device": "device",
    "virtual_machines": "vm", "virtual-machines": "vm", "virtual_machine": "vm", "virtual-machine": "vm",
    "virtualmachines": "vm", "virtualmachine": "vm",
    "clusters": "cluster", "cluster": "cluster",
    "ip_addresses": "ip", "ip-addresses": "ip", "ip_address": "ip", "ip-address": "ip", "ipaddresses": "ip",
    "ipaddress": "ip",
    "interfaces": "interface", "interface": "interface",
    "vminterfaces": "vminterface", "vminterface": "vminterface", "vm_interfaces": "vminterface",
    "platforms": "platform", "platform": "platform",
    "device_roles": "role", "device-roles": "role", "roles": "role", "devicerole": "role",
    "device_types": "device_type", "device-types": "device_type", "devicetype": "device_type",
    "manufacturers": "manufacturer", "manufacturer": "manufacturer",
    "regions": "region", "region": "region",
    "contenttype": "contenttype",
}
_URL_KIND = re.compile(r"/api/(?:dcim|virtualization|ipam|tenancy)/([a-z-]+)/\d+/?$")


class NetboxError(ValueError):
    pass


def _kind_of_key(key: str) -> str | None:
    k = key.lower().replace(".json", "")
    k = re.split(r"[./]", k)[-1]
    return _ENDPOINTS.get(k)


def _status(v: Any) -> Any:
    if isinstance(v, dict):
        return v.get("value") if v.get("value") is not None else v.get("label")
    return v


def _key(v: Any) -> int | str | None:
    """An id usable as a key: a number or a text (a list or an object from a damaged file is none)."""
    return v if isinstance(v, (int, str)) and not isinstance(v, bool) else None


def _rid(v: Any) -> int | str | None:
    """The id of a related object: nested {"id": …} or a bare pk."""
    if isinstance(v, dict):
        return _key(v.get("id"))
    return _key(v)


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _name(v: Any, table: dict | None = None) -> str | None:
    if isinstance(v, dict):
        return _text(v.get("name")) or _text(v.get("display")) or _text(v.get("display_name")) or _text(v.get("model"))
    if table is not None and _key(v) is not None and v in table:
        o = table[v]
        return _text(o.get("name")) or _text(o.get("model"))
    return None


def _addr(a: Any) -> str | None:
    """The address of an IP object or text; link-local, loopback and unspecified addresses (fe80::…)
    are no server's address and are left out."""
    if isinstance(a, dict):
        a = a.get("address")
    if not isinstance(a, str) or not a:
        return None
    a = a.split("/", 1)[0]
    try:
        ip = ipaddress.ip_address(a.split("%", 1)[0])
    except ValueError:
        return a
    if ip.is_link_local or ip.is_loopback or ip.is_unspecified:
        return None
    return str(ip)


class _Source:
    """Every object found, by kind and id, with where it was found."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[Any, dict]] = {}
        self.where: dict[tuple[str, Any], tuple[str, str]] = {}
        self.version: str | None = None
        self.has_display_url = False
        self.markers: set[tuple[int, int]] = set()     # (major, minor) releases whose fields were seen
        self.unkeyed: list[tuple[str, str, str]] = []  # (kind, file, where) of objects without an id
        self.files: list[Path] = []

    def add(self, kind: str, obj: dict, file: str, where: str) -> None:
        oid = _key(obj.get("id"))
        if oid is None:
            if kind in ("tenant", "site", "device", "vm"):
                self.unkeyed.append((kind, file, where))
            return
        self.objects.setdefault(kind, {})[oid] = obj
        self.where[(kind, oid)] = (file, where)
        if "display_url" in obj:
            self.has_display_url = True
            self.markers.add((4, 1))
        for field_name, release in _FIELD_MARKERS.get(kind, ()):
            if field_name in obj:
                self.markers.add(release)


# fields that only a NetBox release from (major, minor) on writes, per kind (REST and dumpdata)
_FIELD_MARKERS: dict[str, tuple[tuple[str, tuple[int, int]], ...]] = {
    "vm": (("serial", (4, 1)), ("virtual_disk_count", (3, 7))),
    "rack": (("rack_type", (4, 1)),),
    "device_type": (("exclude_from_utilization", (4, 1)),),
    "cluster": (("scope_type", (4, 2)), ("scope_id", (4, 2)), ("_site", (4, 2))),
    "interface": (("primary_mac_address", (4, 2)),),
    "vminterface": (("primary_mac_address", (4, 2)),),
}
# models that exist only from a release on (dumpdata)
_MODEL_MARKERS = {
    "dcim.racktype": (4, 1), "extras.notification": (4, 1), "extras.subscription": (4, 1),
    "extras.notificationgroup": (4, 1), "dcim.macaddress": (4, 2), "virtualization.virtualdisk": (3, 7),
}


def _ctype(v: Any) -> str | None:
    """A content type as ``app.model``: the text, or a natural key ``["dcim", "interface"]``."""
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, str) for x in v):
        return f"{v[0]}.{v[1]}"
    return None


def _items(data: Any) -> Iterable[tuple[str, dict]]:
    """(index path, object) of a page, a list or one object."""
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        for i, o in enumerate(data["results"]):
            if isinstance(o, dict):
                yield f"results[{i}]", o
    elif isinstance(data, list):
        for i, o in enumerate(data):
            if isinstance(o, dict):
                yield f"[{i}]", o
    elif isinstance(data, dict) and "id" in data:
        yield "", data


def _kind_of_obj(obj: dict) -> str | None:
    m = _URL_KIND.search(str(obj.get("url", "")))
    return _ENDPOINTS.get(m.group(1)) if m else None


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_BYTES:
        raise NetboxError(Msg("{name} is over {limit_mb} MB", name=path.name, limit_mb=MAX_BYTES // 1024 // 1024))
    try:
        return json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise NetboxError(Msg("{name}: not UTF-8 text", name=path.name)) from exc
    except (ValueError, RecursionError) as exc:
        raise NetboxError(Msg("{name}: not valid JSON ({error})", name=path.name, error=exc)) from exc


def _collect(src: _Source, data: Any, file: str, key_hint: str | None, prefix: str = "") -> None:
    if isinstance(data, list) and data and any(isinstance(o, dict) and {"model", "fields"} <= set(o)
                                               for o in data[:50]):
        _collect_dump(src, data, file)
        return
    kind = _kind_of_key(key_hint) if key_hint else None
    if isinstance(data, dict) and not isinstance(data.get("results"), list) and "id" not in data:
        # a combined document: endpoint → page/list
        for key, value in data.items():
            if key in ("status", "_status") and isinstance(value, dict):
                src.version = str(value.get("netbox-version") or value.get("netbox_version") or "") or src.version
                continue
            if key in ("netbox_version", "netbox-version") and isinstance(value, str):
                src.version = value
                continue
            if isinstance(value, (dict, list)):
                _collect(src, value, file, key, f"{prefix}{key}.")
        return
    for where, obj in _items(data):
        k = kind or _kind_of_obj(obj)
        if k:
            src.add(k, obj, file, prefix + where)


def _collect_dump(src: _Source, data: list, file: str) -> None:
    ctypes = {o["pk"]: f"{o['fields'].get('app_label')}.{o['fields'].get('model')}"
              for o in data if isinstance(o, dict) and o.get("model") == "contenttypes.contenttype"
              and _key(o.get("pk")) is not None and isinstance(o.get("fields"), dict)}
    models = {"tenancy.tenant": "tenant", "dcim.site": "site", "dcim.rack": "rack", "dcim.device": "device",
              "virtualization.virtualmachine": "vm", "virtualization.cluster": "cluster",
              "ipam.ipaddress": "ip", "dcim.interface": "interface", "virtualization.vminterface": "vminterface",
              "dcim.platform": "platform", "dcim.devicerole": "role", "dcim.devicetype": "device_type",
              "dcim.manufacturer": "manufacturer", "dcim.region": "region", "extras.role": None}
    for i, o in enumerate(data):
        if isinstance(o, dict) and isinstance(o.get("model"), str):
            release = _MODEL_MARKERS.get(o["model"])
            if release:
                src.markers.add(release)
            if o["model"] in ("tenancy.contactassignment", "extras.imageattachment") and \
                    isinstance(o.get("fields"), dict) and "object_type" in o["fields"]:
                src.markers.add((4, 0))
        kind = models.get(o.get("model")) if isinstance(o, dict) and isinstance(o.get("model"), str) else None
        if not kind or not isinstance(o.get("fields") or {}, dict):
            continue
        if _key(o.get("pk")) is None:         # dumpdata --natural-primary: no pk to tell it apart by
            if kind in ("tenant", "site", "device", "vm"):
                src.unkeyed.append((kind, file, f"[{i}]"))
            continue
        obj = dict(o.get("fields") or {})
        obj["id"] = o["pk"]
        for ct_field in ("assigned_object_type", "scope_type"):
            ct = obj.get(ct_field)
            if _key(ct) is not None and ct in ctypes:
                obj[ct_field] = ctypes[ct]
            elif ct is not None:
                obj[ct_field] = _ctype(ct)
        src.add(kind, obj, file, f"[{i}]")


def load(path: Path) -> _Source:
    src = _Source()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise NetboxError(Msg("{path} holds no .json files", path=path))
        for f in files:
            rel = f.relative_to(path).as_posix()
            src.files.append(f)
            if f.stem in ("status",):
                data = _read_json(f)
                if isinstance(data, dict):
                    src.version = str(data.get("netbox-version") or "") or src.version
                continue
            _collect(src, _read_json(f), rel, f.stem)
    else:
        src.files.append(path)
        _collect(src, _read_json(path), path.name, None)
    return src


def release(src: _Source) -> tuple[int, int]:
    """(major, minor): the stated version, else the newest release whose fields the file holds."""
    if src.version:
        m = re.match(r"v?(\d+)(?:\.(\d+))?", src.version)
        if m:
            return int(m.group(1)), int(m.group(2) or 0)
    return max(src.markers, default=(3, 0))


def major_version(src: _Source) -> int:
    return release(src)[0]


def disk_in_mb(rel: tuple[int, int]) -> bool:
    """NetBox 4.1 converted VM and virtual-disk sizes from GB to MB (migration 0040_convert_disk_size)."""
    return rel >= (4, 1)


def parse(path: Path) -> ParseResult:
    """The records of a NetBox capture: read it (``load``), then map each kind in turn (tenants,
    sites, devices, virtual machines) through one :class:`_Mapper`."""
    path = Path(path)
    result = ParseResult(FORMAT)
    try:
        src = load(path)
    except NetboxError as exc:
        result.problems.append(Problem(Severity.error, "netbox-json", exc.args[0], file=path.name,
                                       hint=Msg("give NetBox REST API JSON (pages, lists or one combined object)")))
        return result
    if not any(src.objects.get(k) for k in ("tenant", "site", "device", "vm")):
        result.problems.append(Problem(Severity.error, "wrong-format", Msg("no NetBox tenants, sites, devices or "
                                                                           "virtual machines found"), file=path.name,
                                       hint=Msg("is this NetBox REST API JSON? (objects carry url …/api/dcim/…)")))
        return result
    m = _Mapper(path, src, result)
    for kind, file, where in src.unkeyed:
        result.problems.append(Problem(Severity.warning, "netbox-no-id", Msg("a NetBox {kind} without an id (pk) "
                                                                             "cannot be told apart from others; not "
                                                                             "imported", kind=kind),
                                       file=(m.prefix + file) + (f":{where}" if where else "")))
    m.index_addresses()
    m.tenants()
    m.sites()
    m.devices()
    m.vms()
    return result


class _Mapper:
    """NetBox objects → imported records, one method per kind; the references between them
    (tenant, site, addresses) resolved by the helpers."""

    def __init__(self, path: Path, src: _Source, result: ParseResult) -> None:
        self.src, self.result = src, result
        digests = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in src.files}
        if path.is_dir():
            self.digest_of = {f.relative_to(path).as_posix(): d for f, d in digests.items()}
            self.prefix = path.name + "/"
        else:
            self.digest_of = {path.name: digests[path]}
            self.prefix = ""
        rel = release(src)
        self.major = rel[0]
        self.disk_per_gb = MB_PER_GB if disk_in_mb(rel) else 1
        O = src.objects
        self.tenants_, self.sites_, self.racks = O.get("tenant", {}), O.get("site", {}), O.get("rack", {})
        self.platforms, self.roles, self.dtypes = O.get("platform", {}), O.get("role", {}), O.get("device_type", {})
        self.clusters = O.get("cluster", {})
        self.ips_of: dict[tuple[str, Any], list[str]] = {}
        self.addr_by_id: dict[Any, str] = {}

    def prov(self, kind: str, oid: Any) -> Provenance:
        file, where = self.src.where[(kind, oid)]
        return Provenance(self.prefix + file, self.digest_of.get(file, ""), None, where or None)

    # ---------------------------------------------------------------- references
    def index_addresses(self) -> None:
        """IPs per device / vm: by the address's assigned object, its 2.x interface, or the
        interface its content type and id name."""
        O = self.src.objects
        iface_owner: dict[tuple[str, Any], tuple[str, Any]] = {}
        for iid, itf in O.get("interface", {}).items():
            if _rid(itf.get("device")) is not None:
                iface_owner[("dcim.interface", iid)] = ("device", _rid(itf.get("device")))
        for iid, itf in O.get("vminterface", {}).items():
            if _rid(itf.get("virtual_machine")) is not None:
                iface_owner[("virtualization.vminterface", iid)] = ("vm", _rid(itf.get("virtual_machine")))
        for ipid, ip in O.get("ip", {}).items():
            a = _addr(ip.get("address"))
            if not a:
                continue
            self.addr_by_id[ipid] = a
            owner = _ip_owner(ip, iface_owner)
            if owner is not None:
                lst = self.ips_of.setdefault(owner, [])
                if a not in lst:
                    lst.append(a)

    def primary(self, obj: dict, kind: str, oid: Any) -> list[str]:
        out = []
        for key in ("primary_ip4", "primary_ip", "primary_ip6"):
            v = obj.get(key)
            a = _addr(v) if isinstance(v, dict) else self.addr_by_id.get(v) if v is not None else None
            if a and a not in out:
                out.append(a)
        for a in self.ips_of.get((kind, oid), ()):
            if a not in out:
                out.append(a)
        return out

    def tenant_ref(self, v: Any) -> str | None:
        tid = _rid(v)
        if tid is None:
            return None
        if tid in self.tenants_:
            return f"tenant:{tid}"
        return _name(v)     # a tenant not in the file: by name (an organisation in the inventory)

    def site_ref(self, v: Any) -> str | None:
        sid = _rid(v)
        if sid is None:
            return None
        return f"site:{sid}" if sid in self.sites_ else _name(v)

    def os_values(self, platform: Any, values: dict, extra: dict) -> None:
        pname = _name(platform, self.platforms)
        if not pname:
            return
        extra["platform"] = pname
        from govcloud.interchange.ansible_inventory import classify_os
        dist, version = classify_os(pname)
        if dist != "other":
            values["os_distribution"] = dist
            if version:
                values["os_version"] = version

    # ---------------------------------------------------------------- kinds
    def tenants(self) -> None:
        """tenants → organisations"""
        for tid, t in self.tenants_.items():
            name = _text(t.get("name"))
            self.result.records.append(ImportedRecord("organizations", f"tenant:{tid}", {"name": name} if name else {},
                                                      self.prov("tenant", tid), (("name", name),) if name else (),
                                                      {"netbox_slug": t.get("slug")} if t.get("slug") else {}))

    def sites(self) -> None:
        """sites → machine rooms"""
        rack_count: dict[Any, int] = {}
        for r in self.racks.values():
            sid = _rid(r.get("site"))
            if sid is not None:
                rack_count[sid] = rack_count.get(sid, 0) + 1
        for sid, s in self.sites_.items():
            name = _text(s.get("name"))
            values: dict[str, Any] = {"name": name} if name else {}
            if s.get("physical_address"):
                values["address"] = " ".join(str(s["physical_address"]).split())
            owner = self.tenant_ref(s.get("tenant"))
            if owner:
                values["owner_org"] = owner
            if sid in rack_count:
                values["racks"] = rack_count[sid]
            extra = {k: v for k, v in {"status": _status(s.get("status")), "facility": s.get("facility") or None,
                                       "region": _name(s.get("region")), "slug": s.get("slug"),
                                       "netbox_id": sid}.items() if v not in (None, "")}
            self.result.records.append(ImportedRecord("machine_rooms", f"site:{sid}", values, self.prov("site", sid),
                                                      (("name", name),) if name else (), extra,
                                                      soft_refs=("owner_org",)))

    def devices(self) -> None:
        """devices → physical servers"""
        for did, d in self.src.objects.get("device", {}).items():
            name = _text(d.get("name"))     # NetBox allows unnamed devices: kept, reported incomplete
            values: dict[str, Any] = {"hostname": name, "kind": "physical"} if name else {"kind": "physical"}
            extra: dict[str, Any] = {"netbox_id": did, "netbox_version": self.major}
            room = self.site_ref(d.get("site"))
            if room:
                values["machine_room"] = room
            rack = _name(d.get("rack"), self.racks)
            if rack:
                values["rack"] = rack
            ips = self.primary(d, "device", did)
            if ips:
                values["ips"] = ips
            self.os_values(d.get("platform"), values, extra)
            for key, val in (("status", _status(d.get("status"))),
                             ("role", _name(d.get("role") or d.get("device_role"), self.roles)),
                             ("device_type", _name(d.get("device_type"), self.dtypes)),
                             ("serial", d.get("serial") or None), ("asset_tag", d.get("asset_tag")),
                             ("tenant", _name(d.get("tenant"), self.tenants_)), ("position", d.get("position"))):
                if val not in (None, ""):
                    extra[key] = val
            match = ([("hostname", name)] if name else []) + [("ip", a) for a in ips]
            self.result.records.append(ImportedRecord("servers", f"device:{did}", values, self.prov("device", did),
                                                      tuple(match), extra))

    def vms(self) -> None:
        """virtual machines → vm servers"""
        for vid, v in self.src.objects.get("vm", {}).items():
            name = _text(v.get("name"))
            values: dict[str, Any] = {"hostname": name, "kind": "vm"} if name else {"kind": "vm"}
            extra: dict[str, Any] = {"netbox_id": vid, "netbox_version": self.major}
            self._vm_size(v, values, extra)
            room = self.site_ref(self._vm_site(v))
            if room:
                values["machine_room"] = room
            ips = self.primary(v, "vm", vid)
            if ips:
                values["ips"] = ips
            self.os_values(v.get("platform"), values, extra)
            for key, val in (("status", _status(v.get("status"))), ("cluster", _name(v.get("cluster"), self.clusters)),
                             ("role", _name(v.get("role"), self.roles)),
                             ("tenant", _name(v.get("tenant"), self.tenants_))):
                if val not in (None, ""):
                    extra[key] = val
            match = ([("hostname", name)] if name else []) + [("ip", a) for a in ips]
            self.result.records.append(ImportedRecord("servers", f"vm:{vid}", values, self.prov("vm", vid),
                                                      tuple(match), extra))

    def _vm_size(self, v: dict, values: dict[str, Any], extra: dict[str, Any]) -> None:
        """vcpus → cores (a fraction kept in extra), memory MB → GB, disk → one disk in the release's unit."""
        if isinstance(v.get("vcpus"), (int, float, str)) and v.get("vcpus") not in ("", None):
            try:
                cores = float(v["vcpus"])
                values["cores"] = max(1, int(round(cores)))
                if cores != int(cores):
                    extra["vcpus"] = cores
            except (ValueError, OverflowError):
                extra["vcpus"] = v["vcpus"]
        if isinstance(v.get("memory"), (int, float)) and not isinstance(v.get("memory"), bool):
            values["ram_gb"] = round(v["memory"] / MB_PER_GB, 3)
        if isinstance(v.get("disk"), (int, float)) and not isinstance(v.get("disk"), bool) and v["disk"] > 0:
            values["disks"] = [{"size_gb": round(v["disk"] / self.disk_per_gb, 3)}]
            extra["disk_unit"] = "MB" if self.disk_per_gb != 1 else "GB"

    def _vm_site(self, v: dict) -> Any:
        """A VM's site: its own, else its cluster's (4.2: the cluster's scope when that is a site)."""
        cl = self.clusters.get(_rid(v.get("cluster")))
        site = v.get("site")
        if site is None and cl is not None:
            site = cl.get("site")
            if site is None and str(cl.get("scope_type", "")) == "dcim.site":
                site = cl.get("scope") or cl.get("scope_id")
        return site


def _ip_owner(ip: dict, iface_owner: dict[tuple[str, Any], tuple[str, Any]]) -> tuple[str, Any] | None:
    """The (device|vm, id) an IP address is assigned to, or None."""
    owner = None
    ao = ip.get("assigned_object")
    if isinstance(ao, dict):
        if isinstance(ao.get("device"), dict):
            owner = ("device", _rid(ao["device"]))
        elif isinstance(ao.get("virtual_machine"), dict):
            owner = ("vm", _rid(ao["virtual_machine"]))
    if owner is None and isinstance(ip.get("interface"), dict):      # NetBox 2.x
        itf = ip["interface"]
        if isinstance(itf.get("device"), dict):
            owner = ("device", _rid(itf["device"]))
        elif isinstance(itf.get("virtual_machine"), dict):
            owner = ("vm", _rid(itf["virtual_machine"]))
    if owner is None and _ctype(ip.get("assigned_object_type")) and _key(ip.get("assigned_object_id")) is not None:
        owner = iface_owner.get((_ctype(ip["assigned_object_type"]), ip["assigned_object_id"]))
    return owner
