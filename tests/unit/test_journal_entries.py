"""Typed journal entries (store/entries.py): one class per kind, read by the journal's one reader,
written back by to_dict without losing a field — the on-disk format is unchanged."""

from __future__ import annotations

import json

import pytest

from govcloud.migrate.lifecycle import replay
from govcloud.store import entries as E
from govcloud.store import journal

# one line of every kind the executor writes (as it writes them: null step/reason included)
LINES = [
    {"at": "T1", "who": "u@h", "run": "r1", "kind": "run", "command": "run", "until": "synced", "systems": ["a"]},
    {"at": "T1", "who": "u@h", "run": "r1", "kind": "step", "system": "a", "step": "sync", "status": "start"},
    {"at": "T2", "who": "u@h", "run": "r1", "kind": "resource", "system": "a", "key": "server:a1", "action": "created",
     "resource": {"kind": "server", "id": "i-1", "name": "a1"}},
    {"at": "T2", "who": "u@h", "run": "r1", "kind": "cleanup", "system": "a", "key": "server:a1",
     "resource": {"id": "i-0"}},
    {"at": "T2", "who": "u@h", "run": "r1", "kind": "retry", "system": "a", "step": "sync", "attempt": 1,
     "unreachable": ["target"]},
    {"at": "T2", "who": "u@h", "run": "r1", "kind": "change", "system": "a", "change": {"action": "create"},
     "outcome": "created"},
    {"at": "T3", "who": "u@h", "run": "r1", "kind": "replication", "system": "a", "step": "sync",
     "facts": [{"wal_level": "logical"}], "decisions": [{"engine": "postgresql", "name": "d", "method": "dump"}]},
    {"at": "T3", "who": "u@h", "run": "r1", "kind": "sync_stats", "system": "a", "mode": "initial", "paths": 1,
     "complete": True, "files": 3, "files_transferred": 3, "deleted": 0, "total_size": 10, "transferred_size": 10,
     "literal_bytes": 10, "bytes_transferred": 12, "wall_s": 1.5, "database_s": None},
    {"at": "T3", "who": "u@h", "run": "r1", "kind": "record_ttl", "system": "a", "record": "app.gov.cn",
     "values": ["198.18.1.1"], "ttl_before": 300, "ttl": 60, "changed": True, "lowered_at": 1.5e9,
     "expires_at": 1.5e9 + 300, "expires": "2017-07-14T02:45:00"},
    {"at": "T4", "who": "u@h", "run": "r1", "kind": "step", "system": "a", "step": "sync", "status": "ok",
     "detail": {"changed": [], "mode": "initial"}},
    {"at": "T4", "who": "u@h", "run": "r1", "kind": "state", "system": "a", "to": "synced", "step": "sync",
     "reason": None},
    {"at": "T5", "who": "u@h", "run": "r2", "kind": "switch", "system": "a", "record": "app.gov.cn", "to": "target",
     "status": "ok", "live": ["198.18.1.9"]},
    {"at": "T5", "who": "u@h", "run": "r2", "kind": "reaped", "pid": 7, "pid_start": 99,
     "processes": [{"pid": 8, "name": "ssh", "of_run": "r1"}]},
    {"at": "T6", "who": "u@h", "run": "r3", "kind": "state", "system": "a", "to": "decommissioned",
     "step": "decommission", "reason": "soaked", "evidence": {"answered_200": ["http://x/"]}},
    {"at": "T6", "who": "u@h", "kind": "a-kind-from-a-newer-version", "system": "a", "anything": [1, 2]},
    {"system": "b", "state": "done"},
]


def _read(tmp_path, lines):
    journal.journal_path(tmp_path).write_text("".join(json.dumps(d) + "\n" for d in lines), encoding="utf-8")
    return journal.read(tmp_path).entries


def test_every_kind_reads_as_its_class_and_writes_back_unchanged(tmp_path):
    got = _read(tmp_path, LINES)
    assert [type(e).__name__ for e in got] == [
        "RunEntry", "StepEntry", "ResourceEntry", "CleanupEntry", "RetryEntry", "ChangeEntry", "ReplicationEntry",
        "SyncStatsEntry", "RecordTtlEntry", "StepEntry", "StateEntry", "SwitchEntry", "ReapedEntry", "StateEntry",
        "Entry", "PlainState"]
    for d, e in zip(LINES, got):
        # null fields are absent ones to every reader; everything else comes back as it was written
        back = e.to_dict()
        assert set(back) <= set(d) and {k: v for k, v in back.items() if v is not None} == \
            {k: v for k, v in d.items() if v is not None}, d
        assert E.Entry.from_dict(e.to_dict()) == e
    run, _, res, _, retry, _, repl, stats, ttl, ok, state, switch, reaped, dec, newer, plain = got
    assert run.systems == ("a",) and run.until == "synced" and run.command == "run"
    assert res.key == "server:a1" and res.resource["id"] == "i-1" and not res.removed
    assert retry.attempt == 1 and retry.unreachable == ("target",)
    assert repl.decisions[0]["method"] == "dump" and repl.facts[0]["wal_level"] == "logical" and repl.status == ()
    assert stats.figures["bytes_transferred"] == 12 and stats.figures["at"] == "T3"
    assert ttl.ttl_before == 300 and ttl.expires_at == 1.5e9 + 300 and ttl.changed is True
    assert ok.detail == {"changed": [], "mode": "initial"} and state.to == "synced" and state.reason is None
    assert switch.to == "target" and switch.live == ("198.18.1.9",) and reaped.processes[0]["name"] == "ssh"
    assert dec.evidence == {"answered_200": ["http://x/"]}
    assert newer.kind == "a-kind-from-a-newer-version" and newer.get("anything") == [1, 2]
    assert plain.kind is None and plain.state == "done"
    st = replay(got)["a"]
    assert st.state.value == "decommissioned" and st.syncs == 1 and st.resources["server:a1"]["name"] == "a1"
    assert st.sync_runs[0].bytes_transferred == 12 and st.last_sync_s is None      # "T1"/"T4" are not times


@pytest.mark.parametrize("line", [
    {"kind": "run", "command": "cutover", "systems": "a", "forced": "yes", "projection": [1]},
    {"kind": "replication", "system": "a", "decisions": "x", "status": [1, "y", None]},
    {"kind": "record_ttl", "system": "a", "ttl_before": "300", "expires_at": True, "values": {"a": 1}},
    {"kind": "step", "system": "a", "step": "sync", "status": 3, "detail": ["not", "a", "map"]},
    {"kind": "retry", "system": "a", "attempt": True, "unreachable": "target"},
])
def test_a_field_of_the_wrong_type_reads_as_absent(line):
    e = E.Entry.from_dict(line)
    for name in ("systems", "projection", "ttl_before", "expires_at", "status", "detail", "attempt"):
        if hasattr(e, name) and name in line:
            assert getattr(e, name) in (None, ()), name
    assert not getattr(e, "forced", False) and getattr(e, "decisions", ()) == () and getattr(e, "values", ()) == ()
    assert getattr(e, "unreachable", ()) == ()
    replay([e])                                              # nothing a reader relies on is of the wrong type


def test_append_takes_a_typed_entry_and_the_reader_gives_it_back(tmp_path):
    journal.append(tmp_path, E.StateEntry(kind="state", system="a", to="prechecked", step="precheck"))
    journal.append(tmp_path, {"kind": "step", "system": "a", "step": "precheck", "status": "ok"})
    a, b = journal.read(tmp_path).entries
    assert isinstance(a, E.StateEntry) and (a.system, a.to, a.step) == ("a", "prechecked", "precheck") and a.at
    assert isinstance(b, E.StepEntry) and b.status == "ok" and "@" in b.who
    assert json.loads(journal.journal_path(tmp_path).read_text().splitlines()[0])["kind"] == "state"
