"""The release summary: an aligned table, and a failure told in a few lines."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._report.summary import (
    duration,
    short_image,
    short_revision,
    summary_lines,
)

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/users:2@sha256:" + "0123456789abcdef" * 4


def service(**extra):
    entry = {"name": "users", "revision_before": ARN + "users:1", "revision": ARN + "users:2", "image": IMAGE,
             "strategy": "rolling", "duration": 75.2, "tasks": {"running": 2, "desired": 2},
             "targets": {"healthy": 2, "total": 2}, "status": "completed"}
    entry.update(extra)
    return entry


def test_an_image_is_shortened_to_repository_tag_and_twelve_digest_characters():
    assert short_image(IMAGE) == "users:2@0123456789ab"
    assert short_image("nginx:1.27") == "nginx:1.27"
    assert short_image(None) == "-"


def test_revisions_and_durations_read_short():
    assert short_revision(ARN + "users:7") == "users:7"
    assert duration(75.2) == "1m15s"
    assert duration(9) == "9s"
    assert duration(None) == "-"


def test_the_table_has_headers_and_aligned_columns():
    unchanged = service(name="orders-worker", revision=ARN + "users:1", status="unchanged", targets=None, duration=None)
    lines = summary_lines({"services": [service(), unchanged]})
    assert lines[0] == "release succeeded: 2 service(s)"
    assert lines[1].startswith("service        revision")
    assert lines[2].split() == ["users", "users:1", "->", "users:2", "users:2@0123456789ab", "rolling", "1m15s", "2/2", "2/2",
                                "completed"]
    assert lines[3].split() == ["orders-worker", "users:1", "users:2@0123456789ab", "rolling", "-", "2/2", "-", "unchanged"]
    assert lines[1].index("revision") == lines[2].index("users:1") == lines[3].index("users:1")


def test_a_failure_tells_reason_stopped_tasks_and_the_last_log_lines_only():
    failure = {"service": "users", "reason": "3 task(s) of deployment ecs-svc/1 stopped\n(max_failed_tasks=3)",
               "stopped_tasks": [{"task": "t%d" % i, "stop_code": "EssentialContainerExited", "exit_codes": {"users": 3},
                                  "stopped_reason": "Essential container in task exited"} for i in range(5)],
               "log_lines": {"t0": {"users": ["line %d" % i for i in range(20)]}}}
    lines = summary_lines({"failed": True, "msg": "release failed on users: ...; rollback: users rolled back to users:1",
                           "services": [service(status="rolled_back")], "failures": [failure]})
    assert lines[0] == "release FAILED: 1 service(s)"
    assert "reason: release failed on users: ...; rollback: users rolled back to users:1" in lines
    assert len(summary_lines({"failed": True, "msg": "x" * 500})[-1]) == len("reason: ") + 140
    assert "users failed: 3 task(s) of deployment ecs-svc/1 stopped (max_failed_tasks=3)" in lines
    assert ("  users: 5 stopped task(s) t0, t1, t2 +2: EssentialContainerExited, exit codes users=3 - Essential container in task "
            "exited" in lines)
    assert [line for line in lines if line.startswith("    | ")] == ["    | line %d" % i for i in range(16, 20)]
    assert len(lines) < 20


def test_a_failed_migration_shows_its_exit_codes_and_log_lines():
    lines = summary_lines({"failed": True, "msg": "release stopped before any service update: migration failed", "services": [],
                           "migration": {"command": ["flask", "db", "upgrade"], "failed": True, "exit_codes": {"users": 2},
                                         "log_lines": {"users": ["Traceback", "KeyError: DATABASE_URL"]}}})
    assert "migration flask db upgrade: failed, exit codes {'users': 2}" in lines
    assert lines[-1] == "    | KeyError: DATABASE_URL"


def test_a_reason_the_message_already_gives_is_not_repeated_and_arns_read_short():
    reason = "deployment ecs-svc/1 failed and ECS rolled back to arn:aws:ecs:us-east-1:123456789012:task-definition/users:1"
    lines = summary_lines({"failed": True, "msg": "release failed on users: users: %s; rollback: ..." % reason,
                           "services": [service(status="rolled_back")], "failures": [{"service": "users", "reason": reason}]})
    assert lines[-1] == ("reason: release failed on users: users: deployment ecs-svc/1 failed and ECS rolled back to "
                         "task-definition/users:1; rollback: ...")
