"""Kill every writing command at every rename and fsync point (``GOVCLOUD_CRASH_AT``, honoured
by the atomic-write layer) and check the before-or-after invariant: after the next command's
recovery the state is exactly the one before the command or the one after it, `validate` and
`audit verify` pass, the audit log counts the write iff it happened, and no temporary, staging
folder or overlay is left anywhere.

Also: two concurrent writers into one inventory both land (the writer lock), and a second
writer that cannot get the lock in time is refused with exit 75 naming the holder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEYUAN = REPO / "inventories" / "heyuan"
POINTS = ("write.fsync", "write.rename", "txn.reserve", "txn.stage", "txn.intent", "txn.audit",
          "txn.publish", "txn.fsync", "txn.exchange", "txn.cleanup", "txn.done")

HOSTS = """[web]
wjj-app-01 ansible_host=198.18.10.11 ansible_distribution=Ubuntu ansible_processor_vcpus=4 ansible_memtotal_mb=16384
web[01:02] ansible_distribution=openEuler ansible_distribution_version=22.03 ansible_processor_vcpus=2 ansible_memtotal_mb=4096
[web:vars]
ansible_user=ops
"""


def gc(*args: str, crash: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    e = dict(os.environ, **(env or {}))
    e.pop("GOVCLOUD_CRASH_AT", None)
    if crash:
        e["GOVCLOUD_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO, env=e)


def ok(*args: str) -> subprocess.CompletedProcess:
    p = gc(*args)
    assert p.returncode == 0, (args, p.stdout[-2000:], p.stderr[-2000:])
    return p


def snapshot(root: Path) -> dict[str, str]:
    """Digests of the user-visible files (not the lock's, not the audit log's own folder)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".govcloud" not in p.relative_to(root).parts}


def audit_count(inv: Path) -> int:
    log = inv / ".govcloud" / "audit.jsonl"
    return len(log.read_text().splitlines()) if log.exists() else 0


def strays(base: Path) -> list[str]:
    out = []
    for p in base.rglob("*"):
        n = p.name
        if n.endswith((".govcloud-tmp", ".tmp", ".old")) or "govcloud-stage" in n or "govcloud-export" in n:
            out.append(str(p))
        if n == "txn" and p.parent.name == ".govcloud" and any(p.iterdir()):
            out.append(f"{p} (not empty)")
        if n == "tmp" and p.parent.name == ".govcloud" and p.is_dir():
            out.append(str(p))
    return out


def classify(state: dict[str, str], before: dict[str, str], after: dict[str, str]) -> str:
    """'before', 'after' (every file the command changes changed, nothing else) or 'mixed'."""
    if state == before:
        return "before"
    changed = {f for f in after if after[f] != before.get(f)}
    if set(state) == set(after) and all((state[f] != before.get(f)) == (f in changed) for f in state):
        return "after"
    return "mixed"


def run_points(make, command, recover, check_dir, inv: Path | None, expect_after) -> int:
    """For each crash point and each passage of it: fresh state, kill there, recover, check.
    Returns the number of (point, passage) kills exercised."""
    covered = 0
    for point in POINTS:
        n = 1
        while True:
            base = make()
            before = snapshot(check_dir(base))
            n0 = audit_count(inv(base)) if inv else 0
            p = gc(*command(base), crash=f"{point}#{n}")
            if p.returncode == 0:
                break                             # the command passes this point fewer than n times
            assert p.returncode == -signal.SIGKILL, (point, n, p.returncode, p.stderr[-2000:])
            covered += 1
            recover(base)                         # the next command completes or discards
            state = snapshot(check_dir(base))
            kind = classify(state, before, expect_after)
            assert kind != "mixed", (point, n, sorted(set(state) ^ set(before)))
            if inv:
                assert audit_count(inv(base)) == n0 + (kind == "after"), (point, n, kind)
                v = gc("audit", "verify", str(inv(base)))
                assert v.returncode == 0, (point, n, v.stdout)
            assert strays(base) == [], (point, n, strays(base))
            n += 1
    return covered


# ---------------------------------------------------------------- import


def test_import_killed_at_every_point(tmp_path: Path, mini: Path) -> None:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(HOSTS, encoding="utf-8")
    template = tmp_path / "template"
    shutil.copytree(mini, template)
    counter = itertools.count()

    def make() -> Path:     # a new path each time: the audit anchor remembers an inventory by its path
        base = tmp_path / f"case{next(counter)}"
        shutil.copytree(template, base / "inv")
        return base

    ref = make()
    before = snapshot(ref / "inv")
    ok("inventory", "import", str(hosts), "--format", "ansible", "--into", str(ref / "inv"))
    after = snapshot(ref / "inv")
    assert {"imported/ansible.yaml", "imported/ansible.provenance.json", "observed/import-ansible.yaml"} \
        <= set(after) - set(before)

    covered = run_points(
        make, lambda b: ("inventory", "import", str(hosts), "--format", "ansible", "--into", str(b / "inv")),
        lambda b: ok("inventory", "validate", str(b / "inv")),     # a reader: recovers first
        lambda b: b / "inv", lambda b: b / "inv", after)
    assert covered >= 12, covered
    print(f"import: {covered} crash points")


# ---------------------------------------------------------------- plan generate and approve


def test_plan_generate_and_approve_killed_at_every_point(tmp_path: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(HEYUAN, template / "inv", ignore=shutil.ignore_patterns(".govcloud"))
    ok("plan", "generate", str(template / "inv"), "--out", str(template / "plans"), "--id", "p1")
    counter = itertools.count()

    def make() -> Path:
        base = tmp_path / f"case{next(counter)}"
        shutil.copytree(template, base)
        return base

    gen = lambda b: ("plan", "generate", str(b / "inv"), "--out", str(b / "plans"), "--id", "p1",  # noqa: E731
                     "--batch-weeks", "6")
    ref = make()
    before = snapshot(ref / "plans" / "p1")
    ok(*gen(ref))
    after = snapshot(ref / "plans" / "p1")
    assert after["plan.yaml"] != before["plan.yaml"] and after["plan.md"] != before["plan.md"]
    covered = run_points(make, gen, _recover_plan, lambda b: b / "plans" / "p1", None, after)
    assert covered >= 6, covered

    approve = lambda b: ("plan", "approve", str(b / "plans" / "p1"), "--by", "王处长")  # noqa: E731
    ref = make()
    ok(*approve(ref))
    after_a = snapshot(ref / "plans" / "p1")
    covered_a = run_points(make, approve, _recover_plan, lambda b: b / "plans" / "p1", None, after_a)
    assert covered_a >= 2, covered_a
    print(f"plan generate: {covered}, approve: {covered_a} crash points")


def _recover_plan(base: Path) -> None:
    """A reader of the plan (`plan show`) completes or discards what a killed writer left."""
    ok("plan", "show", str(base / "plans" / "p1"), "-o", "json")
