"""``govcloud audit …``: check and read the hash-chained audit log of an inventory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.text import Text

from govcloud.errors import ExitCode
from govcloud.render import console as view
from govcloud.render.console import Output
from govcloud.store import auditlog

app = typer.Typer(help="审计日志 — the append-only, hash-chained audit log (<inventory>/.govcloud/audit.jsonl).",
                  no_args_is_help=True)

PathArg = typer.Argument(..., help="Inventory directory (or one inventory file).")
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")


@app.command()
def verify(path: Path = PathArg, output: Output = OutputOpt) -> None:
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
        con = view.stdout()
        for p in problems:
            con.print(view.styled(("✗", "red"), f" {log.name}:{p}"), highlight=False, soft_wrap=True)
        if problems:
            con.print(view.styled((f"{len(problems)} problem(s)", "bold red"), f" in {log}"), highlight=False,
                      soft_wrap=True)
        elif not log.exists():
            con.print(view.styled(("✓", "green"), f" no audit log yet ({log})"), highlight=False, soft_wrap=True)
        else:
            noun = "entry" if entries == 1 else "entries"
            con.print(view.styled(("✓", "bold green"), f" {log}: {entries} {noun}, chain intact"), highlight=False,
                      soft_wrap=True)
    raise typer.Exit(int(ExitCode.ERROR if problems else ExitCode.OK))


@app.command()
def show(
    path: Path = PathArg,
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="Show the last N entries (0: all)."),
    output: Output = OutputOpt,
) -> None:
    """The latest entries: when, who, what, on which record, why."""
    entries = auditlog.read(path)
    if limit:
        entries = entries[-limit:]
    if output is Output.json:
        view.print_json(entries)
        return
    con = view.stdout()
    con.print(f"{auditlog.log_path(path)}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} shown",
              style="dim", highlight=False, soft_wrap=True)
    for e in entries:  # one line per entry, so grep and editors can use it
        who = e.get("who") or {}
        who_s = (who.get("os_user") or "?") + (f" ({who['actor']})" if who.get("actor") else "") \
            if isinstance(who, dict) else str(who)
        ent = e.get("entity") or {}
        ent_s = f"{ent.get('kind')}/{ent.get('id')}" if isinstance(ent, dict) else str(ent)
        one = lambda x: view.clean(str(x), newlines=False)  # noqa: E731 - a newline in data never starts a line
        line = Text()
        line.append(f"#{one(e.get('seq'))}", style="bold")
        line.append(f"  {one(e.get('at'))}  {one(who_s)}  ")
        line.append(one(e.get("action")), style="cyan")
        line.append(f"  {one(ent_s)}")
        if e.get("reason"):
            line.append(f"  — {one(e['reason'])}")
        line.append(f"  [{str(e.get('hash', ''))[:12]}]", style="dim")
        con.print(line, soft_wrap=True)
