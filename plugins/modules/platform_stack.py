#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: platform_stack
short_description: An ECS environment's network, security groups and IAM roles in one run
version_added: 0.2.0
description:
  - Owns the platform an environment's services run on - the VPC, its internet gateway, public subnets
    and their route table (or an existing VPC and subnets, found by id or tag and never changed), the
    security groups with their inbound rules, and the IAM roles with their trust policy, managed and
    inline policies.
  - Reads are batched - one C(DescribeSubnets) for every subnet of the VPC, one C(DescribeSecurityGroups)
    for every group, per role C(GetRole) and C(ListAttachedRolePolicies) and C(GetRolePolicy) per inline
    policy named. A second run with the same options makes no write call.
  - Every option is checked before the first call, and everything that needs reading (a subnet that
    exists in another Availability Zone, two VPCs matching a filter) before the first write - a run
    that fails leaves nothing half applied.
  - What it owns it makes exactly as asked - tags (except C(aws:) tags), the route table's IPv4 routes
    and subnet associations, each group's inbound rules and its single outbound rule (all traffic),
    each role's trust policy, description, tags and managed policies. Rules added are authorized
    before rules removed are revoked, so traffic moving to another port is never cut off.
  - A security group's description cannot be changed in EC2 - a different one is reported as a warning.
author:
  - shipyard.ecs contributors (@shipyard-ecs)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row outside check mode with the same arguments, the second invocation indicates no change.
    support: full
options:
  name:
    description:
      - Name of the VPC and its internet gateway (tag C(Name)), prefix of the subnets'
        (C(<name>-public-<az>)) and the route table's (C(<name>-public)) names.
    type: str
    required: true
  tags:
    description: Tags of every resource (EC2 resources also get their C(Name) tag). Tags not listed are removed.
    type: dict
    default: {}
  network:
    description: The VPC and subnets.
    type: dict
    required: true
    suboptions:
      create:
        description:
          - V(true) creates (or finds by its C(Name) tag and CIDR block) the VPC with DNS support and DNS
            hostnames, an internet gateway, O(network.public_subnets) mapping public IPs on launch, and a
            route table sending C(0.0.0.0/0) to the gateway, associated with exactly those subnets.
          - V(false) finds an existing VPC (O(network.vpc_id) or O(network.vpc_tags), exactly one) and its
            subnets; nothing of the network is written.
        type: bool
        default: true
      cidr:
        description: CIDR block of the VPC created.
        type: str
        default: 10.0.0.0/16
      public_subnets:
        description: Public subnets created, in at least two Availability Zones.
        type: list
        elements: dict
        default: []
        suboptions:
          cidr:
            description: CIDR block, inside O(network.cidr).
            type: str
            required: true
          az:
            description: Availability Zone, such as C(eu-west-1a).
            type: str
            required: true
      vpc_id:
        description: Id of the existing VPC.
        type: str
      vpc_tags:
        description: Tags that select the existing VPC.
        type: dict
      subnet_ids:
        description:
          - Ids of existing subnets of the VPC for the load balancer and tasks.
          - All subnets of the VPC when neither this nor O(network.subnet_tags) is given.
        type: list
        elements: str
      subnet_tags:
        description: Tags that select those subnets in the VPC.
        type: dict
      private_subnet_ids:
        description: Ids of existing private subnets of the VPC.
        type: list
        elements: str
      private_subnet_tags:
        description: Tags that select the private subnets in the VPC.
        type: dict
  security_groups:
    description: Security groups of the VPC, found by name, each with exactly these inbound rules.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Group name (also its C(Name) tag).
        type: str
        required: true
      description:
        description: Description the group is created with.
        type: str
        required: true
      rules:
        description: Inbound rules.
        type: list
        elements: dict
        default: []
        suboptions:
          proto:
            description: Protocol.
            type: str
            choices: [tcp, udp]
            default: tcp
          from_port:
            description: First port.
            type: int
            required: true
          to_port:
            description: Last port.
            type: int
            required: true
          cidr_ip:
            description: IPv4 CIDR block the traffic comes from.
            type: str
          group_name:
            description: Name of one of the O(security_groups) the traffic comes from.
            type: str
          rule_desc:
            description: Description of the rule.
            type: str
            default: ""
  roles:
    description: IAM roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      description:
        description: Role description (left as it is when empty).
        type: str
        default: ""
      trust_service:
        description: The service principal allowed to assume the role, such as C(ecs-tasks.amazonaws.com).
        type: str
        required: true
      managed_policies:
        description: ARNs of the managed policies attached to the role; others are detached.
        type: list
        elements: str
        default: []
      inline_policies:
        description:
          - Inline policies by name - a policy document is put, V(null) deletes the policy of that name.
          - Inline policies not named are left alone.
        type: dict
        default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Network, security groups and roles of the production environment
  shipyard.ecs.platform_stack:
    name: shop-production
    tags:
      Application: shop
      Environment: production
    network:
      cidr: 10.0.0.0/16
      public_subnets:
        - {cidr: 10.0.1.0/24, az: eu-west-1a}
        - {cidr: 10.0.2.0/24, az: eu-west-1b}
    security_groups:
      - name: shop-production-alb
        description: shop-production load balancer
        rules:
          - {from_port: 443, to_port: 443, cidr_ip: 0.0.0.0/0, rule_desc: listeners}
      - name: shop-production-tasks
        description: shop-production tasks
        rules:
          - {from_port: 8080, to_port: 8080, group_name: shop-production-alb, rule_desc: alb to storefront}
    roles:
      - name: shop-production-task-execution
        trust_service: ecs-tasks.amazonaws.com
        managed_policies:
          - arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy
        inline_policies:
          read-secrets:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ssm:GetParameters
                Resource: arn:aws:ssm:eu-west-1:123456789012:parameter/shop/production/DB_PASSWORD
  register: platform

- name: The same groups in an existing VPC
  shipyard.ecs.platform_stack:
    name: shop-staging
    network:
      create: false
      vpc_tags:
        Name: shared
      subnet_tags:
        Tier: public
    security_groups:
      - name: shop-staging-alb
        description: shop-staging load balancer
        rules:
          - {from_port: 80, to_port: 80, cidr_ip: 0.0.0.0/0}
"""

RETURN = r"""
vpc_id:
  description: Id of the VPC (empty in check mode before it exists).
  returned: always
  type: str
  sample: vpc-0a1b2c3d4e5f67890
subnet_ids:
  description:
    - Ids of the public subnets (created) or of the subnets found, in the order of O(network.public_subnets).
    - In check mode, subnets still to create are left out.
  returned: always
  type: list
  elements: str
private_subnet_ids:
  description: Ids of the private subnets found.
  returned: always
  type: list
  elements: str
security_groups:
  description: Group id by group name (in check mode, of the groups that exist).
  returned: always
  type: dict
  sample: {"shop-production-alb": "sg-0123456789abcdef0"}
roles:
  description: Role ARN by role name (in check mode, of the roles that exist).
  returned: always
  type: dict
  sample: {"shop-production-task-execution": "arn:aws:iam::123456789012:role/shop-production-task-execution"}
resources:
  description: Every resource of the run in order, each with C(kind), C(name) and C(id) (V((known after apply)) for one still to create).
  returned: always
  type: list
  elements: dict
plan:
  description: The actions of the run (what check mode would do), each with C(action), C(kind), C(name) and C(changes).
  returned: always
  type: list
  elements: dict
  sample: [{"action": "update", "kind": "security_group", "name": "shop-production-tasks",
            "changes": [{"path": "ingress.tcp 22 from 0.0.0.0/0", "before": "present", "after": null}]}]
check_mode_prediction:
  description: True when the result is a check-mode prediction.
  returned: always
  type: bool
api_calls:
  description: Read and write calls per AWS service made by this run.
  returned: always
  type: dict
  sample: {"ec2": {"read": 7, "write": 0}, "iam": {"read": 5, "write": 0}}
"""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import run_module
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.spec import ARGUMENT_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._platform.stack import PlatformStack


def main():
    """Run platform_stack."""
    run_module(ARGUMENT_SPEC, lambda module: PlatformStack.from_module(module).run())


if __name__ == "__main__":
    main()
