"""Repeated delta syncs, the projection gate and a forced cutover that is caught and rolled back —
through `govcloud migrate` on the real harness (issue 14, dump method). h59 runs the sample
workload (nginx + PostgreSQL + data directory) and is the source; a Nova server made real by the
bridge is the target; h60 holds the cutover record. Hosts h59/h60 are reserved for this module.

Order matters (one plan, one journal): initial sync → a 1 MiB file written on the source → delta
sync (its rsync statistics: ≈ 1 MiB, shown by `migrate status`) → cutover refused by the gate
(the approved window of 5 s is below any projection) → the target's database drifted, the
cutover forced past the gate: the content checksums catch the drift and the executor rolls back
(the source serves and takes writes again) → the report shows the forced cutover.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest
import yaml

from migrate_env import approve_args, write_inventory
from test_migrate_e2e import Drill, _port_open, addr, gc

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts]

REPO = Path(__file__).resolve().parents[2]
SOURCE, CLIENT = "h59", "h60"
NEW_FILE = "/srv/govapp/data/it-delta.bin"
CHANGED = 1 << 20
APPROVED_S = 5            # below the fixed service stop/start alone: the gate must refuse


@pytest.fixture(scope="module")
def drill(test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("migrate-deltas")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SOURCE,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(SOURCE, addr(SOURCE))], (CLIENT, addr(CLIENT)),
                          start=date.today().isoformat(), max_downtime_s=APPROVED_S)
    plan_id = "it-d" + uuid.uuid4().hex[:6]
    gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id, check=True)
    d = Drill(root, plan_id, test_hosts, bridged_cloud)
    gc(*approve_args(d.plan), check=True)
    d.ssh(SOURCE, f"sudo -n rm -f {NEW_FILE}")
    try:
        yield d
    finally:
        d.remove_cloud()
        d.ssh(SOURCE, f"sudo -n rm -f {NEW_FILE}; sudo -n sh -c '/etc/init.d/postgresql start; /etc/init.d/nginx start'"
                      " >/dev/null 2>&1; cd / && sudo -n -u postgres psql -qc "
                      "'alter database govapp connection limit -1' >/dev/null 2>&1; true")


def _status(drill) -> dict:
    return drill.status()["app1"]


def _day(drill) -> str:
    doc = yaml.safe_load((drill.plan / "plan.yaml").read_text(encoding="utf-8"))
    return str(next(i["cutover"] for b in doc["batches"] for i in b["systems"] if i["id"] == "app1"))


def test_two_syncs_the_second_delta_is_the_change(drill):
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--yes", "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    st = _status(drill)
    assert st["state"] == "synced" and [r["mode"] for r in st["sync_runs"]] == ["initial"]
    first = st["sync_runs"][0]
    assert first["complete"] and first["files_transferred"] > 20 and first["total_size"] > 0
    assert 0 < first["wall_s"] < st["last_sync_s"]          # the rsync runs, not the whole step
    # a change on the source between two syncs: 1 MiB of new, incompressible data
    rc, _ = drill.ssh(SOURCE, f"sudo -n sh -c 'head -c {CHANGED} /dev/urandom > {NEW_FILE}'")
    assert rc == 0
    p = gc("migrate", "run", str(drill.plan), "--batch", "0", "--resync", "--yes", "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    st = _status(drill)
    assert [r["mode"] for r in st["sync_runs"]] == ["initial", "delta"]
    delta = st["last_delta"]
    assert delta["mode"] == "delta" and delta["complete"] and delta["files_transferred"] == 1, delta
    assert delta["literal_bytes"] == CHANGED, delta
    assert CHANGED <= delta["bytes_transferred"] < CHANGED + 128 * 1024, delta     # the change, plus the file list
    assert delta["total_size"] == first["total_size"] + CHANGED
    assert delta["database_s"] is not None and 0 < delta["database_s"] < st["last_sync_s"]   # dump/restore, measured
    grew = delta["bytes_transferred"] > first["bytes_transferred"] * 1.1 + 64 * 1024
    assert st["convergence"]["state"] == ("not_converging" if grew else "converging")
    # the projection is the last delta's own time, not the sync step's
    proj = st["projection"]
    assert proj["basis"] == "last_delta" and proj["final_sync_s"] == delta["wall_s"]
    assert proj["database_s"] == delta["database_s"]
    assert proj["total_s"] > APPROVED_S and st["approved_downtime_s"] == APPROVED_S
    text = gc("migrate", "status", str(drill.plan), "--lang", "en").stdout
    assert f"app1: last delta 1.0 MiB / {delta['wall_s']:.1f} s (1 files)" in text, text
    assert "上次增量同步 1.0 MiB" in gc("migrate", "status", str(drill.plan)).stdout


def test_the_gate_refuses_a_projection_beyond_the_approved_window(drill):
    before = (drill.plan / "journal.jsonl").read_text()
    p = gc("migrate", "cutover", str(drill.plan), "--batch", "0", "--yes", "--today", _day(drill), *drill.conn_args(),
           "--lang", "en")                                       # the refusal read in English (Chinese is the default)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"projected downtime exceeds the approved window of {APPROVED_S} s: app1" in p.stderr, p.stderr
    assert (drill.plan / "journal.jsonl").read_text() == before                 # nothing started, nothing journaled
    assert _status(drill)["state"] == "synced"
    assert _port_open(addr(SOURCE), 80)                                          # the source still serves


def test_a_forced_difference_is_caught_and_rolled_back(drill):
    target = _status(drill)["resources"][f"server:{SOURCE}"]["address"]
    # the target drifts: same row count, other contents — only the content checksums can see it
    rc, out = drill.ssh_target(target, "cd / && sudo -n -u postgres psql -XqAt -d govapp -c "
                                       "\"update service_item set name = name || ' (drift)' where id = 7\"")
    assert rc == 0, out
    p = gc("migrate", "cutover", str(drill.plan), "--batch", "0", "--yes", "--force", "--reason", "演练：强制割接",
           "--today", _day(drill), "-o", "json", *drill.conn_args())
    assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]
    st = _status(drill)
    assert st["state"] == "rolled_back" and st["failed_step"] == "cutover", st
    assert "public.service_item: contents differ" in st["reason"], st["reason"]
    assert st["forced_reason"] == "演练：强制割接" and st["cutover_projection"]["total_s"] > APPROVED_S
    # rolled back: the source serves and its database takes the application's writes again
    assert _port_open(addr(SOURCE), 80)
    rc, out = drill.ssh(SOURCE, "cd / && sudo -n -u postgres psql -XqAt -d postgres -c "
                                "\"select datconnlimit from pg_database where datname = 'govapp'\"")
    assert rc == 0 and out.strip() == "-1", out
    assert drill.hosts_record(CLIENT, "app1.drill.gov.test") in ("", addr(SOURCE))
    journal = [json.loads(ln) for ln in (drill.plan / "journal.jsonl").read_text().splitlines()]
    run = next(e for e in journal if e.get("kind") == "run" and e.get("command") == "cutover")
    assert run["forced"] and run["over_window"] == ["app1"] and run["approved_downtime_s"] == APPROVED_S
    # the report carries the forced cutover and its reason
    out = drill.root / "report.md"
    p = gc("report", str(drill.plan), "--out", str(out), "--format", "md")
    assert p.returncode == 0, p.stderr
    assert "强制割接：演练：强制割接" in out.read_text(encoding="utf-8")
