"""Completing a census record from discovery (pure).

An import writes a server it can reach but cannot describe (an Ansible host without OS/CPU/RAM
variables) with ``census_missing`` naming what is unknown. Discovery's facts (``observed`` of source
``discovery:*``) supply those fields: :func:`census_fill` says which, with values already in the
model's types. Validation applies it to the loaded record (the files are not touched; the
observation is the evidence) and discovery reports it as it writes the observation.
"""

from __future__ import annotations

from typing import Any, Mapping

from govcloud.model.enums import CensusField, CpuArch, OsDistribution

_BOUNDS = {"cores": (int, 1, 4096), "ram_gb": ((int, float), 0.01, 65536)}


def census_value(key: str, value: Any) -> Any:
    """A discovered fact as the value of the server field ``key``, or None when it is not one."""
    if key in _BOUNDS:
        kind, lo, hi = _BOUNDS[key]
        ok = isinstance(value, kind) and not isinstance(value, bool) and lo <= value <= hi
        return value if ok else None
    enum = {"os_distribution": OsDistribution, "cpu_arch": CpuArch}.get(key)
    member = enum.lookup().get(value) if enum is not None and isinstance(value, str) else None
    # discovery says "other" for an OS it cannot name: that is no census answer
    return None if member is None or member is OsDistribution.other else member


def census_fill(server: Any, facts: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[CensusField]]:
    """(field → value the facts supply, fields still unknown) for a server's ``census_missing``.

    A field stated since (a later import, a person) stands and is neither filled nor missing; the
    OS brings its version and kernel when the record has none."""
    facts = facts if isinstance(facts, Mapping) else {}
    fill: dict[str, Any] = {}
    still: list[CensusField] = []
    for m in server.census_missing:
        key = m.value
        if key != "cpu_arch" and getattr(server, key) is not None:
            continue
        got = census_value(key, facts.get(key))
        if got is None:
            still.append(m)
            continue
        fill[key] = got
        if key == "os_distribution":
            for extra in ("os_version", "kernel"):
                if getattr(server, extra) is None and isinstance(facts.get(extra), str) and facts[extra].strip():
                    fill[extra] = facts[extra]
    return fill, still
