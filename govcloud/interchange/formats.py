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
    Format("census", "govcloud.interchange.census", "parse", "普查表(XLSX/CSV)", "census form (XLSX/CSV)"),
    Format("rvtools", "govcloud.interchange.rvtools", "parse", "RVTools 导出(XLSX)", "RVTools export (XLSX)"),
    Format("netbox", "govcloud.interchange.netbox", "parse", "NetBox REST API JSON", "NetBox REST API JSON"),
    Format("ansible", "govcloud.interchange.ansible_inventory", "parse", "Ansible 清单(INI/YAML/JSON)",
           "Ansible inventory (INI/YAML/JSON)"),
    Format("aws-csv", "govcloud.interchange.cloudcsv", "parse_aws", "AWS 迁移中心CSV", "AWS Migration Hub CSV"),
    Format("azure-csv", "govcloud.interchange.cloudcsv", "parse_azure", "Azure Migrate CSV", "Azure Migrate CSV"),
    Format("gcp-csv", "govcloud.interchange.cloudcsv", "parse_gcp", "GCP 迁移中心CSV", "GCP Migration Center CSV"),
    Format("govcloud", "govcloud.interchange.govcloud_export", "parse", "govcloud 导出(JSON/XLSX)",
           "govcloud export (JSON/XLSX)"),
)}


class FormatError(GovcloudError):
    """The file is not what --format says, or the format cannot be read here."""


def parser_for(name: str):
    fmt = FORMATS.get(name)
    if fmt is None:
        raise UsageError(f"unknown import format {name!r}", hint="formats: " + ", ".join(FORMATS))
    try:
        module = importlib.import_module(fmt.module)
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == fmt.module or fmt.module.startswith(exc.name + ".")):
            raise FormatError(f"the {name} importer is not available in this build "
                              f"(module {fmt.module} is missing)") from exc
        raise
    fn = getattr(module, fmt.function, None)
    if fn is None:
        raise FormatError(f"the {name} importer is not available in this build "
                          f"({fmt.module}.{fmt.function} is missing)")
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
            return "govcloud", "a govcloud export directory"
        kinds = {_json_kind(p) for p in sorted(path.rglob("*.json"))[:20] if p.is_file()}
        if kinds == {"netbox"} or kinds == {"netbox", None}:
            return "netbox", "a directory of NetBox REST API JSON files"
        return None, "a directory"
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                sheets = _xlsx_sheet_names(zf)
        except (zipfile.BadZipFile, OSError, KeyError, ValueError, NotImplementedError, RuntimeError, EOFError,
                zlib.error):
            return None, "a ZIP archive"
        if sheets is None:
            return None, "a ZIP archive (not an XLSX workbook)"
        desc = "an XLSX workbook (sheets: " + ", ".join(sorted(sheets)[:6]) + ")"
        for fmt, (want, least) in _XLSX_SHEETS.items():
            if len(sheets & want) >= least:
                return fmt, desc
        return None, desc
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        kind = _json_kind(path)
        if kind:
            return kind, {"netbox": "NetBox REST API JSON", "ansible": "`ansible-inventory --list` JSON",
                          "govcloud": "a govcloud export table (JSON)"}[kind]
        return None, "a JSON document"
    return None, "a text file"


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
        raise UsageError(f"{path}: no such file or directory")
    fn = parser_for(name)
    looks, desc = sniff(path)
    if looks is not None and name not in _COMPATIBLE.get(looks, {looks}):
        raise FormatError(f"{path} is {desc}, which looks like --format {looks}, not --format {name}",
                          hint=f"run again with --format {looks}, or check the file")
    import inspect
    result = fn(path, progress=progress) if "progress" in inspect.signature(fn).parameters else fn(path)
    if not isinstance(result, ParseResult):
        raise FormatError(f"the {name} importer returned {type(result).__name__}, not a ParseResult")
    return result
