"""``govcloud plan …``: generate, validate, show, explain, diff, approve."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import Msg, tr
from govcloud.errors import ExitCode, UsageError
from govcloud.planning.rules import format_violation
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.progress import progress_for
from govcloud.render.views import plan as views
from govcloud.store import approval as signing
from govcloud.store.planfile import plan_path, plan_to_plain, read_plan
from govcloud.usecases import approval as approvals
from govcloud.usecases import plan as uc
from govcloud.usecases import plan_state
from govcloud.usecases.approval import PlanViolations
from govcloud.usecases.plan import InvalidInventory, PlanSummary

app = typer.Typer(help=tr("plan", "zh") + " — batched migration plans: generate, check, read, compare, approve.",
                  no_args_is_help=True)

PlanArg = typer.Argument(..., metavar="PLAN", help="Plan directory (migration-plans/<id>) or its plan.yaml.")
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of the plan document and labels.", envvar="GOVCLOUD_LANG")


def _show_violations(exc: PlanViolations, lang: Lang) -> None:
    views.violations(exc.violations, lang.value, limit=20)


@app.command()
def generate(
    inventory: Path = typer.Argument(..., help="Inventory directory."),
    policy_file: Optional[Path] = typer.Option(None, "--policy", help="A YAML file with one policy "
                                               "(default: the inventory's default policy)."),
    plan_id: Optional[str] = typer.Option(None, "--id", help="Plan id (default: the policy id)."),
    out: Path = typer.Option(Path("migration-plans"), "--out", help="Where plan directories go."),
    start: Optional[str] = typer.Option(None, "--start", help="First day of the plan (default: policy start)."),
    batch_weeks: int = typer.Option(4, "--batch-weeks", min=1, max=26, help="Length of a batch in weeks."),
    force: bool = typer.Option(False, "--force", help="Replace an approved plan with a different one (voids "
                                                      "its approval; without it that is refused, exit 5)."),
    lang: Lang = LangOpt,
    output: Output = OutputOpt,
) -> None:
    """Build the batched plan: writes <out>/<id>/plan.yaml (for machines, diffs and approval) and plan.md.

    Exit 5 when <out>/<id> holds an approved plan and the new one differs (--force replaces it and
    voids the approval; regenerating the identical plan keeps it)."""
    try:
        with progress_for(output, lang.value) as progress:
            done = uc.generate_plan(inventory, policy_file=policy_file, plan_id=plan_id, out=out, start=start,
                                    batch_weeks=batch_weeks, lang=lang.value, force=force, progress=progress)
    except InvalidInventory as exc:
        view.render_problems(exc.problems[:20], view.stderr(), lang.value)
        raise
    except PlanViolations as exc:
        _show_violations(exc, lang)
        raise
    names = ", ".join(f"{s.approved_by} ({s.approved_at})" for s in done.voided or done.kept)
    if output is Output.json:
        view.print_json({"plan": str(done.path), "seconds": round(done.seconds, 3), **done.summary.to_plain(),
                         "approval_kept": [s.approved_by for s in done.kept],
                         "approval_voided": [s.approved_by for s in done.voided]})
        return
    views.generated(done, lang.value,
                    plan_state.msg("voided", lang.value, signers=names) if done.voided else None,
                    plan_state.msg("kept", lang.value, signers=names) if done.kept else None)


validate_summary = views.validate_summary


@app.command()
def validate(plan_arg: Path = PlanArg, output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Re-check a plan (hand edits included) against its inventory: every hard rule, one line per
    violation; whether the inventory or policy changed since it was generated (stale); and its
    approval's signatures when it has one. plan.md's approval line is brought up to date.

    Exit 0 when the plan keeps every rule and is not stale, 1 otherwise; 4 when approval.yaml exists
    but is not a valid signed approval of this plan (forged, wrongly signed, unsigned).
    """
    with progress_for(output, lang.value) as progress:
        checked = uc.check(plan_arg, progress=progress)
    path, violations, state = checked.path, checked.violations, checked.state
    if output is Output.json:
        view.print_json({"plan": str(path), "ok": not violations and not state.stale, "stale_inputs": state.stale,
                         "changed_inputs": list(state.changed), "approval": state.approval.to_plain(),
                         "violations": [{"rule": v.rule, "system": v.system, "message": v.message,
                                         "text": format_violation(v, lang.value)} for v in violations]})
    else:
        views.validated(checked, plan_state.changed_text(state.changed, lang.value),
                        approvals.describe(state.approval, lang.value), lang.value)
    if violations or state.stale:
        raise typer.Exit(int(ExitCode.ERROR))
    raise typer.Exit(int(ExitCode.NOT_APPROVED if state.approval.status == "invalid" else ExitCode.OK))


@app.command()
def show(
    plan_arg: Path = PlanArg,
    by: str = typer.Option("batch", "--by", help="batch, department (short names) or room."),
    systems: bool = typer.Option(False, "--systems", help="Every scheduled system: batch, deadline, department, "
                                                          "strategy, target zone, flavor, cutover day."),
    unscheduled: bool = typer.Option(False, "--unscheduled", help="The systems outside the batches (cannot be "
                                                                  "scheduled, or stay) and why."),
    rooms: bool = typer.Option(False, "--rooms", help="Machine rooms: when each is empty, its lease expiry or "
                                                      "closure date, what keeps it open."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """The plan by batch, department or machine room, or one of its views (--systems, --unscheduled,
    --rooms). --output json: the whole plan (the JSON contract), or with --by department/room or a
    view that view's rows as one document."""
    picked = [name for name, on in (("systems", systems), ("unscheduled", unscheduled), ("rooms", rooms)) if on]
    if len(picked) > 1:
        raise UsageError(Msg("--systems, --unscheduled and --rooms are separate views: give one of them"))
    if by not in views.SHOW_BY:
        raise UsageError(Msg("--by must be batch, department or room"))
    kind = picked[0] if picked else {"batch": "batches", "department": "departments", "room": "rooms"}[by]
    with progress_for(output, lang.value) as progress:
        shown = uc.show(plan_arg, names=kind in ("systems", "unscheduled", "departments"), progress=progress)
    plan, pstate = shown.plan, shown.state
    state = pstate.approval
    lg = lang.value
    flagged = state.status == "invalid" or pstate.stale
    rows: list[dict] | None = None
    if kind == "systems":
        rows = uc.systems_view(plan, shown.org_names)
    elif kind == "unscheduled":
        rows = uc.unscheduled_view(plan, shown.org_names)
        if output is Output.json:
            rows = [{**r, "reasons_text": [views.reasons_text({"reasons": [x]}, lg) for x in r["reasons"]]}
                    for r in rows]
    elif kind == "rooms":
        rows = uc.rooms_view(plan)
    elif kind == "departments":
        rows = uc.departments_view(plan, shown.org_names)
    if output is Output.json:
        if rows is None:
            data = plan_to_plain(plan)
        else:
            data = {"plan_id": plan.plan_id, "view": kind, kind: rows}
        data["approval"] = state.to_plain()
        data["stale_inputs"], data["changed_inputs"] = pstate.stale, list(pstate.changed)
        view.print_json(data)
        return
    approval_text = approvals.describe_plan(pstate, lg)
    if rows is None:
        views.show(plan, approval_text, flagged, lg, PlanSummary.of(plan).to_plain())
        return
    views.flag(approval_text, flagged)
    views.names_missing(shown.names_missing, lg)
    {"systems": views.systems, "unscheduled": views.unscheduled, "rooms": views.rooms,
     "departments": views.departments}[kind](plan.plan_id, rows, lg)


@app.command()
def explain(plan_arg: Path = PlanArg, system: str = typer.Argument(..., help="System id."),
            output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Why this strategy, move group, batch, zone, flavor and image — or why it stays or cannot be scheduled."""
    data = uc.explain(read_plan(plan_path(plan_arg)), system)
    if output is Output.json:
        view.print_json(views.explain_plain(data, lang.value))
    else:
        views.explain(data, lang.value)


@app.command()
def diff(plan_a: Path = typer.Argument(..., help="The earlier plan."),
         plan_b: Path = typer.Argument(..., help="The later plan."), output: Output = OutputOpt,
         lang: Lang = LangOpt) -> None:
    """What moved between batches, strategies and zones from plan A to plan B, and why (B's reasons)."""
    d = uc.diff(plan_a, plan_b)
    a, b, changes = d.a, d.b, d.changes
    if output is Output.json:
        view.print_json({"a": a.plan_id, "b": b.plan_id, "a_digest": a.inputs_digest, "b_digest": b.inputs_digest,
                         "changes": changes})
        return
    views.diff(d, lang.value)


@app.command()
def approve(plan_arg: Path = PlanArg, by: str = typer.Option(..., "--by", help="Name of the approver, as listed in "
                                                                          "the policy's approvers."),
            key: Path = typer.Option(..., "--key", help="The approver's private key: an OpenSSH key (or its .pub "
                                                        "with the key in ssh-agent) or an SM2 PEM key."),
            scheme: Optional[str] = typer.Option(None, "--scheme", help="ssh or sm2-sm3 (default: from the key)."),
            output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Sign the plan: plan id, plan.yaml's SHA-256, the inventory digest, the approver and the time,
    with the approver's SSH key (ssh-keygen -Y sign) or SM2 key (SM2/SM3). Any later edit of
    plan.yaml voids the approval; only keys listed in the policy's approvers count."""
    name = by.strip()
    if not name or signing.has_control(by):
        raise UsageError(Msg("--by needs the approver's name (text without control characters)"))
    if scheme is not None and scheme not in signing.SCHEMES:
        raise UsageError(Msg("--scheme must be ssh or sm2-sm3"))
    try:
        done = uc.approve(plan_arg, name, key, scheme, lang.value)
    except PlanViolations as exc:
        _show_violations(exc, lang)
        raise
    if output is Output.json:
        sig, entry = done.signature, done.approver
        plain = {k: v for k, v in sig.to_plain().items() if k != "signature"}
        view.print_json({**plain, "departments": list(entry.departments), "batches": list(entry.batches)})
    else:
        views.approved(done, lang.value)
