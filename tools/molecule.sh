#!/usr/bin/env bash
# make molecule: every Molecule scenario (extensions/molecule/*) against a local emulated AWS
# started for the run and stopped afterwards (tools/with_local_aws.sh). tools/molecule-base.yml
# turns Molecule's prerun (ansible-galaxy on collections/requirements.yml) off.
set -euo pipefail
cd "$(dirname "$0")/.."
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
exec tools/with_local_aws.sh molecule --base-config tools/molecule-base.yml test --all "$@"
