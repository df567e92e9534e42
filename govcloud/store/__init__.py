"""Plan files, signed approvals, the migration journal, writer and run locks, staged transactions and
the audit log. Sits above ``model`` and ``base`` only: it never imports ``inventory`` (the inventory
digest a plan records is ``govcloud.inventory.digest``)."""
