"""``govcloud inventory discover``: SSH fact discovery → ``observed/discovery.yaml`` only.

Thin wiring: inventory servers → targets (inventory.discover) → one read-only script per host
(drivers.ssh) → pure parsing → observations written atomically; dependency *proposals* are
printed for a person to accept, never written as dependencies.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.base.sshfail import LABELS, classify_openssh
from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.render import console as view
from govcloud.render.console import Output


class Via(str, Enum):
    ssh = "ssh"
    ansible = "ansible"


def _targets(inv, pattern, *, user, key, known_hosts, ssh_config, accept_new):
    from govcloud.drivers.ssh import SshTarget, ssh_config_hints
    from govcloud.inventory.discover import select_targets

    out = []
    for t in select_targets(inv.servers.values(), pattern):
        hints = None
        if ssh_config is not None:
            hints = ssh_config_hints(str(ssh_config), t.hostname)
            if hints.user is None and hints.identity is None and hints.port is None and t.server != t.hostname:
                hints = ssh_config_hints(str(ssh_config), t.server)
        u = user or (hints.user if hints else None) or "root"
        k = str(key) if key else (hints.identity if hints else None)
        kh = str(known_hosts) if known_hosts else (hints.known_hosts if hints else None)
        port = (hints.port if hints and hints.port else 22)
        out.append((t, SshTarget(name=t.server, host=t.address, port=port, user=u, key_filename=k,
                                 known_hosts=kh, use_agent=k is None, accept_new=accept_new)))
    return out


def _runner_inventory(pairs, accept_new: bool) -> dict:
    """An ansible inventory for exactly these targets: the same address, port, user, key and
    known_hosts the ssh path would use, strict host-key checking (accept-new only if asked)."""
    import shlex

    hosts = {}
    for t, st in pairs:
        kh = st.known_hosts or str(Path("~/.ssh/known_hosts").expanduser())
        # -F /dev/null: exactly the settings resolved above (as the ssh path uses them), not
        # OpenSSH's own reading of a config, where IdentityFile lines add up to several keys
        opts = ["-F /dev/null", f"-o StrictHostKeyChecking={'accept-new' if accept_new else 'yes'}",
                f"-o UserKnownHostsFile={shlex.quote(kh)}", "-o GlobalKnownHostsFile=/dev/null",
                "-o BatchMode=yes"]
        if st.key_filename:
            opts.append("-o IdentitiesOnly=yes")
        hv = {"ansible_host": st.host, "ansible_port": st.port, "ansible_user": st.user,
              "ansible_ssh_common_args": " ".join(opts)}
        if st.key_filename:
            hv["ansible_ssh_private_key_file"] = str(Path(st.key_filename).expanduser().resolve())
        if st.user != "root":
            hv["ansible_become"] = True
            hv["ansible_become_method"] = "sudo"
        hosts[t.server] = hv
    return {"all": {"hosts": hosts}}


def _via_ansible(pairs, script: str, *, concurrency: int, connect_timeout: float,
                 run_timeout: float, retries: int, accept_new: bool):
    """The same script on the same targets through ansible-runner (``-m raw``) → the ssh
    driver's RunResult per target, so parsing, observations and the summary are shared."""
    import tempfile

    from govcloud.drivers.ansible import run_adhoc_raw, write_inventory
    from govcloud.drivers.ssh import RunResult
    from govcloud.inventory import discover as d

    kh_files = {st.known_hosts or str(Path("~/.ssh/known_hosts").expanduser()) for _, st in pairs}
    kh_before = {f: (Path(f).read_text(encoding="utf-8") if Path(f).exists() else "") for f in kh_files}
    with tempfile.TemporaryDirectory(prefix="govcloud-discover-ansible-") as tmp:
        inv_file = Path(tmp) / "inventory" / "hosts.yml"
        inv_file.parent.mkdir()
        write_inventory(inv_file, _runner_inventory(pairs, accept_new))   # !unsafe strings: data only
        t0 = time.perf_counter()
        run = run_adhoc_raw(script, inv_file, forks=concurrency, connect_timeout=int(max(1, connect_timeout)),
                            retries=retries, timeout=int(run_timeout + connect_timeout * (retries + 1) + 30),
                            private_data_dir=Path(tmp) / "runner")
        seconds = time.perf_counter() - t0
    added: set[str] = set()
    for f, before in kh_before.items():
        now = Path(f).read_text(encoding="utf-8") if Path(f).exists() else ""
        if now.startswith(before):
            for line in now[len(before):].splitlines():
                if line.strip():
                    added.update(x.strip("[]").split("]:")[0] for x in line.split()[0].split(","))
    results = []
    for t, st in pairs:
        h = run.hosts.get(t.server)
        r = RunResult(t.server, seconds=seconds)
        if h is None:
            r.error, r.error_kind = f"no result from ansible (run status {run.status})", "other"
        elif h.unreachable:
            r.error_kind, r.error = classify_openssh(h.msg or h.stderr)
            r.attempts = 1 + (retries if r.error_kind in ("timeout", "connect") else 0)
        else:
            r.rc, r.stdout, r.stderr = h.rc if h.rc is not None else (1 if h.failed else 0), h.stdout, h.stderr
            if h.failed and h.rc is None:
                r.error, r.error_kind = h.msg[:200] or "failed", "other"
        r.host_key_added = st.host in added
        results.append(r)
    return results


def _previous(path: Path) -> list[dict]:
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    body = text
    while body.startswith("#"):          # our own header comment, then JSON (style="lines")
        body = body.split("\n", 1)[1] if "\n" in body else ""
    try:
        doc = json.loads(body)
    except ValueError:                   # edited by hand into YAML: the C loader (pure-Python took 2 s)
        import yaml
        doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return list((doc or {}).get("observations") or [])


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
) -> None:
    """Discover what the inventory's servers really run (read-only, over SSH) and write
    ``observed/discovery.yaml`` — observations only; no other inventory file is touched. Each
    write is recorded in the inventory's audit log (action ``discover``: per server, what changed).

    Exit 0: every host reached; 3: some reached; 1: none reached.
    """
    from govcloud.drivers.ssh import run_many
    from govcloud.inventory import discover as d
    from govcloud.inventory.loader import load_inventory
    from govcloud.inventory.writer import render_document
    from govcloud.store import auditlog
    from govcloud.base.atomic import write_atomic

    if ssh_config is not None and not ssh_config.is_file():
        raise UsageError(f"--ssh-config {ssh_config}: no such file")
    if key is not None and not key.is_file():
        raise UsageError(f"--key {key}: no such file")
    root = Path(inventory)
    if not root.is_dir():
        raise UsageError(f"{root} is not an inventory directory")
    t_load = time.perf_counter()
    result = load_inventory(root)
    if result.errors:
        raise GovcloudError(f"the inventory has {len(result.errors)} error(s)",
                            hint=f"run `govcloud inventory validate {root}`")
    inv = result.inventory
    pairs = _targets(inv, hosts, user=user, key=key, known_hosts=known_hosts, ssh_config=ssh_config,
                     accept_new=accept_new)
    if not pairs:
        raise GovcloudError("no server to discover" + (f" matches {hosts!r}" if hosts else ""))

    # paramiko logs each failed handshake with a traceback through the root "last resort"
    # handler; the summary reports failures, one line each
    import logging
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    err = view.stderr()
    script, prelude = d.discovery_script(sample_seconds), d.sampler_prelude(sample_seconds)
    started = time.perf_counter()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    if via is Via.ansible:
        results = _via_ansible(pairs, d.standalone_script(sample_seconds), concurrency=concurrency, connect_timeout=connect_timeout,
                               run_timeout=timeout + sample_seconds, retries=retries, accept_new=accept_new)
    else:
        with Progress(TextColumn("discover"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.fields[last]}"), console=err, transient=False,
                      disable=not err.is_terminal) as progress:
            task = progress.add_task("discover", total=len(pairs), last="")
            results = run_many([st for _, st in pairs], script, workers=concurrency,
                               connect_timeout=connect_timeout, run_timeout=timeout + sample_seconds,
                               retries=retries, prelude=prelude,
                               on_done=lambda r: progress.update(task, advance=1, last=r.target))
    seconds = time.perf_counter() - started
    t_hosts_done = time.perf_counter()

    now = d.utc_now()
    reached, failed, facts_by_server, new_obs = [], [], {}, []
    for (t, st), r in zip(pairs, results):
        if r.error is None and r.rc not in (0, None):
            kind, why = "remote", f"exit status {r.rc}" + (" (sudo -n needs NOPASSWD)" if "sudo" in r.stderr else "")
        else:
            kind, why = r.error_kind, r.error
        if r.error is not None or kind == "remote":
            failed.append({"server": t.server, "address": f"{st.host}:{st.port}", "reason": kind or "other",
                           "error": why, "attempts": r.attempts, "seconds": round(r.seconds, 2)})
            continue
        facts = d.facts_from_output(t.server, d.merge_sampler_output(r.stdout, r.stderr)[0])
        facts_by_server[t.server] = facts
        new_obs.append(d.observation(t.server, facts, now, source=f"discovery:{via.value}"))
        reached.append({"server": t.server, "address": f"{st.host}:{st.port}", "seconds": round(r.seconds, 2),
                        "connect_seconds": None if r.connect_seconds is None else round(r.connect_seconds, 2),
                        "script_seconds": None if r.script_seconds is None else round(r.script_seconds, 2),
                        "host_key_added": r.host_key_added, "os": f"{facts.get('os_distribution')} {facts.get('os_version', '')}".strip(),
                        "databases": [x["engine"] for x in facts.get("databases", [])],
                        "utilization": facts.get("utilization")})

    out_path = root / d.OBSERVED_FILE
    written = None
    audit_seq = None
    if new_obs:
        from govcloud.store.lock import writer_lock
        from govcloud.store.txn import Transaction

        # the inventory's writer lock around read-merge-write: a concurrent import or discover
        # is neither lost nor mixed in; the file and its audit entry land as one transaction
        with writer_lock(root, "inventory discover"):
            previous = _previous(out_path)
            merged = d.merge_latest(previous, new_obs)
            text = render_document({"observations": merged}, style="lines",
                                   header="written by `govcloud inventory discover` — observations only; "
                                          "rewritten each run (latest per server)")
            before, after = d.audit_change(previous, new_obs)
            old_bytes = out_path.read_bytes() if out_path.exists() else None
            before["file_sha256"] = hashlib.sha256(old_bytes).hexdigest() if old_bytes is not None else None
            after.update({"file_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "via": via.value,
                          "targets": len(pairs), "reached": len(reached),
                          "failed": {f["server"]: f["reason"] for f in failed}})
            t = Transaction(root, "discover")
            t.write(d.OBSERVED_FILE.as_posix(), text)
            t.audit(action="discover", entity={"kind": "observations", "id": d.OBSERVED_FILE.as_posix()},
                    before=before, after=after, who=actor, reason=reason)
            t.commit()
            audit_seq = t.audit_seq
        written = str(out_path)
    proposals = [p.to_plain() for p in d.propose_dependencies(inv, facts_by_server)]
    summary = {"targets": len(pairs), "reached": len(reached), "failed": len(failed),
               "failed_by_reason": dict(Counter(f["reason"] for f in failed)), "seconds": round(seconds, 2),
               "written": written, "audit_seq": audit_seq,
               # where the time went (s): loading the inventory, the hosts (connect + script, in
               # parallel), parsing + writing; per host: connect_seconds / script_seconds in `reached`
               "timeline": {"load": round(started - t_load, 2), "hosts": round(seconds, 2),
                            "parse_write": round(time.perf_counter() - t_hosts_done, 2)}}
    code = ExitCode.OK if not failed else (ExitCode.ERROR if not reached else ExitCode.PARTIAL)

    if output is Output.json:
        view.print_json({"summary": summary, "reached": reached, "failed": failed,
                         "proposed_dependencies": proposals})
    else:
        from rich.table import Table
        out = view.stdout()
        tab = Table(title=f"discovery — {len(reached)}/{len(pairs)} reached in {seconds:.1f}s", min_width=48)
        for c in ("result", "hosts"):
            tab.add_column(c)
        tab.add_row("reached", str(len(reached)))
        for reason, n in sorted(summary["failed_by_reason"].items()):
            tab.add_row(LABELS.get(reason, reason), str(n))
        out.print(tab)
        if failed:
            ft = Table(title="not reached")
            for c in ("server", "address", "reason", "detail"):
                ft.add_column(c)
            for f in failed:
                ft.add_row(f["server"], f["address"], f["reason"], f["error"] or "")
            out.print(ft)
        if proposals:
            pt = Table(title="proposed dependencies (from established connections — review, then add by hand)")
            for c in ("from", "to", "type", "evidence", "declared"):
                pt.add_column(c)
            for p in proposals:
                pt.add_row(p["from"], p["to"], p["type"], "; ".join(p["evidence"][:3]), "yes" if p["existing"] else "")
            out.print(pt)
        if written:
            out.print(f"observations: {written} (audit log entry #{audit_seq})")
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))
