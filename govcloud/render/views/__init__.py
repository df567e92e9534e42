"""Console views, one module per command group: each takes a use case's typed result and the
language (``zh`` by default, ``en`` with ``--lang en``) and prints it through ``render.console``.

``cli/`` calls a use case and hands what comes back to one of these; no rich table is built in
``cli/``. Every word a view prints comes from its module's ``_T`` table in both languages (data —
names, ids, messages from the hosts — is shown as it is, escaped by ``console.safe``/``clean``).
"""
