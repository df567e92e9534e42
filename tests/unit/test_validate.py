"""One failing example per validation rule, and the clean baseline they break."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcloud.inventory.validate import validate_path

from invtree import DEPT, ORGS, ROOMS_AND_CLOUD, ROOT, codes, write_inventory_tree


def only(path: Path, code: str):
    found = [p for p in validate_path(path).problems if p.code == code]
    assert found, f"expected a {code} problem"
    return found


def test_baseline_is_clean(mini: Path) -> None:
    result = validate_path(mini)
    assert [p.code for p in result.problems] == []
    inv = result.inventory
    assert len(inv.systems) == 2 and len(inv.servers) == 3 and len(inv.organizations) == 4
    # the M:N link is stored on systems and derived for servers
    assert inv.server_systems["wjj-db-01"] == ["wjj-hisp", "wjj-phis"]


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(
        "    mlps_level: 2\n", "    mlps_level: 2\n   broken: [\n")})
    p = only(root, "yaml-syntax")[0]
    assert p.file == "departments/hy-wjj.yaml" and p.line is not None and p.is_error


def test_wrong_type_and_unknown_key_and_enum(tmp_path: Path) -> None:
    dept = DEPT.replace("cores: 8,", 'cores: "8",').replace(
        "    mlps_level: 2\n", "    mlps_levle: 2\n    lifecycle: 在用中\n")
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept})
    result = validate_path(root)
    by_code = {p.code: p for p in result.problems}
    assert by_code["wrong-type"].field == "cores" and by_code["wrong-type"].hint == "remove the quotes"
    assert by_code["unknown-key"].hint == "did you mean 'mlps_level'?"
    assert by_code["unknown-key"].line == 16 and by_code["unknown-key"].entity_id == "wjj-phis"
    assert by_code["unknown-value"].field == "lifecycle" and "in_service" in by_code["unknown-value"].message


def test_chinese_enum_labels_are_accepted(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(
        "    mlps_level: 2\n", "    mlps_level: 2\n    lifecycle: 在用\n    importance: 非常重要\n")})
    result = validate_path(root)
    assert result.problems == []
    assert result.inventory.systems["wjj-phis"].importance.value == "very_important"


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    extra = "format_version: 1\nservers:\n  - {id: wjj-app-01, hostname: x, cores: 1, ram_gb: 1, os_distribution: debian}\n"
    root = write_inventory_tree(tmp_path, {"departments/other.yaml": extra})
    p = only(root, "duplicate-id")[0]
    assert p.file == "departments/other.yaml" and p.line == 3
    assert "first in departments/hy-wjj.yaml" in p.message


@pytest.mark.parametrize("old,new,field", [
    ("owner_org: hy-wjj\n    network_zone: gov_extranet\n    mlps_level: 2",
     "owner_org: hy-wjjj\n    network_zone: gov_extranet\n    mlps_level: 2", "owner_org"),
    ("machine_room: room-wjj, cores: 4", "machine_room: room-wj, cores: 4", "machine_room"),
    ("servers: [wjj-app-02, wjj-db-01]", "servers: [wjj-app-03, wjj-db-01]", "servers"),
    ("used_by: [wjj-hisp, wjj-phis]", "used_by: [wjj-hisp, wjj-phiz]", "used_by"),
    ("{from: wjj-phis, to: wjj-hisp", "{from: wjj-phis, to: wjj-hsip", "to"),
])
def test_dangling_references_with_did_you_mean(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in DEPT
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(old, new)})
    p = only(root, "dangling-reference")[0]
    assert p.field == field and p.is_error
    assert p.hint and p.hint.startswith("did you mean")
    assert p.file == "departments/hy-wjj.yaml" and p.line is not None


def test_dangling_database_zone_and_policy_refs(tmp_path: Path) -> None:
    cloud = ROOMS_AND_CLOUD.replace("platform: hy-cloud\n", "platform: hy-clou\n").replace(
        "scope_orgs: [hy-wjj]", "scope_orgs: [hy-nobody]")
    root = write_inventory_tree(tmp_path, {"cloud.yaml": cloud, "inventory.yaml": ROOT.replace(
        "default_policy: p1", "default_policy: p2")})
    fields = sorted(p.field for p in validate_path(root).problems if p.code == "dangling-reference")
    assert fields == ["default_policy", "platform", "scope_orgs"]


def test_department_names_resolve_through_aliases(tmp_path: Path) -> None:
    dept = DEPT.replace("owner_org: hy-wjj\n    network_zone: gov_extranet\n    mlps_level: 3",
                        "owner_org: 卫计局\n    network_zone: gov_extranet\n    mlps_level: 3")
    cloud = ROOMS_AND_CLOUD.replace("scope_orgs: [hy-wjj]", "scope_orgs: [河源市卫生和计划生育局]")
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept, "cloud.yaml": cloud})
    result = validate_path(root)
    assert not result.errors
    assert sorted(p.field for p in result.problems if p.code == "alias-resolved") == ["owner_org", "scope_orgs"]
    # references are rewritten to ids, so later stages only ever see ids
    assert result.inventory.systems["wjj-hisp"].owner_org == "hy-wjj"
    assert result.inventory.policies["p1"].batches[0].scope_orgs == ("hy-wjj",)
    assert result.inventory.current_orgs("hy-wjj") == ["hy-wsjkj"]


def test_ambiguous_alias_is_an_error(tmp_path: Path) -> None:
    orgs = ORGS + "  - {id: hy-wjj2, name: 河源市卫计局二, aliases: [卫计局]}\n"
    dept = DEPT.replace("owner_org: hy-wjj\n    network_zone: gov_extranet\n    mlps_level: 3",
                        "owner_org: 卫计局\n    network_zone: gov_extranet\n    mlps_level: 3")
    root = write_inventory_tree(tmp_path, {"organizations.yaml": orgs, "departments/hy-wjj.yaml": dept})
    assert "ambiguous-reference" in codes(root, "error")


def test_system_without_servers(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(
        "servers: [wjj-app-02, wjj-db-01]", "servers: []")})
    p = [x for x in validate_path(root).problems if x.code == "no-servers"][0]
    assert p.is_error and p.entity_id == "wjj-phis"
    # wjj-app-02 is now used by nobody
    assert "orphan-server" in codes(root, "warning")


def test_planned_system_without_servers_is_only_a_warning(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(
        "servers: [wjj-app-02, wjj-db-01]", "lifecycle: planned\n    servers: []")})
    assert [p.severity.value for p in validate_path(root).problems if p.code == "no-servers"] == ["warning"]


def test_orphan_server(tmp_path: Path) -> None:
    lonely = ("format_version: 1\nservers:\n  - {id: lonely, hostname: lonely-01, cores: 2, ram_gb: 4, "
              "os_distribution: windows, os_version: '2008 R2'}\n")
    root = write_inventory_tree(tmp_path, {"departments/spare.yaml": lonely})
    orphans = [p for p in validate_path(root).problems if p.code == "orphan-server"]
    assert [(p.entity_id, p.file, p.line) for p in orphans] == [("lonely", "departments/spare.yaml", 3)]


@pytest.mark.parametrize("zone", ["gov_extranet", "internet", "政务外网"])
def test_classified_system_on_open_network(tmp_path: Path, zone: str) -> None:
    dept = DEPT.replace("name: 全民健康信息平台\n    owner_org: hy-wjj\n    network_zone: gov_extranet",
                        f"name: 全民健康信息平台\n    owner_org: hy-wjj\n    secrecy: classified\n"
                        f"    secrecy_grade: secret\n    network_zone: {zone}")
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept})
    p = only(root, "classified-on-open-network")[0]
    assert p.is_error and p.field == "network_zone" and p.entity_id == "wjj-hisp"


def test_classified_system_on_intranet_is_fine(tmp_path: Path) -> None:
    dept = DEPT.replace("name: 全民健康信息平台\n    owner_org: hy-wjj\n    network_zone: gov_extranet",
                        "name: 全民健康信息平台\n    owner_org: hy-wjj\n    secrecy: 涉密\n"
                        "    secrecy_grade: 秘密\n    network_zone: gov_intranet")
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept})
    assert validate_path(root).problems == []


@pytest.mark.parametrize("old,new,code", [
    ("go_live: 2016-01-01", "go_live: 2016-02-30", "bad-date"),
    ("go_live: 2016-01-01", "go_live: 2014-01-01", "date-order"),
    ("go_live: 2016-01-01", "go_live: 2216-01-01", "implausible-date"),
    ("go_live: 2016-01-01", "go_live: 2016-01-01\n    last_used_at: 2019-05-01", "date-after-census"),
    ("go_live: 2016-01-01", "go_live: 2016-13-01", "bad-date"),
])
def test_impossible_dates(tmp_path: Path, old: str, new: str, code: str) -> None:
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": DEPT.replace(old, new)})
    p = only(root, code)[0]
    assert p.is_error and p.entity_id == "wjj-hisp"


def test_freeze_window_ending_before_it_starts(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"cloud.yaml": ROOMS_AND_CLOUD.replace(
        "end: 2019-03-15", "end: 2019-02-15")})
    p = only(root, "date-order")[0]
    assert p.kind == "freeze_window" and p.file == "cloud.yaml"


def test_seed_date_forms_parse(tmp_path: Path) -> None:
    cloud = ROOMS_AND_CLOUD.replace("deadline: 2019-03-31", "deadline: 201903月底").replace(
        "final_deadline: 2020-12-31", "final_deadline: 2020年12月31日")
    root = write_inventory_tree(tmp_path, {"cloud.yaml": cloud})
    result = validate_path(root)
    assert result.problems == []
    policy = result.inventory.policies["p1"]
    assert policy.batches[0].deadline.isoformat() == "2019-03-31"
    assert policy.final_deadline.isoformat() == "2020-12-31"


def test_lineage_cycle(tmp_path: Path) -> None:
    orgs = ORGS.replace("    predecessors: [hy-wjj]\n", "    predecessors: [hy-wjj]\n    successors: [hy-wjj]\n")
    assert "lineage-cycle" in codes(write_inventory_tree(tmp_path, {"organizations.yaml": orgs}), "error")


def test_parent_cycle(tmp_path: Path) -> None:
    orgs = ORGS.replace("name: 河源市国土资源局\n", "name: 河源市国土资源局\n    parent: hy-xxzx\n").replace(
        "name: 河源市信息中心\n", "name: 河源市信息中心\n    parent: hy-gtj\n")
    assert "lineage-cycle" in codes(write_inventory_tree(tmp_path, {"organizations.yaml": orgs}), "error")


def test_abolished_owner_warns_with_successor(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"inventory.yaml": (
        "format_version: 1\ninventory: {name: x, as_of: 2019-06-01, default_policy: p1}\n")})
    p = only(root, "owner-abolished")[0]
    assert p.severity.value == "warning" and "hy-wsjkj" in (p.hint or "")


def test_cloud_zone_rules(tmp_path: Path) -> None:
    cloud = ROOMS_AND_CLOUD.replace("    mlps_level: 3\n    cpu_arch: x86_64\n",
                                    "    mlps_level: 3\n    cpu_arch: x86_64\n    accepts_classified: true\n"
                                    "    in_china: false\n")
    found = codes(write_inventory_tree(tmp_path, {"cloud.yaml": cloud}), "error")
    assert "classified-zone-open" in found and "zone-outside-china" in found


def test_declared_count_mismatch_warns(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"cloud.yaml": ROOMS_AND_CLOUD.replace(
        "declared_count: 1", "declared_count: 10")})
    p = only(root, "declared-count-mismatch")[0]
    assert p.severity.value == "warning" and "states 10" in p.message


def test_self_dependency_and_bad_ip_and_grade(tmp_path: Path) -> None:
    dept = DEPT.replace("{from: wjj-phis, to: wjj-hisp", "{from: wjj-phis, to: wjj-phis").replace(
        "ips: [198.18.10.11]", "ips: [198.18.10.999]").replace(
        "    mlps_level: 2\n", "    mlps_level: 2\n    secrecy_grade: secret\n")
    found = codes(write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept}), "error")
    assert {"self-dependency", "bad-ip", "grade-without-secrecy"} <= set(found)


def test_zombie_without_criteria_and_vertical_without_authority(tmp_path: Path) -> None:
    dept = DEPT.replace("    mlps_level: 2\n", "    mlps_level: 2\n    lifecycle: zombie\n").replace(
        "    mlps_level: 3\n", "    mlps_level: 3\n    build_mode: national_vertical\n")
    found = codes(write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept}), "warning")
    assert {"zombie-without-criteria", "vertical-without-authority"} <= set(found)


def test_new_machine_room_after_ban(tmp_path: Path) -> None:
    cloud = ROOMS_AND_CLOUD.replace("final_deadline: 2020-12-31",
                                    "final_deadline: 2020-12-31\n    thresholds: {no_new_machine_room_after: 2018-11-11}"
                                    ).replace("built_on: 2012-05-01", "built_on: 2019-05-01")
    assert "new-machine-room" in codes(write_inventory_tree(tmp_path, {"cloud.yaml": cloud}), "warning")
    exempt = cloud.replace("built_on: 2019-05-01", "built_on: 2019-05-01, secrecy_exemption: {approved: true}")
    assert "new-machine-room" not in codes(write_inventory_tree(tmp_path, {"cloud.yaml": exempt}))


def test_every_problem_at_once(tmp_path: Path) -> None:
    """Problems in different files and of different tiers are all reported in one run."""
    dept = DEPT.replace("cores: 8,", "cores: -1,").replace("to: wjj-hisp", "to: nowhere")
    orgs = ORGS.replace("org_type: public_institution", "org_type: nonsense")
    root = write_inventory_tree(tmp_path, {"departments/hy-wjj.yaml": dept, "organizations.yaml": orgs,
                                           "departments/broken.yaml": "format_version: 1\nsystems: {a: 1}\n"})
    result = validate_path(root)
    assert {"out-of-range", "dangling-reference", "unknown-value", "wrong-type"} <= {p.code for p in result.errors}
    assert len({p.file for p in result.errors}) == 3


def test_observations_merge_into_observed_without_touching_what_people_wrote(tmp_path: Path) -> None:
    observed = (
        "format_version: 1\n"
        "observations:\n"
        "  - {source: 'import:rvtools', server: wjj-app-01, collected_at: '2018-10-01T00:00:00Z',"
        " facts: {cores: 4, utilization: {cpu_p95_pct: 90}}}\n"
        "  - {source: 'discovery:ssh', server: wjj-app-01, collected_at: '2018-11-01T00:00:00Z',"
        " facts: {utilization: {cpu_p95_pct: 20, mem_p95_pct: 35}, kernel: 3.10.0}}\n"
        "  - {source: 'discovery:ssh', server: nowhere-01, facts: {}}\n"
        "  - {source: 'discovery:ssh', facts: {}}\n"
    )
    root = write_inventory_tree(tmp_path, {"observed/discovery.yaml": observed})
    result = validate_path(root)
    assert sorted(p.code for p in result.errors) == ["dangling-reference", "observation-target"]
    srv = result.inventory.servers["wjj-app-01"]
    assert srv.cores == 8  # what the person wrote stays
    assert srv.observed["utilization"] == {"cpu_p95_pct": 20, "mem_p95_pct": 35}  # the latest collection wins
    assert srv.observed["cores"] == 4 and srv.observed["kernel"] == "3.10.0"
    assert [x["source"] for x in srv.observed["_sources"]] == ["import:rvtools", "discovery:ssh"]


def test_parsed_cache_gives_the_same_inventory_without_parsing_again(monkeypatch) -> None:
    """An import loads the inventory twice; the second load reuses the parsed YAML of unchanged files."""
    import yaml

    from govcloud.base import reader
    from govcloud.inventory.loader import load_inventory
    from govcloud.base.reader import ParsedCache
    from govcloud.inventory.validate import validate

    heyuan = Path(__file__).resolve().parents[2] / "inventories" / "heyuan"

    def snapshot(result):
        validate(result)
        return (result.inventory.counts(), sorted(result.inventory.origin.items()),
                [p.to_json() for p in result.problems], result.digests)

    fresh = snapshot(load_inventory(heyuan))
    cache = ParsedCache()
    first = snapshot(load_inventory(heyuan, cache=cache))
    parses = []
    real_load = yaml.load
    monkeypatch.setattr(reader.yaml, "load", lambda *a, **k: parses.append(1) or real_load(*a, **k))
    second = snapshot(load_inventory(heyuan, cache=cache))
    assert fresh == first == second and cache.data
    assert parses == []                 # every YAML file came from the cache
    small = ParsedCache(budget_bytes=0)                 # over budget: nothing kept, still correct
    assert snapshot(load_inventory(heyuan, cache=small)) == fresh and not small.data
