"""The Ansible inventory and extravars of one system's step (pure).

Groups: ``source`` (the system's servers where they run today), ``target`` (their cloud
servers, each naming its paired source) and ``clients`` (servers holding the cutover record).
Targets pull data from their source directly over the routed network when the source answers
there (probed from the target: ``govcloud_sync_route`` auto), else through a reverse tunnel the
migration host's SSH connection provides (``-R``); either way with the run's agent forwarded, so
no secret is stored on either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govcloud.migrate.desired import SystemTarget

TUNNEL_PORT = 22022


@dataclass(frozen=True)
class Login:
    user: str
    known_hosts: str          # file checked strictly
    port: int = 22


def known_host_lines(path: Path, names: list[str]) -> list[str]:
    """The known_hosts lines for any of ``names`` (plain or hashed entries; ``[host]:port`` kept)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        hosts = line.split(" ", 1)[0]
        for h in hosts.split(","):
            if h.startswith("|1|"):
                try:
                    _, _, salt, digest = h.split("|")
                    key = base64.b64decode(salt)
                    if any(hmac.new(key, n.encode(), hashlib.sha1).digest() == base64.b64decode(digest)
                           for n in names):
                        out.append(line)
                        break
                except ValueError:
                    continue
            elif h in names:
                out.append(line)
                break
    return out


def _common_args(login: Login) -> str:
    return (f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={shlex.quote(login.known_hosts)} "
            f"-o IdentitiesOnly=no -o PasswordAuthentication=no -o ConnectTimeout=15 "
            f"-o ServerAliveInterval=15 -o ServerAliveCountMax=4")


def source_name(server_id: str) -> str:
    return server_id


def target_name(server_id: str) -> str:
    return f"{server_id}-cloud"


def build(t: SystemTarget, *, source_login: Login, target_login: Login,
          target_addresses: dict[str, str], source_known: dict[str, list[str]],
          client_login: Login | None = None, tunnel_port: int = TUNNEL_PORT) -> dict[str, Any]:
    """The YAML-ready inventory for one system. ``target_addresses`` maps source server id →
    its cloud server's address (absent before provisioning: no ``target`` hosts then)."""
    py = {"ansible_python_interpreter": "/usr/bin/python3"}
    sources: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    for s in t.servers:
        sources[source_name(s.source)] = {
            "ansible_host": s.source_address, "ansible_user": source_login.user,
            "ansible_port": source_login.port, "ansible_ssh_common_args": _common_args(source_login),
            "govcloud_server": s.source, **py}
        addr = target_addresses.get(s.source)
        if addr:
            targets[target_name(s.source)] = {
                "ansible_host": addr, "ansible_user": target_login.user, "ansible_port": target_login.port,
                "ansible_ssh_common_args": _common_args(target_login),
                "ansible_ssh_extra_args": (f"-o ForwardAgent=yes -o ExitOnForwardFailure=yes "
                                           f"-R 127.0.0.1:{tunnel_port}:{s.source_address}:{source_login.port}"),
                "govcloud_tunnel_port": tunnel_port,
                "govcloud_source": source_name(s.source),
                "govcloud_source_address": s.source_address,
                "govcloud_source_port": source_login.port,
                "govcloud_source_user": source_login.user,
                "govcloud_source_known_hosts": "\n".join(source_known.get(s.source, [])),
                "govcloud_server": s.source, **py}
    clients: dict[str, Any] = {}
    cl = client_login or source_login
    for cid, addr in t.client_addresses.items():
        clients[client_host(t, cid)] = {
            "ansible_host": addr, "ansible_user": cl.user, "ansible_port": cl.port,
            "ansible_ssh_common_args": _common_args(cl), **py}
    return {"all": {"children": {"source": {"hosts": sources}, "target": {"hosts": targets},
                                 "clients": {"hosts": clients}}}}


def build_reverse(t: SystemTarget, *, source_login: Login, target_login: Login,
                  target_addresses: dict[str, str], target_known: dict[str, list[str]],
                  client_login: Login | None = None, tunnel_port: int = TUNNEL_PORT) -> dict[str, Any]:
    """The run inventory of a failback (`migrate failback`): the roles swapped. Group ``source`` holds
    the cloud servers (the side that is read, logged in as ``target_login``), group ``target`` the
    original sources (the side that pulls, as ``source_login``), each naming its cloud server as
    ``govcloud_source`` and reaching it through the same reverse tunnel and forwarded agent the sync
    uses; ``target_known`` maps source server id → the known_hosts lines of its cloud server.
    The host names stay those of :func:`build` (``h1`` the source, ``h1-cloud`` its cloud server)."""
    py = {"ansible_python_interpreter": "/usr/bin/python3"}
    cloud: dict[str, Any] = {}
    back: dict[str, Any] = {}
    for s in t.servers:
        addr = target_addresses.get(s.source)
        if not addr:
            continue
        cloud[target_name(s.source)] = {
            "ansible_host": addr, "ansible_user": target_login.user, "ansible_port": target_login.port,
            "ansible_ssh_common_args": _common_args(target_login), "govcloud_server": s.source, **py}
        back[source_name(s.source)] = {
            "ansible_host": s.source_address, "ansible_user": source_login.user, "ansible_port": source_login.port,
            "ansible_ssh_common_args": _common_args(source_login),
            "ansible_ssh_extra_args": (f"-o ForwardAgent=yes -o ExitOnForwardFailure=yes "
                                       f"-R 127.0.0.1:{tunnel_port}:{addr}:{target_login.port}"),
            "govcloud_tunnel_port": tunnel_port,
            "govcloud_source": target_name(s.source),
            "govcloud_source_address": addr,
            "govcloud_source_port": target_login.port,
            "govcloud_source_user": target_login.user,
            "govcloud_source_known_hosts": "\n".join(target_known.get(s.source, [])),
            # the record's switch and the role's reports name the cloud server as "the target"
            "govcloud_target_address": addr,
            "govcloud_server": s.source, **py}
    clients: dict[str, Any] = {}
    cl = client_login or source_login
    for cid, caddr in t.client_addresses.items():
        clients[client_host(t, cid)] = {
            "ansible_host": caddr, "ansible_user": cl.user, "ansible_port": cl.port,
            "ansible_ssh_common_args": _common_args(cl), **py}
    return {"all": {"children": {"source": {"hosts": cloud}, "target": {"hosts": back},
                                 "clients": {"hosts": clients}}}}


def client_host(t: SystemTarget, cid: str) -> str:
    """The runner inventory's name of client server ``cid`` (a client that is also one of the
    system's own servers gets its own alias)."""
    return f"{cid}-client" if cid in {s.source for s in t.servers} else cid


def extravars(t: SystemTarget, *, sync_mode: str = "initial", bwlimit_kbps: int = 0, keep_target: bool = True,
              apply_baseline: bool = False, sync_route: str = "auto") -> dict[str, Any]:
    wl = t.workload
    rec = wl.cutover_record if wl else None
    return {
        "govcloud_plan_id": t.plan_id,
        "govcloud_system_id": t.system,
        "govcloud_data_paths": list(wl.data_paths) if wl else [],
        "govcloud_services": [{"name": s.name, "port": s.port, "health_path": s.health_path}
                              for s in (wl.services if wl else ())],
        "govcloud_databases": [{"engine": d.engine.value, "name": d.name} for d in (wl.databases if wl else ())],
        "govcloud_cutover_record": ({"name": rec.name, "kind": rec.kind, "clients": list(t.client_addresses),
                                     "port": rec.port}
                                    if rec else None),
        # every kind is switched by the orchestrator (drivers/switching.py, compare-and-swap; kind hosts
        # through migrate_record.yml): the cutover and rollback plays leave the record alone
        "govcloud_record_external": bool(rec),
        "govcloud_sync_mode": sync_mode,
        "govcloud_bwlimit_kbps": int(bwlimit_kbps),
        "govcloud_keep_target": bool(keep_target),
        "govcloud_apply_baseline": bool(apply_baseline),
        "govcloud_sync_route": sync_route if sync_route in SYNC_ROUTES else "auto",
    }


def record_reports(messages: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The ``govcloud-record {json}`` lines migrate_record.yml reports, per client host:
    ``{"before", "after", "status"}`` (addresses as text or None); anything else is ignored."""
    import json
    out: dict[str, dict[str, Any]] = {}
    for host, msgs in messages.items():
        for m in msgs:
            if isinstance(m, str) and m.startswith("govcloud-record "):
                try:
                    d = json.loads(m[len("govcloud-record "):])
                except ValueError:
                    continue
                if isinstance(d, dict):
                    out[host] = {k: (None if d.get(k) is None else str(d.get(k))) for k in ("before", "after", "status")}
    return out


# how a target reaches its source's data (playbooks/roles/govcloud_common/tasks/tunnel.yml):
# auto (probe the direct path from the target, fall back to the reverse tunnel), direct, tunnel
SYNC_ROUTES = ("auto", "direct", "tunnel")


def datapath_reports(messages: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The ``govcloud-datapath {json}`` lines the sync roles report, per target host:
    ``{"source", "path" (direct | tunnel), "wanted", "direct_rc", "direct_error"}``; anything
    malformed is ignored (the role's own words, trusted for nothing but what they say)."""
    import json
    out: dict[str, dict[str, Any]] = {}
    for host, msgs in (messages or {}).items():
        for m in msgs if isinstance(msgs, (list, tuple)) else ():
            if not (isinstance(m, str) and m.startswith("govcloud-datapath ")):
                continue
            try:
                d = json.loads(m[len("govcloud-datapath "):])
            except ValueError:
                continue
            if not isinstance(d, dict) or d.get("path") not in ("direct", "tunnel"):
                continue
            rc = d.get("direct_rc")
            out[str(host)] = {"source": str(d.get("source") or "")[:200], "path": d["path"],
                              "wanted": str(d.get("wanted") or "auto")[:20],
                              "direct_rc": rc if isinstance(rc, int) and not isinstance(rc, bool) else None,
                              "direct_error": str(d.get("direct_error") or "")[:300]}
    return out


def execution_node(inv: Any, system: str, zone: str | None) -> Any | None:
    """The inventory's execution node that serves ``system``: the one serving its target cloud zone,
    else the one serving its department (owner organisation); None: the control node runs its playbooks.
    (Validation refuses a zone or a department served by two nodes.)"""
    nodes = list(getattr(inv, "execution_nodes", {}).values())
    if not nodes:
        return None
    if zone:
        for n in nodes:
            if zone in n.cloud_zones:
                return n
    sys_ = inv.systems.get(system)
    org = getattr(sys_, "owner_org", None)
    if org:
        for n in nodes:
            if org in n.organizations:
                return n
    return None
