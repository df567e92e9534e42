"""The hash-chained audit log: real files, tampering of every kind, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from govcloud.cli.audit import app as audit_app
from govcloud.store import auditlog
from govcloud.store.auditlog import GENESIS, entry_hash


def fill(root: Path, n: int = 5) -> list[dict]:
    return [auditlog.append(root, action="update", entity=("system", f"sys-{i}"),
                            before={"lifecycle": "in_service"}, after={"lifecycle": "zombie", "n": i},
                            who="张三" if i % 2 else None, reason=f"普查核实 {i}")
            for i in range(1, n + 1)]


def lines(root: Path) -> list[str]:
    return auditlog.log_path(root).read_text("utf-8").splitlines(keepends=True)


def rewrite(root: Path, new_lines: list[str]) -> None:
    auditlog.log_path(root).write_text("".join(new_lines), "utf-8")


def codes(problems) -> set[tuple[int | None, str]]:
    return {(p.seq, p.code) for p in problems}


def test_append_builds_a_chain(tmp_path: Path) -> None:
    entries = fill(tmp_path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev_hash"] == GENESIS
    for a, b in zip(entries, entries[1:]):
        assert b["prev_hash"] == a["hash"]
    e = entries[0]
    assert set(e) == set(auditlog.FIELDS)
    assert e["entity"] == {"kind": "system", "id": "sys-1"} and e["who"]["actor"] == "张三"
    assert e["who"]["os_user"] and e["at"].endswith("Z")
    assert e["hash"] == entry_hash(e)
    assert auditlog.read(tmp_path) == entries
    assert auditlog.verify(tmp_path) == []
    head = json.loads((tmp_path / ".govcloud" / "audit.head").read_text())
    assert head == {"seq": 5, "hash": entries[-1]["hash"]}


def test_no_log_is_fine(tmp_path: Path) -> None:
    assert auditlog.verify(tmp_path) == [] and auditlog.read(tmp_path) == []


def test_dates_and_unicode_hash_stably(tmp_path: Path) -> None:
    from datetime import date
    e = auditlog.append(tmp_path, action="approve", entity={"kind": "plan", "id": "p1"},
                        before=None, after={"deadline": date(2027, 6, 30), "name": "第一批"})
    assert e["after"]["deadline"] == "2027-06-30"
    assert auditlog.verify(tmp_path) == []


def test_edited_field_detected(tmp_path: Path) -> None:
    fill(tmp_path)
    ls = lines(tmp_path)
    e = json.loads(ls[2])
    e["after"]["lifecycle"] = "in_service"
    ls[2] = json.dumps(e, ensure_ascii=False) + "\n"
    rewrite(tmp_path, ls)
    assert codes(auditlog.verify(tmp_path)) == {(3, "hash")}


def test_edited_and_rehashed_entry_breaks_the_next_link(tmp_path: Path) -> None:
    fill(tmp_path)
    ls = lines(tmp_path)
    e = json.loads(ls[1])
    e["who"]["actor"] = "李四"
    e["hash"] = entry_hash(e)
    ls[1] = json.dumps(e, ensure_ascii=False) + "\n"
    rewrite(tmp_path, ls)
    # re-hashed without the key: its mac no longer matches (and the next link breaks)
    assert codes(auditlog.verify(tmp_path)) == {(2, "mac"), (3, "chain")}


def test_deleted_line_detected(tmp_path: Path) -> None:
    fill(tmp_path)
    ls = lines(tmp_path)
    del ls[2]
    rewrite(tmp_path, ls)
    problems = auditlog.verify(tmp_path)
    assert codes(problems) == {(4, "sequence"), (4, "chain")}
    assert "entry 3 is missing" in next(p.message for p in problems if p.code == "sequence")


def test_deleted_last_line_detected_via_head(tmp_path: Path) -> None:
    fill(tmp_path)
    rewrite(tmp_path, lines(tmp_path)[:-1])
    assert codes(auditlog.verify(tmp_path)) == {(5, "truncated")}


def test_swapped_lines_detected(tmp_path: Path) -> None:
    fill(tmp_path)
    ls = lines(tmp_path)
    ls[1], ls[2] = ls[2], ls[1]
    rewrite(tmp_path, ls)
    found = codes(auditlog.verify(tmp_path))
    assert (3, "sequence") in found and (3, "chain") in found and (2, "chain") in found


def test_inserted_forged_line_detected(tmp_path: Path) -> None:
    entries = fill(tmp_path)
    forged = {"seq": 3, "at": "2026-01-01T00:00:00Z", "who": {"os_user": "mallory", "actor": None},
              "action": "export", "entity": {"kind": "inventory", "id": "x"}, "before": None, "after": None,
              "reason": None, "prev_hash": entries[1]["hash"]}
    forged["hash"] = entry_hash(forged)   # self-consistent, yet it cannot fit the chain
    ls = lines(tmp_path)
    ls.insert(2, json.dumps(forged) + "\n")
    rewrite(tmp_path, ls)
    problems = auditlog.verify(tmp_path)
    # the genuine seq 3 now follows the forged one: duplicate seq and a broken link there
    assert {(3, "sequence"), (3, "chain")} <= codes(problems)
    assert any("appears again" in p.message for p in problems)
    assert all(p.line in (4, None) or p.seq in (3, 4, 5) for p in problems)


def test_truncated_last_line_detected(tmp_path: Path) -> None:
    fill(tmp_path)
    path = auditlog.log_path(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-40])
    found = codes(auditlog.verify(tmp_path))
    assert (5, "unreadable") in found and (5, "torn") in found
    # and the damaged tail blocks further appends instead of being built upon
    with pytest.raises(auditlog.AuditLogError):
        auditlog.append(tmp_path, action="x", entity=("k", "i"))
    assert path.read_bytes() == data[:-40]


def _worker(root: str, n: int, tag: str) -> None:
    for i in range(n):
        auditlog.append(root, action="update", entity={"kind": "server", "id": f"{tag}-{i}"},
                        before=None, after={"i": i, "pad": "x" * 3000}, who=tag)


def test_concurrent_appends_keep_a_valid_chain(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork") if hasattr(multiprocessing, "get_context") else multiprocessing
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), 40, tag)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = auditlog.read(tmp_path)
    assert len(entries) == 80
    assert [e["seq"] for e in entries] == list(range(1, 81))
    assert {e["who"]["actor"] for e in entries} == {"a", "b"}
    assert auditlog.verify(tmp_path) == []


def test_cli_verify_and_show(tmp_path: Path) -> None:
    fill(tmp_path, 3)
    runner = CliRunner()
    res = runner.invoke(audit_app, ["verify", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 0 and "3 entries" in res.output
    res = runner.invoke(audit_app, ["verify", str(tmp_path)])               # Chinese by default
    assert res.exit_code == 0 and "3 条记录，哈希链完整" in res.output
    res = runner.invoke(audit_app, ["show", str(tmp_path), "--limit", "2", "--output", "json"])
    assert res.exit_code == 0
    assert [e["seq"] for e in json.loads(res.stdout)] == [2, 3]
    res = runner.invoke(audit_app, ["show", str(tmp_path)])
    assert res.exit_code == 0 and "sys-3" in res.output
    ls = lines(tmp_path)
    ls[0] = ls[0].replace("普查核实 1", "普查核实 9")
    rewrite(tmp_path, ls)
    res = runner.invoke(audit_app, ["verify", str(tmp_path), "--output", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["problems"][0]["seq"] == 1 and doc["problems"][0]["code"] == "hash"


# ---------------------------------------------------------------- keyed, anchored, robust


def test_rehashing_the_whole_chain_without_the_key_is_detected(tmp_path: Path) -> None:
    fill(tmp_path)
    ls = [json.loads(x) for x in lines(tmp_path)]
    ls[1]["after"]["lifecycle"] = "forged"
    prev = ls[0]["hash"]
    for e in ls[1:]:                      # what an attacker with write access can do: re-hash all
        e["prev_hash"] = prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
    rewrite(tmp_path, [json.dumps(e, ensure_ascii=False) + "\n" for e in ls])
    head = tmp_path / ".govcloud" / "audit.head"
    head.write_text(json.dumps({"seq": 5, "hash": prev}) + "\n")
    found = codes(auditlog.verify(tmp_path))
    assert {(s, "mac") for s in (2, 3, 4, 5)} <= found


def test_removed_or_truncated_log_is_noticed_through_the_anchor(tmp_path: Path) -> None:
    import shutil as _sh
    fill(tmp_path)
    ls = lines(tmp_path)
    # cut the log and its head alike: the anchor outside the inventory still says seq 5
    rewrite(tmp_path, ls[:3])
    e3 = json.loads(ls[2])
    (tmp_path / ".govcloud" / "audit.head").write_text(json.dumps({"seq": 3, "hash": e3["hash"]}) + "\n")
    assert (5, "truncated") in codes(auditlog.verify(tmp_path))
    _sh.rmtree(tmp_path / ".govcloud")
    assert (5, "missing") in codes(auditlog.verify(tmp_path))


def test_key_file_is_private_and_outside_the_inventory(tmp_path: Path) -> None:
    fill(tmp_path, 1)
    key = auditlog.key_file()
    assert key.exists() and (key.stat().st_mode & 0o777) == 0o600
    assert tmp_path not in key.parents
    key.chmod(0o644)
    with pytest.raises(auditlog.AuditLogError, match="read by others"):
        auditlog.append(tmp_path, action="x", entity=("k", "i"))


@pytest.mark.parametrize("bad", [
    '{"seq": NaN, "hash": "x"}\n',
    '{"seq": 1e400, "hash": "x"}\n',
    '[1]\n',
    '"text"\n',
    '{"seq": 1, "after": {"x": Infinity}, "hash": "x"}\n',
])
def test_hostile_log_lines_are_clear_problems(tmp_path: Path, bad: str) -> None:
    d = tmp_path / ".govcloud"
    d.mkdir()
    (d / "audit.jsonl").write_text(bad)
    problems = auditlog.verify(tmp_path)
    assert problems and all(p.code in ("unreadable", "seq", "fields", "hash", "chain", "key") for p in problems)
    with pytest.raises(auditlog.AuditLogError):
        auditlog.append(tmp_path, action="x", entity=("k", "i"))
    runner = CliRunner()
    r = runner.invoke(audit_app, ["verify", str(tmp_path)])
    assert r.exit_code == 1, r.output
    r = runner.invoke(audit_app, ["show", str(tmp_path)])
    assert r.exit_code == 0, r.output


def test_head_that_is_a_directory_is_a_clear_problem(tmp_path: Path) -> None:
    fill(tmp_path, 2)
    head = tmp_path / ".govcloud" / "audit.head"
    head.unlink()
    head.mkdir()
    assert (None, "head") in codes(auditlog.verify(tmp_path))
    with pytest.raises(auditlog.AuditLogError):
        auditlog.append(tmp_path, action="x", entity=("k", "i"))
    r = CliRunner().invoke(audit_app, ["verify", str(tmp_path)])
    assert r.exit_code == 1 and "audit.head" in r.output


def _load_key_at(path: str, start, out) -> None:
    import os
    os.environ["GOVCLOUD_AUDIT_KEY_FILE"] = path
    start.wait(10)
    try:
        out.put(auditlog.load_key(create=True).hex())
    except Exception as exc:             # noqa: BLE001 — the test reports what any process saw
        out.put(f"error: {exc}")


def test_processes_creating_the_key_at_once_all_read_one_whole_key(tmp_path: Path) -> None:
    """The key appears whole or not at all: a process never reads a key another is still writing."""
    ctx = multiprocessing.get_context("fork")
    for attempt in range(6):
        path = str(tmp_path / f"k{attempt}" / "audit.key")
        start, out = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_load_key_at, args=(path, start, out)) for _ in range(8)]
        for p in procs:
            p.start()
        start.set()
        got = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(60)
        assert len(set(got)) == 1 and not got[0].startswith("error"), got
        assert sorted(x.name for x in (tmp_path / f"k{attempt}").iterdir()) == ["audit.key"]   # no temp left


def test_show_names_actions_and_records_by_their_labels_in_each_language(tmp_path: Path) -> None:
    """`audit show` words what govcloud records (导入/导出/发现采集) in the chosen language; JSON keeps
    the keys; an action it does not know is shown as written."""
    import subprocess
    import sys
    auditlog.append(tmp_path, action="import", entity=("inventory", "heyuan"), reason="r1")
    auditlog.append(tmp_path, action="discover", entity=("observations", "observed/discovery.yaml"))
    auditlog.append(tmp_path, action="export", entity=("inventory", "heyuan"))
    auditlog.append(tmp_path, action="zz-future", entity=("thing", "x"))

    def show(*extra: str) -> str:
        r = subprocess.run([sys.executable, "-m", "govcloud", "audit", "show", str(tmp_path), *extra],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout
    zh, en = show(), show("--lang", "en")
    assert "导入  清单/heyuan" in zh and "发现采集  采集结果/observed/discovery.yaml" in zh and "导出" in zh
    assert "import  inventory/heyuan" in en and "discovery  observations/" in en
    assert "zz-future  thing/x" in zh and "zz-future  thing/x" in en
    assert [e["action"] for e in json.loads(show("-o", "json"))] == ["import", "discover", "export", "zz-future"]
