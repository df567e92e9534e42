"""A small, valid inventory written the way people write one, for tests to break."""

from __future__ import annotations

import textwrap
from pathlib import Path

from govcloud.inventory.validate import validate_path

ROOT = """\
format_version: 1
inventory:
  name: 测试市
  region: "441600"
  as_of: 2018-11-11
  default_policy: p1
regions:
  - {code: "441600", name: 河源市, level: prefecture}
"""

ORGS = """\
format_version: 1
organizations:
  - id: hy-wjj
    name: 河源市卫生和计划生育局
    short_name: 市卫计局
    aliases: [卫计局, 卫生计生局]
    successors: [hy-wsjkj]
    abolished: 2019-01-20
    org_type: gov_component
    region: "441600"
  - id: hy-wsjkj
    name: 河源市卫生健康局
    predecessors: [hy-wjj]
    established: 2019-01-20
    org_type: gov_component
  - id: hy-gtj
    name: 河源市国土资源局
    aliases: [国土资源局, 国土局]
    org_type: gov_component
  - id: hy-xxzx
    name: 河源市信息中心
    org_type: public_institution
"""

ROOMS_AND_CLOUD = """\
format_version: 1
machine_rooms:
  - {id: room-xxzx, name: 市信息中心机房, owner_org: hy-xxzx, room_type: info_center}
  - {id: room-wjj, name: 卫计局机房, owner_org: hy-wjj, room_type: dept_self_built, built_on: 2012-05-01}
cloud_platforms:
  - {id: hy-cloud, name: 河源市政务云, tier: municipal}
  - {id: hy-intranet, name: 河源市政务内网云, tier: intranet_cloud}
cloud_zones:
  - id: hy-x86
    platform: hy-cloud
    name: 政务外网x86资源池
    network_zone: gov_extranet
    mlps_level: 3
    cpu_arch: x86_64
    capacity: {vcpus: 2000, ram_gb: 8000, storage_gb: 200000}
    flavors:
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
  - id: hy-intranet-zone
    platform: hy-intranet
    name: 政务内网云
    network_zone: gov_intranet
    mlps_level: 3
    accepts_classified: true
policies:
  - id: p1
    name: 河源市分批次迁移
    final_deadline: 2020-12-31
    batches:
      - id: b1
        name: 第一批
        kind: takeover
        deadline: 2019-03-31
        declared_count: 1
        scope_orgs: [hy-wjj]
freeze_windows:
  - {id: fz-1, name: 两会, start: 2019-03-01, end: 2019-03-15, reason: 重保}
"""

DEPT = """\
format_version: 1
systems:
  - id: wjj-hisp
    name: 全民健康信息平台
    owner_org: hy-wjj
    network_zone: gov_extranet
    mlps_level: 3
    mlps_status: filed
    built_at: 2015-01-01
    go_live: 2016-01-01
    servers: [wjj-app-01, wjj-db-01]
  - id: wjj-phis
    name: 公共卫生管理系统
    owner_org: hy-wjj
    network_zone: gov_extranet
    mlps_level: 2
    servers: [wjj-app-02, wjj-db-01]
servers:
  - {id: wjj-app-01, hostname: wjj-app-01, machine_room: room-wjj, cores: 8, ram_gb: 16, os_distribution: centos, os_version: "7.6", ips: [198.18.10.11]}
  - {id: wjj-app-02, hostname: wjj-app-02, machine_room: room-wjj, cores: 4, ram_gb: 8, os_distribution: centos, os_version: "6.8"}
  - {id: wjj-db-01, hostname: wjj-db-01, machine_room: room-wjj, cores: 16, ram_gb: 64, os_distribution: rhel, os_version: "7.4", role: db, disks: [{size_gb: 500, used_gb: 320}]}
databases:
  - {id: wjj-oracle, engine: oracle, servers: [wjj-db-01], used_by: [wjj-hisp, wjj-phis]}
dependencies:
  - {from: wjj-phis, to: wjj-hisp, type: sync_api, latency_sensitive: true}
"""


def write_inventory_tree(root: Path, overrides: dict[str, str] | None = None) -> Path:
    files = {"inventory.yaml": ROOT, "organizations.yaml": ORGS, "cloud.yaml": ROOMS_AND_CLOUD,
             "departments/hy-wjj.yaml": DEPT}
    files.update(overrides or {})
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def codes(path: Path, severity: str | None = None) -> list[str]:
    return [p.code for p in validate_path(path).problems if severity is None or p.severity.value == severity]
