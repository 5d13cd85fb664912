"""ecs_stack: wall time and API calls of a no-op run at 1, 10 and 50 services.

Starts its own emulator (tests/emulator/launcher.py) in a temporary state directory.  Each stack
is first created, then the same options are applied again: that second run (the no-op) is what
is measured.  The runner is called in-process with boto3 clients (the module minus Ansible's
start-up); one figure goes through ansible-playbook for the seed's 3 services.  API calls are
counted from the emulator's call log.  Prints figures; always exits 0.

Peers' no-op re-run of the 3-service stack (from the issue): 36-41 s and 75 API calls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(REPO, ".collections"), os.path.join(REPO, "tests")]

import boto3  # noqa: E402 - after the sys.path set-up above
import yaml  # noqa: E402 - after the sys.path set-up above

from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import (  # noqa: E402 - idem
    AppAutoscalingApi,
    EcsApi,
)
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.lookups import NamespaceReader  # noqa: E402 - idem
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api  # noqa: E402 - idem
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.stack import EcsStack  # noqa: E402 - idem
from emulator.launcher import LocalAws  # noqa: E402 - idem

SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1,10,50").split(","))
CLUSTER = "bench"


def load_balancer(session, endpoint, n):
    """An ALB with a listener per batch of target groups, so every target group is bound."""
    ec2 = session.client("ec2", endpoint_url=endpoint)
    elbv2 = session.client("elbv2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.%d.0/24" % i, AvailabilityZone="us-east-1" + az)[
        "Subnet"]["SubnetId"] for i, az in enumerate("ab", start=1)]
    lb = elbv2.create_load_balancer(Name="bench", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    for i in range(n):
        arn = elbv2.create_target_group(Name="svc-%d-tg" % i, Protocol="HTTP", Port=8000 + i, VpcId=vpc)[
            "TargetGroups"][0]["TargetGroupArn"]
        elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=10000 + i, DefaultActions=[
            {"Type": "forward", "TargetGroupArn": arn}])


def service(i):
    name = "svc-%d" % i
    return {
        "name": name,
        "desired_count": 1,
        "launch_type": "EC2",
        "task_definition": {"family": name, "containers": [{
            "name": name, "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/%s:1" % name,
            "cpu": 256, "memory_reservation": 300,
            "port_mappings": [{"container_port": 8000 + i, "host_port": 0}],
            "environment": {"APP_SETTINGS": "production", "PORT": 8000 + i},
            "awslogs": {"group": "bench-production", "region": "us-east-1", "stream_prefix": name},
        }]},
        "load_balancers": [{"target_group": "svc-%d-tg" % i, "container_name": name, "container_port": 8000 + i}],
        "autoscaling": {"min_capacity": 1, "max_capacity": 10, "policies": [
            {"name": "cpu50", "metric": "cpu", "target": 50.0, "scale_in_cooldown": 30, "scale_out_cooldown": 30}]},
    }


def params(n):
    return {"cluster": {"name": CLUSTER, "container_insights": "enabled"}, "state": "present",
            "services": [service(i) for i in range(n)]}


def run(session, endpoint, p):
    def client(name):
        return session.client(name, endpoint_url=endpoint)
    stack = EcsStack(p, EcsApi(client("ecs")), AppAutoscalingApi(client("application-autoscaling")),
                     Elbv2Api(client("elbv2")), NamespaceReader(client("servicediscovery")), region="us-east-1")
    return stack.run()


def summary(calls):
    counts = Counter(c["operation"] for c in calls)
    return ", ".join("%s %d" % (op, n) for op, n in sorted(counts.items()))


def through_ansible(aws, workdir, p):
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "stack", "shipyard.ecs.ecs_stack": p}]}]
    path = os.path.join(workdir, "bench_ecs_stack.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(play, handle)
    env = dict(os.environ, **aws.env())
    env.update(ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    bindir = os.path.dirname(sys.executable)
    cmd = [os.path.join(bindir, "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=" + sys.executable, path]
    subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, check=False)
    aws.clear_calls()
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    changed = json.loads(proc.stdout[proc.stdout.index("{"):])["stats"]["localhost"]["changed"] if "{" in proc.stdout else "?"
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:])
    return elapsed, aws.calls(), changed, proc.returncode


def main():
    state_dir = tempfile.mkdtemp(prefix="bench-ecs-stack-")
    aws = LocalAws(state_dir).start()
    try:
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
        print("ecs_stack no-op (second run, same options), in-process runner; each service: task definition, "
              "target group binding, awslogs, autoscaling target + CPU policy")
        print("%8s %10s %10s %7s  %s" % ("services", "wall s", "API calls", "writes", "calls"))
        for n in SIZES:
            aws.reset()
            load_balancer(session, aws.endpoint, n)
            run(session, aws.endpoint, params(n))
            aws.clear_calls()
            start = time.monotonic()
            result = run(session, aws.endpoint, params(n))
            elapsed = time.monotonic() - start
            calls = aws.calls()
            writes = sum(1 for c in calls if c["write"])
            print("%8d %10.2f %10d %7d  %s%s" % (n, elapsed, len(calls), writes, summary(calls),
                                                 "" if not result.changed else "  (CHANGED?)"))
        aws.reset()
        load_balancer(session, aws.endpoint, 3)
        elapsed, calls, changed, rc = through_ansible(aws, state_dir, params(3))
        print("ansible-playbook, 3 services, no-op: %.2f s wall, %d API calls (changed=%s, rc=%s): %s" % (
            elapsed, len(calls), changed, rc, summary(calls)))
        print("peers, 3 services, no-op (issue 5): 36-41 s, 75 API calls")
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
