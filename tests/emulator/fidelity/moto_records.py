"""The one adapter between the simulation's model and moto's records.

The simulation (``ecs_sim``) keeps services, deployments, tasks and targets as classes of its own;
what API answers show lives in moto's records. Everything that creates, reads or writes those
records on the simulation's behalf is here, through moto's public attributes and setters.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Tuple

if TYPE_CHECKING:
    from .ecs_sim import Deployment, ServiceSim, Simulation, TaskSim

# bridge mode's dynamic host ports: "the ephemeral port range for your container instance operating
# system and Docker version ... listed on the instance under /proc/sys/net/ipv4/ip_local_port_range"
# (ECS API Reference, PortMapping hostPort); on the ECS-optimized Amazon Linux 2 / 2023 AMIs that is
# the kernel's default, 32768-60999.
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


def new_task(sim: "Simulation", backend: Any, cluster: Any, td: Any, group: str, instance: Any = None,
             launch_type: str = "", started_by: Optional[str] = None, network: Optional[Dict[str, Any]] = None,
             platform_version: Optional[str] = None, provider: Optional[str] = None,
             overrides: Optional[Dict[str, Any]] = None, tags: Optional[List[Dict[str, str]]] = None) -> Any:
    """A moto task record with an AWS task id (32 hex digits), in moto's task table."""
    from moto.ecs.models import Task

    if network is not None and instance is not None:
        network = _subnets_in_zone_first(network, instance.record.ec2_instance_id, backend)
    task = Task(cluster, td, instance.arn if instance is not None else None,
                backend._calculate_task_resource_requirements(td), backend=backend, group=group,
                overrides=overrides or {}, started_by=started_by or "", tags=tags or [], launch_type=launch_type,
                networking_configuration=network, platform_version=platform_version, capacity_provider_name=provider)
    task.id = uuid.uuid4().hex
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return task


def launch_service_tasks(sim: "Simulation", service: "ServiceSim", deployment: "Deployment", count: int) -> List["TaskSim"]:
    """Place ``count`` tasks of ``deployment``: over subnets (Fargate) or on container instances."""
    backend = service.backend
    cluster = backend._get_cluster(service.cluster_name)
    td = backend.describe_task_definition(deployment.task_definition)
    group = "service:%s" % service.name
    provider = None
    if service.capacity_provider_strategy:
        provider = service.capacity_provider_strategy[0].get("capacityProvider")
    started = []
    for _index in range(count):
        network = None
        if td.network_mode == "awsvpc":
            network = _rotated(deployment.network_configuration or service.network_configuration, len(sim.tasks))
        instance = None
        if not service.fargate:
            decision = sim.fleet.place(backend, cluster.name, td, group, *service.placement)
            if decision.instance is None:
                if not (provider and sim.fleet.waits_for_capacity(backend, provider)):
                    if started:
                        break
                    raise Unplaceable(decision.sentence())
            else:
                instance = sim.fleet.by_arn(decision.instance.arn)
        # AWS gives every service task a launch type, through a capacity provider too (FARGATE or EC2).
        launch_type = service.launch_type or ("FARGATE" if service.fargate else "EC2")
        task = new_task(sim, backend, cluster, td, group, instance, launch_type=launch_type,
                        started_by=deployment.id, network=network,
                        platform_version="1.4.0" if service.fargate else None, provider=provider)
        started.append(sim.adopt_task(task, td, service, deployment, instance=instance,
                                      availability_zone=task_zone(task, instance)))
    if started:
        service.unplaceable_reported = False
    return started


def _subnets_in_zone_first(network: Dict[str, Any], instance_id: str, backend: Any) -> Dict[str, Any]:
    """An awsvpc task on an instance gets its ENI in a subnet of the instance's zone."""
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    instance = ec2.get_instance_by_id(instance_id) if hasattr(ec2, "get_instance_by_id") else None
    config = dict(network.get("awsvpcConfiguration") or {})
    subnets = list(config.get("subnets") or [])
    if instance is None or not subnets:
        return network

    def zone(subnet_id: str) -> str:
        try:
            return ec2.get_subnet(subnet_id).availability_zone
        except Exception:  # unknown subnet: last
            return ""

    config["subnets"] = sorted(subnets, key=lambda s: zone(s) != instance.placement)
    return {"awsvpcConfiguration": config}


def task_zone(task: Any, instance: Any) -> Optional[str]:
    """The task's zone: its ENI's subnet's, else its container instance's."""
    zone = subnet_zone(task)
    if zone is None and instance is not None:
        zone = container_instance_attributes(instance.record).get("ecs.availability-zone")
    return zone


# container instances ---------------------------------------------------------------------------------
def ec2_instances() -> Iterator[Tuple[str, str, Any]]:
    """(account, region, instance) for every EC2 instance the emulator holds."""
    from moto.ec2.models import ec2_backends

    for account_id, account in list(dict.items(ec2_backends)):
        for region, backend in list(dict.items(account)):
            for instance in list(backend.all_instances()) if hasattr(backend, "all_instances") else []:
                yield account_id, region, instance


def ec2_instance(backend: Any, instance_id: str) -> Any:
    from moto.ec2.models import ec2_backends

    ec2 = ec2_backends[backend.account_id][backend.region_name]
    return ec2.get_instance_by_id(instance_id) if hasattr(ec2, "get_instance_by_id") else None


def instance_user_data(instance: Any) -> Optional[str]:
    data = getattr(instance, "user_data", None)
    if isinstance(data, (list, tuple)):
        data = data[0] if data else None
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    return data


def ecs_backend(account_id: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account_id][region]


def container_instance_records() -> Iterator[Tuple[Any, Any]]:
    from moto.ecs.models import ecs_backends

    for account in list(dict.values(ecs_backends)):
        for backend in list(dict.values(account)):
            for cluster_name, table in list(backend.container_instances.items()):
                if cluster_name == "orphaned":
                    continue
                for record in list(table.values()):
                    yield backend, record


def register_container_instance(backend: Any, cluster_name: str, instance_id: str) -> Any:
    return backend.register_container_instance(cluster_name, instance_id)


def deregister_container_instance(backend: Any, record: Any) -> None:
    """AWS: a deregistered container instance is INACTIVE and no longer listed."""
    record.status = "INACTIVE"
    record.agent_connected = False
    table = backend.container_instances.get(record.cluster_name) or {}
    table.pop(record.container_instance_arn.split("/")[-1], None)
    cluster = backend.clusters.get(record.cluster_name)
    if cluster is not None and cluster.registered_container_instances_count > 0:
        cluster.registered_container_instances_count -= 1


def _resource(name: str, value: Any) -> Dict[str, Any]:
    if isinstance(value, list):
        return {"name": name, "type": "STRINGSET", "doubleValue": 0.0, "longValue": 0, "integerValue": 0,
                "stringSetValue": [str(v) for v in value]}
    return {"name": name, "type": "INTEGER", "doubleValue": 0.0, "longValue": 0, "integerValue": int(value)}


def dress_container_instance(record: Any, cpu: int, memory: int, version: Dict[str, str]) -> None:
    """What the agent registers: CPU, MEMORY, its reserved PORTS; Linux attributes."""
    from .placement import RESERVED_PORTS

    ports = [str(p) for p in RESERVED_PORTS]
    record.registered_resources = [_resource("CPU", cpu), _resource("MEMORY", memory), _resource("PORTS", ports),
                                   _resource("PORTS_UDP", [])]
    record.remaining_resources = [dict(r, stringSetValue=list(r.get("stringSetValue", []))) if "stringSetValue" in r
                                  else dict(r) for r in record.registered_resources]
    record.version_info = dict(version)
    record.agent_connected = True
    attributes = dict(record.attributes)
    attributes["ecs.os-type"] = "linux"
    attributes["ecs.os-family"] = "LINUX"
    attributes["ecs.cpu-architecture"] = "x86_64"
    for capability in ("ecs.capability.task-eni", "com.amazonaws.ecs.capability.docker-remote-api.1.44",
                       "ecs.capability.container-health-check", "ecs.capability.container-ordering",
                       "com.amazonaws.ecs.capability.logging-driver.awslogs"):
        attributes[capability] = None
    record.attributes = attributes


def container_instance_attributes(record: Any) -> Dict[str, str]:
    return {k: v for k, v in (record.attributes or {}).items() if v is not None}


def set_container_instance_usage(record: Any, cpu: int, memory: int, ports: List[int], running: int, pending: int) -> None:
    from .placement import RESERVED_PORTS

    reserved = [str(p) for p in sorted(set(RESERVED_PORTS) | set(ports))]
    record.remaining_resources = [_resource("CPU", cpu), _resource("MEMORY", memory), _resource("PORTS", reserved),
                                  _resource("PORTS_UDP", [])]
    record.running_tasks_count = running
    record.pending_tasks_count = pending


def bound_host_ports(task: Any) -> set:
    return {int(b["hostPort"]) for c in task.containers for b in c.get("networkBindings", [])
            if b.get("protocol", "tcp") == "tcp"}


def auto_scaling_group(backend: Any, arn: str) -> Any:
    from moto.autoscaling.models import autoscaling_backends

    name = arn.split("autoScalingGroupName/", 1)[-1]
    return autoscaling_backends[backend.account_id][backend.region_name].autoscaling_groups.get(name)


def set_desired_capacity(group: Any, desired: int) -> None:
    """What managed scaling's target tracking does: SetDesiredCapacity on the group."""
    group.autoscaling_backend.set_desired_capacity(group.name, desired)


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
        containers.append(container)
    task.containers = containers
    if task.container_instance_arn:
        _bind_ports(task, task_definition, sim)


def place_task(task: Any, task_definition: Any, container_instance_arn: str, sim: "Simulation") -> None:
    """Put a task that waited for capacity on a container instance."""
    task.container_instance_arn = container_instance_arn
    _bind_ports(task, task_definition, sim)


def _bind_ports(task: Any, task_definition: Any, sim: "Simulation") -> None:
    """bridge: hostPort 0 or absent gets a free port of the instance's ephemeral range; host: the
    container port itself. A port stays taken on the instance until its task has STOPPED."""
    if task_definition.network_mode not in ("bridge", "host", None):
        return
    used_ports = {int(b["hostPort"]) for t in sim.tasks.values() if t.status != "STOPPED" and t.task is not task
                  and t.task.container_instance_arn == task.container_instance_arn
                  for c in t.task.containers for b in c.get("networkBindings", [])}
    by_name = {c["name"]: c for c in task.containers}
    for definition in task_definition.container_definitions:
        container = by_name[definition.get("name")]
        container["networkBindings"] = []
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


def _dynamic_port(used: set) -> int:
    low, high = DYNAMIC_PORTS
    for _attempt in range(1000):
        port = random.randint(low, high)
        if port not in used:
            return port
    return low


# Cloud Map -------------------------------------------------------------------------------------------
def _cloud_map(account_id: str, region: str) -> Any:
    from moto.servicediscovery.models import servicediscovery_backends

    return servicediscovery_backends[account_id][region]


def register_cloud_map_instance(account_id: str, region: str, registry_arn: str, instance_id: str,
                                attributes: Dict[str, str]) -> None:
    backend = _cloud_map(account_id, region)
    service_id = registry_arn.split("/")[-1]
    if service_id in backend.services:
        backend.register_instance(service_id, instance_id, None, attributes)


def deregister_cloud_map_instance(account_id: str, region: str, registry_arn: str, instance_id: str) -> None:
    backend = _cloud_map(account_id, region)
    service = backend.services.get(registry_arn.split("/")[-1])
    if service is not None and any(i.instance_id == instance_id for i in service.instances):
        backend.deregister_instance(service.id, instance_id)


def set_cloud_map_health(account_id: str, region: str, registry_arn: str, instance_id: str, status: str) -> None:
    backend = _cloud_map(account_id, region)
    service = backend.services.get(registry_arn.split("/")[-1])
    if service is None or service.health_check_custom_config is None:
        return
    for instance in service.instances:
        if instance.instance_id == instance_id:
            backend.update_instance_custom_health_status(service.id, instance_id, status)


def ec2_private_address(backend: Any, instance_id: Optional[str]) -> Optional[str]:
    instance = ec2_instance(backend, instance_id or "")
    return getattr(instance, "private_ip", None) if instance is not None else None
