# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""The thin glue between a module file and its runner.

A module's ``main()`` is::

    def main():
        run_module(ARGUMENT_SPEC, lambda module: MyRunner.from_module(module).run())

``run_module`` builds an ``AnsibleAWSModule`` (so every amazon.aws connection option works),
calls the runner, and turns the area's exception into ``fail_json``; nothing else in the
collection calls ``exit_json`` or ``fail_json``.

The module's clients share one boto3 session (``Sessions``): amazon.aws opens a new session
for every client, so botocore loads its endpoint data and each service's model again per
client (about 0.1 s each; app_plan asks for 17 clients).  The connection options are
amazon.aws's own (``get_aws_connection_info``), applied the way ``boto3_conn`` applies them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, Optional

try:
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError, NoRegionError
except ImportError:  # pragma: no cover - reported by AnsibleAWSModule
    boto3 = None  # type: ignore

    class BotoCoreError(Exception):  # type: ignore[no-redef]
        """Stands in for botocore's when botocore is missing (the module then fails on its own)."""

    class NoRegionError(BotoCoreError):  # type: ignore[no-redef]
        """Stands in for botocore's when botocore is missing."""

from ansible.module_utils.ansible_release import __version__ as ansible_version
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from .errors import ShipyardError
from .result import Result

WAIT_OPTIONS: Dict[str, Dict[str, Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 600},
    "poll_interval": {"type": "float", "default": 5.0},
}


class Sessions:
    """boto3 clients from one session per profile (the session caches what botocore loads)."""

    def __init__(self, user_agent: str = "") -> None:
        self.user_agent = user_agent or "APN/1.0 Ansible/%s shipyard.ecs" % ansible_version
        self._sessions: Dict[Optional[str], Any] = {}

    def session(self, profile: Optional[str]) -> Any:
        if profile not in self._sessions:
            self._sessions[profile] = boto3.session.Session(profile_name=profile)
        return self._sessions[profile]

    def client(self, service: str, region: Optional[str] = None, endpoint: Optional[str] = None, **params: Any) -> Any:
        """A client as amazon.aws's ``boto3_conn(conn_type="client")`` makes it: its user agent, then ``config`` and
        ``aws_config`` merged over it; the other keyword arguments go to ``Session.client`` (keys, ``verify``)."""
        profile = params.pop("profile_name", None)
        config = botocore.config.Config(user_agent=self.user_agent)
        for name in ("config", "aws_config"):
            extra = params.pop(name, None)
            if extra:
                config = config.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
        return self.session(profile).client(service, config=config, region_name=region, endpoint_url=endpoint, **params)


class LazyClient:
    """A boto3 client made on its first use.

    A module asks for every client its runner may need (ecs_rolling_deploy: ECS, ELBv2, CloudWatch Logs for a failed
    task's log lines, SSM, Secrets Manager and STS for secret references), but a run often needs a few: making a client
    loads its service model (about 0.05 s, more for the large ones such as SSM's), so none is made until it is used.
    Every attribute (API methods, ``meta``, ``exceptions``, paginators and waiters) is the client's own. Made once
    even when threads (ecr_image_push's uploads) first use it together: a boto3 session is not thread-safe.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._make()
        return getattr(self._client, name)


class ShipyardAWSModule(AnsibleAWSModule):
    """AnsibleAWSModule whose clients come from one shared session (``Sessions``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shipyard_sessions = Sessions()

    def client(self, service: str, retry_decorator: Any = None, **extra_params: Any) -> Any:
        if retry_decorator is not None:
            return super().client(service, retry_decorator=retry_decorator, **extra_params)
        region, endpoint_url, connect = get_aws_connection_info(self)
        settings: Dict[str, Any] = dict(region=region, endpoint=endpoint_url, **connect)
        settings.update(extra_params)
        # Made on first use: a runner's first call is a read, so a missing region or bad connection settings still
        # fail the module before anything is written.
        return LazyClient(lambda: self._make_client(service, settings))

    def _make_client(self, service: str, settings: Dict[str, Any]) -> Any:
        try:
            return self._shipyard_sessions.client(service, **dict(settings))
        except NoRegionError:
            self.fail_json(msg="The %s module requires a region and none was found in configuration, environment variables or "
                           "module parameters" % self._name)
        except (ValueError, BotoCoreError) as exc:
            self.fail_json_aws(exc, msg="Couldn't connect to AWS")
        return None  # pragma: no cover - fail_json exits


def run_module(
    argument_spec: Dict[str, Any],
    run: Callable[[ShipyardAWSModule], Result],
    **module_kwargs: Any,
) -> None:
    """Build the module, run it, report.  Only place that exits."""
    module_kwargs.setdefault("supports_check_mode", True)
    module = ShipyardAWSModule(argument_spec=argument_spec, **module_kwargs)
    try:
        result = run(module)
    except ShipyardError as exc:
        module.fail_json(msg=exc.msg, **exc.to_result())
    for warning in result.warnings:
        module.warn(warning)
    module.exit_json(**result.to_module_result(diff_mode=module._diff))
