# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""A release in a few lines a person reads at the end of the run.

One aligned table row per service (revision before and after, image, strategy, duration,
tasks, targets, result); on failure the reason in one line, the stopped tasks with their exit
codes and stop reasons, and the last log lines of the failing container.  Pure functions of the
module's result, so the playbook prints them instead of the result itself.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

HEADERS = ("service", "revision", "image", "strategy", "duration", "tasks", "targets", "result")
MAX_STOPPED_SHOWN = 3
MAX_LOG_LINES_SHOWN = 4
MAX_LINE_CHARS = 200
# The one-line reason: ECS's long words (deployment ids, revisions) make it wrap once at most.
MAX_REASON_CHARS = 140


def short_revision(arn: Optional[str]) -> str:
    """``arn:...:task-definition/users:7`` -> ``users:7``."""
    return (arn or "-").rsplit("/", 1)[-1]


def short_image(image: Optional[str]) -> str:
    """``<registry>/users:2@sha256:0123456789ab...`` -> ``users:2@0123456789ab`` (repository, tag, 12 digest characters)."""
    if not image:
        return "-"
    name, digest = (image.split("@", 1) + [""])[:2]
    repository = name.rsplit("/", 1)[-1]
    if digest:
        return "%s@%s" % (repository, digest.split(":", 1)[-1][:12])
    return repository


def duration(seconds: Any) -> str:
    """``75`` -> ``1m15s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    seconds = int(round(float(seconds)))
    return "%dm%02ds" % divmod(seconds, 60) if seconds >= 60 else "%ds" % seconds


def _count(pair: Optional[Dict[str, Any]], have: str, total: str) -> str:
    if not pair or pair.get(total) is None:
        return "-"
    return "%s/%s" % (pair.get(have, 0), pair.get(total))


def service_row(service: Dict[str, Any]) -> List[str]:
    """The table cells of one service of the release."""
    before, after = short_revision(service.get("revision_before")), short_revision(service.get("revision"))
    revision = before if before == after or after == "-" else "%s -> %s" % (before, after)
    return [
        str(service.get("name") or "-"), revision, short_image(service.get("image")), str(service.get("strategy") or "-"),
        duration(service.get("duration")), _count(service.get("tasks"), "running", "desired"),
        _count(service.get("targets"), "healthy", "total"), str(service.get("status") or "-"),
    ]


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS) -> List[str]:
    """Rows as aligned columns under their headers."""
    widths = [max(len(str(r[i])) for r in list(rows) + [headers]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()

    return [line(headers)] + [line(r) for r in rows]


ARN_PREFIX = re.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:\d*:")


def one_line(text: Any) -> str:
    """Text on one line, ARNs without their partition, region and account, cut at :data:`MAX_LINE_CHARS`."""
    flat = ARN_PREFIX.sub("", " ".join(str(text or "").split()))
    return flat if len(flat) <= MAX_LINE_CHARS else flat[:MAX_LINE_CHARS - 3] + "..."


def failure_lines(failure: Dict[str, Any], msg: str = "") -> List[str]:
    """Why one service failed: reason (unless ``msg`` already says it), stopped tasks grouped by how they stopped, last log lines."""
    reason = one_line(failure.get("reason"))
    told = bool(reason) and reason in one_line(msg)
    out = [] if told else ["%s failed: %s" % (failure.get("service"), reason)]
    groups: Dict[tuple, List[str]] = {}
    for task in failure.get("stopped_tasks") or []:
        codes = ", ".join("%s=%s" % (k, v) for k, v in sorted((task.get("exit_codes") or {}).items()))
        how = (task.get("stop_code") or "-", codes or "-", one_line(task.get("stopped_reason")))
        groups.setdefault(how, []).append(str(task.get("task") or "")[:12])
    for (code, codes, why), tasks in list(groups.items())[:MAX_STOPPED_SHOWN]:
        shown = ", ".join(tasks[:3]) + (" +%d" % (len(tasks) - 3) if len(tasks) > 3 else "")
        out.append("  %s: %d stopped task(s) %s: %s, exit codes %s - %s" % (failure.get("service"), len(tasks), shown, code, codes, why))
    logs = failure.get("log_lines") or {}
    for task_id, containers in list(logs.items())[:1]:
        for container, lines in sorted(containers.items()):
            if lines:
                out.append("  last log lines of %s (task %s):" % (container, str(task_id)[:12]))
                out.extend("    | " + one_line(line) for line in lines[-MAX_LOG_LINES_SHOWN:])
    return out


def summary_lines(result: Dict[str, Any]) -> List[str]:
    """The whole summary of a release result (the module's result, failed or not)."""
    services = result.get("services") or []
    failed = bool(result.get("failed"))
    lines = ["release %s: %d service(s)" % ("FAILED" if failed else ("planned (check mode)" if result.get("check_mode")
                                                                     else "succeeded"), len(services))]
    if services:
        lines.extend(table([service_row(s) for s in services]))
    migration = result.get("migration")
    if migration:
        lines.append("migration %s: %s, exit codes %s" % (" ".join(migration.get("command") or []),
                                                          migration.get("status") or ("failed" if migration.get("failed") else "succeeded"),
                                                          migration.get("exit_codes") or "-"))
    if failed:
        reason = one_line(result.get("msg"))
        lines.append("reason: %s" % (reason if len(reason) <= MAX_REASON_CHARS else reason[:MAX_REASON_CHARS - 3] + "..."))
        for failure in result.get("failures") or []:
            lines.extend(failure_lines(failure, str(result.get("msg") or "")))
        migration_logs = (migration or {}).get("log_lines") or {}
        for container, tail in sorted(migration_logs.items()):
            if tail:
                lines.append("  last log lines of the migration's %s:" % container)
                lines.extend("    | " + one_line(line) for line in tail[-MAX_LOG_LINES_SHOWN:])
    return lines
