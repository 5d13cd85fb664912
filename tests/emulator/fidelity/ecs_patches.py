"""Hooks of the ECS simulation into moto's ECS and ELBv2 request handlers and models."""

from __future__ import annotations

import functools
import ipaddress
import random
import uuid
from typing import Any, Callable, Dict, List, Optional

from . import moto_records, strategies
from .ecs_sim import ServiceSim, Simulation
from .fixes import patch_method


def _exceptions() -> Any:
    from moto.ecs import exceptions

    return exceptions


def _invalid(message: str) -> Exception:
    return _exceptions().InvalidParameterException(message)


def _client_error(message: str) -> Exception:
    return _exceptions().EcsClientException(message)


def _usable_task_definition(backend: Any, reference: str) -> Any:
    """The revision a new task or deployment may use: AWS refuses INACTIVE (deregistered) ones.

    A family without a revision means its latest ACTIVE revision.
    """
    name = reference.split("/")[-1]
    if ":" not in name:
        revisions = backend.task_definitions.get(name) or {}
        active = [number for number, td in revisions.items() if td.status == "ACTIVE"]
        if active:
            return revisions[max(active)]
    task_definition = backend.describe_task_definition(reference)
    if task_definition.status == "INACTIVE":
        raise _client_error("TaskDefinition is inactive")
    return task_definition


def install(sim: Simulation) -> None:
    """Patch moto's ECS response handlers, Task model and ELBv2 target group once per process."""
    from moto.ecs import models as ecs_models
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.elbv2 import models as elb_models

    # The simulation owns a task's status; moto's own progression of it is held still.
    moto_records.hold_task_statuses()

    # One idiom for every hook: fixes.patch_method(cls, name, replacement(original, *args)).
    responses = EC2ContainerServiceResponse
    for name, handler in (("register_task_definition", _register_task_definition),
                          ("create_service", _create_service), ("update_service", _update_service),
                          ("delete_service", _delete_service), ("run_task", _run_task),
                          ("stop_task", _stop_task), ("describe_tasks", _describe_tasks)):
        patch_method(responses, name, functools.partial(handler, sim))
    patch_method(ecs_models.EC2ContainerServiceBackend, "list_tasks", _list_tasks)
    patch_method(responses, "list_tasks", _list_tasks_page)

    # Targets are the simulation's (keyed by Id and port, with a health life cycle).
    patch_method(elb_models.FakeTargetGroup, "register",
                 lambda _original, group, targets: sim.targets.register(group, targets))
    patch_method(elb_models.FakeTargetGroup, "deregister",
                 lambda _original, group, targets: sim.targets.deregister(group, targets))

    def describe_target_health(original: Callable, backend: Any, target_group_arn: str,
                               targets: List[Dict[str, Any]]) -> List[Any]:
        group = backend.target_groups.get(target_group_arn)
        if group is None:
            return original(backend, target_group_arn, targets)
        return sim.targets.describe(group, targets)

    patch_method(elb_models.ELBv2Backend, "describe_target_health", describe_target_health)
    _patch_task_eni()


# task definitions ---------------------------------------------------------------------------------
def _register_task_definition(_sim: Simulation, original: Callable, handler: Any) -> Any:
    """Refuse, as RegisterTaskDefinition does, links in awsvpc mode, links and dependencies naming
    containers the task definition does not have, SUCCESS / COMPLETE dependencies on essential
    containers, and a task definition without an essential container."""
    params = handler._get_params()
    containers = params.get("containerDefinitions") or []
    names = {c.get("name") for c in containers}
    for container in containers:
        if container.get("links") and params.get("networkMode") == "awsvpc":
            raise _client_error("Links are not supported when networkMode=awsvpc.")
        for link in container.get("links") or []:
            if link.split(":", 1)[0] not in names:
                raise _client_error("Cannot link to container + '%s' because it does not exist" % link.split(":", 1)[0])
        for dependency in container.get("dependsOn") or []:
            other = dependency.get("containerName")
            if other not in names:
                raise _client_error("Cannot depend on container + '%s' because it does not exist" % other)
            target = [c for c in containers if c.get("name") == other][0]
            if (dependency.get("condition") or "").upper() in ("SUCCESS", "COMPLETE") and \
                    target.get("essential", True) is not False:
                raise _client_error("A dependency container with SUCCESS or COMPLETE condition cannot be an "
                                    "essential container")
    if containers and all(c.get("essential", True) is False for c in containers):
        raise _client_error("Task definition does not have any essential container.")
    return original(handler)


# services -----------------------------------------------------------------------------------------
def _key(backend: Any, cluster_name: str, service_name: str) -> tuple:
    return (backend.account_id, backend.region_name, cluster_name, service_name)


def _create_service(sim: Simulation, original: Callable, handler: Any) -> Any:
    backend = handler.ecs_backend
    params = handler._get_params()
    cluster = backend._get_cluster(params.get("cluster", "default"))
    name = params.get("serviceName")
    existing = backend.services.get("%s:%s" % (cluster.name, name))
    if existing is not None and existing.status != "INACTIVE":
        # AWS refuses a second ACTIVE (or DRAINING) service of the same name in a cluster.
        raise _invalid("Creation of service was not idempotent.")
    task_definition = None
    if params.get("taskDefinition"):
        task_definition = _usable_task_definition(backend, params["taskDefinition"])
    if task_definition is not None and task_definition.network_mode == "awsvpc" and not params.get("networkConfiguration"):
        raise _invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    if params.get("launchType") and params.get("capacityProviderStrategy"):
        raise _invalid("Specifying both a launch type and capacity provider strategy is not supported. "
                       "Remove one and try again.")
    _validate_load_balancers(backend, params.get("loadBalancers") or [], task_definition)
    if params.get("healthCheckGracePeriodSeconds") is not None and not params.get("loadBalancers"):
        raise _invalid("Health check grace period is only valid for services configured to use load balancers")
    _validate_deployment_configuration(params.get("deploymentConfiguration"))
    _validate_strategy(backend, params.get("deploymentConfiguration"), params.get("loadBalancers") or [])
    result = original(handler)
    service = backend._get_service(cluster.name, name)
    service_sim = ServiceSim(sim, service, backend, params)
    if (params.get("schedulingStrategy") or "REPLICA") == "DAEMON":
        service_sim.deployment_configuration["maximumPercent"] = 100
        service_sim.deployment_configuration["minimumHealthyPercent"] = 0
    if service.task_definition:
        service_sim.new_deployment(service.task_definition)
    sim.services[_key(backend, cluster.name, name)] = service_sim
    service_sim.render()
    return result


def _validate_load_balancers(backend: Any, bindings: List[Dict[str, Any]], task_definition: Any) -> None:
    from moto.elbv2.models import elbv2_backends

    elb = elbv2_backends[backend.account_id][backend.region_name]
    for binding in bindings:
        arn = binding.get("targetGroupArn")
        if not arn:
            continue
        group = elb.target_groups.get(arn)
        if group is None:
            raise _invalid("Unable to assume role and validate the specified targetGroupArn. Please verify that the "
                           "ECS service role being passed has the proper permissions.")
        if not group.load_balancer_arns:
            raise _invalid("The target group with targetGroupArn %s does not have an associated load balancer." % arn)
        if task_definition is None:
            continue
        names = {c.get("name"): c for c in task_definition.container_definitions}
        container = names.get(binding.get("containerName"))
        if container is None:
            raise _invalid("The container %s does not exist in the task definition." % binding.get("containerName"))
        ports = {int(m.get("containerPort", 0)) for m in container.get("portMappings") or []}
        if int(binding.get("containerPort") or 0) not in ports:
            raise _invalid("The container %s did not have a container port %s defined."
                           % (binding.get("containerName"), binding.get("containerPort")))
        if group.target_type == "ip" and task_definition.network_mode != "awsvpc":
            raise _invalid("The provided target group %s has target type ip, which is incompatible with the %s "
                           "network mode specified in the task definition." % (arn, task_definition.network_mode))
        if group.target_type == "instance" and task_definition.network_mode == "awsvpc":
            raise _invalid("The provided target group %s has target type instance, which is incompatible with the "
                           "awsvpc network mode specified in the task definition." % arn)


def _validate_deployment_configuration(config: Optional[Dict[str, Any]]) -> None:
    if not config:
        return
    maximum = config.get("maximumPercent")
    minimum = config.get("minimumHealthyPercent")
    if maximum is not None and int(maximum) < 100:
        raise _invalid("maximumPercent must be >= 100")
    if minimum is not None and not 0 <= int(minimum) <= 100:
        raise _invalid("minimumHealthyPercent must be between 0 and 100")


def _validate_strategy(backend: Any, config: Optional[Dict[str, Any]], bindings: List[Dict[str, Any]]) -> None:
    """deploymentConfiguration.strategy, its settings and lifecycle hooks, and the load balancers'
    advancedConfiguration, checked as CreateService / UpdateService check them (strategies.py)."""
    from moto.elbv2.models import elbv2_backends

    try:
        strategies.validate(config, bindings, elbv2_backends[backend.account_id][backend.region_name])
    except strategies.Invalid as exc:
        raise _invalid(str(exc)) from exc


def _service_sim(sim: Simulation, backend: Any, cluster_str: str, service_str: str) -> Optional[ServiceSim]:
    cluster = backend._get_cluster(cluster_str)
    return sim.services.get(_key(backend, cluster.name, service_str.split("/")[-1]))


def _update_service(sim: Simulation, original: Callable, handler: Any) -> Any:
    backend = handler.ecs_backend
    params = handler._get_params()
    cluster_str = params.get("cluster", "default")
    service = backend._get_service(cluster_str, params.get("service", "").split("/")[-1])
    if service.status != "ACTIVE":
        raise _exceptions().ECSException("ServiceNotActiveException", "Service was not ACTIVE.")
    new_arn = None
    if params.get("taskDefinition"):
        new_arn = _usable_task_definition(backend, params["taskDefinition"]).arn
    _validate_deployment_configuration(params.get("deploymentConfiguration"))
    service_sim = _service_sim(sim, backend, cluster_str, service.name)
    if service_sim is not None and (params.get("deploymentConfiguration") or params.get("loadBalancers")):
        merged_config = dict(service_sim.deployment_configuration)
        merged_config.update({k: v for k, v in (params.get("deploymentConfiguration") or {}).items() if v is not None})
        _validate_strategy(backend, merged_config, params.get("loadBalancers") or service_sim.load_balancers)
    if service_sim is not None and params.get("loadBalancers"):
        td = backend.describe_task_definition(new_arn or service_sim.primary.task_definition)
        _validate_load_balancers(backend, params["loadBalancers"], td)
    result = original(handler)
    if service_sim is None:
        return result
    if params.get("deploymentConfiguration"):
        merged = dict(service_sim.deployment_configuration)
        merged.update({k: v for k, v in params["deploymentConfiguration"].items() if v is not None})
        service_sim.deployment_configuration = merged
    if params.get("healthCheckGracePeriodSeconds") is not None:
        service_sim.grace_period = int(params["healthCheckGracePeriodSeconds"])
    redeploy = bool(params.get("forceNewDeployment"))
    if params.get("placementStrategy") is not None or params.get("placementConstraints") is not None:
        constraints, strategies = service_sim.placement
        service_sim.placement = (params["placementConstraints"] if params.get("placementConstraints") is not None
                                 else constraints,
                                 params["placementStrategy"] if params.get("placementStrategy") is not None
                                 else strategies)
    for key, attribute in (("networkConfiguration", "network_configuration"),
                           ("capacityProviderStrategy", "capacity_provider_strategy"),
                           ("platformVersion", "platform_version"),
                           ("loadBalancers", "load_balancers")):
        if key in params and params[key] is not None and params[key] != getattr(service_sim, attribute):
            setattr(service_sim, attribute, params[key])
            if key == "capacityProviderStrategy":
                service_sim.launch_type = None
            redeploy = True
    current = service_sim.primary.task_definition if service_sim.deployments else None
    if new_arn and new_arn != current:
        redeploy = True
    if redeploy:
        service_sim.new_deployment(new_arn or current)
    elif params.get("desiredCount") is not None:
        service_sim.steady = False
        if service_sim.deployments and service_sim.primary.rollout_state == "COMPLETED":
            service_sim.primary.updated_at = moto_records.utcnow()
    service_sim.render()
    return result


def _delete_service(sim: Simulation, original: Callable, handler: Any) -> Any:
    backend = handler.ecs_backend
    cluster_str = handler._get_param("cluster", "default")
    name = handler._get_param("service", "").split("/")[-1]
    service_sim = _service_sim(sim, backend, cluster_str, name)
    result = original(handler)
    if service_sim is not None:
        service_sim.deleted = True
        service_sim.service.desired_count = 0
        # AWS: DRAINING while the scheduler stops the tasks, INACTIVE once none is left (ecs_sim).
        if any(t.status != "STOPPED" for t in service_sim.all_tasks()):
            service_sim.service.status = "DRAINING"
        sim._schedule(service_sim)
        service_sim.render()
    return result


# tasks --------------------------------------------------------------------------------------------
def _run_task(sim: Simulation, original: Callable, handler: Any) -> Any:
    backend = handler.ecs_backend
    params = handler._get_params()
    td = _usable_task_definition(backend, params.get("taskDefinition") or "")
    if td.network_mode == "awsvpc" and not params.get("networkConfiguration"):
        raise _invalid("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    cluster = backend._get_cluster(params.get("cluster", "default"))
    strategy = params.get("capacityProviderStrategy") or ([] if params.get("launchType") else
                                                          cluster.default_capacity_provider_strategy or [])
    fargate = params.get("launchType") == "FARGATE" or any(
        item.get("capacityProvider") in ("FARGATE", "FARGATE_SPOT") for item in strategy)
    if not fargate:
        return _run_task_on_instances(sim, backend, cluster, td, params, strategy)
    result = original(handler)
    tasks = result.result.get("tasks", [])
    for task in tasks:
        _aws_task_id(backend, task)
        if not task.started_by:
            # AWS leaves startedBy out of a task nobody named a starter for.
            task.started_by = None
        if fargate and not task.platform_version:
            requested = params.get("platformVersion")
            task.platform_version = requested if requested and requested != "LATEST" else "1.4.0"
        sim.adopt_task(task, td, None, None, availability_zone=moto_records.subnet_zone(task))
    return result


def _run_task_on_instances(sim: Simulation, backend: Any, cluster: Any, td: Any, params: Dict[str, Any],
                           strategy: List[Dict[str, Any]]) -> Any:
    """RunTask on EC2 capacity: each task placed on a container instance with room, or a failure per
    instance that refused it (RESOURCE:CPU, RESOURCE:MEMORY, RESOURCE:PORTS...), as AWS answers."""
    from moto.core.responses import ActionResult

    provider = strategy[0].get("capacityProvider") if strategy else None
    waits = bool(provider) and sim.fleet.waits_for_capacity(backend, provider)
    if not sim.fleet.states(backend, cluster.name) and not waits:
        raise _invalid("No Container Instances were found in your cluster.")
    group = params.get("group") or "family:%s" % td.family
    tasks, failures = [], []
    for _index in range(int(params.get("count") or 1)):
        decision = sim.fleet.place(backend, cluster.name, td, group, params.get("placementConstraints") or [],
                                   params.get("placementStrategy"))
        instance = sim.fleet.by_arn(decision.instance.arn) if decision.instance is not None else None
        if instance is None and not waits:
            failures.extend({"arn": arn, "reason": reason} for arn, reason in sorted(decision.failures.items()))
            continue
        task = moto_records.new_task(sim, backend, cluster, td, group, instance, launch_type=params.get("launchType") or "",
                                     started_by=params.get("startedBy"), network=params.get("networkConfiguration"),
                                     provider=provider, overrides=params.get("overrides"), tags=params.get("tags"))
        if not task.started_by:
            task.started_by = None
        sim.adopt_task(task, td, None, None, instance=instance, availability_zone=moto_records.task_zone(task, instance))
        tasks.append(task)
    return ActionResult({"tasks": tasks, "failures": failures})


def _aws_task_id(backend: Any, task: Any) -> None:
    """AWS task IDs are 32 hex digits (moto: a UUID with dashes)."""
    table = backend.tasks.get(task.cluster_name) or {}
    table.pop(task.task_arn, None)
    task.id = uuid.uuid4().hex
    table[task.task_arn] = task


def _stop_task(sim: Simulation, original: Callable, handler: Any) -> Any:
    backend = handler.ecs_backend
    cluster = backend._get_cluster(handler._get_param("cluster", "default"))
    task_str = handler._get_param("task") or ""
    task_id = task_str.split("/")[-1]
    for arn, task_sim in sim.tasks.items():
        if task_sim.task.cluster_name == cluster.name and arn.split("/")[-1] == task_id:
            sim.stop_by_user(task_sim, handler._get_param("reason") or "")
            from moto.core.responses import ActionResult

            return ActionResult({"task": task_sim.task})
    if not any(t.split("/")[-1] == task_id for t in (backend.tasks.get(cluster.name) or {})):
        raise _invalid("The referenced task was not found.")
    return original(handler)


def _list_tasks_page(original: Callable, handler: Any) -> Any:
    """AWS answers ListTasks a page at a time: at most ``maxResults`` ARNs (1 to 100, default 100) and a ``nextToken``
    while more remain (moto answered every task at once, whatever maxResults)."""
    result = original(handler)
    size = handler._get_param("maxResults")
    size = 100 if size is None else size
    if not isinstance(size, int) or not 1 <= size <= 100:
        raise _invalid("maxResults must be between 1 and 100.")
    token = handler._get_param("nextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise _invalid("Invalid nextToken.") from None
    arns = result.result.get("taskArns") or []
    result.result["taskArns"] = arns[start:start + size]
    if start + size < len(arns):
        result.result["nextToken"] = str(start + size)
    return result


def _describe_tasks(sim: Simulation, original: Callable, handler: Any) -> Any:
    result = original(handler)
    asked = handler._get_param("tasks", []) or []
    found = {t.task_arn for t in result.result.get("tasks", [])}
    found_ids = {arn.split("/")[-1] for arn in found}
    failures = []
    for ref in asked:
        if ref not in found and ref.split("/")[-1] not in found_ids:
            arn = ref if ref.startswith("arn:") else "arn:aws:ecs:%s:%s:task/%s" % (
                handler.ecs_backend.region_name, handler.ecs_backend.account_id, ref)
            failures.append({"arn": arn, "reason": "MISSING"})
    result.result["failures"] = failures
    return result


def _list_tasks(original: Callable, backend: Any, cluster_str: Optional[str] = None, container_instance: Optional[str] = None,
                family: Optional[str] = None, started_by: Optional[str] = None, service_name: Optional[str] = None,
                desiredStatus: Optional[str] = None) -> List[Any]:
    # AWS: without desiredStatus, only tasks whose desired status is RUNNING are listed.
    tasks = original(backend, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
    if service_name:
        group = "service:%s" % service_name.split("/")[-1]
        tasks = [t for t in tasks if t.group == group]
    return tasks


def _patch_task_eni() -> None:
    """AWS gives a task's ENI an address inside its subnet and a private DNS name.

    moto hands the ENI a random 10.x address (outside the subnet) and then fails on the DNS
    name when the VPC has DNS host names off.
    """
    from moto.ec2.models import elastic_network_interfaces
    from moto.ec2.utils import generate_dns_from_ip
    from moto.ecs import models as ecs_models

    ecs_models.random_private_ip = lambda *args, **kwargs: None

    def eni_init(original: Callable, eni: Any, *args: Any, **kwargs: Any) -> None:
        original(eni, *args, **kwargs)
        if not hasattr(eni, "private_dns_name"):
            eni.private_dns_name = generate_dns_from_ip(eni.private_ip_address) if eni.private_ip_address else None

    patch_method(elastic_network_interfaces.NetworkInterface, "__init__", eni_init)
    original_random_ip = elastic_network_interfaces.random_private_ip

    def subnet_ip(cidr: Optional[str] = None, ipv6: bool = False) -> str:
        # AWS never hands out an address in use, nor the 4 first and the last of a subnet.
        if not cidr or ipv6:
            return original_random_ip(cidr, ipv6=ipv6)
        network = ipaddress.IPv4Network(cidr, strict=False)
        used = _addresses_in_use()
        first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
        for _attempt in range(200):
            candidate = str(ipaddress.IPv4Address(random.randint(first, max(first, last))))
            if candidate not in used:
                return candidate
        return original_random_ip(cidr)

    elastic_network_interfaces.random_private_ip = subnet_ip


def _addresses_in_use() -> set:
    from moto.ec2.models import ec2_backends

    used = set()
    for account in list(ec2_backends.values()):
        for backend in list(dict.values(account)):
            for eni in list(getattr(backend, "enis", {}).values()):
                used.add(eni.private_ip_address)
    return used
