"""ecs_rolling_deploy's run writes the release's report itself: of a success, of a failure, never in check mode."""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.api import RetryPolicy
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.errors import DeployError
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.options import ReleaseOptions
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.reported import run_release
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.runner import ReleaseRunner
from ansible_collections.shipyard.ecs.plugins.module_utils._deploy.spec import ARGUMENT_SPEC
from ansible_collections.shipyard.ecs.plugins.module_utils._ecs.api import EcsApi, LogsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._elbv2.api import Elbv2Api

from .fakes import FakeAws
from .test_release import IMAGE_V2, users_v2


class Module:
    """What run_release reads of an AnsibleModule: params (validated with the module's spec), check_mode, warn."""

    def __init__(self, check_mode=False, **params):
        params.setdefault("cluster", "app")
        params.setdefault("poll_interval", 5.0)
        params.setdefault("max_poll_interval", 5.0)
        validated = ArgumentSpecValidator(ARGUMENT_SPEC).validate(params)
        assert not validated.error_messages, validated.error_messages
        self.params = validated.validated_parameters
        self.check_mode = check_mode
        self.region = "us-east-1"
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)


def runner_of(world):
    def make(module):
        options = ReleaseOptions.from_params(module.params, check_mode=module.check_mode, region=module.region)
        retry = RetryPolicy(sleep=world.clock.sleep, rand=lambda: 0.5)
        return ReleaseRunner(options, EcsApi(world.ecs, retry), Elbv2Api(world.elbv2, retry), LogsApi(world.logs, retry),
                             clock=world.clock, sleep=world.clock.sleep)
    return make


@pytest.fixture
def world():
    aws = FakeAws()
    aws.service("users", aws.register("users", "repo/users:1"))
    return aws


def test_a_release_writes_its_report_and_returns_the_paths(world, tmp_path):
    reports = tmp_path / "reports"
    result = run_release(Module(services=users_v2(), report_dir=str(reports), report_name="shop prod"), runner_of(world))
    report = result.data["report"]
    assert report["status"] == "succeeded"
    assert os.path.basename(report["html_path"]).startswith("release-shop-prod-") and os.path.exists(report["html_path"])
    document = json.load(open(report["json_path"], encoding="utf-8"))
    # Drawn from the result a playbook registers: the service's row as the summary shows it.
    assert [s["name"] for s in document["services"]] == ["users"] and document["status"] == "succeeded"
    assert "html_path" not in json.dumps(result.data["summary"])


def test_a_failed_release_writes_the_report_of_the_failure(world, tmp_path):
    world.behave(IMAGE_V2, "crash", exit_code=3, after=5.0)
    with pytest.raises(DeployError) as excinfo:
        run_release(Module(services=users_v2(), report_dir=str(tmp_path), max_failed_tasks=2), runner_of(world))
    report = excinfo.value.details["report"]
    assert report["status"] == "failed" and os.path.exists(report["html_path"])
    assert os.path.basename(report["html_path"]).startswith("release-app-")


def test_check_mode_and_a_release_without_report_dir_write_nothing(world, tmp_path):
    result = run_release(Module(check_mode=True, services=users_v2(), report_dir=str(tmp_path)), runner_of(world))
    assert "report" not in result.data and os.listdir(str(tmp_path)) == []
    result = run_release(Module(services=users_v2()), runner_of(world))
    assert "report" not in result.data and result.data["services"][0]["status"] == "completed"


def test_a_report_that_cannot_be_written_is_a_warning_not_a_failed_release(world, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = run_release(Module(services=users_v2(), report_dir=str(blocked / "reports")), runner_of(world))
    assert result.data["services"][0]["status"] == "completed" and "report" not in result.data
    assert len(result.warnings) == 1 and result.warnings[0].startswith("cannot write the release report to %s" % (blocked / "reports"))
