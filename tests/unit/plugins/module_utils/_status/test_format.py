"""The status text: image references shortened, ages in two units, aligned columns, events."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._status.format import (
    COLUMNS,
    human_age,
    render,
    short_image,
    split_image,
    table,
)

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:897c7de99333849cc3221f9ecbcf730a6bd1c140df7cc443819be437190c5b52"


@pytest.mark.parametrize("image, expected", [
    ("nginx", {"registry": None, "repository": "nginx", "tag": None, "digest": None}),
    ("library/nginx:1.27", {"registry": None, "repository": "library/nginx", "tag": "1.27", "digest": None}),
    ("localhost:5000/app:v1", {"registry": "localhost:5000", "repository": "app", "tag": "v1", "digest": None}),
    (ECR + "/shop/users@" + DIGEST, {"registry": ECR, "repository": "shop/users", "tag": None, "digest": DIGEST}),
    (ECR + "/shop/users:1.2@" + DIGEST, {"registry": ECR, "repository": "shop/users", "tag": "1.2", "digest": DIGEST}),
])
def test_image_references_split_like_docker_does(image, expected):
    assert split_image(image) == expected


def test_short_image_drops_the_registry_and_cuts_the_digest_to_twelve_hex_digits():
    assert short_image(ECR + "/shop/users:1.2@" + DIGEST) == "shop/users:1.2@sha256:897c7de99333"


def test_short_image_of_a_digest_only_reference_takes_a_known_tag():
    assert short_image(ECR + "/shop/users@" + DIGEST, tags=["v7", "latest"]) == "shop/users:latest@sha256:897c7de99333"


def test_short_image_of_a_tag_only_reference_shows_the_tag_and_a_digest_when_given():
    assert short_image("nginx:1.27") == "nginx:1.27"
    assert short_image("nginx:1.27", digest=DIGEST) == "nginx:1.27@sha256:897c7de99333"


@pytest.mark.parametrize("seconds, text", [
    (None, "-"), (-3, "0s"), (45, "45s"), (60, "1m"), (59 * 60 + 59, "59m"), (3600 + 5 * 60, "1h05m"),
    (2 * 86400 + 4 * 3600 + 59, "2d04h"),
])
def test_ages_show_the_two_largest_units(seconds, text):
    assert human_age(seconds) == text


def test_table_aligns_every_column_to_its_widest_cell_without_trailing_blanks():
    lines = table(("A", "BB", "C"), [["xxxx", "y", ""], ["z", "wwwww", "q"]])
    assert lines == ["A     BB     C", "xxxx  y", "z     wwwww  q"]


def service(**extra):
    base = {
        "name": "users", "revision": "app-prod-users:12",
        "images": [{"container": "users", "image": ECR + "/shop/users@" + DIGEST,
                    "short": "shop/users:1.2@sha256:897c7de99333"}],
        "running": 1, "desired": 2, "pending": 1,
        "deployment": {"rollout_state": "IN_PROGRESS", "status": "PRIMARY", "age_seconds": 125},
        "deployment_count": 2, "failed_tasks": 3,
        "target_groups": [{"name": "prod-users", "healthy": 1, "total": 2, "states": {"healthy": 1, "initial": 1}}],
        "events": [{"age_seconds": 30, "message": "(service users) has started 1 tasks: (task 0f3c)."}],
    }
    base.update(extra)
    return base


def test_rendered_status_has_a_header_row_and_one_aligned_row_per_service():
    client = service(name="client", failed_tasks=0, deployment_count=1, target_groups=[], events=[],
                     deployment={"rollout_state": "COMPLETED", "age_seconds": 7200})
    text = render({"cluster": "app-prod", "region": "eu-west-1", "services": [service(), client]})
    lines = text.splitlines()
    assert lines[0] == "cluster app-prod (eu-west-1)"
    header = lines[2]
    assert header.split("  ")[0] == "SERVICE"
    for column in COLUMNS:
        assert column in header
    users, client = lines[3], lines[4]
    assert users.startswith("users ") and client.startswith("client ")
    for column in ("IMAGE", "AGE", "RUNNING", "ROLLOUT", "FAILED 1H", "TARGETS"):
        start = header.index("  " + column) + 2
        assert users[start - 2:start] == "  " and users[start] != " ", column
    assert "shop/users:1.2@sha256:897c7de99333" in users
    assert " 2m " in users and " 1/2 " in users and "IN_PROGRESS (2 deployments)" in users
    assert "prod-users 1/2 healthy (1 initial)" in users
    assert " 2h00m " in client and " -" in client.rstrip()[-2:]
    assert all(line == line.rstrip() for line in lines)


def test_recent_events_name_their_service_once_and_say_how_long_ago():
    lines = render({"cluster": "app-prod", "services": [service()]}).splitlines()
    start = lines.index("RECENT EVENTS")
    assert lines[start + 1].split() == ["users", "30s", "ago", "has", "started", "1", "tasks:", "(task", "0f3c)."]


def test_a_long_event_is_cut_to_one_line():
    message = "(service users) " + "word " * 60
    lines = render({"cluster": "c", "services": [service(events=[{"age_seconds": 1, "message": message}])]}).splitlines()
    event = lines[-1]
    assert event.endswith("...") and len(event) < 160


def test_a_missing_cluster_says_nothing_is_deployed():
    text = render({"cluster": "app-prod", "cluster_found": False, "services": []})
    assert "nothing deployed: the cluster does not exist" in text
    assert "SERVICE" not in text


def test_services_the_cluster_does_not_have_are_named():
    text = render({"cluster": "c", "services": [service()], "missing_services": ["worker"]})
    assert "not found: worker" in text.splitlines()
