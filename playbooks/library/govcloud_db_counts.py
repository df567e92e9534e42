#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Exact row counts per table of one database (PostgreSQL or MySQL/MariaDB).  Read-only."""
from __future__ import annotations

import shutil
import subprocess

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_db_counts
short_description: exact per-table row counts of a database (read-only)
options:
  engine: {type: str, required: true, choices: [postgresql, mysql, mariadb]}
  name: {type: str, required: true}
"""

PG_SQL = """select table_schema || '.' || table_name,
  (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', table_schema, table_name),
                                       false, true, '')))[1]::text
from information_schema.tables
where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
order by 1"""


def run(argv: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=3600, cwd="/")
    return p.returncode, p.stdout, p.stderr


def main() -> None:
    m = AnsibleModule(argument_spec=dict(
        engine=dict(type="str", required=True, choices=["postgresql", "mysql", "mariadb"]),
        name=dict(type="str", required=True)), supports_check_mode=True)
    engine, name = m.params["engine"], m.params["name"]
    counts: dict[str, int] = {}
    if engine == "postgresql":
        pre = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["sudo", "-n", "-u", "postgres"]
        rc, so, se = run(pre + ["psql", "-XqAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", name, "-c", PG_SQL])
        if rc != 0:
            m.fail_json(msg=f"postgresql {name}: {se.strip()[-400:]}", reachable=False)
        for line in so.splitlines():
            t, _, c = line.partition("\t")
            counts[t] = int(c)
    else:
        rc, so, se = run(["mysql", "-NB", "-e",
                          "select table_name from information_schema.tables "
                          f"where table_type = 'BASE TABLE' and table_schema = '{name.replace(chr(39), '')}' order by 1"])
        if rc != 0:
            m.fail_json(msg=f"{engine} {name}: {se.strip()[-400:]}", reachable=False)
        tables = [t for t in so.splitlines() if t]
        if tables:
            q = " union all ".join(f"select '{t}', count(*) from `{name}`.`{t}`" for t in tables)
            rc, so, se = run(["mysql", "-NB", "-e", q])
            if rc != 0:
                m.fail_json(msg=f"{engine} {name}: {se.strip()[-400:]}", reachable=False)
            for line in so.splitlines():
                t, _, c = line.partition("\t")
                counts[f"{name}.{t}"] = int(c)
    m.exit_json(changed=False, counts=counts, tables=len(counts), rows=sum(counts.values()), reachable=True)


if __name__ == "__main__":
    main()
