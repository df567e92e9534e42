"""Views of ``govcloud inventory discover``: hosts reached and why the others were not, the
dependencies proposed from established connections, the observations written — in Chinese by
default, English with ``--lang en``."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from govcloud.base.sshfail import LABELS
from govcloud.model.enums import DepType
from govcloud.render import console as view
from govcloud.render.i18n import enum_label
from govcloud.base.i18n import N_, localize, tr, zh_en

_T: dict[str, tuple[str, str]] = {
    "title": zh_en("discovery — {reached}/{targets} reached in {seconds:.1f}s"),
    "result": zh_en("result"), "hosts": zh_en("hosts"), "reached": zh_en("reached"),
    "not_reached": zh_en("not reached"),
    "server": zh_en("server"), "address": zh_en("address"), "reason": zh_en("reason"),
    "detail": zh_en("detail"),
    "proposals": zh_en("proposed dependencies (from established connections — review, then add by hand)"),
    "from": zh_en("from"), "to": zh_en("to"), "type": zh_en("type", ctx='discover:type'), "evidence": zh_en("evidence"),
    "declared": zh_en("declared"), "yes": zh_en("yes"),
    "written": zh_en("observations: {written} (audit log entry #{seq})"),
    "census": zh_en("census completed (servers an import left incomplete)"),
    "filled": zh_en("filled in"), "still": zh_en("still missing"), "state": zh_en("state"),
    "complete": zh_en("complete"), "incomplete": zh_en("still incomplete"),
}

# why a host was not reached (base.sshfail's kinds), by their labels there (LABELS); a kind this
# table lacks is shown by that label, or as written
_REASONS = {"auth": N_("authentication refused"), "hostkey-changed": N_("host key CHANGED (refused)"),
            "hostkey-unknown": N_("host key unknown"), "timeout": N_("timed out"), "connect": N_("connection failed"),
            "remote": N_("remote script failed"), "other": N_("other error")}


def msg(key: str, lang: str, **params: Any) -> str:
    zh, en = _T[key]
    return (zh if lang == "zh" else en).format(**params)


def reason(kind: str, lang: str) -> str:
    return tr(_REASONS[kind], lang) if kind in _REASONS else LABELS.get(kind, kind)


def discovery(done: Any, lang: str) -> None:
    """``done``: usecases.discover's result (summary, reached, failed, proposals)."""
    summary, reached, failed, proposals = done.summary, done.reached, done.failed, done.proposals
    out = view.stdout()
    tab = Table(title=msg("title", lang, reached=len(reached), targets=summary["targets"],
                          seconds=summary["seconds"]), min_width=48)
    for c in ("result", "hosts"):
        tab.add_column(msg(c, lang))
    tab.add_row(msg("reached", lang), str(len(reached)))
    for kind, n in sorted(summary["failed_by_reason"].items()):
        tab.add_row(reason(kind, lang), str(n))
    out.print(tab)
    if failed:
        ft = Table(title=msg("not_reached", lang))
        for c in ("server", "address", "reason", "detail"):
            ft.add_column(msg(c, lang))
        for f in failed:
            ft.add_row(view.safe(f["server"]), view.safe(f["address"]), reason(f["reason"], lang),
                       view.safe(localize(f["error"], lang)))
        out.print(ft)
    if proposals:
        pt = Table(title=msg("proposals", lang))
        for c in ("from", "to", "type", "evidence", "declared"):
            pt.add_column(msg(c, lang))
        for p in proposals:
            pt.add_row(view.safe(p["from"]), view.safe(p["to"]), enum_label(DepType, p["type"], lang), view.safe("; ".join(p["evidence"][:3])),
                       msg("yes", lang) if p["existing"] else "")
        out.print(pt)
    if summary.get("census"):
        from govcloud.model.enums import CensusField, CpuArch, OsDistribution
        ct = Table(title=msg("census", lang))
        for c in ("server", "filled", "still", "state"):
            ct.add_column(msg(c, lang))
        enums = {"os_distribution": OsDistribution, "cpu_arch": CpuArch}

        def label(key: str) -> str:
            m = CensusField.lookup().get(key)
            return m.label(lang) if m is not None else key

        def shown(key: str, value: Any) -> str:
            m = enums[key].lookup().get(value) if key in enums else None
            return f"{label(key)} {m.label(lang) if m is not None else value}"

        for c in summary["census"]:
            ct.add_row(view.safe(c["server"]), view.safe(", ".join(shown(k, v) for k, v in c["filled"].items())),
                       ", ".join(label(k) for k in c["still_missing"]) or "-",
                       msg("complete" if c["complete"] else "incomplete", lang))
        out.print(ct)
    if summary["written"]:
        out.print(msg("written", lang, written=summary["written"], seq=summary["audit_seq"]))
