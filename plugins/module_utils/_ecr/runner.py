# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecr_image_push: validate everything, read everything, plan, then (unless check mode) apply.

Order of a run: options are validated; the repository, the source image (archive, Docker
daemon or ECR image) and the tags' current digests are read; one plan is made of the
repository actions and the image actions; check mode stops there.  Only then is anything
written: repository first, then blobs, then manifests.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
import urllib.parse
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result

from .api import EcrApi
from .archive import ImageArchive, Manifest
from .docker_source import save_image
from .promote import SourceImage, current_tags as ecr_current_tags, promote, resolve_source
from .push import ImagePusher, PushStats, plan_tags, validate_tags
from .registry import RegistryClient
from .repository import RepositorySpec, apply_repository, plan_repository, planned_view, public_view, read_repository

MIB = 1024 * 1024
# ECR's registry takes upload parts of at least 5 MiB (except the last one).
MIN_CHUNK_MB = 5


class EcrImagePush:
    """The module's work, driven by its parameters and an ECR API wrapper factory."""

    def __init__(self, params: Dict[str, Any], api_factory: Any, check_mode: bool = False) -> None:
        self.params = params
        self.api_factory = api_factory
        self.check_mode = check_mode
        self._api: Optional[EcrApi] = None
        self.registry: Optional[RegistryClient] = None
        self.warnings: List[str] = []
        self._ecr_auth: Optional[Dict[str, str]] = None

    @classmethod
    def from_module(cls, module: Any) -> "EcrImagePush":
        """Build from an AnsibleAWSModule."""
        return cls(module.params, lambda: EcrApi(module.client("ecr")), module.check_mode)

    @property
    def api(self) -> EcrApi:
        if self._api is None:
            self._api = self.api_factory()
        return self._api

    # validation -------------------------------------------------------------------------
    def validate(self) -> Dict[str, Any]:
        """Every option checked before any call; returns the derived settings."""
        p = self.params
        spec = RepositorySpec.from_params(p)
        sources = [k for k in ("archive", "docker_image", "promote_from") if p.get(k)]
        if len(sources) > 1:
            raise ValidationError(sources[1], p[sources[1]], "give only one of archive, docker_image, promote_from")
        source = sources[0] if sources else None
        tags = validate_tags(p.get("image_tags") or [])
        if source and not tags:
            raise ValidationError("image_tags", p.get("image_tags"), "a push or promotion needs at least one tag")
        if tags and not source:
            raise ValidationError("image_tags", tags, "needs a source: archive, docker_image or promote_from")
        if p.get("archive_ref") and source != "archive":
            raise ValidationError("archive_ref", p["archive_ref"], "only applies with archive")
        promo = p.get("promote_from") or {}
        if source == "promote_from":
            if bool(promo.get("tag")) == bool(promo.get("digest")):
                raise ValidationError("promote_from", promo, "give exactly one of tag or digest")
            if promo.get("digest") and not str(promo["digest"]).startswith("sha256:"):
                raise ValidationError("promote_from.digest", promo["digest"], "expected sha256:<hex>")
        if not 1 <= p.get("parallel_uploads", 4) <= 32:
            raise ValidationError("parallel_uploads", p["parallel_uploads"], "must be between 1 and 32")
        if not MIN_CHUNK_MB <= p.get("chunk_size_mb", 64) <= 4096:
            raise ValidationError("chunk_size_mb", p["chunk_size_mb"], "must be between %d and 4096" % MIN_CHUNK_MB)
        url = p.get("registry_url")
        if url:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValidationError("registry_url", url, "expected http(s)://host[:port]")
        if p.get("registry_password") and not p.get("registry_username"):
            raise ValidationError("registry_password", "********", "needs registry_username")
        if not p.get("manage_repository", True):
            for key in ("scan_on_push", "image_tag_mutability", "encryption_type", "lifecycle_rules", "lifecycle_policy",
                        "repository_policy", "tags"):
                if p.get(key) is not None:
                    raise ValidationError(key, p[key], "manage_repository=false leaves the repository alone")
        return {"spec": spec, "source": source, "tags": tags}

    # run --------------------------------------------------------------------------------
    def run(self) -> Result:
        """Validate, read, plan, apply; the module's result."""
        settings = self.validate()
        workdir = tempfile.mkdtemp(prefix="shipyard-ecr-")
        try:
            return self._run(settings, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _uses_ecr_api(self, source: Optional[str]) -> bool:
        return bool(self.params.get("manage_repository", True) or source == "promote_from" or not self.params.get("registry_url"))

    def _run(self, settings: Dict[str, Any], workdir: str) -> Result:
        p = self.params
        spec: RepositorySpec = settings["spec"]
        source = settings["source"]
        tags: List[str] = settings["tags"]
        manage = p.get("manage_repository", True)
        current = read_repository(self.api, spec.name) if self._uses_ecr_api(source) else None
        plan = plan_repository(spec, current) if manage else Plan()
        if self._uses_ecr_api(source) and not manage and current is None:
            raise ValidationError("name", spec.name, "repository does not exist and manage_repository=false")
        future = planned_view(spec, current, plan) if manage else (current or {})
        immutable = future.get("image_tag_mutability") == "IMMUTABLE"
        repo_exists = current is not None or not self._uses_ecr_api(source)
        if current is not None and not p.get("registry_url"):
            repository_uri = current["uri"]
        else:
            repository_uri = "%s/%s" % (self._registry_host(), spec.name)
        data: Dict[str, Any] = {"repository_uri": repository_uri}

        manifest: Optional[Manifest] = None
        promoted: Optional[SourceImage] = None
        stats = PushStats()
        archive: Optional[ImageArchive] = None
        try:
            if source in ("archive", "docker_image"):
                path = p["archive"] if source == "archive" else save_image(p["docker_image"], workdir)
                archive = ImageArchive(path, ref=p.get("archive_ref"), hash_workers=p.get("parallel_uploads", 4),
                                       compress_layers=p.get("compress_layers", False))
                manifest = archive.manifest
                pusher = ImagePusher(self._registry(), spec.name, p.get("parallel_uploads", 4), p.get("mount_from") or [])
                now = pusher.current_tags(tags) if repo_exists else {t: None for t in tags}
                tag_plan = plan_tags(repository_uri, manifest.digest, now, immutable, "push %s" % manifest.digest)
                if tag_plan.changed:
                    if repo_exists and pusher.has_manifest(manifest.digest):
                        stats.layers_skipped = manifest.layer_count()
                    else:
                        stats = pusher.survey(manifest) if repo_exists else PushStats(missing=manifest.all_blobs())
                        missing_layers = [b for b in stats.missing if "config" not in b.media_type]
                        plan.add(Action("push", "image", "%s@%s" % (repository_uri, manifest.digest),
                                        reason="the repository lacks this image",
                                        after={"digest": manifest.digest, "media_type": manifest.media_type,
                                               "layers_to_upload": len(missing_layers),
                                               "bytes_to_upload": sum(b.size for b in stats.missing)}))
                else:
                    stats.layers_skipped = manifest.layer_count()
                plan.actions.extend(tag_plan.actions)
                data.update(self._image_data(repository_uri, manifest.digest, manifest.media_type, tags))
                if manifest.is_index:
                    data["platforms"] = manifest.platforms()
            elif source == "promote_from":
                promo = p["promote_from"]
                src_repo = promo.get("repository") or spec.name
                promoted = resolve_source(self.api, src_repo, promo.get("tag"), promo.get("digest"))
                now = ecr_current_tags(self.api, spec.name, tags) if current is not None else {t: None for t in tags}
                tag_plan = plan_tags(repository_uri, promoted.digest, now, immutable,
                                     "promote %s@%s" % (src_repo, promoted.digest))
                plan.actions.extend(tag_plan.actions)
                data.update(self._image_data(repository_uri, promoted.digest, promoted.media_type, tags))
                stats.layers_skipped = 0

            if not self.check_mode and plan.changed:
                if manage:
                    current = apply_repository(self.api, spec, plan, current)
                    if current is not None and not p.get("registry_url") and current["uri"] != repository_uri:
                        # A repository created by this run: its URI is ECR's record (as every later
                        # run reads it), not one derived from the authorization token's registry.
                        repository_uri = data["repository_uri"] = current["uri"]
                        for image in (manifest, promoted):
                            if image is not None:
                                data.update(self._image_data(repository_uri, image.digest, image.media_type, tags))
                tags_to_put = [a.name.rsplit(":", 1)[1] for a in plan.of_kind("image") if a.verb == "tag"]
                if manifest is not None and tags_to_put:
                    pusher = ImagePusher(self._registry(), spec.name, p.get("parallel_uploads", 4), p.get("mount_from") or [])
                    if not repo_exists:
                        # The repository was just created: ask the registry rather than assume it is empty.
                        stats = pusher.survey(manifest)
                    stats = pusher.push(manifest, tags_to_put, stats)
                if promoted is not None and tags_to_put:
                    promote(self.api, promoted, spec.name, tags_to_put)
        finally:
            if archive is not None:
                archive.close()

        details = self._image_details(spec.name, data.get("digest"), source)
        if details is not None:
            data["image_details"] = details
        if manifest is not None:
            if self.check_mode:
                # Nothing moved; the plan's push action says what would.
                stats.missing = []
            data.update(stats.to_dict())
        data["repository"] = public_view(planned_view(spec, current, plan) if self.check_mode and manage else current)
        apis = [self._api] if self._api is not None else []
        data["calls"] = combined_calls(apis)
        if self.registry is not None:
            data["calls"]["registry"] = {"read": self.registry.requests - self.registry.writes, "write": self.registry.writes}
        return Result(changed=plan.changed, plan=plan, data=data, warnings=self.warnings)

    def _image_details(self, repository: str, digest: Optional[str], source: Optional[str]) -> Optional[Dict[str, Any]]:
        """ECR's record of the image, when the image lives in ECR and exists (not in check mode's future)."""
        if not digest or self.params.get("registry_url") and source != "promote_from":
            return None
        found = self.api.describe_image(repository, digest)
        if found is None:
            return None
        pushed = found.get("imagePushedAt")
        return {
            "tags": sorted(found.get("imageTags") or []),
            "size_bytes": found.get("imageSizeInBytes"),
            "pushed_at": pushed.isoformat() if hasattr(pushed, "isoformat") else pushed,
            "scan_status": (found.get("imageScanStatus") or {}).get("status"),
        }

    @staticmethod
    def _image_data(uri: str, digest: str, media_type: str, tags: List[str]) -> Dict[str, Any]:
        return {
            "digest": digest,
            "media_type": media_type,
            "image_uri": "%s@%s" % (uri, digest),
            "image_uris": {t: "%s:%s" % (uri, t) for t in tags},
            "image_tags": tags,
        }

    # registry ---------------------------------------------------------------------------
    def _ecr_endpoint(self) -> Dict[str, str]:
        if self._ecr_auth is None:
            auth = self.api.get_authorization_token()
            user, _sep, password = base64.b64decode(auth["authorizationToken"]).decode("utf-8").partition(":")
            self._ecr_auth = {"endpoint": auth["proxyEndpoint"], "username": user, "password": password}
        return self._ecr_auth

    def _registry_host(self) -> str:
        if self.params.get("registry_url"):
            return urllib.parse.urlsplit(self.params["registry_url"]).netloc
        return urllib.parse.urlsplit(self._ecr_endpoint()["endpoint"]).netloc

    def _registry(self) -> RegistryClient:
        if self.registry is None:
            p = self.params
            chunk = p.get("chunk_size_mb", 64) * MIB
            if p.get("registry_url"):
                self.registry = RegistryClient(p["registry_url"], p.get("registry_username"), p.get("registry_password"),
                                               validate_certs=p.get("validate_registry_certs", True), chunk_size=chunk)
            else:
                ecr = self._ecr_endpoint()
                self.registry = RegistryClient(ecr["endpoint"], ecr["username"], ecr["password"], chunk_size=chunk)
        return self.registry
