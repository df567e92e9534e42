"""`govcloud migrate rehearse` on the real harness (issue 18): the sample workload on h75 (PostgreSQL,
files, nginx with a health URL) is migrated and synced onto a Nova server; then its cutover is
rehearsed in the isolated network govcloud-rehearsal (no router, no gateway; its servers are real
hosts the control node alone reaches over SSH).

Checked: the clone is seeded from the SYNCED TARGET and passes the verify checks (trees, ports, the
health URL, row counts), timings and the projected window are journaled, the clone is gone afterwards
(the cloud listed by the rehearsal tags), the record on the client h77 never changes, the synced target
is unchanged (trees, its own state directory, its database, its logical replication from the source,
which the fixture enables); from a clone kept with
--keep neither the source nor the synced target can be reached, and the next rehearsal removes the
kept clone; a rehearsal SIGKILLed after its clone exists is cleaned up by the next one. The cutover
gate: with `rehearsal_max_age_days: 7` in the policy, `migrate cutover` of the unrehearsed system
refuses (exit 1, the reason named) and passes once it was rehearsed.  Hosts h75 (source) and h77
(client) are this module's (h76 is left unused: the targets and clones are Nova servers).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from integration_helpers import run_ssh, wait_until
from migrate_env import approve_args, write_inventory
from test_migrate_e2e import Drill, _http, addr, gc
from test_migrate_replication import CLEAN_SOURCE, PREPARE_SOURCE

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SRC, CLIENT = "h75", "h77"
SID = "app1"
RECORD = "app1.drill.gov.test"
RH_NET = "govcloud-rehearsal"
TREES = ["/srv/govapp", "/etc/nginx/sites-enabled"]
TREE_SUM = ("sudo -n sh -c 'cd / && find " + " ".join(TREES) + " -xdev \\( -type f -o -type l \\) -print0 | sort -z | "
            "xargs -0 sha256sum | sha256sum'")
# the target's own bookkeeping (cutover marker, recorded counts, replication state): never touched
STATE_SUM = "sudo -n sh -c 'cd / && find /var/lib/govcloud -xdev -type f -print0 | sort -z | xargs -0 -r sha256sum'"
ROWS = "select count(*) from service_item"
# the client's /etc/hosts line of the record (govcloud writes "ADDR NAME  # govcloud SYSTEM"), rewritten
# in place (/etc/hosts may be a bind mount): cleared, then pointing at the source as before any cutover
_NO_RECORD = f"grep -v '[[:space:]]{RECORD.replace('.', '[.]')}\\([[:space:]]\\|$\\)' /etc/hosts > /tmp/gc-rh-hosts; "
CLEAR_RECORD = "sudo -n sh -c " + shlex.quote(_NO_RECORD + "cat /tmp/gc-rh-hosts > /etc/hosts")
SOURCE_RECORD = "sudo -n sh -c " + shlex.quote(_NO_RECORD + f"echo '198.18.1.{SRC[1:]} {RECORD}' >> /tmp/gc-rh-hosts && "
                                               "cat /tmp/gc-rh-hosts > /etc/hosts")


def _journal(drill: Drill) -> list[dict]:
    return [json.loads(ln) for ln in (drill.plan / "journal.jsonl").read_text(encoding="utf-8").splitlines()
            if ln.strip()]


def _rehearsal_lines(drill: Drill) -> list[dict]:
    return [e for e in _journal(drill) if e.get("kind") == "rehearsal" and e.get("system") == SID]


def _cloud_port():
    from govcloud.drivers import real
    return real.openstack_connector(None)("govcloud-test")


def _clones(drill: Drill) -> dict[str, dict]:
    """The rehearsal resources the cloud holds for the plan, found by their tags."""
    return _cloud_port().find_rehearsal_resources(drill.plan_id, SID)


def _ssh_clone(drill: Drill, address: str, cmd: str) -> tuple[int, str]:
    """A clone, with the run's key and the host key the rehearsal recorded (strict)."""
    return drill.ssh_target(address, cmd, known_hosts=drill.plan / "runs" / "known_hosts.rehearsal")


def _pg(run, sql: str) -> str:
    rc, out = run("cd / && sudo -n -u postgres psql -XqAt -v ON_ERROR_STOP=1 -d govapp -c " + shlex.quote(sql))
    assert rc == 0, out
    return out.strip()


def _ssh_host(test_hosts, host: str, cmd: str) -> tuple[int, str]:
    c = test_hosts.client(next(x for x in test_hosts.hosts if x["name"] == host))
    try:
        rc, out, _ = run_ssh(c, cmd)
        return rc, out.decode()
    finally:
        c.close()


def _record_on_client(drill: Drill) -> str:
    return drill.hosts_record(CLIENT, RECORD)


@pytest.fixture(scope="module")
def drill(module_state, test_hosts, bridged_cloud, rehearsal_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    assert rehearsal_cloud.network == RH_NET
    root = tmp_path_factory.mktemp("migrate-rehearse")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SRC,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    # the source allows logical replication: the synced target holds a running subscription, which a
    # rehearsal must neither copy nor disturb
    rc, out = _ssh_host(test_hosts, SRC, "sudo -n sh -c " + shlex.quote(CLEAN_SOURCE + PREPARE_SOURCE))
    assert rc == 0, out
    rc, out = _ssh_host(test_hosts, CLIENT, SOURCE_RECORD)      # clients use the source, whatever ran before
    assert rc == 0, out
    inv = write_inventory(root / "inv", [(SRC, addr(SRC))], (CLIENT, addr(CLIENT)), start=date.today().isoformat())
    text = (inv / "inventory.yaml").read_text(encoding="utf-8")
    assert "    network: govcloud-net\n" in text and "    final_deadline: 2030-12-31\n" in text
    text = text.replace("    network: govcloud-net\n", f"    network: govcloud-net\n    rehearsal_network: {RH_NET}\n")
    text = text.replace("    final_deadline: 2030-12-31\n",
                        "    final_deadline: 2030-12-31\n    thresholds: {rehearsal_max_age_days: 7}\n")
    (inv / "inventory.yaml").write_text(text, encoding="utf-8")
    plan_id = "it-rh-" + uuid.uuid4().hex[:6]
    p = gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id)
    assert p.returncode == 0, p.stdout + p.stderr
    d = Drill(root, plan_id, test_hosts, bridged_cloud)
    p = gc(*approve_args(d.plan))
    assert p.returncode == 0, p.stdout + p.stderr
    try:
        p = gc("migrate", "run", str(d.plan), "--batch", "0", "--yes", "-o", "json", *d.conn_args())
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        assert d.status()[SID]["state"] == "synced"
        yield d
    finally:
        with contextlib.suppress(Exception):
            port = _cloud_port()
            port.delete_resources(port.find_rehearsal_resources(plan_id, None))
        d.remove_cloud()
        _ssh_host(test_hosts, SRC, "sudo -n sh -c " + shlex.quote(CLEAN_SOURCE))
        _ssh_host(test_hosts, CLIENT, CLEAR_RECORD)
        run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SRC,
                     private_data_dir=root / "redeploy")


@pytest.fixture(scope="module")
def target(drill) -> dict:
    """The synced target as it was before any rehearsal: its address, trees, state directory, rows
    and replication; and the record on the client."""
    address = drill.status()[SID]["resources"][f"server:{SRC}"]["address"]
    on_t = lambda cmd: drill.ssh_target(address, cmd)                     # noqa: E731
    subs = _pg(on_t, "select count(*) from pg_stat_subscription where pid is not null")
    assert subs == "1", "the synced target replicates from the source (its subscription's worker runs)"
    return {"address": address, "on": on_t, "tree": on_t(TREE_SUM)[1].strip(), "state": on_t(STATE_SUM)[1],
            "rows": _pg(on_t, ROWS), "subscriptions_running": subs, "record": _record_on_client(drill)}


def _cutover_day(drill: Drill) -> str:
    from govcloud.store.planfile import plan_path, read_plan
    item = next(i for i in read_plan(plan_path(drill.plan)).items() if i.system == SID)
    return item.cutover.isoformat()


def _assert_target_unchanged(drill: Drill, target: dict) -> None:
    on_t = target["on"]
    assert on_t(TREE_SUM)[1].strip() == target["tree"]
    assert on_t(STATE_SUM)[1] == target["state"]
    assert _pg(on_t, ROWS) == target["rows"]
    assert _pg(on_t, "select count(*) from pg_stat_subscription where pid is not null") == \
        target["subscriptions_running"] == "1"                       # its replication still runs
    assert _record_on_client(drill) == target["record"] == addr(SRC)    # the record: never switched
    assert drill.status()[SID]["state"] == "synced"


def test_cutover_of_an_unrehearsed_system_is_refused(drill, target):
    p = gc("migrate", "cutover", str(drill.plan), "--batch", "0", "--yes", "--today", _cutover_day(drill),
           "--lang", "en", *drill.conn_args())
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]
    assert "no successful rehearsal in the last 7 days" in p.stderr and SID in p.stderr, p.stderr[-2000:]
    assert drill.status()[SID]["state"] == "synced"


def test_dry_run_names_the_clone_and_the_checks_and_creates_nothing(drill, target):
    p = gc("migrate", "rehearse", str(drill.plan), "--batch", "0", "--dry-run", "-o", "json")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    [spec] = json.loads(p.stdout)["systems"]
    assert spec["problems"] == [] and spec["network"] == RH_NET
    [clone] = spec["clones"]
    assert clone["target_address"] == target["address"] and clone["clone"].endswith("-rh")
    assert any(c.startswith("health http://127.0.0.1:80") for c in spec["checks"]), spec["checks"]
    assert any(c.startswith("row counts postgresql/") for c in spec["checks"]), spec["checks"]
    assert _clones(drill) == {}
    assert _rehearsal_lines(drill) == []


def test_kept_clone_is_verified_isolated_and_removed_by_the_next_rehearsal(drill, target):
    p = gc("migrate", "rehearse", str(drill.plan), "--batch", "0", "--keep", "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    [res] = json.loads(p.stdout)["results"]
    assert res["ok"] and res["steps"] == ["rehearse"], res
    lines = _rehearsal_lines(drill)
    assert [x["status"] for x in lines] == ["start", "ok"]
    ok = lines[-1]
    assert set(ok["timings"]) == {"provision_s", "seed_s", "start_s", "verify_s", "total_s"}
    assert all(v > 0 for v in ok["timings"].values()), ok["timings"]
    assert ok["projected_window_s"] > 0 and ok["network"] == RH_NET
    [kept_addr] = ok["kept"]
    kept = _clones(drill)
    assert len(kept) == 1 and all(r["rehearsal"] == ok["rehearsal"] for r in kept.values())
    on_c = lambda cmd: _ssh_clone(drill, kept_addr, cmd)                   # noqa: E731
    # seeded from the synced target, serving on the clone itself
    assert on_c(TREE_SUM)[1].strip() == target["tree"]
    assert _pg(on_c, ROWS) == target["rows"]
    rc, out = on_c("python3 -c 'import urllib.request as u; print(u.urlopen(\"http://127.0.0.1/api/stats.json\", "
                   "timeout=5).status)'")
    assert out.strip() == "200", (rc, out)
    assert _pg(on_c, "select count(*) from pg_subscription") == "0"        # no subscription came along
    # isolated: neither the source nor the synced target (nor the gateway-less network's outside) answers
    for dest in (addr(SRC), target["address"], "198.18.0.1"):
        rc, out = on_c(f"timeout 5 bash -c 'exec 3<>/dev/tcp/{dest}/22' && echo REACHED || echo unreachable")
        assert "unreachable" in out and "REACHED" not in out, (dest, out)
    # the production record and the synced target: unchanged; nothing of the clone is a target
    _assert_target_unchanged(drill, target)
    assert not any(e.get("kind") == "switch" for e in _journal(drill))
    assert [s.name for s in drill.servers(SID) if not s.name.endswith("-rh")] == \
        [drill.status()[SID]["resources"][f"server:{SRC}"]["name"]]
    # rehearse again: the kept clone goes first, the new one after its rehearsal
    p = gc("migrate", "rehearse", str(drill.plan), "--batch", "0", "-o", "json", "--lang", "en", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert _clones(drill) == {}
    lines = _rehearsal_lines(drill)
    assert {"rehearsal": ok["rehearsal"], "status": "cleaned"}.items() <= lines[2].items(), lines[2]
    second = [x for x in lines[3:]]
    assert [x["status"] for x in second] == ["start", "cleaned", "ok"]
    [res] = json.loads(p.stdout)["results"]
    assert any("projected cutover window" in c for c in res["changed"]), res
    _assert_target_unchanged(drill, target)


def test_a_rehearsal_killed_after_its_clone_exists_is_cleaned_by_the_next(drill, target):
    cmd = [sys.executable, "-m", "govcloud", "migrate", "rehearse", str(drill.plan), "--batch", "0",
           *drill.conn_args()]
    before = len(_rehearsal_lines(drill))
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_until(lambda: len(_rehearsal_lines(drill)) > before and _clones(drill), 600, 1, "clone exists")
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    killed = _rehearsal_lines(drill)[before:]
    assert [x["status"] for x in killed] == ["start"]
    left = _clones(drill)
    assert left and all(r["rehearsal"] == killed[0]["rehearsal"] for r in left.values())
    p = gc("migrate", "rehearse", str(drill.plan), "--batch", "0", "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert _clones(drill) == {}
    after = _rehearsal_lines(drill)[before + 1:]
    assert after[0]["rehearsal"] == killed[0]["rehearsal"] and after[0]["status"] == "cleaned"
    assert [x["status"] for x in after[1:]] == ["start", "cleaned", "ok"]
    _assert_target_unchanged(drill, target)


def test_cutover_passes_the_gate_after_the_rehearsal(drill, target):
    st = drill.status()[SID]
    assert st["last_rehearsal"] and st["last_rehearsal"]["ok"], st["rehearsals"]
    p = gc("migrate", "cutover", str(drill.plan), "--batch", "0", "--yes", "--today", _cutover_day(drill),
           "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    assert drill.status()[SID]["state"] == "done"
    run = [e for e in _journal(drill) if e.get("kind") == "run" and e.get("command") == "cutover"][-1]
    assert not run.get("forced"), run
    assert _http(f"http://{target['address']}/api/stats.json") == 200
