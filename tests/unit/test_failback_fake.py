"""`migrate failback` on the executor's fakes (in-memory cloud, scripted playbooks with a kind-hosts
record on the clients): preconditions, the order of what it does, the evidence it demands before
the switch, the journal, the target opened again on any difference, and resume after a kill."""

from __future__ import annotations

import json

import pytest

from govcloud.drivers.ports import PlaybookRun
from govcloud.errors import GovcloudError
from govcloud.migrate.executor import FAILBACK_STEPS, failback_evidence
from govcloud.migrate.lifecycle import State, run_steps
from govcloud.testing.scripted import Crash
from test_executor_fake import _done, drill, world  # noqa: F401 — fixtures shared with the executor tests

FB = "migrate_failback.yml"


def evidence_run(*, rows_differ: bool = False, tree_differs: bool = False):
    """A scripted final phase reporting the evidence the playbook would (per source host)."""
    def run(call) -> PlaybookRun:
        if call.extravars.get("govcloud_failback_phase") != "final":
            hosts = call.hosts
            return PlaybookRun(0, "successful", {"ok": {h: 1 for h in hosts}, "changed": {h: 1 for h in hosts}})
        msgs = {}
        for host in call.inventory["all"]["children"]["target"]["hosts"]:
            counts = {"public.t": 3}
            rep = {"host": host, "trees": [{"path": "/srv/govapp", "digest": "d1", "cloud_digest":
                                            "d2" if tree_differs else "d1", "files": 4, "bytes": 40}],
                   "tree_diffs": ["/srv/govapp/x: content differ"] if tree_differs else [],
                   "frozen_at": "2026-12-06 23:59:00.1",
                   "databases": [{"key": "postgresql/govapp", "rows": counts,
                                  "cloud_rows": {"public.t": 4} if rows_differ else counts,
                                  "checksums": {"public.t": "abc"}, "cloud_checksums": {"public.t": "abc"}}]}
            msgs[host] = ["govcloud-failback " + json.dumps(rep)]
        return PlaybookRun(0, "successful", {"ok": {h: 1 for h in msgs}, "changed": {}}, messages=msgs)
    return run


def _item(w, ex, system="app1"):
    return w.items(ex, [system])[0]


def _record(w, system="app1"):
    return w.pb.etc_hosts.get(("h38", w.inv.systems[system].workload.cutover_record.name))


def test_failback_is_refused_before_the_cutover_and_after_decommission(world):
    w = world
    ex = w.executor()
    ex.run(w.items(ex, ["app1"]), State.synced)
    with pytest.raises(GovcloudError, match="only a system serving from its target"):
        w.executor().failback(_item(w, ex), reason="r")
    assert not w.entries(kind="step", step="failback")            # nothing journaled, nothing run
    _done(w)
    ex = w.executor()
    ex.decommission(_item(w, ex), soak_days=0, today=__import__("datetime").date.today(), reason="r")
    with pytest.raises(GovcloudError, match="decommissioned"):
        w.executor().failback(_item(w, ex), reason="r")


def test_failback_copies_back_proves_switches_then_serves_and_journals_the_evidence(world):
    w = world
    _done(w)
    src, tgt = w.inv.servers["h61"].ips[0], None
    tgt = _record(w)
    assert tgt and tgt != src
    w.pb.script(FB, evidence_run(), times=2)
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="soak problem")
    assert res.ok and res.state == "failed_back", res
    ran = w.pb.ran("app1")
    tail = ran[ran.index(FB) - 1:]
    # the record read first (compare-and-swap gate), copy, final + evidence, switch, serve
    assert tail == ["migrate_record.yml", FB, FB, "migrate_record.yml", "migrate_failback_serve.yml"], tail
    calls = [c for c in w.pb.calls if c.playbook.startswith("migrate_failback")]
    assert [c.extravars.get("govcloud_failback_phase") for c in calls[:2]] == ["copy", "final"]
    # reversed inventory: the cloud server is read (group source), the original source pulls (group target)
    inv = calls[0].inventory["all"]["children"]
    assert list(inv["target"]["hosts"]) == ["h61"] and list(inv["source"]["hosts"]) == ["h61-cloud"]
    h61 = inv["target"]["hosts"]["h61"]
    assert h61["govcloud_source"] == "h61-cloud" and h61["govcloud_source_address"] == tgt
    assert f":{tgt}:22" in h61["ansible_ssh_extra_args"]
    assert all(c.extravars["govcloud_failback_state_dir"] == "/var/lib/govcloud/failback" for c in calls)
    assert all(c.extravars["govcloud_db_methods"] == [] for c in calls)
    assert _record(w) == src
    st = ex.status()["app1"]
    assert st.state is State.failed_back and st.done_steps == set() and st.cutover_at is None
    ev = st.failbacks[-1]["evidence"]
    assert st.failbacks[-1]["status"] == "ok"
    assert ev["rows"] == {"h61:postgresql/govapp": {"public.t": 3}}
    assert ev["checksums"] == {"h61:postgresql/govapp": {"public.t": "abc"}}
    assert ev["trees"] == [{"host": "h61", "path": "/srv/govapp", "digest": "d1", "files": 4, "bytes": 40}]
    assert ev["record"] == {"before": [tgt], "after": [src], "changed": True}
    assert ev["downtime_s"] is not None
    # the evidence was journaled BEFORE the switch
    lines = [e for e in w.entries(system="app1") if e.get("kind") in ("failback", "switch")]
    first_ev = next(i for i, e in enumerate(lines) if e["kind"] == "failback")
    sw_src = next(i for i, e in enumerate(lines) if e["kind"] == "switch" and e.get("to") == "source")
    assert first_ev < sw_src
    # run again from scratch: the forward steps are all to do
    assert [s.value for s in run_steps(st, State.synced)] == ["precheck", "provision", "configure", "sync"]


@pytest.mark.parametrize("kind", ["rows", "tree", "playbook"])
def test_any_difference_opens_the_target_again_and_changes_nothing(world, kind):
    w = world
    _done(w)
    tgt = _record(w)
    if kind == "playbook":
        w.pb.script(FB, "ok")
        w.pb.script(FB, "fail")
    else:
        w.pb.script(FB, evidence_run(rows_differ=kind == "rows", tree_differs=kind == "tree"), times=2)
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert not res.ok and res.state == "done", res
    assert w.pb.ran("app1")[-1] == "migrate_failback_reopen.yml"
    assert "migrate_failback_serve.yml" not in w.pb.ran("app1")
    assert _record(w) == tgt                                           # still serving from the target
    st = ex.status()["app1"]
    assert st.state is State.done and st.failbacks[-1]["status"] == "fail"
    fail = w.entries(kind="step", step="failback", status="fail")[-1]
    assert fail["detail"]["target_reopened"] is True
    if kind == "rows":
        assert "row counts differ" in fail["reason"]
    if kind == "tree":
        assert "tree differs" in fail["reason"]


def test_a_record_changed_by_someone_else_refuses_before_anything_and_changes_nothing(world):
    w = world
    _done(w)
    name = w.inv.systems["app1"].workload.cutover_record.name
    w.pb.etc_hosts[("h38", name)] = "198.18.1.99"
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert not res.ok and "refusing to fail back" in res.error and "198.18.1.99" in res.error
    assert not any(p.startswith("migrate_failback") for p in w.pb.ran("app1"))
    assert w.pb.etc_hosts[("h38", name)] == "198.18.1.99"
    assert w.entries(kind="switch", system="app1")[-1]["status"] == "refused"
    assert ex.status()["app1"].state is State.done


def _record_edited_after_the_proof(w) -> str:
    """A cut-over app1 whose failback proves the data equal, then someone points the client's record
    elsewhere before the switch; returns the record's name."""
    _done(w)
    name = w.inv.systems["app1"].workload.cutover_record.name
    base = evidence_run()

    def final_then_someone_edits(call):
        out = base(call)
        if call.extravars.get("govcloud_failback_phase") == "final":
            w.pb.etc_hosts[("h38", name)] = "198.18.1.99"
        return out
    w.pb.script(FB, final_then_someone_edits, times=2)
    return name


def test_a_record_changed_between_the_proof_and_the_switch_reopens_the_target(world):
    w = world
    name = _record_edited_after_the_proof(w)
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert not res.ok and res.state == "done"
    assert w.pb.ran("app1")[-2:] == ["migrate_record.yml", "migrate_failback_reopen.yml"]
    assert w.pb.etc_hosts[("h38", name)] == "198.18.1.99"


def test_a_failback_killed_after_the_switch_resumes_by_serving_without_copying_again(world):
    w = world
    _done(w)
    src = w.inv.servers["h61"].ips[0]
    w.pb.script(FB, evidence_run(), times=2)

    def killed(call):
        raise Crash()
    w.pb.script("migrate_failback_serve.yml", killed)
    ex = w.executor()
    with pytest.raises(Crash):
        ex.failback(_item(w, ex), reason="r")
    assert _record(w) == src and w.state("app1") is State.done
    before = len(w.pb.ran("app1"))
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert res.ok and res.state == "failed_back"
    # never copied again over what the source may already have written: the record read, then serve
    assert w.pb.ran("app1")[before:] == ["migrate_record.yml", "migrate_failback_serve.yml"]
    ev = ex.status()["app1"].failbacks[-1]["evidence"]
    assert ev["record"]["after"] == [src] and ev["rows"]


def test_a_failback_killed_before_the_switch_runs_again_from_the_copy(world):
    w = world
    _done(w)
    tgt = _record(w)

    def killed(call):
        raise Crash()
    w.pb.script(FB, "ok")
    w.pb.script(FB, killed)
    ex = w.executor()
    with pytest.raises(Crash):
        ex.failback(_item(w, ex), reason="r")
    assert _record(w) == tgt
    w.pb.script(FB, evidence_run(), times=2)
    ex = w.executor()
    assert ex.failback(_item(w, ex), reason="r").ok
    assert w.state("app1") is State.failed_back


def test_record_on_the_source_without_evidence_is_refused(world):
    w = world
    _done(w)
    src = w.inv.servers["h61"].ips[0]
    w.pb.etc_hosts[("h38", w.inv.systems["app1"].workload.cutover_record.name)] = src
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert not res.ok and "no failback proved the data equal" in res.error
    assert not any(p.startswith("migrate_failback") for p in w.pb.ran("app1"))


def test_rollback_and_decommission_of_a_failed_back_system(world):
    w = world
    _done(w)
    w.pb.script(FB, evidence_run(), times=2)
    ex = w.executor()
    assert ex.failback(_item(w, ex), reason="r").ok
    with pytest.raises(GovcloudError, match="only a finished"):
        w.executor().decommission(_item(w, ex), soak_days=0, today=__import__("datetime").date.today(), reason="r")
    n = len(w.pb.calls)
    res = w.executor().rollback(_item(w, ex), keep_target=False, reason="remove the kept target")
    assert res.ok and res.state == "rolled_back"
    assert w.pb.calls[n:] == []                    # no playbook: the source serves already, the record stays
    assert not [s for s in w.cloud.servers.values() if s["metadata"]["govcloud_system"] == "app1"]


def test_dry_run_lists_the_steps_and_the_record(world):
    w = world
    _done(w)
    ex = w.executor()
    n = len(w.pb.calls)
    plan = ex.failback_plan(_item(w, ex))
    assert plan["state"] == "done" and plan["steps"] == list(FAILBACK_STEPS) and len(plan["steps"]) == 5
    assert plan["new"] == [w.inv.servers["h61"].ips[0]] and plan["expected"] == [_record(w)]
    assert w.pb.calls[n:] == [] and not w.entries(kind="run", command="failback")


def test_evidence_needs_every_host_and_equal_figures():
    good = {"h1": ["govcloud-failback " + json.dumps({"trees": [{"path": "/a", "digest": "x", "cloud_digest": "x"}],
                                                     "databases": []})]}
    assert failback_evidence(good, ["h1"])["trees"][0]["digest"] == "x"
    with pytest.raises(GovcloudError, match="no failback evidence from h2"):
        failback_evidence(good, ["h1", "h2"])
    with pytest.raises(GovcloudError, match="no failback evidence"):
        failback_evidence({"h1": ["govcloud-failback {not json"]}, ["h1"])
    bad = {"h1": ["govcloud-failback " + json.dumps({"trees": [], "databases": [
        {"key": "postgresql/x", "rows": {"t": 1}, "cloud_rows": {"t": 1}, "checksums": None, "cloud_checksums": None}]})]}
    with pytest.raises(GovcloudError, match="checksums differ"):
        failback_evidence(bad, ["h1"])


def test_a_proof_made_before_the_target_was_opened_again_is_not_reused(world):
    """The switch refused after the proof (the target opened again and took writes), then someone points
    the record at the source by hand: the old proof no longer holds, nothing is served from it."""
    w = world
    name = _record_edited_after_the_proof(w)
    ex = w.executor()
    assert not ex.failback(_item(w, ex), reason="r").ok
    w.pb.etc_hosts[("h38", name)] = w.inv.servers["h61"].ips[0]
    ex = w.executor()
    res = ex.failback(_item(w, ex), reason="r")
    assert not res.ok and "no failback proved the data equal" in res.error
    assert "migrate_failback_serve.yml" not in w.pb.ran("app1")
