"""``govcloud plan …``: generate, validate, show, explain, diff, approve."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from govcloud.errors import ExitCode, UsageError
from govcloud.planning.rules import format_violation
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.reasons import OBJECTIVE, batch_name, render_all
from govcloud.store import approval as signing
from govcloud.store.planfile import plan_path, plan_to_plain, read_plan
from govcloud.usecases import approval as approvals
from govcloud.usecases import plan as uc
from govcloud.usecases import plan_state
from govcloud.usecases.approval import PlanViolations
from govcloud.usecases.plan import InvalidInventory, PlanSummary

app = typer.Typer(help="计划 — batched migration plans: generate, check, read, compare, approve.",
                  no_args_is_help=True)

PlanArg = typer.Argument(..., metavar="PLAN", help="Plan directory (migration-plans/<id>) or its plan.yaml.")
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of the plan document and labels.", envvar="GOVCLOUD_LANG")


def _show_violations(exc: PlanViolations, lang: Lang) -> None:
    err = view.stderr()
    for v in exc.violations[:20]:
        err.print(view.safe(format_violation(v, lang.value)), highlight=False, soft_wrap=True)


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
        done = uc.generate_plan(inventory, policy_file=policy_file, plan_id=plan_id, out=out, start=start,
                                batch_weeks=batch_weeks, lang=lang.value, force=force)
    except InvalidInventory as exc:
        view.render_problems(exc.problems[:20], view.stderr(), lang.value)
        raise
    except PlanViolations as exc:
        _show_violations(exc, lang)
        raise
    path, seconds, published = done.path, done.seconds, done
    directory = path.parent
    summary = done.summary.to_plain()
    names = ", ".join(f"{s.approved_by} ({s.approved_at})" for s in published.voided or published.kept)
    if output is Output.json:
        view.print_json({"plan": str(path), "seconds": round(seconds, 3), **summary,
                         "approval_kept": [s.approved_by for s in published.kept],
                         "approval_voided": [s.approved_by for s in published.voided]})
        return
    err = view.stderr()
    err.print(f"wrote {path} and {directory / 'plan.md'} in {seconds:.1f} s", highlight=False)
    if published.voided:
        err.print(view.safe(plan_state.msg("voided", lang.value, signers=names)), style="bold yellow", highlight=False)
    elif published.kept:
        err.print(view.safe(plan_state.msg("kept", lang.value, signers=names)), highlight=False)
    _print_summary(summary, lang)


def _print_summary(summary: dict[str, Any], lang: Lang) -> None:
    zh = lang is Lang.zh
    out = view.stdout()
    out.print(("批次 {batches}（下界 {lower_bound}，差距 {gap}）；纳入批次 {systems_in_batches} 个系统，保留 {retained}，"
               "暂无法排期 {unscheduled}；硬性规则违反 0") .format(**summary) if zh else
              ("{batches} batches (lower bound {lower_bound}, gap {gap}); {systems_in_batches} systems in batches, "
               "{retained} stay, {unscheduled} cannot be scheduled; 0 hard-rule violations").format(**summary),
              highlight=False)


def validate_summary(violations: int, systems: int, batches: int, stale: bool, lang: str) -> str:
    """The last line of `plan validate`."""
    mark = "✗" if violations or stale else "✓"
    if lang == "zh":
        return (f"{mark} {batches} 个批次、{systems} 个纳入批次的系统中发现 {violations} 处硬性规则违反"
                + ("；计划已过期" if stale else ""))
    return f"{mark} {violations} violation(s) in {systems} planned systems, {batches} batches" + \
        ("; the plan is stale" if stale else "")


@app.command()
def validate(plan_arg: Path = PlanArg, output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Re-check a plan (hand edits included) against its inventory: every hard rule, one line per
    violation; whether the inventory or policy changed since it was generated (stale); and its
    approval's signatures when it has one. plan.md's approval line is brought up to date.

    Exit 0 when the plan keeps every rule and is not stale, 1 otherwise; 4 when approval.yaml exists
    but is not a valid signed approval of this plan (forged, wrongly signed, unsigned).
    """
    checked = uc.check(plan_arg)
    path, plan, violations, state = checked.path, checked.plan, checked.violations, checked.state
    if output is Output.json:
        view.print_json({"plan": str(path), "ok": not violations and not state.stale, "stale_inputs": state.stale,
                         "changed_inputs": list(state.changed), "approval": state.approval.to_plain(),
                         "violations": [{"rule": v.rule, "system": v.system, "message": v.message,
                                         "text": format_violation(v, lang.value)} for v in violations]})
    else:
        out = view.stdout()
        for v in violations:
            out.print(view.safe(format_violation(v, lang.value)), highlight=False, soft_wrap=True)
        if state.stale:
            view.stderr().print(view.safe("⚠ " + plan_state.changed_text(state.changed, lang.value)),
                                style="bold red", highlight=False)
        bad = violations or state.stale
        out.print(validate_summary(len(violations), len(plan.items()), len(plan.batches), state.stale, lang.value),
                  style="bold red" if bad else "bold green", highlight=False)
        view.stderr().print(view.safe(approvals.describe(state.approval, lang.value)),
                            style="bold red" if state.approval.status == "invalid" else None, highlight=False)
    if violations or state.stale:
        raise typer.Exit(int(ExitCode.ERROR))
    raise typer.Exit(int(ExitCode.NOT_APPROVED if state.approval.status == "invalid" else ExitCode.OK))


@app.command()
def show(
    plan_arg: Path = PlanArg,
    by: str = typer.Option("batch", "--by", help="batch, department or room."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """The plan by batch, department or machine room; --output json prints the whole plan (the JSON contract)."""
    path = plan_path(plan_arg)
    plan = read_plan(path)
    pstate = plan_state.plan_state(plan, path)
    state = pstate.approval
    if output is Output.json:
        data = plan_to_plain(plan)
        data["approval"] = state.to_plain()
        data["stale_inputs"], data["changed_inputs"] = pstate.stale, list(pstate.changed)
        view.print_json(data)
        return
    out = view.stdout()
    zh = lang is Lang.zh
    if state.status == "invalid" or pstate.stale:
        view.stderr().print(view.safe(approvals.describe_plan(pstate, lang.value)), style="bold red",
                            highlight=False)
    if by == "batch":
        table = Table(title=view.safe(f"{plan.plan_id} — {approvals.describe_plan(pstate, lang.value)}"),
                      title_justify="left", header_style="bold")
        for col in (("批次", "batch"), ("时间", "window"), ("截止", "deadline"), ("系统", "systems"),
                    ("服务器", "servers"), ("策略", "strategies")):
            table.add_column(col[0] if zh else col[1])
        for b in plan.batches:
            strategies: dict[str, int] = {}
            for i in b.items:
                strategies[i.strategy.label(lang.value)] = strategies.get(i.strategy.label(lang.value), 0) + 1
            table.add_row(f"{b.id} {batch_name(b.name, b.id, b.pilot, lang.value)}", f"{b.start} – {b.end}", str(b.deadline or "-"), str(len(b.items)),
                          str(b.servers), ", ".join(f"{k} {v}" for k, v in strategies.items()))
        out.print(table)
        _print_summary(PlanSummary.of(plan).to_plain(), lang)
    elif by == "department":
        rows: dict[str, list[str]] = {}
        for b in plan.batches:
            for i in b.items:
                rows.setdefault(i.owner_org, []).append(b.id)
        table = Table(title=plan.plan_id, title_justify="left", header_style="bold")
        for c in (("部门", "department"), ("系统", "systems"), ("批次", "batches"), ("保留/暂无法排期", "stay/unscheduled")):
            table.add_column(c[0] if zh else c[1])
        stay: dict[str, int] = {}
        for r in plan.retained:
            stay[r.owner_org] = stay.get(r.owner_org, 0) + 1
        for u in plan.unscheduled:
            stay[u.owner_org] = stay.get(u.owner_org, 0) + 1
        for org in sorted(set(rows) | set(stay)):
            batches = rows.get(org, [])
            table.add_row(org, str(len(batches)), " ".join(sorted(set(batches))), str(stay.get(org, 0)))
        out.print(table)
    elif by == "room":
        table = Table(title=plan.plan_id, title_justify="left", header_style="bold")
        for c in (("机房", "room"), ("腾空日期", "empty by"), ("尚未腾空原因", "kept open by")):
            table.add_column(c[0] if zh else c[1])
        for r in plan.rooms:
            table.add_row(f"{r.name} ({r.room})", str(r.empty_by or "-"),
                          ", ".join(r.blocked_by[:5]) + (" …" if len(r.blocked_by) > 5 else ""))
        out.print(table)
    else:
        raise UsageError("--by must be batch, department or room")


@app.command()
def explain(plan_arg: Path = PlanArg, system: str = typer.Argument(..., help="System id."),
            output: Output = OutputOpt, lang: Lang = LangOpt) -> None:
    """Why this strategy, move group, batch, zone, flavor and image — or why it stays or cannot be scheduled."""
    plan = read_plan(plan_path(plan_arg))
    _explain_out(uc.explain(plan, system), output, lang)


_HEADINGS = {"strategy": ("策略", "strategy"), "group": ("迁移组", "move group"), "batch": ("批次", "batch"),
             "zone": ("目标资源池", "zone"), "flavor": ("规格", "flavor"), "image": ("镜像", "image"),
             "retain": ("保留原因", "why it stays"), "unscheduled": ("无法排期原因", "why it cannot be scheduled")}


def _explain_out(data: dict[str, Any], output: Output, lang: Lang) -> None:
    if output is Output.json:
        view.print_json({**data, "objective": OBJECTIVE[lang.value],
                         "reasons_text": {k: render_all(v, lang.value) for k, v in data["reasons"].items()}})
        return
    out = view.stdout()
    head = f"{data['system']} {data['name']}"
    if "batch" in data:
        head += f" → {data['batch']} · {data['strategy']} · {data['target_zone'] or '-'} · {data['cutover']}"
    out.print(head, style="bold", highlight=False)
    out.print(f"  {OBJECTIVE[lang.value]}", style="dim", highlight=False, soft_wrap=True)
    for key, lines in data["reasons"].items():
        zh, en = _HEADINGS.get(key, (key, key))
        out.print(f"  {zh if lang is Lang.zh else en}:", style="cyan", highlight=False)
        for line in render_all(lines, lang.value):
            out.print(f"    - {line}", highlight=False, soft_wrap=True)
    for p in data.get("servers", []):
        out.print(f"    {p['server']}: {p['flavor']} ({p['vcpus']} vCPU, {p['ram_gb']:g} GB, disk {p['disk_gb']:g} GB) "
                  f"· {p['image']} · {p['sized_from']}", highlight=False, soft_wrap=True)
    if data.get("requires"):
        out.print(f"  {'前置条件' if lang is Lang.zh else 'prerequisites'}: {', '.join(data['requires'])}",
                  highlight=False)


_DIFF_FIELDS = {"where": ("批次", "where"), "strategy": ("策略", "strategy"), "zone": ("资源池", "zone"),
                "cutover": ("割接日", "cutover"), "added": ("新增", "added"), "removed": ("移除", "removed")}


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
    out = view.stdout()
    zh = lang is Lang.zh
    words = {"retained": "保留", "unscheduled": "暂无法排期"} if zh else {}

    def word(v: Any) -> str:
        return words.get(str(v), str(v)) if v else "-"
    for c in changes:
        if isinstance(c["from"], dict) or isinstance(c["to"], dict):
            parts = [f"{_DIFF_FIELDS[f][0 if zh else 1]} {word((c['from'] or {}).get(f))} → {word((c['to'] or {}).get(f))}"
                     for f in c["change"].split(",")]
            line = ("；" if zh else "; ").join(parts)
        else:
            line = f"{_DIFF_FIELDS[c['change']][0 if zh else 1]} {word(c['from'])} → {word(c['to'])}"
        out.print(f"{c['system']}: {line}", highlight=False, soft_wrap=True)
        for w in render_all(c["why"], lang.value):
            out.print(f"    {w}", style="dim", highlight=False, soft_wrap=True)
    out.print(f"{a.plan_id} → {b.plan_id}：{len(changes)} 个系统有变化" if lang is Lang.zh else
              f"{len(changes)} system(s) changed between {a.plan_id} and {b.plan_id}", style="bold")


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
        raise UsageError("--by needs the approver's name (text without control characters)")
    if scheme is not None and scheme not in signing.SCHEMES:
        raise UsageError("--scheme must be ssh or sm2-sm3")
    try:
        done = uc.approve(plan_arg, name, key, scheme, lang.value)
    except PlanViolations as exc:
        _show_violations(exc, lang)
        raise
    plan, sig, entry, scheme = done.plan, done.signature, done.approver, done.scheme
    scope = ",".join(tuple(entry.departments) + tuple(entry.batches))
    if output is Output.json:
        plain = {k: v for k, v in sig.to_plain().items() if k != "signature"}
        view.print_json({**plain, "departments": list(entry.departments), "batches": list(entry.batches)})
    else:
        view.stdout().print(view.safe(
            (f"已审批 {plan.plan_id}（{sig.plan_sha256[:19]}…），审批人 {sig.approved_by}，{sig.approved_at}，"
             f"签名方式 {scheme}" if lang is Lang.zh else
             f"approved {plan.plan_id} ({sig.plan_sha256[:19]}…) by {sig.approved_by} at {sig.approved_at}, "
             f"signed with {scheme}") + (f" [{scope}]" if scope else "")), highlight=False)
