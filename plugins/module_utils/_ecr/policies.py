# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Repository and lifecycle policies: built from simple rules, parsed, normalised, compared.

Two policy documents that mean the same thing must compare equal (repository policies with
``_aws.policy.normalise_policy``), so that a second run never reports a phantom change.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import prune
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError


def parse_policy(option: str, value: Any) -> Dict[str, Any]:
    """A policy given as a JSON string or as a dict, as a dict; else a ValidationError."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            doc = json.loads(value)
        except ValueError as exc:
            raise ValidationError(option, value, "not valid JSON: %s" % exc) from exc
        if isinstance(doc, dict):
            return doc
    raise ValidationError(option, value, "must be a JSON object (a dict or a JSON string)")


def policy_text(doc: Dict[str, Any]) -> str:
    """The text sent to AWS: stable key order, compact."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


# lifecycle ----------------------------------------------------------------------------------
def lifecycle_from_rules(rules: List[Dict[str, Any]]) -> Dict[str, Any]:
    """An ECR lifecycle policy from simple rules, priorities in the order given.

    Each rule has ``keep_last`` (keep the newest N images) or ``expire_days`` (expire images
    pushed more than D days ago), and optionally ``tag_prefixes`` and ``tag_status``.
    """
    out = []
    for index, rule in enumerate(rules):
        option = "lifecycle_rules[%d]" % index
        keep_last = rule.get("keep_last")
        expire_days = rule.get("expire_days")
        if (keep_last is None) == (expire_days is None):
            raise ValidationError(option, rule, "set exactly one of keep_last or expire_days")
        count = keep_last if keep_last is not None else expire_days
        if count < 1:
            raise ValidationError(option, rule, "keep_last and expire_days must be at least 1")
        prefixes = list(rule.get("tag_prefixes") or [])
        status = rule.get("tag_status") or ("tagged" if prefixes else "any")
        if status == "tagged" and not prefixes:
            raise ValidationError(option, rule, "tag_status=tagged needs tag_prefixes")
        if status != "tagged" and prefixes:
            raise ValidationError(option, rule, "tag_prefixes only apply with tag_status=tagged")
        if status == "any" and index != len(rules) - 1:
            # ECR evaluates rules by priority and requires the catch-all rule to come last.
            raise ValidationError(option, rule, "a rule with tag_status=any must be the last rule")
        selection: Dict[str, Any] = {"tagStatus": status}
        if prefixes:
            selection["tagPrefixList"] = prefixes
        if keep_last is not None:
            selection.update(countType="imageCountMoreThan", countNumber=keep_last)
        else:
            selection.update(countType="sinceImagePushed", countUnit="days", countNumber=expire_days)
        entry: Dict[str, Any] = {"rulePriority": index + 1, "selection": selection, "action": {"type": "expire"}}
        if rule.get("description"):
            entry["description"] = rule["description"]
        else:
            entry["description"] = _describe(status, prefixes, keep_last, expire_days)
        out.append(entry)
    return {"rules": out}


def _describe(status: str, prefixes: List[str], keep_last: Optional[int], expire_days: Optional[int]) -> str:
    what = {"tagged": "images tagged %s" % ",".join(prefixes) + "*", "untagged": "untagged images", "any": "images"}[status]
    if keep_last is not None:
        return "keep the last %d %s" % (keep_last, what)
    return "expire %s after %d days" % (what, expire_days)


def normalise_lifecycle(doc: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """A lifecycle policy in a canonical form: rules by priority, prefix lists as sets."""
    if doc is None:
        return None
    rules = []
    for rule in doc.get("rules", []) or []:
        rule = dict(rule)
        selection = dict(rule.get("selection") or {})
        for key in ("tagPrefixList", "tagPatternList"):
            if key in selection:
                selection[key] = sorted(set(selection[key]))
        if selection.get("tagStatus"):
            selection["tagStatus"] = selection["tagStatus"].lower()
        rule["selection"] = selection
        rules.append(prune(rule))
    return {"rules": sorted(rules, key=lambda r: r.get("rulePriority", 0))}
