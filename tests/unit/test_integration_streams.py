"""The integration tests run as two streams side by side (tests/harness_sharing.py): HOSTS_ONLY modules
beside the rest. That is only safe while a HOSTS_ONLY module touches nothing the other stream
touches: no cloud, no DNS/HAProxy, no state database, and test hosts named in it and in no other
integration module (never "any host" picked from the pool)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import harness_sharing

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
SHARED = ("openstack_cloud", "bridged_cloud", "rehearsal_cloud", "netsvc", "state_db", "fresh_state_db",
          "throwaway_project", "GOVCLOUD_HARNESS_DNS", "GOVCLOUD_HARNESS_HAPROXY", "GOVCLOUD_HARNESS_STATE_URL")
ANY_HOST = re.compile(r"test_hosts\.(plain\(|by_role\(|hosts\[)")   # by position or role, not by name


def hosts_named(text: str) -> set[str]:
    names = set(re.findall(r"""["'](h\d+)["']""", text))
    for a, b in re.findall(r"""f["']h\{i\}["'] for i in range\((\d+), (\d+)\)""", text):
        names |= {f"h{i}" for i in range(int(a), int(b))}
    return names


def modules() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(INTEGRATION.glob("test_*.py"))}


def test_every_hosts_only_module_exists():
    assert harness_sharing.HOSTS_ONLY <= set(modules()), harness_sharing.HOSTS_ONLY - set(modules())


@pytest.mark.parametrize("name", sorted(harness_sharing.HOSTS_ONLY))
def test_a_hosts_only_module_shares_nothing_with_the_other_stream(name):
    mods = modules()
    text = mods[name]
    assert not [s for s in SHARED if re.search(rf"\b{s}\b", text)], f"{name} uses a shared harness service"
    assert not ANY_HOST.search(text), f"{name} picks hosts from the pool instead of naming its own"
    mine = hosts_named(text)
    assert mine, f"{name} names no test host of its own"
    for other, otext in mods.items():
        if other != name:
            assert not (mine & hosts_named(otext)), (name, other, sorted(mine & hosts_named(otext)))


def test_the_check_sees_a_shared_host_and_a_shared_service():
    """The checks above can fail: a named host and a range are found, a fixture is seen."""
    assert hosts_named('SRC = "h31"\nREACHED = [f"h{i}" for i in range(1, 4)]') == {"h31", "h1", "h2", "h3"}
    assert ANY_HOST.search("dst = test_hosts.plain()[-1]")
    assert re.search(r"\bbridged_cloud\b", "def drill(test_hosts, bridged_cloud):")


def test_integration_tests_go_to_the_two_streams_and_unit_tests_to_neither():
    s = harness_sharing.integration_stream
    assert s("tests/integration/test_migrate_roles.py::test_x") == "tests/integration (hosts only)"
    assert s("tests/integration/test_migrate_e2e.py::test_x") == "tests/integration"
    assert s("tests/unit/test_cli.py::test_x") is None
