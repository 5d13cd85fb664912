# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""An image in a local Docker daemon, saved to an archive through the Docker SDK for Python."""

from __future__ import annotations

import os
from typing import Any, Optional

from .api import EcrError


def docker_sdk() -> Optional[Any]:
    """The Docker SDK for Python, imported when an image is saved from a daemon (None when it is not installed).

    Imported here rather than with the module_util: it costs every run of the modules that import this file
    (app_plan, ecr_image_push) about 40 ms, and only ``docker_image`` sources use it."""
    try:
        import docker  # pylint: disable=import-outside-toplevel
        import docker.errors  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return docker


class DockerDaemonError(EcrError):
    """The Docker daemon could not be reached or does not have the image."""


def save_image(ref: str, workdir: str) -> str:
    """``docker save`` of ``ref`` into ``workdir``; returns the tarball's path."""
    docker = docker_sdk()
    if docker is None:
        raise DockerDaemonError("docker_image=%r: the Docker SDK for Python is not installed (pip install docker) on the "
                                "host that runs the module" % ref)
    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerDaemonError("docker_image=%r: no Docker daemon is reachable at %s: %s; push an image archive "
                                "(archive=...) instead, or start the daemon" % (ref, where, exc)) from exc
    except OSError as exc:
        raise DockerDaemonError("docker_image=%r: no Docker daemon is reachable at %s: %s" % (ref, where, exc)) from exc
    try:
        image = client.images.get(ref)
        path = os.path.join(workdir, "docker-image.tar")
        with open(path, "wb") as f:
            for chunk in image.save(named=True):
                f.write(chunk)
    except docker.errors.ImageNotFound as exc:
        raise DockerDaemonError("docker_image=%r: the Docker daemon at %s has no such image" % (ref, where)) from exc
    except docker.errors.DockerException as exc:
        raise DockerDaemonError("docker_image=%r: docker save failed: %s" % (ref, exc)) from exc
    finally:
        client.close()
    return path
