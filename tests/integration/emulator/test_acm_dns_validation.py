"""ACM: a DNS-validated certificate is issued once its validation record is in DNS, and not before.

(moto issues every requested certificate 60 seconds after the request, validated or not.)
"""

from __future__ import annotations


def test_a_requested_certificate_is_pending_until_its_validation_cname_exists_then_issued(aws, boto3_client):
    acm, route53 = boto3_client("acm"), boto3_client("route53")
    arn = acm.request_certificate(DomainName="app.example.com", ValidationMethod="DNS")["CertificateArn"]
    option = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]
    assert (option["ValidationMethod"], option["ValidationStatus"]) == ("DNS", "PENDING_VALIDATION")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="acm-validation")["HostedZone"]["Id"]
    record = option["ResourceRecord"]

    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "other." + record["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": record["Value"]}]}}]})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"

    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": record["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": record["Value"]}]}}]})
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    assert [c["CertificateArn"] for c in acm.list_certificates(CertificateStatuses=["ISSUED"])["CertificateSummaryList"]] == [arn]
