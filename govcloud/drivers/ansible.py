"""Ansible driver: run a playbook with ansible-runner (the only module importing it).

Each run is an ansible-runner private data directory — inputs plus the JSON event stream —
kept as evidence of what was done.  Nothing secret is passed: ansible-runner stores the
command line, extravars and environment in that directory, so connection secrets must stay
in the inventory's key files / ssh_config, never in ``extravars``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner


@dataclass
class PlaybookRun:
    rc: int
    status: str                                  # successful / failed / timeout / canceled
    stats: dict[str, dict[str, int]]             # ok/changed/failures/dark/skipped → host → count
    changed_tasks: dict[str, list[str]] = field(default_factory=dict)   # host → task names that changed
    failed_tasks: dict[str, list[str]] = field(default_factory=dict)    # host → "task: msg"
    messages: dict[str, list[str]] = field(default_factory=dict)        # host → debug messages (role reports)
    artifact_dir: str = ""

    def changed(self, host: str | None = None) -> int:
        c = self.stats.get("changed", {})
        return c.get(host, 0) if host else sum(c.values())

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.status == "successful"


def run_playbook(playbook: Path, inventory: Path, *, limit: str | None = None, extravars: dict[str, Any] | None = None,
                 check: bool = False, diff: bool = False, private_data_dir: Path | None = None,
                 timeout: int = 1800, forks: int = 10, envvars: dict[str, str] | None = None) -> PlaybookRun:
    """Run one playbook.  ``envvars`` are added to the runner's environment (e.g. SSH_AUTH_SOCK of the
    ssh-agent holding the connection key — a socket path, not a secret; ansible-runner records it)."""
    pdd = Path(private_data_dir) if private_data_dir else Path(tempfile.mkdtemp(prefix="govcloud-ansible-"))
    pdd.mkdir(parents=True, exist_ok=True)
    # ansible-runner writes env/extravars and env/envvars only when absent and lets an existing file
    # override what is passed: a reused directory would silently re-apply the first run's variables
    for stale in ("extravars", "envvars"):
        (pdd / "env" / stale).unlink(missing_ok=True)
    cmdline = " ".join(x for x in ("--check" if check else "", "--diff" if diff else "") if x) or None
    r = ansible_runner.run(
        private_data_dir=str(pdd), playbook=str(Path(playbook).resolve()), inventory=str(Path(inventory).resolve()),
        limit=limit, extravars=extravars or {}, cmdline=cmdline, quiet=True, timeout=timeout, forks=forks,
        envvars={**(envvars or {}), "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_NOCOLOR": "1",
                 "ANSIBLE_RETRY_FILES_ENABLED": "0"},
    )
    run = PlaybookRun(rc=r.rc, status=r.status, stats=dict(r.stats or {}), artifact_dir=str(r.config.artifact_dir))
    for e in r.events:
        data = e.get("event_data") or {}
        host, task = data.get("host"), data.get("task", "")
        res = data.get("res") or {}
        if e.get("event") == "runner_on_ok":
            if res.get("changed"):
                run.changed_tasks.setdefault(host, []).append(task)
            if "msg" in res and data.get("task_action") in ("debug", "ansible.builtin.debug"):
                msg = res["msg"]
                run.messages.setdefault(host, []).extend(msg if isinstance(msg, list) else [str(msg)])
        elif e.get("event") in ("runner_on_failed", "runner_on_unreachable") and not data.get("ignore_errors"):
            run.failed_tasks.setdefault(host, []).append(f"{task}: {str(res.get('msg', ''))[:300]}")
    return run
