"""Compliance results as a rich table, one JSON document, CSV or (when openpyxl is present) XLSX."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from govcloud.compliance.model import ComplianceThresholds, HostReport, Status
from govcloud.base.atomic import write_atomic
from govcloud.base.i18n import N_, tr

_STYLE = {Status.passed: "green", Status.fail: "bold red", Status.manual: "yellow",
          Status.not_applicable: "dim", Status.error: "magenta"}

COLUMNS = ("host", "check_id", "clause", "title", "level", "status", "status_label", "expected", "actual", "evidence")
# auditors file exports as they are: Chinese headers unless --lang en (then the column keys)
HEADERS = {"host": N_("host", ctx="compliance:column"), "check_id": N_("check_id", ctx="compliance:column"),
           "clause": N_("clause", ctx="compliance:column"), "title": N_("title", ctx="compliance:column"),
           "level": N_("level", ctx="compliance:column"), "status": N_("status", ctx="compliance:column"),
           "status_label": N_("status_label", ctx="compliance:column"),
           "expected": N_("expected", ctx="compliance:column"), "actual": N_("actual", ctx="compliance:column"),
           "evidence": N_("evidence", ctx="compliance:column")}
_TABLE_HEADS = (N_("check", ctx="compliance:table"), N_("clause", ctx="compliance:table"),
                N_("status", ctx="compliance:table"), N_("expected", ctx="compliance:table"),
                N_("actual", ctx="compliance:table"))


def to_document(reports: list[HostReport], level: int, thresholds: ComplianceThresholds,
                lang: str = "zh") -> dict[str, Any]:
    """The findings as one JSON document. Each finding's ``expected``, ``actual`` and
    ``status_label`` are in ``lang``; both wordings are always there too (``expected_zh``,
    ``expected_en``, ``actual_zh``, ``actual_en``; ``title``, ``title_en``)."""
    total = {s.value: 0 for s in Status}
    for r in reports:
        for k, v in r.counts().items():
            total[k] += v
    return {
        "kind": "govcloud.compliance", "format": 1, "level": level,
        "generated_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "thresholds": thresholds.to_plain(),
        "summary": total,
        "hosts": [{"host": r.host, "error": r.error, "counts": r.counts(),
                   "findings": [f.to_plain(lang) for f in r.findings]} for r in reports],
    }


def rows(reports: list[HostReport], lang: str = "zh") -> list[dict[str, Any]]:
    """One row per finding in ``lang``: title, status label, expected and actual."""
    out = []
    for r in reports:
        for f in r.findings:
            d = f.to_plain(lang)
            if lang == "en":
                d["title"] = f.title_en
            out.append({k: d[k] for k in COLUMNS})
    return out


def write_file(path: Path, reports: list[HostReport], level: int, thresholds: ComplianceThresholds,
               lang: str = "zh") -> None:
    """JSON, CSV or XLSX by suffix, written atomically (an interrupted export leaves the old file)."""
    suffix = path.suffix.lower()
    headers = [tr(HEADERS[c], lang) for c in COLUMNS]
    if suffix == ".json":
        write_atomic(path, json.dumps(to_document(reports, level, thresholds, lang), ensure_ascii=False, indent=2) + "\n")
    elif suffix == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(headers)
        w.writerows([row[c] for c in COLUMNS] for row in rows(reports, lang))
        # utf-8-sig: Excel on Chinese Windows opens a BOM-less UTF-8 CSV as GBK and garbles it
        write_atomic(path, buf.getvalue().encode("utf-8-sig"))
    elif suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = tr("MLPS checks", lang)
        ws.append(headers)
        for row in rows(reports, lang):
            ws.append([row[c] for c in COLUMNS])
        buf = io.BytesIO()
        wb.save(buf)
        write_atomic(path, buf.getvalue())
    else:
        raise ValueError(f"unknown report format {suffix!r}: use .json, .csv or .xlsx")


def render_table(reports: list[HostReport], console: Console, lang: str = "zh", *, show_pass: bool = True) -> None:
    for r in reports:
        title = tr("{host} — MLPS level {level}", lang).format(host=r.host, level=r.level)
        if r.error:
            title += f"  ({r.error})"
        t = Table(title=title, show_lines=False, header_style="bold")
        heads = [tr(h, lang) for h in _TABLE_HEADS]
        for h in heads:
            t.add_column(h, overflow="fold")
        for f in r.findings:
            if not show_pass and f.status in (Status.passed, Status.not_applicable):
                continue
            t.add_row(f"{f.check_id}\n{f.title if lang == 'zh' else f.title_en}", f.clause.removeprefix("GB/T 22239-2019 "),
                      Text(f.status.label(lang), style=_STYLE[f.status]), f.expected_in(lang), f.actual_in(lang))
        console.print(t)
        c = r.counts()
        line = Text("  ")
        for n, s in enumerate(Status):
            line.append(("  " if n else "") + f"{s.label(lang)} {c[s.value]}", style=_STYLE[s])
        console.print(line)
