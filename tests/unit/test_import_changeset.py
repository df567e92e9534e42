"""The import change set: create / update by external id / observe a person's record / conflicts /
missing, and the files it would write (pure compute, then the real importer on real files)."""

from __future__ import annotations

import json
from pathlib import Path

from govcloud.interchange import changeset as cs_mod
from govcloud.interchange.importer import run_import
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.inventory.loader import load_inventory
from govcloud.inventory.validate import validate_path
from govcloud.store import auditlog


def _rec(section: str, ext: str, values: dict, row: int = 2, match=(), extra=None) -> ImportedRecord:
    return ImportedRecord(section, ext, values, Provenance("src.csv", "0" * 64, "Sheet1", row), tuple(match),
                          extra or {})


def _compute(root: Path, records: list[ImportedRecord], fmt: str = "census", now: str = "2026-01-01T00:00:00Z"):
    inv = load_inventory(root).inventory

    def read_text(rel: str):
        p = root / rel
        return p.read_text(encoding="utf-8") if p.exists() else None
    return cs_mod.compute(inv, ParseResult(fmt, records), fmt=fmt, now=now, read_text=read_text)


NEW_VM = {"hostname": "new-vm-01", "cores": 2, "ram_gb": 4, "os_distribution": "openEuler",
          "machine_room": "卫计局机房", "ips": ["198.18.20.1"]}


def test_create_resolves_names_and_derives_ids(mini: Path) -> None:
    cs = _compute(mini, [_rec("servers", "VM-UUID-1", NEW_VM, match=[("hostname", "new-vm-01")])])
    assert not cs.errors, cs.errors
    (c,) = [c for c in cs.changes if c.action == "create"]
    assert c.id == "census-vm-uuid-1" and c.where == "src.csv:Sheet1:row 2"
    text = cs.files["imported/census.yaml"]
    line = next(line for line in text.splitlines() if "census-vm-uuid-1" in line)
    rec = json.loads(line.strip().rstrip(","))
    assert rec["machine_room"] == "room-wjj"           # the room's name became its id
    assert rec["os_distribution"] == "openeuler"       # the label became the key
    prov = json.loads(cs.files["imported/census.provenance.json"])["records"]["servers/VM-UUID-1"]
    assert prov["provenance"] == {"file": "src.csv", "sha256": "0" * 64, "sheet": "Sheet1", "row": 2}


def test_person_value_never_overwritten_conflict_and_observation(mini: Path) -> None:
    rec = _rec("servers", "host-a", {"hostname": "wjj-app-01", "cores": 4, "ram_gb": 16, "kernel": "3.10"},
               match=[("hostname", "wjj-app-01")])
    cs = _compute(mini, [rec])
    assert [c.action for c in cs.changes] == ["observe"]
    assert [(c.id, c.field, c.inventory, c.source) for c in cs.conflicts] == [("wjj-app-01", "cores", 8, 4)]
    assert set(cs.files) == {"observed/import-census.yaml", "imported/census.provenance.json"}
    obs = cs.files["observed/import-census.yaml"]
    assert '"server": "wjj-app-01"' in obs and '"kernel": "3.10"' in obs


def test_unresolved_reference_is_an_error_naming_the_row(mini: Path) -> None:
    bad = dict(NEW_VM, machine_room="没有这个机房")
    sys_rec = _rec("systems", "S1", {"name": "新系统", "owner_org": "不存在的局", "network_zone": "政务外网"}, row=7)
    cs = _compute(mini, [_rec("servers", "x", bad, row=5), sys_rec])
    errs = {(p.code, p.line, p.field) for p in cs.errors}
    assert ("unresolved-reference", 5, "machine_room") in errs
    assert ("unresolved-reference", 7, "owner_org") in errs
    assert cs.files == {}


def test_org_reference_by_2018_alias_and_reference_to_record_of_same_import(mini: Path) -> None:
    recs = [_rec("servers", "vm-1", NEW_VM, row=2),
            _rec("systems", "S1", {"name": "新系统", "owner_org": "卫计局", "network_zone": "政务外网",
                                   "servers": ["vm-1"]}, row=3)]
    cs = _compute(mini, recs)
    assert not cs.errors, cs.errors
    line = next(x for x in cs.files["imported/census.yaml"].splitlines() if '"新系统"' in x)
    rec = json.loads(line.strip().rstrip(","))
    assert rec["owner_org"] == "hy-wjj" and rec["servers"] == ["census-vm-1"]


def test_incomplete_record_listed_not_created(mini: Path) -> None:
    cs = _compute(mini, [_rec("servers", "half", {"hostname": "half-01"})])
    (c,) = cs.changes
    assert c.action == "incomplete" and set(c.fields) == {"cores", "ram_gb", "os_distribution"}
    assert not cs.errors and "imported/census.yaml" not in cs.files


def test_apply_reimport_newer_file_and_missing(mini: Path, tmp_path: Path) -> None:
    src = tmp_path / "hosts.ini"
    src.write_text("[web]\nweb01 ansible_host=198.18.30.1 ansible_distribution=CentOS ansible_processor_vcpus=2 "
                   "ansible_memtotal_mb=4096\nweb02 ansible_host=198.18.30.2 ansible_distribution=CentOS "
                   "ansible_processor_vcpus=2 ansible_memtotal_mb=4096\n", encoding="utf-8")
    first = run_import("ansible", src, mini, now="2026-01-01T00:00:00Z")
    assert first.ok and first.audit_seq == 1
    assert first.changeset.counts()["create"] == 2
    again = run_import("ansible", src, mini, now="2026-02-01T00:00:00Z")
    assert again.ok and again.written == [] and again.changeset.counts()["unchanged"] == 2
    assert len(auditlog.read(mini)) == 1
    # a newer file: web01 grew, web02 is gone
    src.write_text("[web]\nweb01 ansible_host=198.18.30.1 ansible_distribution=CentOS ansible_processor_vcpus=8 "
                   "ansible_memtotal_mb=4096\n", encoding="utf-8")
    newer = run_import("ansible", src, mini, now="2026-03-01T00:00:00Z")
    counts = newer.changeset.counts()
    assert (counts["update"], counts["missing"], counts["create"]) == (1, 1, 0)
    upd = next(c for c in newer.changeset.changes if c.action == "update")
    assert upd.id == "ansible-web01" and upd.fields == ["cores"]
    inv = validate_path(mini)
    assert not inv.errors
    assert inv.inventory.servers["ansible-web01"].cores == 8
    assert "ansible-web02" in inv.inventory.servers        # listed as missing, never deleted
    assert auditlog.verify(mini) == [] and len(auditlog.read(mini)) == 2
    entry = auditlog.read(mini)[-1]
    # field names with keyed digests of the values, never the imported text itself
    assert entry["action"] == "import"
    assert entry["after"]["records"]["servers/ansible-web01"]["cores"] == auditlog.value_digest(8)
    assert entry["before"]["records"]["servers/ansible-web01"]["cores"] == auditlog.value_digest(2)
    assert auditlog.value_digest(8) != auditlog.value_digest(2)


def test_taken_over_record_is_observed_not_updated(mini: Path, tmp_path: Path) -> None:
    """A person moves an imported record into their own file: later imports only observe it."""
    src = tmp_path / "hosts.ini"
    src.write_text("web01 ansible_host=198.18.30.1 ansible_distribution=CentOS ansible_processor_vcpus=2 "
                   "ansible_memtotal_mb=4096\n", encoding="utf-8")
    assert run_import("ansible", src, mini).ok
    owned = mini / "imported" / "ansible.yaml"
    line = next(x for x in owned.read_text(encoding="utf-8").splitlines() if "ansible-web01" in x)
    rec = json.loads(line.strip().rstrip(","))
    rec.pop("observed", None)
    rec["cores"] = 6
    (mini / "mine.yaml").write_text("format_version: 1\nservers:\n  - " + json.dumps(rec, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
    owned.unlink()
    out = run_import("ansible", src, mini)
    assert out.ok, out.problems
    assert [c.action for c in out.changeset.changes] == ["observe"]
    assert [(c.field, c.inventory, c.source) for c in out.changeset.conflicts] == [("cores", 6, 2)]
    assert validate_path(mini).inventory.servers["ansible-web01"].cores == 6
