"""The use-case floor: one function per command, returning a typed result (a dataclass).

``cli/`` parses options, calls one of these and renders what comes back; everything a command
decides — which policy a plan uses, whether a plan may run (``approval.open_approved``: the one
approval and staleness guard), what discovery writes and audits, what an export records, which
inputs a report reads, which hosts a compliance check visits — is decided here, once. Use cases
raise :class:`govcloud.errors.GovcloudError` subclasses that carry what the caller needs to show
(``InvalidInventory.problems``, ``PlanViolations.violations``).

Below: ``render`` (documents), ``migrate``, ``interchange``, ``inventory``, ``compliance``,
``drivers``, ``store``, ``planning``, ``model``, ``base`` — see the README's layout section.
"""
