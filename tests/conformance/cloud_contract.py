"""THE contract of ``ports.CloudPort``: one suite, run against every implementation.

tests/unit/test_cloud_contract_fake.py runs it on the in-memory cloud (always, in seconds);
tests/integration/test_cloud_contract_openstack.py runs it on the harness's real OpenStack
(CI). A module that imports these tests provides two fixtures:

* ``cloud`` — a connected ``CloudPort``;
* ``env``   — ``Env``: a fresh plan id, the names of an existing network, flavor and image.

What is pinned down: create / adopt (kept) / look-up by tag and metadata, exact security-group
rules and their rewrite on drift, volumes attached and detached with their server, servers,
removal of everything a system holds by its tags, idempotence, and the error kinds a person
acts on. Each test removes what it created.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from govcloud.drivers.ports import CloudError, CloudPort, Ensured, resource_tags

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGu7QCv7CQ7ACfEVsXO4pwbcOoPfyBbQ6ktYEO6BHeC9 contract"
OTHER_PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPyOG5KJRhXUS2dxeSWYCDyAEQDaJrI1yWAH7AN8bxvv other"


@dataclass
class Env:
    plan_id: str
    network: str
    flavor: str
    image: str


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
