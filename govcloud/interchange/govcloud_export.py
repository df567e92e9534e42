"""A govcloud export read back (``--format govcloud``): what ``govcloud inventory export
--format json`` wrote, as records with their own ids, so export → import gives the same records.

Input: the export directory (``departments.json``, ``machine_rooms.json``, ``systems.json``,
``servers.json``, ``databases.json``, ``dependencies.json``, ``catalogue.json``; ``export.json``
gives the inventory name) or one of those table files. JSON keeps enum keys, ISO dates and
nested records, so nothing is lost; the XLSX/CSV exports show labels and joined lists for
people and are not read back (a clear error says so).

Not in an export, hence not imported: regions, cloud platforms/zones, policies, takeovers,
freeze windows and observations. Rows of classified systems that the export redacted (its
``export_note`` column) are skipped with a warning: their details were never exported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance
from govcloud.inventory.problems import Problem
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
}
NOTE = "export_note"


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """``{"approval.body": x}`` → ``{"approval": {"body": x}}``; nulls and empty lists dropped."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == [] or key == NOTE:
            continue
        if "." in key:
            head, sub = key.split(".", 1)
            out.setdefault(head, {})[sub] = value
        else:
            out[key] = value
    return {k: (_clean(v) if isinstance(v, (dict, list)) else v) for k, v in out.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def parse(path: Path) -> ParseResult:
    path = Path(path)
    result = ParseResult(FORMAT)
    if path.is_file() and path.suffix.lower() in (".xlsx", ".csv", ".html"):
        result.problems.append(Problem(Severity.error, "wrong-format", f"{path.name}: the {path.suffix[1:].upper()} "
                                       "export shows labels for people and cannot be read back without loss",
                                       file=path.name, hint="export with --format json and import that directory"))
        return result
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    name = None
    if path.is_dir() and (path / "export.json").is_file():
        try:
            info = json.loads((path / "export.json").read_text(encoding="utf-8"))
            name = info.get("inventory")
            if info.get("classified") == "redacted" and info.get("classified_systems"):
                result.problems.append(Problem(
                    Severity.warning, "redacted-export", f"the export redacted {info['classified_systems']} "
                    "classified system(s); they are not imported", file="export.json",
                    hint="export with --include-classified for a complete round trip"))
        except (ValueError, OSError):
            pass
    seen_tables = 0
    for f in files:
        if f.name == "export.json":
            continue
        raw = f.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        try:
            doc = json.loads(raw.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as exc:
            result.problems.append(Problem(Severity.error, "json", f"not valid JSON: {exc}", file=f.name))
            continue
        if not isinstance(doc, dict) or "table" not in doc or not isinstance(doc.get("rows"), list):
            result.problems.append(Problem(Severity.error, "wrong-format", "not a govcloud export table "
                                           "(expected {table, columns, rows})", file=f.name))
            continue
        section = TABLES.get(doc["table"])
        if section is None:
            continue      # the census form repeats the systems table for people
        seen_tables += 1
        for i, row in enumerate(doc["rows"]):
            prov = Provenance(f.name, sha, None, f"rows[{i}]")
            if not isinstance(row, dict):
                result.problems.append(Problem(Severity.error, "wrong-type", "a row is not an object",
                                               file=f"{f.name}:rows[{i}]"))
                continue
            if row.get(NOTE):
                result.problems.append(Problem(Severity.warning, "redacted-row", f"{row.get('id')}: redacted in the "
                                               "export (classified); not imported", file=f"{f.name}:rows[{i}]"))
                continue
            values = _unflatten(row)
            if section == "dependencies":
                ext = f"{values.get('from')}->{values.get('to')}:{values.get('type')}"
                match: tuple = ()
            else:
                rid = values.get("id")
                if not isinstance(rid, str) or not rid:
                    result.problems.append(Problem(Severity.error, "missing-field", "the row has no id",
                                                   file=f"{f.name}:rows[{i}]", field="id"))
                    continue
                ext = rid
                match = (("id", rid),)
            result.records.append(ImportedRecord(section, ext, values, prov, match))
    if not seen_tables and not result.problems:
        result.problems.append(Problem(Severity.error, "wrong-format", "no govcloud export tables found",
                                       file=path.name, hint="give the directory `govcloud inventory export "
                                                            "--format json` wrote"))
    if name:
        result.records.insert(0, ImportedRecord("inventory", "inventory", {"name": name},
                                                Provenance("export.json", "", None, None)))
    return result
