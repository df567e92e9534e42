"""The ground floor: file I/O and process helpers every other floor may use.

It imports nothing from govcloud but :mod:`govcloud.errors` and itself, so ``model``, ``store``,
``inventory``, ``drivers`` and the rest can all build on it without an upward import:

- :mod:`~govcloud.base.atomic` — stage-then-rename writes and the crash points tests kill at;
- :mod:`~govcloud.base.reader` — the safe, fast YAML/JSON reader (problems as values, not exceptions);
- :mod:`~govcloud.base.digest` — the one chunked file SHA-256;
- :mod:`~govcloud.base.proc` — children that die with their parent.
"""
