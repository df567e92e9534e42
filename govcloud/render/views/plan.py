"""Views of ``govcloud plan``: what generate wrote, validate's findings, the plan by batch,
department or room, one system explained, the diff of two plans, the approval recorded — in
Chinese by default, English with ``--lang en``."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from govcloud.model.enums import Strategy
from govcloud.planning.rules import format_violation
from govcloud.render import console as view
from govcloud.render.reasons import OBJECTIVE, batch_name, render_all
from govcloud.base.i18n import N_, tr, zh_en

_T: dict[str, tuple[str, str]] = {
    "wrote": zh_en("wrote {path} and {doc} in {seconds:.1f} s"),
    "summary": zh_en("{batches} batches (lower bound {lower_bound}, gap {gap}); {systems_in_batches} systems in batches, "
                "{retained} stay, {unscheduled} cannot be scheduled; 0 hard-rule violations"),
    "prerequisites": zh_en("prerequisites"),
    "diff_total": zh_en("{n} system(s) changed between {a} and {b}"),
    "approved": zh_en("approved {plan} ({sha}…) by {by} at {at}, signed with {scheme}"),
    "t_systems": zh_en("{plan} — {n} scheduled systems"),
    "t_unscheduled": zh_en("{plan} — systems outside the batches: {u} cannot be scheduled, {r} stay"),
    "t_rooms": zh_en("{plan} — machine rooms: {closed} of {n} emptied"),
    "t_departments": zh_en("{plan} — by department ({n})"),
    "no_names": zh_en("department names unavailable ({why}); showing ids"),
    "retained": zh_en("stays"), "unscheduled": zh_en("cannot be scheduled"),
    "lease_expiry": zh_en("lease expiry"), "closure_date": zh_en("closure"),
    "missed": zh_en("⚠ not empty by then"),
}

_COLS: dict[str, tuple[str, str]] = {
    "batch": zh_en("batch"), "system": zh_en("system"), "name": zh_en("name"),
    "department": zh_en("department"), "strategy": zh_en("strategy"), "zone": zh_en("target zone"),
    "flavor": zh_en("flavor"), "cutover": zh_en("cutover"), "deadline": zh_en("deadline"),
    "status": zh_en("status", ctx='plan:status'), "reason": zh_en("reason"), "room": zh_en("machine room"),
    "empty_by": zh_en("empty by"), "room_deadline": zh_en("lease expiry/closure"),
    "kept_open": zh_en("kept open by"), "systems": zh_en("systems in batches"),
    "batches": zh_en("batches"), "stay": zh_en("stay/unscheduled"),
}

_HEADINGS = {"strategy": zh_en("strategy"), "group": zh_en("move group"), "batch": zh_en("batch"),
             "zone": zh_en("zone"), "flavor": zh_en("flavor"), "image": zh_en("image"),
             "retain": zh_en("why it stays"), "unscheduled": zh_en("why it cannot be scheduled")}

_DIFF_FIELDS = {"where": zh_en("where", ctx='plan:where'), "strategy": zh_en("strategy"), "zone": zh_en("zone", ctx='plan:zone'),
                "cutover": zh_en("cutover", ctx='plan:cutover'), "added": zh_en("added"), "removed": zh_en("removed")}

SHOW_BY = ("batch", "department", "room")


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def violations(found: list[Any], lang: str, console: Any = None, limit: int | None = None) -> None:
    """Hard-rule violations, one line each (stderr unless a console is given)."""
    con = console or view.stderr()
    for v in found[:limit] if limit else found:
        con.print(view.safe(format_violation(v, lang)), highlight=False, soft_wrap=True)


def summary(summary: dict[str, Any], lang: str) -> None:
    view.stdout().print(msg("summary", lang, **summary), highlight=False)


def generated(done: Any, lang: str, voided_text: str | None, kept_text: str | None) -> None:
    """`plan generate`: what was written and how long it took, the approval voided or kept, the summary."""
    err = view.stderr()
    err.print(view.safe(msg("wrote", lang, path=done.path, doc=done.document, seconds=done.seconds)),
              highlight=False)
    if voided_text:
        err.print(view.safe(voided_text), style="bold yellow", highlight=False)
    elif kept_text:
        err.print(view.safe(kept_text), highlight=False)
    summary(done.summary.to_plain(), lang)


def validate_summary(violations: int, systems: int, batches: int, stale: bool, lang: str) -> str:
    """The last line of `plan validate`."""
    mark = "✗" if violations or stale else "✓"
    return tr("{mark} {violations} violation(s) in {systems} planned systems, {batches} batches", lang).format(
        mark=mark, violations=violations, systems=systems, batches=batches) + (tr("; the plan is stale", lang) if stale else "")


def validated(checked: Any, stale_text: str, approval_text: str, lang: str) -> None:
    """`plan validate` (``checked``: usecases.plan.PlanCheck)."""
    out = view.stdout()
    violations(checked.violations, lang, console=out)
    if checked.stale:
        view.stderr().print(view.safe("⚠ " + stale_text), style="bold red", highlight=False)
    bad = checked.violations or checked.stale
    out.print(validate_summary(len(checked.violations), len(checked.plan.items()), len(checked.plan.batches),
                               checked.stale, lang), style="bold red" if bad else "bold green", highlight=False)
    view.stderr().print(view.safe(approval_text), style="bold red" if checked.approval.status == "invalid" else None,
                        highlight=False)


def _table(title: str, cols: tuple[str, ...], lang: str) -> Table:
    table = Table(title=view.safe(title), title_justify="left", header_style="bold")
    for c in cols:
        table.add_column(_pick(_COLS[c], lang))
    return table


def _sep(lang: str) -> str:
    return tr("; ", lang)


def names_missing(why: str | None, lang: str) -> None:
    """The plan's inventory could not be read: the views show department ids (a note on stderr)."""
    if why:
        view.stderr().print(view.safe(msg("no_names", lang, why=why)), style="yellow", highlight=False)


def show(plan: Any, approval_text: str, flagged: bool, lang: str, plan_summary: dict[str, Any] | None = None) -> None:
    """`plan show` (by batch; ``approval_text``: the plan's approval and staleness line; ``flagged``:
    also on stderr, in red — invalid approval or stale inputs; ``plan_summary``: the summary line under
    the table). The other views: :func:`departments`, :func:`rooms`, :func:`systems`, :func:`unscheduled`."""
    out = view.stdout()
    if flagged:
        view.stderr().print(view.safe(approval_text), style="bold red", highlight=False)
    table = Table(title=view.safe(f"{plan.plan_id} — {approval_text}"), title_justify="left", header_style="bold")
    for col in (zh_en("batch"), zh_en("window"), zh_en("deadline"), zh_en("systems", ctx='plan:batch-systems'),
                zh_en("servers"), zh_en("strategies")):
        table.add_column(_pick(col, lang))
    for b in plan.batches:
        strategies: dict[str, int] = {}
        for i in b.items:
            strategies[i.strategy.label(lang)] = strategies.get(i.strategy.label(lang), 0) + 1
        table.add_row(view.safe(f"{b.id} {batch_name(b.name, b.id, b.pilot, lang)}"), f"{b.start} – {b.end}",
                      str(b.deadline or "-"), str(len(b.items)), str(b.servers),
                      ", ".join(f"{k} {v}" for k, v in strategies.items()))
    out.print(table)
    if plan_summary is not None:
        summary(plan_summary, lang)


def flag(approval_text: str, flagged: bool) -> None:
    """An invalid approval or stale inputs: the approval line on stderr, in red (every view)."""
    if flagged:
        view.stderr().print(view.safe(approval_text), style="bold red", highlight=False)


def departments(plan_id: str, rows: list[dict[str, Any]], lang: str) -> None:
    """`plan show --by department`: per department (short name), its systems in batches, the batches,
    how many stay or cannot be scheduled."""
    table = _table(msg("t_departments", lang, plan=plan_id, n=len(rows)), ("department", "systems", "batches", "stay"),
                   lang)
    for r in rows:
        table.add_row(view.safe(r["department_name"]), str(r["systems"]), " ".join(r["batches"]),
                      str(r["retained"] + r["unscheduled"]))
    view.stdout().print(table)


def systems(plan_id: str, rows: list[dict[str, Any]], lang: str) -> None:
    """`plan show --systems`: every scheduled system with its batch, deadline, department, strategy,
    target zone, flavor and cutover day."""
    table = _table(msg("t_systems", lang, plan=plan_id, n=len(rows)),
                   ("batch", "system", "name", "department", "strategy", "zone", "flavor", "cutover", "deadline"), lang)
    for r in rows:
        flavor = (r["flavor"] or "-") + (f" ×{r['servers']}" if r["servers"] > 1 else "")
        table.add_row(r["batch"], view.safe(r["system"]), view.safe(r["name"]), view.safe(r["department_name"]),
                      Strategy(r["strategy"]).label(lang), view.safe(r["target_zone"] or "-"), view.safe(flavor),
                      r["cutover"] or "-", r["deadline"] or "-")
    view.stdout().print(table)


def reasons_text(row: dict[str, Any], lang: str) -> str:
    """A row of ``unscheduled_view``: its reasons worded in ``lang``."""
    return _sep(lang).join(render_all(row["reasons"], lang))


def unscheduled(plan_id: str, rows: list[dict[str, Any]], lang: str) -> None:
    """`plan show --unscheduled`: the systems outside the batches and why, in the chosen language (the
    strategy each would have had is in the JSON)."""
    n_u = sum(1 for r in rows if r["status"] == "unscheduled")
    table = _table(msg("t_unscheduled", lang, plan=plan_id, u=n_u, r=len(rows) - n_u),
                   ("system", "name", "department", "status", "reason"), lang)
    for r in rows:
        table.add_row(view.safe(r["system"]), view.safe(r["name"]), view.safe(r["department_name"]),
                      msg(r["status"], lang), view.safe(reasons_text(r, lang)))
    view.stdout().print(table)


def room_deadline(row: dict[str, Any], lang: str) -> str:
    if not row["deadline"]:
        return "-"
    kind = msg(row["deadline_kind"], lang) if row["deadline_kind"] in ("lease_expiry", "closure_date") else ""
    return f"{row['deadline']} {kind}".strip() + (f" {msg('missed', lang)}" if row["deadline_missed"] else "")


def rooms(plan_id: str, rows: list[dict[str, Any]], lang: str) -> None:
    """`plan show --rooms` (and `--by room`): each machine room, the day it is empty, its lease expiry
    or closure date (flagged when the plan misses it) and the systems that keep it open."""
    closed = sum(1 for r in rows if r["empty_by"])
    table = _table(msg("t_rooms", lang, plan=plan_id, closed=closed, n=len(rows)),
                   ("room", "empty_by", "room_deadline", "kept_open"), lang)
    for r in rows:
        table.add_row(view.safe(f"{r['name']} ({r['room']})"), r["empty_by"] or "-", room_deadline(r, lang),
                      view.safe(", ".join(r["blocked_by"]) or "-"))
    view.stdout().print(table)


def explain_plain(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """`plan explain -o json`: the use case's data plus the objective and the reasons worded."""
    return {**data, "objective": tr(OBJECTIVE, lang),
            "reasons_text": {k: render_all(v, lang) for k, v in data["reasons"].items()}}


def explain(data: dict[str, Any], lang: str) -> None:
    out = view.stdout()
    head = f"{data['system']} {data['name']}"
    if "batch" in data:
        head += (f" → {data['batch']} · {Strategy(data['strategy']).label(lang)} · {data['target_zone'] or '-'}"
                 f" · {data['cutover']}")
    out.print(view.safe(head), style="bold", highlight=False)
    out.print(f"  {tr(OBJECTIVE, lang)}", style="dim", highlight=False, soft_wrap=True)
    for key, lines in data["reasons"].items():
        out.print(f"  {_pick(_HEADINGS.get(key, (key, key)), lang)}:", style="cyan", highlight=False)
        for line in render_all(lines, lang):
            out.print(view.safe(f"    - {line}"), highlight=False, soft_wrap=True)
    for p in data.get("servers", []):
        out.print(view.safe(f"    {p['server']}: {p['flavor']} ({p['vcpus']} vCPU, {p['ram_gb']:g} GB, disk "
                            f"{p['disk_gb']:g} GB) · {p['image']} · {p['sized_from']}"), highlight=False,
                  soft_wrap=True)
    if data.get("requires"):
        out.print(f"  {msg('prerequisites', lang)}: {', '.join(data['requires'])}", highlight=False)


def diff(d: Any, lang: str) -> None:
    """`plan diff` (``d``: usecases.plan.PlanDiff): one line per changed system, with B's reasons."""
    out = view.stdout()
    # where a system is: a batch id, or one of these words (in English as the plan writes them)
    words = {"retained": N_("retained"), "unscheduled": N_("unscheduled")}

    def word(v: Any) -> str:
        return tr(words[str(v)], lang) if str(v) in words else str(v) if v else "-"
    for c in d.changes:
        if isinstance(c["from"], dict) or isinstance(c["to"], dict):
            parts = [f"{_pick(_DIFF_FIELDS[f], lang)} {word((c['from'] or {}).get(f))} → {word((c['to'] or {}).get(f))}"
                     for f in c["change"].split(",")]
            line = tr("; ", lang).join(parts)
        else:
            line = f"{_pick(_DIFF_FIELDS[c['change']], lang)} {word(c['from'])} → {word(c['to'])}"
        out.print(view.safe(f"{c['system']}: {line}"), highlight=False, soft_wrap=True)
        for w in render_all(c["why"], lang):
            out.print(view.safe(f"    {w}"), style="dim", highlight=False, soft_wrap=True)
    out.print(msg("diff_total", lang, a=d.a.plan_id, b=d.b.plan_id, n=len(d.changes)), style="bold")


def approved(done: Any, lang: str) -> None:
    """`plan approve` (``done``: usecases.plan.Approval)."""
    sig, entry = done.signature, done.approver
    scope = ",".join(tuple(entry.departments) + tuple(entry.batches))
    view.stdout().print(view.safe(msg("approved", lang, plan=done.plan.plan_id, sha=sig.plan_sha256[:19],
                                      by=sig.approved_by, at=sig.approved_at, scheme=done.scheme)
                                  + (f" [{scope}]" if scope else "")), highlight=False)
