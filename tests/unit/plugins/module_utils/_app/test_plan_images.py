"""The plan of an image given as an archive, against moto in-process: the services run the archive's image
(ecr_image_push moves the tag to it), whatever the tag names in ECR now; --check shows exactly that."""

import os
import sys

import pytest

from app_cases import local_env
from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.plan import Apis, EnvironmentPlanner
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive

sys.path.insert(0, os.path.join(os.path.dirname(__file__), *[".."] * 5, "tools"))
import build_demo_images  # noqa: E402 pylint: disable=wrong-import-position,import-error

REGION = "us-east-1"
APP = {"format": 1, "name": "shop", "listeners": [{"port": 80, "default_service": "web"}],
       "services": {"web": {"container_port": 3000, "health_check": {"path": "/"}, "cpu": 256, "memory": 512, "desired_count": 1}}}


@pytest.fixture
def archives(tmp_path):
    """Two archives of different images, and their digests as ecr_image_push pushes them."""
    out = {}
    for version in ("v1", "v2"):
        path = str(tmp_path / ("web-%s.tar" % version))
        with open(path, "wb") as handle:
            handle.write(build_demo_images.image_layout("web-%s" % version, 3000))
        with ImageArchive(path) as archive:
            out[version] = (path, archive.manifest)
    return out


def plan(client, archive_path, **env_changes):
    env = dict(local_env(), env_services={"web": {"archive": archive_path}}, **env_changes)
    outcome = EnvironmentPlanner(model.load(APP, env), Apis(client), REGION).run()
    images = [e for e in outcome["plan"] if e["resource"] == "ecr_image"]
    assert len(images) == 1, outcome["plan"]
    return images[0], outcome["context"]["images"]


def push(client, manifest, tag="local"):
    """The image under ``tag``, with the digest AWS gives it (the manifest's sha256; moto computes another unless told)."""
    client("ecr").put_image(repositoryName="shop/web", imageManifest=manifest.data.decode(), imageManifestMediaType=manifest.media_type,
                            imageTag=tag, imageDigest=manifest.digest)


def test_the_tag_naming_another_image_is_moved_and_the_services_are_planned_on_the_archive_s_image(client, archives):
    client("ecr").create_repository(repositoryName="shop/web")
    push(client, archives["v1"][1])
    path, manifest = archives["v2"]
    image, images = plan(client, path)
    assert (image["name"], image["action"]) == ("shop/web:local", "update")
    assert image["changes"] == ["push %s; tag: %s -> %s" % (path, archives["v1"][1].digest, manifest.digest)]
    # Before: the tag's current digest was pinned, and --check said the service's revision was unchanged.
    assert list(images.values()) == ["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@" + manifest.digest]


def test_the_tag_already_naming_the_archive_s_image_is_unchanged(client, archives):
    client("ecr").create_repository(repositoryName="shop/web")
    path, manifest = archives["v1"]
    push(client, manifest)
    image, images = plan(client, path)
    assert (image["action"], image["changes"]) == ("unchanged", ["%s: %s" % (path, manifest.digest)])
    assert list(images.values()) == ["123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/web@" + manifest.digest]


def test_a_new_tag_is_planned_as_a_push_of_the_archive_s_image(client, archives):
    client("ecr").create_repository(repositoryName="shop/web")
    push(client, archives["v1"][1], tag="older")
    path, manifest = archives["v2"]
    image, images = plan(client, path)
    assert (image["action"], image["changes"]) == ("create", ["push %s (%s)" % (path, manifest.digest)])
    assert list(images.values())[0].endswith("@" + manifest.digest)


def test_without_the_repository_yet_the_push_is_planned_and_no_image_pinned(client, archives):
    path, manifest = archives["v1"]
    image, images = plan(client, path)
    assert (image["action"], image["changes"]) == ("create", ["push %s (%s)" % (path, manifest.digest)])
    assert images == {}


def test_an_immutable_tag_naming_another_image_is_refused_before_anything_is_written(client, archives):
    client("ecr").create_repository(repositoryName="shop/web", imageTagMutability="IMMUTABLE")
    push(client, archives["v1"][1])
    path, manifest = archives["v2"]
    with pytest.raises(ValidationError) as refused:
        plan(client, path, env_image_tag_mutability="IMMUTABLE")
    assert "env_services.web.archive" in str(refused.value) and path in str(refused.value), str(refused.value)
    assert "immutable tags and local already points at %s" % archives["v1"][1].digest in str(refused.value)
    # The same image under the immutable tag: nothing to push, nothing refused.
    image, _images = plan(client, archives["v1"][0], env_image_tag_mutability="IMMUTABLE")
    assert image["action"] == "unchanged"
    assert manifest.digest != archives["v1"][1].digest
