"""The platform role with EC2 capacity: check mode on a fresh account, and bad input.

Converge, idempotence and what the EC2 capacity looks like are Molecule's (extensions/molecule/platform).
"""

from __future__ import annotations

import os

import yaml

EC2 = {"instance_type": "t3.small", "max_size": 2, "target_capacity": 90}


def _playbook(workdir, capacity):
    play = [{
        "name": "Platform with EC2 capacity",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {"group/shipyard.ecs.ecs": {
            "region": "{{ aws_region }}", "endpoint_url": "{{ aws_endpoint_url }}",
            "access_key": "{{ aws_access_key }}", "secret_key": "{{ aws_secret_key }}"}},
        "roles": [{"role": "shipyard.ecs.platform", "vars": {
            "platform_name": "ec2-check",
            "platform_stack": {"name": "ec2-check", "network": "{{ env_network }}", "security_groups": [
                {"name": "ec2-check-instances", "description": "ec2-check instances",
                 "rules": [{"from_port": 32768, "to_port": 65535, "cidr_ip": "10.0.0.0/16"}]}],
                "roles": [{"name": "ec2-check-task-execution", "trust_service": "ecs-tasks.amazonaws.com"}]},
            "platform_names": {"instance_security_group": "ec2-check-instances", "execution_role": "ec2-check-task-execution"},
            "platform_cluster": {"name": "ec2-check", "capacity_providers": ["FARGATE", "FARGATE_SPOT"]},
            "platform_ec2_capacity": capacity}}],
    }]
    path = os.path.join(workdir, "platform_ec2.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(play, handle)
    return path


def test_check_mode_on_a_fresh_account_reads_the_ami_and_writes_nothing(aws, ansible):
    run = ansible.playbook(_playbook(ansible.workdir, EC2), check=True, diff=True)

    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert aws.write_calls() == []
    assert {"ssm:GetParameter", "iam:GetRole", "autoscaling:DescribeAutoScalingGroups"} <= {
        "%s:%s" % (c["service"], c["operation"]) for c in aws.calls()}
    changed = run.changed_tasks()
    assert {"shipyard.ecs.platform : Set up the network, security groups and IAM roles",
            "shipyard.ecs.platform : Create the instance role"} <= set(changed), changed


def test_bad_ec2_capacity_fails_before_any_call_naming_the_option(aws, ansible):
    run = ansible.playbook(_playbook(ansible.workdir, dict(EC2, target_capacity=150)))

    assert run.rc != 0
    failed = [t for t in run.tasks() if t.get("failed")]
    assert failed and failed[0]["name"].endswith("Check the EC2 capacity definition")
    assert "platform_ec2_capacity=" in failed[0]["msg"] and '"target_capacity": 150' in failed[0]["msg"]
    assert aws.calls() == []
