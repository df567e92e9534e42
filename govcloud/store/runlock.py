"""One run per plan at a time: an flock'd lock file that names its holder.

flock is released by the kernel when the holder dies, so a kill -9 never leaves a stale lock;
the file's content (pid, user, host, command, since) is only there to tell the next person who
holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from govcloud.errors import GovcloudError
from govcloud.store.journal import now, who

LOCK_NAME = ".migrate.lock"


class LockedError(GovcloudError):
    pass


@contextmanager
def run_lock(plan_dir: Path, command: str) -> Iterator[None]:
    path = Path(plan_dir) / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            try:
                h = json.loads(holder)
                desc = f"pid {h.get('pid')} ({h.get('who')}, `{h.get('command')}`, since {h.get('since')})"
            except ValueError:
                desc = "another process"
            raise LockedError(f"the plan is being run by {desc}",
                              hint="wait for it to finish; one run per plan at a time") from None
        body = json.dumps({"pid": os.getpid(), "who": who(), "command": command, "since": now(),
                           "argv0": os.path.basename(sys.argv[0])}, ensure_ascii=False)
        os.ftruncate(fd, 0)
        os.pwrite(fd, body.encode("utf-8") + b"\n", 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
