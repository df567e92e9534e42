"""Fast checks of the migration playbooks' pure parts: the difference filters verify and the DB
sync report with, the playbooks/roles contract (names, syntax via ansible-playbook
--syntax-check), and the bundled sample-workload inventory.  The behaviour on hosts is tested in
tests/integration/test_migrate_roles.py."""
from __future__ import annotations

import importlib.util
import ipaddress
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PB = REPO / "playbooks"


def _filters():
    spec = importlib.util.spec_from_file_location("gc_filters", PB / "filter_plugins" / "govcloud_migrate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_count_diffs_name_tables_and_missing_ones():
    f = _filters()
    assert f.govcloud_count_diffs({"a": 1, "b": 2}, {"a": 1, "b": 2}) == []
    assert f.govcloud_count_diffs({"a": 1, "b": 2}, {"a": 1, "c": 5}, "pg/x ") == [
        "pg/x b: source 2 rows, target missing", "pg/x c: source missing rows, target 5"]


def test_manifest_diffs_name_files_and_what_differs():
    f = _filters()
    src = {"path": "/srv/app", "exists": True, "entries": {
        ".": "d mode=755 owner=0:0", "a.bin": "f mode=644 owner=33:33 size=3 mtime=1 sha256=aa",
        "b.txt": "f mode=644 owner=0:0 size=1 mtime=1 sha256=bb", "gone": "l mode=777 owner=0:0 -> a.bin"}}
    tgt = {"path": "/srv/app", "exists": True, "entries": {
        ".": "d mode=755 owner=0:0", "a.bin": "f mode=644 owner=33:33 size=4 mtime=2 sha256=cc",
        "b.txt": "f mode=600 owner=0:0 size=1 mtime=1 sha256=bb", "extra": "f mode=644 owner=0:0 size=0 mtime=1 sha256=dd"}}
    assert f.govcloud_manifest_diffs(src, tgt) == [
        "/srv/app/a.bin: content, size, mtime differ", "/srv/app/b.txt: mode differ",
        "/srv/app/extra: only on the target", "/srv/app/gone: missing on the target"]
    assert f.govcloud_manifest_diffs(src, src) == []
    assert f.govcloud_manifest_diffs(src, {"path": "/srv/app", "exists": False}) == ["/srv/app: missing on the target"]
    many = {"path": "/p", "entries": {str(i): "f sha256=x" for i in range(60)}}
    out = f.govcloud_manifest_diffs(many, {"path": "/p", "entries": {}}, limit=50)
    assert len(out) == 51 and out[-1] == "... and 10 more"


NAMES = ["precheck", "configure", "sync", "cutover", "switched", "cleanup", "verify", "rollback"]


def test_playbooks_exist_use_the_groups_and_pass_syntax_check(tmp_path):
    pbs = [PB / f"migrate_{n}.yml" for n in NAMES] + [PB / "sample_workload.yml"]
    for pb in pbs[:-1]:
        plays = yaml.safe_load(pb.read_text())
        # a play names one of the three groups; an import names a sibling playbook checked here too
        imports = [p["import_playbook"] for p in plays if "import_playbook" in p]
        assert all(PB / i in pbs for i in imports), (pb, imports)
        assert {p["hosts"] for p in plays if "import_playbook" not in p} <= {"source", "target", "clients"}, pb
    inv = tmp_path / "inv.yml"
    inv.write_text(yaml.safe_dump({"all": {"children": {g: {"hosts": {f"{g}1": {}}} for g in ("source", "target", "clients")}}}))
    r = subprocess.run(["ansible-playbook", "--syntax-check", "-i", str(inv), *map(str, pbs)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_roles_are_prefixed_govcloud():
    roles = sorted(p.name for p in (PB / "roles").iterdir() if p.is_dir())
    assert all(r.startswith("govcloud_") for r in roles)
    for r in ("govcloud_precheck", "govcloud_configure", "govcloud_sync", "govcloud_db", "govcloud_service",
              "govcloud_cutover", "govcloud_verify", "govcloud_rollback"):
        assert r in roles


def test_sample_workload_inventory_is_valid_and_describes_the_workload():
    from govcloud.inventory.loader import load_inventory
    r = load_inventory(REPO / "inventories" / "sample-workload")
    assert not r.errors, r.errors
    systems = r.inventory.systems
    w = systems["govapp"].workload
    assert w.data_paths == ("/srv/govapp", "/etc/nginx/sites-enabled")
    assert [(s.name, s.port, s.health_path) for s in w.services] == [("nginx", 80, "/api/stats.json"), ("postgresql", 5432, None)]
    assert [(str(d.engine.value), d.name) for d in w.databases] == [("postgresql", "govapp")]
    assert w.cutover_record.name == "govapp.gov.test" and w.cutover_record.clients == ("govapp-kiosk01",)
    for s in r.inventory.servers.values():
        for ip in s.ips:
            assert ipaddress.ip_address(ip) in ipaddress.ip_network("198.18.0.0/15")


def test_checksum_diffs_name_tables_whose_contents_differ():
    f = _filters()
    assert f.govcloud_checksum_diffs({"a": "3:10", "b": "2:5"}, {"a": "3:10", "b": "2:5"}) == []
    assert f.govcloud_checksum_diffs({"a": "3:10", "b": "2:5"}, {"a": "3:11", "c": "0:0"}, "postgresql/x ") == [
        "postgresql/x a: contents differ (checksum source 3:10, target 3:11)",
        "postgresql/x b: contents differ (checksum source 2:5, target missing)",
        "postgresql/x c: contents differ (checksum source missing, target 0:0)"]


def test_downtime_runs_from_the_first_failure_to_the_first_healthy_answer_from_the_target():
    f = _filters()
    log = ['{"t": 100.0, "event": "start", "url": "http://app:80/h"}',
           '{"t": 100.1, "addr": "10.0.0.1", "ok": true}',
           '{"t": 103.5, "addr": "10.0.0.1", "ok": false}',
           '{"t": 110.0, "addr": "10.0.0.2", "ok": false}',
           '{"t": 111.25, "addr": "10.0.0.2", "ok": true}',
           'garbage', '{"t": 112.0, "event": "stop"}']
    msg = f.govcloud_downtime(log, "10.0.0.2", "app1", "h33")
    assert msg.startswith("downtime app1: 7.75 s seen from h33 (first failed request 1970-01-01T00:01:43.500Z"), msg
    # the source answering again (a rollback) is not the end of the downtime
    assert "not ended" in f.govcloud_downtime(log[:4] + ['{"t": 111, "addr": "10.0.0.1", "ok": true}'],
                                              "10.0.0.2", "app1", "h33")
    assert f.govcloud_downtime(log[:2] + ['{"t": 101, "addr": "10.0.0.2", "ok": true}'], "10.0.0.2", "a", "c") \
        .startswith("downtime a: 0.00 s")


def test_pg_checksum_sql_quotes_names_and_pins_text_forms():
    import sys
    sys.path.insert(0, str(PB / "library"))
    try:
        import govcloud_db_counts as g
    finally:
        sys.path.pop(0)
    sql = g.pg_checksum_sql([("public", 'we"ird'), ("s.x", "t'1")])
    assert "set timezone = 'UTC'" in sql and "set default_transaction_read_only = on" in sql
    assert 'from "public"."we""ird" r' in sql and "select 'public.we\"ird'" in sql
    assert 'from "s.x"."t\'1" r' in sql and "select 's.x.t''1'" in sql


def test_pg_checksum_sql_per_algorithm_one_scan_per_table():
    import sys
    sys.path.insert(0, str(PB / "library"))
    try:
        import govcloud_db_counts as g
    finally:
        sys.path.pop(0)
    tables = [("public", "a"), ("public", "b")]
    md5, h64 = g.pg_checksum_sql(tables, "md5"), g.pg_checksum_sql(tables, "hash64")
    assert "md5(r::text)" in md5 and "hashtext" not in md5
    assert "hashtextextended(r::text, 0)" in h64 and "md5(" not in h64
    for sql in (md5, h64):
        # the count comes from the same scan as the checksum: one select per table, count first
        assert sql.count("select ") == len(tables) and sql.count("count(*) || ':' ||") == len(tables)
    assert g.pg_checksum_sql(tables) == md5          # md5 stays the default (any PostgreSQL version)
    with pytest.raises(KeyError):
        g.pg_checksum_sql(tables, "crc32")


def test_downtime_through_a_load_balancer_ends_at_the_first_healthy_answer_after_the_failure():
    f = _filters()
    lb = "198.18.0.1"
    log = ['{"t": 100.0, "event": "start", "url": "http://lb.gov.test:80/h"}',
           f'{{"t": 100.1, "addr": "{lb}", "ok": true}}',
           f'{{"t": 102.0, "addr": "{lb}", "ok": false}}']
    assert not f.govcloud_probe_back(log, "*")                    # still down: the wait goes on
    assert "not ended" in f.govcloud_downtime(log, "*", "swlb", "h63")
    log.append(f'{{"t": 106.5, "addr": "{lb}", "ok": true}}')
    assert f.govcloud_probe_back(log, "*")
    msg = f.govcloud_downtime(log, "*", "swlb", "h63")
    assert msg.startswith("downtime swlb: 4.50 s seen from h63") and "through the load balancer" in msg, msg
    # by address (dns, hosts): a healthy answer from the source is not the target's
    assert not f.govcloud_probe_back(log, "198.19.0.9")
    assert f.govcloud_probe_back(log[:2], "*") and not f.govcloud_probe_back([], "*")
