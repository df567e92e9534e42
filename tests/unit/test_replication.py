"""The per-database method decision, the projection and the journal replay of replication (pure)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from govcloud.migrate import replication as R

ROOT = Path(__file__).resolve().parents[2]

GOOD = dict(engine="postgresql", name="govapp", address="198.18.1.51", version_num=150008, wal_level="logical",
            ssl=True, superuser=True, listen_addresses="*", max_replication_slots=10, used_replication_slots=0,
            max_wal_senders=10, used_wal_senders=0, tables_without_key=[], reachable=True,
            target="198.19.1.5", measured_at="2026-12-06T06:00:00Z")


def facts(**kw):
    return R.SourceFacts.from_plain({**GOOD, **kw})


def test_replication_when_nothing_blocks_it_and_tls_required_when_the_source_has_ssl():
    d = R.decide("postgresql", "govapp", facts())
    assert d.method is R.Method.replication and d.sslmode == "require"
    assert [r.code for r in d.reasons] == ["ok"] and d.measured_at == GOOD["measured_at"]
    assert R.decide("postgresql", "govapp", facts(ssl="off")).sslmode == "prefer"


@pytest.mark.parametrize("kw, code, words", [
    ({"wal_level": "replica"}, "pg.wal_level", "wal_level=replica"),
    ({"version_num": 90624}, "pg.version", "9.6"),
    ({"superuser": "f"}, "pg.privileges", "superuser"),
    ({"used_replication_slots": 10}, "pg.slots", "max_replication_slots=10"),
    ({"used_wal_senders": 10}, "pg.senders", "max_wal_senders=10"),
    ({"tables_without_key": ["public.audit_log"]}, "pg.no_key", "public.audit_log"),
    ({"listen_addresses": "localhost"}, "pg.listen", "localhost"),
    ({"reachable": False, "reach_error": "Timeout when waiting for 198.18.1.51:5432"}, "net.unreachable",
     "Timeout when waiting"),
    ({"reachable": None}, "net.unknown", "not probed"),
    ({"error": "psql: could not connect"}, "facts.error", "could not connect"),
])
def test_each_blocker_falls_back_to_dump_and_says_why(kw, code, words):
    d = R.decide("postgresql", "govapp", facts(**kw))
    assert d.method is R.Method.dump
    assert code in [r.code for r in d.reasons]
    assert words in d.why("en")
    assert d.why("zh") != d.why("en")          # worded in both languages


def test_every_blocker_is_listed_not_only_the_first():
    d = R.decide("postgresql", "govapp", facts(wal_level="minimal", tables_without_key=["a.b", "c.d"]))
    assert [r.code for r in d.reasons] == ["pg.wal_level", "pg.no_key"]
    assert "2 table(s)" in d.why("en")


def test_our_own_slot_needs_no_free_one_on_a_rerun():
    assert R.decide("postgresql", "x", facts(used_replication_slots=10, has_govcloud_slot=True)).method \
        is R.Method.replication


def test_other_engines_and_missing_facts_and_disabled_are_dump():
    d = R.decide("oracle", "db", None)
    assert d.method is R.Method.dump and d.reasons[0].code == "engine.unsupported"
    for e in ("postgresql", "mysql", "mariadb"):
        assert R.decide(e, "db", None).reasons[0].code == "facts.missing"
    assert R.decide("postgresql", "db", facts(), enabled=False).reasons[0].code == "disabled"


MY_GOOD = dict(engine="mariadb", name="govapp", address="198.18.1.55", port=3306, version="10.11.6-MariaDB-0+deb12u1",
               log_bin="1", binlog_format="ROW", server_id="1", skip_networking="0", bind_address="", ssl=True,
               present=True, non_transactional=[], reachable=True, target="198.19.1.5")


def my(**kw):
    return R.SourceFacts.from_plain({**MY_GOOD, **kw})


def test_mariadb_replicates_when_nothing_blocks_it_and_says_exactly_why_not():
    assert R.decide("mariadb", "govapp", my()).method is R.Method.replication
    assert R.decide("mysql", "govapp", my()).method is R.Method.replication     # engine spelled mysql, a MariaDB server
    cases = {
        "my.not_mariadb": dict(version="8.0.36"), "my.version": dict(version="10.0.1-MariaDB"),
        "my.log_bin": dict(log_bin="0"), "my.binlog_format": dict(binlog_format="statement"),
        "my.server_id": dict(server_id="0"), "my.skip_networking": dict(skip_networking="ON"),
        "my.bind": dict(bind_address="127.0.0.1"), "my.db_non_transactional": dict(non_transactional=["t1 (MyISAM)"]),
        "my.db_missing": dict(present=False), "net.unreachable": dict(reachable=False, reach_error="timed out"),
        "net.unknown": dict(reachable=None),
    }
    for code, kw in cases.items():
        d = R.decide("mariadb", "govapp", my(**kw))
        assert d.method is R.Method.dump and [r.code for r in d.reasons] == [code], (code, d)
        zh, en = d.why("zh"), d.why("en")
        assert zh != en and "{" not in zh + en and any("\u4e00" <= c <= "\u9fff" for c in zh), (code, zh, en)
    assert "STATEMENT" in R.decide("mariadb", "g", my(binlog_format="statement")).why("en")
    assert "MyISAM" in R.decide("mariadb", "g", my(non_transactional=["t1 (MyISAM)"])).why("zh")
    assert R.decide("mariadb", "a,b", my(name="a,b")).reasons[0].code == "my.db_comma"
    # a bind on every address, or on the source's own, is fine; only loopback blocks
    for bind in ("0.0.0.0", "::", "198.18.1.55", "127.0.0.1,198.18.1.55"):
        assert R.decide("mariadb", "govapp", my(bind_address=bind)).method is R.Method.replication, bind


def test_facts_from_messages_joins_each_engine_with_its_own_reachability():
    msgs = {"h55": ["govcloud-repl " + json.dumps({"kind": "facts", "source": "h55", **MY_GOOD, "reachable": None}),
                    "govcloud-repl " + json.dumps({"kind": "facts", "source": "h55", **GOOD})],
            "h56": ["govcloud-repl " + json.dumps({"kind": "reach", "engine": "mysql", "source": "h55",
                                                   "reachable": False, "error": "refused", "port": 3307}),
                    "govcloud-repl " + json.dumps({"kind": "reach", "engine": "postgresql", "source": "h55",
                                                   "reachable": True, "port": 5432})]}
    f = R.facts_from_messages(msgs, measured_at="t")
    assert f["mariadb/govapp"].reachable is False and f["mariadb/govapp"].port == 3307
    assert f["postgresql/govapp"].reachable is True and f["postgresql/govapp"].port == 5432
    d = R.decide_all([("mariadb", "govapp"), ("postgresql", "govapp")], f)
    assert [x.method for x in d] == [R.Method.dump, R.Method.replication]
    assert d[0].reasons[0].code == "net.unreachable" and "refused" in d[0].why("en")


def test_decision_round_trips_through_the_journal_form():
    d = R.decide("postgresql", "govapp", facts(tables_without_key=["public.t"]))
    back = R.MethodDecision.from_plain(json.loads(json.dumps(d.to_plain())))
    assert back == d


def test_projection_with_replication_is_flat_in_size_and_dump_follows_the_last_sync():
    dec = [R.decide("postgresql", "govapp", facts())]
    st = [R.ReplicationStatus("postgresql", "govapp", "streaming", lag_bytes=4096, lag_s=1.5)]
    p = R.project(dec, st, last_sync_s=900.0, stop_start_s=15.0)
    assert p.method == "replication" and p.total_s == round(1.5 + R.REPLICATION_FINAL_S + 15.0, 1)
    assert p.replication_lag_s == 1.5
    # replication decided but not running (down, or not measured): the dump projection, honestly
    for s in ([], [R.ReplicationStatus("postgresql", "govapp", "down")]):
        q = R.project(dec, s, last_sync_s=900.0, stop_start_s=15.0)
        assert q.method == "dump" and q.total_s == 915.0
    # one database by dump: the whole window is a dump's
    mixed = dec + [R.decide("mysql", "m", None)]
    assert R.project(mixed, st, last_sync_s=60.0, stop_start_s=15.0).method == "dump"


def test_executor_projection_uses_replication_records():
    from govcloud.migrate.executor import SERVICE_STOP_START_S, project_downtime
    from govcloud.migrate.lifecycle import SystemStatus
    st = SystemStatus("s", last_sync_s=1200.0)
    dec = [R.decide("postgresql", "govapp", facts())]
    p = project_downtime(st, dec, [R.ReplicationStatus("postgresql", "govapp", "streaming", 0, 0.0)])
    assert p["method"] == "replication" and p["total_s"] == R.REPLICATION_FINAL_S + SERVICE_STOP_START_S
    assert project_downtime(st)["total_s"] == 1200.0 + SERVICE_STOP_START_S


def test_slot_names_are_valid_unique_and_stable():
    a = R.slot_name("plan-1", "sys-a", "postgresql", "Gov-App.db")
    assert a == R.slot_name("plan-1", "sys-a", "postgresql", "Gov-App.db")
    assert a != R.slot_name("plan-2", "sys-a", "postgresql", "Gov-App.db")
    import re
    assert re.fullmatch(r"[a-z0-9_]{1,63}", a) and a.startswith("govcloud_")
    assert len(R.slot_name("p", "s", "postgresql", "x" * 200)) <= 63


def test_methods_extravar_marks_teardown_only_for_a_database_that_replicated_before():
    dec = [R.decide("postgresql", "a", facts(name="a")), R.decide("postgresql", "b", facts(name="b", wal_level="replica"))]
    ev = R.methods_extravar(dec, plan_id="p", system="s", replicated_before={"postgresql/b"})
    assert ev[0]["method"] == "replication" and not ev[0]["teardown"]
    assert ev[1] == {"engine": "postgresql", "name": "b", "method": "dump", "sslmode": "prefer",
                     "slot": R.slot_name("p", "s", "postgresql", "b"), "teardown": True}
    from govcloud.drivers.ansible import unsafe_yaml
    assert "govcloud_" in unsafe_yaml({"govcloud_db_methods": ev})     # keys Ansible accepts
    assert "password" not in json.dumps(ev) and "verifier" not in json.dumps(ev)


def test_facts_from_messages_joins_the_source_facts_with_the_targets_reachability():
    msgs = {"src1": ["db x: something else", "govcloud-repl " + json.dumps({**GOOD, "kind": "facts", "source": "src1",
                                                                            "reachable": None})],
            "src1-cloud": ["govcloud-repl " + json.dumps({"kind": "reach", "source": "src1", "reachable": False,
                                                           "error": "timeout", "target": "198.19.1.9", "port": 5432})],
            "other": ["govcloud-repl {not json"]}
    f = R.facts_from_messages(msgs, measured_at="T")
    assert set(f) == {"postgresql/govapp"}
    g = f["postgresql/govapp"]
    assert g.reachable is False and g.reach_error == "timeout" and g.target == "198.19.1.9" and g.measured_at == "T"
    assert R.decide("postgresql", "govapp", g).reasons[-1].code == "net.unreachable"


def test_latest_replays_decisions_and_last_measured_status_and_ends_them_on_rollback():
    d = R.decide("postgresql", "govapp", facts()).to_plain()
    entries = [
        {"kind": "replication", "system": "s", "decisions": [d], "at": "T1"},
        {"kind": "replication", "system": "s", "status": [{"engine": "postgresql", "name": "govapp",
                                                          "state": "streaming", "lag_bytes": 10, "lag_s": 0.2,
                                                          "measured_at": "T2", "live": True}]},
        {"kind": "replication", "system": "other", "status": [{"engine": "postgresql", "name": "z", "state": "down"}]},
    ]
    dec, st = R.latest(entries, "s")
    assert [x.method for x in dec] == [R.Method.replication]
    assert st[0].state == "streaming" and st[0].lag_bytes == 10 and st[0].measured_at == "T2"
    assert not st[0].live and "measured T2" in st[0].text("en")       # journaled: never shown as live
    _, st2 = R.latest(entries + [{"kind": "state", "system": "s", "to": "rolled_back", "at": "T3"}], "s")
    assert st2[0].state == "absent" and st2[0].measured_at == "T3"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_playbook_filter_selects_by_the_orchestrators_decision():
    f = _load(ROOT / "playbooks" / "filter_plugins" / "govcloud_migrate.py", "gc_filters").govcloud_dbs_by_method
    dbs = [{"engine": "postgresql", "name": "a"}, {"engine": "postgresql", "name": "b"}, {"engine": "mysql", "name": "c"}]
    methods = [{"engine": "postgresql", "name": "a", "method": "replication", "slot": "govcloud_x_a",
                "sslmode": "require"},
               {"engine": "postgresql", "name": "b", "method": "dump", "teardown": True}]
    assert f(dbs, methods, "replication") == [{"engine": "postgresql", "name": "a", "slot": "govcloud_x_a",
                                               "sslmode": "require", "method": "replication"}]
    assert [d["name"] for d in f(dbs, methods, "dump")] == ["b", "c"]      # no decision: dump


def test_scram_verifier_has_postgresqls_form_and_depends_on_the_password():
    mod = _load(ROOT / "playbooks" / "library" / "govcloud_pg_repl.py", "gc_pg_repl")
    salt = b"0123456789abcdef"
    v = mod.scram_verifier("secret", salt)
    assert v.startswith("SCRAM-SHA-256$4096:") and "secret" not in v
    assert v == mod.scram_verifier("secret", salt) != mod.scram_verifier("other", salt)
    # RFC 7677 test vector shape: StoredKey and ServerKey are 32-byte base64 values
    import base64
    stored, server = v.split("$", 2)[2].split(":")
    assert len(base64.b64decode(stored)) == 32 and len(base64.b64decode(server)) == 32


# ---------------------------------------------------------------- the executor's wiring (playbooks faked)

@pytest.fixture()
def drill_plan(tmp_path):
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    import migrate_env
    from govcloud.inventory.validate import validate_path
    from govcloud.planning.planner import build_plan
    root = migrate_env.write_inventory(tmp_path / "inv", [("h51", "198.18.1.51")], ("h53", "198.18.1.53"),
                                       start="2026-11-23", max_downtime_s=60)
    res = validate_path(root)
    assert not res.errors, [p.message for p in res.errors]
    inv = res.inventory
    plan = build_plan(inv, inv.policies["drill"], plan_id="drill-repl", inventory_ref="../inv", inputs_digest="x")
    return plan, inv, tmp_path / "plan"


def _fake_runs(monkeypatch, facts_msg: dict, status_msg: dict | None):
    from govcloud.drivers import ansible as A
    calls = []

    def fake(playbook, inventory, *, extravars=None, private_data_dir=None, **kw):
        calls.append((Path(playbook).name, extravars or {}))
        run = A.PlaybookRun(rc=0, status="successful", stats={}, artifact_dir=str(private_data_dir))
        if Path(playbook).name == "migrate_repl_facts.yml":
            run.messages = {"h51": ["govcloud-repl " + json.dumps({"kind": "facts", "source": "h51", **facts_msg})],
                            "h51-cloud": ["govcloud-repl " + json.dumps({"kind": "reach", "source": "h51",
                                                                          "reachable": True, "port": 5432})]}
        elif status_msg is not None:
            run.messages = {"h51-cloud": ["govcloud-repl " + json.dumps({"kind": "status", **status_msg})]}
        return run
    monkeypatch.setattr(A, "run_playbook", fake)
    return calls


def test_sync_step_probes_decides_journals_and_passes_exactly_that_method(drill_plan, monkeypatch):
    from govcloud.migrate.executor import Executor, Options
    from govcloud.migrate.lifecycle import SystemStatus
    from govcloud.store import journal
    plan, inv, plan_dir = drill_plan
    plan_dir.mkdir()
    calls = _fake_runs(monkeypatch, {**GOOD, "tables_without_key": []},
                       {"engine": "postgresql", "name": "govapp", "state": "streaming", "lag_bytes": 128, "lag_s": 0.4})
    ex = Executor(plan_dir, plan, inv, Options())
    ex.runs_dir.mkdir(parents=True)
    item = plan.items()[0]
    t = ex.targets([item])[0]
    # the dry run, before any sync: says the method is decided at sync
    rows = ex._method_changes(t, SystemStatus(t.system))
    assert [(c.action, c.name) for c in rows] == [("method", "postgresql/govapp")]
    assert "measured at sync" in rows[0].detail
    detail = ex._step_sync(t, SystemStatus(t.system))
    assert [c[0] for c in calls] == ["migrate_repl_facts.yml", "migrate_sync.yml"]
    methods = calls[1][1]["govcloud_db_methods"]
    assert methods == [{"engine": "postgresql", "name": "govapp", "method": "replication", "sslmode": "require",
                        "slot": R.slot_name("drill-repl", t.system, "postgresql", "govapp"), "teardown": False}]
    assert detail["methods"] == {"postgresql/govapp": "replication"}
    entries = journal.read(plan_dir).entries
    kinds = [e for e in entries if e.kind == "replication"]
    assert kinds[0].decisions[0]["method"] == "replication" and kinds[0].facts[0]["wal_level"] == "logical"
    assert kinds[1].status[0]["lag_bytes"] == 128
    # the dry run now shows the measured decision; the projection uses the measured lag
    rows = ex._method_changes(t, SystemStatus(t.system))
    assert rows[0].detail.startswith("replication (measured ")
    from govcloud.migrate.executor import project_downtime
    p = project_downtime(SystemStatus(t.system, last_sync_s=500.0), *R.latest(entries, t.system))
    assert p["method"] == "replication" and p["replication_lag_s"] == 0.4


def test_sync_step_falls_back_with_the_reason_and_tears_down_earlier_replication(drill_plan, monkeypatch):
    from govcloud.migrate.executor import Executor, Options
    from govcloud.migrate.lifecycle import SystemStatus
    from govcloud.store import journal
    plan, inv, plan_dir = drill_plan
    plan_dir.mkdir()
    ex = Executor(plan_dir, plan, inv, Options())
    ex.runs_dir.mkdir(parents=True)
    t = ex.targets([plan.items()[0]])[0]
    _fake_runs(monkeypatch, GOOD, None)
    ex._step_sync(t, SystemStatus(t.system))                     # replicated once
    calls = _fake_runs(monkeypatch, {**GOOD, "tables_without_key": ["public.audit"]}, None)
    ex._step_sync(t, SystemStatus(t.system))
    m = calls[1][1]["govcloud_db_methods"][0]
    assert m["method"] == "dump" and m["teardown"] is True
    last = [e for e in journal.read(plan_dir).entries if e.get("kind") == "replication"][-1]
    assert last.decisions[0]["reasons"][0]["code"] == "pg.no_key"
    assert "public.audit" in last.decisions[0]["reasons"][0]["en"]
    # --no-replication: no probe at all, dump with its reason
    ex.opts.replication = False
    calls = _fake_runs(monkeypatch, GOOD, None)
    ex._step_sync(t, SystemStatus(t.system))
    assert [c[0] for c in calls] == ["migrate_sync.yml"]
    assert calls[0][1]["govcloud_db_methods"][0]["method"] == "dump"


def test_status_cell_says_method_lag_and_when_it_was_measured_or_why_dump():
    from govcloud.render.views.migrate import replication_cell as _replication_cell
    rep = {"methods": [R.decide("postgresql", "a", facts(name="a")).to_plain(),
                       R.decide("postgresql", "b", facts(name="b", wal_level="replica")).to_plain()],
           "status": [R.ReplicationStatus("postgresql", "a", "streaming", 2048, 1.25, "2026-12-06T06:00:00Z").to_plain()]}
    en = _replication_cell(rep, "en")
    assert "postgresql/a streaming lag 2048 B / 1.2 s (measured 2026-12-06T06:00:00Z)" in en
    assert "postgresql/b dump: the source has wal_level=replica" in en
    zh = _replication_cell(rep, "zh")
    assert "延迟 2048 B" in zh and "测于 2026-12-06T06:00:00Z" in zh and "wal_level=replica" in zh
