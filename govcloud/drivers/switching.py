"""Traffic switches: the record clients use to reach a system, read and changed with compare-and-swap.

One port (:class:`RecordSwitch`) and one implementation per record kind:

* :class:`DnsSwitch` — an A/AAAA/CNAME record on the zone's authoritative server, read by a
  direct query to that server (never a cache) and changed by an RFC 2136 dynamic update signed
  with TSIG. The compare-and-swap is the server's own: the update carries a value-dependent
  prerequisite ("this RRset is exactly the expected one", RFC 2136 §2.4.2), so a record someone
  else changed makes the server refuse (NXRRSET) and nothing changes — no read-then-write race.
* :class:`HaproxySwitch` — one server slot of an HAProxy backend, through the runtime API
  (admin socket or TCP). HAProxy has no conditional set, so the switch reads the slot, refuses
  when it is not the expected address, sets it, and reads it back.
* :class:`HostsSwitch` — the ``/etc/hosts`` line of the name on each client server. Reading and
  writing happen on the clients (the orchestrator hands in a ``ClientsRunner`` that runs
  ``playbooks/migrate_record.yml``); every client is read first and a foreign value anywhere
  refuses before any client is written, then each client's write is a compare-and-swap under a
  lock on that client.

Which values count as "still the source's", "already the target's" or "someone else's" is decided
in one place for every kind: :func:`cas_state`.

Secrets (the TSIG key) are read from a file (BIND's ``key "name" { algorithm …; secret "…"; };``
syntax, what ``tsig-keygen`` writes and ``nsupdate -k`` reads) and never appear in a value this
module returns, raises or logs. Every identifier that reaches a server is checked first.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError
from govcloud.model.cutover import cas_state


def _listed(items: list) -> Any:
    """Texts or messages joined by ", " (by "、" in Chinese), as one message."""
    out: Any = items[0] if items else ""
    for item in items[1:]:
        out = Msg("{a}, {b}", "list", a=out, b=item)
    return out


class SwitchError(GovcloudError):
    """A switch could not be read or changed. ``code`` says why, for the journal and the screen:
    ``conflict`` (compare-and-swap: the record is not what the plan expects), ``auth`` (the key was
    refused), ``unreachable``, ``not-found``, ``invalid``, ``refused``."""

    def __init__(self, *args: str, code: str | None = None, hint: str | None = None) -> None:
        # SwitchError(message, code=…, hint=…); the positional SwitchError(code, message) works too
        if code is None:
            code, message = args
        else:
            (message,) = args
        super().__init__(message, hint=hint)
        self.code = code


@dataclass(frozen=True, slots=True)
class RecordState:
    """What a switch points at now: ``values`` (addresses, or a CNAME target, or ``ip:port``), the
    TTL where the kind has one, and for HAProxy the slot's admin state."""

    kind: str
    name: str
    values: tuple[str, ...]
    ttl: int | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SwitchResult:
    kind: str
    name: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    changed: bool
    ttl_before: int | None = None
    ttl_after: int | None = None
    at: float = 0.0               # time.time() of the change, for the journal


class RecordSwitch(Protocol):
    kind: str
    name: str

    def read(self) -> RecordState: ...

    def switch(self, expected: tuple[str, ...], new: tuple[str, ...]) -> SwitchResult: ...


# ------------------------------------------------------------------------------------------- DNS

_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$",
                       re.IGNORECASE)
_KEY_BLOCK = re.compile(r'key\s+"?([A-Za-z0-9._-]+)"?\s*\{(.*?)\}\s*;', re.S)
_KEY_FIELD = re.compile(r'(algorithm|secret)\s+"?([A-Za-z0-9+/=._-]+)"?\s*;')


@dataclass(frozen=True, slots=True)
class TsigKey:
    name: str
    algorithm: str
    secret: str = field(repr=False)     # base64; never printed (repr) or logged

    def __str__(self) -> str:
        return f"TSIG key {self.name} ({self.algorithm})"


def read_tsig_key(path: Path) -> TsigKey:
    """The first key of a BIND key file. Errors name the file, never its content."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SwitchError(Msg("cannot read the TSIG key file {path}: {name}", path=path, name=exc.__class__.__name__),
                          code="invalid") from None
    m = _KEY_BLOCK.search(text)
    fields = dict(_KEY_FIELD.findall(m.group(2))) if m else {}
    if not m or "secret" not in fields:
        raise SwitchError(Msg('{path}: not a TSIG key file (expected key "NAME" {{ algorithm …; secret "…"; }};)',
                              path=path), code="invalid")
    return TsigKey(m.group(1), fields.get("algorithm", "hmac-sha256").lower(), fields["secret"])


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _HOSTNAME.match(name):
        raise SwitchError(Msg("{what} {name!r} is not a DNS name", what=what, name=name), code="invalid")
    return name.rstrip(".").lower()


def _server(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":") if addr.count(":") == 1 else (addr, "", "53")
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        return host, int(port or 53)
    except (OSError, ValueError):
        raise SwitchError(Msg("DNS server {addr!r} must be an address (ADDR or ADDR:PORT)", addr=addr),
                          code="invalid") from None


class DnsSwitch:
    """``name`` in ``zone`` on the authoritative ``server`` (``ADDR[:PORT]``)."""

    kind = "dns"

    def __init__(self, name: str, zone: str, server: str, key_file: Path | None, *, rdtype: str = "A",
                 timeout: float = 3.0) -> None:
        import dns.name  # dnspython: imported here so the CLI's import path stays light

        self.name = _check_name(name, "record")
        self.zone = _check_name(zone, "zone")
        if not (self.name == self.zone or self.name.endswith("." + self.zone)):
            raise SwitchError(Msg("record {name} is not inside zone {zone}", name=self.name, zone=self.zone),
                              code="invalid")
        self.rdtype = rdtype.upper()
        if self.rdtype not in ("A", "AAAA", "CNAME"):
            raise SwitchError(Msg("record type {rdtype!r}: A, AAAA or CNAME", rdtype=rdtype), code="invalid")
        self.server = _server(server)
        self.key = read_tsig_key(key_file) if key_file else None
        self.key_file = Path(key_file) if key_file else None
        self.timeout = timeout
        self._qname = dns.name.from_text(self.name)
        self._origin = dns.name.from_text(self.zone)

    def _where(self) -> str:
        return f"{self.name} {self.rdtype} @ {self.server[0]}:{self.server[1]}"

    def read(self) -> RecordState:
        import dns.exception
        import dns.message
        import dns.query
        import dns.rcode
        import dns.rdatatype

        q = dns.message.make_query(self._qname, self.rdtype)
        q.flags &= ~0x0100          # no recursion: ask the authority
        try:
            r = dns.query.udp(q, self.server[0], port=self.server[1], timeout=self.timeout)
            if r.flags & 0x0200:    # truncated
                r = dns.query.tcp(q, self.server[0], port=self.server[1], timeout=self.timeout)
        except (dns.exception.Timeout, OSError) as exc:
            raise SwitchError(Msg("DNS server does not answer for {where}: {name}", where=self._where(),
                                  name=exc.__class__.__name__), code="unreachable") from None
        if r.rcode() == dns.rcode.NXDOMAIN:
            return RecordState(self.kind, self.name, (), None, {"rcode": "NXDOMAIN"})
        if r.rcode() != dns.rcode.NOERROR:
            raise SwitchError(Msg("{where}: {rcode}", where=self._where(), rcode=dns.rcode.to_text(r.rcode())),
                              code="refused")
        if not r.flags & 0x0400:
            raise SwitchError(Msg("{x} is not authoritative for {zone}", x=self.server[0], zone=self.zone),
                              code="refused", hint=Msg("give the zone's primary server, not a resolver"))
        want = dns.rdatatype.from_text(self.rdtype)
        for rrset in r.answer:
            if rrset.name == self._qname and rrset.rdtype == want:
                return RecordState(self.kind, self.name, self.norm(rd.to_text() for rd in rrset), rrset.ttl)
        return RecordState(self.kind, self.name, (), None)

    def norm(self, values: object) -> tuple[str, ...]:
        """Values as the server shows them: A/AAAA canonical addresses of their family, a CNAME
        target as a lower-case absolute name (``lb.gov.test.``); anything else is refused."""
        import ipaddress
        out = []
        for v in values:                                                  # type: ignore[attr-defined]
            if self.rdtype == "CNAME":
                out.append(_check_name(str(v), "CNAME target") + ".")
                continue
            try:
                a = ipaddress.ip_address(str(v))
            except ValueError:
                raise SwitchError(Msg("{where}: {v!r:.60} is not an address", where=self._where(), v=str(v)),
                                  code="invalid") from None
            if (a.version == 6) != (self.rdtype == "AAAA"):
                raise SwitchError(Msg("{where}: {a} is not an IPv{x} address", where=self._where(), a=a,
                                      x=4 if self.rdtype == 'A' else 6), code="invalid")
            out.append(str(a))
        if self.rdtype == "CNAME" and len(out) > 1:
            raise SwitchError(Msg("{where}: a CNAME has exactly one target", where=self._where()), code="invalid")
        return tuple(sorted(set(out)))

    def _update(self, expected: tuple[str, ...], new: tuple[str, ...], ttl: int) -> None:
        import dns.exception
        import dns.query
        import dns.rcode
        import dns.rdata
        import dns.rdataclass
        import dns.rdataset
        import dns.rdatatype
        import dns.tsig
        import dns.tsigkeyring
        import dns.update

        if self.key is None:
            raise SwitchError(Msg("{where}: no TSIG key given; dynamic updates must be signed", where=self._where()),
                              code="auth")
        rdt = dns.rdatatype.from_text(self.rdtype)
        try:
            keyring = dns.tsigkeyring.from_text({self.key.name: (self.key.algorithm, self.key.secret)})
            upd = dns.update.UpdateMessage(self._origin, keyring=keyring, keyname=self.key.name)
            if expected:
                exp = dns.rdataset.from_text_list(dns.rdataclass.IN, rdt, 0, list(expected))
                upd.present(self._qname, exp)          # value-dependent prerequisite: the CAS
            else:
                upd.absent(self._qname, rdt)
            rds = dns.rdataset.from_text_list(dns.rdataclass.IN, rdt, ttl, list(new))
            upd.replace(self._qname, rds)
        except (dns.exception.DNSException, ValueError) as exc:
            raise SwitchError(Msg("{where}: bad value ({name})", where=self._where(), name=exc.__class__.__name__),
                              code="invalid") from None
        self._send(upd, expected)

    def check_key(self) -> None:
        """Prove the key before anything depends on it: a signed UPDATE whose only content is a
        prerequisite that holds (the zone's apex exists) and whose update section is empty — the
        server verifies the signature and its allow-update policy, then changes nothing."""
        import dns.update
        import dns.tsigkeyring

        if self.key is None:
            raise SwitchError(Msg("{where}: no TSIG key given; dynamic updates must be signed", where=self._where()),
                              code="auth")
        try:
            keyring = dns.tsigkeyring.from_text({self.key.name: (self.key.algorithm, self.key.secret)})
        except Exception as exc:  # noqa: BLE001 — a malformed secret: say so, never show it
            raise SwitchError(Msg("TSIG key {name}: not a usable key ({name2})", name=self.key.name,
                                  name2=exc.__class__.__name__), code="invalid") from None
        upd = dns.update.UpdateMessage(self._origin, keyring=keyring, keyname=self.key.name)
        upd.present(self._origin)
        self._send(upd, ("the zone apex",))

    def _send(self, upd: object, expected: tuple[str, ...]) -> None:
        import dns.exception
        import dns.query
        import dns.rcode
        import dns.tsig

        assert self.key is not None
        try:
            resp = dns.query.tcp(upd, self.server[0], port=self.server[1], timeout=self.timeout)
        except dns.tsig.PeerError as exc:
            raise SwitchError(Msg("{where}: the server refused the TSIG key {name} ({name2}; key file {key_file})",
                                  where=self._where(), name=self.key.name, name2=exc.__class__.__name__,
                                  key_file=self.key_file), code="auth",
                              hint=Msg("check the key file against the zone's allow-update")) from None
        except (dns.exception.Timeout, OSError) as exc:
            raise SwitchError(Msg("{where}: {name}", where=self._where(), name=exc.__class__.__name__),
                              code="unreachable") from None
        except dns.exception.DNSException as exc:
            raise SwitchError("auth" if "tsig" in exc.__class__.__module__ else "refused",
                              f"{self._where()}: {exc.__class__.__name__}") from None
        rc = resp.rcode()
        if rc in (dns.rcode.NXRRSET, dns.rcode.YXRRSET, dns.rcode.NXDOMAIN, dns.rcode.YXDOMAIN):
            raise SwitchError(Msg("{where} is not {expected} any more: someone else changed it; nothing was changed",
                                  where=self._where(), expected=list(expected) or Msg("absent")), code="conflict")
        if rc in (dns.rcode.NOTAUTH, dns.rcode.REFUSED) or getattr(resp, "tsig_error", 0):
            raise SwitchError(Msg("{where}: update refused ({rcode}) for the TSIG key {name} (key file {key_file})",
                                  where=self._where(), rcode=dns.rcode.to_text(rc), name=self.key.name,
                                  key_file=self.key_file), code="auth",
                              hint=Msg("the TSIG key must be allowed to update the zone"))
        if rc != dns.rcode.NOERROR:
            raise SwitchError(Msg("{where}: update failed ({rcode})", where=self._where(),
                                  rcode=dns.rcode.to_text(rc)), code="refused")

    def switch(self, expected: tuple[str, ...], new: tuple[str, ...], *, ttl: int | None = None) -> SwitchResult:
        exp, nw = self.norm(expected), self.norm(new)
        before = self.read()
        if cas_state(before, exp, nw) == "new" and (ttl is None or before.ttl == ttl):
            return SwitchResult(self.kind, self.name, before.values, nw, False, before.ttl, before.ttl, time.time())
        if cas_state(before, exp, nw) != "expected":
            raise SwitchError(Msg("{where} is {values}, the plan expects {exp}: nothing was changed",
                                  where=self._where(), values=list(before.values) or Msg("absent"),
                                  exp=list(exp) or Msg("absent")), code="conflict",
                              hint=Msg("someone changed the record: check it, then update the plan or the record"))
        new_ttl = ttl if ttl is not None else (before.ttl or 300)
        self._update(exp, nw, new_ttl)
        after = self.read()
        if after.values != nw:
            raise SwitchError(Msg("{where}: after the update it is {values}", where=self._where(),
                                  values=list(after.values)), code="refused")
        return SwitchResult(self.kind, self.name, before.values, after.values, True, before.ttl, after.ttl, time.time())

    def lower_ttl(self, ttl: int) -> SwitchResult:
        """Same values, a lower TTL (compare-and-swap on the values). ``ttl_before`` is what caches may
        still hold: clients see a switch at most ``ttl_before`` seconds after this call."""
        cur = self.read()
        if not cur.values:
            raise SwitchError(Msg("{where} does not exist", where=self._where()), code="not-found")
        if cur.ttl is not None and cur.ttl <= ttl:
            return SwitchResult(self.kind, self.name, cur.values, cur.values, False, cur.ttl, cur.ttl, time.time())
        self._update(cur.values, cur.values, ttl)
        after = self.read()
        return SwitchResult(self.kind, self.name, cur.values, after.values, True, cur.ttl, after.ttl, time.time())


# --------------------------------------------------------------------------------------- HAProxy

_HAPROXY_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _check_haproxy_id(v: str, what: str) -> str:
    if not isinstance(v, str) or not _HAPROXY_ID.match(v):
        raise SwitchError(Msg("HAProxy {what} {v!r}: letters, digits and _.:- only", what=what, v=v), code="invalid")
    return v


def _check_addr(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    try:
        socket.inet_pton(socket.AF_INET, host)
        p = int(port)
        if not sep or not 0 < p < 65536:
            raise ValueError
    except (OSError, ValueError):
        raise SwitchError(Msg("HAProxy server address {value!r} must be IPv4:PORT", value=value), code="invalid") from None
    return host, p


class HaproxySwitch:
    """Server slot ``server`` of ``backend``; values are ``("ip:port",)``. ``api`` is the runtime
    API: a unix socket path or ``ADDR:PORT``."""

    kind = "haproxy"

    def __init__(self, backend: str, server: str, api: str, *, timeout: float = 5.0) -> None:
        self.backend = _check_haproxy_id(backend, "backend")
        self.server = _check_haproxy_id(server, "server")
        self.name = f"{self.backend}/{self.server}"
        self.api = api
        self.timeout = timeout

    def _cmd(self, cmd: str) -> str:
        try:
            if self.api.startswith("/") or not re.match(r"^[0-9.]+:\d+$", self.api):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                target: object = self.api
            else:
                h, p = self.api.rsplit(":", 1)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                target = (h, int(p))
            with s:
                s.settimeout(self.timeout)
                s.connect(target)
                s.sendall(cmd.encode() + b"\n")
                out = b""
                while chunk := s.recv(65536):
                    out += chunk
        except OSError as exc:
            raise SwitchError(Msg("HAProxy runtime API {api} does not answer: {name}", api=self.api,
                                  name=exc.__class__.__name__), code="unreachable") from None
        return out.decode("utf-8", "replace")

    def read(self) -> RecordState:
        out = self._cmd(f"show servers state {self.backend}")
        if "Can't find backend" in out or "No such backend" in out:
            raise SwitchError(Msg("HAProxy has no backend {backend}", backend=self.backend), code="not-found")
        cols: list[str] = []
        for line in out.splitlines():
            if line.startswith("# be_id"):
                cols = line[2:].split()
            elif cols and line and line[0].isdigit():
                row = dict(zip(cols, line.split()))
                if row.get("srv_name") == self.server:
                    admin = int(row.get("srv_admin_state", "0"))
                    # SRV_ADMF_*: FMAINT 0x01, IMAINT 0x02, CMAINT 0x04, FDRAIN 0x08, IDRAIN 0x10, RMAINT 0x20,
                    # HMAINT 0x40. CMAINT only records that the configuration said "disabled": it stays
                    # after `set server … state ready` clears FMAINT and the server takes traffic, so it
                    # alone is not maintenance (seen on HAProxy 2.6: admin 4, operational state 2, UP)
                    state = "maint" if admin & 0x63 else \
                            ("drain" if admin & 0x18 else "ready")
                    return RecordState(self.kind, self.name, (f"{row['srv_addr']}:{row['srv_port']}",), None,
                                       {"admin": state, "op_state": row.get("srv_op_state", "")})
        raise SwitchError(Msg("HAProxy backend {backend} has no server {server}", backend=self.backend,
                              server=self.server), code="not-found")

    def switch(self, expected: tuple[str, ...], new: tuple[str, ...]) -> SwitchResult:
        if len(new) != 1 or len(expected) > 1:
            raise SwitchError(Msg("{name}: one address per server slot", name=self.name), code="invalid")
        host, port = _check_addr(new[0])
        before = self.read()
        if cas_state(before, expected, new) == "new" and before.detail.get("admin") == "ready":
            return SwitchResult(self.kind, self.name, before.values, before.values, False, at=time.time())
        if cas_state(before, expected, new) == "conflict":
            raise SwitchError(Msg("HAProxy {name} points at {x}, the plan expects {x2}: nothing was changed",
                                  name=self.name, x=before.values[0], x2=expected[0] if expected else '-'),
                              code="conflict",
                              hint=Msg("someone changed the load balancer: check it, then update the plan"))
        out = self._cmd(f"set server {self.backend}/{self.server} addr {host} port {port}")
        if "IP changed" not in out and "no need to change" not in out and "port changed" not in out:
            raise SwitchError(Msg("HAProxy refused the new address for {name}: {x}", name=self.name,
                                  x=out.strip()[:200]), code="refused")
        self._cmd(f"set server {self.backend}/{self.server} state ready")
        after = self.read()
        if after.values != (f"{host}:{port}",):
            raise SwitchError(Msg("HAProxy {name}: after the change it points at {values}", name=self.name,
                                  values=after.values), code="refused")
        return SwitchResult(self.kind, self.name, before.values, after.values, True, at=time.time())


class HaproxyDrainSwitch:
    """Mode ``drain-enable``: the source's slot ``server`` and a spare slot ``target_server`` of one
    backend. Values are the addresses of the slots that take traffic (admin state ready): switching
    to the target points the spare slot at it, enables it and drains the source's slot; switching
    back makes the source's slot ready again and puts the spare slot in maintenance."""

    kind = "haproxy"

    def __init__(self, backend: str, server: str, target_server: str, api: str, *, timeout: float = 5.0) -> None:
        self.src = HaproxySwitch(backend, server, api, timeout=timeout)
        self.tgt = HaproxySwitch(backend, target_server, api, timeout=timeout)
        if self.src.server == self.tgt.server:
            raise SwitchError(Msg("drain-enable needs two different server slots"), code="invalid")
        self.name = f"{self.src.backend}/{self.src.server}+{self.tgt.server}"

    def read(self) -> RecordState:
        a, b = self.src.read(), self.tgt.read()
        live = tuple(sorted(v for st in (a, b) if st.detail.get("admin") == "ready" for v in st.values))
        return RecordState(self.kind, self.name, live, None,
                           {"admin": "ready" if live else "maint",
                            "op_state": (b if b.values == live else a).detail.get("op_state", "")})

    def switch(self, expected: tuple[str, ...], new: tuple[str, ...]) -> SwitchResult:
        if len(new) != 1 or len(expected) > 1:
            raise SwitchError(Msg("{name}: one address per server slot", name=self.name), code="invalid")
        host, port = _check_addr(new[0])
        before = self.read()
        if cas_state(before, expected, new) == "new":
            return SwitchResult(self.kind, self.name, before.values, before.values, False, at=time.time())
        if cas_state(before, expected, new) == "conflict":
            raise SwitchError(Msg("HAProxy {name} sends traffic to {values}, the plan expects {expected}: nothing was "
                                  "changed", name=self.name, values=list(before.values) or Msg("nothing"),
                                  expected=list(expected)), code="conflict",
                              hint=Msg("someone changed the load balancer: check it, then update the plan"))
        b = self.src.backend
        if self.src.read().values == (f"{host}:{port}",):       # back to the source's slot
            self.src._cmd(f"set server {b}/{self.src.server} state ready")
            self.tgt._cmd(f"set server {b}/{self.tgt.server} state maint")
        else:
            out = self.tgt._cmd(f"set server {b}/{self.tgt.server} addr {host} port {port}")
            if "IP changed" not in out and "no need to change" not in out and "port changed" not in out:
                raise SwitchError(Msg("HAProxy refused the new address for {name}: {x}", name=self.tgt.name,
                                      x=out.strip()[:200]), code="refused")
            self.tgt._cmd(f"set server {b}/{self.tgt.server} state ready")
            self.src._cmd(f"set server {b}/{self.src.server} state drain")
        after = self.read()
        if after.values != (f"{host}:{port}",):
            raise SwitchError(Msg("HAProxy {name}: after the change traffic goes to {values}", name=self.name,
                                  values=list(after.values)), code="refused")
        return SwitchResult(self.kind, self.name, before.values, after.values, True, at=time.time())


# ------------------------------------------------------------------------------ /etc/hosts

class ClientsRunner(Protocol):
    def __call__(self, action: str, expected: tuple[str, ...], new: tuple[str, ...]) -> dict[str, dict[str, object]]:
        """Run the record play on every client: ``action`` ``read`` or ``switch``; per client
        ``{"before": addr|None, "after": addr|None, "status": "read"|"changed"|"unchanged"|"conflict"}``."""
        ...


class HostsSwitch:
    """Kind hosts: the line ``ADDR NAME`` in each client's ``/etc/hosts``. Values are the
    addresses the clients map the name to (one value once they agree)."""

    kind = "hosts"

    def __init__(self, name: str, clients: ClientsRunner | None) -> None:
        self.name = _check_name(name, "record")
        self._run = clients

    def _call(self, action: str, expected: tuple[str, ...], new: tuple[str, ...]) -> dict[str, dict[str, object]]:
        if self._run is None:
            raise SwitchError(Msg("{name}: the clients' /etc/hosts can only be read over SSH (give the connection "
                                  "options)", name=self.name), code="unreachable")
        for v in (*expected, *new):
            try:
                socket.inet_pton(socket.AF_INET6 if ":" in v else socket.AF_INET, v)
            except (OSError, ValueError):
                raise SwitchError(Msg("{name}: {v!r:.60} is not an address", name=self.name, v=v), code="invalid") from None
        if len(new) > 1 or len(expected) > 1:
            raise SwitchError(Msg("{name}: an /etc/hosts record maps the name to one address", name=self.name),
                              code="invalid")
        return self._run(action, expected, new)

    @staticmethod
    def _state_of(name: str, per: dict[str, dict[str, object]], key: str) -> RecordState:
        clients = {c: str(r.get(key) or "") for c, r in sorted(per.items())}
        values = tuple(sorted({v for v in clients.values() if v}))
        return RecordState("hosts", name, values, None, {"clients": clients})

    def read(self) -> RecordState:
        return self._state_of(self.name, self._call("read", (), ()), "before")

    def switch(self, expected: tuple[str, ...], new: tuple[str, ...]) -> SwitchResult:
        per = self._call("switch", tuple(expected), tuple(new))
        before = self._state_of(self.name, per, "before")
        refused = sorted(c for c, r in per.items() if r.get("status") == "conflict")
        if refused:
            untouched = not any(r.get("status") == "changed" for r in per.values())
            raise SwitchError(Msg("/etc/hosts {name} on {refused} is {values}, the plan expects {expected} or {new}; "
                                  "{outcome}", name=self.name, refused=', '.join(refused),
                                  values=_listed([before.detail['clients'][c] or Msg("absent") for c in refused]),
                                  expected=list(expected) or Msg("absent"), new=list(new),
                                  outcome=Msg("nothing was changed") if untouched else Msg("the other clients were "
                                                                                           "switched")),
                              code="conflict",
                              hint=Msg("someone changed the clients' /etc/hosts: check it, then update the plan or "
                                       "the file"))
        after = self._state_of(self.name, per, "after")
        if cas_state(after, expected, new) != "new":
            raise SwitchError(Msg("/etc/hosts {name}: after the change the clients map it to {clients}",
                                  name=self.name, clients=after.detail['clients']), code="refused")
        return SwitchResult(self.kind, self.name, before.values, after.values,
                            any(r.get("status") == "changed" for r in per.values()), at=time.time())


# ------------------------------------------------------------------------------------ the port

def tsig_key_file(ref: str) -> Path:
    """A record's ``tsig_key``: an absolute key file, or a key name under ``$GOVCLOUD_TSIG_DIR``
    (default ``~/.config/govcloud/tsig``) as ``NAME.key``. The file must not be readable by others."""
    import os
    if ref.startswith("/"):
        path = Path(ref)
    else:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", ref):
            raise SwitchError(Msg("the TSIG key reference is neither a file path nor a key name"), code="invalid")
        base = Path(os.environ.get("GOVCLOUD_TSIG_DIR") or Path.home() / ".config" / "govcloud" / "tsig")
        path = base / f"{ref}.key"
    try:
        mode = path.stat().st_mode
    except OSError:
        raise SwitchError(Msg("TSIG key file {path} does not exist", path=path), code="invalid",
                          hint=Msg("tsig_key names a key file (absolute path) or NAME for $GOVCLOUD_TSIG_DIR/NAME.key")) from None
    if mode & 0o077:
        raise SwitchError(Msg("TSIG key file {path} is readable by others (mode {x:o})", path=path, x=mode & 511),
                          code="invalid", hint=Msg("chmod 600 {path}", path=path))
    return path


def switch_for(rec: object, *, clients: ClientsRunner | None = None) -> RecordSwitch:
    """The switch of a cutover record (model.entities.CutoverRecord), chosen by its kind. Kind
    ``hosts`` lives on the clients: ``clients`` runs the record play there (the orchestrator's
    playbook port). A new kind (Designate, F5, an nginx upstream) is one class with
    ``read``/``switch`` and one line here."""
    kind = getattr(rec, "kind", None) or "hosts"
    if kind == "hosts":
        return HostsSwitch(rec.name, clients)                                          # type: ignore[attr-defined]
    if kind == "dns":
        key = tsig_key_file(rec.tsig_key) if rec.tsig_key else None     # type: ignore[attr-defined]
        return DnsSwitch(rec.name, rec.zone or "", rec.server or "", key,            # type: ignore[attr-defined]
                         rdtype=rec.rdtype or "A")                                     # type: ignore[attr-defined]
    if kind == "haproxy":
        if (getattr(rec, "mode", None) or "point") == "drain-enable":
            return HaproxyDrainSwitch(rec.backend or "", rec.server or "", rec.target_server or "",  # type: ignore[attr-defined]
                                      rec.api or "")                                   # type: ignore[attr-defined]
        return HaproxySwitch(rec.backend or "", rec.server or "", rec.api or "")       # type: ignore[attr-defined]
    raise SwitchError(Msg("cutover record kind {kind!r:.40} has no switch", kind=kind), code="invalid")
