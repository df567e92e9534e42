"""The completion table (``completion_table.json``) built from the real CLI.

``govcloud.cli.completion`` answers every TAB from that table without importing the CLI; this module
(heavy: it builds the typer app) derives it: every command and option, the values of every choice
option (enum-typed options from their enum; text options whose values the code checks, from the
constant the code checks them against) and which options and arguments take ids from the inventory
or plan given on the command line. ``tests/unit/test_completion.py`` fails when the file differs
from :func:`build` or when a text option is neither completed nor listed as free text here.

Regenerate after changing the CLI::

    python -m govcloud.cli.completion_spec > govcloud/cli/completion_table.json
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any


def _value_sources() -> dict[tuple[str, str], list[str]]:
    """Text (``str``) options whose values the code checks: (command path, option) → values."""
    from govcloud.interchange.formats import FORMATS
    from govcloud.inventory.generate import SCALES
    from govcloud.migrate.lifecycle import RUN_STAGES
    from govcloud.model.enums import Lifecycle, NetworkZone, Secrecy
    from govcloud.render.views.plan import SHOW_BY
    from govcloud.store.approval import SCHEMES

    zones, lifecycles, secrecy = ([e.value for e in cls] for cls in (NetworkZone, Lifecycle, Secrecy))
    out: dict[tuple[str, str], list[str]] = {
        ("inventory list", "--kind"): ["systems", "servers"],
        ("inventory generate", "--scale"): list(SCALES),
        ("inventory import", "--format"): list(FORMATS),
        ("migrate run", "--until"): [s.value for s in RUN_STAGES],
        ("plan show", "--by"): list(SHOW_BY),
        ("plan approve", "--scheme"): list(SCHEMES),
    }
    for cmd in ("inventory list", "inventory show", "inventory stats"):
        out[(cmd, "--zone")] = zones
        out[(cmd, "--lifecycle")] = lifecycles
        out[(cmd, "--secrecy")] = secrecy
    return out


# (command path, option or "#N" for the Nth argument) → ids: "inventory:<section>" | "plan:batches|systems"
ID_SOURCES: dict[tuple[str, str], str] = {
    **{(cmd, "--department"): "inventory:organizations"
       for cmd in ("inventory list", "inventory show", "inventory stats")},
    **{(cmd, "--room"): "inventory:machine_rooms" for cmd in ("inventory list", "inventory show", "inventory stats")},
    ("inventory show", "#1"): "inventory:all",
    ("inventory discover", "--hosts"): "inventory:servers",
    ("compliance check", "--hosts"): "inventory:servers",
    ("compliance check", "--system"): "inventory:systems",
    ("migrate run", "--batch"): "plan:batches",
    ("migrate run", "--system"): "plan:systems",
    ("migrate cutover", "--batch"): "plan:batches",
    ("migrate cutover", "--system"): "plan:systems",
    ("migrate status", "--batch"): "plan:batches",
    ("migrate rollback", "--system"): "plan:systems",
    ("migrate decommission", "--system"): "plan:systems",
    ("plan explain", "#1"): "plan:systems",
}

# Where the inventory / plan of a command is: its first argument, or an option.
CONTEXT: dict[str, dict[str, dict[str, Any]]] = {
    **{cmd: {"inventory": {"arg": 0}} for cmd in (
        "inventory list", "inventory show", "inventory stats", "inventory discover", "compliance check")},
    **{cmd: {"plan": {"arg": 0}} for cmd in (
        "migrate run", "migrate cutover", "migrate status", "migrate rollback", "migrate decommission",
        "plan explain")},
}

# Text options that take free text, numbers, dates or patterns: nothing to complete.
FREE_TEXT = {"--actor", "--reason", "--by", "--user", "--source-user", "--target-user", "--cloud", "--today",
             "--date", "--start", "--id", "--eol-on", "--hosts", "--system", "--var", "--threshold",
             "--admin-cidr", "--batch", "--from", "--to", "--state"}


def _help(text: str | None) -> str:
    first = (text or "").strip().split("\n")[0]
    return first[:120]


def _helps(text: str | None) -> dict[str, str]:
    """The description a shell shows next to a completion, in English and Chinese (the help
    catalog's, so a TAB answers in the user's language without loading the catalogs)."""
    from govcloud.base.i18n import tr
    from govcloud.cli.helplang import CTX
    return {"help": _help(text), "help_zh": _help(tr(text, "zh", CTX) if text else text)}


def _option(cmd: str, p: Any, values: dict[tuple[str, str], list[str]]) -> dict[str, Any]:
    names = sorted([*p.opts, *p.secondary_opts], key=lambda n: (not n.startswith("--"), n))
    o: dict[str, Any] = {"names": names}
    if getattr(p, "is_flag", False) or getattr(p, "count", False):
        o["flag"] = True
    if p.multiple:
        o["multiple"] = True
    ann = p.type_descriptor.annotation
    key = (cmd, names[0])
    if isinstance(ann, type) and issubclass(ann, Enum):
        o["values"] = [str(e.value) for e in ann]
    elif key in values:
        o["values"] = values[key]
    elif key in ID_SOURCES:
        o["ids"] = ID_SOURCES[key]
    o.update(_helps(p.help))
    return o


def _node(cmd: Any, path: list[str], values: dict[tuple[str, str], list[str]]) -> dict[str, Any]:
    name = " ".join(path)
    node: dict[str, Any] = _helps(cmd.help)
    opts = [_option(name, p, values) for p in cmd.params if p.param_type_name == "option"]
    opts.append({"names": ["--help", "-h"], "flag": True, "help": "Show this message and exit."})
    node["options"] = opts
    if hasattr(cmd, "commands"):
        node["commands"] = {n: _node(c, path + [n], values) for n, c in sorted(cmd.commands.items())
                            if not getattr(c, "hidden", False)}
        return node
    args = []
    for n, p in enumerate(x for x in cmd.params if x.param_type_name == "argument"):
        a: dict[str, Any] = {"name": p.name}
        ann = p.type_descriptor.annotation
        if isinstance(ann, type) and issubclass(ann, Enum):
            a["values"] = [str(e.value) for e in ann]
        elif (name, f"#{n}") in ID_SOURCES:
            a["ids"] = ID_SOURCES[(name, f"#{n}")]
        args.append(a)
    node["args"] = args
    if name in CONTEXT:
        node["context"] = CONTEXT[name]
    return node


def build() -> dict[str, Any]:
    import typer

    from govcloud.cli.root import app
    table = _node(typer.main.get_command(app), [], _value_sources())
    table["format"] = 1
    return table


def dumps(table: dict[str, Any]) -> str:
    return json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    import sys
    sys.stdout.write(dumps(build()))
