"""Shell completion on the fast path: every TAB answered without importing the CLI.

The shell scripts typer installs (``govcloud --install-completion``) call ``govcloud`` with
``_GOVCLOUD_COMPLETE=complete_bash`` (``complete_zsh``, ``complete_fish``, ``complete_powershell``) and
the words typed so far. Importing the whole CLI (rich, typer, openpyxl, jinja2, the planner …) costs
~0.5 s, so ``govcloud.cli.app.main`` hands such calls to :func:`answer` first, which needs only this
module and ``completion_table.json``: the command tree, every option, the values of every choice option
and which options take ids (generated from the real CLI by ``govcloud.cli.completion_spec``; a unit
test fails when the two differ). Ids are read from the inventory directory or plan given on the
command line with a line scanner (no YAML library): files govcloud writes hold one record per line,
hand-written YAML has ``- id: x`` items. Nothing here raises: a file it cannot read completes nothing.

Only the standard library's ``os``, ``sys``, ``json`` and ``re`` are imported (tests/unit/test_completion.py
checks ``sys.modules`` after a real completion call).
"""

from __future__ import annotations

import json
import os
import re
import sys

from govcloud.base.idscan import inventory_ids, plan_ids

COMPLETE_VAR = "_GOVCLOUD_COMPLETE"
TABLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "completion_table.json")
SHELLS = ("bash", "zsh", "fish", "powershell")

# ---------------------------------------------------------------- the words typed

def split_words(line: str) -> list[str]:
    """Shell-like split that never fails on an unterminated quote (the user is still typing)."""
    words, cur, quote, have = [], [], None, False
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"' and i + 1 < len(line):
                i += 1
                cur.append(line[i])
            else:
                cur.append(ch)
        elif ch in "'\"":
            quote, have = ch, True
        elif ch == "\\" and i + 1 < len(line):
            i += 1
            cur.append(line[i])
            have = True
        elif ch.isspace():
            if cur or have:
                words.append("".join(cur))
            cur, have = [], False
        else:
            cur.append(ch)
            have = True
        i += 1
    if cur or have:
        words.append("".join(cur))
    return words


def args_from_env(shell: str, env: dict[str, str]) -> tuple[list[str], str] | None:
    """(the words after ``govcloud`` before the cursor, the word being completed), as typer reads them."""
    if shell == "bash":
        words = split_words(env.get("COMP_WORDS", ""))
        try:
            cword = int(env.get("COMP_CWORD", ""))
        except ValueError:
            return None
        incomplete = words[cword] if cword < len(words) else ""
        return words[1:cword], incomplete
    line = env.get("_TYPER_COMPLETE_ARGS", "")
    words = split_words(line)
    args = words[1:]
    if shell == "powershell":
        incomplete = env.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        if incomplete and args and args[-1] == incomplete:
            args = args[:-1]
        return args, incomplete
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


# ---------------------------------------------------------------- the command tree

def load_table() -> dict:
    with open(TABLE_FILE, encoding="utf-8") as fh:
        return json.load(fh)


def _opt(node: dict, name: str) -> dict | None:
    for o in node.get("options", ()):
        if name in o["names"]:
            return o
    return None


def _context(node: dict, positionals: list[str], given: dict[str, list[str]], kind: str) -> str | None:
    ref = node.get("context", {}).get(kind)
    if ref is None:
        return None
    if "arg" in ref:
        n = ref["arg"]
        return positionals[n] if n < len(positionals) else None
    vals = given.get(ref["option"])
    return vals[-1] if vals else None


def _ids(spec: str, node: dict, positionals: list[str], given: dict[str, list[str]]) -> list[str]:
    kind, _, what = spec.partition(":")
    where = _context(node, positionals, given, kind)
    if not where:
        return []
    if kind == "inventory":
        return inventory_ids(where, what)
    batch = given.get("--batch", [None])[-1] if what == "systems" else None
    return plan_ids(where, what, batch)


def complete(table: dict, args: list[str], incomplete: str, env_lang: str | None = None) -> list[tuple[str, str]]:
    """(value, help) pairs for the word being typed after ``args``; the help in the language of
    ``--lang`` on the line, else ``env_lang`` (GOVCLOUD_LANG), else Chinese."""
    node = table
    positionals: list[str] = []
    given: dict[str, list[str]] = {}
    pending: dict | None = None        # an option whose value is the next word
    only_args = False
    for w in args:
        if pending is not None:
            if w == "=":
                continue
            given.setdefault(pending["names"][0], []).append(w)
            pending = None
            continue
        if not only_args and w == "--":
            only_args = True
            continue
        if not only_args and w.startswith("-") and len(w) > 1:
            name, eq, value = w.partition("=")
            o = _opt(node, name)
            if o is not None and not o.get("flag"):
                if eq:
                    given.setdefault(o["names"][0], []).append(value)
                else:
                    pending = o
            continue
        if "commands" in node and not positionals and w in node["commands"]:
            node = node["commands"][w]
            continue
        positionals.append(w)
    lang = ((given.get("--lang") or [env_lang or "zh"])[-1])
    prefix = ""
    if pending is None and not only_args and incomplete.startswith("--") and "=" in incomplete:
        name, _, rest = incomplete.partition("=")
        o = _opt(node, name)
        if o is not None and not o.get("flag"):
            pending, prefix, incomplete = o, name + "=", rest
    if pending is not None:
        values = pending.get("values")
        if values is None and pending.get("ids"):
            values = _ids(pending["ids"], node, positionals, given)
        if pending.get("multiple"):
            already = set(given.get(pending["names"][0], ()))
            values = [v for v in values or () if v not in already]
        return [(prefix + v, "") for v in values or () if v.startswith(incomplete)]
    if incomplete.startswith("-") and not only_args:
        out = []
        for o in node.get("options", ()):
            if o["names"][0] in given and not o.get("multiple"):
                continue
            for n in o["names"]:
                if n.startswith(incomplete) and (n.startswith("--") or incomplete == "-" or len(incomplete) > 1):
                    out.append((n, _described(o, lang)))
        return out
    if "commands" in node and not positionals:
        return [(name, _described(sub, lang)) for name, sub in node["commands"].items() if name.startswith(incomplete)]
    spec = node.get("args", [])
    n = len(positionals)
    if n < len(spec) and spec[n].get("ids"):
        return [(v, "") for v in _ids(spec[n]["ids"], node, positionals, given) if v.startswith(incomplete)]
    if n < len(spec) and spec[n].get("values"):
        return [(v, "") for v in spec[n]["values"] if v.startswith(incomplete)]
    return []      # a path: the shell completes file names itself (bash -o default, zsh _files)


def _described(node: dict, lang: str) -> str:
    return (node.get("help_zh") if lang != "en" else None) or node.get("help", "")


# ---------------------------------------------------------------- shell formats (as typer prints them)

def _zsh_escape(s: str) -> str:
    return (s.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`")
            .replace(":", r"\\:"))


def _one_line(text: str) -> str:
    return re.sub(r"\s", " ", text)


def render(shell: str, items: list[tuple[str, str]], env: dict[str, str]) -> tuple[str, int]:
    """The text the shell's script expects, and the exit status (fish's ``is-args`` asks by status)."""
    if shell == "bash":
        return "\n".join(v for v, _ in items), 0
    if shell == "zsh":
        if not items:
            return "_files", 0
        lines = "\n".join(f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"' for v, h in items)
        return f"_arguments '*: :(({lines}))'", 0
    if shell == "fish":
        action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return "", 0 if items else 1
        return "\n".join(f"{v}\t{_one_line(h)}" if h else v for v, h in items), 0
    return "\n".join(f"{v}:::{h or ' '}" for v, h in items), 0


def answer(env: dict[str, str] | None = None, out=None) -> int | None:
    """Answer a completion request from the environment; None when this is not one the fast path
    handles (then the full CLI runs: ``source_bash`` and the like)."""
    env = dict(os.environ) if env is None else env
    instruction = env.get(COMPLETE_VAR, "")
    first, _, second = instruction.partition("_")
    if first == "complete" and second in SHELLS:
        shell = second
    elif second == "complete" and first in SHELLS:
        shell = first
    else:
        return None
    try:
        parsed = args_from_env(shell, env)
        if parsed is None:
            return None
        items = complete(load_table(), *parsed, env_lang=env.get("GOVCLOUD_LANG"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    text, status = render(shell, items, env)
    stream = out or sys.stdout
    if text:
        stream.write(text + "\n")
    stream.flush()
    return status
