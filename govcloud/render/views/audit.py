"""Views of ``govcloud audit``: the chain check and the latest entries — in Chinese by default,
English with ``--lang en``. One line per entry and per problem, so grep and editors can use them;
a newline in the data never starts a line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text

from govcloud.render import console as view
from govcloud.base.i18n import localize, zh_en

_T: dict[str, tuple[str, str]] = {
    "problems": zh_en("{n} problem(s)"),
    "in": zh_en(" in {log}"),
    "no_log": zh_en(" no audit log yet ({log})"),
    "intact": zh_en(" {log}: {n} entries, chain intact"),
    "intact1": zh_en(" {log}: {n} entry, chain intact"),
    "shown": zh_en("{log}: {n} entries shown"),
    "shown1": zh_en("{log}: {n} entry shown"),
}


# what each audit entry records (the `action` govcloud writes), by its label; an action this
# version does not know (a newer govcloud's, a hand-added line) is shown as written
ACTIONS: dict[str, tuple[str, str]] = {
    "import": zh_en("import"),
    "export": zh_en("export"),
    "discover": zh_en("discovery"),
}
ENTITY_KINDS: dict[str, tuple[str, str]] = {
    "inventory": zh_en("inventory"),
    "observations": zh_en("observations"),
}


def _label(table: dict[str, tuple[str, str]], key: Any, lang: str) -> str:
    pair = table.get(key) if isinstance(key, str) else None
    return str(key) if pair is None else pair[0 if lang == "zh" else 1]


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def _problem(p: Any, lang: str) -> str:
    """An audit problem's line with its message in ``lang`` (the message ends the line)."""
    text, message = str(p), getattr(p, "message", None)
    if message and text.endswith(message):
        return text[: len(text) - len(message)] + localize(message, lang)
    return text


def verify(problems: list[Any], log: Path, entries: int, lang: str) -> None:
    con = view.stdout()
    for p in problems:
        con.print(view.styled(("✗", "red"), f" {log.name}:{_problem(p, lang)}"), highlight=False, soft_wrap=True)
    if problems:
        con.print(view.styled((msg("problems", lang, n=len(problems)), "bold red"), msg("in", lang, log=log)),
                  highlight=False, soft_wrap=True)
    elif not log.exists():
        con.print(view.styled(("✓", "green"), msg("no_log", lang, log=log)), highlight=False, soft_wrap=True)
    else:
        con.print(view.styled(("✓", "bold green"), msg("intact1" if entries == 1 else "intact", lang, log=log, n=entries)),
                  highlight=False, soft_wrap=True)


def entries(log: Path, shown: list[dict[str, Any]], lang: str) -> None:
    """The entries: when, who, what, on which record, why (one line each)."""
    con = view.stdout()
    con.print(view.safe(msg("shown1" if len(shown) == 1 else "shown", lang, log=log, n=len(shown))), style="dim", highlight=False,
              soft_wrap=True)
    for e in shown:
        who = e.get("who") or {}
        who_s = (who.get("os_user") or "?") + (f" ({who['actor']})" if who.get("actor") else "") \
            if isinstance(who, dict) else str(who)
        ent = e.get("entity") or {}
        ent_s = f"{_label(ENTITY_KINDS, ent.get('kind'), lang)}/{ent.get('id')}" if isinstance(ent, dict) else str(ent)
        one = lambda x: view.clean(str(x), newlines=False)  # noqa: E731 - a newline in data never starts a line
        line = Text()
        line.append(f"#{one(e.get('seq'))}", style="bold")
        line.append(f"  {one(e.get('at'))}  {one(who_s)}  ")
        line.append(one(_label(ACTIONS, e.get("action"), lang)), style="cyan")
        line.append(f"  {one(ent_s)}")
        if e.get("reason"):
            line.append(f"  — {one(e['reason'])}")
        line.append(f"  [{str(e.get('hash', ''))[:12]}]", style="dim")
        con.print(line, soft_wrap=True)
