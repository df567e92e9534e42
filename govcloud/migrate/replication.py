"""How each database moves at cutover — continuous replication or dump/restore — decided here, in one
place, from what a read-only probe of the source (and of the path from the target) found (pure).

The sync step gathers :class:`SourceFacts` per database (``playbooks/migrate_repl_facts.yml``,
module ``govcloud_pg_repl`` ``action=facts``), :func:`decide` turns them into a
:class:`MethodDecision` (journaled, shown by the dry run and ``migrate status``), and the sync
playbook carries out exactly that method per database (``govcloud_db_methods``, a list of records).  Replication
state and lag are :class:`ReplicationStatus` records (live probe or last measured, with its time).
:func:`project` is the cutover window projection the gate compares with the approved window.

Engines: PostgreSQL (logical replication, server ≥ 10) and MariaDB (GTID replication, 10.0.2 or
later, binary log on; roles/govcloud_repl/tasks/my_*.yml carry it out).  MySQL (not MariaDB) is
copied by dump/restore, with that reason.  Both engines' facts come from the same facts playbook
(``govcloud_pg_repl`` / ``govcloud_my_repl`` ``state=check``) and are decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Iterable, Mapping

from govcloud.store.entries import Entry, ReplicationEntry, StateEntry, as_entry
from govcloud.base.i18n import tr, zh_en


class Method(str, Enum):
    replication = "replication"
    dump = "dump"


# reason code → (zh, en); parameters in {braces}
TEXT: dict[str, tuple[str, str]] = {
    "ok": zh_en("the source allows logical replication: sync sets up continuous replication, cutover only catches up"),
    "facts.missing": zh_en("the source was not probed yet (decided at sync)"),
    "facts.error": zh_en("probing the source failed: {error}"),
    "engine.unsupported": zh_en("{engine}: decided by the MariaDB GTID tasks at sync (see the sync output)"),
    "pg.version": zh_en("the source runs PostgreSQL {version}, older than 10: no logical replication"),
    "pg.wal_level": zh_en("the source has wal_level={wal_level}; logical replication needs logical (changing it restarts "
                          "the source's PostgreSQL: set it in a maintenance window)"),
    "pg.slots": zh_en("no free replication slot on the source (max_replication_slots={max}, {used} in use)"),
    "pg.senders": zh_en("no free WAL sender on the source (max_wal_senders={max}, {used} in use)"),
    "pg.no_key": zh_en("{n} table(s) without a primary key or replica identity (UPDATE/DELETE cannot replicate): {tables}"),
    "pg.privileges": zh_en("the account on the source is not a "
                           "superuser: it cannot create the replication role and publication"),
    "pg.listen": zh_en("the source's PostgreSQL listens only on {listen} (listen_addresses): the target cannot connect "
                       "(changing it restarts the source)"),
    "net.unreachable": zh_en("the target {target} cannot reach the source {address}:{port}: {error}"),
    "net.unknown": zh_en("the path from the target to the source was not probed"),
    "disabled": zh_en("replication is turned off for this run (--no-replication)"),
    # MariaDB GTID (the codes govcloud_my_repl reports)
    "my.not_mariadb": zh_en("the source runs MySQL {version}, not MariaDB: govcloud replicates MariaDB GTID only"),
    "my.version": zh_en("MariaDB {version} is too old for GTID replication (10.0.2 or later)"),
    "my.log_bin": zh_en("log_bin is OFF on the source: enabling the binary log needs a restart of the source's MariaDB "
                        "(log_bin in its configuration), which govcloud does not do on its own"),
    "my.binlog_format": zh_en("binlog_format is {format} on the source: replicating only this system's databases needs ROW "
                              "(SET GLOBAL binlog_format = 'ROW' changes it for every client of the server: the operator's "
                              "decision)"),
    "my.server_id": zh_en("server_id is 0 on the source: a server without a server id "
                          "cannot be a replication source"),
    "my.skip_networking": zh_en("skip_networking is ON on the source: it accepts no TCP connections (changing it needs a "
                                "restart)"),
    "my.bind": zh_en("the source's MariaDB listens only on {bind} (bind_address): the replica cannot connect (changing it "
                     "needs a restart of the source's MariaDB)"),
    "my.db_comma": zh_en("its name holds a comma (replication filters are "
                         "comma-separated lists)"),
    "my.db_non_transactional": zh_en("non-transactional tables ({tables}): no consistent snapshot at a GTID position "
                                     "without locking them for the whole dump"),
    "my.db_missing": zh_en("no such database on the source"),
}


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        zh, en = TEXT.get(self.code, (self.code, self.code))
        try:
            return (zh if lang == "zh" else en).format(**self.params)
        except (KeyError, IndexError, ValueError):
            return f"{self.code} {dict(self.params)}"

    def to_plain(self) -> dict[str, Any]:
        return {"code": self.code, "params": dict(self.params), "zh": self.text("zh"), "en": self.text("en")}


@dataclass(frozen=True)
class SourceFacts:
    """What the read-only probe found for one database on its source, plus whether the paired
    target reached the source's engine port.  ``None`` = not known."""
    engine: str
    name: str
    address: str | None = None            # where the target connects (the source's inventory address)
    port: int = 5432
    version_num: int | None = None        # server_version_num
    wal_level: str | None = None
    ssl: bool | None = None
    superuser: bool | None = None
    listen_addresses: str | None = None
    max_replication_slots: int | None = None
    used_replication_slots: int | None = None
    max_wal_senders: int | None = None
    used_wal_senders: int | None = None
    tables_without_key: tuple[str, ...] = ()
    has_govcloud_slot: bool = False       # our own slot exists already (a re-run): needs no free one
    reachable: bool | None = None         # TCP from the target to address:port
    reach_error: str | None = None
    target: str | None = None
    error: str | None = None
    measured_at: str | None = None
    # MariaDB/MySQL (govcloud_my_repl state=check): the server's, then this database's
    version: str | None = None            # @@version, e.g. "10.11.6-MariaDB-0+deb12u1"
    log_bin: bool | None = None
    binlog_format: str | None = None
    server_id: int | None = None
    skip_networking: bool | None = None
    bind_address: str | None = None
    present: bool | None = None           # the database exists on the source
    non_transactional: tuple[str, ...] = ()

    @classmethod
    def from_plain(cls, d: Mapping[str, Any]) -> "SourceFacts":
        def num(k: str) -> int | None:
            v = d.get(k)
            try:
                return None if v is None or v == "" else int(v)
            except (TypeError, ValueError):
                return None

        def flag(k: str) -> bool | None:
            v = d.get(k)
            if v is None or v == "":
                return None
            return v if isinstance(v, bool) else str(v).lower() in ("on", "true", "yes", "1")

        return cls(engine=str(d.get("engine") or ""), name=str(d.get("name") or ""),
                   address=d.get("address") or None, port=num("port") or 5432, version_num=num("version_num"),
                   wal_level=d.get("wal_level") or None, ssl=flag("ssl"), superuser=flag("superuser"),
                   listen_addresses=d.get("listen_addresses"),
                   max_replication_slots=num("max_replication_slots"),
                   used_replication_slots=num("used_replication_slots"),
                   max_wal_senders=num("max_wal_senders"), used_wal_senders=num("used_wal_senders"),
                   tables_without_key=tuple(str(x) for x in d.get("tables_without_key") or ()),
                   has_govcloud_slot=bool(flag("has_govcloud_slot")), reachable=flag("reachable"),
                   reach_error=d.get("reach_error") or None, target=d.get("target") or None,
                   error=d.get("error") or None, measured_at=d.get("measured_at") or None,
                   version=str(d["version"]) if d.get("version") not in (None, "") else None,
                   log_bin=flag("log_bin"), binlog_format=str(d.get("binlog_format") or "") or None,
                   server_id=num("server_id"), skip_networking=flag("skip_networking"),
                   bind_address=d.get("bind_address") if isinstance(d.get("bind_address"), str) else None,
                   present=flag("present"),
                   non_transactional=tuple(str(x) for x in d.get("non_transactional") or ()))

    def to_plain(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class MethodDecision:
    engine: str
    name: str
    method: Method
    reasons: tuple[Reason, ...]            # why dump; for replication the single reason "ok"
    sslmode: str | None = None             # replication: require when the source has ssl on, else prefer
    measured_at: str | None = None

    @property
    def key(self) -> str:
        return f"{self.engine}/{self.name}"

    def why(self, lang: str = "zh") -> str:
        return "; ".join(r.text(lang) for r in self.reasons)

    def to_plain(self) -> dict[str, Any]:
        return {"engine": self.engine, "name": self.name, "method": self.method.value,
                "reasons": [r.to_plain() for r in self.reasons], "sslmode": self.sslmode,
                "measured_at": self.measured_at}

    @classmethod
    def from_plain(cls, d: Mapping[str, Any]) -> "MethodDecision":
        return cls(engine=str(d.get("engine")), name=str(d.get("name")), method=Method(d.get("method", "dump")),
                   reasons=tuple(Reason(r.get("code", "?"), r.get("params") or {}) for r in d.get("reasons") or ()),
                   sslmode=d.get("sslmode"), measured_at=d.get("measured_at"))


def _listens_on(listen: str | None, address: str | None) -> bool:
    if listen is None:
        return True            # not known: the reachability probe decides
    parts = {p.strip() for p in listen.split(",") if p.strip()}
    return bool(parts & {"*", "0.0.0.0", "::"}) or (address is not None and address in parts)


def _pg_blockers(f: SourceFacts) -> list[Reason]:
    out: list[Reason] = []
    if f.version_num is not None and f.version_num < 100000:
        major = f.version_num // 10000
        out.append(Reason("pg.version", {"version": f"{major}.{(f.version_num // 100) % 100}"}))
    if f.wal_level is not None and f.wal_level != "logical":
        out.append(Reason("pg.wal_level", {"wal_level": f.wal_level}))
    if f.superuser is False:
        out.append(Reason("pg.privileges"))
    if not f.has_govcloud_slot:
        if f.max_replication_slots is not None and (f.used_replication_slots or 0) >= f.max_replication_slots:
            out.append(Reason("pg.slots", {"max": f.max_replication_slots, "used": f.used_replication_slots or 0}))
        if f.max_wal_senders is not None and (f.used_wal_senders or 0) >= f.max_wal_senders:
            out.append(Reason("pg.senders", {"max": f.max_wal_senders, "used": f.used_wal_senders or 0}))
    if f.tables_without_key:
        shown = ", ".join(f.tables_without_key[:5]) + (" …" if len(f.tables_without_key) > 5 else "")
        out.append(Reason("pg.no_key", {"n": len(f.tables_without_key), "tables": shown}))
    if not _listens_on(f.listen_addresses, f.address):
        out.append(Reason("pg.listen", {"listen": f.listen_addresses}))
    elif f.reachable is False:
        out.append(Reason("net.unreachable", {"target": f.target or "?", "address": f.address or "?", "port": f.port,
                                              "error": f.reach_error or "?"}))
    elif f.reachable is None:
        out.append(Reason("net.unknown"))
    return out


MY_MIN_VERSION = (10, 0, 2)            # MariaDB GTID


def _version_tuple(v: str) -> tuple[int, ...]:
    import re
    hit = re.match(r"(\d+)\.(\d+)\.(\d+)", v or "")
    return tuple(int(x) for x in hit.groups()) if hit else (0, 0, 0)


def _is_loopback(addr: str) -> bool:
    import ipaddress
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return addr == "localhost"


def _my_blockers(f: SourceFacts) -> list[Reason]:
    """MariaDB GTID replication: the server's first blocker (as govcloud_my_repl.server_blocker
    reports it), else this database's, else the path from the target."""
    ver = f.version or ""
    if f.version is not None and "mariadb" not in ver.lower():
        return [Reason("my.not_mariadb", {"version": ver})]
    if f.version is not None and _version_tuple(ver) < MY_MIN_VERSION:
        return [Reason("my.version", {"version": ver})]
    if f.log_bin is False:
        return [Reason("my.log_bin")]
    if (f.binlog_format or "").upper() == "STATEMENT":
        return [Reason("my.binlog_format", {"format": f.binlog_format.upper()})]
    if f.server_id == 0:
        return [Reason("my.server_id")]
    if f.skip_networking:
        return [Reason("my.skip_networking")]
    bind = (f.bind_address or "").replace(" ", "")
    if bind == "localhost" or (bind and all(_is_loopback(b) for b in bind.split(","))):
        return [Reason("my.bind", {"bind": f.bind_address})]
    if "," in f.name:
        return [Reason("my.db_comma")]
    if f.non_transactional:
        return [Reason("my.db_non_transactional", {"tables": ", ".join(f.non_transactional[:5])})]
    if f.present is False:
        return [Reason("my.db_missing")]
    if f.reachable is False:
        return [Reason("net.unreachable", {"target": f.target or "?", "address": f.address or "?", "port": f.port,
                                           "error": f.reach_error or "?"})]
    if f.reachable is None:
        return [Reason("net.unknown")]
    return []


# engine → what stops replication for it
BLOCKERS: dict[str, Callable[[SourceFacts], list[Reason]]] = {
    "postgresql": _pg_blockers, "mariadb": _my_blockers, "mysql": _my_blockers}


def decide(engine: str, name: str, facts: SourceFacts | None, *, enabled: bool = True) -> MethodDecision:
    """The method for one database: replication when the engine supports it and nothing blocks it,
    else dump/restore with every reason that blocks it."""
    at = facts.measured_at if facts else None
    if not enabled:
        return MethodDecision(engine, name, Method.dump, (Reason("disabled"),), measured_at=at)
    if engine not in BLOCKERS:
        return MethodDecision(engine, name, Method.dump, (Reason("engine.unsupported", {"engine": engine}),),
                              measured_at=at)
    if facts is None:
        return MethodDecision(engine, name, Method.dump, (Reason("facts.missing"),))
    if facts.error:
        return MethodDecision(engine, name, Method.dump, (Reason("facts.error", {"error": facts.error[:300]}),),
                              measured_at=at)
    blockers = BLOCKERS[engine](facts)
    if blockers:
        return MethodDecision(engine, name, Method.dump, tuple(blockers), measured_at=at)
    return MethodDecision(engine, name, Method.replication, (Reason("ok"),),
                          sslmode="require" if facts.ssl else "prefer", measured_at=at)


def decide_all(databases: Iterable[tuple[str, str]], facts: Mapping[str, SourceFacts], *,
               enabled: bool = True) -> list[MethodDecision]:
    """One decision per (engine, name), facts keyed ``engine/name``."""
    return [decide(e, n, facts.get(f"{e}/{n}"), enabled=enabled) for e, n in databases]


def slot_name(plan_id: str, system: str, engine: str, name: str) -> str:
    """The replication slot (= subscription, pg_hba marker) of one database: unique per plan, system
    and database on the source's cluster, lowercase, at most 63 characters."""
    import hashlib
    import re
    digest = hashlib.sha256(f"{plan_id}\0{system}\0{engine}\0{name}".encode()).hexdigest()[:10]
    tail = re.sub(r"[^a-z0-9_]", "_", name.lower())[:40]
    return f"govcloud_{digest}_{tail}"


def methods_extravar(decisions: Iterable[MethodDecision], *, plan_id: str, system: str,
                     replicated_before: Iterable[str] = ()) -> list[dict[str, Any]]:
    """What the sync/cutover/rollback playbooks receive as ``govcloud_db_methods``: one record per
    database ``{engine, name, method, sslmode, slot, teardown}`` (no secret; a list, since variable
    keys must be plain names).  ``teardown``: the database replicated before and moves by dump now, so
    its subscription and the source's slot go first."""
    before = set(replicated_before)
    return [{"engine": d.engine, "name": d.name, "method": d.method.value, "sslmode": d.sslmode or "prefer",
             "slot": slot_name(plan_id, system, d.engine, d.name),
             "teardown": d.method is Method.dump and d.key in before} for d in decisions]


def parse_messages(messages: Mapping[str, Iterable[str]]) -> list[dict[str, Any]]:
    """The ``govcloud-repl {json}`` lines the replication tasks report (roles/govcloud_repl), each
    with the host that reported it."""
    import json
    out = []
    for host, msgs in messages.items():
        for m in msgs:
            if isinstance(m, str) and m.startswith("govcloud-repl "):
                try:
                    d = json.loads(m[len("govcloud-repl "):])
                except ValueError:
                    continue
                if isinstance(d, dict):
                    out.append({**d, "host": host})
    return out


def facts_from_messages(messages: Mapping[str, Iterable[str]], *, measured_at: str | None = None
                        ) -> dict[str, SourceFacts]:
    """Facts per ``engine/name`` from the facts playbook's reports: the source's engine facts joined
    with its target's reachability probe."""
    recs = parse_messages(messages)
    # one reachability probe per (source, engine port); older reports name no engine
    reach = {(r.get("source"), r.get("engine") or "postgresql"): r for r in recs if r.get("kind") == "reach"}
    out: dict[str, SourceFacts] = {}
    for r in recs:
        if r.get("kind") != "facts":
            continue
        eng = "mysql" if r.get("engine") in ("mysql", "mariadb") else r.get("engine")
        rr = reach.get((r.get("source"), eng)) or {}
        merged = {**r, "measured_at": measured_at}
        if rr:
            merged.update({"reachable": rr.get("reachable"), "reach_error": rr.get("error") or None,
                           "target": rr.get("target"), "port": rr.get("port") or r.get("port")})
        f = SourceFacts.from_plain(merged)
        out[f"{f.engine}/{f.name}"] = f
    return out


def statuses_from_messages(messages: Mapping[str, Iterable[str]], *, measured_at: str | None = None
                           ) -> list[ReplicationStatus]:
    return [ReplicationStatus.from_plain({**r, "measured_at": measured_at, "live": True})
            for r in parse_messages(messages) if r.get("kind") == "status"]


@dataclass(frozen=True)
class ReplicationStatus:
    """State and lag of one database's replication: ``live`` = probed just now (read-only), else the
    last measurement journaled at ``measured_at``."""
    engine: str
    name: str
    state: str                      # streaming | copying | catching_up | down | absent
    lag_bytes: int | None = None
    lag_s: float | None = None
    measured_at: str | None = None
    live: bool = False
    detail: str | None = None

    @classmethod
    def from_plain(cls, d: Mapping[str, Any], *, live: bool = False) -> "ReplicationStatus":
        def num(v: Any, typ: Callable[[Any], Any]) -> Any:
            try:
                return None if v is None or v == "" else typ(v)
            except (TypeError, ValueError):
                return None
        return cls(engine=str(d.get("engine") or ""), name=str(d.get("name") or ""),
                   state=str(d.get("state") or "absent"), lag_bytes=num(d.get("lag_bytes"), int),
                   lag_s=num(d.get("lag_s"), float), measured_at=d.get("measured_at"),
                   live=bool(d.get("live", live)), detail=d.get("detail"))

    def to_plain(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def text(self, lang: str = "zh") -> str:
        lag = ""
        if self.lag_bytes is not None or self.lag_s is not None:
            b = "?" if self.lag_bytes is None else f"{self.lag_bytes} B"
            s = "?" if self.lag_s is None else f"{self.lag_s:.1f} s"
            lag = tr(" lag {bytes} / {seconds}", lang).format(bytes=b, seconds=s)
        when = tr("live", lang, ctx="replication") if self.live else \
            tr("measured {at}", lang).format(at=self.measured_at)
        return f"{self.engine}/{self.name} {self.state}{lag} ({when})"


# fixed parts of a replicated cutover (s): marker round trip, sequences, counts + checksums, drop
REPLICATION_FINAL_S = 5.0


@dataclass(frozen=True)
class Projection:
    method: str                      # replication (every database replicated) | dump
    total_s: float
    final_sync_s: float | None
    service_stop_start_s: float
    replication_lag_s: float | None
    databases: Mapping[str, str] = field(default_factory=dict)   # engine/name → method
    files_s: float | None = None     # the final file delta, as the last delta's rsync time predicts it
    database_s: float | None = None  # the databases' dump/restore as the last sync measured it
    basis: str | None = None         # last_delta (rsync statistics) | sync_step (the whole step's time)
    delta_bytes: int | None = None

    def to_plain(self) -> dict[str, Any]:
        return {"method": self.method, "final_sync_s": self.final_sync_s,
                "service_stop_start_s": self.service_stop_start_s, "replication_lag_s": self.replication_lag_s,
                "total_s": self.total_s, "databases": dict(self.databases), "files_s": self.files_s,
                "database_s": self.database_s, "basis": self.basis, "delta_bytes": self.delta_bytes}


def project(decisions: Iterable[MethodDecision], statuses: Iterable[ReplicationStatus], *,
            last_sync_s: float | None, stop_start_s: float, files_s: float | None = None,
            db_s: float | None = None, delta_bytes: int | None = None) -> Projection:
    """The projected cutover window.  The final file delta (``files_s``: the last delta's own rsync
    time, when rsync statistics were recorded) runs in every cutover.  With every database replicated
    (and replication measured as running), the databases add the last measured lag + the fixed
    catch-up work — flat in database size; otherwise the final copy is a full dump/restore
    (``db_s``, as the last sync measured it).  Then the services' stop/start.  Without statistics
    the last sync step's wall time (``last_sync_s``) stands in for files and databases of a dump;
    a replicated system then adds no file time (the step's time holds the initial copy)."""
    decisions = list(decisions)
    by_key = {f"{s.engine}/{s.name}": s for s in statuses}
    dbs = {d.key: d.method.value for d in decisions}
    replicated = [d for d in decisions if d.method is Method.replication]
    running = [by_key.get(d.key) for d in replicated]
    basis = "last_delta" if files_s is not None else ("sync_step" if last_sync_s is not None else None)
    extra = dict(files_s=files_s, database_s=db_s, basis=basis, delta_bytes=delta_bytes)
    if decisions and len(replicated) == len(decisions) and all(s is not None and s.state != "absent" and
                                                               s.state != "down" for s in running):
        lag = max((s.lag_s or 0.0) for s in running if s is not None)
        total = (files_s or 0.0) + lag + REPLICATION_FINAL_S + stop_start_s
        return Projection("replication", round(total, 1), REPLICATION_FINAL_S, stop_start_s, round(lag, 3), dbs,
                          **extra)
    if files_s is not None:
        final, total = files_s, files_s + (db_s or 0.0) + stop_start_s
    else:
        final, total = last_sync_s, (last_sync_s if last_sync_s is not None else 0.0) + stop_start_s
    return Projection("dump", round(total, 1), final, stop_start_s, None, dbs, **extra)


# --------------------------------------------------------------------------- journal replay

def latest(entries: Iterable[Entry | Mapping[str, Any]],
           system: str) -> tuple[list[MethodDecision], list[ReplicationStatus]]:
    """The last decisions and the last measured status per database of ``system`` from the journal
    (entries of kind ``replication``; a rollback or a finished cutover ends replication)."""
    decisions: dict[str, MethodDecision] = {}
    status: dict[str, ReplicationStatus] = {}
    for e in map(as_entry, entries):
        if e.system != system:
            continue
        if isinstance(e, ReplicationEntry):
            for d in e.decisions:
                md = MethodDecision.from_plain(d)
                decisions[md.key] = md
            for s in e.status:
                # from the journal: a measurement of the past, never "live"
                rs = ReplicationStatus.from_plain({**s, "measured_at": s.get("measured_at") or e.at,
                                                   "live": False})
                status[f"{rs.engine}/{rs.name}"] = rs
        elif isinstance(e, StateEntry) and e.to in ("rolled_back", "done", "failed_back"):
            status = {k: ReplicationStatus(v.engine, v.name, "absent", measured_at=e.at,
                                           detail="ended by " + str(e.to)) for k, v in status.items()}
    return list(decisions.values()), list(status.values())
