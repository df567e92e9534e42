"""Signed plan approvals: ``approval.yaml`` beside ``plan.yaml``.

An approval is a signature by an approver's key over a statement that binds the plan id,
the SHA-256 of plan.yaml, the inventory digest the plan was built from, the approver's name
and the time. Two schemes:

* ``ssh`` — ``ssh-keygen -Y sign -n govcloud-plan-approval`` (the SSHSIG format git uses),
  verified with ``ssh-keygen -Y verify`` against an allowed_signers line built from the policy;
* ``sm2-sm3`` — SM2 with SM3 (国密, GB/T 32918 / GB/T 32905) through the ``openssl`` command
  (OpenSSL 3; the ``cryptography`` package has no SM2), with the default distinguishing id
  ``1234567812345678`` (GM/T 0009).

Who may approve comes from the plan's policy (``approvers:``), never from approval.yaml: the
public key stored in an approval only says which key was used and must equal a listed one.
Key material and passphrases never appear on a command line: keys are passed as file paths,
passphrases are asked by ssh-keygen/openssl on the terminal (or come from the ssh-agent).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from govcloud.base.i18n import Msg
from govcloud.base import stamp
from govcloud.errors import GovcloudError
from govcloud.base.reader import ReadFailure, read_document
from govcloud.base.atomic import write_atomic

APPROVAL_FILE = "approval.yaml"
APPROVAL_FORMAT = 2
NAMESPACE = "govcloud-plan-approval"
SM2_DISTID = "1234567812345678"
SCHEMES = ("ssh", "sm2-sm3")

_SSH_KEY = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|"
                      r"sk-ecdsa-sha2-nistp256@openssh\.com)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$")
_SM2_OID = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301 (sm2p256v1)
_PEM = re.compile(r"-----BEGIN PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----")


class ApprovalError(GovcloudError):
    """A refusal about approvals; ``code`` and ``params`` pick the message (zh/en) in the CLI."""

    def __init__(self, *, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# ---------------------------------------------------------------- keys


def has_control(text: str) -> bool:
    """Any control, format (bidi overrides, zero-width) or line/paragraph separator character."""
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in text)


def ssh_key_problem(value: str) -> str | None:
    """Why ``value`` is not an OpenSSH public key (``type base64 [comment]``), or None."""
    m = _SSH_KEY.match(value.strip())
    if not m or has_control(value):
        return Msg("not an OpenSSH public key ('ssh-ed25519 AAAA… comment', as in a .pub file)")
    try:
        blob = base64.b64decode(m.group(2), validate=True)
    except ValueError:
        return Msg("the key's base64 does not decode")
    n = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4:4 + n].decode("ascii", "replace") != m.group(1):
        return Msg("the key's data is not of type {key_type}", key_type=m.group(1))
    return None


def ssh_key_id(value: str) -> str:
    """The key without its comment: what two listings of one key have in common."""
    parts = value.split()
    return " ".join(parts[:2])


def sm2_key_der(value: str) -> bytes | None:
    m = _PEM.search(value or "")
    if not m:
        return None
    try:
        der = base64.b64decode("".join(m.group(1).split()), validate=True)
    except ValueError:
        return None
    return der if _SM2_OID in der[:40] else None


def sm2_key_problem(value: str) -> str | None:
    if not _PEM.search(value or ""):
        return Msg("not a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----)")
    if sm2_key_der(value) is None:
        return Msg("not an SM2 public key (curve 1.2.156.10197.1.301)")
    return None


def sm2_key_id(value: str) -> str:
    der = sm2_key_der(value)
    return "sm2:" + base64.b64encode(der).decode() if der else ""


def _pem(der: bytes) -> str:
    b64 = base64.b64encode(der).decode()
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + \
        "\n-----END PUBLIC KEY-----\n"


# ---------------------------------------------------------------- the signed statement


@dataclass(frozen=True)
class Signature:
    plan_id: str
    plan_sha256: str
    inventory_digest: str
    approved_by: str
    approved_at: str
    os_user: str
    scheme: str
    public_key: str
    signature: str

    def statement(self) -> bytes:
        """The exact bytes signed: one JSON value per line, so no field can forge another."""
        lines = ["govcloud plan approval v1", f"namespace {json.dumps(NAMESPACE)}",
                 f"plan_id {json.dumps(self.plan_id, ensure_ascii=False)}",
                 f"plan_sha256 {json.dumps(self.plan_sha256)}",
                 f"inventory_digest {json.dumps(self.inventory_digest)}",
                 f"approved_by {json.dumps(self.approved_by, ensure_ascii=False)}",
                 f"approved_at {json.dumps(self.approved_at)}", f"scheme {json.dumps(self.scheme)}"]
        return ("\n".join(lines) + "\n").encode("utf-8")

    def to_plain(self) -> dict[str, str]:
        return {"plan_id": self.plan_id, "plan_sha256": self.plan_sha256, "inventory_digest": self.inventory_digest,
                "approved_by": self.approved_by, "approved_at": self.approved_at, "os_user": self.os_user,
                "scheme": self.scheme, "public_key": self.public_key, "signature": self.signature}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ApprovalError(code="tool-missing", tool=name)
    return path


def _run(argv: list[str], *, interactive: bool = False, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run a signing tool. Interactive runs keep the terminal (passphrase prompts) but capture
    stdout; nothing the tools print is shown to the user unfiltered."""
    return subprocess.run(argv, cwd=cwd, stdin=None if interactive else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300,
                          env={**os.environ, "LC_ALL": "C"})


def detect_scheme(key: Path) -> str:
    """``ssh`` for OpenSSH keys (private or .pub for the agent), ``sm2-sm3`` for PEM (PKCS#8) keys."""
    try:
        with key.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise ApprovalError(code="key-unreadable", key=str(key), reason=exc.strerror or type(exc).__name__) from None
    if head.startswith(b"-----BEGIN OPENSSH PRIVATE KEY") or head.startswith(b"-----BEGIN RSA PRIVATE KEY") \
            or _SSH_KEY.match(head.decode("ascii", "replace").split("\n")[0] + " x") or head.startswith(b"ssh-") \
            or head.startswith(b"ecdsa-") or head.startswith(b"sk-"):
        return "ssh"
    if head.startswith(b"-----BEGIN PRIVATE KEY") or head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY") \
            or head.startswith(b"-----BEGIN EC PRIVATE KEY"):
        return "sm2-sm3"
    raise ApprovalError(code="key-unknown", key=str(key))


def _ssh_public(key: Path, tmp: Path) -> str:
    if key.name.endswith(".pub"):
        text = key.read_text(encoding="utf-8", errors="replace").strip()
    elif Path(str(key) + ".pub").is_file():
        text = Path(str(key) + ".pub").read_text(encoding="utf-8", errors="replace").strip()
    else:  # derive it (asks for the passphrase of an encrypted key on the terminal)
        p = _run([_tool("ssh-keygen"), "-y", "-f", str(key)], interactive=True)
        if p.returncode != 0:
            raise ApprovalError(code="sign-failed", tool="ssh-keygen -y", reason=_tool_reason(p))
        text = p.stdout.decode("utf-8", "replace").strip()
    if ssh_key_problem(text):
        raise ApprovalError(code="key-unknown", key=str(key))
    return ssh_key_id(text)


def _sm2_public(key: Path) -> str:
    p = _run([_tool("openssl"), "pkey", "-in", str(key), "-pubout"], interactive=True)
    if p.returncode != 0:
        raise ApprovalError(code="sign-failed", tool="openssl pkey", reason=_tool_reason(p))
    pem = p.stdout.decode("ascii", "replace")
    der = sm2_key_der(pem)
    if der is None:
        raise ApprovalError(code="key-not-sm2", key=str(key))
    return _pem(der)


def _tool_reason(p: subprocess.CompletedProcess) -> str:
    text = (p.stderr or b"").decode("utf-8", "replace").strip().splitlines()
    return " ".join(text[-2:])[:300] if text else f"exit {p.returncode}"


def sign(statement_of: Signature, key: Path, scheme: str) -> Signature:
    """Sign ``statement_of.statement()`` with the private key at ``key`` (a path; the key's bytes
    are read only by ssh-keygen/openssl). Returns the signature with public key and value filled in."""
    with tempfile.TemporaryDirectory(prefix="govcloud-sign-") as d:
        tmp = Path(d)
        if scheme == "ssh":
            public = _ssh_public(key, tmp)
            unsigned = _with(statement_of, scheme=scheme, public_key=public)
            data = tmp / "statement"
            data.write_bytes(unsigned.statement())
            p = _run([_tool("ssh-keygen"), "-q", "-Y", "sign", "-f", str(key), "-n", NAMESPACE, str(data)],
                     interactive=True)
            sig = tmp / "statement.sig"
            if p.returncode != 0 or not sig.is_file():
                raise ApprovalError(code="sign-failed", tool="ssh-keygen -Y sign", reason=_tool_reason(p))
            return _with(unsigned, signature=sig.read_text(encoding="ascii"))
        public = _sm2_public(key)
        unsigned = _with(statement_of, scheme=scheme, public_key=public)
        data = tmp / "statement"
        data.write_bytes(unsigned.statement())
        sig = tmp / "statement.sig"
        p = _run([_tool("openssl"), "dgst", "-sm3", "-sign", str(key), "-sigopt", f"distid:{SM2_DISTID}",
                  "-out", str(sig), str(data)], interactive=True)
        if p.returncode != 0 or not sig.is_file():
            raise ApprovalError(code="sign-failed", tool="openssl dgst -sm3 -sign", reason=_tool_reason(p))
        return _with(unsigned, signature=base64.b64encode(sig.read_bytes()).decode())


def _with(s: Signature, **changes: str) -> Signature:
    return Signature(**{**s.to_plain(), **changes})


def verify_signature(sig: Signature, listed_key: str) -> bool:
    """Whether ``sig`` verifies under ``listed_key`` (from the policy, never from the approval)."""
    with tempfile.TemporaryDirectory(prefix="govcloud-verify-") as d:
        tmp = Path(d)
        data = tmp / "statement"
        data.write_bytes(sig.statement())
        if sig.scheme == "ssh":
            signers = tmp / "allowed_signers"
            signers.write_text(f'approver namespaces="{NAMESPACE}" {ssh_key_id(listed_key)}\n', encoding="ascii")
            sigfile = tmp / "statement.sig"
            sigfile.write_text(sig.signature, encoding="ascii", errors="replace")
            with data.open("rb") as fh:
                p = subprocess.run([_tool("ssh-keygen"), "-Y", "verify", "-f", str(signers), "-I", "approver",
                                    "-n", NAMESPACE, "-s", str(sigfile)], stdin=fh, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
            return p.returncode == 0
        if sig.scheme == "sm2-sm3":
            der = sm2_key_der(listed_key)
            try:
                raw = base64.b64decode(sig.signature, validate=True)
            except ValueError:
                return False
            if der is None or not raw:
                return False
            pub = tmp / "key.pem"
            pub.write_text(_pem(der), encoding="ascii")
            sigfile = tmp / "statement.sig"
            sigfile.write_bytes(raw)
            p = subprocess.run([_tool("openssl"), "dgst", "-sm3", "-verify", str(pub), "-sigopt",
                                f"distid:{SM2_DISTID}", "-signature", str(sigfile), str(data)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            return p.returncode == 0 and b"Verified OK" in p.stdout
        return False


# ---------------------------------------------------------------- approval.yaml


def _os_user() -> str:
    return stamp.os_user()


def new_statement(plan_id: str, plan_sha256: str, inventory_digest: str, by: str) -> Signature:
    return Signature(plan_id, plan_sha256, inventory_digest, by,
                     stamp.utc_now(), _os_user(), "", "", "")


def read_signatures(plan_file: Path) -> list[Signature] | None:
    """The signatures in approval.yaml (None: no file). A pre-signature approval (format 1, a bare
    hash) or a malformed file is an ApprovalError: it must not count as an approval."""
    path = plan_file.parent / APPROVAL_FILE
    if not path.exists():
        return None
    doc = read_document(path)
    if isinstance(doc, ReadFailure) or not isinstance(doc.data, dict):
        raise ApprovalError(code="malformed", file=str(path))
    d = doc.data
    if d.get("format_version") != APPROVAL_FORMAT or not isinstance(d.get("signatures"), list):
        if "plan_sha256" in d and "signatures" not in d:
            raise ApprovalError(code="unsigned", file=str(path))
        raise ApprovalError(code="malformed", file=str(path))
    out = []
    names = Signature.__dataclass_fields__
    for s in d["signatures"]:
        if not isinstance(s, dict) or not all(isinstance(s.get(k), str) for k in names):
            raise ApprovalError(code="malformed", file=str(path))
        out.append(Signature(**{k: s[k] for k in names}))
    return out


def read_superseded(plan_file: Path) -> list[dict[str, Any]]:
    """The records of approvals voided by a forced regeneration (``superseded:`` in approval.yaml;
    kept for the record, never counted as approvals). Unreadable: []."""
    path = plan_file.parent / APPROVAL_FILE
    if not path.exists():
        return []
    doc = read_document(path)
    if isinstance(doc, ReadFailure) or not isinstance(doc.data, dict):
        return []
    rows = doc.data.get("superseded")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def approval_document(plan_id: str, signatures: list[Signature], superseded: list[dict[str, Any]]) -> str:
    """The text of approval.yaml (JSON, a YAML subset)."""
    doc: dict[str, Any] = {"format_version": APPROVAL_FORMAT, "plan_id": plan_id,
                           "signatures": [s.to_plain() for s in signatures]}
    if superseded:
        doc["superseded"] = superseded
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def merged_signatures(plan_file: Path, sig: Signature) -> list[Signature]:
    """approval.yaml's signatures with ``sig`` added, replacing this approver's earlier signature with
    the same key; signatures of other plan versions are dropped (they can only be stale)."""
    try:
        existing = read_signatures(plan_file) or []
    except ApprovalError:
        existing = []
    keep = [s for s in existing if s.plan_sha256 == sig.plan_sha256 and s.plan_id == sig.plan_id
            and not (s.approved_by == sig.approved_by and s.public_key == sig.public_key)]
    return keep + [sig]


def write_signature(plan_file: Path, sig: Signature) -> None:
    """Add ``sig`` to approval.yaml (see :func:`merged_signatures`)."""
    write_atomic(plan_file.parent / APPROVAL_FILE,
                 approval_document(sig.plan_id, merged_signatures(plan_file, sig), read_superseded(plan_file)))


def superseded_record(s: Signature, new_plan_sha256: str, when: str) -> dict[str, Any]:
    """What approval.yaml keeps of a signature voided by a forced regeneration."""
    return {"approved_by": s.approved_by, "approved_at": s.approved_at, "plan_sha256": s.plan_sha256,
            "scheme": s.scheme, "voided_at": when, "voided_by_os_user": _os_user(),
            "replaced_by_plan_sha256": new_plan_sha256}


# ---------------------------------------------------------------- verification


@dataclass
class Verified:
    signature: Signature
    departments: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()

    def covers(self, org: str, batch_ids: Iterable[str]) -> bool:
        if self.departments and org not in self.departments:
            return False
        if self.batches and not any(b in self.batches for b in batch_ids if b):
            return False
        return True

    def to_plain(self) -> dict[str, Any]:
        s = self.signature
        return {"approved_by": s.approved_by, "approved_at": s.approved_at, "scheme": s.scheme,
                "key": _short_key(s), "departments": list(self.departments), "batches": list(self.batches)}


def _short_key(s: Signature) -> str:
    if s.scheme == "ssh":
        return ssh_key_id(s.public_key)[:40] + "…"
    der = sm2_key_der(s.public_key)
    return "sm2:" + (base64.b64encode(der).decode()[-24:] if der else "?")


@dataclass
class ApprovalState:
    """``status``: approved | stale | unapproved | invalid. ``problem`` (code, params) says why
    an approval is invalid; ``valid`` lists the signatures that verified for the current plan."""

    status: str
    valid: list[Verified] = field(default_factory=list)
    stale: list[Signature] = field(default_factory=list)
    problem: tuple[str, dict[str, Any]] | None = None

    @property
    def first(self) -> Signature | None:
        if self.valid:
            return self.valid[0].signature
        return self.stale[0] if self.stale else None

    def to_plain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        first = self.first
        if first is not None:
            out.update({"plan_id": first.plan_id, "plan_sha256": first.plan_sha256,
                        "approved_by": first.approved_by, "approved_at": first.approved_at})
        out["signatures"] = [v.to_plain() for v in self.valid]
        if self.problem:
            out["problem"] = {"code": self.problem[0], **{k: str(v) for k, v in self.problem[1].items()}}
        return out


def listed_keys(approvers: Iterable[Any], name: str, scheme: str) -> list[Any]:
    """The policy entries of ``name`` holding a key of ``scheme``."""
    out = []
    for a in approvers:
        if a.name != name:
            continue
        if scheme == "ssh" and a.ssh_key:
            out.append(a)
        elif scheme == "sm2-sm3" and a.sm2_key:
            out.append(a)
    return out


def match_approver(approvers: Iterable[Any], sig: Signature) -> tuple[Any | None, str | None]:
    """The policy entry whose key made ``sig``: (entry, None) or (None, problem code)."""
    entries = listed_keys(approvers, sig.approved_by, sig.scheme)
    if not entries:
        return None, "not-an-approver"
    used = ssh_key_id(sig.public_key) if sig.scheme == "ssh" else sm2_key_id(sig.public_key)
    for a in entries:
        listed = ssh_key_id(a.ssh_key) if sig.scheme == "ssh" else sm2_key_id(a.sm2_key)
        if listed and listed == used:
            return a, None
    return None, "key-not-listed"


def check_approval(plan_file: Path, plan_id: str, plan_sha256: str, inventory_digest: str | None,
                   approvers: Iterable[Any] | None) -> ApprovalState:
    """Verify approval.yaml for the plan whose bytes hash to ``plan_sha256``.

    ``approvers`` is the plan's policy's list (None: the policy could not be read)."""
    try:
        sigs = read_signatures(plan_file)
    except ApprovalError as exc:
        return ApprovalState("invalid", problem=(exc.code, exc.params))
    return check_signatures(sigs, plan_id, plan_sha256, inventory_digest, approvers)


def check_signatures(sigs: list[Signature] | None, plan_id: str, plan_sha256: str, inventory_digest: str | None,
                     approvers: Iterable[Any] | None) -> ApprovalState:
    """:func:`check_approval` over signatures already in hand (e.g. about to be written)."""
    if not sigs:
        return ApprovalState("unapproved")
    approvers = list(approvers or [])
    state = ApprovalState("unapproved")
    for s in sigs:
        if s.plan_sha256 != plan_sha256:
            state.stale.append(s)
            continue
        if s.plan_id != plan_id:
            return ApprovalState("invalid", problem=("other-plan", {"by": s.approved_by, "plan": s.plan_id}))
        if inventory_digest is None or s.inventory_digest != inventory_digest:
            return ApprovalState("invalid", problem=("other-inventory", {"by": s.approved_by}))
        if s.scheme not in SCHEMES:
            return ApprovalState("invalid", problem=("bad-signature", {"by": s.approved_by}))
        if not approvers:
            return ApprovalState("invalid", problem=("no-approvers", {"by": s.approved_by}))
        entry, why = match_approver(approvers, s)
        if entry is None:
            return ApprovalState("invalid", problem=(why, {"by": s.approved_by}))
        listed = entry.ssh_key if s.scheme == "ssh" else entry.sm2_key
        if not verify_signature(s, listed):
            return ApprovalState("invalid", problem=("bad-signature", {"by": s.approved_by}))
        state.valid.append(Verified(s, tuple(entry.departments), tuple(entry.batches)))
    state.status = "approved" if state.valid else ("stale" if state.stale else "unapproved")
    return state
