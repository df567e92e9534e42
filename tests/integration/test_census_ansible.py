"""An Ansible-only census, end to end on a real SSH test host (issue 20): import an Ansible inventory
that names h39 by address only (no OS/CPU/RAM variables, no cached facts) → an incomplete server
record → `govcloud inventory discover` over SSH (strict host keys, read-only) completes it →
`inventory validate` no longer warns → `plan generate` schedules its system.

Host used: h39 (read-only discovery; nothing is changed on it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import planfixtures as F  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.hosts]

HOST = "h39"


def gc(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=240,
                       env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", "GOVCLOUD_LANG": "en"})
    assert p.returncode in ok, (args, p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    assert "Traceback" not in p.stderr
    return p


def test_ansible_host_without_facts_is_completed_by_discover_and_then_planned(test_hosts, tmp_path):
    h = next(x for x in test_hosts.hosts if x["name"] == HOST)
    root = F.write_tree(tmp_path / "inv")           # organisations, cloud zones, policy: no servers yet
    hosts_ini = tmp_path / "hosts.ini"
    hosts_ini.write_text(f"[census]\n{HOST} ansible_host={h['addr']} ansible_user=govcloud\n[census:vars]\n"
                         "owner=甲局\n", encoding="utf-8")

    # 1. import: a record marked incomplete, its unknown fields absent
    out = gc("inventory", "import", str(hosts_ini), "--format", "ansible", "--into", str(root), "-o", "json")
    doc = json.loads(out.stdout)
    change = next(c for c in doc["changes"] if c["external_id"] == HOST)
    assert change["action"] == "create" and change["incomplete"] == ["cores", "ram_gb", "os_distribution", "cpu_arch"]
    sid = change["id"]
    (root / "departments").mkdir(exist_ok=True)
    (root / "departments" / "dept.yaml").write_text(F.dept([F.system("census-h39", servers=[sid])], []),
                                                    encoding="utf-8")
    val = json.loads(gc("inventory", "validate", str(root), "-o", "json").stdout)
    warn = [p for p in val["problems"] if p["code"] == "server-incomplete"]
    assert len(warn) == 1 and warn[0]["id"] == sid and warn[0]["file"] == "imported/ansible.yaml"
    plan = json.loads(gc("plan", "generate", str(root), "--out", str(tmp_path / "plans"), "--id", "census-a",
                         "-o", "json").stdout)
    shown = json.loads(gc("plan", "show", str(tmp_path / "plans" / "census-a"), "-o", "json").stdout)
    unsched = {u["id"]: u for u in shown["unscheduled"]}
    assert "census-h39" in unsched and "H-CENSUS-1" in json.dumps(unsched["census-h39"], ensure_ascii=False), plan

    # 2. discover over SSH (strict host keys against the harness's known_hosts)
    cfg = tmp_path / "ssh_config"
    # no User here: the inventory's ansible_user=govcloud is the one discover uses
    cfg.write_text(f"Host *\n  IdentityFile {test_hosts.key}\n", encoding="utf-8")
    d = json.loads(gc("inventory", "discover", str(root), "--hosts", sid, "--ssh-config", str(cfg),
                      "--known-hosts", str(test_hosts.known_hosts), "--sample-seconds", "0.5",
                      "--connect-timeout", "5", "-o", "json").stdout)
    assert d["summary"]["reached"] == 1 and d["failed"] == []
    census = d["summary"]["census"]
    assert len(census) == 1 and census[0]["server"] == sid and census[0]["complete"] is True
    filled = census[0]["filled"]
    assert filled["os_distribution"] == "debian" and filled["cores"] >= 1 and filled["ram_gb"] > 0
    assert filled["cpu_arch"] == "x86_64"
    audit = [json.loads(line) for line in (root / ".govcloud" / "audit.jsonl").read_text().splitlines()]
    last = audit[-1]
    assert last["action"] == "discover" and last["after"]["census_completed"][sid]["os_distribution"] == "debian"
    assert last["after"]["census_missing"][sid] == []

    # 3. validate: complete now, the record's file untouched (the observation is the evidence)
    val = json.loads(gc("inventory", "validate", str(root), "-o", "json").stdout)
    assert not [p for p in val["problems"] if p["code"] == "server-incomplete"]
    assert '"census_missing": ["cores", "ram_gb", "os_distribution", "cpu_arch"]' in \
        (root / "imported" / "ansible.yaml").read_text(encoding="utf-8")
    srv = json.loads(gc("inventory", "list", str(root), "-k", "servers", "-o", "json").stdout)["servers"][0]
    assert srv["id"] == sid and srv["os_distribution"] == "debian" and srv["cores"] == filled["cores"]
    assert srv["incomplete"] == []

    # 4. plan generate: the system is scheduled
    gc("plan", "generate", str(root), "--out", str(tmp_path / "plans"), "--id", "census-b", "-o", "json")
    shown = json.loads(gc("plan", "show", str(tmp_path / "plans" / "census-b"), "-o", "json").stdout)
    placed = [i for b in shown["batches"] for i in b["systems"] if i["id"] == "census-h39"]
    assert len(placed) == 1 and not [u for u in shown["unscheduled"] if u["id"] == "census-h39"]
    assert placed[0]["servers"][0]["server"] == sid and placed[0]["servers"][0]["vcpus"] >= 1
