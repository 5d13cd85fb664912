# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""platform_stack end to end: the environment's network, security groups and IAM roles.

One pass reads and compares every resource, in dependency order (VPC, internet gateway, subnets,
route table, security groups, roles), and records an :class:`Action` per difference. The first pass
never writes: it is check mode's answer and the validation of everything that needs reading (a
subnet in another zone, two VPCs matching a filter). Only when it found work and the run is not in
check mode does a second pass, with writes, make the same comparisons on fresh reads and write each
difference as it meets it (a new VPC's id is what its subnets are created in). A no-op is one pass
of batched reads.

What the module owns, it makes exactly as asked: tags (``aws:`` tags aside) of every resource,
the route table's IPv4 routes and subnet associations, each group's inbound rules and its one
outbound rule (all traffic out), each role's trust policy, description, tags and managed policies.
Inline policies are owned by name: a name given with a document is put, a name given with
``null`` is deleted, other inline policies of the role are left alone. A group's description
cannot change in EC2: a different one is reported as a warning.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import combined_calls
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import tag_delta, tags_to_dict
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.policy import normalise_policy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.result import Action, Plan, Result

from .api import PlatformApiError, PlatformEc2Api, PlatformIamApi, tag_filters

UNKNOWN = "(known after apply)"
ANYWHERE = "0.0.0.0/0"
# A rule: (protocol, from port, to port, source) -> its description. The source is "cidr:<block>",
# "group:<id>" (or, for a group not created yet, "group:<name>"), "ipv6:<block>" or "prefix:<id>".
Rules = Dict[Tuple[str, Optional[int], Optional[int], str], str]
ALL_OUT: Rules = {("-1", None, None, "cidr:" + ANYWHERE): ""}


def trust_policy(service: str) -> Dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def rules_of(permissions: List[Dict[str, Any]]) -> Rules:
    """AWS's IpPermissions as rules."""
    out: Rules = {}
    for perm in permissions:
        proto = str(perm.get("IpProtocol"))
        low, high = (None, None) if proto == "-1" else (perm.get("FromPort"), perm.get("ToPort"))
        for kind, list_key, key in (("cidr", "IpRanges", "CidrIp"), ("ipv6", "Ipv6Ranges", "CidrIpv6"),
                                    ("group", "UserIdGroupPairs", "GroupId"), ("prefix", "PrefixListIds", "PrefixListId")):
            for source in perm.get(list_key) or []:
                out[(proto, low, high, "%s:%s" % (kind, source.get(key)))] = source.get("Description") or ""
    return out


def permission(rule: Tuple[str, Optional[int], Optional[int], str], description: str) -> Dict[str, Any]:
    """One rule as an IpPermission."""
    proto, low, high, source = rule
    kind, value = source.split(":", 1)
    out: Dict[str, Any] = {"IpProtocol": proto}
    if proto != "-1":
        out.update(FromPort=low, ToPort=high)
    list_key, key = {"cidr": ("IpRanges", "CidrIp"), "ipv6": ("Ipv6Ranges", "CidrIpv6"),
                     "group": ("UserIdGroupPairs", "GroupId"), "prefix": ("PrefixListIds", "PrefixListId")}[kind]
    item = {key: value}
    if description:
        item["Description"] = description
    out[list_key] = [item]
    return out


def rule_line(rule: Tuple[str, Optional[int], Optional[int], str], names: Dict[str, str]) -> str:
    """``tcp 8080 from <group name>`` (what the plan prints)."""
    proto, low, high, source = rule
    kind, value = source.split(":", 1)
    ports = "all" if proto == "-1" else "%s" % low if low == high else "%s-%s" % (low, high)
    return "%s %s from %s" % ("all" if proto == "-1" else proto, ports, names.get(value, value) if kind == "group" else value)


def validate(params: Dict[str, Any]) -> None:
    """What can be refused without reading AWS, before anything is read or written."""
    if not params["name"]:
        raise ValidationError("name", params["name"], "must not be empty")
    net = params["network"]
    if net["create"]:
        zones = {s["az"] for s in net["public_subnets"]}
        if len(zones) < 2:
            raise ValidationError("network.public_subnets", net["public_subnets"],
                                  "give subnets in at least two Availability Zones (a load balancer needs two)")
        cidrs = [s["cidr"] for s in net["public_subnets"]]
        if len(set(cidrs)) != len(cidrs):
            raise ValidationError("network.public_subnets", cidrs, "the same CIDR block twice")
    elif not (net.get("vpc_id") or net.get("vpc_tags")):
        raise ValidationError("network", {k: v for k, v in net.items() if v is not None},
                              "give vpc_id or vpc_tags of an existing VPC, or create=true")
    names = [g["name"] for g in params["security_groups"]]
    if len(set(names)) != len(names):
        raise ValidationError("security_groups", names, "a group name given twice")
    for index, group in enumerate(params["security_groups"]):
        for number, rule in enumerate(group["rules"]):
            where = "security_groups[%d].rules[%d]" % (index, number)
            if not (0 <= rule["from_port"] <= rule["to_port"] <= 65535):
                raise ValidationError(where, rule, "ports must be 0 <= from_port <= to_port <= 65535")
            if rule.get("group_name") and rule["group_name"] not in names:
                raise ValidationError(where + ".group_name", rule["group_name"],
                                      "not one of the groups given (%s)" % ", ".join(names))
    roles = [r["name"] for r in params["roles"]]
    if len(set(roles)) != len(roles):
        raise ValidationError("roles", roles, "a role name given twice")
    for index, role in enumerate(params["roles"]):
        for policy, document in role["inline_policies"].items():
            if document is not None and not (isinstance(document, dict) and document.get("Statement")):
                raise ValidationError("roles[%d].inline_policies.%s" % (index, policy), document,
                                      "a policy document with a Statement, or null to delete the policy")


class Pass:
    """One reading (and, with ``write``, writing) pass over the platform."""

    def __init__(self, ec2: PlatformEc2Api, iam: PlatformIamApi, params: Dict[str, Any], write: bool) -> None:
        self.ec2 = ec2
        self.iam = iam
        self.params = params
        self.write = write
        self.name = params["name"]
        self.plan = Plan()
        self.warnings: List[str] = []
        # Every resource, in order: kind, name and id (for the environment plan's unchanged lines).
        self.resources: List[Dict[str, str]] = []
        self.out: Dict[str, Any] = {"vpc_id": UNKNOWN, "subnet_ids": [], "private_subnet_ids": [], "security_groups": {},
                                    "roles": {}}

    def tags(self, name: Optional[str] = None) -> Dict[str, str]:
        out = {str(k): str(v) for k, v in self.params["tags"].items()}
        if name is not None:
            out["Name"] = name
        return out

    def run(self) -> "Pass":
        if self.params["network"]["create"]:
            self._created_network()
        else:
            self._found_network()
        self._security_groups()
        self._roles()
        return self

    # -- helpers ------------------------------------------------------------------------------

    def _record(self, verb: str, kind: str, name: str, changes: List[Dict[str, Any]], reason: str = "",
                resource_id: str = "") -> None:
        self.resources.append({"kind": kind, "name": name, "id": resource_id or UNKNOWN})
        if verb == "unchanged":
            return
        before = {c["path"]: c["before"] for c in changes} if verb != "create" else None
        after = {c["path"]: c["after"] for c in changes}
        self.plan.add(Action(verb, kind, name, reason=reason, before=before, after=after, changes=changes))

    @staticmethod
    def _tag_changes(have: Dict[str, str], want: Dict[str, str], changes: List[Dict[str, Any]]) -> Tuple[Dict[str, str], List[str]]:
        """Record the tag differences; the tags to set and the keys to remove."""
        put, remove = tag_delta(have, want)
        changes.extend({"path": "tags.%s" % key, "before": have.get(key), "after": value} for key, value in put.items())
        changes.extend({"path": "tags.%s" % key, "before": have[key], "after": None} for key in remove)
        return put, remove

    def _ec2_tags(self, resource_id: str, have: Dict[str, str], want: Dict[str, str], changes: List[Dict[str, Any]]) -> None:
        """Record (and write) the tag differences of an EC2 resource."""
        put, remove = self._tag_changes(have, want, changes)
        if self.write and put:
            self.ec2.create_tags(resource_id, put)
        if self.write and remove:
            self.ec2.delete_tags(resource_id, remove)

    # -- network, created -----------------------------------------------------------------------

    def _created_network(self) -> None:
        net = self.params["network"]
        vpcs = [v for v in self.ec2.describe_vpcs(filters=tag_filters({"Name": self.name})) if v.get("CidrBlock") == net["cidr"]]
        if len(vpcs) > 1:
            raise ValidationError("network.cidr", net["cidr"], "%d VPCs are named %s with this CIDR block (%s): expected at most one"
                                  % (len(vpcs), self.name, ", ".join(sorted(v["VpcId"] for v in vpcs))))
        vpc_id = self._vpc(vpcs[0] if vpcs else None)
        self.out["vpc_id"] = vpc_id
        known = vpc_id != UNKNOWN
        gateway_id = self._internet_gateway(vpc_id if known else None)
        subnets = self.ec2.describe_subnets(filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) if known else []
        subnet_ids = self._subnets(vpc_id, subnets)
        self.out["subnet_ids"] = subnet_ids
        self._route_table(vpc_id if known else None, gateway_id, subnet_ids)

    def _vpc(self, found: Optional[Dict[str, Any]]) -> str:
        net = self.params["network"]
        want_tags = self.tags(self.name)
        if found is None:
            after = [{"path": "cidr", "before": None, "after": net["cidr"]}, {"path": "dns_support", "before": None, "after": True},
                     {"path": "dns_hostnames", "before": None, "after": True}, {"path": "tags", "before": None, "after": want_tags}]
            vpc_id = UNKNOWN
            if self.write:
                vpc_id = self.ec2.create_vpc(net["cidr"], want_tags)
                # A new VPC resolves DNS already; hostnames are off by default.
                self.ec2.set_vpc_attribute(vpc_id, "enableDnsHostnames", True)
            self._record("create", "vpc", self.name, after, resource_id=vpc_id)
            return vpc_id
        vpc_id = found["VpcId"]
        changes: List[Dict[str, Any]] = []
        for attribute, path in (("enableDnsSupport", "dns_support"), ("enableDnsHostnames", "dns_hostnames")):
            if not self.ec2.vpc_attribute(vpc_id, attribute):
                changes.append({"path": path, "before": False, "after": True})
                if self.write:
                    self.ec2.set_vpc_attribute(vpc_id, attribute, True)
        self._ec2_tags(vpc_id, tags_to_dict(found.get("Tags")), want_tags, changes)
        self._record("update" if changes else "unchanged", "vpc", self.name, changes, resource_id=vpc_id)
        return vpc_id

    def _internet_gateway(self, vpc_id: Optional[str]) -> str:
        want_tags = self.tags(self.name)
        gateways = self.ec2.describe_internet_gateways(vpc_id) if vpc_id else []
        if not gateways:
            gateway_id = self.ec2.create_internet_gateway(self.out["vpc_id"], want_tags) if self.write else UNKNOWN
            self._record("create", "internet_gateway", self.name, [{"path": "vpc", "before": None, "after": self.out["vpc_id"]},
                                                                   {"path": "tags", "before": None, "after": want_tags}],
                         resource_id=gateway_id)
            return gateway_id
        gateway = gateways[0]
        changes: List[Dict[str, Any]] = []
        self._ec2_tags(gateway["InternetGatewayId"], tags_to_dict(gateway.get("Tags")), want_tags, changes)
        self._record("update" if changes else "unchanged", "internet_gateway", self.name, changes,
                     resource_id=gateway["InternetGatewayId"])
        return gateway["InternetGatewayId"]

    def _subnets(self, vpc_id: str, found: List[Dict[str, Any]]) -> List[str]:
        by_cidr = {s["CidrBlock"]: s for s in found}
        ids = []
        for index, subnet in enumerate(self.params["network"]["public_subnets"]):
            name = "%s-public-%s" % (self.name, subnet["az"])
            want_tags = self.tags(name)
            current = by_cidr.get(subnet["cidr"])
            if current is None:
                # Subnets still to create stand for themselves, one per zone (a load balancer's planner counts the zones).
                subnet_id = "%s: subnet in %s" % (UNKNOWN, subnet["az"])
                if self.write:
                    subnet_id = self.ec2.create_subnet(vpc_id, subnet["cidr"], subnet["az"], want_tags)
                    self.ec2.map_public_ip_on_launch(subnet_id)
                self._record("create", "subnet", name, [{"path": "cidr", "before": None, "after": subnet["cidr"]},
                                                        {"path": "az", "before": None, "after": subnet["az"]},
                                                        {"path": "map_public_ip_on_launch", "before": None, "after": True},
                                                        {"path": "tags", "before": None, "after": want_tags}],
                             resource_id=subnet_id)
                ids.append(subnet_id)
                continue
            if current.get("AvailabilityZone") != subnet["az"]:
                raise ValidationError("network.public_subnets[%d].az" % index, subnet["az"], "subnet %s (%s) of the VPC is in %s: "
                                      "a subnet cannot move; give its zone or another CIDR block"
                                      % (current["SubnetId"], subnet["cidr"], current.get("AvailabilityZone")))
            changes: List[Dict[str, Any]] = []
            if not current.get("MapPublicIpOnLaunch"):
                changes.append({"path": "map_public_ip_on_launch", "before": False, "after": True})
                if self.write:
                    self.ec2.map_public_ip_on_launch(current["SubnetId"])
            self._ec2_tags(current["SubnetId"], tags_to_dict(current.get("Tags")), want_tags, changes)
            self._record("update" if changes else "unchanged", "subnet", name, changes, resource_id=current["SubnetId"])
            ids.append(current["SubnetId"])
        return ids

    def _route_table(self, vpc_id: Optional[str], gateway_id: str, subnet_ids: List[str]) -> None:
        name = self.name + "-public"
        want_tags = self.tags(name)
        tables = self.ec2.describe_route_tables(vpc_id, tag_filters({"Name": name})) if vpc_id else []
        if len(tables) > 1:
            raise ValidationError("name", self.name, "%d route tables of %s are named %s (%s): expected at most one"
                                  % (len(tables), vpc_id, name, ", ".join(sorted(t["RouteTableId"] for t in tables))))
        if not tables:
            table_id = UNKNOWN
            if self.write:
                table_id = self.ec2.create_route_table(self.out["vpc_id"], want_tags)
                self.ec2.create_route(table_id, ANYWHERE, gateway_id)
                for subnet_id in subnet_ids:
                    self._associate(table_id, subnet_id)
            self._record("create", "route_table", name, [{"path": "routes", "before": None, "after": {ANYWHERE: gateway_id}},
                                                         {"path": "subnets", "before": None, "after": subnet_ids},
                                                         {"path": "tags", "before": None, "after": want_tags}],
                         resource_id=table_id)
            return
        table = tables[0]
        table_id = table["RouteTableId"]
        changes: List[Dict[str, Any]] = []
        # The local route (and any route the table was created with) is AWS's; IPv6 and prefix-list routes are left alone.
        routes = {r["DestinationCidrBlock"]: r.get("GatewayId") or r.get("NatGatewayId") or r.get("NetworkInterfaceId")
                  or r.get("TransitGatewayId") or r.get("VpcPeeringConnectionId") or r.get("InstanceId") or "blackhole"
                  for r in table.get("Routes") or []
                  if r.get("DestinationCidrBlock") and r.get("Origin") != "CreateRouteTable" and r.get("GatewayId") != "local"}
        if routes.get(ANYWHERE) != gateway_id:
            changes.append({"path": "routes.%s" % ANYWHERE, "before": routes.get(ANYWHERE), "after": gateway_id})
            if self.write:
                (self.ec2.replace_route if ANYWHERE in routes else self.ec2.create_route)(table_id, ANYWHERE, gateway_id)
        for destination in sorted(set(routes) - {ANYWHERE}):
            changes.append({"path": "routes.%s" % destination, "before": routes[destination], "after": None})
            if self.write:
                self.ec2.delete_route(table_id, destination)
        associations = {a["SubnetId"]: a["RouteTableAssociationId"] for a in table.get("Associations") or []
                        if a.get("SubnetId") and not a.get("Main")}
        for subnet_id in subnet_ids:
            if subnet_id not in associations:
                changes.append({"path": "subnets.%s" % subnet_id, "before": None, "after": "associated"})
                if self.write:
                    self._associate(table_id, subnet_id)
        for subnet_id in sorted(set(associations) - set(subnet_ids)):
            changes.append({"path": "subnets.%s" % subnet_id, "before": "associated", "after": None})
            if self.write:
                self.ec2.disassociate_route_table(associations[subnet_id])
        self._ec2_tags(table_id, tags_to_dict(table.get("Tags")), want_tags, changes)
        self._record("update" if changes else "unchanged", "route_table", name, changes, resource_id=table_id)

    def _associate(self, table_id: str, subnet_id: str) -> None:
        """Associate the subnet, moving it from the route table it is associated with, if any."""
        try:
            self.ec2.associate_route_table(table_id, subnet_id)
        except PlatformApiError as exc:
            if exc.code != "Resource.AlreadyAssociated":
                raise
            for table in self.ec2.describe_route_tables(self.out["vpc_id"], [{"Name": "association.subnet-id", "Values": [subnet_id]}]):
                for association in table.get("Associations") or []:
                    if association.get("SubnetId") == subnet_id:
                        self.ec2.replace_route_table_association(association["RouteTableAssociationId"], table_id)
                        return
            raise

    # -- network, found -------------------------------------------------------------------------

    def _found_network(self) -> None:
        net = self.params["network"]
        if net.get("vpc_id"):
            vpcs = self.ec2.describe_vpcs(vpc_ids=[net["vpc_id"]])
            where, value = "network.vpc_id", net["vpc_id"]
        else:
            vpcs = self.ec2.describe_vpcs(filters=tag_filters(net["vpc_tags"]))
            where, value = "network.vpc_tags", net["vpc_tags"]
        if len(vpcs) != 1:
            raise ValidationError(where, value, "%d VPCs match; expected exactly one" % len(vpcs))
        vpc_id = vpcs[0]["VpcId"]
        self.out["vpc_id"] = vpc_id
        self.resources.append({"kind": "vpc", "name": vpc_id, "id": vpc_id})
        subnets = self._find_subnets(vpc_id, "subnet", net)
        zones = {s.get("AvailabilityZone") for s in subnets}
        if len(zones) < 2:
            key = "subnet_tags" if net.get("subnet_tags") else "subnet_ids"
            raise ValidationError("network." + key, net.get(key), "the subnets found (%s) span %d Availability Zone(s); a load "
                                  "balancer needs two" % (", ".join(sorted(s["SubnetId"] for s in subnets)) or "none", len(zones)))
        self.out["subnet_ids"] = sorted(s["SubnetId"] for s in subnets)
        if net.get("private_subnet_ids") or net.get("private_subnet_tags"):
            private = self._find_subnets(vpc_id, "private_subnet", net)
            if not private:
                raise ValidationError("network.private_subnet_tags", net["private_subnet_tags"], "no subnet of %s matches" % vpc_id)
            self.out["private_subnet_ids"] = sorted(s["SubnetId"] for s in private)

    def _find_subnets(self, vpc_id: str, prefix: str, net: Dict[str, Any]) -> List[Dict[str, Any]]:
        ids = net.get(prefix + "_ids")
        found = self.ec2.describe_subnets(subnet_ids=ids, filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
                                          + tag_filters(net.get(prefix + "_tags") or {}))
        missing = sorted(set(ids or []) - {s["SubnetId"] for s in found})
        if missing:
            raise ValidationError("network.%s_ids" % prefix, ids, "not subnets of %s: %s" % (vpc_id, ", ".join(missing)))
        return found

    # -- security groups ------------------------------------------------------------------------

    def _security_groups(self) -> None:
        groups = self.params["security_groups"]
        vpc_id = self.out["vpc_id"]
        found = {}
        if vpc_id != UNKNOWN:
            found = {g["GroupName"]: g for g in self.ec2.describe_security_groups(vpc_id, [g["name"] for g in groups])}
        # Every group first (rules name each other), then each group's rules.
        ids: Dict[str, str] = {}
        for group in groups:
            current = found.get(group["name"])
            if current is not None:
                ids[group["name"]] = current["GroupId"]
                if current.get("Description") != group["description"]:
                    self.warnings.append("security group %s (%s): its description is %r, not %r; EC2 cannot change a group's "
                                         "description (delete the group to have it created again)"
                                         % (group["name"], current["GroupId"], current.get("Description"), group["description"]))
            elif self.write:
                ids[group["name"]] = self.ec2.create_security_group(vpc_id, group["name"], group["description"],
                                                                    self.tags(group["name"]))
        names = {group_id: name for name, group_id in ids.items()}
        for group in groups:
            group_id = ids.get(group["name"], UNKNOWN)
            self.out["security_groups"][group["name"]] = group_id
            want: Rules = {}
            for rule in group["rules"]:
                source = "cidr:" + rule["cidr_ip"] if rule.get("cidr_ip") else "group:" + ids.get(rule["group_name"], rule["group_name"])
                want[(rule["proto"], rule["from_port"], rule["to_port"], source)] = rule["rule_desc"] or ""
            current = found.get(group["name"])
            if current is None:
                # A new group comes with the rule that lets all traffic out.
                self._group_rules(group_id, {}, want, dict(ALL_OUT), ALL_OUT, names, [])
                self._record("create", "security_group", group["name"], [
                    {"path": "description", "before": None, "after": group["description"]},
                    {"path": "ingress", "before": None, "after": sorted(rule_line(r, names) for r in want)},
                    {"path": "tags", "before": None, "after": self.tags(group["name"])}], resource_id=group_id)
                continue
            changes: List[Dict[str, Any]] = []
            self._group_rules(group_id, rules_of(current.get("IpPermissions") or []), want,
                              rules_of(current.get("IpPermissionsEgress") or []), ALL_OUT, names, changes)
            self._ec2_tags(group_id, tags_to_dict(current.get("Tags")), self.tags(group["name"]), changes)
            self._record("update" if changes else "unchanged", "security_group", group["name"], changes, resource_id=group_id)

    def _group_rules(self, group_id: str, have_in: Rules, want_in: Rules, have_out: Rules, want_out: Rules,
                     names: Dict[str, str], changes: List[Dict[str, Any]]) -> None:
        """Record (and write) the inbound and outbound rules that differ: added before removed, so that traffic a rule
        moves to another port range is never cut off in between."""
        for direction, have, want in (("ingress", have_in, want_in), ("egress", have_out, want_out)):
            add = [r for r in sorted(want, key=str) if r not in have]
            remove = [r for r in sorted(have, key=str) if r not in want]
            described = [r for r in sorted(want, key=str) if r in have and have[r] != want[r]]
            for rule in add:
                changes.append({"path": "%s.%s" % (direction, rule_line(rule, names)), "before": None, "after": want[rule] or "added"})
            for rule in described:
                changes.append({"path": "%s.%s" % (direction, rule_line(rule, names)), "before": have[rule], "after": want[rule]})
            for rule in remove:
                changes.append({"path": "%s.%s" % (direction, rule_line(rule, names)), "before": have[rule] or "present",
                                "after": None})
            if not self.write:
                continue
            if add:
                (self.ec2.authorize_ingress if direction == "ingress" else self.ec2.authorize_egress)(
                    group_id, [permission(r, want[r]) for r in add])
            if described and direction == "ingress":
                self.ec2.update_ingress_descriptions(group_id, [permission(r, want[r]) for r in described])
            if remove:
                (self.ec2.revoke_ingress if direction == "ingress" else self.ec2.revoke_egress)(
                    group_id, [permission(r, have[r]) for r in remove])

    # -- IAM roles ------------------------------------------------------------------------------

    def _roles(self) -> None:
        for role in self.params["roles"]:
            self.out["roles"][role["name"]] = self._role(role)

    def _role(self, role: Dict[str, Any]) -> str:
        name = role["name"]
        trust = trust_policy(role["trust_service"])
        want_tags = self.tags()
        inline = role["inline_policies"]
        current = self.iam.get_role(name)
        if current is None:
            arn = UNKNOWN
            if self.write:
                arn = self.iam.create_role(name, trust, role["description"], want_tags)
                self.iam.wait_until_readable(name)
                for policy in role["managed_policies"]:
                    self.iam.attach_policy(name, policy)
                for policy, document in sorted(inline.items()):
                    if document is not None:
                        self.iam.put_role_policy(name, policy, document)
            self._record("create", "iam_role", name, [
                {"path": "trust", "before": None, "after": role["trust_service"]},
                {"path": "description", "before": None, "after": role["description"]},
                {"path": "managed_policies", "before": None, "after": sorted(role["managed_policies"])},
                {"path": "inline_policies", "before": None, "after": sorted(p for p, d in inline.items() if d is not None)},
                {"path": "tags", "before": None, "after": want_tags}], resource_id=arn)
            return arn
        changes: List[Dict[str, Any]] = []
        have_trust = normalise_policy(current.get("AssumeRolePolicyDocument"))
        if have_trust != normalise_policy(trust):
            changes.append({"path": "trust", "before": have_trust, "after": normalise_policy(trust)})
            if self.write:
                self.iam.update_trust(name, trust)
        if role["description"] and current.get("Description", "") != role["description"]:
            changes.append({"path": "description", "before": current.get("Description"), "after": role["description"]})
            if self.write:
                self.iam.update_description(name, role["description"])
        attached = self.iam.attached_policies(name)
        for policy in sorted(set(role["managed_policies"]) - set(attached)):
            changes.append({"path": "managed_policies.%s" % policy, "before": None, "after": "attached"})
            if self.write:
                self.iam.attach_policy(name, policy)
        for policy in sorted(set(attached) - set(role["managed_policies"])):
            changes.append({"path": "managed_policies.%s" % policy, "before": "attached", "after": None})
            if self.write:
                self.iam.detach_policy(name, policy)
        for policy, document in sorted(inline.items()):
            have = self.iam.get_role_policy(name, policy)
            if document is None and have is not None:
                changes.append({"path": "inline_policies.%s" % policy, "before": normalise_policy(have), "after": None})
                if self.write:
                    self.iam.delete_role_policy(name, policy)
            elif document is not None and (have is None or normalise_policy(have) != normalise_policy(document)):
                changes.append({"path": "inline_policies.%s" % policy, "before": normalise_policy(have) if have else None,
                                "after": normalise_policy(document)})
                if self.write:
                    self.iam.put_role_policy(name, policy, document)
        put, remove = self._tag_changes(tags_to_dict(current.get("Tags")), want_tags, changes)
        if self.write and put:
            self.iam.tag_role(name, put)
        if self.write and remove:
            self.iam.untag_role(name, remove)
        self._record("update" if changes else "unchanged", "iam_role", name, changes, resource_id=current["Arn"])
        return current["Arn"]


class PlatformStack:
    """The platform_stack module's logic, without Ansible: give it API wrappers and options."""

    def __init__(self, ec2: PlatformEc2Api, iam: PlatformIamApi, params: Dict[str, Any], check_mode: bool = False) -> None:
        self.ec2 = ec2
        self.iam = iam
        self.params = params
        self.check_mode = check_mode

    @classmethod
    def from_module(cls, module: Any) -> "PlatformStack":
        return cls(PlatformEc2Api(module.client("ec2")), PlatformIamApi(module.client("iam")), module.params, module.check_mode)

    def run(self) -> Result:
        """Validate, read and compare everything; write the differences unless in check mode; report."""
        validate(self.params)
        done = Pass(self.ec2, self.iam, self.params, write=False).run()
        if done.plan.changed and not self.check_mode:
            done = Pass(self.ec2, self.iam, self.params, write=True).run()
        # Ids of what exists only (in check mode, what is still to create has none); ``resources`` lists everything.
        out = done.out
        data: Dict[str, Any] = {
            "vpc_id": "" if out["vpc_id"] == UNKNOWN else out["vpc_id"],
            "subnet_ids": [i for i in out["subnet_ids"] if not i.startswith(UNKNOWN)],
            "private_subnet_ids": out["private_subnet_ids"],
            "security_groups": {k: v for k, v in out["security_groups"].items() if v != UNKNOWN},
            "roles": {k: v for k, v in out["roles"].items() if v != UNKNOWN},
        }
        data.update(resources=done.resources, check_mode_prediction=self.check_mode, api_calls=combined_calls([self.ec2, self.iam]))
        return Result(changed=done.plan.changed, plan=done.plan, data=data, warnings=done.warnings)
