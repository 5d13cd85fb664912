"""playbooks/deploy.yml against the local emulated AWS, the way a user runs it.

One deploy is shared by the tests of this module (a deploy takes a while); check mode runs
on a fresh emulator first.
"""

import os

import pytest

from integration.ansible_runner_helpers import REPO

DEPLOY = os.path.join(REPO, "playbooks", "deploy.yml")


def test_check_mode_on_a_fresh_account_makes_no_write_call(aws, run_playbook):
    run = run_playbook(DEPLOY, check=True, diff=True)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert run.changed > 0, "check mode should report what it would create"
    assert aws.write_calls() == []


@pytest.fixture
def deployed(aws, run_playbook):
    first = run_playbook(DEPLOY)
    assert first.rc == 0, first.stdout[-3000:] + first.stderr[-3000:]
    return first


def test_second_deploy_changes_nothing_and_writes_nothing(aws, deployed, run_playbook):
    assert deployed.changed > 0
    aws.clear_calls()
    second = run_playbook(DEPLOY)
    assert second.rc == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert second.changed_tasks() == []
    assert aws.write_calls() == []
    check = run_playbook(DEPLOY, check=True)
    assert check.changed_tasks() == []
    assert aws.write_calls() == []
