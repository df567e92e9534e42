"""Issue 14 outside the databases: rsync statistics per sync run (parsed from rsync's own words,
whatever they are), convergence of repeated deltas, the projection from the last delta, and the
measured downtime against the approved window in `migrate status` and `govcloud report`
(Chinese and English, over-window flagged, forced cutovers with their reason)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from govcloud.migrate.executor import SERVICE_STOP_START_S, project_downtime
from govcloud.migrate.lifecycle import replay
from govcloud.migrate.syncstats import (
    STATS_PREFIX, SyncRun, convergence, parse_count, parse_rsync_stats, sync_run, without_stats,
)
from govcloud.render.report import parse_cutovers, render_report, report_data

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from test_report import _small  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

RSYNC_327 = """\
created directory /srv/govapp
GCI >f+++++++++ data/a.bin

Number of files: 27 (reg: 25, dir: 2)
Number of created files: 1 (reg: 1)
Number of deleted files: 0
Number of regular files transferred: 1
Total file size: 1,234,567 bytes
Total transferred file size: 1,048,576 bytes
Literal data: 1,048,576 bytes
Matched data: 0 bytes
File list size: 0
File list generation time: 0.001 seconds
File list transfer time: 0.000 seconds
Total bytes sent: 1,234
Total bytes received: 1,050,123

sent 1,234 bytes  received 1,050,123 bytes  2,102,714.00 bytes/sec
total size is 1,234,567  speedup is 1.17
"""

# rsync 3.0.x (CentOS 6/7 era): other wording, no thousands separators
RSYNC_309 = """\
Number of files: 27
Number of files transferred: 3
Total file size: 1234567 bytes
Total transferred file size: 2048 bytes
Literal data: 2048 bytes
Matched data: 0 bytes
File list size: 601
Total bytes sent: 40
Total bytes received: 2800
"""


def test_rsync_stats_of_current_and_old_rsync_and_other_locales():
    s = parse_rsync_stats(RSYNC_327)
    assert (s.files, s.created, s.deleted, s.files_transferred) == (27, 1, 0, 1)
    assert (s.total_size, s.transferred_size, s.literal_bytes, s.bytes_received) == (1234567, 1048576, 1048576, 1050123)
    assert s.complete
    old = parse_rsync_stats(RSYNC_309.splitlines())
    assert (old.files, old.files_transferred, old.total_size, old.bytes_received, old.created) == (27, 3, 1234567, 2800, None)
    assert old.complete
    # a de_DE / fr_FR / de_CH locale groups thousands otherwise; -hh prints a suffix
    for word, n in (("1.234.567", 1234567), ("1 234 567", 1234567), ("1'234'567", 1234567),
                    ("1\u202f234\u202f567", 1234567), ("1.50M", int(1.5 * 1024 ** 2)), ("12", 12)):
        assert parse_count(word) == n, word
        assert parse_rsync_stats([f"Total bytes received: {word} bytes"]).bytes_received == n
    # not rsync's numbers: unknown, never a guess
    for word in ("1,23", "12,345,67", "1e5", "-5", "٣", "", "NaN", "9" * 30, "1,234.567"):
        assert parse_count(word) is None, word
    empty = parse_rsync_stats("rsync: connection unexpectedly closed\nrsync error: (code 12)")
    assert empty == type(empty)() and not empty.complete


_line_parts = st.sampled_from(["Number of files: ", "Total bytes received: ", "Literal data: ", "Total file size: ",
                               "Number of regular files transferred: ", "GCI >f+++ ", "", "sent ", "\x1b[31m"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.tuples(_line_parts, st.text(max_size=60)).map("".join), max_size=30),
       blob=st.text(max_size=300))
def test_garbled_rsync_output_never_raises(lines, blob):
    for out in (lines, "\n".join(lines), blob, lines + [blob]):
        s = parse_rsync_stats(out)
        for v in vars(s).values():
            assert v is None or (isinstance(v, int) and 0 <= v < 1 << 62)


def _msg(target: str, path: str, stats: str, delta: str = "0:00:02.500000", end: str = "2026-12-06 06:20:02.500000",
         rc: int = 0) -> str:
    return STATS_PREFIX + json.dumps({"target": target, "source": "src", "path": path, "mode": "delta", "rc": rc,
                                      "delta": delta, "end": end, "attempts": 1, "stats": stats.splitlines()})


def test_one_sync_run_sums_paths_and_takes_the_slowest_target():
    msgs = {
        "t1": [_msg("t1", "/srv/govapp", RSYNC_327, "0:00:02.500000"), _msg("t1", "/etc/x", RSYNC_309, "0:00:01.000000",
                                                                          "2026-12-06 06:20:04.000000"),
               "sync delta src -> t1 /srv/govapp: 1 changes", 'sync-end {"target": "t1", "at": "2026-12-06 06:20:10.000000"}'],
        "t2": [_msg("t2", "/srv/govapp", RSYNC_309, "0:00:01.250000")],
    }
    run = sync_run(msgs, "delta")
    assert run.paths == 3 and run.complete
    assert run.files_transferred == 1 + 3 + 3 and run.bytes_transferred == 1050123 + 2800 * 2
    assert run.total_size == 1234567 * 3 and run.literal_bytes == 1048576 + 2048 * 2
    assert run.wall_s == 3.5                      # t1 runs its two paths one after the other; t2 in parallel
    assert run.database_s == 6.0                  # from t1's last rsync end to the end of its sync play
    assert without_stats(msgs) == {"t1": ["sync delta src -> t1 /srv/govapp: 1 changes"], "t2": []}
    back = SyncRun.from_journal({**run.to_journal(), "at": "2026-12-06T06:20:10Z"})
    assert back == SyncRun(**{**run.to_plain(), "at": "2026-12-06T06:20:10Z"})
    assert sync_run({"t1": ["nothing of the kind"]}, "delta") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=5),
                            max_leaves=20),
       keys=st.dictionaries(st.sampled_from(["target", "path", "rc", "delta", "end", "stats"]),
                            st.none() | st.integers() | st.text(max_size=40) | st.lists(st.text(max_size=40)),
                            max_size=6),
       raw=st.text(max_size=200))
def test_hostile_stats_messages_never_raise(payload, keys, raw):
    msgs = {"t": [STATS_PREFIX + json.dumps(payload), STATS_PREFIX + json.dumps(keys), STATS_PREFIX + raw,
                  "sync-end " + raw, "sync-end " + json.dumps(keys), 5, None], "u": "not a list", 7: [raw]}
    run = sync_run(msgs, "delta")
    if run is not None:
        assert run.wall_s >= 0 and run.bytes_transferred >= 0
        assert SyncRun.from_journal(run.to_journal()) is not None
    # a journal line anyone may have edited reads back as a record or as nothing
    for e in (payload, keys, {"kind": "sync_stats", "system": "a", **(payload if isinstance(payload, dict) else {})}):
        r = SyncRun.from_journal(e) if isinstance(e, dict) else None
        assert r is None or isinstance(r.wall_s, float)
        replay([{"kind": "sync_stats", "system": "a", **keys}, {"kind": "run", "command": "cutover",
                                                                "systems": ["a", 5], "projection": payload}])


def _run(mode: str, nbytes: int, files: int = 1, wall: float = 1.0, db: float | None = None) -> SyncRun:
    return SyncRun(mode=mode, paths=1, complete=True, files=27, files_transferred=files, deleted=0,
                   total_size=10 << 20, transferred_size=nbytes, literal_bytes=nbytes, bytes_transferred=nbytes,
                   wall_s=wall, database_s=db)


def test_convergence_of_repeated_deltas():
    assert convergence([])["state"] == "unknown"
    assert convergence([_run("initial", 10 << 20)])["state"] == "unknown"
    assert convergence([_run("initial", 10 << 20), _run("delta", 2 << 20), _run("delta", 1 << 20)])["state"] == "converging"
    # equal deltas (a steady trickle) are not growing
    assert convergence([_run("delta", 1 << 20), _run("delta", (1 << 20) + 1000)])["state"] == "converging"
    grew = convergence([_run("initial", 10 << 20), _run("delta", 1 << 20), _run("delta", 3 << 20)])
    assert grew["state"] == "not_converging" and grew["bytes"] == [10 << 20, 1 << 20, 3 << 20]
    assert convergence([_run("delta", 1 << 20), _run("delta", 300, files=0)])["state"] == "converged"
    # only the last three runs count, and a cutover's final sync is not a delta
    assert convergence([_run("delta", 1), _run("delta", 50 << 20), _run("delta", 4 << 20), _run("delta", 3 << 20),
                        _run("delta", 2 << 20), _run("final", 90 << 20)])["state"] == "converging"


def _journal(*entries: dict) -> list[dict]:
    return [{"at": f"2026-11-23T01:{n:02d}:00.000Z", "who": "ops@m", **e} for n, e in enumerate(entries)]


def test_projection_uses_the_last_file_delta_not_the_sync_step():
    base = [{"kind": "step", "system": "a", "step": "sync", "status": "start"},
            {"kind": "step", "system": "a", "step": "sync", "status": "ok"}]
    st = replay(_journal(*base))["a"]
    p = project_downtime(st)                       # no statistics yet: the whole step stands in
    assert p["basis"] == "sync_step" and p["final_sync_s"] == 60.0 and p["total_s"] == 60.0 + SERVICE_STOP_START_S
    d = _run("delta", 5 << 20, wall=4.25, db=2.5)
    st = replay(_journal(*base, {"kind": "sync_stats", "system": "a", **_run("initial", 1 << 30, wall=50).to_journal()},
                         *base, {"kind": "sync_stats", "system": "a", **d.to_journal()}))["a"]
    p = project_downtime(st)
    assert st.last_sync_s == 60.0                  # the step took a minute; its rsync 4.25 s
    assert (p["basis"], p["final_sync_s"], p["database_s"], p["delta_bytes"]) == ("last_delta", 4.25, 2.5, 5 << 20)
    assert p["total_s"] == round(4.25 + 2.5 + SERVICE_STOP_START_S, 1)
    assert set(p) >= {"method", "final_sync_s", "service_stop_start_s", "replication_lag_s", "total_s"}


def _cutover_journal() -> list[dict]:
    """a1 cut over inside the window; a2 forced past the gate and over the window; b1 only synced."""
    proj = {"a1": {"total_s": 20.0, "final_sync_s": 5.0}, "a2": {"total_s": 95.0, "final_sync_s": 80.0}}
    return _journal(
        {"kind": "sync_stats", "system": "a1", **_run("initial", 8 << 20, wall=6).to_journal()},
        {"kind": "sync_stats", "system": "a1", **_run("delta", 1 << 20, wall=2).to_journal()},
        {"kind": "sync_stats", "system": "a2", **_run("initial", 900 << 20, wall=70).to_journal()},
        {"kind": "sync_stats", "system": "b1", **_run("initial", 3 << 20, wall=3).to_journal()},
        {"kind": "sync_stats", "system": "b1", **_run("delta", 4 << 20, wall=3).to_journal()},
        {"kind": "run", "command": "cutover", "systems": ["a1", "a2"], "forced": True,
         "reason": "领导批准 | <b>*加急*</b>", "projection": proj, "approved_downtime_s": 60, "over_window": ["a2"]},
        {"kind": "step", "system": "a1", "step": "cutover", "status": "ok",
         "detail": {"downtime_s": 12.5, "downtime": "downtime a1: 12.50 s seen from c"}},
        {"kind": "state", "system": "a1", "to": "done"},
        {"kind": "step", "system": "a2", "step": "cutover", "status": "ok",
         "detail": {"downtime_s": 75.25, "downtime": "downtime a2: 75.25 s seen from c"}},
        {"kind": "state", "system": "a2", "to": "done"},
    )


def test_report_shows_downtime_against_the_window_zh_and_en():
    plan, inv = _small()
    cut = replay(_cutover_journal())
    data = report_data(plan, inv, cutovers=cut)
    rows = {r["system"]: r for r in data["downtime"]["rows"]}
    assert list(rows) == ["a1", "a2", "b1"]
    assert (rows["a1"]["measured"], rows["a1"]["approved"], rows["a1"]["projected"], rows["a1"]["over"]) == \
        ("12.5 秒", "60.0 秒", "20.0 秒", False)
    assert rows["a2"]["over"] and "超出批准窗口" in rows["a2"]["note"] and "强制割接：领导批准" in rows["a2"]["note"]
    assert rows["a1"]["delta"].startswith("1.0 MiB / 2.0 秒") and "收敛中" in rows["a1"]["delta"]
    assert "未收敛" in rows["b1"]["delta"] and rows["b1"]["measured"] == "-"
    assert "1 个系统超出批准窗口" in data["downtime"]["text"] and "最长 75.2 秒" in data["downtime"]["text"]
    page = render_report(plan, inv, fmt="html", cutovers=cut)
    assert page.count('data-over-window="1"') == 1 and 'data-system="a2" class="over"' in page
    assert "&lt;b&gt;*加急*&lt;/b&gt;" in page and "<b>*加急*" not in page       # the reason is data
    en = render_report(plan, inv, fmt="html", lang="en", cutovers=cut)
    assert "over the approved window" in en and "forced: 领导批准" in en and "Cutover downtime" in en
    md = render_report(plan, inv, fmt="md", cutovers=cut)
    assert "**⚠ 75.2 秒**" in md and "| a1 |" in md
    assert "领导批准 \\| &lt;b&gt;\\*加急\\*&lt;/b&gt;" in md                    # no table cell or markup injected
    md_en = render_report(plan, inv, fmt="md", lang="en", cutovers=cut)
    assert "**⚠ 75.2 s**" in md_en and "12.5 s" in md_en
    # without cutover records the section is absent
    assert "data-over-window" not in render_report(plan, inv, fmt="html")


def test_report_reads_the_journal_as_migrate_writes_it():
    text = "".join(json.dumps(e) + "\n" for e in _cutover_journal()) + '{"torn'
    cut = parse_cutovers(text)
    assert cut["a2"].downtime_s == 75.25 and cut["a2"].forced_reason.startswith("领导批准")
    assert cut["a2"].approved_downtime_s == 60.0 and cut["a2"].over_window is True
    assert cut["a1"].over_window is False and cut["b1"].over_window is None


def test_the_report_reads_the_journal_once_for_states_and_cutovers(monkeypatch):
    """read_journal gives what parse_journal and parse_cutovers give, from one parse of the text."""
    from govcloud.render import report as R
    from govcloud.store import journal as J
    text = "".join(json.dumps(e) + "\n" for e in _cutover_journal()) + '{"torn'
    want_states, want_cut = R.parse_journal(text), R.parse_cutovers(text)
    calls = []
    real = J.parse
    monkeypatch.setattr(J, "parse", lambda *a, **k: calls.append(a) or real(*a, **k))
    states, cut = R.read_journal(text)
    assert len(calls) == 1
    assert states == want_states and states          # the state lines the journal holds
    assert dict(cut) == dict(want_cut) and cut["a2"].downtime_s == 75.25
    assert [e.kind for e in cut.entries] == [e.kind for e in want_cut.entries]


def test_report_projects_a_replicated_system_not_yet_cut_over_as_migrate_status_does():
    """b1 is synced and its database replicates with 0.5 s lag: the report's projection is the
    replication window (file delta + lag + catch-up + stop/start), the one `migrate status` shows —
    not the dump/restore the last sync step's wall time would stand for."""
    from govcloud.migrate import replication as RE
    plan, inv = _small()
    dec = RE.decide("postgresql", "govapp", RE.SourceFacts.from_plain({
        "engine": "postgresql", "name": "govapp", "address": "198.18.1.51", "version_num": 150008,
        "wal_level": "logical", "ssl": True, "superuser": True, "listen_addresses": "*", "max_replication_slots": 10,
        "used_replication_slots": 0, "max_wal_senders": 10, "used_wal_senders": 0, "tables_without_key": [],
        "reachable": True, "target": "198.19.1.5"}))
    assert dec.method is RE.Method.replication
    entries = _cutover_journal() + _journal(
        {"kind": "sync_stats", "system": "b1", **_run("delta", 4 << 20, wall=3, db=240).to_journal()},
        {"kind": "replication", "system": "b1", "decisions": [dec.to_plain()]},
        {"kind": "replication", "system": "b1", "status": [{"engine": "postgresql", "name": "govapp",
                                                             "state": "streaming", "lag_bytes": 64, "lag_s": 0.5}]},
        {"kind": "step", "system": "b1", "step": "sync", "status": "ok", "detail": {}},
        {"kind": "state", "system": "b1", "to": "synced"})
    text = "".join(json.dumps(e) + "\n" for e in entries)
    cut = parse_cutovers(text)
    st = cut["b1"]
    want = project_downtime(st, *RE.latest(entries, "b1"))
    dump = project_downtime(st)
    assert want["method"] == "replication" and want["total_s"] < dump["total_s"], (want, dump)
    rows = {r["system"]: r for r in report_data(plan, inv, cutovers=cut)["downtime"]["rows"]}
    assert rows["b1"]["projected"] == f"{want['total_s']:.1f} 秒"
    # the plain replay (no entries) still reports, as the dump projection
    rows = {r["system"]: r for r in report_data(plan, inv, cutovers=replay(entries))["downtime"]["rows"]}
    assert rows["b1"]["projected"] == f"{dump['total_s']:.1f} 秒"


def gc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    from migrate_env import write_inventory
    tmp = tmp_path_factory.mktemp("cutover-report")
    inv = write_inventory(tmp / "inv", [("h59", "198.18.1.59"), ("h61", "198.18.1.61")], ("h60", "198.18.1.60"),
                          start="2026-11-23", max_downtime_s=60)
    p = gc("plan", "generate", str(inv), "--out", str(tmp / "plans"), "--id", "drill")
    assert p.returncode == 0, p.stderr
    return tmp / "plans" / "drill"


def test_status_and_report_show_delta_convergence_and_downtime(drill, tmp_path):
    proj = {"app1": {"total_s": 20.0}, "app2": {"total_s": 95.0}}
    entries = _journal(
        {"kind": "sync_stats", "system": "app1", **_run("initial", 8 << 20, wall=6).to_journal()},
        {"kind": "sync_stats", "system": "app1", **_run("delta", 1 << 20, wall=2.5, db=1.5).to_journal()},
        {"kind": "state", "system": "app1", "to": "synced"},
        {"kind": "run", "command": "cutover", "systems": ["app2"], "forced": True, "reason": "演练 [red]x[/red]",
         "projection": proj, "approved_downtime_s": 60},
        {"kind": "step", "system": "app2", "step": "cutover", "status": "ok", "detail": {"downtime_s": 75.25}},
        {"kind": "state", "system": "app2", "to": "done"})
    (drill / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    p = gc("migrate", "status", str(drill), "-o", "json")
    assert p.returncode == 0, p.stderr
    by = {s["system"]: s for s in json.loads(p.stdout)["systems"]}
    a1, a2 = by["app1"], by["app2"]
    assert a1["last_delta"]["bytes_transferred"] == 1 << 20 and a1["last_delta"]["wall_s"] == 2.5
    assert a1["convergence"]["state"] == "converging" and len(a1["sync_runs"]) == 2
    assert a1["projection"]["total_s"] == 2.5 + 1.5 + SERVICE_STOP_START_S and a1["approved_downtime_s"] == 60
    assert a1["over_window"] is None
    assert a2["downtime_s"] == 75.25 and a2["over_window"] is True and a2["forced_reason"] == "演练 [red]x[/red]"
    assert a2["cutover_projection"] == {"total_s": 95.0}
    zh = gc("migrate", "status", str(drill)).stdout
    assert "上次增量同步 1.0 MiB / 2.5 s" in zh and "收敛中" in zh and "预计停机 19.0 s" in zh, zh
    assert "实测停机 75.2 s ⚠ 超出批准窗口" in zh and "强制割接: 演练 [red]x[/red]" in zh, zh
    en = gc("migrate", "status", str(drill), "--lang", "en").stdout
    assert "last delta 1.0 MiB / 2.5 s" in en and "converging" in en and "over the approved window" in en, en
    for lang in ("zh", "en"):
        out = tmp_path / f"r-{lang}.md"
        p = gc("report", str(drill), "--out", str(out), "--format", "md", "--lang", lang)
        assert p.returncode == 0, p.stderr
        md = out.read_text(encoding="utf-8")
        assert ("超出批准窗口" if lang == "zh" else "over the approved window") in md
        assert "**⚠ 75.2" in md


def test_hostile_journal_values_are_no_internal_error(drill, tmp_path):
    entries = _journal(
        {"kind": "sync_stats", "system": "app1", "mode": "delta", "wall_s": "NaN", "bytes_transferred": -1},
        {"kind": "sync_stats", "system": "app1", "mode": ["x"], "wall_s": 1e400},
        {"kind": "sync_stats", "system": "app1", **{**_run("delta", 5).to_journal(), "database_s": "x"}},
        {"kind": "run", "command": "cutover", "systems": ["app2", {"x": 1}, None], "forced": "yes",
         "reason": "\x1b[2J" * 400, "projection": {"app2": {"total_s": "soon", "nested": {"a": 1}}},
         "approved_downtime_s": "sixty"},
        {"kind": "run", "command": "cutover", "systems": "app2", "projection": []},
        {"kind": "step", "system": "app2", "step": "cutover", "status": "ok", "detail": {"downtime_s": "7 s"}},
        {"kind": "step", "system": "app2", "step": "cutover", "status": "ok", "detail": {"downtime_s": True}})
    (drill / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    for args in (("migrate", "status", str(drill), "-o", "json"), ("migrate", "status", str(drill), "--lang", "en"),
                 ("report", str(drill), "--out", str(tmp_path / "r.html")),
                 ("report", str(drill), "--out", str(tmp_path / "r.md"), "--format", "md")):
        p = gc(*args)
        assert p.returncode == 0, (args, p.stderr)
    by = {s["system"]: s for s in json.loads(gc("migrate", "status", str(drill), "-o", "json").stdout)["systems"]}
    # lines the journal's one reader refuses: status and the report say which line (exit 1, no internal error)
    with (drill / "journal.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"kind": "state", "system": "app1", "to": "bogus"}\n{"kind": "resource", "system": "app1"}\n')
    p = gc("migrate", "status", str(drill))
    assert p.returncode == 1 and "journal.jsonl:8：日志行已损坏" in p.stderr, p.stderr     # Chinese by default
    p = gc("migrate", "status", str(drill), "--lang", "en")
    assert p.returncode == 1 and "damaged journal line" in p.stderr, p.stderr
    p = gc("report", str(drill), "--out", str(tmp_path / "r2.md"), "--format", "md", "--lang", "en")
    assert p.returncode == 1 and "damaged journal line" in p.stderr, p.stderr
    assert [r["bytes_transferred"] for r in by["app1"]["sync_runs"]] == [5]
    assert by["app1"]["sync_runs"][0]["database_s"] is None
    assert by["app2"]["downtime_s"] is None and by["app2"]["forced_reason"] is None


def test_status_and_report_show_rehearsals_and_failbacks(drill, tmp_path):
    """`migrate status` and the report list each system's rehearsals (last outcome, timings, projected
    window, how many) and failbacks (what was proved equal, or why it failed), zh and en; a failback's
    state is `failed_back`."""
    entries = _journal(
        {"kind": "state", "system": "app1", "to": "synced"},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r1", "status": "start", "network": "govcloud-rehearsal"},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r1", "status": "fail", "reason": "health <b>x</b>"},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r1", "status": "cleaned"},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r2", "status": "start"},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r2", "status": "ok", "projected_window_s": 41.5,
         "timings": {"provision_s": 3.25, "seed_s": 12.0, "start_s": 2.5, "verify_s": 4.0, "bogus_s": "x"}},
        {"kind": "rehearsal", "system": "app1", "rehearsal": "r2", "status": "cleaned"},
        {"kind": "state", "system": "app2", "to": "done"},
        {"kind": "step", "system": "app2", "step": "failback", "status": "fail", "reason": "checksums differ: t1"},
        {"kind": "step", "system": "app2", "step": "failback", "status": "ok",
         "detail": {"evidence": {"checksums": {"h78:postgresql/govapp": {"t1": "ab", "t2": "cd"}},
                                 "trees": [{"host": "h78", "path": "/srv/govapp", "digest": "ef"}]}}},
        {"kind": "state", "system": "app2", "to": "failed_back", "step": "failback", "reason": "rollback drill"})
    (drill / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    p = gc("migrate", "status", str(drill), "-o", "json")
    assert p.returncode == 0, p.stderr
    by = {s["system"]: s for s in json.loads(p.stdout)["systems"]}
    a1, a2 = by["app1"], by["app2"]
    assert [(r["id"], r["status"], r["ok"]) for r in a1["rehearsals"]] == [("r1", "fail", False), ("r2", "ok", True)]
    assert a1["last_rehearsal"]["projected_window_s"] == 41.5 and "bogus_s" not in a1["last_rehearsal"]["timings"]
    assert a1["rehearsals"][0]["reason"] == "health <b>x</b>" and a1["rehearsals"][0]["network"] == "govcloud-rehearsal"
    assert a2["state"] == "failed_back" and [f["status"] for f in a2["failbacks"]] == ["fail", "ok"]
    zh = gc("migrate", "status", str(drill)).stdout
    assert "演练 " in zh and "通过" in zh and "预计割接窗口 41.5 s" in zh and "共 2 次演练" in zh, zh
    assert "灌数 12.0 s" in zh and "已回切" in zh and "源端 2 张表、1 个数据目录一致" in zh, zh
    assert "回切失败" in zh and "checksums differ: t1" in zh, zh
    en = gc("migrate", "status", str(drill), "--lang", "en").stdout
    assert "projected cutover window 41.5 s" in en and "2 rehearsal(s)" in en and "failed back" in en, en
    assert "2 table(s) and 1 data tree(s) equal on the source" in en, en
    for lang, words in (("zh", ("割接演练(隔离测试迁移)与回切", "41.5 秒", "已回切，源端 2 张表、1 个数据目录")),
                        ("en", ("Rehearsals (isolated test migrations) and failbacks", "41.5 s",
                                "failed back, 2 tables and 1 data trees equal on the source"))):
        for fmt in ("md", "html"):
            out = tmp_path / f"r-{lang}.{fmt}"
            p = gc("report", str(drill), "--out", str(out), "--format", fmt, "--lang", lang)
            assert p.returncode == 0, p.stderr
            text = out.read_text(encoding="utf-8")
            assert all(w in text for w in words), (lang, fmt, [w for w in words if w not in text])
            assert "<b>x</b>" not in text          # a journal's text is data, never markup
    html = (tmp_path / "r-en.html").read_text(encoding="utf-8")
    assert 'data-system="app1" data-rehearsed="1"' in html and 'data-system="app2" data-rehearsed="0"' in html
