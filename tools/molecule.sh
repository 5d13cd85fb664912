#!/usr/bin/env bash
# make molecule: run every Molecule scenario (extensions/molecule/*) against a local emulated
# AWS started for the run and stopped afterwards (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.venv/bin"
export PATH="$bin:$PATH"
state="$(mktemp -d "${TMPDIR:-/tmp}/shipyard-molecule.XXXXXX")"

stop() {
  "$bin/python" tests/emulator/launcher.py stop --state-dir "$state" >/dev/null || true
  rm -rf "$state"
}
trap stop EXIT

"$bin/python" tests/emulator/launcher.py start --state-dir "$state"
SHIPYARD_LOCAL_AWS_ENDPOINT="$(cat "$state/endpoint")"
export SHIPYARD_LOCAL_AWS_ENDPOINT
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
molecule test --all "$@"
