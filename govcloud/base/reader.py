"""Read one inventory file into plain Python data, safely and fast.

Measured on this project's target machine, PyYAML's libyaml loader builds Python
objects at roughly 1 MB/s, which would make a province inventory (~20 MB) take
20 s to load. Files that govcloud writes itself (generator, importers) therefore
use the JSON-compatible subset of YAML, one record per line; they are still valid
YAML for every editor and tool, and they go through the C JSON parser at ~50 MB/s.
Hand-edited files use ordinary block YAML and the libyaml loader.

Positions are not recorded while loading (that would double the cost); when a
problem needs a line number, :func:`locate` composes the one file concerned and
walks to the problem's path.

Every failure comes back as a :class:`ReadFailure` (code, message, line, hint),
never as an exception: malformed input must produce a clear error, not a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from govcloud.base.i18n import Msg

DEFAULT_MAX_FILE_MB = 64
MAX_DEPTH = 64
# A document whose aliases expand to more than this many nodes beyond its own size
# is a "billion laughs" bomb; real inventories use aliases, if at all, for defaults.
MAX_ALIAS_EXPANSION = 1_000_000

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LIBYAML = _BaseLoader is not yaml.SafeLoader


class GovLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that leaves dates as text.

    The stock resolver turns ``2019-02-30`` into a ValueError that aborts the
    whole file; we want "impossible date" reported on its field like any other
    problem, and we accept the Chinese date forms of the seed documents too.
    """


MAX_INT_DIGITS = 1000   # far beyond any count or size; Python refuses to convert over 4,300 digits


def _construct_int(loader: Any, node: Any) -> int:
    text = str(node.value)
    if len(text) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {len(text):,} digits (at most {MAX_INT_DIGITS:,})", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


GovLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)

GovLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@dataclass(slots=True)
class ReadFailure:
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None


@dataclass(slots=True)
class Document:
    path: Path
    data: Any
    text: str
    via: str  # "json" or "yaml": which parser read it
    sha256: bytes = b""  # digest of the bytes read, so plans can fingerprint their inputs for free


_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.M)  # a line that is neither blank nor a comment
_LEADING_COMMENTS = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\n)+")
_ALIAS_RE = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]+", re.M)
_SUSPICIOUS_NESTING = re.compile(r"[\[{](?:\s*[\[{]){16,}|(?:[-?]\s+){16,}|^ {512,}\S", re.M)


class ParsedCache:
    """Parsed YAML by the SHA-256 of its bytes, up to a budget: an import loads the inventory twice
    (as it is, and as it would be) and need not construct the same hand-written files again.
    Loading never changes the parsed data, so both loads may share it."""

    def __init__(self, budget_bytes: int = 64 << 20) -> None:
        self.budget = budget_bytes
        self.data: dict[bytes, Any] = {}

    def get(self, digest: bytes) -> Any:
        return self.data.get(digest, _MISSING)

    def put(self, digest: bytes, size: int, data: Any) -> None:
        if size <= self.budget:
            self.budget -= size
            self.data[digest] = data


_MISSING = object()


def read_document(path: Path, *, max_file_mb: float = DEFAULT_MAX_FILE_MB,
                  cache: ParsedCache | None = None) -> Document | ReadFailure:
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            return ReadFailure(
                "file-too-large",
                Msg("file is {size_mb:.1f} MB, over the {limit_mb:g} MB limit per file", size_mb=size / 1024 / 1024,
                    limit_mb=max_file_mb),
                hint=Msg("split it (one file per department) or raise --max-file-mb"))
        raw = path.read_bytes()
    except OSError as exc:
        return ReadFailure("unreadable", Msg("cannot read file: {reason}", reason=exc.strerror or exc))

    text = _decode(raw)
    if isinstance(text, ReadFailure):
        return text
    stripped = text.lstrip()
    if not _CONTENT_LINE.search(text):
        return ReadFailure("empty-file", Msg("file is empty (or holds only comments)"),
                           hint=Msg("delete it, or add `format_version: 1` and a section such as `systems:`"))

    if stripped[0] == "#":  # a header comment above a JSON body (files the importers write)
        stripped = _LEADING_COMMENTS.sub("", stripped, count=1)
    if stripped[:1] in ("{", "["):
        try:
            return Document(path, json.loads(stripped), text, "json", hashlib.sha256(raw).digest())
        except (ValueError, RecursionError):
            pass  # not plain JSON after all: let the YAML parser read it and report

    digest = hashlib.sha256(raw).digest()
    if cache is not None and (hit := cache.get(digest)) is not _MISSING:
        return Document(path, hit, text, "yaml", digest)
    too_deep = nesting_problem(text, hint=Msg("an inventory never needs this; the file is damaged or hostile"))
    if too_deep is not None:
        return too_deep
    try:
        data = yaml.load(text, Loader=GovLoader)  # noqa: S506 - GovLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        return ReadFailure("yaml-syntax", Msg("YAML syntax error: {what}", what=what),
                           line=mark.line + 1 if mark else None,
                           column=mark.column + 1 if mark else None,
                           hint=_syntax_hint(exc))
    except yaml.YAMLError as exc:
        return ReadFailure("yaml-syntax", Msg("YAML error: {error}", error=exc))
    except RecursionError:
        return ReadFailure("too-deep", Msg("data is nested more than {limit} levels deep", limit=MAX_DEPTH))

    if _ALIAS_RE.search(text):
        expansion = _expanded_size(data)
        if expansion == _CYCLE:
            return ReadFailure("recursive-alias",
                               Msg("YAML aliases make the data contain itself (or nest too deep)"),
                               hint=Msg("an alias must not point into the node that holds it; write the values out"))
        if expansion > MAX_ALIAS_EXPANSION:
            return ReadFailure(
                "alias-bomb",
                Msg("YAML aliases expand to over {limit:,} nodes (an 'alias bomb')", limit=MAX_ALIAS_EXPANSION),
                hint=Msg("write the values out; inventory files do not need nested aliases"))
    if cache is not None:
        cache.put(digest, len(raw), data)
    return Document(path, data, text, "yaml", digest)


def nesting_problem(text: str, hint: str = "the file is damaged or hostile") -> ReadFailure | None:
    """Too deep to build safely (checked on parser events, before any object is built), or None."""
    if not _SUSPICIOUS_NESTING.search(text):
        return None
    depth = _nesting_depth(text)
    if isinstance(depth, ReadFailure):
        return depth
    if depth > MAX_DEPTH:
        return ReadFailure("too-deep", Msg("data is nested more than {limit} levels deep", limit=MAX_DEPTH), hint=hint)
    return None


def alias_problem(text: str, data: Any) -> ReadFailure | None:
    """Loaded YAML whose aliases make it contain itself, nest too deep or expand past
    MAX_ALIAS_EXPANSION nodes (a "billion laughs" bomb: harmless while shared, gigabytes once a
    consumer walks or copies it), or None."""
    if not _ALIAS_RE.search(text):
        return None
    expansion = _expanded_size(data)
    if expansion == _CYCLE:
        return ReadFailure("recursive-alias", Msg("YAML aliases make the data contain itself (or nest too deep)"),
                           hint=Msg("an alias must not point into the node that holds it; write the values out"))
    if expansion > MAX_ALIAS_EXPANSION:
        return ReadFailure("alias-bomb",
                           Msg("YAML aliases expand to over {limit:,} nodes (an 'alias bomb')",
                               limit=MAX_ALIAS_EXPANSION),
                           hint=Msg("write the values out; nested aliases are not needed here"))
    return None


def _decode(raw: bytes) -> str | ReadFailure:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ReadFailure("encoding", Msg("file is UTF-16; inventory files must be UTF-8"),
                           hint=Msg("re-save the file as UTF-8"))
    if b"\x00" in raw[:65536]:
        return ReadFailure("encoding", Msg("file contains NUL bytes: it is binary, not YAML"))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = Msg("re-save the file as UTF-8")
        try:
            raw.decode("gb18030")
            hint = Msg("the file looks like GBK/GB18030 text: convert it with `iconv -f GB18030 -t UTF-8`")
        except UnicodeDecodeError:
            pass
        return ReadFailure("encoding", Msg("not valid UTF-8 (byte 0x{byte:02x})", byte=raw[exc.start]),
                           line=line, column=column, hint=hint)


def _nesting_depth(text: str) -> int | ReadFailure:
    """Nesting depth from parser events: libyaml's composer recurses on the C
    stack and crashes the interpreter on a few thousand levels, its parser does not."""
    depth = deepest = 0
    try:
        for event in yaml.parse(text, Loader=GovLoader):
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if deepest > MAX_DEPTH:
                        break
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        # Newer libyaml/PyYAML stop deep flow nesting themselves, with a scanner error whose
        # wording varies by version: judge by the open brackets before the mark instead.
        if mark is not None and mark.index is not None:
            head = text[:mark.index + 1]
            if head.count("[") + head.count("{") - head.count("]") - head.count("}") > MAX_DEPTH:
                return MAX_DEPTH + 1
        return ReadFailure("yaml-syntax", Msg("YAML syntax error: {problem}", problem=exc.problem),
                           line=mark.line + 1 if mark else None)
    return deepest


_CYCLE = -1


def _expanded_size(data: Any) -> int:
    """Node count with every alias expanded, computed without expanding (memoised by identity);
    ``_CYCLE`` for data that contains itself (``x: &a [*a]``) or that aliases nest deeper than
    MAX_DEPTH (the nesting check reads the text, where an alias is one level). Iterative: no
    recursion a hostile document could exhaust."""
    memo: dict[int, int] = {}
    height: dict[int, int] = {}   # levels below a memoised node: a shared alias still nests
    if not isinstance(data, (dict, list)):
        return 1
    on_path: set[int] = {id(data)}
    stack: list[tuple[Any, Any, int]] = [(data, iter(data.values() if isinstance(data, dict) else data), 1)]
    while stack:
        obj, children, total = stack[-1]
        for child in children:
            if not isinstance(child, (dict, list)):
                total += 1
                continue
            key = id(child)
            if key in on_path or len(stack) >= MAX_DEPTH * 4:
                return _CYCLE
            if key in memo:
                if len(stack) + height[key] >= MAX_DEPTH * 4:
                    return _CYCLE
                total += memo[key]
                continue
            stack[-1] = (obj, children, total)
            on_path.add(key)
            stack.append((child, iter(child.values() if isinstance(child, dict) else child), 1))
            break
        else:
            stack.pop()
            on_path.discard(id(obj))
            memo[id(obj)] = total = min(total, MAX_ALIAS_EXPANSION + 1)
            height[id(obj)] = 1 + max((height.get(id(c), 0) for c in (obj.values() if isinstance(obj, dict) else obj)
                                       if isinstance(c, (dict, list))), default=0)
            if stack:
                parent, pchildren, ptotal = stack[-1]
                stack[-1] = (parent, pchildren, min(ptotal + total, MAX_ALIAS_EXPANSION + 1))
            else:
                return total
    return 1


def _syntax_hint(exc: yaml.MarkedYAMLError) -> str | None:
    problem = exc.problem or ""
    if "found character '\\t'" in problem:
        return "YAML forbids tabs for indentation; use spaces"
    if "could not find expected ':'" in problem:
        return "a key is missing its ':' or the indentation is off"
    if "mapping values are not allowed" in problem:
        return "a value contains ': ' — quote it, e.g. name: \"A: B\""
    return None


# ---------------------------------------------------------------- positions


def locate_in_node(node: Any, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
    if node is None:
        return None, None
    best = node.start_mark
    for step in path:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == step:
                    nxt = value_node
                    # point at the key for scalars, it is where people look
                    best = key_node.start_mark
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            nxt = node.value[step]
            best = nxt.start_mark
        if nxt is None:
            break
        node = nxt
    return best.line + 1, best.column + 1
