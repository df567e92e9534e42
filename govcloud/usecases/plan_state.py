"""A plan's state as every command shows it — approval (who signed, when, or not) and whether its
inputs changed since it was generated (stale) — and the guarded writes that keep plan.md saying so:
publishing a generated plan (never silently over an approved one), recording an approval, and
refreshing plan.md's approval line.

Inputs: the inventory (its digest, recorded in plan.yaml's settings at generation) and, for a plan
built with ``--policy FILE``, that file (its digest in ``settings.policy_digest``). A plan whose
inputs changed is *stale*: `plan validate` exits 1, `plan show`, `migrate status` and plan.md say
so, `plan approve` and `migrate` refuse it.

`plan generate` over a plan that carries a signature over its current bytes (approved, even if
the signature no longer verifies or the inputs changed) refuses to write a *different* plan
(:class:`ApprovedPlanError`, exit 5) unless forced; forced, the old signatures are voided in the
same transaction that writes the new plan: approval.yaml keeps a ``superseded`` record of them and
no signature, and the command says whose approval was voided. Regenerating the identical plan
keeps its approval.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from govcloud.errors import ExitCode, GovcloudError
from govcloud.store import approval as signing
from govcloud.store.approval import ApprovalError, ApprovalState, Signature, check_signatures
from govcloud.base.digest import file_digest
from govcloud.inventory.digest import inventory_digest
from govcloud.model.plan import PlanInputs
from govcloud.store.planfile import PLAN_FILE, inventory_of
from govcloud.base.i18n import Msg, tr, zh_en

DOCUMENT = "plan.md"

_MSG: dict[str, tuple[str, str]] = {
    "approved-plan": zh_en("{dir} holds a plan approved by {signers}; regenerating gives a different plan, and "
                           "replacing it voids that approval"),
    "approved-plan.hint": zh_en("add --force to replace it (the voided approval stays on record under `superseded` in "
                                "approval.yaml; the new plan needs a new approval), or give another --id"),
    "voided": zh_en("voided the approval of the previous plan by {signers} (kept on record in approval.yaml); "
                    "the new plan needs a new approval"),
    "kept": zh_en("the plan is unchanged; its approval by {signers} is kept"),
    "changed": zh_en("the {what} changed since the plan was generated: the plan is stale; regenerate it and approve "
                     "again"),
    "what.inventory": zh_en("inventory", ctx="plan-input"), "what.policy": zh_en("policy file"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _MSG[key]
    return (zh if lang == "zh" else en).format(**params)


def changed_text(changed: tuple[str, ...], lang: str) -> str:
    what = (tr(" and ", lang)).join(msg(f"what.{c}", lang) for c in changed)
    return msg("changed", lang, what=what)


class ApprovedPlanError(GovcloudError):
    """`plan generate` would replace an approved plan with a different one (exit 5)."""

    exit_code = ExitCode.PLAN_APPROVED


# ---------------------------------------------------------------- inputs


def input_settings(inventory_digest_: str, policy_file: Path | None, directory: Path) -> dict[str, str]:
    """What plan.yaml's settings record about the plan's inputs, for the staleness check (key order
    fixed: identical inputs give identical bytes)."""
    import os
    if policy_file is None:
        return PlanInputs(inventory_digest_).to_dict()
    # validate/approve must check against the same policy
    return PlanInputs(inventory_digest_, os.path.relpath(policy_file.resolve(), directory.resolve()),
                      inventory_digest(policy_file)).to_dict()


def inputs_changed(plan: Any, plan_file: Path) -> tuple[str, ...]:
    """The inputs ("inventory", "policy") that differ from those the plan was generated from. A plan
    without a recorded inventory digest, or whose inventory or policy file is gone, counts as changed."""
    inputs = plan.inputs
    changed = []
    recorded = inputs.inventory_digest
    try:
        if recorded is None or inventory_digest(inventory_of(plan, plan_file)) != recorded:
            changed.append("inventory")
    except (OSError, GovcloudError):
        changed.append("inventory")
    if inputs.policy_file and inputs.policy_digest:
        try:
            if inventory_digest((plan_file.parent / inputs.policy_file).resolve()) != inputs.policy_digest:
                changed.append("policy")
        except (OSError, GovcloudError):
            changed.append("policy")
    return tuple(changed)


# ---------------------------------------------------------------- approval state


def policy_approvers(plan: Any, plan_file: Path, inv: Any | None) -> tuple[list[Any] | None, str | None]:
    """The approvers of the plan's policy: the --policy file the plan was built with, else the
    inventory's policy of that id. (None, reason) when it cannot be read."""
    from govcloud.inventory.loader import load_inventory
    policy_file = plan.inputs.policy_file
    if policy_file:
        loaded = load_inventory((plan_file.parent / policy_file).resolve())
        if loaded.errors or len(loaded.inventory.policies) != 1:
            return None, Msg("{policy_file}: unreadable or not one policy", policy_file=policy_file)
        return list(next(iter(loaded.inventory.policies.values())).approvers), None
    if inv is None:
        loaded = load_inventory(inventory_of(plan, plan_file))
        if loaded.errors:
            return None, Msg("the inventory has {n} error(s)", n=len(loaded.errors))
        inv = loaded.inventory
    policy = inv.policies.get(plan.policy)
    if policy is None:
        return None, f"policy {plan.policy} is not in the inventory"
    return list(policy.approvers), None


def approval_state(plan: Any, plan_file: Path, inv: Any | None = None) -> ApprovalState:
    """The verified approval of the plan file's current bytes. The policy's approvers (which may
    mean reading the whole inventory: ≈5 s for a province) are read only when there are signatures
    to check them against."""
    try:
        sigs = signing.read_signatures(plan_file)
    except ApprovalError as exc:
        return ApprovalState("invalid", problem=(exc.code, exc.params))
    if not sigs:
        return ApprovalState("unapproved")
    approvers, reason = policy_approvers(plan, plan_file, inv)
    recorded = plan.inputs.inventory_digest
    state = check_signatures(sigs, plan.plan_id, file_digest(plan_file), recorded, approvers)
    if approvers is None and state.status == "invalid" and state.problem and state.problem[0] == "no-approvers":
        state.problem = ("no-policy", {"reason": reason})
    return state


@dataclass
class PlanState:
    """What every view of a plan shows about it: its approval and its inputs' freshness."""

    approval: ApprovalState
    changed: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.changed)

    def to_plain(self) -> dict[str, Any]:
        return {**self.approval.to_plain(), "stale_inputs": self.stale, "changed_inputs": list(self.changed)}


def plan_state(plan: Any, plan_file: Path, inv: Any | None = None) -> PlanState:
    return PlanState(approval_state(plan, plan_file, inv), inputs_changed(plan, plan_file))


def signers(state: ApprovalState) -> list[tuple[str, str]]:
    return [(v.signature.approved_by, v.signature.approved_at) for v in state.valid]


def approval_line(state: PlanState, lang: str, why: str = "") -> str:
    """plan.md's approval line (``why``: the worded reason of an invalid approval)."""
    from govcloud.render.plan_doc import approval_text
    return approval_text(state.approval.status, signers(state.approval), lang, changed=state.changed, why=why)


# ---------------------------------------------------------------- plan.md's approval line


def refresh_document(plan_file: Path, line_of: Callable[[str], str]) -> bool | None:
    """Set plan.md's approval line to ``line_of(lang)`` when it says something else. True: rewritten;
    False: already right; None: not possible now (no plan.md or no approval line in it, a writer
    such as a migrate run holds the directory, or it cannot be written). Never waits."""
    from govcloud.render.plan_doc import replace_approval_line
    from govcloud.base.atomic import write_atomic
    from govcloud.store.lock import LockedError, writer_lock
    doc_path = plan_file.parent / DOCUMENT
    try:
        with writer_lock(plan_file.parent, "plan validate (plan.md approval line)", wait=0, busy="is in use by"):
            text = doc_path.read_text(encoding="utf-8")
            new = replace_approval_line(text, line_of)
            if new is None:
                return None
            if new == text:
                return False
            write_atomic(doc_path, new)
            return True
    except (OSError, UnicodeDecodeError, LockedError):
        return None
    except GovcloudError:
        return None


# ---------------------------------------------------------------- plan generate


@dataclass
class Published:
    path: Path
    kept: list[Signature] = field(default_factory=list)      # identical plan: its approval kept
    voided: list[Signature] = field(default_factory=list)    # forced over an approved plan: voided


def _names(sigs: list[Signature]) -> str:
    return ", ".join(f"{s.approved_by} ({s.approved_at})" for s in sigs)


def publish_generated(plan: Any, directory: Path, render_doc: Callable[[str], str], *, inv: Any, force: bool,
                      lang: str, why: Callable[[ApprovalState, str], str] | None = None) -> Published:
    """Write plan.yaml and plan.md (``render_doc(approval line)``) as one transaction under the plan
    directory's writer lock. Over a plan approved in its current bytes: identical → approval kept;
    different → :class:`ApprovedPlanError` unless ``force``, which voids the approval in the same
    transaction."""
    from govcloud.store.lock import writer_lock
    from govcloud.store.planfile import render_plan
    from govcloud.store.txn import Transaction

    if directory.exists() and not directory.is_dir():
        raise GovcloudError(Msg("{directory} exists and is not a directory", directory=directory))
    if directory.parent.exists() and not directory.parent.is_dir():
        raise GovcloudError(Msg("--out {parent} is not a directory", parent=directory.parent))
    text = render_plan(plan)
    plan_file = directory / PLAN_FILE
    with writer_lock(directory, f"plan generate --id {plan.plan_id}", busy="is in use by"):
        try:
            sigs = signing.read_signatures(plan_file) if plan_file.is_file() else None
        except ApprovalError:
            sigs = None     # malformed or unsigned: no approval to protect (it stays as it is: invalid)
        current = file_digest(plan_file) if plan_file.is_file() else None
        signed_now = [s for s in sigs or () if s.plan_sha256 == current]
        identical = current is not None and plan_file.read_bytes() == text.encode("utf-8")
        out = Published(plan_file)
        t = Transaction(directory, "plan generate")
        if identical:   # the same bytes again: whatever approval they carry stands
            state = PlanState(approval_state(plan, plan_file, inv))
            out.kept = [v.signature for v in state.approval.valid]
            line = approval_line(state, lang, why=why(state.approval, lang) if why else "")
        else:
            if signed_now and not force:
                raise ApprovedPlanError(msg("approved-plan", lang, dir=directory, signers=_names(signed_now)),
                                        hint=msg("approved-plan.hint", lang))
            if sigs:   # every signature names the old bytes: void them, on record
                when = datetime.now(timezone.utc).isoformat(timespec="seconds")
                new_sha = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
                record = signing.read_superseded(plan_file) + [signing.superseded_record(s, new_sha, when)
                                                               for s in sigs]
                t.write(signing.APPROVAL_FILE, signing.approval_document(plan.plan_id, [], record))
                out.voided = signed_now
            line = approval_line(PlanState(ApprovalState("unapproved")), lang)
        document = render_doc(line)
        t.write(PLAN_FILE, text)
        t.write(DOCUMENT, document)
        t.commit()
    return out


# ---------------------------------------------------------------- plan approve


def record_approval(plan: Any, plan_file: Path, sig: Signature, approvers: list[Any],
                    why: Callable[[ApprovalState, str], str] | None = None) -> ApprovalState:
    """Add ``sig`` to approval.yaml and set plan.md's approval line to match, as one transaction
    (the caller holds the plan directory's writer lock). Returns the approval state written."""
    from govcloud.render.plan_doc import replace_approval_line
    from govcloud.store.txn import Transaction

    merged = signing.merged_signatures(plan_file, sig)
    state = check_signatures(merged, plan.plan_id, sig.plan_sha256, plan.inputs.inventory_digest,
                             approvers)
    t = Transaction(plan_file.parent, "plan approve")
    t.write(signing.APPROVAL_FILE, signing.approval_document(sig.plan_id, merged, signing.read_superseded(plan_file)))
    doc_path = plan_file.parent / DOCUMENT
    try:
        text = doc_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None:
        new = replace_approval_line(text, lambda lang: approval_line(PlanState(state), lang,
                                                                     why=why(state, lang) if why else ""))
        if new is not None and new != text:
            t.write(DOCUMENT, new)
    t.commit()
    return state
