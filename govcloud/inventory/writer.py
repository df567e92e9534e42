"""The one writer of inventory files.

Two styles, both valid YAML that the loader reads:

* ``block`` — ordinary indented YAML, for files people read and edit.
* ``lines`` — the JSON-compatible subset of YAML with one record per line. It is
  what machines write (generator, importers): diffs stay one line per changed
  record, and the loader parses it with the C JSON parser, ~50× faster than
  libyaml builds Python objects (see govcloud/base/reader.py).

Values equal to the field's default are left out so files stay short.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

from govcloud.model.entities import yaml_key
from govcloud.model.inventory import FORMAT_VERSION, Inventory
from govcloud.base.atomic import write_atomic

Style = Literal["block", "lines"]
_MISSING = dataclasses.MISSING


@cache
def _plan(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """Per class: (attribute, YAML key, value to leave out as the default) — computed once,
    since writing a national inventory calls to_plain on a million records."""
    out = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("required"):
            omit = _NEVER
        elif f.default_factory is not _MISSING:  # type: ignore[misc]
            omit = f.default_factory()  # type: ignore[misc]
        elif f.default is not _MISSING:
            omit = f.default
        else:
            omit = _NEVER
        out.append((f.name, yaml_key(f.name), omit))
    return tuple(out)


_NEVER = object()


def to_plain(obj: Any) -> Any:
    """An entity (or any value inside one) as plain YAML/JSON data, defaults omitted."""
    # the plain cases first, by exact type: most values are, and the dataclass test is not cheap
    kind = type(obj)
    if kind in _SCALARS or obj is None:
        return obj
    if kind is dict:
        return {k: v if type(v) in _SCALARS else to_plain(v) for k, v in obj.items()}
    if hasattr(kind, "__dataclass_fields__"):
        out: dict[str, Any] = {}
        for attr, key, omit in _plan(type(obj)):
            value = getattr(obj, attr)
            if value is None or value is omit or (omit is not _NEVER and value == omit):
                continue
            if value == () and (omit is _NEVER or omit is None or omit == ()):
                continue    # an empty list is left out unless the default is a non-empty one
            out[key] = value if type(value) in _SCALARS else to_plain(value)
        return out
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, date):
        return obj  # block YAML writes it unquoted; the lines style stringifies it
    if isinstance(obj, (tuple, list)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


_SCALARS = {str, int, float, bool}


class _BlockDumper(yaml.SafeDumper):
    """Indents list items under their key, the way people write YAML by hand."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        # a date object shared by two records would otherwise come out as &id001/*id001
        return True


# a text that is a str subclass (a catalog message, an enum label) is written as the plain text it is
_BlockDumper.add_multi_representer(str, lambda dumper, value: dumper.represent_str(str(value)))


def render_document(sections: dict[str, Any], *, style: Style = "block", header: str | None = None) -> str:
    """One inventory file: ``format_version`` first, then the given sections in order."""
    doc: dict[str, Any] = {"format_version": FORMAT_VERSION}
    for key, value in sections.items():
        if value is None or (isinstance(value, (list, tuple, dict)) and not value):
            continue
        doc[key] = [to_plain(v) for v in value] if isinstance(value, (list, tuple)) else to_plain(value)
    prefix = "".join(f"# {line}\n" for line in header.splitlines()) if header else ""
    if style == "block":
        body = yaml.dump(doc, Dumper=_BlockDumper, allow_unicode=True, sort_keys=False, width=100,
                         default_flow_style=False)
        return prefix + body
    parts = []
    for key, value in doc.items():
        if isinstance(value, list):
            rows = ",\n".join("  " + json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str) for v in value)
            parts.append(f'"{key}": [\n{rows}\n]')
        else:
            parts.append(f'"{key}": ' + json.dumps(value, ensure_ascii=False, default=str))
    return prefix + "{\n" + ",\n".join(parts) + "\n}\n"


def write_document(path: Path, sections: dict[str, Any], *, style: Style = "block",
                   header: str | None = None, durable: bool = True) -> None:
    write_atomic(path, render_document(sections, style=style, header=header), durable=durable)


def write_inventory(inv: Inventory, root: Path, *, style: Style = "block",
                    split_by_org: bool = True, header: str | None = None, durable: bool = True) -> list[Path]:
    """Write a whole inventory: shared data in a few files, each department's records in its own file.

    ``departments/<org-id>.yaml`` holds the org's systems, the servers only its
    systems use, its databases, the dependencies its systems declare and its
    catalogue resources. Servers shared across departments go to ``shared.yaml``.
    """
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def emit(rel: str, sections: dict[str, Any], st: Style = style) -> None:
        path = root / rel
        write_document(path, sections, style=st, header=header, durable=durable)
        written.append(path)

    meta = {"inventory": inv.meta} if inv.meta else {}
    emit("inventory.yaml", meta | {"regions": list(inv.regions.values())}, "block")
    emit("organizations.yaml", {"organizations": list(inv.organizations.values())})
    emit("machine-rooms.yaml", {"machine_rooms": list(inv.machine_rooms.values())})
    emit("cloud.yaml", {"cloud_platforms": list(inv.cloud_platforms.values()),
                        "cloud_zones": list(inv.cloud_zones.values())}, "block")
    emit("policy.yaml", {"policies": list(inv.policies.values()),
                         "freeze_windows": list(inv.freeze_windows.values())}, "block")
    if not split_by_org:
        emit("systems.yaml", {"systems": list(inv.systems.values()), "servers": list(inv.servers.values()),
                              "databases": list(inv.databases.values()), "dependencies": inv.dependencies,
                              "resources": list(inv.resources.values()),
                              "takeovers": list(inv.takeovers.values())})
        return written

    by_org: dict[str, dict[str, list]] = {}

    def bucket(org: str | None) -> dict[str, list]:
        return by_org.setdefault(org or "_unassigned", {k: [] for k in
                                 ("systems", "servers", "databases", "dependencies", "resources", "takeovers")})

    server_owner: dict[str, set[str]] = {}
    for s in inv.systems.values():
        bucket(s.owner_org)["systems"].append(s)
        for srv in s.servers:
            server_owner.setdefault(srv, set()).add(s.owner_org)
    shared_servers = []
    for sid, srv in inv.servers.items():
        owners = server_owner.get(sid, set())
        if len(owners) == 1:
            bucket(next(iter(owners)))["servers"].append(srv)
        else:
            shared_servers.append(srv)
    system_owner = {s.id: s.owner_org for s in inv.systems.values()}
    shared_dbs = []
    for db in inv.databases.values():
        owners = {system_owner.get(u) for u in db.used_by}
        if len(owners) == 1 and None not in owners:
            bucket(next(iter(owners)))["databases"].append(db)
        else:
            shared_dbs.append(db)
    for dep in inv.dependencies:
        bucket(system_owner.get(dep.from_))["dependencies"].append(dep)
    for res in inv.resources.values():
        bucket(res.provider_org)["resources"].append(res)
    for t in inv.takeovers.values():
        bucket(t.org or system_owner.get(t.system or ""))["takeovers"].append(t)
    if inv.observations:  # machine-observed facts stay in their own files, never mixed with people's
        emit("observed/observations.yaml", {"observations": inv.observations}, "lines")
    if shared_servers or shared_dbs:
        emit("shared.yaml", {"servers": shared_servers, "databases": shared_dbs})
    for org in sorted(by_org):
        emit(f"departments/{org}.yaml", by_org[org])
    return written

