"""`govcloud migrate failback` on the real harness (issue 18): the sample workload on h78 is migrated
and cut over onto a Nova server (harness/bridge); during the soak users WRITE ON THE TARGET (rows
inserted, updated and deleted in PostgreSQL by the application's account, a file created, one
changed, one deleted); then the failback brings the system back to h78 keeping every write.

Checked: a failback whose record was changed by someone else refuses, changes nothing and leaves
the target serving (state unchanged); the real failback leaves on the source exactly what the frozen
target held (row counts, per-table content checksums, tree digests), the record (kind hosts, on the
client h80) points at the source again, the source answers and is open to writes, the target's
services are stopped; state failed_back with the evidence journaled.  Hosts h78 (source) and h80
(client) are reserved for this module (h79 is left unused: the target is a Nova server).
"""

from __future__ import annotations

import json
import shlex
import uuid
from datetime import date
from pathlib import Path

import pytest

from migrate_env import approve_args, write_inventory
from test_migrate_e2e import Drill, _http, addr, gc

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SRC, CLIENT = "h78", "h80"
SID = "app1"
RECORD = "app1.drill.gov.test"
TREES = ["/srv/govapp", "/etc/nginx/sites-enabled"]
# per-table content fingerprint, the same query on both sides (order-independent by primary key)
FINGERPRINT = ("select 'department', count(*), md5(coalesce(string_agg(t::text, '|' order by code), '')) from department t "
               "union all select 'service_item', count(*), md5(coalesce(string_agg(t::text, '|' order by id), '')) "
               "from service_item t order by 1")
TREE_SUM = ("sudo -n sh -c 'cd / && find " + " ".join(TREES) + " -xdev \\( -type f -o -type l \\) -print0 | sort -z | "
            "xargs -0 sha256sum | sha256sum'")


def _pg(run, sql: str, db: str = "govapp", role: str | None = None) -> str:
    """SQL as postgres on a host (``run``: drill.ssh or drill.ssh_target), optionally as ``role``."""
    sql = (f"set role {role}; " if role else "") + sql
    rc, out = run("cd / && sudo -n -u postgres psql -XqAt -v ON_ERROR_STOP=1 -d " + db + " -c " + shlex.quote(sql))
    assert rc == 0, out
    return out.strip()


def _record_on_client(drill: Drill) -> str:
    return drill.hosts_record(CLIENT, RECORD)


def _drop_record_on_client(drill: Drill) -> None:
    rc, out = drill.ssh(CLIENT, "sudo -n sed -i -E " + shlex.quote(f"/ {RECORD}( |$)/d") + " /etc/hosts")
    assert rc == 0, out


def _set_record_on_client(drill: Drill, value: str) -> None:
    """Someone edits the client's /etc/hosts line of the record (the line govcloud manages, marked)."""
    rc, out = drill.ssh(CLIENT, "sudo -n sh -c " + shlex.quote(
        f"sed -i -E '/ {RECORD}( |$)/d' /etc/hosts && echo '{value} {RECORD}  # govcloud {SID}' >> /etc/hosts"))
    assert rc == 0, out
    assert _record_on_client(drill) == value


@pytest.fixture(scope="module")
def drill(module_state, test_hosts, bridged_cloud, tmp_path_factory):
    from govcloud.drivers.ansible import run_playbook
    root = tmp_path_factory.mktemp("migrate-failback")
    deploy = run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SRC,
                          private_data_dir=root / "deploy")
    assert deploy.ok, deploy.failed_tasks
    inv = write_inventory(root / "inv", [(SRC, addr(SRC))], (CLIENT, addr(CLIENT)), start=date.today().isoformat())
    plan_id = "it-fb-" + uuid.uuid4().hex[:6]
    p = gc("plan", "generate", str(inv), "--out", str(root / "plans"), "--id", plan_id)
    assert p.returncode == 0, p.stdout + p.stderr
    d = Drill(root, plan_id, test_hosts, bridged_cloud)
    _drop_record_on_client(d)             # the client as a department has it: no line for the name yet
    p = gc(*approve_args(d.plan))
    assert p.returncode == 0, p.stdout + p.stderr
    try:
        p = gc("migrate", "run", str(d.plan), "--batch", "0", "--yes", "-o", "json", *d.conn_args())
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        p = gc("migrate", "cutover", str(d.plan), "--batch", "0", "--yes", "--force", "--reason",
               "failback integration test", "-o", "json", *d.conn_args())
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        assert d.status()[SID]["state"] == "done"
        yield d
    finally:
        d.remove_cloud()
        _drop_record_on_client(d)
        run_playbook(REPO / "playbooks" / "sample_workload.yml", test_hosts.inventory_ini, limit=SRC,
                     private_data_dir=root / "redeploy")


@pytest.fixture(scope="module")
def soak_writes(drill):
    """Users work on the target during the soak: rows inserted, updated, deleted by the application's
    account; a file created, one changed, one deleted.  Returns the target's state afterwards."""
    target = drill.status()[SID]["resources"][f"server:{SRC}"]["address"]
    on_t = lambda cmd: drill.ssh_target(target, cmd)                          # noqa: E731
    token = uuid.uuid4().hex[:8]          # this run's writes, whatever an earlier run left on the hosts
    base = int(_pg(on_t, "select coalesce(max(id), 0) from service_item"))
    before = int(_pg(on_t, "select count(*) from service_item"))
    gone = _pg(on_t, f"delete from service_item where id in (select id from service_item where id <= {base} "
                     f"order by id desc limit 31) returning id", role="govapp").split()
    assert len(gone) == 31
    _pg(on_t, f"insert into service_item select {base} + g, 'sjj', '失败回切写入 {token} #' || g, '公共服务', true, "
              f"now() from generate_series(1, 40) g; "
              f"update service_item set name = name || ' (已更新 {token})', updated_at = now() where id in "
              f"(select id from service_item where id <= {base} order by id limit 25)", role="govapp")
    # data files only (the site's own files, e.g. www/api/stats.json, serve the health URL)
    rc, files = on_t("sudo -n find /srv/govapp/data -type f -name 'attachment-*' | sort")
    assert rc == 0
    files = files.split()
    changed, deleted = "/srv/govapp/data/README.txt", files[0]
    assert len(files) > 1, files
    rc, out = on_t("sudo -n sh -c " + shlex.quote(
        f"echo '新文件 {token} written on the target' > /srv/govapp/failback-{token}.txt && echo appended >> {changed} "
        f"&& rm -f {deleted}"))
    assert rc == 0, out
    assert _http(f"http://{target}/api/stats.json") == 200
    return {"target": target, "rows": _pg(on_t, FINGERPRINT), "tree": on_t(TREE_SUM)[1].strip(),
            "token": token, "gone": gone, "count": before + 40 - 31, "base": base,
            "changed": changed, "deleted": deleted,
            "changed_sum": on_t(f"sudo -n sha256sum {changed}")[1].split()[0]}


def test_failback_dry_run_lists_the_steps_and_changes_nothing(drill, soak_writes):
    p = gc("migrate", "failback", str(drill.plan), "--system", SID, "--reason", "dry run", "--dry-run",
           "--lang", "en", "-o", "json")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    fb = json.loads(p.stdout)["failback"]
    assert fb["state"] == "done" and fb["new"] == [addr(SRC)] and fb["expected"] == [soak_writes["target"]]
    assert len(fb["steps"]) == 5
    assert drill.status()[SID]["state"] == "done"


def test_failback_refuses_a_record_changed_by_someone_else_and_the_target_keeps_serving(drill, soak_writes):
    _set_record_on_client(drill, "198.18.1.99")
    try:
        p = gc("migrate", "failback", str(drill.plan), "--system", SID, "--reason", "test: record changed",
               "--yes", "--lang", "en", "-o", "json", *drill.conn_args())
        assert p.returncode == 1, p.stdout[-3000:] + p.stderr[-3000:]
        res = json.loads(p.stdout)["results"][0]
        assert not res["ok"] and "refusing to fail back" in res["error"] and "198.18.1.99" in res["error"], res
        assert _record_on_client(drill) == "198.18.1.99"                  # nothing changed
        st = drill.status()[SID]
        assert st["state"] == "done" and st["failbacks"][-1]["status"] == "fail", st["failbacks"]
        assert _http(f"http://{soak_writes['target']}/api/stats.json") == 200   # the target still serves
        assert _http(f"http://{addr(SRC)}/api/stats.json") == 0                  # the source does not
        j = [json.loads(ln) for ln in (drill.plan / "journal.jsonl").read_text().splitlines() if ln.strip()]
        assert any(e.get("kind") == "switch" and e.get("status") == "refused" and e.get("to") == "source" for e in j)
    finally:
        _set_record_on_client(drill, soak_writes["target"])


def test_failback_brings_every_target_write_back_to_the_source(drill, soak_writes):
    p = gc("migrate", "failback", str(drill.plan), "--system", SID, "--reason", "test: back during the soak",
           "--yes", "-o", "json", *drill.conn_args())
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    st = drill.status()[SID]
    assert st["state"] == "failed_back", st
    on_s = lambda cmd: drill.ssh(SRC, cmd)                                     # noqa: E731
    # every write the target took, and nothing else: the same rows and contents per table, the same trees
    assert _pg(on_s, FINGERPRINT) == soak_writes["rows"]
    tok = soak_writes["token"]
    assert _pg(on_s, f"select count(*) from service_item where id > {soak_writes['base']}") == "40"
    assert _pg(on_s, f"select count(*) from service_item where id in ({','.join(soak_writes['gone'])})") == "0"
    assert _pg(on_s, f"select count(*) from service_item where name like '%(已更新 {tok})'") == "25"
    assert _pg(on_s, "select count(*) from service_item") == str(soak_writes["count"])
    assert on_s(TREE_SUM)[1].strip() == soak_writes["tree"]
    assert f"新文件 {tok}" in on_s(f"sudo -n cat /srv/govapp/failback-{tok}.txt")[1]
    assert on_s(f"sudo -n sha256sum {soak_writes['changed']}")[1].split()[0] == soak_writes["changed_sum"]
    assert on_s(f"sudo -n test -e {soak_writes['deleted']}")[0] != 0
    # the source serves and takes writes again; the record points at it; the target is stopped (kept)
    assert _record_on_client(drill) == addr(SRC)
    assert _http(f"http://{addr(SRC)}/api/stats.json") == 200
    assert _pg(on_s, "select datconnlimit from pg_database where datname = 'govapp'", db="postgres") == "-1"
    new_id = soak_writes["base"] + 1000
    assert _pg(on_s, f"insert into service_item values ({new_id}, 'sjj', 'after failback', '公共服务', true, now()) "
                     "returning id", role="govapp") == str(new_id)
    assert _http(f"http://{soak_writes['target']}/api/stats.json") == 0
    assert drill.servers(SID), "the target is kept"
    # the evidence, journaled with the step
    fb = st["failbacks"][-1]
    assert fb["status"] == "ok", st["failbacks"]
    ev = fb["evidence"]
    key = f"{SRC}:postgresql/govapp"
    assert ev["rows"][key]["public.service_item"] == soak_writes["count"], ev["rows"]
    assert set(ev["checksums"][key]) >= {"public.service_item", "public.department"}, ev["checksums"]
    assert {t["path"] for t in ev["trees"]} == set(TREES) and all(t["digest"] for t in ev["trees"])
    assert ev["record"]["before"] == [soak_writes["target"]] and ev["record"]["after"] == [addr(SRC)]
    assert ev["downtime_s"] is not None and ev["downtime_s"] > 0
    # run again: nothing to fail back from any more
    p = gc("migrate", "failback", str(drill.plan), "--system", SID, "--reason", "again", "--yes", "--lang", "en",
           *drill.conn_args())
    assert p.returncode == 1 and "failed_back" in p.stderr, p.stderr[-2000:]
