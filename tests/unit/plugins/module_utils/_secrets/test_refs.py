"""Secret references are checked for existence before any write, without reading a value."""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.api import SecretsManagerApi, SsmApi, StsApi
from ansible_collections.shipyard.ecs.plugins.module_utils._secrets.refs import check_secret_references, parse_reference

ACCOUNT = "123456789012"


@pytest.mark.parametrize("ref,parsed", [
    ("DATABASE_URL", ("ssm", None, None, "DATABASE_URL")),
    ("/app/prod/db", ("ssm", None, None, "/app/prod/db")),
    ("arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/db", ("ssm", "eu-west-1", ACCOUNT, "/app/prod/db")),
    ("arn:aws:ssm:eu-west-1:123456789012:parameter/plain", ("ssm", "eu-west-1", ACCOUNT, "plain")),
    ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
     ("secretsmanager", "eu-west-1", ACCOUNT, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf")),
    ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf:password::",
     ("secretsmanager", "eu-west-1", ACCOUNT, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf")),
])
def test_references_parse_the_way_ecs_reads_them(ref, parsed):
    assert parse_reference(ref) == parsed


@pytest.fixture
def apis():
    with mock_aws():
        ssm = boto3.client("ssm", region_name="us-east-1")
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        ssm.put_parameter(Name="/app/prod/db", Value="v", Type="SecureString")
        secret_arn = sm.create_secret(Name="token", SecretString="v")["ARN"]
        yield (SsmApi(ssm), SecretsManagerApi(sm), StsApi(boto3.client("sts", region_name="us-east-1"))), secret_arn


def test_existing_references_pass_and_no_value_is_read(apis):
    (ssm, sm, sts), secret_arn = apis
    refs = {"a.DB": "/app/prod/db", "a.DB_ARN": "arn:aws:ssm:us-east-1:%s:parameter/app/prod/db" % ACCOUNT,
            "a.TOKEN": secret_arn + ":password::"}
    assert check_secret_references(refs, ssm, sm, sts, region="us-east-1") == []
    called = set(ssm.calls) | set(sm.calls) | set(sts.calls)
    assert called == {"describe_parameters", "describe_secret", "get_caller_identity"}


def test_a_missing_parameter_fails_naming_where_it_is_written(apis):
    (ssm, sm, sts), unused_secret_arn = apis
    with pytest.raises(ValidationError) as info:
        check_secret_references({"services[0].task_definition.containers[0].secrets.KEY": "/app/prod/missing"}, ssm, sm, sts,
                                region="us-east-1")
    assert info.value.option == "services[0].task_definition.containers[0].secrets.KEY"
    assert info.value.value == "/app/prod/missing"
    assert "no such SSM parameter" in info.value.reason


def test_a_missing_secret_fails(apis):
    (ssm, sm, sts), unused_secret_arn = apis
    with pytest.raises(ValidationError, match="no such Secrets Manager secret"):
        check_secret_references({"x": "arn:aws:secretsmanager:us-east-1:%s:secret:nope-AbCdEf" % ACCOUNT}, ssm, sm, sts,
                                region="us-east-1")


def test_references_in_another_region_or_account_are_returned_unchecked(apis):
    (ssm, sm, sts), unused_secret_arn = apis
    other_region = "arn:aws:ssm:eu-west-1:%s:parameter/app/prod/db" % ACCOUNT
    other_account = "arn:aws:secretsmanager:us-east-1:999999999999:secret:shared-AbCdEf"
    assert check_secret_references({"a": other_region, "b": other_account}, ssm, sm, sts, region="us-east-1") == [
        other_region, other_account]


def test_a_reference_that_is_no_secret_arn_is_refused(apis):
    (ssm, sm, sts), unused_secret_arn = apis
    with pytest.raises(ValidationError, match="not an SSM parameter or Secrets Manager secret ARN"):
        check_secret_references({"x": "arn:aws:s3:::bucket/key"}, ssm, sm, sts, region="us-east-1")
