"""The approval and staleness guard every command shares (plan show/validate/approve, migrate,
report) and its messages in Chinese and English — the one place that decides whether a plan may run.

Exit code 4 (ExitCode.NOT_APPROVED): the plan has no valid approval for what was asked —
unapproved, unsigned, badly or wrongly signed, edited after signing, or not covering the
department or batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from govcloud.base.progress import NULL, Progress
from govcloud.errors import ExitCode, GovcloudError
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan
from govcloud.planning.rules import Violation
from govcloud.store.approval import ApprovalError, ApprovalState
from govcloud.usecases import plan_state

_MSG: dict[str, tuple[str, str]] = {
    "unapproved": ("计划 {plan} 未经审批", "{plan} is not approved"),
    "unapproved.hint": ("审阅后签名审批：govcloud plan approve {dir} --by 姓名 --key 私钥文件",
                        "review it, then sign it: `govcloud plan approve {dir} --by NAME --key KEYFILE`"),
    "stale": ("计划 {plan} 在审批后被修改（plan.yaml 的 SHA-256 与签名时不同），审批已失效",
              "{plan} was edited after it was approved (SHA-256 differs); the approval is void"),
    "stale.hint": ("审阅修改内容后重新签名审批", "review the change and approve again"),
    "invalid": ("计划 {plan} 的审批无效：{why}", "{plan}'s approval is not valid: {why}"),
    "invalid.hint": ("核对 approval.yaml 与策略中的审批人（approvers），由名单中的审批人重新签名审批",
                     "check approval.yaml and the policy's approvers; an approver on the list must approve again"),
    "not-covered": ("计划 {plan} 的审批不覆盖系统 {system}（部门 {org}，批次 {batch}）：{signers}",
                    "{plan}'s approval does not cover system {system} (department {org}, batch {batch}): {signers}"),
    "not-covered.hint": ("由有权审批该部门/批次的审批人签名：govcloud plan approve … --by 姓名 --key 私钥文件",
                         "have an approver for that department/batch sign it: `govcloud plan approve … --by NAME --key KEYFILE`"),
    "signed-by": ("已签名：{names}", "signed by: {names}"),
    "violations": ("计划 {plan} 违反 {n} 条硬性规则，拒绝执行", "{plan} breaks {n} hard rule(s); refusing to run it"),
    "violations.hint": ("运行 govcloud plan validate {dir} 查看；重新生成并审批计划",
                        "see `govcloud plan validate {dir}`; regenerate and approve the plan"),
    # why an approval is invalid
    "unsigned": ("approval.yaml 是未签名的旧格式审批（{file}）", "approval.yaml is an unsigned approval ({file})"),
    "malformed": ("approval.yaml 格式错误（{file}）", "approval.yaml is malformed ({file})"),
    "other-plan": ("{by} 的签名属于另一个计划（{plan}）", "{by}'s signature is for another plan ({plan})"),
    "other-inventory": ("{by} 的签名针对的清单摘要与计划不符", "{by}'s signature names another inventory digest"),
    "bad-signature": ("{by} 的签名验证失败（签名被篡改或签名内容被修改）",
                      "{by}'s signature does not verify (the signature or the signed fields were altered)"),
    "not-an-approver": ("{by} 不在策略的审批人名单（approvers）中", "{by} is not among the policy's approvers"),
    "key-not-listed": ("签名所用密钥不是策略为 {by} 登记的密钥", "the signing key is not a key the policy lists for {by}"),
    "no-approvers": ("计划所依据的策略未登记任何审批人（approvers）", "the plan's policy lists no approvers"),
    "no-policy": ("无法读取计划所依据的策略：{reason}", "the plan's policy cannot be read: {reason}"),
    # plan approve
    "approve-not-listed": ("{by} 不在策略 {policy} 的审批人名单中，或所给密钥不是为其登记的密钥",
                           "{by} is not an approver of policy {policy}, or the key given is not one listed for them"),
    "approve-not-listed.hint": ("在清单根目录 policy.yaml 的该策略下添加 approvers: - {{name: 姓名, ssh_key: \"ssh-ed25519 AAAA…\"}}（或 sm2_key: PEM 公钥），重新生成计划后再审批",
                                "add `approvers: - {{name: NAME, ssh_key: \"ssh-ed25519 AAAA…\"}}` (or sm2_key: a PEM public key) to the policy in the inventory's root policy.yaml, regenerate the plan, then approve"),
    "tool-missing": ("找不到 {tool} 命令", "the {tool} command is not installed"),
    "key-unreadable": ("无法读取密钥文件 {key}：{reason}", "cannot read the key file {key}: {reason}"),
    "key-unknown": ("{key} 不是 OpenSSH 密钥或 SM2（PEM）私钥", "{key} is neither an OpenSSH key nor an SM2 (PEM) private key"),
    "key-not-sm2": ("{key} 不是 SM2 私钥", "{key} is not an SM2 private key"),
    "sign-failed": ("签名失败（{tool}）：{reason}", "signing failed ({tool}): {reason}"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _MSG[key]
    return (zh if lang == "zh" else en).format(**params)


class NotApproved(GovcloudError):
    exit_code = ExitCode.NOT_APPROVED


def refusal(exc: ApprovalError, lang: str) -> GovcloudError:
    """An ApprovalError (signing problems) as a user-facing error in ``lang``."""
    err = GovcloudError(msg(exc.code, lang, **exc.params))
    return err


def policy_approvers(plan: Any, plan_file: Path, inv: Any | None) -> tuple[list[Any] | None, str | None]:
    return plan_state.policy_approvers(plan, plan_file, inv)


def state_of(plan: Any, plan_file: Path, inv: Any | None = None) -> ApprovalState:
    return plan_state.approval_state(plan, plan_file, inv)


def why(state: ApprovalState, lang: str) -> str:
    if not state.problem:
        return ""
    code, params = state.problem
    return msg(code, lang, **params) if code in _MSG else code


def describe(state: ApprovalState, lang: str) -> str:
    """One line for titles and documents."""
    if state.status == "approved":
        names = ", ".join(f"{v.signature.approved_by} {v.signature.approved_at}"
                          + (f" [{','.join(v.departments + v.batches)}]" if v.departments or v.batches else "")
                          for v in state.valid)
        return ("已审批（签名有效）：" if lang == "zh" else "approved (signature verified): ") + names
    if state.status == "stale":
        return "审批已失效：计划在审批后被修改" if lang == "zh" else "approval is stale: the plan was edited after approval"
    if state.status == "invalid":
        return ("审批无效：" if lang == "zh" else "approval NOT valid: ") + why(state, lang)
    return "未审批" if lang == "zh" else "not approved"


def require(plan: Any, plan_file: Path, inv: Any, lang: str,
            items: Iterable[tuple[Any, str, str | None]] | None = None) -> ApprovalState:
    """Refuse (exit 4) unless the plan carries a valid signed approval covering ``items``
    ((plan item, plan batch id, policy batch id) triples; None: just a valid approval)."""
    state = state_of(plan, plan_file, inv)
    params = {"plan": plan.plan_id, "dir": plan_file.parent}
    if state.status == "unapproved":
        raise NotApproved(msg("unapproved", lang, **params), hint=msg("unapproved.hint", lang, **params))
    if state.status == "stale":
        raise NotApproved(msg("stale", lang, **params), hint=msg("stale.hint", lang, **params))
    if state.status == "invalid":
        raise NotApproved(msg("invalid", lang, why=why(state, lang), **params), hint=msg("invalid.hint", lang))
    for item, batch_id, policy_batch in items or ():
        if not any(v.covers(item.owner_org, (batch_id, policy_batch)) for v in state.valid):
            signers = msg("signed-by", lang, names=", ".join(
                f"{v.signature.approved_by} ({','.join(v.departments + v.batches) or '*'})" for v in state.valid))
            raise NotApproved(msg("not-covered", lang, system=item.system, org=item.owner_org, batch=batch_id,
                                  signers=signers, **params), hint=msg("not-covered.hint", lang))
    return state


def describe_plan(state: "plan_state.PlanState", lang: str) -> str:
    """:func:`describe` plus whether the plan's inputs changed since it was generated."""
    text = describe(state.approval, lang)
    if state.stale:
        text += ("；⚠ " if lang == "zh" else "; ⚠ ") + plan_state.changed_text(state.changed, lang)
    return text


# ---------------------------------------------------------------- the guard


class PlanViolations(GovcloudError):
    """The plan breaks hard rules; ``violations`` for the caller to show."""

    def __init__(self, message: str, violations: list[Violation], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.violations = violations


def is_stale(plan: Plan, plan_file: Path) -> bool:
    """Whether the plan's inputs (the inventory, the --policy file it was built with) differ from
    those it was generated from, or it recorded none (``plan_state.inputs_changed``)."""
    return bool(plan_state.inputs_changed(plan, plan_file))


@dataclass
class ApprovedPlan:
    """A plan that passed every guard, ready to run."""
    path: Path                 # its plan.yaml
    plan: Plan
    inventory: Inventory
    approval: ApprovalState


def open_approved(plan_arg: Path, lang: str = "zh", *, progress: Progress = NULL) -> ApprovedPlan:
    """The plan, its inventory and its approval state, after every guard: an unchanged inventory,
    a valid inventory, a valid signed approval (exit 4 otherwise) and the hard rules re-checked on
    the plan about to run (:class:`PlanViolations`)."""
    from govcloud.inventory.validate import validate_path
    from govcloud.planning.rules import check_plan
    from govcloud.store.planfile import inventory_of, plan_path, read_plan
    path = plan_path(Path(plan_arg))
    plan = read_plan(path)
    inv_root = inventory_of(plan, path)
    changed = plan_state.inputs_changed(plan, path)
    if changed:
        raise GovcloudError(f"{plan.plan_id}: " + plan_state.changed_text(changed, lang),
                            hint="govcloud plan generate … --force; govcloud plan approve …")
    result = validate_path(inv_root, progress=progress)   # the whole validator: workload paths and names too
    if result.errors:
        raise GovcloudError(f"the inventory has {len(result.errors)} error(s)",
                            hint=f"run `govcloud inventory validate {inv_root}`")
    state = require(plan, path, result.inventory, lang)
    violations = check_plan(plan, result.inventory)  # the independent validator, on the bytes about to run
    if violations:
        params = {"plan": plan.plan_id, "dir": path.parent}
        raise PlanViolations(msg("violations", lang, n=len(violations), **params), violations,
                             hint=msg("violations.hint", lang, **params))
    return ApprovedPlan(path, plan, result.inventory, state)


def require_covered(plan: Plan, plan_file: Path, inv: Inventory, items: list[Any], lang: str) -> ApprovalState:
    """Every selected system's department and batch must be covered by a valid signature (exit 4)."""
    where = {}
    for b in plan.batches:
        for i in b.items:
            where[i.system] = (b.id, b.policy_batch)
    return require(plan, plan_file, inv, lang, [(i, *where.get(i.system, (None, None))) for i in items])
