"""The ``govcloud`` command: the typer app (wiring only) and the one error boundary.

Imported by ``govcloud.cli.app.main`` for every call but a shell completion (answered by
``govcloud.cli.completion`` without importing this)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click
import typer
import typer.core

from govcloud import __version__
from govcloud.base import debuglog
from govcloud.base.i18n import N_, localize, tr
from govcloud.cli import audit as audit_cli
from govcloud.cli import node as node_cli
from govcloud.cli import compliance as compliance_cli
from govcloud.cli import discover as discover_cli
from govcloud.cli import export as export_cli
from govcloud.cli import helplang
from govcloud.cli import importing as importing_cli
from govcloud.cli import inventory as inventory_cli
from govcloud.cli import migrate as migrate_cli
from govcloud.cli import plan as plan_cli
from govcloud.cli import report as report_cli
from govcloud.cli import template as template_cli
from govcloud.errors import ExitCode, GovcloudError

from govcloud.redact import scrub
from govcloud.render.console import clean, stderr, styled

def _flags_take_no_value() -> None:
    """typer's rich help shows a type for every option, ``<bool>`` for a flag too; a flag takes no
    value, so its type column stays empty (an option with a value keeps ``<text>``, ``<int>`` …)."""
    option = getattr(typer.core, "TyperOption", None)
    original = getattr(option, "display_type_rich", None)
    if original is None or getattr(original, "_govcloud", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) and getattr(self, "metavar", None) is None:
            return None
        return original(self, ctx)
    display_type_rich._govcloud = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


_flags_take_no_value()
helplang.install()

app = typer.Typer(
    name="govcloud",
    help=tr("census, batched migration planning and migration of government information systems onto the "
            "government cloud", "zh") + " — census, batched migration planning and migration of government "
         "information systems onto the government cloud.",
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
app.add_typer(node_cli.app, name="node")
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


_TEXT_OPTIONS = ("--actor", "--by", "--reason")  # names and reasons that land in the audit log and journal
_THIRD_PARTY = ("keystoneauth1", "openstack", "requests", "urllib3", "paramiko", "ansible_runner", "ansible")


def _control_in_text_options(argv: list[str]) -> str | None:
    """The first of --actor/--by/--reason whose value holds a control character (a newline would
    forge lines in `audit show`; ESC sequences would act on the terminal)."""
    from govcloud.store.approval import has_control
    for n, arg in enumerate(argv):
        for opt in _TEXT_OPTIONS:
            if arg == opt and n + 1 < len(argv) and has_control(argv[n + 1]):
                return opt
            if arg.startswith(opt + "=") and has_control(arg[len(opt) + 1:]):
                return opt
    return None


def _third_party(exc: BaseException) -> bool:
    """An exception from a cloud, SSH or HTTP library (or the network): an expected failure."""
    mod = type(exc).__module__ or ""
    return mod.split(".")[0] in _THIRD_PARTY or isinstance(exc, (ConnectionError, TimeoutError))


class _ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return clean(scrub(super().format(record)), newlines=True)


def _quiet_libraries() -> None:
    """Library log lines (keystoneauth warns with the auth URL, credentials included) reach stderr
    scrubbed and cleaned, never at DEBUG (which would log request bodies)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, _ScrubbingFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ScrubbingFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    for name in ("keystoneauth", "keystoneauth1", "openstack", "paramiko", "urllib3", "requests", "stevedore"):
        logging.getLogger(name).setLevel(logging.WARNING)


# the boundary's lines: the label (bold red) is what comes before {message}
# (an internal error keeps its English words in Chinese too: they are what a bug report and a grep look for)
_LINES = {"error": N_("error: {message}"), "internal": N_("internal error: {message}")}


def _print_error(kind: str, message: str, hint: str | None = None, lang: str = "zh") -> None:
    err = stderr()
    label, _, tail = tr(_LINES[kind], lang).partition("{message}")
    err.print(styled((label, "bold red"), scrub(message) + tail), highlight=False, soft_wrap=True)
    if hint:
        err.print(styled((tr("  hint: {hint}", lang).format(hint=scrub(hint)), "dim")), highlight=False,
                  soft_wrap=True)


def language(argv: list[str]) -> str:
    """The language the command line asks for (one rule for the boundary, help pages and usage
    errors: ``helplang.help_lang``)."""
    return helplang.help_lang(argv)


def error_text(exc: GovcloudError, lang: str) -> tuple[str, str | None]:
    """An error's message and hint in ``lang`` (a lower layer's ``Msg``; other text as written)."""
    message = exc.args[0] if exc.args else str(exc)
    return localize(message, lang), (localize(exc.hint, lang) if exc.hint else None)


def main(argv: list[str] | None = None) -> None:
    """Entry point: expected errors print one clear line; bugs print a short line and log the traceback.
    Nothing printed or logged here carries a credential (``govcloud.redact``) or acts on the terminal."""
    _quiet_libraries()
    args = list(sys.argv[1:] if argv is None else argv)
    helplang.remember_argv(args)
    lang = language(args)
    try:
        bad = _control_in_text_options(args)
        if bad:
            _print_error("error", tr("{option} must be text without control characters (newline, tab, ESC, bidi "
                                     "overrides): it is recorded in the audit log and journal", lang).format(option=bad),
                         lang=lang)
            sys.exit(int(ExitCode.USAGE))
        # in non-standalone mode click returns the exit code of typer.Exit instead of exiting
        code = app(args=argv, standalone_mode=False, prog_name="govcloud")
        code = code if isinstance(code, int) else 0
        if argv is None:
            # a whole command line ran: skip freeing a province's million objects one by one at
            # interpreter exit (≈0.5 s); every file was written atomically and closed already
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    except GovcloudError as exc:
        _print_error("error", *error_text(exc, lang), lang=lang)
        sys.exit(int(exc.exit_code))
    except _CLICK_EXIT as exc:
        sys.exit(exc.exit_code)
    except _CLICK_ABORT:
        stderr().print(tr("interrupted", lang))
        sys.exit(int(ExitCode.INTERRUPTED))
    except _CLICK_ERROR as exc:
        # no_args_is_help: typer/click printed the help already; the exception only carries the exit code
        if type(exc).__name__ != "NoArgsIsHelpError":
            if lang == "en":
                exc.show()
            else:
                helplang.show_usage_error(exc, lang, stderr())
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        stderr().print(tr("interrupted", lang))
        sys.exit(int(ExitCode.INTERRUPTED))
    except OSError as exc:
        # the file system refused (a file where a directory must be, no permission, disk full, …):
        # the environment's problem, not a bug — one clear line naming the path
        what = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        why = exc.strerror or type(exc).__name__
        _print_error("error", f"{what + ': ' if what else ''}{why}", lang=lang)
        sys.exit(int(ExitCode.ERROR))
    except Exception as exc:  # noqa: BLE001 - the boundary: never show a traceback to a user
        where = debuglog.record(exc)
        if _third_party(exc):  # a cloud/SSH/network failure is expected, not a bug: exit 1
            _print_error("error", f"{type(exc).__name__}: {exc}{where}",
                         tr("check the cloud (clouds.yaml, OS_CLOUD, the auth URL), the network and SSH access", lang),
                         lang=lang)
            sys.exit(int(ExitCode.ERROR))
        _print_error("internal", f"{type(exc).__name__}: {exc}{where}", lang=lang)
        sys.exit(int(ExitCode.INTERNAL))
