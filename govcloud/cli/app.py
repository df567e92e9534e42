"""The ``govcloud`` command: wiring only, plus the one error boundary."""

from __future__ import annotations

import os
import sys
import traceback
from datetime import datetime

import click
import typer
import typer.core

from govcloud import __version__
from govcloud.cli import audit as audit_cli
from govcloud.cli import compliance as compliance_cli
from govcloud.cli import discover as discover_cli
from govcloud.cli import export as export_cli
from govcloud.cli import importing as importing_cli
from govcloud.cli import inventory as inventory_cli
from govcloud.cli import migrate as migrate_cli
from govcloud.cli import plan as plan_cli
from govcloud.cli import report as report_cli
from govcloud.cli import template as template_cli
from govcloud.errors import ExitCode, GovcloudError
from govcloud.paths import debug_log
from govcloud.render.console import stderr

app = typer.Typer(
    name="govcloud",
    help="政务信息系统普查、分批次迁移上云规划与执行 — census, batched migration planning and "
         "migration of government information systems onto the government cloud.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
inventory_cli.app.command(name="export")(export_cli.export)
inventory_cli.app.command(name="discover")(discover_cli.discover)
inventory_cli.app.command(name="template")(template_cli.template)
inventory_cli.app.command(name="import")(importing_cli.import_)
app.add_typer(inventory_cli.app, name="inventory")
app.add_typer(plan_cli.app, name="plan")
app.add_typer(migrate_cli.app, name="migrate")
app.add_typer(compliance_cli.app, name="compliance")
app.add_typer(audit_cli.app, name="audit")
app.command(name="report")(report_cli.report)  # one command, not a group


def _click_exceptions(name: str) -> tuple[type[BaseException], ...]:
    """``name`` from every click the CLI may raise from: typer >= 0.2x vendors its own copy of click
    (``typer._click``, whose exceptions are not the installed ``click``'s), older typer uses ``click``;
    ``Exit``/``Abort`` are typer's own classes in the vendored case."""
    found: list[type[BaseException]] = []
    modules = [click.exceptions, getattr(typer.core, "_click", None), getattr(typer.core, "click", None)]
    for mod in modules:
        cls = getattr(getattr(mod, "exceptions", mod), name, None) if mod is not None else None
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    typer_cls = getattr(typer, name, None)
    if isinstance(typer_cls, type) and issubclass(typer_cls, BaseException) and typer_cls not in found:
        found.append(typer_cls)
    return tuple(found)


_CLICK_EXIT = _click_exceptions("Exit")
_CLICK_ABORT = _click_exceptions("Abort")
_CLICK_ERROR = _click_exceptions("ClickException")  # UsageError, BadParameter, NoSuchOption, ... (exit 2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"govcloud {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """govcloud — 数字政府 migration to the government cloud."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: expected errors print one clear line; bugs print a short line and log the traceback."""
    try:
        # in non-standalone mode click returns the exit code of typer.Exit instead of exiting
        code = app(args=argv, standalone_mode=False)
        code = code if isinstance(code, int) else 0
        if argv is None:
            # a whole command line ran: skip freeing a province's million objects one by one at
            # interpreter exit (≈0.5 s); every file was written atomically and closed already
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    except GovcloudError as exc:
        err = stderr()
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        if exc.hint:
            err.print(f"  hint: {exc.hint}", style="dim", highlight=False, soft_wrap=True)
        sys.exit(int(exc.exit_code))
    except _CLICK_EXIT as exc:
        sys.exit(exc.exit_code)
    except _CLICK_ABORT:
        stderr().print("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except _CLICK_ERROR as exc:
        # no_args_is_help: typer/click printed the help already; the exception only carries the exit code
        if type(exc).__name__ != "NoArgsIsHelpError":
            exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        stderr().print("interrupted")
        sys.exit(int(ExitCode.INTERRUPTED))
    except Exception as exc:  # noqa: BLE001 - the boundary: never show a traceback to a user
        log = debug_log()
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} govcloud {__version__} "
                         f"{' '.join(sys.argv[1:2])}\n")
                fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            where = f" (details in {log})"
        except OSError:
            where = ""
        stderr().print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}{where}", highlight=False)
        sys.exit(int(ExitCode.INTERNAL))
