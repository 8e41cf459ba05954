#!/usr/bin/env bash
# SDT end-to-end benchmark harness: iperf3 throughput and sockperf latency through
# direct / socat / ssh -L / stunnel / sdt -L, all on 127.0.0.1, in interleaved rounds.
# Documentation: benchmarks/README.md.  Installs nothing unless --install is given.
set -euo pipefail

E2E_SCRIPT=run.sh E2E_TAG=e2e
ALL_PATHS=(direct socat ssh stunnel sdt)
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# ---- defaults beyond lib.sh's common ones (each also settable from the environment) -------------
OMIT=${BENCH_OMIT:-1}                 # iperf3 -O: leading seconds left out of each measurement
PAUSE=${BENCH_PAUSE:-1}               # seconds of idle between two measurements

usage() {
  cat <<EOF
usage: benchmarks/e2e/run.sh [options]      (TCP; benchmarks/e2e/udp.sh measures UDP)

$(common_usage)

Environment: BENCH_DURATION BENCH_ROUNDS BENCH_ONLY BENCH_WARMUP BENCH_OMIT BENCH_PAUSE
BENCH_BASE_PORT BENCH_PIN_LOAD BENCH_PIN_TUNNEL BENCH_OUT SDT_CMD SDT_TRANSPORT
SDT_START_TIMEOUT SDT_SERVER_ARGS SDT_CLIENT_ARGS SDT_TOKEN (use this token instead of 'sdt token').
EOF
}

e2e_parse_args "$@"
is_uint "$OMIT" || die "BENCH_OMIT: expected a whole number of seconds, got '$OMIT'"
is_uint "$PAUSE" || die "BENCH_PAUSE: expected a whole number of seconds, got '$PAUSE'"

# ---- tool check (and, only with --install, apt-get install) ------------------------------------
# Prints "tool package" for every missing tool.
missing_tools() {
  find_tools
  have iperf3   || echo "iperf3 iperf3"
  have sockperf || echo "sockperf sockperf"
  have socat    || echo "socat socat"
  [[ -n $STUNNEL_BIN ]] || echo "stunnel stunnel4"
  have ssh      || echo "ssh openssh-client"
  have ssh-keygen || echo "ssh-keygen openssh-client"
  [[ -n $SSHD_BIN ]] || echo "sshd openssh-server"
  have openssl  || echo "openssl openssl"
  have_java     || echo "java -"
  [[ -n $JSON_TOOL ]] || echo "jq/python3 jq"
  return 0
}

check_tools

HAVE_IPERF=0 HAVE_SOCKPERF=0
have iperf3 && [[ -n $JSON_TOOL ]] && HAVE_IPERF=1
have sockperf && HAVE_SOCKPERF=1
((HAVE_IPERF || HAVE_SOCKPERF)) || die "neither iperf3 (with jq or python3) nor sockperf is usable: nothing to measure"
((HAVE_IPERF)) || log "note: iperf3 (or jq/python3) missing: throughput columns will be empty"
((HAVE_SOCKPERF)) || log "note: sockperf missing: latency columns will be empty"

SOCKPERF_RTT=()
SOCKPERF_KIND="half RTT (sockperf default)"
if ((HAVE_SOCKPERF)); then
  sp_help=$(sockperf ping-pong --help 2>&1 || true)   # not piped into grep -q: SIGPIPE + pipefail
  if [[ $sp_help == *--full-rtt* ]]; then SOCKPERF_RTT=(--full-rtt); SOCKPERF_KIND="full RTT"; fi
fi

e2e_init

# ---- load servers --------------------------------------------------------------------------------
pick_port IPERF_PORT
pick_port SOCKPERF_PORT
IPERF_PID='' SOCKPERF_PID=''

start_iperf_server() {
  start_bg iperf3-server "$WORK/iperf3-server.log" \
    "${PIN_LOAD_CMD[@]}" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
  IPERF_PID=$LAST_PID
  wait_listen "$IPERF_PID" "$START_TIMEOUT" "$IPERF_PORT" || { log_tail "$WORK/iperf3-server.log"; die "iperf3 server did not start"; }
}
start_sockperf_server() {
  start_bg sockperf-server "$WORK/sockperf-server.log" \
    "${PIN_LOAD_CMD[@]}" sockperf server --tcp -i 127.0.0.1 -p "$SOCKPERF_PORT"
  SOCKPERF_PID=$LAST_PID
  wait_listen "$SOCKPERF_PID" "$START_TIMEOUT" "$SOCKPERF_PORT" || { log_tail "$WORK/sockperf-server.log"; die "sockperf server did not start"; }
}
((HAVE_IPERF)) && start_iperf_server
((HAVE_SOCKPERF)) && start_sockperf_server

# ---- paths ---------------------------------------------------------------------------------------
# Each setup_<path> starts its tunnel with two entry ports (-> iperf3 server, -> sockperf server)
# and sets ENTRY_IPERF/ENTRY_SOCK; on failure it sets SKIP[path] and returns 1.
declare -A ENTRY_IPERF=() ENTRY_SOCK=()

setup_direct() {
  ENTRY_IPERF[direct]=$IPERF_PORT ENTRY_SOCK[direct]=$SOCKPERF_PORT
  DESC[direct]="no tunnel"
}

setup_socat() {
  have socat || { SKIP[socat]="socat not installed (apt: socat)"; return 1; }
  local a b t
  pick_port a; pick_port b
  for t in "iperf $a $IPERF_PORT" "sock $b $SOCKPERF_PORT"; do
    set -- $t
    start_bg "socat-$1" "$WORK/socat-$1.log" "${PIN_TUNNEL_CMD[@]}" \
      socat "TCP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr,nodelay" "TCP:127.0.0.1:$3,nodelay"
    wait_listen "$LAST_PID" "$START_TIMEOUT" "$2" || { log_tail "$WORK/socat-$1.log"; SKIP[socat]="socat did not start"; return 1; }
  done
  ENTRY_IPERF[socat]=$a ENTRY_SOCK[socat]=$b
  DESC[socat]="socat TCP-LISTEN,fork relay, no encryption"
}

setup_ssh() {
  local a b
  start_sshd ssh || return 1
  pick_port a; pick_port b
  start_bg ssh-client "$WORK/ssh-client.log" "${PIN_TUNNEL_CMD[@]}" "${SSH_CMD[@]}" \
    -L "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" -L "127.0.0.1:$b:127.0.0.1:$SOCKPERF_PORT" "$(id -un)@127.0.0.1"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$a" "$b" || { log_tail "$WORK/ssh-client.log"; log_tail "$WORK/sshd.log"; SKIP[ssh]="ssh -L did not come up"; return 1; }
  ENTRY_IPERF[ssh]=$a ENTRY_SOCK[ssh]=$b
  DESC[ssh]="OpenSSH ssh -N -L, aes128-gcm@openssh.com, ed25519 keys"
}

setup_stunnel() {
  [[ -n $STUNNEL_BIN ]] || { SKIP[stunnel]="stunnel not installed (apt: stunnel4)"; return 1; }
  have openssl || { SKIP[stunnel]="openssl not installed (apt: openssl)"; return 1; }
  local d=$WORK/stunnel s1 s2 c1 c2
  mkdir -m 700 "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1 ||
    { log_tail "$d/openssl.log"; SKIP[stunnel]="openssl could not make a certificate"; return 1; }
  pick_port s1; pick_port s2; pick_port c1; pick_port c2
  local common="foreground = yes
pid =
debug = 4
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256"
  cat >"$d/server.conf" <<EOF
$common
cert = $d/cert.pem
key = $d/key.pem
[iperf]
accept = 127.0.0.1:$s1
connect = 127.0.0.1:$IPERF_PORT
[sockperf]
accept = 127.0.0.1:$s2
connect = 127.0.0.1:$SOCKPERF_PORT
EOF
  cat >"$d/client.conf" <<EOF
$common
client = yes
verifyPeer = yes
CAfile = $d/cert.pem
[iperf]
accept = 127.0.0.1:$c1
connect = 127.0.0.1:$s1
[sockperf]
accept = 127.0.0.1:$c2
connect = 127.0.0.1:$s2
EOF
  start_bg stunnel-server "$WORK/stunnel-server.log" "${PIN_TUNNEL_CMD[@]}" "$STUNNEL_BIN" "$d/server.conf"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$s1" "$s2" || { log_tail "$WORK/stunnel-server.log"; SKIP[stunnel]="stunnel server did not start"; return 1; }
  start_bg stunnel-client "$WORK/stunnel-client.log" "${PIN_TUNNEL_CMD[@]}" "$STUNNEL_BIN" "$d/client.conf"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$c1" "$c2" || { log_tail "$WORK/stunnel-client.log"; SKIP[stunnel]="stunnel client did not start"; return 1; }
  ENTRY_IPERF[stunnel]=$c1 ENTRY_SOCK[stunnel]=$c2
  DESC[stunnel]="stunnel client -> stunnel server, TLS 1.3 TLS_AES_128_GCM_SHA256, self-signed P-256"
}

setup_sdt() {
  local a b
  pick_port a; pick_port b
  start_sdt "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" "127.0.0.1:$b:127.0.0.1:$SOCKPERF_PORT" || return 1
  ENTRY_IPERF[sdt]=$a ENTRY_SOCK[sdt]=$b
  DESC[sdt]=$SDT_CONFIG
}

setup_paths

# ---- measurements --------------------------------------------------------------------------------
SAMPLES=$WORK/samples.tsv   # path  metric  round  value
: >"$SAMPLES"
FAILS=()

iperf_gbps() {   # iperf_gbps JSONFILE -> Gbit/s received, or nothing
  if [[ $JSON_TOOL == jq ]]; then
    jq -r 'if (.error // "") != "" then empty else (.end.sum_received.bits_per_second // empty) / 1e9 end' "$1" 2>/dev/null || true
  else
    python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    if not d.get("error"):
        print(d["end"]["sum_received"]["bits_per_second"] / 1e9)
except Exception:
    pass
PY
  fi
}

# run_iperf PATH STREAMS SECONDS OMIT TAG -> RESULT=Gbit/s; returns 1 on failure.
# (Not called in $(...): a server restart here must be tracked by this shell.)
run_iperf() {
  local path=$1 n=$2 secs=$3 omit=$4 tag=$5 out
  RESULT=
  out=$WORK/iperf3-$path-P$n-$tag.json
  kill -0 "$IPERF_PID" 2>/dev/null || { log "iperf3 server gone, restarting"; start_iperf_server; }
  run_fg timeout $((secs + omit + 30)) "${PIN_LOAD_CMD[@]}" iperf3 -c 127.0.0.1 -p "${ENTRY_IPERF[$path]}" \
    -t "$secs" -O "$omit" -P "$n" --json --connect-timeout 5000 >"$out" 2>"$out.err" </dev/null || true
  RESULT=$(iperf_gbps "$out")
  if [[ -z $RESULT ]]; then
    log "  iperf3 via $path -P $n failed: $(grep -o '"error":[^,}]*' "$out" 2>/dev/null | head -1) $(head -c 200 "$out.err" 2>/dev/null)"
    # a failed test can leave the server stuck mid-test; start a fresh one
    stop_pid "$IPERF_PID"; start_iperf_server
    return 1
  fi
}

# run_sockperf PATH SECONDS TAG -> RESULT="p50 p99" in usec; returns 1 on failure
run_sockperf() {
  local path=$1 secs=$2 tag=$3 out p50 p99
  RESULT=
  out=$WORK/sockperf-$path-$tag.log
  kill -0 "$SOCKPERF_PID" 2>/dev/null || { log "sockperf server gone, restarting"; start_sockperf_server; }
  run_fg timeout $((secs + 30)) "${PIN_LOAD_CMD[@]}" sockperf ping-pong --tcp -i 127.0.0.1 \
    -p "${ENTRY_SOCK[$path]}" -t "$secs" "${SOCKPERF_RTT[@]}" >"$out" 2>&1 </dev/null || true
  sed -i 's/\x1b\[[0-9;]*m//g' "$out"
  p50=$(awk '/percentile 50\.000 =/ {print $NF; exit}' "$out")
  p99=$(awk '/percentile 99\.000 =/ {print $NF; exit}' "$out")
  if [[ -z $p50 || -z $p99 ]]; then
    log "  sockperf via $path failed:"; log_tail "$out" 5
    return 1
  fi
  RESULT="$p50 $p99"
}

# run_hol PATH SECONDS TAG -> RESULT="p50 p99" in usec: sockperf through PATH's latency entry while one
# iperf3 stream runs through its throughput entry (for ssh and sdt: another -L of the same connection),
# the interactive-under-bulk case; returns 1 on failure
run_hol() {
  local path=$1 secs=$2 tag=$3 bulk_pid rc=0
  kill -0 "$IPERF_PID" 2>/dev/null || { log "iperf3 server gone, restarting"; start_iperf_server; }
  "${PIN_LOAD_CMD[@]}" iperf3 -c 127.0.0.1 -p "${ENTRY_IPERF[$path]}" -t $((secs + 3)) --connect-timeout 5000 \
    >"$WORK/iperf3-hol-$path-$tag.log" 2>&1 </dev/null &
  bulk_pid=$!
  sleep 1.5   # the bulk stream is at speed, its queues full
  run_sockperf "$path" "$secs" "hol-$tag" || rc=1
  wait "$bulk_pid" 2>/dev/null || true
  return $rc
}

HOL=0
((HAVE_IPERF && HAVE_SOCKPERF)) && HOL=${BENCH_HOL:-1}
n_active=${#ACTIVE[@]}
per_round=$(( (HAVE_IPERF * 2 * (DURATION + OMIT + PAUSE) + HAVE_SOCKPERF * (DURATION + 1 + PAUSE)
  + HOL * (DURATION + 5 + PAUSE)) * n_active ))
log "paths: ${ACTIVE[*]}; ${ROUNDS} round(s) x ~${per_round}s + warmup; ports from $BASE_PORT: ${PICKED[*]}"

if ((WARMUP > 0)); then
  for p in "${ACTIVE[@]}"; do
    log "warmup $p (${WARMUP}s)"
    if ((HAVE_IPERF)); then
      run_iperf "$p" 1 "$WARMUP" 0 warmup || true
    else
      run_sockperf "$p" "$WARMUP" warmup || true
    fi
  done
fi

METRICS=()
((HAVE_IPERF)) && METRICS+=(tp1 tp4)
((HAVE_SOCKPERF)) && METRICS+=(lat)
((HOL)) && METRICS+=(hol)
for ((r = 1; r <= ROUNDS; r++)); do
  # rotate the order each round so that no path is always measured first
  order=()
  for ((i = 0; i < n_active; i++)); do order+=("${ACTIVE[$(( (i + r - 1) % n_active ))]}"); done
  for m in "${METRICS[@]}"; do
    for p in "${order[@]}"; do
      case $m in
        tp1|tp4)
          n=1; [[ $m == tp4 ]] && n=4
          if run_iperf "$p" "$n" "$DURATION" "$OMIT" "r$r"; then
            v=$RESULT; record "$p" "$m" "$r" "$v"; log "round $r/$ROUNDS $p iperf3 -P $n: $(printf '%.2f' "$v") Gbit/s"
          else
            FAILS+=("round $r: $p iperf3 -P $n")
          fi ;;
        lat)
          if run_sockperf "$p" "$DURATION" "r$r"; then
            read -r p50 p99 <<<"$RESULT"
            record "$p" p50 "$r" "$p50"; record "$p" p99 "$r" "$p99"
            log "round $r/$ROUNDS $p sockperf: p50 $p50 us, p99 $p99 us"
          else
            FAILS+=("round $r: $p sockperf")
          fi ;;
        hol)
          if run_hol "$p" "$DURATION" "r$r"; then
            read -r p50 p99 <<<"$RESULT"
            record "$p" b50 "$r" "$p50"; record "$p" b99 "$r" "$p99"
            log "round $r/$ROUNDS $p sockperf under iperf3 bulk: p50 $p50 us, p99 $p99 us"
          else
            FAILS+=("round $r: $p sockperf under bulk")
          fi ;;
      esac
      sleep "$PAUSE"
    done
  done
done

# ---- report --------------------------------------------------------------------------------------
declare -A MED=()
for p in "${ACTIVE[@]}"; do
  for m in tp1 tp4 p50 p99 b99; do MED[$p,$m]=$(median "$p" "$m"); done
done

REPORT=$WORK/report.txt
{
  echo
  echo "SDT end-to-end benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  host_line
  echo "per measurement: ${DURATION}s (iperf3 also -O ${OMIT}s omitted), rounds: ${ROUNDS} interleaved, warmup ${WARMUP}s/path; cells = median over rounds"
  echo "latency: sockperf TCP ping-pong, default 14 B messages, ${SOCKPERF_KIND}, microseconds"
  ((HOL)) && echo "bulk p99: the same sockperf while one iperf3 stream runs through the path's other entry (ssh, sdt: the same connection)"
  echo "pinning: load=${PIN_LOAD:-none} tunnel=${PIN_TUNNEL:-none}; tools: $(iperf3 --version 2>/dev/null | head -1 | awk '{print "iperf3 " $2}'), $(sockperf --version 2>/dev/null | awk '/version/ {print "sockperf " $3; exit}')"
  [[ " ${ACTIVE[*]} " == *" sdt "* ]] && echo "sdt: $SDT_CMD${SDT_TRANSPORT:+ (--transport $SDT_TRANSPORT)}"
  echo
  printf '%-9s %15s %15s %10s %10s %14s\n' path "1-stream Gbit/s" "4-stream Gbit/s" "p50 us" "p99 us" "bulk p99 us"
  printf '%-9s %15s %15s %10s %10s %14s\n' --------- --------------- --------------- ---------- ---------- --------------
  for p in "${ACTIVE[@]}"; do
    printf '%-9s %15s %15s %10s %10s %14s\n' "$p" \
      "$(fmt '%.2f' "${MED[$p,tp1]}")" "$(fmt '%.2f' "${MED[$p,tp4]}")" \
      "$(fmt '%.1f' "${MED[$p,p50]}")" "$(fmt '%.1f' "${MED[$p,p99]}")" "$(fmt '%.1f' "${MED[$p,b99]}")"
  done
  if [[ " ${ACTIVE[*]} " == *" sdt "* ]]; then
    for base in ssh socat; do
      [[ " ${ACTIVE[*]} " == *" $base "* ]] || continue
      printf '%-9s %15s %15s %10s %10s %14s\n' "sdt/$base" \
        "$(ratio "${MED[sdt,tp1]}" "${MED[$base,tp1]}")" "$(ratio "${MED[sdt,tp4]}" "${MED[$base,tp4]}")" \
        "$(ratio "${MED[sdt,p50]}" "${MED[$base,p50]}")" "$(ratio "${MED[sdt,p99]}" "${MED[$base,p99]}")" \
        "$(ratio "${MED[sdt,b99]}" "${MED[$base,b99]}")"
    done
    echo "(ratio rows: sdt value / other value; throughput > 1 and latency < 1 favour sdt)"
  fi
  echo
  for p in "${ACTIVE[@]}"; do printf '  %-8s %s\n' "$p:" "${DESC[$p]}"; done
  for p in "${PATHS[@]}"; do [[ -n ${SKIP[$p]:-} ]] && printf '  %-8s SKIPPED: %s\n' "$p:" "${SKIP[$p]}"; done
  for p in "${ACTIVE[@]}"; do
    for m in "${METRICS[@]}"; do
      mm=$m; [[ $m == lat ]] && mm=p50; [[ $m == hol ]] && mm=b50
      c=$(count "$p" "$mm")
      ((c < ROUNDS)) && printf '  %-8s %s: only %d of %d rounds succeeded\n' "$p:" "$m" "$c" "$ROUNDS"
    done
  done
  ((${#FAILS[@]} > 0)) && printf '  failed: %s\n' "${FAILS[@]}"
  echo "compare numbers only within one run: loopback is CPU-bound and all processes share $(nproc) CPU(s)"
} >"$REPORT"

write_out "$REPORT"
exit 0
