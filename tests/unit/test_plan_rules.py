"""The plan validator (govcloud/planning/rules.py): a valid hand-built plan, then one
broken example per hard rule, each naming the exact rule and system it must trip.

The plan is built by hand from the data model, never by the planner: the validator
must catch a hand-edited plan independently of how plans are made.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from govcloud.inventory.validate import validate_path
from govcloud.model.entities import Approval, Batch, TakeoverRecord
from govcloud.model.enums import (
    BatchKind, CpuArch, DrMode, ExtranetArea, FenbaoStatus, Lifecycle, NetworkZone, Strategy, TakeoverStatus,
    XinchuangStatus,
)
from govcloud.model.plan import (
    REQ_FENBAO, REQ_MLPS_ASSESSMENT, REQ_OS_MIGRATION, REQ_REBUILD, REQ_SUPERIOR_APPROVAL, Plan, PlanBatch,
    PlanItem, Retained, ServerPlacement, Unscheduled,
)
from govcloud.planning.rules import RULES, Violation, check_plan, format_violation
from govcloud.store.planfile import read_plan, write_plan

from invtree import write_inventory_tree

# ---------------------------------------------------------------- the inventory
# invtree's two 卫计局 systems (shared Oracle, shared DB server, latency-sensitive API),
# plus a 国土局 department and the 信息中心 with one example of each kind of system,
# and a cloud with one zone per placement rule.

CLOUD = """\
format_version: 1
machine_rooms:
  - {id: room-xxzx, name: 市信息中心机房, owner_org: hy-xxzx, room_type: info_center}
  - {id: room-wjj, name: 卫计局机房, owner_org: hy-wjj, room_type: dept_self_built, built_on: 2012-05-01}
  - {id: room-gtj, name: 国土局机房, owner_org: hy-gtj, room_type: dept_self_built, built_on: 2010-03-01}
cloud_platforms:
  - {id: hy-cloud, name: 河源市政务云, tier: municipal}
  - {id: hy-intranet, name: 河源市政务内网云, tier: intranet_cloud}
cloud_zones:
  - id: hy-x86
    platform: hy-cloud
    name: 政务外网x86资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    cpu_arch: x86_64
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 64, ram_gb: 256, storage_gb: 4000}
    flavors:
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
      - {name: 16C64G, vcpus: 16, ram_gb: 64}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
      - {name: win2008r2-x86_64, os_distribution: windows, os_version: "2008 R2"}
  - id: hy-arm
    platform: hy-cloud
    name: 鲲鹏信创资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    cpu_arch: aarch64
    cpu_vendor: kunpeng
    is_xinchuang: true
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 64, ram_gb: 256, storage_gb: 4000}
    flavors:
      - {name: kc1.2xlarge, vcpus: 8, ram_gb: 16}
    images:
      - {name: kylin-v10-aarch64, os_distribution: kylin, os_version: V10, cpu_arch: aarch64, domestic: true}
  - id: hy-inet
    platform: hy-cloud
    name: 互联网接入区资源池
    network_zone: internet
    mlps_level: 3
    dr_mode: scheduled_offsite
    capacity: {vcpus: 32, ram_gb: 64, storage_gb: 2000}
    flavors:
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
  - id: hy-l4
    platform: hy-cloud
    name: 四级等保专属资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 4
    dedicated_pool: true
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 32, ram_gb: 64, storage_gb: 2000}
    flavors:
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
  - id: hy-intranet-zone
    platform: hy-intranet
    name: 政务内网涉密资源池
    network_zone: gov_intranet
    mlps_level: 3
    accepts_classified: true
    dedicated_pool: true
    cpu_vendor: hygon
    dr_mode: scheduled_offsite
    capacity: {vcpus: 16, ram_gb: 32, storage_gb: 1000}
    flavors:
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
policies:
  - id: p1
    name: 河源市分批次迁移
    final_deadline: 2020-12-31
    xinchuang_orgs: [hy-gtj]     # gtj-bdc's rebuild onto hy-arm is a 信创 decision (H-ARCH-3)
    batches:
      - {id: T1, name: 第一批接管, kind: takeover, deadline: 2019-03-31, declared_count: 1, scope_orgs: [hy-wjj]}
      - {id: M1, name: 信息中心机房应用迁移上云, deadline: 2019-12-31, scope_systems: [xxzx-portal]}
      - {id: M2, name: 国土局迁移上云, deadline: 2020-06-30, scope_orgs: [国土资源局]}
freeze_windows:
  - {id: fz-1, name: 两会, start: 2019-03-01, end: 2019-03-15, reason: 重保}
  - {id: fz-wsjkj, name: 卫健局年中结算, start: 2019-07-01, end: 2019-07-07, scope: org, targets: [hy-wsjkj]}
  - {id: fz-portal, name: 门户改版, start: 2019-09-01, end: 2019-09-07, scope: system, targets: [xxzx-portal]}
  - {id: fz-city, name: 全市护网, start: 2020-05-01, end: 2020-05-04, scope: region, targets: ["441600"]}
takeovers:
  - {id: tk-wjj, org: hy-wjj, planned_date: 2019-03-31, done_date: 2019-02-20, status: taken_over, batch: T1}
"""

GTJ = """\
format_version: 1
systems:
  - id: gtj-bdc
    name: 不动产登记系统
    owner_org: hy-gtj
    build_mode: provincial_vertical
    vertical_authority: 广东省自然资源厅
    superior_approval: {body: 广东省自然资源厅, doc_no: 粤自然资函〔2019〕88号, date: 2019-10-10}
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    mlps_status: assessed
    servers: [gtj-bdc-01]
  - {id: gtj-gis, name: 国土资源一张图, owner_org: hy-gtj, network_zone: internet, mlps_level: 2, mlps_status: filed, servers: [gtj-gis-01]}
  - {id: gtj-mini, name: 土地储备财务系统, owner_org: hy-gtj, network_zone: gov_extranet, mlps_level: 2, mlps_status: filed, servers: [gtj-p570]}
  - id: gtj-old
    name: 旧版档案查询系统
    owner_org: hy-gtj
    network_zone: gov_extranet
    mlps_level: 1
    lifecycle: zombie
    zombie_criteria: [low_usage, no_maintenance]
    servers: [gtj-old-01]
  - id: gtj-sec
    name: 涉密测绘成果管理系统
    owner_org: hy-gtj
    secrecy: classified
    secrecy_grade: secret
    fenbao_status: approved
    network_zone: gov_intranet
    servers: [gtj-sec-01]
  - {id: gtj-l4, name: 地质灾害监测预警系统, owner_org: hy-gtj, network_zone: gov_extranet, mlps_level: 4, mlps_status: assessed, servers: [gtj-l4-01]}
servers:
  - {id: gtj-bdc-01, hostname: gtj-bdc-01, machine_room: room-gtj, cores: 8, ram_gb: 16, os_distribution: centos, os_version: "7.6"}
  - {id: gtj-gis-01, hostname: gtj-gis-01, machine_room: room-gtj, cores: 4, ram_gb: 8, os_distribution: windows, os_version: "2008 R2"}
  - {id: gtj-p570, hostname: gtj-p570, machine_room: room-gtj, kind: minicomputer, cpu_vendor: ibm, cpu_arch: ppc64, cores: 16, ram_gb: 64, os_distribution: aix, os_version: "7.1"}
  - {id: gtj-old-01, hostname: gtj-old-01, machine_room: room-gtj, cores: 2, ram_gb: 4, os_distribution: centos, os_version: "6.5"}
  - {id: gtj-sec-01, hostname: gtj-sec-01, machine_room: room-gtj, cores: 4, ram_gb: 8, os_distribution: kylin, os_version: V10}
  - {id: gtj-l4-01, hostname: gtj-l4-01, machine_room: room-gtj, cores: 8, ram_gb: 16, os_distribution: centos, os_version: "7.6"}
dependencies:
  - {from: gtj-gis, to: gtj-bdc, type: sync_api}
"""

XXZX = """\
format_version: 1
systems:
  - {id: xxzx-portal, name: 河源市人民政府门户网站, owner_org: hy-xxzx, network_zone: internet, mlps_level: 2, mlps_status: filed, servers: [xxzx-web-01]}
  - {id: xxzx-tax, name: 金税三期(地方端), owner_org: hy-xxzx, build_mode: national_vertical, network_zone: gov_extranet, mlps_level: 3, mlps_status: assessed, servers: [xxzx-tax-01]}
  - {id: xxzx-lan, name: 单机档案管理系统, owner_org: hy-xxzx, network_zone: isolated_lan, mlps_level: 2, mlps_status: graded, servers: [xxzx-lan-01]}
servers:
  - {id: xxzx-web-01, hostname: xxzx-web-01, machine_room: room-xxzx, cores: 4, ram_gb: 8, os_distribution: centos, os_version: "7.6"}
  - {id: xxzx-tax-01, hostname: xxzx-tax-01, machine_room: room-xxzx, cores: 8, ram_gb: 16, os_distribution: windows, os_version: "2012 R2"}
  - {id: xxzx-lan-01, hostname: xxzx-lan-01, machine_room: room-xxzx, cores: 2, ram_gb: 4, os_distribution: windows, os_version: "2008 R2"}
"""


@pytest.fixture
def inv(tmp_path: Path):
    root = write_inventory_tree(tmp_path / "inv", {"cloud.yaml": CLOUD, "departments/hy-gtj.yaml": GTJ,
                                                   "departments/hy-xxzx.yaml": XXZX})
    result = validate_path(root)
    assert result.errors == [], [p.message for p in result.errors]
    return result.inventory


# ---------------------------------------------------------------- the valid plan


def P(server: str, flavor: str | None, vcpus: int, ram: float, disk: float, image: str | None = None):
    return ServerPlacement(server, flavor, vcpus, ram, disk, image, "declared")


def I(system: str, strategy: Strategy, group: str, zone: str | None, servers=(), cutover=None, requires=()):
    return PlanItem(system=system, name="", owner_org="", strategy=strategy, move_group=group, target_zone=zone,
                    servers=tuple(servers), cutover=cutover, requires=tuple(requires))


def valid_plan() -> Plan:
    b1 = PlanBatch("B1", "第一批", date(2019, 6, 1), date(2019, 6, 30), date(2019, 12, 31), "M1", True, items=[
        I("wjj-hisp", Strategy.rehost, "mg-wjj", "hy-x86",
          [P("wjj-app-01", "8C16G", 8, 16, 100), P("wjj-db-01", "16C64G", 16, 64, 500)], date(2019, 6, 15)),
        I("wjj-phis", Strategy.rehost, "mg-wjj", "hy-x86", [P("wjj-app-02", "4C8G", 4, 8, 100)],
          date(2019, 6, 15), [REQ_MLPS_ASSESSMENT]),
        I("xxzx-portal", Strategy.rehost, "xxzx-portal", "hy-inet", [P("xxzx-web-01", "4C8G", 4, 8, 50)],
          date(2019, 6, 22)),
    ])
    b2 = PlanBatch("B2", "第二批", date(2020, 3, 11), date(2020, 3, 31), date(2020, 6, 30), "M2", False, items=[
        I("gtj-bdc", Strategy.replatform, "gtj-bdc", "hy-arm",
          [P("gtj-bdc-01", "kc1.2xlarge", 8, 16, 200, "kylin-v10-aarch64")], date(2020, 3, 21),
          [REQ_SUPERIOR_APPROVAL, REQ_REBUILD]),
        I("gtj-gis", Strategy.rehost, "gtj-gis", "hy-inet", [P("gtj-gis-01", "4C8G", 4, 8, 100)],
          date(2020, 3, 21), [REQ_OS_MIGRATION]),
        I("gtj-mini", Strategy.replatform, "gtj-mini", "hy-x86",
          [P("gtj-p570", "16C64G", 16, 64, 1000, "openEuler-22.03-x86_64")], date(2020, 3, 28), [REQ_REBUILD]),
        I("gtj-old", Strategy.retire, "gtj-old", None, (), date(2020, 3, 14)),
        I("gtj-sec", Strategy.relocate_intranet, "gtj-sec", "hy-intranet-zone",
          [P("gtj-sec-01", "4C8G", 4, 8, 100)], date(2020, 3, 28)),
        I("gtj-l4", Strategy.rehost, "gtj-l4", "hy-l4", [P("gtj-l4-01", "8C16G", 8, 16, 200)], date(2020, 3, 28)),
    ])
    return Plan(plan_id="test-plan", inventory="../inv", inventory_name="测试市", policy="p1",
                inputs_digest="sha256:0", generator="hand", start=date(2019, 6, 1), batches=[b1, b2],
                retained=[Retained("xxzx-tax", "金税三期(地方端)", "hy-xxzx", "vertical", "国家垂直系统")],
                unscheduled=[Unscheduled("xxzx-lan", "单机档案管理系统", "hy-xxzx", None, ["isolated LAN"])])


@pytest.fixture
def plan() -> Plan:
    return valid_plan()


def hits(plan: Plan, inv) -> list[tuple[str, str | None]]:
    return [(v.rule, v.system) for v in check_plan(plan, inv)]


def item(plan: Plan, system: str) -> PlanItem:
    return next(i for b in plan.batches for i in b.items if i.system == system)


def edit(plan: Plan, system: str, **changes) -> None:
    """Replace one plan item's fields, as a hand edit of plan.yaml would."""
    for b in plan.batches:
        for n, i in enumerate(b.items):
            if i.system == system:
                b.items[n] = dataclasses.replace(i, **changes)
                return
    raise KeyError(system)


def move(plan: Plan, system: str, batch: str, cutover: date) -> None:
    it = item(plan, system)
    for b in plan.batches:
        if it in b.items:
            b.items.remove(it)
    next(b for b in plan.batches if b.id == batch).items.append(dataclasses.replace(it, cutover=cutover))


# ---------------------------------------------------------------- baseline


def test_valid_plan_passes(plan, inv):
    assert check_plan(plan, inv) == []


def test_every_rule_has_a_description():
    for rule in ("H-ONE-1", "H-SEC-1", "H-SEC-2", "H-MLPS-1", "H-MLPS-2", "H-MLPS-3", "H-DEP-1", "H-DEP-2",
                 "H-DEP-3", "H-TKO-1", "H-DATE-1", "H-VERT-1", "H-ZOMBIE-1", "H-ROOM-1", "H-NET-1", "H-NET-2",
                 "H-ARCH-1", "H-ARCH-2", "H-ARCH-3", "H-OS-1", "H-CN-1", "H-FRZ-1", "H-CAP-1", "H-TGT-1", "H-DR-1", "H-POL-1"):
        assert RULES[rule]


def test_unknown_policy(plan, inv):
    plan.policy = "p9"
    assert hits(plan, inv) == [("H-POL-1", None)]


# ---------------------------------------------------------------- H-ONE-1


def test_system_missing_from_the_plan(plan, inv):
    plan.unscheduled = []
    assert hits(plan, inv) == [("H-ONE-1", "xxzx-lan")]


def test_system_planned_twice(plan, inv):
    plan.retained.append(Retained("gtj-gis", "", "hy-gtj", "other", "also here"))
    assert hits(plan, inv) == [("H-ONE-1", "gtj-gis")]
    assert "batch B2, retained" in check_plan(plan, inv)[0].message


def test_unknown_system(plan, inv):
    plan.unscheduled.append(Unscheduled("no-such-sys", "", "", None, ["?"]))
    assert hits(plan, inv) == [("H-ONE-1", "no-such-sys")]


# ---------------------------------------------------------------- H-SEC-1, H-SEC-2


def test_classified_system_onto_the_extranet_cloud(plan, inv):
    edit(plan, "gtj-sec", strategy=Strategy.rehost, target_zone="hy-x86")
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-SEC-1", "gtj-sec"), ("H-SEC-1", "gtj-sec")]
    assert any("targets zone hy-x86 (政务外网/专用网络区), which does not accept classified" in v.message
               for v in found)


def test_classified_system_onto_a_zone_that_does_not_accept_it(plan, inv):
    inv.cloud_zones["hy-intranet-zone"].accepts_classified = False
    assert hits(plan, inv) == [("H-SEC-1", "gtj-sec")]


def test_non_classified_system_relocated_to_the_intranet(plan, inv):
    edit(plan, "gtj-mini", strategy=Strategy.relocate_intranet, target_zone="hy-intranet-zone",
         servers=(P("gtj-p570", "4C8G", 4, 8, 100),))
    assert hits(plan, inv) == [("H-SEC-1", "gtj-mini"), ("H-SEC-1", "gtj-mini")]


def test_classified_system_may_be_retired(plan, inv):
    edit(plan, "gtj-sec", strategy=Strategy.retire, target_zone=None, servers=())
    assert hits(plan, inv) == []


def test_classified_without_fenbao(plan, inv):
    inv.systems["gtj-sec"].fenbao_status = FenbaoStatus.assessed
    assert hits(plan, inv) == [("H-SEC-2", "gtj-sec")]
    edit(plan, "gtj-sec", requires=(REQ_FENBAO,))
    assert hits(plan, inv) == []


# ---------------------------------------------------------------- MLPS


def test_zone_rated_below_the_system(plan, inv):
    inv.systems["gtj-mini"].mlps_level = 4
    inv.systems["gtj-mini"].mlps_status = inv.systems["gtj-l4"].mlps_status
    # level 4 on the shared level-3 x86 pool: rated too low and not a dedicated pool
    assert hits(plan, inv) == [("H-MLPS-1", "gtj-mini"), ("H-MLPS-1", "gtj-mini")]


def test_level_3_system_on_a_level_2_zone(plan, inv):
    inv.cloud_zones["hy-arm"].mlps_level = 2
    # the extranet zone also falls below the policy's extranet level 3
    assert hits(plan, inv) == [("H-MLPS-1", "gtj-bdc"), ("H-MLPS-3", "gtj-bdc")]


def test_unfiled_level_2_system_without_assessment_task(plan, inv):
    edit(plan, "wjj-phis", requires=())
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-MLPS-2", "wjj-phis")]
    assert "status ungraded" in found[0].message and "mlps_assessment" in found[0].message


def test_unknown_level_counts_as_the_policy_minimum(plan, inv):
    inv.systems["gtj-mini"].mlps_level = None
    inv.systems["gtj-mini"].mlps_status = inv.systems["wjj-phis"].mlps_status  # ungraded
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-MLPS-2", "gtj-mini")]
    assert "taken as level 2" in found[0].message


def test_level_1_system_migrated_without_regrading(plan, inv):
    inv.systems["xxzx-portal"].mlps_level = 1
    assert hits(plan, inv) == [("H-MLPS-3", "xxzx-portal")]
    edit(plan, "xxzx-portal", requires=(REQ_MLPS_ASSESSMENT,))
    assert hits(plan, inv) == []


# ---------------------------------------------------------------- H-DR-1


def test_level_3_system_on_a_zone_with_scheduled_backup_only(plan, inv):
    inv.systems["gtj-gis"].mlps_level = 3
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-DR-1", "gtj-gis")]
    assert "scheduled_offsite" in found[0].message


def test_level_2_system_on_a_zone_without_dr(plan, inv):
    inv.cloud_zones["hy-inet"].dr_mode = DrMode.none
    assert hits(plan, inv) == [("H-DR-1", "xxzx-portal"), ("H-DR-1", "gtj-gis")]


# ---------------------------------------------------------------- H-DEP-1, H-DEP-2, H-DEP-3


def test_shared_database_split_across_move_groups(plan, inv):
    edit(plan, "wjj-phis", move_group="mg-phis", servers=(P("wjj-app-02", "4C8G", 4, 8, 100),))
    found = check_plan(plan, inv)
    # wjj-phis's shared DB server is placed by wjj-hisp's group, which is no longer its own
    assert ("H-DEP-1", "wjj-hisp") in [(v.rule, v.system) for v in found]
    dep = next(v for v in found if v.rule == "H-DEP-1")
    assert "shared database wjj-oracle" in dep.message and "shared server wjj-db-01" in dep.message
    assert sorted((v.rule, v.system) for v in found) == [("H-DEP-1", "wjj-hisp"), ("H-TGT-1", "wjj-phis")]


def test_coupled_system_left_behind(plan, inv):
    edit(plan, "wjj-phis", strategy=Strategy.retire, target_zone=None, servers=())
    inv.systems["wjj-phis"].lifecycle = Lifecycle.zombie
    assert hits(plan, inv) == []   # retired together with its group: fine
    b1 = plan.batches[0]
    b1.items.remove(item(plan, "wjj-phis"))
    plan.retained.append(Retained("wjj-phis", "", "hy-wjj", "other", "stays"))
    assert hits(plan, inv) == [("H-DEP-1", "wjj-hisp")]


def test_coupled_system_retired_after_its_partner_moved(plan, inv):
    # wjj-phis is retired (a zombie) only in B2, after wjj-hisp took the shared DB server in B1
    inv.systems["wjj-phis"].lifecycle = Lifecycle.zombie
    b1 = plan.batches[0]
    b1.items.remove(item(plan, "wjj-phis"))
    plan.batches[1].items.append(I("wjj-phis", Strategy.retire, "mg-phis", None, (), date(2020, 3, 14)))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-DEP-1", "wjj-hisp")]
    assert "wjj-phis" in found[0].message and "in batch B2 (retire" in found[0].message


def test_repurchased_partner_replaced_before_the_move(plan, inv):
    # gtj-gis calls gtj-bdc latency-sensitively. Replacing gtj-gis by a unified platform
    # (repurchase) on or before gtj-bdc's cutover leaves nothing behind; replacing it later does.
    dep = next(d for d in inv.dependencies if (d.from_, d.to) == ("gtj-gis", "gtj-bdc"))
    dep.latency_sensitive = True
    edit(plan, "gtj-gis", strategy=Strategy.repurchase, target_zone=None, servers=(), requires=())
    assert hits(plan, inv) == []
    edit(plan, "gtj-gis", cutover=date(2020, 3, 25))
    assert hits(plan, inv) == [("H-DEP-1", "gtj-bdc")]


def test_latency_sensitive_dependency_and_its_bridge(plan, inv):
    dep = next(d for d in inv.dependencies if (d.from_, d.to) == ("gtj-gis", "gtj-bdc"))
    dep.latency_sensitive = True
    assert hits(plan, inv) == [("H-DEP-1", "gtj-bdc")]
    dep.bridge = "API gateway proxy between the room and the cloud"
    assert hits(plan, inv) == []


def test_move_group_split_across_batches(plan, inv):
    move(plan, "wjj-phis", "B2", date(2020, 3, 21))
    assert ("H-DEP-2", "wjj-phis") in hits(plan, inv)
    assert [r for r, s in hits(plan, inv) if s == "wjj-phis"] == ["H-DEP-2"]


def test_move_group_with_two_cutover_dates(plan, inv):
    edit(plan, "wjj-phis", cutover=date(2019, 6, 16))
    assert hits(plan, inv) == [("H-DEP-2", "wjj-phis")]


def test_caller_moves_before_the_system_it_calls(plan, inv):
    move(plan, "gtj-gis", "B1", date(2019, 6, 20))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-DEP-3", "gtj-gis")]
    assert "calls gtj-bdc" in found[0].message


def test_manual_move_group_is_respected(plan, inv):
    inv.systems["gtj-gis"].move_group = "gis-bdc"
    inv.systems["gtj-bdc"].move_group = "gis-bdc"
    assert hits(plan, inv) == [("H-DEP-1", "gtj-bdc")]


# ---------------------------------------------------------------- H-TKO-1


def test_takeover_done_after_cutover(plan, inv):
    inv.takeovers["tk-wjj"].done_date = date(2019, 6, 20)
    assert hits(plan, inv) == [("H-TKO-1", "wjj-hisp"), ("H-TKO-1", "wjj-phis")]


def test_takeover_record_under_the_successor_department(plan, inv):
    # The department was renamed (卫计局 → 卫健局); its record uses the new id.
    del inv.takeovers["tk-wjj"]
    inv.takeovers["tk-wsjkj"] = TakeoverRecord("tk-wsjkj", org="hy-wsjkj", planned_date=date(2019, 9, 30))
    assert hits(plan, inv) == [("H-TKO-1", "wjj-hisp"), ("H-TKO-1", "wjj-phis")]
    inv.takeovers["tk-wsjkj"].status = TakeoverStatus.exempt
    assert hits(plan, inv) == []


def test_takeover_batch_deadline_when_no_record(plan, inv):
    del inv.takeovers["tk-wjj"]
    assert hits(plan, inv) == []  # T1 deadline 2019-03-31 precedes the June cutover
    policy = inv.policies["p1"]
    policy.batches = (dataclasses.replace(policy.batches[0], deadline=date(2019, 6, 30)), *policy.batches[1:])
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-TKO-1", "wjj-hisp"), ("H-TKO-1", "wjj-phis")]
    assert "T1" in found[0].message


# ---------------------------------------------------------------- H-DATE-1


def test_cutover_outside_its_batch(plan, inv):
    edit(plan, "xxzx-portal", cutover=date(2019, 7, 2))
    assert hits(plan, inv) == [("H-DATE-1", "xxzx-portal")]


def test_batch_ends_after_its_deadline(plan, inv):
    plan.batches[1].deadline = date(2020, 3, 30)
    assert hits(plan, inv) == [("H-DATE-1", None)]


def test_cutover_after_the_binding_policy_deadline(plan, inv):
    # xxzx-portal is in M1 (2019-12-31) by system id; moving it to 2020 breaks that.
    move(plan, "xxzx-portal", "B2", date(2020, 3, 22))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-DATE-1", "xxzx-portal")]
    assert "policy batch M1" in found[0].message


def test_department_deadline_via_alias(plan, inv):
    # M2 names 国土资源局 (an alias); a gtj system cut over after 2020-06-30 breaks it.
    plan.batches.append(PlanBatch("B3", "第三批", date(2020, 7, 1), date(2020, 7, 31), None, None, False))
    move(plan, "gtj-mini", "B3", date(2020, 7, 11))
    assert hits(plan, inv) == [("H-DATE-1", "gtj-mini")]


def test_missing_cutover(plan, inv):
    edit(plan, "gtj-l4", cutover=None)
    assert hits(plan, inv) == [("H-DATE-1", "gtj-l4")]


# ---------------------------------------------------------------- H-VERT-1, H-ZOMBIE-1


def test_vertical_without_superior_approval_task(plan, inv):
    edit(plan, "gtj-bdc", requires=(REQ_REBUILD,))
    assert hits(plan, inv) == [("H-VERT-1", "gtj-bdc")]


def test_vertical_without_approval_document(plan, inv):
    inv.systems["gtj-bdc"].superior_approval = Approval(body="广东省自然资源厅")
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-VERT-1", "gtj-bdc")]
    assert "doc_no" in found[0].message


def test_zombie_migrated(plan, inv):
    edit(plan, "gtj-old", strategy=Strategy.replatform, target_zone="hy-x86",
         servers=(P("gtj-old-01", "4C8G", 2, 4, 40, "openEuler-22.03-x86_64"),))
    inv.systems["gtj-old"].mlps_level = 2
    inv.systems["gtj-old"].mlps_status = inv.systems["gtj-mini"].mlps_status
    assert hits(plan, inv) == [("H-ZOMBIE-1", "gtj-old")]


def test_zombie_retired_but_given_capacity(plan, inv):
    edit(plan, "gtj-old", target_zone="hy-x86", servers=(P("gtj-old-01", "4C8G", 2, 4, 40),))
    assert hits(plan, inv) == [("H-ZOMBIE-1", "gtj-old")]


# ---------------------------------------------------------------- H-ARCH-1, H-ARCH-2, H-OS-1


def test_rehost_across_architectures(plan, inv):
    edit(plan, "gtj-bdc", strategy=Strategy.rehost, servers=(P("gtj-bdc-01", "kc1.2xlarge", 8, 16, 200),))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-ARCH-1", "gtj-bdc")]
    assert "gtj-bdc-01 (x86_64)" in found[0].message and "aarch64" in found[0].message


def test_replatform_across_architectures_without_rebuild(plan, inv):
    edit(plan, "gtj-bdc", requires=(REQ_SUPERIOR_APPROVAL,))
    assert hits(plan, inv) == [("H-ARCH-1", "gtj-bdc")]


def _policy(inv, **changes) -> None:
    pol = inv.policies["p1"]
    for k, v in changes.items():
        if k in ("prefer_domestic", "xinchuang_share_pct"):
            pol.thresholds = dataclasses.replace(pol.thresholds, **{k: v})
        else:
            setattr(pol, k, v)


def test_unrequested_x86_to_arm_rebuild(plan, inv):
    _policy(inv, xinchuang_orgs=())
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-ARCH-3", "gtj-bdc")]
    assert "hy-arm" in found[0].message and "hy-x86" in found[0].message and "xinchuang" in found[0].message
    assert "信创决定" in found[0].message_zh
    zh = format_violation(found[0], "zh")
    assert zh.startswith("H-ARCH-3 gtj-bdc 不动产登记系统：x86 系统") and "不能作为容量溢出" in zh
    assert "策略的信创部门、信创系统类型和信创比例均不涉及本系统" in zh
    # the department is named but prefer_domestic is off: still not a 信创 decision
    _policy(inv, xinchuang_orgs=("hy-gtj",), prefer_domestic=False)
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-ARCH-3", "gtj-bdc")]
    assert "prefer_domestic is off" in found[0].message and "优先信创" in found[0].message_zh


def test_arm_rebuild_asked_by_category_or_share(plan, inv):
    _policy(inv, xinchuang_orgs=(), xinchuang_categories=(inv.systems["gtj-bdc"].category,))
    assert hits(plan, inv) == []
    _policy(inv, xinchuang_categories=(), xinchuang_share_pct=30)
    assert hits(plan, inv) == [("H-ARCH-3", "gtj-bdc")]            # a share covers adapted systems only
    inv.systems["gtj-bdc"] = dataclasses.replace(inv.systems["gtj-bdc"], xinchuang_status=XinchuangStatus.compatible)
    assert hits(plan, inv) == []


def test_arm_rebuild_allowed_when_no_x86_zone_meets_the_rules(plan, inv):
    _policy(inv, xinchuang_orgs=())
    for z in ("hy-x86", "hy-l4"):          # both x86 zones below the system's level 3
        inv.cloud_zones[z] = dataclasses.replace(inv.cloud_zones[z], mlps_level=2)
    assert ("H-ARCH-3", "gtj-bdc") not in hits(plan, inv)


def test_minicomputer_rehosted(plan, inv):
    edit(plan, "gtj-mini", strategy=Strategy.rehost)
    # ppc64 onto x86_64 is also an architecture change
    assert hits(plan, inv) == [("H-ARCH-1", "gtj-mini"), ("H-ARCH-2", "gtj-mini")]


def test_end_of_life_target_image(plan, inv):
    edit(plan, "gtj-mini", servers=(P("gtj-p570", "16C64G", 16, 64, 1000, "win2008r2-x86_64"),))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-OS-1", "gtj-mini")]
    assert "2020-01-14" in found[0].message


def test_rehost_of_an_end_of_life_os_without_os_migration(plan, inv):
    edit(plan, "gtj-gis", requires=())
    assert hits(plan, inv) == [("H-OS-1", "gtj-gis")]
    inv.policies["p1"].thresholds.eol_os_blocking = False
    assert hits(plan, inv) == []


# ---------------------------------------------------------------- zones: H-CN-1, H-NET-1, H-NET-2, H-ROOM-1


def test_zone_operated_abroad(plan, inv):
    inv.cloud_zones["hy-l4"].ops_in_china = False
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-CN-1", "gtj-l4")]
    assert "operated" in found[0].message


def test_extranet_system_onto_the_internet_zone(plan, inv):
    edit(plan, "gtj-mini", target_zone="hy-inet", strategy=Strategy.replatform,
         servers=(P("gtj-p570", "4C8G", 4, 8, 100, "openEuler-22.03-x86_64"),))
    assert hits(plan, inv) == [("H-NET-2", "gtj-mini")]


def test_internet_system_onto_a_private_extranet_zone(plan, inv):
    edit(plan, "xxzx-portal", target_zone="hy-x86")
    assert hits(plan, inv) == [("H-NET-2", "xxzx-portal")]
    inv.cloud_zones["hy-x86"].extranet_area = ExtranetArea.internet_access
    assert hits(plan, inv) == []


def test_target_on_a_dedicated_network(plan, inv):
    inv.cloud_zones["hy-inet"].network_zone = NetworkZone.dedicated_net
    assert hits(plan, inv) == [("H-NET-1", "xxzx-portal"), ("H-NET-1", "gtj-gis")]


def test_dedicated_network_deadline(plan, inv):
    inv.systems["gtj-mini"].network_zone = NetworkZone.dedicated_net
    policy = inv.policies["p1"]
    policy.batches = (*policy.batches, Batch("N1", "专网迁移", kind=BatchKind.network, deadline=date(2019, 12, 31),
                                             scope_orgs=("hy-gtj",)))
    assert hits(plan, inv) == [("H-NET-1", "gtj-mini")]


def test_target_is_a_machine_room(plan, inv):
    edit(plan, "xxzx-portal", target_zone="room-xxzx")
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-ROOM-1", "xxzx-portal")]
    assert "市信息中心机房" in found[0].message


# ---------------------------------------------------------------- H-FRZ-1


def test_cutover_in_a_global_freeze(plan, inv):
    inv.freeze_windows["fz-1"].start, inv.freeze_windows["fz-1"].end = date(2019, 6, 20), date(2019, 6, 23)
    assert hits(plan, inv) == [("H-FRZ-1", "xxzx-portal")]


def test_cutover_in_a_department_freeze_named_by_the_successor(plan, inv):
    inv.freeze_windows["fz-wsjkj"].start = date(2019, 6, 14)
    assert hits(plan, inv) == [("H-FRZ-1", "wjj-hisp"), ("H-FRZ-1", "wjj-phis")]


def test_cutover_in_a_system_freeze(plan, inv):
    inv.freeze_windows["fz-portal"].start = date(2019, 6, 1)
    assert hits(plan, inv) == [("H-FRZ-1", "xxzx-portal")]


def test_cutover_in_a_region_freeze(plan, inv):
    inv.freeze_windows["fz-city"].start = date(2020, 3, 20)
    inv.freeze_windows["fz-city"].end = date(2020, 3, 21)
    assert hits(plan, inv) == [("H-FRZ-1", "gtj-bdc"), ("H-FRZ-1", "gtj-gis")]


# ---------------------------------------------------------------- H-CAP-1


def test_zone_capacity_exceeded(plan, inv):
    inv.cloud_zones["hy-x86"].capacity.vcpus = 40     # B1 uses 28, B2 adds 16
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-CAP-1", "gtj-mini")]
    assert "batch B2" in found[0].message and "vcpus 44 > 40" in found[0].message


# ---------------------------------------------------------------- H-TGT-1


@pytest.mark.parametrize("change, expected, others", [
    ({"target_zone": "hy-nowhere"}, "not a cloud zone", []),
    ({"target_zone": None}, "needs a target zone", []),
    ({"servers": (P("gtj-p570", "64C128G", 16, 64, 1000, "openEuler-22.03-x86_64"),)}, "not offered", []),
    ({"servers": (P("gtj-p570", "8C16G", 16, 64, 1000, "openEuler-22.03-x86_64"),)}, "is smaller", []),
    ({"servers": (P("gtj-p570", "16C64G", 16, 64, 1000, "ubuntu-lts"),)},
     "image ubuntu-lts (replatform) is not offered", []),
    ({"servers": (P("gtj-p570", "16C64G", 16, 64, 1000),)}, "none is given", []),
    ({"servers": (P("gtj-p570", "16C64G", 16, 64, 1000, "import:aix-7.1"),)}, "not on an imported disk", []),
    ({"servers": ()}, "servers not placed: gtj-p570", []),
    ({"servers": (P("gtj-p570", "16C64G", 16, 64, 1000, "openEuler-22.03-x86_64"),
                  P("gtj-l4-01", "4C8G", 4, 8, 40, "openEuler-22.03-x86_64"))}, "belongs to gtj-l4",
     [("H-TGT-1", "gtj-l4")]),   # … whose own item now places gtj-l4-01 a second time
    ({"strategy": Strategy.retain}, "belongs in the plan's retained list", []),
])
def test_placement_sanity(plan, inv, change, expected, others):
    edit(plan, "gtj-mini", **change)
    found = check_plan(plan, inv)
    assert sorted((v.rule, v.system) for v in found) == sorted([("H-TGT-1", "gtj-mini"), *others])
    assert expected in next(v.message for v in found if v.system == "gtj-mini")


def test_rehost_may_import_the_servers_own_disk(plan, inv):
    edit(plan, "gtj-l4", servers=(P("gtj-l4-01", "8C16G", 8, 16, 200, "import:centos-7.6"),))
    assert hits(plan, inv) == []


def test_image_for_another_architecture(plan, inv):
    next(i for i in inv.cloud_zones["hy-x86"].images if i.name.startswith("openEuler")).cpu_arch = CpuArch.aarch64
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-TGT-1", "gtj-mini")]
    assert "built for aarch64" in found[0].message


def test_server_placed_twice(plan, inv):
    edit(plan, "wjj-phis", servers=(P("wjj-app-02", "4C8G", 4, 8, 100), P("wjj-db-01", "16C64G", 16, 64, 500)))
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [("H-TGT-1", "wjj-phis")]
    assert "again" in found[0].message


def test_retired_system_with_placements(plan, inv):
    edit(plan, "gtj-l4", strategy=Strategy.retire)
    assert hits(plan, inv) == [("H-TGT-1", "gtj-l4")]


# ---------------------------------------------------------------- output


def test_order_and_format(plan, inv):
    plan.unscheduled = []                                                   # xxzx-lan: after the batches
    edit(plan, "gtj-sec", strategy=Strategy.rehost, target_zone="hy-x86")  # B2
    edit(plan, "xxzx-portal", cutover=date(2019, 7, 2))                    # B1
    found = check_plan(plan, inv)
    assert [(v.rule, v.system) for v in found] == [
        ("H-DATE-1", "xxzx-portal"), ("H-SEC-1", "gtj-sec"), ("H-SEC-1", "gtj-sec"), ("H-ONE-1", "xxzx-lan")]
    assert found == check_plan(plan, inv)
    line = format_violation(found[2])
    assert line == ("H-SEC-1 gtj-sec 涉密测绘成果管理系统: classified system targets zone hy-x86 (政务外网/专用网络区), "
                    "which does not accept classified systems")
    assert "\n" not in format_violation(Violation("H-X", None, "two\nlines"))
    assert format_violation(Violation("H-POL-1", None, "m")) == "H-POL-1 (plan): m"


# ---------------------------------------------------------------- through the plan file


def _line_of(text: str, system: str) -> str:
    return next(line for line in text.splitlines() if f'"id": "{system}"' in line and '"strategy"' in line)


def test_plan_file_round_trip_is_clean(plan, inv, tmp_path):
    path = write_plan(plan, tmp_path)
    assert check_plan(read_plan(path), inv) == []


def test_hand_edited_target_zone_is_caught(plan, inv, tmp_path):
    path = write_plan(plan, tmp_path)
    text = path.read_text(encoding="utf-8")
    line = _line_of(text, "gtj-sec")
    path.write_text(text.replace(line, line.replace('"target_zone": "hy-intranet-zone"', '"target_zone": "hy-x86"')),
                    encoding="utf-8")
    assert hits(read_plan(path), inv) == [("H-SEC-1", "gtj-sec")]


def test_hand_moved_system_is_caught(plan, inv, tmp_path):
    path = write_plan(plan, tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    gis = _line_of("\n".join(lines), "gtj-gis")
    assert gis.endswith(",")                     # not the last system of B2
    lines.remove(gis)
    head = next(n for n, line in enumerate(lines) if line.startswith('  {"id": "B1"'))
    lines.insert(head + 1, gis.replace('"cutover": "2020-03-21"', '"cutover": "2019-06-20"'))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    moved = read_plan(path)
    assert [i.system for i in moved.batches[0].items][0] == "gtj-gis"
    assert hits(moved, inv) == [("H-DEP-3", "gtj-gis")]


def test_hand_deleted_requirement_is_caught(plan, inv, tmp_path):
    path = write_plan(plan, tmp_path)
    text = path.read_text(encoding="utf-8")
    line = _line_of(text, "gtj-bdc")
    assert '"superior_approval", ' in line
    path.write_text(text.replace(line, line.replace('"superior_approval", ', "")), encoding="utf-8")
    assert hits(read_plan(path), inv) == [("H-VERT-1", "gtj-bdc")]


# ---------------------------------------------------------------- messages in Chinese (default) and English


def test_every_violation_has_a_chinese_message(plan, inv):
    """`plan validate` speaks Chinese by default: every check writes both languages."""
    edit(plan, "gtj-bdc", strategy=Strategy.rehost, servers=(P("gtj-bdc-01", "nope", 8, 16, 200),))
    edit(plan, "gtj-mini", strategy=Strategy.rehost, target_zone="room-gtj")
    move(plan, "xxzx-portal", plan.batches[0].id, date(2019, 3, 9))
    plan.retained.append(Retained("gtj-gis", "x", "hy-gtj", "x", "x"))
    found = check_plan(plan, inv)
    assert len({v.rule for v in found}) >= 4, found
    for v in found:
        assert any("\u4e00" <= ch <= "\u9fff" for ch in v.message_zh), v
        zh, en = format_violation(v, "zh"), format_violation(v, "en")
        assert zh.startswith(v.rule) and v.message_zh.split()[0] in zh and v.message in en


def test_every_check_writes_both_languages():
    import ast
    import inspect

    import govcloud.planning.rules as rules
    calls = [n for n in ast.walk(ast.parse(inspect.getsource(rules)))
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "add"
             and isinstance(n.func.value, ast.Name) and n.func.value.id == "ctx"]
    assert len(calls) >= 55

    def msgs(node):     # the catalog messages an argument can be
        if isinstance(node, ast.IfExp):
            return msgs(node.body) + msgs(node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Msg" \
                and isinstance(node.args[0], ast.Constant):
            return [node.args[0].value]
        return [None]
    messages = {n.lineno: msgs(n.args[2]) for n in calls}
    # every violation's message is a catalog message with a literal English text ...
    assert [line for line, ms in messages.items() if None in ms] == []
    # ... that has its Chinese translation
    from govcloud.base.i18n import tr
    assert [m for ms in messages.values() for m in ms if tr(m, "zh") == m] == []
