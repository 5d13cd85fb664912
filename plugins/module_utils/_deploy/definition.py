# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""A service's whole task definition as a release input (``services[].definition``).

The option has exactly the format of ecs_stack's ``services[].task_definition``: the same
argument spec (:data:`DEFINITION_OPTIONS`, kept equal to ecs_stack's by a unit test), the same
renderer (:func:`task_definition_from_options`) and the same validation
(:func:`validate_task_definition`), so one dict given to both modules means one revision.
What is added here is what only a release knows: the service the revision must fit.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import validate_task_definition

TAGS: Dict[str, Any] = {"type": "dict"}

CONTAINER_OPTIONS: Dict[str, Any] = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str", "required": True},
    "cpu": {"type": "int"},
    "memory": {"type": "int"},
    "memory_reservation": {"type": "int"},
    "essential": {"type": "bool"},
    "port_mappings": {"type": "list", "elements": "dict", "options": {
        "container_port": {"type": "int", "required": True},
        "host_port": {"type": "int"},
        "protocol": {"type": "str", "choices": ["tcp", "udp"]},
        "name": {"type": "str"},
        "app_protocol": {"type": "str", "choices": ["http", "http2", "grpc"]},
    }},
    "environment": {"type": "dict"},
    "secrets": {"type": "dict", "no_log": False},
    "awslogs": {"type": "dict", "options": {
        "group": {"type": "str", "required": True},
        "region": {"type": "str"},
        "stream_prefix": {"type": "str"},
        "mode": {"type": "str", "choices": ["blocking", "non-blocking"]},
        "max_buffer_size": {"type": "str"},
    }},
    "log_configuration": {"type": "dict", "options": {
        "log_driver": {"type": "str", "required": True},
        "options": {"type": "dict"},
        "secret_options": {"type": "dict", "no_log": False},
    }},
    "health_check": {"type": "dict", "options": {
        "command": {"type": "raw", "required": True},
        "interval": {"type": "int"},
        "timeout": {"type": "int"},
        "retries": {"type": "int"},
        "start_period": {"type": "int"},
    }},
    "command": {"type": "list", "elements": "str"},
    "entry_point": {"type": "list", "elements": "str"},
    "depends_on": {"type": "list", "elements": "dict", "options": {
        "container_name": {"type": "str", "required": True},
        "condition": {"type": "str", "choices": ["START", "COMPLETE", "SUCCESS", "HEALTHY"], "default": "START"},
    }},
    "links": {"type": "list", "elements": "str"},
    "ulimits": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "soft_limit": {"type": "int", "required": True},
        "hard_limit": {"type": "int"},
    }},
    "working_directory": {"type": "str"},
    "user": {"type": "str"},
    "mount_points": {"type": "list", "elements": "dict", "options": {
        "source_volume": {"type": "str", "required": True},
        "container_path": {"type": "str", "required": True},
        "read_only": {"type": "bool", "default": False},
    }},
    "docker_labels": {"type": "dict"},
    "stop_timeout": {"type": "int"},
    "readonly_root_filesystem": {"type": "bool"},
}

DEFINITION_OPTIONS: Dict[str, Any] = {
    "family": {"type": "str"},
    "containers": {"type": "list", "elements": "dict", "required": True, "options": CONTAINER_OPTIONS,
                   "mutually_exclusive": [["awslogs", "log_configuration"]]},
    "network_mode": {"type": "str", "choices": ["bridge", "host", "awsvpc", "none"]},
    "cpu": {"type": "str"},
    "memory": {"type": "str"},
    "execution_role_arn": {"type": "str"},
    "task_role_arn": {"type": "str"},
    "requires_compatibilities": {"type": "list", "elements": "str", "choices": ["EC2", "FARGATE", "EXTERNAL"]},
    "runtime_platform": {"type": "dict", "options": {
        "cpu_architecture": {"type": "str", "choices": ["X86_64", "ARM64"]},
        "operating_system_family": {"type": "str"},
    }},
    "volumes": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "host": {"type": "dict", "options": {"source_path": {"type": "str"}}},
        "efs_volume_configuration": {"type": "dict", "options": {
            "file_system_id": {"type": "str", "required": True},
            "root_directory": {"type": "str"},
            "transit_encryption": {"type": "str", "choices": ["ENABLED", "DISABLED"]},
        }},
    }},
    "ephemeral_storage": {"type": "int"},
    "tags": TAGS,
}

FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def render_definition(options: Mapping[str, Any], service: str, region: Optional[str], where: str) -> Dict[str, Any]:
    """``register_task_definition`` kwargs of a ``definition`` option, validated as ecs_stack validates them.

    The family defaults to the service name and an ``awslogs`` region to the module's region,
    as in ecs_stack; ``where`` (``services[0].definition``) prefixes the option paths of errors.
    """
    if not isinstance(options, Mapping):
        raise ValidationError(where, options, "must be a task definition (family, containers, cpu, memory, ...)")
    opts = copy.deepcopy(dict(options))
    opts["family"] = opts.get("family") or service
    kwargs = task_definition_from_options(opts, default_region=region)
    validate_task_definition(kwargs, where)
    return kwargs


def check_fits_service(kwargs: Mapping[str, Any], service: Mapping[str, Any], where: str) -> None:
    """Refuse, before any write, a definition ``update_service`` would reject for this service.

    AWS checks at UpdateService that each load balancer binding names a container and a port
    of the new revision, that a Fargate service runs a Fargate-compatible revision, and that
    the service's network configuration matches the revision's network mode.
    """
    containers = {c.get("name"): c for c in kwargs.get("containerDefinitions") or []}
    names = list(containers)
    for binding in service.get("loadBalancers") or []:
        name, port = binding.get("containerName"), binding.get("containerPort")
        container = containers.get(name)
        if container is None:
            raise ValidationError(where + ".containers", names, "the service's load balancer sends traffic to container "
                                  "%s, which the definition does not have" % name)
        ports = [pm.get("containerPort") for pm in container.get("portMappings") or []]
        if port not in ports:
            index = names.index(name)
            raise ValidationError("%s.containers[%d].port_mappings" % (where, index), ports,
                                  "the service's load balancer sends traffic to port %s of container %s" % (port, name))
    compat = [str(c).upper() for c in kwargs.get("requiresCompatibilities") or []]
    providers = [s.get("capacityProvider") for s in service.get("capacityProviderStrategy") or []]
    fargate = service.get("launchType") == "FARGATE" or (providers and all(p in FARGATE_PROVIDERS for p in providers))
    if fargate and "FARGATE" not in compat:
        raise ValidationError(where + ".requires_compatibilities", kwargs.get("requiresCompatibilities"),
                              "service %s runs on Fargate: the definition must require FARGATE" % service.get("serviceName"))
    awsvpc = (kwargs.get("networkMode") or "bridge") == "awsvpc"
    configured = bool((service.get("networkConfiguration") or {}).get("awsvpcConfiguration"))
    if awsvpc != configured:
        raise ValidationError(where + ".network_mode", kwargs.get("networkMode"), (
            "service %s has no awsvpc network configuration (subnets, security groups); change it with ecs_stack"
            if awsvpc else "service %s has an awsvpc network configuration: the definition needs network_mode awsvpc")
            % service.get("serviceName"))


def secret_references(kwargs: Mapping[str, Any], where: str) -> Dict[str, str]:
    """``{option path: valueFrom}`` of every secret of a rendered definition, for the existence check."""
    out: Dict[str, str] = {}
    containers: List[Dict[str, Any]] = list(kwargs.get("containerDefinitions") or [])
    for index, container in enumerate(containers):
        for secret in container.get("secrets") or []:
            out["%s.containers[%d].secrets.%s" % (where, index, secret["name"])] = secret["valueFrom"]
    return out
