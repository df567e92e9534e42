"""`migrate rehearse` (pure parts): what a rehearsal of a synced system creates and checks.

A rehearsal clones each synced target onto the zone's isolated ``rehearsal_network`` (no router, no
gateway: the clone reaches nothing; the control node reaches it over SSH), seeds the clone from the
SYNCED TARGET — which plays the ``source`` role, read-only — with the migration's own playbooks
(configure, sync through the control node's tunnel, databases by dump only, a separate state
directory so the target's own bookkeeping is never touched), starts the services on the clone and
runs the verify checks against the synced target. The clones are tagged with the rehearsal id and
removed by that tag. The executor (``Executor.rehearse``) carries it out; the dry run shows the same
:class:`RehearsalSpec` the run then follows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.migrate import desired as D

# where the playbooks keep a rehearsal's bookkeeping on the clone (and would on the synced target):
# never the migration's own govcloud_state_dir (its cutover marker, recorded counts, replication state)
STATE_ROOT = "/var/lib/govcloud/rehearse"
# the phases a rehearsal times (journaled as ``timings``)
PHASES = ("provision_s", "seed_s", "start_s", "verify_s", "total_s")


def new_id() -> str:
    """A rehearsal id: sortable by time, unique, a valid id (run directories, tags)."""
    return "rh-" + datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def clone_name(target_name: str) -> str:
    """The clone's Nova name: the target's name with ``-rh``."""
    return f"{target_name}-rh"


def state_dir(rid: str) -> str:
    return f"{STATE_ROOT}/{rid}"


@dataclass
class Clone:
    source: str                 # the source server id the target (and the clone) stand for
    target_name: str            # the synced target's Nova name
    target_address: str | None  # the synced target's address (the clone's data comes from there)
    name: str                   # the clone's Nova name
    flavor: str | None
    image: str | None

    def to_plain(self) -> dict[str, Any]:
        return {"source": self.source, "target": self.target_name, "target_address": self.target_address,
                "clone": self.name, "flavor": self.flavor, "image": self.image}


@dataclass
class RehearsalSpec:
    """One system's rehearsal as derived from the plan, the journal and the cloud now: what the dry
    run shows and what the run carries out (``problems``: why it is refused; nothing is created)."""

    system: str
    state: str
    network: str | None
    security_group: str
    keypair: str
    clones: list[Clone]
    playbooks: list[str]
    checks: list[str]
    leftovers: dict[str, dict[str, Any]] = field(default_factory=dict)   # earlier rehearsals' resources
    problems: list[Any] = field(default_factory=list)

    def to_plain(self) -> dict[str, Any]:
        return {"system": self.system, "state": self.state, "network": self.network,
                "security_group": self.security_group, "keypair": self.keypair,
                "clones": [c.to_plain() for c in self.clones], "playbooks": list(self.playbooks),
                "checks": list(self.checks),
                "leftovers": [{"key": k, **{x: v.get(x) for x in ("kind", "id", "name", "rehearsal")}}
                              for k, v in sorted(self.leftovers.items())],
                "problems": [str(p) for p in self.problems]}


# the playbooks a rehearsal runs, in order (on the clone as ``target``, the synced target as ``source``)
PLAYBOOKS = ("migrate_configure.yml", "migrate_sync.yml", "migrate_rehearse_start.yml", "migrate_verify.yml")


def checks_of(t: D.SystemTarget) -> list[str]:
    """The verify checks the clone must pass, in words (journaled with the rehearsal)."""
    wl = t.workload
    out = [f"tree {p}" for p in (wl.data_paths if wl else ())]
    for s in (wl.services if wl else ()):
        if s.port:
            out.append(f"port {s.name}:{s.port}")
            if s.health_path:
                out.append(f"health http://127.0.0.1:{s.port}{s.health_path}")
    out += [f"row counts {d.engine.value}/{d.name}" for d in (wl.databases if wl else ())]
    return out


def seed_view(t: D.SystemTarget, target_addresses: dict[str, str], target_names: dict[str, str]) -> D.SystemTarget:
    """The system as the rehearsal's playbooks see it: each server's ``source`` is the SYNCED TARGET
    (its address), no clients (no record is read or switched)."""
    servers = [replace(s, source_address=target_addresses.get(s.source), source_hostname=target_names.get(s.source))
               for s in t.servers]
    return replace(t, servers=servers, client_addresses={})


def extravars(rid: str) -> dict[str, Any]:
    """What every rehearsal playbook receives on top of the system's extravars: the tunnel route (the
    clone has no route to anything), no replication (databases by dump from the synced target, never a
    subscription or a replica of it), a separate state directory, no record."""
    return {"govcloud_sync_route": "tunnel", "govcloud_replication": "off", "govcloud_rehearsal": rid,
            "govcloud_state_dir": state_dir(rid), "govcloud_verify_record": False,
            "govcloud_sync_mode": "initial"}


def projected_window(projection: dict[str, Any], start_s: float, verify_s: float) -> float:
    """The cutover window the rehearsal predicts: the existing projection of the final sync
    (executor.project_downtime) with its fixed service stop/start replaced by the start and the
    verification the rehearsal measured."""
    total = float(projection.get("total_s") or 0.0)
    fixed = float(projection.get("service_stop_start_s") or 0.0)
    return round(max(0.0, total - fixed) + start_s + verify_s, 1)


def refusal(system: str, why: Any) -> Msg:
    return Msg("{system}: cannot rehearse: {why}", system=system, why=why)
