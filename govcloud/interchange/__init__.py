"""Inventory interchange: importers for what ops teams already have (census forms, RVTools,
NetBox, Ansible inventories, cloud migration-hub CSVs). Parsers are pure (file → records +
problems); ``changeset`` turns records into a reviewed change set; the CLI applies it."""
