# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The application model: the one place where the application file and an environment's
variables become what each module is given.

``load()`` validates the whole definition (schema, then every cross-reference) and reports
every problem with its option path; ``Definition.names`` are the AWS names the environment
uses; ``Definition.render()`` maps the definition, with the values only AWS knows (the VPC,
subnets, security groups, roles, pushed images, certificate), onto the options of
``alb_routes``, ``ecs_stack``, ``ecs_rolling_deploy``, ``ecr_image_push`` and the roles.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._app import cloudwatch
from ansible_collections.shipyard.ecs.plugins.module_utils._app import definition as schema
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import MISSING, Problems, join, merge
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import FARGATE_SIZES, is_secret_reference

# AWS's limits on the names we derive.
LOAD_BALANCER_NAME_MAX = 32
TARGET_GROUP_NAME_MAX = 32
IAM_ROLE_NAME_MAX = 64
SECURITY_GROUP_NAME_MAX = 255
RULES_PER_LISTENER = 100
CONDITION_VALUES_PER_RULE = 5
TARGET_GROUPS_PER_LOAD_BALANCER = 100

HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 and 1.2 only, forward secrecy: AWS's recommended policy for new HTTPS listeners.
HTTPS_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# A permanent redirect to the same host, path and query over HTTPS.
HTTPS_REDIRECT = {"protocol": "HTTPS", "port": str(HTTPS_PORT), "host": "#{host}", "path": "/#{path}",
                  "query": "#{query}", "status_code": "HTTP_301"}
ROUTE_CONDITIONS = ("path_patterns", "host_headers", "http_headers", "methods", "query_strings", "source_ips")
# Stands for a value AWS assigns when the resource is created (check mode on a new account).
UNKNOWN = "(known after apply)"

# The application file before ``format: 1`` defined the application as top-level variables.
LEGACY_KEYS = {"app_name": "name", "app_listeners": "listeners", "app_services": "services",
               "app_smoke_checks": "smoke_checks"}


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def migrate(application: Dict[str, Any]) -> Tuple[Dict[str, Any], List[str]]:
    """The application document at the current format, and what was migrated (for a warning)."""
    if not isinstance(application, dict) or "format" in application:
        return application, []
    legacy = [key for key in application if key in LEGACY_KEYS]
    if not legacy:
        return application, []
    migrated = {LEGACY_KEYS.get(key, key): value for key, value in application.items()}
    migrated["format"] = schema.FORMAT
    renamed = ", ".join(LEGACY_KEYS[k] for k in legacy)
    return migrated, ["the application file has no format: read as the layout before format 1 (%s); rename the keys "
                      "to %s and add `format: %d`" % (", ".join(legacy), renamed, schema.FORMAT)]


@dataclass
class Names:
    """Every AWS name the environment derives from the application and environment names."""

    application: str
    environment: str

    @property
    def stack(self) -> str:
        """Load balancer, cluster, VPC, topic and prefix of the rest."""
        return "%s-%s" % (self.application, self.environment)

    def target_group(self, service: str) -> str:
        return "%s-%s" % (self.environment, service)

    def log_group(self, service: str) -> str:
        return "/ecs/%s/%s" % (self.stack, service)

    @property
    def log_group_prefix(self) -> str:
        return "/ecs/%s/" % self.stack

    def family(self, service: str) -> str:
        return "%s-%s" % (self.stack, service)

    def repository(self, service: str) -> str:
        return "%s/%s" % (self.application, service)

    @property
    def execution_role(self) -> str:
        return "%s-task-execution" % self.stack

    @property
    def task_role(self) -> str:
        return "%s-task" % self.stack

    @property
    def security_groups(self) -> Dict[str, str]:
        return {"alb": "%s-alb" % self.stack, "tasks": "%s-tasks" % self.stack}

    @property
    def secret_prefix(self) -> str:
        """SSM parameter names of secret references that are not ARNs start with this."""
        return "/%s/%s/" % (self.application, self.environment)

    @property
    def tags(self) -> Dict[str, str]:
        return {"Application": self.application, "Environment": self.environment, "ManagedBy": "shipyard.ecs"}


@dataclass
class Context:
    """What AWS knows and the definition does not: ids of what the platform created, images pushed."""

    region: str
    account_id: str = UNKNOWN
    vpc_id: str = ""
    subnet_ids: List[str] = field(default_factory=list)
    alb_security_group_id: str = ""
    task_security_group_id: str = ""
    execution_role_arn: str = ""
    task_role_arn: str = ""
    # Service name -> image reference (pinned by digest once pushed).
    images: Dict[str, str] = field(default_factory=dict)
    certificate_arn: str = ""
    # Once the load balancer exists: its ARN and the target groups' ARNs by name (as alb_routes reports them).
    load_balancer_arn: str = ""
    target_group_arns: Dict[str, str] = field(default_factory=dict)


@dataclass
class Definition:
    """A validated application in one environment."""

    application: Dict[str, Any]
    environment: Dict[str, Any]
    services: Dict[str, Dict[str, Any]]
    warnings: List[str] = field(default_factory=list)

    @property
    def names(self) -> Names:
        return Names(self.application["name"], self.environment["env_name"])

    @property
    def listener_ports(self) -> List[int]:
        """The load balancer's ports (443 added when the environment has a domain)."""
        ports = [listener["port"] for listener in self.application["listeners"]]
        return ports + [HTTPS_PORT] if self.environment["env_domain"] else ports

    # -- references --------------------------------------------------------------------------

    def secret_arn(self, reference: str, region: str, account_id: str) -> str:
        """A secret reference as the ARN ECS gets: ARNs as they are, names under /<app>/<env>/."""
        if reference.startswith("arn:"):
            return reference
        return "arn:%s:ssm:%s:%s:parameter%s%s" % (partition_of(region), region, account_id,
                                                   self.names.secret_prefix, reference.lstrip("/"))

    def secret_references(self, region: str, account_id: str) -> Dict[str, str]:
        """Where each secret is written (option path) -> its ARN."""
        out = {}
        for name, service in sorted(self.services.items()):
            for var, ref in sorted(service.get("secrets", {}).items()):
                out["%s.secrets.%s" % (self.where(name), var)] = self.secret_arn(ref, region, account_id)
        return out

    def where(self, service: str, key: str = "") -> str:
        """The option path of a service's key: env_services where the environment set it."""
        override = self.environment["env_services"].get(service, {})
        base = "env_services.%s" % service if key and key in override else "services.%s" % service
        return join(base, key) if key else base

    def repositories(self) -> List[Dict[str, Any]]:
        """ecr_image_push's repositories: one per service without ``image``, with the archive it pushes."""
        out = []
        for name, service in sorted(self.services.items()):
            if "image" in service:
                continue
            repo = {"name": self.names.repository(name)}
            if "archive" in service:
                repo["archive"] = service["archive"]
            out.append(repo)
        return out

    def repository_names(self) -> Dict[str, str]:
        """Service -> its ECR repository, for the services without ``image``."""
        return {svc: self.names.repository(svc) for svc in sorted(self.services) if "image" not in self.services[svc]}

    def image_of(self, service: str, region: str, account_id: str) -> str:
        """The image reference a service runs before any push pins it by digest."""
        spec = self.services[service]
        if "image" in spec:
            return spec["image"]
        suffix = ".com.cn" if region.startswith("cn-") else ".com"
        repository = self.names.repository(service)
        return "%s.dkr.ecr.%s.amazonaws%s/%s:%s" % (account_id, region, suffix, repository, self.environment["env_image_tag"])

    # -- rendering ----------------------------------------------------------------------------

    def render(self, ctx: Context) -> Dict[str, Any]:
        """The options of every module and role, for this environment and what AWS knows."""
        names = self.names
        tags = names.tags
        images = {svc: ctx.images.get(svc) or self.image_of(svc, ctx.region, ctx.account_id) for svc in self.services}
        target_groups, routes, stack_services, release_services, log_groups = [], [], [], [], []
        for svc in sorted(self.services):
            spec = self.services[svc]
            tg_name = names.target_group(svc)
            health = spec["health_check"]
            target_group = {
                "name": tg_name, "port": spec["container_port"], "protocol": "HTTP", "target_type": "ip",
                "vpc_id": ctx.vpc_id, "deregistration_delay": spec["deregistration_delay"], "tags": tags,
                "health_check": dict(health),
            }
            target_groups.append(target_group)
            for route in spec.get("routes", []):
                rule = {"listener": route["listener"], "target_group": tg_name}
                rule.update({key: route[key] for key in ROUTE_CONDITIONS + ("priority",) if route.get(key)})
                routes.append(rule)
            task_definition = self._task_definition(svc, images[svc], ctx)
            log_groups.append(names.log_group(svc))
            service = {
                "name": svc,
                "desired_count": spec["desired_count"],
                "launch_type": "FARGATE",
                "task_definition": task_definition,
                "load_balancers": [{"target_group": tg_name, "container_name": svc, "container_port": spec["container_port"]}],
                "health_check_grace_period": spec["health_check_grace_period"],
                "deployment_configuration": {"minimum_healthy_percent": 100, "maximum_percent": 200,
                                             "circuit_breaker": {"enable": True, "rollback": True}},
                "propagate_tags": "SERVICE",
                "tags": tags,
                "network_configuration": {"subnets": list(ctx.subnet_ids),
                                          "security_groups": [ctx.task_security_group_id] if ctx.task_security_group_id else [],
                                          "assign_public_ip": True},
            }
            if "autoscaling" in spec:
                service["autoscaling"] = self.autoscaling(svc)
            stack_services.append(service)
            release_services.append({"name": svc, "definition": task_definition})
        listeners = [{"port": lst["port"], "protocol": "HTTP", "default_action": {"target_group": names.target_group(lst["default_service"])}}
                     for lst in self.application["listeners"]]
        if self.environment["env_domain"]:
            listeners, routes = _https(listeners, routes, ctx.certificate_arn or UNKNOWN)
        return {
            "name": names.stack,
            "application": names.application,
            "environment": names.environment,
            "tags": tags,
            "load_balancer": {"target_groups": target_groups, "listeners": listeners, "routes": routes},
            "stack_services": stack_services,
            "release_services": release_services,
            "log_groups": log_groups,
            "images": images,
            "cloudwatch_load_balancer": self.cloudwatch_load_balancer(ctx),
        }

    def autoscaling(self, svc: str) -> Dict[str, Any]:
        """ecs_stack's autoscaling option of a service: its capacity range and CPU target tracking."""
        scaling = self.services[svc]["autoscaling"]
        return {
            "min_capacity": scaling["min_capacity"], "max_capacity": scaling["max_capacity"],
            "policies": [{"name": "cpu%d" % int(scaling["cpu_target"]), "metric": "cpu",
                          "target": scaling["cpu_target"], "scale_in_cooldown": scaling["scale_in_cooldown"],
                          "scale_out_cooldown": scaling["scale_out_cooldown"]}],
        }

    def _task_definition(self, svc: str, image: str, ctx: Context) -> Dict[str, Any]:
        spec = self.services[svc]
        container: Dict[str, Any] = {
            "name": svc,
            "image": image,
            "essential": True,
            "port_mappings": [{"container_port": spec["container_port"]}],
            "awslogs": {"group": self.names.log_group(svc), "region": ctx.region, "stream_prefix": svc},
        }
        if spec.get("environment"):
            container["environment"] = dict(spec["environment"])
        if spec.get("secrets"):
            container["secrets"] = {var: self.secret_arn(ref, ctx.region, ctx.account_id) for var, ref in spec["secrets"].items()}
        for key in ("command", "entry_point", "working_directory", "user", "memory_reservation", "stop_timeout",
                    "readonly_root_filesystem", "docker_labels"):
            if key in spec:
                container[key] = spec[key]
        if "container_health_check" in spec:
            container["health_check"] = dict(spec["container_health_check"])
        out = {
            "family": self.names.family(svc),
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
            "cpu": str(spec["cpu"]),
            "memory": str(spec["memory"]),
            "containers": [container],
        }
        for key in ("execution_role_arn", "task_role_arn"):
            if getattr(ctx, key):
                out[key] = getattr(ctx, key)
        return out

    def platform(self, region: str, account_id: str) -> Dict[str, Any]:
        """What the platform role is given."""
        env = self.environment
        return {
            "name": self.names.stack,
            "tags": self.names.tags,
            "network": env["env_network"],
            "listener_ports": self.listener_ports,
            "task_ports": sorted({svc["container_port"] for svc in self.services.values()}),
            "secret_arns": sorted(set(self.secret_references(region, account_id).values())),
            "container_insights": env["env_container_insights"],
            "ec2_capacity": env["env_ec2_capacity"],
        }

    def cloudwatch(self) -> Dict[str, Any]:
        """cloudwatch_stack's options of the services' side (before the services start)."""
        env, services = self.environment, sorted(self.services)
        return cloudwatch.service_side(self.names.stack, services, {svc: self.names.log_group(svc) for svc in services},
                                       env["env_log_retention_days"], env["env_log_kms_key_id"], env["env_alarm_email"],
                                       env["env_alarm_https_endpoint"])

    def cloudwatch_load_balancer(self, ctx: Context) -> Dict[str, Any]:
        """cloudwatch_stack's options of the load balancer's side (alarms per target group, the dashboard)."""
        arns = {svc: ctx.target_group_arns.get(self.names.target_group(svc), "") for svc in self.services}
        return cloudwatch.load_balancer_side(self.names.stack, ctx.region, sorted(self.services), ctx.load_balancer_arn, arns)

    def smoke_checks(self) -> List[Dict[str, Any]]:
        """deploy.yml's HTTP checks: listener 80's over HTTPS at the domain when there is one."""
        out = []
        domain = self.environment["env_domain"]
        for check in self.application.get("smoke_checks", []):
            https = bool(domain) and check["listener"] in (HTTP_PORT, HTTPS_PORT)
            out.append({"scheme": "https" if https else "http", "host": domain if https else "",
                        "port": HTTPS_PORT if https else check["listener"], "path": check["path"],
                        "status": check["status"], "name": ":%d%s" % (check["listener"], check["path"])})
        return out


def _https(listeners: List[Dict[str, Any]], routes: List[Dict[str, Any]], certificate_arn: str):
    """Move what port 80 does to HTTPS on 443, and make port 80 redirect there."""
    out = []
    for listener in listeners:
        if listener["port"] == HTTP_PORT:
            out.append({"port": HTTP_PORT, "protocol": "HTTP", "default_action": {"redirect": dict(HTTPS_REDIRECT)}})
            out.append(dict(listener, port=HTTPS_PORT, protocol="HTTPS", certificates=[certificate_arn], ssl_policy=HTTPS_SSL_POLICY))
        else:
            out.append(listener)
    moved = [dict(route, listener=HTTPS_PORT) if route["listener"] == HTTP_PORT else route for route in routes]
    return out, moved


# ---------------------------------------------------------------------------------------------
# Loading and validation


def load(application: Any, environment: Dict[str, Any]) -> Definition:
    """Validate the application document and the environment's ``env_*`` variables as a whole.

    Raises ``DefinitionError`` listing every problem, each with its option path and value.
    """
    problems = Problems()
    application, warnings = migrate(application)
    if isinstance(application, dict) and "format" not in application:
        problems.add("format", MISSING, "required: add `format: %d` at the top of the application file" % schema.FORMAT)
    app = schema.APPLICATION.validate(application, "", problems)
    env_input = dict(environment or {})
    env = schema.ENVIRONMENT.validate(env_input, "", problems)
    if isinstance(app, dict) and isinstance(env, dict) and isinstance(application.get("services"), dict):
        # Overrides of services that do not exist are reported with the schema's problems.
        _check_overrides(sorted(str(name) for name in application["services"]), env.get("env_services", {}), problems)
    if app is MISSING or env is MISSING or problems:
        problems.raise_if_any()
    services = {}
    for name, spec in app["services"].items():
        services[name] = merge(spec, env["env_services"].get(name, {}))
    definition = Definition(app, env, services, warnings)
    _check_references(definition, problems)
    problems.raise_if_any()
    return definition


def _near(name: str, known: List[str]) -> str:
    match = difflib.get_close_matches(name, known, n=1)
    return "; did you mean %s?" % match[0] if match else ""


def _check_overrides(known: List[str], overrides: Dict[str, Any], problems: Problems) -> None:
    for name in overrides:
        if name not in known:
            problems.add("env_services.%s" % name, overrides[name],
                         "no such service in the application (%s)%s" % (", ".join(known), _near(name, known)))


def _check_references(d: Definition, problems: Problems) -> None:
    app, env = d.application, d.environment
    known = sorted(app["services"])
    ports: List[int] = []
    for index, listener in enumerate(app["listeners"]):
        where = "listeners[%d]" % index
        if listener["port"] in ports:
            problems.add(where + ".port", listener["port"], "duplicate listener port")
        ports.append(listener["port"])
        if listener["default_service"] not in app["services"]:
            problems.add(where + ".default_service", listener["default_service"],
                         "no such service (%s)%s" % (", ".join(known), _near(listener["default_service"], known)))
    if env["env_domain"]:
        if HTTP_PORT not in ports:
            problems.add("env_domain", env["env_domain"], "HTTPS moves listener 80 to 443, but no listener is on port 80 "
                         "(listeners: %s)" % ", ".join(str(p) for p in ports))
        if HTTPS_PORT in ports:
            problems.add("listeners", ports, "port 443 is taken by env_domain's HTTPS listener; remove it or env_domain")
    else:
        for key in ("env_certificate_arn", "env_hosted_zone"):
            if env[key]:
                problems.add(key, env[key], "needs env_domain, the name users reach the application at")
    _check_names(d, problems)
    _check_routes(d, ports, problems)
    for name, spec in sorted(d.services.items()):
        _check_service(d, name, spec, problems)
    for index, check in enumerate(app.get("smoke_checks", [])):
        if check["listener"] not in ports and not (env["env_domain"] and check["listener"] == HTTPS_PORT):
            problems.add("smoke_checks[%d].listener" % index, check["listener"],
                         "no such listener (%s)" % ", ".join(str(p) for p in ports))


def _check_names(d: Definition, problems: Problems) -> None:
    names = d.names
    if len(names.stack) > LOAD_BALANCER_NAME_MAX:
        problems.add("env_name", d.environment["env_name"], "the load balancer's name %s is %d characters long; AWS allows %d: "
                     "shorten name or env_name" % (names.stack, len(names.stack), LOAD_BALANCER_NAME_MAX))
    if len(names.execution_role) > IAM_ROLE_NAME_MAX:
        problems.add("env_name", d.environment["env_name"], "the role name %s is longer than %d characters"
                     % (names.execution_role, IAM_ROLE_NAME_MAX))
    for svc in sorted(d.services):
        tg_name = names.target_group(svc)
        if len(tg_name) > TARGET_GROUP_NAME_MAX:
            problems.add("services.%s" % svc, MISSING, "its target group name %s is %d characters long; AWS allows %d: "
                         "shorten the service name or env_name" % (tg_name, len(tg_name), TARGET_GROUP_NAME_MAX))
    if len(d.services) > TARGET_GROUPS_PER_LOAD_BALANCER:
        problems.add("services", sorted(d.services), "a load balancer takes at most %d target groups"
                     % TARGET_GROUPS_PER_LOAD_BALANCER)


def _route_key(route: Dict[str, Any]) -> Tuple[Any, ...]:
    def norm(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(sorted(norm(v) for v in value))
        if isinstance(value, dict):
            return tuple(sorted((k, norm(v)) for k, v in value.items()))
        return value
    return (route["listener"],) + tuple(norm(route.get(key)) for key in ROUTE_CONDITIONS)


def _check_routes(d: Definition, ports: List[int], problems: Problems) -> None:
    seen: Dict[Tuple[Any, ...], str] = {}
    priorities: Dict[Tuple[int, int], str] = {}
    per_listener: Dict[int, int] = {}
    for svc in sorted(d.services):
        for index, route in enumerate(d.services[svc].get("routes", [])):
            where = "%s[%d]" % (d.where(svc, "routes"), index)
            if route["listener"] not in ports:
                problems.add(where + ".listener", route["listener"], "no such listener (%s)" % ", ".join(str(p) for p in ports))
            conditions = [key for key in ROUTE_CONDITIONS if route.get(key)]
            if not conditions:
                problems.add(where, route, "a route needs at least one condition (%s)" % ", ".join(ROUTE_CONDITIONS))
                continue
            values = sum(len(route[key]) if key != "http_headers" else sum(len(h["values"]) for h in route[key])
                         for key in conditions)
            if values > CONDITION_VALUES_PER_RULE:
                problems.add(where, route, "has %d condition values; ELBv2 allows %d per rule: split it into several routes"
                             % (values, CONDITION_VALUES_PER_RULE))
            key = _route_key(route)
            if key in seen:
                problems.add(where, route, "duplicate route: %s has the same listener and conditions" % seen[key])
            else:
                seen[key] = where
            if "priority" in route:
                pkey = (route["listener"], route["priority"])
                if pkey in priorities:
                    problems.add(where + ".priority", route["priority"], "already used on listener %d by %s"
                                 % (route["listener"], priorities[pkey]))
                priorities[pkey] = where
            per_listener[route["listener"]] = per_listener.get(route["listener"], 0) + 1
    for port, count in sorted(per_listener.items()):
        if count > RULES_PER_LISTENER:
            problems.add("listeners", port, "%d routes on listener %d; ELBv2 allows %d rules per listener"
                         % (count, port, RULES_PER_LISTENER))


def _check_service(d: Definition, svc: str, spec: Dict[str, Any], problems: Problems) -> None:
    if "image" in spec and "archive" in spec:
        problems.add(d.where(svc, "archive"), spec["archive"], "image and archive are exclusive: image names an image "
                     "that exists, archive is pushed to the service's ECR repository")
    allowed = FARGATE_SIZES.get(spec["cpu"])
    if allowed is None:
        problems.add(d.where(svc, "cpu"), spec["cpu"], "not a Fargate CPU size (one of %s)"
                     % ", ".join(str(c) for c in FARGATE_SIZES))
    elif spec["memory"] not in allowed:
        problems.add(d.where(svc, "memory"), spec["memory"], "Fargate cpu %d allows memory %d..%d MiB%s" % (
            spec["cpu"], allowed[0], allowed[-1],
            "" if len(allowed) > 8 else " (one of %s)" % ", ".join(str(m) for m in allowed)))
    if spec.get("memory_reservation", 0) > spec["memory"]:
        problems.add(d.where(svc, "memory_reservation"), spec["memory_reservation"],
                     "must be <= the task's memory (%d)" % spec["memory"])
    scaling = spec.get("autoscaling")
    if scaling and scaling["max_capacity"] < scaling["min_capacity"]:
        problems.add(d.where(svc, "autoscaling") + ".max_capacity", scaling["max_capacity"],
                     "must be >= min_capacity (%d)" % scaling["min_capacity"])
    for var, ref in sorted(spec.get("secrets", {}).items()):
        if not is_secret_reference(ref if ref.startswith("arn:") else d.names.secret_prefix + ref.lstrip("/")):
            problems.add("%s.%s" % (d.where(svc, "secrets"), var), ref,
                         "not an SSM parameter name, SSM parameter ARN or Secrets Manager secret ARN")
    clash = sorted(set(spec.get("environment", {})) & set(spec.get("secrets", {})))
    for var in clash:
        problems.add("%s.%s" % (d.where(svc, "secrets"), var), spec["secrets"][var],
                     "also set in environment: a variable is either plain or secret")
