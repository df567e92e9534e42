"""Every on-disk location govcloud uses, in one place."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "govcloud"


def debug_log() -> Path:
    return Path(os.environ.get("GOVCLOUD_DEBUG_LOG") or cache_dir() / "debug.log")


def bundled_inventory(name: str = "heyuan") -> Path:
    """The example inventory that ships in the repository checkout."""
    return Path(__file__).resolve().parent.parent / "inventories" / name


def templates_dir() -> Path:
    """The jinja2 templates: the checkout's templates/, else where an install put them."""
    checkout = Path(__file__).resolve().parent.parent / "templates"
    if checkout.is_dir():
        return checkout
    import sys
    return Path(sys.prefix) / "share" / "govcloud" / "templates"
