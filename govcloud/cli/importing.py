"""``govcloud inventory import``: show the change set an import would make, then make it.

Exit 0: imported, or nothing to change ("no changes"); 1: the file or the would-be inventory
has errors — every problem is listed and nothing is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from govcloud.errors import ExitCode
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.progress import progress_for
from govcloud.render.views import importing as views

def import_(
    file: Path = typer.Argument(..., metavar="FILE", help="The file (or directory) to import."),
    format: str = typer.Option(..., "--format", "-f", help="census, rvtools, netbox, ansible, aws-csv, azure-csv, "
                                                           "gcp-csv, govcloud (a govcloud export)."),
    into: Path = typer.Option(..., "--into", help="Inventory directory to import into (created when absent)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the change set; write nothing."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Who imports, for the audit log (besides the OS user)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of labels and headers.", envvar="GOVCLOUD_LANG"),
) -> None:
    """Import a census form, RVTools export, NetBox JSON, Ansible inventory, cloud CSV or govcloud
    export: shows the change set, then writes it. Imported values never overwrite what a person
    wrote (conflicts are listed); re-importing the same file changes nothing.
    """
    from govcloud.interchange.importer import run_import

    with progress_for(output, lang.value) as progress:
        outcome = run_import(format, file, into, dry_run=dry_run, who=actor, reason=reason, progress=progress)
    cs = outcome.changeset
    failed = not outcome.ok
    no_changes = not failed and (cs is None or not cs.files)
    if output is Output.json:
        view.print_json({
            "format": format, "file": str(file), "sha256": outcome.sha256, "inventory": str(into),
            "ok": not failed, "dry_run": dry_run, "applied": bool(outcome.written),
            "no_changes": no_changes,
            "summary": cs.counts() if cs else {},
            "changes": [c.to_json() for c in cs.changes if c.action != "unchanged"] if cs else [],
            "conflicts": [c.to_json() for c in cs.conflicts] if cs else [],
            "problems": [p.to_json() for p in outcome.problems],
            "files": sorted(cs.files) if cs and not failed else [],
            "written": outcome.written, "audit_seq": outcome.audit_seq,
        })
    else:
        views.changes(outcome, lang.value, failed, no_changes)
    raise typer.Exit(int(ExitCode.ERROR if failed else ExitCode.OK))
