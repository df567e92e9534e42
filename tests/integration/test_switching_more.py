"""More traffic switches against the harness's real BIND9 and HAProxy (harness/netsvc), seen from a
client (h62; hosts h61/h62 are reserved for this module and the README drill):

* a DNS **CNAME** switched by compare-and-swap on its target (TSIG-signed RFC 2136 update with a
  value-dependent prerequisite): the TTL lowered first, the client's resolver follows the new target,
  a CNAME changed behind govcloud's back refuses and changes nothing — also when the change lands
  between govcloud's read and its update;
* HAProxy **drain-enable**: the spare slot ``s2`` pointed at the target and enabled, the source's
  slot ``s1`` drained; the client's requests through the frontend go to the new slot only (HAProxy's
  own per-server counters), a stale expectation refuses, the switch back enables ``s1`` again and
  puts ``s2`` in maintenance;
* kind **hosts** behind the same port: the clients' /etc/hosts (h61, h62) read and compare-and-swapped
  through playbooks/migrate_record.yml — one client holding someone else's value and no client is
  written; switched back.

The HAProxy backend is shared with test_switching.py and test_migrate_switch.py: all hold
/tmp/govcloud-haproxy-govapp.lock while they change it; this module puts s1 and s2 back as the
harness starts them (s1 → 198.18.1.1:80 ready, s2 → 127.0.0.1:9 maint).
"""
from __future__ import annotations

import contextlib
import fcntl
import secrets
import subprocess
import time

import pytest

from govcloud.drivers.switching import DnsSwitch, HaproxyDrainSwitch, HaproxySwitch, HostsSwitch, SwitchError

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

CLIENT = "h62"
H1, H2 = "198.18.1.1", "198.18.1.2"     # the harness's webapp hosts: nginx answers GET / on :80


def _on_client(hosts, script: str) -> str:
    p = subprocess.run(["ssh", "-F", str(hosts.dir / "ssh_config"), "-o", "BatchMode=yes", CLIENT, script],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def _nsupdate(netsvc, lines: str) -> None:
    subprocess.run(["nsupdate", "-k", str(netsvc["key"])], check=True, text=True, timeout=30,
                   input=f"server 198.18.0.1 53\nzone gov.test\n{lines}\nsend\n")


def test_cname_is_switched_by_compare_and_swap_on_its_target(netsvc):
    hosts = netsvc["hosts"]
    name = f"cn-{secrets.token_hex(4)}.gov.test"
    sw = DnsSwitch(name, "gov.test", netsvc["dns"], netsvc["key"], rdtype="CNAME")
    try:
        assert sw.read().values == ()
        made = sw.switch((), ("h1.gov.test",), ttl=3600)                 # the department's CNAME today
        assert made.changed and sw.read().values == ("h1.gov.test.",) and sw.read().ttl == 3600
        resolve = f"getent ahostsv4 {name} | awk 'NR==1{{print $1}}'"
        assert _on_client(hosts, resolve) == H1

        low = sw.lower_ttl(30)
        assert low.changed and low.ttl_before == 3600 and sw.read().ttl == 30
        assert sw.read().values == ("h1.gov.test.",)                     # the target name kept

        res = sw.switch(("h1.gov.test",), ("h2.gov.test",))
        assert (res.before, res.after, res.changed) == (("h1.gov.test.",), ("h2.gov.test.",), True)
        assert _on_client(hosts, resolve) == H2                          # the client follows through BIND
        assert not sw.switch(("h1.gov.test",), ("h2.gov.test",)).changed   # again: already switched

        # behind govcloud's back: the CNAME now points elsewhere — refused, left as found
        _nsupdate(netsvc, f"update delete {name} CNAME\nupdate add {name} 30 CNAME ns.gov.test.")
        with pytest.raises(SwitchError) as e:
            sw.switch(("h2.gov.test",), ("h1.gov.test",))
        assert e.value.code == "conflict" and "nothing was changed" in str(e.value)
        assert sw.read().values == ("ns.gov.test.",)
        # the race: the value changed after govcloud read it — BIND's prerequisite refuses the update
        with pytest.raises(SwitchError) as e:
            sw._update(("h2.gov.test.",), ("h1.gov.test.",), 30)
        assert e.value.code == "conflict" and sw.read().values == ("ns.gov.test.",)
    finally:
        _nsupdate(netsvc, f"update delete {name} CNAME")
    assert sw.read().values == ()


@pytest.fixture
def haproxy_govapp(netsvc):
    with open("/tmp/govcloud-haproxy-govapp.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        api = netsvc["api"]
        try:
            yield api
        finally:
            with contextlib.suppress(SwitchError):
                s1, s2 = HaproxySwitch("govapp", "s1", api), HaproxySwitch("govapp", "s2", api)
                s1._cmd(f"set server govapp/s1 addr {H1} port 80")
                s1._cmd("set server govapp/s1 state ready")
                s2._cmd("set server govapp/s2 addr 127.0.0.1 port 9")
                s2._cmd("set server govapp/s2 state maint")


def _hits(api: str) -> dict[str, int]:
    """HAProxy's own count of sessions per server of backend govapp (show stat: stot)."""
    out = HaproxySwitch("govapp", "s1", api)._cmd("show stat")
    head = next(ln for ln in out.splitlines() if ln.startswith("# "))[2:].split(",")
    rows = [dict(zip(head, ln.split(","))) for ln in out.splitlines() if ln.startswith("govapp,")]
    return {r["svname"]: int(r["stot"] or 0) for r in rows if r["svname"] in ("s1", "s2")}


def _through_lb(hosts, n: int = 1) -> list[str]:
    out = _on_client(hosts, "for i in $(seq 1 %d); do curl -s -o /dev/null -m 5 -w '%%{http_code}\\n' "
                            "http://lb.gov.test/ || echo 000; done" % n)
    return out.split()


def _wait(pred, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_haproxy_drain_enable_moves_traffic_to_the_spare_slot_and_back(netsvc, haproxy_govapp):
    hosts, api = netsvc["hosts"], haproxy_govapp
    s1, s2 = HaproxySwitch("govapp", "s1", api), HaproxySwitch("govapp", "s2", api)
    sw = HaproxyDrainSwitch("govapp", "s1", "s2", api)
    src, tgt = (f"{H1}:80",), (f"{H2}:80",)
    assert s1.read().values == src and s1.read().detail["admin"] == "ready"
    assert s2.read().detail["admin"] == "maint"
    assert sw.read().values == src                                        # only s1 takes traffic
    _wait(lambda: _through_lb(hosts) == ["200"], "lb.gov.test answers through s1")

    res = sw.switch(src, tgt)
    assert (res.before, res.after, res.changed) == (src, tgt, True)
    assert s2.read().values == tgt and s2.read().detail["admin"] == "ready"
    assert s1.read().values == src and s1.read().detail["admin"] == "drain"   # drained, not repointed
    _wait(lambda: s2.read().detail.get("op_state") == "2", "HAProxy's health check of s2 passes")
    before = _hits(api)
    assert _through_lb(hosts, 6) == ["200"] * 6
    after = _hits(api)
    assert after["s2"] - before["s2"] >= 6 and after["s1"] == before["s1"], (before, after)
    assert not sw.switch(src, tgt).changed                                # again: already

    with pytest.raises(SwitchError) as e:                                 # a stale expectation
        sw.switch((f"{H1}:81",), (f"{H1}:80",))
    assert e.value.code == "conflict" and sw.read().values == tgt

    back = sw.switch(tgt, src)                                            # switch-back, compare-and-swap again
    assert (back.before, back.after, back.changed) == (tgt, src, True)
    assert s1.read().detail["admin"] == "ready" and s2.read().detail["admin"] == "maint"
    _wait(lambda: s1.read().detail.get("op_state") == "2", "s1 is up again")
    before = _hits(api)
    assert _through_lb(hosts, 4) == ["200"] * 4
    after = _hits(api)
    assert after["s1"] - before["s1"] >= 4 and after["s2"] == before["s2"], (before, after)


# ------------------------------------------------------------------------------- /etc/hosts

def test_hosts_record_is_read_and_compare_and_swapped_on_real_clients(test_hosts, tmp_path):
    """Kind hosts behind the same port: HostsSwitch over playbooks/migrate_record.yml on h61 and h62
    (the orchestrator's clients runner: the same playbook, extravars and report parsing)."""
    from pathlib import Path
    import yaml
    from govcloud.drivers.ansible import run_playbook
    from govcloud.migrate.runinventory import record_reports

    name = f"hs-{secrets.token_hex(4)}.gov.test"
    clients = {"h61": "198.18.1.61", "h62": "198.18.1.62"}
    inv = tmp_path / "inv.yml"
    common = (f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={test_hosts.known_hosts} "
              f"-o IdentityFile={test_hosts.key} -o IdentitiesOnly=yes -o PasswordAuthentication=no")
    inv.write_text(yaml.safe_dump({"all": {"children": {"clients": {"hosts": {
        h: {"ansible_host": a, "ansible_user": "govcloud", "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_common_args": common} for h, a in clients.items()}}}}}))
    runs = []

    def runner(action, expected, new):
        r = run_playbook(Path(__file__).resolve().parents[2] / "playbooks" / "migrate_record.yml", inv,
                         private_data_dir=tmp_path / f"run{len(runs)}",
                         extravars={"govcloud_cutover_record": {"name": name, "kind": "hosts"},
                                    "govcloud_system_id": "hstest", "govcloud_record_op": action,
                                    "govcloud_record_expected": list(expected), "govcloud_record_new": list(new)})
        runs.append(r)
        assert r.ok, r.failed_tasks
        return record_reports(r.messages)

    def line(h: str) -> str:
        return _ssh(test_hosts, h, f"awk '$2 == \"{name}\" {{print $1}}' /etc/hosts")

    sw = HostsSwitch(name, runner)
    src, tgt = ("198.18.1.61",), ("198.19.0.61",)
    try:
        _ssh(test_hosts, "h61", f"echo '198.18.1.61 {name}' | sudo -n tee -a /etc/hosts >/dev/null")
        st = sw.read()                                    # h61 maps it to the source, h62 has no line
        assert st.values == src and st.detail["clients"] == {"h61": src[0], "h62": ""}
        res = sw.switch(src, tgt)
        assert (res.before, res.after, res.changed) == (src, tgt, True)
        assert line("h61") == tgt[0] and line("h62") == tgt[0]
        assert _ssh(test_hosts, "h62", f"getent hosts {name} | awk '{{print $1}}'") == tgt[0]
        assert not sw.switch(src, tgt).changed            # again: already

        # someone changes h62's line: the switch back refuses and no client is written (h61 neither)
        _ssh(test_hosts, "h62", f"sudo -n sed -i 's/^{tgt[0]} {name}/198.18.1.250 {name}/' /etc/hosts")
        with pytest.raises(SwitchError) as e:
            sw.switch(tgt, src)
        assert e.value.code == "conflict" and "h62" in str(e.value) and "198.18.1.250" in str(e.value)
        assert "nothing was changed" in str(e.value)
        assert line("h61") == tgt[0] and line("h62") == "198.18.1.250"

        _ssh(test_hosts, "h62", f"sudo -n sed -i 's/^198.18.1.250 {name}/{tgt[0]} {name}/' /etc/hosts")
        back = sw.switch(tgt, src)                        # switch-back, compare-and-swap again
        assert back.changed and line("h61") == src[0] and line("h62") == src[0]
    finally:
        for h in clients:
            _ssh(test_hosts, h, f"sudo -n sed -i '/ {name}/d' /etc/hosts")


def _ssh(hosts, host: str, script: str) -> str:
    p = subprocess.run(["ssh", "-F", str(hosts.dir / "ssh_config"), "-o", "BatchMode=yes", host, script],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()

