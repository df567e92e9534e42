"""The OpenStack harness is a real cloud for openstacksdk: seeded objects, a full
server lifecycle with concurrency, volumes, floating IPs, tags, and real quota
errors.  Every test cleans up what it created."""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ipaddress
import uuid

import openstack
import pytest

from integration_helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.openstack]

DOMESTIC_FLAVORS = {"c2.m4": (2, 4096), "kunpeng.4c8g": (4, 8192), "hygon.8c16g": (8, 16384),
                    "4C8G": (4, 8192), "8C16G": (8, 16384), "16C32G": (16, 32768), "32C64G": (32, 65536)}
IMAGES = {("openeuler", "22.03", "x86_64"), ("openeuler", "22.03", "aarch64"), ("kylin", "V10", "aarch64"),
          ("uos", "20", "x86_64"), ("centos", "7", "x86_64"), ("debian", "12", "x86_64")}


def test_member_cloud_sees_the_seeded_catalogue(openstack_cloud):
    c = openstack_cloud.member
    assert c.current_project.name == "govcloud-test"
    flavors = {f.name: f for f in c.compute.flavors()}
    for name, (vcpus, ram) in DOMESTIC_FLAVORS.items():
        assert name in flavors, name
        assert (flavors[name].vcpus, flavors[name].ram) == (vcpus, ram)
    assert flavors["kunpeng.4c8g"].extra_specs.get("govcloud:cpu_arch") == "aarch64"
    seen = {(i.os_distro, i.os_version, i.architecture) for i in c.image.images() if i.status == "active"}
    assert IMAGES <= seen
    nets = {n.name: n for n in c.network.networks()}
    assert nets["public"].is_router_external
    assert nets["govcloud-net"].is_shared
    # member role: admin-only calls are refused by the real policy
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(c.identity.projects())


def test_server_lifecycle_network_volume_fip_tags(openstack_cloud):
    """network, subnet, security group + rule, keypair, 5 servers at once -> ACTIVE,
    list by tag, volume attach, floating IP, then delete everything."""
    c = openstack_cloud.member
    run = "it-" + uuid.uuid4().hex[:8]
    undo: list = []
    try:
        net = c.network.create_network(name=f"{run}-net")
        undo.append(lambda: c.network.delete_network(net, ignore_missing=True))
        subnet = c.network.create_subnet(network_id=net.id, name=f"{run}-sub", ip_version=4,
                                         cidr="198.18.128.0/24", gateway_ip="198.18.128.1")
        undo.append(lambda: c.network.delete_subnet(subnet, ignore_missing=True))
        sg = c.network.create_security_group(name=f"{run}-sg", description="ssh from the test range")
        undo.append(lambda: c.network.delete_security_group(sg, ignore_missing=True))
        rule = c.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", ethertype="IPv4", protocol="tcp",
            port_range_min=22, port_range_max=22, remote_ip_prefix="198.18.0.0/15")
        assert rule.port_range_min == 22
        kp = c.compute.create_keypair(
            name=f"{run}-kp", public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGu7QCv7CQ7ACfEVsXO4pwbcOoPfyBbQ6ktYEO6BHeC9 it")
        undo.append(lambda: c.compute.delete_keypair(kp, ignore_missing=True))
        flavor = c.compute.find_flavor("c2.m4")
        image = c.image.find_image("openEuler-22.03-LTS-x86_64")

        def boot(i):
            return c.compute.create_server(
                name=f"{run}-vm{i}", image_id=image.id, flavor_id=flavor.id, key_name=kp.name,
                networks=[{"uuid": net.id}], security_groups=[{"name": sg.name}],
                metadata={"govcloud:run": run}, tags=["govcloud", run])

        undo.append(lambda: _delete_servers(c, run))
        with cf.ThreadPoolExecutor(5) as ex:
            created = list(ex.map(boot, range(5)))
        assert len({s.id for s in created}) == 5

        def all_active():
            cur = list(c.compute.servers(details=True, tags=run))   # one list call per poll
            if any(s.status == "ERROR" for s in cur):
                raise AssertionError([(s.name, s.fault) for s in cur if s.status == "ERROR"])
            return cur if len(cur) == 5 and all(s.status == "ACTIVE" for s in cur) else None
        active = wait_until(all_active, 180, 1, "5 servers ACTIVE")
        for s in active:
            addrs = [a["addr"] for a in s.addresses[net.name]]
            assert addrs and all(a.startswith("198.18.128.") for a in addrs)
            assert s.key_name == kp.name and s.metadata["govcloud:run"] == run
        # list by tag: exactly ours, and a tag nobody used finds nothing
        assert {s.id for s in c.compute.servers(tags=run)} == {s.id for s in created}
        assert list(c.compute.servers(tags=f"{run}-nope")) == []

        # volume attach
        vol = c.block_storage.create_volume(name=f"{run}-vol", size=1)
        undo.append(lambda: _delete_volume(c, vol))
        c.block_storage.wait_for_status(vol, "available", failures=["error"], interval=1, wait=120)
        c.compute.create_volume_attachment(active[0], volume_id=vol.id)
        c.block_storage.wait_for_status(vol, "in-use", failures=["error", "error_attaching"], interval=1, wait=120)
        assert [a.volume_id for a in c.compute.volume_attachments(active[0])] == [vol.id]
        c.compute.delete_volume_attachment(active[0], vol.id)
        c.block_storage.wait_for_status(vol, "available", failures=["error", "error_detaching"], interval=1, wait=120)

        # floating IP from the external network through our own router
        public = c.network.find_network("public")
        router = c.network.create_router(name=f"{run}-r", external_gateway_info={"network_id": public.id})
        undo.append(lambda: c.network.delete_router(router, ignore_missing=True))
        c.network.add_interface_to_router(router, subnet=subnet.id)
        undo.append(lambda: c.network.remove_interface_from_router(router, subnet=subnet.id))
        port = next(iter(c.network.ports(device_id=active[0].id)))
        # binding details are admin-only: the port really bound (heartbeat OVS agent)
        assert openstack_cloud.admin.network.get_port(port.id).binding_vif_type == "ovs"
        fip = c.network.create_ip(floating_network_id=public.id, port_id=port.id)
        undo.append(lambda: c.network.delete_ip(fip, ignore_missing=True))
        assert ipaddress.ip_address(fip.floating_ip_address) in ipaddress.ip_network("198.18.240.0/20")
        assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    finally:
        errors = []
        for fn in reversed(undo):
            try:
                fn()
            except Exception as e:  # keep cleaning, report at the end
                errors.append(repr(e))
    assert not errors, errors
    # everything is really gone
    assert list(c.compute.servers(tags=run)) == []
    assert not [n for n in c.network.networks() if n.name.startswith(run)]
    assert not [v for v in c.block_storage.volumes() if (v.name or "").startswith(run)]
    assert c.compute.find_keypair(f"{run}-kp") is None


def _delete_servers(c, tag):
    for s in c.compute.servers(tags=tag):
        c.compute.delete_server(s, ignore_missing=True)
    wait_until(lambda: not [s for s in c.compute.servers(tags=tag) if s.status != "DELETED"], 120, 1,
               f"servers tagged {tag} deleted")


def _delete_volume(c, vol):
    c.block_storage.delete_volume(vol, ignore_missing=True)
    wait_until(lambda: c.block_storage.find_volume(vol.id) is None, 120, 1, "volume deleted")


@pytest.fixture
def throwaway_project(openstack_cloud):
    """A fresh project where the admin user is a member; deleted afterwards."""
    a = openstack_cloud.admin
    name = "it-quota-" + uuid.uuid4().hex[:8]
    proj = a.identity.create_project(name=name, domain_id="default", description="throwaway (quota test)")
    me = a.identity.find_user("admin", domain_id="default")
    a.identity.assign_project_role_to_user(proj, me, a.identity.find_role("member"))
    conn = openstack_cloud.connect(openstack_cloud.admin_cloud, project_name=name)
    try:
        yield proj, conn
    finally:
        with contextlib.suppress(Exception):
            for s in conn.compute.servers():
                conn.compute.delete_server(s, ignore_missing=True)
            wait_until(lambda: not [s for s in conn.compute.servers() if s.status != "DELETED"], 120, 1,
                       "throwaway servers deleted")
        for n in conn.network.networks(project_id=proj.id):
            with contextlib.suppress(Exception):
                conn.network.delete_network(n, ignore_missing=True)
        a.identity.delete_project(proj)


def test_lowered_quota_raises_the_real_error(openstack_cloud, throwaway_project):
    proj, conn = throwaway_project
    a = openstack_cloud.admin
    a.set_compute_quotas(proj.id, instances=1)
    assert a.get_compute_quotas(proj.id).instances == 1
    a.set_network_quotas(proj.id, network=0)
    flavor, image = conn.compute.find_flavor("m1.tiny"), conn.image.find_image("Debian-12-x86_64")
    net = conn.network.find_network("govcloud-net")
    first = conn.compute.create_server(name="q1", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}])
    # the first server is fine (the quota really is 1, not 0), and it counts once it is built: Nova's
    # quota check counts the instances in the cell databases, where a server that was only accepted
    # (a build request) is not yet; asked too early, the second create passed the API's check
    assert conn.compute.wait_for_server(first, wait=120).status == "ACTIVE"
    with pytest.raises(openstack.exceptions.ForbiddenException, match="(?i)quota exceeded"):
        conn.compute.create_server(name="q2", image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}])
    # neutron's own quota error (409) for a network in the same project
    with pytest.raises(openstack.exceptions.ConflictException, match="(?i)quota"):
        conn.network.create_network(name="over-quota")
