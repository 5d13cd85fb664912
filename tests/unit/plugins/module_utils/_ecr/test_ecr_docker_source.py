"""The Docker daemon source: docker save through the SDK, and clear errors when it cannot."""

import os
import subprocess
import sys

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
            raise docker_source.docker_sdk().errors.ImageNotFound("no such image: %s" % ref)
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
    monkeypatch.setattr(docker_source.docker_sdk(), "from_env", lambda: client)
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
    monkeypatch.setattr(docker_source, "docker_sdk", lambda: None)
    with pytest.raises(DockerDaemonError) as err:
        save_image("users:1", str(tmp_path))
    assert "Docker SDK for Python is not installed" in str(err.value)


def test_modules_that_import_the_docker_source_do_not_import_the_docker_sdk():
    """The SDK costs every module run ~40 ms: imported only when an image is saved from a daemon."""
    code = ("import sys\n"
            "import ansible_collections.shipyard.ecs.plugins.modules.app_plan\n"
            "import ansible_collections.shipyard.ecs.plugins.modules.ecr_image_push\n"
            "assert 'ansible_collections.shipyard.ecs.plugins.module_utils._ecr.docker_source' in sys.modules\n"
            "print(sorted(m for m in sys.modules if m == 'docker' or m.startswith('docker.')))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
