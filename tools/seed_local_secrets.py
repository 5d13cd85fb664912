"""Create the application's secrets in the local emulated AWS, with throwaway random values.

On real AWS the secrets exist before the first deploy (created by whoever owns them); the
deploy refuses to start when one is missing. For the local emulator, `make demo`, Molecule
and the tests create them with this script:

    python tools/seed_local_secrets.py ENDPOINT [ENV_NAME]
"""

import os
import secrets
import sys

import boto3
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def secret_names(env_name: str = "local", app_file: str = os.path.join(REPO, "inventories", "app.yml")):
    """SSM parameter names of the app's secret references that are not ARNs."""
    sys.path.insert(0, os.path.join(REPO, ".collections"))
    from ansible_collections.shipyard.ecs.plugins.module_utils._app.model import migrate

    with open(app_file) as handle:
        app, _warnings = migrate(yaml.safe_load(handle))
    names = []
    for service in app["services"].values():
        for ref in (service.get("secrets") or {}).values():
            if not ref.startswith("arn:"):
                names.append("/%s/%s/%s" % (app["name"], env_name, ref.lstrip("/")))
    return sorted(set(names))


def seed(endpoint: str, env_name: str = "local", region: str = "us-east-1"):
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name=region,
                       aws_access_key_id="local", aws_secret_access_key="local")
    names = secret_names(env_name)
    for name in names:
        ssm.put_parameter(Name=name, Value=secrets.token_urlsafe(24), Type="SecureString", Overwrite=True)
    return names


if __name__ == "__main__":
    for created in seed(sys.argv[1], *(sys.argv[2:3])):
        print("seeded %s" % created)
