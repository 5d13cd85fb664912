#!/usr/bin/env bash
# make demo: deploy the reference application to a local emulated AWS (started and stopped by
# tools/with_local_aws.sh) with playbooks/deploy.yml, then show what was deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SHIPYARD_DEMO_EMULATOR:-}" ]; then
  SHIPYARD_DEMO_EMULATOR=1 exec tools/with_local_aws.sh "$0" "$@"
fi
# On real AWS the application's secrets exist before the first deploy; here, throwaway ones.
python tools/seed_local_secrets.py "$SHIPYARD_LOCAL_AWS_ENDPOINT"
echo "== ansible-playbook playbooks/deploy.yml -i inventories/local"
ansible-playbook playbooks/deploy.yml -i inventories/local
echo "== what was deployed"
ansible-playbook playbooks/status.yml -i inventories/local
