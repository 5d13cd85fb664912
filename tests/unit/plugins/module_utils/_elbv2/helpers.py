"""Builders of normalised ALB state for plan tests (the shapes state.read_state produces)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.model import (
    action_from_params,
    conditions_from_route,
    ownership_tags,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.state import Snapshot

APP = "flask"
LB_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/flask/1"


def params(**overrides: Any) -> Dict[str, Any]:
    """Module options as Ansible hands them over (every option present)."""
    out: Dict[str, Any] = dict(
        name="flask", application=APP, state="present", scheme="internet-facing",
        subnets=["subnet-a", "subnet-b"], security_groups=["sg-1"], ip_address_type="ipv4",
        attributes=None, tags=None, purge=True,
        listeners=[{"port": 80, "protocol": "HTTP", "default_action": {"target_group": "client"}}],
        target_groups=[{"name": "client", "port": 9000}, {"name": "users", "port": 5000}],
        routes=[],
    )
    out.update(overrides)
    return out


def route(*paths: str, tg: str = "users", listener: int = 80, priority: Optional[int] = None,
          **extra: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {"listener": listener, "priority": priority, "target_group": tg}
    if paths:
        out["path_patterns"] = list(paths)
    out.update(extra)
    return out


def rule(priority: int, *paths: str, tg: str = "users", owner: Optional[str] = APP, listener: int = 80,
         arn: Optional[str] = None, **extra: Any) -> Dict[str, Any]:
    spec = dict(extra)
    if paths:
        spec["path_patterns"] = list(paths)
    action = spec.pop("action", None) or {"target_group": tg}
    tags = ownership_tags(owner) if owner else {}
    return {"arn": arn or "rule-%s-%d" % (owner, priority), "listener": listener, "priority": priority,
            "conditions": conditions_from_route(spec), "actions": [action_from_params(action)],
            "tags": tags, "owner": owner}


def target_group(name: str, port: int, owner: Optional[str] = APP) -> Dict[str, Any]:
    return {
        "arn": "tg-" + name, "name": name, "port": port, "protocol": "HTTP", "target_type": "ip", "vpc_id": "vpc-1",
        "health_check": {"enabled": True, "path": "/", "port": "traffic-port", "protocol": "HTTP", "interval": 30,
                         "timeout": 5, "healthy_threshold": 5, "unhealthy_threshold": 2, "matcher": "200"},
        "attributes": {"deregistration_delay.timeout_seconds": "300", "slow_start.duration_seconds": "0",
                       "stickiness.enabled": "false"},
        "tags": ownership_tags(owner) if owner else {}, "owner": owner, "load_balancer_arns": [LB_ARN],
    }


def snapshot(rules: List[Dict[str, Any]], target_groups: Optional[List[Dict[str, Any]]] = None,
             listener_owner: Optional[str] = APP, lb_owner: Optional[str] = APP) -> Snapshot:
    """An existing ALB ``flask`` with listener 80 (default: forward to client) and ``rules``."""
    tgs = target_groups if target_groups is not None else [target_group("client", 9000), target_group("users", 5000)]
    lb_tags = ownership_tags(lb_owner) if lb_owner else {}
    snap = Snapshot(
        lb={"arn": LB_ARN, "name": "flask", "dns_name": "flask.elb", "canonical_hosted_zone_id": "Z1",
            "vpc_id": "vpc-1", "scheme": "internet-facing", "type": "application", "state": "active",
            "ip_address_type": "ipv4", "subnets": ["subnet-a", "subnet-b"], "security_groups": ["sg-1"]},
        lb_attributes={}, lb_tags=lb_tags,
        target_groups={tg["name"]: tg for tg in tgs},
    )
    l_tags = ownership_tags(listener_owner) if listener_owner else {}
    snap.listeners[80] = {"arn": "listener-80", "port": 80, "protocol": "HTTP", "certificates": [],
                          "ssl_policy": None, "default_actions": [action_from_params({"target_group": "client"})],
                          "tags": l_tags, "owner": listener_owner}
    snap.rules[80] = sorted(rules, key=lambda r: r["priority"])
    return snap
