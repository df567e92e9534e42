"""The CloudPort contract (tests/conformance/cloud_contract.py) on the harness's real OpenStack,
through drivers.openstack.OpenStackCloud — the same tests the in-memory cloud passes in
tests/unit/test_cloud_contract_fake.py. Each test uses a fresh plan id and removes what it made."""

from __future__ import annotations

import contextlib
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance.cloud_contract import *  # noqa: E402,F401,F403 — the one suite, collected here
from conformance.cloud_contract import Env  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.openstack]


@pytest.fixture
def cloud(openstack_cloud):
    from govcloud.drivers.openstack import OpenStackCloud
    return OpenStackCloud.connect(openstack_cloud.member_cloud, config_file=str(openstack_cloud.clouds_yaml))


@pytest.fixture
def env(cloud):
    e = Env(plan_id="cf-" + uuid.uuid4().hex[:8], network="govcloud-net", flavor="c2.m4", image="Debian-12-x86_64")
    yield e
    for kp in list(cloud.conn.compute.keypairs()):       # keypairs are not per system: by name
        if kp.name.startswith(e.plan_id):
            with contextlib.suppress(Exception):
                cloud.conn.compute.delete_keypair(kp.name, ignore_missing=True)


class OpenStackNetLab:
    """``NetLab`` on the harness's Neutron, as the member project: a tenant (vxlan) network with a
    gateway-less subnet, a router with an interface on a port of it; everything removed at teardown."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.networks: list = []
        self.routers: list = []

    def isolated(self, name: str, cidr: str, host_routes=None) -> None:
        net = self.conn.network.create_network(name=name)
        self.networks.append(net)
        self.conn.network.create_subnet(network_id=net.id, name=f"{name}-subnet", ip_version=4, cidr=cidr,
                                        gateway_ip=None, is_dhcp_enabled=False, dns_nameservers=[],
                                        host_routes=list(host_routes or []))

    def attach_router(self, network: str) -> None:
        net = self.conn.network.find_network(network)
        router = self.conn.network.create_router(name=f"{network}-router")
        self.routers.append(router)
        # the subnet has no gateway address to plug a router into: an interface on a port of its own
        port = self.conn.network.create_port(network_id=net.id, name=f"{network}-router-port")
        self.conn.network.add_interface_to_router(router, port_id=port.id)

    def remove(self) -> None:
        for r in self.routers:
            for p in self.conn.network.ports(device_id=r.id):
                with contextlib.suppress(Exception):
                    self.conn.network.remove_interface_from_router(r, port_id=p.id)
            with contextlib.suppress(Exception):
                self.conn.network.delete_router(r, ignore_missing=True)
        for n in self.networks:
            for p in self.conn.network.ports(network_id=n.id):
                with contextlib.suppress(Exception):
                    self.conn.network.delete_port(p, ignore_missing=True)
            self.conn.network.delete_network(n, ignore_missing=True)


@pytest.fixture
def netlab(cloud):
    lab = OpenStackNetLab(cloud.conn)
    yield lab
    lab.remove()
    assert [n.name for n in lab.networks if cloud.conn.network.find_network(n.id) is not None] == []
