"""ecs_stack's planner as a pure function: typed actions from a Current and the options, no AWS."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs import actions as act
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.checks import validate_options
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.planner import plan_stack
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.state import Current
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.taskdef import normalise_task_definition

CLUSTER = "app-cluster"
CLUSTER_ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/" + CLUSTER
TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-tg/0123456789abcdef"
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/alb/0123456789abcdef"


def service(name="users", **extra):
    svc = {"name": name, "desired_count": 1,
           "task_definition": {"family": name, "containers": [{
               "name": name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/%s:1" % name, "memory": 256,
               "port_mappings": [{"container_port": 5000, "host_port": 0}]}]},
           "load_balancers": [{"target_group": "users-tg", "container_name": name, "container_port": 5000}]}
    svc.update(extra)
    return svc


def params(services, **extra):
    out = {"cluster": {"name": CLUSTER}, "services": services, "state": "present", "wait": True}
    out.update(extra)
    return out


def described_service(name="users", **extra):
    svc = {"serviceName": name, "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/%s/%s" % (CLUSTER, name),
           "status": "ACTIVE", "desiredCount": 1, "runningCount": 1, "launchType": "EC2", "schedulingStrategy": "REPLICA",
           "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/%s:1" % name,
           "loadBalancers": [{"targetGroupArn": TG_ARN, "containerName": name, "containerPort": 5000}],
           "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100}}
    svc.update(extra)
    return svc


def existing(services=(), **extra):
    """A Current with the cluster, the target group and the given described services."""
    cluster = {"clusterName": CLUSTER, "clusterArn": CLUSTER_ARN, "status": "ACTIVE", "settings": [],
               "capacityProviders": [], "defaultCapacityProviderStrategy": [], "tags": []}
    from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cluster import current_cluster

    current = Current(cluster=cluster, cluster_doc=current_cluster(cluster),
                      target_groups={"users-tg": {"TargetGroupArn": TG_ARN, "TargetGroupName": "users-tg",
                                                  "LoadBalancerArns": [LB_ARN], "TargetType": "instance"}},
                      services={s["serviceName"]: s for s in services})
    for key, value in extra.items():
        setattr(current, key, value)
    return current


def plan(p, current):
    return plan_stack(p, current, validate_options(p, "us-east-1"))


def test_a_new_account_plans_the_cluster_the_first_revision_and_the_service_in_that_order():
    p = params([service()])
    result = plan(p, Current(target_groups=existing().target_groups))
    assert [type(a) for a in result.actions] == [act.CreateCluster, act.RegisterTaskDefinition, act.CreateService]
    create = result.actions[2]
    assert create.name == "users"
    assert create.document["desiredCount"] == 1
    assert create.document["loadBalancers"] == [{"targetGroupArn": TG_ARN, "containerName": "users", "containerPort": 5000}]
    assert [(r.verb, r.kind, r.name) for r in result.reports] == [
        ("create", "cluster", CLUSTER), ("create", "task_definition", "users"), ("create", "service", "users")]


def test_an_identical_active_revision_is_reused_instead_of_registered():
    p = params([service()])
    kwargs = validate_options(p, "us-east-1")["users"]
    latest = dict(kwargs, taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/users:7", status="ACTIVE")
    assert normalise_task_definition(latest) == normalise_task_definition(kwargs)
    result = plan(p, existing(latest_revisions={"users": latest}))
    assert [type(a) for a in result.actions] == [act.CreateService]
    assert result.reused == {"users": latest["taskDefinitionArn"]}


def test_an_existing_service_in_its_desired_state_plans_nothing():
    result = plan(params([service()]), existing([described_service()]))
    assert result.actions == []


def test_a_new_desired_count_is_one_typed_update_carrying_only_the_change():
    result = plan(params([service(desired_count=3)]), existing([described_service()]))
    assert result.actions == [act.UpdateService(result.actions[0].report, name="users", changes={"desiredCount": 3})]
    assert result.actions[0].report.changes == [{"path": "desiredCount", "before": 1, "after": 3}]


def test_tags_are_a_tag_action_on_the_service_arn():
    result = plan(params([service(tags={"team": "a"})]), existing([described_service()]))
    assert len(result.actions) == 1
    tag = result.actions[0]
    assert isinstance(tag, act.TagService)
    assert tag.arn.endswith(":service/%s/users" % CLUSTER)
    assert (tag.before, tag.after) == ({}, {"team": "a"})


def test_autoscaling_of_a_new_service_registers_the_target_then_puts_the_policy():
    auto = {"min_capacity": 1, "max_capacity": 4, "policies": [{"name": "cpu50", "metric": "cpu", "target": 50.0}]}
    result = plan(params([service(autoscaling=auto)]), existing())
    scaling = [a for a in result.actions if isinstance(a, (act.RegisterScalableTarget, act.PutScalingPolicy))]
    assert scaling[0] == act.RegisterScalableTarget(scaling[0].report, resource_id="service/%s/users" % CLUSTER,
                                                    min_capacity=1, max_capacity=4)
    assert scaling[1].policy_name == "cpu50"
    assert scaling[1].policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 50.0


def test_a_draining_service_stops_the_plan():
    with pytest.raises(EcsError, match="DRAINING"):
        plan(params([service()]), existing([described_service(status="DRAINING")]))


def test_absent_deletes_services_then_waits_for_them_without_reporting_the_wait():
    p = {"cluster": {"name": CLUSTER}, "services": [{"name": "users"}, {"name": "gone"}], "state": "absent"}
    current = existing([described_service(), described_service("gone", status="INACTIVE")])
    result = plan(p, current)
    assert [type(a) for a in result.actions] == [act.DeleteService, act.WaitServicesInactive]
    assert result.actions[0].scale_down is True
    assert result.actions[1].names == ("users",)
    assert [(r.verb, r.kind) for r in result.reports] == [("delete", "service")]


def test_absent_without_wait_plans_no_wait():
    p = {"cluster": {"name": CLUSTER}, "services": [{"name": "users"}], "state": "absent", "wait": False}
    result = plan(p, existing([described_service(desiredCount=0)]))
    assert [type(a) for a in result.actions] == [act.DeleteService]
    assert result.actions[0].scale_down is False


def test_absent_refuses_to_delete_a_cluster_running_other_services():
    p = {"cluster": {"name": CLUSTER}, "services": [], "state": "absent", "delete_cluster": True}
    with pytest.raises(EcsError, match="still runs services not listed here"):
        plan(p, existing(other_services=["arn:aws:ecs:us-east-1:123456789012:service/%s/other" % CLUSTER]))


def test_the_plan_is_pure_the_current_state_is_left_as_read():
    current = existing([described_service()])
    before = repr(current)
    plan(params([service(desired_count=2, tags={"a": "b"})]), current)
    assert repr(current) == before


IP_TG_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users-ip/0123456789abcdef"


def test_a_service_moving_from_bridge_to_awsvpc_gives_its_new_revision_in_the_same_update():
    """UpdateService checks the new target group and network configuration against the revision the service
    runs after it: a move between network modes registers the revision and names it in that update."""
    running = {"taskDefinitionArn": described_service()["taskDefinition"], "family": "users", "networkMode": "bridge",
               "requiresCompatibilities": ["EC2"], "containerDefinitions": [{"name": "users", "image": "x", "memory": 256}]}
    current = existing([described_service()], task_definitions={running["taskDefinitionArn"]: running})
    current.target_groups["users-ip"] = {"TargetGroupArn": IP_TG_ARN, "TargetGroupName": "users-ip",
                                         "LoadBalancerArns": [LB_ARN], "TargetType": "ip"}
    moved = service(load_balancers=[{"target_group": "users-ip", "container_name": "users", "container_port": 5000}],
                    network_configuration={"subnets": ["subnet-a"], "security_groups": ["sg-1"]})
    moved["task_definition"] = dict(moved["task_definition"], network_mode="awsvpc", requires_compatibilities=["FARGATE"],
                                    cpu="256", memory="512")
    moved["task_definition"]["containers"] = [dict(moved["task_definition"]["containers"][0],
                                                   port_mappings=[{"container_port": 5000}])]
    actions = plan(params([dict(moved, capacity_provider_strategy=[{"capacity_provider": "FARGATE", "weight": 1}])]),
                   current).actions
    assert [type(a).__name__ for a in actions] == ["RegisterTaskDefinition", "UpdateService"]
    update = actions[1]
    assert update.with_revision and set(update.changes) >= {"loadBalancers", "networkConfiguration",
                                                            "capacityProviderStrategy"}
    moves = [c for c in update.report.changes if c["path"] == "taskDefinition"]
    assert moves and "network mode awsvpc (was bridge)" in moves[0]["after"]


def test_a_service_changing_only_its_count_does_not_register_a_revision():
    running = {"taskDefinitionArn": described_service()["taskDefinition"], "family": "users", "networkMode": "bridge",
               "containerDefinitions": [{"name": "users", "image": "x", "memory": 256}]}
    current = existing([described_service()], task_definitions={running["taskDefinitionArn"]: running})
    actions = plan(params([service(desired_count=3)]), current).actions
    assert [type(a).__name__ for a in actions] == ["UpdateService"] and not actions[0].with_revision
