"""The whole run against moto's ECR: repository-only runs, promotion, check mode, failure paths."""

import hashlib
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ShipyardError, ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.api import EcrApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.runner import EcrImagePush

REPO = "flask-microservices/users"
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7,
               "digest": "sha256:" + "c" * 64},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 9,
                "digest": "sha256:" + "d" * 64}],
}, indent=3)
DIGEST = "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()
OTHER = MANIFEST.replace('"size": 9', '"size": 10')
OTHER_DIGEST = "sha256:" + hashlib.sha256(OTHER.encode()).hexdigest()

DEFAULTS = {
    "name": REPO, "manage_repository": True, "scan_on_push": None, "image_tag_mutability": None,
    "encryption_type": None, "kms_key": None, "lifecycle_rules": None, "lifecycle_policy": None,
    "repository_policy": None, "tags": None, "purge_tags": True, "image_tags": None, "archive": None,
    "archive_ref": None, "compress_layers": False, "docker_image": None, "promote_from": None, "mount_from": None, "registry_url": None,
    "registry_username": None, "registry_password": None, "validate_registry_certs": True,
    "parallel_uploads": 4, "chunk_size_mb": 64,
}


class Env:
    """moto's ECR with one API wrapper per run, like one module invocation each."""

    def __init__(self):
        self.client = boto3.client("ecr", region_name="us-east-1")
        self.apis = []

    def run(self, check_mode=False, **params):
        def factory():
            api = EcrApi(self.client, retry=RetryPolicy(sleep=lambda s: None))
            self.apis.append(api)
            return api
        return EcrImagePush(dict(DEFAULTS, **params), factory, check_mode=check_mode).run()

    def write_calls(self):
        return {op: n for api in self.apis for op, n in api.write_calls.items()}

    def seed_image(self, tag, manifest=MANIFEST, mutability="MUTABLE"):
        try:
            self.client.create_repository(repositoryName=REPO, imageTagMutability=mutability)
        except self.client.exceptions.RepositoryAlreadyExistsException:
            pass
        digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
        self.client.put_image(repositoryName=REPO, imageManifest=manifest, imageTag=tag, imageDigest=digest,
                              imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")

    def digest_of(self, tag):
        images = self.client.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": tag}])["images"]
        return images[0]["imageId"]["imageDigest"] if images else None


@pytest.fixture
def env():
    with mock_aws():
        yield Env()


def test_check_mode_reports_the_create_and_writes_nothing(env):
    result = env.run(check_mode=True, image_tag_mutability="IMMUTABLE")
    assert result.changed
    assert result.plan.to_list()[0]["action"] == "create"
    assert result.data["repository"]["image_tag_mutability"] == "IMMUTABLE"
    assert env.write_calls() == {}
    assert env.client.describe_repositories()["repositories"] == []


def test_repository_run_returns_its_uri(env):
    result = env.run(scan_on_push=True)
    assert result.data["repository_uri"].endswith(".amazonaws.com/" + REPO)
    assert result.data["repository"]["scan_on_push"] is True


def test_second_repository_run_is_unchanged_without_writes(env):
    env.run(scan_on_push=True, tags={"app": "users"})
    env.apis.clear()
    result = env.run(scan_on_push=True, tags={"app": "users"})
    assert not result.changed
    assert env.write_calls() == {}


def test_promotion_by_tag_points_the_new_tag_at_the_same_digest(env):
    env.seed_image("staging-3f2c1ab")
    result = env.run(promote_from={"tag": "staging-3f2c1ab"}, image_tags=["production-3f2c1ab"])
    assert result.changed
    assert env.digest_of("production-3f2c1ab") == DIGEST
    assert result.data["image_uri"].endswith("/%s@%s" % (REPO, DIGEST))
    assert result.data["image_uris"]["production-3f2c1ab"].endswith("/%s:production-3f2c1ab" % REPO)


def test_promotion_by_digest_works_the_same(env):
    env.seed_image("staging-3f2c1ab")
    env.run(promote_from={"digest": DIGEST}, image_tags=["production-3f2c1ab"])
    assert env.digest_of("production-3f2c1ab") == DIGEST


def test_promotion_again_is_unchanged_without_writes(env):
    env.seed_image("staging-3f2c1ab")
    env.run(promote_from={"tag": "staging-3f2c1ab"}, image_tags=["production-3f2c1ab"])
    env.apis.clear()
    result = env.run(promote_from={"tag": "staging-3f2c1ab"}, image_tags=["production-3f2c1ab"])
    assert not result.changed
    assert env.write_calls() == {}


def test_promotion_in_check_mode_plans_the_tag_and_writes_nothing(env):
    env.seed_image("staging-3f2c1ab")
    result = env.run(check_mode=True, promote_from={"tag": "staging-3f2c1ab"}, image_tags=["production-3f2c1ab"])
    assert [a["action"] for a in result.plan.to_list()] == ["tag"]
    assert env.write_calls() == {}
    assert env.digest_of("production-3f2c1ab") is None


def test_immutable_tag_at_the_same_digest_is_a_no_op(env):
    env.seed_image("production-1", mutability="IMMUTABLE")
    env.seed_image("staging-1", mutability="IMMUTABLE")
    result = env.run(image_tag_mutability="IMMUTABLE", promote_from={"tag": "staging-1"}, image_tags=["production-1"])
    assert not result.changed


def test_immutable_tag_at_another_digest_fails_before_any_write(env):
    env.seed_image("production-1", mutability="IMMUTABLE")
    env.seed_image("staging-2", manifest=OTHER, mutability="IMMUTABLE")
    env.apis.clear()
    with pytest.raises(ValidationError) as err:
        env.run(promote_from={"tag": "staging-2"}, image_tags=["production-1"])
    assert "immutable" in str(err.value)
    assert OTHER_DIGEST in str(err.value)
    assert env.write_calls() == {}
    assert env.digest_of("production-1") == DIGEST


def test_promotion_of_a_missing_image_names_the_option(env):
    env.seed_image("staging-1")
    with pytest.raises(ValidationError) as err:
        env.run(promote_from={"tag": "staging-9"}, image_tags=["production-9"])
    assert str(err.value).startswith("promote_from=")


def test_tags_without_a_source_are_refused_before_any_call(env):
    with pytest.raises(ValidationError) as err:
        env.run(image_tags=["v1"])
    assert "image_tags" in str(err.value)
    assert env.apis == []


def test_source_without_tags_is_refused(env):
    with pytest.raises(ValidationError) as err:
        env.run(promote_from={"tag": "x"})
    assert "image_tags" in str(err.value)


def test_small_chunk_size_is_refused_naming_the_option(env):
    with pytest.raises(ValidationError) as err:
        env.run(chunk_size_mb=1)
    assert str(err.value).startswith("chunk_size_mb=1")


def test_unreachable_docker_daemon_is_a_clear_error(env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", "unix://%s/no-docker.sock" % tmp_path)
    env.client.create_repository(repositoryName=REPO)
    env.apis.clear()
    with pytest.raises(ShipyardError) as err:
        env.run(docker_image="users:latest", image_tags=["v1"], registry_url="http://127.0.0.1:9")
    assert "no Docker daemon is reachable" in str(err.value)
    assert "no-docker.sock" in str(err.value)
    assert env.write_calls() == {}


def test_ecr_registry_is_reached_with_the_authorization_token_as_basic_auth(env):
    token = env.client.get_authorization_token()["authorizationData"][0]
    runner = EcrImagePush(dict(DEFAULTS), lambda: EcrApi(env.client))
    registry = runner._registry()  # pylint: disable=protected-access
    assert "https://" + registry.host == token["proxyEndpoint"]
    assert registry._auth == "Basic " + token["authorizationToken"]  # pylint: disable=protected-access


def test_repository_uri_for_a_repository_to_be_created_is_on_the_account_registry(env):
    result = env.run(check_mode=True)
    endpoint = env.client.get_authorization_token()["authorizationData"][0]["proxyEndpoint"]
    assert result.data["repository_uri"] == endpoint.replace("https://", "") + "/" + REPO


def test_repository_created_by_the_run_returns_the_uri_ecr_records(env, monkeypatch):
    # The registry that the authorization token names need not be the repository URI's host.
    token = env.client.get_authorization_token()
    token["authorizationData"][0]["proxyEndpoint"] = "https://registry.example:5000"
    monkeypatch.setattr(env.client, "get_authorization_token", lambda **kwargs: token)

    result = env.run()

    uri = env.client.describe_repositories(repositoryNames=[REPO])["repositories"][0]["repositoryUri"]
    assert result.data["repository_uri"] == uri


def test_promotion_into_another_repository_copies_the_manifest_bytes(env):
    env.seed_image("staging-1")
    env.client.create_repository(repositoryName="flask-microservices/users-prod")
    result = env.run(name="flask-microservices/users-prod",
                     promote_from={"repository": REPO, "tag": "staging-1"}, image_tags=["production-1"])
    assert result.changed
    got = env.client.batch_get_image(repositoryName="flask-microservices/users-prod",
                                     imageIds=[{"imageTag": "production-1"}])["images"][0]
    assert got["imageManifest"] == MANIFEST
    assert got["imageId"]["imageDigest"] == DIGEST


class LayersMissingClient:
    """ECR as AWS answers put_image into a repository that lacks the image's layers."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def put_image(self, **kwargs):
        raise ClientError({"Error": {"Code": "LayersNotFoundException", "Message": "layers not found"}}, "PutImage")


def test_promotion_into_a_repository_without_the_layers_says_what_to_do(env):
    env.seed_image("staging-1")
    env.client.create_repository(repositoryName="flask-microservices/users-prod")
    client = LayersMissingClient(env.client)
    runner = EcrImagePush(dict(DEFAULTS, name="flask-microservices/users-prod",
                               promote_from={"repository": REPO, "tag": "staging-1"}, image_tags=["production-1"]),
                          lambda: EcrApi(client, retry=RetryPolicy(sleep=lambda s: None)))
    with pytest.raises(ShipyardError) as err:
        runner.run()
    assert "lacks its layers" in str(err.value)
    assert err.value.code == "LayersNotFoundException"


def test_promotion_returns_ecr_record_with_every_tag_of_the_image(env):
    env.seed_image("staging-1")
    result = env.run(promote_from={"tag": "staging-1"}, image_tags=["production-1"])
    assert result.data["image_details"]["tags"] == ["production-1", "staging-1"]
