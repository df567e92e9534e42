"""Ansible-only census (issue 20): a host the inventory names with an address but without OS/CPU/RAM
becomes a server record marked incomplete (``census_missing``), validation warns, the planner leaves
its systems unscheduled (H-CENSUS-1), and discovery's facts complete it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import planfixtures as F
from govcloud.interchange import ansible_inventory
from govcloud.interchange.importer import run_import
from govcloud.inventory.schema import inventory_schema
from govcloud.inventory.validate import validate_path
from govcloud.model.enums import CpuArch, OsDistribution
from govcloud.planning.rules import check_plan

from test_discover import DEBIAN_WEBAPP

HOSTS = ("[web]\n"
         "web1 ansible_host=198.18.1.40 os='CentOS 7.9' cpus=4 memory=8G\n"
         "web2 ansible_host=198.18.1.41 cpus=2 arch=arm64\n"
         "web3 ansible_host=web3.example.org\n"
         "198.18.1.43\n"
         "web4 ansible_host=169.254.7.7\n"
         "[web:vars]\n"
         "http_port=8080\n")
MISSING_ALL = ["cores", "ram_gb", "os_distribution", "cpu_arch"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=120)


def _import(tmp_path: Path, text: str = HOSTS, *, dry_run: bool = False, name: str = "hosts.ini"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return run_import("ansible", f, tmp_path / "inv", dry_run=dry_run)


def _by_ext(out) -> dict:
    return {c.external_id: c for c in out.changeset.changes if c.external_id}


# ---------------------------------------------------------------- parser → records


def test_parser_marks_reachable_hosts_incomplete_and_keeps_what_the_inventory_says(tmp_path):
    f = tmp_path / "hosts.ini"
    f.write_text(HOSTS, encoding="utf-8")
    by = {r.external_id: r for r in ansible_inventory.parse(f).records}
    assert "census_missing" not in by["web1"].values                     # states all three: complete
    web2 = by["web2"].values
    assert web2["cores"] == 2 and web2["cpu_arch"] == "aarch64"          # arm64 → aarch64, from the vars
    assert web2["census_missing"] == ["ram_gb", "os_distribution"]       # arch is known: not listed
    assert "ram_gb" not in web2 and "os_distribution" not in web2        # unknown: absent, never 0
    assert by["web2"].extra["ansible_groups"] == ["web"] and by["web2"].extra["ansible_vars"]["http_port"] == 8080
    ip_named = by["198.18.1.43"].values
    assert ip_named["ips"] == ["198.18.1.43"] and ip_named["census_missing"] == MISSING_ALL
    # a DNS name is where Ansible connects, and so does discover: the record's host name
    web3 = by["web3"].values
    assert web3["hostname"] == "web3.example.org" and "ips" not in web3 and web3["census_missing"] == MISSING_ALL
    assert by["web3"].incomplete_why is None and ("hostname", "web3") in by["web3"].match
    # a link-local address is neither a server's address nor a name: not a record, and the reason says so
    assert "census_missing" not in by["web4"].values
    assert by["web4"].incomplete_why == ("no-address-host", {"host": "'169.254.7.7'"})


# ---------------------------------------------------------------- change set, dry run, files


def test_change_set_creates_incomplete_records_and_dry_run_writes_nothing(tmp_path):
    out = _import(tmp_path, dry_run=True)
    assert out.ok and not (tmp_path / "inv").exists()
    by = _by_ext(out)
    assert by["web1"].action == "create" and by["web1"].incomplete == []
    assert by["web2"].action == "create" and by["web2"].incomplete == ["ram_gb", "os_distribution"]
    assert by["198.18.1.43"].action == "create" and by["198.18.1.43"].incomplete == MISSING_ALL
    assert by["web3"].action == "create" and by["web3"].incomplete == MISSING_ALL
    assert by["web4"].action == "incomplete" and by["web4"].id is None
    assert by["web2"].to_json()["incomplete"] == ["ram_gb", "os_distribution"]
    assert "incomplete" not in by["web1"].to_json()
    warn = [p for p in out.changeset.problems if p.code == "incomplete"]
    assert [p.entity_id for p in warn] == ["web4"] and warn[0].line == 6 and "no address" in warn[0].message
    # the validation of the would-be inventory runs on a scratch overlay; its hint names the inventory
    hints = [p.hint for p in out.problems if p.code == "server-incomplete"]
    assert hints and all(f"inventory discover {tmp_path / 'inv'} --hosts" in h for h in hints), hints


@pytest.mark.parametrize("lang, create_pending, not_imported, why", [
    ("en", "incomplete: missing RAM (GB), OS distribution (for discover)",
     "incomplete (not imported)", "no address to discover it at: ansible_host '169.254.7.7' is neither"),
    ("zh", "信息不全，待 discover 补充：内存(GB), 操作系统",
     "信息不全(未导入)", "没有可供 discover 连接的地址：ansible_host '169.254.7.7' 既不是服务器的 IP 地址"),
])
def test_dry_run_shows_create_incomplete_in_both_languages(tmp_path, lang, create_pending, not_imported, why):
    f = tmp_path / "hosts.ini"
    f.write_text(HOSTS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "govcloud", "inventory", "import", str(f), "--format", "ansible",
                           "--into", str(tmp_path / "inv"), "--dry-run", "--lang", lang],
                          capture_output=True, text=True, timeout=120, env={"COLUMNS": "400", "PATH": "/usr/bin"})
    assert proc.returncode == 0, proc.stderr
    assert create_pending in proc.stdout and not_imported in proc.stdout and why in proc.stdout
    assert not (tmp_path / "inv").exists()


def test_written_record_is_schema_valid_and_validate_warns_not_errs(tmp_path):
    out = _import(tmp_path)
    assert out.ok
    text = (tmp_path / "inv" / "imported" / "ansible.yaml").read_text(encoding="utf-8")
    doc = json.loads("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    jsonschema.validate(doc, inventory_schema())
    rec = next(r for r in doc["servers"] if r["hostname"] == "198.18.1.43")
    assert rec["census_missing"] == MISSING_ALL and not {"cores", "ram_gb", "os_distribution", "cpu_arch"} & set(rec)
    result = validate_path(tmp_path / "inv")
    assert result.errors == []
    warn = {p.entity_id: p for p in result.problems if p.code == "server-incomplete"}
    assert set(warn) == {"ansible-web2", "ansible-198-18-1-43", "ansible-web3"}
    w = warn["ansible-web2"]
    assert w.file == "imported/ansible.yaml" and w.line and w.field == "census_missing"
    assert "ram_gb, os_distribution" in w.message and "govcloud inventory discover" in w.hint and "ansible-web2" in w.hint
    srv = result.inventory.servers["ansible-198-18-1-43"]
    assert (srv.cores, srv.ram_gb, srv.os_distribution) == (None, None, None)
    assert srv.incomplete == tuple(MISSING_ALL) and srv.known_cpu_arch is None
    proc = _cli("inventory", "validate", str(tmp_path / "inv"), "--lang", "en")
    assert proc.returncode == 0 and "server-incomplete" in proc.stdout


def test_schema_requires_the_fields_unless_census_missing_names_them():
    schema = inventory_schema()
    base = {"format_version": 1, "servers": [{"id": "s1", "hostname": "s1"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(base, schema)
    base["servers"][0]["census_missing"] = ["cores", "ram_gb"]
    with pytest.raises(jsonschema.ValidationError, match="os_distribution"):
        jsonschema.validate(base, schema)
    base["servers"][0]["census_missing"].append("os_distribution")
    jsonschema.validate(base, schema)
    base["servers"][0]["census_missing"] = ["hostname"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(base, schema)


def test_loader_waives_only_what_census_missing_lists(tmp_path):
    """A string instead of a list waives nothing (no substring match); Chinese labels waive; an
    unknown name is an error with its field."""
    rows = [{"id": "a", "hostname": "a", "census_missing": "cores"},
            {"id": "b", "hostname": "b", "census_missing": ["CPU核数", "内存(GB)", "操作系统"]},
            {"id": "c", "hostname": "c", "census_missing": ["cores", "disks"], "ram_gb": 4, "os_distribution": "centos"}]
    root = F.write_tree(tmp_path / "inv", F.dept([], rows))
    result = validate_path(root)
    errs = {(p.entity_id, p.code, p.field) for p in result.errors}
    assert ("a", "missing-field", "cores") in errs
    assert not any(e[0] == "b" for e in errs)
    assert any(e[0] == "c" and e[2] == "census_missing" for e in errs)


# ---------------------------------------------------------------- re-import, later values, a person's record


def test_reimport_is_idempotent_and_a_later_import_completes_the_record(tmp_path):
    assert _import(tmp_path).ok
    files = {p: p.read_bytes() for p in (tmp_path / "inv").rglob("*") if p.is_file() and ".govcloud" not in p.parts}
    again = _import(tmp_path)
    assert again.ok and not again.changeset.has_changes
    assert {c.action for c in again.changeset.changes} <= {"unchanged", "incomplete"}
    assert files == {p: p.read_bytes() for p in files}
    # the inventory later states what web2 lacked: the record is updated and complete
    later = HOSTS.replace("cpus=2 arch=arm64", "cpus=2 arch=arm64 memory=4G os=openEuler os_version=22.03")
    out = _import(tmp_path, later)
    c = _by_ext(out)["web2"]
    assert c.action == "update" and c.incomplete == [] and "census_missing" in c.fields
    srv = validate_path(tmp_path / "inv").inventory.servers["ansible-web2"]
    assert (srv.ram_gb, srv.os_distribution, srv.cpu_arch, srv.census_missing) == \
        (4.0, OsDistribution.openeuler, CpuArch.aarch64, ())


def test_a_persons_record_wins_and_census_missing_is_not_observed(tmp_path):
    root = F.write_tree(tmp_path / "inv", F.dept([], [F.server("web2", ips=["198.18.1.41"], cores=16)]))
    assert root.is_dir()
    out = _import(tmp_path)
    c = _by_ext(out)["web2"]
    assert c.action == "observe" and c.id == "web2"
    assert "census_missing" not in c.fields and "census_missing" not in c.after
    assert sorted((x.field, x.inventory, x.source) for x in out.changeset.conflicts if x.id == "web2") == \
        [("cores", 16, 2), ("cpu_arch", "x86_64", "aarch64")]
    inv = validate_path(root).inventory
    srv = inv.servers["web2"]
    assert srv.cores == 16 and srv.census_missing == () and srv.incomplete == ()


# ---------------------------------------------------------------- discovery completes it


def _observe(root: Path, server: str, facts: dict, when: str = "2026-12-06T10:00:00Z") -> None:
    (root / "observed").mkdir(exist_ok=True)
    (root / "observed" / "discovery.yaml").write_text(json.dumps({"observations": [
        {"source": "discovery:ssh", "server": server, "collected_at": when, "facts": facts}]}), encoding="utf-8")


def test_discovery_facts_complete_the_record_on_load(tmp_path):
    _import(tmp_path)
    root = tmp_path / "inv"
    _observe(root, "ansible-198-18-1-43", {"cores": 2, "ram_gb": 23.5, "os_distribution": "debian",
                                           "os_version": "12", "kernel": "6.1", "cpu_arch": "aarch64"})
    result = validate_path(root)
    assert not [p for p in result.problems if p.entity_id == "ansible-198-18-1-43" and p.code == "server-incomplete"]
    srv = result.inventory.servers["ansible-198-18-1-43"]
    assert (srv.cores, srv.ram_gb, srv.os_distribution, srv.os_version, srv.kernel, srv.cpu_arch) == \
        (2, 23.5, OsDistribution.debian, "12", "6.1", CpuArch.aarch64)
    assert srv.census_missing == () and srv.incomplete == ()


@pytest.mark.parametrize("facts, still", [
    ({"cores": 2, "ram_gb": 8.0, "os_distribution": "debian"}, "cpu_arch"),           # no arch established
    ({"cores": 0, "ram_gb": 8.0, "os_distribution": "debian", "cpu_arch": "x86_64"}, "cores"),
    ({"cores": True, "ram_gb": "8", "os_distribution": "other", "cpu_arch": "x86_64"}, "cores, ram_gb, os_distribution"),
    ({}, "cores, ram_gb, os_distribution, cpu_arch"),
])
def test_discovery_facts_that_are_no_answer_leave_it_incomplete(tmp_path, facts, still):
    _import(tmp_path)
    root = tmp_path / "inv"
    _observe(root, "ansible-198-18-1-43", facts)
    warn = [p for p in validate_path(root).problems
            if p.entity_id == "ansible-198-18-1-43" and p.code == "server-incomplete"]
    assert len(warn) == 1 and f"census incomplete: {still} not known" in warn[0].message
    assert "latest discovery did not establish" in warn[0].message


def test_an_import_observation_does_not_complete_the_census(tmp_path):
    """Only discovery's facts complete a record: an import's ``observed`` is what a file said."""
    _import(tmp_path)
    root = tmp_path / "inv"
    (root / "observed").mkdir(exist_ok=True)
    (root / "observed" / "x.yaml").write_text(json.dumps({"observations": [
        {"source": "import:rvtools", "server": "ansible-web2", "collected_at": "2026-12-06T10:00:00Z",
         "facts": {"ram_gb": 8, "os_distribution": "centos"}}]}), encoding="utf-8")
    srv = validate_path(root).inventory.servers["ansible-web2"]
    assert srv.ram_gb is None and srv.incomplete == ("ram_gb", "os_distribution")


def test_discover_use_case_reports_and_audits_what_it_completes(tmp_path, monkeypatch):
    from govcloud.drivers import ssh
    from govcloud.usecases.discover import DiscoverRequest, discover
    _import(tmp_path)
    root = tmp_path / "inv"
    monkeypatch.setattr(ssh, "run_many", lambda targets, script, **kw: [
        ssh.RunResult(t.name, rc=0, stdout=DEBIAN_WEBAPP) for t in targets])
    done = discover(DiscoverRequest(inventory=root, hosts="ansible-198-18-1-43,ansible-web2"))
    census = {c["server"]: c for c in done.summary["census"]}
    assert census["ansible-198-18-1-43"] == {"server": "ansible-198-18-1-43", "complete": True, "still_missing": [],
                                             "filled": {"cores": 2, "ram_gb": 23.5, "os_distribution": "debian",
                                                        "os_version": "12", "kernel": "6.18.44-fc-v782",
                                                        "cpu_arch": "x86_64"}}
    # web2 stated 2 cores and arm64: those stand; discovery fills RAM and OS only
    assert census["ansible-web2"]["filled"] == {"ram_gb": 23.5, "os_distribution": "debian", "os_version": "12",
                                                "kernel": "6.18.44-fc-v782"}
    entry = json.loads((root / ".govcloud" / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert entry["action"] == "discover"
    assert entry["after"]["census_completed"]["ansible-198-18-1-43"]["cores"] == 2
    assert entry["before"]["census_missing"]["ansible-198-18-1-43"] == MISSING_ALL
    assert entry["after"]["census_missing"]["ansible-198-18-1-43"] == []
    result = validate_path(root)
    # only the host this run did not visit is still incomplete
    assert [p.entity_id for p in result.problems if p.code == "server-incomplete"] == ["ansible-web3"]
    assert result.inventory.servers["ansible-web2"].cpu_arch is CpuArch.aarch64      # stated, kept
    # re-importing the same file after discovery changes nothing: the facts complete on load only
    again = _import(tmp_path)
    assert again.ok and not again.changeset.has_changes


@pytest.mark.parametrize("lang, words", [("en", ["census completed", "complete"]), ("zh", ["普查补全", "已完整"])])
def test_discover_view_shows_the_completion(tmp_path, monkeypatch, lang, words):
    from govcloud.render.views import discover as views
    from govcloud.usecases.discover import DiscoveryResult
    printed: list[str] = []
    from govcloud.render import console
    from rich.console import Console
    con = Console(record=True, width=200)
    monkeypatch.setattr(console, "stdout", lambda: con)
    views.discovery(DiscoveryResult({"targets": 1, "reached": 1, "failed": 0, "failed_by_reason": {}, "seconds": 1.0,
                                     "written": None, "audit_seq": None, "census": [
                                         {"server": "s1", "filled": {"cores": 2, "os_distribution": "debian"},
                                          "still_missing": [], "complete": True}]}, [{}], [], []), lang)
    text = con.export_text()
    printed.append(text)
    assert all(w in text for w in words) and "s1" in text and "debian" in text.lower()


# ---------------------------------------------------------------- planner


def _plan_inv(tmp_path: Path, *, facts: dict | None = None):
    systems = [F.system("a"), F.system("b"), F.system("c", servers=["c-h1", "b-h1"])]
    servers = [F.server("a-h1"), F.server("c-h1"),
               {"id": "b-h1", "hostname": "b-h1", "ips": ["198.18.1.39"], "census_missing": MISSING_ALL}]
    root = F.write_tree(tmp_path / "inv", F.dept(systems, servers))
    if facts is not None:
        _observe(root, "b-h1", facts)
    result = validate_path(root)
    assert result.errors == []
    return result.inventory


def test_planner_leaves_systems_on_an_incomplete_server_unscheduled_with_the_reason(tmp_path):
    from govcloud.render.reasons import render as render_reason
    inv = _plan_inv(tmp_path)
    plan = F.plan_for(inv)
    F.assert_valid(plan, inv)
    F.item(plan, "a")
    b = F.unscheduled(plan, "b")
    assert b.reasons[0].startswith("H-CENSUS-1.incomplete")
    assert F.unscheduled(plan, "c")          # shares the server: unscheduled too (census or its move group)
    en, zh = render_reason(b.reasons[0], "en"), render_reason(b.reasons[0], "zh")
    assert "server census incomplete (b-h1 (cores, ram_gb, os_distribution, cpu_arch))" in en
    assert "govcloud inventory discover" in en
    assert zh.startswith("H-CENSUS-1：服务器普查信息不完整") and "govcloud inventory discover" in zh


def test_planner_schedules_it_once_discovery_completed_it(tmp_path):
    inv = _plan_inv(tmp_path, facts={"cores": 2, "ram_gb": 4.0, "os_distribution": "centos", "os_version": "7.9",
                                     "cpu_arch": "x86_64"})
    plan = F.planned(inv)
    assert {F.item(plan, s).system for s in ("a", "b", "c")} == {"a", "b", "c"}


def test_check_plan_flags_a_scheduled_system_on_an_incomplete_server(tmp_path):
    complete = _plan_inv(tmp_path / "x", facts={"cores": 2, "ram_gb": 4.0, "os_distribution": "centos",
                                                "os_version": "7.9", "cpu_arch": "x86_64"})
    plan = F.planned(complete)
    incomplete = _plan_inv(tmp_path / "y")
    found = [v for v in check_plan(plan, incomplete) if v.rule == "H-CENSUS-1"]
    assert {v.system for v in found} == {"b", "c"}
    assert "b-h1 (cores, ram_gb, os_distribution, cpu_arch)" in found[0].message and "普查信息不完整" in found[0].message_zh


# ---------------------------------------------------------------- every reader of cores / RAM / OS copes with None


def test_consumers_of_server_fields_handle_an_incomplete_server(tmp_path):
    inv = _plan_inv(tmp_path)
    root = tmp_path / "inv"
    for args in (["inventory", "show", str(root)], ["inventory", "show", str(root), "b-h1"],
                 ["inventory", "list", str(root), "-k", "servers"], ["inventory", "stats", str(root)],
                 ["inventory", "list", str(root), "-k", "servers", "-o", "json"]):
        for lang in ("zh", "en"):
            proc = _cli(*args, "--lang", lang)
            assert proc.returncode == 0, (args, proc.stderr)
    listed = json.loads(_cli("inventory", "list", str(root), "-k", "servers", "-o", "json").stdout)
    row = next(s for s in listed["servers"] if s["id"] == "b-h1")
    assert (row["cores"], row["ram_gb"], row["os_distribution"], row["cpu_arch"]) == (None, None, None, None)
    assert row["incomplete"] == MISSING_ALL
    stats = json.loads(_cli("inventory", "stats", str(root), "-o", "json").stdout)
    assert stats["incomplete_servers"] == 1 and stats["by_cpu_arch"].get("unknown") == 1
    for fmt in ("xlsx", "csv", "json", "html"):
        proc = _cli("inventory", "export", str(root), "-f", fmt, "--out", str(tmp_path / f"exp-{fmt}"))
        assert proc.returncode == 0, (fmt, proc.stderr)
    census = json.loads((tmp_path / "exp-json" / "census.json").read_text(encoding="utf-8"))
    b = next(r for r in census["rows"] if r.get("system_id") == "b" or "系统b" in json.dumps(r, ensure_ascii=False))
    assert b.get("cpu_arch") in ([], None) and b.get("os") in ([], None)       # unknown: not x86_64, not "None"
    servers = json.loads((tmp_path / "exp-json" / "servers.json").read_text(encoding="utf-8"))
    srow = next(r for r in servers["rows"] if r["id"] == "b-h1")
    assert srow["cpu_arch"] is None and "cpu_arch" in srow["census_missing"]      # not the model's x86_64 default
    proc = _cli("plan", "generate", str(root), "--out", str(tmp_path / "plans"), "--id", "p-census", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    plan_dir = tmp_path / "plans" / "p-census"
    assert "H-CENSUS-1: server census incomplete" in (plan_dir / "plan.md").read_text(encoding="utf-8")
    for args in (["plan", "show", str(plan_dir)], ["plan", "explain", str(plan_dir), "b"],
                 ["plan", "validate", str(plan_dir)], ["report", str(plan_dir), "--out", str(tmp_path / "r.html")]):
        proc = _cli(*args, "--lang", "zh")
        assert proc.returncode in (0, 1), (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, (args, proc.stderr)
    assert "服务器普查信息不完整" in _cli("plan", "explain", str(plan_dir), "b", "--lang", "zh").stdout


def test_compliance_targets_and_eol_checks_cope_with_unknown_os(tmp_path):
    from govcloud.model.oslife import is_eol, os_eol_date
    from govcloud.usecases.compliance import inventory_targets
    from datetime import date
    inv = _plan_inv(tmp_path)
    srv = inv.servers["b-h1"]
    assert os_eol_date(srv.os_distribution, srv.os_version) is None and not is_eol(None, None, date(2030, 1, 1))
    targets, level, _ = inventory_targets(tmp_path / "inv", "b", None, "govcloud", None, None)
    assert [(t.name, t.host) for t in targets] == [("b-h1", "198.18.1.39")] and level == 2


# ---------------------------------------------------------------- fuzz: census_missing and discovery facts


_FIELDS = ["cores", "ram_gb", "os_distribution", "cpu_arch", "hostname", "disks", "CPU核数", "", None, 3]
_FACT = st.one_of(st.none(), st.booleans(), st.integers(-5, 10_000), st.floats(allow_nan=True),
                  st.sampled_from(["debian", "centos", "other", "x86_64", "aarch64", "Debian", "银河麒麟", "", "8"]))


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(missing=st.one_of(st.lists(st.sampled_from(_FIELDS), max_size=5), st.sampled_from(_FIELDS)),
       stated=st.dictionaries(st.sampled_from(["cores", "ram_gb", "os_distribution", "cpu_arch"]), _FACT, max_size=3),
       facts=st.dictionaries(st.sampled_from(["cores", "ram_gb", "os_distribution", "cpu_arch", "os_version"]),
                             _FACT, max_size=5))
def test_fuzz_census_missing_and_facts_never_crash_readers_or_planner(tmp_path_factory, missing, stated, facts):
    tmp = tmp_path_factory.mktemp("fz")
    srv = {"id": "b-h1", "hostname": "b-h1", "census_missing": missing, **stated}
    root = F.write_tree(tmp / "inv", F.dept([F.system("a"), F.system("b")], [F.server("a-h1"), srv]))
    _observe(root, "b-h1", facts)
    result = validate_path(root)
    for p in result.errors:
        assert p.file and p.message
    if result.errors:
        return
    inv = result.inventory
    plan = F.plan_for(inv)
    F.assert_valid(plan, inv)
    s = inv.servers["b-h1"]
    if s.incomplete:
        assert F.unscheduled(plan, "b")
    else:
        assert (s.cores, s.ram_gb, s.os_distribution) != (None, None, None)


def test_discover_reaches_an_imported_host_with_the_inventorys_user_and_port(tmp_path, monkeypatch):
    """ansible_user / ansible_port of the Ansible inventory are used after --user and ssh_config;
    anything that is not a plain user name or port number is ignored."""
    from govcloud.drivers import ssh
    from govcloud.usecases.discover import DiscoverRequest, discover
    _import(tmp_path, "[web]\nw1 ansible_host=198.18.1.50 ansible_user=ops ansible_port=2222\n"
                      "w2 ansible_host=198.18.1.51 ansible_user='-oProxyCommand=x' ansible_port=99999\n")
    seen = {}

    def fake(targets, script, **kw):
        seen.update({t.name: (t.user, t.port) for t in targets})
        return [ssh.RunResult(t.name, rc=0, stdout=DEBIAN_WEBAPP) for t in targets]

    monkeypatch.setattr(ssh, "run_many", fake)
    discover(DiscoverRequest(inventory=tmp_path / "inv"))
    assert seen == {"ansible-w1": ("ops", 2222), "ansible-w2": ("root", 22)}
    discover(DiscoverRequest(inventory=tmp_path / "inv", user="admin"))
    assert seen["ansible-w1"] == ("admin", 2222)


def test_a_host_named_by_dns_is_discovered_at_that_name(tmp_path, monkeypatch):
    """ansible_host web3.example.org (no IP): the record's host name, where discover connects, as
    Ansible would; a link-local ansible_host gives no record at all."""
    from govcloud.drivers import ssh
    from govcloud.usecases.discover import DiscoverRequest, discover
    _import(tmp_path)
    root = tmp_path / "inv"
    seen = []
    monkeypatch.setattr(ssh, "run_many", lambda targets, script, **kw: [
        seen.append((t.name, t.host)) or ssh.RunResult(t.name, rc=0, stdout=DEBIAN_WEBAPP) for t in targets])
    done = discover(DiscoverRequest(inventory=root, hosts="ansible-web3"))
    assert seen == [("ansible-web3", "web3.example.org")]
    assert {c["server"]: c["complete"] for c in done.summary["census"]} == {"ansible-web3": True}
    servers = validate_path(root).inventory.servers
    assert servers["ansible-web3"].incomplete == () and servers["ansible-web3"].cores == 2
    assert not any(s.hostname == "web4" for s in servers.values())
