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
    args = argv if argv is not None else (_argv or [])
    for n, arg in enumerate(args):
        if arg == "--lang" and n + 1 < len(args):
            return "en" if args[n + 1] == "en" else "zh"
        if arg.startswith("--lang="):
            return "en" if arg.split("=", 1)[1] == "en" else "zh"
    return "en" if os.environ.get("GOVCLOUD_LANG") == "en" else "zh"


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


def _fold_long_runs() -> None:
    """typer's help cells cut a word longer than the column with "…": a Chinese sentence (no
    spaces, so one long word), an env var name, an option name at 80 columns. Every text typer
    builds folds onto the next line instead."""
    try:
        from rich.text import Text
        from typer import rich_utils
    except ImportError:
        return
    if getattr(rich_utils.Text, "_govcloud", False):
        return

    class FoldingText(Text):
        _govcloud = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("overflow", "fold")
            super().__init__(*args, **kwargs)
    rich_utils.Text = FoldingText
    original = rich_utils._make_rich_text   # markup is parsed into a plain Text: fold that too

    def make(*args: Any, **kwargs: Any) -> Any:
        text = original(*args, **kwargs)
        if isinstance(text, Text):
            text.overflow = "fold"
        return text
    rich_utils._make_rich_text = make


def install() -> None:
    """Hooks typer's commands and groups so a help page is formatted in the chosen language."""
    from typer import core
    _fold_long_runs()
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
