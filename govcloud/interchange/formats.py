"""The import formats: name → the parser that reads it, and a sniffer that tells a wrong format.

Parsers are imported only when their format is used, so a format whose module is not there
(yet) says so clearly instead of breaking every other format. Every parser is
``parse(path: Path) -> ParseResult``.
"""

from __future__ import annotations

import importlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from govcloud.base.i18n import Msg, zh_en
from govcloud.base.progress import NULL, Progress
from govcloud.errors import GovcloudError, UsageError
from govcloud.interchange.records import ParseResult


@dataclass(frozen=True)
class Format:
    name: str
    module: str
    function: str
    zh: str
    en: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("census", "govcloud.interchange.census", "parse", *zh_en("census form (XLSX/CSV)")),
    Format("rvtools", "govcloud.interchange.rvtools", "parse", *zh_en("RVTools export (XLSX)")),
    Format("netbox", "govcloud.interchange.netbox", "parse", "NetBox REST API JSON", "NetBox REST API JSON"),
    Format("ansible", "govcloud.interchange.ansible_inventory", "parse", *zh_en("Ansible inventory (INI/YAML/JSON)")),
    Format("aws-csv", "govcloud.interchange.cloudcsv", "parse_aws", *zh_en("AWS Migration Hub CSV")),
    Format("azure-csv", "govcloud.interchange.cloudcsv", "parse_azure", "Azure Migrate CSV", "Azure Migrate CSV"),
    Format("gcp-csv", "govcloud.interchange.cloudcsv", "parse_gcp", *zh_en("GCP Migration Center CSV")),
    Format("govcloud", "govcloud.interchange.govcloud_export", "parse", *zh_en("govcloud export (JSON/XLSX)")),
)}


class FormatError(GovcloudError):
    """The file is not what --format says, or the format cannot be read here."""


def parser_for(name: str):
    fmt = FORMATS.get(name)
    if fmt is None:
        raise UsageError(Msg("unknown import format {name!r}", name=name), hint=Msg("formats: {formats}", formats=", ".join(FORMATS)))
    try:
        module = importlib.import_module(fmt.module)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == fmt.module or fmt.module.startswith(exc.name + ".")):
            raise FormatError(Msg("the {name} importer is not available in this build (module {module} is missing)",
                                  name=name, module=fmt.module)) from exc
        raise
    fn = getattr(module, fmt.function, None)
    if fn is None:
        raise FormatError(Msg("the {name} importer is not available in this build ({module}.{function} is missing)",
                              name=name, module=fmt.module, function=fmt.function))
    return fn


# ---------------------------------------------------------------- sniffing

_XLSX_SHEETS = {
    "rvtools": ({"vInfo", "vHost", "vDisk", "vCPU", "vMemory", "vNetwork", "vPartition"}, 1),
    "govcloud": ({"服务器", "servers", "信息系统", "systems", "部门", "departments"}, 3),
}


def sniff(path: Path) -> tuple[str | None, str]:
    """(the format the file looks like, a short description of what it is). The format is None
    when the file gives no confident clue; the description is used in wrong-format errors."""
    if path.is_dir():
        names = {p.name for p in path.iterdir()}
        if "export.json" in names and "MANIFEST.sha256" in names:
            return "govcloud", Msg("a govcloud export directory")
        kinds = {_json_kind(p) for p in sorted(path.rglob("*.json"))[:20] if p.is_file()}
        if kinds == {"netbox"} or kinds == {"netbox", None}:
            return "netbox", Msg("a directory of NetBox REST API JSON files")
        return None, Msg("a directory")
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise FormatError(Msg("{path}: cannot read: {reason}", path=path, reason=exc.strerror or exc)) from exc
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                sheets = _xlsx_sheet_names(zf)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError, RuntimeError, EOFError,
                zlib.error):
            return None, Msg("a ZIP archive")
        if sheets is None:
            return None, Msg("a ZIP archive (not an XLSX workbook)")
        desc = Msg("an XLSX workbook (sheets: {sheets})", sheets=", ".join(sorted(sheets)[:6]))
        for fmt, (want, least) in _XLSX_SHEETS.items():
            if len(sheets & want) >= least:
                return fmt, desc
        return None, desc
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        kind = _json_kind(path)
        if kind:
            return kind, {"netbox": "NetBox REST API JSON", "ansible": "`ansible-inventory --list` JSON",
                          "govcloud": Msg("a govcloud export table (JSON)")}[kind]
        return None, Msg("a JSON document")
    return None, Msg("a text file")


def _xlsx_sheet_names(zf: zipfile.ZipFile) -> set[str] | None:
    import re
    try:
        info = zf.getinfo("xl/workbook.xml")
    except KeyError:
        return None
    if info.file_size > 8 * 1024 * 1024:
        return set()
    xml = zf.read(info).decode("utf-8", "replace")
    import html
    return {html.unescape(m) for m in re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml)}


def _json_kind(path: Path) -> str | None:
    if path.stat().st_size > 256 * 1024 * 1024:
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if isinstance(data, dict):
        if "_meta" in data and isinstance(data.get("all", {}), dict) and (
                "all" in data or (isinstance(data["_meta"], dict) and "hostvars" in data["_meta"])):
            return "ansible"
        if "table" in data and "columns" in data and "rows" in data:
            return "govcloud"
        if {"count", "results"} <= set(data) or _netbox_items(data.get("results")):
            return "netbox"
        if any(_netbox_items(v) or (isinstance(v, dict) and _netbox_items(v.get("results")))
               for v in data.values()):
            return "netbox"
        return None
    if isinstance(data, list) and (_netbox_items(data) or _netbox_dump(data)):
        return "netbox"
    return None


def _netbox_items(value: object) -> bool:
    return (isinstance(value, list) and bool(value) and isinstance(value[0], dict)
            and "/api/" in str(value[0].get("url", "")))


def _netbox_dump(value: list) -> bool:
    """``manage.py dumpdata`` of a NetBox database: [{"model": "dcim.site", "pk": 1, "fields": {…}}]."""
    return any(isinstance(v, dict) and {"model", "pk", "fields"} <= set(v)
               and str(v["model"]).startswith(("dcim.", "virtualization.", "ipam.", "tenancy."))
               for v in value[:2000])


# a file that sniffs as the key may be given as any of these formats
_COMPATIBLE = {"govcloud": {"govcloud", "census"}}


def parse(name: str, path: Path, *, progress: Progress = NULL) -> ParseResult:
    """Read ``path`` as format ``name``. Raises :class:`FormatError` for a file of another format.
    ``progress`` goes to the parsers that report it (``rvtools``: its VMs)."""
    path = Path(path)
    if not path.exists():
        raise UsageError(Msg("{path}: no such file or directory", path=path))
    fn = parser_for(name)
    looks, desc = sniff(path)
    if looks is not None and name not in _COMPATIBLE.get(looks, {looks}):
        raise FormatError(Msg("{path} is {desc}, which looks like --format {looks}, not --format {name}", path=path,
                              desc=desc, looks=looks, name=name),
                          hint=Msg("run again with --format {looks}, or check the file", looks=looks))
    import inspect
    result = fn(path, progress=progress) if "progress" in inspect.signature(fn).parameters else fn(path)
    if not isinstance(result, ParseResult):
        raise FormatError(Msg("the {name} importer returned {type}, not a ParseResult", name=name,
                              type=type(result).__name__))
    return result


# ---------------------------------------------------------------- input vocabulary
# Sheet names and column headers people write in Chinese census forms, read on import (the
# template's own headers come from the catalog; these are the other ways forms name them).

CENSUS_SYSTEMS_SHEETS = ("普查表", "信息系统")
CENSUS_SERVERS_SHEETS = ("服务器清单",)
CENSUS_HEADERS: dict[str, tuple[str, ...]] = {
    "org.name": ("部门", "单位名称", "填报单位", "业主单位"),
    "system": ("信息系统名称", "系统名称"),
    "ips": ("IP地址(多个用、分隔)",),
    "server.machine_room": ("所在机房",),
    "disk_gb": ("磁盘(GB)",),
}
# joins the values of a list cell read into one text field, as Chinese forms list them
LIST_SEPARATOR = "、"
