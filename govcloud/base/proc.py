"""Child processes that die with their parent.

Linux ``PR_SET_PDEATHSIG`` asks the kernel to signal a process the moment its parent (thread)
dies, so a killed govcloud leaves no ssh-agent or forked reader behind. Elsewhere the call is a
no-op and the callers' other guards (watchdogs, pipe EOF) still apply.
"""

from __future__ import annotations

import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def set_pdeathsig(sig: int = signal.SIGKILL, *, parent: int | None = None) -> None:
    """Ask for ``sig`` when the parent dies. Usable as a ``preexec_fn`` (runs between fork and
    exec and survives the exec) or first thing in a forked child. With ``parent`` (the pid the
    child was forked from), exit at once if that parent is already gone — it died between the
    fork and the prctl, so the signal would never come."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):   # not Linux
        pass
    if parent is not None and os.getppid() != parent:
        os._exit(1)
