"""Per-system locks and claims, wired into the executor and the migrate use cases (issue 19), on the
fake cloud and scripted playbooks: two runs of one plan on different systems at once, the same system
twice refused naming the holder, a second plan or a second copy of the plan directory refused naming
the owner, the cloud-side check for two machines with two states, a rollback that removes the
target releasing the claim. The same with real processes and OpenStack: tests/integration/
test_migrate_concurrent.py."""

from __future__ import annotations

import copy
import json
import dataclasses
import sys
import threading
from pathlib import Path

import pytest

from govcloud.migrate.executor import Executor, Options
from govcloud.migrate.lifecycle import State
from govcloud.store.filestate import FileState
from govcloud.store.state import SystemBusyError, SystemClaimedError
from govcloud.usecases import migrate as uc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_executor_fake import World, drill, no_twins, world  # noqa: E402,F401 — the fake world, reused


def _ex(w: World, plan_dir: Path | None = None, plan=None, state: FileState | None = None) -> Executor:
    opts = Options(key=w.tmp / "id_ed25519", known_hosts=w.tmp / "known_hosts", ssh_timeout=2, retry_backoff=0,
                   admin_cidrs=["198.18.0.1"])
    d = plan_dir or w.plan_dir
    d.mkdir(parents=True, exist_ok=True)
    return Executor(d, plan or w.plan, w.inv, opts, cloud=w.cloud.connect, playbooks=w.pb, probe=w.probe,
                    state=state or FileState(f"file://{w.tmp / 'state'}"))


def _run(ex: Executor, systems: list[str], until: State = State.synced):
    items = ex.items_of(ex.plan.batches[0].id, systems)
    return uc.run(ex, items, until, resync=False, batch=ex.plan.batches[0].id)


def _servers(w: World) -> list[tuple[str, str]]:
    return sorted((s["metadata"]["govcloud_plan"], s["metadata"]["govcloud_system"]) for s in w.cloud.servers.values())


def test_two_runs_of_one_plan_on_different_systems_run_at_once(world):
    w = world
    assert {i.move_group for i in w.plan.batches[0].items if i.system == "app1"} != \
        {i.move_group for i in w.plan.batches[0].items if i.system == "app2"}
    ex1, ex2 = _ex(w), _ex(w)
    inside = threading.Barrier(2, timeout=20)
    real = Executor.run

    def meet(self, items, until, **kw):      # both runs hold their systems' locks at the same time
        inside.wait()
        return real(self, items, until, **kw)

    results: dict[str, list] = {}
    errors: list[BaseException] = []

    def go(ex: Executor, system: str) -> None:
        try:
            results[system] = _run(ex, [system])
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Executor, "run", meet)
        threads = [threading.Thread(target=go, args=(ex1, "app1")), threading.Thread(target=go, args=(ex2, "app2"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    assert [r.ok for r in results["app1"]] == [True] and [r.ok for r in results["app2"]] == [True]
    assert results["app1"][0].state == results["app2"][0].state == State.synced.value
    no_twins(w.cloud)
    # the plan-wide network and keypair were created once (under the plan lock), the servers once each
    nets = [n for n in w.cloud.networks.values() if w.plan.plan_id in str(n.get("tags", ""))]
    assert len(nets) <= 1 and len(w.cloud.keypairs) == 1
    assert _servers(w) == [(w.plan.plan_id, "app1"), (w.plan.plan_id, "app2")]
    assert sorted(c.system for c in ex1.state.claims(w.plan.plan_id)) == ["app1", "app2"]


def test_the_same_system_twice_is_refused_at_once_naming_the_holder(world):
    import os
    w = world
    ex1, ex2 = _ex(w), _ex(w)
    items = ex1.items_of(w.plan.batches[0].id, ["app1"])
    with ex1.locked(items, "migrate run --batch B01 --system app1"):
        with pytest.raises(SystemBusyError) as ei:
            _run(ex2, ["app1"])
        assert ei.value.exit_code == 75
        assert f"pid {os.getpid()}" in str(ei.value) and "migrate run --batch B01 --system app1" in str(ei.value)
        assert w.cloud.servers == {}                  # refused before anything was done
        _run(ex2, ["app2"], State.prechecked)         # another system of the plan: not held
    assert _run(ex2, ["app1"], State.prechecked)[0].ok   # released with its holder


def test_a_second_plan_is_refused_the_system_another_plan_holds(world):
    w = world
    _run(_ex(w), ["app1"], State.provisioned)
    before = _servers(w)
    other = dataclasses.replace(copy.deepcopy(w.plan), plan_id="fake-other")
    ex = _ex(w, w.tmp / "other-plan", other)
    with pytest.raises(SystemClaimedError) as ei:
        _run(ex, ["app1"])
    assert ei.value.exit_code == 75 and w.plan.plan_id in str(ei.value) and "app1" in str(ei.value)
    assert _servers(w) == before                      # not a second server for one source
    assert ex.read_journal().entries == []            # and nothing journaled for the refused plan


def test_another_copy_of_the_plan_directory_is_refused(world):
    w = world
    _run(_ex(w), ["app1"], State.provisioned)
    copy_ex = _ex(w, w.tmp / "copy-of-plan")
    with pytest.raises(SystemClaimedError) as ei:
        _run(copy_ex, ["app1"])
    assert str(w.plan_dir.resolve()) in str(ei.value)
    assert len(_servers(w)) == 1


def test_two_machines_with_two_states_are_stopped_by_the_cloud_tags(world):
    """No shared claim (another state root, as another machine's): the provision step finds the
    system's server of the same source under another plan's tag and refuses to build a second."""
    w = world
    _run(_ex(w), ["app1"], State.provisioned)
    other = dataclasses.replace(copy.deepcopy(w.plan), plan_id="fake-elsewhere")
    ex = _ex(w, w.tmp / "elsewhere", other, FileState(f"file://{w.tmp / 'other-machine-state'}"))
    res = _run(ex, ["app1"])
    assert res[0].ok is False and res[0].error_kind == "claimed", res[0]
    assert w.plan.plan_id in str(res[0].error)
    assert _servers(w) == [(w.plan.plan_id, "app1")]


def test_a_rollback_that_removes_the_target_releases_the_claim(world):
    w = world
    ex = _ex(w)
    _run(ex, ["app1"], State.provisioned)
    assert [c.system for c in ex.state.claims(w.plan.plan_id)] == ["app1"]
    item = ex.items_of(w.plan.batches[0].id, ["app1"])[0]
    uc.rollback(ex, item, keep_target=True, reason="keep it")
    assert [c.system for c in ex.state.claims(w.plan.plan_id)] == ["app1"]     # still holds its servers
    uc.rollback(ex, item, keep_target=False, reason="give it back")
    assert ex.state.claims(w.plan.plan_id) == []
    assert any(e.to_dict().get("kind") == "release" for e in ex.read_journal().entries)
    other = dataclasses.replace(copy.deepcopy(w.plan), plan_id="fake-next")
    assert _run(_ex(w, w.tmp / "next", other), ["app1"], State.provisioned)[0].ok
    assert _servers(w) == [("fake-next", "app1")]


def test_a_precheck_only_run_claims_nothing(world):
    w = world
    ex = _ex(w)
    assert _run(ex, ["app1"], State.prechecked)[0].ok
    assert ex.state.claims() == []


def test_plan_generate_and_approve_wait_for_every_run_of_the_plan(world):
    """Runs share the plan directory's lock; the writers of plan.yaml (generate, approve) take it
    exclusively, so they cannot rewrite a plan under any of its runs."""
    import subprocess

    from govcloud.store.lock import writer_lock
    w = world
    with writer_lock(w.plan_dir, "plan generate"):
        pass                                              # the plan directory's lock file exists
    ex1, ex2 = _ex(w), _ex(w)
    with ex1.locked(ex1.items_of(w.plan.batches[0].id, ["app1"]), "run app1"):
        with ex2.locked(ex2.items_of(w.plan.batches[0].id, ["app2"]), "run app2"):
            pass                                          # two runs share it
        code = ("import sys; from govcloud.store.lock import writer_lock\n"
                "with writer_lock(sys.argv[1], 'plan approve', wait=0): pass\n")
        p = subprocess.run([sys.executable, "-c", code, str(w.plan_dir)], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and "LockedError" in p.stderr, p.stderr

    p = subprocess.run([sys.executable, "-c", code, str(w.plan_dir)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr                    # no run: the writer gets it


# ---------------------------------------------------------------- the command line (govcloud.cli.root.main)
@pytest.fixture
def cli_plan(tmp_path, monkeypatch):
    """A generated, approved plan on disk whose migrate commands get the fake cloud."""
    import functools

    from typer.testing import CliRunner

    from govcloud.cli.app import app
    from govcloud.testing.fake_cloud import FakeCloud
    from govcloud.testing.scripted import ScriptedPlaybooks, ScriptedProbe
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    import migrate_env
    inv = migrate_env.write_inventory(tmp_path / "inv", [("h61", "127.0.0.1"), ("h62", "127.0.0.1")],
                                      ("h38", "127.0.0.1"), start="2026-11-23")
    r = CliRunner().invoke(app, ["plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "cp"])
    assert r.exit_code == 0, r.output
    plan = tmp_path / "plans" / "cp"
    r = CliRunner().invoke(app, migrate_env.approve_args(plan))
    assert r.exit_code == 0, r.output
    cloud = FakeCloud(flavors={"m1.small": (1, 2048), "c2.m4": (2, 4096)}, networks={"govcloud-net": "198.18.128.0/24"})
    monkeypatch.setattr(uc, "Executor", functools.partial(Executor, cloud=cloud.connect, playbooks=ScriptedPlaybooks(),
                                                          probe=ScriptedProbe()))
    (tmp_path / "id").write_text("not a key\n")
    return plan, cloud, tmp_path


def _main(args: list[str], capsys) -> tuple[int, str, str]:
    from govcloud.cli.root import main
    with pytest.raises(SystemExit) as ei:
        main(args)
    out = capsys.readouterr()
    return int(ei.value.code or 0), out.out, out.err


def test_cli_claims_refuse_a_copy_and_release_is_journaled(cli_plan, capsys):
    import shutil
    plan, cloud, tmp = cli_plan
    state = f"file://{tmp / 'st'}"
    run = ["migrate", "run", "--batch", "0", "--system", "app1", "--until", "provisioned", "--yes", "--key",
           str(tmp / "id"), "--state", state, "--lang", "en"]
    code, out, err = _main([run[0], run[1], str(plan), *run[2:]], capsys)
    assert code == 0, out + err
    copy_dir = tmp / "copy" / "cp"
    shutil.copytree(plan, copy_dir, ignore=shutil.ignore_patterns("journal.jsonl", ".govcloud", "runs"))
    code, out, err = _main([run[0], run[1], str(copy_dir), *run[2:]], capsys)
    assert code == 75 and "app1" in err and str(plan.resolve()) in err, err
    # the plan's own status: the system is nobody's run now
    code, out, err = _main(["migrate", "status", str(plan), "-o", "json", "--state", state], capsys)
    assert code == 0 and {r["system"]: r["held_by"] for r in json.loads(out)["systems"]} == {"app1": None,
                                                                                              "app2": None}
    # an explicit release: journaled, naming what the journal still records in the cloud
    code, out, err = _main(["migrate", "release", str(plan), "--system", "app1", "--reason", "handed to ops",
                            "--yes", "-o", "json", "--state", state], capsys)
    assert code == 0, err
    res = json.loads(out)
    assert res["released"] is True and any(k.startswith("server:") for k in res["resources_left"]), res
    rel = [json.loads(ln) for ln in (plan / "journal.jsonl").read_text().splitlines() if '"release"' in ln]
    assert [(e["system"], e["reason"]) for e in rel] == [("app1", "handed to ops")]
    code, out, err = _main(["migrate", "release", str(plan), "--system", "app1", "--reason", "again", "--yes",
                            "-o", "json", "--state", state], capsys)
    assert code == 0 and json.loads(out)["released"] is False        # nothing left to release: not journaled
    assert len([ln for ln in (plan / "journal.jsonl").read_text().splitlines() if '"release"' in ln]) == 1


def test_cli_bad_state_urls_and_a_missing_reason_are_clear_errors(cli_plan, capsys):
    plan, cloud, tmp = cli_plan
    code, out, err = _main(["migrate", "status", str(plan), "--state", "mysql://u:secretpw@db/x", "--lang", "en"],
                           capsys)
    assert code == 1 and "unknown state URL" in err and "secretpw" not in err + out, err
    code, out, err = _main(["migrate", "release", str(plan), "--system", "app1", "--reason", " ", "--yes",
                            "--lang", "en", "--state", f"file://{tmp / 'st'}"], capsys)
    assert code == 1 and "--reason" in err, err
    code, out, err = _main(["migrate", "release", str(plan), "--system", "nope", "--reason", "r", "--yes",
                            "--lang", "en", "--state", f"file://{tmp / 'st'}"], capsys)
    assert code == 1 and "nope" in err, err


def test_plan_approve_under_a_run_is_refused_and_pointed_at_migrate_status(cli_plan):
    """A run shares the plan directory's lock without naming itself in it (several runs at once): a
    refused `plan approve` says readers such as migrate runs hold it and where to see them."""
    import os
    import subprocess
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    import migrate_env

    from govcloud.store.lock import reader_lock
    plan, cloud, tmp = cli_plan
    with reader_lock(plan, wait=0):                     # what Executor.locked holds during a run
        p = subprocess.run([sys.executable, "-m", "govcloud", *migrate_env.approve_args(plan), "--lang", "en"],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "GOVCLOUD_LOCK_WAIT": "0"})
    assert p.returncode == 75, p.stdout + p.stderr
    assert "migrate status" in p.stderr, p.stderr


def test_status_names_the_run_holding_a_system(cli_plan, capsys):
    import os

    from govcloud.store.state import PlanRef
    plan, cloud, tmp = cli_plan
    state = f"file://{tmp / 'st'}"
    st = FileState(state)
    with st.lock_systems(PlanRef("cp", plan, ""), ["app2"], "migrate run --batch 0 --system app2"):
        code, out, err = _main(["migrate", "status", str(plan), "--state", state, "--lang", "en"], capsys)
        assert code == 0, err
        assert f"app2 is being run now by pid {os.getpid()}" in " ".join(out.split()), out
        assert "app1 is being run" not in out
        code, out, err = _main(["migrate", "status", str(plan), "--state", state, "-o", "json"], capsys)
        held = {r["system"]: r["held_by"] for r in json.loads(out)["systems"]}
        assert held["app1"] is None and held["app2"]["pid"] == os.getpid()
        assert held["app2"]["command"] == "migrate run --batch 0 --system app2"
