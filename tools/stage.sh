#!/usr/bin/env bash
# One stage of `make test`, which runs its stages side by side:
#   tools/stage.sh NAME COMMAND [ARGS...]   run COMMAND, its output in build/test-logs/NAME.log
#   tools/stage.sh --summary                one line per stage that ran: status, wall and CPU time
# A stage prints one line when it starts and one when it ends; when it fails, its whole log
# (when it passes, the last STAGE_TAIL lines, default none). Exits with COMMAND's status.
set -uo pipefail
cd "$(dirname "$0")/.." || exit
logs=build/test-logs

if [ "${1:-}" = --summary ]; then
  status=0
  printf '%-10s %-10s %8s %8s\n' stage result wall cpu
  for result in "$logs"/*.result; do
    [ -e "$result" ] || continue
    read -r name rc wall cpu < "$result"
    if [ "$rc" = 0 ]; then word=ok; else word="FAILED($rc)"; status=1; fi
    printf '%-10s %-10s %7.0fs %7.0fs\n' "$name" "$word" "$wall" "$cpu"
  done
  exit "$status"
fi

name=${1:?usage: tools/stage.sh NAME COMMAND [ARGS...]}
shift
mkdir -p "$logs"
log="$logs/$name.log"
rm -f "$logs/$name.result"

# Output of stages that end together must not interleave.
say() {
  if command -v flock >/dev/null 2>&1; then
    flock "$logs/.print.lock" cat
  else
    cat
  fi
}

echo "[$name] started: $* (log: $log)" | say
TIMEFORMAT='%R %U %S'
timing=$({ time "$@" >"$log" 2>&1 </dev/null; echo "rc=$?" >"$log.rc"; } 2>&1)
rc=$(sed 's/^rc=//' "$log.rc")
rm -f "$log.rc"
read -r wall user sys <<<"$timing"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
echo "$name $rc $wall $cpu" >"$logs/$name.result"

if [ "$rc" = 0 ]; then
  {
    if [ "${STAGE_TAIL:-0}" -gt 0 ]; then tail -n "$STAGE_TAIL" "$log" | sed "s/^/[$name] /"; fi
    printf '[%s] passed in %.0fs (CPU %.0fs)\n' "$name" "$wall" "$cpu"
  } | say
else
  {
    printf '[%s] FAILED (exit %s) after %.0fs; its output (%s):\n' "$name" "$rc" "$wall" "$log"
    sed "s/^/[$name] /" "$log"
    echo "[$name] FAILED (exit $rc); full log: $log"
  } | say
fi
exit "$rc"
