"""read_tags: the tagging API's answer, checked with the resource's own service where it differs from the options."""

import pytest
from botocore.exceptions import ClientError

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.tagging import TaggingApi, read_tags

A, B, C = ("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/%s" % n for n in ("a", "b", "c"))
OWN = {A: {"app": "shop"}, B: {"app": "shop", "team": "web"}, C: {}}


class TaggingClient:
    def __init__(self, answer=None, error=None):
        self.answer = answer or {}
        self.error = error

    def get_resources(self, ResourceARNList, ResourcesPerPage):  # pylint: disable=invalid-name
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetResources")
        return {"ResourceTagMappingList": [{"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
                                           for arn, tags in self.answer.items() if arn in ResourceARNList]}


def read(client, wanted):
    asked = []
    tags = read_tags(TaggingApi(client, retry=RetryPolicy(max_attempts=1)), wanted,
                     lambda arn: asked.append(arn) or dict(OWN[arn]))
    return tags, sorted(asked)


def test_only_resources_whose_answer_differs_are_asked_themselves():
    # The tagging API has not caught up with B's team tag: B is asked; A and C agree with the options.
    client = TaggingClient({A: {"app": "shop"}, B: {"app": "shop"}})
    wanted = {A: ({"app": "shop"}, True), B: ({"app": "shop", "team": "web"}, True), C: ({}, True)}
    tags, asked = read(client, wanted)
    assert tags == OWN and asked == [B]


def test_without_purge_extra_tags_are_no_difference():
    tags, asked = read(TaggingClient({B: {"app": "shop", "team": "web"}}), {B: ({"app": "shop"}, False)})
    assert tags == {B: {"app": "shop", "team": "web"}} and asked == []


def test_a_denied_tagging_call_reads_every_resource_from_its_own_service():
    tags, asked = read(TaggingClient(error="AccessDeniedException"), {A: ({}, True), B: ({}, True)})
    assert tags == {A: OWN[A], B: OWN[B]} and asked == [A, B]


def test_another_tagging_failure_is_raised():
    with pytest.raises(AwsApiError) as err:
        read(TaggingClient(error="InvalidParameterException"), {A: ({}, True)})
    assert "InvalidParameterException" in str(err.value)
