"""ecs_stack's release strategies (BLUE_GREEN, CANARY, LINEAR): validation, documents, plan and calls."""

import copy

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.checks import validate_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import (
    create_kwargs,
    creation_document,
    current_service,
    desired_service,
    plan_service_update,
    update_kwargs,
)

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/talk-tg/0123456789abcdef"
ALT = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/talk-tg-alt/fedcba9876543210"
PROD_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/2/3"
TEST_RULE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/alb/1/4/5"
ROLE = "arn:aws:iam::123456789012:role/app-ecs-infrastructure"
GROUPS = {"talk-tg": TG, "talk-tg-alt": ALT}

ROLLING_DESCRIBED = {
    "serviceName": "talk", "status": "ACTIVE", "desiredCount": 2, "launchType": "FARGATE",
    "loadBalancers": [{"targetGroupArn": TG, "containerName": "talk", "containerPort": 8080}],
    "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True},
                                "maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": "ROLLING"},
    "schedulingStrategy": "REPLICA",
}

PAUSE = {"target_type": "PAUSE", "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"], "timeout_in_minutes": 30,
         "timeout_action": "ROLLBACK"}


def blue_green_opts(**dc):
    conf = {"strategy": "BLUE_GREEN", "bake_time_in_minutes": 5, "lifecycle_hooks": [PAUSE]}
    conf.update(dc)
    return {"name": "talk", "deployment_configuration": conf, "load_balancers": [{
        "target_group": "talk-tg", "container_name": "talk", "container_port": 8080,
        "advanced_configuration": {"alternate_target_group": "talk-tg-alt", "production_listener_rule": PROD_RULE,
                                   "test_listener_rule": TEST_RULE, "role_arn": ROLE}}]}


def blue_green_described():
    """What DescribeServices returns for a blue/green service: the hook's defaults filled in, hookDetails."""
    out = copy.deepcopy(ROLLING_DESCRIBED)
    out["deploymentConfiguration"] = {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False}, "maximumPercent": 200,
        "minimumHealthyPercent": 100, "strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5,
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                            "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}]}
    out["loadBalancers"][0]["advancedConfiguration"] = {
        "alternateTargetGroupArn": ALT, "productionListenerRule": PROD_RULE, "testListenerRule": TEST_RULE,
        "roleArn": ROLE}
    return out


def plan(opts, described):
    return plan_service_update("talk", current_service(described), desired_service(opts, GROUPS))


def test_rolling_service_moves_to_blue_green_in_one_update_service():
    actions = plan(blue_green_opts(), ROLLING_DESCRIBED)
    assert [(a.verb, a.kind) for a in actions] == [("update", "service")]
    paths = {c["path"] for c in actions[0].changes}
    assert "deploymentConfiguration.strategy" in paths
    assert "deploymentConfiguration.bakeTimeInMinutes" in paths
    assert any(p.startswith("loadBalancers") for p in paths)
    kwargs = update_kwargs(actions[0].after)
    assert kwargs["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert kwargs["deploymentConfiguration"]["lifecycleHooks"] == [{
        "targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"}}]
    assert kwargs["loadBalancers"][0]["advancedConfiguration"] == {
        "alternateTargetGroupArn": ALT, "productionListenerRule": PROD_RULE, "testListenerRule": TEST_RULE,
        "roleArn": ROLE}
    # The circuit breaker the user did not mention is kept as it is.
    assert kwargs["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_blue_green_as_described_is_no_change_with_hook_defaults_filled_in():
    assert plan(blue_green_opts(), blue_green_described()) == []
    hook = dict(PAUSE)
    del hook["timeout_in_minutes"], hook["timeout_action"]
    described = blue_green_described()
    described["deploymentConfiguration"]["lifecycleHooks"][0]["timeoutConfiguration"] = {
        "timeoutInMinutes": 1440, "action": "ROLLBACK"}
    described["deploymentConfiguration"]["lifecycleHooks"][0]["hookDetails"] = None
    assert plan(blue_green_opts(lifecycle_hooks=[hook]), described) == []


def test_hook_timeout_change_is_an_update_showing_the_hook():
    actions = plan(blue_green_opts(lifecycle_hooks=[dict(PAUSE, timeout_in_minutes=60)]), blue_green_described())
    assert [(a.verb, a.kind) for a in actions] == [("update", "service")]
    assert actions[0].changes == [{"path": "deploymentConfiguration.lifecycleHooks[0].timeoutConfiguration.timeoutInMinutes",
                                   "before": 30, "after": 60}]


def test_removing_the_hooks_sends_an_empty_list():
    actions = plan(blue_green_opts(lifecycle_hooks=[]), blue_green_described())
    assert update_kwargs(actions[0].after)["deploymentConfiguration"]["lifecycleHooks"] == []


def test_canary_to_linear_drops_the_canary_block():
    described = blue_green_described()
    described["deploymentConfiguration"].update(strategy="CANARY", canaryConfiguration={
        "canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5})
    opts = blue_green_opts(strategy="LINEAR", linear_configuration={"step_percent": 25, "step_bake_time_in_minutes": 2})
    conf = update_kwargs(plan(opts, described)[0].after)["deploymentConfiguration"]
    assert conf["strategy"] == "LINEAR"
    assert conf["linearConfiguration"] == {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2}
    assert "canaryConfiguration" not in conf


def test_canary_defaults_aws_fills_in_are_not_fought():
    described = blue_green_described()
    described["deploymentConfiguration"].update(strategy="CANARY", canaryConfiguration={
        "canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10})
    assert plan(blue_green_opts(strategy="CANARY"), described) == []


def test_a_rolling_service_with_a_strategy_aws_does_not_report_is_no_change():
    """DescribeServices of a service created before strategies existed carries no strategy: that is ROLLING."""
    described = copy.deepcopy(ROLLING_DESCRIBED)
    del described["deploymentConfiguration"]["strategy"]
    opts = {"name": "talk", "deployment_configuration": {"strategy": "ROLLING", "lifecycle_hooks": []}}
    assert plan(opts, described) == []
    assert plan({"name": "talk", "deployment_configuration": {"minimum_healthy_percent": 100}}, described) == []


def test_back_to_rolling_is_sent_as_rolling_without_hooks():
    opts = {"name": "talk", "deployment_configuration": {"strategy": "ROLLING", "lifecycle_hooks": []},
            "load_balancers": [{"target_group": "talk-tg", "container_name": "talk", "container_port": 8080}]}
    actions = plan(opts, blue_green_described())
    kwargs = update_kwargs(actions[0].after)
    assert kwargs["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert "lifecycleHooks" not in kwargs["deploymentConfiguration"]
    assert kwargs["loadBalancers"] == [{"targetGroupArn": TG, "containerName": "talk", "containerPort": 8080}]


def test_creation_sends_strategy_hooks_and_advanced_configuration():
    doc = creation_document(desired_service(blue_green_opts(), GROUPS), 2, [], ["FARGATE"])
    kwargs = create_kwargs("c", "talk", doc, "talk:1")
    assert kwargs["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert kwargs["deploymentConfiguration"]["bakeTimeInMinutes"] == 5
    assert kwargs["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"] == ALT


def test_creation_of_a_rolling_service_sends_no_strategy_nor_hooks():
    doc = creation_document(desired_service({"name": "talk", "deployment_configuration": {"maximum_percent": 150}},
                                            GROUPS), 1, [], ["FARGATE"])
    conf = create_kwargs("c", "talk", doc, "talk:1")["deploymentConfiguration"]
    assert "strategy" not in conf and "lifecycleHooks" not in conf


def options(svc):
    return {"cluster": {"name": "c"}, "state": "present", "services": [svc]}


@pytest.mark.parametrize("change,path,value", [
    ({"bake_time_in_minutes": 1441}, "services[0].deployment_configuration.bake_time_in_minutes", 1441),
    ({"strategy": "CANARY", "canary_configuration": {"canary_percent": 0.05}},
     "services[0].deployment_configuration.canary_configuration.canary_percent", 0.05),
    ({"strategy": "CANARY", "canary_configuration": {"canary_percent": 10.05}},
     "services[0].deployment_configuration.canary_configuration.canary_percent", 10.05),
    ({"strategy": "LINEAR", "linear_configuration": {"step_percent": 2.0}},
     "services[0].deployment_configuration.linear_configuration.step_percent", 2.0),
    ({"canary_configuration": {"canary_percent": 10}},
     "services[0].deployment_configuration.canary_configuration", {"canary_percent": 10}),
    ({"strategy": "BLUE_GREEN", "bake_time_in_minutes": None},
     "services[0].deployment_configuration.bake_time_in_minutes", None),
    ({"lifecycle_hooks": [dict(PAUSE, lifecycle_stages=["BAKE_TIME"])]},
     "services[0].deployment_configuration.lifecycle_hooks[0].lifecycle_stages", "BAKE_TIME"),
    ({"lifecycle_hooks": [dict(PAUSE, timeout_in_minutes=0)]},
     "services[0].deployment_configuration.lifecycle_hooks[0].timeout_in_minutes", 0),
    ({"lifecycle_hooks": [{"target_type": "AWS_LAMBDA", "lifecycle_stages": ["POST_SCALE_UP"]}]},
     "services[0].deployment_configuration.lifecycle_hooks[0]",
     {"target_type": "AWS_LAMBDA", "lifecycle_stages": ["POST_SCALE_UP"]}),
])
def test_bad_release_strategy_options_fail_naming_path_and_value(change, path, value):
    svc = blue_green_opts(**change)
    with pytest.raises(ValidationError) as exc:
        validate_options(options(svc), "us-east-1")
    assert exc.value.option == path
    assert exc.value.value == value


def test_advanced_configuration_needs_a_non_rolling_strategy():
    svc = blue_green_opts(strategy="ROLLING", lifecycle_hooks=None)
    with pytest.raises(ValidationError) as exc:
        validate_options(options(svc), "us-east-1")
    assert exc.value.option == "services[0].load_balancers[0].advanced_configuration"


def test_blue_green_binding_without_advanced_configuration_fails():
    svc = blue_green_opts()
    del svc["load_balancers"][0]["advanced_configuration"]
    with pytest.raises(ValidationError) as exc:
        validate_options(options(svc), "us-east-1")
    assert exc.value.option == "services[0].load_balancers"


def test_sound_blue_green_options_pass():
    assert validate_options(options(blue_green_opts()), "us-east-1") == {}


def test_a_pair_ecs_holds_the_other_way_round_is_no_change():
    """Which group of the pair is primary after a deployment is ECS's business (traffic is read from the rules)."""
    described = blue_green_described()
    lb = described["loadBalancers"][0]
    lb["targetGroupArn"], lb["advancedConfiguration"]["alternateTargetGroupArn"] = ALT, TG
    assert plan(blue_green_opts(), described) == []
    # A different pair is still a change.
    other = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/0000000000000000"
    lb["advancedConfiguration"]["alternateTargetGroupArn"] = other
    assert plan(blue_green_opts(), described) != []
