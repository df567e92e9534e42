"""Labels for everything the renderers print that is not an enum (enums carry their own)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from govcloud.model.enums import LabeledEnum
from govcloud.base.i18n import tr, zh_en

LANGS = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "id": zh_en("id"),
    "name": zh_en("name"),
    "value": zh_en("value"),
    "yes": zh_en("yes"),
    "no": zh_en("no"),
    "hostname": zh_en("hostname"),
    "owner_org": zh_en("owner"),
    "org": zh_en("department"),
    "aliases": zh_en("aliases"),
    "successors": zh_en("successors"),
    "org_type": zh_en("type"),
    "room_type": zh_en("room type"),
    "machine_room": zh_en("machine room"),
    "status": zh_en("status"),
    "secrecy": zh_en("secrecy"),
    "build_mode": zh_en("build mode"),
    "lifecycle": zh_en("lifecycle"),
    "mlps_level": zh_en("MLPS"),
    "network_zone": zh_en("network"),
    "servers": zh_en("servers"),
    "systems": zh_en("systems"),
    "cpu_arch": zh_en("CPU arch"),
    "os": zh_en("OS"),
    "os_eol": zh_en("OS EOL"),
    "cores": zh_en("cores"),
    "ram_gb": zh_en("RAM GB"),
    "disk_gb": zh_en("disk GB"),
    "engine": zh_en("engine"),
    "used_by": zh_en("used by"),
    "from": zh_en("from"),
    "to": zh_en("to"),
    "type": zh_en("type", ctx='i18n:type'),
    "latency_sensitive": zh_en("latency-sensitive"),
    "platform": zh_en("platform"),
    "accepts_classified": zh_en("classified OK"),
    "capacity": zh_en("capacity"),
    "count": zh_en("count"),
    "share": zh_en("share"),
    "organizations": zh_en("organisations"),
    "machine_rooms": zh_en("machine rooms"),
    "databases": zh_en("databases"),
    "dependencies": zh_en("dependencies"),
    "resources": zh_en("resources"),
    "cloud_zones": zh_en("cloud zones"),
    "orphan_servers": zh_en("orphan servers"),
    "eol_os_servers": zh_en("servers on an end-of-life OS"),
    "incomplete_servers": zh_en("servers with an incomplete census (for discover)"),
    "total_cores": zh_en("total cores"),
    "total_ram_gb": zh_en("total RAM (GB)"),
    "total_disk_gb": zh_en("total disk (GB)"),
    "by_department": zh_en("by department"),
    "by_mlps_level": zh_en("by MLPS level"),
    "by_secrecy": zh_en("by secrecy"),
    "by_build_mode": zh_en("by build mode"),
    "by_lifecycle": zh_en("by lifecycle"),
    "by_network_zone": zh_en("by network zone"),
    "by_os": zh_en("by OS version"),
    "by_os_distribution": zh_en("by OS"),
    "by_cpu_arch": zh_en("by CPU architecture"),
    "by_room": zh_en("by machine room"),
    "summary": zh_en("summary"),
    "severity": zh_en("severity"),
    "code": zh_en("code"),
    "where": zh_en("where"),
    "field": zh_en("field"),
    "message": zh_en("message"),
    "hint": zh_en("hint"),
    "unknown": zh_en("unknown"),
    "downtime": zh_en("downtime"),
    "projected_downtime": zh_en("projected downtime"),
    "replication": zh_en("replication"),
    "approved_window": zh_en("approved window"),
    "over_window": zh_en("over the approved window"),
    "forced": zh_en("forced"),
    "last_delta": zh_en("last delta"),
    "files": zh_en("files"),
    "convergence": zh_en("deltas"),
    "conv_converged": zh_en("converged (nothing changed)"),
    "conv_converging": zh_en("converging"),
    "conv_not_converging": zh_en("not converging (delta grew)"),
    # progress phases (render/progress.py), shown on stderr on a terminal
    "progress.load": zh_en("reading inventory files"),
    "progress.validate": zh_en("validating the inventory"),
    "progress.export.tables": zh_en("building export tables"),
    "progress.export.rows": zh_en("writing rows"),
    "progress.export.manifest": zh_en("writing the manifest"),
    "progress.import.read": zh_en("reading the import file"),
    "progress.import.records": zh_en("building the records"),
    "progress.import.changes": zh_en("computing the change set"),
    "progress.import.validate": zh_en("validating the would-be inventory"),
    "progress.import.write": zh_en("writing the inventory"),
    "progress.discover.hosts": zh_en("discovering hosts"),
    "progress.plan.build": zh_en("planning"),
    "progress.plan.check": zh_en("checking the hard rules"),
    "progress.plan.write": zh_en("writing the plan"),
    "progress.report.inputs": zh_en("reading the plan and inventory"),
    "progress.report.render": zh_en("rendering the report"),
    "progress.compliance.hosts": zh_en("collecting host facts"),
    "progress.migrate.snapshot": zh_en("reading the cloud"),
    "progress.migrate.systems": zh_en("systems", ctx='i18n:progress.migrate.systems'),
    "progress.migrate.steps": zh_en("system"),
    "progress.generate.build": zh_en("generating the synthetic inventory"),
    "progress.generate.write": zh_en("writing the synthetic inventory"),
}


def t(key: str, lang: str) -> str:
    zh, en = LABELS.get(key, (key, key))
    return zh if lang == "zh" else en


def label(value: Any, lang: str) -> str:
    """An enum member (or its key) shown in the chosen language; other values as text."""
    if isinstance(value, LabeledEnum):
        return value.label(lang)
    if isinstance(value, Enum):
        return str(value.value)
    return "" if value is None else str(value)


def enum_label(enum_cls: type[LabeledEnum], key: str | None, lang: str) -> str:
    if key is None or key == "unknown":
        return t("unknown", lang)
    member = enum_cls.lookup().get(key)
    return member.label(lang) if member else key


def localized(table: Any, lang: str) -> Any:
    """A table of marked texts (``N_``) in ``lang``: nested dicts, lists and tuples keep their shape,
    each text is translated; a value that is not text (a number, a colour) is kept."""
    if isinstance(table, dict):
        return {k: localized(v, lang) for k, v in table.items()}
    if isinstance(table, (list, tuple)):
        return type(table)(localized(v, lang) for v in table)
    if isinstance(table, str):
        return tr(table, lang)
    return table
