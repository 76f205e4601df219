#!/usr/bin/env bash
# SIP interop with an independent implementation: SIPp 3.6 (Debian 12 package sip-tester).
#
#   tests/sip/sipp_interop.sh CALLSIM SCRATCH_DIR [a|b|all]
#
# (a) `callsim serve --sip` answers SIPp. SIPp's built-in uac sends no RTP, so SIPp runs
#     tests/sip/uac_pcmu_stream.xml: the built-in uac plus an rtp_stream action that sends a real
#     caller's voice as PCMU (payload type 0, 160 bytes every 20 ms) from the port in its SDP. The
#     voice is callsim's own simulated caller (the word modem, which the agent's fake STT decodes):
#     one virtual-time call of the same scenario is recorded (`run --record all`), and its
#     microphone channel up to the end of the first question becomes a headerless mu-law file
#     (tests/sip/caller_voice.py). Checked: SIPp exits 0 with 1 successful call; serve, stopped
#     with SIGINT, exits 0 and stored 1 call with status completed; the agent transcribed words.
#     (The package's only audio pcap, /usr/share/sip-tester/g711a.pcap, is PCMA (payload type 8)
#     in 30 ms packets, not what the SDP offers, and play_pcap_audio needs a raw socket (root).)
# (b) `callsim run --target sip:...` dials SIPp's built-in uas started with -rtp_echo, which sends
#     every packet arriving on its media port back to the packet's source. The caller
#     (tests/sip/sipp_echo.yaml) must hear its own words: callsim exits 0 (its agent_says
#     expectation held), SIPp exits 0, and run.db's events say what the caller heard.
#
# Exit codes: 0 passed, 1 failed, 77 skipped (sipp, sqlite3 or python3 missing; ctest
# SKIP_RETURN_CODE). Ports are chosen free (bound to port 0, then released) and a port lost to a
# race is retried, so tests can run in parallel. Background processes are stopped on exit.
set -u -o pipefail

CALLSIM=${1:-}
DIR=${2:-}
PART=${3:-all}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# The agent served in (a), and the scenario whose recorded caller SIPp plays to it: any bundled
# scenario with a `user:` turn works (for serve only its agent, fakes and tools sections count).
SERVE_SCENARIO=${SIPP_SERVE_SCENARIO:-$SRC/scenarios/order_status.yaml}
ECHO_SCENARIO=$HERE/sipp_echo.yaml
UAC_XML=$HERE/uac_pcmu_stream.xml
TAIL_MS=4000        # after the caller's voice: time for the agent to transcribe it, then BYE
SIPP_CAP_S=120      # hard bound on any one SIPp (-timeout ... -timeout_error: exit 255)

say() { echo "sipp_interop: $*"; }
fail() {
  echo "sipp_interop: FAIL: $*" >&2
  exit 1
}
skip() {
  echo "sipp_interop: SKIP: $*"
  exit 77
}

if [ -z "$CALLSIM" ] || [ -z "$DIR" ]; then
  echo "usage: $0 CALLSIM SCRATCH_DIR [a|b|all]" >&2
  exit 2
fi
case "$PART" in a | b | all) ;; *) echo "$0: part must be a, b or all" >&2; exit 2 ;; esac
command -v sipp >/dev/null || skip "sipp is not installed (Debian: apt-get install sip-tester)"
command -v sqlite3 >/dev/null || skip "sqlite3 is not installed (make deps installs it)"
command -v python3 >/dev/null || skip "python3 is not installed (make deps installs it)"
[ -x "$CALLSIM" ] || fail "$CALLSIM is not an executable"
CALLSIM=$(cd "$(dirname "$CALLSIM")" && pwd)/$(basename "$CALLSIM")
mkdir -p "$DIR" || fail "cannot create $DIR"
DIR=$(cd "$DIR" && pwd)
say "$(sipp -v 2>&1 | grep -m1 -o 'SIPp v[^ ]*'), callsim $CALLSIM, scratch $DIR"

# ---- processes --------------------------------------------------------------------------------

PIDS=()
# Stops what is still running: SIGINT, then SIGKILL after 3 s. Only our own children, by pid.
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill -INT "$pid" 2>/dev/null
    for ((i = 0; i < 30; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits at most $2 seconds for child $1; returns its exit code, or 124 if it is still running.
wait_for_exit() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -ge "$deadline" ] && return 124
    sleep 0.1
  done
  wait "$pid"
}

# Waits for child $1 in the background rather than the foreground, so that SIGINT or SIGTERM
# stops the test at once (bash runs traps only between foreground commands); returns its code.
wait_child() {
  PIDS+=("$1")
  wait "$1"
}

# A port that is free on 127.0.0.1 for UDP and TCP at once (SIP may use either).
free_port() {
  python3 - <<'EOF'
import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    print(port)
    break
EOF
}

# True when some socket is bound to UDP port $1 (IPv4 or IPv6).
udp_bound() {
  local hex
  hex=$(printf '%04X' "$1")
  grep -qE "^ *[0-9]+: [0-9A-F]+:$hex " /proc/net/udp /proc/net/udp6 2>/dev/null
}

# Waits at most $3 seconds until child $1 has UDP port $2 open. 0 ready, 1 the child exited.
wait_for_udp() {
  local pid=$1 port=$2 deadline=$((SECONDS + $3))
  until udp_bound "$port"; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$SECONDS" -ge "$deadline" ] && fail "nothing listens on UDP $port after $3 s"
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null
}

show_log() {  # the end of a log, on failure
  [ -s "$1" ] || return 0
  echo "---- $1 (last 40 lines)" >&2
  tail -n 40 "$1" >&2
}

# SIPp's cumulative "Successful call" count from a -trace_screen file.
sipp_successful_calls() {
  awk -F'|' '/Successful call/ { gsub(/ /, "", $3); n = $3 } END { print n + 0 }' "$1"
}

# ---- (a) SIPp's uac, with media, calls `callsim serve --sip` ---------------------------------

part_a() {
  local out=$DIR/a serve_db=$DIR/serve.db voice_db=$DIR/voice.db
  rm -rf "$out" "$serve_db" "$voice_db" "$DIR/voice.recordings"
  mkdir -p "$out"
  say "(a) callsim serve --sip answers SIPp's uac, which sends PCMU RTP"

  "$CALLSIM" serve --help 2>&1 | grep -q -- '--sip' ||
    fail "$CALLSIM serve has no --sip option"

  # The caller's voice: one virtual-time call of the scenario, recorded; its microphone channel
  # up to the end of the first thing it says (plus 300 ms), as 8 kHz mu-law.
  say "(a) recording a simulated caller: $CALLSIM run $SERVE_SCENARIO --callers 1 --seed 1 --record all"
  "$CALLSIM" run "$SERVE_SCENARIO" --callers 1 --seed 1 --record all --db "$voice_db" \
    >"$out/voice_run.log" 2>&1 || { show_log "$out/voice_run.log"; fail "(a) the recording run failed"; }
  local recording end_ms said voice_ms
  recording=$(sqlite3 "$voice_db" "SELECT recording FROM calls WHERE recording IS NOT NULL LIMIT 1")
  [ -n "$recording" ] || fail "(a) the recording run stored no recording"
  end_ms=$(sqlite3 "$voice_db" "SELECT min(e.t_ms) - c.started_ms + 300 FROM events e
    JOIN calls c USING (run_id, call_id)
    WHERE e.source = 'caller' AND e.kind = 'utterance_end'")
  [ -n "$end_ms" ] || fail "(a) $SERVE_SCENARIO: the recorded caller never spoke (no user: turn?)"
  said=$(sqlite3 "$voice_db" "SELECT reference_text FROM turns ORDER BY turn_index LIMIT 1")
  voice_ms=$(python3 "$HERE/caller_voice.py" "$DIR/$recording" "$out/caller_voice.ulaw" "$end_ms") ||
    fail "(a) caller_voice.py failed"
  say "(a) caller voice: $out/caller_voice.ulaw, $voice_ms ms, saying \"$said\""

  # callsim serve on a free SIP port (retried if the port is taken before serve binds it).
  local attempt sip_port serve_pid serve_log=$out/serve.log
  for attempt in 1 2 3; do
    sip_port=$(free_port)
    say "(a) $CALLSIM serve --agent $SERVE_SCENARIO --sip 127.0.0.1:$sip_port --listen 127.0.0.1:0 --db $serve_db"
    "$CALLSIM" serve --agent "$SERVE_SCENARIO" --sip "127.0.0.1:$sip_port" --listen 127.0.0.1:0 \
      --db "$serve_db" >"$serve_log" 2>&1 </dev/null &
    serve_pid=$!
    PIDS+=("$serve_pid")
    wait_for_udp "$serve_pid" "$sip_port" 20 && break
    wait "$serve_pid"
    local rc=$?
    show_log "$serve_log"
    [ "$attempt" -lt 3 ] && grep -qi "in use" "$serve_log" && continue
    fail "(a) callsim serve exited with code $rc before listening on UDP $sip_port"
  done
  say "(a) serve is listening on udp 127.0.0.1:$sip_port (pid $serve_pid)"

  # SIPp's uac with the voice: INVITE (SDP: PCMU only), ACK, RTP for voice_ms, BYE after -d ms.
  # It runs in $out because rtp_stream reads caller_voice.ulaw from the current directory.
  local pause_ms=$((voice_ms + TAIL_MS)) sipp_rc
  say "(a) sipp 127.0.0.1:$sip_port -sf $UAC_XML -s agent -m 1 -d $pause_ms ... (in $out)"
  (
    cd "$out" &&
      exec sipp "127.0.0.1:$sip_port" -sf "$UAC_XML" -s agent \
        -i 127.0.0.1 -mi 127.0.0.1 -ci 127.0.0.1 -m 1 -d "$pause_ms" -aa -nostdin \
        -recv_timeout 15000 -timeout "${SIPP_CAP_S}s" -timeout_error \
        -trace_msg -message_file "$out/sipp_messages.log" \
        -trace_err -error_file "$out/sipp_errors.log" \
        -trace_screen -screen_file "$out/sipp_screen.log" \
        </dev/null >"$out/sipp.log" 2>&1
  ) &
  wait_child $!
  sipp_rc=$?
  if [ "$sipp_rc" -ne 0 ]; then
    show_log "$out/sipp_errors.log"
    show_log "$out/sipp_messages.log"
    show_log "$serve_log"
    fail "(a) sipp exited with code $sipp_rc (0 all calls successful, 1 a call failed, 255 fatal or -timeout, 254 a socket could not be bound)"
  fi
  local ok
  ok=$(sipp_successful_calls "$out/sipp_screen.log")
  [ "$ok" = 1 ] || fail "(a) sipp exited 0 but counts $ok successful calls, not 1 ($out/sipp_screen.log)"
  grep -q "^m=audio [0-9]* RTP/AVP" "$out/sipp_messages.log" ||
    fail "(a) no SDP answer in sipp's message log"
  say "(a) sipp: exit 0, 1 successful call; serve answered: $(grep -m2 '^m=audio' "$out/sipp_messages.log" | tail -1 | tr -d '\r')"

  # Stop serve (SIGINT) and read what it stored.
  kill -INT "$serve_pid"
  local serve_rc
  wait_for_exit "$serve_pid" 40
  serve_rc=$?
  [ "$serve_rc" -eq 124 ] && { show_log "$serve_log"; fail "(a) callsim serve still runs 40 s after SIGINT"; }
  [ "$serve_rc" -eq 0 ] || { show_log "$serve_log"; fail "(a) callsim serve exited with code $serve_rc after SIGINT"; }
  say "(a) serve stopped with SIGINT: exit 0"

  local calls completed
  calls=$(sqlite3 "$serve_db" "SELECT count(*) FROM calls")
  completed=$(sqlite3 "$serve_db" "SELECT count(*) FROM calls WHERE status = 'completed'")
  [ "$calls" = 1 ] || fail "(a) serve.db has $calls calls, not 1"
  [ "$completed" = 1 ] ||
    fail "(a) the call is not completed: $(sqlite3 "$serve_db" "SELECT status, failure_reason FROM calls")"
  say "(a) serve.db: 1 call, status completed"

  # The agent heard SIPp's RTP: its STT transcribed words from it.
  local heard
  heard=$(sqlite3 "$serve_db" "SELECT json_extract(detail_json, '\$.text') FROM events
    WHERE source = 'agent' AND kind = 'stt_final' ORDER BY call_id, seq")
  [ -n "${heard//[[:space:]]/}" ] ||
    fail "(a) the agent transcribed nothing from SIPp's RTP (no agent stt_final with words)"
  say "(a) the agent transcribed: \"$(echo "$heard" | paste -sd'|')\" (the caller said \"$said\")"
  say "(a) passed"
}

# ---- (b) `callsim run --target sip:` calls SIPp's uas, which echoes the RTP ---------------------

# ===== WHAT THE CALLER HEARD (the assertion of part (b) is to be settled) ========================
# One line per reply the caller heard in run.db: its turn and the words its ear decoded (the
# caller's reply_end event, harness/caller/caller_events.h: {turn, heard}). Against SIPp's echo
# the caller's own words should come back.
caller_heard() {
  sqlite3 -separator ' ' "$1" "SELECT json_extract(detail_json, '\$.turn'),
           json_extract(detail_json, '\$.heard')
    FROM events
    WHERE source = 'caller' AND kind = 'reply_end'
    ORDER BY call_id, seq"
}
# The check: turn 0 of tests/sip/sipp_echo.yaml says "hello can you hear me"; the caller must have
# heard those words back (callsim's own agent_says expectation in the scenario checks the same).
check_caller_heard() {
  local heard expected="hello can you hear me"
  heard=$(caller_heard "$1")
  say "(b) the caller heard: ${heard:-(nothing)}"
  grep -q "^0 .*$expected" <<<"$heard" || fail "(b) the caller did not hear \"$expected\" back"
}
# =================================================================================================

part_b() {
  local out=$DIR/b run_db=$DIR/run.db
  rm -rf "$out" "$run_db"
  mkdir -p "$out"
  say "(b) callsim run --target sip: calls SIPp's uas with -rtp_echo"

  # SIPp's built-in uas: 180, 200 with SDP (PCMU on its -mp port, default 6000, else the next
  # free even port), waits for ACK and BYE, answers 200, then lingers 4 s (timewait) and exits
  # (-m 1). -rtp_echo echoes whatever reaches its media port (and that port + 2).
  local attempt sipp_port sipp_pid sipp_rc
  for attempt in 1 2 3; do
    sipp_port=$(free_port)
    say "(b) sipp -sn uas -i 127.0.0.1 -p $sipp_port -mi 127.0.0.1 -rtp_echo -m 1 ..."
    sipp -sn uas -i 127.0.0.1 -p "$sipp_port" -mi 127.0.0.1 -ci 127.0.0.1 -rtp_echo -m 1 -nostdin \
      -timeout "${SIPP_CAP_S}s" -timeout_error \
      -trace_msg -message_file "$out/sipp_messages.log" \
      -trace_err -error_file "$out/sipp_errors.log" \
      -trace_screen -screen_file "$out/sipp_screen.log" \
      </dev/null >"$out/sipp.log" 2>&1 &
    sipp_pid=$!
    PIDS+=("$sipp_pid")
    wait_for_udp "$sipp_pid" "$sipp_port" 10 && break
    wait "$sipp_pid"
    sipp_rc=$?
    show_log "$out/sipp.log"
    # 254: SIPp could not bind a socket (the port was taken meanwhile): try another one.
    [ "$sipp_rc" -eq 254 ] && [ "$attempt" -lt 3 ] && continue
    fail "(b) sipp (uas) exited with code $sipp_rc before listening on UDP $sipp_port"
  done
  say "(b) sipp uas is listening on udp 127.0.0.1:$sipp_port (pid $sipp_pid)"

  # As in tests/cli/wire: the harness-lateness bound is raised so that a machine busy with other
  # tests does not turn a correct call into a saturated run (exit 99).
  local run_rc loose=realtime.lateness_bound_ms=100
  say "(b) $CALLSIM run $ECHO_SCENARIO --target sip:service@127.0.0.1:$sipp_port --db $run_db --set $loose"
  timeout -s INT -k 10 120 "$CALLSIM" run "$ECHO_SCENARIO" \
    --target "sip:service@127.0.0.1:$sipp_port" --db "$run_db" --set "$loose" \
    </dev/null >"$out/run.log" 2>&1 &
  wait_child $!
  run_rc=$?
  cat "$out/run.log"
  if [ "$run_rc" -ne 0 ]; then
    show_log "$out/sipp_messages.log"
    show_log "$out/sipp_errors.log"
    fail "(b) callsim run exited with code $run_rc (124: killed after 120 s)"
  fi
  say "(b) callsim run: exit 0"

  wait_for_exit "$sipp_pid" 30
  sipp_rc=$?
  if [ "$sipp_rc" -ne 0 ]; then
    show_log "$out/sipp_errors.log"
    show_log "$out/sipp_messages.log"
    fail "(b) sipp (uas) exited with code $sipp_rc (124: still running 30 s after the call)"
  fi
  local ok
  ok=$(sipp_successful_calls "$out/sipp_screen.log")
  [ "$ok" = 1 ] || fail "(b) sipp exited 0 but counts $ok successful calls, not 1"
  say "(b) sipp uas: exit 0, 1 successful call; it answered: $(grep -m2 '^m=audio' "$out/sipp_messages.log" | tail -1 | tr -d '\r')"

  local calls
  calls=$(sqlite3 "$run_db" "SELECT count(*) FROM calls WHERE status = 'completed'")
  [ "$calls" = 1 ] ||
    fail "(b) run.db: $calls completed calls, not 1: $(sqlite3 "$run_db" "SELECT status, failure_reason FROM calls")"
  check_caller_heard "$run_db"
  say "(b) passed"
}

case "$PART" in
  a) part_a ;;
  b) part_b ;;
  all) part_a && part_b ;;
esac
say "passed ($PART)"
