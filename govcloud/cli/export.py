"""``govcloud inventory export``: the inventory as XLSX, CSV, JSON or HTML for auditors,
with a ``MANIFEST.sha256``; ``--verify DIR`` checks an earlier export against its manifest.

Every export is recorded in the inventory's audit log (action ``export``).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.inventory.export import ExportResult, export_inventory, observed_as_written, verify_export
from govcloud.inventory.loader import load_inventory
from govcloud.inventory.validate import validate_path
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.store import auditlog


class ExportFormat(str, Enum):
    xlsx = "xlsx"
    csv = "csv"
    json = "json"
    html = "html"


def export(
    path: Optional[Path] = typer.Argument(None, help="Inventory directory (or one inventory file)."),
    fmt: ExportFormat = typer.Option(ExportFormat.xlsx, "--format", "-f", help="xlsx, csv, json or html."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of headers and labels.", envvar="GOVCLOUD_LANG"),
    out: Optional[Path] = typer.Option(None, "--out", help="Directory to write (created; replaced atomically)."),
    include_classified: bool = typer.Option(False, "--include-classified",
                                            help="Export every field of classified (涉密) systems too. "
                                                 "Only for cleared recipients."),
    verify: Optional[Path] = typer.Option(None, "--verify", help="Check an export directory against its "
                                                                 "MANIFEST.sha256 instead of exporting."),
    actor: Optional[str] = typer.Option(None, "--actor", help="Who exports, for the audit log (besides the OS user)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why, for the audit log."),
    force: bool = typer.Option(False, "--force", help="Replace --out even when it holds files an earlier "
                                                      "export did not write (or is not an export at all)."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs."),
) -> None:
    """Export departments, machine rooms, systems, servers, databases, dependencies, the 政务信息资源目录
    and the census form (普查表). Classified systems keep minimal metadata unless --include-classified.
    JSON also carries every other section (regions, cloud, policies, takeovers, freeze windows,
    observations): `govcloud inventory import --format govcloud DIR --into NEW` reads it back whole.

    Exit code 0 on success; with --verify 1 when a file is missing, extra or modified.
    """
    if verify is not None:
        _verify(verify, output)
        return
    if path is None or out is None:
        raise UsageError("give an INVENTORY and --out DIR (or --verify DIR)",
                         hint="govcloud inventory export inventories/heyuan --format xlsx --out exports/heyuan")
    from govcloud.store.lock import writer_lock
    from govcloud.store.txn import Transaction

    root = auditlog.log_root(path)
    if not root.is_dir():
        raise GovcloudError(f"{path} does not exist", hint="give an inventory directory (or one inventory file)")
    # the inventory's writer lock: the export reads one state of it, and its audit entry and
    # the publication are one transaction (completed or discarded by the next command after a kill)
    with writer_lock(root, "inventory export"):
        res = _export(path, root, fmt, lang, out, include_classified, actor, reason, force, Transaction(root, "export"))
    if output is Output.json:
        view.print_json({"ok": True, "out": str(res.out), "files": res.files,
                         "manifest_sha256": res.manifest_sha256, **res.info})
        return
    con = view.stdout()
    zh = lang is Lang.zh
    for key, t in res.info["tables"].items():
        extra = []
        if t["redacted"]:
            extra.append(f"{t['redacted']} {'条涉密记录仅导出最少信息' if zh else 'classified, minimal metadata'}")
        if t["withheld"]:
            extra.append(f"{t['withheld']} {'条涉密相关记录未导出' if zh else 'withheld (classified)'}")
        con.print(f"  {t['title']}: {t['rows']:,}" + (f" ({'; '.join(extra)})" if extra else ""), highlight=False)
    mode = res.info["classified"]
    con.print(view.styled(("✓", "bold green"), f" {res.out} ({fmt.value}, "
              f"{'涉密系统' if zh else 'classified systems'}: {mode}); MANIFEST.sha256 {res.manifest_sha256[:16]}…"),
              highlight=False, soft_wrap=True)


def _verify(directory: Path, output: Output) -> None:
    problems = verify_export(directory)
    if output is Output.json:
        view.print_json({"ok": not problems, "dir": str(directory), "problems": [p.to_json() for p in problems]})
    else:
        con = view.stdout()
        for p in problems:
            con.print(view.styled(("✗", "red"), f" {p.code}: {p.path}: {p.message}"), highlight=False, soft_wrap=True)
        if problems:
            con.print(view.styled((f"{len(problems)} problem(s)", "bold red"), f" in {directory}"), highlight=False)
        else:
            con.print(view.styled(("✓", "bold green"), f" {directory}: every file matches MANIFEST.sha256"),
                      highlight=False)
    raise typer.Exit(int(ExitCode.ERROR if problems else ExitCode.OK))


def _export(path: Path, root: Path, fmt: ExportFormat, lang: Lang, out: Path, include_classified: bool,
            actor: Optional[str], reason: Optional[str], force: bool, transaction) -> ExportResult:
    result = validate_path(path)
    if result.errors:
        err = view.stderr()
        view.render_problems(result.errors[:20], err, lang.value)
        err.print(view.styled((f"{len(result.errors)} error(s)", "bold red"), "; fix them before exporting "
                  f"(`govcloud inventory validate {path}`)"), highlight=False)
        raise typer.Exit(int(ExitCode.ERROR))
    inv = result.inventory

    def record(res: ExportResult) -> None:
        # committed with the publication: an export that cannot be audited does not appear
        transaction.audit(action="export",
                          entity={"kind": "inventory", "id": res.info["inventory"]},
                          before=None,
                          after={"manifest_sha256": res.manifest_sha256, "out": str(res.out),
                                 "format": res.info["format"], "lang": res.info["lang"],
                                 "classified": res.info["classified"], "files": res.files,
                                 "rows": {k: v["rows"] for k, v in res.info["tables"].items()}},
                          who=actor, reason=reason)

    written = None
    if fmt is ExportFormat.json and inv.observations:
        # the round-trip format keeps a record's own `observed` apart from the observations that
        # validation merged into it: read the files once more, unvalidated (only when there are any)
        written = observed_as_written(inv, load_inventory(path).inventory)
    return export_inventory(inv, out, fmt=fmt.value, lang=lang.value, include_classified=include_classified,
                            source=str(path), before_publish=record, observed_as_written=written,
                            transaction=transaction, force=force)
