"""The debug log: where an internal error's traceback goes (never the screen), secrets scrubbed,
in a file only its owner may read (0600) inside a private cache directory (0700)."""

from __future__ import annotations

import sys
import traceback
from datetime import datetime

from govcloud import __version__
from govcloud.base.atomic import append_private
from govcloud.paths import cache_dir, debug_log
from govcloud.redact import scrub


def record(exc: BaseException) -> str:
    """Append the traceback; returns `` (details in <log>)`` for the error line, or "" when the
    log cannot be written (the error is still reported)."""
    log = debug_log()
    try:
        append_private(log, f"--- {datetime.now().isoformat(timespec='seconds')} govcloud {__version__} "
                            f"{scrub(' '.join(sys.argv[1:3]))}\n"
                            + scrub("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))),
                       private_dir=cache_dir())
        return f" (details in {log})"
    except OSError:
        return ""
