"""The one renderer for terminals and JSON.

Commands hand plain data to these functions. With ``--output json`` stdout gets
exactly one JSON document and nothing else; everything meant for a person
(progress, summaries of a JSON run, diagnostics) goes to stderr.

One rule for where text goes (:class:`SafeConsole`), decided per stream:

- **a terminal**: lines wrap at the terminal's width at spaces; tables fit the width, and a
  column whose every cell is one short word (an id, a number, a date, a size) is never broken —
  only text columns wrap, a word too long for its column folds instead of being cut to "…";
- **not a terminal** (a pipe, a file; rich's own rule, so ``FORCE_COLOR``/``TTY_COMPATIBLE``
  count): nothing wraps or folds — every line is printed whole — and a table is tab-separated
  values, the way ``mysql -B`` and ``gh`` print when piped: ``# title``, a header line, one line
  per row, cells joined by a tab (a tab or newline inside a cell becomes a space), so
  ``grep``/``cut -f``/``awk -F'\t'``/``column -t -s$'\t'`` work on it.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console, RenderableType
from rich import box
from rich.cells import cell_len
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from govcloud.inventory.problems import Problem
from govcloud.model.enums import (
    BuildMode, CpuArch, Lifecycle, NetworkZone, OsDistribution, Secrecy, Severity,
)
from govcloud.base.i18n import localize, tr
from govcloud.render.i18n import enum_label, t


class Output(str, Enum):
    text = "text"
    json = "json"


class Lang(str, Enum):
    zh = "zh"
    en = "en"


# ---------------------------------------------------------------- safe terminal output

_KEEP = {"\n", "\t"}


def _escape_char(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") and ch not in _KEEP


def clean(text: str, *, newlines: bool = True) -> str:
    """``text`` with control characters (ESC sequences, CR, backspace, bidi overrides, zero-width
    characters) shown as visible escapes (``\\x1b``, ``\\u202e``) instead of acting on the terminal;
    with ``newlines=False`` a newline or tab is escaped too (one record, one line)."""
    if text.isprintable() if newlines is False else all(ch.isprintable() or ch in _KEEP for ch in text):
        return text
    return "".join(_escape_char(ch) if _is_control(ch) or (not newlines and ch in _KEEP) else ch for ch in text)


def safe(text: Any) -> Text:
    """Data as literal text: no rich markup interpreted, control characters escaped."""
    return Text(clean(str(text)))


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line from pieces ``"text"`` or ``("text", "style")``: styles without markup, so data in
    a piece can never be taken for markup (``[/]``, ``[red]``)."""
    out = Text()
    for part in parts:
        if isinstance(part, tuple):
            out.append(clean(part[0]), style=part[1])
        else:
            out.append(clean(part))
    return out


class SafeConsole(Console):
    """A rich console that never interprets markup in strings (data such as a system named
    ``[/]`` or ``[red]x`` prints literally and cannot crash a renderer) and never lets control
    characters from data reach the terminal: strings are cleaned before layout, and any control
    character left in a rendered text segment (from a Text built elsewhere) is escaped at the end."""

    def render_str(self, text: str, **kwargs: Any) -> Text:  # type: ignore[override]
        kwargs["markup"] = False
        return super().render_str(clean(text), **kwargs)

    def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:  # type: ignore[override]
        for seg in super().render(renderable, options):
            if seg.control is None and seg.text and not all(ch.isprintable() or ch in _KEEP for ch in seg.text):
                yield Segment(clean(seg.text), seg.style, seg.control)
            else:
                yield seg


    # ------------------------------------------------------------ the one wrapping rule

    @property
    def piped(self) -> bool:
        """Not a terminal: print every line whole (no wrap, no fold) and tables as tab-separated values."""
        return not self.is_terminal

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self.piped:
            kwargs["soft_wrap"] = True      # a line is never broken: paths, numbers, reasons stay whole
            kwargs.pop("width", None)
            if any(isinstance(o, Table) for o in objects):
                for o in objects:
                    if isinstance(o, Table):    # written as is: rich would expand the tabs to spaces
                        self.file.write("".join(line + "\n" for line in table_lines(o)))
                        self.file.flush()
                    else:
                        super().print(o, **kwargs)
                return
        else:
            for o in objects:
                if isinstance(o, Table):
                    fit_table(o, kwargs.get("width") or self.width)
        super().print(*objects, **kwargs)


def _cell_text(cell: RenderableType | None) -> str:
    if cell is None:
        return ""
    text = cell.plain if isinstance(cell, Text) else str(cell)
    return clean(" ".join(text.replace("\t", " ").splitlines()), newlines=False)


def table_lines(table: Table) -> list[str]:
    """A table as tab-separated lines (the piped form): ``# title``, the header line (when the table
    shows one), one line per row; a tab or newline inside a cell becomes a space."""
    lines: list[str] = []
    if table.title is not None:
        lines.append("# " + _cell_text(table.title))
    if table.show_header:
        lines.append("\t".join(_cell_text(c.header) for c in table.columns))
    cells = [list(c.cells) for c in table.columns]
    for n in range(table.row_count):
        lines.append("\t".join(_cell_text(col[n] if n < len(col) else "") for col in cells))
    if table.caption is not None:
        lines.append("# " + _cell_text(table.caption))
    return lines


_ATOM = 24      # an ASCII word up to this long (an id, a date, a number, a size) is never broken
_SHORT = 10     # a column whose cells are all this narrow (labels such as 非涉密, 政务外网) keeps them whole


def _plain(cell: RenderableType) -> str | None:
    return cell.plain if isinstance(cell, Text) else cell if isinstance(cell, str) else None


def _atomic(text: str) -> bool:
    return text.isascii() and not any(ch.isspace() for ch in text) and len(text) <= _ATOM


def _width(cell: RenderableType | None) -> int:
    text = _plain(cell) if cell is not None else ""
    return max((cell_len(line) for line in (text or "").splitlines()), default=0) if text is not None else 8


def fit_table(table: Table, width: int) -> Table:
    """A table made readable at the terminal's ``width`` (80 columns and up): compact borders (a rule
    under the header, no vertical lines, two spaces between columns). When it is too wide, the columns
    whose every cell is one ASCII word (an id, a number, a date) or a short label keep their cells
    whole — narrowest first, as many as the width allows — and the other columns share the rest in
    proportion to their contents, wrapping at spaces (Chinese text between any two characters); a
    word longer than its column folds onto the next line: nothing is ever cut to "…"."""
    table.box = box.SIMPLE_HEAD
    table.show_edge = False
    table.pad_edge = False
    table.padding = (0, 1, 0, 0)
    columns = table.columns
    if not columns:
        return table
    for column in columns:
        column.overflow = "fold"
        column.no_wrap = False
    cells = [list(c.cells) for c in columns]
    natural = [max([_width(c.header)] + [_width(x) for x in col]) for c, col in zip(columns, cells)]
    room = width - 2 * (len(columns) - 1) - 1
    if sum(natural) <= room:
        return table
    widest = [max((_width(x) for x in col), default=0) for col in cells]
    whole = [n for n, col in enumerate(cells)
             if col and all(isinstance(t, str) and (cell_len(t) <= _SHORT or _atomic(t)) for t in map(_plain, col))]
    fixed: dict[int, int] = {}
    key_whole = 0 in whole
    for text_min in (8, 6, 4):      # every column gets at least this much (4 Chinese characters), if it fits
        base = [max(min(text_min, natural[n]), 2) for n in range(len(columns))]   # 2: one Chinese character
        budget = room - sum(base)
        if budget >= (max(widest[0], 2) - base[0] if key_whole else 0):
            break                   # and the key column stays whole
    if budget < 0:                  # too many columns for the width: shares of it, rich folds the rest
        for n, column in enumerate(columns):
            column.width = max(2, room * base[n] // sum(base))
        return table
    for n in sorted(whole, key=lambda i: (i != 0, widest[i])):    # the key column, then the narrowest
        extra = max(widest[n], 2) - base[n]
        if extra <= budget:
            fixed[n] = base[n] + extra
            budget -= extra
    for n in sorted(fixed):         # then, if there is room, headers on one line
        add = min(max(min(_width(columns[n].header), _SHORT) - fixed[n], 0), budget)
        fixed[n] += add
        budget -= add
    rest = [n for n in range(len(columns)) if n not in fixed]
    for n in rest:
        fixed[n] = base[n]
    free = room - sum(fixed.values())
    excess = {n: natural[n] - fixed[n] for n in rest}
    total = sum(excess.values()) or 1
    if free > 0:                    # what is left, in proportion to what each text column still lacks
        for n in rest:
            fixed[n] += min(excess[n], free * excess[n] // total)
    spare = room - sum(fixed.values())
    for n in sorted(rest, key=lambda i: natural[i] - fixed[i], reverse=True):   # what rounding left over
        if spare <= 0:
            break
        add = min(spare, natural[n] - fixed[n])
        if add > 0:
            fixed[n] += add
            spare -= add
    for n, column in enumerate(columns):
        column.width = fixed[n]
        column.min_width = None
        column.max_width = None
    return table


def stdout() -> Console:
    return SafeConsole(soft_wrap=False, highlight=False, markup=False)


def stderr() -> Console:
    return SafeConsole(stderr=True, highlight=False, markup=False)


def print_json(data: Any) -> None:
    """Indented for a terminal; one compact line when piped (the C encoder: an import of 10,000
    VMs writes 12 MB, which the indenting pure-Python encoder takes about a second to produce)."""
    if sys.stdout.isatty():
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    else:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- problems


_SEV_STYLE = {Severity.error: "bold red", Severity.warning: "yellow"}


def render_problems(problems: Sequence[Problem], console: Console, lang: str,
                    warnings_per_code: int | None = None) -> None:
    """Compiler-style lines (``file:line:col: severity[code] ...``) that editors can jump to.

    Every error is listed. With ``warnings_per_code``, a warning code repeated more often than
    that (10,000 imported VMs that belong to no system yet) shows its first lines and a count."""
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for p in problems:
        if warnings_per_code is not None and not p.is_error:
            shown[p.code] = shown.get(p.code, 0) + 1
            if shown[p.code] > warnings_per_code:
                hidden[p.code] = hidden.get(p.code, 0) + 1
                continue
        line = Text()
        line.append(p.where(), style="bold")
        line.append(": ")
        line.append(f"{p.severity.label(lang)}[{p.code}]", style=_SEV_STYLE[p.severity])
        subject = " ".join(x for x in (p.kind, p.entity_id) if x)
        if subject:
            line.append(f" {subject}")
        if p.field:
            line.append(f" {p.field}", style="cyan")
        line.append(f": {localize(p.message, lang)}")   # a Msg in the reader's language (JSON keeps English)
        console.print(line, soft_wrap=True)  # one line per problem, so editors and grep can use it
        if p.hint:
            console.print(Text(f"    {t('hint', lang)}: {localize(p.hint, lang)}", style="dim"), soft_wrap=True)
    for code, n in hidden.items():
        msg = tr("{n} more [{code}] warnings not shown (all of them: --output json)", lang).format(n=f"{n:,}", code=code)
        console.print(Text(msg, style="yellow"), soft_wrap=True)


def problem_summary(problems: Sequence[Problem], files: int, records: int, seconds: float, lang: str) -> Text:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    msg = tr("{errors} error(s), {warnings} warning(s) in {files} file(s), {records} records, {seconds} s", lang).format(
        errors=errors, warnings=warnings, files=files, records=f"{records:,}", seconds=f"{seconds:.2f}")
    style = "bold red" if errors else ("yellow" if warnings else "bold green")
    return Text(("✗ " if errors else "✓ ") + msg, style=style)


# ---------------------------------------------------------------- inventory views


def _table(title: str, columns: Iterable[str], lang: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(t(c, lang), overflow="fold")
    return table


def systems_table(systems: list[dict], lang: str, orgs: dict[str, str], title: str) -> Table:
    table = _table(title, ("id", "name", "owner_org", "secrecy", "build_mode", "lifecycle", "mlps_level",
                           "network_zone", "servers"), lang)
    for s in systems:
        table.add_row(s["id"], s["name"], orgs.get(s["owner_org"], s["owner_org"]),
                      enum_label(Secrecy, s["secrecy"], lang), enum_label(BuildMode, s["build_mode"], lang),
                      enum_label(Lifecycle, s["lifecycle"], lang), str(s["mlps_level"] or "-"),
                      enum_label(NetworkZone, s["network_zone"], lang), str(len(s["servers"])))
    return table


def servers_table(servers: list[dict], lang: str, title: str) -> Table:
    table = _table(title, ("id", "hostname", "machine_room", "cpu_arch", "os", "os_eol", "cores", "ram_gb",
                           "systems"), lang)
    for s in servers:
        os_name = enum_label(OsDistribution, s["os_distribution"], lang)
        table.add_row(s["id"], s["hostname"], s["machine_room"] or "-",
                      enum_label(CpuArch, s["cpu_arch"], lang), f"{os_name} {s['os_version'] or ''}".strip(),
                      s["os_eol"] or "", str(s["cores"]) if s["cores"] is not None else "-", f"{s['ram_gb']:g}" if s["ram_gb"] is not None else "-",
                      ", ".join(s["systems"]) or "-")
    return table


def overview_table(counts: dict[str, int], lang: str, title: str) -> Table:
    table = _table(title, ("name", "count"), lang)
    for key, n in counts.items():
        table.add_row(t(key, lang), f"{n:,}")
    return table


_BREAKDOWN_ENUMS = {"by_secrecy": Secrecy, "by_build_mode": BuildMode, "by_lifecycle": Lifecycle,
                    "by_network_zone": NetworkZone, "by_os_distribution": OsDistribution,
                    "by_cpu_arch": CpuArch}


def render_stats(data: dict[str, Any], console: Console, lang: str, *, top: int = 15) -> None:
    scalars = {k: v for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    console.print(overview_table(scalars, lang, t("summary", lang)))
    dept = _table(t("by_department", lang), ("org", "systems", "servers"), lang)
    for row in data["by_department"][:top]:
        dept.add_row(row["name"], f"{row['systems']:,}", f"{row['servers']:,}")
    if len(data["by_department"]) > top:
        dept.add_row(f"… (+{len(data['by_department']) - top})", "", "")
    console.print(dept)
    for key, counts in data.items():
        if not key.startswith("by_") or key == "by_department":
            continue
        total = sum(counts.values()) or 1
        table = _table(t(key, lang), ("name", "count", "share"), lang)
        enum_cls = _BREAKDOWN_ENUMS.get(key)
        items = list(counts.items())
        for name, n in items[:top]:
            if enum_cls:
                shown = enum_label(enum_cls, name, lang)
            elif name == "unknown":
                shown = t("unknown", lang)
            elif key == "by_mlps_level":
                shown = tr("level {n}", lang).format(n=name)
            else:
                shown = name
            table.add_row(shown, f"{n:,}", f"{100 * n / total:.1f}%")
        if len(items) > top:
            table.add_row(f"… (+{len(items) - top})", "", "")
        console.print(table)
