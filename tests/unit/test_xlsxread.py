"""The streaming XLSX reader (govcloud/interchange/xlsxread.py) against files written by openpyxl,
hand-made SpreadsheetML (inline strings, rich text, phonetic runs, namespace prefixes, entities,
pretty-printed XML, forbidden DTDs), and the public RVTools sample — every value compared with
what openpyxl's own reader gives, and the fast path compared with the expat-only path."""

from __future__ import annotations

import re
import warnings
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from govcloud.interchange import xlsxread
from govcloud.interchange.tabular import Column, TableFile, TableRefused
from shared_data import DATA  # noqa: E402

EXAMPLE1 = DATA / "rvtools-kubev2v-example1" / "example1.xlsx"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def read_all(path: Path, *, fast: bool = True) -> dict[str, tuple[dict[tuple[int, int], object], list, bool]]:
    """sheet → ({(row, col0): value}, merges, fast path used)."""
    out = {}
    with xlsxread.Workbook(path) as wb:
        for name in wb.sheetnames:
            sr = wb.sheet(name)
            cells = {}
            for n, vals in sr.rows(fast=fast):
                for c, v in vals.items():
                    assert (n, c) not in cells, f"{name}: cell {n},{c} delivered twice"
                    cells[(n, c)] = v
            out[name] = (cells, sr.merges, sr.fast)
    return out


def openpyxl_all(path: Path) -> dict[str, tuple[dict[tuple[int, int], object], list]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, CellRichText):
                    v = str(v)
                if v is not None and v != "" and type(c).__name__ != "MergedCell":
                    cells[(c.row, c.column - 1)] = v
        merges = sorted((m.min_row, m.min_col - 1, m.max_row, m.max_col - 1) for m in ws.merged_cells.ranges)
        out[ws.title] = (cells, merges)
    return out


def assert_same_as_openpyxl(path: Path) -> dict:
    ours = read_all(path)
    ref = read_all(path, fast=False)
    theirs = openpyxl_all(path)
    assert list(ours) == list(theirs)
    for name in theirs:
        cells, merges, _ = ours[name]
        assert cells == theirs[name][0], name
        assert {k: type(v) for k, v in cells.items()} == {k: type(v) for k, v in theirs[name][0].items()}, name
        assert sorted(merges) == theirs[name][1], name
        assert ref[name][0] == cells and sorted(ref[name][1]) == sorted(merges), f"{name}: expat path differs"
        assert ref[name][2] is False
    return ours


# ---------------------------------------------------------------- files written by openpyxl


def test_openpyxl_workbook_every_value_kind(tmp_path):
    p = tmp_path / "kinds.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "服务器"
    ws.append(["名称", "CPU", "内存GB", "上线日期", "时间", "是否在用", "备注"])
    ws.append(["web-01", 4, 15.5, datetime(2019, 3, 1), time(8, 30), True, "A&B <x> \"q\" 'a'"])
    ws.append(["db-01", 16, 64, datetime(2020, 12, 31, 23, 59, 59), time(0, 0, 1), False, "中文 备注\n第二行"])
    ws["D4"] = date(2021, 1, 2)
    ws["D4"].number_format = "yyyy年m月d日"
    ws["E4"] = timedelta(hours=30)
    ws["E4"].number_format = "[h]:mm:ss"
    ws["C5"] = 1e-7
    ws["B5"] = -12
    ws["G5"] = CellRichText(["粗体", TextBlock(InlineFont(b=True), "bold"), " tail"])   # rich text in sharedStrings
    ws["A1000"] = "sparse"                       # rows with gaps
    ws["AB1001"] = "far column"
    ws.merge_cells("A6:C7")
    ws["A6"] = "merged"
    other = wb.create_sheet("空表")
    other["B2"] = None
    wb.save(p)
    ours = assert_same_as_openpyxl(p)
    cells = ours["服务器"][0]
    assert cells[(2, 3)] == datetime(2019, 3, 1) and cells[(2, 4)] == time(8, 30)
    assert cells[(2, 5)] is True and cells[(3, 5)] is False
    assert cells[(2, 6)] == "A&B <x> \"q\" 'a'" and cells[(3, 6)] == "中文 备注\n第二行"
    assert cells[(4, 4)] == timedelta(hours=30)
    assert cells[(5, 6)] == "粗体bold tail"
    assert cells[(1001, 27)] == "far column"
    assert ours["服务器"][1] == [(6, 0, 7, 2)]
    assert ours["服务器"][2] is True, "openpyxl's own output must take the fast path"
    assert ours["空表"][0] == {}


def test_write_only_workbook_inline_strings(tmp_path):
    """openpyxl's write-only mode writes every string inline (<is><t>), no sharedStrings part."""
    p = tmp_path / "inline.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("vInfo")
    ws.append(["VM", "CPUs", "Memory", " spaced "])
    for i in range(300):
        ws.append([f"vm{i:03d}", i % 8 + 1, 4096.5 * i, "x" if i % 2 else None])
    wb.save(p)
    with zipfile.ZipFile(p) as z:
        assert "xl/sharedStrings.xml" not in z.namelist()
        assert b't="inlineStr"' in z.read("xl/worksheets/sheet1.xml")
    ours = assert_same_as_openpyxl(p)
    cells = ours["vInfo"][0]
    assert cells[(1, 3)] == " spaced " and cells[(301, 0)] == "vm299" and cells[(301, 2)] == 4096.5 * 299
    assert isinstance(cells[(2, 1)], int) and isinstance(cells[(3, 2)], float)


def test_formulas_with_and_without_cached_values(tmp_path):
    p = tmp_path / "f.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b", "sum", "text", "bare"])
    ws.append([1, 2, "=A2+B2", '="0"&A2', "=A2*3"])
    wb.save(p)
    # openpyxl writes formulas without a cached value; add Excel's cached values to two of them,
    # and a shared formula follower with a cached value
    # openpyxl serialises through lxml when it is installed and through et_xmlfile otherwise: the
    # empty value is <v></v> or <v />, so match either
    sheet = _member(p, "xl/worksheets/sheet1.xml").decode()
    empty_v = r"<v\s*/>|<v></v>"
    c2 = re.compile(r'<c r="C2"><f>A2\+B2</f>(?:' + empty_v + r')</c>')
    d2 = re.compile(r'<c r="D2"><f>"0"&amp;A2</f>(?:' + empty_v + r')</c>')
    assert c2.search(sheet) and d2.search(sheet)
    sheet = c2.sub('<c r="C2"><f>A2+B2</f><v>3</v></c>', sheet)
    sheet = d2.sub('<c r="D2" t="str"><f>"0"&amp;A2</f><v>01</v></c>', sheet)
    sheet = sheet.replace("</row></sheetData>", '<c r="F2"><f t="shared" si="0"/><v>7</v></c></row></sheetData>')
    _replace_member(p, "xl/worksheets/sheet1.xml", sheet.encode())
    assert b"<v>3</v>" in _member(p, "xl/worksheets/sheet1.xml") and b"<v>01</v>" in _member(p, "xl/worksheets/sheet1.xml")
    ours = assert_same_as_openpyxl_values_only(p)
    cells = ours["Sheet"][0]
    assert cells[(2, 2)] == 3 and cells[(2, 3)] == "01" and cells[(2, 5)] == 7
    bare = cells[(2, 4)]
    assert isinstance(bare, xlsxread.FormulaWithoutValue) and bare == "=A2*3"


def assert_same_as_openpyxl_values_only(path: Path) -> dict:
    """As assert_same_as_openpyxl, where openpyxl's data_only gives None for a formula without a
    cached value (ours marks it FormulaWithoutValue)."""
    ours = read_all(path)
    ref = read_all(path, fast=False)
    theirs = openpyxl_all(path)
    for name in theirs:
        cells = {k: v for k, v in ours[name][0].items() if not isinstance(v, xlsxread.FormulaWithoutValue)}
        assert cells == theirs[name][0]
        assert ref[name][0] == ours[name][0]
    return ours


def test_dimension_claims_a_million_rows(tmp_path):
    """RVTools declares <dimension ref="A1:CL1048576"/>; only the rows present are read."""
    p = tmp_path / "dim.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["VM", "CPUs"])
    ws.append(["vm-1", 2])
    wb.save(p)
    sheet = _member(p, "xl/worksheets/sheet1.xml").decode()
    dim = re.compile(r'<dimension ref="A1:B2"\s*/>')
    assert dim.search(sheet)
    sheet = dim.sub('<dimension ref="A1:CL1048576"/>', sheet)
    # and 2,000 formatted empty rows, as Excel leaves after a format-painted column
    empties = "".join(f'<row r="{n}" spans="1:2" s="1" customFormat="1"/>' for n in range(3, 2003))
    sheet = sheet.replace("</sheetData>", empties + "</sheetData>")
    _replace_member(p, "xl/worksheets/sheet1.xml", sheet.encode())
    ours = read_all(p)
    assert ours["Sheet"][0] == {(1, 0): "VM", (1, 1): "CPUs", (2, 0): "vm-1", (2, 1): 2}
    assert ours["Sheet"][2] is True


def test_public_rvtools_sample_same_as_openpyxl():
    if not EXAMPLE1.exists():
        pytest.fail(f"public sample missing: {EXAMPLE1}")
    ours = assert_same_as_openpyxl(EXAMPLE1)
    assert set(ours) == {"vInfo", "vCPU", "vMemory", "vDisk", "vPartition", "vHost"}
    assert all(fast for _, _, fast in ours.values())
    assert ours["vInfo"][0][(1, 0)] == "VM"


# ---------------------------------------------------------------- hand-made SpreadsheetML


def make_xlsx(path: Path, sheets: dict[str, str], *, shared: str | None = None, styles: str | None = None,
              workbook_pr: str = "") -> Path:
    """A minimal workbook from raw sheet XML bodies (the whole <worksheet> document each)."""
    rels = ['<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>' if shared is not None else "",
            '<Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'styles" Target="styles.xml"/>' if styles is not None else ""]
    sheet_els = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (name, xml) in enumerate(sheets.items(), 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", xml)
            rels.append(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                        f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>')
            sheet_els.append(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   f'{workbook_pr}<sheets>{"".join(sheet_els)}</sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                   f'package/2006/relationships">{"".join(rels)}</Relationships>')
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{shared}</sst>')
        if styles is not None:
            z.writestr("xl/styles.xml", f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>')
    return path


def sheet(rows: str, *, prefix: str = "", tail: str = "", head: str = "") -> str:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{head}<{p}worksheet {ns}>'
            f'<{p}dimension ref="A1:Z1048576"/><{p}sheetData>{rows}</{p}sheetData>{tail}</{p}worksheet>')


def both_paths(path: Path) -> dict:
    ours, ref = read_all(path), read_all(path, fast=False)
    for name in ours:
        assert ours[name][0] == ref[name][0] and ours[name][1] == ref[name][1], name
    return ours


def test_rich_text_phonetic_runs_entities_and_ooxml_escapes(tmp_path):
    shared = ('<si><t>plain</t></si>'
              '<si><r><rPr><b/><sz val="11"/></rPr><t>富</t></r><r><t xml:space="preserve"> text</t></r></si>'
              '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh><phoneticPr fontId="1"/></si>'
              '<si><t>a&amp;b &#x4E2D;&#25991; &lt;&gt;</t></si>'
              '<si><t>line1_x000D_line2</t></si>')
    rows = ('<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
            '<c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><r><t>in</t></r><r><rPr><i/></rPr><t>line</t></r></is></c>'
            '<c r="B2" t="inlineStr"><is><t>x&amp;y</t></is></c><c r="C2" t="b"><v>1</v></c>'
            '<c r="D2" t="e"><v>#N/A</v></c><c r="E2" t="d"><v>2021-03-04T05:06:07</v></c>'
            '<c r="F2"><v>1.5E3</v></c><c r="G2" s="1"><v>43831</v></c><c r="H2" s="2"><v>43831.5</v></c></row>')
    styles = ('<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/></numFmts>'
              '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs>')
    p = make_xlsx(tmp_path / "rich.xlsx", {"S": sheet(rows)}, shared=shared, styles=styles)
    ours = both_paths(p)
    cells = ours["S"][0]
    assert cells[(1, 0)] == "plain" and cells[(1, 1)] == "富 text" and cells[(1, 2)] == "東京"
    assert cells[(1, 3)] == "a&b 中文 <>" and cells[(1, 4)] == "line1\rline2"
    assert cells[(2, 0)] == "inline" and cells[(2, 1)] == "x&y" and cells[(2, 2)] is True
    assert cells[(2, 3)] == "#N/A" and cells[(2, 4)] == datetime(2021, 3, 4, 5, 6, 7)
    assert cells[(2, 5)] == 1500.0
    assert cells[(2, 6)] == datetime(2020, 1, 1) and cells[(2, 7)] == datetime(2020, 1, 1, 12)
    assert ours["S"][2] is True


def test_1904_date_system(tmp_path):
    p = make_xlsx(tmp_path / "mac.xlsx", {"S": sheet('<row r="1"><c r="A1" s="1"><v>0</v></c><c r="B1" s="1"><v>1</v></c></row>')},
                  styles='<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>',
                  workbook_pr='<workbookPr date1904="1"/>')
    cells = both_paths(p)["S"][0]
    assert cells[(1, 1)] == datetime(1904, 1, 2)


def test_prefixed_namespace_and_cells_without_references(tmp_path):
    rows = ('<x:row r="1048576"><x:c r="XFD1048576"><x:v>9</x:v></x:c></x:row>'
            '<x:row><x:c t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c><x:c><x:v>2</x:v></x:c></x:row>'
            '<x:row r="5"><x:c r="C5"><x:v>3</x:v></x:c><x:c><x:v>4</x:v></x:c></x:row><x:row><x:c><x:v>5</x:v></x:c></x:row>')
    p = make_xlsx(tmp_path / "prefix.xlsx", {"S": sheet(rows, prefix="x", tail='<x:mergeCells count="1">'
                                                          '<x:mergeCell ref="C5:D6"/></x:mergeCells>')})
    ours = both_paths(p)
    assert ours["S"][0] == {(1048576, 16383): 9, (1048577, 0): "a", (1048577, 1): 2, (5, 2): 3, (5, 3): 4, (6, 0): 5}
    assert ours["S"][1] == [(5, 2, 6, 3)] and ours["S"][2] is True


def test_pretty_printed_and_commented_xml_falls_back_mid_sheet_without_duplicates(tmp_path):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}" t="inlineStr"><is><t>r{n}</t></is></c></row>'
                   for n in range(1, 2001))
    odd = ('\n  <row r="2001" spans="1:2">\n    <c r=\'A2001\' >\n      <v>2001</v>\n    </c>\n'
           '    <c r="B2001"><!-- a comment --><v>7</v></c>\n  </row>\n'
           '<row r="2002"><c r="A2002"><v>2002</v></c></row>')
    p = make_xlsx(tmp_path / "pretty.xlsx", {"S": sheet(rows + odd, tail='<mergeCells><mergeCell ref="A1:A2"/></mergeCells>')})
    ours = both_paths(p)
    cells, merges, fast = ours["S"]
    assert fast is False, "a comment inside a row must hand the sheet to expat"
    assert len(cells) == 2 * 2000 + 3 and cells[(2001, 1)] == 7 and cells[(2002, 0)] == 2002
    assert merges == [(1, 0, 2, 0)]


def test_whitespace_between_elements_read_by_the_loose_pattern(tmp_path):
    rows = ('<row r="1">\n <c r="A1" t="s" >\n  <v>0</v>\n </c>\n <c r=\'B1\'><v>2</v></c>\n</row>\n'
            '<row r="2"><c s="0" r="C2"><v>3</v></c></row>')
    p = make_xlsx(tmp_path / "ws.xlsx", {"S": sheet(rows)}, shared="<si><t>hello</t></si>")
    ours = both_paths(p)
    assert ours["S"][0] == {(1, 0): "hello", (1, 1): 2, (2, 2): 3}
    assert ours["S"][2] is True


def test_column_filter_applies_to_later_rows(tmp_path):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>{n * 10}</v></c>'
                   f'<c r="C{n}"><v>{n * 100}</v></c></row>' for n in range(1, 6))
    p = make_xlsx(tmp_path / "cols.xlsx", {"S": sheet(rows)})
    for fast in (True, False):
        with xlsxread.Workbook(p) as wb:
            sr = wb.sheet("S")
            got = []
            for n, vals in sr.rows(fast=fast):
                got.append((n, vals))
                sr.columns = {0, 2}
            assert got[0] == (1, {0: 1, 1: 10, 2: 100})
            if fast:        # exact from the next row on
                assert got[1:] == [(n, {0: n, 2: n * 100}) for n in range(2, 6)]
            else:           # expat delivers a chunk's rows at once: the filter is a hint there
                assert [(n, {c: v for c, v in vals.items() if c != 1}) for n, vals in got[1:]] == \
                    [(n, {0: n, 2: n * 100}) for n in range(2, 6)]


@pytest.mark.parametrize("evil", [
    '<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE worksheet SYSTEM "http://198.18.0.1/evil.dtd">',
    '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
])
def test_dtds_and_entities_are_refused_in_sheets(tmp_path, evil):
    rows = '<row r="1"><c r="A1"><v>1</v></c></row>'
    p = make_xlsx(tmp_path / "evil.xlsx", {"S": sheet(rows, head=evil)})
    for fast in (True, False):
        with xlsxread.Workbook(p) as wb, pytest.raises(xlsxread.XlsxError, match="DOCTYPE|entity|malformed"):
            list(wb.sheet("S").rows(fast=fast))
    # through the importers' reader: an error naming the file and sheet, nothing read
    tf = TableFile(p)
    assert tf.read("S", [Column("a", ("a",))]) is None
    bad = [x for x in tf.problems if x.code == "import.bad_xlsx"]
    assert bad and bad[0].file.endswith("evil.xlsx:S") and bad[0].is_error


def test_billion_laughs_in_shared_strings_refused(tmp_path):
    p = make_xlsx(tmp_path / "lol.xlsx", {"S": sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')}, shared="")
    laughs = ('<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;&l;&l;&l;&l;">]>'
              f'<sst xmlns="{MAIN}"><si><t>&l2;</t></si></sst>')
    _replace_member(p, "xl/sharedStrings.xml", laughs.encode())
    with xlsxread.Workbook(p) as wb, pytest.raises(xlsxread.XlsxError, match="DOCTYPE"):
        list(wb.sheet("S").rows())
    tf = TableFile(p)
    assert tf.read("S", [Column("a", ("a",))]) is None
    assert any(x.code == "import.bad_xlsx" and x.is_error and "DOCTYPE" in x.message for x in tf.problems)


def test_doctype_in_workbook_part_refuses_the_file(tmp_path):
    p = make_xlsx(tmp_path / "wbdtd.xlsx", {"S": sheet("")})
    wbxml = _member(p, "xl/workbook.xml").decode().replace("<workbook", '<!DOCTYPE workbook [<!ENTITY e "x">]><workbook', 1)
    _replace_member(p, "xl/workbook.xml", wbxml.encode())
    with pytest.raises(TableRefused) as exc:
        TableFile(p)
    assert exc.value.problem.code == "import.bad_xlsx" and "DOCTYPE" in exc.value.problem.message


def test_undefined_entity_and_malformed_rows_are_errors(tmp_path):
    p = make_xlsx(tmp_path / "bad.xlsx", {"S": sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&nbsp;</t></is></c></row>')})
    with xlsxread.Workbook(p) as wb, pytest.raises(xlsxread.XlsxError, match="malformed"):
        list(wb.sheet("S").rows())
    p2 = make_xlsx(tmp_path / "bad2.xlsx", {"S": sheet('<row r="1"><c r="A1"><v>1</v></row>')})
    with xlsxread.Workbook(p2) as wb, pytest.raises(xlsxread.XlsxError, match="malformed"):
        list(wb.sheet("S").rows())
    p3 = make_xlsx(tmp_path / "bad3.xlsx", {"S": sheet('<row r="1"><c r="A1" t="s"><v>5</v></c></row>')}, shared="<si><t>a</t></si>")
    with xlsxread.Workbook(p3) as wb, pytest.raises(xlsxread.XlsxError, match="shared string index"):
        list(wb.sheet("S").rows())


def test_corrupt_member_is_an_error_not_a_crash(tmp_path):
    rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>value {n}</t></is></c></row>' for n in range(1, 3000))
    p = make_xlsx(tmp_path / "crc.xlsx", {"S": sheet(rows)})
    data = bytearray(p.read_bytes())
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    p.write_bytes(bytes(data))
    with xlsxread.Workbook(p) as wb, pytest.raises(xlsxread.XlsxError):
        list(wb.sheet("S").rows())


# ---------------------------------------------------------------- helpers


def _member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def _replace_member(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, content in items:
            z.writestr(info, data if info.filename == name else content)
