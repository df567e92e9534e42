"""The files backend of the state port (:mod:`govcloud.store.state`): ``file:`` / ``file:///DIR``.

* The **journal** stays ``<plan dir>/journal.jsonl`` (:mod:`govcloud.store.journal`, format unchanged).
* **System locks** are flock'd files ``<root>/locks/<system>.lock`` that name their holder in the
  one holder format of :mod:`govcloud.store.lock`; the kernel drops a flock when its holder dies,
  so a SIGKILLed run never leaves a lock behind. A set of systems (a move group, a batch) is
  locked in sorted order, all or none, without waiting: no deadlock, no half-held group.
* A plan's short **plan lock** (around plan-wide cloud resources) is ``<root>/plans/<plan id>.lock``.
* **Claims** are ``<root>/claims/<system>.json`` (plan id, the plan directory that holds its
  journal, the approved plan's digest, since, by), written atomically under the system's lock.

The root (default ``$XDG_STATE_HOME/govcloud``, else ``~/.local/state/govcloud``) is shared by every
plan directory that points at it: it protects one machine (every copy of a plan directory on it and
every plan that uses it), not two machines with two roots — that is what the PostgreSQL backend is for
(and the cloud-side check of a server's ``gc-plan`` tag the executor does before creating one).

File names are built only from system ids that pass the one id grammar (model.ids): never a path.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

from govcloud.base import stamp
from govcloud.base.atomic import fsync_dir, write_atomic
from govcloud.base.i18n import Msg
from govcloud.model.ids import ID_DESCRIPTION, is_valid_id
from govcloud.store import journal
from govcloud.store.journal import JournalRead
from govcloud.store.lock import default_wait, describe_holder, read_holder, try_flock, wait_flock, write_holder
from govcloud.store.state import Claim, Holder, PlanRef, StateError, SystemBusyError, SystemClaimedError

__all__ = ["FileState", "default_root", "root_of_url"]

LOCKS = "locks"
CLAIMS = "claims"
PLANS = "plans"


def default_root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "govcloud"


def root_of_url(url: str) -> Path:
    """``file:`` (or ``file://``) → the default root; ``file:///DIR`` → DIR (absolute, local)."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise StateError(Msg("{url!r} is not a file: state URL", url=url))
    if parts.query or parts.fragment or parts.netloc not in ("", "localhost"):
        raise StateError(Msg("state URL {url!r}: a file: URL is file: or file:///DIR (a local absolute "
                             "directory, no host, query or fragment)", url=url))
    if not parts.path:
        return default_root()
    if not parts.path.startswith("/"):
        raise StateError(Msg("state URL {url!r}: the directory must be absolute (file:///DIR)", url=url))
    if "\x00" in parts.path or any(p == ".." for p in parts.path.split("/")):
        raise StateError(Msg("state URL {url!r}: the directory must not contain '..'", url=url))
    return Path(parts.path)


def _check_system(system: object) -> str:
    if not is_valid_id(system):
        raise StateError(Msg("system id {system!r} is not an id ({grammar})", system=system, grammar=ID_DESCRIPTION))
    return str(system)


def _location(plan: PlanRef) -> str:
    return str(Path(plan.plan_dir).resolve())


def _holder(rec: Mapping[str, Any] | None) -> Holder:
    rec = rec or {}
    try:
        pid = int(rec.get("pid") or 0)
    except (TypeError, ValueError):
        pid = 0
    return Holder(pid=pid, user=str(rec.get("user") or "?"), host=str(rec.get("host") or "?"),
                  command=str(rec.get("command") or "?"), since=str(rec.get("since") or "?"))


def claimed_message(system: str, claim: Claim) -> str:
    return Msg("system {system} belongs to plan {plan} ({location}, claimed {since} by {by}): a system's cloud "
               "resources belong to one plan", system=system, plan=claim.plan_id, location=claim.location,
               since=claim.since, by=claim.by)


CLAIMED_HINT = Msg("roll the system back in that plan (which releases it) or release it there with "
                   "`govcloud migrate release PLAN --system ID --reason TEXT`")


class FileState:
    """The files backend; ``url`` ``file:`` or ``file:///DIR``."""

    def __init__(self, url: str = "file:") -> None:
        self.url = url
        self.root = root_of_url(url)

    # ---------------------------------------------------------------- journal
    def read_journal(self, plan: PlanRef) -> JournalRead:
        return journal.read(plan.plan_dir)

    def append_journal(self, plan: PlanRef, record: Mapping[str, Any]) -> dict[str, Any]:
        return journal.append(plan.plan_dir, record)

    # ---------------------------------------------------------------- locks
    def _dir(self, name: str) -> Path:
        d = self.root / name
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(Msg("cannot use the state directory {path}: {reason}", path=str(d),
                                 reason=exc.strerror or exc)) from None
        return d

    def _lock_file(self, system: str) -> Path:
        return self.root / LOCKS / f"{_check_system(system)}.lock"

    @contextmanager
    def lock_systems(self, plan: PlanRef, systems: Sequence[str], command: str) -> Iterator[None]:
        names = sorted({_check_system(s) for s in systems})
        self._dir(LOCKS)
        fds: list[int] = []
        try:
            for name in names:
                path = self._lock_file(name)
                try:
                    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
                except OSError as exc:
                    raise StateError(Msg("cannot lock system {system} ({path}): {reason}", system=name,
                                         path=str(path), reason=exc.strerror or exc)) from None
                if not try_flock(fd, fcntl.LOCK_EX):
                    holder = describe_holder(read_holder(fd))
                    os.close(fd)
                    raise SystemBusyError(
                        Msg("system {system} is being run by {holder}: one run per system at a time",
                            system=name, holder=holder),
                        hint=Msg("wait for it to finish, or run other systems of the plan (--system)"))
                fds.append(fd)
                write_holder(fd, command)
            yield
        finally:
            for fd in reversed(fds):
                try:
                    os.ftruncate(fd, 0)
                finally:
                    os.close(fd)

    @contextmanager
    def plan_lock(self, plan: PlanRef, command: str) -> Iterator[None]:
        if not is_valid_id(plan.plan_id):
            raise StateError(Msg("plan id {plan!r} is not an id ({grammar})", plan=plan.plan_id, grammar=ID_DESCRIPTION))
        path = self._dir(PLANS) / f"{plan.plan_id}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            raise StateError(Msg("cannot lock plan {plan} ({path}): {reason}", plan=plan.plan_id, path=str(path),
                                 reason=exc.strerror or exc)) from None
        try:
            wait = default_wait()
            if not wait_flock(fd, fcntl.LOCK_EX, wait):
                raise SystemBusyError(Msg("plan {plan} is held by {holder} (waited {seconds:g} s)", plan=plan.plan_id,
                                          holder=describe_holder(read_holder(fd)), seconds=wait),
                                      hint=Msg("wait for it to finish and try again "
                                               "(GOVCLOUD_LOCK_WAIT sets how many seconds to wait)"))
            write_holder(fd, command)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def holders(self, systems: Iterable[str]) -> dict[str, Holder]:
        out: dict[str, Holder] = {}
        for name in sorted({_check_system(s) for s in systems}):
            path = self._lock_file(name)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StateError(Msg("cannot read the lock of system {system} ({path}): {reason}", system=name,
                                     path=str(path), reason=exc.strerror or exc)) from None
            try:
                if try_flock(fd, fcntl.LOCK_SH):
                    continue                      # nobody holds it (our shared lock ends with close)
                out[name] = _holder(read_holder(fd))
            finally:
                os.close(fd)
        return out

    # ---------------------------------------------------------------- claims
    def _claim_file(self, system: str) -> Path:
        return self.root / CLAIMS / f"{_check_system(system)}.json"

    def _read_claim(self, path: Path) -> Claim | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise StateError(Msg("damaged claim file {path}: {reason}", path=str(path), reason=str(exc))) from None
        keys = ("system", "plan_id", "location", "since", "by")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
            raise StateError(Msg("damaged claim file {path}: not a claim", path=str(path)))
        return Claim(**{k: raw[k] for k in keys})

    def _digest_of(self, path: Path) -> str | None:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return raw.get("digest") if isinstance(raw, dict) else None

    def claim(self, plan: PlanRef, system: str) -> Claim:
        path = self._claim_file(system)
        self._dir(CLAIMS)
        here = _location(plan)
        held = self._read_claim(path)
        if held is not None:
            if held.plan_id != plan.plan_id or held.location != here:
                raise SystemClaimedError(claimed_message(system, held), hint=CLAIMED_HINT)
            if self._digest_of(path) == plan.digest:
                return held
            # the same plan directory re-approved in place: the claim follows its approved plan
        claim = Claim(system=system, plan_id=plan.plan_id, location=here,
                      since=held.since if held else stamp.utc_now(), by=held.by if held else stamp.user_at_host())
        body = {"system": claim.system, "plan_id": claim.plan_id, "location": claim.location,
                "digest": plan.digest, "since": claim.since, "by": claim.by}
        try:
            write_atomic(path, json.dumps(body, ensure_ascii=False, indent=1) + "\n")
        except OSError as exc:
            raise StateError(Msg("cannot write the claim {path}: {reason}", path=str(path),
                                 reason=exc.strerror or exc)) from None
        return claim

    def release(self, plan: PlanRef, system: str, reason: str) -> None:
        path = self._claim_file(system)
        held = self._read_claim(path)
        if held is None or held.plan_id != plan.plan_id or held.location != _location(plan):
            return
        try:
            path.unlink()
            fsync_dir(path.parent)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StateError(Msg("cannot remove the claim {path}: {reason}", path=str(path),
                                 reason=exc.strerror or exc)) from None

    def claims(self, plan_id: str | None = None) -> list[Claim]:
        d = self.root / CLAIMS
        if not d.is_dir():
            return []
        out = []
        for path in sorted(d.glob("*.json")):
            if not is_valid_id(path.stem):
                continue
            c = self._read_claim(path)
            if c is not None and (plan_id is None or c.plan_id == plan_id):
                out.append(c)
        return out

    def close(self) -> None:
        pass
