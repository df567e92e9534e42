"""Reading spreadsheets people send in: XLSX and CSV into rows of (sheet, row number, column → value).

What arrives is rarely clean, so this module is defensive first and fast second:

- An ``.xlsx`` is a zip: before anything reads it, the zip's declared sizes are checked (total
  and per-member compression ratio), so a zip bomb is refused with a clear error; a file named
  ``.xlsx`` that is not a zip (a CSV, an HTML page, an old OLE ``.xls``) is named as such.
- CSV bytes are decoded as UTF-8, UTF-8 with a BOM, UTF-16 with a BOM (Excel's "Unicode text"),
  or GB18030 (a superset of GBK, what Excel on Chinese Windows writes); the encoding used is kept
  and a legacy one is reported.
- XLSX is read by :mod:`govcloud.interchange.xlsxread` (standard library, streaming, expat with
  no DTDs; ~10× faster than openpyxl's read-only mode, which matters for 10,000-VM exports).
- Formulas: XLSX is read with cached values; a formula cell without one is reported. A CSV cell holding ``=...`` is a formula nobody evaluated: reported, left empty (the
  ``="0123"`` idiom for keeping leading zeros is read as the text ``0123``, and a leading ``'``
  that escapes ``= + - @`` is removed).
- Merged cells: the sheet's ``mergeCells`` come after its rows; they are read then and applied: a merged header names every column it spans, a value merged down
  several rows (one department over its five systems) is given to each row; both are reported.
- Header rows: the header is the row among the first ten that names most known columns, so title
  rows above it are skipped. Matching ignores case, whitespace, full-width forms, a leading ``*``
  and a trailing ``(optional)``/``(必填)``; a header close to a known one gets a did-you-mean.
- Limits: a file-size cap and a row cap per sheet, each with a clear error.

Every problem names the file, the sheet and row and the column header, and all of them are
collected: a bad file reports everything at once. Whole-file refusals raise ``TableRefused``.

What a cell's value means (numbers, dates, yes/no, enums, lists) is ``interchange/values.py``; its
converters are re-exported here for the readers.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import os
import pickle
import re
import signal
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError
from govcloud.base.proc import set_pdeathsig
from govcloud.interchange import xlsxread
from govcloud.inventory.problems import Problem
from govcloud.model.enums import Severity
# cell values (re-exported: the readers import them with the table)
from govcloud.interchange.values import (  # noqa: F401
    ValueProblem, norm_header, split_list, to_bool, to_date, to_enum, to_int, to_number, to_text,
)

DEFAULT_MAX_ROWS = 500_000          # data rows per sheet
DEFAULT_MAX_FILE_MB = 512           # bytes on disk
MAX_UNCOMPRESSED_MB = 2048          # declared uncompressed total of an xlsx
MAX_RATIO = 200                     # per member, once the member is larger than RATIO_FLOOR_MB
RATIO_FLOOR_MB = 16
HEADER_SEARCH_ROWS = 10
PARALLEL_MIN_BYTES = 1 << 20        # a workbook this large reads some sheets in a second process

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TableRefused(GovcloudError):
    """The whole file cannot be read (not a workbook, a zip bomb, undecodable, too large)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(Msg("{file}: {message}", file=problem.file, message=problem.message), hint=problem.hint)
        self.problem = problem


def make_problem(severity: Severity, code: str, message: str, *, file: str, sheet: str | None = None,
                 row: int | None = None, column: int | None = None, field: str | None = None,
                 hint: str | None = None, kind: str | None = None) -> Problem:
    """A problem located as a spreadsheet user finds it: ``file:sheet:row``, column header in field."""
    return Problem(severity, code, message, file=f"{file}:{sheet}" if sheet else file, line=row,
                   column=column, field=field, hint=hint, kind=kind)


# ---------------------------------------------------------------- header matching


@dataclass(frozen=True, slots=True)
class Column:
    """A column a parser understands: its key and every header it may appear under."""

    key: str
    names: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return self.names[0]


@dataclass(slots=True)
class Row:
    sheet: str | None
    number: int                       # 1-based, as the spreadsheet shows it
    values: dict[str, Any]            # column key → value (None never stored)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


@dataclass(slots=True)
class Sheet:
    name: str | None
    header_row: int
    headers: list[Any]                          # raw header cells
    columns: dict[str, list[int]]               # key → 0-based column indexes
    labels: dict[str, str]                      # key → header text as written
    rows: list[Row] = field(default_factory=list)

    def has(self, key: str) -> bool:
        return key in self.columns


FormulaWithoutValue = xlsxread.FormulaWithoutValue   # a formula cell with no computed value


# ---------------------------------------------------------------- opening files


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sniff_kind(path: Path, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(_OLE_MAGIC):
        return "ole"
    return "text"


def check_zip(path: Path, display: str, *, max_total_mb: float = MAX_UNCOMPRESSED_MB,
              max_ratio: float = MAX_RATIO, ratio_floor_mb: float = RATIO_FLOOR_MB) -> None:
    """Refuse a zip whose declared contents would expand beyond reason (before anything reads it).

    Python's zipfile stops at each member's declared size and then fails the CRC, so a member
    lying about its size cannot expand past what is checked here."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
        raise TableRefused(make_problem(
            Severity.error, "import.bad_zip", Msg("not a readable XLSX workbook (broken zip: {error})", error=exc),
            file=display, hint=Msg("open it in Excel or WPS and save it again as .xlsx"))) from None
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ratio_floor_mb * 2**20 and ratio > max_ratio:
            raise TableRefused(make_problem(
                Severity.error, "import.zip_bomb",
                Msg("refused: member {filename!r} would expand {compress_size:,} bytes to {file_size:,} bytes "
                    "(×{ratio:,.0f}); this looks like a zip bomb, not a workbook", filename=info.filename,
                    compress_size=info.compress_size, file_size=info.file_size, ratio=ratio),
                file=display, hint=Msg("export the data again from its source application")))
    if total > max_total_mb * 2**20:
        raise TableRefused(make_problem(
            Severity.error, "import.zip_bomb",
            Msg("refused: the workbook would expand to {size_mib:,.0f} MiB (limit {limit_mib:,.0f} MiB)", size_mib=total / 2**20,
                limit_mib=max_total_mb),
            file=display, hint=Msg("split the workbook, or export only the sheets needed")))
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and not any(n.endswith("/workbook.xml") for n in names):
        raise TableRefused(make_problem(
            Severity.error, "import.not_xlsx",
            Msg("a zip archive but not an XLSX workbook (no xl/workbook.xml)"), file=display,
            hint=Msg("give the .xlsx file itself, not an archive containing it")))


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding name as a person would say it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "UTF-8 with BOM"
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    return data.decode("gb18030"), "GB18030/GBK"   # GB18030 decodes any byte string that GBK does


# ---------------------------------------------------------------- the reader


class TableFile:
    """One XLSX workbook or one CSV file, opened safely. ``problems`` collects every problem."""

    def __init__(self, path: Path | str, *, display: str | None = None, max_rows: int = DEFAULT_MAX_ROWS,
                 max_file_mb: float = DEFAULT_MAX_FILE_MB) -> None:
        self.path = Path(path)
        self.display = display or str(path)
        self.max_rows = max_rows
        self.problems: list[Problem] = []
        self.encoding: str | None = None
        self._wb: Any = None
        self._csv_rows: list[list[str]] | None = None
        try:
            size = self.path.stat().st_size
        except OSError as exc:
            raise TableRefused(make_problem(Severity.error, "import.unreadable",
                                            Msg("cannot read: {reason}", reason=exc.strerror or exc), file=self.display)) from None
        if size > max_file_mb * 2**20:
            raise TableRefused(make_problem(
                Severity.error, "import.too_large",
                Msg("file is {size_mib:,.0f} MiB, larger than the {limit_mib:,.0f} MiB limit", size_mib=size / 2**20,
                    limit_mib=max_file_mb),
                file=self.display, hint=Msg("split the file")))
        with self.path.open("rb") as fh:
            head = fh.read(8)
        kind = _sniff_kind(self.path, head)
        suffix = self.path.suffix.lower()
        if kind == "ole":
            raise TableRefused(make_problem(
                Severity.error, "import.not_xlsx",
                Msg("an old Excel 97-2003 (.xls) or password-protected workbook, not XLSX"),
                file=self.display, hint=Msg("open it in Excel or WPS and save as .xlsx (without a password)")))
        if suffix in (".xlsx", ".xlsm") and kind != "xlsx":
            raise TableRefused(make_problem(
                Severity.error, "import.not_xlsx",
                Msg("named {suffix} but it is not a workbook (it is {what})", suffix=suffix,
                    what=_describe_text(self.path)),
                file=self.display, hint=Msg("save it as .xlsx from Excel or WPS, or rename it to .csv if it is a "
                                            "CSV")))
        self.kind = "xlsx" if kind == "xlsx" else "csv"
        self.sha256 = sha256_of(self.path)
        if self.kind == "xlsx":
            self._open_xlsx()
        else:
            self._open_csv()

    # -- xlsx

    def _open_xlsx(self) -> None:
        check_zip(self.path, self.display)
        try:
            self._wb = xlsxread.Workbook(self.path)
        except xlsxread.XlsxError as exc:
            raise TableRefused(make_problem(
                Severity.error, "import.bad_xlsx", Msg("not a readable XLSX workbook ({error})", error=exc.args[0]),
                file=self.display, hint=Msg("open it in Excel or WPS and save it again as .xlsx"))) from None

    def sheet_names(self) -> list[str | None]:
        if self.kind == "csv":
            return [None]
        return list(self._wb.sheetnames)

    def find_sheet(self, *names: str) -> str | None:
        """The workbook's sheet matching one of ``names`` (tolerant as headers are)."""
        if self.kind == "csv":
            return None
        want = {norm_header(n) for n in names}
        for s in self._wb.sheetnames:
            if norm_header(s) in want:
                return s
        return None

    def close(self) -> None:
        if self._wb is not None:
            self._wb.close()
            self._wb = None

    def __enter__(self) -> "TableFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- csv

    def _open_csv(self) -> None:
        data = self.path.read_bytes()
        try:
            text, enc = decode_text(data)
        except UnicodeDecodeError as exc:
            raise TableRefused(make_problem(
                Severity.error, "import.encoding", Msg("cannot decode the text as UTF-8, UTF-16 or GBK/GB18030 "
                                                       "({error})", error=exc),
                file=self.display, hint=Msg("save as 'CSV UTF-8' from Excel"))) from None
        self.encoding = enc
        if enc == "GB18030/GBK":
            self.problems.append(make_problem(
                Severity.warning, "import.encoding",
                Msg("read as GBK/GB18030 (the file is not UTF-8); check that Chinese text looks right"),
                file=self.display, hint=Msg("Excel: Save As → 'CSV UTF-8 (Comma delimited)'")))
        if "\x00" in text[:4096]:
            raise TableRefused(make_problem(Severity.error, "import.not_csv",
                                            Msg("binary data, not a CSV text file"), file=self.display))
        first = text[: text.find("\n")] if "\n" in text else text
        delim = max((",", "\t", ";", "|"), key=first.count)
        if first.count(delim) == 0:
            delim = ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        try:
            self._csv_rows = list(reader)
        except csv.Error as exc:   # a cell over the csv module's 128 KiB limit, a NUL after the first 4 KiB …
            raise TableRefused(make_problem(
                Severity.error, "import.csv_syntax", Msg("cannot read the CSV: {error}", error=exc), file=self.display,
                row=reader.line_num or None,
                hint=Msg("a census cell never needs 128 KiB; check the file (an unclosed quote swallows the rest)"))) from None

    # -- rows

    def _raw_rows(self, sheet: str | None, wanted: "_Wanted") -> Iterator[tuple[int, dict[int, Any]]]:
        """(row number, {0-based column: value}) for non-empty rows; afterwards ``wanted.merges``."""
        if self.kind == "csv":
            for n, cells in enumerate(self._csv_rows or (), 1):
                vals = {i: v for i, v in enumerate(cells) if v != "" and v is not None}
                if vals:
                    yield n, vals
            return
        sr = self._wb.sheet(sheet)
        try:
            for item in sr.rows():
                yield item
                sr.columns = wanted.columns     # once the header is known, only its columns
        except xlsxread.XlsxError as exc:
            self.problems.append(make_problem(
                Severity.error, "import.bad_xlsx", Msg("the sheet cannot be read to its end ({error})",
                                                       error=exc.args[0]),
                file=self.display, sheet=sheet,
                hint=Msg("open it in Excel or WPS and save it again as .xlsx")))
            return
        wanted.merges.extend(sr.merges)

    def read_all(self, requests: Sequence[tuple[str | None, Sequence[Column], dict[str, Any]]], *,
                 aside: Iterable[str] = ()) -> list["Sheet | None"]:
        """``read(sheet, columns, **options)`` for each request, in order; problems in request order.

        The sheets named in ``aside`` are read by a forked child while this process reads the
        rest, when the workbook is large and a second CPU is there: a 10,000-VM RVTools export
        spends most of its import reading vInfo and vDisk, which then overlap. The child
        opens the file anew (a forked zip handle shares its file offset) and hands back pickled
        sheets; if it fails for any reason its sheets are read here after all."""
        aside = set(aside)
        mine = [i for i, r in enumerate(requests) if r[0] not in aside]
        theirs = [i for i, r in enumerate(requests) if r[0] in aside]
        results: dict[int, tuple[Sheet | None, list[Problem]]] = {}
        collect = self._fork_reader([requests[i] for i in theirs]) if theirs and self._parallel() else None
        if collect is None:
            mine = list(range(len(requests)))
        try:
            for i in mine:
                results[i] = self._read_alone(*requests[i])
        finally:
            got = collect() if collect is not None else None    # the child is always reaped
        for i, res in zip(theirs, got or ()):
            results[i] = res
        for i in theirs:
            if i not in results:            # the child failed: read its sheets here
                results[i] = self._read_alone(*requests[i])
        out: list[Sheet | None] = []
        for i in range(len(requests)):
            sheet, problems = results[i]
            self.problems.extend(problems)
            out.append(sheet)
        return out

    def _parallel(self) -> bool:
        if self.kind != "xlsx" or not hasattr(os, "fork") or os.environ.get("GOVCLOUD_SERIAL"):
            return False
        try:
            cpus = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpus = os.cpu_count() or 1
        return cpus > 1 and self.path.stat().st_size >= PARALLEL_MIN_BYTES

    def _read_alone(self, sheet: str | None, columns: Sequence[Column],
                    options: dict[str, Any]) -> tuple["Sheet | None", list[Problem]]:
        before = len(self.problems)
        result = self.read(sheet, columns, **options)
        problems = self.problems[before:]
        del self.problems[before:]
        return result, problems

    def _fork_reader(self, requests: list[tuple[str | None, Sequence[Column], dict[str, Any]]]) -> Any:
        """Start a child reading ``requests``; returns the function that waits for its results
        (``None`` from it when the child failed)."""
        try:
            self._wb.shared_strings      # noqa: B018 - loaded once, before the fork, for both
        except Exception:                # noqa: BLE001 - a broken part: read() reports it, serially
            return None
        r, w = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return None
        if pid == 0:                     # the child: never returns
            code = 1
            try:
                set_pdeathsig(signal.SIGKILL, parent=parent)  # a killed import leaves no reader behind
                os.close(r)
                self._wb.reopen()
                data = pickle.dumps([self._read_alone(*req) for req in requests], pickle.HIGHEST_PROTOCOL)
                with os.fdopen(w, "wb") as fh:
                    fh.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(w)

        def collect() -> list[tuple[Sheet | None, list[Problem]]] | None:
            with os.fdopen(r, "rb") as fh:
                data = fh.read()
            _, status = os.waitpid(pid, 0)
            if status != 0 or not data:
                return None
            return pickle.loads(data)   # noqa: S301 - our own child's output

        return collect

    def read(self, sheet: str | None, columns: Sequence[Column], *, report_unknown: bool = False,
             ignore: Iterable[str] = (), missing: Severity = Severity.error) -> Sheet | None:
        """Map one sheet's rows to ``columns``. ``None`` (with problems) when no header row is found.

        A header that is not one of ``columns`` is reported when it looks like a misspelling of a
        column the sheet lacks (or always, with ``report_unknown``). A required column that is
        missing is a problem of severity ``missing`` (a warning for an optional sheet).

        In phases: find the header row, read the data rows (up to the row limit), spread merged
        cells, map the header cells to columns, report unknown and missing headers, build the rows."""
        display_sheet = sheet if self.kind == "xlsx" else None
        lookup: dict[str, Column] = {}
        for c in columns:
            for n in c.names:
                lookup.setdefault(norm_header(n), c)
        wanted = _Wanted()
        rows_iter = self._raw_rows(sheet, wanted)
        found = self._find_header(rows_iter, lookup, columns, missing, display_sheet)
        if found is None:
            return None
        buffered, best = found
        pre_header = buffered[:best]
        data_rows = buffered[best + 1:]
        header_row, header_cells = buffered[best]
        # columns of interest: known headers, and blank header cells (a merged header may name them)
        colmap = _column_map(header_cells, lookup)
        if self.kind == "xlsx" and header_cells:
            wanted.columns = set(colmap) | {i for i in range(max(header_cells) + 1) if i not in header_cells}
        self._read_rows(rows_iter, data_rows, display_sheet)
        header_cells = dict(header_cells)
        if wanted.merges:
            self._apply_merges(wanted.merges, header_row, header_cells, pre_header, data_rows, display_sheet,
                               wanted.merged_header_cols)
            colmap.update(_column_map(header_cells, lookup))
        cols, labels = self._columns(colmap, header_cells, header_row, display_sheet, wanted.merged_header_cols)
        self._check_headers(columns, lookup, colmap, cols, header_cells, header_row, display_sheet,
                            ignored={norm_header(x) for x in ignore}, report_unknown=report_unknown, missing=missing)
        out = Sheet(display_sheet, header_row, [header_cells.get(i) for i in range(max(header_cells) + 1)],
                    cols, labels)
        out.rows.extend(self._rows(data_rows, cols, labels, display_sheet))
        return out

    def _find_header(self, rows_iter: Iterator[tuple[int, dict[int, Any]]], lookup: dict[str, Column],
                     columns: Sequence[Column], missing: Severity, display_sheet: str | None
                     ) -> tuple[list[tuple[int, dict[int, Any]]], int] | None:
        """The first rows read and which of them is the header (the one naming most known columns);
        None, with the problem, when none names any (the sheet is then drained: its merges are read)."""
        buffered: list[tuple[int, dict[int, Any]]] = []
        for item in rows_iter:
            buffered.append(item)
            if len(buffered) >= HEADER_SEARCH_ROWS:
                break
        best, best_score = None, 0
        for idx, (_, cells) in enumerate(buffered):
            score = sum(1 for v in cells.values() if norm_header(v) in lookup)
            if score > best_score:
                best, best_score = idx, score
        if best is not None:
            return buffered, best
        expect = ", ".join(c.label for c in columns[:6])
        self.problems.append(make_problem(
            missing, "import.no_header",
            Msg("no header row found in the first {rows} rows (expected columns such as {expect})",
                rows=HEADER_SEARCH_ROWS, expect=expect) if buffered else Msg("the sheet is empty"),
            file=self.display, sheet=display_sheet, row=buffered[0][0] if buffered else None))
        for _ in rows_iter:   # drain so the merges are read (nothing else to do)
            pass
        return None

    def _read_rows(self, rows_iter: Iterator[tuple[int, dict[int, Any]]], data_rows: list[tuple[int, dict[int, Any]]],
                   display_sheet: str | None) -> None:
        """The rest of the sheet into ``data_rows``, up to the row limit (beyond it: a problem, the rest drained)."""
        limit = self.max_rows
        count = len(data_rows)
        for item in rows_iter:
            count += 1
            if count > limit:
                self.problems.append(make_problem(
                    Severity.error, "import.too_many_rows",
                    Msg("more than {limit:,} rows; stopped reading at row {row:,}", limit=limit, row=item[0]),
                    file=self.display, sheet=display_sheet, row=item[0],
                    hint=Msg("split the file, or raise the row limit (--max-rows)")))
                for _ in rows_iter:
                    pass
                break
            data_rows.append(item)

    def _columns(self, colmap: dict[int, Column], header_cells: dict[int, Any], header_row: int,
                 display_sheet: str | None, merged_header_cols: set[int]) -> tuple[dict[str, list[int]], dict[str, str]]:
        """Column index lists per key and each key's header text; a column named twice is reported."""
        cols: dict[str, list[int]] = {}
        labels: dict[str, str] = {}
        for i in sorted(colmap):
            c = colmap[i]
            if c.key in cols and i not in merged_header_cols:
                self.problems.append(make_problem(
                    Severity.warning, "import.duplicate_column",
                    Msg("column {column!r} appears more than once; the values of both are read",
                        column=header_cells[i]),
                    file=self.display, sheet=display_sheet, row=header_row, column=i + 1,
                    field=str(header_cells[i])))
            cols.setdefault(c.key, []).append(i)
            labels.setdefault(c.key, str(header_cells[i]))
        return cols, labels

    def _check_headers(self, columns: Sequence[Column], lookup: dict[str, Column], colmap: dict[int, Column],
                       cols: dict[str, list[int]], header_cells: dict[int, Any], header_row: int,
                       display_sheet: str | None, *, ignored: set[str], report_unknown: bool,
                       missing: Severity) -> None:
        """Unknown headers (a likely misspelling, or any with ``report_unknown``) and missing required columns."""
        known_names = sorted({n for c in columns for n in c.names})
        norm_known = {norm_header(n): n for n in known_names}
        for i, v in sorted(header_cells.items()):
            if i in colmap or v is None or norm_header(v) in ignored:
                continue
            hint = _suggest(v, norm_known)
            if hint is not None and lookup[norm_header(hint)].key in cols:
                hint = None          # that column is there already: this is another column
            if hint is not None or report_unknown:
                self.problems.append(make_problem(
                    Severity.warning, "import.unknown_column",
                    Msg("column {column!r} is not recognised and is ignored; did you mean {hint!r}?", column=str(v),
                        hint=hint)
                    if hint else Msg("column {column!r} is not recognised and is ignored", column=str(v)),
                    file=self.display, sheet=display_sheet, row=header_row, column=i + 1, field=str(v),
                    hint=Msg("rename the header to {hint!r}", hint=hint) if hint else None))
        for c in columns:
            if c.required and c.key not in cols:
                unknown = [str(v) for i, v in header_cells.items() if i not in colmap and v is not None]
                near = _suggest_any(c.names, unknown)
                self.problems.append(make_problem(
                    missing, "import.missing_column",
                    Msg("required column {label!r} is missing (is {near!r} meant to be it?)", label=c.label, near=near)
                    if near else Msg("required column {label!r} is missing", label=c.label),
                    file=self.display, sheet=display_sheet, row=header_row, field=c.label,
                    hint=Msg("accepted headers: {names}", names=', '.join(c.names))))

    def _rows(self, data_rows: list[tuple[int, dict[int, Any]]], cols: dict[str, list[int]], labels: dict[str, str],
              display_sheet: str | None) -> Iterator[Row]:
        """The data rows by column key (a key with several columns: the list of their values), texts
        cleaned; rows with no value are left out."""
        single = [(k, v[0]) for k, v in cols.items() if len(v) == 1]
        multi = [(k, v) for k, v in cols.items() if len(v) > 1]
        csv_file = self.kind == "csv"
        for number, cells in data_rows:
            values: dict[str, Any] = {}
            for k, i in single:
                v = cells.get(i)
                if v is not None:
                    values[k] = v
            for k, idxs in multi:
                vs = [cells[i] for i in idxs if cells.get(i) is not None]
                if vs:
                    values[k] = vs if len(vs) > 1 else vs[0]
            if not values:
                continue
            for k, v in list(values.items()):
                if isinstance(v, str):
                    v = self._clean(v, csv_file, number, display_sheet, k, labels, cols)
                    if v is None:
                        del values[k]
                    else:
                        values[k] = v
                elif isinstance(v, list):
                    vs = [self._clean(x, csv_file, number, display_sheet, k, labels, cols) if isinstance(x, str)
                          else x for x in v]
                    values[k] = [x for x in vs if x is not None]
            yield Row(display_sheet, number, values)

    def _clean(self, v: str, csv_file: bool, number: int, sheet: str | None, key: str,
               labels: dict[str, str], cols: dict[str, list[int]]) -> Any:
        if isinstance(v, FormulaWithoutValue):
            self.problems.append(make_problem(
                Severity.warning, "import.formula",
                Msg("formula {value!r} has no computed value; the cell is read as empty", value=str(v)),
                file=self.display, sheet=sheet, row=number, column=cols[key][0] + 1, field=labels[key],
                hint=Msg("open the workbook in Excel or WPS and save it (formulas are then computed), or paste the "
                         "cells as values")))
            return None
        s = v.strip()
        if not s:
            return None
        if csv_file:
            if s[0] == "=":
                m = re.fullmatch(r'="(.*)"', s)
                if m:
                    return m.group(1)
                self.problems.append(make_problem(
                    Severity.warning, "import.formula",
                    Msg("formula {formula!r} in a CSV cannot be computed; the cell is read as empty", formula=s),
                    file=self.display, sheet=sheet, row=number, column=cols[key][0] + 1, field=labels[key],
                    hint=Msg("in Excel copy the column and paste it as values before saving the CSV")))
                return None
            if s[0] == "'" and len(s) > 1 and s[1] in "=+-@":
                return s[1:]
        return s

    def _apply_merges(self, merges: list[tuple[int, int, int, int]], header_row: int, header_cells: dict[int, Any],
                      pre_header: list[tuple[int, dict[int, Any]]], data_rows: list[tuple[int, dict[int, Any]]],
                      sheet: str | None, merged_cols: set[int]) -> None:
        """Give a merged range's value to every cell it covers (rows are 1-based, columns 0-based)."""
        by_row = {n: cells for n, cells in data_rows}
        pre = {n: cells for n, cells in pre_header}
        header_merges, data_merges = [], []
        for (r1, c1, r2, c2) in merges:
            if r2 < header_row:
                continue                            # a title above the header
            if r1 <= header_row <= r2:
                # the header cell: its text, or the text of the merged cell above it
                src = pre.get(r1, {}) if r1 < header_row else header_cells
                text = src.get(c1)
                if text is None:
                    continue
                for c in range(c1, c2 + 1):
                    if header_cells.get(c) is None:
                        header_cells[c] = text
                        if c != c1 or r1 < header_row:
                            merged_cols.add(c)
                header_merges.append((r1, c1, r2, c2))
                continue
            top = by_row.get(r1)
            if top is None or top.get(c1) is None:
                continue
            value = top[c1]
            for r in range(r1, r2 + 1):
                cells = by_row.get(r)
                if cells is None:
                    cells = by_row[r] = {}
                    data_rows.append((r, cells))
                for c in range(c1, c2 + 1):
                    cells.setdefault(c, value)
            data_merges.append((r1, c1, r2, c2))
        data_rows.sort(key=lambda x: x[0])
        get_column_letter = _letters

        def ref(m: tuple[int, int, int, int]) -> str:
            return f"{get_column_letter(m[1] + 1)}{m[0]}:{get_column_letter(m[3] + 1)}{m[2]}"

        if header_merges:
            self.problems.append(make_problem(
                Severity.warning, "import.merged_header",
                Msg("merged header cells ({cells}): each column under a merged header takes its name",
                    cells=", ".join(ref(m) for m in header_merges[:5]) + (" …" if len(header_merges) > 5 else "")),
                file=self.display, sheet=sheet, row=header_row,
                hint=Msg("unmerge the header cells and give every column its own header")))
        if data_merges:
            self.problems.append(make_problem(
                Severity.warning, "import.merged_cells",
                Msg("{count} merged cell range(s) in the data ({cells}): the merged value is read into every row it covers",
                    count=len(data_merges),
                    cells=", ".join(ref(m) for m in data_merges[:5]) + (" …" if len(data_merges) > 5 else "")),
                file=self.display, sheet=sheet, row=data_merges[0][0],
                hint=Msg("check these rows; unmerge the cells to be explicit")))


def _column_map(header_cells: dict[int, Any], lookup: dict[str, Column]) -> dict[int, Column]:
    """Header cell index → the column its text names (cells naming none are left out)."""
    out: dict[int, Column] = {}
    for i, v in header_cells.items():
        c = lookup.get(norm_header(v))
        if c is not None:
            out[i] = c
    return out


@dataclass
class _Wanted:
    """Filled while a sheet is read: its merged ranges, and the header columns named by a merge."""

    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    columns: set[int] | None = None     # once the header is known: the only columns worth parsing
    merged_header_cols: set[int] = field(default_factory=set)


def _describe_text(path: Path) -> str:
    try:
        head = path.read_bytes()[:512]
    except OSError:
        return Msg("unreadable")
    low = head.lower()
    if b"<html" in low or b"<!doctype html" in low:
        return Msg("an HTML page")
    if b"<?xml" in low:
        return Msg("an XML file")
    try:
        text, _ = decode_text(head)
    except UnicodeDecodeError:
        return Msg("binary data")
    if "," in text or "\t" in text:
        return Msg("a CSV/text file")
    return Msg("a text file")


def _suggest(header: Any, norm_known: dict[str, str]) -> str | None:
    n = norm_header(header)
    if not n:
        return None
    found = difflib.get_close_matches(n, list(norm_known), n=1, cutoff=0.75)
    return norm_known[found[0]] if found else None


def _suggest_any(names: Iterable[str], unknown: list[str]) -> str | None:
    pool = {norm_header(u): u for u in unknown}
    for name in names:
        found = difflib.get_close_matches(norm_header(name), list(pool), n=1, cutoff=0.75)
        if found:
            return pool[found[0]]
    return None


def _letters(column: int) -> str:
    """Spreadsheet column letters of a 1-based column number."""
    return xlsxread.col_letters(column - 1)


# ---------------------------------------------------------------- value conversion
