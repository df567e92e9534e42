"""One compare-and-swap decision for every record kind (model.cutover.cas_state), the hosts switch
behind the same port as dns and haproxy (its clients runner faked here; on real clients in
tests/integration/test_migrate_switch.py), and CNAME records: switched by compare-and-swap on the
CNAME target against an in-process authority that applies RFC 2136 prerequisites the way BIND does
(the real BIND in tests/integration/test_switching_more.py)."""
from __future__ import annotations

import pytest

from govcloud.drivers import switching as S
from govcloud.model.cutover import cas_state, record_problems
from govcloud.model.entities import CutoverRecord

SRC, TGT = ("198.18.1.61",), ("198.19.0.9",)


def _hosts(clients: dict[str, str | None]) -> S.RecordState:
    return S.RecordState("hosts", "a.gov.test", tuple(sorted({v for v in clients.values() if v})), None,
                         {"clients": {c: v or "" for c, v in clients.items()}})


@pytest.mark.parametrize("state,want", [
    (S.RecordState("dns", "a", SRC), "expected"),
    (S.RecordState("dns", "a", TGT), "new"),
    (S.RecordState("dns", "a", ("198.18.1.99",)), "conflict"),
    (S.RecordState("dns", "a", ()), "conflict"),                           # a dns record that vanished
    (S.RecordState("haproxy", "b/s1", ("198.18.1.61:80",)), "conflict"),   # values of another shape
    (_hosts({"c1": None, "c2": None}), "expected"),                        # no line yet: the switch adds it
    (_hosts({"c1": SRC[0], "c2": None}), "expected"),
    (_hosts({"c1": TGT[0], "c2": SRC[0]}), "expected"),                    # a killed switch resumes
    (_hosts({"c1": TGT[0], "c2": TGT[0]}), "new"),
    (_hosts({"c1": TGT[0], "c2": "198.18.1.251"}), "conflict"),                # one foreign client refuses all
])
def test_one_decision_for_every_kind(state, want):
    assert cas_state(state, SRC, TGT) == want


class FakeClients:
    """The clients' /etc/hosts as migrate_record.yml reads and switches them."""

    def __init__(self, lines: dict[str, str | None]) -> None:
        self.lines, self.calls = dict(lines), []

    def __call__(self, action, expected, new):
        self.calls.append((action, expected, new))
        foreign = {c for c, v in self.lines.items() if v is not None and v not in (*expected, *new)}
        out = {}
        for c, v in self.lines.items():
            if action == "read":
                out[c] = {"before": v, "after": v, "status": "read"}
            elif c in foreign:
                out[c] = {"before": v, "after": v, "status": "conflict"}
            elif foreign:
                out[c] = {"before": v, "after": v, "status": "unchanged"}
            else:
                self.lines[c] = new[0]
                out[c] = {"before": v, "after": new[0], "status": "changed" if v != new[0] else "unchanged"}
        return out


def test_hosts_is_a_switch_like_the_others():
    runner = FakeClients({"h62": None, "h63": SRC[0]})
    sw = S.switch_for(CutoverRecord(name="govapp.gov.test", kind="hosts", clients=("h62", "h63")), clients=runner)
    assert isinstance(sw, S.HostsSwitch) and sw.kind == "hosts"
    st = sw.read()
    assert st.values == SRC and st.detail["clients"] == {"h62": "", "h63": SRC[0]}
    r = sw.switch(SRC, TGT)
    assert (r.before, r.after, r.changed) == (SRC, TGT, True) and runner.lines == {"h62": TGT[0], "h63": TGT[0]}
    assert not sw.switch(SRC, TGT).changed                                 # again: already
    back = sw.switch(TGT, SRC)                                             # switch-back, compare-and-swap again
    assert back.changed and runner.lines == {"h62": SRC[0], "h63": SRC[0]}


def test_hosts_foreign_value_refuses_and_changes_nothing():
    runner = FakeClients({"h62": SRC[0], "h63": "198.18.1.251"})
    sw = S.HostsSwitch("govapp.gov.test", runner)
    with pytest.raises(S.SwitchError) as e:
        sw.switch(SRC, TGT)
    assert e.value.code == "conflict" and "h63" in str(e.value) and "198.18.1.251" in str(e.value)
    assert "nothing was changed" in str(e.value)
    assert runner.lines == {"h62": SRC[0], "h63": "198.18.1.251"}


def test_hosts_switch_refuses_hostile_values_before_any_client():
    runner = FakeClients({"h62": None})
    for bad in (("1.2.3.4; reboot",), ("{{ lookup('pipe','id') }}",), ("1.2.3.4", "1.2.3.5")):
        with pytest.raises(S.SwitchError) as e:
            S.HostsSwitch("govapp.gov.test", runner).switch(SRC, bad)
        assert e.value.code == "invalid"
    assert runner.calls == []
    with pytest.raises(S.SwitchError) as e:
        S.HostsSwitch("govapp.gov.test", None).read()                      # no SSH: a clear error
    assert e.value.code == "unreachable"


# ------------------------------------------------------------------------------------- CNAME

class FakeAuthority:
    """An authoritative server for one zone, in process: answers queries (AA) and applies RFC 2136
    updates with their prerequisites — a value-dependent 'present' must match the RRset exactly."""

    def __init__(self, rrsets):
        import dns.name
        import dns.rdatatype
        self.rr = {(dns.name.from_text(n), dns.rdatatype.from_text(t)): (ttl, [v.lower() for v in vals])
                   for (n, t), (ttl, vals) in rrsets.items()}
        self.updates = 0

    def udp(self, q, where, port=53, timeout=None, **kw):
        import dns.message
        import dns.rrset
        r = dns.message.make_response(q)
        r.flags |= 0x0400
        qq = q.question[0]
        if (qq.name, qq.rdtype) in self.rr:
            ttl, vals = self.rr[(qq.name, qq.rdtype)]
            r.answer.append(dns.rrset.from_text_list(qq.name, ttl, "IN", qq.rdtype, vals))
        return r

    def tcp(self, m, where, port=53, timeout=None, **kw):
        import dns.message
        import dns.rdataclass
        import dns.rcode
        if not m.question or m.opcode() != 5:                                 # a query over TCP
            return self.udp(m, where, port, timeout)
        r = dns.message.make_response(m)
        for rrset in m.prerequisite:
            have = self.rr.get((rrset.name, rrset.rdtype))
            if rrset.deleting is None:                                          # value-dependent: exactly this
                if have is None or sorted(have[1]) != sorted(rd.to_text().lower() for rd in rrset):
                    r.set_rcode(dns.rcode.NXRRSET)
                    return r
            elif rrset.deleting == dns.rdataclass.NONE and have is not None:    # must not exist
                r.set_rcode(dns.rcode.YXRRSET)
                return r
        for rrset in m.update:
            key = (rrset.name, rrset.rdtype)
            if rrset.deleting == dns.rdataclass.ANY:
                self.rr.pop(key, None)
            else:
                ttl, vals = self.rr.get(key, (rrset.ttl, []))
                self.rr[key] = (rrset.ttl, vals + [rd.to_text().lower() for rd in rrset])
        self.updates += 1
        return r


@pytest.fixture
def authority(monkeypatch, tmp_path):
    import dns.query
    a = FakeAuthority({("www.gov.test.", "CNAME"): (3600, ["h1.gov.test."])})
    monkeypatch.setattr(dns.query, "udp", a.udp)
    monkeypatch.setattr(dns.query, "tcp", a.tcp)
    key = tmp_path / "k.key"
    key.write_text('key "govcloud-tsig" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"; };\n')
    key.chmod(0o600)
    return a, key


def test_cname_compare_and_swap_on_its_target(authority):
    a, key = authority
    sw = S.DnsSwitch("www.gov.test", "gov.test", "127.0.0.1:53", key, rdtype="CNAME")
    assert sw.read().values == ("h1.gov.test.",) and sw.read().ttl == 3600
    low = sw.lower_ttl(30)                                                   # same target, lower TTL
    assert low.changed and sw.read().values == ("h1.gov.test.",) and sw.read().ttl == 30
    r = sw.switch(("H1.gov.test",), ("h2.gov.test",))                       # names compared normalised
    assert (r.before, r.after, r.changed) == (("h1.gov.test.",), ("h2.gov.test.",), True)
    assert not sw.switch(("h1.gov.test.",), ("h2.gov.test.",)).changed      # already
    n = a.updates
    with pytest.raises(S.SwitchError) as e:                                 # not what the plan expects
        sw.switch(("h3.gov.test",), ("h1.gov.test",))
    assert e.value.code == "conflict" and a.updates == n and sw.read().values == ("h2.gov.test.",)
    with pytest.raises(S.SwitchError) as e:                                 # the race: the server refuses
        sw._update(("h1.gov.test.",), ("h3.gov.test.",), 30)
    assert e.value.code == "conflict" and sw.read().values == ("h2.gov.test.",)
    for bad in (("a.gov.test", "b.gov.test"), ("198.18.1.1; x",), ("$(id).gov.test",)):
        with pytest.raises(S.SwitchError) as e:
            sw.switch(("h2.gov.test",), bad)
        assert e.value.code == "invalid"
    with pytest.raises(S.SwitchError):                                       # an address is no CNAME target... 
        S.DnsSwitch("x.gov.test", "gov.test", "127.0.0.1", key, rdtype="A").switch((), ("h2.gov.test",))


def test_cname_record_fields_are_validated():
    ok = CutoverRecord(name="www.gov.test", kind="dns", zone="gov.test", server="198.18.0.1:53", rdtype="CNAME",
                       tsig_key="govcloud-tsig", cname_source="lb.gov.test", cname_target="govapp-cloud.gov.test")
    assert record_problems(ok) == []
    import dataclasses
    probs = {f for f, _, _ in record_problems(dataclasses.replace(ok, cname_target=None))}
    assert probs == {"cname_target"}
    probs = {f for f, _, _ in record_problems(dataclasses.replace(ok, cname_source="a b"))}
    assert probs == {"cname_source"}
    probs = {f for f, _, _ in record_problems(dataclasses.replace(ok, cname_target="LB.gov.test."))}
    assert probs == {"cname_target"}                                           # the same name: nothing switches
    probs = {f for f, _, _ in record_problems(dataclasses.replace(ok, rdtype="A"))}
    assert probs == {"cname_source", "cname_target"}                           # only for CNAME
    probs = {f for f, _, _ in record_problems(CutoverRecord(name="lb.gov.test", kind="haproxy", api="/run/h.sock",
                                                            backend="b", server="s1", cname_target="x.gov.test"))}
    assert probs == {"cname_target"}


def test_cname_record_values():
    from types import SimpleNamespace
    from govcloud.migrate.desired import record_values
    rec = CutoverRecord(name="www.gov.test", kind="dns", zone="gov.test", rdtype="CNAME",
                        cname_source="LB.gov.test", cname_target="govapp-cloud.gov.test.")
    t = SimpleNamespace(workload=SimpleNamespace(cutover_record=rec, services=()),
                        servers=[SimpleNamespace(source="s1", source_address="198.18.1.61")])
    assert record_values(t, {"s1": "198.19.0.5"}) == (("lb.gov.test.",), ("govapp-cloud.gov.test.",))
    assert record_values(t, {}) == (("lb.gov.test.",), ())                     # no target yet


@pytest.mark.parametrize("admin,state", [(0, "ready"), (4, "ready"), (5, "maint"), (1, "maint"), (8, "drain"),
                                         (12, "drain"), (0x20, "maint"), (0x40, "maint")])
def test_haproxy_admin_state(monkeypatch, admin, state):
    """show servers state: a slot disabled in the configuration and then set ready keeps the CMAINT
    bit (4) while it takes traffic (HAProxy 2.6 on the harness) — that is ready, not maintenance."""
    out = ("1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
           "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
           "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n"
           f"3 govapp 2 s2 198.18.1.2 2 {admin} 1 1 10 15 3 2 6 0 0 0 - 80 -\n")
    sw = S.HaproxySwitch("govapp", "s2", "/nonexistent.sock")
    monkeypatch.setattr(sw, "_cmd", lambda cmd: out)
    st = sw.read()
    assert st.values == ("198.18.1.2:80",) and st.detail["admin"] == state and st.detail["op_state"] == "2"
