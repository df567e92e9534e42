"""The plan commands end to end on the bundled Heyuan example, through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from govcloud.render.reasons import render as render_reason

from govcloud.inventory.validate import validate_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import APPROVERS as _APPROVERS, approve_args as _approve_args, approver_key  # noqa: E402

APPROVERS = _APPROVERS + ("张三", "李四")


def approve_args(plan: Path, by: str) -> list[str]:
    return _approve_args(plan, by)

HEYUAN = Path(__file__).resolve().parents[2] / "inventories" / "heyuan"


def gc(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    if rc is not None:
        assert proc.returncode == rc, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plans")
    gc("plan", "generate", str(HEYUAN), "--out", str(out))
    return out / "heyuan-2018"


@pytest.fixture(scope="module")
def shown(plan_dir) -> dict:
    return json.loads(gc("plan", "show", str(plan_dir), "--output", "json").stdout)


def test_generate_writes_plan_and_document(plan_dir: Path) -> None:
    assert (plan_dir / "plan.yaml").is_file() and (plan_dir / "plan.md").is_file()
    doc = (plan_dir / "plan.md").read_text(encoding="utf-8")
    assert doc.startswith("# 河源市政务信息系统分批次迁移上云计划")
    for heading in ("一、总体情况", "四、批次安排", "六、暂无法排期的系统及原因", "七、机房腾退时间表", "试点批次"):
        assert heading in doc
    assert "河府办〔2018〕49号" in doc


def test_every_system_exactly_once(shown: dict) -> None:
    inv = validate_path(HEYUAN).inventory
    seen = [s["id"] for b in shown["batches"] for s in b["systems"]]
    seen += [r["id"] for r in shown["retained"]] + [u["id"] for u in shown["unscheduled"]]
    assert sorted(seen) == sorted(inv.systems)


def test_json_contract(shown: dict) -> None:
    assert shown["plan_id"] == "heyuan-2018" and shown["inputs_digest"].startswith("sha256:")
    b0 = shown["batches"][0]
    assert set(b0) >= {"id", "name", "start", "end", "deadline", "systems"}
    assert b0["name"] == "试点批次"
    for b in shown["batches"]:
        assert date.fromisoformat(b["start"]) <= date.fromisoformat(b["end"])
        for s in b["systems"]:
            assert set(s) >= {"id", "strategy", "target_zone", "move_group", "flavor", "vcpus", "ram_gb", "image"}
    assert all(set(r) >= {"id", "reason"} and r["reason"] for r in shown["retained"])
    assert all(set(u) >= {"id", "reasons"} and u["reasons"] for u in shown["unscheduled"])
    assert all(set(r) >= {"id", "empty_by"} for r in shown["rooms"])
    assert shown["approval"]["status"] == "unapproved"


def test_heyuan_decisions_follow_the_rules(shown: dict) -> None:
    inv = validate_path(HEYUAN).inventory
    items = {s["id"]: s for b in shown["batches"] for s in b["systems"]}
    zones = inv.cloud_zones
    for sid, s in items.items():
        system = inv.systems[sid]
        if system.is_classified:
            assert s["strategy"] == "relocate_intranet" and zones[s["target_zone"]].accepts_classified
        if system.lifecycle.value == "zombie":
            assert s["strategy"] == "retire" and s["target_zone"] is None
        if s["target_zone"]:
            assert zones[s["target_zone"]].mlps_level >= (system.mlps_level or 2)
    retained = {r["id"]: r["reason_code"] for r in shown["retained"]}
    verticals = [s for s in inv.systems.values() if s.build_mode.is_vertical and not s.superior_approval]
    assert verticals and all(retained.get(v.id) == "vertical_without_approval" for v in verticals)
    # the pilot is small and moves real systems
    pilot = shown["batches"][0]
    assert sum(len(s["servers"]) for s in pilot["systems"]) <= inv.policy().thresholds.pilot_max_servers
    assert all(s["strategy"] not in ("retire", "repurchase") for s in pilot["systems"])


def test_validate_passes_then_catches_a_hand_edit(plan_dir: Path, shown: dict, tmp_path: Path) -> None:
    assert "0 violation(s)" in gc("plan", "validate", str(plan_dir), "--lang", "en").stdout
    assert "发现 0 处硬性规则违反" in gc("plan", "validate", str(plan_dir)).stdout     # Chinese by default
    edited = tmp_path / "edited"
    edited.mkdir()
    text = (plan_dir / "plan.yaml").read_text(encoding="utf-8")
    classified = next(s["id"] for b in shown["batches"] for s in b["systems"] if s["strategy"] == "relocate_intranet")
    line = next(ln for ln in text.splitlines() if f'"id": "{classified}"' in ln)
    zone = json.loads(line.rstrip(","))["target_zone"]
    text = text.replace(line, line.replace(f'"target_zone": "{zone}"', '"target_zone": "heyuan-cloud-x86"'))
    (edited / "plan.yaml").write_text(text, encoding="utf-8")
    # the copied plan must still find its inventory: point it at the same path, absolutely
    data_line = next(ln for ln in text.splitlines() if ln.startswith('"inventory":'))
    (edited / "plan.yaml").write_text(text.replace(data_line, f'"inventory": {json.dumps(str(HEYUAN))},'),
                                      encoding="utf-8")
    proc = gc("plan", "validate", str(edited), rc=1)
    assert any(ln.startswith("H-SEC-1 " + classified) for ln in proc.stdout.splitlines()), proc.stdout


def test_regeneration_is_byte_identical(plan_dir: Path, tmp_path: Path) -> None:
    gc("plan", "generate", str(HEYUAN), "--out", str(tmp_path))
    assert (tmp_path / "heyuan-2018" / "plan.yaml").read_bytes() == (plan_dir / "plan.yaml").read_bytes()
    assert (tmp_path / "heyuan-2018" / "plan.md").read_bytes() == (plan_dir / "plan.md").read_bytes()


def _with_approvers(policy: dict, **scope: list[str]) -> dict:
    pub = approver_key().with_name("id_ed25519.pub").read_text(encoding="utf-8").strip()
    return dict(policy, approvers=[{"name": n, "ssh_key": pub, **scope} for n in APPROVERS])


def heyuan_with_approvers(dest: Path, **scope: list[str]) -> Path:
    """A copy of the Heyuan inventory whose policy lists the test approvers' key."""
    import shutil
    import yaml
    shutil.copytree(HEYUAN, dest)
    doc = yaml.safe_load((dest / "policy.yaml").read_text(encoding="utf-8"))
    doc["policies"] = [_with_approvers(doc["policies"][0], **scope)] + doc["policies"][1:]
    (dest / "policy.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dest


def test_approve_then_any_edit_voids_it(tmp_path: Path) -> None:
    inv = heyuan_with_approvers(tmp_path / "inv")
    gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"))
    work = tmp_path / "plans" / "heyuan-2018"
    approval = json.loads(gc(*approve_args(work, "张三"), "-o", "json").stdout)
    assert approval["approved_by"] == "张三" and approval["plan_sha256"].startswith("sha256:")
    assert approval["scheme"] == "ssh" and approval["inventory_digest"].startswith("sha256:")
    assert json.loads(gc("plan", "show", str(work), "-o", "json").stdout)["approval"]["status"] == "approved"
    with (work / "plan.yaml").open("a", encoding="utf-8") as fh:
        fh.write(" ")  # even whitespace changes the bytes that were approved
    assert json.loads(gc("plan", "show", str(work), "-o", "json").stdout)["approval"]["status"] == "stale"


def test_explain_a_planned_a_retained_and_an_unscheduled_system(shown: dict, plan_dir: Path) -> None:
    planned = shown["batches"][1]["systems"][0]["id"]
    data = json.loads(gc("plan", "explain", str(plan_dir), planned, "-o", "json").stdout)
    assert set(data["reasons"]) >= {"strategy", "group", "batch"} and data["batch"] == shown["batches"][1]["id"]
    retained = shown["retained"][0]["id"]
    assert json.loads(gc("plan", "explain", str(plan_dir), retained, "-o", "json").stdout)["retained"] is True
    if shown["unscheduled"]:
        u = shown["unscheduled"][0]
        out = gc("plan", "explain", str(plan_dir), u["id"], "--lang", "en").stdout
        # reasons are stored as codes and worded in the reader's language
        assert "why it cannot be scheduled" in out and render_reason(u["reasons"][0], "en")[:30] in out
        assert "planning objective" in out
    gc("plan", "explain", str(plan_dir), "no-such-system", rc=1)


def test_diff_names_what_moved_and_why(plan_dir: Path, tmp_path: Path) -> None:
    gc("plan", "generate", str(HEYUAN), "--out", str(tmp_path), "--id", "slower", "--batch-weeks", "6")
    diff = json.loads(gc("plan", "diff", str(plan_dir), str(tmp_path / "slower"), "-o", "json").stdout)
    assert diff["a"] == "heyuan-2018" and diff["b"] == "slower" and diff["changes"]
    moved = [c for c in diff["changes"] if "where" in c["change"]]
    assert moved and all(c["why"] for c in moved)
    same = json.loads(gc("plan", "diff", str(plan_dir), str(plan_dir), "-o", "json").stdout)
    assert same["changes"] == []
    # the reasons follow --lang: Chinese by default, English on request; never the stored codes
    zh = gc("plan", "diff", str(plan_dir), str(tmp_path / "slower")).stdout
    en = gc("plan", "diff", str(plan_dir), str(tmp_path / "slower"), "--lang", "en").stdout
    assert "割接日" in zh and "cutover" not in zh and "个系统有变化" in zh
    assert "cutover" in en and "割接日" not in en
    assert "BATCH.cutover {" not in zh + en


def test_explain_and_show_follow_the_language(plan_dir: Path, shown: dict) -> None:
    planned = shown["batches"][1]["systems"][0]["id"]
    zh = gc("plan", "explain", str(plan_dir), planned).stdout
    en = gc("plan", "explain", str(plan_dir), planned, "--lang", "en").stdout
    assert "规划目标" in zh and "割接日" in zh and "{" not in zh
    assert "planning objective" in en and "cutover" in en and "割接日" not in en
    show_en = gc("plan", "show", str(plan_dir), "--lang", "en").stdout
    assert "pilot" in show_en and "试点批次" not in show_en and "第1批" not in show_en


def test_english_document(tmp_path: Path) -> None:
    gc("plan", "generate", str(HEYUAN), "--out", str(tmp_path), "--lang", "en")
    doc = (tmp_path / "heyuan-2018" / "plan.md").read_text(encoding="utf-8")
    assert doc.startswith("# 河源市: batched migration") and "## 4. Batches" in doc and "rehost" in doc


def test_generate_refuses_an_inventory_with_errors(tmp_path: Path) -> None:
    from invtree import write_inventory_tree
    root = write_inventory_tree(tmp_path / "inv", {"organizations.yaml": "format_version: 1\norganizations: x\n"})
    proc = gc("plan", "generate", str(root), "--out", str(tmp_path / "out"), rc=1)
    assert "生成计划需要有效的清单" in proc.stderr
    proc = gc("plan", "generate", str(root), "--out", str(tmp_path / "out"), "--lang", "en", rc=1)
    assert "a plan needs a valid inventory" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_committed_example_plan_is_current(plan_dir: Path) -> None:
    """migration-plans/heyuan-2018 is what `govcloud plan generate inventories/heyuan` writes today."""
    committed = HEYUAN.parents[1] / "migration-plans" / "heyuan-2018"

    def without_inventory_path(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if not ln.startswith('"inventory":')]

    assert without_inventory_path((committed / "plan.yaml").read_text(encoding="utf-8")) == \
        without_inventory_path((plan_dir / "plan.yaml").read_text(encoding="utf-8")), \
        "regenerate it: govcloud plan generate inventories/heyuan"
    assert (committed / "plan.md").read_text(encoding="utf-8") == (plan_dir / "plan.md").read_text(encoding="utf-8")


def test_policy_file_plans_validates_and_approves(tmp_path: Path) -> None:
    """--policy FILE: names in its scopes resolve, and validate/approve use the same policy."""
    import yaml
    policies = yaml.safe_load((HEYUAN / "policy.yaml").read_text(encoding="utf-8"))["policies"]
    policy = _with_approvers(dict(policies[0], id="heyuan-alt", name="另一种分批方案"))
    t1 = next(b for b in policy["batches"] if b["id"] == "T1")
    inv = validate_path(HEYUAN).inventory
    oid = t1["scope_orgs"][1]
    alias = inv.organizations[oid].aliases[0]
    t1["scope_orgs"] = [alias if o == oid else o for o in t1["scope_orgs"]]  # a 2018 alias, not the id
    pfile = tmp_path / "alt-policy.yaml"
    pfile.write_text(yaml.safe_dump({"format_version": 1, "policies": [policy]}, allow_unicode=True),
                     encoding="utf-8")
    out = tmp_path / "plans"
    gc("plan", "generate", str(HEYUAN), "--policy", str(pfile), "--out", str(out))
    shown = json.loads(gc("plan", "show", str(out / "heyuan-alt"), "-o", "json").stdout)
    assert shown["plan_id"] == "heyuan-alt" and shown["policy"] == "heyuan-alt"
    assert "0 violation(s)" in gc("plan", "validate", str(out / "heyuan-alt"), "--lang", "en").stdout
    gc(*approve_args(out / "heyuan-alt", "李四"))
    assert json.loads(gc("plan", "show", str(out / "heyuan-alt"), "-o", "json").stdout)["approval"]["status"] \
        == "approved"
    bad = tmp_path / "bad-policy.yaml"
    t1["scope_orgs"] = ["没有这个部门"]
    bad.write_text(yaml.safe_dump({"format_version": 1, "policies": [policy]}, allow_unicode=True), encoding="utf-8")
    proc = gc("plan", "generate", str(HEYUAN), "--policy", str(bad), "--out", str(out), rc=1)
    assert "没有这个部门" in proc.stderr
