# -*- coding: utf-8 -*-
"""Filters for the govcloud migration roles: differences between source and target, as short
human-readable lines (what verify and the DB sync report, and what a failure lists)."""
from __future__ import annotations


def govcloud_count_diffs(source: dict, target: dict, label: str = "") -> list[str]:
    """Per-table row-count differences between two {table: rows} maps."""
    out = []
    for t in sorted(set(source) | set(target)):
        s, g = source.get(t), target.get(t)
        if s != g:
            out.append(f"{label}{t}: source {'missing' if s is None else s} rows, target {'missing' if g is None else g}")
    return out


def govcloud_checksum_diffs(source: dict, target: dict, label: str = "") -> list[str]:
    """Per-table content-checksum differences between two {table: "rows:checksum"} maps."""
    out = []
    for t in sorted(set(source) | set(target)):
        s, g = source.get(t), target.get(t)
        if s != g:
            out.append(f"{label}{t}: contents differ (checksum source {'missing' if s is None else s}, "
                       f"target {'missing' if g is None else g})")
    return out


def _probe_events(lines: list) -> list:
    import json
    ev = []
    for ln in lines or []:
        try:
            e = json.loads(ln)
        except (ValueError, TypeError):
            continue
        if isinstance(e, dict) and "ok" in e and isinstance(e.get("t"), (int, float)):
            ev.append(e)
    return ev


def _from(e: dict, expect: str) -> bool:
    return bool(e["ok"]) and (expect == "*" or e.get("addr") == expect)


def govcloud_probe_back(lines: list, expect: str) -> bool:
    """The prober's log shows the end of the downtime: a healthy answer from ``expect`` (the target's
    address; ``*``: any address — through a load balancer the address is the balancer's) after the
    first failed request, or, without any failure, at all."""
    ev = _probe_events(lines)
    fail = next((e for e in ev if not e["ok"]), None)
    return any(_from(e, expect) and (fail is None or e["t"] > fail["t"]) for e in ev)


def govcloud_downtime(lines: list, expect: str, system: str, client: str) -> str:
    """The downtime a client's prober saw (files/govcloud_probe.py log lines): from the first
    failed request to the first healthy answer from ``expect`` (the target) after it. ``expect``
    ``*`` (through a load balancer): the first healthy answer after the first failure — the source's
    services are stopped before the switch, so it is the target answering through the balancer."""
    from datetime import datetime, timezone

    def ts(t: float) -> str:
        return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    src = "through the load balancer" if expect == "*" else f"from {expect}"
    ev = _probe_events(lines)
    fail = next((e for e in ev if not e["ok"]), None)
    if fail is None:
        healthy = next((e for e in ev if _from(e, expect)), None)
        return (f"downtime {system}: 0.00 s seen from {client} (no failed request; healthy {src} at "
                f"{ts(healthy['t']) if healthy else '-'})")
    back = next((e for e in ev if _from(e, expect) and e["t"] > fail["t"]), None)
    if back is None:
        return (f"downtime {system}: not ended seen from {client} (first failed request {ts(fail['t'])}, "
                f"no healthy answer {src})")
    return (f"downtime {system}: {back['t'] - fail['t']:.2f} s seen from {client} (first failed request "
            f"{ts(fail['t'])}, first healthy answer {src} {ts(back['t'])})")


def _fields(e: str) -> dict:
    d = {"kind": e.split(" ", 1)[0]}
    for part in e.split(" ")[1:]:
        k, _, v = part.partition("=")
        d[k] = v
    return d


def govcloud_manifest_diffs(source: dict, target: dict, limit: int = 50) -> list[str]:
    """Differences between two manifests ({path, entries: {rel: "kind k=v ..."}}) naming the files."""
    top = source.get("path") or target.get("path") or ""
    if not target.get("exists", True):
        return [f"{top}: missing on the target"]
    if not source.get("exists", True):
        return [f"{top}: missing on the source"]
    se, te = source.get("entries", {}), target.get("entries", {})
    out = []
    for rel in sorted(set(se) | set(te)):
        p = top.rstrip("/") + ("" if rel == "." else "/" + rel)
        a, b = se.get(rel), te.get(rel)
        if a == b:
            continue
        if b is None:
            out.append(f"{p}: missing on the target")
        elif a is None:
            out.append(f"{p}: only on the target")
        else:
            fa, fb = _fields(a), _fields(b)
            what = [k for k in ("kind", "sha256", "size", "->", "mode", "owner", "mtime", "xattr", "hardlink")
                    if fa.get(k) != fb.get(k)]
            names = {"sha256": "content", "->": "link target", "kind": "type"}
            out.append(f"{p}: {', '.join(names.get(k, k) for k in what) or 'metadata'} differ")
    if len(out) > limit:
        out = out[:limit] + [f"... and {len(out) - limit} more"]
    return out


def govcloud_dbs_by_method(dbs: list, methods: list, method: str = "replication") -> list:
    """The databases the orchestrator decided to move with ``method`` (govcloud_db_methods: a list of
    {engine, name, method, sslmode, slot, teardown}, decided in govcloud/migrate/replication.py), each
    with its decision merged in.  A database without a decision moves by dump."""
    by_key = {(m.get("engine"), m.get("name")): m for m in methods or [] if isinstance(m, dict)}
    out = []
    for d in dbs or []:
        dec = by_key.get((d.get("engine"), d.get("name"))) or {}
        if dec.get("method", "dump") == method:
            out.append({**d, **{k: v for k, v in dec.items() if k not in ("method", "engine", "name")},
                        "method": method})
    return out


class FilterModule:
    def filters(self):
        return {"govcloud_count_diffs": govcloud_count_diffs,
                "govcloud_checksum_diffs": govcloud_checksum_diffs,
                "govcloud_downtime": govcloud_downtime, "govcloud_probe_back": govcloud_probe_back,
                "govcloud_dbs_by_method": govcloud_dbs_by_method, "govcloud_manifest_diffs": govcloud_manifest_diffs}
