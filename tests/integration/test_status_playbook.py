"""playbooks/status.yml and ecs_status_info against the local emulated AWS.

The environment is built with boto3 rather than a deploy (seconds instead of a minute): the
cluster ``shop-test`` of app ``shop`` in environment ``test`` (the playbook's names come from the
application file ``files/shop-app.yml`` and ``-e env_name=test``), a load balancer, a ``users`` service of two healthy
tasks behind a target group, and a ``client`` service whose image crash-loops.
"""

from __future__ import annotations

import json
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATUS = os.path.join(REPO, "playbooks", "status.yml")
# The local inventory's env_services name the reference app's services: this app has its own.
NAMES = {"app_definition_file": os.path.join(REPO, "tests", "integration", "files", "shop-app.yml"), "env_name": "test", "env_services": {}}
CLUSTER = "shop-test"
USERS_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/users:1.4.2"
CLIENT_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/client:bad"
COLUMNS = ["SERVICE", "REVISION", "IMAGE", "AGE", "RUNNING", "ROLLOUT", "FAILED 1H", "TARGETS"]


@pytest.fixture
def environment(aws, boto3_client):
    aws.set_time_scale(0)
    aws.set_behaviour(CLIENT_IMAGE, "crash", exit_code=3, after_seconds=10)
    ec2, elbv2, ecs = boto3_client("ec2"), boto3_client("elbv2"), boto3_client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.%d.0/24" % i, AvailabilityZone="us-east-1" + zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate("ab")]
    group = ec2.create_security_group(GroupName="shop", Description="shop", VpcId=vpc)["GroupId"]
    alb = elbv2.create_load_balancer(Name=CLUSTER, Subnets=subnets, SecurityGroups=[group])["LoadBalancers"][0]
    target_group = elbv2.create_target_group(Name="test-users", Protocol="HTTP", Port=5000, VpcId=vpc, TargetType="ip",
                                             HealthCheckPath="/ping")["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=alb["LoadBalancerArn"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    ecs.create_cluster(clusterName=CLUSTER)
    network = {"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [group], "assignPublicIp": "ENABLED"}}
    for name, image, count, balanced in (("users", USERS_IMAGE, 2, True), ("client", CLIENT_IMAGE, 1, False)):
        task_definition = ecs.register_task_definition(
            family="shop-test-" + name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": name, "image": image, "essential": True,
                                   "portMappings": [{"containerPort": 5000}]}])["taskDefinition"]["taskDefinitionArn"]
        extra = {"loadBalancers": [{"targetGroupArn": target_group, "containerName": name, "containerPort": 5000}]} if balanced else {}
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=task_definition, desiredCount=count,
                           launchType="FARGATE", networkConfiguration=network, **extra)
    for _step in range(40):
        aws.advance_time(30)
        users = ecs.describe_services(cluster=CLUSTER, services=["users"])["services"][0]
        if users["deployments"][0]["rolloutState"] == "COMPLETED":
            break
    stopped = ecs.list_tasks(cluster=CLUSTER, serviceName="client", desiredStatus="STOPPED")["taskArns"]
    assert users["deployments"][0]["rolloutState"] == "COMPLETED" and stopped, "the emulated environment did not settle"
    aws.clear_calls()
    return {"load_balancer": alb, "crashed": len(stopped)}


def ok(run):
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run


def test_status_prints_a_table_with_headers_and_aligned_columns(aws, environment, run_playbook):
    run = ok(run_playbook(STATUS, extra_vars=NAMES))
    lines = run.task("Show the status")["msg"].splitlines()
    assert lines[0] == "environment test"
    assert lines[2] == "load balancer %s (active) %s" % (CLUSTER, environment["load_balancer"]["DNSName"])
    header = next(line for line in lines if line.startswith("SERVICE"))
    assert re.split(r"\s{2,}", header) == COLUMNS
    rows = {line.split()[0]: line for line in lines[lines.index(header) + 1:lines.index(header) + 3]}
    starts = [header.index(column) if column == "SERVICE" else header.index("  " + column) + 2 for column in COLUMNS]
    for row in rows.values():
        cells = [row[start:end].strip() for start, end in zip(starts, starts[1:] + [None])]
        assert all(cells[:7]), "a cell is empty or a column is out of line: %r" % row
    users = [rows["users"][s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
    assert users[0:3] == ["users", "shop-test-users:1", "shop/users:1.4.2"]
    assert re.fullmatch(r"\d+(s|m)", users[3]) and users[4] == "2/2" and users[5] == "COMPLETED"
    assert users[6] == "0" and users[7] == "test-users 2/2 healthy"
    client = [rows["client"][s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
    assert int(client[6]) >= 1 and client[7] == "-"
    assert "not found: swagger" in lines
    events = lines[lines.index("RECENT EVENTS") + 1:]
    assert {line.split()[0] for line in events} == {"users", "client"}
    assert aws.write_calls() == []


def test_status_reads_in_batches(aws, environment, run_playbook):
    ok(run_playbook(STATUS, extra_vars=NAMES))
    operations = [c["operation"] for c in aws.calls()]
    # users and client (and the missing swagger) in one DescribeServices; the cluster's stopped
    # tasks in one ListTasks and one DescribeTasks; one DescribeTargetHealth for one target group.
    assert operations.count("DescribeServices") == 1
    assert operations.count("ListTasks") == 1 and operations.count("DescribeTasks") == 1
    assert operations.count("DescribeTargetHealth") == 1 and operations.count("DescribeTaskDefinition") == 2
    assert aws.write_calls() == []


def test_status_format_json_prints_a_document_that_parses(environment, run_playbook, tmp_path):
    path = tmp_path / "status.json"
    run = ok(run_playbook(STATUS, extra_vars=dict(NAMES, status_format="json", status_file=str(path))))
    printed = json.loads(run.task("Show the status")["msg"])
    assert printed == json.loads(path.read_text())
    assert printed["environment"] == "test" and printed["cluster"] == CLUSTER
    services = {s["name"]: s for s in printed["services"]}
    assert services["users"]["running"] == 2 and services["users"]["target_groups"][0]["healthy"] == 2
    assert services["users"]["images"][0]["short"] == "shop/users:1.4.2"
    assert services["client"]["failed_tasks"] >= 1
    assert printed["missing_services"] == ["swagger"]


def test_status_on_screen_is_one_aligned_block(environment, run_playbook):
    run = ok(run_playbook(STATUS, extra_vars=NAMES, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
                                                         "ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}))
    shown = run.stdout[run.stdout.index("TASK [Show the status]"):]
    assert "msg: |-" in shown
    lines = shown.splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("SERVICE "))
    block = lines[header:header + 3]
    assert sorted(line.split()[0] for line in block) == ["SERVICE", "client", "users"]
    assert len({len(line) - len(line.lstrip()) for line in block}) == 1
    image = block[0].index("  IMAGE") + 2
    assert all(line[image - 2:image] == "  " and line[image] != " " for line in block)


def test_status_of_an_environment_never_deployed_says_so(aws, run_playbook):
    run = ok(run_playbook(STATUS, extra_vars=NAMES))
    assert "nothing deployed: the cluster does not exist" in run.task("Show the status")["msg"]


def test_a_bad_format_is_refused_before_any_aws_call(aws, run_playbook):
    aws.clear_calls()
    run = run_playbook(STATUS, extra_vars=dict(NAMES, status_format="yaml"))
    assert run.rc != 0 and aws.calls() == []
