"""The bridge that makes a Nova server real (run in the OpenStack venv by harness/bridge).

Nova's fake driver boots nothing.  This polls Nova (admin, all projects) and,
for every ACTIVE server with a fixed IP on the shared network ``govcloud-net``
(198.19.0.0/16), brings up a real test host (see testhosts.py) that answers SSH
on that IP, with the server's keypair public key (read from Nova's keypair
API) authorised for ``govcloud`` (sudo) and ``root``.  When the server is
deleted (or leaves ACTIVE), the host is removed.

Servers on the isolated network ``govcloud-rehearsal`` (198.19.200.0/24, no gateway,
no router: a rehearsal's clones) become hosts of the ``rehearsal`` pool the same way, on
the bridge gcxbr0 whose ingress guard lets the control node reach them over SSH and
nothing from them reach anything but each other (testhosts.ensure_guard).

Host keys are published so clients keep strict host-key checking:
  * $STATE/bridge/known_hosts, $STATE/rehearsal/known_hosts   one line per bridged
    server ("IP,name key")
  * server metadata ``govcloud:ssh_host_key`` (ed25519 public key)

    bridge.py up|down|status|run|sync|restart
``restart`` replaces the daemon (e.g. with newer code) and keeps the bridged hosts; ``up``
does that by itself when the running daemon's code differs from this checkout's.
``status`` exits non-zero when the daemon is down or the rehearsal pool's guard is not
exactly in place (or the root's ip_forward is not 0).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
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
REHEARSAL_NETWORK = "govcloud-rehearsal"
REHEARSAL_SUBNET = ipaddress.ip_network("198.19.200.0/24")
# (Neutron network, the addresses bridged from it, the pool): the rehearsal /24 sits inside the
# bridge pool's /16 but is a different network, and never bridged as govcloud-net
POOLS = [(NETWORK, SUBNET, testhosts.BRIDGE_POOL, REHEARSAL_SUBNET),
         (REHEARSAL_NETWORK, REHEARSAL_SUBNET, testhosts.REHEARSAL_POOL, None)]
GUARD_CHECK_S = 10.0
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


def code_stamp() -> str:
    """What this checkout's daemon runs (a running daemon with another stamp is replaced by ``up``)."""
    h = hashlib.sha256()
    for f in ("bridge.py", "testhosts.py"):
        h.update((Path(__file__).resolve().parent / f).read_bytes())
    return h.hexdigest()[:16]


def _hostname(server_name: str, sid: str) -> str:
    h = re.sub(r"[^a-z0-9-]", "-", (server_name or "").lower()).strip("-")[:40]
    return h or f"server-{sid[:8]}"


class Bridge:
    def __init__(self):
        self.pools = [(net, sub, testhosts.Pool(spec), excl) for net, sub, spec, excl in POOLS]
        self.pool = self.pools[0][2]
        self.conn = connect()
        self.failed: dict[str, float] = {}   # server id -> last failure (retry after a pause)

    def desired(self) -> dict[str, dict[str, tuple]]:
        """Pool name -> {server id: (server, fixed IP)} for every ACTIVE server on a bridged network."""
        want: dict[str, dict[str, tuple]] = {pool.spec.name: {} for _, _, pool, _ in self.pools}
        for s in self.conn.compute.servers(details=True, all_projects=True):
            if s.status != "ACTIVE":
                continue
            for net, sub, pool, excl in self.pools:
                for a in (s.addresses or {}).get(net, []):
                    if a.get("version") == 4 and a.get("OS-EXT-IPS:type", "fixed") == "fixed":
                        ip = ipaddress.ip_address(a["addr"])
                        if ip in sub and not (excl and ip in excl):
                            want[pool.spec.name][s.id] = (s, a["addr"])
                            break
        return want

    def public_key(self, s) -> str | None:
        if not s.key_name:
            return None
        # keypairs belong to users: admin reads another user's with ?user_id= (microversion >= 2.10)
        kp = self.conn.compute.get_keypair(s.key_name, user_id=s.user_id)
        return kp.public_key

    @staticmethod
    def publish(pool: testhosts.Pool) -> None:
        recs = [h for h in pool.hosts() if h.get("server_id")]
        lines = "".join(f"{h['addr']},{h['hostname']} {h['host_key']}\n" for h in recs)
        kh = pool.dir / "known_hosts"
        kh.parent.mkdir(parents=True, exist_ok=True)
        tmp = kh.with_suffix(".tmp")
        tmp.write_text(lines)
        tmp.replace(kh)   # atomic: readers never see a half-written file
        (pool.dir / "servers.json").write_text(json.dumps(
            {h["server_id"]: {k: h[k] for k in ("addr", "hostname", "host_key", "name")} for h in recs}, indent=1))

    def ensure_pools(self) -> None:
        """Every pool's bridge (the rehearsal pool's with its guard, re-applied if it went)."""
        for _, _, pool, _ in self.pools:
            with pool.lock():
                pool.ensure_bridge()

    def sync(self) -> tuple[int, int]:
        want_all = self.desired()
        added = removed = 0
        for _, _, pool, _ in self.pools:
            a, r = self._sync_pool(pool, want_all[pool.spec.name])
            added, removed = added + a, removed + r
        return added, removed

    def _sync_pool(self, pool: testhosts.Pool, want: dict[str, tuple]) -> tuple[int, int]:
        added = removed = 0
        with pool.lock():
            have = {h["server_id"]: h for h in pool.hosts() if h.get("server_id")}
            # removals first: a deleted server's IP may already belong to a new one
            for sid, h in have.items():
                if sid not in want or want[sid][1] != h["addr"] or not h["alive"]:
                    log.info("removing host for server %s (%s) from pool %s", sid, h["addr"], pool.spec.name)
                    pool.remove_host(h["name"])
                    removed += 1
            have = {h["server_id"] for h in pool.hosts() if h.get("server_id")}
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
                    pool.ensure_bridge()
                    rec = pool.add_host(sid[:8], addr, key, wait=False, hostname=_hostname(s.name, sid),
                                        extra={"server_id": sid, "project_id": s.project_id})
                    new.append((s, rec))
                    log.info("server %s (%s) -> host %s on %s (pool %s)", s.name, sid, rec["name"], addr,
                             pool.spec.name)
                except Exception:
                    log.exception("bridging server %s failed", sid)
                    self.failed[sid] = time.monotonic()
                    with contextlib.suppress(Exception):
                        pool.remove_host(sid[:8])
            if new:
                try:
                    testhosts.wait_ssh([r for _, r in new], timeout=60)
                except TimeoutError as e:
                    log.error("%s", e)
                self.publish(pool)
                for s, rec in new:
                    with contextlib.suppress(Exception):   # the server may be gone already
                        self.conn.compute.set_server_metadata(s, **{"govcloud:ssh_host_key": rec["host_key"]})
                added = len(new)
            elif removed:
                self.publish(pool)
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
    b.ensure_pools()
    for h in b.pool.hosts():    # hosts bridged by an earlier daemon get the route to the sources
        if h.get("alive"):
            testhosts.ensure_peer_route(h["netns"], testhosts.BRIDGE_POOL)
    for _, _, pool, _ in b.pools:
        b.publish(pool)
    (state() / "bridge-daemon.code").write_text(code_stamp())
    ready = state() / "bridge-daemon.ready"
    guard_checked = time.monotonic()
    while not stop:
        try:
            if time.monotonic() - guard_checked > GUARD_CHECK_S:
                guard_checked = time.monotonic()
                g = testhosts.guard_status(testhosts.REHEARSAL_POOL)
                if not g["ok"]:
                    log.error("the rehearsal pool's guard is not in place (%s): re-applying", g)
                    b.ensure_pools()
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


def _stop_daemon() -> None:
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


def cmd_restart() -> int:
    """A new daemon in place of the running one; the bridged hosts stay (they are not the
    daemon's children in any way that matters: their own sessions, found again by pid)."""
    _stop_daemon()
    return cmd_up()


def cmd_up() -> int:
    if _daemon_pid():
        try:
            running = (state() / "bridge-daemon.code").read_text().strip()
        except OSError:
            running = ""
        if running != code_stamp():
            print(f"bridge: the running daemon (pid {_daemon_pid()}) runs other code; replacing it, hosts kept")
            return cmd_restart()
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
    _stop_daemon()
    (state() / "bridge-daemon.code").unlink(missing_ok=True)
    n = 0
    for _, _, spec, _ in POOLS:
        pool = testhosts.Pool(spec)
        with pool.lock():
            n += pool.teardown()
    print(f"bridge: stopped; removed {n} bridged hosts")
    return 0


def cmd_status() -> int:
    pid = _daemon_pid()
    hosts = testhosts.Pool(testhosts.BRIDGE_POOL).hosts()
    clones = testhosts.Pool(testhosts.REHEARSAL_POOL).hosts()
    g = testhosts.guard_status(testhosts.REHEARSAL_POOL)
    print(f"bridge: {'up (pid %d)' % pid if pid else 'down'}; {len(hosts)} bridged hosts "
          f"({sum(h['alive'] for h in hosts)} alive); rehearsal pool: {len(clones)} hosts "
          f"({sum(h['alive'] for h in clones)} alive)")
    print(f"rehearsal guard: {'on' if g['ok'] else 'NOT OK'} (bridge {testhosts.REHEARSAL_POOL.bridge} "
          f"{'present' if g['bridge'] else 'missing'}, guard program {'exact' if g['filter'] else 'absent/other'}"
          f" [{g['filters']} ingress filter(s)], net.ipv4.ip_forward={g['ip_forward']})")
    return 0 if pid and g["ok"] else 1


def main() -> int:
    ap = argparse.ArgumentParser(prog="harness/bridge")
    ap.add_argument("cmd", choices=["up", "down", "status", "run", "sync", "restart"])
    a = ap.parse_args()
    if a.cmd == "sync":
        logging.basicConfig(level=logging.INFO)
        print(Bridge().sync())
        return 0
    return {"up": cmd_up, "down": cmd_down, "status": cmd_status, "run": cmd_run, "restart": cmd_restart}[a.cmd]()


if __name__ == "__main__":
    sys.exit(main())
