# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""alb_routes' argument spec: the module validates its options with it, and the environment
plan fills in the same defaults when it runs alb_routes' planner on the options it renders."""

from __future__ import annotations

_FORWARD = dict(type="dict", options=dict(
    target_groups=dict(type="list", elements="dict", required=True, options=dict(
        name=dict(type="str", required=True),
        weight=dict(type="int", default=1),
    )),
    stickiness=dict(type="dict", options=dict(
        enabled=dict(type="bool", default=False),
        duration=dict(type="int"),
    )),
))
_REDIRECT = dict(type="dict", options=dict(
    protocol=dict(type="str"),
    port=dict(type="str"),
    host=dict(type="str"),
    path=dict(type="str"),
    query=dict(type="str"),
    status_code=dict(type="str", choices=["HTTP_301", "HTTP_302"], default="HTTP_301"),
))
_FIXED_RESPONSE = dict(type="dict", options=dict(
    status_code=dict(type="str", required=True),
    content_type=dict(type="str", default="text/plain",
                      choices=["text/plain", "text/css", "text/html", "application/javascript", "application/json"]),
    message_body=dict(type="str"),
))
_ACTION = dict(target_group=dict(type="str"), forward=_FORWARD, redirect=_REDIRECT, fixed_response=_FIXED_RESPONSE,
               ecs_traffic=dict(type="str", choices=["production", "test"]))

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    application=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    scheme=dict(type="str", choices=["internet-facing", "internal"], default="internet-facing"),
    subnets=dict(type="list", elements="str"),
    security_groups=dict(type="list", elements="str"),
    ip_address_type=dict(type="str", choices=["ipv4", "dualstack"], default="ipv4"),
    attributes=dict(type="dict", options=dict(
        idle_timeout=dict(type="int"),
        http2=dict(type="bool"),
        deletion_protection=dict(type="bool"),
        drop_invalid_header_fields=dict(type="bool"),
        access_logs=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=True),
            bucket=dict(type="str"),
            prefix=dict(type="str"),
        )),
    )),
    tags=dict(type="dict"),
    listeners=dict(type="list", elements="dict", options=dict(
        port=dict(type="int", required=True),
        protocol=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
        certificates=dict(type="list", elements="str"),
        ssl_policy=dict(type="str"),
        default_action=dict(type="dict", options=_ACTION),
        tags=dict(type="dict"),
    )),
    target_groups=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        alternate=dict(type="bool", default=False),
        alternate_name=dict(type="str"),
        port=dict(type="int", required=True),
        protocol=dict(type="str", choices=["HTTP", "HTTPS"], default="HTTP"),
        target_type=dict(type="str", choices=["ip", "instance"], default="ip"),
        vpc_id=dict(type="str"),
        health_check=dict(type="dict", options=dict(
            enabled=dict(type="bool"),
            path=dict(type="str"),
            port=dict(type="str"),
            protocol=dict(type="str", choices=["HTTP", "HTTPS"]),
            interval=dict(type="int"),
            timeout=dict(type="int"),
            healthy_threshold=dict(type="int"),
            unhealthy_threshold=dict(type="int"),
            matcher=dict(type="str"),
        )),
        deregistration_delay=dict(type="int"),
        slow_start=dict(type="int"),
        stickiness=dict(type="dict", options=dict(
            enabled=dict(type="bool", default=False),
            type=dict(type="str", choices=["lb_cookie", "app_cookie"], default="lb_cookie"),
            duration=dict(type="int"),
            cookie_name=dict(type="str"),
        )),
        tags=dict(type="dict"),
    )),
    routes=dict(type="list", elements="dict", options=dict(
        listener=dict(type="int", required=True),
        path_patterns=dict(type="list", elements="str"),
        host_headers=dict(type="list", elements="str"),
        http_headers=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            values=dict(type="list", elements="str", required=True),
        )),
        methods=dict(type="list", elements="str"),
        query_strings=dict(type="list", elements="dict", options=dict(
            key=dict(type="str", no_log=False),
            value=dict(type="str", required=True),
        )),
        source_ips=dict(type="list", elements="str"),
        priority=dict(type="int"),
        **_ACTION
    )),
    purge=dict(type="bool", default=True),
)
