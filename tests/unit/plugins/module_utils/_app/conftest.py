"""Fixtures of the environment plan's tests against moto in-process."""

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def client():
    """boto3 clients of one moto account, in REGION (the plan's client factory)."""
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION)
