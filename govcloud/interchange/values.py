"""Cell values as people type them into census forms and exports: text (NFKC, trimmed), numbers with
units and thousands separators, whole numbers, yes/no in Chinese and English, dates in every common
spelling (and Excel serials), enum members by key or label, lists in one cell; and the header
normalisation the column lookup and enum matching share. A value that is none of these raises
``ValueProblem`` (the reader turns it into a problem with file, sheet, row and column).

Pure: the table reading itself (files, sheets, headers, rows) is ``interchange/tabular.py``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.interchange import xlsxread
from govcloud.model.dates import DateError, parse_date
from govcloud.model.enums import Label, LabeledEnum

_SUFFIXES = re.compile(r"(\((optional|required|必填|选填|可选)\)|\*)$")


def norm_header(text: Any) -> str:
    """Header text reduced to what identifies it: NFKC (full-width → ASCII), no whitespace,
    case-folded, without a leading ``*`` (required mark) or a trailing ``(optional)``."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text)).casefold()
    s = "".join(s.split())
    s = s.lstrip("*")
    while True:
        t = _SUFFIXES.sub("", s)
        if t == s:
            break
        s = t
    return s


class ValueProblem(ValueError):
    pass


_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "对", "on"}
_FALSE = {"否", "n", "no", "false", "0", "×", "✗", "无", "不", "off"}


def to_text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(sep=" ")
    if isinstance(v, date):
        return v.isoformat()
    return unicodedata.normalize("NFKC", str(v)).strip() if isinstance(v, str) else str(v)


def to_number(v: Any) -> float:
    """A finite number: NaN, infinities and numbers beyond a float (1E400) are not counts or sizes."""
    x = _to_number(v)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueProblem(Msg("{value!r} is not a finite number", value=str(v)[:40]))
    return x


def _to_number(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueProblem(Msg("{value!r} is not a number", value=v))
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:
            raise ValueProblem(Msg("{value}… is too large a number", value=str(v)[:40])) from None
    s = unicodedata.normalize("NFKC", str(v)).strip().replace(",", "").replace("，", "")
    s = s.removesuffix("%")
    for unit in ("万元", "元", "gib", "gb", "mib", "mb", "台", "个", "人", "次"):
        if s.lower().endswith(unit):
            s = s[: -len(unit)].strip()
            break
    try:
        return float(s)
    except ValueError:
        raise ValueProblem(Msg("{value!r} is not a number", value=str(v)[:60])) from None


def to_int(v: Any) -> int:
    x = to_number(v)
    if not x.is_integer():
        raise ValueProblem(Msg("{value!r} is not a whole number", value=v))
    return int(x)


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    s = to_text(v).casefold()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueProblem(Msg("{value!r} is not yes/no (write {yes} or {no})", value=v, yes="是", no="否"))


_MONTH = re.compile(r"^\s*(\d{4})\s*(?:年|-|/|\.)\s*(\d{1,2})\s*月?\s*$")
_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def to_date(v: Any) -> date:
    """Dates as people type them: 2019-02-01, 2019/2/1, 2019.2.1, 2019年2月1日, 20190201,
    2019年2月 / 2019-02 (the first of the month), 2019年2月底, and Excel serial numbers."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if 20000 < v < 80000:   # an Excel serial date typed as a number
            return xlsxread.from_excel(v).date()
        raise ValueProblem(Msg("{value!r} is not a date (write YYYY-MM-DD, e.g. 2019-03-31)", value=v))
    s = unicodedata.normalize("NFKC", str(v)).strip()
    m = _COMPACT.match(s)
    if m:
        s = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = _MONTH.match(s)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise ValueProblem(Msg("{value!r}: there is no month {month}", value=v, month=mo))
        return date(y, mo, 1)
    try:
        return parse_date(s)
    except DateError as exc:
        raise ValueProblem(exc.args[0]) from None


def to_enum(v: Any, enum: type[LabeledEnum]) -> LabeledEnum:
    """An enum member from its key, Chinese label or English label, tolerant of case, spaces
    and full-width forms."""
    table = _enum_table(enum)
    s = norm_header(to_text(v))
    m = table.get(s)
    if m is None:
        zh = "、".join(x.zh for x in enum)
        choices = Label(zh, zh, "; ".join(x.en for x in enum))   # JSON keeps the Chinese labels it always had
        raise ValueProblem(Msg("{value!r} is not one of: {choices}", value=to_text(v), choices=choices))
    return m


_ENUM_TABLES: dict[type, dict[str, LabeledEnum]] = {}


def _enum_table(enum: type[LabeledEnum]) -> dict[str, LabeledEnum]:
    t = _ENUM_TABLES.get(enum)
    if t is None:
        t = {norm_header(k): m for k, m in enum.lookup().items()}
        _ENUM_TABLES[enum] = t
    return t


def split_list(v: Any) -> list[str]:
    """A cell holding several values: "a、b", "a; b", "a,b", "a/b", newlines; or a list already."""
    if v is None:
        return []
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            out.extend(split_list(x))
        return out
    s = to_text(v)
    parts = re.split(r"[、,，;；\n\r|]+", s)
    return [p.strip() for p in parts if p.strip()]

