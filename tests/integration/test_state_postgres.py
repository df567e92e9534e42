"""The PostgreSQL state backend (govcloud/drivers/pgstate.py) against the harness's PostgreSQL
(harness/statedb): the one state contract (tests/conformance/state_contract.py, the same tests the
files backend passes), plus what only this backend has: journal rows holding the files backend's
exact line, gapless sequence under concurrent writers, advisory locks, the claim log, approvals by
reference, schema migration, errors without secrets.

The module gets a throw-away database (the harness role may CREATEDB), so these runs never see
another run's rows and leave nothing behind.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance.state_contract import *  # noqa: E402,F401,F403 — the one suite, collected here

from govcloud.drivers.pgstate import SCHEMA_VERSION, PostgresState, journal_line
from govcloud.store.state import PlanRef, StateError, StatePort, SystemBusyError, SystemClaimedError

pytestmark = [pytest.mark.integration]

D1, D2, D3 = "a" * 64, "b" * 64, "c" * 64


def with_db(url: str, db: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))


@pytest.fixture(scope="module")
def pg_url(state_db):
    """A fresh database of its own on the harness PostgreSQL (dropped afterwards)."""
    db = f"gct_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(state_db, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    yield with_db(state_db, db)
    with psycopg.connect(state_db, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))


@pytest.fixture
def state_url(pg_url):
    return pg_url


@pytest.fixture
def st(pg_url):
    s = PostgresState(pg_url)
    yield s
    s.close()


def plan(tag: str = "p", digest: str = D1) -> PlanRef:
    return PlanRef(f"{tag}-{uuid.uuid4().hex[:8]}", Path("/nonexistent/plan"), digest)


def sysid(tag: str = "s") -> str:
    return f"{tag}-{uuid.uuid4().hex[:8]}"


def test_is_a_state_port_and_url_has_no_secret(st, pg_url):
    assert isinstance(st, StatePort)
    assert st.url == pg_url and "passfile=" in st.url          # the harness URL carries no password
    assert "@127.0.0.1:15432/gct_" in st.url


# ------------------------------------------------------------------ journal
def test_journal_keeps_the_exact_text_hostile_values_as_data(st, pg_url):
    p = plan()
    nasty = "'); DROP TABLE journal; --\x00 \u653f\u52a1\u4e91 {{ lookup('pipe','id') }}"
    rec = st.append_journal(p, {"kind": "note", "system": "s1", "zz": 1, "aa": nasty, "reason": nasty})
    with psycopg.connect(pg_url) as c:
        stored = c.execute("SELECT entry::text FROM journal WHERE plan_id = %s", (p.plan_id,)).fetchone()[0]
    assert stored == journal_line(rec)                          # the files backend's line, byte for byte
    assert list(json.loads(stored)) == ["at", "who", "kind", "system", "zz", "aa", "reason"]
    e = st.read_journal(p).entries[0]
    assert e.reason == nasty and e.extra["aa"] == nasty
    assert st.read_journal(p).entries[0].to_dict()["zz"] == 1


def test_concurrent_appends_get_gapless_sequence(pg_url):
    p = plan()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        s = PostgresState(pg_url)
        try:
            for i in range(15):
                s.append_journal(p, {"kind": "note", "system": f"w{n}", "reason": str(i)})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            s.close()

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert not errors
    with psycopg.connect(pg_url) as c:
        seqs = [r[0] for r in c.execute("SELECT seq FROM journal WHERE plan_id = %s ORDER BY seq", (p.plan_id,))]
    assert seqs == list(range(1, 61))
    s = PostgresState(pg_url)
    per_worker = {}
    for e in s.read_journal(p).entries:
        per_worker.setdefault(e.system, []).append(int(e.reason))
    s.close()
    assert per_worker == {f"w{n}": list(range(15)) for n in range(4)}   # each writer's order kept


# ------------------------------------------------------------------ locks
def test_lock_refuses_the_same_system_naming_the_holder_and_frees_on_exit(st, pg_url):
    p, a, b = plan(), sysid(), sysid()
    other = PostgresState(pg_url)
    try:
        with st.lock_systems(p, [a], "migrate run --system " + a):
            h = st.holders([a, b])
            assert set(h) == {a} and h[a].pid == os.getpid() and h[a].command == "migrate run --system " + a
            with pytest.raises(SystemBusyError) as ei:
                with other.lock_systems(p, [b, a], "migrate rollback"):
                    pass
            assert a in str(ei.value) and f"pid {os.getpid()}" in str(ei.value) and "migrate run" in str(ei.value)
            assert ei.value.exit_code == 75
            assert b not in st.holders([b])                     # all or none: b was not kept
            with other.lock_systems(p, [b], "migrate run --system " + b):   # another system: at once
                assert set(st.holders([a, b])) == {a, b}
            with pytest.raises(SystemBusyError):                # same process, second lock: refused too
                with st.lock_systems(p, [a], "again"):
                    pass
        assert st.holders([a, b]) == {}
        with other.lock_systems(p, [a], "after"):
            assert st.holders([a])[a].command == "after"
    finally:
        other.close()




def test_sql_looking_system_ids_are_refused_as_ids(st):
    p = plan()
    for bad in ("../etc", "a b", "x'; DROP TABLE claims; --", "", "-lead"):
        with pytest.raises(StateError, match="not an id"):
            with st.lock_systems(p, [bad], "x"):
                pass
        with pytest.raises(StateError, match="not an id"):
            st.claim(p, bad)


# ------------------------------------------------------------------ claims
def test_claims_one_plan_per_system(st):
    p, q, a, b = plan(), plan(), sysid(), sysid()
    c = st.claim(p, a)
    assert (c.system, c.plan_id, c.location) == (a, p.plan_id, p.plan_id) and "@" in c.by
    assert st.claim(p, a) == c                                  # idempotent for the same plan
    with pytest.raises(SystemClaimedError) as ei:
        st.claim(q, a)
    assert p.plan_id in str(ei.value) and a in str(ei.value) and ei.value.exit_code == 75
    st.claim(q, b)
    assert [x.system for x in st.claims(p.plan_id)] == [a]
    assert {x.system for x in st.claims()} >= {a, b}
    st.release(q, a, "not mine")                                # another plan's release: a no-op
    assert [x.system for x in st.claims(p.plan_id)] == [a]
    st.release(p, a, "rolled back, resources removed")
    assert st.claims(p.plan_id) == []
    assert st.claim(q, a).plan_id == q.plan_id                  # free for the other plan now
    st.release(p, a, "again")                                   # no claim: a no-op


def test_claims_and_releases_are_logged(st, pg_url):
    p, a = plan(), sysid()
    st.claim(p, a)
    st.release(p, a, "operator: wrong plan")
    with psycopg.connect(pg_url) as c:
        rows = c.execute("SELECT action, reason FROM claim_log WHERE system = %s ORDER BY id", (a,)).fetchall()
    assert rows == [("claim", None), ("release", "operator: wrong plan")]


# ------------------------------------------------------------------ approvals by reference
def test_approvals_by_reference(st, pg_url):
    p1 = plan(digest=D1)
    copy = PlanRef(p1.plan_id, Path("/elsewhere"), D2)          # the same plan id, approved differently
    a, b = sysid(), sysid()
    st.append_journal(p1, {"kind": "note", "system": a})
    with st.lock_systems(p1, [a], "x"):
        st.claim(p1, a)
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT digest FROM plans WHERE plan_id = %s", (p1.plan_id,)).fetchone()[0] == D1
    for s in (a, b):                                            # b: not claimed by anyone yet, refused too
        with pytest.raises(SystemClaimedError, match="approved plan") as ei:
            st.claim(copy, s)
        assert D1[:16] in str(ei.value) and D2[:16] in str(ei.value)
    assert [c.system for c in st.claims(p1.plan_id)] == [a]
    st.append_journal(copy, {"kind": "note", "system": a})      # the journal never drops a line
    with psycopg.connect(pg_url) as c:
        seen = c.execute("SELECT digest FROM approvals WHERE plan_id = %s ORDER BY digest", (p1.plan_id,)).fetchall()
    assert seen == [(D1,), (D2,)]


def test_a_plan_re_approved_where_it_was_first_run_keeps_its_claims(st, pg_url):
    p1 = plan(digest=D1)
    a, b = sysid(), sysid()
    st.claim(p1, a)
    again = PlanRef(p1.plan_id, p1.plan_dir, D3)                # re-approved in place (same machine, same dir)
    assert st.claim(again, a).plan_id == p1.plan_id and st.claim(again, b).plan_id == p1.plan_id
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT digest FROM plans WHERE plan_id = %s", (p1.plan_id,)).fetchone()[0] == D3
        assert {r[0] for r in c.execute("SELECT digest FROM claims WHERE plan_id = %s", (p1.plan_id,))} == {D3}
    with pytest.raises(SystemClaimedError, match="approved plan"):      # a copy elsewhere with the old approval
        st.claim(PlanRef(p1.plan_id, Path("/elsewhere"), D1), a)
    assert st.claim(PlanRef(p1.plan_id, Path("/elsewhere"), D3), a).plan_id == p1.plan_id   # with the new one


# ------------------------------------------------------------------ schema, connection
def test_schema_is_created_once_and_a_newer_one_is_refused(pg_url):
    a, b = PostgresState(pg_url), PostgresState(pg_url)        # second open: idempotent
    a.close(), b.close()
    with psycopg.connect(pg_url, autocommit=True) as c:
        assert c.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        c.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    try:
        with pytest.raises(StateError, match="newer than this govcloud"):
            PostgresState(pg_url)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as c:
            c.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))


def test_wrong_password_is_a_state_error_without_the_password(state_db):
    p = urlsplit(state_db)
    secret = "s3cr3t-" + uuid.uuid4().hex
    bad = urlunsplit((p.scheme, f"govcloud:{secret}@127.0.0.1:15432", p.path, "", ""))
    with pytest.raises(StateError) as ei:
        PostgresState(bad)
    text = f"{ei.value} {ei.value.hint}"
    assert secret not in text and "password authentication failed" in text
    assert "postgresql://govcloud@127.0.0.1:15432/" in text


def test_a_version_1_database_is_migrated_in_place(pg_url):
    PostgresState(pg_url).close()
    p = plan()
    s = PostgresState(pg_url)
    s.append_journal(p, {"kind": "state", "system": "s1", "to": "pending"})
    s.close()
    with psycopg.connect(pg_url, autocommit=True) as c:        # what a version-1 govcloud left
        c.execute("DROP TABLE moved_plans")
        c.execute("UPDATE schema_version SET version = 1")
    s = PostgresState(pg_url)
    try:
        with psycopg.connect(pg_url) as c:
            assert c.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
            assert c.execute("SELECT to_regclass('moved_plans') IS NOT NULL").fetchone()[0]
        assert [e.to for e in s.read_journal(p).entries] == ["pending"]     # the data stayed
    finally:
        s.close()


_HOLDER_WITH_CHILD = """
import subprocess, sys, time
from pathlib import Path
from govcloud.drivers.pgstate import PostgresState
from govcloud.store.state import PlanRef
s = PostgresState(sys.argv[1])
with s.lock_systems(PlanRef(sys.argv[2], Path('/x'), 'd' * 64), [sys.argv[3]], 'migrate run (with ansible)'):
    child = subprocess.Popen(['sleep', '120'], start_new_session=True)   # as ansible-playbook / ssh would be
    print(child.pid, flush=True)
    time.sleep(120)
"""


def test_a_killed_runs_surviving_children_do_not_keep_its_locks(st, pg_url):
    """The lock sessions' sockets are close-on-exec: a run SIGKILLed while its ansible-playbook or
    ssh children live on frees its systems at once (a child never inherits the session)."""
    import signal
    import subprocess
    import time
    p, a = plan(), sysid()
    run = subprocess.Popen([sys.executable, "-c", _HOLDER_WITH_CHILD, pg_url, p.plan_id, a],
                           stdout=subprocess.PIPE, text=True)
    grandchild = None
    try:
        grandchild = int(run.stdout.readline())
        assert st.holders([a])[a].pid == run.pid
        run.send_signal(signal.SIGKILL)
        run.wait(10)
        assert Path(f"/proc/{grandchild}").exists()                 # the child lives on
        deadline = time.monotonic() + 10
        while st.holders([a]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert st.holders([a]) == {}
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if grandchild:
            try:
                os.kill(grandchild, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_a_lost_lock_session_stops_the_journal_of_its_system(st, pg_url):
    """A database restart or a cut connection ends a lock's session and frees the lock without
    telling its holder: the holder's next journal line for that system is refused (StateError),
    so the run stops instead of going on unlocked; other systems are not affected."""
    p, a, b = plan(), sysid(), sysid()
    with st.lock_systems(p, [a], "migrate run"):
        st.append_journal(p, {"kind": "state", "system": a, "to": "prechecked"})
        backend = next(iter(st._held.values())).info.backend_pid
        with psycopg.connect(pg_url, autocommit=True) as c:       # what a restart does to the session
            assert c.execute("SELECT pg_terminate_backend(%s)", (backend,)).fetchone()[0]
        with pytest.raises(StateError, match=f"lock of system {a} was lost"):
            st.append_journal(p, {"kind": "state", "system": a, "to": "provisioned"})
        st.append_journal(p, {"kind": "state", "system": b, "to": "prechecked"})    # not locked here: fine
        assert st.holders([a]) == {}                              # the lock is free for another operator
    assert [e.system for e in st.read_journal(p).entries] == [a, b]
