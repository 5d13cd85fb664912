"""Fixtures for the emulator fidelity tests: realistic AWS state built through boto3.

Most tests pause AWS time (``scale`` 0) and move it in exact steps with ``advance_time`` so
that what they assert does not depend on how fast this machine is.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from integration.emulator.stack import Stack


@pytest.fixture
def clients(boto3_client):
    return SimpleNamespace(**{name: boto3_client(service) for name, service in (
        ("ecs", "ecs"), ("ec2", "ec2"), ("elbv2", "elbv2"), ("ecr", "ecr"), ("logs", "logs"))})


@pytest.fixture
def paused(aws):
    """The emulator with AWS time stopped; tests move it with ``aws.advance_time``."""
    aws.set_time_scale(0)
    return aws


@pytest.fixture
def stack(paused, clients):
    """A VPC with two subnets, an ALB with a listener, a ``users`` target group and a cluster."""
    return Stack(paused, clients).build()
