# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The schema of the application file (``format: 1``) and of an environment's ``env_*`` variables.

Every key a user may write is declared here, with its type, default and meaning; the reference
page ``docs/application.md`` is generated from these declarations (``tools/gen_application_doc.py``)
and a unit test keeps the two in step.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import (
    Bool,
    MISSING,
    Int,
    ListOf,
    MapOf,
    Number,
    Problems,
    Scalar,
    Str,
    Struct,
    join,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.model import RETENTION_DAYS

FORMAT = 1

PORT = dict(minimum=1, maximum=65535)
# ECS service names: letters, digits, hyphens and underscores; ours also name target groups,
# log groups, task definition families and ECR repositories, hence lower case and hyphens only.
SERVICE_NAME = Str("service", pattern=r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$",
                   pattern_doc="lower-case letters, digits and hyphens, starting with a letter, at most 32 characters")
ENV_VAR_NAME = Str("variable", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
                   pattern_doc="a variable name (letters, digits, underscores, not starting with a digit)")
PATH = Str(pattern=r"^/", pattern_doc="starts with /", max_len=1024)
MATCHER = Str(pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$", pattern_doc="HTTP codes such as 200, 200-299 or 200,302")
LABEL_KEY = Str("label", min_len=1, max_len=255)
# Target tracking metrics of an Auto Scaling group (PredefinedMetricType).
ASG_METRICS = {"cpu": "ASGAverageCPUUtilization", "network_in": "ASGAverageNetworkIn", "network_out": "ASGAverageNetworkOut"}


def _health_check_fields() -> Dict[str, Any]:
    return {
        "path": Str("Path the load balancer requests on each task.", pattern=r"^/", pattern_doc="starts with /",
                    max_len=1024, default="/"),
        "matcher": Str("HTTP codes that count as healthy.", pattern=MATCHER.pattern.pattern,
                       pattern_doc=MATCHER.pattern_doc, default="200"),
        "interval": Int("Seconds between two checks.", minimum=5, maximum=300),
        "timeout": Int("Seconds without an answer that fail a check.", minimum=2, maximum=120),
        "healthy_threshold": Int("Consecutive successes before a target is healthy.", minimum=2, maximum=10),
        "unhealthy_threshold": Int("Consecutive failures before a target is unhealthy.", minimum=2, maximum=10),
    }


def _check_health(value: Dict[str, Any], path: str, problems: Problems) -> None:
    if "interval" in value and "timeout" in value and value["timeout"] >= value["interval"]:
        problems.add(join(path, "timeout"), value["timeout"], "must be less than interval (%d)" % value["interval"])


def _check_sizes(value: Dict[str, Any], path: str, problems: Problems) -> None:
    if value["min_size"] > value["max_size"]:
        problems.add(join(path, "min_size"), value["min_size"], "must be <= max_size (%d)" % value["max_size"])
    desired = value.get("desired_capacity")
    if desired is not None and not value["min_size"] <= desired <= value["max_size"]:
        problems.add(join(path, "desired_capacity"), desired, "must be within min_size..max_size (%d..%d)"
                     % (value["min_size"], value["max_size"]))


def _check_network(value: Dict[str, Any], path: str, problems: Problems) -> None:
    existing = [key for key in ("vpc_id", "vpc_tags", "subnet_ids", "subnet_tags") if key in value]
    if value["create"]:
        private = [key for key in ("private_subnet_ids", "private_subnet_tags") if key in value]
        if private:
            problems.add(join(path, private[0]), value[private[0]], "existing private subnets are in an existing VPC: "
                         "not with create: true (creating private subnets with a NAT gateway is not supported yet)")
        if existing:
            problems.add(join(path, existing[0]), value[existing[0]], "not with create: true (that creates the VPC and subnets)")
        if "cidr" not in value:
            problems.add(join(path, "cidr"), MISSING, "required with create: true")
        zones = {subnet["az"] for subnet in value.get("public_subnets", [])}
        if len(zones) < 2:
            problems.add(join(path, "public_subnets"), value.get("public_subnets", []),
                         "needs subnets in at least two Availability Zones (a load balancer spans two)")
        cidrs = [subnet["cidr"] for subnet in value.get("public_subnets", [])]
        for index, cidr in enumerate(cidrs):
            if cidr in cidrs[:index]:
                problems.add(join(join(path, "public_subnets"), index) + ".cidr", cidr, "duplicate subnet CIDR")
        return
    if "public_subnets" in value or "cidr" in value:
        key = "cidr" if "cidr" in value else "public_subnets"
        problems.add(join(path, key), value[key], "only with create: true")
    if ("vpc_id" in value) == ("vpc_tags" in value):
        problems.add(join(path, "vpc_id"), value.get("vpc_id", MISSING),
                     "give exactly one of vpc_id and vpc_tags of the existing VPC (or create: true)")
    if "subnet_ids" in value and "subnet_tags" in value:
        problems.add(join(path, "subnet_ids"), value["subnet_ids"], "give subnet_ids or subnet_tags, not both")
    if "private_subnet_ids" in value and "private_subnet_tags" in value:
        problems.add(join(path, "private_subnet_ids"), value["private_subnet_ids"],
                     "give private_subnet_ids or private_subnet_tags, not both")


HEALTH_CHECK = Struct(_health_check_fields(), doc="The target group's health check (HTTP).", check_all=_check_health,
                      default={})

CONTAINER_HEALTH_CHECK = Struct({
    "command": ListOf(Str(min_len=1), "The command Docker runs in the container, e.g. `[CMD-SHELL, curl -f localhost/ || exit 1]`.",
                      min_items=1, required=True),
    "interval": Int("Seconds between two checks.", minimum=5, maximum=300),
    "timeout": Int("Seconds before a check fails.", minimum=2, maximum=60),
    "retries": Int("Failures before the container is unhealthy.", minimum=1, maximum=10),
    "start_period": Int("Seconds of grace after the container starts.", minimum=0, maximum=300),
}, doc="Docker's health check of the container (ECS `healthCheck`).")

ROUTE = Struct({
    "listener": Int("Port of the listener (one of `listeners`) the rule is on.", required=True, **PORT),
    "path_patterns": ListOf(PATH, "Path patterns (`/users/*`); any may match.", max_items=5),
    "host_headers": ListOf(Str(pattern=r"^[A-Za-z0-9\-.*?]{1,128}$", pattern_doc="a host name, `*` and `?` allowed"),
                           "Host names (`api.example.com`, `*.example.com`); any may match.", max_items=5),
    "http_headers": ListOf(Struct({
        "name": Str("Header name.", required=True, pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,40}$", pattern_doc="an HTTP header name"),
        "values": ListOf(Str(min_len=1, max_len=128), "Values; any may match.", min_items=1, required=True),
    }), "HTTP header conditions, one per header name."),
    "methods": ListOf(Str(pattern=r"^[A-Z_\-]{1,40}$", pattern_doc="an upper-case HTTP method"), "HTTP methods."),
    "query_strings": ListOf(Struct({"key": Str("Key; any key when not given."), "value": Str("Value.", required=True)}),
                            "Query string key/value pairs; any may match."),
    "source_ips": ListOf(Str(pattern=r"^[0-9a-fA-F.:]+/\d{1,3}$", pattern_doc="a CIDR block"), "Client address blocks."),
    "priority": Int("Rule priority; by default the rules of a listener are ordered by the order written "
                    "(most specific first is up to you).", minimum=1, maximum=50000),
}, doc="A listener rule that forwards matching requests to this service.")

AUTOSCALING = Struct({
    "min_capacity": Int("Fewest tasks.", minimum=0, maximum=5000, required=True),
    "max_capacity": Int("Most tasks.", minimum=1, maximum=5000, required=True),
    "cpu_target": Number("Average CPU utilisation (percent) the service scales to.", minimum=1, maximum=100, default=50.0),
    "scale_in_cooldown": Int("Seconds after a scale-in before the next.", minimum=0, maximum=3600, default=30),
    "scale_out_cooldown": Int("Seconds after a scale-out before the next.", minimum=0, maximum=3600, default=30),
}, doc="Target-tracking autoscaling of the service's desired count on CPU.",
    check_all=lambda v, p, problems: problems.add(join(p, "max_capacity"), v["max_capacity"],
                                                  "must be >= min_capacity (%d)" % v["min_capacity"])
    if v["max_capacity"] < v["min_capacity"] else None)

STRATEGIES = ("rolling", "blue_green", "canary", "linear")
HEADER_NAME = Str("Header name.", required=True, pattern=r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,40}$",
                  pattern_doc="an HTTP header name")

RELEASE = Struct({
    "strategy": Str("How ECS releases a new revision: `rolling` replaces tasks in place; `blue_green` starts the new "
                    "revision (green) beside the running one (blue) in the alternate target group, sends test traffic "
                    "to it, then moves all production traffic at once; `canary` moves `canary.percent` of production "
                    "traffic first and the rest after `canary.bake_minutes`; `linear` moves it in steps of "
                    "`linear.step_percent`. The last three need a web service and `test_traffic`.",
                    choices=list(STRATEGIES), default="rolling"),
    "bake_minutes": Int("Minutes blue keeps running after production traffic has moved to green, ready for a fast "
                        "roll-back (ECS `bakeTimeInMinutes`).", minimum=0, maximum=1440, default_doc="`0`"),
    "canary": Struct({
        "percent": Number("Percent of production traffic green gets first (a multiple of 0.1).", minimum=0.1,
                          maximum=100, default_doc="`5` (ECS's)"),
        "bake_minutes": Int("Minutes before the rest moves.", minimum=0, maximum=1440, default_doc="ECS's default"),
    }, doc="Strategy `canary` only: ECS `canaryConfiguration`."),
    "linear": Struct({
        "step_percent": Number("Percent of production traffic moved at each step (a multiple of 0.1).", minimum=3,
                               maximum=100, default_doc="`10` (ECS's)"),
        "step_bake_minutes": Int("Minutes between two steps.", minimum=0, maximum=1440, default_doc="ECS's default"),
    }, doc="Strategy `linear` only: ECS `linearConfiguration`."),
    "test_traffic": Struct({
        "listener": Int("Port of a test listener (`listeners[].test: true`) whose traffic reaches green before "
                        "production traffic moves.", **PORT),
        "http_header": Struct({
            "name": HEADER_NAME,
            "value": Str("Value the header must have.", required=True, min_len=1, max_len=128),
        }, doc="Requests carrying this header on the production listener reach green before production traffic "
            "moves (a test rule beside the service's production rule)."),
    }, doc="Where test traffic reaches green: give `listener` or `http_header`."),
    "checks": ListOf(Struct({
        "path": Str("Path requested through the test traffic.", required=True, pattern=r"^/",
                    pattern_doc="starts with /", max_len=1024),
        "status": Int("Expected HTTP status.", minimum=100, maximum=599, default=200),
        "contains": Str("Text the response body must contain.", min_len=1),
    }), "HTTP checks ecs_rolling_deploy makes on test traffic while the deployment waits after the test traffic "
        "shift (a `PAUSE` lifecycle hook): all pass, production traffic moves; one fails, ECS rolls back. `[]`: no "
        "checks and no hook.", default_doc="the service's `health_check.path`, expecting the first code of its "
        "`matcher`"),
    "pause_after_steps": Bool("`canary`, `linear`: check again at each step's pause.", default=False),
    "hold": Bool("Leave a green deployment that passed its checks waiting in test (production traffic on blue) for "
                 "`switch.yml` to move production traffic.", default=False),
}, doc="How the service's new revisions are released (ECS-native blue/green, canary, linear), per environment "
    "through `env_services` as every key.")

KINDS = ("web", "backend", "worker")
PLACEMENTS = ("fargate", "ec2")
NETWORK_MODES = ("awsvpc", "bridge", "host")
DEPENDENCY_CONDITIONS = ("START", "COMPLETE", "SUCCESS", "HEALTHY")
LOG_DRIVERS = ("awslogs", "syslog", "fluentd", "gelf", "json-file", "journald", "splunk", "awsfirelens")
# ECS container names: up to 255 letters, numbers, underscores and hyphens.
CONTAINER_NAME = Str("container", pattern=r"^[A-Za-z0-9_-]{1,255}$",
                     pattern_doc="letters, digits, hyphens and underscores, at most 255 characters")
# A Cloud Map service name is one DNS label.
DNS_LABEL_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
DNS_LABEL_DOC = "a DNS label (lower-case letters, digits, hyphens)"

PORT_MAPPING = Struct({
    "container_port": Int("Port the container listens on.", required=True, **PORT),
    "host_port": Int("Port on the EC2 instance (bridge: `0` or absent for a dynamic port; host: the container port; "
                     "awsvpc: the container port).", minimum=0, maximum=65535),
    "protocol": Str("Transport protocol.", choices=["tcp", "udp"], default="tcp"),
}, doc="A port mapping of the container.")

LOGGING = Struct({
    "driver": Str("Log driver (`awslogs` on Fargate and EC2; `splunk` and `awsfirelens` too on Fargate; the others "
                  "on EC2 only).", choices=list(LOG_DRIVERS), default="awslogs"),
    "group": Str("awslogs: the log group (created and owned by the logging role).", min_len=1, max_len=512,
                 pattern=r"^[.\-_/#A-Za-z0-9]+$", pattern_doc="a log group name", default_doc="`/ecs/<name>-<env_name>/<service>`"),
    "stream_prefix": Str("awslogs: prefix of the log streams (`<prefix>/<container>/<task id>`).", min_len=1,
                         pattern=r"^[^:*]*$", pattern_doc="no `:` or `*`", default_doc="the service's name"),
    "options": MapOf(Str(), "Options of the driver (the other drivers; for awslogs, options beside group and prefix "
                     "such as `mode`).", key=Str("option", min_len=1)),
    "secret_options": MapOf(Str(min_len=1), "Options whose values are secrets, as references (as `secrets`).",
                            key=Str("option", min_len=1)),
}, doc="Where the container's output goes (ECS `logConfiguration`).")

DISCOVERY = Struct({
    "enabled": Bool("Register the tasks in Cloud Map (`false` turns a backend service's discovery off).", default=True),
    "name": Str("Name in the environment's namespace: the service is found at `<name>.<namespace>`.",
                pattern=DNS_LABEL_PATTERN, pattern_doc=DNS_LABEL_DOC, default_doc="the service's name"),
    "dns_record_type": Str("`A` (awsvpc: the task's address) or `SRV` (address and port; needed in bridge and host modes).",
                           choices=["A", "SRV"], default_doc="`A` (awsvpc), `SRV` (bridge, host)"),
    "ttl": Int("Seconds resolvers cache the records.", minimum=0, maximum=2147483647, default=60),
}, doc="Service discovery: a Cloud Map service in the environment's private DNS namespace, in which ECS "
    "registers the tasks (on by default for backend services).")


REPOSITORY = Str("The ECR repository (in this account) the container's image comes from at `env_image_tag`, instead of "
                 "`<app>/<service>` (main container) or `<app>/<service>-<container>`; containers naming the same "
                 "repository run the same image (at most one of them gives an `archive`).",
                 pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$",
                 pattern_doc="an ECR repository name (lower-case letters, digits, `._-` and `/`)", min_len=2, max_len=256)


def _container_fields() -> Dict[str, Any]:
    """The keys a container has, whether the service's main one or one of its `containers`."""
    return {
        "image": Str("The image (`registry/repository:tag` or `...@sha256:...`).", min_len=1, max_len=1024),
        "archive": Str("An image archive pushed to the container's ECR repository as `env_image_tag`.", min_len=1),
        "repository": REPOSITORY,
        "essential": Bool("The task stops when this container stops.", default_doc="`true`"),
        "ports": ListOf(PORT_MAPPING, "Port mappings."),
        "links": ListOf(CONTAINER_NAME, "Containers of the task this one reaches by name (bridge network mode only).",
                        unique=True),
        "depends_on": MapOf(Str(choices=list(DEPENDENCY_CONDITIONS)), "Containers of the task that must reach a "
                            "condition (`START`, `COMPLETE`, `SUCCESS`, `HEALTHY`) before this one starts.",
                            key=CONTAINER_NAME),
        "command": ListOf(Str(), "Overrides the image's CMD."),
        "entry_point": ListOf(Str(), "Overrides the image's ENTRYPOINT."),
        "environment": MapOf(Scalar(), "Environment variables (values are strings; `${load_balancer.dns_name}`, "
                             "`${load_balancer.url}` and `${services.<name>.discovery_name}` are replaced by the "
                             "deployed values; `$${` stands for `${`).", key=ENV_VAR_NAME),
        "secrets": MapOf(Str(min_len=1, max_len=2048), "Secrets, as references (as the service's `secrets`).", key=ENV_VAR_NAME),
        "logging": LOGGING,
        "working_directory": Str("Working directory of the command.", min_len=1),
        "user": Str("User (and group) the command runs as.", min_len=1),
        "memory_reservation": Int("Soft memory limit in MiB.", minimum=6),
    }


CONTAINER = Struct(dict(_container_fields(), **{
    "cpu": Int("CPU units reserved for the container.", minimum=0, maximum=196608),
    "memory": Int("Hard memory limit in MiB (the container is killed above it).", minimum=6),
    "health_check": CONTAINER_HEALTH_CHECK,
}), doc="A container of the service's task beside the main one (a sidecar, or one of several linked containers). "
    "Without `image` it runs `<app>/<service>-<container>` from this account's ECR at `env_image_tag`.")

_MAIN = _container_fields()
SERVICE = Struct({
    "kind": Str("`web`: a load-balanced web service (target group, routes); `backend`: no load balancer, reachable "
                "through service discovery at `<name>.<namespace>`; `worker`: no port, no load balancer, no discovery.",
                choices=list(KINDS), default="web"),
    "placement": Str("`fargate`, or `ec2`: the environment's EC2 capacity (`env_ec2_capacity`) through its capacity "
                     "provider.", choices=list(PLACEMENTS),
                     default_doc="`ec2` when `env_ec2_capacity.default` is true, otherwise `fargate`"),
    "network_mode": Str("`awsvpc` (each task its own address), `bridge` (dynamic host ports, `instance` target groups) "
                        "or `host`; the last two with placement `ec2` only.", choices=list(NETWORK_MODES), default="awsvpc"),
    "subnets": Str("The environment's `public` subnets (tasks get a public address on Fargate) or its `private` ones "
                   "(`env_network.private_subnet_ids` / `private_subnet_tags`); awsvpc only.",
                   choices=["public", "private"], default="public"),
    "image": Str("The main container's image (`registry/repository:tag` or `...@sha256:...`). Without it the service runs "
                 "`<app>/<service>` from this account's ECR at the environment's `env_image_tag` (pushed from `archive` "
                 "when given, otherwise it must already be there).", min_len=1, max_len=1024),
    "archive": Str("An image archive (docker-archive or OCI layout tar) to push to the service's ECR repository as "
                   "`env_image_tag`; usually set per environment.", min_len=1),
    "repository": _MAIN["repository"],
    "container_name": Str("The main container's name.", pattern=CONTAINER_NAME.pattern.pattern,
                          pattern_doc=CONTAINER_NAME.pattern_doc, default_doc="the service's name"),
    "container_port": Int("The port the main container listens on; the load balancer (web) or discovery (backend) "
                          "reaches it. Required for web and backend services, refused for workers.", **PORT),
    "health_check": Struct(_health_check_fields(), doc="The target group's health check (HTTP; web services).",
                           check_all=_check_health, default_doc="`{path: /, matcher: '200'}` (web)"),
    "cpu": Int("Task CPU units (Fargate: 256, 512, 1024, 2048, 4096, 8192, 16384; optional on EC2).", minimum=128,
               maximum=196608, default_doc="`256` (Fargate)"),
    "memory": Int("Task memory in MiB (Fargate: the sizes the CPU allows; optional on EC2 when every container has "
                  "`memory` or `memory_reservation`).", minimum=6, default_doc="`512` (Fargate)"),
    "container_cpu": Int("CPU units reserved for the main container.", minimum=0, maximum=196608),
    "container_memory": Int("Hard memory limit of the main container in MiB.", minimum=6),
    "desired_count": Int("Tasks to run (autoscaling moves it between its bounds).", minimum=0, maximum=5000, default=1),
    "environment": MapOf(Scalar(), "Environment variables of the main container (values are strings; "
                         "`${load_balancer.dns_name}`, `${load_balancer.url}` and `${services.<name>.discovery_name}` "
                         "are replaced by the deployed values; `$${` stands for `${`).", key=ENV_VAR_NAME),
    "secrets": MapOf(Str(min_len=1, max_len=2048),
                     "Secrets of the main container, as references: an SSM parameter name relative to `/<app>/<env>/`, "
                     "or an SSM parameter or Secrets Manager secret ARN. ECS reads the value when a task starts.",
                     key=ENV_VAR_NAME),
    "ports": ListOf(PORT_MAPPING, "Port mappings of the main container beside `container_port`."),
    "essential": _MAIN["essential"],
    "links": _MAIN["links"],
    "depends_on": _MAIN["depends_on"],
    "logging": LOGGING,
    "routes": ListOf(ROUTE, "Listener rules forwarding to the service (ELBv2 allows at most five condition values per rule; "
                     "web services)."),
    "autoscaling": AUTOSCALING,
    "deregistration_delay": Int("Seconds the load balancer drains a stopping task (web services).", minimum=0, maximum=3600,
                                default_doc="`30` (web)"),
    "health_check_grace_period": Int("Seconds ECS ignores failing load balancer health checks of a new task (web services).",
                                     minimum=0, maximum=2147483647, default_doc="`60` (web)"),
    "discovery": DISCOVERY,
    "containers": MapOf(CONTAINER, "Further containers of the task, by name.", key=CONTAINER_NAME),
    "command": ListOf(Str(), "Overrides the image's CMD."),
    "entry_point": ListOf(Str(), "Overrides the image's ENTRYPOINT."),
    "working_directory": Str("Working directory of the command.", min_len=1),
    "user": Str("User (and group) the command runs as.", min_len=1),
    "memory_reservation": Int("Soft memory limit of the main container in MiB.", minimum=6),
    "stop_timeout": Int("Seconds between SIGTERM and SIGKILL when the task stops.", minimum=0, maximum=120),
    "readonly_root_filesystem": Bool("Mount the container's root filesystem read-only."),
    "docker_labels": MapOf(Str(), "Docker labels of the container.", key=LABEL_KEY),
    "container_health_check": CONTAINER_HEALTH_CHECK,
    "release": RELEASE,
}, doc="A service: its kind, placement, its task definition's main container and further containers, and "
    "(web) its target group and routes.")

LISTENER = Struct({
    "port": Int("Listener port of the load balancer.", required=True, **PORT),
    "default_service": Str("The service that gets the requests no route matches.", required=True, min_len=1),
    "test": Bool("A test listener: it carries the test traffic of `default_service` (a `blue_green`, `canary` or "
                 "`linear` service whose `release.test_traffic.listener` is this port) to its new revision before "
                 "production traffic moves; no routes on it.", default=False),
}, doc="A listener of the load balancer (HTTP; with `env_domain`, port 80 moves to HTTPS on 443).")

SMOKE_CHECK = Struct({
    "listener": Int("Listener port to request.", required=True, **PORT),
    "path": Str("Path to request.", pattern=r"^/", pattern_doc="starts with /", default="/"),
    "status": Int("Expected HTTP status.", minimum=100, maximum=599, default=200),
}, doc="An HTTP request deploy.yml makes once the release is done.")

APPLICATION = Struct({
    "format": Int("Version of this file's format.", required=True, choices=[FORMAT]),
    "name": Str("The application's name: prefix of every name in AWS (`<name>-<env_name>`).", required=True,
                pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", pattern_doc="lower-case letters, digits and hyphens", max_len=28),
    "listeners": ListOf(LISTENER, "The load balancer's listeners; none (and no load balancer) when no service is `web`.",
                        max_items=50),
    "services": MapOf(SERVICE, "The services, by name.", key=SERVICE_NAME, min_items=1),
    "smoke_checks": ListOf(SMOKE_CHECK, "HTTP requests deploy.yml makes at the end (with `env_smoke_http`)."),
}, doc="The application file (inventories/app.yml).", allow_null=False)

SUBNET = Struct({
    "cidr": Str("CIDR block of the subnet.", required=True, pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", pattern_doc="a CIDR block"),
    "az": Str("Availability Zone.", required=True, pattern=r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", pattern_doc="an Availability Zone name"),
})

NETWORK = Struct({
    "create": Bool("Create a VPC (with `cidr` and `public_subnets`) rather than use an existing one.", default=False),
    "cidr": Str("CIDR block of the VPC to create.", pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$", pattern_doc="a CIDR block"),
    "public_subnets": ListOf(SUBNET, "Public subnets to create, in two or more Availability Zones."),
    "vpc_id": Str("Id of an existing VPC.", pattern=r"^vpc-[0-9a-f]+$", pattern_doc="vpc-..."),
    "vpc_tags": MapOf(Str(), "Tags that find exactly one existing VPC.", min_items=1),
    "subnet_ids": ListOf(Str(pattern=r"^subnet-[0-9a-f]+$", pattern_doc="subnet-..."), "Ids of existing subnets.", min_items=1),
    "subnet_tags": MapOf(Str(), "Tags that find the existing subnets (in the VPC).", min_items=1),
    "private_subnet_ids": ListOf(Str(pattern=r"^subnet-[0-9a-f]+$", pattern_doc="subnet-..."),
                                 "Ids of existing private subnets (with a route to a NAT gateway), for services with "
                                 "`subnets: private`.", min_items=1),
    "private_subnet_tags": MapOf(Str(), "Tags that find the existing private subnets (in the VPC).", min_items=1),
}, doc="Where the environment runs: `create: true` with `cidr` and `public_subnets`, or an existing VPC "
    "(`vpc_id` or `vpc_tags`) and its subnets (`subnet_ids`, `subnet_tags`, or all of the VPC's).",
    check_all=_check_network, required=True)

EC2_CAPACITY = Struct({
    "instance_type": Str("EC2 instance type.", required=True, pattern=r"^[a-z0-9]+[a-z0-9-]*\.[a-z0-9]+$",
                         pattern_doc="an instance type such as t3.medium"),
    "min_size": Int("Fewest instances.", minimum=0, maximum=1000, default=0),
    "max_size": Int("Most instances.", minimum=1, maximum=1000, required=True),
    "desired_capacity": Int("Instances to start with.", minimum=0, maximum=1000),
    "ami_parameter": Str("Public SSM parameter of the ECS-optimized AMI.", pattern=r"^/", pattern_doc="starts with /",
                         default="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"),
    "target_capacity": Int("Managed scaling's target utilisation (percent).", minimum=1, maximum=100, default=100),
    "default": Bool("Make the EC2 capacity provider the cluster's default strategy, and `ec2` the services' default "
                    "`placement`.", default=False),
    "root_volume_size": Int("Root volume size in GiB.", minimum=1, maximum=16384, default=30),
    "scaling_policies": ListOf(Struct({
        "name": Str("Policy name (the group's name is prefixed).", required=True, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                    pattern_doc="letters, digits, hyphens and underscores"),
        "metric": Str("`cpu` (ASGAverageCPUUtilization), `network_in` (ASGAverageNetworkIn, bytes), `network_out` "
                      "(ASGAverageNetworkOut, bytes).", choices=list(ASG_METRICS), required=True),
        "target": Number("The value the group keeps the metric at.", minimum=0, required=True),
        "disable_scale_in": Bool("Only scale out.", default=False),
        "warmup": Int("Seconds before a new instance's metrics count.", minimum=0, maximum=86400),
    }), "Target-tracking scaling policies of the Auto Scaling group, beside ECS managed scaling.", max_items=10,
        default=[]),
}, doc="EC2 container instances beside Fargate (launch template, Auto Scaling group, capacity provider); "
    "`{}` for Fargate only.", empty_means_off=True, default={},
    check_all=_check_sizes)

# The environment's variables, as the inventory defines them (group_vars).
ENVIRONMENT = Struct({
    "env_name": Str("The environment's name (`staging`, `production`): suffix of every name in AWS.", required=True,
                    pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$", pattern_doc="lower-case letters, digits and hyphens",
                    max_len=16),
    "env_network": NETWORK,
    "env_services": MapOf(SERVICE.without_defaults(), "Per service, what this environment changes in `services.<name>` "
                          "(mappings merge key by key, everything else is replaced).", key=SERVICE_NAME, default={}),
    "env_image_tag": Str("The image tag to release (for services without `image`).", default="latest",
                         pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", pattern_doc="a Docker tag"),
    "env_image_tag_mutability": Str("ECR tag mutability of the repositories.", choices=["MUTABLE", "IMMUTABLE"],
                                    default="MUTABLE"),
    "env_log_retention_days": Int("CloudWatch Logs retention of the log groups.", choices=list(RETENTION_DAYS), default=30),
    "env_log_kms_key_id": Str("KMS key (ARN) that encrypts the log groups; empty for none.", default="",
                              pattern=r"^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/.+$", pattern_doc="a KMS key or alias ARN"),
    "env_alarm_email": Str("E-mail address that alarms notify; empty for none.", default="",
                           pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", pattern_doc="an e-mail address"),
    "env_alarm_https_endpoint": Str("HTTPS endpoint that alarms notify; empty for none.", default="",
                                    pattern=r"^https://\S+$", pattern_doc="an https:// URL"),
    "env_release_sns": Bool("Send each release's summary, on success and on failure, to the environment's alarm topic "
                            "(`<name>-alarms`, which the logging role creates).", default=False),
    "env_release_webhook": Str("HTTPS webhook that receives each release's summary, on success and on failure, as "
                               "Slack-compatible JSON (`{\"text\": ...}`); empty for none.", default="",
                               pattern=r"^https://\S+$", pattern_doc="an https:// URL"),
    "env_domain": Str("The name users reach the application at: serves port 80's routes over HTTPS on 443 with an ACM "
                      "certificate and redirects port 80; empty for HTTP only.", default="",
                      pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", pattern_doc="a lower-case DNS name"),
    "env_certificate_arn": Str("ACM certificate for `env_domain` (by default the ISSUED one covering it).", default="",
                               pattern=r"^arn:aws[a-zA-Z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]+$",
                               pattern_doc="an ACM certificate ARN"),
    "env_hosted_zone": Str("Public Route 53 zone in which to point `env_domain` at the load balancer.", default="",
                           pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$", pattern_doc="a DNS zone name"),
    "env_ec2_capacity": EC2_CAPACITY,
    "env_service_discovery": Struct({
        "namespace": Str("The Cloud Map private DNS namespace (in the environment's VPC) the services with discovery "
                         "register in.", pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
                         pattern_doc="a lower-case DNS name", max_len=253, default_doc="`<name>-<env_name>.local`"),
    }, doc="Service discovery of the environment (created when a service uses discovery).", default={}),
    "env_container_insights": Bool("CloudWatch Container Insights on the cluster.", default=False),
    "env_smoke_http": Bool("Smoke-check over HTTP (the load balancer must be reachable from Ansible); false checks the "
                           "targets' health instead: every web service has targets, all healthy (a `blue_green`, `canary` "
                           "or `linear` service in its target group or its alternate, whichever ECS made production).",
                           default=True),
    "env_smoke_retries": Int("How many times deploy.yml repeats a failing HTTP smoke check, 10 seconds apart, before the "
                             "play fails (a new load balancer's DNS name takes a while to resolve).", minimum=0,
                             maximum=60, default=6),
    "env_release_timeout": Int("Seconds a release may take before it fails and rolls back.", minimum=60, maximum=86400,
                               default=900),
}, doc="The environment's variables (inventories/<env>/group_vars).", allow_null=False)
