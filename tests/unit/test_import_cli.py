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

REPO = Path(__file__).resolve().parents[2]


def gc(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    if rc is not None:
        assert proc.returncode == rc, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


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
    xlsx = Path("/work/shared/data/rvtools-kubev2v-example1/example1.xlsx")
    if xlsx.exists():
        proc = gc("inventory", "import", str(xlsx), "--format", "netbox", "--into", str(mini), rc=1)
        assert "looks like --format rvtools" in proc.stderr
    proc = gc("inventory", "import", str(hosts), "--format", "netbox", "--into", str(mini), "-o", "json", rc=1)
    out = json.loads(proc.stdout)
    assert any(p["code"] in ("netbox-json", "wrong-format") for p in out["problems"])
    assert tree_digest(mini) == before


def test_export_import_round_trip_identical(tmp_path: Path) -> None:
    """heyuan → export --format json → import into a directory holding only what an export does
    not carry (inventory.yaml with regions, policy, cloud) → every record identical."""
    from govcloud.inventory.loader import load_inventory
    from govcloud.inventory.writer import to_plain

    src = tmp_path / "heyuan"
    shutil.copytree(REPO / "inventories" / "heyuan", src)
    ex = tmp_path / "export"
    gc("inventory", "export", str(src), "--format", "json", "--include-classified", "--out", str(ex))
    dest = tmp_path / "back"
    dest.mkdir()
    for name in ("inventory.yaml", "policy.yaml", "cloud.yaml"):
        shutil.copy(src / name, dest / name)
    out = json.loads(gc("inventory", "import", str(ex), "--format", "govcloud", "--into", str(dest),
                        "-o", "json").stdout)
    assert out["ok"] and out["summary"]["create"] > 3000, out["summary"]
    a, b = load_inventory(src).inventory, load_inventory(dest).inventory
    for section in ("organizations", "machine_rooms", "servers", "systems", "databases", "resources"):
        assert {k: to_plain(v) for k, v in a.section(section).items()} == \
               {k: to_plain(v) for k, v in b.section(section).items()}, section
    key = lambda d: json.dumps(to_plain(d), sort_keys=True, default=str)  # noqa: E731
    assert sorted(map(key, a.dependencies)) == sorted(map(key, b.dependencies))
    again = json.loads(gc("inventory", "import", str(ex), "--format", "govcloud", "--into", str(dest),
                          "-o", "json").stdout)
    assert again["no_changes"] and again["written"] == []
    gc("audit", "verify", str(dest))
    gc("inventory", "validate", str(dest))


def test_import_into_new_directory(tmp_path: Path, hosts: Path) -> None:
    dest = tmp_path / "fresh"
    out = json.loads(gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(dest),
                        "-o", "json").stdout)
    assert out["ok"] and "inventory.yaml" in out["written"]
    assert out["summary"]["create"] == 4   # three servers and inventory.yaml
    gc("inventory", "validate", str(dest))
    gc("audit", "verify", str(dest))
