"""Cross-record checks of a loaded inventory (DOMAIN.md §4, §5.1).

Field-level problems (types, enums, unknown keys, dates) are found while loading;
this module checks what needs the whole inventory: references, duplicates across
files, orphans, classification placement, date order, lineage and policy data.
Organisation references written as names or pre-reform aliases are resolved to
ids in place (and reported as warnings) so that every later stage sees ids only.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import socket
import typing
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable

from govcloud.base.i18n import Msg
from govcloud.base.progress import NULL, Progress
from govcloud.bulk import no_cyclic_gc
from govcloud.inventory.loader import LoadResult, load_inventory
from govcloud.inventory.problems import did_you_mean
from govcloud.model.entities import SECTIONS, Section, kind_label, yaml_key
from govcloud.model.enums import (
    BuildMode, Lifecycle, NetworkZone, RoomType, Secrecy, ServerKind, Severity, TakeoverStatus,
)
from govcloud.model.census import census_fill
from govcloud.model.cutover import record_problems
from govcloud.model.ids import SERVICE_NAME_RE, data_path_problem, first_control_char
from govcloud.model.inventory import Inventory

E, W = Severity.error, Severity.warning

_USCI = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_REGION_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
_EARLIEST, _LATEST = date(1949, 10, 1), date(2100, 12, 31)

Check = Callable[[Inventory, LoadResult], None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    CHECKS.append(fn)
    return fn


def validate_path(path: Path | str, *, max_file_mb: float | None = None, progress: Progress = NULL) -> LoadResult:
    """Load and validate; problems sorted by file and line. ``progress``: phases ``load`` (per file)
    and ``validate`` (per check)."""
    kwargs: dict[str, Any] = {} if max_file_mb is None else {"max_file_mb": max_file_mb}
    with no_cyclic_gc():
        result = load_inventory(path, progress=progress, **kwargs)
        if result.documents:
            validate(result, progress=progress)
    result.resolve_positions()
    result.problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or 0, p.code))
    return result


def validate(result: LoadResult, *, progress: Progress = NULL) -> None:
    inv = result.inventory
    with progress.phase("validate", total=len(CHECKS)) as ph:
        for fn in CHECKS:
            fn(inv, result)
            ph.advance()


# ---------------------------------------------------------------- references


@dataclasses.dataclass(frozen=True)
class _RefField:
    attr: str
    key: str
    kind: str | None        # referenced kind, or None for a nested record to descend into
    many: bool
    nested: type | None


@cache
def _ref_fields(cls: type) -> tuple[_RefField, ...]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        base = args[0] if typing.get_origin(tp) is not tuple and args else tp
        many = typing.get_origin(base) is tuple
        inner = typing.get_args(base)[0] if many else base
        if f.metadata.get("ref"):
            out.append(_RefField(f.name, yaml_key(f.name), f.metadata["ref"], many, None))
        elif dataclasses.is_dataclass(inner) and _ref_fields(inner):
            out.append(_RefField(f.name, yaml_key(f.name), None, many, inner))
    return tuple(out)


_STORE_OF_KIND = {s.kind: s.key for s in SECTIONS} | {"policy": "policies"}


@check
def check_references(inv: Inventory, result: LoadResult) -> None:
    pools: dict[str, list[str]] = {}

    def pool(kind: str) -> list[str]:
        if kind not in pools:
            pools[kind] = sorted(inv.section(_STORE_OF_KIND[kind]))
        return pools[kind]

    def resolve(kind: str, value: str, report: Callable[..., None]) -> str:
        if kind == "organization":
            ids, how = inv.resolve_org(value)
            if how == "id":
                return value
            if len(ids) == 1:
                org = inv.organizations[ids[0]]
                report(W, "alias-resolved", Msg("organisation '{value}' resolved by name/alias to {id} ({name})",
                                                value=value, id=org.id, name=org.name), hint=Msg("write the id: {id}", id=org.id))
                return org.id
            if len(ids) > 1:
                report(E, "ambiguous-reference", Msg("organisation name '{value}' is ambiguous: {ids}", value=value,
                                                     ids=', '.join(ids)), hint=Msg("write one of the ids"))
                return value
        elif value in inv.section(_STORE_OF_KIND[kind]):
            return value
        close = did_you_mean(value, (), sorted_pool=pool(kind))
        report(E, "dangling-reference", Msg("{kind} '{value}' does not exist", kind=kind_label(kind), value=value),
               hint=Msg("did you mean '{close}'?", close=close) if close else None)
        return value

    def walk(obj: Any, fields: Iterable[_RefField], report_at: Callable[[tuple], Callable[..., None]],
             sub: tuple) -> None:
        for rf in fields:
            value = getattr(obj, rf.attr)
            if value is None or value == ():
                continue
            if rf.kind is None:
                items = enumerate(value) if rf.many else [(None, value)]
                for i, item in items:
                    walk(item, _ref_fields(rf.nested), report_at,
                         sub + ((rf.key,) if i is None else (rf.key, i)))
                continue
            if rf.many:
                new = tuple(resolve(rf.kind, v, report_at(sub + (rf.key, i))) for i, v in enumerate(value))
                if new != value:
                    setattr(obj, rf.attr, new)
            else:
                new = resolve(rf.kind, value, report_at(sub + (rf.key,)))
                if new != value:
                    setattr(obj, rf.attr, new)

    if inv.meta is not None:
        meta_file = result.meta_file

        def meta_report(sub: tuple) -> Callable[..., None]:
            def report(sev: Severity, code: str, msg: str, hint: str | None = None) -> None:
                result.add(sev, code, msg, file=meta_file, path=("inventory",) + sub, field=sub[0], hint=hint)
            return report
        walk(inv.meta, _ref_fields(type(inv.meta)), meta_report, ())

    stores = {kind: inv.section(key) for kind, key in _STORE_OF_KIND.items()}
    for section in SECTIONS:
        fields = _ref_fields(section.cls)
        if not fields:
            continue
        store = inv.section(section.key)
        entities = store if isinstance(store, list) else store.values()
        for entity in entities:
            # fast path: every referenced id exists (the common case, a million times over)
            for rf in fields:
                value = getattr(entity, rf.attr)
                if value is None or rf.kind is None:
                    if value is None or value == ():
                        continue
                    break
                target = stores[rf.kind]
                if rf.many:
                    if any(v not in target for v in value):
                        break
                elif value not in target:
                    break
            else:
                continue

            def report_at(sub: tuple, _eid: str = entity.id, _s: Section = section) -> Callable[..., None]:
                def report(sev: Severity, code: str, msg: str, hint: str | None = None) -> None:
                    result.at_entity(sev, code, msg, _s.key, _eid, sub[0], sub=sub[1:], hint=hint)
                return report
            walk(entity, fields, report_at, ())
    inv._server_systems = None  # references may have been rewritten
    inv._org_names = None


# ---------------------------------------------------------------- systems and servers


@check
def check_systems_have_servers(inv: Inventory, result: LoadResult) -> None:
    quiet = {Lifecycle.planned, Lifecycle.building, Lifecycle.decommissioned}
    for s in inv.systems.values():
        if s.servers:
            continue
        if s.lifecycle in quiet or s.build_mode is BuildMode.purchased_service:
            result.at_entity(W, "no-servers", Msg("system '{name}' lists no servers", name=s.name), "systems", s.id,
                             "servers", hint=Msg("add them once it is deployed"))
        else:
            result.at_entity(E, "no-servers", Msg("system '{name}' is {lifecycle} but lists no servers", name=s.name,
                                                  lifecycle=s.lifecycle.msg), "systems", s.id, "servers",
                             hint=Msg("list the servers it runs on under `servers:`; planning needs them"))


@check
def check_orphan_servers(inv: Inventory, result: LoadResult) -> None:
    used = set(inv.server_systems)
    for db in inv.databases.values():
        used.update(db.servers)  # a database server serves the systems in used_by
    for sid, srv in inv.servers.items():
        if sid not in used:
            result.at_entity(W, "orphan-server", Msg("server '{hostname}' belongs to no system", hostname=srv.hostname),
                             "servers", sid, hint=Msg("add it to a system's `servers:` list, or mark it for "
                                                      "retirement"))


@check
def check_classified_placement(inv: Inventory, result: LoadResult) -> None:
    for s in inv.systems.values():
        if s.secrecy is Secrecy.classified:
            if s.network_zone in (NetworkZone.gov_extranet, NetworkZone.internet):
                result.at_entity(E, "classified-on-open-network",
                                 Msg("classified system '{name}' is declared on the {zone}", name=s.name,
                                     zone=s.network_zone.msg), "systems", s.id,
                                 "network_zone", hint=Msg("classified systems belong on gov_intranet (the e-government intranet); if it is not classified, set "
                                      "secrecy: non_classified"))
            if s.secrecy_grade is None:
                result.at_entity(W, "missing-grade", Msg("classified system '{name}' has no secrecy_grade",
                                                         name=s.name),
                                 "systems", s.id, "secrecy", hint=Msg("secret / confidential / top_secret"))
        elif s.secrecy_grade is not None:
            result.at_entity(E, "grade-without-secrecy",
                             Msg("system '{name}' has secrecy_grade {grade} but is non_classified", name=s.name,
                                 grade=s.secrecy_grade.msg),
                             "systems", s.id, "secrecy_grade", hint=Msg("set secrecy: classified or drop the grade"))
        if s.extranet_area is not None and s.network_zone is not None and \
                s.network_zone is not NetworkZone.gov_extranet:
            result.at_entity(W, "area-outside-extranet", Msg("extranet_area is set but the system is on {zone}",
                                                             zone=s.network_zone.msg), "systems", s.id, "extranet_area")


@check
def check_mlps(inv: Inventory, result: LoadResult) -> None:
    for s in inv.systems.values():
        if s.mlps_s_level and s.mlps_a_level and s.mlps_level and \
                s.mlps_level != max(s.mlps_s_level, s.mlps_a_level):
            result.at_entity(W, "mlps-sublevels", Msg("MLPS level {level} is not the higher of its S{s_level}/A{a_level} sub-levels (GB/T 22240-2020)",
                                 level=s.mlps_level, s_level=s.mlps_s_level, a_level=s.mlps_a_level),
                             "systems", s.id, "mlps_level")
        if s.mlps_level is None and s.mlps_status.value not in ("ungraded",) and not s.is_classified:
            result.at_entity(E, "mlps-level-missing", Msg("MLPS status is {status} but no mlps_level is given",
                                                          status=s.mlps_status.msg), "systems", s.id, "mlps_level")


@check
def check_lifecycle(inv: Inventory, result: LoadResult) -> None:
    for s in inv.systems.values():
        if s.lifecycle is Lifecycle.zombie and not s.zombie_criteria:
            result.at_entity(W, "zombie-without-criteria", Msg("'{name}' is marked zombie without a criterion (State Council General Office document [2017] No. 39)",
                                 name=s.name), "systems", s.id, "zombie_criteria",
                             hint=Msg("list one of: detached_from_business, replaceable, idle_resources, "
                                      "no_maintenance, low_usage"))
        elif s.zombie_criteria and s.lifecycle is not Lifecycle.zombie:
            result.at_entity(W, "zombie-criteria-unused", Msg("'{name}' meets zombie criteria but its lifecycle is "
                                                              "{lifecycle}", name=s.name, lifecycle=s.lifecycle.msg), "systems", s.id, "lifecycle",
                             hint=Msg("set lifecycle: zombie, or remove the criteria"))
        if s.build_mode.is_vertical and not s.vertical_authority:
            result.at_entity(W, "vertical-without-authority", Msg("vertical system '{name}' names no superior "
                                                                  "department", name=s.name), "systems", s.id, "vertical_authority")


# ---------------------------------------------------------------- dates


def _dated_pairs(inv: Inventory) -> Iterable[tuple[str, str, str, date | None, str, date | None]]:
    for s in inv.systems.values():
        yield "systems", s.id, "built_at", s.built_at, "go_live", s.go_live
        if s.approval is not None:
            yield "systems", s.id, "approval", s.approval.date, "go_live", s.go_live
        yield "systems", s.id, "go_live", s.go_live, "contract_end", s.contract_end
    for o in inv.organizations.values():
        yield "organizations", o.id, "established", o.established, "abolished", o.abolished
    for f in inv.freeze_windows.values():
        yield "freeze_windows", f.id, "start", f.start, "end", f.end
    for p in inv.policies.values():
        for i, b in enumerate(p.batches):
            if b.start and b.deadline and b.deadline < b.start:
                yield "policies", p.id, f"batches[{i}].start", b.start, "deadline", b.deadline


@check
def check_dates(inv: Inventory, result: LoadResult) -> None:
    for section, eid, first, d1, second, d2 in _dated_pairs(inv):
        if d1 and d2 and d2 < d1:
            result.at_entity(E, "date-order", Msg("{second} {second_date} is before {first} {first_date}", second=second, second_date=d2, first=first,
                                 first_date=d1), section, eid,
                             second if "[" not in first else "batches",
                             hint=Msg("one of the two dates is wrong"))
    as_of = inv.meta.as_of if inv.meta else None
    for s in inv.systems.values():
        for name in ("built_at", "go_live", "last_used_at", "mlps_last_assessed"):
            d = getattr(s, name)
            if d is None:
                continue
            if not _EARLIEST <= d <= _LATEST:
                result.at_entity(E, "implausible-date", Msg("{field} {date} is outside {earliest}–{latest}", field=name, date=d, earliest=_EARLIEST.year,
                                     latest=_LATEST.year), "systems", s.id, name)
            elif as_of and name in ("last_used_at", "mlps_last_assessed") and d > as_of:
                result.at_entity(E, "date-after-census", Msg("{field} {date} is after the census date {as_of}",
                                                             field=name, date=d, as_of=as_of),
                                 "systems", s.id, name, hint=Msg("a census cannot record the future"))
    for r in inv.machine_rooms.values():
        if r.built_on and not _EARLIEST <= r.built_on <= _LATEST:
            result.at_entity(E, "implausible-date", Msg("built_on {built_on} is implausible", built_on=r.built_on),
                             "machine_rooms", r.id, "built_on")


# ---------------------------------------------------------------- organisations


@check
def check_org_lineage(inv: Inventory, result: LoadResult) -> None:
    orgs = inv.organizations
    for graph, label in (("successors", "successor"), ("parent", "parent")):
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done

        def visit(oid: str, trail: list[str]) -> None:
            state[oid] = 1
            org = orgs[oid]
            nexts = org.successors if graph == "successors" else ((org.parent,) if org.parent else ())
            for nxt in nexts:
                if nxt not in orgs:
                    continue
                if state.get(nxt) == 1:
                    cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [oid, nxt]
                    loops = " → ".join(cycle)
                    result.at_entity(E, "lineage-cycle", Msg("successor chain loops: {cycle}", cycle=loops)
                                     if label == "successor" else Msg("parent chain loops: {cycle}", cycle=loops),
                                     "organizations", oid, graph)
                elif nxt not in state:
                    visit(nxt, trail + [nxt])
            state[oid] = 2

        for oid in orgs:
            if oid not in state:
                visit(oid, [oid])
    as_of = inv.meta.as_of if inv.meta else None
    owners: dict[str, int] = {}
    for s in inv.systems.values():
        owners[s.owner_org] = owners.get(s.owner_org, 0) + 1
    for org in orgs.values():
        if org.usci and not _USCI.match(org.usci):
            result.at_entity(W, "bad-usci", Msg("'{usci}' is not an 18-character unified social credit code (GB "
                                                "32100)", usci=org.usci), "organizations", org.id, "usci")
        if as_of and org.abolished and org.abolished <= as_of and owners.get(org.id):
            succ = ", ".join(inv.current_orgs(org.id))
            result.at_entity(W, "owner-abolished", Msg("{name} was abolished/merged on {abolished} but still owns {count} system(s)", name=org.name,
                                 abolished=org.abolished, count=owners[org.id]), "organizations", org.id,
                             "abolished", hint=Msg("move them to {successor}", successor=succ) if succ else None)
    for region in inv.regions.values():
        if not _REGION_CODE.match(region.code):
            result.at_entity(W, "bad-region-code", Msg("'{code}' is not a 6/9/12-digit division code (GB/T 2260)",
                                                       code=region.code), "regions", region.code, "code")


# ---------------------------------------------------------------- servers, databases, dependencies


NODE_USER_RE = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
NODE_HOST_KEY_RE = re.compile(r"(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) "
                              r"[A-Za-z0-9+/]+={0,3}( [^\x00-\x1f\x7f]{0,200})?")


def _is_ip(text: str) -> bool:
    # inet_pton is C and strict (no leading zeros, no spaces); ipaddress is 20× slower
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
            return True
        except (OSError, ValueError):
            pass
    return False


@check
def check_servers(inv: Inventory, result: LoadResult) -> None:
    for srv in inv.servers.values():
        for i, ip in enumerate(srv.ips + ((srv.mgmt_ip,) if srv.mgmt_ip else ())):
            if not _is_ip(ip):
                result.at_entity(E, "bad-ip", Msg("'{ip}' is not an IP address", ip=ip), "servers", srv.id,
                                 "ips" if i < len(srv.ips) else "mgmt_ip",
                                 sub=(i,) if i < len(srv.ips) else ())
        for i, d in enumerate(srv.disks):
            if d.used_gb is not None and d.size_gb is not None and d.used_gb > d.size_gb:
                result.at_entity(W, "disk-overfull", Msg("disk {index} uses {used_gb:g} GB of {size_gb:g} GB", index=i,
                                                         used_gb=d.used_gb, size_gb=d.size_gb),
                                 "servers", srv.id, "disks", sub=(i, "used_gb"))
        if srv.kind is ServerKind.minicomputer and not srv.cpu_arch.is_minicomputer:
            result.at_entity(W, "minicomputer-arch", Msg("a minicomputer with cpu_arch {cpu_arch}",
                                                         cpu_arch=srv.cpu_arch.msg),
                             "servers", srv.id, "cpu_arch", hint=Msg("minicomputers are ppc64, ia64 or sparc"))


@check
def check_workloads(inv: Inventory, result: LoadResult) -> None:
    """What the migration acts on: data paths become rsync arguments and directories on the target,
    service names systemctl arguments, the cutover record an /etc/hosts line. Text that is not
    one of these is refused here rather than handed to a host (values stay data either way)."""
    for s in inv.systems.values():
        wl = s.workload
        if wl is None:
            continue
        for i, p in enumerate(wl.data_paths):
            why = data_path_problem(p)
            if why:
                result.at_entity(E, "bad-data-path", Msg("{path!r:.80}: {why}", path=p, why=why), "systems", s.id, "workload",
                                 sub=("data_paths", i), hint=Msg("an absolute directory, e.g. /srv/app/data"))
        for i, svc in enumerate(wl.services):
            if not SERVICE_NAME_RE.fullmatch(svc.name):
                result.at_entity(E, "bad-service-name", Msg("{name!r:.80} is not a service (unit) name", name=svc.name),
                                 "systems", s.id, "workload", sub=("services", i, "name"),
                                 hint=Msg("letters, digits and : _ . @ -, e.g. nginx or app@1"))
            hp = svc.health_path
            if hp is not None and (not hp.startswith("/") or first_control_char(hp)):
                result.at_entity(E, "bad-health-path", Msg("{path!r:.80}: a health-check path starts with '/' and "
                                                           "holds no control characters", path=hp), "systems", s.id, "workload",
                                 sub=("services", i, "health_path"), hint=Msg("e.g. /api/health"))
        rec = wl.cutover_record
        if rec is not None:
            for fname, msg, hint in record_problems(rec):
                code = "bad-record-name" if fname == "name" else "bad-cutover-record"
                result.at_entity(E, code, msg, "systems", s.id, "workload", sub=("cutover_record", fname),
                                 hint=hint)


@check
def check_databases(inv: Inventory, result: LoadResult) -> None:
    for db in inv.databases.values():
        if not db.used_by:
            result.at_entity(W, "database-unused", Msg("database '{id}' is used by no system", id=db.id),
                             "databases", db.id, "used_by")


@check
def check_dependencies(inv: Inventory, result: LoadResult) -> None:
    seen: set[tuple[str, str, str]] = set()
    for dep in inv.dependencies:
        if dep.from_ == dep.to:
            result.at_entity(E, "self-dependency", Msg("system '{system}' depends on itself", system=dep.from_),
                             "dependencies", dep.id, "to")
        key = (dep.from_, dep.to, dep.type.value if dep.type else "")
        if key in seen:
            result.at_entity(W, "duplicate-dependency", Msg("dependency {id} ({kind}) is listed twice", id=dep.id,
                                                            kind=key[2]),
                             "dependencies", dep.id)
        seen.add(key)


# ---------------------------------------------------------------- rooms, cloud, takeovers, policy


@check
def check_machine_rooms(inv: Inventory, result: LoadResult) -> None:
    policy = inv.policy()
    cutoff = policy.thresholds.no_new_machine_room_after if policy else None
    for room in inv.machine_rooms.values():
        exempt = room.secrecy_exemption is not None and room.secrecy_exemption.approved
        if cutoff and room.built_on and room.built_on > cutoff and not exempt and \
                room.room_type is RoomType.dept_self_built:
            result.at_entity(W, "new-machine-room", Msg("department room built on {built_on}, after the {cutoff} "
                                                        "ban on new machine rooms, without an approved secrecy "
                                                        "exemption (H-ROOM-1)", built_on=room.built_on, cutoff=cutoff), "machine_rooms", room.id, "built_on",
                             hint=Msg("record secrecy_exemption {approved: true, approval_ref: ...} or plan its "
                                      "closure"))


@check
def check_cloud_zones(inv: Inventory, result: LoadResult) -> None:
    for z in inv.cloud_zones.values():
        if z.accepts_classified and z.network_zone is not None and z.network_zone is not NetworkZone.gov_intranet:
            result.at_entity(E, "classified-zone-open", Msg("zone '{name}' accepts classified systems but sits on "
                                                            "{zone}", name=z.name, zone=z.network_zone.msg), "cloud_zones", z.id, "accepts_classified",
                             hint=Msg("only an intranet cloud (e-government intranet) may accept classified systems"))
        if not z.in_china or not z.ops_in_china:
            result.at_entity(E, "zone-outside-china", Msg("zone '{name}' is not located and operated in China (GB/T "
                                                          "22239-2019 cloud extension, H-CN-1)", name=z.name), "cloud_zones", z.id,
                             "in_china" if not z.in_china else "ops_in_china")
        if z.mlps_level and z.mlps_level >= 4 and not z.dedicated_pool:
            result.at_entity(W, "level4-shared-pool", Msg("zone '{name}' is rated level 4 but is not a dedicated "
                                                          "pool (GB/T 22239-2019 9.2)", name=z.name), "cloud_zones", z.id, "dedicated_pool")
        names = [f.name for f in z.flavors]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            result.at_entity(E, "duplicate-flavor", Msg("flavor '{flavor}' is listed twice", flavor=dup), "cloud_zones",
                             z.id, "flavors")


NODE_PATH_RE = re.compile(r"/[A-Za-z0-9._/+-]*")


@check
def check_execution_nodes(inv: Inventory, result: LoadResult) -> None:
    """An execution node's address, user and paths reach an ssh command line (as argv words and one
    quoted remote command): only what they can be is accepted."""
    served: dict[tuple[str, str], str] = {}
    for n in inv.execution_nodes.values():
        if not _is_ip(n.address):
            result.at_entity(E, "bad-ip", Msg("'{ip}' is not an IP address", ip=n.address), "execution_nodes", n.id,
                             "address")
        if not NODE_USER_RE.fullmatch(n.user or ""):
            result.at_entity(E, "bad-node-user", Msg("{user!r:.80} is not a login name", user=n.user),
                             "execution_nodes", n.id, "user", hint=Msg("letters, digits, _ and -, e.g. govcloud"))
        for fname in ("runner", "work_dir"):
            v = getattr(n, fname)
            if not NODE_PATH_RE.fullmatch(v or "") or "/../" in v + "/" or len(v) > 200:
                result.at_entity(E, "bad-node-path", Msg("{path!r:.80} is not an absolute path of letters, digits and "
                                                         "._/+-", path=v), "execution_nodes", n.id, fname)
        if n.host_key is not None and not NODE_HOST_KEY_RE.fullmatch(n.host_key.strip()):
            result.at_entity(E, "bad-host-key", Msg("not an SSH public host key"), "execution_nodes", n.id, "host_key",
                             hint=Msg("the node's /etc/ssh/ssh_host_ed25519_key.pub: 'ssh-ed25519 AAAA…'"))
        if not n.cloud_zones and not n.organizations:
            result.at_entity(W, "node-serves-nothing", Msg("execution node '{id}' serves no cloud zone and no department",
                                                           id=n.id), "execution_nodes", n.id, "cloud_zones")
        for fname, kind in (("cloud_zones", "zone"), ("organizations", "org")):
            for i, ref in enumerate(getattr(n, fname)):
                other = served.setdefault((kind, ref), n.id)
                if other != n.id:
                    result.at_entity(E, "node-served-twice", Msg("'{ref}' is served by execution nodes '{a}' and '{b}'",
                                                                 ref=ref, a=other, b=n.id),
                                     "execution_nodes", n.id, fname, sub=(i,))


@check
def check_takeovers(inv: Inventory, result: LoadResult) -> None:
    for t in inv.takeovers.values():
        if (t.system is None) == (t.org is None):
            result.at_entity(E, "takeover-target", Msg("a takeover record names exactly one of `system` or `org`"), "takeovers", t.id, "system")
        if t.done_date and t.status not in (TakeoverStatus.taken_over, TakeoverStatus.exempt):
            result.at_entity(W, "takeover-status", Msg("done_date {done_date} is set but status is {status}",
                                                       done_date=t.done_date, status=t.status.msg), "takeovers", t.id, "status")


@check
def check_policies(inv: Inventory, result: LoadResult) -> None:
    for p in inv.policies.values():
        ids = [b.id for b in p.batches]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            result.at_entity(E, "duplicate-id", Msg("batch id '{batch}' appears twice in policy {id}", batch=dup,
                                                    id=p.id),
                             "policies", p.id, "batches")
        for i, b in enumerate(p.batches):
            listed = len(b.scope_orgs) + len(b.scope_systems)
            if b.declared_count is not None and b.declared_count != listed:
                result.at_entity(W, "declared-count-mismatch",
                                 Msg("batch {id} ({name}) states {declared} units but lists {listed}", id=b.id, name=b.name,
                                     declared=b.declared_count, listed=listed),
                                 "policies", p.id, "batches", sub=(i, "declared_count"),
                                 hint=Msg("kept as the source document says; check the source document"))
            if p.final_deadline and b.deadline and b.deadline > p.final_deadline:
                result.at_entity(E, "deadline-after-final", Msg("batch {id} deadline {deadline} is after the "
                                                                "policy's final deadline {final_deadline}", id=b.id,
                                                                deadline=b.deadline, final_deadline=p.final_deadline), "policies", p.id,
                                 "batches", sub=(i, "deadline"))
        _check_approvers(inv, result, p)
    meta = inv.meta
    if meta is not None and meta.default_policy is None and len(inv.policies) > 1:
        result.warn("no-default-policy", Msg("several policies and no inventory.default_policy"),
                    hint=Msg("set inventory.default_policy so planning knows which one applies"))


def _check_approvers(inv: Inventory, result: LoadResult, p: Any) -> None:
    """Approvers are who may sign plans: their keys must parse, and they may only be declared in a
    file at the inventory's root (policy.yaml), never in a department's file, which its department
    edits (README, threat model)."""
    from govcloud.store.approval import has_control, sm2_key_problem, ssh_key_problem
    if not p.approvers:
        return
    file, _ = inv.origin.get(("policies", p.id), (None, None))
    if file is not None and ("/" in file or "\\" in file):
        result.at_entity(E, "approvers-location", Msg("policy {id} lists approvers in {file}; approvers may only be "
                                                      "declared in a file at the inventory's root", id=p.id, file=file), "policies", p.id, "approvers",
                         hint=Msg("move the policy (with its approvers) to <inventory>/policy.yaml"))
    for i, a in enumerate(p.approvers):
        if not a.name.strip() or has_control(a.name):
            result.at_entity(E, "approver-name", Msg("an approver's name must be non-empty text without control "
                                                     "characters"), "policies", p.id, "approvers", sub=(i, "name"))
        if not a.ssh_key and not a.sm2_key:
            result.at_entity(E, "approver-key", Msg("approver {name} has neither ssh_key nor sm2_key", name=a.name),
                             "policies", p.id, "approvers", sub=(i, "name"))
        if a.ssh_key and (why := ssh_key_problem(a.ssh_key)):
            result.at_entity(E, "approver-key", Msg("approver {name}: ssh_key is {why}", name=a.name, why=why), "policies", p.id,
                             "approvers", sub=(i, "ssh_key"), hint=Msg("paste the one line of the approver's .pub "
                                                                       "file"))
        if a.sm2_key and (why := sm2_key_problem(a.sm2_key)):
            result.at_entity(E, "approver-key", Msg("approver {name}: sm2_key is {why}", name=a.name, why=why), "policies", p.id,
                             "approvers", sub=(i, "sm2_key"),
                             hint=Msg("`openssl pkey -in sm2.key -pubout` prints the PEM to paste"))


@check
def merge_observations(inv: Inventory, result: LoadResult) -> None:
    """Fold observations into ``observed`` of their records, latest collection last (it wins);
    ``_sources`` says where each merged view came from."""
    by_target: dict[tuple[str, str], list] = {}
    for i, o in enumerate(inv.observations):
        if (o.server is None) == (o.system is None):
            result.at_entity(E, "observation-target", Msg("an observation names exactly one of `server` or `system`"), "observations", o.id, "server")
            continue
        key = ("servers", o.server) if o.server else ("systems", o.system)
        by_target.setdefault(key, []).append(o)
    for (section, eid), observations in by_target.items():
        record = inv.section(section).get(eid)
        if record is None:
            continue  # a dangling reference, reported already
        merged = dict(record.observed or {})
        for o in sorted(observations, key=lambda o: (o.collected_at or "", o.source)):
            merged.update(o.facts or {})
        merged["_sources"] = [{"source": o.source, "collected_at": o.collected_at}
                              for o in sorted(observations, key=lambda o: (o.collected_at or "", o.source))]
        record.observed = merged


@check
def complete_census(inv: Inventory, result: LoadResult) -> None:
    """Servers an import wrote incomplete (``census_missing``): what the latest discovery of the
    server observed fills the fields still unknown (in the loaded record — the files are not
    touched, the observation stays the evidence); what is still unknown is a warning, not an
    error: the census goes on, the planner leaves the server's systems unscheduled."""
    latest: dict[str, Any] = {}
    for o in inv.observations:
        if o.server and isinstance(o.source, str) and o.source.startswith("discovery:") \
                and isinstance(o.facts, dict) and (o.server not in latest
                                                   or (o.collected_at or "") >= (latest[o.server].collected_at or "")):
            latest[o.server] = o
    where = shlex.quote(str(result.root)) if result.root is not None else "INVENTORY"
    for srv in inv.servers.values():
        if not srv.census_missing:
            continue
        fill, still = census_fill(srv, latest[srv.id].facts if srv.id in latest else None)
        for key, value in fill.items():
            setattr(srv, key, value)
        srv.census_missing = tuple(still)
        if still:
            names = ", ".join(m.value for m in still)
            why = Msg("the latest discovery did not establish them") if srv.id in latest else \
                Msg("no discovery has observed them")
            result.at_entity(W, "server-incomplete", Msg("census incomplete: {names} not known yet ({why}); the "
                                                         "systems on this server are not scheduled until it is "
                                                         "complete", names=names, why=why),
                             "servers", srv.id, "census_missing",
                             hint=Msg("run `govcloud inventory discover {where} --hosts {id}` (SSH, read-only), or "
                                      "write the values into the record", where=where, id=srv.id))


@check
def check_resources(inv: Inventory, result: LoadResult) -> None:
    for r in inv.resources.values():
        if r.open_to_public and (r.secrecy is Secrecy.classified or r.negative_list):
            why = Msg("classified") if r.secrecy is Secrecy.classified else Msg("on the negative list")
            result.at_entity(E, "resource-open-forbidden", Msg("resource '{name}' is {why} but open_to_public",
                                                               name=r.name, why=why),
                             "resources", r.id, "open_to_public")

