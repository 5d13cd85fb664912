"""alb_routes: wall time and API calls of a no-op run and of one changed route, at 1, 10 and 50 routes.

Starts its own emulator (tests/emulator/launcher.py) in a temporary state directory.  The runner
is called in-process with boto3 clients (what the module does minus Ansible's start-up); one
figure goes through ansible-playbook for comparison.  Prints figures; always exits 0.
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

from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api  # noqa: E402 - idem
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.runner import AlbRoutes  # noqa: E402 - idem
from emulator.launcher import LocalAws  # noqa: E402 - idem

SIZES = (1, 10, 50)
TARGET_GROUPS = 5


def network(session, endpoint):
    ec2 = session.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.%d.0/24" % i,
                                 AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
               for i, az in enumerate("ab", start=1)]
    group = ec2.create_security_group(GroupName="bench-alb", Description="bench", VpcId=vpc)["GroupId"]
    return subnets, group


def module_params(n, subnets, group, changed_route=None):
    routes = []
    for i in range(n):
        tg = "svc-%d" % (i % TARGET_GROUPS)
        if i == changed_route:
            tg = "svc-%d" % ((i + 1) % TARGET_GROUPS)
        routes.append({"listener": 80, "path_patterns": ["/svc%d" % i, "/svc%d/*" % i], "target_group": tg,
                       "priority": None})
    return {
        "name": "bench", "application": "bench", "state": "present", "scheme": "internet-facing",
        "subnets": subnets, "security_groups": [group], "ip_address_type": "ipv4", "attributes": None,
        "tags": None, "purge": True,
        "listeners": [{"port": 80, "protocol": "HTTP", "default_action": {"fixed_response": {"status_code": "404"}}}],
        "target_groups": [{"name": "svc-%d" % i, "port": 8000 + i} for i in range(TARGET_GROUPS)],
        "routes": routes,
    }


def measure(aws, client, params):
    aws.clear_calls()
    start = time.perf_counter()
    result = AlbRoutes(Elbv2Api(client), params).run()
    elapsed = time.perf_counter() - start
    calls = aws.calls()
    writes = Counter(c["operation"] for c in calls if c["write"])
    return elapsed, len(calls), dict(writes), result.changed


def through_ansible(aws, params, workdir):
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [{"name": "alb", "shipyard.ecs.alb_routes": params}]}]
    path = os.path.join(workdir, "bench_alb.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(play, handle)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), **aws.env())
    aws.clear_calls()
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           "-c", "local", "-e", "ansible_python_interpreter=" + sys.executable, path],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    return elapsed, len(aws.calls()), proc.returncode


def main():
    state = tempfile.mkdtemp(prefix="bench-alb-")
    aws = LocalAws(state).start()
    try:
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="us-east-1")
        client = session.client("elbv2", endpoint_url=aws.endpoint)
        print("%-7s %-14s %9s %7s  %s" % ("routes", "run", "wall_s", "calls", "writes"))
        for n in SIZES:
            aws.reset()
            subnets, group = network(session, aws.endpoint)
            for label, params in (("create", module_params(n, subnets, group)),
                                  ("no-op", module_params(n, subnets, group)),
                                  ("one changed", module_params(n, subnets, group, changed_route=n // 2))):
                elapsed, calls, writes, changed = measure(aws, client, params)
                print("%-7d %-14s %9.3f %7d  %s%s" % (n, label, elapsed, calls, json.dumps(writes, sort_keys=True),
                                                      "" if changed or label == "no-op" else "  (no change?)"))
            if n == 10:
                elapsed, calls, rc = through_ansible(aws, module_params(n, subnets, group, changed_route=n // 2), state)
                print("%-7d %-14s %9.3f %7d  rc=%d (ansible-playbook, no-op)" % (n, "no-op/ansible", elapsed, calls, rc))
    finally:
        aws.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
