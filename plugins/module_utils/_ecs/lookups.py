# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read-only look-ups ecs_stack needs outside ECS: target groups (ELBv2) and Cloud Map namespaces.

ecs_stack owns neither; it only resolves names to ARNs, so these wrappers never write.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError, chunks

TARGET_GROUP_NAMES_BATCH = 20


class TargetGroupReader(AwsApi):
    """Describe target groups by name or ARN, twenty per call."""

    error = EcsError
    service = "elbv2"

    @staticmethod
    def _token_names(operation: str):
        return ("Marker", "NextMarker")

    def by_names(self, names: List[str]) -> Dict[str, Dict[str, Any]]:
        """``{name: target group}`` for the names that exist; missing names are left out."""
        found: Dict[str, Dict[str, Any]] = {}
        for batch in chunks(sorted(set(names)), TARGET_GROUP_NAMES_BATCH):
            try:
                groups = self.call("describe_target_groups", Names=batch).get("TargetGroups", [])
            except EcsError as exc:
                if exc.code != "TargetGroupNotFound":
                    raise
                # One unknown name fails the whole batch: look the names up one by one to say which.
                groups = []
                for name in batch:
                    try:
                        groups.extend(self.call("describe_target_groups", Names=[name]).get("TargetGroups", []))
                    except EcsError as inner:
                        if inner.code != "TargetGroupNotFound":
                            raise
            for group in groups:
                found[group["TargetGroupName"]] = group
        return found

    def by_arns(self, arns: List[str]) -> Dict[str, Dict[str, Any]]:
        """``{arn: target group}`` for the ARNs that exist."""
        found: Dict[str, Dict[str, Any]] = {}
        for batch in chunks(sorted(set(arns)), TARGET_GROUP_NAMES_BATCH):
            try:
                groups = self.call("describe_target_groups", TargetGroupArns=batch).get("TargetGroups", [])
            except EcsError as exc:
                if exc.code != "TargetGroupNotFound":
                    raise
                groups = []
            for group in groups:
                found[group["TargetGroupArn"]] = group
        return found


class NamespaceReader(AwsApi):
    """Cloud Map namespaces by name (Service Connect defaults of a cluster)."""

    error = EcsError
    service = "servicediscovery"

    def arn_of(self, name: str) -> Optional[str]:
        """The ARN of the namespace called ``name``, or None when there is none."""
        for ns in self.paginate("list_namespaces", "Namespaces",
                                Filters=[{"Name": "NAME", "Values": [name], "Condition": "EQ"}]):
            if ns.get("Name") == name:
                return ns.get("Arn")
        return None
