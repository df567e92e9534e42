"""``govcloud inventory template census``: the blank census form (普查表) departments fill in."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from govcloud.errors import UsageError
from govcloud.interchange import census
from govcloud.render import console as view
from govcloud.render.console import Lang
from govcloud.base.atomic import write_atomic


class TemplateKind(str, Enum):
    census = "census"


class TemplateFormat(str, Enum):
    xlsx = "xlsx"
    csv = "csv"


def template(
    kind: TemplateKind = typer.Argument(..., help="Which form: census (信息系统普查表)."),
    out: Path = typer.Option(..., "--out", "-O", help="File to write (.xlsx or .csv)."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of headers and instructions.",
                              envvar="GOVCLOUD_LANG"),
    fmt: TemplateFormat = typer.Option(None, "--format", "-f",
                                       help="xlsx (default; dropdowns and instructions) or csv (UTF-8 with BOM)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write the blank census form: the systems sheet (one row per system), the servers sheet, an
    instructions sheet and dropdowns of the accepted values. Fill it in and read it back with
    ``govcloud inventory import --format census FILE --into INVENTORY``."""
    if fmt is None:
        fmt = TemplateFormat.csv if out.suffix.lower() == ".csv" else TemplateFormat.xlsx
    if out.exists() and out.is_dir():
        raise UsageError(f"{out} is a directory; give a file name", hint=f"--out {out / ('census.' + fmt.value)}")
    if out.exists() and not force:
        raise UsageError(f"{out} exists; not overwriting it", hint="use --force, or another --out")
    data = census.template_bytes(lang.value, fmt.value)
    write_atomic(out, data)
    fields = len(census.SYSTEM_FIELDS)
    msg = (f"已写入 {out}（{fmt.value}，{fields} 列）" if lang is Lang.zh
           else f"wrote {out} ({fmt.value}, {fields} columns)")
    view.stdout().print(msg, highlight=False)
