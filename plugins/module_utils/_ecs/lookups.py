# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The Cloud Map wrapper under the name its first callers use (target groups are read through
the one ELBv2 wrapper, ``_elbv2.api.Elbv2Api``).

ecs_stack resolves the Service Connect namespace by name with it (a read), and owns the Cloud
Map namespace and services of its services' service discovery (see cloudmap.py).
"""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.cloudmap import CloudMapApi


class NamespaceReader(CloudMapApi):
    """Cloud Map, as ecs_stack and the environment plan are given it (see :class:`CloudMapApi`)."""
