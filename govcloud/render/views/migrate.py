"""Views of ``govcloud migrate``: the dry run's change set, the cutover records' dry run, the
results of a run/cutover/rollback/decommission, and the status table with its sync and downtime
lines — in Chinese by default, English with ``--lang en``."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from govcloud.render import console as view
from govcloud.render.i18n import t as label
from govcloud.base.i18n import localize, zh_en

_T: dict[str, tuple[str, str]] = {
    "dry_run": zh_en("{plan} — dry run (nothing changed)"),
    "system": zh_en("system"), "state": zh_en("state"), "action": zh_en("action"),
    "kind": zh_en("kind"), "name": zh_en("name"), "detail": zh_en("detail", ctx='migrate:detail'),
    "nothing": zh_en("nothing to do"),
    "to_do": zh_en("{to_do} change(s) to make, {blocked} blocked"),
    "records": zh_en("cutover records — dry run (nothing changed)"),
    "record": zh_en("record"), "live": zh_en("live"), "expected": zh_en("expected (source)"),
    "new": zh_en("new (target)"), "absent": zh_en("(absent)"),
    "steps": zh_en("steps"), "changes": zh_en("changes"), "error": zh_en("error"),
    "batch": zh_en("batch"), "syncs": zh_en("syncs"), "last_change": zh_en("last change"),
    "failure": zh_en("failure"),
    "status": zh_en("{plan} — migration status — {approval}"),
    "torn": zh_en("the journal ends in a line cut short by a crash; it is ignored"),
    "run_title": zh_en("{plan} batch {batch}: run until {stage}"),
    "cutover_title": zh_en("{plan} batch {batch}: cutover"),
    "rollback_title": zh_en("{plan}: rollback"),
    "decommission_title": zh_en("{plan}: decommission"),
    "confirm_run": zh_en("carry out these changes?"),
    "confirm_cutover": zh_en("cut over {n} system(s) of batch {batch} now? Their source services will be stopped and "
                        "their databases closed to application writes."),
    "confirm_rollback": zh_en("roll back {system}?"),
    "confirm_rollback_remove": zh_en("roll back {system} and remove its cloud servers?"),
    "confirm_decommission": zh_en("record {system}'s source as decommissioned?"),
    "failback_title": zh_en("{plan}: failback"),
    "confirm_failback": zh_en("fail {system} back to its source? The target is frozen for the final copy, then the "
                              "record moves back to the source."),
    "failback_plan": zh_en("failback of {system} ({state}): record {record} {expected} → {new} (live {live})"),
    "replication": zh_en("replication", ctx='migrate:replication'), "dump": zh_en("dump"),
    "confirm_release": zh_en("give up this plan's claim of {system}? Another plan may then migrate it."),
    "released": zh_en("{plan}: released {system} (another plan may now migrate it)"),
    "not_claimed": zh_en("{plan} does not hold {system}: nothing to release"),
    "resources_left": zh_en("the journal still records these cloud resources of {system}: {resources}"),
    "held_by": zh_en("{system} is being run now by pid {pid} ({user}@{host}, `{command}`, since {since})"),
    "rehearsal": zh_en("rehearsal", ctx="migrate:column"),
    "rehearsed": zh_en("rehearsed {at}: {status}"),
    "rehearsal_window": zh_en("projected cutover window {window}"),
    "rehearsal_timings": zh_en("provision {provision}, seed {seed}, start {start}, verify {verify}"),
    "rehearsal_count": zh_en("{n} rehearsal(s)"),
    "failed_back": zh_en("failed back {at}"),
    "failback_failed": zh_en("failback failed {at}: {reason}"),
    "failback_evidence": zh_en("{tables} table(s) and {trees} data tree(s) equal on the source"),
    "rehearse_title": zh_en("{plan} batch {batch}: rehearsal in an isolated network"),
    "rehearse_dry_title": zh_en("{plan} batch {batch}: rehearsal — dry run (nothing changed)"),
    "rh_network": zh_en("isolated network"), "rh_clones": zh_en("clones (from the synced target)"),
    "rh_checks": zh_en("checks"), "rh_leftovers": zh_en("left by earlier rehearsals (removed first)"),
    "rh_refused": zh_en("refused"),
}
# a rehearsal's outcome, as `migrate status` prints it
_REHEARSAL: dict[str, tuple[str, str]] = {
    "ok": zh_en("passed", ctx="rehearsal"), "fail": zh_en("failed", ctx="rehearsal"),
    "start": zh_en("interrupted", ctx="rehearsal"), "cleaned": zh_en("cleaned up", ctx="rehearsal"),
}

# the change set's actions and the records' actions, in the user's language
_ACTIONS: dict[str, tuple[str, str]] = {
    "create": zh_en("create"), "adopt": zh_en("adopt"), "update": zh_en("update"),
    "attach": zh_en("attach"), "blocked": zh_en("blocked"), "run": zh_en("run"), "keep": zh_en("keep"),
    "switch": zh_en("switch"), "already": zh_en("already"), "conflict": zh_en("conflict"),
    "error": zh_en("error"), "clients": zh_en("clients"), "method": zh_en("method"),
    "path": zh_en("data path"),
}
_STYLE = {"create": "green", "adopt": "yellow", "update": "yellow", "attach": "yellow", "blocked": "red",
          "run": "cyan", "keep": "dim", "switch": "cyan", "already": "green", "conflict": "red", "error": "red"}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def action(code: str, lang: str) -> str:
    zh, en = _ACTIONS.get(code, (code, code))
    return zh if lang == "zh" else en


def _state(value: str, lang: str) -> str:
    from govcloud.migrate.lifecycle import State
    try:
        return State(value).label(lang)
    except ValueError:
        return value


def dry_run(report: dict[str, Any], lang: str) -> None:
    """The change set `migrate run --dry-run` prints (and `run` shows before asking)."""
    out = view.stdout()
    tab = Table(title=view.safe(msg("dry_run", lang, plan=report["plan"])), show_lines=False)
    for c in ("system", "state", "action", "kind", "name", "detail"):
        tab.add_column(msg(c, lang))
    for s in report["systems"]:
        if not s["changes"]:
            tab.add_row(s["system"], _state(s["state"], lang), "—", "", msg("nothing", lang), "")
        for n, c in enumerate(s["changes"] + s.get("databases", [])):
            tab.add_row(s["system"] if n == 0 else "", _state(s["state"], lang) if n == 0 else "",
                        Text(action(c["action"], lang), style=_STYLE.get(c["action"], "")), c["kind"],
                        view.safe(c["name"]), view.safe(localize(c["detail"], lang)))
    out.print(tab)
    for q in report["quota_problems"]:
        out.print(view.styled((f"✗ {view.clean(localize(q, lang))}", "red")))
    if "check" in report:
        for s, r in report["check"].items():
            out.print(view.safe(f"--check {s}: {r}"))
    out.print(msg("to_do", lang, to_do=report["to_do"], blocked=report["blocked"]))


def rehearsal_plan(specs: list[Any], title: str, lang: str) -> None:
    """`migrate rehearse --dry-run`: per system the isolated network, the clones it would create
    (from which synced target), the playbooks and checks, what earlier rehearsals left, or why it is
    refused (``specs``: migrate.rehearsal.RehearsalSpec)."""
    tab = Table(title=view.safe(title), show_lines=True)
    for c in ("system", "state", "rh_network", "rh_clones", "rh_checks", "rh_leftovers"):
        tab.add_column(msg(c, lang))
    for s in specs:
        clones = "\n".join(f"{c.name} ← {c.target_name} ({c.target_address or '?'}) {c.flavor or ''} {c.image or ''}"
                           for c in s.clones)
        left = "\n".join(f"{v.get('kind')} {v.get('name') or v.get('id')} ({v.get('rehearsal') or '?'})"
                         for v in s.leftovers.values()) or "—"
        checks = "\n".join([", ".join(s.playbooks)] + s.checks)
        tab.add_row(s.system, _state(s.state, lang), view.safe(s.network or "—"), view.safe(clones),
                    view.safe(checks), view.safe(left))
        if s.problems:
            tab.add_row("", Text(msg("rh_refused", lang), style="red"),
                        Text(view.clean("; ".join(localize(p, lang) for p in s.problems)), style="red"), "", "", "")
    view.stdout().print(tab)


def records(rows: list[dict[str, Any]], lang: str) -> None:
    """`migrate cutover --dry-run`: each record with its live value and the change."""
    out = view.stdout()
    tab = Table(title=msg("records", lang))
    for c in ("system", "record", "live", "expected", "new", "action"):
        tab.add_column(msg(c, lang))
    for r in rows:
        live = "—" if r.get("live") is None else (", ".join(r["live"]) or msg("absent", lang)) + (
            f" TTL {r['ttl']}" if r.get("ttl") is not None else "")
        tab.add_row(r["system"], view.safe(r["record"]), view.safe(live), view.safe(", ".join(r["expected"])),
                    view.safe(", ".join(r["new"])),
                    Text(view.clean(action(r["action"], lang) + (f": {localize(r['detail'], lang)}" if r.get("detail") else "")),
                         style=_STYLE.get(r["action"], "")))
    out.print(tab)


def results(results: list[Any], title: str, lang: str) -> None:
    """What a run, cutover, rollback or decommission did, per system."""
    tab = Table(title=view.safe(title))
    for c in ("system", "state", "steps", "changes", "error"):
        tab.add_column(msg(c, lang))
    for r in results:
        tab.add_row(r.system, _state(r.state, lang), ", ".join(r.steps) or "—", view.safe("; ".join(localize(c, lang) for c in r.changed) or "—"),
                    Text(view.clean(localize(r.error, lang)), style="red") if r.error else "")
    view.stdout().print(tab)


def replication_cell(rep: dict[str, Any], lang: str) -> str:
    """Per database: its method, and for replication the last measured state and lag with its time;
    for dump/restore why it cannot replicate."""
    from govcloud.migrate import replication as R
    status = {f"{x['engine']}/{x['name']}": R.ReplicationStatus.from_plain(x) for x in rep.get("status") or []}
    out = []
    for d in (R.MethodDecision.from_plain(x) for x in rep.get("methods") or []):
        if d.method is R.Method.replication and d.key in status:
            out.append(status[d.key].text(lang))
        elif d.method is R.Method.replication:
            out.append(f"{d.key} {msg('replication', lang)}")
        else:
            out.append(f"{d.key} {msg('dump', lang)}: {d.why(lang)}")
    return "\n".join(out)


def secs(v: Any) -> str:
    return "" if not isinstance(v, (int, float)) or isinstance(v, bool) else f"{v:.1f} s"


def detail_line(r: dict[str, Any], lg: str) -> Text:
    """One system's sync and downtime figures: the last delta and whether deltas converge, the
    projected window, the approved one, the measured downtime (flagged over the window) and why a
    cutover was forced."""
    from govcloud.migrate.syncstats import human_bytes
    line = Text(f"  {r['system']}: ")
    parts: list[Text] = []
    d = r["last_delta"]
    if d:
        conv = r["convergence"]["state"]
        parts.append(Text(f"{label('last_delta', lg)} {human_bytes(d['bytes_transferred'])} / {d['wall_s']:.1f} s"
                          f" ({d['files_transferred']} {label('files', lg)})"
                          + (f", {label('conv_' + conv, lg)}" if conv != "unknown" else "")))
    cut = r["cutover_projection"] if r["cutover_at"] or r["downtime_s"] is not None else None
    proj = cut or r["projection"]
    if secs(proj.get("total_s")):
        parts.append(Text(f"{label('projected_downtime', lg)} {secs(proj.get('total_s'))}"))
    if r["approved_downtime_s"] is not None:
        parts.append(Text(f"{label('approved_window', lg)} {secs(r['approved_downtime_s'])}"))
    if r["downtime_s"] is not None:
        m = Text(f"{label('downtime', lg)} {secs(r['downtime_s'])}")
        if r["over_window"]:
            m.append(f" ⚠ {label('over_window', lg)}", style="bold red")
        parts.append(m)
    if r["forced_reason"]:
        parts.append(Text(f"{label('forced', lg)}: {view.clean(r['forced_reason'])}", style="yellow"))
    parts += rehearsal_parts(r, lg)
    return line + Text("; ").join(parts)


def rehearsal_cell(r: dict[str, Any], lg: str) -> Text:
    """The status table's rehearsal column: the newest rehearsal's day and outcome."""
    rh = r.get("rehearsals") or []
    if not rh:
        return Text("")
    last = rh[-1]
    ok = r.get("last_rehearsal")
    status = "ok" if last.get("ok") else last.get("status", "")
    cell = Text(f"{(last.get('at') or '')[:10]} {action_text(_REHEARSAL, status, lg)}",
                style="green" if last.get("ok") else "red" if status in ("fail", "start") else "")
    if ok is not None and ok is not last:
        cell.append(f" ({msg('rehearsed', lg, at=(ok.get('at') or '')[:10], status=action_text(_REHEARSAL, 'ok', lg))})")
    return cell


def action_text(table: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    zh, en = table.get(code, (code, code))
    return zh if lang == "zh" else en


def rehearsal_parts(r: dict[str, Any], lg: str) -> list[Text]:
    """The detail line's rehearsal and failback figures: the last rehearsal's outcome, its timings
    and projected cutover window; each failback with what it proved equal (or why it failed)."""
    parts: list[Text] = []
    rh = r.get("rehearsals") or []
    if rh:
        last = rh[-1]
        status = "ok" if last.get("ok") else last.get("status", "")
        m = Text(msg("rehearsed", lg, at=(last.get("at") or "")[:16], status=action_text(_REHEARSAL, status, lg)),
                 style="" if last.get("ok") else "red")
        if last.get("reason"):
            m.append(f" ({view.clean(str(last['reason']))[:120]})")
        parts.append(m)
        tm = last.get("timings") or {}
        if tm:
            parts.append(Text(msg("rehearsal_timings", lg, **{k: secs(tm.get(f"{k}_s")) or "-"
                                                              for k in ("provision", "seed", "start", "verify")})))
        if last.get("projected_window_s") is not None:
            parts.append(Text(msg("rehearsal_window", lg, window=secs(last["projected_window_s"]))))
        if len(rh) > 1:
            parts.append(Text(msg("rehearsal_count", lg, n=len(rh))))
    for fb in r.get("failbacks") or []:
        at = (fb.get("at") or "")[:16]
        if fb.get("status") == "ok":
            m = Text(msg("failed_back", lg, at=at), style="yellow")
            if fb.get("tables") or fb.get("trees"):
                m.append(" — " + msg("failback_evidence", lg, tables=fb.get("tables", 0), trees=fb.get("trees", 0)))
            parts.append(m)
        else:
            parts.append(Text(msg("failback_failed", lg, at=at, reason=view.clean(str(fb.get("reason") or ""))[:160]),
                              style="red"))
    return parts



def status(st: Any, approval: str, batch: str | None, lang: str) -> None:
    """`migrate status` (``st``: usecases.migrate.MigrationStatus; ``approval``: the plan's approval
    line): one row per system, the replication column only when a sync measured something, a line of
    sync and downtime figures per system that has them, the counts per state."""
    from govcloud.migrate.lifecycle import State
    rows, lg = st.systems, lang
    tab = Table(title=view.safe(msg("status", lg, plan=st.plan.plan_id, approval=approval)))
    with_repl = any(r["replication"]["methods"] or r["replication"]["status"] for r in rows)
    with_rh = any(r.get("rehearsals") for r in rows)
    cols = [msg("batch", lg), msg("system", lg), msg("name", lg), msg("state", lg), msg("syncs", lg),
            label("downtime", lg)] + ([label("replication", lg)] if with_repl else []) + (
            [msg("rehearsal", lg)] if with_rh else []) + [msg("last_change", lg), msg("failure", lg)]
    for c in cols:
        tab.add_column(c)
    details = []
    for r in rows:
        if r["state"] == "pending" and not batch and len(rows) > 60:
            continue
        down = Text(secs(r.get("downtime_s")))
        if r["over_window"]:
            down.append(" ⚠", style="bold red")
        tab.add_row(r["batch"], r["system"], view.safe(r["name"]), State(r["state"]).label(lg), str(r["syncs"]),
                    down, *((replication_cell(r["replication"], lg),) if with_repl else ()),
                    *((rehearsal_cell(r, lg),) if with_rh else ()),
                    f"{r['at'] or ''} {r['who'] or ''}".strip(),
                    view.safe(f"{r['failed_step']}: {r['reason']}") if r["failed_step"] else "")
        if r["sync_runs"] or r["downtime_s"] is not None or r["cutover_projection"] or r["state"] == "synced" \
                or r.get("rehearsals") or r.get("failbacks"):
            details.append(detail_line(r, lg))
    out = view.stdout()
    out.print(tab)
    for line in details:
        out.print(line, highlight=False, soft_wrap=True)
    for r in rows:
        h = r.get("held_by")
        if h:
            out.print(view.safe(msg("held_by", lg, system=r["system"], **h)), highlight=False, soft_wrap=True)
    out.print("  ".join(f"{State(k).label(lg)} {v}" for k, v in sorted(st.counts.items())))
    if st.torn_tail:
        out.print(msg("torn", lg), style="yellow")


def state_moved(result: Any, lang: str) -> None:
    """What ``migrate state-move`` did, in one or two lines."""
    from govcloud.base.i18n import Msg
    out = view.stdout()
    if result.journal_moved:
        line = Msg("plan {plan}: {entries} journal entries and {claims} claims moved from {src} to {dst} "
                   "(verified, sha256 {digest})", plan=result.plan_id, entries=result.entries,
                   claims=len(result.claims), src=result.source, dst=result.target, digest=result.digest[:16])
    else:
        line = Msg("plan {plan}: {claims} claims moved from {src} to {dst}; its journal ({entries} entries) stays "
                   "in the plan directory", plan=result.plan_id, entries=result.entries, claims=len(result.claims),
                   src=result.source, dst=result.target)
    out.print(view.styled((f"✓ {view.clean(localize(line, lang))}", "green")), soft_wrap=True)
    if result.resumed:
        out.print(view.safe(localize(Msg("an interrupted move was completed"), lang)))
    if result.archived:
        out.print(view.safe(localize(Msg("the source journal was kept as {path}", path=result.archived), lang)))


def released(result: Any, lang: str) -> None:
    """`migrate release`: whether the plan gave the system up, and what the journal still records."""
    out = view.stdout()
    key = "released" if result.had_claim else "not_claimed"
    out.print(view.safe(msg(key, lang, plan=result.plan_id, system=result.system)), highlight=False)
    if result.resources_left:
        out.print(view.styled((view.clean(msg("resources_left", lang, system=result.system,
                                              resources=", ".join(result.resources_left))), "yellow")))
