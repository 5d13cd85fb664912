# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ECR repository: desired and current state as the same plain dict, a pure planner, an applier.

The document compared is::

    {"scan_on_push": bool, "image_tag_mutability": "MUTABLE"|"IMMUTABLE",
     "encryption": {"type": "AES256"|"KMS", "kms_key": str},
     "lifecycle_policy": {...}, "repository_policy": {...}, "tags": {...}}

A key the user did not set is absent from the desired document and left as it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import chunks
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, prune, tags_to_dict
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.policy import normalise_policy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan

from .api import EcrApi, EcrError
from .policies import lifecycle_from_rules, normalise_lifecycle, parse_policy, policy_text

REPOSITORY_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_./")
EXTRA_KEYS = ("lifecycle_policy", "repository_policy", "tags")
DESCRIBE_BATCH = 100
MISSING_NAME = re.compile(r"repository with name '([^']+)' does not exist")
AWS_DEFAULTS = {"scan_on_push": False, "image_tag_mutability": "MUTABLE", "encryption": {"type": "AES256"}}


@dataclass
class RepositorySpec:
    """What the user asked for, validated and normalised."""

    name: str
    desired: Dict[str, Any] = field(default_factory=dict)
    purge_tags: bool = True

    @classmethod
    def from_params(cls, params: Dict[str, Any]) -> "RepositorySpec":
        """Validate the module's repository options (raises ValidationError)."""
        name = params["name"]
        if not name or len(name) < 2 or len(name) > 256 or not set(name) <= REPOSITORY_NAME_CHARS \
                or name[0] in "-_./" or name[-1] in "-_./":
            raise ValidationError("name", name, "a repository name is 2-256 lowercase letters, digits and - _ . /, "
                                  "starting and ending with a letter or digit")
        desired: Dict[str, Any] = {}
        if params.get("scan_on_push") is not None:
            desired["scan_on_push"] = params["scan_on_push"]
        if params.get("image_tag_mutability"):
            desired["image_tag_mutability"] = params["image_tag_mutability"]
        if params.get("encryption_type"):
            enc = {"type": params["encryption_type"]}
            if params.get("kms_key"):
                if params["encryption_type"] != "KMS":
                    raise ValidationError("kms_key", params["kms_key"], "only applies with encryption_type=KMS")
                enc["kms_key"] = params["kms_key"]
            desired["encryption"] = enc
        elif params.get("kms_key"):
            raise ValidationError("kms_key", params["kms_key"], "needs encryption_type=KMS")
        if params.get("lifecycle_rules") is not None and params.get("lifecycle_policy") is not None:
            raise ValidationError("lifecycle_policy", params["lifecycle_policy"], "give lifecycle_rules or lifecycle_policy, not both")
        if params.get("lifecycle_rules") == []:
            # An empty rule list means "no lifecycle policy": remove the one there is.
            desired["lifecycle_policy"] = None
        elif params.get("lifecycle_rules") is not None:
            desired["lifecycle_policy"] = normalise_lifecycle(lifecycle_from_rules(params["lifecycle_rules"]))
        elif params.get("lifecycle_policy") is not None:
            doc = parse_policy("lifecycle_policy", params["lifecycle_policy"])
            if not isinstance(doc.get("rules"), list):
                raise ValidationError("lifecycle_policy", params["lifecycle_policy"], "needs a list of rules")
            desired["lifecycle_policy"] = normalise_lifecycle(doc)
        if params.get("repository_policy") is not None:
            doc = parse_policy("repository_policy", params["repository_policy"])
            if not doc.get("Statement"):
                raise ValidationError("repository_policy", params["repository_policy"], "needs a Statement")
            desired["repository_policy"] = normalise_policy(doc)
        if params.get("tags") is not None:
            desired["tags"] = {str(k): str(v) for k, v in params["tags"].items()}
        return cls(name=name, desired=desired, purge_tags=params.get("purge_tags", True))


def _text_or_none(text: Optional[str]) -> Optional[Dict[str, Any]]:
    return json.loads(text) if text else None


def repository_document(repo: Dict[str, Any]) -> Dict[str, Any]:
    """The settings ``DescribeRepositories`` reports, as the planner's document."""
    enc = repo.get("encryptionConfiguration") or {"encryptionType": "AES256"}
    return {
        "arn": repo["repositoryArn"],
        "uri": repo["repositoryUri"],
        "scan_on_push": bool((repo.get("imageScanningConfiguration") or {}).get("scanOnPush", False)),
        "image_tag_mutability": repo.get("imageTagMutability", "MUTABLE"),
        "encryption": prune({"type": enc.get("encryptionType"), "kms_key": enc.get("kmsKey")}),
    }


def read_extras(api: EcrApi, current: Dict[str, Any], name: str, keys: Sequence[str] = EXTRA_KEYS) -> Dict[str, Any]:
    """Add the settings ECR keeps behind one call each (lifecycle, policy, tags) to ``current``.

    ECR has no call that reads these for several repositories at once, so a batch reads only
    the ones the user sets (``keys``), and only for repositories that exist.
    """
    if "lifecycle_policy" in keys:
        current["lifecycle_policy"] = normalise_lifecycle(_text_or_none(api.get_lifecycle_policy(name)))
    if "repository_policy" in keys:
        current["repository_policy"] = normalise_policy(_text_or_none(api.get_repository_policy(name)))
    if "tags" in keys:
        current["tags"] = tags_to_dict(api.list_tags_for_resource(current["arn"]))
    return current


def read_repository(api: EcrApi, name: str) -> Optional[Dict[str, Any]]:
    """The repository's current state as the planner's document (None when absent)."""
    repo = api.describe_repository(name)
    if repo is None:
        return None
    return read_extras(api, repository_document(repo), name)


def describe_repositories(api: EcrApi, names: Sequence[str]) -> Dict[str, Dict[str, Any]]:
    """``DescribeRepositories`` of ``names`` by name, 100 names per call; absent names are left out.

    With names, AWS fails the whole call for the first missing one and names it in its message:
    that name is dropped and the call repeated, so a run costs one call per 100 repositories
    plus one per missing repository.  Listing the whole account instead would need
    ``ecr:DescribeRepositories`` on every repository of the account, not only the application's.
    """
    found: Dict[str, Dict[str, Any]] = {}
    for batch in chunks(sorted(set(names)), DESCRIBE_BATCH):
        todo = list(batch)
        while todo:
            try:
                for repo in api.describe_repositories(todo):
                    found[repo["repositoryName"]] = repo
                break
            except EcrError as exc:
                if exc.code != "RepositoryNotFoundException":
                    raise
                match = MISSING_NAME.search(exc.msg)
                if match and match.group(1) in todo:
                    todo.remove(match.group(1))
                    continue
                # The message did not say which one: ask for each name on its own.
                for name in todo:
                    repo = api.describe_repository(name)
                    if repo is not None:
                        found[name] = repo
                break
    return found


def _same_kms_key(wanted: str, actual: Optional[str]) -> bool:
    if not actual:
        return False
    # A key id or alias matches the ARN ECR reports when it is its last path element.
    return wanted == actual or actual.endswith("/" + wanted) or actual.endswith(":" + wanted)


def check_encryption(spec: RepositorySpec, current: Dict[str, Any]) -> None:
    """ECR fixes encryption at creation: asking for another one is an error, not a change."""
    wanted = spec.desired.get("encryption")
    if not wanted:
        return
    actual = current.get("encryption") or {}
    if wanted["type"] != actual.get("type"):
        raise ValidationError("encryption_type", wanted["type"], "repository %s is encrypted with %s; ECR cannot change a "
                              "repository's encryption after creation (create a new repository)"
                              % (spec.name, actual.get("type")))
    if wanted.get("kms_key") and not _same_kms_key(wanted["kms_key"], actual.get("kms_key")):
        raise ValidationError("kms_key", wanted["kms_key"], "repository %s uses KMS key %s; ECR cannot change a "
                              "repository's encryption after creation" % (spec.name, actual.get("kms_key")))


def plan_repository(spec: RepositorySpec, current: Optional[Dict[str, Any]]) -> Plan:
    """The actions that take the repository from ``current`` to ``spec`` (pure)."""
    plan = Plan()
    desired = spec.desired
    if current is None:
        after = dict(AWS_DEFAULTS)
        after.update(desired)
        plan.add(Action("create", "repository", spec.name, reason="repository does not exist", after=after))
        return plan
    check_encryption(spec, current)
    settings = {k: desired[k] for k in ("scan_on_push", "image_tag_mutability") if k in desired}
    before = {k: current.get(k) for k in settings}
    changes = differences(before, settings)
    if changes:
        plan.add(Action("update", "repository", spec.name, reason="settings differ", before=before, after=settings,
                        changes=changes))
    for key in ("lifecycle_policy", "repository_policy"):
        if key in desired and desired[key] != current.get(key):
            verb = "create" if current.get(key) is None else "delete" if desired[key] is None else "update"
            plan.add(Action(verb, key, spec.name, reason="%s differs" % key.replace("_", " "),
                            before=current.get(key), after=desired[key],
                            changes=differences(current.get(key), desired[key])))
    if "tags" in desired:
        have = current.get("tags") or {}
        want = dict(desired["tags"]) if spec.purge_tags else dict(have, **desired["tags"])
        if want != have:
            plan.add(Action("update", "tags", spec.name, reason="tags differ", before=have, after=want,
                            changes=differences(have, want)))
    return plan


def apply_repository(api: EcrApi, spec: RepositorySpec, plan: Plan, current: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Execute the repository part of ``plan``; returns the repository's state afterwards."""
    desired = spec.desired
    for action in plan.actions:
        if action.kind == "repository" and action.verb == "create":
            kwargs: Dict[str, Any] = {"repositoryName": spec.name}
            if "scan_on_push" in desired:
                kwargs["imageScanningConfiguration"] = {"scanOnPush": desired["scan_on_push"]}
            if "image_tag_mutability" in desired:
                kwargs["imageTagMutability"] = desired["image_tag_mutability"]
            if "encryption" in desired:
                enc = {"encryptionType": desired["encryption"]["type"]}
                if desired["encryption"].get("kms_key"):
                    enc["kmsKey"] = desired["encryption"]["kms_key"]
                kwargs["encryptionConfiguration"] = enc
            if desired.get("tags"):
                kwargs["tags"] = [{"Key": k, "Value": v} for k, v in sorted(desired["tags"].items())]
            api.create_repository(**kwargs)
            if desired.get("lifecycle_policy"):
                api.put_lifecycle_policy(spec.name, policy_text(desired["lifecycle_policy"]))
            if desired.get("repository_policy"):
                api.set_repository_policy(spec.name, policy_text(desired["repository_policy"]))
        elif action.kind == "repository":
            if "scan_on_push" in action.after and action.after["scan_on_push"] != action.before.get("scan_on_push"):
                api.put_image_scanning_configuration(spec.name, action.after["scan_on_push"])
            if "image_tag_mutability" in action.after and \
                    action.after["image_tag_mutability"] != action.before.get("image_tag_mutability"):
                api.put_image_tag_mutability(spec.name, action.after["image_tag_mutability"])
        elif action.kind == "lifecycle_policy" and action.verb == "delete":
            api.delete_lifecycle_policy(spec.name)
        elif action.kind == "lifecycle_policy":
            api.put_lifecycle_policy(spec.name, policy_text(action.after))
        elif action.kind == "repository_policy":
            api.set_repository_policy(spec.name, policy_text(action.after))
        elif action.kind == "tags":
            arn = current["arn"]
            remove = sorted(set(action.before) - set(action.after))
            add = {k: v for k, v in action.after.items() if action.before.get(k) != v}
            if remove:
                api.untag_resource(arn, remove)
            if add:
                api.tag_resource(arn, add)
    if plan.actions:
        return read_repository(api, spec.name)
    return current


def public_view(current: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The repository as the module returns it."""
    if current is None:
        return {}
    return {k: v for k, v in current.items() if v is not None}


def planned_view(spec: RepositorySpec, current: Optional[Dict[str, Any]], plan: Plan) -> Dict[str, Any]:
    """What the repository would look like after ``plan`` (check mode's return)."""
    view = dict(current or AWS_DEFAULTS)
    for action in plan.actions:
        if action.kind in ("repository", "lifecycle_policy", "repository_policy") and isinstance(action.after, dict):
            if action.kind == "repository":
                view.update(action.after)
            else:
                view[action.kind] = action.after
        elif action.kind == "tags":
            view["tags"] = action.after
    return view


def kinds(plan: Plan) -> List[str]:
    """Kinds of the plan's actions, for messages."""
    return [a.kind for a in plan.actions]
