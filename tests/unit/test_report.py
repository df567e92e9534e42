"""`govcloud report`: the chart builders on hand-made plans, the Heyuan report in HTML and Markdown, and the
HTML opened in a real headless Chromium (screenshot not blank, charts in the DOM, no script errors)."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govcloud.cli.report import app as report_app
from govcloud.inventory.validate import validate_path
from govcloud.model.entities import Dependency, FreezeWindow
from govcloud.model.enums import DepType, Strategy
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan, PlanBatch, PlanItem, Retained, RoomClosure, ServerPlacement, Unscheduled
from govcloud.render.plan_doc import plan_document
from govcloud.render.report import (
    gantt_svg, graph_svg, group_graph, render_report, report_data, rooms_svg, strategy_svg,
)
from govcloud.store.planfile import inventory_of, plan_path, read_plan

REPO = Path(__file__).resolve().parents[2]
HEYUAN = REPO / "inventories" / "heyuan"
COMMITTED = REPO / "migration-plans" / "heyuan-2018"


# ---------------------------------------------------------------- a hand-made plan


def _item(sid: str, group: str, cutover: date, org: str = "org-a", name: str | None = None) -> PlanItem:
    return PlanItem(system=sid, name=name or f"系统{sid}", owner_org=org, strategy=Strategy.rehost, move_group=group,
                    target_zone="z3", cutover=cutover,
                    servers=(ServerPlacement(f"{sid}-srv", "f1", 2, 4.0, 40.0, "import:centos-7.9", "declared"),))


def _small() -> tuple[Plan, Inventory]:
    d1, d2, d3 = date(2019, 1, 12), date(2019, 2, 23), date(2019, 4, 6)
    batches = [
        PlanBatch("B00", "试点批次", date(2019, 1, 7), d1, date(2019, 6, 30), "M1", True,
                  [_item("a1", "g-a", d1), _item("a2", "g-a", d1)], ["H-DEP-1", "H-FRZ-1"]),
        PlanBatch("B01", "第1批", date(2019, 2, 4), d2, date(2019, 6, 30), "M1", False,
                  [_item("b1", "g-b", d2, name="<script>alert(1)</script>"), _item("c1", "g-c", d2, org="org-b")],
                  ["H-DEP-1"]),
        PlanBatch("B02", "第2批", date(2019, 3, 4), d3, None, None, False,
                  [_item("d1", "g-d", d3), _item("e1", "g-e", d3)], ["H-DEP-1", "H-TKO-1"]),
    ]
    plan = Plan(plan_id="t", inventory="../inv", inventory_name="测试", policy="p1", inputs_digest="sha256:x",
                generator="test", start=date(2019, 1, 7), batches=batches,
                retained=[Retained("r1", "保留系统", "org-a", "vertical_without_approval", "垂直系统")],
                unscheduled=[Unscheduled("u1", "排不上", "org-b", Strategy.rehost, ["H-DATE-1: too late"])],
                rooms=[RoomClosure("room-a", "甲局机房", date(2019, 1, 12)),
                       RoomClosure("room-b", "乙局机房", date(2019, 4, 6)),
                       RoomClosure("room-c", "丙局机房", None, ("r1", "u1"))])
    inv = Inventory()
    inv.dependencies = [
        Dependency(from_="b1", to="a1", type=DepType.sync_api),    # g-b → g-a
        Dependency(from_="d1", to="b1", type=DepType.sync_api),    # g-d → g-b
        Dependency(from_="d1", to="b1", type=DepType.sync_api),    # same pair: one edge, two calls
        Dependency(from_="a2", to="a1", type=DepType.sync_api),    # inside g-a: no edge
        Dependency(from_="c1", to="a1", type=DepType.async_mq),    # not synchronous: no edge
    ]
    inv.freeze_windows = {"f1": FreezeWindow("f1", "春节", date(2019, 2, 1), date(2019, 2, 10))}
    return plan, inv


def test_gantt_has_one_bar_per_batch_deadlines_and_freezes() -> None:
    plan, inv = _small()
    svg = gantt_svg(plan.batches, list(inv.freeze_windows.values()), final_deadline=date(2019, 12, 31))
    assert svg.count('<rect class="batch"') == 3
    assert [m for m in re.findall(r'data-batch="([^"]+)"', svg)] == ["B00", "B01", "B02"]
    assert svg.count('<path class="deadline"') == 2            # B02 has no deadline
    assert svg.count('<rect class="freeze"') == 1
    assert svg.count('class="deadline-line"') == 2             # 2019-06-30 and the final deadline
    assert "春节" in svg and "2019-06-30" in svg


def test_rooms_chart_marks_each_room_that_empties() -> None:
    plan, _ = _small()
    svg = rooms_svg(plan.rooms, plan.start)
    assert svg.count('<circle class="room"') == 2
    assert re.findall(r'data-room="([^"]+)"', svg) == ["room-a", "room-b"]
    assert "丙局机房" not in svg                                 # kept open: listed in a table, not drawn
    assert rooms_svg([RoomClosure("x", "X", None, ("s",))], plan.start) == ""


def test_group_graph_nodes_edges_and_layout() -> None:
    plan, inv = _small()
    graph = group_graph(plan, inv)
    # g-a has two systems; g-b, g-d call across groups; g-c and g-e are single and unconnected
    assert sorted(n.id for n in graph.nodes) == ["g-a", "g-b", "g-d"]
    assert graph.edges == [("g-b", "g-a", 1, False), ("g-d", "g-b", 2, False)]
    xs = {n.id: n.x for n in graph.nodes}
    assert xs["g-a"] < xs["g-b"] < xs["g-d"]                    # layered by batch, left to right
    svg = graph_svg(graph)
    assert svg.count('<g class="node"') == 3 and svg.count('<path class="edge"') == 2
    assert group_graph(plan, inv) .nodes[0].x == graph.nodes[0].x  # deterministic
    capped = group_graph(plan, inv, max_nodes=1)
    assert [n.id for n in capped.nodes] == ["g-a"] and capped.candidates == 3 and capped.edges == []


def test_text_is_escaped_everywhere() -> None:
    plan, inv = _small()
    page = render_report(plan, inv, fmt="html")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert strategy_svg([{"key": "x", "label": "<b>", "systems": 1, "servers": None}]).count("&lt;b&gt;") >= 1


def test_small_report_sections_and_hooks() -> None:
    plan, inv = _small()
    page = render_report(plan, inv, fmt="html", lang="en")
    assert "No compliance results yet." in page and "Not started" in page
    findings = [{"host": "h1", "check_id": "ssh-root", "status": "pass"},
                {"host": "h2", "check_id": "ssh-root", "status": "fail"},
                {"host": "h2", "check_id": "tmout", "status": "fail"}]
    journal = [{"system": "a1", "state": "cutover"}, {"system": "a1", "state": "done"},
               {"system": "b1", "state": "failed"}, {"system": "r1", "state": "done"}]
    data = report_data(plan, inv, compliance=findings, journal=journal)
    assert data["compliance"]["totals"] == [("pass", 1), ("fail", 2)] and data["compliance"]["bad_hosts"] == 1
    assert data["compliance"]["labels"] == ["符合", "不符合"]
    assert data["execution"]["totals"] == [("done", 2), ("failed", 1)]   # the latest line per system wins
    assert data["execution"]["outside"] == ["r1"] and "r1" in data["execution_text"]
    assert data["execution"]["per_batch"][0] == ("B00", 2, [1, 0], 1)
    md = render_report(plan, inv, fmt="md", compliance=findings, journal=journal)
    assert "| `ssh-root` | 1 | 1 |" in md and "| B00 | 2 | 1 | 0 | 1 |" in md
    dept = {d["org"]: d for d in data["departments"]}
    assert (dept["org-a"]["moved"], dept["org-a"]["stays"], dept["org-b"]["unscheduled"]) == (5, 1, 1)
    assert dept["org-a"]["batches"] == "B00 B01 B02" and dept["org-a"]["first"] == date(2019, 1, 12)


def test_markdown_cells_are_escaped() -> None:
    plan, inv = _small()
    md = render_report(plan, inv, fmt="md", compliance=[{"host": "h", "check_id": "a|b", "status": "fail"}],
                       journal=[{"system": "a1", "state": "x|y"}])
    assert "`a\\|b`" in md and "x\\|y" in md and "a|b" not in md.replace("a\\|b", "")


def test_no_generation_date_unless_given() -> None:
    plan, inv = _small()
    assert render_report(plan, inv) == render_report(plan, inv)
    assert "报告日期" not in render_report(plan, inv)
    assert "报告日期：2019-05-01" in render_report(plan, inv, fmt="md", generated_on=date(2019, 5, 1))


# ---------------------------------------------------------------- the Heyuan report


@pytest.fixture(scope="module")
def heyuan() -> tuple[Plan, Inventory]:
    path = plan_path(COMMITTED)
    plan = read_plan(path)
    return plan, validate_path(inventory_of(plan, path)).inventory


@pytest.fixture(scope="module")
def heyuan_html(heyuan) -> str:
    return render_report(*heyuan, fmt="html")


@pytest.fixture(scope="module")
def heyuan_md(heyuan) -> str:
    return render_report(*heyuan, fmt="md")


def test_plan_document_unchanged_by_the_shared_data_prep(heyuan) -> None:
    plan, inv = heyuan
    assert plan_document(plan, inv) == (COMMITTED / "plan.md").read_text(encoding="utf-8")


def test_html_is_self_contained(heyuan_html: str) -> None:
    low = heyuan_html.lower()
    for needle in ("http://", "https://", "src=", "<link", "@import", "url(http", "@font-face", "//cdn"):
        assert needle not in low, needle
    assert "default-src 'none'" in heyuan_html                  # and the browser may fetch nothing
    assert "Noto Sans CJK SC" in heyuan_html and "WenQuanYi Micro Hei" in heyuan_html
    assert "@media print" in heyuan_html and "break-before: page" in heyuan_html


def test_html_charts_match_the_plan(heyuan, heyuan_html: str) -> None:
    plan, inv = heyuan
    assert heyuan_html.count('<rect class="batch"') == len(plan.batches) == 13
    assert heyuan_html.count('<circle class="room"') == sum(1 for r in plan.rooms if r.empty_by) == 17
    graph = group_graph(plan, inv)
    assert heyuan_html.count('<g class="node"') == len(graph.nodes) and 30 <= len(graph.nodes) <= 60
    assert graph.candidates > 60                                 # Heyuan needs the cap to stay readable
    assert heyuan_html.count('<path class="edge"') == len(graph.edges) > 0
    assert heyuan_html.count('<svg class="chart') == 4
    assert "暂无合规检查结果" in heyuan_html and "尚未开始执行" in heyuan_html


def test_markdown_carries_the_same_data(heyuan, heyuan_html: str, heyuan_md: str) -> None:
    plan, _ = heyuan
    assert "<svg" not in heyuan_md
    for b in plan.batches:
        row = f"| {b.id} {b.name} | {b.start} – {b.end} |"
        assert row in heyuan_md, row
        assert f"{b.id} {b.name}" in heyuan_html and f"{b.start} – {b.end}" in heyuan_html
        for doc in (heyuan_md, heyuan_html):
            assert re.search(rf"{b.id} {b.name}\b.*?\b{len(b.items)}\b.*?\b{b.servers}\b", doc, re.S)
    for r in plan.rooms:
        if r.empty_by:
            assert f"| {r.name}（`{r.room}`） | {r.empty_by} |" in heyuan_md
            assert f'data-room="{r.room}"' in heyuan_html and str(r.empty_by) in heyuan_html
    for label, value in report_data(*heyuan)["overview"]:
        assert f"| {label} | {value} |" in heyuan_md and str(value) in heyuan_html
    for rules in {", ".join(b.rules) for b in plan.batches}:
        assert rules in heyuan_md


def test_english_report_renders(heyuan) -> None:
    page = render_report(*heyuan, fmt="html", lang="en")
    assert "Batch timeline" in page and 'lang="en"' in page
    assert "Machine-room closure" in render_report(*heyuan, fmt="md", lang="en")


def test_cli_writes_one_file(tmp_path: Path) -> None:
    findings = tmp_path / "findings.json"
    findings.write_text(json.dumps([{"host": "h1", "check_id": "c1", "status": "fail"}]), encoding="utf-8")
    journal = tmp_path / "journal.jsonl"
    journal.write_text('{"system": "bianban-s04", "state": "done"}\n\n', encoding="utf-8")
    out = tmp_path / "r.md"
    result = CliRunner().invoke(report_app, [str(COMMITTED), "--out", str(out), "--format", "md",
                                             "--compliance", str(findings), "--journal", str(journal),
                                             "--date", "2019-05-01"])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "| `c1` | 1 |" in text and "| B00 | 18 | 1 | 17 |" in text and "2019-05-01" in text
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no temp file left
    bad = tmp_path / "bad.json"
    bad.write_text('{"host": "h"}', encoding="utf-8")
    result = CliRunner().invoke(report_app, [str(COMMITTED), "--out", str(tmp_path / "x.html"),
                                             "--compliance", str(bad)])
    assert result.exit_code != 0 and "expected a JSON list" in str(result.exception)
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- a real browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (CI installs it: apt-get install -y chromium)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # everything that could reach a network is off: the report must render air-gapped
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """A minimal PNG decoder (8-bit RGB/RGBA, non-interlaced — what Chromium writes): width, height, rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            channels = 4 if ctype == 6 else 3
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(channels, stride):
                cur[i] = (cur[i] + cur[i - channels]) & 0xFF
        elif f == 2:
            cur = bytearray((a + b) & 0xFF for a, b in zip(cur, prev))
        elif f == 3:
            for i in range(stride):
                left = cur[i - channels] if i >= channels else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif f == 4:
            for i in range(stride):
                a = cur[i - channels] if i >= channels else 0
                b = prev[i]
                c = prev[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(cur))
        prev = cur
    return width, height, [r if channels == 3 else bytes(b for k, b in enumerate(r) if k % 4 != 3) for r in rows]


@pytest.mark.integration
def test_heyuan_report_in_headless_chromium(tmp_path: Path) -> None:
    exe = _chromium()
    gen = subprocess.run([sys.executable, "-m", "govcloud", "plan", "generate", str(HEYUAN), "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr[-2000:]
    html_file = tmp_path / "heyuan-report.html"
    result = CliRunner().invoke(report_app, [str(tmp_path / "heyuan-2018"), "--out", str(html_file)])
    assert result.exit_code == 0, result.output
    plan = read_plan(tmp_path / "heyuan-2018")
    url = html_file.resolve().as_uri()

    png = tmp_path / "heyuan-report.png"
    shot = _browser(exe, tmp_path / "profile-shot", "--hide-scrollbars", f"--screenshot={png}",
                    "--window-size=1400,3000", url)
    assert png.is_file(), shot.stderr[-2000:]
    out_dir = REPO / "bench" / "out"      # git-ignored: for people to look at
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, out_dir / "heyuan-report.png")
    width, height, rows = read_png(png.read_bytes())
    assert (width, height) == (1400, 3000)
    non_white = sum(1 for row in rows[::2] for k in range(0, len(row), 6)
                    if row[k] < 235 or row[k + 1] < 235 or row[k + 2] < 235)
    assert non_white > 0.03 * (width // 2) * (height // 2), non_white    # text, tables and charts, not a blank page
    colours = {row[k:k + 3] for row in rows for k in range(0, len(row), 3)}
    for hexa in ("1f5fa8", "c26a00", "b3261e"):                 # batch bars, the pilot bar, deadline markers
        assert bytes.fromhex(hexa) in colours, hexa

    dom = _browser(exe, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    root = re.search(r"<html[^>]*>", page).group(0)
    assert 'data-js-errors="0"' in root, root                   # no script error, nothing blocked by the CSP
    assert 'data-charts="4"' in root, root                      # the recorder ran after the DOM was built
    assert "Uncaught" not in dom.stderr and not re.search(r"CONSOLE\(\d+\).*(Error|error)", dom.stderr)
    assert page.count('<rect class="batch"') == len(plan.batches)
    assert page.count('<circle class="room"') == sum(1 for r in plan.rooms if r.empty_by)
    assert page.count('<g class="node"') == len(group_graph(plan, validate_path(HEYUAN).inventory).nodes)

    # a journal beside plan.yaml is picked up without --journal
    (tmp_path / "heyuan-2018" / "journal.jsonl").write_text('{"system": "bianban-s04", "state": "done"}\n',
                                                             encoding="utf-8")
    md = tmp_path / "heyuan-report.md"
    result = CliRunner().invoke(report_app, [str(tmp_path / "heyuan-2018"), "--out", str(md), "--format", "md"])
    assert result.exit_code == 0, result.output
    assert "| B00 | 18 | 1 | 17 |" in md.read_text(encoding="utf-8")
