"""Small inventories for planner tests, written as YAML the way people write them.

``make_inventory(tmp_path, dept=...)`` writes a root file, organisations, a cloud with one
zone per placement rule (generous capacity) and a policy, plus the test's department
file, loads it through the validator (which must report no errors) and returns the
``Inventory``. Tests change what they need on the loaded objects or by passing their own
file texts.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from govcloud.inventory.validate import validate_path
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan, PlanBatch, PlanItem, Retained, Unscheduled
from govcloud.planning.planner import build_plan
from govcloud.planning.rules import check_plan, format_violation
from govcloud.store.planfile import read_plan, write_plan

PLAN_ID = "plan-test"
INVENTORY_REF = "../inventory"
DIGEST = "sha256:test"

ROOT = """\
format_version: 1
inventory:
  name: 测试市
  region: "441600"
  as_of: 2019-01-01
  default_policy: p1
regions:
  - {code: "441600", name: 测试市, level: prefecture}
  - {code: "441621", name: 甲县, level: county, parent: "441600"}
"""

ORGS = """\
format_version: 1
organizations:
  - {id: org-a, name: 测试市甲局, short_name: 甲局, org_type: gov_component, region: "441600"}
  - {id: org-b, name: 测试市乙局, short_name: 乙局, org_type: gov_component, region: "441600"}
  - {id: org-c, name: 甲县丙局, short_name: 丙局, org_type: gov_component, region: "441621"}
  - id: org-old
    name: 测试市卫生和计划生育局
    aliases: [卫计局]
    successors: [org-new]
    abolished: 2019-01-20
    org_type: gov_component
    region: "441600"
  - {id: org-new, name: 测试市卫生健康局, predecessors: [org-old], established: 2019-01-20, org_type: gov_component, region: "441600"}
"""

CLOUD = """\
format_version: 1
machine_rooms:
  - {id: room-a, name: 甲局机房, owner_org: org-a, room_type: dept_self_built, built_on: 2012-05-01}
cloud_platforms:
  - {id: cloud, name: 测试市政务云, tier: municipal}
  - {id: cloud-nw, name: 测试市政务内网云, tier: intranet_cloud}
cloud_zones:
  - id: z-x86
    platform: cloud
    name: 政务外网x86资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    cpu_arch: x86_64
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 4000, ram_gb: 16000, storage_gb: 400000}
    flavors:
      - {name: 2C4G, vcpus: 2, ram_gb: 4}
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
      - {name: 16C64G, vcpus: 16, ram_gb: 64}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
      - {name: CentOS-6.10-x86_64, os_distribution: centos, os_version: "6.10"}
      - {name: WinServer-2016, os_distribution: windows, os_version: "2016"}
  - id: z-arm
    platform: cloud
    name: 鲲鹏信创资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 3
    cpu_arch: aarch64
    cpu_vendor: kunpeng
    is_xinchuang: true
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 1000, ram_gb: 4000, storage_gb: 100000}
    flavors:
      - {name: kc1.large, vcpus: 2, ram_gb: 4}
      - {name: kc1.xlarge, vcpus: 4, ram_gb: 8}
      - {name: kc1.2xlarge, vcpus: 8, ram_gb: 16}
      - {name: kc1.4xlarge, vcpus: 16, ram_gb: 64}
    images:
      - {name: kylin-v10-aarch64, os_distribution: kylin, os_version: V10, cpu_arch: aarch64, domestic: true}
  - id: z-inet
    platform: cloud
    name: 互联网接入区资源池
    network_zone: internet
    mlps_level: 3
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 1000, ram_gb: 4000, storage_gb: 100000}
    flavors:
      - {name: 2C4G, vcpus: 2, ram_gb: 4}
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
      - {name: WinServer-2016, os_distribution: windows, os_version: "2016"}
  - id: z-l4
    platform: cloud
    name: 四级等保专属资源池
    network_zone: gov_extranet
    extranet_area: private_vpn
    mlps_level: 4
    dedicated_pool: true
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 200, ram_gb: 800, storage_gb: 20000}
    flavors:
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
      - {name: 16C64G, vcpus: 16, ram_gb: 64}
    images:
      - {name: openEuler-22.03-x86_64, os_distribution: openeuler, os_version: "22.03"}
  - id: z-nw
    platform: cloud-nw
    name: 政务内网涉密资源池
    network_zone: gov_intranet
    mlps_level: 3
    accepts_classified: true
    dedicated_pool: true
    cpu_vendor: hygon
    is_xinchuang: true
    dr_mode: realtime_offsite_ha
    capacity: {vcpus: 200, ram_gb: 800, storage_gb: 20000}
    flavors:
      - {name: 4C8G, vcpus: 4, ram_gb: 8}
      - {name: 8C16G, vcpus: 8, ram_gb: 16}
    images:
      - {name: kylin-v10-x86_64, os_distribution: kylin, os_version: V10, domestic: true}
"""

POLICY = """\
format_version: 1
policies:
  - id: p1
    name: 测试市分批次迁移
    start: 2019-01-07
    final_deadline: 2020-12-31
"""


def make_inventory(tmp_path: Path, dept: str = "", *, files: dict[str, str | None] | None = None,
                   name: str = "inv") -> Inventory:
    """Write the default files plus ``dept`` (departments/dept.yaml) and ``files`` (None
    removes a default file); load and validate; return the inventory."""
    root = write_tree(tmp_path / name, dept, files)
    return load(root)


def write_tree(root: Path, dept: str = "", files: dict[str, str | None] | None = None) -> Path:
    texts: dict[str, str | None] = {"inventory.yaml": ROOT, "organizations.yaml": ORGS, "cloud.yaml": CLOUD,
                                    "policy.yaml": POLICY}
    if dept:
        texts["departments/dept.yaml"] = dept
    texts.update(files or {})
    for rel, text in texts.items():
        if text is None:
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def load(root: Path) -> Inventory:
    result = validate_path(root)
    assert result.errors == [], [f"{p.file}: {p.message}" for p in result.errors]
    return result.inventory


def plan_for(inv: Inventory, policy: str = "p1", **kw) -> Plan:
    return build_plan(inv, inv.policies[policy], plan_id=PLAN_ID, inventory_ref=INVENTORY_REF,
                      inputs_digest=DIGEST, **kw)


def violations(plan: Plan, inv: Inventory) -> list[str]:
    return [format_violation(v) for v in check_plan(plan, inv)]


def assert_valid(plan: Plan, inv: Inventory) -> None:
    """No hard-rule violation, and every inventory system exactly once."""
    assert violations(plan, inv) == []
    listed = [i.system for i in plan.items()] + [r.system for r in plan.retained] + \
        [u.system for u in plan.unscheduled]
    assert sorted(listed) == sorted(inv.systems), "every system appears exactly once"


def planned(inv: Inventory, policy: str = "p1", **kw) -> Plan:
    """build_plan, then assert the plan is valid; the plan."""
    plan = plan_for(inv, policy, **kw)
    assert_valid(plan, inv)
    return plan


def item(plan: Plan, system: str) -> PlanItem:
    found = [i for i in plan.items() if i.system == system]
    assert len(found) == 1, f"{system} is not in a batch: {where(plan, system)}"
    return found[0]


def batch_of(plan: Plan, system: str) -> PlanBatch:
    return next(b for b in plan.batches if any(i.system == system for i in b.items))


def batch_index(plan: Plan, system: str) -> int:
    return next(n for n, b in enumerate(plan.batches) if any(i.system == system for i in b.items))


def retained(plan: Plan, system: str) -> Retained:
    found = [r for r in plan.retained if r.system == system]
    assert len(found) == 1, f"{system} is not retained: {where(plan, system)}"
    return found[0]


def unscheduled(plan: Plan, system: str) -> Unscheduled:
    found = [u for u in plan.unscheduled if u.system == system]
    assert len(found) == 1, f"{system} is not unscheduled: {where(plan, system)}"
    return found[0]


def where(plan: Plan, system: str) -> str:
    for b in plan.batches:
        for i in b.items:
            if i.system == system:
                return f"batch {b.id} ({i.strategy.value} → {i.target_zone}, cutover {i.cutover})"
    for r in plan.retained:
        if r.system == system:
            return f"retained ({r.reason_code})"
    for u in plan.unscheduled:
        if u.system == system:
            return f"unscheduled: {u.reasons}"
    return "not in the plan"


# ---------------------------------------------------------------- hand edits through the plan file


def system_line(text: str, system: str) -> str:
    """The plan.yaml line of a system in a batch, retained or unscheduled (one line each)."""
    lines = [line for line in text.splitlines() if line.lstrip().startswith(f'{{"id": "{system}"')]
    assert len(lines) == 1, (system, lines)
    return lines[0]


def hand_edit(plan: Plan, directory: Path, edit) -> Plan:
    """write_plan, apply ``edit(text) -> text`` to the file as a person would, read_plan."""
    directory.mkdir(parents=True, exist_ok=True)
    path = write_plan(plan, directory)
    text = path.read_text(encoding="utf-8")
    new = edit(text)
    assert new != text, "the edit changed nothing"
    path.write_text(new, encoding="utf-8")
    return read_plan(path)


def replace_in_line(text: str, system: str, old: str, new: str) -> str:
    line = system_line(text, system)
    assert old in line, (old, line)
    return text.replace(line, line.replace(old, new))


# ---------------------------------------------------------------- records as one-line YAML


def _flow(d: dict) -> str:
    import json
    return json.dumps(d, ensure_ascii=False, default=str)


def system(sid: str, org: str = "org-a", *, servers: list[str] | None = None, **fields) -> dict:
    """A non-classified level-2 filed extranet system with one server ``<sid>-h1`` unless told otherwise."""
    rec = {"id": sid, "name": f"系统{sid}", "owner_org": org, "network_zone": "gov_extranet", "mlps_level": 2,
           "mlps_status": "filed", "servers": servers if servers is not None else [f"{sid}-h1"]}
    rec.update(fields)
    return {k: v for k, v in rec.items() if v is not None}


def server(sid: str, os: str = "centos", version: str = "7.6", cores: int = 4, ram: int = 8, **fields) -> dict:
    rec = {"id": sid, "hostname": sid, "cores": cores, "ram_gb": ram, "os_distribution": os, "os_version": version}
    rec.update(fields)
    return rec


def servers_for(systems: list[dict], **fields) -> list[dict]:
    """One default server per server id the systems name (first mention wins)."""
    ids = list(dict.fromkeys(x for s in systems for x in s.get("servers", [])))
    return [server(x, **fields) for x in ids]


def dept(systems: list[dict], servers: list[dict] | None = None, **sections: list[dict]) -> str:
    """A department file: the systems, their servers (default ones if not given) and any other sections."""
    out = ["format_version: 1", "systems:"] + [f"  - {_flow(s)}" for s in systems]
    srv = servers if servers is not None else servers_for(systems)
    if srv:
        out += ["servers:"] + [f"  - {_flow(x)}" for x in srv]
    for key, records in sections.items():
        if records:
            out += [f"{key}:"] + [f"  - {_flow(r)}" for r in records]
    return "\n".join(out) + "\n"


def policy(*, start: str | None = "2019-01-07", final: str | None = "2020-12-31", batches: list[dict] = (),
           thresholds: dict | None = None, pid: str = "p1") -> str:
    rec: dict = {"id": pid, "name": "测试市分批次迁移"}
    if start:
        rec["start"] = start
    if final:
        rec["final_deadline"] = final
    if batches:
        rec["batches"] = list(batches)
    if thresholds:
        rec["thresholds"] = thresholds
    return f"format_version: 1\npolicies:\n  - {_flow(rec)}\n"
