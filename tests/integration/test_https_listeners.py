"""HTTPS when the environment has a domain: the services role against the local emulated AWS.

The role runs on its own (no release: ``services_release: false``), on a network built with boto3,
with a self-signed certificate imported into ACM and a public hosted zone in Route 53.
"""

from __future__ import annotations

import datetime
import os

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NAME = "shop-https"
DOMAIN = "app.example.com"
ZONE = "example.com"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# One service keeps the runs short; it has routes on port 80 (they move to 443) and on 8080 (they stay).
SERVICES = {"web": {"container_port": 9000, "health_check": {"path": "/"}, "image": "public.ecr.aws/shop/web:1",
                    "routes": [{"listener": 80, "path_patterns": ["/api/*"]}, {"listener": 8080, "path_patterns": ["/docs"]}]}}
LISTENERS = [{"port": 80, "default_service": "web"}, {"port": 8080, "default_service": "web"}]


def self_signed(common_name, alt_names, days):
    """A PEM certificate and key, valid from yesterday for ``days`` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in alt_names]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def import_certificate(acm, common_name, alt_names, days=365):
    body, key = self_signed(common_name, alt_names, days)
    return acm.import_certificate(Certificate=body, PrivateKey=key)["CertificateArn"]


@pytest.fixture
def network(boto3_client):
    ec2 = boto3_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="10.30.%d.0/24" % i, AvailabilityZone="us-east-1" + az)["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    alb = ec2.create_security_group(GroupName="alb", Description="ALB", VpcId=vpc)["GroupId"]
    tasks = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
    return {"vpc": vpc, "subnets": subnets, "alb": alb, "tasks": tasks}


@pytest.fixture
def zone(boto3_client):
    return boto3_client("route53").create_hosted_zone(Name=ZONE, CallerReference="https-test")["HostedZone"]["Id"]


@pytest.fixture
def services_role(ansible, network, tmp_path):
    """Plan (app_plan: it finds the certificate and the zone) and run the services role, as deploy.yml does,
    with the environment's domain options given; returns the PlaybookResult."""

    def run(check=False, subnet_ids=None, **domain):
        app = {"format": 1, "name": "shop", "listeners": LISTENERS, "services": SERVICES}
        env = {"env_name": "https", "env_network": {"vpc_id": network["vpc"]}}
        env.update(domain)
        role_vars = {
            "services_definition": app,
            "services_environment": env,
            "services_context": {
                "account_id": "123456789012", "vpc_id": network["vpc"],
                "subnet_ids": network["subnets"] if subnet_ids is None else subnet_ids,
                "alb_security_group_id": network["alb"], "task_security_group_id": network["tasks"],
                "certificate_arn": "{{ plan.context.certificate_arn }}", "images": "{{ plan.context.images }}"},
            "services_domain": env.get("env_domain", ""),
            "services_hosted_zone_id": "{{ plan.context.hosted_zone_id }}",
            "services_release": False,
        }
        play = [{"name": "Services", "hosts": "localhost", "gather_facts": False,
                 "module_defaults": {"group/shipyard.ecs.ecs": {"region": "us-east-1"}},
                 "tasks": [
                     {"name": "Validate the application and plan the environment",
                      "shipyard.ecs.app_plan": {"application": app, "environment": env}, "register": "plan"},
                     {"name": "Run the services role", "ansible.builtin.include_role": {"name": "shipyard.ecs.services"},
                      "vars": role_vars}]}]
        path = os.path.join(str(tmp_path), "services.yml")
        with open(path, "w") as handle:
            yaml.safe_dump(play, handle)
        return ansible.playbook(path, check=check, timeout=300)

    return run


def listeners_by_port(elb):
    lb = elb.describe_load_balancers(Names=[NAME])["LoadBalancers"][0]
    return lb, {li["Port"]: li for li in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]}


def routed_paths(elb, listener):
    return sorted(c["Values"][0] for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
                  if not r["IsDefault"] for c in r["Conditions"])


@pytest.mark.slow
def test_domain_gets_https_with_the_latest_covering_certificate_a_redirect_and_an_alias_record(aws, boto3_client, services_role, zone):
    acm = boto3_client("acm")
    import_certificate(acm, DOMAIN, [DOMAIN], days=90)
    wildcard = import_certificate(acm, "*." + ZONE, ["*." + ZONE, ZONE], days=365)
    import_certificate(acm, "shop.example.org", ["shop.example.org"], days=730)
    acm.request_certificate(DomainName=DOMAIN, ValidationMethod="DNS")  # PENDING_VALIDATION: not usable

    first = services_role(env_domain=DOMAIN, env_hosted_zone=ZONE)

    assert first.rc == 0, first.stdout[-3000:]
    elb = boto3_client("elbv2")
    lb, listeners = listeners_by_port(elb)
    assert sorted(listeners) == [80, 443, 8080]
    https = listeners[443]
    assert (https["Protocol"], https["SslPolicy"], [c["CertificateArn"] for c in https["Certificates"]]) == ("HTTPS", TLS_POLICY, [wildcard])
    web_arn = elb.describe_target_groups(Names=["https-web"])["TargetGroups"][0]["TargetGroupArn"]
    assert [(a["Type"], [g["TargetGroupArn"] for g in a["ForwardConfig"]["TargetGroups"]]) for a in https["DefaultActions"]] == [
        ("forward", [web_arn])]
    assert [(a["Type"], a["RedirectConfig"]) for a in listeners[80]["DefaultActions"]] == [("redirect", {
        "Protocol": "HTTPS", "Port": "443", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}", "StatusCode": "HTTP_301"})]
    assert routed_paths(elb, https) == ["/api/*"]
    assert routed_paths(elb, listeners[80]) == []
    assert routed_paths(elb, listeners[8080]) == ["/docs"]
    records = boto3_client("route53").list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    alias = [r for r in records if r["Name"] == DOMAIN + "." and r["Type"] == "A"]
    assert [r["AliasTarget"]["DNSName"] for r in alias] == [lb["DNSName"].lower() + "."]
    assert alias[0]["AliasTarget"]["HostedZoneId"] == lb["CanonicalHostedZoneId"]

    aws.clear_calls()
    second = services_role(env_domain=DOMAIN, env_hosted_zone=ZONE)

    assert second.rc == 0, second.stdout[-3000:]
    assert second.changed_tasks() == []
    assert aws.write_calls() == []


def test_check_mode_on_a_fresh_account_finds_the_certificate_and_zone_and_writes_nothing(aws, boto3_client, services_role, zone):
    import_certificate(boto3_client("acm"), DOMAIN, [DOMAIN])
    aws.clear_calls()

    # deploy.yml --check on a fresh account: the platform role has no subnets to give yet.
    run = services_role(check=True, env_domain=DOMAIN, env_hosted_zone=ZONE, subnet_ids=[])

    assert run.rc == 0, run.stdout[-3000:]
    assert {c["operation"] for c in aws.calls()} >= {"ListCertificates", "ListHostedZonesByName"}
    assert aws.write_calls() == []


def test_a_domain_no_certificate_covers_fails_naming_it_before_any_write(aws, boto3_client, services_role, zone):
    acm = boto3_client("acm")
    import_certificate(acm, "*.shop.example.com", ["*.shop.example.com"])  # one level too deep for app.example.com
    import_certificate(acm, "example.com", ["example.com"])
    aws.clear_calls()

    run = services_role(env_domain=DOMAIN, env_hosted_zone=ZONE)

    assert run.rc != 0
    failed = [t for t in run.tasks() if t.get("failed")]
    assert [t["name"] for t in failed] == ["Validate the application and plan the environment"]
    assert "env_domain='app.example.com'" in failed[0]["msg"]
    assert "no ISSUED ACM certificate in us-east-1 covers it" in failed[0]["msg"]
    assert aws.write_calls() == []
