"""OpenStack driver (the only module importing openstacksdk).

Verbs follow the architecture guide: ``find_*`` returns None when absent, ``ensure_*`` is
idempotent and returns ``(resource, action)`` with action ``created`` / ``kept`` / ``adopted``.
Every resource govcloud creates carries the plan and system in tags and metadata, so a re-run
(or a run after a crash that lost the journal line) finds it instead of creating a twin.
Cloud errors are mapped to ``CloudError`` kinds a person can act on.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any, Callable

import openstack
from keystoneauth1 import exceptions as ksa
from openstack import exceptions as osx

from govcloud.base.i18n import Msg
from govcloud.drivers.ports import (HOST_KEY_META, META_PLAN, META_SERVER, META_SYSTEM, REHEARSAL_META,
                                    ROUTER_OWNERS, TAG, CloudError, Ensured, Snapshot, isolation_problems_of,
                                    plan_tag, rehearsal_of, rehearsal_tag, system_tag)

__all__ = ["HOST_KEY_META", "META_PLAN", "META_SERVER", "META_SYSTEM", "TAG", "CloudError", "OpenStackCloud",
           "Snapshot", "plan_tag", "system_tag"]
_ENV_LOCK = threading.Lock()
# what a cloud call raises: the SDK's errors, and keystoneauth's (Keystone or an endpoint
# unreachable, TLS, timeouts) which the SDK lets through unwrapped
_CLOUD_ERRORS = (osx.SDKException, ksa.ClientException)


def _clean(text: Any) -> str:
    """Cloud error text without request ids and URLs that might carry tokens."""
    s = str(text or "")
    s = re.sub(r"https?://\S+", "<url>", s)
    s = re.sub(r"(?i)(x-auth-token|token|password)[=:]\s*\S+", r"\1=<redacted>", s)
    return s[:400]


def map_error(exc: BaseException, what: str) -> CloudError:
    msg = _clean(getattr(exc, "details", None) or exc)
    low = msg.lower()
    if isinstance(exc, CloudError):
        return exc
    if isinstance(exc, (ksa.ConnectFailure, ksa.DiscoveryFailure, ksa.ConnectTimeout)):
        return CloudError(Msg("{what}: cannot reach the cloud ({msg})", what=what, msg=msg), kind="unreachable",
                          hint=Msg("is Keystone up and auth_url in clouds.yaml right? (OS_CLOUD / --cloud)"))
    if "quota" in low or "exceeded" in low and "limit" in low:
        return CloudError(Msg("{what}: quota exceeded ({msg})", what=what, msg=msg), kind="quota",
                          hint=Msg("raise the project's quota or move fewer systems at once"))
    if "no valid host" in low:
        return CloudError(Msg("{what}: no valid host ({msg})", what=what, msg=msg), kind="no_valid_host",
                          hint=Msg("the zone lacks capacity for this flavor (or its architecture); check hypervisors"))
    if isinstance(exc, osx.HttpException) and getattr(exc, "status_code", None) in (401,):
        return CloudError(Msg("{what}: authentication failed", what=what), kind="auth",
                          hint=Msg("check clouds.yaml / OS_CLOUD"))
    if isinstance(exc, osx.ResourceTimeout):
        return CloudError(Msg("{what}: timed out ({msg})", what=what, msg=msg), kind="timeout")
    return CloudError(Msg("{what}: {name}: {msg}", what=what, name=type(exc).__name__, msg=msg), kind="api")


def connect(cloud: str, *, config_file: str | None = None) -> Any:
    try:
        if config_file:
            from openstack import config as occ
            # openstacksdk reads OS_CLIENT_CONFIG_FILE *before* the files it is given and stops at
            # the first one found: point it at ours while the config is read
            with _ENV_LOCK:
                saved = os.environ.get("OS_CLIENT_CONFIG_FILE")
                os.environ["OS_CLIENT_CONFIG_FILE"] = config_file
                try:
                    region = occ.OpenStackConfig(config_files=[config_file]).get_one(cloud=cloud)
                finally:
                    if saved is None:
                        os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
                    else:
                        os.environ["OS_CLIENT_CONFIG_FILE"] = saved
            return openstack.connection.Connection(config=region)
        return openstack.connect(cloud=cloud)
    except Exception as exc:  # noqa: BLE001 — every config/auth failure gets one clear line
        raise CloudError(Msg("cannot connect to cloud {cloud!r}: {x}", cloud=cloud, x=_clean(exc)), kind="auth",
                         hint=Msg("check clouds.yaml (OS_CLIENT_CONFIG_FILE) and the cloud name")) from None


# ---------------------------------------------------------------- snapshot (read-only)


def _server_info(s: Any) -> dict[str, Any]:
    addrs = {net: [a.get("addr") for a in lst if a.get("version", 4) == 4]
             for net, lst in (s.addresses or {}).items()}
    md = dict(s.metadata or {})
    return {"id": s.id, "name": s.name, "status": s.status, "addresses": addrs, "metadata": md,
            "flavor": (s.flavor or {}).get("original_name") or (s.flavor or {}).get("name"),
            "fault": _clean((s.fault or {}).get("message")) if getattr(s, "fault", None) else None}


def snapshot(conn: Any, plan_id: str, *, with_catalogue: bool = True) -> Snapshot:
    snap = Snapshot()
    try:
        if with_catalogue:
            for f in conn.compute.flavors(details=True):
                snap.flavors[f.name] = {"id": f.id, "vcpus": f.vcpus, "ram_mb": f.ram, "disk": f.disk}
            for i in conn.image.images():
                snap.images[i.name] = {"id": i.id, "status": i.status}
            nets = list(conn.network.networks())
            cidrs: dict[str, list[str]] = {}
            for sn in conn.network.subnets():
                cidrs.setdefault(sn.network_id, []).append(sn.cidr)
            for n in nets:
                snap.networks[n.name] = {"id": n.id, "cidrs": cidrs.get(n.id, []),
                                         "external": bool(n.is_router_external)}
        for k in conn.compute.keypairs():
            snap.keypairs[k.name] = k.fingerprint
        for s in conn.compute.servers(details=True, tags=plan_tag(plan_id)):
            if _clone(s):
                continue                       # a rehearsal's clone is not the plan's target
            info = _server_info(s)
            md = info["metadata"]
            snap.servers[(md.get(META_SYSTEM, ""), md.get(META_SERVER, ""))] = info
        for sg in conn.network.security_groups(tags=plan_tag(plan_id)):
            if rehearsal_of(sg.tags):
                continue
            snap.security_groups[sg.name] = {"id": sg.id, "rules": [_rule_key(r) for r in sg.security_group_rules or []]}
        for v in conn.block_storage.volumes(details=True):
            md = dict(v.metadata or {})
            if md.get(META_PLAN) == plan_id and not rehearsal_of((), md):
                snap.volumes[v.name] = {"id": v.id, "status": v.status, "size": v.size,
                                        "attached_to": [a.get("server_id") for a in (v.attachments or [])]}
        for ip in conn.network.ips(tags=plan_tag(plan_id)):
            snap.floating_ips[ip.description or ip.id] = {"id": ip.id, "address": ip.floating_ip_address,
                                                          "port": ip.port_id}
        lim = conn.compute.get_limits().absolute
        snap.limits = {"cores": lim.total_cores, "cores_used": lim.total_cores_used,
                       "instances": lim.instances, "instances_used": lim.instances_used,
                       "ram_mb": lim.total_ram, "ram_mb_used": lim.total_ram_used}
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, "reading the cloud") from None
    return snap


def network_cidrs(conn: Any) -> dict[str, list[str]]:
    """Network name → its subnets' CIDRs (what a zone's servers talk from)."""
    try:
        cidrs: dict[str, list[str]] = {}
        for sn in conn.network.subnets():
            cidrs.setdefault(sn.network_id, []).append(sn.cidr)
        return {n.name: cidrs.get(n.id, []) for n in conn.network.networks()}
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, "reading networks") from None


def _clone(s: Any) -> str | None:
    """The rehearsal a server is a clone for (metadata, else tag), None for a real target."""
    return rehearsal_of(getattr(s, "tags", None), s.metadata)


def isolation_problems(conn: Any, network: str) -> list[str]:
    """Why ``network`` is not isolated ([] = isolated): missing, ``router:external``, a router's
    port on it, a subnet with a gateway or host routes. Neutron shows a project the ports of
    networks it owns only: on a shared network another project owns, a router port whose address is
    not the subnet's gateway_ip is not visible to a member (the gateway_ip check still is)."""
    try:
        net = conn.network.find_network(network)
        if net is None:
            return isolation_problems_of(network, exists=False)
        ports = [(p.device_owner, p.device_id) for p in conn.network.ports(network_id=net.id)
                 if (p.device_owner or "") in ROUTER_OWNERS]
        subnets = [{"cidr": sn.cidr, "gateway_ip": sn.gateway_ip, "host_routes": list(sn.host_routes or [])}
                   for sn in conn.network.subnets(network_id=net.id)]
        return isolation_problems_of(network, exists=True, external=bool(net.is_router_external),
                                     router_ports=sorted(ports), subnets=subnets)
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"network {network}") from None


def _rule_key(r: Any) -> tuple:
    g = r.get if isinstance(r, dict) else (lambda k, d=None: getattr(r, k, d))
    return (g("direction"), g("protocol"), g("port_range_min"), g("port_range_max"), g("remote_ip_prefix"),
            bool(g("remote_group_id")))


# ---------------------------------------------------------------- ensure_*


def ensure_keypair(conn: Any, name: str, public_key: str) -> tuple[dict[str, Any], str]:
    try:
        kp = conn.compute.find_keypair(name)
        if kp is not None:
            if kp.public_key.split()[:2] != public_key.split()[:2]:
                raise CloudError(Msg("keypair {name!r} exists with a different public key", name=name), kind="api",
                                 hint=Msg("use the key it was created with (--key), or delete the keypair"))
            return {"id": kp.name, "name": kp.name, "fingerprint": kp.fingerprint}, "kept"
        kp = conn.compute.create_keypair(name=name, public_key=public_key.strip())
        return {"id": kp.name, "name": kp.name, "fingerprint": kp.fingerprint}, "created"
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"keypair {name}") from None


def ensure_network(conn: Any, name: str, cidr: str | None, tags: list[str]) -> tuple[dict[str, Any], str]:
    try:
        net = conn.network.find_network(name)
        if net is not None:
            return {"id": net.id, "name": name}, "kept"
        if not cidr:
            raise CloudError(Msg("network {name!r} does not exist", name=name), kind="missing_network",
                             hint=Msg("create it, or give the zone a network_cidr so migrate creates it"))
        net = conn.network.create_network(name=name)
        conn.network.set_tags(net, tags)
        conn.network.create_subnet(network_id=net.id, name=f"{name}-subnet", ip_version=4, cidr=cidr)
        return {"id": net.id, "name": name}, "created"
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"network {name}") from None


def ensure_security_group(conn: Any, name: str, rules: list[dict[str, Any]], tags: list[str],
                          description: str) -> tuple[dict[str, Any], str]:
    """Create the group with exactly ``rules`` (ingress; Neutron's default egress kept); on an
    existing group add missing rules and remove ingress rules govcloud no longer wants."""
    try:
        sg = None
        for g in conn.network.security_groups(name=name, tags=tags[1]):
            sg = g
        action = "kept"
        if sg is None:
            sg = conn.network.create_security_group(name=name, description=description)
            conn.network.set_tags(sg, tags)
            action = "created"
        sg = conn.network.get_security_group(sg.id)
        have = {}
        for r in sg.security_group_rules or []:
            if r.get("direction") == "ingress":
                have[_rule_key(r)] = r.get("id")
        want = {}
        for r in rules:
            key = ("ingress", r.get("protocol"), r.get("port_range_min"), r.get("port_range_max"),
                   r.get("remote_ip_prefix"), bool(r.get("remote_group_self")))
            want[key] = r
        for key, r in want.items():
            if key not in have:
                args = {"security_group_id": sg.id, "direction": "ingress", "ethertype": "IPv4",
                        "protocol": r.get("protocol")}
                if r.get("port_range_min") is not None:
                    args.update(port_range_min=r["port_range_min"], port_range_max=r["port_range_max"])
                if r.get("remote_group_self"):
                    args["remote_group_id"] = sg.id
                elif r.get("remote_ip_prefix"):
                    args["remote_ip_prefix"] = r["remote_ip_prefix"]
                conn.network.create_security_group_rule(**args)
                action = "changed" if action == "kept" else action
        for key, rid in have.items():
            if key not in want:
                conn.network.delete_security_group_rule(rid, ignore_missing=True)
                action = "changed" if action == "kept" else action
        return {"id": sg.id, "name": name}, action
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"security group {name}") from None


def find_server(conn: Any, plan_id: str, system: str, server: str,
                rehearsal: str | None = None) -> dict[str, Any] | None:
    """The target of (plan, system, server) — or, with ``rehearsal``, that rehearsal's clone of it:
    never one for the other."""
    try:
        for s in conn.compute.servers(details=True, tags=plan_tag(plan_id)):
            md = s.metadata or {}
            if md.get(META_SYSTEM) == system and md.get(META_SERVER) == server and _clone(s) == rehearsal:
                return _server_info(s)
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"looking up server {server}") from None
    return None


def system_servers(conn: Any, system: str) -> list[dict[str, Any]]:
    """The servers of ``system`` under any plan (tag ``gc-sys=…``, then the metadata: a tag is cut
    at 60 characters)."""
    out: list[dict[str, Any]] = []
    try:
        for s in conn.compute.servers(details=True, tags=system_tag(system)):
            md = s.metadata or {}
            if md.get(META_SYSTEM) == system and not _clone(s):
                out.append({"id": s.id, "name": s.name, "plan": md.get(META_PLAN), "server": md.get(META_SERVER)})
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"looking up the servers of {system}") from None
    return out


def ensure_server(conn: Any, *, plan_id: str, system: str, server: str, name: str, flavor: str, image: str,
                  network: str, keypair: str, security_group: str, availability_zone: str | None = None,
                  timeout: float = 600.0, rehearsal: str | None = None) -> tuple[dict[str, Any], str]:
    """The server for (plan, system, server): found by its tags/metadata, else created; waits for
    ACTIVE. A server in ERROR is reported with Nova's fault, never silently replaced. With
    ``rehearsal``, that rehearsal's clone (tag ``gc-reh=…``, metadata ``govcloud:rehearsal``)."""
    rtags = [rehearsal_tag(rehearsal)] if rehearsal else []
    found = find_server(conn, plan_id, system, server, rehearsal)
    action = "kept"
    try:
        if found is None:
            fl = conn.compute.find_flavor(flavor)
            if fl is None:
                raise CloudError(Msg("flavor {flavor!r} does not exist", flavor=flavor), kind="missing_flavor")
            im = conn.image.find_image(image)
            if im is None:
                raise CloudError(Msg("image {image!r} does not exist", image=image), kind="missing_image",
                                 hint=Msg("upload it to Glance or map the plan's image to one that exists"))
            net = conn.network.find_network(network)
            if net is None:
                raise CloudError(Msg("network {network!r} does not exist", network=network), kind="missing_network")
            kw: dict[str, Any] = dict(
                name=name, flavor_id=fl.id, image_id=im.id, key_name=keypair,
                networks=[{"uuid": net.id}], security_groups=[{"name": security_group}],
                metadata={META_PLAN: plan_id, META_SYSTEM: system, META_SERVER: server,
                          **({REHEARSAL_META: rehearsal} if rehearsal else {})},
                tags=[TAG, plan_tag(plan_id), system_tag(system)] + rtags)
            if availability_zone:
                kw["availability_zone"] = availability_zone
            created = conn.compute.create_server(**kw)
            found = {"id": created.id, "name": name, "status": "BUILD"}
            action = "created"
        try:
            s = _wait(conn, found["id"], timeout)
        except CloudError as exc:
            # a server in ERROR never becomes usable: remove it so nothing is left half-built and a
            # re-run starts clean; the caller journals the removal with the cloud's reason
            if exc.kind != "timeout":
                conn.compute.delete_server(found["id"], ignore_missing=True)
                exc.removed_server = {"id": found["id"], "name": name}
            raise
        return _server_info(s), action
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"server {name}") from None


def _wait(conn: Any, server_id: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    delay = 1.0
    while True:
        s = conn.compute.get_server(server_id)
        if s.status == "ACTIVE":
            return s
        if s.status == "ERROR":
            fault = (s.fault or {}).get("message") if getattr(s, "fault", None) else None
            raise map_error(RuntimeError(_clean(fault or "server went to ERROR")), f"server {s.name}")
        if time.monotonic() > deadline:
            raise CloudError(Msg("server {name} still {status} after {timeout:.0f}s", name=s.name, status=s.status,
                                 timeout=timeout), kind="timeout")
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def ensure_volume(conn: Any, *, plan_id: str, system: str, name: str, size_gb: int, server_id: str,
                  timeout: float = 300.0, rehearsal: str | None = None) -> tuple[dict[str, Any], str]:
    if rehearsal:
        rehearsal_tag(rehearsal)          # a plain id, or a caller's bug
    try:
        vol = None
        for v in conn.block_storage.volumes(details=True, name=name):
            if (v.metadata or {}).get(META_PLAN) == plan_id and rehearsal_of((), v.metadata) == rehearsal:
                vol = v
        action = "kept"
        if vol is None:
            vol = conn.block_storage.create_volume(name=name, size=max(1, int(size_gb)),
                                                   metadata={META_PLAN: plan_id, META_SYSTEM: system,
                                                             **({REHEARSAL_META: rehearsal} if rehearsal else {})})
            action = "created"
        deadline = time.monotonic() + timeout
        while vol.status not in ("available", "in-use"):
            if vol.status == "error" or time.monotonic() > deadline:
                raise CloudError("api" if vol.status == "error" else "timeout",
                                 f"volume {name} is {vol.status}")
            time.sleep(1)
            vol = conn.block_storage.get_volume(vol.id)
        attached = [a.get("server_id") for a in (vol.attachments or [])]
        if server_id not in attached:
            conn.compute.create_volume_attachment(server_id, volume_id=vol.id)
            while True:
                vol = conn.block_storage.get_volume(vol.id)
                if vol.status == "in-use":
                    break
                if vol.status == "error" or time.monotonic() > deadline:
                    raise CloudError(Msg("volume {name} did not attach ({status})", name=name, status=vol.status),
                                     kind="timeout")
                time.sleep(1)
            action = "created" if action == "created" else "changed"
        return {"id": vol.id, "name": name, "size": vol.size}, action
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"volume {name}") from None


def ensure_floating_ip(conn: Any, *, plan_id: str, server_id: str, external_network: str,
                       label: str) -> tuple[dict[str, Any], str]:
    try:
        for ip in conn.network.ips(tags=plan_tag(plan_id)):
            if ip.description == label:
                return {"id": ip.id, "address": ip.floating_ip_address}, "kept"
        ext = conn.network.find_network(external_network)
        if ext is None:
            raise CloudError(Msg("external network {external_network!r} does not exist",
                                 external_network=external_network), kind="missing_network")
        port = next(iter(conn.network.ports(device_id=server_id)), None)
        if port is None:
            raise CloudError(Msg("server {server_id} has no port for a floating IP", server_id=server_id), kind="api")
        ip = conn.network.create_ip(floating_network_id=ext.id, port_id=port.id, description=label)
        conn.network.set_tags(ip, [TAG, plan_tag(plan_id)])
        return {"id": ip.id, "address": ip.floating_ip_address}, "created"
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"floating IP for {label}") from None


# ---------------------------------------------------------------- read-backs and removal


def host_key_of(conn: Any, server_id: str) -> str | None:
    """The server's SSH host key as the cloud publishes it: the bridge/agent metadata entry, else
    cloud-init's ``-----BEGIN SSH HOST KEY KEYS-----`` block in the console log."""
    try:
        md = conn.compute.get_server_metadata(server_id).metadata or {}
        if md.get(HOST_KEY_META):
            return md[HOST_KEY_META]
        out = conn.compute.get_server_console_output(server_id).get("output", "")
    except _CLOUD_ERRORS:
        return None
    m = re.search(r"-----BEGIN SSH HOST KEY KEYS-----\n(.*?)-----END SSH HOST KEY KEYS-----", out or "", re.S)
    if m:
        for line in m.group(1).splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "ssh-ed25519":
                return " ".join(parts[:2])
    return None


def find_system_resources(conn: Any, plan_id: str, system: str) -> dict[str, dict[str, Any]]:
    """Everything the cloud holds for (plan, system), found by tags and metadata — not by the
    journal, which a run killed between a create call and its journal line does not name:
    servers (tag ``gc-plan=…`` + metadata ``govcloud_system``), volumes (metadata), floating IPs
    (tag + the ``system/server`` label), security groups (tags ``gc-plan=…`` and ``gc-sys=…``)."""
    found: dict[str, dict[str, Any]] = {}
    try:
        for s in conn.compute.servers(details=True, tags=plan_tag(plan_id)):
            md = s.metadata or {}
            if md.get(META_SYSTEM) == system and not _clone(s):
                found[f"server:{md.get(META_SERVER) or s.id}"] = {"kind": "server", "id": s.id, "name": s.name}
        for v in conn.block_storage.volumes(details=True):
            md = v.metadata or {}
            if md.get(META_PLAN) == plan_id and md.get(META_SYSTEM) == system and not rehearsal_of((), md):
                found[f"volume:{v.name or v.id}"] = {"kind": "volume", "id": v.id, "name": v.name}
        for ip in conn.network.ips(tags=plan_tag(plan_id)):
            if (ip.description or "").startswith(f"{system}/"):
                found[f"floating_ip:{ip.description.split('/', 1)[1]}"] = {
                    "kind": "floating_ip", "id": ip.id, "name": ip.description}
        for g in conn.network.security_groups(tags=plan_tag(plan_id)):
            if system_tag(system) not in (g.tags or []) or rehearsal_of(g.tags):
                continue
            found["security_group" if "security_group" not in found else f"security_group:{g.id}"] = {
                "kind": "security_group", "id": g.id, "name": g.name}
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, f"looking up the cloud resources of {system}") from None
    return found


def find_rehearsal_resources(conn: Any, plan_id: str, system: str | None = None) -> dict[str, dict[str, Any]]:
    """Every rehearsal resource of the plan (of ``system``), by tags and metadata alone: clone
    servers (tag ``gc-plan=…`` + metadata/tag of the rehearsal), clone volumes (metadata),
    security groups tagged ``gc-reh=…``. Key ``kind:rehearsal:…`` → {kind, id, name, rehearsal, system}."""
    found: dict[str, dict[str, Any]] = {}
    try:
        for s in conn.compute.servers(details=True, tags=plan_tag(plan_id)):
            md, rid = s.metadata or {}, _clone(s)
            if rid and (system is None or md.get(META_SYSTEM) == system):
                found[f"server:{rid}:{md.get(META_SYSTEM)}/{md.get(META_SERVER) or s.id}"] = {
                    "kind": "server", "id": s.id, "name": s.name, "rehearsal": rid, "system": md.get(META_SYSTEM)}
        for v in conn.block_storage.volumes(details=True):
            md = v.metadata or {}
            rid = rehearsal_of((), md)
            if rid and md.get(META_PLAN) == plan_id and (system is None or md.get(META_SYSTEM) == system):
                found[f"volume:{rid}:{v.name or v.id}"] = {"kind": "volume", "id": v.id, "name": v.name,
                                                         "rehearsal": rid, "system": md.get(META_SYSTEM)}
        for g in conn.network.security_groups(tags=plan_tag(plan_id)):
            rid, tags = rehearsal_of(g.tags), list(g.tags or [])
            if rid and (system is None or system_tag(system) in tags):
                sys_of = next((t.split("=", 1)[1] for t in tags if t.startswith("gc-sys=")), None)
                found[f"security_group:{rid}:{g.id}"] = {"kind": "security_group", "id": g.id, "name": g.name,
                                                         "rehearsal": rid, "system": sys_of}
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, "looking up the resources of rehearsals") from None
    return found


def _exists(conn: Any, kind: str, rid: str) -> bool:
    if kind == "floating_ip":
        return conn.network.find_ip(rid, ignore_missing=True) is not None
    if kind == "server":
        return conn.compute.find_server(rid, ignore_missing=True) is not None
    if kind == "volume":
        return conn.block_storage.find_volume(rid, ignore_missing=True) is not None
    if kind == "security_group":
        return conn.network.find_security_group(rid, ignore_missing=True) is not None
    return False


def delete_resources(conn: Any, resources: dict[str, dict[str, Any]],
                     on_removed: Callable[[str], None] | None = None, timeout: float = 300.0) -> list[str]:
    """Remove what govcloud created for a system (floating IPs, servers, then volumes, groups).
    A removal is reported through ``on_removed`` (so it is journaled) only once the cloud no
    longer has the resource; one that cannot be removed is an error, never reported removed."""
    order = {"floating_ip": 0, "server": 1, "volume": 2, "security_group": 3}
    removed = []
    try:
        for key, r in sorted(resources.items(), key=lambda kv: (order.get(kv[1].get("kind"), 9), kv[0])):
            kind, rid = r.get("kind"), r.get("id")
            if kind not in order or not rid:
                continue   # keypairs and networks are shared by the plan; kept
            deadline = time.monotonic() + timeout
            if kind == "floating_ip":
                conn.network.delete_ip(rid, ignore_missing=True)
            elif kind == "server":
                conn.compute.delete_server(rid, ignore_missing=True)
                while _exists(conn, kind, rid) and time.monotonic() < deadline:
                    time.sleep(1)
            elif kind == "volume":
                while True:
                    v = conn.block_storage.find_volume(rid, ignore_missing=True)
                    if v is None or time.monotonic() > deadline:
                        break
                    if v.status in ("available", "error"):
                        conn.block_storage.delete_volume(rid, ignore_missing=True)
                    time.sleep(1)
            elif kind == "security_group":
                while True:
                    try:
                        conn.network.delete_security_group(rid, ignore_missing=True)
                        break
                    except osx.ConflictException:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(1)      # ports of a just-deleted server still hold it
            if _exists(conn, kind, rid):
                raise CloudError(Msg("{x} {x2} could not be removed (still there after {timeout:.0f}s)",
                                     x=kind.replace('_', ' '), x2=r.get('name') or rid, timeout=timeout), kind="api",
                                 hint=Msg("look at it in the cloud; run the rollback again"))
            removed.append(key)
            if on_removed:
                on_removed(key)
    except _CLOUD_ERRORS as exc:
        raise map_error(exc, "removing target resources") from None
    return removed


# ---------------------------------------------------------------- the CloudPort


class OpenStackCloud:
    """``ports.CloudPort`` over one openstacksdk connection (one per thread: the SDK's session
    is not shared between threads)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    @classmethod
    def connect(cls, cloud: str, *, config_file: str | None = None) -> "OpenStackCloud":
        return cls(connect(cloud, config_file=config_file))

    def snapshot(self, plan_id: str, *, with_catalogue: bool = True) -> Snapshot:
        return snapshot(self.conn, plan_id, with_catalogue=with_catalogue)

    def network_cidrs(self) -> dict[str, list[str]]:
        return network_cidrs(self.conn)

    def isolation_problems(self, network: str) -> list[str]:
        return isolation_problems(self.conn, network)

    def ensure_keypair(self, name: str, public_key: str) -> Ensured:
        return Ensured(*ensure_keypair(self.conn, name, public_key))

    def ensure_network(self, name: str, cidr: str | None, tags: list[str]) -> Ensured:
        return Ensured(*ensure_network(self.conn, name, cidr, tags))

    def ensure_security_group(self, name: str, rules: list[dict[str, Any]], tags: list[str],
                              description: str) -> Ensured:
        return Ensured(*ensure_security_group(self.conn, name, rules, tags, description))

    def find_server(self, plan_id: str, system: str, server: str) -> dict[str, Any] | None:
        return find_server(self.conn, plan_id, system, server)

    def ensure_server(self, **kw: Any) -> Ensured:
        return Ensured(*ensure_server(self.conn, **kw))

    def ensure_volume(self, **kw: Any) -> Ensured:
        return Ensured(*ensure_volume(self.conn, **kw))

    def ensure_floating_ip(self, **kw: Any) -> Ensured:
        return Ensured(*ensure_floating_ip(self.conn, **kw))

    def host_key_of(self, server_id: str) -> str | None:
        return host_key_of(self.conn, server_id)

    def find_system_resources(self, plan_id: str, system: str) -> dict[str, dict[str, Any]]:
        return find_system_resources(self.conn, plan_id, system)

    def system_servers(self, system: str) -> list[dict[str, Any]]:
        return system_servers(self.conn, system)

    def find_rehearsal_resources(self, plan_id: str, system: str | None = None) -> dict[str, dict[str, Any]]:
        return find_rehearsal_resources(self.conn, plan_id, system)

    def delete_resources(self, resources: dict[str, dict[str, Any]],
                         on_removed: Callable[[str], None] | None = None, timeout: float = 300.0) -> list[str]:
        return delete_resources(self.conn, resources, on_removed=on_removed, timeout=timeout)
