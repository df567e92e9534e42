"""The real implementations of the executor's ports (drivers/ports.py), wired for ``Executor``.

Importing this module is cheap: openstacksdk and ansible-runner (slow to import) are loaded
when the cloud or playbook port is first used, so ``govcloud --help`` and the unit tests on the fakes never load them.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from govcloud.drivers import probe, procguard
from govcloud.drivers.agent import private_agent, public_key
from govcloud.drivers.ports import CloudConnector, CloudPort, PlaybookRun, Reaped
from govcloud.drivers.state import open_state   # noqa: F401  (the executor's default state: --state / GOVCLOUD_STATE / file:)


def openstack_connector(config_file: str | None = None) -> CloudConnector:
    """clouds.yaml entry → a connected ``OpenStackCloud``."""

    def connect(cloud: str) -> CloudPort:
        from govcloud.drivers.openstack import OpenStackCloud
        return OpenStackCloud.connect(cloud, config_file=config_file)

    return connect


class AnsiblePlaybooks:
    """``PlaybookPort`` through ansible-runner, inside the run's process guard and ssh-agent.

    ``node_of(system)``: the execution node a system's playbooks run on (drivers/execnode.py:
    ansible-runner's streaming mode over SSH), or None to run them here."""

    def __init__(self, node_of: Callable[[str], Any] | None = None) -> None:
        self.node_of = node_of

    @contextmanager
    def guard(self, plan_dir: Path, run_id: str) -> Iterator[list[Reaped]]:
        with procguard.guard(plan_dir, run_id) as leftovers:
            yield [Reaped(f.pid, f.name, f.marker.split(":", 1)[-1].split("@", 1)[0]) for f in leftovers]

    def agent(self, key: Path | None) -> AbstractContextManager[str]:
        return private_agent(key)

    def process_start(self) -> int | None:
        return procguard.start_time(os.getpid())

    def run(self, playbook: Path, inventory: dict[str, Any], *, private_data_dir: Path, limit: str | None,
            extravars: dict[str, Any], check: bool, timeout: int, forks: int,
            envvars: dict[str, str], on_task: Callable[[str, str], None] | None = None) -> PlaybookRun:
        node = self.node_of(str(extravars.get("govcloud_system_id") or "")) if self.node_of else None
        if node is not None:
            from govcloud.drivers.execnode import run_on_node
            return run_on_node(node, playbook, inventory, private_data_dir=private_data_dir, limit=limit,
                               extravars=extravars, check=check, timeout=timeout, forks=forks, envvars=envvars,
                               on_task=on_task)
        from govcloud.drivers.ansible import run_playbook, write_inventory
        inv_path = Path(private_data_dir) / "inventory.yml"
        write_inventory(inv_path, inventory)   # every string !unsafe: data, never a template
        return run_playbook(playbook, inv_path, limit=limit, extravars=extravars, check=check, diff=check,
                            private_data_dir=private_data_dir, timeout=timeout, forks=forks, envvars=envvars,
                            on_task=on_task)

    def public_key(self, key: Path) -> str:
        return public_key(key)


class NetworkProbe:
    """``HostProbe`` over plain sockets (drivers/probe.py)."""

    def wait_ssh(self, address: str, port: int = 22, timeout: float = 120.0) -> bool:
        return probe.wait_ssh(address, port, timeout)

    def http_status(self, url: str, timeout: float = 5.0) -> int:
        return probe.http_status(url, timeout)


def record_switch(record: Any, *, clients: Any = None) -> Any:
    """The switch port of a cutover record (drivers/switching.py, chosen by its kind; kind hosts
    reads and writes the clients' /etc/hosts through ``clients``, the orchestrator's record play)."""
    from govcloud.drivers.switching import switch_for
    return switch_for(record, clients=clients)
