"""Inventory exports (XLSX, CSV, JSON, HTML) of the Heyuan example, read back from real files."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from govcloud.cli.export import export as export_cmd
from govcloud.inventory import export as ex
from govcloud.inventory.validate import validate_path
from govcloud.model.inventory import Inventory
from govcloud.store import auditlog

HEYUAN = Path(__file__).resolve().parents[2] / "inventories" / "heyuan"
SHEETS_ZH = ["部门", "机房", "信息系统", "服务器", "数据库实例", "系统依赖", "政务信息资源目录", "信息系统普查表"]
TABLES = ["departments", "machine_rooms", "systems", "servers", "databases", "dependencies", "catalogue", "census"]
MARK = "涉密，详情不予导出"


@pytest.fixture(scope="module")
def inv() -> Inventory:
    result = validate_path(HEYUAN)
    assert not result.errors
    return result.inventory


@pytest.fixture(scope="module")
def classified(inv: Inventory) -> dict:
    ids = {s.id for s in inv.systems.values() if s.is_classified}
    assert ids, "the Heyuan example has classified systems"
    servers = {sid for sid, users in inv.server_systems.items() if all(u in ids for u in users)}
    dbs = {d.id for d in inv.databases.values() if d.used_by and all(u in ids for u in d.used_by)}
    deps = [d for d in inv.dependencies if d.from_ in ids or d.to in ids]
    return {"systems": ids, "servers": servers, "databases": dbs, "dependencies": deps}


def expected_rows(inv: Inventory, classified: dict | None) -> dict[str, int]:
    c = classified or {"servers": (), "databases": (), "dependencies": ()}
    return {"departments": len(inv.organizations), "machine_rooms": len(inv.machine_rooms),
            "systems": len(inv.systems), "servers": len(inv.servers) - len(c["servers"]),
            "databases": len(inv.databases) - len(c["databases"]),
            "dependencies": len(inv.dependencies) - len(c["dependencies"]),
            "catalogue": len(inv.resources), "census": len(inv.systems)}


@pytest.fixture(scope="module")
def exports(inv: Inventory, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("exports")
    out = {}
    for fmt in ex.FORMATS:
        ex.export_inventory(inv, base / fmt, fmt=fmt, source=str(HEYUAN))
        out[fmt] = base / fmt
    ex.export_inventory(inv, base / "xlsx-en", fmt="xlsx", lang="en")
    out["xlsx-en"] = base / "xlsx-en"
    ex.export_inventory(inv, base / "json-all", fmt="json", include_classified=True)
    out["json-all"] = base / "json-all"
    return out


def sheet_rows(ws) -> list[dict]:
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


# ---------------------------------------------------------------- XLSX


def test_xlsx_sheets_headers_and_counts(exports, inv, classified) -> None:
    wb = openpyxl.load_workbook(exports["xlsx"] / "inventory.xlsx", read_only=False)
    assert wb.sheetnames == SHEETS_ZH
    counts = expected_rows(inv, classified)
    for name, key in zip(SHEETS_ZH, TABLES):
        ws = wb[name]
        assert ws.max_row - 1 == counts[key], name
        assert ws.freeze_panes == "A2"
    header = [c.value for c in wb["信息系统"][1]]
    assert header[:3] == ["编号", "信息系统名称", "业主单位"]
    assert {"是否涉密", "等保级别", "网络环境", "建设模式", "立项审批·审批文号", "导出说明"} <= set(header)
    census = [c.value for c in wb["信息系统普查表"][1]]
    for col in ("部门全称", "信息系统名称", "系统类型", "建设模式", "上级主管部门", "立项审批部门", "审批文号",
                "审批时间", "资金来源", "总投资(万元)", "年运维费用(万元)", "运行状态", "使用范围", "用户数",
                "网络环境", "是否涉密", "等保级别", "备案证明编号", "部署位置", "机房名称", "服务器数量",
                "数据量(GB)"):
        assert col in census, col
    # sensible widths: every column set, none absurd
    ws = wb["信息系统"]
    assert 8 <= ws.column_dimensions["B"].width <= 60


def test_xlsx_cell_values_use_chinese_labels(exports, inv) -> None:
    wb = openpyxl.load_workbook(exports["xlsx"] / "inventory.xlsx")
    rows = {r["编号"]: r for r in sheet_rows(wb["信息系统"])}
    s = next(s for s in inv.systems.values() if not s.is_classified and s.mlps_level)
    row = rows[s.id]
    assert row["信息系统名称"] == s.name
    assert row["网络环境"] == s.network_zone.zh
    assert row["建设模式"] == s.build_mode.zh
    assert row["是否涉密"] == "非涉密"
    assert row["等保级别"] == s.mlps_level
    assert row["导出说明"] is None
    servers = {r["编号"]: r for r in sheet_rows(wb["服务器"])}
    srv = inv.servers[s.servers[0]]
    assert servers[srv.id]["操作系统"] == srv.os_distribution.zh
    assert servers[srv.id]["CPU核数"] == srv.cores
    census = {r["系统编号"]: r for r in sheet_rows(wb["信息系统普查表"])}
    c = census[s.id]
    assert c["部门全称"] == inv.organizations[s.owner_org].name
    assert c["服务器数量"] == len(s.servers)
    assert c["运行状态"] == s.lifecycle.zh
    assert c["序号"] == list(inv.systems).index(s.id) + 1
    assert srv.os_distribution.zh in c["操作系统"]


def test_xlsx_english_headers_and_labels(exports, inv) -> None:
    wb = openpyxl.load_workbook(exports["xlsx-en"] / "inventory.xlsx")
    assert wb.sheetnames[:3] == ["departments", "machine rooms", "systems"]
    rows = sheet_rows(wb["systems"])
    assert list(rows[0])[:3] == ["id", "name", "owner"]
    by_id = {r["id"]: r for r in rows}
    s = next(s for s in inv.systems.values() if not s.is_classified)
    assert by_id[s.id]["network zone"] == s.network_zone.en
    assert by_id[s.id]["secrecy"] == "non-classified"
    cls = next(s for s in inv.systems.values() if s.is_classified)
    assert by_id[cls.id]["export note"] == ex.REDACTED["en"]
    census = {r["system id"]: r for r in sheet_rows(wb["census form"])}
    srv = inv.servers[s.servers[0]]
    assert srv.os_distribution.en in census[s.id]["operating systems"]
    assert census[s.id]["department (full name)"] == inv.organizations[s.owner_org].name


def test_xlsx_classified_redacted(exports, inv, classified) -> None:
    wb = openpyxl.load_workbook(exports["xlsx"] / "inventory.xlsx")
    rows = {r["编号"]: r for r in sheet_rows(wb["信息系统"])}
    for sid in classified["systems"]:
        s, row = inv.systems[sid], rows[sid]
        assert row["信息系统名称"] == s.name and row["业主单位"] == s.owner_org
        assert row["是否涉密"] == "涉密" and row["密级"] == s.secrecy_grade.zh and row["运行状态"] == s.lifecycle.zh
        assert row["导出说明"] == MARK
        assert row["网络环境"] is None and row["服务器"] is None and row["系统简介"] is None
    servers = {r["编号"] for r in sheet_rows(wb["服务器"])}
    assert not servers & classified["servers"]
    census = {r["系统编号"]: r for r in sheet_rows(wb["信息系统普查表"])}
    for sid in classified["systems"]:
        assert census[sid]["导出说明"] == MARK and census[sid]["服务器数量"] is None
    info = json.loads((exports["xlsx"] / ex.INFO).read_text("utf-8"))
    assert info["classified"] == "redacted"
    assert info["tables"]["servers"]["withheld"] == len(classified["servers"])


def test_xlsx_same_content_as_openpyxl_write_only(exports, inv, tmp_path: Path) -> None:
    """Our streaming writer against openpyxl itself writing the very same cell values: every
    sheet reads back identically (values and types), with the same sheet order and frozen header."""
    tables = ex.build_tables(inv)
    ref = openpyxl.Workbook(write_only=True)
    for t in tables:
        ws = ref.create_sheet(ex._sheet_name(t.title("zh")))
        ws.append([c.label("zh") for c in t.columns])
        for row in t.rows:
            ws.append([ex.cell(v, "zh") for v in row])
    ref.save(tmp_path / "ref.xlsx")
    theirs = openpyxl.load_workbook(tmp_path / "ref.xlsx")
    ours = openpyxl.load_workbook(exports["xlsx"] / "inventory.xlsx")
    assert ours.sheetnames == theirs.sheetnames == SHEETS_ZH
    n = 0
    for name in SHEETS_ZH:
        a = list(ours[name].iter_rows(values_only=True))
        b = list(theirs[name].iter_rows(values_only=True))
        assert a == b, name
        assert [type(v) for r in a for v in r] == [type(v) for r in b for v in r], name
        n += sum(1 for r in a for v in r if v is not None)
        assert ours[name].freeze_panes == "A2"
        if len(a) > 1:
            width = len(a[0])
            assert ours[name].auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(width)}{len(a)}"
    assert n > 1000
    assert ours.properties.title.startswith(inv.meta.name) and ours.properties.creator.startswith("govcloud")
    header = ours["信息系统"]["A1"]
    assert header.font.b and header.fill.fgColor.rgb.endswith("DDEBF7")


# ---------------------------------------------------------------- CSV, JSON, HTML


def test_csv_one_file_per_table_with_bom(exports, inv, classified) -> None:
    counts = expected_rows(inv, classified)
    for key in TABLES:
        raw = (exports["csv"] / f"{key}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), key
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert len(rows) - 1 == counts[key], key
    rows = list(csv.DictReader((exports["csv"] / "systems.csv").read_text("utf-8-sig").splitlines()))
    assert list(rows[0])[:2] == ["编号", "信息系统名称"]
    s = next(s for s in inv.systems.values() if not s.is_classified)
    row = next(r for r in rows if r["编号"] == s.id)
    assert row["运行状态"] == s.lifecycle.zh
    assert row["是否24小时运行"] in ("是", "否")


def test_json_keeps_enum_keys(exports, inv, classified) -> None:
    counts = expected_rows(inv, classified)
    for key in TABLES:
        doc = json.loads((exports["json"] / f"{key}.json").read_text("utf-8"))
        assert doc["table"] == key and len(doc["rows"]) == counts[key]
    doc = json.loads((exports["json"] / "systems.json").read_text("utf-8"))
    assert doc["columns"][1] == {"key": "name", "label": "信息系统名称"}
    by_id = {r["id"]: r for r in doc["rows"]}
    s = next(s for s in inv.systems.values() if not s.is_classified)
    assert by_id[s.id]["network_zone"] == s.network_zone.value
    assert by_id[s.id]["servers"] == list(s.servers)
    cls = next(iter(classified["systems"]))
    assert by_id[cls]["secrecy"] == "classified" and by_id[cls]["servers"] is None
    assert by_id[cls]["export_note"] == MARK


def test_json_carries_every_section_for_the_round_trip(exports, inv) -> None:
    """JSON is the machine format: the inventory record and every section besides the eight tables;
    the exports for people keep the eight."""
    meta = json.loads((exports["json-all"] / "inventory.json").read_text("utf-8"))
    assert meta["rows"] == [ex.plain(inv.meta)] and meta["title"] == "清单信息"
    for key in ex.MACHINE_SECTIONS:
        doc = json.loads((exports["json-all"] / f"{key}.json").read_text("utf-8"))
        assert len(doc["rows"]) == len(inv.section(key)), key
    zone = {r["id"]: r for r in json.loads((exports["json-all"] / "cloud_zones.json").read_text("utf-8"))["rows"]}
    z = next(iter(inv.cloud_zones.values()))
    assert zone[z.id]["capacity"]["vcpus"] == z.capacity.vcpus and zone[z.id]["network_zone"] == z.network_zone.value
    pol = json.loads((exports["json-all"] / "policies.json").read_text("utf-8"))["rows"][0]
    p = next(iter(inv.policies.values()))
    assert [b["id"] for b in pol["batches"]] == [b.id for b in p.batches]
    assert pol["thresholds"]["headroom_pct"] == p.thresholds.headroom_pct
    assert not (exports["csv"] / "regions.csv").exists() and not (exports["csv"] / "inventory.csv").exists()
    assert "行政区划" not in (exports["html"] / "inventory.html").read_text("utf-8").split("<nav>")[1].split("</nav>")[0]
    # redacted: takeovers of classified systems are withheld like their systems' servers
    classified = {s.id for s in inv.systems.values() if s.is_classified}
    shown = json.loads((exports["json"] / "takeovers.json").read_text("utf-8"))["rows"]
    assert len(shown) == sum(1 for t in inv.takeovers.values() if t.system not in classified)
    assert not {r["system"] for r in shown} & classified


def test_json_observed_as_written_and_observations(inv, tmp_path: Path) -> None:
    """Observations are their own table; a record's `observed` is exported as written when given,
    else as merged (which loads back to the same merged view)."""
    from govcloud.model.entities import Observation
    server = next(iter(inv.servers.values()))
    merged = {"cores": 4, "kernel": "5.10", "_sources": [{"source": "discovery:ssh", "collected_at": "2024-05-01"}]}
    obs = Observation(source="discovery:ssh", server=server.id, collected_at="2024-05-01",
                      facts={"kernel": "5.10", "ports": []})
    copy = Inventory(**{k: getattr(inv, k) for k in ("meta", "regions", "organizations", "machine_rooms",
                                                     "systems", "databases", "dependencies", "resources",
                                                     "cloud_platforms", "cloud_zones", "takeovers",
                                                     "freeze_windows", "policies")})
    copy.servers = dict(inv.servers)
    copy.servers[server.id] = dataclasses.replace(server, observed=merged)
    copy.observations = [obs]
    rows = lambda d, t: {r.get("id"): r for r in json.loads((d / f"{t}.json").read_text("utf-8"))["rows"]}  # noqa: E731
    ex.export_inventory(copy, tmp_path / "a", fmt="json", include_classified=True,
                        observed_as_written={("servers", server.id): {"cores": 4}})
    assert rows(tmp_path / "a", "servers")[server.id]["observed"] == {"cores": 4}
    assert list(rows(tmp_path / "a", "observations").values()) == [
        {"source": "discovery:ssh", "server": server.id, "system": None, "collected_at": "2024-05-01",
         "facts": {"kernel": "5.10", "ports": []}}]
    ex.export_inventory(copy, tmp_path / "b", fmt="json", include_classified=True)
    assert rows(tmp_path / "b", "servers")[server.id]["observed"] == merged
    ex.export_inventory(copy, tmp_path / "c", fmt="csv", observed_as_written={("servers", server.id): {"cores": 4}})
    assert "5.10" in (tmp_path / "c" / "servers.csv").read_text("utf-8-sig")   # people see the merged view


def test_include_classified_exports_everything(exports, inv, classified) -> None:
    counts = expected_rows(inv, None)
    for key in TABLES:
        doc = json.loads((exports["json-all"] / f"{key}.json").read_text("utf-8"))
        assert len(doc["rows"]) == counts[key], key
    by_id = {r["id"]: r for r in json.loads((exports["json-all"] / "systems.json").read_text("utf-8"))["rows"]}
    for sid in classified["systems"]:
        assert by_id[sid]["servers"] == list(inv.systems[sid].servers)
        assert by_id[sid]["network_zone"] == inv.systems[sid].network_zone.value
        assert by_id[sid]["export_note"] is None
    info = json.loads((exports["json-all"] / ex.INFO).read_text("utf-8"))
    assert info["classified"] == "included"


def test_html_is_self_contained(exports, inv) -> None:
    text = (exports["html"] / "inventory.html").read_text("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for title in SHEETS_ZH:
        assert title in text
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "<link" not in text
    assert MARK in text
    assert text.count("<tr>") >= len(inv.systems)


# ---------------------------------------------------------------- manifest


def test_manifest_covers_every_file_and_sha256sum_agrees(exports) -> None:
    for fmt in ex.FORMATS:
        d = exports[fmt]
        listed = [line.split("  ", 1)[1] for line in (d / ex.MANIFEST).read_text().splitlines()]
        assert sorted(listed) == sorted(p.name for p in d.iterdir() if p.name != ex.MANIFEST)
        assert ex.verify_export(d) == []
    if shutil.which("sha256sum"):
        proc = subprocess.run(["sha256sum", "-c", "--strict", ex.MANIFEST], cwd=exports["csv"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_verify_detects_modified_missing_and_extra(inv, tmp_path: Path) -> None:
    d = tmp_path / "out"
    ex.export_inventory(inv, d, fmt="csv")
    assert ex.verify_export(d) == []
    with (d / "systems.csv").open("ab") as fh:
        fh.write(b"x,y\r\n")
    (d / "servers.csv").unlink()
    (d / "notes.txt").write_text("added later")
    found = {(p.code, p.path) for p in ex.verify_export(d)}
    assert found == {("modified", "systems.csv"), ("missing", "servers.csv"), ("extra", "notes.txt")}
    (d / ex.MANIFEST).unlink()
    assert [p.code for p in ex.verify_export(d)] == ["manifest"]


def test_verify_cli(inv, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("export")(export_cmd)
    app.command("other")(lambda: None)  # a group, so "export" is a subcommand as under `govcloud inventory`
    d = tmp_path / "out"
    ex.export_inventory(inv, d, fmt="json")
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--verify", str(d)])
    assert res.exit_code == 0, res.output
    (d / "census.json").write_text("{}")
    res = runner.invoke(app, ["export", "--verify", str(d)])
    assert res.exit_code == 1 and "modified: census.json" in res.output
    res = runner.invoke(app, ["export", "--verify", str(d), "--output", "json"])
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["problems"][0]["code"] == "modified"


# ---------------------------------------------------------------- atomicity


def test_failure_midway_leaves_nothing(inv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ex.write_atomic
    calls = {"n": 0}

    def flaky(path, data, **kw):
        calls["n"] += 1
        if calls["n"] > 1:
            raise OSError(28, "No space left on device")
        return real(path, data, **kw)

    monkeypatch.setattr(ex, "write_atomic", flaky)
    d = tmp_path / "new"
    with pytest.raises(OSError):
        ex.export_inventory(inv, d, fmt="csv")
    assert calls["n"] == 2
    assert not d.exists()
    assert list(tmp_path.iterdir()) == []  # no temp directory left behind either


def test_failure_midway_leaves_previous_export_unchanged(inv, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "out"
    ex.export_inventory(inv, d, fmt="csv")
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    real = ex.write_atomic
    calls = {"n": 0}

    def flaky(path, data, **kw):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("disk gone")
        return real(path, data, **kw)

    monkeypatch.setattr(ex, "write_atomic", flaky)
    with pytest.raises(RuntimeError):
        ex.export_inventory(inv, d, fmt="json", include_classified=True)
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_reexport_replaces_previous_but_refuses_foreign_dir(inv, tmp_path: Path) -> None:
    d = tmp_path / "out"
    ex.export_inventory(inv, d, fmt="csv")
    ex.export_inventory(inv, d, fmt="json")
    assert not list(d.glob("*.csv")) and (d / "systems.json").exists() and ex.verify_export(d) == []
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    with pytest.raises(ex.ExportError):
        ex.export_inventory(inv, foreign, fmt="csv")
    assert [p.name for p in foreign.iterdir()] == ["thesis.docx"]


# ---------------------------------------------------------------- CLI + audit


def test_cli_export_records_audit_entry(tmp_path: Path) -> None:
    inv_dir = tmp_path / "inv"
    shutil.copytree(HEYUAN, inv_dir, ignore=shutil.ignore_patterns(".govcloud"))  # never the working tree's git-ignored state
    app = typer.Typer()
    app.command("export")(export_cmd)
    app.command("other")(lambda: None)
    out = tmp_path / "exp"
    res = CliRunner().invoke(app, ["export", str(inv_dir), "--format", "xlsx", "--out", str(out),
                                   "--actor", "审计员甲", "--reason", "年度审计", "--output", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["classified"] == "redacted" and doc["format"] == "xlsx"
    entries = auditlog.read(inv_dir)
    assert len(entries) == 1
    e = entries[0]
    assert e["action"] == "export" and e["who"]["actor"] == "审计员甲" and e["reason"] == "年度审计"
    assert e["after"]["manifest_sha256"] == hashlib.sha256((out / ex.MANIFEST).read_bytes()).hexdigest()
    assert e["after"]["classified"] == "redacted"
    assert auditlog.verify(inv_dir) == []
    # usage errors: no --out
    res = CliRunner().invoke(app, ["export", str(inv_dir)])
    assert res.exit_code != 0


def test_values_never_become_formulas(tmp_path: Path) -> None:
    assert ex._csv_value("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert ex._csv_value("-1") == "'-1" and ex._csv_value(-1) == -1 and ex._csv_value(None) == ""
    from govcloud.inventory.xlsxstream import Sheet, write_workbook
    with (tmp_path / "f.xlsx").open("wb") as fh:
        write_workbook(fh, [Sheet("s", ["h"], [["=1+1"], ["+A1"], [" 前后空格 "], ["a\x01b"], [3], [2.5]], 6)])
    ws = openpyxl.load_workbook(tmp_path / "f.xlsx")["s"]
    c = ws["A2"]
    assert c.value == "=1+1" and c.data_type == "s"
    assert ws["A3"].value == "+A1" and ws["A4"].value == " 前后空格 "
    assert ws["A5"].value == "a_x0001_b"       # the OOXML escape of a control character XML cannot carry
    assert ws["A6"].value == 3 and ws["A7"].value == 2.5
