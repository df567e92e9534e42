"""The CLI's JSON contract and exit codes, through the installed entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from govcloud.base.reader import read_document
from govcloud.inventory.schema import inventory_schema
from govcloud.inventory.writer import render_document

from invtree import write_inventory_tree


def gc(*args: str, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    if check_rc is not None:
        assert proc.returncode == check_rc, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    return proc


def test_version() -> None:
    from govcloud import __version__
    assert gc("--version").stdout.strip() == f"govcloud {__version__}"


def test_show_json_contract(mini: Path) -> None:
    data = json.loads(gc("inventory", "show", str(mini), "--output", "json").stdout)
    assert {o["id"]: o["aliases"] for o in data["organizations"]}["hy-wjj"] == ["卫计局", "卫生计生局"]
    assert data["machine_rooms"][1] == {"id": "room-wjj", "name": "卫计局机房", "owner_org": "hy-wjj",
                                        "room_type": "dept_self_built", "status": "in_use"}
    srv = {s["id"]: s for s in data["servers"]}["wjj-db-01"]
    assert {k: srv[k] for k in ("hostname", "machine_room", "cpu_arch", "os_distribution", "os_version",
                                "cores", "ram_gb", "systems")} == {
        "hostname": "wjj-db-01", "machine_room": "room-wjj", "cpu_arch": "x86_64", "os_distribution": "rhel",
        "os_version": "7.4", "cores": 16, "ram_gb": 64, "systems": ["wjj-hisp", "wjj-phis"]}
    assert srv["os_eol"] == "2024-06-30"
    sys_ = {s["id"]: s for s in data["systems"]}["wjj-hisp"]
    assert {k: sys_[k] for k in ("name", "owner_org", "secrecy", "build_mode", "lifecycle", "mlps_level",
                                 "network_zone", "servers")} == {
        "name": "全民健康信息平台", "owner_org": "hy-wjj", "secrecy": "non_classified", "build_mode": "self_built",
        "lifecycle": "in_service", "mlps_level": 3, "network_zone": "gov_extranet",
        "servers": ["wjj-app-01", "wjj-db-01"]}
    assert data["databases"] == [{"id": "wjj-oracle", "engine": "oracle", "version": None,
                                  "servers": ["wjj-db-01"], "used_by": ["wjj-hisp", "wjj-phis"]}]
    assert data["dependencies"][0] | {} == {"from": "wjj-phis", "to": "wjj-hisp", "type": "sync_api",
                                            "latency_sensitive": True, "criticality": "medium", "bridge": None}
    zone = {z["id"]: z for z in data["cloud_zones"]}["hy-intranet-zone"]
    assert zone["accepts_classified"] is True and zone["platform"] == "hy-intranet" and zone["mlps_level"] == 3
    assert {z["id"]: z["capacity"]["vcpus"] for z in data["cloud_zones"]}["hy-x86"] == 2000


def test_filters_resolve_2018_names_and_labels(mini: Path) -> None:
    # 卫计局 is the 2018 alias; the filter also takes the Chinese label of a zone
    data = json.loads(gc("inventory", "show", str(mini), "--department", "卫计局", "--zone", "政务外网",
                         "--output", "json").stdout)
    assert sorted(s["id"] for s in data["systems"]) == ["wjj-hisp", "wjj-phis"]
    none = json.loads(gc("inventory", "show", str(mini), "--department", "国土局", "-o", "json").stdout)
    assert none["systems"] == [] and none["servers"] == []
    lst = json.loads(gc("inventory", "list", str(mini), "--kind", "servers", "--room", "room-wjj",
                        "-o", "json").stdout)
    assert lst["total"] == 3


def test_stats_json(mini: Path) -> None:
    data = json.loads(gc("inventory", "stats", str(mini), "--eol-on", "2025-01-01", "-o", "json").stdout)
    assert (data["organizations"], data["systems"], data["servers"]) == (4, 2, 3)
    assert data["by_mlps_level"] == {"2": 1, "3": 1}
    assert data["by_os_distribution"] == {"centos": 2, "rhel": 1}
    assert data["by_cpu_arch"] == {"x86_64": 3}
    assert data["by_room"] == {"room-wjj": 3}
    assert data["eol_os_servers"] == 3  # CentOS 6/7 and RHEL 7 are all past EOL in 2025
    assert data["by_department"][0] == {"org": "hy-wjj", "name": "河源市卫生和计划生育局", "systems": 2, "servers": 4}


def test_text_output_is_chinese_by_default_and_english_on_request(mini: Path) -> None:
    zh = gc("inventory", "stats", str(mini)).stdout
    assert "按等保级别" in zh and "非涉密" in zh
    en = gc("inventory", "stats", str(mini), "--lang", "en").stdout
    assert "by MLPS level" in en and "non-classified" in en


def test_show_one_record(mini: Path) -> None:
    out = json.loads(gc("inventory", "show", str(mini), "wjj-db-01", "-o", "json").stdout)
    assert out["kind"] == "server" and out["file"] == "departments/hy-wjj.yaml"
    assert out["record"]["systems"] == ["wjj-hisp", "wjj-phis"]
    missing = gc("inventory", "show", str(mini), "nope", check_rc=1)
    assert "中没有编号为 'nope' 的记录" in missing.stderr          # the user's language: Chinese by default
    missing = gc("inventory", "show", str(mini), "nope", "--lang", "en", check_rc=1)
    assert "no record with id 'nope'" in missing.stderr


def test_browsing_a_broken_inventory_stops_with_its_errors(tmp_path: Path) -> None:
    root = write_inventory_tree(tmp_path, {"organizations.yaml": "format_version: 1\norganizations: oops\n"})
    proc = gc("inventory", "stats", str(root), "-o", "json", check_rc=1)
    assert proc.stdout == "" and "wrong-type" in proc.stderr


def test_bad_option_value_is_a_usage_error(mini: Path) -> None:
    proc = gc("inventory", "list", str(mini), "--lifecycle", "dead", "--lang", "en", check_rc=2)
    assert "--lifecycle 'dead' is not one of" in proc.stderr


@pytest.mark.parametrize("style", ["block", "lines"])
def test_schema_accepts_what_the_writer_writes(mini: Path, tmp_path: Path, style: str) -> None:
    schema = json.loads(gc("inventory", "schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    from govcloud.inventory.validate import validate_path
    inv = validate_path(mini).inventory
    out = tmp_path / "x.yaml"
    out.write_text(render_document({"systems": list(inv.systems.values()), "servers": list(inv.servers.values()),
                                    "cloud_zones": list(inv.cloud_zones.values()),
                                    "policies": list(inv.policies.values())}, style=style), encoding="utf-8")
    data = json.loads(json.dumps(read_document(out).data, default=str))
    assert list(validator.iter_errors(data)) == []
    data["systems"][0]["colour"] = "red"
    data["servers"][0]["cpu_arch"] = "z80"
    assert len(list(validator.iter_errors(data))) == 2


def test_schema_written_to_file(tmp_path: Path) -> None:
    gc("inventory", "schema", "--out", str(tmp_path / "s.json"))
    assert json.loads((tmp_path / "s.json").read_text())["properties"]["format_version"]["const"] == 1
    assert inventory_schema()["$defs"]["Secrecy"]["enum"] == ["non_classified", "非涉密", "classified", "涉密"]


@pytest.mark.parametrize("argv, message", [
    (["inventory", "validate", "a", "b"], "Got unexpected extra argument(s) (b)"),
    (["plan", "show", "x", "y"], "Got unexpected extra argument(s) (y)"),
    (["inventory", "validate", "--bogus", "x"], "No such option: --bogus"),
    (["plan", "show"], "Missing argument"),
    (["nosuch"], "No such command 'nosuch'"),
])
def test_click_usage_errors_are_usage_errors_not_bugs(argv: list[str], message: str) -> None:
    # typer may raise from its vendored click (typer._click), not the installed click: the boundary
    # must still print click's usage message and exit 2, never "internal error" with exit 70
    proc = gc(*argv, check_rc=2)          # Chinese by default (test_help_lang); click's own English with --lang en
    assert "internal error" not in proc.stderr and "内部错误" not in proc.stderr and proc.stderr.startswith("用法：")
    proc = gc(*argv, "--lang", "en", check_rc=2)
    assert "internal error" not in proc.stderr
    assert proc.stderr.startswith("Usage: ") and "govcloud" in proc.stderr.splitlines()[0]
    assert f"Error: {message}" in proc.stderr


def test_group_without_a_command_prints_its_help_once() -> None:
    proc = gc("inventory", check_rc=2)
    assert "internal error" not in proc.stderr
    out = proc.stdout + proc.stderr
    assert "validate" in out and out.count("Usage:") == 1 and "Error:" not in out
