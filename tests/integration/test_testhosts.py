"""The SSH test hosts (harness/hosts) work the way govcloud will use them:
Ansible through ansible-runner, paramiko with strict host keys, rsync
host-to-host, PostgreSQL dump/restore across hosts.  Real hosts, no mocks."""
from __future__ import annotations

import ipaddress
import json
import secrets
import shutil

import paramiko
import pytest

from integration_helpers import parallel, run_ssh

pytestmark = [pytest.mark.integration, pytest.mark.hosts]


def test_generated_files_describe_distinct_reachable_hosts(test_hosts):
    hosts = test_hosts.hosts
    assert len(hosts) >= 50
    net = ipaddress.ip_network("198.18.0.0/15")
    assert all(ipaddress.ip_address(h["addr"]) in net for h in hosts)
    assert len({h["addr"] for h in hosts}) == len(hosts)
    # every host has its own host key, and known_hosts has exactly those
    keys = [h["host_key"] for h in hosts]
    assert len(set(keys)) == len(keys)
    kh = test_hosts.known_hosts.read_text().splitlines()
    assert len(kh) == len(hosts)
    for line, h in zip(kh, hosts):
        names, key = line.split(" ", 1)
        assert names == f"{h['addr']},{h['name']}" and key == h["host_key"]
    ini = test_hosts.inventory_ini.read_text()
    assert "[testhosts]" in ini and "[webapp]" in ini
    yml = json.loads(test_hosts.inventory_yml.read_text())
    assert set(yml["all"]["children"]["testhosts"]["hosts"]) == {h["name"] for h in hosts}
    assert set(yml["all"]["children"]["webapp"]["hosts"]) == {h["name"] for h in test_hosts.by_role("webapp")}


def test_ansible_ping_and_facts_on_10_hosts(test_hosts, tmp_path):
    ansible_runner = pytest.importorskip("ansible_runner")
    assert shutil.which("ansible-playbook"), "ansible-playbook not on PATH (pip install ansible-core)"
    targets = test_hosts.plain()[:10]
    assert len(targets) == 10
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "site.yml").write_text("""
- hosts: all
  gather_facts: true
  tasks:
    - ping:
    - name: record facts on the host itself
      become: true
      copy:
        dest: /root/facts.txt
        content: "{{ ansible_hostname }} {{ ansible_distribution }} {{ ansible_distribution_major_version }}\\n"
""")
    r = ansible_runner.run(private_data_dir=str(tmp_path), playbook="site.yml",
                           inventory=str(test_hosts.inventory_ini),
                           limit=",".join(h["name"] for h in targets),
                           forks=10, quiet=True,
                           envvars={"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PIPELINING": "True"})
    assert r.status == "successful", (r.status, r.rc, r.stats)
    assert set(r.stats["ok"]) == {h["name"] for h in targets}
    assert not r.stats["failures"] and not r.stats["dark"]
    facts = {}
    for ev in r.events:
        d = ev.get("event_data", {})
        if ev.get("event") == "runner_on_ok" and "ansible_facts" in d.get("res", {}):
            f = d["res"]["ansible_facts"]
            if "ansible_hostname" in f:
                facts[d["host"]] = f
    assert set(facts) == {h["name"] for h in targets}
    for h in targets:
        f = facts[h["name"]]
        assert f["ansible_hostname"] == h["name"]
        assert f["ansible_distribution"] == "Debian" and f["ansible_distribution_major_version"] == "12"
        assert h["addr"] in f["ansible_all_ipv4_addresses"]
    # the change really happened on the host (read back over SSH as root)
    c = test_hosts.client(targets[0], user="root")
    try:
        rc, out, _ = run_ssh(c, "cat /root/facts.txt")
        assert rc == 0 and out.decode().strip() == f"{targets[0]['name']} Debian 12"
    finally:
        c.close()


def test_paramiko_50_hosts_with_strict_host_keys(test_hosts):
    hosts = test_hosts.hosts[:50]
    assert len(hosts) == 50

    def probe(h):
        c = test_hosts.client(h)
        try:
            rc, out, _ = run_ssh(c, "hostname; sudo -n id -u; python3 -c 'print(1+1)'; rsync --version | head -1")
            return h["name"], rc, out.decode().split("\n")
        finally:
            c.close()

    results = parallel(probe, hosts, workers=25)
    for name, rc, lines in results:
        assert rc == 0, name
        assert lines[0] == name and lines[1] == "0" and lines[2] == "2" and lines[3].startswith("rsync")


def test_strict_host_key_checking_rejects_unknown_and_wrong_keys(test_hosts, tmp_path):
    h1, h2 = test_hosts.hosts[0], test_hosts.hosts[1]
    # unknown host: not in known_hosts -> RejectPolicy refuses
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException):
        c.connect(h1["addr"], username="govcloud", key_filename=str(test_hosts.key),
                  look_for_keys=False, allow_agent=False, timeout=10)
    c.close()
    # wrong key: h2's key recorded for h1's address -> BadHostKeyException
    bad = tmp_path / "known_hosts"
    bad.write_text(f"{h1['addr']} {h2['host_key']}\n")
    c = paramiko.SSHClient()
    c.load_host_keys(str(bad))
    c.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.BadHostKeyException):
        c.connect(h1["addr"], username="govcloud", key_filename=str(test_hosts.key),
                  look_for_keys=False, allow_agent=False, timeout=10)
    c.close()


def test_key_only_login(test_hosts):
    h = test_hosts.hosts[0]
    t = paramiko.Transport((h["addr"], 22))
    try:
        t.start_client(timeout=10)
        with pytest.raises(paramiko.AuthenticationException):
            t.auth_password("govcloud", "govcloud")
    finally:
        t.close()


def test_rsync_data_directory_between_hosts(test_hosts):
    """The webapp's data directory is copied h(webapp) -> h(plain) by rsync over ssh,
    run on the source host with strict host-key checking; checksums must match."""
    src, dst = test_hosts.by_role("webapp")[0], test_hosts.plain()[-1]
    tag = secrets.token_hex(4)
    dest_dir = f"/home/govcloud/govapp-data-{tag}"
    cs, cd = test_hosts.client(src), test_hosts.client(dst)
    try:
        # a transfer key made on the source host, authorised on the destination
        rc, _, err = run_ssh(cs, f"ssh-keygen -q -t ed25519 -N '' -C xfer-{tag} -f ~/.ssh/xfer-{tag}")
        assert rc == 0, err
        _, pub, _ = run_ssh(cs, f"cat ~/.ssh/xfer-{tag}.pub")
        rc, _, err = run_ssh(cd, "cat >> ~/.ssh/authorized_keys", stdin=pub)
        assert rc == 0, err
        rc, _, err = run_ssh(cs, f"cat > ~/.ssh/known_hosts-{tag}", stdin=test_hosts.known_hosts.read_bytes())
        assert rc == 0, err
        rc, out, err = run_ssh(
            cs, f"rsync -a --stats -e 'ssh -i ~/.ssh/xfer-{tag} -o IdentitiesOnly=yes -o BatchMode=yes "
                f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile=~/.ssh/known_hosts-{tag}' "
                f"/srv/govapp/data/ govcloud@{dst['addr']}:{dest_dir}/")
        assert rc == 0, err.decode()
        checksum = "cd {} && find . -type f -print0 | sort -z | xargs -0 sha256sum"
        rc1, a, _ = run_ssh(cs, checksum.format("/srv/govapp/data"))
        rc2, b, _ = run_ssh(cd, checksum.format(dest_dir))
        assert rc1 == 0 and rc2 == 0
        files = a.decode().splitlines()
        assert len(files) >= 25, files   # 24 attachments + README + report
        assert a == b
    finally:
        run_ssh(cd, f"rm -rf {dest_dir}; sed -i '/xfer-{tag}$/d' ~/.ssh/authorized_keys")
        run_ssh(cs, f"rm -f ~/.ssh/xfer-{tag} ~/.ssh/xfer-{tag}.pub ~/.ssh/known_hosts-{tag}")
        cs.close()
        cd.close()


def test_webapp_role_serves_its_database(test_hosts):
    for h in test_hosts.by_role("webapp"):
        c = test_hosts.client(h)
        try:
            rc, out, _ = run_ssh(c, "curl -sf http://127.0.0.1/api/stats.json")
            assert rc == 0
            stats = json.loads(out)
            assert stats == {"host": h["name"], "departments": 12, "service_items": 1200}
        finally:
            c.close()


def test_postgresql_dump_on_one_host_restores_on_another(test_hosts):
    a, b = test_hosts.by_role("webapp")[:2]
    db = f"restored_{secrets.token_hex(4)}"
    fingerprint = ("select count(*), md5(string_agg(id || '|' || dept_code || '|' || name || '|' || category"
                   " || '|' || online || '|' || updated_at, ',' order by id)) from service_item")
    ca, cb = test_hosts.client(a), test_hosts.client(b)
    try:
        rc, dump, err = run_ssh(ca, "sudo -n -u postgres pg_dump -Fc govapp")
        assert rc == 0 and dump.startswith(b"PGDMP"), err
        rc, out, _ = run_ssh(cb, f"sudo -n -u postgres psql -qAt -c \"select 1 from pg_database where datname='{db}'\"")
        assert rc == 0 and out.strip() == b""           # target does not exist yet
        rc, _, err = run_ssh(cb, f"sudo -n -u postgres createdb {db}")
        assert rc == 0, err
        rc, _, err = run_ssh(cb, f"sudo -n -u postgres pg_restore --no-owner -d {db}", stdin=dump)
        assert rc == 0, err.decode()
        counts = {}
        for host, client, name in ((a, ca, "govapp"), (b, cb, db)):
            rc, out, err = run_ssh(client, f"sudo -n -u postgres psql -qAt -d {name} -c \"{fingerprint}\"")
            assert rc == 0, err
            rc2, dep, _ = run_ssh(client, f"sudo -n -u postgres psql -qAt -d {name} -c 'select count(*) from department'")
            counts[host["name"]] = (out.decode().strip(), dep.decode().strip())
        (src_items, src_depts), (dst_items, dst_depts) = counts[a["name"]], counts[b["name"]]
        assert src_items.startswith("1200|") and src_depts == "12"
        assert (dst_items, dst_depts) == (src_items, src_depts)
    finally:
        run_ssh(cb, f"sudo -n -u postgres dropdb --if-exists {db}")
        ca.close()
        cb.close()
