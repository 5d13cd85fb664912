"""ecr_image_push with ``repositories`` against moto's ECR: batched reads, one plan, validation first."""

import hashlib
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi, EcrTaggingApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.batch import EcrBatchPush
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.promote import current_tags
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.repository import describe_repositories
from integration.archives import docker_save

SERVICES = ("users", "client", "worker")
MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
LIFECYCLE = [{"tag_status": "untagged", "expire_days": 1}, {"tag_status": "any", "keep_last": 30}]

DEFAULTS = {
    "name": None, "repositories": None, "manage_repository": True, "scan_on_push": None, "image_tag_mutability": None,
    "encryption_type": None, "kms_key": None, "lifecycle_rules": None, "lifecycle_policy": None,
    "repository_policy": None, "tags": None, "purge_tags": True, "image_tags": None, "archive": None,
    "archive_ref": None, "compress_layers": False, "docker_image": None, "promote_from": None, "mount_from": None,
    "registry_url": None, "registry_username": None, "registry_password": None, "validate_registry_certs": True,
    "parallel_uploads": 4, "chunk_size_mb": 64,
}


def manifest_text(size):
    return json.dumps({
        "schemaVersion": 2, "mediaType": MEDIA_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7, "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size,
                    "digest": "sha256:" + "d" * 64}]})


def digest_of(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class Env:
    """moto's ECR with one API wrapper per run, like one module invocation each."""

    def __init__(self):
        self.client = boto3.client("ecr", region_name="us-east-1")
        self.apis = []

    def api(self):
        api = EcrApi(self.client, retry=RetryPolicy(sleep=lambda s: None))
        self.apis.append(api)
        return api

    def run(self, check_mode=False, tagging=None, **params):
        factory = (lambda: EcrTaggingApi(tagging, retry=RetryPolicy(sleep=lambda s: None))) if tagging is not None else None
        return EcrBatchPush(dict(DEFAULTS, **params), self.api, check_mode=check_mode, tagging_factory=factory).run()

    def last_calls(self):
        return dict(self.apis[-1].calls) if self.apis else {}

    def write_calls(self):
        return {op: n for api in self.apis for op, n in api.write_calls.items()}

    def put(self, repo, tag, text):
        self.client.put_image(repositoryName=repo, imageManifest=text, imageTag=tag, imageDigest=digest_of(text),
                              imageManifestMediaType=MEDIA_TYPE)
        return digest_of(text)


@pytest.fixture
def env():
    with mock_aws():
        yield Env()


@pytest.fixture
def archives(tmp_path):
    return {name: docker_save(str(tmp_path / ("%s.tar" % name)), [{"app/%s.py" % name: b"print(1)\n"}],
                              repo_tags=["%s:1" % name]) for name in SERVICES}


def app_params(archives=None, **extra):
    params = {"image_tag_mutability": "IMMUTABLE", "scan_on_push": True, "lifecycle_rules": LIFECYCLE,
              "tags": {"application": "flask-microservices"}, "image_tags": ["production-1"],
              "repositories": [dict({"name": "app/%s" % name}, **({"archive": archives[name]} if archives else {}))
                               for name in SERVICES]}
    params.update(extra)
    return params


def seed_archives(env, archives, tag="production-1"):
    """The repositories and images a first run leaves (the registry push itself is an integration test)."""
    for name in SERVICES:
        env.client.create_repository(repositoryName="app/%s" % name, imageTagMutability="IMMUTABLE",
                                     imageScanningConfiguration={"scanOnPush": True},
                                     tags=[{"Key": "application", "Value": "flask-microservices"}])
        with ImageArchive(archives[name]) as archive:
            env.put("app/%s" % name, tag, archive.manifest.data.decode("utf-8"))
    env.run(**app_params())  # lifecycle policies
    env.apis.clear()


# batched reads ----------------------------------------------------------------------------------
def test_a_missing_repository_does_not_hide_the_others(env):
    for name in ("app/a", "app/c"):
        env.client.create_repository(repositoryName=name)
    api = env.api()
    found = describe_repositories(api, ["app/a", "app/b", "app/c", "app/d"])
    assert sorted(found) == ["app/a", "app/c"]
    # one call per missing name (AWS names it and fails the call), then the one that answers
    assert api.calls["describe_repositories"] == 3


def test_repositories_are_described_a_hundred_names_per_call(env):
    names = ["app/svc-%03d" % i for i in range(150)]
    for name in names:
        env.client.create_repository(repositoryName=name)
    api = env.api()
    assert len(describe_repositories(api, names)) == 150
    assert api.calls["describe_repositories"] == 2


def test_tags_at_one_digest_are_read_in_one_call(env):
    env.client.create_repository(repositoryName="app/users")
    digest = env.put("app/users", "v1", manifest_text(9))
    env.put("app/users", "production-1", manifest_text(9))
    api = env.api()
    assert current_tags(api, "app/users", ["v1", "production-1", "absent"]) == {
        "v1": digest, "production-1": digest, "absent": None}
    assert api.calls["batch_get_image"] == 1


def test_tags_at_different_digests_are_attributed_one_by_one(env):
    env.client.create_repository(repositoryName="app/users")
    first = env.put("app/users", "v1", manifest_text(9))
    second = env.put("app/users", "v2", manifest_text(10))
    env.put("app/users", "latest", manifest_text(10))
    api = env.api()
    assert current_tags(api, "app/users", ["v1", "v2", "latest"]) == {"v1": first, "v2": second, "latest": second}


# plans ------------------------------------------------------------------------------------------
def test_check_mode_on_an_empty_account_plans_every_repository_and_push(env, archives):
    result = env.run(check_mode=True, **app_params(archives))
    assert result.changed
    assert env.write_calls() == {}
    for name in SERVICES:
        entry = result.data["repositories"]["app/%s" % name]
        assert [(a["action"], a["kind"]) for a in entry["actions"]] == [
            ("create", "repository"), ("push", "image"), ("tag", "image")]
        with ImageArchive(archives[name]) as archive:
            assert entry["image_digest"] == archive.manifest.digest
        assert entry["repository_uri"].endswith("/app/%s" % name)
        assert entry["image_uri"] == "%s@%s" % (entry["repository_uri"], entry["image_digest"])
    assert len(result.plan.actions) == 9


def test_check_mode_diff_shows_each_repository(env, archives):
    result = env.run(check_mode=True, **app_params(archives))
    after = result.plan.diff()["after"]
    assert {"repository/app/%s" % name for name in SERVICES} <= set(after)
    assert after["repository/app/users"]["image_tag_mutability"] == "IMMUTABLE"


def test_no_op_reads_a_fixed_number_of_calls_per_repository_and_writes_nothing(env, archives):
    seed_archives(env, archives)
    result = env.run(**app_params(archives))
    assert not result.changed
    assert env.write_calls() == {}
    assert env.last_calls() == {"describe_repositories": 1, "get_lifecycle_policy": 3, "list_tags_for_resource": 3,
                                "batch_get_image": 3}
    users = result.data["repositories"]["app/users"]
    assert not users["changed"] and users["actions"] == []
    assert users["image_uri"] == "%s@%s" % (users["repository_uri"], users["image_digest"])


class TaggingClient:
    """The Resource Groups Tagging API over moto's ECR: each repository's tags as ECR has them, except those given in
    ``stale`` (what an eventually consistent answer still says); ``denied``: the role may not call it."""

    def __init__(self, ecr, stale=None, denied=False):
        self.ecr = ecr
        self.stale = stale or {}
        self.denied = denied
        self.asked = []

    def get_resources(self, ResourceARNList, ResourcesPerPage):  # pylint: disable=invalid-name
        self.asked.append(sorted(ResourceARNList))
        assert len(ResourceARNList) <= ResourcesPerPage <= 100
        if self.denied:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: "
                                         "tag:GetResources"}}, "GetResources")
        found = []
        for arn in ResourceARNList:
            name = arn.split(":repository/", 1)[1]
            tags = self.stale[name] if name in self.stale else self.ecr.list_tags_for_resource(resourceArn=arn)["tags"]
            if tags:
                found.append({"ResourceARN": arn, "Tags": tags})
        return {"ResourceTagMappingList": found, "PaginationToken": ""}


def test_no_op_reads_every_repositorys_tags_in_one_tagging_call(env, archives):
    seed_archives(env, archives)
    tagging = TaggingClient(env.client)
    result = env.run(tagging=tagging, **app_params(archives))
    assert not result.changed and env.write_calls() == {}
    assert [len(arns) for arns in tagging.asked] == [3]
    assert env.last_calls() == {"describe_repositories": 1, "get_lifecycle_policy": 3, "batch_get_image": 3}


def test_tags_the_tagging_api_has_not_caught_up_with_are_read_from_ecr(env, archives):
    seed_archives(env, archives)
    # The tagging API does not know client's tag yet: ECR's own answer decides, and nothing is planned.
    tagging = TaggingClient(env.client, stale={"app/client": []})
    result = env.run(check_mode=True, tagging=tagging, **app_params(archives))
    assert not result.changed
    assert env.last_calls()["list_tags_for_resource"] == 1
    # A tag really missing is planned, whichever answer came first.
    params = app_params(archives)
    params["repositories"][1]["tags"] = {"application": "flask-microservices", "team": "web"}
    result = env.run(check_mode=True, tagging=TaggingClient(env.client), **params)
    assert [a.name for a in result.plan.actions] == ["app/client"]
    assert env.last_calls()["list_tags_for_resource"] == 1


def test_a_role_without_tag_get_resources_has_each_repositorys_tags_read_from_ecr(env, archives):
    seed_archives(env, archives)
    result = env.run(tagging=TaggingClient(env.client, denied=True), **app_params(archives))
    assert not result.changed and env.write_calls() == {}
    assert env.last_calls()["list_tags_for_resource"] == 3


def test_only_the_repository_that_differs_is_planned(env, archives):
    seed_archives(env, archives)
    params = app_params(archives)
    params["repositories"][1]["tags"] = {"application": "flask-microservices", "team": "web"}
    result = env.run(check_mode=True, **params)
    assert [a.name for a in result.plan.actions] == ["app/client"]
    assert result.data["repositories"]["app/client"]["changed"]
    assert not result.data["repositories"]["app/users"]["changed"]


def test_element_settings_override_the_top_level_ones(env):
    client_policy = {"rules": [{"rulePriority": 1, "description": "keep 5", "action": {"type": "expire"},
                                "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}}]}
    params = app_params(repositories=[{"name": "app/users"}, {"name": "app/client", "image_tag_mutability": "MUTABLE",
                                                              "lifecycle_policy": client_policy}])
    params["image_tags"] = None
    env.run(**params)
    users = env.client.describe_repositories(repositoryNames=["app/users"])["repositories"][0]
    client = env.client.describe_repositories(repositoryNames=["app/client"])["repositories"][0]
    assert (users["imageTagMutability"], client["imageTagMutability"]) == ("IMMUTABLE", "MUTABLE")
    assert len(json.loads(env.client.get_lifecycle_policy(repositoryName="app/users")["lifecyclePolicyText"])["rules"]) == 2
    client_rules = json.loads(env.client.get_lifecycle_policy(repositoryName="app/client")["lifecyclePolicyText"])["rules"]
    assert [r["description"] for r in client_rules] == ["keep 5"]


def test_tags_without_a_source_report_the_image_they_point_at(env):
    env.client.create_repository(repositoryName="app/worker")
    digest = env.put("app/worker", "production-1", manifest_text(9))
    result = env.run(image_tags=["production-1"], repositories=[{"name": "app/worker"}, {"name": "app/users"}])
    worker, users = result.data["repositories"]["app/worker"], result.data["repositories"]["app/users"]
    assert worker["image_uri"] == "%s@%s" % (worker["repository_uri"], digest)
    assert users["image_digest"] is None and users["image_uri"] == users["repository_uri"] + ":production-1"
    assert [a.verb for a in result.plan.actions] == ["create"]


def test_promotion_per_element_then_no_op(env):
    env.client.create_repository(repositoryName="app/users")
    digest = env.put("app/users", "staging-1", manifest_text(9))
    params = {"image_tags": ["production-1"],
              "repositories": [{"name": "app/users", "promote_from": {"tag": "staging-1"}}]}
    first = env.run(**params)
    assert first.data["repositories"]["app/users"]["image_digest"] == digest
    # the source and the tags read, the tag written; the repository, unchanged, is not read again
    assert env.last_calls() == {"describe_repositories": 1, "batch_get_image": 2, "put_image": 1}
    env.apis.clear()
    assert not env.run(**params).changed
    assert env.write_calls() == {}


# validation -------------------------------------------------------------------------------------
def test_a_missing_archive_in_element_three_is_refused_before_any_call(env, archives):
    params = app_params(archives)
    params["repositories"][2]["archive"] = "/nonexistent/worker.tar"
    with pytest.raises(ValidationError) as err:
        env.run(**params)
    assert err.value.option == "repositories[2].archive"
    assert "/nonexistent/worker.tar" in err.value.msg
    assert env.last_calls() == {}
    assert env.client.describe_repositories()["repositories"] == []


def test_an_element_error_names_the_element_and_an_inherited_one_the_top_level_option(env):
    with pytest.raises(ValidationError) as err:
        env.run(repositories=[{"name": "app/users"}, {"name": "app/client", "kms_key": "alias/x"}])
    assert err.value.option == "repositories[1].kms_key"
    with pytest.raises(ValidationError) as err:
        env.run(lifecycle_rules=[{"tag_status": "tagged", "keep_last": 3}], repositories=[{"name": "app/users"}])
    assert err.value.option == "lifecycle_rules[0]"
    with pytest.raises(ValidationError) as err:
        env.run(repositories=[{"name": "app/users"}, {"name": "App/Client"}])
    assert err.value.option == "repositories[1].name"


def test_the_same_repository_twice_is_refused(env):
    with pytest.raises(ValidationError) as err:
        env.run(repositories=[{"name": "app/users"}, {"name": "app/users", "scan_on_push": True}])
    assert err.value.option == "repositories[1].name" and "repositories[0]" in err.value.reason


def test_an_immutable_conflict_in_one_element_writes_nothing_for_the_others(env):
    env.client.create_repository(repositoryName="app/client", imageTagMutability="IMMUTABLE")
    env.put("app/client", "staging-1", manifest_text(9))
    env.put("app/client", "production-1", manifest_text(10))
    with pytest.raises(ValidationError) as err:
        env.run(image_tags=["production-1"],
                repositories=[{"name": "app/users"}, {"name": "app/client", "promote_from": {"tag": "staging-1"}}])
    assert "immutable" in err.value.reason
    assert env.write_calls() == {}
    assert [r["repositoryName"] for r in env.client.describe_repositories()["repositories"]] == ["app/client"]


def test_registry_options_are_refused_with_repositories(env):
    with pytest.raises(ValidationError) as err:
        env.run(registry_url="http://127.0.0.1:5000", repositories=[{"name": "app/users"}])
    assert err.value.option == "registry_url"


def test_a_new_repository_is_predicted_on_the_registry_of_the_existing_ones(env):
    env.client.create_repository(repositoryName="app/users")
    result = env.run(check_mode=True, repositories=[{"name": "app/users"}, {"name": "app/client"}])
    users, client = result.data["repositories"]["app/users"], result.data["repositories"]["app/client"]
    assert client["repository_uri"] == users["repository_uri"].rsplit("/", 2)[0] + "/app/client"
    assert "get_authorization_token" not in env.last_calls()


def test_an_empty_archive_string_means_no_source(env):
    result = env.run(check_mode=True, repositories=[{"name": "app/users", "archive": ""}])
    assert [a.verb for a in result.plan.actions] == ["create"]
