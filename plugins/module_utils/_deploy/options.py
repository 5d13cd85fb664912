# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Release options, validated before any AWS call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

from .definition import render_definition
from .planner import ServiceRequest
from .readiness import Policy

PREVIOUS = "previous"


@dataclass
class ReleaseOptions:
    """Everything a release needs to know besides AWS's answers."""

    services: List[ServiceRequest]
    migration: Optional[Dict[str, Any]] = None
    one_off_task: Optional[Dict[str, Any]] = None
    force_new_deployment: bool = False
    wait: bool = True
    timeout: float = 900.0
    poll_interval: float = 5.0
    max_poll_interval: float = 15.0
    policy: Policy = field(default_factory=Policy)
    rollback: bool = True
    rollback_scope: str = "release"
    keep_revisions: Optional[int] = None
    log_lines: int = 20
    check_mode: bool = False
    progress_file: Optional[str] = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any], check_mode: bool = False, region: Optional[str] = None) -> "ReleaseOptions":
        """Build and validate options from module parameters; raise ``ValidationError``.

        ``region`` is the module's: the default region of ``awslogs`` in ``services[].definition``.
        """
        cluster = params.get("cluster")
        if not cluster:
            raise ValidationError("cluster", cluster, "a cluster name or ARN is required")
        raw_services = params.get("services") or []
        one_off = _one_off_task(params.get("one_off_task"), cluster)
        if one_off and raw_services:
            raise ValidationError("one_off_task", params.get("one_off_task"),
                                  "runs on its own, without services to release (use migration to run a command as part "
                                  "of a release)")
        if one_off and params.get("migration"):
            raise ValidationError("migration", params.get("migration"),
                                  "belongs to a release of services; one_off_task runs a command on its own")
        if not raw_services and not one_off:
            raise ValidationError("services", raw_services, "name at least one service to release (or give one_off_task)")
        services: List[ServiceRequest] = []
        seen = set()
        for index, item in enumerate(raw_services):
            services.append(_service(index, item, cluster, seen, region))
        for name in ("timeout", "poll_interval"):
            if params.get(name) is not None and params[name] <= 0:
                raise ValidationError(name, params[name], "must be greater than 0")
        for name in ("max_failed_tasks", "unhealthy_timeout", "log_lines"):
            if params.get(name) is not None and params[name] < 0:
                raise ValidationError(name, params[name], "must be 0 (off) or more")
        keep = params.get("keep_revisions")
        if keep is not None and keep < 1:
            raise ValidationError("keep_revisions", keep, "must be 1 or more (omit it to keep every revision)")
        scope = params.get("rollback_scope") or "release"
        if scope not in ("release", "service"):
            raise ValidationError("rollback_scope", scope, "must be release or service")
        migration = _migration(params.get("migration"), services)
        poll = float(params.get("poll_interval") or 5.0)
        return cls(
            services=services,
            migration=migration,
            one_off_task=one_off,
            force_new_deployment=bool(params.get("force_new_deployment")),
            wait=params.get("wait", True) is not False,
            timeout=float(params.get("timeout") or 900),
            poll_interval=poll,
            max_poll_interval=max(poll, float(params.get("max_poll_interval") or 15.0)),
            policy=Policy(
                max_failed_tasks=int(params.get("max_failed_tasks") if params.get("max_failed_tasks") is not None else 3),
                unhealthy_timeout=float(params.get("unhealthy_timeout") if params.get("unhealthy_timeout") is not None else 120),
                wait_for_drain=bool(params.get("wait_for_drain")),
            ),
            rollback=params.get("rollback", True) is not False,
            rollback_scope=scope,
            keep_revisions=keep,
            log_lines=int(params.get("log_lines") if params.get("log_lines") is not None else 20),
            check_mode=check_mode,
            progress_file=params.get("progress_file") or None,
        )


# Ways of saying what a service must run besides its whole definition; ``definition`` excludes them all.
PARTIAL_CHANGES = ("images", "environment", "secrets", "container_definitions", "task_definition")


def _service(index: int, item: Mapping[str, Any], cluster: str, seen: set, region: Optional[str]) -> ServiceRequest:
    where = "services[%d]" % index
    if not isinstance(item, Mapping) or not item.get("name"):
        raise ValidationError(where + ".name", item.get("name") if isinstance(item, Mapping) else item, "a service name is required")
    request = ServiceRequest(
        name=item["name"],
        cluster=item.get("cluster") or cluster,
        images=item.get("images"),
        environment=item.get("environment"),
        secrets=item.get("secrets"),
        container_definitions=item.get("container_definitions"),
        task_definition=item.get("task_definition"),
        order=int(item.get("order") or 0),
    )
    if item.get("definition") is not None:
        for key in PARTIAL_CHANGES:
            if item.get(key) is not None:
                raise ValidationError("%s.%s" % (where, key), item[key],
                                      "mutually exclusive with %s.definition, the whole task definition of the service "
                                      "(set images, environment and secrets of its containers inside it)" % where)
        request.definition = render_definition(item["definition"], request.name, region, where + ".definition")
    if item.get("test_traffic") is not None:
        request.test_traffic = _test_traffic(item["test_traffic"], where + ".test_traffic")
    if request.key in seen:
        raise ValidationError(where + ".name", request.name, "the service is listed twice in the release")
    seen.add(request.key)
    if request.images is not None and not isinstance(request.images, (str, Mapping)):
        raise ValidationError(where + ".images", request.images, "must be an image URI or a mapping of container name to image URI")
    if isinstance(request.images, Mapping):
        for container, image in request.images.items():
            if not isinstance(image, str) or not image.strip():
                raise ValidationError(where + ".images." + str(container), image, "must be an image URI")
    if request.task_definition and request.has_changes:
        raise ValidationError(where + ".task_definition", request.task_definition,
                              "name a revision or changes (images, environment, secrets, container_definitions), not both")
    return request


def _migration(raw: Optional[Mapping[str, Any]], services: List[ServiceRequest]) -> Optional[Dict[str, Any]]:
    if not raw:
        return None
    names = [s.name for s in services]
    if raw.get("service") not in names:
        raise ValidationError("migration.service", raw.get("service"), "must be one of the released services (%s)" % ", ".join(names))
    command = raw.get("command")
    if not command or not isinstance(command, (list, tuple)):
        raise ValidationError("migration.command", command, "a non-empty list of arguments is required")
    timeout = raw.get("timeout") if raw.get("timeout") is not None else 600
    if timeout <= 0:
        raise ValidationError("migration.timeout", timeout, "must be greater than 0")
    return {"service": raw["service"], "container": raw.get("container"), "command": [str(c) for c in command],
            "timeout": float(timeout)}


def _one_off_task(raw: Optional[Mapping[str, Any]], cluster: str) -> Optional[Dict[str, Any]]:
    if not raw:
        return None
    if not raw.get("service"):
        raise ValidationError("one_off_task.service", raw.get("service"), "name the service whose revision runs the command")
    command = raw.get("command")
    if not command or not isinstance(command, (list, tuple)) or not all(str(c) for c in command):
        raise ValidationError("one_off_task.command", command, "a non-empty list of non-empty arguments is required")
    timeout = raw.get("timeout") if raw.get("timeout") is not None else 600
    if timeout <= 0:
        raise ValidationError("one_off_task.timeout", timeout, "must be greater than 0")
    return {"service": raw["service"], "cluster": cluster, "container": raw.get("container"),
            "command": [str(c) for c in command], "timeout": float(timeout)}


def _test_traffic(raw: Any, where: str) -> Dict[str, Any]:
    """``services[].test_traffic`` checked and with its defaults."""
    if not isinstance(raw, Mapping):
        raise ValidationError(where, raw, "must be a mapping (url, headers, checks, reachable, pause_after_steps, hold)")
    reachable = raw.get("reachable") is not False
    out: Dict[str, Any] = {"url": raw.get("url"), "headers": dict(raw.get("headers") or {}), "checks": [],
                           "reachable": reachable, "pause_after_steps": bool(raw.get("pause_after_steps")),
                           "hold": bool(raw.get("hold"))}
    url = raw.get("url")
    if reachable:
        if not isinstance(url, str) or not (url.startswith("http://") or url.startswith("https://")):
            raise ValidationError(where + ".url", url, "an http:// or https:// URL test traffic reaches the new tasks through "
                                  "is required unless reachable is false")
        if not raw.get("checks"):
            raise ValidationError(where + ".checks", raw.get("checks"), "give at least one check (path, status, contains)")
    for index, check in enumerate(raw.get("checks") or []):
        at = "%s.checks[%d]" % (where, index)
        if not isinstance(check, Mapping) or not isinstance(check.get("path"), str) or not check["path"].startswith("/"):
            raise ValidationError(at + ".path", check.get("path") if isinstance(check, Mapping) else check,
                                  "a path starting with /")
        status = check.get("status") if check.get("status") is not None else 200
        try:
            status = int(status)
        except (TypeError, ValueError):
            raise ValidationError(at + ".status", check.get("status"), "an HTTP status code") from None
        if not 100 <= status <= 599:
            raise ValidationError(at + ".status", status, "an HTTP status code (100-599)")
        out["checks"].append({"path": check["path"], "status": status, "contains": check.get("contains")})
    return out
