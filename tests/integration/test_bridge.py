"""harness/bridge makes a Nova server real: boot a server with a keypair, SSH to
its fixed IP with that key and strict host-key checking, delete the server,
and the address stops answering."""
from __future__ import annotations

import ipaddress
import socket
import subprocess
import uuid

import paramiko
import pytest

from integration_helpers import run_ssh, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.openstack, pytest.mark.hosts]


def _answers_ssh(addr: str) -> bool:
    try:
        with socket.create_connection((addr, 22), timeout=1) as s:
            return s.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def _known_line(known_hosts, addr):
    if not known_hosts.exists():
        return None
    for line in known_hosts.read_text().splitlines():
        if line.split(" ", 1)[0].split(",")[0] == addr:
            return line
    return None


def test_server_becomes_a_real_ssh_host_and_goes_away(bridged_cloud, tmp_path):
    c = bridged_cloud.cloud.member
    run = "it-br-" + uuid.uuid4().hex[:6]
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", run, "-f", str(key)], check=True)
    kp = c.compute.create_keypair(name=run, public_key=(tmp_path / "id_ed25519.pub").read_text().strip())
    server = None
    try:
        server = c.compute.create_server(
            name=f"{run}-web", flavor_id=c.compute.find_flavor("c2.m4").id,
            image_id=c.image.find_image("openEuler-22.03-LTS-x86_64").id, key_name=kp.name,
            networks=[{"uuid": c.network.find_network(bridged_cloud.network).id}])
        server = c.compute.wait_for_server(server, wait=180)
        addr = server.addresses[bridged_cloud.network][0]["addr"]
        assert ipaddress.ip_address(addr) in ipaddress.ip_network("198.19.0.0/16")

        # the bridge publishes the new host's key; clients keep strict checking
        line = wait_until(lambda: _known_line(bridged_cloud.known_hosts, addr), 90, 0.5,
                          f"host key of {addr} in {bridged_cloud.known_hosts}")
        host_key = " ".join(line.split(" ")[1:3])
        md = wait_until(lambda: c.compute.fetch_server_metadata(server).metadata.get("govcloud:ssh_host_key"),
                        30, 0.5, "host key in server metadata")
        assert md == host_key

        client = paramiko.SSHClient()
        client.load_host_keys(str(bridged_cloud.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(addr, username="govcloud", key_filename=str(key), look_for_keys=False,
                       allow_agent=False, timeout=20)
        try:
            rc, out, _ = run_ssh(client, "hostname; sudo -n id -u; ip -4 -o addr show eth0")
            hostname, uid, ipline = out.decode().splitlines()[:3]
            assert rc == 0 and hostname == f"{run}-web" and uid == "0" and f"{addr}/16" in ipline
            # the government cloud reaches the department rooms directly through the harness's
            # router (the e-gov extranet), and nothing else: no default route
            rc, out, _ = run_ssh(client, "ip -4 route; timeout 5 bash -c 'exec 3<>/dev/tcp/198.18.1.1/22; "
                                         "head -c 4 <&3'")
            routes = out.decode()
            assert rc == 0 and "198.18.0.0/16 via 198.19.0.254" in routes and "default" not in routes, routes
            assert routes.rstrip().endswith("SSH-"), routes
        finally:
            client.close()
        # provisioning continues with Ansible against the new server (strict host keys)
        ansible_runner = pytest.importorskip("ansible_runner")
        (tmp_path / "project").mkdir()
        (tmp_path / "project" / "site.yml").write_text(
            "- hosts: all\n  become: true\n  tasks:\n"
            "    - copy: {dest: /etc/govcloud-provisioned, content: \"{{ inventory_hostname }}\\n\"}\n")
        (tmp_path / "inventory.ini").write_text(
            f"{run}-web ansible_host={addr} ansible_user=govcloud ansible_python_interpreter=/usr/bin/python3 "
            f"ansible_ssh_private_key_file={key} "
            f"ansible_ssh_common_args='-o StrictHostKeyChecking=yes -o UserKnownHostsFile={bridged_cloud.known_hosts}'\n")
        r = ansible_runner.run(private_data_dir=str(tmp_path), playbook="site.yml",
                               inventory=str(tmp_path / "inventory.ini"), quiet=True,
                               envvars={"ANSIBLE_HOST_KEY_CHECKING": "True"})
        assert r.status == "successful" and r.stats["changed"] == {f"{run}-web": 1}, (r.status, r.stats)
        client = paramiko.SSHClient()
        client.load_host_keys(str(bridged_cloud.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(addr, username="root", key_filename=str(key), look_for_keys=False,
                       allow_agent=False, timeout=20)
        try:
            assert run_ssh(client, "cat /etc/govcloud-provisioned")[1].decode() == f"{run}-web\n"
        finally:
            client.close()

        # only the server's keypair is authorised
        wrong = tmp_path / "wrong"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
        bad = paramiko.SSHClient()
        bad.load_host_keys(str(bridged_cloud.known_hosts))
        bad.set_missing_host_key_policy(paramiko.RejectPolicy())
        with pytest.raises(paramiko.AuthenticationException):
            bad.connect(addr, username="govcloud", key_filename=str(wrong), look_for_keys=False,
                        allow_agent=False, timeout=20)
        bad.close()

        c.compute.delete_server(server)
        c.compute.wait_for_delete(server, wait=120)
        server = None
        wait_until(lambda: not _answers_ssh(addr), 60, 0.5, f"{addr} to stop answering")
        wait_until(lambda: _known_line(bridged_cloud.known_hosts, addr) is None, 30, 0.5,
                   f"{addr} removed from known_hosts")
    finally:
        if server is not None:
            c.compute.delete_server(server, ignore_missing=True)
        c.compute.delete_keypair(kp, ignore_missing=True)
