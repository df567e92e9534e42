"""``govcloud inventory …``: validate, show, list, stats, schema, generate."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from govcloud.base.i18n import Msg, tr
from govcloud.model.enums import Lifecycle, NetworkZone, Secrecy
from govcloud.errors import ExitCode, GovcloudError, UsageError
from govcloud.inventory.loader import LoadResult
from govcloud.inventory.query import Filters, show_data, stats_data
from govcloud.base.reader import DEFAULT_MAX_FILE_MB
from govcloud.inventory.validate import validate_path
from govcloud.render.progress import progress_for
from govcloud.inventory.writer import to_plain
from govcloud.model.dates import DateError, parse_date
from govcloud.model.entities import SECTIONS
from govcloud.render import console as view
from govcloud.render.console import Lang, Output
from govcloud.render.i18n import t
from govcloud.render.views import inventory as views
from govcloud.usecases.forms import schema_text, write_schema

app = typer.Typer(help=tr("inventory", "zh") + " — the census inventory: validate, browse, count, generate.",
                  no_args_is_help=True)

PathArg = typer.Argument(..., help="Inventory directory (or one inventory file).", exists=False)
OutputOpt = typer.Option(Output.text, "--output", "-o", help="text for people, json for programs.")
LangOpt = typer.Option(Lang.zh, "--lang", help="Language of labels and headers.", envvar="GOVCLOUD_LANG")
MaxFileOpt = typer.Option(DEFAULT_MAX_FILE_MB, "--max-file-mb", help="Refuse files larger than this.")
DeptOpt = typer.Option(None, "--department", "-d", help="Department id, name or alias (2018 names too).")
RoomOpt = typer.Option(None, "--room", help="Machine-room id.")
ZoneOpt = typer.Option(None, "--zone", help="Network zone: gov_extranet, gov_intranet, internet, … or "
                       f"{NetworkZone.gov_extranet.label('zh')} ….")
LifeOpt = typer.Option(None, "--lifecycle", help=f"in_service, zombie, idle, building, … or {Lifecycle.in_service.label('zh')} ….")
SecOpt = typer.Option(None, "--secrecy", help="classified / non_classified "
                      f"({Secrecy.classified.label('zh')} / {Secrecy.non_classified.label('zh')}).")


def _records(result: LoadResult) -> int:
    inv = result.inventory
    return sum(len(inv.section(s.key)) for s in SECTIONS)


@app.command()
def validate(
    path: Path = PathArg,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
    max_file_mb: float = MaxFileOpt,
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors."),
) -> None:
    """Check an inventory: every problem at once, with file:line, record, field and a hint.

    Exit code 0 when there are no errors (warnings allowed unless --strict), 1 otherwise.
    """
    started = time.perf_counter()
    with progress_for(output, lang.value) as progress:
        result = validate_path(path, max_file_mb=max_file_mb, progress=progress)
    seconds = time.perf_counter() - started
    errors = len(result.errors)
    warnings = len(result.problems) - errors
    failed = errors > 0 or (strict and warnings > 0)
    if output is Output.json:
        view.print_json({
            "ok": not failed, "errors": errors, "warnings": warnings, "files": len(result.documents),
            "records": _records(result), "seconds": round(seconds, 3),
            "problems": [p.to_json() for p in result.problems],
        })
    else:
        out = view.stdout()
        view.render_problems(result.problems, out, lang.value)
        out.print(view.problem_summary(result.problems, len(result.documents), _records(result), seconds,
                                       lang.value))
    raise typer.Exit(int(ExitCode.ERROR if failed else ExitCode.OK))


def _load_or_exit(path: Path, lang: Lang, output: Output, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> LoadResult:
    """Browsing commands need a sound inventory: with errors they show them and stop (a province
    takes seconds to read: progress on a terminal)."""
    with progress_for(output, lang.value) as progress:
        result = validate_path(path, max_file_mb=max_file_mb, progress=progress)
    if result.errors:
        views.invalid(result.errors, path, lang.value)
        raise typer.Exit(int(ExitCode.ERROR))
    return result


def _filters(department: str | None, room: str | None, zone: str | None, lifecycle: str | None,
             secrecy: str | None) -> Filters:
    return Filters(department=department, room=room, zone=zone, lifecycle=lifecycle, secrecy=secrecy)


@app.command()
def show(
    path: Path = PathArg,
    entity_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="Show one record (any kind) in full."),
    department: Optional[str] = DeptOpt,
    room: Optional[str] = RoomOpt,
    zone: Optional[str] = ZoneOpt,
    lifecycle: Optional[str] = LifeOpt,
    secrecy: Optional[str] = SecOpt,
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """The inventory as one document (organisations, rooms, servers, systems, databases,
    dependencies, cloud zones), or one record in full with its id."""
    result = _load_or_exit(path, lang, output)
    inv = result.inventory
    if entity_id is not None:
        _show_one(result, entity_id, output, lang)
        return
    data = show_data(inv, _filters(department, room, zone, lifecycle, secrecy))
    if output is Output.json:
        view.print_json(data)
        return
    out = view.stdout()
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    name = data["inventory"]["name"] or str(path)
    out.print(view.overview_table(counts, lang.value, f"{name} — {t('summary', lang.value)}"))
    orgs = {o["id"]: o["name"] for o in data["organizations"]}
    out.print(view.systems_table(data["systems"][:50], lang.value, orgs, t("systems", lang.value)))
    if len(data["systems"]) > 50:
        views.more_systems(len(data["systems"]) - 50, lang.value)


def _show_one(result: LoadResult, entity_id: str, output: Output, lang: Lang) -> None:
    inv = result.inventory
    for section in SECTIONS:
        store = inv.section(section.key)
        entity = None
        if isinstance(store, dict):
            entity = store.get(entity_id)
        else:
            entity = next((e for e in store if e.id == entity_id), None)
        if entity is None:
            continue
        plain = to_plain(entity)
        if section.key == "servers":
            plain["systems"] = inv.server_systems.get(entity_id, [])
        where = inv.origin.get((section.key, entity_id))
        if output is Output.json:
            view.print_json({"kind": section.kind, "file": where[0] if where else None, "record": plain})
            return
        views.record(section, entity_id, where[0] if where else None, plain, lang.value, entity)
        return
    raise GovcloudError(Msg("no record with id '{id}' in {root}", id=entity_id, root=result.root))


@app.command("list")
def list_(
    path: Path = PathArg,
    kind: str = typer.Option("systems", "--kind", "-k", help="systems or servers."),
    department: Optional[str] = DeptOpt,
    room: Optional[str] = RoomOpt,
    zone: Optional[str] = ZoneOpt,
    lifecycle: Optional[str] = LifeOpt,
    secrecy: Optional[str] = SecOpt,
    limit: int = typer.Option(0, "--limit", help="Show at most N rows (0 = all)."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """A table of systems or servers, filtered by department, room, zone, lifecycle, secrecy."""
    if kind not in ("systems", "servers"):
        raise UsageError(Msg("--kind must be systems or servers, not '{kind}'", kind=kind))
    result = _load_or_exit(path, lang, output)
    data = show_data(result.inventory, _filters(department, room, zone, lifecycle, secrecy))
    rows = data[kind][:limit] if limit else data[kind]
    if output is Output.json:
        view.print_json({kind: rows, "total": len(data[kind])})
        return
    out = view.stdout()
    title = f"{t(kind, lang.value)} ({len(rows):,}/{len(data[kind]):,})"
    if kind == "systems":
        orgs = {o["id"]: o["name"] for o in data["organizations"]}
        out.print(view.systems_table(rows, lang.value, orgs, title))
    else:
        out.print(view.servers_table(rows, lang.value, title))


@app.command()
def stats(
    path: Path = PathArg,
    department: Optional[str] = DeptOpt,
    room: Optional[str] = RoomOpt,
    zone: Optional[str] = ZoneOpt,
    lifecycle: Optional[str] = LifeOpt,
    secrecy: Optional[str] = SecOpt,
    as_of: Optional[str] = typer.Option(None, "--eol-on", help="Judge OS end-of-life on this date (default today)."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """Counts and breakdowns: by department, MLPS level, OS, CPU architecture, machine room …"""
    try:
        on = parse_date(as_of) if as_of else date.today()
    except DateError as exc:
        raise UsageError(Msg("--eol-on: {error}", error=exc.args[0] if exc.args else str(exc))) from None
    result = _load_or_exit(path, lang, output)
    data = stats_data(result.inventory, _filters(department, room, zone, lifecycle, secrecy), on=on)
    if output is Output.json:
        view.print_json(data)
        return
    view.render_stats(data, view.stdout(), lang.value)


@app.command()
def schema(
    out: Optional[Path] = typer.Option(None, "--out", help="Write the schema to this file instead of stdout."),
    output: Output = typer.Option(Output.text, "--output", "-o", help="json: with --out, what was written as "
                                  "JSON (without --out the schema itself is the JSON document)."),
    lang: Lang = typer.Option(Lang.zh, "--lang", help="Language of the messages (the schema itself carries "
                                                     "both).", envvar="GOVCLOUD_LANG"),
) -> None:
    """The JSON Schema of inventory files, for editors that validate while you type."""
    if out is None:
        typer.echo(schema_text(), nl=False)
        return
    written = write_schema(out)
    if output is Output.json:
        view.print_json({"out": str(written), "bytes": written.stat().st_size})
    else:
        views.schema_written(written, lang.value)


@app.command()
def generate(
    out: Path = typer.Argument(..., help="Directory to write the synthetic inventory into."),
    scale: str = typer.Option("city", "--scale", help="city, province or national."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same inventory."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty directory."),
    output: Output = OutputOpt,
    lang: Lang = LangOpt,
) -> None:
    """A synthetic inventory with realistic distributions (department sizes, server counts, OS and CPU mixes
    of a real census), deterministic for a seed."""
    from govcloud.usecases.inventory import generate as generate_inventory
    with progress_for(output, lang.value) as progress:
        done = generate_inventory(out, scale=scale, seed=seed, force=force, progress=progress)
    if output is Output.json:
        view.print_json({"out": str(done.out), "scale": done.scale, "seed": done.seed,
                         "organizations": done.organizations, "systems": done.systems, "servers": done.servers,
                         "seconds": round(done.seconds, 3)})
    else:
        views.generated(done, lang.value)
