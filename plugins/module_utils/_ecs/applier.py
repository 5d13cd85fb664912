# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Execute ecs_stack's plan: one method per action type (actions.py), in the plan's order.

The applier keeps what the writes answer and later writes or the report need: the cluster
created, the task definition ARNs registered (or reused), the services as ECS describes them
after each write.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.progress import ProgressLog
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Verdict, Waiter, raise_if_failed
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs import actions as act
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import DIMENSION
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import UNKNOWN
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import create_cluster_kwargs
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import create_kwargs, is_live, update_kwargs
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.state import Apis, Current


IN_USE_ATTEMPTS = 3


class Applier:
    """Runs a plan's actions against AWS and records their answers."""

    def __init__(self, apis: Apis, cluster_name: str, current: Current, waiter: Waiter,
                 reused: Optional[Mapping[str, str]] = None, registries: Optional[Mapping[str, str]] = None,
                 progress: Optional[ProgressLog] = None) -> None:
        self.apis = apis
        self.progress = progress or ProgressLog()
        # The namespace (cloudmap.current_namespace) and the Cloud Map service ARNs by ECS service.
        self.namespace: Optional[Dict[str, Any]] = dict(current.namespace) if current.namespace else None
        self.registry_arns: Dict[str, str] = dict(registries or {})
        self.ecs = apis.ecs
        self.cluster_name = cluster_name
        self.current = current
        self.waiter = waiter
        self.cluster: Optional[Dict[str, Any]] = current.cluster
        self.registered: Dict[str, str] = dict(reused or {})
        self.described: Dict[str, Dict[str, Any]] = {}
        self._methods: Dict[type, Callable[[Any], None]] = {
            act.ProtectGroupInstances: self.protect_group_instances,
            act.CreateCapacityProvider: self.create_capacity_provider,
            act.UpdateCapacityProvider: self.update_capacity_provider,
            act.TagCapacityProvider: self.tag_capacity_provider,
            act.DeleteCapacityProvider: self.delete_capacity_provider,
            act.CreateCluster: self.create_cluster,
            act.UpdateClusterSettings: self.update_cluster_settings,
            act.UpdateServiceConnectDefaults: self.update_service_connect_defaults,
            act.PutClusterCapacityProviders: self.put_cluster_capacity_providers,
            act.TagCluster: self.tag_cluster,
            act.DeleteCluster: self.delete_cluster,
            act.RegisterTaskDefinition: self.register_task_definition,
            act.CreateService: self.create_service,
            act.UpdateService: self.update_service,
            act.TagService: self.tag_service,
            act.DeleteService: self.delete_service,
            act.WaitServicesInactive: self.wait_services_inactive,
            act.CreateNamespace: self.create_namespace,
            act.UpdateNamespace: self.update_namespace,
            act.TagNamespace: self.tag_namespace,
            act.DeleteNamespace: self.delete_namespace,
            act.CreateDiscoveryService: self.create_discovery_service,
            act.UpdateDiscoveryService: self.update_discovery_service,
            act.DeleteDiscoveryService: self.delete_discovery_service,
            act.RegisterScalableTarget: self.register_scalable_target,
            act.PutScalingPolicy: self.put_scaling_policy,
            act.DeleteScalingPolicy: self.delete_scaling_policy,
            act.DeregisterScalableTarget: self.deregister_scalable_target,
        }

    def apply(self, actions: List[act.StackAction]) -> None:
        """Every action, in order."""
        for action in actions:
            self._methods[type(action)](action)

    # Auto Scaling groups and capacity providers ------------------------------------------------
    def protect_group_instances(self, action: act.ProtectGroupInstances) -> None:
        self.apis.auto_scaling.update_auto_scaling_group(  # type: ignore[union-attr]
            AutoScalingGroupName=action.group, NewInstancesProtectedFromScaleIn=True)

    def create_capacity_provider(self, action: act.CreateCapacityProvider) -> None:
        after = action.provider
        provider: Dict[str, Any] = {"autoScalingGroupArn": after["autoScalingGroupArn"]}
        for key in ("managedScaling", "managedTerminationProtection", "managedDraining"):
            if after.get(key):
                provider[key] = copy.deepcopy(after[key])
        kwargs: Dict[str, Any] = {"name": action.name, "autoScalingGroupProvider": provider}
        if after.get("tags"):
            kwargs["tags"] = [{"key": k, "value": v} for k, v in sorted(after["tags"].items())]
        self.ecs.create_capacity_provider(**kwargs)

    def update_capacity_provider(self, action: act.UpdateCapacityProvider) -> None:
        self.ecs.update_capacity_provider(name=action.name, autoScalingGroupProvider=copy.deepcopy(action.provider))

    def tag_capacity_provider(self, action: act.TagCapacityProvider) -> None:
        arn = self.ecs.describe_capacity_providers([action.name])[0]["capacityProviderArn"]
        self._retag(arn, action.before, action.after)

    def delete_capacity_provider(self, action: act.DeleteCapacityProvider) -> None:
        deleted = self.ecs.delete_capacity_provider(action.name)
        # Deletion is asynchronous; one that cannot happen says so in the answer.
        if deleted.get("updateStatus") == "DELETE_FAILED":
            raise EcsError("capacity provider %s was not deleted: %s" % (action.name, deleted.get("updateStatusReason")))

    # cluster -------------------------------------------------------------------------------------
    def create_cluster(self, action: act.CreateCluster) -> None:
        self.cluster = self.ecs.create_cluster(**create_cluster_kwargs(self.cluster_name, copy.deepcopy(action.document)))

    def update_cluster_settings(self, action: act.UpdateClusterSettings) -> None:
        self.ecs.update_cluster(cluster=self.cluster_name,
                                settings=[{"name": k, "value": v} for k, v in sorted(action.settings.items())])

    def update_service_connect_defaults(self, action: act.UpdateServiceConnectDefaults) -> None:
        self.ecs.update_cluster(cluster=self.cluster_name, serviceConnectDefaults=dict(action.defaults))

    def put_cluster_capacity_providers(self, action: act.PutClusterCapacityProviders) -> None:
        self.ecs.put_cluster_capacity_providers(
            cluster=self.cluster_name, capacityProviders=list(action.providers),
            defaultCapacityProviderStrategy=[dict(s) for s in action.strategy])

    def tag_cluster(self, action: act.TagCluster) -> None:
        self._retag(action.arn, action.before, action.after)

    def delete_cluster(self, action: act.DeleteCluster) -> None:
        self.ecs.delete_cluster(self.cluster_name)

    def _retag(self, arn: str, before: Mapping[str, str], after: Mapping[str, str]) -> None:
        removed = sorted(set(before) - set(after))
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if removed:
            self.ecs.untag_resource(arn, removed)
        if changed:
            self.ecs.tag_resource(arn, changed)

    # task definitions and services ---------------------------------------------------------------
    def register_task_definition(self, action: act.RegisterTaskDefinition) -> None:
        registered = self.ecs.register_task_definition(**copy.deepcopy(action.definition))
        self.registered[action.service] = registered["taskDefinitionArn"]

    def _with_registry(self, service: str, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """The Cloud Map service's ARN where the plan did not know it yet (created in this run)."""
        for entry in kwargs.get("serviceRegistries") or []:
            if entry.get("registryArn") == UNKNOWN:
                entry["registryArn"] = self.registry_arns[service]
        return kwargs

    def create_service(self, action: act.CreateService) -> None:
        kwargs = create_kwargs(self.cluster_name, action.name, action.document, self.registered[action.name])
        self.described[action.name] = self.ecs.create_service(**self._with_registry(action.name, kwargs))

    def update_service(self, action: act.UpdateService) -> None:
        kwargs = self._with_registry(action.name, update_kwargs(action.changes))
        if action.with_revision:
            kwargs["taskDefinition"] = self.registered[action.name]
        self.described[action.name] = self.ecs.update_service(cluster=self.cluster_name, service=action.name, **kwargs)

    def tag_service(self, action: act.TagService) -> None:
        self._retag(action.arn, action.before, action.after)

    def delete_service(self, action: act.DeleteService) -> None:
        if action.scale_down:
            self.ecs.update_service(cluster=self.cluster_name, service=action.name, desiredCount=0)
        self.described[action.name] = self.ecs.delete_service(self.cluster_name, action.name)

    def wait_services_inactive(self, action: act.WaitServicesInactive) -> None:
        names = list(action.names)

        def describe() -> Dict[str, Any]:
            return self.ecs.describe_services(self.cluster_name, names)

        def predicate(state: Mapping[str, Any]) -> Verdict:
            services = state.get("services") or []
            for svc in services:
                events = svc.get("events") or []
                self.progress.add(svc["serviceName"], "deletion", "waiting" if is_live(svc) else "done", svc.get("status"),
                                  running=svc.get("runningCount"), desired=svc.get("desiredCount"),
                                  event=events[0].get("message") if events else None)
            live = sorted({s["serviceName"] for s in services if is_live(s)})
            if live:
                return Verdict.waiting("still draining: %s" % ", ".join(live))
            return Verdict.done("services inactive")

        outcome = self.waiter.wait(describe, predicate, what="services to become INACTIVE")
        raise_if_failed(outcome, EcsError)
        for svc in outcome.state.get("services") or []:
            self.described[svc["serviceName"]] = svc

    # Cloud Map -----------------------------------------------------------------------------------
    def _wait_operation(self, operation_id: str, subject: str, purpose: str) -> Dict[str, Any]:
        """Follow a Cloud Map operation (SUBMITTED, PENDING) until SUCCESS; FAIL is an error."""
        cloud_map = self.apis.cloud_map

        def predicate(operation: Mapping[str, Any]) -> Verdict:
            status = operation.get("Status")
            final = "done" if status == "SUCCESS" else "failed" if status == "FAIL" else "waiting"
            self.progress.add(subject, purpose, final, "operation %s" % status)
            if status == "SUCCESS":
                return Verdict.done("operation %s succeeded" % operation_id)
            if status == "FAIL":
                return Verdict.failed("Cloud Map operation %s (%s of %s) failed: %s: %s" % (
                    operation_id, operation.get("Type"), subject, operation.get("ErrorCode"), operation.get("ErrorMessage")))
            return Verdict.waiting("operation %s" % status)

        outcome = self.waiter.wait(lambda: cloud_map.get_operation(operation_id), predicate,  # type: ignore[union-attr]
                                   what="Cloud Map operation %s (%s of %s)" % (operation_id, purpose, subject))
        raise_if_failed(outcome, EcsError)
        return outcome.state

    def create_namespace(self, action: act.CreateNamespace) -> None:
        cloud_map = self.apis.cloud_map
        operation_id = cloud_map.create_private_dns_namespace(action.name, action.vpc, action.description,  # type: ignore[union-attr]
                                                              action.tags)
        operation = self._wait_operation(operation_id, action.name, "namespace creation")
        namespace_id = (operation.get("Targets") or {}).get("NAMESPACE")
        found = cloud_map.get_namespace(namespace_id)  # type: ignore[union-attr]
        self.namespace = {"name": action.name, "id": namespace_id, "arn": found.get("Arn"),
                          "description": found.get("Description") or ""}

    def update_namespace(self, action: act.UpdateNamespace) -> None:
        operation_id = self.apis.cloud_map.update_private_dns_namespace(action.namespace_id, action.description)  # type: ignore[union-attr]
        self._wait_operation(operation_id, action.report.name, "namespace update")  # type: ignore[union-attr]
        if self.namespace is not None:
            self.namespace["description"] = action.description

    def tag_namespace(self, action: act.TagNamespace) -> None:
        cloud_map = self.apis.cloud_map
        removed = sorted(set(action.before) - set(action.after))
        changed = {k: v for k, v in action.after.items() if action.before.get(k) != v}
        if removed:
            cloud_map.untag_resource(action.arn, removed)  # type: ignore[union-attr]
        if changed:
            cloud_map.tag_resource(action.arn, changed)  # type: ignore[union-attr]

    def delete_namespace(self, action: act.DeleteNamespace) -> None:
        operation_id = self.apis.cloud_map.delete_namespace(action.namespace_id)  # type: ignore[union-attr]
        self._wait_operation(operation_id, action.report.name, "namespace deletion")  # type: ignore[union-attr]

    def create_discovery_service(self, action: act.CreateDiscoveryService) -> None:
        namespace_id = action.namespace_id or (self.namespace or {})["id"]
        created = self.apis.cloud_map.create_service(NamespaceId=namespace_id, Name=action.name,  # type: ignore[union-attr]
                                                     **{k: copy.deepcopy(v) for k, v in action.document.items() if k != "Name"})
        self.registry_arns[action.service] = created["Arn"]

    def update_discovery_service(self, action: act.UpdateDiscoveryService) -> None:
        operation_id = self.apis.cloud_map.update_service(action.service_id, copy.deepcopy(action.document))  # type: ignore[union-attr]
        self._wait_operation(operation_id, action.report.name, "Cloud Map service update")  # type: ignore[union-attr]

    def delete_discovery_service(self, action: act.DeleteDiscoveryService) -> None:
        """Once ECS deregistered every task (Cloud Map refuses with ResourceInUse before), delete."""
        cloud_map = self.apis.cloud_map

        def predicate(instances: List[Dict[str, Any]]) -> Verdict:
            self.progress.add(action.service, "Cloud Map deregistration", "waiting" if instances else "done",
                              "%d instances registered" % len(instances))
            if instances:
                return Verdict.waiting("%d instances still registered" % len(instances))
            return Verdict.done("no instance registered")

        for attempt in range(1, IN_USE_ATTEMPTS + 1):
            outcome = self.waiter.wait(lambda: cloud_map.list_instances(action.service_id), predicate,  # type: ignore[union-attr]
                                       what="instances of Cloud Map service %s to be deregistered" % action.service)
            raise_if_failed(outcome, EcsError)
            try:
                cloud_map.delete_service(action.service_id)  # type: ignore[union-attr]
                return
            except EcsError as exc:
                # A task registered between the look and the delete: look again.
                if exc.code != "ResourceInUse" or attempt == IN_USE_ATTEMPTS:
                    raise

    # Application Auto Scaling --------------------------------------------------------------------
    def register_scalable_target(self, action: act.RegisterScalableTarget) -> None:
        self.apis.app_autoscaling.register_scalable_target(
            ResourceId=action.resource_id, ScalableDimension=DIMENSION,
            MinCapacity=action.min_capacity, MaxCapacity=action.max_capacity)

    def put_scaling_policy(self, action: act.PutScalingPolicy) -> None:
        self.apis.app_autoscaling.put_scaling_policy(PolicyName=action.policy_name, ResourceId=action.resource_id,
                                                     ScalableDimension=DIMENSION, **copy.deepcopy(action.policy))

    def delete_scaling_policy(self, action: act.DeleteScalingPolicy) -> None:
        self.apis.app_autoscaling.delete_scaling_policy(action.policy_name, action.resource_id)

    def deregister_scalable_target(self, action: act.DeregisterScalableTarget) -> None:
        self.apis.app_autoscaling.deregister_scalable_target(action.resource_id)
