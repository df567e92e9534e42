"""``govcloud audit …``: check and read the hash-chained audit log of an inventory."""

from __future__ import annotations

from pathlib import Path

import typer

from govcloud.base.i18n import tr
from govcloud.errors import ExitCode
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.views import audit as views
from govcloud.store import auditlog

app = typer.Typer(help=tr("audit log", "zh") + " — the append-only, hash-chained audit log (<inventory>/.govcloud/audit.jsonl).",
                  no_args_is_help=True)

PathArg = typer.Argument(..., help="Inventory directory (or one inventory file).")
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of the messages.", envvar="GOVCLOUD_LANG")


@app.command()
def verify(path: Path = PathArg, output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Check the chain: every edited, removed, reordered, inserted or torn entry, with its seq.

    Exit code 0 when the log is intact (or there is none yet), 1 otherwise.
    """
    problems = auditlog.verify(path)
    entries = len(auditlog.read(path))
    log = auditlog.log_path(path)
    if output is Output.json:
        view.print_json({"ok": not problems, "log": str(log), "entries": entries,
                         "problems": [p.to_json() for p in problems]})
    else:
        views.verify(problems, log, entries, lang.value)
    raise typer.Exit(int(ExitCode.ERROR if problems else ExitCode.OK))


@app.command()
def show(
    path: Path = PathArg,
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Show the last N entries (0: all)."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """The latest entries: when, who, what, on which record, why."""
    entries = auditlog.read(path)
    if limit:
        entries = entries[-limit:]
    if output is Output.json:
        view.print_json(entries)
        return
    views.entries(auditlog.log_path(path), entries, lang.value)
