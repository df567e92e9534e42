"""Discovery parsing, target selection and dependency proposals — pure, on recorded outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from govcloud.inventory import discover as d
from govcloud.model.entities import Dependency, InformationSystem, Server
from govcloud.model.enums import DepType, OsDistribution

# recorded with discovery_script(3) from harness host h1 (Debian 12, role webapp, no systemd)
DEBIAN_WEBAPP = r"""@@GOVCLOUD-BEGIN meta
uid=0
hostname=h1
kernel=6.18.44-fc-v782
arch=x86_64
nproc=2
init=tini
systemd=no

@@GOVCLOUD-END meta rc=0
@@GOVCLOUD-BEGIN os_release
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"

@@GOVCLOUD-END os_release rc=0
@@GOVCLOUD-BEGIN cpu
model name	: AMD EPYC
processors=2
Vendor ID:                               AuthenticAMD
Model name:                              AMD EPYC
Thread(s) per core:                      1
Core(s) per socket:                      2
Socket(s):                               1

@@GOVCLOUD-END cpu rc=0
@@GOVCLOUD-BEGIN mem
MemTotal:       24683656 kB
SwapTotal:             0 kB

@@GOVCLOUD-END mem rc=0
@@GOVCLOUD-BEGIN disks
Filesystem     Type     1024-blocks     Used Available Capacity Mounted on
overlay        overlay    264212084 28715500  77675412      27% /
tmpfs          tmpfs          16384        0     16384       0% /dev
devtmpfs       devtmpfs    12334432        0  12334432       0% /dev/tty
tmpfs          tmpfs         262144        0    262144       0% /dev/shm
tmpfs          tmpfs          65536       20     65516       1% /run

@@GOVCLOUD-END disks rc=0
@@GOVCLOUD-BEGIN listening
tcp LISTEN 0      244    127.0.0.1:5432 0.0.0.0:* users:(("postgres",pid=81,fd=5))                                         
tcp LISTEN 0      511      0.0.0.0:80   0.0.0.0:* users:(("nginx",pid=67,fd=5),("nginx",pid=66,fd=5),("nginx",pid=65,fd=5))
tcp LISTEN 0      128      0.0.0.0:22   0.0.0.0:* users:(("sshd",pid=148,fd=4))                                            
tcp LISTEN 0      128         [::]:22      [::]:* users:(("sshd",pid=148,fd=5))                                            

@@GOVCLOUD-END listening rc=0
@@GOVCLOUD-BEGIN established
0      96     198.18.1.1:22 198.18.0.1:41226 users:(("sshd",pid=186,fd=4),("sshd",pid=180,fd=4))

@@GOVCLOUD-END established rc=0
@@GOVCLOUD-BEGIN processes
awk awk
nginx nginx:
postgres /usr/lib/postgresql/15/bin/postgres
postgres postgres:
ps ps
sh sh
sleep sleep
sort sort
sshd sshd:
sudo sudo
tini /usr/bin/tini

@@GOVCLOUD-END processes rc=0
@@GOVCLOUD-BEGIN services
mode=sysv
service=hwclock.sh
service=nginx
service=postgresql
service=procps
service=rsync
service=ssh
service=sudo
enabled=nginx
enabled=postgresql
enabled=rsync
enabled=ssh
enabled=sudo
enabled=nginx
enabled=postgresql
enabled=rsync
enabled=ssh
enabled=sudo

@@GOVCLOUD-END services rc=0
@@GOVCLOUD-BEGIN cron
F /etc/cron.d/e2scrub_all 30 3 * * 0 root test
F /etc/cron.d/e2scrub_all 10 3 * * * root test
P /etc/cron.daily:
P apt-compat
P dpkg

@@GOVCLOUD-END cron rc=0
@@GOVCLOUD-BEGIN util
S cpu  541305 96588 102183 412531 9041 0 3781 3839 0 0 24683656 23921956
S cpu  541356 96588 102187 412574 9042 0 3783 3839 0 0 24683656 23901004
S cpu  541406 96588 102188 412623 9042 0 3784 3839 0 0 24683656 23901008
S cpu  541453 96588 102188 412672 9043 0 3786 3839 0 0 24683656 23897760
S cpu  541503 96588 102189 412721 9044 0 3786 3839 0 0 24683656 23891920
S cpu  541552 96588 102191 412771 9044 0 3786 3839 0 0 24683656 23892184
S cpu  541602 96588 102192 412820 9044 0 3786 3839 0 0 24683656 23892456

@@GOVCLOUD-END util rc=0
"""

OPENEULER = """NAME="openEuler"
VERSION="22.03 (LTS-SP2)"
ID="openEuler"
VERSION_ID="22.03"
PRETTY_NAME="openEuler 22.03 (LTS-SP2)"
ANSI_COLOR="0;31"
"""
KYLIN = """NAME="Kylin Linux Advanced Server"
VERSION="V10 (Lance)"
ID="kylin"
VERSION_ID="V10"
PRETTY_NAME="Kylin Linux Advanced Server V10 (Lance)"
ANSI_COLOR="0;31"
"""
ANOLIS = """NAME="Anolis OS"
VERSION="8.8"
ID="anolis"
ID_LIKE="rhel fedora centos"
VERSION_ID="8.8"
PLATFORM_ID="platform:an8"
PRETTY_NAME="Anolis OS 8.8"
"""
UOS = """PRETTY_NAME="UnionTech OS Server 20"
NAME="UnionTech OS Server 20"
VERSION_ID="20"
VERSION="20"
ID=uos
ID_LIKE=debian
"""
CENTOS7 = 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n'
ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n'


@pytest.mark.parametrize("text, dist, version", [
    (OPENEULER, "openeuler", "22.03"), (KYLIN, "kylin", "V10"), (ANOLIS, "anolis", "8.8"),
    (UOS, "uos", "20"), (CENTOS7, "centos", "7"), (ROCKY, "other", "9.3"),
    ('NAME="Kylin"\nVERSION_ID="10"\nID=kylin\n', "kylin", "V10"),
    ('NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="22.04"\n', "ubuntu", "22.04"),
    ('NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="8.6"\n', "rhel", "8.6"),
])
def test_os_release_maps_to_the_enum(text, dist, version):
    out = d.parse_os_release(text)
    assert out["os_distribution"] == dist and OsDistribution(dist)
    assert out["os_version"] == version


def test_recorded_debian_webapp_host_without_systemd():
    f = d.facts_from_output("h1", DEBIAN_WEBAPP)
    assert (f["os_distribution"], f["os_version"], f["kernel"]) == ("debian", "12", "6.18.44-fc-v782")
    assert f["cpu_arch"] == "x86_64" and f["cores"] == 2 and f["cpu_model"] == "AMD EPYC"
    assert f["ram_gb"] == 23.5
    assert [x["mount"] for x in f["disks"]] == ["/"] and f["disk_gb"] > 0      # tmpfs etc. dropped
    assert {(l["port"], tuple(l["processes"])) for l in f["listening"]} >= {(80, ("nginx",)), (5432, ("postgres",)),
                                                                          (22, ("sshd",))}
    db = f["databases"]
    assert [x["engine"] for x in db] == ["postgresql"] and db[0]["version"] == "15" and db[0]["ports"] == [5432]
    assert f["services"]["init"] == "sysv"
    assert {"nginx", "postgresql", "ssh"} <= set(f["services"]["installed"]) and "nginx" in f["services"]["enabled"]
    assert {"schedule": "10 3 * * *", "user": "root", "program": "test", "source": "/etc/cron.d/e2scrub_all"} in f["cron"]
    assert f["connections"]["inbound"] == [{"peer": "198.18.0.1", "port": 22, "process": "sshd", "count": 1}]
    u = f["utilization"]
    assert u["samples"] == 7 and u["window_s"] == 3.0 and 0 <= u["cpu_p95_pct"] <= 100 and 0 < u["mem_p95_pct"] < 10
    assert "incomplete" not in f


def test_truncated_output_is_marked_incomplete():
    f = d.facts_from_output("h1", DEBIAN_WEBAPP.split("@@GOVCLOUD-BEGIN cpu")[0])
    assert f["incomplete"] == ["util"] and f["os_distribution"] == "debian"


def test_utilization_p95():
    # 4 intervals: 10 %, 20 %, 30 %, 90 % busy; memory 50 % then 75 %
    rows, t, i = [], 0, 0
    for busy in (0, 10, 20, 30, 90):
        t += 100
        i += 100 - busy if busy else 100
        rows.append(f"S cpu {t - i} 0 0 {i} 0 0 0 0 0 0 1000 {500 if busy < 30 else 250}")
    u = d.parse_utilization("\n".join(rows))
    assert u["cpu_p95_pct"] == 90.0 and u["mem_p95_pct"] == 75.0 and u["samples"] == 5


def test_systemd_services_and_cron_without_command_arguments():
    s = d.parse_services("mode=systemd\nrunning=nginx.service\nrunning=postgresql@15-main.service\nenabled=nginx.service\n")
    assert s == {"init": "systemd", "enabled": ["nginx"], "running": ["nginx", "postgresql@15-main"]}
    jobs = d.parse_cron("F /etc/crontab 0 2 * * * root /usr/bin/mysqldump\nU oracle @daily /home/oracle/bk.sh\n")
    assert jobs == [{"schedule": "0 2 * * *", "user": "root", "program": "/usr/bin/mysqldump", "source": "/etc/crontab"},
                    {"schedule": "@daily", "user": "oracle", "program": "/home/oracle/bk.sh", "source": "crontab:oracle"}]


def test_databases_by_process_and_port():
    procs = "mysqld /usr/sbin/mysqld\nora_pmon_orcl ora_pmon_orcl\ndmserver /opt/dmdbms/bin/dmserver\n"
    listening = d.parse_listening('tcp LISTEN 0 80 *:3306 *:* users:(("mysqld",pid=9,fd=20))\n'
                                  "tcp LISTEN 0 128 0.0.0.0:54321 0.0.0.0:*\n")
    assert [x["engine"] for x in d.detect_databases(procs, listening)] == ["dm", "kingbase", "mysql", "oracle"]


def _srv(sid, ip):
    return Server(id=sid, hostname=sid + ".local", mgmt_ip=ip, cores=2, ram_gb=4, os_distribution=OsDistribution.debian)


def test_target_selection():
    servers = [_srv("a-01", "198.18.200.1"), Server(id="b-01", hostname="bee", ips=("198.18.200.2", "198.18.200.3"), cores=1, ram_gb=1,
                                                  os_distribution=OsDistribution.debian),
               Server(id="c-01", hostname="c.example", cores=1, ram_gb=1, os_distribution=OsDistribution.debian)]
    assert [(t.server, t.address) for t in d.select_targets(servers)] == [
        ("a-01", "198.18.200.1"), ("b-01", "198.18.200.2"), ("c-01", "c.example")]
    assert [t.server for t in d.select_targets(servers, "bee")] == ["b-01"]
    assert [t.server for t in d.select_targets(servers, "*-01,!a-*")] == ["b-01", "c-01"]
    assert d.select_targets(servers, "zzz") == []


@dataclass
class _Inv:
    servers: dict
    systems: dict
    dependencies: list = field(default_factory=list)


def _sys(sid, servers):
    return InformationSystem(id=sid, name=sid, owner_org="o", servers=tuple(servers))


def test_dependency_proposals_from_both_ends():
    inv = _Inv(servers={s.id: s for s in (_srv("app", "198.18.200.1"), _srv("db", "198.18.200.2"), _srv("web", "198.18.200.3"))},
               systems={"s-app": _sys("s-app", ["app", "web"]), "s-db": _sys("s-db", ["db"])},
               dependencies=[Dependency(from_="s-app", to="s-db", type=DepType.shared_db)])
    ss_app = ("0 0 198.18.200.1:41000 198.18.200.2:5432 users:((\"java\",pid=1,fd=3))\n"
              "0 0 198.18.200.1:22 198.18.200.9:50000 users:((\"sshd\",pid=2,fd=3))\n"
              "0 0 198.18.200.1:41001 198.18.200.3:8080\n"                  # same system: no proposal
              "0 0 127.0.0.1:5000 127.0.0.1:41002\n")
    ss_db = "0 0 198.18.200.2:5432 198.18.200.1:41000 users:((\"postgres\",pid=3,fd=9))\n"
    lis_db = d.parse_listening('tcp LISTEN 0 244 0.0.0.0:5432 0.0.0.0:* users:(("postgres",pid=3,fd=5))\n')
    facts = {
        "app": {"connections": d.summarize_connections(d.parse_established(ss_app), [])},
        "db": {"connections": d.summarize_connections(d.parse_established(ss_db), lis_db),
               "databases": d.detect_databases("", lis_db)},
    }
    assert facts["app"]["connections"]["outbound"][0] == {"peer": "198.18.200.2", "port": 5432, "process": "java", "count": 1}
    assert facts["db"]["connections"]["inbound"] == [{"peer": "198.18.200.1", "port": 5432, "process": "postgres", "count": 1}]
    props = d.propose_dependencies(inv, facts)
    assert [(p.from_, p.to, p.type, p.existing) for p in props] == [("s-app", "s-db", "shared_db", True)]
    assert props[0].evidence == ["app → db:5432 (java)", "app → db:5432 (postgres)"]


def test_merge_latest_keeps_unreached_servers():
    prev = [{"source": "discovery:ssh", "server": "a", "collected_at": "2026-01-01T00:00:00Z", "facts": {"x": 1}},
            {"source": "discovery:ssh", "server": "b", "collected_at": "2026-01-01T00:00:00Z", "facts": {"x": 1}},
            {"source": "import:rvtools", "server": "c", "facts": {}}]
    out = d.merge_latest(prev, [d.observation("b", {"x": 2}, "2026-02-01T00:00:00Z")])
    assert [(o.server, o.facts["x"]) for o in out] == [("a", 1), ("b", 2)]


def test_script_sampling_window():
    assert d.sample_plan(2) == (20, 0.1) and d.sample_plan(0) == (1, 0.1) and d.sample_plan(10) == (20, 0.5)
    s = d.sampler_prelude(2)
    assert "util 20 0.1 198 >&2" in s and "f_util 20 0.1 198 ) >&2" in s     # bash (builtin pause) and plain sh
    assert "sudo" not in s and "f_util" not in d.discovery_script(2)


def test_sampler_output_moves_from_stderr_to_stdout():
    util = "@@GOVCLOUD-BEGIN util\nS cpu 1 0 0 9 0 0 0 0 0 0 100 50 t=1.00\n@@GOVCLOUD-END util rc=0\n"
    out, err = d.merge_sampler_output("@@GOVCLOUD-BEGIN meta\nx=1\n@@GOVCLOUD-END meta rc=0\n",
                                      "sudo: warning\n" + util)
    assert out.endswith(util) and err == "sudo: warning\n"
    assert d.merge_sampler_output("a\n", "nothing") == ("a\n", "nothing")


def test_prelude_wrapper_refuses_a_script_holding_the_delimiter():
    from govcloud.drivers.ssh import HEREDOC_END, wrap_with_prelude
    w = wrap_with_prelude("echo hi", "true &", elevate=True)
    assert "sudo -n sh -s <<'@@GOVCLOUD-SCRIPT-END'" in w and w.rstrip().endswith("exit $rc")
    with pytest.raises(ValueError):
        wrap_with_prelude(f"echo\n{HEREDOC_END}\nrm -rf /", "true", elevate=False)


def test_utilization_from_stamped_samples_and_load():
    # 20 intervals of 100 ticks, idle but for intervals 3 and 4 (50 % busy each)
    busy = [0, 0, 0, 50, 100] + [100] * 16
    rows = [f"S cpu {100 + busy[i]} 0 0 {900 + 100 * i - busy[i]} 0 0 0 0 0 0 1000 400 t={50 + 0.1 * i:.2f}"
            for i in range(21)]
    u = d.parse_utilization("\n".join(rows))
    assert u["samples"] == 21 and u["window_s"] == 2.0 and u["interval_s"] == 0.1
    assert u["mem_p95_pct"] == 60.0 and u["cpu_mean_since_boot_pct"] == 10.0
    assert u["cpu_p95_pct"] == 50.0 and "cpu_intervals_excluded" not in u    # intervals 3, 4 count
    mine = d.parse_utilization("\n".join(rows), own=(50.25, 50.35))          # ... unless our script ran then
    assert mine["cpu_intervals_excluded"] == 2 and mine["cpu_p95_pct"] == 0.0 and mine["samples"] == 21
    load = d.parse_load("loadavg=0.50 1.00 3.00 1/100 42\nuptime=172800.5 1000.0\n"
                        "psi_cpu_some=avg10=1.50 avg60=2.00 avg300=2.50 total=1\n", cores=2)
    assert load == {"load_avg": [0.5, 1.0, 3.0], "load_per_core_15m": 1.5, "uptime_days": 2.0,
                    "psi": {"cpu_some": {"avg10": 1.5, "avg60": 2.0, "avg300": 2.5}}}


@pytest.mark.parametrize("without_bash", [False, True])
def test_script_runs_under_posix_sh_here(tmp_path, without_bash):
    """The real script, run by dash/sh on this machine (read-only): every section present, and the
    sampler's pause works with bash's builtin `read -t` and with plain `sleep` when there is no bash."""
    import shutil
    import subprocess
    sh = shutil.which("dash") or shutil.which("sh")
    env = {"PATH": "/usr/bin:/bin"}
    script = d.standalone_script(0.3)
    if without_bash:       # what a host without bash runs: the `command -v bash` test fails
        script = script.replace("command -v bash >/dev/null 2>&1", "false")
    p = subprocess.run([sh, "-s"], input=script, capture_output=True, text=True, env=env, timeout=30)
    assert p.returncode == 0, p.stderr
    out, err = d.merge_sampler_output(p.stdout, p.stderr)
    assert "@@GOVCLOUD" not in err
    f = d.facts_from_output("local", out)
    assert "incomplete" not in f and f["cores"] >= 1 and f["ram_gb"] > 0
    u = f["utilization"]
    assert 2 <= u["samples"] <= 4 and 0.2 <= u["window_s"] <= 3 and "load_avg" in u, u


def test_audit_change_is_per_server_and_compact():
    f1 = {"os_distribution": "debian", "os_version": "12", "kernel": "6.1", "cores": 2, "ram_gb": 4.0,
          "listening": [{"proto": "tcp", "port": 22, "address": "0.0.0.0", "processes": ["sshd"]}],
          "databases": [], "cron": [], "services": {"init": "sysv", "installed": ["ssh"]},
          "utilization": {"cpu_p95_pct": 5.0}}
    prev = [{"source": "discovery:ssh", "server": "a", "facts": f1},
            {"source": "discovery:ssh", "server": "b", "facts": f1}]
    f2 = dict(f1, utilization={"cpu_p95_pct": 80.0})                     # only utilisation moved
    f3 = dict(f1, listening=f1["listening"] + [{"proto": "tcp", "port": 5432, "processes": ["postgres"]}],
              databases=[{"engine": "postgresql"}])
    before, after = d.audit_change(prev, [d.observation("a", f2), d.observation("b", f3), d.observation("c", f1)])
    assert after["unchanged"] == 1 and set(after["servers"]) == {"b", "c"}
    assert before["servers"]["c"] is None and after["servers"]["c"]["os"] == "debian 12"
    assert after["servers"]["b"]["listening"] == ["tcp/22", "tcp/5432"] and after["servers"]["b"]["databases"] == ["postgresql"]
    assert before["servers"]["b"]["listening"] == ["tcp/22"] and "kernel" not in after["servers"]["b"]
    assert after["servers"]["b"]["digest"] != before["servers"]["b"]["digest"]


def test_openssh_failures_classified_like_the_paramiko_driver():
    from govcloud.base.sshfail import classify_openssh as c
    assert c("Failed to connect to the host via ssh: @@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\n"
             "Host key verification failed.")[0] == "hostkey-changed"
    assert c("No ED25519 host key is known for 198.18.1.27 and you have requested strict checking.\n"
             "Host key verification failed.")[0] == "hostkey-unknown"
    assert c("govcloud@198.18.1.26: Permission denied (publickey).")[0] == "auth"
    assert c("Connection timed out during banner exchange")[0] == "timeout"
    kind, why = c("ssh: connect to host 198.18.1.99 port 22: Connection refused")
    assert kind == "connect" and "Connection refused" in why
    assert c("something else")[0] == "other"
