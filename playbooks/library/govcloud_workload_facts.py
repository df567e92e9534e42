#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Read-only facts about a migration workload on one host (govcloud precheck / sync / verify).

For each data path: exists, apparent bytes, disk bytes, files; for each service: whether an init
script or systemd unit exists and whether it runs; for each database: whether the engine answers
and the database exists, and its size.  For `space_for` paths: free bytes of the filesystem that
holds the path (or its nearest existing parent).  Never writes anything.
"""
from __future__ import annotations

import os
import shutil
import stat
import subprocess

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_workload_facts
short_description: read-only facts about a govcloud workload (paths, services, databases, free space)
options:
  data_paths: {type: list, elements: str, default: []}
  services: {type: list, elements: str, default: []}
  databases: {type: list, elements: dict, default: []}
  space_for: {type: list, elements: str, default: []}
"""


def tree_size(path: str) -> tuple[int, int, int]:
    apparent = disk = files = 0
    seen: set[tuple[int, int]] = set()
    for root, dirs, names in os.walk(path):
        for n in dirs + names:
            try:
                st = os.lstat(os.path.join(root, n))
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                files += 1
                if st.st_nlink > 1:
                    if (st.st_dev, st.st_ino) in seen:
                        continue
                    seen.add((st.st_dev, st.st_ino))
                apparent += st.st_size
            disk += st.st_blocks * 512
    return apparent, disk, files


def as_user(user: str, argv: list[str]) -> list[str]:
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--"] + argv
    return ["sudo", "-n", "-u", user] + argv


def run(argv: list[str], timeout: int = 60) -> tuple[int, str, str]:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd="/")
        return p.returncode, p.stdout, p.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        return 127, "", str(e)


def service_facts(name: str) -> dict:
    init = f"/etc/init.d/{name}"
    units = [f"{d}/{name}.service" for d in ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")]
    systemd = os.path.isdir("/run/systemd/system") and shutil.which("systemctl")
    # a unit file counts only where systemd runs (packages install units, e.g. MariaDB's mysql.service
    # alias, on hosts that start services through /etc/init.d)
    known = os.path.exists(init) or bool(systemd and any(os.path.exists(u) for u in units))
    running = False
    if systemd:
        running = run(["systemctl", "is-active", "--quiet", name])[0] == 0
    elif os.path.exists(init):
        running = run([init, "status"])[0] == 0
    return {"name": name, "known": bool(known), "running": running}


ENGINE_SERVICES = {"postgresql": ["postgresql"], "mysql": ["mysql", "mysqld", "mariadb"], "mariadb": ["mariadb", "mysql"]}


def db_facts(engine: str, name: str) -> dict:
    out = {"engine": engine, "name": name, "reachable": False, "exists": False, "bytes": 0, "error": "",
           "installed": any(service_facts(s)["known"] for s in ENGINE_SERVICES.get(engine, []))}
    if engine == "postgresql":
        rc, so, se = run(as_user("postgres", ["psql", "-XqAt", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c",
                                              "select datname, pg_database_size(datname) from pg_database"]))
        sep = "|"
    elif engine in ("mysql", "mariadb"):
        rc, so, se = run(["mysql", "-NB", "-e",
                          "select s.schema_name, coalesce(sum(t.data_length + t.index_length), 0) "
                          "from information_schema.schemata s left join information_schema.tables t "
                          "on t.table_schema = s.schema_name group by s.schema_name"])
        sep = "\t"
    else:
        out["error"] = f"unsupported engine {engine}"
        return out
    if rc != 0:
        out["error"] = (se or so).strip()[-300:]
        return out
    out["reachable"] = True
    for line in so.splitlines():
        parts = line.split(sep)
        if len(parts) == 2 and parts[0] == name:
            out["exists"] = True
            out["bytes"] = int(parts[1] or 0)
    return out


def free_bytes(path: str) -> dict:
    p = path
    while p and not os.path.exists(p):
        p = os.path.dirname(p.rstrip("/")) or "/"
    st = os.statvfs(p)
    return {"path": path, "fs_path": p, "free": st.f_bavail * st.f_frsize, "dev": os.stat(p).st_dev}


def main() -> None:
    m = AnsibleModule(argument_spec=dict(
        data_paths=dict(type="list", elements="str", default=[]),
        services=dict(type="list", elements="str", default=[]),
        databases=dict(type="list", elements="dict", default=[]),
        space_for=dict(type="list", elements="str", default=[]),
    ), supports_check_mode=True)
    paths = []
    for p in m.params["data_paths"]:
        rec = {"path": p, "exists": os.path.isdir(p) and not os.path.islink(p), "bytes": 0, "disk_bytes": 0, "files": 0}
        if rec["exists"]:
            rec["bytes"], rec["disk_bytes"], rec["files"] = tree_size(p)
        elif os.path.lexists(p):
            rec["error"] = "not a directory"
        paths.append(rec)
    services = [service_facts(s) for s in m.params["services"]]
    dbs = [db_facts(str(d.get("engine", "")), str(d.get("name", ""))) for d in m.params["databases"]]
    space = [free_bytes(p) for p in m.params["space_for"]]
    m.exit_json(changed=False, paths=paths, services=services, databases=dbs, space=space)


if __name__ == "__main__":
    main()
