"""`govcloud migrate` refuses what it must refuse before it touches anything — through the real
command in a subprocess (no cloud needed: every refusal happens first)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import approve_args, write_inventory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def gc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.fixture
def plan(tmp_path):
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43"), ("h44", "198.18.1.44")],
                          ("h38", "198.18.1.38"), start="2026-11-23")
    p = gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill")
    assert p.returncode == 0, p.stderr
    return tmp_path / "plans" / "drill"


def test_unapproved_plan_is_refused(plan):
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "not approved" in p.stderr and "plan approve" in p.stderr
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run")  # Chinese by default
    assert p.returncode == 4 and "未经审批" in p.stderr
    assert not (plan / "journal.jsonl").exists()


def test_plan_edited_after_approval_is_refused(plan):
    assert gc(*approve_args(plan, "审批人")).returncode == 0
    y = plan / "plan.yaml"
    y.write_text(y.read_text().replace('"flavor": "m1.small"', '"flavor": "c2.m4"', 1))
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "edited after it was approved" in p.stderr


def test_stale_plan_is_refused(plan, tmp_path):
    assert gc(*approve_args(plan, "审批人")).returncode == 0
    dept = tmp_path / "inv" / "departments" / "drill.yaml"
    dept.write_text(dept.read_text().replace("ram_gb: 2,", "ram_gb: 4,", 1))
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--yes", "--lang", "en")
    assert p.returncode == 1 and "stale" in p.stderr and "regenerate" in p.stderr
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--yes")
    assert p.returncode == 1 and "普查清单在计划生成后已变更" in p.stderr


def test_unknown_batch_and_system_and_stage(plan):
    assert gc(*approve_args(plan, "审批人")).returncode == 0
    p = gc("migrate", "run", str(plan), "--batch", "7", "--dry-run")
    assert p.returncode == 1 and "计划中没有批次 '7'" in p.stderr and "现有批次：B00" in p.stderr, p.stderr
    p = gc("migrate", "run", str(plan), "--batch", "7", "--dry-run", "--lang", "en")
    assert p.returncode == 1 and "batch '7' is not in the plan" in p.stderr and "B00" in p.stderr
    p = gc("migrate", "run", str(plan), "--batch", "0", "--system", "nope", "--dry-run")
    assert p.returncode == 1 and "nope" in p.stderr
    p = gc("migrate", "run", str(plan), "--batch", "0", "--until", "done", "--dry-run")
    assert p.returncode == 2 and "prechecked, provisioned, synced" in p.stderr
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--force", "--yes")
    assert p.returncode == 2 and "--reason" in p.stderr


def test_cutover_before_sync_is_refused_and_status_reads_the_journal(plan):
    assert gc(*approve_args(plan, "审批人")).returncode == 0
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--yes", "--today", "2026-11-28", "--lang", "en")
    assert p.returncode == 1 and "not synced" in p.stderr
    # a journal written by earlier runs (with a line torn by a crash at the end)
    (plan / "journal.jsonl").write_text(
        '{"at":"2026-11-23T01:00:00Z","who":"ops@m","kind":"state","system":"app1","to":"prechecked"}\n'
        '{"at":"2026-11-23T01:01:00Z","who":"ops@m","kind":"state","system":"app1","to":"failed",'
        '"step":"provision","reason":"quota: cores needed 2, free 0 of 8"}\n'
        '{"at":"2026-11-23T01:02:00Z","kind":"sta')
    p = gc("migrate", "status", str(plan), "-o", "json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    by = {s["system"]: s for s in data["systems"]}
    assert by["app1"]["state"] == "failed" and by["app1"]["failed_step"] == "provision"
    assert "quota" in by["app1"]["reason"] and by["app2"]["state"] == "pending"
    assert data["torn_tail"] is True and data["counts"] == {"failed": 1, "pending": 1}
    text = gc("migrate", "status", str(plan), "--lang", "zh").stdout
    assert "失败" in text and "待迁移" in text


def test_cutover_projected_beyond_the_approved_window_is_refused_and_status_shows_downtime(tmp_path):
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43"), ("h44", "198.18.1.44")],
                          ("h38", "198.18.1.38"), start="2026-11-23", max_downtime_s=60)
    assert gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill").returncode == 0
    plan = tmp_path / "plans" / "drill"
    assert gc(*approve_args(plan, "审批人")).returncode == 0
    import yaml
    doc = yaml.safe_load((plan / "plan.yaml").read_text(encoding="utf-8"))
    days = {i["id"]: str(i["cutover"]) for b in doc["batches"] for i in b["systems"]}
    # app1: synced, its last sync took 120 s (final delta 120 s + 15 s services > 60 s approved);
    # app2: cut over before (and rolled back), with the downtime its client measured
    (plan / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [
        {"at": "2026-11-23T01:00:00.000Z", "kind": "step", "system": "app1", "step": "sync", "status": "start"},
        {"at": "2026-11-23T01:02:00.000Z", "kind": "step", "system": "app1", "step": "sync", "status": "ok"},
        {"at": "2026-11-23T01:02:00.000Z", "kind": "state", "system": "app1", "to": "synced"},
        {"at": "2026-11-23T01:00:00.000Z", "kind": "step", "system": "app2", "step": "sync", "status": "start"},
        {"at": "2026-11-23T01:00:05.000Z", "kind": "step", "system": "app2", "step": "sync", "status": "ok"},
        {"at": "2026-11-23T01:00:05.000Z", "kind": "state", "system": "app2", "to": "synced"},
        {"at": "2026-11-23T02:00:00.000Z", "kind": "step", "system": "app2", "step": "cutover", "status": "ok",
         "detail": {"downtime_s": 7.25, "downtime": "downtime app2: 7.25 s seen from h38 (…)"}},
        {"at": "2026-11-23T02:00:00.000Z", "kind": "state", "system": "app2", "to": "cutover"},
    ]), encoding="utf-8")
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--system", "app1", "--yes", "--today", days["app1"])
    assert p.returncode == 1, p.stderr
    assert "拒绝割接：预计停机超过批准的割接窗口 60 秒：app1 135 s" in p.stderr, p.stderr
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--system", "app1", "--yes", "--today", days["app1"],
           "--lang", "en")
    assert p.returncode == 1, p.stderr
    assert "projected downtime exceeds the approved window of 60 s: app1 135 s" in p.stderr, p.stderr
    assert '"command": "cutover"' not in (plan / "journal.jsonl").read_text()      # nothing was started
    data = json.loads(gc("migrate", "status", str(plan), "-o", "json").stdout)
    by = {s["system"]: s for s in data["systems"]}
    assert by["app1"]["last_sync_s"] == 120.0 and by["app2"]["downtime_s"] == 7.25
    assert "实测停机" in gc("migrate", "status", str(plan)).stdout
    assert "downtime" in gc("migrate", "status", str(plan), "--lang", "en").stdout
