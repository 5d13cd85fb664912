"""playbooks/deploy.yml with the service shapes of the seeds, against the local emulated AWS.

* an application without a web service (a backend and a worker, seed 001's shape without the load
  balancer): planned first, deployed with no load balancer, no load balancer group and no alb_routes
  run, then a second run that writes nothing;
* a backend service found through Cloud Map by a web service whose environment names the load
  balancer's URL and the backend's discovery name;
* seed 002's shape on the EC2 capacity in bridge mode, planned (tests/integration/test_examples.py
  deploys the seed systems themselves).
"""

import os
import re

import pytest
import yaml

from integration.ansible_runner_helpers import REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
STATUS = os.path.join(REPO, "playbooks", "status.yml")
IMAGE = "public.ecr.aws/docker/library/nginx:1.27"
EC2_CAPACITY = {"instance_type": "t3.medium", "min_size": 1, "max_size": 2, "desired_capacity": 1,
                "scaling_policies": [{"name": "cpu", "metric": "cpu", "target": 60}]}


def ok(run):
    assert run.rc == 0, run.stdout[-5000:] + run.stderr[-3000:]
    return run


def write_app(tmp_path, app):
    path = tmp_path / "app.yml"
    path.write_text(yaml.safe_dump(app))
    return {"app_definition_file": str(path), "env_services": {}}


def backend_and_worker():
    return {
        "format": 1, "name": "ecsdemo",
        "services": {
            "nodejs": {"kind": "backend", "image": IMAGE, "container_port": 3000, "memory_reservation": 256,
                       "discovery": {"enabled": False}, "logging": {"stream_prefix": "ecsworkshop-nodejs"}},
            "mailer": {"kind": "worker", "image": IMAGE, "command": ["sleep", "infinity"]},
        },
    }


@pytest.mark.slow
def test_an_application_without_a_web_service_deploys_without_a_load_balancer(aws, run_playbook, boto3_client, tmp_path):
    extra = write_app(tmp_path, backend_and_worker())
    aws.clear_calls()
    check = ok(run_playbook(DEPLOY, check=True, diff=True, extra_vars=extra))
    plan = check.task("Validate the application and plan the environment")["plan"]
    resources = {(e["resource"], e["name"]) for e in plan}
    assert ("service", "nodejs") in resources and ("service", "mailer") in resources
    assert not [e for e in plan if e["resource"] in ("load_balancer", "target_group", "listener", "rule")], plan
    assert ("security_group", "ecsdemo-local-alb") not in resources
    assert aws.write_calls() == []

    first = ok(run_playbook(DEPLOY, extra_vars=extra))
    assert "Create the load balancer, listeners, target groups and routes" not in first.changed_tasks()
    assert boto3_client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    groups = {g["GroupName"]: g for g in boto3_client("ec2").describe_security_groups()["SecurityGroups"]}
    assert "ecsdemo-local-alb" not in groups
    # The backend's port is open to the tasks' own group, and nothing else is.
    tasks_group = groups["ecsdemo-local-tasks"]
    assert [(p["FromPort"], p["ToPort"], [pair["GroupId"] for pair in p["UserIdGroupPairs"]]) for p in tasks_group["IpPermissions"]] == [
        (3000, 3000, [tasks_group["GroupId"]])]
    ecs = boto3_client("ecs")
    services = {s["serviceName"]: s for s in ecs.describe_services(cluster="ecsdemo-local", services=["nodejs", "mailer"])["services"]}
    assert {name: (s["status"], s["runningCount"], s["loadBalancers"]) for name, s in services.items()} == {
        "nodejs": ("ACTIVE", 1, []), "mailer": ("ACTIVE", 1, [])}
    mailer = ecs.describe_task_definition(taskDefinition=services["mailer"]["taskDefinition"])["taskDefinition"]
    assert "portMappings" not in mailer["containerDefinitions"][0] or mailer["containerDefinitions"][0]["portMappings"] == []
    nodejs = ecs.describe_task_definition(taskDefinition=services["nodejs"]["taskDefinition"])["taskDefinition"]
    log = nodejs["containerDefinitions"][0]["logConfiguration"]["options"]
    assert (log["awslogs-group"], log["awslogs-stream-prefix"]) == ("/ecs/ecsdemo-local/nodejs", "ecsworkshop-nodejs")
    # The dashboard shows both services; no target group alarms exist without target groups.
    alarms = [a["AlarmName"] for a in boto3_client("cloudwatch").describe_alarms(AlarmNamePrefix="ecsdemo-local-")["MetricAlarms"]]
    assert sorted(alarms) == ["ecsdemo-local-mailer-cpu-high", "ecsdemo-local-mailer-memory-high",
                              "ecsdemo-local-nodejs-cpu-high", "ecsdemo-local-nodejs-memory-high"]

    aws.clear_calls()
    second = ok(run_playbook(DEPLOY, extra_vars=extra))
    assert second.changed_tasks() == []
    assert aws.write_calls() == []

    status = ok(run_playbook(STATUS, extra_vars=extra))
    text = status.task("Show the status")["msg"]
    assert "nodejs" in text and "mailer" in text

    # The backend gains a sidecar: --check --diff shows the new revision first, the deploy runs it, the next run is a no-op.
    app = backend_and_worker()
    app["services"]["nodejs"]["containers"] = {"metrics": {"image": IMAGE, "essential": False, "ports": [{"container_port": 9102}]}}
    extra = write_app(tmp_path, app)
    aws.clear_calls()
    preview = ok(run_playbook(DEPLOY, check=True, diff=True, extra_vars=extra))
    lines = "\n".join(preview.task("Show the plan")["msg"])
    assert re.search(r"update +task_definition +ecsdemo-local-nodejs\n +containers.metrics: - -> ", lines), lines
    assert aws.write_calls() == []
    ok(run_playbook(DEPLOY, extra_vars=extra))
    service = ecs.describe_services(cluster="ecsdemo-local", services=["nodejs"])["services"][0]
    containers = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]["containerDefinitions"]
    assert [(c["name"], c["essential"]) for c in containers] == [("nodejs", True), ("metrics", False)]
    aws.clear_calls()
    assert ok(run_playbook(DEPLOY, extra_vars=extra)).changed_tasks() == []
    assert aws.write_calls() == []


def backend_behind_a_web_service():
    return {
        "format": 1, "name": "shop",
        "listeners": [{"port": 80, "default_service": "web"}],
        "services": {
            "web": {"image": IMAGE, "container_port": 80,
                    "environment": {"PUBLIC_URL": "${load_balancer.url}", "API": "http://${services.api.discovery_name}:3000"}},
            "api": {"kind": "backend", "image": IMAGE, "container_port": 3000},
        },
    }


@pytest.mark.slow
def test_a_backend_service_is_registered_in_cloud_map_and_named_in_the_web_services_environment(aws, run_playbook, boto3_client, tmp_path):
    extra = write_app(tmp_path, backend_behind_a_web_service())
    aws.clear_calls()
    check = ok(run_playbook(DEPLOY, check=True, extra_vars=extra))
    plan = check.task("Validate the application and plan the environment")["plan"]
    assert ("cloud_map_namespace", "shop-local.local") in {(e["resource"], e["name"]) for e in plan}
    assert aws.write_calls() == []

    ok(run_playbook(DEPLOY, extra_vars=extra))
    cloud_map = boto3_client("servicediscovery")
    namespaces = {n["Name"]: n for n in cloud_map.list_namespaces()["Namespaces"]}
    assert namespaces["shop-local.local"]["Type"] == "DNS_PRIVATE"
    registries = {s["Name"]: s for s in cloud_map.list_services()["Services"]}
    assert list(registries) == ["api"]
    instances = cloud_map.list_instances(ServiceId=registries["api"]["Id"])["Instances"]
    assert len(instances) == 1
    ecs = boto3_client("ecs")
    web = ecs.describe_services(cluster="shop-local", services=["web"])["services"][0]
    env = {e["name"]: e["value"] for e in ecs.describe_task_definition(taskDefinition=web["taskDefinition"])["taskDefinition"]
           ["containerDefinitions"][0]["environment"]}
    dns_name = boto3_client("elbv2").describe_load_balancers(Names=["shop-local"])["LoadBalancers"][0]["DNSName"]
    assert env == {"PUBLIC_URL": "http://" + dns_name, "API": "http://api.shop-local.local:3000"}

    aws.clear_calls()
    second = ok(run_playbook(DEPLOY, extra_vars=extra))
    assert second.changed_tasks() == []
    assert aws.write_calls() == []


def ping_pong():
    """Seed 002's node service: node-john, linked to node-paul, behind the load balancer on EC2 in bridge mode."""
    return {
        "format": 1, "name": "pingpong",
        "listeners": [{"port": 80, "default_service": "node"}],
        "services": {"node": {
            "image": IMAGE, "placement": "ec2", "network_mode": "bridge", "container_name": "node-john", "container_port": 3000,
            "memory_reservation": 300, "links": ["node-paul"], "health_check": {"path": "/ping"},
            "logging": {"group": "microservice-ping-pong-node"},
            "containers": {"node-paul": {"image": IMAGE, "memory_reservation": 300, "ports": [{"container_port": 3000}],
                                         "logging": {"group": "microservice-ping-pong-node"}}},
        }},
    }


def test_an_ec2_bridge_service_with_two_containers_is_planned_first(aws, run_playbook, tmp_path):
    extra = dict(write_app(tmp_path, ping_pong()), env_ec2_capacity=EC2_CAPACITY)
    aws.clear_calls()
    check = ok(run_playbook(DEPLOY, check=True, extra_vars=extra))
    plan = {(e["resource"], e["name"]): e for e in check.task("Validate the application and plan the environment")["plan"]}
    service = plan[("service", "node")]["changes"]
    assert "capacity provider pingpong-local-ec2, network mode bridge, containers node-john, node-paul" in service
    assert plan[("security_group", "pingpong-local-instances")]["changes"] == ["ingress: tcp 32768-65535 from pingpong-local-alb"]
    assert "changes" not in plan[("security_group", "pingpong-local-tasks")], "bridge tasks use the instances' group"
    assert plan[("asg_policy", "pingpong-local-cpu")]["action"] == "create"
    assert ("log_group", "microservice-ping-pong-node") in plan
    assert aws.write_calls() == []
