"""Views of ``govcloud inventory`` (validate/show/list/stats use the tables in ``render.console``):
one record in full, the stop on an invalid inventory, what schema and generate wrote — in Chinese
by default, English with ``--lang en``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from govcloud.render import console as view

_T: dict[str, tuple[str, str]] = {
    "errors": ("{n} 处错误", "{n} error(s)"),
    "first": ("（仅显示前 20 处，另有 {more} 处）", " (first 20 shown, +{more})"),
    "run": ("；运行 `govcloud inventory validate {path}` 查看全部", "; run `govcloud inventory validate {path}` for all of them"),
    "more": ("… 另有 {n} 个；`govcloud inventory list` 列出全部", "… {n} more; `govcloud inventory list` shows them all"),
    "schema": ("已写入 {out}", "wrote {out}"),
    "generated": ("已写入{scale}规模的合成清单（种子 {seed}）到 {out}：{organizations:,} 个部门/单位、{systems:,} 个系统、"
                  "{servers:,} 台服务器，用时 {seconds:.1f} 秒",
                  "wrote {scale} inventory (seed {seed}) to {out}: {organizations:,} organisations, {systems:,} systems, "
                  "{servers:,} servers in {seconds:.1f} s"),
    "city": ("市级", "city"), "province": ("省级", "province"), "national": ("全国", "national"),
}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def invalid(errors: list[Any], path: Path, lang: str) -> None:
    """A browsing command met an invalid inventory: the first 20 errors and where to see them all."""
    err = view.stderr()
    view.render_problems(errors[:20], err, lang)
    more = len(errors) - 20
    err.print(view.styled((msg("errors", lang, n=len(errors)), "bold red"),
                          (msg("first", lang, more=more) if more > 0 else "") + msg("run", lang, path=path)),
              highlight=False)


def more_systems(n: int, lang: str) -> None:
    view.stdout().print(msg("more", lang, n=n), style="dim")


def record(section: Any, entity_id: str, where: str | None, plain: dict[str, Any], lang: str) -> None:
    """One record in full: field and value, lists and mappings as JSON."""
    title = f"{section.zh if lang == 'zh' else section.en}: {entity_id}" + (f"  ({where})" if where else "")
    table = view._table(title, ("field", "name"), lang)
    for key, value in plain.items():
        shown = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else str(value)
        table.add_row(key, view.safe(shown))
    view.stdout().print(table)


def schema_written(out: Path, lang: str) -> None:
    view.stderr().print(msg("schema", lang, out=out))


def generated(done: Any, lang: str) -> None:
    """``done``: usecases.inventory.GeneratedInventory."""
    view.stderr().print(msg("generated", lang, scale=msg(done.scale, lang), seed=done.seed, out=done.out,
                            organizations=done.organizations, systems=done.systems, servers=done.servers,
                            seconds=done.seconds), highlight=False)
