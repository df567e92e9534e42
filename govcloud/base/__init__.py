"""The ground floor: file I/O, hashing, process and stamp helpers every other floor may use.

It imports nothing of govcloud but the root modules below it (``errors``, ``paths``, ``redact``,
the package version), so ``model``, ``store``, ``inventory``, ``drivers`` and the rest can all
build on it without an upward import (tests/unit/test_layers.py):

- :mod:`~govcloud.base.atomic` — stage-then-rename writes, private appends, the crash points tests kill at;
- :mod:`~govcloud.base.reader` — the safe, fast YAML/JSON reader (problems as values, not exceptions);
- :mod:`~govcloud.base.digest` — the one chunked file SHA-256;
- :mod:`~govcloud.base.proc` — children that die with their parent;
- :mod:`~govcloud.base.stamp` — who and when, in one format;
- :mod:`~govcloud.base.sshfail` — why an SSH connection failed, one vocabulary;
- :mod:`~govcloud.base.debuglog` — where an internal error's traceback goes.
"""
