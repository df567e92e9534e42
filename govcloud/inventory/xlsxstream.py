"""A small streaming XLSX (SpreadsheetML) writer for the inventory export.

Why not openpyxl: even in write-only mode openpyxl builds a cell object, a coordinate and
an lxml element for every one of a province's ~3 million cells, which took ~20 s of the
export. This writer emits the sheet XML as text straight into a deflated zip member, with a
shared-string table (the form Excel itself writes; repeated labels such as 是/否 or 在用 are
stored once). It writes only what the export needs:

* strings (shared), ints and floats; ``None`` is an empty (absent) cell. A string is
  always a string — never a formula, whatever it starts with;
* one bold, filled header row, frozen panes below it, column widths, an auto-filter over
  the table (with the ``_xlnm._FilterDatabase`` name Excel expects);
* document title and creator (docProps/core.xml).

Characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR) are written as the
OOXML escape ``_xHHHH_``, which Excel turns back into the character.
"""

from __future__ import annotations

import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, Iterable, Sequence
from xml.sax.saxutils import escape as _xml_escape

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CHUNK = 1 << 16


_LITERAL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def column_letter(n: int) -> str:
    """1 → A, 26 → Z, 27 → AA."""
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def xml_text(s: str) -> str:
    """Escape text for an XML element body (and quotes, so it is safe in attributes too)."""
    if "_x" in s or "_X" in s:  # a literal "_x0041_" would show as "A": escape its "_" as _x005F_
        s = _LITERAL_ESCAPE.sub(r"_x005F_\1", s)
    if _ILLEGAL.search(s):
        s = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)
    return _xml_escape(s, {'"': "&quot;"})


@dataclass
class Sheet:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    n_rows: int                      # data rows, for the dimension / auto-filter
    widths: Sequence[float] = field(default_factory=list)
    freeze_header: bool = True
    auto_filter: bool = True


class _SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0                 # references, for the sst count attribute


def _sheet_xml(sheet: Sheet, sst: _SharedStrings, out: IO[bytes]) -> None:
    ncols = len(sheet.headers)
    letters = [column_letter(i) for i in range(1, ncols + 1)]
    last = letters[-1] if letters else "A"
    ref = f"A1:{last}{sheet.n_rows + 1}"
    head = [XML_HEAD, f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">',
            f'<dimension ref="{ref}"/>', '<sheetViews><sheetView workbookViewId="0">']
    if sheet.freeze_header:
        head.append('<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>')
    head.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        head.append("<cols>" + "".join(f'<col min="{i}" max="{i}" width="{w:g}" customWidth="1"/>'
                                       for i, w in enumerate(sheet.widths, 1)) + "</cols>")
    head.append("<sheetData>")
    index = sst.index
    refs = 0
    parts: list[str] = ["".join(head), '<row r="1">']
    for letter, h in zip(letters, sheet.headers):
        i = index.get(h)
        if i is None:
            i = index[h] = len(index)
        refs += 1
        parts.append(f'<c r="{letter}1" s="1" t="s"><v>{i}</v></c>')
    parts.append("</row>")
    size = 0
    r = 1
    for values in sheet.rows:
        r += 1
        rs = str(r)
        append = parts.append
        append(f'<row r="{rs}">')
        for letter, v in zip(letters, values):
            if v is None:
                continue
            t = type(v)
            if t is str:
                if not v:
                    continue
                i = index.get(v)
                if i is None:
                    i = index[v] = len(index)
                refs += 1
                append(f'<c r="{letter}{rs}" t="s"><v>{i}</v></c>')
            elif t is int:
                append(f'<c r="{letter}{rs}"><v>{v}</v></c>')
            elif t is float:
                if math.isfinite(v):   # %.16g, as openpyxl and Excel (15-17 digits): 12.0 → 12
                    append(f'<c r="{letter}{rs}"><v>{v:.16g}</v></c>')
                else:
                    append(f'<c r="{letter}{rs}" t="inlineStr"><is><t>{v!r}</t></is></c>')
            elif t is bool:
                append(f'<c r="{letter}{rs}" t="b"><v>{int(v)}</v></c>')
            else:
                raise TypeError(f"xlsx cell {letter}{rs} of sheet {sheet.name!r}: unsupported value type "
                                f"{t.__name__}")
        append("</row>")
        size += 1
        if size >= 512:
            out.write("".join(parts).encode("utf-8"))
            parts.clear()
            size = 0
    if r - 1 != sheet.n_rows:
        raise ValueError(f"sheet {sheet.name!r}: {r - 1} rows written, {sheet.n_rows} announced")
    parts.append("</sheetData>")
    if sheet.auto_filter and sheet.n_rows:
        parts.append(f'<autoFilter ref="{ref}"/>')
    parts.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
                 "</worksheet>")
    out.write("".join(parts).encode("utf-8"))
    sst.count += refs


def _sst_xml(sst: _SharedStrings, out: IO[bytes]) -> None:
    out.write(f'{XML_HEAD}<sst xmlns="{NS_MAIN}" count="{sst.count}" uniqueCount="{len(sst.index)}">'
              .encode("utf-8"))
    parts: list[str] = []
    for s in sst.index:      # insertion order == index order
        esc = xml_text(s)
        if s[:1].isspace() or s[-1:].isspace():
            parts.append(f'<si><t xml:space="preserve">{esc}</t></si>')
        else:
            parts.append(f"<si><t>{esc}</t></si>")
        if len(parts) >= 4096:
            out.write("".join(parts).encode("utf-8"))
            parts.clear()
    parts.append("</sst>")
    out.write("".join(parts).encode("utf-8"))


_STYLES = (XML_HEAD + f'<styleSheet xmlns="{NS_MAIN}">'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
           '<fills count="3"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill>'
           '<fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7"/><bgColor indexed="64"/>'
           '</patternFill></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           "</styleSheet>")


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def write_workbook(target: IO[bytes], sheets: Sequence[Sheet], *, title: str | None = None,
                   creator: str | None = None, compresslevel: int = 6) -> None:
    """Write an .xlsx with ``sheets`` (in order) to the binary file object ``target``."""
    names = [s.name for s in sheets]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate sheet names: {names}")
    for n in names:
        if not n or len(n) > 31 or any(ch in n for ch in '[]:*?/\\'):
            raise ValueError(f"invalid sheet name {n!r}")
    sst = _SharedStrings()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as zf:
        def put(name: str, text: str) -> None:
            zf.writestr(name, text.encode("utf-8"))

        n = len(sheets)
        put("[Content_Types].xml", XML_HEAD +
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.'
                      f'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
            + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
              'spreadsheetml.styles+xml"/>'
              '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
              'officedocument.spreadsheetml.sharedStrings+xml"/>'
              '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
              'core-properties+xml"/>'
              '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.'
              'extended-properties+xml"/></Types>')
        put("_rels/.rels", XML_HEAD + f'<Relationships xmlns="{NS_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{NS_REL}/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>")
        put("docProps/core.xml", XML_HEAD +
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            + (f"<dc:title>{xml_text(title)}</dc:title>" if title else "")
            + (f"<dc:creator>{xml_text(creator)}</dc:creator>" if creator else "")
            + f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
              f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')
        put("docProps/app.xml", XML_HEAD +
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>govcloud</Application></Properties>")
        defined = []
        for i, s in enumerate(sheets):
            if s.auto_filter and s.n_rows:
                last = column_letter(max(len(s.headers), 1))
                defined.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                               f"{xml_text(_quote_sheet(s.name))}!$A$1:${last}${s.n_rows + 1}</definedName>")
        put("xl/workbook.xml", XML_HEAD + f'<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_REL}">'
            '<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews><sheets>'
            + "".join(f'<sheet name="{xml_text(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, s in enumerate(sheets, 1))
            + "</sheets>" + (f"<definedNames>{''.join(defined)}</definedNames>" if defined else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
        put("xl/_rels/workbook.xml.rels", XML_HEAD + f'<Relationships xmlns="{NS_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{NS_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="{NS_REL}/styles" Target="styles.xml"/>'
              f'<Relationship Id="rId{n + 2}" Type="{NS_REL}/sharedStrings" Target="sharedStrings.xml"/>'
              "</Relationships>")
        put("xl/styles.xml", _STYLES)
        for i, s in enumerate(sheets, 1):
            with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as member:
                _sheet_xml(s, sst, member)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            _sst_xml(sst, member)
