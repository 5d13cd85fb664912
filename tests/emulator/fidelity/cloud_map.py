"""AWS Cloud Map as ECS service discovery uses it.

Where moto's servicediscovery differs from the Cloud Map API Reference (each fix has a test in
tests/integration/emulator/test_cloud_map.py that fails on plain moto):

* ``DeleteService`` of a service with registered instances fails with ResourceInUse (moto deletes
  it); of an unknown service, ServiceNotFound (moto answers success);
* ``DeleteNamespace`` of a namespace that still has services fails with ResourceInUse;
* ``RegisterInstance`` with an instance id already registered updates that instance (moto adds a
  second one);
* an instance of a service with ``HealthCheckCustomConfig`` starts as ``AWS_INIT_HEALTH_STATUS``
  says (HEALTHY when absent); ``UpdateInstanceCustomHealthStatus`` on a service without custom
  health checks fails with CustomHealthNotFound, on an unknown instance with InstanceNotFound.

``EcsRegistrations`` is what ECS does for a service with ``serviceRegistries`` ("Use service
discovery to connect Amazon ECS services with DNS names"): each RUNNING task is registered as an
instance whose id is the task id, with AWS_INSTANCE_IPV4 (the task's ENI address in awsvpc mode,
the container instance's private address in bridge / host mode), AWS_INSTANCE_PORT (SRV records),
AVAILABILITY_ZONE, REGION, ECS_CLUSTER_NAME, ECS_SERVICE_NAME, ECS_TASK_DEFINITION_FAMILY and
AWS_INIT_HEALTH_STATUS; the task's container health is reported through the custom health status;
the instance is deregistered when the task begins to stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from . import moto_records
from .fixes import patch_method

if TYPE_CHECKING:
    from .ecs_sim import TaskSim

_INSTALLED = {"done": False}


def _error(code: str, message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def install() -> None:
    """Apply the Cloud Map fixes once per process."""
    if _INSTALLED["done"]:
        return
    _INSTALLED["done"] = True
    from moto.servicediscovery import models

    backend_cls = models.ServiceDiscoveryBackend

    def delete_service(original: Callable, self: Any, service_id: str) -> None:
        service = self.services.get(service_id)
        if service is None:
            raise _error("ServiceNotFound", "Service not found: %s" % service_id)
        if service.instances:
            raise _error("ResourceInUse", "Service %s contains registered instances; delete the instances before "
                                          "deleting the service" % service_id)
        return original(self, service_id)

    def delete_namespace(original: Callable, self: Any, namespace_id: str) -> str:
        if any(s.namespace_id == namespace_id for s in self.services.values()):
            raise _error("ResourceInUse", "Namespace %s has associated services, delete the services before "
                                          "deleting the namespace" % namespace_id)
        return original(self, namespace_id)

    def register_instance(original: Callable, self: Any, service_id: str, instance_id: str, creator_request_id: str,
                          attributes: Dict[str, str]) -> str:
        service = self.get_service(service_id)
        service.instances[:] = [i for i in service.instances if i.instance_id != instance_id]
        operation = original(self, service_id, instance_id, creator_request_id, attributes)
        if service.health_check_custom_config is not None:
            [instance] = [i for i in service.instances if i.instance_id == instance_id]
            instance.health_status = (attributes or {}).get("AWS_INIT_HEALTH_STATUS") or "HEALTHY"
        return operation

    def update_health(original: Callable, self: Any, service_id: str, instance_id: str, status: str) -> None:
        service = self.get_service(service_id)
        if service.health_check_custom_config is None:
            raise _error("CustomHealthNotFound", "Health check for service %s is not a custom health check"
                         % service_id)
        self.get_instance(service_id, instance_id)
        return original(self, service_id, instance_id, status)

    patch_method(backend_cls, "delete_service", delete_service)
    patch_method(backend_cls, "delete_namespace", delete_namespace)
    patch_method(backend_cls, "register_instance", register_instance)
    patch_method(backend_cls, "update_instance_custom_health_status", update_health)


class EcsRegistrations:
    """ECS registering a service's tasks in the Cloud Map services of its ``serviceRegistries``."""

    def register(self, sim: "TaskSim", healthy: Optional[bool]) -> None:
        """The task reached RUNNING: one instance per registry (``healthy`` None: no container health check)."""
        service = sim.service
        if service is None:
            return
        for registry in service.service_registries:
            attributes = self._attributes(sim, registry, healthy)
            if attributes is None:
                continue
            moto_records.register_cloud_map_instance(service.account_id, service.region, registry["registryArn"],
                                                     sim.task.id, attributes)
            sim.registered_in.append(registry["registryArn"])

    def health_changed(self, sim: "TaskSim", status: str) -> None:
        """The task's container health changed: ECS updates the custom health status."""
        service = sim.service
        if service is None or status not in ("HEALTHY", "UNHEALTHY"):
            return
        for arn in sim.registered_in:
            moto_records.set_cloud_map_health(service.account_id, service.region, arn, sim.task.id, status)

    def deregister(self, sim: "TaskSim") -> None:
        service = sim.service
        if service is None:
            return
        for arn in sim.registered_in:
            moto_records.deregister_cloud_map_instance(service.account_id, service.region, arn, sim.task.id)
        sim.registered_in = []

    def _attributes(self, sim: "TaskSim", registry: Dict[str, Any], healthy: Optional[bool]) -> Optional[Dict[str, str]]:
        service = sim.service
        assert service is not None
        task = sim.task
        address = _eni_address(task)
        if address is None and sim.instance is not None:
            address = moto_records.ec2_private_address(sim.instance.backend, sim.instance_id)
        if address is None:
            return None
        attributes = {
            "AWS_INSTANCE_IPV4": address,
            "AVAILABILITY_ZONE": sim.availability_zone or task.availability_zone,
            "REGION": service.region,
            "ECS_CLUSTER_NAME": service.cluster_name,
            "ECS_SERVICE_NAME": service.name,
            "ECS_TASK_DEFINITION_FAMILY": sim.task_definition.family,
            "AWS_INIT_HEALTH_STATUS": "UNHEALTHY" if healthy is False else "HEALTHY",
        }
        port = _port(task, registry)
        if port is not None:
            attributes["AWS_INSTANCE_PORT"] = str(port)
        return attributes


def _eni_address(task: Any) -> Optional[str]:
    for attachment in getattr(task, "attachments", []) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                return detail["value"]
    return None


def _port(task: Any, registry: Dict[str, Any]) -> Optional[int]:
    """SRV port: ``port`` (awsvpc), else the host port bound to containerName:containerPort."""
    if registry.get("port"):
        return int(registry["port"])
    name, container_port = registry.get("containerName"), registry.get("containerPort")
    if not name or not container_port:
        return None
    for container in task.containers:
        if container["name"] != name:
            continue
        for binding in container.get("networkBindings", []):
            if int(binding.get("containerPort", -1)) == int(container_port):
                return int(binding["hostPort"])
        if container.get("networkInterfaces"):
            return int(container_port)
    return None
