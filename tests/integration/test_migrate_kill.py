"""Nothing outlives a killed `migrate run` (issue 13), on the real harness.

SIGKILL of the govcloud process alone (not its process group: that is what an OOM kill, a
`kill -9 PID` or a dying terminal multiplexer does) inside a playbook: within seconds no process
it started remains — its ssh-agent (which holds the migration key), ansible-playbook, their ssh
children and the SSH control masters that detached from them. Then SIGKILL inside provision,
after Nova accepted the server but before the journal named it, followed by `migrate rollback`
instead of a re-run: nothing tagged for the system stays in the cloud, and the journal records
exactly the removals that happened.
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
SOURCE, CLIENT = "h21", "h22"          # used by no other test


def addr(host: str) -> str:
    return f"198.18.1.{host[1:]}"


def gc(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat", "rb") as f:
                    st = f.read()
                ppid = int(st[st.rindex(b")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p))
    return kids


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            st = f.read()
    except OSError:
        return None
    rest = st[st.rindex(b")") + 2:].split()
    return rest[0].decode(), rest[19].decode()


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _run_processes(root: int) -> dict[int, tuple[str, str]]:
    """Every descendant of ``root`` plus every process using its ssh-agent (detached SSH masters):
    pid → (name, start time)."""
    kids, out, todo = _children(), {}, [root]
    while todo:
        for c in kids.get(todo.pop(), []):
            if (s := _stat(c)) is not None:
                out[c] = (_comm(c), s[1])
                todo.append(c)
    socks = set()
    for pid in out:
        for item in _environ(pid).split(b"\0"):
            if item.startswith(b"SSH_AUTH_SOCK=") and b"gc-agent-" in item:
                socks.add(item)
    if socks:
        for p in os.listdir("/proc"):
            if p.isdigit() and int(p) not in out and any(s in _environ(int(p)).split(b"\0") for s in socks):
                if (s := _stat(int(p))) is not None:
                    out[int(p)] = (_comm(int(p)), s[1])
    return out


def _alive(procs: dict[int, tuple[str, str]]) -> list[str]:
    left = []
    for pid, (name, start) in procs.items():
        s = _stat(pid)
        if s is not None and s[1] == start and s[0] != "Z":
            left.append(f"{name}[{pid}]")
    return left


@pytest.fixture(scope="module")
def plan(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("migrate-kill")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SOURCE,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(SOURCE, addr(SOURCE))], (CLIENT, addr(CLIENT)),
                          start=date.today().isoformat())
    plan_id = "kill-" + uuid.uuid4().hex[:6]
    p = gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id)
    assert p.returncode == 0, p.stderr
    p = gc(*approve_args(root / "plans" / plan_id))
    assert p.returncode == 0, p.stderr
    conn = bridged_cloud.cloud.member
    yield root / "plans" / plan_id, plan_id, test_hosts, conn
    for s in conn.compute.servers(details=True, tags=f"gc-plan={plan_id}"):
        conn.compute.delete_server(s, ignore_missing=True)
    with contextlib.suppress(Exception):
        wait_until(lambda: not list(conn.compute.servers(tags=f"gc-plan={plan_id}")), 120, 1, "servers deleted")
    for sg in conn.network.security_groups(tags=f"gc-plan={plan_id}"):
        with contextlib.suppress(Exception):
            conn.network.delete_security_group(sg, ignore_missing=True)
    with contextlib.suppress(Exception):
        conn.compute.delete_keypair(f"govcloud-{plan_id}", ignore_missing=True)


def _start(plan_dir: Path, hosts) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "govcloud", "migrate", "run", str(plan_dir), "--batch", "0", "--system", "app1",
         "--yes", "--key", str(hosts.key), "--source-user", "govcloud", "--target-user", "govcloud",
         "--known-hosts", str(hosts.known_hosts)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_alone(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)      # the run alone, not its process group
    proc.wait(30)


def _tagged(conn, plan_id: str) -> list[str]:
    out = [f"server {s.name}" for s in conn.compute.servers(details=True, tags=f"gc-plan={plan_id}")]
    out += [f"security group {g.name}" for g in conn.network.security_groups(tags=f"gc-plan={plan_id}")]
    out += [f"floating ip {i.floating_ip_address}" for i in conn.network.ips(tags=f"gc-plan={plan_id}")]
    out += [f"volume {v.name}" for v in conn.block_storage.volumes(details=True)
            if (v.metadata or {}).get("govcloud_plan") == plan_id]
    return out


def test_kill9_mid_playbook_leaves_no_process_and_mid_provision_rollback_leaves_nothing(plan):
    plan_dir, plan_id, hosts, conn = plan
    # 1. SIGKILL inside the precheck playbook, once it has SSH connections open
    proc = _start(plan_dir, hosts)
    try:
        procs = wait_until(lambda: (lambda p: p if any(n == "ssh" for n, _ in p.values())
                                    and any(n == "ssh-agent" for n, _ in p.values()) else None)(
                               _run_processes(proc.pid)), 300, 0.2, "a playbook with ssh connections")
        time.sleep(0.5)
        procs.update(_run_processes(proc.pid))
        assert any(n.startswith("ansible-playboo") for n, _ in procs.values()), procs
        _kill_alone(proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    t0 = time.monotonic()
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: not _alive(procs), 10, 0.1, "the run's processes to end")
    assert not _alive(procs), f"still running {time.monotonic() - t0:.1f}s after the kill: {_alive(procs)}"

    # 2. SIGKILL inside provision, after Nova accepted the server, before the journal names it
    journal = plan_dir / "journal.jsonl"
    proc = _start(plan_dir, hosts)
    try:
        wait_until(lambda: list(conn.compute.servers(tags=f"gc-plan={plan_id}")), 300, 0.1,
                   "the server to be created")
        _kill_alone(proc)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
    entries = [json.loads(ln) for ln in journal.read_text().splitlines() if ln.strip()]
    assert not any(e.get("kind") == "resource" and e.get("key", "").startswith("server:") for e in entries), \
        "the kill came too late: the journal already names the server"
    assert _tagged(conn, plan_id)          # the server (and its security group) exist, unjournaled
    server_ids = [s.id for s in conn.compute.servers(tags=f"gc-plan={plan_id}")]

    p = gc("migrate", "rollback", str(plan_dir), "--system", "app1", "--yes", "-o", "json", "--key", str(hosts.key))
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert _tagged(conn, plan_id) == []
    wait_until(lambda: not [pt for sid in server_ids for pt in conn.network.ports(device_id=sid)], 60, 1,
               "the server's ports to go")
    # the journal records exactly what was removed, and the system has no resources left
    after = [json.loads(ln) for ln in journal.read_text().splitlines() if ln.strip()][len(entries):]
    removed = {e["key"] for e in after if e.get("kind") == "resource" and e.get("removed")}
    assert any(k.startswith("server:") for k in removed) and "security_group" in removed, removed
    status = json.loads(gc("migrate", "status", str(plan_dir), "-o", "json").stdout)
    app1 = next(s for s in status["systems"] if s["system"] == "app1")
    assert app1["state"] == "rolled_back" and app1["resources"] == {}
    # the second run reaped nothing the watchdog had not already ended
    assert not any(e.get("kind") == "reaped" for e in entries + after)
