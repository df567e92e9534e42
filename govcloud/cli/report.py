"""``govcloud report PLAN --out FILE``: the plan as one printable, self-contained report (HTML or Markdown)."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.errors import GovcloudError, UsageError
from govcloud.inventory.validate import validate_path
from govcloud.model.dates import DateError, parse_date
from govcloud.render import console as view
from govcloud.render.console import Lang
from govcloud.cli import approvals
from govcloud.render.report import parse_compliance, parse_cutovers, parse_journal, render_report
from govcloud.base.atomic import write_atomic
from govcloud.store.planfile import inventory_of, plan_path, read_plan

JOURNAL_FILE = "journal.jsonl"

app = typer.Typer(help="报告 — the migration report: one self-contained HTML (or Markdown) file.",
                  no_args_is_help=True)


class Format(str, Enum):
    html = "html"
    md = "md"


def read_findings(path: Path) -> list[dict[str, str]]:
    """The findings JSON of `govcloud compliance check` (a list of {host, check_id, status})."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise GovcloudError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise GovcloudError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except ValueError as exc:
        raise GovcloudError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise GovcloudError(f"{path}: not a findings list (JSON nested too deeply)") from None
    return parse_compliance(data, str(path))


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
) -> None:
    """Write the migration report: overview, strategies, batch timeline, departments, machine-room closure,
    move-group dependencies, MLPS, compliance, execution status and the rules each batch satisfies."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; the report is one file",
                         hint=f"e.g. --out {out / 'report.html'}")
    path = plan_path(plan_arg)
    plan = read_plan(path)
    inv_root = inventory_of(plan, path)
    result = validate_path(inv_root)
    if result.errors:
        raise GovcloudError(f"the plan's inventory {inv_root} has {len(result.errors)} error(s)",
                            hint=f"run `govcloud inventory validate {inv_root}`")
    try:
        day = parse_date(report_date) if report_date else None
    except DateError as exc:
        raise UsageError(f"--date: {exc}") from None
    findings = read_findings(compliance) if compliance is not None else None
    journal_file = journal if journal is not None else path.parent / JOURNAL_FILE
    entries = cutovers = None
    if journal is not None or journal_file.exists():
        try:
            text = journal_file.read_text(encoding="utf-8")
            entries = parse_journal(text, str(journal_file))
            cutovers = parse_cutovers(text, str(journal_file))
        except OSError as exc:
            raise GovcloudError(f"{journal_file}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise GovcloudError(f"{journal_file}: not UTF-8 text (byte {exc.start})") from None
    state = approvals.state_of(plan, path, result.inventory)
    status = state.status
    approval_line = approvals.describe(state, lang.value)
    text = render_report(plan, result.inventory, fmt=fmt.value, lang=lang.value, approval=approval_line,
                         approval_state=status,
                         compliance=findings, journal=entries, generated_on=day, cutovers=cutovers)
    write_atomic(out, text)
    view.stderr().print(f"wrote {out} ({len(text.encode('utf-8')) // 1024} KB)", highlight=False)
