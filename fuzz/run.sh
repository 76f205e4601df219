#!/usr/bin/env bash
# Runs every libFuzzer target of a CALLSIM_FUZZ build for SECONDS each (make fuzz), one after the
# other, and prints a table: target, executions, executions per second, new corpus inputs and
# crashes. Each target's corpus grows in BUILD/corpus/TARGET, seeded from fuzz/seeds and the
# bundled scenario files; a crash, a leak, a timeout (an input over 30 s) or an out-of-memory
# (over 2 GB) is saved as BUILD/artifacts/TARGET-* and makes the script exit 1.
# Usage: [FUZZ_SEED=N] fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   (FUZZ_SEED: libFuzzer's -seed;
# 0, the default, draws one; a fixed seed makes a short run repeat its mutations)
set -uo pipefail
build=${1:?build folder}
seconds=${2:?seconds per target}
shift 2
list="$build/fuzz_targets.txt"
[ -f "$list" ] || { echo "fuzz/run.sh: $list missing: configure with -DCALLSIM_FUZZ=ON" >&2; exit 2; }
mkdir -p "$build/corpus" "$build/artifacts" "$build/logs"
failed=0
printf '%-20s %12s %10s %8s %s\n' target executions exec/s corpus result
while read -r name seeds; do
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  before=$(find "$corpus" -type f | wc -l)
  log="$build/logs/$name.log"
  # shellcheck disable=SC2086  # seeds is a list of folders
  "$build/$name" "$corpus" $seeds -max_total_time="$seconds" -seed="${FUZZ_SEED:-0}" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" >"$log" 2>&1
  rc=$?
  runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  rate=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  after=$(find "$corpus" -type f | wc -l)
  result=ok
  if [ $rc -ne 0 ]; then
    result="FAILED (exit $rc, see $log)"
    failed=1
  fi
  printf '%-20s %12s %10s %8s %s\n' "$name" "${runs:-?}" "${rate:-?}" "+$((after - before))" "$result"
done <"$list"
exit $failed
