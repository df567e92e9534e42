"""Traffic switches against the harness's real BIND9 and HAProxy (harness/netsvc), seen from a client.

* DNS: a TSIG-signed RFC 2136 update switches a record; the TTL is lowered first; a record changed
  behind govcloud's back makes the switch refuse and change nothing — also when the change lands
  between govcloud's read and its update (the server's value-dependent prerequisite refuses it);
  a wrong key is a clear ``auth`` error that names no secret; a test host resolves the new value
  through the same BIND.
* HAProxy: a backend slot is repointed through the runtime API, a client's requests through the
  frontend follow it, a stale expectation is refused, and the switch back restores service.
"""
from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time

import pytest

from govcloud.drivers.switching import DnsSwitch, HaproxySwitch, SwitchError

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

CLIENT = "h15"          # a plain test host used read-only as the client


def _on_client(hosts, script: str) -> str:
    cfg = hosts.dir / "ssh_config"
    p = subprocess.run(["ssh", "-F", str(cfg), "-o", "BatchMode=yes", CLIENT, script],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def _client_resolves(hosts, name: str) -> str:
    # the client's own resolver (its /etc/resolv.conf points at the harness BIND), no cache
    return _on_client(hosts, f"getent ahostsv4 {name} | awk 'NR==1{{print $1}}'")


def test_dns_switch_lower_ttl_cas_and_client_view(netsvc):
    name = f"sw-{secrets.token_hex(4)}.gov.test"
    sw = DnsSwitch(name, "gov.test", netsvc["dns"], netsvc["key"])
    assert sw.read().values == ()
    created = sw.switch((), ("198.18.1.40",), ttl=3600)           # expected "absent": a create
    assert created.changed and sw.read().values == ("198.18.1.40",) and sw.read().ttl == 3600
    assert _client_resolves(netsvc["hosts"], name) == "198.18.1.40"

    low = sw.lower_ttl(30)
    assert low.changed and low.ttl_before == 3600 and sw.read().ttl == 30
    assert not sw.lower_ttl(60).changed                             # already lower: left alone

    res = sw.switch(("198.18.1.40",), ("198.19.7.7",))
    assert (res.before, res.after, res.changed) == (("198.18.1.40",), ("198.19.7.7",), True)
    assert _client_resolves(netsvc["hosts"], name) == "198.19.7.7"
    assert not sw.switch(("198.18.1.40",), ("198.19.7.7",)).changed   # re-run: already switched

    # someone changes the record behind govcloud's back: the switch refuses and changes nothing
    subprocess.run(["nsupdate", "-k", str(netsvc["key"])], check=True, text=True, timeout=30,
                   input=f"server 198.18.0.1 53\nzone gov.test\nupdate delete {name} A\n"
                         f"update add {name} 30 A 198.18.1.99\nsend\n")
    with pytest.raises(SwitchError) as e:
        sw.switch(("198.19.7.7",), ("198.18.1.40",))
    assert e.value.code == "conflict" and sw.read().values == ("198.18.1.99",)

    # the race itself: the value changes after govcloud read it — the server's prerequisite refuses
    with pytest.raises(SwitchError) as e:
        sw._update(("198.19.7.7",), ("198.18.1.40",), 30)
    assert e.value.code == "conflict" and sw.read().values == ("198.18.1.99",)


def test_dns_wrong_key_is_refused_without_leaking_it(netsvc, tmp_path):
    name = f"sw-{secrets.token_hex(4)}.gov.test"
    secret = base64.b64encode(os.urandom(32)).decode()
    bad = tmp_path / "wrong.key"
    bad.write_text(f'key "govcloud-tsig" {{ algorithm hmac-sha256; secret "{secret}"; }};\n')
    with pytest.raises(SwitchError) as e:
        DnsSwitch(name, "gov.test", netsvc["dns"], bad).switch((), ("198.18.1.40",))
    assert e.value.code == "auth" and secret not in str(e.value) and secret not in repr(e.value.__dict__)
    assert DnsSwitch(name, "gov.test", netsvc["dns"], netsvc["key"]).read().values == ()   # nothing written
    with pytest.raises(SwitchError) as e:
        DnsSwitch(name, "gov.test", netsvc["dns"], None).switch((), ("198.18.1.40",))
    assert e.value.code == "auth"
    for hostile in ("a;b.gov.test", "x.gov.test\nupdate add evil", "../x", "x.other.test"):
        with pytest.raises(SwitchError) as e:
            DnsSwitch(hostile, "gov.test", netsvc["dns"], netsvc["key"])
        assert e.value.code == "invalid"


def _through_lb(hosts) -> str:
    return _on_client(hosts, "curl -s -o /dev/null -m 5 -w '%{http_code}' http://lb.gov.test/ || true")


@pytest.fixture
def haproxy_govapp():
    """The backend is shared with test_migrate_switch.py: one module at a time changes it."""
    import fcntl
    with open("/tmp/govcloud-haproxy-govapp.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def test_haproxy_switch_traffic_follows_and_switches_back(netsvc, haproxy_govapp):
    hosts = netsvc["hosts"]
    sw = HaproxySwitch("govapp", "s1", netsvc["api"])
    start = sw.read().values
    assert start == ("198.18.1.1:80",)
    deadline = time.monotonic() + 15
    while _through_lb(hosts) != "200" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _through_lb(hosts) == "200"
    try:
        # repoint the slot at an address where nothing serves: the client's requests follow (503)
        res = sw.switch(start, ("198.18.1.15:81",))
        assert res.changed and sw.read().values == ("198.18.1.15:81",)
        deadline = time.monotonic() + 15
        while _through_lb(hosts) == "200" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _through_lb(hosts) == "503"
        with pytest.raises(SwitchError) as e:                  # a stale expectation changes nothing
            sw.switch(start, ("198.18.1.2:80",))
        assert e.value.code == "conflict" and sw.read().values == ("198.18.1.15:81",)
    finally:
        back = sw.switch(sw.read().values, start)
    assert back.after == start
    deadline = time.monotonic() + 15
    while _through_lb(hosts) != "200" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _through_lb(hosts) == "200"
    with pytest.raises(SwitchError) as e:
        HaproxySwitch("govapp", "nope", netsvc["api"]).read()
    assert e.value.code == "not-found"
    with pytest.raises(SwitchError) as e:
        HaproxySwitch("govapp;shutdown", "s1", netsvc["api"])
    assert e.value.code == "invalid"
