"""The migration playbooks on real test hosts (no mocks): h40 runs the sample workload (nginx +
PostgreSQL + data directory) and is the source, h41 a plain host standing in for the new cloud
server (in the end-to-end tests it is a Nova server made real by harness/bridge — same playbooks),
h42 a client holding the cutover record.  The runner inventory is built exactly as the orchestrator
builds it: the target's SSH connection carries the reverse tunnel to its source and the forwarded
agent (this module pins the tunnel path: govcloud_sync_route=tunnel); the key lives only in an ssh-agent.

Every playbook run is wrapped by a fingerprint of the source's data trees (contents, modes, owners,
link counts, mtimes, xattrs/ACLs): the playbooks never change them.  Hosts h40-h47 are reserved for
migration tests."""
from __future__ import annotations

import json
import re
import shlex
import threading
import time
import urllib.request

import pytest
import yaml

from integration_helpers import wait_until
from govcloud.drivers.ansible import run_playbook
from migrate_helpers import PLAYBOOKS, Migration, known_line, ssh, sudo_py, tree_hash

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT, CLI = "h40", "h41", "h42"
ADDR = {SRC: "198.18.1.40", TGT: "198.18.1.41", CLI: "198.18.1.42"}
TREES = ["/srv/govapp", "/etc/nginx/sites-enabled"]
RECORD = "govapp.gov.test"
EXTRAVARS = {
    "govcloud_plan_id": "it-migrate-roles", "govcloud_system_id": "govapp",
    "govcloud_data_paths": TREES,
    "govcloud_services": [{"name": "nginx", "port": 80, "health_path": "/api/stats.json"},
                          {"name": "postgresql", "port": 5432, "health_path": None}],
    "govcloud_databases": [{"engine": "postgresql", "name": "govapp"}],
    "govcloud_cutover_record": {"name": RECORD, "kind": "hosts", "clients": [CLI]},
    "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
    "govcloud_apply_baseline": False,
    # this module tests the reverse tunnel through the controller (the fallback path: h41 would reach
    # h40 directly); the direct path is tested by test_datapath and the end-to-end tests
    "govcloud_sync_route": "tunnel",
}

# metadata rsync must keep: numeric owner without a passwd entry, mode, user xattr, POSIX ACL
# (system.posix_acl_access: user 1234 read), hardlinks, symlink, non-ASCII name, odd dir mode
SETUP_META = r"""
import os, struct
d = '/srv/govapp/data/meta'
os.makedirs(d + '/private', exist_ok=True); os.chmod(d + '/private', 0o710)
p = d + '/owned.txt'; open(p, 'w').write('owned by 1234:5678\n'); os.chown(p, 1234, 5678); os.chmod(p, 0o640)
p = d + '/xattr.txt'; open(p, 'w').write('with xattr\n'); os.setxattr(p, 'user.govcloud.class', b'internal')
p = d + '/acl.txt'; open(p, 'w').write('with acl\n'); os.chmod(p, 0o640)
ents = [(1, 6, 0xffffffff), (2, 4, 1234), (4, 4, 0xffffffff), (0x10, 4, 0xffffffff), (0x20, 0, 0xffffffff)]
os.setxattr(p, 'system.posix_acl_access', struct.pack('<I', 2) + b''.join(struct.pack('<HHI', *e) for e in ents))
p = d + '/hard-a.bin'; open(p, 'wb').write(os.urandom(5000))
if not os.path.exists(d + '/hard-b.bin'): os.link(p, d + '/hard-b.bin')
if not os.path.lexists(d + '/latest'): os.symlink('hard-a.bin', d + '/latest')
open(d + '/政务-说明.txt', 'w').write('中文文件名\n')
open(d + '/private/secret.txt', 'w').write('x\n')
"""


def _msgs(r, host) -> str:
    return "\n".join(r.messages.get(host, []))


def _failed(r) -> str:
    return json.dumps(r.failed_tasks, ensure_ascii=False)


def _init_running(host: str, svc: str) -> bool:
    return ssh(host, f"sudo -n /etc/init.d/{svc} status", check=False).returncode == 0


def _http(addr: str, path: str = "/api/stats.json") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{addr}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode()
    except OSError as e:
        return -1, str(e)


def _psql(host: str, sql: str) -> str:
    return ssh(host, "cd / && sudo -n -u postgres psql -XqAt -d govapp -c " + shlex.quote(sql)).stdout.decode().strip()


def _seconds(msg: str) -> float:
    h, m, s = re.search(r"in (\d+):(\d+):([\d.]+)", msg).groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


@pytest.fixture(scope="module")
def mig(test_hosts, tmp_path_factory):
    m = Migration(tmp_path_factory.mktemp("migrate-roles"), SRC, TGT, CLI, ADDR, TREES, EXTRAVARS)
    try:
        # clean slate: target without workload, client without record, source with the sample workload
        ssh(TGT, "sudo -n sh -c '/etc/init.d/nginx stop; if /etc/init.d/postgresql status >/dev/null; then "
                 "cd / && runuser -u postgres -- psql -qc \"drop database if exists govapp\" -c \"drop role if exists govapp\"; fi; "
                 "/etc/init.d/postgresql stop; rm -rf /srv/govapp /srv/govtest-bw /var/lib/govcloud' >/dev/null 2>&1; true")
        ssh(CLI, f"sudo -n sed -i '/{RECORD}/d' /etc/hosts")
        ssh(SRC, "sudo -n rm -rf /srv/govapp/data/meta /srv/govapp/data/test-* /srv/govtest-bw")
        # the source only: sample_workload.yml is for all hosts, and a target holding its own copy (same
        # sizes, same second) hid an rsync quick-check gap - see --modify-window in govcloud_sync
        r = m.play("sample_workload", source_may_change=True, limit=SRC, govcloud_data_paths=[])
        assert r.ok, _failed(r)
        _psql(SRC, "delete from department where code = 'it'")
        sudo_py(SRC, SETUP_META)
        yield m
    finally:
        m.agent.stop()


def test_precheck_reports_sizes_and_refuses_unknown_paths(mig):
    r = mig.play("migrate_precheck")
    assert r.ok, _failed(r)
    src = _msgs(r, SRC)
    assert re.search(r"data \d+ bytes in \d+ files \(/srv/govapp=\d+", src), src
    assert re.search(r"postgresql/govapp=\d+", src) and "running ['nginx', 'postgresql']" in src, src
    assert "source reachable through the tunnel" in _msgs(r, TGT)
    assert r.changed(SRC) == 0
    # auto (the default): h41 reaches h40 on the network, so the precheck says so
    auto = mig.play("migrate_precheck", govcloud_sync_route="auto")
    assert auto.ok, _failed(auto)
    assert "source reachable directly" in _msgs(auto, TGT), _msgs(auto, TGT)

    bad = mig.play("migrate_precheck", govcloud_data_paths=TREES + ["/srv/nope"],
                   govcloud_services=EXTRAVARS["govcloud_services"] + [{"name": "nosuchd", "port": None, "health_path": None}])
    assert not bad.ok
    assert "/srv/nope" in _failed(bad) and "service nosuchd" in _failed(bad)

    # a target given the wrong host key for its source refuses the connection, and says why
    doc = yaml.safe_load(mig.inventory.read_text())
    doc["all"]["children"]["target"]["hosts"][TGT]["govcloud_source_known_hosts"] = known_line("198.18.1.43")
    wrong = mig.tmp / "wrong-key-inventory.yml"
    wrong.write_text(yaml.safe_dump(doc, allow_unicode=True))
    r = run_playbook(PLAYBOOKS / "migrate_precheck.yml", wrong, extravars=EXTRAVARS, envvars=mig.agent.envvars,
                     private_data_dir=mig.tmp / "run-wrong-key")
    assert not r.ok
    assert "cannot reach its source h40 through the reverse tunnel" in _failed(r)
    assert "Host key verification failed" in _failed(r) or "REMOTE HOST IDENTIFICATION HAS CHANGED" in _failed(r), _failed(r)


def test_initial_sync_keeps_owners_modes_xattrs_acls_links_and_copies_the_database(mig):
    r = mig.play("migrate_configure")
    assert r.ok, _failed(r)
    r = mig.play("migrate_sync", govcloud_sync_mode="initial")
    assert r.ok, _failed(r)
    assert r.changed(TGT) > 0 and r.changed(SRC) == 0
    msgs = _msgs(r, TGT)
    assert "sync initial h40 -> h41 /srv/govapp:" in msgs
    assert "db postgresql/govapp h40 -> h41: restored, 2 tables, source 1212 rows, target 1212 rows" in msgs
    assert "row counts equal" in msgs
    # the whole trees, metadata included, are identical (the hash covers modes, owners, link counts,
    # mtimes, contents, all xattrs incl. ACLs)
    assert tree_hash(TGT, *TREES) == tree_hash(SRC, *TREES)
    st = ssh(TGT, "cd /srv/govapp/data/meta && sudo -n stat -c '%n %u:%g %a %i %h' owned.txt hard-a.bin hard-b.bin private"
             ).stdout.decode().split("\n")
    assert st[0].split()[1:3] == ["1234:5678", "640"]
    assert st[1].split()[3] == st[2].split()[3] and st[1].split()[4] == "2"      # still one inode, 2 links
    assert st[3].split()[2] == "710"
    got = sudo_py(TGT, "import os; p='/srv/govapp/data/meta/'; print(os.getxattr(p+'xattr.txt','user.govcloud.class').decode(), "
                       "len(os.getxattr(p+'acl.txt','system.posix_acl_access')), os.readlink(p+'latest'))")
    assert got.split() == ["internal", "44", "hard-a.bin"]
    assert _psql(TGT, "select count(*) from service_item") == "1200"
    assert _psql(TGT, "select name from department where code = 'sjj'") == "数据资源管理局"


def test_delta_sync_brings_changes_and_a_rerun_changes_nothing(mig):
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    assert r.changed() == 0, r.changed_tasks            # nothing new on the source: nothing at all
    assert "restored" not in _msgs(r, TGT) and "0 changes" in _msgs(r, TGT)

    # the application keeps working on the source: a new file, a changed file, a removed file, a new row
    ssh(SRC, "sudo -n sh -c 'echo new > /srv/govapp/data/test-new.txt; chown 33:33 /srv/govapp/data/test-new.txt; "
             "echo changed >> /srv/govapp/data/attachment-2.bin; rm /srv/govapp/data/meta/政务-说明.txt'")
    _psql(SRC, "insert into department values ('it', '集成测试局')")
    # --check (the orchestrator's dry-run): rsync --dry-run says what would change; nothing changes
    r = mig.play("migrate_sync", govcloud_sync_mode="delta", check=True)
    assert r.ok, _failed(r)
    assert re.search(r"\(check\) sync delta h40 -> h41 /srv/govapp: [1-9]\d* changes \(1 deleted\)", _msgs(r, TGT))
    assert "not dumped (check mode)" in _msgs(r, TGT)
    assert ssh(TGT, "sudo -n test -e /srv/govapp/data/test-new.txt", check=False).returncode == 1
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT)
    assert re.search(r"/srv/govapp: [1-9]\d* changes \(1 deleted\)", msgs), msgs
    assert "restored" in msgs and "source 1213 rows, target 1213 rows" in msgs
    assert ssh(TGT, "sudo -n cat /srv/govapp/data/test-new.txt").stdout == b"new\n"
    assert tree_hash(TGT, *TREES) == tree_hash(SRC, *TREES)
    assert _psql(TGT, "select name from department where code = 'it'") == "集成测试局"

    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert r.ok and r.changed() == 0, r.changed_tasks


def test_bandwidth_limit_is_honoured(mig):
    ssh(SRC, "sudo -n sh -c 'mkdir -p /srv/govtest-bw && head -c 3145728 /dev/urandom > /srv/govtest-bw/blob1'")
    only_bw = {"govcloud_data_paths": ["/srv/govtest-bw"], "govcloud_databases": []}
    r = mig.play("migrate_sync", **only_bw, govcloud_bwlimit_kbps=0)
    assert r.ok, _failed(r)
    free = _seconds(_msgs(r, TGT))
    ssh(SRC, "sudo -n sh -c 'head -c 3145728 /dev/urandom > /srv/govtest-bw/blob2'")
    r = mig.play("migrate_sync", **only_bw, govcloud_bwlimit_kbps=1024)      # 3 MiB at 1 MiB/s
    assert r.ok, _failed(r)
    limited = _seconds(_msgs(r, TGT))
    assert 2.4 <= limited <= 12, f"3 MiB at --bwlimit=1024 took {limited:.1f}s (unlimited: {free:.1f}s)"
    assert limited > 1.5 * free, f"limited {limited:.1f}s vs unlimited {free:.1f}s"


def test_sync_survives_a_dropped_ssh_connection(mig):
    """The inner ssh (target -> source through the tunnel) is killed mid-transfer: rsync fails with a
    connection error, the role retries, the data arrives complete."""
    ssh(SRC, "sudo -n sh -c 'mkdir -p /srv/govtest-bw && head -c 4194304 /dev/urandom > /srv/govtest-bw/blob3'")
    port = 22000 + int(ADDR[TGT].rsplit(".", 1)[1])
    result = {}
    t = threading.Thread(target=lambda: result.update(r=mig.play(
        "migrate_sync", govcloud_data_paths=["/srv/govtest-bw"], govcloud_databases=[], govcloud_bwlimit_kbps=512,
        govcloud_sync_retry_delay=2)))
    t.start()
    pid = wait_until(lambda: ssh(TGT, f"pgrep -f '^ssh -p {port} .*--server --sender' | head -1", check=False).stdout.decode().strip(),
                     120, 0.3, "the inner ssh of the rsync on the target")
    time.sleep(2)                                   # mid-transfer: 4 MiB at 512 KiB/s takes ~8 s
    ssh(TGT, f"sudo -n kill -9 {int(pid)}")        # the ssh our playbook started, by pid
    t.join(300)
    r = result["r"]
    assert r.ok, _failed(r)
    assert re.search(r"after [2-9] attempts \(connection lost, retried\)", _msgs(r, TGT)), _msgs(r, TGT)
    assert tree_hash(TGT, "/srv/govtest-bw").split()[0] == tree_hash(SRC, "/srv/govtest-bw").split()[0]


def test_cutover_moves_service_and_record_and_verify_passes(mig):
    r = mig.play("migrate_cutover")
    assert r.ok, _failed(r)
    assert not _init_running(SRC, "nginx") and not _init_running(SRC, "postgresql")
    assert _init_running(TGT, "nginx") and _init_running(TGT, "postgresql")
    status, body = _http(ADDR[TGT])
    assert status == 200 and json.loads(body)["service_items"] == 1200
    assert ssh(CLI, f"getent hosts {RECORD}").stdout.decode().split()[0] == ADDR[TGT]
    assert "record govapp.gov.test on h42 -> 198.18.1.41 (changed)" in _msgs(r, CLI)

    r = mig.play("migrate_verify")
    assert r.ok, _failed(r)
    msgs = _msgs(r, TGT)
    assert "verify h40 -> h41: OK" in msgs and "health 200: http://127.0.0.1:80/api/stats.json" in msgs

    # once the target serves, a sync from the source would overwrite its writes: refused
    r = mig.play("migrate_sync", govcloud_sync_mode="delta")
    assert not r.ok and "was cut over" in _failed(r)


def test_verify_fails_naming_a_corrupted_file(mig):
    ssh(TGT, "sudo -n sh -c 'printf X >> /srv/govapp/data/attachment-3.bin; chmod 600 /srv/govapp/data/README.txt; "
             "touch /srv/govapp/data/stray.tmp'")
    r = mig.play("migrate_verify")
    assert not r.ok
    failed = _failed(r)
    assert "/srv/govapp/data/attachment-3.bin: content, size, mtime differ" in failed, failed
    assert "/srv/govapp/data/README.txt: mode differ" in failed, failed
    assert "/srv/govapp/data/stray.tmp: only on the target" in failed, failed
    assert "attachment-4.bin" not in failed


def test_rollback_restarts_the_source_and_switches_the_record_back(mig):
    r = mig.play("migrate_rollback")
    assert r.ok, _failed(r)
    assert _init_running(SRC, "nginx") and _init_running(SRC, "postgresql")
    assert _http(ADDR[SRC])[0] == 200
    assert not _init_running(TGT, "nginx")
    assert ssh(CLI, f"getent hosts {RECORD}").stdout.decode().split()[0] == ADDR[SRC]
    assert _psql(SRC, "select count(*) from department") == "13"
    r = mig.play("migrate_rollback")                       # again: nothing to do
    assert r.ok and r.changed() == 0, r.changed_tasks
