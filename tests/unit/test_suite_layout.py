"""The test tree itself: pytest imports test modules by basename (rootdir-relative, no packages), so
two test files with one basename in tests/unit and tests/integration stop the whole run at
collection ("import file mismatch") — which only a whole-suite run shows."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_basename():
    seen: dict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("*.py"):
        if path.name == "__init__.py" or path.name == "conftest.py" or "__pycache__" in path.parts:
            continue
        seen[path.stem].append(str(path.relative_to(TESTS)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, clashes
