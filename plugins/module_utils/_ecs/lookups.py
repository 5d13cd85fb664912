# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read-only look-ups ecs_stack needs outside ECS: Cloud Map namespaces (target groups are read
through the one ELBv2 wrapper, ``_elbv2.api.Elbv2Api``).

ecs_stack owns neither; it only resolves names to ARNs, so these look-ups never write.
"""

from __future__ import annotations

from typing import Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError


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
