"""ecr_image_push end to end: the v2 transport against a real registry (Debian's docker-registry),
repositories, promotion and image metadata against the emulated ECR API.

Every module run goes through ansible-playbook, as a user runs it.  Repository names are unique
per test, so one registry serves the whole module.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import Blob, ImageArchive, Location
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.push import ImagePusher
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.registry import RegistryClient, RegistryError
from integration.archives import docker_save, oci_multiarch
from integration.registry import PASSWORD, USERNAME, LocalRegistry

SKOPEO = "/usr/bin/skopeo"
LAYERS = [{"etc/os-release": b"ID=shipyard\n"}, {"app/users.py": b"print('users')\n"}, {"app/data.bin": 300_000}]


@pytest.fixture(scope="module")
def registry():
    reg = LocalRegistry().start()
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def private_registry():
    reg = LocalRegistry(basic_auth=True).start()
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture(scope="module")
def users_tar(tmp_path_factory):
    return docker_save(str(tmp_path_factory.mktemp("users") / "users.tar"), LAYERS, repo_tags=["users:1"])


@pytest.fixture
def repo():
    return "it/users-%s" % uuid.uuid4().hex[:8]


def skopeo_raw(registry, repo, tag):
    """The manifest as an independent client reads it back."""
    out = subprocess.run([SKOPEO, "inspect", "--raw", "--tls-verify=false", "docker://%s/%s:%s" % (registry.host, repo, tag)],
                         capture_output=True, check=True, timeout=60)
    return out.stdout


def push_args(registry, repo, archive, image_tags, **extra):
    args = {"name": repo, "manage_repository": False, "registry_url": registry.url, "archive": archive,
            "image_tags": image_tags}
    args.update(extra)
    return args


# transport: real registry ---------------------------------------------------------------------
def test_archive_push_uploads_every_layer_and_the_registry_serves_the_digest(run_module, registry, users_tar, repo):
    res = run_module("ecr_image_push", push_args(registry, repo, users_tar, ["production-3f2c1ab"]))
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    assert (res["layers_uploaded"], res["layers_skipped"]) == (3, 0)
    raw = skopeo_raw(registry, repo, "production-3f2c1ab")
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == res["digest"]
    assert res["image_uri"] == "%s/%s@%s" % (registry.host, repo, res["digest"])
    assert res["image_uris"] == {"production-3f2c1ab": "%s/%s:production-3f2c1ab" % (registry.host, repo)}


def test_second_push_of_the_same_archive_changes_nothing_and_sends_no_bytes(run_module, registry, users_tar, repo):
    run_module("ecr_image_push", push_args(registry, repo, users_tar, ["v1"]))
    res = run_module("ecr_image_push", push_args(registry, repo, users_tar, ["v1"]))
    assert not res["changed"]
    assert (res["layers_uploaded"], res["layers_skipped"], res["bytes_sent"]) == (0, 3, 0)
    assert res["calls"]["registry"]["write"] == 0


def test_new_tag_for_a_pushed_image_moves_no_layer(run_module, registry, users_tar, repo):
    run_module("ecr_image_push", push_args(registry, repo, users_tar, ["staging-1"]))
    res = run_module("ecr_image_push", push_args(registry, repo, users_tar, ["staging-1", "production-1"]))
    assert res["changed"]
    assert [(a["action"], a["name"].rsplit(":", 1)[1]) for a in res["plan"]] == [("tag", "production-1")]
    assert res["bytes_sent"] == 0
    assert json.loads(skopeo_raw(registry, repo, "production-1"))["layers"]


def test_compressed_push_stores_gzip_layers_and_repeats_as_a_no_op(run_module, registry, users_tar, repo):
    args = push_args(registry, repo, users_tar, ["v1"], compress_layers=True)
    first = run_module("ecr_image_push", args)
    manifest = json.loads(skopeo_raw(registry, repo, "v1"))
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}
    with ImageArchive(users_tar) as plain:
        assert first["bytes_sent"] < sum(b.size for b in plain.manifest.blobs)
    second = run_module("ecr_image_push", args)
    assert not second["changed"] and second["bytes_sent"] == 0


def test_check_mode_push_reports_the_plan_and_pushes_nothing(run_module, registry, users_tar, repo):
    res = run_module("ecr_image_push", push_args(registry, repo, users_tar, ["v1"]), check=True, diff=True)
    assert res["changed"]
    assert [a["action"] for a in res["plan"]] == ["push", "tag"]
    assert res["diff"]["after"]["image/%s/%s:v1" % (registry.host, repo)] == res["digest"]
    assert res["bytes_sent"] == 0
    assert res["calls"]["registry"]["write"] == 0
    client = RegistryClient(registry.url)
    assert client.manifest_digest(repo, "v1") is None


def test_multiarch_oci_index_is_pushed_with_every_platform(run_module, registry, repo, tmp_path):
    archive = oci_multiarch(str(tmp_path / "oci"), architectures=("amd64", "arm64"), tar_path=str(tmp_path / "client.tar"))
    res = run_module("ecr_image_push", push_args(registry, repo, archive, ["v2"]))
    assert not res.get("failed"), res.get("msg")
    assert res["platforms"] == ["linux/amd64", "linux/arm64"]
    index = json.loads(skopeo_raw(registry, repo, "v2"))
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    client = RegistryClient(registry.url)
    for entry in index["manifests"]:
        assert client.manifest_digest(repo, entry["digest"]) == entry["digest"]


def test_layers_are_mounted_from_another_repository_instead_of_uploaded(run_module, registry, users_tar, repo):
    run_module("ecr_image_push", push_args(registry, repo, users_tar, ["v1"]))
    res = run_module("ecr_image_push", push_args(registry, repo + "-prod", users_tar, ["v1"], mount_from=[repo]))
    assert res["changed"]
    assert (res["layers_mounted"], res["layers_uploaded"]) == (3, 0)
    assert res["bytes_sent"] < 2000  # only the config blob travels


def test_push_with_basic_auth_credentials_succeeds(private_registry, users_tar, repo):
    client = RegistryClient(private_registry.url, USERNAME, PASSWORD)
    with ImageArchive(users_tar) as archive:
        pusher = ImagePusher(client, repo)
        stats = pusher.push(archive.manifest, ["v1"], pusher.survey(archive.manifest))
        assert stats.layers_uploaded == 3
        assert client.manifest_digest(repo, "v1") == archive.manifest.digest


def test_push_without_credentials_to_a_private_registry_fails_naming_the_options(
        run_module, private_registry, users_tar, repo):
    res = run_module("ecr_image_push", push_args(private_registry, repo, users_tar, ["v1"]))
    assert res["failed"]
    assert "HTTP 401" in res["msg"] and "registry_username" in res["msg"]


def test_chunked_upload_reassembles_the_exact_blob(registry, tmp_path, repo):
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(300_000))
    data = path.read_bytes()
    blob = Blob("sha256:" + hashlib.sha256(data).hexdigest(), len(data), "application/octet-stream",
                Location(str(path), 0, len(data)))
    client = RegistryClient(registry.url, chunk_size=64 * 1024)
    assert client.upload_blob(repo, blob) == len(data)
    status, _headers, body = client.request("GET", "/v2/%s/blobs/%s" % (repo, blob.digest))
    assert status == 200 and body == data


def test_blob_whose_bytes_do_not_match_its_digest_is_not_committed(registry, tmp_path, repo):
    path = tmp_path / "blob"
    path.write_bytes(b"corrupted layer")
    claimed = "sha256:" + hashlib.sha256(b"original layer").hexdigest()
    client = RegistryClient(registry.url)
    with pytest.raises(RegistryError) as err:
        client.upload_blob(repo, Blob(claimed, 15, "application/octet-stream", Location(str(path), 0, 15)))
    assert "hash to" in str(err.value)
    assert not client.blob_exists(repo, claimed)


# repositories, promotion, metadata: emulated ECR ---------------------------------------------------
def test_repository_created_with_settings_then_second_run_writes_nothing(aws, run_module, registry, users_tar, repo):
    args = push_args(registry, repo, users_tar, ["production-1"], manage_repository=True, scan_on_push=True,
                     image_tag_mutability="IMMUTABLE",
                     lifecycle_rules=[{"tag_prefixes": ["production-"], "keep_last": 10},
                                      {"tag_status": "untagged", "expire_days": 7}],
                     repository_policy={"Version": "2012-10-17", "Statement": [
                         {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": "111122223333"},
                          "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]},
                     tags={"app": "flask-microservices"})
    first = run_module("ecr_image_push", args)
    assert not first.get("failed"), first.get("msg")
    assert [a["kind"] for a in first["plan"]] == ["repository", "image", "image"]
    assert first["repository"]["image_tag_mutability"] == "IMMUTABLE"
    aws.clear_calls()
    second = run_module("ecr_image_push", args)
    assert not second["changed"]
    assert aws.write_calls() == []
    assert second["bytes_sent"] == 0


def test_repository_check_mode_makes_no_write_call(aws, run_module, repo):
    res = run_module("ecr_image_push", {"name": repo, "scan_on_push": True}, check=True)
    assert res["changed"]
    assert aws.write_calls() == []
    assert res["repository"]["scan_on_push"] is True


def test_changing_encryption_of_an_existing_repository_fails_clearly(boto3_client, run_module, repo):
    boto3_client("ecr").create_repository(repositoryName=repo)
    res = run_module("ecr_image_push", {"name": repo, "encryption_type": "KMS"})
    assert res["failed"]
    assert "encryption_type='KMS'" in res["msg"] and "cannot change" in res["msg"]


def seed_image(ecr, repo, tag, size=1234):
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7, "digest": "sha256:" + "c" * 64},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": size,
                    "digest": "sha256:" + "d" * 64}]})
    digest = "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()
    ecr.put_image(repositoryName=repo, imageManifest=manifest, imageTag=tag, imageDigest=digest,
                  imageManifestMediaType="application/vnd.docker.distribution.manifest.v2+json")
    return digest


def test_promotion_tags_the_staging_digest_then_is_a_no_op(aws, boto3_client, run_module, repo):
    ecr = boto3_client("ecr")
    ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    digest = seed_image(ecr, repo, "staging-3f2c1ab")
    args = {"name": repo, "promote_from": {"tag": "staging-3f2c1ab"}, "image_tags": ["production-3f2c1ab"]}
    first = run_module("ecr_image_push", args)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] and first["digest"] == digest
    assert first["image_details"]["tags"] == ["production-3f2c1ab", "staging-3f2c1ab"]
    got = ecr.batch_get_image(repositoryName=repo, imageIds=[{"imageTag": "production-3f2c1ab"}])["images"]
    assert got[0]["imageId"]["imageDigest"] == digest
    aws.clear_calls()
    second = run_module("ecr_image_push", args)
    assert not second["changed"]
    assert aws.write_calls() == []


def test_promotion_onto_an_immutable_tag_at_another_digest_fails_without_writing(aws, boto3_client, run_module, repo):
    ecr = boto3_client("ecr")
    ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    old = seed_image(ecr, repo, "production-1")
    seed_image(ecr, repo, "staging-2", size=999)
    aws.clear_calls()
    res = run_module("ecr_image_push", {"name": repo, "promote_from": {"tag": "staging-2"}, "image_tags": ["production-1"]})
    assert res["failed"]
    assert "immutable" in res["msg"] and old in res["msg"]
    assert aws.write_calls() == []


def test_unreachable_docker_daemon_fails_with_a_clear_message(run_module, registry, repo, tmp_path):
    res = run_module("ecr_image_push", {"name": repo, "manage_repository": False, "registry_url": registry.url,
                                        "docker_image": "users:1", "image_tags": ["v1"]},
                     env={"DOCKER_HOST": "unix://%s/docker.sock" % tmp_path})
    assert res["failed"]
    assert "no Docker daemon is reachable" in res["msg"]


# repositories: every service's repository and image in one run ------------------------------------
SERVICES = ("users", "client", "worker")


@pytest.fixture(scope="module")
def service_archives(tmp_path_factory):
    """One small image per service: two docker save tarballs and a multi-arch OCI layout."""
    root = tmp_path_factory.mktemp("services")
    return {
        "users": docker_save(str(root / "users.tar"), [{"app/users.py": b"print('users')\n"}], repo_tags=["users:1"]),
        "client": oci_multiarch(str(root / "client-oci"), architectures=("amd64", "arm64")),
        "worker": docker_save(str(root / "worker.tar"), [{"app/worker.py": b"print('worker')\n"}], repo_tags=["worker:1"]),
    }


def application_args(archives, prefix, tag="production-1"):
    return {
        "image_tag_mutability": "IMMUTABLE", "scan_on_push": True,
        "lifecycle_rules": [{"tag_status": "untagged", "expire_days": 1}, {"tag_status": "any", "keep_last": 30}],
        "tags": {"application": "flask-microservices"}, "image_tags": [tag],
        "repositories": [{"name": "%s/%s" % (prefix, name), "archive": archives[name]} for name in SERVICES],
    }


def calls_by_operation(aws):
    out = {}
    for call in aws.calls():
        out[call["operation"]] = out.get(call["operation"], 0) + 1
    return out


@pytest.fixture
def prefix():
    return "it-%s" % uuid.uuid4().hex[:8]


def test_one_run_creates_every_repository_and_pushes_every_image(aws, boto3_client, run_module, service_archives, prefix):
    res = run_module("ecr_image_push", application_args(service_archives, prefix))
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    ecr = boto3_client("ecr")
    for name in SERVICES:
        entry = res["repositories"]["%s/%s" % (prefix, name)]
        assert entry["changed"]
        assert [(a["action"], a["kind"]) for a in entry["actions"]] == [
            ("create", "repository"), ("push", "image"), ("tag", "image")]
        images = ecr.batch_get_image(repositoryName="%s/%s" % (prefix, name), imageIds=[{"imageTag": "production-1"}],
                                     acceptedMediaTypes=["application/vnd.oci.image.index.v1+json",
                                                         "application/vnd.docker.distribution.manifest.v2+json"])["images"]
        assert images[0]["imageId"]["imageDigest"] == entry["image_digest"]
        assert entry["image_uri"] == "%s@%s" % (entry["repository_uri"], entry["image_digest"])
        repo = ecr.describe_repositories(repositoryNames=["%s/%s" % (prefix, name)])["repositories"][0]
        assert entry["repository_uri"] == repo["repositoryUri"]
        assert repo["imageTagMutability"] == "IMMUTABLE"


def test_second_run_of_three_repositories_reads_little_and_writes_nothing(aws, run_module, service_archives, prefix):
    args = application_args(service_archives, prefix)
    first = run_module("ecr_image_push", args)
    assert not first.get("failed"), first.get("msg")
    aws.clear_calls()
    second = run_module("ecr_image_push", args, diff=True)
    assert not second["changed"]
    assert aws.write_calls() == []
    # One describe for every repository, and one tagging read for their tags; per repository, what ECR reads only one
    # repository at a time.
    assert calls_by_operation(aws) == {"DescribeRepositories": 1, "GetLifecyclePolicy": 3, "GetResources": 1,
                                       "BatchGetImage": 3}
    for name in SERVICES:
        entry = second["repositories"]["%s/%s" % (prefix, name)]
        assert (entry["changed"], entry["actions"]) == (False, [])
        assert entry["image_uri"] == first["repositories"]["%s/%s" % (prefix, name)]["image_uri"]
        assert entry["bytes_sent"] == 0


def test_check_mode_on_an_empty_account_plans_every_repository_and_push(aws, run_module, service_archives, prefix):
    res = run_module("ecr_image_push", application_args(service_archives, prefix), check=True, diff=True)
    assert not res.get("failed"), res.get("msg")
    assert res["changed"]
    assert aws.write_calls() == []
    assert [a["action"] for a in res["plan"]] == ["create", "push", "tag"] * 3
    for name in SERVICES:
        repository = "%s/%s" % (prefix, name)
        entry = res["repositories"][repository]
        assert entry["image_uri"] == "%s@%s" % (entry["repository_uri"], entry["image_digest"])
        assert res["diff"]["after"]["repository/%s" % repository]["scan_on_push"] is True
    assert res["repositories"]["%s/client" % prefix]["image_digest"].startswith("sha256:")


def test_a_bad_third_element_is_refused_before_anything_is_written(aws, boto3_client, run_module, service_archives,
                                                                   prefix):
    args = application_args(service_archives, prefix)
    args["repositories"][2]["archive"] = "/nonexistent/worker.tar"
    aws.clear_calls()
    res = run_module("ecr_image_push", args)
    assert res["failed"]
    assert "repositories[2].archive='/nonexistent/worker.tar'" in res["msg"]
    assert aws.write_calls() == []
    assert boto3_client("ecr").describe_repositories()["repositories"] == []


def test_push_to_ecr_converges_through_throttling_and_5xx_of_the_registry(aws, run_module, users_tar, repo):
    # Registry calls (layer uploads in chunks, manifests) fail like the AWS APIs: they are retried with backoff.
    aws.inject_fault("ecr", "*", throttle_rate=0.2, error_rate=0.2, seed=11)

    result = run_module("ecr_image_push", {"name": repo, "archive": users_tar, "image_tags": ["v1"]})

    assert result["_rc"] == 0 and not result.get("failed"), result.get("msg")
    assert result["changed"] and result["image_uri"].endswith("@" + result["digest"])
    assert len([c for c in aws.calls() if c["status"] >= 400]) > 3, "the faults were not exercised"
