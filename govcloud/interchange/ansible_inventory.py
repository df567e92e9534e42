"""Ansible inventories → server records: INI, YAML and ``ansible-inventory --list`` JSON.

Parsed here in pure Python (no ansible import, no subprocess) with Ansible's own rules, so the
resolved host → variables / groups equal what ``ansible-inventory -i FILE --list`` prints (the
tests compare the two on every sample):

* INI: lines before any section are in ``ungrouped``; ``[g]`` hosts, ``[g:vars]`` key=value,
  ``[g:children]``; host lines are shlex-split ``name[:port] k=v …`` with values read by
  ``ast.literal_eval`` when they are Python literals; ``[g:vars]`` values likewise; ranges
  ``web[01:10]``, ``db-[a:c]``, ``[1:9:2]``; ``#``/``;`` comments.
* YAML: nested ``hosts`` / ``children`` / ``vars``; ``!vault`` values are kept out.
* JSON: ``_meta.hostvars`` plus per-group ``hosts`` / ``children`` / ``vars``.
* A directory: every file in it (and its subdirectories) in name order, skipping what Ansible
  skips; executable inventory scripts are reported, never run.
* ``group_vars/`` and ``host_vars/`` beside the file (in the directory): ``NAME``, ``NAME.yml``,
  ``.yaml``, ``.json`` or a directory ``NAME/`` of such files; vault-encrypted files are left out.

Variables merge like Ansible (its default VARIABLE_PRECEDENCE, see ``Model.resolved``).

Each host becomes a ``servers`` record keyed by its inventory name: ``hostname``, ``ips`` from
``ansible_host`` (or the name when it is an address), and OS/CPU/RAM only when cached facts are
in the vars (``ansible_distribution``, ``ansible_processor_vcpus``, ``ansible_memtotal_mb`` …).
Groups and the other variables go to ``extra`` — never a variable whose name says password,
secret, token or vault.
"""

from __future__ import annotations

import ast
import hashlib
import ipaddress
import json
import os
import re
import shlex
import string
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from govcloud.base.i18n import Msg
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.inventory.problems import Problem
from govcloud.model.enums import Severity

FORMAT = "ansible"
MAX_BYTES = 64 * 1024 * 1024
_SECRET = re.compile(r"pass|secret|token|vault|private_key_content|api_key", re.I)


@dataclass
class Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    line: int | None = None


@dataclass
class Model:
    groups: dict[str, Group] = field(default_factory=dict)
    hostvars: dict[str, dict[str, Any]] = field(default_factory=dict)   # host's own vars
    host_line: dict[str, int | str] = field(default_factory=dict)       # where the host first appears
    host_file: dict[str, Path] = field(default_factory=dict)            # in which file (several: a directory)
    # group_vars/ and host_vars/ beside the inventory (Ansible's host_group_vars plugin)
    plugin_group_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugin_host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)

    def group(self, name: str) -> Group:
        g = self.groups.get(name)
        if g is None:
            g = self.groups[name] = Group(name)
        return g

    def add_host(self, group: str, host: str, where: int | str | None) -> None:
        g = self.group(group)
        if host not in g.hosts:
            g.hosts.append(host)
        self.hostvars.setdefault(host, {})
        if where is not None:
            self.host_line.setdefault(host, where)

    # ------------------------------------------------------------ resolution

    def finish(self) -> None:
        """Ansible's implicit structure: every group under ``all``; hosts in no group in ``ungrouped``."""
        self.group("all")
        self.group("ungrouped")
        child_of_someone = {c for g in self.groups.values() for c in g.children}
        for name in list(self.groups):
            if name != "all" and name not in child_of_someone and name not in self.groups["all"].children:
                self.groups["all"].children.append(name)
        grouped = {h for g in self.groups.values() if g.name not in ("all", "ungrouped") for h in g.hosts}
        ung = self.groups["ungrouped"]
        ung.hosts = [h for h in ung.hosts if h not in grouped]
        for h in self.hostvars:
            if h not in grouped and h not in ung.hosts:
                ung.hosts.append(h)
        self.groups["all"].hosts = []

    def depths(self) -> dict[str, int]:
        depth = {"all": 0}
        frontier = ["all"]
        while frontier:
            nxt = []
            for name in frontier:
                for c in self.groups[name].children:
                    if c in self.groups and depth.get(c, -1) < depth[name] + 1 and depth[name] < 256:
                        depth[c] = depth[name] + 1
                        nxt.append(c)
            frontier = nxt
        return depth

    def host_groups(self) -> dict[str, list[str]]:
        """Host → every group it is in, directly or through children (``all`` included)."""
        parents: dict[str, set[str]] = {}
        for g in self.groups.values():
            for c in g.children:
                parents.setdefault(c, set()).add(g.name)
        out: dict[str, list[str]] = {}
        for g in self.groups.values():
            for h in g.hosts:
                seen = out.setdefault(h, [])
                stack = [g.name]
                while stack:
                    n = stack.pop()
                    if n in seen:
                        continue
                    seen.append(n)
                    stack.extend(parents.get(n, ()))
        for h in self.hostvars:
            groups = out.setdefault(h, [])
            if "all" not in groups:
                groups.append("all")
        return out

    def resolved(self) -> dict[str, tuple[dict[str, Any], list[str]]]:
        """Host → (merged variables, groups sorted by name without ``all``).

        Ansible's default VARIABLE_PRECEDENCE: the inventory's ``all`` vars, the inventory's
        vars of the host's other groups, ``group_vars/all``, ``group_vars/<group>``; then the
        inventory's host vars and ``host_vars/<host>``. Groups go by depth, priority, name."""
        depth = self.depths()
        out = {}
        for host, groups in self.host_groups().items():
            def prio(g: str) -> int:
                try:
                    return int(self.groups[g].vars.get("ansible_group_priority", 1))
                except (TypeError, ValueError):
                    return 1
            ordered = sorted(groups, key=lambda g: (depth.get(g, 0), prio(g), g))
            merged: dict[str, Any] = {}
            for g in ordered:
                merged.update(self.groups[g].vars)
            merged.pop("ansible_group_priority", None)     # a property of the group, not a variable
            merged.update(self.plugin_group_vars.get("all", {}))
            for g in ordered:
                if g != "all":
                    merged.update(self.plugin_group_vars.get(g, {}))
            merged.update(self.hostvars.get(host, {}))
            merged.update(self.plugin_host_vars.get(host, {}))
            out[host] = (merged, sorted(g for g in groups if g != "all"))
        return out

    def merge(self, other: "Model", file: Path) -> None:
        """Add a further source of the same inventory (a directory's next file): later wins."""
        for name, g in other.groups.items():
            mine = self.group(name)
            mine.hosts.extend(h for h in g.hosts if h not in mine.hosts)
            mine.children.extend(c for c in g.children if c not in mine.children)
            mine.vars.update(g.vars)
        for h, hv in other.hostvars.items():
            self.hostvars.setdefault(h, {}).update(hv)
            if h not in self.host_file:
                self.host_file[h] = file
                if h in other.host_line:
                    self.host_line[h] = other.host_line[h]


class AnsibleInventoryError(ValueError):
    def __init__(self, message: str, line: int | None = None, file: Path | None = None) -> None:
        super().__init__(message)
        self.line = line
        self.file = file


# ---------------------------------------------------------------- host patterns


def expand_hosts(pattern: str) -> tuple[list[str], int | None]:
    """``web[01:03]:2222`` → (["web01", "web02", "web03"], 2222), as Ansible expands them."""
    pattern = pattern.strip()
    port = None
    # host:port, [v6]:port — but not a bare IPv6 address
    m = re.match(r"^\[([0-9a-fA-F:.]+)\](?::(\d+))?$", pattern)
    if m and ":" in m.group(1):
        return [m.group(1)], int(m.group(2)) if m.group(2) else None
    if _RANGE.sub("", pattern).count(":") == 1:      # host:port (a range's own colon aside)
        m = re.match(r"^(.*?):(\d+)$", pattern)
        if m:
            pattern, port = m.group(1), int(m.group(2))
    if pattern.count(":") > 1 and "[" not in pattern:
        return [pattern], port          # an IPv6 address
    return _expand_range(pattern), port


_RANGE = re.compile(r"\[([^\[\]]+:[^\[\]]*)\]")


def _expand_range(pattern: str) -> list[str]:
    m = _RANGE.search(pattern)
    if not m:
        return [pattern]
    head, tail = pattern[:m.start()], pattern[m.end():]
    parts = m.group(1).split(":")
    beg, end = parts[0], parts[1]
    step = int(parts[2]) if len(parts) > 2 and parts[2] else 1
    if not beg:
        beg = "0"
    if beg.isalpha() or end.isalpha():
        if not (len(beg) == 1 and len(end) == 1 and beg.isalpha() and end.isalpha()):
            raise AnsibleInventoryError(Msg("host range [{group}] must be digits or single letters", group=m.group(1)))
        letters = string.ascii_letters
        i, j = letters.index(beg), letters.index(end)
        if i > j:
            raise AnsibleInventoryError(Msg("host range [{group}] goes backwards", group=m.group(1)))
        seq = [letters[k] for k in range(i, j + 1, step)]
    else:
        if not beg.isdigit() or not end.isdigit():
            raise AnsibleInventoryError(Msg("host range [{group}] must be digits or single letters", group=m.group(1)))
        width = len(beg) if beg.startswith("0") and len(beg) > 1 else 0
        if int(beg) > int(end):
            raise AnsibleInventoryError(Msg("host range [{group}] goes backwards", group=m.group(1)))
        if int(end) - int(beg) > 100_000:
            raise AnsibleInventoryError(Msg("host range [{group}] expands to over 100,000 hosts", group=m.group(1)))
        seq = [str(k).zfill(width) for k in range(int(beg), int(end) + 1, step)]
    out = []
    for s in seq:
        out.extend(_expand_range(head + s + tail))
    return out


# ---------------------------------------------------------------- INI


def _literal(v: str) -> Any:
    try:
        with warnings.catch_warnings():
            # "\d" in a value is an invalid escape to Python (SyntaxWarning on stderr); Ansible's
            # own literal_eval keeps quiet too — the value is data, never a message for the screen
            warnings.simplefilter("ignore")
            value = ast.literal_eval(v)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return v
    if value is Ellipsis or isinstance(value, (complex, bytes)):
        return v if isinstance(value, bytes) else str(value) if value is not Ellipsis else "..."
    if isinstance(value, (tuple, set)):
        return list(value)
    return value


_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
_GROUPNAME = re.compile(r"^([^:\]\s]+)\s*(?:[#;].*)?$")


def parse_ini(text: str) -> Model:
    model = Model()
    group, state = "ungrouped", "hosts"
    model.group("all")          # Ansible's implicit groups exist before the first line
    model.group("ungrouped")
    pending: dict[str, tuple[int, str, list[str]]] = {}     # group → (line, state, parents)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        m = _SECTION.match(line)
        if m:
            group, state = m.group(1), m.group(2) or "hosts"
            if state not in ("hosts", "children", "vars"):
                raise AnsibleInventoryError(Msg("section [{line}] has unknown type {state!r}", line=line[1:-1],
                                                state=state), lineno)
            if group not in model.groups:
                if state == "vars" and group not in pending:
                    pending[group] = (lineno, "vars", [])
                model.group(group).line = lineno
            if group in pending and state != "vars":
                _resolve_pending(model, group, pending)
            continue
        if line.startswith("[") and line.endswith("]"):
            raise AnsibleInventoryError(Msg("invalid section entry {line!r} (no spaces allowed in section names)",
                                            line=line), lineno)
        if state == "hosts":
            try:
                tokens = shlex.split(line, comments=True)
            except ValueError as exc:
                raise AnsibleInventoryError(Msg("cannot parse host line {line!r}: {error}", line=line, error=exc), lineno) from exc
            if not tokens:
                continue
            names, port = expand_hosts(tokens[0])
            variables: dict[str, Any] = {}
            for tok in tokens[1:]:
                if "=" not in tok:
                    raise AnsibleInventoryError(Msg("expected key=value host variable, got {token!r}", token=tok), lineno)
                k, v = tok.split("=", 1)
                variables[k] = _literal(v)
            for name in names:
                model.add_host(group, name, lineno)
                hv = model.hostvars[name]
                if port is not None:
                    hv["ansible_port"] = port
                hv.update(variables)
        elif state == "vars":
            if "=" not in line:
                raise AnsibleInventoryError(Msg("expected key=value, got {line!r}", line=line), lineno)
            k, v = (e.strip() for e in line.split("=", 1))
            model.group(group).vars[k] = _literal(v)
        else:
            m = _GROUPNAME.match(line)
            if not m:
                raise AnsibleInventoryError(Msg("expected a group name, got {line!r}", line=line), lineno)
            child = m.group(1)
            if child not in model.groups:
                if child in pending:
                    pending[child][2].append(group)
                else:
                    pending[child] = (lineno, "children", [group])
            elif child not in model.group(group).children:
                model.group(group).children.append(child)
    for name, (lineno, st, parents) in pending.items():
        if st == "vars":
            raise AnsibleInventoryError(Msg("section [{name}:vars] is for an undefined group {name!r}", name=name), lineno)
        raise AnsibleInventoryError(Msg("section [{parent}:children] includes an undefined group {name!r}",
                                        parent=parents[-1], name=name), lineno)
    model.finish()
    return model


def _resolve_pending(model: Model, group: str, pending: dict) -> None:
    lineno, st, parents = pending.pop(group)
    if st != "children":
        return
    for parent in parents:
        kids = model.group(parent).children
        if group not in kids:
            kids.append(group)
        if parent in pending and pending[parent][1] == "children":
            _resolve_pending(model, parent, pending)


# ---------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """Safe loading; ``!vault`` (and other tags) become a marker, never the ciphertext."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if suffix in ("!unsafe",):
        return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
    return "<vault>" if suffix == "!vault" else f"<{suffix}>"


_Loader.add_multi_constructor("!", _tagged)


def _bounded_yaml(text: str, file: Path | None = None) -> Any:
    """YAML safely loaded and bounded like inventory files: nesting depth before building, alias
    bombs and self-containing aliases after (Ansible would expand them while merging variables)."""
    from govcloud.base.reader import alias_problem, nesting_problem
    bad = nesting_problem(text)
    if bad is None:
        try:
            data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            raise AnsibleInventoryError(Msg("YAML syntax error: {problem}", problem=exc.problem), mark.line + 1 if mark else None,
                                        file=file) from exc
        except yaml.YAMLError as exc:
            raise AnsibleInventoryError(Msg("YAML error: {error}", error=exc), file=file) from exc
        except (RecursionError, ValueError) as exc:     # ValueError: an integer of over 4,300 digits
            raise AnsibleInventoryError(Msg("YAML error: {type}: {error}", type=type(exc).__name__,
                                            error=str(exc)[:200]), file=file) from None
        bad = alias_problem(text, data)
    if bad is not None:
        raise AnsibleInventoryError(bad.message + (f" ({bad.hint})" if bad.hint else ""), bad.line, file=file)
    return data


class PluginConfig(AnsibleInventoryError):
    """An inventory *plugin* configuration (``plugin: amazon.aws.aws_ec2``), not hosts: Ansible
    would run the plugin; govcloud never does (it reads its ``ansible-inventory --list`` output)."""

    def __init__(self, plugin: str, file: Path | None = None) -> None:
        super().__init__(Msg("an inventory plugin configuration (plugin: {plugin}), not a list of hosts: govcloud "
                             "does not run inventory plugins; import `ansible-inventory -i FILE --list` output for "
                             "these hosts", plugin=plugin), 1, file)
        self.plugin = plugin


def parse_yaml(text: str) -> Model:
    data = _bounded_yaml(text)
    if isinstance(data, dict) and "plugin" in data and not isinstance(data.get("plugin"), dict):
        # Ansible's yaml plugin refuses it as well ("Plugin configuration YAML file, not YAML inventory")
        raise PluginConfig(str(data.get("plugin"))[:200])
    if not isinstance(data, dict):
        raise AnsibleInventoryError(Msg("a YAML inventory is a mapping of groups (e.g. `all:`)"), 1)
    model = Model()
    for name, body in data.items():
        _yaml_group(model, str(name), body, 0)
    model.finish()
    return model


def _yaml_group(model: Model, name: str, body: Any, depth: int) -> None:
    if depth > 64:
        raise AnsibleInventoryError(Msg("groups are nested more than 64 levels deep"))
    g = model.group(name)
    if body is None:
        return
    if not isinstance(body, dict):
        raise AnsibleInventoryError(Msg("group {name!r} must be a mapping with hosts/children/vars", name=name))
    for key in body:
        if key not in ("hosts", "children", "vars"):
            raise AnsibleInventoryError(Msg("group {name!r} has unknown key {key!r} (expected hosts, children, "
                                            "vars)", name=name, key=key))
    vars_ = body.get("vars") or {}
    if not isinstance(vars_, dict):
        raise AnsibleInventoryError(Msg("vars of group {name!r} must be a mapping", name=name))
    g.vars.update(vars_)
    hosts = body.get("hosts") or {}
    if isinstance(hosts, dict):
        for pattern, hv in hosts.items():
            names, port = expand_hosts(str(pattern))
            for h in names:
                model.add_host(name, h, f"{name}.hosts.{pattern}")
                if port is not None:
                    model.hostvars[h]["ansible_port"] = port
                if isinstance(hv, dict):
                    model.hostvars[h].update(hv)
                elif hv is not None:
                    raise AnsibleInventoryError(Msg("host {host!r} in group {name!r}: variables must be a mapping",
                                                    host=h, name=name))
    elif hosts:
        raise AnsibleInventoryError(Msg("hosts of group {name!r} must be a mapping (host: vars)", name=name))
    children = body.get("children") or {}
    if isinstance(children, dict):
        for child, cbody in children.items():
            if str(child) not in g.children:
                g.children.append(str(child))
            _yaml_group(model, str(child), cbody, depth + 1)
    elif children:
        raise AnsibleInventoryError(Msg("children of group {name!r} must be a mapping", name=name))


# ---------------------------------------------------------------- JSON (ansible-inventory --list)


def parse_list_json(data: dict) -> Model:
    model = Model()
    meta = data.get("_meta") or {}
    if not isinstance(meta, dict):
        raise AnsibleInventoryError(Msg("_meta must be an object with hostvars"))
    hostvars = meta.get("hostvars") or {}
    if not isinstance(hostvars, dict):
        raise AnsibleInventoryError(Msg("_meta.hostvars must be an object (host: variables)"))
    for name, body in data.items():
        if name == "_meta":
            continue
        g = model.group(name)
        if isinstance(body, list):      # the short form: group: [hosts]
            body = {"hosts": body}
        if not isinstance(body, dict):
            raise AnsibleInventoryError(Msg("group {name!r} must be an object", name=name))
        hosts, children, vars_ = (body.get(k) or ([] if k != "vars" else {}) for k in ("hosts", "children", "vars"))
        if not isinstance(hosts, list) or not isinstance(children, list):
            raise AnsibleInventoryError(Msg("group {name!r}: hosts and children must be lists of names", name=name))
        if not isinstance(vars_, dict):
            raise AnsibleInventoryError(Msg("group {name!r}: vars must be an object", name=name))
        for h in hosts:
            if not isinstance(h, (str, int, float)) or isinstance(h, bool):
                raise AnsibleInventoryError(Msg("group {name!r}: a host name must be text, not {type}", name=name,
                                                type=type(h).__name__))
            model.add_host(name, str(h), f"{name}.hosts")
        for c in children:
            if not isinstance(c, (str, int, float)) or isinstance(c, bool):
                raise AnsibleInventoryError(Msg("group {name!r}: a child group must be a name, not {type}", name=name,
                                                type=type(c).__name__))
            if str(c) not in g.children:
                g.children.append(str(c))
        g.vars.update(vars_)
    for h, hv in hostvars.items():
        if hv is not None and not isinstance(hv, dict):
            raise AnsibleInventoryError(Msg("_meta.hostvars.{host}: variables must be an object", host=h))
        model.hostvars.setdefault(h, {}).update(hv or {})
        model.host_line.setdefault(h, f"_meta.hostvars.{h}")
    for g in list(model.groups.values()):
        for c in g.children:
            model.group(c)
    model.finish()
    return model


# ---------------------------------------------------------------- file → records


def load_model(path: Path) -> tuple[Model, str]:
    """The inventory model and which syntax it was read as (ini, yaml, json)."""
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise AnsibleInventoryError(Msg("file is over {limit_mb} MB", limit_mb=MAX_BYTES // 1024 // 1024))
    if b"\x00" in raw[:65536]:
        raise AnsibleInventoryError(Msg("file is binary, not an Ansible inventory"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise AnsibleInventoryError(Msg("not valid UTF-8"), line) from exc
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            return parse_list_json(data), "json"
    if path.suffix.lower() in (".yml", ".yaml", ".json") or _looks_yaml(text):
        return parse_yaml(text), "yaml"
    return parse_ini(text), "ini"


# what Ansible skips in an inventory directory (IGNORED_ALWAYS + INVENTORY_IGNORE_EXTS)
_IGNORED = re.compile(r"^\.|^host_vars$|^group_vars$|^vars_plugins$"
                      r"|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.cfg|\.retry)$")
_VARS_EXTS = ("", ".yml", ".yaml", ".json")


@dataclass
class Source:
    """An inventory as ``ansible-inventory -i PATH`` reads it: its files and what was left out."""
    model: Model
    files: list[Path]
    vars_files: list[Path]
    skipped: list[tuple[Path, str]]      # (path, why) — reported as warnings


def load_source(path: Path) -> Source:
    """A file or a directory of inventory files, with ``group_vars/`` and ``host_vars/`` beside it.

    Files of a directory are read in name order, subdirectories too, skipping what Ansible
    skips. An executable file would be an inventory script to Ansible: it is never run here."""
    path = Path(path)
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen_dirs: set[str] = set()

    def walk(d: Path) -> None:
        real = os.path.realpath(d)
        if real in seen_dirs:           # a symlink back up the tree
            return
        seen_dirs.add(real)
        for entry in sorted(os.listdir(d)):
            if _IGNORED.search(entry):
                continue
            p = d / entry
            if p.is_dir():
                walk(p)
            elif p.is_file() and os.access(p, os.X_OK):
                skipped.append((p, Msg("an executable inventory script: govcloud never runs it; import its output "
                                       "(`ansible-inventory -i DIR --list > inventory.json`) instead")))
            elif p.is_file():
                files.append(p)

    if path.is_dir():
        walk(path)
        if not files:
            raise AnsibleInventoryError(Msg("the directory holds no inventory files"), file=path)
        basedir = path
    else:
        files.append(path)
        basedir = path.parent
    model = Model()
    for f in list(files):
        try:
            m, _ = load_model(f)
        except PluginConfig as exc:
            if not path.is_dir():
                exc.file = exc.file or f
                raise
            # as ansible-inventory does with a directory: the static files are read, the plugin
            # configuration is not (there, because the plugin cannot run; here, because none is run)
            files.remove(f)
            skipped.append((f, exc.args[0]))
            continue
        except AnsibleInventoryError as exc:
            exc.file = exc.file or f
            raise
        model.merge(m, f)
    if not files:
        raise AnsibleInventoryError(Msg("the directory holds only inventory plugin configurations, no static "
                                        "inventory files"), file=path)
    model.finish()
    vars_files: list[Path] = []
    for kind, names, store in (("group_vars", list(model.groups), model.plugin_group_vars),
                               ("host_vars", list(model.hostvars), model.plugin_host_vars)):
        d = basedir / kind
        if not d.is_dir():
            continue
        for name in names:
            data: dict[str, Any] = {}
            for f in _vars_files(d, name):
                loaded = _load_vars_file(f, skipped)
                if loaded is not None:
                    vars_files.append(f)
                    data.update(loaded)
            if data:
                store[name] = data
    return Source(model, files, vars_files, skipped)


def _vars_files(d: Path, name: str) -> list[Path]:
    """Ansible's DataLoader.find_vars_files: ``NAME`` (a file, or a directory of files), else
    ``NAME.yml`` / ``.yaml`` / ``.json``; the first that exists."""
    for ext in _VARS_EXTS:
        p = d / (name + ext)
        if p.is_dir():
            return _dir_vars_files(p)
        if p.exists():
            return [p]
    return []


def _dir_vars_files(d: Path) -> list[Path]:
    out: list[Path] = []
    for entry in sorted(os.listdir(d)):
        if entry.startswith(".") or entry.endswith("~"):
            continue
        p = d / entry
        ext = os.path.splitext(entry)[1]
        if p.is_dir() and not ext:
            out.extend(_dir_vars_files(p))
        elif p.is_file() and (not ext or ext in _VARS_EXTS):
            out.append(p)
    return out


def _load_vars_file(f: Path, skipped: list[tuple[Path, str]]) -> dict[str, Any] | None:
    raw = f.read_bytes()
    if len(raw) > MAX_BYTES:
        raise AnsibleInventoryError(Msg("file is over {limit_mb} MB", limit_mb=MAX_BYTES // 1024 // 1024), file=f)
    if raw.lstrip().startswith(b"$ANSIBLE_VAULT"):
        skipped.append((f, Msg("encrypted with ansible-vault: left out (secrets are never imported)")))
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnsibleInventoryError(Msg("not valid UTF-8"), raw.count(b"\n", 0, exc.start) + 1, file=f) from exc
    data = _bounded_yaml(text, f)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise AnsibleInventoryError(Msg("variables must be a mapping, not {type}", type=type(data).__name__), 1, file=f)
    return data


def _looks_yaml(text: str) -> bool:
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        if s == "---":
            return True
        return bool(re.match(r"^[^\[\s=][^=]*:\s*(#.*)?$", s)) and not s.startswith("[")
    return False


def _is_ip(text: Any) -> bool:
    try:
        ipaddress.ip_address(str(text))
        return True
    except ValueError:
        return False


def classify_os(name: str) -> tuple[str, str | None]:
    """OS name → (OsDistribution value, version); the shared classifier when it is there."""
    try:
        from govcloud.interchange.osmap import classify_os as shared
    except ImportError:
        shared = None
    if shared is not None:
        return shared(name)
    from govcloud.model.enums import OsDistribution
    low = name.lower()
    for m in OsDistribution:
        if m.value != "other" and (m.value in low or m.en.lower() in low):
            return m.value, None
    return "other", None


def _num(v: Any) -> float | None:
    """A finite number, or None (True, 'nan', 1e400 and 10**400 are not sizes)."""
    if isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return f if f == f and f not in (float("inf"), float("-inf")) else None


def _server_ip(text: Any) -> bool:
    """An address a server is reached at: not link-local (fe80::…, 169.254/16), loopback or unspecified."""
    try:
        ip = ipaddress.ip_address(str(text).split("%", 1)[0])
    except ValueError:
        return False
    return not (ip.is_link_local or ip.is_loopback or ip.is_unspecified)


# variables people put in inventories for what facts would say (no facts cached): the first present wins
_OS_VARS = ("os", "os_name", "os_distribution", "distribution", "os_type", "operating_system", "platform")
_OS_VERSION_VARS = ("os_version", "distribution_version", "os_release")
_CPU_VARS = ("vcpus", "cpus", "cpu", "cores", "cpu_cores", "num_cpus", "cpu_count", "vcpu")
_RAM_GB_VARS = ("ram_gb", "memory_gb", "mem_gb")
_RAM_MB_VARS = ("ram_mb", "memory_mb", "mem_mb", "memtotal_mb")
_RAM_TEXT_VARS = ("ram", "memory", "mem")
_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT])(?:i?B)?\s*$", re.I)


def _os_from_vars(hv: dict[str, Any]) -> dict[str, Any]:
    """OS from inventory variables (``os: "CentOS 7.9"``, ``os_version: 7.9``); a value the
    classifier does not know is kept in the variables, never turned into ``other``."""
    for k in _OS_VARS:
        v = hv.get(k)
        if isinstance(v, str) and v.strip() and not v.lstrip().startswith("{{"):
            dist, version = classify_os(v)
            if dist == "other":
                return {}       # the variable names an OS we do not know: stated, not replaced by a guess
            out: dict[str, Any] = {"os_distribution": dist}
            ver = next((str(hv[x]) for x in _OS_VERSION_VARS if isinstance(hv.get(x), (str, int, float))
                        and not isinstance(hv.get(x), bool) and str(hv[x]).strip()), None)
            if ver or version:
                out["os_version"] = ver or version
            return out
    return {}


def _ram_from_vars(hv: dict[str, Any]) -> float | None:
    """RAM in GB from inventory variables: ``ram_gb``/``memory_mb`` by their names, ``memory: 16G``
    by its unit; a bare ``memory: 16`` states no unit and is not guessed."""
    for k in _RAM_GB_VARS:
        n = _num(hv.get(k)) if k in hv else None
        if n and n > 0:
            return round(n, 2)
    for k in _RAM_MB_VARS:
        n = _num(hv.get(k)) if k in hv else None
        if n and n > 0:
            return round(n / 1024, 2)
    for k in _RAM_TEXT_VARS:
        m = _UNIT.match(str(hv.get(k))) if isinstance(hv.get(k), str) else None
        if m:
            n = float(m.group(1)) * {"K": 1 / 1024 ** 2, "M": 1 / 1024, "G": 1, "T": 1024}[m.group(2).upper()]
            if n > 0:
                return round(n, 2)
    return None


def server_values(host: str, hv: dict[str, Any]) -> dict[str, Any]:
    """What the inventory states about one host, in the model's fields (cached facts if present)."""
    values: dict[str, Any] = {}
    addr = hv.get("ansible_host")
    ips = []
    for candidate in (addr, host, hv.get("ansible_default_ipv4", {}).get("address")
                      if isinstance(hv.get("ansible_default_ipv4"), dict) else None):
        if candidate is not None and _server_ip(candidate) and str(candidate) not in ips:
            ips.append(str(candidate))
    if ips:
        values["ips"] = ips
    # without an IP address the host name is where Ansible (and discover) connects: ansible_host
    # when it is a DNS name, else the inventory name
    reach = str(addr) if not ips and _dns_name(addr) else None
    name = hv.get("ansible_hostname") or hv.get("ansible_fqdn") or reach or host
    values["hostname"] = str(name)
    dist = hv.get("ansible_distribution")
    if dist:
        values["os_distribution"] = classify_os(str(dist))[0]
        if hv.get("ansible_distribution_version"):
            values["os_version"] = str(hv["ansible_distribution_version"])
    else:
        values.update(_os_from_vars(hv))
    if hv.get("ansible_kernel"):
        values["kernel"] = str(hv["ansible_kernel"])
    arch = hv.get("ansible_architecture")
    if arch is None:
        arch = next((hv[k] for k in _ARCH_VARS if isinstance(hv.get(k), str)), None)
    arch = _ARCH_ALIASES.get(str(arch).strip().lower(), str(arch).strip().lower()) if arch is not None else None
    if arch in _ARCHES:
        values["cpu_arch"] = arch
    cores = _num(hv.get("ansible_processor_vcpus") or hv.get("ansible_processor_nproc"))
    if not cores:
        cores = next((c for c in (_num(hv.get(k)) for k in _CPU_VARS if k in hv) if c), None)
    if cores and cores >= 1:
        values["cores"] = int(cores)
    mem = _num(hv.get("ansible_memtotal_mb"))
    if mem:
        values["ram_gb"] = round(mem / 1024, 2)
    else:
        ram = _ram_from_vars(hv)
        if ram:
            values["ram_gb"] = ram
    virt = str(hv.get("ansible_virtualization_role") or "")
    if virt == "guest":
        values["kind"] = "vm"
    elif virt == "host":
        values["kind"] = "physical"
    # a host the census can reach but whose inventory does not say what it is: a record marked
    # incomplete (its unknown fields absent, never guessed), for `govcloud inventory discover` to
    # complete; with no address at all there is nothing to discover: it stays not imported
    missing = [k for k in _CENSUS_REQUIRED if k not in values]
    # reachable: an IP address, else the name Ansible connects to (ansible_host if set, else the
    # inventory name) is a host name
    if missing and (ips or _dns_name(addr if addr is not None else host)):
        values["census_missing"] = missing + ([] if "cpu_arch" in values else ["cpu_arch"])
    return values


_CENSUS_REQUIRED = ("cores", "ram_gb", "os_distribution")
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _dns_name(text: Any) -> bool:
    """A host name SSH can be pointed at (RFC 1123 labels, at most 253 characters): not an IP
    address (a link-local or loopback one is no server's), no template, no option (``-o…``)."""
    if not isinstance(text, str) or not 0 < len(text.rstrip(".")) <= 253:
        return False
    labels = text.rstrip(".").split(".")
    if not all(_DNS_LABEL.match(x) for x in labels) or labels[-1].isdigit():
        return False            # 169.254.7.7, 127.0.0.1: addresses, not names
    return True
_ARCHES = ("x86_64", "aarch64", "loongarch64", "mips64el", "sw_64", "ppc64", "ppc64le", "ia64", "sparc")
_ARCH_VARS = ("cpu_arch", "arch", "architecture")
_ARCH_ALIASES = {"amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64", "arm64": "aarch64",
                 "loong64": "loongarch64", "sw64": "sw_64"}


def _safe_vars(hv: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in hv.items():
        if _SECRET.search(k) or v == "<vault>":
            continue
        if k.startswith("ansible_") and k not in ("ansible_host", "ansible_port", "ansible_user",
                                                   "ansible_connection", "ansible_python_interpreter"):
            continue      # cached facts went into fields already; the rest are connection details
        out[k] = v
    return json.loads(json.dumps(out, ensure_ascii=False, default=str))


def parse(path: Path) -> ParseResult:
    """An inventory file or directory (with its group_vars/ and host_vars/) → server records."""
    path = Path(path)
    result = ParseResult(FORMAT)

    def shown(p: Path) -> str:     # as provenance and problems name it: relative to what was given
        return p.name if not path.is_dir() else (Path(path.name) / p.relative_to(path)).as_posix()

    try:
        source = load_source(path)
    except AnsibleInventoryError as exc:
        result.problems.append(Problem(Severity.error, "ansible-syntax", exc.args[0], file=shown(exc.file or path),
                                       line=exc.line, hint=Msg("check it with `ansible-inventory -i PATH --list`")))
        return result
    except OSError as exc:
        result.problems.append(Problem(Severity.error, "unreadable", Msg("cannot read: {reason}",
                                                                         reason=exc.strerror or exc),
                                       file=str(exc.filename or path)))
        return result
    for p, why in source.skipped:
        result.problems.append(Problem(Severity.warning, "ansible-skipped", why, file=shown(p)))
    model = source.model
    if not model.hostvars:
        result.problems.append(Problem(Severity.error, "no-hosts", Msg("the inventory defines no hosts"),
                                       file=shown(path) if path.is_file() else path.name,
                                       hint=Msg("is this an Ansible inventory?")))
        return result
    shas: dict[Path, str] = {}
    for host, (hv, groups) in model.resolved().items():
        where = model.host_line.get(host)
        hfile = model.host_file.get(host, source.files[0])
        if hfile not in shas:
            shas[hfile] = hashlib.sha256(hfile.read_bytes()).hexdigest()
        prov = Provenance(shown(hfile), shas[hfile], None, where if isinstance(where, int) else
                          (str(where) if where is not None else None))
        values = server_values(host, hv)
        match = [("hostname", values["hostname"])]
        if values["hostname"] != host:
            match.append(("hostname", host))
        match += [("ip", ip) for ip in values.get("ips", [])]
        extra = {"ansible_groups": groups}
        safe = _safe_vars(hv)
        if safe:
            extra["ansible_vars"] = safe
        why = None
        if any(k not in values for k in _CENSUS_REQUIRED) and "census_missing" not in values:
            why = (("no-address-host", {"host": repr(str(hv["ansible_host"])[:80])})
                   if hv.get("ansible_host") is not None else ("no-address", {}))
        result.records.append(ImportedRecord("servers", host, values, prov, tuple(match), extra, incomplete_why=why))
    return result
