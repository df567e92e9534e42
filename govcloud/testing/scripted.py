"""A scripted ``PlaybookPort`` and ``HostProbe``: no Ansible, no SSH, every call recorded.

``ScriptedPlaybooks.script(playbook, system=None, outcome)`` decides what the next runs of a
playbook (for one system, or any) report: ``"ok"`` (the default, one change per host),
``"fail"`` (a task failed), ``"unreachable"`` (the connection dropped), or a callable
``(call) -> PlaybookRun`` for anything else; an exception raised by a script ends the run as
a SIGKILL would (tests raise ``Crash``, a ``BaseException`` the executor does not catch).

``migrate_record.yml`` (a kind-hosts cutover record on the clients) is played against
``etc_hosts`` — ``{(client, name): address}``, what each client's /etc/hosts maps the name to —
with the playbook's compare-and-swap: every client read first, a foreign value anywhere and no
client is written.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from govcloud.drivers.ports import PlaybookRun, Reaped


class Crash(BaseException):
    """The process dies here (kill -9): nothing after this point runs, nothing is journaled."""


@dataclass
class PlaybookCall:
    playbook: str                 # file name, e.g. migrate_sync.yml
    system: str
    limit: str | None
    check: bool
    extravars: dict[str, Any]
    inventory: dict[str, Any]
    hosts: list[str] = field(default_factory=list)


Outcome = str | Callable[[PlaybookCall], PlaybookRun]


def _hosts(inventory: dict[str, Any], limit: str | None) -> list[str]:
    groups = (inventory.get("all") or {}).get("children") or {}
    out: list[str] = []
    for name, g in groups.items():
        if limit in (None, "all") or name == limit:
            out += [h for h in (g.get("hosts") or {}) if h not in out]
    return out


class ScriptedPlaybooks:
    def __init__(self, reaped: list[Reaped] | None = None) -> None:
        self.calls: list[PlaybookCall] = []
        self._scripts: dict[tuple[str, str | None], list[Outcome]] = {}
        self.reaped = list(reaped or [])
        self.sessions = 0
        self.etc_hosts: dict[tuple[str, str], str] = {}

    def script(self, playbook: str, outcome: Outcome, *, system: str | None = None, times: int = 1) -> None:
        """The next ``times`` runs of ``playbook`` (for ``system``, else for any) end with ``outcome``."""
        self._scripts.setdefault((playbook, system), []).extend([outcome] * times)

    def _next(self, playbook: str, system: str) -> Outcome:
        for key in ((playbook, system), (playbook, None)):
            queue = self._scripts.get(key)
            if queue:
                return queue.pop(0)
        return "ok"

    # ------------------------------------------------------------ PlaybookPort
    @contextmanager
    def guard(self, plan_dir: Path, run_id: str) -> Iterator[list[Reaped]]:
        self.sessions += 1
        reaped, self.reaped = self.reaped, []
        yield reaped

    @contextmanager
    def agent(self, key: Path | None) -> Iterator[str]:
        yield "/nonexistent/agent.sock"

    def process_start(self) -> int | None:
        return None

    def run(self, playbook: Path, inventory: dict[str, Any], *, private_data_dir: Path, limit: str | None,
            extravars: dict[str, Any], check: bool, timeout: int, forks: int,
            envvars: dict[str, str], on_task: Callable[[str, str], None] | None = None) -> PlaybookRun:
        # runs/<run>/<system>/<step>-xxxx: the executor's run directory names the system
        system = str(extravars.get("govcloud_system_id") or Path(private_data_dir).parent.name)
        call = PlaybookCall(Path(playbook).name, system, limit, check, dict(extravars), inventory,
                            _hosts(inventory, limit))
        if on_task is not None:       # as ansible-runner reports it: the play's first task on each host
            for h in call.hosts or ["localhost"]:
                on_task(h, Path(playbook).stem)
        self.calls.append(call)
        outcome = self._next(call.playbook, system)
        if callable(outcome):
            return outcome(call)
        hosts = call.hosts or ["localhost"]
        if outcome == "ok" and call.playbook == "migrate_record.yml":
            return self._record(call, private_data_dir)
        if outcome == "ok":
            return PlaybookRun(0, "successful", {"ok": {h: 3 for h in hosts}, "changed": {h: 1 for h in hosts}},
                               changed_tasks={h: ["scripted change"] for h in hosts}, artifact_dir=str(private_data_dir))
        if outcome == "fail":
            h = hosts[0]
            return PlaybookRun(2, "failed", {"ok": {}, "failures": {h: 1}},
                               failed_tasks={h: ["scripted task: it failed"]}, artifact_dir=str(private_data_dir))
        if outcome == "unreachable":
            h = hosts[0]
            return PlaybookRun(4, "failed", {"ok": {}, "dark": {h: 1}},
                               failed_tasks={h: ["Gathering Facts: ssh: connect to host: Connection refused"]},
                               artifact_dir=str(private_data_dir))
        raise ValueError(f"unknown scripted outcome {outcome!r}")

    def _record(self, call: PlaybookCall, private_data_dir: Path) -> PlaybookRun:
        import json
        ev = call.extravars
        name = (ev.get("govcloud_cutover_record") or {}).get("name", "")
        op, expected, new = ev.get("govcloud_record_op", "read"), ev.get("govcloud_record_expected") or [], \
            ev.get("govcloud_record_new") or []
        now = {h: self.etc_hosts.get((h, name)) for h in call.hosts}
        foreign = {h for h, v in now.items() if v is not None and v not in (*expected, *new)}
        msgs, changed = {}, {}
        for h, v in now.items():
            res = {"client": h, "before": v, "after": v, "status": "read"}
            if op == "switch":
                if h in foreign:
                    res["status"] = "conflict"
                elif foreign:
                    res["status"] = "unchanged"
                else:
                    self.etc_hosts[(h, name)] = new[0]
                    res.update(after=new[0], status="changed" if v != new[0] else "unchanged")
            msgs[h] = ["govcloud-record " + json.dumps(res)]
            changed[h] = int(res["status"] == "changed")
        return PlaybookRun(0, "successful", {"ok": {h: 2 for h in call.hosts}, "changed": changed},
                           messages=msgs, artifact_dir=str(private_data_dir))

    def public_key(self, key: Path) -> str:
        return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGu7QCv7CQ7ACfEVsXO4pwbcOoPfyBbQ6ktYEO6BHeC9 scripted"

    def ran(self, system: str | None = None) -> list[str]:
        """The playbooks run (for ``system``), in order, e.g. ["migrate_precheck.yml", …]."""
        return [c.playbook for c in self.calls if system is None or c.system == system]


class ScriptedProbe:
    """``HostProbe``: SSH answers everywhere unless listed in ``silent``; HTTP answers 200 unless
    ``http`` says otherwise for the URL."""

    def __init__(self) -> None:
        self.silent: set[str] = set()
        self.http: dict[str, int] = {}
        self.asked: list[str] = []

    def wait_ssh(self, address: str, port: int = 22, timeout: float = 120.0) -> bool:
        self.asked.append(f"ssh://{address}:{port}")
        return address not in self.silent

    def http_status(self, url: str, timeout: float = 5.0) -> int:
        self.asked.append(url)
        return self.http.get(url, 200)
