"""An in-memory cloud project that behaves like the OpenStack driver (``ports.CloudPort``).

What the conformance suite (tests/conformance/cloud_contract.py) pins down holds here as on
the real cloud: resources are found by their tags and metadata, ``ensure_*`` is idempotent and
reports ``created`` / ``kept`` / ``changed``, an existing security group's ingress rules are
rewritten to the wanted set, an unattached volume is attached, deleting a server detaches its
volumes, errors are ``CloudError`` of the kinds the real driver maps to.

Faults for tests: ``fail[op] = CloudError(...)`` makes the next call of ``op`` fail before it
changes anything; ``error_servers`` names servers that go to ERROR when built (Nova's fault
"No valid host"); ``after`` is called after every change (with the operation and the resource)
— a test raises from it to kill the run between a cloud call and its journal line.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import uuid
from typing import Any, Callable

from govcloud.drivers.ports import (HOST_KEY_META, META_PLAN, META_SERVER, META_SYSTEM, REHEARSAL_META, TAG,
                                    CloudError, Ensured, Snapshot, isolation_problems_of, plan_tag, rehearsal_of,
                                    rehearsal_tag)


def _rule_key(r: dict[str, Any]) -> tuple:
    return (r.get("direction"), r.get("protocol"), r.get("port_range_min"), r.get("port_range_max"),
            r.get("remote_ip_prefix"), bool(r.get("remote_group_id")))


class FakeCloud:
    """One project of an in-memory cloud; thread-safe (the executor's parallel move groups)."""

    def __init__(self, *, flavors: dict[str, tuple[int, int]] | None = None, images: list[str] | None = None,
                 networks: dict[str, str] | None = None, external: dict[str, str] | None = None,
                 isolated: dict[str, str] | None = None, limits: dict[str, int] | None = None) -> None:
        """``networks`` get a subnet with a gateway (Neutron's default: the first address),
        ``isolated`` ones a subnet without (no router either: ``isolation_problems`` is [])."""
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.flavors = {n: {"id": f"fl-{n}", "vcpus": c, "ram_mb": r, "disk": 10}
                        for n, (c, r) in (flavors or {"m1.small": (1, 2048), "c2.m4": (2, 4096)}).items()}
        self.images = {n: {"id": f"img-{n}", "status": "active"} for n in (images or ["Debian-12-x86_64"])}
        self.networks: dict[str, dict[str, Any]] = {}
        for name, cidr in (networks or {"govcloud-net": "198.18.128.0/24"}).items():
            self._add_network(name, cidr, external=False, tags=[])
        for name, cidr in (external or {"public": "198.18.240.0/20"}).items():
            self._add_network(name, cidr, external=True, tags=[])
        for name, cidr in (isolated or {}).items():
            self._add_network(name, cidr, external=False, tags=[], gateway=False)
        self.routers: dict[str, dict[str, Any]] = {}       # id → {name, interfaces: [network], gateway: network}
        self.keypairs: dict[str, dict[str, Any]] = {}
        self.servers: dict[str, dict[str, Any]] = {}
        self.security_groups: dict[str, dict[str, Any]] = {}
        self.volumes: dict[str, dict[str, Any]] = {}
        self.floating_ips: dict[str, dict[str, Any]] = {}
        self.limits = {"cores": 400, "instances": 100, "ram_mb": 819200, **(limits or {})}
        self.fail: dict[str, CloudError] = {}
        self.error_servers: set[str] = set()
        self.after: Callable[[str, dict[str, Any]], None] | None = None
        self.calls: list[str] = []

    # ------------------------------------------------------------ connector
    def connect(self, cloud: str) -> "FakeCloud":
        """``ports.CloudConnector``: every clouds.yaml entry is this project."""
        return self

    # ------------------------------------------------------------ helpers
    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}-{uuid.uuid4().hex[:6]}"

    def _add_network(self, name: str, cidr: str | None, *, external: bool, tags: list[str],
                     gateway: bool = True) -> dict[str, Any]:
        subnets = [{"cidr": cidr, "gateway_ip": str(next(ipaddress.ip_network(cidr).hosts())) if gateway else None,
                    "host_routes": []}] if cidr else []
        net = {"id": self._id("net"), "name": name, "cidrs": [cidr] if cidr else [], "external": external,
               "tags": list(tags), "next": 10, "subnets": subnets}
        self.networks[name] = net
        return net

    # ------------------------------------------------------------ topology for tests (an admin's doing)
    def add_network(self, name: str, cidr: str, *, gateway: bool = True,
                    host_routes: list[dict[str, str]] | None = None) -> None:
        """A network made outside govcloud: its subnet with or without a gateway, host routes."""
        with self._lock:
            net = self._add_network(name, cidr, external=False, tags=[], gateway=gateway)
            net["subnets"][0]["host_routes"] = list(host_routes or [])

    def add_router(self, name: str, interfaces: list[str], gateway: str | None = None) -> str:
        """A router with an interface on each of ``interfaces`` (and its gateway on ``gateway``)."""
        with self._lock:
            rid = self._id("router")
            self.routers[rid] = {"name": name, "interfaces": list(interfaces), "gateway": gateway}
            return rid

    def remove_network(self, name: str) -> None:
        with self._lock:
            self.networks.pop(name, None)
            for r in self.routers.values():
                r["interfaces"] = [n for n in r["interfaces"] if n != name]

    def remove_router(self, router_id: str) -> None:
        with self._lock:
            self.routers.pop(router_id, None)

    def _enter(self, op: str) -> None:
        self.calls.append(op)
        exc = self.fail.pop(op, None)
        if exc is not None:
            raise exc

    def _changed(self, op: str, resource: dict[str, Any]) -> None:
        if self.after is not None:
            self.after(op, resource)

    @staticmethod
    def _clone(s: dict[str, Any]) -> str | None:
        return rehearsal_of(s["tags"], s["metadata"])

    def _server_info(self, s: dict[str, Any]) -> dict[str, Any]:
        return {"id": s["id"], "name": s["name"], "status": s["status"],
                "addresses": {k: list(v) for k, v in s["addresses"].items()}, "metadata": dict(s["metadata"]),
                "flavor": s["flavor"], "fault": s.get("fault")}

    def _used(self) -> dict[str, int]:
        live = [s for s in self.servers.values()]
        return {"cores_used": sum(self.flavors[s["flavor"]]["vcpus"] for s in live),
                "ram_mb_used": sum(self.flavors[s["flavor"]]["ram_mb"] for s in live),
                "instances_used": len(live)}

    # ------------------------------------------------------------ read
    def snapshot(self, plan_id: str, *, with_catalogue: bool = True) -> Snapshot:
        with self._lock:
            self.calls.append("snapshot")
            snap = Snapshot()
            if with_catalogue:
                snap.flavors = {n: dict(f) for n, f in self.flavors.items()}
                snap.images = {n: dict(i) for n, i in self.images.items()}
                snap.networks = {n: {"id": x["id"], "cidrs": list(x["cidrs"]), "external": x["external"]}
                                 for n, x in self.networks.items()}
            snap.keypairs = {n: k["fingerprint"] for n, k in self.keypairs.items()}
            for s in self.servers.values():
                if plan_tag(plan_id) in s["tags"] and not self._clone(s):
                    md = s["metadata"]
                    snap.servers[(md.get(META_SYSTEM, ""), md.get(META_SERVER, ""))] = self._server_info(s)
            for g in self.security_groups.values():
                if plan_tag(plan_id) in g["tags"] and not rehearsal_of(g["tags"]):
                    snap.security_groups[g["name"]] = {"id": g["id"], "rules": [_rule_key(r) for r in g["rules"]]}
            for v in self.volumes.values():
                if v["metadata"].get(META_PLAN) == plan_id and not rehearsal_of((), v["metadata"]):
                    snap.volumes[v["name"]] = {"id": v["id"], "status": v["status"], "size": v["size"],
                                               "attached_to": list(v["attachments"])}
            for ip in self.floating_ips.values():
                if plan_tag(plan_id) in ip["tags"]:
                    snap.floating_ips[ip["description"] or ip["id"]] = {"id": ip["id"], "address": ip["address"],
                                                                         "port": ip["port"]}
            snap.limits = {"cores": self.limits["cores"], "instances": self.limits["instances"],
                           "ram_mb": self.limits["ram_mb"], **self._used()}
            return snap

    def network_cidrs(self) -> dict[str, list[str]]:
        with self._lock:
            return {n: list(x["cidrs"]) for n, x in self.networks.items()}

    def isolation_problems(self, network: str) -> list[str]:
        with self._lock:
            self.calls.append("isolation_problems")
            net = self.networks.get(network) or next((n for n in self.networks.values() if n["id"] == network), None)
            if net is None:
                return isolation_problems_of(network, exists=False)
            ports = sorted([("network:router_interface", rid) for rid, r in self.routers.items()
                            if net["name"] in r["interfaces"]]
                           + [("network:router_gateway", rid) for rid, r in self.routers.items()
                              if r["gateway"] == net["name"]])
            return isolation_problems_of(network, exists=True, external=net["external"], router_ports=ports,
                                         subnets=[dict(sn) for sn in net["subnets"]])

    # ------------------------------------------------------------ ensure_*
    def ensure_keypair(self, name: str, public_key: str) -> Ensured:
        with self._lock:
            self._enter("ensure_keypair")
            kp = self.keypairs.get(name)
            if kp is not None:
                if kp["public_key"].split()[:2] != public_key.split()[:2]:
                    raise CloudError("api", f"keypair {name!r} exists with a different public key",
                                     hint="use the key it was created with (--key), or delete the keypair")
                return Ensured({"id": name, "name": name, "fingerprint": kp["fingerprint"]}, "kept")
            kp = self.keypairs[name] = {"public_key": public_key.strip(),
                                        "fingerprint": f"SHA256:{uuid.uuid5(uuid.NAMESPACE_OID, public_key).hex}"}
            self._changed("create_keypair", {"name": name})
            return Ensured({"id": name, "name": name, "fingerprint": kp["fingerprint"]}, "created")

    def ensure_network(self, name: str, cidr: str | None, tags: list[str]) -> Ensured:
        with self._lock:
            self._enter("ensure_network")
            net = self.networks.get(name)
            if net is not None:
                return Ensured({"id": net["id"], "name": name}, "kept")
            if not cidr:
                raise CloudError("missing_network", f"network {name!r} does not exist",
                                 hint="create it, or give the zone a network_cidr so migrate creates it")
            net = self._add_network(name, cidr, external=False, tags=tags)
            self._changed("create_network", net)
            return Ensured({"id": net["id"], "name": name}, "created")

    def ensure_security_group(self, name: str, rules: list[dict[str, Any]], tags: list[str],
                              description: str) -> Ensured:
        with self._lock:
            self._enter("ensure_security_group")
            sg = None
            for g in self.security_groups.values():
                if g["name"] == name and tags[1] in g["tags"]:
                    sg = g
            action = "kept"
            if sg is None:
                sg = {"id": self._id("sg"), "name": name, "description": description, "tags": list(tags),
                      "rules": [{"id": self._id("r"), "direction": "egress", "ethertype": e, "protocol": None,
                                 "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
                                 "remote_group_id": None} for e in ("IPv4", "IPv6")]}
                self.security_groups[sg["id"]] = sg
                self._changed("create_security_group", sg)
                action = "created"
            have = {_rule_key(r): r["id"] for r in sg["rules"] if r["direction"] == "ingress"}
            want = {}
            for r in rules:
                want[("ingress", r.get("protocol"), r.get("port_range_min"), r.get("port_range_max"),
                      None if r.get("remote_group_self") else r.get("remote_ip_prefix"),
                      bool(r.get("remote_group_self")))] = r
            for key, r in want.items():
                if key not in have:
                    sg["rules"].append({"id": self._id("r"), "direction": "ingress", "ethertype": "IPv4",
                                        "protocol": r.get("protocol"), "port_range_min": r.get("port_range_min"),
                                        "port_range_max": r.get("port_range_max"),
                                        "remote_ip_prefix": None if r.get("remote_group_self") else r.get("remote_ip_prefix"),
                                        "remote_group_id": sg["id"] if r.get("remote_group_self") else None})
                    action = "changed" if action == "kept" else action
            for key, rid in have.items():
                if key not in want:
                    sg["rules"] = [r for r in sg["rules"] if r["id"] != rid]
                    action = "changed" if action == "kept" else action
            if action == "changed":
                self._changed("update_security_group", sg)
            return Ensured({"id": sg["id"], "name": name}, action)

    def add_rule(self, group: str, **rule: Any) -> None:
        """Drift for tests: an ingress rule someone added by hand to the group named ``group``."""
        with self._lock:
            sg = next(g for g in self.security_groups.values() if g["name"] == group)
            sg["rules"].append({"id": self._id("r"), "direction": "ingress", "ethertype": "IPv4",
                                "protocol": rule.get("protocol", "tcp"), "port_range_min": rule.get("port_range_min"),
                                "port_range_max": rule.get("port_range_max"),
                                "remote_ip_prefix": rule.get("remote_ip_prefix"), "remote_group_id": None})

    def find_server(self, plan_id: str, system: str, server: str) -> dict[str, Any] | None:
        return self._find_server(plan_id, system, server, None)

    def _find_server(self, plan_id: str, system: str, server: str, rehearsal: str | None) -> dict[str, Any] | None:
        with self._lock:
            for s in self.servers.values():
                md = s["metadata"]
                if (plan_tag(plan_id) in s["tags"] and md.get(META_SYSTEM) == system and md.get(META_SERVER) == server
                        and self._clone(s) == rehearsal):
                    return self._server_info(s)
            return None

    def ensure_server(self, *, plan_id: str, system: str, server: str, name: str, flavor: str, image: str,
                      network: str, keypair: str, security_group: str, availability_zone: str | None = None,
                      timeout: float = 600.0, rehearsal: str | None = None) -> Ensured:
        rtags = [rehearsal_tag(rehearsal)] if rehearsal else []
        with self._lock:
            self._enter("ensure_server")
            found = self._find_server(plan_id, system, server, rehearsal)
            if found is not None:
                if found["status"] == "ERROR":
                    raise CloudError("no_valid_host", f"server {name}: no valid host ({found.get('fault')})")
                return Ensured(found, "kept")
            if flavor not in self.flavors:
                raise CloudError("missing_flavor", f"flavor {flavor!r} does not exist")
            if image not in self.images:
                raise CloudError("missing_image", f"image {image!r} does not exist",
                                 hint="upload it to Glance or map the plan's image to one that exists")
            net = self.networks.get(network)
            if net is None:
                raise CloudError("missing_network", f"network {network!r} does not exist")
            used, f = self._used(), self.flavors[flavor]
            if (used["instances_used"] + 1 > self.limits["instances"] or
                    used["cores_used"] + f["vcpus"] > self.limits["cores"] or
                    used["ram_mb_used"] + f["ram_mb"] > self.limits["ram_mb"]):
                raise CloudError("quota", f"server {name}: quota exceeded (Quota exceeded for instances)",
                                 hint="raise the project's quota or move fewer systems at once")
            hosts = list(ipaddress.ip_network(net["cidrs"][0]).hosts()) if net["cidrs"] else []
            addr = str(hosts[net["next"]]) if hosts else None
            net["next"] += 1
            sid = self._id("srv")
            s = {"id": sid, "name": name, "status": "ACTIVE", "flavor": flavor, "image": image, "key_name": keypair,
                 "security_groups": [security_group],
                 "tags": [TAG, plan_tag(plan_id), f"gc-sys={system}"[:60]] + rtags,
                 "metadata": {META_PLAN: plan_id, META_SYSTEM: system, META_SERVER: server,
                              HOST_KEY_META: f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5{uuid.uuid4().hex}",
                              **({REHEARSAL_META: rehearsal} if rehearsal else {})},
                 "addresses": {network: [addr] if addr else []}, "zone": availability_zone}
            self.servers[sid] = s
            self._changed("create_server", s)
            if server in self.error_servers or name in self.error_servers:
                # Nova's ERROR: the driver removes the server and reports why (nothing half-built)
                del self.servers[sid]
                exc = CloudError("no_valid_host", f"server {name}: no valid host (No valid host was found.)",
                                 hint="the zone lacks capacity for this flavor (or its architecture); check hypervisors")
                exc.removed_server = {"id": sid, "name": name}
                raise exc
            return Ensured(self._server_info(s), "created")

    def ensure_volume(self, *, plan_id: str, system: str, name: str, size_gb: int, server_id: str,
                      timeout: float = 300.0, rehearsal: str | None = None) -> Ensured:
        if rehearsal:
            rehearsal_tag(rehearsal)
        with self._lock:
            self._enter("ensure_volume")
            vol = None
            for v in self.volumes.values():
                if (v["name"] == name and v["metadata"].get(META_PLAN) == plan_id
                        and rehearsal_of((), v["metadata"]) == rehearsal):
                    vol = v
            action = "kept"
            if vol is None:
                vol = {"id": self._id("vol"), "name": name, "size": max(1, int(size_gb)), "status": "available",
                       "metadata": {META_PLAN: plan_id, META_SYSTEM: system,
                                    **({REHEARSAL_META: rehearsal} if rehearsal else {})}, "attachments": []}
                self.volumes[vol["id"]] = vol
                self._changed("create_volume", vol)
                action = "created"
            if server_id not in vol["attachments"]:
                if server_id not in self.servers:
                    raise CloudError("api", f"volume {name}: server {server_id} does not exist")
                vol["attachments"] = [server_id]
                vol["status"] = "in-use"
                self._changed("attach_volume", vol)
                action = "created" if action == "created" else "changed"
            return Ensured({"id": vol["id"], "name": name, "size": vol["size"]}, action)

    def ensure_floating_ip(self, *, plan_id: str, server_id: str, external_network: str,
                           label: str) -> Ensured:
        with self._lock:
            self._enter("ensure_floating_ip")
            for ip in self.floating_ips.values():
                if plan_tag(plan_id) in ip["tags"] and ip["description"] == label:
                    return Ensured({"id": ip["id"], "address": ip["address"]}, "kept")
            ext = self.networks.get(external_network)
            if ext is None or not ext["external"]:
                raise CloudError("missing_network", f"external network {external_network!r} does not exist")
            if server_id not in self.servers:
                raise CloudError("api", f"server {server_id} has no port for a floating IP")
            hosts = list(ipaddress.ip_network(ext["cidrs"][0]).hosts())
            addr = str(hosts[ext["next"]])
            ext["next"] += 1
            ip = {"id": self._id("fip"), "address": addr, "port": f"port-{server_id}", "server": server_id,
                  "description": label, "tags": [TAG, plan_tag(plan_id)]}
            self.floating_ips[ip["id"]] = ip
            self._changed("create_floating_ip", ip)
            return Ensured({"id": ip["id"], "address": addr}, "created")

    # ------------------------------------------------------------ read-backs and removal
    def host_key_of(self, server_id: str) -> str | None:
        with self._lock:
            s = self.servers.get(server_id)
            return s["metadata"].get(HOST_KEY_META) if s else None

    def system_servers(self, system: str) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": s["id"], "name": s["name"], "plan": s["metadata"].get(META_PLAN),
                     "server": s["metadata"].get(META_SERVER)} for s in self.servers.values()
                    if f"gc-sys={system}"[:60] in s["tags"] and s["metadata"].get(META_SYSTEM) == system
                    and not self._clone(s)]

    def find_system_resources(self, plan_id: str, system: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            found: dict[str, dict[str, Any]] = {}
            for s in self.servers.values():
                md = s["metadata"]
                if plan_tag(plan_id) in s["tags"] and md.get(META_SYSTEM) == system and not self._clone(s):
                    found[f"server:{md.get(META_SERVER) or s['id']}"] = {"kind": "server", "id": s["id"],
                                                                         "name": s["name"]}
            for v in self.volumes.values():
                if (v["metadata"].get(META_PLAN) == plan_id and v["metadata"].get(META_SYSTEM) == system
                        and not rehearsal_of((), v["metadata"])):
                    found[f"volume:{v['name'] or v['id']}"] = {"kind": "volume", "id": v["id"], "name": v["name"]}
            for ip in self.floating_ips.values():
                if plan_tag(plan_id) in ip["tags"] and (ip["description"] or "").startswith(f"{system}/"):
                    found[f"floating_ip:{ip['description'].split('/', 1)[1]}"] = {
                        "kind": "floating_ip", "id": ip["id"], "name": ip["description"]}
            for g in self.security_groups.values():
                if (plan_tag(plan_id) in g["tags"] and f"gc-sys={system}"[:60] in g["tags"]
                        and not rehearsal_of(g["tags"])):
                    found["security_group" if "security_group" not in found else f"security_group:{g['id']}"] = {
                        "kind": "security_group", "id": g["id"], "name": g["name"]}
            return found

    def find_rehearsal_resources(self, plan_id: str, system: str | None = None) -> dict[str, dict[str, Any]]:
        with self._lock:
            self.calls.append("find_rehearsal_resources")
            found: dict[str, dict[str, Any]] = {}
            for s in self.servers.values():
                md, rid = s["metadata"], self._clone(s)
                if rid and plan_tag(plan_id) in s["tags"] and (system is None or md.get(META_SYSTEM) == system):
                    found[f"server:{rid}:{md.get(META_SYSTEM)}/{md.get(META_SERVER) or s['id']}"] = {
                        "kind": "server", "id": s["id"], "name": s["name"], "rehearsal": rid,
                        "system": md.get(META_SYSTEM)}
            for v in self.volumes.values():
                md = v["metadata"]
                rid = rehearsal_of((), md)
                if rid and md.get(META_PLAN) == plan_id and (system is None or md.get(META_SYSTEM) == system):
                    found[f"volume:{rid}:{v['name'] or v['id']}"] = {"kind": "volume", "id": v["id"], "name": v["name"],
                                                                   "rehearsal": rid, "system": md.get(META_SYSTEM)}
            for g in self.security_groups.values():
                rid = rehearsal_of(g["tags"])
                if rid and plan_tag(plan_id) in g["tags"] and (system is None or f"gc-sys={system}"[:60] in g["tags"]):
                    sys_of = next((t.split("=", 1)[1] for t in g["tags"] if t.startswith("gc-sys=")), None)
                    found[f"security_group:{rid}:{g['id']}"] = {"kind": "security_group", "id": g["id"],
                                                                "name": g["name"], "rehearsal": rid, "system": sys_of}
            return found

    def delete_resources(self, resources: dict[str, dict[str, Any]],
                         on_removed: Callable[[str], None] | None = None, timeout: float = 300.0) -> list[str]:
        order = {"floating_ip": 0, "server": 1, "volume": 2, "security_group": 3}
        removed = []
        for key, r in sorted(resources.items(), key=lambda kv: (order.get(kv[1].get("kind"), 9), kv[0])):
            kind, rid = r.get("kind"), r.get("id")
            if kind not in order or not rid:
                continue
            with self._lock:
                self._enter("delete_" + kind)
                if kind == "floating_ip":
                    self.floating_ips.pop(rid, None)
                elif kind == "server":
                    if self.servers.pop(rid, None) is not None:
                        for v in self.volumes.values():     # Nova detaches what the server had
                            if rid in v["attachments"]:
                                v["attachments"].remove(rid)
                                v["status"] = "in-use" if v["attachments"] else "available"
                        for ip in self.floating_ips.values():
                            if ip.get("server") == rid:
                                ip["port"] = ip["server"] = None
                elif kind == "volume":
                    v = self.volumes.get(rid)
                    if v is not None and v["attachments"]:
                        raise CloudError("api", f"volume {v['name']} could not be removed (still attached)",
                                         hint="look at it in the cloud; run the rollback again")
                    self.volumes.pop(rid, None)
                elif kind == "security_group":
                    if any(rid in s["security_groups"] or r.get("name") in s["security_groups"]
                           for s in self.servers.values()):
                        raise CloudError("api", f"security group {r.get('name') or rid} could not be removed "
                                                f"(in use)", hint="look at it in the cloud; run the rollback again")
                    self.security_groups.pop(rid, None)
                self._changed("delete_" + kind, dict(r))
            removed.append(key)
            if on_removed:
                on_removed(key)
        return removed
