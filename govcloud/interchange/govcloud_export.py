"""A govcloud export read back (``--format govcloud``): what ``govcloud inventory export
--format json`` wrote, as records with their own ids, so export → import gives the same records.

Input: the export directory (``departments.json``, ``machine_rooms.json``, ``systems.json``,
``servers.json``, ``databases.json``, ``dependencies.json``, ``catalogue.json`` and, for the
round trip, ``inventory.json``, ``regions.json``, ``cloud_platforms.json``, ``cloud_zones.json``,
``policies.json``, ``takeovers.json``, ``freeze_windows.json``, ``observations.json``) or one of
those table files. JSON keeps enum keys, ISO dates and nested records, so nothing is lost:
exported into an empty (or new) directory it gives the same inventory, every section and the
inventory record (name, region, census date, default policy …; ``export.json`` gives the name
of an older export without ``inventory.json``). The XLSX/CSV exports show labels and joined
lists for people and are not read back (a clear error says so).

Rows of classified systems that the export redacted (its ``export_note`` column) are skipped
with a warning: their details were never exported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.inventory.problems import Problem
from govcloud.model.entities import SECTION_BY_KEY, InventoryMeta, yaml_key
from govcloud.model.enums import Severity

FORMAT = "govcloud"
TABLES = {  # export table → inventory section
    "departments": "organizations",
    "machine_rooms": "machine_rooms",
    "servers": "servers",
    "systems": "systems",
    "databases": "databases",
    "dependencies": "dependencies",
    "catalogue": "resources",
    "regions": "regions",
    "cloud_platforms": "cloud_platforms",
    "cloud_zones": "cloud_zones",
    "execution_nodes": "execution_nodes",
    "policies": "policies",
    "takeovers": "takeovers",
    "freeze_windows": "freeze_windows",
    "observations": "observations",
    "inventory": "inventory",       # the inventory's own record (one row)
}
NOTE = "export_note"


@cache
def _empty_default(cls: type) -> frozenset[str]:
    """Keys whose default is empty (None or ()): a null or [] there says the same as absent."""
    out = set()
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        if default is None or default == ():
            out.add(yaml_key(f.name))
    return frozenset(out)


def _unflatten(row: dict[str, Any], cls: type) -> dict[str, Any]:
    """``{"approval.body": x}`` → ``{"approval": {"body": x}}``; a null (or an empty list where the
    default is empty) is left out — absent is absent. Anything else is kept as exported, nested
    records and free-form mappings (``observed``, ``facts``) included: the model converts them, and
    a null or empty list inside ``facts`` is a fact too."""
    empty = _empty_default(cls)
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or key == NOTE:
            continue
        if "." in key:
            head, sub = key.split(".", 1)
            out.setdefault(head, {})[sub] = value
        elif value == [] and key in empty:
            continue
        else:
            out[key] = value
    return out


def parse(path: Path) -> ParseResult:
    path = Path(path)
    result = ParseResult(FORMAT)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".csv", ".html"):
        result.problems.append(Problem(Severity.error, "wrong-format", Msg("{name}: the {format} export shows "
                                                                           "labels for people and cannot be read "
                                                                           "back without loss", name=path.name,
                                                                           format=path.suffix[1:].upper()),
                                       file=path.name, hint=Msg("export with --format json and import that "
                                                                "directory")))
        return result
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    name = None
    if path.is_dir() and (path / "export.json").is_file():
        try:
            info = json.loads((path / "export.json").read_text(encoding="utf-8"))
            info = info if isinstance(info, dict) else {}
            name = info.get("inventory") if isinstance(info.get("inventory"), str) else None
            if info.get("classified") == "redacted" and info.get("classified_systems"):
                result.problems.append(Problem(
                    Severity.warning, "redacted-export", Msg("the export redacted {count} classified system(s); "
                                                             "they are not imported", count=info['classified_systems']), file="export.json",
                    hint=Msg("export with --include-classified for a complete round trip")))
        except (ValueError, OSError, RecursionError):
            pass
    seen_tables = 0
    meta: ImportedRecord | None = None
    obs_seen: dict[str, int] = {}
    for f in files:
        if f.name == "export.json":
            continue
        raw = f.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            result.problems.append(Problem(Severity.error, "json", Msg("not valid JSON: {error}", error=exc), file=f.name))
            continue
        except RecursionError:
            result.problems.append(Problem(Severity.error, "json", Msg("not valid JSON: nested too deeply"), file=f.name))
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("table"), str) or not isinstance(doc.get("rows"), list):
            result.problems.append(Problem(Severity.error, "wrong-format", Msg("not a govcloud export table "
                                                                               "(expected {table, columns, rows})"), file=f.name))
            continue
        section = TABLES.get(doc["table"])
        if section is None:
            continue      # the census form repeats the systems table for people
        seen_tables += 1
        for i, row in enumerate(doc["rows"]):
            prov = Provenance(f.name, sha, None, f"rows[{i}]")
            if not isinstance(row, dict):
                result.problems.append(Problem(Severity.error, "wrong-type", Msg("a row is not an object"),
                                               file=f"{f.name}:rows[{i}]"))
                continue
            if row.get(NOTE):
                result.problems.append(Problem(Severity.warning, "redacted-row", Msg("{id}: redacted in the export (classified); not imported", id=row.get("id")), file=f"{f.name}:rows[{i}]"))
                continue
            values = _unflatten(row, InventoryMeta if section == "inventory" else SECTION_BY_KEY[section].cls)
            if section == "inventory":
                meta = ImportedRecord("inventory", "inventory", values, prov)
                continue
            if section == "observations":
                target = values.get("server") or values.get("system")
                ext = f"{values.get('source')}:{target}@{values.get('collected_at')}"
                n = obs_seen[ext] = obs_seen.get(ext, 0) + 1
                if n > 1:
                    ext = f"{ext}#{n}"
                match = ()
            elif section == "dependencies":
                ext = f"{values.get('from')}->{values.get('to')}:{values.get('type')}"
                match: tuple = ()
            else:
                id_key = "code" if section == "regions" else "id"
                rid = values.get(id_key)
                if not isinstance(rid, str) or not rid:
                    result.problems.append(Problem(Severity.error, "missing-field", Msg("the row has no {id_key}", id_key=id_key),
                                                   file=f"{f.name}:rows[{i}]", field=id_key))
                    continue
                ext = rid
                match = (("id", rid),)
            result.records.append(ImportedRecord(section, ext, values, prov, match))
    if not seen_tables and not result.problems:
        result.problems.append(Problem(Severity.error, "wrong-format", Msg("no govcloud export tables found"),
                                       file=path.name, hint=Msg("give the directory `govcloud inventory export "
                                                                "--format json` wrote")))
    if meta is None and name:
        meta = ImportedRecord("inventory", "inventory", {"name": name}, Provenance("export.json", "", None, None))
    if meta is not None:
        result.records.insert(0, meta)
    return result
