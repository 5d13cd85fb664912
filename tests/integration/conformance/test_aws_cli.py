"""The AWS CLI v1 (waiters and describe calls) against the emulator answers as against AWS."""

from __future__ import annotations

import hashlib
import json

from integration.conformance.conftest import task_ids
from integration.emulator.stack import CLUSTER, USERS_PORT

TERMINAL = "Waiter encountered a terminal failure state"


def _network(stack):
    return json.dumps({"awsvpcConfiguration": {"subnets": stack.subnets[:1], "securityGroups": [stack.security_group]}})


def test_services_stable_returns_once_a_new_service_reaches_steady_state(cli, fast_stack):
    fast_stack.create_service(desired=2)

    waited = cli.wait("ecs", "services-stable", "--cluster", CLUSTER, "--services", "users")
    [service] = cli.aws_json("ecs", "describe-services", "--cluster", CLUSTER, "--services", "users")["services"]

    assert waited.returncode == 0, waited.stderr
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert "(service users) has reached a steady state." in [e["message"] for e in service["events"]]


def test_services_stable_follows_a_crash_looping_release_to_its_rollback(cli, fast_stack):
    first = fast_stack.create_service(desired=2, deploymentConfiguration={
        "deploymentCircuitBreaker": {"enable": True, "rollback": True}})["taskDefinition"]
    fast_stack.settle()
    fast_stack.aws.set_behaviour("users:crash", "crash", exit_code=2, after_seconds=5)
    fast_stack.release("users:crash")

    waited = cli.wait("ecs", "services-stable", "--cluster", CLUSTER, "--services", "users")
    service = fast_stack.service()
    history = fast_stack.ecs.list_service_deployments(cluster=CLUSTER, service="users")

    assert waited.returncode == 0, waited.stderr
    assert service["taskDefinition"] == first
    assert any("deployment failed: tasks failed to start." in e["message"] for e in service["events"])
    assert history["serviceDeployments"][0]["status"] == "ROLLBACK_SUCCESSFUL"


def test_services_stable_fails_for_a_deleted_service(cli, fast_stack):
    fast_stack.create_service(desired=1)
    fast_stack.ecs.delete_service(cluster=CLUSTER, service="users", force=True)

    waited = cli.wait("ecs", "services-stable", "--cluster", CLUSTER, "--services", "users")

    assert waited.returncode == 255
    assert TERMINAL in waited.stderr


def test_a_deleted_service_drains_then_services_inactive_returns_once_its_tasks_have_stopped(cli, fast_stack):
    """AWS: DeleteService answers DRAINING while the tasks stop; INACTIVE (the waiter's success) after."""
    fast_stack.create_service(desired=2)
    fast_stack.settle()
    deleted = fast_stack.ecs.delete_service(cluster=CLUSTER, service="users", force=True)["service"]
    [draining] = cli.aws_json("ecs", "describe-services", "--cluster", CLUSTER, "--services", "users")["services"]

    waited = cli.wait("ecs", "services-inactive", "--cluster", CLUSTER, "--services", "users")
    [service] = cli.aws_json("ecs", "describe-services", "--cluster", CLUSTER, "--services", "users")["services"]
    tasks = fast_stack.ecs.list_tasks(cluster=CLUSTER, serviceName="users", desiredStatus="RUNNING")["taskArns"]

    assert (deleted["status"], draining["status"]) == ("DRAINING", "DRAINING")
    assert waited.returncode == 0, waited.stderr
    assert service["status"] == "INACTIVE" and tasks == []


def test_list_tasks_answers_a_page_at_a_time_as_the_cli_walks_them(cli, fast_stack):
    """AWS answers ListTasks at most maxResults (1 to 100, default 100) ARNs and a nextToken while more remain; the
    CLI's --page-size walks the pages, --max-items stops early and hands back its own NextToken."""
    fast_stack.create_service(desired=3)
    fast_stack.settle()
    every = fast_stack.ecs.list_tasks(cluster=CLUSTER)
    first = fast_stack.ecs.list_tasks(cluster=CLUSTER, maxResults=2)
    rest = fast_stack.ecs.list_tasks(cluster=CLUSTER, maxResults=2, nextToken=first["nextToken"])

    walked = cli.aws_json("ecs", "list-tasks", "--cluster", CLUSTER, "--page-size", "1")
    limited = cli.aws_json("ecs", "list-tasks", "--cluster", CLUSTER, "--max-items", "2", "--page-size", "1")
    described = cli.aws_json("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", *every["taskArns"])["tasks"]

    assert len(every["taskArns"]) == 3 and "nextToken" not in every
    assert len(first["taskArns"]) == 2 and "nextToken" not in rest
    assert sorted(first["taskArns"] + rest["taskArns"]) == sorted(every["taskArns"])
    assert sorted(walked["taskArns"]) == sorted(every["taskArns"])
    assert len(limited["taskArns"]) == 2 and limited.get("NextToken")
    # A service's tasks are told apart from the cluster's others by their group.
    assert {task["group"] for task in described} == {"service:users"}


def test_tasks_stopped_then_describe_tasks_gives_the_one_off_exit_code(cli, fast_stack):
    fast_stack.aws.set_behaviour("migrate:3", "exit", exit_code=3, after_seconds=5)
    definition = fast_stack.task_definition("migrate:3", family="migrate")
    [arn] = [task["taskArn"] for task in fast_stack.ecs.run_task(
        cluster=CLUSTER, taskDefinition=definition, launchType="FARGATE",
        networkConfiguration=json.loads(_network(fast_stack)))["tasks"]]

    waited = cli.wait("ecs", "tasks-stopped", "--cluster", CLUSTER, "--tasks", arn)
    [task] = cli.aws_json("ecs", "describe-tasks", "--cluster", CLUSTER, "--tasks", arn)["tasks"]
    [container] = task["containers"]

    assert waited.returncode == 0, waited.stderr
    assert (task["lastStatus"], task["stopCode"]) == ("STOPPED", "EssentialContainerExited")
    assert container["exitCode"] == 3
    assert "startedBy" not in task
    assert task["platformVersion"] == "1.4.0"
    assert container["runtimeId"].startswith(task_ids([arn])[0] + "-")


def test_target_in_service_then_draining_then_deregistered(cli, fast_stack):
    fast_stack.create_service(desired=1)
    [task] = fast_stack.tasks()
    address = [d["value"] for d in task["attachments"][0]["details"] if d["name"] == "privateIPv4Address"][0]
    target = "Id=%s,Port=%d" % (address, USERS_PORT)

    in_service = cli.wait("elbv2", "target-in-service", "--target-group-arn", fast_stack.target_group, "--targets", target)
    fast_stack.aws.set_time_scale(0)
    fast_stack.ecs.update_service(cluster=CLUSTER, service="users", desiredCount=0)
    [draining] = cli.aws_json("elbv2", "describe-target-health", "--target-group-arn", fast_stack.target_group,
                              "--targets", target)["TargetHealthDescriptions"]
    deregistered = cli.wait("elbv2", "target-deregistered", "--target-group-arn", fast_stack.target_group,
                            "--targets", target)

    assert in_service.returncode == 0, in_service.stderr
    assert draining["TargetHealth"] == {"State": "draining", "Reason": "Target.DeregistrationInProgress",
                                        "Description": "Target deregistration is in progress"}
    assert deregistered.returncode == 0, deregistered.stderr
    assert any("has begun draining connections on 1 tasks." in event for event in fast_stack.events())


def test_ecr_digest_and_size_as_describe_images_and_batch_get_image_answer(cli, fast_stack, tmp_path):
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1469,
                   "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size,
                    "digest": "sha256:%064x" % size} for size in (2_811_969, 25_165_824)]}, indent=3)
    path = tmp_path / "manifest.json"
    path.write_text(manifest)
    fast_stack.clients.ecr.create_repository(repositoryName="users")

    pushed = cli.aws_json("ecr", "put-image", "--repository-name", "users", "--image-tag", "1.2",
                          "--image-manifest", "file://%s" % path)
    [described] = cli.aws_json("ecr", "describe-images", "--repository-name", "users")["imageDetails"]
    [fetched] = fast_stack.clients.ecr.batch_get_image(repositoryName="users", imageIds=[{"imageTag": "1.2"}])["images"]

    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    assert pushed["image"]["imageId"]["imageDigest"] == digest
    assert described["imageDigest"] == digest
    assert described["imageSizeInBytes"] == 2_811_969 + 25_165_824
    assert fetched["imageManifest"] == manifest


def test_ecr_repositories_tags_as_the_tagging_api_answers_them(cli, fast_stack):
    """GetResources lists ECR repositories (ecr:repository) with the tags ECR's ListTagsForResource gives; one never
    tagged is not listed."""
    ecr = fast_stack.clients.ecr
    tags = [{"Key": "app", "Value": "shop"}, {"Key": "team", "Value": "web"}]
    users = ecr.create_repository(repositoryName="users", tags=tags)["repository"]["repositoryArn"]
    bare = ecr.create_repository(repositoryName="bare")["repository"]["repositoryArn"]
    ecr.untag_resource(resourceArn=users, tagKeys=["team"])

    by_arn = cli.aws_json("resourcegroupstaggingapi", "get-resources", "--resource-arn-list", users, bare)
    by_type = cli.aws_json("resourcegroupstaggingapi", "get-resources", "--resource-type-filters", "ecr:repository")
    own = cli.aws_json("ecr", "list-tags-for-resource", "--resource-arn", users)["tags"]

    assert own == [{"Key": "app", "Value": "shop"}]
    assert by_arn["ResourceTagMappingList"] == [{"ResourceARN": users, "Tags": own}]
    assert [r["ResourceARN"] for r in by_type["ResourceTagMappingList"]] == [users]


def test_metric_filters_one_per_name_counted_per_group_and_listed_a_page_at_a_time(cli, fast_stack):
    """PutMetricFilter creates or replaces the group's filter of that name; DescribeLogGroups counts each group's
    filters (metricFilterCount); DescribeMetricFilters lists at most ``limit`` (1 to 50) a call, one group's or, without
    logGroupName, the region's, with a nextToken while more remain (the CLI's --page-size walks them); a deleted group's
    filters are gone."""
    logs = fast_stack.clients.logs
    transform = [{"metricName": "errors", "metricNamespace": "shop", "metricValue": "1"}]
    for group in ("/ecs/shop/users", "/ecs/shop/client", "/ecs/shop/gone"):
        logs.create_log_group(logGroupName=group)
    for name, pattern in (("errors", "ERROR"), ("errors", "?ERROR ?FATAL"), ("warnings", "WARN")):
        logs.put_metric_filter(logGroupName="/ecs/shop/users", filterName=name, filterPattern=pattern,
                               metricTransformations=transform)
    for group in ("/ecs/shop/client", "/ecs/shop/gone"):
        logs.put_metric_filter(logGroupName=group, filterName="errors", filterPattern="ERROR", metricTransformations=transform)
    logs.delete_log_group(logGroupName="/ecs/shop/gone")

    groups = cli.aws_json("logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/shop/")["logGroups"]
    users = cli.aws_json("logs", "describe-metric-filters", "--log-group-name", "/ecs/shop/users")["metricFilters"]
    walked = cli.aws_json("logs", "describe-metric-filters", "--page-size", "1")["metricFilters"]
    limited = cli.aws_json("logs", "describe-metric-filters", "--max-items", "2", "--page-size", "1")
    first = logs.describe_metric_filters(limit=2)
    rest = logs.describe_metric_filters(limit=2, nextToken=first["nextToken"])
    refused = cli.aws("logs", "describe-metric-filters", "--limit", "51")

    assert {g["logGroupName"]: g["metricFilterCount"] for g in groups} == {"/ecs/shop/client": 1, "/ecs/shop/users": 2}
    assert sorted((f["filterName"], f["filterPattern"]) for f in users) == [("errors", "?ERROR ?FATAL"), ("warnings", "WARN")]
    assert sorted((f["logGroupName"], f["filterName"]) for f in walked) == [
        ("/ecs/shop/client", "errors"), ("/ecs/shop/users", "errors"), ("/ecs/shop/users", "warnings")]
    assert len(limited["metricFilters"]) == 2 and limited.get("NextToken")
    assert len(first["metricFilters"]) == 2 and len(rest["metricFilters"]) == 1 and "nextToken" not in rest
    assert refused.returncode != 0 and "InvalidParameterException" in refused.stderr
