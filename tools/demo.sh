#!/bin/sh
# The demo's runs: every bundled scenario (scenarios/*.yaml) at one seed into one database, each
# run's agent metrics (Prometheus text) beside it, then one HTML report of every run. `make demo`
# runs it; the browser test (tests/node/html_report.mjs) runs it too and opens the report.
# Usage: tools/demo.sh CALLSIM SOURCE_DIR DB SEED METRICS_DIR REPORT_HTML
# Exit: 0 when every run passed and the report was written; else the last failure's exit code.
set -u
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
callsim=$(abs "$1") db=$(abs "$3") seed=$4 metrics=$(abs "$5") report=$(abs "$6")
# Scenario paths as a user types them (scenarios/x.yaml), so the replay lines read that way.
cd "$2" || exit 2
rm -f "$db" "$db-wal" "$db-shm"
mkdir -p "$metrics"
status=0
for s in scenarios/*.yaml; do
  echo "== $s"
  "$callsim" run "$s" --seed "$seed" --db "$db" \
    --metrics-out "$metrics/$(basename "$s" .yaml).prom" || status=$?
done
echo "results: $db (sqlite3 $db 'select * from metrics')"
echo "agent metrics (Prometheus text format): $metrics/"
runs=$(sqlite3 "$db" 'select run_id from runs order by run_id' | sed "s|^|$db#|")
# shellcheck disable=SC2086 # one argument per run
"$callsim" report $runs --html "$report" || status=$?
echo "HTML report of every run (opens offline): $report"
exit $status
