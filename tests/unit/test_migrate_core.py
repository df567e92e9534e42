"""The pure core of `govcloud migrate`: journal, lock, lifecycle replay, resume points, the
change set against a snapshot, security rules, the runner inventory. The real thing (Nova,
Ansible, SSH) is exercised end to end in tests/integration/test_migrate_e2e.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from govcloud.migrate import desired as D
from govcloud.migrate import runinventory as RI
from govcloud.migrate.lifecycle import State, Step, SystemStatus, replay, run_steps
from govcloud.store import journal
from govcloud.store.lock import LockedError, writer_lock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import migrate_env  # noqa: E402


# ---------------------------------------------------------------- journal


def test_journal_appends_and_replays(tmp_path):
    journal.append(tmp_path, {"kind": "state", "system": "a", "to": "prechecked", "step": "precheck"})
    journal.append(tmp_path, {"kind": "step", "system": "a", "step": "precheck", "status": "ok"})
    r = journal.read(tmp_path)
    assert [type(e).__name__ for e in r.entries] == ["StateEntry", "StepEntry"] and not r.torn_tail
    assert [e.kind for e in r.entries] == ["state", "step"] and r.entries[0].to == "prechecked"
    assert r.entries[1].status == "ok" and all(e.at and "@" in e.who for e in r.entries)


def test_journal_torn_tail_is_ignored_then_cut_before_the_next_append(tmp_path):
    journal.append(tmp_path, {"kind": "state", "system": "a", "to": "prechecked"})
    with open(journal.journal_path(tmp_path), "ab") as f:
        f.write(b'{"kind":"state","system":"a","to":"provis')      # kill -9 mid-write
    r = journal.read(tmp_path)
    assert len(r.entries) == 1 and r.torn_tail
    journal.append(tmp_path, {"kind": "state", "system": "a", "to": "provisioned"})
    r = journal.read(tmp_path)
    assert [e.to for e in r.entries] == ["prechecked", "provisioned"] and not r.torn_tail


def test_journal_damage_in_the_middle_is_an_error(tmp_path):
    p = journal.journal_path(tmp_path)
    p.write_text('{"kind":"run"}\nnot json\n{"kind":"run"}\n')
    with pytest.raises(journal.JournalError, match=r"journal.jsonl:2"):
        journal.read(tmp_path)


HOLDER = """
import sys, time
from pathlib import Path
from govcloud.store.lock import writer_lock
with writer_lock(Path(sys.argv[1]), "plan approve", wait=0):
    print("ready", flush=True)
    time.sleep(60)
"""


def test_a_directory_writer_lock_names_its_holder_and_dies_with_it(tmp_path):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        with pytest.raises(LockedError, match=rf"pid {p.pid} .*plan approve"):
            with writer_lock(tmp_path, "other", wait=0):
                pass
        p.kill()                    # kill -9: the kernel drops the flock, no stale lock is left
        p.wait(10)
        with writer_lock(tmp_path, "after", wait=0):
            pass
    finally:
        if p.poll() is None:
            p.kill()


# ---------------------------------------------------------------- lifecycle


def _j(*entries):
    return replay([{"system": "s", **e} for e in entries])["s"]


def test_replay_states_resources_and_failure():
    st = _j({"kind": "state", "to": "prechecked"}, {"kind": "step", "step": "precheck", "status": "ok"},
            {"kind": "resource", "key": "server:h1", "resource": {"kind": "server", "id": "x", "address": "198.19.1.5"}},
            {"kind": "step", "step": "provision", "status": "ok"}, {"kind": "state", "to": "provisioned"},
            {"kind": "state", "to": "failed", "step": "configure", "reason": "boom"})
    assert st.state is State.failed and st.failed_step == "configure" and st.reason == "boom"
    assert st.resources["server:h1"]["address"] == "198.19.1.5"
    assert run_steps(st, State.synced) == [Step.configure, Step.sync]   # resume: skips what is done


def test_rollback_clears_progress_and_removed_resources_disappear():
    st = _j({"kind": "resource", "key": "server:h1", "resource": {"kind": "server", "id": "x"}},
            {"kind": "step", "step": "precheck", "status": "ok"}, {"kind": "step", "step": "provision", "status": "ok"},
            {"kind": "step", "step": "configure", "status": "ok"}, {"kind": "step", "step": "sync", "status": "ok"},
            {"kind": "state", "to": "synced"}, {"kind": "state", "to": "cutover"},
            {"kind": "resource", "key": "server:h1", "removed": True}, {"kind": "state", "to": "rolled_back"})
    assert st.state is State.rolled_back and st.resources == {} and st.cutover_at is None
    assert run_steps(st, State.synced) == [Step.precheck, Step.provision, Step.configure, Step.sync]


def test_run_steps_stages_and_resync():
    fresh = SystemStatus("s")
    assert run_steps(fresh, State.prechecked) == [Step.precheck]
    assert run_steps(fresh, State.provisioned) == [Step.precheck, Step.provision, Step.configure]
    synced = _j(*[{"kind": "step", "step": s, "status": "ok"} for s in ("precheck", "provision", "configure", "sync")],
                {"kind": "state", "to": "synced"})
    assert synced.syncs == 1
    assert run_steps(synced, State.synced) == []                       # running again changes nothing
    assert run_steps(synced, State.synced, resync=True) == [Step.sync]
    done = _j({"kind": "state", "to": "done"})
    assert run_steps(done, State.synced, resync=True) == []


# ---------------------------------------------------------------- desired state and change set


@dataclass
class Snap:
    flavors: dict = field(default_factory=lambda: {"m1.small": {"id": "f", "vcpus": 1, "ram_mb": 2048, "disk": 10}})
    images: dict = field(default_factory=lambda: {"Debian-12-x86_64": {"id": "i", "status": "active"}})
    networks: dict = field(default_factory=lambda: {"govcloud-net": {"id": "n", "cidrs": ["198.19.0.0/16"]}})
    keypairs: dict = field(default_factory=dict)
    servers: dict = field(default_factory=dict)
    security_groups: dict = field(default_factory=dict)
    volumes: dict = field(default_factory=dict)
    floating_ips: dict = field(default_factory=dict)
    limits: dict = field(default_factory=lambda: {"cores": 10, "cores_used": 0, "instances": 10, "instances_used": 0,
                                                  "ram_mb": 100000, "ram_mb_used": 0})


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    from govcloud.inventory.validate import validate_path
    from govcloud.planning.planner import build_plan
    root = migrate_env.write_inventory(tmp_path_factory.mktemp("drill") / "inv",
                                       [("h43", "198.18.1.43"), ("h44", "198.18.1.44")], ("h38", "198.18.1.38"),
                                       start="2026-11-23")
    res = validate_path(root)
    assert not res.errors, [p.message for p in res.errors]
    inv = res.inventory
    plan = build_plan(inv, inv.policies["drill"], plan_id="drill", inventory_ref="../inv", inputs_digest="x")
    return plan, inv


def test_targets_rebuild_a_rehost_on_the_same_os_image_with_least_privilege_rules(drill):
    plan, inv = drill
    item = plan.items()[0]
    assert item.servers[0].image.startswith("import:")
    t = D.targets_for(plan, inv, item, admin_cidrs=["198.19.0.1"])
    assert t.executable and t.cloud == "govcloud-test" and t.network == "govcloud-net"
    assert t.servers[0].image == "Debian-12-x86_64" and t.servers[0].source_address == "198.18.1.43"
    rules = {(r["port_range_min"], r.get("remote_ip_prefix"), bool(r.get("remote_group_self"))) for r in t.rules}
    assert (22, "198.19.0.1/32", False) in rules                     # SSH only from the migration host
    assert (80, "198.18.1.38/32", False) in rules and (5432, "198.18.1.38/32", False) in rules   # the client
    assert (None, None, True) in rules               # all TCP between its own servers, as Neutron stores it
    assert not any(r.get("remote_ip_prefix") == "0.0.0.0/0" for r in t.rules)
    assert t.client_addresses == {"h38": "198.18.1.38"}


def test_a_system_without_workload_or_image_is_blocked_with_the_reason(drill):
    plan, inv = drill
    import copy
    inv2 = copy.deepcopy(inv)
    item = plan.items()[0]
    inv2.systems[item.system].workload = None
    z = inv2.cloud_zones["z1"]
    z.images = ()
    t = D.targets_for(plan, inv2, item, admin_cidrs=[])
    assert not t.executable
    joined = " ".join(t.problems)
    assert "workload" in joined and "catalogue image of the same OS" in joined
    steps, changes = D.changes(t, Snap(), SystemStatus(item.system), State.synced)
    assert steps == [] and changes[0].action == "blocked"


def test_change_set_creates_then_adopts_then_keeps(drill):
    plan, inv = drill
    item = plan.items()[0]
    t = D.targets_for(plan, inv, item, admin_cidrs=["198.19.0.1"])
    snap = Snap()
    steps, ch = D.changes(t, snap, SystemStatus(item.system), State.synced, keypair="govcloud-drill")
    assert steps == [Step.precheck, Step.provision, Step.configure, Step.sync]
    acts = {(c.action, c.kind) for c in ch}
    assert {("create", "keypair"), ("create", "security_group"), ("create", "server")} <= acts
    # the cloud has the server (a crash lost the journal line): adopt, never create a twin
    snap.servers[(item.system, item.servers[0].server)] = {"id": "x", "status": "ACTIVE"}
    snap.security_groups[t.security_group] = {"id": "g"}
    snap.keypairs["govcloud-drill"] = "fp"
    _, ch = D.changes(t, snap, SystemStatus(item.system), State.synced, keypair="govcloud-drill")
    assert ("adopt", "server") in {(c.action, c.kind) for c in ch}
    assert not any(c.action == "create" for c in ch)
    st = replay([{"system": item.system, "kind": "resource", "key": f"server:{item.servers[0].server}",
                  "resource": {"kind": "server", "id": "x"}},
                 {"system": item.system, "kind": "resource", "key": "security_group", "resource": {"kind": "security_group"}},
                 *[{"system": item.system, "kind": "step", "step": s, "status": "ok"} for s in ("precheck", "provision")],
                 {"system": item.system, "kind": "state", "to": "provisioned"}])[item.system]
    steps, ch = D.changes(t, snap, st, State.synced, keypair="govcloud-drill")
    assert steps == [Step.configure, Step.sync]
    assert [c.name for c in ch] == ["migrate_configure.yml", "migrate_sync.yml"]


def test_quota_is_counted_only_for_servers_still_to_create(drill):
    plan, inv = drill
    ts = [D.targets_for(plan, inv, i, admin_cidrs=[]) for i in plan.items()]
    snap = Snap()
    snap.limits.update(cores=2, cores_used=1)
    need = D.quota_needed(ts, snap)
    assert need == {"cores": 2, "ram_mb": 4096, "instances": 2}
    assert D.quota_problems(need, snap.limits) == ["quota: cores needed 2, free 1 of 2"]
    snap.servers[(ts[0].system, ts[0].servers[0].source)] = {"id": "x"}
    assert D.quota_problems(D.quota_needed(ts, snap), snap.limits) == []


# ---------------------------------------------------------------- runner inventory


def test_runner_inventory_pairs_targets_with_sources_through_a_tunnel(drill, tmp_path):
    plan, inv = drill
    t = D.targets_for(plan, inv, plan.items()[0], admin_cidrs=[])
    doc = RI.build(t, source_login=RI.Login("govcloud", "/k/src"), target_login=RI.Login("govcloud", "/k/tgt"),
                   target_addresses={"h43": "198.19.3.4"}, source_known={"h43": ["198.18.1.43 ssh-ed25519 AAAA"]})
    groups = doc["all"]["children"]
    src = groups["source"]["hosts"]["h43"]
    tgt = groups["target"]["hosts"]["h43-cloud"]
    assert "StrictHostKeyChecking=yes" in src["ansible_ssh_common_args"] and "/k/src" in src["ansible_ssh_common_args"]
    assert tgt["ansible_host"] == "198.19.3.4" and tgt["govcloud_source"] == "h43"
    assert f"-R 127.0.0.1:{RI.TUNNEL_PORT}:198.18.1.43:22" in tgt["ansible_ssh_extra_args"]
    assert tgt["govcloud_source_known_hosts"] == "198.18.1.43 ssh-ed25519 AAAA"
    assert groups["clients"]["hosts"]["h38"]["ansible_host"] == "198.18.1.38"
    text = json.dumps(doc)
    assert "PRIVATE KEY" not in text and "ansible_ssh_private_key_file" not in text and "id_ed25519" not in text
    ev = RI.extravars(t, sync_mode="delta")
    assert ev["govcloud_databases"] == [{"engine": "postgresql", "name": "govapp"}]
    assert ev["govcloud_cutover_record"]["clients"] == ["h38"] and ev["govcloud_sync_mode"] == "delta"


def test_known_host_lines_plain_and_hashed(tmp_path):
    salt = os.urandom(20)
    digest = hmac.new(salt, b"198.18.1.9", hashlib.sha1).digest()
    hashed = f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()} ssh-ed25519 BBBB"
    kh = tmp_path / "known_hosts"
    kh.write_text(f"198.18.1.8,h8 ssh-ed25519 AAAA\n{hashed}\n# comment\n")
    assert RI.known_host_lines(kh, ["h8"]) == ["198.18.1.8,h8 ssh-ed25519 AAAA"]
    assert RI.known_host_lines(kh, ["198.18.1.9"]) == [hashed]
    assert RI.known_host_lines(kh, ["198.18.1.10"]) == []
    # agree with OpenSSH itself
    out = subprocess.run(["ssh-keygen", "-F", "198.18.1.9", "-f", str(kh)], capture_output=True, text=True)
    assert "BBBB" in out.stdout


def test_the_report_reads_the_migrate_journal(tmp_path):
    from govcloud.render.report import parse_journal
    journal.append(tmp_path, {"kind": "run", "command": "run"})
    journal.append(tmp_path, {"kind": "step", "system": "a", "step": "precheck", "status": "ok"})
    journal.append(tmp_path, {"kind": "state", "system": "a", "to": "prechecked", "step": "precheck"})
    journal.append(tmp_path, {"kind": "state", "system": "b", "to": "failed", "step": "provision", "reason": "x"})
    text = journal.journal_path(tmp_path).read_text() + '{"kind":"state","sys'     # torn last line
    assert parse_journal(text) == [{"system": "a", "state": "prechecked"}, {"system": "b", "state": "failed"}]


def test_downtime_is_read_from_the_probers_report_and_the_window_projected_from_the_last_sync():
    from govcloud.migrate.executor import SERVICE_STOP_START_S, downtime_of, project_downtime
    msgs = {"h41": ["db postgresql/x: restored"],
            "h42": ["record app.gov.test on h42 -> 198.19.0.5 (changed)",
                    "downtime app1: 12.34 s seen from h42 (first failed request …)"]}
    assert downtime_of(msgs, "app1") == {"downtime_s": 12.34, "downtime_client": "h42",
                                         "downtime": msgs["h42"][1]}
    assert downtime_of(msgs, "app") == {}                      # another system's line is not this one's
    assert downtime_of({"h42": ["downtime app1: not ended seen from h42 (…)"]}, "app1")["downtime_s"] is None
    st = _j({"kind": "step", "step": "sync", "status": "start", "at": "2026-11-23T01:00:00.000Z"},
            {"kind": "step", "step": "sync", "status": "ok", "at": "2026-11-23T01:00:42.500Z"})
    assert st.last_sync_s == 42.5
    p = project_downtime(st)
    assert p["total_s"] == round(42.5 + SERVICE_STOP_START_S, 1) and p["method"] == "dump"
