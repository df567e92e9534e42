"""The migration report (迁移上云报告): one self-contained HTML file, or the same data as Markdown.

The report is what a programme office prints and files: overview figures, the strategy mix,
the batch timeline, the schedule per department, machine-room closure, the move-group
dependency graph, MLPS placement, compliance and execution status, and the hard rules each
batch was checked against. It must open in an air-gapped office, so the HTML carries
everything inline (CSS, SVG, one tiny script that only records errors) and a
Content-Security-Policy that forbids fetching anything.

Everything here is a pure function of the plan, its inventory and the optional compliance
findings and journal: no clock, no I/O. What plan.md shows is prepared once, by
``plan_doc.document_data``; this module adds what only the report shows. The SVG builders
return markup strings with every piece of text passed through ``html.escape``; the HTML
template (autoescape on) inserts them as-is.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Iterable, Mapping, Sequence

import jinja2
from markupsafe import Markup

from govcloud.base.i18n import Msg, N_, tr
from govcloud.errors import GovcloudError
from govcloud.model.entities import FreezeWindow
from govcloud.model.enums import DepType, Strategy
from govcloud.model.inventory import Inventory
from govcloud.model.plan import Plan, PlanBatch, RoomClosure
from govcloud.paths import templates_dir
from govcloud.planning.rules import RULES
from govcloud.render.i18n import localized
from govcloud.render.plan_doc import md_cell, md_escape, document_data

# One font stack for the page and for SVG text: whichever CJK face the office machine has.
FONT_STACK = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
              '"WenQuanYi Micro Hei", sans-serif')

# Charts are drawn in a 760-unit-wide viewBox and scale to the text width: on A4 portrait
# (≈180 mm printable) one unit is ≈0.24 mm, so 12-unit text prints at ≈8 pt — nothing smaller
# than 11 units is used.
W = 760
MAX_GROUP_NODES = 60

# Print-safe palette: dark enough on white for a monochrome laser printer to keep apart.
C_BAR = "#1f5fa8"
C_PILOT = "#c26a00"
C_DEADLINE = "#b3261e"
C_FREEZE = "#8a9bb0"
C_GRID = "#d0d5dc"
C_TEXT = "#1b1f24"
C_MUTED = "#4a525c"
C_DONE = "#2e7d32"
STRATEGY_COLORS = {
    Strategy.retire: "#6d6d6d", Strategy.retain: "#9e9e9e", Strategy.relocate_intranet: "#6a3d9a",
    Strategy.repurchase: "#00838f", Strategy.refactor: "#ad1457", Strategy.replatform: "#c26a00",
    Strategy.rehost: "#1f5fa8",
}

_R: dict[str, Any] = {
    "doc_title": N_("{name}: migration of government information systems to the government cloud — report"),
    "subtitle": N_("Report on the batched migration plan"),
    "generated_on": N_("Report date"),
    "toc": N_("Contents"),
    "h_overview": N_("1. Overview"),
    "h_strategy": N_("2. Strategies"),
    "h_timeline": N_("3. Batch timeline"),
    "h_departments": N_("4. Schedule by department"),
    "h_rooms": N_("5. Machine-room closure"),
    "h_groups": N_("6. Move groups and synchronous dependencies"),
    "h_mlps": N_("7. MLPS (Multi-Level Protection Scheme)"),
    "h_compliance": N_("8. Compliance"),
    "h_execution": N_("9. Execution status"),
    "h_rules": N_("10. Hard rules each batch satisfies"),
    "h_unscheduled": N_("11. Systems that cannot be scheduled"),
    "systems_unit": N_("systems", ctx="report"),
    "servers_unit": N_("servers", ctx="report"),
    "sys_short": N_("sys"),
    "srv_short": N_("srv"),
    "retained": N_("Stay (not moved)"),
    "unscheduled": N_("Cannot be scheduled"),
    "gantt_caption": N_("One bar per batch (the pilot in orange); red diamonds mark each batch's deadline; "
                        "dashed lines mark policy deadlines; grey bands are freeze windows (no cutovers)."),
    "freeze": N_("Freeze window"),
    "deadline": N_("Deadline"),
    "policy_deadlines": N_("Policy deadlines"),
    "pilot": N_("pilot"),
    "final_deadline": N_("Final deadline"),
    "rooms_caption": N_("Rooms that can be emptied: the bar is the time still in use, the green dot the date "
                        "the room is empty."),
    "rooms_blocked": N_("Rooms kept open"),
    "blockers": N_("Systems still there"),
    "count": N_("Count"),
    "rooms_none_empty": N_("No machine room can be emptied under this plan."),
    "room_empty": N_("empty"),
    "groups_caption": N_("Circles are move groups (size = systems; numbers in the table below), left to right "
                         "by cutover batch; arrows point from the caller to the group it calls synchronously; "
                         "dashed: every such call has a bridge."),
    "multi_group": N_("group of several systems"),
    "single_group": N_("single system"),
    "groups_shown": N_("{n} move groups shown (of {total} with several systems or cross-group synchronous "
                       "calls), {e} cross-group synchronous dependencies."),
    "groups_none": N_("No move group has several systems or cross-group synchronous calls."),
    "no": N_("No."),
    "move_group": N_("Move group"),
    "batch": N_("Batch"),
    "members": N_("Systems"),
    "calls": N_("Calls"),
    "called_by": N_("Called by"),
    "mlps_by_level": N_("Systems by MLPS level and destination"),
    "mlps_level": N_("System MLPS level"),
    "zone_level": N_("zone level {n}"),
    "retire": N_("retired"),
    "ungraded": N_("ungraded"),
    "level": N_("level {n}"),
    "total": N_("Total"),
    "zones": N_("Target zones"),
    "zone": N_("Zone"),
    "zone_mlps": N_("Zone MLPS level"),
    "dedicated": N_("Dedicated pool"),
    "yes": N_("yes"),
    "no_": N_("no"),
    "servers": N_("Servers"),
    "systems": N_("Systems", ctx="report"),
    "compliance_none": N_("No compliance results yet."),
    "compliance_summary": N_("{n} results on {hosts} hosts and {checks} checks; {bad} hosts have failed checks "
                             "or check errors."),
    "check_id": N_("Check"),
    "host": N_("Host"),
    "status": N_("Status"),
    "statuses": {
        "pass": N_("pass"),
        "fail": N_("fail"),
        "manual": N_("manual review"),
        "not_applicable": N_("not applicable"),
        "error": N_("check error"),
    },
    "exec_none": N_("Not started (no execution journal)."),
    "exec_summary": N_("The journal records the state of {n} systems ({planned} systems are in the plan)."),
    "state": N_("State"),
    "not_started": N_("not started"),
    "exec_outside": N_(" {n} journal systems are in no batch of the plan: {ids}."),
    "dt_title": N_("Cutover downtime (measured by the clients) against the approved window"),
    "dt_summary": N_("{n} systems have cutover records; longest measured downtime {max} s; {over} over the "
                     "approved window; {forced} forced."),
    "dt_caption": N_("Measured: a prober on a client requested the health URL through the cutover record, from "
                     "the first failed request to the first healthy answer from the target. Projected: the "
                     "forecast made before the cutover started (the last delta sync's file copy + the "
                     "databases' copy + service stop/start). Delta: bytes and time of the last delta sync."),
    "dt_last_delta": N_("Last delta"),
    "dt_projected": N_("Projected"),
    "dt_approved": N_("Approved window"),
    "dt_measured": N_("Measured"),
    "dt_note": N_("Note"),
    "dt_over": N_("over the approved window"),
    "dt_forced": N_("forced: {reason}"),
    "dt_none": N_("-"),
    "rh_title": N_("Rehearsals (isolated test migrations) and failbacks"),
    "rh_summary": N_("{n} systems were rehearsed, {ok} with a successful rehearsal last; {fb} failed back."),
    "rh_caption": N_("A rehearsal boots clones of the synced targets in an isolated network with no route to "
                     "production, starts their services and runs the verify checks there; the projected window is "
                     "the cutover window it measured. A failback copies what the target wrote during the soak "
                     "back to the source, proves it equal, then switches the record back."),
    "rh_last": N_("Last rehearsal"),
    "rh_count": N_("Rehearsals"),
    "rh_window": N_("Projected window"),
    "rh_failback": N_("Failback"),
    "rh_outcome": {"ok": N_("passed"), "fail": N_("failed"), "start": N_("interrupted"), "cleaned": N_("cleaned up")},
    "rh_fb_ok": N_("{at}: failed back, {tables} tables and {trees} data trees equal on the source"),
    "rh_fb_fail": N_("{at}: failback failed: {reason}"),
    "seconds": N_("{v} s"),
    "conv": {
        "converged": N_("converged"),
        "converging": N_("converging"),
        "not_converging": N_("not converging"),
        "unknown": "",
    },
    "rules_caption": N_("✓: the batch was checked against this hard rule and passes (govcloud plan validate); "
                        "blank: the rule does not concern that batch."),
    "rule": N_("Rule"),
    "meaning": N_("Meaning"),
    "department": N_("Department"),
    "moved": N_("Systems moved"),
    "batches": N_("Batches"),
    "first_cutover": N_("First cutover"),
    "last_cutover": N_("Last cutover"),
    "stays": N_("Stay"),
    "unsched": N_("Unscheduled"),
    "window": N_("Window"),
    "departments_n": N_("Departments"),
    "name": N_("Name"),
    "reason": N_("Reason"),
    "strategy": N_("Strategy"),
    "system": N_("System"),
    "none": N_("None."),
    "plan_meta": N_("Plan"),
    "not_yet": N_("none"),
}

_BOLD = ' font-weight="bold"'
# a white outline behind chart labels keeps them legible over grid lines and freeze hatching, in print too
_HALO = ' stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'
_DASHED = ' stroke-dasharray="4 3"'
# Finding statuses as govcloud's compliance checks write them (pass, fail, manual, not_applicable, error);
# other words are shown as they come, after these.
_STATUS_ORDER = ("pass", "fail", "error", "manual", "not_applicable")
_STATUS_NOT_BAD = ("pass", "manual", "not_applicable")


# ---------------------------------------------------------------- small helpers


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _text_width(text: str, size: float) -> float:
    """Rough rendered width: CJK glyphs are one em, Latin about 0.6 em (enough to keep labels apart)."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in text)


def _fmt(n: float) -> str:
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.1f}"


def _svg_open(height: float, label: str, css_class: str) -> str:
    # the font stack on the root too, so the chart keeps CJK text when copied out of the page; no xmlns:
    # the HTML parser puts inline <svg> in the SVG namespace, and the page then names no URL at all
    return (f'<svg class="chart {css_class}" viewBox="0 0 {W} {_fmt(height)}" '
            f'width="{W}" height="{_fmt(height)}" role="img" aria-label="{_e(label)}" '
            f'font-family="{_e(FONT_STACK)}" font-size="12" fill="{C_TEXT}">'
            f'<title>{_e(label)}</title>')


def _months(d0: date, d1: date) -> list[date]:
    """First days of the months from the month after d0 up to d1."""
    out = []
    y, m = d0.year, d0.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = date(y, m, 1)
        if d > d1:
            return out
        out.append(d)


@dataclass(frozen=True)
class _TimeScale:
    d0: date
    d1: date
    x0: float
    x1: float

    def x(self, d: date) -> float:
        span = max((self.d1 - self.d0).days, 1)
        return self.x0 + (self.x1 - self.x0) * (d - self.d0).days / span


def _time_range(dates: Iterable[date | None]) -> tuple[date, date]:
    ds = sorted(d for d in dates if d)
    if not ds:
        today = date(2000, 1, 1)  # no dates at all: any fixed range; nothing will be drawn on it
        return today, today + timedelta(days=30)
    lo, hi = ds[0], ds[-1]
    # whole months on both sides, so the axis starts and ends on a labelled tick
    lo = date(lo.year, lo.month, 1)
    hi = (date(hi.year + (hi.month == 12), hi.month % 12 + 1, 1))
    return lo, hi


def _axis(ts: _TimeScale, y_top: float, y_bottom: float, lang: str) -> str:
    """Month grid lines over the plotting area and date labels under it."""
    months = _months(ts.d0 - timedelta(days=1), ts.d1)
    n_months = len(months)
    every = 1 if n_months <= 8 else 2 if n_months <= 16 else 3 if n_months <= 36 else 6
    parts = [f'<g class="axis" font-size="11" fill="{C_MUTED}">',
             f'<line x1="{_fmt(ts.x0)}" y1="{_fmt(y_bottom)}" x2="{_fmt(ts.x1)}" y2="{_fmt(y_bottom)}" '
             f'stroke="{C_MUTED}" stroke-width="1"/>']
    for d in months:
        x = ts.x(d)
        major = d.month == 1
        parts.append(f'<line x1="{_fmt(x)}" y1="{_fmt(y_top)}" x2="{_fmt(x)}" y2="{_fmt(y_bottom)}" '
                     f'stroke="{C_MUTED if major else C_GRID}" stroke-width="{1 if major else 0.6}"/>')
        if (d.month - 1) % every == 0 and x < ts.x1 - 8:
            # a year's first tick (or every tick, when ticks are a year apart) names the year
            text = tr("{year}-{month:02d}", lang).format(year=d.year, month=d.month) if major or every >= 12 \
                else f"{d.year % 100:02d}-{d.month:02d}" if lang == "en" else tr("month {month}", lang).format(month=d.month)
            parts.append(f'<text x="{_fmt(x)}" y="{_fmt(y_bottom + 15)}" text-anchor="middle"'
                         f'{_BOLD if major else ""}>{_e(text)}</text>')
    parts.append("</g>")
    return "".join(parts)


# ---------------------------------------------------------------- charts


def strategy_svg(rows: Sequence[Mapping[str, Any]], lang: str = "zh") -> str:
    """Horizontal bars: systems per strategy (then the systems that stay or cannot be scheduled).

    ``rows``: {"key", "label", "systems", "servers"}; ``servers`` may be None (not moved)."""
    R = localized(_R, lang)
    label_w = max([_text_width(str(r["label"]), 13) for r in rows] + [60]) + 16
    x0, x1 = label_w, W - 150
    top, row_h = 12, 30
    height = top + row_h * len(rows) + 10
    most = max([int(r["systems"]) for r in rows] + [1])
    parts = [_svg_open(height, R["h_strategy"], "strategy-chart")]
    for k, r in enumerate(rows):
        y = top + k * row_h
        w = (x1 - x0) * int(r["systems"]) / most
        color = STRATEGY_COLORS.get(r["key"], "#9e9e9e") if isinstance(r["key"], Strategy) else "#9e9e9e"
        parts.append(f'<text x="{_fmt(x0 - 8)}" y="{_fmt(y + 19)}" text-anchor="end" font-size="13">'
                     f'{_e(r["label"])}</text>')
        parts.append(f'<rect class="strategy" x="{_fmt(x0)}" y="{_fmt(y + 5)}" width="{_fmt(max(w, 1.5))}" '
                     f'height="20" fill="{color}"><title>{_e(r["label"])}: {_e(r["systems"])}</title></rect>')
        note = f'{r["systems"]} {R["systems_unit"]}'
        if r.get("servers") is not None:
            note += f' · {r["servers"]} {R["servers_unit"]}'
        parts.append(f'<text x="{_fmt(x0 + w + 6)}" y="{_fmt(y + 19)}" font-size="12">{_e(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def gantt_svg(batches: Sequence[PlanBatch], freezes: Sequence[FreezeWindow] = (), *, lang: str = "zh",
              final_deadline: date | None = None) -> str:
    """The batch timeline: one ``<rect class="batch">`` per batch on a date axis, a deadline marker
    per batch, dashed lines at the distinct deadlines, freeze windows shaded across all rows."""
    R = localized(_R, lang)
    label_w = max([_text_width(f"{b.id} {_batch_name(b, lang)}", 13) for b in batches] + [80]) + 14
    x0, x1 = label_w, W - 12
    top, row_h = 40, 28
    rows_bottom = top + row_h * max(len(batches), 1)
    height = rows_bottom + 56 + (20 if freezes else 0)   # the freeze windows' names get a legend line of their own
    dates: list[date | None] = [final_deadline]
    for b in batches:
        dates += [b.start, b.end, b.deadline]
    ts = _TimeScale(*_time_range(dates), x0, x1)
    shown_freezes = [f for f in freezes if f.end >= ts.d0 and f.start <= ts.d1]
    parts = [_svg_open(height, R["h_timeline"], "gantt"),
             '<defs><pattern id="freeze-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e3e8ee"/>'
             f'<line x1="0" y1="0" x2="0" y2="6" stroke="{C_FREEZE}" stroke-width="2"/></pattern></defs>']
    # zebra rows first, so everything else sits on top
    for k in range(len(batches)):
        if k % 2:
            parts.append(f'<rect x="0" y="{_fmt(top + k * row_h)}" width="{W}" height="{row_h}" fill="#f3f5f8"/>')
    parts.append(_axis(ts, top - 4, rows_bottom, lang))
    for n, f in enumerate(shown_freezes, 1):
        fx0, fx1 = ts.x(max(f.start, ts.d0)), ts.x(min(f.end + timedelta(days=1), ts.d1))
        parts.append(f'<rect class="freeze" x="{_fmt(fx0)}" y="{_fmt(top - 4)}" width="{_fmt(max(fx1 - fx0, 2))}" '
                     f'height="{_fmt(rows_bottom - top + 4)}" fill="url(#freeze-hatch)" opacity="0.9">'
                     f'<title>{_e(R["freeze"])}: {_e(f.name)} {f.start} – {f.end}</title></rect>')
        parts.append(f'<text x="{_fmt((fx0 + fx1) / 2)}" y="{_fmt(top - 8)}" text-anchor="middle" font-size="11" '
                     f'fill="{C_MUTED}">{_circled(n)}</text>')
    deadlines = sorted({d for d in (b.deadline for b in batches) if d} | ({final_deadline} if final_deadline else set()))
    for d in deadlines:
        x = ts.x(d)
        parts.append(f'<line class="deadline-line" x1="{_fmt(x)}" y1="{_fmt(top - 22)}" x2="{_fmt(x)}" '
                     f'y2="{_fmt(rows_bottom)}" stroke="{C_DEADLINE}" stroke-width="1.2" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{_fmt(x - 3)}" y="{_fmt(top - 24)}" text-anchor="end" font-size="11" '
                     f'fill="{C_DEADLINE}">{_e(d.isoformat())}</text>')
    for k, b in enumerate(batches):
        y = top + k * row_h
        name = f"{b.id} {_batch_name(b, lang)}"
        parts.append(f'<text x="{_fmt(x0 - 8)}" y="{_fmt(y + 18)}" text-anchor="end" font-size="13"'
                     f'{_BOLD if b.pilot else ""}>{_e(name)}</text>')
        bx0, bx1 = ts.x(b.start), ts.x(b.end + timedelta(days=1))
        color = C_PILOT if b.pilot else C_BAR
        parts.append(f'<rect class="batch" data-batch="{_e(b.id)}" x="{_fmt(bx0)}" y="{_fmt(y + 6)}" '
                     f'width="{_fmt(max(bx1 - bx0, 3))}" height="{row_h - 12}" rx="2" fill="{color}">'
                     f'<title>{_e(name)}: {b.start} – {b.end}, {len(b.items)} {_e(R["systems_unit"])}, '
                     f'{b.servers} {_e(R["servers_unit"])}</title></rect>')
        if b.deadline:
            dx, dy = ts.x(b.deadline), y + row_h / 2
            parts.append(f'<path class="deadline" d="M{_fmt(dx)} {_fmt(dy - 6)} l6 6 l-6 6 l-6 -6 z" '
                         f'fill="{C_DEADLINE}"><title>{_e(R["deadline"])} {b.deadline}</title></path>')
        note = f"{len(b.items)} {R['sys_short']} · {b.servers} {R['srv_short']}"
        nw = _text_width(note, 11)
        # the note goes right of the bar, or left of it when it would run off the chart
        # (or onto the deadline diamond)
        right = bx1 + 6
        clash = b.deadline is not None and right <= ts.x(b.deadline) + 8 and right + nw >= ts.x(b.deadline) - 8
        if right + nw <= x1 and not clash:
            parts.append(f'<text x="{_fmt(right)}" y="{_fmt(y + 18)}" font-size="11"{_HALO}>{_e(note)}</text>')
        else:
            parts.append(f'<text x="{_fmt(max(bx0 - 6, x0 + nw))}" y="{_fmt(y + 18)}" text-anchor="end" '
                         f'font-size="11"{_HALO}>{_e(note)}</text>')
    # legend
    ly = rows_bottom + 34
    legend = [(C_BAR, "rect", R["batch"]), (C_PILOT, "rect", R["pilot"]), (C_DEADLINE, "diamond", R["deadline"]),
              ("url(#freeze-hatch)", "rect", R["freeze"])]
    lx = x0
    parts.append('<g class="legend" font-size="12">')
    for color, shape, text in legend:
        if shape == "rect":
            parts.append(f'<rect x="{_fmt(lx)}" y="{_fmt(ly - 10)}" width="18" height="12" fill="{color}" '
                         f'stroke="{C_MUTED}" stroke-width="0.5"/>')
        else:
            parts.append(f'<path d="M{_fmt(lx + 9)} {_fmt(ly - 11)} l6 6 l-6 6 l-6 -6 z" fill="{color}"/>')
        parts.append(f'<text x="{_fmt(lx + 24)}" y="{_fmt(ly)}">{_e(text)}</text>')
        lx += 24 + _text_width(text, 12) + 22
    freeze_text = "  ".join(f"{_circled(n)} {f.name}" for n, f in enumerate(shown_freezes, 1))
    if freeze_text:
        parts.append(f'<text x="{_fmt(x0)}" y="{_fmt(ly + 20)}" fill="{C_MUTED}">{_e(freeze_text)}</text>')
    parts.append("</g></svg>")
    return "".join(parts)


def _circled(n: int) -> str:
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"({n})"


def _batch_name(b: PlanBatch, lang: str) -> str:
    # the same wording plan_doc uses for a batch in English
    return b.name if lang == "zh" else ("pilot" if b.pilot else f"batch {b.id[1:].lstrip('0') or '0'}")


def rooms_svg(rooms: Sequence[RoomClosure], start: date, *, lang: str = "zh", until: date | None = None,
              final_deadline: date | None = None) -> str:
    """Machine-room closure: one ``<circle class="room">`` marker per room that empties (on its
    empty_by date, after a bar for the time it is still in use). Rooms kept open are listed apart."""
    R = localized(_R, lang)
    closing = sorted((r for r in rooms if r.empty_by), key=lambda r: (r.empty_by, r.name, r.room))
    if not closing:
        return ""
    label_w = max([_text_width(r.name, 12) for r in closing] + [80]) + 14
    x0, x1 = label_w, W - 12
    top, row_h = 28, 22
    rows_bottom = top + row_h * len(closing)
    height = rows_bottom + 26
    ts = _TimeScale(*_time_range([start, until, final_deadline] + [r.empty_by for r in closing]), x0, x1)
    parts = [_svg_open(height, R["h_rooms"], "rooms")]
    for k in range(len(closing)):
        if k % 2:
            parts.append(f'<rect x="0" y="{_fmt(top + k * row_h)}" width="{W}" height="{row_h}" fill="#f3f5f8"/>')
    parts.append(_axis(ts, top - 4, rows_bottom, lang))
    if final_deadline:
        x = ts.x(final_deadline)
        parts.append(f'<line class="deadline-line" x1="{_fmt(x)}" y1="{_fmt(top - 16)}" x2="{_fmt(x)}" '
                     f'y2="{_fmt(rows_bottom)}" stroke="{C_DEADLINE}" stroke-width="1.2" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{_fmt(x - 4)}" y="{_fmt(top - 10)}" text-anchor="end" font-size="11" '
                     f'fill="{C_DEADLINE}">{_e(R["final_deadline"])} {final_deadline}</text>')
    sx = ts.x(start)
    for k, r in enumerate(closing):
        y = top + k * row_h
        cx = ts.x(r.empty_by)
        parts.append(f'<text x="{_fmt(x0 - 8)}" y="{_fmt(y + 15)}" text-anchor="end">{_e(r.name)}</text>')
        parts.append(f'<rect x="{_fmt(sx)}" y="{_fmt(y + 8)}" width="{_fmt(max(cx - sx, 0))}" height="6" '
                     f'fill="#b8c4d2"/>')
        parts.append(f'<circle class="room" data-room="{_e(r.room)}" cx="{_fmt(cx)}" cy="{_fmt(y + 11)}" r="6" '
                     f'fill="{C_DONE}" stroke="#fff" stroke-width="1.5"><title>{_e(r.name)}: {_e(R["room_empty"])} '
                     f'{r.empty_by}</title></circle>')
        label = r.empty_by.isoformat()
        if cx + 10 + _text_width(label, 11) <= x1:
            parts.append(f'<text x="{_fmt(cx + 10)}" y="{_fmt(y + 15)}" font-size="11"{_HALO}>{label}</text>')
        else:
            parts.append(f'<text x="{_fmt(cx - 10)}" y="{_fmt(y + 15)}" font-size="11" text-anchor="end"{_HALO}>'
                         f'{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- move-group graph


@dataclass
class GroupNode:
    id: str
    number: int                       # the label drawn in the circle and used in the table
    batch: str
    batch_index: int
    systems: list[tuple[str, str]]    # (id, name)
    x: float = 0.0
    y: float = 0.0
    r: float = 0.0


@dataclass
class GroupGraph:
    nodes: list[GroupNode] = field(default_factory=list)
    edges: list[tuple[str, str, int, bool]] = field(default_factory=list)  # caller group, callee group, calls, bridged
    candidates: int = 0               # groups that qualified before the cap
    width: float = W
    height: float = 0.0
    columns: list[tuple[str, float]] = field(default_factory=list)  # batch id, x


def group_graph(plan: Plan, inv: Inventory, *, max_nodes: int = MAX_GROUP_NODES) -> GroupGraph:
    """Move groups worth drawing and the synchronous calls between them, laid out deterministically.

    Nodes: groups with two or more systems or with a synchronous call to or from another group;
    beyond ``max_nodes`` the largest and best-connected stay (a readable page beats a complete one:
    plan.yaml has every group). Layout: one column per cutover batch, left to right; inside a
    column, nodes are ordered by the mean row of their neighbours (a few sweeps of the barycentre
    heuristic, ties by size and id), which keeps most arrows short without any layout library."""
    order = {b.id: k for k, b in enumerate(plan.batches)}
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    group_batch: dict[str, str] = {}
    group_of: dict[str, str] = {}
    for b in plan.batches:
        for i in b.items:
            members[i.move_group].append((i.system, i.name))
            group_of[i.system] = i.move_group
            # H-DEP-2 puts a group in one batch; should a hand edit split it, draw it at the first
            if i.move_group not in group_batch or order[b.id] < order[group_batch[i.move_group]]:
                group_batch[i.move_group] = b.id
    calls: Counter[tuple[str, str]] = Counter()
    bridged: dict[tuple[str, str], bool] = {}
    for d in inv.dependencies:
        if d.type is not DepType.sync_api:
            continue
        g1, g2 = group_of.get(d.from_), group_of.get(d.to)
        if g1 is None or g2 is None or g1 == g2:
            continue
        calls[(g1, g2)] += 1
        bridged[(g1, g2)] = bridged.get((g1, g2), True) and bool(d.bridge)
    degree: Counter[str] = Counter()
    for g1, g2 in calls:
        degree[g1] += 1
        degree[g2] += 1
    candidates = sorted((g for g in members if len(members[g]) >= 2 or degree[g]),
                        key=lambda g: (-len(members[g]), -degree[g], g))
    chosen = set(candidates[:max_nodes])
    edges = sorted((g1, g2, n, bridged[(g1, g2)]) for (g1, g2), n in calls.items() if g1 in chosen and g2 in chosen)
    # a single-system group whose calls all lead outside the cap would be a lone dot that says nothing
    linked = {g for e in edges for g in e[:2]}
    chosen = {g for g in chosen if len(members[g]) >= 2 or g in linked}
    graph = GroupGraph(candidates=len(candidates))
    if not chosen:
        return graph
    by_col: dict[int, list[str]] = defaultdict(list)
    for g in chosen:
        by_col[order[group_batch[g]]].append(g)
    cols = sorted(by_col)
    neighbours: dict[str, set[str]] = defaultdict(set)
    for g1, g2, _, _ in edges:
        neighbours[g1].add(g2)
        neighbours[g2].add(g1)
    spacing = 36.0
    margin_x, top = 36.0, 56.0   # room above the first row for arcs between far-apart nodes
    step = (W - 2 * margin_x) / max(len(cols) - 1, 1)
    # start from size order, then a few alternating sweeps: each column is re-sorted by the mean row
    # of its neighbours (in any column); groups without calls sink to the bottom of their column
    column: dict[int, list[str]] = {c: sorted(by_col[c], key=lambda g: (-len(members[g]), g)) for c in cols}
    row = {g: float(k) for c in cols for k, g in enumerate(column[c])}
    for sweep in range(4):
        for c in (cols if sweep % 2 == 0 else cols[::-1]):
            def key(g: str) -> tuple:
                ys = [row[n] for n in neighbours[g]]
                return (0, sum(ys) / len(ys), row[g], g) if ys else (1, row[g], 0.0, g)
            column[c] = sorted(column[c], key=key)
            row.update({g: float(k) for k, g in enumerate(column[c])})
    nodes: dict[str, GroupNode] = {}
    tallest = max(len(column[c]) for c in cols)
    for ci, col in enumerate(cols):
        x = margin_x + (ci * step if len(cols) > 1 else (W - 2 * margin_x) / 2)
        for k, g in enumerate(column[col]):
            size = len(members[g])
            nodes[g] = GroupNode(g, 0, group_batch[g], col, sorted(members[g]), x, top + 24 + k * spacing,
                                 9.0 + 2.0 * min(size - 1, 5))
        graph.columns.append((plan.batches[col].id, x))
    # numbers follow reading order (column, then top to bottom), so the table reads with the picture
    for n, node in enumerate(sorted(nodes.values(), key=lambda v: (v.batch_index, v.y)), 1):
        node.number = n
    graph.nodes = sorted(nodes.values(), key=lambda v: v.number)
    graph.edges = edges
    graph.height = top + 24 + tallest * spacing + 24  # the last row, then the legend
    return graph


def graph_svg(graph: GroupGraph, *, lang: str = "zh") -> str:
    """The move-group graph: one ``<g class="node">`` per group, one ``<path class="edge">`` per
    caller→callee pair of groups (thicker for more calls; dashed when every call has a bridge)."""
    R = localized(_R, lang)
    if not graph.nodes:
        return ""
    pos = {n.id: n for n in graph.nodes}
    parts = [_svg_open(graph.height, R["h_groups"], "groups"),
             f'<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{C_MUTED}"/></marker></defs>']
    for batch_id, x in graph.columns:
        parts.append(f'<line x1="{_fmt(x)}" y1="28" x2="{_fmt(x)}" y2="{_fmt(graph.height - 4)}" stroke="{C_GRID}" '
                     f'stroke-width="1" stroke-dasharray="2 3"/>')
        parts.append(f'<text x="{_fmt(x)}" y="18" text-anchor="middle" font-size="12" font-weight="bold">'
                     f'{_e(batch_id)}</text>')
    for g1, g2, n, bridged in graph.edges:
        a, b = pos[g1], pos[g2]
        # stop the arrow at the callee's rim
        if abs(a.x - b.x) < 1:      # same batch: an arc to the right, clear of the column
            bend = 26 + abs(a.y - b.y) * 0.25
            d = (f"M{_fmt(a.x + a.r * 0.7)} {_fmt(a.y)} C{_fmt(a.x + bend)} {_fmt(a.y)} {_fmt(b.x + bend)} "
                 f"{_fmt(b.y)} {_fmt(b.x + b.r + 2)} {_fmt(b.y)}")
        else:
            dx, dy = b.x - a.x, b.y - a.y
            dist = math.hypot(dx, dy) or 1
            sx, sy = a.x + dx / dist * a.r, a.y + dy / dist * a.r
            ex, ey = b.x - dx / dist * (b.r + 2), b.y - dy / dist * (b.r + 2)
            mx, my = (sx + ex) / 2, (sy + ey) / 2 - min(60, 10 + abs(dx) * 0.16)  # arc over nodes in between
            d = f"M{_fmt(sx)} {_fmt(sy)} Q{_fmt(mx)} {_fmt(my)} {_fmt(ex)} {_fmt(ey)}"
        parts.append(f'<path class="edge" d="{d}" fill="none" stroke="{C_MUTED}" '
                     f'stroke-width="{_fmt(min(1.2 + 0.6 * (n - 1), 3.6))}"'
                     f'{_DASHED if bridged else ""} marker-end="url(#arrow)" opacity="0.8">'
                     f'<title>{_e(g1)} → {_e(g2)} ({n})</title></path>')
    for node in graph.nodes:
        size = len(node.systems)
        fill = C_BAR if size >= 2 else "#5b8cc4"
        names = tr(", ", lang).join(name for _, name in node.systems[:6]) + (" …" if size > 6 else "")
        parts.append(f'<g class="node" data-group="{_e(node.id)}"><title>{_e(node.number)}. {_e(node.id)} '
                     f'({_e(node.batch)}): {_e(names)}</title>'
                     f'<circle cx="{_fmt(node.x)}" cy="{_fmt(node.y)}" r="{_fmt(node.r)}" fill="{fill}" '
                     f'stroke="#fff" stroke-width="1.5"/>'
                     f'<text x="{_fmt(node.x)}" y="{_fmt(node.y + 4)}" text-anchor="middle" font-size="11" '
                     f'font-weight="bold" fill="#fff">{node.number}</text></g>')
    ly = graph.height - 12
    parts.append(f'<g class="legend" font-size="12"><circle cx="{_fmt(W - 330)}" cy="{_fmt(ly - 4)}" r="7" '
                 f'fill="{C_BAR}"/><text x="{_fmt(W - 318)}" y="{_fmt(ly)}">{_e(R["multi_group"])}</text>'
                 f'<circle cx="{_fmt(W - 170)}" cy="{_fmt(ly - 4)}" r="7" fill="#5b8cc4"/>'
                 f'<text x="{_fmt(W - 158)}" y="{_fmt(ly)}">{_e(R["single_group"])}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------- inputs: compliance findings, journal


def parse_compliance(data: Any, source: str = "compliance") -> list[dict[str, str]]:
    """A list of {host, check_id, status}; anything else is refused with the first bad entry."""
    if not isinstance(data, list):
        raise GovcloudError(Msg("{source}: expected a JSON list of {{host, check_id, status}} objects", source=source))
    out = []
    for k, row in enumerate(data):
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) and row.get(f)
                                                for f in ("host", "check_id", "status")):
            raise GovcloudError(Msg("{source}: entry {k} is not an object with string host, check_id and status",
                                    source=source, k=k))
        out.append({"host": row["host"], "check_id": row["check_id"], "status": row["status"]})
    return out


def parse_journal(text: str, source: str = "journal.jsonl") -> list[dict[str, str]]:
    """The state transitions of `govcloud migrate`'s journal (lines ``{"kind": "state", "system",
    "to"}``; step, resource and run lines are context, skipped) — or plain ``{system, state}`` lines.
    Read by the journal's one reader (store/journal.parse): blank lines and a last line cut short
    by a crash are skipped; any other malformed line is refused by number."""
    from govcloud.store.journal import parse
    return _states(parse(text, source), source)


def _states(read: Any, source: str) -> list[dict[str, str]]:     # read: store.journal.parse's result
    from govcloud.store.entries import PlainState, StateEntry
    out = []
    for n, e in zip(read.line_numbers, read.entries):
        if isinstance(e, StateEntry):
            system, state = e.system, e.to
        elif isinstance(e, PlainState):
            system, state = e.system, e.state
        else:
            continue
        if system is None or state is None:
            raise GovcloudError(Msg("{source}:{n}: expected an object with string system and state", source=source, n=n))
        out.append({"system": system, "state": state})
    return out


class JournalStatuses(dict):
    """Per system its lifecycle.SystemStatus, plus the journal entries they were replayed from
    (the projection of a system not cut over yet needs its replication decisions and lag)."""

    def __init__(self, statuses: Mapping[str, Any], entries: Sequence[Any]) -> None:   # store.entries.Entry
        super().__init__(statuses)
        self.entries = list(entries)


def parse_cutovers(text: str, source: str = "journal.jsonl") -> JournalStatuses:
    """Per system, what the migrate journal says of its syncs and cutovers (lifecycle.replay of
    the journal read by its one reader; plain {system, state} lines carry none of it)."""
    from govcloud.store.journal import parse
    return _cutovers(parse(text, source))


def _cutovers(read: Any) -> JournalStatuses:
    from govcloud.migrate.lifecycle import replay
    entries = [e for e in read.entries if e.kind is not None]
    return JournalStatuses(replay(entries), entries)


def read_journal(text: str, source: str = "journal.jsonl") -> tuple[list[dict[str, str]], JournalStatuses]:
    """parse_journal and parse_cutovers of one journal, read once (a long migration's journal is
    the largest file a report reads)."""
    from govcloud.store.journal import parse
    read = parse(text, source)
    return _states(read, source), _cutovers(read)


def downtime_summary(plan: Plan, statuses: Mapping[str, Any] | None, approved_now: float | None,
                     lang: str = "zh") -> dict[str, Any] | None:
    """Per system with a cutover record or a delta sync: the last delta, the projection made
    before its cutover (else the projection now), the approved window (recorded at cutover, else
    the policy's), the downtime its client measured — flagged over the window — and why a
    cutover was forced."""
    from govcloud.migrate import replication as RE
    from govcloud.migrate.executor import project_downtime
    from govcloud.migrate.syncstats import convergence, human_bytes, last_delta
    if not statuses:
        return None
    entries = getattr(statuses, "entries", ())
    R = localized(_R, lang)
    batch_of = {i.system: b.id for b in plan.batches for i in b.items}
    name_of = {i.system: i.name for i in plan.items()}

    def secs(v: Any) -> str:
        return R["seconds"].format(v=f"{v:.1f}") if isinstance(v, (int, float)) and not isinstance(v, bool) \
            else R["dt_none"]

    rows = []
    for sid in sorted(statuses, key=lambda x: (batch_of.get(x, "~"), x)):
        st = statuses[sid]
        if st.downtime_s is None and st.cutover_projection is None and not st.sync_runs:
            continue
        d = last_delta(st.sync_runs)
        conv = convergence(st.sync_runs)["state"]
        approved = st.approved_downtime_s if st.approved_downtime_s is not None else approved_now
        over = st.downtime_s is not None and approved is not None and st.downtime_s > approved
        # before its cutover: projected as `migrate status` projects it (the method decided per
        # database and the last measured replication lag), not as if every database were dumped
        proj = st.cutover_projection or project_downtime(st, *RE.latest(entries, sid))
        notes = ([R["dt_over"]] if over else []) + ([R["dt_forced"].format(reason=st.forced_reason)]
                                                      if st.forced_reason else [])
        rows.append({"batch": batch_of.get(sid, "-"), "system": sid, "name": name_of.get(sid, sid),
                     "state": _state_label(st.state.value, lang),
                     "delta": (f"{human_bytes(d.bytes_transferred)} / {secs(d.wall_s)}"
                               + (f" ({R['conv'][conv]})" if R["conv"].get(conv) else "")) if d else R["dt_none"],
                     "projected": secs(proj.get("total_s") if isinstance(proj, dict) else None),
                     "approved": secs(approved), "measured": secs(st.downtime_s), "over": over,
                     "forced": bool(st.forced_reason), "note": tr("; ", lang).join(notes)})
    if not rows:
        return None
    measured = [statuses[r["system"]].downtime_s for r in rows if statuses[r["system"]].downtime_s is not None]
    cut = sum(1 for r in rows if statuses[r["system"]].cutover_projection is not None
              or statuses[r["system"]].downtime_s is not None)
    return {"rows": rows, "text": R["dt_summary"].format(
        n=cut, max=f"{max(measured):.1f}" if measured else R["dt_none"], over=sum(r["over"] for r in rows),
        forced=sum(r["forced"] for r in rows))}


def rehearsal_summary(plan: Plan, statuses: Mapping[str, Any] | None, lang: str = "zh") -> dict[str, Any] | None:
    """Per system with a rehearsal or a failback in the journal: the last rehearsal (day, outcome,
    reason), how many, the projected cutover window it measured, and each failback with what it
    proved equal on the source (or why it failed)."""
    if not statuses:
        return None
    R = localized(_R, lang)
    batch_of = {i.system: b.id for b in plan.batches for i in b.items}
    name_of = {i.system: i.name for i in plan.items()}
    rows = []
    for sid in sorted(statuses, key=lambda x: (batch_of.get(x, "~"), x)):
        st = statuses[sid]
        rh, fbs = list(getattr(st, "rehearsals", ()) or ()), list(getattr(st, "failbacks", ()) or ())
        if not rh and not fbs:
            continue
        last = rh[-1] if rh else None
        outcome = ("ok" if last.get("ok") else str(last.get("status"))) if last else None
        fb_text = []
        for fb in fbs:
            at = str(fb.get("at") or "")[:16].replace("T", " ")
            if fb.get("status") == "ok":
                fb_text.append(R["rh_fb_ok"].format(at=at, tables=fb.get("tables", 0), trees=fb.get("trees", 0)))
            else:
                fb_text.append(R["rh_fb_fail"].format(at=at, reason=str(fb.get("reason") or "")[:200]))
        w = last.get("projected_window_s") if last else None
        rows.append({"batch": batch_of.get(sid, "-"), "system": sid, "name": name_of.get(sid, sid),
                     "state": _state_label(st.state.value, lang),
                     "last": (f"{str(last.get('at') or '')[:10]} {R['rh_outcome'].get(outcome, outcome)}"
                              + (f" ({str(last['reason'])[:200]})" if last.get("reason") else "")) if last
                     else R["dt_none"],
                     "ok": bool(last and last.get("ok")), "count": len(rh),
                     "window": R["seconds"].format(v=f"{w:.1f}") if isinstance(w, (int, float)) else R["dt_none"],
                     "failback": tr("; ", lang).join(fb_text) or R["dt_none"]})
    if not rows:
        return None
    return {"rows": rows, "text": R["rh_summary"].format(
        n=sum(1 for r in rows if r["count"]), ok=sum(r["ok"] for r in rows),
        fb=sum(1 for sid in (r["system"] for r in rows)
               if any(f.get("status") == "ok" for f in getattr(statuses[sid], "failbacks", ()) or ())))}


def _status_key(s: str) -> tuple:
    return (_STATUS_ORDER.index(s) if s in _STATUS_ORDER else len(_STATUS_ORDER), s)


def compliance_summary(findings: Sequence[Mapping[str, str]] | None) -> dict[str, Any] | None:
    if findings is None:
        return None
    statuses = sorted({f["status"] for f in findings}, key=_status_key)
    by_check: dict[str, Counter[str]] = defaultdict(Counter)
    hosts_bad: set[str] = set()
    for f in findings:
        by_check[f["check_id"]][f["status"]] += 1
        if f["status"] not in _STATUS_NOT_BAD:
            hosts_bad.add(f["host"])
    return {"n": len(findings), "hosts": len({f["host"] for f in findings}), "checks": len(by_check),
            "bad_hosts": len(hosts_bad), "statuses": statuses,
            "totals": [(s, sum(1 for f in findings if f["status"] == s)) for s in statuses],
            "rows": [(c, [by_check[c][s] for s in statuses]) for c in sorted(by_check)]}


def _state_label(state: str, lang: str) -> str:
    from govcloud.migrate.lifecycle import State
    try:
        return State(state).label(lang)
    except ValueError:
        return state


def execution_summary(plan: Plan, journal: Sequence[Mapping[str, str]] | None,
                      lang: str = "zh") -> dict[str, Any] | None:
    """The latest state per system (the journal is append-only: a later line supersedes an earlier one)."""
    if not journal:
        return None
    latest: dict[str, str] = {}
    for row in journal:
        latest[row["system"]] = row["state"]
    states = sorted(set(latest.values()))
    batch_of = plan.batch_of()
    per_batch = []
    for b in plan.batches:
        c = Counter(latest[i.system] for i in b.items if i.system in latest)
        per_batch.append((b.id, len(b.items), [c[s] for s in states], len(b.items) - sum(c.values())))
    outside = sorted(s for s in latest if s not in batch_of)
    return {"n": len(latest), "planned": len(batch_of), "states": states,
            "labels": [_state_label(x, lang) for x in states],
            "totals": [(s, sum(1 for v in latest.values() if v == s)) for s in states],
            "per_batch": per_batch, "not_started": sum(row[3] for row in per_batch), "outside": outside}


# ---------------------------------------------------------------- tables


def department_schedule(plan: Plan, inv: Inventory, lang: str = "zh") -> list[dict[str, Any]]:
    """Department → the batches and cutover dates of its systems, and how many stay or cannot be scheduled."""
    orgs = {o.id: (o.short_name or o.name) for o in inv.organizations.values()}
    rows: dict[str, dict[str, Any]] = {}

    def row(org: str) -> dict[str, Any]:
        return rows.setdefault(org, {"org": org, "name": orgs.get(org, org), "moved": 0, "batches": [],
                                     "cutovers": [], "stays": 0, "unscheduled": 0})

    for b in plan.batches:
        for i in b.items:
            r = row(i.owner_org)
            r["moved"] += 1
            if b.id not in r["batches"]:
                r["batches"].append(b.id)
            if i.cutover:
                r["cutovers"].append(i.cutover)
    for x in plan.retained:
        row(x.owner_org)["stays"] += 1
    for u in plan.unscheduled:
        row(u.owner_org)["unscheduled"] += 1
    out = []
    for r in rows.values():
        cut = sorted(r.pop("cutovers"))
        r["first"] = cut[0] if cut else None
        r["last"] = cut[-1] if cut else None
        r["batches"] = " ".join(r["batches"])
        out.append(r)
    far = date.max
    return sorted(out, key=lambda r: (r["first"] or far, r["last"] or far, r["name"], r["org"]))


def mlps_summary(plan: Plan, inv: Inventory, lang: str = "zh") -> dict[str, Any]:
    """Systems by their MLPS level against where they go: a target zone's level, retired, staying,
    or not yet schedulable — and the target zones with what they receive."""
    R = localized(_R, lang)
    zone_level = {z.id: z.mlps_level for z in inv.cloud_zones.values()}

    def level_of(sid: str) -> int | None:
        s = inv.systems.get(sid)
        return s.mlps_level if s else None

    cells: Counter[tuple[int | None, str]] = Counter()
    for i in plan.items():
        if i.strategy is Strategy.retire or not i.target_zone:
            dest = "retire"
        else:
            dest = f"z{zone_level.get(i.target_zone, 0)}"
        cells[(level_of(i.system), dest)] += 1
    for r in plan.retained:
        cells[(level_of(r.system), "retained")] += 1
    for u in plan.unscheduled:
        cells[(level_of(u.system), "unscheduled")] += 1
    zone_cols = sorted({d for _, d in cells if d.startswith("z")}, key=lambda d: int(d[1:]))
    cols = zone_cols + [d for d in ("retire", "retained", "unscheduled") if any(k[1] == d for k in cells)]
    heads = {"retire": R["retire"], "retained": R["retained"], "unscheduled": R["unscheduled"]}
    heads.update({d: R["zone_level"].format(n=d[1:]) for d in zone_cols})
    levels = sorted({lv for lv, _ in cells if lv is not None}) + ([None] if any(lv is None for lv, _ in cells) else [])
    rows = []
    for lv in levels:
        counts = [cells[(lv, c)] for c in cols]
        rows.append({"level": R["level"].format(n=lv) if lv is not None else R["ungraded"], "counts": counts,
                     "total": sum(counts)})
    totals = [sum(cells[(lv, c)] for lv in levels) for c in cols]
    zones: dict[str, dict[str, Any]] = {}
    for i in plan.items():
        if i.target_zone and i.strategy is not Strategy.retire:
            z = inv.cloud_zones.get(i.target_zone)
            zr = zones.setdefault(i.target_zone, {"id": i.target_zone, "name": z.name if z else i.target_zone,
                                                  "level": z.mlps_level if z else "-",
                                                  "dedicated": R["yes"] if z and z.dedicated_pool else R["no_"],
                                                  "systems": 0, "servers": 0})
            zr["systems"] += 1
            zr["servers"] += len(i.servers)
    return {"columns": [heads[c] for c in cols], "rows": rows, "totals": totals, "total": sum(totals),
            "zones": sorted(zones.values(), key=lambda z: (str(z["level"]), z["id"]))}


def rules_matrix(plan: Plan, lang: str = "zh") -> dict[str, Any]:
    rules = sorted({r for b in plan.batches for r in b.rules}, key=_rule_key)
    return {"rules": rules,
            "rows": [{"id": b.id, "name": _batch_name(b, lang), "checks": [r in b.rules for r in rules],
                      "list": ", ".join(sorted(b.rules, key=_rule_key))} for b in plan.batches],
            "legend": [(r, tr(RULES[r], lang) if r in RULES else "") for r in rules]}


def _rule_key(rule: str) -> tuple:
    head, _, num = rule.rpartition("-")
    return (head, int(num) if num.isdigit() else 0, rule)


# ---------------------------------------------------------------- the whole report


def report_data(plan: Plan, inv: Inventory, *, lang: str = "zh", approval: str | None = None,
                approval_state: str = "unapproved", compliance: Sequence[Mapping[str, str]] | None = None,
                journal: Sequence[Mapping[str, str]] | None = None, generated_on: date | None = None,
                markdown: bool = False, max_groups: int = MAX_GROUP_NODES,
                cutovers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report shows, for either template. ``markdown`` escapes table cells for Markdown
    and leaves out the SVG (the HTML template autoescapes text itself)."""
    R = localized(_R, lang)
    doc = document_data(plan, inv, lang=lang, approval=approval, cell=md_cell if markdown else str)
    cell = md_cell if markdown else str
    policy = inv.policies.get(plan.policy)
    final_deadline = policy.final_deadline if policy else None
    strategy_rows: list[dict[str, Any]] = []
    counts = Counter(i.strategy for i in plan.items())
    for s, row in zip([s for s in Strategy if counts[s]], doc["strategies"]):
        strategy_rows.append({"key": s, "label": s.label(lang), "systems": row["systems"], "servers": row["servers"]})
    strategy_rows.append({"key": "retained", "label": R["retained"], "systems": len(plan.retained), "servers": None})
    strategy_rows.append({"key": "unscheduled", "label": R["unscheduled"], "systems": len(plan.unscheduled),
                          "servers": None})
    graph = group_graph(plan, inv, max_nodes=max_groups)
    group_rows = []
    pairs = {(e[0], e[1]) for e in graph.edges}
    for node in graph.nodes:
        out_ = [pos.number for pos in graph.nodes if (node.id, pos.id) in pairs]
        in_ = [pos.number for pos in graph.nodes if (pos.id, node.id) in pairs]
        group_rows.append({"number": node.number, "id": node.id, "batch": node.batch,
                           "members": cell(tr(", ", lang).join(tr("{name} ({id})", lang).format(name=name, id=sid)
                                                               for sid, name in node.systems)),
                           "calls": ", ".join(map(str, out_)) or "-", "called_by": ", ".join(map(str, in_)) or "-"})
    freezes = sorted(inv.freeze_windows.values(), key=lambda f: (f.start, f.id))
    closing = [r for r in doc["rooms"] if r["empty_by"] != "-"]
    blocked = [{"id": r.room, "name": cell(r.name), "count": len(r.blocked_by),
                "blockers": cell(", ".join(r.blocked_by[:8]) + (" …" if len(r.blocked_by) > 8 else "")) or "-"}
               for r in plan.rooms if not r.empty_by]
    closing.sort(key=lambda r: (str(r["empty_by"]), r["name"]))
    place = doc["title"]
    region = inv.regions.get(inv.meta.region) if inv.meta and inv.meta.region else None
    data: dict[str, Any] = dict(
        doc, R=R, lang=lang, font_stack=FONT_STACK, approval_state=approval_state,
        report_title=R["doc_title"].format(name=region.name if region else (plan.inventory_name or plan.plan_id)),
        plan_title=place, generated_on=generated_on.isoformat() if generated_on else None,
        strategy_rows=strategy_rows, departments=department_schedule(plan, inv, lang),
        closing_rooms=closing, blocked_rooms=blocked, final_deadline=final_deadline,
        graph=graph, group_rows=group_rows,
        groups_text=R["groups_shown"].format(n=len(graph.nodes), total=graph.candidates, e=len(graph.edges)),
        mlps=mlps_summary(plan, inv, lang), compliance=compliance_summary(compliance),
        execution=execution_summary(plan, journal, lang), rules=rules_matrix(plan, lang),
        downtime=downtime_summary(plan, cutovers, policy.thresholds.cutover_max_downtime_s if policy else None, lang),
        rehearsals=rehearsal_summary(plan, cutovers, lang),
        freeze_list=[{"name": cell(f.name), "start": f.start, "end": f.end} for f in freezes],
    )
    if data["compliance"]:
        data["compliance"]["labels"] = [R["statuses"].get(st, st) for st in data["compliance"]["statuses"]]
    if markdown:  # free text this module adds must not break a Markdown table either
        for d in data["departments"]:
            d["name"] = cell(d["name"])
        for z in data["mlps"]["zones"]:
            z["name"] = cell(z["name"])
        if data["compliance"]:
            data["compliance"]["labels"] = [cell(x) for x in data["compliance"]["labels"]]
            data["compliance"]["rows"] = [(cell(c), n) for c, n in data["compliance"]["rows"]]
        if data["downtime"]:
            for r in data["downtime"]["rows"]:
                for k in ("name", "note", "state"):
                    r[k] = cell(r[k])
        if data["rehearsals"]:
            for r in data["rehearsals"]["rows"]:
                for k in ("name", "state", "last", "failback"):
                    r[k] = cell(r[k])
        if data["execution"]:
            data["execution"]["states"] = [cell(x) for x in data["execution"]["states"]]
            data["execution"]["labels"] = [cell(x) for x in data["execution"]["labels"]]
    if compliance is not None:
        c = data["compliance"]
        data["compliance_text"] = R["compliance_summary"].format(n=c["n"], hosts=c["hosts"], checks=c["checks"],
                                                                 bad=c["bad_hosts"])
    if data["execution"]:
        x = data["execution"]
        data["execution_text"] = R["exec_summary"].format(n=x["n"], planned=x["planned"])
        if x["outside"]:  # a journal that names systems the plan has no batch for: say so, do not drop them
            data["execution_text"] += R["exec_outside"].format(
                n=len(x["outside"]), ids=cell(", ".join(x["outside"][:10]) + (" …" if len(x["outside"]) > 10 else "")))
    if not markdown:
        data["charts"] = {
            "strategy": Markup(strategy_svg(strategy_rows, lang)),
            "gantt": Markup(gantt_svg(plan.batches, freezes, lang=lang, final_deadline=final_deadline)),
            "rooms": Markup(rooms_svg(plan.rooms, plan.start, lang=lang,
                                      until=plan.batches[-1].end if plan.batches else None,
                                      final_deadline=final_deadline)),
            "groups": Markup(graph_svg(graph, lang=lang)),
        }
    return data


def _env(autoescape: bool) -> jinja2.Environment:
    # Markdown: every printed value goes through md_escape (no raw HTML, no injected headings/links)
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              autoescape=autoescape, keep_trailing_newline=True,
                              **({} if autoescape else {"finalize": md_escape}))


def render_report(plan: Plan, inv: Inventory, *, fmt: str = "html", lang: str = "zh", approval: str | None = None,
                  approval_state: str = "unapproved", compliance: Sequence[Mapping[str, str]] | None = None,
                  journal: Sequence[Mapping[str, str]] | None = None, generated_on: date | None = None,
                  cutovers: Mapping[str, Any] | None = None) -> str:
    """The report as one string: a self-contained HTML page (``fmt="html"``) or Markdown (``"md"``)."""
    if fmt not in ("html", "md"):
        raise ValueError(f"unknown report format {fmt!r}")
    data = report_data(plan, inv, lang=lang, approval=approval, approval_state=approval_state,
                       compliance=compliance, journal=journal, cutovers=cutovers,
                       generated_on=generated_on, markdown=fmt == "md")
    if fmt == "md":
        return _env(False).get_template("report.md.j2").render(**data)
    return _env(True).get_template("report.html.j2").render(**data)
