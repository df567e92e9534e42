"""THE contract of ``ports.CloudPort``: one suite, run against every implementation.

tests/unit/test_cloud_contract_fake.py runs it on the in-memory cloud (always, in seconds);
tests/integration/test_cloud_contract_openstack.py runs it on the harness's real OpenStack
(CI). A module that imports these tests provides three fixtures:

* ``cloud``  — a connected ``CloudPort``;
* ``env``    — ``Env``: a fresh plan id, the names of an existing network (with a gateway), an
  external network, a flavor and an image;
* ``netlab`` — ``NetLab``: stages network topology the port itself never creates (an admin's
  doing): an isolated network, a router's port on a network; removes it all at teardown.

What is pinned down: create / adopt (kept) / look-up by tag and metadata, exact security-group
rules and their rewrite on drift, volumes attached and detached with their server, servers,
removal of everything a system holds by its tags, idempotence, and the error kinds a person
acts on; what makes a network not isolated; a rehearsal's clones, found only as clones and
removed by their tags. Each test removes what it created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import pytest

from govcloud.drivers.ports import REHEARSAL_META, CloudError, CloudPort, Ensured, resource_tags

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGu7QCv7CQ7ACfEVsXO4pwbcOoPfyBbQ6ktYEO6BHeC9 contract"
OTHER_PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPyOG5KJRhXUS2dxeSWYCDyAEQDaJrI1yWAH7AN8bxvv other"


@dataclass
class Env:
    plan_id: str
    network: str
    flavor: str
    image: str
    external_network: str = "public"


class NetLab(Protocol):
    def isolated(self, name: str, cidr: str, host_routes: list[dict[str, str]] | None = None) -> None:
        """A network whose one subnet has no gateway (and the given host routes), no router."""
        ...

    def attach_router(self, network: str) -> None:
        """A router with an interface (a port) on ``network``."""
        ...


def _ingress(cloud: CloudPort, env: Env, group: str) -> set[tuple]:
    return {r for r in cloud.snapshot(env.plan_id, with_catalogue=False).security_groups[group]["rules"]
            if r[0] == "ingress"}


def _server(cloud: CloudPort, env: Env, system: str, server: str, name: str, group: str, keypair: str):
    return cloud.ensure_server(plan_id=env.plan_id, system=system, server=server, name=name, flavor=env.flavor,
                               image=env.image, network=env.network, keypair=keypair, security_group=group,
                               timeout=300)


def _remove_all(cloud: CloudPort, env: Env, *systems: str) -> None:
    for system in systems:
        found = cloud.find_system_resources(env.plan_id, system)
        if found:
            cloud.delete_resources(found, timeout=180)


def test_keypair_is_created_then_kept_and_a_different_key_is_refused(cloud, env):
    name = f"{env.plan_id}-kp"
    made = cloud.ensure_keypair(name, PUBKEY)
    assert isinstance(made, Ensured)                     # a typed result: (resource, action)
    kp, action = made
    assert (kp["name"], action) == (name, "created") and made.action == "created"
    assert name in cloud.snapshot(env.plan_id, with_catalogue=False).keypairs
    again, action = cloud.ensure_keypair(name, PUBKEY)
    assert action == "kept" and again["fingerprint"] == kp["fingerprint"]
    with pytest.raises(CloudError, match="different public key") as exc:
        cloud.ensure_keypair(name, OTHER_PUBKEY)
    assert exc.value.kind == "api"


def test_an_existing_network_is_kept_and_a_missing_one_without_cidr_is_an_error(cloud, env):
    net, action = cloud.ensure_network(env.network, None, resource_tags(env.plan_id))
    assert action == "kept" and net["name"] == env.network and net["id"]
    assert env.network in cloud.network_cidrs()
    with pytest.raises(CloudError) as exc:
        cloud.ensure_network(f"{env.plan_id}-nonet", None, resource_tags(env.plan_id))
    assert exc.value.kind == "missing_network"
    assert f"{env.plan_id}-nonet" not in cloud.network_cidrs()


def test_security_group_holds_exactly_the_wanted_rules_and_drift_is_rewritten(cloud, env):
    system, group = "sys-a", f"gc-{env.plan_id}-sys-a"
    tags = resource_tags(env.plan_id, system)
    rules = [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "198.18.0.0/15"},
             {"protocol": "tcp", "port_range_min": 80, "port_range_max": 80, "remote_ip_prefix": "198.18.1.61/32"},
             {"protocol": "tcp", "port_range_min": None, "port_range_max": None, "remote_group_self": True}]
    want = {("ingress", "tcp", 22, 22, "198.18.0.0/15", False), ("ingress", "tcp", 80, 80, "198.18.1.61/32", False),
            ("ingress", "tcp", None, None, None, True)}
    try:
        sg, action = cloud.ensure_security_group(group, rules, tags, "contract")
        assert action == "created"
        assert _ingress(cloud, env, group) == want
        again, action = cloud.ensure_security_group(group, rules, tags, "contract")
        assert (again["id"], action) == (sg["id"], "kept")
        # the wanted rules change (a caller went away, another came): the same group, rewritten
        rules2 = rules[:1] + [{"protocol": "tcp", "port_range_min": 5432, "port_range_max": 5432,
                               "remote_ip_prefix": "198.18.1.62/32"}] + rules[2:]
        again, action = cloud.ensure_security_group(group, rules2, tags, "contract")
        assert (again["id"], action) == (sg["id"], "changed")
        assert _ingress(cloud, env, group) == (want - {("ingress", "tcp", 80, 80, "198.18.1.61/32", False)}) | {
            ("ingress", "tcp", 5432, 5432, "198.18.1.62/32", False)}
        # found by its tags for its system only, and for this plan only
        assert cloud.find_system_resources(env.plan_id, system)["security_group"]["id"] == sg["id"]
        assert cloud.find_system_resources(env.plan_id, "sys-b") == {}
        assert cloud.find_system_resources(env.plan_id + "x", system) == {}
    finally:
        _remove_all(cloud, env, system)
    assert cloud.find_system_resources(env.plan_id, system) == {}
    assert group not in cloud.snapshot(env.plan_id, with_catalogue=False).security_groups


def test_server_and_volume_are_created_adopted_detached_reattached_and_removed_by_tag(cloud, env):
    system, group, kp = "sys-v", f"gc-{env.plan_id}-sys-v", f"{env.plan_id}-kpv"
    vname = f"{env.plan_id}-sys-v-d1"
    try:
        cloud.ensure_keypair(kp, PUBKEY)
        cloud.ensure_security_group(group, [], resource_tags(env.plan_id, system), "contract")
        srv, action = _server(cloud, env, system, "h1", f"{env.plan_id}-h1", group, kp)
        assert action == "created" and srv["status"] == "ACTIVE"
        assert srv["addresses"].get(env.network), srv["addresses"]
        mine = [x for x in cloud.system_servers(system) if x["plan"] == env.plan_id]   # a system's servers, any plan
        assert mine == [{"id": srv["id"], "name": srv["name"], "plan": env.plan_id, "server": "h1"}]
        assert [x for x in cloud.system_servers("sys-none") if x["plan"] == env.plan_id] == []
        again, action = _server(cloud, env, system, "h1", f"{env.plan_id}-h1", group, kp)
        assert (again["id"], action) == (srv["id"], "kept")          # found by tags: never a twin
        assert cloud.find_server(env.plan_id, system, "h1")["id"] == srv["id"]
        assert cloud.find_server(env.plan_id, system, "h2") is None
        snap = cloud.snapshot(env.plan_id, with_catalogue=False)
        assert snap.servers[(system, "h1")]["id"] == srv["id"]

        vol, action = cloud.ensure_volume(plan_id=env.plan_id, system=system, name=vname, size_gb=1,
                                          server_id=srv["id"], timeout=180)
        assert action == "created" and vol["size"] == 1
        snap = cloud.snapshot(env.plan_id, with_catalogue=False)
        assert snap.volumes[vname]["attached_to"] == [srv["id"]]
        again, action = cloud.ensure_volume(plan_id=env.plan_id, system=system, name=vname, size_gb=1,
                                            server_id=srv["id"], timeout=180)
        assert (again["id"], action) == (vol["id"], "kept")

        # the server goes (a rollback of the server alone): its volume is detached, kept
        cloud.delete_resources({f"server:h1": {"kind": "server", "id": srv["id"], "name": srv["name"]}}, timeout=180)
        assert cloud.find_server(env.plan_id, system, "h1") is None
        snap = cloud.snapshot(env.plan_id, with_catalogue=False)
        assert snap.volumes[vname]["attached_to"] == [] and snap.volumes[vname]["status"] == "available"
        # a new server adopts the unattached volume: attached, "changed", the same volume
        srv2, action = _server(cloud, env, system, "h1", f"{env.plan_id}-h1", group, kp)
        assert action == "created" and srv2["id"] != srv["id"]
        again, action = cloud.ensure_volume(plan_id=env.plan_id, system=system, name=vname, size_gb=1,
                                            server_id=srv2["id"], timeout=180)
        assert (again["id"], action) == (vol["id"], "changed")
        assert cloud.snapshot(env.plan_id, with_catalogue=False).volumes[vname]["attached_to"] == [srv2["id"]]

        found = cloud.find_system_resources(env.plan_id, system)
        assert {k: r["kind"] for k, r in found.items()} == {"server:h1": "server", f"volume:{vname}": "volume",
                                                             "security_group": "security_group"}
        removed: list[str] = []
        done = cloud.delete_resources(found, on_removed=removed.append, timeout=180)
        assert sorted(done) == sorted(found) and removed == done
        assert removed.index("server:h1") < removed.index(f"volume:{vname}") < removed.index("security_group")
        assert cloud.find_system_resources(env.plan_id, system) == {}
        assert [x for x in cloud.system_servers(system) if x["plan"] == env.plan_id] == []
    finally:
        _remove_all(cloud, env, system)


def test_a_server_the_cloud_cannot_build_is_a_cloud_error_and_leaves_nothing(cloud, env):
    system, group, kp = "sys-e", f"gc-{env.plan_id}-sys-e", f"{env.plan_id}-kpe"
    try:
        cloud.ensure_keypair(kp, PUBKEY)
        cloud.ensure_security_group(group, [], resource_tags(env.plan_id, system), "contract")
        for kw, kind in (({"flavor": "no-such-flavor"}, "missing_flavor"), ({"image": "no-such-image"}, "missing_image"),
                         ({"network": f"{env.plan_id}-nonet"}, "missing_network")):
            args = dict(plan_id=env.plan_id, system=system, server="h9", name=f"{env.plan_id}-h9", flavor=env.flavor,
                        image=env.image, network=env.network, keypair=kp, security_group=group, timeout=60)
            args.update(kw)
            with pytest.raises(CloudError) as exc:
                cloud.ensure_server(**args)
            assert exc.value.kind == kind, (kw, exc.value.kind, str(exc.value))
        assert cloud.find_server(env.plan_id, system, "h9") is None
        assert set(cloud.find_system_resources(env.plan_id, system)) == {"security_group"}
    finally:
        _remove_all(cloud, env, system)


def test_removing_what_is_already_gone_is_reported_removed_once(cloud, env):
    system, group = "sys-g", f"gc-{env.plan_id}-sys-g"
    sg, _ = cloud.ensure_security_group(group, [], resource_tags(env.plan_id, system), "contract")
    gone = {"security_group": {"kind": "security_group", "id": sg["id"], "name": group}}
    assert cloud.delete_resources(gone, timeout=60) == ["security_group"]
    assert cloud.delete_resources(gone, timeout=60) == ["security_group"]    # idempotent: absent is removed
    assert cloud.find_system_resources(env.plan_id, system) == {}


# ---------------------------------------------------------------- rehearsal network and clones


def test_isolation_problems_name_each_route_out_of_a_network(cloud, env, netlab):
    iso, routed = f"{env.plan_id}-iso", f"{env.plan_id}-hr"
    netlab.isolated(iso, "198.18.230.0/24")
    assert cloud.isolation_problems(iso) == []
    # a network that is not there is not isolated: one problem, naming it
    missing = cloud.isolation_problems(f"{env.plan_id}-nonet")
    assert len(missing) == 1 and f"{env.plan_id}-nonet" in missing[0] and "does not exist" in missing[0]
    # the production network: its subnet has a gateway
    prod = cloud.isolation_problems(env.network)
    assert prod and all(env.network in p for p in prod) and any("gateway" in p for p in prod), prod
    ext = cloud.isolation_problems(env.external_network)
    assert any("router:external" in p for p in ext) and all(env.external_network in p for p in ext), ext
    # a host route is a way out, even without a gateway
    netlab.isolated(routed, "198.18.231.0/24", host_routes=[{"destination": "198.18.0.0/15",
                                                             "nexthop": "198.18.231.254"}])
    hr = cloud.isolation_problems(routed)
    assert len(hr) == 1 and routed in hr[0] and "host routes" in hr[0] and "198.18.0.0/15" in hr[0], hr
    # a router's port on the isolated network: no longer isolated
    netlab.attach_router(iso)
    rp = cloud.isolation_problems(iso)
    assert len(rp) == 1 and iso in rp[0] and "network:router_interface" in rp[0], rp


def test_a_rehearsal_clone_is_found_only_as_that_rehearsal_s_clone_and_removed_by_its_tags(cloud, env):
    system, group, kp = "sys-r", f"gc-{env.plan_id}-sys-r", f"{env.plan_id}-kpr"
    rgroup, rid, rid2 = f"gc-{env.plan_id}-sys-r-reh", "r1a2b3c4", "r9z8y7x6"
    vname = f"{env.plan_id}-sys-r-d1-{rid}"
    try:
        cloud.ensure_keypair(kp, PUBKEY)
        cloud.ensure_security_group(group, [], resource_tags(env.plan_id, system), "contract")
        rsg, action = cloud.ensure_security_group(rgroup, [], resource_tags(env.plan_id, system, rehearsal=rid),
                                                  "contract rehearsal")
        assert action == "created"
        # the clone first: the plan's target does not exist yet, and a clone does not stand in for it
        clone, action = cloud.ensure_server(plan_id=env.plan_id, system=system, server="h1",
                                            name=f"{env.plan_id}-h1-{rid}", flavor=env.flavor, image=env.image,
                                            network=env.network, keypair=kp, security_group=rgroup, timeout=300,
                                            rehearsal=rid)
        assert action == "created" and clone["status"] == "ACTIVE"
        assert clone["metadata"].get(REHEARSAL_META) == rid
        assert cloud.find_server(env.plan_id, system, "h1") is None
        assert [x for x in cloud.system_servers(system) if x["plan"] == env.plan_id] == []
        sys_res = cloud.find_system_resources(env.plan_id, system)
        assert set(sys_res) == {"security_group"} and sys_res["security_group"]["name"] == group
        assert sys_res["security_group"]["id"] != rsg["id"]
        snap = cloud.snapshot(env.plan_id, with_catalogue=False)
        assert (system, "h1") not in snap.servers and rgroup not in snap.security_groups
        again, action = cloud.ensure_server(plan_id=env.plan_id, system=system, server="h1",
                                            name=f"{env.plan_id}-h1-{rid}", flavor=env.flavor, image=env.image,
                                            network=env.network, keypair=kp, security_group=rgroup, timeout=300,
                                            rehearsal=rid)
        assert (again["id"], action) == (clone["id"], "kept")           # the same clone, never a twin
        # the real target is created beside it (not adopted from the clone), and is not a clone
        target, action = _server(cloud, env, system, "h1", f"{env.plan_id}-h1", group, kp)
        assert action == "created" and target["id"] != clone["id"]
        assert REHEARSAL_META not in target["metadata"]
        assert cloud.find_server(env.plan_id, system, "h1")["id"] == target["id"]
        assert cloud.snapshot(env.plan_id, with_catalogue=False).servers[(system, "h1")]["id"] == target["id"]
        assert [x["id"] for x in cloud.system_servers(system) if x["plan"] == env.plan_id] == [target["id"]]
        # another rehearsal gets its own clone
        clone2, action = cloud.ensure_server(plan_id=env.plan_id, system=system, server="h1",
                                             name=f"{env.plan_id}-h1-{rid2}", flavor=env.flavor, image=env.image,
                                             network=env.network, keypair=kp, security_group=rgroup, timeout=300,
                                             rehearsal=rid2)
        assert action == "created" and clone2["id"] not in (clone["id"], target["id"])
        vol, action = cloud.ensure_volume(plan_id=env.plan_id, system=system, name=vname, size_gb=1,
                                          server_id=clone["id"], timeout=180, rehearsal=rid)
        assert action == "created"
        assert vname not in cloud.snapshot(env.plan_id, with_catalogue=False).volumes

        reh = cloud.find_rehearsal_resources(env.plan_id)
        assert {(r["kind"], r["id"], r["rehearsal"], r["system"]) for r in reh.values()} == {
            ("server", clone["id"], rid, system), ("server", clone2["id"], rid2, system),
            ("volume", vol["id"], rid, system), ("security_group", rsg["id"], rid, system)}, reh
        assert len(reh) == 4
        assert cloud.find_rehearsal_resources(env.plan_id, system) == reh
        assert cloud.find_rehearsal_resources(env.plan_id, "sys-other") == {}
        assert cloud.find_rehearsal_resources(env.plan_id + "x") == {}
        found = cloud.find_system_resources(env.plan_id, system)
        assert {r["id"] for r in found.values()} & {clone["id"], clone2["id"], vol["id"], rsg["id"]} == set()
        assert {r["kind"] for r in found.values()} == {"server", "security_group"}

        # cleaned up by tags alone: clones, their volume and group go, the target stays
        removed: list[str] = []
        done = cloud.delete_resources(reh, on_removed=removed.append, timeout=180)
        assert sorted(done) == sorted(reh) and removed == done
        assert cloud.find_rehearsal_resources(env.plan_id) == {}
        assert cloud.find_server(env.plan_id, system, "h1")["id"] == target["id"]
        assert set(cloud.find_system_resources(env.plan_id, system)) == {"server:h1", "security_group"}
    finally:
        leftover = cloud.find_rehearsal_resources(env.plan_id)
        if leftover:
            cloud.delete_resources(leftover, timeout=180)
        _remove_all(cloud, env, system)


def test_a_rehearsal_id_that_is_no_plain_tag_is_refused(cloud, env):
    with pytest.raises(ValueError):
        cloud.ensure_server(plan_id=env.plan_id, system="sys-x", server="h1", name=f"{env.plan_id}-hx",
                            flavor=env.flavor, image=env.image, network=env.network, keypair="none",
                            security_group="none", timeout=30, rehearsal="a/b,c")
    assert cloud.find_rehearsal_resources(env.plan_id) == {}
