"""The bridge that makes a Nova server real (run in the OpenStack venv by harness/bridge).

Nova's fake driver boots nothing.  This polls Nova (admin, all projects) and,
for every ACTIVE server with a fixed IP on the shared network ``govcloud-net``
(198.19.0.0/16), brings up a real test host (see testhosts.py) that answers SSH
on that IP, with the server's keypair public key (read from Nova's keypair
API) authorised for ``govcloud`` (sudo) and ``root``.  When the server is
deleted (or leaves ACTIVE), the host is removed.

Host keys are published so clients keep strict host-key checking:
  * $STATE/bridge/known_hosts   one line per bridged server ("IP,name key")
  * server metadata ``govcloud:ssh_host_key`` (ed25519 public key)

    bridge.py up|down|status|run|sync
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import testhosts  # noqa: E402

NETWORK = "govcloud-net"
SUBNET = ipaddress.ip_network("198.19.0.0/16")
POLL_S = float(os.environ.get("GOVCLOUD_BRIDGE_POLL", "1"))
log = logging.getLogger("govcloud-bridge")


def state() -> Path:
    return testhosts.state_root()


def pidfile() -> Path:
    return state() / "bridge-daemon.pid"


def connect():
    import openstack
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(state() / "openstack" / "clouds.yaml")
    return openstack.connect(cloud="govcloud-admin")


def _hostname(server_name: str, sid: str) -> str:
    h = re.sub(r"[^a-z0-9-]", "-", (server_name or "").lower()).strip("-")[:40]
    return h or f"server-{sid[:8]}"


class Bridge:
    def __init__(self):
        self.pool = testhosts.Pool(testhosts.BRIDGE_POOL)
        self.conn = connect()
        self.failed: dict[str, float] = {}   # server id -> last failure (retry after a pause)

    def desired(self) -> dict[str, tuple]:
        want = {}
        for s in self.conn.compute.servers(details=True, all_projects=True):
            if s.status != "ACTIVE":
                continue
            for a in (s.addresses or {}).get(NETWORK, []):
                if a.get("version") == 4 and a.get("OS-EXT-IPS:type", "fixed") == "fixed" \
                        and ipaddress.ip_address(a["addr"]) in SUBNET:
                    want[s.id] = (s, a["addr"])
                    break
        return want

    def public_key(self, s) -> str | None:
        if not s.key_name:
            return None
        # keypairs belong to users: admin reads another user's with ?user_id= (microversion >= 2.10)
        kp = self.conn.compute.get_keypair(s.key_name, user_id=s.user_id)
        return kp.public_key

    def publish(self) -> None:
        recs = [h for h in self.pool.hosts() if h.get("server_id")]
        lines = "".join(f"{h['addr']},{h['hostname']} {h['host_key']}\n" for h in recs)
        kh = self.pool.dir / "known_hosts"
        kh.parent.mkdir(parents=True, exist_ok=True)
        tmp = kh.with_suffix(".tmp")
        tmp.write_text(lines)
        tmp.replace(kh)   # atomic: readers never see a half-written file
        (self.pool.dir / "servers.json").write_text(json.dumps(
            {h["server_id"]: {k: h[k] for k in ("addr", "hostname", "host_key", "name")} for h in recs}, indent=1))

    def sync(self) -> tuple[int, int]:
        want = self.desired()
        added = removed = 0
        with self.pool.lock():
            have = {h["server_id"]: h for h in self.pool.hosts() if h.get("server_id")}
            # removals first: a deleted server's IP may already belong to a new one
            for sid, h in have.items():
                if sid not in want or want[sid][1] != h["addr"] or not h["alive"]:
                    log.info("removing host for server %s (%s)", sid, h["addr"])
                    self.pool.remove_host(h["name"])
                    removed += 1
            have = {h["server_id"] for h in self.pool.hosts() if h.get("server_id")}
            new = []
            for sid, (s, addr) in want.items():
                if sid in have or time.monotonic() - self.failed.get(sid, -1e9) < 10:
                    continue
                try:
                    key = self.public_key(s)
                    if not key:
                        log.warning("server %s has no keypair: not bridged", sid)
                        self.failed[sid] = time.monotonic()
                        continue
                    self.pool.ensure_bridge()
                    rec = self.pool.add_host(sid[:8], addr, key, wait=False, hostname=_hostname(s.name, sid),
                                             extra={"server_id": sid, "project_id": s.project_id})
                    new.append((s, rec))
                    log.info("server %s (%s) -> host %s on %s", s.name, sid, rec["name"], addr)
                except Exception:
                    log.exception("bridging server %s failed", sid)
                    self.failed[sid] = time.monotonic()
                    with contextlib.suppress(Exception):
                        self.pool.remove_host(sid[:8])
            if new:
                try:
                    testhosts.wait_ssh([r for _, r in new], timeout=60)
                except TimeoutError as e:
                    log.error("%s", e)
                self.publish()
                for s, rec in new:
                    with contextlib.suppress(Exception):   # the server may be gone already
                        self.conn.compute.set_server_metadata(s, **{"govcloud:ssh_host_key": rec["host_key"]})
                added = len(new)
            elif removed:
                self.publish()
        return added, removed


def cmd_run() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    b = Bridge()
    b.pool.ensure_bridge()
    for h in b.pool.hosts():    # hosts bridged by an earlier daemon get the route to the sources
        if h.get("alive"):
            testhosts.ensure_peer_route(h["netns"], testhosts.BRIDGE_POOL)
    b.publish()
    ready = state() / "bridge-daemon.ready"
    while not stop:
        try:
            b.sync()
            ready.touch()
        except Exception:
            log.exception("sync failed (will retry)")
        for _ in range(int(POLL_S * 10)):
            if stop:
                break
            time.sleep(0.1)
    log.info("stopping")
    return 0


def _daemon_pid() -> int | None:
    try:
        pid = int(pidfile().read_text())
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if any(c.endswith(b"bridge.py") for c in cmd) and b"run" in cmd else None


def cmd_up() -> int:
    if _daemon_pid():
        print(f"bridge: already running (pid {_daemon_pid()})")
        return 0
    if not (state() / "openstack" / "clouds.yaml.ready").exists():
        print("bridge: OpenStack harness is not up (run harness/openstack up)", file=sys.stderr)
        return 1
    testhosts.ensure_rootfs()
    state().mkdir(parents=True, exist_ok=True)
    ready = state() / "bridge-daemon.ready"
    ready.unlink(missing_ok=True)
    logf = open(state() / "bridge.log", "a")
    p = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "run"], stdin=subprocess.DEVNULL,
                         stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    pidfile().write_text(str(p.pid))
    deadline = time.monotonic() + 60
    while not ready.exists():
        if p.poll() is not None or time.monotonic() > deadline:
            print(f"bridge: daemon did not become ready; see {state() / 'bridge.log'}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"bridge: up (pid {p.pid}); known_hosts {testhosts.Pool(testhosts.BRIDGE_POOL).dir / 'known_hosts'}")
    return 0


def cmd_down() -> int:
    pid = _daemon_pid()
    if pid:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _daemon_pid():
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    pidfile().unlink(missing_ok=True)
    (state() / "bridge-daemon.ready").unlink(missing_ok=True)
    pool = testhosts.Pool(testhosts.BRIDGE_POOL)
    with pool.lock():
        n = pool.teardown()
    print(f"bridge: stopped; removed {n} bridged hosts")
    return 0


def cmd_status() -> int:
    pid = _daemon_pid()
    hosts = testhosts.Pool(testhosts.BRIDGE_POOL).hosts()
    print(f"bridge: {'up (pid %d)' % pid if pid else 'down'}; {len(hosts)} bridged hosts "
          f"({sum(h['alive'] for h in hosts)} alive)")
    return 0 if pid else 1


def main() -> int:
    ap = argparse.ArgumentParser(prog="harness/bridge")
    ap.add_argument("cmd", choices=["up", "down", "status", "run", "sync"])
    a = ap.parse_args()
    if a.cmd == "sync":
        logging.basicConfig(level=logging.INFO)
        print(Bridge().sync())
        return 0
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "run": cmd_run}[a.cmd]()


if __name__ == "__main__":
    sys.exit(main())
