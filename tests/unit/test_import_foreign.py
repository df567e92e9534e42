"""Foreign files read right (issue 20): the shapes real exports take that the first readers got
wrong — RVTools partitions mounted at several paths, a Hyper-V export in RVTools' layout, NetBox
natural-key and 4.x dumps, unnamed devices and tenant-less captures, a different template given
as the AWS one, Ansible directories with a plugin configuration, inventory variables for
OS/CPU/RAM, link-local addresses and a stray SyntaxWarning. Every record is imported, reported
(incomplete, with its row) or refused with the reason; nothing is written into an empty
directory for an import that creates nothing."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from govcloud.interchange import ansible_inventory, cloudcsv, netbox, rvtools
from govcloud.interchange.importer import run_import
from shared_data import DATA  # noqa: E402
from test_import_ansible import _compare  # noqa: E402
from test_import_tabular import VDISK_HDR, write_rvtools  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EXAMPLE1 = DATA / "rvtools-kubev2v-example1" / "example1.xlsx"
KOLLA = DATA / "ansible-inventories" / "kolla-ansible" / "multinode"
UUID1 = "4201aaaa-0000-0000-0000-000000000001"
UUID2 = "4201aaaa-0000-0000-0000-000000000002"
VPART_HDR = ["VM", "Disk", "Disk Key", "Capacity MiB", "Consumed MiB", "Free MiB", "VM UUID"]


def gc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args, "--lang", "en"], capture_output=True,
                          text=True, timeout=300, cwd=REPO)


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


# ---------------------------------------------------------------- RVTools


def test_rvtools_file_system_mounted_at_several_paths_counts_once(tmp_path: Path) -> None:
    """One ext4 on /var seen again at a container's volume subpath and a bind mount: one
    consumption; two different file systems on the same disk still add up."""
    sheets = {
        "vDisk": (VDISK_HDR, [
            ["web01", "poweredOn", "False", "Hard disk 1", 2000, 102400, UUID1, "vc"],
            ["db01", "poweredOn", "False", "Hard disk 1", 2000, 51200, UUID2, "vc"],
        ]),
        "vPartition": (VPART_HDR, [
            ["web01", "/var", 2000, 101822, 45082, 56740, UUID1],
            ["web01", "/var/lib/kubelet/pods/x/volume-subpaths/nginx-conf", 2000, 101822, 45082, 56740, UUID1],
            ["web01", "/srv/bind", 2000, 101822, 45082, 56740, UUID1],
            ["db01", "/", 2000, 20480, 10240, 10240, UUID2],
            ["db01", "/data", 2000, 30720, 20480, 10240, UUID2],
        ]),
    }
    res = rvtools.parse(write_rvtools(tmp_path / "rv.xlsx", sheets=sheets))
    assert not res.errors
    by = {r.values["hostname"]: r for r in res.records}
    assert by["web01"].values["disks"] == [{"size_gb": 100.0, "name": "Hard disk 1", "used_gb": 44.03}]
    assert by["db01"].values["disks"] == [{"size_gb": 50.0, "name": "Hard disk 1", "used_gb": 30.0}]


def test_rvtools_used_over_size_is_reported_not_stored(tmp_path: Path) -> None:
    sheets = {
        "vDisk": (VDISK_HDR, [["web01", "poweredOn", "False", "Hard disk 1", 2000, 10240, UUID1, "vc"]]),
        "vPartition": (VPART_HDR, [["web01", "/", 2000, 20480, 15360, 5120, UUID1],
                                   ["web01", "/home", 2000, 8192, 4096, 4096, UUID1]]),
    }
    res = rvtools.parse(write_rvtools(tmp_path / "rv.xlsx", sheets=sheets))
    web = next(r for r in res.records if r.values["hostname"] == "web01")
    assert web.values["disks"] == [{"size_gb": 10.0, "name": "Hard disk 1"}]
    p = next(p for p in res.problems if p.code == "import.used_exceeds_size")
    assert p.file.endswith("/rv.xlsx:vDisk") and p.line == 2 and "rows 2, 3" in p.message and "19.0 GiB of 10.0 GiB" in p.message


@pytest.mark.skipif(not EXAMPLE1.exists(), reason="shared RVTools sample not present")
def test_rvtools_public_sample_used_never_exceeds_size() -> None:
    res = rvtools.parse(EXAMPLE1)
    disks = [d for r in res.records for d in r.values.get("disks", [])]
    assert len(res.records) == 9 and disks
    assert all(d.get("used_gb", 0) <= d["size_gb"] for d in disks)
    assert sum("used_gb" in d for d in disks) == 4     # vm-5/6/7/9: vm-8's partition is on disk 2000, its disk is 2001
    assert all(r.values.get("hypervisor") == "vmware" for r in res.records)   # VM UUIDs / vCenter columns


def test_hyperv_export_in_rvtools_layout_lists_every_vm_and_writes_nothing(tmp_path: Path) -> None:
    """No OS columns filled, no VM UUID, no vCenter: every VM is listed incomplete with its row
    (not silence), none claims to be VMware, and an empty directory stays empty."""
    f = tmp_path / "hyperv.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["VM", "Powerstate", "Template", "CPUs", "Memory", "Provisioned MB",
                    "OS according to the configuration file", "OS according to the VMware Tools", "Host"])
        for i in range(1, 6):
            w.writerow([f"hv-vm-{i:02d}", "Running", "", 4, 8192, 102400, "", "", "hyperv01"])
    res = rvtools.parse(f)
    assert len(res.records) == 5 and all("hypervisor" not in r.values for r in res.records)
    target = tmp_path / "empty"
    target.mkdir()
    out = run_import("rvtools", f, target)
    assert out.ok and out.written == []
    inc = [c for c in out.changeset.changes if c.action == "incomplete"]
    assert [c.where for c in inc] == [f"hyperv.csv:row {i}" for i in range(2, 7)]
    assert all(c.fields == ["os_distribution"] for c in inc)
    assert not (target / "inventory.yaml").exists()
    assert not any(p.name != ".govcloud" for p in target.iterdir())


# ---------------------------------------------------------------- NetBox

def _dump(*objs: tuple[str, int | None, dict]) -> list[dict]:
    out = []
    for model, pk, fields in objs:
        o = {"model": model, "fields": fields}
        if pk is not None:
            o["pk"] = pk
        out.append(o)
    return out


def _nb_base(vm_fields: dict | None = None) -> list[tuple[str, int | None, dict]]:
    return [
        ("tenancy.tenant", 1, {"name": "市数据局", "slug": "sjj"}),
        ("dcim.site", 2, {"name": "数据局机房", "slug": "sjj-room", "tenant": 1}),
        ("dcim.platform", 3, {"name": "openEuler 22.03", "slug": "oe"}),
        ("dcim.device", 4, {"name": "sjj-sw-01", "site": 2, "platform": 3, "primary_ip4": None}),
        ("dcim.interface", 5, {"device": 4, "name": "eth0"}),
        ("ipam.ipaddress", 6, {"address": "198.18.6.6/24", "assigned_object_type": ["dcim", "interface"],
                               "assigned_object_id": 5}),
        ("ipam.ipaddress", 7, {"address": "fe80::6/64", "assigned_object_type": ["dcim", "interface"],
                               "assigned_object_id": 5}),
        ("virtualization.cluster", 8, {"name": "c1", "site": 2}),
        ("virtualization.virtualmachine", 9, {"name": "sjj-vm-9", "cluster": 8, "site": 2, "platform": 3,
                                              "vcpus": "2.00", "memory": 4096, "disk": 40960, **(vm_fields or {})}),
    ]


def test_netbox_natural_foreign_dump_reads_content_types(tmp_path: Path) -> None:
    """``dumpdata --natural-foreign``: content types are ["dcim", "interface"] — read, not a crash."""
    f = tmp_path / "nb.json"
    f.write_text(json.dumps(_dump(*_nb_base()), ensure_ascii=False), encoding="utf-8")
    dev = next(r for r in netbox.parse(f).records if r.external_id == "device:4")
    assert dev.values["ips"] == ["198.18.6.6"]                 # fe80:: is no server address
    proc = gc("inventory", "import", str(f), "--format", "netbox", "--into", str(tmp_path / "new"),
              "--dry-run", "-o", "json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "new").exists()


@pytest.mark.parametrize("marker, mb", [
    ({"model": "dcim.macaddress", "pk": 50, "fields": {"mac_address": "00:50:56:00:00:01"}}, True),        # 4.2
    ({"model": "dcim.racktype", "pk": 51, "fields": {"model": "R42"}}, True),                              # 4.1
    ({"model": "virtualization.cluster", "pk": 52, "fields": {"name": "c2", "scope_type": ["dcim", "site"],
                                                             "scope_id": 2}}, True),                        # 4.2
    ({"model": "tenancy.contactassignment", "pk": 53, "fields": {"object_type": ["dcim", "site"]}}, False),  # 4.0: GB
    (None, False),                                                                                           # 3.x
])
def test_netbox_dump_version_from_its_own_fields(marker: dict | None, mb: bool, tmp_path: Path) -> None:
    data = _dump(*_nb_base()) + ([marker] if marker else [])
    f = tmp_path / "nb.json"
    f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    vm = next(r for r in netbox.parse(f).records if r.external_id == "vm:9")
    # 40,960 is MB from NetBox 4.1 on (40 GB); before, GB (a 40 TB disk is what 3.x/4.0 meant by it)
    assert vm.values["disks"] == [{"size_gb": 40.0 if mb else 40960.0}]
    assert vm.extra["disk_unit"] == ("MB" if mb else "GB")
    assert vm.extra["netbox_version"] == (4 if marker else 3)


def test_netbox_stated_version_wins_and_4_0_is_gb(tmp_path: Path) -> None:
    for version, size in (("4.0.11", 40960.0), ("v4.1.0", 40.0), ("3.7.8", 40960.0)):
        f = tmp_path / "nb.json"
        f.write_text(json.dumps({"status": {"netbox-version": version}, "virtual_machines": [
            {"id": 9, "url": "http://nb/api/virtualization/virtual-machines/9/", "name": "v", "disk": 40960,
             "display_url": "http://nb/virtualization/virtual-machines/9/"}]}), encoding="utf-8")
        vm = next(r for r in netbox.parse(f).records if r.external_id == "vm:9")
        assert vm.values["disks"] == [{"size_gb": size}], version


def test_netbox_unnamed_device_is_reported_with_its_place(tmp_path: Path) -> None:
    base = _nb_base() + [("dcim.device", 10, {"name": None, "site": 2, "platform": 3}),
                         ("dcim.device", None, {"name": "no-pk"})]
    f = tmp_path / "nb.json"
    f.write_text(json.dumps(_dump(*base), ensure_ascii=False), encoding="utf-8")
    out = run_import("netbox", f, tmp_path / "new", dry_run=True)
    assert out.ok
    c = next(c for c in out.changeset.changes if c.external_id == "device:10")
    assert c.action == "incomplete" and "hostname" in c.fields and c.where == "nb.json:[9]"
    nopk = next(p for p in out.problems if p.code == "netbox-no-id")
    assert nopk.file == "nb.json:[10]" and "device" in nopk.message


def test_netbox_rest_capture_without_tenants_is_incomplete_not_refused(tmp_path: Path) -> None:
    """Sites name tenants the capture does not hold (and the inventory does not know): those sites
    are incomplete; the VMs are imported; the import is not refused whole."""
    from test_import_netbox import api
    data = api(4)
    del data["tenants"]
    d = tmp_path / "capture"
    d.mkdir()
    for key, value in data.items():
        (d / f"{key}.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    target = tmp_path / "new"
    out = run_import("netbox", d, target)
    assert out.ok, [str(p) for p in out.errors]
    by = {c.external_id: c for c in out.changeset.changes}
    assert by["site:3"].action == "incomplete"
    assert any("owner_org ('市卫计局' is in neither the file nor the inventory)" in f for f in by["site:3"].fields)
    assert by["vm:9"].action == "create" and by["device:7"].action == "incomplete"
    assert (target / "imported" / "netbox.yaml").exists() and (target / "inventory.yaml").exists()


# ---------------------------------------------------------------- cloud CSV templates


def test_a_different_template_sharing_tags_is_refused_and_nothing_written(tmp_path: Path) -> None:
    """A Cloud Migration Factory intake sheet shares only Tags with the AWS import template."""
    f = tmp_path / "cmf-intake.csv"
    f.write_text("wave_id,app_name,server_name,server_fqdn,server_os_family,server_os_version,Tags\n"
                 "1,hisp,web01,web01.gov.test,linux,7.9,prod\n", encoding="utf-8")
    res = cloudcsv.parse_aws(f)
    assert res.records == []
    p = next(p for p in res.errors if p.code == "import.wrong_template")
    assert p.file.endswith("/cmf-intake.csv") and p.line == 1
    assert "ExternalId" in p.message and "HostName" in p.message and "shares only Tags" in p.message
    target = tmp_path / "empty"
    target.mkdir()
    proc = gc("inventory", "import", str(f), "--format", "aws-csv", "--into", str(target))
    assert proc.returncode == 1 and "import.wrong_template" in proc.stdout + proc.stderr
    assert not (target / "inventory.yaml").exists()
    dry = gc("inventory", "import", str(f), "--format", "aws-csv", "--into", str(tmp_path / "none"), "--dry-run")
    assert dry.returncode == 1 and not (tmp_path / "none").exists()


def test_azure_template_refusal_and_missing_columns_are_told_apart(tmp_path: Path) -> None:
    f = tmp_path / "az.csv"
    f.write_text("IP addresses,Tags\n198.18.0.1,x\n", encoding="utf-8")
    p = next(p for p in cloudcsv.parse_azure(f).errors if p.code == "import.wrong_template")
    assert "Server name" in p.message and "Memory (In MB)" in p.message and p.message.endswith("shares only IP addresses")
    f.write_text("Server name,IP addresses,Tags\nweb01,198.18.0.1,x\n", encoding="utf-8")
    res = cloudcsv.parse_azure(f)      # the template with columns missing: said column by column
    assert "import.wrong_template" not in codes(res)
    assert {p.field for p in res.errors if p.code == "import.missing_column"} == {"Cores", "Memory (In MB)", "OS name"}


def test_aws_template_with_its_key_column_still_reads_and_drops_link_local(tmp_path: Path) -> None:
    f = tmp_path / "aws.csv"
    f.write_text("HostName,IPAddress,CPU.NumberOfLogicalCores,RAM.TotalSizeInMB,OS.Name,Tags\n"
                 "web01,\"198.18.0.21,fe80::1,169.254.1.1\",4,8192,CentOS 7,x\n", encoding="utf-8")
    res = cloudcsv.parse_aws(f)
    assert not res.errors and res.records[0].values["ips"] == ["198.18.0.21"]


# ---------------------------------------------------------------- Ansible

PLUGIN = "plugin: amazon.aws.aws_ec2\nregions: [cn-north-1]\nkeyed_groups:\n  - key: tags.Role\n"


@pytest.mark.skipif(not KOLLA.exists(), reason="shared Ansible samples not present")
def test_directory_with_plugin_config_reads_the_static_files_like_ansible(tmp_path: Path) -> None:
    d = tmp_path / "inventory"
    d.mkdir()
    shutil.copy(KOLLA, d / "multinode")
    (d / "aws_ec2.yml").write_text(PLUGIN, encoding="utf-8")
    res = ansible_inventory.parse(d)
    assert not res.errors
    skipped = [p for p in res.problems if p.code == "ansible-skipped"]
    assert [p.file for p in skipped] == ["inventory/aws_ec2.yml"] and "amazon.aws.aws_ec2" in skipped[0].message
    assert {r.external_id for r in res.records} >= {"control01", "compute01", "localhost"}
    _compare(d)      # the real ansible-inventory: same hosts, groups and variables (it warns about the plugin)


def test_plugin_config_alone_is_refused_with_the_reason(tmp_path: Path) -> None:
    f = tmp_path / "aws_ec2.yml"
    f.write_text(PLUGIN, encoding="utf-8")
    res = ansible_inventory.parse(f)
    assert res.records == [] and res.errors[0].file == "aws_ec2.yml" and res.errors[0].line == 1
    assert "inventory plugin configuration" in res.errors[0].message
    d = tmp_path / "only"
    d.mkdir()
    (d / "gcp.yaml").write_text("plugin: google.cloud.gcp_compute\n", encoding="utf-8")
    res = ansible_inventory.parse(d)
    assert res.records == [] and "only inventory plugin configurations" in res.errors[0].message


def test_inventory_vars_give_os_cpu_ram_and_the_rest_is_incomplete(tmp_path: Path) -> None:
    """An Ansible-only shop: no cached facts. What the inventory states (address, groups, OS/CPU/RAM
    variables) is read; a host that states all three is created; one with an address but not all three
    is created marked incomplete (``census_missing``) for discover; one with no address is listed
    incomplete (not imported) with its line, what it lacks and why."""
    f = tmp_path / "hosts"
    f.write_text("[web]\n"
                 "web01 ansible_host=198.18.7.1 os='CentOS Linux 7.9' vcpus=4 memory=8G\n"
                 "web02 ansible_host=fe80::2%eth0\n"
                 "[db]\n"
                 "db01 ansible_host=198.18.7.3 ram_mb=16384 cpus=8 os_version=22.03\n"
                 "db02 ansible_host=198.18.7.4 memory=16 os='BeOS R5'\n"
                 "[db:vars]\n"
                 "os_name=openEuler\n", encoding="utf-8")
    res = ansible_inventory.parse(f)
    by = {r.external_id: r for r in res.records}
    assert by["web01"].values == {"hostname": "web01", "ips": ["198.18.7.1"], "os_distribution": "centos",
                                  "os_version": "7.9", "cores": 4, "ram_gb": 8.0}
    assert "ips" not in by["web02"].values                  # link-local: no address for discover
    assert by["db01"].values["os_distribution"] == "openeuler" and by["db01"].values["os_version"] == "22.03"
    assert by["db01"].values["cores"] == 8 and by["db01"].values["ram_gb"] == 16.0
    assert "ram_gb" not in by["db02"].values                # "16" states no unit: not guessed
    assert "os_distribution" not in by["db02"].values    # the host says BeOS: not replaced by its group's os_name
    assert by["db02"].extra["ansible_groups"] == ["db"]
    out = run_import("ansible", f, tmp_path / "new", dry_run=True)
    assert out.ok
    acts = {c.external_id: (c.action, c.where, c.fields) for c in out.changeset.changes if c.external_id}
    assert acts["web01"][0] == "create" and acts["db01"][0] == "create"
    assert acts["web02"] == ("incomplete", "hosts:row 3", ["cores", "ram_gb", "os_distribution"])
    web02 = next(c for c in out.changeset.changes if c.external_id == "web02")
    assert "no address to discover" in web02.note and "fe80::2%eth0" in web02.note
    assert acts["db02"][0] == "create"
    db02 = next(c for c in out.changeset.changes if c.external_id == "db02")
    assert db02.incomplete == ["cores", "ram_gb", "os_distribution", "cpu_arch"]
    assert "cores" not in db02.after and "ram_gb" not in db02.after and "os_distribution" not in db02.after
    assert db02.after["census_missing"] == db02.incomplete and db02.after["ips"] == ["198.18.7.4"]
    assert next(c for c in out.changeset.changes if c.external_id == "web01").incomplete == []


def test_ini_value_with_backslash_gives_no_syntax_warning(tmp_path: Path) -> None:
    f = tmp_path / "hosts.ini"
    f.write_text('[web]\nw1 ansible_host=198.18.7.9 path_re="^\\d+$" win="C:\\Program Files\\x"\n', encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = ansible_inventory.parse(f)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]
    assert res.records[0].extra["ansible_vars"]["path_re"] == "^\\d+$"
    proc = subprocess.run([sys.executable, "-W", "default", "-m", "govcloud", "inventory", "import", str(f),
                           "--format", "ansible", "--into", str(tmp_path / "new"), "--dry-run"],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0 and "SyntaxWarning" not in proc.stderr, proc.stderr
