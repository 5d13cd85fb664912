"""playbooks/deploy.yml with the service shapes of the seeds, against the local emulated AWS.

* a backend service found through Cloud Map by a web service whose environment names the load
  balancer's URL and the backend's discovery name;
* seed 002's shape on the EC2 capacity in bridge mode, planned.

tests/integration/test_examples.py deploys the seed systems themselves (seed 001's backend without a
load balancer, then with a sidecar and a worker; the EC2 ones in bridge mode).
"""

import os

import pytest
import yaml

from integration.ansible_runner_helpers import REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
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
    assert "ingress: - -> ['tcp 32768-65535 from pingpong-local-alb']" in plan[("security_group", "pingpong-local-instances")]["changes"]
    assert "ingress: - -> []" in plan[("security_group", "pingpong-local-tasks")]["changes"], "bridge tasks use the instances' group"
    assert plan[("asg_policy", "pingpong-local-cpu")]["action"] == "create"
    assert ("log_group", "microservice-ping-pong-node") in plan
    assert aws.write_calls() == []
