"""The export use case: a valid inventory → XLSX, CSV, JSON or HTML for auditors with a
``MANIFEST.sha256``, published in one transaction with its audit entry (action ``export``) under the
inventory's writer lock; and the verification of an earlier export against its manifest."""

from __future__ import annotations

from pathlib import Path

from govcloud.base.progress import NULL, Progress
from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError
from govcloud.inventory.export import ExportResult, VerifyProblem, export_inventory, observed_as_written, verify_export
from govcloud.inventory.loader import load_inventory
from govcloud.inventory.validate import validate_path
from govcloud.store import auditlog
from govcloud.usecases.plan import InvalidInventory


def export(path: Path, out: Path, *, fmt: str, lang: str, include_classified: bool = False,
           actor: str | None = None, reason: str | None = None, force: bool = False,
           progress: Progress = NULL) -> ExportResult:
    """Export; :class:`InvalidInventory` (nothing written) when the inventory has errors.
    ``progress``: loading and validating, building the tables, writing the rows, the manifest."""
    from govcloud.store.lock import writer_lock
    from govcloud.store.txn import Transaction

    root = auditlog.log_root(path)
    if not root.is_dir():
        raise GovcloudError(Msg("{path} does not exist",
                                path=path), hint=Msg("give an inventory directory "
                                                                              "(or one inventory file)"))
    # the inventory's writer lock: the export reads one state of it, and its audit entry and
    # the publication are one transaction (completed or discarded by the next command after a kill)
    with writer_lock(root, "inventory export"):
        transaction = Transaction(root, "export")
        result = validate_path(path, progress=progress)
        if result.errors:
            raise InvalidInventory(Msg("{n} error(s); fix them before exporting (`govcloud inventory validate "
                                       "{path}`)",
                                       n=len(result.errors), path=path), result.errors)
        inv = result.inventory

        def record(res: ExportResult) -> None:
            # committed with the publication: an export that cannot be audited does not appear
            transaction.audit(action="export",
                              entity={"kind": "inventory", "id": res.info["inventory"]},
                              before=None,
                              after={"manifest_sha256": res.manifest_sha256, "out": str(res.out),
                                     "format": res.info["format"], "lang": res.info["lang"],
                                     "classified": res.info["classified"], "files": res.files,
                                     "rows": {k: v["rows"] for k, v in res.info["tables"].items()}},
                              who=actor, reason=reason)

        written = None
        if fmt == "json" and inv.observations:
            # the round-trip format keeps a record's own `observed` apart from the observations that
            # validation merged into it: read the files once more, unvalidated (only when there are any)
            written = observed_as_written(inv, load_inventory(path).inventory)
        return export_inventory(inv, out, fmt=fmt, lang=lang, include_classified=include_classified,
                                source=str(path), before_publish=record, observed_as_written=written,
                                transaction=transaction, force=force, progress=progress)


def verify(directory: Path) -> list[VerifyProblem]:
    """Every file missing, extra or modified against the export's MANIFEST.sha256."""
    return verify_export(directory)
