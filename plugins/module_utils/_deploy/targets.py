# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read-only ELBv2 calls a release needs: the health of the targets of a service's tasks.

Kept minimal and read-only on purpose: the load balancer and its target groups belong to
alb_routes; a release only looks at them.
"""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi

from .errors import DeployError


class TargetHealthError(DeployError):
    """An ELBv2 read failed."""


class TargetHealthApi(AwsApi):
    """``describe_target_health`` / ``describe_target_groups`` with retries and error translation."""

    error = TargetHealthError
    service = "elbv2"

    @staticmethod
    def _token_names(operation: str):
        return ("Marker", "NextMarker")

    def describe_target_health(self, target_group_arn: str) -> List[Dict[str, Any]]:
        """Every registered target of a target group with its health."""
        return self.call("describe_target_health", TargetGroupArn=target_group_arn).get(
            "TargetHealthDescriptions", [])

    def describe_target_groups(self, arns: List[str]) -> List[Dict[str, Any]]:
        """Target groups by ARN (the API takes up to 20 per call)."""
        out: List[Dict[str, Any]] = []
        arns = list(arns)
        for start in range(0, len(arns), 20):
            out.extend(self.paginate("describe_target_groups", "TargetGroups", TargetGroupArns=arns[start:start + 20]))
        return out
