"""The Docker daemon source: docker save through the SDK, and clear errors when it cannot."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._ecr import docker_source
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.archive import ImageArchive
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.docker_source import DockerDaemonError, save_image
from integration.archives import docker_save


class FakeImage:
    def __init__(self, tarball):
        self.tarball = tarball

    def save(self, named=False):
        assert named, "docker save must keep the image's names (RepoTags)"
        with open(self.tarball, "rb") as f:
            while True:
                block = f.read(4096)
                if not block:
                    return
                yield block


class FakeImages:
    def __init__(self, images):
        self.images = images

    def get(self, ref):
        if ref not in self.images:
            raise docker_source.ImageNotFound("no such image: %s" % ref)
        return self.images[ref]


class FakeClient:
    def __init__(self, images):
        self.images = FakeImages(images)
        self.closed = False

    def ping(self):
        return True

    def close(self):
        self.closed = True


@pytest.fixture
def daemon(monkeypatch, tmp_path):
    tarball = docker_save(str(tmp_path / "saved.tar"), [{"app/users.py": b"print('users')\n"}], repo_tags=["users:1"])
    client = FakeClient({"users:1": FakeImage(tarball)})
    monkeypatch.setattr(docker_source.docker, "from_env", lambda: client)
    return client


def test_image_saved_from_the_daemon_reads_as_an_archive(daemon, tmp_path):
    path = save_image("users:1", str(tmp_path))
    with ImageArchive(path) as archive:
        assert archive.manifest.layer_count() == 1
    assert daemon.closed


def test_image_the_daemon_does_not_have_is_a_clear_error(daemon, tmp_path):
    with pytest.raises(DockerDaemonError) as err:
        save_image("users:2", str(tmp_path))
    assert "docker_image='users:2'" in str(err.value)
    assert "has no such image" in str(err.value)


def test_missing_docker_sdk_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(docker_source, "HAS_DOCKER", False)
    with pytest.raises(DockerDaemonError) as err:
        save_image("users:1", str(tmp_path))
    assert "Docker SDK for Python is not installed" in str(err.value)
