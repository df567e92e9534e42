"""``govcloud inventory export``: the inventory as XLSX, CSV, JSON or HTML for auditors,
with a ``MANIFEST.sha256``; ``--verify DIR`` checks an earlier export against its manifest.

Every export is recorded in the inventory's audit log (action ``export``).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from govcloud.errors import ExitCode, UsageError
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.usecases import export as uc
from govcloud.usecases.plan import InvalidInventory


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
    try:
        res = uc.export(path, out, fmt=fmt.value, lang=lang.value, include_classified=include_classified,
                        actor=actor, reason=reason, force=force)
    except InvalidInventory as exc:
        err = view.stderr()
        view.render_problems(exc.problems[:20], err, lang.value)
        err.print(view.styled((f"{len(exc.problems)} error(s)", "bold red"), "; fix them before exporting "
                  f"(`govcloud inventory validate {path}`)"), highlight=False)
        raise typer.Exit(int(ExitCode.ERROR)) from None
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
    problems = uc.verify(directory)
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
