"""Discovery: what the inventory's servers really run, as *observations* (never desired state).

One read-only POSIX-sh script per host (``discovery_script``) through ``govcloud.drivers.ssh``;
everything else here is pure: target selection, parsing the recorded output into facts,
observations for ``<inventory>/observed/discovery.yaml`` and *proposed* dependencies between
systems (from established TCP connections) for a person to accept — never written as
dependencies.

Secrets: the script sends no command lines — only process names and executable paths — and
cron jobs are reduced to schedule, user and program, so nothing typed on a command line
(``mysqldump -pSECRET``) ever reaches the observation file.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from govcloud.base import stamp
from govcloud.compliance.facts import HostFacts, parse_output
from govcloud.model.entities import Observation
from govcloud.model.observed import Utilization
from govcloud.model import osrelease
from govcloud.model.enums import CpuArch, OsDistribution

SOURCE = "discovery:ssh"
OBSERVED_FILE = Path("observed") / "discovery.yaml"
LEGACY_SAMPLE_INTERVAL = 0.5   # outputs recorded before samples carried their own time stamps
DEFAULT_SAMPLE_SECONDS = 2.0
MIN_SAMPLE_INTERVAL = 0.1      # /proc/stat counts in 10 ms ticks: 0.1 s = 10 ticks per CPU
TARGET_INTERVALS = 20          # enough intervals for a p95 that is not simply the maximum

# --------------------------------------------------------------------------- remote script

# The utilisation sampler runs as the login user, before sudo — it needs no privileges, so
# its window starts as soon as the session does and overlaps sudo and everything else the
# script collects. It is built from shell builtins: under bash the pause is `read -t` on a
# pipe that never delivers (no process per sample); without bash, `sleep`. It keeps its
# samples and writes them at the end, as one `util` section on the channel's *stderr*, so
# they can never interleave with the sections on stdout (``merge_sampler_output``).
# The window is bounded by time (the uptime clock, in 1/100 s), not by a count of pauses,
# so a loaded host does not stretch it; $1 intervals of $2 s, $3 = window in 1/100 s.
_UTIL = r"""f_util() {
  i=0; o=; end=
  while :; do
    read -r c < /proc/stat
    t=; a=
    while read -r k v rest; do
      case $k in MemTotal:) t=$v ;; MemAvailable:) a=$v; break ;; esac
    done < /proc/meminfo
    read -r up rest < /proc/uptime
    o="${o}S $c $t $a t=$up
"
    cs=${up%.*}${up#*.}; cs=${cs#"${cs%%[!0]*}"}; cs=${cs:-0}
    [ -z "$end" ] && end=$((cs + $3))
    i=$((i+1)); [ "$i" -gt $(($1 * 2)) ] && break; [ "$cs" -ge "$end" ] && break
    nap "$2"
  done
  printf "%s\n%s%s\n" "@@GOVCLOUD-BEGIN util" "$o" "@@GOVCLOUD-END util rc=0"
}"""

_PRELUDE = r"""export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
UTIL='@UTIL@'
if command -v bash >/dev/null 2>&1; then
  bash -c 'exec 9<> <(:); nap() { read -t "$1" -u 9 _; }; '"$UTIL"'; f_util "$1" "$2" "$3"' util @SAMPLES@ @INTERVAL@ @WINDOW_CS@ >&2 </dev/null &
else
  ( nap() { sleep "$1" 2>/dev/null || sleep 1; }; eval "$UTIL"; f_util @SAMPLES@ @INTERVAL@ @WINDOW_CS@ ) >&2 </dev/null &
fi
"""

_SCRIPT = r"""
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 077
read -r T0 _ < /proc/uptime
# few processes on purpose: 50+ hosts run this at once, often on small machines; files are read
# with shell builtins where a command would only copy them
sec() {
  n=$1; shift
  printf '%s%s\n' '@@GOVCLOUD-BEGIN ' "$n"
  "$@" 2>&1 </dev/null; rc=$?
  printf '\n%s%s rc=%s\n' '@@GOVCLOUD-END ' "$n" "$rc"
}
catb() { while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1"; }
f_meta() { read -r h < /proc/sys/kernel/hostname; read -r k < /proc/sys/kernel/osrelease; read -r i < /proc/1/comm; echo "hostname=$h"; echo "kernel=$k"; if [ -r /proc/sys/kernel/arch ]; then read -r m < /proc/sys/kernel/arch; else m=$(uname -m); fi; echo "arch=$m"; echo "init=$i"; [ -d /run/systemd/system ] && echo systemd=yes || echo systemd=no; }
f_os_release() { if [ -r /etc/os-release ]; then catb /etc/os-release; elif [ -r /usr/lib/os-release ]; then catb /usr/lib/os-release; fi; for f in /etc/kylin-release /etc/redhat-release; do [ -r "$f" ] && { echo "## $f"; IFS= read -r l < "$f"; printf '%s\n' "$l"; }; done; return 0; }
f_cpu() { awk -F: '/^processor[ \t]*:/{n++} /^(model name|Model Name|cpu model|Hardware|vendor_id)[ \t]*:/{if(!($1 in s) && m<2){s[$1]=1; m++; print}} END{print "processors=" n+0; if(!m) exit 1}' /proc/cpuinfo || { command -v lscpu >/dev/null && lscpu | grep -E '^(Model name|Vendor ID):'; }; return 0; }
f_mem() { while read -r k v rest; do case $k in MemTotal:|SwapTotal:) echo "$k $v $rest" ;; esac; done < /proc/meminfo; }
f_load() { read -r l < /proc/loadavg; echo "loadavg=$l"; read -r l < /proc/uptime; echo "uptime=$l"; for r in cpu memory io; do [ -r /proc/pressure/$r ] && while read -r w rest; do echo "psi_${r}_$w=$rest"; done < /proc/pressure/$r; done; return 0; }
f_disks() { df -PTk 2>/dev/null; }
f_listening() { ss -H -lntup 2>/dev/null || ss -lntup; }
f_established() { ss -H -ntp state established 2>/dev/null || ss -ntp state established; }
f_processes() { ps -eo comm=,args= | awk '!s[$1 " " $2]++ {print $1, $2}'; }
f_services() {
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    echo "mode=systemd"
    systemctl list-units --type=service --state=running --no-legend --plain 2>/dev/null | awk '{print "running=" $1}'
    systemctl list-unit-files --type=service --state=enabled --no-legend 2>/dev/null | awk '{print "enabled=" $1}'
  else
    echo "mode=sysv"
    for f in /etc/init.d/*; do [ -x "$f" ] && echo "service=${f##*/}"; done
    for f in /etc/rc3.d/S* /etc/rc2.d/S*; do [ -e "$f" ] || continue; b=${f##*/S}; echo "enabled=${b#[0-9][0-9]}"; done
  fi; return 0; }
f_cron() {
  set --; for f in /etc/crontab /etc/cron.d/*; do [ -f "$f" ] && set -- "$@" "$f"; done
  [ $# -gt 0 ] && awk '/^[ \t]*(#|$)/{next} /^[A-Za-z_][A-Za-z0-9_]*=/{next} /^@/{print "F " FILENAME " " $1 " " $2 " " $3; next} NF>=7{print "F " FILENAME " " $1 " " $2 " " $3 " " $4 " " $5 " " $6 " " $7}' "$@"
  set --; for d in /var/spool/cron/crontabs /var/spool/cron; do [ -d "$d" ] || continue; for f in "$d"/*; do [ -f "$f" ] && set -- "$@" "$f"; done; done
  [ $# -gt 0 ] && awk '/^[ \t]*(#|$)/{next} /^[A-Za-z_][A-Za-z0-9_]*=/{next} {u=FILENAME; sub(/.*\//, "", u)} /^@/{print "U " u " " $1 " " $2; next} NF>=6{print "U " u " " $1 " " $2 " " $3 " " $4 " " $5 " " $6}' "$@"
  for d in /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly; do [ -d "$d" ] || continue; for f in "$d"/*; do [ -e "$f" ] && echo "P ${f##*/}"; done; done; return 0; }
f_span() { read -r t _ < /proc/uptime; echo "start=$T0"; echo "end=$t"; }
for s in meta os_release cpu mem load disks listening established processes services cron span; do sec "$s" "f_$s"; done
"""


def sample_plan(sample_seconds: float = DEFAULT_SAMPLE_SECONDS) -> tuple[int, float]:
    """(intervals, interval seconds) for a utilisation window: ~20 intervals, never under 0.1 s
    (2 s → 20 × 0.1 s; 10 s → 20 × 0.5 s; 0 → the minimum, one 0.1 s interval)."""
    window = max(0.0, float(sample_seconds))
    interval = max(MIN_SAMPLE_INTERVAL, round(window / TARGET_INTERVALS, 2))
    return max(1, round(window / interval)), interval


def discovery_script(sample_seconds: float = DEFAULT_SAMPLE_SECONDS) -> str:
    """The read-only collection script (run as root: ``ss -p`` needs it). The utilisation
    samples come from ``sampler_prelude`` — run it first, as the login user."""
    return _SCRIPT


def sampler_prelude(sample_seconds: float = DEFAULT_SAMPLE_SECONDS) -> str:
    """Shell code that starts the utilisation sampler in the background (no privileges needed);
    its ``util`` section arrives on stderr when the window ends."""
    intervals, interval = sample_plan(sample_seconds)
    assert "'" not in _UTIL
    window_cs = max(1, round(intervals * interval * 100) - 2)    # the last pause ends just past it
    return (_PRELUDE.replace("@UTIL@", _UTIL).replace("@SAMPLES@", str(intervals))
            .replace("@INTERVAL@", f"{interval:g}").replace("@WINDOW_CS@", str(window_cs)))


def standalone_script(sample_seconds: float = DEFAULT_SAMPLE_SECONDS) -> str:
    """Sampler + collection as one script for a runner that is already root (``--via ansible``
    with become, a local run): the same code, the sampler started first."""
    return f"{sampler_prelude(sample_seconds)}\n{_SCRIPT}\nwait\n"


_UTIL_BLOCK = re.compile(r"^@@GOVCLOUD-BEGIN util\n.*?^@@GOVCLOUD-END util rc=0\n", re.S | re.M)


def merge_sampler_output(stdout: str, stderr: str) -> tuple[str, str]:
    """Move the sampler's ``util`` section from stderr to the end of stdout (where the parser
    expects every section); return (stdout, stderr without it)."""
    m = _UTIL_BLOCK.search(stderr or "")
    if m is None or "@@GOVCLOUD-BEGIN util" in stdout:
        return stdout, stderr
    block, rest = m.group(0), stderr[:m.start()] + stderr[m.end():]
    return (stdout if stdout.endswith("\n") or not stdout else stdout + "\n") + block, rest


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    server: str          # server id in the inventory
    hostname: str
    address: str


def select_targets(servers: Iterable[Any], pattern: str | None = None) -> list[Target]:
    """Servers to visit: address = ``mgmt_ip`` or the first of ``ips``, else the hostname.
    ``pattern``: comma-separated fnmatch patterns on server id or hostname; ``!pat`` excludes."""
    pats = [p.strip() for p in (pattern or "").split(",") if p.strip()]
    inc = [p for p in pats if not p.startswith("!")]
    exc = [p[1:] for p in pats if p.startswith("!")]

    def hit(s, ps):
        return any(fnmatch.fnmatchcase(s.id, p) or fnmatch.fnmatchcase(s.hostname, p) for p in ps)

    out = []
    for s in servers:
        if inc and not hit(s, inc):
            continue
        if exc and hit(s, exc):
            continue
        addr = s.mgmt_ip or (s.ips[0] if s.ips else None) or s.hostname
        out.append(Target(s.id, s.hostname, str(addr)))
    return out


# --------------------------------------------------------------------------- parsing

def parse_os_release(text: str) -> dict[str, Any]:
    """``/etc/os-release`` → os_distribution (enum value; ``other`` when unknown), os_version,
    os_name — through the one table in :mod:`govcloud.model.osrelease`."""
    rel = osrelease.parse_os_release(text)
    out: dict[str, Any] = {"os_distribution": (rel.distribution or OsDistribution.other).value}
    if rel.version:
        out["os_version"] = rel.version
    if rel.name:
        out["os_name"] = rel.name
    return out


_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64",
         "loongarch64": "loongarch64", "mips64": "mips64el", "mips64el": "mips64el", "sw_64": "sw_64",
         "ppc64": "ppc64", "ppc64le": "ppc64le", "ia64": "ia64", "sparc64": "sparc"}


def _kv(text: str, sep: str = "=") -> dict[str, str]:
    d: dict[str, str] = {}
    for line in text.splitlines():
        if sep in line:
            k, v = line.split(sep, 1)
            d.setdefault(k.strip(), v.strip())
    return d


def parse_cpu(meta: dict[str, str], text: str) -> dict[str, Any]:
    arch = _ARCH.get(meta.get("arch", ""), None)
    out: dict[str, Any] = {}
    if arch and arch in CpuArch._value2member_map_:
        out["cpu_arch"] = arch
    elif meta.get("arch"):
        out["cpu_arch_raw"] = meta["arch"]
    info = _kv(text, ":")
    model = info.get("Model name") or info.get("model name") or info.get("Model Name") or info.get("cpu model") \
        or info.get("Hardware")
    if model:
        out["cpu_model"] = model
    if info.get("Vendor ID") or info.get("vendor_id"):
        out["cpu_vendor_id"] = info.get("Vendor ID") or info["vendor_id"]
    cores = meta.get("nproc") or _kv(text).get("processors")
    if cores and cores.isdigit():
        out["cores"] = int(cores)
    return out


def parse_meminfo(text: str) -> dict[str, Any]:
    m = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.M)
    return {"ram_gb": round(int(m.group(1)) / 1024 / 1024, 1)} if m else {}


_PSEUDO_FS = {"tmpfs", "devtmpfs", "proc", "sysfs", "cgroup", "cgroup2", "squashfs", "devpts", "mqueue",
              "overlayfs-none", "efivarfs", "nsfs", "securityfs", "debugfs", "tracefs", "autofs", "fuse.lxcfs"}


def parse_df(text: str) -> list[dict[str, Any]]:
    """``df -PTk`` → real filesystems (pseudo ones dropped)."""
    disks = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 7 or not f[2].isdigit():
            continue
        fstype, size_k, used_k = f[1], int(f[2]), int(f[3])
        if fstype in _PSEUDO_FS or size_k == 0:
            continue
        disks.append({"mount": " ".join(f[6:]), "device": f[0], "fstype": fstype,
                      "size_gb": round(size_k / 1048576, 1), "used_gb": round(used_k / 1048576, 1),
                      "used_pct": round(100 * used_k / size_k, 1)})
    return disks


_PROC_RE = re.compile(r'\("([^"]+)",pid=(\d+)')


def _split_addr(a: str) -> tuple[str, int | None]:
    host, _, port = a.rpartition(":")
    host = host.strip("[]")
    if "%" in host:
        host = host.split("%", 1)[0]
    return host, int(port) if port.isdigit() else None


def parse_listening(text: str) -> list[dict[str, Any]]:
    """``ss -H -lntup`` → [{proto, address, port, processes}] (one row per socket)."""
    out, seen = [], set()
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or f[0] not in ("tcp", "udp"):
            continue
        proto = f[0]
        # tcp LISTEN rq sq local peer [users:…]; udp UNCONN rq sq local peer [users:…]
        local = f[4]
        host, port = _split_addr(local)
        procs = sorted(set(_PROC_RE.findall(line[line.find("users:"):] if "users:" in line else "")), key=lambda x: x[0])
        names = sorted({p[0] for p in procs})
        key = (proto, host, port, tuple(names))
        if key in seen:
            continue
        seen.add(key)
        out.append({"proto": proto, "address": host, "port": port, "processes": names})
    return out


def parse_established(text: str) -> list[dict[str, Any]]:
    """``ss -H -ntp state established`` (no State column) → [{local, lport, peer, pport, process}]."""
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 4 or not f[0].isdigit():
            continue
        lh, lp = _split_addr(f[2])
        ph, pp = _split_addr(f[3])
        m = _PROC_RE.search(line)
        if ph.startswith("::ffff:"):
            ph = ph[7:]
        if lh.startswith("::ffff:"):
            lh = lh[7:]
        out.append({"local": lh, "lport": lp, "peer": ph, "pport": pp, "process": m.group(1) if m else None})
    return out


def summarize_connections(conns: list[dict], listening: list[dict]) -> dict[str, list[dict]]:
    """Aggregate established connections into inbound (to one of our listening ports) and
    outbound (to a peer's port); loopback is dropped."""
    lports = {l["port"] for l in listening if l["proto"] == "tcp"}
    agg: dict[tuple, dict] = {}
    for c in conns:
        try:
            if ipaddress.ip_address(c["peer"]).is_loopback:
                continue
        except ValueError:
            continue
        if c["lport"] in lports:
            key = ("inbound", c["peer"], c["lport"], c["process"])
        else:
            key = ("outbound", c["peer"], c["pport"], c["process"])
        e = agg.setdefault(key, {"peer": key[1], "port": key[2], "process": key[3], "count": 0})
        e["count"] += 1
    res: dict[str, list[dict]] = {"inbound": [], "outbound": []}
    for key in sorted(agg, key=lambda k: (k[0], k[1], k[2] or 0, k[3] or "")):
        res[key[0]].append(agg[key])
    return res


_DB_PROCS = (  # (regex on process name or executable, engine)
    (r"^(postgres|postmaster)$", "postgresql"), (r"^mysqld$", "mysql"), (r"^mariadbd$", "mariadb"),
    (r"^(ora_pmon_|tnslsnr$|oracle$)", "oracle"), (r"^(dmserver|dmap)$", "dm"), (r"^kingbase", "kingbase"),
    (r"^(gaussdb|gs_ctl)$", "opengauss"), (r"^(oscar|oscardb)", "oscar"), (r"^gbased?$", "gbase"),
    (r"^(observer|obproxy)$", "oceanbase"), (r"^db2sysc$", "db2"), (r"^sqlservr$", "sqlserver"),
)
_DB_PORTS = {5432: "postgresql", 3306: "mysql", 1521: "oracle", 5236: "dm", 54321: "kingbase",
             2881: "oceanbase", 50000: "db2", 1433: "sqlserver", 2003: "oscar", 5258: "gbase"}


def detect_databases(processes: str, listening: list[dict]) -> list[dict[str, Any]]:
    """Database engines from running processes (name + executable path) and listening ports."""
    found: dict[str, dict[str, Any]] = {}
    for line in processes.splitlines():
        parts = line.split(None, 1)
        if not parts:
            continue
        comm, exe = parts[0], (parts[1] if len(parts) > 1 else "")
        for rx, engine in _DB_PROCS:
            if re.search(rx, comm) or (exe.startswith("/") and re.search(rx, exe.rsplit("/", 1)[-1])):
                d = found.setdefault(engine, {"engine": engine, "evidence": []})
                if "process" not in d["evidence"]:
                    d["evidence"].append("process")
                m = re.search(r"/postgresql/(\d+(?:\.\d+)?)/", exe) or re.search(r"/pgsql-?(\d+)/", exe)
                if engine == "postgresql" and m:
                    d["version"] = m.group(1)
    for l in listening:
        engine = None
        for p in l["processes"]:
            for rx, e in _DB_PROCS:
                if re.search(rx, p):
                    engine = e
        engine = engine or _DB_PORTS.get(l["port"] or -1)
        if engine and l["proto"] == "tcp":
            d = found.setdefault(engine, {"engine": engine, "evidence": []})
            if "port" not in d["evidence"]:
                d["evidence"].append("port")
            ports = d.setdefault("ports", [])
            if l["port"] not in ports:
                ports.append(l["port"])
            d.setdefault("listen", [])
            if l["address"] not in d["listen"]:
                d["listen"].append(l["address"])
    return [found[k] for k in sorted(found)]


def parse_services(text: str) -> dict[str, Any]:
    mode, running, enabled, known = "unknown", [], [], []
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if not sep:
            continue
        v = v.strip()
        if k == "mode":
            mode = v
        elif k == "running":
            running.append(v.removesuffix(".service"))
        elif k == "enabled":
            enabled.append(v.removesuffix(".service"))
        elif k == "service":
            known.append(v)
    out: dict[str, Any] = {"init": mode, "enabled": sorted(set(enabled))}
    if mode == "systemd":
        out["running"] = sorted(set(running))
    else:
        out["installed"] = sorted(set(known))
    return out


def parse_cron(text: str) -> list[dict[str, Any]]:
    """Cron jobs as schedule + user + program (the first word of the command, nothing after it)."""
    jobs = []
    for line in text.splitlines():
        f = line.split()
        if not f:
            continue
        if f[0] == "F" and len(f) >= 4:        # system file: F file sched… user prog
            src = f[1]
            if f[2].startswith("@"):
                sched, user, prog = f[2], f[3], (f[4] if len(f) > 4 else "")
            elif len(f) >= 9:
                sched, user, prog = " ".join(f[2:7]), f[7], f[8]
            else:
                continue
        elif f[0] == "U" and len(f) >= 3:      # user crontab: U user sched… prog
            src, user = f"crontab:{f[1]}", f[1]
            if f[2].startswith("@"):
                sched, prog = f[2], (f[3] if len(f) > 3 else "")
            elif len(f) >= 8:
                sched, prog = " ".join(f[2:7]), f[7]
            else:
                continue
        elif f[0] == "P" and len(f) == 2 and not f[1].endswith(":"):
            jobs.append({"schedule": "periodic", "user": "root", "program": f[1], "source": "cron.periodic"})
            continue
        else:
            continue
        jobs.append({"schedule": sched, "user": user, "program": prog, "source": src})
    return jobs


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, -(-95 * len(v) // 100) - 1))   # nearest rank
    return round(v[k], 1)


def parse_utilization(text: str, own: tuple[float, float] | None = None) -> dict[str, Any]:
    """Samples ``S cpu user nice system idle iowait irq softirq steal … MemTotal MemAvailable [t=uptime]``
    → CPU busy % per interval and memory used % per sample, their p95, the window actually
    covered (from the samples' own uptime stamps) and the mean CPU busy % since boot (the
    first sample's counters are cumulative since boot: a long-horizon figure for free).

    ``own``: the (start, end) uptime of the collection script itself; CPU intervals overlapping
    it are left out of the CPU figures (the script's own processes would otherwise be measured),
    unless fewer than 5 intervals would remain."""
    cpu_prev, cpu_pct, mem_pct, stamps, since_boot = None, [], [], [], None
    spans: list[tuple[float, float] | None] = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 7 or f[0] != "S" or not f[1].startswith("cpu"):
            continue
        nums = [int(x) for x in f[2:] if x.isdigit()]
        if len(nums) < 6:
            continue
        stamp = None
        for x in f[2:]:
            if x.startswith("t="):
                try:
                    stamp = float(x[2:])
                    stamps.append(stamp)
                except ValueError:
                    pass
        mem_total, mem_avail = nums[-2], nums[-1]
        ticks = nums[:-2][:8]        # user nice system idle iowait irq softirq steal (guest is in user)
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        total = sum(ticks)
        if cpu_prev is not None:
            dt, di = total - cpu_prev[0], idle - cpu_prev[1]
            if dt > 0:
                cpu_pct.append(max(0.0, min(100.0, 100.0 * (dt - di) / dt)))
                spans.append((cpu_prev[2], stamp) if cpu_prev[2] is not None and stamp is not None else None)
        elif total > 0:
            since_boot = round(100.0 * (total - idle) / total, 1)
        cpu_prev = (total, idle, stamp)
        if mem_total > 0:
            mem_pct.append(max(0.0, min(100.0, 100.0 * (mem_total - mem_avail) / mem_total)))
    excluded = None
    if own is not None and cpu_pct:
        quiet = [v for v, sp in zip(cpu_pct, spans) if sp is None or sp[1] <= own[0] or sp[0] >= own[1]]
        if len(quiet) >= 5:
            excluded = len(cpu_pct) - len(quiet)        # CPU intervals while our own script ran
            cpu_pct = quiet
    if len(stamps) == len(mem_pct) and len(stamps) >= 2:
        window_s, interval_s = round(stamps[-1] - stamps[0], 2), round((stamps[-1] - stamps[0]) / (len(stamps) - 1), 2)
    else:
        window_s, interval_s = round(max(0, len(mem_pct) - 1) * LEGACY_SAMPLE_INTERVAL, 1), None
    return Utilization(cpu_intervals_excluded=excluded,
                       cpu_p95_pct=_p95(cpu_pct) if cpu_pct else None,
                       cpu_mean_pct=round(sum(cpu_pct) / len(cpu_pct), 1) if cpu_pct else None,
                       mem_p95_pct=_p95(mem_pct) if mem_pct else None,
                       samples=len(mem_pct), window_s=window_s, interval_s=interval_s,
                       cpu_mean_since_boot_pct=since_boot).to_dict()


def parse_load(text: str, cores: int | None = None) -> dict[str, Any]:
    """``/proc/loadavg`` and PSI (``/proc/pressure/*``, kernels ≥ 4.20): demand over the last
    1/5/15 minutes and 10/60/300 seconds — the longer horizons a seconds-long sample lacks."""
    kv = _kv(text)
    out: dict[str, Any] = {}
    la = kv.get("loadavg", "").split()
    try:
        loads = [float(x) for x in la[:3]]
    except ValueError:
        loads = []
    if len(loads) == 3:
        out["load_avg"] = loads
        if cores:
            out["load_per_core_15m"] = round(loads[2] / cores, 2)
    up = kv.get("uptime", "").split()
    if up:
        try:
            out["uptime_days"] = round(float(up[0]) / 86400, 1)
        except ValueError:
            pass
    psi: dict[str, dict[str, float]] = {}
    for key, val in kv.items():
        if not key.startswith("psi_"):
            continue
        _, res, kind = key.split("_", 2)
        vals = dict(x.split("=", 1) for x in val.split() if "=" in x)
        try:
            psi[f"{res}_{kind}"] = {k: float(vals[k]) for k in ("avg10", "avg60", "avg300") if k in vals}
        except ValueError:
            continue
    if psi:
        out["psi"] = {k: psi[k] for k in sorted(psi)}
    return out


def facts_from_output(name: str, stdout: str) -> dict[str, Any]:
    """The whole recorded output of ``discovery_script`` → the facts of one observation."""
    hf: HostFacts = parse_output(name, stdout)
    meta = hf.kv("meta")
    facts: dict[str, Any] = {}
    facts.update(parse_os_release(hf.out("os_release")))
    if meta.get("kernel"):
        facts["kernel"] = meta["kernel"]
    if meta.get("hostname"):
        facts["hostname"] = meta["hostname"]
    facts.update(parse_cpu(meta, hf.out("cpu")))
    facts.update(parse_meminfo(hf.out("mem")))
    disks = parse_df(hf.out("disks"))
    facts["disks"] = disks
    facts["disk_gb"] = round(sum(d["size_gb"] for d in disks), 1)
    listening = parse_listening(hf.out("listening"))
    facts["listening"] = listening
    facts["connections"] = summarize_connections(parse_established(hf.out("established")), listening)
    facts["databases"] = detect_databases(hf.out("processes"), listening)
    facts["services"] = parse_services(hf.out("services"))
    facts["cron"] = parse_cron(hf.out("cron"))
    span = hf.kv("span")
    try:
        own = (float(span["start"]), float(span["end"])) if "start" in span and "end" in span else None
    except ValueError:
        own = None
    facts["utilization"] = parse_utilization(hf.out("util"), own)
    if "load" in hf.sections:
        facts["utilization"].update(parse_load(hf.out("load"), facts.get("cores")))
    missing = [s for s in ("meta", "os_release", "util") if s not in hf.sections]
    if missing:
        facts["incomplete"] = missing
    return facts


# --------------------------------------------------------------------------- observations


def utc_now() -> str:
    return stamp.utc_now()


SOURCES = (SOURCE, "discovery:ansible")     # the same script, through paramiko or ansible-runner


def observation(server: str, facts: dict[str, Any], collected_at: str | None = None,
                source: str = SOURCE) -> Observation:
    return Observation(source=source, server=server, collected_at=collected_at or utc_now(), facts=facts)


def merge_latest(previous: Iterable[dict], new: Iterable[Observation]) -> list[Observation]:
    """Latest observation per server: this run's results replace earlier ones; servers not
    reached this run keep their last successful observation."""
    by_server: dict[str, Observation] = {}
    for d in previous:
        if isinstance(d, dict) and d.get("server") and d.get("source") in SOURCES:
            by_server[d["server"]] = Observation(source=d["source"], server=d["server"],
                                                 collected_at=d.get("collected_at"), facts=d.get("facts") or {})
    for o in new:
        by_server[o.server] = o
    return [by_server[k] for k in sorted(by_server)]


# --------------------------------------------------------------------------- audit


def fact_summary(facts: dict[str, Any]) -> dict[str, Any]:
    """The few facts an auditor compares between runs (utilisation, which moves every run, and
    the long lists are left out; ``digest`` stands for all of them)."""
    import hashlib
    import json

    services = facts.get("services") or {}
    out = {
        "os": " ".join(str(x) for x in (facts.get("os_distribution"), facts.get("os_version")) if x) or None,
        "kernel": facts.get("kernel"),
        "cpu_arch": facts.get("cpu_arch"),
        "cores": facts.get("cores"),
        "ram_gb": facts.get("ram_gb"),
        "disk_gb": facts.get("disk_gb"),
        "databases": sorted({d.get("engine") for d in facts.get("databases") or [] if d.get("engine")}),
        "listening": sorted({f"{x.get('proto')}/{x.get('port')}" for x in facts.get("listening") or []},
                            key=lambda v: (v.split("/")[0], int(v.split("/")[1]) if v.split("/")[1].isdigit() else 0)),
        "services": len(services.get("running") or services.get("installed") or []),
        "cron": len(facts.get("cron") or []),
    }
    stable = {k: v for k, v in facts.items() if k != "utilization"}
    out["digest"] = hashlib.sha256(json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str)
                                   .encode("utf-8")).hexdigest()[:16]
    return out


def audit_change(previous: Iterable[dict], new: Iterable[Observation]) -> tuple[dict, dict]:
    """(before, after) for the audit entry of one discovery run: per server, only the summary
    fields that changed (a server seen for the first time: its whole summary under ``after``);
    servers whose summary did not change are only counted."""
    old = {d["server"]: fact_summary(d.get("facts") or {}) for d in previous
           if isinstance(d, dict) and d.get("server") and d.get("source") in SOURCES}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    unchanged = 0
    for o in new:
        cur = fact_summary(o.facts)
        prev = old.get(o.server)
        if prev is None:
            after[o.server] = cur
            before[o.server] = None
            continue
        diff = [k for k in cur if cur[k] != prev.get(k) and k != "digest"]
        if not diff and cur["digest"] == prev.get("digest"):
            unchanged += 1
            continue
        before[o.server] = {k: prev.get(k) for k in diff + ["digest"]}
        after[o.server] = {k: cur[k] for k in diff + ["digest"]}
    return ({"servers": before}, {"servers": after, "unchanged": unchanged})


# --------------------------------------------------------------------------- dependency proposals


@dataclass
class Proposal:
    from_: str
    to: str
    type: str
    evidence: list[str] = field(default_factory=list)
    existing: bool = False

    def to_plain(self) -> dict[str, Any]:
        return {"from": self.from_, "to": self.to, "type": self.type, "existing": self.existing,
                "evidence": self.evidence}


_MGMT_PORTS = {22}


def _dep_type(port: int | None, engines_at_server: set[int]) -> str:
    if port in _DB_PORTS or port in engines_at_server:
        return "shared_db"
    if port in (5672, 5671, 9092, 61616, 1883, 4222):
        return "async_mq"
    if port in (21, 2049, 445, 139, 873):
        return "file_exchange"
    return "sync_api"


def propose_dependencies(inv, facts_by_server: dict[str, dict[str, Any]]) -> list[Proposal]:
    """System-to-system dependencies suggested by established connections between inventory
    servers (peer IPs mapped to servers, servers to their systems).  Management traffic (SSH)
    and connections inside one system are not proposals; ``existing`` marks a dependency the
    inventory already declares.  Proposals are for a person to accept — never written."""
    ip_to_server: dict[str, str] = {}
    for s in inv.servers.values():
        for ip in (s.mgmt_ip, *s.ips):
            if ip:
                ip_to_server.setdefault(str(ip), s.id)
    systems_of: dict[str, list[str]] = {}
    for sysrec in inv.systems.values():
        for sid in sysrec.servers:
            systems_of.setdefault(sid, []).append(sysrec.id)
    db_ports: dict[str, set[int]] = {
        sid: {p for d in f.get("databases", []) for p in d.get("ports", [])} for sid, f in facts_by_server.items()}
    declared = {(d.from_, d.to) for d in getattr(inv, "dependencies", {}).values()} \
        if isinstance(getattr(inv, "dependencies", None), dict) else \
        {(d.from_, d.to) for d in (getattr(inv, "dependencies", None) or [])}
    props: dict[tuple[str, str], Proposal] = {}
    for sid, facts in sorted(facts_by_server.items()):
        conns = facts.get("connections") or {}
        for direction in ("outbound", "inbound"):
            for c in conns.get(direction, []):
                if c.get("port") in _MGMT_PORTS:
                    continue
                peer = ip_to_server.get(c.get("peer"))
                if peer is None or peer == sid:
                    continue
                client, server = (sid, peer) if direction == "outbound" else (peer, sid)
                dtype = _dep_type(c.get("port"), db_ports.get(server, set()))
                ev = f"{client} → {server}:{c.get('port')}" + (f" ({c['process']})" if c.get("process") else "")
                for a in systems_of.get(client, []):
                    for b in systems_of.get(server, []):
                        if a == b:
                            continue
                        p = props.setdefault((a, b), Proposal(a, b, dtype, existing=(a, b) in declared))
                        if ev not in p.evidence:
                            p.evidence.append(ev)
    return [props[k] for k in sorted(props)]
