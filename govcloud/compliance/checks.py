"""MLPS 2.0 (等保 2.0) host checks, evaluated in pure Python over recorded facts.

Each check maps facts (``govcloud.compliance.facts.HostFacts``) and thresholds to one
``Finding``.  No I/O happens here, so every rule is unit-tested offline with recorded facts
(tests/unit/test_compliance_checks.py).  Clause numbers follow DOMAIN.md §3.2: level 3 is
GB/T 22239-2019 §8.1.4, level 2 is §7.1.4 (⚠ L2 sub-clause numbering is inferred there).

Decisions worth knowing:

* Mandatory access control at level 3 (8.1.4.2 g): SELinux ``Enforcing`` passes; on hosts
  without SELinux (Debian, Ubuntu, SUSE) AppArmor counts as the "equivalent MAC" only when
  the kernel module is enabled, the userspace (``apparmor_parser``) is installed and at least
  one profile is in enforce mode.  Anything else is ``fail`` — never ``not_applicable``:
  the control applies to every level-3 host whatever its distribution.
* A check that cannot be decided from the host alone (MFA through a bastion, backups,
  shared accounts, anti-malware blocking capability at L3) is ``manual`` with the evidence
  found, never a silent ``pass``.
* A section the host could not produce (non-zero exit, no root) makes the checks that
  need it ``error``, not ``fail``: a broken collector is not a non-compliant host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property
from typing import Callable, Iterable

from govcloud.compliance.facts import HostFacts
from govcloud.base.i18n import Msg, N_, tr
from govcloud.compliance.model import STANDARD, Bilingual as M, ComplianceThresholds, Finding, Status
from govcloud.model.enums import OsDistribution
from govcloud.model.oslife import is_eol, os_eol_date
from govcloud.model.osrelease import parse_os_release

EVIDENCE_MAX = 1200


@dataclass(frozen=True)
class Result:
    """A check's outcome. ``expected``/``actual`` are ``M(zh, en)`` where they are words and a
    plain ``str`` where they are data (config lines, paths, account names): the same in both."""
    status: Status
    expected: str | M
    actual: str | M
    evidence: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    title_en: str
    clauses: dict[int, str]          # level → clause (without the standard's name)
    sections: tuple[str, ...]        # fact sections that must have been collected
    fn: Callable[["Ctx"], Result]

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(sorted(self.clauses))

    def clause(self, level: int) -> str:
        c = self.clauses.get(level) or self.clauses[max(self.clauses)]
        return f"{STANDARD} {c}"


CHECKS: list[Check] = []


def check(check_id: str, title_en: str, clauses: dict[int, str], sections: Iterable[str] = ()):
    """Registers a check; ``title_en`` is marked with ``N_`` (its Chinese comes from the catalog)."""
    def deco(fn: Callable[["Ctx"], Result]) -> Callable[["Ctx"], Result]:
        CHECKS.append(Check(check_id, tr(title_en, "zh"), title_en, clauses, tuple(sections), fn))
        return fn
    return deco


def _l(sub: str) -> dict[int, str]:
    """Clause ``sub`` (e.g. ``1 a``) of §7.1.4 (L2) and §8.1.4 (L3)."""
    return {2: f"7.1.4.{sub}", 3: f"8.1.4.{sub}"}


def ev(lines: Iterable[str] | str) -> str:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return text if len(text) <= EVIDENCE_MAX else text[:EVIDENCE_MAX] + "\n…"


# ---------------------------------------------------------------- parsed facts


@dataclass(frozen=True)
class PamLine:
    file: str
    type: str
    control: str
    module: str
    args: dict[str, str]
    raw: str


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    shell: str
    state: str | None          # NP / L / P from the redacted shadow; None when unknown
    lastchg: int | None
    max_days: int | None
    expire: int | None


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except ValueError:
        return None


def _files(text: str) -> list[tuple[str, str]]:
    """Split ``## path`` headed concatenations into (path, line) pairs."""
    out, cur = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            cur = line[3:].strip()
        elif line.strip():
            out.append((cur, line.rstrip()))
    return out


def _mode_ok(mode: str, max_mode: str) -> bool:
    return int(mode, 8) & ~int(max_mode, 8) & 0o7777 == 0


NOLOGIN_SHELLS = ("nologin", "false", "/bin/sync", "/sbin/shutdown", "/sbin/halt")


class Ctx:
    def __init__(self, facts: HostFacts, level: int, th: ComplianceThresholds, today: date) -> None:
        self.f, self.level, self.th, self.today = facts, level, th, today

    @cached_property
    def meta(self) -> dict[str, str]:
        return self.f.kv("meta")

    @cached_property
    def sshd(self) -> dict[str, str]:
        d: dict[str, str] = {}
        for line in self.f.out("sshd").splitlines():
            k, _, v = line.strip().partition(" ")
            if k:
                d.setdefault(k.lower(), v.strip())
        return d

    @cached_property
    def login_defs(self) -> dict[str, str]:
        d = {}
        for line in self.f.out("login_defs").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                d[parts[0]] = parts[1]
        return d

    @cached_property
    def pam(self) -> list[PamLine]:
        out = []
        for path, line in _files(self.f.out("pam")):
            m = re.match(r"^\s*-?(\w+)\s+(\[[^\]]*\]|\S+)\s+(\S+)\s*(.*)$", line)
            if not m:
                continue
            args = {}
            for a in m.group(4).split():
                k, _, v = a.partition("=")
                args[k] = v
            out.append(PamLine(path.rsplit("/", 1)[-1], m.group(1), m.group(2), m.group(3).rsplit("/", 1)[-1], args, line.strip()))
        return out

    def pam_stack(self, kind: str, module: str) -> list[PamLine]:
        return [p for p in self.pam if p.type == kind and p.module == module]

    @cached_property
    def accounts(self) -> list[Account]:
        shadow = {}
        for line in self.f.out("shadow").splitlines():
            p = line.split(":")
            if len(p) >= 8:
                shadow[p[0]] = p
        out = []
        for line in self.f.out("passwd").splitlines():
            p = line.split(":")
            if len(p) < 7:
                continue
            s = shadow.get(p[0])
            out.append(Account(p[0], int(p[2]) if p[2].lstrip("-").isdigit() else -1, p[6],
                               s[1] if s else None, _int(s[2]) if s else None,
                               _int(s[4]) if s else None, _int(s[7]) if s else None))
        return out

    @cached_property
    def packages(self) -> set[str]:
        return {x.strip() for x in self.f.out("packages").splitlines() if x.strip()}

    @cached_property
    def processes(self) -> set[str]:
        return {x.strip() for x in self.f.out("processes").splitlines() if x.strip()}

    def have(self, section: str) -> dict[str, str]:
        return self.f.kv(section)

    @cached_property
    def today_days(self) -> int:
        return (self.today - date(1970, 1, 1)).days

    @cached_property
    def listening(self) -> list[tuple[str, str, int, str, str]]:
        """(proto, address, port, process, raw line) of each listening socket."""
        out = []
        for line in self.f.out("listening").splitlines():
            parts = line.split()
            if len(parts) < 5 or parts[0] in ("Netid", "State"):
                continue
            local = parts[4]
            addr, _, port = local.rpartition(":")
            if not port.isdigit():
                continue
            m = re.search(r'\(\("([^"]+)"', line)
            out.append((parts[0], addr, int(port), m.group(1) if m else "", line.strip()))
        return out


def _loopback(addr: str) -> bool:
    a = addr.strip("[]").split("%")[0]
    return a.startswith("127.") or a == "::1"


# ---------------------------------------------------------------- 身份鉴别 identification and authentication


@check("pwd.complexity", N_("password complexity"), _l("1 a"), ("pam",))
def c_pwd_complexity(c: Ctx) -> Result:
    th = c.th
    exp = M.of(Msg("pam_pwquality/pam_cracklib: minlen≥{password_min_len}, ≥{password_min_class} character "
                   "classes (minclass or *credit=-1)",
                   password_min_len=th.password_min_len, password_min_class=th.password_min_class))
    lines = [p for p in c.pam if p.type == "password" and p.module in ("pam_pwquality.so", "pam_cracklib.so")]
    if not lines:
        unix = [p.raw for p in c.pam if p.type == "password" and p.module == "pam_unix.so"]
        return Result(Status.fail, exp, M.of(Msg("no pam_pwquality/pam_cracklib in the password stack")),
                      ev([p.raw for p in c.pam if p.type == "password"] or unix))
    p = lines[0]
    conf = {}
    if p.module == "pam_pwquality.so":
        for _path, line in _files(c.f.out("pwquality")):
            k, _, v = line.partition("=")
            conf[k.strip()] = v.strip()
    conf.update({k: v for k, v in p.args.items() if v})
    default_len = 8 if p.module == "pam_pwquality.so" else 9
    minlen = _int(conf.get("minlen")) or default_len
    minclass = _int(conf.get("minclass")) or 0
    credits = sum(1 for k in ("dcredit", "ucredit", "lcredit", "ocredit") if (_int(conf.get(k)) or 0) <= -1)
    classes = max(minclass, credits)
    actual = f"{p.module} minlen={minlen} classes={classes}"
    ok = minlen >= th.password_min_len and classes >= th.password_min_class
    evid = [p.raw] + [f"{k}={v}" for k, v in sorted(conf.items()) if k in ("minlen", "minclass", "dcredit", "ucredit", "lcredit", "ocredit")]
    return Result(Status.passed if ok else Status.fail, exp, actual, ev(evid))


@check("pwd.expiry", N_("password expiry"), _l("1 a"), ("login_defs", "shadow", "passwd"))
def c_pwd_expiry(c: Ctx) -> Result:
    th = c.th
    exp = M.of(Msg("PASS_MAX_DAYS≤{password_max_days}, PASS_WARN_AGE≥{password_warn_age}; accounts with a "
                   "password max≤{password_max_days}",
                   password_max_days=th.password_max_days, password_warn_age=th.password_warn_age))
    mx, warn = _int(c.login_defs.get("PASS_MAX_DAYS")), _int(c.login_defs.get("PASS_WARN_AGE"))
    problems = []
    if mx is None or mx > th.password_max_days or mx <= 0:
        problems.append(f"PASS_MAX_DAYS={mx}")
    if warn is None or warn < th.password_warn_age:
        problems.append(f"PASS_WARN_AGE={warn}")
    users = [a for a in c.accounts if a.state == "P" and (a.max_days is None or a.max_days > th.password_max_days)]
    problems += [f"{a.name}: max={a.max_days if a.max_days is not None else '-'}" for a in users]
    actual = "; ".join(problems) if problems else f"PASS_MAX_DAYS={mx}, PASS_WARN_AGE={warn}"
    evidence = [f"PASS_MAX_DAYS {mx}", f"PASS_WARN_AGE {warn}"] + [f"chage {a.name}: max {a.max_days}" for a in users]
    return Result(Status.fail if problems else Status.passed, exp, actual, ev(evidence))


@check("pwd.history", N_("password history"), _l("1 a"), ("pam",))
def c_pwd_history(c: Ctx) -> Result:
    n = c.th.password_remember
    exp = f"pam_pwhistory remember≥{n}"
    best, evid = 0, []
    for p in c.pam:
        if p.type != "password":
            continue
        if p.module == "pam_pwhistory.so":
            best = max(best, _int(p.args.get("remember")) or 10)   # pam_pwhistory's default is 10
            evid.append(p.raw)
        elif p.module == "pam_unix.so" and "remember" in p.args:
            best = max(best, _int(p.args["remember"]) or 0)
            evid.append(p.raw)
    return Result(Status.passed if best >= n else Status.fail, exp,
                  f"remember={best}" if evid else M.of(Msg("pam_pwhistory not configured")), ev(evid))


@check("account.uid_unique", N_("unique UIDs, only root has UID 0"), _l("1 a"), ("passwd",))
def c_uid_unique(c: Ctx) -> Result:
    seen: dict[int, list[str]] = {}
    for a in c.accounts:
        seen.setdefault(a.uid, []).append(a.name)
    problems = [f"UID {uid}: {','.join(n)}" for uid, n in seen.items() if len(n) > 1 or (uid == 0 and n != ["root"])]
    return Result(Status.fail if problems else Status.passed,
                  M.of(Msg("only root has UID 0, no duplicate UIDs")),
                  "; ".join(problems) or M.of(Msg("{n} accounts, UIDs unique", n=len(c.accounts))),
                  ev(problems))


@check("account.empty_password", N_("accounts with an empty password"), _l("1 a"), ("shadow",))
def c_empty_password(c: Ctx) -> Result:
    bad = [a.name for a in c.accounts if a.state == "NP"]
    extra = [line.split(":")[0] for line in c.f.out("shadow").splitlines() if ":NP:" in line]
    bad = sorted(set(bad) | set(extra))
    return Result(Status.fail if bad else Status.passed, M.of(Msg("no account with an empty password")),
                  ", ".join(bad) or M.of(Msg("none")),
                  ev(f"{n}: " + tr("empty password", "zh", ctx="evidence") for n in bad))


@check("auth.lockout", N_("login-failure lockout"), _l("1 b"), ("pam",))
def c_lockout(c: Ctx) -> Result:
    th = c.th
    exp = M.of(Msg("pam_faillock/pam_tally2: deny≤{lockout_deny}, unlock_time≥{lockout_unlock_time}s (or 0 = "
                   "an administrator unlocks)",
                   lockout_deny=th.lockout_deny, lockout_unlock_time=th.lockout_unlock_time))
    files = {p.file for p in c.pam}
    required = [f for f in ("system-auth", "password-auth") if f in files] or ["common-auth"]
    conf = dict(line.split("=", 1) if "=" in line else (line.strip(), "")
                for _p, line in _files(c.f.out("faillock")))
    conf = {k.strip(): v.strip() for k, v in conf.items()}
    problems: list[str | M] = []
    evid, seen = [], False
    for f in required:
        lines = [p for p in c.pam if p.file == f and p.type == "auth" and p.module in ("pam_faillock.so", "pam_tally2.so")]
        if not lines:
            problems.append(M.of(Msg("{f}: no pam_faillock/pam_tally2", f=f)))
            continue
        seen = True
        evid += [p.raw for p in lines]
        settings = dict(conf) if lines[0].module == "pam_faillock.so" else {}
        for p in lines:
            settings.update({k: v for k, v in p.args.items() if v})
        deny = _int(settings.get("deny")) or (3 if lines[0].module == "pam_faillock.so" else None)
        unlock = _int(settings.get("unlock_time"))
        if unlock is None and lines[0].module == "pam_faillock.so":
            unlock = 600
        if deny is None or deny <= 0 or deny > th.lockout_deny:
            problems.append(f"{f}: deny={deny}")
        if unlock is None or (unlock != 0 and unlock < th.lockout_unlock_time):
            problems.append(f"{f}: unlock_time={unlock}")
        if lines[0].module == "pam_faillock.so" and not any("authfail" in p.args for p in lines):
            problems.append(M.of(Msg("{f}: no authfail line", f=f)))
    if conf:
        evid.append("faillock.conf: " + " ".join(f"{k}={v}" if v else k for k, v in conf.items()))
    return Result(Status.fail if problems or not seen else Status.passed, exp,
                  M.join("; ", problems) or M.of(Msg("configured")), ev(evid))


_TMOUT_SET = re.compile(r"(?:^|[\s;])(?:export\s+|readonly\s+|declare\s+-\w+\s+|typeset\s+-\w+\s+)?TMOUT=(\d+)")
_TMOUT_RO = re.compile(r"(?:^|[\s;])(?:readonly|declare\s+-\w*r\w*|typeset\s+-\w*r\w*)\s+(?:-\w+\s+)?TMOUT\b")


@check("session.tmout", N_("idle shell timeout (TMOUT)"), _l("1 b"), ("profile",))
def c_tmout(c: Ctx) -> Result:
    th = c.th
    lines = [ln for ln in c.f.out("profile").splitlines() if "TMOUT" in ln]
    values = []
    readonly = False
    for ln in lines:
        content = ln.split(":", 2)[-1].split("#", 1)[0]
        values += [int(v) for v in _TMOUT_SET.findall(content)]
        readonly = readonly or bool(_TMOUT_RO.search(content))
    exp = M.of(Msg("TMOUT≤{tmout} and readonly", tmout=th.tmout))
    if not values:
        return Result(Status.fail, exp, M.of(Msg("TMOUT not set")), ev(lines))
    ok = all(0 < v <= th.tmout for v in values) and readonly
    return Result(Status.passed if ok else Status.fail, exp,
                  f"TMOUT={','.join(map(str, values))}" + (" readonly" if readonly else M.of(Msg(" (not readonly)"))),
                  ev(lines))


@check("ssh.client_alive", N_("sshd ClientAliveInterval/CountMax"), _l("1 b"), ("sshd",))
def c_client_alive(c: Ctx) -> Result:
    th = c.th
    iv, cm = _int(c.sshd.get("clientaliveinterval")), _int(c.sshd.get("clientalivecountmax"))
    ok = iv is not None and 0 < iv <= th.tmout and cm is not None and cm <= th.ssh_client_alive_count_max
    return Result(Status.passed if ok else Status.fail,
                  f"ClientAliveInterval 1–{th.tmout}, ClientAliveCountMax≤{th.ssh_client_alive_count_max}",
                  f"ClientAliveInterval={iv}, ClientAliveCountMax={cm}",
                  f"sshd -T: clientaliveinterval {iv}\nclientalivecountmax {cm}")


@check("ssh.max_auth_tries", N_("sshd MaxAuthTries"), _l("1 b"), ("sshd",))
def c_max_auth_tries(c: Ctx) -> Result:
    v = _int(c.sshd.get("maxauthtries"))
    ok = v is not None and 0 < v <= c.th.ssh_max_auth_tries
    return Result(Status.passed if ok else Status.fail, f"MaxAuthTries≤{c.th.ssh_max_auth_tries}",
                  f"MaxAuthTries={v}", f"sshd -T: maxauthtries {v}")


PLAINTEXT_PORTS = {21: "ftp", 23: "telnet", 512: "rexec", 513: "rlogin", 514: "rsh"}
PLAINTEXT_PACKAGES = {"telnetd", "inetutils-telnetd", "telnetd-ssl", "telnet-server", "rsh-server", "rsh-redone-server",
                      "rsh-server-krb5", "krb5-appl-servers", "vsftpd", "proftpd-basic", "pure-ftpd", "tftpd", "tftp-server",
                      "tftpd-hpa"}


@check("remote.encrypted_only", N_("remote administration over SSH only"), _l("1 c"),
       ("listening", "packages"))
def c_remote(c: Ctx) -> Result:
    ssh = [x for x in c.listening if x[3] == "sshd"]
    plain = [x for x in c.listening if x[2] in PLAINTEXT_PORTS and not (x[0] == "udp" and x[2] == 514)]
    pkgs = sorted(c.packages & PLAINTEXT_PACKAGES)
    problems: list[M] = []
    if not ssh:
        problems.append(M.of(Msg("sshd not listening")))
    problems += [M.of(Msg("{x} listening on {x2}:{x3}", x=PLAINTEXT_PORTS[x[2]], x2=x[1], x3=x[2]))
                 for x in plain]
    problems += [M.of(Msg("{p} installed", p=p)) for p in pkgs]
    ports = ', '.join(sorted({str(x[2]) for x in ssh}))
    return Result(Status.fail if problems else Status.passed,
                  M.of(Msg("sshd listening; no telnet/rsh/rlogin/rexec/ftp service or package")),
                  M.join("; ", problems) or M.of(Msg("sshd listening on {ports}", ports=ports)),
                  ev([x[4] for x in ssh + plain] + pkgs))


@check("auth.mfa", N_("two-factor authentication"), {3: "8.1.4.1 d"}, ("sshd", "pam"))
def c_mfa(c: Ctx) -> Result:
    methods = c.sshd.get("authenticationmethods", "any")
    mfa_pam = [p.raw for p in c.pam if p.module in ("pam_google_authenticator.so", "pam_oath.so", "pam_radius_auth.so",
                                                   "pam_duo.so", "pam_u2f.so", "pam_pkcs11.so")]
    two = methods not in ("any", "") and all("," in m for m in methods.split())
    if two or mfa_pam:
        return Result(Status.passed, M.of(Msg("two or more authentication techniques combined, one of them "
                                              "cryptographic")),
                      f"AuthenticationMethods {methods}",
                      ev([f"authenticationmethods {methods}"] + mfa_pam))
    return Result(Status.manual, M.of(Msg("two or more authentication techniques combined, one of them "
                                          "cryptographic (or a bastion host)")),
                  M.of(Msg("no multi-factor authentication on the host; if logins go through a bastion or "
                           "unified authentication, provide that evidence")),
                  f"authenticationmethods {methods}")


# ---------------------------------------------------------------- 访问控制 access control


@check("account.interactive", N_("interactive accounts (shared or redundant)"),
       {2: "7.1.4.2 a", 3: "8.1.4.2 a"}, ("passwd",))
def c_interactive(c: Ctx) -> Result:
    users = [f"{a.name} uid={a.uid} shell={a.shell} pw={a.state or '?'}" for a in c.accounts
             if not a.shell.endswith(NOLOGIN_SHELLS)]
    return Result(Status.manual, M.of(Msg("each login account belongs to a named person; no shared or "
                                          "redundant accounts")),
                  M.of(Msg("{n} login accounts, to be checked against the staff list", n=len(users))), ev(users))


@check("ssh.permit_root_login", N_("PermitRootLogin no"), _l("2 b"), ("sshd",))
def c_permit_root(c: Ctx) -> Result:
    v = c.sshd.get("permitrootlogin")
    return Result(Status.passed if v == "no" else Status.fail, "PermitRootLogin no", f"PermitRootLogin {v}",
                  f"sshd -T: permitrootlogin {v}")


@check("account.system_locked", N_("system accounts locked or nologin"), _l("2 b"),
       ("passwd", "shadow"))
def c_system_locked(c: Ctx) -> Result:
    bad = [a for a in c.accounts if 0 < a.uid <= c.th.system_uid_max
           and not a.shell.endswith(NOLOGIN_SHELLS) and a.state in ("P", "NP")]
    return Result(Status.fail if bad else Status.passed,
                  M.of(Msg("system accounts (UID 1–{system_uid_max}) have a nologin/false shell or a locked "
                           "password",
                           system_uid_max=c.th.system_uid_max)),
                  ", ".join(a.name for a in bad) or M.of(Msg("all locked or nologin")),
                  ev(f"{a.name} uid={a.uid} shell={a.shell} pw={a.state}" for a in bad))


@check("account.expired", N_("expired but usable accounts"), _l("2 c"), ("passwd", "shadow"))
def c_expired(c: Ctx) -> Result:
    today = c.today_days
    bad: list[M] = []
    for a in c.accounts:
        if a.state != "P":
            continue
        if a.expire is not None and a.expire < today:
            continue                               # account expiry already disables login
        if a.lastchg is not None and a.max_days is not None and a.lastchg == 0:
            bad.append(M.of(Msg("{name}: must change the password at next login (lastchg=0)", name=a.name)))
        elif a.lastchg is not None and a.max_days is not None and a.lastchg + a.max_days < today:
            ago = today - (a.lastchg + a.max_days)
            bad.append(M.of(Msg("{name}: password expired {ago} days ago", name=a.name, ago=ago)))
    return Result(Status.fail if bad else Status.passed,
                  M.of(Msg("no account whose password expired but is still unlocked")),
                  M.join("; ", bad) or M.of(Msg("none")), ev(b.zh for b in bad))


_SUDO_SKIP = re.compile(r"^\s*(Defaults|User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias|@include|#include|@includedir)")


@check("sudo.least_privilege", N_("sudo least privilege"), _l("2 d"), ("sudoers",))
def c_sudo(c: Ctx) -> Result:
    th = c.th
    problems: list[str | M] = []
    evid = []
    for path, line in _files(c.f.out("sudoers")):
        if _SUDO_SKIP.match(line):
            continue
        m = re.match(r"^\s*(\S+(?:\s*,\s*\S+)*)\s+(\S+)\s*=\s*(.*)$", line)
        if not m:
            continue
        who = [w.strip() for w in m.group(1).split(",")]
        spec = m.group(3)
        cmds = re.sub(r"^\([^)]*\)\s*", "", spec)
        cmds = re.sub(r"^((?:[A-Z_]+:\s*)+)", "", cmds)
        all_cmds = any(x.strip() == "ALL" for x in cmds.split(","))
        for w in who:
            if all_cmds and w not in th.sudo_admins:
                problems.append(M.of(Msg("{w}: ALL commands ({path})", w=w, path=path)))
                evid.append(line.strip())
            if "NOPASSWD" in spec and w not in th.sudo_nopasswd_allowed:
                problems.append(f"{w}: NOPASSWD ({path})")
                evid.append(line.strip())
    return Result(Status.fail if problems else Status.passed,
                  M.of(Msg("only administrators ({admins}) have ALL; NOPASSWD only for {allowed}",
                           admins=", ".join(th.sudo_admins),
                           allowed=", ".join(th.sudo_nopasswd_allowed) or Msg("nobody"))),
                  M.join("; ", problems) or M.of(Msg("compliant")), ev(dict.fromkeys(evid)))


@check("file.permissions", N_("critical file permissions"), _l("2 d"), ("perms",))
def c_perms(c: Ctx) -> Result:
    th = c.th
    limits = {"/etc/passwd": th.passwd_max_mode, "/etc/group": th.passwd_max_mode,
              "/etc/shadow": th.shadow_max_mode, "/etc/gshadow": th.shadow_max_mode}
    seen: dict[str, list[str]] = {}
    problems: list[str | M] = []
    for line in c.f.out("perms").splitlines():
        p = line.split()
        if len(p) == 4:
            seen[p[0]] = p
    for path, limit in limits.items():
        p = seen.get(path)
        if p is None:
            if path != "/etc/gshadow":
                problems.append(M.of(Msg("{path} missing", path=path)))
            continue
        if not _mode_ok(p[1], limit):
            problems.append(f"{path} {p[1]} (>{limit})")
        if p[2] != "root":
            problems.append(f"{path} owner {p[2]}")
    exp = ", ".join(f"{k}≤{v}" for k, v in limits.items()) + ", owner root"
    return Result(Status.fail if problems else Status.passed, exp, M.join("; ", problems) or M.of(Msg("compliant")),
                  ev(" ".join(seen[k]) for k in limits if k in seen))


_UMASK = re.compile(r"(?:^|[\s;])umask\s+(0?[0-7]{3})\b")


@check("umask", N_("default umask"), _l("2 d"), ("profile", "login_defs"))
def c_umask(c: Ctx) -> Result:
    want = int(c.th.umask, 8)
    found = []
    for ln in c.f.out("profile").splitlines():
        content = ln.split(":", 2)[-1].split("#", 1)[0]
        found += [(ln.split(":", 1)[0], v) for v in _UMASK.findall(content)]
    if "UMASK" in c.login_defs:
        found.append(("/etc/login.defs UMASK", c.login_defs["UMASK"]))
    weak = [f"{src} {v}" for src, v in found if int(v, 8) & want != want]
    ok = bool(found) and not weak
    return Result(Status.passed if ok else Status.fail, M.of(Msg("umask {umask} or stricter", umask=c.th.umask)),
                  "; ".join(weak) if weak else (M.of(Msg("not set")) if not found else ", ".join(v for _s, v in found)),
                  ev(f"{s}: umask {v}" for s, v in found))


@check("mac.enforcing", N_("mandatory access control (SELinux/AppArmor)"),
       {3: "8.1.4.2 g"}, ("selinux", "apparmor"))
def c_mac(c: Ctx) -> Result:
    se = c.have("selinux")
    aa = c.have("apparmor")
    exp = M.of(Msg("SELinux Enforcing, or an equivalent MAC (AppArmor enabled with profiles in enforce mode)"))
    evid = [f"getenforce={se.get('mode', '-')}", f"apparmor module={aa.get('module_enabled', '-')}",
            f"apparmor_parser={aa.get('apparmor_parser', '-')}", f"enforce_profiles={aa.get('enforce_profiles', '-')}"]
    if se.get("mode", "").lower() == "enforcing":
        return Result(Status.passed, exp, "SELinux Enforcing", ev(evid))
    if aa.get("module_enabled") == "Y" and aa.get("apparmor_parser") and (_int(aa.get("enforce_profiles")) or 0) > 0:
        return Result(Status.passed, exp, f"AppArmor enforce ({aa.get('enforce_profiles')} profiles)", ev(evid))
    actual = f"SELinux {se['mode']}" if "mode" in se else M.of(Msg("no SELinux; AppArmor not enabled or no "
                                                                   "profile in enforce mode"))
    return Result(Status.fail, exp, actual, ev(evid))


# ---------------------------------------------------------------- 安全审计 audit


AUDITD_MISSING = M.of(Msg("auditd not installed"))


def _auditd_present(c: Ctx) -> bool:
    return bool(c.have("audit").get("auditd") or c.have("audit").get("auditctl") or "auditd" in c.packages)


@check("audit.enabled", N_("auditd enabled and running"), _l("3 a"), ("audit", "processes"))
def c_audit_enabled(c: Ctx) -> Result:
    exp = M.of(Msg("auditd installed and running"))
    if not _auditd_present(c):
        return Result(Status.fail, exp, AUDITD_MISSING)
    running = "auditd" in c.processes
    return Result(Status.passed if running else Status.fail, exp,
                  M.of(Msg("auditd running")) if running else M.of(Msg("auditd installed but not running")),
                  ev(c.f.out("audit").splitlines()[:10]))


AUDIT_TARGETS = {
    "identity": ("/etc/passwd", "/etc/shadow", "/etc/group"),
    "sudoers": ("/etc/sudoers",),
    "logins": ("/var/log/lastlog", "/var/log/faillog", "/var/run/faillock", "/run/faillock", "/var/log/wtmp", "/var/log/btmp"),
    "privileged/deletion": ("execve", "unlink", "rename", "rmdir"),
}


@check("audit.rules", N_("audit rules cover identity, sudoers, logins, privileged use"),
       _l("3 a"), ("audit",))
def c_audit_rules(c: Ctx) -> Result:
    exp = M.of(Msg("audit rules cover the account files, sudoers, logins, privileged commands and deletion"))
    if not _auditd_present(c):
        return Result(Status.fail, exp, AUDITD_MISSING)
    text = c.f.out("audit")
    missing = [k for k, needles in AUDIT_TARGETS.items() if not any(n in text for n in needles)]
    rules = [ln for ln in text.splitlines() if ln.startswith("-")]
    return Result(Status.fail if missing else Status.passed, exp,
                  M.of(Msg("missing: {x}", x=', '.join(missing))) if missing
                  else M.of(Msg("{n} rules", n=len(rules))), ev(rules[:20]))


@check("audit.immutable", N_("audit rules immutable (-e 2)"), {3: "8.1.4.3 d"}, ("audit",))
def c_audit_immutable(c: Ctx) -> Result:
    if not _auditd_present(c):
        return Result(Status.fail, "-e 2", AUDITD_MISSING)
    text = c.f.out("audit")
    ok = bool(re.search(r"^-e\s+2\b", text, re.M)) or bool(re.search(r"^enabled\s+2\b", text, re.M))
    return Result(Status.passed if ok else Status.fail, M.of(Msg("-e 2 (rules immutable)")),
                  M.of(Msg("set")) if ok else M.of(Msg("-e 2 not set")),
                  ev([ln for ln in text.splitlines() if ln.startswith(("-e", "enabled"))]))


@check("log.syslog", N_("rsyslog/syslog-ng running"), _l("3 a"), ("syslog", "processes"))
def c_syslog(c: Ctx) -> Result:
    have = c.have("syslog")
    running = c.processes & {"rsyslogd", "syslog-ng", "syslogd"}
    exp = M.of(Msg("rsyslog or syslog-ng running"))
    if running:
        return Result(Status.passed, exp, ", ".join(sorted(running)))
    installed = ", ".join(k for k in ("rsyslogd", "syslog-ng") if have.get(k))
    return Result(Status.fail, exp,
                  M.of(Msg("{installed} installed but not running", installed=installed)) if installed
                  else M.of(Msg("no syslog service installed")))


@check("time.sync", N_("time synchronisation"), _l("3 b"), ("processes",))
def c_time_sync(c: Ctx) -> Result:
    running = c.processes & {"chronyd", "ntpd", "systemd-timesyn", "openntpd", "ntpsec"}
    return Result(Status.passed if running else Status.fail,
                  M.of(Msg("chronyd/ntpd/timesyncd running")),
                  ", ".join(sorted(running)) or M.of(Msg("no time synchronisation service running")))


_REMOTE = re.compile(r"(^|\s)@@?\(?[\w.\-\[\]:]+|omfwd|omrelp|^\s*destination\b.*\b(network|tcp|udp|syslog)\s*\(", re.M)


@check("log.remote", N_("remote log forwarding"), _l("3 c"), ("syslog",))
def c_log_remote(c: Ctx) -> Result:
    lines = [f"{p}: {ln}" for p, ln in _files(c.f.out("syslog")) if _REMOTE.search(ln)
             or ("au-remote" in p and re.match(r"\s*active\s*=\s*yes", ln))]
    return Result(Status.passed if lines else Status.fail,
                  M.of(Msg("logs forwarded to a remote log server/SOC (@@host, omfwd, au-remote)")),
                  M.of(Msg("{n} forwarding rules", n=len(lines))) if lines
                  else M.of(Msg("no remote log forwarding configured")), ev(lines))


_PERIOD = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}
SYSLOG_FILES = ("/var/log/syslog", "/var/log/messages", "/var/log/auth.log", "/var/log/secure")


def logrotate_retention(text: str) -> dict[str, tuple[int, str]]:
    """Retention in days (rotate × period) for each syslog file a logrotate config covers."""
    glob_period, glob_rotate = 7, 4           # logrotate's own defaults: weekly, rotate 4
    out: dict[str, tuple[int, str]] = {}
    in_block, paths, period, rotate = False, [], None, None
    for _path, line in _files(text):
        s = line.strip()
        if not in_block:
            if s.endswith("{"):
                in_block, paths, period, rotate = True, paths + s[:-1].split(), None, None
            elif s in _PERIOD:
                glob_period = _PERIOD[s]
            elif s.startswith("rotate "):
                glob_rotate = _int(s.split()[1]) or 0
            elif s.startswith("/"):
                paths += s.split()              # a path list spread over lines before "{"
            continue
        if s.startswith("}"):
            p, r = period or glob_period, rotate if rotate is not None else glob_rotate
            for f in paths:
                if f in SYSLOG_FILES:
                    out[f] = (p * r, f"{f}: rotate {r} × {p} d")
            in_block, paths = False, []
        elif s in _PERIOD:
            period = _PERIOD[s]
        elif s.startswith("rotate "):
            rotate = _int(s.split()[1]) or 0
    return out


@check("log.retention", N_("log retention"), _l("3 c"), ("logrotate", "syslog"))
def c_log_retention(c: Ctx) -> Result:
    days = c.th.log_retention_days
    exp = M.of(Msg("≥{days} days (Cybersecurity Law art. 21; logrotate rotate × period)", days=days))
    if not c.have("syslog").get("logrotate"):
        return Result(Status.fail, exp, M.of(Msg("logrotate not installed; retention cannot be ensured")))
    r = logrotate_retention(c.f.out("logrotate"))
    if not r:
        return Result(Status.fail, exp, M.of(Msg("no rotation configured for the syslog files")))
    short = {f: v for f, v in r.items() if v[0] < days}
    return Result(Status.fail if short else Status.passed, exp,
                  M.join("; ", (M.of(Msg("{f} {x} days", f=f, x=v[0])) for f, v in (short or r).items())),
                  ev(v[1] for v in r.values()))


# ---------------------------------------------------------------- 入侵防范 intrusion prevention


UNNEEDED_PACKAGES = {"avahi-daemon", "cups", "cups-daemon", "bluez", "bluetooth", "wpa_supplicant", "wpasupplicant",
                     "xserver-xorg", "xserver-xorg-core", "xorg-x11-server-Xorg", "telnetd", "telnet-server",
                     "rsh-server", "ypserv", "nis", "tftpd-hpa", "tftp-server", "xinetd", "openbsd-inetd", "talkd"}


@check("service.minimal", N_("minimal installation"), _l("4 a"), ("packages",))
def c_minimal(c: Ctx) -> Result:
    bad = sorted(c.packages & UNNEEDED_PACKAGES)
    return Result(Status.fail if bad else Status.passed,
                  M.of(Msg("no unneeded components (GUI, avahi, cups, telnet-server…)")),
                  ", ".join(bad) or M.of(Msg("{n} packages, none of the unneeded ones", n=len(c.packages))), ev(bad))


@check("service.high_risk_ports", N_("high-risk listening ports"), _l("4 b"), ("listening",))
def c_ports(c: Ctx) -> Result:
    ranges = c.th.port_ranges()
    hits, local = [], []
    for proto, addr, port, proc, raw in c.listening:
        if port in c.th.allowed_ports or not any(a <= port <= b for a, b in ranges):
            continue
        (local if _loopback(addr) else hits).append(f"{proto} {addr}:{port} {proc}")
    actual: str | M = ", ".join(hits) or M.of(Msg("no high-risk port open to the network"))
    if local:
        actual += M.of(Msg(" (loopback only: {x})", x=', '.join(local)))
    return Result(Status.fail if hits else Status.passed,
                  M.of(Msg("not listening on {high_risk_ports} (allowed: {x})",
                           high_risk_ports=c.th.high_risk_ports, x=list(c.th.allowed_ports))),
                  actual, ev(x[4] for x in c.listening))


@check("firewall.host", N_("host firewall"), _l("4 c"), ("firewall",))
def c_firewall(c: Ctx) -> Result:
    text = c.f.out("firewall")
    have = c.have("firewall")
    nft_rules, ipt_rules, cur = [], [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            cur = line[3:]
        elif cur == "nft" and line.strip() and not re.match(r"^\s*(table|chain|type|policy|\}|set|elements|flags)\b", line):
            nft_rules.append(line.strip())
        elif cur == "iptables" and line.startswith("-A "):
            ipt_rules.append(line)
    fwd = have.get("firewalld", "") == "running"
    exp = M.of(Msg("nftables/iptables/firewalld have rules"))
    if nft_rules or ipt_rules or fwd:
        return Result(Status.passed, exp, M.of(Msg("nft {n} rules, iptables {n2} rules",
                                                   n=len(nft_rules), n2=len(ipt_rules)))
                      + (", firewalld running" if fwd else ""), ev((nft_rules + ipt_rules)[:20]))
    tools = ", ".join(k for k in ("nft", "iptables-save", "firewall-cmd", "ufw") if have.get(k))
    return Result(Status.fail, exp,
                  M.of(Msg("no firewall rules"))
                  + (M.of(Msg(" ({tools} installed)", tools=tools)) if tools
                     else M.of(Msg(" (no firewall tool installed)"))))


def os_identity(os_release: str) -> tuple[OsDistribution | None, str]:
    """(distribution or None when unknown, version) — the table discovery uses too."""
    rel = parse_os_release(os_release)
    return rel.distribution, rel.version or ""


@check("vuln.os_eol", N_("OS not end-of-life"), _l("4 e"), ("os_release",))
def c_os_eol(c: Ctx) -> Result:
    dist, version = os_identity(c.f.out("os_release"))
    pretty = parse_os_release(c.f.out("os_release")).name or "?"
    exp = M.of(Msg("operating system not end-of-life (EOL)"))
    if dist is None:
        return Result(Status.manual, exp, M.of(Msg("unrecognised distribution {pretty}", pretty=pretty)), pretty)
    eol = os_eol_date(dist, version)
    if is_eol(dist, version, c.today):
        return Result(Status.fail, exp, M.of(Msg("{pretty} reached its end of life on {eol}",
                                                 pretty=pretty, eol=eol)), pretty)
    return Result(Status.passed, exp,
                  f"{pretty}" + (M.of(Msg(", EOL {eol}", eol=eol)) if eol else M.of(Msg(", no known EOL date"))),
                  pretty)


@check("vuln.security_updates", N_("pending security updates"), _l("4 e"), ("updates",))
def c_updates(c: Ctx) -> Result:
    text = c.f.out("updates")
    exp = M.of(Msg("no pending security updates"))
    if "apt_lists=" in text:
        if c.f.kv("updates").get("apt_lists") in ("0", None):
            return Result(Status.manual, exp, M.of(Msg("no apt package lists, cannot decide (run apt-get "
                                                       "update or check manually)")),
                          ev(text))
        sec = [ln for ln in text.splitlines() if ln.startswith("Inst") and "security" in ln.lower()]
        return Result(Status.fail if sec else Status.passed, exp,
                      M.of(Msg("{n} security updates (per the host's package index)", n=len(sec))),
                      ev(sec[:30]))
    if "## dnf" in text or "## yum" in text:
        body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("##")]
        if any(("error" in ln.lower() or "cache" in ln.lower()) for ln in body):
            return Result(Status.manual, exp, M.of(Msg("dnf/yum cache unavailable, cannot decide")),
                          ev(body[:10]))
        return Result(Status.fail if body else Status.passed, exp,
                      M.of(Msg("{n} security updates", n=len(body))), ev(body[:30]))
    return Result(Status.manual, exp, M.of(Msg("cannot decide (no apt/dnf/yum)")), ev(text))


def _tools(c: Ctx) -> dict[str, str]:
    return c.have("security_tools")


@check("ids.presence", N_("intrusion detection agent"), {3: "8.1.4.4 f"}, ("security_tools", "processes"))
def c_ids(c: Ctx) -> Result:
    t = _tools(c)
    text = c.f.out("security_tools")
    found = [k for k in ("aide", "ossec-control", "wazuh-control") if t.get(k)] + \
            (["/var/ossec"] if "/var/ossec" in text else [])
    running = c.processes & {"wazuh-agentd", "ossec-agentd", "ossec-syscheckd", "wazuh-syscheckd"}
    if not found and not running:
        return Result(Status.fail, M.of(Msg("HIDS/EDR (AIDE, Wazuh/OSSEC or a vendor host-security agent) "
                                            "present and running")),
                      M.of(Msg("no AIDE/OSSEC/Wazuh found; check vendor agents manually")))
    return Result(Status.passed, M.of(Msg("HIDS/EDR present and running")),
                  ", ".join(found + sorted(running)), ev(text))


@check("malware.protection", N_("anti-malware"), {2: "7.1.4.5 a", 3: "8.1.4.5"}, ("security_tools",))
def c_malware(c: Ctx) -> Result:
    t = _tools(c)
    text = c.f.out("security_tools")
    found = [k for k in ("clamscan", "clamd", "wazuh-control", "ossec-control") if t.get(k)]
    if not found:
        return Result(Status.fail, M.of(Msg("anti-malware (ClamAV/EDR) with up-to-date signatures")),
                      M.of(Msg("no ClamAV/Wazuh found; check vendor agents manually")),
                      ev(text))
    ages = [int(m) for m in re.findall(r"\s(\d{9,11})\s+/var/lib/clamav/", text)]
    now = _int(c.meta.get("now")) or int(datetime.now(timezone.utc).timestamp())
    if ages and (now - max(ages)) / 86400 > c.th.av_signature_max_age_days:
        age = int((now - max(ages)) / 86400)
        return Result(Status.fail, M.of(Msg("signatures ≤{av_signature_max_age_days} days old",
                                            av_signature_max_age_days=c.th.av_signature_max_age_days)),
                      M.of(Msg("signatures not updated for {age} days", age=age)), ev(text))
    if c.level >= 3:
        return Result(Status.manual, M.of(Msg("malware protection that detects and effectively blocks, or "
                                              "active-immunity trusted verification")),
                      M.of(Msg("found {x}; the blocking capability needs a manual review",
                               x=', '.join(found))), ev(text))
    return Result(Status.passed, M.of(Msg("anti-malware with up-to-date signatures")),
                  ", ".join(found), ev(text))


@check("backup.config", N_("backup and recovery"), {2: "7.1.4.8", 3: "8.1.4.9"}, ("backup",))
def c_backup(c: Ctx) -> Result:
    hits = [f"{p}: {ln}" for p, ln in _files(c.f.out("backup"))
            if re.search(r"backup|dump|rsync|borg|restic|bacula|xtrabackup|rman|bareos", ln, re.I)]
    exp = M.of(Msg("local backup + scheduled off-site backup (L2) / real-time off-site backup + hot redundancy (L3)"))
    return Result(Status.manual, exp,
                  M.of(Msg("{n} likely backup jobs found; review the backup policy, the off-site copy and the "
                           "last successful run",
                           n=len(hits))) if hits
                  else M.of(Msg("no backup job found on the host; provide system-level backup evidence")), ev(hits))


# ---------------------------------------------------------------- evaluation


def evaluate(facts: HostFacts, level: int, thresholds: ComplianceThresholds | None = None,
             today: date | None = None, only: Iterable[str] | None = None) -> list[Finding]:
    """Every check for one host at MLPS ``level`` (2 or 3); pure."""
    th = thresholds or ComplianceThresholds()
    today = today or date.today()
    wanted = set(only) if only else None
    ctx = Ctx(facts, level, th, today)
    findings: list[Finding] = []
    for chk in CHECKS:
        if wanted is not None and chk.id not in wanted:
            continue
        base = dict(host=facts.host, check_id=chk.id, title=chk.title, title_en=chk.title_en,
                    clause=chk.clause(level), levels=chk.levels, level=level)
        if level not in chk.clauses:
            lv = '/'.join(map(str, chk.levels))
            findings.append(Finding.of(**base, expected="", actual=M.of(Msg("applies to level {lv} only", lv=lv)),
                                       status=Status.not_applicable))
            continue
        if facts.error:
            findings.append(Finding.of(**base, expected="", actual=M.of(Msg("no facts collected from the "
                                                                            "host: {error}",
                                                                            error=facts.error)),
                                       status=Status.error))
            continue
        bad = [s for s in chk.sections if facts.rc(s) is None or facts.rc(s) != 0]
        if bad:
            detail = "; ".join(f"{s}: rc={facts.rc(s)} {facts.out(s)[:200]}" for s in bad)
            findings.append(Finding.of(**base, expected="", actual=M.of(Msg("collection failed ({x})",
                                                                            x=', '.join(bad))),
                                       status=Status.error, evidence=ev(detail)))
            continue
        try:
            r = chk.fn(ctx)
        except Exception as exc:          # a rule bug must not hide the other findings
            findings.append(Finding.of(**base, expected="", actual=M.of(Msg("the check failed to run: {x}",
                                                                            x=type(exc).__name__)),
                                       status=Status.error))
            continue
        findings.append(Finding.of(**base, expected=r.expected, actual=r.actual, status=r.status, evidence=r.evidence))
    return findings


def check_ids() -> list[str]:
    return [c.id for c in CHECKS]
