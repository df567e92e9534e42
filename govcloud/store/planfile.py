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
from datetime import date
from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError
from govcloud.base.reader import ReadFailure, read_document
from govcloud.model.dates import parse_date
from govcloud.model.enums import Strategy
from govcloud.model.ids import ID_DESCRIPTION, id_problem, is_valid_derived_id, is_valid_id
from govcloud.model.plan import (
    PLAN_FORMAT_VERSION, LowerBound, Plan, PlanBatch, PlanItem, Retained, RoomClosure,
    ServerPlacement, Unscheduled,
)
from govcloud.base.atomic import write_atomic

PLAN_FILE = "plan.yaml"


# ---------------------------------------------------------------- digests


def combined_digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() + b"\0")
    return "sha256:" + h.hexdigest()


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


class PlanShapeError(ValueError):
    """A plan.yaml field of the wrong type or value, with its path in the document."""

    def __init__(self, path: tuple, message: str) -> None:
        super().__init__(message)
        self.path = path

    @property
    def where(self) -> str:
        out = ""
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
        return out


class _Fields:
    """Typed access to one mapping of a plan file: every wrong type is a PlanShapeError naming its path."""

    def __init__(self, data: Any, path: tuple) -> None:
        if not isinstance(data, dict):
            raise PlanShapeError(path, Msg("expected a mapping, got {kind}", kind=_kind(data)))
        self.data, self.path = data, path

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise PlanShapeError(self.path + (key,), Msg("required field is missing (or null)"))
            return None
        return self.data[key]

    def str(self, key: str, *, required: bool = True, default: str | None = "") -> Any:
        v = self._get(key, required)
        if v is None:
            return default
        if not isinstance(v, str):
            raise PlanShapeError(self.path + (key,), Msg("expected text, got {kind}", kind=_kind(v)))
        return v

    def num(self, key: str, cast: type) -> Any:
        v = self._get(key, False)
        if v is None:
            return cast(0)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            raise PlanShapeError(self.path + (key,), Msg("expected a number, got {kind}", kind=_kind(v)))
        return cast(v)

    def date(self, key: str, *, required: bool = False) -> date | None:
        v = self._get(key, required)
        if v in (None, ""):
            return None
        if not isinstance(v, (str, date)):
            raise PlanShapeError(self.path + (key,), Msg("expected a date, got {kind}", kind=_kind(v)))
        try:
            return parse_date(v)
        except (ValueError, TypeError) as exc:
            raise PlanShapeError(self.path + (key,), Msg("not a date: {error}", error=exc.args[0] if exc.args else exc)) from None

    def list(self, key: str, *, of: type | None = None) -> list[Any]:
        v = self._get(key, False)
        if v is None:
            return []
        if not isinstance(v, list):
            raise PlanShapeError(self.path + (key,), Msg("expected a list, got {kind}", kind=_kind(v)))
        if of is not None:
            for n, x in enumerate(v):
                if not isinstance(x, of):
                    raise PlanShapeError(self.path + (key, n), Msg("expected {type}, got {kind}", type=of.__name__,
                                                                   kind=_kind(x)))
        return v

    def dict(self, key: str) -> dict[Any, Any]:
        v = self._get(key, False)
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise PlanShapeError(self.path + (key,), Msg("expected a mapping, got {kind}", kind=_kind(v)))
        return v

    def reasons(self, key: str) -> dict[str, list[str]]:
        out = {}
        for k, v in self.dict(key).items():
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise PlanShapeError(self.path + (key, k), Msg("expected a list of texts"))
            out[str(k)] = list(v)
        return out

    def strategy(self, key: str, *, required: bool = True) -> Strategy | None:
        v = self.str(key, required=required, default=None)
        if v is None:
            return None
        try:
            return Strategy(v)
        except ValueError:
            raise PlanShapeError(self.path + (key,), Msg("unknown strategy {strategy!r}", strategy=v)) from None

    def sub(self, key: str) -> list[_Fields]:
        return [_Fields(x, self.path + (key, n)) for n, x in enumerate(self.list(key))]


def _kind(v: Any) -> str:
    return {type(None): Msg("nothing (null)"), bool: Msg("true/false"), int: Msg("a number"), float: Msg("a number"),
            str: Msg("text"), list: Msg("a list"), dict: Msg("a mapping")}.get(type(v), type(v).__name__)


def plain_to_plan(data: dict[str, Any]) -> Plan:
    """The plan a plan file describes; a field of the wrong type raises PlanShapeError."""
    top = _Fields(data, ())
    lbd = top.dict("lower_bound")
    lb = None
    if lbd:
        f = _Fields(lbd, ("lower_bound",))
        lb = LowerBound(f.num("batches", int), f.num("by_throughput", int), f.num("by_takeover", int),
                        f.num("by_dependencies", int), f.str("explanation", required=False))
    plan = Plan(
        plan_id=top.str("plan_id"), inventory=top.str("inventory"), inventory_name=top.str("inventory_name", required=False),
        policy=top.str("policy"), inputs_digest=top.str("inputs_digest"), generator=top.str("generator", required=False),
        start=top.date("start", required=True), settings=dict(top.dict("settings")), lower_bound=lb,
    )
    if not plan.plan_id:
        raise PlanShapeError(("plan_id",), Msg("the plan id is empty"))
    inputs = _Fields(plan.settings, ("settings",))     # what the staleness and approval checks read (Plan.inputs)
    for key in ("inventory_digest", "policy_file", "policy_digest"):
        inputs.str(key, required=False, default=None)
    for b in top.sub("batches"):
        batch = PlanBatch(id=b.str("id"), name=b.str("name", required=False), start=b.date("start", required=True),
                          end=b.date("end", required=True), deadline=b.date("deadline"),
                          policy_batch=b.str("policy_batch", required=False, default=None),
                          pilot=bool(b.data.get("pilot")), rules=list(b.list("rules", of=str)))
        for s in b.sub("systems"):
            sid = s.str("id")
            servers = []
            for p in s.sub("servers"):
                servers.append(ServerPlacement(p.str("server"), p.str("flavor", required=False, default=None),
                                               p.num("vcpus", int), p.num("ram_gb", float), p.num("disk_gb", float),
                                               p.str("image", required=False, default=None),
                                               p.str("sized_from", required=False)))
            batch.items.append(PlanItem(
                system=sid, name=s.str("name", required=False), owner_org=s.str("owner_org", required=False),
                strategy=s.strategy("strategy"), move_group=s.str("move_group", required=False) or sid,
                target_zone=s.str("target_zone", required=False, default=None),
                servers=tuple(servers), cutover=s.date("cutover"), requires=tuple(s.list("requires", of=str)),
                reasons=s.reasons("reasons")))
        plan.batches.append(batch)
    plan.retained = [Retained(r.str("id"), r.str("name", required=False), r.str("owner_org", required=False),
                              r.str("reason_code", required=False), r.str("reason", required=False))
                     for r in top.sub("retained")]
    plan.unscheduled = [Unscheduled(u.str("id"), u.str("name", required=False), u.str("owner_org", required=False),
                                    u.strategy("strategy", required=False), list(u.list("reasons", of=str)))
                        for u in top.sub("unscheduled")]
    plan.rooms = [RoomClosure(r.str("id"), r.str("name", required=False), r.date("empty_by"),
                              tuple(r.list("blocked_by", of=str)), r.date("deadline"),
                              r.str("deadline_kind", required=False))
                  for r in top.sub("rooms")]
    return plan


def plan_id_problems(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field, value) of every id in a plan file's data that breaks the id grammar: plan, batch,
    system, organisation, zone, server, room and policy ids become directory names, host aliases,
    OpenStack names and Ansible variables, so a plan directory on a shared disk is not trusted."""
    bad: list[tuple[str, Any]] = []

    def need(field: str, value: Any, *, optional: bool = False, derived: str | None = None) -> None:
        if value in (None, "") and optional:
            return
        if value is not None and not isinstance(value, str):
            return  # a wrong type: plain_to_plan reports it with its place in the file
        ok = is_valid_derived_id(value, derived) if derived else is_valid_id(value)
        if not ok:
            bad.append((field, value))

    need("plan_id", data.get("plan_id"))
    need("policy", data.get("policy"))
    for b in data.get("batches") or []:
        if not isinstance(b, dict):
            continue
        need("batches.id", b.get("id"))
        need("batches.policy_batch", b.get("policy_batch"), optional=True)
        for s in b.get("systems") or []:
            if not isinstance(s, dict):
                continue
            need("systems.id", s.get("id"))
            need("systems.owner_org", s.get("owner_org"), optional=True)
            need("systems.move_group", s.get("move_group"), optional=True, derived="mg-")
            need("systems.target_zone", s.get("target_zone"), optional=True)
            for p in s.get("servers") or []:
                need("systems.servers.server", p.get("server") if isinstance(p, dict) else p)
    for key in ("retained", "unscheduled"):
        for r in data.get(key) or []:
            if isinstance(r, dict):
                need(f"{key}.id", r.get("id"))
                need(f"{key}.owner_org", r.get("owner_org"), optional=True)
    for r in data.get("rooms") or []:
        if isinstance(r, dict):
            need("rooms.id", r.get("id"))   # blocked_by holds "server:<id>" labels, never names
    return bad


def _line_of_value(text: str, value: Any) -> int | None:
    """The line of plan.yaml that holds ``value`` (plan files are JSON, one system per line)."""
    needle = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else None
    if needle is None:
        return None
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    return None


def plan_path(arg: Path) -> Path:
    """Accept the plan directory or its plan.yaml."""
    return arg / PLAN_FILE if arg.is_dir() else arg


def read_plan(arg: Path) -> Plan:
    from govcloud.store.lock import reader_lock

    path = plan_path(arg)
    if not path.exists():
        raise GovcloudError(Msg("{path} does not exist", path=path), hint=Msg("generate one with `govcloud plan generate INVENTORY`"))
    # plan.yaml and plan.md as `plan generate` published them (a killed one's leftovers recovered)
    with reader_lock(path.parent, tolerate=("migrate",)):
        doc = read_document(path)
    if isinstance(doc, ReadFailure):
        where = f"{path}:{doc.line}" if doc.line else str(path)
        raise GovcloudError(Msg("{where}: {message}", where=where, message=doc.message), hint=doc.hint)
    data = doc.data
    if not isinstance(data, dict) or data.get("format_version") != PLAN_FORMAT_VERSION:
        raise GovcloudError(Msg("{path} is not a govcloud plan (format_version {version})", path=path,
                                version=PLAN_FORMAT_VERSION))
    bad = plan_id_problems(data)
    if bad:  # refused before any directory, host alias or variable is derived from it
        field, value = bad[0]
        line = _line_of_value(doc.text, value)
        where = f"{path}:{line}" if line else str(path)
        message = Msg("{where}: {field} {value!r:.80} is not a valid id: {why} (and {more} more)", where=where,
                      field=field, value=value, why=id_problem(value), more=len(bad) - 1) if len(bad) > 1 else \
            Msg("{where}: {field} {value!r:.80} is not a valid id: {why}", where=where, field=field, value=value,
                why=id_problem(value))
        raise GovcloudError(message,
                            hint=Msg("{id_description}; regenerate the plan with `govcloud plan generate`",
                                     id_description=ID_DESCRIPTION))
    try:
        return plain_to_plan(data)
    except PlanShapeError as exc:
        line = _line_of(doc.text, exc.path)
        at = f"{path}:{line}" if line else str(path)
        raise GovcloudError(Msg("{at}: {where}: {error}", at=at, where=exc.where, error=exc.args[0]),
                            hint=Msg("regenerate it with `govcloud plan generate`")) from None


def _line_of(text: str, where: tuple) -> int | None:
    import yaml

    from govcloud.base.reader import GovLoader, locate_in_node
    try:
        return locate_in_node(yaml.compose(text, Loader=GovLoader), where)[0]
    except (yaml.YAMLError, RecursionError):
        return None


def inventory_of(plan: Plan, plan_file: Path) -> Path:
    """The inventory a plan was built from, resolved against the plan file's directory."""
    return (plan_file.parent / plan.inventory).resolve()


# ---------------------------------------------------------------- approval

# signed approvals live in govcloud.store.approval (approval.yaml beside plan.yaml)
