"""read_metric_filters: the region's listing first where it is cheaper, one call per group for what it did not reach
(scripted DescribeMetricFilters pages; the region listing refused by a narrower policy)."""

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import AwsApiError
from ansible_collections.shipyard.ecs.plugins.module_utils._cloudwatch.state import read_metric_filters


def flt(group, name="errors"):
    return {"logGroupName": group, "filterName": name, "filterPattern": "ERROR"}


class Logs:
    """DescribeMetricFilters as scripted: the region's listing in ``pages``, each group's own read from ``groups``."""

    def __init__(self, pages, groups=None):
        self.pages = pages
        self.groups = groups or {}
        self.calls = []

    def region_metric_filter_pages(self):
        for index, page in enumerate(self.pages):
            self.calls.append("region page %d" % (index + 1))
            yield page, index + 1 < len(self.pages)

    def describe_metric_filters(self, group):
        self.calls.append(group)
        return self.groups[group]


def test_an_account_holding_the_environment_answers_every_group_from_one_page():
    logs = Logs([[flt("/a"), flt("/b"), flt("/b", "warnings"), flt("/c"), flt("/other")], [flt("/zzz")]])

    found = read_metric_filters(logs, {"/a": 1, "/b": 2, "/c": 1})

    assert logs.calls == ["region page 1"]
    names = {g: [f["filterName"] for f in fs] for g, fs in found.items()}
    assert names == {"/a": ["errors"], "/b": ["errors", "warnings"], "/c": ["errors"]}


def test_groups_the_listing_did_not_reach_within_half_the_group_reads_are_read_one_by_one():
    others = [[flt("/x%d" % n)] for n in range(5)]
    logs = Logs([[flt("/a")]] + others + [[flt("/b")], [flt("/c")], [flt("/d")]],
                groups={"/b": [flt("/b")], "/c": [flt("/c")], "/d": [flt("/d")]})

    found = read_metric_filters(logs, {"/a": 1, "/b": 1, "/c": 1, "/d": 1})

    # Four groups: at most two pages of the region's listing, then the three groups it did not complete.
    assert logs.calls[:2] == ["region page 1", "region page 2"] and sorted(logs.calls[2:]) == ["/b", "/c", "/d"]
    assert all(len(found[g]) == 1 for g in ("/a", "/b", "/c", "/d"))


def test_a_group_partly_seen_is_read_whole_and_a_group_counted_none_is_not_read():
    logs = Logs([[flt("/a"), flt("/b")], [flt("/x")], [flt("/b", "warnings")]],
                groups={"/b": [flt("/b"), flt("/b", "warnings")]})

    found = read_metric_filters(logs, {"/a": 1, "/b": 2, "/c": 0})

    assert logs.calls == ["region page 1", "/b"]
    assert [f["filterName"] for f in found["/b"]] == ["errors", "warnings"] and found["/c"] == []


def test_the_end_of_the_listing_completes_groups_whose_count_was_not_told_or_is_behind():
    logs = Logs([[flt("/a"), flt("/a", "warnings"), flt("/b")]])

    found = read_metric_filters(logs, {"/a": 1, "/b": None, "/c": None})

    assert logs.calls == ["region page 1"]
    assert [len(found[g]) for g in ("/a", "/b", "/c")] == [2, 1, 0]


def test_one_group_is_read_by_itself_and_none_makes_no_call():
    logs = Logs([[flt("/a")]], groups={"/a": [flt("/a")]})

    assert read_metric_filters(logs, {"/a": 1}) == {"/a": [flt("/a")]}
    assert read_metric_filters(logs, {}) == {} and read_metric_filters(logs, {"/z": 0}) == {"/z": []}
    assert logs.calls == ["/a"]


class Refused(Logs):
    """The region's listing refused with ``code`` (a policy that allows DescribeMetricFilters on its groups only)."""

    def __init__(self, code, groups):
        super().__init__([], groups)
        self.code = code

    def region_metric_filter_pages(self):
        self.calls.append("region page 1")
        if self.code:
            raise AwsApiError("DescribeMetricFilters failed: %s" % self.code, operation="describe_metric_filters", code=self.code)
        yield from super().region_metric_filter_pages()


def test_a_role_refused_the_region_listing_reads_each_group():
    logs = Refused("AccessDeniedException", {"/a": [flt("/a")], "/b": [flt("/b")]})

    found = read_metric_filters(logs, {"/a": 1, "/b": 1})

    assert logs.calls[0] == "region page 1" and sorted(logs.calls[1:]) == ["/a", "/b"]
    assert found == {"/a": [flt("/a")], "/b": [flt("/b")]}


def test_another_failure_of_the_region_listing_is_raised():
    logs = Refused("ServiceUnavailableException", {"/a": [flt("/a")], "/b": [flt("/b")]})

    with pytest.raises(AwsApiError, match="ServiceUnavailableException"):
        read_metric_filters(logs, {"/a": 1, "/b": 1})
