"""``govcloud inventory discover``: SSH fact discovery → ``observed/discovery.yaml`` only.

Thin wiring: parse, call ``usecases.discover.discover`` (targets → one read-only script per host →
pure parsing → observations written as one transaction), render; dependency *proposals* are
printed for a person to accept, never written as dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from govcloud.errors import ExitCode
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.progress import progress_for
from govcloud.render.views import discover as views
from govcloud.usecases.discover import DiscoverRequest, Via
from govcloud.usecases.discover import discover as discover_hosts


def discover(
    inventory: Path = typer.Argument(..., metavar="INVENTORY", help="Inventory directory; its servers are the targets."),
    hosts: Optional[str] = typer.Option(None, "--hosts", help="fnmatch patterns on server id or hostname, comma-separated; !pat excludes."),
    via: Via = typer.Option(Via.ssh, "--via", help="ssh (paramiko, built in) or ansible (the same script through ansible-runner and OpenSSH, -m raw)."),
    concurrency: int = typer.Option(32, "--concurrency", min=1, max=512, help="Hosts visited at the same time."),
    accept_new: bool = typer.Option(False, "--accept-new", help="Trust an UNKNOWN host key on first use and add it to known_hosts (atomically). A CHANGED key is always refused."),
    known_hosts: Optional[Path] = typer.Option(None, "--known-hosts", help="known_hosts for strict host-key checking (default ~/.ssh/known_hosts)."),
    user: Optional[str] = typer.Option(None, "--user", help="SSH user (default root, or ssh_config's User); sudo -n is used unless root."),
    key: Optional[Path] = typer.Option(None, "--key", help="SSH private key file (otherwise ssh_config's IdentityFile, else the agent)."),
    ssh_config: Optional[Path] = typer.Option(None, "--ssh-config", help="OpenSSH client config: per-host User, IdentityFile, Port, UserKnownHostsFile (looked up by hostname, then server id)."),
    sample_seconds: float = typer.Option(2.0, "--sample-seconds", min=0, max=300, help="Utilisation sampling window per host: ~20 intervals of ≥ 0.1 s (p95 + mean), started first so it overlaps the rest of the collection; load averages, PSI and the since-boot mean come with it for the longer view."),
    connect_timeout: float = typer.Option(10.0, "--connect-timeout", min=1, help="Seconds to connect and authenticate."),
    timeout: float = typer.Option(120.0, "--timeout", min=5, help="Seconds per host for the whole collection."),
    retries: int = typer.Option(2, "--retries", min=0, max=10, help="Extra connection attempts on connection errors/timeouts (backoff 0.5 s, 1 s, …); never on auth or host-key failures."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Who runs the discovery, for the audit log (besides the OS user)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the tables and messages.", envvar="GOVCLOUD_LANG"),
) -> None:
    """Discover what the inventory's servers really run (read-only, over SSH) and write
    observed/discovery.yaml — observations only; no other inventory file is touched. Each
    write is recorded in the inventory's audit log (action "discover": per server, what changed).

    Exit 0: every host reached; 3: some reached; 1: none reached.
    """
    req = DiscoverRequest(inventory=inventory, hosts=hosts, via=via, concurrency=concurrency, accept_new=accept_new,
                          known_hosts=known_hosts, user=user, key=key, ssh_config=ssh_config,
                          sample_seconds=sample_seconds, connect_timeout=connect_timeout, timeout=timeout,
                          retries=retries, actor=actor, reason=reason)
    with progress_for(output, lang.value) as progress:
        done = discover_hosts(req, progress=progress)
    if output is Output.json:
        view.print_json({"summary": done.summary, "reached": done.reached, "failed": done.failed,
                         "proposed_dependencies": done.proposals})
    else:
        views.discovery(done, lang.value)
    code = done.exit_code
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
