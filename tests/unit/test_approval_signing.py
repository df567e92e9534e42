"""Signed approvals: `plan approve` signs with an SSH or SM2 key listed in the policy; `plan show`,
`plan validate` and `migrate` refuse unsigned, forged, wrongly signed, edited and uncovered
approvals (exit 4), and `migrate` re-checks the hard rules of the plan it is about to run.
Everything through the real command in a subprocess, with real ssh-keygen and openssl."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from migrate_env import approve_args, approver_key, write_inventory  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not shutil.which("ssh-keygen") or not shutil.which("openssl"),
                                reason="needs ssh-keygen and openssl")


def gc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "govcloud", *args], capture_output=True, text=True,
                       timeout=timeout, cwd=REPO)
    assert "Traceback" not in p.stderr and p.returncode != 70, p.stderr
    return p


def sm2_key(d: Path) -> tuple[Path, str]:
    key = d / "sm2.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2",
                    "-out", str(key)], check=True, capture_output=True)
    pub = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True,
                         text=True).stdout
    return key, pub


def ssh_key(d: Path, name: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)], check=True)
    return d / name


@pytest.fixture
def env(tmp_path):
    """An inventory listing the test SSH approvers, an SM2 approver limited to org-drill and one
    limited to a batch that does not exist in the plan; a generated plan."""
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    key, pub = sm2_key(tmp_path)
    with (inv / "inventory.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"      - {{name: 王五, sm2_key: {json.dumps(pub)}, departments: [org-drill]}}\n")
        fh.write(f"      - {{name: 赵六, sm2_key: {json.dumps(pub)}, batches: [B09]}}\n")
        fh.write(f"      - {{name: 钱七, sm2_key: {json.dumps(pub)}, departments: [org-other]}}\n")
    (inv / "other.yaml").write_text('format_version: 1\norganizations:\n  - {id: org-other, name: 其他局, '
                                    'org_type: gov_component, region: "441600"}\n', encoding="utf-8")
    p = gc("plan", "generate", str(inv), "--out", str(tmp_path / "plans"), "--id", "drill")
    assert p.returncode == 0, p.stderr
    return {"plan": tmp_path / "plans" / "drill", "sm2": key, "tmp": tmp_path, "inv": inv}


def status(plan: Path) -> dict:
    p = gc("plan", "show", str(plan), "-o", "json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)["approval"]


def passes_approval(plan: Path) -> bool:
    """migrate gets past every approval check (and stops at the unknown batch, before any cloud)."""
    p = gc("migrate", "run", str(plan), "--batch", "7", "--dry-run", "--lang", "en")
    return p.returncode == 1 and "batch '7' is not in the plan" in p.stderr


def covers_batch0(plan: Path, tmp: Path) -> bool:
    """migrate gets past every approval check for batch 0 (and fails only at the unreachable cloud)."""
    clouds = tmp / "clouds.yaml"
    clouds.write_text("clouds:\n  nowhere:\n    auth: {auth_url: 'http://127.0.0.1:1/v3', username: u, password: p,"
                      " project_name: x, user_domain_name: Default, project_domain_name: Default}\n", encoding="utf-8")
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en", "--cloud", "nowhere",
           "--cloud-config", str(clouds))
    return p.returncode == 1 and "127.0.0.1:1" in p.stderr


def test_ssh_signature_approves_and_verifies(env):
    plan = env["plan"]
    assert status(plan)["status"] == "unapproved"
    p = gc(*approve_args(plan))
    assert p.returncode == 0, p.stderr
    doc = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))
    sig = doc["signatures"][0]
    assert sig["scheme"] == "ssh" and sig["signature"].startswith("-----BEGIN SSH SIGNATURE-----")
    assert sig["plan_sha256"] == "sha256:" + hashlib.sha256((plan / "plan.yaml").read_bytes()).hexdigest()
    st = status(plan)
    assert st["status"] == "approved" and st["approved_by"] == "集成测试"
    assert gc("plan", "validate", str(plan)).returncode == 0
    assert passes_approval(plan)


def test_sm2_signature_approves_within_its_department(env):
    plan = env["plan"]
    p = gc("plan", "approve", str(plan), "--by", "王五", "--key", str(env["sm2"]), "-o", "json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["scheme"] == "sm2-sm3" and out["departments"] == ["org-drill"]
    sig = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))["signatures"][0]
    assert sig["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert status(plan)["status"] == "approved"
    assert covers_batch0(plan, env["tmp"])


def test_approval_outside_the_approvers_batch_does_not_cover(env):
    plan = env["plan"]
    assert gc("plan", "approve", str(plan), "--by", "赵六", "--key", str(env["sm2"])).returncode == 0
    assert status(plan)["status"] == "approved"  # a valid signature …
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "does not cover system app1" in p.stderr and "B09" in p.stderr  # … for B09 only
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run")
    assert p.returncode == 4 and "不覆盖系统 app1" in p.stderr
    assert not (plan / "journal.jsonl").exists()


def test_approver_of_another_department_does_not_cover(env):
    plan = env["plan"]
    assert gc("plan", "approve", str(plan), "--by", "钱七", "--key", str(env["sm2"])).returncode == 0
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "department org-drill" in p.stderr and "钱七 (org-other)" in p.stderr
    p = gc("migrate", "rollback", str(plan), "--system", "app1", "--yes")
    assert p.returncode == 4 and "部门 org-drill" in p.stderr
    # the department's own approver adds a signature: now the system is covered
    assert gc("plan", "approve", str(plan), "--by", "王五", "--key", str(env["sm2"])).returncode == 0
    assert len(status(plan)["signatures"]) == 2 and covers_batch0(plan, env["tmp"])


def test_hash_rewritten_after_edit_is_refused(env):
    """The attack of issue 12: edit plan.yaml, write its new SHA-256 into approval.yaml."""
    plan = env["plan"]
    assert gc(*approve_args(plan)).returncode == 0
    y = plan / "plan.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace('"flavor": "m1.small"', '"flavor": "c2.m4"', 1),
                 encoding="utf-8")
    doc = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))
    for s in doc["signatures"]:
        s["plan_sha256"] = "sha256:" + hashlib.sha256(y.read_bytes()).hexdigest()
    (plan / "approval.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    st = status(plan)
    assert st["status"] == "invalid" and st["problem"]["code"] == "bad-signature"
    p = gc("plan", "validate", str(plan), "--lang", "en")
    assert p.returncode == 4 and "does not verify" in p.stderr
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run")
    assert p.returncode == 4 and "签名验证失败" in p.stderr
    p = gc("migrate", "cutover", str(plan), "--batch", "0", "--yes", "--lang", "en")
    assert p.returncode == 4 and "does not verify" in p.stderr
    p = gc("migrate", "rollback", str(plan), "--system", "app1", "--yes", "--lang", "en")
    assert p.returncode == 4
    assert not (plan / "journal.jsonl").exists()


def test_edit_without_touching_approval_is_stale(env):
    plan = env["plan"]
    assert gc(*approve_args(plan)).returncode == 0
    with (plan / "plan.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\n")
    assert status(plan)["status"] == "stale"
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "edited after it was approved" in p.stderr


def test_signed_fields_cannot_be_changed(env):
    """Renaming the approver or moving the time voids the signature."""
    plan = env["plan"]
    assert gc(*approve_args(plan)).returncode == 0
    good = (plan / "approval.yaml").read_text(encoding="utf-8")
    for field, value in (("approved_by", "审批人"), ("approved_at", "2020-01-01T00:00:00+00:00")):
        doc = json.loads(good)
        doc["signatures"][0][field] = value
        (plan / "approval.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        st = status(plan)
        assert st["status"] == "invalid" and st["problem"]["code"] == "bad-signature", (field, st)


def test_key_not_on_the_list_is_refused(env):
    plan, tmp = env["plan"], env["tmp"]
    other = ssh_key(tmp, "intruder")
    p = gc("plan", "approve", str(plan), "--by", "集成测试", "--key", str(other), "--lang", "en")
    assert p.returncode == 4 and "not an approver" in p.stderr and not (plan / "approval.yaml").exists()
    p = gc("plan", "approve", str(plan), "--by", "冒名者", "--key", str(approver_key()))
    assert p.returncode == 4 and "不在策略" in p.stderr and not (plan / "approval.yaml").exists()
    # forged by hand: a proper SSHSIG over the proper statement, by a key nobody listed
    assert gc(*approve_args(plan)).returncode == 0
    doc = json.loads((plan / "approval.yaml").read_text(encoding="utf-8"))
    from govcloud.store.approval import Signature, sign
    s = Signature(**doc["signatures"][0])
    forged = sign(Signature(**{**s.to_plain(), "public_key": "", "signature": ""}), other, "ssh")
    doc["signatures"] = [forged.to_plain()]
    (plan / "approval.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    st = status(plan)
    assert st["status"] == "invalid" and st["problem"]["code"] == "key-not-listed"
    # the same signature claiming the listed key's public part does not verify under it
    doc["signatures"][0]["public_key"] = s.public_key
    (plan / "approval.yaml").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert status(plan)["problem"]["code"] == "bad-signature"
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4


def test_unsigned_legacy_approval_is_refused(env):
    plan = env["plan"]
    digest = "sha256:" + hashlib.sha256((plan / "plan.yaml").read_bytes()).hexdigest()
    (plan / "approval.yaml").write_text(json.dumps({"plan_id": "drill", "plan_sha256": digest, "approved_by": "张三",
                                                    "approved_at": "2026-11-01T00:00:00+00:00"}), encoding="utf-8")
    st = status(plan)
    assert st["status"] == "invalid" and st["problem"]["code"] == "unsigned"
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 4 and "unsigned" in p.stderr
    (plan / "approval.yaml").write_text("{not json", encoding="utf-8")
    assert gc("migrate", "run", str(plan), "--batch", "0", "--dry-run").returncode == 4


def test_migrate_rechecks_hard_rules_of_a_signed_plan(env):
    """An approver signed a plan that breaks a hard rule (made by hand, not by `plan approve`):
    migrate re-runs the independent validator and refuses it."""
    plan = env["plan"]
    y = plan / "plan.yaml"
    y.write_text(y.read_text(encoding="utf-8").replace('"strategy": "rehost"', '"strategy": "retain"', 1),
                 encoding="utf-8")
    doc = json.loads(y.read_text(encoding="utf-8"))
    from govcloud.store.approval import new_statement, sign, write_signature
    st = new_statement("drill", "sha256:" + hashlib.sha256(y.read_bytes()).hexdigest(),
                       doc["settings"]["inventory_digest"], "集成测试")
    write_signature(y, sign(st, approver_key(), "ssh"))
    assert status(plan)["status"] == "approved"
    p = gc("migrate", "run", str(plan), "--batch", "0", "--dry-run", "--lang", "en")
    assert p.returncode == 1 and "hard rule" in p.stderr and "H-TGT-1" in p.stderr
    assert not (plan / "journal.jsonl").exists()


def test_policy_approvers_are_validated(tmp_path):
    inv = write_inventory(tmp_path / "inv", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    text = (inv / "inventory.yaml").read_text(encoding="utf-8")
    (inv / "inventory.yaml").write_text(text + '      - {name: 坏钥匙, ssh_key: "ssh-ed25519 bm90IGEga2V5"}\n'
                                        '      - {name: 无钥匙}\n'
                                        '      - {name: 假SM2, sm2_key: "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----"}\n',
                                        encoding="utf-8")
    p = gc("inventory", "validate", str(inv), "-o", "json")
    assert p.returncode == 1
    probs = json.loads(p.stdout)["problems"]
    keyp = [x for x in probs if x["code"] == "approver-key"]
    assert len(keyp) == 3 and all(x["file"] == "inventory.yaml" and x["line"] for x in keyp), keyp
    # approvers may not be declared in a department's file
    inv2 = write_inventory(tmp_path / "inv2", [("h43", "198.18.1.43")], ("h38", "198.18.1.38"), start="2026-11-23")
    pub = approver_key().with_name("id_ed25519.pub").read_text(encoding="utf-8").strip()
    (inv2 / "departments" / "evil.yaml").write_text(
        "format_version: 1\npolicies:\n  - id: evil\n    name: 部门自拟\n    approvers:\n"
        f"      - {{name: 部门自批, ssh_key: {json.dumps(pub)}}}\n", encoding="utf-8")
    p = gc("inventory", "validate", str(inv2), "-o", "json")
    codes = {x["code"]: x for x in json.loads(p.stdout)["problems"]}
    assert p.returncode == 1 and codes["approvers-location"]["file"] == "departments/evil.yaml"
