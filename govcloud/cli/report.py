"""``govcloud report PLAN --out FILE``: the plan as one printable, self-contained report (HTML or Markdown)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import tr
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.progress import progress_for
from govcloud.usecases.report import JOURNAL_FILE, write_report

app = typer.Typer(help=tr("report", "zh") + " — the migration report: one self-contained HTML (or Markdown) file.",
                  no_args_is_help=True)


class Format(str, Enum):
    html = "html"
    md = "md"


@app.command()
def report(
    plan_arg: Path = typer.Argument(..., metavar="PLAN", help="Plan directory (migration-plans/<id>) or its plan.yaml."),
    out: Path = typer.Option(..., "--out", help="The report file to write."),
    fmt: Format = typer.Option(Format.html, "--format", help="html (one file, prints on A4) or md."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the report.", envvar="GOVCLOUD_LANG"),
    compliance: Optional[Path] = typer.Option(None, "--compliance", help="JSON list of {host, check_id, status} "
                                              "findings to summarise."),
    journal: Optional[Path] = typer.Option(None, "--journal", help=f"Execution journal (JSON lines of {{system, "
                                           f"state}}; default: {JOURNAL_FILE} beside plan.yaml, if present)."),
    report_date: Optional[str] = typer.Option(None, "--date", help="Report date to print (none by default, so "
                                              "the same plan gives the same file)."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
) -> None:
    """报告 — write the migration report: overview, strategies, batch timeline, departments, machine-room closure,
    move-group dependencies, MLPS, compliance, execution status and the rules each batch satisfies."""
    with progress_for(output, lang.value) as progress:
        done = write_report(plan_arg, out, fmt=fmt.value, lang=lang.value, compliance=compliance, journal=journal,
                            report_date=report_date, progress=progress)
    if output is Output.json:
        view.print_json({"out": str(done.out), "bytes": done.size, "format": fmt.value, "lang": lang.value})
        return
    view.stderr().print(view.safe(tr("wrote {out} ({kb} KB)", lang.value).format(out=done.out, kb=done.size // 1024)),
                        highlight=False)
