"""``govcloud compliance …``: MLPS 2.0 (等保 2.0) host checks and the baseline playbook.

Thin wiring: parse, call ``usecases.compliance.check`` (targets → facts over SSH → pure
evaluation → the files asked for), render (compliance.render).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import tr
from govcloud.compliance.render import render_table, to_document
from govcloud.errors import ExitCode
from govcloud.render.progress import progress_for
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.views import compliance as views
from govcloud.usecases import compliance as uc

app = typer.Typer(help=tr("MLPS compliance", "zh") + " — MLPS 2.0 host checks (read-only, over SSH) and the baseline playbook.",
                  no_args_is_help=True)

LangOpt = typer.Option(Lang.zh, "--lang", help="Language of the tables and messages.", envvar="GOVCLOUD_LANG")


class Level(str, Enum):
    two = "2"
    three = "3"


@app.command("check")
def check_cmd(
    inventory: Optional[Path] = typer.Argument(None, help="govcloud inventory directory (hosts = its servers)."),
    system: Optional[str] = typer.Option(None, "--system", help="Only this system's servers; its MLPS level is the default --level."),
    hosts: Optional[str] = typer.Option(None, "--hosts", help="Ansible host pattern over --inventory-file (all, h4*, web,!h40)."),
    level: Optional[Level] = typer.Option(None, "--level", help="MLPS level to check against (2 or 3)."),
    inventory_file: Optional[Path] = typer.Option(None, "--inventory-file", "-i", help="Ansible INI inventory: addresses, users, keys, ssh_config."),
    user: Optional[str] = typer.Option(None, "--user", help="SSH user (sudo -n is used unless root)."),
    identity: Optional[Path] = typer.Option(None, "--identity", help="SSH private key file (key auth only)."),
    known_hosts: Optional[Path] = typer.Option(None, "--known-hosts", help="known_hosts for strict host-key checking (default ~/.ssh/known_hosts)."),
    threshold: list[str] = typer.Option([], "--threshold", "-t", help="Override a threshold: KEY=VALUE (repeatable)."),
    facts: Optional[Path] = typer.Option(None, "--facts", help="Evaluate recorded facts (from --facts-out) instead of connecting."),
    facts_out: Optional[Path] = typer.Option(None, "--facts-out", help="Also save the collected facts (no secrets) as JSON."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the findings to FILE (.json, .csv; .xlsx if openpyxl is installed)."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
    failures_only: bool = typer.Option(False, "--failures-only", help="Table: hide pass and not-applicable rows."),
    workers: int = typer.Option(16, "--workers", min=1, max=256, help="Hosts checked at the same time."),
    timeout: float = typer.Option(180.0, "--timeout", min=5, help="Seconds per host for the whole collection."),
    lang: Lang = LangOpt,
) -> None:
    """Check hosts against the MLPS level-2/3 computing-environment controls (read-only).

    Exit 0: no 不符合 and no 检查错误; 1: at least one finding is 不符合 (fail);
    3: no fail but some host or check could not be evaluated (error).
    """
    req = uc.CheckRequest(inventory=inventory, system=system, hosts=hosts, level=int(level.value) if level else None,
                          inventory_file=inventory_file, user=user, identity=identity, known_hosts=known_hosts,
                          threshold=threshold, facts=facts, facts_out=facts_out, out=out, workers=workers,
                          timeout=timeout, lang=lang.value)
    with progress_for(output, lang.value) as progress:
        done = uc.check(req, progress=progress)
    if output is Output.json:
        view.print_json(to_document(done.reports, done.level, done.thresholds, lang.value))
    else:
        render_table(done.reports, view.stdout(), lang.value, show_pass=not failures_only)
    if done.exit_code is not ExitCode.OK:
        raise typer.Exit(done.exit_code)


@app.command("checks")
def checks_cmd(output: Output = typer.Option(Output.text, "--output", "-o"), lang: Lang = LangOpt) -> None:
    """List every check with its clauses and levels."""
    from govcloud.compliance.checks import CHECKS
    data = [{"check_id": c.id, "title": c.title, "title_en": c.title_en, "levels": list(c.levels),
             "clauses": {str(k): f"GB/T 22239-2019 {v}" for k, v in c.clauses.items()}} for c in CHECKS]
    if output is Output.json:
        view.print_json(data)
        return
    views.checks(data, lang.value)


@app.command("baseline")
def baseline_cmd(
    hosts: str = typer.Option(..., "--hosts", help="Ansible host pattern (--limit)."),
    inventory_file: Path = typer.Option(..., "--inventory-file", "-i", help="Ansible inventory."),
    level: Level = typer.Option(Level.three, "--level"),
    check: bool = typer.Option(False, "--check", help="Ansible check mode: report what would change, change nothing."),
    extra: list[str] = typer.Option([], "--var", "-e", help="Role variable KEY=VALUE (govcloud_* only)."),
    artifacts: Optional[Path] = typer.Option(None, "--artifacts", help="Keep the ansible-runner directory here."),
    output: Output = typer.Option(Output.text, "--output", "-o"),
    lang: Lang = LangOpt,
) -> None:
    """Bring hosts to the MLPS baseline with playbooks/mlps_baseline.yml (idempotent; --check for a dry run)."""
    run = uc.baseline(hosts, inventory_file, level=int(level.value), check=check, extra=extra, artifacts=artifacts)
    data = {"rc": run.rc, "status": run.status, "check_mode": check, "stats": run.stats,
            "changed_tasks": run.changed_tasks, "failed_tasks": run.failed_tasks, "reports": run.messages,
            "artifacts": run.artifact_dir}
    if output is Output.json:
        view.print_json(data)
    else:
        views.baseline(run, lang.value)
    if not run.ok:
        raise typer.Exit(ExitCode.ERROR)
