"""Issue 17, class 13: the plan's approval state in its documents, no silent replacement of an
approved plan, and stale plans shown as stale everywhere (plan.md, plan show, plan validate,
migrate status). Through the real command in a subprocess, with a real ssh-keygen signature."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from govcloud.usecases.plan_state import PlanState
from govcloud.render.plan_doc import approval_text, replace_approval_line
from govcloud.store.approval import ApprovalState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import ROOT, approve_args, approvers_yaml, write_inventory  # noqa: E402

pytestmark = pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="needs ssh-keygen")


def gc(*args: str, rc: int | None = 0) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True, timeout=180)
    assert "Traceback" not in p.stderr and p.returncode != 70, p.stderr
    if rc is not None:
        assert p.returncode == rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


def approval_line(plan: Path) -> str:
    for line in (plan / "plan.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(("审批状态：", "Approval：")):
            return line
    raise AssertionError("plan.md has no approval line")


def show(plan: Path) -> dict:
    return json.loads(gc("plan", "show", str(plan), "-o", "json").stdout)


@pytest.fixture
def drill(tmp_path: Path) -> dict:
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43"), ("h44", "198.18.1.44")],
                          ("h38", "198.18.1.38"), start="2026-11-23")
    gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill")
    return {"inv": inv, "plan": tmp_path / "plans" / "drill", "out": tmp_path / "plans"}


def test_plan_md_follows_the_approval(drill: dict) -> None:
    plan = drill["plan"]
    assert approval_line(plan) == "审批状态：未审批"
    gc(*approve_args(plan))
    sig = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))["signatures"][0]
    assert approval_line(plan) == f"审批状态：已审批（集成测试，{sig['approved_at']}）"
    # a second approver adds to the line; plan.yaml is untouched by both
    before = (plan / "plan.yaml").read_bytes()
    gc(*approve_args(plan, "审批人"))
    assert "集成测试" in approval_line(plan) and "审批人" in approval_line(plan)
    assert (plan / "plan.yaml").read_bytes() == before
    assert show(plan)["approval"]["status"] == "approved"
    # regenerating the identical plan keeps the approval (and says so)
    p = gc("plan", "generate", str(drill["inv"]), "--out", str(drill["out"]), "--id", "drill")
    assert "保留已有审批" in p.stderr
    assert show(plan)["approval"]["status"] == "approved" and "审批人" in approval_line(plan)


def test_english_document_gets_an_english_approval_line(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill", "--lang", "en")
    plan = tmp_path / "plans" / "drill"
    assert approval_line(plan) == "Approval：not approved"
    gc(*approve_args(plan))           # the command's language does not change the document's
    assert approval_line(plan).startswith("Approval：approved by 集成测试 at 20")


def test_an_approved_plan_is_not_replaced_without_force(drill: dict) -> None:
    plan, inv = drill["plan"], drill["inv"]
    gc(*approve_args(plan))
    text = (inv / "departments" / "drill.yaml").read_text(encoding="utf-8")
    (inv / "departments" / "drill.yaml").write_text(text.replace("mlps_level: 2", "mlps_level: 3", 1),
                                                     encoding="utf-8")
    files = {f: (plan / f).read_bytes() for f in ("plan.yaml", "plan.md", "approval.yaml")}
    p = gc("plan", "generate", str(inv), "--out", str(drill["out"]), "--id", "drill", rc=5)
    assert "集成测试" in p.stderr and "--force" in p.stderr
    assert {f: (plan / f).read_bytes() for f in files} == files          # nothing written
    p = gc("plan", "generate", str(inv), "--out", str(drill["out"]), "--id", "drill", "--force", "--lang", "en")
    assert "voided the approval of the previous plan by 集成测试" in p.stderr
    assert (plan / "plan.yaml").read_bytes() != files["plan.yaml"]
    doc = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))
    assert doc["signatures"] == []
    old = doc["superseded"][0]
    assert old["approved_by"] == "集成测试" and old["plan_sha256"] == json.loads(
        files["approval.yaml"])["signatures"][0]["plan_sha256"]
    assert show(plan)["approval"]["status"] == "unapproved"
    assert approval_line(plan) == "Approval：not approved"      # written in --lang en this time
    # the new plan is approved afresh; the voided record stays
    gc(*approve_args(plan))
    doc = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))
    assert len(doc["signatures"]) == 1 and doc["superseded"][0]["approved_by"] == "集成测试"
    assert show(plan)["approval"]["status"] == "approved"


def test_a_changed_inventory_makes_the_plan_stale_everywhere(drill: dict) -> None:
    plan, inv = drill["plan"], drill["inv"]
    gc(*approve_args(plan))
    assert show(plan)["stale_inputs"] is False
    assert gc("plan", "validate", str(plan)).returncode == 0
    with (inv / "inventory.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# 一处改动\n")
    shown = show(plan)
    assert shown["stale_inputs"] is True and shown["changed_inputs"] == ["inventory"]
    assert shown["approval"]["status"] == "approved"            # still signed, but for other inputs
    text = gc("plan", "show", str(plan)).stdout
    assert "已过期" in text or "已过期" in gc("plan", "show", str(plan)).stderr
    p = gc("plan", "validate", str(plan), rc=1)
    assert "已过期" in p.stdout and "普查清单在计划生成后已变更" in p.stderr
    assert json.loads(gc("plan", "validate", str(plan), "-o", "json", rc=1).stdout)["stale_inputs"] is True
    assert "已过期" in approval_line(plan) and "已审批" in approval_line(plan)   # validate refreshed plan.md
    st = gc("migrate", "status", str(plan), "-o", "json").stdout
    assert json.loads(st)["approval"]["stale_inputs"] is True
    assert "已过期" in gc("migrate", "status", str(plan), "--lang", "zh").stdout
    p = gc(*approve_args(plan), rc=1)
    assert "普查清单在计划生成后已变更" in p.stderr
    assert gc("plan", "validate", str(plan), "--lang", "en", rc=1).stdout.strip().endswith("the plan is stale")


def test_a_changed_policy_file_makes_the_plan_stale(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    policy = ROOT[ROOT.index("policies:"):].replace("{start}", "2026-11-23").replace("id: drill", "id: alt")
    pfile = tmp_path / "alt.yaml"
    pfile.write_text("format_version: 1\n" + policy + approvers_yaml(), encoding="utf-8")
    gc("plan", "generate", str(inv), "--policy", str(pfile), "--out", str(tmp_path / "plans"))
    plan = tmp_path / "plans" / "alt"
    assert gc("plan", "validate", str(plan)).returncode == 0
    gc(*approve_args(plan))
    pfile.write_text(pfile.read_text(encoding="utf-8").replace("2030-12-31", "2031-12-31"), encoding="utf-8")
    assert show(plan)["changed_inputs"] == ["policy"]
    p = gc("plan", "validate", str(plan), "--lang", "en", rc=1)
    assert "the policy file changed since the plan was generated" in p.stderr


def test_approval_text_and_line_replacement() -> None:
    assert approval_text("unapproved", [], "zh") == "未审批"
    assert approval_text("approved", [("张三", "t1"), ("李四", "t2")], "zh") == "已审批（张三，t1；李四，t2）"
    assert approval_text("approved", [("A", "t")], "en", changed=("inventory", "policy")) == \
        "approved by A at t; ⚠ STALE: the inventory and policy file changed since this plan was generated; " \
        "regenerate it and approve again"
    assert approval_text("invalid", [], "en", why="forged") == "approval NOT valid: forged"
    doc = "# 标题\n\n计划编号：`x`\n审批状态：未审批\n\n## 一、总体情况\n审批状态：正文里的不算\n"
    new = replace_approval_line(doc, lambda lang: approval_text("approved", [("<b>*张*</b>", "t")], lang))
    assert new == doc.replace("审批状态：未审批", "审批状态：已审批（&lt;b&gt;\\*张\\*&lt;/b&gt;，t）", 1)
    assert replace_approval_line("# no header line\n\n## body\n", lambda lang: "x") is None
    state = PlanState(ApprovalState("unapproved"), ("inventory",))
    assert state.to_plain()["stale_inputs"] is True and state.to_plain()["changed_inputs"] == ["inventory"]


def test_an_unapproved_plan_is_shown_without_reading_its_inventory(drill: dict, monkeypatch) -> None:
    """The approvers come from the inventory (≈5 s for a province): read only when there are
    signatures to check; the views that need department names read it once and share it."""
    from govcloud.inventory import loader
    from govcloud.usecases import plan as uc
    from govcloud.usecases import plan_state

    calls: list[Path] = []
    real = loader.load_inventory

    def counting(root, *args, **kwargs):
        calls.append(Path(root))
        return real(root, *args, **kwargs)
    monkeypatch.setattr(loader, "load_inventory", counting)
    monkeypatch.setattr(uc, "load_inventory", counting)
    shown = uc.show(drill["plan"])
    assert shown.state.approval.status == "unapproved" and calls == []
    shown = uc.show(drill["plan"], names=True)
    assert len(calls) == 1 and shown.org_names and shown.names_missing is None
    # approved: the approvers are read (once, from the inventory the names were read from)
    gc(*approve_args(drill["plan"]))
    calls.clear()
    shown = uc.show(drill["plan"], names=True)
    assert shown.state.approval.status == "approved" and len(calls) == 1
    calls.clear()
    assert plan_state.approval_state(shown.plan, shown.path).status == "approved" and len(calls) == 1
    # a malformed approval.yaml is invalid without reading the inventory either
    (drill["plan"] / "approval.yaml").write_text("{not: [yaml", encoding="utf-8")
    calls.clear()
    assert plan_state.approval_state(shown.plan, shown.path).status == "invalid" and calls == []
