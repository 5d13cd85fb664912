"""EC2 capacity for ECS: the ECS-optimized AMI parameters and Auto Scaling group capacity providers.

Where moto differs from AWS's documented behaviour (tests/integration/emulator/test_ec2_capacity.py
has a test per fix that fails on plain moto):

* the public parameters ``/aws/service/ecs/optimized-ami/.../recommended`` hold a JSON document
  (``{"image_id": ..., "image_name": ..., ...}``); moto answers the Python repr of a dict;
* ``CreateCapacityProvider`` / ``UpdateCapacityProvider`` with managed termination protection
  ENABLED are refused (ClientException) unless the Auto Scaling group protects its new instances
  from scale-in; moto accepts them;
* ``DeleteCapacityProvider`` of a provider still associated with a cluster does not delete it:
  the answer has ``updateStatus`` DELETE_FAILED and the reason; moto deletes it;
* ``CreateLaunchTemplate``'s ``TagSpecifications`` tag the launch template; moto also copies them
  into the first version's ``LaunchTemplateData`` (so that version differs from the same data
  given to ``CreateLaunchTemplateVersion``).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

from .fixes import patch_method

_INSTALLED = {"done": False}

TERMINATION_PROTECTION_REFUSED = (
    "The managed termination protection setting for the capacity provider is invalid. To enable managed "
    "termination protection for a capacity provider, the Auto Scaling group must have instance protection "
    "from scale in enabled.")


def install() -> None:
    """Apply every fix once per process."""
    if _INSTALLED["done"]:
        return
    _INSTALLED["done"] = True
    _ssm_json_tree_values()
    _ecs_managed_termination_protection()
    _ecs_delete_associated_capacity_provider()
    _ec2_launch_template_tags()


def _ssm_json_tree_values() -> None:
    """Parameters whose value is a document (``.../recommended``) hold it as JSON text."""
    from moto.ssm import models

    original = models.convert_to_params

    def convert(tree: Dict[str, Any]) -> List[Dict[str, Any]]:
        params = original(tree)
        for param in params:
            if not isinstance(param["Value"], str):
                param["Value"] = json.dumps(param["Value"], separators=(",", ":"))
        return params

    models.convert_to_params = convert


def _asg_protects_new_instances(backend: Any, arn: str) -> bool:
    from moto.autoscaling.models import autoscaling_backends

    name = (arn or "").split("autoScalingGroupName/", 1)[-1]
    group = autoscaling_backends[backend.account_id][backend.region_name].autoscaling_groups.get(name)
    return bool(group is not None and group.new_instances_protected_from_scale_in)


def _ecs_managed_termination_protection() -> None:
    from moto.ecs import models
    from moto.ecs.exceptions import EcsClientException

    def create(original: Callable, self: Any, name: str, asg_details: Dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if (asg_details or {}).get("managedTerminationProtection") == "ENABLED" and not _asg_protects_new_instances(
                self, asg_details.get("autoScalingGroupArn", "")):
            raise EcsClientException(TERMINATION_PROTECTION_REFUSED)
        return original(self, name, asg_details, *args, **kwargs)

    def update(original: Callable, self: Any, name_or_arn: str, asg_provider: Dict[str, Any]) -> Any:
        provider = self._get_provider(name_or_arn)
        if provider is not None and (asg_provider or {}).get("managedTerminationProtection") == "ENABLED" and \
                not _asg_protects_new_instances(self, provider.auto_scaling_group_provider.get("autoScalingGroupArn", "")):
            raise EcsClientException(TERMINATION_PROTECTION_REFUSED)
        return original(self, name_or_arn, asg_provider)

    patch_method(models.EC2ContainerServiceBackend, "create_capacity_provider", create)
    patch_method(models.EC2ContainerServiceBackend, "update_capacity_provider", update)


def _ecs_delete_associated_capacity_provider() -> None:
    from moto.ecs import models

    def delete(original: Callable, self: Any, name_or_arn: str) -> Any:
        provider = self._get_provider(name_or_arn)
        if provider is not None:
            clusters = [c.name for c in self.clusters.values()
                        if c.status == "ACTIVE" and provider.name in (c.capacity_providers or [])]
            if clusters:
                provider.update_status = "DELETE_FAILED"
                provider.update_status_reason = (
                    "The capacity provider cannot be deleted because it is associated with cluster: %s. Remove the "
                    "capacity provider from the cluster and try again." % clusters[0])
                return provider
        return original(self, name_or_arn)

    patch_method(models.EC2ContainerServiceBackend, "delete_capacity_provider", delete)


def _ec2_launch_template_tags() -> None:
    from moto.ec2.models import launch_templates

    def create(original: Callable, self: Any, name: str, description: str, template_data: Dict[str, Any],
               tag_spec: Dict[str, Any]) -> Any:
        specs = template_data.get("TagSpecifications")
        if isinstance(specs, list) and tag_spec:
            # In the data AWS accepts instance, volume, network-interface... never launch-template.
            kept = [s for s in specs if s.get("ResourceType") != "launch-template"]
            if kept:
                template_data["TagSpecifications"] = kept
            else:
                del template_data["TagSpecifications"]
        return original(self, name, description, template_data, tag_spec)

    patch_method(launch_templates.LaunchTemplateBackend, "create_launch_template", create)
