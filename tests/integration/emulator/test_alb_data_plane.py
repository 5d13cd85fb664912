"""The emulator's load balancers answer HTTP through its forward proxy (fidelity/alb_data_plane.py).

Requests go the way a user's client goes: urllib through ``ProxyHandler`` or the standard
``http_proxy`` environment variable (as ``ansible.builtin.uri`` does), for
``http://<DNSName>:<listener port>/path``.  Plain moto (and the emulator without the data plane)
answers none of them.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

import pytest

from emulator.launcher import LocalAwsError
from integration.emulator.stack import USERS_PORT

HEALTHY_AFTER = 15 + 10 + 5 * 30 + 30  # running, registered, 5 x 30 s health checks, margin


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def _opener(aws: Any, follow_redirects: bool = True) -> urllib.request.OpenerDirector:
    handlers: list = [urllib.request.ProxyHandler({"http": aws.endpoint})]
    if not follow_redirects:
        handlers.append(_NoRedirect())
    return urllib.request.build_opener(*handlers)


def _get(opener: urllib.request.OpenerDirector, url: str, headers: Optional[Dict[str, str]] = None) -> Tuple[int, Dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _image(body: str) -> str:
    return json.loads(body)["image"]


@pytest.fixture
def alb(stack):
    """The stack's ALB (listener :80 forwarding to ``users``), its DNS name and listener ARN."""
    dns = stack.elbv2.describe_load_balancers(LoadBalancerArns=[stack.load_balancer])["LoadBalancers"][0]["DNSName"]
    [listener] = stack.elbv2.describe_listeners(LoadBalancerArn=stack.load_balancer)["Listeners"]
    stack.dns = dns
    stack.listener = listener["ListenerArn"]
    stack.url = "http://%s" % dns
    return stack


def _service(stack: Any, name: str, image: str, target_group: str, desired: int = 1, **extra: Any) -> None:
    stack.create_service(name=name, image=image, desired=desired, loadBalancers=[
        {"targetGroupArn": target_group, "containerName": "users", "containerPort": USERS_PORT}], **extra)


@pytest.fixture
def two_services(alb):
    """``users`` (users:1) behind the default action, ``orders`` (orders:1) behind ``/orders/*``."""
    alb.orders_group = alb.create_target_group("orders", USERS_PORT)
    alb.elbv2.create_rule(ListenerArn=alb.listener, Priority=10, Actions=_forward({alb.orders_group: 1}),
                          Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/orders/*"]}}])
    _service(alb, "users", "users:1", alb.target_group, desired=2)
    _service(alb, "orders", "orders:1", alb.orders_group)
    alb.advance(HEALTHY_AFTER)
    return alb


def _forward(weights: Dict[str, int]) -> list:
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]}}]


def test_requests_reach_the_service_chosen_by_path_and_by_header(two_services, aws):
    stack = two_services
    stack.elbv2.create_rule(ListenerArn=stack.listener, Priority=5, Actions=_forward({stack.orders_group: 1}),
                            Conditions=[{"Field": "http-header", "HttpHeaderConfig": {
                                "HttpHeaderName": "X-Canary", "Values": ["y?s"]}}])
    opener = _opener(aws)

    by_path = _get(opener, stack.url + "/orders/7")
    default = _get(opener, stack.url + "/users/7")
    by_header = _get(opener, stack.url + "/users/7", {"X-Canary": "YES"})
    other_header = _get(opener, stack.url + "/users/7", {"X-Canary": "no"})

    assert (by_path[0], _image(by_path[2])) == (200, "orders:1")
    assert json.loads(by_path[2])["path"] == "/orders/7"
    assert (default[0], _image(default[2])) == (200, "users:1")
    assert (by_header[0], _image(by_header[2])) == (200, "orders:1")
    assert (other_header[0], _image(other_header[2])) == (200, "users:1")


def test_round_robin_over_the_healthy_targets_names_each_task(two_services, aws):
    stack = two_services
    opener = _opener(aws)
    task_ids = {task["taskArn"].rsplit("/", 1)[-1] for task in stack.tasks(name="users")}

    answered = {json.loads(_get(opener, stack.url + "/")[2])["task"] for _attempt in range(4)}

    assert len(task_ids) == 2
    assert answered == task_ids


def test_http_proxy_environment_reaches_the_load_balancer_and_aws_calls_stay_direct(
        two_services, aws, monkeypatch, boto3_client):
    stack = two_services
    monkeypatch.setenv("http_proxy", aws.endpoint)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    opener = urllib.request.build_opener()  # ProxyHandler() from the environment, as ansible's uri
    aws.clear_calls()

    status, _headers, body = _get(opener, stack.url + "/users")
    boto3_client("elbv2").describe_load_balancers()

    assert (status, _image(body)) == (200, "users:1")
    # the data plane is not an AWS API call; botocore's own call went direct (no_proxy)
    assert [call["operation"] for call in aws.calls()] == ["DescribeLoadBalancers"]


@pytest.mark.parametrize("weights,expected", [((100, 0), "users:1"), ((0, 100), "orders:1")])
def test_weights_100_0_send_every_request_to_one_group(two_services, aws, weights, expected):
    stack = two_services
    stack.elbv2.modify_listener(ListenerArn=stack.listener, DefaultActions=_forward(
        {stack.target_group: weights[0], stack.orders_group: weights[1]}))
    opener = _opener(aws)

    images = Counter(_image(_get(opener, stack.url + "/")[2]) for _attempt in range(30))

    assert images == Counter({expected: 30})


def test_weights_20_80_split_the_traffic(two_services, aws):
    stack = two_services
    stack.elbv2.modify_listener(ListenerArn=stack.listener, DefaultActions=_forward(
        {stack.target_group: 20, stack.orders_group: 80}))
    opener = _opener(aws)

    images = Counter(_image(_get(opener, stack.url + "/")[2]) for _attempt in range(200))

    assert 30 <= images["users:1"] <= 50
    assert images["users:1"] + images["orders:1"] == 200


def test_fixed_response_and_redirect_actions(alb, aws):
    stack = alb
    stack.elbv2.create_rule(ListenerArn=stack.listener, Priority=1, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/maintenance"]}}], Actions=[
        {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "418", "ContentType": "text/plain",
                                                           "MessageBody": "back soon"}}])
    stack.elbv2.create_rule(ListenerArn=stack.listener, Priority=2, Conditions=[
        {"Field": "path-pattern", "PathPatternConfig": {"Values": ["/old/*"]}}], Actions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "Path": "/new/#{path}",
                                                "StatusCode": "HTTP_301"}}])
    opener = _opener(aws, follow_redirects=False)

    fixed = _get(opener, stack.url + "/maintenance")
    moved = _get(opener, stack.url + "/old/page?x=1")

    assert (fixed[0], fixed[1]["Content-Type"], fixed[2]) == (418, "text/plain", "back soon")
    assert moved[0] == 301
    assert moved[1]["Location"] == "https://%s/new/old/page?x=1" % stack.dns


def test_no_healthy_target_is_the_load_balancers_503(alb, aws):
    stack = alb
    opener = _opener(aws)
    empty = _get(opener, stack.url + "/")
    _service(stack, "users", "users:1", stack.target_group)
    stack.advance(30)  # running and registered, health checks still initial
    initial = _get(opener, stack.url + "/")
    stack.advance(HEALTHY_AFTER)
    healthy = _get(opener, stack.url + "/")

    assert [s for s, _h, _b in (empty, initial, healthy)] == [503, 503, 200]
    assert "503 Service Temporarily Unavailable" in empty[2]


def test_bad_responses_image_is_healthy_to_the_load_balancer_but_answers_its_status(alb, aws):
    stack = alb
    aws.set_behaviour("users:2", "bad_responses", status=503)
    aws.set_behaviour("users:3", "bad_responses")
    other_group = stack.create_target_group("other", USERS_PORT)
    stack.elbv2.create_rule(ListenerArn=stack.listener, Priority=1, Actions=_forward({other_group: 1}),
                            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/other"]}}])
    _service(stack, "users", "users:2", stack.target_group)
    _service(stack, "other", "users:3", other_group)
    stack.advance(HEALTHY_AFTER)
    opener = _opener(aws)

    status, _headers, body = _get(opener, stack.url + "/orders")
    default_status, _h, default_body = _get(opener, stack.url + "/other")

    assert [h["TargetHealth"]["State"] for h in stack.target_health()] == ["healthy"]
    assert status == 503 and _image(body) == "users:2"
    assert default_status == 500 and _image(default_body) == "users:3"


def test_unhealthy_targets_only_fail_open_and_the_task_does_not_answer(alb, aws):
    stack = alb
    aws.set_behaviour("users:9", "unhealthy")
    _service(stack, "users", "users:9", stack.target_group, healthCheckGracePeriodSeconds=600)
    stack.advance(15 + 10 + 2 * 30 + 30)
    opener = _opener(aws)

    status, _headers, body = _get(opener, stack.url + "/")

    assert [h["TargetHealth"]["State"] for h in stack.target_health()] == ["unhealthy"]
    assert status == 502 and "502 Bad Gateway" in body


def test_unknown_host_or_port_is_the_proxys_502_with_a_clear_message(alb, aws):
    stack = alb
    opener = _opener(aws)

    host = _get(opener, "http://nothing.example.com/")
    port = _get(opener, "http://%s:8080/" % stack.dns)

    assert host[0] == 502 and "no load balancer has the DNS name 'nothing.example.com'" in host[2]
    assert port[0] == 502 and "has no listener on port 8080" in port[2]


def test_connect_for_https_is_refused_with_a_clear_message(alb, aws):
    endpoint = urlsplit(aws.endpoint)
    connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=10)
    connection.set_tunnel(alb.dns, 443)
    with pytest.raises(OSError, match="405"):
        connection.request("GET", "/")
    connection.close()


def test_control_api_validates_the_bad_responses_status(aws):
    with pytest.raises(LocalAwsError, match=r"400 .*behaviour.status must be an HTTP status code 100..599, got 42"):
        aws.set_behaviour("users:2", "bad_responses", status=42)
