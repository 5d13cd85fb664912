# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""IAM-style policy documents (IAM role trust and inline policies, ECR repository policies) in a canonical
form: two documents that mean the same thing compare equal, whatever their key order, single-item-versus-list
spelling, action case or statement order, so that a second run never reports a phantom change."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import canonical, prune

ACCOUNT_ID = re.compile(r"^\d{12}$")
# IAM treats these members' string values as sets; a lone string means a one-item set.
SET_KEYS = ("Action", "NotAction", "Resource", "NotResource")
CASE_INSENSITIVE_KEYS = ("Action", "NotAction")


def _as_set(value: Any, lower: bool = False) -> List[Any]:
    items = value if isinstance(value, list) else [value]
    if lower:
        items = [v.lower() if isinstance(v, str) else v for v in items]
    return sorted(set(items), key=canonical)


def _principal(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = {}
    for kind, ids in value.items():
        ids = _as_set(ids)
        if kind == "AWS":
            # IAM stores a bare account id as the account's root ARN.
            ids = sorted(set("arn:aws:iam::%s:root" % i if isinstance(i, str) and ACCOUNT_ID.match(i) else i for i in ids))
        out[kind] = ids
    return out


def _condition(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {op: {key: _as_set(v) for key, v in (body or {}).items()} for op, body in value.items()}


def normalise_policy(doc: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """An IAM-style policy in a canonical form (sets sorted, one-item sets as lists)."""
    if doc is None:
        return None
    out = dict(doc)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    norm = []
    for st in statements:
        st = dict(st)
        for key in SET_KEYS:
            if key in st:
                st[key] = _as_set(st[key], lower=key in CASE_INSENSITIVE_KEYS)
        for key in ("Principal", "NotPrincipal"):
            if key in st:
                st[key] = _principal(st[key])
        if "Condition" in st:
            st["Condition"] = _condition(st["Condition"])
        norm.append(prune(st))
    out["Statement"] = sorted(norm, key=canonical)
    return prune(out)
