# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""ecs_stack's argument spec: the module validates its options with it, and the environment plan
fills in the same defaults when it runs ecs_stack's planner on the options it renders."""

from __future__ import annotations

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.module import WAIT_OPTIONS

TAGS = {"type": "dict"}

CONTAINER_OPTIONS = {
    "name": {"type": "str", "required": True},
    "image": {"type": "str", "required": True},
    "cpu": {"type": "int"},
    "memory": {"type": "int"},
    "memory_reservation": {"type": "int"},
    "essential": {"type": "bool"},
    "port_mappings": {"type": "list", "elements": "dict", "options": {
        "container_port": {"type": "int", "required": True},
        "host_port": {"type": "int"},
        "protocol": {"type": "str", "choices": ["tcp", "udp"]},
        "name": {"type": "str"},
        "app_protocol": {"type": "str", "choices": ["http", "http2", "grpc"]},
    }},
    "environment": {"type": "dict"},
    "secrets": {"type": "dict", "no_log": False},
    "awslogs": {"type": "dict", "options": {
        "group": {"type": "str", "required": True},
        "region": {"type": "str"},
        "stream_prefix": {"type": "str"},
        "mode": {"type": "str", "choices": ["blocking", "non-blocking"]},
        "max_buffer_size": {"type": "str"},
    }},
    "log_configuration": {"type": "dict", "options": {
        "log_driver": {"type": "str", "required": True},
        "options": {"type": "dict"},
        "secret_options": {"type": "dict", "no_log": False},
    }},
    "health_check": {"type": "dict", "options": {
        "command": {"type": "raw", "required": True},
        "interval": {"type": "int"},
        "timeout": {"type": "int"},
        "retries": {"type": "int"},
        "start_period": {"type": "int"},
    }},
    "command": {"type": "list", "elements": "str"},
    "entry_point": {"type": "list", "elements": "str"},
    "depends_on": {"type": "list", "elements": "dict", "options": {
        "container_name": {"type": "str", "required": True},
        "condition": {"type": "str", "choices": ["START", "COMPLETE", "SUCCESS", "HEALTHY"], "default": "START"},
    }},
    "links": {"type": "list", "elements": "str"},
    "ulimits": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "soft_limit": {"type": "int", "required": True},
        "hard_limit": {"type": "int"},
    }},
    "working_directory": {"type": "str"},
    "user": {"type": "str"},
    "mount_points": {"type": "list", "elements": "dict", "options": {
        "source_volume": {"type": "str", "required": True},
        "container_path": {"type": "str", "required": True},
        "read_only": {"type": "bool", "default": False},
    }},
    "docker_labels": {"type": "dict"},
    "stop_timeout": {"type": "int"},
    "readonly_root_filesystem": {"type": "bool"},
}

TASK_DEFINITION_OPTIONS = {
    "family": {"type": "str"},
    "containers": {"type": "list", "elements": "dict", "required": True, "options": CONTAINER_OPTIONS,
                   "mutually_exclusive": [["awslogs", "log_configuration"]]},
    "network_mode": {"type": "str", "choices": ["bridge", "host", "awsvpc", "none"]},
    "cpu": {"type": "str"},
    "memory": {"type": "str"},
    "execution_role_arn": {"type": "str"},
    "task_role_arn": {"type": "str"},
    "requires_compatibilities": {"type": "list", "elements": "str", "choices": ["EC2", "FARGATE", "EXTERNAL"]},
    "runtime_platform": {"type": "dict", "options": {
        "cpu_architecture": {"type": "str", "choices": ["X86_64", "ARM64"]},
        "operating_system_family": {"type": "str"},
    }},
    "volumes": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "host": {"type": "dict", "options": {"source_path": {"type": "str"}}},
        "efs_volume_configuration": {"type": "dict", "options": {
            "file_system_id": {"type": "str", "required": True},
            "root_directory": {"type": "str"},
            "transit_encryption": {"type": "str", "choices": ["ENABLED", "DISABLED"]},
        }},
    }},
    "ephemeral_storage": {"type": "int"},
    "tags": TAGS,
}

STRATEGY_OPTIONS = {
    "capacity_provider": {"type": "str", "required": True},
    "weight": {"type": "int", "default": 0},
    "base": {"type": "int", "default": 0},
}

SERVICE_OPTIONS = {
    "name": {"type": "str", "required": True},
    "task_definition": {"type": "dict", "options": TASK_DEFINITION_OPTIONS},
    "desired_count": {"type": "int"},
    "launch_type": {"type": "str", "choices": ["EC2", "FARGATE", "EXTERNAL"]},
    "capacity_provider_strategy": {"type": "list", "elements": "dict", "options": STRATEGY_OPTIONS},
    "platform_version": {"type": "str"},
    "scheduling_strategy": {"type": "str", "choices": ["REPLICA", "DAEMON"]},
    "network_configuration": {"type": "dict", "options": {
        "subnets": {"type": "list", "elements": "str", "required": True},
        "security_groups": {"type": "list", "elements": "str"},
        "assign_public_ip": {"type": "bool", "default": False},
    }},
    "load_balancers": {"type": "list", "elements": "dict", "options": {
        "target_group": {"type": "str", "required": True},
        "container_name": {"type": "str", "required": True},
        "container_port": {"type": "int", "required": True},
        "advanced_configuration": {"type": "dict", "options": {
            "alternate_target_group": {"type": "str", "required": True},
            "production_listener_rule": {"type": "str"},
            "test_listener_rule": {"type": "str"},
            "role_arn": {"type": "str", "required": True},
        }},
    }},
    "health_check_grace_period": {"type": "int"},
    "deployment_configuration": {"type": "dict", "options": {
        "strategy": {"type": "str", "choices": ["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"]},
        "bake_time_in_minutes": {"type": "int"},
        "canary_configuration": {"type": "dict", "options": {
            "canary_percent": {"type": "float"},
            "canary_bake_time_in_minutes": {"type": "int"},
        }},
        "linear_configuration": {"type": "dict", "options": {
            "step_percent": {"type": "float"},
            "step_bake_time_in_minutes": {"type": "int"},
        }},
        "lifecycle_hooks": {"type": "list", "elements": "dict", "options": {
            "target_type": {"type": "str", "required": True, "choices": ["PAUSE", "AWS_LAMBDA"]},
            "hook_target_arn": {"type": "str"},
            "role_arn": {"type": "str"},
            "lifecycle_stages": {"type": "list", "elements": "str", "required": True},
            "timeout_in_minutes": {"type": "int"},
            "timeout_action": {"type": "str", "choices": ["CONTINUE", "ROLLBACK"]},
        }},
        "minimum_healthy_percent": {"type": "int"},
        "maximum_percent": {"type": "int"},
        "circuit_breaker": {"type": "dict", "options": {
            "enable": {"type": "bool", "default": True},
            "rollback": {"type": "bool", "default": True},
        }},
        "alarms": {"type": "dict", "options": {
            "names": {"type": "list", "elements": "str", "required": True},
            "enable": {"type": "bool", "default": True},
            "rollback": {"type": "bool", "default": True},
        }},
    }},
    "placement_strategy": {"type": "list", "elements": "dict", "options": {
        "type": {"type": "str", "required": True, "choices": ["random", "spread", "binpack"]},
        "field": {"type": "str"},
    }},
    "placement_constraints": {"type": "list", "elements": "dict", "options": {
        "type": {"type": "str", "required": True, "choices": ["distinctInstance", "memberOf"]},
        "expression": {"type": "str"},
    }},
    "service_registries": {"type": "list", "elements": "dict", "options": {
        "registry_arn": {"type": "str", "required": True},
        "port": {"type": "int"},
        "container_name": {"type": "str"},
        "container_port": {"type": "int"},
    }},
    "service_discovery": {"type": "dict", "options": {
        "name": {"type": "str"},
        "dns_record_type": {"type": "str", "choices": ["A", "SRV"], "default": "A"},
        "ttl": {"type": "int", "default": 60},
        "failure_threshold": {"type": "int", "default": 1},
        "container_name": {"type": "str"},
        "container_port": {"type": "int"},
    }},
    "enable_execute_command": {"type": "bool"},
    "enable_ecs_managed_tags": {"type": "bool"},
    "propagate_tags": {"type": "str", "choices": ["SERVICE", "TASK_DEFINITION", "NONE"]},
    "tags": TAGS,
    "autoscaling": {"type": "dict", "options": {
        "min_capacity": {"type": "int", "required": True},
        "max_capacity": {"type": "int", "required": True},
        "policies": {"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "metric": {"type": "str", "choices": ["cpu", "memory", "alb_request_count"], "default": "cpu"},
            "target": {"type": "float", "required": True},
            "scale_in_cooldown": {"type": "int"},
            "scale_out_cooldown": {"type": "int"},
            "disable_scale_in": {"type": "bool", "default": False},
            "resource_label": {"type": "str"},
        }},
    }},
}

CLUSTER_OPTIONS = {
    "name": {"type": "str", "required": True},
    "container_insights": {"type": "str", "choices": ["enabled", "disabled", "enhanced"]},
    "capacity_providers": {"type": "list", "elements": "str"},
    "default_capacity_provider_strategy": {"type": "list", "elements": "dict", "options": STRATEGY_OPTIONS},
    "autoscaling_group_providers": {"type": "list", "elements": "dict", "options": {
        "name": {"type": "str", "required": True},
        "auto_scaling_group_arn": {"type": "str"},
        "managed_scaling": {"type": "dict", "options": {
            "status": {"type": "str", "choices": ["ENABLED", "DISABLED"]},
            "target_capacity": {"type": "int"},
            "minimum_scaling_step_size": {"type": "int"},
            "maximum_scaling_step_size": {"type": "int"},
            "instance_warmup_period": {"type": "int"},
        }},
        "managed_termination_protection": {"type": "str", "choices": ["ENABLED", "DISABLED"]},
        "managed_draining": {"type": "str", "choices": ["ENABLED", "DISABLED"]},
        "tags": TAGS,
    }},
    "service_connect_defaults": {"type": "dict", "options": {"namespace": {"type": "str", "required": True}}},
    "service_discovery_namespace": {"type": "dict", "options": {
        "name": {"type": "str", "required": True},
        # Required with state=present (checks.py): a teardown names the namespace only.
        "vpc": {"type": "str"},
        "description": {"type": "str"},
        "tags": TAGS,
    }},
    "tags": TAGS,
}

ARGUMENT_SPEC = {
    "cluster": {"type": "dict", "required": True, "options": CLUSTER_OPTIONS},
    "services": {"type": "list", "elements": "dict", "default": [], "options": SERVICE_OPTIONS,
                 "mutually_exclusive": [["launch_type", "capacity_provider_strategy"]]},
    # Set by the collection's action plugin: where the module appends its progress while it waits.
    "progress_file": {"type": "path"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "delete_cluster": {"type": "bool", "default": False},
}
ARGUMENT_SPEC.update(WAIT_OPTIONS)
