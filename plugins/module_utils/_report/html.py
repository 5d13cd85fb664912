# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The release report: one self-contained HTML page (and the JSON it is drawn from).

The page holds the summary table, a timeline chart per service drawn as inline SVG (tasks
running and targets healthy over time; deployments started, completed, failed and rolled back;
ECS events as dots with their message as tooltip) and the failure details.  No script, no
external style sheet or font: it opens the same from a CI artifact, an e-mail or a file share.
"""

from __future__ import annotations

import datetime
from html import escape
from typing import Any, Dict, List, Optional, Tuple

from .summary import HEADERS, failure_lines, service_row

CHART_WIDTH = 760
CHART_HEIGHT = 220
MARGIN = (40, 16, 30, 40)  # left, right, bottom, top
# Timeline events drawn as vertical markers, with their label and colour.
MARKERS = {
    "release_update": ("deployment started", "#1f6feb"),
    "awaiting": ("awaiting rollout", "#1f6feb"),
    "release_done": ("completed", "#1a7f37"),
    "await_done": ("completed", "#1a7f37"),
    "release_failed": ("failed", "#cf222e"),
    "release_timeout": ("timed out", "#cf222e"),
    "rollback_update": ("rollback started", "#9a6700"),
    "rollback_by_ecs": ("ECS rolls back", "#9a6700"),
    "rollback_done": ("rolled back", "#9a6700"),
    "rollback_failed": ("rollback failed", "#cf222e"),
    "migration_started": ("migration started", "#8250df"),
    "migration_succeeded": ("migration done", "#8250df"),
    "migration_failed": ("migration failed", "#cf222e"),
}
STYLE = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
.meta{color:#59636e;margin-bottom:16px}
.status{display:inline-block;padding:2px 8px;border-radius:10px;color:#fff;font-weight:600}
.succeeded{background:#1a7f37}.failed{background:#cf222e}.planned{background:#59636e}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #d1d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.num{text-align:right}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}
svg text{font-size:11px;fill:#59636e} .legend span{margin-right:16px}
"""


def _scale(value: float, low: float, high: float, out_low: float, out_high: float) -> float:
    if high <= low:
        return out_low
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def _steps(points: List[Tuple[float, float]], sx: Any, sy: Any) -> str:
    """SVG points of a step line through (t, value) pairs: a value holds until the next sample."""
    out: List[str] = []
    for index, (t, value) in enumerate(points):
        if index:
            out.append("%.1f,%.1f" % (sx(t), sy(points[index - 1][1])))
        out.append("%.1f,%.1f" % (sx(t), sy(value)))
    return " ".join(out)


def service_chart(service: str, samples: List[Dict[str, Any]], events: List[Dict[str, Any]]) -> str:
    """The SVG timeline of one service: tasks running, targets healthy, desired count, markers and ECS events."""
    mine = [s for s in samples if s.get("service") == service and s.get("running") is not None]
    marks = [e for e in events if e.get("service") == service and e.get("event") in MARKERS]
    t_end = max([1.0] + [float(s.get("t") or 0) for s in mine] + [float(e.get("t") or 0) for e in marks])
    t_start = min([float(s.get("t") or 0) for s in mine] + [float(e.get("t") or 0) for e in marks] + [t_end])
    top = max([1] + [int(s.get(k) or 0) for s in mine for k in ("running", "desired", "targets", "healthy")])
    left, right, bottom, top_margin = MARGIN
    width, height = CHART_WIDTH, CHART_HEIGHT

    def sx(t: float) -> float:
        return _scale(float(t), t_start, t_end, left, width - right)

    def sy(v: float) -> float:
        return _scale(float(v), 0, top, height - bottom, top_margin)

    label_of_chart = escape("timeline of %s" % service)
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-service="%s" width="%d" height="%d" '
             'viewBox="0 0 %d %d" role="img" aria-label="%s">' % (escape(service), width, height, width, height, label_of_chart)]
    parts.append('<rect x="0" y="0" width="%d" height="%d" fill="#ffffff"/>' % (width, height))
    for value in range(top + 1):
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eaeef2"/>' % (left, width - right, sy(value), sy(value)))
        parts.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (left - 6, sy(value) + 4, value))
    for index in range(6):
        t = t_start + (t_end - t_start) * index / 5.0
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">%ds</text>' % (sx(t), height - bottom + 16, int(round(t))))
    for index, event in enumerate(marks):
        label, colour = MARKERS[event["event"]]
        # Three rows of labels, so that markers close in time do not write over each other.
        label_y = top_margin - 8 - 11 * (index % 3)
        x = sx(float(event.get("t") or 0))
        # Labels in the right half end at their marker, so that none runs off the chart.
        anchor, dx = ("end", -3) if x > width / 2 else ("start", 3)
        tooltip = "%.1fs %s: %s" % (float(event.get("t") or 0), label, event.get("note") or "")
        parts.append('<g class="marker" data-event="%s"><line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" '
                     'stroke-dasharray="4 3"/><text x="%.1f" y="%d" fill="%s" text-anchor="%s">%s</text><title>%s</title></g>' % (
                         escape(event["event"]), x, x, label_y + 2, height - bottom, colour, x + dx, label_y,
                         colour, anchor, escape(label), escape(tooltip)))
    if mine:
        series = (
            ("desired", "#8c959f", "desired tasks", ' stroke-dasharray="2 2"'),
            ("running", "#1f6feb", "tasks running", ""),
            ("healthy", "#1a7f37", "targets healthy", ""),
        )
        for key, colour, title, dash in series:
            points = [(float(s.get("t") or 0), float(s.get(key) or 0)) for s in mine]
            parts.append('<polyline class="series series-%s" fill="none" stroke="%s" stroke-width="2"%s points="%s">'
                         '<title>%s</title></polyline>' % (key, colour, dash, _steps(points, sx, sy), escape(title)))
        seen = ""
        for sample in mine:
            event = sample.get("event") or ""
            if event and event != seen:
                seen = event
                parts.append('<circle class="ecs-event" cx="%.1f" cy="%d" r="4" fill="#9a6700"><title>%s</title></circle>' % (
                    sx(float(sample.get("t") or 0)), height - bottom - 6, escape("%.1fs %s" % (float(sample.get("t") or 0), event))))
    else:
        parts.append('<text x="%d" y="%d">no rollout was followed (the service was already on its revision)</text>' % (
            left + 8, top_margin + 20))
    parts.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#8c959f"/>' % (left, width - right, height - bottom, height - bottom))
    parts.append("</svg>")
    return "".join(parts)


def report_document(name: str, release: Dict[str, Any], generated_at: Optional[str] = None) -> Dict[str, Any]:
    """The JSON document of a report: what the release module returned, without its bulk."""
    failed = bool(release.get("release_failed", release.get("failed")))
    status = "failed" if failed else ("planned" if release.get("check_mode") else "succeeded")
    return {
        "name": name,
        "generated_at": generated_at or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": status,
        "msg": release.get("msg") if failed else "",
        "summary": release.get("summary") or [],
        "services": release.get("services") or [],
        "failures": release.get("failures") or [],
        "migration": release.get("migration"),
        "timeline": release.get("timeline") or [],
        "progress": release.get("progress") or [],
        "deregistered": release.get("deregistered") or [],
    }


def render_html(document: Dict[str, Any]) -> str:
    """The self-contained HTML page of a report document (see :func:`report_document`)."""
    status = document.get("status") or "succeeded"
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           '<title>%s</title><style>%s</style></head><body>' % (escape("Release of %s: %s" % (document.get("name"), status)), STYLE),
           '<h1>Release of %s <span class="status %s">%s</span></h1>' % (escape(str(document.get("name"))), escape(status), escape(status)),
           '<div class="meta">generated %s</div>' % escape(str(document.get("generated_at")))]
    if document.get("msg"):
        out.append('<p class="reason"><strong>Reason:</strong> %s</p>' % escape(str(document["msg"])))
    out.append('<h2>Summary</h2><table id="summary"><thead><tr>%s</tr></thead><tbody>' % "".join(
        "<th>%s</th>" % escape(h) for h in HEADERS))
    for service in document.get("services") or []:
        cells = service_row(service)
        out.append("<tr>%s</tr>" % "".join(
            '<td%s>%s</td>' % (' class="num"' if index in (4, 5, 6) else "", escape(c)) for index, c in enumerate(cells)))
    out.append("</tbody></table>")
    failures = document.get("failures") or []
    if failures:
        out.append("<h2>Why it failed</h2>")
        for failure in failures:
            out.append("<pre>%s</pre>" % escape("\n".join(failure_lines(failure))))
    out.append("<h2>Timeline</h2>")
    out.append('<div class="legend"><span style="color:#1f6feb">&#9632; tasks running</span>'
               '<span style="color:#1a7f37">&#9632; targets healthy</span><span style="color:#8c959f">&#9632; desired tasks</span>'
               '<span style="color:#9a6700">&#9679; ECS event</span></div>')
    for service in document.get("services") or []:
        name = str(service.get("name"))
        out.append("<h3>%s</h3>" % escape(name))
        out.append(service_chart(name, document.get("progress") or [], document.get("timeline") or []))
    out.append('<h2>Events</h2><table id="events"><thead><tr><th>t</th><th>service</th><th>event</th><th>note</th></tr></thead><tbody>')
    for event in document.get("timeline") or []:
        out.append('<tr><td class="num">%.1fs</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            float(event.get("t") or 0), escape(str(event.get("service") or "")), escape(str(event.get("event") or "")),
            escape(str(event.get("note") or ""))))
    out.append("</tbody></table></body></html>")
    return "\n".join(out)
