"""Ids of an inventory's records and a plan's batches and systems, read without a YAML parser.

For shell completion (``govcloud.cli.completion``): each TAB is a fresh process that must answer in
well under 150 ms, so nothing heavy is imported and files are scanned as bytes with two regular
expressions — files govcloud writes hold one record per line (``{"id": "x", …}``), hand-written YAML
has ``- id: x`` items (flow ``- {id: x, …}`` too). Only items at a section's first item indentation
count (nested lists are not records of the section). An inventory's ids are cached in
``~/.cache/govcloud/completion/<inventory>/`` per section, checked against every file's mtime and size,
so a province (≈ 3,000 files, 45 MB) is read once, not on every TAB. Nothing here raises: what cannot
be read gives no ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

MAX_BYTES = 64 << 20          # a file larger than this is not scanned for ids (a TAB must stay fast)
MAX_FILES = 20000             # files of one inventory scanned at most
CACHE_FORMAT = 1

_SECTION = re.compile(rb'^(?:"([A-Za-z_][A-Za-z0-9_]*)":[ \t]*\[|([A-Za-z_][A-Za-z0-9_]*):[ \t]*(?:#.*)?$)', re.M)
_ID = re.compile(rb'''id"?:[ \t]*["']?([^"',}\s#]+)''')          # found by its literal, then
_ID_LEAD = re.compile(rb'[ \t]*(?:-[ \t]+\{?[ \t]*|-?[ \t]*\{[ \t]*")$')      # checked back to the line start
# the id grammar (model/ids.py ID_RE, not imported: the completion path stays light; a unit test
# checks they are the same): only such a word is ever offered to the shell, whatever a file holds
# (a hostile "x;reboot" or "$(…)" would be inserted into the command line by a TAB)
ID_GRAMMAR = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _grammatical(ids: list[str]) -> list[str]:
    return [i for i in ids if isinstance(i, str) and ID_GRAMMAR.fullmatch(i)]


# ---------------------------------------------------------------- ids from files

def _ids_in_file(path: str) -> dict[str, list[str]]:
    """Section → ids of the records in one inventory or plan file, in file order: the ``- id: x`` /
    ``{"id": "x"`` items at the section's first item indentation (nested lists are not records)."""
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return {}
        with open(path, "rb") as fh:      # bytes: no decoding of the 45 MB a province holds
            text = fh.read()
    except OSError:
        return {}
    heads = [(m.start(), m.end(), (m.group(1) or m.group(2)).decode()) for m in _SECTION.finditer(text)]
    out: dict[str, list[str]] = {}
    for n, (_, body, name) in enumerate(heads):
        stop = heads[n + 1][0] if n + 1 < len(heads) else len(text)
        level = None
        ids = out.setdefault(name, [])
        for m in _ID.finditer(text, body, stop):
            start = m.start()
            line = text.rfind(b"\n", 0, start) + 1
            lead = text[line:start]
            if not _ID_LEAD.match(lead):
                continue
            indent = len(lead) - len(lead.lstrip(b" \t-"))
            if level is None:
                level = indent
            if indent == level:
                ids.append(m.group(1).decode("utf-8", "replace"))
    return {k: v for k, v in out.items() if v}


def inventory_files(root: str) -> list[str]:
    if os.path.isfile(root):
        return [root]
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")):
                found.append(os.path.join(dirpath, name))
                if len(found) >= MAX_FILES:
                    return found
    return found


def _cache_dir(root: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(os.path.realpath(root).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(base, "govcloud", "completion", key)


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        return doc if isinstance(doc, dict) and doc.get("format") == CACHE_FORMAT else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: str, doc: dict) -> None:
    """Best effort, atomic (a concurrent TAB reads the old or the new file), private (0600 in 0700)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": CACHE_FORMAT, **doc}, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _stamps(root: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for path in inventory_files(root):
        try:
            st = os.stat(path)
        except OSError:
            continue
        out[path] = [st.st_mtime_ns, st.st_size]
    return out


def inventory_ids(root: str, section: str, *, cache: bool = True) -> list[str]:
    """Ids of an inventory's records of one section (``all``: every record kind ``inventory show``
    finds by id), in file order, each once.

    The cache (one directory per inventory): ``stamps.json`` (every file's mtime and size) and one
    ``<section>.json`` per section (file → ids). When every stamp matches, only the section asked
    for is read (a province's departments: ~100 KB, not its 97,000 ids); otherwise changed files
    are scanned again and the cache is rewritten, stamps last."""
    stamps = _stamps(root)
    cdir = _cache_dir(root) if cache else ""
    old = _read_json(os.path.join(cdir, "stamps.json")) if cache else {}
    if cache and old.get("files") == stamps:
        names = old.get("sections") or []
        wanted = names if section == "all" else [section] if section in names else []
        per_section = {name: _read_json(os.path.join(cdir, f"{name}.json")).get("files") or {} for name in wanted}
        if all(isinstance(v, dict) for v in per_section.values()):
            return _collect(stamps, per_section)
    # (re)scan: files whose stamp is unchanged keep their cached ids
    previous: dict[str, dict] = {}
    if cache and isinstance(old.get("files"), dict):
        for name in old.get("sections") or []:
            previous[name] = _read_json(os.path.join(cdir, f"{name}.json")).get("files") or {}
    per_section: dict[str, dict[str, list[str]]] = {}
    known = old.get("files") if isinstance(old.get("files"), dict) else {}
    for path, stamp in stamps.items():
        if known.get(path) == stamp and all(isinstance(v, dict) for v in previous.values()):
            found = {name: v[path] for name, v in previous.items() if path in v}
        else:
            found = _ids_in_file(path)
        for name, ids in found.items():
            per_section.setdefault(name, {})[path] = ids
    if cache:
        for name, files in per_section.items():
            _write_json(os.path.join(cdir, f"{name}.json"), {"files": files})
        _write_json(os.path.join(cdir, "stamps.json"), {"files": stamps, "sections": sorted(per_section)})
    wanted = list(per_section) if section == "all" else [section]
    return _collect(stamps, {name: per_section.get(name, {}) for name in wanted})


def _collect(stamps: dict[str, list[int]], per_section: dict[str, dict[str, list[str]]]) -> list[str]:
    """The ids in file order (the inventory's file order), each once."""
    seen: dict[str, None] = {}
    for path in stamps:
        for files in per_section.values():
            for i in files.get(path, ()):
                seen.setdefault(i, None)
    return _grammatical(list(seen))


def plan_file(arg: str) -> str:
    return os.path.join(arg, "plan.yaml") if os.path.isdir(arg) else arg


_PLAN_LINE = re.compile(rb'\n( {2}| {4})\{"id": "([^"]+)"')   # a batch header at 2 spaces, a system at 4


def _batch_is(batch_id: str, arg: str) -> bool:
    """``--batch`` as the executor reads it: the id (B01) or its number (1)."""
    return batch_id == arg or batch_id == f"B{arg}" or batch_id.lstrip("B0") == arg.lstrip("B0")


def plan_ids(arg: str, what: str, batch: str | None = None, *, cache: bool = True) -> list[str]:
    """A plan's batch ids, or its system ids (only those of ``batch`` when given: an id ``B01`` or a
    number ``1``). A province's plan.yaml is ≈ 17 MB: what it holds is cached against its mtime and
    size, like an inventory's ids."""
    path = plan_file(arg)
    try:
        st = os.stat(path)
    except OSError:
        return []
    stamp = [st.st_mtime_ns, st.st_size]
    cfile = _cache_dir(path) + ".plan.json"
    doc = _read_json(cfile) if cache else {}
    held = doc.get("batches") if doc.get("stamp") == stamp else None
    if not isinstance(held, list):
        held = _plan_batches(path)
        if cache:
            _write_json(cfile, {"stamp": stamp, "batches": held})
    try:
        if what == "batches":
            return _grammatical([str(b) for b, _ in held])
        return _grammatical([str(x) for b, systems in held if not batch or _batch_is(str(b), batch) for x in systems])
    except (TypeError, ValueError):
        return []


def _plan_batches(path: str) -> list[list]:
    """[[batch id, [system ids]], …] as ``store.planfile`` writes plan.yaml: the "batches" section
    with one line per batch header at 2 spaces and one per system at 4."""
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return []
        with open(path, "rb") as fh:
            text = fh.read()
    except OSError:
        return []
    start = text.find(b'\n"batches":')
    if start < 0:
        return []
    end = text.find(b'\n"', start + 1)
    end = len(text) if end < 0 else end
    out: list[list] = []
    for m in _PLAN_LINE.finditer(text, start, end):
        value = m.group(2).decode("utf-8", "replace")
        if len(m.group(1)) == 2:
            out.append([value, []])
        elif out:
            out[-1][1].append(value)
    return out
