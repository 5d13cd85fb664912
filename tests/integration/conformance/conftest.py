"""Third-party clients against the emulator: the AWS CLI v1 and fabfuel's ``ecs-deploy``.

They run from their own venv (``requirements-clients.txt``, built by ``make setup`` into
``.cache/clients-venv``; ``SHIPYARD_CLIENTS_VENV`` names another) as a user runs them: a
subprocess with credentials, region and ``AWS_ENDPOINT_URL`` in its environment.

Time: a client's own clock must mean in AWS time what it means on AWS. The CLI's waiters poll
every ``delay`` seconds (15 for ``services-stable``); ``waiters`` below gives them a 1 s delay and
the test runs the emulator at ``delay`` AWS seconds per wall second, so each poll is one
AWS-sized step and ``maxAttempts`` polls are the waiter's whole AWS timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from integration.emulator.stack import Stack

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLIENTS_VENV = os.environ.get("SHIPYARD_CLIENTS_VENV", os.path.join(REPO, ".cache", "clients-venv"))
WAITER_POLL_SECONDS = 1
# service -> waiter -> its AWS delay, filled when the fast waiter models are first written.
_DELAYS: Dict[str, Dict[str, int]] = {}


def _bin(name: str) -> str:
    path = os.path.join(CLIENTS_VENV, "bin", name)
    if not os.access(path, os.X_OK):
        pytest.fail("%s is missing: `make setup` builds the clients' venv from %s"
                    % (path, os.path.join(os.path.dirname(__file__), "requirements-clients.txt")))
    return path


class Clients:
    """Runs ``aws`` and ``ecs`` against the emulator; knows the CLI waiters' AWS delays."""

    def __init__(self, aws: Any, home: str) -> None:
        self.aws_emulator = aws
        self.home = home
        self.data_path = os.path.join(home, "botocore-data")
        self.delays: Dict[str, Dict[str, int]] = _DELAYS
        if not self.delays:
            self._fast_waiters()

    def env(self) -> Dict[str, str]:
        return {
            "PATH": os.path.dirname(_bin("aws")) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": self.home,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.aws_emulator.endpoint,
            "AWS_CONFIG_FILE": os.path.join(self.home, "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.home, "no-credentials"),
            "AWS_DATA_PATH": self.data_path,
            "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "2",
        }

    def _fast_waiters(self) -> None:
        """Copy the clients' own ECS and ELBv2 waiter models with a 1 s delay (see the module doc)."""
        script = ("import botocore, json, os, sys\n"
                  "root = os.path.join(os.path.dirname(botocore.__file__), 'data')\n"
                  "out = {}\n"
                  "for service in ('ecs', 'elbv2'):\n"
                  "    version = sorted(os.listdir(os.path.join(root, service)))[-1]\n"
                  "    with open(os.path.join(root, service, version, 'waiters-2.json')) as f:\n"
                  "        out[service + '/' + version] = json.load(f)\n"
                  "json.dump(out, sys.stdout)\n")
        models = json.loads(subprocess.run([_bin("python"), "-c", script], check=True, capture_output=True,
                                           text=True).stdout)
        for key, model in models.items():
            service = key.split("/")[0]
            self.delays[service] = {name: int(w["delay"]) for name, w in model["waiters"].items()}
            for waiter in model["waiters"].values():
                waiter["delay"] = WAITER_POLL_SECONDS
            os.makedirs(os.path.join(self.data_path, key), exist_ok=True)
            with open(os.path.join(self.data_path, key, "waiters-2.json"), "w", encoding="utf-8") as handle:
                json.dump(model, handle)

    def run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(list(argv), env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)

    def aws(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.run(_bin("aws"), *argv, timeout=timeout)

    def aws_json(self, *argv: str) -> Any:
        answer = self.aws(*argv, "--output", "json")
        assert answer.returncode == 0, answer.stderr
        return json.loads(answer.stdout)

    def wait(self, service: str, waiter: str, *argv: str) -> subprocess.CompletedProcess:
        """``aws <service> wait <waiter>`` with the emulator at the waiter's AWS delay per second."""
        name = "".join(part.capitalize() for part in waiter.split("-"))
        self.aws_emulator.set_time_scale(self.delays[service][name] / WAITER_POLL_SECONDS)
        return self.aws(service, "wait", waiter, *argv, timeout=300)

    def ecs_deploy(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.run(_bin("ecs"), *argv, timeout=timeout)


@pytest.fixture(scope="session")
def _clients_home(tmp_path_factory):
    return str(tmp_path_factory.mktemp("clients-home"))


@pytest.fixture
def cli(aws, _clients_home):
    return Clients(aws, _clients_home)


@pytest.fixture
def fast_stack(aws, boto3_client):
    """The emulator tests' stack, with health checks and draining short enough for wall-clock clients:
    a 5 s interval, 2 checks to decide, 5 s deregistration delay."""
    clients = SimpleNamespace(**{name: boto3_client(name) for name in ("ecs", "ec2", "elbv2", "ecr", "logs")})
    aws.set_time_scale(0)
    stack = Stack(aws, clients).build()
    clients.elbv2.modify_target_group(TargetGroupArn=stack.target_group, HealthCheckIntervalSeconds=5,
                                      HealthyThresholdCount=2, UnhealthyThresholdCount=2)
    clients.elbv2.modify_target_group_attributes(TargetGroupArn=stack.target_group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    return stack


def task_ids(arns: List[str]) -> List[str]:
    return [arn.split("/")[-1] for arn in arns]
