# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Promotion: give an image already in ECR a new tag without moving a layer.

The manifest is read with ``batch_get_image`` and written back with ``put_image`` byte for
byte with its media type, so the digest stays the same; ``imageDigest`` makes ECR check it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

from .api import EcrApi, EcrError
from .archive import sha256_digest

# BatchGetImage takes at most 100 image ids.
IMAGE_BATCH = 100


@dataclass
class SourceImage:
    """The image being promoted."""

    repository: str
    manifest: str
    media_type: str
    digest: str


def _image_id(tag: Optional[str], digest: Optional[str]) -> Dict[str, str]:
    return {"imageDigest": digest} if digest else {"imageTag": tag or ""}


def resolve_source(api: EcrApi, repository: str, tag: Optional[str], digest: Optional[str]) -> SourceImage:
    """Read the source image's manifest; its digest is checked against its bytes."""
    page = api.batch_get_image(repository, [_image_id(tag, digest)])
    images = page.get("images") or []
    if not images:
        reasons = "; ".join("%s: %s" % (f.get("failureCode"), f.get("failureReason")) for f in page.get("failures") or [])
        raise ValidationError("promote_from", {"repository": repository, "tag": tag, "digest": digest},
                              "no such image in ECR (%s)" % (reasons or "not found"))
    image = images[0]
    text = image["imageManifest"]
    reported = image["imageId"]["imageDigest"]
    actual = sha256_digest(text.encode("utf-8"))
    if actual != reported:
        raise EcrError("image %s@%s: ECR returned a manifest whose sha256 is %s; refusing to promote bytes that do "
                       "not match their digest" % (repository, reported, actual), operation="batch_get_image")
    if digest and digest != reported:
        raise EcrError("promote_from.digest %s resolved to %s" % (digest, reported), operation="batch_get_image")
    # Older images carry their media type only inside the manifest.
    media_type = image.get("imageManifestMediaType") or json.loads(text).get("mediaType") or ""
    return SourceImage(repository=repository, manifest=text, media_type=media_type, digest=reported)


def current_tags(api: EcrApi, repository: str, tags: Sequence[str]) -> Dict[str, Optional[str]]:
    """Digest each tag points at in ``repository`` now (None when absent).

    One ``BatchGetImage`` per 100 tags.  Which image answers which tag is only certain from the
    failures (a tag not found is named) and when every image found has the same digest, the
    usual case of a re-run; the echoed ``imageTag`` of a multi-tagged image is not relied on.
    Otherwise the tags found are looked up one by one.
    """
    out: Dict[str, Optional[str]] = {tag: None for tag in tags}
    for batch in chunks(list(tags), IMAGE_BATCH):
        page = api.batch_get_image(repository, [{"imageTag": tag} for tag in batch])
        missing = set()
        for failure in page.get("failures") or []:
            if failure.get("failureCode") != "ImageNotFound":
                raise EcrError("BatchGetImage of %s in %s: %s: %s" % (failure.get("imageId"), repository,
                               failure.get("failureCode"), failure.get("failureReason")), operation="batch_get_image",
                               code=failure.get("failureCode"))
            missing.add((failure.get("imageId") or {}).get("imageTag"))
        present = [tag for tag in batch if tag not in missing]
        digests = {image["imageId"]["imageDigest"] for image in page.get("images") or []}
        if len(digests) == 1:
            digest = digests.pop()
            out.update({tag: digest for tag in present})
            continue
        for tag in present:
            images = api.batch_get_image(repository, [{"imageTag": tag}]).get("images") or []
            out[tag] = images[0]["imageId"]["imageDigest"] if images else None
    return out


def promote(api: EcrApi, source: SourceImage, repository: str, tags: List[str]) -> None:
    """``put_image`` the source manifest under each tag of ``repository``."""
    for tag in tags:
        try:
            api.put_image(repository, source.manifest, source.media_type, tag, source.digest)
        except EcrError as exc:
            if exc.code == "ImageAlreadyExistsException":
                continue  # the tag reached this digest since we planned: the goal holds
            if exc.code == "LayersNotFoundException":
                raise EcrError("cannot promote %s@%s into %s: the repository lacks its layers (push the image to %s, "
                               "for example from an archive, then promote within it)"
                               % (source.repository, source.digest, repository, repository),
                               operation=exc.operation, code=exc.code) from exc
            if exc.code == "ImageTagAlreadyExistsException":
                raise EcrError("tag %s in %s is immutable and already points at another image: %s" % (tag, repository, exc.msg),
                               operation=exc.operation, code=exc.code) from exc
            raise
