"""The NetBox parser: public fixtures (2.x shapes), the 3.6 demo dump, and crafted 3.x/4.x API JSON
(units, status objects, IP assignment), then imported for real into an inventory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govcloud.interchange import formats
from govcloud.interchange.importer import run_import
from govcloud.interchange.netbox import parse
from govcloud.inventory.validate import validate_path
from shared_data import DATA  # noqa: E402

FIXTURES = DATA / "netbox-api-fixtures-pynetbox"
DEMO = DATA / "netbox-demo-data" / "netbox-demo-v3.6.json"


def page(*objs: dict) -> dict:
    return {"count": len(objs), "next": None, "previous": None, "results": list(objs)}


def api(version: int) -> dict:
    base = "http://nb.test/api"
    extra = (lambda kind, i: {"display_url": f"http://nb.test/{kind}/{i}/"}) if version >= 4 else (lambda k, i: {})
    return {
        "status": {"netbox-version": f"{version}.1.3"},
        "tenants": page({"id": 1, "url": f"{base}/tenancy/tenants/1/", "name": "市卫计局", "slug": "wjj", **extra("t", 1)}),
        "sites": page({"id": 3, "url": f"{base}/dcim/sites/3/", "name": "卫计局机房", "slug": "wjj-room",
                       "status": {"value": "active", "label": "Active"}, "tenant": {"id": 1, "name": "市卫计局"},
                       **extra("s", 3)}),
        "racks": page({"id": 5, "url": f"{base}/dcim/racks/5/", "name": "R01", "site": {"id": 3, "name": "卫计局机房"}}),
        "devices": page({"id": 7, "url": f"{base}/dcim/devices/7/", "name": "wjj-db-01",
                         "site": {"id": 3, "name": "卫计局机房"}, "rack": {"id": 5, "name": "R01"},
                         "status": {"value": "active", "label": "Active"}, "platform": {"id": 1, "name": "Red Hat Enterprise Linux 7"},
                         "primary_ip4": {"id": 11, "address": "198.18.10.13/24"}, **extra("d", 7)}),
        "virtual_machines": page({"id": 9, "url": f"{base}/virtualization/virtual-machines/9/", "name": "nb-vm-9",
                                  "site": {"id": 3, "name": "卫计局机房"}, "vcpus": 4.0, "memory": 8192,
                                  "disk": 51200 if version >= 4 else 50,
                                  "platform": {"id": 2, "name": "openEuler 22.03 LTS"},
                                  "status": {"value": "active", "label": "Active"}, **extra("v", 9)}),
        "ip_addresses": page({"id": 12, "url": f"{base}/ipam/ip-addresses/12/", "address": "198.18.40.9/24",
                              "assigned_object_type": "virtualization.vminterface", "assigned_object_id": 30,
                              "assigned_object": {"id": 30, "name": "eth0",
                                                  "virtual_machine": {"id": 9, "name": "nb-vm-9"}}}),
    }


@pytest.mark.parametrize("version", [3, 4])
def test_units_by_version(version: int, tmp_path: Path) -> None:
    p = tmp_path / "nb.json"
    p.write_text(json.dumps(api(version), ensure_ascii=False), encoding="utf-8")
    assert formats.sniff(p)[0] == "netbox"
    res = parse(p)
    assert not res.errors
    vm = next(r for r in res.records if r.external_id == "vm:9")
    assert vm.values["disks"] == [{"size_gb": 50.0}]          # 50 GB in 3.x, 51,200 MB in 4.x
    assert vm.values["cores"] == 4 and vm.values["ram_gb"] == 8.0
    assert vm.values["os_distribution"] == "openeuler" and vm.values["ips"] == ["198.18.40.9"]
    assert vm.extra["status"] == "active" and vm.extra["netbox_version"] == version
    dev = next(r for r in res.records if r.external_id == "device:7")
    assert dev.values["rack"] == "R01" and dev.values["ips"] == ["198.18.10.13"]
    site = next(r for r in res.records if r.section == "machine_rooms")
    assert site.values == {"name": "卫计局机房", "owner_org": "tenant:1", "racks": 1}


def test_version_from_display_url_without_status(tmp_path: Path) -> None:
    data = api(4)
    del data["status"]
    p = tmp_path / "nb.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    vm = next(r for r in parse(p).records if r.external_id == "vm:9")
    assert vm.values["disks"] == [{"size_gb": 50.0}]


def test_directory_of_endpoint_files_and_plain_lists(tmp_path: Path) -> None:
    data = api(4)
    d = tmp_path / "nb"
    d.mkdir()
    (d / "status.json").write_text(json.dumps(data["status"]), encoding="utf-8")
    for key in ("tenants", "sites", "racks", "devices", "ip_addresses"):
        (d / f"{key}.json").write_text(json.dumps(data[key]), encoding="utf-8")
    (d / "virtual-machines.json").write_text(json.dumps(data["virtual_machines"]["results"]), encoding="utf-8")
    res = parse(d)
    assert {r.external_id for r in res.records} == {"tenant:1", "site:3", "device:7", "vm:9"}
    vm = next(r for r in res.records if r.external_id == "vm:9")
    assert vm.provenance.file == "nb/virtual-machines.json" and vm.provenance.row == "[0]"


def test_import_observes_person_records_and_creates_vm(mini: Path, tmp_path: Path) -> None:
    p = tmp_path / "nb.json"
    p.write_text(json.dumps(api(4), ensure_ascii=False), encoding="utf-8")
    out = run_import("netbox", p, mini)
    assert out.ok, [str(x) for x in out.errors]
    by_ext = {c.external_id: c for c in out.changeset.changes}
    assert by_ext["tenant:1"].action == "observe" and by_ext["tenant:1"].id == "hy-wjj"   # 2018 alias
    assert by_ext["site:3"].action == "observe" and by_ext["site:3"].id == "room-wjj"
    assert by_ext["device:7"].action == "observe" and by_ext["device:7"].id == "wjj-db-01"
    assert by_ext["vm:9"].action == "create" and by_ext["vm:9"].id == "netbox-vm-9"
    res = validate_path(mini)
    assert not res.errors
    vm = res.inventory.servers["netbox-vm-9"]
    assert vm.machine_room == "room-wjj" and vm.observed["status"] == "active"
    db = res.inventory.servers["wjj-db-01"]
    assert db.rack is None and db.observed["rack"] == "R01"      # observed, never written into the field
    again = run_import("netbox", p, mini)
    assert again.ok and again.written == []


@pytest.mark.skipif(not FIXTURES.exists(), reason="shared NetBox fixtures not present")
def test_pynetbox_fixtures() -> None:
    res = parse(FIXTURES)
    assert not res.errors
    vm = next(r for r in res.records if r.external_id == "vm:1")
    assert vm.values["cores"] == 2 and vm.values["ram_gb"] == 1.0 and vm.values["disks"] == [{"size_gb": 500.0}]
    assert vm.extra["status"] == 1                                  # 2.x integer status kept as stated
    dev = next(r for r in res.records if r.external_id == "device:1")
    assert "10.0.255.1" in dev.values["ips"] and dev.values["machine_room"] == "site:1"


@pytest.mark.skipif(not DEMO.exists(), reason="shared NetBox demo data not present")
def test_demo_dump_into_empty_inventory(tmp_path: Path) -> None:
    res = parse(DEMO)
    assert sum(r.section == "organizations" for r in res.records) == 11
    assert sum(r.section == "machine_rooms" for r in res.records) == 24
    out = run_import("netbox", DEMO, tmp_path / "new", dry_run=True)
    assert out.ok
    counts = out.changeset.counts()
    # sites state no room type and VMs no vCPU count: listed as incomplete, never guessed
    assert counts["create"] == 12 and counts["incomplete"] > 200
    assert not (tmp_path / "new").exists()
