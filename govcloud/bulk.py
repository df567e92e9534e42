"""Building millions of long-lived objects without the cyclic garbage collector.

Loading an inventory or importing 10,000 VMs creates millions of small objects that all live
on and form no garbage cycles. Letting the cyclic GC rescan them again and again cost 40-60 %
of the load time of a province inventory and a third of an RVTools import; freezing them
afterwards keeps the first collection after the work from scanning them all once more (they
are still freed normally when no longer referenced).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_on:
            gc.enable()
