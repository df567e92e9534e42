"""``govcloud node …``: execution nodes (the inventory's ``execution_nodes``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import tr
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.views import node as views

app = typer.Typer(help=tr("execution nodes", "zh") + " — machines in a department's or zone's network that run "
                                                       "the migration playbooks next to the data.",
                  no_args_is_help=True)

OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of the messages.", envvar="GOVCLOUD_LANG")


@app.command()
def prepare(
    inventory: Path = typer.Argument(..., help="Inventory directory (or one inventory file) declaring the node."),
    node: str = typer.Argument(..., help="The execution node's id (execution_nodes)."),
    key: Optional[Path] = typer.Option(None, "--key", help="SSH private key for the node (a private ssh-agent holds "
                                                           "it); without it your own agent is used."),
    known_hosts: Optional[Path] = typer.Option(None, "--known-hosts", help="known_hosts holding the node's host key "
                                                                           "when the inventory gives no host_key "
                                                                           "(strict; default ~/.ssh/known_hosts)."),
    wheels: Optional[Path] = typer.Option(None, "--wheels", help="Wheel cache on this machine (default "
                                                                 "~/.cache/govcloud/node-wheels)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be installed where; connect to nothing."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """Install ansible-core and ansible-runner (this machine's versions) on an execution node, offline:
    wheels downloaded here once, copied over SSH, installed into a venv on the node with pip --no-index.
    The node's user needs sudo -n (the venv is the runner's parent directory, e.g. /opt/govcloud-node).
    Idempotent: run it again after upgrading govcloud."""
    from govcloud.usecases import node as uc
    res = uc.prepare(inventory, node, key=key, known_hosts=known_hosts, wheels=wheels, dry_run=dry_run)
    if output is Output.json:
        view.print_json(res)
        return
    (views.would_prepare if dry_run else views.prepared)(res, lang.value)
