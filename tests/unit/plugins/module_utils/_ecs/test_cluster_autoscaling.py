"""Cluster, capacity provider and autoscaling plans."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.autoscaling import (
    current_autoscaling,
    desired_autoscaling,
    plan_autoscaling,
    resource_label,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import (
    create_cluster_kwargs,
    current_capacity_provider,
    current_cluster,
    desired_capacity_provider,
    desired_cluster,
    plan_capacity_provider,
    plan_cluster,
)

CLUSTER = {
    "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/c",
    "clusterName": "c",
    "status": "ACTIVE",
    "settings": [{"name": "containerInsights", "value": "enabled"}],
    "capacityProviders": ["FARGATE_SPOT", "FARGATE"],
    "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
    "tags": [{"key": "env", "value": "prod"}],
}


def _cluster_plan(opts, described="existing"):
    described = CLUSTER if described == "existing" else described
    return plan_cluster("c", current_cluster(described), desired_cluster(opts))


def test_missing_or_inactive_cluster_is_created():
    assert [a.verb for a in _cluster_plan({"name": "c"}, None)] == ["create"]
    assert [a.verb for a in _cluster_plan({"name": "c"}, dict(CLUSTER, status="INACTIVE"))] == ["create"]


def test_same_cluster_options_plan_nothing():
    opts = {"name": "c", "container_insights": "enabled", "capacity_providers": ["FARGATE", "FARGATE_SPOT"],
            "default_capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1}], "tags": {"env": "prod"}}
    assert _cluster_plan(opts) == []


def test_container_insights_change_is_a_settings_update():
    actions = _cluster_plan({"name": "c", "container_insights": "disabled"})
    assert [(a.verb, a.kind) for a in actions] == [("update", "cluster")]
    assert actions[0].after == {"settings": {"containerInsights": "disabled"}}


def test_capacity_provider_change_puts_both_lists():
    actions = _cluster_plan({"name": "c", "capacity_providers": ["FARGATE"]})
    assert [(a.verb, a.kind) for a in actions] == [("update", "cluster_capacity_providers")]
    assert actions[0].after == {"capacityProviders": ["FARGATE"],
                                "defaultCapacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]}


def test_autoscaling_group_providers_are_added_to_the_cluster_without_removing_others():
    actions = _cluster_plan({"name": "c", "autoscaling_group_providers": [{"name": "asg-cp"}]})
    assert actions[0].after["capacityProviders"] == ["FARGATE", "FARGATE_SPOT", "asg-cp"]


def test_cluster_tags_are_exact_when_given():
    actions = _cluster_plan({"name": "c", "tags": {"team": "core"}})
    assert [(a.verb, a.before, a.after) for a in actions] == [("tag", {"env": "prod"}, {"team": "core"})]


def test_create_cluster_kwargs():
    action = _cluster_plan({"name": "c", "container_insights": "enabled", "tags": {"a": "b"}}, None)[0]
    assert create_cluster_kwargs("c", action.after) == {
        "clusterName": "c", "settings": [{"name": "containerInsights", "value": "enabled"}],
        "tags": [{"key": "a", "value": "b"}]}


CAPACITY_PROVIDER = {
    "name": "asg-cp", "status": "ACTIVE",
    "autoScalingGroupProvider": {
        "autoScalingGroupArn": "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/asg",
        "managedScaling": {"status": "ENABLED", "targetCapacity": 100, "minimumScalingStepSize": 1,
                           "maximumScalingStepSize": 10000, "instanceWarmupPeriod": 300},
        "managedTerminationProtection": "DISABLED", "managedDraining": "ENABLED"},
}


def test_capacity_provider_with_same_settings_plans_nothing():
    opts = {"name": "asg-cp", "auto_scaling_group_arn": CAPACITY_PROVIDER["autoScalingGroupProvider"]["autoScalingGroupArn"],
            "managed_scaling": {"status": "ENABLED", "target_capacity": 100}}
    assert plan_capacity_provider("asg-cp", current_capacity_provider(CAPACITY_PROVIDER), desired_capacity_provider(opts)) == []


def test_capacity_provider_target_capacity_change_is_an_update():
    opts = {"name": "asg-cp", "managed_scaling": {"target_capacity": 80}, "managed_termination_protection": "ENABLED"}
    actions = plan_capacity_provider("asg-cp", current_capacity_provider(CAPACITY_PROVIDER), desired_capacity_provider(opts))
    assert {c["path"] for c in actions[0].changes} == {"managedScaling.targetCapacity", "managedTerminationProtection"}


def test_capacity_provider_cannot_change_its_autoscaling_group():
    with pytest.raises(EcsError, match="cannot change"):
        plan_capacity_provider("asg-cp", current_capacity_provider(CAPACITY_PROVIDER),
                               desired_capacity_provider({"auto_scaling_group_arn": "arn:other"}))


SEED_AUTOSCALING = {"min_capacity": 1, "max_capacity": 10, "policies": [
    {"name": "cpu50", "metric": "cpu", "target": 50, "scale_in_cooldown": 30, "scale_out_cooldown": 30}]}
TARGET = {"ResourceId": "service/c/users", "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 1, "MaxCapacity": 10}
POLICY = {"PolicyName": "cpu50", "ResourceId": "service/c/users", "PolicyType": "TargetTrackingScaling",
          "TargetTrackingScalingPolicyConfiguration": {
              "TargetValue": 50.0, "ScaleInCooldown": 30, "ScaleOutCooldown": 30,
              "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}


def test_new_autoscaling_registers_target_and_puts_policy():
    actions = plan_autoscaling("users", None, desired_autoscaling(SEED_AUTOSCALING))
    assert [(a.verb, a.kind, a.name) for a in actions] == [
        ("create", "scalable_target", "users"), ("create", "scaling_policy", "users/cpu50")]


def test_same_autoscaling_plans_nothing_with_aws_defaults_filled_in():
    assert plan_autoscaling("users", current_autoscaling(TARGET, [POLICY]), desired_autoscaling(SEED_AUTOSCALING)) == []


def test_cooldowns_default_to_300_seconds():
    policy = dict(POLICY, TargetTrackingScalingPolicyConfiguration={
        "TargetValue": 50.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
    opts = {"min_capacity": 1, "max_capacity": 10, "policies": [{"name": "cpu50", "metric": "cpu", "target": 50}]}
    assert plan_autoscaling("users", current_autoscaling(TARGET, [policy]), desired_autoscaling(opts)) == []


def test_capacity_range_change_updates_the_target():
    opts = dict(SEED_AUTOSCALING, max_capacity=20)
    actions = plan_autoscaling("users", current_autoscaling(TARGET, [POLICY]), desired_autoscaling(opts))
    assert [(a.verb, a.kind) for a in actions] == [("update", "scalable_target")]
    assert actions[0].changes == [{"path": "MaxCapacity", "before": 10, "after": 20}]


def test_policy_target_change_updates_the_policy():
    opts = dict(SEED_AUTOSCALING, policies=[dict(SEED_AUTOSCALING["policies"][0], target=60)])
    actions = plan_autoscaling("users", current_autoscaling(TARGET, [POLICY]), desired_autoscaling(opts))
    assert [(a.verb, a.kind) for a in actions] == [("update", "scaling_policy")]


def test_policies_not_listed_are_deleted():
    opts = dict(SEED_AUTOSCALING, policies=[])
    actions = plan_autoscaling("users", current_autoscaling(TARGET, [POLICY]), desired_autoscaling(opts))
    assert [(a.verb, a.kind, a.name) for a in actions] == [("delete", "scaling_policy", "users/cpu50")]


def test_alb_request_count_uses_the_derived_resource_label():
    opts = {"min_capacity": 1, "max_capacity": 2, "policies": [{"name": "rps", "metric": "alb_request_count", "target": 100}]}
    doc = desired_autoscaling(opts, {"rps": "app/lb/1/targetgroup/tg/2"})
    spec = doc["Policies"]["rps"]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert spec == {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": "app/lb/1/targetgroup/tg/2"}


def test_resource_label_from_target_group_and_load_balancer_arns():
    assert resource_label("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-tg/abc",
                          "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb/def") == \
        "app/alb/def/targetgroup/users-tg/abc"
