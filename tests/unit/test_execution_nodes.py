"""Execution nodes in the inventory (``execution_nodes``): loaded and validated with file, line and
field like every record; which node serves a system (its target zone first, else its department);
the playbook port runs a served system's playbooks there and every other system's here; the
node's install script quotes every value."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest

from govcloud.drivers import real
from govcloud.drivers.execnode import Node, PrepareError, install_script
from govcloud.drivers.ports import PlaybookRun
from govcloud.inventory.validate import validate_path
from govcloud.migrate import runinventory as RI

SAMPLE = Path(__file__).resolve().parents[2] / "inventories" / "sample-workload"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb0p8l9n3fYbq4J2y1i5g0b2k1n0d8i7s9t3v2w1x0y node"


def _inv(tmp: Path, nodes: str) -> Path:
    root = tmp / "inv"
    shutil.copytree(SAMPLE, root)
    (root / "nodes.yaml").write_text("format_version: 1\nexecution_nodes:\n" + nodes, encoding="utf-8")
    return root


def test_a_node_loads_with_its_defaults(tmp_path):
    res = validate_path(_inv(tmp_path, f"  - {{id: node-ext, address: 198.18.1.68, user: govcloud, "
                                       f"host_key: '{KEY}', cloud_zones: [test-cloud-x86]}}\n"))
    assert not res.errors, [p.message for p in res.errors]
    n = res.inventory.execution_nodes["node-ext"]
    assert (n.port, n.runner, n.work_dir) == (22, "/opt/govcloud-node/bin/ansible-runner", "/var/tmp/govcloud-node")
    assert n.cloud_zones == ("test-cloud-x86",) and n.organizations == ()


def test_bad_nodes_are_refused_with_file_line_and_field(tmp_path):
    res = validate_path(_inv(tmp_path, "  - id: node-bad\n"
                                       "    address: 198.18.1.x\n"
                                       "    user: '-oProxyCommand=x'\n"
                                       "    runner: relative/ansible-runner\n"
                                       "    work_dir: /var/../etc\n"
                                       "    host_key: 'not a key'\n"
                                       "    port: 70000\n"
                                       "    organizations: [nosuch]\n"
                                       "  - {id: node-b, address: 198.18.1.69, user: govcloud, organizations: [shujuju]}\n"
                                       "  - {id: node-c, address: 198.18.1.70, user: govcloud, organizations: [shujuju]}\n"
                                       "  - {id: 'bad id!', address: 198.18.1.71, user: govcloud}\n"))
    got = {(p.code, p.field, p.line) for p in res.problems if p.file and p.file.endswith("nodes.yaml")}
    for want in [("bad-ip", "address", 4), ("bad-node-user", "user", 5), ("bad-node-path", "runner", 6),
                 ("bad-node-path", "work_dir", 7), ("bad-host-key", "host_key", 8),
                 ("dangling-reference", "organizations", 10), ("node-served-twice", "organizations", 12)]:
        assert want in got, (want, sorted(got))
    assert any(p.field == "port" and p.line == 9 for p in res.errors), sorted(got)
    assert any(p.line == 13 for p in res.errors), sorted(got)      # the id grammar


class _Inv:
    def __init__(self, nodes, systems):
        self.execution_nodes, self.systems = nodes, systems


class _N:
    def __init__(self, id, zones=(), orgs=()):
        self.id, self.cloud_zones, self.organizations = id, tuple(zones), tuple(orgs)


class _S:
    def __init__(self, org):
        self.owner_org = org


def test_the_zone_node_comes_first_then_the_department_node():
    inv = _Inv({"z": _N("z", zones=["zone-a"]), "d": _N("d", orgs=["org-1"])},
               {"s1": _S("org-1"), "s2": _S("org-2")})
    assert RI.execution_node(inv, "s1", "zone-a").id == "z"
    assert RI.execution_node(inv, "s1", "zone-b").id == "d"
    assert RI.execution_node(inv, "s2", "zone-b") is None
    assert RI.execution_node(inv, "nosuch", None) is None
    assert RI.execution_node(_Inv({}, {}), "s1", "zone-a") is None


def test_the_port_runs_a_served_system_on_its_node_and_the_rest_here(tmp_path, monkeypatch):
    node = Node(id="n", address="198.18.1.68", user="govcloud", known_hosts=tmp_path / "kh")
    calls = []

    def on_node(n, playbook, inventory, **kw):
        calls.append(("node", n.id, kw["extravars"]["govcloud_system_id"], kw["envvars"]["SSH_AUTH_SOCK"]))
        return PlaybookRun(0, "successful", {})

    def here(playbook, inv_path, **kw):
        calls.append(("here", None, kw["extravars"]["govcloud_system_id"], kw["envvars"]["SSH_AUTH_SOCK"]))
        return PlaybookRun(0, "successful", {})
    import govcloud.drivers.ansible as A
    import govcloud.drivers.execnode as X
    monkeypatch.setattr(X, "run_on_node", on_node)
    monkeypatch.setattr(A, "run_playbook", here)
    port = real.AnsiblePlaybooks(node_of=lambda s: node if s == "served" else None)
    for system in ("served", "other"):
        port.run(Path("x.yml"), {"all": {}}, private_data_dir=tmp_path / system, limit=None,
                 extravars={"govcloud_system_id": system}, check=False, timeout=10, forks=1,
                 envvars={"SSH_AUTH_SOCK": "/run/agent"})
    assert calls == [("node", "n", "served", "/run/agent"), ("here", None, "other", "/run/agent")]


def test_the_install_script_quotes_every_value(tmp_path):
    node = Node(id="n", address="198.18.1.68", user="govcloud", known_hosts=tmp_path / "kh",
                runner="/opt/gc node/bin/ansible-runner", work_dir="/var/tmp/gc'node")
    s = install_script(node, {"pip": "23.2.1", "ansible-core": "2.19.14", "ansible-runner": "2.4.3"})
    assert "venv='/opt/gc node'" in s and shlex.quote("/var/tmp/gc'node") in s
    assert "--no-index" in s and " ansible-runner==2.4.3" in s
    with pytest.raises(PrepareError):
        install_script(Node(id="n", address="a", user="u", known_hosts=tmp_path, runner="/usr/bin/runner"), {})
