"""Plan use cases: generate, open, check, explain, diff, approve — each returns a typed result.

The CLI (``cli/plan.py``) parses options, calls one of these and renders what comes back. The
rules live here once: which policy a plan is built with and what it adds to the inputs digest,
the refusal to write a plan that breaks a hard rule, the plan's state (approval and stale inputs,
``usecases.plan_state``, which also publishes a generated plan without silently voiding an
approval), and what counts as a change between two plans.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govcloud.base.digest import file_digest
from govcloud.base.progress import NULL, Progress
from govcloud.errors import GovcloudError
from govcloud.inventory.digest import inventory_digest
from govcloud.inventory.loader import LoadResult, load_inventory
from govcloud.inventory.problems import Problem
from govcloud.inventory.validate import validate_path
from govcloud.model.dates import DateError, parse_date
from govcloud.model.entities import Policy
from govcloud.model.plan import Plan
from govcloud.planning.planner import GENERATOR, build_plan
from govcloud.planning.rules import Violation, check_plan
from govcloud.render.plan_doc import plan_document
from govcloud.store import approval as signing
from govcloud.store.approval import ApprovalState, Signature
from govcloud.store.planfile import combined_digest, inventory_of, plan_path, read_plan
from govcloud.usecases import approval as approvals
from govcloud.usecases import plan_state
from govcloud.usecases.approval import PlanViolations
from govcloud.usecases.plan_state import PlanState
from govcloud.base.i18n import Msg, tr


class InvalidInventory(GovcloudError):
    """The inventory has errors; ``problems`` for the caller to show."""

    def __init__(self, message: str, problems: list[Problem], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


def load_sound(path: Path, *, progress: Progress = NULL) -> LoadResult:
    """The inventory, validated; :class:`InvalidInventory` when it has errors."""
    result = validate_path(path, progress=progress)
    if result.errors:
        raise InvalidInventory(Msg("the inventory has {n} error(s); a plan needs a valid inventory",
                                   n=len(result.errors)),
                               result.errors, hint=Msg("run `govcloud inventory validate {path}`", path=path))
    return result


def resolve_policy(result: LoadResult, policy_file: Path | None) -> tuple[Policy, list[str]]:
    """The policy to plan with and the extra strings it adds to the inputs digest."""
    inv = result.inventory
    if policy_file is None:
        policy = inv.policy()
        if policy is None:
            raise GovcloudError(Msg("the inventory names no default policy"),
                                hint=Msg("set inventory.default_policy, or pass --policy FILE"))
        return policy, [f"policy={policy.id}"]
    loaded = load_inventory(policy_file)
    if loaded.errors or not loaded.inventory.policies:
        first = loaded.errors[0] if loaded.errors else None
        raise GovcloudError(Msg("{policy_file}: {where}: {message}", policy_file=policy_file, where=first.where(),
                                message=first.message) if first else
                            Msg("{policy_file}: holds no `policies:` entry", policy_file=policy_file))
    if len(loaded.inventory.policies) > 1:
        raise GovcloudError(Msg("{policy_file} holds {n} policies; keep one per file",
                                policy_file=policy_file, n=len(loaded.inventory.policies)))
    policy = next(iter(loaded.inventory.policies.values()))
    unknown = []
    resolved = []
    for b in policy.batches:
        orgs = []
        for ref in b.scope_orgs:
            oid = inv.org_id(ref)
            if oid is None:
                unknown.append(f"batch {b.id}: organisation '{ref}'")
            orgs.append(oid or ref)
        resolved.append(dataclasses.replace(b, scope_orgs=tuple(orgs)))
    if unknown:
        raise GovcloudError(Msg("{policy_file}: unknown references: {x}",
                                policy_file=policy_file, x='; '.join(unknown[:10])))
    policy.batches = tuple(resolved)
    inv.policies[policy.id] = policy  # the plan names it; validation looks it up by id
    return policy, [f"policy={policy.id}", "policy-file=" + inventory_digest(policy_file)]


# ---------------------------------------------------------------- generate


@dataclass(frozen=True)
class PlanSummary:
    plan_id: str
    batches: int
    lower_bound: int | None
    gap: int | None
    systems_in_batches: int
    retained: int
    unscheduled: int
    violations: int = 0

    @classmethod
    def of(cls, plan: Plan) -> "PlanSummary":
        lb = plan.lower_bound
        return cls(plan.plan_id, len(plan.batches), lb.batches if lb else None,
                   len(plan.batches) - lb.batches if lb else None, len(plan.items()), len(plan.retained),
                   len(plan.unscheduled))

    def to_plain(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class GeneratedPlan:
    path: Path              # plan.yaml
    document: Path          # plan.md
    plan: Plan
    summary: PlanSummary
    seconds: float
    kept: list[Signature] = field(default_factory=list)      # identical plan: its approval kept
    voided: list[Signature] = field(default_factory=list)    # forced over an approved plan: voided


def generate_plan(inventory: Path, *, policy_file: Path | None, plan_id: str | None, out: Path,
                  start: str | None, batch_weeks: int, lang: str, force: bool = False,
                  progress: Progress = NULL) -> GeneratedPlan:
    """Build the batched plan and publish ``<out>/<id>/plan.yaml`` and ``plan.md`` as one unit.
    Refuses (:class:`PlanViolations`) to write a plan that breaks a hard rule: that is a planner bug.
    Over an approved plan: the identical plan keeps its approval; a different one is refused
    (``plan_state.ApprovedPlanError``, exit 5) unless ``force``, which voids the approval."""
    from govcloud.errors import UsageError
    from govcloud.model.ids import ID_DESCRIPTION, id_problem, is_valid_id

    started = time.perf_counter()
    result = load_sound(inventory, progress=progress)
    policy, extra = resolve_policy(result, policy_file)
    pid = plan_id or policy.id
    if not is_valid_id(pid):
        raise UsageError(Msg("--id {pid!r:.80}: {x}", pid=pid, x=id_problem(pid)), hint=ID_DESCRIPTION)
    try:
        start_day = parse_date(start) if start else None
    except DateError as exc:
        raise UsageError(Msg("--start: {exc}", exc=exc)) from None
    directory = out / pid
    for d in (out, directory):
        if d.exists() and not d.is_dir():
            raise UsageError(Msg("--out {out}: {d} is a file, not a directory", out=out, d=d),
                             hint=Msg("give a directory; the plan goes into <out>/<plan id>/"))
    ref = os.path.relpath(inventory.resolve(), directory.resolve())
    inv_digest = inventory_digest(inventory, loaded=result.digests)
    digest = combined_digest(inv_digest, *extra, GENERATOR, f"batch_weeks={batch_weeks}",
                             f"start={start_day or ''}", f"id={pid}")
    with progress.phase("plan.build"):
        plan = build_plan(result.inventory, policy, plan_id=pid, inventory_ref=ref, inputs_digest=digest,
                          start=start_day, batch_weeks=batch_weeks)
    plan.settings.update(plan_state.input_settings(inv_digest, policy_file, directory))  # for staleness checks
    with progress.phase("plan.check"):
        violations = check_plan(plan, result.inventory)
    if violations:  # the planner must never break a hard rule; refuse to write one that does
        raise PlanViolations(Msg("internal check failed: the generated plan breaks {n} hard rule(s)",
                                 n=len(violations)),
                             violations, hint=Msg("this is a planner bug; please report it with the inventory"))
    with progress.phase("plan.write"):
        published = plan_state.publish_generated(
            plan, directory, lambda line: plan_document(plan, result.inventory, lang=lang, approval=line),
            inv=result.inventory, force=force, lang=lang, why=approvals.why)
    return GeneratedPlan(published.path, directory / plan_state.DOCUMENT, plan, PlanSummary.of(plan),
                         time.perf_counter() - started, published.kept, published.voided)


# ---------------------------------------------------------------- open, check


@dataclass
class OpenedPlan:
    path: Path              # plan.yaml
    plan: Plan
    result: LoadResult      # its inventory, validated (with the --policy file's policy, if it had one)


def open_plan(arg: Path, *, progress: Progress = NULL) -> OpenedPlan:
    """A plan and its valid inventory (plus the policy file it was built with)."""
    path = plan_path(arg)
    plan = read_plan(path)
    inv_root = inventory_of(plan, path)
    result = validate_path(inv_root, progress=progress)
    if result.errors:
        raise GovcloudError(Msg("the plan's inventory {inv_root} has {n} error(s)",
                                inv_root=inv_root, n=len(result.errors)),
                            hint=Msg("run `govcloud inventory validate {inv_root}`", inv_root=inv_root))
    policy_file = (plan.settings or {}).get("policy_file")
    if policy_file:  # the plan was built with --policy: that policy is not in the inventory
        resolve_policy(result, (path.parent / policy_file).resolve())
    return OpenedPlan(path, plan, result)


@dataclass
class PlanCheck:
    path: Path
    plan: Plan
    violations: list[Violation]
    state: PlanState            # its approval and which inputs changed since it was generated

    @property
    def stale(self) -> bool:
        return self.state.stale

    @property
    def approval(self) -> ApprovalState:
        return self.state.approval


def check(plan_arg: Path, *, progress: Progress = NULL) -> PlanCheck:
    """Every hard rule on the plan as it is now (hand edits included), staleness and approval;
    plan.md's approval line is brought up to date (when the plan directory is not in use)."""
    opened = open_plan(plan_arg, progress=progress)
    with progress.phase("plan.check"):
        violations = check_plan(opened.plan, opened.result.inventory)
    state = plan_state.plan_state(opened.plan, opened.path, opened.result.inventory)
    plan_state.refresh_document(opened.path, lambda doc_lang: plan_state.approval_line(
        state, doc_lang, why=approvals.why(state.approval, doc_lang)))
    return PlanCheck(opened.path, opened.plan, violations, state)


@dataclass
class ShownPlan:
    path: Path
    plan: Plan
    state: PlanState            # approval and stale inputs, as every view shows them
    org_names: dict[str, str] = field(default_factory=dict)   # department id → short name (with ``names``)
    names_missing: str | None = None    # why there are no names: the plan's inventory could not be read


def show(plan_arg: Path, *, names: bool = False, progress: Progress = NULL) -> ShownPlan:
    """The plan as written and its state (no inventory validation: a plan can be read without it);
    with ``names``, the departments' short names from the plan's inventory (plan.md's names) — ids
    stay when it cannot be read. The inventory is read at most once (names, approvers)."""
    path = plan_path(plan_arg)
    with progress.phase("report.inputs"):
        plan = read_plan(path)
    inv = None
    org_names: dict[str, str] = {}
    missing: str | None = None
    if names:
        org_names, missing, inv = _department_names(plan, path, progress)
    shown = ShownPlan(path, plan, plan_state.plan_state(plan, path, inv))
    shown.org_names, shown.names_missing = org_names, missing
    return shown


def department_names(plan: Plan, path: Path) -> tuple[dict[str, str], str | None]:
    """Department id → short name (its name without one), read from the plan's inventory; with the
    reason when that inventory cannot be read (then the views show ids)."""
    org_names, missing, _ = _department_names(plan, path, NULL)
    return org_names, missing


def _department_names(plan: Plan, path: Path, progress: Progress) -> tuple[dict[str, str], str | None, Any]:
    """The names, the reason they are missing, and the inventory when it loaded without errors
    (to be reused for the policy's approvers)."""
    root = inventory_of(plan, path)
    try:
        result = load_inventory(root, progress=progress)
    except (GovcloudError, OSError) as exc:
        return {}, f"{root}: {exc}", None
    if not result.inventory.organizations:
        return {}, f"{root}: " + (result.errors[0].message if result.errors else "no organisations"), None
    names = {o.id: o.short_name or o.name for o in result.inventory.organizations.values()}
    return names, None, (None if result.errors else result.inventory)


# ---------------------------------------------------------------- the views of plan show (plain data)


def _named(org: str, names: dict[str, str]) -> dict[str, str]:
    return {"department": org, "department_name": names.get(org, org)}


def batches_view(plan: Plan) -> list[dict[str, Any]]:
    """One row per batch: window, deadline, counts, the strategy mix (``plan show``)."""
    rows = []
    for b in plan.batches:
        mix: dict[str, int] = {}
        for i in b.items:
            mix[i.strategy.value] = mix.get(i.strategy.value, 0) + 1
        rows.append({"batch": b.id, "name": b.name, "pilot": b.pilot, "start": str(b.start), "end": str(b.end),
                     "deadline": str(b.deadline) if b.deadline else None, "policy_batch": b.policy_batch,
                     "systems": len(b.items), "servers": b.servers, "strategies": mix})
    return rows


def systems_view(plan: Plan, names: dict[str, str]) -> list[dict[str, Any]]:
    """Every scheduled system in batch order: its batch and deadline, department, strategy, target
    zone, flavor and image of its largest server, cutover day and prerequisites (plan.md's batch tables)."""
    rows = []
    for b in plan.batches:
        for i in b.items:
            p = i.primary
            rows.append({"system": i.system, "name": i.name, "batch": b.id,
                         "deadline": str(b.deadline) if b.deadline else None, **_named(i.owner_org, names),
                         "strategy": i.strategy.value, "move_group": i.move_group, "target_zone": i.target_zone,
                         "flavor": p.flavor if p else None, "image": p.image if p else None,
                         "servers": len(i.servers), "cutover": str(i.cutover) if i.cutover else None,
                         "requires": list(i.requires)})
    return rows


def unscheduled_view(plan: Plan, names: dict[str, str]) -> list[dict[str, Any]]:
    """Every system outside the batches: those that cannot be scheduled (``unscheduled``, each reason)
    and those that stay where they are (``retained``, the reason) — plan.md's sections 5 and 6. Reasons
    are the plan's coded reasons; a view words them."""
    rows = [{"system": u.system, "name": u.name, "status": "unscheduled", **_named(u.owner_org, names),
             "strategy": u.strategy.value if u.strategy else None, "reasons": list(u.reasons)}
            for u in plan.unscheduled]
    rows += [{"system": r.system, "name": r.name, "status": "retained", **_named(r.owner_org, names),
              "strategy": None, "reason_code": r.reason_code, "reasons": [r.reason]} for r in plan.retained]
    return rows


def rooms_view(plan: Plan) -> list[dict[str, Any]]:
    """Every machine room: the day it is empty (None: a system stays), the systems that keep it open,
    its lease-expiry or closure date and whether the plan misses it (plan.md's section 7)."""
    return [{"room": r.room, "name": r.name, "empty_by": str(r.empty_by) if r.empty_by else None,
             "blocked_by": list(r.blocked_by), "deadline": str(r.deadline) if r.deadline else None,
             "deadline_kind": r.deadline_kind or None, "deadline_missed": r.deadline_missed} for r in plan.rooms]


def departments_view(plan: Plan, names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per department: its systems in batches, the batches, and how many stay or cannot be scheduled."""
    rows: dict[str, dict[str, Any]] = {}

    def row(org: str) -> dict[str, Any]:
        return rows.setdefault(org, {**_named(org, names), "systems": 0, "batches": [], "retained": 0,
                                     "unscheduled": 0})
    for b in plan.batches:
        for i in b.items:
            r = row(i.owner_org)
            r["systems"] += 1
            if b.id not in r["batches"]:
                r["batches"].append(b.id)
    for x in plan.retained:
        row(x.owner_org)["retained"] += 1
    for u in plan.unscheduled:
        row(u.owner_org)["unscheduled"] += 1
    return [rows[k] for k in sorted(rows)]


# ---------------------------------------------------------------- explain, diff


def explain(plan: Plan, system: str) -> dict[str, Any]:
    """Why this strategy, move group, batch, zone, flavor and image — or why it stays or cannot be
    scheduled: the plan's reason codes for one system (the JSON contract of ``plan explain``)."""
    for b in plan.batches:
        for i in b.items:
            if i.system == system:
                return {"system": system, "name": i.name, "batch": b.id, "strategy": i.strategy.value,
                        "move_group": i.move_group, "target_zone": i.target_zone, "cutover": str(i.cutover),
                        "requires": list(i.requires), "reasons": i.reasons,
                        "servers": [{"server": p.server, "flavor": p.flavor, "vcpus": p.vcpus, "ram_gb": p.ram_gb,
                                     "disk_gb": p.disk_gb, "image": p.image, "sized_from": p.sized_from}
                                    for p in i.servers]}
    for r in plan.retained:
        if r.system == system:
            return {"system": system, "name": r.name, "retained": True, "reason_code": r.reason_code,
                    "reasons": {"retain": [r.reason]}}
    for u in plan.unscheduled:
        if u.system == system:
            return {"system": system, "name": u.name, "unscheduled": True,
                    "strategy": u.strategy.value if u.strategy else None,
                    "reasons": {"unscheduled": u.reasons}}
    raise GovcloudError(Msg("system '{system}' is not in plan {plan_id}", system=system, plan_id=plan.plan_id))


@dataclass
class PlanDiff:
    a: Plan
    b: Plan
    changes: list[dict[str, Any]] = field(default_factory=list)   # {system, change, from, to, why}


def _where(p: Plan) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for bt in p.batches:
        for i in bt.items:
            out[i.system] = {"where": bt.id, "strategy": i.strategy.value, "zone": i.target_zone,
                             "cutover": str(i.cutover), "why": i.reasons.get("batch", [])[:2]}
    for r in p.retained:
        out[r.system] = {"where": "retained", "strategy": None, "zone": None, "cutover": None, "why": [r.reason]}
    for u in p.unscheduled:
        out[u.system] = {"where": "unscheduled", "strategy": u.strategy.value if u.strategy else None,
                         "zone": None, "cutover": None, "why": u.reasons[:2]}
    return out


def diff(plan_a: Path, plan_b: Path) -> PlanDiff:
    """What moved between batches, strategies, zones and cutover days from plan A to plan B, with
    B's reasons (A's for a removed system)."""
    a, b = read_plan(plan_path(plan_a)), read_plan(plan_path(plan_b))
    ia, ib = _where(a), _where(b)
    out = PlanDiff(a, b)
    for sid in sorted(set(ia) | set(ib)):
        x, y = ia.get(sid), ib.get(sid)
        if x is None or y is None:
            out.changes.append({"system": sid, "change": "added" if x is None else "removed",
                                "from": x and x["where"], "to": y and y["where"], "why": (y or x)["why"]})
            continue
        fields = [f for f in ("where", "strategy", "zone", "cutover") if x[f] != y[f]]
        if fields:
            out.changes.append({"system": sid, "change": ",".join(fields), "from": {f: x[f] for f in fields},
                                "to": {f: y[f] for f in fields}, "why": y["why"]})
    return out


# ---------------------------------------------------------------- approve


@dataclass
class Approval:
    plan: Plan
    signature: Any              # store.approval.Signature
    approver: Any               # the policy's approver entry that verified it
    scheme: str


def approve(plan_arg: Path, name: str, key: Path, scheme: str | None, lang: str) -> Approval:
    """Sign the plan under the plan directory's writer lock (it cannot be regenerated or run between
    the checks and the approval that names its digest). Refuses a plan that breaks a hard rule
    (:class:`PlanViolations`), a stale plan, and a signer or key the policy does not list (exit 4)."""
    from contextlib import nullcontext

    from govcloud.store.lock import writer_lock
    plan_dir = plan_arg if plan_arg.is_dir() else plan_arg.parent
    lock = writer_lock(plan_dir, "plan approve", busy="is in use by") if plan_dir.is_dir() else nullcontext()
    with lock:
        return _approve(plan_arg, name, key, scheme, lang)


def _approve(plan_arg: Path, name: str, key: Path, scheme: str | None, lang: str) -> Approval:
    opened = open_plan(plan_arg)
    path, plan = opened.path, opened.plan
    violations = check_plan(plan, opened.result.inventory)
    if violations:
        raise PlanViolations(Msg("refusing to approve: the plan breaks {n} hard rule(s)",
                                 n=len(violations)), violations)
    changed = plan_state.inputs_changed(plan, path)
    if changed:
        raise GovcloudError((tr("refusing to approve: ", lang))
                            + plan_state.changed_text(changed, lang), hint=Msg("govcloud plan generate … --force"))
    approvers, reason = approvals.policy_approvers(plan, path, opened.result.inventory)
    if approvers is None:
        raise approvals.NotApproved(approvals.msg("no-policy", lang, reason=reason))
    try:
        scheme = scheme or signing.detect_scheme(key)
        if not signing.listed_keys(approvers, name, scheme):
            raise approvals.NotApproved(approvals.msg("approve-not-listed", lang, by=name, policy=plan.policy),
                                        hint=approvals.msg("approve-not-listed.hint", lang))
        statement = signing.new_statement(plan.plan_id, file_digest(path),
                                          (plan.settings or {}).get("inventory_digest") or "", name)
        sig = signing.sign(statement, key, scheme)
    except signing.ApprovalError as exc:
        raise approvals.refusal(exc, lang) from None
    entry, _why = signing.match_approver(approvers, sig)
    if entry is None or not signing.verify_signature(sig, entry.ssh_key if scheme == "ssh" else entry.sm2_key):
        raise approvals.NotApproved(approvals.msg("approve-not-listed", lang, by=name, policy=plan.policy),
                                    hint=approvals.msg("approve-not-listed.hint", lang))
    plan_state.record_approval(plan, path, sig, approvers, why=approvals.why)   # approval.yaml + plan.md
    return Approval(plan, sig, entry, scheme)
