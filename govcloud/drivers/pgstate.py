"""The PostgreSQL backend of the state port (:mod:`govcloud.store.state`): ``postgresql://…``.

Every operator that points ``--state`` (or ``GOVCLOUD_STATE``) at the same database shares one
state: the journals of the plans, the locks of the systems, the claims of systems by plans and
the approved plan of each plan id.

* **Journal**: one row per entry, ``journal(plan_id, seq, entry)``. An append is one transaction
  that takes the plan's next ``seq`` from its ``plans`` row (row-locked, so concurrent appends to
  one plan are serialised and numbered without gaps) and commits before it returns (durable:
  PostgreSQL's ``synchronous_commit``). ``entry`` is ``json`` — the exact text the files backend
  writes as a line (``jsonb`` would reorder keys, fold duplicates and refuse ``\\u0000``, so a
  journal moved from files and back would not be the same journal). Reads are ordered by ``seq``
  and go through the one journal reader (:func:`govcloud.store.journal.parse`).
* **Locks**: PostgreSQL session advisory locks, ``pg_try_advisory_lock(NS, id)`` where ``id`` is
  the system's row in ``lock_keys`` (no hash: two systems never share a lock). Every
  :meth:`PostgresState.lock_systems` opens its own session and holds it for the lock's lifetime:
  when the holder ends — or is SIGKILLed, or its machine dies (TCP keepalives) — PostgreSQL ends
  the session and the locks are free. A ``holders`` row names the holder for the refused
  operator; it counts only while its session (``backend_pid``) holds the advisory lock in
  ``pg_locks``. :meth:`PostgresState.plan_lock` is the same on the plan id's key, but waits (up to
  ``GOVCLOUD_LOCK_WAIT`` seconds: ``lock_timeout``). The sessions' sockets are close-on-exec, so a
  killed run's surviving children (ansible-playbook, ssh) never keep its locks. A lock whose
  session ended under its holder (database restart, connection cut) is noticed at the holder's next
  journal line for that system, which is refused: the run stops instead of going on unlocked.
* **Claims**: ``claims(system PRIMARY KEY, plan_id, …)``: the unique key is the rule "a system's
  cloud resources belong to one plan". Claims and releases are also logged (``claim_log``).
* **Approvals by reference**: ``plans.digest`` is the digest of the approved plan a plan id was
  first used with, ``plans.origin`` where from (host and plan directory; every digest a copy brings
  is logged in ``approvals``). A claim compares: a copy of the plan approved differently (another
  digest, from elsewhere) is refused for every system — every operator sharing the state runs the
  one approved plan the state refers to; the plan re-approved in place at its origin becomes that
  plan (its claims follow it, as the files backend's do). (The journal takes
  every copy's entries: refusing a journal line in the middle of a step would lose what was done.)

The schema is created and migrated idempotently (``schema_version``; concurrent first uses are
serialised by a transaction-level advisory lock). Values reach SQL only as parameters. The URL is
shown without its password, and a failure to connect or to query is a :class:`StateError` with a
hint — never a traceback, never the password (use a libpq passfile: ``?passfile=…``).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from govcloud.base import stamp
from govcloud.base.i18n import Msg
from govcloud.model.ids import ID_DESCRIPTION, is_valid_id
from govcloud.store import journal
from govcloud.store.entries import Entry
from govcloud.store.journal import JournalRead
from govcloud.store.lock import default_wait
from govcloud.store.state import Claim, Holder, PlanRef, StateError, SystemBusyError, SystemClaimedError
from govcloud.drivers.state import display_url

__all__ = ["PostgresState", "SCHEMA_VERSION", "redact_url", "journal_line"]

SCHEMA_VERSION = 3
LOCK_NS = 0x67630001          # advisory-lock key space of govcloud's system locks ("gc", 1)
_MIGRATE_KEY = 0              # with LOCK_NS: serialises schema creation

_SCHEMA_V1 = [
    """CREATE TABLE IF NOT EXISTS schema_version (
         only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
         version integer NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS plans (
         plan_id text PRIMARY KEY,
         digest text NOT NULL,
         next_seq bigint NOT NULL DEFAULT 0,
         since text NOT NULL,
         by_who text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS approvals (
         plan_id text NOT NULL REFERENCES plans ON DELETE CASCADE,
         digest text NOT NULL,
         first_seen text NOT NULL,
         by_who text NOT NULL,
         PRIMARY KEY (plan_id, digest))""",
    """CREATE TABLE IF NOT EXISTS journal (
         plan_id text NOT NULL REFERENCES plans ON DELETE CASCADE,
         seq bigint NOT NULL,
         entry json NOT NULL,
         PRIMARY KEY (plan_id, seq))""",
    """CREATE TABLE IF NOT EXISTS lock_keys (
         id bigserial PRIMARY KEY,
         kind text NOT NULL CHECK (kind IN ('system', 'plan')),
         name text NOT NULL,
         UNIQUE (kind, name))""",
    """CREATE TABLE IF NOT EXISTS holders (
         key_id bigint PRIMARY KEY REFERENCES lock_keys,
         backend_pid integer NOT NULL,
         pid integer NOT NULL,
         os_user text NOT NULL,
         host text NOT NULL,
         command text NOT NULL,
         since text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS claims (
         system text PRIMARY KEY,
         plan_id text NOT NULL,
         location text NOT NULL,
         digest text NOT NULL,
         since text NOT NULL,
         by_who text NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS claim_log (
         id bigserial PRIMARY KEY,
         system text NOT NULL,
         plan_id text NOT NULL,
         action text NOT NULL,
         reason text,
         at text NOT NULL,
         by_who text NOT NULL)""",
]

# version 2: where moved plans went (migrate state-move)
_SCHEMA_V2 = [
    """CREATE TABLE IF NOT EXISTS moved_plans (
         id bigserial PRIMARY KEY,
         plan_id text NOT NULL,
         to_url text NOT NULL,
         entries bigint NOT NULL,
         digest text NOT NULL,
         at text NOT NULL,
         by_who text NOT NULL)""",
]
# version 3: where a plan id was first run from (host:plan directory), so that a plan re-approved in
# place there is told from a copy approved differently elsewhere
_SCHEMA_V3 = ["ALTER TABLE plans ADD COLUMN IF NOT EXISTS origin text"]
_MIGRATIONS = [(1, _SCHEMA_V1), (2, _SCHEMA_V2), (3, _SCHEMA_V3)]

_CONNECT_HINT = Msg("check the URL (postgresql://USER@HOST:PORT/DB?passfile=FILE — keep the password in a "
                    "libpq passfile, not in the URL), that the server runs and accepts this user, or choose "
                    "another state with --state / GOVCLOUD_STATE")


redact_url = display_url     # the one redaction of a state URL (drivers/state.py)


def journal_line(record: Mapping[str, Any]) -> str:
    """One entry as the files backend writes it (without the newline): the text stored here."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


def _check_system(system: object) -> str:
    if not is_valid_id(system):
        raise StateError(Msg("system id {system!r} is not an id ({grammar})", system=system, grammar=ID_DESCRIPTION))
    return str(system)


class PostgresState:
    """The PostgreSQL backend; ``url`` a libpq URL ``postgresql://USER@HOST:PORT/DB[?passfile=…]``."""

    def __init__(self, url: str) -> None:
        self.url = redact_url(url)
        self._secret = self._password_of(url)
        try:
            params = conninfo_to_dict(url)
        except (psycopg.Error, ValueError, TypeError) as exc:
            raise StateError(Msg("state URL {url}: {reason}", url=self.url, reason=self._scrub(exc)),
                             hint=_CONNECT_HINT) from None
        params.setdefault("connect_timeout", "10")
        params.setdefault("application_name", "govcloud")
        # a dead network peer must end the session (and free its locks) without waiting for TCP's hours
        params.setdefault("keepalives", "1")
        params.setdefault("keepalives_idle", "30")
        params.setdefault("keepalives_interval", "10")
        params.setdefault("keepalives_count", "3")
        self._params = params
        self._lock = threading.RLock()
        self._conn: psycopg.Connection | None = None
        self._held: dict[str, psycopg.Connection] = {}     # system → the session holding its lock here
        self._conn = self._connect()
        self._migrate()

    # ---------------------------------------------------------------- connections and errors
    @staticmethod
    def _password_of(url: str) -> str | None:
        """The password in ``url``'s user part or its ``password=`` parameter (scrubbed from errors)."""
        from urllib.parse import parse_qsl
        try:
            parts = urlsplit(url)
            query = dict((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
            return parts.password or query.get("password") or None
        except ValueError:
            return None

    def _scrub(self, exc: BaseException) -> str:
        """An error's first line with the password (if the URL had one) taken out."""
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self._secret:
            text = text.replace(self._secret, "***")
        return text

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(**self._params, autocommit=True)
        except psycopg.Error as exc:
            raise StateError(Msg("cannot connect to the state database {url}: {reason}", url=self.url,
                                 reason=self._scrub(exc)), hint=_CONNECT_HINT) from None

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor]:
        """One transaction on the main session (reconnected once if the server dropped it)."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            except (StateError, SystemBusyError, SystemClaimedError):
                raise
            except psycopg.OperationalError as exc:
                self._drop()
                raise StateError(Msg("the state database {url} failed: {reason}", url=self.url,
                                     reason=self._scrub(exc)), hint=_CONNECT_HINT) from None
            except psycopg.Error as exc:
                raise StateError(Msg("the state database {url} refused an operation: {reason}", url=self.url,
                                     reason=self._scrub(exc)), hint=_CONNECT_HINT) from None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
            self._conn = None

    def _migrate(self) -> None:
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (LOCK_NS, _MIGRATE_KEY))
            cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
            exists = cur.fetchone()[0]
            version = 0
            if exists:
                cur.execute("SELECT version FROM schema_version")
                row = cur.fetchone()
                version = row[0] if row else 0
            if version > SCHEMA_VERSION:
                raise StateError(Msg("the state database {url} has schema version {found}, newer than this "
                                     "govcloud knows ({known})", url=self.url, found=version, known=SCHEMA_VERSION),
                                 hint=Msg("upgrade govcloud on this machine"))
            if version < SCHEMA_VERSION:
                for target, statements in _MIGRATIONS:
                    if version < target:
                        for stmt in statements:
                            cur.execute(stmt)
                cur.execute("INSERT INTO schema_version (version) VALUES (%s) "
                            "ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version", (SCHEMA_VERSION,))

    # ---------------------------------------------------------------- plans (approvals by reference)
    def _plan_row(self, cur: psycopg.Cursor, plan: PlanRef, *, for_update: bool = False) -> tuple[str, str | None]:
        """Make ``plan`` known with the digest of its approved plan and where it was first run from
        (the first use of a plan id records both; every digest a copy brought is logged in
        ``approvals``). Returns the recorded (digest, origin)."""
        who, now = stamp.user_at_host(), stamp.utc_now()
        cur.execute("INSERT INTO plans (plan_id, digest, since, by_who, origin) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (plan_id) DO NOTHING", (plan.plan_id, plan.digest, now, who, _origin(plan)))
        cur.execute("INSERT INTO approvals (plan_id, digest, first_seen, by_who) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (plan_id, digest) DO NOTHING", (plan.plan_id, plan.digest, now, who))
        cur.execute("SELECT digest, origin FROM plans WHERE plan_id = %s" + (" FOR UPDATE" if for_update else ""),
                    (plan.plan_id,))
        digest, origin = cur.fetchone()
        if origin is None and digest == plan.digest:      # a row from before version 3: adopt this origin
            cur.execute("UPDATE plans SET origin = %s WHERE plan_id = %s", (_origin(plan), plan.plan_id))
            origin = _origin(plan)
        return digest, origin

    # ---------------------------------------------------------------- journal
    def read_journal(self, plan: PlanRef) -> JournalRead:
        with self._tx() as cur:
            cur.execute("SELECT entry::text FROM journal WHERE plan_id = %s ORDER BY seq", (plan.plan_id,))
            lines = [r[0] for r in cur.fetchall()]
        if not lines:
            return JournalRead([], False)
        return journal.parse("\n".join(lines) + "\n", f"{self.url} journal of {plan.plan_id}")

    def append_journal(self, plan: PlanRef, record: Mapping[str, Any] | Entry) -> dict[str, Any]:
        body = record.to_dict() if isinstance(record, Entry) else dict(record)
        full = {"at": stamp.utc_now(ms=True), "who": stamp.user_at_host(), **body}
        line = journal_line(full)
        self._check_held(body.get("system"))
        with self._tx() as cur:
            self._plan_row(cur, plan)
            # the plan's row lock serialises appends to one plan: gapless seq, commit order = seq order
            cur.execute("UPDATE plans SET next_seq = next_seq + 1 WHERE plan_id = %s RETURNING next_seq",
                        (plan.plan_id,))
            seq = cur.fetchone()[0]
            cur.execute("INSERT INTO journal (plan_id, seq, entry) VALUES (%s, %s, %s)", (plan.plan_id, seq, line))
        return full

    # ---------------------------------------------------------------- locks
    def _lock_ids(self, kind: str, names: Sequence[str]) -> dict[str, int]:
        with self._tx() as cur:
            for name in names:
                cur.execute("INSERT INTO lock_keys (kind, name) VALUES (%s, %s) ON CONFLICT (kind, name) DO NOTHING",
                            (kind, name))
            cur.execute("SELECT name, id FROM lock_keys WHERE kind = %s AND name = ANY(%s)", (kind, list(names)))
            return {n: i for n, i in cur.fetchall()}

    @staticmethod
    def _write_holder(cur: psycopg.Cursor, key_id: int, backend: int, command: str) -> None:
        cur.execute(
            "INSERT INTO holders (key_id, backend_pid, pid, os_user, host, command, since) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key_id) DO UPDATE SET "
            "backend_pid = EXCLUDED.backend_pid, pid = EXCLUDED.pid, os_user = EXCLUDED.os_user, "
            "host = EXCLUDED.host, command = EXCLUDED.command, since = EXCLUDED.since",
            (key_id, backend, os.getpid(), stamp.os_user(), socket.gethostname(), command, stamp.utc_now(ms=True)))

    @contextmanager
    def _session(self, what: str) -> Iterator[psycopg.Connection]:
        """A session of its own for a lock: closing it (or the death of this process) frees its locks."""
        session = self._connect()
        try:
            yield session
        finally:
            try:                 # released before this returns (closing alone is asynchronous on the server)
                with session.cursor() as cur:
                    cur.execute("DELETE FROM holders WHERE backend_pid = %s", (session.info.backend_pid,))
                    cur.execute("SELECT pg_advisory_unlock_all()")
            except psycopg.Error:
                pass             # the session is gone: so are its locks
            session.close()

    def _lock_error(self, exc: psycopg.Error) -> StateError:
        return StateError(Msg("the state database {url} failed while locking: {reason}", url=self.url,
                              reason=self._scrub(exc)), hint=_CONNECT_HINT)

    @contextmanager
    def lock_systems(self, plan: PlanRef, systems: Sequence[str], command: str) -> Iterator[None]:
        names = sorted({_check_system(s) for s in systems})
        ids = self._lock_ids("system", names)
        with self._session("systems") as session:
            try:
                with session.cursor() as cur:
                    for name in names:          # sorted: two groups never wait on each other (and never wait)
                        cur.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (LOCK_NS, ids[name]))
                        if not cur.fetchone()[0]:
                            holder = self.holders([name]).get(name)
                            raise SystemBusyError(
                                Msg("system {system} is being run by {holder}: one run per system at a time",
                                    system=name, holder=_describe(holder)),
                                hint=Msg("wait for it to finish, or run other systems of the plan (--system)"))
                        self._write_holder(cur, ids[name], session.info.backend_pid, command)
            except psycopg.Error as exc:
                raise self._lock_error(exc) from None
            with self._lock:
                for name in names:
                    self._held[name] = session
            try:
                yield
            finally:
                with self._lock:
                    for name in names:
                        if self._held.get(name) is session:
                            del self._held[name]

    def _check_held(self, system: object) -> None:
        """Before journaling a step of a system this process holds the lock of: is the lock's session
        still alive? A database restart or a cut connection ends it and frees the lock without telling
        the holder; the run must stop then (a re-run resumes) instead of going on unlocked."""
        if not isinstance(system, str):
            return
        with self._lock:
            session = self._held.get(system)
        if session is None:
            return
        try:
            session.execute("SELECT 1")
        except psycopg.Error:
            raise StateError(Msg("the lock of system {system} was lost: its session with the state database {url} "
                                 "ended (database restarted or connection cut)", system=system, url=self.url),
                             hint=Msg("another run may hold the system now: stop, check `govcloud migrate status`, "
                                      "then run again (it resumes from the journal)")) from None

    @contextmanager
    def plan_lock(self, plan: PlanRef, command: str) -> Iterator[None]:
        if not is_valid_id(plan.plan_id):
            raise StateError(Msg("plan id {plan!r} is not an id ({grammar})", plan=plan.plan_id, grammar=ID_DESCRIPTION))
        wait = default_wait()
        key = self._lock_ids("plan", [plan.plan_id])[plan.plan_id]
        with self._session("plan") as session:
            try:
                with session.cursor() as cur:
                    if wait > 0:                 # lock_timeout bounds the wait (0 would mean: for ever)
                        cur.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(wait * 1000))}ms",))
                        cur.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (LOCK_NS, key))
                        got = True
                    else:
                        cur.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (LOCK_NS, key))
                        got = cur.fetchone()[0]
            except psycopg.errors.LockNotAvailable:
                got = False
            except psycopg.Error as exc:
                raise self._lock_error(exc) from None
            if not got:
                holder = self._holder_of_key(key)
                raise SystemBusyError(Msg("plan {plan} is held by {holder} (waited {seconds:g} s)", plan=plan.plan_id,
                                          holder=_describe(holder), seconds=wait),
                                      hint=Msg("wait for it to finish and try again "
                                               "(GOVCLOUD_LOCK_WAIT sets how many seconds to wait)"))
            try:
                with session.cursor() as cur:
                    self._write_holder(cur, key, session.info.backend_pid, command)
            except psycopg.Error as exc:
                raise self._lock_error(exc) from None
            yield

    _HELD = ("FROM lock_keys k JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted "
             "  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
             "  AND l.classid = %s::bigint::oid AND l.objid = k.id::oid AND l.objsubid = 2 "
             "LEFT JOIN holders h ON h.key_id = k.id ")
    _HOLDER_COLS = "SELECT k.name, h.pid, h.os_user, h.host, h.command, h.since, h.backend_pid = l.pid "

    @staticmethod
    def _holder_rows(rows: list[tuple]) -> dict[str, Holder]:
        out: dict[str, Holder] = {}
        for name, pid, user, host, command, since, current in rows:
            if current:
                out[name] = Holder(pid=pid, user=user, host=host, command=command, since=since)
            else:                          # locked, its holder row not (yet) written
                out[name] = Holder(pid=0, user="?", host="?", command="?", since="?")
        return out

    def _holder_of_key(self, key: int) -> Holder | None:
        with self._tx() as cur:
            cur.execute(self._HOLDER_COLS + self._HELD + "WHERE k.id = %s", (LOCK_NS, key))
            return next(iter(self._holder_rows(cur.fetchall()).values()), None)

    def holders(self, systems: Iterable[str]) -> dict[str, Holder]:
        names = sorted({_check_system(s) for s in systems})
        if not names:
            return {}
        with self._tx() as cur:
            cur.execute(self._HOLDER_COLS + self._HELD + "WHERE k.kind = 'system' AND k.name = ANY(%s) ORDER BY k.name",
                        (LOCK_NS, names))
            return self._holder_rows(cur.fetchall())

    # ---------------------------------------------------------------- claims
    def claim(self, plan: PlanRef, system: str) -> Claim:
        name = _check_system(system)
        who, now = stamp.user_at_host(), stamp.utc_now()
        with self._tx() as cur:
            recorded, origin = self._plan_row(cur, plan, for_update=True)
            if recorded != plan.digest and origin == _origin(plan):
                # re-approved in place (the plan directory it was first run from, on its machine):
                # the new approval is the plan's from now on, and its claims follow it (as with files)
                cur.execute("UPDATE plans SET digest = %s WHERE plan_id = %s", (plan.digest, plan.plan_id))
                cur.execute("UPDATE claims SET digest = %s WHERE plan_id = %s", (plan.digest, plan.plan_id))
                recorded = plan.digest
            cur.execute("SELECT system, plan_id, location, since, by_who, digest FROM claims WHERE system = %s",
                        (name,))
            row = cur.fetchone()
            if row is not None and row[1] != plan.plan_id:
                held = Claim(*row[:5])
                raise SystemClaimedError(
                    Msg("system {system} belongs to plan {plan} ({location}, claimed {since} by {by}): a system's "
                        "cloud resources belong to one plan", system=name, plan=held.plan_id,
                        location=held.location, since=held.since, by=held.by),
                    hint=Msg("roll the system back in that plan (which releases it) or release it there"))
            theirs = recorded
            if theirs != plan.digest:      # approvals by reference: one approved plan per plan id
                raise SystemClaimedError(
                    Msg("system {system}: plan {plan} runs in the state database {url} as the approved plan "
                        "{theirs}; this copy's approved plan is {mine}", system=name, plan=plan.plan_id,
                        url=self.url, theirs=theirs[:16], mine=plan.digest[:16]),
                    hint=Msg("every copy of a plan that shares a state runs the same approved plan: use the "
                             "plan.yaml and approval it was first run with"))
            if row is not None:
                return Claim(*row[:5])
            cur.execute("INSERT INTO claims (system, plan_id, location, digest, since, by_who) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", (name, plan.plan_id, plan.plan_id, plan.digest, now, who))
            cur.execute("INSERT INTO claim_log (system, plan_id, action, at, by_who) VALUES (%s, %s, 'claim', %s, %s)",
                        (name, plan.plan_id, now, who))
            return Claim(name, plan.plan_id, plan.plan_id, now, who)

    def release(self, plan: PlanRef, system: str, reason: str) -> None:
        name = _check_system(system)
        with self._tx() as cur:
            cur.execute("DELETE FROM claims WHERE system = %s AND plan_id = %s RETURNING 1", (name, plan.plan_id))
            if cur.fetchone() is not None:
                cur.execute("INSERT INTO claim_log (system, plan_id, action, reason, at, by_who) "
                            "VALUES (%s, %s, 'release', %s, %s, %s)",
                            (name, plan.plan_id, reason, stamp.utc_now(), stamp.user_at_host()))

    def claims(self, plan_id: str | None = None) -> list[Claim]:
        with self._tx() as cur:
            cur.execute("SELECT system, plan_id, location, since, by_who FROM claims "
                        "WHERE %s::text IS NULL OR plan_id = %s ORDER BY system", (plan_id, plan_id))
            return [Claim(*r) for r in cur.fetchall()]

    # ---------------------------------------------------------------- moving a plan's state (migrate state-move)
    def holds_plan(self, plan_id: str) -> bool:
        """Whether this database holds any journal entry or claim of ``plan_id``."""
        with self._tx() as cur:
            return self._holds(cur, plan_id)

    def import_plan(self, plan: PlanRef, records: Sequence[Mapping[str, Any]], claims: Sequence[Claim]) -> None:
        """Write a plan's whole journal and its claims in ONE transaction (all or nothing): refused
        when this database already holds the plan, or a system is claimed by another plan here."""
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (LOCK_NS, _MIGRATE_KEY))
            if self._holds(cur, plan.plan_id):
                raise StateError(Msg("the state {url} already holds plan {plan}", url=self.url, plan=plan.plan_id),
                                 hint=Msg("a plan's state lives in one place: move it only to a state that does "
                                          "not hold it"))
            self._plan_row(cur, plan)
            cur.execute("UPDATE plans SET digest = %s, next_seq = %s, origin = %s WHERE plan_id = %s",
                        (plan.digest, len(records), _origin(plan), plan.plan_id))
            with cur.copy("COPY journal (plan_id, seq, entry) FROM STDIN") as copy:
                for seq, rec in enumerate(records, 1):
                    copy.write_row((plan.plan_id, seq, journal_line(rec)))
            for c in claims:
                name = _check_system(c.system)
                cur.execute("SELECT plan_id FROM claims WHERE system = %s", (name,))
                row = cur.fetchone()
                if row is not None:
                    raise SystemClaimedError(
                        Msg("system {system} belongs to plan {plan} in {url}: a system's cloud resources belong "
                            "to one plan", system=name, plan=row[0], url=self.url),
                        hint=Msg("roll the system back in that plan (which releases it) or release it there"))
                cur.execute("INSERT INTO claims (system, plan_id, location, digest, since, by_who) "
                            "VALUES (%s, %s, %s, %s, %s, %s)",
                            (name, plan.plan_id, plan.plan_id, plan.digest, c.since, c.by))
                cur.execute("INSERT INTO claim_log (system, plan_id, action, reason, at, by_who) "
                            "VALUES (%s, %s, 'claim', %s, %s, %s)",
                            (name, plan.plan_id, "state-move", stamp.utc_now(), stamp.user_at_host()))

    @staticmethod
    def _holds(cur: psycopg.Cursor, plan_id: str) -> bool:
        cur.execute("SELECT EXISTS (SELECT FROM journal WHERE plan_id = %s) "
                    "OR EXISTS (SELECT FROM claims WHERE plan_id = %s)", (plan_id, plan_id))
        return bool(cur.fetchone()[0])

    def drop_plan(self, plan: PlanRef, moved_to: str, *, entries: int, digest: str) -> None:
        """The source side of a verified move, in ONE transaction: the plan's journal rows, claims and
        approvals go (their copy was verified at ``moved_to``); ``moved_plans`` and ``claim_log`` keep
        the record of where they went. Refused when the journal changed since it was verified."""
        who, now = stamp.user_at_host(), stamp.utc_now()
        with self._tx() as cur:
            cur.execute("SELECT next_seq FROM plans WHERE plan_id = %s FOR UPDATE", (plan.plan_id,))
            row = cur.fetchone()
            cur.execute("SELECT count(*) FROM journal WHERE plan_id = %s", (plan.plan_id,))
            if cur.fetchone()[0] != entries:
                raise StateError(Msg("plan {plan}: its journal in {url} changed during the move; nothing was removed",
                                     plan=plan.plan_id, url=self.url),
                                 hint=Msg("run the move again once no run of the plan is active"))
            cur.execute("DELETE FROM claims WHERE plan_id = %s RETURNING system", (plan.plan_id,))
            for (system,) in cur.fetchall():
                cur.execute("INSERT INTO claim_log (system, plan_id, action, reason, at, by_who) "
                            "VALUES (%s, %s, 'release', %s, %s, %s)", (system, plan.plan_id, "moved to " + moved_to,
                                                                       now, who))
            if row is not None:
                cur.execute("DELETE FROM plans WHERE plan_id = %s", (plan.plan_id,))   # journal, approvals cascade
            cur.execute("INSERT INTO moved_plans (plan_id, to_url, entries, digest, at, by_who) "
                        "VALUES (%s, %s, %s, %s, %s, %s)", (plan.plan_id, moved_to, entries, digest, now, who))

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __repr__(self) -> str:
        return f"PostgresState({self.url!r})"


def _origin(plan: PlanRef) -> str:
    """Where a plan is run from: this machine and the plan directory."""
    return f"{socket.gethostname()}:{Path(plan.plan_dir).resolve()}"


def _describe(h: Holder | None) -> str:
    if h is None or not h.pid:
        return Msg("another process")
    return Msg("pid {pid} ({who}, `{command}`, since {since})", pid=h.pid, who=f"{h.user}@{h.host}",
               command=h.command, since=h.since)
