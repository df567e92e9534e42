"""View of ``govcloud inventory export``: rows per table (classified records redacted or
withheld), the manifest, and ``--verify`` — in Chinese by default, English with ``--lang en``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from govcloud.render import console as view
from govcloud.base.i18n import localize, zh_en

_T: dict[str, tuple[str, str]] = {
    "errors": zh_en("{n} error(s)"),
    "fix": zh_en("; fix them before exporting (`govcloud inventory validate {path}`)"),
    "redacted": zh_en("{n} classified, minimal metadata"),
    "withheld": zh_en("{n} withheld (classified)"),
    "classified": zh_en("classified systems"),
    "problems": zh_en("{n} problem(s)"),
    "in": zh_en(" in {dir}"),
    "matches": zh_en(" {dir}: every file matches MANIFEST.sha256"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def invalid(problems: list[Any], path: Path, lang: str) -> None:
    err = view.stderr()
    view.render_problems(problems[:20], err, lang)
    err.print(view.styled((msg("errors", lang, n=len(problems)), "bold red"), msg("fix", lang, path=path)),
              highlight=False)


def exported(res: Any, fmt: str, lang: str) -> None:
    """``res``: usecases.export's result (rows per table, the classified mode, the manifest digest)."""
    con = view.stdout()
    for t in res.info["tables"].values():
        extra = []
        if t["redacted"]:
            extra.append(msg("redacted", lang, n=t["redacted"]))
        if t["withheld"]:
            extra.append(msg("withheld", lang, n=t["withheld"]))
        con.print(view.safe(f"  {t['title']}: {t['rows']:,}" + (f" ({'; '.join(extra)})" if extra else "")),
                  highlight=False)
    con.print(view.styled(("✓", "bold green"), f" {res.out} ({fmt}, {msg('classified', lang)}: "
                          f"{res.info['classified']}); MANIFEST.sha256 {res.manifest_sha256[:16]}…"),
              highlight=False, soft_wrap=True)


def verified(problems: list[Any], directory: Path, lang: str) -> None:
    con = view.stdout()
    for p in problems:
        con.print(view.styled(("✗", "red"), f" {p.code}: {p.path}: {localize(p.message, lang)}"), highlight=False, soft_wrap=True)
    if problems:
        con.print(view.styled((msg("problems", lang, n=len(problems)), "bold red"), msg("in", lang, dir=directory)),
                  highlight=False)
    else:
        con.print(view.styled(("✓", "bold green"), msg("matches", lang, dir=directory)), highlight=False)
