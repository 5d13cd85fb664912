"""A deploy killed mid-run converges when it is run again (issue 8).

A CI runner that times out, an AWX job that is cancelled, a laptop that goes to sleep: the
``ansible-playbook`` process group dies with SIGKILL, with no chance to clean up, at whatever
moment. Running the same deploy again must finish the job: no duplicate resources, no second
task definition revision for what the killed run already registered, and then a no-op.

One emulator state, one time scale, two kills:

* on an empty account, right after the first service was created (``ecs_stack`` mid-way, the
  load balancer, target groups and rules just written by ``alb_routes``); the re-run is the
  environment's first complete deploy;
* on that deployed environment, a release of new images (the demo's images rebuilt, pushed as
  ``v2``) killed while ``ecs_rolling_deploy`` waits on the rollouts it started.

The moments to kill are read from the emulator's call log (the first successful
``CreateService``, the first successful ``UpdateService``): facts about AWS, not about the
playbook's output format or timing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import build_demo_images  # tools/, on sys.path through tests/integration/conftest.py
import pytest

from integration.ansible_runner_helpers import BIN, REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")
INVENTORY = os.path.join(REPO, "inventories", "local")
NAME = "flask-microservices-local"
REPOSITORY = "flask-microservices/%s"
SERVICES = ["client", "swagger", "users"]
# inventories/app.yml: the routes of users, and the listeners' defaults.
ROUTES = {"/auth/*", "/users", "/users/*", "/ping"}
# A guard against waiting for ever, not a time budget (a loaded CI machine is slow).
KILL_WITHIN = 900.0


def seed_secrets(boto3_client):
    ssm = boto3_client("ssm")
    for name in ("/flask-microservices/local/users/DATABASE_URL", "/flask-microservices/local/users/SECRET_KEY"):
        ssm.put_parameter(Name=name, Value="interrupted-deploy-test", Type="SecureString")


def ok(run):
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run


def descendants(pid):
    """PIDs of every process below ``pid`` (from /proc), parents before their children."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def kill_everything(proc):
    """SIGKILL ansible-playbook and every process it started, at once, as a cancelled CI job's container dies.

    Killing the process group is not enough: Ansible's workers call setsid(), so the worker and
    the module talking to AWS would live on. The playbook's group is stopped first so that it
    cannot start another worker while the others are killed.
    """
    os.killpg(proc.pid, signal.SIGSTOP)
    started = descendants(proc.pid)
    for pid in started:
        for kill in (lambda p: os.killpg(os.getpgid(p), signal.SIGKILL), lambda p: os.kill(p, signal.SIGKILL)):
            try:
                kill(pid)
            except (ProcessLookupError, PermissionError):
                pass
    os.killpg(proc.pid, signal.SIGKILL)
    return started


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def deploy_killed_after(aws, ansible, what, extra_vars=None):
    """Start deploy.yml and SIGKILL it and everything it started once ``what(call)`` matched a call."""
    cmd = [os.path.join(BIN, "ansible-playbook"), DEPLOY, "-i", INVENTORY]
    for name, value in (extra_vars or {}).items():
        cmd += ["-e", "%s=%s" % (name, value)]
    aws.clear_calls()
    output = os.path.join(ansible.workdir, "killed-deploy.log")
    with open(output, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=ansible.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + KILL_WITHIN
    killed = []
    try:
        while True:
            matched = [c for c in aws.calls() if what(c)]
            if matched:
                break
            if proc.poll() is not None:
                with open(output) as log:
                    raise AssertionError("the deploy ended (rc %s) before the moment to kill it:\n%s"
                                         % (proc.returncode, log.read()[-3000:]))
            assert time.monotonic() < deadline, "no matching call within %ss" % KILL_WITHIN
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            killed = kill_everything(proc)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the deploy was not killed (rc %s)" % proc.returncode
    # Nothing of the killed run is left talking to AWS (a request already sent may still be
    # answered: the call log settles within a few seconds, or something survived the kill).
    assert killed, "ansible-playbook had no worker running at the moment it was killed"
    for _attempt in range(50):
        if not any(alive(pid) for pid in killed):
            break
        time.sleep(0.1)
    assert [pid for pid in killed if alive(pid)] == [], "a process of the killed deploy survived"
    seen = len(aws.calls())
    for _attempt in range(10):
        time.sleep(1.0)
        now = len(aws.calls())
        if now == seen:
            return matched[0]
        seen = now
    raise AssertionError("a process of the killed deploy is still calling AWS: %s" % aws.calls()[-5:])


def successful_write(operation):
    return lambda call: call["operation"] == operation and call["write"] and call["status"] < 400


def revisions(ecs):
    """Every ACTIVE task definition revision of the environment, per family."""
    out = {}
    for service in SERVICES:
        family = "%s-%s" % (NAME, service)
        arns = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
        out[service] = sorted((a for a in arns if a.rsplit("/", 1)[1].rsplit(":", 1)[0] == family),
                              key=lambda arn: int(arn.rsplit(":", 1)[1]))
    return out


def assert_no_duplicates(boto3_client):
    """One load balancer, one target group per service, one rule per route, each service once."""
    elbv2 = boto3_client("elbv2")
    load_balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in load_balancers] == [NAME]
    groups = elbv2.describe_target_groups()["TargetGroups"]
    assert len(groups) == len(SERVICES), [g["TargetGroupName"] for g in groups]
    listeners = elbv2.describe_listeners(LoadBalancerArn=load_balancers[0]["LoadBalancerArn"])["Listeners"]
    assert sorted(lst["Port"] for lst in listeners) == [80, 8080]
    paths = []
    for listener in listeners:
        for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
            if not rule["IsDefault"]:
                paths += [v for c in rule["Conditions"] if c["Field"] == "path-pattern"
                          for v in (c.get("PathPatternConfig") or c)["Values"]]
    assert sorted(paths) == sorted(ROUTES)
    arns = boto3_client("ecs").list_services(cluster=NAME)["serviceArns"]
    assert sorted(a.rsplit("/", 1)[1] for a in arns) == SERVICES


def images(boto3_client, tag):
    """service -> ``<repository URI>@<digest>`` of the image pushed as ``tag``."""
    ecr = boto3_client("ecr")
    out = {}
    for service in SERVICES:
        repo = ecr.describe_repositories(repositoryNames=[REPOSITORY % service])["repositories"][0]
        [detail] = ecr.describe_images(repositoryName=REPOSITORY % service, imageIds=[{"imageTag": tag}])["imageDetails"]
        out[service] = "%s@%s" % (repo["repositoryUri"], detail["imageDigest"])
    return out


def assert_released(ecs, expected_images):
    """Every service COMPLETED on one deployment of a revision that runs the expected image."""
    running = {}
    for svc in ecs.describe_services(cluster=NAME, services=SERVICES)["services"]:
        name = svc["serviceName"]
        assert [(d["status"], d["rolloutState"]) for d in svc["deployments"]] == [("PRIMARY", "COMPLETED")], name
        assert svc["deployments"][0]["taskDefinition"] == svc["taskDefinition"], name
        assert svc["runningCount"] == svc["desiredCount"], name
        td = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"], include=["TAGS"])
        assert [c["image"] for c in td["taskDefinition"]["containerDefinitions"]] == [expected_images[name]]
        assert "shipyard.ecs:released-at" in {t["key"] for t in td.get("tags") or []}, "%s: not marked released" % name
        running[name] = svc["taskDefinition"]
    return running


def rebuilt_demo_images(out_dir, monkeypatch):
    """The demo's images built again later: same files, another creation time, other digests."""
    monkeypatch.setattr(build_demo_images, "CREATED", "2000-01-02T00:00:00Z")
    build_demo_images.build(out_dir)
    return out_dir


@pytest.mark.slow
def test_a_deploy_killed_mid_run_converges_when_run_again(aws, ansible, boto3_client, tmp_path, monkeypatch):
    seed_secrets(boto3_client)
    ecs = boto3_client("ecs")
    started = time.monotonic()

    # Killed on an empty account while ecs_stack creates the services.
    deploy_killed_after(aws, ansible, successful_write("CreateService"))
    assert 1 <= len(ecs.list_services(cluster=NAME)["serviceArns"]) <= len(SERVICES)
    ok(ansible.playbook(DEPLOY))
    assert_no_duplicates(boto3_client)
    assert_released(ecs, images(boto3_client, "local"))

    # Killed while ecs_rolling_deploy waits on the rollouts of new images.
    v2 = {"env_image_tag": "v2", "local_demo_images": rebuilt_demo_images(str(tmp_path / "v2"), monkeypatch)}
    before = revisions(ecs)
    deploy_killed_after(aws, ansible, successful_write("UpdateService"), v2)
    killed = revisions(ecs)
    assert all(len(killed[s]) == len(before[s]) + 1 for s in SERVICES), "the killed release registered its revisions"

    again = ok(ansible.playbook(DEPLOY, extra_vars=v2))
    assert revisions(ecs) == killed, "the re-run registered a revision the killed run had already registered"
    running = assert_released(ecs, images(boto3_client, "v2"))
    assert all(running[s] == killed[s][-1] for s in SERVICES), "each service runs the revision the killed run registered"
    assert again.changed > 0, "the re-run marks the revisions the killed run never verified"
    assert_no_duplicates(boto3_client)

    aws.clear_calls()
    third = ok(ansible.playbook(DEPLOY, extra_vars=v2))
    assert third.changed_tasks() == []
    assert aws.write_calls() == []
    print("five deploys (two killed) in %.0fs" % (time.monotonic() - started))
