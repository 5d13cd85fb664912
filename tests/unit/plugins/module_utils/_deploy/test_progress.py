"""What a release tells while it waits and when it ends: progress samples, the summary, the failure's diagnosis."""

from __future__ import annotations

import json

import pytest

from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.progress import progress_line

from .test_release import IMAGE_V2, failure_of, release, users_v2, world, writes  # noqa: F401  # world is a fixture

__all__ = ["world"]


def test_each_look_at_a_rollout_is_a_sample_with_its_counts_and_newest_event(world):
    result = release(world, services=users_v2())
    samples = [s for s in result.data["progress"] if s["service"] == "users"]
    assert len(samples) >= 3
    assert samples[0]["status"] == "waiting" and samples[-1]["status"] == "done"
    assert samples[-1]["running"] == samples[-1]["desired"] == 2
    assert samples[-1]["healthy"] == samples[-1]["targets"] == 2
    assert [s["t"] for s in samples] == sorted(s["t"] for s in samples)
    assert any(s.get("event") for s in samples)


def test_samples_are_appended_to_the_progress_file_as_json_lines_while_the_release_runs(world, tmp_path):
    path = tmp_path / "progress.jsonl"
    result = release(world, services=users_v2(), progress_file=str(path))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines == json.loads(json.dumps(result.data["progress"]))


def test_a_progress_line_says_state_tasks_targets_and_the_newest_event():
    line = progress_line({"t": 12.4, "service": "users", "purpose": "release", "status": "waiting", "rollout": "IN_PROGRESS",
                          "running": 1, "desired": 2, "healthy": 1, "targets": 2, "event": "(service users) has started 1 tasks"})
    assert line == ("[+12s] users release: rollout IN_PROGRESS, tasks 1/2, targets 1/2 healthy | "
                    "(service users) has started 1 tasks")


def test_a_successful_release_ends_with_a_summary_table(world):
    result = release(world, services=users_v2())
    summary = result.data["summary"]
    assert summary[0] == "release succeeded: 1 service(s)"
    assert summary[1].split() == ["service", "revision", "image", "strategy", "duration", "tasks", "targets", "result"]
    row = summary[2].split()
    assert row[:5] == ["users", "users:1", "->", "users:2", "users:2"]
    assert row[5] == "rolling" and row[-3:] == ["2/2", "2/2", "completed"]
    assert result.data["release_failed"] is False


def test_a_noop_release_has_a_summary_no_progress_and_no_writes(world):
    release(world, services=users_v2())
    world.calls.clear()
    result = release(world, services=users_v2())
    assert writes(world) == []
    assert result.data["progress"] == []
    assert result.data["summary"][2].split()[-1] == "unchanged"


def test_check_mode_summary_is_the_plan(world):
    result = release(world, check_mode=True, services=users_v2())
    assert result.data["summary"][0] == "release planned (check mode): 1 service(s)"
    assert writes(world) == []


def test_circuit_breaker_rollback_still_reports_the_failed_deployments_stopped_tasks_and_logs(world):
    # ECS removes the failed deployment once its rollback completes, before the first look here;
    # its stopped tasks remain.
    world.services["users"]["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] = True
    world.behave(IMAGE_V2, "crash", exit_code=3, after=5.0)
    world.log_streams["/ecs/users|ecs/users/2-new-1"] = ["booting", "KeyError: DATABASE_URL"]
    sleep = world.clock.sleep

    def sleep_while_ecs_moves_on(seconds):
        while seconds > 0:
            sleep(min(seconds, 5.0))
            seconds -= 5.0
            world.ecs.describe_services(cluster="app", services=["users"])

    world.clock.sleep = sleep_while_ecs_moves_on
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=0, poll_interval=300, max_poll_interval=300)
    failure = failure_of(excinfo)
    assert failure["kind"] == "rolled_back_by_ecs"
    assert all(d["id"] != failure["deployment_id"] for d in world.services["users"]["deployments"])
    assert [t["stop_code"] for t in failure["stopped_tasks"]] == ["EssentialContainerExited"] * len(failure["stopped_tasks"])
    assert len(failure["stopped_tasks"]) >= 3
    assert {t["exit_codes"]["users"] for t in failure["stopped_tasks"]} == {3}
    assert failure["log_lines"]


def test_a_failed_release_summary_has_reason_exit_codes_and_log_lines_in_few_lines(world):
    world.behave(IMAGE_V2, "crash", exit_code=3, after=5.0)
    world.log_streams["/ecs/users|ecs/users/2-new-1"] = ["booting", "KeyError: DATABASE_URL"]
    with pytest.raises(DeployError) as excinfo:
        release(world, services=users_v2(), max_failed_tasks=2)
    details = excinfo.value.details
    summary = details["summary"]
    assert details["release_failed"] is True
    assert summary[0] == "release FAILED: 1 service(s)"
    assert summary[2].split()[-1] == "rolled_back"
    text = "\n".join(summary)
    assert "reason: release failed on users" in text
    assert "EssentialContainerExited, exit codes users=3" in text
    assert "    | KeyError: DATABASE_URL" in text
    assert len(summary) < 20
    assert details["progress"]
