"""The rehearsal network is isolated, proved on the harness: a clone booted on
``govcloud-rehearsal`` (as ``migrate rehearse`` boots one: ``ensure_server(..., rehearsal=…)``)
is reached by the control node over SSH, with the host key the cloud publishes, and reaches
nothing of production — the source hosts (h73, h74), the production DNS and HAProxy on
198.18.0.1, the control node's addresses on the production side (198.19.0.1) and on the
rehearsal bridge (198.19.200.1) — not even after it, as root, routes 198.18.0.0/15 and a
default route through the control node. Every negative result is set against a positive one
for the same address and port: the control node and a server on ``govcloud-net`` get an answer
there, and a second clone on the rehearsal network does reach the first (the clone's network is
not simply broken). A dropped packet shows as a timeout; a port nobody listens on would answer
with a reset ("refused"), so a timeout is isolation, not an empty port.

Hosts: h73, h74 only (reservation); on h73 a listener on 5432 stands in for a source database
(the plain hosts run no PostgreSQL). Everything booted is removed by its tags at the end."""

from __future__ import annotations

import json
import secrets
import socket
import struct
import subprocess
import threading
import uuid
from pathlib import Path

import paramiko
import pytest

from integration_helpers import run_ssh, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts]

REHEARSAL_NET = "govcloud-rehearsal"
PROD_NET = "govcloud-net"
GW_PROD, GW_TARGETS, GW_REHEARSAL = "198.18.0.1", "198.19.0.1", "198.19.200.1"
SOURCES = ("h73", "h74")
HARNESS = Path(__file__).resolve().parents[2] / "harness"

# runs inside a host (python3 of the test-host rootfs): one attempt per target, in parallel;
# prints {label: open|refused|timeout|unreachable|answered|error:…}
PROBE = r'''
import json, secrets, socket, struct, sys, threading
targets = json.loads(sys.argv[1])
out = {}
def tcp(label, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        out[label] = "open"
    except socket.timeout:
        out[label] = "timeout"
    except ConnectionRefusedError:
        out[label] = "refused"
    except OSError as e:
        out[label] = "unreachable" if e.errno in (101, 113) else "error:%s" % e.errno
    finally:
        s.close()
def dns(label, host, port):
    q = struct.pack(">HHHHHH", secrets.randbits(16), 0, 1, 0, 0, 0) + b"\x03gov\x04test\x00" + struct.pack(">HH", 6, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        s.send(q)
        out[label] = "answered" if len(s.recv(4096)) >= 12 else "short"
    except socket.timeout:
        out[label] = "timeout"
    except ConnectionRefusedError:
        out[label] = "refused"
    except OSError as e:
        out[label] = "unreachable" if e.errno in (101, 113) else "error:%s" % e.errno
    finally:
        s.close()
ts = [threading.Thread(target=dns if kind == "udp-dns" else tcp, args=(label, host, port))
      for label, (kind, host, port) in targets.items()]
[t.start() for t in ts]
[t.join() for t in ts]
print(json.dumps(out))
'''


def _probe_local(targets: dict[str, tuple[str, str, int]]) -> dict[str, str]:
    """The same probe from the control node itself (root netns)."""
    p = subprocess.run(["python3", "-c", PROBE, json.dumps(targets)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _probe(client: paramiko.SSHClient, targets: dict[str, tuple[str, str, int]]) -> dict[str, str]:
    rc, out, err = run_ssh(client, "python3 - " + _q(json.dumps(targets)), stdin=PROBE.encode(), timeout=60)
    assert rc == 0, err
    return json.loads(out)


def _q(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def _dns_a(name: str) -> list[str]:
    """The A records (sorted) of ``name`` at the production DNS, from the control node."""
    qid = secrets.randbits(16)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1), (GW_PROD, 53))
        data = s.recv(4096)
    rid, _flags, qd, an = struct.unpack(">HHHH", data[:8])
    assert rid == qid and qd == 1
    i = 12 + len(qname) + 4
    out = []
    for _ in range(an):
        while data[i] and data[i] & 0xC0 != 0xC0:     # owner name (labels, maybe a pointer)
            i += data[i] + 1
        i += 2 if data[i] & 0xC0 == 0xC0 else 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[i:i + 10])
        i += 10
        if rtype == 1:
            out.append(socket.inet_ntoa(data[i:i + rdlen]))
        i += rdlen
    return sorted(out)


def _haproxy_backend(api: str) -> list[tuple[str, ...]]:
    """HAProxy's backend ``govapp``: (server, address, port, admin state) per server."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(api)
        s.sendall(b"show servers state govapp\n")
        text = b""
        while chunk := s.recv(65536):
            text += chunk
    lines = [ln.split() for ln in text.decode().splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    return sorted((f[3], f[4], f[18], f[6]) for f in lines if len(f) > 18)


class Listener:
    """A TCP server of the test on one of the control node's own addresses (stopped at the end)."""

    def __init__(self, addr: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                c, peer = self.sock.accept()
            except OSError:
                return
            self.accepted.append(peer[0])
            c.close()

    def close(self) -> None:
        self.sock.close()


def _client(addr: str, host_key: str, key: Path, tmp: Path, user: str = "root") -> paramiko.SSHClient:
    """SSH as the product does: the host key the cloud published, strictly."""
    kh = tmp / f"known_hosts-{addr}"
    kh.write_text(f"{addr} {host_key}\n")
    c = paramiko.SSHClient()
    c.load_host_keys(str(kh))
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    c.connect(addr, username=user, key_filename=str(key), look_for_keys=False, allow_agent=False, timeout=20)
    return c


def test_a_rehearsal_clone_reaches_nothing_of_production(openstack_cloud, bridged_cloud, rehearsal_cloud, test_hosts,
                                                        netsvc, tmp_path):
    from govcloud.drivers.openstack import OpenStackCloud
    from govcloud.drivers.ports import resource_tags

    cloud = OpenStackCloud.connect(openstack_cloud.member_cloud, config_file=str(openstack_cloud.clouds_yaml))
    # the cloud itself says the rehearsal network is isolated, and the production one is not
    assert cloud.isolation_problems(REHEARSAL_NET) == []
    assert any("gateway" in p for p in cloud.isolation_problems(PROD_NET))
    g = subprocess.run([str(HARNESS / "bridge"), "status"], capture_output=True, text=True, timeout=60)
    assert g.returncode == 0 and "rehearsal guard: on" in g.stdout and "ip_forward=0" in g.stdout, g.stdout
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"

    hosts = {h["name"]: h["addr"] for h in test_hosts.hosts}
    assert all(h in hosts for h in SOURCES), sorted(hosts)
    plan, rid, system = "it-reh-" + uuid.uuid4().hex[:6], "r" + uuid.uuid4().hex[:8], "sys-reh"
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", plan, "-f", str(key)], check=True)
    kp = f"{plan}-kp"
    listeners = [Listener(GW_TARGETS), Listener(GW_REHEARSAL)]
    dns_before = {n: _dns_a(n) for n in ("h1.gov.test", "lb.gov.test")}
    lb_before = _haproxy_backend(netsvc["api"])
    assert dns_before["h1.gov.test"] == ["198.18.1.1"] and lb_before, (dns_before, lb_before)
    clients: list[paramiko.SSHClient] = []
    # a stand-in for the source database on h73 (the plain hosts run no PostgreSQL): a listener on 5432
    h73 = test_hosts.client(next(h for h in test_hosts.hosts if h["name"] == "h73"))
    clients.append(h73)
    rc, out, err = run_ssh(h73, "setsid python3 -c " + _q(
        "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
        "s.bind(('0.0.0.0',5432));s.listen()\nwhile True:\n c,_=s.accept();c.close()")
        + " </dev/null >/dev/null 2>&1 & echo $!")
    assert rc == 0, err
    db_pid = int(out.decode().split()[0])
    try:
        cloud.ensure_keypair(kp, (tmp_path / "id_ed25519.pub").read_text())
        group = f"gc-{plan}"
        cloud.ensure_security_group(group, [{"protocol": "tcp", "port_range_min": None, "port_range_max": None,
                                             "remote_ip_prefix": "0.0.0.0/0"}],
                                    resource_tags(plan, system), "rehearsal network test")
        rgroup = f"gc-{plan}-{rid}"
        cloud.ensure_security_group(rgroup, [{"protocol": "tcp", "port_range_min": None, "port_range_max": None,
                                              "remote_ip_prefix": "0.0.0.0/0"}],
                                    resource_tags(plan, system, rehearsal=rid), "rehearsal network test")
        common = dict(plan_id=plan, system=system, flavor="m1.tiny", image="Debian-12-x86_64", keypair=kp,
                      timeout=300)
        prod, _ = cloud.ensure_server(server="app", name=f"{plan}-app", network=PROD_NET, security_group=group,
                                      **common)
        clone, _ = cloud.ensure_server(server="app", name=f"{plan}-app-{rid}", network=REHEARSAL_NET,
                                       security_group=rgroup, rehearsal=rid, **common)
        peer, _ = cloud.ensure_server(server="db", name=f"{plan}-db-{rid}", network=REHEARSAL_NET,
                                      security_group=rgroup, rehearsal=rid, **common)
        addr = {s["name"]: s["addresses"][net][0]
                for s, net in ((prod, PROD_NET), (clone, REHEARSAL_NET), (peer, REHEARSAL_NET))}
        a_prod, a_clone, a_peer = addr[prod["name"]], addr[clone["name"]], addr[peer["name"]]
        assert a_clone.startswith("198.19.200.") and a_peer.startswith("198.19.200.")
        assert not a_prod.startswith("198.19.200.")
        keys = {s["id"]: wait_until(lambda s=s: cloud.host_key_of(s["id"]), 120, 1,
                                    f"the bridge's host key of {s['name']}") for s in (prod, clone, peer)}

        # positive control: the control node reaches the clone over SSH (strict host key)
        c_clone = _client(a_clone, keys[clone["id"]], key, tmp_path)
        clients.append(c_clone)
        c_prod = _client(a_prod, keys[prod["id"]], key, tmp_path)
        clients.append(c_prod)
        rc, out, _ = run_ssh(c_clone, "id -u; ip -4 -o addr show eth0; ip -4 route")
        text = out.decode()
        assert rc == 0 and text.startswith("0\n") and f"{a_clone}/24" in text and "default" not in text, text

        targets = {f"{h}:22": ("tcp", hosts[h], 22) for h in SOURCES}
        targets["h73:5432"] = ("tcp", hosts["h73"], 5432)
        targets.update({
            "dns/tcp": ("tcp", GW_PROD, 53), "dns/udp": ("udp-dns", GW_PROD, 53), "haproxy:80": ("tcp", GW_PROD, 80),
            f"{GW_TARGETS}:listener": ("tcp", GW_TARGETS, listeners[0].port),
            f"{GW_REHEARSAL}:listener": ("tcp", GW_REHEARSAL, listeners[1].port),
            f"{GW_REHEARSAL}:22": ("tcp", GW_REHEARSAL, 22), f"{GW_REHEARSAL}:53": ("tcp", GW_REHEARSAL, 53),
            f"{GW_REHEARSAL}:dns/udp": ("udp-dns", GW_REHEARSAL, 53),
        })
        answering = {"open", "answered"}
        # each production port answers — from the control node, and from a target on govcloud-net
        # (the negative control: the same probe WOULD see a route to production)
        local = _probe_local(targets)
        for t in [f"{h}:22" for h in SOURCES] + ["h73:5432", "dns/tcp", "dns/udp", "haproxy:80",
                                                 f"{GW_TARGETS}:listener", f"{GW_REHEARSAL}:listener"]:
            assert local[t] in answering, (t, local)
        from_prod = _probe(c_prod, targets)
        for t in [f"{h}:22" for h in SOURCES] + ["h73:5432", "dns/tcp", "dns/udp", "haproxy:80",
                                                 f"{GW_TARGETS}:listener"]:
            assert from_prod[t] in answering, (t, from_prod)
        # nothing listens on the control node's 198.19.200.1:22/53: unguarded, that is a reset/refusal
        assert local[f"{GW_REHEARSAL}:22"] == "refused" and local[f"{GW_REHEARSAL}:53"] == "refused", local

        # the clone: no route to production at all; its own bridge's address drops everything
        seen = len(listeners[1].accepted)       # the control node's own connection
        first = _probe(c_clone, targets)
        for t, result in first.items():
            assert result in ("timeout", "unreachable"), (t, first)
        for t in (f"{GW_REHEARSAL}:listener", f"{GW_REHEARSAL}:22", f"{GW_REHEARSAL}:53", f"{GW_REHEARSAL}:dns/udp"):
            assert first[t] == "timeout", (t, first)      # dropped, not refused: the guard, not an empty port

        # hostile: root in the clone routes production and everything else via the control node
        rc, out, err = run_ssh(c_clone, "ip route add 198.18.0.0/15 via 198.19.200.1 && "
                                        "ip route add default via 198.19.200.1 && ip -4 route")
        routes = out.decode()
        assert rc == 0 and "198.18.0.0/15 via 198.19.200.1" in routes and "default via 198.19.200.1" in routes, \
            (routes, err)
        second = _probe(c_clone, targets)
        for t, result in second.items():
            assert result == "timeout", (t, second)   # a route now, and still nothing answers
        assert len(listeners[1].accepted) == seen
        assert not {a for li in listeners for a in li.accepted} & {a_clone, a_peer}

        # nor does production reach a clone (the other way round)
        back = _probe(c_prod, {"clone:22": ("tcp", a_clone, 22)})
        assert back["clone:22"] in ("timeout", "unreachable"), back
        # clones of one rehearsal do talk to each other (app -> db): the clone's network works
        peer_probe = _probe(c_clone, {"peer:22": ("tcp", a_peer, 22)})
        assert peer_probe == {"peer:22": "open"}, peer_probe
        # and the control node still reaches the hostile clone over SSH (replies pass the guard)
        assert run_ssh(c_clone, "echo still")[1] == b"still\n"

        print(json.dumps({"control node": local, "govcloud-net target": from_prod, "clone": first,
                          "clone, hostile routes": second, "clone -> clone": peer_probe, "govcloud-net target -> clone": back}, indent=1))
        # no production record changed
        assert {n: _dns_a(n) for n in dns_before} == dns_before
        assert _haproxy_backend(netsvc["api"]) == lb_before
    finally:
        run_ssh(h73, f"kill {db_pid}")
        for c in clients:
            c.close()
        for li in listeners:
            li.close()
        left = cloud.find_rehearsal_resources(plan)
        if left:
            cloud.delete_resources(left, timeout=180)
        mine = cloud.find_system_resources(plan, system)
        if mine:
            cloud.delete_resources(mine, timeout=180)
        cloud.conn.compute.delete_keypair(kp, ignore_missing=True)
    assert cloud.find_rehearsal_resources(plan) == {} and cloud.find_system_resources(plan, system) == {}
    known = Path(rehearsal_cloud.known_hosts)
    wait_until(lambda: a_clone not in known.read_text() and a_peer not in known.read_text(), 60, 0.5,
               "the clones removed from the rehearsal pool's known_hosts")
