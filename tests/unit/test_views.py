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
    values = dict((r[0], r[1]) for r in rows[1:])
    assert values["network_zone"] == NetworkZone.gov_extranet.zh
    assert "gov_extranet" not in zh and "filed" not in values.values() and "non_classified" not in zh
    assert re.search(r"[\u4e00-\u9fff]", values["mlps_status"])
    en = gc("inventory", "show", str(HEYUAN), "anjianju-s01", "--lang", "en").stdout
    rows = _tsv(en)
    assert rows[0] == ["field", "value"]
    values = dict((r[0], r[1]) for r in rows[1:])
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
