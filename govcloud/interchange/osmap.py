"""Operating-system names as inventories write them ("Red Hat Enterprise Linux 7 (64-bit)",
"Microsoft Windows Server 2012 R2 (64-bit)", "Kylin Linux Advanced Server V10", "银河麒麟 V10",
"CentOS 4/5 or later (64-bit)") → an ``OsDistribution`` value and a version.

Importers keep the name as written in the record's ``extra``; this only classifies it. A name
nothing here recognises is ``other`` — never a guess."""

from __future__ import annotations

import re
import unicodedata

from govcloud.model.enums import CpuVendor, OsDistribution as D

# (needle in the case-folded name, distribution); first match wins, so the more specific first
_NEEDLES: tuple[tuple[str, D], ...] = (
    ("neokylin", D.neokylin), ("中标麒麟", D.neokylin),
    ("kylin", D.kylin), ("麒麟", D.kylin),
    ("uniontech", D.uos), ("统信", D.uos), ("uos", D.uos), ("deepin", D.uos),
    ("openeuler", D.openeuler), ("欧拉", D.openeuler),
    ("euleros", D.euleros), ("hce", D.euleros), ("huawei cloud euler", D.euleros),
    ("anolis", D.anolis), ("龙蜥", D.anolis),
    ("opencloudos", D.opencloudos), ("tencentos", D.tencentos), ("tlinux", D.tencentos),
    ("alibaba cloud linux", D.alinux), ("aliyun linux", D.alinux), ("alinux", D.alinux),
    ("centos", D.centos),
    ("red hat enterprise", D.rhel), ("redhat enterprise", D.rhel), ("rhel", D.rhel),
    ("red hat linux", D.rhel),
    ("suse", D.suse), ("sles", D.suse),
    ("debian", D.debian), ("ubuntu", D.ubuntu),
    ("windows", D.windows),
    ("aix", D.aix), ("hp-ux", D.hpux), ("hpux", D.hpux), ("solaris", D.solaris),
)

_WINDOWS_VERSION = re.compile(r"(20\d\d(?:\s*r2)?|nt\s*\d+(?:\.\d+)?|\b(?:7|8|10|11|xp|vista)\b)")
_VERSION = re.compile(r"\b[vV]?(\d+(?:\.\d+){0,2})\b")


def classify_os(name: object) -> tuple[str, str | None]:
    """(OsDistribution value, version or None) for an OS name as written."""
    if name is None:
        return D.other.value, None
    raw = unicodedata.normalize("NFKC", str(name)).strip()
    s = raw.casefold()
    dist = D.other
    for needle, d in _NEEDLES:
        if needle in s:
            dist = d
            break
    version: str | None = None
    # the version: the first number after the distribution's name, ignoring "(64-bit)"
    body = re.sub(r"\(?\b(32|64)-?bit\)?", "", s)
    if dist is D.windows:
        m = _WINDOWS_VERSION.search(body)
        if m:
            version = re.sub(r"\s+", " ", m.group(1)).upper().replace("NT ", "NT ").strip()
            version = version.replace(" R2", " R2")
    elif dist is not D.other:
        m = _VERSION.search(body)
        if m and not (dist is D.centos and "4/5" in body):
            version = m.group(1)
            if dist is D.kylin and re.search(r"\bv\d", body):
                version = "V" + version
    return dist.value, version


def cpu_vendor_of(model: object) -> str | None:
    """A CPU vendor from a CPU model string ("Intel(R) Xeon(R) Gold 5218", "Hygon C86 7185")."""
    if not model:
        return None
    s = str(model).casefold()
    for needle, v in (("hygon", CpuVendor.hygon), ("海光", CpuVendor.hygon), ("zhaoxin", CpuVendor.zhaoxin),
                      ("兆芯", CpuVendor.zhaoxin), ("kunpeng", CpuVendor.kunpeng), ("鲲鹏", CpuVendor.kunpeng),
                      ("phytium", CpuVendor.phytium), ("飞腾", CpuVendor.phytium), ("loongson", CpuVendor.loongson),
                      ("龙芯", CpuVendor.loongson), ("intel", CpuVendor.intel), ("amd", CpuVendor.amd),
                      ("power", CpuVendor.ibm)):
        if needle in s:
            return v.value
    return None
