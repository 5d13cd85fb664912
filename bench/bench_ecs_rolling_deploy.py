"""ecs_rolling_deploy figures (not pass/fail): fail-fast latency, parallelism, API cost per poll.

Runs the real release runner against the ECS/ELBv2 model of the unit tests
(tests/unit/plugins/module_utils/_deploy/fakes.py), which replays ECS states recorded from the
emulator (tests/fixtures/ecs_states/) on a fake clock, so the figures are exact and repeatable:
they measure the module's decisions and polling, not a machine's speed. Every timing of ECS
(task start, exits, deregistration delay) is the recording's.

    .venv/bin/python bench/bench_ecs_rolling_deploy.py
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, ".collections"), os.path.join(REPO, "tests")]

# pylint: disable=wrong-import-position
from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy  # noqa: E402 - path set above
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError  # noqa: E402 - path set above
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions  # noqa: E402 - path set above
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner  # noqa: E402 - path set above
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api  # noqa: E402 - path set above
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi  # noqa: E402 - path set above
from unit.plugins.module_utils._deploy.fakes import FakeAws, recorded  # noqa: E402 - path set above

POLL = 5.0


def runner(world, **params):
    params.setdefault("cluster", "app")
    params.setdefault("poll_interval", POLL)
    params.setdefault("max_poll_interval", 15.0)
    params.setdefault("timeout", 1800)
    retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
    return ReleaseRunner(ReleaseOptions.from_params(params), EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry),
                         LogsApi(world.logs, retry), clock=world.clock, sleep=world.clock.sleep)


def world_with(count):
    world = FakeAws()
    services = []
    for i in range(count):
        name = "svc%02d" % i
        world.service(name, world.register(name, "repo/%s:1" % name))
        world.behave("repo/%s:2" % name, "healthy")
        services.append({"name": name, "images": {name: "repo/%s:2" % name}})
    return world, services


def first_failure(scenario):
    """Seconds from the deployment's start to its first task stopping, in a recorded scenario."""
    return min(change[0] for task in recorded(scenario)["tasks"].values() for change in task["changes"]
               if change[1].get("lastStatus") == "STOPPING")


def fail_fast_latency():
    """Seconds from the first failed task to the failure verdict and to the rolled-back report."""
    print("== fail fast: crash loop (2 tasks, the container exits 3 five seconds after it started), poll_interval=%.0fs"
          % POLL)
    for breaker, max_failed in ((False, 1), (False, 3), (True, 0)):
        world, services = world_with(1)
        world.services["svc00"]["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] = breaker
        world.behave("repo/svc00:2", "crash", after=5.0)
        scenario = "crash_loop_breaker_rollback" if breaker else "crash_loop"
        run = runner(world, services=services, max_failed_tasks=max_failed)
        start = world.clock.now
        try:
            run.run()
        except DeployError as exc:
            events = exc.details["timeline"]
        update = next(e["t"] for e in events if e["event"] == "release_update")
        first_failed_task = update + first_failure(scenario)
        verdict = next(e["t"] for e in events if e["event"] == "release_failed")
        reported = world.clock.now - start
        rollback_done = next(e["t"] for e in events if e["event"] == "rollback_done")
        rollback_started = next(e["t"] for e in events if e["event"] in ("rollback_update", "rollback_by_ecs"))
        how = "circuit breaker (10 tasks), max_failed_tasks=0" if breaker else "max_failed_tasks=%d" % max_failed
        print("  %-46s: failure seen %.1fs after the first failed task (%.2f polls); "
              "rolled back and reported after %.1fs (%.2f polls; the rollback deployment itself %.1fs)" % (
                  how, verdict - first_failed_task, (verdict - first_failed_task) / POLL,
                  reported - first_failed_task, (reported - first_failed_task) / POLL, rollback_done - rollback_started))


def parallelism():
    """A release of N services against one alone: what watching them together adds."""
    print("== parallelism: N services released together, each replaying the recorded healthy rollout "
          "(old tasks drain for the target group's deregistration delay)")
    for count in (3, 10):
        singles = []
        for i in range(count):
            world, services = world_with(count)
            start = world.clock.now
            runner(world, services=[services[i]]).run()
            singles.append(world.clock.now - start)
        world, services = world_with(count)
        start = world.clock.now
        run = runner(world, services=services)
        run.run()
        together = world.clock.now - start
        print("  %2d services: together %.1fs, slowest alone %.1fs -> ratio %.2f (goal <= 1.2)" % (
            count, together, max(singles), together / max(singles)))


def calls_per_poll():
    """ECS + ELBv2 read calls per poll per service while watching."""
    print("== API calls per poll per service while watching (describe_services batched by 10, tasks by 100)")
    for count in (1, 3, 10):
        world, services = world_with(count)
        run = runner(world, services=services)
        run.run()
        start = world.calls.index("update_service")
        watched = [c for c in world.calls[start:] if c.startswith(("describe_", "list_"))]
        polls = run.watcher.polls
        print("  %2d services: %d polls, %.2f calls per poll per service (%s)" % (
            count, polls, len(watched) / float(polls * count),
            ", ".join("%s %.1f" % (op, watched.count(op) / float(polls)) for op in sorted(set(watched)))))


def main():
    fail_fast_latency()
    parallelism()
    calls_per_poll()
    return 0


if __name__ == "__main__":
    sys.exit(main())
