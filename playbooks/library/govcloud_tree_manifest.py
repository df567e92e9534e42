#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Manifest of directory trees for verification: per entry type, mode, owner, size, mtime,
content SHA-256, symlink target, xattrs (incl. POSIX ACLs).  Read-only (files are opened with
O_NOATIME when possible, so not even access times change)."""
from __future__ import annotations

import hashlib
import os
import stat

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: govcloud_tree_manifest
short_description: read-only manifest (content hashes and metadata) of directory trees
options:
  paths: {type: list, elements: str, required: true}
"""

NOATIME = getattr(os, "O_NOATIME", 0)


def file_sha(path: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | NOATIME | getattr(os, "O_NOFOLLOW", 0))
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    h = hashlib.sha256()
    with os.fdopen(fd, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def xattrs(path: str) -> str:
    try:
        names = sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return ""
    h = hashlib.sha256()
    for n in names:
        try:
            h.update(n.encode() + b"=" + os.getxattr(path, n, follow_symlinks=False) + b";")
        except OSError:
            continue
    return h.hexdigest()[:16] if names else ""


def entry(path: str, st: os.stat_result, top: bool) -> str:
    mode = stat.S_IMODE(st.st_mode)
    own = f"{st.st_uid}:{st.st_gid}"
    if stat.S_ISREG(st.st_mode):
        kind, extra = "f", f"size={st.st_size} mtime={int(st.st_mtime)} sha256={file_sha(path)}"
    elif stat.S_ISDIR(st.st_mode):
        kind, extra = "d", ""
    elif stat.S_ISLNK(st.st_mode):
        kind, extra = "l", f"-> {os.readlink(path)}"
    else:
        kind, extra = "o", f"rdev={st.st_rdev}"
    x = xattrs(path)
    parts = [kind, f"mode={mode:o}", f"owner={own}", extra, f"xattr={x}" if x else ""]
    return " ".join(p for p in parts if p)


def manifest(top: str) -> dict:
    entries: dict[str, str] = {}
    links: dict[tuple[int, int], str] = {}
    if not os.path.isdir(top):
        return {"path": top, "exists": False, "entries": {}, "digest": "", "files": 0, "bytes": 0}
    nbytes = files = 0
    for root, dirs, names in os.walk(top):
        dirs.sort()
        for n in [""] + sorted(names) + dirs if root == top else sorted(names) + dirs:
            p = os.path.join(root, n) if n else root
            rel = os.path.relpath(p, top)
            st = os.lstat(p)
            e = entry(p, st, p == top)
            if stat.S_ISREG(st.st_mode):
                files += 1
                nbytes += st.st_size
                if st.st_nlink > 1:
                    first = links.setdefault((st.st_dev, st.st_ino), rel)
                    if first != rel:
                        e += f" hardlink={first}"
            entries[rel] = e
    h = hashlib.sha256()
    for k in sorted(entries):
        h.update(k.encode("utf-8", "surrogateescape") + b"\0" + entries[k].encode() + b"\n")
    return {"path": top, "exists": True, "entries": entries, "digest": h.hexdigest(), "files": files, "bytes": nbytes}


def main() -> None:
    m = AnsibleModule(argument_spec=dict(paths=dict(type="list", elements="str", required=True)),
                      supports_check_mode=True)
    m.exit_json(changed=False, manifests=[manifest(p) for p in m.params["paths"]])


if __name__ == "__main__":
    main()
