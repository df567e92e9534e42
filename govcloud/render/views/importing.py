"""View of ``govcloud inventory import``: the change set (counts, details per action, conflicts),
the problems and what was written — in Chinese by default, English with ``--lang en``."""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table

from govcloud.interchange.records import incomplete_why
from govcloud.model.entities import SECTIONS
from govcloud.render import console as view
from govcloud.base.i18n import N_, zh_en
from govcloud.render.i18n import localized

_L = {
    "create": N_("create", ctx="importing"),
    "update": N_("update"),
    "unchanged": N_("unchanged"),
    "observe": N_("observe (person's record)"),
    "conflict": N_("conflict"),
    "missing": N_("no longer in source"),
    "incomplete": N_("incomplete (not imported)"),
    "skipped": N_("skipped"),
    "section": N_("section"),
    "id": N_("id"),
    "external_id": N_("external id"),
    "source": N_("source"),
    "fields": N_("fields"),
    "field": N_("field"),
    "inventory": N_("inventory (person)"),
    "theirs": N_("imported file"),
    "file": N_("file"),
    "summary": N_("import change set"),
    "count": N_("count"),
    "action": N_("change"),
    "no_changes": N_("no changes: the inventory already matches this file"),
    "dry_run": N_("dry run (--dry-run): nothing was written"),
    "written": N_("written"),
    "audit": N_("audit seq"),
    "more": N_("{n} more not shown (see --output json)"),
    "failed": N_("import failed: nothing was written"),
    "errors": N_("({n} error(s))"),
    "pending": N_("incomplete: missing {fields} (for discover)"),
    "created_incomplete": N_("of which incomplete (for discover)"),
}
_DETAIL_LIMIT = 40
_ORDER = ("create", "update", "observe", "conflict", "missing", "incomplete", "skipped", "unchanged")


def changes(outcome: Any, lang: str, failed: bool, no_changes: bool) -> None:
    """The change set by action, its details and conflicts, the problems, and what was written."""
    L = localized(_L, lang)
    out = view.stdout()
    cs = outcome.changeset
    if cs is not None:
        counts = cs.counts()
        tab = Table(title=f"{L['summary']} — {outcome.source} → {outcome.root} ({outcome.format})",
                    title_justify="left", header_style="bold")
        tab.add_column(L["action"])
        tab.add_column(L["count"], justify="right")
        for a in _ORDER:
            if counts.get(a):
                tab.add_row(L[a], str(counts[a]))
            if a == "create" and (n := sum(1 for c in cs.changes if c.action == "create" and c.incomplete)):
                tab.add_row("  " + L["created_incomplete"], str(n))
        out.print(tab)
        by_action: dict[str, list] = {}
        for c in cs.changes:
            by_action.setdefault(c.action, []).append(c)
        for a in ("create", "update", "observe", "missing", "incomplete", "skipped"):
            rows = by_action.get(a) or []
            if not rows:
                continue
            t = Table(title=L[a], title_justify="left", header_style="bold")
            for col in ("section", "id", "external_id", "source", "fields"):
                t.add_column(L[col], overflow="fold")
            for c in rows[:_DETAIL_LIMIT]:
                if a == "missing":
                    detail = c.note or ""
                elif c.incomplete:    # written, marked incomplete: what discovery is to supply
                    detail = L["pending"].format(fields=", ".join(_field_label(f, lang) for f in c.incomplete))
                else:
                    detail = ", ".join(c.fields[:8]) + (" …" if len(c.fields) > 8 else "")
                    if a == "incomplete" and (c.why or c.note):
                        detail += f" — {incomplete_why(c.why, lang) if c.why else c.note}"
                t.add_row(_section(c.section, lang), c.id or "", str(c.external_id or ""), c.where or "", detail)
            out.print(t)
            if len(rows) > _DETAIL_LIMIT:
                out.print(L["more"].format(n=len(rows) - _DETAIL_LIMIT), style="dim")
        if cs.conflicts:
            t = Table(title=L["conflict"], title_justify="left", header_style="bold")
            for col in ("section", "id", "field", "inventory", "theirs", "source"):
                t.add_column(L[col], overflow="fold")
            for c in cs.conflicts[:_DETAIL_LIMIT]:
                t.add_row(_section(c.section, lang), c.id, c.field, _short(c.inventory), _short(c.source), c.where or "")
            out.print(t)
            if len(cs.conflicts) > _DETAIL_LIMIT:
                out.print(L["more"].format(n=len(cs.conflicts) - _DETAIL_LIMIT), style="dim")
    if outcome.problems:
        view.render_problems(outcome.problems, out, lang, warnings_per_code=_DETAIL_LIMIT)
    if failed:
        out.print(view.styled((L['failed'], "bold red"), " " + L["errors"].format(n=len(outcome.errors))), highlight=False)
    elif no_changes:
        out.print(view.styled(("✓", "bold green"), f" {L['no_changes']}"), highlight=False)
    elif outcome.dry_run:
        out.print(view.styled((L['dry_run'], "yellow"), ": " + ", ".join(sorted(cs.files))), highlight=False)
    else:
        out.print(view.styled(("✓", "bold green"), f" {L['written']}: " + ", ".join(outcome.written)
                  + f"; {L['audit']} {outcome.audit_seq}"), highlight=False)


def _field_label(key: str, lang: str) -> str:
    from govcloud.model.enums import CensusField
    m = CensusField.lookup().get(key)
    return m.label(lang) if m is not None else key


_SECTIONS = {s.key: s for s in SECTIONS}
_OTHER_SECTIONS = {"inventory": zh_en("inventory")}   # inventory.yaml's own section


def _section(key: str, lang: str) -> str:
    """A section by its name in ``lang`` (服务器, not ``servers``)."""
    sec = _SECTIONS.get(key)
    if sec is None:
        zh, en = _OTHER_SECTIONS.get(key, (key, key))
        return zh if lang == "zh" else en
    return sec.zh if lang == "zh" else sec.en


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
