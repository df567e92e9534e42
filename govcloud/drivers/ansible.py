"""Ansible driver: run a playbook with ansible-runner (the only module importing it).

Each run is an ansible-runner private data directory — inputs plus the JSON event stream —
kept as evidence of what was done.  Nothing secret is passed: ansible-runner stores the
command line, extravars and environment in that directory, so connection secrets must stay
in the inventory's key files / ssh_config, never in ``extravars``.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import ansible_runner
import yaml

from govcloud.base.atomic import write_atomic
from govcloud.drivers.ports import PlaybookRun

__all__ = ["AdhocHostResult", "AdhocRun", "PlaybookRun", "ansible_binary", "run_adhoc_raw", "run_playbook", "unsafe_yaml",
           "write_inventory"]

# ---------------------------------------------------------------- data, never templates
#
# Everything govcloud hands to Ansible comes from inventories, imports and plan files other people
# write. Ansible renders Jinja in variables when a task uses them — on the controller, before it
# connects anywhere — so a data path "{{ lookup('pipe', ...) }}" would run a command as the
# operator. Ansible's own mechanism for untrusted data is the ``!unsafe`` YAML tag ("Unsafe or raw
# strings"): such a string is never templated. Every string value of the inventory and extravars
# files govcloud writes carries it; keys are govcloud's own variable names and validated ids.

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class _UnsafeDumper(yaml.SafeDumper):
    pass


def _unsafe_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("!unsafe", value, style='"')


def _plain_keys(dumper: yaml.SafeDumper, value: dict) -> yaml.Node:
    pairs = []
    for k, v in value.items():
        if not isinstance(k, str) or not _KEY.fullmatch(k):
            raise ValueError(f"refusing Ansible variable or host name {k!r:.80}")
        pairs.append((yaml.ScalarNode("tag:yaml.org,2002:str", k), dumper.represent_data(v)))
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs)


_UnsafeDumper.add_representer(str, _unsafe_str)
_UnsafeDumper.add_representer(dict, _plain_keys)
_UnsafeDumper.add_representer(tuple, yaml.SafeDumper.represent_list)


def unsafe_yaml(data: dict[str, Any]) -> str:
    """YAML for Ansible where every string is ``!unsafe``: data, never a template."""
    return yaml.dump(data, Dumper=_UnsafeDumper, allow_unicode=True, sort_keys=False, width=1 << 16)


def write_inventory(path: Path, inventory: dict[str, Any]) -> Path:
    write_atomic(Path(path), unsafe_yaml(inventory))
    return Path(path)


def ansible_binary(name: str) -> str:
    """The Ansible command of *this* Python's environment: govcloud started as ``.venv/bin/govcloud``
    (venv not activated, its ``bin/`` not on PATH) still runs the ansible-core it was installed
    with, then whatever PATH offers."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name) or name


def _path_with(name: str) -> str:
    """PATH with the directory of ansible_binary(name) first (the runner resolves the command there)."""
    return os.pathsep.join([str(Path(ansible_binary(name)).parent), os.environ.get("PATH", os.defpath)])


def run_playbook(playbook: Path, inventory: Path, *, limit: str | None = None, extravars: dict[str, Any] | None = None,
                 check: bool = False, diff: bool = False, private_data_dir: Path | None = None,
                 timeout: int = 1800, forks: int = 10, envvars: dict[str, str] | None = None,
                 on_task: Callable[[str, str], None] | None = None) -> PlaybookRun:
    """Run one playbook.  ``envvars`` are added to the runner's environment (e.g. SSH_AUTH_SOCK of the
    ssh-agent holding the connection key — a socket path, not a secret; ansible-runner records it).
    ``on_task(host, task)``: called from ansible-runner's event handler as each task starts on a host
    (``runner_on_start``); the handler keeps every event (returns True: they are the run's artefacts)."""
    pdd = Path(private_data_dir) if private_data_dir else Path(tempfile.mkdtemp(prefix="govcloud-ansible-"))
    pdd.mkdir(parents=True, exist_ok=True)
    # ansible-runner writes env/extravars and env/envvars only when absent and lets an existing file
    # override what is passed: a reused directory would silently re-apply the first run's variables
    for stale in ("extravars", "envvars"):
        (pdd / "env" / stale).unlink(missing_ok=True)
    # extravars go in as a YAML file of !unsafe strings (ansible-runner passes an existing
    # env/extravars as ``-e @file``; its own JSON would let Ansible template every value)
    if extravars:
        write_atomic(pdd / "env" / "extravars", unsafe_yaml(extravars))
    cmdline = " ".join(x for x in ("--check" if check else "", "--diff" if diff else "") if x) or None
    def events(event: dict[str, Any]) -> bool:
        task_started(on_task, event)
        return True

    r = ansible_runner.run(
        private_data_dir=str(pdd), playbook=str(Path(playbook).resolve()), inventory=str(Path(inventory).resolve()),
        limit=limit, cmdline=cmdline, quiet=True, timeout=timeout, forks=forks, event_handler=events,
        # not binary=: ansible-runner 2.4 then runs it in "raw" mode and leaves the playbook out
        envvars={**(envvars or {}), "PATH": _path_with("ansible-playbook"), "ANSIBLE_HOST_KEY_CHECKING": "True",
                 "ANSIBLE_NOCOLOR": "1",
                 "ANSIBLE_RETRY_FILES_ENABLED": "0"},
    )
    return reduce_run(r.rc, r.status, dict(r.stats or {}), str(r.config.artifact_dir), r.events)


def task_started(on_task: Callable[[str, str], None] | None, event: dict[str, Any]) -> None:
    """Tell ``on_task(host, task)`` (progress) of a task starting on a host, from one ansible-runner
    event — local or streamed back from an execution node. Progress never breaks a run."""
    if on_task is not None and event.get("event") == "runner_on_start":
        data = event.get("event_data") or {}
        try:
            on_task(str(data.get("host") or ""), str(data.get("task") or ""))
        except Exception:       # noqa: BLE001 — progress must never break a run
            pass


def reduce_run(rc: int, status: str, stats: dict[str, dict[str, int]], artifact_dir: str,
               events: Any) -> PlaybookRun:
    """A ``PlaybookRun`` from ansible-runner's result and events (run here or streamed from a node)."""
    run = PlaybookRun(rc=rc, status=status, stats=stats, artifact_dir=artifact_dir)
    for e in events:
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


@dataclass
class AdhocHostResult:
    host: str
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    unreachable: bool = False
    failed: bool = False
    msg: str = ""


@dataclass
class AdhocRun:
    rc: int
    status: str
    hosts: dict[str, AdhocHostResult] = field(default_factory=dict)
    artifact_dir: str = ""


def run_adhoc_raw(script: str, inventory: Path, *, host_pattern: str = "all", forks: int = 10, become: bool = False,
                  connect_timeout: int = 10, retries: int = 0, timeout: int = 1800,
                  private_data_dir: Path | None = None, envvars: dict[str, str] | None = None) -> AdhocRun:
    """``ansible HOSTS -i INVENTORY -m raw -a SCRIPT [--become]`` through ansible-runner: the same
    read-only shell script on every host over OpenSSH, no Python needed there. Strict host-key
    checking (``ANSIBLE_HOST_KEY_CHECKING``); no pty (``ANSIBLE_SSH_USETTY=False``) so stdout and
    stderr stay apart; no ControlPersist masters left behind. The script is part of the command
    line ansible-runner records — it must hold no secret (discovery's does not)."""
    pdd = Path(private_data_dir) if private_data_dir else Path(tempfile.mkdtemp(prefix="govcloud-ansible-"))
    pdd.mkdir(parents=True, exist_ok=True)
    r = ansible_runner.run(
        private_data_dir=str(pdd), inventory=str(Path(inventory).resolve()), host_pattern=host_pattern,
        module="raw", module_args=script, forks=forks, quiet=True, timeout=timeout,
        cmdline="--become" if become else None,
        envvars={**(envvars or {}), "PATH": _path_with("ansible"), "ANSIBLE_HOST_KEY_CHECKING": "True",
                 "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0", "ANSIBLE_SSH_USETTY": "False",
                 "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ControlPersist=no",
                 "ANSIBLE_TIMEOUT": str(int(connect_timeout)), "ANSIBLE_SSH_RETRIES": str(int(retries)),
                 "ANSIBLE_BECOME_FLAGS": "-H -S -n"},
    )
    run = AdhocRun(rc=r.rc, status=r.status, artifact_dir=str(r.config.artifact_dir))
    for e in r.events:
        kind = e.get("event")
        if kind not in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            continue
        data = e.get("event_data") or {}
        host, res = data.get("host"), data.get("res") or {}
        if not host:
            continue
        run.hosts[host] = AdhocHostResult(
            host=host, rc=res.get("rc"), stdout=res.get("stdout") or "", stderr=res.get("stderr") or "",
            unreachable=kind == "runner_on_unreachable" or bool(res.get("unreachable")),
            failed=kind == "runner_on_failed", msg=str(res.get("msg") or "")[:2000])
    return run
