"""Cutover records (pure): which kinds exist, which fields each needs, and what is wrong with one.

A cutover record is the thing clients use to reach a system, switched from the source to the
target at cutover and back on rollback. Kinds:

* ``hosts`` — an ``/etc/hosts`` line on each client server (rewritten by the cutover role);
* ``dns`` — an A/AAAA/CNAME record in ``zone`` on its authoritative ``server`` (``ADDR[:PORT]``),
  changed by an RFC 2136 update signed with ``tsig_key`` (a key *file* or a key *name*, never the
  secret); a CNAME switches from the name ``cname_source`` to the name ``cname_target``;
* ``haproxy`` — server slot ``server`` of ``backend`` behind HAProxy's runtime API ``api`` (admin
  socket path or ``ADDR:PORT``); ``mode`` ``point`` repoints that slot at the target,
  ``drain-enable`` points the spare slot ``target_server`` at the target, enables it and drains
  ``server``.

``record_problems`` is what ``inventory validate`` reports (file, line and field come from the
caller); the drivers check the same things again before anything reaches a server.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.model.ids import HOST_NAME_RE, first_control_char, is_valid_id

KINDS = ("hosts", "dns", "haproxy")
RDTYPES = ("A", "AAAA", "CNAME")
HAPROXY_MODES = ("point", "drain-enable")
HAPROXY_NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

# fields that belong to one kind only (a field of another kind is a mistake worth naming)
KIND_FIELDS = {
    "dns": ("zone", "rdtype", "tsig_key", "cname_source", "cname_target"),
    "haproxy": ("api", "backend", "target_server", "mode"),
}


def _addr_port(value: str, default_port: int | None) -> bool:
    host, sep, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
    if not sep:
        host = value
        if default_port is None:
            return False
    try:
        ipaddress.ip_address(host)
        return not sep or 0 < int(port) < 65536
    except ValueError:
        return False


def tsig_key_ref_problem(ref: str) -> str | None:
    if first_control_char(ref):
        return Msg("a TSIG key reference may not contain control characters")
    if ref.startswith("/"):
        if any(p in (".", "..") for p in ref.split("/")) or len(ref) > 4096:
            return Msg("a TSIG key file is an absolute, normalised path")
        return None
    if re.fullmatch(r"[A-Za-z0-9+/]{20,}={0,2}", ref) and (
            "=" in ref or "+" in ref or "/" in ref or len(ref) >= 40
            or (re.search(r"[a-z]", ref) and re.search(r"[A-Z]", ref) and re.search(r"[0-9]", ref))):
        return Msg("this looks like a TSIG secret: give the key file or the key name, never the secret")
    if is_valid_id(ref):
        return None
    return Msg("a TSIG key is an absolute file path or a key name (letters, digits, . _ -)")


def record_problems(rec: Any) -> list[tuple[str, str, str]]:
    """(field, message, hint) for every problem of a CutoverRecord."""
    out: list[tuple[str, str, str]] = []
    kind = rec.kind or "hosts"
    if kind not in KINDS:
        return [("kind", Msg("{kind!r:.40} is not a cutover record kind", kind=kind), Msg("hosts, dns or haproxy"))]
    if not HOST_NAME_RE.fullmatch(rec.name or ""):
        out.append(("name", Msg("{name!r:.80} is not a DNS name", name=rec.name), Msg("e.g. govapp.gov.test")))
    for other, fields in KIND_FIELDS.items():
        if other != kind:
            for f in fields:
                v = getattr(rec, f, None)
                if v not in (None, "", "point", "A"):
                    out.append((f, Msg("{field} belongs to kind {other}, not {kind}", field=f, other=other, kind=kind), Msg("remove it, or set kind: {other}", other=other)))
    if kind == "dns":
        zone = rec.zone or ""
        if not HOST_NAME_RE.fullmatch(zone):
            out.append(("zone", Msg("{zone!r:.80} is not a DNS zone", zone=zone) if zone else Msg("kind dns needs its zone"),
                        Msg("e.g. gov.test")))
        elif HOST_NAME_RE.fullmatch(rec.name or ""):
            n, z = rec.name.rstrip(".").lower(), zone.rstrip(".").lower()
            if not (n == z or n.endswith("." + z)):
                out.append(("zone", Msg("record {name} is not inside zone {zone}", name=rec.name, zone=zone), Msg("name the zone that holds it")))
        if not rec.server or not _addr_port(rec.server, 53):
            out.append(("server", Msg("{server!r:.80} is not an address", server=rec.server) if rec.server else Msg("kind dns needs the zone's authoritative server"), Msg("ADDR or ADDR:PORT, e.g. 198.18.0.1:53")))
        rdtype = (rec.rdtype or "A").upper()
        if rdtype not in RDTYPES:
            out.append(("rdtype", Msg("{rdtype!r:.20}: A, AAAA or CNAME", rdtype=rec.rdtype), "A"))
        elif rdtype == "CNAME":
            for f, what in (("cname_source", Msg("while the source serves")), ("cname_target", Msg("once the target serves"))):
                v = getattr(rec, f, None) or ""
                if not HOST_NAME_RE.fullmatch(v.rstrip(".")):
                    out.append((f, Msg("{value!r:.80} is not a DNS name", value=v) if v else Msg("a CNAME record needs {field}: the name it points to {what}", field=f, what=what),
                                Msg("e.g. govapp-cloud.gov.test")))
            if rec.cname_source and rec.cname_target and \
                    rec.cname_source.rstrip(".").lower() == rec.cname_target.rstrip(".").lower():
                out.append(("cname_target", Msg("cname_target is the same name as cname_source: nothing would "
                                                "switch"),
                            Msg("the name that resolves to the target server")))
        else:
            for f in ("cname_source", "cname_target"):
                if getattr(rec, f, None):
                    out.append((f, Msg("{field} is only used by rdtype CNAME", field=f), Msg("remove it, or set rdtype: CNAME")))
        if not rec.tsig_key:
            out.append(("tsig_key", Msg("kind dns needs a TSIG key (dynamic updates are signed)"),
                        Msg("the key file's path, or its name under $GOVCLOUD_TSIG_DIR")))
        else:
            why = tsig_key_ref_problem(rec.tsig_key)
            if why:
                out.append(("tsig_key", why, Msg("e.g. /etc/govcloud/tsig/gov.test.key")))
    elif kind == "haproxy":
        api = rec.api or ""
        if not api:
            out.append(("api", Msg("kind haproxy needs the runtime API"), Msg("the admin socket path or ADDR:PORT")))
        elif not (api.startswith("/") and not first_control_char(api) and ".." not in api.split("/")) \
                and not _addr_port(api, None):
            out.append(("api", Msg("{api!r:.80} is neither an absolute socket path nor ADDR:PORT", api=api),
                        Msg("e.g. /run/haproxy/admin.sock")))
        for f in ("backend", "server"):
            v = getattr(rec, f) or ""
            if not HAPROXY_NAME_RE.fullmatch(v):
                out.append((f, Msg("{value!r:.80} is not an HAProxy {field} name", value=v, field=f) if v else Msg("kind haproxy needs {field}", field=f),
                            Msg("letters, digits and _ . : -")))
        mode = rec.mode or "point"
        if mode not in HAPROXY_MODES:
            out.append(("mode", Msg("{mode!r:.40}: point or drain-enable", mode=mode), "point"))
        if mode == "drain-enable":
            v = rec.target_server or ""
            if not HAPROXY_NAME_RE.fullmatch(v) or v == rec.server:
                out.append(("target_server", Msg("mode drain-enable needs a spare server slot other than server"),
                            "e.g. s2"))
        elif rec.target_server:
            out.append(("target_server", Msg("target_server is only used by mode drain-enable"), Msg("remove it")))
    else:  # hosts
        if rec.server:
            out.append(("server", Msg("server belongs to kind dns or haproxy, not hosts"), Msg("remove it")))
    if kind in ("hosts", "dns") and not rec.clients:
        pass   # no clients: nothing verifies from a client's view (precheck reports it)
    return out


def cas_state(state: Any, expected: tuple[str, ...], new: tuple[str, ...]) -> str:
    """Where a record stands against a switch ``expected`` → ``new``: ``"new"`` (already switched),
    ``"expected"`` (the switch may proceed) or ``"conflict"`` (someone else's value: refuse, change
    nothing). The one decision every kind's switch, the cutover gate and the dry run use.
    ``state`` is a drivers.switching.RecordState (kind, values, detail).

    For kind hosts each client is judged on its own (``state.detail["clients"]``): a client without
    a line for the name counts as expected (the switch adds the line), and a cutover killed half-way
    leaves some clients on the new value and some on the expected one, which resumes."""
    exp, nw = tuple(sorted(expected)), tuple(sorted(new))
    per_client = state.detail.get("clients") if state.kind == "hosts" else None
    if per_client is not None:
        vals = {(v,) if v else () for v in per_client.values()}
        if nw and vals and vals <= {nw}:
            return "new"
        if vals <= {exp, nw, ()}:
            return "expected"
        return "conflict"
    if nw and state.values == nw:
        return "new"
    if state.values == exp:
        return "expected"
    return "conflict"
