"""CloudWatch Logs output of tasks whose containers use the ``awslogs`` log driver.

AWS writes each container's output to ``<awslogs-stream-prefix>/<container name>/<task id>``
in ``awslogs-group``; a missing group fails the task at start unless
``awslogs-create-group`` is ``true``. The lines are placeholders for what the process would
print, enough for "the last log lines of a failed task".
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional


def _awslogs(container: Dict[str, Any]) -> Optional[Dict[str, str]]:
    config = container.get("logConfiguration") or {}
    if config.get("logDriver") != "awslogs":
        return None
    return dict(config.get("options") or {})


def _backend(task: Any, options: Dict[str, str]) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[task._account_id][options.get("awslogs-region") or task.region_name]


def stream_name(task: Any, container: Dict[str, Any], options: Dict[str, str]) -> str:
    prefix = options.get("awslogs-stream-prefix")
    if prefix:
        return "%s/%s/%s" % (prefix, container.get("name"), task.id)
    return task.id


def start_failure(task: Any, task_definition: Any) -> Optional[str]:
    """AWS's stoppedReason when a container's log group is missing, else None (groups created)."""
    for container in task_definition.container_definitions:
        options = _awslogs(container)
        if options is None or not options.get("awslogs-group"):
            continue
        backend = _backend(task, options)
        group = options["awslogs-group"]
        if group in backend.groups:
            continue
        if str(options.get("awslogs-create-group", "")).lower() == "true":
            backend.create_log_group(group, {})
            continue
        return ("ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
                "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
                "exist. : exit status 1")
    return None


def write(task: Any, task_definition: Any, lines: Dict[str, List[str]]) -> None:
    """Append ``lines[container name]`` (or ``lines["*"]``) to each awslogs container's stream."""
    now = int(time.time() * 1000)
    for container in task_definition.container_definitions:
        options = _awslogs(container)
        if options is None or not options.get("awslogs-group"):
            continue
        messages = lines.get(container.get("name")) or lines.get("*") or []
        if not messages:
            continue
        backend = _backend(task, options)
        group = options["awslogs-group"]
        if group not in backend.groups:
            continue
        name = stream_name(task, container, options)
        if name not in backend.groups[group].streams:
            backend.create_log_stream(group, name)
        backend.put_log_events(group, name, [{"timestamp": now + index, "message": message}
                                             for index, message in enumerate(messages)])
