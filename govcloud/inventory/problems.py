"""Problems found in an inventory: what, where, and what to do about it."""

from __future__ import annotations

import bisect
import difflib
import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from govcloud.model.enums import Severity


@dataclass(slots=True)
class Problem:
    severity: Severity
    code: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    kind: str | None = None
    entity_id: str | None = None
    field: str | None = None
    hint: str | None = None
    # where inside the file's data the problem sits; turned into line/column lazily
    path: tuple[Any, ...] = dataclasses.field(default=(), repr=False)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.error

    def where(self) -> str:
        if not self.file:
            return "<inventory>"
        if self.line is None:
            return self.file
        return f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "kind": self.kind,
            "id": self.entity_id,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


def did_you_mean(word: str, candidates: Iterable[str], *, sorted_pool: list[str] | None = None) -> str | None:
    """The closest candidate, if one is close enough to be a likely typo.

    With a large pool (a million server ids) comparing against everything is too
    slow, so only the ids that sort next to ``word`` are compared: typos in ids
    rarely touch their first characters.
    """
    if not isinstance(word, str) or not word:
        return None
    if sorted_pool is not None and len(sorted_pool) > 2000:
        i = bisect.bisect_left(sorted_pool, word)
        pool = sorted_pool[max(0, i - 200): i + 200]
    else:
        pool = list(candidates) if sorted_pool is None else sorted_pool
    found = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    return found[0] if found else None
