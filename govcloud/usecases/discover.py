"""The discovery use case: the inventory's servers → SSH targets → one read-only script per host
(drivers.ssh, or the same script through ansible-runner) → pure parsing (inventory.discover) →
observations merged into ``observed/discovery.yaml`` with an audit entry, as one transaction under
the inventory's writer lock. Dependency *proposals* are returned for a person to review, never
written as dependencies.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from govcloud.base.progress import NULL, Progress
from govcloud.base.sshfail import classify_openssh
from govcloud.base.i18n import Msg
from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.model.census import census_fill


class Via(str, Enum):
    ssh = "ssh"
    ansible = "ansible"


@dataclass
class DiscoverRequest:
    inventory: Path
    hosts: str | None = None
    via: Via = Via.ssh
    concurrency: int = 32
    accept_new: bool = False
    known_hosts: Path | None = None
    user: str | None = None
    key: Path | None = None
    ssh_config: Path | None = None
    sample_seconds: float = 2.0
    connect_timeout: float = 10.0
    timeout: float = 120.0
    retries: int = 2
    actor: str | None = None
    reason: str | None = None


@dataclass
class DiscoveryResult:
    summary: dict[str, Any]                     # targets, reached, failed, failed_by_reason, seconds, written, audit_seq, timeline
    reached: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        """0 every host reached, 3 some, 1 none."""
        if not self.failed:
            return ExitCode.OK
        return ExitCode.ERROR if not self.reached else ExitCode.PARTIAL


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
        a_user, a_port = _ansible_connection(inv.servers.get(t.server))
        u = user or (hints.user if hints else None) or a_user or "root"
        k = str(key) if key else (hints.identity if hints else None)
        kh = str(known_hosts) if known_hosts else (hints.known_hosts if hints else None)
        port = (hints.port if hints and hints.port else a_port or 22)
        out.append((t, SshTarget(name=t.server, host=t.address, port=port, user=u, key_filename=k,
                                 known_hosts=kh, use_agent=k is None, accept_new=accept_new)))
    return out


_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")


def _ansible_connection(srv) -> tuple[str | None, int | None]:
    """The user and port an Ansible import recorded for a server (``ansible_user``/``ansible_port``
    in its ``observed.ansible_vars``): after --user and ssh_config, before root/22. Only a plain
    user name and a port number count (the values are data from a file, never options)."""
    hv = ((srv.observed or {}).get("ansible_vars") if srv is not None and isinstance(srv.observed, dict) else None)
    if not isinstance(hv, dict):
        return None, None
    u, p = hv.get("ansible_user"), hv.get("ansible_port")
    user = u if isinstance(u, str) and _USER.match(u) else None
    if isinstance(p, str) and p.isdigit():
        p = int(p)
    port = p if isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 else None
    return user, port


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
            r.error, r.error_kind = Msg("no result from ansible (run status {status})", status=run.status), "other"
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




def discover(req: DiscoverRequest, *, progress: Progress = NULL) -> DiscoveryResult:
    """Discover what the inventory's servers really run (read-only, over SSH) and write
    ``observed/discovery.yaml`` — observations only. ``progress``: the inventory's files as they are
    read, then the hosts as each finishes (over ansible, all at the end: one runner call)."""
    inventory, hosts, via, concurrency, accept_new = req.inventory, req.hosts, req.via, req.concurrency, req.accept_new
    known_hosts, user, key, ssh_config = req.known_hosts, req.user, req.key, req.ssh_config
    sample_seconds, connect_timeout, timeout, retries = req.sample_seconds, req.connect_timeout, req.timeout, req.retries
    actor, reason = req.actor, req.reason
    from govcloud.drivers.ssh import run_many
    from govcloud.inventory import discover as d
    from govcloud.inventory.loader import load_inventory
    from govcloud.inventory.writer import render_document

    if ssh_config is not None and not ssh_config.is_file():
        raise UsageError(Msg("--ssh-config {ssh_config}: no such file", ssh_config=ssh_config))
    if key is not None and not key.is_file():
        raise UsageError(Msg("--key {key}: no such file", key=key))
    root = Path(inventory)
    if not root.is_dir():
        raise UsageError(Msg("{root} is not an inventory directory", root=root))
    t_load = time.perf_counter()
    result = load_inventory(root, progress=progress)
    if result.errors:
        raise GovcloudError(Msg("the inventory has {n} error(s)", n=len(result.errors)),
                            hint=Msg("run `govcloud inventory validate {root}`", root=root))
    inv = result.inventory
    pairs = _targets(inv, hosts, user=user, key=key, known_hosts=known_hosts, ssh_config=ssh_config,
                     accept_new=accept_new)
    if not pairs:
        raise GovcloudError(Msg("no server to discover matches {hosts!r}", hosts=hosts) if hosts
                            else Msg("no server to discover"))

    # paramiko logs each failed handshake with a traceback through the root "last resort"
    # handler; the summary reports failures, one line each
    import logging
    logging.getLogger("paramiko").addHandler(logging.NullHandler())
    script, prelude = d.discovery_script(sample_seconds), d.sampler_prelude(sample_seconds)
    started = time.perf_counter()
    with progress.phase("discover.hosts", total=len(pairs)) as ph:
        if via is Via.ansible:
            results = _via_ansible(pairs, d.standalone_script(sample_seconds), concurrency=concurrency,
                                   connect_timeout=connect_timeout, run_timeout=timeout + sample_seconds,
                                   retries=retries, accept_new=accept_new)
            ph.advance(len(results))
        else:
            results = run_many([st for _, st in pairs], script, workers=concurrency,
                               connect_timeout=connect_timeout, run_timeout=timeout + sample_seconds,
                               retries=retries, prelude=prelude, on_done=lambda r: ph.advance(item=r.target))
    seconds = time.perf_counter() - started
    t_hosts_done = time.perf_counter()

    now = d.utc_now()
    reached, failed, facts_by_server, new_obs = [], [], {}, []
    census: list[dict[str, Any]] = []
    for (t, st), r in zip(pairs, results):
        if r.error is None and r.rc not in (0, None):
            kind, why = "remote", (Msg("exit status {rc} (sudo -n needs NOPASSWD)", rc=r.rc) if "sudo" in r.stderr
                                   else Msg("exit status {rc}", rc=r.rc))
        else:
            kind, why = r.error_kind, r.error
        if r.error is not None or kind == "remote":
            failed.append({"server": t.server, "address": f"{st.host}:{st.port}", "reason": kind or "other",
                           "error": why, "attempts": r.attempts, "seconds": round(r.seconds, 2)})
            continue
        facts = d.facts_from_output(t.server, d.merge_sampler_output(r.stdout, r.stderr)[0])
        facts_by_server[t.server] = facts
        srv = inv.servers.get(t.server)
        if srv is not None and srv.census_missing:
            # a record an import left incomplete: what this observation completes (validation
            # applies it on every load; the observation written below is the evidence)
            fill, still = census_fill(srv, facts)
            census.append({"server": t.server, "filled": {k: getattr(v, "value", v) for k, v in fill.items()},
                           "still_missing": [m.value for m in still], "complete": not still})
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
            if census:
                before["census_missing"] = {c["server"]: [m.value for m in inv.servers[c["server"]].census_missing]
                                            for c in census}
                after["census_completed"] = {c["server"]: c["filled"] for c in census}
                after["census_missing"] = {c["server"]: c["still_missing"] for c in census}
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
               # servers an import left incomplete: what this run's facts complete (census_missing)
               "census": census,
               # where the time went (s): loading the inventory, the hosts (connect + script, in
               # parallel), parsing + writing; per host: connect_seconds / script_seconds in `reached`
               "timeline": {"load": round(started - t_load, 2), "hosts": round(seconds, 2),
                            "parse_write": round(time.perf_counter() - t_hosts_done, 2)}}
    return DiscoveryResult(summary, reached, failed, proposals)
