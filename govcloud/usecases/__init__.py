"""The use-case floor: one function per command, returning a typed result (a dataclass).

``cli/`` parses options, calls one of these and hands what comes back to a view in
``render/views/``; everything a command decides — which policy a plan uses, what a plan's state is
(``plan_state``: approval and stale inputs), whether a plan may run (``approval.open_approved``: the
one approval and staleness guard), how the executor is built and what status reads
(``migrate``), what discovery writes and audits, what an export records, which inputs a report
reads, which hosts a compliance check visits — is decided here, once. Use cases
raise :class:`govcloud.errors.GovcloudError` subclasses that carry what the caller needs to show
(``InvalidInventory.problems``, ``PlanViolations.violations``).

Below: ``render`` (documents), ``migrate``, ``interchange``, ``inventory``, ``compliance``,
``drivers``, ``store``, ``planning``, ``model``, ``base`` — see the README's layout section.
"""
