# -*- coding: utf-8 -*-
# Copyright: shipyard.ecs contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_util is private to the shipyard.ecs collection: it may change without notice.

"""Check, before any write, that the secrets a task definition references exist.

ECS resolves a container's ``secrets[].valueFrom`` only when a task starts; a reference to a
parameter or secret that does not exist turns into tasks that fail to start long after the
deploy "succeeded".  These checks turn it into a validation error naming the option and the
reference, before the first write.

References ECS accepts: an SSM parameter name (same region), an SSM parameter ARN, or a
Secrets Manager secret ARN, optionally followed by ``:json-key:version-stage:version-id``.
References in another region or account than the caller's cannot be looked up with the
caller's clients; they are reported back as unchecked instead of being guessed at.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ansible_collections.shipyard.ecs.plugins.module_utils._aws.errors import ValidationError

SSM = "ssm"
SECRETS_MANAGER = "secretsmanager"


def parse_reference(ref: str) -> Tuple[str, Optional[str], Optional[str], str]:
    """``(kind, region, account, id)`` of a secret reference.

    ``id`` is the SSM parameter name, or the Secrets Manager secret ARN without a JSON key or
    version suffix.  ``region``/``account`` are None for a bare parameter name.
    """
    if not ref.startswith("arn:"):
        return SSM, None, None, ref
    parts = ref.split(":")
    if len(parts) < 6:
        raise ValueError("not an ARN: %s" % ref)
    service, region, account = parts[2], parts[3], parts[4]
    if service == SSM:
        resource = ":".join(parts[5:])
        if not resource.startswith("parameter/"):
            raise ValueError("not an SSM parameter ARN: %s" % ref)
        path = resource[len("parameter"):]
        # Hierarchical names start with "/" (and keep it); a plain name has none in the ARN.
        name = path if path.count("/") > 1 else path[1:]
        return SSM, region, account, name
    if service == SECRETS_MANAGER and len(parts) >= 7 and parts[5] == "secret":
        return SECRETS_MANAGER, region, account, ":".join(parts[:7])
    raise ValueError("not an SSM parameter or Secrets Manager secret ARN: %s" % ref)


def check_secret_references(references: Dict[str, str], ssm, secretsmanager, sts, region: Optional[str]) -> List[str]:
    """Raise ``ValidationError`` for the first reference that does not exist.

    ``references`` maps where a reference is written (``services[0].task_definition.
    containers[0].secrets.DATABASE_URL``) to the reference.  Returns the references that could
    not be checked (another region or account), for a warning.
    """
    if not references:
        return []
    parsed = {}
    for where, ref in references.items():
        try:
            parsed[where] = parse_reference(ref)
        except ValueError as exc:
            raise ValidationError(where, ref, str(exc)) from exc
    account = sts.account_id() if any(p[2] for p in parsed.values()) else None
    unchecked: List[str] = []
    ssm_names: Dict[str, List[str]] = {}
    for where, (kind, ref_region, ref_account, ident) in parsed.items():
        if (ref_region and region and ref_region != region) or (ref_account and ref_account != account):
            unchecked.append(references[where])
            continue
        if kind == SSM:
            ssm_names.setdefault(ident, []).append(where)
        elif secretsmanager.describe_secret(ident) is None:
            raise ValidationError(where, references[where], "no such Secrets Manager secret")
    if ssm_names:
        existing = set(ssm.existing_parameter_names(list(ssm_names)))
        for name in sorted(ssm_names):
            if name not in existing:
                where = sorted(ssm_names[name])[0]
                raise ValidationError(where, references[where], "no such SSM parameter (%s)" % name)
    return unchecked
