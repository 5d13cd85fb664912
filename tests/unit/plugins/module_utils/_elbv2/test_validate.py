"""Every option is checked before the first write call; the error names the option and the value."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Error
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.state import Snapshot
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.validate import (
    validate_against_state,
    validate_params,
)

from .helpers import APP, params, route, rule, snapshot, target_group

TG = [{"name": "client", "port": 9000}, {"name": "users", "port": 5000}]


def tg(**kw):
    return {"target_groups": [dict({"name": "users", "port": 5000}, **kw)]}


STATIC_CASES = {
    "load balancer name too long": ({"name": "x" * 33}, "name='xxx"),
    "load balancer name starting with internal-": ({"name": "internal-api"}, "name='internal-api'"),
    "one subnet only": ({"subnets": ["subnet-a"]}, "subnets=['subnet-a']"),
    "idle timeout out of range": ({"attributes": {"idle_timeout": 0}}, "attributes.idle_timeout=0"),
    "access logs without bucket": ({"attributes": {"access_logs": {"enabled": True}}}, "attributes.access_logs="),
    "duplicate target group name": ({"target_groups": TG + [{"name": "users", "port": 1}]},
                                    "target_groups[2].name='users'"),
    "target group name with underscore": (tg(name="my_users"), "target_groups[0].name='my_users'"),
    "target group port out of range": (tg(port=70000), "target_groups[0].port=70000"),
    "health check timeout not below interval": (tg(health_check={"interval": 10, "timeout": 10}),
                                                "target_groups[0].health_check.timeout=10"),
    "health check interval out of range": (tg(health_check={"interval": 301}), "health_check.interval=301"),
    "health check threshold out of range": (tg(health_check={"healthy_threshold": 11}), "healthy_threshold=11"),
    "health check path without slash": (tg(health_check={"path": "ping"}), "health_check.path='ping'"),
    "health check matcher not codes": (tg(health_check={"matcher": "ok"}), "health_check.matcher='ok'"),
    "health check port not a number": (tg(health_check={"port": "web"}), "health_check.port='web'"),
    "deregistration delay out of range": (tg(deregistration_delay=4000), "deregistration_delay=4000"),
    "slow start between 1 and 29": (tg(slow_start=10), "slow_start=10"),
    "app cookie stickiness without cookie name": (tg(stickiness={"enabled": True, "type": "app_cookie"}),
                                                  "stickiness.cookie_name=None"),
    "two listeners on one port": ({"listeners": [{"port": 80}, {"port": 80}]}, "listeners[1].port=80"),
    "https without certificate": ({"listeners": [{"port": 443, "protocol": "HTTPS"}]},
                                  "listeners[0].certificates=None"),
    "certificate on http": ({"listeners": [{"port": 80, "protocol": "HTTP", "certificates": ["arn:cert"]}]},
                            "listeners[0].protocol='HTTP'"),
    "two actions in one route": ({"routes": [route("/a", redirect={"protocol": "HTTPS"})]}, "routes[0]=["),
    "no action in a route": ({"routes": [route("/a", tg=None)]}, "routes[0]=[]"),
    "route without condition": ({"routes": [route()]}, "routes[0]="),
    "path pattern with a space": ({"routes": [route("/a b")]}, "routes[0].path_patterns='/a b'"),
    "path pattern longer than 128": ({"routes": [route("/" + "a" * 128)]}, "routes[0].path_patterns='/aaa"),
    "host header with a slash": ({"routes": [route(host_headers=["a.com/x"])]}, "routes[0].host_headers='a.com/x'"),
    "host header without a dot": ({"routes": [route(host_headers=["localhost"])]}, "routes[0].host_headers='localhost'"),
    "host header ending in a wildcard": ({"routes": [route(host_headers=["api.example.*"])]},
                                         "routes[0].host_headers='api.example.*'"),
    "four values in one condition": ({"routes": [route("/a", "/b", "/c", "/d")]}, "routes[0].path_patterns=["),
    "six values in one rule": ({"routes": [route("/a", "/b", "/c", host_headers=["a.com", "b.com", "c.com"])]},
                               "routes[0]=6"),
    "six wildcards in one rule": ({"routes": [route("/*/*/*", "/*/*/*")]}, "routes[0]=6"),
    "method with digits": ({"routes": [route("/a", methods=["GET1"])]}, "routes[0].methods='GET1'"),
    "header name with a space": ({"routes": [route("/a", http_headers=[{"name": "X Y", "values": ["1"]}])]},
                                 "routes[0].http_headers[0].name='X Y'"),
    "same header twice": ({"routes": [route("/a", http_headers=[{"name": "X-A", "values": ["1"]},
                                                                {"name": "x-a", "values": ["2"]}])]},
                          "routes[0].http_headers=['x-a', 'x-a']"),
    "query value too long": ({"routes": [route("/a", query_strings=[{"key": "k", "value": "v" * 129}])]},
                             "routes[0].query_strings.value="),
    "source ip not a cidr": ({"routes": [route("/a", source_ips=["10.0.0.0/33"])]}, "routes[0].source_ips='10.0.0.0/33'"),
    "priority zero": ({"routes": [route("/a", priority=0)]}, "routes[0].priority=0"),
    "priority above 50000": ({"routes": [route("/a", priority=50001)]}, "routes[0].priority=50001"),
    "two routes on one priority": ({"routes": [route("/a", priority=5), route("/b", priority=5)]},
                                   "routes[1].priority=5"),
    "two routes with the same conditions": ({"routes": [route("/a", "/b"), route("/b", "/a", tg="client")]},
                                            "routes[1]="),
    "same conditions up to case of host": ({"routes": [route(host_headers=["A.com"]), route(host_headers=["a.COM"])]},
                                           "routes[1]="),
    "six target groups in a forward": ({"routes": [route("/a", tg=None, forward={"target_groups": [
        {"name": "t%d" % i, "weight": 1} for i in range(6)]})]}, "routes[0].forward.target_groups=["),
    "weight above 999": ({"routes": [route("/a", tg=None, forward={"target_groups": [{"name": "users", "weight": 1000}]})]},
                         "routes[0].forward.target_groups[0].weight=1000"),
    "target group twice in a forward": ({"routes": [route("/a", tg=None, forward={"target_groups": [
        {"name": "users", "weight": 1}, {"name": "users", "weight": 2}]})]}, "routes[0].forward.target_groups=["),
    "redirect status 307": ({"routes": [route("/a", tg=None, redirect={"status_code": "HTTP_307"})]},
                            "routes[0].redirect.status_code='HTTP_307'"),
    "fixed response status 302": ({"routes": [route("/a", tg=None, fixed_response={"status_code": "302"})]},
                                  "routes[0].fixed_response.status_code='302'"),
}


@pytest.mark.parametrize("overrides,option", list(STATIC_CASES.values()), ids=list(STATIC_CASES))
def test_invalid_option_is_refused_naming_option_and_value(overrides, option):
    with pytest.raises(Elbv2Error) as exc:
        validate_params(params(**overrides))

    assert option in exc.value.msg


def test_valid_seed_routing_passes():
    validate_params(params(routes=[route("/auth/*", "/users", "/users/*"), route("/ping")]))


def _network_lb():
    snap = snapshot([])
    snap.lb["type"] = "network"
    return snap


STATE_CASES = {
    "route to an unknown target group": (
        params(routes=[route("/a", tg="orders")]), snapshot([]), "routes[0].target_group='orders'"),
    "route to an unknown listener": (
        params(routes=[route("/a", listener=8080)]), snapshot([]), "routes[0].listener=8080"),
    "target group port change": (
        params(target_groups=[{"name": "client", "port": 9000}, {"name": "users", "port": 5001}]), snapshot([]),
        "target_groups[1].port=5001"),
    "target group protocol change": (
        params(target_groups=[{"name": "client", "port": 9000, "protocol": "HTTPS"}, {"name": "users", "port": 5000}]),
        snapshot([]), "target_groups[0].protocol='HTTPS'"),
    "target group target type change": (
        params(target_groups=[{"name": "client", "port": 9000, "target_type": "instance"},
                              {"name": "users", "port": 5000}]), snapshot([]), "target_groups[0].target_type='instance'"),
    "target group of another application": (
        params(), snapshot([], target_groups=[target_group("client", 9000, owner="billing"),
                                              target_group("users", 5000)]), "target_groups[0].name='client'"),
    "listener port held by another application": (
        params(), snapshot([], listener_owner="platform"), "listeners[0].port=80"),
    "explicit priority held by another application's rule": (
        params(listeners=[], routes=[route("/a", priority=10)]),
        snapshot([rule(10, "/b", owner="billing")], listener_owner="platform"), "routes[0].priority=10"),
    "more than 100 rules on a listener": (
        params(routes=[route("/r%d" % i) for i in range(60)]),
        snapshot([rule(100 + i, "/o%d" % i, owner="billing") for i in range(41)]), "routes=60"),
    "scheme change": (params(scheme="internal"), snapshot([]), "scheme='internal'"),
    "network load balancer of that name": (params(), _network_lb(), "name='flask'"),
    "creating without subnets": (params(subnets=None), Snapshot(), "subnets=None"),
}


@pytest.mark.parametrize("module_params,snap,option", list(STATE_CASES.values()), ids=list(STATE_CASES))
def test_input_that_current_state_makes_impossible_is_refused(module_params, snap, option):
    with pytest.raises(Elbv2Error) as exc:
        validate_params(module_params)
        validate_against_state(module_params, snap, APP)

    assert option in exc.value.msg
