"""Normalise/compare helpers."""

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.diff import differences, is_subset, prune, sort_list, tag_delta, tags_to_dict


def test_prune_treats_missing_empty_and_null_alike():
    assert prune({"a": None, "b": [], "c": {}, "d": {"e": None}, "f": 0, "g": False, "h": [{"i": []}]}) == {"f": 0, "g": False, "h": [{}]}


def test_sort_list_orders_dicts_stably_regardless_of_input_order():
    a = [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]
    assert sort_list(a) == sort_list(list(reversed(a)))


def test_differences_reports_leaf_paths():
    before = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    after = {"a": {"b": 2, "c": [1, 3]}, "e": "y"}
    assert differences(before, after) == [
        {"path": "a.b", "before": 1, "after": 2},
        {"path": "a.c[1]", "before": 2, "after": 3},
        {"path": "d", "before": "x", "after": None},
        {"path": "e", "before": None, "after": "y"},
    ]


def test_differences_of_equal_documents_is_empty():
    assert differences({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []


def test_lists_of_different_length_differ_as_a_whole():
    assert differences({"a": [1]}, {"a": [1, 2]}) == [{"path": "a", "before": [1], "after": [1, 2]}]


def test_is_subset_ignores_fields_aws_adds():
    assert is_subset({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 2, "d": 3}, "e": 4})
    assert not is_subset({"a": 1}, {"a": 2})
    assert not is_subset({"a": [1]}, {"a": [1, 2]})


def test_tags_to_dict_accepts_both_casings():
    assert tags_to_dict([{"Key": "a", "Value": "1"}, {"key": "b", "value": "2"}]) == {"a": "1", "b": "2"}


def test_tag_delta_sets_what_differs_removes_what_is_not_wanted_and_spares_aws_tags():
    current = {"Application": "shop", "Owner": "ops", "aws:cloudformation:stack-name": "base"}
    wanted = {"Application": "shop", "Environment": "prod"}
    assert tag_delta(current, wanted) == ({"Environment": "prod"}, ["Owner"])
    assert tag_delta(current, wanted, purge=False) == ({"Environment": "prod"}, [])
    assert tag_delta(wanted, wanted) == ({}, [])
