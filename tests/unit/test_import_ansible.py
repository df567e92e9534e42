"""The Ansible parser against the real `ansible-inventory --list` of the same file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from govcloud.interchange.ansible_inventory import load_model, parse
from shared_data import DATA  # noqa: E402

SAMPLES = DATA / "ansible-inventories"
ANSIBLE = shutil.which("ansible-inventory")

CRAFTED = {
    "ranges.ini": """
top1 ansible_host=198.18.0.1
[web]
web[01:10] http_port=80
db-[a:c].example.test:2222
node[1:9:4]
[web:vars]
quoted="hello world"
num=42
lst=[1, 2, 'x']
flag=True
path=/opt/app # not a comment in vars
[db]
web03 http_port=8080 note='single quoted'
[all:vars]
dc=hy
[backend:children]
web
db
[backend:vars]
tier=back
http_port=81
""",
    "nested.yml": """
all:
  vars:
    dc: hy
  hosts:
    solo:
      ansible_host: 198.18.0.9
  children:
    app:
      vars: {tier: app, shared: from-app}
      hosts:
        app[01:03]:
        app02: {shared: host-wins}
      children:
        app_special:
          vars: {shared: from-child}
          hosts:
            app03:
    db:
      hosts:
        db1: {port: 5432, quoted: "a: b"}
""",
    "priority.ini": """
[a]
h1
[b]
h1
[a:vars]
x=from-a
ansible_group_priority=5
[b:vars]
x=from-b
""",
}


def _samples() -> list[Path]:
    out = []
    for p in sorted(SAMPLES.rglob("*")):
        if p.is_file() and p.name not in ("LICENSE", "SOURCE.txt") and not p.name.endswith((".txt", ".list.yaml")):
            out.append(p)
    return out


def _ansible(path: Path) -> dict:
    proc = subprocess.run([ANSIBLE, "-i", str(path), "--list"], capture_output=True, text=True, timeout=120,
                          env={"ANSIBLE_INVENTORY_UNPARSED_WARNING": "False", "PATH": "/usr/bin:/bin:" +
                               str(Path(ANSIBLE).parent), "HOME": "/tmp", "ANSIBLE_LOCAL_TEMP": "/tmp"})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _their_groups(data: dict) -> dict[str, set[str]]:
    """host → every group it belongs to (through children), from --list output."""
    parents: dict[str, set[str]] = {}
    for g, body in data.items():
        for c in (body.get("children") or []) if isinstance(body, dict) else []:
            parents.setdefault(c, set()).add(g)
    out: dict[str, set[str]] = {}
    for g, body in data.items():
        if g == "_meta" or not isinstance(body, dict):
            continue
        for h in body.get("hosts") or []:
            seen = out.setdefault(h, set())
            stack = [g]
            while stack:
                n = stack.pop()
                if n not in seen:
                    seen.add(n)
                    stack.extend(parents.get(n, ()))
    return {h: gs - {"all"} for h, gs in out.items()}


def _compare(path: Path) -> None:
    # a .json sample IS `ansible-inventory --list` output (ansible cannot read it back as a source)
    theirs = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else _ansible(path)
    model, _ = load_model(path)
    ours = model.resolved()
    hostvars = theirs["_meta"]["hostvars"]
    assert set(ours) == set(_their_groups(theirs)) | set(hostvars), path
    groups = _their_groups(theirs)
    for host, (hv, gs) in ours.items():
        assert set(gs) == groups.get(host, set()), (path, host)
        expected = dict(hostvars.get(host, {}))
        # --export lists group vars under the groups; a plain --list has merged them already
        if "profile" in theirs["_meta"] and expected == {} and hv:
            continue
        assert hv == expected, (path, host, hv, expected)


@pytest.mark.skipif(ANSIBLE is None, reason="ansible-core is not installed")
@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_public_samples_match_ansible_inventory(path: Path) -> None:
    _compare(path)


@pytest.mark.skipif(ANSIBLE is None, reason="ansible-core is not installed")
@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_match_ansible_inventory(name: str, tmp_path: Path) -> None:
    p = tmp_path / name
    p.write_text(CRAFTED[name], encoding="utf-8")
    _compare(p)


def test_ranges_and_records(tmp_path: Path) -> None:
    p = tmp_path / "ranges.ini"
    p.write_text(CRAFTED["ranges.ini"], encoding="utf-8")
    res = parse(p)
    assert not res.errors
    names = {r.external_id for r in res.records}
    assert {f"web{i:02d}" for i in range(1, 11)} <= names
    assert {"db-a.example.test", "db-c.example.test", "node1", "node5", "node9"} <= names and "node2" not in names
    top = next(r for r in res.records if r.external_id == "top1")
    assert top.values == {"hostname": "top1", "ips": ["198.18.0.1"]} and ("ip", "198.18.0.1") in top.match
    web03 = next(r for r in res.records if r.external_id == "web03")
    assert web03.extra["ansible_groups"] == ["backend", "db", "web"]
    assert web03.extra["ansible_vars"]["http_port"] == 8080 and web03.provenance.row == 4   # where it first appears (web[01:10])


def test_secrets_never_kept(tmp_path: Path) -> None:
    p = tmp_path / "s.yml"
    p.write_text("all:\n  hosts:\n    h1:\n      ansible_password: s3cret\n      db_token: abc\n"
                 "      vaulted: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          6162\n      ok: 1\n",
                 encoding="utf-8")
    res = parse(p)
    assert not res.errors
    (rec,) = res.records
    assert rec.extra["ansible_vars"] == {"ok": 1}
    assert "s3cret" not in json.dumps(rec.extra) and "ANSIBLE_VAULT" not in json.dumps(rec.extra)


def test_bad_inventory_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.ini"
    p.write_text("[web]\nweb01\n[web:children]\nnosuchgroup\n", encoding="utf-8")
    res = parse(p)
    (err,) = res.errors
    assert err.line == 4 and "nosuchgroup" in err.message
