"""What an import means for an inventory: the change set (pure — no I/O; files are texts).

Given the inventory as its files say (``load_inventory``, not validated) and a parser's
:class:`ParseResult`, decide for every imported record:

* **create** — nothing in the inventory is this record: it is written to the import-owned
  file ``imported/<format>.yaml`` (machine-written, one record per line) with a deterministic
  id (the id the source proposes, else ``<format>-<slug of the external id>``).
* **update / unchanged** — the record was created by an earlier import of this format (found
  by external id, or by the ``match`` keys) and lives in ``imported/<format>.yaml``: the newer
  source replaces it; equal values are left alone, byte for byte.
* **observe** — a person wrote the record (any other file): it is never changed. What the
  source says goes into an observation (``observed/import-<format>.yaml``, merged into the
  record's ``observed`` on load) for servers and systems, and into the provenance file for
  other kinds. Where the source value differs from the person's value, a **conflict** is listed.
* **missing** — a record an earlier import created whose external id is no longer in the
  source: listed, never deleted.
* **incomplete** — the source does not state a field the inventory requires (a NetBox device
  has no CPU count): listed with the missing fields, not created.

Where each record came from (file, SHA-256, sheet, row, time) is kept per external id in
``imported/<format>.provenance.json`` (not an inventory file: the loader reads only YAML), so
records stay exactly what the source says and a re-import of the same file writes nothing.

References in ``values`` (``owner_org``, ``machine_room``, ``servers``, ``used_by``, ``from``,
``to`` …) may name a record by its id, by the external id of another record of the same parse,
or by a natural key: an organisation's name, short name or alias (2018 names too), a machine
room's / system's / database's name, a server's hostname or IP. One that names nothing is an
error; one that names a record of this import that is incomplete is dropped with a warning
(or makes a required reference's record incomplete too).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable

from govcloud.base.i18n import Msg
from govcloud.inventory.convert import record_converter
from govcloud.inventory.problems import Problem
from govcloud.inventory.writer import render_document, to_plain
from govcloud.interchange.records import ImportedRecord, ParseResult, Provenance, incomplete_why, incomplete_why_msg
from govcloud.model.entities import (
    LIST_SECTIONS, SECTION_BY_KEY, SECTIONS, InventoryMeta, Observation, kind_label, section_label, yaml_key,
)
from govcloud.model.enums import Items, Severity
from govcloud.model.ids import ID_DESCRIPTION, ID_MAX_LEN, digest8, id_problem, is_valid_id, safe_id
from govcloud.model.inventory import Inventory

E, W = Severity.error, Severity.warning
OBSERVABLE = ("servers", "systems")      # sections whose records carry `observed`
_STORE_OF_KIND = {s.kind: s.key for s in SECTIONS} | {"policy": "policies"}
_ID_KEY = {"regions": "code"}


def owned_file(fmt: str) -> str:
    return f"imported/{fmt}.yaml"


def provenance_file(fmt: str) -> str:
    return f"imported/{fmt}.provenance.json"


def observation_file(fmt: str) -> str:
    return f"observed/import-{fmt}.yaml"


# ---------------------------------------------------------------- result types


@dataclass
class Change:
    action: str                 # create | update | unchanged | observe | missing | incomplete | skipped
    section: str
    id: str | None
    external_id: str | None
    where: str | None           # provenance: file:sheet:row
    file: str | None            # the inventory file the record lives in (or will)
    fields: list[str] = field(default_factory=list)   # changed / observed / missing fields
    before: Any = None
    after: Any = None
    note: str | None = None
    # a record written incomplete (``census_missing``): the fields still to be supplied by discovery
    incomplete: list[str] = field(default_factory=list)
    # an incomplete record not imported: why, as records.INCOMPLETE_WHY key and parameters (``note`` in English)
    why: tuple[str, dict[str, str]] | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"action": self.action, "section": self.section, "id": self.id,
               "external_id": self.external_id, "source": self.where, "file": self.file,
               "fields": self.fields, "note": self.note}
        if self.incomplete:
            out["incomplete"] = self.incomplete
        return out


@dataclass
class Conflict:
    section: str
    id: str
    field: str
    inventory: Any      # what the person wrote
    source: Any         # what the imported file says
    where: str | None
    file: str | None

    def to_json(self) -> dict[str, Any]:
        return {"section": self.section, "id": self.id, "field": self.field,
                "inventory": _jsonable(self.inventory), "source": _jsonable(self.source),
                "where": self.where, "file": self.file}


@dataclass
class ChangeSet:
    format: str
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)   # inventory-relative path → new text (only those that differ)
    new_inventory: bool = False
    origin_of: dict[tuple[str, str], str] = field(default_factory=dict)  # (section, id) → provenance where

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def counts(self) -> dict[str, int]:
        out = {a: 0 for a in ("create", "update", "unchanged", "observe", "missing", "incomplete", "skipped")}
        for c in self.changes:
            out[c.action] = out.get(c.action, 0) + 1
        out["conflict"] = len(self.conflicts)
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.files)

    def audit_records(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Per-record before/after of what this import writes (for one audit entry)."""
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for c in self.changes:
            if c.action in ("create", "update", "observe") and (c.before is not None or c.after is not None):
                key = f"{c.section}/{c.id}"
                before[key] = _jsonable(c.before)
                after[key] = _jsonable(c.after)
        return before, after


# ---------------------------------------------------------------- helpers


def _jsonable(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples → lists, dates → text); as it is when it is so."""
    if value is None or _is_json(value):
        return value
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _is_json(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return value == value and value not in (float("inf"), float("-inf"))
    if kind is dict:
        return all(type(k) is str and _is_json(v) for k, v in value.items())
    if kind is list:
        return all(_is_json(v) for v in value)
    return False


def _at(prov: Provenance) -> tuple[str, int | None]:
    """A provenance as Problem file/line: ``file:sheet`` and the row (JSON index paths go in the file)."""
    file = prov.file + (f":{prov.sheet}" if prov.sheet else "")
    if isinstance(prov.row, int):
        return file, prov.row
    if prov.row is not None:
        return f"{file}:{prov.row}", None
    return file, None


def _problem(sev: Severity, code: str, message: str, rec: ImportedRecord, *, field: str | None = None,
             hint: str | None = None, entity_id: str | None = None) -> Problem:
    file, line = _at(rec.provenance)
    sec = SECTION_BY_KEY.get(rec.section)
    return Problem(sev, code, message, file=file, line=line, kind=sec.kind if sec else rec.section,
                   entity_id=entity_id or rec.external_id, field=field, hint=hint)


@cache
def _ref_fields(cls: type) -> dict[str, tuple[str, str, bool, bool]]:
    """YAML key → (attribute, referenced section, many, required) for the top-level references."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        ref = f.metadata.get("ref")
        if not ref:
            continue
        many = typing.get_origin(hints[f.name]) is tuple
        out[yaml_key(f.name)] = (f.name, _STORE_OF_KIND[ref], many, bool(f.metadata.get("required")))
    return out


@cache
def _required(cls: type) -> tuple[str, ...]:
    return tuple(yaml_key(f.name) for f in dataclasses.fields(cls) if f.metadata.get("required"))


def _attr(cls: type, key: str) -> str | None:
    for f in dataclasses.fields(cls):
        if yaml_key(f.name) == key:
            return f.name
    return None


_SLUG = re.compile(r"[^a-z0-9]+")


def derive_id(fmt: str, external_id: str) -> str:
    """A deterministic id from a source's key: ``netbox-vm-7``; text with no ASCII letters or
    digits (市政务服务网) becomes a short digest, ``census-3f2a9c1e``."""
    slug = _SLUG.sub("-", str(external_id).lower()).strip("-")[:48].strip("-")
    if not slug:
        slug = hashlib.sha256(str(external_id).encode("utf-8")).hexdigest()[:8]
    return f"{fmt}-{slug}"[:ID_MAX_LEN].rstrip("-")   # always a valid id (model/ids.py)


def _empty(value: Any) -> bool:
    return value is None or value == () or value == [] or value == {}


def _record_id(section: str, entity: Any) -> str:
    return entity.id


class _Natural:
    """Natural keys → ids over the inventory's records and this import's new ones."""

    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self._idx: dict[str, dict[tuple[str, str], list[str]]] = {}
        self.extra: dict[str, dict[tuple[str, str], list[str]]] = {}

    @staticmethod
    def keys_of(section: str, obj: Any) -> list[tuple[str, str]]:
        get = (obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d))
        out: list[tuple[str, str]] = []
        for key in ("name", "short_name"):
            v = get(key)
            if isinstance(v, str) and v:
                out.append(("name", v.strip()))
        for v in get("aliases") or ():
            if isinstance(v, str):
                out.append(("name", v.strip()))
        if section == "servers":
            h = get("hostname")
            if isinstance(h, str) and h:
                out.append(("hostname", h.strip().lower()))
            for ip in list(get("ips") or ()) + [get("mgmt_ip")]:
                if isinstance(ip, str) and ip:
                    out.append(("ip", ip.strip()))
        return out

    def _index(self, section: str) -> dict[tuple[str, str], list[str]]:
        idx = self._idx.get(section)
        if idx is None:
            idx = {}
            store = self.inv.section(section)
            if isinstance(store, dict):
                for eid, obj in store.items():
                    for k in self.keys_of(section, obj):
                        ids = idx.setdefault(k, [])
                        if eid not in ids:
                            ids.append(eid)
            self._idx[section] = idx
        return idx

    def add(self, section: str, eid: str, values: dict[str, Any]) -> None:
        idx = self.extra.setdefault(section, {})
        for k in self.keys_of(section, values):
            ids = idx.setdefault(k, [])
            if eid not in ids:
                ids.append(eid)

    def find(self, section: str, key: str, value: str, *, existing_only: bool = False) -> list[str]:
        if not isinstance(value, str):
            return []
        value = value.strip()
        if key == "id":
            store = self.inv.section(section)
            return [value] if isinstance(store, dict) and value in store else []
        norm = value.lower() if key == "hostname" else value
        if key in ("alias", "short_name"):
            key = "name"
        if section == "organizations" and key == "name":
            ids, _ = self.inv.resolve_org(value)
            found = list(ids)
        else:
            found = list(self._index(section).get((key, norm), ()))
        if not existing_only:
            for eid in self.extra.get(section, {}).get((key, norm), ()):
                if eid not in found:
                    found.append(eid)
        return found


@dataclass
class _Item:
    rec: ImportedRecord
    key: str                 # section/external_id
    owner: str               # new | owned | person | skip
    id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)   # references resolved
    missing: list[str] = field(default_factory=list)       # required fields the source does not state
    failed: bool = False


# ---------------------------------------------------------------- the change set


def compute(inv: Inventory, parsed: ParseResult, *, fmt: str, now: str,
            read_text: Callable[[str], str | None], new_inventory: bool = False,
            inventory_name: str | None = None) -> ChangeSet:
    """The change set of importing ``parsed`` into ``inv``. ``read_text(rel)`` returns the current
    text of an inventory file (or None); ``now`` is the ISO time stamped on new provenance.

    In phases (one method of :class:`_Import` each): who is each record (identify), what its
    references name (resolve), what it becomes — an import-owned record or an observation of a
    person's (records), what an earlier import wrote that the source no longer has (gone), and the
    files (files; none when there is an error)."""
    run = _Import(inv, parsed, fmt=fmt, now=now, read_text=read_text, new_inventory=new_inventory)
    run.identify(parsed.records)
    run.resolve()
    run.records()
    run.gone()
    if run.cs.errors:
        return run.cs
    run.files(new_inventory=new_inventory, inventory_name=inventory_name)
    return run.cs


class _Import:
    """One computation of a change set: the inputs, what the phases found so far, and the phases."""

    def __init__(self, inv: Inventory, parsed: ParseResult, *, fmt: str, now: str,
                 read_text: Callable[[str], str | None], new_inventory: bool = False) -> None:
        self.inv, self.fmt, self.now, self.read_text = inv, fmt, now, read_text
        self.cs = ChangeSet(fmt, new_inventory=new_inventory)
        self.cs.problems.extend(parsed.problems)
        self.owned, self.prov_rel, self.obs_rel = owned_file(fmt), provenance_file(fmt), observation_file(fmt)
        self.state = _read_state(read_text(self.prov_rel), self.prov_rel, self.cs)
        self.nat = _Natural(inv)
        # identify
        self.items: list[_Item] = []
        self.by_key: dict[str, _Item] = {}
        self.claimed: dict[tuple[str, str], _Item] = {}
        self.meta_rec: ImportedRecord | None = None
        # resolve
        self.live: list[_Item] = []
        self.ext_index: dict[str, dict[str, _Item]] = {}
        # records and gone
        self.owned_deps: list[Any] = []
        self.old_obs: dict[tuple[str, str], dict[str, Any]] = {}
        self.new_state: dict[str, Any] = {}
        self.out_records: dict[str, dict[str, Any]] = {}      # section → id → entity (import-owned file)
        self.out_obs: dict[tuple[str, str], dict[str, Any]] = {}
        self.obs_index: dict[tuple[str, str | None], Any] = {}

    def origin_file(self, section: str, eid: str) -> str | None:
        o = self.inv.origin.get((section, eid))
        return o[0] if o else None

    def exists(self, section: str, eid: str) -> bool:
        store = self.inv.section(section)
        if isinstance(store, dict):
            return eid in store
        return (section, eid) in self.inv.origin

    # ---------------------------------------------------------------- pass 1: who is each record?
    def identify(self, records: list[ImportedRecord]) -> None:
        for rec in records:
            if rec.section == "inventory":
                self.meta_rec = rec
                continue
            self._identify(rec)
        self.live = [it for it in self.items if it.owner != "skip"]
        for it in self.live:
            self.ext_index.setdefault(it.rec.section, {})[str(it.rec.external_id)] = it

    def _identify(self, rec: ImportedRecord) -> None:
        cs = self.cs
        sec = SECTION_BY_KEY.get(rec.section)
        if sec is None:
            cs.problems.append(_problem(E, "unknown-section", Msg("records of section '{section}' cannot be "
                                                                  "imported", section=rec.section), rec, hint=Msg("sections: {sections}", sections=", ".join(SECTION_BY_KEY))))
            return
        key = f"{rec.section}/{rec.external_id}"
        if key in self.by_key:
            first = self.by_key[key].rec.provenance.where()
            cs.problems.append(_problem(E, "duplicate-external-id", Msg("{kind} '{external_id}' appears twice in "
                                                                        "the source (first at {first})",
                                                                        kind=kind_label(sec.kind),
                                                                        external_id=rec.external_id, first=first), rec))
            return
        item = _Item(rec, key, "new")
        self.by_key[key] = item
        self.items.append(item)
        target: str | None = None
        st = self.state.get(key)
        if st and self.exists(rec.section, st.get("id", "")):
            target = st["id"]
        else:
            hits = self._matches(rec)
            if len(hits) > 1:
                item.owner = "skip"
                cs.problems.append(_problem(W, "ambiguous-match", Msg("{kind} '{external_id}' matches several "
                                                                      "records: {hits}; not imported",
                                                                      kind=kind_label(sec.kind),
                                                                      external_id=rec.external_id,
                                                                      hits=', '.join(hits)), rec,
                                            hint=Msg("make the names/addresses unique, or give the record the id")))
                cs.changes.append(Change("skipped", rec.section, None, rec.external_id, rec.provenance.where(),
                                         None, note=Msg("matches {records}", records=", ".join(hits))))
                return
            if hits:
                target = hits[0]
        if target is not None:
            item.id = target
            item.owner = "owned" if self.origin_file(rec.section, target) == self.owned else "person"
        else:
            item.id = _new_id(self.fmt, rec, self.claimed, self.exists)
            proposed = rec.values.get(_ID_KEY.get(rec.section, "id"))
            if rec.section not in LIST_SECTIONS and isinstance(proposed, str) and proposed != item.id \
                    and not is_valid_id(proposed) and rec.section not in _ID_KEY:
                cs.problems.append(_problem(W, "id-mapped", Msg("{kind} id {proposed!r:.80} is not a valid id "
                                                                "({why}); imported as {id}", kind=kind_label(sec.kind),
                                                                proposed=proposed, why=id_problem(proposed),
                                                                id=item.id), rec,
                                            field="id", hint=ID_DESCRIPTION))
        ckey = _claim_id(rec.section, item.id, rec.values)
        if (rec.section, ckey) in self.claimed:
            other = self.claimed[(rec.section, ckey)]
            item.owner = "skip"
            cs.problems.append(_problem(W, "same-target", Msg("{kind} '{external_id}' and '{other_id}' ({where}) "
                                                              "are the same record {id}; the second is not imported",
                                                              kind=kind_label(sec.kind), external_id=rec.external_id,
                                                              other_id=other.rec.external_id,
                                                              where=other.rec.provenance.where(), id=item.id), rec))
            cs.changes.append(Change("skipped", rec.section, item.id, rec.external_id, rec.provenance.where(),
                                     None, note=Msg("same record as {other_id}", other_id=other.rec.external_id)))
            return
        self.claimed[(rec.section, ckey)] = item
        if item.owner == "new":
            self.nat.add(rec.section, item.id, rec.values)
        if item.owner in ("new", "owned"):
            waived = rec.values.get("census_missing") or ()     # a census record discovery is to complete
            item.missing = [k for k in _required(sec.cls)
                            if k != _ID_KEY.get(rec.section, "id") and _empty(rec.values.get(k)) and k not in waived]

    def _matches(self, rec: ImportedRecord) -> list[str]:
        """The inventory's records ``rec`` is, by its natural keys (a list section: by its own id)."""
        hits: list[str] = []
        for mk, mv in rec.match:
            for h in self.nat.find(rec.section, mk, mv, existing_only=True):
                if h not in hits:
                    hits.append(h)
        if rec.section in LIST_SECTIONS:
            dep_id = _list_id(rec.section, rec.values)
            if dep_id and self.exists(rec.section, dep_id):
                hits = [dep_id]
        return hits

    # ---------------------------------------------------------------- pass 2: references → ids
    def lookup(self, section: str, value: Any) -> tuple[str, Any]:
        """('ok', id) | ('incomplete', item) | ('ambiguous', ids) | ('none', None)"""
        if not isinstance(value, str):
            return "none", None
        hit = self.ext_index.get(section, {}).get(value)
        if hit is not None:
            return ("incomplete", hit) if hit.missing else ("ok", hit.id)
        if (section, value) in self.claimed or self.exists(section, value):
            it = self.claimed.get((section, value))
            if it is not None and it.missing:
                return "incomplete", it
            return "ok", value
        keys = {"servers": ("hostname", "ip"), "regions": ("name",)}.get(section, ("name",))
        found: list[str] = []
        for k in keys:
            for h in self.nat.find(section, k, value):
                if h not in found:
                    found.append(h)
        if len(found) == 1:
            it = self.claimed.get((section, found[0]))
            if it is not None and it.missing:
                return "incomplete", it
            return "ok", found[0]
        if found:
            return "ambiguous", found
        return "none", None

    def resolve(self) -> None:
        """References → ids. A required reference to an incomplete record makes the referring record
        incomplete too: iterate until nothing changes; then resolve every record's references."""
        self._soft_required()
        changed = True
        while changed:
            changed = False
            for it in self.live:
                if it.missing or it.owner not in ("new", "owned"):
                    continue
                for key, (_attr_name, target, many, required) in _ref_fields(SECTION_BY_KEY[it.rec.section].cls).items():
                    v = it.rec.values.get(key)
                    if required and not many and v is not None and self.lookup(target, v)[0] == "incomplete":
                        it.missing.append(Msg("{field} (→ incomplete {record})", field=key,
                                             record=self.lookup(target, v)[1].rec.external_id))
                        changed = True
                        break
        for it in self.live:
            it.values = self._resolved(it)

    def _soft_required(self) -> None:
        """A required reference the source names but defines nowhere (soft): the record is incomplete."""
        for it in self.live:
            if it.owner not in ("new", "owned") or not it.rec.soft_refs:
                continue
            for key, (_attr_name, target, many, required) in _ref_fields(SECTION_BY_KEY[it.rec.section].cls).items():
                v = it.rec.values.get(key)
                if key in it.rec.soft_refs and required and not many and not _empty(v) and \
                        self.lookup(target, v)[0] == "none":
                    it.missing.append(Msg("{field} ('{value}' is in neither the file nor the inventory)", field=key,
                                          value=v))

    def _resolved(self, it: _Item) -> dict[str, Any]:
        """The record's values with every reference replaced by the id it names (or left out)."""
        rec = it.rec
        values = dict(rec.values)
        for key, (_a, target, many, _req) in _ref_fields(SECTION_BY_KEY[rec.section].cls).items():
            v = values.get(key)
            if _empty(v):
                continue
            seq = list(v) if many and isinstance(v, (list, tuple)) else None
            if many and seq is None:
                seq = [v]
            out_vals = [got for one in (seq if seq is not None else [v])
                        if (got := self._reference(it, key, target, one, required=_req and not many)) is not None]
            if seq is not None:
                values[key] = out_vals
            elif out_vals:
                values[key] = out_vals[0]
            else:
                values.pop(key, None)
        return values

    def _reference(self, it: _Item, key: str, target: str, one: Any, *, required: bool) -> str | None:
        """The id one reference names, or None (with the problem it is)."""
        rec, cs = it.rec, self.cs
        status, got = self.lookup(target, one)
        if status == "ok":
            return got
        if status == "incomplete":
            if not it.missing:
                cs.problems.append(_problem(W, "reference-incomplete", Msg("{key} '{value}' is a record of this "
                                                                           "import that is incomplete ({missing}); "
                                                                           "the reference is left out", key=key,
                                                                           value=one, missing=Items(got.missing)), rec, field=key))
        elif status == "ambiguous":
            it.failed = True
            cs.problems.append(_problem(E, "ambiguous-reference", Msg("{key} '{value}' names several {kind}: "
                                                                      "{matches}", key=key, value=one,
                                                                      kind=section_label(target),
                                                                      matches=', '.join(got)), rec, field=key,
                                        hint=Msg("use the id")))
        elif key in rec.soft_refs:
            # named by the source, defined neither in it nor in the inventory: left out
            if not required:     # a required one made the record incomplete above
                cs.problems.append(_problem(W, "unresolved-reference", Msg("{key} '{value}' matches no {kind} in "
                                                                           "the inventory or in this file; the "
                                                                           "reference is left out", key=key, value=one,
                                                                           kind=kind_label(SECTION_BY_KEY[target].kind)), rec,
                                            field=key, hint=Msg("add it to the inventory first, or import the file "
                                                                "that defines it")))
        else:
            it.failed = True
            cs.problems.append(_problem(E, "unresolved-reference", Msg("{key} '{value}' matches no {kind} in the "
                                                                       "inventory or in this file", key=key, value=one,
                                                                       kind=kind_label(SECTION_BY_KEY[target].kind)), rec, field=key,
                                        hint=Msg("add it to the inventory first, or correct the name")))
        return None

    # ---------------------------------------------------------------- pass 3: records and observations
    def records(self) -> None:
        self.owned_deps = _owned_dependencies(self.read_text(self.owned))
        self.old_obs = _read_observations(self.read_text(self.obs_rel))
        for it in self.live:
            if it.failed:
                continue
            if it.owner in ("new", "owned") and it.missing:
                self._incomplete(it)
            elif it.owner in ("new", "owned"):
                self._own(it)
            else:
                self._observe(it)

    def _incomplete(self, it: _Item) -> None:
        rec = it.rec
        kind, missing = kind_label(SECTION_BY_KEY[rec.section].kind), Items(it.missing)
        why = incomplete_why_msg(rec.incomplete_why)
        message = Msg("{kind} '{external_id}' is not imported: the source does not state {missing} ({why})",
                      kind=kind, external_id=rec.external_id, missing=missing, why=why) if why else \
            Msg("{kind} '{external_id}' is not imported: the source does not state {missing}",
                kind=kind, external_id=rec.external_id, missing=missing)
        self.cs.problems.append(_problem(W, "incomplete", message,
                                         rec, field=it.missing[0].split(" ")[0],
                                         hint=Msg("add the field in the source, or write the record by hand (a "
                                                  "re-import then observes it)")))
        self.cs.changes.append(Change("incomplete", rec.section, None, rec.external_id, rec.provenance.where(), None,
                                      fields=list(it.missing), note=incomplete_why(rec.incomplete_why),
                                      why=rec.incomplete_why))

    def _own(self, it: _Item) -> None:
        """A record this import creates or (written by an earlier import) updates."""
        rec, cs, owned = it.rec, self.cs, self.owned
        sec = SECTION_BY_KEY[rec.section]
        where = rec.provenance.where()
        raw = dict(it.values)
        if rec.section not in LIST_SECTIONS:
            raw[_ID_KEY.get(rec.section, "id")] = it.id
        if rec.extra and rec.section in OBSERVABLE:
            raw["observed"] = _jsonable({"source": f"import:{self.fmt}", **rec.extra})
        entity, errs = _convert(sec.cls, raw, rec)
        if errs:
            cs.problems.extend(errs)
            return
        eid = entity.id
        if rec.section in LIST_SECTIONS:
            it.id = eid
        after = to_plain(entity)
        pending = [m.value for m in getattr(entity, "census_missing", ())]
        entry = {"section": rec.section, "id": eid, "external_id": rec.external_id,
                 "provenance": rec.provenance.to_plain(), "imported_at": self.now}
        if rec.extra:
            entry["extra"] = _jsonable(rec.extra)
        cs.origin_of[(rec.section, eid)] = where
        old = self._earlier(it, eid, entity) if it.owner == "owned" else None
        if old is not None:
            before = to_plain(old)
            if _jsonable(before) == _jsonable(after):
                self.out_records.setdefault(rec.section, {})[_claim_id(rec.section, eid, it.values)] = old
                cs.changes.append(Change("unchanged", rec.section, eid, rec.external_id, where, owned,
                                         incomplete=pending))
                self.new_state[it.key] = _revived(self.state.get(it.key)) or entry
                return
            fields = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            cs.changes.append(Change("update", rec.section, eid, rec.external_id, where, owned,
                                     fields=fields, before=before, after=after, incomplete=pending))
        else:
            cs.changes.append(Change("create", rec.section, eid, rec.external_id, where, owned,
                                     fields=sorted(after), after=after, incomplete=pending))
        self.out_records.setdefault(rec.section, {})[_claim_id(rec.section, eid, it.values)] = entity
        self.new_state[it.key] = entry

    def _earlier(self, it: _Item, eid: str, entity: Any) -> Any:
        """What an earlier import wrote for this record, or None."""
        section = it.rec.section
        if section == "dependencies":
            return next((d for d in self.owned_deps if d.id == eid and d.type.value == it.values.get("type")), None)
        if section == "observations":   # several per source and target: by collection time
            if not self.obs_index:
                self.obs_index.update(((o.id, o.collected_at), o) for o in reversed(self.inv.observations))
            return self.obs_index.get((eid, entity.collected_at))
        return _existing(self.inv, section, eid)

    def _observe(self, it: _Item) -> None:
        """A person's record: observe, never change."""
        rec, cs, fmt, now = it.rec, self.cs, self.fmt, self.now
        sec = SECTION_BY_KEY[rec.section]
        where = rec.provenance.where()
        person = _existing(self.inv, rec.section, it.id)
        pfile = self.origin_file(rec.section, it.id)
        facts, conflicts, errs = _observe(sec.cls, person, it.values, rec)
        if errs:
            cs.problems.extend(errs)
            return
        for fkey, mine, theirs in conflicts:
            cs.conflicts.append(Conflict(rec.section, it.id, fkey, mine, theirs, where, pfile))
        facts = dict(facts)
        if rec.extra:
            facts.update(rec.extra)
        facts = _jsonable(facts)
        prev_entry = self.state.get(it.key) or {}
        note = Msg("{count} conflict(s)", count=len(conflicts)) if conflicts else None
        if rec.section in OBSERVABLE:
            tkey = ("server" if rec.section == "servers" else "system", it.id)
            prev = self.old_obs.get(tkey)
            same = prev is not None and _strip_import(prev.get("facts")) == facts
            facts_full = dict(facts, _import={"format": fmt, "external_id": rec.external_id,
                                              "provenance": rec.provenance.to_plain()})
            obs = prev if same else {"source": f"import:{fmt}", tkey[0]: it.id, "collected_at": now,
                                     "facts": facts_full}
            self.out_obs[tkey] = obs
            entry = {"section": rec.section, "id": it.id, "external_id": rec.external_id,
                     "provenance": rec.provenance.to_plain(), "imported_at": now, "observed_in": self.obs_rel}
            self.new_state[it.key] = _revived(prev_entry) if same and prev_entry else entry
            cs.changes.append(Change("unchanged" if same else "observe", rec.section, it.id, rec.external_id,
                                     where, self.obs_rel if not same else pfile, fields=sorted(facts),
                                     before=None if same else (prev or {}).get("facts"),
                                     after=None if same else facts_full, note=note))
        else:
            same = prev_entry.get("observed") == facts
            entry = {"section": rec.section, "id": it.id, "external_id": rec.external_id,
                     "provenance": rec.provenance.to_plain(), "imported_at": now, "observed": facts}
            self.new_state[it.key] = _revived(prev_entry) if same else entry
            cs.changes.append(Change("unchanged" if same else "observe", rec.section, it.id, rec.external_id,
                                     where, self.prov_rel if not same else pfile, fields=sorted(facts),
                                     before=None if same else prev_entry.get("observed"),
                                     after=None if same else facts, note=note))

    # ---------------------------------------------------------------- what the source no longer has
    def gone(self) -> None:
        """Records an earlier import wrote that the source no longer has: listed, kept."""
        cs, state, now, owned = self.cs, self.state, self.now, self.owned
        seen_ids = {(it.rec.section, it.id) for it in self.live}
        seen_claims = {(it.rec.section, _claim_id(it.rec.section, it.id, it.values)) for it in self.live if it.id}
        kept: list[tuple[str, str, Any]] = []
        for (section, eid), (file, _index) in sorted(self.inv.origin.items(),
                                                     key=lambda kv: (kv[0][0], str(kv[0][1]))):
            if file != owned or section == "dependencies" or (section, eid) in seen_ids:
                continue
            kept.append((section, eid, _existing(self.inv, section, eid)))
        for dep in self.owned_deps:
            if ("dependencies", _claim_id("dependencies", dep.id, {"type": dep.type.value})) not in seen_claims:
                kept.append(("dependencies", dep.id, dep))
        ext_of = {(v.get("section"), v.get("id")): k.split("/", 1)[1] for k, v in state.items() if isinstance(v, dict)}
        for section, eid, old in kept:
            if old is None:
                continue
            ck = _claim_id(section, eid, {"type": getattr(getattr(old, "type", None), "value", None)})
            self.out_records.setdefault(section, {}).setdefault(ck, old)
            ext = ext_of.get((section, eid))
            cs.changes.append(Change("missing", section, eid, ext, None, owned, note=Msg("no longer in the source; kept")))
            skey = f"{section}/{ext}" if ext is not None else None
            if skey and skey in state:
                entry = dict(state[skey])
                entry.setdefault("missing_since", now)
                self.new_state[skey] = entry
        for tkey, obs in self.old_obs.items():
            if tkey not in self.out_obs:
                self.out_obs[tkey] = obs
                cs.changes.append(Change("missing", "servers" if tkey[0] == "server" else "systems", tkey[1],
                                         (obs.get("facts") or {}).get("_import", {}).get("external_id"), None,
                                         self.obs_rel,
                                         note=Msg("observed before, no longer in the source; observation kept")))
        for skey, entry in state.items():     # anything else an earlier import saw that is gone now
            if skey not in self.new_state:
                e = dict(entry)
                e.setdefault("missing_since", now)
                self.new_state[skey] = e

    # ---------------------------------------------------------------- the files
    def files(self, *, new_inventory: bool, inventory_name: str | None) -> None:
        cs, fmt, read_text = self.cs, self.fmt, self.read_text
        header = (f"written by `govcloud inventory import --format {fmt}` — records this import created; "
                  "rewritten by each import of this format.\nTo take a record over, move it into your own file: "
                  "later imports then only observe it.")
        sections: dict[str, list[Any]] = {}
        for s in SECTIONS:
            recs = self.out_records.get(s.key)
            if recs:
                sections[s.key] = [recs[k] for k in sorted(recs)]
        _put(cs, read_text, self.owned, render_document(sections, style="lines", header=header) if sections else None)
        if self.out_obs:
            obs_list = [Observation(**{k: v for k, v in o.items() if k in ("source", "server", "system",
                                                                             "collected_at", "facts")})
                        for _, o in sorted(self.out_obs.items())]
            _put(cs, read_text, self.obs_rel, render_document(
                {"observations": obs_list}, style="lines",
                header=f"written by `govcloud inventory import --format {fmt}` — what the source says about "
                       "records people wrote; merged into their `observed` on load, never into their fields"))
        if self.new_state:
            _put(cs, read_text, self.prov_rel, _render_state(fmt, self.new_state))
        # a new inventory gets its inventory.yaml only with something in it: an import that creates
        # nothing (every record incomplete, a refused template) leaves an empty directory empty
        meta_rec = self.meta_rec
        if new_inventory and (cs.files or meta_rec is not None):
            meta = None
            if meta_rec is not None:
                meta, errs = _convert(InventoryMeta, dict(meta_rec.values), meta_rec)
                cs.problems.extend(errs)
            if meta is None:
                meta = InventoryMeta(name=inventory_name or "inventory")
            if "inventory.yaml" not in cs.files:
                cs.files["inventory.yaml"] = render_document({"inventory": meta}, style="block")
                cs.changes.append(Change("create", "inventory", meta.name, None,
                                         meta_rec.provenance.where() if meta_rec else None, "inventory.yaml",
                                         after=to_plain(meta)))


def _revived(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A provenance entry of a record that is in the source again."""
    if entry and "missing_since" in entry:
        return {k: v for k, v in entry.items() if k != "missing_since"}
    return entry


def _put(cs: ChangeSet, read_text: Callable[[str], str | None], rel: str, text: str | None) -> None:
    if text is None:
        return
    if read_text(rel) != text:
        cs.files[rel] = text


def _owned_dependencies(text: str | None) -> list[Any]:
    """The dependencies of the import-owned file (the loader indexes only the first per from->to)."""
    if not text:
        return []
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    try:
        doc = json.loads(body)
    except ValueError:
        return []
    from govcloud.model.entities import Dependency
    conv = record_converter(Dependency)
    out = []
    for raw in (doc or {}).get("dependencies") or []:
        errs: list = []
        dep = conv(raw, (), None, lambda *a, **k: errs.append(a))
        if not errs:
            out.append(dep)
    return out


def _claim_id(section: str, eid: str, values: dict[str, Any]) -> str:
    """The key one record takes: its id; for dependencies (no id of their own) from->to plus type."""
    if section == "dependencies":
        return f"{eid}|{values.get('type')}"
    if section == "observations":
        return f"{eid}|{values.get('collected_at')}"
    return eid


def _list_id(section: str, values: dict[str, Any]) -> str | None:
    """The id a record of a list section would have: from->to, or an observation's source:target."""
    if section == "observations":
        src, target = values.get("source"), values.get("server") or values.get("system")
        return f"{src}:{target}" if isinstance(src, str) and isinstance(target, str) else None
    return _dependency_id(values)


def _dependency_id(values: dict[str, Any]) -> str | None:
    f, t = values.get("from"), values.get("to")
    return f"{f}->{t}" if isinstance(f, str) and isinstance(t, str) else None


def _existing(inv: Inventory, section: str, eid: str) -> Any:
    store = inv.section(section)
    if isinstance(store, dict):
        return store.get(eid)
    for obj in store:
        if obj.id == eid:
            return obj
    return None


def _new_id(fmt: str, rec: ImportedRecord, claimed: dict, exists: Callable[[str, str], bool]) -> str:
    if rec.section in LIST_SECTIONS:
        return _dependency_id(rec.values) or derive_id(fmt, rec.external_id)
    key = _ID_KEY.get(rec.section, "id")
    proposed = rec.values.get(key)
    if isinstance(proposed, str) and proposed and (key == "code" or is_valid_id(proposed)) \
            and not exists(rec.section, proposed) and (rec.section, proposed) not in claimed:
        return proposed
    base = derive_id(fmt, rec.external_id)
    eid = base
    if exists(rec.section, eid) or (rec.section, eid) in claimed:
        # two source names that slug alike (web/01, web 01): a digest of the original tells them apart
        taken = _Taken(rec.section, claimed, exists)
        eid = f"{base}-{digest8(str(rec.external_id))}"
        if len(eid) > ID_MAX_LEN or eid in taken:
            eid = safe_id(f"{base}\0{rec.external_id}", taken=taken)
    return eid


class _Taken:
    """``id in taken``: an id of this section already in the inventory or claimed by this import."""

    def __init__(self, section: str, claimed: dict, exists: Callable[[str, str], bool]) -> None:
        self.section, self.claimed, self.exists = section, claimed, exists

    def __contains__(self, eid: object) -> bool:
        return isinstance(eid, str) and (self.exists(self.section, eid) or (self.section, eid) in self.claimed)


def _convert(cls: type, raw: dict[str, Any], rec: ImportedRecord) -> tuple[Any, list[Problem]]:
    errs: list[Problem] = []

    def sink(path: tuple, code: str, message: str, hint: str | None = None, warning: bool = False,
             field: str | None = None) -> None:
        fld = field or next((p for p in reversed(path) if isinstance(p, str)), None)
        errs.append(_problem(W if warning else E, code, message, rec, field=fld, hint=hint))

    entity = record_converter(cls)(raw, (), None, sink)
    return entity, [p for p in errs]


def _observe(cls: type, person: Any, values: dict[str, Any], rec: ImportedRecord
             ) -> tuple[dict[str, Any], list[tuple[str, Any, Any]], list[Problem]]:
    """The source's values normalised through the model, and the fields where they differ from
    what the person wrote (a person's empty field is not a conflict: the value is only observed)."""
    mine_plain = to_plain(person)
    raw = dict(mine_plain)
    # ``census_missing`` marks what the source could not state: about the source, not the record
    values = {k: v for k, v in values.items() if k != "census_missing"}
    raw.update({k: v for k, v in values.items() if k not in ("id", "code", "observed")})
    merged, errs = _convert(cls, raw, rec)
    errs = [p for p in errs if p.is_error]
    if errs:
        return {}, [], errs
    facts: dict[str, Any] = {}
    conflicts = []
    for key in values:
        if key in ("id", "code", "observed"):
            continue
        attr = _attr(cls, key)
        if attr is None:
            continue
        theirs = _jsonable(to_plain(getattr(merged, attr)))
        mine = _jsonable(to_plain(getattr(person, attr)))
        facts[key] = theirs
        if theirs != mine and not _empty(mine) and not _empty(theirs):
            conflicts.append((key, mine, theirs))
    return facts, conflicts, []


def _strip_import(facts: Any) -> Any:
    if not isinstance(facts, dict):
        return facts
    return {k: v for k, v in facts.items() if k != "_import"}


def _render_state(fmt: str, records: dict[str, Any]) -> str:
    """The provenance file: JSON, one record per line (json's C encoder; ``indent=`` would take
    the pure-Python one, ~2 s for 10,000 records)."""
    head = json.dumps({"format": fmt, "about": "where each imported record came from (file, sha256, "
                       "sheet, row) — written by govcloud inventory import; not an inventory file"},
                      ensure_ascii=False)
    lines = ",\n".join(f" {json.dumps(k, ensure_ascii=False)}: {json.dumps(records[k], ensure_ascii=False, default=str)}"
                       for k in sorted(records))
    return head[:-1] + ',\n"records": {\n' + lines + "\n}}\n"


def _read_state(text: str | None, rel: str, cs: ChangeSet) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
        records = data["records"]
        if not isinstance(records, dict):
            raise TypeError
        return records
    except (ValueError, KeyError, TypeError):
        cs.problems.append(Problem(E, "provenance-unreadable", Msg("{rel} is damaged; cannot tell which records "
                                                                   "earlier imports created", rel=rel), file=rel,
                                   hint=Msg("restore it from version control or a backup")))
        return {}


def _read_observations(text: str | None) -> dict[tuple[str, str], dict[str, Any]]:
    if not text:
        return {}
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    if doc is None:
        import yaml
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            return {}
    out = {}
    for o in (doc or {}).get("observations") or []:
        if isinstance(o, dict):
            if o.get("server"):
                out[("server", o["server"])] = o
            elif o.get("system"):
                out[("system", o["system"])] = o
    return out
