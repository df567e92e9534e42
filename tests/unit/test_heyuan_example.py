"""The committed Heyuan example (inventories/heyuan) against DOMAIN.md §2.1 and §6."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from govcloud.inventory.heyuan import AS_OF, build_heyuan, write_heyuan
from govcloud.inventory.heyuan_data import BATCHES
from govcloud.inventory.validate import validate_path
from govcloud.model.enums import (
    BuildMode, CpuArch, DepType, Lifecycle, NetworkZone, OrgType, OsDistribution, Secrecy,
)

ROOT = Path(__file__).resolve().parents[2] / "inventories" / "heyuan"


@pytest.fixture(scope="module")
def result():
    return validate_path(ROOT)


@pytest.fixture(scope="module")
def inv(result):
    return result.inventory


def test_validates_with_only_the_intentional_warning(result):
    assert result.errors == []
    assert [p.code for p in result.problems] == ["declared-count-mismatch"]
    assert "T3" in result.problems[0].message


def test_meta(inv):
    assert inv.meta.as_of == date(2018, 11, 11)
    assert inv.meta.default_policy == "heyuan-2018"
    assert inv.meta.source == "河府办〔2018〕49号"
    assert inv.regions["441600"].name == "河源市"
    assert {c for c, r in inv.regions.items() if r.parent == "441600"} == {
        "441602", "441625", "441624", "441622", "441621", "441623"}


def test_the_40_batch_departments_with_their_2018_names(inv):
    policy = inv.policy()
    takeover = {b.id: b for b in policy.batches if b.kind.value == "takeover"}
    assert sorted(takeover) == ["T0", "T1", "T2", "T3"]
    listed = []
    for n, names in BATCHES.items():
        batch = takeover[f"T{n}"]
        assert len(batch.scope_orgs) == len(names)
        for name, oid in zip(names, batch.scope_orgs):
            org = inv.organizations[oid]
            assert name in (org.name, org.short_name, *org.aliases), (name, org)
            listed.append(oid)
    assert len(set(listed)) == 40
    assert BATCHES[1][1] == "卫计局" and BATCHES[2][4] == "住房城乡规划建设局" and BATCHES[3][-1] == "税务局"


def test_batch_deadlines_and_declared_counts(inv):
    batches = {b.id: b for b in inv.policy().batches}
    assert [batches[f"T{i}"].deadline for i in range(4)] == [
        date(2018, 12, 31), date(2019, 3, 31), date(2019, 6, 30), date(2019, 12, 31)]
    assert [batches[f"T{i}"].declared_count for i in range(4)] == [2, 9, 21, 10]
    assert len(batches["T3"].scope_orgs) == 8
    assert batches["M1"].deadline == date(2019, 12, 31) and batches["M1"].scope_systems
    assert batches["M2"].deadline == date(2020, 12, 31) and len(batches["M2"].scope_orgs) > 40
    assert inv.policy().final_deadline == date(2020, 12, 31)
    assert inv.policy().thresholds.no_new_machine_room_after == date(2018, 11, 11)


def test_m1_is_extranet_systems_in_the_information_centre_room(inv):
    m1 = next(b for b in inv.policy().batches if b.id == "M1")
    for sid in m1.scope_systems:
        s = inv.systems[sid]
        assert s.network_zone is NetworkZone.gov_extranet
        assert {inv.servers[x].machine_room for x in s.servers} == {"room-xxzx"}


def test_about_110_municipal_units(inv):
    units = [o for o in inv.organizations.values() if o.region == "441600"
             and (o.established is None or o.established <= AS_OF)]
    assert 105 <= len(units) <= 115


def test_sizes(inv):
    assert 300 <= len(inv.systems) <= 600
    assert 1000 <= len(inv.servers) <= 3000


def test_every_rule_is_represented(inv):
    systems = list(inv.systems.values())
    classified = [s for s in systems if s.secrecy is Secrecy.classified]
    assert classified and all(s.network_zone is NetworkZone.gov_intranet and s.secrecy_grade and s.fenbao_status
                              for s in classified)
    assert any(z.accepts_classified and z.network_zone is NetworkZone.gov_intranet for z in inv.cloud_zones.values())
    assert any(s.build_mode is BuildMode.national_vertical for s in systems)
    assert any(s.build_mode is BuildMode.provincial_vertical for s in systems)
    assert any(s.build_mode.is_vertical and s.superior_approval for s in systems)
    assert any(s.lifecycle is Lifecycle.zombie and s.zombie_criteria for s in systems)
    assert any(len(db.used_by) >= 2 for db in inv.databases.values())
    assert any(d.type is DepType.sync_api and d.latency_sensitive for d in inv.dependencies)
    assert {2, 3, 4} <= {s.mlps_level for s in systems}
    assert any(z.mlps_level == 4 and z.dedicated_pool for z in inv.cloud_zones.values())
    assert any(s.os_distribution is OsDistribution.centos and s.os_version.startswith(("6", "7"))
               for s in inv.servers.values())
    assert any(s.cpu_arch is CpuArch.ppc64 and s.os_distribution is OsDistribution.aix for s in inv.servers.values())
    assert any(z.cpu_arch is CpuArch.aarch64 and z.is_xinchuang and z.capacity.vcpus > 0
               for z in inv.cloud_zones.values())
    assert inv.freeze_windows
    assert any(s.network_zone is NetworkZone.dedicated_net and s.owner_org == "gonganju" for s in systems)
    assert any(s.covered_by_platform == "省网站集约化平台" for s in systems)
    assert any(t.status.value == "taken_over" for t in inv.takeovers.values())
    assert any(t.status.value == "not_started" for t in inv.takeovers.values())
    assert len(inv.resources) >= 400 and all(r.related_systems for r in inv.resources.values()
                                             if r.provider_org == "weijiju")


def test_room_after_the_ban_has_an_exemption(inv):
    late = [r for r in inv.machine_rooms.values() if r.built_on and r.built_on > date(2018, 11, 11)]
    assert late and all(r.secrecy_exemption and r.secrecy_exemption.approved for r in late)


def test_cloud_capacity_fits_the_estate(inv):
    vcpus = sum(s.cores for s in inv.servers.values())
    assert sum(z.capacity.vcpus for z in inv.cloud_zones.values()) >= vcpus


def test_2018_names_resolve_and_follow_successors(inv):
    def one(name):
        ids, how = inv.resolve_org(name)
        assert len(ids) == 1, (name, ids)
        return ids[0]

    assert inv.organizations[one("卫计局")].name == "河源市卫生和计划生育局"
    assert [inv.organizations[i].name for i in inv.current_orgs(one("卫计局"))] == ["河源市卫生健康局"]
    assert [inv.organizations[i].name for i in inv.current_orgs(one("国土资源局"))] == ["河源市自然资源局"]
    assert [inv.organizations[i].name for i in inv.current_orgs(one("工商局"))] == ["河源市市场监督管理局"]
    assert one("住房城乡建设规划局") == one("住房城乡规划建设局")
    for oid in ("weijiju", "guotuju", "gongshangju"):
        old = inv.organizations[oid]
        assert old.abolished and old.abolished > AS_OF
        for new in old.successors:
            assert oid in inv.organizations[new].predecessors
            assert inv.organizations[new].established.year in (2018, 2019)
    assert inv.organizations[one("税务局")].org_type is OrgType.vertical_managed


def test_regenerating_gives_the_committed_files(tmp_path):
    write_heyuan(tmp_path)
    committed = sorted(p.relative_to(ROOT) for p in ROOT.rglob("*.yaml"))
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.yaml"))
    assert fresh == committed
    for rel in committed:
        assert (tmp_path / rel).read_bytes() == (ROOT / rel).read_bytes(), rel


def test_build_is_deterministic():
    a, b = build_heyuan(), build_heyuan()
    assert list(a.systems) == list(b.systems)
    assert a.servers == b.servers
