"""Carry out an approved plan's batch: the only place that sequences drivers.

Every step is idempotent (``ensure_*`` in the cloud, idempotent playbooks on hosts) and
journaled before and after, so a run killed at any point is resumed by running the same
command again: steps done since the last rollback are skipped, resources the cloud already
holds are adopted, never created twice.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import random
import re
import shutil
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from govcloud.base.progress import NULL, Phase, Progress
from govcloud.drivers import real
from govcloud.drivers.ports import (HOST_KEY_META, ExecNode, CloudConnector, CloudError, CloudPort, HostProbe, PlaybookPort,
                                    resource_tags)
from govcloud.errors import GovcloudError
from govcloud.migrate import desired as D
from govcloud.migrate import replication as R
from govcloud.migrate import rehearsal as REH
from govcloud.migrate import runinventory as RI
from govcloud.migrate.lifecycle import STATE_AFTER, State, Step, SystemStatus, replay, run_steps
from govcloud.model.cutover import cas_state
from govcloud.model.ids import is_valid_id
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan
from govcloud.redact import scrub_data
from govcloud.store import journal
from govcloud.store.entries import RecordTtlEntry, ReplicationEntry, StepEntry
from govcloud.store.lock import file_lock
from govcloud.store.state import PlanRef, StatePort, SystemClaimedError
from govcloud.base.atomic import write_atomic
from govcloud.base.digest import file_sha256
from govcloud.base.i18n import Msg

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


_joined = D.joined


def _message(exc: BaseException) -> Any:
    """An error's message as raised: a ``Msg`` stays one (the views show it in the reader's language)."""
    return exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)


class StepFailed(GovcloudError):
    def __init__(self, step: Step, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.detail = detail or {}


@dataclass
class Options:
    key: Path | None = None
    source_user: str = "root"
    target_user: str = "root"
    known_hosts: Path | None = None            # for sources and clients
    target_known_hosts: Path | None = None     # else the keys the cloud publishes for new servers
    cloud_config: str | None = None            # clouds.yaml path (else OS_CLIENT_CONFIG_FILE / defaults)
    cloud: str | None = None                   # override the platform's clouds.yaml entry
    admin_cidrs: list[str] = field(default_factory=list)
    parallel: int = 1
    bwlimit_kbps: int = 0
    apply_baseline: bool = False
    server_timeout: float = 600.0
    ssh_timeout: float = 180.0
    playbook_timeout: int = 3600
    unreachable_retries: int = 2               # whole-playbook reruns when only connections failed
    retry_backoff: float = 5.0
    replication: bool = True                   # continuous replication where the source allows it (else dump)
    sync_route: str = "auto"                   # how targets reach their source's data: auto | direct | tunnel


@dataclass
class SystemResult:
    system: str
    state: str
    ok: bool
    steps: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)   # resources created/adopted, playbooks that changed
    error: str | None = None
    error_kind: str | None = None

    def to_plain(self) -> dict[str, Any]:
        return {"system": self.system, "state": self.state, "ok": self.ok, "steps": self.steps,
                "changed": self.changed, "error": self.error, "error_kind": self.error_kind}


@dataclass
class Seed:
    """A rehearsal's playbook run: ``view`` is the system with the synced targets as its sources
    (rehearsal.seed_view), ``clones`` source server id → clone address (the ``target`` hosts)."""

    rid: str
    view: D.SystemTarget
    clones: dict[str, str]


# service stop on the source + start and health on the target, when nothing better is known (s)
SERVICE_STOP_START_S = 15.0


def project_downtime(st: SystemStatus, decisions: list[R.MethodDecision] | None = None,
                     statuses: list[R.ReplicationStatus] | None = None) -> dict[str, Any]:
    """Projected cutover window (replication.project).  The final file delta is predicted by the last
    delta's own rsync time (not the whole sync step, whose checks, tunnels and Ansible overhead do not
    recur); with every database replicating, the last measured replication lag + the fixed catch-up
    work is added, otherwise the databases' dump/restore as the last sync measured it; then the
    services' stop/start.  Without rsync statistics (a journal from before they were recorded) the
    last sync step's wall time stands in for files and databases."""
    from govcloud.migrate.syncstats import last_delta
    delta = last_delta(st.sync_runs)
    return R.project(decisions or [], statuses or [], last_sync_s=st.last_sync_s,
                     stop_start_s=SERVICE_STOP_START_S,
                     files_s=delta.wall_s if delta is not None else None,
                     db_s=delta.database_s if delta is not None else None,
                     delta_bytes=delta.bytes_transferred if delta is not None else None).to_plain()


def downtime_of(messages: dict[str, list[str]], system: str) -> dict[str, Any]:
    """The downtime the client's prober reported (roles/govcloud_cutover/tasks/probe_stop.yml)."""
    for host, msgs in messages.items():
        for m in msgs:
            hit = re.match(rf"downtime {re.escape(system)}: ([\d.]+) s seen from (\S+)", m)
            if hit:
                return {"downtime_s": float(hit.group(1)), "downtime": m, "downtime_client": hit.group(2)}
            if m.startswith(f"downtime {system}: not ended"):
                return {"downtime_s": None, "downtime": m}
    return {}


def _known_file(path: Path | None) -> str:
    return str(path or Path(os.path.expanduser("~/.ssh/known_hosts")))


@dataclass
class SystemChanges:
    """One system's part of the change set: its state, the steps still to run, their changes."""

    system: str
    name: str
    state: str
    steps: list[Step]
    changes: list[D.Change]

    def to_plain(self) -> dict[str, Any]:
        return {"system": self.system, "name": self.name, "state": self.state,
                "steps": [s.value for s in self.steps], "changes": [c.to_plain() for c in self.changes]}


@dataclass
class ChangeSet:
    """The dry run: per system the exact changes `run` carries out, and the quota they need."""

    plan: str
    targets: list[D.SystemTarget]
    systems: list[SystemChanges]
    quota_problems: list[str]

    @property
    def to_do(self) -> int:
        """Changes to make (what --detailed-exitcode counts)."""
        return sum(1 for s in self.systems for c in s.changes if c.action in D.CHANGING)

    @property
    def blocked(self) -> int:
        """Changes that cannot be made, and quota problems."""
        return sum(1 for s in self.systems for c in s.changes if c.action == "blocked") + len(self.quota_problems)

    def to_plain(self) -> dict[str, Any]:
        return {"plan": self.plan, "systems": [s.to_plain() for s in self.systems],
                "quota_problems": list(self.quota_problems), "to_do": self.to_do, "blocked": self.blocked}


@dataclass
class DryRun:
    """What `migrate run --dry-run` reports (and `run` shows before asking): the change set, per system
    how each database moves (replication or dump, and why — information, not a change), and with
    ``--check`` what the playbooks' check mode said. ``to_plain`` is the JSON `--output json` prints."""

    change_set: ChangeSet
    databases: dict[str, list[D.Change]] = field(default_factory=dict)     # system → one row per database
    check: dict[str, Any] | None = None

    @property
    def to_do(self) -> int:
        return self.change_set.to_do

    @property
    def blocked(self) -> int:
        return self.change_set.blocked

    def to_plain(self) -> dict[str, Any]:
        out = self.change_set.to_plain()
        for s in out["systems"]:
            s["databases"] = [c.to_plain() for c in self.databases.get(s["system"], [])]
        if self.check is not None:
            out["check"] = self.check
        return out


class Executor:
    """Carries out a plan's batch through three ports (drivers/ports.py): ``cloud`` opens a
    ``CloudPort`` per clouds.yaml entry, ``playbooks`` runs the step playbooks, ``probe`` checks
    SSH and HTTP from here. They default to the real drivers (OpenStack, ansible-runner,
    sockets); the unit tests pass govcloud.testing's in-memory cloud and scripted playbooks."""

    def __init__(self, plan_dir: Path, plan: Plan, inv: Inventory, opts: Options,
                 on_event: Callable[[str, str], None] | None = None, *,
                 cloud: CloudConnector | None = None, playbooks: PlaybookPort | None = None,
                 probe: HostProbe | None = None, switches: Callable[..., Any] | None = None,
                 progress: Progress = NULL, state: StatePort | None = None) -> None:
        # the cutover record's switch, chosen by kind (RecordSwitch: read + compare-and-swap switch)
        self.record_switch: Callable[..., Any] = switches or real.record_switch
        self.connect_cloud: CloudConnector = cloud or real.openstack_connector(opts.cloud_config)
        self.probe: HostProbe = probe or real.NetworkProbe()
        self.plan_dir = Path(plan_dir).resolve()   # runner processes run elsewhere
        self.plan = plan
        # where the journal, the system locks and the claims live (store/state.py; --state URL)
        if state is None:
            state = real.open_state(None)
        self.state: StatePort = state
        plan_file = self.plan_dir / "plan.yaml"
        self.ref = PlanRef(plan.plan_id, self.plan_dir, file_sha256(plan_file) if plan_file.is_file() else "")
        self.inv = inv
        self.opts = opts
        self.playbooks: PlaybookPort = playbooks or real.AnsiblePlaybooks(node_of=self.execution_node)
        self.run_id = datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.runs_dir = self.plan_dir / "runs" / self.run_id
        # progress (base.progress): per system its steps, each with its hosts and the Ansible task
        # running now; events are notes (lines above the bars on a terminal, a log when piped)
        self.progress = progress
        self.on_event = on_event or (lambda system, msg: self.progress.note(f"{system}: {msg}"))
        self._local = threading.local()
        self._kp_lock = threading.Lock()
        self._kh_lock = threading.Lock()
        self.agent_sock: str | None = None
        self._planned: dict[str, SystemChanges] = {}     # the run's change set, per system

    # ------------------------------------------------------------ selection
    def items_of(self, batch: str, systems: list[str] | None = None) -> list[Any]:
        b = next((b for b in self.plan.batches if b.id == batch or b.id == f"B{batch}" or
                  b.id.lstrip("B0") == str(batch).lstrip("B0")), None)
        if b is None:
            raise GovcloudError(Msg("batch {batch} is not in the plan", batch=repr(batch)),
                                hint=Msg("batches: {batches}", batches=", ".join(x.id for x in self.plan.batches)))
        items = list(b.items)
        if systems:
            unknown = [s for s in systems if s not in {i.system for i in items}]
            if unknown:
                raise GovcloudError(Msg("system(s) {systems} are not in batch {batch}", systems=", ".join(unknown),
                                        batch=b.id))
            groups = {i.move_group for i in items if i.system in systems}
            # a move group moves together: asking for one member brings its group
            items = [i for i in items if i.move_group in groups]
        return items

    def targets(self, items: list[Any], snap_networks: dict[str, dict[str, Any]] | None = None) -> list[D.SystemTarget]:
        zone_cidrs = {name: n.get("cidrs", []) for name, n in (snap_networks or {}).items()}
        return [D.targets_for(self.plan, self.inv, i, admin_cidrs=self.opts.admin_cidrs, zone_cidrs=zone_cidrs)
                for i in items]

    def read_journal(self) -> journal.JournalRead:
        """The plan's journal, read through the state backend."""
        return self.state.read_journal(self.ref)

    def status(self) -> dict[str, SystemStatus]:
        return replay(self.read_journal().entries)

    # ------------------------------------------------------------ cloud
    def conn(self, cloud: str) -> CloudPort:
        cache = getattr(self._local, "conns", None)
        if cache is None:
            cache = self._local.conns = {}
        name = self.opts.cloud or cloud
        if name not in cache:
            cache[name] = self.connect_cloud(name)
        return cache[name]

    def snapshot(self, cloud: str) -> Any:
        return self.conn(cloud).snapshot(self.plan.plan_id)

    # ------------------------------------------------------------ journal
    def j(self, **entry: Any) -> dict[str, Any]:
        return self.state.append_journal(self.ref, scrub_data({"run": self.run_id, **entry}))  # no credential journaled

    def transition(self, system: str, to: State, step: Step | None = None, reason: str | None = None,
                   **extra: Any) -> None:
        self.j(kind="state", system=system, to=to.value, step=step.value if step else None, reason=reason, **extra)
        self.on_event(system, f"→ {to.value}" + (f" ({reason})" if reason else ""))

    @contextmanager
    def _processes(self) -> Iterator[str]:
        """The run's ssh-agent, inside a process guard: everything the run starts (agent,
        playbooks, their ssh/rsync, SSH control masters) ends with it, even on SIGKILL, and what
        an earlier killed run of this plan left behind is ended first and journaled."""
        with self.playbooks.guard(self.plan_dir, self.run_id) as reaped:
            if reaped:
                self.j(kind="reaped", pid=os.getpid(), pid_start=self.playbooks.process_start(),
                       processes=[{"pid": f.pid, "name": f.name, "of_run": f.of_run} for f in reaped])
            with self.playbooks.agent(self.opts.key) as sock:
                self.agent_sock = sock
                yield sock

    # ------------------------------------------------------------ locks
    def lock_scope(self, items: list[Any]) -> list[str]:
        """The systems a step on ``items`` locks: every system of their move groups (a group moves
        together), sorted (store/state: all or none)."""
        groups = {i.move_group for i in items}
        return sorted({i.system for i in self.plan.items() if i.move_group in groups} | {i.system for i in items})

    @contextmanager
    def locked(self, items: list[Any], command: str) -> Iterator[None]:
        """Hold what a step on ``items`` needs, without waiting: the plan directory shared (so
        ``plan generate``/``approve`` cannot rewrite the plan under a run; any number of runs of
        the plan share it) and the locks of the items' systems (another run of one of them:
        refused naming its holder, exit 75)."""
        from govcloud.store.lock import reader_lock
        with reader_lock(self.plan_dir, wait=0), self.state.lock_systems(self.ref, self.lock_scope(items), command):
            yield

    def claim(self, items: list[Any]) -> None:
        """Claim the items' systems for this plan (store/state): another plan or another copy of
        this plan directory holding one is refused naming its owner (exit 75). Under :meth:`locked`."""
        for system in self.lock_scope(items):
            self.state.claim(self.ref, system)

    # ------------------------------------------------------------ dry run
    def change_set(self, items: list[Any], until: State, *, resync: bool = False) -> ChangeSet:
        """Read-only: a live snapshot of each cloud and the exact change list per system — what
        the dry run shows and what `run` then carries out, change by change."""
        statuses = self.status()
        snaps: dict[str, Any] = {}
        for t in self.targets(items):
            cloud = self.opts.cloud or t.cloud
            if t.executable and cloud and cloud not in snaps:
                with self.progress.phase("migrate.snapshot", subject=cloud):
                    snaps[cloud] = self.snapshot(cloud)
        # the zones' networks as the cloud has them: their CIDRs are in the security rules
        nets = {name: n for snap in snaps.values() for name, n in snap.networks.items()}
        targets = self.targets(items, nets)
        systems: list[SystemChanges] = []
        for t in targets:
            cloud = self.opts.cloud or t.cloud
            snap = snaps.get(cloud) if t.executable and cloud else None
            st = statuses.get(t.system, SystemStatus(t.system))
            if snap is None:
                steps, changes = [], [D.Change("blocked", "system", t.system, D.joined(t.problems))]
            else:
                steps, changes = D.changes(t, snap, st, until, resync=resync,
                                           keypair=D.keypair_name(self.plan.plan_id))
                if Step.sync in steps:
                    changes += self._ttl_changes(t)
            systems.append(SystemChanges(t.system, t.name, st.state.value, steps, changes))
        quota = []
        for cloud, snap in snaps.items():
            ts = [t for t in targets if (self.opts.cloud or t.cloud) == cloud and t.executable]
            quota += D.quota_problems(D.quota_needed(ts, snap), snap.limits)
        return ChangeSet(self.plan.plan_id, targets, systems, quota)

    def dry_run(self, items: list[Any], until: State, *, resync: bool = False) -> DryRun:
        """Read-only: the change set `migrate run --dry-run` reports, plus per system how each database
        moves (replication or dump, and why) — information, not a change."""
        cs = self.change_set(items, until, resync=resync)
        statuses = self.status()
        return DryRun(cs, {t.system: self._method_changes(t, statuses.get(t.system, SystemStatus(t.system)))
                           + self._route_changes(t) for t in cs.targets if t.executable})

    def _node_entity(self, system: str) -> Any | None:
        zone = next((i.target_zone for i in self.plan.items() if i.system == system), None)
        return RI.execution_node(self.inv, system, zone)

    def execution_node(self, system: str) -> Any | None:
        """The execution node ``system``'s playbooks run on (drivers/execnode.Node), or None (here).
        Its host key: the inventory's ``host_key`` (written to runs/known_hosts.nodes), else the
        operator's known_hosts file — checked strictly either way."""
        n = self._node_entity(system)
        if n is None:
            return None
        if n.host_key:
            kh = self.plan_dir / "runs" / f"known_hosts.node-{n.id}"
            host = n.address if n.port == 22 else f"[{n.address}]:{n.port}"
            kh.parent.mkdir(parents=True, exist_ok=True)
            with self._kh_lock:
                write_atomic(kh, f"{host} {n.host_key.strip()}\n")
        else:
            kh = Path(_known_file(self.opts.known_hosts))
        return ExecNode(id=n.id, address=n.address, user=n.user, known_hosts=kh, port=n.port, runner=n.runner,
                    work_dir=n.work_dir)

    def _route_changes(self, t: D.SystemTarget) -> list[D.Change]:
        """How each target will reach its source's data (information, not a change): directly over the
        routed network when the source answers there (probed from the target at each sync), else the
        reverse tunnel through the machine that runs the playbooks; with the route the last sync took."""
        last = self._last_routes(t.system)
        how = {"auto": "direct from {addr} if it answers from the target (probed at each sync), "
                       "else the reverse tunnel through {via}",
               "direct": "direct from {addr} only (no fallback through {via})",
               "tunnel": "the reverse tunnel through {via}"}[self.opts.sync_route
                                                              if self.opts.sync_route in RI.SYNC_ROUTES else "auto"]
        node = self._node_entity(t.system)
        via = f"execution node {node.id} ({node.address})" if node else "the control node"
        out = []
        if node:
            out.append(D.Change("path", "playbooks", node.id,
                                f"the playbooks run on execution node {node.id} ({node.address}, ansible-runner worker "
                                f"over SSH): migration data does not cross the control node", step=Step.sync.value))
        for s in t.servers:
            seen = last.get(RI.target_name(s.source))
            note = f"; last sync: {seen['path']} ({seen['at']})" if seen else ""
            out.append(D.Change("path", "data", f"{s.source} → {RI.target_name(s.source)}",
                                how.format(addr=s.source_address or "?", via=via) + note, step=Step.sync.value))
        return out

    def _last_routes(self, system: str) -> dict[str, dict[str, Any]]:
        """The route each target of ``system`` took at its last sync (journaled by the sync step)."""
        out: dict[str, dict[str, Any]] = {}
        for e in self.read_journal().entries:
            if not isinstance(e, StepEntry) or e.system != system or e.step != Step.sync.value or e.status != "ok":
                continue
            routes = (e.detail or {}).get("routes")
            for host, r in (routes.items() if isinstance(routes, dict) else ()):
                if isinstance(r, dict) and r.get("path") in ("direct", "tunnel"):
                    out[str(host)] = {"path": r["path"], "at": e.at or ""}
        return out

    def _method_changes(self, t: D.SystemTarget, st: SystemStatus) -> list[D.Change]:
        """How each database moves (replication or dump, and why), as the sync decides it: from the
        source's last measured facts when a sync measured them, else what the sync will measure."""
        if not t.workload or not t.workload.databases:
            return []
        known, _ = R.latest(self.read_journal().entries, t.system)
        by_key = {d.key: d for d in known}
        out = []
        for db in t.workload.databases:
            key = f"{db.engine.value}/{db.name}"
            d = by_key.get(key)
            if not self.opts.replication:
                d = R.decide(db.engine.value, db.name, None, enabled=False)
            elif d is None:
                d = R.decide(db.engine.value, db.name, None)
                if db.engine.value in R.BLOCKERS:
                    out.append(D.Change("method", "database", key, step=Step.sync.value, detail="replication if the source allows it "
                                        "(measured at sync), else dump: " + d.why("en")))
                    continue
            when = f" (measured {d.measured_at})" if d.measured_at else ""
            out.append(D.Change("method", "database", key, f"{d.method.value}{when}: {d.why('en')}", step=Step.sync.value))
        return out

    def preflight(self, items: list[Any]) -> dict[str, str]:
        """Ansible --check --diff of the precheck playbook on each system's sources (read-only)."""
        out = {}
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        with self._processes():
            for t in self.targets(items):
                if t.executable:
                    r = self._playbook(t, Step.precheck, target_addresses={}, limit="source", check=True)
                    out[t.system] = "ok" if r.ok else "failed: " + "; ".join(
                        m for ms in r.failed_tasks.values() for m in ms[:1])
        return out

    # ------------------------------------------------------------ run
    def run(self, items: list[Any], until: State, *, resync: bool = False) -> list[SystemResult]:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.j(kind="run", command="run", until=until.value, systems=[i.system for i in items],
               parallel=self.opts.parallel)
        # the dry run's change set, derived the same way from the cloud as it is now: the run
        # carries out exactly this list (each ensure_* still re-checks and adopts)
        cs = self.change_set(items, until, resync=resync)
        self._planned = {s.system: s for s in cs.systems}
        targets = cs.targets
        groups: dict[str, list[D.SystemTarget]] = {}
        for t in targets:
            groups.setdefault(t.move_group, []).append(t)
        results: list[SystemResult] = []
        with self._processes(), self.progress.phase("migrate.systems", total=len(targets)) as overall:
            with cf.ThreadPoolExecutor(max_workers=max(1, self.opts.parallel)) as pool:
                futs = [pool.submit(self._run_group, g, until, resync) for g in groups.values()]
                for f in cf.as_completed(futs):
                    done = f.result()
                    results.extend(done)
                    overall.advance(len(done), item=", ".join(r.system for r in done)[:60])
        order = {t.system: n for n, t in enumerate(targets)}
        return sorted(results, key=lambda r: order.get(r.system, 0))

    def _run_group(self, group: list[D.SystemTarget], until: State, resync: bool) -> list[SystemResult]:
        out = []
        for t in group:
            out.append(self._run_system(t, until, resync))
        return out

    def _run_system(self, t: D.SystemTarget, until: State, resync: bool) -> SystemResult:
        st = self.status().get(t.system, SystemStatus(t.system))
        res = SystemResult(t.system, st.state.value, True)
        if not t.executable:
            res.ok, res.error, res.error_kind = False, _joined(t.problems), "blocked"
            return res
        steps = run_steps(st, until, resync=resync)
        with self.progress.phase("migrate.steps", total=len(steps), subject=t.system) as ph:
            self._local.phase = ph
            try:
                return self._run_steps(t, st, steps, res, ph)
            finally:
                self._local.phase = None

    def _run_steps(self, t: D.SystemTarget, st: SystemStatus, steps: list[Step], res: SystemResult,
                   ph: Phase) -> SystemResult:
        for step in steps:
            self.j(kind="step", system=t.system, step=step.value, status="start")
            self.on_event(t.system, f"{step.value} …")
            ph.advance(0, item=self._doing(t, step))
            try:
                detail = getattr(self, f"_step_{step.value}")(t, st)
            except StepFailed as exc:
                self.j(kind="step", system=t.system, step=step.value, status="fail", reason=str(exc),
                       detail=exc.detail)
                self.transition(t.system, State.failed, step, str(exc))
                res.ok, res.error, res.state = False, _message(exc), State.failed.value
                res.error_kind = exc.detail.get("kind")
                return res
            except Exception as exc:  # noqa: BLE001 — journal every failure; the other systems go on
                kind = getattr(exc, "kind", None) if isinstance(exc, GovcloudError) else "internal"
                why = str(exc) if isinstance(exc, GovcloudError) else f"{type(exc).__name__}: {str(exc)[:300]}"
                self.j(kind="step", system=t.system, step=step.value, status="fail", reason=why,
                       detail={"kind": kind})
                self.transition(t.system, State.failed, step, why)
                res.ok, res.state, res.error_kind = False, State.failed.value, kind
                res.error = _message(exc) if isinstance(exc, GovcloudError) else why
                return res
            self.j(kind="step", system=t.system, step=step.value, status="ok", detail=detail)
            if step is not Step.provision:     # provision journals each of its changes itself
                self._journal_change(t.system, self._planned_playbook(t, step, st), "ran")
            res.steps.append(step.value)
            res.changed += detail.get("changed", [])
            new = STATE_AFTER[step]
            if st.state is not new:
                self.transition(t.system, new, step)
            st = self.status().get(t.system, SystemStatus(t.system))
            ph.advance(item=self._doing(t, step))
        res.state = st.state.value
        return res

    @staticmethod
    def _doing(t: D.SystemTarget, step: Step, task: str | None = None, host: str | None = None) -> str:
        """What a system's progress line shows: the step, the Ansible task running now and its host
        (else the system's hosts)."""
        hosts = host or ", ".join(s.source_hostname or s.source for s in t.servers) or "-"
        if len(hosts) > 40:
            hosts = hosts[:39] + "…"
        return f"{step.value}{' · ' + task[:40] if task else ''} @ {hosts}"

    def _planned_playbook(self, t: D.SystemTarget, step: Step, st: SystemStatus) -> D.Change:
        planned = self._planned.get(t.system)
        for c in planned.changes if planned else ():
            if c.step == step.value and c.kind == "playbook":
                return c
        return D.playbook_change(t, step, st)

    # ------------------------------------------------------------ steps
    def _step_precheck(self, t: D.SystemTarget, st: SystemStatus) -> dict[str, Any]:
        cloud = self.opts.cloud or t.cloud
        snap = self.snapshot(cloud)
        problems = []
        if t.network and t.network not in snap.networks and not t.network_cidr:
            problems.append(Msg("network {network} does not exist", network=t.network))
        for s in t.servers:
            if (t.system, s.source) in snap.servers:
                continue
            if s.flavor not in snap.flavors:
                problems.append(Msg("flavor {flavor} does not exist", flavor=s.flavor))
            if s.image not in snap.images:
                problems.append(Msg("image {image} does not exist", image=s.image))
        problems += D.quota_problems(D.quota_needed([t], snap), snap.limits)
        if problems:
            raise StepFailed(Step.precheck, _joined(problems),
                             detail={"kind": "quota" if any(p.startswith("quota") for p in problems) else "cloud"})
        self._precheck_record(t)
        run = self._playbook(t, Step.precheck, target_addresses={}, limit="source")
        return {"changed": [], "messages": run.messages}

    def _precheck_record(self, t: D.SystemTarget) -> None:
        """Before anything is provisioned: the record's switch can be built (a dns record's key file
        exists and is private), its server or API answers, and a dns record's key is accepted (a
        signed update that changes nothing). Kind hosts is read on its clients at cutover."""
        rec = t.workload.cutover_record if t.workload else None
        if rec is None or rec.kind == "hosts":
            return
        try:
            sw = self._switch(t)
            sw.read()
            if sw.kind == "dns":
                sw.check_key()
        except GovcloudError as exc:
            raise StepFailed(Step.precheck, self._record_error(t, exc),
                             detail={"kind": "record", "code": getattr(exc, "code", None)}) from None

    def _record_error(self, t: D.SystemTarget, exc: Exception) -> str:
        """A record error with the inventory file, line and field that set the record (for a key
        problem the tsig_key field, whose key file the driver's message names)."""
        code = getattr(exc, "code", None)
        field = "tsig_key" if code == "auth" or "TSIG key" in str(exc) else \
            {"dns": "server", "haproxy": "api"}.get(t.workload.cutover_record.kind, "name")
        return f"{exc} [{self._field_where(t, field)}]"

    def _field_where(self, t: D.SystemTarget, field: str) -> str:
        where = f"systems[{t.system}].workload.cutover_record.{field}"
        file, index = self.inv.origin.get(("systems", t.system), (None, None))
        if file is None:
            return where
        line = None
        try:
            import yaml
            from govcloud.base.reader import GovLoader, locate_in_node
            from govcloud.store.planfile import inventory_of
            root = inventory_of(self.plan, self.plan_dir / "plan.yaml")
            node = yaml.compose((root / file).read_text(encoding="utf-8"), Loader=GovLoader)
            line, _ = locate_in_node(node, ("systems", index, "workload", "cutover_record", field))
        except Exception:  # noqa: BLE001 — the position is a courtesy; the file and field stay
            line = None
        return f"{file}{f':{line}' if line else ''} {where}"

    def _keypair(self, conn: CloudPort) -> tuple[dict[str, Any], str]:
        if self.opts.key is None:
            raise GovcloudError(Msg("provisioning needs --key (its public part becomes the servers' keypair)"))
        with self._kp_lock, self.state.plan_lock(self.ref, f"keypair of {self.plan.plan_id} (run {self.run_id})"):
            return conn.ensure_keypair(D.keypair_name(self.plan.plan_id), self.playbooks.public_key(self.opts.key))

    def _step_provision(self, t: D.SystemTarget, st: SystemStatus) -> dict[str, Any]:
        """Carry out the provision changes of the run's change set (the dry run's list), each
        through its one ``ensure_*`` — which re-checks the cloud and adopts what it finds — and
        journal each as it is done."""
        cloud = self.opts.cloud or t.cloud
        conn = self.conn(cloud)
        planned = self._planned.get(t.system)
        if planned is not None:
            todo = [c for c in planned.changes if c.step == Step.provision.value]
        else:   # a step run outside run(): derive the list the same way, now
            todo = D.provision_changes(t, self.snapshot(cloud), st, D.keypair_name(self.plan.plan_id))
        blocked = [Msg("{kind} {name}: {detail}", kind=c.kind, name=c.name, detail=c.detail)
                   for c in todo if c.action == "blocked"]
        if blocked:
            raise StepFailed(Step.provision, _joined(blocked), detail={"kind": "cloud"})
        # a system's cloud resources belong to one plan: claim it before creating anything
        # (the use case claimed it already; here for a step run on its own) — another plan, or
        # another copy of this plan directory, holding it is refused naming the owner
        try:
            self.state.claim(self.ref, t.system)
        except SystemClaimedError as exc:
            raise StepFailed(Step.provision, str(exc), detail={"kind": "claimed"}) from None
        changed: list[str] = []
        tags = resource_tags(self.plan.plan_id, t.system)
        servers = {s.source: s for s in t.servers}
        built: dict[str, tuple[dict[str, Any], str | None]] = {}     # source → (server info, address)

        def record(key: str, kind: str, info: dict[str, Any], action: str) -> None:
            if action != "kept" or key not in st.resources:
                self.j(kind="resource", system=t.system, key=key, action=action if key not in st.resources or
                       action != "kept" else "adopted", resource={"kind": kind, **info})
            if action in ("created", "changed") or key not in st.resources:
                name = info.get("name")
                changed.append(Msg("adopted {kind} {name}", kind=kind, name=name) if action == "kept" else
                               Msg("changed {kind} {name}", kind=kind, name=name) if action == "changed" else
                               Msg("created {kind} {name}", kind=kind, name=name))

        for c in todo:
            if c.kind == "keypair":
                _kp, outcome = self._keypair(conn)
            elif c.kind == "network":
                # plan-wide: two runs of the plan (other systems) may want it at once — one creates it
                with self.state.plan_lock(self.ref, f"network {t.network} (run {self.run_id})"):
                    net, outcome = conn.ensure_network(t.network, t.network_cidr, tags[:2])
                if outcome == "created":
                    record(c.key, "network", net, outcome)
            elif c.kind == "security_group":
                sg, outcome = conn.ensure_security_group(
                    t.security_group, t.rules, tags, f"govcloud {self.plan.plan_id} {t.system}: least-privilege ingress")
                record(c.key, "security_group", sg, outcome)
            elif c.kind == "server":
                s = servers[c.server]
                self._refuse_foreign_servers(conn, t.system, s.source)
                try:
                    info, outcome = conn.ensure_server(
                        plan_id=self.plan.plan_id, system=t.system, server=s.source, name=s.name,
                        flavor=s.flavor, image=s.image, network=t.network, keypair=D.keypair_name(self.plan.plan_id),
                        security_group=t.security_group, availability_zone=t.availability_zone,
                        timeout=self.opts.server_timeout)
                except CloudError as exc:
                    if exc.removed_server:
                        self.j(kind="cleanup", system=t.system, key=s.key, resource=exc.removed_server,
                               reason=f"server in ERROR removed: {exc}")
                    raise StepFailed(Step.provision, str(exc), detail={"kind": exc.kind}) from None
                addr = (info.get("addresses", {}).get(t.network) or [None])[0]
                built[s.source] = (info, addr)
                record(s.key, "server", {"id": info["id"], "name": info["name"], "address": addr}, outcome)
            elif c.kind == "volume":
                size = dict(servers[c.server].volumes)[c.name]
                v, outcome = conn.ensure_volume(plan_id=self.plan.plan_id, system=t.system, name=c.name,
                                                size_gb=size, server_id=built[c.server][0]["id"])
                record(c.key, "volume", v, outcome)
            elif c.kind == "floating_ip":
                ip, outcome = conn.ensure_floating_ip(plan_id=self.plan.plan_id, server_id=built[c.server][0]["id"],
                                                      external_network=t.floating_network, label=c.name)
                record(c.key, "floating_ip", {**ip, "name": c.name}, outcome)
            else:
                raise AssertionError(f"no ensure for a {c.kind} change")
            self._journal_change(t.system, c, outcome)
        for source, (info, addr) in built.items():
            self._trust_target(conn, info["id"], addr, servers[source].name)
        return {"changed": changed}

    def _refuse_foreign_servers(self, conn: CloudPort, system: str, server: str) -> None:
        """Defence in depth behind the claims (two machines with two file states share no claim):
        a server the cloud already holds for this system's source ``server`` under ANOTHER plan's
        tag refuses the creation of a second one for the same source."""
        others = sorted({f"{x['plan']} ({x['name']})" for x in conn.system_servers(system)
                         if x.get("server") == server and x.get("plan") != self.plan.plan_id})
        if others:
            raise StepFailed(Step.provision,
                             Msg("{system}: the cloud already holds a server of source {server} for another plan: "
                                 "{plans} — a system's cloud resources belong to one plan", system=system,
                                 server=server, plans=", ".join(others)),
                             detail={"kind": "claimed"})

    def _journal_change(self, system: str, change: D.Change, outcome: str) -> None:
        """One change of the change set carried out: what the dry run listed, and what the
        ``ensure_*`` (or the playbook) found and did."""
        self.j(kind="change", system=system, change=change.to_plain(), outcome=outcome)

    def _known_targets(self) -> Path:
        return self.plan_dir / "runs" / "known_hosts.targets"

    def _known_clones(self) -> Path:
        """The host keys of rehearsal clones (as the cloud published them), apart from the targets'."""
        return self.plan_dir / "runs" / "known_hosts.rehearsal"

    def _trust_target(self, conn: CloudPort, server_id: str, addr: str | None, name: str, *,
                      known: Path | None = None) -> None:
        """Record the new server's host key as the cloud publishes it, then wait for SSH.
        With --target-known-hosts the operator's file is the only authority (``known``: the file to
        record it in whatever that option says — a rehearsal's clones, whose keys no operator knows)."""
        if not addr:
            raise StepFailed(Step.provision, Msg("server {name} has no address on its network", name=name))
        if self.opts.target_known_hosts is None or known is not None:
            deadline = time.monotonic() + self.opts.ssh_timeout
            key = None
            while key is None and time.monotonic() < deadline:
                key = conn.host_key_of(server_id)
                if key is None:
                    time.sleep(1)
            if key is None:
                raise StepFailed(Step.provision, Msg("server {name} publishes no SSH host key (metadata {meta} or "
                                                     "cloud-init console block); give --target-known-hosts",
                                                     name=name, meta=HOST_KEY_META), detail={"kind": "hostkey"})
            path = known or self._known_targets()
            path.parent.mkdir(parents=True, exist_ok=True)
            # shared by every run of the plan (two processes on two systems at once): read-modify-
            # write under a lock of the file (threads and processes), then an atomic rename
            with self._kh_lock, file_lock(path.with_name(path.name + ".lock")):
                lines = [ln for ln in (path.read_text().splitlines() if path.exists() else [])
                         if ln.split(" ", 1)[0] != addr]
                lines.append(f"{addr} {key}")
                write_atomic(path, "\n".join(sorted(lines)) + "\n")
        if not self.probe.wait_ssh(addr, 22, self.opts.ssh_timeout):
            raise StepFailed(Step.provision, Msg("server {name} ({addr}) does not answer SSH after {seconds:.0f}s",
                                                 name=name, addr=addr, seconds=self.opts.ssh_timeout),
                             detail={"kind": "timeout"})

    def _ensure_trusted(self, t: D.SystemTarget, addrs: dict[str, str]) -> None:
        """A resumed run (or another machine) may lack the recorded host keys: fetch them again
        from the cloud for the servers the journal names."""
        path = self._known_targets()
        have = {ln.split(" ", 1)[0] for ln in (path.read_text().splitlines() if path.exists() else [])}
        st = self.status().get(t.system, SystemStatus(t.system))
        for s in t.servers:
            addr = addrs.get(s.source)
            r = st.resources.get(s.key)
            if addr and addr not in have and r and r.get("id"):
                self._trust_target(self.conn(self.opts.cloud or t.cloud), r["id"], addr, s.name)

    def _target_addresses(self, t: D.SystemTarget) -> dict[str, str]:
        st = self.status().get(t.system, SystemStatus(t.system))
        out = {}
        for s in t.servers:
            r = st.resources.get(s.key)
            if r and r.get("address"):
                out[s.source] = r["address"]
        return out

    def _playbook(self, t: D.SystemTarget, step: Step, *, target_addresses: dict[str, str] | None = None,
                  limit: str | None = None, sync_mode: str = "initial", keep_target: bool = True,
                  check: bool = False, extra: dict[str, Any] | None = None, playbook: str | None = None,
                  name: str | None = None, reverse: bool = False, seed: Seed | None = None) -> Any:
        playbook = PLAYBOOKS / (playbook or D.PLAYBOOK_OF[step])
        if not playbook.is_file():
            raise StepFailed(step, Msg("playbook {playbook} is missing from this installation", playbook=playbook),
                             detail={"kind": "install"})
        src_login = RI.Login(self.opts.source_user, _known_file(self.opts.known_hosts))
        tgt_known = str(self.opts.target_known_hosts or self._known_targets())
        if seed is not None:
            # a rehearsal: the clones play `target`, the SYNCED TARGETS play `source` (read-only), logged
            # into as targets are and checked against the targets' recorded keys; the clones' keys are
            # the ones the cloud published for them (rehearsal known_hosts)
            t, addrs = seed.view, seed.clones
            src_login = RI.Login(self.opts.target_user, tgt_known)
            tgt_known = str(self._known_clones())
        else:
            addrs = self._target_addresses(t) if target_addresses is None else target_addresses
            if addrs and self.opts.target_known_hosts is None:
                self._ensure_trusted(t, addrs)
        src_known = Path(src_login.known_hosts)
        source_known = {s.source: RI.known_host_lines(src_known, [s.source_address or "", s.source_hostname or ""])
                        for s in t.servers}
        ev = RI.extravars(t, sync_mode=sync_mode, bwlimit_kbps=self.opts.bwlimit_kbps, keep_target=keep_target,
                          apply_baseline=self.opts.apply_baseline, sync_route=self.opts.sync_route)
        if t.workload and t.workload.databases:
            ev.update(self._methods_extravar(t) if seed is None else {"govcloud_db_methods": R.methods_extravar(
                [R.decide(d.engine.value, d.name, None, enabled=False) for d in t.workload.databases],
                plan_id=self.plan.plan_id, system=t.system)})      # a rehearsal: dump only, nothing to tear down
        if seed is not None:
            ev.update(REH.extravars(seed.rid))
        ev.update(extra or {})
        attempts = 1 + (0 if check else self.opts.unreachable_retries)
        for attempt in range(1, attempts + 1):
            # each playbook run gets its own connection masters and its own tunnel port: a master
            # of the previous playbook may still hold its forward on the target for a few seconds,
            # and one persisted by an earlier run would forward that run's (gone) agent
            if reverse:     # a failback: the original sources pull from their cloud servers
                inv = RI.build_reverse(t, source_login=RI.Login(self.opts.source_user, str(src_known)),
                                       target_login=RI.Login(self.opts.target_user, tgt_known),
                                       target_addresses=addrs,
                                       target_known={s: RI.known_host_lines(Path(tgt_known), [a])
                                                     for s, a in addrs.items()},
                                       tunnel_port=random.randrange(20000, 30000))
            else:
                inv = RI.build(t, source_login=src_login,
                               target_login=RI.Login(self.opts.target_user, tgt_known),
                               target_addresses=addrs, source_known=source_known,
                               tunnel_port=random.randrange(20000, 30000))
            pdd = self.run_dir(t.system, f"{name or step.value}-{uuid.uuid4().hex[:4]}")
            control_dir = tempfile.mkdtemp(prefix="gc-cp-")   # short: unix socket paths are limited
            try:
                ph = getattr(self._local, "phase", None)
                on_task = None if ph is None else (
                    lambda host, task, ph=ph: ph.advance(0, item=self._doing(t, step, task, host)))
                run = self.playbooks.run(playbook, inv, limit=limit, extravars=ev, check=check, on_task=on_task,
                                         private_data_dir=pdd, timeout=self.opts.playbook_timeout,
                                         forks=max(5, len(t.servers) * 2 + len(t.client_addresses)),
                                         envvars={"SSH_AUTH_SOCK": self.agent_sock or "",
                                                  "ANSIBLE_SSH_CONTROL_PATH_DIR": control_dir,
                                                  "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=20s"})
            finally:
                shutil.rmtree(control_dir, ignore_errors=True)
            if run.ok or check:
                return run
            dark = set((run.stats.get("dark") or {}).keys())
            failures = {h for h, n in (run.stats.get("failures") or {}).items() if n}
            if dark and not (failures - dark) and attempt < attempts:
                # a connection dropped: the playbooks are idempotent, so run it again after a pause
                self.j(kind="retry", system=t.system, step=step.value, attempt=attempt, unreachable=sorted(dark),
                       artifacts=str(pdd))
                self.on_event(t.system, f"{step.value}: {', '.join(sorted(dark))} unreachable — retry {attempt}")
                time.sleep(self.opts.retry_backoff * attempt)
                continue
            failed = "; ".join(f"{h}: {m}" for h, ms in run.failed_tasks.items() for m in ms[:2]) or run.status
            raise StepFailed(step, Msg("{playbook} failed: {failed}", playbook=D.PLAYBOOK_OF.get(step, playbook.name),
                                       failed=failed),
                             detail={"kind": "unreachable" if dark else "playbook", "artifacts": str(pdd),
                                     "failed": run.failed_tasks})
        raise AssertionError("unreachable")

    def run_dir(self, system: str, name: str) -> Path:
        """runs/<run>/<system>/<name>, created: only from a valid id, and only inside the plan's runs/
        (a symlink planted in a shared plan directory must not carry the run's files elsewhere)."""
        if not is_valid_id(system) or not is_valid_id(name):
            raise GovcloudError(Msg("refusing a run directory for {system}/{name}: not a valid id",
                                    system=f"{system!r:.80}", name=f"{name!r:.40}"))
        root = (self.plan_dir / "runs")
        root.mkdir(parents=True, exist_ok=True)
        root = root.resolve()
        real = root
        for part in (self.runs_dir.name, system, name):   # one level at a time: nothing made outside
            real.joinpath(part).mkdir(exist_ok=True)
            nxt = real.joinpath(part).resolve()
            if nxt.parent != real or not nxt.is_relative_to(root):
                raise GovcloudError(Msg("refusing run directory {path}: {part} resolves to {real}, outside {root}",
                                        path=str(self.runs_dir / system / name), part=str(real / part),
                                        real=str(nxt), root=str(root)))
            real = nxt
        return real

    def _step_configure(self, t: D.SystemTarget, st: SystemStatus) -> dict[str, Any]:
        run = self._playbook(t, Step.configure, limit="target")
        return {"changed": [Msg("configure: {n} changed", n=n) for n in [run.changed()] if n]}

    def _decide_methods(self, t: D.SystemTarget) -> list[R.MethodDecision]:
        """Probe the sources and the paths from the targets (read-only), decide the method per
        database (replication.decide) and journal facts and decisions."""
        dbs = [(d.engine.value, d.name) for d in (t.workload.databases if t.workload else ())]
        if not dbs:
            return []
        facts: dict[str, R.SourceFacts] = {}
        if self.opts.replication and any(e in R.BLOCKERS for e, _ in dbs):
            run = self._playbook(t, Step.sync, playbook="migrate_repl_facts.yml", name="replfacts")
            facts = R.facts_from_messages(run.messages, measured_at=journal.now())
        decisions = R.decide_all(dbs, facts, enabled=self.opts.replication)
        self.j(kind="replication", system=t.system, step=Step.sync.value,
               facts=[f.to_plain() for f in facts.values()], decisions=[d.to_plain() for d in decisions])
        for d in decisions:
            self.on_event(t.system, f"{d.key}: {d.method.value}" + ("" if d.method is R.Method.replication
                                                                     else f" — {d.why('en')}"))
        return decisions

    def _methods_extravar(self, t: D.SystemTarget) -> dict[str, Any]:
        entries = self.read_journal().entries
        known = {d.key: d for d in R.latest(entries, t.system)[0]}
        decisions = [known.get(f"{db.engine.value}/{db.name}") or R.decide(db.engine.value, db.name, None)
                     for db in (t.workload.databases if t.workload else ())]
        before = {d.get("engine", "") + "/" + d.get("name", "") for e in entries
                  if isinstance(e, ReplicationEntry) and e.system == t.system
                  for d in e.decisions if d.get("method") == "replication"}
        return {"govcloud_db_methods": R.methods_extravar(decisions, plan_id=self.plan.plan_id, system=t.system,
                                                          replicated_before=before)}

    def _step_sync(self, t: D.SystemTarget, st: SystemStatus) -> dict[str, Any]:
        mode = "delta" if st.syncs else "initial"
        decisions = self._decide_methods(t)
        run = self._playbook(t, Step.sync, limit="target", sync_mode=mode)
        detail: dict[str, Any] = {"changed": [Msg("sync ({mode}): {n} changed", mode=mode, n=run.changed())]
                                  if run.changed() else [],
                                  "mode": mode, "messages": self._sync_stats(t, mode, run.messages),
                                  "methods": {d.key: d.method.value for d in decisions}}
        self._journal_repl_status(t, run.messages)
        if getattr(run, "node", None):
            detail["node"] = dict(run.node)
            self.on_event(t.system, f"sync on execution node {run.node['id']}: "
                                    f"{run.node['sent']} B sent, {run.node['received']} B received")
        routes = RI.datapath_reports(run.messages)
        if routes:
            detail["routes"] = routes
            for host, r in sorted(routes.items()):
                self.on_event(t.system, f"data {r['source']} → {host}: {r['path']}"
                                        + (f" (direct path: {r['direct_error'][:120]})"
                                           if r["path"] == "tunnel" and r["direct_error"] else ""))
        ttl = self._lower_ttl(t)
        if ttl is not None and ttl["changed"]:
            detail["changed"].append(Msg("TTL {record} {before} → {after} s", record=ttl["record"],
                                         before=ttl["ttl_before"], after=ttl["ttl"]))
        return detail

    def probe_replication(self, items: list[Any]) -> dict[str, list[R.ReplicationStatus]]:
        """Live, read-only: state and lag of every replicated database of ``items`` (journaled)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        entries = self.read_journal().entries
        out: dict[str, list[R.ReplicationStatus]] = {}
        with self._processes():
            for t in self.targets(items):
                decisions, _ = R.latest(entries, t.system)
                st = self.status().get(t.system, SystemStatus(t.system))
                if not t.executable or not any(d.method is R.Method.replication for d in decisions) or \
                        st.state not in (State.synced, State.failed):
                    continue
                run = self._playbook(t, Step.sync, playbook="migrate_repl_status.yml", name="replstatus")
                out[t.system] = self._journal_repl_status(t, run.messages)
        return out

    def _journal_repl_status(self, t: D.SystemTarget, messages: dict[str, list[str]]) -> list[R.ReplicationStatus]:
        recs = R.statuses_from_messages(messages, measured_at=journal.now())
        if recs:
            self.j(kind="replication", system=t.system, status=[r.to_plain() for r in recs])
            for r in recs:
                self.on_event(t.system, r.text("en"))
        return recs

    def _sync_stats(self, t: D.SystemTarget, mode: str, messages: dict[str, list[str]]) -> dict[str, list[str]]:
        """Journal the run's rsync statistics as one typed record; the messages without them."""
        from govcloud.migrate.syncstats import human_bytes, sync_run, without_stats
        rec = sync_run(messages, mode)
        if rec is not None:
            self.j(kind="sync_stats", system=t.system, **rec.to_journal())
            self.on_event(t.system, f"{mode} sync: {rec.files_transferred} files, "
                                    f"{human_bytes(rec.bytes_transferred)} in {rec.wall_s:.1f} s")
        return without_stats(messages)

    # ------------------------------------------------------------ cutover / verify / rollback
    def cutover(self, items: list[Any], *, today: date, force_reason: str | None = None) -> list[SystemResult]:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        statuses = self.status()
        targets = self.targets(items)
        results: list[SystemResult] = []
        blocked = []
        for t in targets:
            st = statuses.get(t.system, SystemStatus(t.system))
            if st.state in (State.verified, State.done, State.decommissioned):
                results.append(SystemResult(t.system, st.state.value, True))
                continue
            # a cutover killed before its verification (state cutover) is resumed: its steps are idempotent
            if st.state not in (State.synced, State.cutover) and not (
                    st.state is State.failed and "sync" in st.done_steps and st.failed_step in ("cutover", "verify")):
                blocked.append(Msg("{system} is {state}, not synced (run `govcloud migrate run` first)",
                                   system=t.system, state=st.state.value))
        window = {t.system: t.cutover for t in targets}
        outside = [s for s, d in window.items() if d != today.isoformat()]
        unrehearsed = self.unrehearsed(targets, statuses, today)
        frozen = [f for f in self.inv.freeze_windows.values() if f.start <= today <= f.end]
        if blocked:
            raise GovcloudError(Msg("cannot cut over: {why}", why=_joined(blocked)))
        if (outside or frozen or unrehearsed) and not force_reason:
            why = []
            if unrehearsed:
                why.append(Msg("no successful rehearsal in the last {days} days for {systems}",
                               days=self.rehearsal_max_age(), systems=", ".join(
                                   f"{s} ({d or Msg('never')})" for s, d in unrehearsed.items())))
            if outside:
                why.append(Msg("outside the planned cutover day for {systems}",
                               systems=", ".join(f"{s} ({window[s] or 'none'})" for s in outside)))
            if frozen:
                why.append(Msg("inside freeze window {windows}", windows=", ".join(f"{f.id} {f.name}" for f in frozen)))
            raise GovcloudError(Msg("refusing to cut over: {why}", why=_joined(why)),
                                hint=Msg("wait for the window, or force with --force --reason \"…\" (recorded)"))
        entries = self.read_journal().entries
        projection = {t.system: project_downtime(statuses.get(t.system, SystemStatus(t.system)),
                                                 *R.latest(entries, t.system)) for t in targets}
        approved = self.approved_downtime()
        over = [s for s, p in projection.items() if approved is not None and p["total_s"] > approved]
        if over and not force_reason:
            raise GovcloudError(
                Msg("refusing to cut over: projected downtime exceeds the approved window of {approved} s: {systems}",
                    approved=approved, systems=", ".join(f"{s} {projection[s]['total_s']:.0f} s" for s in over)),
                hint=Msg("shorten the final sync (another `migrate run --resync` first), or force with --force "
                         "--reason \"…\" (recorded)"))
        todo = [t for t in targets if statuses.get(t.system, SystemStatus(t.system)).state not in
                (State.verified, State.done, State.decommissioned)]
        # the run's agent first: reading a kind-hosts record means SSH to its clients
        with self._processes():
            self._cutover_todo(todo, targets, results, force_reason=force_reason, outside=outside, frozen=frozen,
                               projection=projection, approved=approved, over=over, unrehearsed=unrehearsed)
        return results

    def _cutover_todo(self, todo: list[D.SystemTarget], targets: list[D.SystemTarget], results: list[SystemResult],
                      *, force_reason: str | None, outside: list[str], frozen: list[Any],
                      projection: dict[str, Any], approved: int | None, over: list[str],
                      unrehearsed: dict[str, str | None]) -> None:
        # the records: each must hold the source's value now (compare-and-swap, checked again at the
        # switch itself), and a DNS record's old TTL must have expired since `migrate run` lowered it
        conflicts, ttl_pending = [], []
        for t in todo:
            gate = self._record_gate(t)
            conflicts += gate["conflicts"]
            ttl_pending += gate["ttl_pending"]
        if conflicts:
            for c in conflicts:
                self.j(kind="switch", system=c["system"], record=c["record"], status="refused", code="conflict",
                       live=c["live"], expected=c["expected"], reason="the record is not the source's: nothing changed")
            raise GovcloudError(
                Msg("refusing to cut over: a record is not what the plan expects, nothing was changed: {records}",
                    records=_joined([Msg("{system}: {record} is {live}, expected {expected}", system=c["system"],
                                         record=c["record"], live=str(list(c["live"])) if c["live"] else Msg("absent"),
                                         expected=str(list(c["expected"]))) for c in conflicts])),
                hint=Msg("someone changed the record: check it, put it back to the source, then cut over again"))
        if ttl_pending and not force_reason:
            raise GovcloudError(
                Msg("refusing to cut over: the old TTL of a DNS record has not expired yet: {records}",
                    records="; ".join(p["why"] for p in ttl_pending)),
                hint=Msg("wait until then (caches would keep sending clients to the source), or force with "
                         "--force --reason \"…\" (recorded)"))
        self.j(kind="run", command="cutover", systems=[t.system for t in targets], forced=bool(force_reason),
               reason=force_reason, outside_window=outside, freeze=[f.id for f in frozen],
               projection=projection, approved_downtime_s=approved, over_window=over,
               unrehearsed=sorted(unrehearsed),
               ttl_pending=[{k: v for k, v in p.items() if k != "why"} for p in ttl_pending])
        groups: dict[str, list[D.SystemTarget]] = {}
        for t in todo:
            groups.setdefault(t.move_group, []).append(t)
        with self.progress.phase("migrate.systems", total=len(todo)) as overall, \
                cf.ThreadPoolExecutor(max_workers=max(1, self.opts.parallel)) as pool:
            for f in cf.as_completed([pool.submit(self._cutover_group, g) for g in groups.values()]):
                done = f.result()
                results.extend(done)
                overall.advance(len(done), item=", ".join(r.system for r in done)[:60])

    # ------------------------------------------------------------ the cutover record (dns / haproxy)
    def _switch(self, t: D.SystemTarget) -> Any | None:
        """The record's switch (drivers/switching.py, chosen by kind: dns, haproxy, hosts); None
        without a record. Kind hosts reads and writes the clients' /etc/hosts through
        ``migrate_record.yml`` (the clients runner below); the decision, the compare-and-swap, the
        journal and the switch-back are the same as for the other kinds. Secrets (the TSIG key
        file) are read here, in this process, and reach no playbook, journal or command line."""
        rec = t.workload.cutover_record if t.workload else None
        if rec is None:
            return None
        try:
            return self.record_switch(rec, clients=self._clients_runner(t))
        except GovcloudError as exc:       # e.g. the key file is missing or others can read it
            raise GovcloudError(self._record_error(t, exc), hint=getattr(exc, "hint", None)) from None

    def _clients_runner(self, t: D.SystemTarget) -> Callable[[str, tuple[str, ...], tuple[str, ...]],
                                                             dict[str, dict[str, Any]]]:
        """Kind hosts: run migrate_record.yml on the system's clients (``read`` or compare-and-swap
        ``switch``) and return each client's ``govcloud-record`` report."""
        def run(action: str, expected: tuple[str, ...], new: tuple[str, ...]) -> dict[str, dict[str, Any]]:
            if not t.client_addresses:
                return {}
            r = self._playbook(t, Step.cutover, limit="clients", playbook="migrate_record.yml",
                               name=f"record-{action}", extra={"govcloud_record_op": action,
                                                               "govcloud_record_expected": list(expected),
                                                               "govcloud_record_new": list(new)})
            out = RI.record_reports(r.messages)
            missing = sorted({RI.client_host(t, cid) for cid in t.client_addresses} - set(out))
            if missing:
                raise GovcloudError(Msg("{system}: migrate_record.yml did not report the record on {hosts}",
                                        system=t.system, hosts=", ".join(missing)))
            return out
        return run

    def _record_name(self, t: D.SystemTarget) -> str:
        rec = t.workload.cutover_record if t.workload else None
        return f"{rec.kind}:{rec.name}" if rec else ""

    def _switch_record(self, t: D.SystemTarget, sw: Any, *, to: str) -> Any:
        """Compare-and-swap the record to the target's (or back to the source's) values; old → new
        journaled; a record that is neither refuses and changes nothing."""
        src, tgt = D.record_values(t, self._target_addresses(t))
        if not src or not tgt:
            raise GovcloudError(Msg("{system}: cannot switch {record}: no source address", system=t.system,
                                    record=self._record_name(t)) if not src else
                                Msg("{system}: cannot switch {record}: no target address", system=t.system,
                                    record=self._record_name(t)))
        expected, new = (src, tgt) if to == "target" else (tgt, src)
        try:
            r = sw.switch(expected, new)
        except GovcloudError as exc:       # drivers.switching.SwitchError, with its code
            code = getattr(exc, "code", None)
            self.j(kind="switch", system=t.system, record=self._record_name(t), to=to, status="refused"
                   if code == "conflict" else "fail", code=code, expected=list(expected), new=list(new),
                   reason=str(exc))
            raise
        self.j(kind="switch", system=t.system, record=self._record_name(t), to=to, status="ok",
               before=list(r.before), after=list(r.after), changed=r.changed, ttl=r.ttl_after)
        self.on_event(t.system, f"{self._record_name(t)}: {', '.join(r.before) or '-'} → {', '.join(r.after)}"
                      + ("" if r.changed else " (already)"))
        return r

    def _verify_record(self, t: D.SystemTarget, sw: Any) -> None:
        """The record, read again from its server, sends clients to the target (and HAProxy's own
        health check of the target passes); the clients' side is in the verify playbook."""
        src, tgt = D.record_values(t, self._target_addresses(t))
        if sw.kind == "hosts":
            # the clients' /etc/hosts: the verify playbook's client play just resolved the name on
            # every client (getent hosts reads /etc/hosts first) and requested the health URL by it
            self.j(kind="switch", system=t.system, record=self._record_name(t), status="verified", live=list(tgt))
            return
        cur = sw.read()
        if cas_state(cur, src, tgt) != "new":
            raise GovcloudError(Msg("{system}: {record} is {live}, not the target {target}", system=t.system,
                                    record=self._record_name(t), live=str(list(cur.values)), target=str(list(tgt))))
        if sw.kind == "haproxy":
            deadline = time.monotonic() + 30
            while cur.detail.get("op_state") != "2" and time.monotonic() < deadline:   # 2 = running (UP)
                time.sleep(1)
                cur = sw.read()
            if cur.detail.get("op_state") != "2":
                raise GovcloudError(Msg("{system}: HAProxy's health check of the target {target} does not pass "
                                        "(operational state {state})", system=t.system, target=tgt[0],
                                        state=cur.detail.get("op_state")))
        self.j(kind="switch", system=t.system, record=self._record_name(t), status="verified", live=list(cur.values))

    def _policy_ttl(self) -> int:
        pol = self.inv.policies.get(self.plan.policy) if getattr(self.plan, "policy", None) else None
        return int(pol.thresholds.cutover_dns_ttl_s) if pol is not None else 60

    def _ttl_entry(self, system: str) -> RecordTtlEntry | None:
        last = None
        for e in self.read_journal().entries:
            if isinstance(e, RecordTtlEntry) and e.system == system:
                last = e
        return last

    def _lower_ttl(self, t: D.SystemTarget) -> dict[str, Any] | None:
        """During sync: lower a DNS record's TTL to the policy's value (same values, compare-and-swap)
        and journal when the old TTL has expired from every cache."""
        sw = self._switch(t)
        if sw is None or sw.kind != "dns":
            return None
        ttl = self._policy_ttl()
        try:
            r = sw.lower_ttl(ttl)
        except GovcloudError as exc:
            raise StepFailed(Step.sync, self._record_error(t, exc),
                             detail={"kind": "record", "code": getattr(exc, "code", None)}) from None
        expires = r.at + (r.ttl_before or 0)
        prev = self._ttl_entry(t.system)
        if prev and not r.changed and prev.record == self._record_name(t):
            expires = max(prev.expires_at or 0.0, expires)
        entry = {"record": self._record_name(t), "values": list(r.before), "ttl_before": r.ttl_before,
                 "ttl": r.ttl_after, "changed": r.changed, "lowered_at": r.at, "expires_at": expires,
                 "expires": datetime.fromtimestamp(expires).isoformat(timespec="seconds")}
        self.j(kind="record_ttl", system=t.system, **entry)
        return entry

    def _record_gate(self, t: D.SystemTarget) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {"conflicts": [], "ttl_pending": []}
        sw = self._switch(t)
        if sw is None:
            return out
        src, tgt = D.record_values(t, self._target_addresses(t))
        try:
            state = sw.read()
            if sw.kind == "dns":
                sw.check_key()          # a refused key would fail the switch after the source stopped
        except GovcloudError as exc:
            raise GovcloudError(Msg("{system}: refusing to cut over, the record cannot be read or its key was "
                                    "refused; nothing was changed: {error}", system=t.system,
                                    error=self._record_error(t, exc)), hint=getattr(exc, "hint", None)) from None
        live, where = state.values, cas_state(state, src, tgt)
        if where == "conflict":
            out["conflicts"].append({"system": t.system, "record": self._record_name(t), "live": list(live),
                                     "expected": list(src), **({"clients": state.detail["clients"]}
                                                               if "clients" in state.detail else {})})
        if sw.kind == "dns" and where != "new":
            e = self._ttl_entry(t.system)
            now = time.time()
            if e is None or e.record != self._record_name(t):
                out["ttl_pending"].append({"system": t.system, "record": self._record_name(t), "expires": None,
                                           "why": f"{t.system}: the TTL of {self._record_name(t)} was never "
                                                  f"lowered (`migrate run` lowers it during sync)"})
            elif now < (e.expires_at or 0.0):
                out["ttl_pending"].append({"system": t.system, "record": self._record_name(t), "expires": e.expires,
                                           "why": f"{t.system}: {self._record_name(t)} had TTL {e.ttl_before} s "
                                                  f"until {datetime.fromtimestamp(e.lowered_at or 0).isoformat(timespec='seconds')};"
                                                  f" caches hold it until {e.expires} "
                                                  f"({int((e.expires_at or 0.0) - now) + 1} s from now)"})
        return out

    def _ttl_changes(self, t: D.SystemTarget) -> list[D.Change]:
        """Dry run of the sync's TTL lowering, with the record's live TTL."""
        try:
            sw = self._switch(t)
            if sw is None or sw.kind != "dns":
                return []
            cur = sw.read()
        except GovcloudError as exc:
            return [D.Change("blocked", "dns", self._record_name(t), f"cannot read the record: {exc}", step="sync")]
        ttl = self._policy_ttl()
        if not cur.values:
            return [D.Change("blocked", "dns", self._record_name(t), "the record does not exist", step="sync")]
        if cur.ttl is not None and cur.ttl <= ttl:
            return [D.Change("keep", "dns", self._record_name(t), f"TTL {cur.ttl} s (≤ {ttl} s)", step="sync")]
        return [D.Change("change", "dns", self._record_name(t), f"TTL {cur.ttl} → {ttl} s (live "
                                                               f"{', '.join(cur.values)})", step="sync")]

    def record_changes(self, items: list[Any]) -> list[dict[str, Any]]:
        """Dry run of the switch: each record with its LIVE value (read through its driver) → the new one."""
        out = []
        for t in self.targets(items):
            rec = t.workload.cutover_record if t.workload else None
            if rec is None:
                continue
            src, tgt = D.record_values(t, self._target_addresses(t))
            row: dict[str, Any] = {"system": t.system, "record": self._record_name(t), "kind": rec.kind,
                                   "expected": list(src), "new": list(tgt) or ["(target address after provision)"]}
            try:
                sw = self._switch(t)
                if sw.kind == "hosts" and self.agent_sock is None:
                    row.update(live=None, action="clients", detail=f"/etc/hosts on {', '.join(t.client_addresses)} "
                                                                   "(give --key to read it)")
                else:
                    cur = sw.read()
                    row["live"] = list(cur.values)
                    row["ttl"] = cur.ttl
                    if "clients" in cur.detail:
                        row["clients"] = cur.detail["clients"]
                    where = cas_state(cur, src, tgt)
                    row["action"] = {"new": "already", "expected": "switch"}.get(where, "conflict")
            except GovcloudError as exc:
                row.update(live=None, action="error", detail=str(exc))
            out.append(row)
        return out

    def record_changes_live(self, items: list[Any]) -> list[dict[str, Any]]:
        """``record_changes``; records of kind hosts are read on the clients when the run has a key."""
        hosts = any(t.workload and t.workload.cutover_record and t.workload.cutover_record.kind == "hosts"
                    for t in self.targets(items))
        if not hosts or self.opts.key is None:
            return self.record_changes(items)
        # under the systems' locks, as a run (a system being cut over right now answers busy, exit 75)
        with self.locked(items, "migrate cutover --dry-run (reads the clients' /etc/hosts)"):
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            with self._processes():
                try:
                    return self.record_changes(items)
                finally:
                    self.agent_sock = None

    # ------------------------------------------------------------ rehearse
    def rehearsal_specs(self, items: list[Any]) -> list[REH.RehearsalSpec]:
        """Read-only: per system what a rehearsal creates and checks, and why it is refused (not
        synced, no isolated rehearsal network in its zone, no synced target journaled) — what
        `migrate rehearse --dry-run` shows and what :meth:`rehearse` then carries out."""
        statuses = self.status()
        out = []
        for t in self.targets(items):
            st = statuses.get(t.system, SystemStatus(t.system))
            problems: list[Any] = list(t.problems)
            if st.state is not State.synced:
                problems.append(Msg("it is {state}; only a synced system (not cut over) is rehearsed",
                                    state=st.state.value))
            zone = self.inv.cloud_zones.get(t.zone) if t.zone else None
            net = zone.rehearsal_network if zone is not None else None
            if zone is not None and not net:
                problems.append(Msg("zone {zone} has no rehearsal_network (an isolated network for the clones)",
                                    zone=zone.id))
            addrs = self._target_addresses(t)
            missing = [s.source for s in t.servers if s.source not in addrs]
            if missing and st.state is State.synced:
                problems.append(Msg("no synced target journaled for {servers}", servers=", ".join(missing)))
            leftovers: dict[str, dict[str, Any]] = {}
            cloud = self.opts.cloud or t.cloud
            if net and cloud and t.executable:
                conn = self.conn(cloud)
                iso = conn.isolation_problems(net)
                if iso:
                    problems.append(Msg("network {network} is not isolated: {problems}", network=net,
                                        problems="; ".join(str(x) for x in iso)))
                leftovers = conn.find_rehearsal_resources(self.plan.plan_id, t.system)
            clones = [REH.Clone(source=s.source, target_name=st.resources.get(s.key, {}).get("name") or s.name,
                                target_address=addrs.get(s.source),
                                name=REH.clone_name(st.resources.get(s.key, {}).get("name") or s.name),
                                flavor=s.flavor, image=s.image) for s in t.servers]
            out.append(REH.RehearsalSpec(t.system, st.state.value, net, t.security_group,
                                         D.keypair_name(self.plan.plan_id), clones, list(REH.PLAYBOOKS),
                                         REH.checks_of(t), leftovers, problems))
        return out

    def rehearse(self, items: list[Any], *, keep: bool = False) -> list[SystemResult]:
        """Rehearse the cutover of each synced system in its zone's isolated network (rehearsal.py):
        clone, seed from the synced target (read-only), start, verify, timed and journaled (kind
        ``rehearsal``), then remove the clones by their tag unless ``keep``. Refused as a whole,
        nothing created, when a system cannot be rehearsed."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        specs = self.rehearsal_specs(items)
        refused = [REH.refusal(s.system, _joined(s.problems)) for s in specs if s.problems]
        if refused:
            raise GovcloudError(Msg("refusing to rehearse: {why}", why=_joined(refused)),
                                hint=Msg("`govcloud migrate run` first, and set `rehearsal_network:` on the zone "
                                         "to an isolated network (no router, no gateway)"))
        self.j(kind="run", command="rehearse", systems=[s.system for s in specs], keep=keep)
        targets = {t.system: t for t in self.targets(items)}
        results: list[SystemResult] = []
        with self._processes(), self.progress.phase("migrate.systems", total=len(specs)) as overall:
            for spec in specs:
                results.append(self._rehearse_one(targets[spec.system], spec, keep=keep))
                overall.advance(item=spec.system)
        return results

    def _rehearse_one(self, t: D.SystemTarget, spec: REH.RehearsalSpec, *, keep: bool) -> SystemResult:
        conn = self.conn(self.opts.cloud or t.cloud)
        net = spec.network or ""
        started = time.monotonic()
        res = SystemResult(t.system, spec.state, True, steps=[Step.rehearse.value])
        if spec.leftovers:
            # an earlier rehearsal killed before its clean-up: its clones go first (found by their tag)
            self.on_event(t.system, Msg("removing {n} resource(s) left by an earlier rehearsal", n=len(spec.leftovers)))
            self._remove_rehearsal(t, conn, spec.leftovers)
        rid = REH.new_id()
        self.j(kind="rehearsal", system=t.system, rehearsal=rid, status="start", network=net, checks=spec.checks,
               clones=[c.to_plain() for c in spec.clones], keep=keep)
        timings: dict[str, float] = {}
        clones: dict[str, str] = {}
        reason: Any = None
        with self.progress.phase("migrate.steps", total=5, subject=t.system) as ph:
            self._local.phase = ph

            def timed(phase: str, what: str, fn: Callable[[], Any]) -> Any:
                ph.advance(0, item=f"{Step.rehearse.value} · {what} @ {net}")
                self.on_event(t.system, Msg("rehearsal {rid}: {phase} …", rid=rid, phase=what))
                t0 = time.monotonic()
                out = fn()
                timings[phase] = round(time.monotonic() - t0, 3)
                ph.advance()
                return out

            try:
                timed("provision_s", "provision", lambda: clones.update(self._rehearsal_clones(t, spec, conn, rid)))
                seed = Seed(rid, REH.seed_view(t, {c.source: c.target_address or "" for c in spec.clones},
                                               {c.source: c.target_name for c in spec.clones}), clones)
                self._ensure_trusted(t, self._target_addresses(t))      # the synced targets' keys (the sources now)

                def seed_clones() -> None:
                    self._playbook(t, Step.rehearse, playbook="migrate_configure.yml", name="rehearse-configure",
                                   seed=seed)
                    self._playbook(t, Step.rehearse, playbook="migrate_sync.yml", name="rehearse-sync", seed=seed)
                timed("seed_s", "seed", seed_clones)
                timed("start_s", "start", lambda: self._playbook(
                    t, Step.rehearse, playbook="migrate_rehearse_start.yml", name="rehearse-start", limit="target",
                    seed=seed))
                timed("verify_s", "verify", lambda: self._playbook(
                    t, Step.rehearse, playbook="migrate_verify.yml", name="rehearse-verify", seed=seed))
            except GovcloudError as exc:
                reason = _message(exc)
            except Exception as exc:  # noqa: BLE001 — journaled as the rehearsal's failure; clones still removed
                reason = f"{type(exc).__name__}: {str(exc)[:300]}"
            finally:
                self._local.phase = None
            if not keep:
                ph.advance(0, item=f"{Step.rehearse.value} · clean-up @ {net}")
                try:
                    found = conn.find_rehearsal_resources(self.plan.plan_id, t.system)
                    if found:
                        self._remove_rehearsal(t, conn, found)
                except GovcloudError as exc:
                    reason = reason or Msg("removing the clones failed: {error}", error=_message(exc))
                ph.advance()
        timings["total_s"] = round(time.monotonic() - started, 3)
        window = None
        if reason is None:
            st = self.status().get(t.system, SystemStatus(t.system))
            projection = project_downtime(st, *R.latest(self.read_journal().entries, t.system))
            window = REH.projected_window(projection, timings.get("start_s", 0.0), timings.get("verify_s", 0.0))
        self.j(kind="rehearsal", system=t.system, rehearsal=rid, status="ok" if reason is None else "fail",
               **({} if reason is None else {"reason": str(reason)}), timings=timings,
               **({} if window is None else {"projected_window_s": window}),
               network=net, checks=spec.checks, kept=sorted(clones.values()) if keep else [])
        res.changed.append(Msg("rehearsal {rid} on {network}: provision {provision} s, seed {seed} s, start {start} s, "
                               "verify {verify} s, total {total} s", rid=rid, network=net,
                               **{k: f"{timings[k + '_s']:.1f}" if k + "_s" in timings else "-"
                                  for k in ("provision", "seed", "start", "verify", "total")}))
        if window is not None:
            res.changed.append(Msg("projected cutover window {seconds} s", seconds=f"{window:.1f}"))
        if keep and clones:
            res.changed.append(Msg("clones kept (--keep): {clones}", clones=", ".join(
                f"{c.name} {clones[c.source]}" for c in spec.clones if c.source in clones)))
        if reason is not None:
            res.ok, res.error, res.error_kind = False, reason, "rehearsal"
        return res

    def _rehearsal_clones(self, t: D.SystemTarget, spec: REH.RehearsalSpec, conn: CloudPort,
                          rid: str) -> dict[str, str]:
        """Each synced target cloned onto the isolated network (same flavor, image, security group
        and keypair; tagged with the rehearsal id, never seen as a target), its host key trusted
        strictly as the cloud publishes it, SSH answering. Source server id → clone address."""
        self._keypair(conn)
        out: dict[str, str] = {}
        for c in spec.clones:
            info, _outcome = conn.ensure_server(
                plan_id=self.plan.plan_id, system=t.system, server=c.source, name=c.name, flavor=c.flavor,
                image=c.image, network=spec.network, keypair=spec.keypair, security_group=spec.security_group,
                availability_zone=t.availability_zone, timeout=self.opts.server_timeout, rehearsal=rid)
            addr = (info.get("addresses", {}).get(spec.network) or [None])[0]
            self._trust_target(conn, info["id"], addr, c.name, known=self._known_clones())
            out[c.source] = addr
            self.on_event(t.system, Msg("clone {name} ({addr}) of {target} answers SSH", name=c.name, addr=addr,
                                        target=c.target_name))
        return out

    def _remove_rehearsal(self, t: D.SystemTarget, conn: CloudPort, found: dict[str, dict[str, Any]]) -> None:
        """Remove rehearsal resources found by their tag; each rehearsal whose resources are gone is
        journaled ``cleaned`` (with what was removed); anything the cloud still holds fails."""
        removed = conn.delete_resources(found)
        ids = {r.get("id") for r in found.values()}
        left = {k: r for k, r in conn.find_rehearsal_resources(self.plan.plan_id, t.system).items() if r.get("id") in ids}
        if left:
            raise CloudError(Msg("{system}: rehearsal resources still in the cloud: {resources}", system=t.system,
                                 resources=", ".join(f"{r.get('kind')} {r.get('name') or r.get('id')}"
                                                     for r in left.values())),
                             kind="api", hint=Msg("run the rehearsal again, or remove them by hand"))
        by_rid: dict[str, list[str]] = {}
        for key, r in found.items():
            by_rid.setdefault(str(r.get("rehearsal") or "?"), []).append(
                f"{r.get('kind')} {r.get('name') or r.get('id')}")
        for rid, what in sorted(by_rid.items()):
            self.j(kind="rehearsal", system=t.system, rehearsal=rid, status="cleaned", removed=sorted(what),
                   how="deleted" if removed else "already absent")
            self.on_event(t.system, Msg("rehearsal {rid}: removed {resources}", rid=rid, resources=", ".join(what)))

    def rehearsal_max_age(self) -> int | None:
        """The policy's `rehearsal_max_age_days`: a cutover needs a successful rehearsal that recent."""
        pol = self.inv.policies.get(self.plan.policy) if getattr(self.plan, "policy", None) else None
        return pol.thresholds.rehearsal_max_age_days if pol is not None else None

    def unrehearsed(self, targets: list[D.SystemTarget], statuses: dict[str, SystemStatus],
                    today: date) -> dict[str, str | None]:
        """System → the day of its last successful rehearsal (None: never), for the systems the
        policy's maximum rehearsal age refuses to cut over today; empty when the policy sets none."""
        days = self.rehearsal_max_age()
        if days is None:
            return {}
        out: dict[str, str | None] = {}
        for t in targets:
            st = statuses.get(t.system, SystemStatus(t.system))
            if st.state in (State.verified, State.done, State.decommissioned):
                continue
            last = st.last_rehearsal
            day = (last.get("at") or "")[:10] if last else None
            try:
                fresh = day is not None and (today - date.fromisoformat(day)).days <= days
            except ValueError:
                fresh = False
            if not fresh:
                out[t.system] = day
        return out

    def approved_downtime(self) -> int | None:
        """The approved cutover downtime (seconds) of the plan's policy, if it sets one."""
        pol = self.inv.policies.get(self.plan.policy) if getattr(self.plan, "policy", None) else None
        return pol.thresholds.cutover_max_downtime_s if pol is not None else None

    def _cutover_group(self, group: list[D.SystemTarget]) -> list[SystemResult]:
        """A move group switches together: when one member's cutover or verification fails (and
        is rolled back), the members already switched are rolled back too and the rest are not
        cut over — the group serves from its sources again, as one."""
        results: list[SystemResult] = []
        for t in group:
            results.append(self._cutover_one(t))
            if not results[-1].ok:
                break
        failed = [r for r in results if not r.ok]
        if not failed:
            return results
        why = f"move group {group[0].move_group}: {failed[0].system} failed"
        for t, r in zip(group, results):
            if not r.ok:
                continue
            self.on_event(t.system, f"{why} — rolling back with it")
            try:
                self._rollback_hosts(t, reason=f"automatic: {why}")
                self.transition(t.system, State.rolled_back, Step.rollback, why)
                r.state = State.rolled_back.value
            except GovcloudError as exc:
                self.transition(t.system, State.failed, Step.rollback, f"rollback with its {why}: {exc}")
                r.state = State.failed.value
            r.ok, r.error = False, f"rolled back: {why}"
        statuses = self.status()
        for t in group[len(results):]:
            results.append(SystemResult(t.system, statuses.get(t.system, SystemStatus(t.system)).state.value, False,
                                        error=f"not cut over: {why}"))
        return results

    def _cutover_one(self, t: D.SystemTarget) -> SystemResult:
        with self.progress.phase("migrate.steps", total=2, subject=t.system) as ph:
            self._local.phase = ph
            try:
                return self._cutover_steps(t, ph)
            finally:
                self._local.phase = None

    def _cutover_steps(self, t: D.SystemTarget, ph: Phase) -> SystemResult:
        res = SystemResult(t.system, "", True)
        sw = self._switch(t)
        for step in (Step.cutover, Step.verify):
            state = STATE_AFTER[step]
            self.j(kind="step", system=t.system, step=step.value, status="start")
            self.on_event(t.system, f"{step.value} …")
            ph.advance(0, item=self._doing(t, step))
            try:
                run = self._playbook(t, step, sync_mode="final")
                if step is Step.cutover and sw is not None:
                    # the target serves: switch the record (compare-and-swap), then the client's prober
                    # sees the switch and reports the downtime
                    self._switch_record(t, sw, to="target")
                    run2 = self._playbook(t, step, sync_mode="final", playbook="migrate_switched.yml")
                    run.messages = {h: run.messages.get(h, []) + run2.messages.get(h, [])
                                    for h in set(run.messages) | set(run2.messages)}
                if step is Step.verify and sw is not None:
                    self._verify_record(t, sw)
            except GovcloudError as exc:
                self.j(kind="step", system=t.system, step=step.value, status="fail", reason=str(exc),
                       detail=getattr(exc, "detail", {"kind": getattr(exc, "kind", None)}))
                # a failed cutover or verification switches back at once: the source serves again
                self.on_event(t.system, f"{step.value} failed — rolling back")
                try:
                    self._rollback_hosts(t, reason=f"automatic: {step.value} failed")
                    self.transition(t.system, State.rolled_back, step, f"{step.value} failed: {exc}")
                    res.state = State.rolled_back.value
                except GovcloudError as exc2:
                    self.transition(t.system, State.failed, Step.rollback, f"rollback after {step.value} failed: {exc2}")
                    res.state = State.failed.value
                res.ok, res.error = False, _message(exc)
                return res
            messages = self._sync_stats(t, "final", run.messages) if step is Step.cutover else run.messages
            detail: dict[str, Any] = {"changed": run.changed(), "messages": messages}
            if step is Step.cutover:
                detail.update(downtime_of(run.messages, t.system))
                catchup = [r for r in R.parse_messages(run.messages)
                           if r.get("kind") in ("catchup", "ended", "cleanup_failed")]
                if catchup:
                    detail["replication"] = catchup
                # clean-up after the switch (replication ended, source engines stopped) never undoes
                # the cutover: what it left is journaled and shown
                for r in catchup:
                    if r.get("kind") == "cleanup_failed":
                        self.on_event(t.system, f"clean-up left undone after the switch — {r.get('step')}: "
                                                f"{r.get('error')}")
            self.j(kind="step", system=t.system, step=step.value, status="ok", detail=detail)
            if detail.get("downtime_s") is not None:
                self.on_event(t.system, f"downtime {detail['downtime_s']:.2f} s")
                res.changed.append(Msg("downtime {seconds} s", seconds=f"{detail['downtime_s']:.1f}"))
            self.transition(t.system, state, step)
            res.steps.append(step.value)
            ph.advance(item=self._doing(t, step))
        self.transition(t.system, State.done, Step.verify)
        res.state = State.done.value
        return res

    def _rollback_hosts(self, t: D.SystemTarget, *, reason: str) -> None:
        self.j(kind="step", system=t.system, step=Step.rollback.value, status="start", reason=reason)
        try:
            run = self._playbook(t, Step.rollback)
        except StepFailed as exc:
            self.j(kind="step", system=t.system, step=Step.rollback.value, status="fail", reason=str(exc),
                   detail=exc.detail)
            raise
        sw = self._switch(t)
        if sw is not None:
            try:
                self._switch_record(t, sw, to="source")
            except GovcloudError as exc:
                self.j(kind="step", system=t.system, step=Step.rollback.value, status="fail", reason=str(exc),
                       detail={"kind": getattr(exc, "code", "switch")})
                raise
        self.j(kind="step", system=t.system, step=Step.rollback.value, status="ok",
               detail={"changed": run.changed(), "messages": run.messages})

    def _replication_set_up(self, t: D.SystemTarget, st: SystemStatus) -> bool:
        """Whether a sync may have set up continuous replication for ``t`` (PostgreSQL: a journaled
        decision for replication; MariaDB/MySQL: any synced one — its teardown finds what the syncs
        recorded on the target and does nothing when they set nothing up)."""
        if not st.syncs or not (t.workload and t.workload.databases):
            return False
        if any(d.engine.value in ("mysql", "mariadb") for d in t.workload.databases):
            return True
        return any(isinstance(e, ReplicationEntry) and e.system == t.system
                   and any(d.get("method") == "replication" for d in e.decisions)
                   for e in self.read_journal().entries)

    def _teardown_replication(self, t: D.SystemTarget, *, reason: str) -> None:
        """Rollback before any cutover: only what the syncs set up for replication is removed (an
        inactive slot left on the source would hold back its WAL until the disk is full)."""
        self.j(kind="step", system=t.system, step=Step.rollback.value, status="start", reason=reason,
               detail={"scope": "replication"})
        try:
            run = self._playbook(t, Step.rollback, playbook="migrate_repl_teardown.yml", name="replteardown")
        except StepFailed as exc:
            self.j(kind="step", system=t.system, step=Step.rollback.value, status="fail", reason=str(exc),
                   detail=exc.detail)
            self.transition(t.system, State.failed, Step.rollback, f"ending replication failed: {exc}")
            raise
        self.j(kind="step", system=t.system, step=Step.rollback.value, status="ok",
               detail={"scope": "replication", "changed": run.changed(), "messages": run.messages})

    def rollback(self, item: Any, *, keep_target: bool, reason: str) -> SystemResult:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        t = self.targets([item])[0]
        st = self.status().get(t.system, SystemStatus(t.system))
        if st.state is State.decommissioned:
            raise GovcloudError(Msg("{system}: the source was decommissioned; there is nothing to roll back to",
                                    system=t.system))
        self.j(kind="run", command="rollback", systems=[t.system], keep_target=keep_target, reason=reason)
        touched_hosts = st.cutover_at is not None or st.state in (State.cutover, State.verified, State.done) or (
            st.state is State.failed and st.failed_step in ("cutover", "verify", "rollback"))
        # a failed-back system serves from its source already, and its failback ended nothing to tear down
        repl_left = not touched_hosts and st.state is not State.failed_back and self._replication_set_up(t, st)
        with self.progress.phase("migrate.steps", total=int(touched_hosts or repl_left) + int(not keep_target),
                                 subject=t.system) as ph:
            self._local.phase = ph
            try:
                with self._processes():
                    if touched_hosts or repl_left:
                        ph.advance(0, item=self._doing(t, Step.rollback))
                    if touched_hosts:
                        self._rollback_hosts(t, reason=reason)
                    elif repl_left:
                        self._teardown_replication(t, reason=reason)
                    if touched_hosts or repl_left:
                        ph.advance(item=self._doing(t, Step.rollback))
                removed: list[str] = []
                if not keep_target:
                    ph.advance(0, item=self._doing(t, Step.rollback, host=self.opts.cloud or t.cloud or "-"))
                    removed = self._remove_target(t, st)
                    ph.advance()
            finally:
                self._local.phase = None
        self.transition(t.system, State.rolled_back, Step.rollback, reason)
        if not keep_target:
            # the system holds nothing in the cloud any more: another plan may take it
            self.state.release(self.ref, t.system, f"rolled back, target removed: {reason}")
            self.j(kind="release", system=t.system, reason=f"rolled back, target removed: {reason}")
        return SystemResult(t.system, State.rolled_back.value, True,
                            steps=["rollback"] if touched_hosts or repl_left else [],
                            changed=[Msg("removed {resource}", resource=k) for k in removed])

    def _remove_target(self, t: D.SystemTarget, st: SystemStatus) -> list[str]:
        """Remove exactly what the cloud holds for the system — found by its tags and metadata, so a
        run killed between a create call and its journal line leaks nothing — plus what the journal
        names. Each removal is journaled once the cloud no longer has it; a resource the journal
        names that is already gone is journaled as such."""
        conn = self.conn(self.opts.cloud or t.cloud)
        journaled = {k: v for k, v in st.resources.items() if v.get("kind") not in ("network", "keypair")}
        try:
            in_cloud = conn.find_system_resources(self.plan.plan_id, t.system)
            todo = dict(journaled)
            ids = {v.get("id") for v in journaled.values()}
            for key, r in in_cloud.items():
                if r["id"] not in ids:
                    todo[key if key not in todo else f"{key}@{r['id'][:8]}"] = r
            present = {r["id"] for r in in_cloud.values()}

            def removed(key: str) -> None:
                r = todo[key]
                self.j(kind="resource", system=t.system, key=key, removed=True,
                       resource={"kind": r.get("kind"), "id": r.get("id"), "name": r.get("name")},
                       how="deleted" if r.get("id") in present else "already absent",
                       journaled=key in journaled)

            done = conn.delete_resources(todo, on_removed=removed)
            left = conn.find_system_resources(self.plan.plan_id, t.system)
            if left:
                raise CloudError(Msg("{system}: still in the cloud after rollback: {resources}", system=t.system,
                                     resources=", ".join(f"{r['kind']} {r.get('name') or r['id']}"
                                                         for r in left.values())),
                                 kind="api", hint=Msg("run the rollback again, or remove them by hand"))
        except GovcloudError as exc:
            self.transition(t.system, State.failed, Step.rollback, f"removing the target failed: {exc}")
            raise
        return done

    def decommission(self, item: Any, *, soak_days: int, today: date, reason: str) -> SystemResult:
        """Record that the source is retired after the soak period, once the target still answers
        on every health URL. Source data is never deleted by govcloud."""
        t = self.targets([item])[0]
        st = self.status().get(t.system, SystemStatus(t.system))
        if st.state is not State.done or not st.done_at:
            raise GovcloudError(Msg("{system} is {state}; only a finished (done) migration can be decommissioned",
                                    system=t.system, state=st.state.value))
        done_day = date.fromisoformat(st.done_at[:10])
        if (today - done_day).days < soak_days:
            raise GovcloudError(Msg("{system} finished on {done}; the soak period of {days} days ends on {ends}",
                                    system=t.system, done=done_day, days=soak_days,
                                    ends=date.fromordinal(done_day.toordinal() + soak_days)))
        addrs = self._target_addresses(t)
        # what clients use must answer from here: services with a health URL, over HTTP (a database
        # listening only on the server's loopback is checked by `verify`, not from outside)
        checks = [f"http://{a}:{s.port or 80}{s.health_path}" for a in addrs.values()
                  for s in (t.workload.services if t.workload else ()) if s.health_path]
        if not checks:
            raise GovcloudError(Msg("refusing to decommission {system}: no service has a health URL to prove the "
                                    "target serves", system=t.system),
                                hint=Msg("record health_path on the workload's services"))
        down = [u for u in checks if self.probe.http_status(u) != 200]
        if down:
            raise GovcloudError(Msg("refusing to decommission {system}: the target does not answer {urls}",
                                    system=t.system, urls=", ".join(down)))
        self.j(kind="run", command="decommission", systems=[t.system], reason=reason, soak_days=soak_days)
        self.transition(t.system, State.decommissioned, Step.decommission, reason, evidence={"answered_200": checks})
        return SystemResult(t.system, State.decommissioned.value, True, steps=["decommission"])

    # ------------------------------------------------------------ failback (during the soak)
    def failback_plan(self, item: Any) -> dict[str, Any]:
        """Read-only: what `migrate failback` would do for ``item`` (its --dry-run), after the same
        preconditions the failback checks; the record's live value when it can be read."""
        t = self.targets([item])[0]
        st = self._failback_precheck(t)
        sw = self._switch(t)
        src, tgt = D.record_values(t, self._target_addresses(t))
        rows = {"system": t.system, "state": st.state.value, "record": self._record_name(t) or None,
                "expected": list(tgt), "new": list(src), "steps": list(FAILBACK_STEPS)}
        if sw is not None and not (sw.kind == "hosts" and self.agent_sock is None):
            try:
                rows["live"] = list(sw.read().values)
            except GovcloudError as exc:
                rows["live_error"] = str(exc)
        return rows

    def _failback_precheck(self, t: D.SystemTarget) -> SystemStatus:
        st = self.status().get(t.system, SystemStatus(t.system))
        if st.state is State.decommissioned:
            raise GovcloudError(Msg("{system}: the source was decommissioned; there is nothing to fail back to",
                                    system=t.system))
        if st.state not in FAILBACK_FROM:
            raise GovcloudError(Msg("{system} is {state}: only a system serving from its target during the soak "
                                    "(cutover, verified or done) can fail back", system=t.system, state=st.state.value),
                                hint=Msg("before the cutover there is nothing to bring back: use `migrate rollback`"))
        if not t.executable:
            raise GovcloudError(Msg("{system} cannot fail back: {why}", system=t.system, why=_joined(t.problems)))
        if len(self._target_addresses(t)) != len(t.servers):
            raise GovcloudError(Msg("{system}: the journal records no address for every target server",
                                    system=t.system))
        return st

    def _failback_evidence_since_cutover(self, system: str) -> dict[str, Any] | None:
        """The evidence a failback of ``system`` journaled since its last cutover and since the target was
        last opened again (a failback killed after proving nothing was lost resumes from it), or None."""
        found: dict[str, Any] | None = None
        for e in self.read_journal().entries:
            if e.system != system:
                continue
            if e.kind == "state" and getattr(e, "to", None) == State.cutover.value:
                found = None
            elif (isinstance(e, StepEntry) and e.step == Step.failback.value and e.status == "fail"
                  and (e.detail or {}).get("phase") == "copy"):
                found = None         # the target was opened again after that proof: it may hold newer writes
            elif e.kind == "failback" and e.extra.get("phase") == "evidence" and isinstance(e.extra.get("evidence"), dict):
                found = dict(e.extra["evidence"])
        return found

    def failback(self, item: Any, *, reason: str) -> SystemResult:
        """Back to the source during the soak, keeping what users wrote on the target: the source pulls
        the target's data (bulk, then frozen final delta), proves nothing is lost (rows, per-table
        checksums, tree manifests), then the record goes back (compare-and-swap) and the source serves.
        Before the switch any failure opens the target again (state unchanged); re-running the same
        command resumes (steps idempotent; after a journaled switch it goes on from serving)."""
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        t = self.targets([item])[0]
        st = self._failback_precheck(t)
        self.j(kind="run", command="failback", systems=[t.system], reason=reason)
        self.j(kind="step", system=t.system, step=Step.failback.value, status="start", reason=reason)
        res = SystemResult(t.system, st.state.value, True)
        with self.progress.phase("migrate.steps", total=4, subject=t.system) as ph, self._processes():
            self._local.phase = ph
            try:
                return self._failback_steps(t, ph, res, reason)
            finally:
                self._local.phase = None

    def _failback_fail(self, t: D.SystemTarget, res: SystemResult, exc: BaseException, *, reopened: bool | None,
                       where: str) -> SystemResult:
        why = str(exc) if isinstance(exc, GovcloudError) else f"{type(exc).__name__}: {str(exc)[:300]}"
        self.j(kind="step", system=t.system, step=Step.failback.value, status="fail", reason=why,
               detail={"kind": getattr(exc, "kind", None) or getattr(exc, "code", None) or "failback", "phase": where,
                       "target_reopened": reopened, **(exc.detail if isinstance(exc, StepFailed) else {})})
        res.ok, res.error = False, _message(exc) if isinstance(exc, GovcloudError) else why
        res.error_kind = "failback"
        res.state = self.status().get(t.system, SystemStatus(t.system)).state.value
        return res

    def _failback_steps(self, t: D.SystemTarget, ph: Phase, res: SystemResult, reason: str) -> SystemResult:
        extra = {"govcloud_failback_state_dir": FAILBACK_STATE_DIR, "govcloud_source_state_dir": SOURCE_STATE_DIR,
                 "govcloud_db_methods": []}          # back by dump: no replication is set up towards the source
        sw = self._switch(t)
        src, tgt = D.record_values(t, self._target_addresses(t))
        evidence = self._failback_evidence_since_cutover(t.system)
        switched = False
        if sw is not None:
            try:
                cur = sw.read()
            except GovcloudError as exc:
                return self._failback_fail(t, res, exc, reopened=None, where="record")
            where = cas_state(cur, tgt, src)
            if where == "conflict":
                live = cur.values
                self.j(kind="switch", system=t.system, record=self._record_name(t), to="source", status="refused",
                       code="conflict", live=list(live), expected=list(tgt),
                       reason="the record is not the target's: nothing changed")
                return self._failback_fail(t, res, GovcloudError(Msg(
                    "{system}: refusing to fail back: {record} is {live}, not the target {target}; nothing was "
                    "changed, the target still serves", system=t.system, record=self._record_name(t),
                    live=str(list(live)) if live else Msg("absent"), target=str(list(tgt)))), reopened=None,
                    where="record")
            if where == "new":
                if evidence is None:
                    return self._failback_fail(t, res, GovcloudError(Msg(
                        "{system}: {record} already points at the source, but no failback proved the data equal "
                        "first; nothing was changed: check who switched it", system=t.system,
                        record=self._record_name(t))), reopened=None, where="record")
                switched = True          # a failback killed after its switch: serve from the source
                self.on_event(t.system, Msg("resuming after the switch: the evidence was journaled"))
        t_frozen = None
        if not switched:
            try:
                ph.advance(0, item=self._doing(t, Step.failback, "copy"))
                self.on_event(t.system, Msg("copying the target's data back to the source (the target serves)"))
                self._playbook(t, Step.failback, playbook="migrate_failback.yml", name="failback-copy", reverse=True,
                               sync_mode="delta", extra={**extra, "govcloud_failback_phase": "copy"})
                ph.advance(item=self._doing(t, Step.failback, "copy"))
                self.on_event(t.system, Msg("target frozen: final copy and proof that nothing is lost"))
                t_frozen = time.monotonic()
                run = self._playbook(t, Step.failback, playbook="migrate_failback.yml", name="failback-final",
                                     reverse=True, sync_mode="delta", extra={**extra, "govcloud_failback_phase": "final"})
                evidence = failback_evidence(run.messages, [s.source for s in t.servers])
                self.j(kind="failback", system=t.system, phase="evidence", evidence=evidence)
                ph.advance(item=self._doing(t, Step.failback, "evidence"))
                if sw is not None:
                    r = self._switch_record(t, sw, to="source")
                    evidence["record"] = {"before": list(r.before), "after": list(r.after), "changed": r.changed}
                    self.j(kind="failback", system=t.system, phase="evidence", evidence=evidence)
            except GovcloudError as exc:
                # before the switch: the target serves again; the source stays closed
                self.on_event(t.system, Msg("failback stopped before the switch: opening the target again"))
                try:
                    self._playbook(t, Step.failback, playbook="migrate_failback_reopen.yml", name="failback-reopen",
                                   reverse=True, extra=extra)
                    reopened = True
                except GovcloudError as exc2:
                    self.j(kind="failback", system=t.system, phase="reopen", status="fail", reason=str(exc2))
                    reopened = False
                return self._failback_fail(t, res, exc, reopened=reopened, where="copy")
        ph.advance(0, item=self._doing(t, Step.failback, "serve"))
        try:
            run = self._playbook(t, Step.failback, playbook="migrate_failback_serve.yml", name="failback-serve",
                                 reverse=True, extra=extra)
        except GovcloudError as exc:
            # the record points at the source: running the same command again finishes the failback
            return self._failback_fail(t, res, exc, reopened=False, where="serve")
        assert evidence is not None
        evidence["downtime_s"] = round(time.monotonic() - t_frozen, 3) if t_frozen is not None else None
        evidence["serving"] = [m for ms in run.messages.values() for m in ms
                               if isinstance(m, str) and m.startswith("govcloud-failback-serving ")][:20]
        ph.advance(item=self._doing(t, Step.failback, "serve"))
        self.j(kind="step", system=t.system, step=Step.failback.value, status="ok",
               detail={"evidence": evidence, "changed": run.changed()})
        self.transition(t.system, State.failed_back, Step.failback, reason)
        res.state, res.steps = State.failed_back.value, [Step.failback.value]
        if evidence.get("downtime_s") is not None:
            res.changed.append(Msg("downtime {seconds} s", seconds=f"{evidence['downtime_s']:.1f}"))
        return res


# a failback's bookkeeping on the hosts (the roles' govcloud_state_dir while they copy back), apart from
# the cutover's (SOURCE_STATE_DIR: its markers and the source's write records stay coherent)
FAILBACK_STATE_DIR = "/var/lib/govcloud/failback"
SOURCE_STATE_DIR = "/var/lib/govcloud/migrate"
FAILBACK_FROM = (State.cutover, State.verified, State.done)
FAILBACK_STEPS = (
    Msg("1. copy the target's data paths and databases back to the source while the target serves"),
    Msg("2. freeze the target: application services stopped, databases closed to application writes"),
    Msg("3. final copy back (files with --delete, databases), then prove nothing is lost: row counts, per-table "
        "checksums and tree manifests equal — any difference opens the target again and changes nothing"),
    Msg("4. switch the record back to the source (compare-and-swap: a record that is not the target's refuses)"),
    Msg("5. start the source (engines, writes reopened, services answering); the target stays stopped and is kept"),
)


def failback_evidence(messages: dict[str, list[str]], servers: list[str]) -> dict[str, Any]:
    """The proof a failback's final phase reported (``govcloud-failback {json}`` per source host):
    {rows, checksums, trees, frozen_at}; raises StepFailed when a host reported nothing or any figure
    differs between the source and the frozen target (what the playbook checked, checked again here)."""
    import json
    reports: dict[str, dict[str, Any]] = {}
    for host, msgs in (messages or {}).items():
        for m in msgs if isinstance(msgs, (list, tuple)) else ():
            if isinstance(m, str) and m.startswith("govcloud-failback {"):
                try:
                    d = json.loads(m[len("govcloud-failback "):])
                except ValueError:
                    continue
                if isinstance(d, dict):
                    reports[str(host)] = d
    missing = [s for s in servers if RI.source_name(s) not in reports]
    if missing:
        raise StepFailed(Step.failback, Msg("no failback evidence from {hosts}", hosts=", ".join(missing)),
                         detail={"kind": "evidence"})
    rows: dict[str, Any] = {}
    sums: dict[str, Any] = {}
    trees: list[dict[str, Any]] = []
    problems: list[str] = []
    for host, d in sorted(reports.items()):
        for tr_ in d.get("trees") or []:
            if not isinstance(tr_, dict):
                continue
            trees.append({"host": host, "path": tr_.get("path"), "digest": tr_.get("digest"),
                          "files": tr_.get("files"), "bytes": tr_.get("bytes")})
            if tr_.get("digest") != tr_.get("cloud_digest") or not tr_.get("digest"):
                problems.append(f"{host} {tr_.get('path')}: tree differs")
        problems += [str(x) for x in d.get("tree_diffs") or []][:20]
        for db in d.get("databases") or []:
            if not isinstance(db, dict):
                continue
            key = f"{host}:{db.get('key')}"
            rows[key], sums[key] = db.get("rows"), db.get("checksums")
            if db.get("rows") is None or db.get("rows") != db.get("cloud_rows"):
                problems.append(f"{key}: row counts differ")
            if db.get("checksums") is None or db.get("checksums") != db.get("cloud_checksums"):
                problems.append(f"{key}: checksums differ")
    if problems:
        raise StepFailed(Step.failback, Msg("the source does not hold what the target held: {problems}",
                                            problems="; ".join(problems[:20])), detail={"kind": "evidence"})
    return {"rows": rows, "checksums": sums, "trees": trees,
            "frozen_at": {h: d.get("frozen_at") for h, d in sorted(reports.items())}}
