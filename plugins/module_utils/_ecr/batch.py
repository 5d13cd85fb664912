# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecr_image_push with ``repositories``: every repository and image of an application in one run.

Order of a run: the top-level options and every element are validated (archives must exist);
the repositories are described 100 names per call, then only for the repositories that exist
the lifecycle policy, repository policy and tags the user sets, and each repository's tags in
one ``BatchGetImage``; one plan is made for all elements; check mode stops there.  Only then is
anything written, element by element: repository first, then blobs, then manifests.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Set

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls, read_each
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import tags_to_dict
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.tagging import read_tags

from .api import EcrApi, EcrTaggingApi
from .archive import ImageArchive, Manifest
from .docker_source import save_image
from .promote import SourceImage, current_tags, promote, resolve_source
from .push import ImagePusher, PushStats, plan_tags, validate_tags
from .repository import (
    EXTRA_KEYS,
    RepositorySpec,
    apply_repository,
    describe_repositories,
    plan_repository,
    planned_view,
    read_extras,
    repository_document,
)
from .runner import MIN_CHUNK_MB, EcrImagePush

SOURCES = ("archive", "docker_image", "promote_from")
# Per-repository options an element may set; the top-level value applies when it does not.
INHERITED = ("scan_on_push", "image_tag_mutability", "encryption_type", "kms_key", "lifecycle_rules",
             "lifecycle_policy", "repository_policy", "tags", "purge_tags", "image_tags", "compress_layers",
             "mount_from")
# Options that say one thing together: an element setting one of them replaces the whole group.
GROUPS = (("encryption_type", "kms_key"), ("lifecycle_rules", "lifecycle_policy"))
REPOSITORY_OPTIONS = ("scan_on_push", "image_tag_mutability", "encryption_type", "kms_key", "lifecycle_rules",
                      "lifecycle_policy", "repository_policy", "tags")
# Top-level options that only make sense for one repository, or for a registry other than ECR.
SINGLE_ONLY = ("archive", "archive_ref", "docker_image", "promote_from", "registry_url", "registry_username",
               "registry_password")


@dataclass
class Element:
    """One entry of ``repositories``, merged with the top-level defaults and validated."""

    index: int
    params: Dict[str, Any]
    own: Set[str]
    spec: Optional[RepositorySpec] = None
    source: Optional[str] = None
    tags: List[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.params["name"]

    def path(self, option: str) -> str:
        """The option as the user wrote it: ``repositories[2].archive``, or the top-level one it inherits."""
        root = re.split(r"[.\[]", option, maxsplit=1)[0]
        if root in self.own or root == "name":
            return "repositories[%d].%s" % (self.index, option)
        return option


@contextlib.contextmanager
def blame(element: Element) -> Iterator[None]:
    """Re-raise a ValidationError naming the option's path in ``repositories``."""
    try:
        yield
    except ValidationError as exc:
        raise ValidationError(element.path(exc.option), exc.value, exc.reason) from exc


@dataclass
class ElementWork:
    """What the run found and plans for one element."""

    element: Element
    current: Optional[Dict[str, Any]]
    plan: Plan
    repository_uri: str
    digest: Optional[str] = None
    manifest: Optional[Manifest] = None
    archive: Optional[ImageArchive] = None
    promoted: Optional[SourceImage] = None
    stats: PushStats = field(default_factory=PushStats)


class EcrBatchPush(EcrImagePush):
    """The module's work for ``repositories``: one run for every repository of the application.

    ``tagging_factory`` makes the tagging API the repositories' tags are read through (a hundred a call); without
    it each repository's tags are read from ECR."""

    def __init__(self, params: Dict[str, Any], api_factory: Any, check_mode: bool = False,
                 tagging_factory: Optional[Callable[[], EcrTaggingApi]] = None) -> None:
        super().__init__(params, api_factory, check_mode)
        self.tagging_factory = tagging_factory
        self._tagging: Optional[EcrTaggingApi] = None

    @classmethod
    def from_module(cls, module: Any) -> "EcrBatchPush":
        return cls(module.params, lambda: EcrApi(module.client("ecr")), module.check_mode,
                   tagging_factory=lambda: EcrTaggingApi(module.client("resourcegroupstaggingapi")))

    @property
    def tagging(self) -> Optional[EcrTaggingApi]:
        if self._tagging is None and self.tagging_factory is not None:
            self._tagging = self.tagging_factory()
        return self._tagging

    # validation -------------------------------------------------------------------------
    def validate_batch(self) -> List[Element]:
        """Every option of every element checked before any call."""
        p = self.params
        for key in SINGLE_ONLY:
            if p.get(key):
                raise ValidationError(key, "********" if key == "registry_password" else p[key],
                                      "give it per element of repositories (sources), or use the single-repository form "
                                      "(registry options)")
        if not 1 <= p.get("parallel_uploads", 4) <= 32:
            raise ValidationError("parallel_uploads", p["parallel_uploads"], "must be between 1 and 32")
        if not MIN_CHUNK_MB <= p.get("chunk_size_mb", 64) <= 4096:
            raise ValidationError("chunk_size_mb", p["chunk_size_mb"], "must be between %d and 4096" % MIN_CHUNK_MB)
        manage = p.get("manage_repository", True)
        if not manage:
            for key in REPOSITORY_OPTIONS:
                if p.get(key) is not None:
                    raise ValidationError(key, p[key], "manage_repository=false leaves the repositories alone")
        elements: List[Element] = []
        seen: Dict[str, int] = {}
        for index, raw in enumerate(p["repositories"]):
            element = self._merge(index, raw or {})
            with blame(element):
                self._validate_element(element, manage)
            if element.name in seen:
                raise ValidationError("repositories[%d].name" % index, element.name,
                                      "already given as repositories[%d]" % seen[element.name])
            seen[element.name] = index
            elements.append(element)
        return elements

    def _merge(self, index: int, raw: Dict[str, Any]) -> Element:
        # An empty string is "not set" too: a playbook building the list cannot leave a key out per element.
        own = {k for k, v in raw.items() if v is not None and v != ""}
        merged: Dict[str, Any] = {k: self.params.get(k) for k in INHERITED}
        for group in GROUPS:
            if own & set(group):
                for key in group:
                    merged[key] = None
        merged.update({k: raw[k] for k in own})
        if merged.get("purge_tags") is None:
            merged["purge_tags"] = True
        return Element(index=index, params=merged, own=own)

    @staticmethod
    def _validate_element(element: Element, manage: bool) -> None:
        p = element.params
        if not manage:
            for key in REPOSITORY_OPTIONS:
                if p.get(key) is not None:
                    raise ValidationError(key, p[key], "manage_repository=false leaves the repositories alone")
        element.spec = RepositorySpec.from_params(p)
        sources = [k for k in SOURCES if p.get(k)]
        if len(sources) > 1:
            raise ValidationError(sources[1], p[sources[1]], "give only one of archive, docker_image, promote_from")
        element.source = sources[0] if sources else None
        element.tags = validate_tags(p.get("image_tags") or [])
        if element.source and not element.tags:
            raise ValidationError("image_tags", p.get("image_tags"), "a push or promotion needs at least one tag")
        if p.get("archive_ref") and element.source != "archive":
            raise ValidationError("archive_ref", p["archive_ref"], "only applies with archive")
        if element.source == "archive" and not os.path.exists(p["archive"]):
            raise ValidationError("archive", p["archive"], "no such file or directory")
        if element.source == "promote_from":
            promo = p["promote_from"]
            if bool(promo.get("tag")) == bool(promo.get("digest")):
                raise ValidationError("promote_from", promo, "give exactly one of tag or digest")
            if promo.get("digest") and not str(promo["digest"]).startswith("sha256:"):
                raise ValidationError("promote_from.digest", promo["digest"], "expected sha256:<hex>")

    # run --------------------------------------------------------------------------------
    def run(self) -> Result:
        """Validate every element, read in batches, plan all, apply; the module's result."""
        elements = self.validate_batch()
        workdir = tempfile.mkdtemp(prefix="shipyard-ecr-")
        works: List[ElementWork] = []
        try:
            works = self._plan(elements, workdir)
            if not self.check_mode:
                for work in works:
                    if work.plan.changed:
                        self._apply(work)
            return self._result(works)
        finally:
            for work in works:
                if work.archive is not None:
                    work.archive.close()
            shutil.rmtree(workdir, ignore_errors=True)

    def _plan(self, elements: List[Element], workdir: str) -> List[ElementWork]:
        manage = self.params.get("manage_repository", True)
        described = describe_repositories(self.api, [e.name for e in elements])
        for element in elements:
            if element.spec is None:
                raise AssertionError("element %s was not validated" % element.name)
        # What ECR keeps behind one call per repository (lifecycle, policy, tags; the images' tags), read for
        # several repositories at once.
        existing = [e for e in elements if e.name in described]
        tagging = self.tagging
        currents = dict(zip([e.name for e in existing], read_each(
            lambda e: read_extras(self.api, repository_document(described[e.name]), e.name,
                                  [k for k in EXTRA_KEYS if k in e.spec.desired  # type: ignore[union-attr]
                                   and not (k == "tags" and tagging is not None)]), existing)))
        if tagging is not None:
            self._read_tags(tagging, [e for e in existing if "tags" in e.spec.desired], currents)  # type: ignore[union-attr]
        tagged = [e for e in existing if e.tags]

        def tags_now(element: Element) -> Dict[str, Optional[str]]:
            with blame(element):
                return current_tags(self.api, element.name, element.tags)
        image_tags = dict(zip([e.name for e in tagged], read_each(tags_now, tagged)))
        works: List[ElementWork] = []
        for element in elements:
            spec = element.spec
            current = currents.get(element.name)
            if current is None and not manage:
                raise ValidationError(element.path("name"), element.name,
                                      "repository does not exist and manage_repository=false")
            with blame(element):
                plan = plan_repository(spec, current) if manage else Plan()
            uri = current["uri"] if current is not None else "%s/%s" % (self._host(described), element.name)
            work = ElementWork(element=element, current=current, plan=plan, repository_uri=uri)
            works.append(work)
            with blame(element):
                self._plan_image(work, workdir, image_tags.get(element.name, {t: None for t in element.tags}))
        return works

    def _read_tags(self, tagging: EcrTaggingApi, elements: List[Element], currents: Dict[str, Dict[str, Any]]) -> None:
        """The tags of the existing repositories whose options set tags: GetResources, a hundred repositories a call;
        ECR's own ListTagsForResource for those whose tags there differ from the options (the tagging API lags behind
        tag writes, and a run right after another must plan no needless write). A role without tag:GetResources has
        every repository's tags read from ECR."""
        by_arn = {currents[e.name]["arn"]: e for e in elements}
        tags = read_tags(tagging, {arn: (e.spec.desired["tags"], e.spec.purge_tags)  # type: ignore[union-attr]
                                   for arn, e in by_arn.items()},
                         lambda arn: tags_to_dict(self.api.list_tags_for_resource(arn)))
        for arn, element in by_arn.items():
            currents[element.name]["tags"] = tags[arn]

    def _host(self, described: Dict[str, Dict[str, Any]]) -> str:
        """The registry's host: that of a repository of the same registry, else the authorization token's."""
        for repo in described.values():
            return repo["repositoryUri"].split("/", 1)[0]
        return self._registry_host()

    def _plan_image(self, work: ElementWork, workdir: str, now: Dict[str, Optional[str]]) -> None:
        """The image's part of the plan; ``now``: the digest each of the element's tags points at (None: no such tag)."""
        element, p = work.element, work.element.params
        exists = work.current is not None
        future = planned_view(element.spec, work.current, work.plan) if self.params.get("manage_repository", True) \
            else (work.current or {})
        immutable = future.get("image_tag_mutability") == "IMMUTABLE"
        if element.source in ("archive", "docker_image"):
            path = p["archive"] if element.source == "archive" else save_image(p["docker_image"], workdir)
            work.archive = ImageArchive(path, ref=p.get("archive_ref"), hash_workers=self.params.get("parallel_uploads", 4),
                                        compress_layers=bool(p.get("compress_layers")))
            manifest = work.manifest = work.archive.manifest
            work.digest = manifest.digest
            tag_plan = plan_tags(work.repository_uri, manifest.digest, now, immutable, "push %s" % manifest.digest)
            if tag_plan.changed:
                pusher = self._pusher(element)
                if exists and pusher.has_manifest(manifest.digest):
                    work.stats.layers_skipped = manifest.layer_count()
                else:
                    work.stats = pusher.survey(manifest) if exists else PushStats(missing=manifest.all_blobs())
                    layers = [b for b in work.stats.missing if "config" not in b.media_type]
                    work.plan.add(Action("push", "image", "%s@%s" % (work.repository_uri, manifest.digest),
                                         reason="the repository lacks this image",
                                         after={"digest": manifest.digest, "media_type": manifest.media_type,
                                                "layers_to_upload": len(layers),
                                                "bytes_to_upload": sum(b.size for b in work.stats.missing)}))
            else:
                work.stats.layers_skipped = manifest.layer_count()
            work.plan.actions.extend(tag_plan.actions)
        elif element.source == "promote_from":
            promo = p["promote_from"]
            src_repo = promo.get("repository") or element.name
            work.promoted = resolve_source(self.api, src_repo, promo.get("tag"), promo.get("digest"))
            work.digest = work.promoted.digest
            tag_plan = plan_tags(work.repository_uri, work.promoted.digest, now, immutable,
                                 "promote %s@%s" % (src_repo, work.promoted.digest))
            work.plan.actions.extend(tag_plan.actions)
        elif element.tags:
            # No source: report the image the first tag points at, pinned by digest when it exists.
            work.digest = now.get(element.tags[0])

    def _pusher(self, element: Element) -> ImagePusher:
        return ImagePusher(self._registry(), element.name, self.params.get("parallel_uploads", 4),
                           element.params.get("mount_from") or [])

    def _apply(self, work: ElementWork) -> None:
        element = work.element
        if any(a.kind != "image" for a in work.plan.actions):
            current = apply_repository(self.api, element.spec, work.plan, work.current)
            if current is not None:
                # A repository created by this run: its URI is ECR's record, as every later run reads it.
                work.repository_uri = current["uri"]
        tags_to_put = [a.name.rsplit(":", 1)[1] for a in work.plan.of_kind("image") if a.verb == "tag"]
        if not tags_to_put:
            return
        if work.manifest is not None:
            pusher = self._pusher(element)
            stats = work.stats if work.current is not None else pusher.survey(work.manifest)
            work.stats = pusher.push(work.manifest, tags_to_put, stats)
        elif work.promoted is not None:
            promote(self.api, work.promoted, element.name, tags_to_put)

    # result -----------------------------------------------------------------------------
    def _result(self, works: List[ElementWork]) -> Result:
        plan = Plan()
        repositories: Dict[str, Any] = {}
        for work in works:
            plan.actions.extend(work.plan.actions)
            tags = work.element.tags
            entry: Dict[str, Any] = {
                "repository_uri": work.repository_uri,
                "image_digest": work.digest,
                "image_tags": tags,
                "changed": work.plan.changed,
                "actions": work.plan.to_list(),
            }
            if work.digest:
                entry["image_uri"] = "%s@%s" % (work.repository_uri, work.digest)
            elif tags:
                entry["image_uri"] = "%s:%s" % (work.repository_uri, tags[0])
            else:
                entry["image_uri"] = None
            if work.manifest is not None:
                if self.check_mode:
                    work.stats.missing = []
                entry.update(work.stats.to_dict())
            repositories[work.element.name] = entry
        calls = combined_calls([api for api in (self._api, self._tagging) if api is not None])
        if self.registry is not None:
            calls["registry"] = {"read": self.registry.requests - self.registry.writes, "write": self.registry.writes}
        return Result(changed=plan.changed, plan=plan, data={"repositories": repositories, "calls": calls},
                      warnings=self.warnings)


def run(module: Any) -> Result:
    """The module's run: the ``repositories`` form, or the single-repository one."""
    runner = EcrBatchPush if module.params.get("repositories") is not None else EcrImagePush
    return runner.from_module(module).run()
