# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The typed actions of ecs_stack's plan: one frozen dataclass per kind of write (and per wait).

The planner (planner.py) returns them in the order they are applied; the applier (applier.py)
has one method per type.  Each write carries ``report``, the :class:`Action` that check mode
lists and ``--diff`` shows; waits carry none (waiting changes nothing), they only order the
writes around them.  What a write needs from an earlier one (the ARN of a task definition
registered in this run, of a Cloud Map service created in this run) is named, not resolved:
the applier resolves it when it gets there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action


@dataclass(frozen=True)
class StackAction:
    """Base of every planned step; ``report`` is None for waits."""

    report: Optional[Action]


# Auto Scaling groups and capacity providers ----------------------------------------------------
@dataclass(frozen=True)
class ProtectGroupInstances(StackAction):
    """UpdateAutoScalingGroup NewInstancesProtectedFromScaleIn=true (managed termination protection needs it)."""

    group: str = ""


@dataclass(frozen=True)
class CreateCapacityProvider(StackAction):
    name: str = ""
    provider: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateCapacityProvider(StackAction):
    name: str = ""
    provider: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TagCapacityProvider(StackAction):
    name: str = ""
    before: Dict[str, str] = field(default_factory=dict)
    after: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteCapacityProvider(StackAction):
    name: str = ""


# cluster ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateCluster(StackAction):
    document: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateClusterSettings(StackAction):
    settings: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateServiceConnectDefaults(StackAction):
    defaults: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PutClusterCapacityProviders(StackAction):
    providers: Tuple[str, ...] = ()
    strategy: Tuple[Dict[str, Any], ...] = ()


@dataclass(frozen=True)
class TagCluster(StackAction):
    arn: str = ""
    before: Dict[str, str] = field(default_factory=dict)
    after: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteCluster(StackAction):
    pass


# Cloud Map -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CreateNamespace(StackAction):
    """CreatePrivateDnsNamespace, then wait for its operation."""

    name: str = ""
    vpc: str = ""
    description: Optional[str] = None
    tags: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateNamespace(StackAction):
    """UpdatePrivateDnsNamespace (its description), then wait for its operation."""

    namespace_id: str = ""
    description: str = ""


@dataclass(frozen=True)
class TagNamespace(StackAction):
    arn: str = ""
    before: Dict[str, str] = field(default_factory=dict)
    after: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteNamespace(StackAction):
    """DeleteNamespace, then wait for its operation."""

    namespace_id: str = ""


@dataclass(frozen=True)
class CreateDiscoveryService(StackAction):
    """CreateService of servicediscovery in the namespace (its id known now, or created in this run)."""

    service: str = ""
    name: str = ""
    namespace_id: Optional[str] = None
    document: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateDiscoveryService(StackAction):
    """UpdateService of servicediscovery: DNS records' TTL (and their type list), description."""

    service: str = ""
    service_id: str = ""
    document: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteDiscoveryService(StackAction):
    """DeleteService of servicediscovery, once no instance is registered any more."""

    service: str = ""
    service_id: str = ""


# task definitions and services -----------------------------------------------------------------
@dataclass(frozen=True)
class RegisterTaskDefinition(StackAction):
    """The first revision of a new service's family."""

    service: str = ""
    definition: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateService(StackAction):
    """CreateService with the revision registered (or reused) for it and its Cloud Map registry."""

    name: str = ""
    document: Dict[str, Any] = field(default_factory=dict)
    discovery: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class UpdateService(StackAction):
    name: str = ""
    changes: Dict[str, Any] = field(default_factory=dict)
    discovery: Optional[Dict[str, Any]] = None
    # The service moves (network mode, placement): the update carries the service's new revision, which
    # ECS checks the new load balancers, network configuration and capacity against.
    with_revision: bool = False


@dataclass(frozen=True)
class TagService(StackAction):
    name: str = ""
    arn: str = ""
    before: Dict[str, str] = field(default_factory=dict)
    after: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteService(StackAction):
    """Scale a replica service to zero (when it runs tasks), then DeleteService."""

    name: str = ""
    scale_down: bool = False


@dataclass(frozen=True)
class WaitServicesInactive(StackAction):
    names: Tuple[str, ...] = ()


# Application Auto Scaling ----------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterScalableTarget(StackAction):
    resource_id: str = ""
    min_capacity: int = 0
    max_capacity: int = 0


@dataclass(frozen=True)
class PutScalingPolicy(StackAction):
    resource_id: str = ""
    policy_name: str = ""
    policy: Dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeleteScalingPolicy(StackAction):
    resource_id: str = ""
    policy_name: str = ""


@dataclass(frozen=True)
class DeregisterScalableTarget(StackAction):
    resource_id: str = ""


def reports(actions: List[StackAction]) -> List[Action]:
    """The reported actions of a plan, in order (waits report nothing)."""
    return [a.report for a in actions if a.report is not None]
