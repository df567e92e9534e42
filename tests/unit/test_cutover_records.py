"""Cutover record kinds (hosts, dns, haproxy): validation with file, line and field; the switch
port chosen by kind; TSIG key references (a file or a name, never the secret); the values a switch
expects and sets; the executor's record gate (compare-and-swap before anything runs, the TTL wait)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from govcloud.drivers import switching as S
from govcloud.inventory.validate import validate_path
from govcloud.model.cutover import record_problems
from govcloud.model.entities import CutoverRecord
from govcloud.store.entries import Entry

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "inventories" / "sample-workload"
HOSTS_BLOCK = """      cutover_record:
        name: govapp.gov.test
        kind: hosts
        clients:
          - govapp-kiosk01
"""


SAMPLE_BLOCK = """      cutover_record:
        name: govapp.gov.test
        kind: dns
        zone: gov.test
        server: 198.18.0.1:53
        rdtype: A
        tsig_key: govcloud-tsig
        clients:
          - govapp-kiosk01
"""


def _with_record(tmp_path: Path, block: str) -> Path:
    inv = tmp_path / "inv"
    shutil.copytree(SAMPLE, inv)
    f = inv / "departments" / "shujuju.yaml"
    text = f.read_text(encoding="utf-8")
    assert text.count(SAMPLE_BLOCK) == 1          # govapp's record (the sample's dns record)
    f.write_text(text.replace(SAMPLE_BLOCK, block), encoding="utf-8")
    return inv


def test_the_sample_uses_dns_and_haproxy_records_and_validates():
    res = validate_path(SAMPLE)
    assert [p for p in res.problems if p.is_error] == []
    recs = {sid: s.workload.cutover_record for sid, s in res.inventory.systems.items() if s.workload}
    assert recs["govapp"].kind == "dns" and recs["govapp"].zone == "gov.test" and recs["govapp"].name == "govapp.gov.test"
    assert recs["govportal"].kind == "haproxy" and recs["govportal"].backend == "govapp"
    assert recs["govapp"].tsig_key == "govcloud-tsig"             # a key name: the secret lives in a file
    text = "".join(p.read_text(encoding="utf-8") for p in SAMPLE.rglob("*.yaml"))
    assert "secret" not in text.lower()


DNS_OK = """      cutover_record:
        name: govapp.gov.test
        kind: dns
        zone: gov.test
        server: 198.18.0.1:53
        rdtype: A
        tsig_key: govcloud-tsig
        clients: [govapp-kiosk01]
"""
HAPROXY_OK = """      cutover_record:
        name: lb.gov.test
        kind: haproxy
        api: /run/haproxy/admin.sock
        backend: govapp
        server: s1
        mode: drain-enable
        target_server: s2
        port: 80
        clients: [govapp-kiosk01]
"""


@pytest.mark.parametrize("block", [DNS_OK, HAPROXY_OK, HOSTS_BLOCK])
def test_good_records_validate_clean(tmp_path, block):
    res = validate_path(_with_record(tmp_path, block))
    assert [p for p in res.problems if p.is_error] == []


@pytest.mark.parametrize("old,new,field,words", [
    ("kind: dns", "kind: bgp", "kind", "is not a cutover record kind"),
    ("zone: gov.test", "zone: other.test", "zone", "is not inside zone other.test"),
    ("server: 198.18.0.1:53", "server: 'ns1;rm -rf /'", "server", "is not an address"),
    ("rdtype: A", "rdtype: MX", "rdtype", "A, AAAA or CNAME"),
    ("tsig_key: govcloud-tsig", "tsig_key: c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", "tsig_key",
     "looks like a TSIG secret"),
    ("tsig_key: govcloud-tsig", "tsig_key: ../../etc/shadow", "tsig_key", "absolute file path or a key name"),
    ("tsig_key: govcloud-tsig", "backend: govapp", "backend", "belongs to kind haproxy"),
])
def test_bad_dns_records_name_file_line_and_field(tmp_path, old, new, field, words):
    block = DNS_OK.replace(old, new)
    inv = _with_record(tmp_path, block)
    errs = [p for p in validate_path(inv).problems if p.is_error]
    assert errs, block
    p = next(p for p in errs if p.field == field)
    assert words in p.message and p.file.endswith("shujuju.yaml") and p.line and p.line > 30
    assert "c2VjcmV0" not in p.message


@pytest.mark.parametrize("old,new,field", [
    ("api: /run/haproxy/admin.sock", "api: 'admin.sock'", "api"),
    ("backend: govapp", "backend: 'a b'", "backend"),
    ("server: s1", "server: 's1;shutdown sessions'", "server"),
    ("mode: drain-enable", "mode: flip", "mode"),
    ("target_server: s2", "target_server: s1", "target_server"),
])
def test_bad_haproxy_records(tmp_path, old, new, field):
    inv = _with_record(tmp_path, HAPROXY_OK.replace(old, new))
    errs = [p for p in validate_path(inv).problems if p.is_error]
    assert any(p.field == field and p.code == "bad-cutover-record" and p.line for p in errs), errs


def test_missing_fields_per_kind():
    probs = {f for f, _, _ in record_problems(CutoverRecord(name="a.gov.test", kind="dns"))}
    assert probs == {"zone", "server", "tsig_key"}
    probs = {f for f, _, _ in record_problems(CutoverRecord(name="lb.gov.test", kind="haproxy"))}
    assert probs == {"api", "backend", "server"}
    assert record_problems(CutoverRecord(name="a.gov.test")) == []


def _key(path: Path, mode: int = 0o600) -> Path:
    path.write_text('key "govcloud-tsig" { algorithm hmac-sha256; secret "c2VjcmV0c2VjcmV0c2VjcmV0"; };\n')
    path.chmod(mode)
    return path


def test_switch_port_is_chosen_by_kind(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_TSIG_DIR", str(tmp_path))
    _key(tmp_path / "govcloud-tsig.key")
    dns = CutoverRecord(name="govapp.gov.test", kind="dns", zone="gov.test", server="127.0.0.1:53",
                        tsig_key="govcloud-tsig")
    sw = S.switch_for(dns)
    assert isinstance(sw, S.DnsSwitch) and sw.key.name == "govcloud-tsig" and sw.server == ("127.0.0.1", 53)
    hs = S.switch_for(CutoverRecord(name="x.gov.test"))                      # hosts: the clients' files
    assert isinstance(hs, S.HostsSwitch) and hs.kind == "hosts"
    lb = S.switch_for(CutoverRecord(name="lb.gov.test", kind="haproxy", api="/run/h.sock", backend="b", server="s1"))
    assert isinstance(lb, S.HaproxySwitch) and lb.name == "b/s1"
    de = S.switch_for(CutoverRecord(name="lb.gov.test", kind="haproxy", api="/run/h.sock", backend="b", server="s1",
                                    mode="drain-enable", target_server="s2"))
    assert isinstance(de, S.HaproxyDrainSwitch)


def test_tsig_key_references(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_TSIG_DIR", str(tmp_path))
    k = _key(tmp_path / "k1.key")
    assert S.tsig_key_file(str(k)) == k and S.tsig_key_file("k1") == k
    with pytest.raises(S.SwitchError) as e:
        S.tsig_key_file("missing")
    assert e.value.code == "invalid" and "does not exist" in str(e.value)
    k.chmod(0o644)
    with pytest.raises(S.SwitchError) as e:
        S.tsig_key_file("k1")
    assert "readable by others" in str(e.value) and "c2Vj" not in str(e.value)
    with pytest.raises(S.SwitchError):
        S.tsig_key_file("../k1")


def _target(kind: str, **rec) -> SimpleNamespace:
    wl = SimpleNamespace(cutover_record=CutoverRecord(name="a.gov.test", kind=kind, **rec),
                         services=(SimpleNamespace(name="nginx", port=8080, health_path="/h"),))
    servers = [SimpleNamespace(source="s1", source_address="198.18.1.63")]
    return SimpleNamespace(workload=wl, servers=servers, system="app")


def test_record_values():
    from govcloud.migrate.desired import record_values
    assert record_values(_target("dns"), {"s1": "198.19.0.5"}) == (("198.18.1.63",), ("198.19.0.5",))
    assert record_values(_target("dns"), {}) == (("198.18.1.63",), ())
    assert record_values(_target("haproxy"), {"s1": "198.19.0.5"}) == (("198.18.1.63:8080",), ("198.19.0.5:8080",))
    assert record_values(_target("hosts"), {"s1": "198.19.0.5"}) == (("198.18.1.63",), ("198.19.0.5",))


class FakeSwitch:
    kind = "dns"

    def __init__(self, values, ttl=300, bad_key=False):
        self.values, self.ttl, self.calls, self.bad_key = tuple(values), ttl, [], bad_key

    def check_key(self):
        if self.bad_key:
            raise S.SwitchError("auth", "a.gov.test A @ 198.18.0.1:53: the server refused the TSIG key k "
                                        "(PeerBadSignature; key file /etc/govcloud/tsig/k.key)")

    def read(self):
        return S.RecordState("dns", "a.gov.test", self.values, self.ttl)

    def switch(self, expected, new):
        self.calls.append((expected, new))
        if self.values == tuple(new):
            return S.SwitchResult("dns", "a.gov.test", self.values, self.values, False)
        if self.values != tuple(expected):
            raise S.SwitchError("conflict", "not the expected value")
        before, self.values = self.values, tuple(new)
        return S.SwitchResult("dns", "a.gov.test", before, self.values, True)


def _executor(monkeypatch, tmp_path, sw, entries=()):
    from govcloud.migrate import executor as X
    ex = X.Executor.__new__(X.Executor)
    ex.plan_dir, ex.run_id, ex.on_event = tmp_path, "r1", lambda s, m: None
    ex.journaled = []
    ex.inv = SimpleNamespace(origin={("systems", "app"): ("departments/d.yaml", 0)})
    ex.plan = SimpleNamespace(inventory="../nowhere")
    monkeypatch.setattr(ex, "_switch", lambda t: sw, raising=False)
    monkeypatch.setattr(ex, "_target_addresses", lambda t: {"s1": "198.19.0.5"}, raising=False)
    monkeypatch.setattr(ex, "_ttl_entry", lambda s: Entry.from_dict({"kind": "record_ttl", **entries[-1]})
                        if entries else None, raising=False)
    monkeypatch.setattr(ex, "j", lambda **e: ex.journaled.append(e) or e, raising=False)
    return ex


def test_gate_refuses_a_foreign_value_and_the_ttl_wait(monkeypatch, tmp_path):
    t = _target("dns")
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.18.1.99"]))
    g = ex._record_gate(t)
    assert g["conflicts"] and g["conflicts"][0]["live"] == ["198.18.1.99"]
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.18.1.63"]))
    assert "never lowered" in ex._record_gate(t)["ttl_pending"][0]["why"]
    now = time.time()
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.18.1.63"]),
                   [{"record": "dns:a.gov.test", "lowered_at": now, "ttl_before": 3600, "expires_at": now + 3600,
                     "expires": "later"}])
    g = ex._record_gate(t)
    assert g["conflicts"] == [] and "TTL 3600 s" in g["ttl_pending"][0]["why"]
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.18.1.63"]),
                   [{"record": "dns:a.gov.test", "lowered_at": now - 10, "ttl_before": 5, "expires_at": now - 5,
                     "expires": "past"}])
    assert ex._record_gate(t) == {"conflicts": [], "ttl_pending": []}
    # already on the target (a resumed cutover): neither a conflict nor a TTL wait
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.19.0.5"]))
    assert ex._record_gate(t) == {"conflicts": [], "ttl_pending": []}


def test_switch_and_switch_back_are_journaled_compare_and_swap(monkeypatch, tmp_path):
    t = _target("dns")
    sw = FakeSwitch(["198.18.1.63"])
    ex = _executor(monkeypatch, tmp_path, sw)
    ex._switch_record(t, sw, to="target")
    ex._switch_record(t, sw, to="source")
    assert sw.calls == [(("198.18.1.63",), ("198.19.0.5",)), (("198.19.0.5",), ("198.18.1.63",))]
    assert [(e["to"], e["before"], e["after"]) for e in ex.journaled] == [
        ("target", ["198.18.1.63"], ["198.19.0.5"]), ("source", ["198.19.0.5"], ["198.18.1.63"])]
    sw.values = ("198.18.1.99",)
    with pytest.raises(S.SwitchError):
        ex._switch_record(t, sw, to="target")
    assert ex.journaled[-1]["status"] == "refused" and sw.values == ("198.18.1.99",)


def test_gate_refuses_a_refused_tsig_key_naming_the_key_file_and_the_field(monkeypatch, tmp_path):
    from govcloud.errors import GovcloudError
    t = _target("dns")
    ex = _executor(monkeypatch, tmp_path, FakeSwitch(["198.18.1.63"], bad_key=True))
    with pytest.raises(GovcloudError) as e:
        ex._record_gate(t)
    msg = str(e.value)
    assert "refusing to cut over" in msg and "refused the TSIG key k" in msg and "/etc/govcloud/tsig/k.key" in msg
    assert "departments/d.yaml systems[app].workload.cutover_record.tsig_key" in msg
    assert e.value.exit_code == 1
