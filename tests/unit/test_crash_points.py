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

    # approve: a signed approval (the test approver's SSH key, listed in the inventory's policy)
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    from migrate_env import approve_args, write_inventory
    atemplate = tmp_path / "atemplate"
    write_inventory(atemplate / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    ok("plan", "generate", str(atemplate / "inv"), "--out", str(atemplate / "plans"), "--id", "p1")

    def amake() -> Path:
        base = tmp_path / f"acase{next(counter)}"
        shutil.copytree(atemplate, base)
        return base

    approve = lambda b: tuple(approve_args(b / "plans" / "p1"))  # noqa: E731
    ref = amake()
    before_a = snapshot(ref / "plans" / "p1")
    ok(*approve(ref))
    after_a = snapshot(ref / "plans" / "p1")
    assert after_a != before_a
    covered_a = run_points(amake, approve, _recover_plan, lambda b: b / "plans" / "p1", None, after_a)
    assert covered_a >= 2, covered_a
    print(f"plan generate: {covered}, approve: {covered_a} crash points")


def _recover_plan(base: Path) -> None:
    """A reader of the plan (`plan show`) completes or discards what a killed writer left."""
    ok("plan", "show", str(base / "plans" / "p1"), "-o", "json")


# ---------------------------------------------------------------- export


def test_export_killed_at_every_point(tmp_path: Path, mini: Path) -> None:
    template = tmp_path / "template"
    shutil.copytree(mini, template / "inv")
    ok("inventory", "export", str(template / "inv"), "--format", "csv", "--out", str(template / "out"))
    counter = itertools.count()

    def make() -> Path:
        base = tmp_path / f"case{next(counter)}"
        shutil.copytree(template, base)
        return base

    cmd = lambda b: ("inventory", "export", str(b / "inv"), "--format", "json", "--out", str(b / "out"))  # noqa: E731
    ref = make()
    before = snapshot(ref)
    ok(*cmd(ref))
    after = snapshot(ref)
    assert any(f.endswith(".json") and f.startswith("out/") for f in set(after) - set(before))
    covered = run_points(make, cmd, lambda b: ok("inventory", "validate", str(b / "inv")),
                         lambda b: b, lambda b: b / "inv", after)
    assert covered >= 8, covered
    print(f"export: {covered} crash points")


def test_export_keeps_files_it_did_not_write_unless_forced(tmp_path: Path, mini: Path) -> None:
    out = tmp_path / "out"
    ok("inventory", "export", str(mini), "--format", "csv", "--out", str(out))
    (out / "auditor-notes.txt").write_text("审计意见", encoding="utf-8")
    p = gc("inventory", "export", str(mini), "--format", "csv", "--out", str(out), "--lang", "en")
    assert p.returncode == 1 and "auditor-notes.txt" in p.stderr, p.stderr
    assert (out / "auditor-notes.txt").read_text(encoding="utf-8") == "审计意见"
    ok("inventory", "export", str(mini), "--format", "csv", "--out", str(out), "--force")
    assert not (out / "auditor-notes.txt").exists()
    assert gc("inventory", "export", "--verify", str(out)).returncode == 0
    assert strays(tmp_path) == []


# ---------------------------------------------------------------- one writer at a time


HOLD = """
import sys, time
from pathlib import Path
from govcloud.store.lock import writer_lock
with writer_lock(Path(sys.argv[1]), "inventory import --format rvtools"):
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_second_writer_waits_then_is_refused_naming_the_holder(tmp_path: Path, mini: Path) -> None:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(HOSTS, encoding="utf-8")
    before = snapshot(mini)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(mini), "60"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        t0 = time.monotonic()
        p = gc("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini), "--lang", "en",
               env={"GOVCLOUD_LOCK_WAIT": "1"})
        assert p.returncode == 75, (p.returncode, p.stderr)
        assert f"pid {holder.pid}" in p.stderr and "inventory import --format rvtools" in p.stderr
        assert time.monotonic() - t0 >= 1
        assert snapshot(mini) == before
        # a reader waits for the writer too, and is refused the same way
        v = gc("inventory", "validate", str(mini), env={"GOVCLOUD_LOCK_WAIT": "0.5"})
        assert v.returncode == 75, v.stderr
    finally:
        holder.kill()
        holder.wait(10)
    # the holder died with kill -9: no stale lock
    ok("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini))


def _import_at_barrier(src: str, inv: str, barrier) -> None:
    import threading

    from govcloud.interchange import importer
    real = importer._validate_overlay

    def patched(*args, **kw):           # after reading the inventory, before writing it
        out = real(*args, **kw)
        try:
            barrier.wait(3)
        except threading.BrokenBarrierError:
            pass
        return out

    importer._validate_overlay = patched
    o = importer.run_import("ansible", src, inv)
    os._exit(0 if o.ok and o.written else 1)


def test_concurrent_imports_both_land(tmp_path: Path, mini: Path) -> None:
    """The lost update, forced: each import waits at a barrier after it has read the inventory
    and before it writes, so without a lock both read the same state and the second rename
    drops the first one's servers (both exit 0; before the lock: 4 of 4 trials lost half).
    With the writer lock the second import reads only after the first wrote: both land."""
    import multiprocessing

    import yaml
    facts = ("ansible_distribution=openEuler ansible_distribution_version=22.03 ansible_processor_vcpus=2 "
             "ansible_memtotal_mb=4096")
    a, b = tmp_path / "a.ini", tmp_path / "b.ini"
    a.write_text("[web]\n" + "".join(f"a-vm{i:03d} ansible_host=198.18.20.{i + 1} {facts}\n" for i in range(40)),
                 "utf-8")
    b.write_text("[db]\n" + "".join(f"b-vm{i:03d} ansible_host=198.18.21.{i + 1} {facts}\n" for i in range(30)),
                 "utf-8")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_import_at_barrier, args=(str(f), str(mini), barrier)) for f in (a, b)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    doc = yaml.safe_load((mini / "imported" / "ansible.yaml").read_text(encoding="utf-8"))
    names = {s["id"] for s in doc["servers"]}
    assert sum("a-vm" in n for n in names) == 40 and sum("b-vm" in n for n in names) == 30, sorted(names)
    assert audit_count(mini) == 2
    ok("audit", "verify", str(mini))
    ok("inventory", "validate", str(mini))


def test_import_audit_entry_holds_ids_and_digests_not_imported_text(tmp_path: Path, mini: Path) -> None:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text(HOSTS.replace("ansible_user=ops", "ansible_user=ops\nnotes=password-is-Hunter2!"),
                     encoding="utf-8")
    ok("inventory", "import", str(hosts), "--format", "ansible", "--into", str(mini))
    log = (mini / ".govcloud" / "audit.jsonl").read_text(encoding="utf-8")
    entry = json.loads(log.splitlines()[-1])
    assert entry["action"] == "import"
    records = entry["after"]["records"]
    assert records and all(isinstance(v, dict) for v in records.values())
    for fields in records.values():             # field names, each with a digest
        assert all(isinstance(d, str) and len(d) == 24 for d in fields.values())
    for text in ("Hunter2", "198.18.10.11", "openEuler", "ubuntu", "Ubuntu"):
        assert text not in log
    assert "wjj-app-01" in log or any("web" in k for k in records)     # ids are kept
