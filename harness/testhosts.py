"""Real Linux test hosts for govcloud's integration tests (stdlib only, root needed).

A host is: its own network namespace with one veth on a pool bridge, its own
pid/mount/uts/ipc namespaces, its own copy-on-write root (overlayfs over the
cached Debian 12 rootfs built by rootfs/build-rootfs.sh), sshd with its own
ed25519 host key, key-only login for root and the sudo user ``govcloud``.

Three pools use this module:

* ``hosts``  (harness/hosts): h1..hN on 198.18.1.x, bridge gctbr0 = 198.18.0.1/16
* ``bridge`` (harness/bridge): one host per ACTIVE Nova server, on the server's
  fixed IP in 198.19.0.0/16, bridge gcbbr0 = 198.19.0.1/16
* ``rehearsal`` (harness/bridge): one host per ACTIVE Nova server on the isolated
  network ``govcloud-rehearsal``, fixed IP in 198.19.200.0/24, bridge gcxbr0 =
  198.19.200.1/24 (the root netns gets this more specific /24). No router leg, no peer
  route, no default route, and a GUARD (see ``ensure_guard``): the control node reaches
  the clones over SSH, a clone reaches nothing but other clones.

When both bridges exist, a router namespace ``gcr-router`` joins them (198.18.0.254 on
gctbr0, 198.19.0.254 on gcbbr0, forwarding enabled only inside that namespace): the
e-gov extranet between the department machine rooms (sources) and the government cloud
(targets), so a target reaches its source directly, not through the control node (a
database replica on the target connects to the source's address).  Every host has a
route to the other pool's /16 through it and still no default route.

Every object created is recorded in the pool's state dir (host.json per host,
pool.json for the bridge), and teardown removes exactly those: processes are
killed by recorded pid after checking that the pid is still our ``unshare``.
Addresses are only ever inside 198.18.0.0/15.
"""
from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent
HOSTINIT = HARNESS_DIR / "rootfs" / "hostinit.sh"
BUILD_ROOTFS = HARNESS_DIR / "rootfs" / "build-rootfs.sh"
ROLES_DIR = HARNESS_DIR / "roles"
ALLOWED_NET = ipaddress.ip_network("198.18.0.0/15")


def state_root() -> Path:
    return Path(os.environ.get("GOVCLOUD_HARNESS_STATE", "/var/lib/govcloud-harness"))


def cache_root() -> Path:
    return Path(os.environ.get("GOVCLOUD_HARNESS_CACHE", "/opt/govcloud-harness"))


def rootfs() -> Path:
    return cache_root() / "rootfs"


def run(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, text=True, capture_output=True, **kw)


def ensure_rootfs() -> None:
    env = dict(os.environ, GOVCLOUD_HARNESS_CACHE=str(cache_root()))
    p = subprocess.run([str(BUILD_ROOTFS)], env=env, text=True, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"building the test-host rootfs failed:\n{p.stdout}\n{p.stderr}")


@dataclass(frozen=True)
class PoolSpec:
    name: str           # state subdir
    bridge: str         # bridge interface in the root namespace
    gateway: str        # bridge address (the test runner's address on the pool)
    prefix: int
    ns_prefix: str      # netns name prefix
    veth_prefix: str    # root-side veth name prefix (<= 15 chars in total)
    router: str | None  # the router namespace's address on this pool (None: not routed)
    peer_net: str | None  # the other pool, reached through the router
    guarded: bool = False  # an isolated pool: the ingress guard on its bridge (ensure_guard)


HOSTS_POOL = PoolSpec("hosts", "gctbr0", "198.18.0.1", 16, "gct-", "gch", "198.18.0.254", "198.19.0.0/16")
BRIDGE_POOL = PoolSpec("bridge", "gcbbr0", "198.19.0.1", 16, "gcb-", "gcb", "198.19.0.254", "198.18.0.0/16")
REHEARSAL_POOL = PoolSpec("rehearsal", "gcxbr0", "198.19.200.1", 24, "gcx-", "gcx", None, None, guarded=True)
ROUTER_NS = "gcr-router"
TC = "/usr/sbin/tc" if os.path.exists("/usr/sbin/tc") else "tc"


@contextlib.contextmanager
def _router_lock():
    root = state_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".router.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _link_exists(name: str) -> bool:
    return run("ip", "link", "show", name, check=False).returncode == 0


def _netns_exists(name: str) -> bool:
    return name in run("ip", "netns", "list", check=False).stdout.split()


def ensure_router() -> bool:
    """Join the two pools through ``gcr-router`` once both bridges exist (idempotent).
    Returns whether the router is up.  Recorded in router.json before anything is created,
    so remove_router() undoes a half-made one."""
    with _router_lock():
        if not (_link_exists(HOSTS_POOL.bridge) and _link_exists(BRIDGE_POOL.bridge)):
            return False
        rec = state_root() / "router.json"
        legs = [(HOSTS_POOL, "gcrt0", "eth-t"), (BRIDGE_POOL, "gcrb0", "eth-b")]
        if rec.exists() and _netns_exists(ROUTER_NS) and all(_link_exists(v) for _, v, _ in legs):
            return True
        if _netns_exists(ROUTER_NS) and not rec.exists():
            raise RuntimeError(f"netns {ROUTER_NS} exists but was not created by this harness (no {rec}); "
                               "refusing to touch it")
        _remove_router_locked()
        rec.write_text(json.dumps({"netns": ROUTER_NS, "veths": [v for _, v, _ in legs]}))
        run("ip", "netns", "add", ROUTER_NS)
        run("ip", "-n", ROUTER_NS, "link", "set", "lo", "up")
        for spec, veth, inner in legs:
            run("ip", "link", "add", veth, "type", "veth", "peer", "name", inner, "netns", ROUTER_NS)
            run("ip", "link", "set", veth, "master", spec.bridge, "up")
            run("ip", "-n", ROUTER_NS, "addr", "add", f"{spec.router}/{spec.prefix}", "dev", inner)
            run("ip", "-n", ROUTER_NS, "link", "set", inner, "up")
        # forwarding inside the router's namespace only (the machine's own setting is untouched)
        run("ip", "netns", "exec", ROUTER_NS, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        return True


def _remove_router_locked() -> None:
    rec = state_root() / "router.json"
    if not rec.exists():
        return
    if _netns_exists(ROUTER_NS):
        run("ip", "netns", "del", ROUTER_NS, check=False)
    for veth in json.loads(rec.read_text() or "{}").get("veths", []):
        if _link_exists(veth):
            run("ip", "link", "del", veth, check=False)
    rec.unlink()


def remove_router() -> None:
    with _router_lock():
        _remove_router_locked()


def ensure_peer_route(ns: str, spec: PoolSpec) -> None:
    """The other pool through the router (idempotent; the gateway is on-link, so the
    route holds even while the router is down). An isolated pool has none."""
    if spec.peer_net and spec.router:
        run("ip", "-n", ns, "route", "replace", spec.peer_net, "via", spec.router, "dev", "eth0")


# ---------------------------------------------------------------- the guard of an isolated pool
# The root netns is the control node and owns 198.18.0.1 (BIND9, HAProxy), 198.19.0.1, ... and
# Linux accepts a packet for ANY local address on ANY interface: a clone that routes
# 198.18.0.0/15 via 198.19.200.1 would reach production through the control node itself. So
# every frame the isolated bridge passes up to the host goes through a classic-BPF program in
# direct-action mode on the bridge's clsact ingress (this kernel has cls_bpf and cls_u32 but no
# flower/matchall classifier nor the gact action, so the program decides itself):
#   ARP                                                        -> pass
#   IPv4 to the bridge's own address, TCP, source port 22, ACK set, destination port in the
#   local ephemeral range (replies on the control node's own SSH sessions to the clones),
#   not a non-first fragment                                    -> pass
#   everything else (other IPv4, IPv6, any other ethertype)     -> drop
# A clone can never open a connection to the control node (a SYN has no ACK), nor send it
# anything else. Frames between clones are forwarded by the bridge, never passed up: they may
# talk to each other. The root's net.ipv4.ip_forward must be 0 (checked, never changed).
_BPF_PASS, _BPF_DROP = 0, 2            # TC_ACT_OK, TC_ACT_SHOT


def _local_port_range() -> tuple[int, int]:
    lo, hi = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(lo), int(hi)


def guard_bytecode(addr: str, port_range: tuple[int, int] | None = None) -> str:
    """The guard as tc's ``bytecode`` argument ("N,code jt jf k,…"); offsets from the Ethernet
    header (cls_bpf pushes the MAC header back at ingress)."""
    lo, hi = port_range or _local_port_range()
    ip = int(ipaddress.IPv4Address(addr))
    prog: list[tuple] = [
        (0x28, 0, 0, 12),                    # ldh [12]            ethertype
        (0x15, "pass", 0, 0x0806),           # jeq ARP             -> pass
        (0x15, 0, "drop", 0x0800),           # jeq IPv4, else      -> drop
        (0x20, 0, 0, 30),                    # ld  [30]            destination address
        (0x15, 0, "drop", ip),
        (0x30, 0, 0, 23),                    # ldb [23]            protocol
        (0x15, 0, "drop", 6),                # TCP
        (0x28, 0, 0, 20),                    # ldh [20]            flags + fragment offset
        (0x45, "drop", 0, 0x1FFF),           # a non-first fragment -> drop
        (0xB1, 0, 0, 14),                    # ldxb 4*([14]&0xf)   IP header length
        (0x48, 0, 0, 14),                    # ldh [x+14]          TCP source port
        (0x15, 0, "drop", 22),
        (0x48, 0, 0, 16),                    # ldh [x+16]          TCP destination port
        (0x35, 0, "drop", lo),               # >= lo
        (0x25, "drop", 0, hi),               # >  hi               -> drop
        (0x50, 0, 0, 27),                    # ldb [x+27]          TCP flags
        (0x45, "pass", "drop", 0x10),        # ACK set             -> pass
        ("drop",),
        ("pass",),
    ]
    labels = {ins[0]: i for i, ins in enumerate(prog) if len(ins) == 1}
    out = []
    for i, ins in enumerate(prog):
        if len(ins) == 1:
            out.append(f"6 0 0 {_BPF_PASS if ins[0] == 'pass' else _BPF_DROP}")
            continue
        code, jt, jf, k = ins
        rel = lambda j: labels[j] - i - 1 if isinstance(j, str) else j  # noqa: E731
        out.append(f"{code} {rel(jt)} {rel(jf)} {k}")
    return f"{len(out)}," + ",".join(out)


def ip_forward() -> str:
    return Path("/proc/sys/net/ipv4/ip_forward").read_text().strip()


def guard_status(spec: PoolSpec) -> dict:
    """What protects an isolated pool now: its bridge, the guard program on its ingress (exactly
    the one ``guard_bytecode`` makes), the root's ip_forward. ``ok`` when all hold."""
    st = {"bridge": _link_exists(spec.bridge), "filter": False, "filters": 0, "ip_forward": ip_forward()}
    if st["bridge"]:
        out = run(TC, "filter", "show", "dev", spec.bridge, "ingress", check=False).stdout
        lines = [ln for ln in out.splitlines() if " handle " in ln]
        st["filters"] = len(lines)
        want = f"bytecode '{guard_bytecode(spec.gateway)}'"
        st["filter"] = len(lines) == 1 and "direct-action" in lines[0] and want in lines[0]
    st["ok"] = bool(st["bridge"] and st["filter"] and st["ip_forward"] == "0")
    return st


def ensure_guard(spec: PoolSpec) -> bool:
    """Put the guard on the pool's bridge unless it is there exactly (idempotent); returns
    whether it (re)applied it. While it does, the bridge is down: nothing passes unguarded."""
    if ip_forward() != "0":
        raise RuntimeError("net.ipv4.ip_forward is 1 in the root netns: the control node would route "
                           f"clones on {spec.bridge} to production; refusing (this harness never sets it)")
    if guard_status(spec)["filter"]:
        return False
    up = "UP" in run("ip", "-o", "link", "show", spec.bridge).stdout.split("<", 1)[1].split(">", 1)[0].split(",")
    run("ip", "link", "set", spec.bridge, "down")
    run(TC, "qdisc", "del", "dev", spec.bridge, "clsact", check=False)
    run(TC, "qdisc", "add", "dev", spec.bridge, "clsact")
    run(TC, "filter", "add", "dev", spec.bridge, "ingress", "pref", "1", "bpf", "bytecode",
        guard_bytecode(spec.gateway), "direct-action")
    if not guard_status(spec)["filter"]:
        raise RuntimeError(f"the guard on {spec.bridge} did not take: {guard_status(spec)}")
    if up:
        run("ip", "link", "set", spec.bridge, "up")
    return True


def _pid_is_ours(pid: int, hostdir: Path) -> bool:
    """Is ``pid`` still the ``unshare`` we started for ``hostdir`` (pid reuse guard)?"""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # match on the script's name, not its path: a host started from another
    # clone of the repo (developer tree vs. CI clone) is still ours to stop
    # compare real paths: the state dir may be reached through a symlink
    # (a developer's /var/lib/govcloud-harness pointing elsewhere)
    want = os.path.realpath(hostdir)
    return (comm == "unshare" and any(c.endswith(b"/hostinit.sh") for c in cmdline)
            and any(c.startswith(b"/") and os.path.realpath(os.fsdecode(c)) == want for c in cmdline))


def ssh_banner(addr: str, port: int = 22, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((addr, port), timeout=timeout) as s:
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


class Pool:
    def __init__(self, spec: PoolSpec, state: Path | None = None):
        self.spec = spec
        self.dir = (state or state_root()) / spec.name
        self.hosts_dir = self.dir / "hosts"

    # ------------------------------------------------------------ locking
    @contextlib.contextmanager
    def lock(self):
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        lockfile = self.dir.parent / f".{self.spec.name}.lock"
        with open(lockfile, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    # ------------------------------------------------------------ bridge
    def ensure_bridge(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        pool_json = self.dir / "pool.json"
        if run("ip", "link", "show", self.spec.bridge, check=False).returncode == 0:
            if not pool_json.exists():
                raise RuntimeError(f"bridge {self.spec.bridge} exists but was not created by this harness "
                                   f"(no {pool_json}); refusing to touch it")
            if self.spec.guarded:
                ensure_guard(self.spec)
                run("sysctl", "-q", "-w", f"net.ipv6.conf.{self.spec.bridge}.disable_ipv6=1", check=False)
            if self.spec.router:
                ensure_router()
            return
        run("ip", "link", "add", self.spec.bridge, "type", "bridge")
        pool_json.write_text(json.dumps({"bridge": self.spec.bridge}))
        if self.spec.guarded:
            # guarded before it has an address or is up; no IPv6 on it at all
            ensure_guard(self.spec)
            run("sysctl", "-q", "-w", f"net.ipv6.conf.{self.spec.bridge}.disable_ipv6=1", check=False)
        run("ip", "addr", "add", f"{self.spec.gateway}/{self.spec.prefix}", "dev", self.spec.bridge)
        run("ip", "link", "set", self.spec.bridge, "up")
        if self.spec.router:
            ensure_router()

    # ------------------------------------------------------------ hosts
    def hosts(self) -> list[dict]:
        out = []
        if self.hosts_dir.is_dir():
            for d in sorted(self.hosts_dir.iterdir()):
                f = d / "host.json"
                if f.exists():
                    h = json.loads(f.read_text())
                    h["alive"] = _pid_is_ours(h["pid"], d) if h.get("pid") else False
                    out.append(h)
        return sorted(out, key=lambda h: (len(h["name"]), h["name"]))

    def add_host(self, name: str, addr: str, authorized_keys: str, *, services: list[str] = (),
                 role: str | None = None, etc_hosts: str | None = None, wait: bool = True,
                 ifname: str | None = None, hostname: str | None = None, extra: dict | None = None) -> dict:
        """Start one host; returns its record (name, addr, pid, host_key, ...)."""
        ip = ipaddress.ip_address(addr)
        if ip not in ALLOWED_NET:
            raise ValueError(f"{addr} is outside 198.18.0.0/15")
        d = self.hosts_dir / name
        if (d / "host.json").exists():
            raise RuntimeError(f"host {name} already exists in pool {self.spec.name}")
        ifname = ifname or f"{self.spec.veth_prefix}{name}"
        if len(ifname) > 15:
            raise ValueError(f"interface name too long: {ifname}")
        ns = f"{self.spec.ns_prefix}{name}"
        shutil.rmtree(d, ignore_errors=True)
        for sub in ("upper", "work", "merged"):
            (d / sub).mkdir(parents=True)
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / "ssh_host_ed25519_key"))
        (d / "authorized_keys").write_text(authorized_keys.strip() + "\n")
        (d / "etc_hosts").write_text(etc_hosts or f"127.0.0.1 localhost\n{self.spec.gateway} testrunner\n{addr} {name}\n")
        if self.spec is HOSTS_POOL:
            # the test hosts resolve through the harness's BIND9 (harness/netsvc, zone gov.test)
            (d / "resolv.conf").write_text(f"nameserver {self.spec.gateway}\nsearch gov.test\n"
                                           "options timeout:1 attempts:2\n")
        services = list(services)
        if role:
            role_dir = ROLES_DIR / role
            if not role_dir.is_dir():
                raise ValueError(f"unknown role {role!r} (have: {sorted(p.name for p in ROLES_DIR.iterdir())})")
            shutil.copytree(role_dir / "rootfs", d / "overlay", symlinks=True)
            rs = role_dir / "services"
            if rs.exists():
                services += [s for s in rs.read_text().split() if s not in services]
        if services:
            (d / "services").write_text(" ".join(services) + "\n")
        host_key = " ".join((d / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        rec = {"name": name, "addr": addr, "netns": ns, "veth": ifname, "role": role,
               "services": services, "host_key": host_key, "pid": None, "hostname": hostname or name,
               **(extra or {})}
        # record before creating anything, so a failure half-way is still undone
        (d / "host.json").write_text(json.dumps(rec))
        run("ip", "netns", "add", ns)
        run("ip", "link", "add", ifname, "type", "veth", "peer", "name", "eth0", "netns", ns)
        run("ip", "link", "set", ifname, "master", self.spec.bridge, "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "addr", "add", f"{addr}/{self.spec.prefix}", "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        # no default route: a host reaches its own pool's /16 and, through gcr-router, the
        # other pool's - nothing else
        ensure_peer_route(ns, self.spec)
        console = open(d / "console.log", "w")
        # `ip netns exec` execs unshare, so Popen.pid is unshare's pid;
        # --kill-child: when unshare dies, the host's pid 1 and with it the
        # whole pid namespace die too
        p = subprocess.Popen(
            ["ip", "netns", "exec", ns, "unshare", "--mount", "--uts", "--ipc", "--pid", "--fork",
             "--kill-child", "--propagation", "private", str(HOSTINIT), str(d), hostname or name, str(rootfs())],
            stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT, start_new_session=True)
        console.close()
        rec["pid"] = p.pid
        (d / "host.json").write_text(json.dumps(rec))
        if wait:
            wait_ssh([rec])
        return rec

    def remove_host(self, name: str) -> None:
        d = self.hosts_dir / name
        f = d / "host.json"
        if not f.exists():
            shutil.rmtree(d, ignore_errors=True)
            return
        rec = json.loads(f.read_text())
        pid = rec.get("pid")
        # unshare ignores SIGTERM while waiting for its child: SIGKILL it, and
        # --kill-child takes the host's pid 1 (and so its whole pid namespace) along
        if pid and _pid_is_ours(pid, d):
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                if not _pid_is_ours(pid, d):
                    break
                time.sleep(0.05)
            # reap it when we are its parent (the bridge daemon); else init does
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        if run("ip", "netns", "list", check=False).stdout.split().count(rec["netns"]):
            run("ip", "netns", "del", rec["netns"], check=False)
        # deleting the netns destroys the peer; the root-side end may linger briefly
        if run("ip", "link", "show", rec["veth"], check=False).returncode == 0:
            run("ip", "link", "del", rec["veth"], check=False)
        shutil.rmtree(d, ignore_errors=True)

    def teardown(self) -> int:
        n = 0
        for h in self.hosts():
            self.remove_host(h["name"])
            n += 1
        if (self.dir / "pool.json").exists():
            if self.spec.router:
                remove_router()      # its leg hangs on this bridge; it comes back with the bridge
            run("ip", "link", "del", self.spec.bridge, check=False)   # its guard goes with it
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            if f" {self.dir}/" in line:
                raise RuntimeError(f"mounts left under {self.dir}: {line}")
        shutil.rmtree(self.dir, ignore_errors=True)
        return n


def wait_ssh(recs: list[dict], timeout: float = 90.0) -> None:
    """Wait until every host's sshd sends its banner (gct-init starts sshd last,
    so this also means services and role set-up are done)."""
    deadline = time.monotonic() + timeout
    pending = {r["name"]: r["addr"] for r in recs}
    while pending and time.monotonic() < deadline:
        for name, addr in list(pending.items()):
            if ssh_banner(addr, timeout=0.5):
                del pending[name]
        if pending:
            time.sleep(0.1)
    if pending:
        raise TimeoutError("sshd not up on: " + " ".join(sorted(pending)))


# ---------------------------------------------------------------- the "hosts" pool
def _hosts_files(pool: Pool, recs: list[dict]) -> None:
    """known_hosts, ssh_config, inventory.ini/.yml and hosts.json for the hosts pool."""
    run_dir = pool.dir
    key = run_dir / "id_ed25519"
    kh = "".join(f"{r['addr']},{r['name']} {r['host_key']}\n" for r in recs)
    (run_dir / "known_hosts").write_text(kh)
    cfg = "".join(f"Host {r['name']}\n  HostName {r['addr']}\n" for r in recs)
    cfg += (f"Host *\n  User govcloud\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {run_dir / 'known_hosts'}\n  StrictHostKeyChecking yes\n"
            f"  BatchMode yes\n  ConnectTimeout 10\n")
    (run_dir / "ssh_config").write_text(cfg)
    ssh_args = f"-F {run_dir / 'ssh_config'}"
    common = {"ansible_user": "govcloud", "ansible_python_interpreter": "/usr/bin/python3",
              "ansible_ssh_private_key_file": str(key), "ansible_ssh_common_args": ssh_args}
    roles: dict[str, list[str]] = {}
    for r in recs:
        if r.get("role"):
            roles.setdefault(r["role"], []).append(r["name"])
    ini = ["[testhosts]"] + [f"{r['name']} ansible_host={r['addr']}" for r in recs]
    for role, names in sorted(roles.items()):
        ini += ["", f"[{role}]"] + names
    ini += ["", "[testhosts:vars]"] + [f"{k}={v!r}" if " " in v else f"{k}={v}" for k, v in common.items()]
    (run_dir / "inventory.ini").write_text("\n".join(ini) + "\n")
    yml = {"all": {"vars": common, "children": {
        "testhosts": {"hosts": {r["name"]: {"ansible_host": r["addr"]} for r in recs}},
        **{role: {"hosts": {n: {} for n in names}} for role, names in roles.items()}}}}
    (run_dir / "inventory.yml").write_text(json.dumps(yml, indent=1) + "\n")  # JSON is valid YAML
    (run_dir / "hosts.json").write_text(json.dumps(
        [{k: r[k] for k in ("name", "addr", "role", "services", "host_key")} for r in recs], indent=1) + "\n")


def hosts_up(n: int, services: list[str], roles: list[tuple[str, int | None]]) -> list[dict]:
    if not 1 <= n <= 250:
        raise ValueError("N must be 1..250")
    pool = Pool(HOSTS_POOL)
    with pool.lock():
        cur = pool.hosts()
        want_roles = _assign_roles(n, roles)
        if cur:
            same = (len(cur) == n and all(h["alive"] for h in cur)
                    and [h.get("role") for h in cur] == want_roles
                    and all(set(services) <= set(h["services"]) for h in cur))
            if same:
                pool.ensure_bridge()          # (and the router, when the other pool is up)
                for h in cur:                 # hosts started by an older harness lack the route
                    ensure_peer_route(h["netns"], HOSTS_POOL)
                return cur
            # a different shape (or a dead host) is rebuilt from scratch
            pool.teardown()
        ensure_rootfs()
        pool.ensure_bridge()
        key = pool.dir / "id_ed25519"
        if not key.exists():
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "govcloud-tests", "-f", str(key))
        pub = (pool.dir / "id_ed25519.pub").read_text()
        names = [(f"h{i}", f"198.18.1.{i}") for i in range(1, n + 1)]
        etc_hosts = "127.0.0.1 localhost\n198.18.0.1 testrunner\n" + "".join(f"{a} {h}\n" for h, a in names)
        recs = [pool.add_host(h, a, pub, services=services, role=want_roles[i], etc_hosts=etc_hosts,
                              wait=False, ifname=f"gch{i + 1}")
                for i, (h, a) in enumerate(names)]
        wait_ssh(recs, timeout=60 + 2 * n)
        _hosts_files(pool, recs)
        return pool.hosts()


def _assign_roles(n: int, roles: list[tuple[str, int | None]]) -> list[str | None]:
    """--role webapp:2 --role x  -> first 2 hosts webapp, all others x."""
    out: list[str | None] = [None] * n
    i = 0
    for role, count in roles:
        if count is None:
            for j in range(i, n):
                out[j] = role
            i = n
        else:
            for j in range(i, min(n, i + count)):
                out[j] = role
            i += count
    return out
