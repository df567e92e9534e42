"""`govcloud inventory import` end to end, in subprocesses: dry run, apply, no-op re-import,
bad input, audit log, JSON contract, and export → import round trip."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import DATA  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def gc(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    if rc is not None:
        assert proc.returncode == rc, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def tree_digest(root: Path) -> dict[str, str]:
    """Every file's digest, except the writer lock's file (empty once released)."""
    lock = root / ".govcloud" / "lock"
    assert not lock.exists() or lock.stat().st_size == 0
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p != lock}


HOSTS = """[web]
wjj-app-01 ansible_host=198.18.10.11 ansible_distribution=Ubuntu ansible_processor_vcpus=4 ansible_memtotal_mb=16384
web[01:02] ansible_distribution=openEuler ansible_distribution_version=22.03 ansible_processor_vcpus=2 ansible_memtotal_mb=4096
[web:vars]
ansible_user=ops
db_password=hunter2
"""


@pytest.fixture
def hosts(tmp_path: Path) -> Path:
    p = tmp_path / "hosts.ini"
    p.write_text(HOSTS, encoding="utf-8")
    return p


def test_dry_run_writes_nothing_then_apply_then_noop(mini: Path, hosts: Path) -> None:
    before = tree_digest(mini)
    out = json.loads(gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini),
                        "--dry-run", "-o", "json").stdout)
    assert tree_digest(mini) == before
    assert out["ok"] and out["dry_run"] and not out["applied"] and out["written"] == []
    assert out["summary"]["create"] == 2 and out["summary"]["observe"] == 1
    assert sorted(out["files"]) == ["imported/ansible.provenance.json", "imported/ansible.yaml",
                                    "observed/import-ansible.yaml"]
    # JSON contract
    assert set(out) >= {"format", "file", "sha256", "inventory", "ok", "dry_run", "applied", "no_changes",
                        "summary", "changes", "conflicts", "problems", "files", "written", "audit_seq"}
    conflict = {(c["id"], c["field"]): c for c in out["conflicts"]}
    assert conflict[("wjj-app-01", "cores")]["inventory"] == 8 and conflict[("wjj-app-01", "cores")]["source"] == 4
    assert conflict[("wjj-app-01", "os_distribution")]["source"] == "ubuntu"
    assert all({"action", "section", "id", "external_id", "source", "file", "fields"} <= set(c) for c in out["changes"])

    applied = json.loads(gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini),
                            "-o", "json").stdout)
    assert applied["applied"] and applied["audit_seq"] == 1
    person_files = {k: v for k, v in before.items()}
    after = tree_digest(mini)
    assert {k: after[k] for k in person_files} == person_files       # no person file touched
    assert "hunter2" not in "".join(p.read_text(encoding="utf-8", errors="replace") for p in mini.rglob("*") if p.is_file())

    text = gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini), "--lang", "en").stdout
    assert "no changes" in text
    assert tree_digest(mini) == after                                   # nothing written, no audit entry
    assert len((mini / ".govcloud" / "audit.jsonl").read_text().splitlines()) == 1
    gc("audit", "verify", str(mini))
    res = json.loads(gc("inventory", "validate", str(mini), "-o", "json").stdout)
    assert res["ok"]
    # the person's value stands; the source's is in observed
    show = json.loads(gc("inventory", "show", str(mini), "wjj-app-01", "-o", "json").stdout)
    srv = show["record"]
    assert srv["cores"] == 8 and srv["observed"]["cores"] == 4


def test_bad_reference_exit_1_nothing_written(mini: Path, tmp_path: Path) -> None:
    nb = tmp_path / "netbox.json"
    nb.write_text(json.dumps({"virtual_machines": {"count": 1, "next": None, "previous": None, "results": [
        {"id": 9, "url": "http://nb.test/api/virtualization/virtual-machines/9/", "name": "orphan-vm",
         "site": {"id": 77, "name": "根本不存在的机房"}, "vcpus": 2, "memory": 2048, "disk": 20,
         "platform": {"id": 1, "name": "CentOS 7"}, "status": {"value": "active", "label": "Active"}}]}}),
        encoding="utf-8")
    before = tree_digest(mini)
    proc = gc("inventory", "import", str(nb), "--format", "netbox", "--into", str(mini), "-o", "json", rc=1)
    out = json.loads(proc.stdout)
    assert not out["ok"] and out["written"] == []
    err = next(p for p in out["problems"] if p["code"] == "unresolved-reference")
    assert err["field"] == "machine_room" and "根本不存在的机房" in err["message"]
    assert err["file"] == "netbox.json:virtual_machines.results[0]"
    assert tree_digest(mini) == before


def test_wrong_format_exit_1_nothing_written(mini: Path, hosts: Path) -> None:
    before = tree_digest(mini)
    xlsx = DATA / "rvtools-kubev2v-example1" / "example1.xlsx"
    if xlsx.exists():
        proc = gc("inventory", "import", str(xlsx), "--format", "netbox", "--into", str(mini), rc=1)
        assert "看起来应为 --format rvtools" in proc.stderr          # the user's language: Chinese by default
        proc = gc("inventory", "import", str(xlsx), "--format", "netbox", "--into", str(mini), "--lang", "en", rc=1)
        assert "looks like --format rvtools" in proc.stderr
    proc = gc("inventory", "import", str(hosts), "--format", "netbox", "--into", str(mini), "-o", "json", rc=1)
    out = json.loads(proc.stdout)
    assert any(p["code"] in ("netbox-json", "wrong-format") for p in out["problems"])
    assert tree_digest(mini) == before


OBSERVATIONS = """format_version: 1
observations:
  - source: discovery:ssh
    server: anjianju-s01-h01
    collected_at: "2024-05-01T10:00:00Z"
    facts: {kernel: 3.10.0-1160, listening: [], swap_gb: null, cores: 8}
  - source: discovery:ssh
    server: anjianju-s01-h01
    collected_at: "2024-06-01T10:00:00Z"
    facts: {kernel: 3.10.0-1160.el7, cores: 8}
  - source: import:rvtools
    server: anjianju-s01-h02
    collected_at: "2024-05-02T08:00:00Z"
    facts: {power_state: poweredOn}
  - source: discovery:ssh
    system: anjianju-s01
    collected_at: "2024-05-01T10:00:00Z"
    facts: {services: [nginx], cron: {}}
"""


EXECUTION_NODE = """format_version: 1
execution_nodes:
  - id: node-anjianju
    address: 198.18.1.68
    user: govcloud
    organizations: [anjianju]
"""


def _heyuan_with_observations(tmp_path: Path) -> Path:
    """heyuan plus what it lacks: observations (two for one server, one for another server and one
    for a system), a person's own `observed` on a server they also target, and an execution node."""
    src = tmp_path / "heyuan"
    shutil.copytree(REPO / "inventories" / "heyuan", src, ignore=shutil.ignore_patterns(".govcloud"))
    (src / "observed").mkdir()
    (src / "observed" / "discovery.yaml").write_text(OBSERVATIONS, encoding="utf-8")
    dept = src / "departments" / "anjianju.yaml"
    text = dept.read_text(encoding="utf-8")
    anchor = "  - id: anjianju-s01-h01\n"
    assert text.count(anchor) == 1
    dept.write_text(text.replace(anchor, anchor + "    observed: {cores: 4, asset_tag: HY-0097}\n"), encoding="utf-8")
    (src / "nodes.yaml").write_text(EXECUTION_NODE, encoding="utf-8")
    return src


def _generated_city(tmp_path: Path) -> Path:
    src = tmp_path / "city"
    gc("inventory", "generate", str(src), "--scale", "city", "--seed", "1")
    return src


def _assert_same_inventory(a, b) -> None:
    from govcloud.inventory.writer import to_plain
    from govcloud.model.entities import LIST_SECTIONS, SECTIONS

    key = lambda d: json.dumps(to_plain(d), sort_keys=True, default=str, ensure_ascii=False)  # noqa: E731
    assert a.meta is not None and key(a.meta) == key(b.meta)
    for s in SECTIONS:
        if s.key in LIST_SECTIONS:
            assert sorted(map(key, a.section(s.key))) == sorted(map(key, b.section(s.key))), s.key
        else:
            mine = {k: key(v) for k, v in a.section(s.key).items()}
            assert mine == {k: key(v) for k, v in b.section(s.key).items()}, s.key


@pytest.mark.parametrize("make", [_heyuan_with_observations, _generated_city], ids=["heyuan", "city"])
def test_export_import_round_trip_into_empty_directory(tmp_path: Path, make) -> None:
    """inventory → export --format json → import into a directory that does not exist → the same
    inventory: the inventory record and every section, as validated and as written."""
    from govcloud.inventory.loader import load_inventory
    from govcloud.inventory.validate import validate_path
    from govcloud.model.entities import SECTIONS

    src = make(tmp_path)
    ex = tmp_path / "export"
    gc("inventory", "export", str(src), "--format", "json", "--include-classified", "--out", str(ex))
    assert json.loads((ex / "inventory.json").read_text("utf-8"))["rows"][0]["region"]
    dest = tmp_path / "back"           # not created: the import makes a new inventory
    out = json.loads(gc("inventory", "import", str(ex), "--format", "govcloud", "--into", str(dest),
                        "-o", "json").stdout)
    assert out["ok"] and "inventory.yaml" in out["written"], out["problems"][:5]

    a, b = validate_path(src), validate_path(dest)
    assert not a.errors and not b.errors, b.errors[:5]
    counts = a.inventory.counts()
    # every section round-trips non-empty (the generated city has no observations or execution nodes)
    assert all(counts[s.key] > 0 for s in SECTIONS
               if s.key not in ("observations", "execution_nodes") or make is _heyuan_with_observations), \
        counts
    _assert_same_inventory(a.inventory, b.inventory)                                 # merged views
    _assert_same_inventory(load_inventory(src).inventory, load_inventory(dest).inventory)   # as written
    if make is _heyuan_with_observations:
        srv = b.inventory.servers["anjianju-s01-h01"]
        assert srv.observed["asset_tag"] == "HY-0097" and srv.observed["cores"] == 8   # an observation won
        assert srv.observed["swap_gb"] is None and srv.observed["listening"] == []
        assert load_inventory(dest).inventory.servers["anjianju-s01-h01"].observed == {"cores": 4,
                                                                                        "asset_tag": "HY-0097"}

        # observations included, a second import of the same export changes nothing
        again = json.loads(gc("inventory", "import", str(ex), "--format", "govcloud", "--into", str(dest),
                              "-o", "json").stdout)
        assert again["no_changes"] and again["written"] == []
    gc("audit", "verify", str(dest))
    gc("inventory", "validate", str(dest))


def test_redacted_export_into_empty_existing_directory(tmp_path: Path) -> None:
    """An empty directory is a new inventory too. An export without --include-classified comes
    back without the classified systems (warned), with everything else and the inventory record."""
    from govcloud.inventory.validate import validate_path
    from govcloud.inventory.writer import to_plain

    src = tmp_path / "heyuan"        # a copy: an export is recorded in the inventory's audit log
    shutil.copytree(REPO / "inventories" / "heyuan", src, ignore=shutil.ignore_patterns(".govcloud"))
    ex = tmp_path / "export"
    gc("inventory", "export", str(src), "--format", "json", "--out", str(ex))
    dest = tmp_path / "empty"
    dest.mkdir()
    out = json.loads(gc("inventory", "import", str(ex), "--format", "govcloud", "--into", str(dest),
                        "-o", "json").stdout)
    codes = [p["code"] for p in out["problems"]]
    src = validate_path(src).inventory
    classified = {s.id for s in src.systems.values() if s.is_classified}
    assert out["ok"] and "redacted-export" in codes and codes.count("redacted-row") == len(classified) > 0
    back = validate_path(dest)
    assert not back.errors
    assert to_plain(back.inventory.meta) == to_plain(src.meta)
    assert set(back.inventory.systems) == set(src.systems) - classified
    assert back.inventory.counts()["policies"] == 1 and back.inventory.counts()["cloud_zones"] == len(src.cloud_zones)


def test_import_into_new_directory(tmp_path: Path, hosts: Path) -> None:
    dest = tmp_path / "fresh"
    out = json.loads(gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(dest),
                        "-o", "json").stdout)
    assert out["ok"] and "inventory.yaml" in out["written"]
    assert out["summary"]["create"] == 4   # three servers and inventory.yaml
    gc("inventory", "validate", str(dest))
    gc("audit", "verify", str(dest))


def test_repeated_warnings_are_counted_errors_always_listed() -> None:
    from rich.console import Console

    from govcloud.inventory.problems import Problem
    from govcloud.model.enums import Severity
    from govcloud.render.console import render_problems

    probs = [Problem(Severity.warning, "orphan-server", f"server s{i} belongs to no system", file="f.yaml", line=i + 1)
             for i in range(45)]
    probs += [Problem(Severity.error, "bad-ref", f"error {i}", file="f.yaml", line=100 + i) for i in range(50)]
    probs.append(Problem(Severity.warning, "other", "once", file="f.yaml", line=200))
    for lang, more in (("en", "5 more [orphan-server] warnings not shown"), ("zh", "另有 5 条 [orphan-server] 警告未列出")):
        con = Console(record=True, width=200)
        render_problems(probs, con, lang, warnings_per_code=40)
        text = con.export_text()
        assert text.count("orphan-server]") == 41 and "s39 " in text and "s40 " not in text
        assert all(f"error {i}" in text for i in range(50)) and "once" in text and more in text
