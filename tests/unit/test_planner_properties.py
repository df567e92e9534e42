"""Property: whatever the inventory, the planner's plan passes the independent validator
and lists every system exactly once (DOMAIN.md §5.1, H-ONE-1).

Inventories come from the synthetic generator at city scale, shrunk (one city, a dozen
departments, at most one county) so an example plans in well under a second; hypothesis
chooses the seed, the generator's attribute mixes (classified, zombie, vertical approval,
shared databases, dependencies …) and then squeezes the cloud's capacity, the team's
throughput and the batch length. Derandomized and database-free, so CI sees the same
examples every run.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from govcloud.inventory.generate import generate_inventory
from govcloud.model.entities import CapacityExpansion
from govcloud.model.enums import CpuArch
from govcloud.model.oslife import os_eol_date
from govcloud.planning.planner import build_plan
from govcloud.planning.rules import check_plan, format_violation

share = st.floats(min_value=0.0, max_value=0.5, allow_nan=False)

generator_knobs = st.fixed_dictionaries({
    "city_units": st.integers(6, 16).map(lambda n: (n, n)),
    "counties_per_city": st.integers(0, 1).map(lambda n: (n, n)),
    "resources_per_org": st.just((0, 0)),
    "resource_items": st.just(False),
    "classified_share": share,
    "zombie_share": share,
    "building_share": st.floats(0.0, 0.2),
    "ungraded_share": share,
    "vertical_approval_share": st.floats(0.0, 1.0),
    "shared_db_group_share": st.floats(0.0, 0.6),
    "db_cohost_share": st.floats(0.0, 0.4),
    "dependency_mean": st.floats(0.0, 4.0),
    "latency_sensitive_share": st.floats(0.0, 1.0),
    "unified_share": share,
})

squeeze = st.fixed_dictionaries({
    "capacity": st.sampled_from([0.05, 0.2, 0.5, 1.0, 2.0]),   # of the generated cloud's capacity
    "servers_per_week": st.sampled_from([1, 3, 10, 40, 200]),
    "pilot_max_servers": st.sampled_from([1, 5, 20, 60]),
    "batch_weeks": st.integers(1, 6),
    "eol_os_blocking": st.booleans(),
    "prefer_domestic": st.booleans(),
    "drop_intranet": st.booleans(),                            # no zone accepts classified systems
    "expansion": st.sampled_from([None, 60, 200]),              # days after the start a zone doubles
    "xinchuang_share": st.sampled_from([0, 30, 100]),           # % of adapted x86 systems sent to 信创
    "lease_days": st.sampled_from([None, 90, 400]),             # rooms whose lease ends this many days in
})


def _inventory(seed: int, knobs: dict, sq: dict):
    inv = generate_inventory("city", seed, **knobs)
    for z in list(inv.cloud_zones.values()):
        if sq["drop_intranet"] and z.accepts_classified:
            del inv.cloud_zones[z.id]
            continue
        z.capacity.vcpus = int(z.capacity.vcpus * sq["capacity"])
        z.capacity.ram_gb = z.capacity.ram_gb * sq["capacity"]
        z.capacity.storage_gb = z.capacity.storage_gb * sq["capacity"]
    policy = inv.policies["synthetic"]
    start = policy.start or (inv.meta.as_of if inv.meta else None) or date(2019, 1, 1)
    if sq["expansion"] is not None:
        for z in inv.cloud_zones.values():
            z.expansions = (CapacityExpansion(start + timedelta(days=sq["expansion"]), z.capacity.vcpus,
                                              z.capacity.ram_gb, z.capacity.storage_gb),)
    if sq["lease_days"] is not None:
        for n, room in enumerate(sorted(inv.machine_rooms.values(), key=lambda r: r.id)):
            if n % 3 == 0:
                room.lease_expiry = start + timedelta(days=sq["lease_days"])
    policy.thresholds.xinchuang_share_pct = sq["xinchuang_share"]
    t = policy.thresholds
    t.servers_per_week, t.pilot_max_servers = sq["servers_per_week"], sq["pilot_max_servers"]
    t.eol_os_blocking, t.prefer_domestic = sq["eol_os_blocking"], sq["prefer_domestic"]
    return inv, policy


# no explain phase: it would write patch files into .hypothesis/ on failure
@settings(max_examples=40, deadline=None, derandomize=True, database=None, print_blob=True,
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.integers(0, 10_000), knobs=generator_knobs, sq=squeeze)
def test_random_inventories_never_yield_a_violating_plan(seed, knobs, sq):
    inv, policy = _inventory(seed, knobs, sq)
    plan = build_plan(inv, policy, plan_id="prop", inventory_ref="inv", inputs_digest="sha256:prop",
                      batch_weeks=sq["batch_weeks"])
    found = [format_violation(v) for v in check_plan(plan, inv)]
    assert found == [], found[:5]

    listed = [i.system for i in plan.items()] + [r.system for r in plan.retained] + \
        [u.system for u in plan.unscheduled]
    assert sorted(listed) == sorted(inv.systems)

    # throughput: the pilot holds at most pilot_max_servers placements, any batch at most a
    # batch's worth; every cutover is a Saturday inside its batch
    per_batch = sq["servers_per_week"] * sq["batch_weeks"]
    for b in plan.batches:
        assert b.servers <= per_batch
        if b.pilot:
            assert b.servers <= sq["pilot_max_servers"]
        for i in b.items:
            assert b.start <= i.cutover <= b.end and i.cutover.weekday() == 5
    # nothing is placed on a zone beyond its capacity, summed over the whole plan
    for zid, z in inv.cloud_zones.items():
        used = sum(p.vcpus for i in plan.items() if i.target_zone == zid for p in i.servers)
        assert z.capacity.vcpus == 0 or used <= z.capacity.vcpus + sum(e.vcpus for e in z.expansions)
    # an x86 server lands on another architecture only by a 信创 decision or with a mixed system
    for i in plan.items():
        z = inv.cloud_zones.get(i.target_zone) if i.target_zone else None
        if z is None or z.cpu_arch is CpuArch.x86_64:
            continue
        arches = {inv.servers[p.server].cpu_arch for p in i.servers}
        if CpuArch.x86_64 in arches:
            why = " ".join(r for lines in i.reasons.values() for r in lines)
            assert "XC." in why or "H-ARCH.mixed" in why or "H-ARCH-2" in why, (i.system, why)
    # the pilot is low-risk
    horizon = policy.final_deadline or plan.start
    for b in plan.batches:
        if not b.pilot:
            continue
        for i in b.items:
            s = inv.systems[i.system]
            assert not s.is_classified and (s.mlps_level or 0) < 4, i.system
            for x in (inv.servers[k] for k in s.servers if k in inv.servers):
                assert not x.cpu_arch.is_minicomputer and x.kind.value != "minicomputer", i.system
                e = os_eol_date(x.os_distribution, x.os_version)
                assert e is None or e > horizon, i.system
    # no cutover after the final deadline
    final = policy.final_deadline or date.max
    assert all(i.cutover <= final for i in plan.items())
