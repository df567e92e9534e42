"""What a machine observed about a server, as typed records (pure).

``Server.observed`` is stored as the plain mapping the inventory files hold (discovery and import write
it, the loader merges observations into it, the exporter writes it back unchanged). Code that *uses*
an observation reads it through ``Observed.from_dict`` (``Server.observation``), and code that *writes*
one builds its ``Utilization`` and calls ``to_dict``: the field names below are the only spelling of
the keys (``cpu_p95_pct`` …) — discovery and placement share them.

``from_dict`` never trusts a type (inventories are edited by hand and imported from spreadsheets): a
figure that is not a number reads as absent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

UTILIZATION = "utilization"      # the key of the utilisation figures inside ``observed``
SOURCES = "_sources"             # the key the loader adds: which observations were merged, when


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return None
    return v


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class Utilization:
    """CPU and memory use sampled by discovery (``parse_utilization``) and the longer horizons of the
    load average and PSI (``parse_load``, kept in ``extra``). Percentages are 0–100."""
    cpu_intervals_excluded: int | None = None   # CPU intervals left out: discovery's own script ran then
    cpu_p95_pct: float | None = None            # p95 of CPU busy % per sampling interval
    cpu_mean_pct: float | None = None
    mem_p95_pct: float | None = None            # p95 of memory used % per sample
    samples: int | None = None
    window_s: float | None = None               # the time the samples cover
    interval_s: float | None = None
    cpu_mean_since_boot_pct: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)   # load_avg, psi, uptime_days …

    _INTS = ("cpu_intervals_excluded", "samples")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Utilization":
        names = [f.name for f in fields(cls) if f.name != "extra"]
        return cls(**{n: (_int if n in cls._INTS else _num)(d.get(n)) for n in names},
                   extra={k: v for k, v in d.items() if k not in names})

    def to_dict(self) -> dict[str, Any]:
        """The mapping discovery writes (absent figures left out; the field order is the file's)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**{k: v for k, v in out.items() if v is not None}, **self.extra}

    @property
    def p95(self) -> tuple[float, float] | None:
        """(CPU p95 %, memory p95 %) when both were observed: what sizing from observation needs."""
        if self.cpu_p95_pct is None or self.mem_p95_pct is None:
            return None
        return self.cpu_p95_pct, self.mem_p95_pct


@dataclass(frozen=True)
class Observed:
    """A server's merged observations: its utilisation, where they came from, and the other facts
    (os, kernel, listening ports, databases … — kept as observed, in ``facts``)."""
    utilization: Utilization | None = None
    sources: tuple[Mapping[str, Any], ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Observed":
        """``observed`` as stored. The utilisation figures sit under ``utilization`` (discovery) or,
        in older and imported inventories, at the top level."""
        if not isinstance(d, Mapping):
            return cls()
        util = d.get(UTILIZATION)
        u = Utilization.from_dict(util if isinstance(util, Mapping) else d)
        src = d.get(SOURCES)
        return cls(utilization=u, sources=tuple(s for s in src if isinstance(s, Mapping)) if isinstance(src, list)
                   else (), facts={k: v for k, v in d.items() if k not in (UTILIZATION, SOURCES)})
