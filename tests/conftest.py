"""Session-wide test setup shared by the unit and integration suites.

The README runs the tests as ``.venv/bin/python -m pytest`` without activating the venv, so the
venv's ``bin/`` (ansible-playbook, ansible-inventory, govcloud) may be missing from PATH. Tests
and the tools they start (ansible-runner, subprocesses) find this interpreter's scripts first.
"""

from __future__ import annotations

import os
import sys

_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


# With CI set (or GOVCLOUD_REQUIRE_HARNESS=1) a skipped test never passes for green: whatever it
# needs (the harness, chromium, shared sample data) CI provides, so a skip means a broken setup.
_skipped: list[str] = []


def _strict() -> bool:
    return bool(os.environ.get("CI")) or os.environ.get("GOVCLOUD_REQUIRE_HARNESS") == "1"


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if _strict() and _skipped and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nFAILED: {len(_skipped)} test(s) skipped while CI is set: {_skipped[:10]}")


# The suite runs on as many workers as the machine has cores (pyproject: -n auto --dist loadscope).
# Everything under tests/integration shares one harness (hosts, DNS/HAProxy records, cloud quota), so
# it is one work unit: one worker runs it in file order, the others run the unit modules meanwhile
# (a module or class per unit) and, once they are through, help with nothing else. The integration
# unit is the largest, so it is handed out first. `-n0` runs everything in this process, as before.
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class HarnessInOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/integration/"):
                return "tests/integration"
            return super()._split_scope(nodeid)

    return HarnessInOneWorker(config, log)
