"""Views of ``govcloud compliance`` besides the findings table (``compliance.render``): the list
of checks and the baseline playbook's outcome per host — in Chinese by default, English with
``--lang en``."""

from __future__ import annotations

from typing import Any

from govcloud.render import console as view
from govcloud.base.i18n import zh_en

_T: dict[str, tuple[str, str]] = {
    "changed": zh_en("changed"), "failed": zh_en("failed"), "unreachable": zh_en("unreachable"),
    "collecting": zh_en("collecting facts from {n} host(s) …"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def checks(data: list[dict[str, Any]], lang: str) -> None:
    """One line per check: id, levels, title, the clause per level."""
    con = view.stdout()
    for d in data:
        title = d["title"] if lang == "zh" else d["title_en"]
        con.print(view.safe(f"{d['check_id']:24} L{'/'.join(map(str, d['levels'])):5} {title}  "
                            + "  ".join(f"L{k}: {v}" for k, v in d["clauses"].items())))


def baseline(run: Any, lang: str) -> None:
    con = view.stdout()
    for h in sorted(set(run.stats.get("ok", {})) | set(run.failed_tasks)):
        con.print(view.styled((h, "bold"), f": {msg('changed', lang)}={run.changed(h)} "
                  f"{msg('failed', lang)}={run.stats.get('failures', {}).get(h, 0)} "
                  f"{msg('unreachable', lang)}={run.stats.get('dark', {}).get(h, 0)}"))
        for t in run.changed_tasks.get(h, []):
            con.print(view.safe(f"  {msg('changed', lang)}: {t}"))
        for t in run.failed_tasks.get(h, []):
            con.print(view.styled("  ", (msg("failed", lang), "red"), f": {view.clean(t)}"))
        for m in run.messages.get(h, []):
            con.print(view.safe(f"  {m}"))
