"""service_specs: the one mapping from the application's services to the modules' options."""

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.shipyard.ecs.plugins.filter.service_specs import service_specs
from integration.ansible_runner_helpers import REPO

IMAGES = {s: "123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices/%s:prod" % s for s in ("client", "users", "swagger")}
CONTEXT = {
    "name": "flask-microservices-production",
    "application": "flask-microservices",
    "region": "us-east-1",
    "listeners": [{"port": 80, "default_service": "client"}, {"port": 8080, "default_service": "swagger"}],
    "images": IMAGES,
    "target_group_prefix": "production",
    "vpc_id": "vpc-1",
    "subnets": ["subnet-a", "subnet-b"],
    "security_groups": ["sg-tasks"],
    "execution_role_arn": "arn:aws:iam::123456789012:role/exec",
    "secret_arn_prefix": "arn:aws:ssm:us-east-1:123456789012:parameter/flask-microservices/production/",
}


@pytest.fixture(scope="module")
def app():
    with open("%s/inventories/app.yml" % REPO) as handle:
        return yaml.safe_load(handle)


@pytest.fixture
def specs(app):
    return service_specs(app["app_services"], CONTEXT)


def test_one_target_group_per_service_with_its_port_and_health_path(specs):
    by_name = {tg["name"]: tg for tg in specs["target_groups"]}
    assert sorted(by_name) == ["production-client", "production-swagger", "production-users"]
    assert by_name["production-users"]["port"] == 5000
    assert by_name["production-users"]["health_check"] == {"path": "/ping", "matcher": "200"}
    assert by_name["production-users"]["target_type"] == "ip"


def test_listeners_default_to_their_service(specs):
    assert specs["listeners"] == [
        {"port": 80, "protocol": "HTTP", "default_action": {"target_group": "production-client"}},
        {"port": 8080, "protocol": "HTTP", "default_action": {"target_group": "production-swagger"}},
    ]


def test_the_seeds_user_routes_forward_to_users(specs):
    assert [r["path_patterns"] for r in specs["routes"]] == [["/auth/*"], ["/users"], ["/users/*"], ["/ping"]]
    assert {r["target_group"] for r in specs["routes"]} == {"production-users"}
    assert {r["listener"] for r in specs["routes"]} == {80}


def test_secrets_are_references_never_values(specs):
    users = next(s for s in specs["stack_services"] if s["name"] == "users")
    container = users["task_definition"]["containers"][0]
    assert container["secrets"] == {
        "DATABASE_URL": "arn:aws:ssm:us-east-1:123456789012:parameter/flask-microservices/production/users/DATABASE_URL",
        "SECRET_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/flask-microservices/production/users/SECRET_KEY",
    }
    assert "DATABASE_URL" not in container.get("environment", {})


def test_secret_arns_are_kept_as_given():
    services = {"api": {"container_port": 80, "secrets": {"TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:tok"}}}
    out = service_specs(services, dict(CONTEXT, listeners=[{"port": 80, "default_service": "api"}], images={"api": "img"}))
    assert out["stack_services"][0]["task_definition"]["containers"][0]["secrets"] == {
        "TOKEN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:tok"}


def test_services_run_on_fargate_in_the_given_network_with_a_circuit_breaker(specs):
    users = next(s for s in specs["stack_services"] if s["name"] == "users")
    assert users["launch_type"] == "FARGATE"
    assert users["network_configuration"] == {"subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-tasks"], "assign_public_ip": True}
    assert users["deployment_configuration"]["circuit_breaker"] == {"enable": True, "rollback": True}
    assert users["load_balancers"] == [{"target_group": "production-users", "container_name": "users", "container_port": 5000}]
    td = users["task_definition"]
    assert (td["family"], td["network_mode"], td["cpu"], td["memory"]) == ("flask-microservices-production-users", "awsvpc", "256", "512")
    assert td["containers"][0]["awslogs"] == {"group": "/ecs/flask-microservices-production/users", "region": "us-east-1", "stream_prefix": "users"}


def test_release_names_each_services_image(specs):
    assert {s["name"]: s["images"] for s in specs["release_services"]} == {s: {s: IMAGES[s]} for s in IMAGES}


def test_autoscaling_becomes_a_cpu_target_tracking_policy():
    services = {"api": {"container_port": 80, "autoscaling": {"min_capacity": 1, "max_capacity": 10, "cpu_target": 50}}}
    out = service_specs(services, dict(CONTEXT, listeners=[{"port": 80, "default_service": "api"}], images={"api": "img"}))
    assert out["stack_services"][0]["autoscaling"] == {
        "min_capacity": 1, "max_capacity": 10,
        "policies": [{"name": "cpu50", "metric": "cpu", "target": 50.0, "scale_in_cooldown": 30, "scale_out_cooldown": 30}],
    }


def test_listener_to_an_unknown_service_is_refused(app):
    with pytest.raises(AnsibleFilterError, match="default_service 'admin' is not one of the services"):
        service_specs(app["app_services"], dict(CONTEXT, listeners=[{"port": 80, "default_service": "admin"}]))


def test_target_group_names_longer_than_aws_allows_are_refused(app):
    with pytest.raises(AnsibleFilterError, match="longer than 32 characters"):
        service_specs(app["app_services"], dict(CONTEXT, target_group_prefix="a-very-long-environment-name-prefix"))


def test_a_service_without_an_image_is_refused(app):
    with pytest.raises(AnsibleFilterError, match="no image for service 'users'"):
        service_specs(app["app_services"], dict(CONTEXT, images={"client": "x", "swagger": "y"}))


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666"


@pytest.fixture
def https_specs(app):
    return service_specs(app["app_services"], dict(CONTEXT, certificate_arn=CERTIFICATE))


def test_without_a_certificate_there_is_no_https_listener(specs):
    assert [(li["port"], li["protocol"]) for li in specs["listeners"]] == [(80, "HTTP"), (8080, "HTTP")]
    assert not any("certificates" in li or "ssl_policy" in li for li in specs["listeners"])


def test_with_a_certificate_port_80_redirects_permanently_to_https_keeping_host_path_and_query(https_specs):
    port_80 = next(li for li in https_specs["listeners"] if li["port"] == 80)
    assert port_80 == {"port": 80, "protocol": "HTTP", "default_action": {"redirect": {
        "protocol": "HTTPS", "port": "443", "host": "#{host}", "path": "/#{path}", "query": "#{query}", "status_code": "HTTP_301"}}}


def test_with_a_certificate_the_default_service_of_port_80_moves_to_https_443_with_a_tls13_policy(https_specs):
    port_443 = next(li for li in https_specs["listeners"] if li["port"] == 443)
    assert port_443 == {"port": 443, "protocol": "HTTPS", "certificates": [CERTIFICATE],
                        "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
                        "default_action": {"target_group": "production-client"}}


def test_with_a_certificate_the_routes_of_port_80_move_to_443(https_specs, specs):
    assert {r["listener"] for r in https_specs["routes"]} == {443}
    assert [dict(r, listener=80) for r in https_specs["routes"]] == specs["routes"]


def test_with_a_certificate_other_listeners_and_their_routes_stay_as_they_are(app):
    services = dict(app["app_services"], swagger=dict(app["app_services"]["swagger"], routes=[{"listener": 8080, "path_patterns": ["/docs"]}]))
    out = service_specs(services, dict(CONTEXT, certificate_arn=CERTIFICATE))
    assert [li["port"] for li in out["listeners"]] == [80, 443, 8080]
    assert out["listeners"][2] == {"port": 8080, "protocol": "HTTP", "default_action": {"target_group": "production-swagger"}}
    assert [r["listener"] for r in out["routes"] if r["target_group"] == "production-swagger"] == [8080]


def test_a_certificate_without_a_listener_on_port_80_is_refused(app):
    with pytest.raises(AnsibleFilterError, match="certificate_arn is set .* but no listener is on port 80"):
        service_specs(app["app_services"], dict(CONTEXT, certificate_arn=CERTIFICATE,
                                                listeners=[{"port": 8080, "default_service": "swagger"}]))


def test_a_certificate_with_a_declared_listener_on_443_is_refused(app):
    listeners = CONTEXT["listeners"] + [{"port": 443, "default_service": "client"}]
    with pytest.raises(AnsibleFilterError, match="already declares a listener on port 443"):
        service_specs(app["app_services"], dict(CONTEXT, certificate_arn=CERTIFICATE, listeners=listeners))
