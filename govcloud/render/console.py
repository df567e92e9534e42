"""The one renderer for terminals and JSON.

Commands hand plain data to these functions. With ``--output json`` stdout gets
exactly one JSON document and nothing else; everything meant for a person
(progress, summaries of a JSON run, diagnostics) goes to stderr.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from enum import Enum
from typing import Any, Iterable, Sequence

from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from govcloud.inventory.problems import Problem
from govcloud.model.enums import (
    BuildMode, CpuArch, Lifecycle, NetworkZone, OsDistribution, Secrecy, Severity,
)
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
        line.append(f": {p.message}")
        console.print(line, soft_wrap=True)  # one line per problem, so editors and grep can use it
        if p.hint:
            console.print(Text(f"    {t('hint', lang)}: {p.hint}", style="dim"), soft_wrap=True)
    for code, n in hidden.items():
        msg = (f"另有 {n:,} 条 [{code}] 警告未列出（全部见 --output json）" if lang == "zh"
               else f"{n:,} more [{code}] warnings not shown (all of them: --output json)")
        console.print(Text(msg, style="yellow"), soft_wrap=True)


def problem_summary(problems: Sequence[Problem], files: int, records: int, seconds: float, lang: str) -> Text:
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if lang == "zh":
        msg = f"{errors} 个错误，{warnings} 个警告；{files} 个文件，{records:,} 条记录，用时 {seconds:.2f} 秒"
    else:
        msg = f"{errors} error(s), {warnings} warning(s) in {files} file(s), {records:,} records, {seconds:.2f} s"
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
                shown = f"{name}级" if lang == "zh" else f"level {name}"
            else:
                shown = name
            table.add_row(shown, f"{n:,}", f"{100 * n / total:.1f}%")
        if len(items) > top:
            table.add_row(f"… (+{len(items) - top})", "", "")
        console.print(table)
