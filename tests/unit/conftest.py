from __future__ import annotations

from pathlib import Path

import pytest

from invtree import write_inventory_tree


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A small valid inventory on disk (see invtree.py) for a test to break."""
    return write_inventory_tree(tmp_path / "inv")
