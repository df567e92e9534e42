"""Files handed to people and editors: the blank census form and the inventory JSON Schema."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from govcloud.base.atomic import write_atomic
from govcloud.base.i18n import Msg
from govcloud.errors import UsageError
from govcloud.interchange import census
from govcloud.inventory.schema import inventory_schema


@dataclass
class WrittenForm:
    out: Path
    fmt: str
    columns: int


def census_template(out: Path, *, lang: str, fmt: str | None = None, force: bool = False) -> WrittenForm:
    """The census form (普查表) as xlsx (default; dropdowns and instructions) or csv (by --format or
    the file's suffix); refuses to overwrite a file unless ``force``."""
    fmt = fmt or ("csv" if out.suffix.lower() == ".csv" else "xlsx")
    if out.exists() and out.is_dir():
        raise UsageError(Msg("{out} is a directory; give a file name",
                             out=out), hint=Msg("--out {path}",
                                                                                          path=out / ('census.' + fmt)))
    if out.exists() and not force:
        raise UsageError(Msg("{out} exists; not overwriting it", out=out), hint=Msg("use --force, or another --out"))
    write_atomic(out, census.template_bytes(lang, fmt))
    return WrittenForm(out, fmt, len(census.SYSTEM_FIELDS))


def schema_text() -> str:
    return json.dumps(inventory_schema(), ensure_ascii=False, indent=2) + "\n"


def write_schema(out: Path) -> Path:
    write_atomic(out, schema_text())
    return out
