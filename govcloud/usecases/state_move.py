"""``govcloud migrate state-move PLAN --from URL --to URL``: move a plan's state between backends.

What moves: the plan's journal (every entry, in order, with its ``at`` and ``who``) and its claims
(which systems' cloud resources belong to it). Locks do not move: they belong to live runs, and a
move is refused while any system of the plan is locked on either side (the move holds every
system's lock and the plan lock on both sides for its whole duration, so no run starts meanwhile).

All or nothing on both sides, in this order:

1. refuse when the destination already holds the plan (journal entries or claims) — unless it holds
   exactly what the source holds (an interrupted move: then only step 4 is left to do);
2. write the destination in one piece: PostgreSQL in one transaction; files by stage-then-rename
   of ``journal.jsonl`` and one claim file per system (undone if any of them fails);
3. verify: read the destination back through the state port — same number of entries, same
   digest of the entries (SHA-256 of each entry's canonical JSON), same claims; on a mismatch the
   destination is undone and nothing on the source changed;
4. retire the source: PostgreSQL in one transaction (rows deleted, ``moved_plans`` records where
   they went); files: the claims released ("moved to URL"), then ``journal.jsonl`` renamed to
   ``journal.jsonl.moved-<UTC>`` (kept, never deleted) — the rename is the move's last step.

Between two files states (``file:`` and ``file:///DIR``) only the claims move: the journal is the
plan directory's in both.

A crash between 2 and 4 leaves the plan on both sides with identical journals; running the same
command again finds that (step 1), writes the claims a files destination may still lack, and
completes step 4 (tests/integration/test_state_move.py SIGKILLs it at each step: crash points
``state_move.verified``, ``state_move.released`` and the journal's ``write.rename``).
"""

from __future__ import annotations

import hashlib
import json
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from govcloud.base import stamp
from govcloud.base.atomic import crash_point, fsync_dir, write_atomic
from govcloud.base.digest import file_sha256
from govcloud.base.i18n import Msg
from govcloud.drivers.state import chosen_url, display_url, open_state
from govcloud.errors import GovcloudError, UsageError
from govcloud.store import journal
from govcloud.store.state import Claim, PlanRef, StateError, StatePort

__all__ = ["MoveResult", "move", "entries_digest"]

COMMAND = "migrate state-move"


@dataclass
class MoveResult:
    plan_id: str
    source: str                        # URLs without credentials
    target: str
    entries: int
    digest: str                        # sha256 of the entries (see entries_digest)
    claims: list[str] = field(default_factory=list)
    resumed: bool = False              # an interrupted move was completed
    archived: str | None = None        # the files source's journal, renamed
    journal_moved: bool = True         # False between two files states: the journal stays in the plan directory

    def to_plain(self) -> dict[str, Any]:
        return {"plan": self.plan_id, "from": self.source, "to": self.target, "entries": self.entries,
                "digest": self.digest, "claims": self.claims, "resumed": self.resumed, "archived": self.archived,
                "journal_moved": self.journal_moved}


def entries_digest(records: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 over the entries' canonical JSON (sorted keys), one per line: equal on both sides of
    a move whatever each backend does with key order or whitespace."""
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _records(state: StatePort, ref: PlanRef) -> list[dict[str, Any]]:
    return [e.to_dict() for e in state.read_journal(ref).entries]


def _claims(state: StatePort, ref: PlanRef) -> list[Claim]:
    """The plan's claims in ``state`` (for files: this copy's, not another plan directory's)."""
    out = state.claims(ref.plan_id)
    if _is_files(state):
        out = [c for c in out if c.location == str(ref.plan_dir)]
    return sorted(out, key=lambda c: c.system)


def _is_files(state: StatePort) -> bool:
    from govcloud.store.filestate import FileState
    return isinstance(state, FileState)


def _holds(state: StatePort, ref: PlanRef, *, same_journal: bool = False) -> bool:
    if same_journal:
        return bool(_claims(state, ref))
    if _is_files(state):
        return bool(state.read_journal(ref).entries) or bool(_claims(state, ref))
    return state.holds_plan(ref.plan_id)          # type: ignore[attr-defined]


def _write(dst: StatePort, ref: PlanRef, records: list[dict[str, Any]], claims: list[Claim], *,
           same_journal: bool = False) -> None:
    """Step 2: the destination in one piece (or nothing of it)."""
    if not _is_files(dst):
        dst.import_plan(ref, records, claims)     # type: ignore[attr-defined]
        return
    from govcloud.drivers.pgstate import journal_line
    from govcloud.store.state import SystemClaimedError
    theirs = {c.system: c for c in dst.claims() if c.plan_id != ref.plan_id or c.location != str(ref.plan_dir)}
    for c in claims:                              # refuse before writing anything
        if c.system in theirs:
            o = theirs[c.system]
            raise SystemClaimedError(
                Msg("system {system} belongs to plan {plan} in {url}: a system's cloud resources belong to one plan",
                    system=c.system, plan=o.plan_id, url=dst.url),
                hint=Msg("roll the system back in that plan (which releases it) or release it there"))
    path = journal.journal_path(ref.plan_dir)
    made: list[str] = []
    try:
        if not same_journal:
            write_atomic(path, "".join(journal_line(r) + "\n" for r in records))
        for c in claims:
            dst.claim(ref, c.system)
            made.append(c.system)
    except BaseException:
        _undo_files(dst, ref, made, same_journal=same_journal)
        raise


def _undo_files(dst: StatePort, ref: PlanRef, claimed: list[str], *, same_journal: bool = False) -> None:
    for s in claimed:
        dst.release(ref, s, "state-move undone")
    if same_journal:
        return
    try:
        os.unlink(journal.journal_path(ref.plan_dir))
        fsync_dir(ref.plan_dir)
    except FileNotFoundError:
        pass


def _undo(dst: StatePort, ref: PlanRef, claims: list[Claim], *, same_journal: bool = False) -> None:
    if _is_files(dst):
        _undo_files(dst, ref, [c.system for c in claims], same_journal=same_journal)
    else:
        dst.drop_plan(ref, "(undone: verification failed)", entries=len(dst.read_journal(ref).entries),  # type: ignore[attr-defined]
                      digest="")


def _retire(src: StatePort, ref: PlanRef, to_url: str, records: list[dict[str, Any]], digest: str, *,
            same_journal: bool = False) -> str | None:
    """Step 4: the source gives the plan up (its journal is checked unchanged first)."""
    now = _records(src, ref)
    if len(now) != len(records) or entries_digest(now) != digest:
        raise StateError(Msg("plan {plan}: its journal in {url} changed during the move; nothing was removed",
                             plan=ref.plan_id, url=src.url),
                         hint=Msg("run the move again once no run of the plan is active"))
    if not _is_files(src):
        src.drop_plan(ref, to_url, entries=len(records), digest=digest)   # type: ignore[attr-defined]
        return None
    for c in _claims(src, ref):
        src.release(ref, c.system, f"moved to {to_url}")
        crash_point("state_move.released")
    if same_journal:                  # the journal is the plan directory's either way: it stays
        return None
    path = journal.journal_path(ref.plan_dir)
    if not path.exists():
        return None
    archived = path.with_name(f"{path.name}.moved-{stamp.utc_now().replace(':', '')}")
    os.replace(path, archived)
    fsync_dir(path.parent)
    return str(archived)


def move(plan_arg: Path, from_url: str, to_url: str) -> MoveResult:
    """Move the state of the plan at ``plan_arg`` (its directory or plan.yaml) from one backend to
    another (see the module doc)."""
    from govcloud.store.planfile import plan_path, read_plan
    src_url, dst_url = chosen_url(from_url), chosen_url(to_url)
    if src_url == dst_url:
        raise UsageError(Msg("--from and --to are the same state ({url})", url=display_url(src_url)))
    path = plan_path(Path(plan_arg))
    plan = read_plan(path)
    ref = PlanRef(plan.plan_id, path.parent.resolve(), file_sha256(path))
    with ExitStack() as stack:
        src = open_state(src_url)
        stack.callback(src.close)
        dst = open_state(dst_url)
        stack.callback(dst.close)
        # between two files states only the claims move: the journal is the plan directory's in both
        same_journal = _is_files(src) and _is_files(dst)
        systems = sorted({i.system for i in plan.items()} | {c.system for c in _claims(src, ref)}
                         | {c.system for c in _claims(dst, ref)})
        for side in (src, dst):               # no run of the plan may start or be running meanwhile
            stack.enter_context(side.plan_lock(ref, COMMAND))
            stack.enter_context(side.lock_systems(ref, systems, COMMAND))
        records = _records(src, ref)
        claims = _claims(src, ref)
        digest = entries_digest(records)
        resumed = False
        if _holds(dst, ref, same_journal=same_journal):
            back = _records(dst, ref)
            missing = [c for c in claims if c.system not in {x.system for x in _claims(dst, ref)}]
            if (back or same_journal) and len(back) == len(records) and entries_digest(back) == digest \
                    and (not missing or _is_files(dst)):
                # an interrupted move: the destination holds the journal already (and, PostgreSQL being
                # written in one transaction, all of it; files may lack claims written after the journal)
                resumed = True
                for c in missing:
                    dst.claim(ref, c.system)
            else:
                raise StateError(Msg("the state {url} already holds plan {plan}", url=dst.url, plan=ref.plan_id),
                                 hint=Msg("a plan's state lives in one place: move it only to a state that does "
                                          "not hold it"))
        elif not records and not claims:
            raise GovcloudError(Msg("the state {url} holds nothing of plan {plan}: nothing to move", url=src.url,
                                    plan=ref.plan_id))
        else:
            _write(dst, ref, records, claims, same_journal=same_journal)
        back = _records(dst, ref)
        got = {c.system for c in _claims(dst, ref)}
        if len(back) != len(records) or entries_digest(back) != digest or not {c.system for c in claims} <= got:
            if not resumed:
                _undo(dst, ref, claims, same_journal=same_journal)
            raise StateError(Msg("the copy of plan {plan} in {url} does not read back as written ({n} of {m} "
                                 "entries); the destination was undone, the source is unchanged", plan=ref.plan_id,
                                 url=dst.url, n=len(back), m=len(records)))
        crash_point("state_move.verified")
        archived = _retire(src, ref, dst.url, records, digest, same_journal=same_journal)
        return MoveResult(ref.plan_id, src.url, dst.url, len(records), digest, [c.system for c in claims],
                          resumed, archived, journal_moved=not same_journal)
