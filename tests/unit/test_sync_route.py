"""The direct data path's orchestration (unit, on the executor's fakes): the sync role's route
reports become the sync step's journaled ``routes``; the dry run shows per target which route the
sync will take (and the one the last sync took); the wanted route reaches the playbooks as data."""

from __future__ import annotations

import json

from govcloud.drivers.ports import PlaybookRun
from govcloud.migrate import runinventory as RI
from govcloud.migrate.lifecycle import State
from govcloud.store import journal

from test_executor_fake import drill, world  # noqa: F401 — the fixtures


def _route(target: str, source: str, path: str, **kw) -> str:
    return "govcloud-datapath " + json.dumps({"target": target, "source": source, "path": path, "wanted": "auto",
                                              "direct_rc": kw.get("rc", 0 if path == "direct" else 255),
                                              "direct_error": kw.get("error", "")})


def test_reports_are_parsed_and_anything_malformed_is_ignored():
    msgs = {"h61-cloud": ["sync report", _route("h61-cloud", "h61", "direct")],
            "h62-cloud": [_route("h62-cloud", "h62", "tunnel", error="No route to host")],
            "x": ["govcloud-datapath {not json", "govcloud-datapath " + json.dumps({"path": "carrier-pigeon"}),
                  "govcloud-datapath " + json.dumps({"path": "direct", "direct_rc": True})],
            "y": "not a list"}
    out = RI.datapath_reports(msgs)
    assert out["h61-cloud"] == {"source": "h61", "path": "direct", "wanted": "auto", "direct_rc": 0, "direct_error": ""}
    assert out["h62-cloud"]["path"] == "tunnel" and out["h62-cloud"]["direct_error"] == "No route to host"
    assert out["x"]["direct_rc"] is None          # a bool is not an exit code
    assert set(out) == {"h61-cloud", "h62-cloud", "x"}


def test_the_wanted_route_is_an_extravar_and_only_a_known_one(world):
    t = world.executor().targets(world.items())[0]
    assert RI.extravars(t)["govcloud_sync_route"] == "auto"
    assert RI.extravars(t, sync_route="tunnel")["govcloud_sync_route"] == "tunnel"
    assert RI.extravars(t, sync_route="{{ lookup('pipe','id') }}")["govcloud_sync_route"] == "auto"


def test_the_sync_journals_the_route_and_the_dry_run_shows_it(world):
    w = world
    ex = w.executor()
    dry = ex.dry_run(w.items(ex), State.synced).to_plain()
    rows = {s["system"]: [r for r in s["databases"] if r["action"] == "path"] for s in dry["systems"]}
    assert [r["name"] for r in rows["app1"]] == ["h61 → h61-cloud"]
    assert rows["app1"][0]["step"] == "sync" and rows["app1"][0]["kind"] == "data"
    assert rows["app1"][0]["detail"] == ("direct from 198.18.1.61 if it answers from the target (probed at each sync), "
                                         "else the reverse tunnel through the control node")

    def sync(call):
        host = f"{call.system.replace('app', 'h6')}-cloud"
        path = "direct" if call.system == "app1" else "tunnel"
        return PlaybookRun(0, "successful", {"ok": {host: 3}, "changed": {host: 1}},
                           messages={host: [_route(host, host[:-6], path, error="" if path == "direct" else "timeout")]})
    w.pb.script("migrate_sync.yml", sync, times=2)
    results = ex.run(w.items(ex), State.synced)
    assert all(r.ok for r in results), results
    steps = [e for e in journal.read(w.plan_dir).entries
             if e.kind == "step" and e.step == "sync" and e.get("status") == "ok"]
    routes = {e.system: dict(e.get("detail")["routes"]) for e in steps}
    assert routes["app1"]["h61-cloud"]["path"] == "direct" and routes["app2"]["h62-cloud"]["path"] == "tunnel"
    assert routes["app2"]["h62-cloud"]["direct_error"] == "timeout"
    # the next dry run names the route each target's last sync took
    ex2 = w.executor()
    dry = ex2.dry_run(w.items(ex2), State.synced, resync=True).to_plain()
    detail = {s["system"]: next(r["detail"] for r in s["databases"] if r["action"] == "path") for s in dry["systems"]}
    assert "; last sync: direct (" in detail["app1"] and "; last sync: tunnel (" in detail["app2"]


def test_a_tunnel_only_route_says_so(world):
    ex = world.executor()
    ex.opts.sync_route = "tunnel"
    dry = ex.dry_run(world.items(ex), State.synced).to_plain()
    row = next(r for s in dry["systems"] for r in s["databases"] if r["action"] == "path")
    assert row["detail"] == "the reverse tunnel through the control node"
    assert all(c.extravars.get("govcloud_sync_route") in (None, "tunnel") for c in world.pb.calls)
