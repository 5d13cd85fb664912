"""Release notifications: the summary to an SNS topic and to a Slack-compatible webhook (a local server here)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest
from ansible.module_utils.urls import open_url
from app_cases import local_env, reference_app
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._app import model
from ansible_collections.shipyard.ecs.plugins.module_utils._app.runner import model_values
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ShipyardError
from ansible_collections.shipyard.ecs.plugins.module_utils._report.api import SnsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._report.notify import Notifier, subject

SUMMARY = ["release FAILED: 1 service(s)", "service  revision  result", "users    users:1   rolled_back"]


@pytest.fixture
def webhook():
    """A webhook on 127.0.0.1 that records what it is posted, answering with ``status``."""
    received = {"posts": [], "status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  # the name http.server calls
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received["posts"].append({"type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(received["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received["url"] = "http://127.0.0.1:%d/hook" % server.server_port
    yield received
    server.shutdown()


def test_the_webhook_receives_the_summary_as_slack_text_in_a_code_block(webhook):
    sent = Notifier(None, open_url).send("app-prod", SUMMARY, True, webhook_url=webhook["url"], report="/r/x.html")
    assert sent == {"sns": None, "webhook": 200}
    post = webhook["posts"][0]
    assert post["type"] == "application/json"
    assert post["body"] == {"text": "```\nRelease of app-prod FAILED\n%s\nreport: /r/x.html\n```" % "\n".join(SUMMARY)}


def test_a_webhook_that_refuses_fails_with_the_option_named(webhook):
    webhook["status"] = 404
    with pytest.raises(ShipyardError, match="^webhook_url: the webhook did not accept"):
        Notifier(None, open_url).send("app", SUMMARY, False, webhook_url=webhook["url"])


def test_check_mode_sends_nothing(webhook):
    sent = Notifier(None, open_url).send("app", SUMMARY, False, sns_topic_arn="arn:aws:sns:us-east-1:1:app-alarms",
                                         webhook_url=webhook["url"], check_mode=True)
    assert sent == {"sns": "would publish", "webhook": "would post"}
    assert webhook["posts"] == []


@mock_aws
def test_the_summary_is_published_to_the_topic_with_a_subject_saying_how_it_went():
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="app-prod-alarms")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    sent = Notifier(SnsApi(sns), open_url).send("app-prod", ["release succeeded: 1 service(s)"], False, sns_topic_arn=topic)
    assert sent["sns"]
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["Subject"] == "Release of app-prod succeeded"
    assert body["Message"] == "Release of app-prod succeeded\nrelease succeeded: 1 service(s)"


def test_a_subject_is_printable_ascii_within_100_characters():
    assert len(subject("x" * 200, True)) == 100
    assert subject("café", False) == "Release of caf? succeeded"


def test_the_environment_says_where_release_summaries_go():
    quiet = model_values(model.load(reference_app(), local_env()), "us-east-1", "123456789012")["release_notifications"]
    assert quiet == {"sns_topic_arn": "", "webhook_url": ""}
    loud = dict(local_env(), env_release_sns=True, env_release_webhook="https://hooks.example.com/T0/B0/x")
    values = model_values(model.load(reference_app(), loud), "us-east-1", "123456789012")
    assert values["release_notifications"] == {
        "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:%s-alarms" % values["name"],
        "webhook_url": "https://hooks.example.com/T0/B0/x"}
