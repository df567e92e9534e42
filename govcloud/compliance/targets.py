"""Which hosts to check and how to reach them: an Ansible INI inventory and/or a govcloud inventory.

Only the INI subset people actually write is read: ``[group]`` host lines with
``key=value`` variables, ``[group:vars]`` and ``[group:children]``.  Connection variables used:
``ansible_host``, ``ansible_port``, ``ansible_user``, ``ansible_ssh_private_key_file`` and a
``-F <ssh_config>`` in ``ansible_ssh_common_args`` (for ``UserKnownHostsFile``/``User``/
``IdentityFile``).  Passwords in an inventory (``ansible_password``…) are never read.
"""

from __future__ import annotations

import fnmatch
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from govcloud.drivers.ssh import SshTarget, ssh_config_hints
from govcloud.base.i18n import Msg
from govcloud.errors import GovcloudError


@dataclass
class AnsibleInventory:
    hosts: dict[str, dict[str, str]] = field(default_factory=dict)      # host → hostvars (merged)
    groups: dict[str, list[str]] = field(default_factory=dict)          # group → hosts (children expanded)


def _split_vars(text: str) -> dict[str, str]:
    out = {}
    for tok in shlex.split(text, comments=True):
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def read_ansible_ini(path: Path) -> AnsibleInventory:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GovcloudError(Msg("cannot read Ansible inventory {path}: {why}", path=str(path),
                                why=exc.strerror)) from None
    host_vars: dict[str, dict[str, str]] = {}
    members: dict[str, list[str]] = {"ungrouped": []}
    children: dict[str, list[str]] = {}
    group_vars: dict[str, dict[str, str]] = {}
    section, kind = "ungrouped", "hosts"
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
            section, _, kind = name.partition(":")
            kind = kind or "hosts"
            members.setdefault(section, [])
            continue
        if kind == "vars":
            k, _, v = line.partition("=")
            v = v.strip()
            group_vars.setdefault(section, {})[k.strip()] = shlex.split(v)[0] if v[:1] in ("'", '"') else v
        elif kind == "children":
            children.setdefault(section, []).append(line.split()[0])
        else:
            name, _, rest = line.partition(" ")
            host_vars.setdefault(name, {}).update(_split_vars(rest))
            members.setdefault(section, []).append(name)

    def expand(g: str, seen: frozenset = frozenset()) -> list[str]:
        if g in seen:
            return []
        out = list(members.get(g, []))
        for ch in children.get(g, []):
            out += expand(ch, seen | {g})
        return out

    inv = AnsibleInventory()
    all_groups = set(members) | set(children)
    for g in all_groups:
        inv.groups[g] = list(dict.fromkeys(expand(g)))
    inv.groups["all"] = list(host_vars)
    for h, hv in host_vars.items():
        merged: dict[str, str] = dict(group_vars.get("all", {}))
        for g in sorted(all_groups):
            if g != "all" and h in inv.groups[g]:
                merged.update(group_vars.get(g, {}))
        merged.update(hv)
        inv.hosts[h] = merged
    return inv


def select(inv: AnsibleInventory, pattern: str) -> list[str]:
    """Ansible-like patterns: ``all``, names, groups, globs, ``a,b``, ``a:b``, ``!x`` excludes."""
    chosen: list[str] = []
    excluded: set[str] = set()
    for part in [p for p in pattern.replace(":", ",").split(",") if p.strip()]:
        part = part.strip()
        neg = part.startswith("!")
        part = part.lstrip("!")
        hit = list(inv.groups.get(part, []))
        hit += [h for h in inv.hosts if fnmatch.fnmatchcase(h, part)]
        for g, hs in inv.groups.items():
            if g != part and fnmatch.fnmatchcase(g, part) and any(c in part for c in "*?["):
                hit += hs
        if neg:
            excluded.update(hit)
        else:
            chosen += hit
    return [h for h in dict.fromkeys(chosen) if h not in excluded]


def target_for(name: str, hostvars: dict[str, str], *, user: str | None = None, key: str | None = None,
               known_hosts: str | None = None) -> SshTarget:
    """A host's SSH target: command-line options win, then inventory variables, then ssh_config."""
    hints = None
    args = hostvars.get("ansible_ssh_common_args", "") + " " + hostvars.get("ansible_ssh_extra_args", "")
    toks = shlex.split(args)
    if "-F" in toks and toks.index("-F") + 1 < len(toks):
        hints = ssh_config_hints(toks[toks.index("-F") + 1], name)
    addr = hostvars.get("ansible_host") or (hints.hostname if hints else None) or name
    port = int(hostvars.get("ansible_port") or (hints.port if hints and hints.port else 22))
    return SshTarget(
        name=name, host=addr, port=port,
        user=user or hostvars.get("ansible_user") or (hints.user if hints else None) or "root",
        key_filename=key or hostvars.get("ansible_ssh_private_key_file") or (hints.identity if hints else None),
        known_hosts=known_hosts or (hints.known_hosts if hints else None),
    )
