"""Carrying out an approved plan: per-system lifecycle (pure), desired cloud resources and the
change set against a live snapshot (pure), and the executor that drives OpenStack and Ansible
through ``govcloud.drivers`` and journals every transition."""
