#!/usr/bin/env bash
# Run a command against a local emulated AWS started for it and stopped afterwards (also on
# failure): tools/with_local_aws.sh COMMAND [ARGS...]. The command sees the endpoint in
# SHIPYARD_LOCAL_AWS_ENDPOINT (which inventories/local reads), the demo's images (built by
# tools/build_demo_images.py, unchanged ones left alone) in SHIPYARD_DEMO_IMAGES, and the venv
# first on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.venv/bin"
export PATH="$bin:$PATH"
state="$(mktemp -d "${TMPDIR:-/tmp}/shipyard-local-aws.XXXXXX")"

stop() {
  "$bin/python" tests/emulator/launcher.py stop --state-dir "$state" >/dev/null || true
  rm -rf "$state"
}
trap stop EXIT

SHIPYARD_DEMO_IMAGES="$PWD/build/demo-images"
export SHIPYARD_DEMO_IMAGES
"$bin/python" tools/build_demo_images.py --out "$SHIPYARD_DEMO_IMAGES"
"$bin/python" tests/emulator/launcher.py start --state-dir "$state"
SHIPYARD_LOCAL_AWS_ENDPOINT="$(cat "$state/endpoint")"
export SHIPYARD_LOCAL_AWS_ENDPOINT
"$@"
