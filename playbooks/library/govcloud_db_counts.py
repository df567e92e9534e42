#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Exact row counts per table of one database (PostgreSQL or MySQL/MariaDB), and with
``checksums: true`` a content checksum per table, independent of row order.  Read-only.

PostgreSQL: the sum (as numeric) of a 64-bit hash of row::text over all rows, with the session's
text forms pinned (UTC, ISO dates, hex bytea) so both sides render rows alike; no sort, one
sequential scan per table, which also gives the row count (no second scan).  ``algorithm``:
``hash64`` is PostgreSQL's own hashtextextended (11 and later; about twice as fast as md5 here),
``md5`` the first 64 bits of md5 (any version).  Both sides of a comparison must use the same one:
the playbook picks it from the source's version.  MySQL/MariaDB: the engine's own
``CHECKSUM TABLE … EXTENDED`` (a sum of row CRCs, order-independent)."""
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
  checksums: {type: bool, default: false}
  algorithm: {type: str, default: md5, choices: [md5, hash64]}
"""

PG_SESSION = ("set timezone = 'UTC'; set datestyle = 'ISO, YMD'; set intervalstyle = 'postgres'; "
              "set bytea_output = 'hex'; set extra_float_digits = 1; set default_transaction_read_only = on;\n")


def qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ql(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


ROW_HASH = {"md5": "('x' || substr(md5(r::text), 1, 16))::bit(64)::bigint",
            "hash64": "hashtextextended(r::text, 0)"}


def pg_checksum_sql(tables: list[tuple[str, str]], algorithm: str = "md5") -> str:
    h = ROW_HASH[algorithm]
    out = [PG_SESSION]
    for schema, table in tables:
        out.append(f"select {ql(schema + '.' + table)}, count(*) || ':' || coalesce(sum({h}::numeric), 0) "
                   f"from {qi(schema)}.{qi(table)} r;\n")
    return "".join(out)

PG_SQL = """select table_schema || '.' || table_name,
  (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', table_schema, table_name),
                                       false, true, '')))[1]::text
from information_schema.tables
where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
order by 1"""


def run(argv: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=3600, cwd="/")
    return p.returncode, p.stdout, p.stderr


def pg_tables(m: AnsibleModule, pre: list[str], name: str) -> list[tuple[str, str]]:
    """(schema, table) pairs from the catalog (names may hold dots or quotes)."""
    rc, so, se = run(pre + ["psql", "-XqAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", name, "-c",
                            "select table_schema, table_name from information_schema.tables where table_type = "
                            "'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"])
    if rc != 0:
        m.fail_json(msg=f"postgresql {name}: {se.strip()[-400:]}", reachable=False)
    return [tuple(line.split("\t", 1)) for line in so.splitlines() if "\t" in line]


def main() -> None:
    m = AnsibleModule(argument_spec=dict(
        engine=dict(type="str", required=True, choices=["postgresql", "mysql", "mariadb"]),
        name=dict(type="str", required=True),
        checksums=dict(type="bool", default=False),
        algorithm=dict(type="str", default="md5", choices=["md5", "hash64"])), supports_check_mode=True)
    engine, name, algorithm = m.params["engine"], m.params["name"], m.params["algorithm"]
    counts: dict[str, int] = {}
    sums: dict[str, str] = {}
    if engine == "postgresql":
        pre = ["runuser", "-u", "postgres", "--"] if shutil.which("runuser") else ["sudo", "-n", "-u", "postgres"]
        if m.params["checksums"]:
            if algorithm == "hash64":
                rc, so, se = run(pre + ["psql", "-XqAt", "-d", name, "-c", "show server_version_num"])
                if rc != 0:
                    m.fail_json(msg=f"postgresql {name}: {se.strip()[-400:]}", reachable=False)
                if not so.strip().isdigit() or int(so.strip()) < 110000:
                    m.fail_json(msg=f"postgresql {name}: hash64 checksums need PostgreSQL 11 or later "
                                    f"(this server: {so.strip() or '?'}); use algorithm md5", reachable=True)
            # one scan per table gives the count and the checksum
            rc, so, se = run(pre + ["psql", "-XqAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", name],
                             stdin=pg_checksum_sql(pg_tables(m, pre, name), algorithm))
            if rc != 0:
                m.fail_json(msg=f"postgresql {name} checksums: {se.strip()[-400:]}", reachable=False)
            for line in so.splitlines():
                t, _, c = line.partition("\t")
                if t:
                    sums[t] = c
                    counts[t] = int(c.split(":", 1)[0])
        else:
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
            if m.params["checksums"]:
                q = "checksum table " + ", ".join(f"`{name}`.`{t}`" for t in tables) + " extended"
                rc, so, se = run(["mysql", "-NB", "-e", q])
                if rc != 0:
                    m.fail_json(msg=f"{engine} {name} checksums: {se.strip()[-400:]}", reachable=False)
                for line in so.splitlines():
                    t, _, c = line.partition("\t")
                    if t:
                        sums[t] = f"{counts.get(t, '?')}:{c}"
    m.exit_json(changed=False, counts=counts, tables=len(counts), rows=sum(counts.values()), reachable=True,
                checksums=sums, algorithm=algorithm if sums and engine == "postgresql" else None)


if __name__ == "__main__":
    main()
