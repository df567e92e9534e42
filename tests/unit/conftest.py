from __future__ import annotations

from pathlib import Path

import pytest

from invtree import write_inventory_tree


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A small valid inventory on disk (see invtree.py) for a test to break."""
    return write_inventory_tree(tmp_path / "inv")


@pytest.fixture(autouse=True)
def _audit_key(tmp_path_factory, monkeypatch):
    """Every test its own audit key and anchors (never the account's ~/.config/govcloud)."""
    d = tmp_path_factory.mktemp("auditkey")
    monkeypatch.setenv("GOVCLOUD_AUDIT_KEY_FILE", str(d / "audit.key"))
    monkeypatch.delenv("GOVCLOUD_CRASH_AT", raising=False)
    # every test its own state root (per-system locks and claims): never the account's ~/.local/state
    monkeypatch.setenv("XDG_STATE_HOME", str(d / "state"))
    monkeypatch.delenv("GOVCLOUD_STATE", raising=False)
