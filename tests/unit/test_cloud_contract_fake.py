"""The CloudPort contract (tests/conformance/cloud_contract.py) on the in-memory cloud, plus
the faults only a fake can stage cheaply (quota, Nova ERROR, a failing call)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance.cloud_contract import *  # noqa: E402,F401,F403 — the one suite, collected here
from conformance.cloud_contract import PUBKEY, Env  # noqa: E402

from govcloud.drivers.ports import CloudError, CloudPort, resource_tags  # noqa: E402
from govcloud.testing.fake_cloud import FakeCloud  # noqa: E402


@pytest.fixture
def cloud() -> FakeCloud:
    return FakeCloud(flavors={"c2.m4": (2, 4096)}, networks={"govcloud-net": "198.18.128.0/24"})


class FakeNetLab:
    """``NetLab`` on the in-memory cloud: what an admin would stage, through the fake's helpers."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud

    def isolated(self, name: str, cidr: str, host_routes: list[dict[str, str]] | None = None) -> None:
        self.cloud.add_network(name, cidr, gateway=False, host_routes=host_routes)

    def attach_router(self, network: str) -> None:
        self.cloud.add_router(f"{network}-router", [network])


@pytest.fixture
def netlab(cloud) -> FakeNetLab:
    return FakeNetLab(cloud)


@pytest.fixture
def env() -> Env:
    return Env(plan_id="cf-" + uuid.uuid4().hex[:8], network="govcloud-net", flavor="c2.m4", image="Debian-12-x86_64")


def test_the_fake_is_a_cloud_port(cloud):
    assert isinstance(cloud, CloudPort)


def test_quota_is_a_cloud_error_and_creates_nothing(env):
    cloud = FakeCloud(flavors={"c2.m4": (2, 4096)}, limits={"instances": 1})
    cloud.ensure_keypair("kp", PUBKEY)
    args = dict(plan_id=env.plan_id, system="s", name="n", flavor="c2.m4", image=env.image, network=env.network,
                keypair="kp", security_group="g")
    cloud.ensure_server(server="a", **args)
    with pytest.raises(CloudError) as exc:
        cloud.ensure_server(server="b", **args)
    assert exc.value.kind == "quota" and cloud.find_server(env.plan_id, "s", "b") is None


def test_a_server_in_error_is_removed_and_reported(env):
    cloud = FakeCloud(flavors={"c2.m4": (2, 4096)})
    cloud.error_servers.add("h1")
    with pytest.raises(CloudError) as exc:
        cloud.ensure_server(plan_id=env.plan_id, system="s", server="h1", name="h1", flavor="c2.m4",
                            image=env.image, network=env.network, keypair="kp", security_group="g")
    assert exc.value.kind == "no_valid_host" and exc.value.removed_server["name"] == "h1"
    assert cloud.find_system_resources(env.plan_id, "s") == {}


def test_an_injected_failure_changes_nothing(env):
    cloud = FakeCloud()
    cloud.fail["ensure_security_group"] = CloudError("api", "boom")
    with pytest.raises(CloudError, match="boom"):
        cloud.ensure_security_group("g", [], resource_tags(env.plan_id, "s"), "d")
    assert cloud.find_system_resources(env.plan_id, "s") == {}
    cloud.ensure_security_group("g", [], resource_tags(env.plan_id, "s"), "d")     # one failure only
    assert set(cloud.find_system_resources(env.plan_id, "s")) == {"security_group"}


def test_an_isolated_network_of_the_fake_and_a_router_gateway_on_it():
    cloud = FakeCloud(isolated={"govcloud-rehearsal": "198.19.200.0/24"})
    assert cloud.isolation_problems("govcloud-rehearsal") == []
    assert cloud.network_cidrs()["govcloud-rehearsal"] == ["198.19.200.0/24"]
    rid = cloud.add_router("edge", [], gateway="govcloud-rehearsal")
    probs = cloud.isolation_problems("govcloud-rehearsal")
    assert probs == [f"network 'govcloud-rehearsal' has a router port (network:router_gateway, router {rid})"]
    cloud.remove_router(rid)
    assert cloud.isolation_problems("govcloud-rehearsal") == []
