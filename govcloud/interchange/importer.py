"""Running an import: parse → change set → validate the would-be inventory → write atomically →
one audit entry. The side effects of ``govcloud inventory import`` live here; the decisions live
in :mod:`changeset` (pure).

Validation runs on an overlay: a scratch directory (inside the inventory's ``.govcloud/``) of
links to the inventory's unchanged files plus the new texts of the changed ones, loaded and
checked by the real validator. Any error there and nothing is written. Writing: the files and
the audit entry form one transaction (:mod:`govcloud.store.txn`) under the inventory's writer
lock: staged, committed by an intent record, then published; a kill at any point leaves the
inventory as it was before or (after the next command's recovery) as it is after.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.base.progress import NULL, Progress
from govcloud.base import stamp
from govcloud.bulk import no_cyclic_gc
from govcloud.interchange import formats
from govcloud.interchange.changeset import ChangeSet, compute
from govcloud.interchange.records import ParseResult
from govcloud.inventory.loader import inventory_files, load_inventory
from govcloud.inventory.problems import Problem
from govcloud.base.reader import ParsedCache
from govcloud.base.digest import tree_sha256
from govcloud.model.enums import Severity
from govcloud.model.inventory import Inventory
from govcloud.store import auditlog


@dataclass
class ImportOutcome:
    format: str
    source: Path
    root: Path
    sha256: str
    parsed: ParseResult | None = None
    changeset: ChangeSet | None = None
    problems: list[Problem] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    audit_seq: int | None = None
    dry_run: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def utc_now() -> str:
    return stamp.utc_now()


def run_import(fmt: str, source: Path | str, root: Path | str, *, dry_run: bool = False,
               now: str | None = None, who: str | None = None, reason: str | None = None,
               progress: Progress = NULL) -> ImportOutcome:
    """The whole read-decide-write sequence holds the inventory's writer lock (a dry run: the
    reader lock), so two imports into one inventory never lose each other's records. ``progress``:
    reading the file, loading the inventory, the change set, validating the result, writing."""
    from govcloud.store.lock import reader_lock, writer_lock

    source, root = Path(source), Path(root)
    if root.exists() and not root.is_dir():
        raise formats.FormatError(Msg("{root} is not a directory; import into an inventory directory", root=root))
    if dry_run:
        lock = reader_lock(root) if root.is_dir() else nullcontext()
    else:
        lock = writer_lock(root, f"inventory import --format {fmt}")
    with lock, no_cyclic_gc():
        return _run_import(fmt, source, root, dry_run=dry_run, now=now, who=who, reason=reason, progress=progress)


def _run_import(fmt: str, source: Path, root: Path, *, dry_run: bool, now: str | None, who: str | None,
                reason: str | None, progress: Progress = NULL) -> ImportOutcome:
    if root.exists() and not root.is_dir():
        raise formats.FormatError(Msg("{root} is not a directory; import into an inventory directory", root=root))
    with progress.phase("import.read") as ph:
        ph.advance(0, item=source.name)
        parsed = formats.parse(fmt, source, progress=progress)
    out = ImportOutcome(fmt, source, root, tree_sha256(source), parsed=parsed, dry_run=dry_run)
    now = now or utc_now()

    parsed_cache = ParsedCache()       # the overlay below reads the same hand-written files again
    new_inventory = not root.exists() or not inventory_files(root)
    if new_inventory:
        inv, documents = Inventory(), {}
    else:
        loaded = load_inventory(root, cache=parsed_cache, progress=progress)
        if loaded.errors:
            loaded.resolve_positions()
            out.problems.extend(parsed.problems)
            out.problems.extend(loaded.errors)
            out.problems.append(Problem(Severity.error, "inventory-has-errors",
                                        Msg("the inventory {root} has {n_errors} error(s) already; fix them before "
                                            "importing", root=root, n_errors=len(loaded.errors)), file=str(root),
                                        hint=Msg("govcloud inventory validate {root}", root=root)))
            return out
        inv, documents = loaded.inventory, loaded.documents

    def read_text(rel: str) -> str | None:
        p = root / rel
        try:
            return p.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return None

    with progress.phase("import.changes"):
        cs = compute(inv, parsed, fmt=fmt, now=now, read_text=read_text, new_inventory=new_inventory,
                     inventory_name=root.name)
    out.changeset = cs
    out.problems.extend(cs.problems)
    if cs.errors or not cs.files:
        return out
    with progress.phase("import.validate"):
        out.problems.extend(_validate_overlay(root, documents, cs, parsed_cache))
    if out.errors or dry_run:
        return out
    with progress.phase("import.write", total=len(cs.files)) as ph:
        out.written, out.audit_seq = _apply(root, cs, out, who=who, reason=reason)
        ph.advance(len(cs.files))
    return out


def _validate_overlay(root: Path, documents: dict[str, Path], cs: ChangeSet,
                      cache: ParsedCache | None = None) -> list[Problem]:
    """Problems of the inventory as it would be after the import, by the real validator.
    Errors anywhere, warnings only in the files this import writes (the rest were there before).

    As ``validate_path`` does, except for where problems are placed: a problem in a file this
    import writes (one record per line) is located from the text in hand, instead of composing
    a YAML node tree of a 10 MB file (~20 s for 10,000 imported VMs, each with a warning)."""
    from govcloud.inventory.validate import validate

    from govcloud.store.txn import scratch_dir

    # inside the inventory's .govcloud/ (not /tmp): a killed import's overlay is removed by the
    # next command that takes the lock; a dry run into a directory it may not write uses /tmp
    tmp = None
    had_state_dir = (root / ".govcloud").exists()
    if root.is_dir():
        try:
            tmp = Path(tempfile.mkdtemp(prefix="overlay-", dir=scratch_dir(root)))
        except OSError:
            pass
    if tmp is None:          # a dry run into a directory that does not exist (or may not be written)
        tmp = Path(tempfile.mkdtemp(prefix=".govcloud-import-"))
    try:
        for rel, path in documents.items():
            if rel in cs.files:
                continue
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(path.resolve(), dest)
        for rel, text in cs.files.items():
            dest = tmp / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        result = load_inventory(tmp, cache=cache, link_roots=(root,))
        if result.documents:
            validate(result)
        located = {rel: _LinesIndex(text) for rel, text in cs.files.items()}
        for p in result.problems:
            if p.line is None and p.path and p.file in located:
                p.line, p.column = located[p.file].locate(p.path)
        result.resolve_positions()      # the rest (files people wrote) by composing them
        # a hint naming the inventory (`govcloud inventory discover PATH …`) names the one imported
        # into, not this scratch overlay
        for p in result.problems:
            if p.hint and str(tmp) in p.hint:
                p.hint = p.hint.replace(shlex.quote(str(tmp)), shlex.quote(str(root))).replace(str(tmp), str(root))
        result.problems.sort(key=lambda p: (p.file or "", p.line or 0, p.column or 0, p.code))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if tmp.parent.parent.name == ".govcloud":
            try:
                tmp.parent.rmdir()      # the scratch folder, when empty
                if not had_state_dir:   # a dry run leaves no trace: nor the .govcloud/ it made
                    tmp.parent.parent.rmdir()
            except OSError:
                pass
    out = []
    for p in result.problems:
        if not p.is_error and p.file not in cs.files:
            continue
        if p.file and p.file.startswith(str(tmp)):
            p.file = str(root / Path(p.file).relative_to(tmp))
        src = cs.origin_of.get((_section_of(p.kind), p.entity_id)) if p.entity_id else None
        if src:
            p.message = f"{p.message} (imported from {src})"
        out.append(p)
    return out


class _LinesIndex:
    """Positions in a file rendered with ``style="lines"``: a section opens on a line
    ``"key": [`` and holds one record per line. ``locate`` answers what composing the YAML would
    (the record's line; a field's key column) or ``(None, None)`` where the text is not so shaped."""

    _SECTION = re.compile(r'^"([^"]+)": \[$')

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.sections: dict[str, int] = {}
        for i, line in enumerate(self.lines):
            if line.startswith('"'):
                m = self._SECTION.match(line)
                if m:
                    self.sections[m.group(1)] = i

    def locate(self, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
        if len(path) < 2 or path[0] not in self.sections or not isinstance(path[1], int):
            return None, None
        i = self.sections[path[0]] + 1 + path[1]
        if not 0 <= path[1] or i >= len(self.lines) or not self.lines[i].startswith("  {"):
            return None, None
        line = self.lines[i]
        col, pos = 3, 0                         # the record's "{"
        for step in path[2:]:                   # keys nested in the record, while they are keys
            if not isinstance(step, str):
                break
            at = line.find(json.dumps(step, ensure_ascii=False) + ": ", pos)
            if at < 0:
                break
            col, pos = at + 1, at + 1
        return i + 1, col


def _section_of(kind: str | None) -> str | None:
    from govcloud.model.entities import SECTION_BY_KIND
    s = SECTION_BY_KIND.get(kind or "")
    return s.key if s else None


def _apply(root: Path, cs: ChangeSet, out: ImportOutcome, *, who: str | None,
           reason: str | None) -> tuple[list[str], int]:
    """The files and the audit entry as one transaction (:mod:`govcloud.store.txn`): they land
    together or not at all, also when the process is killed half-way."""
    from govcloud.store.txn import Transaction

    root.mkdir(parents=True, exist_ok=True)
    t = Transaction(root, "import")
    for rel, text in sorted(cs.files.items()):
        t.write(rel, text)
    before, after = cs.audit_records()
    t.audit(action="import", entity={"kind": "inventory", "id": root.name},
            before={"records": _digests(before)},
            after={"format": cs.format, "file": str(out.source), "sha256": out.sha256,
                   "counts": cs.counts(), "files": sorted(cs.files), "records": _digests(after)},
            who=who, reason=reason)
    t.commit()
    return sorted(cs.files), int(t.audit_seq or 0)


def _digests(records: dict[str, Any]) -> dict[str, Any]:
    """Per record (``section/id``): its field names, each with a keyed digest of its value —
    the audit log shows which fields an import changed, never the text it imported (a password
    typed into a remarks column stays out of the append-only log)."""
    key = auditlog.load_key(create=True)
    out: dict[str, Any] = {}
    for rid, rec in records.items():
        if isinstance(rec, dict):
            out[rid] = {f: auditlog.value_digest(v, key=key) for f, v in sorted(rec.items())}
        else:
            out[rid] = None if rec is None else auditlog.value_digest(rec, key=key)
    return out
