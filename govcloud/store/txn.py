"""All-or-nothing multi-file writes inside a locked directory, recoverable after a crash.

A :class:`Transaction` stages every new file under ``<dir>/.govcloud/txn/<id>/`` (written and
fsynced), then writes its intent record ``<dir>/.govcloud/txn/<id>.json`` — the commit point:
the files' paths and digests and the audit entry to append — and rolls forward: appends the
audit entry (tagged with the transaction id, so it is appended once), renames each staged file
into place, fsyncs the directories, removes the intent and the staging folder.

A writer killed before the intent exists leaves only a staging folder, which the next writer
discards; killed after it, the next command that takes the directory's lock (any writer; a
reader that may write) completes it (:func:`recover`): the state is the one before the
transaction or the one after it, never a mix. :func:`recover` also removes what killed
commands leave behind: the temporaries of interrupted atomic writes and validation overlays.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError
from govcloud.base.atomic import TMP_SUFFIX, crash_point, fsync_dir, write_atomic
from govcloud.base.digest import file_sha256

TXN_DIR = Path(".govcloud") / "txn"
SCRATCH_DIR = Path(".govcloud") / "tmp"


class TransactionError(GovcloudError):
    pass


def txn_dir(root: Path | str) -> Path:
    return Path(root) / TXN_DIR


def scratch_dir(root: Path | str) -> Path:
    """A folder for a writer's scratch work (validation overlays) inside the locked directory:
    what a kill leaves there is removed by the next :func:`recover`, never left in /tmp."""
    d = Path(root) / SCRATCH_DIR
    d.mkdir(parents=True, exist_ok=True)
    return d


def pending(root: Path | str) -> bool:
    """Whether a killed writer left something in ``root`` for :func:`recover`."""
    root = Path(root)
    for folder in (txn_dir(root), root / SCRATCH_DIR):
        try:
            if any(folder.iterdir()):
                return True
        except (FileNotFoundError, NotADirectoryError):
            pass
    for folder in (root, root / ".govcloud"):
        try:
            if any(e.name.endswith(TMP_SUFFIX) for e in os.scandir(folder)):
                return True
        except (FileNotFoundError, NotADirectoryError):
            pass
    return False


def _safe_rel(rel: str) -> str:
    p = Path(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts or p.parts[0] == ".govcloud":
        raise TransactionError(Msg("internal: {rel!r} is not a path inside the directory", rel=rel))
    return p.as_posix()


class Transaction:
    """Collect files (paths relative to ``root``) and at most one audit entry; :meth:`commit`
    publishes them as one unit. ``root`` must be locked (:func:`govcloud.store.lock.writer_lock`)."""

    def __init__(self, root: Path | str, kind: str) -> None:
        self.root = Path(root)
        self.kind = kind
        self.id = uuid.uuid4().hex
        self.files: dict[str, tuple[bytes, int]] = {}
        self.audit_entry: dict[str, Any] | None = None
        self.audit_seq: int | None = None
        self.dirs: list[dict[str, str]] = []

    def stage_dir(self, out: Path | str) -> Path:
        """A staging folder beside ``out`` (same file system) for a directory published whole
        by :meth:`publish_dir`. Reserved first (``<id>.stage`` names it), so a kill before the
        commit leaves nothing that the next :func:`recover` does not remove."""
        out = Path(out).absolute()
        stage = out.parent / f".{out.name}.govcloud-stage-{self.id}"
        d = txn_dir(self.root)
        d.mkdir(parents=True, exist_ok=True)
        write_atomic(d / f"{self.id}.stage", json.dumps({"stage": str(stage)}, ensure_ascii=False) + "\n")
        crash_point("txn.reserve")
        stage.mkdir(mode=0o755)
        return stage

    def publish_dir(self, stage: Path, out: Path | str, manifest_sha256: str) -> None:
        """Publish ``stage`` as ``out`` at commit, by one rename (an exchange when ``out``
        exists; the previous content is removed only after). ``manifest_sha256`` identifies the
        complete staged content (its MANIFEST)."""
        self.dirs.append({"stage": str(stage), "out": str(Path(out).absolute()), "manifest": manifest_sha256})

    def write(self, rel: str, data: str | bytes, *, mode: int = 0o644) -> None:
        self.files[_safe_rel(rel)] = (data.encode("utf-8") if isinstance(data, str) else data, mode)

    def audit(self, **entry: Any) -> None:
        """The audit entry (``auditlog.append`` keywords) recorded with these files."""
        self.audit_entry = entry

    def commit(self) -> None:
        d = txn_dir(self.root)
        stage = d / self.id
        stage.mkdir(parents=True)
        for pub in self.dirs:
            fsync_dir(pub["stage"])
            fsync_dir(Path(pub["stage"]).parent)
        try:
            listed = []
            for rel, (data, mode) in sorted(self.files.items()):
                dest = stage / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(dest, mode)
                listed.append({"path": rel, "sha256": hashlib.sha256(data).hexdigest()})
                crash_point("txn.stage")
            for folder in sorted({(stage / r).parent for r in self.files} | {stage}):
                fsync_dir(folder)
            intent = {"id": self.id, "kind": self.kind, "files": listed, "audit": self.audit_entry,
                      "dirs": self.dirs}
            write_atomic(d / f"{self.id}.json", json.dumps(intent, ensure_ascii=False, default=str) + "\n")
            fsync_dir(d)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        crash_point("txn.intent")
        self.audit_seq = _roll_forward(self.root, intent)


def _roll_forward(root: Path, intent: dict[str, Any]) -> int | None:
    d = txn_dir(root)
    tid = intent["id"]
    stage = d / tid
    seq = None
    if intent.get("audit"):
        seq = _audit_once(root, tid, intent["audit"])
        crash_point("txn.audit")
    folders = set()
    for f in intent["files"]:
        rel = _safe_rel(f["path"])
        src, dest = stage / rel, root / rel
        if src.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            folders.add(dest.parent)
            crash_point("txn.publish")
        elif not dest.is_file() or file_sha256(dest) != f["sha256"]:
            raise TransactionError(Msg("an interrupted write in {root} cannot be completed: {rel} is neither staged "
                                       "nor in place (transaction {tid})", root=root, rel=rel, tid=tid),
                                   hint=Msg("restore {rel} from a backup, then remove {intent_file}", rel=rel,
                                            intent_file=d / (tid + ".json")))
    for folder in sorted(folders):
        fsync_dir(folder)
    crash_point("txn.fsync")
    for pub in intent.get("dirs") or []:
        _publish_dir(root, tid, Path(pub["stage"]), Path(pub["out"]), pub["manifest"])
    os.unlink(d / f"{tid}.json")
    try:
        os.unlink(d / f"{tid}.stage")
    except FileNotFoundError:
        pass
    fsync_dir(d)
    crash_point("txn.done")
    shutil.rmtree(stage, ignore_errors=True)
    return seq


def _stage_name_ok(stage: Path, tid: str) -> bool:
    return stage.name.startswith(".") and stage.name.endswith(f".govcloud-stage-{tid}")


def _manifest_sha(folder: Path) -> str | None:
    try:
        return file_sha256(folder / "MANIFEST.sha256")
    except OSError:
        return None


def exchange(a: Path, b: Path) -> None:
    """Swap two directories in one step (Linux renameat2 RENAME_EXCHANGE)."""
    import ctypes
    import errno

    libc = ctypes.CDLL(None, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) != 0:     # AT_FDCWD, RENAME_EXCHANGE
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(b))


def _publish_dir(root: Path, tid: str, stage: Path, out: Path, manifest: str) -> None:
    if not _stage_name_ok(stage, tid):
        raise TransactionError(Msg("internal: {stage} is not a staging folder of transaction {tid}", stage=stage,
                                   tid=tid))
    if stage.is_dir() and _manifest_sha(stage) == manifest and _manifest_sha(out) != manifest:
        if out.exists() or out.is_symlink():
            exchange(stage, out)        # the new content in place, the previous one in `stage`
        else:
            os.rename(stage, out)
        crash_point("txn.exchange")
        fsync_dir(out.parent)
    elif _manifest_sha(out) != manifest:
        raise TransactionError(Msg("an interrupted export to {out} cannot be completed: its staged copy is gone",
                                   out=out),
                               hint=Msg("export again; then remove {intent_file}",
                                        intent_file=txn_dir(root) / (tid + ".json")))
    shutil.rmtree(stage, ignore_errors=True)     # the previous content (or nothing)
    crash_point("txn.cleanup")


def _audit_once(root: Path, tid: str, entry: dict[str, Any]) -> int:
    """Append the transaction's audit entry unless the log already ends with it (a roll forward
    after a kill that came after the append)."""
    from govcloud.store import auditlog

    last = auditlog.last_entry(root)
    if last is not None and isinstance(last.get("after"), dict) and last["after"].get("txn") == tid:
        return int(last["seq"])
    kwargs = dict(entry)
    after = dict(kwargs.get("after") or {})
    after["txn"] = tid
    kwargs["after"] = after
    if isinstance(kwargs.get("entity"), list):
        kwargs["entity"] = tuple(kwargs["entity"])
    return int(auditlog.append(root, **kwargs)["seq"])


def recover(root: Path | str) -> list[str]:
    """Complete every committed transaction a killed writer left in ``root`` and discard the
    uncommitted ones, the temporaries of interrupted atomic writes and scratch folders.
    ``root`` must be locked. Returns what was done, one line each."""
    root = Path(root)
    done: list[str] = []
    d = txn_dir(root)
    if d.is_dir():
        for intent_path in sorted(d.glob("*.json")):
            try:
                intent = json.loads(intent_path.read_text(encoding="utf-8"))
                if not isinstance(intent, dict) or not isinstance(intent.get("files"), list):
                    raise ValueError("not an intent record")
            except (ValueError, OSError) as exc:
                raise TransactionError(Msg("{intent_path}: unreadable intent record of an interrupted write "
                                           "({error})", intent_path=intent_path, error=exc),
                                       hint=Msg("restore the directory from a backup")) from None
            _roll_forward(root, intent)
            done.append(f"completed {intent.get('kind')} {intent.get('id')}")
        for reservation in sorted(d.glob("*.stage")):
            tid = reservation.name[:-len(".stage")]
            try:
                stage = Path(json.loads(reservation.read_text(encoding="utf-8"))["stage"])
            except (ValueError, OSError, KeyError, TypeError):
                stage = None
            if stage is not None and _stage_name_ok(stage, tid):
                shutil.rmtree(stage, ignore_errors=True)
                done.append(f"discarded uncommitted {stage}")
            reservation.unlink(missing_ok=True)
        for entry in sorted(d.iterdir()):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"discarded uncommitted {entry.name}")
            elif entry.name.endswith(TMP_SUFFIX):
                entry.unlink(missing_ok=True)
    scratch = root / SCRATCH_DIR
    if scratch.is_dir():
        shutil.rmtree(scratch, ignore_errors=True)
    sweep = [(root, None), (root / ".govcloud", None)]
    if (root / ".govcloud" / "audit.jsonl").exists():
        try:
            from govcloud.store import auditlog
            anchor = auditlog.anchor_path(root)
            sweep.append((anchor.parent, f".{anchor.name}."))
        except Exception:  # noqa: BLE001 - no key dir to sweep
            pass
    for folder, prefix in sweep:
        try:
            for entry in folder.iterdir():
                if entry.name.startswith(prefix or ".") and entry.name.endswith(TMP_SUFFIX) and entry.is_file():
                    entry.unlink(missing_ok=True)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            pass
    return done
