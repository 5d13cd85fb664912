#!/usr/bin/env bash
# make demo: start the local emulated AWS, deploy the reference application to it with
# playbooks/deploy.yml, show what was deployed, stop the emulator (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.venv/bin"
state="$(mktemp -d "${TMPDIR:-/tmp}/shipyard-demo.XXXXXX")"

stop() {
  "$bin/python" tests/emulator/launcher.py stop --state-dir "$state" >/dev/null || true
  rm -rf "$state"
}
trap stop EXIT

"$bin/python" tests/emulator/launcher.py start --state-dir "$state"
SHIPYARD_LOCAL_AWS_ENDPOINT="$(cat "$state/endpoint")"
export SHIPYARD_LOCAL_AWS_ENDPOINT
# On real AWS the application's secrets exist before the first deploy; here, throwaway ones.
"$bin/python" tools/seed_local_secrets.py "$SHIPYARD_LOCAL_AWS_ENDPOINT"

echo "== ansible-playbook playbooks/deploy.yml -i inventories/local"
"$bin/ansible-playbook" playbooks/deploy.yml -i inventories/local
echo "== what was deployed"
"$bin/ansible-playbook" playbooks/status.yml -i inventories/local
