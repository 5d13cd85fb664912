"""Priorities follow specificity and stay where they are whenever the order allows it."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.priorities import assign, specificity


def routes(*specs):
    return [(name, None, (i,)) for i, name in enumerate(specs)]


def test_fresh_listener_is_numbered_in_steps_of_ten():
    assert assign(routes("a", "b", "c"), {}, set()) == {"a": 10, "b": 20, "c": 30}


def test_existing_rules_in_order_keep_their_priorities():
    assert assign(routes("a", "b", "c"), {"a": 3, "b": 7, "c": 500}, set()) == {"a": 3, "b": 7, "c": 500}


def test_one_rule_out_of_order_is_the_only_one_moved():
    result = assign(routes("a", "b", "c", "d"), {"a": 10, "b": 40, "c": 20, "d": 30}, set())

    assert (result["a"], result["c"], result["d"]) == (10, 20, 30)
    assert 30 < result["b"] or result["b"] < 20


def test_priorities_held_by_others_are_skipped():
    assert assign(routes("a", "b"), {}, {10, 20}) == {"a": 30, "b": 40}


def test_explicit_priority_wins_over_an_existing_rule_on_it():
    result = assign([("a", None, (0,)), ("b", 10, (1,))], {"a": 10}, set())

    assert result["b"] == 10 and result["a"] != 10


def test_full_listener_is_an_error():
    with pytest.raises(ValueError):
        assign(routes("a", "b"), {}, set(range(1, 50001)) - {7})


@pytest.mark.parametrize("more,less", [
    ({"host_headers": ["a.example.com"], "path_patterns": ["/users"]}, {"path_patterns": ["/users"]}),
    ({"path_patterns": ["/users"]}, {"path_patterns": ["/users/*"]}),
    ({"path_patterns": ["/users/admin/*"]}, {"path_patterns": ["/users/*"]}),
    ({"path_patterns": ["/users/*"]}, {"path_patterns": ["/*"]}),
    ({"host_headers": ["api.example.com"]}, {"host_headers": ["*.example.com"]}),
], ids=["host+path before path", "exact before wildcard", "longer before shorter", "prefix before catch-all",
        "exact host before wildcard host"])
def test_more_specific_route_sorts_first(more, less):
    assert specificity(more) < specificity(less)
