"""``/etc/os-release`` → a distribution and version: the one table discovery (inventory facts) and
the MLPS checks (end-of-life) both use, so one host is never classified two ways.

Mapped by ``ID`` first — Anolis, Kylin, UOS… say ``ID_LIKE="rhel centos"``/``debian`` and must not
become CentOS/Debian — then by ``NAME``; an unknown ID is unknown (``None``), never its ID_LIKE.
Kylin's version is its release line (``V10``), as the EOL table and inventories write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from govcloud.model.enums import OsDistribution as D

OS_IDS: dict[str, D] = {
    "debian": D.debian, "ubuntu": D.ubuntu, "centos": D.centos,
    "rhel": D.rhel, "redhat": D.rhel, "openeuler": D.openeuler,
    "kylin": D.kylin, "neokylin": D.neokylin, "uos": D.uos,
    "uniontech": D.uos, "anolis": D.anolis, "opencloudos": D.opencloudos,
    "tencentos": D.tencentos, "tlinux": D.tencentos, "alinux": D.alinux,
    "euleros": D.euleros, "sles": D.suse, "sled": D.suse,
    "opensuse": D.suse, "opensuse-leap": D.suse,
}
# NAME needles when the ID is not in OS_IDS; first match wins
_NAME_NEEDLES: tuple[tuple[str, D], ...] = (
    ("kylin", D.kylin), ("uniontech", D.uos), ("uos", D.uos), ("anolis", D.anolis),
    ("openeuler", D.openeuler), ("euleros", D.euleros), ("red hat", D.rhel), ("centos", D.centos),
)


@dataclass(frozen=True)
class OsRelease:
    distribution: D | None      # None: not a distribution govcloud knows
    version: str | None
    name: str | None            # PRETTY_NAME, else NAME


def parse_os_release(text: str) -> OsRelease:
    """Parse os-release text (``KEY=value`` lines, values quoted or not, ``#`` comments; a
    ``## /etc/kylin-release`` section marks Kylin when the ID does not)."""
    kv: dict[str, str] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            kv.setdefault(k.strip(), v.strip().strip('"').strip("'"))
    name = kv.get("NAME", "")
    dist = OS_IDS.get(kv.get("ID", "").lower())
    if dist is None:
        low = name.lower()
        dist = next((d for needle, d in _NAME_NEEDLES if needle in low), None)
    if dist is None and "## /etc/kylin-release" in text:
        dist = D.kylin
    version = kv.get("VERSION_ID") or (kv.get("VERSION", "").split(" ")[0] or None)
    if dist is D.kylin and version:
        m = re.match(r"(?i)v?(\d+)", version)
        version = f"V{m.group(1)}" if m else version
    return OsRelease(dist, version, kv.get("PRETTY_NAME") or name or None)
