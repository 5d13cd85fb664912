"""What app_plan tells deploy.yml it may skip, against moto in-process: a part is unchanged only when its owners'
planners (ecr_image_push's, the DNS record's, cloudwatch_stack's, ...) find nothing to do on the options the part
gives its modules. Drift that only an owner sees (a repository's lifecycle policy, a DNS record pointing elsewhere)
makes the part work, shown in the plan."""

import os
import sys

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from app_cases import local_env
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import Apis, EnvironmentPlanner
from ansible_collections.shipyard.ecs.plugins.module_utils._app.runner import skipped_line
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.batch import EcrBatchPush
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.spec import ARGUMENT_SPEC as ECR_PUSH_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.api import PlatformEc2Api, PlatformIamApi
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.spec import ARGUMENT_SPEC as PLATFORM_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.stack import PlatformStack

sys.path.insert(0, os.path.join(os.path.dirname(__file__), *[".."] * 5, "tools"))
import build_demo_images  # noqa: E402 pylint: disable=wrong-import-position,import-error

REGION = "us-east-1"
APP = {"format": 1, "name": "shop", "listeners": [{"port": 80, "default_service": "web"}],
       "services": {"web": {"container_port": 3000, "health_check": {"path": "/"}, "cpu": 256, "memory": 512, "desired_count": 1}}}


@pytest.fixture
def archive(tmp_path):
    path = str(tmp_path / "web.tar")
    with open(path, "wb") as handle:
        handle.write(build_demo_images.image_layout("web", 3000))
    with ImageArchive(path) as opened:
        return path, opened.manifest


def run(client, archive_path, **env_changes):
    env = dict(local_env(), env_services={"web": {"archive": archive_path}}, **env_changes)
    return EnvironmentPlanner(model.load(APP, env), Apis(client), REGION).run()


def repository_as_pushed(client, manifest):
    """The repository as ecr_image_push leaves it (its own run on the model's options), the image under the tag."""
    options = model.load(APP, dict(local_env(), env_services={"web": {"archive": "/unused.tar"}})).ecr_push()
    params = dict(options, repositories=[{"name": "shop/web"}])
    params.pop("image_tags")
    EcrBatchPush(ArgumentSpecValidator(ECR_PUSH_SPEC).validate(params).validated_parameters,
                 lambda: EcrApi(client("ecr"))).run()
    client("ecr").put_image(repositoryName="shop/web", imageManifest=manifest.data.decode(),
                            imageManifestMediaType=manifest.media_type, imageTag="local", imageDigest=manifest.digest)


def entries(outcome, resource):
    return [e for e in outcome["plan"] if e["resource"] == resource]


def test_a_new_account_has_work_in_every_part_and_nothing_is_skipped(client, archive):
    outcome = run(client, archive[0])
    assert outcome["unchanged"] == {"platform": False, "logging": False, "services": False}
    assert "create ecr_repository shop/web" in outcome["work"]["services"]
    assert skipped_line(outcome["unchanged"], outcome["unchanged_owners"]) == []
    # Every owner of the services part has work (without a domain there is no DNS record's owner); the options the role
    # renders once the repositories and the load balancer exist are not known yet.
    assert outcome["unchanged_owners"] == {"ecr_image_push": False, "alb_routes": False, "cloudwatch_load_balancer": False,
                                           "ecs_stack": False}
    assert outcome["options"] == {}
    assert outcome["context"]["target_health"] == {}


def test_the_last_line_names_the_parts_and_the_services_owners_not_run():
    owners = {"ecr_image_push": False, "alb_routes": True, "route53": True, "cloudwatch_load_balancer": False, "ecs_stack": True}
    assert skipped_line({"platform": True, "logging": True, "services": False}, owners) == [
        "unchanged, not run: platform, logging, in services: alb_routes, ecs_stack, route53"]
    assert skipped_line({"platform": False, "logging": True, "services": True}, owners) == ["unchanged, not run: logging, services"]
    assert skipped_line({"platform": False, "logging": False, "services": False}, dict.fromkeys(owners, False)) == []


def test_the_repository_s_settings_are_planned_by_ecr_image_push_s_planner(client, archive):
    path, manifest = archive
    repository_as_pushed(client, manifest)
    ecr = client("ecr")
    [repository] = entries(run(client, path), "ecr_repository")
    assert (repository["action"], repository.get("changes")) == ("unchanged", None)
    [image] = entries(run(client, path), "ecr_image")
    assert image["action"] == "unchanged"
    # Drift only ecr_image_push sees: the services part has work, and the plan says what.
    ecr.delete_lifecycle_policy(repositoryName="shop/web")
    ecr.put_image_scanning_configuration(repositoryName="shop/web", imageScanningConfiguration={"scanOnPush": False})
    outcome = run(client, path)
    [repository] = entries(outcome, "ecr_repository")
    assert repository["action"] == "update", repository
    assert any(change.startswith("lifecycle policy:") for change in repository["changes"]), repository
    assert any("scan_on_push" in change for change in repository["changes"]), repository
    assert "update ecr_repository shop/web" in outcome["work"]["services"]
    assert outcome["unchanged"]["services"] is False


def planner(client, **env_changes):
    env = dict(local_env(), env_services={"web": {"image": "nginx"}}, **env_changes)
    return EnvironmentPlanner(model.load(APP, env), Apis(client), REGION)


def test_the_domain_s_record_is_planned_against_the_load_balancer(client):
    route53 = client("route53")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="zone")["HostedZone"]["Id"].split("/")[-1]
    lb = {"dns_name": "Shop-Local-1.us-east-1.elb.amazonaws.com", "canonical_hosted_zone_id": "z35sxdotrq7x7k"}
    env = {"env_domain": "shop.example.com", "env_hosted_zone": "example.com"}

    def plan(load_balancer):
        found = planner(client, **env)
        found._dns_record(zone, load_balancer)  # pylint: disable=protected-access
        return found.entries

    # A load balancer still to create: the record is to create, to a name known after apply.
    assert [(e["name"], e["action"]) for e in plan({})] == [("shop.example.com.", "create")]
    assert plan(lb)[0]["changes"] == ["A alias to shop-local-1.us-east-1.elb.amazonaws.com."]

    def put(target, zone_id):
        route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": "shop.example.com.", "Type": "A",
            "AliasTarget": {"HostedZoneId": zone_id, "DNSName": target, "EvaluateTargetHealth": False}}}]})

    # As amazon.aws.route53 writes it (lower-case name with the final dot, the zone id in upper case): unchanged.
    put("shop-local-1.us-east-1.elb.amazonaws.com.", "Z35SXDOTRQ7X7K")
    assert [(e["action"], e.get("changes")) for e in plan(lb)] == [("unchanged", None)]
    # Pointing at another load balancer: an update that names both.
    put("other-2.us-east-1.elb.amazonaws.com.", "Z35SXDOTRQ7X7K")
    [record] = plan(lb)
    assert record["action"] == "update"
    assert record["changes"] == ["alias DNSName: other-2.us-east-1.elb.amazonaws.com. -> shop-local-1.us-east-1.elb.amazonaws.com."]


def platform_as_made(client, env):
    """The platform as the platform role leaves it: platform_stack and ecs_stack (the cluster) on the model's options; the
    roles' managed policies aside (moto in-process has no AWS managed policy to attach)."""
    definition = model.load(APP, env)
    options = ArgumentSpecValidator(PLATFORM_SPEC).validate(definition.platform_stack(REGION, "123456789012")).validated_parameters
    for role in options["roles"]:
        role["managed_policies"] = []
    PlatformStack(PlatformEc2Api(client("ec2")), PlatformIamApi(client("iam")), options).run()
    cluster = definition.cluster_settings()
    client("ecs").create_cluster(clusterName=cluster["name"], capacityProviders=cluster["capacity_providers"],
                                 defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
                                 settings=[{"name": "containerInsights", "value": cluster["container_insights"]}],
                                 tags=[{"key": k, "value": v} for k, v in sorted(cluster["tags"].items())])


def test_the_platform_part_is_unchanged_exactly_when_platform_stack_and_the_cluster_have_nothing_to_do(client, archive):
    env = dict(local_env(), env_services={"web": {"archive": archive[0]}})
    platform_as_made(client, env)
    outcome = EnvironmentPlanner(model.load(APP, env), Apis(client), REGION).run()
    # The roles' managed policies were left out above: the plan asks for them, nothing else.
    assert outcome["work"]["platform"] == ["update iam_role shop-local-task-execution"], outcome["work"]
    execution = [e for e in outcome["plan"] if e["name"] == "shop-local-task-execution"][0]
    assert execution["changes"] == ["managed_policies.arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy: - -> attached"]
    assert outcome["context"]["platform"]["vpc_id"].startswith("vpc-")
    assert outcome["context"]["platform"]["task_security_group_id"].startswith("sg-")
    # Drift of a route, a subnet's tag and the cluster's Container Insights is the platform's work too.
    ec2 = client("ec2")
    vpc = outcome["context"]["platform"]["vpc_id"]
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "tag:Name", "Values": ["shop-local-public"]}])
    ec2.delete_route(RouteTableId=table["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_tags(Resources=[outcome["context"]["platform"]["subnet_ids"][0]], Tags=[{"Key": "Environment"}])
    client("ecs").update_cluster(cluster="shop-local", settings=[{"name": "containerInsights", "value": "enabled"}])
    drifted = EnvironmentPlanner(model.load(APP, env), Apis(client), REGION).run()
    work = drifted["work"]["platform"]
    assert "update route_table shop-local-public" in work, work
    assert any(line.startswith("update subnet shop-local-public-") for line in work), work
    assert any("cluster" in line for line in work), work
    assert drifted["unchanged"]["platform"] is False
