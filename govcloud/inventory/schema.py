"""JSON Schema of an inventory file, derived from the entity dataclasses.

Editors (VS Code's YAML extension, JetBrains) validate while typing with a first line
``# yaml-language-server: $schema=govcloud-inventory.schema.json``. The schema is
deliberately a little looser than the validator (it cannot see other files), never stricter.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from enum import Enum
from typing import Any

from govcloud.base.i18n import tr

from govcloud.model.entities import SECTIONS, InventoryMeta, yaml_key
from govcloud.model.vocabulary import DAY, MONTH, MONTH_END, NO, YEAR, YES
from govcloud.model.ids import ID_DESCRIPTION, ID_MAX_LEN, ID_PATTERN
from govcloud.model.inventory import FORMAT_VERSION

# ISO date, Chinese date, or the seeds' month-end form ("201812月底")
_DATE_PATTERN = (rf"^\d{{4}}(?:[-/.{YEAR}]\d{{1,2}}[-/.{MONTH}]\d{{1,2}}{DAY}?|{YEAR}?[-/.]?\d{{1,2}}{MONTH}"
                 rf"[{''.join(MONTH_END)}])$")


def _schema_for(tp: Any, meta: typing.Mapping[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)][0]
        return _schema_for(inner, meta, defs)
    if origin is tuple:
        return {"type": "array", "items": _schema_for(typing.get_args(tp)[0], {}, defs)}
    if tp is str and meta.get("ident"):
        return {"type": "string", "pattern": ID_PATTERN, "maxLength": ID_MAX_LEN}
    if tp is str:
        return {"type": ["string", "number"]}  # numbers are read as text with a warning
    if tp is bool:
        return {"anyOf": [{"type": "boolean"}, {"enum": [YES, NO]}]}
    if tp in (int, float):
        out: dict[str, Any] = {"type": "integer" if tp is int else "number"}
        if meta.get("min") is not None:
            out["minimum"] = meta["min"]
        if meta.get("max") is not None:
            out["maximum"] = meta["max"]
        return out
    if tp is date:
        return {"type": "string", "pattern": _DATE_PATTERN}
    if tp is dict or origin is dict:
        return {"type": "object"}
    if isinstance(tp, type) and issubclass(tp, Enum):
        name = tp.__name__
        if name not in defs:
            values: list[str] = []
            for m in tp:
                values += [m.value] + ([m.zh] if m.zh != m.value else [])
            defs[name] = {"enum": values,
                          "description": "; ".join(f"{m.value} = {m.zh}" for m in tp)}
        return {"$ref": f"#/$defs/{name}"}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            defs[name] = _record_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no schema for {tp!r}")


def _record_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    waiver = next((f for f in dataclasses.fields(cls) if f.metadata.get("waives")), None)
    waivable = {m.value for m in typing.get_args(hints[waiver.name])[0]} if waiver is not None else set()
    waiver = yaml_key(waiver.name) if waiver is not None else None
    conditional: list[dict[str, Any]] = []
    for f in dataclasses.fields(cls):
        key = yaml_key(f.name)
        prop = _schema_for(hints[f.name], f.metadata, defs)
        title = f.metadata.get("zh")
        desc = " — ".join(x for x in (f.metadata.get("en"), f.metadata.get("doc")) if x)
        if f.metadata.get("ref"):
            desc = (desc + "; " if desc else "") + f"id of a {f.metadata['ref'].replace('_', ' ')}"
        if f.metadata.get("ident"):
            desc = (desc + ": " if desc else "") + ID_DESCRIPTION
        props[key] = {**prop, **({"title": title} if title else {}), **({"description": desc} if desc else {})}
        if f.metadata.get("required") and key in waivable:
            # required unless the waiver list names it (a census record still to be completed)
            conditional.append({"if": {"not": {"required": [waiver], "properties": {
                waiver: {"contains": {"const": key}}}}}, "then": {"required": [key]}})
        elif f.metadata.get("required"):
            required.append(key)
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False,
                              "patternProperties": {"^x_": {}}}
    if required:
        schema["required"] = required
    if conditional:
        schema["allOf"] = conditional
    return schema


def inventory_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    properties: dict[str, Any] = {
        "format_version": {"const": FORMAT_VERSION, "title": tr("format version", "zh"),
                           "description": "inventory format version"},
        "inventory": {**_schema_for(InventoryMeta, {}, defs), "title": tr("inventory", "zh", ctx="inventory header")},
    }
    for s in SECTIONS:
        properties[s.key] = {"type": "array", "title": s.zh, "description": s.en,
                             "items": _schema_for(s.cls, {}, defs)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://govcloud.invalid/schema/inventory-v1.json",
        "title": "govcloud inventory file (" + tr("inventory of government information systems", "zh") + ")",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "$defs": defs,
    }
