"""What the cloud must hold for a planned system, and what is left to do (pure).

``targets_for`` turns a plan item plus the inventory into the resources the system needs
(servers with flavor/image/network, data volumes, a least-privilege security group, a
floating IP for Internet-facing systems); ``changes`` compares them with a live
``Snapshot`` and the journal to say, per resource, create / adopt / keep / update / attach —
the exact change set a dry run prints and a run carries out (the executor applies each
change through one ``ensure_*``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.migrate.lifecycle import EXECUTABLE, State, Step, SystemStatus, run_steps
from govcloud.model.enums import ExtranetArea
from govcloud.model.inventory import Inventory
from govcloud.model.plan import IMAGE_IMPORT_PREFIX, Plan, PlanItem

SSH_PORT = 22


@dataclass
class TargetServer:
    key: str                    # journal key, "server:<source server id>"
    source: str                 # source server id
    name: str                   # Nova server name (the source hostname: rehost keeps it)
    flavor: str | None
    image: str | None
    volumes: list[tuple[str, int]] = field(default_factory=list)   # (name, size GB) beyond the root disk
    source_address: str | None = None
    source_hostname: str | None = None


@dataclass
class SystemTarget:
    system: str
    name: str
    plan_id: str
    strategy: str
    zone: str | None
    cloud: str | None           # clouds.yaml entry of the zone's platform
    network: str | None
    network_cidr: str | None
    availability_zone: str | None
    security_group: str
    rules: list[dict[str, Any]]
    servers: list[TargetServer]
    floating_network: str | None
    move_group: str
    cutover: str | None         # ISO day of the planned cutover
    workload: Any | None        # model.entities.Workload
    client_addresses: dict[str, str] = field(default_factory=dict)   # client server id → address
    problems: list[str] = field(default_factory=list)                 # why it cannot be executed

    @property
    def executable(self) -> bool:
        return not self.problems


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-").lower()[:40] or "x"


def keypair_name(plan_id: str) -> str:
    return f"govcloud-{_slug(plan_id)}"


def security_group_name(plan_id: str, system: str) -> str:
    return f"gc-{_slug(plan_id)[:24]}-{_slug(system)}"


def server_address(srv: Any) -> str | None:
    return srv.mgmt_ip or (srv.ips[0] if srv.ips else None)


def _prefix(addr: str) -> str | None:
    try:
        return str(ipaddress.ip_network(addr, strict=False)) if "/" in addr else f"{ipaddress.ip_address(addr)}/32"
    except ValueError:
        return None


def security_rules(inv: Inventory, item: PlanItem, admin_cidrs: list[str], zone_cidrs: list[str]) -> list[dict[str, Any]]:
    """Ingress only what the system is known to need: SSH from the migration hosts, its service
    ports from the servers of systems that call it (declared dependencies) and from the cutover
    record's clients, and everything between its own servers."""
    sysobj = inv.systems[item.system]
    wl = sysobj.workload
    ports = sorted({s.port for s in (wl.services if wl else ()) if s.port})
    callers: set[str] = set()
    for d in inv.dependencies:
        if d.to == item.system and d.from_ in inv.systems:
            for sid in inv.systems[d.from_].servers:
                srv = inv.servers.get(sid)
                a = server_address(srv) if srv else None
                if a:
                    callers.add(a)
            callers.update(zone_cidrs)      # a caller migrated to the same zone calls from there
    if wl and wl.cutover_record:
        for cid in wl.cutover_record.clients:
            srv = inv.servers.get(cid)
            a = server_address(srv) if srv else None
            if a:
                callers.add(a)
    rules: list[dict[str, Any]] = []
    for cidr in sorted({c for c in admin_cidrs if _prefix(c)}):
        rules.append({"protocol": "tcp", "port_range_min": SSH_PORT, "port_range_max": SSH_PORT,
                      "remote_ip_prefix": _prefix(cidr), "why": "migration host (SSH)"})
    for port in ports:
        for c in sorted({p for p in (_prefix(x) for x in callers) if p}):
            rules.append({"protocol": "tcp", "port_range_min": port, "port_range_max": port,
                          "remote_ip_prefix": c, "why": "caller/client"})
    # all TCP as Neutron stores it (1-65535 comes back as no range, and would never match)
    rules.append({"protocol": "tcp", "port_range_min": None, "port_range_max": None, "remote_group_self": True,
                  "why": "between the system's own servers"})
    # one rule per key: Neutron refuses duplicates
    seen, out = set(), []
    for r in rules:
        k = (r["protocol"], r["port_range_min"], r["port_range_max"], r.get("remote_ip_prefix"),
             bool(r.get("remote_group_self")))
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def same_os_image(zone: Any, srv: Any) -> str | None:
    """For a rehost: the zone's catalogue image of the server's own OS (same distribution, same
    major version, same architecture) — the machine is rebuilt on it and its data synced."""
    major = (srv.os_version or "").split(".")[0].lower()
    for img in zone.images:
        if img.os_distribution is srv.os_distribution and img.cpu_arch is srv.cpu_arch and (
                not major or (img.os_version or "").split(".")[0].lower() == major):
            return img.name
    return None


def targets_for(plan: Plan, inv: Inventory, item: PlanItem, *, admin_cidrs: list[str],
                zone_cidrs: dict[str, list[str]] | None = None) -> SystemTarget:
    sysobj = inv.systems.get(item.system)
    zone = inv.cloud_zones.get(item.target_zone) if item.target_zone else None
    platform = inv.cloud_platforms.get(zone.platform) if zone else None
    problems: list[str] = []
    if sysobj is None:
        problems.append(Msg("system {system} is no longer in the inventory", system=item.system))
    if item.strategy not in EXECUTABLE:
        problems.append(Msg("strategy {strategy} ({label}) is not carried out by `migrate`",
                            strategy=item.strategy.value, label=item.strategy.zh))
    if zone is None and item.strategy in EXECUTABLE:
        problems.append(Msg("target zone {zone!r} is not in the inventory", zone=item.target_zone))
    elif zone is not None and not zone.network:
        problems.append(Msg("zone {zone} has no cloud network (set `network:` on the zone)", zone=zone.id))
    if zone is not None and platform is not None and not platform.cloud:
        problems.append(Msg("platform {platform} has no clouds.yaml entry (set `cloud:` on the platform)",
                            platform=platform.id))
    wl = sysobj.workload if sysobj else None
    if sysobj is not None and (wl is None or not (wl.data_paths or wl.services or wl.databases)):
        problems.append(Msg("the system's workload (data paths, services, databases) is not recorded"))
    servers: list[TargetServer] = []
    for p in item.servers:
        srv = inv.servers.get(p.server)
        image = p.image
        if image and image.startswith(IMAGE_IMPORT_PREFIX):
            image = same_os_image(zone, srv) if (zone and srv) else None
            if image is None:
                problems.append(Msg("server {server}: rehost asks for its own disk ({image}); `migrate` rebuilds on "
                                    "a catalogue image of the same OS and syncs the data, and zone {zone} has none — "
                                    "upload one or replatform", server=p.server, image=p.image,
                                    zone=zone.id if zone else "?"))
        vols = []
        if srv is not None:
            for n, d in enumerate(srv.disks[1:], 1):
                vols.append((f"{_slug(item.system)}-{_slug(p.server)}-d{n}", max(1, int(round(d.size_gb)))))
        servers.append(TargetServer(
            key=f"server:{p.server}", source=p.server,
            name=_slug(srv.hostname if srv else p.server), flavor=p.flavor, image=image, volumes=vols,
            source_address=server_address(srv) if srv else None, source_hostname=srv.hostname if srv else None))
        if srv is None:
            problems.append(Msg("server {server} is no longer in the inventory", server=p.server))
        elif not server_address(srv):
            problems.append(Msg("server {server} has no address to reach it", server=p.server))
    clients: dict[str, str] = {}
    if wl and wl.cutover_record:
        for cid in wl.cutover_record.clients:
            srv = inv.servers.get(cid)
            if srv is None or not server_address(srv):
                problems.append(Msg("cutover client {client} is unknown or has no address", client=cid))
            else:
                clients[cid] = server_address(srv)
    rec = wl.cutover_record if wl else None
    if rec is not None and rec.kind == "haproxy" and len(item.servers) != 1:
        problems.append(Msg("cutover record {record}: an HAProxy server slot points at one server; the system has "
                            "{n}", record=rec.name, n=len(item.servers)))
    if rec is not None and rec.kind == "haproxy" and record_port(wl) is None:
        problems.append(Msg("cutover record {record}: no service port for the HAProxy server slot", record=rec.name))
    internet = bool(sysobj and sysobj.extranet_area is ExtranetArea.internet_access)
    zc = (zone_cidrs or {}).get(zone.network, []) if zone and zone.network else []
    if zone and zone.network_cidr and not zc:
        zc = [zone.network_cidr]
    rules = security_rules(inv, item, admin_cidrs or zc, zc) if sysobj else []
    return SystemTarget(
        system=item.system, name=item.name, plan_id=plan.plan_id, strategy=item.strategy.value,
        zone=zone.id if zone else None, cloud=platform.cloud if platform else None,
        network=zone.network if zone else None, network_cidr=zone.network_cidr if zone else None,
        availability_zone=zone.availability_zone if zone else None,
        security_group=security_group_name(plan.plan_id, item.system), rules=rules, servers=servers,
        floating_network=zone.floating_network if (zone and internet) else None,
        move_group=item.move_group, cutover=item.cutover.isoformat() if item.cutover else None,
        workload=wl, client_addresses=clients, problems=problems)


# ---------------------------------------------------------------- cutover record


def health_service(wl: Any) -> Any | None:
    """The first service with a port and a health path: what clients request to see the system."""
    return next((s for s in (wl.services if wl else ()) if s.port and s.health_path), None)


def record_port(wl: Any) -> int | None:
    """The port the system's servers serve on (an HAProxy server slot's port)."""
    svc = health_service(wl) or next((s for s in (wl.services if wl else ()) if s.port), None)
    return svc.port if svc else None


def record_values(t: SystemTarget, target_addresses: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the values the record holds while the source serves, the values once the target serves):
    for dns and hosts the addresses of the system's servers (A and hosts: IPv4, AAAA: IPv6; hosts:
    the first), for a dns CNAME the names ``cname_source`` / ``cname_target`` (absolute), for
    haproxy the slot's ``ADDR:PORT``. The target side is empty until the target servers have
    addresses."""
    rec = t.workload.cutover_record if t.workload else None
    if rec is None:
        return (), ()
    src = [s.source_address for s in t.servers if s.source_address]
    tgt = [target_addresses[s.source] for s in t.servers if s.source in target_addresses]
    if len(tgt) != len(t.servers):
        tgt = []
    if rec.kind == "hosts":       # one line: the first server (the cutover role's choice before)
        return tuple(src[:1]), tuple(tgt[:1])
    if rec.kind == "haproxy":
        port = record_port(t.workload)
        return tuple(f"{a}:{port}" for a in src[:1]), tuple(f"{a}:{port}" for a in tgt[:1])
    if (rec.rdtype or "A").upper() == "CNAME":      # names, not addresses: lower-case and absolute
        def fq(n: str | None) -> tuple[str, ...]:
            return (n.rstrip(".").lower() + ".",) if n else ()
        return fq(rec.cname_source), (fq(rec.cname_target) if tgt else ())
    v6 = (rec.rdtype or "A").upper() == "AAAA"
    pick = [a for a in src if (":" in a) == v6], [a for a in tgt if (":" in a) == v6]
    return tuple(sorted(pick[0])), tuple(sorted(pick[1]))


# ---------------------------------------------------------------- change set


@dataclass
class Change:
    """One change the run makes (or one resource it keeps), as the dry run shows it. The run
    carries out exactly these, each through the one ``ensure_*`` of its kind.

    action: create | adopt | keep | update (a security group's rules are rewritten) | attach (an
    existing volume is attached to its server) | run (a playbook) | blocked."""

    action: str
    kind: str            # keypair | network | security_group | server | volume | floating_ip | playbook | system
    name: str
    detail: str = ""
    key: str = ""        # the journal's resource key ("server:<source>", "volume:<name>", …)
    step: str = ""       # the step that makes it
    server: str = ""     # for a volume or floating IP: the source server id whose cloud server gets it

    def to_plain(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "name": self.name, "detail": self.detail,
                "key": self.key, "step": self.step}


# actions that change the cloud or the hosts (what --detailed-exitcode and `to_do` count)
CHANGING = ("create", "adopt", "update", "attach", "run")

PLAYBOOK_OF = {Step.precheck: "migrate_precheck.yml", Step.configure: "migrate_configure.yml",
               Step.sync: "migrate_sync.yml", Step.cutover: "migrate_cutover.yml",
               Step.verify: "migrate_verify.yml", Step.rollback: "migrate_rollback.yml"}


def rule_key(rule: dict[str, Any]) -> tuple:
    """An ingress rule as the cloud reports it (ports.RuleKey): a rule to the group itself has no prefix."""
    self_ = bool(rule.get("remote_group_self"))
    return ("ingress", rule.get("protocol"), rule.get("port_range_min"), rule.get("port_range_max"),
            None if self_ else rule.get("remote_ip_prefix"), self_)


def rules_drift(t: SystemTarget, live_group: dict[str, Any]) -> tuple[int, int]:
    """(rules to add, rules to remove) to bring a live group to exactly ``t.rules``."""
    have = {tuple(r) for r in live_group.get("rules") or [] if r and r[0] == "ingress"}
    want = {rule_key(r) for r in t.rules}
    return len(want - have), len(have - want)


def provision_changes(t: SystemTarget, snap: Any, status: SystemStatus, keypair: str | None) -> list[Change]:
    """Per resource the system needs, the one change that brings the cloud to it. A resource the
    cloud has (found by tags) but the journal lacks is *adopted*, never created twice."""
    out: list[Change] = []
    step = Step.provision.value

    def known(key: str) -> bool:
        return key in status.resources

    if keypair:
        out.append(Change("keep" if keypair in snap.keypairs else "create", "keypair", keypair, key="keypair",
                          step=step))
    if t.network:
        if t.network in snap.networks:
            out.append(Change("keep", "network", t.network, key=f"network:{t.network}", step=step))
        else:
            out.append(Change("create" if t.network_cidr else "blocked", "network", t.network,
                              t.network_cidr or Msg("network missing and no network_cidr to create it"),
                              key=f"network:{t.network}", step=step))
    live_sg = snap.security_groups.get(t.security_group)
    if live_sg is None:
        out.append(Change("create", "security_group", t.security_group,
                          Msg("{n} ingress rules", n=len(t.rules)), key="security_group", step=step))
    else:
        add, drop = rules_drift(t, live_sg)
        adopt = "" if known("security_group") else "adopt, "
        if add or drop:
            out.append(Change("update", "security_group", t.security_group,
                              Msg("adopt, rules +{add} -{drop} (to {n} ingress rules)", add=add, drop=drop,
                                  n=len(t.rules)) if adopt else
                              Msg("rules +{add} -{drop} (to {n} ingress rules)", add=add, drop=drop, n=len(t.rules)),
                              key="security_group", step=step))
        else:
            out.append(Change("keep" if not adopt else "adopt", "security_group", t.security_group,
                              Msg("{n} ingress rules", n=len(t.rules)), key="security_group", step=step))
    for s in t.servers:
        live = snap.servers.get((t.system, s.source))
        if live is not None:
            out.append(Change("keep" if known(s.key) else "adopt", "server", s.name,
                              f"{live.get('status')} {s.flavor} {s.image}", key=s.key, step=step, server=s.source))
        elif s.flavor and snap.flavors and s.flavor not in snap.flavors:
            out.append(Change("blocked", "server", s.name, Msg("flavor {flavor} does not exist", flavor=s.flavor),
                              key=s.key, step=step, server=s.source))
        elif s.image and snap.images and s.image not in snap.images:
            out.append(Change("blocked", "server", s.name, Msg("image {image} does not exist", image=s.image),
                              key=s.key, step=step, server=s.source))
        else:
            out.append(Change("create", "server", s.name, Msg("{flavor} {image} on {network}", flavor=s.flavor,
                                                              image=s.image, network=t.network), key=s.key,
                              step=step, server=s.source))
        for vname, size in s.volumes:
            vkey, lv = f"volume:{vname}", snap.volumes.get(vname)
            if lv is None:
                out.append(Change("create", "volume", vname, Msg("{size} GB, attached to {server}", size=size,
                                                                  server=s.name), key=vkey, step=step,
                                  server=s.source))
            elif live is None or live.get("id") not in (lv.get("attached_to") or []):
                detail = Msg("{size} GB, attach to {server}", size=size, server=s.name) if known(vkey) else \
                    Msg("adopt, {size} GB, attach to {server}", size=size, server=s.name)
                out.append(Change("attach", "volume", vname, detail, key=vkey, step=step, server=s.source))
            else:
                out.append(Change("keep" if known(vkey) else "adopt", "volume", vname, f"{size} GB", key=vkey,
                                  step=step, server=s.source))
        if t.floating_network:
            label, fkey = f"{t.system}/{s.source}", f"floating_ip:{s.source}"
            if label in snap.floating_ips:
                out.append(Change("keep" if known(fkey) else "adopt", "floating_ip", label, t.floating_network,
                                  key=fkey, step=step, server=s.source))
            else:
                out.append(Change("create", "floating_ip", label, t.floating_network, key=fkey, step=step,
                                  server=s.source))
    return out


def playbook_change(t: SystemTarget, step: Step, status: SystemStatus) -> Change:
    sources = ", ".join(s.source for s in t.servers)
    targets = ", ".join(f"cloud:{s.name}" for s in t.servers)
    hosts = sources if step is Step.precheck else targets + (f" ← {sources}" if step is Step.sync else "")
    mode = ""
    if step is Step.sync:
        mode = "delta" if status.syncs else "initial"
        if t.workload and t.workload.databases:
            # the sync step first probes, read-only, how each database can move (replication.py)
            mode += "; after migrate_repl_facts.yml, read-only"
    return Change("run", "playbook", PLAYBOOK_OF[step], f"{hosts}{' (' + mode + ')' if mode else ''}",
                  step=step.value)


def changes(t: SystemTarget, snap: Any, status: SystemStatus, until: State, *, resync: bool = False,
            keypair: str | None = None) -> tuple[list[Step], list[Change]]:
    """The steps still to run for ``t`` and the changes they make, in order: the dry run prints
    exactly this list and `migrate run` carries out exactly this list."""
    if not t.executable:
        return [], [Change("blocked", "system", t.system, joined(t.problems))]
    steps = run_steps(status, until, resync=resync)
    out: list[Change] = []
    for step in steps:
        if step is Step.provision:
            out += provision_changes(t, snap, status, keypair)
        else:
            out.append(playbook_change(t, step, status))
    return steps, out


def quota_needed(targets: list[SystemTarget], snap: Any) -> dict[str, int]:
    """Cores/RAM/instances the servers still to be created need, from the live flavors."""
    cores = ram = n = 0
    for t in targets:
        for s in t.servers:
            if (t.system, s.source) in snap.servers or not s.flavor or s.flavor not in snap.flavors:
                continue
            f = snap.flavors[s.flavor]
            cores += f["vcpus"]
            ram += f["ram_mb"]
            n += 1
    return {"cores": cores, "ram_mb": ram, "instances": n}


def joined(items: list[Any]) -> Any:
    """Messages (or plain texts) joined by "; " (by "；" in Chinese), as one message."""
    out: Any = items[0] if items else ""
    for item in items[1:]:
        out = Msg("{a}; {b}", "list", a=out, b=item)
    return out


def quota_problems(need: dict[str, int], limits: dict[str, int]) -> list[str]:
    out = []
    for key, used_key, label in (("cores", "cores_used", Msg("cores", "quota")),
                                 ("ram_mb", "ram_mb_used", Msg("RAM (MB)", "quota")),
                                 ("instances", "instances_used", Msg("instances", "quota"))):
        limit = limits.get(key)
        if limit is None or limit < 0:
            continue
        free = limit - limits.get(used_key, 0)
        if need[key] > free:
            out.append(Msg("quota: {label} needed {need}, free {free} of {limit}", label=label, need=need[key],
                           free=free, limit=limit))
    return out
