"""Session-wide test setup shared by the unit and integration suites.

The README runs the tests as ``.venv/bin/python -m pytest`` without activating the venv, so the
venv's ``bin/`` (ansible-playbook, ansible-inventory, govcloud) may be missing from PATH. Tests
and the tools they start (ansible-runner, subprocesses) find this interpreter's scripts first.
"""

from __future__ import annotations

import os
import sys

import harness_sharing

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
    harness_sharing.stop_if_this_run_started_it()
    if _strict() and _skipped and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nFAILED: {len(_skipped)} test(s) skipped while CI is set: {_skipped[:10]}")


# The suite runs on as many workers as the machine has cores (pyproject: -n auto --dist loadscope);
# the integration tests in two streams, each on one worker in file order (tests/harness_sharing.py).
# `-n0` runs everything in this process, in file order.
def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling
    # units in collection order, so the two integration streams (first in it) start at once; by
    # size, a unit module with more tests than the smaller stream would go before it
    config.option.loadscopereorder = False

    class HarnessStreams(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return harness_sharing.integration_stream(nodeid) or super()._split_scope(nodeid)

    return HarnessStreams(config, log)
