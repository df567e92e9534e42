"""`migrate rehearse` on the executor's port fakes (govcloud.testing): refusals, the clones and their
tag, what the playbooks are given (the synced target as the read-only source, the tunnel route, dump
only, a separate state directory), the journal, the clean-up of failed, kept and killed rehearsals.

The same code runs against the harness OpenStack and real hosts in
tests/integration/test_migrate_rehearse.py.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest

from govcloud.drivers.ports import PlaybookRun
from govcloud.errors import GovcloudError
from govcloud.migrate import rehearsal as REH
from govcloud.migrate.executor import Executor, Options
from govcloud.migrate.lifecycle import State
from govcloud.store import journal
from govcloud.testing.fake_cloud import FakeCloud
from govcloud.testing.scripted import Crash, ScriptedPlaybooks, ScriptedProbe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import migrate_env  # noqa: E402

SOURCES = [("h61", "198.18.1.61"), ("h62", "198.18.1.62")]
CLIENT = ("h38", "198.18.1.38")
RH_NET = "govcloud-rehearsal"


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    from govcloud.inventory.validate import validate_path
    from govcloud.planning.planner import build_plan
    root = migrate_env.write_inventory(tmp_path_factory.mktemp("rh") / "inv", SOURCES, CLIENT, start="2026-11-23")
    res = validate_path(root)
    assert not res.errors, [p.message for p in res.errors]
    inv = res.inventory
    plan = build_plan(inv, inv.policies["drill"], plan_id="fake-rehearse", inventory_ref="../inv", inputs_digest="x")
    return plan, inv


class World:
    def __init__(self, tmp: Path, plan, inv) -> None:
        self.tmp, self.plan, self.inv = tmp, plan, inv
        self.cloud = FakeCloud(flavors={"m1.small": (1, 2048), "c2.m4": (2, 4096)},
                               networks={"govcloud-net": "198.18.128.0/24"}, isolated={RH_NET: "198.18.200.0/24"})
        self.pb = ScriptedPlaybooks()
        self.probe = ScriptedProbe()

    @property
    def plan_dir(self) -> Path:
        return self.tmp / "plan"

    def executor(self) -> Executor:
        opts = Options(key=self.tmp / "id_ed25519", known_hosts=self.tmp / "known_hosts", ssh_timeout=2,
                       retry_backoff=0, admin_cidrs=["198.18.0.1"])
        return Executor(self.plan_dir, self.plan, self.inv, opts, cloud=self.cloud.connect, playbooks=self.pb,
                        probe=self.probe)

    def items(self, ex: Executor, systems: list[str] | None = None):
        return ex.items_of(self.plan.batches[0].id, systems)

    def entries(self, **match):
        return [d for d in (e.to_dict() for e in journal.read(self.plan_dir).entries)
                if all(d.get(k) == v for k, v in match.items())]

    def clones(self) -> list[dict]:
        return [s for s in self.cloud.servers.values() if s["name"].endswith("-rh")]

    def synced(self, systems: list[str] | None = None) -> None:
        ex = self.executor()
        assert all(r.ok for r in ex.run(self.items(ex, systems), State.synced))


@pytest.fixture
def world(drill, tmp_path):
    plan, inv = copy.deepcopy(drill)
    inv.cloud_zones["z1"].rehearsal_network = RH_NET
    (tmp_path / "plan").mkdir()
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "id_ed25519").write_text("not a key: the scripted playbooks read no key\n")
    return World(tmp_path, plan, inv)


def _system(w: World) -> str:
    return w.plan.batches[0].items[0].system


# ---------------------------------------------------------------- refusals: nothing created


def test_refuses_a_system_that_is_not_synced(world):
    ex = world.executor()
    before = dict(world.cloud.servers)
    with pytest.raises(GovcloudError, match="only a synced system"):
        ex.rehearse(world.items(ex, [_system(world)]))
    assert world.cloud.servers == before
    assert world.entries(kind="rehearsal") == []
    assert "ensure_server" not in world.cloud.calls


def test_refuses_without_a_rehearsal_network_and_on_a_network_that_is_not_isolated(world):
    s = _system(world)
    world.synced([s])
    servers = dict(world.cloud.servers)
    world.inv.cloud_zones["z1"].rehearsal_network = None
    ex = world.executor()
    with pytest.raises(GovcloudError, match="has no rehearsal_network"):
        ex.rehearse(world.items(ex, [s]))
    world.inv.cloud_zones["z1"].rehearsal_network = RH_NET
    world.cloud.add_router("r1", [RH_NET])         # a router port on it: the clones could reach out
    ex = world.executor()
    with pytest.raises(GovcloudError, match="is not isolated: .*router"):
        ex.rehearse(world.items(ex, [s]))
    # the dry run says the same, and nothing was created either way
    spec = world.executor().rehearsal_specs(world.items(ex, [s]))[0]
    assert any("router" in str(p) for p in spec.problems)
    assert world.cloud.servers == servers
    assert world.entries(kind="rehearsal") == []


def test_a_cut_over_system_is_not_rehearsed(world):
    s = _system(world)
    world.synced([s])
    ex = world.executor()
    ex.transition(s, State.cutover)
    with pytest.raises(GovcloudError, match="it is cutover"):
        world.executor().rehearse(world.items(ex, [s]))


# ---------------------------------------------------------------- a rehearsal


def test_rehearsal_clones_seeds_from_the_synced_target_verifies_and_cleans_up(world):
    s = _system(world)
    world.synced([s])
    ex = world.executor()
    item = world.items(ex, [s])
    st = ex.status()[s]
    target = world.cloud.find_server(world.plan.plan_id, s, st.resources and next(
        k.split(":", 1)[1] for k in st.resources if k.startswith("server:")))
    target_addr = target["addresses"]["govcloud-net"][0]
    spec = ex.rehearsal_specs(item)[0]
    assert spec.problems == [] and spec.network == RH_NET
    assert [c.name for c in spec.clones] == [target["name"] + "-rh"]
    seen = {}

    def while_clone_exists(call):
        # the clone exists now: it is never seen as the system's target
        seen["clones"] = world.clones()
        seen["find_server"] = world.cloud.find_server(world.plan.plan_id, s, spec.clones[0].source)
        seen["system_servers"] = world.cloud.system_servers(s)
        seen["system_resources"] = world.cloud.find_system_resources(world.plan.plan_id, s)
        seen["inventory"], seen["extravars"] = call.inventory, call.extravars
        return PlaybookRun(0, "successful", {"ok": {h: 1 for h in call.hosts}, "changed": {}},
                           artifact_dir="/nonexistent")

    world.pb.script("migrate_sync.yml", while_clone_exists, system=s)
    n_before = len(world.pb.calls)
    [res] = world.executor().rehearse(item)
    assert res.ok, res.error
    assert [c.playbook for c in world.pb.calls[n_before:]] == list(REH.PLAYBOOKS)
    # clones: on the isolated network, tagged, invisible as targets
    [clone] = seen["clones"]
    assert clone["addresses"] == {RH_NET: [clone["addresses"][RH_NET][0]]}
    assert clone["flavor"] == target["flavor"] and clone["security_groups"] == [spec.security_group]
    assert seen["find_server"]["id"] == target["id"]
    assert [x["id"] for x in seen["system_servers"]] == [target["id"]]
    assert clone["id"] not in {r["id"] for r in seen["system_resources"].values()}
    # the inventory: the synced target plays `source`, the clone `target`, no clients
    groups = seen["inventory"]["all"]["children"]
    [src] = groups["source"]["hosts"].values()
    [tgt] = groups["target"]["hosts"].values()
    assert src["ansible_host"] == target_addr and src["ansible_host"] not in [a for _, a in SOURCES]
    assert tgt["ansible_host"] == clone["addresses"][RH_NET][0]
    assert tgt["govcloud_source_address"] == target_addr
    assert groups["clients"]["hosts"] == {}
    ev = seen["extravars"]
    assert ev["govcloud_sync_route"] == "tunnel" and ev["govcloud_replication"] == "off"
    assert ev["govcloud_state_dir"].startswith(REH.STATE_ROOT + "/rh-")
    assert ev["govcloud_verify_record"] is False
    assert all(d["method"] == "dump" and not d["teardown"] for d in ev.get("govcloud_db_methods", []))
    # gone afterwards; the system's state and resources untouched
    assert world.clones() == []
    assert world.cloud.find_rehearsal_resources(world.plan.plan_id, s) == {}
    st2 = world.executor().status()[s]
    assert st2.state is State.synced and st2.resources == st.resources
    lines = world.entries(kind="rehearsal", system=s)
    assert [x["status"] for x in lines] == ["start", "cleaned", "ok"]
    assert len({x["rehearsal"] for x in lines}) == 1
    ok = lines[-1]
    assert set(ok["timings"]) == set(REH.PHASES)
    assert ok["projected_window_s"] is not None and ok["projected_window_s"] >= 0
    assert ok["network"] == RH_NET and ok["checks"] == REH.checks_of(ex.targets(item)[0])
    last = st2.last_rehearsal
    assert last and last["id"] == ok["rehearsal"] and last["ok"]
    assert any("projected cutover window" in str(c) for c in res.changed)


def test_a_failed_verification_fails_the_rehearsal_and_still_removes_the_clones(world):
    s = _system(world)
    world.synced([s])
    world.pb.script("migrate_verify.yml", "fail", system=s)
    ex = world.executor()
    [res] = ex.rehearse(world.items(ex, [s]))
    assert not res.ok and "failed" in res.error
    assert world.clones() == []
    lines = world.entries(kind="rehearsal", system=s)
    assert [x["status"] for x in lines] == ["start", "cleaned", "fail"]
    assert "scripted task" in lines[-1]["reason"]
    assert "verify_s" not in lines[-1]["timings"] and lines[-1].get("projected_window_s") is None
    assert world.executor().status()[s].last_rehearsal is None
    assert world.executor().status()[s].state is State.synced


def test_keep_leaves_the_clone_and_the_next_rehearsal_removes_it(world):
    s = _system(world)
    world.synced([s])
    ex = world.executor()
    [res] = ex.rehearse(world.items(ex, [s]), keep=True)
    assert res.ok
    [kept] = world.clones()
    first = world.entries(kind="rehearsal", system=s)
    assert [x["status"] for x in first] == ["start", "ok"]
    [res2] = world.executor().rehearse(world.items(ex, [s]))
    assert res2.ok
    assert kept["id"] not in world.cloud.servers and world.clones() == []
    cleaned = [x for x in world.entries(kind="rehearsal", system=s, status="cleaned")]
    assert first[0]["rehearsal"] in {x["rehearsal"] for x in cleaned}


def test_a_rehearsal_killed_after_its_clone_exists_is_cleaned_by_the_next(world):
    s = _system(world)
    world.synced([s])

    def killed(call):
        raise Crash("SIGKILL")

    world.pb.script("migrate_sync.yml", killed, system=s)
    ex = world.executor()
    with pytest.raises(Crash):
        ex.rehearse(world.items(ex, [s]))
    [left] = world.clones()
    [start] = world.entries(kind="rehearsal", system=s)
    assert start["status"] == "start"
    # the dry run names the leftover; the next rehearsal removes it first and journals it cleaned
    spec = world.executor().rehearsal_specs(world.items(ex, [s]))[0]
    assert [v["id"] for v in spec.leftovers.values()] == [left["id"]]
    [res] = world.executor().rehearse(world.items(ex, [s]))
    assert res.ok
    assert left["id"] not in world.cloud.servers and world.clones() == []
    lines = world.entries(kind="rehearsal", system=s)
    assert lines[1] == {**lines[1], "rehearsal": start["rehearsal"], "status": "cleaned"}
    recs = world.executor().status()[s].rehearsals
    assert [r["status"] for r in recs] == ["cleaned", "ok"]


def test_a_clone_that_never_answers_ssh_fails_and_is_removed(world):
    s = _system(world)
    world.synced([s])
    orig = world.cloud.ensure_server

    def silent_clone(**kw):
        info, outcome = orig(**kw)
        if kw.get("rehearsal"):
            world.probe.silent.add(info["addresses"][RH_NET][0])
        return info, outcome

    world.cloud.ensure_server = silent_clone
    ex = world.executor()
    [res] = ex.rehearse(world.items(ex, [s]))
    assert not res.ok and "does not answer SSH" in res.error
    assert world.clones() == []
    assert [x["status"] for x in world.entries(kind="rehearsal", system=s)] == ["start", "cleaned", "fail"]
