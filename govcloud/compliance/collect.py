"""Collect facts from hosts (one script run per host) and evaluate them."""

from __future__ import annotations

from datetime import date

from govcloud.base.progress import NULL, Progress
from govcloud.compliance.checks import evaluate
from govcloud.compliance.facts import COLLECT_SCRIPT, HostFacts, parse_output
from govcloud.base.i18n import Msg
from govcloud.compliance.model import ComplianceThresholds, HostReport
from govcloud.drivers.ssh import SshTarget, run_many


def collect(targets: list[SshTarget], *, workers: int = 16, timeout: float = 180.0,
            progress: Progress = NULL) -> list[HostFacts]:
    """One collector run per host, ``workers`` at a time (``progress``: each host as it finishes)."""
    facts = []
    with progress.phase("compliance.hosts", total=len(targets)) as ph:
        results = run_many(targets, COLLECT_SCRIPT, workers=workers, run_timeout=timeout,
                           on_done=lambda r: ph.advance(item=r.target))
    for t, r in zip(targets, results):
        if r.error:
            facts.append(HostFacts(host=t.name, error=r.error))
            continue
        f = parse_output(t.name, r.stdout)
        if not f.sections:
            # sudo refused, no sh … : say why without echoing anything that could be sensitive
            why = (r.stderr.strip().splitlines() or [f"exit {r.rc}"])[-1][:200]
            f.error = Msg("collector produced no facts (exit {rc}: {why})", rc=r.rc, why=why)
        elif f.kv("meta").get("uid") not in ("0", None):
            f.error = None   # partial facts: sections needing root report their own errors
        facts.append(f)
    return facts


def assess(facts: list[HostFacts], level: int, thresholds: ComplianceThresholds,
           today: date | None = None) -> list[HostReport]:
    return [HostReport(host=f.host, level=level, findings=evaluate(f, level, thresholds, today), error=f.error)
            for f in facts]
