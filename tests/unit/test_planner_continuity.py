"""Plans a migration lead would sign (issue 17): one small city per class of bad decision.

Each test builds its own small city (planfixtures) where the old planner made the decision
a migration lead rejects, and checks the plan now makes the right one and still passes the
independent validator (rules.check_plan). Reasons are codes rendered by
govcloud/render/reasons.py; the tests read them in both languages.
"""

from __future__ import annotations

from datetime import date, timedelta

from govcloud.model.entities import CapacityExpansion, Image
from govcloud.model.enums import CpuArch, OsDistribution, Strategy
from govcloud.model.plan import REQ_REBUILD
from govcloud.planning.rules import check_plan
from govcloud.render.plan_doc import plan_document
from govcloud.render.reasons import render, render_all

import planfixtures as F
from planfixtures import dept, make_inventory, planned, policy, server, system, write_tree, load


def zone_of(inv, plan, sid):
    return inv.cloud_zones[F.item(plan, sid).target_zone]


def reasons_text(it, lang="en") -> str:
    return " ".join(render(r, lang) for lines in it.reasons.values() for r in lines)


def arm(sid, os="kylin", version="V10", **kw):
    return server(sid, os, version, cpu_arch="aarch64", cpu_vendor="kunpeng", **kw)


# ================================================================ 1. mixed architecture


def test_mixed_architecture_system_is_replatformed_onto_its_majority_architecture(tmp_path):
    # old planner: classed rehost, then no zone fits ("rehost keeps x86_64" / "keeps aarch64")
    inv = make_inventory(tmp_path, dept([system("mix", servers=["mix-h1", "mix-h2", "mix-h3"])],
                                        [server("mix-h1"), server("mix-h2"), arm("mix-h3")]))
    plan = planned(inv)
    it = F.item(plan, "mix")
    assert it.strategy is Strategy.replatform
    assert zone_of(inv, plan, "mix").cpu_arch is CpuArch.x86_64          # 2 of 3 servers are x86
    assert REQ_REBUILD in it.requires
    text = reasons_text(it)
    assert "mixed architectures (aarch64 ×1, x86_64 ×2)" in text and "consolidate onto x86_64" in text
    assert "服务器架构混合" in reasons_text(it, "zh")


# ================================================================ 2./3. 信创 is a decision, not a spill-over


def _nearly_full_x86(inv, vcpus=6):
    inv.cloud_zones["z-x86"].capacity.vcpus = vcpus
    inv.cloud_zones["z-l4"].capacity.vcpus = 1                   # the other x86 pool is full too


def test_x86_systems_never_spill_onto_the_arm_pool(tmp_path):
    # x86 pool holds one system, the Kunpeng pool is empty: the old planner filled it with x86 rebuilds
    systems = [system(f"x{k}", xinchuang_status="compatible") for k in range(3)] + [system("native")]
    servers = [server(f"x{k}-h1") for k in range(3)] + [arm("native-h1")]
    inv = make_inventory(tmp_path, dept(systems, servers))
    _nearly_full_x86(inv)
    plan = F.plan_for(inv)
    assert check_plan(plan, inv) == []
    for i in plan.items():
        z = inv.cloud_zones[i.target_zone]
        if i.system.startswith("x"):
            assert z.cpu_arch is CpuArch.x86_64, (i.system, z.id)
            assert REQ_REBUILD not in i.requires
    moved_x86 = [i.system for i in plan.items() if i.system.startswith("x")]
    assert len(moved_x86) == 1                                    # the others wait for x86 capacity
    for u in plan.unscheduled:
        assert "H-CAP-1" in " ".join(render_all(u.reasons, "en"))
    native = F.item(plan, "native")
    assert zone_of(inv, plan, "native").cpu_arch is CpuArch.aarch64 and native.strategy is Strategy.rehost
    assert "Xinchuang decision" not in reasons_text(native)


def test_native_arm_system_is_not_rebuilt_for_x86(tmp_path):
    # end-of-life OS forces a rebuild: the old planner rebuilt it for the roomier x86 pool
    inv = make_inventory(tmp_path, dept([system("k")], [arm("k-h1", "centos", "6.8")]))
    inv.cloud_zones["z-arm"].images += (Image("openEuler-22.03-aarch64", OsDistribution.openeuler, "22.03",
                                              CpuArch.aarch64, True),)
    plan = planned(inv)
    it = F.item(plan, "k")
    assert it.strategy is Strategy.replatform and zone_of(inv, plan, "k").cpu_arch is CpuArch.aarch64
    assert REQ_REBUILD not in it.requires


def test_xinchuang_by_department_category_and_share_is_explained(tmp_path):
    systems = [system("a1", "org-a"), system("b1", "org-b", category="portal"), system("c1", "org-c"),
               system("c2", "org-c", xinchuang_status="compatible"),
               system("c3", "org-c", xinchuang_status="compatible", servers=["c3-h1", "c3-h2"])]
    inv = make_inventory(tmp_path, dept(systems))
    p = inv.policies["p1"]
    p.xinchuang_orgs, p.xinchuang_categories = ("org-a",), ("portal",)
    p.thresholds.xinchuang_share_pct = 50                        # 1 of the 2 adapted c-systems: the smaller
    plan = planned(inv)
    for sid, why in (("a1", "names department org-a"), ("b1", "names system category portal"),
                     ("c2", "moves 50% of adapted x86 systems")):
        it = F.item(plan, sid)
        assert inv.cloud_zones[it.target_zone].is_xinchuang, sid
        assert it.strategy is Strategy.replatform and why in reasons_text(it), (sid, reasons_text(it))
        assert "信创决定" in reasons_text(it, "zh")
    for sid in ("c1", "c3"):
        assert zone_of(inv, plan, sid).cpu_arch is CpuArch.x86_64 and F.item(plan, sid).strategy is Strategy.rehost


def test_prefer_domestic_false_keeps_x86_on_x86(tmp_path):
    systems = [system(f"x{k}", xinchuang_status="compatible") for k in range(3)]
    inv = make_inventory(tmp_path, dept(systems))
    inv.policies["p1"].thresholds.prefer_domestic = False
    inv.policies["p1"].xinchuang_orgs = ("org-a",)                # ignored without prefer_domestic
    inv.cloud_zones["z-x86"].capacity.vcpus = 3000               # the ARM pool is relatively emptier
    plan = planned(inv)
    for k in range(3):
        it = F.item(plan, f"x{k}")
        assert zone_of(inv, plan, f"x{k}").cpu_arch is CpuArch.x86_64 and REQ_REBUILD not in it.requires


# ================================================================ 4. OS family kept


def test_kylin_stays_kylin_unless_the_policy_names_a_target_os(tmp_path):
    inv = make_inventory(tmp_path, dept([system("ky")], [arm("ky-h1", "kylin", "V10")]))
    p = inv.policies["p1"]
    p.xinchuang_orgs = ("org-a",)
    inv.cloud_zones["z-arm"].images = (Image("openEuler-22.03-aarch64", OsDistribution.openeuler, "22.03",
                                             CpuArch.aarch64, True),) + inv.cloud_zones["z-arm"].images
    # a mixed system forces a rebuild of its Kylin server
    inv2 = make_inventory(tmp_path, dept([system("ky", servers=["ky-h1", "ky-h2", "ky-h3"])],
                                         [arm("ky-h1"), arm("ky-h2"), server("ky-h3")]), name="inv2")
    inv2.cloud_zones["z-arm"].images = inv.cloud_zones["z-arm"].images
    plan = planned(inv2)
    it = F.item(plan, "ky")
    assert it.strategy is Strategy.replatform
    kylin = [x for x in it.servers if x.server in ("ky-h1", "ky-h2")]
    assert kylin and all(x.image == "kylin-v10-aarch64" for x in kylin), it.servers
    assert "OS family Kylin kept" in reasons_text(it)
    inv2.policies["p1"].target_os = OsDistribution.openeuler
    plan = planned(inv2)
    assert all(x.image == "openEuler-22.03-aarch64" for x in F.item(plan, "ky").servers)


# ================================================================ 5. latency-sensitive partners


def test_latency_sensitive_partners_share_a_pool_or_at_least_a_platform(tmp_path):
    deps = [{"from": "app", "to": "db", "type": "sync_api", "latency_sensitive": True},
            {"from": "web", "to": "api", "type": "sync_api", "latency_sensitive": True}]
    inv = make_inventory(tmp_path, dept(
        [system("app"), system("db", xinchuang_status="compatible"), system("web"), system("api")],
        [server("app-h1"), server("db-h1"), arm("web-h1"), server("api-h1")], dependencies=deps))
    plan = planned(inv)
    assert F.item(plan, "app").target_zone == F.item(plan, "db").target_zone
    web, api = F.item(plan, "web"), F.item(plan, "api")
    assert web.move_group == api.move_group
    zw, za = inv.cloud_zones[web.target_zone], inv.cloud_zones[api.target_zone]
    assert zw.platform == za.platform
    if zw.id != za.id:   # different architectures: one platform, and the reason says why
        second = web if web.system > api.system else api
        assert "same platform cloud as its move group" in reasons_text(second)


def test_a_minicomputer_follows_its_latency_sensitive_partner_into_its_pool(tmp_path):
    # the minicomputer is rebuilt anyway and may land on any architecture: it takes its x86 partner's
    # pool instead of the (emptier, 信创) ARM pool that would split the pair (Heyuan's jiaoyuju-s04/v02)
    deps = [{"from": "a-mini", "to": "b-app", "type": "sync_api", "latency_sensitive": True}]
    inv = make_inventory(tmp_path, dept(
        [system("a-mini"), system("b-app")],
        [server("a-mini-h1", "aix", "7.1", kind="minicomputer", cpu_arch="ppc64", cpu_vendor="ibm"),
         server("b-app-h1")], dependencies=deps))
    plan = planned(inv)
    mini, app = F.item(plan, "a-mini"), F.item(plan, "b-app")
    assert mini.strategy is Strategy.replatform and app.strategy is Strategy.rehost
    assert mini.target_zone == app.target_zone == "z-x86"
    assert "same zone as its move group" in reasons_text(mini)
    assert "信创 stack" not in reasons_text(mini) and "rebuilt on the target pool's architecture" in reasons_text(mini)


# ================================================================ 6. a low-risk pilot


def test_pilot_holds_no_risky_system(tmp_path):
    risky = [system("l4", mlps_level=4, mlps_status="assessed"),
             system("mini"), system("eol"),
             system("xa", "org-a", servers=["shared-h1"]), system("xb", "org-b", servers=["shared-h1"])]
    safe = [system("ok1"), system("ok2", "org-b")]
    servers = [server("l4-h1", cores=8, ram=16), server("mini-h1", "aix", "7.1", kind="minicomputer",
                                                        cpu_arch="ppc64", cpu_vendor="ibm"),
               server("eol-h1", "centos", "6.8"), server("shared-h1"), server("ok1-h1"), server("ok2-h1")]
    inv = make_inventory(tmp_path, dept(risky + safe, servers), files={"policy.yaml": policy(
        thresholds={"pilot_max_servers": 10})})
    plan = planned(inv)
    pilot = plan.batches[0]
    assert pilot.pilot
    assert {i.system for i in pilot.items} == {"ok1", "ok2"}
    assert all("low risk" in reasons_text(i) for i in pilot.items)
    for sid in ("l4", "mini", "eol", "xa", "xb"):
        assert F.batch_index(plan, sid) > 0, sid


# ================================================================ 7. machine-room lease expiry


ROOM_CLOUD = F.CLOUD.replace(
    "  - {id: room-a, name: 甲局机房, owner_org: org-a, room_type: dept_self_built, built_on: 2012-05-01}",
    "  - {id: room-a, name: 甲局机房, owner_org: org-a, room_type: dept_self_built, built_on: 2012-05-01}\n"
    "  - {id: room-idc, name: 租用IDC, owner_org: org-a, room_type: carrier_idc, lease_expiry: 2019-03-31}")


def test_lease_expiry_is_a_deadline_and_a_missed_one_is_flagged(tmp_path):
    systems = [system(f"s{k:02d}") for k in range(16)]
    servers = [server(f"s{k:02d}-h1", machine_room="room-idc") for k in range(16)]
    inv = make_inventory(tmp_path, dept(systems, servers), files={
        "cloud.yaml": ROOM_CLOUD, "policy.yaml": policy(thresholds={"servers_per_week": 1, "pilot_max_servers": 1})})
    plan = planned(inv)
    moved = [i for i in plan.items()]
    assert moved and all(i.cutover <= date(2019, 3, 31) for i in moved)
    assert plan.unscheduled                                       # 1 server a week cannot empty it in time
    text = " ".join(render_all(plan.unscheduled[0].reasons, "en"))
    assert "2019-03-31" in text and "the lease expiry of machine room room-idc" in text, text
    assert "机房 room-idc 的租约到期日" in " ".join(render_all(plan.unscheduled[0].reasons, "zh"))
    room = next(r for r in plan.rooms if r.room == "room-idc")
    assert room.deadline == date(2019, 3, 31) and room.deadline_missed
    assert "未能在租约到期日 2019-03-31 前腾空" in plan_document(plan, inv)


def test_validator_catches_a_cutover_after_the_lease(tmp_path):
    inv = make_inventory(tmp_path, dept([system("s")], [server("s-h1", machine_room="room-idc")]),
                         files={"cloud.yaml": ROOM_CLOUD})
    plan = planned(inv)
    edited = F.hand_edit(plan, tmp_path / "p", lambda t: t.replace(str(F.item(plan, "s").cutover), "2019-04-06"))
    assert any(v.rule == "H-ROOM-2" and v.system == "s" for v in check_plan(edited, inv))


# ================================================================ 8. takeover-aware throughput


def test_no_work_for_a_department_before_its_takeover(tmp_path):
    # 16 servers at 6/week, takeover on Thursday 2019-02-21: the old planner counted the weeks before
    # and cut over that Saturday
    sids = [f"big-h{k}" for k in range(16)]
    inv = make_inventory(tmp_path, dept([system("big", servers=sids)], [server(x, cores=1, ram=2) for x in sids],
                                        takeovers=[{"id": "tk", "org": "org-a", "planned_date": "2019-02-21",
                                                    "status": "in_progress"}]),
                         files={"policy.yaml": policy(thresholds={"servers_per_week": 6, "pilot_max_servers": 2,
                                                                  "headroom_pct": 0})})
    plan = planned(inv, batch_weeks=8)
    cut = F.item(plan, "big").cutover
    # 2 days of the takeover week (6×3//6 = 3) + 6 + 6 = 15 < 16: the fourth Saturday at the earliest
    assert cut >= date(2019, 2, 23) + timedelta(weeks=3), cut


# ================================================================ 9./10. whose date, repurchase


def test_unscheduled_reason_names_the_group_and_whose_dates_bind(tmp_path):
    inv = make_inventory(tmp_path, dept(
        [system("a", "org-a", servers=["sh-h1"]), system("b", "org-b", servers=["sh-h1"])],
        [server("sh-h1")], takeovers=[{"id": "tk-b", "org": "org-b", "planned_date": "2019-09-30",
                                       "status": "in_progress"}]),
        files={"policy.yaml": policy(batches=[{"id": "M1", "name": "第一批迁移", "kind": "migration",
                                               "deadline": "2019-06-30", "scope_orgs": ["org-a"]}])})
    plan = planned(inv)
    u = F.unscheduled(plan, "a")
    en = " ".join(render_all(u.reasons, "en"))
    assert "move group mg-a" in en and "2019-06-30 (a: M1)" in en and "takeover of 乙局 (org-b, b)" in en, en
    zh = " ".join(render_all(u.reasons, "zh"))
    assert "迁移组 mg-a" in zh and "乙局（org-b，b）的接管" in zh, zh
    assert "moves together with a (group mg-a)" in " ".join(render_all(F.unscheduled(plan, "b").reasons, "en"))


def test_repurchase_does_not_wait_for_the_server_takeover(tmp_path):
    inv = make_inventory(tmp_path, dept([system("portal", covered_by_platform="统一门户")], takeovers=[
        {"id": "tk", "org": "org-a", "planned_date": "2019-09-30", "status": "in_progress"}]))
    plan = planned(inv)
    it = F.item(plan, "portal")
    assert it.strategy is Strategy.repurchase and it.cutover < date(2019, 9, 30)


# ================================================================ 11. dated capacity expansions


def test_zone_expansion_is_used_instead_of_leaving_systems_unscheduled(tmp_path):
    inv = make_inventory(tmp_path, dept([system(f"h{k}", network_zone="internet") for k in range(4)]),
                         files={"policy.yaml": policy(batches=[{"id": "M1", "name": "先行", "kind": "migration",
                                                                "deadline": "2019-03-31",
                                                                "scope_systems": ["h0", "h1"]}])})
    z = inv.cloud_zones["z-inet"]
    z.capacity.vcpus = 8                                          # two 4-vCPU systems now
    z.expansions = (CapacityExpansion(date(2019, 6, 1), vcpus=8),)
    plan = planned(inv)
    cuts = sorted(F.item(plan, f"h{k}").cutover for k in range(4))
    assert not plan.unscheduled
    assert cuts[1] < date(2019, 6, 1) <= cuts[2]
    lb_text = render(plan.lower_bound.explanation, "en")
    assert "z-inet 2019-06-01" in lb_text and "needs the expansion of 2019-06-01" in lb_text, lb_text
    # h0, h1 by 2019-03-31 and the others only after the expansion: two cutover dates at least
    assert plan.lower_bound.by_takeover == 2
    # the validator counts the expansion only from its date
    late = next(i.system for i in plan.items() if i.cutover >= date(2019, 6, 1))
    edited = F.hand_edit(plan, tmp_path / "p", lambda t: F.replace_in_line(
        t, late, f'"cutover": "{F.item(plan, late).cutover}"', '"cutover": "2019-01-12"'))
    assert "H-CAP-1" in {v.rule for v in check_plan(edited, inv)}


def test_expansions_and_xinchuang_policy_load_from_yaml(tmp_path):
    cloud = F.CLOUD.replace("    capacity: {vcpus: 1000, ram_gb: 4000, storage_gb: 100000}\n    flavors:\n"
                            "      - {name: kc1.large",
                            "    capacity: {vcpus: 1000, ram_gb: 4000, storage_gb: 100000}\n"
                            "    expansions:\n      - {date: 2019-06-01, vcpus: 500, note: 二期扩容}\n"
                            "    flavors:\n      - {name: kc1.large", 1)
    assert cloud != F.CLOUD
    pol = ("format_version: 1\npolicies:\n  - id: p1\n    name: 测试\n    start: 2019-01-07\n"
           "    xinchuang_orgs: [org-a]\n    xinchuang_categories: [portal]\n    target_os: kylin\n"
           "    thresholds: {xinchuang_share_pct: 30}\n")
    inv = load(write_tree(tmp_path / "ok", dept([system("s")]), {"cloud.yaml": cloud, "policy.yaml": pol}))
    assert inv.cloud_zones["z-arm"].expansions[0].vcpus == 500
    p = inv.policies["p1"]
    assert p.xinchuang_orgs == ("org-a",) and p.thresholds.xinchuang_share_pct == 30
    from govcloud.inventory.schema import inventory_schema
    from govcloud.inventory.validate import validate_path
    schema = str(inventory_schema())
    assert "expansions" in schema and "xinchuang_share_pct" in schema and "closure_date" in schema
    bad = write_tree(tmp_path / "bad", dept([system("s")]), {"cloud.yaml": cloud.replace("date: 2019-06-01, ", ""),
                                                             "policy.yaml": pol.replace("org-a]", "org-zz]")})
    errors = validate_path(bad).errors
    assert any("cloud.yaml" in str(e.file) for e in errors) and any("org-zz" in e.message for e in errors), \
        [(str(e.file), e.message) for e in errors]


# ================================================================ 12./14. language and the lower bound


def test_everything_the_plan_prints_follows_the_language(tmp_path):
    inv = make_inventory(tmp_path, dept([system(f"s{k:02d}") for k in range(6)]), files={"policy.yaml": policy(
        final="2019-02-16", thresholds={"servers_per_week": 1, "pilot_max_servers": 1})})
    plan = planned(inv)
    assert plan.unscheduled
    zh, en = plan_document(plan, inv), plan_document(plan, inv, lang="en")
    table_zh = zh.split("## 六、")[1].split("## 七、")[0]
    assert "cannot be met" not in table_zh and "无法满足" in table_zh
    assert "cannot meet the deadline" in en.split("## 6.")[1]
    assert "试点批次" not in en and "第1批" not in en and "pilot" in en
    assert "throughput:" not in zh and "吞吐量" in zh


def test_lower_bound_counts_the_servers_that_move(tmp_path):
    inv = make_inventory(tmp_path, dept([system("a", servers=["a-h1", "a-h2"]), system("z", lifecycle="zombie",
                                                                                  zombie_criteria=["idle_resources"]),
                                         system("r", covered_by_platform="统一门户")]))
    plan = planned(inv)
    moved = sum(len(i.servers) for i in plan.items())
    assert moved == 2
    text = render(plan.lower_bound.explanation, "en")
    assert "2 servers moved + 2 retire/replace action(s)" in text, text


def test_native_architecture_without_a_pool_is_replatformed_with_that_reason(tmp_path):
    # a Kunpeng Internet-facing system: the ARM pool is on the extranet only (the old planner left it
    # unscheduled with "rehost keeps the architecture")
    inv = make_inventory(tmp_path, dept([system("web", network_zone="internet")], [arm("web-h1")]))
    plan = planned(inv)
    it = F.item(plan, "web")
    assert it.strategy is Strategy.replatform and it.target_zone == "z-inet" and REQ_REBUILD in it.requires
    assert "no aarch64 pool meets the hard rules" in reasons_text(it)
