"""``govcloud compliance …``: MLPS 2.0 (等保 2.0) host checks and the baseline playbook.

Thin wiring: targets (compliance.targets) → one fact-collection run per host over SSH
(drivers.ssh) → pure evaluation (compliance.checks) → renderer (compliance.render).
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.compliance.collect import assess, collect
from govcloud.compliance.facts import load_facts
from govcloud.compliance.model import ComplianceThresholds, Status
from govcloud.compliance.render import render_table, to_document, write_file
from govcloud.compliance.targets import AnsibleInventory, read_ansible_ini, select, target_for
from govcloud.drivers.ssh import SshTarget
from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.render import console as view
from govcloud.render.console import Lang, Output

app = typer.Typer(help="等保合规 — MLPS 2.0 host checks (read-only, over SSH) and the baseline playbook.",
                  no_args_is_help=True)

REPO = Path(__file__).resolve().parents[2]
BASELINE_PLAYBOOK = REPO / "playbooks" / "mlps_baseline.yml"


class Level(str, Enum):
    two = "2"
    three = "3"


def _thresholds(policy, pairs: list[str]) -> ComplianceThresholds:
    overrides = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise UsageError(f"--threshold expects KEY=VALUE, got {p!r}")
        overrides[k.strip()] = v.strip()
    try:
        return ComplianceThresholds.from_policy(policy, overrides)
    except KeyError as exc:
        raise UsageError(f"unknown threshold {exc.args[0]!r}",
                         hint="known: " + ", ".join(ComplianceThresholds.field_names())) from None
    except ValueError as exc:
        raise UsageError(f"bad threshold value: {exc}") from None


def _inventory_targets(path: Path, system: str | None, ini: AnsibleInventory | None, user, key, known_hosts):
    from govcloud.inventory.loader import load_inventory
    result = load_inventory(path)
    if result.errors:
        raise GovcloudError(f"the inventory has {len(result.errors)} error(s)",
                            hint=f"run `govcloud inventory validate {path}`")
    inv = result.inventory
    if system is not None:
        if system not in inv.systems:
            raise GovcloudError(f"no system {system!r} in {path}")
        sysrec = inv.systems[system]
        server_ids, level = list(sysrec.servers), sysrec.mlps_level
    else:
        server_ids, level = list(inv.servers), None
    targets = []
    for sid in server_ids:
        srv = inv.servers.get(sid)
        if srv is None:
            continue
        hv = None
        if ini is not None:
            hv = ini.hosts.get(srv.hostname) or ini.hosts.get(srv.id)
        if hv is not None:
            name = srv.hostname if srv.hostname in ini.hosts else srv.id
            targets.append(target_for(name, hv, user=user, key=key, known_hosts=known_hosts))
        else:
            addr = srv.mgmt_ip or (srv.ips[0] if srv.ips else srv.hostname)
            targets.append(SshTarget(name=srv.hostname, host=addr, user=user or "root", key_filename=key,
                                     known_hosts=known_hosts))
    return targets, level, inv.policy()


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
    lang: Lang = typer.Option(Lang.zh, "--lang", envvar="GOVCLOUD_LANG"),
) -> None:
    """Check hosts against the MLPS level-2/3 computing-environment controls (read-only).

    Exit 0: no 不符合 and no 检查错误; 1: at least one finding is 不符合 (fail);
    3: no fail but some host or check could not be evaluated (error).
    """
    ini = read_ansible_ini(inventory_file) if inventory_file else None
    k = str(identity) if identity else None
    kh = str(known_hosts) if known_hosts else None
    policy, default_level, targets = None, None, []
    if facts is not None:
        recorded = load_facts(facts)
    elif inventory is not None:
        if hosts:
            raise UsageError("give either INVENTORY [--system] or --hosts, not both")
        targets, default_level, policy = _inventory_targets(inventory, system, ini, user, k, kh)
    elif hosts:
        if ini is None:
            raise UsageError("--hosts needs --inventory-file (an Ansible INI inventory)")
        names = select(ini, hosts)
        if not names:
            raise GovcloudError(f"no host in {inventory_file} matches {hosts!r}")
        targets = [target_for(n, ini.hosts[n], user=user, key=k, known_hosts=kh) for n in names]
    else:
        raise UsageError("name the hosts: INVENTORY [--system ID], or --hosts PATTERN --inventory-file FILE, or --facts FILE")
    lvl = int(level.value) if level else default_level
    if lvl not in (2, 3):
        raise UsageError("--level 2 or 3 is required" + (f" (system {system} has MLPS level {default_level})" if system else ""))
    th = _thresholds(policy, threshold)
    if facts is None:
        if not targets:
            raise GovcloudError("no hosts to check")
        err = view.stderr()
        err.print(f"collecting facts from {len(targets)} host(s) …")
        recorded = collect(targets, workers=workers, timeout=timeout)
    if facts_out is not None:
        facts_out.write_text(json.dumps({"hosts": [f.to_plain() for f in recorded]}, ensure_ascii=False, indent=1),
                             encoding="utf-8")
    reports = assess(recorded, lvl, th)
    if out is not None:
        try:
            write_file(out, reports, lvl, th, lang.value)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if output is Output.json:
        view.print_json(to_document(reports, lvl, th))
    else:
        render_table(reports, view.stdout(), lang.value, show_pass=not failures_only)
    statuses = {f.status for r in reports for f in r.findings}
    if Status.fail in statuses:
        raise typer.Exit(ExitCode.ERROR)
    if Status.error in statuses or any(r.error for r in reports):
        raise typer.Exit(ExitCode.PARTIAL)


@app.command("checks")
def checks_cmd(output: Output = typer.Option(Output.text, "--output", "-o")) -> None:
    """List every check with its clauses and levels."""
    from govcloud.compliance.checks import CHECKS
    data = [{"check_id": c.id, "title": c.title, "title_en": c.title_en, "levels": list(c.levels),
             "clauses": {str(k): f"GB/T 22239-2019 {v}" for k, v in c.clauses.items()}} for c in CHECKS]
    if output is Output.json:
        view.print_json(data)
        return
    con = view.stdout()
    for d in data:
        con.print(f"{d['check_id']:24} L{'/'.join(map(str, d['levels'])):5} {d['title']}  "
                  + "  ".join(f"L{k}: {v}" for k, v in d["clauses"].items()))


@app.command("baseline")
def baseline_cmd(
    hosts: str = typer.Option(..., "--hosts", help="Ansible host pattern (--limit)."),
    inventory_file: Path = typer.Option(..., "--inventory-file", "-i", help="Ansible inventory."),
    level: Level = typer.Option(Level.three, "--level"),
    check: bool = typer.Option(False, "--check", help="Ansible check mode: report what would change, change nothing."),
    extra: list[str] = typer.Option([], "--var", "-e", help="Role variable KEY=VALUE (govcloud_* only)."),
    artifacts: Optional[Path] = typer.Option(None, "--artifacts", help="Keep the ansible-runner directory here."),
    output: Output = typer.Option(Output.text, "--output", "-o"),
) -> None:
    """Bring hosts to the MLPS baseline with playbooks/mlps_baseline.yml (idempotent; --check for a dry run)."""
    from govcloud.drivers.ansible import run_playbook
    ev = {"govcloud_mlps_level": int(level.value)}
    for p in extra:
        k, sep, v = p.partition("=")
        if not sep or not k.startswith("govcloud_"):
            raise UsageError(f"--var expects govcloud_KEY=VALUE, got {p!r}")
        ev[k] = v
    run = run_playbook(BASELINE_PLAYBOOK, inventory_file, limit=hosts, extravars=ev, check=check,
                       private_data_dir=artifacts)
    data = {"rc": run.rc, "status": run.status, "check_mode": check, "stats": run.stats,
            "changed_tasks": run.changed_tasks, "failed_tasks": run.failed_tasks, "reports": run.messages,
            "artifacts": run.artifact_dir}
    if output is Output.json:
        view.print_json(data)
    else:
        con = view.stdout()
        for h in sorted(set(run.stats.get("ok", {})) | set(run.failed_tasks)):
            con.print(view.styled((h, "bold"), f": changed={run.changed(h)} "
                      f"failed={run.stats.get('failures', {}).get(h, 0)} unreachable={run.stats.get('dark', {}).get(h, 0)}"))
            for t in run.changed_tasks.get(h, []):
                con.print(f"  changed: {t}")
            for t in run.failed_tasks.get(h, []):
                con.print(view.styled("  ", ("failed", "red"), f": {t}"))
            for m in run.messages.get(h, []):
                con.print(f"  {m}")
    if not run.ok:
        raise typer.Exit(ExitCode.ERROR)
