# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""A service's whole task definition as a release input (``services[].definition``).

The option has exactly the format of ecs_stack's ``services[].task_definition``: the same
argument spec (:data:`DEFINITION_OPTIONS` is ecs_stack's ``TASK_DEFINITION_OPTIONS``), the same
renderer (:func:`task_definition_from_options`) and the same validation
(:func:`validate_task_definition`), so one dict given to both modules means one revision.
What is added here is what only a release knows: the service the revision must fit.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.spec import TASK_DEFINITION_OPTIONS
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import task_definition_from_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import validate_task_definition

# ecs_stack's own spec of a task definition: one dict given to both modules means one revision.
DEFINITION_OPTIONS: Dict[str, Any] = TASK_DEFINITION_OPTIONS

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
