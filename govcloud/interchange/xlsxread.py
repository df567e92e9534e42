"""A streaming XLSX reader on the standard library (zipfile + expat), for the importers.

Why not openpyxl: its read-only mode costs ~45 s for a 10,000-VM RVTools export (a Python
object per cell, every cell), where the issue asks for the whole import in < 10 s. What an
importer needs is much less: sheet names, and per sheet the non-empty rows as
``(row number, {0-based column: value})`` plus the merged ranges. This module reads exactly
that, with values as openpyxl's ``data_only`` mode gives them (int/float, str, bool, datetime
for date-formatted numbers, the cached value of a formula).

Two ways through a sheet's ``<sheetData>``, same output:

- the fast path: the sheet XML is decoded in chunks and matched row by row with strict regular
  expressions for the SpreadsheetML cell grammar (``<row>``, ``<c>`` with ``<f>``, ``<v>``,
  ``<is>``); everything around ``<sheetData>`` (the prolog, namespaces, ``<mergeCells>``) is
  still parsed by expat. Anything the expressions do not recognise exactly (a comment, CDATA,
  an unknown entity, a prefix mix, an encoding other than UTF-8) abandons the fast path;
- the full path: expat over the whole sheet. It takes over where the fast path stopped
  (rows already delivered are not delivered twice).

Safety: every XML part goes through expat with no DTD at all (a DOCTYPE or an entity
declaration is refused — no entity expansion, no external entities); the zip is read through
``zipfile``, which stops each member at its declared size (the declared sizes are checked for
zip bombs by the caller, :func:`govcloud.interchange.tabular.check_zip`); nothing depends on a
sheet's ``<dimension>`` (a sheet claiming 1,048,576 rows costs only the rows it has).
"""

from __future__ import annotations

import codecs
import operator
import posixpath
import re
import zipfile
import zlib
from datetime import datetime, time, timedelta
from typing import Any, Callable, Iterator
from xml.parsers import expat
from govcloud.base.i18n import Msg

MAIN_NS = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",
           "http://purl.oclc.org/ooxml/spreadsheetml/main")
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
WINDOWS_EPOCH = datetime(1899, 12, 30)
MAC_EPOCH = datetime(1904, 1, 1)
CHUNK = 1 << 20                 # characters of sheet XML decoded at a time
MAX_ROW_CHARS = 64 << 20        # a single <row> longer than this is not a spreadsheet row


class XlsxError(Exception):
    """The workbook cannot be read: broken zip member, malformed or forbidden XML, bad reference."""


class FormulaWithoutValue(str):
    """A formula cell that carries no computed value (never opened in Excel): ``"=" + formula``."""


# ---------------------------------------------------------------- safe expat


def _forbid(*_: Any) -> None:
    raise XlsxError(Msg("a DOCTYPE or entity declaration in a workbook part (refused: no DTDs in XLSX)"))


def _expat() -> Any:
    p = expat.ParserCreate(namespace_separator="}")
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartDoctypeDeclHandler = _forbid
    p.EntityDeclHandler = _forbid
    p.UnparsedEntityDeclHandler = _forbid
    p.ExternalEntityRefHandler = _forbid
    p.buffer_text = True
    return p


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


class _El:
    __slots__ = ("tag", "ns", "attrib", "children", "text")

    def __init__(self, name: str, attrib: dict[str, str]) -> None:
        ns, _, local = name.rpartition("}")
        self.tag, self.ns = local, ns
        self.attrib = {_local(k): v for k, v in attrib.items()}
        self.children: list[_El] = []
        self.text = ""

    def iter(self, tag: str) -> Iterator["_El"]:
        if self.tag == tag:
            yield self
        for c in self.children:
            yield from c.iter(tag)

    def find(self, tag: str) -> "_El | None":
        return next((c for c in self.children if c.tag == tag), None)


def parse_xml(data: bytes, what: str) -> _El:
    """A small XML part as a tree of ``_El`` (local names, attributes by local name)."""
    p = _expat()
    stack: list[_El] = []
    root: list[_El] = []

    def start(name: str, attrib: dict[str, str]) -> None:
        el = _El(name, attrib)
        if stack:
            stack[-1].children.append(el)
        else:
            root.append(el)
        stack.append(el)

    def end(_: str) -> None:
        stack.pop()

    def chars(s: str) -> None:
        if stack:
            stack[-1].text += s

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    try:
        p.Parse(data, True)
    except expat.ExpatError as exc:
        raise XlsxError(Msg("{what}: malformed XML ({error})", what=what, error=exc)) from None
    return root[0]


# ---------------------------------------------------------------- values


_COLS: dict[str, int] = {}


def col_index(letters: str) -> int:
    """0-based column of ``"A"``, ``"AB"``, ``"XFD"``."""
    n = _COLS.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + (ord(ch) - 64)
        n -= 1
        if not letters.isalpha() or not letters.isupper() or not 0 <= n < 16384:
            raise XlsxError(Msg("bad cell reference column {letters!r}", letters=letters))
        _COLS[letters] = n
    return n


def col_letters(index: int) -> str:
    """``"A"`` for 0."""
    s, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


def range_bounds(ref: str) -> tuple[int, int, int, int]:
    """``"B2:D5"`` → (first row, first column, last row, last column); rows 1-based, columns 0-based."""
    parts = ref.split(":")
    out = []
    for p in parts:
        m = _REF.fullmatch(p.strip())
        if not m:
            raise XlsxError(Msg("bad cell range {ref!r}", ref=ref))
        out.append((int(m.group(2)), col_index(m.group(1))))
    (r1, c1), (r2, c2) = out[0], out[-1]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def from_excel(value: float, epoch: datetime = WINDOWS_EPOCH, as_timedelta: bool = False) -> Any:
    """An Excel serial number as openpyxl gives it: datetime, time (a fraction of a day), timedelta."""
    if as_timedelta:
        td = timedelta(days=value)
        if td.microseconds:
            td = timedelta(seconds=td.total_seconds() // 1, microseconds=round(td.microseconds, -3))
        return td
    day, fraction = divmod(value, 1)
    diff = timedelta(milliseconds=round(fraction * 86400 * 1000))
    if 0 <= value < 1 and diff.days == 0:
        secs = diff.seconds
        return time(secs // 3600, secs // 60 % 60, secs % 60, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1            # Excel's phantom 1900-02-29
    return epoch + timedelta(days=day) + diff


_LITERAL_OR_LOCALE = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_CHARS = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
_BUILTIN_DATES = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47,
                  27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 50, 51, 52, 53, 54, 55, 56, 57, 58}
_BUILTIN_TIMEDELTA = {46}


def is_date_format(fmt: str) -> bool:
    first = fmt.split(";")[0]
    return _DATE_CHARS.search(_LITERAL_OR_LOCALE.sub("", first)) is not None


def is_timedelta_format(fmt: str) -> bool:
    return _TIMEDELTA.search(fmt.split(";")[0]) is not None


_XML_REF = re.compile(r"&(?:#(\d+)|#x([0-9A-Fa-f]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_OOXML_ESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


class _Junk(Exception):
    """A row holds something the pattern did not read as a cell."""


class _NotFast(Exception):
    """The fast path met something it does not read exactly; the full parser takes over."""


def _xml_text(s: str) -> str:
    """Character data as an XML parser reports it (references resolved, line ends normalised)."""
    if "&" in s:
        def sub(m: re.Match[str]) -> str:
            if m.group(3):
                return _NAMED[m.group(3)]
            code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
            try:
                return chr(code)
            except (ValueError, OverflowError):
                raise _NotFast() from None
        out = _XML_REF.sub(sub, s)
        if "&" in _XML_REF.sub("", s):
            raise _NotFast()        # an entity XML does not define: let expat judge it
        s = out
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    return s


def ooxml_unescape(s: str) -> str:
    """``_x000D_`` → carriage return (how SpreadsheetML escapes characters XML cannot carry)."""
    if "_x" in s:
        s = _OOXML_ESC.sub(lambda m: chr(int(m.group(1), 16)), s)
    return s


# ---------------------------------------------------------------- the workbook


class Workbook:
    """An XLSX workbook opened for reading rows. ``sheetnames`` in workbook order (worksheets only)."""

    def __init__(self, path: Any) -> None:
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
            raise XlsxError(Msg("not a readable zip ({error})", error=exc)) from None
        try:
            self._open()
        except BaseException:
            self._zip.close()
            raise

    def reopen(self) -> None:
        """A handle of its own (a forked child's: the inherited one shares its file offset)."""
        self._zip = zipfile.ZipFile(self._zip.filename)

    def _read(self, name: str) -> bytes:
        try:
            return self._zip.read(self._names[name.lower()])
        except KeyError:
            raise XlsxError(Msg("the workbook lists {name!r} but the zip has no such member", name=name)) from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise XlsxError(Msg("{name}: broken zip member ({error})", name=name, error=exc)) from None

    def _open(self) -> None:
        self._names = {n.lower(): n for n in self._zip.namelist()}
        wb_path = "xl/workbook.xml"
        if "_rels/.rels" in self._names:
            rels = parse_xml(self._read("_rels/.rels"), "_rels/.rels")
            for r in rels.iter("Relationship"):
                if r.attrib.get("Type", "").endswith("/officeDocument"):
                    wb_path = _resolve("", r.attrib.get("Target", ""))
                    break
        if wb_path.lower() not in self._names:
            raise XlsxError(Msg("no workbook part (xl/workbook.xml)"))
        wb = parse_xml(self._read(wb_path), wb_path)
        if wb.tag != "workbook":
            raise XlsxError(Msg("{wb_path}: not a workbook (root element {tag!r})", wb_path=wb_path, tag=wb.tag))
        base = posixpath.dirname(wb_path)
        rels_path = posixpath.join(base, "_rels", posixpath.basename(wb_path) + ".rels")
        targets: dict[str, tuple[str, str]] = {}
        if rels_path.lower() in self._names:
            for r in parse_xml(self._read(rels_path), rels_path).iter("Relationship"):
                targets[r.attrib.get("Id", "")] = (r.attrib.get("Type", "").rsplit("/", 1)[-1],
                                                   _resolve(base, r.attrib.get("Target", "")))
        pr = wb.find("workbookPr")
        self.epoch = MAC_EPOCH if pr is not None and pr.attrib.get("date1904") in ("1", "true") else WINDOWS_EPOCH
        self._sheets: dict[str, str] = {}
        for s in wb.iter("sheet"):
            kind, target = targets.get(s.attrib.get("id", ""), ("", ""))
            if kind == "worksheet" and target.lower() in self._names:
                self._sheets[s.attrib.get("name", "")] = target
        self.sheetnames = list(self._sheets)
        self._strings_path = next((t for k, t in targets.values() if k == "sharedStrings"), None)
        self._styles_path = next((t for k, t in targets.values() if k == "styles"), None)
        self._strings: list[str] | None = None
        self.date_styles, self.timedelta_styles = self._read_styles()

    def _read_styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """Cell style indexes whose number format is a date (or a duration)."""
        if not self._styles_path or self._styles_path.lower() not in self._names:
            return frozenset(), frozenset()
        st = parse_xml(self._read(self._styles_path), self._styles_path)
        custom = {}
        nf = st.find("numFmts")
        for f in (nf.children if nf is not None else ()):
            try:
                custom[int(f.attrib.get("numFmtId", ""))] = f.attrib.get("formatCode", "")
            except ValueError:
                continue
        dates, deltas = set(), set()
        xfs = st.find("cellXfs")
        for i, xf in enumerate(xfs.children if xfs is not None else ()):
            try:
                fid = int(xf.attrib.get("numFmtId", "0"))
            except ValueError:
                continue
            if fid in custom:
                if is_date_format(custom[fid]):
                    dates.add(i)
                if is_timedelta_format(custom[fid]):
                    deltas.add(i)
            elif fid in _BUILTIN_DATES:
                dates.add(i)
                if fid in _BUILTIN_TIMEDELTA:
                    deltas.add(i)
        return frozenset(dates), frozenset(deltas)

    @property
    def shared_strings(self) -> list[str]:
        if self._strings is None:
            self._strings = self._read_shared_strings()
        return self._strings

    def _read_shared_strings(self) -> list[str]:
        """Every ``<si>``: plain ``<t>`` or rich-text runs joined, phonetic runs (``<rPh>``) left out."""
        path = self._strings_path
        if not path or path.lower() not in self._names:
            return []
        strings: list[str] = []
        parts: list[str] = []
        state = {"t": False, "rph": 0}
        p = _expat()

        def start(name: str, _a: dict[str, str]) -> None:
            tag = _local(name)
            if tag == "t":
                state["t"] = True
            elif tag == "rPh":
                state["rph"] += 1
            elif tag == "si":
                parts.clear()

        def end(name: str) -> None:
            tag = _local(name)
            if tag == "t":
                state["t"] = False
            elif tag == "rPh":
                state["rph"] -= 1
            elif tag == "si":
                strings.append(ooxml_unescape("".join(parts)))

        def chars(s: str) -> None:
            if state["t"] and not state["rph"]:
                parts.append(s)

        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
        try:
            with self._zip.open(self._names[path.lower()]) as fh:
                p.ParseFile(fh)
        except expat.ExpatError as exc:
            raise XlsxError(Msg("{path}: malformed XML ({error})", path=path, error=exc)) from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise XlsxError(Msg("{path}: broken zip member ({error})", path=path, error=exc)) from None
        return strings

    def sheet(self, name: str) -> "SheetReader":
        if name not in self._sheets:
            raise KeyError(name)
        return SheetReader(self, self._sheets[name])

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "Workbook":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(base, target))


# ---------------------------------------------------------------- a sheet


class SheetReader:
    """One worksheet's rows, streamed. Iterate :meth:`rows`; afterwards ``merges`` holds the merged
    ranges as (first row, first column, last row, last column), rows 1-based, columns 0-based.
    Setting ``columns`` (0-based indexes) while iterating lets later rows leave other columns out
    (a hint: the fast path applies it from the next row, the expat path from its next chunk)."""

    def __init__(self, wb: Workbook, path: str) -> None:
        self._wb = wb
        self.path = path
        self.columns: set[int] | frozenset[int] | None = None
        self.merges: list[tuple[int, int, int, int]] = []
        self.fast = True        # False once the full parser had to take over (for tests and benches)

    def _open(self) -> Any:
        return self._wb._zip.open(self._wb._names[self.path.lower()])  # noqa: SLF001

    def rows(self, *, fast: bool = True) -> Iterator[tuple[int, dict[int, Any]]]:
        """(row number, {0-based column: value}) for every row holding at least one value.
        ``fast=False`` reads through expat only (the reference the fast path is tested against)."""
        delivered = [0]         # <row> elements handled so far, in document order
        try:
            try:
                if not fast:
                    raise _NotFast()
                yield from self._fast_rows(delivered)
                return
            except _NotFast:
                self.fast = False
                self.merges = []
            yield from self._full_rows(delivered[0])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise XlsxError(Msg("{path}: broken zip member ({error})", path=self.path, error=exc)) from None

    # -- values

    def _value(self, t: str, s: str, v: str, f: str | None, inline: str | None) -> Any:
        """A cell's value as openpyxl's data_only read gives it; ``f`` is the formula text when
        the cell has a formula element (``""`` for a shared formula's followers)."""
        if t == "inlineStr":
            if inline is None or inline == "":
                return FormulaWithoutValue("=" + f) if f is not None else None
            return inline
        if not v:
            return FormulaWithoutValue("=" + f) if f is not None else None
        if t == "n" or not t:
            try:
                num: Any = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
            except ValueError:
                raise XlsxError(Msg("number cell holding {value!r}", value=v)) from None
            if s:
                try:
                    si = int(s)
                except ValueError:
                    raise XlsxError(Msg("bad style index {style!r}", style=s)) from None
                if si in self._wb.date_styles:
                    try:
                        return from_excel(num, self._wb.epoch, si in self._wb.timedelta_styles)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
            return num
        if t == "s":
            try:
                return self._wb.shared_strings[int(v)]
            except (ValueError, IndexError):
                raise XlsxError(Msg("shared string index {value!r} out of range", value=v)) from None
        if t == "str" or t == "e":
            return v
        if t == "b":
            return v.strip() not in ("0", "false", "")
        if t == "d":
            try:
                return datetime.fromisoformat(v.strip().rstrip("Z"))
            except ValueError:
                raise XlsxError(Msg("date cell holding {value!r}", value=v)) from None
        raise XlsxError(Msg("unknown cell type t={cell_type!r}", cell_type=t))

    # -- the fast path

    def _fast_rows(self, delivered: list[int]) -> Iterator[tuple[int, dict[int, Any]]]:
        fh = self._open()
        try:
            dec = codecs.getincrementaldecoder("utf-8")()
            buf = ""
            eof = False

            def more() -> bool:
                nonlocal buf, eof
                if eof:
                    return False
                b = fh.read(CHUNK)
                if not b:
                    eof = True
                    buf += dec.decode(b"", True)
                    return False
                buf += dec.decode(b)
                return True

            # the prolog up to <sheetData>: through expat (namespaces, no DTD), then ours
            try:
                while True:
                    m = _SHEETDATA.search(buf)
                    if m:
                        break
                    if not more():
                        raise _NotFast()
                    if len(buf) > MAX_ROW_CHARS:
                        raise _NotFast()
            except UnicodeDecodeError:
                raise _NotFast() from None
            head = buf[: m.start()]
            decl = _DECL.match(head)
            if decl and decl.group(1).lower().replace("-", "").replace("_", "") not in ("utf8",):
                raise _NotFast()
            px = _NsPrefix()
            tail_parser = px.parser
            try:
                tail_parser.Parse(buf[: m.end()].encode("utf-8"), False)
            except expat.ExpatError:
                raise _NotFast() from None
            if px.sheetdata_ns not in MAIN_NS or px.sheetdata_prefix != (m.group(1) or ""):
                raise _NotFast()
            pat = _patterns(m.group(1) or "")
            pos = m.end()
            if m.group(2):      # <sheetData/>
                tail_start = pos
            else:
                row_re, end_re, row_close = pat.row, pat.end, pat.row_close
                tight, loose = pat.tight, pat.loose
                row_values = self._row_values_fn(pat)
                number = 0
                try:
                    while True:
                        rm = row_re.match(buf, pos)
                        if rm is not None:
                            if rm.group(2):
                                body, end = "", rm.end()
                            else:
                                e = buf.find(row_close, rm.end())
                                body, end = (buf[rm.end():e], e + len(row_close)) if e >= 0 else ("", -1)
                        else:
                            em = end_re.match(buf, pos)
                            if em is not None:
                                tail_start = em.start(1)
                                break
                            end = -1
                        if end < 0:                 # the row goes on in the next chunk
                            buf, pos = buf[pos:], 0
                            if not more() or len(buf) > MAX_ROW_CHARS:
                                raise _NotFast()
                            continue
                        pos = end
                        rn = _ROW_R.search(rm.group(1))
                        number = int(rn.group(1)) if rn else number + 1
                        if not body:
                            delivered[0] += 1
                            continue
                        cells = tight.findall(body)
                        try:
                            vals = row_values(cells)
                        except _Junk:
                            cells = loose.findall(body)
                            try:
                                vals = row_values(cells)
                            except _Junk:
                                raise _NotFast() from None
                        delivered[0] += 1
                        if vals:
                            yield number, vals
                except UnicodeDecodeError:
                    raise _NotFast() from None
            # the rest of the document (mergeCells …) through expat
            try:
                tail_parser.Parse(buf[tail_start:].encode("utf-8"), False)
                while True:
                    b = fh.read(CHUNK)
                    if not b:
                        break
                    tail_parser.Parse(b, False)
                tail_parser.Parse(b"", True)
            except expat.ExpatError as exc:
                raise XlsxError(Msg("{path}: malformed XML ({error})", path=self.path, error=exc)) from None
            self.merges = _merge_bounds(px.merges)
        finally:
            fh.close()

    def _row_values_fn(self, pat: "_Patterns") -> Callable[[list[tuple[str, ...]]], dict[int, Any]]:
        """The function turning one row's cell matches into {column: value} (raises ``_Junk``
        when the row holds something that is not a cell as the pattern read it)."""
        wb = self._wb
        strings: list[str] | None = None
        cols_get = _COLS.get
        value = self._value
        inline_text = pat.inline_text
        attr_cache: dict[str, tuple[str, str, str | None]] = {}
        reader = self

        def attrs_of(rest: str) -> tuple[str, str, str | None]:
            a = attr_cache.get(rest)
            if a is None:
                a = _cell_attrs(rest)
                if a[2] is None and len(attr_cache) < 4096:
                    attr_cache[rest] = a
            return a

        def row_values(cells: list[tuple[str, ...]]) -> dict[int, Any]:
            nonlocal strings
            if any(map(_JUNK_OF, cells)):
                raise _Junk()
            wanted = reader.columns
            vals: dict[int, Any] = {}
            col = -1
            for letters, rest, f, v, plain, inline, _ in cells:
                if letters:
                    col = cols_get(letters)
                    if col is None:
                        col = col_index(letters)
                elif rest and (r := attrs_of(rest)[2]) is not None:
                    col = col_index(r)
                else:
                    col += 1
                if wanted is not None and col not in wanted:
                    continue
                if not (v or plain or inline or f):
                    continue
                t, s, _r = attrs_of(rest) if rest else _NO_ATTRS
                if f:
                    fm = _FTEXT.search(f)
                    ftext: str | None = _xml_text(fm.group(1)) if fm else ""
                else:
                    ftext = None
                if t == "s" and v:
                    if strings is None:
                        strings = wb.shared_strings
                    try:
                        x = strings[int(v)]
                    except (ValueError, IndexError):
                        raise XlsxError(Msg("shared string index {value!r} out of range", value=v)) from None
                elif t == "inlineStr":
                    if plain:
                        if "&" in plain or "\r" in plain:
                            plain = _xml_text(plain)
                        x = ooxml_unescape(plain) if "_x" in plain else plain
                    else:
                        x = value(t, s, "", ftext, ooxml_unescape(inline_text(inline)))
                elif not t and not s and v and not ftext:
                    try:
                        x = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                    except ValueError:
                        raise XlsxError(Msg("number cell holding {value!r}", value=v)) from None
                else:
                    x = value(t, s, _xml_text(v) if "&" in v or "\r" in v else v, ftext, None)
                if x is not None and x != "":
                    vals[col] = x
            return vals

        return row_values

    # -- the full path

    def _full_rows(self, skip: int) -> Iterator[tuple[int, dict[int, Any]]]:
        """Every row through expat; the first ``skip`` <row> elements were delivered already."""
        p = _expat()
        ready: list[tuple[int, dict[int, Any]]] = []
        merges: list[str] = []
        st: dict[str, Any] = {"row": 0, "seen": 0, "col": -1, "cell": None, "in": None, "rph": 0}
        text: list[str] = []

        def start(name: str, a: dict[str, str]) -> None:
            ns, _, tag = name.rpartition("}")
            if ns not in MAIN_NS:
                return
            if tag == "c":
                ref = a.get("r")
                if ref:
                    m = _REF.fullmatch(ref)
                    if not m:
                        raise XlsxError(Msg("bad cell reference {ref!r}", ref=ref))
                    st["col"] = col_index(m.group(1))
                else:
                    st["col"] += 1
                st["cell"] = {"t": a.get("t", "n"), "s": a.get("s", ""), "v": None, "f": None, "is": None}
            elif tag == "row":
                r = a.get("r")
                st["row"] = int(r) if r else st["row"] + 1
                st["seen"] += 1
                st["col"] = -1
                st["vals"] = {}
            elif st["cell"] is not None:
                if tag in ("v", "f"):
                    st["in"] = tag
                    text.clear()
                elif tag == "is":
                    st["cell"]["is"] = []
                elif tag == "t" and st["cell"]["is"] is not None and not st["rph"]:
                    st["in"] = "t"
                    text.clear()
                elif tag == "rPh":
                    st["rph"] += 1
            elif tag == "mergeCell":
                merges.append(a.get("ref", ""))

        def end(name: str) -> None:
            ns, _, tag = name.rpartition("}")
            if ns not in MAIN_NS:
                return
            cell = st["cell"]
            if tag == "c":
                st["cell"] = None
                if st["seen"] <= skip:
                    return
                wanted = self.columns
                if wanted is not None and st["col"] not in wanted:
                    return
                inline = None if cell["is"] is None else ooxml_unescape("".join(cell["is"]))
                x = self._value(cell["t"], cell["s"], cell["v"] or "", cell["f"], inline)
                if x is not None and x != "":
                    st["vals"][st["col"]] = x
            elif tag == "row":
                if st["seen"] > skip and st["vals"]:
                    ready.append((st["row"], st["vals"]))
            elif cell is not None:
                if tag in ("v", "f") and st["in"] == tag:
                    cell[tag] = "".join(text)
                    st["in"] = None
                elif tag == "t" and st["in"] == "t":
                    cell["is"].append("".join(text))
                    st["in"] = None
                elif tag == "rPh":
                    st["rph"] -= 1

        def chars(s: str) -> None:
            if st["in"] is not None:
                text.append(s)

        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
        with self._open() as fh:
            try:
                while True:
                    b = fh.read(CHUNK)
                    p.Parse(b, not b)
                    if ready:
                        yield from ready
                        ready.clear()
                    if not b:
                        break
            except expat.ExpatError as exc:
                raise XlsxError(Msg("{path}: malformed XML ({error})", path=self.path, error=exc)) from None
        self.merges = _merge_bounds(merges)


def _merge_bounds(refs: list[str]) -> list[tuple[int, int, int, int]]:
    return [range_bounds(r) for r in refs if r]


class _NsPrefix:
    """An expat parser over the sheet minus its rows: records the prefix and namespace of
    ``<sheetData>`` and every ``<mergeCell ref>``."""

    def __init__(self) -> None:
        self.sheetdata_ns: str | None = None
        self.sheetdata_prefix: str | None = None
        self.merges: list[str] = []
        self._prefixes: list[tuple[str, str]] = []
        p = _expat()
        p.namespace_prefixes = True
        p.StartElementHandler = self._start
        self.parser = p

    def _start(self, name: str, a: dict[str, str]) -> None:
        # with namespace_prefixes, names are "uri}local}prefix"
        parts = name.split("}")
        ns, tag = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
        prefix = parts[2] if len(parts) >= 3 else ""
        if tag == "sheetData" and self.sheetdata_ns is None:
            self.sheetdata_ns, self.sheetdata_prefix = ns, prefix
        elif tag == "mergeCell" and ns in MAIN_NS:
            self.merges.append(a.get("ref", ""))


_DECL = re.compile(r"""\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
_SHEETDATA = re.compile(r"<(?:([A-Za-z_][\w.-]*):)?sheetData(?:\s[^>]*?)?\s*(/?)>")
_ROW_R = re.compile(r"""\sr\s*=\s*["'](\d+)["']""")
_ATTR = re.compile(r"""\s*([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"<&]*)"|'([^'<&]*)')""")
_R_LETTERS = re.compile(r"\$?([A-Z]{1,3})\$?\d+")


def _cell_attrs(rest: str) -> tuple[str, str, str | None]:
    """(t, s, column letters of r or None) of a cell's attributes other than a leading r."""
    d = {name: v1 + v2 for name, v1, v2 in _ATTR.findall(rest)}
    r = d.get("r")
    if r is not None:
        m = _R_LETTERS.fullmatch(r)
        if not m:
            raise XlsxError(Msg("bad cell reference {ref!r}", ref=r))
        r = m.group(1)
    return d.get("t", ""), d.get("s", ""), r


_JUNK_OF = operator.itemgetter(6)
_NO_ATTRS = ("", "", None)
_FTEXT = re.compile(r">([^<]*)</(?:[A-Za-z_][\w.-]*:)?f>\Z")


class _Patterns:
    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix + ":") if prefix else ""
        attrs = r"""(?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<&]*"|'[^'<&]*'))"""
        # one cell: the column letters of a leading r="…", the other attributes, the whole <f>
        # element if any, the <v> text, the <is> content; or (last group) one character that
        # starts no cell — junk, which sends the row to the loose pattern and then to expat.
        # The tight pattern is the common machine-written form (no whitespace between elements,
        # double quotes); the loose one allows whitespace and single quotes.
        a_tight = r"""(?: [A-Za-z_][\w:.-]*="[^"<&]*")"""
        self.tight = re.compile(
            rf"""<{p}c(?: r="([A-Z]{{1,3}})\d+")?({a_tight}*)(?:/>|>(<{p}f{a_tight}*(?:/>|>[^<]*</{p}f>))?"""
            rf"""(?:<{p}v>([^<]*)</{p}v>)?(?:<{p}is><{p}t>([^<]*)</{p}t></{p}is>|<{p}is>(.*?)</{p}is>)?"""
            rf"""(?:<{p}extLst>.*?</{p}extLst>)?</{p}c>)|(\S)""",
            re.S)
        self.loose = re.compile(
            rf"""<{p}c(?:\s+r\s*=\s*["']([A-Z]{{1,3}})\d+["'])?({attrs}*)\s*(?:/>|>\s*"""
            rf"""(<{p}f{attrs}*\s*(?:/>|>[^<]*</{p}f\s*>))?\s*(?:<{p}v\s*>([^<]*)</{p}v\s*>\s*)?"""
            rf"""(?:<{p}is\s*>()(.*?)</{p}is\s*>\s*)?(?:<{p}extLst\s*>.*?</{p}extLst\s*>\s*)?</{p}c\s*>)|(\S)""",
            re.S)
        self.row = re.compile(rf"\s*<{p}row({attrs}*)\s*(/?)>")
        self.row_close = f"</{prefix + ':' if prefix else ''}row>"
        self.end = re.compile(rf"\s*(</{p}sheetData\s*>)")
        t_el = re.compile(rf"<{p}t{attrs}*\s*(?:/>|>([^<]*)</{p}t\s*>)")
        simple = re.compile(rf"\s*<{p}t{attrs}*\s*>([^<]*)</{p}t\s*>\s*")
        rph = re.compile(rf"<{p}rPh\b(?:(?!</{p}rPh>).)*</{p}rPh>", re.S)

        def inline_text(inner: str) -> str:
            if not inner:
                return ""
            m = simple.fullmatch(inner)
            if m:
                return _xml_text(m.group(1))
            if "<" + (prefix + ":" if prefix else "") + "rPh" in inner:
                inner = rph.sub("", inner)
            return "".join(_xml_text(x) for x in t_el.findall(inner))

        self.inline_text: Callable[[str], str] = inline_text


_PATTERNS: dict[str, _Patterns] = {}


def _patterns(prefix: str) -> _Patterns:
    pat = _PATTERNS.get(prefix)
    if pat is None:
        pat = _PATTERNS[prefix] = _Patterns(prefix)
    return pat
