"""The report use case: load its inputs (plan, valid inventory, approval state, optional compliance
findings and execution journal), render, write the file atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from govcloud.base.progress import NULL, Progress
from govcloud.base.atomic import write_atomic
from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError, UsageError
from govcloud.model.dates import DateError, parse_date
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan
from govcloud.render.report import parse_compliance, read_journal, render_report
from govcloud.store.approval import ApprovalState
from govcloud.usecases import approval as approvals
from govcloud.usecases.plan import open_plan

JOURNAL_FILE = "journal.jsonl"


def read_findings(path: Path) -> list[dict[str, str]]:
    """The findings JSON of `govcloud compliance check` (a list of {host, check_id, status})."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise GovcloudError(Msg("{path}: {x}", path=path, x=exc.strerror or exc)) from None
    except UnicodeDecodeError as exc:
        raise GovcloudError(Msg("{path}: not UTF-8 text (byte {start})", path=path, start=exc.start)) from None
    except ValueError as exc:
        raise GovcloudError(Msg("{path}: not JSON ({exc})", path=path, exc=exc)) from None
    except RecursionError:
        raise GovcloudError(Msg("{path}: not a findings list (JSON nested too deeply)", path=path)) from None
    return parse_compliance(data, str(path))


@dataclass
class ReportInputs:
    path: Path                                  # plan.yaml
    plan: Plan
    inventory: Inventory
    approval: ApprovalState
    findings: list[dict[str, str]] | None       # --compliance
    journal: list[dict[str, Any]] | None        # --journal, else journal.jsonl beside plan.yaml if present
    cutovers: dict[str, Any] | None = None      # the journal's measured cutovers (downtime vs window)


def load_inputs(plan_arg: Path, *, compliance: Path | None = None, journal: Path | None = None,
                report_date: str | None = None, progress: Progress = NULL) -> ReportInputs:
    """Everything the report is made of, read and checked (``report_date`` checked here, in the
    order the command always reported problems: the inventory, then the date, then the files)."""
    opened = open_plan(plan_arg, progress=progress)
    path, plan, result = opened.path, opened.plan, opened.result
    _day(report_date)
    findings = read_findings(compliance) if compliance is not None else None
    journal_file = journal if journal is not None else path.parent / JOURNAL_FILE
    entries = cutovers = None
    if journal is not None or journal_file.exists():
        try:
            text = journal_file.read_text(encoding="utf-8")
            entries, cutovers = read_journal(text, str(journal_file))
        except OSError as exc:
            raise GovcloudError(Msg("{journal_file}: {x}",
                                    journal_file=journal_file, x=exc.strerror or exc)) from None
        except UnicodeDecodeError as exc:
            raise GovcloudError(Msg("{journal_file}: not UTF-8 text (byte {start})",
                                    journal_file=journal_file, start=exc.start)) from None
    state = approvals.state_of(plan, path, result.inventory)
    return ReportInputs(path, plan, result.inventory, state, findings, entries, cutovers)


@dataclass
class WrittenReport:
    out: Path
    size: int           # bytes written


def write_report(plan_arg: Path, out: Path, *, fmt: str, lang: str, compliance: Path | None = None,
                 journal: Path | None = None, report_date: str | None = None,
                 progress: Progress = NULL) -> WrittenReport:
    if out.is_dir():
        raise UsageError(Msg("--out {out} is a directory; the report is one file", out=out),
                         hint=Msg("e.g. --out {path}", path=out / 'report.html'))
    inputs = load_inputs(plan_arg, compliance=compliance, journal=journal, report_date=report_date,
                         progress=progress)
    day = _day(report_date)
    with progress.phase("report.render"):
        text = render_report(inputs.plan, inputs.inventory, fmt=fmt, lang=lang,
                             approval=approvals.describe(inputs.approval, lang),
                             approval_state=inputs.approval.status, compliance=inputs.findings,
                             journal=inputs.journal, generated_on=day, cutovers=inputs.cutovers)
    write_atomic(out, text)
    return WrittenReport(out, len(text.encode("utf-8")))


def _day(report_date: str | None) -> date | None:
    try:
        return parse_date(report_date) if report_date else None
    except DateError as exc:
        raise UsageError(Msg("--date: {exc}", exc=exc)) from None
