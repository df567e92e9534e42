"""The ``govcloud`` entry point. Light on purpose: a shell completion (each TAB) is answered by
``govcloud.cli.completion`` from a small table without importing the CLI (rich, typer, the planner,
openpyxl … ≈ 0.5 s); every other call runs the typer app and its error boundary in
``govcloud.cli.root``. ``from govcloud.cli.app import app`` still gives the typer app."""

from __future__ import annotations

import os
from typing import Any

COMPLETE_VAR = "_GOVCLOUD_COMPLETE"


def main(argv: list[str] | None = None) -> None:
    if argv is None and os.environ.get(COMPLETE_VAR):
        from govcloud.cli import completion
        status = completion.answer()
        if status is not None:
            os._exit(status)
    from govcloud.cli import root
    root.main(argv)


def __getattr__(name: str) -> Any:
    if name == "app":
        from govcloud.cli.root import app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
