"""The application model: validation of the whole definition and what it renders for each module."""

import copy
import os
import subprocess
import sys

import pytest

from app_cases import DEFINITION_CASES, REPO, local_env, reference_app
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.definition import APPLICATION, ENVIRONMENT
from ansible_collections.shipyard.ecs.plugins.module_utils._app.schema import DefinitionError, keys_of

CTX = model.Context(region="us-east-1", account_id="123456789012", vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"],
                    alb_security_group_id="sg-alb", task_security_group_id="sg-tasks",
                    execution_role_arn="arn:aws:iam::123456789012:role/x-task-execution",
                    task_role_arn="arn:aws:iam::123456789012:role/x-task")


def load(app=None, env=None):
    return model.load(app or reference_app(), env or local_env())


@pytest.mark.parametrize("case", DEFINITION_CASES, ids=[c.id for c in DEFINITION_CASES])
def test_a_bad_definition_is_refused_naming_the_option_path_and_value(case):
    app, env = case.inputs()
    with pytest.raises(DefinitionError) as raised:
        model.load(app, env)
    for text in case.says:
        assert text in raised.value.msg, raised.value.msg


def test_every_problem_is_reported_at_once():
    app, env = reference_app(), local_env()
    app["listeners"][0]["port"] = 70000
    app["services"]["users"]["contianer_port"] = 5000
    env["env_servics"] = {}
    with pytest.raises(DefinitionError) as raised:
        model.load(app, env)
    assert len(raised.value.problems) == 3
    assert raised.value.msg.startswith("3 problems in the application definition:")


def test_the_reference_application_and_every_inventory_shape_load():
    definition = load()
    assert sorted(definition.services) == ["client", "swagger", "users"]
    assert definition.names.stack == "flask-microservices-local"


def test_environment_overrides_merge_mappings_and_replace_the_rest():
    env = local_env()
    env["env_services"]["users"].update(environment={"EXTRA": 1}, routes=[{"listener": 80, "path_patterns": ["/u/*"]}], cpu=512, memory=1024)
    users = load(env=env).services["users"]
    assert users["environment"] == {"APP_SETTINGS": "project.config.ProductionConfig", "EXTRA": "1"}
    assert users["routes"] == [{"listener": 80, "path_patterns": ["/u/*"]}]
    assert (users["cpu"], users["memory"]) == (512, 1024)


def test_an_error_in_an_override_names_the_env_services_path():
    env = local_env()
    env["env_services"]["users"]["cpu"] = 300
    with pytest.raises(DefinitionError) as raised:
        load(env=env)
    assert "env_services.users.cpu=300" in raised.value.msg


def test_numbers_given_as_text_on_the_command_line_are_numbers():
    env = local_env()
    env["env_services"]["users"]["desired_count"] = "3"
    assert load(env=env).services["users"]["desired_count"] == 3


def test_the_layout_before_format_1_is_read_with_a_warning():
    app = reference_app()
    legacy = {"app_name": app["name"], "app_listeners": app["listeners"], "app_services": app["services"]}
    definition = load(app=legacy)
    assert definition.names.application == "flask-microservices"
    assert "app_name" in definition.warnings[0] and "format: 1" in definition.warnings[0]


def test_render_gives_every_field_of_the_definition_to_the_release():
    app = reference_app()
    app["services"]["users"].update(command=["gunicorn", "app"], memory_reservation=256, stop_timeout=20,
                                    container_health_check={"command": ["CMD-SHELL", "true"], "retries": 3})
    options = load(app=app).render(CTX)
    release = {s["name"]: s for s in options["release_services"]}["users"]["definition"]
    container = release["containers"][0]
    assert container["command"] == ["gunicorn", "app"]
    assert container["memory_reservation"] == 256 and container["stop_timeout"] == 20
    assert container["health_check"] == {"command": ["CMD-SHELL", "true"], "retries": 3}
    assert container["environment"] == {"APP_SETTINGS": "project.config.ProductionConfig"}
    assert container["secrets"] == {
        "DATABASE_URL": "arn:aws:ssm:us-east-1:123456789012:parameter/flask-microservices/local/users/DATABASE_URL",
        "SECRET_KEY": "arn:aws:ssm:us-east-1:123456789012:parameter/flask-microservices/local/users/SECRET_KEY"}
    assert container["awslogs"] == {"group": "/ecs/flask-microservices-local/users", "region": "us-east-1", "stream_prefix": "users"}
    assert (release["cpu"], release["memory"], release["execution_role_arn"]) == ("256", "512", CTX.execution_role_arn)
    stack = {s["name"]: s for s in options["stack_services"]}["users"]
    assert stack["task_definition"] == release, "ecs_stack creates a service with the same definition the release runs"


def test_render_maps_listeners_routes_and_target_groups():
    options = load().render(CTX)
    lb = options["load_balancer"]
    assert [(l["port"], l["default_action"]) for l in lb["listeners"]] == [
        (80, {"target_group": "local-client"}), (8080, {"target_group": "local-swagger"})]
    assert [r["path_patterns"] for r in lb["routes"]] == [["/auth/*"], ["/users"], ["/users/*"], ["/ping"]]
    assert {tg["name"]: tg["health_check"]["path"] for tg in lb["target_groups"]} == {
        "local-client": "/", "local-swagger": "/", "local-users": "/ping"}


def test_with_a_domain_port_80_redirects_and_its_routes_move_to_https():
    env = local_env()
    env["env_domain"] = "app.example.com"
    ctx = copy.copy(CTX)
    ctx.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    lb = load(env=env).render(ctx)["load_balancer"]
    ports = {l["port"]: l for l in lb["listeners"]}
    assert ports[80]["default_action"]["redirect"]["protocol"] == "HTTPS"
    assert ports[443]["certificates"] == [ctx.certificate_arn] and ports[443]["protocol"] == "HTTPS"
    assert {r["listener"] for r in lb["routes"]} == {443}


def test_images_without_an_image_are_the_accounts_ecr_at_the_environments_tag():
    env = local_env()
    del env["env_services"]["client"]["image"]
    definition = load(env=env)
    assert definition.image_of("client", "us-east-1", "123456789012") == \
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/flask-microservices/client:local"
    assert [r["name"] for r in definition.repositories()] == ["flask-microservices/client"]


def test_the_reference_page_documents_every_key():
    documented = open(os.path.join(REPO, "docs", "application.md"), encoding="utf-8").read()
    for key in keys_of(APPLICATION) + keys_of(ENVIRONMENT):
        assert "`%s`" % key in documented, key
    check = subprocess.run([sys.executable, os.path.join(REPO, "tools", "gen_application_doc.py"), "--check"],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_environment_needs_only_its_name_and_network():
    definition = model.load(reference_app(), {"env_name": "staging", "env_network": {"vpc_tags": {"Name": "shared"}}})
    env = definition.environment
    assert (env["env_services"], env["env_image_tag"], env["env_log_retention_days"], env["env_ec2_capacity"]) == ({}, "latest", 30, {})
    assert definition.render(CTX)["name"] == "flask-microservices-staging"


def test_cloudwatch_options_are_valid_cloudwatch_stack_options():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.model import build_desired
    from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.spec import ARGUMENT_SPEC

    definition = load()
    lb_ctx = copy.copy(CTX)
    lb_ctx.load_balancer_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/abc"
    lb_ctx.target_group_arns = {"local-users": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/local-users/def"}
    # The load balancer's side names one target group not known yet: valid in check mode only, as planned.
    for options, check_mode in ((definition.cloudwatch(), False), (definition.cloudwatch_load_balancer(lb_ctx), True)):
        result = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(options, name="flask-microservices-local"))
        assert result.error_messages == []
        build_desired(result.validated_parameters, check_mode=check_mode)
    main = definition.cloudwatch()
    assert [g["name"] for g in main["log_groups"]] == ["/ecs/flask-microservices-local/client", "/ecs/flask-microservices-local/swagger",
                                                       "/ecs/flask-microservices-local/users"]
    assert {g["retention_days"] for g in main["log_groups"]} == {1}
    assert [a["name"] for a in main["alarms"]][:2] == ["client-cpu-high", "client-memory-high"]
    lb = definition.cloudwatch_load_balancer(lb_ctx)
    users = [a for a in lb["alarms"] if a["name"] == "users-unhealthy-hosts"][0]
    assert users["dimensions"] == {"TargetGroup": lb_ctx.target_group_arns["local-users"], "LoadBalancer": lb_ctx.load_balancer_arn}
    clients = [a for a in lb["alarms"] if a["name"] == "client-unhealthy-hosts"][0]
    assert clients["dimensions"]["TargetGroup"] == "(known after apply)"
