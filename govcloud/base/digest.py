"""SHA-256 of files, read in 1 MiB chunks (so a multi-gigabyte census or export never sits in memory).

The one place govcloud hashes a file's bytes: the import's source digest, the export manifest,
the transaction journal's staged files and the plan digest in approvals all come through here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of one file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: Path | str) -> str:
    """``sha256:<hex>`` of one file: the form plans and approvals record."""
    return "sha256:" + file_sha256(path)


def tree_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file, or of a directory: every file under it (relative path, NUL, the
    file's hex SHA-256) in sorted order."""
    path = Path(path)
    if not path.is_dir():
        return file_sha256(path)
    h = hashlib.sha256()
    for p in sorted(x for x in path.rglob("*") if x.is_file()):
        h.update(p.relative_to(path).as_posix().encode() + b"\0")
        h.update(file_sha256(p).encode())
    return h.hexdigest()
