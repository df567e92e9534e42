"""Two operators, one plan, at once (issue 19), on the real harness: two `govcloud migrate run`
processes of one plan, one per system, run concurrently; the same system a third time is refused at
once naming its holder (exit 75); one run is SIGKILLed mid-run (its server exists), the other
finishes, the killed one resumes — and the cloud holds exactly one server and one security group
per system, one keypair for the plan. Parametrized over the state backend: files (always) and the
harness's PostgreSQL (a throw-away database on ``GOVCLOUD_HARNESS_STATE_URL``, harness/statedb).

Hosts h65, h66 (the sources) and h67 (the client of their cutover records, never switched here):
used by no other test.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from integration_helpers import wait_until
from migrate_env import approve_args, write_inventory

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SOURCES, CLIENT = ("h65", "h66"), "h67"


def addr(host: str) -> str:
    return f"198.18.1.{host[1:]}"


def gc(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def deployed(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("migrate-concurrent")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini,
                          limit=",".join(SOURCES), private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    return root, test_hosts, bridged_cloud.cloud.member


@pytest.fixture(params=["file", "postgresql"])
def state_url(request, tmp_path):
    if request.param == "file":
        return f"file://{tmp_path / 'state'}"
    return request.getfixturevalue("fresh_state_db")     # its own database: no other run's claims


@pytest.fixture
def plan(deployed, tmp_path):
    root, hosts, conn = deployed
    inv = write_inventory(tmp_path / "inv", [(h, addr(h)) for h in SOURCES], (CLIENT, addr(CLIENT)),
                          start=date.today().isoformat())
    plan_id = "conc-" + uuid.uuid4().hex[:6]
    p = gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", plan_id)
    assert p.returncode == 0, p.stdout + p.stderr
    p = gc(*approve_args(tmp_path / "plans" / plan_id))
    assert p.returncode == 0, p.stdout + p.stderr
    yield tmp_path / "plans" / plan_id, plan_id, hosts, conn
    for s in conn.compute.servers(details=True, tags=f"gc-plan={plan_id}"):
        conn.compute.delete_server(s, ignore_missing=True)
    with contextlib.suppress(Exception):
        wait_until(lambda: not list(conn.compute.servers(tags=f"gc-plan={plan_id}")), 180, 1, "servers deleted")
    for sg in conn.network.security_groups(tags=f"gc-plan={plan_id}"):
        with contextlib.suppress(Exception):
            conn.network.delete_security_group(sg, ignore_missing=True)
    with contextlib.suppress(Exception):
        conn.compute.delete_keypair(f"govcloud-{plan_id}", ignore_missing=True)


def _run_args(plan_dir: Path, system: str, hosts, state: str) -> list[str]:
    return [sys.executable, "-m", "govcloud", "migrate", "run", str(plan_dir), "--batch", "0", "--system", system,
            "--until", "synced", "--yes", "-o", "json", "--state", state, "--key", str(hosts.key),
            "--source-user", "govcloud", "--target-user", "govcloud", "--known-hosts", str(hosts.known_hosts)]


def _start(plan_dir: Path, system: str, hosts, state: str, out: Path) -> subprocess.Popen:
    with open(out, "w") as so, open(out.with_suffix(".err"), "w") as se:
        return subprocess.Popen(_run_args(plan_dir, system, hosts, state), cwd=REPO, stdout=so, stderr=se,
                                start_new_session=True)


def _log(tmp: Path, name: str) -> str:
    return (tmp / f"{name}.out").read_text()[-3000:] + (tmp / f"{name}.err").read_text()[-3000:]


def _servers_of(conn, plan_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in conn.compute.servers(details=True, tags=f"gc-plan={plan_id}"):
        out.setdefault((s.metadata or {}).get("govcloud_system", "?"), []).append(s.id)
    return out


def test_two_runs_of_one_plan_one_killed_and_resumed_leave_no_twin(plan, state_url, tmp_path):
    plan_dir, plan_id, hosts, conn = plan
    t0 = time.monotonic()
    a = _start(plan_dir, "app1", hosts, state_url, tmp_path / "a.out")
    b = _start(plan_dir, "app2", hosts, state_url, tmp_path / "b.out")
    resumed: subprocess.Popen | None = None
    try:
        # both hold their system while they run: a third run of app2 is refused at once, naming b
        wait_until(lambda: "app2" in _servers_of(conn, plan_id) or b.poll() is not None, 300, 0.2,
                   "run b to create its server")
        assert b.poll() is None, _log(tmp_path, "b")
        third = gc(*_run_args(plan_dir, "app2", hosts, state_url)[3:], "--lang", "en", timeout=120)
        assert third.returncode == 75, third.stdout + third.stderr
        assert f"pid {b.pid}" in third.stderr and "migrate run --batch 0 --system app2" in third.stderr, third.stderr

        # SIGKILL run a (alone) once Nova holds its server; b goes on
        wait_until(lambda: "app1" in _servers_of(conn, plan_id) or a.poll() is not None, 300, 0.2,
                   "run a to create its server")
        assert a.poll() is None, _log(tmp_path, "a")
        os.kill(a.pid, signal.SIGKILL)
        a.wait(30)
        resumed = _start(plan_dir, "app1", hosts, state_url, tmp_path / "a2.out")   # while b still runs
        b_running_at_resume = b.poll() is None
        assert b.wait(900) == 0, _log(tmp_path, "b")
        assert resumed.wait(900) == 0, _log(tmp_path, "a2")
    finally:
        for p in (a, b, resumed):
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    took = time.monotonic() - t0
    # what makes the resume a test of the reaper: it started while b's playbooks were running
    assert b_running_at_resume, "b had finished before the killed run resumed"
    results = {r["system"]: r for f in ("b.out", "a2.out") for r in json.loads((tmp_path / f).read_text())["results"]}
    assert results["app1"]["state"] == results["app2"]["state"] == "synced", results

    # no duplicate cloud resources: one server and one security group per system, one keypair
    servers = _servers_of(conn, plan_id)
    assert {k: len(v) for k, v in servers.items()} == {"app1": 1, "app2": 1}, servers
    groups = [g.name for g in conn.network.security_groups(tags=f"gc-plan={plan_id}")]
    assert sorted(groups) == sorted(set(groups)) and len(groups) == 2, groups
    assert len([k for k in conn.compute.keypairs() if k.name == f"govcloud-{plan_id}"]) == 1

    # the state: both synced, nobody holds them any more
    st = gc("migrate", "status", str(plan_dir), "-o", "json", "--state", state_url)
    assert st.returncode == 0, st.stderr
    rows = {r["system"]: r for r in json.loads(st.stdout)["systems"]}
    assert rows["app1"]["state"] == rows["app2"]["state"] == "synced"
    assert rows["app1"]["held_by"] is None and rows["app2"]["held_by"] is None
    print(f"[concurrent {state_url.split(':')[0]}] {took:.0f} s; b still running when a resumed: "
          f"{b_running_at_resume}")
