# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The status document of ecs_status_info as text a person scans: pure functions, no AWS.

The table has one row per service and fixed columns; cells never contain a newline and the
lines carry no trailing blanks, so Ansible's YAML output prints the text as one literal block
with the columns aligned.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

SHORT_DIGEST = 12
EVENT_WIDTH = 120
COLUMNS = ("SERVICE", "REVISION", "IMAGE", "AGE", "RUNNING", "ROLLOUT", "FAILED 1H", "TARGETS")

_DIGEST = re.compile(r"^(?P<algorithm>[a-z0-9]+):(?P<hex>[0-9a-fA-F]+)$")


def split_image(image: str) -> Dict[str, Optional[str]]:
    """``registry``, ``repository``, ``tag`` and ``digest`` of an image reference.

    The first path component is a registry only when it looks like a host (a dot or a colon,
    or ``localhost``), as Docker decides; ``nginx`` and ``library/nginx`` have none.
    """
    rest = image or ""
    digest: Optional[str] = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    registry: Optional[str] = None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    tag: Optional[str] = None
    name, colon, maybe_tag = rest.rpartition(":")
    if colon and "/" not in maybe_tag:
        rest, tag = name, maybe_tag
    return {"registry": registry, "repository": rest, "tag": tag, "digest": digest}


def short_digest(digest: Optional[str]) -> Optional[str]:
    """``sha256:0123456789ab`` for a full digest (the algorithm kept, the hex cut to 12)."""
    if not digest:
        return None
    match = _DIGEST.match(digest)
    if not match:
        return digest
    return "%s:%s" % (match.group("algorithm"), match.group("hex")[:SHORT_DIGEST].lower())


def short_image(image: str, tags: Sequence[str] = (), digest: Optional[str] = None) -> str:
    """``repository:tag@sha256:0123456789ab`` without the registry host.

    ``tags`` are tags known to point at the image (ECR's, for an image pinned by digest only);
    ``digest`` is the digest the running tasks report when the reference has none.
    """
    parts = split_image(image)
    tag = parts["tag"] or (sorted(tags)[0] if tags else None)
    out = parts["repository"] or ""
    if tag:
        out += ":" + tag
    shown = short_digest(parts["digest"] or digest)
    if shown:
        out += "@" + shown
    return out


def human_age(seconds: Optional[float]) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: the two largest units, ``-`` when unknown."""
    if seconds is None:
        return "-"
    total = max(0, int(seconds))
    if total < 60:
        return "%ds" % total
    minutes = total // 60
    if minutes < 60:
        return "%dm" % minutes
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return "%dh%02dm" % (hours, minutes)
    days, hours = divmod(hours, 24)
    return "%dd%02dh" % (days, hours)


def _one_line(text: Any, width: Optional[int] = None) -> str:
    out = " ".join(str(text if text is not None else "").split())
    if width is not None and len(out) > width:
        out = out[:width - 3] + "..."
    return out


def target_cell(target_groups: List[Dict[str, Any]]) -> str:
    """``users 2/2 healthy`` per target group, ``-`` for a service behind none."""
    if not target_groups:
        return "-"
    cells = []
    for group in target_groups:
        cell = "%s %d/%d healthy" % (group.get("name") or "?", group.get("healthy", 0), group.get("total", 0))
        others = {state: n for state, n in sorted((group.get("states") or {}).items()) if state != "healthy" and n}
        if others:
            cell += " (%s)" % ", ".join("%d %s" % (n, state) for state, n in others.items())
        cells.append(cell)
    return "; ".join(cells)


def rollout_cell(service: Dict[str, Any]) -> str:
    deployment = service.get("deployment") or {}
    cell = deployment.get("rollout_state") or deployment.get("status") or "-"
    if service.get("deployment_count", 0) > 1:
        cell += " (%d deployments)" % service["deployment_count"]
    return cell


def service_row(service: Dict[str, Any]) -> List[str]:
    """The table cells of one service of the status document."""
    images = service.get("images") or []
    return [
        service.get("name") or "?",
        service.get("revision") or "-",
        ", ".join(i.get("short") or i.get("image") or "?" for i in images) or "-",
        human_age((service.get("deployment") or {}).get("age_seconds")),
        "%s/%s" % (service.get("running", 0), service.get("desired", 0)),
        rollout_cell(service),
        str(service.get("failed_tasks", 0)),
        target_cell(service.get("target_groups") or []),
    ]


def table(header: Sequence[str], rows: List[List[str]], gap: int = 2) -> List[str]:
    """Rows under a header, each column as wide as its widest cell; no trailing blanks."""
    cells = [[_one_line(c) for c in row] for row in [list(header)] + rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [(" " * gap).join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def render(status: Dict[str, Any], events: Optional[int] = None) -> str:
    """The whole status as text: where, the load balancer, the services table, recent events.

    ``events`` caps the events shown per service (default: every event in the document).
    """
    lines: List[str] = []
    where = "cluster %s" % status.get("cluster")
    if status.get("region"):
        where += " (%s)" % status["region"]
    lines.append(where)
    load_balancer = status.get("load_balancer")
    if load_balancer:
        line = "load balancer %s (%s) %s" % (load_balancer.get("name"), load_balancer.get("state") or "-",
                                             load_balancer.get("dns_name") or "")
        lines.append(line.rstrip())
    if not status.get("cluster_found", True):
        lines.append("")
        lines.append("nothing deployed: the cluster does not exist")
        return "\n".join(lines)
    services = status.get("services") or []
    lines.append("")
    if services:
        lines.extend(table(COLUMNS, [service_row(s) for s in services]))
    else:
        lines.append("no services")
    missing = status.get("missing_services") or []
    if missing:
        lines.append("not found: %s" % ", ".join(missing))
    event_rows = []
    for service in services:
        shown = service.get("events") or []
        if events is not None:
            shown = shown[:events]
        for event in shown:
            message = _one_line(event.get("message"))
            # ECS starts every event with "(service NAME)": the SERVICE column says it already.
            prefix = "(service %s) " % service.get("name")
            if message.startswith(prefix):
                message = message[len(prefix):]
            event_rows.append([service.get("name") or "?", human_age(event.get("age_seconds")) + " ago",
                               _one_line(message, EVENT_WIDTH)])
    if event_rows:
        lines.append("")
        lines.append("RECENT EVENTS")
        lines.extend(table(("SERVICE", "WHEN", "MESSAGE"), event_rows)[1:])
    return "\n".join(lines)
