# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""One method per Amazon ECR API call, with the shared retries and error translation."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.tagging import TaggingApi

# ECR names its "not found" conditions per resource; a missing policy is an ordinary state.
NOT_FOUND_CODES = frozenset((
    "RepositoryNotFoundException",
    "RepositoryPolicyNotFoundException",
    "LifecyclePolicyNotFoundException",
    "ImageNotFoundException",
))

MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


class EcrError(AwsApiError):
    """Anything that went wrong on the ECR side: API calls, registry transport, archives, input."""


class EcrTaggingApi(TaggingApi):
    """The repositories' tags, a hundred repositories a call (ECR's own ListTagsForResource reads one)."""

    error = EcrError


class EcrApi(AwsApi):
    """Amazon ECR calls used by ecr_image_push."""

    error = EcrError
    service = "ecr"

    @staticmethod
    def _token_names(operation: str):
        return ("nextToken", "nextToken")

    def _or_none(self, operation: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
        try:
            return self.call(operation, **kwargs)
        except EcrError as exc:
            if exc.code in NOT_FOUND_CODES:
                return None
            raise

    # repositories -------------------------------------------------------------------------
    def describe_repository(self, name: str) -> Optional[Dict[str, Any]]:
        """The repository, or None when it does not exist."""
        page = self._or_none("describe_repositories", repositoryNames=[name])
        if not page or not page.get("repositories"):
            return None
        return page["repositories"][0]

    def describe_repositories(self, names: List[str]) -> List[Dict[str, Any]]:
        """The repositories named (at most 100); raises ``RepositoryNotFoundException`` when one is missing.

        AWS fails the whole call for one missing name, and takes no ``maxResults`` with names.
        """
        return self.call("describe_repositories", repositoryNames=list(names)).get("repositories") or []

    def create_repository(self, **kwargs: Any) -> Dict[str, Any]:
        """Create a repository; returns it."""
        return self.call("create_repository", **kwargs)["repository"]

    def put_image_scanning_configuration(self, name: str, scan_on_push: bool) -> Dict[str, Any]:
        """Turn scan on push on or off."""
        return self.call("put_image_scanning_configuration", repositoryName=name,
                         imageScanningConfiguration={"scanOnPush": scan_on_push})

    def put_image_tag_mutability(self, name: str, mutability: str) -> Dict[str, Any]:
        """Set MUTABLE or IMMUTABLE tags."""
        return self.call("put_image_tag_mutability", repositoryName=name, imageTagMutability=mutability)

    def get_lifecycle_policy(self, name: str) -> Optional[str]:
        """The lifecycle policy text, or None when the repository has none."""
        page = self._or_none("get_lifecycle_policy", repositoryName=name)
        return page.get("lifecyclePolicyText") if page else None

    def put_lifecycle_policy(self, name: str, text: str) -> Dict[str, Any]:
        """Replace the lifecycle policy."""
        return self.call("put_lifecycle_policy", repositoryName=name, lifecyclePolicyText=text)

    def delete_lifecycle_policy(self, name: str) -> Dict[str, Any]:
        """Remove the lifecycle policy."""
        return self.call("delete_lifecycle_policy", repositoryName=name)

    def get_repository_policy(self, name: str) -> Optional[str]:
        """The repository policy text, or None when the repository has none."""
        page = self._or_none("get_repository_policy", repositoryName=name)
        return page.get("policyText") if page else None

    def set_repository_policy(self, name: str, text: str) -> Dict[str, Any]:
        """Replace the repository policy."""
        return self.call("set_repository_policy", repositoryName=name, policyText=text)

    def delete_repository_policy(self, name: str) -> Dict[str, Any]:
        """Remove the repository policy."""
        return self.call("delete_repository_policy", repositoryName=name)

    def list_tags_for_resource(self, arn: str) -> List[Dict[str, str]]:
        """The repository's tags as ``[{Key, Value}]``."""
        return self.call("list_tags_for_resource", resourceArn=arn).get("tags", [])

    def tag_resource(self, arn: str, tags: Dict[str, str]) -> Dict[str, Any]:
        """Add or overwrite tags."""
        return self.call("tag_resource", resourceArn=arn, tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag_resource(self, arn: str, keys: List[str]) -> Dict[str, Any]:
        """Remove tags by key."""
        return self.call("untag_resource", resourceArn=arn, tagKeys=sorted(keys))

    # images -------------------------------------------------------------------------------
    def batch_get_image(self, name: str, image_ids: List[Dict[str, str]]) -> Dict[str, Any]:
        """``{'images': [...], 'failures': [...]}`` with manifests in any media type we push."""
        return self.call("batch_get_image", repositoryName=name, imageIds=image_ids,
                         acceptedMediaTypes=MANIFEST_MEDIA_TYPES)

    def describe_image(self, name: str, digest: str) -> Optional[Dict[str, Any]]:
        """ECR's metadata of one image (tags, size, push time, scan status), or None when absent."""
        page = self._or_none("describe_images", repositoryName=name, imageIds=[{"imageDigest": digest}])
        details = (page or {}).get("imageDetails") or []
        return details[0] if details else None

    def describe_images(self, name: str, digests: List[str]) -> List[Dict[str, Any]]:
        """ECR's metadata of the images of ``digests`` (at most 100), [] when the repository or one of them is gone."""
        page = self._or_none("describe_images", repositoryName=name,
                             imageIds=[{"imageDigest": digest} for digest in digests])
        return (page or {}).get("imageDetails") or []

    def put_image(self, name: str, manifest: str, media_type: str, tag: str, digest: str) -> Dict[str, Any]:
        """Store ``manifest`` under ``tag``; ``digest`` makes ECR check the bytes it received."""
        return self.call("put_image", repositoryName=name, imageManifest=manifest,
                         imageManifestMediaType=media_type, imageTag=tag, imageDigest=digest)["image"]

    def get_authorization_token(self) -> Dict[str, Any]:
        """The registry's ``authorizationToken`` (base64 ``AWS:password``) and ``proxyEndpoint``."""
        return self.call("get_authorization_token")["authorizationData"][0]
