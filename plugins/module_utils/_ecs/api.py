# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One method per AWS call for ECS and the services ECS work leans on (CloudWatch Logs,
Application Auto Scaling).  Shared by ecs_stack and ecs_rolling_deploy.

Describe calls are batched the way the APIs allow: services ten at a time, tasks a hundred
at a time; list calls are paginated.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi, chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError

DESCRIBE_SERVICES_BATCH = 10
DESCRIBE_TASKS_BATCH = 100
# ListTasks answers at most this many tasks a page.
LIST_TASKS_PAGE = 100


class EcsError(AwsApiError):
    """Anything that went wrong on the ECS side."""


class EcsApi(AwsApi):
    error = EcsError
    service = "ecs"

    @staticmethod
    def _token_names(operation: str):
        return ("nextToken", "nextToken")

    # clusters -----------------------------------------------------------------------------
    def describe_clusters(self, names: List[str]) -> Dict[str, Any]:
        """``{'clusters': [...], 'failures': [...]}`` with settings, configurations and tags."""
        return self.call("describe_clusters", clusters=names,
                         include=["SETTINGS", "CONFIGURATIONS", "TAGS"])

    def create_cluster(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_cluster", **kwargs)["cluster"]

    def update_cluster(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("update_cluster", **kwargs)["cluster"]

    def put_cluster_capacity_providers(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("put_cluster_capacity_providers", **kwargs)["cluster"]

    def delete_cluster(self, cluster: str) -> Dict[str, Any]:
        return self.call("delete_cluster", cluster=cluster)["cluster"]

    def describe_capacity_providers(self, names: List[str]) -> List[Dict[str, Any]]:
        return self.call("describe_capacity_providers", capacityProviders=names, include=["TAGS"]).get(
            "capacityProviders", [])

    def create_capacity_provider(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_capacity_provider", **kwargs)["capacityProvider"]

    def update_capacity_provider(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("update_capacity_provider", **kwargs)["capacityProvider"]

    def delete_capacity_provider(self, name: str) -> Dict[str, Any]:
        return self.call("delete_capacity_provider", capacityProvider=name)["capacityProvider"]

    # services -----------------------------------------------------------------------------
    def describe_services(self, cluster: str, names: List[str]) -> Dict[str, List[Dict[str, Any]]]:
        """All named services, ten per call; ``{'services': [...], 'failures': [...]}``."""
        services: List[Dict[str, Any]] = []
        failures: List[Dict[str, Any]] = []
        for batch in chunks(list(names), DESCRIBE_SERVICES_BATCH):
            page = self.call("describe_services", cluster=cluster, services=batch, include=["TAGS"])
            services.extend(page.get("services", []))
            failures.extend(page.get("failures", []))
        return {"services": services, "failures": failures}

    def list_services(self, cluster: str) -> List[str]:
        return self.paginate("list_services", "serviceArns", cluster=cluster)

    def create_service(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_service", **kwargs)["service"]

    def update_service(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("update_service", **kwargs)["service"]

    def delete_service(self, cluster: str, service: str, force: bool = False) -> Dict[str, Any]:
        return self.call("delete_service", cluster=cluster, service=service, force=force)["service"]

    def list_service_deployments(self, cluster: str, service: str, **kwargs: Any) -> List[Dict[str, Any]]:
        return self.paginate("list_service_deployments", "serviceDeployments", cluster=cluster,
                             service=service, **kwargs)

    def describe_service_deployments(self, arns: List[str]) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for batch in chunks(list(arns), 20):
            out.extend(self.call("describe_service_deployments", serviceDeploymentArns=batch).get(
                "serviceDeployments", []))
        return out

    def continue_service_deployment(self, arn: str, hook_id: str, action: str) -> str:
        """Answer a PAUSE lifecycle hook of a service deployment: ``CONTINUE`` or ``ROLLBACK``."""
        return self.call("continue_service_deployment", serviceDeploymentArn=arn, hookId=hook_id,
                         action=action).get("serviceDeploymentArn", arn)

    def stop_service_deployment(self, arn: str, stop_type: str = "ROLLBACK") -> str:
        """Stop a service deployment in progress (``ROLLBACK`` returns the service to its source revision)."""
        return self.call("stop_service_deployment", serviceDeploymentArn=arn, stopType=stop_type).get(
            "serviceDeploymentArn", arn)

    # task definitions ---------------------------------------------------------------------
    def describe_task_definition(self, task_definition: str) -> Dict[str, Any]:
        """``{'taskDefinition': {...}, 'tags': [...]}``."""
        return self.call("describe_task_definition", taskDefinition=task_definition, include=["TAGS"])

    def register_task_definition(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("register_task_definition", **kwargs)["taskDefinition"]

    def deregister_task_definition(self, task_definition: str) -> Dict[str, Any]:
        return self.call("deregister_task_definition", taskDefinition=task_definition)["taskDefinition"]

    def list_task_definitions(self, family: str, status: str = "ACTIVE", sort: str = "DESC") -> List[str]:
        return self.paginate("list_task_definitions", "taskDefinitionArns", familyPrefix=family,
                             status=status, sort=sort)

    # tasks --------------------------------------------------------------------------------
    def list_tasks(self, cluster: str, desired_status: Optional[str] = None, **kwargs: Any) -> List[str]:
        if desired_status:
            kwargs["desiredStatus"] = desired_status
        return self.paginate("list_tasks", "taskArns", cluster=cluster, **kwargs)

    def list_cluster_tasks(self, cluster: str, desired_status: Optional[str] = None) -> Optional[List[str]]:
        """Every task of ``cluster`` (RUNNING, or ``desired_status``) when they fit in one page of ListTasks (100 tasks),
        else None: one call tells a cluster of one application from a busy shared one."""
        kwargs: Dict[str, Any] = {"cluster": cluster, "maxResults": LIST_TASKS_PAGE}
        if desired_status:
            kwargs["desiredStatus"] = desired_status
        page = self.call("list_tasks", **kwargs)
        return None if page.get("nextToken") else list(page.get("taskArns") or [])

    def describe_tasks(self, cluster: str, arns: List[str]) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for batch in chunks(list(arns), DESCRIBE_TASKS_BATCH):
            out.extend(self.call("describe_tasks", cluster=cluster, tasks=batch).get("tasks", []))
        return out

    def run_task(self, **kwargs: Any) -> Dict[str, Any]:
        """``{'tasks': [...], 'failures': [...]}``."""
        return self.call("run_task", **kwargs)

    def stop_task(self, cluster: str, task: str, reason: str) -> Dict[str, Any]:
        return self.call("stop_task", cluster=cluster, task=task, reason=reason)["task"]

    # tags ---------------------------------------------------------------------------------
    def tag_resource(self, arn: str, tags: Dict[str, str]) -> None:
        self.call("tag_resource", resourceArn=arn, tags=[{"key": k, "value": v} for k, v in tags.items()])

    def untag_resource(self, arn: str, keys: List[str]) -> None:
        self.call("untag_resource", resourceArn=arn, tagKeys=keys)


class LogsApi(AwsApi):
    """CloudWatch Logs, read only: the lines containers wrote (cloudwatch_stack owns the log groups)."""

    error = EcsError
    service = "logs"

    @staticmethod
    def _token_names(operation: str):
        return ("nextToken", "nextToken")

    def get_log_events(self, group: str, stream: str, limit: int = 50) -> List[Dict[str, Any]]:
        return self.call("get_log_events", logGroupName=group, logStreamName=stream, limit=limit,
                         startFromHead=False).get("events", [])

    def filter_log_events(self, group: str, stream_prefix: Optional[str] = None, start_ms: Optional[int] = None,
                          end_ms: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Every event of ``group`` (streams starting with ``stream_prefix``) in [start_ms, end_ms], page by page.

        Both bounds are inclusive, as AWS documents them; a page may be empty and still carry a
        ``nextToken``, so paging stops only when no token comes back.
        """
        kwargs: Dict[str, Any] = {"logGroupName": group}
        if stream_prefix:
            kwargs["logStreamNamePrefix"] = stream_prefix
        if start_ms is not None:
            kwargs["startTime"] = start_ms
        if end_ms is not None:
            kwargs["endTime"] = end_ms
        return self.iter_pages("filter_log_events", "events", **kwargs)


class AppAutoscalingApi(AwsApi):
    """Application Auto Scaling for ECS services (scalable targets and policies)."""

    error = EcsError
    service = "application-autoscaling"

    def describe_scalable_targets(self, resource_ids: List[str]) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for batch in chunks(list(resource_ids), 50):
            out.extend(self.paginate("describe_scalable_targets", "ScalableTargets", ServiceNamespace="ecs",
                                     ResourceIds=batch))
        return out

    def register_scalable_target(self, **kwargs: Any) -> None:
        self.call("register_scalable_target", ServiceNamespace="ecs", **kwargs)

    def deregister_scalable_target(self, resource_id: str) -> None:
        self.call("deregister_scalable_target", ServiceNamespace="ecs", ResourceId=resource_id,
                  ScalableDimension="ecs:service:DesiredCount")

    def describe_scaling_policies(self, resource_id: str) -> List[Dict[str, Any]]:
        return self.paginate("describe_scaling_policies", "ScalingPolicies", ServiceNamespace="ecs",
                             ResourceId=resource_id)

    def put_scaling_policy(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("put_scaling_policy", ServiceNamespace="ecs", **kwargs)

    def delete_scaling_policy(self, name: str, resource_id: str) -> None:
        self.call("delete_scaling_policy", ServiceNamespace="ecs", PolicyName=name, ResourceId=resource_id,
                  ScalableDimension="ecs:service:DesiredCount")

    def describe_all_scaling_policies(self) -> List[Dict[str, Any]]:
        """Every ECS scaling policy of the account and region, fifty per page.

        Cheaper than one call per service once several services are autoscaled.
        """
        return self.paginate("describe_scaling_policies", "ScalingPolicies", ServiceNamespace="ecs", MaxResults=50)


class AutoScalingApi(AwsApi):
    """EC2 Auto Scaling, for the groups behind capacity providers."""

    error = EcsError
    service = "autoscaling"

    def describe_auto_scaling_groups(self, names: List[str]) -> List[Dict[str, Any]]:
        out: List[Dict[str, Any]] = []
        for batch in chunks(list(names), 50):
            out.extend(self.paginate("describe_auto_scaling_groups", "AutoScalingGroups", AutoScalingGroupNames=batch))
        return out

    def update_auto_scaling_group(self, **kwargs: Any) -> None:
        self.call("update_auto_scaling_group", **kwargs)
