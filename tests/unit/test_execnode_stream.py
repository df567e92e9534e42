"""The execution-node driver (drivers/execnode.py): ansible-runner's streaming mode end to end —
transmit on the "control node", ``ansible-runner worker`` as the node (here a local process in
place of the SSH transport), process back — and the job layout: known_hosts files carried in
the job with the inventory's paths rewritten, controller-only environment never sent, the worker
command quoted, the stream's size measured."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from govcloud.drivers.execnode import Node, node_envvars, prepare_job, run_on_node, ssh_argv, worker_command

RUNNER = str(Path(sys.executable).parent / "ansible-runner")

PLAY = """\
- hosts: local
  gather_facts: false
  tasks:
    - name: say
      ansible.builtin.debug:
        msg: "node says {{ greeting }} from {{ lookup('env', 'GC_PROBE') | default('-', true) }}"
    - name: where
      ansible.builtin.command: pwd
      changed_when: true
"""


def _node(tmp: Path, **kw) -> Node:
    return Node(id="node-a", address="198.18.1.68", user="govcloud", known_hosts=tmp / "kh",
                runner=RUNNER, work_dir=str(tmp / "node-work"), **kw)


def _local(node: Node, remote: str) -> list[str]:
    # the SSH transport replaced by the remote command itself, run here: the worker reads the
    # stream on stdin and writes events on stdout exactly as over ssh
    return ["sh", "-c", remote]


def _project(tmp: Path) -> Path:
    d = tmp / "playbooks"
    (d / "roles").mkdir(parents=True)
    (d / "play.yml").write_text(PLAY)
    return d / "play.yml"


def _inventory(kh: Path) -> dict:
    return {"all": {"children": {"local": {"hosts": {"n1": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "ansible_ssh_common_args": f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={shlex.quote(str(kh))}"}}}}}}


def test_a_playbook_streams_through_the_worker_and_back(tmp_path):
    kh = tmp_path / "src known"
    kh.write_text("198.18.1.69 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq\n")
    node = _node(tmp_path)
    seen = []
    run = run_on_node(node, _project(tmp_path), _inventory(kh), private_data_dir=tmp_path / "pdd", limit=None,
                      extravars={"greeting": "{{ lookup('pipe', 'id') }}"}, check=False, timeout=120, forks=2,
                      envvars={"SSH_AUTH_SOCK": "/controller/agent.sock", "GC_PROBE": "env-sent"},
                      on_task=lambda h, t: seen.append((h, t)), ssh=_local)
    assert run.ok, (run.status, run.rc, run.failed_tasks, run.node)
    # extravars stayed data (!unsafe): the Jinja in them was not run; the env reached the node
    assert run.messages["n1"] == ["node says {{ lookup('pipe', 'id') }} from env-sent"]
    assert run.changed_tasks == {"n1": ["where"]} and run.stats["changed"] == {"n1": 1}
    assert ("n1", "say") in seen
    # the artefacts came back like a local run's (events, rc, status), the job dir on the node is gone
    art = Path(run.artifact_dir)
    assert (art / "rc").read_text().strip() == "0" and (art / "status").read_text().strip() == "successful"
    assert any(json.loads(p.read_text()).get("event") == "playbook_on_stats" for p in (art / "job_events").glob("*.json"))
    assert not any((tmp_path / "node-work").glob("*/project"))
    assert run.node["id"] == "node-a" and run.node["sent"] > 1000 and run.node["received"] > 1000


def test_a_failing_task_is_reported_as_locally(tmp_path):
    node = _node(tmp_path)
    pb = _project(tmp_path)
    pb.write_text("- hosts: local\n  gather_facts: false\n  tasks:\n    - name: boom\n"
                  "      ansible.builtin.fail: {msg: broken on the node}\n")
    run = run_on_node(node, pb, _inventory(tmp_path / "kh"), private_data_dir=tmp_path / "pdd", limit=None,
                      extravars={}, check=False, timeout=120, forks=2, envvars={}, ssh=_local)
    assert not run.ok and run.rc != 0 and run.status == "failed"
    assert run.failed_tasks == {"n1": ["boom: broken on the node"]}


def test_an_unreachable_node_is_a_failed_run_naming_it(tmp_path):
    node = _node(tmp_path)
    run = run_on_node(node, _project(tmp_path), _inventory(tmp_path / "kh"), private_data_dir=tmp_path / "pdd",
                      limit=None, extravars={}, check=False, timeout=60, forks=2, envvars={},
                      ssh=lambda n, r: ["sh", "-c", "echo 'ssh: connect to host 198.18.1.68 port 22: No route' >&2; exit 255"])
    assert not run.ok and run.rc != 0
    assert run.node["ssh_rc"] == 255
    msg = run.failed_tasks["node-a"][0]
    assert "execution node node-a (198.18.1.68)" in msg and "No route" in msg


def test_the_job_carries_known_hosts_and_rewrites_their_paths(tmp_path):
    a, b = tmp_path / "a hosts", tmp_path / "b"
    a.write_text("A-KEY\n")
    b.write_text("B-KEY\n")
    inv = {"all": {"children": {
        "source": {"hosts": {"s": {"ansible_ssh_common_args": f"-o UserKnownHostsFile={shlex.quote(str(a))} -o X=1"}}},
        "target": {"hosts": {"t": {"ansible_ssh_common_args": f"-o UserKnownHostsFile={b}",
                                   "govcloud_source_known_hosts": "kept as it is"}}}}}}
    node = _node(tmp_path)
    rel, out = prepare_job(tmp_path / "pdd", _project(tmp_path), inv, node, "0" * 32)
    assert rel == "play.yml" and (tmp_path / "pdd" / "project" / "play.yml").is_file()
    s = out["all"]["children"]["source"]["hosts"]["s"]["ansible_ssh_common_args"]
    t = out["all"]["children"]["target"]["hosts"]["t"]["ansible_ssh_common_args"]
    remote = f"{node.work_dir}/{'0' * 32}/known_hosts/"
    assert s == f"-o UserKnownHostsFile={remote}k0 -o X=1" and t == f"-o UserKnownHostsFile={remote}k1"
    assert (tmp_path / "pdd" / "known_hosts" / "k0").read_text() == "A-KEY\n"
    assert (tmp_path / "pdd" / "known_hosts" / "k1").read_text() == "B-KEY\n"
    assert out["all"]["children"]["target"]["hosts"]["t"]["govcloud_source_known_hosts"] == "kept as it is"
    assert "UserKnownHostsFile=" + str(a) in inv["all"]["children"]["source"]["hosts"]["s"]["ansible_ssh_common_args"] \
        or shlex.quote(str(a)) in inv["all"]["children"]["source"]["hosts"]["s"]["ansible_ssh_common_args"]


def test_controller_only_environment_is_not_sent(tmp_path):
    node = _node(tmp_path)
    env = node_envvars({"SSH_AUTH_SOCK": "/tmp/x/agent.sock", "PATH": "/home/op/.venv/bin",
                        "ANSIBLE_SSH_CONTROL_PATH_DIR": "/tmp/gc-cp-1", "ANSIBLE_SSH_ARGS": "-o A=b"}, node, "f" * 32)
    assert "SSH_AUTH_SOCK" not in env
    assert env["PATH"].split(":")[0] == str(Path(RUNNER).parent)
    assert env["ANSIBLE_SSH_CONTROL_PATH_DIR"] == f"{node.work_dir}/{'f' * 32}/cp"
    assert env["ANSIBLE_SSH_ARGS"] == "-o A=b"


def test_ssh_and_worker_command(tmp_path):
    node = Node(id="n", address="198.18.1.68", user="govcloud", known_hosts=tmp_path / "kh", port=2222,
                runner="/opt/govcloud-node/bin/ansible-runner", work_dir="/var/tmp/govcloud-node")
    argv = ssh_argv(node)
    assert argv[0] == "ssh" and argv[-1] == "198.18.1.68"
    assert "StrictHostKeyChecking=yes" in argv and f"UserKnownHostsFile={tmp_path / 'kh'}" in argv
    assert "ForwardAgent=yes" in argv and "BatchMode=yes" in argv and argv[argv.index("-p") + 1] == "2222"
    cmd = worker_command(node, "a" * 32)
    assert cmd.startswith(f"d=/var/tmp/govcloud-node/{'a' * 32}; gc_end() {{ pkill -KILL -f -- ")
    assert "trap 'gc_end; exit 129' HUP TERM; /opt/govcloud-node/bin/ansible-runner worker --private-data-dir " \
           '"$d" --delete --keepalive-seconds 15; rc=$?; gc_end; exit $rc' in cmd
    odd = Node(id="n", address="a", user="u", known_hosts=tmp_path, runner="/opt/a b/bin/ansible-runner",
               work_dir="/var/tmp/x'y")
    assert shlex.split(worker_command(odd, "b" * 32))[0] == f"d=/var/tmp/x'y/{'b' * 32};"
    with pytest.raises(ValueError):
        worker_command(node, "../../etc; rm -rf /")
