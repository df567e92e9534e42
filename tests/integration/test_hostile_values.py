"""Hostile data values through the REAL migration playbooks on test hosts (issue 12): data paths
and a host variable holding Jinja lookups, $( ), backticks and ';' are synced as the literal
directory names they are — nothing runs on the controller, on the source or on the target.

h34 is the source, h35 stands in for the new cloud server (no other test uses them). The runner
inventory and extravars are written the way the orchestrator writes them: every string !unsafe."""
from __future__ import annotations

import json
import shlex
import uuid

import pytest
import yaml

from govcloud.drivers.ansible import run_playbook, write_inventory
from migrate_helpers import HSTATE, PLAYBOOKS, runner_inventory, ssh, start_agent, sudo_py, tree_hash

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

SRC, TGT = "h34", "h35"
ADDR = {SRC: "198.18.1.34", TGT: "198.18.1.35"}
TOP = "/srv/gc-hostile"


def _canaries(host: str, tag: str) -> str:
    return ssh(host, f"ls -d /tmp/gc-canary-{tag}* 2>/dev/null; true").stdout.decode().strip()


def test_hostile_data_values_are_data_on_the_real_playbooks(test_hosts, tmp_path):
    tag = uuid.uuid4().hex[:8]
    ctl = tmp_path / "controller-canary"
    ctl.mkdir()
    on_host = f"/tmp/gc-canary-{tag}"
    jinja = "{{ lookup('pipe', 'touch " + str(ctl) + "/jinja " + on_host + "-jinja') }}"
    shell = f"$(touch {on_host}-sub)`touch {on_host}-tick`; touch {on_host}-semi | touch {on_host}-pipe &"
    paths = [f"{TOP}/{jinja}", f"{TOP}/{shell}", f"{TOP}/{{% set x = lookup('pipe', 'touch {ctl}/stmt') %}}x"]
    extravars = {
        "govcloud_plan_id": "it-hostile", "govcloud_system_id": "hostile",
        "govcloud_data_paths": paths,
        "govcloud_services": [{"name": "ssh", "port": 22, "health_path": "/" + jinja + shell}],
        "govcloud_databases": [], "govcloud_cutover_record": None,
        "govcloud_sync_mode": "initial", "govcloud_bwlimit_kbps": 0, "govcloud_keep_target": True,
        "govcloud_apply_baseline": False,
    }
    agent = start_agent(HSTATE / "id_ed25519")
    try:
        ssh(TGT, f"sudo -n rm -rf {TOP} /var/lib/govcloud; sudo -n rm -f /tmp/gc-canary-*")
        ssh(SRC, f"sudo -n rm -f /tmp/gc-canary-*")
        setup = ("import os, sys\n"
                 "for p in sys.argv[1:]:\n"
                 "    os.makedirs(p, exist_ok=True)\n"
                 "    open(os.path.join(p, 'data.txt'), 'w').write('hostile but harmless\\n')\n")
        ssh(SRC, "sudo -n python3 -c " + shlex.quote(setup) + " " + " ".join(shlex.quote(p) for p in paths))
        plain = runner_inventory(tmp_path / "plain.yml", {SRC: ADDR[SRC]}, {TGT: (ADDR[TGT], SRC)}, {})
        inv = yaml.safe_load(plain.read_text())
        inv["all"]["children"]["source"]["hosts"][SRC]["govcloud_note"] = jinja + shell   # a host var too
        inventory = write_inventory(tmp_path / "runner-inventory.yml", inv)
        assert "!unsafe" in inventory.read_text()
        before = tree_hash(SRC, TOP)
        runs = {}
        for n, name in enumerate(("migrate_precheck", "migrate_sync", "migrate_verify")):
            runs[name] = run_playbook(PLAYBOOKS / f"{name}.yml", inventory, extravars=extravars,
                                      envvars=agent.envvars, private_data_dir=tmp_path / f"run-{n}-{name}",
                                      timeout=600)
        assert runs["migrate_sync"].ok, json.dumps(runs["migrate_sync"].failed_tasks, ensure_ascii=False)[:3000]
        # the literal directories arrived on the target, byte for byte
        assert tree_hash(TGT, TOP) == tree_hash(SRC, TOP) == before
        got = sudo_py(TGT, "import os, sys; print(sorted(os.listdir(sys.argv[1])))".replace("sys.argv[1]", repr(TOP)))
        assert "{{ lookup('pipe'" in got and "$(touch" in got, got
        # nothing ran: not on the controller, not on either host
        assert sorted(p.name for p in ctl.iterdir()) == []
        assert _canaries(SRC, tag) == "" and _canaries(TGT, tag) == ""
        # and the playbooks saw the text verbatim (the precheck reports the paths it sized)
        assert "lookup('pipe'" in json.dumps(runs["migrate_precheck"].messages, ensure_ascii=False)
    finally:
        agent.stop()
        ssh(TGT, f"sudo -n rm -rf {TOP} /var/lib/govcloud /tmp/gc-canary-*", check=False)
        ssh(SRC, f"sudo -n rm -rf {TOP} /tmp/gc-canary-*", check=False)
