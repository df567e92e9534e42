"""The use-case floor, called directly (no CLI): typed results, and one approval/staleness guard
shared by `plan approve`, `plan validate` and `migrate`."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcloud.errors import ExitCode, GovcloudError
from govcloud.store.planfile import read_plan
from govcloud.usecases import approval, plan as uc
from govcloud.usecases.plan import GeneratedPlan, InvalidInventory, PlanSummary


@pytest.fixture
def generated(mini: Path, tmp_path: Path) -> GeneratedPlan:
    return uc.generate_plan(mini, policy_file=None, plan_id="uc-test", out=tmp_path / "plans", start=None,
                            batch_weeks=4, lang="en")


def test_generate_returns_what_it_wrote(generated: GeneratedPlan) -> None:
    assert generated.path.name == "plan.yaml" and generated.path.is_file() and generated.document.is_file()
    on_disk = read_plan(generated.path)
    assert generated.summary == PlanSummary.of(on_disk)
    assert generated.summary.plan_id == "uc-test" and generated.summary.violations == 0
    assert on_disk.settings["inventory_digest"].startswith("sha256:")


def test_one_staleness_guard_for_validate_approve_and_run(generated: GeneratedPlan, mini: Path, tmp_path: Path) -> None:
    plan = read_plan(generated.path)
    assert approval.is_stale(plan, generated.path) is False
    assert uc.check(generated.path).stale is False
    # unchanged but unapproved: the run guard refuses with exit 4
    with pytest.raises(approval.NotApproved) as refused:
        approval.open_approved(generated.path, "en")
    assert refused.value.exit_code is ExitCode.NOT_APPROVED

    dept = mini / "departments" / "hy-wjj.yaml"
    dept.write_text(dept.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert approval.is_stale(plan, generated.path) is True
    assert uc.check(generated.path).stale is True
    with pytest.raises(GovcloudError, match="is stale"):
        approval.open_approved(generated.path, "en")
    with pytest.raises(GovcloudError, match="inventory changed"):
        uc.approve(generated.path, "someone", tmp_path / "no-key", None, "en")


def test_invalid_inventory_carries_its_problems(mini: Path, tmp_path: Path) -> None:
    (mini / "departments" / "broken.yaml").write_text("format_version: 1\nservers:\n  - {id: x, cores: many}\n",
                                                      encoding="utf-8")
    with pytest.raises(InvalidInventory) as exc:
        uc.generate_plan(mini, policy_file=None, plan_id=None, out=tmp_path / "plans", start=None, batch_weeks=4,
                         lang="zh")
    assert exc.value.problems and all(p.is_error for p in exc.value.problems)
    assert not (tmp_path / "plans").exists()            # nothing written


def test_diff_and_explain_are_data(generated: GeneratedPlan) -> None:
    plan = read_plan(generated.path)
    assert uc.diff(generated.path, generated.path).changes == []
    placed = [(i.system, "batch") for i in plan.items()] + [(u.system, "unscheduled") for u in plan.unscheduled]
    assert placed
    for system, where in placed:
        data = uc.explain(plan, system)
        assert data["system"] == system and data[where] and data["reasons"]
    with pytest.raises(GovcloudError, match="not in plan"):
        uc.explain(plan, "no-such-system")
