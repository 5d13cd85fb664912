# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The recent log lines of an ECS service, found the way ECS writes them.

Where a service's containers log is in its task definitions, not in a naming convention: the
``awslogs`` driver writes each container of a task to ``<awslogs-stream-prefix>/<container
name>/<task id>`` in ``awslogs-group`` (of ``awslogs-region``). The reader takes every revision
the service's deployments run (a rollout under way has tasks of two), and reads each group
with FilterLogEvents restricted to the ``<prefix>/<container>/`` streams.

FilterLogEvents reads forward in time, and a service's history can be long, so the reader looks
back in widening windows (5 minutes, an hour, a day, a week, 30 days, then all of it) and stops
at the first window that brings the total to ``limit`` lines: a busy service costs one short
window, a quiet one a few more calls, never a scan of months to show fifty lines.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result

from .api import EcsApi, EcsError, LogsApi

MAX_LIMIT = 10000
TRIM_SLACK = 1000
# Look-back windows, in minutes; None is "since the beginning".
WINDOWS_MINUTES: Tuple[Optional[int], ...] = (5, 60, 24 * 60, 7 * 24 * 60, 30 * 24 * 60, None)


@dataclass(frozen=True)
class LogSource:
    """One container's awslogs destination: a group and the prefix of its tasks' streams."""

    container: str
    log_group: str
    stream_prefix: str
    region: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        return {"container": self.container, "log_group": self.log_group, "stream_prefix": self.stream_prefix,
                "region": self.region}


def log_sources(task_definitions: List[Dict[str, Any]], container: Optional[str] = None) -> Tuple[List[LogSource], List[str]]:
    """The awslogs destinations of the containers of ``task_definitions`` (and why some have none).

    A container without ``awslogs-stream-prefix`` writes to a stream named after its Docker
    container ID (EC2 launch type), which cannot be told apart from other writers of the group:
    it is left out with a warning rather than guessed.
    """
    sources: List[LogSource] = []
    warnings: List[str] = []
    for described in task_definitions:
        td = described.get("taskDefinition", described)
        revision = "%s:%s" % (td.get("family"), td.get("revision"))
        for definition in td.get("containerDefinitions") or []:
            name = definition.get("name")
            if container and name != container:
                continue
            config = definition.get("logConfiguration") or {}
            options = config.get("options") or {}
            if config.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
                warnings.append("container %s of %s does not log to CloudWatch Logs (log driver %s)"
                                % (name, revision, config.get("logDriver") or "none"))
                continue
            if not options.get("awslogs-stream-prefix"):
                warnings.append("container %s of %s logs to %s without awslogs-stream-prefix: its streams are named by "
                                "Docker container ID and cannot be told apart from other writers; not read"
                                % (name, revision, options["awslogs-group"]))
                continue
            source = LogSource(name, options["awslogs-group"], "%s/%s/" % (options["awslogs-stream-prefix"], name),
                               options.get("awslogs-region"))
            if source not in sources:
                sources.append(source)
    return sources, list(dict.fromkeys(warnings))


def windows(now_ms: int, since_ms: Optional[int]) -> List[Tuple[Optional[int], Optional[int]]]:
    """Disjoint [start, end] windows (inclusive, milliseconds), newest first, back to ``since_ms``.

    The newest window has no end (lines stamped a little ahead of our clock are still shown).
    """
    out: List[Tuple[Optional[int], Optional[int]]] = []
    end: Optional[int] = None
    for minutes in WINDOWS_MINUTES:
        start = None if minutes is None else now_ms - minutes * 60 * 1000
        if since_ms is not None and (start is None or start <= since_ms):
            out.append((since_ms, end))
            return out
        out.append((start, end))
        if start is None:
            return out
        end = start - 1
    return out


def iso_timestamp(ms: int) -> str:
    """``2024-05-01T12:00:00.123Z`` for an event's millisecond timestamp."""
    moment = datetime.datetime.fromtimestamp(ms / 1000.0, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


class ServiceLogsReader:
    """Read the newest ``limit`` log lines of one service."""

    def __init__(self, ecs: EcsApi, logs_for_region: Callable[[Optional[str]], LogsApi],
                 clock: Callable[[], float] = time.time) -> None:
        self.ecs = ecs
        self.logs_for_region = logs_for_region
        self.clock = clock
        self._logs: Dict[Optional[str], LogsApi] = {}

    @classmethod
    def from_module(cls, module: Any) -> "ServiceLogsReader":
        """A reader on an ``AnsibleAWSModule``'s connection (another region only for awslogs-region)."""
        def logs_for_region(region: Optional[str]) -> LogsApi:
            if region and region != module.region:
                return LogsApi(module.client("logs", region=region))
            return LogsApi(module.client("logs"))

        return cls(EcsApi(module.client("ecs")), logs_for_region)

    def logs(self, region: Optional[str]) -> LogsApi:
        if region not in self._logs:
            self._logs[region] = self.logs_for_region(region)
        return self._logs[region]

    def run_params(self, params: Dict[str, Any]) -> Result:
        """Validate module parameters, then :meth:`read`."""
        for name in ("cluster", "service"):
            if not params.get(name):
                raise ValidationError(name, params.get(name), "required")
        limit = params.get("limit")
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            raise ValidationError("limit", limit, "must be between 1 and %d" % MAX_LIMIT)
        since = params.get("since")
        if since is not None and since <= 0:
            raise ValidationError("since", since, "must be a number of minutes greater than 0 (omit it for no bound)")
        return self.read(params["cluster"], params["service"], limit, since, params.get("container"))

    def read(self, cluster: str, service: str, limit: int, since_minutes: Optional[float] = None,
             container: Optional[str] = None) -> Result:
        """The newest ``limit`` lines of ``service``, oldest first, within the last ``since_minutes``."""
        try:
            described = self.ecs.describe_services(cluster, [service])["services"]
        except EcsError as exc:
            if exc.code != "ClusterNotFoundException":
                raise
            raise ValidationError("cluster", cluster, "no cluster of that name (is the environment deployed?)") from exc
        svc = next((s for s in described if service in (s.get("serviceName"), s.get("serviceArn"))
                    and s.get("status") == "ACTIVE"), None)
        if svc is None:
            raise ValidationError("service", service, "no ACTIVE service of that name in cluster %s" % cluster)
        revisions = [svc.get("taskDefinition")] + [d.get("taskDefinition") for d in svc.get("deployments") or []]
        documents = [self.ecs.describe_task_definition(arn) for arn in dict.fromkeys(r for r in revisions if r)]
        if container:
            names = {c.get("name") for d in documents for c in d["taskDefinition"].get("containerDefinitions") or []}
            if container not in names:
                raise ValidationError("container", container, "no container of that name in the task definitions of %s "
                                      "(containers: %s)" % (service, ", ".join(sorted(names))))
        sources, warnings = log_sources(documents, container)
        now_ms = int(self.clock() * 1000)
        since_ms = None if since_minutes is None else now_ms - int(since_minutes * 60 * 1000)
        events: List[Tuple[int, str, str, str, str]] = []
        missing: set = set()
        for start, end in windows(now_ms, since_ms):
            for source in sources:
                if (source.region, source.log_group) in missing:
                    continue
                try:
                    for event in self.logs(source.region).filter_log_events(source.log_group, source.stream_prefix, start, end):
                        events.append((int(event.get("timestamp") or 0), event.get("logStreamName") or "",
                                       event.get("eventId") or "", source.log_group,
                                       (event.get("message") or "").rstrip("\n")))
                        if len(events) >= 2 * limit + TRIM_SLACK:
                            # Only the newest ``limit`` can be shown: older windows bring older lines.
                            events = sorted(events)[-limit:]
                except EcsError as exc:
                    if exc.code != "ResourceNotFoundException":
                        raise
                    missing.add((source.region, source.log_group))
                    warnings.append("log group %s does not exist (yet): no lines of container %s"
                                    % (source.log_group, source.container))
            if len(events) >= limit:
                break
        events.sort()
        lines = [{"timestamp": iso_timestamp(ts), "timestamp_ms": ts, "log_group": group, "stream": stream, "message": message}
                 for ts, stream, _event_id, group, message in events[-limit:]]
        calls = combined_calls([self.ecs] + list(self._logs.values()))
        return Result(changed=False, data={"lines": lines, "sources": [s.to_dict() for s in sources],
                                           "task_definitions": [d["taskDefinition"].get("taskDefinitionArn") for d in documents],
                                           "api_calls": calls}, warnings=warnings)
