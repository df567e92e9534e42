"""The executor on its ports' fakes (govcloud.testing): the in-memory cloud, scripted playbooks,
a scripted probe — every path of `migrate run/cutover/rollback/decommission`, in seconds.

The same Executor code runs against the real OpenStack and Ansible in tests/integration
(test_migrate_e2e.py, test_executor_dry_run_real.py); here only the ports are fakes.
"""

from __future__ import annotations

import copy
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from govcloud.errors import GovcloudError
from govcloud.migrate import desired as D
from govcloud.migrate.executor import Executor, Options
from govcloud.migrate.lifecycle import FORWARD, STATE_AFTER, State, Step
from govcloud.model.enums import ExtranetArea
from govcloud.store import journal
from govcloud.testing.fake_cloud import FakeCloud
from govcloud.testing.scripted import Crash, ScriptedPlaybooks, ScriptedProbe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import migrate_env  # noqa: E402

SOURCES = [("h61", "198.18.1.61"), ("h62", "198.18.1.62")]
CLIENT = ("h38", "198.18.1.38")


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """Two systems (app1 on h61, app2 on h62), each server with a data disk (a volume); app2 faces
    the Internet (a floating IP on the zone's external network)."""
    from govcloud.inventory.validate import validate_path
    from govcloud.planning.planner import build_plan
    root = migrate_env.write_inventory(tmp_path_factory.mktemp("drill") / "inv", SOURCES, CLIENT, start="2026-11-23")
    dept = root / "departments" / "drill.yaml"
    dept.write_text(dept.read_text().replace("disks: [{size_gb: 10}]", "disks: [{size_gb: 10}, {size_gb: 20}]"))
    res = validate_path(root)
    assert not res.errors, [p.message for p in res.errors]
    inv = res.inventory
    plan = build_plan(inv, inv.policies["drill"], plan_id="fake-drill", inventory_ref="../inv", inputs_digest="x")
    return plan, inv


@pytest.fixture
def world(drill, tmp_path):
    plan, inv = copy.deepcopy(drill)
    inv.cloud_zones["z1"].floating_network = "public"
    inv.systems["app2"].extranet_area = ExtranetArea.internet_access
    (tmp_path / "plan").mkdir()
    (tmp_path / "known_hosts").write_text("")
    (tmp_path / "id_ed25519").write_text("not a key: the scripted playbooks read no key\n")
    return World(tmp_path, plan, inv)


class World:
    def __init__(self, tmp: Path, plan, inv) -> None:
        self.tmp, self.plan, self.inv = tmp, plan, inv
        self.cloud = FakeCloud(flavors={"m1.small": (1, 2048), "c2.m4": (2, 4096)},
                               networks={"govcloud-net": "198.18.128.0/24"})
        self.pb = ScriptedPlaybooks()
        self.probe = ScriptedProbe()

    @property
    def plan_dir(self) -> Path:
        return self.tmp / "plan"

    def executor(self, parallel: int = 1) -> Executor:
        opts = Options(key=self.tmp / "id_ed25519", known_hosts=self.tmp / "known_hosts", parallel=parallel,
                       ssh_timeout=2, retry_backoff=0, admin_cidrs=["198.18.0.1"])
        return Executor(self.plan_dir, self.plan, self.inv, opts, cloud=self.cloud.connect, playbooks=self.pb,
                        probe=self.probe)

    def items(self, ex: Executor | None = None, systems: list[str] | None = None):
        return (ex or self.executor()).items_of(self.plan.batches[0].id, systems)

    def entries(self, **match):
        """The journal's entries as their JSON objects (to_dict), those matching ``match``."""
        return [d for d in (e.to_dict() for e in journal.read(self.plan_dir).entries)
                if all(d.get(k) == v for k, v in match.items())]

    def state(self, system: str) -> State:
        return self.executor().status()[system].state

    def journaled_changes(self, run_id: str) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for e in self.entries(kind="change", run=run_id):
            out.setdefault(e["system"], []).append(e["change"])
        return out


def planned(dry: dict) -> dict[str, list[dict]]:
    return {s["system"]: s["changes"] for s in dry["systems"] if s["changes"]}


def no_twins(cloud: FakeCloud) -> None:
    """Every resource exists once: never created twice however the run was interrupted."""
    servers = Counter((s["metadata"]["govcloud_system"], s["metadata"]["govcloud_server"]) for s in cloud.servers.values())
    assert all(n == 1 for n in servers.values()), servers
    groups = Counter(g["name"] for g in cloud.security_groups.values())
    assert all(n == 1 for n in groups.values()), groups
    vols = Counter(v["name"] for v in cloud.volumes.values())
    assert all(n == 1 for n in vols.values()), vols
    fips = Counter(ip["description"] for ip in cloud.floating_ips.values())
    assert all(n == 1 for n in fips.values()), fips


def converged(w: World) -> None:
    """The cloud holds exactly what the plan wants, and the journal names exactly that."""
    ex = w.executor()
    cs = ex.change_set(w.items(ex), State.synced)
    for s in cs.systems:
        assert s.steps == [] and s.changes == [], (s.system, s.changes)
    no_twins(w.cloud)
    statuses = ex.status()
    for t in cs.targets:
        in_cloud = w.cloud.find_system_resources(w.plan.plan_id, t.system)
        journaled = {k: v["id"] for k, v in statuses[t.system].resources.items() if v.get("kind") != "network"}
        assert journaled == {k: v["id"] for k, v in in_cloud.items()}, t.system
        g = next(g for g in w.cloud.security_groups.values() if g["name"] == t.security_group)
        assert {D.rule_key(r) for r in t.rules} == {
            ("ingress", r["protocol"], r["port_range_min"], r["port_range_max"], r["remote_ip_prefix"],
             bool(r["remote_group_id"])) for r in g["rules"] if r["direction"] == "ingress"}
        for s in t.servers:
            srv = w.cloud.find_server(w.plan.plan_id, t.system, s.source)
            for vname, _ in s.volumes:
                v = next(v for v in w.cloud.volumes.values() if v["name"] == vname)
                assert v["attachments"] == [srv["id"]], vname


OUTCOME = {"create": {"created"}, "adopt": {"kept"}, "keep": {"kept"}, "update": {"changed"},
           "attach": {"changed"}, "run": {"ran"}}


def assert_run_did_the_dry_run(w: World, dry: dict, run_id: str) -> None:
    done = w.journaled_changes(run_id)
    assert done == planned(dry)
    for e in w.entries(kind="change", run=run_id):
        c = e["change"]
        ok = OUTCOME[c["action"]] | ({"kept"} if c["kind"] == "keypair" else set())  # another system made it
        assert e["outcome"] in ok, (c, e["outcome"])


# ---------------------------------------------------------------- dry run == run


def test_the_dry_run_is_a_typed_record_and_its_json_is_what_the_cli_prints(world):
    ex = world.executor()
    dry = ex.dry_run(world.items(ex), State.synced)
    plain = dry.to_plain()
    assert dry.to_do == plain["to_do"] > 0 and dry.blocked == plain["blocked"] == 0 and "check" not in plain
    assert [s["system"] for s in plain["systems"]] == [s.system for s in dry.change_set.systems]
    assert all(isinstance(s["databases"], list) for s in plain["systems"])
    dry.check = {"app1": "ok"}
    assert dry.to_plain()["check"] == {"app1": "ok"}


def test_the_run_carries_out_exactly_the_dry_run_change_list(world):
    w = world
    ex = w.executor(parallel=2)
    dry = ex.dry_run(w.items(ex), State.synced).to_plain()
    acts = {(c["action"], c["kind"]) for s in dry["systems"] for c in s["changes"]}
    assert {("create", "keypair"), ("keep", "network"), ("create", "security_group"), ("create", "server"),
            ("create", "volume"), ("create", "floating_ip"), ("run", "playbook")} <= acts
    assert dry["to_do"] > 0 and dry["blocked"] == 0
    results = ex.run(w.items(ex), State.synced)
    assert [(r.system, r.ok, r.state) for r in results] == [("app1", True, "synced"), ("app2", True, "synced")]
    assert_run_did_the_dry_run(w, dry, ex.run_id)
    converged(w)
    # the sync step's read-only replication probe runs first (the dry run's sync row says so)
    assert w.pb.ran("app1") == ["migrate_precheck.yml", "migrate_configure.yml", "migrate_repl_facts.yml",
                                "migrate_sync.yml"]
    # the new servers' host keys were recorded from the cloud, strictly, and SSH was awaited
    kh = (w.plan_dir / "runs" / "known_hosts.targets").read_text()
    assert kh.count("ssh-ed25519") == 2
    assert any(a.startswith("ssh://198.18.128.") for a in w.probe.asked)


def test_drifted_rules_and_an_unattached_volume_are_in_the_dry_run_and_the_run_does_exactly_that(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex), State.provisioned)
    # the target is kept through a rollback; meanwhile someone opened a port by hand and detached a disk
    for item in w.items(ex):
        w.executor().rollback(item, keep_target=True, reason="rehearsal over")
    group = D.security_group_name(w.plan.plan_id, "app1")
    w.cloud.add_rule(group, protocol="tcp", port_range_min=8080, port_range_max=8080, remote_ip_prefix="0.0.0.0/0")
    vol = next(v for v in w.cloud.volumes.values() if v["name"].startswith("app2-"))
    vol["attachments"], vol["status"] = [], "available"

    ex = w.executor()
    dry = ex.dry_run(w.items(ex), State.provisioned).to_plain()
    prov = {s["system"]: {(c["action"], c["kind"]) for c in s["changes"] if c["step"] == "provision"}
            for s in dry["systems"]}
    assert prov["app1"] == {("keep", "keypair"), ("keep", "network"), ("update", "security_group"),
                            ("keep", "server"), ("keep", "volume")}
    assert prov["app2"] == {("keep", "keypair"), ("keep", "network"), ("keep", "security_group"),
                            ("keep", "server"), ("attach", "volume"), ("keep", "floating_ip")}
    sg = next(c for c in dry["systems"][0]["changes"] if c["kind"] == "security_group")
    assert "rules +0 -1" in sg["detail"]
    assert dry["to_do"] == 2 + 2 * 2          # update + attach, and precheck + configure for each system
    ex.run(w.items(ex), State.provisioned)
    assert_run_did_the_dry_run(w, dry, ex.run_id)
    converged_provision = w.executor().dry_run(w.items(), State.provisioned).to_plain()
    assert converged_provision["to_do"] == 0
    assert not any(r["port_range_min"] == 8080 for g in w.cloud.security_groups.values() for r in g["rules"])
    assert vol["attachments"]


def test_a_cloud_resource_the_journal_lacks_is_adopted_in_the_dry_run_and_the_run(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.provisioned)
    w.plan_dir.joinpath("journal.jsonl").unlink()          # the journal is lost; the cloud still has it all
    ex = w.executor()
    dry = ex.dry_run(w.items(ex, ["app1"]), State.provisioned).to_plain()
    acts = [(c["action"], c["kind"]) for c in dry["systems"][0]["changes"] if c["step"] == "provision"]
    assert acts == [("keep", "keypair"), ("keep", "network"), ("adopt", "security_group"), ("adopt", "server"),
                    ("adopt", "volume")]
    ex.run(w.items(ex, ["app1"]), State.provisioned)
    assert_run_did_the_dry_run(w, dry, ex.run_id)
    no_twins(w.cloud)
    assert len(w.cloud.servers) == 1


def test_a_blocked_change_is_shown_and_the_run_stops_before_touching_the_cloud(world):
    w = world
    w.cloud.flavors = {"x9.huge": {"id": "fl-x9", "vcpus": 9, "ram_mb": 9, "disk": 9}}   # the plan's flavors are gone
    ex = w.executor()
    dry = ex.dry_run(w.items(ex), State.synced).to_plain()
    assert dry["blocked"] >= 2
    results = ex.run(w.items(ex), State.synced)
    assert all(not r.ok and r.state == "failed" for r in results)
    assert all("flavor" in r.error for r in results)
    assert w.cloud.servers == {} and w.cloud.security_groups == {}
    assert w.pb.ran() == []                          # precheck refused before any playbook


# ---------------------------------------------------------------- crashes


CRASH_POINTS = ([("playbook", p) for p in ("migrate_precheck.yml", "migrate_configure.yml", "migrate_sync.yml")] +
                [("cloud", op) for op in ("create_keypair", "create_security_group", "create_server", "create_volume",
                                          "attach_volume", "create_floating_ip")])


@pytest.mark.parametrize("where,point", CRASH_POINTS, ids=[p for _, p in CRASH_POINTS])
def test_a_run_killed_at_any_step_resumes_and_does_each_thing_once(world, where, point):
    w = world
    if where == "playbook":
        def crash(call):
            raise Crash(f"killed during {call.playbook}")
        w.pb.script(point, crash, system="app2")
    else:
        def after(op, resource):
            if op == point and (resource.get("metadata", {}).get("govcloud_system") == "app2" or op == "create_keypair"
                                or "app2" in str(resource.get("name", "")) or "app2" in str(resource.get("description", ""))):
                w.cloud.after = None
                raise Crash(f"killed after {op}")
        w.cloud.after = after
    ex = w.executor()
    with pytest.raises(Crash):
        ex.run(w.items(ex), State.synced)
    crashed = ex.run_id
    victim = "app1" if point == "create_keypair" else "app2"     # app1 makes the plan's keypair
    before = list(w.pb.ran(victim))
    # the next run: the same command; its dry run first, then the run does exactly that
    ex = w.executor()
    dry = ex.dry_run(w.items(ex), State.synced).to_plain()
    results = ex.run(w.items(ex), State.synced)
    assert [r.state for r in results] == ["synced", "synced"], [r.error for r in results]
    assert_run_did_the_dry_run(w, dry, ex.run_id)
    converged(w)
    # what finished before the kill is not done again; what was cut short is done once more
    done_before = {e["step"] for e in w.entries(kind="step", status="ok", system=victim, run=crashed)}
    again = w.pb.ran(victim)[len(before):]
    assert again and again[-1] == "migrate_sync.yml"
    assert not done_before & {p.split("_")[1].split(".")[0] for p in again}, (done_before, again)
    assert [s["system"] for s in dry["systems"] if s["changes"]] == [victim]


def test_a_crash_between_cutover_and_its_journal_line_resumes_the_cutover(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    w.pb.script("migrate_verify.yml", lambda call: (_ for _ in ()).throw(Crash("killed")), system="app1")
    with pytest.raises(Crash):
        w.executor().cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="test")
    assert w.state("app1") is State.cutover
    res = w.executor().cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="test")
    assert [(r.system, r.ok, r.state) for r in res] == [("app1", True, "done")]


# ---------------------------------------------------------------- partial failure, retries


def test_one_failing_system_of_a_parallel_batch_does_not_stop_the_others_and_resumes_alone(world):
    w = world
    w.pb.script("migrate_sync.yml", "fail", system="app1")
    ex = w.executor(parallel=2)
    results = ex.run(w.items(ex), State.synced)
    by = {r.system: r for r in results}
    assert (by["app1"].ok, by["app1"].state, by["app1"].error_kind) == (False, "failed", "playbook")
    assert "scripted task: it failed" in by["app1"].error
    assert (by["app2"].ok, by["app2"].state) == (True, "synced")
    fail = w.entries(kind="state", system="app1", to="failed")[-1]
    assert fail["step"] == "sync"
    n = len(w.pb.calls)
    ex = w.executor(parallel=2)
    results = ex.run(w.items(ex), State.synced)
    assert all(r.ok and r.state == "synced" for r in results)
    assert [(c.system, c.playbook) for c in w.pb.calls[n:]] == [("app1", "migrate_repl_facts.yml"), ("app1", "migrate_sync.yml")]


def test_a_dropped_connection_is_retried_and_journaled(world):
    w = world
    w.pb.script("migrate_configure.yml", "unreachable", system="app1")
    ex = w.executor()
    results = ex.run(w.items(ex, ["app1"]), State.synced)
    assert results[0].ok
    assert [e["attempt"] for e in w.entries(kind="retry", system="app1")] == [1]
    assert w.pb.ran("app1").count("migrate_configure.yml") == 2


def test_a_server_in_error_fails_the_system_cleanly_and_the_next_run_builds_it(world):
    w = world
    w.cloud.error_servers.add("h61")
    ex = w.executor()
    res = ex.run(w.items(ex, ["app1"]), State.synced)
    assert (res[0].ok, res[0].error_kind) == (False, "no_valid_host")
    assert w.entries(kind="cleanup", system="app1")[0]["resource"]["name"] == "h61"
    assert w.cloud.servers == {}
    w.cloud.error_servers.clear()
    ex = w.executor()
    assert ex.run(w.items(ex, ["app1"]), State.synced)[0].ok
    converged_one = w.executor().change_set(w.items(ex, ["app1"]), State.synced)
    assert converged_one.systems[0].changes == []


# ---------------------------------------------------------------- cutover, rollback, move groups


def test_a_failed_verification_rolls_back_at_once_and_the_others_finish(world):
    w = world
    ex = w.executor(parallel=2)
    ex.run(w.items(ex), State.synced)
    w.pb.script("migrate_verify.yml", "fail", system="app2")
    res = {r.system: r for r in w.executor(parallel=2).cutover(w.items(ex), today=date.today(), force_reason="t")}
    assert (res["app1"].ok, res["app1"].state) == (True, "done")
    assert (res["app2"].ok, res["app2"].state) == (False, "rolled_back")
    # the hosts record goes the same path as dns/haproxy: read at the gate, switched after the target
    # serves (compare-and-swap), switched back after the rollback playbook
    assert w.pb.ran("app2")[-7:] == ["migrate_record.yml", "migrate_cutover.yml", "migrate_record.yml",
                                     "migrate_switched.yml", "migrate_verify.yml", "migrate_rollback.yml",
                                     "migrate_record.yml"]
    ops = [(c.extravars["govcloud_record_op"], c.extravars["govcloud_record_expected"], c.extravars["govcloud_record_new"])
           for c in w.pb.calls if c.system == "app2" and c.playbook == "migrate_record.yml"][-3:]
    src, tgt = ops[1][1], ops[1][2]
    assert ops == [("read", [], []), ("switch", src, tgt), ("switch", tgt, src)] and src != tgt
    sw = [(e["to"], e["before"], e["after"]) for e in w.entries(kind="switch", system="app2") if e["status"] == "ok"]
    assert sw == [("target", [], tgt), ("source", tgt, src)]            # old → new journaled; no line before
    assert w.pb.etc_hosts[("h38", w.inv.systems["app2"].workload.cutover_record.name)] == src[0]
    assert "migrate_rollback.yml" not in w.pb.ran("app1")
    # a rolled-back system runs again from the start and the target is adopted, not rebuilt
    servers = set(w.cloud.servers)
    ex = w.executor()
    assert ex.run(w.items(ex, ["app2"]), State.synced)[0].state == "synced"
    assert set(w.cloud.servers) == servers


def test_a_hosts_record_changed_behind_our_back_refuses_the_cutover_and_changes_nothing(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    name = w.inv.systems["app1"].workload.cutover_record.name
    w.pb.etc_hosts[("h38", name)] = "198.18.1.250"                            # someone else's line
    before = len(w.entries())
    with pytest.raises(GovcloudError) as e:
        w.executor().cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="t")
    assert "nothing was changed" in str(e.value) and "198.18.1.250" in str(e.value)
    assert w.pb.etc_hosts[("h38", name)] == "198.18.1.250"
    new = w.entries()[before:]
    assert [(x["kind"], x["status"]) for x in new if x.get("kind") == "switch"] == [("switch", "refused")]
    assert not [x for x in new if x.get("kind") in ("step", "state")]
    assert w.pb.ran("app1")[-1] == "migrate_record.yml"                 # only the read: no cutover playbook
    assert w.state("app1") is State.synced


def test_a_failed_rollback_leaves_the_system_failed_with_the_reason(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    w.pb.script("migrate_cutover.yml", "fail", system="app1")
    w.pb.script("migrate_rollback.yml", "fail", system="app1")
    res = w.executor().cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="t")
    assert (res[0].ok, res[0].state) == (False, "failed")
    st = w.executor().status()["app1"]
    assert st.failed_step == "rollback" and "rollback after cutover failed" in st.reason


def test_move_group_members_are_rolled_back_together(world):
    w = world
    for b in w.plan.batches:
        for i in b.items:
            i.move_group = "MG-shared"
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    w.pb.script("migrate_verify.yml", "fail", system="app2")
    res = {r.system: r for r in w.executor().cutover(w.items(ex), today=date.today(), force_reason="t")}
    # app1 was done when its group member app2 failed: it goes back to the source with it
    assert (res["app1"].ok, res["app1"].state) == (False, "rolled_back")
    assert "app2" in res["app1"].error
    assert (res["app2"].ok, res["app2"].state) == (False, "rolled_back")
    assert w.pb.ran("app1")[-2:] == ["migrate_rollback.yml", "migrate_record.yml"]    # record switched back
    assert w.entries(kind="switch", system="app1")[-1]["to"] == "source"
    assert w.state("app1") is State.rolled_back and w.state("app2") is State.rolled_back


def test_move_group_members_not_yet_cut_over_stay_on_the_source(world):
    w = world
    for b in w.plan.batches:
        for i in b.items:
            i.move_group = "MG-shared"
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    w.pb.script("migrate_cutover.yml", "fail", system="app1")
    res = {r.system: r for r in w.executor().cutover(w.items(ex), today=date.today(), force_reason="t")}
    assert res["app1"].state == "rolled_back"
    assert (res["app2"].ok, res["app2"].state) == (False, "synced")
    assert "migrate_cutover.yml" not in w.pb.ran("app2")


def test_manual_rollback_removes_exactly_what_the_cloud_holds_for_the_system(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex), State.provisioned)
    # a server the journal never heard of (killed between create and journal line) goes too
    w.cloud.ensure_server(plan_id=w.plan.plan_id, system="app1", server="stray", name="stray", flavor="m1.small",
                          image="Debian-12-x86_64", network="govcloud-net", keypair="k", security_group="g")
    r = w.executor().rollback(w.items(ex, ["app1"])[0], keep_target=False, reason="test")
    assert r.state == "rolled_back" and any("stray" in c for c in r.changed)
    assert w.cloud.find_system_resources(w.plan.plan_id, "app1") == {}
    assert w.cloud.find_system_resources(w.plan.plan_id, "app2") != {}       # the other system untouched
    removed = w.entries(kind="resource", system="app1", removed=True)
    assert {e["how"] for e in removed} == {"deleted"}


# ---------------------------------------------------------------- decommission guards


def _done(w: World, system: str = "app1") -> Executor:
    ex = w.executor()
    ex.run(w.items(ex, [system]), State.synced)
    w.executor().cutover(w.items(ex, [system]), today=date.today(), force_reason="t")
    assert w.state(system) is State.done
    return ex


def test_decommission_is_refused_before_done_and_inside_the_soak_period(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    item = w.items(ex, ["app1"])[0]
    with pytest.raises(GovcloudError, match="only a finished"):
        w.executor().decommission(item, soak_days=0, today=date.today(), reason="r")
    _done(w)
    with pytest.raises(GovcloudError, match="soak period of 7 days"):
        w.executor().decommission(item, soak_days=7, today=date.today(), reason="r")
    assert w.state("app1") is State.done


def test_decommission_is_refused_while_the_target_does_not_answer(world):
    w = world
    ex = _done(w)
    item = w.items(ex, ["app1"])[0]
    addr = w.executor().status()["app1"].resources["server:h61"]["address"]
    url = f"http://{addr}:80/api/stats.json"
    w.probe.http[url] = 502
    with pytest.raises(GovcloudError, match="does not answer"):
        w.executor().decommission(item, soak_days=0, today=date.today(), reason="r")
    assert w.state("app1") is State.done
    w.probe.http[url] = 200
    r = w.executor().decommission(item, soak_days=0, today=date.today() + timedelta(days=1), reason="soaked")
    assert r.state == "decommissioned"
    assert w.entries(kind="state", to="decommissioned")[0]["evidence"] == {"answered_200": [url]}
    with pytest.raises(GovcloudError, match="nothing to roll back"):
        w.executor().rollback(item, keep_target=True, reason="too late")


def test_decommission_without_a_health_url_is_refused(world):
    w = world
    for s in w.inv.systems["app1"].workload.services:
        object.__setattr__(s, "health_path", None)      # a frozen record: changed for this test only
    ex = _done(w)
    with pytest.raises(GovcloudError, match="no service has a health URL"):
        w.executor().decommission(w.items(ex, ["app1"])[0], soak_days=0, today=date.today(), reason="r")


# ---------------------------------------------------------------- one step → state table


def test_the_executor_transitions_through_the_lifecycle_table(world):
    assert STATE_AFTER == dict(FORWARD)
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    w.executor().cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="t")
    seen = [(e["step"], e["to"]) for e in w.entries(kind="state", system="app1")]
    assert seen == [(Step.precheck.value, "prechecked"), (Step.provision.value, "provisioned"),
                    (Step.sync.value, "synced"), (Step.cutover.value, "cutover"), (Step.verify.value, "verified"),
                    (Step.verify.value, "done")]


def test_processes_an_earlier_killed_run_left_are_journaled_as_reaped(world):
    from govcloud.drivers.ports import Reaped
    w = world
    w.pb.reaped = [Reaped(4242, "ssh", "20261206T000000-abcdef")]
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.prechecked)
    (e,) = w.entries(kind="reaped")
    assert e["processes"] == [{"pid": 4242, "name": "ssh", "of_run": "20261206T000000-abcdef"}]
    assert e["run"] == ex.run_id


# ---------------------------------------------------------------- rollback before cutover


def _replicating_facts(call):
    """migrate_repl_facts.yml on a source ready for logical replication (every database)."""
    import json
    from govcloud.drivers.ports import PlaybookRun
    src = next(h for h in call.hosts if not h.endswith("-cloud")) if call.hosts else "h61"
    msgs = {}
    for db in call.extravars.get("govcloud_databases") or []:
        msgs.setdefault(src, []).append("govcloud-repl " + json.dumps({
            "kind": "facts", "source": src, "engine": db["engine"], "name": db["name"], "address": "198.18.1.61",
            "version_num": 150008, "wal_level": "logical", "ssl": True, "superuser": True, "listen_addresses": "*",
            "max_replication_slots": 10, "used_replication_slots": 0, "max_wal_senders": 10,
            "used_wal_senders": 0, "tables_without_key": []}))
        msgs.setdefault(src + "-cloud", []).append("govcloud-repl " + json.dumps(
            {"kind": "reach", "source": src, "reachable": True, "port": 5432}))
    return PlaybookRun(0, "successful", {"ok": {h: 1 for h in call.hosts}}, messages=msgs,
                       artifact_dir="/nonexistent")


def test_rollback_of_a_synced_replicating_system_ends_replication_and_touches_nothing_else(world):
    """Before any cutover the source serves throughout: rollback must not run the cutover rollback
    (services, record, write settings), but must end the replication the sync set up — an
    inactive slot left on the source holds back its WAL until its disk is full."""
    w = world
    w.pb.script("migrate_repl_facts.yml", _replicating_facts, system="app1")
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    dec = w.entries(kind="replication", system="app1")[0]["decisions"]
    assert dec and {d["method"] for d in dec} == {"replication"}, dec
    n = len(w.pb.calls)
    r = w.executor().rollback(w.items(ex, ["app1"])[0], keep_target=True, reason="plan changed")
    assert (r.state, r.steps) == ("rolled_back", ["rollback"])
    ran = [(c.system, c.playbook) for c in w.pb.calls[n:]]
    assert ran == [("app1", "migrate_repl_teardown.yml")]
    # the teardown is told which databases replicate, exactly as the sync was
    methods = w.pb.calls[-1].extravars["govcloud_db_methods"]
    assert {m["method"] for m in methods} == {"replication"} and all(m["slot"] for m in methods)
    ok = w.entries(kind="step", system="app1", step="rollback", status="ok")
    assert ok and ok[-1]["detail"]["scope"] == "replication"
    assert w.state("app1") is State.rolled_back


def test_rollback_of_a_synced_system_that_dumps_runs_no_playbook(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    assert all(d["method"] == "dump" for e in w.entries(kind="replication", system="app1") for d in e.get("decisions", []))
    n = len(w.pb.calls)
    r = w.executor().rollback(w.items(ex, ["app1"])[0], keep_target=True, reason="plan changed")
    assert r.state == "rolled_back" and r.steps == [] and w.pb.calls[n:] == []


def test_a_failed_replication_teardown_leaves_the_system_failed_with_the_reason(world):
    w = world
    w.pb.script("migrate_repl_facts.yml", _replicating_facts, system="app1")
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    w.pb.script("migrate_repl_teardown.yml", "fail", system="app1")
    with pytest.raises(GovcloudError):
        w.executor().rollback(w.items(ex, ["app1"])[0], keep_target=False, reason="plan changed")
    st = w.executor().status()["app1"]
    assert st.state is State.failed and st.failed_step == "rollback" and "ending replication failed" in st.reason
    # the target was not removed while the source may still hold its slot
    assert w.cloud.find_system_resources(w.plan.plan_id, "app1") != {}


def test_clean_up_left_undone_after_the_switch_is_journaled_and_does_not_undo_the_cutover(world):
    """Ending replication and stopping the source's engines run after the record points to the
    target: their failure is reported (journaled with the cutover, shown as an event) and the
    system is done — switching back would lose what the target already accepted."""
    import json
    from govcloud.drivers.ports import PlaybookRun
    w = world

    def cutover_with_cleanup_failed(call):
        hosts = call.hosts or ["localhost"]
        tgt = next((h for h in hosts if h.endswith("-cloud")), hosts[0])
        msg = "govcloud-repl " + json.dumps({"kind": "cleanup_failed", "step": "replication ended", "target": tgt,
                                             "error": "could not drop slot: still active"})
        return PlaybookRun(0, "successful", {"ok": {h: 3 for h in hosts}, "changed": {h: 1 for h in hosts}},
                           messages={tgt: [msg]}, changed_tasks={h: ["scripted change"] for h in hosts},
                           artifact_dir="/nonexistent")

    events: list[str] = []
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    w.pb.script("migrate_cutover.yml", cutover_with_cleanup_failed, system="app1")
    ex = w.executor()
    ex.on_event = lambda system, text: events.append(f"{system}: {text}")
    r = ex.cutover(w.items(ex, ["app1"]), today=date.today(), force_reason="t")
    assert [x.ok for x in r] == [True] and w.state("app1") is State.done
    assert "migrate_rollback.yml" not in w.pb.ran("app1")
    ok = w.entries(kind="step", system="app1", step="cutover", status="ok")[-1]
    left = [x for x in ok["detail"]["replication"] if x["kind"] == "cleanup_failed"]
    assert left and left[0]["error"] == "could not drop slot: still active"
    assert any("clean-up left undone" in e and "still active" in e for e in events), events


def test_cutover_dry_run_reads_a_hosts_record_on_its_clients_with_its_live_value(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    name = w.inv.systems["app1"].workload.cutover_record.name
    src = w.inv.servers[w.inv.systems["app1"].servers[0]].ips[0]
    w.pb.etc_hosts[("h38", name)] = src
    n = len(w.pb.calls)
    rows = {r["system"]: r for r in w.executor().record_changes_live(w.items(ex, ["app1"]))}
    r = rows["app1"]
    assert (r["kind"], r["live"], r["expected"], r["action"]) == ("hosts", [src], [src], "switch")
    assert r["clients"] == {"h38": src} and r["new"] and r["new"] != [src]
    assert [(c.playbook, c.extravars["govcloud_record_op"]) for c in w.pb.calls[n:]] == [("migrate_record.yml", "read")]
    assert w.pb.etc_hosts[("h38", name)] == src                    # read only
    w.pb.etc_hosts[("h38", name)] = "198.18.1.250"
    assert w.executor().record_changes_live(w.items(ex, ["app1"]))[0]["action"] == "conflict"


# ---------------------------------------------------------------- the rehearsal gate (issue 18)


def _rehearsed(ex: Executor, system: str, day: date, status: str, rid: str) -> None:
    at = f"{day.isoformat()}T12:00:00Z"
    ex.j(kind="rehearsal", system=system, rehearsal=rid, status="start", at=at)
    ex.j(kind="rehearsal", system=system, rehearsal=rid, status=status, at=at,
         timings={"verify_s": 1.5}, projected_window_s=42.0, reason=None if status == "ok" else "verify failed")


def test_cutover_refuses_a_system_without_a_recent_successful_rehearsal(world):
    """With the policy's rehearsal_max_age_days, a cutover on its planned day is refused until the
    system has a successful rehearsal at most that many days old; a failed or older one does not count."""
    w = world
    w.inv.policies["drill"].thresholds.rehearsal_max_age_days = 7
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    t = ex.targets(w.items(ex, ["app1"]))[0]
    day = date.fromisoformat(t.cutover)
    cut = w.items(ex, ["app1"])

    def refused(why: str) -> None:
        with pytest.raises(GovcloudError) as e:
            w.executor().cutover(cut, today=day)
        assert "rehearsal" in str(e.value) and why in str(e.value), str(e.value)
        assert w.state("app1") is State.synced
        assert not w.entries(kind="run", command="cutover")

    refused("app1 (never)")
    _rehearsed(ex, "app1", day - timedelta(days=10), "ok", "r-old")
    refused(f"app1 ({(day - timedelta(days=10)).isoformat()})")
    _rehearsed(ex, "app1", day - timedelta(days=1), "fail", "r-failed")
    refused(f"app1 ({(day - timedelta(days=10)).isoformat()})")
    _rehearsed(ex, "app1", day - timedelta(days=7), "ok", "r-fresh")
    res = w.executor().cutover(cut, today=day)
    assert [(r.system, r.ok, r.state) for r in res] == [("app1", True, "done")]
    run = w.entries(kind="run", command="cutover")[-1]
    assert run["unrehearsed"] == [] and not run.get("forced")
    st = w.executor().status()["app1"]
    assert [r["id"] for r in st.rehearsals] == ["r-old", "r-failed", "r-fresh"]
    assert st.last_rehearsal["id"] == "r-fresh" and st.last_rehearsal["projected_window_s"] == 42.0
    assert st.rehearsals[1]["status"] == "fail" and st.rehearsals[1]["reason"] == "verify failed"


def test_a_forced_cutover_of_an_unrehearsed_system_is_journaled(world):
    w = world
    w.inv.policies["drill"].thresholds.rehearsal_max_age_days = 0
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    t = ex.targets(w.items(ex, ["app2"]))[0]
    res = w.executor().cutover(w.items(ex, ["app2"]), today=date.fromisoformat(t.cutover), force_reason="drill")
    assert [(r.system, r.ok) for r in res] == [("app2", True)]
    run = w.entries(kind="run", command="cutover")[-1]
    assert run["unrehearsed"] == ["app2"] and run["forced"] is True and run["reason"] == "drill"


def test_without_the_policy_setting_no_rehearsal_is_required(world):
    w = world
    assert w.inv.policies["drill"].thresholds.rehearsal_max_age_days is None
    ex = w.executor()
    ex.run(w.items(ex), State.synced)
    t = ex.targets(w.items(ex, ["app1"]))[0]
    res = w.executor().cutover(w.items(ex, ["app1"]), today=date.fromisoformat(t.cutover))
    assert [(r.system, r.ok) for r in res] == [("app1", True)]
