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
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._app import cloudwatch
from ansible_collections.shipyard.ecs.plugins.module_utils._app import definition as schema
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import MISSING, Problems, join, merge
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.validate import FARGATE_SIZES, is_secret_reference
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.model import alternate_name

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
# Images an ECR repository keeps (by push date); untagged ones expire after a day.
KEEP_IMAGES = 30
# A permanent redirect to the same host, path and query over HTTPS.
HTTPS_REDIRECT = {"protocol": "HTTPS", "port": str(HTTPS_PORT), "host": "#{host}", "path": "/#{path}",
                  "query": "#{query}", "status_code": "HTTP_301"}
ROUTE_CONDITIONS = ("path_patterns", "host_headers", "http_headers", "methods", "query_strings", "source_ips")
# Stands for a value AWS assigns when the resource is created (check mode on a new account).
UNKNOWN = "(known after apply)"

# Dynamic host ports (bridge network mode) come from the instance's ephemeral range: the kernel's
# ip_local_port_range on the ECS-optimized AMI (32768-60999), or Docker's fallback 49153-65535 (ECS
# PortMapping.hostPort). 32768-65535 covers both and nothing below, where static ports live.
EPHEMERAL_PORTS = (32768, 65535)
# Log drivers ECS supports on Fargate (the others need EC2 instances).
FARGATE_LOG_DRIVERS = ("awslogs", "splunk", "awsfirelens")
WEB, BACKEND, WORKER = "web", "backend", "worker"
# What only a web service (behind the load balancer) has, and its defaults.
WEB_ONLY = ("routes", "health_check", "deregistration_delay", "health_check_grace_period")
WEB_DEFAULTS = {"deregistration_delay": 30, "health_check_grace_period": 60}
FARGATE_DEFAULTS = {"cpu": 256, "memory": 512}
# ``${load_balancer.dns_name}``, ``${services.users.discovery_name}``; ``$${`` is a literal ``${``.
REFERENCE = re.compile(r"\$(\$?)\{([^}]*)\}")
LOAD_BALANCER_REFERENCES = ("load_balancer.dns_name", "load_balancer.url")

# The application file before ``format: 1`` defined the application as top-level variables.
ROLLING = "rolling"
# The release strategies as ECS names them (deploymentConfiguration.strategy).
ECS_STRATEGIES = {"rolling": "ROLLING", "blue_green": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}
# The stage at which ecs_rolling_deploy checks test traffic (a PAUSE hook holds the deployment there).
CHECK_STAGE = "POST_TEST_TRAFFIC_SHIFT"
RELEASE_ONLY_WITH = {"canary": "canary", "linear": "linear"}

LEGACY_KEYS = {"app_name": "name", "app_listeners": "listeners", "app_services": "services",
               "app_smoke_checks": "smoke_checks"}


def _group_rule(rule: Dict[str, Any]) -> Dict[str, Any]:
    """One of :meth:`Definition.security_group_rules` as platform_stack takes it."""
    return {key: rule[key] for key in ("proto", "from_port", "to_port", "group_name", "rule_desc")}


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

    def repository(self, service: str, container: str = "") -> str:
        """ECR repository of a service's main image, or of one of its further containers."""
        return "%s/%s-%s" % (self.application, service, container) if container else "%s/%s" % (self.application, service)

    @property
    def ec2_capacity_provider(self) -> str:
        """The capacity provider of the environment's EC2 capacity (the platform role creates it)."""
        return "%s-ec2" % self.stack

    @property
    def default_namespace(self) -> str:
        return "%s.local" % self.stack

    @property
    def ecs_infrastructure_role(self) -> str:
        """The role ECS assumes to move listener rules in blue/green, canary and linear deployments."""
        return "%s-ecs-infrastructure" % self.stack

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
    def instance_security_group(self) -> str:
        return "%s-instances" % self.stack

    @property
    def security_group_descriptions(self) -> Dict[str, str]:
        """The groups' descriptions, as the platform role creates them (a rule naming a group that does not exist
        yet creates it with this description)."""
        return {"alb": "%s load balancer: listener ports open to the world" % self.stack,
                "tasks": "%s tasks: reachable only from the load balancer" % self.stack,
                "instances": "%s ECS container instances" % self.stack}

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
    private_subnet_ids: List[str] = field(default_factory=list)
    alb_security_group_id: str = ""
    task_security_group_id: str = ""
    execution_role_arn: str = ""
    task_role_arn: str = ""
    # Image key (the service's name; ``<service>.<container>`` for further containers) -> image reference
    # (pinned by digest once pushed).
    images: Dict[str, str] = field(default_factory=dict)
    certificate_arn: str = ""
    # Once the load balancer exists: its ARN and the target groups' ARNs by name (as alb_routes reports them).
    load_balancer_arn: str = ""
    target_group_arns: Dict[str, str] = field(default_factory=dict)
    # The load balancer's DNS name once alb_routes ran (what ``${load_balancer.dns_name}`` becomes).
    load_balancer_dns_name: str = ""
    # alb_routes' ``advanced_configuration`` (by primary target group: the alternate and the production and test
    # listener rules ECS moves), and the ECS infrastructure role ECS assumes to move them (platform role).
    advanced_configuration: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    infrastructure_role_arn: str = ""


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
        """The load balancer's ports (443 added when the environment has a domain); none without a load balancer."""
        ports = [listener["port"] for listener in self.application.get("listeners", [])]
        return ports + [HTTPS_PORT] if self.environment["env_domain"] and ports else ports

    # -- shapes ------------------------------------------------------------------------------

    def kind(self, svc: str) -> str:
        return self.services[svc]["kind"]

    def web_services(self) -> List[str]:
        return [svc for svc in sorted(self.services) if self.kind(svc) == WEB]

    @property
    def has_load_balancer(self) -> bool:
        """A load balancer exists exactly when a service is a web service (listeners are checked to match)."""
        return bool(self.web_services())

    def container_name(self, svc: str) -> str:
        return self.services[svc].get("container_name") or svc

    def target_type(self, svc: str) -> str:
        """A web service's targets: its tasks' addresses (awsvpc) or the instances' dynamic ports."""
        return "ip" if self.services[svc]["network_mode"] == "awsvpc" else "instance"

    def target_group_name(self, svc: str) -> str:
        """A web service's target group: ``<env>-<service>``, with ``-instance`` for instance targets. AWS cannot
        change a target group's type, so a service moving between awsvpc and bridge or host gets the other
        group (created, routed to, then the old one deleted) rather than a refusal."""
        base = self.names.target_group(svc)
        return base + "-instance" if self.target_type(svc) == "instance" else base

    # -- release strategy --------------------------------------------------------------------

    def release(self, svc: str) -> Dict[str, Any]:
        """The service's ``release`` with its defaults: strategy, bake time, test traffic, checks."""
        spec = self.services[svc]
        given = spec.get("release") or {}
        out = {"strategy": given.get("strategy", ROLLING), "bake_minutes": given.get("bake_minutes", 0),
               "canary": given.get("canary") or {}, "linear": given.get("linear") or {},
               "test_traffic": given.get("test_traffic") or {},
               "pause_after_steps": bool(given.get("pause_after_steps", False)), "hold": bool(given.get("hold", False))}
        if "checks" in given:
            out["checks"] = [dict(c, status=c.get("status", 200)) for c in given["checks"]]
        elif spec["kind"] == WEB and out["strategy"] != ROLLING:
            health = spec.get("health_check") or {}
            code = re.match(r"\d{3}", health.get("matcher", "200")).group(0)
            out["checks"] = [{"path": health.get("path", "/"), "status": int(code)}]
        else:
            out["checks"] = []
        return out

    def strategy(self, svc: str) -> str:
        return (self.services[svc].get("release") or {}).get("strategy", ROLLING)

    def progressive_services(self) -> List[str]:
        """Web services ECS releases blue/green, canary or linear (with an alternate target group)."""
        return [svc for svc in self.web_services() if self.strategy(svc) != ROLLING]

    def serving_target_groups(self) -> Dict[str, List[str]]:
        """Each web service's target groups, one of which serves it: its own and, for a blue/green, canary or
        linear service, its alternate. ECS moves production traffic between the two at each release and
        empties the one left, so between releases one of them has no targets (deploy.yml's smoke check)."""
        out = {}
        for svc in self.web_services():
            name = self.target_group_name(svc)
            out[svc] = [name, alternate_name({"name": name, "alternate": True})] if self.strategy(svc) != ROLLING else [name]
        return out

    @property
    def test_listener_ports(self) -> List[int]:
        return [lst["port"] for lst in self.application.get("listeners", []) if lst.get("test")]

    def production_entry(self, svc: str) -> List[Tuple[str, Any]]:
        """Where production traffic reaches a service: ("route", index) per route, ("listener", port) per
        production listener it is the default service of."""
        test_ports = self.test_listener_ports
        out: List[Tuple[str, Any]] = [("route", i) for i, r in enumerate(self.services[svc].get("routes", []))
                                      if r["listener"] not in test_ports]
        out += [("listener", lst["port"]) for lst in self.application.get("listeners", [])
                if lst["default_service"] == svc and not lst.get("test")]
        return out

    def _production_port(self, svc: str) -> int:
        kind, where = self.production_entry(svc)[0]
        return self.services[svc]["routes"][where]["listener"] if kind == "route" else where

    def test_traffic(self, svc: str, ctx: "Context") -> Optional[Dict[str, Any]]:
        """ecs_rolling_deploy's ``test_traffic`` of a blue/green, canary or linear service with checks."""
        release = self.release(svc)
        if release["strategy"] == ROLLING or not release["checks"]:
            return None
        dns = ctx.load_balancer_dns_name or UNKNOWN
        traffic = release["test_traffic"]
        headers: Dict[str, str] = {}
        if "listener" in traffic:
            url = "http://%s:%d" % (dns, traffic["listener"])
        else:
            port = self._production_port(svc)
            domain = self.environment["env_domain"]
            url = "https://%s" % domain if domain and port == HTTP_PORT else "http://%s:%d" % (dns, port)
            headers = {traffic["http_header"]["name"]: traffic["http_header"]["value"]}
        return {"url": url, "headers": headers,
                "checks": [{k: c[k] for k in ("path", "status", "contains") if k in c} for c in release["checks"]],
                "reachable": bool(self.environment["env_smoke_http"]),
                "pause_after_steps": release["pause_after_steps"], "hold": release["hold"]}

    def deployment_configuration(self, svc: str) -> Dict[str, Any]:
        """ecs_stack's deployment_configuration of a service: the circuit breaker, the strategy and its hook."""
        conf: Dict[str, Any] = {"minimum_healthy_percent": 100, "maximum_percent": 200,
                                "circuit_breaker": {"enable": True, "rollback": True}}
        release = self.release(svc)
        if release["strategy"] == ROLLING:
            return conf
        conf["strategy"] = ECS_STRATEGIES[release["strategy"]]
        conf["bake_time_in_minutes"] = release["bake_minutes"]
        if release["strategy"] == "canary" and release["canary"]:
            conf["canary_configuration"] = {k: v for k, v in (
                ("canary_percent", release["canary"].get("percent")),
                ("canary_bake_time_in_minutes", release["canary"].get("bake_minutes"))) if v is not None}
        if release["strategy"] == "linear" and release["linear"]:
            conf["linear_configuration"] = {k: v for k, v in (
                ("step_percent", release["linear"].get("step_percent")),
                ("step_bake_time_in_minutes", release["linear"].get("step_bake_minutes"))) if v is not None}
        # The checks wait at a PAUSE hook after the test traffic shift; ECS rolls back if nobody answers
        # within the release timeout.
        timeout = -(-self.environment["env_release_timeout"] // 60)
        conf["lifecycle_hooks"] = [{"target_type": "PAUSE", "lifecycle_stages": [CHECK_STAGE],
                                    "timeout_in_minutes": timeout, "timeout_action": "ROLLBACK"}] if release["checks"] else []
        return conf

    def advanced_configuration(self, svc: str, ctx: "Context") -> Dict[str, Any]:
        """ecs_stack's load_balancers[].advanced_configuration from alb_routes' result and the platform's role."""
        tg_name = self.target_group_name(svc)
        found = ctx.advanced_configuration.get(tg_name) or {}
        out = {"alternate_target_group": found.get("alternate_target_group")
               or alternate_name({"name": tg_name, "alternate": True}),
               "production_listener_rule": found.get("production_listener_rule") or UNKNOWN,
               "role_arn": ctx.infrastructure_role_arn or UNKNOWN}
        out["test_listener_rule"] = found.get("test_listener_rule") or UNKNOWN
        return out

    def container_specs(self, svc: str) -> List[Tuple[str, Dict[str, Any], str]]:
        """``(container name, its keys, image key)`` of each container of the service's task, the main one first."""
        spec = self.services[svc]
        out = [(self.container_name(svc), spec, svc)]
        for name, container in spec.get("containers", {}).items():
            out.append((name, container, "%s.%s" % (svc, name)))
        return out

    def discovery(self, svc: str) -> Optional[Dict[str, Any]]:
        """The service's Cloud Map registration (name, record type, TTL), or None."""
        spec = self.services[svc]
        found = spec.get("discovery")
        if not found or not found.get("enabled", True):
            return None
        bridge_or_host = spec["network_mode"] != "awsvpc"
        return {"name": found.get("name") or svc, "dns_record_type": found.get("dns_record_type") or ("SRV" if bridge_or_host else "A"),
                "ttl": found.get("ttl", 60)}

    @property
    def namespace(self) -> str:
        return self.environment["env_service_discovery"].get("namespace") or self.names.default_namespace

    def discovery_name(self, svc: str) -> str:
        found = self.discovery(svc)
        return "%s.%s" % (found["name"], self.namespace) if found else ""

    def uses_discovery(self) -> bool:
        return any(self.discovery(svc) for svc in self.services)

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
        for name in sorted(self.services):
            for container, spec, _key in self.container_specs(name):
                base = self.container_where(name, container)
                for var, ref in sorted(spec.get("secrets", {}).items()):
                    out["%s.secrets.%s" % (base, var)] = self.secret_arn(ref, region, account_id)
                for option, ref in sorted((spec.get("logging") or {}).get("secret_options", {}).items()):
                    out["%s.logging.secret_options.%s" % (base, option)] = self.secret_arn(ref, region, account_id)
        return out

    def where(self, service: str, key: str = "") -> str:
        """The option path of a service's key: env_services where the environment set it."""
        override = self.environment["env_services"].get(service, {})
        base = "env_services.%s" % service if key and key in override else "services.%s" % service
        return join(base, key) if key else base

    def container_where(self, service: str, container: str, key: str = "") -> str:
        """The option path of a container's key (the main container's keys are the service's)."""
        if container == self.container_name(service) and container not in self.services[service].get("containers", {}):
            return self.where(service, key)
        override = self.environment["env_services"].get(service, {}).get("containers", {}).get(container, {})
        base = "%s.%s.containers.%s" % ("env_services" if key and key in override else "services", service, container)
        return join(base, key) if key else base

    def resolve(self, value: str, ctx: "Context") -> str:
        """An environment value with its references replaced by the deployed values."""
        def replace(match: "re.Match[str]") -> str:
            if match.group(1):
                return "${%s}" % match.group(2)
            ref = match.group(2).strip()
            if ref in LOAD_BALANCER_REFERENCES:
                if not ctx.load_balancer_dns_name or ctx.load_balancer_dns_name == UNKNOWN:
                    return UNKNOWN
                if ref == "load_balancer.dns_name":
                    return ctx.load_balancer_dns_name
                domain = self.environment["env_domain"]
                return "https://%s" % domain if domain else "http://%s" % ctx.load_balancer_dns_name
            return self.discovery_name(ref.split(".")[1])
        return REFERENCE.sub(replace, value)

    def image_keys(self) -> List[Tuple[str, str, Dict[str, Any], str]]:
        """``(image key, service, container keys, option path)`` of every container."""
        out = []
        for svc in sorted(self.services):
            for container, spec, key in self.container_specs(svc):
                out.append((key, svc, spec, self.container_where(svc, container)))
        return out

    def image_where(self, key: str, option: str = "") -> str:
        """The option path of an image key's container (of ``option`` in it)."""
        svc, _dot, container = key.partition(".")
        return self.container_where(svc, container or self.container_name(svc), option)

    def _repository_of(self, key: str) -> str:
        svc, _dot, container = key.partition(".")
        spec = {k: s for k, _svc, s, _w in self.image_keys()}[key]
        return spec.get("repository") or self.names.repository(svc, container)

    def repositories(self) -> List[Dict[str, Any]]:
        """ecr_image_push's repositories: one per repository a container without ``image`` runs from, with the
        archive pushed to it (containers sharing a repository share the one entry)."""
        out: Dict[str, Dict[str, Any]] = {}
        for key, _svc, spec, _where in self.image_keys():
            if "image" in spec:
                continue
            repo = out.setdefault(self._repository_of(key), {"name": self._repository_of(key)})
            if "archive" in spec:
                repo["archive"] = spec["archive"]
        return list(out.values())

    def ecr_push(self) -> Dict[str, Any]:
        """ecr_image_push's options: every repository (and archive) in one run, the image tag, the repositories'
        settings (scan on push, untagged images expire after a day, the newest KEEP_IMAGES kept) and tags."""
        return {
            "repositories": self.repositories(),
            "image_tags": [self.environment["env_image_tag"]],
            "image_tag_mutability": self.environment["env_image_tag_mutability"],
            "scan_on_push": True,
            "lifecycle_rules": [{"tag_status": "untagged", "expire_days": 1},
                                {"tag_status": "any", "keep_last": KEEP_IMAGES}],
            "tags": self.names.tags,
        }

    def repository_names(self) -> Dict[str, str]:
        """Image key -> its ECR repository, for the containers without ``image``."""
        return {key: self._repository_of(key) for key, _svc, spec, _where in self.image_keys() if "image" not in spec}

    def image_of(self, key: str, region: str, account_id: str) -> str:
        """The image reference a container runs before any push pins it by digest (key: service or service.container)."""
        spec = {k: s for k, _svc, s, _w in self.image_keys()}[key]
        if "image" in spec:
            return spec["image"]
        suffix = ".com.cn" if region.startswith("cn-") else ".com"
        return "%s.dkr.ecr.%s.amazonaws%s/%s:%s" % (account_id, region, suffix, self._repository_of(key),
                                                    self.environment["env_image_tag"])

    # -- rendering ----------------------------------------------------------------------------

    def render(self, ctx: Context) -> Dict[str, Any]:
        """The options of every module and role, for this environment and what AWS knows."""
        names = self.names
        tags = names.tags
        images = {key: ctx.images.get(key) or self.image_of(key, ctx.region, ctx.account_id)
                  for key, _svc, _spec, _where in self.image_keys()}
        target_groups, routes, stack_services, release_services = [], [], [], []
        for svc in sorted(self.services):
            spec = self.services[svc]
            web = spec["kind"] == WEB
            task_definition = self._task_definition(svc, images, ctx)
            service: Dict[str, Any] = {
                "name": svc,
                "desired_count": spec["desired_count"],
                "task_definition": task_definition,
                "deployment_configuration": self.deployment_configuration(svc),
                "propagate_tags": "SERVICE",
                "tags": tags,
            }
            if spec["placement"] == "fargate":
                service["launch_type"] = "FARGATE"
            else:
                service["capacity_provider_strategy"] = [{"capacity_provider": names.ec2_capacity_provider, "weight": 1, "base": 0}]
            if spec["network_mode"] == "awsvpc":
                private = spec["subnets"] == "private"
                service["network_configuration"] = {
                    "subnets": list(ctx.private_subnet_ids if private else ctx.subnet_ids),
                    "security_groups": [ctx.task_security_group_id] if ctx.task_security_group_id else [],
                    # Fargate tasks in public subnets need a public address to pull images; EC2 tasks cannot have one.
                    "assign_public_ip": spec["placement"] == "fargate" and not private}
            if web:
                tg_name = self.target_group_name(svc)
                target_groups.append({
                    "name": tg_name, "port": spec["container_port"], "protocol": "HTTP",
                    "target_type": self.target_type(svc),
                    "vpc_id": ctx.vpc_id, "deregistration_delay": spec["deregistration_delay"], "tags": tags,
                    "health_check": dict(spec["health_check"]),
                })
                progressive = self.strategy(svc) != ROLLING
                if progressive:
                    target_groups[-1]["alternate"] = True
                routes.extend(self._routes(svc, tg_name))
                service["load_balancers"] = [{"target_group": tg_name, "container_name": self.container_name(svc),
                                              "container_port": spec["container_port"]}]
                if progressive:
                    service["load_balancers"][0]["advanced_configuration"] = self.advanced_configuration(svc, ctx)
                service["health_check_grace_period"] = spec["health_check_grace_period"]
            found = self.discovery(svc)
            if found:
                registry = dict(found)
                if found["dns_record_type"] == "SRV":
                    registry.update(container_name=self.container_name(svc), container_port=spec["container_port"])
                service["service_discovery"] = registry
            if "autoscaling" in spec:
                service["autoscaling"] = self.autoscaling(svc)
            stack_services.append(service)
            release: Dict[str, Any] = {"name": svc, "definition": task_definition}
            test_traffic = self.test_traffic(svc, ctx) if web else None
            if test_traffic:
                release["test_traffic"] = test_traffic
            release_services.append(release)
        listeners = [self._listener(lst) for lst in self.application.get("listeners", [])]
        if self.environment["env_domain"] and listeners:
            listeners, routes = _https(listeners, routes, ctx.certificate_arn or UNKNOWN)
        cluster: Dict[str, Any] = {"name": names.stack}
        if self.uses_discovery():
            cluster["service_discovery_namespace"] = {
                "name": self.namespace, "vpc": ctx.vpc_id or UNKNOWN,
                "description": "%s: service discovery" % names.stack, "tags": tags}
        return {
            "name": names.stack,
            "application": names.application,
            "environment": names.environment,
            "tags": tags,
            "has_load_balancer": self.has_load_balancer,
            "load_balancer": {"target_groups": target_groups, "listeners": listeners, "routes": routes},
            "cluster": cluster,
            "stack_services": stack_services,
            "release_services": release_services,
            "log_groups": self.log_groups(),
            "images": images,
            "cloudwatch_load_balancer": self.cloudwatch_load_balancer(ctx),
        }

    def _routes(self, svc: str, tg_name: str) -> List[Dict[str, Any]]:
        """alb_routes' routes of a web service; for blue/green, canary and linear the production rule is
        ECS's (``ecs_traffic: production``) and a header test rule (``ecs_traffic: test``) precedes it."""
        spec = self.services[svc]
        release = self.release(svc)
        progressive = release["strategy"] != ROLLING
        header = release["test_traffic"].get("http_header") if progressive else None
        out: List[Dict[str, Any]] = []
        for route in spec.get("routes", []):
            rule = {"listener": route["listener"], "target_group": tg_name}
            rule.update({key: route[key] for key in ROUTE_CONDITIONS + ("priority",) if route.get(key)})
            if progressive:
                rule["ecs_traffic"] = "production"
                if header:
                    test = {k: v for k, v in rule.items() if k != "priority"}
                    test["http_headers"] = list(rule.get("http_headers", [])) + [
                        {"name": header["name"], "values": [header["value"]]}]
                    test["ecs_traffic"] = "test"
                    out.append(test)
            out.append(rule)
        if header and not spec.get("routes"):
            # Production traffic is a listener's default action: the test rule is on that listener.
            port = self._production_port(svc)
            out.append({"listener": port, "target_group": tg_name, "ecs_traffic": "test",
                        "http_headers": [{"name": header["name"], "values": [header["value"]]}]})
        return out

    def _listener(self, lst: Dict[str, Any]) -> Dict[str, Any]:
        """alb_routes' listener: its default action ECS's when its default service is blue/green, canary or linear."""
        action: Dict[str, Any] = {"target_group": self.target_group_name(lst["default_service"])}
        if self.strategy(lst["default_service"]) != ROLLING:
            action["ecs_traffic"] = "test" if lst.get("test") else "production"
        return {"port": lst["port"], "protocol": "HTTP", "default_action": action}

    def autoscaling(self, svc: str) -> Dict[str, Any]:
        """ecs_stack's autoscaling option of a service: its capacity range and CPU target tracking."""
        scaling = self.services[svc]["autoscaling"]
        return {
            "min_capacity": scaling["min_capacity"], "max_capacity": scaling["max_capacity"],
            "policies": [{"name": "cpu%d" % int(scaling["cpu_target"]), "metric": "cpu",
                          "target": scaling["cpu_target"], "scale_in_cooldown": scaling["scale_in_cooldown"],
                          "scale_out_cooldown": scaling["scale_out_cooldown"]}],
        }

    def log_configuration(self, svc: str, spec: Dict[str, Any], region: str, account_id: str) -> Dict[str, Any]:
        """A container's ``awslogs`` or ``log_configuration`` option of ecs_stack."""
        logging = spec.get("logging") or {}
        driver = logging.get("driver", "awslogs")
        if driver == "awslogs" and not logging.get("secret_options") and not logging.get("options"):
            return {"awslogs": {"group": logging.get("group") or self.names.log_group(svc), "region": region,
                                "stream_prefix": logging.get("stream_prefix") or svc}}
        options = dict(logging.get("options", {}))
        if driver == "awslogs":
            options.update({"awslogs-group": logging.get("group") or self.names.log_group(svc), "awslogs-region": region,
                            "awslogs-stream-prefix": logging.get("stream_prefix") or svc})
        out: Dict[str, Any] = {"log_driver": driver, "options": options}
        if logging.get("secret_options"):
            out["secret_options"] = {name: self.secret_arn(ref, region, account_id)
                                     for name, ref in logging["secret_options"].items()}
        return {"log_configuration": out}

    def log_groups(self) -> Dict[str, List[str]]:
        """The awslogs log groups each service writes to (custom groups included), by service."""
        out: Dict[str, List[str]] = {}
        for svc in sorted(self.services):
            groups = []
            for _name, spec, _key in self.container_specs(svc):
                logging = spec.get("logging") or {}
                if logging.get("driver", "awslogs") == "awslogs":
                    group = logging.get("group") or self.names.log_group(svc)
                    if group not in groups:
                        groups.append(group)
            out[svc] = groups
        return out

    def _port_mappings(self, svc: str, spec: Dict[str, Any], main: bool) -> List[Dict[str, Any]]:
        mode = self.services[svc]["network_mode"]
        ports = ([{"container_port": spec["container_port"]}] if main and "container_port" in spec else []) + \
            [dict(p) for p in spec.get("ports", [])]
        out = []
        for port in ports:
            mapping = {"container_port": port["container_port"]}
            if mode == "bridge":
                mapping["host_port"] = port.get("host_port") or 0
            elif mode == "host":
                mapping["host_port"] = port["container_port"]
            if port.get("protocol", "tcp") != "tcp":
                mapping["protocol"] = port["protocol"]
            out.append(mapping)
        return out

    def _container(self, svc: str, name: str, spec: Dict[str, Any], image: str, main: bool, ctx: Context) -> Dict[str, Any]:
        container: Dict[str, Any] = {"name": name, "image": image, "essential": spec.get("essential", True)}
        ports = self._port_mappings(svc, spec, main)
        if ports:
            container["port_mappings"] = ports
        container.update(self.log_configuration(svc, spec, ctx.region, ctx.account_id))
        if spec.get("environment"):
            container["environment"] = {var: self.resolve(value, ctx) for var, value in spec["environment"].items()}
        if spec.get("secrets"):
            container["secrets"] = {var: self.secret_arn(ref, ctx.region, ctx.account_id) for var, ref in spec["secrets"].items()}
        sizes = (("container_cpu", "cpu"), ("container_memory", "memory")) if main else (("cpu", "cpu"), ("memory", "memory"))
        for key, option in sizes:
            if key in spec:
                container[option] = spec[key]
        for key in ("command", "entry_point", "working_directory", "user", "memory_reservation", "stop_timeout",
                    "readonly_root_filesystem", "docker_labels", "links"):
            if key in spec:
                container[key] = spec[key]
        if spec.get("depends_on"):
            container["depends_on"] = [{"container_name": other, "condition": condition}
                                       for other, condition in spec["depends_on"].items()]
        health = spec.get("container_health_check" if main else "health_check")
        if health:
            container["health_check"] = dict(health)
        return container

    def _task_definition(self, svc: str, images: Dict[str, str], ctx: Context) -> Dict[str, Any]:
        spec = self.services[svc]
        containers = [self._container(svc, name, cspec, images[key], index == 0, ctx)
                      for index, (name, cspec, key) in enumerate(self.container_specs(svc))]
        out: Dict[str, Any] = {
            "family": self.names.family(svc),
            "network_mode": spec["network_mode"],
            "requires_compatibilities": ["FARGATE" if spec["placement"] == "fargate" else "EC2"],
            "containers": containers,
        }
        for key in ("cpu", "memory"):
            if key in spec:
                out[key] = str(spec[key])
        for key in ("execution_role_arn", "task_role_arn"):
            if getattr(ctx, key):
                out[key] = getattr(ctx, key)
        return out

    def security_group_rules(self) -> Dict[str, List[Dict[str, Any]]]:
        """Inbound rules (amazon.aws.ec2_security_group's) of the tasks' and the instances' groups: from the load
        balancer on exactly the ports each web service's placement needs, and from the tasks to backend services."""
        groups = self.names.security_groups
        sources = {"alb": groups["alb"], "tasks": groups["tasks"], "instances": self.names.instance_security_group}
        wanted: Dict[str, Dict[Tuple[int, int, str], List[str]]] = {"tasks": {}, "instances": {}}
        for svc in sorted(self.services):
            spec = self.services[svc]
            if spec["kind"] == WORKER or "container_port" not in spec:
                continue
            mode = spec["network_mode"]
            if mode == "awsvpc":
                group, ports = "tasks", (spec["container_port"], spec["container_port"])
            elif mode == "host":
                group, ports = "instances", (spec["container_port"], spec["container_port"])
            else:
                group, ports = "instances", EPHEMERAL_PORTS
            # Backends are called by the other services' tasks: awsvpc ones from the tasks' group, bridge and host ones
            # from their instances' group.
            callers = ["alb"] if spec["kind"] == WEB else ["tasks"] + (["instances"] if self.uses_instance_network() else [])
            for caller in callers:
                wanted[group].setdefault(ports + (caller,), []).append(svc)
        out: Dict[str, List[Dict[str, Any]]] = {}
        for group, rules in wanted.items():
            out[group] = [{"proto": "tcp", "from_port": low, "to_port": high, "group_name": sources[caller],
                           "group_desc": self.names.security_group_descriptions[caller],
                           "rule_desc": "%s to %s" % (caller, ", ".join(svcs))}
                          for (low, high, caller), svcs in sorted(rules.items())]
        return out

    def uses_instance_network(self) -> bool:
        """Whether a service's tasks use their instances' network (bridge or host mode)."""
        return any(spec["network_mode"] != "awsvpc" for spec in self.services.values())

    def platform(self, region: str, account_id: str) -> Dict[str, Any]:
        """What the platform role is given."""
        env = self.environment
        rules = self.security_group_rules()
        capacity = dict(env["env_ec2_capacity"])
        if capacity:
            stack = self.names.stack
            capacity["scaling_policies"] = [
                {"name": "%s-%s" % (stack, policy["name"]), "metric_type": schema.ASG_METRICS[policy["metric"]],
                 "target": policy["target"], "disable_scale_in": policy["disable_scale_in"],
                 **({"warmup": policy["warmup"]} if "warmup" in policy else {})}
                for policy in capacity.get("scaling_policies", [])]
        return {
            "name": self.names.stack,
            "tags": self.names.tags,
            "network": env["env_network"],
            "listener_ports": self.listener_ports,
            "task_ports": sorted({r["from_port"] for r in rules["tasks"] if r["group_name"] == self.names.security_groups["alb"]}),
            "task_rules": rules["tasks"],
            "instance_rules": rules["instances"],
            "private_subnets": "private_subnet_ids" in env["env_network"] or "private_subnet_tags" in env["env_network"],
            "secret_arns": sorted(set(self.secret_references(region, account_id).values())),
            "container_insights": env["env_container_insights"],
            "ec2_capacity": capacity,
            # The role ECS assumes to move listener rules in blue/green, canary and linear deployments.
            "ecs_infrastructure_role": bool(self.progressive_services()),
        }

    def platform_stack(self, region: str, account_id: str) -> Dict[str, Any]:
        """platform_stack's options: the network, the load balancer's, tasks' and (with EC2 capacity) instances' security
        groups, the task execution role (reading exactly the application's secrets), the task role and, for blue/green,
        canary and linear services, the role ECS moves listener rules with."""
        names, env = self.names, self.environment
        rules = self.security_group_rules()
        descriptions = names.security_group_descriptions
        groups = []
        if self.has_load_balancer:
            groups.append({"name": names.security_groups["alb"], "description": descriptions["alb"],
                           "rules": [{"from_port": port, "to_port": port, "cidr_ip": "0.0.0.0/0", "rule_desc": "load balancer listeners"}
                                     for port in sorted(set(self.listener_ports))]})
        groups.append({"name": names.security_groups["tasks"], "description": descriptions["tasks"],
                       "rules": [_group_rule(rule) for rule in rules["tasks"]]})
        if env["env_ec2_capacity"]:
            groups.append({"name": names.instance_security_group, "description": descriptions["instances"],
                           "rules": [_group_rule(rule) for rule in rules["instances"]]})
        policy = "arn:%s:iam::aws:policy/" % partition_of(region)
        secret_arns = sorted(set(self.secret_references(region, account_id).values()))
        ssm = [arn for arn in secret_arns if arn.split(":")[2] == "ssm"]
        secretsmanager = [arn for arn in secret_arns if arn.split(":")[2] == "secretsmanager"]
        statements = ([{"Sid": "ReadParameters", "Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ssm}] if ssm else []) + \
            ([{"Sid": "ReadSecrets", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": secretsmanager}]
             if secretsmanager else [])
        roles = [
            {"name": names.execution_role, "description": "%s: pull images, write logs, read the application's secrets" % names.stack,
             "trust_service": "ecs-tasks.amazonaws.com", "managed_policies": [policy + "service-role/AmazonECSTaskExecutionRolePolicy"],
             # Without secrets the policy goes: the role reads exactly the secrets the application names.
             "inline_policies": {"read-secrets": {"Version": "2012-10-17", "Statement": statements} if statements else None}},
            {"name": names.task_role, "description": "%s: what the application's containers may call" % names.stack,
             "trust_service": "ecs-tasks.amazonaws.com", "managed_policies": [], "inline_policies": {}},
        ]
        if self.progressive_services():
            roles.append({"name": names.ecs_infrastructure_role,
                          "description": "%s: ECS moves listener rules in blue/green, canary and linear deployments" % names.stack,
                          "trust_service": "ecs.amazonaws.com",
                          "managed_policies": [policy + "AmazonECSInfrastructureRolePolicyForLoadBalancers"], "inline_policies": {}})
        return {"name": names.stack, "tags": names.tags, "network": dict(env["env_network"]), "security_groups": groups, "roles": roles}

    def cluster_settings(self) -> Dict[str, Any]:
        """ecs_stack's ``cluster`` option as the platform role gives it: Fargate capacity (the EC2 capacity provider joins
        once its Auto Scaling group exists, in the platform role), Container Insights, tags."""
        return {"name": self.names.stack,
                "container_insights": "enabled" if self.environment["env_container_insights"] else "disabled",
                "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
                "default_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1}],
                "tags": self.names.tags}

    def cloudwatch(self) -> Dict[str, Any]:
        """cloudwatch_stack's options of the services' side (before the services start)."""
        env, services = self.environment, sorted(self.services)
        return cloudwatch.service_side(self.names.stack, services, self.log_groups(),
                                       env["env_log_retention_days"], env["env_log_kms_key_id"], env["env_alarm_email"],
                                       env["env_alarm_https_endpoint"])

    def cloudwatch_load_balancer(self, ctx: Context) -> Dict[str, Any]:
        """cloudwatch_stack's options of the load balancer's side (alarms per target group of the web services,
        the dashboard of every service)."""
        web = self.web_services()
        arns = {svc: ctx.target_group_arns.get(self.target_group_name(svc), "") for svc in web}
        return cloudwatch.load_balancer_side(self.names.stack, ctx.region, sorted(self.services), ctx.load_balancer_arn, arns,
                                             web_services=web)

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
    for spec in services.values():
        spec.setdefault("placement", "ec2" if env["env_ec2_capacity"].get("default") else "fargate")
    definition = Definition(app, env, services, warnings)
    # What a kind refuses is what the user wrote: checked before the kind's defaults are filled in.
    for name in sorted(services):
        _check_kind(definition, name, services[name], problems)
    problems.raise_if_any()
    for name in sorted(services):
        _fill_defaults(services[name])
    _check_references(definition, problems)
    problems.raise_if_any()
    return definition


def _fill_defaults(spec: Dict[str, Any]) -> None:
    """The defaults that depend on the service's kind and placement."""
    if spec["kind"] == WEB:
        if "health_check" not in spec:
            spec["health_check"] = schema.HEALTH_CHECK.validate({}, "", Problems())
        for key, value in WEB_DEFAULTS.items():
            spec.setdefault(key, value)
    if spec["placement"] == "fargate":
        for key, value in FARGATE_DEFAULTS.items():
            spec.setdefault(key, value)
    if spec["kind"] == BACKEND and "discovery" not in spec:
        spec["discovery"] = {"enabled": True, "ttl": 60}


def _check_kind(d: Definition, svc: str, spec: Dict[str, Any], problems: Problems) -> None:
    """Options that make no sense for the service's kind or placement, refused with their path."""
    kind = spec["kind"]
    if kind != WEB:
        for key in WEB_ONLY:
            if key in spec:
                problems.add(d.where(svc, key), spec[key], "only web services have it (%s is kind %s: no load balancer)"
                             % (svc, kind))
    if kind == WORKER:
        for key in ("container_port", "discovery"):
            if key in spec:
                problems.add(d.where(svc, key), spec[key], "a worker has no port and is not found by other services: "
                             "make it kind backend or web")
    elif "container_port" not in spec:
        problems.add(d.where(svc, "container_port"), MISSING, "required for kind %s (the port %s reach it on)"
                     % (kind, "the load balancer's targets" if kind == WEB else "other services"))
    if spec["placement"] == "ec2" and not d.environment["env_ec2_capacity"]:
        problems.add(d.where(svc, "placement"), "ec2", "the environment has no EC2 capacity: set env_ec2_capacity")
    if spec["network_mode"] != "awsvpc":
        if spec["placement"] != "ec2":
            problems.add(d.where(svc, "network_mode"), spec["network_mode"], "Fargate runs awsvpc only: set placement: ec2")
        if spec["subnets"] == "private":
            problems.add(d.where(svc, "subnets"), "private", "%s tasks use their instances' network: subnets apply to "
                         "awsvpc only" % spec["network_mode"])
    if spec["subnets"] == "private":
        network = d.environment["env_network"]
        if "private_subnet_ids" not in network and "private_subnet_tags" not in network:
            problems.add(d.where(svc, "subnets"), "private", "the environment has no private subnets: set "
                         "env_network.private_subnet_ids or private_subnet_tags")
    found = spec.get("discovery")
    if found and found.get("enabled", True) and found.get("dns_record_type") == "A" and spec["network_mode"] != "awsvpc":
        problems.add(d.where(svc, "discovery") + ".dns_record_type", "A", "%s network mode registers SRV records "
                     "(address and port): A records need awsvpc" % spec["network_mode"])
    if spec["placement"] == "fargate":
        for name, cspec, _key in d.container_specs(svc):
            driver = (cspec.get("logging") or {}).get("driver", "awslogs")
            if driver not in FARGATE_LOG_DRIVERS:
                problems.add(d.container_where(svc, name, "logging") + ".driver", driver,
                             "Fargate supports %s only: use placement: ec2" % ", ".join(FARGATE_LOG_DRIVERS))


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
    web = d.web_services()
    ports: List[int] = []
    if web and not app.get("listeners"):
        problems.add("listeners", app.get("listeners", []), "web services (%s) are reached through the load balancer: add a "
                     "listener, or make them kind backend or worker" % ", ".join(web))
    for index, listener in enumerate(app.get("listeners", [])):
        where = "listeners[%d]" % index
        if listener["port"] in ports:
            problems.add(where + ".port", listener["port"], "duplicate listener port")
        ports.append(listener["port"])
        if listener["default_service"] not in app["services"]:
            problems.add(where + ".default_service", listener["default_service"],
                         "no such service (%s)%s" % (", ".join(known), _near(listener["default_service"], known)))
        elif listener["default_service"] not in web:
            problems.add(where + ".default_service", listener["default_service"], "is kind %s: a listener forwards to a "
                         "web service (%s)" % (d.kind(listener["default_service"]), ", ".join(web) or "none"))
    if env["env_domain"] and ports:
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
    _check_releases(d, problems)
    for name, spec in sorted(d.services.items()):
        _check_service(d, name, spec, problems)
    _check_shared_repositories(d, problems)
    for index, check in enumerate(app.get("smoke_checks", [])):
        if check["listener"] not in ports and not (env["env_domain"] and check["listener"] == HTTPS_PORT):
            problems.add("smoke_checks[%d].listener" % index, check["listener"],
                         "no such listener (%s)" % ", ".join(str(p) for p in ports))


def _check_releases(d: Definition, problems: Problems) -> None:
    """Release strategies: web services only, the strategy's own keys, one production rule, a test path."""
    listeners = {lst["port"]: lst for lst in d.application.get("listeners", [])}
    for index, lst in enumerate(d.application.get("listeners", [])):
        if not lst.get("test"):
            continue
        owner = lst["default_service"]
        if owner in d.services and d.release(owner)["test_traffic"].get("listener") != lst["port"]:
            problems.add("listeners[%d].test" % index, True, "a test listener carries the test traffic of its "
                         "default_service (%s): set services.%s.release.test_traffic.listener: %d"
                         % (owner, owner, lst["port"]))
        if d.environment["env_domain"] and lst["port"] == HTTP_PORT:
            problems.add("listeners[%d].test" % index, True, "env_domain moves port 80 to HTTPS on 443: put the test "
                         "listener on another port")
    for svc in sorted(d.services):
        spec = d.services[svc]
        given = spec.get("release")
        if not given:
            continue
        where = d.where(svc, "release")
        release = d.release(svc)
        strategy = release["strategy"]
        for key, owner in RELEASE_ONLY_WITH.items():
            if given.get(key) and strategy != owner:
                problems.add(join(where, key), given[key], "only with strategy %s (strategy is %s)" % (owner, strategy))
        for key, field_name in (("canary", "percent"), ("linear", "step_percent")):
            value = (given.get(key) or {}).get(field_name)
            if value is not None and abs(round(value * 10) - value * 10) > 1e-6:
                problems.add(join(join(where, key), field_name), value, "must be a multiple of 0.1")
        if strategy == ROLLING:
            for key in ("test_traffic", "checks", "bake_minutes"):
                if key in given:
                    problems.add(join(where, key), given[key], "only with strategy blue_green, canary or linear "
                                 "(strategy is rolling)")
            for key in ("hold", "pause_after_steps"):
                if given.get(key):
                    problems.add(join(where, key), True, "only with strategy blue_green, canary or linear (strategy "
                                 "is rolling)")
            continue
        if spec["kind"] != WEB:
            problems.add(join(where, "strategy"), strategy, "only web services shift traffic between two target "
                         "groups (%s is kind %s): use rolling" % (svc, spec["kind"]))
            continue
        if given.get("pause_after_steps") and strategy == "blue_green":
            problems.add(join(where, "pause_after_steps"), True, "blue_green moves production traffic in one step: "
                         "only with canary or linear")
        entry = d.production_entry(svc)
        if len(entry) != 1:
            problems.add(d.where(svc, "routes"), spec.get("routes", []), "strategy %s: ECS shifts one production "
                         "listener rule per service, and %s has %d (its routes and the listeners whose default_service "
                         "it is): keep one" % (strategy, svc, len(entry)))
        traffic = release["test_traffic"]
        if ("listener" in traffic) == ("http_header" in traffic):
            problems.add(join(where, "test_traffic"), given.get("test_traffic", MISSING), "strategy %s needs test "
                         "traffic: give exactly one of listener (a test listener's port) and http_header" % strategy)
            continue
        port = traffic.get("listener")
        if port is not None:
            if port not in listeners:
                problems.add(join(where, "test_traffic") + ".listener", port, "no such listener (%s)"
                             % ", ".join(str(p) for p in sorted(listeners)))
            elif not listeners[port].get("test"):
                problems.add(join(where, "test_traffic") + ".listener", port, "listener %d carries production traffic: "
                             "test traffic needs a listener with test: true" % port)
            elif listeners[port]["default_service"] != svc:
                problems.add(join(where, "test_traffic") + ".listener", port, "test listener %d is %s's (its "
                             "default_service): one test listener per service" % (port, listeners[port]["default_service"]))
        elif len(entry) == 1 and entry[0][0] == "route":
            route = spec["routes"][entry[0][1]]
            if "priority" in route:
                problems.add("%s[%d].priority" % (d.where(svc, "routes"), entry[0][1]), route["priority"],
                             "the header test rule goes just before the production rule: leave the priority to the "
                             "order written (or use a test listener)")
            values = sum(len(route.get(key) or []) if key != "http_headers" else
                         sum(len(h["values"]) for h in route.get(key) or []) for key in ROUTE_CONDITIONS) + 1
            if values > CONDITION_VALUES_PER_RULE:
                problems.add(join(where, "test_traffic") + ".http_header", traffic["http_header"], "the test rule is the "
                             "production route plus this header: %d condition values, ELBv2 allows %d per rule"
                             % (values, CONDITION_VALUES_PER_RULE))
    for svc in sorted(d.services):
        for index, route in enumerate(d.services[svc].get("routes", [])):
            if route["listener"] in d.test_listener_ports:
                problems.add("%s[%d].listener" % (d.where(svc, "routes"), index), route["listener"], "a test listener "
                             "has no routes: it forwards its default service's test traffic")


def _check_shared_repositories(d: Definition, problems: Problems) -> None:
    """Containers sharing an ECR repository run one image: two archives for it would race for one tag."""
    archives: Dict[str, Tuple[str, str]] = {}
    names = d.repository_names()
    for key, _svc, spec, _where in d.image_keys():
        if "image" in spec or "archive" not in spec:
            continue
        repo = names[key]
        if repo in archives and archives[repo][1] != spec["archive"]:
            problems.add(d.image_where(key, "archive"), spec["archive"], "%s also pushes %s to %s: containers sharing "
                         "a repository run one image; give the archive once" % (archives[repo][0], archives[repo][1], repo))
        archives.setdefault(repo, (d.image_where(key, "archive"), spec["archive"]))


def _check_names(d: Definition, problems: Problems) -> None:
    names = d.names
    if len(names.stack) > LOAD_BALANCER_NAME_MAX:
        problems.add("env_name", d.environment["env_name"], "the load balancer's name %s is %d characters long; AWS allows %d: "
                     "shorten name or env_name" % (names.stack, len(names.stack), LOAD_BALANCER_NAME_MAX))
    if len(names.execution_role) > IAM_ROLE_NAME_MAX:
        problems.add("env_name", d.environment["env_name"], "the role name %s is longer than %d characters"
                     % (names.execution_role, IAM_ROLE_NAME_MAX))
    for svc in d.web_services():
        tg_name = d.target_group_name(svc)
        if len(tg_name) > TARGET_GROUP_NAME_MAX:
            problems.add("services.%s" % svc, MISSING, "its target group name %s is %d characters long; AWS allows %d: "
                         "shorten the service name or env_name" % (tg_name, len(tg_name), TARGET_GROUP_NAME_MAX))
    if len(d.web_services()) > TARGET_GROUPS_PER_LOAD_BALANCER:
        problems.add("services", d.web_services(), "a load balancer takes at most %d target groups"
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
    containers = d.container_specs(svc)
    for name, cspec, _key in containers:
        for other in ("archive", "repository"):
            if "image" in cspec and other in cspec:
                problems.add(d.container_where(svc, name, other), cspec[other], "image and %s are exclusive: image "
                             "names an image that exists, %s" % (other, "archive is pushed to the container's ECR repository"
                                                                 if other == "archive" else "repository names where one is"))
    if spec["placement"] == "fargate":
        allowed = FARGATE_SIZES.get(spec["cpu"])
        if allowed is None:
            problems.add(d.where(svc, "cpu"), spec["cpu"], "not a Fargate CPU size (one of %s)"
                         % ", ".join(str(c) for c in FARGATE_SIZES))
        elif spec["memory"] not in allowed:
            problems.add(d.where(svc, "memory"), spec["memory"], "Fargate cpu %d allows memory %d..%d MiB%s" % (
                spec["cpu"], allowed[0], allowed[-1],
                "" if len(allowed) > 8 else " (one of %s)" % ", ".join(str(m) for m in allowed)))
    _check_sizes(d, svc, spec, containers, problems)
    scaling = spec.get("autoscaling")
    if scaling and scaling["max_capacity"] < scaling["min_capacity"]:
        problems.add(d.where(svc, "autoscaling") + ".max_capacity", scaling["max_capacity"],
                     "must be >= min_capacity (%d)" % scaling["min_capacity"])
    for name, cspec, _key in containers:
        base = d.container_where(svc, name)
        refs = dict(("%s.%s" % (join(base, "secrets"), var), ref) for var, ref in cspec.get("secrets", {}).items())
        refs.update(("%s.%s" % (join(base, "logging") + ".secret_options", option), ref)
                    for option, ref in (cspec.get("logging") or {}).get("secret_options", {}).items())
        for where, ref in sorted(refs.items()):
            if not is_secret_reference(ref if ref.startswith("arn:") else d.names.secret_prefix + ref.lstrip("/")):
                problems.add(where, ref, "not an SSM parameter name, SSM parameter ARN or Secrets Manager secret ARN")
        clash = sorted(set(cspec.get("environment", {})) & set(cspec.get("secrets", {})))
        for var in clash:
            problems.add("%s.%s" % (d.container_where(svc, name, "secrets"), var), cspec["secrets"][var],
                         "also set in environment: a variable is either plain or secret")
        _check_logging(d, svc, name, cspec, problems)
        for var, value in sorted(cspec.get("environment", {}).items()):
            _check_value_references(d, "%s.%s" % (d.container_where(svc, name, "environment"), var), value, problems)
    _check_containers(d, svc, spec, containers, problems)


def _check_sizes(d: Definition, svc: str, spec: Dict[str, Any], containers: List[Tuple[str, Dict[str, Any], str]],
                 problems: Problems) -> None:
    """Memory: the task's, or each container's (ECS needs one of them); reservations below the limits."""
    for index, (name, cspec, _key) in enumerate(containers):
        limit_key = "container_memory" if index == 0 else "memory"
        limit = cspec.get(limit_key)
        reservation = cspec.get("memory_reservation")
        if reservation is not None:
            if limit is not None and reservation > limit:
                problems.add(d.container_where(svc, name, "memory_reservation"), reservation,
                             "must be <= the container's memory (%d)" % limit)
            elif "memory" in spec and reservation > spec["memory"]:
                problems.add(d.container_where(svc, name, "memory_reservation"), reservation,
                             "must be <= the task's memory (%d)" % spec["memory"])
        if "memory" not in spec and limit is None and reservation is None:
            problems.add(d.container_where(svc, name, limit_key), MISSING, "the task has no memory: ECS needs the container's "
                         "memory or memory_reservation (or set the service's memory)")
    if "memory" in spec:
        total = sum(cspec.get("container_memory" if index == 0 else "memory") or 0 for index, (_n, cspec, _k) in enumerate(containers))
        if total > spec["memory"]:
            problems.add(d.where(svc, "memory"), spec["memory"], "the containers' memory limits add up to %d MiB, more than "
                         "the task's" % total)
    if "cpu" in spec:
        total = sum(cspec.get("container_cpu" if index == 0 else "cpu") or 0 for index, (_n, cspec, _k) in enumerate(containers))
        if total > spec["cpu"]:
            problems.add(d.where(svc, "cpu"), spec["cpu"], "the containers' cpu add up to %d units, more than the task's" % total)


def _check_logging(d: Definition, svc: str, name: str, cspec: Dict[str, Any], problems: Problems) -> None:
    logging = cspec.get("logging") or {}
    driver = logging.get("driver", "awslogs")
    if driver != "awslogs":
        for key in ("group", "stream_prefix"):
            if key in logging:
                problems.add(d.container_where(svc, name, "logging") + "." + key, logging[key],
                             "an awslogs option: driver is %s (give its options in options)" % driver)
    else:
        for option in ("awslogs-group", "awslogs-stream-prefix", "awslogs-region"):
            if option in logging.get("options", {}):
                problems.add("%s.options.%s" % (d.container_where(svc, name, "logging"), option), logging["options"][option],
                             "set by group, stream_prefix and the environment's region")


def _check_value_references(d: Definition, where: str, value: str, problems: Problems) -> None:
    """``${...}`` in an environment value: a deployed value the application has."""
    for match in REFERENCE.finditer(value):
        if match.group(1):
            continue
        ref = match.group(2).strip()
        parts = ref.split(".")
        if ref in LOAD_BALANCER_REFERENCES:
            if not d.has_load_balancer:
                problems.add(where, value, "${%s}: the application has no load balancer (no web service)" % ref)
        elif len(parts) == 3 and parts[0] == "services" and parts[2] == "discovery_name":
            if parts[1] not in d.services:
                known = sorted(d.services)
                problems.add(where, value, "${%s}: no such service (%s)%s" % (ref, ", ".join(known), _near(parts[1], known)))
            elif not d.discovery(parts[1]):
                problems.add(where, value, "${%s}: service %s has no service discovery (give it discovery, or make it "
                             "kind backend)" % (ref, parts[1]))
        else:
            problems.add(where, value, "${%s}: unknown reference (known: load_balancer.dns_name, load_balancer.url, "
                         "services.<name>.discovery_name; write $${ for a literal ${)" % ref)


def _check_containers(d: Definition, svc: str, spec: Dict[str, Any], containers: List[Tuple[str, Dict[str, Any], str]],
                      problems: Problems) -> None:
    """Names, links, dependencies, essential containers and host ports of the task's containers."""
    main = d.container_name(svc)
    names = [name for name, _spec, _key in containers]
    if main in spec.get("containers", {}):
        problems.add(d.where(svc, "containers") + "." + main, spec["containers"][main],
                     "duplicate container name: the main container is called %s (container_name)" % main)
    mode = spec["network_mode"]
    graph: Dict[str, List[str]] = {}
    for name, cspec, _key in containers:
        for key in ("links", "depends_on"):
            for other in (cspec.get(key) or []):
                where = "%s.%s" % (d.container_where(svc, name, key), other) if key == "depends_on" \
                    else d.container_where(svc, name, key)
                if other not in names:
                    problems.add(where, other, "no such container in the task (%s)%s" % (", ".join(names), _near(other, names)))
                elif other == name:
                    problems.add(where, other, "a container cannot %s itself" % ("link to" if key == "links" else "depend on"))
                else:
                    graph.setdefault(name, []).append(other)
                    condition = cspec["depends_on"][other] if key == "depends_on" else ""
                    target = dict((n, c) for n, c, _k in containers)[other]
                    if condition in ("COMPLETE", "SUCCESS") and target.get("essential", True):
                        problems.add(where, condition, "%s must exit for this condition: it cannot be essential (set its "
                                     "essential: false)" % other)
        if cspec.get("links") and mode != "bridge":
            problems.add(d.container_where(svc, name, "links"), cspec["links"], "links need network_mode bridge (in %s mode "
                         "the containers of a task reach each other on localhost)" % mode)
    cycle = _cycle(graph)
    if cycle:
        problems.add(d.where(svc, "containers") if len(containers) > 1 else d.where(svc), " -> ".join(cycle),
                     "the containers' links and depends_on form a cycle: none could start first")
    if not any(cspec.get("essential", True) for _n, cspec, _k in containers):
        problems.add(d.where(svc, "essential"), False, "a task needs at least one essential container")
    seen: Dict[Tuple[int, str], str] = {}
    for name, cspec, _key in containers:
        ports = ([("container_port", {"container_port": spec["container_port"]})] if name == main and "container_port" in spec else []) + \
            [("ports[%d]" % index, port) for index, port in enumerate(cspec.get("ports", []))]
        for key, port in ports:
            where = d.container_where(svc, name, key.split("[")[0]) + key[len(key.split("[")[0]):]
            host = port.get("host_port")
            if mode in ("awsvpc", "host"):
                if host not in (None, port["container_port"]):
                    problems.add(where + ".host_port", host, "in %s mode the host port is the container port (%d)"
                                 % (mode, port["container_port"]))
                host = port["container_port"]
            if not host:
                continue
            taken = (host, port.get("protocol", "tcp"))
            label = where if key == "container_port" else where + ".container_port"
            if taken in seen:
                problems.add(label, port["container_port"], "host port %d/%s is already taken in the task by %s"
                             % (host, taken[1], seen[taken]))
            else:
                seen[taken] = name


def _cycle(graph: Dict[str, List[str]]) -> List[str]:
    """A cycle of the graph (as a path whose last node is its first), or []."""
    state: Dict[str, int] = {}
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []
