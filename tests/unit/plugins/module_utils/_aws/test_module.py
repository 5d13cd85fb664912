"""The modules' clients: one boto3 session for all of them, the connection options as amazon.aws applies them."""

import json
import sys

import boto3
import botocore.config
import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws import module as aws_module
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import Sessions, ShipyardAWSModule


def test_clients_of_one_profile_share_one_session(monkeypatch):
    made = []
    real = boto3.session.Session

    def counting(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(aws_module.boto3.session, "Session", counting)
    sessions = Sessions()
    ecs = sessions.client("ecs", region="eu-west-1", endpoint="http://127.0.0.1:1", aws_access_key_id="AKID",
                          aws_secret_access_key="secret", aws_session_token=None, verify=None)
    elbv2 = sessions.client("elbv2", region="eu-west-1", aws_access_key_id="AKID", aws_secret_access_key="secret")
    assert made == [{"profile_name": None}]
    assert ecs.meta.region_name == "eu-west-1" and ecs.meta.endpoint_url == "http://127.0.0.1:1"
    assert elbv2.meta.endpoint_url == "https://elasticloadbalancing.eu-west-1.amazonaws.com"
    assert ecs._request_signer._credentials.access_key == "AKID"  # pylint: disable=protected-access


def test_config_and_aws_config_are_merged_over_the_user_agent():
    # max_attempts counts the retries: botocore tells the attempts, the first included.
    sessions = Sessions(user_agent="APN/1.0 Ansible/test shipyard.ecs")
    client = sessions.client("ecs", region="us-east-1", aws_access_key_id="a", aws_secret_access_key="b",
                             aws_config=botocore.config.Config(retries={"mode": "standard", "max_attempts": 10}),
                             config={"connect_timeout": 7})
    config = client.meta.config
    assert config.user_agent.startswith("APN/1.0 Ansible/test shipyard.ecs")
    assert config.retries["mode"] == "standard" and config.retries["total_max_attempts"] == 11
    assert config.connect_timeout == 7


def run_module_with(monkeypatch, capsys, args, use):
    """Build ShipyardAWSModule on ``args`` (as AnsiballZ hands them), call ``use`` on it; its exit's JSON."""
    monkeypatch.setattr(sys, "argv", ["module"])
    monkeypatch.setattr("ansible.module_utils.basic._ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode())
    monkeypatch.setattr("ansible.module_utils.basic._ANSIBLE_PROFILE", "legacy", raising=False)
    with pytest.raises(SystemExit):
        module = ShipyardAWSModule(argument_spec={}, supports_check_mode=True)
        module.exit_json(changed=False, **use(module))
    return json.loads(capsys.readouterr().out)


def test_the_module_s_clients_take_its_connection_options(monkeypatch, capsys):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def use(module):
        first, second = module.client("ecs"), module.client("logs", region="ap-south-1")
        return {"regions": [first.meta.region_name, second.meta.region_name], "endpoint": first.meta.endpoint_url,
                "key": first._request_signer._credentials.access_key,  # pylint: disable=protected-access
                "retries": first.meta.config.retries, "sessions": len(module._shipyard_sessions._sessions)}  # pylint: disable=protected-access

    out = run_module_with(monkeypatch, capsys, {"region": "eu-central-1", "endpoint_url": "http://127.0.0.1:9", "access_key": "AKID",
                                                "secret_key": "secret", "aws_config": {"retries": {"max_attempts": 4}}}, use)
    assert out["regions"] == ["eu-central-1", "ap-south-1"]
    assert out["endpoint"] == "http://127.0.0.1:9" and out["key"] == "AKID"
    assert out["retries"]["total_max_attempts"] == 5
    assert out["sessions"] == 1


def test_no_region_fails_as_amazon_aws_says_it(monkeypatch, capsys):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    # Told at the client's first use: a runner's first call, a read.
    out = run_module_with(monkeypatch, capsys, {"access_key": "a", "secret_key": "b"},
                          lambda module: {"region": module.client("ecs").meta.region_name})
    assert out["failed"] and "requires a region" in out["msg"]


def test_a_client_is_made_on_its_first_use_and_once(monkeypatch, capsys):
    made = []
    real = Sessions.client

    def counting(self, service, **settings):
        made.append(service)
        return real(self, service, **settings)

    monkeypatch.setattr(Sessions, "client", counting)

    def use(module):
        module.client("ssm"), module.client("sts")
        ecs = module.client("ecs")
        before = list(made)
        return {"before": before, "region": ecs.meta.region_name, "again": ecs.meta.endpoint_url, "made": made,
                "operation": ecs.can_paginate("list_services")}

    out = run_module_with(monkeypatch, capsys, {"region": "eu-west-1", "access_key": "a", "secret_key": "b"}, use)
    assert out["before"] == [] and out["made"] == ["ecs"]
    assert out["region"] == "eu-west-1" and out["operation"] is True
