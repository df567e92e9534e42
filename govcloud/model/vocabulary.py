"""Chinese words govcloud READS in input files: input vocabulary, not messages.

Census forms, policy documents and inventory files written by hand say yes/no as 是/否 and
write dates as ``2018年12月31日`` or ``201812月底``. These words are matched in what people
type, so they are data here, never translated; the texts govcloud SHOWS are in the gettext
catalogs (``govcloud/base/i18n.py``).
"""

from __future__ import annotations

YES = "是"
NO = "否"

# date parts: 年 (year), 月 (month), 日 (day); a month followed by 底 or 末 means its last day
YEAR, MONTH, DAY = "年", "月", "日"
MONTH_END = ("底", "末")
