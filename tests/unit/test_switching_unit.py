"""The switch drivers' input checks and key-file reading (no server needed; the real BIND9 and
HAProxy are exercised in tests/integration/test_switching.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from govcloud.drivers.switching import DnsSwitch, HaproxySwitch, SwitchError, read_tsig_key


def test_tsig_key_file_is_read_and_never_shown(tmp_path):
    f = tmp_path / "k"
    f.write_text('key "govcloud-tsig" {\n\talgorithm hmac-sha256;\n\tsecret "c2VjcmV0c2VjcmV0c2VjcmV0";\n};\n')
    k = read_tsig_key(f)
    assert (k.name, k.algorithm, k.secret) == ("govcloud-tsig", "hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0")
    assert "c2Vj" not in repr(k) and "c2Vj" not in str(k)


@pytest.mark.parametrize("text", ["", "garbage", 'key "x" { algorithm hmac-sha256; };', "\x00\xff"])
def test_bad_key_files_are_clear_errors(tmp_path, text):
    f = tmp_path / "k"
    f.write_text(text, encoding="utf-8", errors="surrogateescape")
    with pytest.raises(SwitchError) as e:
        read_tsig_key(f)
    assert e.value.code == "invalid" and str(f) in str(e.value)
    with pytest.raises(SwitchError):
        read_tsig_key(tmp_path / "missing")


@pytest.mark.parametrize("name,zone,server", [
    ("a;b.gov.test", "gov.test", "127.0.0.1:53"), ("x\ny.gov.test", "gov.test", "127.0.0.1"),
    ("x.other.test", "gov.test", "127.0.0.1"), ("x.gov.test", "gov.test", "ns.gov.test:53"),
    ("{{x}}.gov.test", "gov.test", "127.0.0.1"), ("x.gov.test", "gov.test", "127.0.0.1:abc")])
def test_dns_switch_refuses_hostile_names(name, zone, server):
    with pytest.raises(SwitchError) as e:
        DnsSwitch(name, zone, server, None)
    assert e.value.code == "invalid"


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_text_is_accepted_or_refused_cleanly(text):
    for make in (lambda: DnsSwitch(text, "gov.test", "127.0.0.1", None),
                 lambda: HaproxySwitch(text, "s1", "/nonexistent.sock"),
                 lambda: HaproxySwitch("be", "s1", "/x").switch((), (text,))):
        try:
            make()
        except SwitchError as e:
            assert e.code in ("invalid", "unreachable")


def test_haproxy_unreachable_api_is_a_clear_error(tmp_path):
    with pytest.raises(SwitchError) as e:
        HaproxySwitch("govapp", "s1", str(tmp_path / "none.sock")).read()
    assert e.value.code == "unreachable"
