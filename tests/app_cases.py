"""Bad application definitions and environments, shared by the model's unit tests and the
integration tests that run them against the local emulated AWS.

Each case changes a valid application (the reference app, ``format: 1``) and a valid environment
(the local inventory's settings, with public images so that no ECR image is needed) and names
what the refusal must say: the option path and the value, as the user wrote them.
``account`` cases need the account to tell (secrets, images, archives, certificates, the network).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Tuple

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACCOUNT = "123456789012"
IMAGES = {svc: "public.ecr.aws/docker/library/nginx:1.27" for svc in ("client", "users", "swagger")}
SECRETS = ["/flask-microservices/local/users/DATABASE_URL", "/flask-microservices/local/users/SECRET_KEY"]


def reference_app() -> Dict[str, Any]:
    with open(os.path.join(REPO, "inventories", "app.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def local_env() -> Dict[str, Any]:
    return {
        "env_name": "local",
        "env_network": {"create": True, "cidr": "10.20.0.0/16",
                        "public_subnets": [{"cidr": "10.20.0.0/24", "az": "us-east-1a"},
                                           {"cidr": "10.20.1.0/24", "az": "us-east-1b"}]},
        "env_image_tag": "local",
        "env_log_retention_days": 1,
        "env_alarm_email": "",
        "env_services": {svc: {"image": image} for svc, image in IMAGES.items()},
        "env_smoke_http": False,
    }


@dataclass
class Case:
    id: str
    change: Callable[[Dict[str, Any], Dict[str, Any]], None]
    says: Tuple[str, ...]
    account: bool = False

    def inputs(self) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        app, env = copy.deepcopy(reference_app()), copy.deepcopy(local_env())
        self.change(app, env)
        return app, env


def _set(path: str, value: Any, root: str = "app") -> Callable[[Dict[str, Any], Dict[str, Any]], None]:
    """A change that sets ``path`` (dots; [n] for list items) in the app or the env."""
    def change(app: Dict[str, Any], env: Dict[str, Any]) -> None:
        node: Any = app if root == "app" else env
        keys = _keys(path)
        for key in keys[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[keys[-1]] = value
    return change


def _del(path: str, root: str = "app") -> Callable[[Dict[str, Any], Dict[str, Any]], None]:
    def change(app: Dict[str, Any], env: Dict[str, Any]) -> None:
        node: Any = app if root == "app" else env
        keys = _keys(path)
        for key in keys[:-1]:
            node = node[key]
        del node[keys[-1]]
    return change


def _keys(path: str) -> List[Any]:
    out: List[Any] = []
    for part in path.split("."):
        while "[" in part:
            head, rest = part.split("[", 1)
            if head:
                out.append(head)
            index, part = rest.split("]", 1)
            out.append(int(index))
        if part:
            out.append(part)
    return out


def _both(*changes: Callable[[Dict[str, Any], Dict[str, Any]], None]) -> Callable[[Dict[str, Any], Dict[str, Any]], None]:
    def change(app: Dict[str, Any], env: Dict[str, Any]) -> None:
        for one in changes:
            one(app, env)
    return change


def _long_service(app: Dict[str, Any], env: Dict[str, Any]) -> None:
    name = "a-service-name-of-twenty-seven"[:27]
    app["services"][name] = {"container_port": 7000}
    env["env_services"][name] = {"image": IMAGES["client"]}


USERS_ROUTE = "services.users.routes"
EC2 = _set("env_ec2_capacity", {"instance_type": "t3.small", "max_size": 2}, "env")
USERS_ON_EC2 = _both(EC2, _set("services.users.placement", "ec2"))
USERS_IN_BRIDGE = _both(USERS_ON_EC2, _set("services.users.network_mode", "bridge"))
SIDECAR = "services.users.containers.sidecar"


def _backend_only(app: Dict[str, Any], env: Dict[str, Any]) -> None:
    """The users service alone, as a backend (no listeners, no load balancer)."""
    users = app["services"]["users"]
    for key in ("routes", "health_check"):
        users.pop(key)
    users["kind"] = "backend"
    app["services"] = {"users": users}
    app["listeners"] = []
    app["smoke_checks"] = []
    env["env_services"] = {"users": env["env_services"]["users"]}


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-0000-0000-000000000000"

CASES: List[Case] = [
    # The review's cases.
    Case("listener-port-out-of-range", _set("listeners[0].port", 70000), ("listeners[0].port=70000", "1..65535")),
    Case("default-service-names-no-service", _set("listeners[1].default_service", "swager"),
         ("listeners[1].default_service='swager'", "did you mean swagger")),
    Case("duplicate-route", _set(USERS_ROUTE + "[1].path_patterns", ["/auth/*"]), ("services.users.routes[1]", "duplicate route")),
    Case("fargate-cpu-memory-pair", _set("env_services.users.memory", 4096, "env"), ("env_services.users.memory=4096", "Fargate cpu 256")),
    Case("negative-desired-count", _set("services.users.desired_count", -1), ("services.users.desired_count=-1",)),
    Case("target-group-name-too-long", _long_service,
         ("services.a-service-name-of-twenty-se", "local-a-service-name-of-twenty-se is 33 characters", "AWS allows 32")),
    Case("typo-in-a-service-key", _set("services.users.contianer_port", 5000), ("services.users.contianer_port=5000", "did you mean container_port")),
    Case("override-of-a-service-that-does-not-exist", _set("env_services.userz", {"cpu": 256}, "env"),
         ("env_services.userz", "did you mean users")),
    Case("count-is-not-a-number", _set("services.users.desired_count", "two"), ("services.users.desired_count='two'", "integer")),
    # Typos at every level.
    Case("typo-in-a-top-level-key", _set("listners", []), ("listners=[]", "did you mean listeners")),
    Case("typo-in-an-env-variable", _set("env_servics", {}, "env"), ("env_servics={}", "did you mean env_services")),
    Case("typo-in-a-listener-key", _set("listeners[0].default_servce", "client"), ("listeners[0].default_servce='client'", "default_service")),
    Case("typo-in-a-route-key", _set(USERS_ROUTE + "[0].path_pattern", ["/x"]), ("services.users.routes[0].path_pattern", "path_patterns")),
    Case("typo-in-a-health-check-key", _set("services.users.health_check.pth", "/"), ("services.users.health_check.pth='/'", "did you mean path")),
    Case("typo-in-an-override", _set("env_services.users.desired_cont", 2, "env"), ("env_services.users.desired_cont=2", "desired_count")),
    Case("typo-in-the-network", _set("env_network.cdr", "10.0.0.0/16", "env"), ("env_network.cdr='10.0.0.0/16'", "did you mean cidr")),
    Case("typo-in-ec2-capacity", _set("env_ec2_capacity", {"instance_typ": "t3.small", "max_size": 2}, "env"),
         ("env_ec2_capacity.instance_typ='t3.small'", "instance_type")),
    Case("typo-in-autoscaling", _set("services.users.autoscaling", {"min_capacity": 1, "max_capacty": 3}),
         ("services.users.autoscaling.max_capacty=3", "max_capacity")),
    Case("typo-in-a-smoke-check", _set("smoke_checks[0].stauts", 200), ("smoke_checks[0].stauts=200", "status")),
    # Format and names.
    Case("format-missing", _del("format"), ("format", "required")),
    Case("format-unknown", _set("format", 2), ("format=2", "one of 1")),
    Case("application-name-too-long", _set("name", "a" * 29), ("name='aaaaaaaaaaaaaaaaaaaaaaaaaaaaa'", "at most 28")),
    Case("application-name-upper-case", _set("name", "Shop"), ("name='Shop'", "lower-case")),
    Case("load-balancer-name-too-long", _set("name", "a-very-long-application-name"),
         ("env_name='local'", "a-very-long-application-name-local", "32")),
    Case("service-name-upper-case", lambda app, env: app["services"].update(Users=app["services"]["users"]), ("services.Users",)),
    Case("env-name-missing", _del("env_name", "env"), ("env_name", "required")),
    Case("env-name-with-underscore", _set("env_name", "prod_1", "env"), ("env_name='prod_1'",)),
    # Types.
    Case("services-is-a-list", _set("services", ["client"]), ("services=['client']", "expected a mapping")),
    Case("port-is-a-boolean", _set("services.users.container_port", True), ("services.users.container_port=True", "boolean")),
    Case("environment-value-is-a-list", _set("services.users.environment.APP_SETTINGS", ["a"]),
         ("services.users.environment.APP_SETTINGS=['a']", "string, number or boolean")),
    Case("path-patterns-is-a-string", _set(USERS_ROUTE + "[0].path_patterns", "/auth/*"),
         ("services.users.routes[0].path_patterns='/auth/*'", "expected a list")),
    Case("insights-is-not-a-boolean", _set("env_container_insights", "maybe", "env"), ("env_container_insights='maybe'", "true or false")),
    # Out of range.
    Case("desired-count-too-high", _set("services.users.desired_count", 6000), ("services.users.desired_count=6000", "0..5000")),
    Case("health-check-interval-too-short", _set("services.users.health_check.interval", 3), ("services.users.health_check.interval=3", "5..300")),
    Case("health-check-timeout-not-below-interval", _set("services.users.health_check", {"path": "/", "interval": 10, "timeout": 10}),
         ("services.users.health_check.timeout=10", "less than interval")),
    Case("grace-period-negative", _set("services.users.health_check_grace_period", -5), ("services.users.health_check_grace_period=-5",)),
    Case("autoscaling-target-above-100", _set("services.users.autoscaling", {"min_capacity": 1, "max_capacity": 3, "cpu_target": 150}),
         ("services.users.autoscaling.cpu_target=150", "1..100")),
    Case("retention-not-allowed", _set("env_log_retention_days", 2, "env"), ("env_log_retention_days=2", "one of 1, 3")),
    Case("release-timeout-too-short", _set("env_release_timeout", 10, "env"), ("env_release_timeout=10", "60..86400")),
    Case("smoke-check-status-out-of-range", _set("smoke_checks[0].status", 700), ("smoke_checks[0].status=700", "100..599")),
    Case("fargate-cpu-size", _set("services.users.cpu", 300), ("services.users.cpu=300", "not a Fargate CPU size")),
    Case("memory-reservation-above-memory", _set("services.users.memory_reservation", 1024),
         ("services.users.memory_reservation=1024", "<= the task's memory")),
    # Malformed values.
    Case("path-without-slash", _set(USERS_ROUTE + "[0].path_patterns", ["auth"]), ("services.users.routes[0].path_patterns[0]='auth'", "starts with /")),
    Case("health-check-path-without-slash", _set("services.users.health_check.path", "ping"), ("services.users.health_check.path='ping'", "starts with /")),
    Case("matcher-not-http-codes", _set("services.users.health_check.matcher", "ok"), ("services.users.health_check.matcher='ok'", "HTTP codes")),
    Case("environment-name-invalid", _set("services.users.environment.1BAD", "x"), ("services.users.environment.1BAD", "variable name")),
    Case("secret-reference-not-a-secret", _set("services.users.secrets.DATABASE_URL", "arn:aws:s3:::bucket/key"),
         ("services.users.secrets.DATABASE_URL='arn:aws:s3:::bucket/key'", "not an SSM parameter")),
    Case("image-tag-invalid", _set("env_image_tag", "bad tag", "env"), ("env_image_tag='bad tag'", "Docker tag")),
    Case("mutability-lower-case", _set("env_image_tag_mutability", "mutable", "env"), ("env_image_tag_mutability='mutable'", "MUTABLE")),
    Case("alarm-email-invalid", _set("env_alarm_email", "ops-at-example", "env"), ("env_alarm_email='ops-at-example'", "e-mail")),
    Case("alarm-endpoint-not-https", _set("env_alarm_https_endpoint", "http://hooks.example.com/x", "env"),
         ("env_alarm_https_endpoint='http://hooks.example.com/x'", "https://")),
    Case("domain-invalid", _set("env_domain", "Bad_Domain", "env"), ("env_domain='Bad_Domain'", "DNS name")),
    # Dangling references, duplicates, conflicts.
    Case("route-on-a-listener-that-does-not-exist", _set(USERS_ROUTE + "[0].listener", 81), ("services.users.routes[0].listener=81", "no such listener")),
    Case("route-without-conditions", _set(USERS_ROUTE + "[0]", {"listener": 80}), ("services.users.routes[0]", "at least one condition")),
    Case("route-with-too-many-paths", _set(USERS_ROUTE + "[0].path_patterns", ["/a", "/b", "/c", "/d", "/e", "/f"]),
         ("services.users.routes[0].path_patterns=", "at most 5")),
    Case("route-with-too-many-condition-values",
         _set(USERS_ROUTE + "[0]", {"listener": 80, "path_patterns": ["/a", "/b", "/c"], "host_headers": ["a.example.com", "b.example.com", "c.example.com"]}),
         ("services.users.routes[0]=", "6 condition values")),
    Case("route-priority-used-twice", _both(_set(USERS_ROUTE + "[0].priority", 5), _set(USERS_ROUTE + "[1].priority", 5)),
         ("services.users.routes[1].priority=5", "already used")),
    Case("duplicate-listener-port", _set("listeners[1].port", 80), ("listeners[1].port=80", "duplicate")),
    Case("no-listeners-with-web-services", _set("listeners", []), ("listeners=[]", "web services (client, swagger, users)", "add a listener")),
    Case("no-services", _set("services", {}), ("services={}", "at least 1")),
    Case("smoke-check-on-an-unknown-listener", _set("smoke_checks[0].listener", 81), ("smoke_checks[0].listener=81", "no such listener")),
    Case("variable-both-plain-and-secret", _set("services.users.environment.SECRET_KEY", "x"),
         ("services.users.secrets.SECRET_KEY", "either plain or secret")),
    Case("image-and-archive", _set("env_services.client.archive", "/tmp/client.tar", "env"), ("env_services.client.archive='/tmp/client.tar'", "exclusive")),
    Case("autoscaling-max-below-min", _set("services.users.autoscaling", {"min_capacity": 3, "max_capacity": 2}),
         ("services.users.autoscaling.max_capacity=2", ">= min_capacity")),
    Case("autoscaling-without-max", _set("services.users.autoscaling", {"min_capacity": 1}), ("services.users.autoscaling.max_capacity", "required")),
    Case("certificate-without-domain", _set("env_certificate_arn", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d", "env"),
         ("env_certificate_arn=", "needs env_domain")),
    Case("zone-without-domain", _set("env_hosted_zone", "example.com", "env"), ("env_hosted_zone='example.com'", "needs env_domain")),
    Case("network-create-without-cidr", _del("env_network.cidr", "env"), ("env_network.cidr", "required with create")),
    Case("network-in-one-zone", _set("env_network.public_subnets[1].az", "us-east-1a", "env"), ("env_network.public_subnets", "two Availability Zones")),
    Case("network-vpc-id-and-tags", _set("env_network", {"vpc_id": "vpc-0abc", "vpc_tags": {"Name": "x"}}, "env"),
         ("env_network.vpc_id='vpc-0abc'", "exactly one of vpc_id and vpc_tags")),
    Case("network-create-and-vpc-id", _set("env_network.vpc_id", "vpc-0abc", "env"), ("env_network.vpc_id='vpc-0abc'", "not with create")),
    Case("ec2-capacity-without-instance-type", _set("env_ec2_capacity", {"max_size": 2}, "env"), ("env_ec2_capacity.instance_type", "required")),
    Case("ec2-capacity-min-above-max", _set("env_ec2_capacity", {"instance_type": "t3.small", "min_size": 3, "max_size": 2}, "env"),
         ("env_ec2_capacity.min_size=3", "<= max_size")),
    Case("https-without-listener-80", _both(_set("env_domain", "app.example.com", "env"), _set("listeners[0].port", 81),
                                            _set(USERS_ROUTE, [{"listener": 81, "path_patterns": ["/users"]}]),
                                            _set("smoke_checks", [])),
         ("env_domain='app.example.com'", "no listener is on port 80")),
    # Service kinds.
    Case("backend-with-routes-and-health-check", _set("services.users.kind", "backend"),
         ("services.users.routes=", "services.users.health_check={'path': '/ping'", "only web services have it")),
    Case("worker-with-container-port", _both(_set("services.users.kind", "worker"), _del(USERS_ROUTE), _del("services.users.health_check")),
         ("services.users.container_port=5000", "a worker has no port")),
    Case("worker-with-discovery", _both(_set("services.users.kind", "worker"), _del(USERS_ROUTE), _del("services.users.health_check"),
                                        _del("services.users.container_port"), _set("services.users.discovery", {"name": "users"})),
         ("services.users.discovery={'name': 'users'", "a worker has no port")),
    Case("worker-with-grace-period", _both(_set("services.users.kind", "worker"), _del(USERS_ROUTE), _del("services.users.health_check"),
                                           _del("services.users.container_port"), _set("services.users.health_check_grace_period", 30)),
         ("services.users.health_check_grace_period=30", "only web services")),
    Case("web-without-container-port", _del("services.users.container_port"), ("services.users.container_port", "required for kind web")),
    Case("backend-without-container-port", _both(_backend_only, _del("services.users.container_port")),
         ("services.users.container_port", "required for kind backend")),
    Case("default-service-is-a-backend", _both(_set("services.client.kind", "backend"), _del("services.client.health_check")),
         ("listeners[0].default_service='client'", "is kind backend", "forwards to a web service")),
    Case("unknown-kind", _set("services.users.kind", "frontend"), ("services.users.kind='frontend'", "web, backend, worker")),
    # Placement and network.
    Case("ec2-placement-without-capacity", _set("services.users.placement", "ec2"),
         ("services.users.placement='ec2'", "no EC2 capacity", "env_ec2_capacity")),
    Case("bridge-on-fargate", _set("services.users.network_mode", "bridge"), ("services.users.network_mode='bridge'", "Fargate runs awsvpc only")),
    Case("unknown-network-mode", _set("services.users.network_mode", "nat"), ("services.users.network_mode='nat'", "awsvpc, bridge, host")),
    Case("private-subnets-not-configured", _set("services.users.subnets", "private"),
         ("services.users.subnets='private'", "no private subnets", "private_subnet_ids")),
    Case("private-subnets-in-bridge-mode", _both(USERS_IN_BRIDGE, _set("services.users.subnets", "private"),
                                                 _set("env_network", {"vpc_id": "vpc-0abc", "private_subnet_ids": ["subnet-0a"]}, "env")),
         ("services.users.subnets='private'", "bridge tasks use their instances' network")),
    Case("private-subnets-with-create", _set("env_network.private_subnet_ids", ["subnet-0abc"], "env"),
         ("env_network.private_subnet_ids=['subnet-0abc']", "not with create: true")),
    Case("ec2-task-without-memory", _both(USERS_ON_EC2, _del("services.users.cpu"), _del("services.users.memory")),
         ("services.users.container_memory", "the task has no memory", "memory_reservation")),
    Case("ec2-scaling-policy-metric",
         _set("env_ec2_capacity", {"instance_type": "t3.small", "max_size": 2,
                                   "scaling_policies": [{"name": "mem", "metric": "memory", "target": 50}]}, "env"),
         ("env_ec2_capacity.scaling_policies[0].metric='memory'", "cpu, network_in, network_out")),
    # Service discovery.
    Case("discovery-a-record-in-bridge-mode", _both(USERS_IN_BRIDGE, _set("services.users.discovery", {"dns_record_type": "A"})),
         ("services.users.discovery.dns_record_type='A'", "SRV")),
    Case("discovery-name-not-a-dns-label", _set("services.users.discovery", {"name": "Users_1"}),
         ("services.users.discovery.name='Users_1'", "DNS label")),
    Case("namespace-not-a-dns-name", _set("env_service_discovery", {"namespace": "Bad_NS"}, "env"),
         ("env_service_discovery.namespace='Bad_NS'", "DNS name")),
    # Logging.
    Case("syslog-on-fargate", _set("services.users.logging", {"driver": "syslog"}),
         ("services.users.logging.driver='syslog'", "Fargate supports awslogs, splunk, awsfirelens")),
    Case("unknown-log-driver", _set("services.users.logging", {"driver": "splunkk"}), ("services.users.logging.driver='splunkk'", "did you mean splunk")),
    Case("awslogs-group-with-another-driver", _both(USERS_ON_EC2, _set("services.users.logging", {"driver": "syslog", "group": "x"})),
         ("services.users.logging.group='x'", "an awslogs option")),
    Case("log-secret-option-not-a-secret", _set("services.users.logging", {"driver": "splunk", "secret_options": {"splunk-token": "arn:aws:s3:::b/k"}}),
         ("services.users.logging.secret_options.splunk-token='arn:aws:s3:::b/k'", "not an SSM parameter")),
    # Several containers.
    Case("container-named-as-the-main-one", _set("services.users.containers.users", {"image": IMAGES["users"]}),
         ("services.users.containers.users", "duplicate container name")),
    Case("container-name-invalid", _set("services.users.containers", {"side car": {"image": IMAGES["users"]}}),
         ("services.users.containers.side car", "letters, digits")),
    Case("link-to-an-unknown-container", _both(USERS_IN_BRIDGE, _set(SIDECAR, {"image": IMAGES["users"]}), _set("services.users.links", ["sidecra"])),
         ("services.users.links", "'sidecra'", "no such container in the task", "did you mean sidecar")),
    Case("links-outside-bridge-mode", _both(_set(SIDECAR, {"image": IMAGES["users"]}), _set("services.users.links", ["sidecar"])),
         ("services.users.links=['sidecar']", "links need network_mode bridge")),
    Case("depends-on-an-unknown-container", _set("services.users.depends_on", {"migrate": "SUCCESS"}),
         ("services.users.depends_on.migrate='migrate'", "no such container")),
    Case("depends-on-an-unknown-condition", _both(_set(SIDECAR, {"image": IMAGES["users"]}), _set("services.users.depends_on", {"sidecar": "STARTED"})),
         ("services.users.depends_on.sidecar='STARTED'", "START, COMPLETE, SUCCESS, HEALTHY")),
    Case("dependency-cycle", _both(_set(SIDECAR, {"image": IMAGES["users"], "depends_on": {"users": "START"}}),
                                   _set("services.users.depends_on", {"sidecar": "HEALTHY"})),
         ("sidecar -> users -> sidecar", "form a cycle")),
    Case("depends-on-an-essential-container-exiting", _both(_set(SIDECAR, {"image": IMAGES["users"], "command": ["migrate"]}),
                                                            _set("services.users.depends_on", {"sidecar": "SUCCESS"})),
         ("services.users.depends_on.sidecar='SUCCESS'", "cannot be essential")),
    Case("no-essential-container", _set("services.users.essential", False), ("services.users.essential=False", "at least one essential container")),
    Case("host-port-clash-in-a-task", _set(SIDECAR, {"image": IMAGES["users"], "ports": [{"container_port": 5000}]}),
         ("services.users.containers.sidecar.ports[0].container_port=5000", "host port 5000/tcp is already taken", "by users")),
    Case("container-image-and-archive", _set(SIDECAR, {"image": IMAGES["users"], "archive": "/tmp/side.tar"}),
         ("services.users.containers.sidecar.archive='/tmp/side.tar'", "exclusive")),
    Case("container-reservation-above-its-memory", _set(SIDECAR, {"image": IMAGES["users"], "memory": 64, "memory_reservation": 128}),
         ("services.users.containers.sidecar.memory_reservation=128", "<= the container's memory (64)")),
    Case("containers-above-the-task-memory", _set(SIDECAR, {"image": IMAGES["users"], "memory": 1024}),
         ("services.users.memory=512", "add up to 1024 MiB")),
    # References to deployed values.
    Case("unknown-reference", _set("services.users.environment.BASE", "http://${load_balancer.dns}/"),
         ("services.users.environment.BASE='http://${load_balancer.dns}/'", "unknown reference")),
    Case("reference-to-an-unknown-service", _set("services.users.environment.API", "${services.userz.discovery_name}"),
         ("services.users.environment.API='${services.userz.discovery_name}'", "no such service", "did you mean users")),
    Case("reference-to-a-service-without-discovery", _set("services.users.environment.API", "${services.client.discovery_name}"),
         ("services.users.environment.API=", "service client has no service discovery")),
    Case("reference-to-a-load-balancer-the-application-has-not", _both(_backend_only, _set("services.users.environment.URL", "${load_balancer.url}")),
         ("services.users.environment.URL='${load_balancer.url}'", "no load balancer")),
    Case("reference-in-a-container", _set(SIDECAR, {"image": IMAGES["users"], "environment": {"X": "${nope}"}}),
         ("services.users.containers.sidecar.environment.X='${nope}'", "unknown reference")),
    # Release strategies (ECS-native blue/green, canary, linear).
    Case("release-strategy-unknown", _set("services.swagger.release", {"strategy": "red_black"}),
         ("services.swagger.release.strategy='red_black'", "blue_green")),
    Case("release-strategy-of-a-backend", _both(_backend_only, _set("services.users.release", {
        "strategy": "blue_green", "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}})),
        ("services.users.release.strategy='blue_green'", "only web services")),
    Case("release-canary-keys-with-linear", _set("services.swagger.release", {
        "strategy": "linear", "canary": {"percent": 10}, "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        ("services.swagger.release.canary={'percent': 10.0}", "only with strategy canary")),
    Case("release-canary-percent-out-of-range", _set("services.swagger.release", {
        "strategy": "canary", "canary": {"percent": 0.05}, "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        ("services.swagger.release.canary.percent=0.05", "out of range: 0.1..100")),
    Case("release-bake-out-of-range", _set("services.swagger.release", {
        "strategy": "blue_green", "bake_minutes": 1441, "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        ("services.swagger.release.bake_minutes=1441", "out of range")),
    Case("release-without-test-traffic", _set("services.swagger.release", {"strategy": "blue_green"}),
         ("services.swagger.release.test_traffic", "exactly one of listener")),
    Case("release-test-traffic-on-a-production-listener", _set("services.swagger.release", {
        "strategy": "blue_green", "test_traffic": {"listener": 80}}),
        ("services.swagger.release.test_traffic.listener=80", "carries production traffic")),
    Case("release-test-traffic-on-no-listener", _set("services.swagger.release", {
        "strategy": "blue_green", "test_traffic": {"listener": 9443}}),
        ("services.swagger.release.test_traffic.listener=9443", "no such listener")),
    Case("release-test-listener-of-a-rolling-service", _set("listeners[1].test", True),
         ("listeners[1].test=True", "set services.swagger.release.test_traffic.listener: 8080")),
    Case("release-with-several-production-rules", _set("services.users.release", {
        "strategy": "blue_green", "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        ("services.users.routes=", "one production listener rule per service")),
    Case("release-header-test-rule-with-a-priority", _both(
        _set("services.users.routes", [{"listener": 80, "path_patterns": ["/users*", "/auth/*", "/ping"], "priority": 7}]),
        _set("services.users.release", {"strategy": "canary",
                                        "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}})),
         ("services.users.routes[0].priority=7", "leave the priority to the order written")),
    Case("release-test-traffic-with-rolling", _set("services.swagger.release", {
        "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        ("services.swagger.release.test_traffic=", "only with strategy blue_green, canary or linear")),
    Case("release-unknown-key", _set("services.swagger.release", {"strategy": "blue_green", "bake_time": 5}),
         ("services.swagger.release.bake_time=5", "unknown key; did you mean bake_minutes?")),
    Case("release-override-to-canary-keeps-linear-keys", _both(
        _set("services.swagger.release", {"strategy": "linear", "linear": {"step_percent": 10},
                                          "test_traffic": {"http_header": {"name": "X-Test", "value": "1"}}}),
        _set("env_services.swagger.release", {"strategy": "canary"}, "env")),
        ("env_services.swagger.release.linear=", "only with strategy linear (strategy is canary)")),
    # What only the account can tell.
    Case("secret-that-does-not-exist", _set("services.users.secrets.MISSING", "users/MISSING"),
         ("services.users.secrets.MISSING", "/flask-microservices/local/users/MISSING", "no such SSM parameter"), account=True),
    Case("secrets-manager-secret-that-does-not-exist",
         _set("services.users.secrets.API_KEY", "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"),
         ("services.users.secrets.API_KEY", "no such Secrets Manager secret"), account=True),
    Case("image-not-in-ecr", _del("env_services.client.image", "env"), ("services.client", "no image flask-microservices/client:local in ECR"), account=True),
    Case("archive-that-does-not-exist", _both(_del("env_services.client.image", "env"), _set("env_services.client.archive", "/nonexistent/client.tar", "env")),
         ("env_services.client.archive='/nonexistent/client.tar'", "no such file"), account=True),
    Case("archive-that-is-not-an-image",
         _both(_del("env_services.client.image", "env"), _set("env_services.client.archive", os.path.join(REPO, "README.md"), "env")),
         ("env_services.client.archive=", "README.md"), account=True),
    Case("domain-without-certificate", _set("env_domain", "app.example.com", "env"),
         ("env_domain='app.example.com'", "no ISSUED ACM certificate"), account=True),
    Case("certificate-that-does-not-exist", _both(_set("env_domain", "app.example.com", "env"),
                                                  _set("env_certificate_arn", CERTIFICATE, "env")),
         ("env_certificate_arn='arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d", "no such certificate"), account=True),
    Case("vpc-that-does-not-exist", _set("env_network", {"vpc_id": "vpc-0000000000000000a"}, "env"),
         ("env_network.vpc_id='vpc-0000000000000000a'", "0 VPCs match"), account=True),
    Case("vpc-tags-that-match-nothing", _set("env_network", {"vpc_tags": {"Name": "shared-production"}}, "env"),
         ("env_network.vpc_tags={'Name': 'shared-production'}", "0 VPCs match"), account=True),
    Case("hosted-zone-that-does-not-exist", _both(_set("env_domain", "app.example.com", "env"), _set("env_hosted_zone", "example.com", "env")),
         ("env_hosted_zone='example.com'", "0 public Route 53 zones"), account=True),
]

DEFINITION_CASES = [case for case in CASES if not case.account]
ACCOUNT_CASES = [case for case in CASES if case.account]
