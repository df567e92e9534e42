"""Nothing outlives a migration run: its ssh-agent, playbooks, rsync/ssh children and SSH
control masters die with it, even when it is killed with SIGKILL.

Three layers, because each alone has a hole:

* **a run marker** — every process the run starts inherits ``GOVCLOUD_RUN=<plan key>:<run id>``
  in its environment (ansible-runner copies ``os.environ``; SSH control masters that detach
  with ControlPersist keep it), so the run's processes can be found whatever their parent,
  session or process group (ansible-runner puts ansible-playbook in a session of its own);
* **a watchdog** — a small process in its own session that holds the read end of a pipe only
  the run holds the write end of: when the run ends, however it ends, the pipe reaches EOF and
  the watchdog ends every process carrying the run's marker (TERM, then KILL);
* **a reaper at the next start** — the next run of the same plan ends whatever still carries a
  marker of this plan *whose run is dead*, should the watchdog itself have been killed; what it
  ended is journaled. Several runs of one plan run at once (per-system locks), so the marker
  names its run's process (``<plan key>:<run id>@<pid>-<start time>``) and a live run's
  processes are never touched. A marker without an owner (an older version's) is reaped.

The ssh-agent also gets ``PR_SET_PDEATHSIG`` so it goes the instant its parent does.
Linux only (``/proc``); elsewhere the guard does nothing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

RUN_ENV = "GOVCLOUD_RUN"


def plan_key(plan_dir: Path | str) -> str:
    return hashlib.sha256(str(Path(plan_dir).resolve()).encode()).hexdigest()[:16]


@dataclass
class Found:
    pid: int
    name: str
    marker: str


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): with the
    pid it names one process, never a later one that reused the pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _marker_of(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read()
    except OSError:
        return None
    key = RUN_ENV.encode() + b"="
    for item in env.split(b"\0"):
        if item.startswith(key):
            return item[len(key):].decode("utf-8", "replace")
    return None


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return "?"


def owner_alive(marker: str) -> bool:
    """Whether the run process named in ``marker`` (``…@<pid>-<start time>``) is alive."""
    head, at, owner = marker.rpartition("@")
    pid, _, start = owner.partition("-")
    if not at or not pid.isdigit() or not start.isdigit():
        return False
    return start_time(int(pid)) == int(start)


def run_marker(plan_dir: Path | str, run_id: str) -> str:
    """The marker of this process's run of ``plan_dir``: its plan, its run id, and this process."""
    me = os.getpid()
    return f"{plan_key(plan_dir)}:{run_id}@{me}-{start_time(me) or 0}"


def find(prefix: str, *, exclude: set[int] = frozenset(), dead_runs_only: bool = False) -> list[Found]:
    """Processes whose ``GOVCLOUD_RUN`` starts with ``prefix`` (``dead_runs_only``: only those
    whose run process is gone)."""
    out = []
    me = os.getpid()
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return out
    for pid in pids:
        if pid == me or pid in exclude:
            continue
        marker = _marker_of(pid)
        if marker is not None and marker.startswith(prefix) and not (dead_runs_only and owner_alive(marker)):
            out.append(Found(pid, _name(pid), marker))
    return out


def end(prefix: str, *, exclude: set[int] = frozenset(), grace: float = 2.0,
        dead_runs_only: bool = False) -> list[Found]:
    """End every process carrying a marker starting with ``prefix``: TERM, then KILL after
    ``grace`` seconds. Returns what was found. Processes are identified by pid and start time,
    so a pid reused meanwhile is never signalled."""
    found = find(prefix, exclude=exclude, dead_runs_only=dead_runs_only)
    if not found:
        return []
    starts = {f.pid: start_time(f.pid) for f in found}

    def signal_all(sig: int) -> None:
        for f in found:
            if start_time(f.pid) == starts[f.pid] and starts[f.pid] is not None:
                try:
                    os.kill(f.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass

    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if all(start_time(f.pid) != starts[f.pid] or _zombie(f.pid) for f in found):
            return found
        time.sleep(0.05)
    signal_all(signal.SIGKILL)
    return found


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2:stat.rindex(b")") + 3] == b"Z"
    except (OSError, ValueError):
        return True


@contextmanager
def guard(plan_dir: Path, run_id: str) -> Iterator[list[Found]]:
    """Reap what an earlier, dead run of this plan left (never a live concurrent run's processes),
    mark everything this run starts, and keep a watchdog that ends it all when the run ends (or
    is killed). Yields the leftovers that were ended (for the journal)."""
    if not Path("/proc/self/environ").exists():
        yield []
        return
    prefix = plan_key(plan_dir) + ":"
    marker = run_marker(plan_dir, run_id)
    leftovers = end(prefix, dead_runs_only=True)
    saved = os.environ.get(RUN_ENV)
    env = {k: v for k, v in os.environ.items() if k != RUN_ENV}
    watchdog = subprocess.Popen(
        [sys.executable, "-c", "import sys; from govcloud.drivers.procguard import _watch; _watch(sys.argv[1])",
         marker],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env, start_new_session=True, close_fds=True)
    os.environ[RUN_ENV] = marker
    try:
        yield leftovers
    finally:
        if saved is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = saved
        try:
            watchdog.stdin.close()     # EOF: the watchdog ends what is left (ControlPersist masters)
            watchdog.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _watch(marker: str) -> None:
    """The watchdog's body: wait for EOF on stdin (the run ended or died), then end the run's
    processes. Ignores SIGINT/SIGHUP so a terminal's ^C or hang-up reaches the run, not it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except OSError:
        pass
    end(marker)
