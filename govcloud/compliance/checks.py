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
from govcloud.compliance.model import STANDARD, ComplianceThresholds, Finding, Msg as M, Status
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


def check(check_id: str, title: str, title_en: str, clauses: dict[int, str], sections: Iterable[str] = ()):
    def deco(fn: Callable[["Ctx"], Result]) -> Callable[["Ctx"], Result]:
        CHECKS.append(Check(check_id, title, title_en, clauses, tuple(sections), fn))
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


@check("pwd.complexity", "口令复杂度", "password complexity", _l("1 a"), ("pam",))
def c_pwd_complexity(c: Ctx) -> Result:
    th = c.th
    exp = M(f"pam_pwquality/pam_cracklib: minlen≥{th.password_min_len}, ≥{th.password_min_class} 类字符 (minclass or *credit=-1)",
            f"pam_pwquality/pam_cracklib: minlen≥{th.password_min_len}, ≥{th.password_min_class} character classes"
            " (minclass or *credit=-1)")
    lines = [p for p in c.pam if p.type == "password" and p.module in ("pam_pwquality.so", "pam_cracklib.so")]
    if not lines:
        unix = [p.raw for p in c.pam if p.type == "password" and p.module == "pam_unix.so"]
        return Result(Status.fail, exp, M("密码栈中无 pam_pwquality/pam_cracklib (no complexity module in the password stack)",
                                          "no pam_pwquality/pam_cracklib in the password stack"),
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


@check("pwd.expiry", "口令定期更换", "password expiry", _l("1 a"), ("login_defs", "shadow", "passwd"))
def c_pwd_expiry(c: Ctx) -> Result:
    th = c.th
    exp = M(f"PASS_MAX_DAYS≤{th.password_max_days}, PASS_WARN_AGE≥{th.password_warn_age}; 有口令账户 max≤{th.password_max_days}",
            f"PASS_MAX_DAYS≤{th.password_max_days}, PASS_WARN_AGE≥{th.password_warn_age}; "
            f"accounts with a password max≤{th.password_max_days}")
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


@check("pwd.history", "口令历史", "password history", _l("1 a"), ("pam",))
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
                  f"remember={best}" if evid else M("未配置 pam_pwhistory (not configured)", "pam_pwhistory not configured"), ev(evid))


@check("account.uid_unique", "账户唯一性(仅root为UID 0)", "unique UIDs, only root has UID 0", _l("1 a"), ("passwd",))
def c_uid_unique(c: Ctx) -> Result:
    seen: dict[int, list[str]] = {}
    for a in c.accounts:
        seen.setdefault(a.uid, []).append(a.name)
    problems = [f"UID {uid}: {','.join(n)}" for uid, n in seen.items() if len(n) > 1 or (uid == 0 and n != ["root"])]
    return Result(Status.fail if problems else Status.passed,
                  M("仅 root 的 UID 为 0，无重复 UID", "only root has UID 0, no duplicate UIDs"),
                  "; ".join(problems) or M(f"{len(c.accounts)} 个账户 UID 唯一", f"{len(c.accounts)} accounts, UIDs unique"),
                  ev(problems))


@check("account.empty_password", "空口令账户", "accounts with an empty password", _l("1 a"), ("shadow",))
def c_empty_password(c: Ctx) -> Result:
    bad = [a.name for a in c.accounts if a.state == "NP"]
    extra = [line.split(":")[0] for line in c.f.out("shadow").splitlines() if ":NP:" in line]
    bad = sorted(set(bad) | set(extra))
    return Result(Status.fail if bad else Status.passed, M("无空口令账户", "no account with an empty password"),
                  ", ".join(bad) or M("无", "none"),
                  ev(f"{n}: 空口令 (empty password)" for n in bad))


@check("auth.lockout", "登录失败处理", "login-failure lockout", _l("1 b"), ("pam",))
def c_lockout(c: Ctx) -> Result:
    th = c.th
    exp = M(f"pam_faillock/pam_tally2: deny≤{th.lockout_deny}, unlock_time≥{th.lockout_unlock_time}s (或0=需管理员解锁)",
            f"pam_faillock/pam_tally2: deny≤{th.lockout_deny}, unlock_time≥{th.lockout_unlock_time}s"
            " (or 0 = an administrator unlocks)")
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
            problems.append(M(f"{f}: 无 pam_faillock/pam_tally2", f"{f}: no pam_faillock/pam_tally2"))
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
            problems.append(M(f"{f}: 无 authfail 行", f"{f}: no authfail line"))
    if conf:
        evid.append("faillock.conf: " + " ".join(f"{k}={v}" if v else k for k, v in conf.items()))
    return Result(Status.fail if problems or not seen else Status.passed, exp,
                  M.join("; ", problems) or M("已配置 (configured)", "configured"), ev(evid))


_TMOUT_SET = re.compile(r"(?:^|[\s;])(?:export\s+|readonly\s+|declare\s+-\w+\s+|typeset\s+-\w+\s+)?TMOUT=(\d+)")
_TMOUT_RO = re.compile(r"(?:^|[\s;])(?:readonly|declare\s+-\w*r\w*|typeset\s+-\w*r\w*)\s+(?:-\w+\s+)?TMOUT\b")


@check("session.tmout", "登录超时自动退出(TMOUT)", "idle shell timeout (TMOUT)", _l("1 b"), ("profile",))
def c_tmout(c: Ctx) -> Result:
    th = c.th
    lines = [ln for ln in c.f.out("profile").splitlines() if "TMOUT" in ln]
    values = []
    readonly = False
    for ln in lines:
        content = ln.split(":", 2)[-1].split("#", 1)[0]
        values += [int(v) for v in _TMOUT_SET.findall(content)]
        readonly = readonly or bool(_TMOUT_RO.search(content))
    exp = M(f"TMOUT≤{th.tmout} 且 readonly", f"TMOUT≤{th.tmout} and readonly")
    if not values:
        return Result(Status.fail, exp, M("未设置 TMOUT (not set)", "TMOUT not set"), ev(lines))
    ok = all(0 < v <= th.tmout for v in values) and readonly
    return Result(Status.passed if ok else Status.fail, exp,
                  f"TMOUT={','.join(map(str, values))}" + (" readonly" if readonly else M(" (非 readonly)", " (not readonly)")),
                  ev(lines))


@check("ssh.client_alive", "SSH 空闲超时", "sshd ClientAliveInterval/CountMax", _l("1 b"), ("sshd",))
def c_client_alive(c: Ctx) -> Result:
    th = c.th
    iv, cm = _int(c.sshd.get("clientaliveinterval")), _int(c.sshd.get("clientalivecountmax"))
    ok = iv is not None and 0 < iv <= th.tmout and cm is not None and cm <= th.ssh_client_alive_count_max
    return Result(Status.passed if ok else Status.fail,
                  f"ClientAliveInterval 1–{th.tmout}, ClientAliveCountMax≤{th.ssh_client_alive_count_max}",
                  f"ClientAliveInterval={iv}, ClientAliveCountMax={cm}",
                  f"sshd -T: clientaliveinterval {iv}\nclientalivecountmax {cm}")


@check("ssh.max_auth_tries", "SSH 认证尝试次数", "sshd MaxAuthTries", _l("1 b"), ("sshd",))
def c_max_auth_tries(c: Ctx) -> Result:
    v = _int(c.sshd.get("maxauthtries"))
    ok = v is not None and 0 < v <= c.th.ssh_max_auth_tries
    return Result(Status.passed if ok else Status.fail, f"MaxAuthTries≤{c.th.ssh_max_auth_tries}",
                  f"MaxAuthTries={v}", f"sshd -T: maxauthtries {v}")


PLAINTEXT_PORTS = {21: "ftp", 23: "telnet", 512: "rexec", 513: "rlogin", 514: "rsh"}
PLAINTEXT_PACKAGES = {"telnetd", "inetutils-telnetd", "telnetd-ssl", "telnet-server", "rsh-server", "rsh-redone-server",
                      "rsh-server-krb5", "krb5-appl-servers", "vsftpd", "proftpd-basic", "pure-ftpd", "tftpd", "tftp-server",
                      "tftpd-hpa"}


@check("remote.encrypted_only", "远程管理仅用加密通道(SSH)", "remote administration over SSH only", _l("1 c"),
       ("listening", "packages"))
def c_remote(c: Ctx) -> Result:
    ssh = [x for x in c.listening if x[3] == "sshd"]
    plain = [x for x in c.listening if x[2] in PLAINTEXT_PORTS and not (x[0] == "udp" and x[2] == 514)]
    pkgs = sorted(c.packages & PLAINTEXT_PACKAGES)
    problems: list[M] = []
    if not ssh:
        problems.append(M("sshd 未监听", "sshd not listening"))
    problems += [M(f"{PLAINTEXT_PORTS[x[2]]} 监听 {x[1]}:{x[2]}", f"{PLAINTEXT_PORTS[x[2]]} listening on {x[1]}:{x[2]}")
                 for x in plain]
    problems += [M(f"已安装 {p}", f"{p} installed") for p in pkgs]
    ports = ', '.join(sorted({str(x[2]) for x in ssh}))
    return Result(Status.fail if problems else Status.passed,
                  M("sshd 监听；无 telnet/rsh/rlogin/rexec/ftp 服务或软件包",
                    "sshd listening; no telnet/rsh/rlogin/rexec/ftp service or package"),
                  M.join("; ", problems) or M(f"sshd 监听 {ports}", f"sshd listening on {ports}"),
                  ev([x[4] for x in ssh + plain] + pkgs))


@check("auth.mfa", "双因素认证", "two-factor authentication", {3: "8.1.4.1 d"}, ("sshd", "pam"))
def c_mfa(c: Ctx) -> Result:
    methods = c.sshd.get("authenticationmethods", "any")
    mfa_pam = [p.raw for p in c.pam if p.module in ("pam_google_authenticator.so", "pam_oath.so", "pam_radius_auth.so",
                                                   "pam_duo.so", "pam_u2f.so", "pam_pkcs11.so")]
    two = methods not in ("any", "") and all("," in m for m in methods.split())
    if two or mfa_pam:
        return Result(Status.passed, M("两种以上鉴别技术组合，其一为密码技术",
                                       "two or more authentication techniques combined, one of them cryptographic"),
                      f"AuthenticationMethods {methods}",
                      ev([f"authenticationmethods {methods}"] + mfa_pam))
    return Result(Status.manual, M("两种以上鉴别技术组合，其一为密码技术(或堡垒机)",
                                   "two or more authentication techniques combined, one of them cryptographic"
                                   " (or a bastion host)"),
                  M("主机未配置多因素；如经堡垒机/统一认证，请提供证据 (bastion/MFA evidence needed)",
                    "no multi-factor authentication on the host; if logins go through a bastion or unified"
                    " authentication, provide that evidence"),
                  f"authenticationmethods {methods}")


# ---------------------------------------------------------------- 访问控制 access control


@check("account.interactive", "可登录账户清单(共享/多余账户)", "interactive accounts (shared or redundant)",
       {2: "7.1.4.2 a", 3: "8.1.4.2 a"}, ("passwd",))
def c_interactive(c: Ctx) -> Result:
    users = [f"{a.name} uid={a.uid} shell={a.shell} pw={a.state or '?'}" for a in c.accounts
             if not a.shell.endswith(NOLOGIN_SHELLS)]
    return Result(Status.manual, M("每个可登录账户对应具体责任人，无共享/多余账户",
                                   "each login account belongs to a named person; no shared or redundant accounts"),
                  M(f"{len(users)} 个可登录账户，需与人员名单核对",
                    f"{len(users)} login accounts, to be checked against the staff list"), ev(users))


@check("ssh.permit_root_login", "禁止 root 远程登录", "PermitRootLogin no", _l("2 b"), ("sshd",))
def c_permit_root(c: Ctx) -> Result:
    v = c.sshd.get("permitrootlogin")
    return Result(Status.passed if v == "no" else Status.fail, "PermitRootLogin no", f"PermitRootLogin {v}",
                  f"sshd -T: permitrootlogin {v}")


@check("account.system_locked", "默认/系统账户锁定或禁止登录", "system accounts locked or nologin", _l("2 b"),
       ("passwd", "shadow"))
def c_system_locked(c: Ctx) -> Result:
    bad = [a for a in c.accounts if 0 < a.uid <= c.th.system_uid_max
           and not a.shell.endswith(NOLOGIN_SHELLS) and a.state in ("P", "NP")]
    return Result(Status.fail if bad else Status.passed,
                  M(f"UID 1–{c.th.system_uid_max} 的系统账户 shell 为 nologin/false 或口令锁定",
                    f"system accounts (UID 1–{c.th.system_uid_max}) have a nologin/false shell or a locked password"),
                  ", ".join(a.name for a in bad) or M("均已锁定或禁止登录", "all locked or nologin"),
                  ev(f"{a.name} uid={a.uid} shell={a.shell} pw={a.state}" for a in bad))


@check("account.expired", "过期账户", "expired but usable accounts", _l("2 c"), ("passwd", "shadow"))
def c_expired(c: Ctx) -> Result:
    today = c.today_days
    bad: list[M] = []
    for a in c.accounts:
        if a.state != "P":
            continue
        if a.expire is not None and a.expire < today:
            continue                               # account expiry already disables login
        if a.lastchg is not None and a.max_days is not None and a.lastchg == 0:
            bad.append(M(f"{a.name}: 须下次登录改口令 (lastchg=0)", f"{a.name}: must change the password at next login (lastchg=0)"))
        elif a.lastchg is not None and a.max_days is not None and a.lastchg + a.max_days < today:
            ago = today - (a.lastchg + a.max_days)
            bad.append(M(f"{a.name}: 口令已于 {ago} 天前过期", f"{a.name}: password expired {ago} days ago"))
    return Result(Status.fail if bad else Status.passed,
                  M("无口令已过期但未锁定/删除的账户", "no account whose password expired but is still unlocked"),
                  M.join("; ", bad) or M("无", "none"), ev(b.zh for b in bad))


_SUDO_SKIP = re.compile(r"^\s*(Defaults|User_Alias|Runas_Alias|Host_Alias|Cmnd_Alias|Cmd_Alias|@include|#include|@includedir)")


@check("sudo.least_privilege", "sudo 最小权限", "sudo least privilege", _l("2 d"), ("sudoers",))
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
                problems.append(M(f"{w}: ALL 命令 ({path})", f"{w}: ALL commands ({path})"))
                evid.append(line.strip())
            if "NOPASSWD" in spec and w not in th.sudo_nopasswd_allowed:
                problems.append(f"{w}: NOPASSWD ({path})")
                evid.append(line.strip())
    return Result(Status.fail if problems else Status.passed,
                  M(f"仅管理员({', '.join(th.sudo_admins)})拥有 ALL；NOPASSWD 仅限 {', '.join(th.sudo_nopasswd_allowed) or '无'}",
                    f"only administrators ({', '.join(th.sudo_admins)}) have ALL; NOPASSWD only for "
                    f"{', '.join(th.sudo_nopasswd_allowed) or 'nobody'}"),
                  M.join("; ", problems) or M("符合", "compliant"), ev(dict.fromkeys(evid)))


@check("file.permissions", "关键文件权限", "critical file permissions", _l("2 d"), ("perms",))
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
                problems.append(M(f"{path} 缺失", f"{path} missing"))
            continue
        if not _mode_ok(p[1], limit):
            problems.append(f"{path} {p[1]} (>{limit})")
        if p[2] != "root":
            problems.append(f"{path} owner {p[2]}")
    exp = ", ".join(f"{k}≤{v}" for k, v in limits.items()) + ", owner root"
    return Result(Status.fail if problems else Status.passed, exp, M.join("; ", problems) or M("符合", "compliant"),
                  ev(" ".join(seen[k]) for k in limits if k in seen))


_UMASK = re.compile(r"(?:^|[\s;])umask\s+(0?[0-7]{3})\b")


@check("umask", "默认 umask", "default umask", _l("2 d"), ("profile", "login_defs"))
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
    return Result(Status.passed if ok else Status.fail, M(f"umask {c.th.umask} 或更严格", f"umask {c.th.umask} or stricter"),
                  "; ".join(weak) if weak else (M("未设置", "not set") if not found else ", ".join(v for _s, v in found)),
                  ev(f"{s}: umask {v}" for s, v in found))


@check("mac.enforcing", "强制访问控制(安全标记)", "mandatory access control (SELinux/AppArmor)",
       {3: "8.1.4.2 g"}, ("selinux", "apparmor"))
def c_mac(c: Ctx) -> Result:
    se = c.have("selinux")
    aa = c.have("apparmor")
    exp = M("SELinux Enforcing，或等效 MAC (AppArmor 已启用且有 enforce 配置)",
            "SELinux Enforcing, or an equivalent MAC (AppArmor enabled with profiles in enforce mode)")
    evid = [f"getenforce={se.get('mode', '-')}", f"apparmor module={aa.get('module_enabled', '-')}",
            f"apparmor_parser={aa.get('apparmor_parser', '-')}", f"enforce_profiles={aa.get('enforce_profiles', '-')}"]
    if se.get("mode", "").lower() == "enforcing":
        return Result(Status.passed, exp, "SELinux Enforcing", ev(evid))
    if aa.get("module_enabled") == "Y" and aa.get("apparmor_parser") and (_int(aa.get("enforce_profiles")) or 0) > 0:
        return Result(Status.passed, exp, f"AppArmor enforce ({aa.get('enforce_profiles')} profiles)", ev(evid))
    actual = f"SELinux {se['mode']}" if "mode" in se else M("无 SELinux，AppArmor 未启用/无 enforce 配置",
                                                             "no SELinux; AppArmor not enabled or no profile in enforce mode")
    return Result(Status.fail, exp, actual, ev(evid))


# ---------------------------------------------------------------- 安全审计 audit


AUDITD_MISSING = M("auditd 未安装 (not installed)", "auditd not installed")


def _auditd_present(c: Ctx) -> bool:
    return bool(c.have("audit").get("auditd") or c.have("audit").get("auditctl") or "auditd" in c.packages)


@check("audit.enabled", "审计服务 auditd", "auditd enabled and running", _l("3 a"), ("audit", "processes"))
def c_audit_enabled(c: Ctx) -> Result:
    exp = M("auditd 已安装并运行", "auditd installed and running")
    if not _auditd_present(c):
        return Result(Status.fail, exp, AUDITD_MISSING)
    running = "auditd" in c.processes
    return Result(Status.passed if running else Status.fail, exp,
                  M("auditd 运行中", "auditd running") if running else M("auditd 已安装但未运行", "auditd installed but not running"),
                  ev(c.f.out("audit").splitlines()[:10]))


AUDIT_TARGETS = {
    "identity": ("/etc/passwd", "/etc/shadow", "/etc/group"),
    "sudoers": ("/etc/sudoers",),
    "logins": ("/var/log/lastlog", "/var/log/faillog", "/var/run/faillock", "/run/faillock", "/var/log/wtmp", "/var/log/btmp"),
    "privileged/deletion": ("execve", "unlink", "rename", "rmdir"),
}


@check("audit.rules", "审计规则覆盖", "audit rules cover identity, sudoers, logins, privileged use",
       _l("3 a"), ("audit",))
def c_audit_rules(c: Ctx) -> Result:
    exp = M("审计规则覆盖账户文件、sudoers、登录、特权命令/删除",
            "audit rules cover the account files, sudoers, logins, privileged commands and deletion")
    if not _auditd_present(c):
        return Result(Status.fail, exp, AUDITD_MISSING)
    text = c.f.out("audit")
    missing = [k for k, needles in AUDIT_TARGETS.items() if not any(n in text for n in needles)]
    rules = [ln for ln in text.splitlines() if ln.startswith("-")]
    return Result(Status.fail if missing else Status.passed, exp,
                  M(f"缺少: {', '.join(missing)}", f"missing: {', '.join(missing)}") if missing
                  else M(f"{len(rules)} 条规则", f"{len(rules)} rules"), ev(rules[:20]))


@check("audit.immutable", "审计进程保护(规则不可变 -e 2)", "audit rules immutable (-e 2)", {3: "8.1.4.3 d"}, ("audit",))
def c_audit_immutable(c: Ctx) -> Result:
    if not _auditd_present(c):
        return Result(Status.fail, "-e 2", AUDITD_MISSING)
    text = c.f.out("audit")
    ok = bool(re.search(r"^-e\s+2\b", text, re.M)) or bool(re.search(r"^enabled\s+2\b", text, re.M))
    return Result(Status.passed if ok else Status.fail, M("-e 2 (规则不可变)", "-e 2 (rules immutable)"),
                  M("已设置", "set") if ok else M("未设置 -e 2", "-e 2 not set"),
                  ev([ln for ln in text.splitlines() if ln.startswith(("-e", "enabled"))]))


@check("log.syslog", "系统日志服务", "rsyslog/syslog-ng running", _l("3 a"), ("syslog", "processes"))
def c_syslog(c: Ctx) -> Result:
    have = c.have("syslog")
    running = c.processes & {"rsyslogd", "syslog-ng", "syslogd"}
    exp = M("rsyslog 或 syslog-ng 运行", "rsyslog or syslog-ng running")
    if running:
        return Result(Status.passed, exp, ", ".join(sorted(running)))
    installed = ", ".join(k for k in ("rsyslogd", "syslog-ng") if have.get(k))
    return Result(Status.fail, exp,
                  M(f"{installed} 已安装但未运行", f"{installed} installed but not running") if installed
                  else M("未安装 syslog 服务", "no syslog service installed"))


@check("time.sync", "时间同步", "time synchronisation", _l("3 b"), ("processes",))
def c_time_sync(c: Ctx) -> Result:
    running = c.processes & {"chronyd", "ntpd", "systemd-timesyn", "openntpd", "ntpsec"}
    return Result(Status.passed if running else Status.fail,
                  M("chronyd/ntpd/timesyncd 运行", "chronyd/ntpd/timesyncd running"),
                  ", ".join(sorted(running)) or M("未运行时间同步服务", "no time synchronisation service running"))


_REMOTE = re.compile(r"(^|\s)@@?\(?[\w.\-\[\]:]+|omfwd|omrelp|^\s*destination\b.*\b(network|tcp|udp|syslog)\s*\(", re.M)


@check("log.remote", "日志异地备份(远程日志)", "remote log forwarding", _l("3 c"), ("syslog",))
def c_log_remote(c: Ctx) -> Result:
    lines = [f"{p}: {ln}" for p, ln in _files(c.f.out("syslog")) if _REMOTE.search(ln)
             or ("au-remote" in p and re.match(r"\s*active\s*=\s*yes", ln))]
    return Result(Status.passed if lines else Status.fail,
                  M("日志转发至远程日志服务器/SOC (@@host, omfwd, au-remote)",
                    "logs forwarded to a remote log server/SOC (@@host, omfwd, au-remote)"),
                  M(f"{len(lines)} 条转发配置", f"{len(lines)} forwarding rules") if lines
                  else M("未配置远程日志转发", "no remote log forwarding configured"), ev(lines))


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


@check("log.retention", "日志留存期限", "log retention", _l("3 c"), ("logrotate", "syslog"))
def c_log_retention(c: Ctx) -> Result:
    days = c.th.log_retention_days
    exp = M(f"≥{days} 天 (网络安全法第21条；logrotate rotate×周期)",
            f"≥{days} days (Cybersecurity Law art. 21; logrotate rotate × period)")
    if not c.have("syslog").get("logrotate"):
        return Result(Status.fail, exp, M("logrotate 未安装 (not installed)；无法保证留存期",
                                          "logrotate not installed; retention cannot be ensured"))
    r = logrotate_retention(c.f.out("logrotate"))
    if not r:
        return Result(Status.fail, exp, M("无 syslog 日志轮转配置 (no rotation for syslog files)",
                                          "no rotation configured for the syslog files"))
    short = {f: v for f, v in r.items() if v[0] < days}
    return Result(Status.fail if short else Status.passed, exp,
                  M.join("; ", (M(f"{f} {v[0]} 天", f"{f} {v[0]} days") for f, v in (short or r).items())),
                  ev(v[1] for v in r.values()))


# ---------------------------------------------------------------- 入侵防范 intrusion prevention


UNNEEDED_PACKAGES = {"avahi-daemon", "cups", "cups-daemon", "bluez", "bluetooth", "wpa_supplicant", "wpasupplicant",
                     "xserver-xorg", "xserver-xorg-core", "xorg-x11-server-Xorg", "telnetd", "telnet-server",
                     "rsh-server", "ypserv", "nis", "tftpd-hpa", "tftp-server", "xinetd", "openbsd-inetd", "talkd"}


@check("service.minimal", "最小安装", "minimal installation", _l("4 a"), ("packages",))
def c_minimal(c: Ctx) -> Result:
    bad = sorted(c.packages & UNNEEDED_PACKAGES)
    return Result(Status.fail if bad else Status.passed,
                  M("不安装多余组件 (GUI、avahi、cups、telnet-server…)", "no unneeded components (GUI, avahi, cups, telnet-server…)"),
                  ", ".join(bad) or M(f"{len(c.packages)} 个软件包，无禁用组件",
                                      f"{len(c.packages)} packages, none of the unneeded ones"), ev(bad))


@check("service.high_risk_ports", "高危端口", "high-risk listening ports", _l("4 b"), ("listening",))
def c_ports(c: Ctx) -> Result:
    ranges = c.th.port_ranges()
    hits, local = [], []
    for proto, addr, port, proc, raw in c.listening:
        if port in c.th.allowed_ports or not any(a <= port <= b for a, b in ranges):
            continue
        (local if _loopback(addr) else hits).append(f"{proto} {addr}:{port} {proc}")
    actual: str | M = ", ".join(hits) or M("无对外高危端口", "no high-risk port open to the network")
    if local:
        actual += M(f" (仅本机回环: {', '.join(local)})", f" (loopback only: {', '.join(local)})")
    return Result(Status.fail if hits else Status.passed,
                  M(f"不监听 {c.th.high_risk_ports} (允许: {list(c.th.allowed_ports)})",
                    f"not listening on {c.th.high_risk_ports} (allowed: {list(c.th.allowed_ports)})"),
                  actual, ev(x[4] for x in c.listening))


@check("firewall.host", "主机防火墙/管理终端限制", "host firewall", _l("4 c"), ("firewall",))
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
    exp = M("nftables/iptables/firewalld 有规则", "nftables/iptables/firewalld have rules")
    if nft_rules or ipt_rules or fwd:
        return Result(Status.passed, exp, M(f"nft {len(nft_rules)} 条, iptables {len(ipt_rules)} 条",
                                            f"nft {len(nft_rules)} rules, iptables {len(ipt_rules)} rules")
                      + (", firewalld running" if fwd else ""), ev((nft_rules + ipt_rules)[:20]))
    tools = ", ".join(k for k in ("nft", "iptables-save", "firewall-cmd", "ufw") if have.get(k))
    return Result(Status.fail, exp,
                  M("无防火墙规则", "no firewall rules")
                  + (M(f" ({tools} 已安装)", f" ({tools} installed)") if tools
                     else M(" (未安装防火墙工具)", " (no firewall tool installed)")))


def os_identity(os_release: str) -> tuple[OsDistribution | None, str]:
    """(distribution or None when unknown, version) — the table discovery uses too."""
    rel = parse_os_release(os_release)
    return rel.distribution, rel.version or ""


@check("vuln.os_eol", "操作系统生命周期", "OS not end-of-life", _l("4 e"), ("os_release",))
def c_os_eol(c: Ctx) -> Result:
    dist, version = os_identity(c.f.out("os_release"))
    pretty = parse_os_release(c.f.out("os_release")).name or "?"
    exp = M("操作系统未停止维护 (EOL)", "operating system not end-of-life (EOL)")
    if dist is None:
        return Result(Status.manual, exp, M(f"未识别的发行版 {pretty}", f"unrecognised distribution {pretty}"), pretty)
    eol = os_eol_date(dist, version)
    if is_eol(dist, version, c.today):
        return Result(Status.fail, exp, M(f"{pretty} 已于 {eol} 停止维护", f"{pretty} reached its end of life on {eol}"), pretty)
    return Result(Status.passed, exp,
                  f"{pretty}" + (M(f"，EOL {eol}", f", EOL {eol}") if eol else M("，无已知 EOL 日期", ", no known EOL date")),
                  pretty)


@check("vuln.security_updates", "待安装安全补丁", "pending security updates", _l("4 e"), ("updates",))
def c_updates(c: Ctx) -> Result:
    text = c.f.out("updates")
    exp = M("无待安装的安全更新", "no pending security updates")
    if "apt_lists=" in text:
        if c.f.kv("updates").get("apt_lists") in ("0", None):
            return Result(Status.manual, exp, M("无 apt 软件包索引，无法判定 (no package lists; run apt-get update or check manually)",
                                                "no apt package lists, cannot decide (run apt-get update or check manually)"),
                          ev(text))
        sec = [ln for ln in text.splitlines() if ln.startswith("Inst") and "security" in ln.lower()]
        return Result(Status.fail if sec else Status.passed, exp,
                      M(f"{len(sec)} 个安全更新（依据本机索引）", f"{len(sec)} security updates (per the host's package index)"),
                      ev(sec[:30]))
    if "## dnf" in text or "## yum" in text:
        body = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("##")]
        if any(("error" in ln.lower() or "cache" in ln.lower()) for ln in body):
            return Result(Status.manual, exp, M("dnf/yum 缓存不可用，无法判定", "dnf/yum cache unavailable, cannot decide"),
                          ev(body[:10]))
        return Result(Status.fail if body else Status.passed, exp,
                      M(f"{len(body)} 个安全更新", f"{len(body)} security updates"), ev(body[:30]))
    return Result(Status.manual, exp, M("无法判定 (no apt/dnf/yum)", "cannot decide (no apt/dnf/yum)"), ev(text))


def _tools(c: Ctx) -> dict[str, str]:
    return c.have("security_tools")


@check("ids.presence", "入侵检测(HIDS)", "intrusion detection agent", {3: "8.1.4.4 f"}, ("security_tools", "processes"))
def c_ids(c: Ctx) -> Result:
    t = _tools(c)
    text = c.f.out("security_tools")
    found = [k for k in ("aide", "ossec-control", "wazuh-control") if t.get(k)] + \
            (["/var/ossec"] if "/var/ossec" in text else [])
    running = c.processes & {"wazuh-agentd", "ossec-agentd", "ossec-syscheckd", "wazuh-syscheckd"}
    if not found and not running:
        return Result(Status.fail, M("HIDS/EDR (AIDE、Wazuh/OSSEC 或厂商主机安全代理) 存在并运行",
                                     "HIDS/EDR (AIDE, Wazuh/OSSEC or a vendor host-security agent) present and running"),
                      M("未发现 AIDE/OSSEC/Wazuh；厂商代理请人工核查",
                        "no AIDE/OSSEC/Wazuh found; check vendor agents manually"))
    return Result(Status.passed, M("HIDS/EDR 存在并运行", "HIDS/EDR present and running"),
                  ", ".join(found + sorted(running)), ev(text))


@check("malware.protection", "恶意代码防范", "anti-malware", {2: "7.1.4.5 a", 3: "8.1.4.5"}, ("security_tools",))
def c_malware(c: Ctx) -> Result:
    t = _tools(c)
    text = c.f.out("security_tools")
    found = [k for k in ("clamscan", "clamd", "wazuh-control", "ossec-control") if t.get(k)]
    if not found:
        return Result(Status.fail, M("防恶意代码软件 (ClamAV/EDR) 且特征库更新",
                                     "anti-malware (ClamAV/EDR) with up-to-date signatures"),
                      M("未发现 ClamAV/Wazuh；厂商代理请人工核查", "no ClamAV/Wazuh found; check vendor agents manually"),
                      ev(text))
    ages = [int(m) for m in re.findall(r"\s(\d{9,11})\s+/var/lib/clamav/", text)]
    now = _int(c.meta.get("now")) or int(datetime.now(timezone.utc).timestamp())
    if ages and (now - max(ages)) / 86400 > c.th.av_signature_max_age_days:
        age = int((now - max(ages)) / 86400)
        return Result(Status.fail, M(f"特征库≤{c.th.av_signature_max_age_days} 天",
                                     f"signatures ≤{c.th.av_signature_max_age_days} days old"),
                      M(f"特征库已 {age} 天未更新", f"signatures not updated for {age} days"), ev(text))
    if c.level >= 3:
        return Result(Status.manual, M("可识别并有效阻断的恶意代码防范或主动免疫可信验证",
                                       "malware protection that detects and effectively blocks, or active-immunity"
                                       " trusted verification"),
                      M(f"发现 {', '.join(found)}；阻断能力需人工核查",
                        f"found {', '.join(found)}; the blocking capability needs a manual review"), ev(text))
    return Result(Status.passed, M("防恶意代码软件且特征库更新", "anti-malware with up-to-date signatures"),
                  ", ".join(found), ev(text))


@check("backup.config", "数据备份与恢复", "backup and recovery", {2: "7.1.4.8", 3: "8.1.4.9"}, ("backup",))
def c_backup(c: Ctx) -> Result:
    hits = [f"{p}: {ln}" for p, ln in _files(c.f.out("backup"))
            if re.search(r"backup|dump|rsync|borg|restic|bacula|xtrabackup|rman|bareos", ln, re.I)]
    exp = M("本地备份+异地定时批量备份(L2) / 异地实时备份+热冗余(L3)",
            "local backup + scheduled off-site backup (L2) / real-time off-site backup + hot redundancy (L3)")
    return Result(Status.manual, exp,
                  M(f"发现 {len(hits)} 条疑似备份任务；需核查备份策略、异地与最近一次成功",
                    f"{len(hits)} likely backup jobs found; review the backup policy, the off-site copy and the"
                    " last successful run") if hits
                  else M("主机上未发现备份任务；请提供系统级备份证据",
                         "no backup job found on the host; provide system-level backup evidence"), ev(hits))


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
            findings.append(Finding.of(**base, expected="", actual=M(f"仅适用于第{lv}级", f"applies to level {lv} only"),
                                       status=Status.not_applicable))
            continue
        if facts.error:
            findings.append(Finding.of(**base, expected="", actual=M(f"未采集到主机信息: {facts.error}",
                                                                     f"no facts collected from the host: {facts.error}"),
                                       status=Status.error))
            continue
        bad = [s for s in chk.sections if facts.rc(s) is None or facts.rc(s) != 0]
        if bad:
            detail = "; ".join(f"{s}: rc={facts.rc(s)} {facts.out(s)[:200]}" for s in bad)
            findings.append(Finding.of(**base, expected="", actual=M(f"采集失败 ({', '.join(bad)})",
                                                                     f"collection failed ({', '.join(bad)})"),
                                       status=Status.error, evidence=ev(detail)))
            continue
        try:
            r = chk.fn(ctx)
        except Exception as exc:          # a rule bug must not hide the other findings
            findings.append(Finding.of(**base, expected="", actual=M(f"规则执行出错: {type(exc).__name__}",
                                                                     f"the check failed to run: {type(exc).__name__}"),
                                       status=Status.error))
            continue
        findings.append(Finding.of(**base, expected=r.expected, actual=r.actual, status=r.status, evidence=r.evidence))
    return findings


def check_ids() -> list[str]:
    return [c.id for c in CHECKS]
