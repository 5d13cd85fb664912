"""Integration fixtures: one emulator per test session, reset before each test.

``local_aws`` is the running emulator (see tests/emulator/launcher.py); ``aws`` resets it and
hands it to the test; ``run_module`` / ``run_playbook`` run Ansible against it the way a user
does (``ansible-playbook`` with this checkout's ansible.cfg) and return parsed results.
"""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

from emulator.launcher import LocalAws
from integration.ansible_runner_helpers import AnsibleRun

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# tools/ holds scripts the tests use as modules (build_demo_images).
sys.path.insert(0, os.path.join(REPO, "tools"))


@pytest.fixture(scope="session")
def local_aws():
    import build_demo_images  # pylint: disable=import-outside-toplevel

    # The local inventory pushes the demo's images (inventories/local: env_services archives).
    os.environ["SHIPYARD_DEMO_IMAGES"] = os.path.join(REPO, "build", "demo-images")
    build_demo_images.build(os.environ["SHIPYARD_DEMO_IMAGES"])
    state_dir = tempfile.mkdtemp(prefix="shipyard-local-aws-")
    aws = LocalAws(state_dir).start()
    try:
        yield aws
    finally:
        aws.stop()


@pytest.fixture
def aws(local_aws):
    local_aws.reset()
    return local_aws


@pytest.fixture
def boto3_client(aws):
    import boto3

    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")

    def make(service, **config):
        """A client of the emulator; ``config``: botocore Config keys (inject_host_prefix=False for the
        data-plane calls whose host AWS prefixes, as DiscoverInstances' ``data-``)."""
        from botocore.config import Config

        return session.client(service, endpoint_url=aws.endpoint, config=Config(**config) if config else None)

    return make


@pytest.fixture
def ansible(aws, tmp_path):
    return AnsibleRun(aws, str(tmp_path))


@pytest.fixture
def run_module(ansible):
    return ansible.module


@pytest.fixture
def run_playbook(ansible):
    return ansible.playbook


def pytest_configure(config):
    os.environ.setdefault("ANSIBLE_LOCAL_TEMP", tempfile.mkdtemp(prefix="shipyard-ansible-tmp-"))


def pytest_collection_modifyitems(items):
    """Run the slow tests first, then the tests that run Ansible, the emulator's, the unit tests.

    ``make test`` hands tests to pytest-xdist's workers one at a time (``--maxschedchunk 1``):
    started first, the long deploys spread over the workers and the short tests fill in behind
    them, instead of one worker ending the run alone on a deploy.
    """
    def cost_rank(item):
        path = "/" + item.nodeid.split("::")[0]
        if item.get_closest_marker("slow"):
            return 0
        if "/integration/emulator/" in path:
            return 2
        return 1 if "/integration/" in path else 3

    items.sort(key=cost_rank)
