"""The rehearsal pool's bridge and guard (harness/testhosts.py) through their whole life, in a
scratch network namespace of this test — the shared harness's gcxbr0 is not touched: the
bridge comes up guarded (before it has an address), ``guard_status`` sees exactly the guard,
the control node's TCP session to a clone works while the clone can open nothing on the
control node (not even with a route through it), a removed guard is put back by
``ensure_bridge`` (what the bridge daemon does every few seconds), and teardown removes the
bridge with its guard. The same probes without the guard connect: the check can fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]

HARNESS = Path(__file__).resolve().parents[2] / "harness"

# runs inside the scratch namespace (the "control node"), as root
SCRIPT = r'''
import json, os, socket, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
import testhosts as t
clone_ns = sys.argv[2]
spec = t.REHEARSAL_POOL
res = {}
def sh(*a, check=True):
    return subprocess.run(a, check=check, capture_output=True, text=True)
def in_clone(code):
    p = sh("ip", "netns", "exec", clone_ns, sys.executable, "-c", code, check=False)
    return p.stdout.strip() or p.stderr.strip()[-200:]
CONNECT = ("import socket,sys\ns=socket.socket();s.settimeout(2)\ntry:\n s.connect((%r,%d));print('open')\n"
           "except socket.timeout:print('timeout')\nexcept ConnectionRefusedError:print('refused')\n"
           "except OSError as e:print('error',e.errno)")
pool = t.Pool(spec)
with pool.lock():
    pool.ensure_bridge()
res["status"] = t.guard_status(spec)
res["ipv6_off"] = open(f"/proc/sys/net/ipv6/conf/{spec.bridge}/disable_ipv6").read().strip()
# a clone: its own netns, a veth on the bridge, 198.19.200.20/24, sshd-like listener on :22
sh("ip", "link", "add", "gcxtv0", "type", "veth", "peer", "name", "eth0", "netns", clone_ns)
sh("ip", "link", "set", "gcxtv0", "master", spec.bridge, "up")
for c in (["addr", "add", "198.19.200.20/24", "dev", "eth0"], ["link", "set", "eth0", "up"], ["link", "set", "lo", "up"]):
    sh("ip", "-n", clone_ns, *c)
srv = subprocess.Popen(["ip", "netns", "exec", clone_ns, sys.executable, "-c",
    "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('0.0.0.0',22));s.listen()\n"
    "while True:\n c,_=s.accept();c.sendall(b'SSH-2.0-x\\r\\n');c.close()"])
lst = socket.socket(); lst.bind((spec.gateway, 0)); lst.listen(); port = lst.getsockname()[1]
try:
    time.sleep(0.5)
    s = socket.create_connection(("198.19.200.20", 22), timeout=5)
    res["control_to_clone"] = s.recv(16).decode().strip()
    s.close()
    res["clone_to_control"] = in_clone(CONNECT % (spec.gateway, port))
    sh("ip", "-n", clone_ns, "route", "add", "default", "via", spec.gateway)
    sh("ip", "addr", "add", "198.18.77.1/32", "dev", "lo")        # a "production" address of the control node
    l2 = socket.socket(); l2.bind(("198.18.77.1", 0)); l2.listen(); p2 = l2.getsockname()[1]
    res["clone_to_prod_addr"] = in_clone(CONNECT % ("198.18.77.1", p2))
    # the guard goes (by accident): ensure_bridge puts it back
    sh(t.TC, "qdisc", "del", "dev", spec.bridge, "clsact")
    res["status_without"] = t.guard_status(spec)
    res["unguarded_clone_to_prod_addr"] = in_clone(CONNECT % ("198.18.77.1", p2))
    with pool.lock():
        pool.ensure_bridge()
    res["status_again"] = t.guard_status(spec)
    res["clone_to_prod_addr_again"] = in_clone(CONNECT % ("198.18.77.1", p2))
    res["bridge_up_again"] = "UP" in sh("ip", "-o", "link", "show", spec.bridge).stdout.split(">")[0]
finally:
    srv.kill(); srv.wait()
    lst.close()
with pool.lock():
    pool.teardown()
res["bridge_after_teardown"] = sh("ip", "link", "show", spec.bridge, check=False).returncode == 0
print(json.dumps(res))
'''


def test_the_rehearsal_guard_in_a_scratch_namespace(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    tag = uuid.uuid4().hex[:6]
    ctl, clone = f"rhg-ctl-{tag}", f"rhg-cl-{tag}"
    subprocess.run(["ip", "netns", "add", ctl], check=True)
    subprocess.run(["ip", "netns", "add", clone], check=True)
    try:
        subprocess.run(["ip", "-n", ctl, "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, GOVCLOUD_HARNESS_STATE=str(tmp_path / "state"))
        p = subprocess.run(["ip", "netns", "exec", ctl, sys.executable, "-c", SCRIPT, str(HARNESS), clone],
                           capture_output=True, text=True, timeout=120, env=env)
        assert p.returncode == 0, p.stderr[-2000:]
        r = json.loads(p.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["ip", "netns", "del", clone], check=False)
        subprocess.run(["ip", "netns", "del", ctl], check=False)
    assert r["status"] == {"bridge": True, "filter": True, "filters": 1, "ip_forward": "0", "ok": True}, r
    assert r["ipv6_off"] == "1"
    assert r["control_to_clone"] == "SSH-2.0-x"                   # the control node's session works
    assert r["clone_to_control"] == "timeout"                     # dropped: a listener is there
    assert r["clone_to_prod_addr"] == "timeout"
    # without the guard the very same connection goes through: the probe can see a way out
    assert r["status_without"]["ok"] is False and r["unguarded_clone_to_prod_addr"] == "open", r
    assert r["status_again"]["ok"] is True and r["clone_to_prod_addr_again"] == "timeout", r
    assert r["bridge_up_again"] is True
    assert r["bridge_after_teardown"] is False
