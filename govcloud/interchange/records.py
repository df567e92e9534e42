"""What every importer produces: records in the inventory's own vocabulary, each with where
it came from. Parsers never touch the inventory; ``changeset`` decides what the records mean
for it (create, update an imported record, observe a person's record, conflict)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from govcloud.base.i18n import Msg, N_, tr
from govcloud.inventory.problems import Problem


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one record came from: the file (its name and SHA-256), the sheet and the 1-based
    row as a spreadsheet user would count it (the header row is row 1), or for JSON the index
    path such as ``results[3]``."""

    file: str
    sha256: str
    sheet: str | None = None
    row: int | str | None = None

    def where(self) -> str:
        parts = [self.file]
        if self.sheet:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"row {self.row}" if isinstance(self.row, int) else str(self.row))
        return ":".join(parts)

    def to_plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "sha256": self.sha256}
        if self.sheet:
            out["sheet"] = self.sheet
        if self.row is not None:
            out["row"] = self.row
        return out


@dataclass(slots=True)
class ImportedRecord:
    """One entity as the source describes it.

    ``section`` is an inventory section key (``servers``, ``machine_rooms``, ``organizations``,
    ``systems``, ``databases``, ``dependencies``). ``values`` uses the entity's field names and
    plain values (enum *values*, ISO dates as text, lists for tuples); only what the source
    actually states — absent is absent, never a guessed default. ``external_id`` is the source's
    own stable key (VM UUID, NetBox object id, Ansible host name …) so a newer file updates the
    same record. ``match`` lists natural keys that find a record a person already wrote:
    ``("hostname", "web01")``, ``("ip", "198.18.1.5")``, ``("name", "市政务服务网")``.
    """

    section: str
    external_id: str
    values: dict[str, Any]
    provenance: Provenance
    match: tuple[tuple[str, str], ...] = ()
    # facts that have no field in the model (e.g. RVTools power state, NetBox status) — kept in
    # the observation so nothing the source said is lost
    extra: dict[str, Any] = field(default_factory=dict)
    # references in ``values`` the source states by a name it does not define itself (a NetBox
    # site's tenant when the capture has no tenants file): when nothing in the inventory has that
    # name, the reference is left out with a warning — a required one makes the record
    # incomplete — instead of refusing the whole import
    soft_refs: tuple[str, ...] = ()
    # why the record lacks what it lacks, when the parser knows (an Ansible host with no address to
    # discover it at): a key of INCOMPLETE_WHY and its parameters, added to the "incomplete (not
    # imported)" line
    incomplete_why: tuple[str, dict[str, str]] | None = None


# why an importer could not make a record even an incomplete one: templates in the catalog
INCOMPLETE_WHY: dict[str, str] = {
    "no-address-host": N_("no address to discover it at: ansible_host {host} is neither a server's IP address "
                          "nor a host name"),
    "no-address": N_("no address to discover it at: no ansible_host, and the inventory name is neither a "
                     "server's IP address nor a host name"),
}


def incomplete_why(why: tuple[str, dict[str, str]] | None, lang: str = "en") -> str | None:
    """``ImportedRecord.incomplete_why`` in words (``en`` or ``zh``)."""
    if why is None:
        return None
    key, params = why
    template = INCOMPLETE_WHY.get(key)
    return tr(template, lang).format(**params) if template else key


def incomplete_why_msg(why: tuple[str, dict[str, str]] | None) -> str | None:
    """``ImportedRecord.incomplete_why`` as a message a renderer shows in the user's language."""
    if why is None:
        return None
    key, params = why
    if key == "no-address-host":
        return Msg("no address to discover it at: ansible_host {host} is neither a server's IP address "
                   "nor a host name", host=params.get("host"))
    if key == "no-address":
        return Msg("no address to discover it at: no ansible_host, and the inventory name is neither a "
                   "server's IP address nor a host name")
    return key


@dataclass(slots=True)
class ParseResult:
    """A parser's whole output. Problems carry file and (sheet:)row in ``file``/``line`` and the
    column header in ``field``; every problem in the file is reported, not only the first."""

    format: str
    records: list[ImportedRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]
