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
from govcloud.base.i18n import Msg, localize, tr, zh_en

_MSG: dict[str, tuple[str, str]] = {
    "unapproved": zh_en("{plan} is not approved"),
    "unapproved.hint": zh_en("review it, then sign it: `govcloud plan approve {dir} --by NAME --key KEYFILE`"),
    "stale": zh_en("{plan} was edited after it was approved (SHA-256 differs); the approval is void"),
    "stale.hint": zh_en("review the change and approve again"),
    "invalid": zh_en("{plan}'s approval is not valid: {why}"),
    "invalid.hint": zh_en("check approval.yaml and the policy's approvers; an approver on the list must approve again"),
    "not-covered": zh_en("{plan}'s approval does not cover system {system} (department {org}, batch {batch}): {signers}"),
    "not-covered.hint": zh_en("have an approver for that department/batch sign it: `govcloud plan approve … --by NAME --key KEYFILE`"),
    "signed-by": zh_en("signed by: {names}"),
    "violations": zh_en("{plan} breaks {n} hard rule(s); refusing to run it"),
    "violations.hint": zh_en("see `govcloud plan validate {dir}`; regenerate and approve the plan"),
    # why an approval is invalid
    "unsigned": zh_en("approval.yaml is an unsigned approval ({file})"),
    "malformed": zh_en("approval.yaml is malformed ({file})"),
    "other-plan": zh_en("{by}'s signature is for another plan ({plan})"),
    "other-inventory": zh_en("{by}'s signature names another inventory digest"),
    "bad-signature": zh_en("{by}'s signature does not verify (the signature or the signed fields were altered)"),
    "not-an-approver": zh_en("{by} is not among the policy's approvers"),
    "key-not-listed": zh_en("the signing key is not a key the policy lists for {by}"),
    "no-approvers": zh_en("the plan's policy lists no approvers"),
    "no-policy": zh_en("the plan's policy cannot be read: {reason}"),
    # plan approve
    "approve-not-listed": zh_en("{by} is not an approver of policy {policy}, or the key given is not one listed for them"),
    "approve-not-listed.hint": zh_en("add `approvers: - {{name: NAME, ssh_key: \"ssh-ed25519 AAAA…\"}}` (or sm2_key: a PEM public key) to the policy in the inventory's root policy.yaml, regenerate the plan, then approve"),
    "tool-missing": zh_en("the {tool} command is not installed"),
    "key-unreadable": zh_en("cannot read the key file {key}: {reason}"),
    "key-unknown": zh_en("{key} is neither an OpenSSH key nor an SM2 (PEM) private key"),
    "key-not-sm2": zh_en("{key} is not an SM2 private key"),
    "sign-failed": zh_en("signing failed ({tool}): {reason}"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _MSG[key]
    return (zh if lang == "zh" else en).format(**{k: localize(v, lang) if isinstance(v, Msg) else v
                                                  for k, v in params.items()})


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
        return (tr("approved (signature verified): ", lang)) + names
    if state.status == "stale":
        return tr("approval is stale: the plan was edited after approval", lang)
    if state.status == "invalid":
        return (tr("approval NOT valid: ", lang)) + why(state, lang)
    return tr("not approved", lang)


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
        text += (tr("; ⚠ ", lang)) + plan_state.changed_text(state.changed, lang)
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
        raise GovcloudError(Msg("{plan_id}: {x}", plan_id=plan.plan_id, x=plan_state.changed_text(changed, lang)),
                            hint=Msg("govcloud plan generate … --force; govcloud plan approve …"))
    result = validate_path(inv_root, progress=progress)   # the whole validator: workload paths and names too
    if result.errors:
        raise GovcloudError(Msg("the inventory has {n} error(s)", n=len(result.errors)),
                            hint=Msg("run `govcloud inventory validate {inv_root}`", inv_root=inv_root))
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
