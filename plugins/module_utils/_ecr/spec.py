# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecr_image_push's argument spec: the module validates its options with it, and the environment
plan fills in the same defaults when it runs ecr_image_push's planner on the options the application renders."""

from __future__ import annotations

LIFECYCLE_RULE = dict(
    description=dict(type="str"),
    tag_status=dict(type="str", choices=["tagged", "untagged", "any"]),
    tag_prefixes=dict(type="list", elements="str"),
    keep_last=dict(type="int", no_log=False),
    expire_days=dict(type="int"),
)
PROMOTE_FROM = dict(
    repository=dict(type="str"),
    tag=dict(type="str"),
    digest=dict(type="str"),
)

ARGUMENT_SPEC = dict(
    name=dict(type="str"),
    repositories=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        archive=dict(type="path"),
        archive_ref=dict(type="str"),
        docker_image=dict(type="str"),
        promote_from=dict(type="dict", options=PROMOTE_FROM),
        image_tags=dict(type="list", elements="str"),
        compress_layers=dict(type="bool"),
        mount_from=dict(type="list", elements="str"),
        scan_on_push=dict(type="bool"),
        image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"]),
        encryption_type=dict(type="str", choices=["AES256", "KMS"]),
        kms_key=dict(type="str", no_log=False),
        lifecycle_rules=dict(type="list", elements="dict", options=LIFECYCLE_RULE),
        lifecycle_policy=dict(type="json"),
        repository_policy=dict(type="json"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool"),
    )),
    manage_repository=dict(type="bool", default=True),
    scan_on_push=dict(type="bool"),
    image_tag_mutability=dict(type="str", choices=["MUTABLE", "IMMUTABLE"]),
    encryption_type=dict(type="str", choices=["AES256", "KMS"]),
    kms_key=dict(type="str", no_log=False),
    lifecycle_rules=dict(type="list", elements="dict", options=LIFECYCLE_RULE),
    lifecycle_policy=dict(type="json"),
    repository_policy=dict(type="json"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
    image_tags=dict(type="list", elements="str"),
    archive=dict(type="path"),
    archive_ref=dict(type="str"),
    compress_layers=dict(type="bool", default=False),
    docker_image=dict(type="str"),
    promote_from=dict(type="dict", options=PROMOTE_FROM),
    mount_from=dict(type="list", elements="str"),
    registry_url=dict(type="str"),
    registry_username=dict(type="str"),
    registry_password=dict(type="str", no_log=True),
    validate_registry_certs=dict(type="bool", default=True),
    parallel_uploads=dict(type="int", default=4),
    chunk_size_mb=dict(type="int", default=64),
)

MUTUALLY_EXCLUSIVE = [("name", "repositories"), ("archive", "docker_image", "promote_from"),
                      ("lifecycle_rules", "lifecycle_policy")]
REQUIRED_ONE_OF = [("name", "repositories")]
