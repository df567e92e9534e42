"""``govcloud node prepare``: install ansible-core + ansible-runner on an inventory's execution node,
offline (wheels downloaded on the control node, copied over SSH, ``pip --no-index`` on the node)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError

REPO = Path(__file__).resolve().parents[2]


def default_cache() -> Path:
    from govcloud.paths import cache_dir
    return cache_dir() / "node-wheels"


def prepare(inventory: Path, node_id: str, *, key: Path | None, known_hosts: Path | None,
            wheels: Path | None = None, dry_run: bool = False) -> dict[str, Any]:
    from govcloud.drivers.agent import private_agent
    from govcloud.drivers.execnode import Node, PrepareError, prepare_node, runner_versions, wheel_dir
    from govcloud.inventory.validate import validate_path
    result = validate_path(inventory)
    if result.errors:
        raise GovcloudError(Msg("the inventory has {n} error(s)", n=len(result.errors)),
                            hint=Msg("run `govcloud inventory validate {path}`", path=str(inventory)))
    n = result.inventory.execution_nodes.get(node_id)
    if n is None:
        raise GovcloudError(Msg("no execution node '{id}' in {path} (it has: {nodes})", id=node_id, path=str(inventory),
                                nodes=", ".join(sorted(result.inventory.execution_nodes)) or "-"))
    cache = Path(wheels) if wheels else default_cache()
    if dry_run:
        versions = runner_versions()
        wd = wheel_dir(cache, versions)
        return {"node": n.id, "address": n.address, "user": n.user, "port": n.port,
                "venv": n.runner[: -len("/bin/ansible-runner")] if n.runner.endswith("/bin/ansible-runner") else None,
                "runner": n.runner, "work_dir": n.work_dir, "versions": versions, "wheels": str(wd),
                "cached": (wd / ".complete").is_file(), "dry_run": True}
    if n.host_key:
        kh = cache / f"known_hosts.node-{n.id}"
        cache.mkdir(parents=True, exist_ok=True)
        host = n.address if n.port == 22 else f"[{n.address}]:{n.port}"
        from govcloud.base.atomic import write_atomic
        write_atomic(kh, f"{host} {n.host_key.strip()}\n")
    else:
        kh = Path(known_hosts) if known_hosts else Path.home() / ".ssh" / "known_hosts"
    node = Node(id=n.id, address=n.address, user=n.user, known_hosts=kh, port=n.port, runner=n.runner,
                work_dir=n.work_dir)
    constraints = REPO / "constraints.txt"
    try:
        with private_agent(key) as sock:
            return prepare_node(node, cache, envvars={"SSH_AUTH_SOCK": sock},
                                constraints=constraints if constraints.is_file() else None)
    except PrepareError as exc:
        raise GovcloudError(Msg("preparing execution node {id} ({address}) failed at {stage}: {detail}", id=n.id,
                                address=n.address, stage=exc.stage, detail=exc.detail)) from None
