"""Who and when: the one clock format and the one user lookup every record uses (journal entries,
audit-log entries, approvals, lock holders, observations, imports, exports).

When: UTC, ISO 8601, ``Z`` suffix — ``2026-11-23T04:20:00Z`` (seconds) or with milliseconds where
ordering within a second matters (the journal). Who: the login name, or ``uid:<n>`` in a container
without a passwd entry; ``user@host`` where the machine matters (journal, locks).
"""

from __future__ import annotations

import getpass
import os
import socket
from datetime import datetime, timezone


def utc_now(*, ms: bool = False) -> str:
    return (datetime.now(timezone.utc).isoformat(timespec="milliseconds" if ms else "seconds")
            .replace("+00:00", "Z"))


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (container without passwd entry): KeyError, OSError
        return f"uid:{os.getuid()}"


def user_at_host() -> str:
    return f"{os_user()}@{socket.gethostname()}"
