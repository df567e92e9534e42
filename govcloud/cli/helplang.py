"""``--help`` in the user's language.

The help texts are written in English where the commands are defined (docstrings, ``help=``);
their Chinese is in the catalog (``help.po``, context ``help``). Just before click formats a help
page, every command and parameter of the tree gets its text in the chosen language, and so do
typer's own words (panel titles, ``[default: …]``, ``[required]``). The language is ``--lang`` when
it is on the command line, else ``GOVCLOUD_LANG``, else Chinese.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

from govcloud.base.i18n import tr

CTX = "help"
# typer.rich_utils' own texts (module constants it reads when it formats a page)
TYPER_TEXTS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "DEPRECATED_STRING": "(deprecated) ",
}
HELP_OPTION = "Show this message and exit."   # click's own help for -h/--help

_argv: list[str] | None = None


def remember_argv(argv: list[str]) -> None:
    """The command line being run (``root.main``), where ``--lang`` is looked for."""
    global _argv
    _argv = list(argv)


def help_lang(argv: list[str] | None = None) -> str:
    """The language the command line asks for: ``--lang`` as given (the last one wins, as with
    click; nothing after ``--``), else ``GOVCLOUD_LANG``, else Chinese — what every command's own
    ``--lang`` option reads. Known before the command runs (help pages, usage errors, the error
    boundary); ``argv`` defaults to the command line being run."""
    args = argv if argv is not None else (_argv or [])
    lang = None
    for n, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and n + 1 < len(args):
            lang = args[n + 1]
        elif arg.startswith("--lang="):
            lang = arg[len("--lang="):]
    if lang is None:
        lang = os.environ.get("GOVCLOUD_LANG", "")
    return lang if lang in ("zh", "en") else "zh"


def walk(cmd: Any) -> Iterator[Any]:
    """Every command of the tree under ``cmd``, and ``cmd``."""
    yield cmd
    for sub in (getattr(cmd, "commands", None) or {}).values():
        yield from walk(sub)


_FIELDS = ("help", "short_help", "epilog")


def texts(cmd: Any) -> list[str]:
    """Every help text of the tree (the English originals), in a stable order."""
    seen: dict[str, None] = {}
    for c in walk(cmd):
        for name in _FIELDS:
            text = _original(c, name)
            if text:
                seen.setdefault(text)
        for p in c.params:
            text = _original(p, "help")
            if text:
                seen.setdefault(text)
    return list(seen)


def _original(obj: Any, name: str) -> Any:
    store = obj.__dict__.setdefault("_govcloud_help_en", {})
    if name not in store:
        store[name] = getattr(obj, name, None)
    return store[name]


def localize_tree(cmd: Any, lang: str) -> None:
    for c in walk(cmd):
        for name in _FIELDS:
            text = _original(c, name)
            if text:
                setattr(c, name, tr(text, lang, CTX))
        for p in c.params:
            text = _original(p, "help")
            if text:
                p.help = tr(text, lang, CTX)
    try:
        from typer import rich_utils
    except ImportError:  # typer without rich: click's plain help, texts still translated
        return
    for name, en in TYPER_TEXTS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, tr(en, lang, CTX))


def install() -> None:
    """Hooks typer's commands and groups so a help page is formatted in the chosen language."""
    from typer import core
    from govcloud.render.helppage import fold_long_runs
    fold_long_runs()
    for cls in (core.TyperCommand, core.TyperGroup):
        original = cls.format_help
        if getattr(original, "_govcloud", False):
            continue

        def format_help(self: Any, ctx: Any, formatter: Any, _original: Any = original) -> None:
            lang = help_lang()
            localize_tree(ctx.find_root().command, lang)
            option = self.get_help_option(ctx)
            if option is not None:
                option.help = tr(HELP_OPTION, lang, CTX)
            _original(self, ctx, formatter)
        format_help._govcloud = True  # type: ignore[attr-defined]
        cls.format_help = format_help


# ---------------------------------------------------------------- usage errors (click's words)

# The messages click/typer build for a wrong command line, as English templates (msgids, context
# "help"); a message is matched against them and shown in the chosen language. One not listed
# here is shown as click wrote it, inside the translated frame.
USAGE_TEXTS: tuple[str, ...] = (
    "Usage:",
    "Try {command} for help.",
    "Error: {message}",
    "Missing argument {name}.",
    "Missing option {name}.",
    "Missing parameter: {name}",
    "Missing command.",
    "No such command {name}.",
    "No such option: {option} (Possible options: {possible})",
    "No such option: {option}",
    "Option {option} requires an argument.",
    "Option {option} does not take a value.",
    "Got unexpected extra argument(s) ({args})",
    "Invalid value for {param}: {problem}",
    "Value error, {value} is not one of {choices}.",
    "Input should be a valid integer, unable to parse string as an integer",
    "Input should be a valid number, unable to parse string as a number",
    "Input should be less than or equal to {limit}",
    "Input should be greater than or equal to {limit}",
    "Input should be less than {limit}",
    "Input should be greater than {limit}",
    "Path {path} does not exist.",
    "File {path} does not exist.",
    "Directory {path} does not exist.",
    "Path {path} is a directory.",
    "File {path} is a directory.",
    "Directory {path} is a file.",
)
USAGE, TRY, ERROR = USAGE_TEXTS[:3]
# a click parameter hint: '--out' / '-o' (env var: 'X')
_PARAM = r"'[^']*'(?: / '[^']*')*(?: \(env var: '[^']*'\))?"


def _pattern(template: str) -> Any:
    import re
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>{_PARAM if m.group(1) == 'param' else '.+?'})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.S)


def usage_text(message: str, lang: str) -> str:
    """A click usage message in ``lang`` (as written when no template matches)."""
    if lang == "en":
        return message
    for template in USAGE_TEXTS[3:]:
        m = _pattern(template).match(message)
        if m:
            params = dict(m.groupdict())
            if "problem" in params:
                params["problem"] = usage_text(params["problem"], lang)
            return tr(template, lang, CTX).format(**params)
    return message


def show_usage_error(exc: Any, lang: str, err: Any) -> None:
    """What click prints for a wrong command line (usage line, where to find help, the error), in
    ``lang``; English is left to click itself."""
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        usage = ctx.get_usage()
        if usage.startswith(USAGE):
            usage = tr(USAGE, lang, CTX) + usage[len(USAGE):].lstrip()
        err.print(usage, highlight=False, markup=False, soft_wrap=True)
        option = ctx.command.get_help_option(ctx)
        if option is not None:
            command = f"'{ctx.command_path} {ctx.help_option_names[0]}'"
            err.print(tr(TRY, lang, CTX).format(command=command),
                      highlight=False, markup=False, soft_wrap=True)
    err.print(tr(ERROR, lang, CTX).format(message=usage_text(exc.format_message(), lang)),
              highlight=False, markup=False, soft_wrap=True)
