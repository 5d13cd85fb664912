# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Cloud Map (AWS service discovery) for ecs_stack: one method per API call, and the documents.

ecs_stack owns the private DNS namespace of ``cluster.service_discovery_namespace`` and the
Cloud Map services of its services' ``service_discovery``; ECS registers each task in its
service's Cloud Map service (``serviceRegistries``).

Namespace creation, update and deletion are asynchronous: the call answers an operation id
that GetOperation follows (SUBMITTED, PENDING, then SUCCESS or FAIL).  Cloud Map refuses to
delete a service while instances are registered in it, and a namespace while it has services
(ResourceInUse).
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsError

UNKNOWN = "(known after apply)"
PRIVATE_DNS = "DNS_PRIVATE"
DEFAULT_TTL = 60
DEFAULT_FAILURE_THRESHOLD = 1
# A namespace name is a DNS domain name: labels of letters, digits and hyphens (not first or last).
_DOMAIN_LABEL = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
# A Cloud Map service name is a DNS label; underscores are allowed (SRV names such as _http._tcp).
_SERVICE_LABEL = re.compile(r"^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$")


class CloudMapApi(AwsApi):
    """AWS Cloud Map (``servicediscovery``): namespaces, services, operations, instances."""

    error = EcsError
    service = "servicediscovery"

    # namespaces --------------------------------------------------------------------------------
    def list_namespaces(self, name: str) -> List[Dict[str, Any]]:
        """The namespaces called ``name`` (every type), all pages."""
        found = self.paginate("list_namespaces", "Namespaces", Filters=[{"Name": "NAME", "Values": [name], "Condition": "EQ"}])
        return [ns for ns in found if ns.get("Name") == name]

    def arn_of(self, name: str) -> Optional[str]:
        """The ARN of the namespace called ``name``, or None when there is none (Service Connect defaults)."""
        for ns in self.list_namespaces(name):
            return ns.get("Arn")
        return None

    def create_private_dns_namespace(self, name: str, vpc: str, description: Optional[str],
                                     tags: Mapping[str, str]) -> str:
        kwargs: Dict[str, Any] = {"Name": name, "Vpc": vpc, "CreatorRequestId": str(uuid.uuid4())}
        if description:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return self.call("create_private_dns_namespace", **kwargs)["OperationId"]

    def update_private_dns_namespace(self, namespace_id: str, description: str) -> str:
        return self.call("update_private_dns_namespace", Id=namespace_id, UpdaterRequestId=str(uuid.uuid4()),
                         Namespace={"Description": description})["OperationId"]

    def delete_namespace(self, namespace_id: str) -> str:
        return self.call("delete_namespace", Id=namespace_id)["OperationId"]

    def get_namespace(self, namespace_id: str) -> Dict[str, Any]:
        return self.call("get_namespace", Id=namespace_id)["Namespace"]

    def get_operation(self, operation_id: str) -> Dict[str, Any]:
        return self.call("get_operation", OperationId=operation_id)["Operation"]

    # services ----------------------------------------------------------------------------------
    def list_services(self, namespace_id: str) -> List[Dict[str, Any]]:
        """The services of one namespace, all pages."""
        return self.paginate("list_services", "Services",
                             Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}])

    def create_service(self, **kwargs: Any) -> Dict[str, Any]:
        return self.call("create_service", CreatorRequestId=str(uuid.uuid4()), **kwargs)["Service"]

    def update_service(self, service_id: str, change: Mapping[str, Any]) -> str:
        return self.call("update_service", Id=service_id, Service=dict(change))["OperationId"]

    def delete_service(self, service_id: str) -> None:
        self.call("delete_service", Id=service_id)

    def list_instances(self, service_id: str) -> List[Dict[str, Any]]:
        return self.paginate("list_instances", "Instances", ServiceId=service_id)

    # tags --------------------------------------------------------------------------------------
    def list_tags_for_resource(self, arn: str) -> Dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.call("list_tags_for_resource", ResourceARN=arn).get("Tags") or []}

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        self.call("tag_resource", ResourceARN=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag_resource(self, arn: str, keys: List[str]) -> None:
        self.call("untag_resource", ResourceARN=arn, TagKeys=list(keys))


def service_id_of(registry_arn: str) -> str:
    """``arn:aws:servicediscovery:<region>:<account>:service/srv-xxx`` -> ``srv-xxx``."""
    return registry_arn.rsplit("/", 1)[-1]


# validation ------------------------------------------------------------------------------------
def validate_namespace_name(name: Any, where: str) -> None:
    """A DNS domain name: labels of 1..63 letters, digits, hyphens; 253 characters at most."""
    text = str(name or "").rstrip(".")
    if not text or len(text) > 253 or not all(_DOMAIN_LABEL.match(label) for label in text.split(".")):
        raise ValidationError(where, name, "not a valid DNS domain name (labels of 1 to 63 letters, digits and hyphens, "
                                           "not starting or ending with a hyphen, separated by dots)")


def validate_discovery(svc: Mapping[str, Any], where: str, network_mode: Optional[str], has_namespace: bool,
                       containers: Optional[Mapping[str, List[int]]] = None) -> None:
    """A service's ``service_discovery`` against the namespace, its other options and its network mode.

    ``network_mode``: the task definition's, when known; ``containers``: container name -> its
    container ports, when the task definition is known.
    """
    sd = svc.get("service_discovery")
    if not sd:
        return
    here = where + ".service_discovery"
    if not has_namespace:
        raise ValidationError(here, sd.get("name") or svc.get("name"),
                              "needs cluster.service_discovery_namespace (the namespace its Cloud Map service is in)")
    if svc.get("service_registries"):
        raise ValidationError(where + ".service_registries", svc["service_registries"],
                              "service_discovery and service_registries are mutually exclusive (service_discovery "
                              "makes the registry)")
    name = sd.get("name") or svc.get("name")
    if len(str(name or "")) > 127 or not all(_SERVICE_LABEL.match(label) for label in str(name or "").split(".")):
        raise ValidationError(here + ".name", name, "not a valid DNS name for a Cloud Map service (labels of 1 to 63 "
                                                    "letters, digits, hyphens and underscores)")
    record = sd.get("dns_record_type") or "A"
    if record == "A" and network_mode in ("bridge", "host"):
        raise ValidationError(here + ".dns_record_type", record, "A records need network_mode awsvpc (each task its own "
                                                                 "address); with network_mode %s use SRV" % network_mode)
    if record == "SRV" and (not sd.get("container_name") or sd.get("container_port") is None):
        raise ValidationError(here + ".container_name", sd.get("container_name"),
                              "SRV records need container_name and container_port (the port ECS registers)")
    if (sd.get("container_name") or sd.get("container_port") is not None) and record == "A":
        raise ValidationError(here + ".container_name", sd.get("container_name"),
                              "container_name and container_port are for SRV records")
    if sd.get("container_name") and containers is not None:
        ports = containers.get(sd["container_name"])
        if ports is None:
            raise ValidationError(here + ".container_name", sd["container_name"],
                                  "not a container of the task definition (%s)" % ", ".join(sorted(containers)))
        if sd.get("container_port") not in ports:
            raise ValidationError(here + ".container_port", sd.get("container_port"),
                                  "not a container port of %s (%s)" % (sd["container_name"], ", ".join(map(str, ports)) or "none"))
    ttl = sd.get("ttl")
    if ttl is not None and not 0 <= ttl <= 2147483647:
        raise ValidationError(here + ".ttl", ttl, "must be in 0..2147483647 seconds")
    threshold = sd.get("failure_threshold")
    if threshold is not None and not 1 <= threshold <= 10:
        raise ValidationError(here + ".failure_threshold", threshold, "must be in 1..10")


# documents -------------------------------------------------------------------------------------
def desired_namespace(opts: Mapping[str, Any]) -> Dict[str, Any]:
    """The managed part of the namespace: description and tags only when given."""
    doc: Dict[str, Any] = {"name": opts["name"], "vpc": opts.get("vpc")}
    if opts.get("description") is not None:
        doc["description"] = opts["description"]
    if opts.get("tags") is not None:
        doc["tags"] = {str(k): str(v) for k, v in opts["tags"].items()}
    return doc


def current_namespace(summary: Mapping[str, Any], tags: Optional[Mapping[str, str]]) -> Dict[str, Any]:
    doc: Dict[str, Any] = {"name": summary.get("Name"), "id": summary.get("Id"), "arn": summary.get("Arn"),
                           "description": summary.get("Description") or ""}
    if tags is not None:
        doc["tags"] = dict(tags)
    return doc


def plan_namespace(current: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> List[Action]:
    """Create the namespace, or update its description and tags (its name and VPC cannot change)."""
    name = desired["name"]
    if current is None:
        after = {"name": name, "vpc": desired["vpc"], "description": desired.get("description") or "",
                 "tags": desired.get("tags") or {}, "id": UNKNOWN, "arn": UNKNOWN}
        return [Action("create", "service_discovery_namespace", name, reason="namespace does not exist", after=after)]
    actions = []
    if "description" in desired and desired["description"] != current.get("description"):
        before, after = {"description": current.get("description")}, {"description": desired["description"]}
        actions.append(Action("update", "service_discovery_namespace", name, reason="description differs",
                              before=before, after=after, changes=differences(before, after)))
    if "tags" in desired and desired["tags"] != current.get("tags"):
        actions.append(Action("tag", "service_discovery_namespace", name, reason="tags differ",
                              before=current.get("tags"), after=desired["tags"],
                              changes=differences(current.get("tags") or {}, desired["tags"])))
    return actions


def desired_discovery(svc: Mapping[str, Any]) -> Dict[str, Any]:
    """A Cloud Map service from a service's ``service_discovery`` (defaults: the ECS service's name, A, 60 s)."""
    sd = svc["service_discovery"]
    return {
        "name": sd.get("name") or svc["name"],
        "dns_record_type": sd.get("dns_record_type") or "A",
        "ttl": sd["ttl"] if sd.get("ttl") is not None else DEFAULT_TTL,
        "failure_threshold": sd.get("failure_threshold") or DEFAULT_FAILURE_THRESHOLD,
        "container_name": sd.get("container_name"),
        "container_port": sd.get("container_port"),
    }


def current_discovery(summary: Mapping[str, Any]) -> Dict[str, Any]:
    """A ListServices entry as the same document (the first DNS record's type and TTL)."""
    records = (summary.get("DnsConfig") or {}).get("DnsRecords") or [{}]
    return {
        "name": summary.get("Name"),
        "id": summary.get("Id"),
        "arn": summary.get("Arn"),
        "dns_record_type": records[0].get("Type"),
        "ttl": records[0].get("TTL"),
        "failure_threshold": (summary.get("HealthCheckCustomConfig") or {}).get("FailureThreshold"),
    }


def plan_discovery(service: str, current: Optional[Mapping[str, Any]], desired: Mapping[str, Any]) -> List[Action]:
    """Create the Cloud Map service, or update the TTL of its records.

    The record type cannot change in place (raises), and the custom health check's failure
    threshold is only sent at creation: Cloud Map no longer supports it and answers 1.
    """
    name = desired["name"]
    shown = {k: desired[k] for k in ("name", "dns_record_type", "ttl", "failure_threshold")}
    if current is None:
        after = dict(shown, id=UNKNOWN, arn=UNKNOWN)
        return [Action("create", "service_discovery_service", name, reason="Cloud Map service does not exist", after=after)]
    if current.get("dns_record_type") != desired["dns_record_type"]:
        raise EcsError("service %s: the DNS record type of Cloud Map service %s cannot change in place (%s -> %s); "
                       "delete the service (state=absent) and create it again" % (
                           service, name, current.get("dns_record_type"), desired["dns_record_type"]))
    if current.get("ttl") != desired["ttl"]:
        before, after = {"ttl": current.get("ttl")}, {"ttl": desired["ttl"]}
        return [Action("update", "service_discovery_service", name, reason="DNS record TTL differs",
                       before=before, after=after, changes=differences(before, after))]
    return []


def create_service_kwargs(desired: Mapping[str, Any], namespace_id: str, tags: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """CreateService arguments: multivalue answers of one record type, ECS-reported health."""
    kwargs: Dict[str, Any] = {
        "Name": desired["name"],
        "NamespaceId": namespace_id,
        "DnsConfig": {"RoutingPolicy": "MULTIVALUE",
                      "DnsRecords": [{"Type": desired["dns_record_type"], "TTL": desired["ttl"]}]},
        "HealthCheckCustomConfig": {"FailureThreshold": desired["failure_threshold"]},
    }
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    return kwargs


def registry_entry(desired: Mapping[str, Any], arn: str) -> Dict[str, Any]:
    """The ECS ``serviceRegistries`` entry: the Cloud Map service, and for SRV the container and port."""
    entry: Dict[str, Any] = {"registryArn": arn}
    if desired["dns_record_type"] == "SRV":
        entry["containerName"] = desired["container_name"]
        entry["containerPort"] = desired["container_port"]
    return entry
