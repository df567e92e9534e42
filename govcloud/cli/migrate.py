"""``govcloud migrate …``: run, rehearse, cutover, status, rollback, decommission an approved plan's batch.

Thin wiring: the guard (``usecases.approval.open_approved``: approved, unedited, inputs
unchanged, hard rules), the executor built by ``usecases.migrate``, a confirmation, then the step
(``usecases.migrate.run/cutover/rollback/decommission``, each under the locks of its systems);
status read by ``usecases.migrate.status``; tables, prompts and titles from
``render.views.migrate`` in the user's language.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator, Optional

import typer

from govcloud.base.i18n import Msg, localize, tr
from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.progress import progress_for
from govcloud.render.views import migrate as views
from govcloud.usecases import migrate as uc

app = typer.Typer(help=tr("migration", "zh") + " — carry out an approved plan: provision on OpenStack, sync, cut over, verify, roll back.",
                  no_args_is_help=True)

PlanArg = typer.Argument(..., metavar="PLAN", help="Plan directory (migration-plans/<id>) or its plan.yaml.")
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of tables, prompts and messages.", envvar="GOVCLOUD_LANG")
KeyOpt = typer.Option(None, "--key", help="SSH private key: loaded into a private ssh-agent for the run; its public "
                                         "part becomes the servers' keypair. Without it your own agent is used.")
SourceUserOpt = typer.Option("root", "--source-user", help="SSH user on source servers and clients (sudo -n if not root).")
TargetUserOpt = typer.Option("root", "--target-user", help="SSH user on the new cloud servers (sudo -n if not root).")
KnownOpt = typer.Option(None, "--known-hosts", help="known_hosts for sources and clients (strict; default ~/.ssh/known_hosts).")
TargetKnownOpt = typer.Option(None, "--target-known-hosts",
                              help="known_hosts for the new servers; default: the host keys the cloud publishes "
                                   "for them (server metadata or cloud-init console), recorded in runs/.")
CloudConfigOpt = typer.Option(None, "--cloud-config", envvar="OS_CLIENT_CONFIG_FILE", help="clouds.yaml to use.")
CloudOpt = typer.Option(None, "--cloud", help="Override the platforms' clouds.yaml entry.")
StateOpt = typer.Option(None, "--state", metavar="URL",
                        help="Where the journal, the per-system locks and the claims live: file: (this machine, the "
                             "default), file:///DIR, or postgresql://HOST/DB (shared by every operator). "
                             "Default: $GOVCLOUD_STATE, else file:.")
ParallelOpt = typer.Option(1, "--parallel", "-k", min=1, max=64, help="Systems (move groups) at once within the batch.")


def _stage(value: str) -> Any:
    from govcloud.migrate.lifecycle import RUN_STAGES, State
    try:
        s = State(value)
    except ValueError:
        s = None
    if s not in RUN_STAGES:
        raise UsageError(Msg("--until {value}: one of {stages}", value=repr(value),
                             stages=", ".join(x.value for x in RUN_STAGES)))
    return s


@contextmanager
def _violations_shown(lang: Lang) -> Iterator[None]:
    """A plan that breaks hard rules (``usecases.approval.PlanViolations``): its violations on stderr."""
    from govcloud.planning.rules import format_violation
    from govcloud.usecases.approval import PlanViolations
    try:
        yield
    except PlanViolations as exc:
        err = view.stderr()
        for v in exc.violations[:20]:
            err.print(view.safe(format_violation(v, lang.value)), highlight=False, soft_wrap=True)
        raise


def _open(plan_arg: Path, lang: Lang = Lang.zh, output: Output = Output.text):
    """The plan after every guard (usecases.approval.open_approved; a province's inventory takes
    seconds to read: progress on a terminal, closed before any confirmation prompt)."""
    from govcloud.usecases.approval import open_approved
    with _violations_shown(lang), progress_for(output, lang.value) as progress:
        opened = open_approved(plan_arg, lang.value, progress=progress)
    return opened.path, opened.plan, opened.inventory, opened.approval


def _covered(plan: Any, path: Path, inv: Any, items: list[Any], lang: Lang) -> None:
    """Every selected system's department and batch must be covered by a valid signature."""
    from govcloud.usecases.approval import require_covered
    require_covered(plan, path, inv, items, lang.value)


def _executor(path: Path, plan: Any, inv: Any, **options: Any):
    """The executor; it reports (steps, hosts, tasks, events) only while a step runs under
    :func:`_progress`."""
    return uc.executor(path, plan, inv, **options)


def _progress(output: Output, lang: Lang):
    """Bars per system on a terminal with the events above them; piped: the events as plain lines
    (a log of a long run); ``-o json``: nothing."""
    return progress_for(output, lang.value, notes=True)


def _results(results: list[Any], output: Output, title: str, lang: Lang) -> None:
    if output is Output.json:
        view.print_json({"results": [r.to_plain() for r in results]})
    else:
        views.results(results, title, lang.value)
    failed = [r for r in results if not r.ok]
    if failed:
        raise typer.Exit(int(ExitCode.ERROR if len(failed) == len(results) else ExitCode.PARTIAL))


@app.command()
def run(
    plan_arg: Path = PlanArg,
    batch: str = typer.Option(..., "--batch", "-b", help="Batch id (B01) or number (1)."),
    system: Optional[list[str]] = typer.Option(None, "--system", help="Only these systems (their move groups come along)."),
    parallel: int = ParallelOpt,
    until: str = typer.Option("synced", "--until", help="Stop after: prechecked, provisioned or synced."),
    resync: bool = typer.Option(False, "--resync", help="Run a delta sync for systems already synced."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read-only: snapshot the cloud and print the exact change set."),
    check: bool = typer.Option(False, "--check", help="With --dry-run: an Ansible --check --diff preflight on the sources."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="With --dry-run: 0 nothing to do, 2 changes, 1 error."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    cloud_config: Optional[Path] = CloudConfigOpt,
    cloud: Optional[str] = CloudOpt,
    bwlimit: int = typer.Option(0, "--bwlimit", min=0, help="rsync bandwidth limit in KiB/s per system (0: none)."),
    admin_cidr: Optional[list[str]] = typer.Option(None, "--admin-cidr", help="Where SSH to the new servers comes from (default: the zone network)."),
    apply_baseline: bool = typer.Option(False, "--apply-baseline", help="Apply the MLPS baseline role on the new servers while configuring."),
    replication: bool = typer.Option(True, "--replication/--no-replication",
                                     help="Continuous replication where the source allows it (PostgreSQL logical "
                                          "replication), else dump/restore; --no-replication: dump/restore only."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Precheck, provision, configure and sync a batch's systems (cutover is `migrate cutover`).
    Re-running resumes from the journal; existing cloud resources are adopted, never duplicated."""
    stage = _stage(until)
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=key, source_user=source_user, target_user=target_user,
                   known_hosts=known_hosts, target_known_hosts=target_known_hosts, cloud_config=cloud_config,
                   cloud=cloud, parallel=parallel, bwlimit=bwlimit, admin_cidr=admin_cidr,
                   apply_baseline=apply_baseline, replication=replication, state=state)
    items = ex.items_of(batch, system)
    _covered(plan, path, inv, items, lang)
    if dry_run:
        report = ex.dry_run(items, stage, resync=resync)
        if check:
            report.check = ex.preflight(items)
        if output is Output.json:
            view.print_json(report.to_plain())
        else:
            views.dry_run(report.to_plain(), lang.value)
        if report.blocked:
            raise typer.Exit(int(ExitCode.ERROR))
        if detailed_exitcode and report.to_do:
            raise typer.Exit(int(ExitCode.CHANGES))
        return
    if check or detailed_exitcode:
        raise UsageError(Msg("--check and --detailed-exitcode go with --dry-run"))
    if not yes:
        report = ex.dry_run(items, stage, resync=resync)
        views.dry_run(report.to_plain(), lang.value)
        if not report.to_do:
            return
        if not typer.confirm(views.msg("confirm_run", lang.value), default=False):
            raise typer.Exit(int(ExitCode.ERROR))
    with _progress(output, lang) as progress:
        results = uc.run(ex, items, stage, resync=resync, batch=batch, progress=progress)
    _results(results, output, views.msg("run_title", lang.value, plan=plan.plan_id, batch=batch,
                                        stage=stage.label(lang.value)), lang)


@app.command()
def cutover(
    plan_arg: Path = PlanArg,
    batch: str = typer.Option(..., "--batch", "-b", help="Batch id (B01) or number (1)."),
    system: Optional[list[str]] = typer.Option(None, "--system", help="Only these systems (their move groups come along)."),
    parallel: int = ParallelOpt,
    force: bool = typer.Option(False, "--force", help="Cut over outside the planned day, inside a freeze window, beyond the approved downtime or without the recent rehearsal the policy requires (needs --reason)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why the window is overridden (journaled)."),
    today: Optional[str] = typer.Option(None, "--today", hidden=True, help="The day to check windows against (tests)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read-only: each cutover record with its live value (read from its DNS server or load balancer) and the change."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    cloud_config: Optional[Path] = CloudConfigOpt,
    cloud: Optional[str] = CloudOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Stop the source services, close the source databases to application writes, final sync with
    row counts and content checksums compared, switch the record to the cloud, verify; the client's
    downtime is measured and journaled. Refused when the projected downtime exceeds the policy's
    approved window (thresholds.cutover_max_downtime_s), or when the policy requires a successful
    `migrate rehearse` no older than thresholds.rehearsal_max_age_days and a system has none, unless
    --force --reason. A failed cutover or verification rolls back at once (record back, source
    databases open, services started)."""
    if force and not (reason and reason.strip()):
        raise UsageError(Msg("--force needs --reason \"…\" (it is journaled)"))
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=key, source_user=source_user, target_user=target_user,
                   known_hosts=known_hosts, target_known_hosts=target_known_hosts, cloud_config=cloud_config,
                   cloud=cloud, parallel=parallel, state=state)
    items = ex.items_of(batch, system)
    _covered(plan, path, inv, items, lang)
    day = date.fromisoformat(today) if today else date.today()
    if dry_run:
        rows = ex.record_changes_live(items)
        if output is Output.json:
            view.print_json({"records": rows})
        else:
            views.records(rows, lang.value)
        return
    if not yes and not typer.confirm(views.msg("confirm_cutover", lang.value, n=len(items), batch=batch), default=False):
        raise typer.Exit(int(ExitCode.ERROR))
    with _progress(output, lang) as progress:
        results = uc.cutover(ex, items, today=day, force_reason=reason.strip() if force and reason else None,
                             batch=batch, progress=progress)
    _results(results, output, views.msg("cutover_title", lang.value, plan=plan.plan_id, batch=batch), lang)


@app.command()
def rehearse(
    plan_arg: Path = PlanArg,
    batch: str = typer.Option(..., "--batch", "-b", help="Batch id (B01) or number (1)."),
    system: Optional[list[str]] = typer.Option(None, "--system", help="Only these systems (their move groups come along)."),
    keep: bool = typer.Option(False, "--keep", help="Leave the clones running for inspection (the next rehearsal "
                                                   "of the system removes them)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read-only: what the rehearsal would create and check."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    cloud_config: Optional[Path] = CloudConfigOpt,
    cloud: Optional[str] = CloudOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Rehearse the cutover of synced systems: clone each synced target onto the zone's isolated
    rehearsal network, seed the clone from the synced target (read-only; never from the source),
    start its services and run the verify checks, timed; the projected cutover window is shown and
    journaled. No record is switched; the clones are removed afterwards (unless --keep), a failed
    rehearsal's too. Exit 0: rehearsed; 1: refused (nothing created) or every rehearsal failed;
    3: some failed (as `migrate run`)."""
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=key, source_user=source_user, target_user=target_user,
                   known_hosts=known_hosts, target_known_hosts=target_known_hosts, cloud_config=cloud_config,
                   cloud=cloud, state=state)
    items = ex.items_of(batch, system)
    _covered(plan, path, inv, items, lang)
    if dry_run:
        specs = ex.rehearsal_specs(items)
        if output is Output.json:
            view.print_json({"plan": plan.plan_id, "systems": [s.to_plain() for s in specs]})
        else:
            views.rehearsal_plan(specs, views.msg("rehearse_dry_title", lang.value, plan=plan.plan_id, batch=batch),
                                 lang.value)
        if any(s.problems for s in specs):
            raise typer.Exit(int(ExitCode.ERROR))
        return
    with _progress(output, lang) as progress:
        results = uc.rehearse(ex, items, keep=keep, batch=batch, progress=progress)
    _results(results, output, views.msg("rehearse_title", lang.value, plan=plan.plan_id, batch=batch), lang)


def _item(plan: Any, system: str) -> Any:
    item = next((i for i in plan.items() if i.system == system), None)
    if item is None:
        raise GovcloudError(Msg("system {system} is not in a batch of {plan}", system=repr(system), plan=plan.plan_id))
    return item


@app.command()
def rollback(
    plan_arg: Path = PlanArg,
    system: str = typer.Option(..., "--system", help="The system to roll back."),
    keep_target: bool = typer.Option(False, "--keep-target", help="Keep the cloud servers/volumes (default: remove them)."),
    reason: str = typer.Option("manual rollback", "--reason", help="Why (journaled)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    cloud_config: Optional[Path] = CloudConfigOpt,
    cloud: Optional[str] = CloudOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Switch the record back to the source and start its services again (if it was cut over),
    then remove the target resources unless --keep-target."""
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=key, source_user=source_user, target_user=target_user,
                   known_hosts=known_hosts, target_known_hosts=target_known_hosts, cloud_config=cloud_config,
                   cloud=cloud, state=state)
    item = _item(plan, system)
    _covered(plan, path, inv, [item], lang)
    if not yes and not typer.confirm(views.msg("confirm_rollback" if keep_target else "confirm_rollback_remove",
                                               lang.value, system=system), default=False):
        raise typer.Exit(int(ExitCode.ERROR))
    with _progress(output, lang) as progress:
        result = uc.rollback(ex, item, keep_target=keep_target, reason=reason, progress=progress)
    _results([result], output, views.msg("rollback_title", lang.value, plan=plan.plan_id), lang)


@app.command()
def failback(
    plan_arg: Path = PlanArg,
    system: str = typer.Option(..., "--system", help="The system to bring back to its source."),
    reason: str = typer.Option(..., "--reason", help="Why (journaled)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Read-only: the preconditions, the steps and the record's live value."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    cloud_config: Optional[Path] = CloudConfigOpt,
    cloud: Optional[str] = CloudOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """During the soak (cutover, verified or done): copy what the target holds back to the source
    (bulk while it serves, then frozen: final delta), prove nothing is lost (row counts, per-table
    checksums, tree manifests), switch the record back (compare-and-swap) and start the source. Any
    difference or a record that is not the target's opens the target again and changes nothing.
    Running it again resumes. Unlike `migrate rollback`, the target's writes are kept."""
    if not reason.strip():
        raise UsageError(Msg("--reason must not be empty (it is journaled)"))
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=key, source_user=source_user, target_user=target_user,
                   known_hosts=known_hosts, target_known_hosts=target_known_hosts, cloud_config=cloud_config,
                   cloud=cloud, state=state)
    item = _item(plan, system)
    _covered(plan, path, inv, [item], lang)
    if dry_run:
        row = uc.failback_plan(ex, item)
        if output is Output.json:
            view.print_json({"failback": row})
        else:
            out = view.stdout()
            out.print(views.msg("failback_plan", lang.value, system=row["system"], state=row["state"],
                                record=row["record"] or "-", expected=row["expected"], new=row["new"],
                                live=row.get("live", "?")), highlight=False)
            for step in row["steps"]:
                out.print(localize(step, lang.value), highlight=False)
        return
    if not yes and not typer.confirm(views.msg("confirm_failback", lang.value, system=system), default=False):
        raise typer.Exit(int(ExitCode.ERROR))
    with _progress(output, lang) as progress:
        result = uc.failback(ex, item, reason=reason.strip(), progress=progress)
    _results([result], output, views.msg("failback_title", lang.value, plan=plan.plan_id), lang)


@app.command()
def decommission(
    plan_arg: Path = PlanArg,
    system: str = typer.Option(..., "--system", help="The migrated system whose source is retired."),
    soak_days: int = typer.Option(30, "--soak-days", min=0, help="Days the system must have run on the cloud first."),
    reason: str = typer.Option(..., "--reason", help="Why, and who decided (journaled)."),
    today: Optional[str] = typer.Option(None, "--today", hidden=True),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    cloud_config: Optional[Path] = CloudConfigOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Record the source as decommissioned after the soak period, once every health URL of the
    target answers 200. govcloud never deletes source data; wiping the old servers is a separate,
    signed-off procedure."""
    path, plan, inv, _state = _open(plan_arg, lang, output)
    ex = _executor(path, plan, inv, key=None, source_user="root", target_user="root", known_hosts=None,
                   target_known_hosts=None, cloud_config=cloud_config, cloud=None, state=state)
    item = _item(plan, system)
    _covered(plan, path, inv, [item], lang)
    if not yes and not typer.confirm(views.msg("confirm_decommission", lang.value, system=system), default=False):
        raise typer.Exit(int(ExitCode.ERROR))
    result = uc.decommission(ex, item, soak_days=soak_days, reason=reason,
                             today=date.fromisoformat(today) if today else date.today())
    _results([result], output, views.msg("decommission_title", lang.value, plan=plan.plan_id), lang)


@app.command()
def status(
    plan_arg: Path = PlanArg,
    batch: Optional[str] = typer.Option(None, "--batch", "-b", help="Only this batch."),
    probe: bool = typer.Option(False, "--probe", help="Measure replication state and lag now (read-only, over SSH; "
                                                     "journaled) instead of showing the last measurement."),
    key: Optional[Path] = KeyOpt,
    source_user: str = SourceUserOpt,
    target_user: str = TargetUserOpt,
    known_hosts: Optional[Path] = KnownOpt,
    target_known_hosts: Optional[Path] = TargetKnownOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Per-system state from the journal: where each system is, who moved it last and why it failed;
    per database its method and replication state and lag (last measured, with its time; live with
    --probe); the last delta sync (bytes, time) and whether deltas converge; the projected cutover
    window, the approved one and the downtime the client measured (over the window: flagged)."""
    probe_with = dict(key=key, source_user=source_user, target_user=target_user, known_hosts=known_hosts,
                      target_known_hosts=target_known_hosts, cloud_config=None, cloud=None) if probe else None
    with _violations_shown(lang), _progress(output, lang) as progress:
        st = uc.status(Path(plan_arg), batch, probe=probe_with, lang=lang.value, progress=progress, state=state)
    if output is Output.json:
        view.print_json(st.to_plain())
        return
    from govcloud.usecases import approval as approvals
    views.status(st, approvals.describe_plan(st.plan_state, lang.value), batch, lang.value)


@app.command("state-move")
def state_move(
    plan_arg: Path = PlanArg,
    from_url: str = typer.Option(..., "--from", help="The state that holds the plan now: file:, file:///DIR or "
                                                     "postgresql://USER@HOST:PORT/DB?passfile=FILE."),
    to_url: str = typer.Option(..., "--to", help="The state to move it to (one that does not hold the plan)."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """Move a plan's journal and claims from one state backend to another (files ↔ PostgreSQL): refused while
    any system of the plan is locked or when the destination already holds the plan; verified (entry count
    and digest) before the source gives the plan up; all or nothing on both sides. Run again after an
    interruption: it completes the move."""
    from govcloud.usecases import state_move as sm
    result = sm.move(Path(plan_arg), from_url, to_url)
    if output is Output.json:
        view.print_json(result.to_plain())
        return
    views.state_moved(result, lang.value)


@app.command()
def release(
    plan_arg: Path = PlanArg,
    system: str = typer.Option(..., "--system", help="The system this plan gives up."),
    reason: str = typer.Option(..., "--reason", help="Why, and who decided (journaled)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    state: Optional[str] = StateOpt,
) -> None:
    """Give up this plan's claim of a system (journaled), so another plan may migrate it. A rollback
    that removed the system's cloud resources releases it by itself; this is the explicit case
    (e.g. after `migrate rollback --keep-target` and removing the servers by hand). Resources the
    journal still records are named; while the cloud holds servers of this plan for the system,
    another plan's run still refuses to create its own."""
    if not yes and not typer.confirm(views.msg("confirm_release", lang.value, system=system), default=False):
        raise typer.Exit(int(ExitCode.ERROR))
    result = uc.release(Path(plan_arg), system, reason=reason, state=state)
    if output is Output.json:
        view.print_json(result.to_plain())
        return
    views.released(result, lang.value)
