# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""What a release looks like while it waits: one sample per service per look.

Every look of the watcher (and of a one-off task's wait) becomes a sample: deployment state,
running/desired tasks, healthy/total targets and the service's newest ECS event.  Samples are
kept for the release report's chart and, when the module is given a ``progress_file``, appended
to it as JSON lines as they happen: the action plugin of ``ecs_rolling_deploy`` reads that file
while the module runs and prints the lines, so a long wait is not silent.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional

MAX_EVENT_CHARS = 160
# ``arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users/...`` reads as ``targetgroup/users/...``.
ARN_PREFIX = re.compile(r"arn:aws[\w-]*:[\w-]+:[\w-]*:\d*:")


def progress_line(sample: Dict[str, Any]) -> str:
    """``[+12s] users release: rollout IN_PROGRESS, tasks 1/2, targets 1/2 healthy | <newest event>``."""
    head = "[+%ds] %s %s" % (int(sample.get("t") or 0), sample.get("service") or "-", sample.get("purpose") or "release")
    if sample.get("task_status") is not None:
        body = "task %s" % sample["task_status"]
    elif sample.get("stage"):
        # ECS-native deployments: one line per lifecycle stage (or status) change of the ServiceDeployment.
        body = "stage %s, service deployment %s, tasks %s/%s" % (
            sample["stage"], sample.get("rollout") or "?", sample.get("running", "?"), sample.get("desired", "?"))
    else:
        body = "%s %s, tasks %s/%s, targets %s/%s healthy" % (
            "rollout" if sample.get("rollout") else "deployment", sample.get("rollout") or sample.get("status") or "?",
            sample.get("running", "?"), sample.get("desired", "?"), sample.get("healthy", 0), sample.get("targets", 0))
    if sample.get("status") in ("done", "failed"):
        body += " - %s" % sample["status"]
    event = ARN_PREFIX.sub("", sample.get("event") or "")
    if event:
        body += " | " + (event if len(event) <= MAX_EVENT_CHARS else event[:MAX_EVENT_CHARS - 3] + "...")
    return "%s: %s" % (head, body)


def newest_event(service: Optional[Dict[str, Any]]) -> str:
    """The message of a described service's newest event (ECS lists them newest first)."""
    events = (service or {}).get("events") or []
    return (events[0].get("message") or "") if events else ""


class Progress:
    """Collects samples; appends each as a JSON line to ``path`` when one is given."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path
        self.samples: List[Dict[str, Any]] = []

    def add(self, sample: Dict[str, Any]) -> None:
        """Record one sample (``t`` seconds since the release started, ``service``, the counts)."""
        sample = {k: v for k, v in sample.items() if v is not None}
        self.samples.append(sample)
        if self.path:
            # Appended and closed at once: the reader sees whole lines as they come.
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(sample, sort_keys=True, default=str) + "\n")

    def rollout(self, t: float, service: str, purpose: str, summary: Dict[str, Any], status: str,
                service_description: Optional[Dict[str, Any]]) -> None:
        """A sample from one judgement of a deployment (see :func:`readiness.judge`)."""
        self.add({
            "t": round(t, 3), "service": service, "purpose": purpose, "status": status,
            "rollout": summary.get("rollout_state"), "deployment": summary.get("deployment"),
            "running": summary.get("running", (service_description or {}).get("runningCount")),
            "desired": summary.get("desired", (service_description or {}).get("desiredCount")),
            "healthy": summary.get("healthy_targets", 0), "targets": summary.get("targets", 0),
            "failed_tasks": summary.get("failed_tasks"), "event": newest_event(service_description),
        })
