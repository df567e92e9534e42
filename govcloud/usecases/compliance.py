"""The MLPS check use case: which hosts (a govcloud inventory, a system's servers, an Ansible host
pattern, or recorded facts), collect facts over SSH, evaluate, write the files asked for."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govcloud.base.progress import NULL, Progress
from govcloud.base.atomic import write_atomic
from govcloud.compliance.collect import assess, collect
from govcloud.compliance.facts import HostFacts, load_facts
from govcloud.compliance.model import ComplianceThresholds, HostReport, Status
from govcloud.compliance.render import write_file
from govcloud.compliance.targets import AnsibleInventory, read_ansible_ini, select, target_for
from govcloud.drivers.ssh import SshTarget
from govcloud.base.i18n import Msg
from govcloud.errors import ExitCode, GovcloudError, UsageError


def thresholds(policy: Any, pairs: list[str]) -> ComplianceThresholds:
    """The policy's thresholds with ``KEY=VALUE`` overrides."""
    overrides = {}
    for p in pairs:
        k, sep, v = p.partition("=")
        if not sep:
            raise UsageError(Msg("--threshold expects KEY=VALUE, got {p!r}", p=p))
        overrides[k.strip()] = v.strip()
    try:
        return ComplianceThresholds.from_policy(policy, overrides)
    except KeyError as exc:
        raise UsageError(Msg("unknown threshold {x!r}", x=exc.args[0]),
                         hint=Msg("known: {x}", x=', '.join(ComplianceThresholds.field_names()))) from None
    except ValueError as exc:
        raise UsageError(Msg("bad threshold value: {exc}", exc=exc)) from None


def inventory_targets(path: Path, system: str | None, ini: AnsibleInventory | None, user: str | None,
                      key: str | None, known_hosts: str | None) -> tuple[list[SshTarget], int | None, Any]:
    """A govcloud inventory's servers (or one system's) as SSH targets — addresses and users from
    the Ansible INI inventory when it names them — with the system's MLPS level and the policy."""
    from govcloud.inventory.loader import load_inventory
    result = load_inventory(path)
    if result.errors:
        raise GovcloudError(Msg("the inventory has {n} error(s)", n=len(result.errors)),
                            hint=Msg("run `govcloud inventory validate {path}`", path=path))
    inv = result.inventory
    if system is not None:
        if system not in inv.systems:
            raise GovcloudError(Msg("no system {system!r} in {path}", system=system, path=path))
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


@dataclass
class CheckRequest:
    inventory: Path | None = None
    system: str | None = None
    hosts: str | None = None
    level: int | None = None
    inventory_file: Path | None = None
    user: str | None = None
    identity: Path | None = None
    known_hosts: Path | None = None
    threshold: list[str] = field(default_factory=list)
    facts: Path | None = None
    facts_out: Path | None = None
    out: Path | None = None
    workers: int = 16
    timeout: float = 180.0
    lang: str = "zh"


@dataclass
class ComplianceCheck:
    reports: list[HostReport]
    level: int
    thresholds: ComplianceThresholds

    @property
    def exit_code(self) -> ExitCode:
        """0 no fail and no error; 1 a finding fails; 3 no fail but something could not be evaluated."""
        statuses = {f.status for r in self.reports for f in r.findings}
        if Status.fail in statuses:
            return ExitCode.ERROR
        if Status.error in statuses or any(r.error for r in self.reports):
            return ExitCode.PARTIAL
        return ExitCode.OK


def check(req: CheckRequest, *, progress: Progress = NULL) -> ComplianceCheck:
    """Resolve the hosts, collect (or read recorded) facts, evaluate, write --facts-out and --out.
    ``progress``: the hosts as each one's facts are collected."""
    ini = read_ansible_ini(req.inventory_file) if req.inventory_file else None
    k = str(req.identity) if req.identity else None
    kh = str(req.known_hosts) if req.known_hosts else None
    policy, default_level, targets = None, None, []
    recorded: list[HostFacts] = []
    if req.facts is not None:
        recorded = load_facts(req.facts)
    elif req.inventory is not None:
        if req.hosts:
            raise UsageError(Msg("give either INVENTORY [--system] or --hosts, not both"))
        targets, default_level, policy = inventory_targets(req.inventory, req.system, ini, req.user, k, kh)
    elif req.hosts:
        if ini is None:
            raise UsageError(Msg("--hosts needs --inventory-file (an Ansible INI inventory)"))
        names = select(ini, req.hosts)
        if not names:
            raise GovcloudError(Msg("no host in {inventory_file} matches {hosts!r}",
                                    inventory_file=req.inventory_file, hosts=req.hosts))
        targets = [target_for(n, ini.hosts[n], user=req.user, key=k, known_hosts=kh) for n in names]
    else:
        raise UsageError(Msg("name the hosts: INVENTORY [--system ID], or --hosts PATTERN --inventory-file "
                             "FILE, or --facts FILE"))
    lvl = req.level if req.level else default_level
    if lvl not in (2, 3):
        raise UsageError(Msg("--level 2 or 3 is required (system {system} has MLPS level {level})", system=req.system,
                             level=default_level) if req.system else Msg("--level 2 or 3 is required"))
    th = thresholds(policy, req.threshold)
    if req.facts is None:
        if not targets:
            raise GovcloudError(Msg("no hosts to check"))
        recorded = collect(targets, workers=req.workers, timeout=req.timeout, progress=progress)
    if req.facts_out is not None:
        write_atomic(req.facts_out, json.dumps({"hosts": [f.to_plain() for f in recorded]}, ensure_ascii=False,
                                               indent=1))
    reports = assess(recorded, lvl, th)
    if req.out is not None:
        try:
            write_file(req.out, reports, lvl, th, req.lang)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return ComplianceCheck(reports, lvl, th)


# ---------------------------------------------------------------- the baseline playbook

BASELINE_PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "mlps_baseline.yml"


def baseline_vars(level: int, extra: list[str]) -> dict[str, Any]:
    """The baseline role's variables: the MLPS level and ``govcloud_KEY=VALUE`` overrides (no other
    name reaches the playbook)."""
    ev: dict[str, Any] = {"govcloud_mlps_level": int(level)}
    for p in extra:
        k, sep, v = p.partition("=")
        if not sep or not k.startswith("govcloud_"):
            raise UsageError(Msg("--var expects govcloud_KEY=VALUE, got {p!r}", p=p))
        ev[k] = v
    return ev


def baseline(hosts: str, inventory_file: Path, *, level: int, check: bool, extra: list[str],
             artifacts: Path | None = None) -> Any:
    """Bring hosts to the MLPS baseline with playbooks/mlps_baseline.yml (idempotent; ``check``:
    Ansible check mode). Returns the driver's run result (stats, changed and failed tasks per host)."""
    from govcloud.drivers.ansible import run_playbook
    ev = baseline_vars(level, extra)
    return run_playbook(BASELINE_PLAYBOOK, inventory_file, limit=hosts, extravars=ev, check=check,
                        private_data_dir=artifacts)
