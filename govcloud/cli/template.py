"""``govcloud inventory template census``: the blank census form (普查表) departments fill in."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from govcloud.base.i18n import tr
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.usecases.forms import census_template


class TemplateKind(str, Enum):
    census = "census"


class TemplateFormat(str, Enum):
    xlsx = "xlsx"
    csv = "csv"


def template(
    kind: TemplateKind = typer.Argument(..., help=f"Which form: census ({tr('information system census form', 'zh')})."),
    out: Path = typer.Option(..., "--out", "-O", help="File to write (.xlsx or .csv)."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of headers and instructions.",
                              envvar="GOVCLOUD_LANG"),
    fmt: TemplateFormat = typer.Option(None, "--format", "-f",
                                       help="xlsx (default; dropdowns and instructions) or csv (UTF-8 with BOM)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
) -> None:
    """Write the blank census form: the systems sheet (one row per system), the servers sheet, an
    instructions sheet and dropdowns of the accepted values. Fill it in and read it back with
    govcloud inventory import --format census FILE --into INVENTORY."""
    done = census_template(out, lang=lang.value, fmt=fmt.value if fmt else None, force=force)
    if output is Output.json:
        view.print_json({"out": str(done.out), "format": done.fmt, "columns": done.columns})
        return
    msg = tr("wrote {out} ({fmt}, {columns} columns)", lang.value).format(out=done.out, fmt=done.fmt, columns=done.columns)
    view.stdout().print(msg, highlight=False)
