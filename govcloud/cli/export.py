"""``govcloud inventory export``: the inventory as XLSX, CSV, JSON or HTML for auditors,
with a ``MANIFEST.sha256``; ``--verify DIR`` checks an earlier export against its manifest.

Every export is recorded in the inventory's audit log (action ``export``).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import Msg
from govcloud.model.enums import Secrecy
from govcloud.errors import ExitCode, UsageError
from govcloud.render import console as view
from govcloud.render.progress import progress_for
from govcloud.render.console import Lang, Output
from govcloud.render.views import export as views
from govcloud.usecases import export as uc
from govcloud.usecases.plan import InvalidInventory


class ExportFormat(str, Enum):
    xlsx = "xlsx"
    csv = "csv"
    json = "json"
    html = "html"


def export(
    path: Optional[Path] = typer.Argument(None, help="Inventory directory (or one inventory file)."),
    fmt: ExportFormat = typer.Option(ExportFormat.xlsx, "--format", "-f", help="xlsx, csv, json or html."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of headers and labels.", envvar="GOVCLOUD_LANG"),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory to write (created; replaced atomically)."),
    include_classified: bool = typer.Option(False, "--include-classified",
                                            help=f"Export every field of classified ({Secrecy.classified.label('zh')}) systems too. "
                                                 "Only for cleared recipients."),
    verify: Optional[Path] = typer.Option(None, "--verify", help="Check an export directory against its "
                                                                 "MANIFEST.sha256 instead of exporting."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Who exports, for the audit log (besides the OS user)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),
    force: bool = typer.Option(False, "--force", help="Replace --out even when it holds files an earlier "
                                                      "export did not write (or is not an export at all)."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
) -> None:
    """Export departments, machine rooms, systems, servers, databases, dependencies, the 政务信息资源目录
    and the census form (普查表). Classified systems keep minimal metadata unless --include-classified.
    JSON also carries every other section (regions, cloud, policies, takeovers, freeze windows,
    observations): `govcloud inventory import --format govcloud DIR --into NEW` reads it back whole.

    Exit code 0 on success; with --verify 1 when a file is missing, extra or modified.
    """
    if verify is not None:
        _verify(verify, output, lang)
        return
    if path is None or out is None:
        raise UsageError(Msg("give an INVENTORY and --out DIR (or --verify DIR)"),
                         hint=Msg("for example: {example}",
                                  example="govcloud inventory export inventories/heyuan --format xlsx --out exports/heyuan"))
    try:
        with progress_for(output, lang.value) as progress:
            res = uc.export(path, out, fmt=fmt.value, lang=lang.value, include_classified=include_classified,
                            actor=actor, reason=reason, force=force, progress=progress)
    except InvalidInventory as exc:
        views.invalid(exc.problems, path, lang.value)
        raise typer.Exit(int(ExitCode.ERROR)) from None
    if output is Output.json:
        view.print_json({"ok": True, "out": str(res.out), "files": res.files,
                         "manifest_sha256": res.manifest_sha256, **res.info})
        return
    views.exported(res, fmt.value, lang.value)


def _verify(directory: Path, output: Output, lang: Lang) -> None:
    problems = uc.verify(directory)
    if output is Output.json:
        view.print_json({"ok": not problems, "dir": str(directory), "problems": [p.to_json() for p in problems]})
    else:
        views.verified(problems, directory, lang.value)
    raise typer.Exit(int(ExitCode.ERROR if problems else ExitCode.OK))
