# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Image tags: a pure planner shared by pushes and promotions, and the registry push itself.

The planner compares, per tag, the digest the tag points at now with the digest wanted: equal
is nothing to do, absent or different is a ``tag`` action, different on an immutable
repository is an error raised before anything is written.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan

from .archive import Blob, Manifest
from .registry import RegistryClient

TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def validate_tags(tags: Sequence[str]) -> List[str]:
    """The tags, checked against the registry's tag grammar, duplicates dropped in order."""
    out: List[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not TAG.match(tag):
            raise ValidationError("image_tags", tag, "a tag is 1-128 letters, digits, _ . - and does not start with . or -")
        if tag not in out:
            out.append(tag)
    return out


def plan_tags(repository: str, digest: str, current: Dict[str, Optional[str]], immutable: bool, reason: str) -> Plan:
    """``tag`` actions for every tag not yet at ``digest`` (pure); immutable conflicts raise."""
    plan = Plan()
    for tag, now in current.items():
        if now == digest:
            continue
        if now is not None and immutable:
            raise ValidationError("image_tags", tag, "repository %s has immutable tags and %s already points at %s, "
                                  "not %s; use a new tag" % (repository, tag, now, digest))
        why = "%s; tag is new" % reason if now is None else "%s; tag moves from %s" % (reason, now)
        plan.add(Action("tag", "image", "%s:%s" % (repository, tag), reason=why, before=now, after=digest))
    return plan


@dataclass
class PushStats:
    """What a push moved."""

    layers_uploaded: int = 0
    layers_skipped: int = 0
    layers_mounted: int = 0
    bytes_sent: int = 0
    missing: List[Blob] = field(default_factory=list)

    def to_dict(self) -> Dict[str, int]:
        return {"layers_uploaded": self.layers_uploaded, "layers_skipped": self.layers_skipped,
                "layers_mounted": self.layers_mounted, "bytes_sent": self.bytes_sent}


def _is_layer(blob: Blob) -> bool:
    return "config" not in blob.media_type


class ImagePusher:
    """Pushes one image (manifest or index) to one repository of a registry."""

    def __init__(self, registry: RegistryClient, repository: str, parallel: int = 4,
                 mount_from: Sequence[str] = ()) -> None:
        self.registry = registry
        self.repository = repository
        self.parallel = max(1, parallel)
        self.mount_from = list(mount_from)

    def current_tags(self, tags: Sequence[str]) -> Dict[str, Optional[str]]:
        """Digest each tag points at now (None when absent)."""
        with ThreadPoolExecutor(max_workers=min(self.parallel, max(1, len(tags)))) as pool:
            digests = list(pool.map(lambda t: self.registry.manifest_digest(self.repository, t), tags))
        return dict(zip(tags, digests))

    def has_manifest(self, digest: str) -> bool:
        """Whether the repository holds the manifest (and so, by registry rules, its blobs)."""
        return self.registry.manifest_digest(self.repository, digest) is not None

    def survey(self, manifest: Manifest) -> PushStats:
        """Which blobs the repository lacks (HEAD requests only: safe in check mode)."""
        blobs = manifest.all_blobs()
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            present = list(pool.map(lambda b: self.registry.blob_exists(self.repository, b.digest), blobs))
        stats = PushStats()
        for blob, there in zip(blobs, present):
            if there:
                stats.layers_skipped += _is_layer(blob)
            else:
                stats.missing.append(blob)
        return stats

    def _send(self, blob: Blob) -> str:
        for source in self.mount_from:
            if source != self.repository and self.registry.mount_blob(self.repository, blob.digest, source):
                return "mounted"
        self.registry.upload_blob(self.repository, blob)
        return "uploaded"

    def push(self, manifest: Manifest, tags: Sequence[str], stats: PushStats) -> PushStats:
        """Send the missing blobs in parallel, then child manifests, then the manifest per tag."""
        # Largest first so that the longest upload starts at once and does not trail the rest.
        todo = sorted(stats.missing, key=lambda b: -b.size)
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            outcomes = list(pool.map(self._send, todo))
        for blob, outcome in zip(todo, outcomes):
            if outcome == "mounted":
                stats.layers_mounted += _is_layer(blob)
            else:
                stats.layers_uploaded += _is_layer(blob)
                stats.bytes_sent += blob.size
        stats.missing = []
        for child in manifest.children:
            self.registry.put_manifest(self.repository, child.digest, child.data, child.media_type)
        for tag in tags:
            self.registry.put_manifest(self.repository, tag, manifest.data, manifest.media_type)
        return stats
