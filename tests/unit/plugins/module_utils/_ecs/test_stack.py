"""The ecs_stack runner against moto in-process: plan, apply, and the calls it makes."""

import copy

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.waiter import Waiter
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import AppAutoscalingApi, EcsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack

REGION = "us-east-1"
SEED = (("client", 9000), ("users", 5000), ("swagger", 8080))


def service(name, port, **extra):
    svc = {
        "name": name,
        "task_definition": {"family": "%s-td" % name, "containers": [{
            "name": name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/%s:production" % name,
            "cpu": 300, "memory_reservation": 300, "essential": True,
            "port_mappings": [{"container_port": port, "host_port": 0, "protocol": "tcp"}],
            "environment": {"NODE_ENV": "production"},
            "awslogs": {"group": "flask-microservices-production", "stream_prefix": name},
        }]},
        "load_balancers": [{"target_group": "%s-tg" % name, "container_name": name, "container_port": port}],
    }
    svc.update(extra)
    return svc


def params(services=None, **extra):
    out = {"cluster": {"name": "flask-microservices-prod-cluster"}, "state": "present",
           "services": services if services is not None else [service(n, p) for n, p in SEED]}
    out.update(extra)
    return out


CLIENTS = {}


def client(name):
    """One boto3 client per service for the whole module: creating clients is the slow part."""
    if name not in CLIENTS:
        CLIENTS[name] = boto3.client(name, region_name=REGION)
    return CLIENTS[name]


class Apis:
    def __init__(self):
        self.ecs = EcsApi(client("ecs"))
        self.aas = AppAutoscalingApi(client("application-autoscaling"))
        self.tgs = Elbv2Api(client("elbv2"))
        self.ns = NamespaceReader(client("servicediscovery"))

    def writes(self):
        out = {}
        for api in (self.ecs, self.aas, self.tgs, self.ns):
            out.update(api.write_calls)
        return out


def run(p, check=False):
    apis = Apis()
    waiter = Waiter(timeout=5, interval=0.01)
    stack = EcsStack(p, apis.ecs, apis.aas, apis.tgs, apis.ns, region=REGION, check_mode=check, waiter=waiter)
    return stack.run(), apis


@pytest.fixture
def aws():
    with mock_aws():
        ec2 = client("ec2")
        elbv2 = client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone="us-east-1" + az)[
            "Subnet"]["SubnetId"] for i, az in enumerate("ab", start=1)]
        lb = elbv2.create_load_balancer(Name="alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        for i, (name, port) in enumerate(SEED):
            arn = elbv2.create_target_group(Name="%s-tg" % name, Protocol="HTTP", Port=port, VpcId=vpc)[
                "TargetGroups"][0]["TargetGroupArn"]
            elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80 + i, DefaultActions=[
                {"Type": "forward", "TargetGroupArn": arn}])
        elbv2.create_target_group(Name="lonely-tg", Protocol="HTTP", Port=80, VpcId=vpc)
        yield client("ecs")


def test_first_run_creates_cluster_task_definitions_and_services(aws):
    result = run(params())[0]
    assert result.changed
    kinds = [(a.verb, a.kind) for a in result.plan.actions]
    assert kinds.count(("create", "service")) == 3
    assert kinds.count(("create", "task_definition")) == 3
    assert ("create", "cluster") in kinds
    # Log groups are cloudwatch_stack's: ecs_stack neither creates nor reads them.
    assert "log_group" not in {kind for _verb, kind in kinds}
    assert client("logs").describe_log_groups()["logGroups"] == []
    described = aws.describe_services(cluster="flask-microservices-prod-cluster", services=["users"])["services"][0]
    assert described["desiredCount"] == 1
    assert described["loadBalancers"][0]["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:")


def test_second_run_with_same_options_changes_nothing_and_writes_nothing(aws):
    run(params())
    result, apis = run(params())
    assert not result.changed
    assert apis.writes() == {}


def test_no_op_reads_are_batched(aws):
    run(params())
    apis = run(params())[1]
    assert apis.ecs.read_calls == {"describe_clusters": 1, "describe_services": 1, "describe_task_definition": 3}
    assert apis.tgs.read_calls == {"describe_target_groups": 1}


def test_check_mode_reports_the_plan_and_writes_nothing(aws):
    result, apis = run(params(), check=True)
    assert result.changed
    assert [a.kind for a in result.plan.actions].count("service") == 3
    assert apis.writes() == {}
    assert aws.list_clusters()["clusterArns"] == []


def test_identical_revision_of_the_family_is_reused_not_registered_again(aws):
    p = params()
    run(p)
    aws.delete_service(cluster="flask-microservices-prod-cluster", service="users", force=True)
    result, apis = run(p)
    assert [(a.verb, a.kind, a.name) for a in result.plan.actions] == [("create", "service", "users")]
    assert "register_task_definition" not in apis.writes()


def test_desired_count_change_updates_the_service(aws):
    run(params())
    services = [service(n, p) for n, p in SEED]
    services[1]["desired_count"] = 3
    result = run(params(services))[0]
    assert [(a.verb, a.kind, a.name) for a in result.plan.actions] == [("update", "service", "users")]
    assert aws.describe_services(cluster="flask-microservices-prod-cluster", services=["users"])["services"][0][
        "desiredCount"] == 3


def test_autoscaled_service_desired_count_is_not_fought(aws):
    auto = {"min_capacity": 1, "max_capacity": 10, "policies": [
        {"name": "cpu50", "metric": "cpu", "target": 50.0, "scale_in_cooldown": 30, "scale_out_cooldown": 30}]}
    services = [service(n, p, autoscaling=auto, desired_count=1) for n, p in SEED]
    run(params(services))
    # Autoscaling moved the count; the same options must not move it back.
    aws.update_service(cluster="flask-microservices-prod-cluster", service="users", desiredCount=4)
    result, apis = run(params(services))
    assert not result.changed
    assert apis.writes() == {}


def test_autoscaling_is_created_then_left_alone(aws):
    auto = {"min_capacity": 1, "max_capacity": 10, "policies": [
        {"name": "cpu50", "metric": "cpu", "target": 50.0, "scale_in_cooldown": 30, "scale_out_cooldown": 30}]}
    services = [service("users", 5000, autoscaling=auto)]
    first = run(params(services))[0]
    assert ("create", "scaling_policy", "users/cpu50") in [(a.verb, a.kind, a.name) for a in first.plan.actions]
    second, apis = run(params(services))
    assert not second.changed and apis.writes() == {}


def test_autoscaling_range_change_registers_the_target_again(aws):
    auto = {"min_capacity": 1, "max_capacity": 10, "policies": []}
    run(params([service("users", 5000, autoscaling=auto)]))
    result = run(params([service("users", 5000, autoscaling=dict(auto, max_capacity=20))]))[0]
    assert [(a.verb, a.kind) for a in result.plan.actions] == [("update", "scalable_target")]
    target = client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"][0]
    assert target["MaxCapacity"] == 20


def test_changed_definition_of_an_existing_service_is_drift_not_a_new_revision(aws):
    run(params())
    services = [service(n, p) for n, p in SEED]
    services[1]["task_definition"]["containers"][0]["image"] = "users:2.0"
    result, apis = run(params(services))
    assert not result.changed
    assert "register_task_definition" not in apis.writes()
    drift = result.data["drift"]
    assert list(drift) == ["users"]
    assert drift["users"]["differences"] == [{
        "path": "containerDefinitions[0].image",
        "before": "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:production", "after": "users:2.0"}]
    assert result.data["services"]["users"]["drift"] is True
    assert result.data["services"]["client"]["drift"] is False


def test_cluster_settings_and_tags_update_in_place(aws):
    run(params())
    p = params(cluster={"name": "flask-microservices-prod-cluster", "container_insights": "enabled", "tags": {"env": "prod"}})
    result = run(p)[0]
    assert sorted((a.verb, a.kind) for a in result.plan.actions) == [("tag", "cluster"), ("update", "cluster")]
    again, apis = run(p)
    assert not again.changed and apis.writes() == {}


def test_unknown_target_group_fails_before_any_write(aws):
    services = [service("users", 5000)]
    services[0]["load_balancers"][0]["target_group"] = "nope-tg"
    with pytest.raises(ValidationError, match="nope-tg") as exc:
        run(params(services))
    assert exc.value.option == "services[0].load_balancers[0].target_group"
    assert aws.list_clusters()["clusterArns"] == []


def test_target_group_without_load_balancer_fails_before_any_write(aws):
    services = [service("users", 5000)]
    services[0]["load_balancers"][0]["target_group"] = "lonely-tg"
    with pytest.raises(ValidationError, match="no load balancer forwards") as exc:
        run(params(services))
    assert exc.value.option == "services[0].load_balancers[0].target_group"
    assert aws.list_clusters()["clusterArns"] == []


def test_target_group_given_by_arn_compares_equal_to_the_bound_one(aws):
    run(params([service("users", 5000)]))
    arn = client("elbv2").describe_target_groups(Names=["users-tg"])["TargetGroups"][0][
        "TargetGroupArn"]
    svc = service("users", 5000)
    svc["load_balancers"][0]["target_group"] = arn
    result, apis = run(params([svc]))
    assert not result.changed and apis.writes() == {}


def test_unknown_capacity_provider_fails_before_any_write(aws):
    p = params(cluster={"name": "flask-microservices-prod-cluster", "capacity_providers": ["FARGATE", "my-asg-cp"]})
    with pytest.raises(ValidationError, match="my-asg-cp"):
        run(p)
    assert aws.list_clusters()["clusterArns"] == []


def test_new_service_without_task_definition_fails_before_any_write(aws):
    svc = service("users", 5000)
    del svc["task_definition"]
    with pytest.raises(ValidationError, match="does not exist") as exc:
        run(params([svc]))
    assert exc.value.option == "services[0].task_definition"
    assert aws.list_clusters()["clusterArns"] == []


def test_awsvpc_without_network_configuration_fails_before_any_write(aws):
    svc = service("users", 5000)
    svc["task_definition"]["network_mode"] = "awsvpc"
    svc["task_definition"]["containers"][0]["port_mappings"] = [{"container_port": 5000}]
    with pytest.raises(ValidationError, match="awsvpc"):
        run(params([svc]))
    assert aws.list_clusters()["clusterArns"] == []


def test_awsvpc_service_with_an_instance_target_group_fails_before_any_write(aws):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.1.0/24")["Subnet"]["SubnetId"]
    svc = service("users", 5000, network_configuration={"subnets": [subnet], "security_groups": [], "assign_public_ip": False})
    svc["task_definition"]["network_mode"] = "awsvpc"
    svc["task_definition"]["containers"][0]["port_mappings"] = [{"container_port": 5000}]
    with pytest.raises(ValidationError, match="target type instance does not fit network_mode awsvpc") as exc:
        run(params([svc]))
    assert exc.value.option == "services[0].load_balancers[0].target_group"
    assert aws.list_clusters()["clusterArns"] == []


def test_fargate_service_with_an_ec2_only_definition_fails_before_any_write(aws):
    svc = service("users", 5000, launch_type="FARGATE")
    with pytest.raises(ValidationError, match="must list FARGATE") as exc:
        run(params([svc]))
    assert exc.value.option == "services[0].task_definition.requires_compatibilities"
    assert aws.list_clusters()["clusterArns"] == []


def test_fargate_service_in_awsvpc_is_created(aws):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    elbv2 = client("elbv2")
    tg = elbv2.create_target_group(Name="users-ip-tg", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip")[
        "TargetGroups"][0]["TargetGroupArn"]
    lb = elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=9999, DefaultActions=[
        {"Type": "forward", "TargetGroupArn": tg}])
    network = {"subnets": [subnet], "security_groups": [], "assign_public_ip": False}
    svc = service("users", 5000, launch_type="FARGATE", network_configuration=network)
    svc["load_balancers"][0]["target_group"] = "users-ip-tg"
    svc["task_definition"].update(network_mode="awsvpc", requires_compatibilities=["FARGATE"], cpu="256", memory="512")
    svc["task_definition"]["containers"][0]["port_mappings"] = [{"container_port": 5000}]
    run(params([svc]))
    described = aws.describe_services(cluster="flask-microservices-prod-cluster", services=["users"])["services"][0]
    assert described["launchType"] == "FARGATE"
    assert not described.get("placementStrategy")


def test_absent_scales_to_zero_deletes_and_waits(aws):
    auto = {"min_capacity": 1, "max_capacity": 10, "policies": []}
    run(params([service("users", 5000, autoscaling=auto), service("client", 9000)]))
    result, apis = run(params([{"name": "users"}], state="absent"))
    assert [(a.verb, a.kind) for a in result.plan.actions] == [("delete", "scalable_target"), ("delete", "service")]
    assert apis.writes() == {"deregister_scalable_target": 1, "update_service": 1, "delete_service": 1}
    assert result.data["services"]["users"]["status"] == "INACTIVE"


def test_absent_twice_changes_nothing(aws):
    run(params([service("users", 5000)]))
    run(params([{"name": "users"}], state="absent"))
    result, apis = run(params([{"name": "users"}], state="absent"))
    assert not result.changed and apis.writes() == {}


def test_absent_with_delete_cluster_refuses_when_other_services_remain(aws):
    run(params())
    from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError
    with pytest.raises(EcsError, match="still runs services"):
        run(params([{"name": "users"}], state="absent", delete_cluster=True))


def test_absent_with_delete_cluster_deletes_it_last(aws):
    run(params())
    result = run(params([{"name": n} for n, _port in SEED], state="absent", delete_cluster=True))[0]
    assert result.plan.actions[-1].kind == "cluster"
    assert aws.describe_clusters(clusters=["flask-microservices-prod-cluster"])["clusters"][0]["status"] == "INACTIVE"


def test_options_are_not_mutated(aws):
    p = params()
    before = copy.deepcopy(p)
    run(p)
    assert p == before


def test_autoscaling_group_capacity_provider_is_created_and_attached_to_the_cluster(aws):
    asg_arn = "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/ecs-asg"
    cluster = {"name": "flask-microservices-prod-cluster", "capacity_providers": ["FARGATE"],
               "autoscaling_group_providers": [{"name": "ec2-cp", "auto_scaling_group_arn": asg_arn,
                                                "managed_scaling": {"status": "ENABLED", "target_capacity": 100},
                                                "managed_termination_protection": "DISABLED"}],
               "default_capacity_provider_strategy": [{"capacity_provider": "ec2-cp", "weight": 1, "base": 0}]}
    p = params([service("users", 5000)], cluster=cluster)
    first = run(p)[0]
    assert [(a.verb, a.kind) for a in first.plan.actions][:2] == [("create", "capacity_provider"), ("create", "cluster")]
    described = aws.describe_clusters(clusters=["flask-microservices-prod-cluster"])["clusters"][0]
    assert sorted(described["capacityProviders"]) == ["FARGATE", "ec2-cp"]
    result, apis = run(p)
    assert not result.changed and apis.writes() == {}


def test_check_mode_on_an_existing_stack_predicts_updates_and_writes_nothing(aws):
    run(params())
    services = [service(n, p) for n, p in SEED]
    services[0]["desired_count"] = 5
    result, apis = run(params(services), check=True)
    assert sorted((a.verb, a.kind) for a in result.plan.actions) == [("update", "service")]
    assert apis.writes() == {}
    assert aws.describe_services(cluster="flask-microservices-prod-cluster", services=["client"])["services"][0][
        "desiredCount"] == 1


def test_diff_shows_before_and_after_of_what_changes(aws):
    run(params())
    services = [service(n, p) for n, p in SEED]
    services[1]["desired_count"] = 2
    diff = run(params(services), check=True)[0].to_module_result(diff_mode=True)["diff"]
    assert diff == {"before": {"service/users": {"desiredCount": 1}}, "after": {"service/users": {"desiredCount": 2}}}


def test_check_mode_absent_writes_nothing(aws):
    run(params())
    result, apis = run(params([{"name": "users"}], state="absent"), check=True)
    assert [(a.verb, a.kind) for a in result.plan.actions] == [("delete", "service")]
    assert apis.writes() == {}


def test_service_connect_namespace_by_name_compares_equal_to_its_arn(aws):
    sd = client("servicediscovery")
    sd.create_http_namespace(Name="flask.local")
    cluster = {"name": "flask-microservices-prod-cluster", "service_connect_defaults": {"namespace": "flask.local"}}
    first = run(params([], cluster=cluster))[0]
    assert [(a.verb, a.kind) for a in first.plan.actions] == [("create", "cluster")]
    result, apis = run(params([], cluster=cluster))
    assert not result.changed and apis.writes() == {}


@pytest.mark.parametrize("conf,option", [
    ({"minimum_healthy_percent": 150}, "services[0].deployment_configuration.minimum_healthy_percent"),
    ({"maximum_percent": 50}, "services[0].deployment_configuration.maximum_percent"),
])
def test_deployment_percentages_outside_ecs_bounds_fail_before_any_read(conf, option):
    stack = EcsStack(params([service("users", 5000, deployment_configuration=conf)]), None, None, None, None)
    with pytest.raises(ValidationError) as exc:
        stack.run()
    assert exc.value.option == option


def test_autoscaling_min_above_max_fails_before_any_read():
    svc = service("users", 5000, autoscaling={"min_capacity": 5, "max_capacity": 2, "policies": []})
    with pytest.raises(ValidationError, match="min_capacity <= max_capacity"):
        EcsStack(params([svc]), None, None, None, None).run()


def test_service_listed_twice_fails_before_any_read():
    with pytest.raises(ValidationError, match="listed twice"):
        EcsStack(params([service("users", 5000), service("users", 5000)]), None, None, None, None).run()


def secret_apis():
    from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi

    return SsmApi(client("ssm")), SecretsManagerApi(client("secretsmanager")), StsApi(client("sts"))


def with_secret(ref):
    users = service("users", 5000)
    users["task_definition"]["containers"][0]["secrets"] = {"DATABASE_URL": ref}
    return params([users])


def test_a_new_service_referencing_a_missing_secret_fails_before_any_write(aws):
    apis = Apis()
    stack = EcsStack(with_secret("/flask-microservices/production/DATABASE_URL"), apis.ecs, apis.aas, apis.tgs,
                     apis.ns, region=REGION, secrets=secret_apis())
    with pytest.raises(ValidationError) as info:
        stack.run()
    assert info.value.option == "services[0].task_definition.containers[0].secrets.DATABASE_URL"
    assert apis.writes() == {}


def test_a_new_service_referencing_an_existing_secret_is_created(aws):
    client("ssm").put_parameter(Name="/flask-microservices/production/DATABASE_URL", Value="x", Type="SecureString")
    apis = Apis()
    stack = EcsStack(with_secret("/flask-microservices/production/DATABASE_URL"), apis.ecs, apis.aas, apis.tgs,
                     apis.ns, region=REGION, secrets=secret_apis())
    assert stack.run().changed
