"""One run per plan at a time: the plan directory's writer lock (:mod:`govcloud.store.lock`),
taken without waiting by the migrate commands, so a second run is refused at once with the
holder's pid, user, host, command and start time. ``plan generate`` and ``plan approve`` take
the same lock, so a plan cannot be rewritten or approved under a running migration.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from govcloud.store.lock import LockedError, writer_lock

__all__ = ["LockedError", "run_lock"]


@contextmanager
def run_lock(plan_dir: Path, command: str) -> Iterator[None]:
    with writer_lock(plan_dir, command, wait=0, busy="is being run by"):
        yield
