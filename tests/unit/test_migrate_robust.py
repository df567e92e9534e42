"""Issue 13, the migrate side without the harness: nothing a run starts outlives it (run marker,
watchdog, reaper), cloud removal reports only what is really gone, and a damaged journal is a
clear error with its line. The real thing (SIGKILL of `migrate run` on the harness, rollback after
a kill inside provision) is tests/integration/test_migrate_kill.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from govcloud.drivers import procguard
from govcloud.store import journal


def _gone(pid: int, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                st = f.read()
        except OSError:
            return True
        if st[st.rindex(b")") + 2:st.rindex(b")") + 3] == b"Z":
            return True
        time.sleep(0.05)
    return False


GUARDED = r"""
import subprocess, sys, time
from pathlib import Path
from govcloud.drivers import procguard
with procguard.guard(Path(sys.argv[1]), sys.argv[2]):
    # detached like an SSH ControlPersist master or a playbook in its own session
    p = subprocess.Popen(["sleep", "300"], start_new_session=True)
    print(p.pid, flush=True)
    if sys.argv[3] == "wait":
        time.sleep(300)
"""


def test_a_sigkilled_run_takes_its_detached_processes_with_it(tmp_path):
    run = subprocess.Popen([sys.executable, "-c", GUARDED, str(tmp_path), "r1", "wait"], stdout=subprocess.PIPE,
                           text=True)
    child = int(run.stdout.readline())
    assert not _gone(child, 0.3)
    os.kill(run.pid, signal.SIGKILL)        # the run alone, as the OOM killer or `kill -9 PID` does
    run.wait()
    assert _gone(child), "the detached child outlived the killed run"


def test_a_finished_run_leaves_nothing_behind(tmp_path):
    out = subprocess.run([sys.executable, "-c", GUARDED, str(tmp_path), "r2", "exit"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert _gone(int(out.stdout))


def test_the_next_run_reaps_what_an_unwatched_earlier_run_left(tmp_path):
    marker = procguard.plan_key(tmp_path) + ":old-run"
    other = procguard.plan_key(tmp_path / "other") + ":x"
    left = subprocess.Popen(["sleep", "300"], env={**os.environ, procguard.RUN_ENV: marker}, start_new_session=True)
    bystander = subprocess.Popen(["sleep", "300"], env={**os.environ, procguard.RUN_ENV: other},
                                 start_new_session=True)
    try:
        with procguard.guard(tmp_path, "new-run") as reaped:
            assert [(f.pid, f.marker) for f in reaped] == [(left.pid, marker)]
            assert os.environ[procguard.RUN_ENV].startswith(procguard.plan_key(tmp_path) + ":new-run@")
        left.wait(5)
        assert bystander.poll() is None            # another plan's run is none of ours
        assert procguard.RUN_ENV not in os.environ
    finally:
        for p in (left, bystander):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_the_reaper_never_ends_a_live_concurrent_run_of_the_plan(tmp_path):
    """Two runs of one plan at once (different systems): the second's reaper ends only what a
    dead run left, never the live run's processes."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        live = f"{procguard.plan_key(tmp_path)}:live-run@{holder.pid}-{procguard.start_time(holder.pid)}"
        dead = f"{procguard.plan_key(tmp_path)}:dead-run@{holder.pid}-1"          # same pid, another start: gone
        procs = {m: subprocess.Popen(["sleep", "300"], env={**os.environ, procguard.RUN_ENV: m},
                                     start_new_session=True) for m in (live, dead)}
        try:
            assert procguard.owner_alive(live) and not procguard.owner_alive(dead)
            with procguard.guard(tmp_path, "third-run") as reaped:
                assert [f.marker for f in reaped] == [dead]
                assert os.environ[procguard.RUN_ENV] == procguard.run_marker(tmp_path, "third-run")
            procs[dead].wait(5)
            assert procs[live].poll() is None, "the reaper ended a live concurrent run's process"
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait()
    finally:
        holder.kill()
        holder.wait()


def test_the_ssh_agent_dies_with_its_parent(tmp_path):
    code = ("import os, sys; from pathlib import Path; from govcloud.drivers.agent import private_agent\n"
            "cm = private_agent(Path(sys.argv[1])); sock = cm.__enter__(); print(sock, flush=True)\n"
            "import time; time.sleep(300)\n")
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    run = subprocess.Popen([sys.executable, "-c", code, str(key)], stdout=subprocess.PIPE, text=True)
    try:
        sock = run.stdout.readline().strip()
        agents = [int(p) for p in os.listdir("/proc") if p.isdigit() and sock and _cmdline(p).endswith(
            b"ssh-agent\0-D\0-a\0" + sock.encode() + b"\0")]
        assert len(agents) == 1, "no ssh-agent found"
    finally:
        os.kill(run.pid, signal.SIGKILL)     # the run alone
        run.wait()
    assert _gone(agents[0]), "the ssh-agent (holding the key) outlived its run"


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


# ---------------------------------------------------------------- cloud removal


class _Conflict(Exception):
    pass


def _fake_conn(*, sg_stuck: bool = False):
    from openstack import exceptions as osx
    state = {"servers": {"s1": {"system": "app1"}, "s2": {"system": "app2"}}, "sgs": {"g1": "app1", "g2": "app2"}}

    def server(sid, meta_sys):
        return SimpleNamespace(id=sid, name=f"n-{sid}", metadata={"govcloud_system": meta_sys,
                                                                  "govcloud_server": f"h-{sid}"})

    compute = SimpleNamespace(
        servers=lambda details=True, tags=None: [server(k, v["system"]) for k, v in state["servers"].items()],
        delete_server=lambda rid, ignore_missing=True: state["servers"].pop(rid, None),
        find_server=lambda rid, ignore_missing=True: state["servers"].get(rid))

    def delete_sg(rid, ignore_missing=True):
        if sg_stuck:
            raise osx.ConflictException("in use")
        state["sgs"].pop(rid, None)

    network = SimpleNamespace(
        ips=lambda tags=None: [],
        security_groups=lambda tags=None: [SimpleNamespace(id=k, name=f"sg-{k}", tags=["gc-plan=p", f"gc-sys={v}"])
                                           for k, v in state["sgs"].items()],
        delete_security_group=delete_sg,
        find_security_group=lambda rid, ignore_missing=True: state["sgs"].get(rid),
        find_ip=lambda rid, ignore_missing=True: None, delete_ip=lambda rid, ignore_missing=True: None)
    storage = SimpleNamespace(volumes=lambda details=True: [], find_volume=lambda rid, ignore_missing=True: None)
    return SimpleNamespace(compute=compute, network=network, block_storage=storage), state


def test_resources_are_found_by_tag_for_one_system_only():
    from govcloud.drivers import openstack as osd
    conn, _ = _fake_conn()
    found = osd.find_system_resources(conn, "p", "app1")
    assert {k: v["id"] for k, v in found.items()} == {"server:h-s1": "s1", "security_group": "g1"}


def test_removal_reports_only_what_is_really_gone(monkeypatch):
    from govcloud.drivers import openstack as osd
    monkeypatch.setattr(osd.time, "sleep", lambda s: None)
    conn, state = _fake_conn(sg_stuck=True)
    reported = []
    with pytest.raises(osd.CloudError, match="could not be removed"):
        osd.delete_resources(conn, osd.find_system_resources(conn, "p", "app1"), on_removed=reported.append,
                             timeout=0.05)
    assert reported == ["server:h-s1"]            # the group is still there: never journaled as removed
    assert "g1" in state["sgs"] and "s1" not in state["servers"] and "s2" in state["servers"]


def test_keystone_unreachable_is_a_cloud_error():
    from keystoneauth1 import exceptions as ksa

    from govcloud.drivers import openstack as osd
    conn = SimpleNamespace(network=SimpleNamespace(subnets=lambda: (_ for _ in ()).throw(
        ksa.ConnectFailure("Unable to establish connection to http://127.0.0.1:5000/v3"))))
    with pytest.raises(osd.CloudError) as err:
        osd.network_cidrs(conn)
    assert err.value.kind == "unreachable" and "127.0.0.1" not in str(err.value)


# ---------------------------------------------------------------- a damaged journal


@pytest.mark.parametrize("line,why", [
    ("[1]", "not a JSON object"),
    ('{"kind": "state", "system": "a", "to": "exploded"}', "unknown state 'exploded'"),
    ('{"kind": "resource", "system": "a"}', "without a text 'key'"),
    ('{"kind": "state", "system": ["a"], "to": "done"}', "'system' is not text"),
    ("[" * 100_000 + "]" * 100_000, "damaged journal line"),
])
def test_a_damaged_journal_line_is_named(tmp_path, line, why):
    (tmp_path / "journal.jsonl").write_text('{"kind": "run"}\n' + line + "\n")
    with pytest.raises(journal.JournalError) as err:
        journal.read(tmp_path)
    assert "journal.jsonl:2: damaged journal line" in str(err.value) and why in str(err.value)


def test_journal_states_are_the_lifecycle_states():
    from govcloud.migrate.lifecycle import State
    assert set(journal._STATES) == {s.value for s in State}
