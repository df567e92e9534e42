"""Accounts, clouds.yaml, deep health check and the seeded test cloud.

Runs in the OpenStack venv, called by harness/openstack:
    python os_seed.py --state DIR [--compute-host H] accounts|clouds|health|resources
Passwords are read from DIR/secrets (mode 600) - never from the command line.
Every step is idempotent (find-or-create).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import sys
import time
from pathlib import Path

import yaml

AUTH_URL = "http://127.0.0.1:5000/v3"
REGION = "RegionOne"
MEMBER_PROJECT = "govcloud-test"
MEMBER_USER = "govcloud-member"

# name, vcpus, ram MiB, disk GiB, extra specs (scoped keys: ignored by the scheduler)
FLAVORS = [
    ("m1.tiny", 1, 512, 1, {}),
    ("m1.small", 1, 2048, 20, {}),
    ("c2.m4", 2, 4096, 40, {}),
    ("kunpeng.4c8g", 4, 8192, 40, {"govcloud:cpu_arch": "aarch64", "govcloud:cpu_vendor": "kunpeng"}),
    ("hygon.8c16g", 8, 16384, 80, {"govcloud:cpu_arch": "x86_64", "govcloud:cpu_vendor": "hygon"}),
    ("4C8G", 4, 8192, 40, {}),
    ("8C16G", 8, 16384, 80, {}),
    ("16C32G", 16, 32768, 100, {}),
    ("32C64G", 32, 65536, 200, {}),
]
# name, os_distro, os_version, architecture - tiny fake images (nova's fake driver boots nothing)
IMAGES = [
    ("openEuler-22.03-LTS-x86_64", "openeuler", "22.03", "x86_64"),
    ("openEuler-22.03-LTS-aarch64", "openeuler", "22.03", "aarch64"),
    ("Kylin-Server-V10-SP3-aarch64", "kylin", "V10", "aarch64"),
    ("UOS-Server-20-x86_64", "uos", "20", "x86_64"),
    ("CentOS-7-x86_64", "centos", "7", "x86_64"),
    ("Debian-12-x86_64", "debian", "12", "x86_64"),
]
PUBLIC_CIDR, PUBLIC_GW, PUBLIC_POOL = "198.18.240.0/20", "198.18.240.1", ("198.18.240.10", "198.18.255.250")
# the bridged network: harness/bridge gives every ACTIVE server on it a real
# SSH host on its fixed IP (bridge gcbbr0 = 198.19.0.1/16)
BRIDGE_NET, BRIDGE_CIDR, BRIDGE_GW = "govcloud-net", "198.19.0.0/16", "198.19.0.1"
# govcloud-net's addresses leave out the rehearsal network's /24 (bridged to another pool)
BRIDGE_POOLS = [{"start": "198.19.1.1", "end": "198.19.199.254"}, {"start": "198.19.201.1", "end": "198.19.255.254"}]
# the isolated network a rehearsal's clones boot on (harness/bridge: pool "rehearsal", bridge
# gcxbr0 with its guard): shared, tenant type (vxlan), NO gateway, no DNS servers, no router
REHEARSAL_NET, REHEARSAL_CIDR = "govcloud-rehearsal", "198.19.200.0/24"
REHEARSAL_POOL = [{"start": "198.19.200.10", "end": "198.19.200.250"}]


def secret(state: Path, name: str) -> str:
    return (state / "secrets" / name).read_text().strip()


def admin_conn(state: Path):
    import openstack
    return openstack.connect(auth_url=AUTH_URL, username="admin", password=secret(state, "admin"),
                             project_name="admin", user_domain_name="Default",
                             project_domain_name="Default", region_name=REGION)


def step_accounts(state: Path, compute_host: str) -> None:
    tmpl = state / "secrets" / "admin.template"
    if tmpl.exists():
        # DB copied from the cached schema template: log in with the template's
        # admin password once and rotate it to this install's fresh one
        import openstack
        old = openstack.connect(auth_url=AUTH_URL, username="admin", password=tmpl.read_text().strip(),
                                project_name="admin", user_domain_name="Default",
                                project_domain_name="Default", region_name=REGION)
        me = old.identity.find_user("admin", domain_id="default")
        old.identity.update_user(me, password=secret(state, "admin"))
        tmpl.unlink()
        # the password change revokes the user's tokens with one-second
        # granularity: a token issued in the same second would be refused
        time.sleep(1.2)
    c = admin_conn(state)
    idn = c.identity
    spw = secret(state, "service")

    def role(name):
        return idn.find_role(name) or idn.create_role(name=name)

    def project(name, desc):
        return idn.find_project(name, domain_id="default") or idn.create_project(
            name=name, domain_id="default", description=desc)

    def user(name, proj, pw):
        return idn.find_user(name, domain_id="default") or idn.create_user(
            name=name, password=pw, domain_id="default", default_project_id=proj.id)

    admin, service_role, member, reader = role("admin"), role("service"), role("member"), role("reader")
    svc = project("service", "service users")
    test = project(MEMBER_PROJECT, "govcloud integration tests (member project)")
    services = [("placement", "placement", "http://127.0.0.1:8778"),
                ("glance", "image", "http://127.0.0.1:9292"),
                ("neutron", "network", "http://127.0.0.1:9696"),
                ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
                ("cinder", "block-storage", "http://127.0.0.1:8776/v3")]

    def one(name, stype, url):
        u = user(name, svc, spw)
        for r in (admin, service_role):
            idn.assign_project_role_to_user(svc, u, r)
        s = idn.find_service(name) or idn.create_service(name=name, type=stype)
        have = {e.interface for e in idn.endpoints(service_id=s.id)}
        for iface in ("public", "internal", "admin"):
            if iface not in have:
                idn.create_endpoint(service_id=s.id, interface=iface, url=url, region_id=REGION)

    def member_user():
        mu = user(MEMBER_USER, test, secret(state, "member"))
        idn.assign_project_role_to_user(test, mu, member)
        idn.assign_project_role_to_user(test, mu, reader)

    with cf.ThreadPoolExecutor(6) as ex:   # keystone runs 4 threads
        for f in [ex.submit(one, *x) for x in services] + [ex.submit(member_user)]:
            f.result()
    print("keystone accounts ok")


def step_clouds(state: Path, compute_host: str) -> None:
    def entry(user, pw, project):
        return {"auth": {"auth_url": AUTH_URL, "username": user, "password": pw, "project_name": project,
                         "user_domain_name": "Default", "project_domain_name": "Default"},
                "region_name": REGION, "identity_api_version": 3, "interface": "public"}
    clouds = {"clouds": {
        "govcloud-test": entry(MEMBER_USER, secret(state, "member"), MEMBER_PROJECT),
        "govcloud-admin": entry("admin", secret(state, "admin"), "admin"),
    }}
    path = state / "clouds.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# written by harness/openstack; passwords are generated per install\n")
        yaml.safe_dump(clouds, f, sort_keys=False)
    print(f"wrote {path}")


def step_health(state: Path, compute_host: str) -> None:
    """Deep health: compute node enabled+up and in placement, OVS agent alive, cinder-volume up."""
    c = admin_conn(state)
    deadline = time.time() + float(os.environ.get("GOVCLOUD_OS_HEALTH_TIMEOUT", "240"))

    def missing():
        m = []
        hv = [h for h in c.compute.hypervisors() if h.name == compute_host]
        if not hv or hv[0].status != "enabled" or hv[0].state != "up":
            m.append("hypervisor")
        if not list(c.placement.resource_providers(name=compute_host)):
            m.append("placement RP")
        ag = [a for a in c.network.agents(host=compute_host) if a.agent_type == "Open vSwitch agent"]
        if not ag or not ag[0].is_alive:
            m.append("ovs agent")
        vs = [s for s in c.block_storage.services() if s.binary == "cinder-volume"]
        if not vs or vs[0].state != "up":
            m.append("cinder-volume")
        return m

    t0 = time.time()
    while True:
        try:
            m = missing()
        except Exception as e:  # an API still warming up
            m = [repr(e)[:200]]
        if not m:
            print(f"deep health ok after {time.time() - t0:.1f}s")
            return
        if time.time() > deadline:
            sys.exit(f"not healthy: {m}")
        time.sleep(1)


def step_resources(state: Path, compute_host: str) -> None:
    c = admin_conn(state)
    net = c.network

    def flavor(name, vcpus, ram, disk, specs):
        f = c.compute.find_flavor(name) or c.compute.create_flavor(
            name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)
        if specs:
            c.compute.create_flavor_extra_specs(f, specs)

    def image(name, distro, version, arch):
        if c.image.find_image(name):
            return
        c.image.create_image(
            name=name, data=(f"fake {name} image\n".encode() * 64), disk_format="raw",
            container_format="bare", visibility="public", wait=True,
            os_distro=distro, os_version=version, architecture=arch, hw_architecture=arch,
            os_type="linux")

    def networks():
        pub = net.find_network("public") or net.create_network(
            name="public", is_router_external=True, provider_network_type="flat",
            provider_physical_network="public", description="external network (no real uplink)")
        if not list(net.subnets(network_id=pub.id)):
            net.create_subnet(network_id=pub.id, name="public-subnet", ip_version=4, cidr=PUBLIC_CIDR,
                              gateway_ip=PUBLIC_GW, is_dhcp_enabled=False,
                              allocation_pools=[{"start": PUBLIC_POOL[0], "end": PUBLIC_POOL[1]}])
        bn = net.find_network(BRIDGE_NET) or net.create_network(
            name=BRIDGE_NET, is_shared=True, provider_network_type="flat",
            provider_physical_network="physnet-bridge",
            description="shared network bridged to real SSH hosts by harness/bridge")
        subs = list(net.subnets(network_id=bn.id))
        sub = subs[0] if subs else net.create_subnet(
            network_id=bn.id, name=f"{BRIDGE_NET}-subnet", ip_version=4, cidr=BRIDGE_CIDR,
            gateway_ip=BRIDGE_GW, is_dhcp_enabled=False, dns_nameservers=[],
            allocation_pools=BRIDGE_POOLS)
        if sorted(map(str, sub.allocation_pools)) != sorted(map(str, BRIDGE_POOLS)):
            net.update_subnet(sub, allocation_pools=BRIDGE_POOLS)    # an older harness's one pool
        r = net.find_router("govcloud-router")
        if not r:
            r = net.create_router(name="govcloud-router", external_gateway_info={"network_id": pub.id})
            net.add_interface_to_router(r, subnet_id=sub.id)
        rehearsal_network()

    def rehearsal_network():
        rn = net.find_network(REHEARSAL_NET) or net.create_network(
            name=REHEARSAL_NET, is_shared=True, provider_network_type="vxlan",
            description="isolated: no gateway, no router (rehearsal clones; harness/bridge guards it)")
        subs = list(net.subnets(network_id=rn.id))
        if not subs:
            net.create_subnet(network_id=rn.id, name=f"{REHEARSAL_NET}-subnet", ip_version=4, cidr=REHEARSAL_CIDR,
                              gateway_ip=None, is_dhcp_enabled=False, dns_nameservers=[],
                              allocation_pools=REHEARSAL_POOL)
            subs = list(net.subnets(network_id=rn.id))
        routed = [p.device_owner for p in net.ports(network_id=rn.id) if (p.device_owner or "").startswith(
            ("network:router", "network:ha_router"))]
        if (len(subs) != 1 or subs[0].cidr != REHEARSAL_CIDR or subs[0].gateway_ip or subs[0].host_routes
                or rn.is_router_external or routed):
            raise RuntimeError(f"network {REHEARSAL_NET} exists but is not isolated: subnets "
                               f"{[(x.cidr, x.gateway_ip, x.host_routes) for x in subs]}, external "
                               f"{rn.is_router_external}, router ports {routed}")

    jobs = [(flavor, f) for f in FLAVORS] + [(image, i) for i in IMAGES] + [(networks, ())]
    with cf.ThreadPoolExecutor(4) as ex:
        futs = [ex.submit(fn, *args) for fn, args in jobs]
        for f in futs:
            f.result()
    # the member project: let its users see the seeded objects (public flavors
    # and images, shared network) - nothing to do - but make quotas explicit so
    # tests can read and lower them
    proj = c.identity.find_project(MEMBER_PROJECT, domain_id="default")
    c.set_compute_quotas(proj.id, instances=200, cores=800, ram=1638400)
    print("seeded: %d flavors, %d images, networks public + %s + %s (isolated)"
          % (len(FLAVORS), len(IMAGES), BRIDGE_NET, REHEARSAL_NET))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", required=True, type=Path)
    ap.add_argument("--compute-host", default="govcloud-compute1")
    ap.add_argument("step", choices=["accounts", "clouds", "health", "resources"])
    a = ap.parse_args()
    globals()[f"step_{a.step}"](a.state, a.compute_host)


if __name__ == "__main__":
    main()
