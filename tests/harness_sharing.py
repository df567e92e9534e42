"""How the test run shares the one harness between pytest-xdist workers.

Streams. The integration tests never run anywhere at will: they form two work units, each run by
one worker in file order (tests/conftest.py hands them out first, being first in collection order; the
other workers take the unit modules, a module or class per unit). HOSTS_ONLY modules touch
nothing but test hosts reserved to them alone (no cloud, no DNS/HAProxy, no state database;
tests/unit/test_integration_streams.py checks it), so their stream runs beside the other.

Autostart. With GOVCLOUD_HARNESS_AUTOSTART=1 or CI set, tests/integration/conftest.py starts the
harness from the first fixture that finds a piece missing; under
pytest-xdist that is a worker, and the other integration stream's worker may still need it when the
first is done. So the starter leaves a marker named after the process that owns the whole run
(xdist's controller, or the one process with -n0), and that process stops the harness at its own
session end (tests/conftest.py)."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"

HOSTS_ONLY = frozenset({
    "test_compliance.py", "test_hostile_values.py", "test_migrate_cutover.py", "test_migrate_cutover_mysql.py",
    "test_migrate_mysql.py", "test_migrate_repl_mysql.py", "test_migrate_replication.py", "test_migrate_roles.py",
})


def integration_stream(nodeid: str) -> str | None:
    """The integration work unit of a test id (None for a unit test)."""
    if not nodeid.startswith("tests/integration/"):
        return None
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return "tests/integration (hosts only)" if module in HOSTS_ONLY else "tests/integration"


def run_owner_pid() -> int:
    """The process that owns this pytest run: xdist's controller for a worker, else this one."""
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


def marker(owner: int) -> Path:
    return Path(tempfile.gettempdir()) / f"govcloud-harness-autostarted.{owner}"


def lock_path() -> Path:
    """Two streams' fixtures that find the harness missing at once take turns on this file."""
    return Path(tempfile.gettempdir()) / "govcloud-harness-autostart.lock"


def stop_if_this_run_started_it() -> None:
    """At the end of the whole run (never in a worker): ci-down.sh if this run started the harness."""
    m = marker(os.getpid())
    if os.environ.get("PYTEST_XDIST_WORKER") or not m.exists():
        return
    subprocess.run(["bash", str(HARNESS / "ci-down.sh")], timeout=600, check=False)
    m.unlink()
