"""The call log names REST-protocol calls (Route 53) by their operation, so reads are not writes."""

from __future__ import annotations


def test_route53_calls_are_logged_by_operation_and_only_changes_are_writes(aws, boto3_client):
    route53 = boto3_client("route53")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="call-log")["HostedZone"]["Id"]
    aws.clear_calls()

    route53.list_hosted_zones_by_name(DNSName="example.com")
    route53.list_hosted_zones()
    route53.get_hosted_zone(Id=zone)
    route53.list_resource_record_sets(HostedZoneId=zone)
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
        "Name": "app.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})

    assert [(c["service"], c["operation"], c["write"]) for c in aws.calls()] == [
        ("route53", "ListHostedZonesByName", False),
        ("route53", "ListHostedZones", False),
        ("route53", "GetHostedZone", False),
        ("route53", "ListResourceRecordSets", False),
        ("route53", "ChangeResourceRecordSets", True),
    ]
