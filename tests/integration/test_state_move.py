"""`govcloud migrate state-move` between the files backend and the harness PostgreSQL, both ways,
through the real CLI: verified copies, the source retired, refusals that change nothing, and an
interrupted move completed by running it again."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from integration_helpers import throwaway_database

from govcloud.base.digest import file_sha256
from govcloud.drivers.pgstate import PostgresState
from govcloud.store.filestate import FileState
from govcloud.store.state import PlanRef
from govcloud.usecases.state_move import entries_digest

pytestmark = [pytest.mark.integration]
REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "migration-plans" / "heyuan-2018" / "plan.yaml"


@pytest.fixture(scope="module")
def pg_db(state_db):
    yield from throwaway_database(state_db, "gcm")


@pytest.fixture
def setup(tmp_path, pg_db):
    """A copy of the example plan with a files state holding 3 journal entries and 2 claims; the
    PostgreSQL database emptied of this plan."""
    d = tmp_path / "plan"
    d.mkdir()
    shutil.copy(EXAMPLE, d / "plan.yaml")
    ref = PlanRef("heyuan-2018", d.resolve(), file_sha256(d / "plan.yaml"))
    file_url = f"file://{tmp_path / 'state'}"
    fs = FileState(file_url)
    fs.append_journal(ref, {"kind": "state", "system": "bianban-s04", "to": "prechecked", "run": "r1"})
    fs.append_journal(ref, {"kind": "note", "system": "bianban-s04", "reason": "政务云 \"quoted\" 'x'; $(id)"})
    fs.append_journal(ref, {"kind": "state", "system": "difangzhi-s01", "to": "provisioned", "run": "r1"})
    with fs.lock_systems(ref, ["bianban-s04", "difangzhi-s01"], "test"):
        fs.claim(ref, "bianban-s04")
        fs.claim(ref, "difangzhi-s01")
    with psycopg.connect(pg_db, autocommit=True) as c:
        for t in ("claims", "plans", "moved_plans", "claim_log"):
            try:
                c.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(t)))
            except psycopg.errors.UndefinedTable:
                pass
    return d, ref, file_url, pg_db


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVCLOUD_LOCK_WAIT": "2"}
    return subprocess.run([sys.executable, "-m", "govcloud", "migrate", "state-move", *args, "--lang", "en"],
                          capture_output=True, text=True, env=env, timeout=300)


def dicts(state, ref) -> list[dict]:
    return [e.to_dict() for e in state.read_journal(ref).entries]


def test_files_to_postgres_and_back(setup):
    d, ref, file_url, pg = setup
    fs = FileState(file_url)
    before = dicts(fs, ref)
    before_text = (d / "journal.jsonl").read_text()
    r = cli(str(d), "--from", file_url, "--to", pg, "-o", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["entries"] == 3 and out["claims"] == ["bianban-s04", "difangzhi-s01"]
    assert out["digest"] == entries_digest(before) and out["resumed"] is False
    assert "passfile=" in out["to"] and "@127.0.0.1:15432/" in out["to"]
    pgs = PostgresState(pg)
    try:
        assert dicts(pgs, ref) == before                                   # the same entries, in order
        assert [(c.system, c.plan_id) for c in pgs.claims("heyuan-2018")] == [
            ("bianban-s04", "heyuan-2018"), ("difangzhi-s01", "heyuan-2018")]
        # the files source gave the plan up: no journal, no claims; the journal kept under another name
        assert not (d / "journal.jsonl").exists() and fs.claims("heyuan-2018") == []
        assert Path(out["archived"]).read_text() == before_text
        # and back
        r = cli(str(d), "--from", pg, "--to", file_url)
        assert r.returncode == 0, r.stderr
        assert "3 journal entries and 2 claims moved" in r.stdout
        assert dicts(fs, ref) == before
        assert [c.system for c in fs.claims("heyuan-2018")] == ["bianban-s04", "difangzhi-s01"]
        assert pgs.holds_plan("heyuan-2018") is False and pgs.claims("heyuan-2018") == []
        with psycopg.connect(pg) as c:
            moved = c.execute("SELECT entries, digest, to_url FROM moved_plans WHERE plan_id = 'heyuan-2018'").fetchall()
        assert moved == [(3, entries_digest(before), file_url)]
    finally:
        pgs.close()


def test_refused_when_the_destination_holds_the_plan_nothing_changes(setup):
    d, ref, file_url, pg = setup
    pgs = PostgresState(pg)
    try:
        pgs.append_journal(ref, {"kind": "state", "system": "bianban-s04", "to": "prechecked"})
        r = cli(str(d), "--from", file_url, "--to", pg)
        assert r.returncode == 1 and "already holds plan heyuan-2018" in r.stderr
        assert len(pgs.read_journal(ref).entries) == 1 and pgs.claims("heyuan-2018") == []
        fs = FileState(file_url)
        assert len(fs.read_journal(ref).entries) == 3 and len(fs.claims("heyuan-2018")) == 2
    finally:
        pgs.close()


_HOLD = """
import sys, time
from pathlib import Path
from govcloud.drivers.state import open_state
from govcloud.store.state import PlanRef
st = open_state(sys.argv[1])
with st.lock_systems(PlanRef('heyuan-2018', Path(sys.argv[2]), 'x' * 64), ['difangzhi-s01'], 'migrate run --batch B03'):
    print('locked', flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("side", ["source", "destination"])
def test_refused_while_a_system_is_locked(setup, side):
    d, ref, file_url, pg = setup
    url = file_url if side == "source" else pg
    child = subprocess.Popen([sys.executable, "-c", _HOLD, url, str(d)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        r = cli(str(d), "--from", file_url, "--to", pg)
        assert r.returncode == 75, r.stderr
        assert "difangzhi-s01" in r.stderr and f"pid {child.pid}" in r.stderr and "B03" in r.stderr
    finally:
        child.kill()
        child.wait()
    pgs = PostgresState(pg)
    try:
        assert pgs.holds_plan("heyuan-2018") is False
    finally:
        pgs.close()
    assert len(FileState(file_url).read_journal(ref).entries) == 3 and (d / "journal.jsonl").exists()


def test_an_interrupted_move_is_completed_by_running_it_again(setup):
    d, ref, file_url, pg = setup
    fs = FileState(file_url)
    before = dicts(fs, ref)
    pgs = PostgresState(pg)
    try:
        # as if the move had been killed after writing the destination, before retiring the source
        pgs.import_plan(ref, before, fs.claims("heyuan-2018"))
        r = cli(str(d), "--from", file_url, "--to", pg, "-o", "json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["resumed"] is True
        assert dicts(pgs, ref) == before and len(pgs.claims("heyuan-2018")) == 2
        assert not (d / "journal.jsonl").exists() and fs.claims("heyuan-2018") == []
    finally:
        pgs.close()


def test_usage_errors(setup):
    d, ref, file_url, pg = setup
    r = cli(str(d), "--from", pg, "--to", pg)
    assert r.returncode == 2 and "the same state" in r.stderr
    r = cli(str(d), "--from", file_url, "--to", "mysql://x/y")
    assert r.returncode == 1 and "unknown state URL" in r.stderr
    secret = "pw-" + uuid.uuid4().hex
    p = urlsplit(pg)
    bad = urlunsplit((p.scheme, f"govcloud:{secret}@127.0.0.1:15432", p.path, "", ""))
    r = cli(str(d), "--from", file_url, "--to", bad)
    assert r.returncode == 1 and secret not in r.stderr + r.stdout and "password authentication failed" in r.stderr
    assert len(FileState(file_url).read_journal(ref).entries) == 3


def test_between_two_files_states_only_the_claims_move(setup):
    d, ref, file_url, pg = setup
    other = file_url + "-shared"
    before = (d / "journal.jsonl").read_text()
    r = cli(str(d), "--from", file_url, "--to", other, "-o", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["journal_moved"] is False and out["claims"] == ["bianban-s04", "difangzhi-s01"]
    assert (d / "journal.jsonl").read_text() == before                 # the plan directory's journal stays
    assert FileState(file_url).claims("heyuan-2018") == []
    assert [c.system for c in FileState(other).claims("heyuan-2018")] == ["bianban-s04", "difangzhi-s01"]
    r = cli(str(d), "--from", other, "--to", file_url)                  # and back
    assert r.returncode == 0 and "journal (3 entries) stays in the plan directory" in r.stdout, r.stdout + r.stderr
    assert len(FileState(file_url).claims("heyuan-2018")) == 2


def test_between_two_databases(setup, fresh_state_db):
    d, ref, file_url, pg = setup
    fs = FileState(file_url)
    before = dicts(fs, ref)
    assert cli(str(d), "--from", file_url, "--to", pg).returncode == 0
    r = cli(str(d), "--from", pg, "--to", fresh_state_db, "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entries"] == 3
    one, two = PostgresState(pg), PostgresState(fresh_state_db)
    try:
        assert dicts(two, ref) == before and [c.system for c in two.claims()] == ["bianban-s04", "difangzhi-s01"]
        assert one.holds_plan("heyuan-2018") is False and one.read_journal(ref).entries == []
        two.append_journal(ref, {"kind": "state", "system": "bianban-s04", "to": "provisioned"})
        with psycopg.connect(fresh_state_db) as c:                           # numbering goes on after the move
            assert [r[0] for r in c.execute("SELECT seq FROM journal ORDER BY seq")] == [1, 2, 3, 4]
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("direction,point", [
    ("to_pg", "state_move.verified"),        # destination written and verified, source untouched
    ("to_pg", "state_move.released"),        # files source: one claim released, journal not renamed yet
    ("to_files", "write.rename"),            # files destination: the journal written, no claim yet
    ("to_files", "state_move.verified"),
])
def test_sigkill_at_each_step_then_the_same_command_completes_the_move(setup, direction, point):
    d, ref, file_url, pg = setup
    fs = FileState(file_url)
    before = dicts(fs, ref)
    if direction == "to_files":
        assert cli(str(d), "--from", file_url, "--to", pg).returncode == 0
        src, dst = pg, file_url
    else:
        src, dst = file_url, pg
    env = {**os.environ, "GOVCLOUD_LOCK_WAIT": "2", "GOVCLOUD_CRASH_AT": point}
    r = subprocess.run([sys.executable, "-m", "govcloud", "migrate", "state-move", str(d), "--from", src, "--to", dst],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr)
    r = cli(str(d), "--from", src, "--to", dst, "-o", "json")          # the same command again
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["resumed"] is True
    pgs = PostgresState(pg)
    try:
        if direction == "to_pg":
            assert dicts(pgs, ref) == before and len(pgs.claims("heyuan-2018")) == 2
            assert not (d / "journal.jsonl").exists() and fs.claims("heyuan-2018") == []
        else:
            assert dicts(fs, ref) == before and len(fs.claims("heyuan-2018")) == 2
            assert pgs.holds_plan("heyuan-2018") is False
    finally:
        pgs.close()
