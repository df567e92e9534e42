"""Findings, their status and the thresholds the checks use (data, not constants).

The numbers are common assessor practice (DOMAIN.md §3.2), not the standard's text, so
they live in ``ComplianceThresholds`` with defaults here; a policy profile's
``thresholds`` overrides the fields it already has (log_retention_days,
password_max_days, lockout_deny, tmout) and ``--threshold KEY=VALUE`` overrides any.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Iterable

from govcloud.base.i18n import Msg
from govcloud.model.enums import LabeledEnum


@dataclass(frozen=True)
class Bilingual:
    """A check's wording in both languages. In a ``Result`` a plain ``str`` is data (a path, a
    config line, an account name) and reads the same in both; ``Bilingual`` is text to translate,
    made from a catalog message (``Bilingual.of(Msg(…))``).

    ``+`` and ``join`` keep the two languages side by side, so a sentence assembled from data
    and words stays a pair; ``bool(b)`` is false for an empty text (``join(...) or Bilingual.of(...)``).
    """

    zh: str
    en: str

    @classmethod
    def of(cls, msg: Msg) -> "Bilingual":
        """A catalog message in Chinese and English."""
        return cls(msg.text("zh"), msg.text("en"))

    def get(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh

    def __bool__(self) -> bool:
        return bool(self.zh or self.en)

    def __add__(self, other: "str | Bilingual") -> "Bilingual":
        o = as_msg(other)
        return Bilingual(self.zh + o.zh, self.en + o.en)

    def __radd__(self, other: str) -> "Bilingual":
        o = as_msg(other)
        return Bilingual(o.zh + self.zh, o.en + self.en)

    @staticmethod
    def join(sep: str, items: "Iterable[str | Bilingual]") -> "Bilingual":
        ms = [as_msg(i) for i in items]
        return Bilingual(sep.join(m.zh for m in ms), sep.join(m.en for m in ms))


def as_msg(v: "str | Bilingual") -> Bilingual:
    return v if isinstance(v, Bilingual) else Bilingual(v, v)


class Status(LabeledEnum):
    """Outcome of one check: the key, its English label and (from the catalog) its Chinese one."""

    passed = "pass", "pass"
    fail = "fail", "fail"
    manual = "manual", "manual review"
    not_applicable = "not_applicable", "not applicable"
    error = "error", "check error"


STANDARD = "GB/T 22239-2019"


@dataclass(frozen=True)
class Finding:
    host: str
    check_id: str
    title: str
    title_en: str
    clause: str
    levels: tuple[int, ...]
    level: int
    expected: str
    actual: str
    status: Status
    evidence: str = ""
    # expected/actual above are the Chinese wording (the findings' language of record); these
    # are the same in English — equal to them where the value is data
    expected_en: str = ""
    actual_en: str = ""

    @classmethod
    def of(cls, *, expected: "str | Bilingual", actual: "str | Bilingual", **kw: Any) -> "Finding":
        e, a = as_msg(expected), as_msg(actual)
        return cls(expected=e.zh, actual=a.zh, expected_en=e.en, actual_en=a.en, **kw)

    def expected_in(self, lang: str = "zh") -> str:
        return self.expected_en if lang == "en" else self.expected

    def actual_in(self, lang: str = "zh") -> str:
        return self.actual_en if lang == "en" else self.actual

    def to_plain(self, lang: str = "zh") -> dict[str, Any]:
        """``expected``, ``actual`` and ``status_label`` in ``lang`` (Chinese by default, as
        before); both wordings always under ``expected_zh``/``expected_en``, ``actual_zh``/``actual_en``."""
        d = asdict(self)
        d["status"] = self.status.value
        d["status_label"] = self.status.label(lang)
        d["levels"] = list(self.levels)
        d["expected_zh"], d["actual_zh"] = self.expected, self.actual
        d["expected"], d["actual"] = self.expected_in(lang), self.actual_in(lang)
        return d


def _ports(spec: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("-")
        out.append((int(a), int(b or a)))
    return tuple(out)


@dataclass
class ComplianceThresholds:
    # names shared with model.entities.Thresholds are read from the policy profile
    log_retention_days: int = 180           # Cybersecurity Law art. 21: ≥ six months
    password_max_days: int = 90
    lockout_deny: int = 5
    tmout: int = 600
    # govcloud.compliance only (ask for them in Thresholds to make them per-policy)
    password_warn_age: int = 7
    password_min_len: int = 8
    password_min_class: int = 3
    password_remember: int = 5
    lockout_unlock_time: int = 300
    ssh_client_alive_count_max: int = 3
    ssh_max_auth_tries: int = 5
    umask: str = "027"
    shadow_max_mode: str = "400"
    passwd_max_mode: str = "644"
    sudo_admins: tuple[str, ...] = ("root", "%sudo", "%wheel", "%admin")
    sudo_nopasswd_allowed: tuple[str, ...] = ()
    high_risk_ports: str = "21,23,111,135-139,445,512-514,873,2049,3389,5900-5999,6000-6063"
    allowed_ports: tuple[int, ...] = ()
    system_uid_max: int = 999
    av_signature_max_age_days: int = 7

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_policy(cls, policy: Any | None, overrides: dict[str, str] | None = None) -> "ComplianceThresholds":
        t = cls()
        pt = getattr(policy, "thresholds", None)
        if pt is not None:
            for name in cls.field_names():
                v = getattr(pt, name, None)
                if v is not None:
                    setattr(t, name, type(getattr(t, name))(v))
        for k, v in (overrides or {}).items():
            t.set(k, v)
        return t

    def set(self, key: str, value: str) -> None:
        if key not in self.field_names():
            raise KeyError(key)
        cur = getattr(self, key)
        if isinstance(cur, tuple):
            items = [x.strip() for x in str(value).split(",") if x.strip()]
            new: Any = tuple(int(x) for x in items) if key == "allowed_ports" else tuple(items)
        elif isinstance(cur, int):
            new = int(value)
        else:
            new = str(value)
            if key == "high_risk_ports":
                _ports(new)          # validate now, not at evaluation time
        setattr(self, key, new)

    def port_ranges(self) -> tuple[tuple[int, int], ...]:
        return _ports(self.high_risk_ports)

    def to_plain(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


@dataclass
class HostReport:
    host: str
    level: int
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    def counts(self) -> dict[str, int]:
        c = {s.value: 0 for s in Status}
        for f in self.findings:
            c[f.status.value] += 1
        return c
