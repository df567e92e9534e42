"""The census form (普查表, DOMAIN.md §3.5): the blank template departments fill in, and the
parser that reads a filled form back into records.

One row per information system on the systems sheet (信息系统普查表), one row per server on the
optional servers sheet (服务器, the §3.5 "Deployment" group at server level). The columns are
built from the entity field metadata (``fld`` zh/en labels, types, enums), so the form never
drifts from the model; the headers of ``inventory export``'s census sheet are accepted too, so
an exported form can be filled in and imported again.

Parsing accepts both languages' headers, Chinese or English enum labels (or the keys), yes/no as
是/否, dates as people type them (2019-02-01, 2019/2/1, 2019年2月, 2019年2月底, Excel dates), and
reports every bad cell with sheet, row and column header.
"""

from __future__ import annotations

import dataclasses
import io
import re
import typing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from govcloud.interchange.osmap import classify_os
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.interchange.tabular import (
    Column, Row, Sheet, TableFile, TableRefused, ValueProblem, make_problem, split_list, to_bool, to_date,
    to_enum, to_int, to_number, to_text,
)
from govcloud.model import entities as E
from govcloud.model import enums
from govcloud.model.enums import LabeledEnum, Severity
from govcloud.base.i18n import Msg, tr, zh_en
from govcloud.interchange import formats as vocab

FORMAT = "census"

SYSTEMS_SHEET = zh_en("census form")
SERVERS_SHEET = zh_en("servers")
HELP_SHEET = zh_en("instructions")
SYSTEMS_SHEET_ALIASES = (*SYSTEMS_SHEET, *vocab.CENSUS_SYSTEMS_SHEETS, "census", "systems")
SERVERS_SHEET_ALIASES = (*SERVERS_SHEET, *vocab.CENSUS_SERVERS_SHEETS)


@dataclass(frozen=True, slots=True)
class Field:
    """One form column: where its value goes and how a cell is read."""

    key: str                    # "name", "approval.date", "org.usci", "contact.phone", …
    zh: str
    en: str
    kind: str                   # text | int | float | date | bool | enum | enum_list | text_list
    enum: type[LabeledEnum] | None = None
    required: bool = False
    aliases: tuple[str, ...] = ()
    note: tuple[str, str] = ("", "")    # (Chinese, English): zh_en("…")

    def header(self, lang: str) -> str:
        return (self.zh if lang == "zh" else self.en) + ("*" if self.required else "")

    def column(self) -> Column:
        return Column(self.key, (self.zh, self.en, *self.aliases), self.required)


def _kind(cls: type, f: dataclasses.Field) -> tuple[str, type[LabeledEnum] | None]:
    hints = typing.get_type_hints(cls, vars(E), vars(enums))
    t = hints[f.name]
    args = [a for a in typing.get_args(t) if a is not type(None)]
    if typing.get_origin(t) in (typing.Union, getattr(__import__("types"), "UnionType")) and args:
        t = args[0]
    if typing.get_origin(t) is tuple:
        inner = typing.get_args(t)[0]
        if isinstance(inner, type) and issubclass(inner, LabeledEnum):
            return "enum_list", inner
        return "text_list", None
    if isinstance(t, type) and issubclass(t, LabeledEnum):
        return "enum", t
    if t is bool:
        return "bool", None
    if t is int:
        return "int", None
    if t is float:
        return "float", None
    if t is date:
        return "date", None
    return "text", None


def _fields_of(cls: type, attrs: tuple[str, ...], *, prefix: str = "", required: tuple[str, ...] = (),
               aliases: dict[str, tuple[str, ...]] | None = None) -> list[Field]:
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    out = []
    for a in attrs:
        f = by_name[a]
        kind, enum = _kind(cls, f)
        out.append(Field(prefix + a, f.metadata["zh"], f.metadata.get("en") or a, kind, enum, a in required,
                         (aliases or {}).get(a, ())))
    return out


def _approval_fields() -> list[Field]:
    # 立项审批部门 / 审批文号 / 审批时间 (DOMAIN §3.5), also under the export's "立项审批·…" headers
    sub = {f.name: f for f in dataclasses.fields(E.Approval)}
    parent = {f.name: f for f in dataclasses.fields(S)}["approval"].metadata["zh"]
    return [
        Field("approval.body", *zh_en("approving body"), "text",
              aliases=(f"{parent}·{sub['body'].metadata['zh']}", "project approval: approving body")),
        Field("approval.doc_no", *zh_en("approval document no."), "text",
              aliases=(f"{parent}·{sub['doc_no'].metadata['zh']}", "project approval: document number")),
        Field("approval.date", *zh_en("approval date"), "date",
              aliases=(f"{parent}·{sub['date'].metadata['zh']}", "project approval: approval date")),
    ]


S = E.InformationSystem
_ORG = {f.name: f for f in dataclasses.fields(E.Organization)}

SYSTEM_FIELDS: list[Field] = [
    Field("org.name", _ORG["name"].metadata["zh"], "department (full name)", "text", required=True,
          aliases=(*vocab.CENSUS_HEADERS["org.name"], "department", "owner"),
          note=zh_en("the department's full name, no abbreviations")),
    Field("org.usci", _ORG["usci"].metadata["zh"], "unified social credit code", "text"),
    Field("sub_unit", *zh_en("sub-unit"), "text"),
    Field("id", *zh_en("system id"), "text", aliases=zh_en("id"),
          note=zh_en("the system's id in the inventory, if it has one")),
    *_fields_of(S, ("name",), required=("name",)),
    *_fields_of(S, ("description", "category", "build_mode", "vertical_authority")),
    *_fields_of(S, ("builder",), aliases={"builder": zh_en("builder (owner)")}),
    *_fields_of(S, ("developer", "maintainer")),
    *_approval_fields(),
    *_fields_of(S, ("built_at", "go_live", "investment_wan", "funding_source", "annual_om_wan", "contract_end",
                    "lifecycle", "service_scope", "users", "daily_visits", "monthly_cases", "audience",
                    "can_business_continue_without", "is_24x7", "importance", "network_zone", "extranet_area",
                    "secrecy", "secrecy_grade", "mlps_level", "mlps_s_level", "mlps_a_level", "mlps_status",
                    "mlps_filing_no", "mlps_last_assessed", "mlps_result", "data_gb", "shared_platform_connected",
                    "zombie_criteria", "covered_by_platform", "rpo_minutes", "rto_minutes")),
    Field("deploy_location", *zh_en("deployment location"), "enum", enums.RoomType),
    Field("machine_room", *zh_en("machine room", ctx="column"), "text", aliases=("machine rooms",)),
    Field("server_count", *zh_en("servers", ctx='column'), "int"),
    Field("contact.name", *zh_en("contact"), "text", aliases=zh_en("contact name")),
    Field("contact.phone", *zh_en("contact phone"), "text", aliases=zh_en("phone")),
    *_fields_of(S, ("notes",)),
]

SERVER_FIELDS: list[Field] = [
    Field("system", *zh_en("information system"), "text", aliases=(*vocab.CENSUS_HEADERS["system"], "system")),
    *_fields_of(E.Server, ("hostname",), required=("hostname",)),
    Field("id", *zh_en("server id"), "text", aliases=zh_en("id")),
    *_fields_of(E.Server, ("ips", "mgmt_ip"), aliases={"ips": ("IP", *vocab.CENSUS_HEADERS["ips"])}),
    Field("machine_room", *zh_en("machine room", ctx="column"), "text", aliases=vocab.CENSUS_HEADERS["server.machine_room"]),
    *_fields_of(E.Server, ("rack", "kind", "hypervisor", "cpu_vendor", "cpu_arch", "cores", "ram_gb",
                           "os_distribution", "os_version", "kernel", "role")),
    Field("disk_gb", *zh_en("disk (GB)"), "float", aliases=(*zh_en("storage (GB)"), *vocab.CENSUS_HEADERS["disk_gb"])),
    Field("software", *zh_en("software"), "text_list", aliases=zh_en("middleware"),
          note=zh_en("e.g. Tomcat 8.5; Nginx 1.20")),
    *_fields_of(E.Server, ("notes",)),
]

# headers of `inventory export`'s census sheet that are derived there, not input here
EXPORT_DERIVED = (*zh_en("no."), *zh_en("physical servers"), *zh_en("virtual servers"), *zh_en("CPU architecture"),
                  *zh_en("operating systems"), *zh_en("databases", ctx="column"), *zh_en("middleware"),
                  *zh_en("storage (GB)"), *zh_en("interfaced systems"), *zh_en("zombie system"),
                  *zh_en("crypto assessment"), *zh_en("evidence", ctx="field"), *zh_en("contacts", ctx="field"),
                  *zh_en("export note"))


# ---------------------------------------------------------------- the blank template


def _choices(f: Field, lang: str) -> list[str] | None:
    if f.kind == "enum" and f.enum is not None:
        return [m.label(lang) for m in f.enum]
    if f.kind == "bool":
        return [tr("yes", lang), tr("no", lang)]
    return None


def _describe(f: Field, lang: str) -> str:
    zh = lang == "zh"
    kinds = {"text": zh_en("text"), "int": zh_en("whole number"), "float": zh_en("number"),
             "date": zh_en("date, e.g. 2019-02-01, 2019/2/1"),
             "bool": zh_en("yes / no"), "enum": zh_en("choose from the list"),
             "enum_list": zh_en("one or more, separated by ';'"),
             "text_list": zh_en("one or more, separated by ';'", ctx='census:text_list')}
    text = kinds[f.kind][0 if zh else 1]
    if f.enum is not None:
        text = tr("{text}: {choices}", lang).format(
            text=text, choices=tr("; ", lang, ctx="list separator").join(m.label(lang) for m in f.enum))
    note = f.note[0 if zh else 1]
    if note:
        text = tr("{text}. {note}", lang).format(text=text, note=note)
    if f.required:
        text = tr("required. {text}", lang).format(text=text)
    return text


def template_bytes(lang: str = "zh", fmt: str = "xlsx") -> bytes:
    """The blank census form: XLSX (systems + servers sheets, instructions, dropdowns) or CSV
    (the systems sheet, UTF-8 with a BOM so Excel opens it with Chinese intact)."""
    if fmt == "csv":
        import csv
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow([f.header(lang) for f in SYSTEM_FIELDS])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    zh = lang == "zh"
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET[0 if zh else 1]
    lists = wb.create_sheet("_" + tr("lists", lang))
    lists.sheet_state = "hidden"
    list_col = 0
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    req_fill = PatternFill("solid", fgColor="FCE4D6")
    intro = tr("One row per information system (sheet 'census form') and one per server (sheet 'servers'; "
               "name its system). Columns marked * are required. Dropdowns list the accepted values. "
               "Dates as 2019-02-01, 2019/2/1 or 2019-02.", lang)
    help_ws.append([intro])
    help_ws.append([])
    help_ws.append([tr("sheet", lang), tr("column", lang), tr("how to fill", lang)])
    for c in help_ws[3]:
        c.font, c.fill = bold, fill
    for sheet_title, fields in ((SYSTEMS_SHEET[0 if zh else 1], SYSTEM_FIELDS),
                                (SERVERS_SHEET[0 if zh else 1], SERVER_FIELDS)):
        ws = wb.create_sheet(sheet_title)
        ws.append([f.header(lang) for f in fields])
        ws.freeze_panes = "A2"
        for i, f in enumerate(fields, 1):
            cell = ws.cell(row=1, column=i)
            cell.font = bold
            cell.fill = req_fill if f.required else fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            cell.comment = Comment(_describe(f, lang), "govcloud")
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(12, min(40, 2 * len(f.header(lang)) + 2))
            help_ws.append([sheet_title, f.header(lang), _describe(f, lang)])
            choices = _choices(f, lang)
            if choices:
                list_col += 1
                lc = get_column_letter(list_col)
                for r, v in enumerate(choices, 1):
                    lists.cell(row=r, column=list_col, value=v)
                dv = DataValidation(type="list", formula1=f"'{lists.title}'!${lc}$1:${lc}${len(choices)}",
                                    allow_blank=True, showErrorMessage=True,
                                    errorTitle=tr("invalid value", lang),
                                    error=tr("choose a value from the list", lang))
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}5000")
            elif f.kind in ("int", "float"):
                dv = DataValidation(type="decimal" if f.kind == "float" else "whole", operator="greaterThanOrEqual",
                                    formula1="0", allow_blank=True, showErrorMessage=True,
                                    error=tr("enter a number", lang))
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}5000")
    help_ws.column_dimensions["A"].width = 16
    help_ws.column_dimensions["B"].width = 28
    help_ws.column_dimensions["C"].width = 90
    wb.move_sheet(lists, offset=len(wb.sheetnames))
    wb.active = 1
    wb.properties.title = SYSTEMS_SHEET[0 if zh else 1]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- parsing a filled form


class _Reader:
    def __init__(self, tf: TableFile, sheet: Sheet) -> None:
        self.tf, self.sheet = tf, sheet
        self.errors = 0

    def value(self, row: Row, f: Field) -> Any:
        raw = row.get(f.key)
        if raw is None:
            return None
        try:
            if f.kind == "text":
                return to_text(raw) if not isinstance(raw, list) else vocab.LIST_SEPARATOR.join(to_text(x) for x in raw)
            if f.kind == "int":
                return to_int(raw)
            if f.kind == "float":
                return to_number(raw)
            if f.kind == "date":
                return to_date(raw).isoformat()
            if f.kind == "bool":
                return to_bool(raw)
            if f.kind == "enum" and f.enum is enums.OsDistribution:
                try:
                    return to_enum(raw, f.enum).value
                except ValueProblem:
                    dist, version = classify_os(raw)     # "CentOS 7.6", "银河麒麟V10"
                    if dist == "other":
                        raise
                    if version and row.get("os_version") is None:
                        row.values["os_version"] = version
                    return dist
            if f.kind == "enum":
                return to_enum(raw, f.enum).value  # type: ignore[arg-type]
            if f.kind == "enum_list":
                return [to_enum(x, f.enum).value for x in split_list(raw)]  # type: ignore[arg-type]
            if f.kind == "text_list":
                return split_list(raw)
        except ValueProblem as exc:
            self.errors += 1
            sh = self.sheet
            self.tf.problems.append(make_problem(
                Severity.error, "import.bad_value", exc.args[0], file=self.tf.display, sheet=sh.name, row=row.number,
                column=sh.columns[f.key][0] + 1, field=sh.labels[f.key],
                hint=_describe(f, "zh" if _is_zh(sh.labels[f.key]) else "en")))
            return None
        return raw

    def blank(self, row: Row, f: Field, what: str) -> None:
        sh = self.sheet
        self.tf.problems.append(make_problem(
            Severity.error, "import.required", Msg("{column} is blank ({what})",
                                                   column=f.zh if _is_zh(sh.labels.get(f.key, f.zh)) else f.en,
                                                   what=what), file=self.tf.display, sheet=sh.name, row=row.number,
            column=sh.columns[f.key][0] + 1 if f.key in sh.columns else None, field=sh.labels.get(f.key, f.zh)))


def _is_zh(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def _set(values: dict[str, Any], key: str, v: Any) -> None:
    if "." in key:
        head, sub = key.split(".", 1)
        values.setdefault(head, {})[sub] = v
    else:
        values[key] = v


def parse(path: Path | str, *, max_rows: int | None = None) -> ParseResult:
    """Read a filled census form. Never raises for a bad file: its problems are in the result."""
    path = Path(path)
    result = ParseResult(FORMAT)
    try:
        tf = TableFile(path, **({"max_rows": max_rows} if max_rows else {}))
    except TableRefused as exc:
        result.problems.append(exc.problem)
        return result
    with tf:
        ignore = EXPORT_DERIVED
        if tf.kind == "csv":
            sys_sheet_name, srv_sheet_name = None, None
        else:
            sys_sheet_name = tf.find_sheet(*SYSTEMS_SHEET_ALIASES)
            srv_sheet_name = tf.find_sheet(*SERVERS_SHEET_ALIASES)
            if sys_sheet_name is None:
                # a form whose sheet was renamed: the first sheet that is not the instructions
                candidates = [s for s in tf.sheet_names() if s not in (srv_sheet_name, *HELP_SHEET)
                              and not str(s).startswith("_")]
                sys_sheet_name = candidates[0] if candidates else None
        systems: list[ImportedRecord] = []
        if sys_sheet_name is not None or tf.kind == "csv":
            sheet = tf.read(sys_sheet_name, [f.column() for f in SYSTEM_FIELDS], report_unknown=True, ignore=ignore)
            if sheet is not None:
                systems = _systems(path, tf, sheet, result)
        servers_by_system: dict[str, list[str]] = {}
        if srv_sheet_name is not None:
            sheet = tf.read(srv_sheet_name, [f.column() for f in SERVER_FIELDS], report_unknown=True,
                            missing=Severity.error)
            if sheet is not None:
                _servers(path, tf, sheet, result, servers_by_system)
        names = {r.values.get("name"): r for r in systems}
        for sys_name, hosts in servers_by_system.items():
            rec = names.get(sys_name)
            if rec is not None:
                rec.values["servers"] = hosts
        result.problems = tf.problems
    return result


def _systems(path: Path, tf: TableFile, sheet: Sheet, result: ParseResult) -> list[ImportedRecord]:
    rd = _Reader(tf, sheet)
    fields = [f for f in SYSTEM_FIELDS if f.key in sheet.columns]
    by_key = {f.key: f for f in SYSTEM_FIELDS}
    orgs: dict[str, ImportedRecord] = {}
    out: list[ImportedRecord] = []
    seen: dict[str, int] = {}
    for row in sheet.rows:
        vals = {f.key: rd.value(row, f) for f in fields}
        vals = {k: v for k, v in vals.items() if v is not None and v != []}
        name, org = vals.get("name"), vals.get("org.name")
        if not name:
            rd.blank(row, by_key["name"], Msg("every system needs its name"))
        if not org:
            rd.blank(row, by_key["org.name"], Msg("whose system is it?"))
        if not name or not org:
            continue
        values: dict[str, Any] = {"owner_org": org}
        extra: dict[str, Any] = {}
        for k, v in vals.items():
            if k in ("org.name", "org.usci", "id"):
                continue
            if k in ("sub_unit", "deploy_location", "machine_room", "server_count"):
                extra[k] = v
            elif k.startswith("contact."):
                values.setdefault("contacts", [{}])[0][k.split(".", 1)[1]] = v
            else:
                _set(values, k, v)
        ext = f"census:{vals['id']}" if vals.get("id") else f"census:{org}/{name}"
        if ext in seen:
            tf.problems.append(make_problem(
                Severity.error, "import.duplicate", Msg("system {name!r} of {org!r} is also on row {seen}", name=name,
                                                        org=org, seen=seen[ext]),
                file=tf.display, sheet=sheet.name, row=row.number, field=sheet.labels.get("name")))
            continue
        seen[ext] = row.number
        prov = Provenance(path.name, tf.sha256, sheet.name, row.number)
        match = (("name", name),) if not vals.get("id") else (("id", vals["id"]), ("name", name))
        rec = ImportedRecord("systems", ext, values, prov, match, extra)
        out.append(rec)
        o = orgs.get(org)
        if o is None:
            o = orgs[org] = ImportedRecord("organizations", f"census-org:{org}", {"name": org}, prov, (("name", org),))
            result.records.append(o)
        if vals.get("org.usci"):
            prev = o.values.get("usci")
            if prev and prev != vals["org.usci"]:
                tf.problems.append(make_problem(
                    Severity.error, "import.conflict",
                    Msg("{org!r} has credit code {code!r} on row {row} but {other!r} here", org=org, code=prev,
                        row=o.provenance.row, other=vals['org.usci']),
                    file=tf.display, sheet=sheet.name, row=row.number, field=sheet.labels.get("org.usci")))
            else:
                o.values["usci"] = vals["org.usci"]
    result.records.extend(out)
    return out


def _servers(path: Path, tf: TableFile, sheet: Sheet, result: ParseResult,
             servers_by_system: dict[str, list[str]]) -> None:
    rd = _Reader(tf, sheet)
    fields = [f for f in SERVER_FIELDS if f.key in sheet.columns]
    by_key = {f.key: f for f in SERVER_FIELDS}
    seen: dict[str, int] = {}
    for row in sheet.rows:
        vals = {f.key: rd.value(row, f) for f in fields}
        vals = {k: v for k, v in vals.items() if v is not None and v != []}
        host = vals.get("hostname")
        if not host:
            rd.blank(row, by_key["hostname"], Msg("every server needs its host name"))
            continue
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for k, v in vals.items():
            if k in ("system", "id"):
                continue
            if k == "ips":
                values["ips"] = [x for x in split_list(v)] if isinstance(v, str) else v
            elif k == "disk_gb":
                values["disks"] = [{"size_gb": v}]
            elif k == "software":
                values["software"] = [_software(s) for s in v]
            else:
                values[k] = v
        ext = f"census-server:{vals['id']}" if vals.get("id") else f"census-server:{host}"
        if ext in seen:
            tf.problems.append(make_problem(
                Severity.error, "import.duplicate", Msg("server {host!r} is also on row {seen}", host=host,
                                                        seen=seen[ext]),
                file=tf.display, sheet=sheet.name, row=row.number, field=sheet.labels.get("hostname")))
            continue
        seen[ext] = row.number
        if vals.get("system"):
            extra["system"] = vals["system"]
            servers_by_system.setdefault(vals["system"], []).append(host)
        match = [("hostname", host)] + [("ip", ip) for ip in values.get("ips", ())]
        result.records.append(ImportedRecord(
            "servers", ext, values, Provenance(path.name, tf.sha256, sheet.name, row.number), tuple(match), extra))


def _software(text: str) -> dict[str, str]:
    m = re.match(r"^(.*?)[\s/]+v?(\d[\w.\-]*)$", text.strip())
    if m:
        return {"name": m.group(1).strip(), "version": m.group(2)}
    return {"name": text.strip()}
