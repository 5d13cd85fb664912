"""The release strategy in the application model: what alb_routes, ecs_stack and ecs_rolling_deploy get."""

import copy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from app_cases import local_env, reference_app
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import release_line
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.checks import validate_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.spec import ARGUMENT_SPEC as STACK_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.planner import build_desired
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.spec import ARGUMENT_SPEC as ALB_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.validate import validate_params

PROD_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/x/1/2/3"
TEST_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/x/1/2/4"
ROLE = "arn:aws:iam::123456789012:role/flask-microservices-local-ecs-infrastructure"
HEADER = {"name": "X-Shipyard-Test", "value": "1"}

CTX = model.Context(region="us-east-1", account_id="123456789012", vpc_id="vpc-1", subnet_ids=["subnet-a", "subnet-b"],
                    alb_security_group_id="sg-alb", task_security_group_id="sg-tasks",
                    execution_role_arn="arn:aws:iam::123456789012:role/x-task-execution",
                    task_role_arn="arn:aws:iam::123456789012:role/x-task", load_balancer_dns_name="alb-1.example.com",
                    advanced_configuration={"local-swagger": {
                        "target_group": "local-swagger", "alternate_target_group": "local-swagger-alt",
                        "production_listener_rule": PROD_RULE, "test_listener_rule": TEST_RULE}},
                    infrastructure_role_arn=ROLE)


def render(release, app=None, env=None, ctx=CTX, service="swagger"):
    app = app or reference_app()
    app["services"][service]["release"] = release
    return model.load(app, env or local_env()).render(ctx)


def by_name(items, name):
    return [i for i in items if i["name"] == name][0]


def alb_options(options):
    lb = options["load_balancer"]
    params = {"name": options["name"], "application": options["application"], "target_groups": lb["target_groups"],
              "listeners": lb["listeners"], "routes": lb["routes"], "subnets": ["subnet-a", "subnet-b"]}
    result = ArgumentSpecValidator(ALB_SPEC).validate(params)
    assert result.error_messages == []
    validate_params(result.validated_parameters)
    return build_desired(result.validated_parameters)


def stack_options(options):
    params = {"cluster": options["cluster"], "services": options["stack_services"]}
    result = ArgumentSpecValidator(STACK_SPEC).validate(params)
    assert result.error_messages == []
    validate_options(result.validated_parameters, "us-east-1")
    return result.validated_parameters


def test_rolling_is_the_default_and_renders_as_before():
    options = model.load(reference_app(), local_env()).render(CTX)
    swagger = by_name(options["stack_services"], "swagger")
    assert swagger["deployment_configuration"] == {"minimum_healthy_percent": 100, "maximum_percent": 200,
                                                   "circuit_breaker": {"enable": True, "rollback": True}}
    assert "advanced_configuration" not in swagger["load_balancers"][0]
    assert all("alternate" not in tg for tg in options["load_balancer"]["target_groups"])
    assert all("test_traffic" not in r for r in options["release_services"])
    assert model.load(reference_app(), local_env()).platform("us-east-1", "123456789012")["ecs_infrastructure_role"] is False


def test_blue_green_with_a_header_on_the_production_listener():
    options = render({"strategy": "blue_green", "bake_minutes": 5, "test_traffic": {"http_header": HEADER}})
    lb = options["load_balancer"]
    assert by_name(lb["target_groups"], "local-swagger")["alternate"] is True
    assert [li["default_action"] for li in lb["listeners"] if li["port"] == 8080] == [
        {"target_group": "local-swagger", "ecs_traffic": "production"}]
    assert [r for r in lb["routes"] if r["target_group"] == "local-swagger"] == [
        {"listener": 8080, "target_group": "local-swagger", "ecs_traffic": "test",
         "http_headers": [{"name": "X-Shipyard-Test", "values": ["1"]}]}]
    desired = alb_options(options)
    assert desired.pairs == {"local-swagger": "local-swagger-alt"}

    swagger = by_name(stack_options(options)["services"], "swagger")
    conf = swagger["deployment_configuration"]
    assert (conf["strategy"], conf["bake_time_in_minutes"]) == ("BLUE_GREEN", 5)
    assert conf["lifecycle_hooks"] == [{"target_type": "PAUSE", "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"],
                                        "timeout_in_minutes": 15, "timeout_action": "ROLLBACK",
                                        "hook_target_arn": None, "role_arn": None}]
    assert swagger["load_balancers"][0]["advanced_configuration"] == {
        "alternate_target_group": "local-swagger-alt", "production_listener_rule": PROD_RULE,
        "test_listener_rule": TEST_RULE, "role_arn": ROLE}
    release = by_name(options["release_services"], "swagger")
    assert release["test_traffic"] == {"url": "http://alb-1.example.com:8080", "headers": {"X-Shipyard-Test": "1"},
                                       "checks": [{"path": "/", "status": 200}], "reachable": False,
                                       "pause_after_steps": False, "hold": False}
    assert model.load(*_swagger_blue_green()).platform("us-east-1", "123456789012")["ecs_infrastructure_role"] is True


def _swagger_blue_green():
    app = reference_app()
    app["services"]["swagger"]["release"] = {"strategy": "blue_green", "test_traffic": {"http_header": HEADER}}
    return app, local_env()


def test_a_test_listener_forwards_the_service_s_test_traffic():
    app = reference_app()
    app["listeners"].append({"port": 9080, "default_service": "swagger", "test": True})
    app["smoke_checks"] = []
    env = local_env()
    env["env_smoke_http"] = True
    options = render({"strategy": "blue_green", "test_traffic": {"listener": 9080},
                      "checks": [{"path": "/health", "contains": "ok"}]}, app=app, env=env)
    listeners = {li["port"]: li["default_action"] for li in options["load_balancer"]["listeners"]}
    assert listeners[9080] == {"target_group": "local-swagger", "ecs_traffic": "test"}
    assert listeners[8080] == {"target_group": "local-swagger", "ecs_traffic": "production"}
    alb_options(options)
    release = by_name(options["release_services"], "swagger")
    assert release["test_traffic"]["url"] == "http://alb-1.example.com:9080"
    assert release["test_traffic"]["headers"] == {}
    assert release["test_traffic"]["checks"] == [{"path": "/health", "status": 200, "contains": "ok"}]
    assert release["test_traffic"]["reachable"] is True
    swagger = by_name(stack_options(options)["services"], "swagger")
    assert swagger["deployment_configuration"]["bake_time_in_minutes"] == 0


def test_canary_on_a_route_gets_a_test_rule_before_its_production_rule():
    app = reference_app()
    app["services"]["users"]["routes"] = [{"listener": 80, "path_patterns": ["/users/*", "/auth/*", "/ping"]}]
    ctx = copy.copy(CTX)
    ctx.advanced_configuration = {}
    ctx.infrastructure_role_arn = ""
    options = render({"strategy": "canary", "canary": {"percent": 10, "bake_minutes": 3}, "pause_after_steps": True,
                      "hold": True, "test_traffic": {"http_header": HEADER}}, app=app, ctx=ctx, service="users")
    routes = [r for r in options["load_balancer"]["routes"] if r["target_group"] == "local-users"]
    assert [(r["ecs_traffic"], r.get("http_headers")) for r in routes] == [
        ("test", [{"name": "X-Shipyard-Test", "values": ["1"]}]), ("production", None)]
    assert routes[0]["path_patterns"] == routes[1]["path_patterns"]
    alb_options(options)
    users = by_name(stack_options(options)["services"], "users")
    conf = users["deployment_configuration"]
    assert conf["strategy"] == "CANARY"
    assert conf["canary_configuration"] == {"canary_percent": 10.0, "canary_bake_time_in_minutes": 3}
    # Before alb_routes ran (check mode of a first deployment): names and placeholders.
    assert users["load_balancers"][0]["advanced_configuration"] == {
        "alternate_target_group": "local-users-alt", "production_listener_rule": "(known after apply)",
        "test_listener_rule": "(known after apply)", "role_arn": "(known after apply)"}
    release = by_name(options["release_services"], "users")
    assert release["test_traffic"]["checks"] == [{"path": "/ping", "status": 200}]
    assert release["test_traffic"]["pause_after_steps"] is True
    assert release["test_traffic"]["hold"] is True


def test_linear_per_environment_and_no_checks_means_no_hook():
    app = reference_app()
    app["services"]["swagger"]["release"] = {"strategy": "blue_green", "test_traffic": {"http_header": HEADER}}
    env = local_env()
    env["env_services"]["swagger"]["release"] = {"strategy": "linear", "linear": {"step_percent": 25},
                                                 "checks": []}
    options = model.load(app, env).render(CTX)
    conf = by_name(options["stack_services"], "swagger")["deployment_configuration"]
    assert conf["strategy"] == "LINEAR"
    assert conf["linear_configuration"] == {"step_percent": 25.0}
    assert conf["lifecycle_hooks"] == []
    assert "test_traffic" not in by_name(options["release_services"], "swagger")


def test_the_hook_timeout_is_the_release_timeout_in_whole_minutes():
    env = local_env()
    env["env_release_timeout"] = 601
    options = render({"strategy": "blue_green", "test_traffic": {"http_header": HEADER}}, env=env)
    hooks = by_name(options["stack_services"], "swagger")["deployment_configuration"]["lifecycle_hooks"]
    assert hooks[0]["timeout_in_minutes"] == 11


def test_header_test_traffic_with_a_domain_goes_to_https():
    env = local_env()
    env["env_domain"] = "app.example.com"
    ctx = copy.copy(CTX)
    ctx.certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    options = render({"strategy": "blue_green", "test_traffic": {"http_header": HEADER}}, env=env, ctx=ctx,
                     service="client")
    assert by_name(options["release_services"], "client")["test_traffic"]["url"] == "https://app.example.com"
    listeners = {li["port"]: li for li in options["load_balancer"]["listeners"]}
    assert listeners[443]["default_action"] == {"target_group": "local-client", "ecs_traffic": "production"}
    assert [r["listener"] for r in options["load_balancer"]["routes"] if r.get("ecs_traffic") == "test"] == [443]


def test_the_talk_service_example_s_blue_green_inventory_renders_the_seed_s_blue_green():
    import os
    import yaml
    from app_cases import REPO

    root = os.path.join(REPO, "examples", "talk-service")
    with open(os.path.join(root, "app.yml"), encoding="utf-8") as handle:
        app = yaml.safe_load(handle)
    envs = {}
    for inventory in ("local", "local-blue-green"):
        with open(os.path.join(root, inventory, "group_vars", "all.yml"), encoding="utf-8") as handle:
            envs[inventory] = {k: v for k, v in yaml.safe_load(handle).items() if k.startswith("env_")}
    # The rolling inventory is untouched: no strategy, no alternate group.
    rolling = model.load(app, envs["local"]).render(CTX)
    assert "strategy" not in rolling["stack_services"][0]["deployment_configuration"]
    # The blue/green one differs only by the service's release.
    assert {k: v for k, v in envs["local-blue-green"].items() if k != "env_services"} == \
        {k: v for k, v in envs["local"].items() if k != "env_services"}
    options = model.load(app, envs["local-blue-green"]).render(CTX)
    assert options["load_balancer"]["target_groups"][0]["alternate"] is True
    assert options["load_balancer"]["listeners"][0]["default_action"]["ecs_traffic"] == "production"
    assert [r["ecs_traffic"] for r in options["load_balancer"]["routes"]] == ["test"]
    service = options["stack_services"][0]
    assert service["deployment_configuration"]["strategy"] == "BLUE_GREEN"
    assert service["load_balancers"][0]["advanced_configuration"]["alternate_target_group"] == \
        "local-talk-service-instance-alt"
    assert options["release_services"][0]["test_traffic"]["headers"] == {"X-Talk-Release": "green"}
    assert options["release_services"][0]["test_traffic"]["checks"] == [{"path": "/health", "status": 200}]
    alb_options(options)
    stack_options(options)


def test_a_progressive_service_is_served_by_its_target_group_or_its_alternate():
    app, env = _swagger_blue_green()
    definition = model.load(app, env)
    assert definition.serving_target_groups() == {"client": ["local-client"], "swagger": ["local-swagger", "local-swagger-alt"],
                                                  "users": ["local-users"]}


def test_the_plan_line_says_how_a_new_revision_will_be_released():
    app, env = _swagger_blue_green()
    definition = model.load(app, env)
    assert release_line(definition.release("users")) == "release: rolling (ECS replaces the tasks in place)"
    assert release_line(definition.release("swagger")) == (
        "release: blue_green: green beside blue, checks on test traffic (GET / -> 200), then all production traffic at once; "
        "blue kept 0 min")
    app["services"]["swagger"]["release"].update(strategy="linear", linear={"step_percent": 12.5}, checks=[], hold=True, bake_minutes=5)
    assert release_line(model.load(app, env).release("swagger")) == (
        "release: linear: green beside blue, no checks, then production traffic in steps of 12.5 %, ECS's default time apart; "
        "held in test for switch.yml; blue kept 5 min")
