"""What pulling a container image finds: ECR images by tag or digest, and their digests.

ECS pulls every container's image when a task leaves PENDING. An image in an ECR repository of
the emulator that has no such tag or digest cannot be pulled (``CannotPullContainerError``);
a pulled container reports the image's ``imageDigest``. Images outside ECR (or in repositories
the emulator does not hold) are not checked: their digest is derived from the reference.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Optional, Tuple

_ECR = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
                  r"(?P<repository>[^:@]+)(?:(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?)$")


def _ecr_repository(image: str) -> Optional[Tuple[Any, Optional[str], Optional[str], str]]:
    """(moto repository, tag, digest, repository name) of an ECR image reference, if the emulator holds it."""
    match = _ECR.match(image or "")
    if not match:
        return None
    from moto.ecr.models import ecr_backends

    try:
        backend = ecr_backends[match.group("account")][match.group("region")]
    except KeyError:
        return None
    repository = backend.repositories.get(match.group("repository"))
    if repository is None:
        return None
    tag = match.group("tag") or (None if match.group("digest") else "latest")
    return repository, tag, match.group("digest"), match.group("repository")


def _find(repository: Any, tag: Optional[str], digest: Optional[str]) -> Any:
    for candidate in repository.images:
        if digest is not None:
            if candidate.get_image_digest() == digest:
                return candidate
        elif tag in candidate.image_tags:
            return candidate
    return None


def pull_failure(image: str) -> Optional[str]:
    """AWS's stopped reason when ``image`` is an ECR image its repository does not have."""
    found = _ecr_repository(image)
    if found is None:
        return None
    repository, tag, digest, _name = found
    if _find(repository, tag, digest) is not None:
        return None
    return ("CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
            "%s: %s: not found" % (image, image))


def digest_of(image: str) -> str:
    """The ``imageDigest`` a container running ``image`` reports."""
    if "@sha256:" in (image or ""):
        return image.rsplit("@", 1)[1]
    found = _ecr_repository(image)
    if found is not None:
        pulled = _find(found[0], found[1], found[2])
        if pulled is not None:
            return pulled.get_image_digest()
    return "sha256:" + hashlib.sha256((image or "").encode("utf-8")).hexdigest()
