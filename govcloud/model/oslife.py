"""End-of-life dates of server operating systems (DOMAIN.md §3.6; vendors' published dates).

Data, not logic: a policy may add to it later. Versions match on their major
number ("7.6" → "7"), or for Windows and Ubuntu on the full release ("2008 R2", "16.04").
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from govcloud.model.enums import OsDistribution as D

EOL: dict[tuple[D, str], date] = {
    (D.centos, "5"): date(2017, 3, 31),
    (D.centos, "6"): date(2020, 11, 30),
    (D.centos, "7"): date(2024, 6, 30),
    (D.centos, "8"): date(2021, 12, 31),
    (D.rhel, "5"): date(2017, 3, 31),
    (D.rhel, "6"): date(2020, 11, 30),
    (D.rhel, "7"): date(2024, 6, 30),
    (D.windows, "2003"): date(2015, 7, 14),
    (D.windows, "2008"): date(2020, 1, 14),
    (D.windows, "2008 R2"): date(2020, 1, 14),
    (D.windows, "2012"): date(2023, 10, 10),
    (D.windows, "2012 R2"): date(2023, 10, 10),
    (D.ubuntu, "14.04"): date(2019, 4, 30),
    (D.ubuntu, "16.04"): date(2021, 4, 30),
    (D.ubuntu, "18.04"): date(2023, 5, 31),
    (D.debian, "8"): date(2020, 6, 30),
    (D.debian, "9"): date(2022, 6, 30),
    (D.debian, "10"): date(2024, 6, 30),
    (D.suse, "11"): date(2019, 3, 31),
    (D.neokylin, "6"): date(2020, 12, 31),
}


@lru_cache(maxsize=4096)
def os_eol_date(dist: D | None, version: str | None) -> date | None:
    """When the OS release stops being maintained (None: unknown or maintained). Pure and asked tens of
    thousands of times per plan for a few dozen releases: memoised."""
    if dist is None or not version:
        return None
    v = version.strip()
    return EOL.get((dist, v)) or EOL.get((dist, v.split(".")[0])) or EOL.get((dist, v.split(" ")[0]))


def is_eol(dist: D | None, version: str | None, on: date) -> bool:
    eol = os_eol_date(dist, version)
    return eol is not None and eol <= on
