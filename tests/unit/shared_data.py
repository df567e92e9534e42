"""Where the public sample files live (../shared/data beside the project; see ../shared/README.md).

CI clones the project next to the same shared folder; GOVCLOUD_SHARED_DATA overrides the lookup.
"""

from __future__ import annotations

import os
from pathlib import Path

_CANDIDATES = [
    os.environ.get("GOVCLOUD_SHARED_DATA"),
    Path(__file__).resolve().parents[3] / "shared" / "data",
    "/work/shared/data",
]

DATA = next((Path(c) for c in _CANDIDATES if c and Path(c).is_dir()), Path(__file__).resolve().parents[3] / "shared" / "data")
