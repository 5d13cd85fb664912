# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""What runs in one ECS cluster, read in batches: the document behind ecs_status_info.

Reads, and how many: ``DescribeServices`` ten services a call (``ListServices`` first when no
names are given); ``DescribeTaskDefinition`` once per revision the services run (ECS has no
batched form); ``ListTasks`` (stopped, every page) once for the cluster and ``DescribeTasks``
a hundred tasks a call, for the failed tasks; ``DescribeTargetGroups`` twenty a call and
``DescribeTargetHealth`` once per target group; ``DescribeImages`` once per ECR repository whose
images are pinned by digest only (their tags); ``DescribeLoadBalancers`` once when a load
balancer is named. Nothing is written.
"""

from __future__ import annotations

import datetime
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, chunks, combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Result
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.readiness import is_failed_task
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .format import render, short_image, split_image

DESCRIBE_IMAGES_BATCH = 100
MAX_EVENTS = 100
_ECR_HOST = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")


def _epoch(value: Any) -> Optional[float]:
    """Seconds since the epoch of a boto3 timestamp (datetime) or a number; None when absent."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    return float(value)


def _iso(epoch: Optional[float]) -> Optional[str]:
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(arn: str) -> str:
    return (arn or "").rsplit("/", 1)[-1]


def _revision(task_definition_arn: str) -> str:
    """``family:revision`` of a task definition ARN."""
    return _name(task_definition_arn)


def primary_deployment(service: Dict[str, Any]) -> Dict[str, Any]:
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return deployment
    return (service.get("deployments") or [{}])[0]


def target_group_health(descriptions: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Healthy and total targets of one target group, and how many are in each state."""
    states: Dict[str, int] = {}
    for description in descriptions:
        state = (description.get("TargetHealth") or {}).get("State") or "unknown"
        states[state] = states.get(state, 0) + 1
    return {"healthy": states.get("healthy", 0), "total": len(descriptions), "states": states}


class StatusReader:
    """Read the status of a cluster's services; never writes."""

    def __init__(self, ecs: EcsApi, elbv2: Elbv2Api, ecr: EcrApi, region: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.ecs = ecs
        self.elbv2 = elbv2
        self.ecr = ecr
        self.region = region
        self.clock = clock

    @classmethod
    def from_module(cls, module: Any) -> "StatusReader":
        return cls(EcsApi(module.client("ecs")), Elbv2Api(module.client("elbv2")), EcrApi(module.client("ecr")),
                   region=module.region)

    @property
    def apis(self) -> List[AwsApi]:
        return [self.ecs, self.elbv2, self.ecr]

    def run_params(self, params: Dict[str, Any]) -> Result:
        """Validate the module's options, read, and return the document and its text."""
        if not params.get("cluster"):
            raise ValidationError("cluster", params.get("cluster"), "required")
        since = params.get("failed_tasks_since")
        if since is None or since <= 0:
            raise ValidationError("failed_tasks_since", since, "must be a number of minutes greater than 0")
        events = params.get("events")
        if events is None or not 0 <= events <= MAX_EVENTS:
            raise ValidationError("events", events, "must be between 0 and %d" % MAX_EVENTS)
        services = params.get("services") or []
        for index, name in enumerate(services):
            if not name:
                raise ValidationError("services[%d]" % index, name, "must be a service name or ARN")
        status = self.read(params["cluster"], services, params.get("load_balancer"), since, events)
        return Result(changed=False, data={"status": status, "text": render(status),
                                           "api_calls": combined_calls(self.apis)})

    # reading ---------------------------------------------------------------------------------
    def read(self, cluster: str, services: List[str], load_balancer: Optional[str] = None,
             failed_tasks_since: int = 60, events: int = 3) -> Dict[str, Any]:
        """The status document of ``services`` (every service of the cluster when empty)."""
        now = self.clock()
        status: Dict[str, Any] = {"cluster": cluster, "region": self.region, "generated_at": _iso(now),
                                  "cluster_found": True, "load_balancer": None, "services": [],
                                  "missing_services": [], "failed_tasks_since_minutes": failed_tasks_since}
        if load_balancer:
            status["load_balancer"] = self._load_balancer(load_balancer)
        try:
            names = list(services) or self.ecs.list_services(cluster)
            described = self.ecs.describe_services(cluster, names) if names else {"services": [], "failures": []}
        except EcsError as exc:
            if exc.code == "ClusterNotFoundException":
                status["cluster_found"] = False
                return status
            raise
        found = [s for s in described["services"] if s.get("status") != "INACTIVE"]
        found_names = {s.get("serviceName") for s in found} | {s.get("serviceArn") for s in found}
        status["missing_services"] = [n for n in names if n not in found_names and _name(n) not in found_names]
        order = {name: index for index, name in enumerate(services)}
        found.sort(key=lambda s: (order.get(s.get("serviceName"), len(order)), s.get("serviceName") or ""))

        task_definitions = self._task_definitions(found)
        tags = self._ecr_tags(task_definitions)
        failed = self._failed_tasks(cluster, now - failed_tasks_since * 60)
        health = self._target_groups(found)
        for service in found:
            status["services"].append(self._service(service, task_definitions, tags, failed, health, now, events))
        return status

    def _load_balancer(self, name: str) -> Dict[str, Any]:
        found = self.elbv2.describe_load_balancer(name)
        if not found:
            return {"name": name, "state": "not found", "dns_name": None}
        return {"name": name, "state": (found.get("State") or {}).get("Code"), "dns_name": found.get("DNSName")}

    def _task_definitions(self, services: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
        arns = sorted({primary_deployment(s).get("taskDefinition") or s.get("taskDefinition") for s in services} - {None})
        return {arn: self.ecs.describe_task_definition(arn).get("taskDefinition", {}) for arn in arns}

    def _ecr_tags(self, task_definitions: Dict[str, Dict[str, Any]]) -> Dict[Tuple[str, str], List[str]]:
        """Tags of the ECR images referenced by digest only: ``{(repository, digest): [tags]}``."""
        wanted: Dict[str, List[str]] = {}
        for td in task_definitions.values():
            for container in td.get("containerDefinitions") or []:
                parts = split_image(container.get("image") or "")
                if parts["digest"] and not parts["tag"] and _ECR_HOST.match(parts["registry"] or ""):
                    wanted.setdefault(parts["repository"] or "", []).append(parts["digest"] or "")
        out: Dict[Tuple[str, str], List[str]] = {}
        for repository, digests in sorted(wanted.items()):
            for batch in chunks(sorted(set(digests)), DESCRIBE_IMAGES_BATCH):
                for detail in self.ecr.describe_images(repository, batch):
                    out[(repository, detail.get("imageDigest"))] = sorted(detail.get("imageTags") or [])
        return out

    def _failed_tasks(self, cluster: str, since: float) -> Dict[str, int]:
        """Failed tasks stopped since ``since``, counted per service name.

        One ListTasks for the cluster (every page) rather than one per service; ECS keeps a
        stopped task listed for at least an hour, which bounds what "the last hour" can see.
        """
        arns = self.ecs.list_tasks(cluster, desired_status="STOPPED")
        counts: Dict[str, int] = {}
        for task in self.ecs.describe_tasks(cluster, arns) if arns else []:
            group = task.get("group") or ""
            stopped = _epoch(task.get("stoppedAt") or task.get("stoppingAt") or task.get("executionStoppedAt"))
            if not group.startswith("service:") or stopped is None or stopped < since or not is_failed_task(task):
                continue
            name = group[len("service:"):]
            counts[name] = counts.get(name, 0) + 1
        return counts

    def _target_groups(self, services: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
        arns = sorted({lb["targetGroupArn"] for s in services for lb in s.get("loadBalancers") or []
                       if lb.get("targetGroupArn")})
        if not arns:
            return {}
        names = {tg["TargetGroupArn"]: tg.get("TargetGroupName") for tg in self.elbv2.describe_target_groups_by_arn(arns)}
        out: Dict[str, Dict[str, Any]] = {}
        for arn in arns:
            if arn not in names:
                out[arn] = {"name": _name(arn.rsplit("/", 1)[0]) if "/" in arn else arn, "arn": arn,
                            "healthy": 0, "total": 0, "states": {"target group not found": 1}}
                continue
            out[arn] = dict(target_group_health(self.elbv2.describe_target_health(arn)), name=names[arn], arn=arn)
        return out

    @staticmethod
    def _service(service: Dict[str, Any], task_definitions: Dict[str, Dict[str, Any]],
                 tags: Dict[Tuple[str, str], List[str]], failed: Dict[str, int],
                 health: Dict[str, Dict[str, Any]], now: float, events: int) -> Dict[str, Any]:
        deployment = primary_deployment(service)
        arn = deployment.get("taskDefinition") or service.get("taskDefinition") or ""
        images = []
        for container in (task_definitions.get(arn) or {}).get("containerDefinitions") or []:
            image = container.get("image") or ""
            parts = split_image(image)
            known = tags.get((parts["repository"] or "", parts["digest"] or ""), [])
            images.append({"container": container.get("name"), "image": image,
                           "short": short_image(image, known), "tags": known})
        created = _epoch(deployment.get("createdAt"))
        seen = set()
        target_groups = []
        for binding in service.get("loadBalancers") or []:
            tg = binding.get("targetGroupArn")
            if tg and tg in health and tg not in seen:
                seen.add(tg)
                target_groups.append(health[tg])
        recent = []
        for event in (service.get("events") or [])[:events]:
            at = _epoch(event.get("createdAt"))
            recent.append({"created_at": _iso(at), "age_seconds": None if at is None else max(0, int(now - at)),
                           "message": event.get("message")})
        return {
            "name": service.get("serviceName"),
            "arn": service.get("serviceArn"),
            "status": service.get("status"),
            "task_definition": arn,
            "revision": _revision(arn) if arn else None,
            "images": images,
            "running": service.get("runningCount", 0),
            "pending": service.get("pendingCount", 0),
            "desired": service.get("desiredCount", 0),
            "deployment": {
                "id": deployment.get("id"),
                "status": deployment.get("status"),
                "rollout_state": deployment.get("rolloutState"),
                "rollout_state_reason": deployment.get("rolloutStateReason"),
                "created_at": _iso(created),
                "age_seconds": None if created is None else max(0, int(now - created)),
            },
            "deployment_count": len(service.get("deployments") or []),
            "failed_tasks": failed.get(service.get("serviceName") or "", 0),
            "target_groups": target_groups,
            "events": recent,
        }
