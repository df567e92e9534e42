"""Exports of an inventory for auditors and departments: XLSX, CSV, JSON or HTML.

Tables: departments, machine rooms, systems, servers, databases, dependencies, the
政务信息资源目录 catalogue and the census form (普查表, DOMAIN.md §3.5: one row per
system). Column headers come from the field metadata (``zh``/``en``); enum values
are shown as labels in the chosen language, except in JSON, which keeps the keys.

Classified systems (DOMAIN.md §7.11): unless ``include_classified``, a classified
system keeps only id, name, owner, secrecy, grade and lifecycle, the other cells are
blank and the export note says "涉密，详情不予导出"; classified catalogue entries
likewise. Servers, databases and dependencies that belong only to classified
systems are withheld altogether (their count is in ``export.json``).

The JSON export is also the machine round-trip format (``govcloud inventory import --format
govcloud``): besides the tables above it carries every other section of the inventory —
``inventory`` (the inventory's own record), regions, cloud platforms and zones, policies,
takeovers, freeze windows and observations — one ``<table>.json`` each, with records' own
``observed`` as written (observations are their own table, merged again on load). The
XLSX, CSV and HTML exports for people keep the eight tables. Takeovers of classified systems
and observations of withheld servers or classified systems are withheld like their records.

Everything is written into a staging directory next to the target and published by one
rename at the end (an exchange with an earlier export, which is removed after); ``MANIFEST.sha256`` (``sha256sum`` format) is written last
and covers every other file. ``verify_export`` checks it.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import io
import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from govcloud.base import stamp
from govcloud.base.progress import NULL, NULL_PHASE, Phase, Progress
from govcloud import __version__
from govcloud.errors import GovcloudError
from govcloud.model.entities import (
    SECTION_BY_KEY, DatabaseInstance, Dependency, Disk, InformationResource, InformationSystem, InventoryMeta,
    MachineRoom, Organization, Server, yaml_key,
)
from govcloud.model.enums import LabeledEnum, Secrecy, ServerKind
from govcloud.model.inventory import Inventory
from govcloud.base.atomic import write_atomic
from govcloud.base.digest import file_sha256
from govcloud.base.i18n import Msg, tr, zh_en

FORMATS = ("xlsx", "csv", "json", "html")
MANIFEST = "MANIFEST.sha256"
INFO = "export.json"
REDACTED = dict(zip(("zh", "en"), zh_en("classified: details not exported")))
NOTE_COL = ("export_note", *zh_en("export note"))


class ExportError(GovcloudError):
    pass


# ---------------------------------------------------------------- tables


@dataclass
class Column:
    key: str
    zh: str
    en: str
    get: Callable[[Any], Any]
    keep_when_redacted: bool = False

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass
class Table:
    key: str        # file name stem and JSON key
    zh: str         # sheet title
    en: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)   # raw values (enums, dates, tuples…)
    withheld: int = 0
    redacted: int = 0

    def title(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


TABLE_TITLES = {
    "departments": zh_en("departments"),
    "machine_rooms": zh_en("machine rooms"),
    "systems": zh_en("systems"),
    "servers": zh_en("servers"),
    "databases": zh_en("databases"),
    "dependencies": zh_en("dependencies", ctx="section"),
    "catalogue": zh_en("resource catalogue"),
    "census": zh_en("census form"),
    "inventory": zh_en("inventory", ctx="inventory header"),
}
# the sections only the JSON export carries (for the round trip): table key = section key
MACHINE_SECTIONS = ("regions", "cloud_platforms", "cloud_zones", "execution_nodes", "policies", "takeovers",
                    "freeze_windows", "observations")
TABLE_TITLES.update({k: (SECTION_BY_KEY[k].zh, SECTION_BY_KEY[k].en) for k in MACHINE_SECTIONS})
_AS_LOADED = object()


def _field_columns(cls: type, keep: Iterable[str] = (), skip: Iterable[str] = ()) -> list[Column]:
    """One column per field; a nested single record (e.g. 立项审批) becomes one column per sub-field."""
    keep, skip = set(keep), set(skip)
    cols: list[Column] = []
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        zh, en = f.metadata["zh"], f.metadata.get("en") or f.name
        sub = _nested_record(f)
        if sub is not None:
            for sf in dataclasses.fields(sub):
                cols.append(Column(f"{yaml_key(f.name)}.{sf.name}", f"{zh}·{sf.metadata['zh']}",
                                   f"{en}: {sf.metadata.get('en') or sf.name}",
                                   _sub_getter(f.name, sf.name)))
            continue
        cols.append(Column(yaml_key(f.name), zh, en, _getter(f.name), f.name in keep))
    return cols


def _nested_record(f: dataclasses.Field) -> type | None:
    t = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    name = t.split("|")[0].strip()
    cls = {"Approval": "Approval", "SecrecyExemption": "SecrecyExemption",
           "CryptoAssessment": "CryptoAssessment"}.get(name)
    if cls is None:
        return None
    from govcloud.model import entities
    return getattr(entities, cls)


def _getter(attr: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, attr)


def _sub_getter(attr: str, sub: str) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        inner = getattr(obj, attr)
        return None if inner is None else getattr(inner, sub)
    return get


def _fcol(cls: type, attr: str, key: str | None = None, get: Callable[[Any], Any] | None = None,
          keep: bool = False) -> Column:
    f = {x.name: x for x in dataclasses.fields(cls)}[attr]
    return Column(key or yaml_key(attr), f.metadata["zh"], f.metadata.get("en") or attr, get or _getter(attr), keep)


SYSTEM_KEEP = ("id", "name", "owner_org", "secrecy", "secrecy_grade", "lifecycle")
RESOURCE_KEEP = ("id", "name", "provider_org", "secrecy")


@dataclass
class Context:
    inv: Inventory
    include_classified: bool
    # (section, id) → the record's ``observed`` as written, for records observations were merged into
    observed: Mapping[tuple[str, str], Any] | None = None

    def __post_init__(self) -> None:
        inv = self.inv
        self.classified = {s.id for s in inv.systems.values() if s.is_classified}
        users = inv.server_systems
        self.hidden_servers = {sid for sid in inv.servers
                               if users.get(sid) and all(u in self.classified for u in users[sid])}
        self.hidden_dbs = {d.id for d in inv.databases.values()
                           if d.used_by and all(u in self.classified for u in d.used_by)}

    def hide(self, kind: str, obj: Any) -> bool:
        if self.include_classified:
            return False
        if kind == "server":
            return obj.id in self.hidden_servers
        if kind == "database":
            return obj.id in self.hidden_dbs
        if kind == "dependency":
            return obj.from_ in self.classified or obj.to in self.classified
        if kind == "takeover":
            return obj.system in self.classified
        if kind == "observation":
            return obj.server in self.hidden_servers or obj.system in self.classified
        return False

    def redact(self, obj: Any) -> bool:
        return not self.include_classified and getattr(obj, "secrecy", None) is Secrecy.classified


def _entity_table(key: str, cls: type, records: Iterable[Any], ctx: Context, kind: str,
                  keep: Iterable[str] = (), note: bool = False) -> Table:
    zh, en = TABLE_TITLES[key]
    cols = _field_columns(cls, keep=keep)
    if ctx.observed and key in ("servers", "systems"):
        written = ctx.observed
        for c in cols:
            if c.key == "observed":
                c.get = lambda o, _s=key: (o.observed if (v := written.get((_s, o.id), _AS_LOADED)) is _AS_LOADED
                                           else v)
    if key == "servers":
        for c in cols:
            if c.key == "cpu_arch":     # while the census has not established it, the x86_64 default is no answer
                c.get = lambda o: o.known_cpu_arch
    if note:
        cols.append(Column(NOTE_COL[0], NOTE_COL[1], NOTE_COL[2], lambda o: None, True))
    table = Table(key, zh, en, cols)
    for obj in records:
        if ctx.hide(kind, obj):
            table.withheld += 1
            continue
        redact = note and ctx.redact(obj)
        table.redacted += redact
        row = []
        for c in cols:
            if c.key == NOTE_COL[0]:
                row.append(_Redacted() if redact else None)
            elif redact and not c.keep_when_redacted:
                row.append(None)
            else:
                row.append(c.get(obj))
        table.rows.append(row)
    return table


class _Redacted:
    """The export-note marker, rendered in the export's language."""


class _Versioned(NamedTuple):
    """An enum with a version (操作系统 CentOS 7, 数据库 达梦 8), labelled in the export's language."""

    kind: Enum
    version: str | None

    def render(self, lang: str | None) -> str:
        name = _scalar(self.kind, lang) if lang else self.kind.value
        return f"{name} {self.version}" if self.version else str(name)


def _census_table(inv: Inventory, ctx: Context) -> Table:
    S = InformationSystem
    org = inv.organizations
    rooms = inv.machine_rooms
    dbs_of: dict[str, list[DatabaseInstance]] = {}
    for db in inv.databases.values():
        for u in db.used_by:
            dbs_of.setdefault(u, []).append(db)
    deps_of: dict[str, list[str]] = {}
    for d in inv.dependencies:
        deps_of.setdefault(d.from_, []).append(d.to)
        deps_of.setdefault(d.to, []).append(d.from_)

    def servers(s: InformationSystem) -> list[Server]:
        return [inv.servers[x] for x in s.servers if x in inv.servers]

    def room_list(s: InformationSystem) -> list[MachineRoom]:
        seen: dict[str, MachineRoom] = {}
        for srv in servers(s):
            if srv.machine_room and srv.machine_room in rooms:
                seen.setdefault(srv.machine_room, rooms[srv.machine_room])
        return list(seen.values())

    def org_name(s: InformationSystem) -> str:
        o = org.get(s.owner_org)
        return o.name if o else s.owner_org

    def count(kinds: tuple) -> Callable[[InformationSystem], int]:
        return lambda s: sum(1 for x in servers(s) if x.kind in kinds)

    def uniq(values: Iterable[Any]) -> tuple:
        return tuple(dict.fromkeys(v for v in values if v is not None))

    A = lambda attr, sub: (lambda s: getattr(getattr(s, attr), sub) if getattr(s, attr) else None)  # noqa: E731
    C = Column
    cols: list[Column] = [
        C("row_no", *zh_en("no."), lambda s: None, True),
        C("org_name", *zh_en("department (full name)"), org_name, True),
        C("org_usci", *zh_en("unified social credit code"),
          lambda s: org[s.owner_org].usci if s.owner_org in org else None),
        _fcol(S, "name", keep=True),
        _fcol(S, "description"),
        _fcol(S, "category"),
        _fcol(S, "build_mode"),
        _fcol(S, "vertical_authority"),
        C("builder", *zh_en("builder (owner)"), lambda s: s.builder),
        _fcol(S, "developer"),
        _fcol(S, "maintainer"),
        C("approval.body", *zh_en("approving body"), A("approval", "body")),
        C("approval.doc_no", *zh_en("approval document no."), A("approval", "doc_no")),
        C("approval.date", *zh_en("approval date"), A("approval", "date")),
        _fcol(S, "built_at"),
        _fcol(S, "go_live"),
        _fcol(S, "investment_wan"),
        _fcol(S, "funding_source"),
        _fcol(S, "annual_om_wan"),
        _fcol(S, "contract_end"),
        _fcol(S, "lifecycle", keep=True),
        _fcol(S, "service_scope"),
        _fcol(S, "users"),
        _fcol(S, "daily_visits"),
        _fcol(S, "monthly_cases"),
        _fcol(S, "audience"),
        _fcol(S, "can_business_continue_without"),
        _fcol(S, "is_24x7"),
        _fcol(S, "importance"),
        _fcol(S, "network_zone"),
        _fcol(S, "secrecy", keep=True),
        _fcol(S, "secrecy_grade", keep=True),
        _fcol(S, "mlps_level"),
        _fcol(S, "mlps_s_level"),
        _fcol(S, "mlps_a_level"),
        _fcol(S, "mlps_filing_no"),
        _fcol(S, "mlps_last_assessed"),
        _fcol(S, "mlps_result"),
        C("crypto_assessment", *zh_en("crypto assessment"),
          lambda s: None if s.crypto_assessment is None else
          (s.crypto_assessment.done, s.crypto_assessment.date, s.crypto_assessment.result)),
        C("deploy_location", *zh_en("deployment location"), lambda s: uniq(r.room_type for r in room_list(s))),
        C("machine_rooms", *zh_en("machine rooms", ctx='column'), lambda s: uniq(r.name for r in room_list(s))),
        C("server_count", *zh_en("servers", ctx='column'), lambda s: len(servers(s))),
        C("physical_servers", *zh_en("physical servers"),
          count((ServerKind.physical, ServerKind.minicomputer))),
        C("virtual_servers", *zh_en("virtual servers"), count((ServerKind.vm, ServerKind.container_host))),
        C("cpu_arch", *zh_en("CPU architecture"), lambda s: uniq(x.known_cpu_arch for x in servers(s))),
        C("os", *zh_en("operating systems"),
          lambda s: uniq(_Versioned(x.os_distribution, x.os_version) for x in servers(s)
                         if x.os_distribution is not None)),
        C("databases", *zh_en("databases", ctx='column'), lambda s: uniq(
            _Versioned(d.engine, d.version) for d in dbs_of.get(s.id, ()))),
        C("middleware", *zh_en("middleware"), lambda s: uniq(
            " ".join(p for p in (sw.name, sw.version) if p) for x in servers(s) for sw in x.software)),
        C("storage_gb", *zh_en("storage (GB)"), lambda s: sum(x.disk_gb for x in servers(s)) or None),
        _fcol(S, "data_gb"),
        _fcol(S, "shared_platform_connected"),
        C("interfaced_systems", *zh_en("interfaced systems"), lambda s: uniq(deps_of.get(s.id, ()))),
        C("zombie", *zh_en("zombie system"), lambda s: s.lifecycle.value == "zombie"),
        _fcol(S, "zombie_criteria"),
        _fcol(S, "covered_by_platform"),
        _fcol(S, "contacts"),
        _fcol(S, "evidence"),
        C("system_id", *zh_en("system id"), lambda s: s.id, True),
        Column(NOTE_COL[0], NOTE_COL[1], NOTE_COL[2], lambda s: None, True),
    ]
    zh, en = TABLE_TITLES["census"]
    table = Table("census", zh, en, cols)
    for n, s in enumerate(inv.systems.values(), 1):
        redact = ctx.redact(s)
        table.redacted += redact
        row: list[Any] = []
        for c in cols:
            if c.key == "row_no":
                row.append(n)
            elif c.key == NOTE_COL[0]:
                row.append(_Redacted() if redact else None)
            elif redact and not c.keep_when_redacted:
                row.append(None)
            else:
                row.append(c.get(s))
        table.rows.append(row)
    return table


def build_tables(inv: Inventory, *, include_classified: bool = False, complete: bool = False,
                 observed_as_written: Mapping[tuple[str, str], Any] | None = None) -> list[Table]:
    """The eight tables for people; ``complete`` adds the inventory record and every other section
    (the JSON export). ``observed_as_written`` maps (section, id) to the ``observed`` a person wrote
    for the records whose ``observed`` validation merged observations into (``complete`` only)."""
    ctx = Context(inv, include_classified, observed_as_written if complete else None)
    tables = [
        _entity_table("departments", Organization, inv.organizations.values(), ctx, "organization"),
        _entity_table("machine_rooms", MachineRoom, inv.machine_rooms.values(), ctx, "machine_room"),
        _entity_table("systems", InformationSystem, inv.systems.values(), ctx, "system",
                      keep=SYSTEM_KEEP, note=True),
        _entity_table("servers", Server, inv.servers.values(), ctx, "server"),
        _entity_table("databases", DatabaseInstance, inv.databases.values(), ctx, "database"),
        _entity_table("dependencies", Dependency, inv.dependencies, ctx, "dependency"),
        _entity_table("catalogue", InformationResource, inv.resources.values(), ctx, "resource",
                      keep=RESOURCE_KEEP, note=True),
        _census_table(inv, ctx),
    ]
    if complete:
        tables.append(_entity_table("inventory", InventoryMeta, [inv.meta] if inv.meta else [], ctx, "inventory"))
        for key in MACHINE_SECTIONS:
            sec = SECTION_BY_KEY[key]
            store = inv.section(key)
            tables.append(_entity_table(key, sec.cls, store if isinstance(store, list) else store.values(), ctx,
                                        sec.kind))
    return tables


# ---------------------------------------------------------------- cell values


_YES_NO = {"zh": (tr("yes", "zh"), tr("no", "zh")), "en": ("yes", "no")}


def _scalar(value: Any, lang: str) -> Any:
    if isinstance(value, LabeledEnum):
        return value.label(lang)
    if isinstance(value, Enum):
        return value.value
    return value


def cell(value: Any, lang: str) -> Any:
    """A value as a spreadsheet cell: labels for enums, ISO dates, joined lists, 是/否."""
    t = type(value)
    if t is str or t is int or t is float or value is None:   # most cells: no isinstance chain
        return value
    if isinstance(value, _Redacted):
        return REDACTED[lang]
    if isinstance(value, _Versioned):
        return value.render(lang)
    if isinstance(value, bool):
        return _YES_NO[lang][0 if value else 1]
    if isinstance(value, Enum):
        return _scalar(value, lang)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, str)):
        return value
    if isinstance(value, (tuple, list)):
        parts = [cell(v, lang) for v in value]
        text = tr("; ", lang, ctx="list separator").join(str(p) for p in parts if p not in (None, ""))
        return text or None
    if isinstance(value, Disk):
        used = f" ({tr('used', lang)} {value.used_gb:g})" if value.used_gb is not None else ""
        return f"{value.name + ' ' if value.name else ''}{value.size_gb:g}GB{used}"
    if dataclasses.is_dataclass(value):
        parts = [cell(getattr(value, f.name), lang) for f in dataclasses.fields(value)]
        return " ".join(str(p) for p in parts if p not in (None, "")) or None
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return str(value)


def plain(value: Any) -> Any:
    """A value for JSON: enum keys, ISO dates, nested records as objects."""
    if value is None:
        return None
    if isinstance(value, _Redacted):
        return REDACTED["zh"]
    if isinstance(value, _Versioned):
        return value.render(None)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {yaml_key(f.name): plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------- writers


def _counted(table: Table, ph: Phase, lang: str) -> Iterable[list[Any]]:
    """The table's rows, reporting every 500 written (phase ``export.rows``)."""
    shown = table.title(lang)
    n = 0
    for row in table.rows:
        yield row
        n += 1
        if n == 500:
            ph.advance(n, item=shown)
            n = 0
    if n:
        ph.advance(n, item=shown)


def _write_xlsx(tables: list[Table], out: Path, lang: str, title: str, ph: Phase = NULL_PHASE) -> list[str]:
    """One workbook, one sheet per table, streamed by our own writer (``xlsxstream``): openpyxl,
    even write-only, spent ~20 s building cell objects for a province's ~3 million cells."""
    from govcloud.inventory.xlsxstream import Sheet, write_workbook

    sheets = []
    for table in tables:
        headers = [c.label(lang) for c in table.columns]
        widths = [_width(h) for h in headers]
        for row in table.rows[:2000]:   # a sample is enough to size the columns
            for i, v in enumerate(row):
                if widths[i] < 60:
                    v = cell(v, lang)
                    if v is not None:
                        widths[i] = max(widths[i], _width(str(v)))
        sheets.append(Sheet(_sheet_name(table.title(lang)), headers, _xlsx_rows(_counted(table, ph, lang), lang),
                            len(table.rows), [min(max(w + 2, 8), 60) for w in widths]))
    buf = io.BytesIO()
    write_workbook(buf, sheets, title=title, creator=f"govcloud {__version__}")
    name = "inventory.xlsx"
    write_atomic(out / name, buf.getvalue())
    return [name]


def _xlsx_rows(rows: Iterable[list[Any]], lang: str) -> Iterable[list[Any]]:
    for row in rows:
        yield [cell(v, lang) for v in row]


# what replaces a character a sheet name may not hold: the ideographic comma (、), as in a list
_SHEET_NAME_SEP = chr(0x3001)


def _sheet_name(title: str) -> str:
    for ch in '[]:*?/\\':
        title = title.replace(ch, _SHEET_NAME_SEP)
    return title[:31]


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# what a spreadsheet may take for the start of a formula (or trims before one): = + - @, TAB, CR, LF,
# a space, and the full-width ＝ ＋ － ＠ that some IMEs produce and Excel/WPS also accept
_FORMULA_START = frozenset("=+-@\t\r\n ") | {chr(c) for c in (0x3000, 0xFF1D, 0xFF0B, 0xFF0D, 0xFF20)}


def _csv_value(v: Any) -> Any:
    """A CSV cell that no spreadsheet evaluates: text starting like a formula gets a leading ``'``."""
    if isinstance(v, str) and v[:1] in _FORMULA_START and len(v) > 1:
        return "'" + v
    return "" if v is None else v


def _write_csv(tables: list[Table], out: Path, lang: str, title: str, ph: Phase = NULL_PHASE) -> list[str]:
    names = []
    for table in tables:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow([c.label(lang) for c in table.columns])
        for row in _counted(table, ph, lang):
            w.writerow([_csv_value(cell(v, lang)) for v in row])
        name = f"{table.key}.csv"
        write_atomic(out / name, "\ufeff" + buf.getvalue())  # BOM: Excel on Chinese Windows reads UTF-8
        names.append(name)
    return names


def _write_json(tables: list[Table], out: Path, lang: str, title: str, ph: Phase = NULL_PHASE) -> list[str]:
    names = []
    for table in tables:
        keys = [c.key for c in table.columns]
        doc = {
            "table": table.key,
            "title": table.title(lang),
            "columns": [{"key": c.key, "label": c.label(lang)} for c in table.columns],
            "rows": [dict(zip(keys, (plain(v) for v in row))) for row in _counted(table, ph, lang)],
        }
        name = f"{table.key}.json"
        write_atomic(out / name, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
        names.append(name)
    return names


_CSS = """body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC",sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}nav a{margin-right:1em}
.wrap{overflow:auto;max-height:80vh;border:1px solid #ccc}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:2px 6px;white-space:nowrap}
th{background:#ddebf7;position:sticky;top:0}tr:nth-child(even) td{background:#f7f7f7}
td.redacted{color:#a00;font-weight:bold}.meta{color:#555}"""


def _write_html(tables: list[Table], out: Path, lang: str, title: str, info: dict | None = None,
                ph: Phase = NULL_PHASE) -> list[str]:
    e = html.escape
    parts = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
             f"<title>{e(title)}</title><style>{_CSS}</style></head><body>", f"<h1>{e(title)}</h1>"]
    if info:
        mode = info["classified"]
        parts.append(f'<p class="meta">{e(info["generated_at"])} · govcloud {e(__version__)} · '
                     f'{tr("classified systems", lang)}: {e(mode)}</p>')
    parts.append("<nav>" + "".join(f'<a href="#{t.key}">{e(t.title(lang))} ({len(t.rows)})</a>'
                                   for t in tables) + "</nav>")
    for table in tables:
        parts.append(f'<h2 id="{table.key}">{e(table.title(lang))}</h2><div class="wrap"><table><thead><tr>')
        parts.append("".join(f"<th>{e(c.label(lang))}</th>" for c in table.columns))
        parts.append("</tr></thead><tbody>")
        for row in _counted(table, ph, lang):
            cells = []
            for v in row:
                shown = cell(v, lang)
                cls = ' class="redacted"' if isinstance(v, _Redacted) else ""
                cells.append(f"<td{cls}>{'' if shown is None else e(str(shown))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
    parts.append("</body></html>\n")
    name = "inventory.html"
    write_atomic(out / name, "".join(parts))
    return [name]


WRITERS: dict[str, Callable[..., list[str]]] = {
    "xlsx": _write_xlsx, "csv": _write_csv, "json": _write_json, "html": _write_html,
}


# ---------------------------------------------------------------- manifest


def _files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def write_manifest(root: Path) -> str:
    """``MANIFEST.sha256`` over every other file under ``root``; returns the manifest's own sha256."""
    lines = [f"{file_sha256(root / rel)}  {rel}\n" for rel in _files_under(root) if rel != MANIFEST]
    text = "".join(lines)
    write_atomic(root / MANIFEST, text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class VerifyProblem:
    path: str
    code: str          # missing | extra | modified | manifest
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"{self.code}: {self.path}: {self.message}"


def verify_export(root: Path | str) -> list[VerifyProblem]:
    root = Path(root)
    manifest = root / MANIFEST
    if not root.is_dir():
        return [VerifyProblem(str(root), "manifest", Msg("not a directory"))]
    if not manifest.is_file():
        return [VerifyProblem(MANIFEST, "manifest", Msg("no manifest in this directory"))]
    expected: dict[str, str] = {}
    problems: list[VerifyProblem] = []
    for n, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64 or not rel or rel.startswith("/") or ".." in Path(rel).parts:
            problems.append(VerifyProblem(MANIFEST, "manifest", Msg("line {n} is malformed", n=n)))
            continue
        expected[rel] = digest.lower()
    present = set(_files_under(root)) - {MANIFEST}
    for rel, digest in sorted(expected.items()):
        if rel not in present:
            problems.append(VerifyProblem(rel, "missing", Msg("listed in the manifest but absent")))
        elif file_sha256(root / rel) != digest:
            problems.append(VerifyProblem(rel, "modified", Msg("content differs from the manifest's sha256")))
    for rel in sorted(present - set(expected)):
        problems.append(VerifyProblem(rel, "extra", Msg("not listed in the manifest")))
    return problems


# ---------------------------------------------------------------- the export


@dataclass
class ExportResult:
    out: Path
    files: list[str]
    manifest_sha256: str
    info: dict[str, Any]


def _check_target(out: Path, force: bool) -> None:
    """An existing ``out`` is replaced only when it is an earlier export holding nothing but
    what that export wrote (checked against its own MANIFEST), or with ``force``."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ExportError(Msg("{out} exists and is not a directory", out=out))
    if not out.is_dir() or not any(out.iterdir()) or force:
        return
    if not ((out / MANIFEST).is_file() and (out / INFO).is_file()):
        raise ExportError(Msg("{out} is not empty and is not an earlier export; refusing to replace it", out=out),
                          hint=Msg("choose a new or empty directory (or pass --force to replace it)"))
    foreign = [p for p in verify_export(out) if p.code in ("extra", "modified", "manifest")]
    if foreign:
        names = ", ".join(p.path for p in foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise ExportError(Msg("{out} holds files the earlier export did not write or that were changed since "
                              "({names}); refusing to replace it", out=out, names=names),
                          hint=Msg("move those files away, choose another --out, or pass --force to replace it"))


def export_inventory(inv: Inventory, out: Path | str, *, fmt: str = "xlsx", lang: str = "zh",
                     include_classified: bool = False, source: str | None = None,
                     before_publish: Callable[[ExportResult], None] | None = None,
                     observed_as_written: Mapping[tuple[str, str], Any] | None = None,
                     transaction: Any = None, force: bool = False, progress: Progress = NULL) -> ExportResult:
    """Write the export to ``out`` all at once: built in a temporary sibling directory, then renamed.

    JSON exports every section (see the module doc). ``observed_as_written``: see
    :func:`build_tables` and :func:`observed_as_written`; without it a record's ``observed`` is
    exported as merged, which loads back to the same merged view (merging again changes nothing).

    ``before_publish`` runs after the manifest is written and before the rename (the CLI
    records the audit entry there, so an export that cannot be audited is not published).

    ``transaction`` (a :class:`govcloud.store.txn.Transaction` of the locked inventory): the
    staging folder is reserved in it and the publication (with the audit entry) is its commit,
    so a kill at any point is completed or discarded by the inventory's next command. The
    previous export is swapped out by one rename and removed only once the new one is in place.
    """
    if fmt not in WRITERS:
        raise ExportError(Msg("unknown format {fmt!r}; choose one of {formats}", fmt=fmt, formats=', '.join(FORMATS)))
    if lang not in ("zh", "en"):
        raise ExportError(Msg("unknown language {lang!r}; choose zh or en", lang=lang))
    out = Path(out).absolute()
    _check_target(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    with progress.phase("export.tables"):
        tables = build_tables(inv, include_classified=include_classified, complete=fmt == "json",
                              observed_as_written=observed_as_written)
    name = inv.meta.name if inv.meta else (source or "inventory")
    title = f"{name} — {tr('inventory export', lang)}"
    info: dict[str, Any] = {
        "generator": f"govcloud {__version__}",
        "generated_at": stamp.utc_now(),
        "inventory": name,
        "source": source,
        "as_of": inv.meta.as_of.isoformat() if inv.meta and inv.meta.as_of else None,
        "format": fmt,
        "lang": lang,
        "classified": "included" if include_classified else "redacted",
        "classified_systems": sum(1 for s in inv.systems.values() if s.is_classified),
        "tables": {t.key: {"title": t.title(lang), "rows": len(t.rows), "redacted": t.redacted,
                           "withheld": t.withheld} for t in tables},
    }
    from govcloud.store.txn import Transaction

    t = transaction
    if t is None:           # a library call: its own transaction beside the export (no lock)
        t = Transaction(out.parent / f".{out.name}.govcloud-export", "export")
    tmp = t.stage_dir(out)
    try:
        writer = WRITERS[fmt]
        with progress.phase("export.rows", total=sum(len(x.rows) for x in tables)) as ph:
            files = (writer(tables, tmp, lang, title, info, ph=ph) if fmt == "html"
                     else writer(tables, tmp, lang, title, ph=ph))
        write_atomic(tmp / INFO, json.dumps(info, ensure_ascii=False, indent=2) + "\n")
        with progress.phase("export.manifest"):
            digest = write_manifest(tmp)   # last: it covers everything above
        result = ExportResult(out, [*files, INFO, MANIFEST], digest, info)
        if before_publish is not None:
            before_publish(result)
        os.chmod(tmp, 0o755)
        t.publish_dir(tmp, out, digest)
        t.commit()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if transaction is None:
            shutil.rmtree(t.root, ignore_errors=True)
    return result


def observed_as_written(inv: Inventory, raw: Inventory) -> dict[tuple[str, str], Any]:
    """For the records of ``inv`` (validated: observations merged into ``observed``) that
    observations target, their ``observed`` as written, taken from ``raw`` (the same inventory
    loaded without validation)."""
    out: dict[tuple[str, str], Any] = {}
    for o in inv.observations:
        key = ("servers", o.server) if o.server else ("systems", o.system) if o.system else None
        if key is None or key in out:
            continue
        record = raw.section(key[0]).get(key[1])
        out[key] = record.observed if record is not None else None
    return out
