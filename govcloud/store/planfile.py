"""The one reader and writer of plan files, approvals and digests.

``migration-plans/<id>/plan.yaml`` uses the JSON-compatible subset of YAML with one
system per line: a diff of two plans shows one changed line per changed system, key
order is fixed, and a province plan loads through the C JSON parser. There is no
wall-clock time inside; ``inputs_digest`` identifies what the plan was built from,
so identical inputs and id give byte-identical files.

``approval.yaml`` (``govcloud.store.approval``) holds approvers' signatures over the plan's
SHA-256 and inventory digest: any later edit of plan.yaml makes the approval stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

from govcloud.errors import GovcloudError
from govcloud.inventory.loader import inventory_files
from govcloud.inventory.reader import ReadFailure, read_document
from govcloud.model.dates import parse_date
from govcloud.model.enums import Strategy
from govcloud.model.plan import (
    PLAN_FORMAT_VERSION, LowerBound, Plan, PlanBatch, PlanItem, Retained, RoomClosure,
    ServerPlacement, Unscheduled,
)
from govcloud.store.atomic import write_atomic

PLAN_FILE = "plan.yaml"


# ---------------------------------------------------------------- digests


def inventory_digest(root: Path, *extra: str, loaded: dict[str, bytes] | None = None) -> str:
    """SHA-256 over every inventory file (path and bytes, in load order) and ``extra`` strings.

    ``loaded`` (file → SHA-256, from LoadResult.digests) spares reading the files again
    when they were just loaded; staleness checks read them afresh."""
    h = hashlib.sha256()
    base = root if root.is_dir() else root.parent
    for path in inventory_files(root):
        rel = path.relative_to(base).as_posix()
        h.update(rel.encode() + b"\0")
        known = loaded.get(rel) if loaded else None
        h.update(known if known else hashlib.sha256(path.read_bytes()).digest())
    for item in extra:
        h.update(b"\0" + item.encode())
    return "sha256:" + h.hexdigest()


def combined_digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    return "sha256:" + h.hexdigest()


def file_digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- plan → text


def _d(x: date | None) -> str | None:
    return x.isoformat() if x else None


def _placement(p: ServerPlacement) -> dict[str, Any]:
    return {"server": p.server, "flavor": p.flavor, "vcpus": p.vcpus, "ram_gb": p.ram_gb, "disk_gb": p.disk_gb,
            "image": p.image, "sized_from": p.sized_from}


def item_to_plain(i: PlanItem) -> dict[str, Any]:
    primary = i.primary
    return {
        "id": i.system, "name": i.name, "owner_org": i.owner_org, "strategy": i.strategy.value,
        "move_group": i.move_group, "target_zone": i.target_zone,
        "flavor": primary.flavor if primary else None, "vcpus": i.vcpus, "ram_gb": i.ram_gb,
        "disk_gb": i.disk_gb, "image": primary.image if primary else None, "cutover": _d(i.cutover),
        "requires": list(i.requires), "servers": [_placement(p) for p in i.servers], "reasons": i.reasons,
    }


def plan_to_plain(plan: Plan) -> dict[str, Any]:
    lb = plan.lower_bound
    return {
        "format_version": PLAN_FORMAT_VERSION,
        "plan_id": plan.plan_id,
        "inventory": plan.inventory,
        "inventory_name": plan.inventory_name,
        "policy": plan.policy,
        "inputs_digest": plan.inputs_digest,
        "generator": plan.generator,
        "start": _d(plan.start),
        "settings": plan.settings,
        "lower_bound": None if lb is None else {
            "batches": lb.batches, "by_throughput": lb.by_throughput, "by_takeover": lb.by_takeover,
            "by_dependencies": lb.by_dependencies, "explanation": lb.explanation},
        "batches": [
            {"id": b.id, "name": b.name, "start": _d(b.start), "end": _d(b.end), "deadline": _d(b.deadline),
             "policy_batch": b.policy_batch, "pilot": b.pilot, "rules": b.rules,
             "systems": [item_to_plain(i) for i in b.items]}
            for b in plan.batches
        ],
        "retained": [{"id": r.system, "name": r.name, "owner_org": r.owner_org, "reason_code": r.reason_code,
                      "reason": r.reason} for r in plan.retained],
        "unscheduled": [{"id": u.system, "name": u.name, "owner_org": u.owner_org,
                         "strategy": u.strategy.value if u.strategy else None, "reasons": u.reasons}
                        for u in plan.unscheduled],
        "rooms": [{"id": r.room, "name": r.name, "empty_by": _d(r.empty_by), "blocked_by": list(r.blocked_by),
                   **({"deadline": _d(r.deadline), "deadline_kind": r.deadline_kind,
                       "deadline_missed": r.deadline_missed} if r.deadline else {})}
                  for r in plan.rooms],
    }


def _line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def render_plan(plan: Plan) -> str:
    """Pretty enough to read, one system per line to diff, and valid YAML and JSON at once."""
    data = plan_to_plain(plan)
    out = ["{"]
    head = [k for k in data if k not in ("batches", "retained", "unscheduled", "rooms")]
    for k in head:
        out.append(f"{_line(k)}: {_line(data[k])},")
    out.append('"batches": [')
    for bi, b in enumerate(data["batches"]):
        header = {k: v for k, v in b.items() if k != "systems"}
        out.append("  " + _line(header)[:-1] + ', "systems": [')
        rows = [f"    {_line(s)}" for s in b["systems"]]
        out.append(",\n".join(rows))
        out.append("  ]}" + ("," if bi < len(data["batches"]) - 1 else ""))
    out.append("],")
    for k in ("retained", "unscheduled", "rooms"):
        rows = ",\n".join(f"  {_line(r)}" for r in data[k])
        out.append(f'"{k}": [\n{rows}\n]' + ("," if k != "rooms" else ""))
    out.append("}")
    return "\n".join(line for line in out if line != "") + "\n"


def write_plan(plan: Plan, directory: Path) -> Path:
    path = directory / PLAN_FILE
    write_atomic(path, render_plan(plan))
    return path


# ---------------------------------------------------------------- text → plan


def _date(x: Any) -> date | None:
    return None if x in (None, "") else parse_date(x)


def plain_to_plan(data: dict[str, Any]) -> Plan:
    lb = data.get("lower_bound")
    plan = Plan(
        plan_id=data["plan_id"], inventory=data["inventory"], inventory_name=data.get("inventory_name", ""),
        policy=data["policy"], inputs_digest=data["inputs_digest"], generator=data.get("generator", ""),
        start=_date(data["start"]), settings=dict(data.get("settings") or {}),
        lower_bound=None if not lb else LowerBound(lb["batches"], lb["by_throughput"], lb["by_takeover"],
                                                   lb["by_dependencies"], lb["explanation"]),
    )
    for b in data.get("batches", []):
        batch = PlanBatch(id=b["id"], name=b["name"], start=_date(b["start"]), end=_date(b["end"]),
                          deadline=_date(b.get("deadline")), policy_batch=b.get("policy_batch"),
                          pilot=bool(b.get("pilot")), rules=list(b.get("rules") or []))
        for s in b.get("systems", []):
            batch.items.append(PlanItem(
                system=s["id"], name=s.get("name", ""), owner_org=s.get("owner_org", ""),
                strategy=Strategy(s["strategy"]), move_group=s.get("move_group") or s["id"],
                target_zone=s.get("target_zone"),
                servers=tuple(ServerPlacement(p["server"], p.get("flavor"), int(p.get("vcpus") or 0),
                                              float(p.get("ram_gb") or 0), float(p.get("disk_gb") or 0),
                                              p.get("image"), p.get("sized_from", ""))
                              for p in s.get("servers", [])),
                cutover=_date(s.get("cutover")), requires=tuple(s.get("requires") or ()),
                reasons=dict(s.get("reasons") or {})))
        plan.batches.append(batch)
    plan.retained = [Retained(r["id"], r.get("name", ""), r.get("owner_org", ""), r.get("reason_code", ""),
                              r.get("reason", "")) for r in data.get("retained", [])]
    plan.unscheduled = [Unscheduled(u["id"], u.get("name", ""), u.get("owner_org", ""),
                                    Strategy(u["strategy"]) if u.get("strategy") else None, list(u["reasons"]))
                        for u in data.get("unscheduled", [])]
    plan.rooms = [RoomClosure(r["id"], r.get("name", ""), _date(r.get("empty_by")), tuple(r.get("blocked_by") or ()),
                              _date(r.get("deadline")), r.get("deadline_kind") or "")
                  for r in data.get("rooms", [])]
    return plan


def plan_path(arg: Path) -> Path:
    """Accept the plan directory or its plan.yaml."""
    return arg / PLAN_FILE if arg.is_dir() else arg


def read_plan(arg: Path) -> Plan:
    path = plan_path(arg)
    if not path.exists():
        raise GovcloudError(f"{path} does not exist", hint="generate one with `govcloud plan generate INVENTORY`")
    doc = read_document(path)
    if isinstance(doc, ReadFailure):
        where = f"{path}:{doc.line}" if doc.line else str(path)
        raise GovcloudError(f"{where}: {doc.message}", hint=doc.hint)
    data = doc.data
    if not isinstance(data, dict) or data.get("format_version") != PLAN_FORMAT_VERSION:
        raise GovcloudError(f"{path} is not a govcloud plan (format_version {PLAN_FORMAT_VERSION})")
    try:
        return plain_to_plan(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise GovcloudError(f"{path}: malformed plan ({type(exc).__name__}: {exc})",
                            hint="regenerate it with `govcloud plan generate`") from None


def inventory_of(plan: Plan, plan_file: Path) -> Path:
    """The inventory a plan was built from, resolved against the plan file's directory."""
    return (plan_file.parent / plan.inventory).resolve()


# ---------------------------------------------------------------- approval

# signed approvals live in govcloud.store.approval (approval.yaml beside plan.yaml)
