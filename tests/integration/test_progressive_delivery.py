"""Seed 004's talk-service released blue/green, then canary, by ECS from the example inventories.

One environment, deployed once and shared by every step (deploys are the expensive part):

1. ``examples/talk-service/local`` (rolling, as the seed deploys it), then ``local-blue-green``:
   ECS changes the service's strategy in place;
2. a healthy release: test traffic checked over HTTP at the ``PAUSE`` hook, production traffic moved
   at once, blue gone after the bake time, each lifecycle stage in the module's timeline;
3. an image that passes the load balancer's health checks but answers 500: the check on test traffic
   fails at the hook, ECS rolls back, production traffic never left blue;
4. a crash-looping image: ECS rolls back, production traffic never left blue;
5. the healthy application file again: changed=0, zero writes, listener weights included;
6. the service moved to canary: ``--check --diff`` writes nothing and shows it, the release moves
   production traffic by a canary step first, and the next run is a no-op.

A thread samples the production listener's weights through every release: "never left blue" is
checked on what the load balancer forwarded during the run, not only at its end.
"""

from __future__ import annotations

import os
import re
import threading

import pytest

from integration.ansible_runner_helpers import REPO
from integration.test_examples import build_demo_images, healthy_targets, ok, running_tasks, service_of, task_definition_of

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
EXAMPLE = os.path.join(REPO, "examples", "talk-service")
CLUSTER = "conference-local"
SERVICE = "talk-service"
BLUE, GREEN = "local-talk-service-instance", "local-talk-service-instance-alt"
RELEASE = "shipyard.ecs.services : Release the services' task definitions"
BAD_IMAGE = "public.ecr.aws/shipyard-tests/talk:answers-500"
CRASH_IMAGE = "public.ecr.aws/shipyard-tests/talk:crash-loop"
STAGE_ORDER = ["RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
               "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME",
               "CLEAN_UP"]


def talk_service(release, **changes):
    """env_services of local-blue-green/ with ``release`` and the given keys changed."""
    spec = {"release": release}
    spec.update(changes)
    if "image" not in spec:
        spec["archive"] = "{{ example_images }}/talk-service.tar"
    return {"env_services": {SERVICE: spec}}


BLUE_GREEN = {"strategy": "blue_green", "bake_minutes": 5,
              "test_traffic": {"http_header": {"name": "X-Talk-Release", "value": "green"}},
              "checks": [{"path": "/health"}]}
CANARY = dict(BLUE_GREEN, strategy="canary", bake_minutes=1, canary={"percent": 20, "bake_minutes": 2})


class WeightSampler:
    """The production listener's forward weights by target group name, sampled while a release runs."""

    def __init__(self, elbv2, listener_arn, names):
        self.elbv2, self.listener_arn, self.names = elbv2, listener_arn, names
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def weights(self):
        listener = self.elbv2.describe_listeners(ListenerArns=[self.listener_arn])["Listeners"][0]
        forward = [a for a in listener["DefaultActions"] if a["Type"] == "forward"][0]
        groups = forward.get("ForwardConfig", {}).get("TargetGroups") or [{"TargetGroupArn": forward["TargetGroupArn"], "Weight": 1}]
        return {self.names[g["TargetGroupArn"]]: g.get("Weight", 1) for g in groups}

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(self.weights())
            self._stop.wait(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.samples.append(self.weights())

    def share(self, group):
        """The shares of production traffic ``group`` got, in order, without repeats."""
        out = []
        for sample in self.samples:
            total = sum(sample.values()) or 1
            share = round(100.0 * sample.get(group, 0) / total)
            if not out or out[-1] != share:
                out.append(share)
        return out


def release_of(release_task):
    """The talk-service's entry in ecs_rolling_deploy's result."""
    return [s for s in release_task["services"] if s["name"] == SERVICE][0]


def stages(release_task):
    """The lifecycle stages the module reported for the service, in order, without repeats."""
    seen = [e["stage"] for e in release_task["timeline"] if e.get("event") == "stage" and e.get("service") == SERVICE]
    return [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]


def serving_group(ecs, elbv2, names):
    """The target group the service's running tasks are registered in."""
    service = service_of(ecs, CLUSTER, SERVICE)
    binding = service["loadBalancers"][0]
    for arn in (binding["targetGroupArn"], binding["advancedConfiguration"]["alternateTargetGroupArn"]):
        if healthy_targets(elbv2, arn):
            return names[arn]
    raise AssertionError("no group has healthy targets")


@pytest.mark.slow
def test_talk_service_blue_green_then_canary_checked_on_test_traffic_and_rolled_back_before_production(
        aws, run_playbook, boto3_client):
    images = os.path.join(REPO, "build", "examples", "talk-service")
    build_demo_images.build(images, os.path.join(EXAMPLE, "app.yml"))
    # Smoke checks and the checks on test traffic over HTTP, through the emulator's load balancer data
    # plane (reached as from behind a proxy).
    env = {"SHIPYARD_EXAMPLE_IMAGES": images, "http_proxy": aws.endpoint, "no_proxy": "127.0.0.1,localhost"}
    http = {"env_smoke_http": True, "env_smoke_retries": 0}
    ecs, elbv2, logs = boto3_client("ecs"), boto3_client("elbv2"), boto3_client("logs")

    def deploy(extra=None, inventory="local-blue-green", **kwargs):
        return run_playbook(DEPLOY, inventory=os.path.join(EXAMPLE, inventory), env=env,
                            extra_vars=dict(http, **(extra or {})), **kwargs)

    # 1. The seed's rolling deployment, then the same service moved to blue/green in place.
    ok(deploy(inventory="local"))
    service = service_of(ecs, CLUSTER, SERVICE)
    container = task_definition_of(ecs, service)["containerDefinitions"][0]
    assert (container["name"], container["cpu"], container["memoryReservation"]) == ("web", 128, 128)
    assert container["logConfiguration"]["options"]["awslogs-group"] == "talk-service-cloudwatch"
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "aws-talk-service-cloudwatch"
    assert logs.describe_log_groups(logGroupNamePrefix="talk-service-cloudwatch")["logGroups"]
    assert {t["capacityProviderName"] for t in running_tasks(ecs, CLUSTER, SERVICE)} == {CLUSTER + "-ec2"}
    assert service["deploymentConfiguration"].get("strategy", "ROLLING") == "ROLLING"

    aws.clear_calls()
    ok(deploy())
    assert [c["operation"] for c in aws.write_calls() if c["operation"] in ("CreateService", "DeleteService")] == []
    service = service_of(ecs, CLUSTER, SERVICE)
    assert (service["deploymentConfiguration"]["strategy"], service["deploymentConfiguration"]["bakeTimeInMinutes"]) == ("BLUE_GREEN", 5)
    hooks = service["deploymentConfiguration"]["lifecycleHooks"]
    assert [(h["targetType"], h["lifecycleStages"]) for h in hooks] == [("PAUSE", ["POST_TEST_TRAFFIC_SHIFT"])]
    binding = service["loadBalancers"][0]
    groups = elbv2.describe_target_groups(TargetGroupArns=[binding["targetGroupArn"], binding["advancedConfiguration"]["alternateTargetGroupArn"]])
    names = {g["TargetGroupArn"]: g["TargetGroupName"] for g in groups["TargetGroups"]}
    assert sorted(names.values()) == [BLUE, GREEN]
    assert all(g["TargetType"] == "instance" and g["HealthCheckPath"] == "/health" for g in groups["TargetGroups"])
    alb = elbv2.describe_load_balancers(Names=[CLUSTER])["LoadBalancers"][0]
    listener = [li for li in elbv2.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"] if li["Port"] == 80][0]
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    default_rule = [r for r in rules if r["IsDefault"]][0]
    test_rule = [r for r in rules if not r["IsDefault"]][0]
    assert binding["advancedConfiguration"]["productionListenerRule"] == default_rule["RuleArn"]
    assert binding["advancedConfiguration"]["testListenerRule"] == test_rule["RuleArn"]
    # Header names match case-insensitively.
    assert ("x-talk-release", ["green"]) in [(c["HttpHeaderConfig"]["HttpHeaderName"].lower(), c["HttpHeaderConfig"]["Values"])
                                             for c in test_rule["Conditions"] if c["Field"] == "http-header"]

    # 2. A healthy release: checked on test traffic, then production traffic moved at once to green.
    blue = serving_group(ecs, elbv2, names)
    green = GREEN if blue == BLUE else BLUE
    healthy = talk_service(BLUE_GREEN, environment={"TALK_RELEASE": "2"})
    with WeightSampler(elbv2, listener["ListenerArn"], names) as weights:
        released = ok(deploy(healthy))
    release = released.task(RELEASE)
    result = release_of(release)
    assert (result["strategy"], result["status"]) == ("blue_green", "completed"), result
    seen = stages(release)
    assert seen == sorted(seen, key=STAGE_ORDER.index), seen
    assert {"POST_TEST_TRAFFIC_SHIFT", "CLEAN_UP"} <= set(seen), seen
    events = [e["event"] for e in release["timeline"] if e.get("service") == SERVICE]
    assert events.index("test_traffic_checks") < events.index("hook_continue"), events
    assert [e["note"] for e in release["timeline"] if e.get("event") == "test_traffic_checks"] == ["passed"]
    assert weights.share(green) == [0, 100], weights.samples
    service = service_of(ecs, CLUSTER, SERVICE)
    assert serving_group(ecs, elbv2, names) == green
    assert {t["taskDefinitionArn"] for t in running_tasks(ecs, CLUSTER, SERVICE)} == {service["taskDefinition"]}
    assert len(running_tasks(ecs, CLUSTER, SERVICE)) == 2, "blue's tasks are gone after the bake time"
    assert healthy_targets(elbv2, [a for a, n in names.items() if n == blue][0]) == []
    good_revision = service["taskDefinition"]
    assert {"name": "TALK_RELEASE", "value": "2"} in task_definition_of(ecs, service)["containerDefinitions"][0]["environment"]

    # 3. Healthy to the load balancer, 500 to users: rolled back at the hook, production untouched.
    blue, green = green, blue

    def rolled_back(image, behaviour):
        """Release ``image`` (behaving as ``behaviour``): the play fails, ECS rolled back, production traffic
        never reached green, the service still runs the good revision. The release's summary."""
        aws.set_behaviour(image, behaviour)
        with WeightSampler(elbv2, listener["ListenerArn"], names) as weights:
            run = deploy(talk_service(BLUE_GREEN, image=image, environment={"TALK_RELEASE": "2"}))
        assert run.rc != 0, run.stdout[-3000:]
        assert release_of(run.task(RELEASE))["status"] == "rolled_back", run.task(RELEASE)["services"]
        assert weights.share(green) == [0], weights.samples
        assert service_of(ecs, CLUSTER, SERVICE)["taskDefinition"] == good_revision
        assert serving_group(ecs, elbv2, names) == blue
        return "\n".join(run.task(RELEASE)["summary"])

    summary = rolled_back(BAD_IMAGE, "bad_responses")
    assert "test traffic check failed at POST_TEST_TRAFFIC_SHIFT" in summary and "/health: status 500" in summary, summary

    # 4. A crash loop: ECS rolls back before any traffic reaches the new tasks.
    summary = rolled_back(CRASH_IMAGE, "crash")
    assert "exit codes web=1" in summary, summary

    # 5. The healthy application file again, after ECS moved the weights and rolled back twice: nothing to do.
    # Smoke-checked on target health (the inventory's own setting): the group ECS emptied has no targets.
    aws.clear_calls()
    again = ok(deploy(dict(healthy, env_smoke_http=False)))
    assert again.changed_tasks() == []
    assert aws.write_calls() == []
    smoke = again.task("Check that every web service has targets and all are healthy")["msg"]
    groups = {name.strip(): states.strip() for name, states in (part.split(":", 1) for part in smoke.split(";"))}
    assert (groups[blue], groups[green]) == ("healthy,healthy", ""), smoke

    # 6. Canary: the plan first, then production traffic moved 20 % first, then the rest.
    canary = talk_service(CANARY, environment={"TALK_RELEASE": "3"})
    plan = ok(deploy(canary, check=True, diff=True))
    assert aws.write_calls() == []
    assert "CANARY" in plan.stdout and "canaryPercent" in plan.stdout, "the strategy's change is in the diff"
    assert re.search(r"TALK_RELEASE\W+3", plan.stdout), "the revision's change is in the diff"
    assert ("release: canary: green beside blue, checks on test traffic (GET /health -> 200), then 20 % of production "
            "traffic for 2 min, then the rest; blue kept 1 min") in [line.strip() for line in plan.task("Show the plan")["msg"]], \
        plan.task("Show the plan")["msg"]
    # Slower AWS time, so that the sampler sees the canary step (2 minutes of AWS time).
    default_scale = aws.time()["default_scale"]
    aws.set_time_scale(10)
    try:
        with WeightSampler(elbv2, listener["ListenerArn"], names) as weights:
            ok(deploy(canary))
    finally:
        aws.set_time_scale(default_scale)
    assert weights.share(green) == [0, 20, 100], weights.samples
    assert service_of(ecs, CLUSTER, SERVICE)["deploymentConfiguration"]["strategy"] == "CANARY"
    aws.clear_calls()
    assert ok(deploy(canary)).changed_tasks() == []
    assert aws.write_calls() == []
