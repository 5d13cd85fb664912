# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One-off tasks gated on their exit code (migrations, ``seed_db``...), and reading containers' last log lines."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Verdict, Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, EcsError, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service_logs import log_sources

from .errors import DeployError
from .progress import Progress
from .readiness import stop_summary
from .watcher import BACKOFF, Timeline


def container_definitions(task_definition: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Container definitions of a described definition (whole response or its ``taskDefinition``)."""
    td = task_definition.get("taskDefinition", task_definition)
    return td.get("containerDefinitions") or []


def essential_containers(task_definition: Dict[str, Any]) -> List[str]:
    """Names of the essential containers (``essential`` defaults to true in ECS)."""
    return [c["name"] for c in container_definitions(task_definition) if c.get("essential", True)]


def log_tail(logs: Optional[LogsApi], task_definition: Dict[str, Any], task: Dict[str, Any], lines: int) -> Dict[str, List[str]]:
    """The last ``lines`` log lines of each container of ``task`` that logs with awslogs.

    awslogs names a task's stream ``<stream-prefix>/<container>/<task-id>``; without a prefix
    the stream name is not derivable, so such containers are skipped.  Missing streams (the
    task never started) give no lines rather than an error: the log is a diagnosis aid.
    """
    out: Dict[str, List[str]] = {}
    if logs is None or lines <= 0:
        return out
    task_id = (task.get("taskArn") or "").rsplit("/", 1)[-1]
    for source in log_sources([task_definition])[0]:
        try:
            events = logs.get_log_events(source.log_group, source.stream_prefix + task_id, limit=lines)
        except EcsError:
            continue
        out[source.container] = [e.get("message", "") for e in events][-lines:]
    return out


class OneOffTaskRunner:
    """Run a command on a revision as a one-off task, wait for it to stop, gate on exit codes.

    ``label`` names the task in messages and the timeline (``migration``, ``one-off task``);
    ``started_by`` is the task's ``startedBy``, which tells the tasks apart in the console.
    """

    def __init__(self, ecs: EcsApi, logs: Optional[LogsApi], timeline: Timeline, timeout: float = 600.0,
                 interval: float = 5.0, max_interval: float = 15.0, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, log_lines: int = 20, label: str = "migration",
                 started_by: str = "shipyard-migration", progress: Optional[Progress] = None) -> None:
        self.progress = progress
        self.ecs = ecs
        self.logs = logs
        self.timeline = timeline
        self.timeout = timeout
        self.interval = interval
        self.max_interval = max(interval, max_interval)
        self.clock = clock
        self.sleep = sleep
        self.log_lines = log_lines
        self.label = label
        self.started_by = started_by

    @staticmethod
    def run_task_kwargs(cluster: str, service: Dict[str, Any], revision: str, container: str,
                        command: List[str], started_by: str = "shipyard-migration") -> Dict[str, Any]:
        """``run_task`` arguments: the service's network and capacity, our command override."""
        kwargs: Dict[str, Any] = {
            "cluster": cluster,
            "taskDefinition": revision,
            "count": 1,
            "startedBy": started_by,
            "overrides": {"containerOverrides": [{"name": container, "command": list(command)}]},
        }
        if service.get("networkConfiguration"):
            kwargs["networkConfiguration"] = service["networkConfiguration"]
        if service.get("capacityProviderStrategy"):
            kwargs["capacityProviderStrategy"] = service["capacityProviderStrategy"]
        elif service.get("launchType"):
            kwargs["launchType"] = service["launchType"]
        if service.get("platformVersion") and service.get("launchType", "FARGATE") == "FARGATE":
            kwargs["platformVersion"] = service["platformVersion"]
        return kwargs

    def run(self, cluster: str, service: Dict[str, Any], revision: str, task_definition: Dict[str, Any],
            container: Optional[str], command: List[str]) -> Dict[str, Any]:
        """Run and await the task; return its outcome, raise :class:`DeployError` on failure.

        The error's details carry the outcome under ``details[<label key>]`` (``migration`` or
        ``task``): exit codes, stop code and reason, the last log lines.
        """
        essentials = essential_containers(task_definition)
        container = container or (essentials[0] if essentials else None)
        if not container:
            raise DeployError("%s: the task definition %s has no container to run the command in" % (self.label, revision))
        kwargs = self.run_task_kwargs(cluster, service, revision, container, command, self.started_by)
        event = self.label.replace("-", "_").replace(" ", "_")
        key = "migration" if self.label == "migration" else "task"
        self.timeline.add(service.get("serviceName"), event + "_started", " ".join(command), revision=revision)
        answer = self.ecs.run_task(**kwargs)
        tasks = answer.get("tasks") or []
        if not tasks:
            reasons = "; ".join("%s: %s" % (f.get("arn", ""), f.get("reason", "")) for f in answer.get("failures") or [])
            self.timeline.add(service.get("serviceName"), event + "_failed", reasons or "no task started")
            raise DeployError("%s did not start: %s" % (self.label, reasons or "run_task returned no task"),
                              details={key: {"failures": answer.get("failures") or [], "command": command,
                                             "container": container, "revision": revision}})
        arn = tasks[0]["taskArn"]
        waiter = Waiter(timeout=self.timeout, interval=self.interval, max_interval=self.max_interval, backoff=BACKOFF,
                        clock=self.clock, sleep=self.sleep)

        def describe() -> Dict[str, Any]:
            found = self.ecs.describe_tasks(cluster, [arn])
            return found[0] if found else {}

        def stopped(task: Dict[str, Any]) -> Verdict:
            status = task.get("lastStatus", "?")
            if self.progress is not None:
                self.progress.add({"t": round(self.clock() - self.timeline.start, 3), "service": service.get("serviceName"),
                                   "purpose": event, "task_status": status})
            return Verdict.done(status) if status == "STOPPED" else Verdict.waiting(status)

        outcome = waiter.wait(describe, stopped, what="%s %s" % (self.label, arn), raise_on_timeout=False)
        task = outcome.state or {}
        result = {"task_arn": arn, "command": list(command), "container": container, "revision": revision}
        result.update({k: v for k, v in stop_summary(task).items() if k not in ("task", "task_arn")})
        result["log_lines"] = log_tail(self.logs, task_definition, task, self.log_lines)
        if outcome.verdict.status != "done":
            self.timeline.add(service.get("serviceName"), event + "_timeout", outcome.verdict.reason)
            raise DeployError("%s %s (%s) did not stop within %gs and is left running (last status %s)"
                              % (self.label, arn, " ".join(command), self.timeout, task.get("lastStatus", "unknown")),
                              details={key: result})
        failure = one_off_failure(task, essentials)
        result["failed"] = bool(failure)
        self.timeline.add(service.get("serviceName"), event + ("_failed" if failure else "_succeeded"),
                          failure or "exit codes %s" % result["exit_codes"])
        if failure:
            raise DeployError("%s failed: %s%s" % (self.label, failure, _last_lines_note(result["log_lines"])),
                              details={key: result})
        return result


LAST_LINES_IN_MESSAGE = 3


def _last_lines_note(log_lines: Dict[str, List[str]]) -> str:
    """`` - last log lines: <container>: a | b`` for a failure message (the full tail is in the details)."""
    parts = ["%s: %s" % (name, " | ".join(lines[-LAST_LINES_IN_MESSAGE:])) for name, lines in log_lines.items() if lines]
    return (" - last log lines: " + "; ".join(parts)) if parts else ""


def one_off_failure(task: Dict[str, Any], essentials: List[str]) -> str:
    """Why a stopped one-off task counts as failed, or "" when every essential container exited 0."""
    if task.get("stopCode") == "TaskFailedToStart":
        return "task failed to start: %s" % (task.get("stoppedReason") or "TaskFailedToStart")
    codes = {c.get("name"): c.get("exitCode") for c in task.get("containers") or []}
    bad = []
    for name in essentials:
        code = codes.get(name)
        if code is None:
            reasons = [c.get("reason") for c in task.get("containers") or [] if c.get("name") == name and c.get("reason")]
            bad.append("%s has no exit code (%s)" % (name, reasons[0] if reasons else task.get("stoppedReason") or "never ran"))
        elif code != 0:
            bad.append("%s exited with %s" % (name, code))
    if bad and task.get("stoppedReason"):
        bad[-1] += " (stopped: %s)" % task["stoppedReason"]
    return "; ".join(bad)
