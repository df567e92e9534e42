"""Synthetic inventory generator at city scale (DOMAIN.md §6); larger scales are measured by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcloud.inventory.generate import generate_inventory, write_generated
from govcloud.inventory.loader import load_inventory
from govcloud.inventory.validate import validate_path
from govcloud.model.enums import AdminLevel, CpuArch, Lifecycle, OsDistribution, Secrecy


@pytest.fixture(scope="module")
def city():
    return generate_inventory("city", 7)


@pytest.fixture(scope="module")
def written(city, tmp_path_factory):
    out = tmp_path_factory.mktemp("city")
    write_generated(city, out)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def test_same_seed_same_bytes_different_seed_different(written, tmp_path):
    write_generated(generate_inventory("city", 7), tmp_path / "again")
    assert _files(tmp_path / "again") == _files(written)
    write_generated(generate_inventory("city", 8), tmp_path / "other")
    assert _files(tmp_path / "other") != _files(written)


def test_city_counts_in_range(city):
    city_orgs = [o for o in city.organizations.values()
                 if city.regions[o.region].level is AdminLevel.prefecture]
    assert 100 <= len(city_orgs) <= 150
    assert 300 <= len(city.systems) <= 900
    assert 1000 <= len(city.servers) <= 3000
    assert 20 <= len(city.machine_rooms) <= 80
    assert 1000 <= len(city.resources) <= 4000


def test_distributions_roughly_right(city):
    systems = list(city.systems.values())
    n = len(systems)
    classified = sum(s.secrecy is Secrecy.classified for s in systems) / n
    assert 0.01 <= classified <= 0.07
    graded = [s.mlps_level for s in systems if s.mlps_level]
    share = {lvl: graded.count(lvl) / len(graded) for lvl in (1, 2, 3, 4)}
    assert 0.05 <= share[1] <= 0.16 and 0.48 <= share[2] <= 0.66 and 0.22 <= share[3] <= 0.38
    assert share[4] <= 0.04
    zombies = [s for s in systems if s.lifecycle is Lifecycle.zombie]
    assert 0.05 <= len(zombies) / n <= 0.15 and all(s.zombie_criteria for s in zombies)
    servers = list(city.servers.values())
    assert sum(s.cpu_arch is CpuArch.x86_64 for s in servers) / len(servers) >= 0.95
    centos = sum(s.os_distribution is OsDistribution.centos for s in servers) / len(servers)
    assert 0.32 <= centos <= 0.5
    deg = len(city.dependencies) / n
    assert 1.3 <= deg <= 3.0
    in_groups = {u for db in city.databases.values() if len(db.used_by) >= 2 for u in db.used_by}
    assert 0.02 <= len(in_groups) / n <= 0.15


def test_policy_and_cloud_present(city):
    policy = city.policy()
    assert policy is not None and city.meta.default_policy == policy.id
    assert policy.batches[0].id == "P0" and policy.final_deadline
    assert all(b.deadline <= policy.final_deadline for b in policy.batches)
    assert any(z.accepts_classified for z in city.cloud_zones.values())
    assert any(z.cpu_arch is CpuArch.aarch64 for z in city.cloud_zones.values())
    assert city.freeze_windows


def test_zero_validation_problems(written):
    result = validate_path(written)
    assert result.errors == []
    assert result.problems == []


def test_round_trip(city, written):
    loaded = load_inventory(written).inventory
    for key in ("organizations", "machine_rooms", "servers", "systems", "databases", "resources",
                "cloud_zones", "takeovers", "policies", "freeze_windows"):
        assert getattr(loaded, key) == getattr(city, key), key
    def key(d):  # the writer groups dependencies by department file, so order may differ
        return (d.from_, d.to, d.type.value)
    assert sorted(loaded.dependencies, key=key) == sorted(city.dependencies, key=key)
    assert loaded.meta == city.meta


def test_refuses_non_empty_directory(city, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        write_generated(city, tmp_path)


def test_force_removes_stale_inventory_files(city, tmp_path):
    (tmp_path / "departments").mkdir()
    (tmp_path / "departments" / "gone.yaml").write_text("format_version: 1\n")
    write_generated(city, tmp_path, force=True)
    assert not (tmp_path / "departments" / "gone.yaml").exists()
    assert validate_path(tmp_path).errors == []


def test_unknown_override_and_scale_rejected():
    with pytest.raises(TypeError):
        generate_inventory("city", 1, no_such_knob=3)
    with pytest.raises(ValueError):
        generate_inventory("galaxy", 1)


def test_overrides_change_the_mix():
    inv = generate_inventory("city", 3, classified_share=0.0, zombie_share=0.3)
    systems = list(inv.systems.values())
    assert not any(s.secrecy is Secrecy.classified for s in systems)
    assert sum(s.lifecycle is Lifecycle.zombie for s in systems) / len(systems) > 0.2
