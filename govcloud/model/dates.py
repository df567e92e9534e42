"""Dates as people write them in census forms and policy documents.

Besides ISO 8601 the seeds write ``2018年12月31日`` and, with 年 lost in
extraction, ``201812月底`` ("end of December 2018"); both must parse
(DOMAIN.md §7.4). A month with 底/末 means its last day.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime

from govcloud.base.i18n import Msg
from govcloud.model.vocabulary import DAY, MONTH, MONTH_END, YEAR

_FULL = re.compile(rf"^\s*(\d{{4}})\s*(?:-|/|\.|{YEAR})\s*(\d{{1,2}})\s*(?:-|/|\.|{MONTH})\s*(\d{{1,2}})\s*{DAY}?\s*$")
_MONTH_END = re.compile(rf"^\s*(\d{{4}})\s*(?:{YEAR}|-|/|\.)?\s*(\d{{1,2}})\s*{MONTH}\s*(?:{'|'.join(MONTH_END)})\s*$")


class DateError(ValueError):
    pass


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise DateError(Msg("expected a date, got {type} {value!r}", type=type(value).__name__, value=value))
    if len(value) == 10:
        try:
            return date.fromisoformat(value)  # C fast path for the common YYYY-MM-DD
        except ValueError:
            pass  # the slow path below explains what is wrong
    m = _FULL.match(value)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = _MONTH_END.match(value)
        if not m:
            raise DateError(Msg("{value!r} is not a date (write YYYY-MM-DD, e.g. 2019-03-31)", value=value))
        y, mo = int(m.group(1)), int(m.group(2))
        if not 1 <= mo <= 12:
            raise DateError(Msg("{value!r}: there is no month {month}", value=value, month=mo))
        d = calendar.monthrange(y, mo)[1]
    try:
        return date(y, mo, d)
    except ValueError:
        raise DateError(Msg("{value!r} is an impossible date ({why})", value=value, why=_why(y, mo, d))) from None


def _why(y: int, mo: int, d: int) -> str:
    if not 1 <= mo <= 12:
        return Msg("there is no month {month}", month=mo)
    return Msg("{year}-{month:02d} has {days} days", year=y, month=mo, days=calendar.monthrange(y, mo)[1])
