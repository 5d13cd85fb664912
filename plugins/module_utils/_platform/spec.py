# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""platform_stack's argument spec: the module validates its options with it, and the environment
plan fills in the same defaults when it runs platform_stack's planner on the options it renders."""

from __future__ import annotations

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    tags=dict(type="dict", default={}),
    network=dict(type="dict", required=True, options=dict(
        create=dict(type="bool", default=True),
        cidr=dict(type="str", default="10.0.0.0/16"),
        public_subnets=dict(type="list", elements="dict", default=[], options=dict(
            cidr=dict(type="str", required=True),
            az=dict(type="str", required=True),
        )),
        vpc_id=dict(type="str"),
        vpc_tags=dict(type="dict"),
        subnet_ids=dict(type="list", elements="str"),
        subnet_tags=dict(type="dict"),
        private_subnet_ids=dict(type="list", elements="str"),
        private_subnet_tags=dict(type="dict"),
    ), mutually_exclusive=[["vpc_id", "vpc_tags"], ["subnet_ids", "subnet_tags"], ["private_subnet_ids", "private_subnet_tags"]]),
    security_groups=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        description=dict(type="str", required=True),
        rules=dict(type="list", elements="dict", default=[], options=dict(
            proto=dict(type="str", default="tcp", choices=["tcp", "udp"]),
            from_port=dict(type="int", required=True),
            to_port=dict(type="int", required=True),
            cidr_ip=dict(type="str"),
            group_name=dict(type="str"),
            rule_desc=dict(type="str", default=""),
        ), mutually_exclusive=[["cidr_ip", "group_name"]], required_one_of=[["cidr_ip", "group_name"]]),
    )),
    roles=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        trust_service=dict(type="str", required=True),
        managed_policies=dict(type="list", elements="str", default=[]),
        inline_policies=dict(type="dict", default={}),
    )),
)
