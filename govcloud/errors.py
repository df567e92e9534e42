"""The error tree and the exit codes every command shares (ARCHITECTURE.md principle 5)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1            # the input has problems, or the operation failed
    USAGE = 2            # bad command line (click's own code for usage errors)
    CHANGES = 2          # --detailed-exitcode: the dry run found changes to make (an alias of 2, as in
                         # terraform plan -detailed-exitcode; a bad command line exits 2 before any dry run)
    PARTIAL = 3          # some of the work was done
    NOT_APPROVED = 4     # no valid signed approval: unapproved, unsigned, forged, edited after signing, not covering
    PLAN_APPROVED = 5    # `plan generate` would replace an approved plan with a different one (--force to do it)
    BUSY = 75            # another writer holds the inventory's or plan's lock (EX_TEMPFAIL)
    INTERNAL = 70        # a bug: short message on screen, traceback in the debug log
    INTERRUPTED = 130


class GovcloudError(Exception):
    """An expected, actionable failure: one clear line and a documented exit code."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class UsageError(GovcloudError):
    exit_code = ExitCode.USAGE
