#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ecr_image_push
short_description: Manage ECR repositories and push, tag or promote images into them
version_added: 0.1.0
description:
  - Creates and updates an Amazon ECR repository (scan on push, tag mutability, encryption, lifecycle policy,
    repository policy, tags). Policies are compared by meaning, not by text.
  - Pushes an image from an image archive (C(docker save) tarball, or OCI image layout as a directory or tar, including
    multi-architecture indexes) or from a local Docker daemon, through the registry HTTP API v2 with the ECR
    authorization token. Blobs the registry already has are skipped; uploads are chunked and run in parallel; digests
    are verified.
  - Promotes an image already in ECR (by tag or digest) to new tags without moving a layer.
  - Returns the image URI pinned by digest, which task definitions should use.
  - With O(repositories), one run handles the repositories and images of every service of an application - repositories
    described 100 names per call, a write only where something differs - and every element is validated before the
    first write of any.
  - A tag that already points at the wanted digest is left alone; on a repository with immutable tags, a tag that points
    at another digest is an error raised before anything is written.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
options:
  name:
    description:
      - Name of the ECR repository, for example C(flask-microservices/users).
      - Exactly one of O(name) and O(repositories) is required.
    type: str
  repositories:
    description:
      - Several repositories, each with its own image, in one run (instead of a loop of runs, one per repository).
      - The repository options given at the top level (O(scan_on_push), O(image_tag_mutability), O(encryption_type),
        O(kms_key), O(lifecycle_rules), O(lifecycle_policy), O(repository_policy), O(tags), O(purge_tags)) and
        O(image_tags), O(compress_layers), O(mount_from) apply to every element that does not set them.
        An element that sets O(repositories[].encryption_type) or O(repositories[].kms_key) replaces both top-level
        ones; the same holds for O(repositories[].lifecycle_rules) and O(repositories[].lifecycle_policy).
      - Image sources (O(archive), O(docker_image), O(promote_from)) are given per element; O(registry_url) is not
        supported with O(repositories).
      - An element with O(repositories[].image_tags) (its own or the top-level ones) and no source reports the image
        its first tag points at, pinned by digest; it writes no image.
      - Every element is validated, and every repository and image read, before the first write of any element.
      - The repositories' tags are read with the Resource Groups Tagging API (C(tag:GetResources)), a hundred
        repositories a call; a repository whose tags there differ from the options (that API lags behind tag writes),
        or every repository when the role may not call it, has its tags read with C(ecr:ListTagsForResource).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the ECR repository.
        type: str
        required: true
      archive:
        description: Image archive to push into this repository, as O(archive).
        type: path
      archive_ref:
        description: Image of a multi-image archive, as O(archive_ref).
        type: str
      docker_image:
        description: Image of the local Docker daemon to push into this repository, as O(docker_image).
        type: str
      promote_from:
        description: Image already in ECR to tag in this repository, as O(promote_from).
        type: dict
        suboptions:
          repository:
            description: Repository of the source image; defaults to O(repositories[].name).
            type: str
          tag:
            description: Tag of the source image.
            type: str
          digest:
            description: Digest (V(sha256:...)) of the source image.
            type: str
      image_tags:
        description: Image tags of this repository's image; defaults to O(image_tags).
        type: list
        elements: str
      compress_layers:
        description: As O(compress_layers), for this repository's image.
        type: bool
      mount_from:
        description: As O(mount_from), for this repository's image.
        type: list
        elements: str
      scan_on_push:
        description: As O(scan_on_push), for this repository.
        type: bool
      image_tag_mutability:
        description: As O(image_tag_mutability), for this repository.
        type: str
        choices: [MUTABLE, IMMUTABLE]
      encryption_type:
        description: As O(encryption_type), for this repository.
        type: str
        choices: [AES256, KMS]
      kms_key:
        description: As O(kms_key), for this repository.
        type: str
      lifecycle_rules:
        description: As O(lifecycle_rules), for this repository.
        type: list
        elements: dict
        suboptions:
          description:
            description: Text shown in the console; a description is generated when not set.
            type: str
          tag_status:
            description: Which images the rule selects, as O(lifecycle_rules[].tag_status).
            type: str
            choices: [tagged, untagged, any]
          tag_prefixes:
            description: Tag prefixes of the images the rule selects (with V(tagged)).
            type: list
            elements: str
          keep_last:
            description: Keep the newest N selected images, expire the older ones.
            type: int
          expire_days:
            description: Expire selected images pushed more than this many days ago.
            type: int
      lifecycle_policy:
        description: As O(lifecycle_policy), for this repository.
        type: json
      repository_policy:
        description: As O(repository_policy), for this repository.
        type: json
      tags:
        description: As O(tags), for this repository.
        type: dict
      purge_tags:
        description: As O(purge_tags), for this repository.
        type: bool
  manage_repository:
    description:
      - Create and update the repository through the ECR API.
      - Set to V(false) to push to a repository someone else manages, or to a registry that is not ECR
        (with O(registry_url)); repository options are then refused.
    type: bool
    default: true
  scan_on_push:
    description:
      - Scan images for vulnerabilities when they are pushed. Left as it is when not set (V(false) on creation).
    type: bool
  image_tag_mutability:
    description:
      - Whether tags can be moved to another image. V(IMMUTABLE) is what production repositories should use.
      - Left as it is when not set (V(MUTABLE) on creation).
    type: str
    choices: [MUTABLE, IMMUTABLE]
  encryption_type:
    description:
      - Encryption at rest. ECR fixes it when the repository is created; asking for another one later is an error.
    type: str
    choices: [AES256, KMS]
  kms_key:
    description:
      - KMS key (ARN, id or alias) with O(encryption_type=KMS). Without it ECR uses its AWS managed key.
    type: str
  lifecycle_rules:
    description:
      - Lifecycle policy from simple rules, evaluated in the order given.
      - An empty list removes the lifecycle policy. Not set leaves it as it is.
      - Mutually exclusive with O(lifecycle_policy).
    type: list
    elements: dict
    suboptions:
      description:
        description: Text shown in the console; a description is generated when not set.
        type: str
      tag_status:
        description:
          - Which images the rule selects. Defaults to V(tagged) when O(lifecycle_rules[].tag_prefixes) is set, else V(any).
          - A rule with V(any) must be the last rule.
        type: str
        choices: [tagged, untagged, any]
      tag_prefixes:
        description: Tag prefixes of the images the rule selects (with V(tagged)).
        type: list
        elements: str
      keep_last:
        description: Keep the newest N selected images, expire the older ones.
        type: int
      expire_days:
        description: Expire selected images pushed more than this many days ago.
        type: int
  lifecycle_policy:
    description:
      - Lifecycle policy as raw JSON (a string or a dict). Mutually exclusive with O(lifecycle_rules).
    type: json
  repository_policy:
    description:
      - Repository (resource) policy as JSON (a string or a dict). Not set leaves it as it is.
    type: json
  tags:
    description:
      - Resource tags of the repository. Not set leaves them as they are.
    type: dict
  purge_tags:
    description:
      - Remove resource tags not in O(tags).
    type: bool
    default: true
  image_tags:
    description:
      - Image tags to point at the pushed or promoted image, for example C(production-3f2c1ab).
      - Nothing adds C(latest) unless it is listed here.
    type: list
    elements: str
  archive:
    description:
      - Path (on the host running the module) of an image archive to push - a C(docker save) tarball, an OCI image layout
        directory, or an OCI image layout in a tar (plain or gzip).
      - Layers are pushed as the archive stores them, never recompressed. An OCI layout keeps its manifest bytes and so
        its digest. For a C(docker save) tarball a manifest is written (Docker schema 2 when every layer is gzipped,
        otherwise OCI with uncompressed layer media types), the same bytes on every run.
    type: path
  archive_ref:
    description:
      - Image to push when the archive holds several - a C(RepoTags) entry of a C(docker save) tarball, or the
        C(org.opencontainers.image.ref.name) or C(io.containerd.image.name) annotation of an OCI layout.
    type: str
  compress_layers:
    description:
      - Gzip the uncompressed layers of a C(docker save) tarball (or of a Docker daemon image) before pushing them, as
        C(docker push) does - smaller in ECR and faster to pull, at the cost of compressing on every run (the compressed
        bytes are deterministic, so a second run still sends nothing).
      - Layers that are already compressed, and OCI layouts (whose digests are fixed), are pushed as they are.
    type: bool
    default: false
  docker_image:
    description:
      - Image in the local Docker daemon to push (name, name:tag or id); needs the Docker SDK for Python and a reachable
        daemon (C(DOCKER_HOST) or the default socket).
    type: str
  promote_from:
    description:
      - Image already in ECR to give O(image_tags) in repository O(name), by tag or by digest. No layer moves.
      - Promoting into another repository needs that repository to have the image's layers already (ECR checks it on
        C(PutImage)); otherwise the module fails with what to do and writes no tag.
    type: dict
    suboptions:
      repository:
        description: Repository of the source image; defaults to O(name).
        type: str
      tag:
        description: Tag of the source image.
        type: str
      digest:
        description: Digest (V(sha256:...)) of the source image.
        type: str
  mount_from:
    description:
      - Repositories of the same registry that may already hold the image's layers; missing layers are mounted from them
        (cross-repository mount) instead of uploaded.
    type: list
    elements: str
  registry_url:
    description:
      - Registry to push to instead of the account's ECR registry, such as V(http://127.0.0.1:5000).
      - The ECR API is still used for the repository unless O(manage_repository=false).
    type: str
  registry_username:
    description: User name for O(registry_url); anonymous when not set.
    type: str
  registry_password:
    description: Password or token for O(registry_url).
    type: str
  validate_registry_certs:
    description: Verify the TLS certificate of O(registry_url).
    type: bool
    default: true
  parallel_uploads:
    description: How many blobs to upload at the same time.
    type: int
    default: 4
  chunk_size_mb:
    description: Size of each upload chunk in MiB (ECR needs at least 5).
    type: int
    default: 64
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
      Reports what it would create, push and tag; only read requests are made.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

EXAMPLES = r"""
- name: Create the production repository and push the users image from an archive
  shipyard.ecs.ecr_image_push:
    name: flask-microservices/users
    image_tag_mutability: IMMUTABLE
    scan_on_push: true
    lifecycle_rules:
      - tag_prefixes: [production-]
        keep_last: 20
      - tag_status: untagged
        expire_days: 14
    archive: /tmp/users.tar
    image_tags:
      - "production-{{ git_sha }}"
  register: users_image

- name: Use the pinned URI in the task definition
  ansible.builtin.debug:
    msg: "{{ users_image.image_uri }}"

- name: Promote what staging runs to production, by digest, without moving layers
  shipyard.ecs.ecr_image_push:
    name: flask-microservices/users
    promote_from:
      digest: "{{ staging_digest }}"
    image_tags:
      - "production-{{ git_sha }}"

- name: Create every service's repository and push the images given as archives, in one run
  shipyard.ecs.ecr_image_push:
    image_tag_mutability: IMMUTABLE
    scan_on_push: true
    lifecycle_rules:
      - tag_status: untagged
        expire_days: 1
      - tag_status: any
        keep_last: 30
    tags:
      application: flask-microservices
    image_tags:
      - "production-{{ git_sha }}"
    repositories:
      - name: flask-microservices/users
        archive: /tmp/users.tar
      - name: flask-microservices/client
        archive: /tmp/client-oci
      # No source: reports the image production-<sha> points at, pinned by digest.
      - name: flask-microservices/worker
        image_tag_mutability: MUTABLE
  register: images

- name: Use each pinned URI
  ansible.builtin.debug:
    msg: "{{ images.repositories['flask-microservices/users'].image_uri }}"

- name: Push a multi-arch OCI layout to another registry
  shipyard.ecs.ecr_image_push:
    name: team/client
    manage_repository: false
    registry_url: https://registry.example.com
    registry_username: ci
    registry_password: "{{ registry_token }}"
    archive: /tmp/client-oci
    image_tags: [v1.4.2]
"""

RETURN = r"""
repositories:
  description:
    - With O(repositories), each repository's outcome, by repository name.
  returned: when O(repositories) is given
  type: dict
  contains:
    repository_uri:
      description: URI of the repository, without tag or digest (predicted in check mode).
      type: str
    image_uri:
      description:
        - The image pinned by digest, C(<repository_uri>@sha256:...), when one was pushed or promoted, or the first tag
          points at one; otherwise C(<repository_uri>:<first tag>); null without tags.
      type: str
    image_digest:
      description: Digest of that image; null when no image is known.
      type: str
    image_tags:
      description: The tags of this repository's image.
      type: list
      elements: str
    changed:
      description: Whether this repository or its image changed (would change in check mode).
      type: bool
    actions:
      description: This repository's part of RV(plan).
      type: list
      elements: dict
    layers_uploaded:
      description: Layers uploaded by this run into this repository.
      type: int
      returned: when the element pushes an archive or a Docker image
    layers_skipped:
      description: Layers the repository already had.
      type: int
      returned: when the element pushes an archive or a Docker image
    layers_mounted:
      description: Layers mounted from another repository.
      type: int
      returned: when the element pushes an archive or a Docker image
    bytes_sent:
      description: Blob bytes uploaded into this repository by this run.
      type: int
      returned: when the element pushes an archive or a Docker image
  sample: {"flask-microservices/users": {
             "repository_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-microservices/users",
             "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-microservices/users@sha256:7d4e...",
             "image_digest": "sha256:7d4e...", "image_tags": ["production-3f2c1ab"], "changed": false, "actions": []}}
repository_uri:
  description: URI of the repository, without tag or digest.
  returned: without O(repositories)
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/flask-microservices/users
repository:
  description: The repository's settings after the run (predicted in check mode).
  returned: when the ECR API is used, without O(repositories)
  type: dict
digest:
  description: Digest of the image (sha256 of its manifest or index bytes).
  returned: when a source is given, without O(repositories)
  type: str
  sample: sha256:7d4e0b2e4b1f3c2a9f0e8d7c6b5a49382716050f4e3d2c1b0a998877665544332
media_type:
  description: Media type of the manifest or index.
  returned: when a source is given, without O(repositories)
  type: str
image_uri:
  description: The image pinned by digest, C(<repository_uri>@sha256:...); what task definitions should use.
  returned: when a source is given, without O(repositories)
  type: str
image_uris:
  description: Image URI of each tag.
  returned: when a source is given, without O(repositories)
  type: dict
  sample: {"production-3f2c1ab": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/users:production-3f2c1ab"}
image_tags:
  description: The tags that point at the image.
  returned: when a source is given, without O(repositories)
  type: list
  elements: str
image_details:
  description: ECR's record of the image after the run - all its tags, size, push time, scan status.
  returned: when the image is in ECR (not for O(registry_url) pushes, not for an image check mode has not pushed yet), without O(repositories)
  type: dict
  sample: {"tags": ["production-3f2c1ab", "staging-3f2c1ab"], "size_bytes": 48213377,
           "pushed_at": "2026-11-23T14:02:11+00:00", "scan_status": "COMPLETE"}
platforms:
  description: Platforms of a multi-architecture index.
  returned: when the image is an index, without O(repositories)
  type: list
  elements: str
  sample: [linux/amd64, linux/arm64/v8]
layers_uploaded:
  description: Layers uploaded by this run.
  returned: when pushing an archive or a Docker image, without O(repositories)
  type: int
layers_skipped:
  description: Layers the registry already had.
  returned: when pushing an archive or a Docker image, without O(repositories)
  type: int
layers_mounted:
  description: Layers mounted from another repository (O(mount_from)) instead of uploaded.
  returned: when pushing an archive or a Docker image, without O(repositories)
  type: int
bytes_sent:
  description: Blob bytes uploaded by this run (0 when nothing had to move).
  returned: when pushing an archive or a Docker image, without O(repositories)
  type: int
plan:
  description: The actions taken (or, in check mode, that would be taken), with reasons.
  returned: always
  type: list
  elements: dict
calls:
  description: Read and write calls made, per API (ECR API and registry).
  returned: always
  type: dict
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.batch import run
from ansible_collections.shipyard.ecs.plugins.module_utils._ecr.spec import ARGUMENT_SPEC, MUTUALLY_EXCLUSIVE, REQUIRED_ONE_OF


def main():
    run_module(
        ARGUMENT_SPEC,
        run,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
    )


if __name__ == "__main__":
    main()
