"""The one adapter between the simulation's model and moto's records.

The simulation (``ecs_sim``) keeps services, deployments, tasks and targets as classes of its own;
what API answers show lives in moto's records. Everything that creates, reads or writes those
records on the simulation's behalf is here, through moto's public attributes and setters.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any, Dict, List, Optional

if TYPE_CHECKING:
    from .ecs_sim import Deployment, ServiceSim, Simulation, TaskSim

DYNAMIC_PORTS = (32768, 60999)
# moto progresses a task's status each time it is described ("manual" progression after this
# many describes); the simulation sets every status itself.
_NEVER = 10 ** 15


def utcnow() -> Any:
    from moto.core.utils import utcnow as moto_utcnow

    return moto_utcnow()


def hold_task_statuses() -> None:
    """Stop moto from moving tasks on by itself (its state manager's documented progression)."""
    from moto.moto_api import state_manager

    state_manager.set_transition("ecs::task", {"progression": "manual", "times": _NEVER})


def set_task_status(task: Any, status: str) -> None:
    task.last_status = status


def release_eni(task: Any) -> None:
    """Mark the task's ENI attachment deleted and delete the ENI (AWS does once the task stopped)."""
    from moto.ec2.models import ec2_backends

    for attachment in getattr(task, "attachments", []) or []:
        attachment["status"] = "DELETED"
        for detail in attachment.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                try:
                    ec2_backends[task._account_id][task.region_name].delete_network_interface(detail["value"])
                except Exception:  # already gone: AWS deletes it once, quietly
                    pass


def ec2_instance_running(instance_id: str) -> Optional[bool]:
    """Whether an EC2 instance is running (None: no such instance)."""
    from moto.ec2.models import ec2_backends

    for account in list(ec2_backends.values()):
        for backend in list(account.values()):
            instance = backend.get_instance_by_id(instance_id) if hasattr(backend, "get_instance_by_id") else None
            if instance is not None:
                return instance.state == "running"
    return None


def target_group(account_id: str, region: str, arn: Optional[str]) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account_id][region].target_groups.get(arn)


def forget_task(task: Any) -> None:
    """Drop a stopped task from moto's records (AWS forgets stopped tasks after a while)."""
    (task._backend.tasks.get(task.cluster_name) or {}).pop(task.task_arn, None)


def set_cluster_counts(task: Any, running: int, pending: int) -> None:
    cluster = task._backend.clusters.get(task.cluster_name)
    if cluster is not None:
        cluster.running_tasks_count = running
        cluster.pending_tasks_count = pending


class Unplaceable(Exception):
    """No container instance can take the task (the message is AWS's reason)."""


def container_instance(backend: Any, task: Any) -> Any:
    """The moto container instance a task was placed on (None: Fargate)."""
    if not task.container_instance_arn:
        return None
    return (backend.container_instances.get(task.cluster_name) or {}).get(task.container_instance_arn.split("/")[-1])


def launch_service_tasks(sim: "Simulation", service: "ServiceSim", deployment: "Deployment", count: int) -> List["TaskSim"]:
    """Place ``count`` tasks of ``deployment`` (AWS's spread over instances / subnets)."""
    from moto.ecs.models import Task

    backend = service.backend
    cluster = backend._get_cluster(service.cluster_name)
    td = backend.describe_task_definition(deployment.task_definition)
    instances: List[Any] = []
    if not service.fargate:
        instances = [ci for ci in (backend.container_instances.get(cluster.name) or {}).values() if ci.status == "ACTIVE"]
        if not instances:
            raise Unplaceable("No Container Instances were found in your cluster.")
    started = []
    for index in range(count):
        network = None
        if td.network_mode == "awsvpc":
            network = _rotated(deployment.network_configuration or service.network_configuration, len(sim.tasks))
        instance = None
        if instances:
            instance = min(instances, key=lambda ci: sum(
                1 for t in sim.tasks.values() if t.live and t.task.container_instance_arn == ci.container_instance_arn))
        provider = None
        if service.capacity_provider_strategy:
            provider = service.capacity_provider_strategy[0].get("capacityProvider")
        task = Task(cluster, td, instance.container_instance_arn if instance else None,
                    backend._calculate_task_resource_requirements(td), backend=backend,
                    group="service:%s" % service.name, launch_type=service.launch_type or "",
                    started_by=deployment.id, networking_configuration=network,
                    platform_version="1.4.0" if service.fargate else None, capacity_provider_name=provider)
        task.id = uuid.uuid4().hex
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        started.append(sim.adopt_task(task, td, service, deployment,
                                      instance_id=instance.ec2_instance_id if instance is not None else None,
                                      availability_zone=subnet_zone(task)))
    service.unplaceable_reported = False
    return started


def _rotated(network: Optional[Dict[str, Any]], offset: int) -> Optional[Dict[str, Any]]:
    if not network:
        return network
    config = dict(network.get("awsvpcConfiguration") or {})
    subnets = list(config.get("subnets") or [])
    if subnets:
        shift = offset % len(subnets)
        config["subnets"] = subnets[shift:] + subnets[:shift]
    config.setdefault("securityGroups", [])
    return {"awsvpcConfiguration": config}


def subnet_zone(task: Any) -> Optional[str]:
    """The availability zone of the subnet the task's ENI landed in."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[task._account_id][task.region_name]
    for attachment in getattr(task, "attachments", []) or []:
        for detail in attachment.get("details", []):
            if detail.get("name") == "subnetId":
                try:
                    return ec2.get_subnet(detail["value"]).availability_zone
                except Exception:  # subnet unknown to EC2: the region's first zone
                    return None
    return None


def dress_task(task: Any, task_definition: Any, sim: "Simulation", availability_zone: Optional[str]) -> None:
    """Give a moto task AWS's fields: containers, sizes, bindings, timestamps."""
    now = utcnow()
    task.created_at = now
    task.desired_status = "RUNNING"
    task.health_status = "UNKNOWN"
    task.connectivity = None
    task.stop_code = None
    task.version = 1
    task.cpu = task_definition.cpu or str(sum(int(c.get("cpu") or 0) for c in task_definition.container_definitions))
    memory = task_definition.memory or str(sum(
        int(c.get("memory") or c.get("memoryReservation") or 0) for c in task_definition.container_definitions))
    task.memory = memory
    task.availability_zone = availability_zone or "%sa" % task.region_name
    eni_ip = None
    attachment_id = None
    for attachment in getattr(task, "attachments", []) or []:
        attachment_id = attachment.get("id")
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                eni_ip = detail["value"]
    used_ports = {int(b["hostPort"]) for t in sim.tasks.values() if t.live
                  and t.task.container_instance_arn and t.task.container_instance_arn == task.container_instance_arn
                  for c in t.task.containers for b in c.get("networkBindings", [])}
    containers = []
    for definition in task_definition.container_definitions:
        container: Dict[str, Any] = {
            "containerArn": "arn:aws:ecs:%s:%s:container/%s/%s/%s" % (
                task.region_name, task._account_id, task.cluster_name, task.id, uuid.uuid4()),
            "taskArn": task.task_arn,
            "name": definition.get("name"),
            "image": definition.get("image"),
            "lastStatus": "PENDING",
            "healthStatus": "UNKNOWN",
            "cpu": str(definition.get("cpu") or 0),
            "essential": definition.get("essential", True),
            "networkBindings": [],
            "networkInterfaces": [],
        }
        if definition.get("memory") is not None:
            container["memory"] = str(definition["memory"])
        if definition.get("memoryReservation") is not None:
            container["memoryReservation"] = str(definition["memoryReservation"])
        if task_definition.network_mode == "awsvpc":
            if eni_ip:
                container["networkInterfaces"] = [{"attachmentId": attachment_id, "privateIpv4Address": eni_ip}]
        elif task_definition.network_mode in ("bridge", "host", None):
            for mapping in definition.get("portMappings") or []:
                container_port = int(mapping.get("containerPort", 0))
                host_port = int(mapping.get("hostPort") or 0)
                if task_definition.network_mode == "host":
                    host_port = container_port
                elif host_port == 0:
                    host_port = _dynamic_port(used_ports)
                used_ports.add(host_port)
                container["networkBindings"].append({"bindIP": "0.0.0.0", "containerPort": container_port,
                                                     "hostPort": host_port, "protocol": mapping.get("protocol", "tcp")})
        containers.append(container)
    task.containers = containers


def _dynamic_port(used: set) -> int:
    low, high = DYNAMIC_PORTS
    for _attempt in range(1000):
        port = random.randint(low, high)
        if port not in used:
            return port
    return low
