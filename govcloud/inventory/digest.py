"""The inventory's fingerprint: what a plan records and what staleness checks compare against."""

from __future__ import annotations

import hashlib
from pathlib import Path

from govcloud.base.digest import file_sha256
from govcloud.inventory.loader import inventory_files


def inventory_digest(root: Path, *extra: str, loaded: dict[str, bytes] | None = None) -> str:
    """SHA-256 over every inventory file (path and bytes, in load order) and ``extra`` strings.

    ``loaded`` (file → SHA-256, from LoadResult.digests) spares reading the files again
    when they were just loaded; staleness checks read them afresh."""
    h = hashlib.sha256()
    base = root if root.is_dir() else root.parent
    for path in inventory_files(root):
        rel = path.relative_to(base).as_posix()
        h.update(rel.encode() + b"\0")
        known = loaded.get(rel) if loaded else None
        h.update(known if known else bytes.fromhex(file_sha256(path)))
    for item in extra:
        h.update(b"\0" + item.encode())
    return "sha256:" + h.hexdigest()
