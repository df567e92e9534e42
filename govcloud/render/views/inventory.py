"""Views of ``govcloud inventory`` (validate/show/list/stats use the tables in ``render.console``):
one record in full, the stop on an invalid inventory, what schema and generate wrote — in Chinese
by default, English with ``--lang en``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from govcloud.inventory.writer import to_plain
from govcloud.model.enums import LabeledEnum
from govcloud.render import console as view
from govcloud.render.i18n import t
from govcloud.base.i18n import tr, zh_en

_T: dict[str, tuple[str, str]] = {
    "errors": zh_en("{n} error(s)"),
    "first": zh_en(" (first 20 shown, +{more})"),
    "run": zh_en("; run `govcloud inventory validate {path}` for all of them"),
    "more": zh_en("… {n} more; `govcloud inventory list` shows them all"),
    "schema": zh_en("wrote {out}"),
    "generated": zh_en("wrote {scale} inventory (seed {seed}) to {out}: {organizations:,} organisations, {systems:,} systems, "
                  "{servers:,} servers in {seconds:.1f} s"),
    "city": zh_en("city"), "province": zh_en("province"), "national": zh_en("national"),
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


def shown_value(value: Any, lang: str) -> str:
    """A record's field value for people: an enum by its label in ``lang`` (电子政务外网, not
    ``gov_extranet``; lists of them too), yes/no in words, nothing as "-", lists and mappings of
    other values as JSON."""
    if isinstance(value, LabeledEnum):
        return value.label(lang)
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, LabeledEnum) for v in value):
        return (tr(", ", lang)).join(v.label(lang) for v in value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(_plain(value), ensure_ascii=False, default=str)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain(value)
    return value


def record_values(entity: Any, plain: dict[str, Any]) -> dict[str, Any]:
    """The record's fields as ``to_plain`` names them, with the entity's own values where it has them
    (enum members, so a view can label them) and the plain value otherwise."""
    out: dict[str, Any] = {}
    for key, value in plain.items():
        own = getattr(entity, key, getattr(entity, key + "_", None)) if entity is not None else None
        enum_like = isinstance(own, LabeledEnum) or (
            isinstance(own, (list, tuple)) and own and all(isinstance(v, LabeledEnum) for v in own))
        out[key] = own if enum_like else value
    return out


def record(section: Any, entity_id: str, where: str | None, plain: dict[str, Any], lang: str,
           entity: Any = None) -> None:
    """One record in full: field and value (enums by their label in ``lang``), lists and mappings as JSON."""
    title = f"{section.zh if lang == 'zh' else section.en}: {entity_id}" + (f"  ({where})" if where else "")
    table = view._table(title, ("field", "value"), lang)
    labels = field_labels(entity, lang)
    for key, value in record_values(entity, plain).items():
        table.add_row(f"{labels[key]} ({key})" if labels.get(key) and labels[key] != key else key,
                      view.safe(shown_value(value, lang)))
    view.stdout().print(table)


def field_labels(entity: Any, lang: str) -> dict[str, str]:
    """The entity's field labels in ``lang`` (网络环境 for network_zone), by YAML key; none for a value
    that is not one of the model's dataclasses."""
    if entity is None or not dataclasses.is_dataclass(entity):
        return {}
    out = {}
    for f in dataclasses.fields(entity):
        zh, en = f.metadata.get("zh"), f.metadata.get("en")
        label = zh if lang == "zh" else (en or f.name.replace("_", " "))
        if label:
            out[f.name.rstrip("_")] = label
            out[f.name] = label
    return out


def schema_written(out: Path, lang: str) -> None:
    view.stderr().print(msg("schema", lang, out=out))


def generated(done: Any, lang: str) -> None:
    """``done``: usecases.inventory.GeneratedInventory."""
    view.stderr().print(msg("generated", lang, scale=msg(done.scale, lang), seed=done.seed, out=done.out,
                            organizations=done.organizations, systems=done.systems, servers=done.servers,
                            seconds=done.seconds), highlight=False)
