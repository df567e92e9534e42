"""Plan files, signed approvals, the migration journal, writer locks, the state port and its files backend, staged transactions and
the audit log. Sits above ``model`` and ``base`` only: it never imports ``inventory`` (the inventory
digest a plan records is ``govcloud.inventory.digest``)."""
