"""Load an inventory directory (or one file) into an :class:`Inventory`, collecting problems.

Layout: a directory of YAML files that all share one shape — ``format_version``
plus any of the sections (``organizations``, ``systems``, ``servers`` …) — so a
city can keep one file per department and many people can edit at once.
``inventory.yaml`` at the root names the inventory and must carry
``format_version``. Files are read in sorted order, so results are deterministic.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from govcloud.base.i18n import Msg
from govcloud.base.progress import NULL, Phase, Progress
from govcloud.inventory.convert import INVALID, record_converter
from govcloud.inventory.problems import Problem
from govcloud.base.reader import (
    DEFAULT_MAX_FILE_MB, GovLoader, ParsedCache, ReadFailure, locate_in_node, read_document,
)
from govcloud.model.entities import LIST_SECTIONS, SECTION_BY_KEY, InventoryMeta, kind_label
from govcloud.model.enums import Severity
from govcloud.model.ids import is_valid_id
from govcloud.model.inventory import FORMAT_VERSION, Inventory

ROOT_FILE = "inventory.yaml"
TOP_LEVEL_KEYS = ("format_version", "inventory", *SECTION_BY_KEY)
_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    inventory: Inventory
    problems: list[Problem] = field(default_factory=list)
    # file (relative) → its path. Only paths are kept: holding every file's text and parsed
    # data for line lookups tripled the memory of a national inventory (8 GB → see bench/).
    documents: dict[str, Path] = field(default_factory=dict)
    digests: dict[str, bytes] = field(default_factory=dict)  # file → SHA-256 of the bytes that were loaded
    meta_file: str | None = None
    root: Path | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def add(self, severity: Severity, code: str, message: str, *, file: str | None = None,
            path: tuple = (), kind: str | None = None, entity_id: str | None = None,
            field: str | None = None, hint: str | None = None, line: int | None = None,
            column: int | None = None) -> None:
        self.problems.append(Problem(severity, code, message, file=file, line=line, column=column,
                                     kind=kind, entity_id=entity_id, field=field, hint=hint, path=path))

    def error(self, code: str, message: str, **kw: Any) -> None:
        self.add(Severity.error, code, message, **kw)

    def warn(self, code: str, message: str, **kw: Any) -> None:
        self.add(Severity.warning, code, message, **kw)

    def at_entity(self, severity: Severity, code: str, message: str, section: str, entity_id: str,
                  field: str | None = None, *, sub: tuple = (), hint: str | None = None) -> None:
        """A problem about an already-loaded entity, placed at its record (and field) in its file."""
        file, index = self.inventory.origin.get((section, entity_id), (None, None))
        path: tuple = ()
        if file is not None:
            path = (section, index) + ((field,) if field else ()) + sub
        # name the innermost key: "scope_orgs", not the "batches" list that holds it
        innermost = next((x for x in reversed((field,) + sub) if isinstance(x, str)), None)
        self.add(severity, code, message, file=file, path=path, kind=SECTION_BY_KEY[section].kind,
                 entity_id=entity_id, field=innermost, hint=hint)

    def resolve_positions(self) -> None:
        """Fill line/column for problems that only know their data path (one compose per file)."""
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            if p.line is None and p.file and p.path:
                by_file.setdefault(p.file, []).append(p)
        for file, problems in by_file.items():
            path = self.documents.get(file)
            if path is None:
                continue
            doc = read_document(path)  # read again: positions are needed only where problems are
            if isinstance(doc, ReadFailure):
                continue
            try:
                node = yaml.compose(doc.text, Loader=GovLoader)
            except yaml.YAMLError:
                continue
            for p in problems:
                p.line, p.column = locate_in_node(node, p.path)


@dataclass
class ScanProblem:
    code: str
    message: str
    file: str
    hint: str | None = None
    warning: bool = False


def scan_inventory(root: Path, *, link_roots: tuple[Path, ...] = ()) -> tuple[list[Path], list[ScanProblem]]:
    """The inventory's files (``*.yaml``/``*.yml``, sorted by relative path; names starting with
    ``.`` or ``_`` are skipped) and what stands in the way of reading all of them: a folder that
    cannot be listed or entered, a dangling symlink, a symlink loop, a symlink leading outside the
    inventory, a ``.YAML`` file (not read: the suffix is lowercase). Nothing is skipped silently.
    ``link_roots``: other folders symlinks may lead into (an import's overlay of the inventory)."""
    problems: list[ScanProblem] = []
    try:
        if not root.is_dir():
            return [root], problems
    except OSError as exc:
        return [], [ScanProblem("unreadable", Msg("cannot read {root}: {reason}", root=root,
                                                  reason=exc.strerror or exc), str(root))]
    files: list[Path] = []
    try:
        top = os.path.realpath(root)
    except OSError:
        top = str(root)

    allowed = [top] + [os.path.realpath(r) for r in link_roots]

    def rel(path: str) -> str:
        return os.path.relpath(path, root).replace(os.sep, "/")

    def walk(directory: str) -> None:
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(ScanProblem(
                "unreadable-folder", Msg("cannot list folder: {reason}", reason=exc.strerror or exc), rel(directory) + "/",
                hint=Msg("its files are not read: give the reader permission (r and x) or move the folder out")))
            return
        for entry in entries:
            name = entry.name
            if name.startswith((".", "_")):
                continue
            path = os.path.join(directory, name)
            suffix = os.path.splitext(name)[1]
            try:
                if entry.is_symlink():
                    try:
                        target = os.path.realpath(path, strict=True)
                    except OSError as exc:
                        loop = getattr(exc, "errno", None) == 40 or "loop" in str(exc).lower()
                        problems.append(ScanProblem(
                            "symlink-loop" if loop else "dangling-symlink",
                            Msg("symlink loop (not read)") if loop else
                            Msg("symlink to {target}, which does not exist (not read)", target=os.readlink(path)),
                            rel(path), hint=Msg("remove the link or point it at a file")))
                        continue
                    if not any(os.path.commonpath([t, target]) == t for t in allowed):
                        problems.append(ScanProblem(
                            "symlink-outside", Msg("symlink leads outside the inventory, to {target} (not read)",
                                                   target=target),
                            rel(path), hint=Msg("copy the file into the inventory; links must stay inside it")))
                        continue
                    if os.path.isdir(target):
                        problems.append(ScanProblem(
                            "symlinked-folder", Msg("symlinked folder not read (its files would be read twice)"),
                            rel(path), warning=True))
                        continue
                    is_dir = False
                else:
                    is_dir = entry.is_dir(follow_symlinks=False)
            except OSError as exc:
                problems.append(ScanProblem("unreadable", Msg("cannot read: {reason}", reason=exc.strerror or exc), rel(path)))
                continue
            if is_dir:
                walk(path)
            elif suffix in _SUFFIXES:
                files.append(Path(path))
            elif suffix.lower() in _SUFFIXES:
                problems.append(ScanProblem(
                    "suffix-case", Msg("'{name}' is not read: the suffix must be lowercase {suffix}", name=name,
                                       suffix=suffix.lower()),
                    rel(path), hint=Msg("rename it to {new_name}", new_name=os.path.splitext(name)[0] + suffix.lower())))

    walk(str(root))
    files.sort(key=lambda p: p.relative_to(root).as_posix())
    return files, problems


def inventory_files(root: Path) -> list[Path]:
    return scan_inventory(root)[0]


def load_inventory(root: Path | str, *, max_file_mb: float = DEFAULT_MAX_FILE_MB,
                   cache: ParsedCache | None = None, link_roots: tuple[Path, ...] = (),
                   progress: Progress = NULL) -> LoadResult:
    """Read every file of the inventory (``progress``: phase ``load``, one unit per file)."""
    from govcloud.store.lock import reader_lock

    root = Path(root)
    # the writers' lock, shared: a load sees the inventory before or after a write, never a mix
    with reader_lock(root if root.is_dir() else root.parent):
        with progress.phase("load") as ph:
            return _load_inventory(root, max_file_mb=max_file_mb, cache=cache, link_roots=link_roots, phase=ph)


def _load_inventory(root: Path, *, max_file_mb: float, cache: ParsedCache | None,
                    link_roots: tuple[Path, ...], phase: Phase) -> LoadResult:
    result = LoadResult(Inventory(), root=root)
    if not root.exists():
        result.error("not-found", Msg("{root} does not exist", root=root), file=str(root))
        return result
    files, scan_problems = scan_inventory(root, link_roots=link_roots)
    for sp in scan_problems:
        result.add(Severity.warning if sp.warning else Severity.error, sp.code, sp.message, file=sp.file,
                   hint=sp.hint)
    base = root if root.is_dir() else root.parent
    if root.is_dir():
        if not files and not scan_problems:
            result.error("no-files", Msg("{root} holds no .yaml files", root=root), file=str(root),
                         hint=Msg("an inventory is a directory with inventory.yaml and one file per department"))
            return result
        elif not files:
            return result
        if not (root / ROOT_FILE) in files:
            result.error("no-root-file", Msg("{root} has no {root_file}", root=root, root_file=ROOT_FILE), file=str(root),
                         hint=Msg("create {root_file} with `format_version: {format_version}` and `inventory: "
                                  "{{name: ...}}`", root_file=ROOT_FILE, format_version=FORMAT_VERSION))
    phase.set_total(len(files))
    for path in files:
        rel = path.relative_to(base).as_posix()
        phase.advance(0, item=rel)
        doc = read_document(path, max_file_mb=max_file_mb, cache=cache)
        if isinstance(doc, ReadFailure):
            result.error(doc.code, doc.message, file=rel, line=doc.line, column=doc.column, hint=doc.hint)
            phase.advance()
            continue
        result.documents[rel] = path
        result.digests[rel] = doc.sha256
        _load_document(result, rel, doc.data, is_root=(path.name == ROOT_FILE or root.is_file()))
        del doc  # the entities are built; the text and raw data can go
        phase.advance()
    return result


def _load_document(result: LoadResult, rel: str, data: Any, *, is_root: bool) -> None:
    inv = result.inventory
    if not isinstance(data, dict):
        kind = Msg("a list") if isinstance(data, list) else type(data).__name__
        result.error("wrong-type", Msg("the file holds {kind}; an inventory file is a mapping of sections", kind=kind),
                     file=rel, line=1,
                     hint=Msg("start with `format_version: 1` and put records under a section, e.g. `servers:`"))
        return
    version = data.get("format_version")
    if version is None:
        if is_root:
            result.error("format-version", Msg("format_version is missing"), file=rel, line=1,
                         hint=Msg("add `format_version: {format_version}` at the top", format_version=FORMAT_VERSION))
    elif version != FORMAT_VERSION:
        result.error("format-version", Msg("format_version {version!r} is not supported (this govcloud reads "
                                           "version {format_version})", version=version, format_version=FORMAT_VERSION), file=rel, path=("format_version",))

    def sink_for(section: str, entity_id_of: Any) -> Any:
        def sink(path: tuple, code: str, message: str, hint: str | None = None,
                 warning: bool = False, field: str | None = None) -> None:
            fld = field or next((p for p in reversed(path) if isinstance(p, str) and p != section), None)
            result.add(Severity.warning if warning else Severity.error, code, message, file=rel,
                       path=path, kind=SECTION_BY_KEY[section].kind if section in SECTION_BY_KEY else None,
                       entity_id=entity_id_of(), field=fld, hint=hint)
        return sink

    for key, value in data.items():
        if key == "format_version":
            continue
        if key == "inventory":
            _load_meta(result, rel, value, sink_for("inventory", lambda: None))
            continue
        section = SECTION_BY_KEY.get(key)
        if section is None:
            close = difflib.get_close_matches(str(key), TOP_LEVEL_KEYS, n=1, cutoff=0.6)
            result.error("unknown-section", Msg("unknown top-level key '{key}'", key=key), file=rel, path=(key,),
                         hint=Msg("did you mean '{close}'?", close=close[0]) if close else Msg("sections are: {sections}", sections=", ".join(SECTION_BY_KEY)))
            continue
        if value is None:
            continue
        if not isinstance(value, list):
            result.error("wrong-type", Msg("section '{key}' must be a list of records, got {kind}", key=key,
                                           kind=Msg("a mapping") if isinstance(value, dict) else type(value).__name__),
                         file=rel, path=(key,), hint=Msg("write each record as a list item: `{key}:\\n  - id: ...`",
                                                         key=key))
            continue
        convert = record_converter(section.cls)
        store = inv.section(key)
        current_id: list[Any] = [None]
        # a hostile id is named by its repr (escaped newlines, control and bidi characters)
        sink = sink_for(key, lambda: current_id[0] if current_id[0] is None or is_valid_id(current_id[0])
                        else repr(current_id[0])[:80])
        for index, raw in enumerate(value):
            rid = raw.get("code" if key == "regions" else "id") if type(raw) is dict else None
            current_id[0] = rid if isinstance(rid, str) else None
            entity = convert(raw, (key,), index, sink)
            if entity is INVALID:
                continue
            if key in LIST_SECTIONS:
                store.append(entity)
                inv.origin.setdefault((key, entity.id), (rel, index))
                continue
            eid = entity.id
            if not isinstance(eid, str) or not eid:
                continue  # reported as a missing or invalid id already
            if eid in store:
                first_file, first_index = inv.origin[(key, eid)]
                result.error("duplicate-id", Msg("{kind} id '{id}' is defined twice (first in {first_file})", kind=kind_label(section.kind), id=eid,
                                   first_file=first_file), file=rel, path=(key, index, "id"),
                             kind=section.kind, entity_id=eid, field="id",
                             hint=Msg("ids must be unique across all files of the inventory"))
                continue
            store[eid] = entity
            inv.origin[(key, eid)] = (rel, index)


def _load_meta(result: LoadResult, rel: str, value: Any, sink: Any) -> None:
    meta = record_converter(InventoryMeta)(value, (), "inventory", sink)
    if meta is INVALID:
        return
    if result.inventory.meta is not None:
        result.error("duplicate-id", Msg("the `inventory:` header appears in more than one file"),
                     file=rel, path=("inventory",), hint=Msg("keep it only in {root_file}", root_file=ROOT_FILE))
        return
    result.inventory.meta = meta
    result.meta_file = rel
