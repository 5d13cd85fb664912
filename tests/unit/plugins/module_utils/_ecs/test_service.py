"""The service documents and plan: what is compared, what is left alone, what cannot change in place."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.service import (
    SPREAD_ACROSS_AZS,
    create_kwargs,
    creation_document,
    current_service,
    desired_service,
    merge,
    plan_service_update,
)

TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-tg/0123456789abcdef"

DESCRIBED = {
    "serviceName": "users",
    "status": "ACTIVE",
    "desiredCount": 2,
    "launchType": "EC2",
    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/users:3",
    "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": "users", "containerPort": 5000}],
    "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": False, "rollback": False},
                                "maximumPercent": 200, "minimumHealthyPercent": 100},
    "placementStrategy": SPREAD_ACROSS_AZS,
    "schedulingStrategy": "REPLICA",
    "propagateTags": "NONE",
    "enableECSManagedTags": False,
    "enableExecuteCommand": False,
    "tags": [{"key": "app", "value": "users"}],
}


def _plan(opts, described=None):
    described = described or DESCRIBED
    return plan_service_update("users", current_service(described), desired_service(opts, {"users-tg": TG_ARN}))


def test_unchanged_options_plan_nothing():
    opts = {"name": "users", "load_balancers": [{"target_group": "users-tg", "container_name": "users", "container_port": 5000}],
            "tags": {"app": "users"}, "propagate_tags": "NONE"}
    assert _plan(opts) == []


def test_options_left_out_are_not_managed():
    assert _plan({"name": "users"}) == []


def test_target_group_name_compares_equal_to_its_arn():
    assert _plan({"name": "users", "load_balancers": [
        {"target_group": "users-tg", "container_name": "users", "container_port": 5000}]}) == []


def test_partial_deployment_configuration_updates_only_that_field_and_sends_the_whole():
    actions = _plan({"name": "users", "deployment_configuration": {"minimum_healthy_percent": 50}})
    assert [(a.verb, a.kind) for a in actions] == [("update", "service")]
    assert actions[0].changes == [{"path": "deploymentConfiguration.minimumHealthyPercent", "before": 100, "after": 50}]
    assert actions[0].after["deploymentConfiguration"]["maximumPercent"] == 200


def test_missing_deployment_configuration_reads_as_aws_defaults():
    described = dict(DESCRIBED)
    del described["deploymentConfiguration"]
    opts = {"name": "users", "deployment_configuration": {"minimum_healthy_percent": 100, "maximum_percent": 200}}
    assert _plan(opts, described) == []


def test_circuit_breaker_change_is_an_update():
    actions = _plan({"name": "users", "deployment_configuration": {"circuit_breaker": {"enable": True, "rollback": True}}})
    assert {c["path"] for c in actions[0].changes} == {"deploymentConfiguration.deploymentCircuitBreaker.enable",
                                                       "deploymentConfiguration.deploymentCircuitBreaker.rollback"}


def test_desired_count_change_is_an_update():
    desired = desired_service({"name": "users"}, {})
    desired["desiredCount"] = 3
    actions = plan_service_update("users", current_service(DESCRIBED), desired)
    assert actions[0].changes == [{"path": "desiredCount", "before": 2, "after": 3}]


def test_tags_change_is_a_tag_action_not_an_update():
    actions = _plan({"name": "users", "tags": {"app": "users", "team": "core"}})
    assert [(a.verb, a.kind) for a in actions] == [("tag", "service")]
    assert actions[0].after == {"app": "users", "team": "core"}


def test_service_registries_and_grace_period_update_in_place():
    actions = _plan({"name": "users", "health_check_grace_period": 30, "service_registries": [
        {"registry_arn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"}]})
    assert set(actions[0].after) == {"healthCheckGracePeriodSeconds", "serviceRegistries"}


def test_launch_type_change_fails_with_a_clear_message():
    with pytest.raises(EcsError, match="launch type cannot change in place"):
        _plan({"name": "users", "launch_type": "FARGATE"})


def test_a_launch_type_service_moves_to_a_capacity_provider_strategy_in_place():
    """UpdateService's documented transitions: EC2 launch type to Fargate's provider, Fargate to an ASG provider."""
    actions = _plan({"name": "users", "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1, "base": 0}]})
    assert [(a.verb, a.kind) for a in actions] == [("update", "service")]
    assert actions[0].after == {"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]}
    fargate = dict(DESCRIBED, launchType="FARGATE")
    actions = _plan({"name": "users", "capacity_provider_strategy": [{"capacity_provider": "app-ec2", "weight": 1}]}, fargate)
    assert actions[0].after == {"capacityProviderStrategy": [{"capacityProvider": "app-ec2", "weight": 1, "base": 0}]}


def test_a_capacity_provider_service_asked_for_fargate_moves_to_fargate_s_provider_then_compares_equal():
    on_provider = dict(DESCRIBED, capacityProviderStrategy=[{"capacityProvider": "app-ec2", "weight": 1, "base": 0}])
    del on_provider["launchType"]
    actions = _plan({"name": "users", "launch_type": "FARGATE"}, on_provider)
    assert [(a.verb, a.kind) for a in actions] == [("update", "service")]
    assert actions[0].after == {"capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]}
    on_fargate = dict(on_provider, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}])
    assert _plan({"name": "users", "launch_type": "FARGATE"}, on_fargate) == []


def test_a_capacity_provider_service_does_not_move_to_a_launch_type_it_was_not_created_with():
    on_provider = dict(DESCRIBED, capacityProviderStrategy=[{"capacityProvider": "app-ec2", "weight": 1, "base": 0}])
    del on_provider["launchType"]
    with pytest.raises(EcsError, match=r"runs on the capacity provider strategy \[app-ec2 weight 1 base 0\]: ECS moves "
                                       r"a service back to a launch type only when it was created with"):
        _plan({"name": "users", "launch_type": "EC2"}, on_provider)


def test_network_configuration_is_order_free_and_public_ip_defaults_to_disabled():
    described = dict(DESCRIBED, networkConfiguration={"awsvpcConfiguration": {"subnets": ["b", "a"], "securityGroups": ["sg"]}})
    assert _plan({"name": "users", "network_configuration": {"subnets": ["a", "b"], "security_groups": ["sg"]}},
                 described) == []


def test_capacity_provider_strategy_weight_and_base_default_to_zero():
    described = dict(DESCRIBED, launchType=None, capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}])
    described.pop("launchType")
    assert _plan({"name": "users", "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1}]},
                 described) == []


def test_creation_spreads_ec2_tasks_across_availability_zones():
    doc = creation_document(desired_service({"name": "users", "launch_type": "EC2"}, {}), 1, [], [])
    assert doc["placementStrategy"] == SPREAD_ACROSS_AZS


def test_creation_on_fargate_has_no_placement_strategy():
    doc = creation_document(desired_service({"name": "users", "launch_type": "FARGATE"}, {}), 1, [], ["FARGATE"])
    assert not doc.get("placementStrategy")


def test_creation_with_cluster_default_fargate_strategy_has_no_placement_strategy():
    doc = creation_document(desired_service({"name": "users"}, {}), 1, [{"capacityProvider": "FARGATE"}], [])
    assert not doc.get("placementStrategy")


def test_creation_keeps_a_given_placement_strategy():
    opts = {"name": "users", "placement_strategy": [{"type": "binpack", "field": "memory"}]}
    assert creation_document(desired_service(opts, {}), 1, [], [])["placementStrategy"] == [
        {"type": "binpack", "field": "memory"}]


def test_create_kwargs_carry_count_task_definition_and_tags():
    doc = creation_document(desired_service({"name": "users", "tags": {"a": "b"}}, {}), 2, [], [])
    kwargs = create_kwargs("c", "users", doc, "arn:td:1")
    assert kwargs["desiredCount"] == 2
    assert kwargs["taskDefinition"] == "arn:td:1"
    assert kwargs["tags"] == [{"key": "a", "value": "b"}]
    assert kwargs["deploymentConfiguration"]["minimumHealthyPercent"] == 100


def test_daemon_services_are_created_without_count_or_placement_strategy():
    doc = creation_document(desired_service({"name": "agent", "scheduling_strategy": "DAEMON"}, {}), 1, [], [])
    kwargs = create_kwargs("c", "agent", doc, "arn:td:1")
    assert "desiredCount" not in kwargs and "placementStrategy" not in kwargs


def test_merge_replaces_lists_and_tags_but_merges_dicts():
    merged = merge({"a": {"x": 1, "y": 2}, "l": [1, 2], "tags": {"k": "v"}}, {"a": {"x": 3}, "l": [3], "tags": {"n": "m"}})
    assert merged == {"a": {"x": 3, "y": 2}, "l": [3], "tags": {"n": "m"}}
