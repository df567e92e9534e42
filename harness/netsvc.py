#!/usr/bin/env python3
"""harness/netsvc up|down|status|env - the traffic-switching services a cutover acts on.

Real servers from Debian packages, in the harness's state directory only:

* **BIND9** authoritative for the test zone ``gov.test`` on 198.18.0.1:53 (the test
  hosts' resolver, see testhosts.py) and 127.0.0.1:53. Dynamic updates (RFC 2136) are
  accepted only when signed with the TSIG key ``govcloud-tsig`` (hmac-sha256, generated
  per start, mode 600 in ``$STATE/netsvc/tsig.key`` — BIND's own key-file syntax,
  which ``nsupdate -k`` and govcloud read).
* **HAProxy** with a frontend on 198.18.0.1:80 and 127.0.0.1:18080 in front of the
  backend ``govapp`` (server ``s1`` = test host h1's nginx, ``s2`` a disabled spare
  slot), checks every second; the runtime API on the admin socket
  ``$STATE/netsvc/haproxy.sock`` (mode 600, level admin) only — there is no
  unauthenticated TCP admin port.

Both run in their own process group, recorded as ``PID STARTTIME BOOT_ID`` like the
OpenStack services: ``down`` signals only what it started. ``up`` needs the test
hosts' bridge (gctbr0, 198.18.0.1) to exist: run it after ``harness/hosts up``.
"""
from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import testhosts  # noqa: E402

ZONE = "gov.test"
GATEWAY = "198.18.0.1"
DNS_PORT = 53
LB_PORT = 80
LB_LOCAL_PORT = 18080
TSIG_NAME = "govcloud-tsig"
SERVICES = ("named", "haproxy")
BOOT_ID = Path("/proc/sys/kernel/random/boot_id").read_text().strip()

# the zone's initial records: (name, type, ttl, value). TTLs are long on purpose, so
# that lowering them before a cutover is something a test can observe.
RECORDS = [
    ("ns", "A", 3600, GATEWAY),
    ("lb", "A", 3600, GATEWAY),
    ("www", "CNAME", 3600, f"lb.{ZONE}."),
    ("h1", "A", 3600, "198.18.1.1"),
    ("h2", "A", 3600, "198.18.1.2"),
]


def state() -> Path:
    return testhosts.state_root() / "netsvc"


def _starttime(pid: int) -> str | None:
    try:
        st = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return st.rsplit(")", 1)[1].split()[19]


def _record(name: str, pid: int) -> None:
    (state() / f"{name}.pid").write_text(f"{pid} {_starttime(pid) or 0} {BOOT_ID}\n")


def our_pid(name: str) -> int | None:
    """The recorded pid if it is still the process we started (same boot, same start time)."""
    try:
        pid_s, st, boot = (state() / f"{name}.pid").read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None
    if boot != BOOT_ID or _starttime(pid) != st:
        return None
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return None
    except OSError:
        return None
    return pid


def _dns_soa_ok(addr: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """One UDP query for the zone's SOA; True when the server answers authoritatively."""
    qid = secrets.randbits(16)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in ZONE.split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0) + qname + struct.pack(">HH", 6, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(msg, (addr, DNS_PORT))
            data = s.recv(4096)
        except OSError:
            return False
    if len(data) < 12:
        return False
    rid, flags, _qd, an = struct.unpack(">HHHH", data[:8])
    return rid == qid and flags & 0x0400 and (flags & 0x000F) == 0 and an >= 1


def haproxy_cmd(cmd: str, timeout: float = 5.0) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(state() / "haproxy.sock"))
        s.sendall(cmd.encode() + b"\n")
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out.decode()


def _haproxy_ok() -> bool:
    try:
        return "Name: HAProxy" in haproxy_cmd("show info", timeout=1.0)
    except OSError:
        return False


def healthy() -> bool:
    return all(our_pid(s) for s in SERVICES) and _dns_soa_ok() and _haproxy_ok()


def _write_configs(d: Path) -> None:
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    old = os.umask(0o077)
    try:
        (d / "tsig.key").write_text(f'key "{TSIG_NAME}" {{\n\talgorithm hmac-sha256;\n\tsecret "{secret}";\n}};\n')
    finally:
        os.umask(old)
    serial = time.strftime("%Y%m%d01")
    zone = [f"$ORIGIN {ZONE}.", "$TTL 3600",
            f"@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. {serial} 3600 600 86400 60",
            f"@ IN NS ns.{ZONE}."]
    zone += [f"{n} {ttl} IN {t} {v}" for n, t, ttl, v in RECORDS]
    (d / f"{ZONE}.zone").write_text("\n".join(zone) + "\n")
    (d / "named.conf").write_text(f"""\
include "{d}/tsig.key";
options {{
  directory "{d}";
  pid-file "{d}/named.real.pid";
  session-keyfile "{d}/session.key";
  managed-keys-directory "{d}";
  listen-on port {DNS_PORT} {{ 127.0.0.1; {GATEWAY}; }};
  listen-on-v6 {{ none; }};
  recursion no;
  dnssec-validation no;
  allow-query {{ 127.0.0.0/8; 198.18.0.0/15; }};
  allow-transfer {{ none; }};
  notify no;
}};
logging {{
  channel main {{ file "{d}/named.log" versions 2 size 5m; severity info; print-time yes; }};
  category default {{ main; }};
  category update {{ main; }};
  category update-security {{ main; }};
}};
zone "{ZONE}" {{
  type primary;
  file "{d}/{ZONE}.zone";
  journal "{d}/{ZONE}.zone.jnl";
  allow-update {{ key "{TSIG_NAME}"; }};
}};
""")
    (d / "haproxy.cfg").write_text(f"""\
global
  stats socket {d}/haproxy.sock mode 600 level admin
  stats timeout 30s
  log stdout format short local0 info
defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend govapp
  bind {GATEWAY}:{LB_PORT}
  bind 127.0.0.1:{LB_LOCAL_PORT}
  default_backend govapp
backend govapp
  option httpchk GET /
  default-server inter 1s fall 2 rise 1
  server s1 198.18.1.1:80 check
  server s2 127.0.0.1:9 check disabled
""")


def _start(name: str, cmd: list[str], d: Path) -> None:
    log = open(d / f"{name}.out", "ab")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    _record(name, p.pid)


def _stop(name: str) -> None:
    f = state() / f"{name}.pid"
    pid = our_pid(name)
    if pid is None:
        f.unlink(missing_ok=True)
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for _ in range(50):
        if our_pid(name) is None:
            break
        time.sleep(0.1)
    if our_pid(name) is not None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        time.sleep(0.3)
    f.unlink(missing_ok=True)


def down() -> int:
    for s in SERVICES:
        _stop(s)
    left = [s for s in SERVICES if our_pid(s)]
    print("netsvc: stopped" if not left else f"netsvc: still running: {left}")
    return 1 if left else 0


def _need(binary: str, package: str) -> str:
    for cand in (shutil.which(binary), f"/usr/sbin/{binary}"):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise SystemExit(f"netsvc: {binary} not found (apt-get install {package}; harness/ci-up.sh installs it)")


def up() -> int:
    if healthy():
        print("netsvc: already up")
        print(env_line())
        return 0
    named, haproxy = _need("named", "bind9"), _need("haproxy", "haproxy")
    if subprocess.run(["ip", "-o", "addr", "show", "to", f"{GATEWAY}/32"], capture_output=True,
                      text=True).stdout.strip() == "":
        raise SystemExit(f"netsvc: {GATEWAY} is not configured (run harness/hosts up first)")
    for s in SERVICES:
        _stop(s)
    d = state()
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True, mode=0o700)
    _write_configs(d)
    for check in ([shutil.which("named-checkconf") or "/usr/bin/named-checkconf", str(d / "named.conf")],
                  [haproxy, "-c", "-q", "-f", str(d / "haproxy.cfg")]):
        r = subprocess.run(check, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"netsvc: {check[0]} refused the config:\n{r.stdout}{r.stderr}")
    t = time.monotonic()
    _start("named", [named, "-f", "-4", "-c", str(d / "named.conf")], d)
    _start("haproxy", [haproxy, "-db", "-W", "-f", str(d / "haproxy.cfg")], d)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if healthy():
            print(f"netsvc: BIND9 ({ZONE}) and HAProxy up in {time.monotonic() - t:.1f} s")
            print(env_line())
            return 0
        for s in SERVICES:
            if our_pid(s) is None:
                tail = (d / f"{s}.out").read_text(errors="replace")[-2000:]
                down()
                raise SystemExit(f"netsvc: {s} exited at start:\n{tail}")
        time.sleep(0.2)
    down()
    raise SystemExit("netsvc: not healthy within 30 s (see " + str(d) + ")")


def env_line() -> str:
    return (f"export GOVCLOUD_HARNESS_DNS={GATEWAY}:{DNS_PORT} GOVCLOUD_HARNESS_HAPROXY={GATEWAY}:{LB_PORT} "
            f"GOVCLOUD_HARNESS_TSIG_KEY={state() / 'tsig.key'} GOVCLOUD_HARNESS_HAPROXY_SOCKET={state() / 'haproxy.sock'}")


def status() -> int:
    ok = healthy()
    print(f"netsvc: {'up' if ok else 'down'}" + (f"; {env_line()}" if ok else ""))
    return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(prog="harness/netsvc", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("up", "down", "status", "env"))
    a = ap.parse_args()
    if a.cmd == "env":
        print(env_line())
        return 0
    return {"up": up, "down": down, "status": status}[a.cmd]()


if __name__ == "__main__":
    sys.exit(main())
