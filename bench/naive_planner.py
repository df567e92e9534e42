"""The baseline for bench_plan.py: a wave planner without the domain's rules.

Whole departments in policy order fill waves of a fixed size; every system is
rehosted onto the first zone on its network with the smallest flavor that fits (or
the largest one), cutting over on the last day of its wave. No move groups, no
capacity, takeover, freeze, deadline, classification or vertical awareness — which
is what generic wave planners do. Its plan is scored by the same validator.
"""

from __future__ import annotations

from datetime import timedelta

from govcloud.model.entities import Policy
from govcloud.model.enums import NetworkZone, Strategy
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan, PlanBatch, PlanItem, ServerPlacement


def naive_plan(inv: Inventory, policy: Policy, wave_size: int = 300) -> Plan:
    start = policy.start or (inv.meta.as_of if inv.meta else None)
    order = [o for b in policy.batches for o in b.scope_orgs]
    seen = set(order)
    order += sorted(o for o in inv.organizations if o not in seen)
    rank = {o: i for i, o in enumerate(order)}
    systems = sorted(inv.systems.values(), key=lambda s: (rank.get(s.owner_org, len(rank)), s.id))
    zones = list(inv.cloud_zones.values())
    plan = Plan(plan_id="naive", inventory="", inventory_name="", policy=policy.id, inputs_digest="",
                generator="naive", start=start)
    for n in range(0, len(systems), wave_size):
        wave_start = start + timedelta(weeks=4 * len(plan.batches))
        batch = PlanBatch(id=f"W{len(plan.batches):02d}", name=f"wave {len(plan.batches)}", start=wave_start,
                          end=wave_start + timedelta(days=27), deadline=None, policy_batch=None, pilot=False)
        for s in systems[n:n + wave_size]:
            net = s.network_zone if s.network_zone is not NetworkZone.dedicated_net else NetworkZone.gov_extranet
            zone = next((z for z in zones if z.network_zone is net), zones[0])
            placements = []
            for sid in s.servers:
                srv = inv.servers.get(sid)
                if srv is None:
                    continue
                flavor = min((f for f in zone.flavors if f.vcpus >= srv.cores and f.ram_gb >= srv.ram_gb),
                             key=lambda f: (f.vcpus, f.ram_gb), default=max(zone.flavors, key=lambda f: f.vcpus))
                placements.append(ServerPlacement(sid, flavor.name, flavor.vcpus, flavor.ram_gb, srv.disk_gb,
                                                  f"import:{srv.os_distribution.value}", "declared"))
            batch.items.append(PlanItem(s.id, s.name, s.owner_org, Strategy.rehost, f"mg-{s.id}", zone.id,
                                        tuple(placements), cutover=batch.end))
        plan.batches.append(batch)
    return plan
