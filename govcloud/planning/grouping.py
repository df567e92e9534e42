"""Move groups (迁移组): systems that must cut over together (DOMAIN.md §5.1 H-DEP-1/2).

Systems that share a database instance, share a server, call each other through a
latency-sensitive link or a shared-DB dependency, or were put in one group by a
person, move together — unless a bridge (replication/sync link) is declared on the
dependency. Mutual synchronous calls (a cycle) also force one group, since neither
side could otherwise move first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govcloud.model.enums import DepType
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Why


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller id wins, so group ids do not depend on input order
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


@dataclass
class Coupling:
    """Systems that must move together (a shared database or server has many users)."""

    members: tuple[str, ...]
    why: object                          # a coded reason (model.plan.Why)


@dataclass
class Grouping:
    group_of: dict[str, str] = field(default_factory=dict)        # system → group id
    members: dict[str, list[str]] = field(default_factory=dict)   # group id → systems (sorted)
    couplings: list[Coupling] = field(default_factory=list)       # every coupling used, for explanations
    couplings_of: dict[str, list[Coupling]] = field(default_factory=dict)  # system → its couplings


def couplings(inv: Inventory) -> list[Coupling]:
    out: list[Coupling] = []

    def add(members: list[str], why: object) -> None:
        members = sorted(set(m for m in members if m in inv.systems))
        if len(members) > 1:
            out.append(Coupling(tuple(members), why))

    for db in inv.databases.values():
        add(list(db.used_by), Why("CPL.db", db=db.id, engine=db.engine.value))
    for server, systems in inv.server_systems.items():
        add(systems, Why("CPL.server", server=server))
    for dep in inv.dependencies:
        if dep.bridge or dep.from_ == dep.to:
            continue
        if dep.latency_sensitive:
            add([dep.from_, dep.to], Why("CPL.latency", type=dep.type.value))
        elif dep.type is DepType.shared_db:
            add([dep.from_, dep.to], Why("CPL.shared_db"))
    manual: dict[str, list[str]] = {}
    for s in inv.systems.values():
        if s.move_group:
            manual.setdefault(s.move_group, []).append(s.id)
    for name, ids in sorted(manual.items()):
        add(ids, Why("CPL.manual", name=name))
    return out


def sync_cycles(inv: Inventory, systems: set[str], node_of=None) -> list[list[str]]:
    """Strongly connected components (size > 1) of unbridged synchronous calls among ``systems``,
    between the nodes ``node_of`` maps systems to (default: the systems themselves)."""
    graph: dict[str, list[str]] = {}
    for dep in inv.dependencies:
        if dep.type is DepType.sync_api and not dep.bridge and dep.from_ in systems and dep.to in systems:
            a, b = (node_of(dep.from_), node_of(dep.to)) if node_of else (dep.from_, dep.to)
            if a != b:
                graph.setdefault(a, []).append(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        # iterative Tarjan: recursion would overflow on a national inventory
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.append(x)
                    if x == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def group(inv: Inventory, systems: set[str], edges: list[Coupling]) -> Grouping:
    """Groups among ``systems`` (the movers); edges to other systems are handled by the caller."""
    uf = _UnionFind()
    used: list[Coupling] = []
    for e in edges:
        # union the movers among the members, even when the member that links them does not move
        moving = [m for m in e.members if m in systems]
        for other in moving[1:]:
            uf.union(moving[0], other)
        if len(moving) > 1:
            used.append(e)
    # on the groups, not the systems: A→B with B grouped with C and C→A is a cycle too
    for comp in sync_cycles(inv, systems, uf.find):
        for other in comp[1:]:
            uf.union(comp[0], other)
        used.append(Coupling(tuple(comp), Why("CPL.cycle")))
    g = Grouping(couplings=used)
    for c in used:
        for m in c.members:
            g.couplings_of.setdefault(m, []).append(c)
    for s in sorted(systems):
        root = uf.find(s)
        gid = f"mg-{root}"
        g.group_of[s] = gid
        g.members.setdefault(gid, []).append(s)
    return g
