"""The Ansible parser against the real `ansible-inventory --list` of the same file."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from govcloud.interchange.ansible_inventory import load_source, parse
from shared_data import DATA  # noqa: E402

SAMPLES = DATA / "ansible-inventories"
# ansible-core is a dependency: the real ansible-inventory is always there to compare with
ANSIBLE = shutil.which("ansible-inventory") or "ansible-inventory"

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
    # cwd "/": play-adjacent group_vars of the working directory must not join in
    proc = subprocess.run([ANSIBLE, "-i", str(path), "--list"], capture_output=True, text=True, timeout=120, cwd="/",
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
    model = load_source(path).model
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


@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(SAMPLES)))
def test_public_samples_match_ansible_inventory(path: Path) -> None:
    _compare(path)


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
    # an address and nothing else: a record for discover to complete, its unknown fields absent
    assert top.values == {"hostname": "top1", "ips": ["198.18.0.1"], "census_missing": [
        "cores", "ram_gb", "os_distribution", "cpu_arch"]} and ("ip", "198.18.0.1") in top.match
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


# ---------------------------------------------------------------- directories, group_vars/, host_vars/

_TREE = {
    "hosts.ini": "[web]\nweb01 ansible_host=198.18.0.21 x=ini_host\nweb02 ansible_host=198.18.0.22\n"
                 "[db]\ndb01 ansible_host=198.18.0.31\n[web:vars]\nx=ini_web\nw=ini_web\n"
                 "[all:vars]\na=ini_all\nz=ini_all\n[db:vars]\nansible_group_priority=5\nd=ini_db\n",
    "more.yml": "all:\n  children:\n    app:\n      children:\n        web:\n      vars:\n        p: yaml_app\n"
                "    db:\n      hosts:\n        db02:\n          ansible_host: 198.18.0.32\n          d: yaml_host\n"
                "        web02:\n",
    "notes.txt": "not an inventory: skipped by name, as Ansible does\n",
    ".hidden.ini": "[ghost]\nghost01\n",
    "sub/extra.ini": "[cache]\nredis01 ansible_host=198.18.0.41\n",
    "group_vars/all.yml": "a: gv_all\nb: gv_all\n",
    "group_vars/web/10-base.yml": "x: gv_web\ny: 1\n",
    "group_vars/web/20-more": "y: 2\nw: gv_web\n",
    "group_vars/db.json": '{"d": "gv_db", "port": 5432}',
    "group_vars/app.yaml": "p: gv_app\nq: [1, 2]\n",
    "group_vars/empty.yml": "",
    "host_vars/web01.yaml": "x: host_file\n",
    "host_vars/db02/main.yml": "port: 6432\n",
}


def _tree(root: Path) -> Path:
    inv = root / "inv"
    for rel, text in _TREE.items():
        f = inv / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return inv


def test_directory_with_group_and_host_vars_matches_ansible_inventory(tmp_path: Path) -> None:
    inv = _tree(tmp_path)
    marker = tmp_path / "script-ran"
    script = inv / "dynamic.sh"     # Ansible runs it; govcloud must not
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{\"_meta\": {{\"hostvars\": {{}}}}}}'\n")
    script.chmod(0o755)
    res = parse(inv)
    assert not marker.exists(), "govcloud ran an inventory script"
    assert [p.code for p in res.problems] == ["ansible-skipped"] and res.problems[0].file == "inv/dynamic.sh"
    _compare(inv)       # runs the real ansible-inventory on the same directory (which does run the script)
    by = {r.external_id: r for r in res.records}
    assert set(by) == {"web01", "web02", "db01", "db02", "redis01"}
    v = by["web01"].extra["ansible_vars"]
    # host_vars/ beats the inventory's host var; group_vars/web beats [web:vars]; the later file of a
    # group_vars directory wins; group_vars/all beats [all:vars]
    assert (v["x"], v["y"], v["w"], v["a"], v["z"], v["b"]) == ("host_file", 2, "gv_web", "gv_all", "ini_all", "gv_all")
    assert by["db02"].extra["ansible_vars"]["port"] == 6432 and by["db01"].extra["ansible_vars"]["port"] == 5432
    assert by["db02"].provenance.file == "inv/more.yml" and by["redis01"].provenance.file == "inv/sub/extra.ini"
    assert by["web02"].provenance.file == "inv/hosts.ini" and by["web02"].provenance.row == 3
    assert by["web02"].extra["ansible_groups"] == ["app", "db", "web"]


def test_file_with_group_vars_beside_it_matches_ansible_inventory(tmp_path: Path) -> None:
    inv = _tree(tmp_path)
    _compare(inv / "hosts.ini")
    hv = {r.external_id: r.extra.get("ansible_vars", {}) for r in parse(inv / "hosts.ini").records}
    assert hv["web01"]["x"] == "host_file" and hv["db01"]["d"] == "gv_db" and "redis01" not in hv


def test_vaulted_vars_file_left_out(tmp_path: Path) -> None:
    inv = _tree(tmp_path)
    (inv / "group_vars" / "all.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n61626364\n")
    src = load_source(inv)
    assert [(p.name, why.split(":")[0]) for p, why in src.skipped] == [("all.yml", "encrypted with ansible-vault")]
    res = parse(inv)
    assert "gv_all" not in json.dumps([r.extra for r in res.records]) and not res.errors
    assert any(p.code == "ansible-skipped" and p.file == "inv/group_vars/all.yml" for p in res.problems)


def test_bad_group_vars_file_names_file_and_line(tmp_path: Path) -> None:
    inv = _tree(tmp_path)
    (inv / "group_vars" / "db.json").write_text("d: [unclosed\n")
    (err,) = parse(inv).errors
    assert err.file == "inv/group_vars/db.json" and err.line is not None and "YAML" in err.message
    (inv / "group_vars" / "db.json").write_text("- a list\n")
    (err,) = parse(inv).errors
    assert err.file == "inv/group_vars/db.json" and "mapping" in err.message


def test_directory_symlinked_into_itself_is_read_once(tmp_path: Path) -> None:
    inv = _tree(tmp_path)
    (inv / "sub" / "loop").symlink_to(inv, target_is_directory=True)
    res = parse(inv)
    assert not res.errors and {r.external_id for r in res.records} == {"web01", "web02", "db01", "db02", "redis01"}
