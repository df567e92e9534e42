"""THE contract of ``store.state.StatePort``: one suite, run against every backend.

tests/unit/test_state_files.py runs it on the files backend (always, in seconds); the PostgreSQL
backend's tests run it on a database. A module that imports these tests provides one fixture:

* ``state_url`` — the URL of a usable, empty-enough backend (``govcloud.drivers.state.open_state``
  opens it; the suite opens it several times, as several operators would).

Every test uses fresh plan ids and system ids, so backends shared between runs (one database)
never see one test's rows in another. What is pinned down: journal entries appended and read back
in order with ``at`` and ``who``; system locks taken without waiting, all or none, naming their
holder, released on exit and when the holding process is SIGKILLed; claims refused for another
plan and for another copy of a plan with a different approved digest, idempotent for the same
plan, released only by their own plan; ``claims`` lists them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from govcloud.drivers.state import open_state
from govcloud.store.state import Claim, Holder, PlanRef, StatePort, SystemBusyError, SystemClaimedError

__all__ = [n for n in dir() if n.startswith("test_")]     # completed at the end of the module


def _sys(tag: str = "s") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def _plan(tmp_path: Path, name: str = "p", digest: str | None = None, plan_id: str | None = None) -> PlanRef:
    d = tmp_path / f"{name}-{uuid.uuid4().hex[:6]}"
    d.mkdir(parents=True)
    return PlanRef(plan_id=plan_id or f"plan-{uuid.uuid4().hex[:8]}", plan_dir=d,
                   digest=digest or uuid.uuid4().hex * 2)


@pytest.fixture
def state(state_url):
    s = open_state(state_url)
    yield s
    s.close()


@pytest.fixture
def other(state_url):
    """A second operator on the same state."""
    s = open_state(state_url)
    yield s
    s.close()


def test_backend_is_a_state_port(state):
    assert isinstance(state, StatePort)
    assert isinstance(state.url, str) and state.url


# ---------------------------------------------------------------- journal
def test_journal_appends_in_order_with_at_and_who(state, other, tmp_path):
    plan = _plan(tmp_path)
    s = _sys()
    assert state.read_journal(plan).entries == []
    r1 = state.append_journal(plan, {"kind": "state", "system": s, "to": "prechecked", "run": "r1"})
    r2 = other.append_journal(plan, {"kind": "state", "system": s, "to": "provisioned", "run": "r2"})
    assert r1["at"] and r1["who"] and r2["at"] <= r2["at"]
    jr = other.read_journal(plan)
    assert [e.to_dict()["to"] for e in jr.entries] == ["prechecked", "provisioned"]
    assert [e.to_dict()["run"] for e in jr.entries] == ["r1", "r2"]
    assert all(e.to_dict()["who"] == r1["who"] for e in jr.entries)
    assert jr.torn_tail is False


def test_journals_of_two_plans_are_apart(state, tmp_path):
    a, b = _plan(tmp_path, "a"), _plan(tmp_path, "b")
    s = _sys()
    state.append_journal(a, {"kind": "state", "system": s, "to": "prechecked"})
    assert state.read_journal(b).entries == []
    assert len(state.read_journal(a).entries) == 1


# ---------------------------------------------------------------- locks
def test_lock_refuses_the_same_system_naming_the_holder(state, other, tmp_path):
    plan = _plan(tmp_path)
    s = _sys()
    with state.lock_systems(plan, [s], "migrate run --batch B01"):
        with pytest.raises(SystemBusyError) as ei:
            with other.lock_systems(plan, [s], "migrate run --batch B02"):
                pass
        msg = str(ei.value)
        assert s in msg and str(os.getpid()) in msg and "migrate run --batch B01" in msg
        assert ei.value.exit_code == 75
        held = other.holders([s, _sys()])
        assert list(held) == [s]
        h = held[s]
        assert isinstance(h, Holder) and h.pid == os.getpid() and h.command == "migrate run --batch B01"
        assert h.user and h.host and h.since
    assert other.holders([s]) == {}
    with other.lock_systems(plan, [s], "again"):        # released on exit
        pass


def test_different_systems_of_one_plan_lock_at_once(state, other, tmp_path):
    plan = _plan(tmp_path)
    a, b = _sys("a"), _sys("b")
    with state.lock_systems(plan, [a], "run a"), other.lock_systems(plan, [b], "run b"):
        assert set(state.holders([a, b])) == {a, b}


def test_a_group_is_locked_all_or_none(state, other, tmp_path):
    plan = _plan(tmp_path)
    a, b, c = sorted([_sys(), _sys(), _sys()])
    with state.lock_systems(plan, [b], "holds b"):
        with pytest.raises(SystemBusyError):
            with other.lock_systems(plan, [c, a, b], "wants the group"):
                pass
        # none of the group was left held by the refused attempt
        assert set(state.holders([a, b, c])) == {b}
        with other.lock_systems(plan, [a, c], "the rest"):
            assert set(state.holders([a, b, c])) == {a, b, c}


def test_lock_released_when_the_body_raises(state, other, tmp_path):
    plan = _plan(tmp_path)
    s = _sys()
    with pytest.raises(RuntimeError):
        with state.lock_systems(plan, [s], "fails"):
            raise RuntimeError("boom")
    assert other.holders([s]) == {}


_HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from govcloud.drivers.state import open_state
    from govcloud.store.state import PlanRef
    st = open_state(sys.argv[1])
    ref = PlanRef(sys.argv[2], Path(sys.argv[3]), "d" * 64)
    with st.lock_systems(ref, sys.argv[4:], "migrate run --batch B09"):
        print("locked", flush=True)
        time.sleep(120)
""")


def test_lock_dies_with_a_sigkilled_holder(state, state_url, tmp_path):
    plan = _plan(tmp_path)
    a, b = _sys(), _sys()
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, state_url, plan.plan_id, str(plan.plan_dir), a, b],
                            stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(SystemBusyError) as ei:
            with state.lock_systems(plan, [b], "second"):
                pass
        assert str(proc.pid) in str(ei.value) and "B09" in str(ei.value)
        assert state.holders([a, b])[a].pid == proc.pid
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15     # a database notices a dead session's socket at once; allow slack
        while True:
            try:
                with state.lock_systems(plan, [a, b], "after the kill"):
                    break
            except SystemBusyError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


# ---------------------------------------------------------------- claims
def test_claim_is_idempotent_and_refuses_another_plan(state, other, tmp_path):
    mine, theirs = _plan(tmp_path, "mine"), _plan(tmp_path, "theirs")
    s = _sys()
    with state.lock_systems(mine, [s], "claim"):
        c = state.claim(mine, s)
        assert isinstance(c, Claim) and c.system == s and c.plan_id == mine.plan_id and c.since and c.by
        assert state.claim(mine, s).plan_id == mine.plan_id          # idempotent
    with other.lock_systems(theirs, [s], "claim too"):
        with pytest.raises(SystemClaimedError) as ei:
            other.claim(theirs, s)
        assert mine.plan_id in str(ei.value) and s in str(ei.value) and ei.value.exit_code == 75
        other.release(theirs, s, "not mine to release")             # a no-op for another plan
    assert [x.plan_id for x in other.claims(mine.plan_id) if x.system == s] == [mine.plan_id]
    assert [x for x in other.claims(theirs.plan_id)] == []
    with state.lock_systems(mine, [s], "release"):
        state.release(mine, s, "rolled back, resources removed")
    assert [x for x in state.claims(mine.plan_id) if x.system == s] == []
    with other.lock_systems(theirs, [s], "claim after release"):
        assert other.claim(theirs, s).plan_id == theirs.plan_id


def test_a_copy_with_another_approved_digest_is_refused(state, other, tmp_path):
    first = _plan(tmp_path, "first")
    copy = _plan(tmp_path, "copy", plan_id=first.plan_id, digest="e" * 64)
    assert copy.digest != first.digest
    s = _sys()
    with state.lock_systems(first, [s], "claim"):
        state.claim(first, s)
    with other.lock_systems(copy, [s], "claim the copy"):
        with pytest.raises(SystemClaimedError) as ei:
            other.claim(copy, s)
    assert first.plan_id in str(ei.value)


def test_release_without_a_claim_is_a_no_op(state, tmp_path):
    plan = _plan(tmp_path)
    s = _sys()
    state.release(plan, s, "nothing held")
    assert [c for c in state.claims(plan.plan_id)] == []


def test_claims_lists_per_plan(state, tmp_path):
    a, b = _plan(tmp_path, "a"), _plan(tmp_path, "b")
    s1, s2, s3 = _sys(), _sys(), _sys()
    with state.lock_systems(a, [s1, s2, s3], "claims"):
        state.claim(a, s1)
        state.claim(a, s2)
        state.claim(b, s3)
    assert sorted(c.system for c in state.claims(a.plan_id)) == sorted([s1, s2])
    assert [c.system for c in state.claims(b.plan_id)] == [s3]
    assert {s1, s2, s3} <= {c.system for c in state.claims()}


def test_hostile_system_ids_are_refused(state, tmp_path):
    from govcloud.errors import GovcloudError
    plan = _plan(tmp_path)
    for bad in ("../etc", "a/b", "", "x" * 65, "a;b", ".hidden"):
        with pytest.raises(GovcloudError):
            with state.lock_systems(plan, [bad], "hostile"):
                pass
        with pytest.raises(GovcloudError):
            state.claim(plan, bad)


__all__ = [n for n in dir() if n.startswith("test_")] + ["state", "other"]


# ---------------------------------------------------------------- the plan's short lock
def test_plan_lock_waits_for_its_holder(state, other, tmp_path, monkeypatch):
    import threading
    plan = _plan(tmp_path)
    copy = PlanRef(plan.plan_id, tmp_path / "elsewhere", plan.digest)    # by plan id, wherever it lives
    order: list[str] = []

    def second() -> None:
        with other.plan_lock(copy, "second"):
            order.append("second")

    with state.plan_lock(plan, "first"):
        t = threading.Thread(target=second)
        t.start()
        time.sleep(0.5)
        order.append("first done")
    t.join(20)
    assert not t.is_alive() and order == ["first done", "second"]


def test_plan_lock_gives_up_after_the_wait_naming_the_holder(state, other, tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_LOCK_WAIT", "0.3")
    plan = _plan(tmp_path)
    with state.plan_lock(plan, "migrate run --batch B07 (network)"):
        with pytest.raises(SystemBusyError) as ei:
            with other.plan_lock(plan, "second"):
                pass
        assert plan.plan_id in str(ei.value) and "B07" in str(ei.value)
    with other.plan_lock(plan, "after"):
        pass


__all__ = [n for n in dir() if n.startswith("test_")] + ["state", "other"]
