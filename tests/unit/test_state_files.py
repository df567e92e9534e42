"""The state contract (tests/conformance/state_contract.py) on the files backend, plus what only the
files backend has: the journal file (torn tail), lock and claim files under the state root, a copy of
a plan directory being another location, the factory's URL handling."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conformance.state_contract import *  # noqa: E402,F401,F403 — the one suite, collected here
from conformance.state_contract import _plan, _sys  # noqa: E402

from govcloud.drivers.state import display_url, open_state  # noqa: E402
from govcloud.store.filestate import FileState, default_root  # noqa: E402
from govcloud.store.state import StateError, SystemClaimedError  # noqa: E402


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    return f"file://{tmp_path / 'state-root'}"


def test_torn_tail_is_ignored_and_appended_after(state_url, tmp_path):
    st = open_state(state_url)
    plan = _plan(tmp_path)
    st.append_journal(plan, {"kind": "state", "system": "s1", "to": "prechecked"})
    with open(plan.plan_dir / "journal.jsonl", "ab") as f:
        f.write(b'{"kind":"state","system":"s1","to":"provis')            # a crash mid-append
    jr = st.read_journal(plan)
    assert jr.torn_tail is True and len(jr.entries) == 1
    st.append_journal(plan, {"kind": "state", "system": "s1", "to": "provisioned"})
    jr = st.read_journal(plan)
    assert jr.torn_tail is False and [e.to_dict()["to"] for e in jr.entries] == ["prechecked", "provisioned"]


def test_lock_and_claim_files_live_under_the_root(state_url, tmp_path):
    st = open_state(state_url)
    assert isinstance(st, FileState)
    root = tmp_path / "state-root"
    plan = _plan(tmp_path)
    with st.lock_systems(plan, ["govapp"], "migrate run --batch B01"):
        held = json.loads((root / "locks" / "govapp.lock").read_text())
        assert held["command"] == "migrate run --batch B01" and held["pid"] > 0
        st.claim(plan, "govapp")
    assert (root / "locks" / "govapp.lock").read_text() == ""              # holder cleared on release
    claim = json.loads((root / "claims" / "govapp.json").read_text())
    assert claim["plan_id"] == plan.plan_id and claim["location"] == str(plan.plan_dir.resolve())
    assert claim["digest"] == plan.digest
    assert not list((root / "claims").glob("*.govcloud-tmp"))


def test_another_copy_of_the_plan_directory_is_refused_even_with_the_same_digest(state_url, tmp_path):
    st = open_state(state_url)
    first = _plan(tmp_path, "first")
    copy = _plan(tmp_path, "copy", plan_id=first.plan_id, digest=first.digest)
    st.claim(first, "govapp")
    with pytest.raises(SystemClaimedError) as ei:
        st.claim(copy, "govapp")
    assert str(first.plan_dir.resolve()) in str(ei.value)


def test_the_same_directory_reapproved_keeps_its_claim(state_url, tmp_path):
    st = open_state(state_url)
    plan = _plan(tmp_path)
    c1 = st.claim(plan, "govapp")
    again = type(plan)(plan.plan_id, plan.plan_dir, "f" * 64)
    c2 = st.claim(again, "govapp")
    assert c2.since == c1.since
    assert json.loads((tmp_path / "state-root" / "claims" / "govapp.json").read_text())["digest"] == "f" * 64


def test_a_damaged_claim_file_is_an_error_naming_it(state_url, tmp_path):
    st = open_state(state_url)
    plan = _plan(tmp_path)
    p = tmp_path / "state-root" / "claims"
    p.mkdir(parents=True)
    (p / "govapp.json").write_text("{not json")
    with pytest.raises(StateError) as ei:
        st.claim(plan, "govapp")
    assert "govapp.json" in str(ei.value)


def test_the_default_root_follows_xdg_state_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GOVCLOUD_STATE", raising=False)
    assert default_root() == tmp_path / "xdg" / "govcloud"
    st = open_state(None)
    assert isinstance(st, FileState) and st.root == tmp_path / "xdg" / "govcloud" and st.url == "file:"


def test_the_factory_reads_govcloud_state_and_the_flag_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("GOVCLOUD_STATE", f"file://{tmp_path}/env")
    assert open_state(None).root == tmp_path / "env"
    assert open_state(f"file://{tmp_path}/flag").root == tmp_path / "flag"


@pytest.mark.parametrize("url", ["mysql://db/x", "file:relative/dir", "file://otherhost/dir", "file:///a/../b",
                                 "file:///a?x=1", "nonsense", "file:///a\nb"])
def test_bad_state_urls_are_refused_clearly(url):
    with pytest.raises(StateError) as ei:
        open_state(url)
    assert ei.value.exit_code == 1 and ei.value.hint


def test_a_password_in_a_refused_url_is_not_shown():
    with pytest.raises(StateError) as ei:
        open_state("mysql://admin:s3cret-pw@db.example/x")
    assert "s3cret-pw" not in str(ei.value) and "db.example" in str(ei.value)
    assert display_url("postgresql://u:pw@h:5432/db") == "postgresql://u@h:5432/db"
    assert display_url("postgresql://:pw@h/db") == "postgresql://h/db"
    # libpq takes the password as a parameter too: it goes, the other parameters stay
    shown = display_url("postgresql://u@h/db?passfile=/x/pgpass&password=s3cret&sslmode=require")
    assert "s3cret" not in shown and "password=" not in shown
    assert "passfile=/x/pgpass" in shown and "sslmode=require" in shown
    assert "s3cret" not in display_url("postgresql://u@h/db?PassWord=s3cret")
    assert display_url("file:///x") == "file:///x"
