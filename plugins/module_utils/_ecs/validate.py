# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Checks that run before the first write call of ecs_stack.

Every check raises ``ValidationError`` naming the option (as a path into the module's
arguments, e.g. ``services[1].task_definition.containers[0].port_mappings[0].host_port``) and
the value.  The rules follow AWS's documentation of RegisterTaskDefinition and CreateService,
so that a bad input fails here rather than half-way through a run.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_units

# AWS Fargate task sizes: CPU units -> allowed memory (MiB).
FARGATE_SIZES: Dict[int, List[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}
BUILTIN_CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
_SECRET_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:(ssm|secretsmanager):[a-z0-9-]+:\d{12}:(parameter/.+|secret:.+)$")
_PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9_.\-/]{1,2048}$")
_TARGET_GROUP_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[^/]+/[0-9a-f]+$")
_TARGET_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$")


def is_target_group_arn(value: str) -> bool:
    """True for an ELBv2 target group ARN (anything else is taken as a target group name)."""
    return bool(_TARGET_GROUP_ARN.match(value or ""))


def _containers(kwargs: Mapping[str, Any]) -> List[Dict[str, Any]]:
    return list(kwargs.get("containerDefinitions") or [])


def validate_task_definition(kwargs: Mapping[str, Any], where: str) -> None:
    """Check register kwargs (from options) against AWS's rules; ``where`` prefixes option paths."""
    containers = _containers(kwargs)
    if not containers:
        raise ValidationError(where + ".containers", [], "a task definition needs at least one container")
    names = [c.get("name") for c in containers]
    for i, name in enumerate(names):
        if not name:
            raise ValidationError("%s.containers[%d].name" % (where, i), name, "every container needs a name")
        if name in names[:i]:
            raise ValidationError("%s.containers[%d].name" % (where, i), name, "container names must be unique")
        if not containers[i].get("image"):
            raise ValidationError("%s.containers[%d].image" % (where, i), containers[i].get("image"),
                                  "every container needs an image")
    compat = [str(c).upper() for c in kwargs.get("requiresCompatibilities") or []]
    network_mode = kwargs.get("networkMode") or "bridge"
    cpu = task_units(kwargs.get("cpu"), "cpu")
    memory = task_units(kwargs.get("memory"), "memory")
    for key, value, original in (("cpu", cpu, kwargs.get("cpu")), ("memory", memory, kwargs.get("memory"))):
        if value is not None and not str(value).isdigit():
            raise ValidationError("%s.%s" % (where, key), original,
                                  "not a number of units (e.g. 256 or '0.25 vCPU' for cpu, 512 or '0.5 GB' for memory)")
    if "FARGATE" in compat:
        _validate_fargate(where, network_mode, cpu, memory, kwargs)
    for i, container in enumerate(containers):
        _validate_container(container, "%s.containers[%d]" % (where, i), network_mode, memory, names)


def _validate_fargate(where: str, network_mode: str, cpu: Any, memory: Any, kwargs: Mapping[str, Any]) -> None:
    if network_mode != "awsvpc":
        raise ValidationError(where + ".network_mode", kwargs.get("networkMode"), "Fargate requires network_mode awsvpc")
    if cpu is None or memory is None:
        raise ValidationError(where + ".cpu" if cpu is None else where + ".memory", None,
                              "Fargate requires task-level cpu and memory")
    allowed = FARGATE_SIZES.get(int(cpu))
    if allowed is None:
        raise ValidationError(where + ".cpu", kwargs.get("cpu"), "not a Fargate CPU size (one of %s)"
                              % ", ".join(str(c) for c in FARGATE_SIZES))
    if int(memory) not in allowed:
        raise ValidationError(where + ".memory", kwargs.get("memory"), "Fargate cpu %s allows memory %s..%s MiB%s" % (
            cpu, allowed[0], allowed[-1], "" if len(allowed) > 8 else " (one of %s)" % ", ".join(str(m) for m in allowed)))


def _validate_container(c: Mapping[str, Any], where: str, network_mode: str, task_memory: Any, names: List[str]) -> None:
    memory, reservation = c.get("memory"), c.get("memoryReservation")
    if memory is None and reservation is None and task_memory is None:
        raise ValidationError(where + ".memory", None,
                              "set memory or memory_reservation on the container, or memory on the task")
    if memory is not None and reservation is not None and int(memory) < int(reservation):
        raise ValidationError(where + ".memory", memory, "must be >= memory_reservation (%s)" % reservation)
    for key, label in (("memory", "memory"), ("memoryReservation", "memory_reservation"), ("cpu", "cpu")):
        if c.get(key) is not None and (not isinstance(c[key], int) or c[key] < 0):
            raise ValidationError("%s.%s" % (where, label), c[key], "must be a non-negative integer")
    seen: Set[Any] = set()
    for j, pm in enumerate(c.get("portMappings") or []):
        _validate_port_mapping(pm, "%s.port_mappings[%d]" % (where, j), network_mode)
        key = (pm.get("containerPort"), (pm.get("protocol") or "tcp").lower())
        if key in seen:
            raise ValidationError("%s.port_mappings[%d].container_port" % (where, j), key[0],
                                  "container port mapped twice for protocol %s" % key[1])
        seen.add(key)
    for j, secret in enumerate(c.get("secrets") or []):
        if not is_secret_reference(secret.get("valueFrom")):
            raise ValidationError("%s.secrets.%s" % (where, secret.get("name")), secret.get("valueFrom"),
                                  "not a Secrets Manager/SSM Parameter Store ARN nor a parameter name")
    for j, dep in enumerate(c.get("dependsOn") or []):
        if dep.get("containerName") not in names or dep.get("containerName") == c.get("name"):
            raise ValidationError("%s.depends_on[%d].container_name" % (where, j), dep.get("containerName"),
                                  "not another container of this task definition (%s)" % ", ".join(names))
        if dep.get("condition") not in ("START", "COMPLETE", "SUCCESS", "HEALTHY"):
            raise ValidationError("%s.depends_on[%d].condition" % (where, j), dep.get("condition"),
                                  "one of START, COMPLETE, SUCCESS, HEALTHY")
    for j, link in enumerate(c.get("links") or []):
        target = str(link).split(":", maxsplit=1)[0]
        if network_mode != "bridge":
            raise ValidationError("%s.links" % where, c.get("links"), "links work only with network_mode bridge")
        if target not in names:
            raise ValidationError("%s.links[%d]" % (where, j), link, "not a container of this task definition")
    log = c.get("logConfiguration") or {}
    if log.get("logDriver") == "awslogs" and not (log.get("options") or {}).get("awslogs-group"):
        raise ValidationError(where + ".awslogs.group", None, "awslogs needs a log group")


def _validate_port_mapping(pm: Mapping[str, Any], where: str, network_mode: str) -> None:
    container_port, host_port = pm.get("containerPort"), pm.get("hostPort")
    if container_port is None and not pm.get("containerPortRange"):
        raise ValidationError(where + ".container_port", None, "a port mapping needs a container port")
    if container_port is not None and (not isinstance(container_port, int) or not 1 <= container_port <= 65535):
        raise ValidationError(where + ".container_port", container_port, "must be a port number in 1..65535")
    if host_port is not None and (not isinstance(host_port, int) or not 0 <= host_port <= 65535):
        raise ValidationError(where + ".host_port", host_port, "must be a port number in 0..65535 (0: dynamic)")
    if network_mode in ("awsvpc", "host") and host_port not in (None, container_port):
        raise ValidationError(where + ".host_port", host_port, "under network_mode %s the host port must equal the "
                              "container port (%s) or be omitted" % (network_mode, container_port))
    if network_mode == "none":
        raise ValidationError(where, pm, "network_mode none allows no port mappings")
    protocol = (pm.get("protocol") or "tcp").lower()
    if protocol not in ("tcp", "udp"):
        raise ValidationError(where + ".protocol", pm.get("protocol"), "one of tcp, udp")


def is_secret_reference(value: Any) -> bool:
    """True for a Secrets Manager or SSM parameter ARN, or an SSM parameter name."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith("arn:"):
        return bool(_SECRET_ARN.match(value))
    return bool(_PARAMETER_NAME.match(value))


def validate_load_balancers(load_balancers: Iterable[Mapping[str, Any]], kwargs: Optional[Mapping[str, Any]],
                            where: str) -> None:
    """Each binding names a container of the definition and one of its container ports."""
    for i, lb in enumerate(load_balancers):
        target = lb.get("target_group")
        if not target or not (is_target_group_arn(target) or _TARGET_GROUP_NAME.match(target)):
            raise ValidationError("%s[%d].target_group" % (where, i), target, "not a target group name or ARN")
        if kwargs is None:
            continue
        containers = {c.get("name"): c for c in _containers(kwargs)}
        container = containers.get(lb.get("container_name"))
        if container is None:
            raise ValidationError("%s[%d].container_name" % (where, i), lb.get("container_name"),
                                  "no such container in the task definition (%s)" % ", ".join(sorted(containers)))
        ports = [pm.get("containerPort") for pm in container.get("portMappings") or []]
        if lb.get("container_port") not in ports:
            raise ValidationError("%s[%d].container_port" % (where, i), lb.get("container_port"),
                                  "container %s maps no such port (ports: %s)" % (
                                      lb.get("container_name"), ", ".join(str(p) for p in ports) or "none"))
