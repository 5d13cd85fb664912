# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The EC2 and IAM calls of platform_stack: the network, security groups and IAM roles it owns.

Reads are batched by filter (one DescribeSubnets for every subnet of the VPC, one
DescribeSecurityGroups for every group of the environment); writes are one call per difference.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import AwsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError


class PlatformApiError(AwsApiError):
    """An EC2 or IAM call of platform_stack failed."""


def tag_filters(tags: Dict[str, str]) -> List[Dict[str, Any]]:
    return [{"Name": "tag:%s" % key, "Values": [value]} for key, value in sorted(tags.items())]


def tag_specification(kind: str, tags: Dict[str, str]) -> List[Dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}] if tags else []


class PlatformEc2Api(AwsApi):
    error = PlatformApiError
    service = "ec2"

    # reads ------------------------------------------------------------------------------------
    def _described(self, operation: str, key: str, ids_key: str, ids: Optional[List[str]],
                   filters: Optional[List[Dict[str, Any]]], not_found: str) -> List[Dict[str, Any]]:
        """Every item ``operation`` describes by ids and/or filters; none when an id does not exist."""
        kwargs: Dict[str, Any] = {}
        if ids:
            kwargs[ids_key] = ids
        if filters:
            kwargs["Filters"] = filters
        try:
            return list(self.paginate(operation, key, **kwargs))
        except PlatformApiError as exc:
            if exc.code == not_found:
                return []
            raise

    def describe_vpcs(self, vpc_ids: Optional[List[str]] = None, filters: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
        return self._described("describe_vpcs", "Vpcs", "VpcIds", vpc_ids, filters, "InvalidVpcID.NotFound")

    def vpc_attribute(self, vpc_id: str, attribute: str) -> bool:
        """``enableDnsSupport`` or ``enableDnsHostnames``."""
        found = self.call("describe_vpc_attribute", VpcId=vpc_id, Attribute=attribute)
        key = attribute[0].upper() + attribute[1:]
        return bool((found.get(key) or {}).get("Value"))

    def describe_subnets(self, subnet_ids: Optional[List[str]] = None, filters: Optional[List[Dict[str, Any]]] = None) -> List[Dict[str, Any]]:
        return self._described("describe_subnets", "Subnets", "SubnetIds", subnet_ids, filters, "InvalidSubnetID.NotFound")

    def describe_internet_gateways(self, vpc_id: str) -> List[Dict[str, Any]]:
        return list(self.paginate("describe_internet_gateways", "InternetGateways",
                                  Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]))

    def describe_route_tables(self, vpc_id: str, filters: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        return list(self.paginate("describe_route_tables", "RouteTables",
                                  Filters=[{"Name": "vpc-id", "Values": [vpc_id]}] + filters))

    def describe_security_groups(self, vpc_id: str, names: List[str]) -> List[Dict[str, Any]]:
        if not names:
            return []
        return list(self.paginate("describe_security_groups", "SecurityGroups",
                                  Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": names}]))

    # writes -----------------------------------------------------------------------------------
    def create_vpc(self, cidr: str, tags: Dict[str, str]) -> str:
        return self.call("create_vpc", CidrBlock=cidr, TagSpecifications=tag_specification("vpc", tags))["Vpc"]["VpcId"]

    def set_vpc_attribute(self, vpc_id: str, attribute: str, value: bool) -> None:
        key = attribute[0].upper() + attribute[1:]
        self.call("modify_vpc_attribute", VpcId=vpc_id, **{key: {"Value": value}})

    def create_internet_gateway(self, vpc_id: str, tags: Dict[str, str]) -> str:
        gateway = self.call("create_internet_gateway", TagSpecifications=tag_specification("internet-gateway", tags))
        gateway_id = gateway["InternetGateway"]["InternetGatewayId"]
        self.call("attach_internet_gateway", InternetGatewayId=gateway_id, VpcId=vpc_id)
        return gateway_id

    def create_subnet(self, vpc_id: str, cidr: str, zone: str, tags: Dict[str, str]) -> str:
        return self.call("create_subnet", VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone,
                         TagSpecifications=tag_specification("subnet", tags))["Subnet"]["SubnetId"]

    def map_public_ip_on_launch(self, subnet_id: str) -> None:
        self.call("modify_subnet_attribute", SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})

    def create_route_table(self, vpc_id: str, tags: Dict[str, str]) -> str:
        return self.call("create_route_table", VpcId=vpc_id,
                         TagSpecifications=tag_specification("route-table", tags))["RouteTable"]["RouteTableId"]

    def create_route(self, table_id: str, destination: str, gateway_id: str) -> None:
        self.call("create_route", RouteTableId=table_id, DestinationCidrBlock=destination, GatewayId=gateway_id)

    def replace_route(self, table_id: str, destination: str, gateway_id: str) -> None:
        self.call("replace_route", RouteTableId=table_id, DestinationCidrBlock=destination, GatewayId=gateway_id)

    def delete_route(self, table_id: str, destination: str) -> None:
        self.call("delete_route", RouteTableId=table_id, DestinationCidrBlock=destination)

    def associate_route_table(self, table_id: str, subnet_id: str) -> None:
        self.call("associate_route_table", RouteTableId=table_id, SubnetId=subnet_id)

    def replace_route_table_association(self, association_id: str, table_id: str) -> None:
        self.call("replace_route_table_association", AssociationId=association_id, RouteTableId=table_id)

    def disassociate_route_table(self, association_id: str) -> None:
        self.call("disassociate_route_table", AssociationId=association_id)

    def create_security_group(self, vpc_id: str, name: str, description: str, tags: Dict[str, str]) -> str:
        return self.call("create_security_group", VpcId=vpc_id, GroupName=name, Description=description,
                         TagSpecifications=tag_specification("security-group", tags))["GroupId"]

    def authorize_ingress(self, group_id: str, permissions: List[Dict[str, Any]]) -> None:
        self.call("authorize_security_group_ingress", GroupId=group_id, IpPermissions=permissions)

    def revoke_ingress(self, group_id: str, permissions: List[Dict[str, Any]]) -> None:
        self.call("revoke_security_group_ingress", GroupId=group_id, IpPermissions=permissions)

    def update_ingress_descriptions(self, group_id: str, permissions: List[Dict[str, Any]]) -> None:
        self.call("update_security_group_rule_descriptions_ingress", GroupId=group_id, IpPermissions=permissions)

    def authorize_egress(self, group_id: str, permissions: List[Dict[str, Any]]) -> None:
        self.call("authorize_security_group_egress", GroupId=group_id, IpPermissions=permissions)

    def revoke_egress(self, group_id: str, permissions: List[Dict[str, Any]]) -> None:
        self.call("revoke_security_group_egress", GroupId=group_id, IpPermissions=permissions)

    def create_tags(self, resource_id: str, tags: Dict[str, str]) -> None:
        self.call("create_tags", Resources=[resource_id], Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def delete_tags(self, resource_id: str, keys: List[str]) -> None:
        self.call("delete_tags", Resources=[resource_id], Tags=[{"Key": k} for k in sorted(keys)])


class PlatformIamApi(AwsApi):
    error = PlatformApiError
    service = "iam"

    @staticmethod
    def _token_names(operation: str):
        return ("Marker", "Marker")

    # reads ------------------------------------------------------------------------------------
    def get_role(self, name: str) -> Optional[Dict[str, Any]]:
        """The role (its trust policy decoded, its tags), or None."""
        try:
            return self.call("get_role", RoleName=name)["Role"]
        except PlatformApiError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise

    def attached_policies(self, name: str) -> List[str]:
        return [p["PolicyArn"] for p in self.paginate("list_attached_role_policies", "AttachedPolicies", RoleName=name)]

    def inline_policy_names(self, name: str) -> List[str]:
        return list(self.paginate("list_role_policies", "PolicyNames", RoleName=name))

    def get_role_policy(self, role: str, policy: str) -> Optional[Dict[str, Any]]:
        """The inline policy's document (decoded), or None."""
        try:
            document = self.call("get_role_policy", RoleName=role, PolicyName=policy)["PolicyDocument"]
        except PlatformApiError as exc:
            if exc.code == "NoSuchEntity":
                return None
            raise
        return json.loads(document) if isinstance(document, str) else document

    # writes -----------------------------------------------------------------------------------
    def create_role(self, name: str, trust: Dict[str, Any], description: str, tags: Dict[str, str]) -> str:
        kwargs: Dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": json.dumps(trust)}
        if description:
            kwargs["Description"] = description
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        return self.call("create_role", **kwargs)["Role"]["Arn"]

    def wait_until_readable(self, name: str, attempts: int = 20, sleep: Callable[[float], None] = time.sleep) -> None:
        """IAM is eventually consistent: wait until a role just created reads back (as IAM's ``role_exists`` waiter does),
        so that ECS, given its ARN next, finds it."""
        for _attempt in range(attempts):
            if self.get_role(name) is not None:
                return
            sleep(1.0)
        raise PlatformApiError("role %s was created but does not read back after %d s" % (name, attempts))

    def update_trust(self, name: str, trust: Dict[str, Any]) -> None:
        self.call("update_assume_role_policy", RoleName=name, PolicyDocument=json.dumps(trust))

    def update_description(self, name: str, description: str) -> None:
        self.call("update_role", RoleName=name, Description=description)

    def attach_policy(self, name: str, arn: str) -> None:
        self.call("attach_role_policy", RoleName=name, PolicyArn=arn)

    def detach_policy(self, name: str, arn: str) -> None:
        self.call("detach_role_policy", RoleName=name, PolicyArn=arn)

    def put_role_policy(self, name: str, policy: str, document: Dict[str, Any]) -> None:
        self.call("put_role_policy", RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document))

    def delete_role_policy(self, name: str, policy: str) -> None:
        self.call("delete_role_policy", RoleName=name, PolicyName=policy)

    def tag_role(self, name: str, tags: Dict[str, str]) -> None:
        self.call("tag_role", RoleName=name, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])

    def untag_role(self, name: str, keys: List[str]) -> None:
        self.call("untag_role", RoleName=name, TagKeys=sorted(keys))
