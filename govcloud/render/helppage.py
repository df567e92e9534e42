"""How typer draws a ``--help`` page: cells fold instead of being cut (the texts themselves are
translated by ``govcloud.cli.helplang``)."""

from __future__ import annotations

from typing import Any


def fold_long_runs() -> None:
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
