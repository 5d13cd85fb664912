# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Validation of every option before the first write call.

Limits follow the ELBv2 API reference and the Application Load Balancer quotas: up to three
match evaluations per condition and five per rule, five wildcards per rule, path patterns and
host names of at most 128 characters from a fixed character set, priorities 1..50000, 100 rules
per listener (the default quota), up to five target groups in a weighted forward.  A failure
names the option (with its index) and the value.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Dict, List, Optional

from .api import Elbv2Error
from .model import (
    alternate_name,
    conditions_from_route,
    conditions_key,
    declared_partners,
    pair_differences,
    target_group_from_params,
)
from .priorities import MAX_PRIORITY, MIN_PRIORITY

RULES_PER_LISTENER = 100
VALUES_PER_CONDITION = 3
VALUES_PER_RULE = 5
WILDCARDS_PER_RULE = 5
MAX_FORWARD_TARGET_GROUPS = 5

NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
PATH_RE = re.compile(r"^[A-Za-z0-9_\-.$/~\"'@:+&*?]{1,128}$")
HOST_RE = re.compile(r"^[A-Za-z0-9\-.*?]{1,128}$")
HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,40}$")
METHOD_RE = re.compile(r"^[A-Z_\-]{1,40}$")
MATCHER_RE = re.compile(r"^\d{3}(?:-\d{3})?(?:,\d{3}(?:-\d{3})?)*$")
ACTION_KEYS = ("target_group", "forward", "redirect", "fixed_response")


def invalid(option: str, value: Any, reason: str) -> Elbv2Error:
    """The error for a bad option: names the option and the value, and says why."""
    return Elbv2Error("%s=%r: %s" % (option, value, reason), details={"option": option})


def _range(option: str, value: Optional[int], low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise invalid(option, value, "must be between %d and %d" % (low, high))


def validate_params(params: Dict[str, Any]) -> None:
    """Checks that need no AWS state."""
    name = params["name"]
    if not NAME_RE.match(name) or name.lower().startswith("internal-"):
        raise invalid("name", name, "a load balancer name has 1 to 32 letters, digits and hyphens, "
                                    "does not start or end with a hyphen nor start with 'internal-'")
    if params.get("subnets") is not None and params["state"] == "present" and len(set(params["subnets"])) < 2:
        raise invalid("subnets", params["subnets"], "an Application Load Balancer needs subnets in at least two "
                                                    "Availability Zones")
    attrs = params.get("attributes") or {}
    _range("attributes.idle_timeout", attrs.get("idle_timeout"), 1, 4000)
    logs = attrs.get("access_logs") or {}
    if logs and logs.get("enabled", True) and not logs.get("bucket"):
        raise invalid("attributes.access_logs", logs, "access logs need a bucket")
    _validate_target_groups(params.get("target_groups") or [])
    _validate_listeners(params.get("listeners") or [])
    _validate_routes(params.get("routes") or [])
    _validate_ecs_traffic(params)


TG_NAME_RULE = "a target group name has 1 to 32 letters, digits and hyphens and does not start or end with a hyphen"


def _validate_target_groups(groups: List[Dict[str, Any]]) -> None:
    seen: Dict[str, str] = {}
    for i, tg in enumerate(groups):
        opt = "target_groups[%d]" % i
        if not NAME_RE.match(tg["name"]):
            raise invalid(opt + ".name", tg["name"], TG_NAME_RULE)
        if tg["name"] in seen:
            raise invalid(opt + ".name", tg["name"], "two target groups have this name (%s)" % seen[tg["name"]])
        seen[tg["name"]] = opt + ".name"
    for i, tg in enumerate(groups):
        alt = alternate_name(tg)
        if alt is None:
            continue
        opt = "target_groups[%d].%s" % (i, "alternate_name" if tg.get("alternate_name") else "alternate")
        value = alt if tg.get("alternate_name") else tg.get("alternate")
        if not NAME_RE.match(alt):
            raise invalid(opt, value, TG_NAME_RULE)
        if alt in seen:
            raise invalid(opt, value, "the alternate target group %s would have the name of %s; give "
                                      "alternate_name another name" % (alt, seen[alt]))
        seen[alt] = opt
    for i, tg in enumerate(groups):
        opt = "target_groups[%d]" % i
        _range(opt + ".port", tg["port"], 1, 65535)
        _range(opt + ".deregistration_delay", tg.get("deregistration_delay"), 0, 3600)
        slow = tg.get("slow_start")
        if slow is not None and slow != 0 and not 30 <= slow <= 900:
            raise invalid(opt + ".slow_start", slow, "must be 0 (off) or between 30 and 900 seconds")
        hc = tg.get("health_check") or {}
        _range(opt + ".health_check.interval", hc.get("interval"), 5, 300)
        _range(opt + ".health_check.timeout", hc.get("timeout"), 2, 120)
        _range(opt + ".health_check.healthy_threshold", hc.get("healthy_threshold"), 2, 10)
        _range(opt + ".health_check.unhealthy_threshold", hc.get("unhealthy_threshold"), 2, 10)
        if (hc.get("timeout") or 5) >= (hc.get("interval") or 30):
            raise invalid(opt + ".health_check.timeout", hc.get("timeout") or 5,
                          "must be smaller than the interval (%s)" % (hc.get("interval") or 30))
        if hc.get("path") is not None and (not hc["path"].startswith("/") or len(hc["path"]) > 1024):
            raise invalid(opt + ".health_check.path", hc["path"], "must start with '/' and have at most 1024 characters")
        if hc.get("matcher") is not None and not MATCHER_RE.match(str(hc["matcher"])):
            raise invalid(opt + ".health_check.matcher", hc["matcher"],
                          "must be HTTP codes such as '200', '200,202' or '200-299'")
        if hc.get("port") is not None and str(hc["port"]) != "traffic-port":
            try:
                _range(opt + ".health_check.port", int(hc["port"]), 1, 65535)
            except ValueError:
                raise invalid(opt + ".health_check.port", hc["port"], "must be a port number or 'traffic-port'")
        sticky = tg.get("stickiness") or {}
        if sticky.get("enabled"):
            _range(opt + ".stickiness.duration", sticky.get("duration"), 1, 604800)
            if sticky.get("type") == "app_cookie" and not sticky.get("cookie_name"):
                raise invalid(opt + ".stickiness.cookie_name", sticky.get("cookie_name"),
                              "app_cookie stickiness needs a cookie name")


def _validate_listeners(listeners: List[Dict[str, Any]]) -> None:
    ports = set()
    for i, listener in enumerate(listeners):
        opt = "listeners[%d]" % i
        _range(opt + ".port", listener["port"], 1, 65535)
        if listener["port"] in ports:
            raise invalid(opt + ".port", listener["port"], "two listeners use this port")
        ports.add(listener["port"])
        protocol = listener.get("protocol") or "HTTP"
        if protocol == "HTTPS" and not listener.get("certificates"):
            raise invalid(opt + ".certificates", listener.get("certificates"), "an HTTPS listener needs a certificate")
        if protocol == "HTTP" and (listener.get("certificates") or listener.get("ssl_policy")):
            raise invalid(opt + ".protocol", protocol, "certificates and ssl_policy need protocol HTTPS")
        if listener.get("default_action"):
            _validate_action(opt + ".default_action", listener["default_action"])


def _validate_action(opt: str, spec: Dict[str, Any]) -> None:
    given = [k for k in ACTION_KEYS if spec.get(k)]
    if len(given) != 1:
        raise invalid(opt, given, "give exactly one of %s" % ", ".join(ACTION_KEYS))
    if spec.get("forward"):
        groups = spec["forward"].get("target_groups") or []
        if not 1 <= len(groups) <= MAX_FORWARD_TARGET_GROUPS:
            raise invalid(opt + ".forward.target_groups", [g.get("name") for g in groups],
                          "a forward has 1 to %d target groups" % MAX_FORWARD_TARGET_GROUPS)
        names = [g["name"] for g in groups]
        if len(set(names)) != len(names):
            raise invalid(opt + ".forward.target_groups", names, "a target group appears twice")
        for j, group in enumerate(groups):
            _range("%s.forward.target_groups[%d].weight" % (opt, j), group.get("weight"), 0, 999)
        sticky = spec["forward"].get("stickiness") or {}
        if sticky.get("enabled"):
            _range(opt + ".forward.stickiness.duration", sticky.get("duration"), 1, 604800)
    if spec.get("redirect"):
        code = str(spec["redirect"].get("status_code") or "HTTP_301").upper().replace("HTTP_", "")
        if code not in ("301", "302"):
            raise invalid(opt + ".redirect.status_code", spec["redirect"].get("status_code"), "must be 301 or 302")
    if spec.get("fixed_response"):
        fixed = spec["fixed_response"]
        if not re.match(r"^[245]\d\d$", str(fixed.get("status_code"))):
            raise invalid(opt + ".fixed_response.status_code", fixed.get("status_code"), "must be a 2XX, 4XX or 5XX code")
        if len(fixed.get("message_body") or "") > 1024:
            raise invalid(opt + ".fixed_response.message_body", fixed["message_body"][:40] + "...",
                          "has more than 1024 characters")


def _validate_conditions(opt: str, route: Dict[str, Any]) -> None:
    groups = []
    for key, regex, what in (("path_patterns", PATH_RE, "a path pattern has 1 to 128 characters: A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & * ?"),
                             ("host_headers", HOST_RE, "a host name has 1 to 128 characters: A-Z a-z 0-9 - . * ?")):
        values = route.get(key) or []
        for value in values:
            if not regex.match(value):
                raise invalid(opt + "." + key, value, what)
            if key == "host_headers" and ("." not in value or not value.rsplit(".", 1)[1].isalpha()):
                raise invalid(opt + "." + key, value, "a host name has at least one '.' and only letters after the last one")
        groups.append((key, values))
    for value in route.get("methods") or []:
        if not METHOD_RE.match(value.upper()):
            raise invalid(opt + ".methods", value, "a method has up to 40 characters A-Z, '-' and '_'")
    groups.append(("methods", route.get("methods") or []))
    for j, header in enumerate(route.get("http_headers") or []):
        hopt = "%s.http_headers[%d]" % (opt, j)
        if not HEADER_NAME_RE.match(header["name"]):
            raise invalid(hopt + ".name", header["name"], "a header name has 1 to 40 token characters")
        if not header.get("values"):
            raise invalid(hopt + ".values", header.get("values"), "needs at least one value")
        for value in header["values"]:
            if not 1 <= len(value) <= 128:
                raise invalid(hopt + ".values", value, "a header value has 1 to 128 characters")
        groups.append((hopt[len(opt) + 1:] + ".values", header["values"]))
    names = [h["name"].lower() for h in route.get("http_headers") or []]
    if len(set(names)) != len(names):
        raise invalid(opt + ".http_headers", names, "a header appears twice; put its values in one entry")
    for pair in route.get("query_strings") or []:
        for part in ("key", "value"):
            if pair.get(part) is not None and not 1 <= len(pair[part]) <= 128:
                raise invalid(opt + ".query_strings." + part, pair[part], "has 1 to 128 characters")
    groups.append(("query_strings", route.get("query_strings") or []))
    for value in route.get("source_ips") or []:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise invalid(opt + ".source_ips", value, "is not an IP address or CIDR block")
    groups.append(("source_ips", route.get("source_ips") or []))
    total = 0
    for key, values in groups:
        if len(values) > VALUES_PER_CONDITION:
            raise invalid(opt + "." + key, values, "a condition has at most %d values" % VALUES_PER_CONDITION)
        total += len(values)
    if total == 0:
        raise invalid(opt, {k: route.get(k) for k in ("path_patterns", "host_headers")},
                      "a route needs at least one condition")
    if total > VALUES_PER_RULE:
        raise invalid(opt, total, "a rule has at most %d condition values in all" % VALUES_PER_RULE)
    wild = sum(v.count("*") + v.count("?") for key, values in groups if key in ("path_patterns", "host_headers")
               for v in values)
    wild += sum(v.count("*") + v.count("?") for h in route.get("http_headers") or [] for v in h["values"])
    wild += sum((q.get("key") or "").count("*") + (q.get("value") or "").count("*") for q in route.get("query_strings") or [])
    if wild > WILDCARDS_PER_RULE:
        raise invalid(opt, wild, "a rule has at most %d wildcards" % WILDCARDS_PER_RULE)


def _validate_routes(routes: List[Dict[str, Any]]) -> None:
    seen: Dict[Any, int] = {}
    priorities: Dict[Any, int] = {}
    for i, route in enumerate(routes):
        opt = "routes[%d]" % i
        _validate_conditions(opt, route)
        _validate_action(opt, {k: route.get(k) for k in ACTION_KEYS})
        if route.get("priority") is not None:
            _range(opt + ".priority", route["priority"], MIN_PRIORITY, MAX_PRIORITY)
            pkey = (route["listener"], route["priority"])
            if pkey in priorities:
                raise invalid(opt + ".priority", route["priority"],
                              "routes[%d] has the same priority on listener %s" % (priorities[pkey], route["listener"]))
            priorities[pkey] = i
        key = (route["listener"], conditions_key(conditions_from_route(route)))
        if key in seen:
            raise invalid(opt, conditions_from_route(route),
                          "routes[%d] has the same conditions on listener %s" % (seen[key], route["listener"]))
        seen[key] = i


def _action_names(spec: Dict[str, Any]) -> List[str]:
    if spec.get("target_group"):
        return [spec["target_group"]]
    return [g["name"] for g in (spec.get("forward") or {}).get("target_groups") or []]


def _action_option(opt: str, spec: Dict[str, Any]) -> str:
    return opt + (".target_group" if spec.get("target_group") else ".forward.target_groups")


def _all_actions(params: Dict[str, Any]) -> List[Any]:
    out = [("listeners[%d].default_action" % i, li.get("default_action") or {})
           for i, li in enumerate(params.get("listeners") or [])]
    return out + [("routes[%d]" % i, r) for i, r in enumerate(params.get("routes") or [])]


def _validate_ecs_traffic(params: Dict[str, Any]) -> None:
    """Routes and default actions whose weights ECS moves forward to a primary/alternate pair.

    One production and at most one test listener rule per pair (ECS's advancedConfiguration
    takes one of each), and no other route of this application forwards to either target group
    of a pair: ECS would drain the target group under it after a deployment.
    """
    groups = params.get("target_groups") or []
    partners = declared_partners(groups)
    declared = {tg["name"]: target_group_from_params(tg, params["application"]) for tg in groups}
    roles: Dict[Any, Dict[str, str]] = {}
    plain = []
    for opt, spec in _all_actions(params):
        role = spec.get("ecs_traffic")
        names = _action_names(spec)
        if not role:
            plain.append((opt, spec, names))
            continue
        if not names:
            raise invalid(opt + ".ecs_traffic", role, "ECS moves the weights of a forward: give target_group or "
                                                      "forward, not a redirect or fixed response")
        if spec.get("target_group"):
            if names[0] not in partners:
                raise invalid(opt + ".target_group", names[0],
                              "ecs_traffic needs a target group with an alternate: set alternate (or alternate_name) "
                              "on target group %s, or forward to a primary and its alternate" % names[0])
            pair = (names[0], partners[names[0]])
        else:
            if len(names) != 2:
                raise invalid(opt + ".forward.target_groups", names, "with ecs_traffic a forward names two target "
                                                                     "groups: a primary and its alternate")
            first, second = names
            if partners.get(first) != second and (first in partners or second in partners):
                other = first if first in partners else second
                raise invalid(opt + ".forward.target_groups", names,
                              "%s and %s are not a primary/alternate pair: %s's partner is %s" % (
                                  first, second, other, partners[other]))
            if first in declared and second in declared and partners.get(first) != second:
                diffs = pair_differences(declared[first], declared[second])
                if diffs:
                    raise invalid(opt + ".forward.target_groups", names,
                                  "ECS moves traffic between %s and %s, so they need the same settings; they differ "
                                  "in %s" % (first, second, ", ".join(diffs)))
            pair = (first, second)
        taken = roles.setdefault(frozenset(pair), {})
        if role in taken:
            raise invalid(opt + ".ecs_traffic", role,
                          "%s already carries the %s traffic of %s and %s; ECS moves the weights of one %s listener "
                          "rule per target group pair" % (taken[role], role, pair[0], pair[1], role))
        taken[role] = opt
    paired = set(partners) | {name for pair in roles for name in pair}
    for opt, spec, names in plain:
        for name in names:
            if name in paired:
                raise invalid(_action_option(opt, spec), name,
                              "ECS moves the traffic of target group %s to and from its partner during a deployment; "
                              "this route, without ecs_traffic, would not follow and would be left on a drained "
                              "target group: give it ecs_traffic or forward it to another target group" % name)


def validate_against_state(params: Dict[str, Any], snap: Any, application: str) -> None:
    """Checks that need the current state (still before any write call)."""
    if params["state"] != "present":
        return
    if snap.lb is None and not params.get("subnets"):
        raise invalid("subnets", params.get("subnets"), "the load balancer %s does not exist; subnets are needed "
                                                        "to create it" % params["name"])
    if snap.lb is not None and snap.lb.get("type") not in (None, "application"):
        raise invalid("name", params["name"], "%s is a %s load balancer; this module manages Application Load "
                                              "Balancers" % (params["name"], snap.lb["type"]))
    if snap.lb is not None and snap.lb_owner == application and snap.lb["scheme"] != params["scheme"]:
        raise invalid("scheme", params["scheme"], "the load balancer is %s and AWS cannot change the scheme of a "
                                                  "load balancer; delete it first" % snap.lb["scheme"])
    declared_tgs = {tg["name"]: tg for tg in params.get("target_groups") or []}
    declared_tgs.update({alternate_name(tg): tg for tg in params.get("target_groups") or [] if alternate_name(tg)})
    checks = [("target_groups[%d]" % i, "target_groups[%d].name" % i, tg["name"], tg)
              for i, tg in enumerate(params.get("target_groups") or [])]
    checks += [("target_groups[%d]" % i, "target_groups[%d].alternate_name" % i, alternate_name(tg), tg)
               for i, tg in enumerate(params.get("target_groups") or []) if alternate_name(tg)]
    for opt, name_opt, name, tg in checks:
        cur = snap.target_groups.get(name)
        if cur is None:
            continue
        if cur["owner"] != application:
            raise invalid(name_opt, name, "a target group with this name exists and belongs to %s, not to "
                                          "application %s" % (_who(cur["owner"]), application))
        for field_, wanted in (("port", tg["port"]), ("protocol", tg.get("protocol") or "HTTP"),
                               ("target_type", tg.get("target_type") or "ip"), ("vpc_id", tg.get("vpc_id"))):
            if wanted is not None and cur[field_] != wanted:
                raise invalid("%s.%s" % (opt, field_), wanted,
                              "target group %s has %s %s; AWS cannot change it in place: give the target group a "
                              "new name (and route to it), or delete it first" % (name, field_, cur[field_]))
    _validate_ecs_pairs_against_state(params, snap)
    declared_ports = {li["port"] for li in params.get("listeners") or []}
    for i, listener in enumerate(params.get("listeners") or []):
        cur = snap.listeners.get(listener["port"])
        if cur is not None and cur["owner"] != application:
            raise invalid("listeners[%d].port" % i, listener["port"],
                          "the listener on this port belongs to %s; leave it out of listeners and add routes to "
                          "it instead" % _who(cur["owner"]))
    all_actions = [("listeners[%d].default_action" % i, li.get("default_action") or {})
                   for i, li in enumerate(params.get("listeners") or [])]
    all_actions += [("routes[%d]" % i, r) for i, r in enumerate(params.get("routes") or [])]
    for opt, spec in all_actions:
        names = [spec["target_group"]] if spec.get("target_group") else []
        names += [g["name"] for g in (spec.get("forward") or {}).get("target_groups") or []]
        for name in names:
            if name not in declared_tgs and name not in snap.target_groups:
                raise invalid(opt + ".target_group", name, "no such target group: declare it in target_groups")
    per_listener: Dict[int, int] = {}
    for i, route in enumerate(params.get("routes") or []):
        port = route["listener"]
        if port not in declared_ports and port not in snap.listeners:
            raise invalid("routes[%d].listener" % i, port, "no listener on this port: declare it in listeners")
        per_listener[port] = per_listener.get(port, 0) + 1
        foreign = [r for r in snap.rules.get(port, []) if r["owner"] != application]
        if route.get("priority") is not None and any(r["priority"] == route["priority"] for r in foreign):
            raise invalid("routes[%d].priority" % i, route["priority"],
                          "another application's rule holds this priority on listener %s" % port)
    for port, count in per_listener.items():
        foreign = len([r for r in snap.rules.get(port, []) if r["owner"] != application])
        if count + foreign > RULES_PER_LISTENER:
            raise invalid("routes", count, "listener %s would have %d rules (%d of other owners); the default quota "
                                           "is %d" % (port, count + foreign, foreign, RULES_PER_LISTENER))


def _validate_ecs_pairs_against_state(params: Dict[str, Any], snap: Any) -> None:
    """A pair named in a forward with ecs_traffic, of target groups not both declared: same settings."""
    declared = {tg["name"]: target_group_from_params(tg, params["application"])
                for tg in params.get("target_groups") or []}
    for opt, spec in _all_actions(params):
        names = _action_names(spec)
        if not spec.get("ecs_traffic") or spec.get("target_group") or len(names) != 2:
            continue
        if all(n in declared for n in names):
            continue
        docs = [declared.get(n) or snap.target_groups.get(n) for n in names]
        if None in docs:
            continue
        diffs = pair_differences(docs[0], docs[1])
        if diffs:
            raise invalid(opt + ".forward.target_groups", names,
                          "ECS moves traffic between %s and %s, so they need the same settings; they differ in %s" % (
                              names[0], names[1], ", ".join(diffs)))


def _who(owner: Optional[str]) -> str:
    return "application %s" % owner if owner else "no shipyard.ecs application (not created by this module)"
