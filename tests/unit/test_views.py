"""How output reads (issue 21): piped output is never wrapped (tables as tab-separated values), tables
on an 80-column terminal keep ids and numbers whole, record views label values and enums in the
chosen language, help texts carry no type placeholder for flags, no RST markup and no reference
to documents outside the repository — on the bundled Heyuan example and a plan generated from it."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from govcloud.cli.app import app
from govcloud.model.enums import NetworkZone, Secrecy
from govcloud.render import console as view

REPO = Path(__file__).resolve().parents[2]
HEYUAN = REPO / "inventories" / "heyuan"


def gc(*args: str, rc: int = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real entry point, stdout and stderr pipes (not a terminal), no COLUMNS: rich's default 80."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE")}
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=300,
                       cwd=REPO, env={**base, **(env or {})})
    assert "Traceback" not in p.stderr, p.stderr
    assert p.returncode == rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Path:
    """The Heyuan plan, written under a directory path far longer than 80 characters."""
    deep = tmp_path_factory.mktemp("views") / ("a-rather-long-directory-name-for-plans-" * 3) / "plans"
    p = gc("plan", "generate", str(HEYUAN), "--out", str(deep))
    plan_yaml = deep / "heyuan-2018" / "plan.yaml"
    assert len(str(plan_yaml)) > 120
    # the "wrote …" line names both files whole, on one line (it used to fold at 80 columns)
    wrote = [line for line in p.stderr.splitlines() if str(plan_yaml) in line]
    assert len(wrote) == 1 and str(deep / "heyuan-2018" / "plan.md") in wrote[0], p.stderr
    # the summary is one line: the count after 暂无法排期 is not broken off onto the next line
    summary = [line for line in p.stdout.splitlines() if "暂无法排期" in line]
    assert len(summary) == 1 and re.search(r"暂无法排期 \d+；硬性规则违反 0$", summary[0]), p.stdout
    return deep / "heyuan-2018"


# ---------------------------------------------------------------- piped: nothing wraps, tables are TSV


def _tsv(out: str) -> list[list[str]]:
    """The rows of the first piped table in ``out`` (after its ``# title`` line), header first."""
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("# "))
    rows = []
    for line in lines[start + 1:]:
        if not line or line.startswith("# ") or "\t" not in line:
            break
        rows.append(line.split("\t"))
    return rows


def test_piped_plan_show_is_tab_separated_and_unwrapped(plan: Path) -> None:
    out = gc("plan", "show", str(plan)).stdout
    rows = _tsv(out)
    assert rows[0] == ["批次", "时间", "截止", "系统", "服务器", "策略"]
    assert len(rows) == 1 + 13 and all(len(r) == 6 for r in rows), rows
    # a whole window and whole numbers per cell; the strategy mix of B01 is wider than 80 columns yet one cell
    b01 = next(r for r in rows if r[0].startswith("B01"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d – \d{4}-\d\d-\d\d", b01[1]) and b01[3].isdigit() and b01[4].isdigit()
    assert max(len(line) for line in out.splitlines()) > 80
    assert "…" not in out and "│" not in out and "━" not in out


def test_piped_inventory_tables_keep_long_values_on_one_line() -> None:
    out = gc("inventory", "list", str(HEYUAN), "--kind", "servers").stdout
    rows = _tsv(out)
    assert rows[0][0] == "编号" and len(rows) == 1 + 1557
    width = len(rows[0])
    assert all(len(r) == width for r in rows)
    assert {r[0] for r in rows[1:]} >= {"anjianju-s01-h01", "anjianju-s02-h01"}
    stats = gc("inventory", "stats", str(HEYUAN), "--eol-on", "2026-01-01").stdout
    assert "服务器\t1,557" in stats.splitlines(), stats[:500]
    assert any(re.fullmatch(r"磁盘合计\(GB\)\t[\d,]{7,}", line) for line in stats.splitlines())


def test_piped_record_view_and_stderr_lines_are_whole(plan: Path) -> None:
    p = gc("plan", "explain", str(plan), "anjianju-s01")
    lines = p.stdout.splitlines()
    assert lines[0].startswith("anjianju-s01 ") and lines[0].count("·") == 3   # id → batch · strategy · zone · day
    err = gc("plan", "show", str(plan / "nope" / ("x" * 100)), rc=1).stderr
    assert len([line for line in err.splitlines() if "x" * 100 in line]) == 1, err


# ---------------------------------------------------------------- terminal: readable at 80 columns


def _terminal(monkeypatch, width: int = 80) -> io.StringIO:
    buf = io.StringIO()
    monkeypatch.setattr(view, "stdout", lambda: view.SafeConsole(file=buf, width=width, force_terminal=True,
                                                                   color_system=None, highlight=False, markup=False))
    return buf


def _cells(line: str) -> int:
    from rich.cells import cell_len
    return cell_len(line)


def test_terminal_tables_fit_80_columns_and_keep_ids_and_numbers_whole(monkeypatch, plan: Path) -> None:
    buf = _terminal(monkeypatch)
    r = CliRunner().invoke(app, ["inventory", "list", str(HEYUAN), "--kind", "servers", "--limit", "40"])
    assert r.exit_code == 0, r.output
    text = buf.getvalue()
    assert text and max(_cells(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for sid in ("anjianju-s01-h01", "anjianju-s01-h02"):   # the key column is never broken
        assert re.search(rf"^{re.escape(sid)}\s", text, re.M), text[:2000]
    buf.truncate(0), buf.seek(0)
    r = CliRunner().invoke(app, ["inventory", "list", str(HEYUAN), "--limit", "40"])
    text = buf.getvalue()
    assert max(_cells(line) for line in text.splitlines()) <= 80 and "…" not in text
    assert text.count(Secrecy.non_classified.zh) >= 40 and text.count(NetworkZone.gov_extranet.zh) >= 10
    buf.truncate(0), buf.seek(0)
    r = CliRunner().invoke(app, ["plan", "show", str(plan)])
    text = buf.getvalue()
    assert max(_cells(line) for line in text.splitlines()) <= 80 and "…" not in text
    for day in ("2018-11-12", "2019-08-31", "2020-02-15"):  # dates whole
        assert day in text
    assert "\t" not in text


def test_fit_table_folds_instead_of_cutting() -> None:
    from rich.table import Table
    table = Table(title="t")
    for c in ("id", "name", "n"):
        table.add_column(c)
    long_word = "x" * 150
    table.add_row("sys-0001", long_word, "12345678")
    buf = io.StringIO()
    view.SafeConsole(file=buf, width=80, force_terminal=True, color_system=None).print(table)
    text = buf.getvalue()
    assert "sys-0001" in text and "12345678" in text and "…" not in text
    assert text.count("x") == 150 and max(_cells(line) for line in text.splitlines()) <= 80


# ---------------------------------------------------------------- record views


def test_record_view_labels_values_and_enums_in_the_chosen_language() -> None:
    zh = gc("inventory", "show", str(HEYUAN), "anjianju-s01").stdout
    rows = _tsv(zh)
    assert rows[0] == ["字段", "值"]
    assert ["网络环境 (network_zone)", NetworkZone.gov_extranet.zh] in rows     # the field's label and its key
    values = dict((re.sub(r"^.* \((\w+)\)$", r"\1", r[0]), r[1]) for r in rows[1:])
    assert values["network_zone"] == NetworkZone.gov_extranet.zh
    assert "gov_extranet" not in zh and "filed" not in values.values() and "non_classified" not in zh
    assert re.search(r"[\u4e00-\u9fff]", values["mlps_status"])
    en = gc("inventory", "show", str(HEYUAN), "anjianju-s01", "--lang", "en").stdout
    rows = _tsv(en)
    assert rows[0] == ["field", "value"]
    values = dict((re.sub(r"^.* \((\w+)\)$", r"\1", r[0]), r[1]) for r in rows[1:])
    assert values["network_zone"] == NetworkZone.gov_extranet.en
    assert not re.search(r"[\u4e00-\u9fff]", values["network_zone"] + values["mlps_status"])


# ---------------------------------------------------------------- help texts


def _command_paths() -> list[list[str]]:
    out: list[list[str]] = []

    def walk(c, path):
        out.append(path)
        for n, sub in getattr(c, "commands", {}).items():
            walk(sub, path + [n])
    walk(typer.main.get_command(app), [])
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help_texts_have_no_flag_placeholders_rst_or_outside_documents(lang: str) -> None:
    runner = CliRunner()
    paths = _command_paths()
    assert len(paths) > 25
    for path in paths:
        r = runner.invoke(app, path + ["--help"], env={"GOVCLOUD_LANG": lang, "COLUMNS": "250"})
        assert r.exit_code == 0, (path, r.output)
        for bad in ("<bool>", "``", "DOMAIN.md"):
            assert bad not in r.output, (path, bad, r.output)
    # options that take a value still say what kind of value
    r = runner.invoke(app, ["plan", "generate", "--help"], env={"COLUMNS": "250"})
    assert "<path>" in r.output and "<int range>" in r.output and "--force" in r.output


def test_every_command_group_has_its_chinese_label() -> None:
    r = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "250"})
    listed = {line.split()[1]: line for line in r.output.splitlines() if line.startswith("│ ") and len(line.split()) > 2}
    for name in ("inventory", "plan", "migrate", "compliance", "audit", "report"):
        assert re.search(r"[\u4e00-\u9fff]+ — ", listed[name]), (name, listed.get(name))
    assert "报告 — " in listed["report"]


# ---------------------------------------------------------------- plan show views


SCHEMA = REPO / "tests" / "unit" / "schemas" / "plan-show.schema.json"


def _validator():
    import json

    import jsonschema
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _json(*args: str) -> dict:
    import json
    p = gc(*args)
    data = json.loads(p.stdout)          # exactly one document on stdout
    _validator().validate(data)
    return data


def _org_short_names() -> dict[str, str]:
    from govcloud.inventory.loader import load_inventory
    inv = load_inventory(HEYUAN).inventory
    return {o.id: o.short_name or o.name for o in inv.organizations.values()}


def test_plan_show_systems_lists_every_scheduled_system(plan: Path) -> None:
    from govcloud.model.enums import Strategy
    from govcloud.store.planfile import read_plan
    p = read_plan(plan / "plan.yaml")
    data = _json("plan", "show", str(plan), "--systems", "-o", "json")
    rows = data["systems"]
    assert [r["system"] for r in rows] == [i.system for b in p.batches for i in b.items] and len(rows) == 355
    names = _org_short_names()
    first = p.batches[0].items[0]
    row = rows[0]
    assert row["batch"] == p.batches[0].id and row["deadline"] == str(p.batches[0].deadline)
    assert row["department"] == first.owner_org and row["department_name"] == names[first.owner_org]
    assert row["target_zone"] == first.target_zone and row["flavor"] == first.primary.flavor
    assert row["cutover"] == str(first.cutover) and Strategy(row["strategy"]) is first.strategy
    text = gc("plan", "show", str(plan), "--systems").stdout
    table = _tsv(text)
    assert table[0] == ["批次", "系统", "名称", "部门", "策略", "目标资源池", "规格", "割接日期", "截止"]
    assert len(table) == 1 + 355
    t0 = table[1]
    assert t0[1] == first.system and t0[3] == names[first.owner_org] and t0[4] == first.strategy.zh
    en = _tsv(gc("plan", "show", str(plan), "--systems", "--lang", "en").stdout)
    assert en[0][0] == "batch" and en[1][4] == first.strategy.en


def test_plan_show_unscheduled_gives_each_reason_in_the_chosen_language(plan: Path) -> None:
    from govcloud.render.reasons import render_all
    from govcloud.store.planfile import read_plan
    p = read_plan(plan / "plan.yaml")
    data = _json("plan", "show", str(plan), "--unscheduled", "-o", "json", "--lang", "en")
    rows = data["unscheduled"]
    assert {r["system"] for r in rows if r["status"] == "unscheduled"} == {u.system for u in p.unscheduled}
    assert {r["system"] for r in rows if r["status"] == "retained"} == {r.system for r in p.retained}
    u = p.unscheduled[0]
    row = next(r for r in rows if r["system"] == u.system)
    assert row["reasons"] == u.reasons and row["reasons_text"] == render_all(u.reasons, "en")
    zh = gc("plan", "show", str(plan), "--unscheduled").stdout
    table = _tsv(zh)
    assert table[0] == ["系统", "名称", "部门", "情况", "原因"] and len(table) == 1 + 45 + 30
    line = next(r for r in table if r[0] == u.system)
    assert line[3] == "暂无法排期" and line[4] == "；".join(render_all(u.reasons, "zh"))
    assert {r[3] for r in table[1:]} == {"暂无法排期", "保留"}
    # Chinese output words enum keys by their labels (政务外网, not gov_extranet)
    for key in ("gov_extranet", "gov_intranet", "national_vertical", "x86_64 资源池"):
        assert key not in zh, key
    # ... and so does English output (e-government extranet)
    en = gc("plan", "show", str(plan), "--unscheduled", "--lang", "en").stdout
    assert "extranet" in en
    for key in ("gov_extranet", "gov_intranet", "national_vertical"):
        assert key not in en, key


def test_plan_show_rooms_and_by_room(plan: Path) -> None:
    from govcloud.store.planfile import read_plan
    p = read_plan(plan / "plan.yaml")
    data = _json("plan", "show", str(plan), "--rooms", "-o", "json")
    rows = data["rooms"]
    assert [r["room"] for r in rows] == [r.room for r in p.rooms]
    for r, room in zip(rows, p.rooms):
        assert r["empty_by"] == (str(room.empty_by) if room.empty_by else None)
        assert r["blocked_by"] == list(room.blocked_by) and r["deadline_missed"] == room.deadline_missed
    assert _json("plan", "show", str(plan), "--by", "room", "-o", "json")["rooms"] == rows
    table = _tsv(gc("plan", "show", str(plan), "--rooms").stdout)
    assert table[0] == ["机房", "腾空日期", "租约到期/关停日期", "尚未腾空原因"] and len(table) == 1 + len(p.rooms)
    emptied = next(room for room in p.rooms if room.empty_by)
    line = next(t for t in table if t[0].endswith(f"({emptied.room})"))
    assert line[1] == str(emptied.empty_by)


def test_plan_show_by_department_prints_short_names(plan: Path) -> None:
    names = _org_short_names()
    table = _tsv(gc("plan", "show", str(plan), "--by", "department").stdout)
    shown = [r[0] for r in table[1:]]
    assert "市安全监管局" in shown and "anjianju" not in shown
    assert set(shown) <= set(names.values())
    data = _json("plan", "show", str(plan), "--by", "department", "-o", "json")
    by_id = {r["department"]: r for r in data["departments"]}
    assert by_id["anjianju"]["department_name"] == names["anjianju"] == "市安全监管局"
    total = sum(r["systems"] for r in data["departments"])
    assert total == 355 and sum(r["retained"] + r["unscheduled"] for r in data["departments"]) == 75


def test_plan_show_json_default_is_the_whole_plan(plan: Path) -> None:
    data = _json("plan", "show", str(plan), "-o", "json")
    assert "view" not in data and len(data["batches"]) == 13 and data["approval"]["status"] == "unapproved"


def test_plan_show_views_are_exclusive_and_names_fall_back_to_ids(plan: Path, tmp_path: Path) -> None:
    import shutil
    p = gc("plan", "show", str(plan), "--systems", "--rooms", rc=2)
    assert "--systems" in p.stderr
    copy = tmp_path / "moved"       # the plan without its inventory beside it: ids, and a note why
    shutil.copytree(plan, copy)
    yaml_file = copy / "plan.yaml"
    text = yaml_file.read_text(encoding="utf-8")
    yaml_file.write_text(re.sub(r'^"inventory": "[^"]*",$', '"inventory": "../no-such-inventory",', text, count=1,
                                flags=re.M), encoding="utf-8")
    assert "no-such-inventory" in yaml_file.read_text(encoding="utf-8")
    p = gc("plan", "show", str(copy), "--systems")
    assert "部门名称不可用" in p.stderr
    table = _tsv(p.stdout)
    assert len(table) == 1 + 355 and all(r[3].isascii() for r in table[1:])     # department ids


# ---------------------------------------------------------------- --output json everywhere data is printed


def test_every_command_takes_output_json() -> None:
    missing = []

    def walk(c, path):
        if hasattr(c, "commands"):
            for n, sub in c.commands.items():
                walk(sub, path + [n])
        elif not any("--output" in getattr(p, "opts", ()) for p in c.params):
            missing.append(" ".join(path))
    walk(typer.main.get_command(app), [])
    assert not missing, missing


def _one_json(p: subprocess.CompletedProcess) -> dict:
    import json
    data = json.loads(p.stdout)          # exactly one document: json.loads refuses anything after it
    assert p.stdout.count("\n") == 1 and isinstance(data, dict)
    return data


def test_generate_report_template_schema_print_one_json_document(plan: Path, tmp_path: Path) -> None:
    gen = _one_json(gc("inventory", "generate", str(tmp_path / "gen"), "--scale", "city", "--seed", "2", "-o", "json"))
    assert gen["out"] == str(tmp_path / "gen") and gen["scale"] == "city" and gen["seed"] == 2
    assert gen["systems"] > 100 and gen["servers"] > gen["systems"] and (tmp_path / "gen" / "inventory.yaml").is_file()
    rep = _one_json(gc("report", str(plan), "--out", str(tmp_path / "r.md"), "--format", "md", "-o", "json"))
    assert rep == {"out": str(tmp_path / "r.md"), "bytes": (tmp_path / "r.md").stat().st_size, "format": "md",
                   "lang": "zh"}
    form = _one_json(gc("inventory", "template", "census", "--out", str(tmp_path / "c.csv"), "-o", "json"))
    assert form["format"] == "csv" and form["columns"] > 10 and (tmp_path / "c.csv").is_file()
    sch = _one_json(gc("inventory", "schema", "--out", str(tmp_path / "s.json"), "-o", "json"))
    assert sch == {"out": str(tmp_path / "s.json"), "bytes": (tmp_path / "s.json").stat().st_size}
    # text mode: what was written is people's text, on stderr
    p = gc("report", str(plan), "--out", str(tmp_path / "r2.md"), "--format", "md")
    assert p.stdout == "" and "已写入" in p.stderr


def test_import_view_names_sections_in_the_chosen_language(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text("[web]\nweb-a-rather-long-host-name-of-the-finance-department.example.gov.cn "
                     "ansible_host=198.18.1.200\nweb2 ansible_host=198.18.1.201\n", encoding="utf-8")
    out = gc("inventory", "import", "-f", "ansible", "--into", str(tmp_path / "inv"), str(hosts)).stdout
    rows = [line.split("\t") for line in out.splitlines() if "\t" in line]
    sections = {r[0] for r in rows if len(r) == 5 and r[0] != "类别"}
    assert "服务器" in sections and "servers" not in sections and "inventory" not in sections, out
    # the long host name is one cell of one line, not folded
    assert any(r[2] == "web-a-rather-long-host-name-of-the-finance-department.example.gov.cn" for r in rows if len(r) == 5)
    en = gc("inventory", "import", "-f", "ansible", "--into", str(tmp_path / "inv2"), str(hosts), "--lang", "en").stdout
    assert "servers\tansible-web2\tweb2" in en, en


def test_under_a_real_terminal_tables_keep_to_columns_80(plan: Path) -> None:
    """The same command under a pseudo-terminal (COLUMNS=80): box-drawn, not tab-separated, no line wider
    than the terminal, nothing cut to "…"."""
    import pty
    from rich.cells import cell_len
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR")}
    env.update(COLUMNS="80", LINES="50", TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "govcloud", "plan", "show", str(plan), "--rooms"],
                            stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8")).replace("\r", "")
    # the progress bar (stderr, redrawn in place: ━) is not the table
    lines = [line for line in text.splitlines() if line.strip() and "━" not in line]
    assert "\t" not in text and "─" in text and "…" not in "\n".join(lines), text[:1500]
    assert max(cell_len(line) for line in lines) <= 80, max(lines, key=cell_len)
    assert re.search(r"\b2019-08-17\b", text)       # a room's empty-by date, whole
