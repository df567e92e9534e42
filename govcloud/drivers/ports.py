"""The ports the executor drives (``typing.Protocol``), and the records that cross them.

``migrate/executor.py`` sequences three kinds of outside work and knows them only through
these protocols:

* ``CloudPort`` — one connected cloud project: a read-only ``snapshot``, idempotent
  ``ensure_*`` calls that return ``(resource, action)`` with action ``created`` / ``kept`` /
  ``changed``, look-ups by tag, and removal. ``CloudConnector`` opens one per clouds.yaml entry.
  Real: ``drivers.openstack.OpenStackCloud``; in memory: ``govcloud.testing.fake_cloud.FakeCloud``.
* ``PlaybookPort`` — runs one playbook against a runner inventory and reports a
  ``PlaybookRun``; owns the run's processes (the process guard, the private ssh-agent) and
  reads the public part of the operator's key. Real: ``drivers.real.AnsiblePlaybooks``;
  scripted: ``govcloud.testing.scripted.ScriptedPlaybooks``.
* ``HostProbe`` — what the migration host checks over the network without credentials: an
  SSH banner, an HTTP status. Real: ``drivers.real.NetworkProbe``.

This module imports no driver library: the executor (and the fakes) import it freely; the
one conformance suite (tests/conformance/cloud_contract.py) holds every ``CloudPort`` to the
same behaviour.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any, Callable, NamedTuple, Protocol, Sequence, runtime_checkable

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError

# tags and metadata every resource govcloud creates carries (the plan, the system, the source server)
TAG = "govcloud"
META_PLAN, META_SYSTEM, META_SERVER = "govcloud_plan", "govcloud_system", "govcloud_server"
HOST_KEY_META = "govcloud:ssh_host_key"
# a rehearsal's clone (server, volume) carries its rehearsal id in this metadata key and, like every
# resource of the rehearsal, the tag ``gc-reh=<id>``: the look-ups of a plan's real targets skip them
REHEARSAL_META = "govcloud:rehearsal"
REHEARSAL_TAG_PREFIX = "gc-reh="
_REHEARSAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,52}")
# Neutron device owners of a router's ports (legacy, distributed, HA, SNAT): a network holding one is routed
ROUTER_OWNERS = ("network:router_interface", "network:router_interface_distributed",
                 "network:ha_router_replicated_interface", "network:router_ha_interface",
                 "network:router_gateway", "network:router_centralized_snat")


def plan_tag(plan_id: str) -> str:
    return f"gc-plan={plan_id}"[:60]


def system_tag(system: str) -> str:
    return f"gc-sys={system}"[:60]


def rehearsal_tag(rehearsal: str) -> str:
    """The tag of everything rehearsal ``rehearsal`` creates. Its id is short and plain (a Nova tag
    holds no ``/`` or ``,`` and at most 60 characters); anything else is a caller's bug."""
    if not _REHEARSAL_ID.fullmatch(rehearsal or ""):
        raise ValueError(f"rehearsal id {rehearsal!r} is not [A-Za-z0-9._-], at most 53 characters")
    return REHEARSAL_TAG_PREFIX + rehearsal


def resource_tags(plan_id: str, system: str | None = None, rehearsal: str | None = None) -> list[str]:
    """The tags of a resource of (plan, system); a plan-wide resource (network) has no system tag;
    a rehearsal's resource (a clone's security group) adds ``gc-reh=<id>``."""
    return ([TAG, plan_tag(plan_id)] + ([system_tag(system)] if system else [])
            + ([rehearsal_tag(rehearsal)] if rehearsal else []))


def rehearsal_of(tags: Any, metadata: Any = None) -> str | None:
    """The rehearsal id a resource belongs to (metadata ``govcloud:rehearsal``, else its
    ``gc-reh=`` tag), None for a real target."""
    rid = (metadata or {}).get(REHEARSAL_META)
    if rid:
        return str(rid)
    for t in tags or ():
        if isinstance(t, str) and t.startswith(REHEARSAL_TAG_PREFIX):
            return t[len(REHEARSAL_TAG_PREFIX):]
    return None


def isolation_problems_of(network: str, *, exists: bool, external: bool = False,
                          router_ports: Sequence[tuple[str, str]] = (),
                          subnets: Sequence[dict[str, Any]] = ()) -> list[str]:
    """Why ``network`` is not isolated, from what a driver read about it: each problem a ``Msg``
    naming the network. ``router_ports``: (device_owner, router id) of ports a router holds on it;
    ``subnets``: {cidr, gateway_ip, host_routes}. Both drivers word their findings here."""
    if not exists:
        return [Msg("network {network!r} does not exist", network=network)]
    problems: list[str] = []
    if external:
        problems.append(Msg("network {network!r} is an external network (router:external)", network=network))
    for owner, router in router_ports:
        problems.append(Msg("network {network!r} has a router port ({owner}, router {router})",
                            network=network, owner=owner, router=router or "?"))
    for sn in subnets:
        if sn.get("gateway_ip"):
            problems.append(Msg("network {network!r}: subnet {cidr} has a gateway ({gateway})",
                                network=network, cidr=sn.get("cidr"), gateway=sn["gateway_ip"]))
        if sn.get("host_routes"):
            problems.append(Msg("network {network!r}: subnet {cidr} has host routes ({routes})",
                                network=network, cidr=sn.get("cidr"), routes=", ".join(
                                    f"{r.get('destination')} via {r.get('nexthop')}" for r in sn["host_routes"])))
    return problems


class CloudError(GovcloudError):
    """A cloud call failed; ``kind`` says what a person can do about it: quota | no_valid_host |
    missing_image | missing_flavor | missing_network | timeout | api | auth | unreachable."""

    def __init__(self, *args: str, kind: str | None = None, hint: str | None = None) -> None:
        # CloudError(message, kind=…, hint=…); the positional CloudError(kind, message) of the
        # test doubles works too
        if kind is None:
            kind, message = args
        else:
            (message,) = args
        super().__init__(message, hint=hint)
        self.kind = kind
        self.removed_server: dict[str, str] | None = None   # a server in ERROR that ensure_server removed


@dataclass
class Snapshot:
    """What the cloud holds that a plan cares about, read in one pass (the dry run's view)."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)      # name → {id, vcpus, ram_mb, disk}
    images: dict[str, dict[str, Any]] = field(default_factory=dict)       # name → {id, status}
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)     # name → {id, cidrs, external}
    keypairs: dict[str, str] = field(default_factory=dict)                # name → fingerprint
    servers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)   # (system, server) → info
    security_groups: dict[str, dict[str, Any]] = field(default_factory=dict)       # name → {id, rules}
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)      # name → {id, status, attached_to}
    floating_ips: dict[str, dict[str, Any]] = field(default_factory=dict)  # "system/server" label → {id, address}
    limits: dict[str, int] = field(default_factory=dict)


class Ensured(NamedTuple):
    """What an ``ensure_*`` did: the resource as the cloud has it now ({id, name, …}) and the
    action — ``created``, ``kept`` (it existed: adopted or unchanged) or ``changed`` (it existed
    and was brought to what was asked: rules rewritten, a volume attached)."""

    resource: dict[str, Any]
    action: str


# A security-group rule as both sides compare it: (direction, protocol, port min, port max,
# remote prefix, remote is the group itself).
RuleKey = tuple[str | None, str | None, int | None, int | None, str | None, bool]


@runtime_checkable
class CloudPort(Protocol):
    """One connected cloud project (not shared between threads)."""

    def snapshot(self, plan_id: str, *, with_catalogue: bool = True) -> Snapshot: ...

    def network_cidrs(self) -> dict[str, list[str]]: ...

    def ensure_keypair(self, name: str, public_key: str) -> Ensured: ...

    def ensure_network(self, name: str, cidr: str | None, tags: list[str]) -> Ensured: ...

    def ensure_security_group(self, name: str, rules: list[dict[str, Any]], tags: list[str],
                              description: str) -> Ensured: ...

    def isolation_problems(self, network: str) -> list[str]:
        """Why ``network`` is NOT isolated (``[]``: it is): it is missing, external
        (``router:external``), a router has a port on it (interface, gateway, HA/DVR), or a subnet
        has a gateway_ip or host routes. Each problem a ``Msg`` naming the network."""
        ...

    def find_server(self, plan_id: str, system: str, server: str) -> dict[str, Any] | None:
        """The real target of (plan, system, server), never a rehearsal's clone."""
        ...

    def ensure_server(self, *, plan_id: str, system: str, server: str, name: str, flavor: str, image: str,
                      network: str, keypair: str, security_group: str, availability_zone: str | None = None,
                      timeout: float = 600.0, rehearsal: str | None = None) -> Ensured:
        """The server for (plan, system, server); with ``rehearsal`` a CLONE of it for that rehearsal
        (tags + ``gc-reh=<id>``, metadata ``govcloud:rehearsal``), found again only as that clone and
        invisible to ``find_server``, ``find_system_resources``, ``system_servers`` and the snapshot."""
        ...

    def ensure_volume(self, *, plan_id: str, system: str, name: str, size_gb: int, server_id: str,
                      timeout: float = 300.0, rehearsal: str | None = None) -> Ensured: ...

    def ensure_floating_ip(self, *, plan_id: str, server_id: str, external_network: str,
                           label: str) -> Ensured: ...

    def host_key_of(self, server_id: str) -> str | None: ...

    def find_system_resources(self, plan_id: str, system: str) -> dict[str, dict[str, Any]]:
        """What the cloud holds for (plan, system), by tags and metadata; rehearsal resources excluded."""
        ...

    def find_rehearsal_resources(self, plan_id: str, system: str | None = None) -> dict[str, dict[str, Any]]:
        """Every resource of a rehearsal of the plan (of ``system``): clones (servers, volumes) and
        anything tagged ``gc-reh=``, found by tags and metadata alone (a SIGKILLed rehearsal leaks
        nothing), as key → {kind, id, name, rehearsal, system}; ``delete_resources`` removes them."""
        ...

    def system_servers(self, system: str) -> list[dict[str, Any]]:
        """Every server of the system in this project, whatever its plan (tag ``gc-sys=`` and
        metadata), as ``{id, name, plan, server}``: a source's server belongs to one plan, so a
        run refuses to create one another plan already holds for the same source."""
        ...

    def delete_resources(self, resources: dict[str, dict[str, Any]],
                         on_removed: Callable[[str], None] | None = None, timeout: float = 300.0) -> list[str]: ...


CloudConnector = Callable[[str], CloudPort]      # clouds.yaml entry → a connected CloudPort


@dataclass
class PlaybookRun:
    """What one playbook run did (ansible-runner's stats and events, reduced)."""

    rc: int
    status: str                                  # successful / failed / timeout / canceled
    stats: dict[str, dict[str, int]]             # ok/changed/failures/dark/skipped → host → count
    changed_tasks: dict[str, list[str]] = field(default_factory=dict)   # host → task names that changed
    failed_tasks: dict[str, list[str]] = field(default_factory=dict)    # host → "task: msg"
    messages: dict[str, list[str]] = field(default_factory=dict)        # host → debug messages (role reports)
    artifact_dir: str = ""
    node: dict[str, Any] | None = None          # run on an execution node: its id, address, stream bytes

    def changed(self, host: str | None = None) -> int:
        c = self.stats.get("changed", {})
        return c.get(host, 0) if host else sum(c.values())

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.status == "successful"


@dataclass(frozen=True)
class ExecNode:
    """An execution node as a run uses it (from the inventory's ``execution_nodes``): the
    ``PlaybookPort`` runs a system's playbooks there (drivers/execnode.py)."""

    id: str
    address: str
    user: str
    known_hosts: Path             # a file holding the node's host key (checked strictly)
    port: int = 22
    runner: str = "/opt/govcloud-node/bin/ansible-runner"
    work_dir: str = "/var/tmp/govcloud-node"

    @property
    def bin_dir(self) -> str:
        return str(Path(self.runner).parent)


@dataclass(frozen=True)
class Reaped:
    """A process an earlier killed run of the plan left behind, ended at the start of this one."""

    pid: int
    name: str
    of_run: str


@runtime_checkable
class PlaybookPort(Protocol):
    def guard(self, plan_dir: Path, run_id: str) -> AbstractContextManager[list[Reaped]]:
        """Everything the run starts (agent, playbooks, their ssh/rsync) ends with it, even on
        SIGKILL; yields what an earlier killed run of the plan left and was ended now."""
        ...

    def agent(self, key: Path | None) -> AbstractContextManager[str]:
        """An ssh-agent holding ``key`` for the run's playbooks (SSH_AUTH_SOCK)."""
        ...

    def process_start(self) -> int | None:
        """This process's start time (with the pid, it names this process uniquely)."""
        ...

    def run(self, playbook: Path, inventory: dict[str, Any], *, private_data_dir: Path, limit: str | None,
            extravars: dict[str, Any], check: bool, timeout: int, forks: int,
            envvars: dict[str, str], on_task: Callable[[str, str], None] | None = None) -> PlaybookRun:
        """Write ``inventory`` (every string data, never a template) into ``private_data_dir``
        and run ``playbook`` with it; ``check`` runs ``--check --diff``. ``on_task(host, task)`` is
        called as each task starts on a host (progress)."""
        ...

    def public_key(self, key: Path) -> str: ...


@runtime_checkable
class HostProbe(Protocol):
    def wait_ssh(self, address: str, port: int = 22, timeout: float = 120.0) -> bool: ...

    def http_status(self, url: str, timeout: float = 5.0) -> int: ...
