"""AwsApi: retries, error translation and call accounting."""

import threading
import time

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import (
    READ_WORKERS,
    AwsApi,
    RetryPolicy,
    combined_calls,
    is_read_operation,
    read_each,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError


class AreaError(AwsApiError):
    pass


class AreaApi(AwsApi):
    error = AreaError
    service = "area"


def client_error(code, status=400, op="DescribeThings"):
    return ClientError({"Error": {"Code": code, "Message": "it went wrong"}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


class ScriptedClient:
    """Answers each call with the next scripted outcome (an exception is raised)."""

    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.seen = []

    def __getattr__(self, name):
        def method(**kwargs):
            self.seen.append((name, kwargs))
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        return method


def api_for(outcomes, max_attempts=5):
    sleeps = []
    api = AreaApi(ScriptedClient(outcomes), RetryPolicy(max_attempts=max_attempts, sleep=sleeps.append, rand=lambda: 1.0))
    return api, sleeps


def test_throttling_is_retried_until_success():
    api, sleeps = api_for([client_error("ThrottlingException"), client_error("Throttling"), {"ok": 1}])
    assert api.call("describe_things") == {"ok": 1}
    assert api.calls["describe_things"] == 3
    assert api.retries["describe_things"] == 2
    assert len(sleeps) == 2


def test_backoff_grows_and_is_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, rand=lambda: 1.0)
    assert [policy.delay(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_server_errors_are_retried():
    api = api_for([client_error("InternalFailure", 500), client_error("Whatever", 503), {"ok": 2}])[0]
    assert api.call("describe_things") == {"ok": 2}


def test_connection_errors_are_retried():
    api = api_for([EndpointConnectionError(endpoint_url="http://x"), {"ok": 3}])[0]
    assert api.call("describe_things") == {"ok": 3}


def test_client_errors_are_not_retried_and_name_the_operation():
    api, sleeps = api_for([client_error("ValidationException")])
    with pytest.raises(AreaError) as info:
        api.call("create_thing", Name="x")
    assert info.value.code == "ValidationException"
    assert info.value.operation == "create_thing"
    assert "create_thing failed: ValidationException: it went wrong" == info.value.msg
    assert sleeps == []


def test_retries_give_up_after_max_attempts():
    api, sleeps = api_for([client_error("Throttling")] * 3, max_attempts=3)
    with pytest.raises(AreaError) as info:
        api.call("describe_things")
    assert info.value.code == "Throttling"
    assert api.calls["describe_things"] == 3
    assert len(sleeps) == 2


def test_paginate_follows_tokens():
    api = api_for([{"Items": [1, 2], "NextToken": "t1"}, {"Items": [3], "NextToken": "t2"}, {"Items": []}])[0]
    assert api.paginate("list_things", "Items", Filter="f") == [1, 2, 3]
    assert [kw for unused_name, kw in api.client.seen] == [{"Filter": "f"}, {"Filter": "f", "NextToken": "t1"}, {"Filter": "f", "NextToken": "t2"}]


def test_reads_and_writes_are_counted_apart():
    api = api_for([{}, {}, {}, {}])[0]
    api.call("describe_things")
    api.call("list_things")
    api.call("get_thing")
    api.call("create_thing")
    assert api.read_calls == {"describe_things": 1, "list_things": 1, "get_thing": 1}
    assert api.write_calls == {"create_thing": 1}
    assert combined_calls([api]) == {"area": {"read": 3, "write": 1}}


@pytest.mark.parametrize("operation,read", [
    ("describe_services", True), ("list_tasks", True), ("get_authorization_token", True),
    ("batch_get_image", True), ("filter_log_events", True), ("update_service", False), ("put_image", False), ("register_task_definition", False),
])
def test_read_operations_follow_aws_naming(operation, read):
    assert is_read_operation(operation) is read


class SlowClient:
    """Answers describe_thing(Name=n) with n after a pause; records how many calls were in flight at once."""

    def __init__(self, pause=0.05, fail=None):
        self.pause = pause
        self.fail = dict(fail or {})
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def describe_thing(self, Name):  # pylint: disable=invalid-name
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.pause)
            if Name in self.fail:
                raise client_error(self.fail[Name])
            return {"Name": Name}
        finally:
            with self.lock:
                self.in_flight -= 1


def test_read_each_reads_several_at_once_and_answers_in_the_items_order():
    client = SlowClient(pause=0.05)
    api = AreaApi(client)
    names = ["thing-%02d" % i for i in range(20)]
    answers = read_each(lambda name: api.call("describe_thing", Name=name)["Name"], names)
    assert answers == names
    assert 2 <= client.most_in_flight <= READ_WORKERS
    # Every call is counted, however many threads made them.
    assert api.calls["describe_thing"] == 20


def test_read_each_raises_the_first_failing_item_in_order():
    # thing-07 fails first in time, thing-03 first in the items' order: a loop would have raised thing-03's.
    client = SlowClient(pause=0.01, fail={"thing-03": "ThingGone", "thing-07": "ThingNotFound"})
    api = AreaApi(client, retry=RetryPolicy(max_attempts=1))
    names = ["thing-%02d" % i for i in range(10)]
    with pytest.raises(AreaError) as err:
        read_each(lambda name: (time.sleep(0.05) if name == "thing-03" else None) or api.call("describe_thing", Name=name), names)
    assert "ThingGone" in str(err.value)
    assert err.value.operation == "describe_thing"


def test_read_each_of_one_item_or_one_worker_reads_in_the_callers_thread():
    seen = []
    assert read_each(lambda item: seen.append(threading.current_thread()) or item * 2, [1, 2, 3], workers=1) == [2, 4, 6]
    assert read_each(lambda item: seen.append(threading.current_thread()) or item, [5]) == [5]
    assert read_each(lambda item: item, []) == []
    assert set(seen) == {threading.current_thread()}
