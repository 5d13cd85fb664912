# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Desired and current ALB state, normalised into the same plain documents.

Both the module's options and ELBv2's describe output go through these functions, so that a
comparison sees only real differences: AWS fills in defaults (forward configs with weight 1 and
stickiness off, redirect ``#{host}`` placeholders, health check defaults, fixed-response content
type), returns conditions in both the legacy ``Values`` and the ``*Config`` form, and keeps
whatever case and order it was given.  Target groups are named, never referred to by ARN, so a
plan reads the same before anything exists.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Dict, List, Optional, Tuple

OWNER_TAG = "shipyard:application"
MANAGED_TAG = "shipyard:managed-by"
MANAGED_VALUE = "shipyard.ecs"
UNKNOWN = "(known after apply)"

# ECS-native blue/green, canary and linear deployments: a target group's alternate, and the
# rules whose forward weights ECS moves between the two during a deployment.
ECS_TRAFFIC_TAG = "shipyard:ecs-traffic"
ALTERNATE_OF_TAG = "shipyard:alternate-of"
ALTERNATE_SUFFIX = "-alt"
TARGET_GROUP_NAME_MAX = 32
ECS_TRAFFIC_ROLES = ("production", "test")
# The weights a rule of ECS's is created with: everything on the target group it names.
ECS_INITIAL_WEIGHT = 100

HEALTH_CHECK_DEFAULTS = {
    "enabled": True,
    "path": "/",
    "port": "traffic-port",
    "interval": 30,
    "timeout": 5,
    "healthy_threshold": 5,
    "unhealthy_threshold": 2,
    "matcher": "200",
}
REDIRECT_DEFAULTS = {
    "protocol": "#{protocol}",
    "port": "#{port}",
    "host": "#{host}",
    "path": "/#{path}",
    "query": "#{query}",
    "status_code": "HTTP_301",
}
FIXED_RESPONSE_DEFAULT_CONTENT_TYPE = "text/plain"
DEFAULT_LISTENER_ACTION = {"fixed_response": {"status_code": "404"}}

LB_ATTRIBUTE_KEYS = {
    "idle_timeout": "idle_timeout.timeout_seconds",
    "http2": "routing.http2.enabled",
    "deletion_protection": "deletion_protection.enabled",
    "drop_invalid_header_fields": "routing.http.drop_invalid_header_fields.enabled",
}


def ownership_tags(application: str) -> Dict[str, str]:
    """The tags that mark a resource as created by this module for ``application``."""
    return {MANAGED_TAG: MANAGED_VALUE, OWNER_TAG: application}


def owner_of(tags: Dict[str, str]) -> Optional[str]:
    """The application a resource belongs to, or None when shipyard.ecs did not create it."""
    if tags.get(MANAGED_TAG) == MANAGED_VALUE:
        return tags.get(OWNER_TAG)
    return None


def aws_str(value: Any) -> str:
    """A value the way ELBv2 attributes spell it (``true``/``false``, numbers as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# conditions -------------------------------------------------------------------------------
def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        return value.strip()


def conditions_from_route(route: Dict[str, Any]) -> Dict[str, Any]:
    """A route's conditions in canonical form (the rule's identity, with its listener)."""
    out: Dict[str, Any] = {}
    if route.get("path_patterns"):
        out["path_patterns"] = sorted(set(route["path_patterns"]))
    if route.get("host_headers"):
        out["host_headers"] = sorted(set(h.lower() for h in route["host_headers"]))
    if route.get("http_headers"):
        out["http_headers"] = sorted(
            ({"name": h["name"].lower(), "values": sorted(set(v.lower() for v in h.get("values") or []))}
             for h in route["http_headers"]),
            key=lambda h: (h["name"], h["values"]))
    if route.get("methods"):
        out["methods"] = sorted(set(m.upper() for m in route["methods"]))
    if route.get("query_strings"):
        out["query_strings"] = _query_pairs(route["query_strings"], "key", "value")
    if route.get("source_ips"):
        out["source_ips"] = sorted(set(_cidr(ip) for ip in route["source_ips"]))
    return out


def _query_pairs(pairs: List[Dict[str, Any]], key: str, value: str) -> List[Dict[str, str]]:
    seen = {((p.get(key) or "").lower(), (p.get(value) or "").lower()) for p in pairs}
    return [{"key": k, "value": v} for k, v in sorted(seen)]


def _values(condition: Dict[str, Any], config: str) -> List[str]:
    # AWS answers with the *Config form and, for the older fields, the legacy Values too.
    if condition.get(config) and "Values" in condition[config]:
        return list(condition[config]["Values"])
    return list(condition.get("Values") or [])


def conditions_from_aws(conditions: List[Dict[str, Any]]) -> Dict[str, Any]:
    """ELBv2 rule conditions in the same canonical form as :func:`conditions_from_route`."""
    route: Dict[str, Any] = {}
    for cond in conditions or []:
        field = cond.get("Field")
        if field == "path-pattern":
            route.setdefault("path_patterns", []).extend(_values(cond, "PathPatternConfig"))
        elif field == "host-header":
            route.setdefault("host_headers", []).extend(_values(cond, "HostHeaderConfig"))
        elif field == "http-request-method":
            route.setdefault("methods", []).extend(_values(cond, "HttpRequestMethodConfig"))
        elif field == "source-ip":
            route.setdefault("source_ips", []).extend(_values(cond, "SourceIpConfig"))
        elif field == "http-header":
            cfg = cond.get("HttpHeaderConfig") or {}
            route.setdefault("http_headers", []).append(
                {"name": cfg.get("HttpHeaderName", ""), "values": list(cfg.get("Values") or [])})
        elif field == "query-string":
            cfg = cond.get("QueryStringConfig") or {}
            route.setdefault("query_strings", []).extend(
                {"key": v.get("Key"), "value": v.get("Value")} for v in cfg.get("Values") or [])
    return conditions_from_route(route)


def conditions_to_aws(conditions: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Canonical conditions as ELBv2 ``Conditions`` (the ``*Config`` form only)."""
    out: List[Dict[str, Any]] = []
    if conditions.get("host_headers"):
        out.append({"Field": "host-header", "HostHeaderConfig": {"Values": conditions["host_headers"]}})
    if conditions.get("path_patterns"):
        out.append({"Field": "path-pattern", "PathPatternConfig": {"Values": conditions["path_patterns"]}})
    for header in conditions.get("http_headers", []):
        out.append({"Field": "http-header",
                    "HttpHeaderConfig": {"HttpHeaderName": header["name"], "Values": header["values"]}})
    if conditions.get("methods"):
        out.append({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": conditions["methods"]}})
    if conditions.get("query_strings"):
        values = []
        for pair in conditions["query_strings"]:
            item = {"Value": pair["value"]}
            if pair["key"]:
                item["Key"] = pair["key"]
            values.append(item)
        out.append({"Field": "query-string", "QueryStringConfig": {"Values": values}})
    if conditions.get("source_ips"):
        out.append({"Field": "source-ip", "SourceIpConfig": {"Values": conditions["source_ips"]}})
    return out


def conditions_key(conditions: Dict[str, Any]) -> Tuple:
    """A hashable form of canonical conditions."""
    return (
        tuple(conditions.get("host_headers", ())),
        tuple(conditions.get("path_patterns", ())),
        tuple((h["name"], tuple(h["values"])) for h in conditions.get("http_headers", ())),
        tuple(conditions.get("methods", ())),
        tuple((q["key"], q["value"]) for q in conditions.get("query_strings", ())),
        tuple(conditions.get("source_ips", ())),
    )


def describe_conditions(conditions: Dict[str, Any]) -> str:
    """A short human name for a rule: ``host=a.example.com path=/users,/users/*``."""
    parts = []
    if conditions.get("host_headers"):
        parts.append("host=" + ",".join(conditions["host_headers"]))
    if conditions.get("path_patterns"):
        parts.append("path=" + ",".join(conditions["path_patterns"]))
    for header in conditions.get("http_headers", []):
        parts.append("header:%s=%s" % (header["name"], ",".join(header["values"])))
    if conditions.get("methods"):
        parts.append("method=" + ",".join(conditions["methods"]))
    if conditions.get("query_strings"):
        parts.append("query=" + ",".join(
            ("%s=%s" % (q["key"], q["value"])) if q["key"] else q["value"] for q in conditions["query_strings"]))
    if conditions.get("source_ips"):
        parts.append("source=" + ",".join(conditions["source_ips"]))
    return " ".join(parts) or "(no condition)"


def rule_name(port: int, conditions: Dict[str, Any]) -> str:
    return "%s %s" % (port, describe_conditions(conditions))


# actions ----------------------------------------------------------------------------------
def action_from_params(spec: Dict[str, Any]) -> Dict[str, Any]:
    """A route's or listener's action (module options) in canonical form."""
    if spec.get("target_group"):
        return {"type": "forward", "target_groups": [{"name": spec["target_group"], "weight": 1}],
                "stickiness": {"enabled": False}}
    if spec.get("forward"):
        fwd = spec["forward"]
        groups = sorted(({"name": g["name"], "weight": 1 if g.get("weight") is None else g["weight"]}
                         for g in fwd.get("target_groups") or []), key=lambda g: g["name"])
        sticky = fwd.get("stickiness") or {}
        stickiness: Dict[str, Any] = {"enabled": bool(sticky.get("enabled"))}
        if stickiness["enabled"]:
            stickiness["duration"] = sticky.get("duration") or 3600
        return {"type": "forward", "target_groups": groups, "stickiness": stickiness}
    if spec.get("redirect"):
        red = dict(REDIRECT_DEFAULTS)
        red.update({k: str(v) for k, v in spec["redirect"].items() if v is not None})
        red["status_code"] = _status(red["status_code"])
        return dict(type="redirect", **red)
    if spec.get("fixed_response"):
        fixed = spec["fixed_response"]
        out = {"type": "fixed-response", "status_code": str(fixed["status_code"]),
               "content_type": fixed.get("content_type") or FIXED_RESPONSE_DEFAULT_CONTENT_TYPE}
        if fixed.get("message_body"):
            out["message_body"] = fixed["message_body"]
        return out
    return action_from_params(DEFAULT_LISTENER_ACTION)


def _status(code: str) -> str:
    code = str(code).upper()
    return code if code.startswith("HTTP_") else "HTTP_" + code


def actions_from_aws(actions: List[Dict[str, Any]], tg_names: Dict[str, str]) -> List[Dict[str, Any]]:
    """ELBv2 actions in canonical form; ``tg_names`` maps target group ARNs to names."""
    out = []
    for action in sorted(actions or [], key=lambda a: a.get("Order", 0)):
        kind = action.get("Type")
        if kind == "forward":
            cfg = action.get("ForwardConfig") or {}
            groups = cfg.get("TargetGroups") or [{"TargetGroupArn": action.get("TargetGroupArn")}]
            sticky = cfg.get("TargetGroupStickinessConfig") or {}
            stickiness: Dict[str, Any] = {"enabled": bool(sticky.get("Enabled"))}
            if stickiness["enabled"]:
                stickiness["duration"] = sticky.get("DurationSeconds") or 3600
            out.append({
                "type": "forward",
                "target_groups": sorted(
                    ({"name": tg_names.get(g["TargetGroupArn"], g["TargetGroupArn"]),
                      "weight": 1 if g.get("Weight") is None else g["Weight"]} for g in groups),
                    key=lambda g: g["name"]),
                "stickiness": stickiness,
            })
        elif kind == "redirect":
            cfg = action.get("RedirectConfig") or {}
            red = dict(REDIRECT_DEFAULTS)
            for ours, theirs in (("protocol", "Protocol"), ("port", "Port"), ("host", "Host"), ("path", "Path"),
                                 ("query", "Query"), ("status_code", "StatusCode")):
                if cfg.get(theirs) is not None:
                    red[ours] = str(cfg[theirs])
            red["status_code"] = _status(red["status_code"])
            out.append(dict(type="redirect", **red))
        elif kind == "fixed-response":
            cfg = action.get("FixedResponseConfig") or {}
            fixed = {"type": "fixed-response", "status_code": str(cfg.get("StatusCode")),
                     "content_type": cfg.get("ContentType") or FIXED_RESPONSE_DEFAULT_CONTENT_TYPE}
            if cfg.get("MessageBody"):
                fixed["message_body"] = cfg["MessageBody"]
            out.append(fixed)
        else:
            # Actions we never create (authenticate-*): compared as AWS returns them.
            out.append({"type": kind, "raw": {k: v for k, v in action.items() if k != "Order"}})
    return out


def actions_to_aws(actions: List[Dict[str, Any]], tg_arns: Dict[str, str]) -> List[Dict[str, Any]]:
    """Canonical actions as ELBv2 ``Actions``; ``tg_arns`` maps target group names to ARNs."""
    out = []
    for order, action in enumerate(actions, start=1):
        if action["type"] == "forward":
            cfg: Dict[str, Any] = {
                "TargetGroups": [{"TargetGroupArn": tg_arns[g["name"]], "Weight": g["weight"]}
                                 for g in action["target_groups"]],
                "TargetGroupStickinessConfig": {"Enabled": action["stickiness"]["enabled"]},
            }
            if action["stickiness"]["enabled"]:
                cfg["TargetGroupStickinessConfig"]["DurationSeconds"] = action["stickiness"]["duration"]
            out.append({"Type": "forward", "Order": order, "ForwardConfig": cfg})
        elif action["type"] == "redirect":
            out.append({"Type": "redirect", "Order": order, "RedirectConfig": {
                "Protocol": action["protocol"], "Port": action["port"], "Host": action["host"],
                "Path": action["path"], "Query": action["query"], "StatusCode": action["status_code"]}})
        elif action["type"] == "fixed-response":
            cfg = {"StatusCode": action["status_code"], "ContentType": action["content_type"]}
            if action.get("message_body"):
                cfg["MessageBody"] = action["message_body"]
            out.append({"Type": "fixed-response", "Order": order, "FixedResponseConfig": cfg})
        else:
            out.append(dict(action["raw"], Order=order))
    return out


def action_target_groups(actions: List[Dict[str, Any]]) -> List[str]:
    """Names of the target groups the actions forward to."""
    return [g["name"] for a in actions if a["type"] == "forward" for g in a["target_groups"]]


# ECS-managed weights ----------------------------------------------------------------------
def alternate_name(tg: Dict[str, Any]) -> Optional[str]:
    """The name of a target group option's alternate, or None when it has none.

    ``alternate_name`` when given; with ``alternate: true``, the name plus ``-alt``, the name
    cut so that the result keeps within the 32 characters AWS allows.
    """
    if tg.get("alternate_name"):
        return tg["alternate_name"]
    if not tg.get("alternate"):
        return None
    base = tg["name"][:TARGET_GROUP_NAME_MAX - len(ALTERNATE_SUFFIX)].rstrip("-")
    return base + ALTERNATE_SUFFIX


def declared_partners(target_groups: List[Dict[str, Any]]) -> Dict[str, str]:
    """Each target group of a declared primary/alternate pair mapped to the other one."""
    out: Dict[str, str] = {}
    for tg in target_groups or []:
        alt = alternate_name(tg)
        if alt:
            out[tg["name"]] = alt
            out[alt] = tg["name"]
    return out


def ecs_action_from_params(spec: Dict[str, Any], partners: Dict[str, str]) -> Dict[str, Any]:
    """The forward of a route or default action whose weights ECS moves (``ecs_traffic``).

    ``target_group: X`` forwards to X and its partner, X with all the weight; an explicit
    ``forward`` is taken as written.  Either way the weights are only those a new rule is
    created with: from then on they are ECS's (see :func:`carry_weights`).
    """
    if spec.get("target_group"):
        name = spec["target_group"]
        groups = [{"name": name, "weight": ECS_INITIAL_WEIGHT}, {"name": partners[name], "weight": 0}]
        return {"type": "forward", "target_groups": sorted(groups, key=lambda g: g["name"]),
                "stickiness": {"enabled": False}}
    return action_from_params(spec)


def carry_weights(wanted: List[Dict[str, Any]], current: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``wanted`` with the forward weights AWS holds now, for actions whose weights ECS moves.

    A forward to the same target groups keeps AWS's weights whatever they are; otherwise a
    target group the current forward has keeps its weight and one it does not have joins with
    weight 0, so that alb_routes never shifts traffic itself.  Only when none of the wanted
    target groups carries any weight now (a forward to other target groups, or a redirect)
    do the wanted weights stand.  Compared with ``current``, the result differs only where
    something besides the weights does: the set of target groups, stickiness, the action.
    """
    weights = {g["name"]: g["weight"] for a in current or [] if a["type"] == "forward" for g in a["target_groups"]}
    same = forward_set(current or []) == forward_set(wanted)
    out = []
    for action in wanted:
        if action["type"] == "forward" and (same or sum(weights.get(g["name"], 0)
                                                        for g in action["target_groups"]) > 0):
            action = dict(action, target_groups=[dict(g, weight=weights.get(g["name"], 0))
                                                 for g in action["target_groups"]])
        out.append(action)
    return out


def forward_set(actions: List[Dict[str, Any]]) -> Optional[Tuple[str, ...]]:
    """The sorted target group names of a lone forward action, or None for anything else."""
    if len(actions) != 1 or actions[0]["type"] != "forward":
        return None
    return tuple(sorted(g["name"] for g in actions[0]["target_groups"]))


PAIR_FIELDS = ("port", "protocol", "target_type", "vpc_id")


def pair_differences(first: Dict[str, Any], second: Dict[str, Any]) -> List[str]:
    """What differs between two target groups (canonical documents) meant to be a pair.

    ECS moves traffic between them, so they take the same traffic: port, protocol, target
    type, VPC (when both are known) and health check.
    """
    out = []
    for key in PAIR_FIELDS:
        a, b = first.get(key), second.get(key)
        if a is not None and b is not None and a not in (UNKNOWN,) and b not in (UNKNOWN,) and a != b:
            out.append("%s %s / %s" % (key, a, b))
    for key in sorted(set(first.get("health_check") or {}) | set(second.get("health_check") or {})):
        a, b = (first.get("health_check") or {}).get(key), (second.get("health_check") or {}).get(key)
        if a != b:
            out.append("health_check.%s %s / %s" % (key, a, b))
    return out


# target groups ----------------------------------------------------------------------------
def target_group_from_params(tg: Dict[str, Any], application: str) -> Dict[str, Any]:
    """A target group option in canonical form (AWS defaults filled in)."""
    protocol = tg.get("protocol") or "HTTP"
    health = dict(HEALTH_CHECK_DEFAULTS, protocol=protocol)
    health.update({k: v for k, v in (tg.get("health_check") or {}).items() if v is not None})
    health["port"] = str(health["port"])
    health["matcher"] = str(health["matcher"])
    sticky = tg.get("stickiness") or {}
    attributes = {
        "deregistration_delay.timeout_seconds": aws_str(300 if tg.get("deregistration_delay") is None
                                                        else tg["deregistration_delay"]),
        "slow_start.duration_seconds": aws_str(tg.get("slow_start") or 0),
        "stickiness.enabled": aws_str(bool(sticky.get("enabled"))),
    }
    if sticky.get("enabled"):
        kind = sticky.get("type") or "lb_cookie"
        attributes["stickiness.type"] = kind
        attributes["stickiness.%s.duration_seconds" % kind] = aws_str(sticky.get("duration") or 86400)
        if kind == "app_cookie":
            attributes["stickiness.app_cookie.cookie_name"] = sticky.get("cookie_name") or ""
    tags = dict(tg.get("tags") or {})
    tags.update(ownership_tags(application))
    return {
        "name": tg["name"],
        "port": tg["port"],
        "protocol": protocol,
        "target_type": tg.get("target_type") or "ip",
        "vpc_id": tg.get("vpc_id"),
        "health_check": health,
        "attributes": attributes,
        "tags": tags,
    }


def target_group_from_aws(tg: Dict[str, Any], attributes: Dict[str, str], tags: Dict[str, str],
                          wanted_attributes: Optional[List[str]] = None) -> Dict[str, Any]:
    """A described target group in canonical form; only ``wanted_attributes`` are kept."""
    health = {
        "enabled": tg.get("HealthCheckEnabled", True),
        "path": tg.get("HealthCheckPath", HEALTH_CHECK_DEFAULTS["path"]),
        "port": str(tg.get("HealthCheckPort", HEALTH_CHECK_DEFAULTS["port"])),
        "protocol": tg.get("HealthCheckProtocol", tg.get("Protocol")),
        "interval": tg.get("HealthCheckIntervalSeconds"),
        "timeout": tg.get("HealthCheckTimeoutSeconds"),
        "healthy_threshold": tg.get("HealthyThresholdCount"),
        "unhealthy_threshold": tg.get("UnhealthyThresholdCount"),
        "matcher": str((tg.get("Matcher") or {}).get("HttpCode", HEALTH_CHECK_DEFAULTS["matcher"])),
    }
    keys = wanted_attributes if wanted_attributes is not None else sorted(attributes)
    return {
        "arn": tg["TargetGroupArn"],
        "name": tg["TargetGroupName"],
        "port": tg.get("Port"),
        "protocol": tg.get("Protocol"),
        "target_type": tg.get("TargetType"),
        "vpc_id": tg.get("VpcId"),
        "health_check": health,
        "attributes": {k: attributes.get(k) for k in keys},
        "tags": tags,
        "load_balancer_arns": tg.get("LoadBalancerArns") or [],
    }


def health_check_to_aws(health: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "HealthCheckEnabled": health["enabled"],
        "HealthCheckPath": health["path"],
        "HealthCheckPort": health["port"],
        "HealthCheckProtocol": health["protocol"],
        "HealthCheckIntervalSeconds": health["interval"],
        "HealthCheckTimeoutSeconds": health["timeout"],
        "HealthyThresholdCount": health["healthy_threshold"],
        "UnhealthyThresholdCount": health["unhealthy_threshold"],
        "Matcher": {"HttpCode": health["matcher"]},
    }


# load balancer ----------------------------------------------------------------------------
def lb_attributes_from_params(attrs: Optional[Dict[str, Any]]) -> Dict[str, str]:
    """The load balancer attributes the user set (the others are left as they are)."""
    out: Dict[str, str] = {}
    for option, key in LB_ATTRIBUTE_KEYS.items():
        if (attrs or {}).get(option) is not None:
            out[key] = aws_str(attrs[option])
    logs = (attrs or {}).get("access_logs")
    if logs:
        out["access_logs.s3.enabled"] = aws_str(bool(logs.get("enabled", True)))
        if logs.get("bucket") is not None:
            out["access_logs.s3.bucket"] = logs["bucket"]
        if logs.get("prefix") is not None:
            out["access_logs.s3.prefix"] = logs["prefix"]
    return out
