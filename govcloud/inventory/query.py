"""Selections, summaries and statistics of an inventory, as plain data.

This is the JSON contract of ``inventory show`` / ``list`` / ``stats``: later
tools and CI depend on these keys, so fields are only ever added, never renamed.
Enum values are the English keys; renderers add the labels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable

from govcloud.base.i18n import Msg
from govcloud.errors import UsageError
from govcloud.model.entities import InformationSystem, Server
from govcloud.model.enums import Lifecycle, NetworkZone, Secrecy
from govcloud.model.inventory import Inventory
from govcloud.model.oslife import os_eol_date


@dataclass(frozen=True)
class Filters:
    department: str | None = None
    room: str | None = None
    zone: str | None = None
    lifecycle: str | None = None
    secrecy: str | None = None

    @property
    def active(self) -> bool:
        return any((self.department, self.room, self.zone, self.lifecycle, self.secrecy))


@dataclass
class Selection:
    systems: list[InformationSystem]
    servers: list[Server]


def _enum_arg(enum_cls: type, value: str, option: str) -> Any:
    member = enum_cls.lookup().get(value)  # type: ignore[attr-defined]
    if member is None:
        raise UsageError(Msg("{option} '{value}' is not one of: {choices}", option=option, value=value,
                             choices=', '.join(m.value for m in enum_cls)))
    return member


def department_ids(inv: Inventory, ref: str) -> set[str]:
    """The department and its sub-units, predecessors and successors, so a 2018 name
    finds systems filed under the 2019 organisation and the other way round."""
    ids, _ = inv.resolve_org(ref)
    if not ids:
        raise UsageError(Msg("--department '{ref}' matches no organisation id, name or alias", ref=ref))
    found: set[str] = set()
    frontier = list(ids)
    while frontier:
        oid = frontier.pop()
        if oid in found or oid not in inv.organizations:
            continue
        found.add(oid)
        org = inv.organizations[oid]
        frontier.extend(org.successors)
        frontier.extend(org.predecessors)
    children = {o.id for o in inv.organizations.values() if o.parent in found}
    while children - found:
        found |= children
        children = {o.id for o in inv.organizations.values() if o.parent in found}
    return found


def select(inv: Inventory, f: Filters) -> Selection:
    systems: Iterable[InformationSystem] = inv.systems.values()
    if f.department:
        orgs = department_ids(inv, f.department)
        systems = [s for s in systems if s.owner_org in orgs]
    if f.zone:
        zone = _enum_arg(NetworkZone, f.zone, "--zone")
        systems = [s for s in systems if s.network_zone is zone]
    if f.lifecycle:
        life = _enum_arg(Lifecycle, f.lifecycle, "--lifecycle")
        systems = [s for s in systems if s.lifecycle is life]
    if f.secrecy:
        sec = _enum_arg(Secrecy, f.secrecy, "--secrecy")
        systems = [s for s in systems if s.secrecy is sec]
    if f.room and f.room not in inv.machine_rooms:
        raise UsageError(Msg("--room '{room}' is not a machine-room id", room=f.room))
    systems = list(systems)
    if f.department or f.zone or f.lifecycle or f.secrecy:
        wanted = {srv for s in systems for srv in s.servers}
        servers = [inv.servers[x] for x in sorted(wanted) if x in inv.servers]
    else:
        servers = list(inv.servers.values())
    if f.room:
        servers = [s for s in servers if s.machine_room == f.room]
        on_room = {s.id for s in servers}
        systems = [s for s in systems if any(x in on_room for x in s.servers)]
    return Selection(systems, servers)


# ---------------------------------------------------------------- show (the JSON contract)


def _v(x: Any) -> Any:
    return None if x is None else getattr(x, "value", x)


def _d(x: date | None) -> str | None:
    return x.isoformat() if x else None


def show_data(inv: Inventory, f: Filters = Filters()) -> dict[str, Any]:
    sel = select(inv, f)
    server_systems = inv.server_systems
    system_ids = {s.id for s in sel.systems}
    meta = inv.meta
    data: dict[str, Any] = {
        "inventory": {
            "name": meta.name if meta else None,
            "region": meta.region if meta else None,
            "as_of": _d(meta.as_of) if meta else None,
            "default_policy": meta.default_policy if meta else None,
        },
        "organizations": [
            {"id": o.id, "name": o.name, "short_name": o.short_name, "aliases": list(o.aliases),
             "org_type": _v(o.org_type), "parent": o.parent, "region": o.region,
             "predecessors": list(o.predecessors), "successors": list(o.successors)}
            for o in inv.organizations.values()
        ],
        "machine_rooms": [
            {"id": r.id, "name": r.name, "owner_org": r.owner_org, "room_type": _v(r.room_type),
             "status": _v(r.status)}
            for r in inv.machine_rooms.values() if not f.room or r.id == f.room
        ],
        "servers": [
            {"id": s.id, "hostname": s.hostname, "machine_room": s.machine_room, "kind": _v(s.kind),
             "cpu_arch": _v(s.known_cpu_arch), "os_distribution": _v(s.os_distribution),
             "os_version": s.os_version, "os_eol": _d(os_eol_date(s.os_distribution, s.os_version)),
             "cores": s.cores, "ram_gb": s.ram_gb, "disk_gb": s.disk_gb,
             "systems": server_systems.get(s.id, []), "incomplete": list(s.incomplete)}
            for s in sel.servers
        ],
        "systems": [
            {"id": s.id, "name": s.name, "owner_org": s.owner_org, "category": _v(s.category),
             "secrecy": _v(s.secrecy), "build_mode": _v(s.build_mode), "lifecycle": _v(s.lifecycle),
             "mlps_level": s.mlps_level, "mlps_status": _v(s.mlps_status),
             "network_zone": _v(s.network_zone), "importance": _v(s.importance),
             "servers": list(s.servers)}
            for s in sel.systems
        ],
        "databases": [
            {"id": d.id, "engine": _v(d.engine), "version": d.version, "servers": list(d.servers),
             "used_by": list(d.used_by)}
            for d in inv.databases.values() if not f.active or set(d.used_by) & system_ids
        ],
        "dependencies": [
            {"from": d.from_, "to": d.to, "type": _v(d.type), "latency_sensitive": d.latency_sensitive,
             "criticality": _v(d.criticality), "bridge": d.bridge}
            for d in inv.dependencies if not f.active or d.from_ in system_ids or d.to in system_ids
        ],
        "cloud_zones": [
            {"id": z.id, "name": z.name, "platform": z.platform, "network_zone": _v(z.network_zone),
             "mlps_level": z.mlps_level, "accepts_classified": z.accepts_classified,
             "dedicated_pool": z.dedicated_pool, "cpu_arch": _v(z.cpu_arch),
             "is_xinchuang": z.is_xinchuang,
             "capacity": {"vcpus": z.capacity.vcpus, "ram_gb": z.capacity.ram_gb,
                          "storage_gb": z.capacity.storage_gb, "public_ips": z.capacity.public_ips}}
            for z in inv.cloud_zones.values()
        ],
    }
    return data


# ---------------------------------------------------------------- stats


def stats_data(inv: Inventory, f: Filters = Filters(), *, on: date | None = None) -> dict[str, Any]:
    """Counts and breakdowns. ``on`` is the date EOL is judged against (default: today)."""
    on = on or date.today()
    sel = select(inv, f)
    server_systems = inv.server_systems
    dept_servers: Counter[str] = Counter()
    dept_systems: Counter[str] = Counter(s.owner_org for s in sel.systems)
    for s in sel.systems:
        dept_servers[s.owner_org] += len(s.servers)
    eol = sum(1 for s in sel.servers if (d := os_eol_date(s.os_distribution, s.os_version)) and d <= on)

    def count(values: Iterable[Any]) -> dict[str, int]:
        c = Counter("unknown" if v is None else str(_v(v)) for v in values)
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))

    by_department = [
        {"org": oid, "name": inv.organizations[oid].name if oid in inv.organizations else oid,
         "systems": n, "servers": dept_servers[oid]}
        for oid, n in sorted(dept_systems.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return {
        "organizations": len(inv.organizations),
        "machine_rooms": len(inv.machine_rooms),
        "systems": len(sel.systems),
        "servers": len(sel.servers),
        "databases": len(inv.databases),
        "dependencies": len(inv.dependencies),
        "resources": len(inv.resources),
        "cloud_zones": len(inv.cloud_zones),
        "orphan_servers": sum(1 for s in sel.servers if s.id not in server_systems),
        "eol_os_servers": eol,
        "eol_judged_on": on.isoformat(),
        "total_cores": sum(s.cores or 0 for s in sel.servers),
        "total_ram_gb": round(sum(s.ram_gb or 0 for s in sel.servers), 1),
        "total_disk_gb": round(sum(s.disk_gb for s in sel.servers), 1),
        "by_department": by_department,
        "by_mlps_level": count(s.mlps_level for s in sel.systems),
        "by_secrecy": count(s.secrecy for s in sel.systems),
        "by_build_mode": count(s.build_mode for s in sel.systems),
        "by_lifecycle": count(s.lifecycle for s in sel.systems),
        "by_network_zone": count(s.network_zone for s in sel.systems),
        "by_os": count(f"{_v(s.os_distribution)} {s.os_version}".strip() if s.os_version
                       else s.os_distribution for s in sel.servers),
        "by_os_distribution": count(s.os_distribution for s in sel.servers),
        "by_cpu_arch": count(s.known_cpu_arch for s in sel.servers),
        "incomplete_servers": sum(1 for s in sel.servers if s.incomplete),
        "by_room": count(s.machine_room for s in sel.servers),
    }

