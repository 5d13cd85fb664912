"""The example applications of examples/ (one per seed system) deployed on the local emulated AWS.

Each example is deployed the way its README says, with its own inventory: the first deploy must
build the system the seed describes (checked on AWS's answers, not on our options), a second
deploy changes nothing and writes nothing, and status.yml shows every service healthy.
"""

from __future__ import annotations

import os
import re
import sys

import pytest
import yaml

from integration.ansible_runner_helpers import REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
STATUS = os.path.join(REPO, "playbooks", "status.yml")
EXAMPLES = os.path.join(REPO, "examples")

sys.path.insert(0, os.path.join(REPO, "tools"))
import build_demo_images  # noqa: E402  pylint: disable=wrong-import-position
import seed_local_secrets  # noqa: E402  pylint: disable=wrong-import-position


# An image that exists without a push (the emulator runs any reference; AWS would pull it).
WORKER_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"


def ok(run):
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    return run


def deploy_twice_and_status(example, aws, run_playbook, reference_secrets=False):
    """Deploy the example, deploy it again (no change, no write), return status.yml's run."""
    if reference_secrets:  # the reference app's secrets exist before its first deploy, as on AWS
        seed_local_secrets.seed(aws.endpoint)
    images = os.path.join(REPO, "build", "examples", example)
    if os.path.exists(os.path.join(EXAMPLES, example, "app.yml")):
        build_demo_images.build(images, os.path.join(EXAMPLES, example, "app.yml"))
    env = {"SHIPYARD_EXAMPLE_IMAGES": images}
    inventory = os.path.join(EXAMPLES, example, "local")
    ok(run_playbook(DEPLOY, inventory=inventory, env=env))
    aws.clear_calls()
    second = ok(run_playbook(DEPLOY, inventory=inventory, env=env))
    assert second.changed == 0, second.changed_tasks()
    assert aws.write_calls() == []
    return ok(run_playbook(STATUS, inventory=inventory, env=env, extra_vars={"status_format": "json"}))


def running_tasks(ecs, cluster, service):
    arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    return ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []


def service_of(ecs, cluster, name):
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def task_definition_of(ecs, service):
    return ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]


def healthy_targets(elbv2, target_group_arn):
    described = elbv2.describe_target_health(TargetGroupArn=target_group_arn)["TargetHealthDescriptions"]
    return [d for d in described if d["TargetHealth"]["State"] == "healthy"]


def container_instances(ecs, cluster):
    arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
    return ecs.describe_container_instances(cluster=cluster, containerInstances=arns)["containerInstances"] if arns else []


@pytest.mark.slow
def test_ping_pong_four_linked_containers_in_bridge_mode_on_ec2(aws, run_playbook, boto3_client):
    deploy_twice_and_status("ping-pong", aws, run_playbook)
    cluster = "microservice-ping-pong-local"
    ecs, elbv2 = boto3_client("ecs"), boto3_client("elbv2")
    assert len(container_instances(ecs, cluster)) == 2
    node = service_of(ecs, cluster, "node")
    assert node["runningCount"] == 1 and node["deployments"][0]["rolloutState"] == "COMPLETED"
    definition = task_definition_of(ecs, node)
    assert definition["networkMode"] == "bridge"
    containers = {c["name"]: c for c in definition["containerDefinitions"]}
    assert set(containers) == {"node-john", "node-paul", "node-george", "node-ringo"}
    assert sorted(containers["node-john"]["links"]) == ["node-george", "node-paul", "node-ringo"]
    assert {c["image"] for c in containers.values()} == {containers["node-john"]["image"]}, "one node image"
    assert all(c["memoryReservation"] == 300 for c in containers.values())
    assert all(m.get("hostPort", 0) == 0 for c in containers.values() for m in c["portMappings"])
    binding = node["loadBalancers"][0]
    assert (binding["containerName"], binding["containerPort"]) == ("node-john", 3000)
    group = elbv2.describe_target_groups(TargetGroupArns=[binding["targetGroupArn"]])["TargetGroups"][0]
    assert group["TargetType"] == "instance"
    targets = healthy_targets(elbv2, binding["targetGroupArn"])
    task = running_tasks(ecs, cluster, "node")[0]
    john = [c for c in task["containers"] if c["name"] == "node-john"][0]
    host_port = john["networkBindings"][0]["hostPort"]
    assert host_port >= 32768
    assert [(t["Target"]["Id"].startswith("i-"), t["Target"]["Port"]) for t in targets] == [(True, host_port)]
    client = task_definition_of(ecs, service_of(ecs, cluster, "client"))["containerDefinitions"][0]
    alb = elbv2.describe_load_balancers(Names=[cluster])["LoadBalancers"][0]
    assert {"name": "REACT_APP_BASE_URL", "value": "http://" + alb["DNSName"]} in client["environment"]
    # The instances' security group lets the load balancer (its group) reach the dynamic host ports.
    ec2 = boto3_client("ec2")
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [cluster + "-instances", cluster + "-alb"]}])["SecurityGroups"]}
    from_alb = [(p["FromPort"], p["ToPort"]) for p in groups[cluster + "-instances"]["IpPermissions"]
                if any(pair["GroupId"] == groups[cluster + "-alb"]["GroupId"] for pair in p.get("UserIdGroupPairs", []))]
    assert any(low <= host_port <= high for low, high in from_alb), from_alb


@pytest.mark.slow
def test_ecsdemo_nodejs_backend_found_through_cloud_map_then_a_sidecar_and_a_worker(
        aws, run_playbook, boto3_client, tmp_path):
    inventory = os.path.join(EXAMPLES, "ecsdemo-nodejs", "local")
    images = os.path.join(REPO, "build", "examples", "ecsdemo-nodejs")
    build_demo_images.build(images, os.path.join(EXAMPLES, "ecsdemo-nodejs", "app.yml"))
    env = {"SHIPYARD_EXAMPLE_IMAGES": images}
    ok(run_playbook(os.path.join(EXAMPLES, "ecsdemo-nodejs", "base-platform.yml"), inventory=inventory, env=env))
    # --check --diff on the new environment: everything planned, nothing of a load balancer, no write.
    aws.clear_calls()
    check = ok(run_playbook(DEPLOY, inventory=inventory, env=env, check=True, diff=True))
    plan = check.task("Validate the application and plan the environment")["plan"]
    resources = {(e["resource"], e["name"]) for e in plan}
    assert ("service", "ecsdemo-nodejs") in resources and ("cloud_map_namespace", "service") in resources, plan
    assert not [e for e in plan if e["resource"] in ("load_balancer", "target_group", "listener", "rule")], plan
    assert aws.write_calls() == []

    deploy_twice_and_status("ecsdemo-nodejs", aws, run_playbook)
    cluster = "ecsworkshop-local"
    ecs, sd, elbv2, ec2 = boto3_client("ecs"), boto3_client("servicediscovery"), boto3_client("elbv2"), boto3_client("ec2")
    assert elbv2.describe_load_balancers()["LoadBalancers"] == [], "a backend application has no load balancer"
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups()["SecurityGroups"]}
    assert cluster + "-alb" not in groups
    # The backend's port is open to the tasks' own group, and nothing else is.
    tasks_group = groups[cluster + "-tasks"]
    assert [(p["FromPort"], p["ToPort"], [pair["GroupId"] for pair in p["UserIdGroupPairs"]])
            for p in tasks_group["IpPermissions"]] == [(3000, 3000, [tasks_group["GroupId"]])]
    service = service_of(ecs, cluster, "ecsdemo-nodejs")
    assert service["loadBalancers"] == [] and service["runningCount"] == 1
    registry = service["serviceRegistries"][0]["registryArn"]
    namespaces = {n["Name"]: n for n in sd.list_namespaces()["Namespaces"]}
    assert namespaces["service"]["Type"] == "DNS_PRIVATE"
    discovered = boto3_client("servicediscovery", inject_host_prefix=False).discover_instances(
        NamespaceName="service", ServiceName="ecsdemo-nodejs")["Instances"]
    task = running_tasks(ecs, cluster, "ecsdemo-nodejs")[0]
    assert [i["InstanceId"] for i in discovered] == [task["taskArn"].rsplit("/", 1)[1]]
    assert registry.endswith(sd.list_services()["Services"][0]["Id"])
    definition = task_definition_of(ecs, service)
    container = definition["containerDefinitions"][0]
    assert (definition["cpu"], definition["memory"], container["memoryReservation"]) == ("256", "512", 512)
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "ecsworkshop-nodejs"
    network = service["networkConfiguration"]["awsvpcConfiguration"]
    subnets = ec2.describe_subnets(SubnetIds=network["subnets"])["Subnets"]
    assert all(not s["MapPublicIpOnLaunch"] for s in subnets) and network["assignPublicIp"] == "DISABLED"
    policies = boto3_client("application-autoscaling").describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    tracking = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert (tracking["TargetValue"], tracking["ScaleInCooldown"], tracking["ScaleOutCooldown"]) == (50.0, 30, 30)
    alarms = [a["AlarmName"] for a in boto3_client("cloudwatch").describe_alarms(AlarmNamePrefix=cluster)["MetricAlarms"]]
    assert sorted(alarms) == [cluster + "-ecsdemo-nodejs-cpu-high", cluster + "-ecsdemo-nodejs-memory-high"]

    # Editing the application file: the backend gains a sidecar and the application a worker. --check --diff
    # shows both first, the deploy runs them, the next run writes nothing.
    with open(os.path.join(EXAMPLES, "ecsdemo-nodejs", "app.yml"), encoding="utf-8") as handle:
        app = yaml.safe_load(handle)
    app["services"]["ecsdemo-nodejs"]["containers"] = {"metrics": {"image": WORKER_IMAGE, "essential": False,
                                                                   "ports": [{"container_port": 9102}]}}
    app["services"]["mailer"] = {"kind": "worker", "image": WORKER_IMAGE, "command": ["sleep", "infinity"]}
    (tmp_path / "app.yml").write_text(yaml.safe_dump(app))
    edited = {"app_definition_file": str(tmp_path / "app.yml")}
    aws.clear_calls()
    preview = ok(run_playbook(DEPLOY, inventory=inventory, env=env, check=True, diff=True, extra_vars=edited))
    lines = "\n".join(preview.task("Show the plan")["msg"])
    assert re.search(r"update +task_definition +ecsworkshop-local-ecsdemo-nodejs\n +containers.metrics: - -> ", lines), lines
    assert re.search(r"create +service +mailer", lines), lines
    assert aws.write_calls() == []
    ok(run_playbook(DEPLOY, inventory=inventory, env=env, extra_vars=edited))
    service = service_of(ecs, cluster, "ecsdemo-nodejs")
    containers = task_definition_of(ecs, service)["containerDefinitions"]
    assert [(c["name"], c["essential"]) for c in containers] == [("ecsdemo-nodejs", True), ("metrics", False)]
    mailer = service_of(ecs, cluster, "mailer")
    assert (mailer["status"], mailer["runningCount"], mailer["loadBalancers"]) == ("ACTIVE", 1, [])
    assert not task_definition_of(ecs, mailer)["containerDefinitions"][0].get("portMappings")
    aws.clear_calls()
    assert ok(run_playbook(DEPLOY, inventory=inventory, env=env, extra_vars=edited)).changed_tasks() == []
    assert aws.write_calls() == []


@pytest.mark.slow
def test_hypertrack_services_on_an_ec2_cluster_with_instance_scaling(aws, run_playbook, boto3_client):
    deploy_twice_and_status("hypertrack", aws, run_playbook)
    cluster = "hypertrack-local"
    ecs, autoscaling = boto3_client("ecs"), boto3_client("autoscaling")
    for name in ("api", "dashboard"):
        service = service_of(ecs, cluster, name)
        assert service["runningCount"] == 2, name
        container = task_definition_of(ecs, service)["containerDefinitions"][0]
        assert container["logConfiguration"]["logDriver"] == "gelf"
    policies = autoscaling.describe_policies(AutoScalingGroupName=cluster)["ScalingPolicies"]
    assert [(p["PolicyType"], p["TargetTrackingConfiguration"]["TargetValue"]) for p in policies] == [("TargetTrackingScaling", 60.0)]
    dashboards = boto3_client("cloudwatch").list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in dashboards] == [cluster + "-dashboard"]


@pytest.mark.slow
def test_flask_microservices_on_ec2_with_dynamic_host_ports_then_one_service_moved_to_fargate(
        aws, run_playbook, boto3_client):
    deploy_twice_and_status("flask-microservices-ec2", aws, run_playbook, reference_secrets=True)
    cluster = "flask-microservices-local"
    ecs = boto3_client("ecs")
    for name in ("client", "users", "swagger"):
        service = service_of(ecs, cluster, name)
        assert service["runningCount"] == 1, name
        assert task_definition_of(ecs, service)["networkMode"] == "bridge"
        assert {t["capacityProviderName"] for t in running_tasks(ecs, cluster, name)} == {cluster + "-ec2"}
    assert sum(i["runningTasksCount"] for i in container_instances(ecs, cluster)) == 3

    # users moves to Fargate by editing its placement: --check --diff shows it first, the deploy moves it
    # (the EC2 capacity provider to Fargate's, awsvpc), the next run writes nothing.
    images = os.environ["SHIPYARD_DEMO_IMAGES"]
    moved = {"env_services": {
        name: dict({"placement": "ec2", "network_mode": "bridge"} if name != "users" else {"placement": "fargate"},
                   archive=os.path.join(images, name + ".tar")) for name in ("client", "users", "swagger")}}
    inventory = os.path.join(EXAMPLES, "flask-microservices-ec2", "local")
    aws.clear_calls()
    preview = ok(run_playbook(DEPLOY, inventory=inventory, check=True, diff=True, extra_vars=moved))
    plan = {(e["resource"], e["name"]): e for e in preview.task("Validate the application and plan the environment")["plan"]}
    assert plan[("service", "users")]["action"] == "update", plan[("service", "users")]
    assert aws.write_calls() == []
    ok(run_playbook(DEPLOY, inventory=inventory, extra_vars=moved))
    users = service_of(ecs, cluster, "users")
    assert users["capacityProviderStrategy"] == [{"capacityProvider": "FARGATE", "weight": 1, "base": 0}]
    assert task_definition_of(ecs, users)["networkMode"] == "awsvpc"
    assert [t["launchType"] for t in running_tasks(ecs, cluster, "users")] == ["FARGATE"]
    aws.clear_calls()
    assert ok(run_playbook(DEPLOY, inventory=inventory, extra_vars=moved)).changed_tasks() == []
    assert aws.write_calls() == []
