"""The in-memory inventory: entities by id plus the indexes every consumer needs. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from govcloud.model.entities import (
    SECTIONS, CloudPlatform, CloudZone, DatabaseInstance, Dependency, ExecutionNode, FreezeWindow,
    InformationResource, InformationSystem, InventoryMeta, MachineRoom, Observation, Organization,
    Policy, Region, Server, TakeoverRecord,
)

FORMAT_VERSION = 1


@dataclass
class Inventory:
    meta: InventoryMeta | None = None
    regions: dict[str, Region] = field(default_factory=dict)
    organizations: dict[str, Organization] = field(default_factory=dict)
    machine_rooms: dict[str, MachineRoom] = field(default_factory=dict)
    servers: dict[str, Server] = field(default_factory=dict)
    systems: dict[str, InformationSystem] = field(default_factory=dict)
    databases: dict[str, DatabaseInstance] = field(default_factory=dict)
    dependencies: list[Dependency] = field(default_factory=list)
    resources: dict[str, InformationResource] = field(default_factory=dict)
    cloud_platforms: dict[str, CloudPlatform] = field(default_factory=dict)
    cloud_zones: dict[str, CloudZone] = field(default_factory=dict)
    execution_nodes: dict[str, ExecutionNode] = field(default_factory=dict)
    takeovers: dict[str, TakeoverRecord] = field(default_factory=dict)
    freeze_windows: dict[str, FreezeWindow] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    observations: list[Observation] = field(default_factory=list)
    # (section key, id) → (file relative to the inventory root, index in that file's list)
    origin: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict, repr=False)
    _server_systems: dict[str, list[str]] | None = field(default=None, repr=False)
    _org_names: dict[str, list[str]] | None = field(default=None, repr=False)

    def section(self, key: str) -> dict | list:
        return getattr(self, key)

    def counts(self) -> dict[str, int]:
        return {s.key: len(self.section(s.key)) for s in SECTIONS}

    # ------------------------------------------------------------ servers ↔ systems

    @property
    def server_systems(self) -> dict[str, list[str]]:
        """Server id → the systems that run on it (the M:N link is stored on systems)."""
        if self._server_systems is None:
            index: dict[str, list[str]] = {}
            for sys_id, system in self.systems.items():
                for srv in system.servers:
                    index.setdefault(srv, []).append(sys_id)
            self._server_systems = index
        return self._server_systems

    # ------------------------------------------------------------ organisations

    @property
    def org_names(self) -> dict[str, list[str]]:
        """Full name, short name and alias → organisation ids (several ids = ambiguous)."""
        if self._org_names is None:
            names: dict[str, list[str]] = {}
            for org in self.organizations.values():
                for name in (org.name, org.short_name, *org.aliases):
                    if name:
                        ids = names.setdefault(name, [])
                        if org.id not in ids:
                            ids.append(org.id)
            self._org_names = names
        return self._org_names

    def resolve_org(self, ref: str) -> tuple[list[str], str]:
        """Ids an organisation reference denotes, and how: "id", "name" or "none".

        Pre-reform names (卫计局, 国土资源局, 工商局 …) are aliases of the
        organisation records that carry them, so policy documents written with
        2018 names still resolve.
        """
        if ref in self.organizations:
            return [ref], "id"
        ids = self.org_names.get(ref)
        if ids:
            return list(ids), "name"
        return [], "none"

    def org_id(self, ref: str | None) -> str | None:
        """The one organisation ``ref`` denotes, or None when unknown or ambiguous."""
        if ref is None:
            return None
        ids, _ = self.resolve_org(ref)
        return ids[0] if len(ids) == 1 else None

    def current_orgs(self, org_id: str) -> list[str]:
        """The organisations that carry ``org_id``'s work today, following successors."""
        seen: set[str] = set()
        frontier = [org_id]
        current: list[str] = []
        while frontier:
            oid = frontier.pop(0)
            if oid in seen:
                continue
            seen.add(oid)
            org = self.organizations.get(oid)
            succ = [s for s in (org.successors if org else ()) if s in self.organizations]
            if succ:
                frontier.extend(succ)
            else:
                current.append(oid)
        return current

    # ------------------------------------------------------------ policies

    def policy(self, policy_id: str | None = None) -> Policy | None:
        if policy_id is None and self.meta is not None:
            policy_id = self.meta.default_policy
        if policy_id is None:
            return next(iter(self.policies.values()), None) if len(self.policies) == 1 else None
        return self.policies.get(policy_id)

    def systems_of_org(self, org_id: str) -> Iterator[InformationSystem]:
        return (s for s in self.systems.values() if s.owner_org == org_id)
