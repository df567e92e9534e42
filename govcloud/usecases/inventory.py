"""Inventory use cases that write: a synthetic inventory (``inventory generate``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from govcloud.base.progress import NULL, Progress
from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError, UsageError

SCALES = ("city", "province", "national")


@dataclass
class GeneratedInventory:
    out: Path
    scale: str
    seed: int
    organizations: int
    systems: int
    servers: int
    seconds: float


def generate(out: Path, *, scale: str, seed: int, force: bool, progress: Progress = NULL) -> GeneratedInventory:
    """A synthetic inventory with realistic distributions, deterministic for a seed,
    written under the directory's writer lock; refuses a non-empty directory unless ``force``."""
    from govcloud.inventory.generate import generate_inventory, write_generated
    from govcloud.store.lock import writer_lock

    if scale not in SCALES:
        raise UsageError(Msg("--scale must be city, province or national, not '{scale}'", scale=scale))
    started = time.perf_counter()
    with progress.phase("generate.build"):
        inv = generate_inventory(scale, seed)
    if out.exists() and not out.is_dir():
        raise GovcloudError(Msg("{out} exists and is not a directory", out=out))
    try:
        with writer_lock(out, f"inventory generate --scale {scale}"):
            with progress.phase("generate.write"):
                write_generated(inv, out, force=force)
    except FileExistsError as exc:
        message = exc.args[0] if exc.args and isinstance(exc.args[0], Msg) else str(exc)   # keep a Msg translatable
        raise GovcloudError(message, hint=Msg("choose an empty directory or pass --force")) from None
    return GeneratedInventory(out, scale, seed, len(inv.organizations), len(inv.systems), len(inv.servers),
                              time.perf_counter() - started)
