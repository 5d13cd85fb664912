# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Read-only calls the environment plan makes to services no module of ours writes to.

Certificates and hosted zones are the user's, the EC2 capacity's scaling policies community.aws's: the
plan only reads them.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError


class PlanApiError(AwsApiError):
    """A read of the environment plan failed."""


class AcmApi(AwsApi):
    error = PlanApiError
    service = "acm"

    def list_certificates(self, statuses: Optional[List[str]] = None) -> List[Dict[str, Any]]:
        kwargs: Dict[str, Any] = {"Includes": {"keyTypes": ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096",
                                                            "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]}}
        if statuses:
            kwargs["CertificateStatuses"] = statuses
        return list(self.paginate("list_certificates", "CertificateSummaryList", **kwargs))

    def describe_certificate(self, arn: str) -> Optional[Dict[str, Any]]:
        try:
            return self.call("describe_certificate", CertificateArn=arn)["Certificate"]
        except PlanApiError as exc:
            if exc.code in ("ResourceNotFoundException", "ValidationException", "InvalidArnException"):
                return None
            raise


class Route53Api(AwsApi):
    error = PlanApiError
    service = "route53"

    def hosted_zones_named(self, name: str) -> List[Dict[str, Any]]:
        """Zones called ``name`` (public and private), from ListHostedZonesByName's first page."""
        dns = name.rstrip(".").lower() + "."
        zones = self.call("list_hosted_zones_by_name", DNSName=dns, MaxItems="10").get("HostedZones", [])
        return [zone for zone in zones if zone["Name"].lower() == dns]

    def record(self, zone_id: str, name: str, kind: str) -> Optional[Dict[str, Any]]:
        """The record set ``name`` (lower case, final dot) of type ``kind`` in the zone; None if there is none."""
        found = self.call("list_resource_record_sets", HostedZoneId=zone_id, StartRecordName=name, StartRecordType=kind,
                          MaxItems="1").get("ResourceRecordSets", [])
        for record in found:
            if record["Name"].lower() == name and record["Type"] == kind:
                return record
        return None


class AutoScalingPolicyApi(AwsApi):
    """The EC2 capacity's scaling policies (community.aws.autoscaling_policy writes them)."""

    error = PlanApiError
    service = "autoscaling"

    def describe_policies(self, group: str, names: List[str]) -> List[Dict[str, Any]]:
        if not names:
            return []
        return list(self.paginate("describe_policies", "ScalingPolicies", AutoScalingGroupName=group, PolicyNames=names))
