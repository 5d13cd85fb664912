# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: service_specs
short_description: Turn an application's services into the options of alb_routes, ecs_stack and ecs_rolling_deploy
version_added: 0.1.0
author: shipyard.ecs contributors
description:
  - Takes the application's services, as the inventories define them once (port, health check, size,
    count, routes, environment, secret references, autoscaling), and the environment's context
    (names, network, roles, images), and returns the target groups, listeners and routes for
    M(shipyard.ecs.alb_routes), the services for M(shipyard.ecs.ecs_stack) and the release for
    M(shipyard.ecs.ecs_rolling_deploy).
  - Used by the C(shipyard.ecs.services) role; the one place where that mapping lives.
options:
  _input:
    description:
      - The services, by name. Each has C(container_port), C(health_check) (C(path), optional C(matcher)),
        C(cpu), C(memory), optional C(desired_count), C(routes), C(environment), C(secrets),
        C(autoscaling) (C(min_capacity), C(max_capacity), C(cpu_target)).
    type: dict
    required: true
  context:
    description:
      - The environment, with C(name), C(application), C(region), C(listeners) (C(port), C(default_service)),
        C(images) (service name to image reference) and optionally C(target_group_prefix), C(vpc_id),
        C(subnets), C(security_groups), C(assign_public_ip), C(execution_role_arn), C(task_role_arn),
        C(log_group_prefix), C(health_check_grace_period), C(tags), C(secret_arn_prefix) (secret references
        that are not ARNs are appended to it, for example C(arn:aws:ssm:eu-west-1:123456789012:parameter/shop/prod/)),
        C(certificate_arn).
      - With C(certificate_arn) (an ACM certificate), what the listener on port 80 does (its default service
        and the routes declared on it) moves to a new HTTPS listener on port 443 with that certificate and
        the security policy C(ELBSecurityPolicy-TLS13-1-2-2021-06); port 80 then answers every request with a
        permanent redirect (C(HTTP_301)) to HTTPS on port 443, keeping host, path and query. Other listeners
        stay as they are.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Map the services onto the modules' options
  ansible.builtin.set_fact:
    specs: "{{ app_services | shipyard.ecs.service_specs({'name': 'shop-prod', 'application': 'shop', 'region': 'eu-west-1',
                                                          'listeners': [{'port': 80, 'default_service': 'web'}],
                                                          'images': {'web': '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/web:1.0'}}) }}"
"""

RETURN = r"""
_value:
  description: The modules' options.
  type: dict
  contains:
    target_groups:
      description: O(shipyard.ecs.alb_routes#module:target_groups).
      type: list
    listeners:
      description: O(shipyard.ecs.alb_routes#module:listeners).
      type: list
    routes:
      description: O(shipyard.ecs.alb_routes#module:routes).
      type: list
    stack_services:
      description: O(shipyard.ecs.ecs_stack#module:services).
      type: list
    release_services:
      description: O(shipyard.ecs.ecs_rolling_deploy#module:services).
      type: list
    log_groups:
      description: The log groups the containers write to.
      type: list
"""

from typing import Any, Dict, List

from ansible.errors import AnsibleFilterError

TARGET_GROUP_NAME_MAX = 32
HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 only, forward secrecy: AWS's recommended policy for new HTTPS listeners.
HTTPS_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# A permanent redirect to the same host, path and query over HTTPS.
HTTPS_REDIRECT = {"protocol": "HTTPS", "port": str(HTTPS_PORT), "host": "#{host}", "path": "/#{path}",
                  "query": "#{query}", "status_code": "HTTP_301"}
ROUTE_CONDITIONS = ("path_patterns", "host_headers", "http_headers", "methods", "query_strings", "source_ips")


def _target_group_name(prefix: str, service: str) -> str:
    name = "%s-%s" % (prefix, service) if prefix else service
    if len(name) > TARGET_GROUP_NAME_MAX:
        raise AnsibleFilterError(
            "target group name %r for service %r is longer than %d characters: choose a shorter target_group_prefix"
            % (name, service, TARGET_GROUP_NAME_MAX))
    return name


def _secret_arn(reference: str, prefix: str) -> str:
    """A secret reference as an ARN: ARNs as they are, names under the environment's prefix."""
    if reference.startswith("arn:") or not prefix:
        return reference
    return prefix + reference.lstrip("/")


def _https_listeners(listeners: List[Dict[str, Any]], routes: List[Dict[str, Any]], certificate_arn: str) -> None:
    """Move the job of the port-80 listener to HTTPS on 443 and make port 80 redirect there (in place)."""
    ports = [listener["port"] for listener in listeners]
    if HTTP_PORT not in ports:
        raise AnsibleFilterError("context.certificate_arn is set (%s) but no listener is on port %d to move to HTTPS: listeners are on %s"
                                 % (certificate_arn, HTTP_PORT, ", ".join(str(p) for p in ports)))
    if HTTPS_PORT in ports:
        raise AnsibleFilterError("context.certificate_arn is set (%s) but the application already declares a listener on port %d"
                                 % (certificate_arn, HTTPS_PORT))
    index = ports.index(HTTP_PORT)
    https = dict(listeners[index], port=HTTPS_PORT, protocol="HTTPS", certificates=[certificate_arn], ssl_policy=HTTPS_SSL_POLICY)
    listeners[index:index + 1] = [{"port": HTTP_PORT, "protocol": "HTTP", "default_action": {"redirect": dict(HTTPS_REDIRECT)}}, https]
    for route in routes:
        if route["listener"] == HTTP_PORT:
            route["listener"] = HTTPS_PORT


def service_specs(services: Dict[str, Dict[str, Any]], context: Dict[str, Any]) -> Dict[str, List[Any]]:
    """Map the application's services onto the options of the three modules."""
    if not isinstance(services, dict) or not services:
        raise AnsibleFilterError("services must be a non-empty dict of service name to definition, got %r" % (services,))
    for key in ("name", "application", "region", "listeners", "images"):
        if key not in context:
            raise AnsibleFilterError("context.%s is required" % key)
    name = context["name"]
    tags = dict(context.get("tags") or {})
    prefix = context.get("target_group_prefix") or ""
    log_prefix = context.get("log_group_prefix") or "/ecs/%s/" % name
    tg_names = {svc: _target_group_name(prefix, svc) for svc in services}

    for listener in context["listeners"]:
        if listener.get("default_service") not in services:
            raise AnsibleFilterError("listener %s: default_service %r is not one of the services (%s)"
                                     % (listener.get("port"), listener.get("default_service"), ", ".join(sorted(services))))

    target_groups: List[Dict[str, Any]] = []
    routes: List[Dict[str, Any]] = []
    stack_services: List[Dict[str, Any]] = []
    release_services: List[Dict[str, Any]] = []
    log_groups: List[str] = []

    for svc in sorted(services):
        spec = services[svc] or {}
        if "container_port" not in spec:
            raise AnsibleFilterError("services.%s.container_port is required" % svc)
        if svc not in context["images"]:
            raise AnsibleFilterError("context.images has no image for service %r" % svc)
        port = int(spec["container_port"])
        health = dict(spec.get("health_check") or {})
        target_groups.append({
            "name": tg_names[svc],
            "port": port,
            "protocol": "HTTP",
            "target_type": "ip",
            "vpc_id": context.get("vpc_id") or None,
            "health_check": {"path": health.get("path", "/"), "matcher": str(health.get("matcher", "200"))},
            "deregistration_delay": int(spec.get("deregistration_delay", 30)),
            "tags": tags,
        })
        for index, route in enumerate(spec.get("routes") or []):
            if "listener" not in route:
                raise AnsibleFilterError("services.%s.routes[%d].listener is required" % (svc, index))
            rule = {"listener": int(route["listener"]), "target_group": tg_names[svc]}
            for condition in ROUTE_CONDITIONS:
                if route.get(condition):
                    rule[condition] = route[condition]
            if "priority" in route:
                rule["priority"] = route["priority"]
            routes.append(rule)

        log_group = log_prefix + svc
        log_groups.append(log_group)
        container: Dict[str, Any] = {
            "name": svc,
            "image": context["images"][svc],
            "essential": True,
            "port_mappings": [{"container_port": port}],
            "awslogs": {"group": log_group, "region": context["region"], "stream_prefix": svc},
        }
        if spec.get("environment"):
            container["environment"] = {k: str(v) for k, v in spec["environment"].items()}
        if spec.get("secrets"):
            container["secrets"] = {var: _secret_arn(ref, context.get("secret_arn_prefix")) for var, ref in spec["secrets"].items()}
        task_definition: Dict[str, Any] = {
            "family": "%s-%s" % (name, svc),
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
            "cpu": str(spec.get("cpu", 256)),
            "memory": str(spec.get("memory", 512)),
            "containers": [container],
        }
        for key in ("execution_role_arn", "task_role_arn"):
            if context.get(key):
                task_definition[key] = context[key]
        service: Dict[str, Any] = {
            "name": svc,
            "desired_count": int(spec.get("desired_count", 1)),
            "launch_type": "FARGATE",
            "task_definition": task_definition,
            "load_balancers": [{"target_group": tg_names[svc], "container_name": svc, "container_port": port}],
            "health_check_grace_period": int(context.get("health_check_grace_period", 60)),
            "deployment_configuration": {
                "minimum_healthy_percent": 100,
                "maximum_percent": 200,
                "circuit_breaker": {"enable": True, "rollback": True},
            },
            "propagate_tags": "SERVICE",
            "tags": tags,
        }
        if context.get("subnets"):
            service["network_configuration"] = {
                "subnets": list(context["subnets"]),
                "security_groups": list(context.get("security_groups") or []),
                "assign_public_ip": bool(context.get("assign_public_ip", True)),
            }
        scaling = spec.get("autoscaling")
        if scaling:
            service["autoscaling"] = {
                "min_capacity": int(scaling["min_capacity"]),
                "max_capacity": int(scaling["max_capacity"]),
                "policies": [{
                    "name": "cpu%d" % int(scaling.get("cpu_target", 50)),
                    "metric": "cpu",
                    "target": float(scaling.get("cpu_target", 50)),
                    "scale_in_cooldown": int(scaling.get("scale_in_cooldown", 30)),
                    "scale_out_cooldown": int(scaling.get("scale_out_cooldown", 30)),
                }],
            }
        stack_services.append(service)
        release_services.append({"name": svc, "images": {svc: context["images"][svc]}})

    listeners = [{"port": int(lst["port"]), "protocol": lst.get("protocol", "HTTP"),
                  "default_action": {"target_group": tg_names[lst["default_service"]]}}
                 for lst in context["listeners"]]
    if context.get("certificate_arn"):
        _https_listeners(listeners, routes, context["certificate_arn"])
    return {
        "target_groups": target_groups,
        "listeners": listeners,
        "routes": routes,
        "stack_services": stack_services,
        "release_services": release_services,
        "log_groups": log_groups,
    }


class FilterModule:
    """The services role's mapping from application definition to module options."""

    def filters(self):
        return {"service_specs": service_specs}
