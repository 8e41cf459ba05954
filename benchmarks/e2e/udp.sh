#!/usr/bin/env bash
# SDT end-to-end UDP benchmark: iperf3 UDP (fixed offered rate, several datagram sizes) through
# direct / socat / shadowsocks-libev ss-tunnel -u / sdt -L .../udp, all on 127.0.0.1, in
# interleaved rounds.  Reports goodput, loss and packets per second.
# Documentation: benchmarks/README.md.  Installs nothing unless --install is given.
set -euo pipefail

E2E_SCRIPT=udp.sh E2E_TAG=e2e-udp
E2E_DEFAULT_WARMUP=30  # sdt's UDP path needs 20-40 s of traffic before C2 has compiled it (pinned: longest)
ALL_PATHS=(direct socat shadowsocks sdt)
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

# ---- defaults beyond lib.sh's common ones (each also settable from the environment) -------------
RATE=${BENCH_UDP_RATE:-1G}            # iperf3 -b: offered load per measurement
SIZES=${BENCH_UDP_SIZES:-1400,64}     # iperf3 -l: datagram payload sizes, one measurement each
PAUSE=${BENCH_PAUSE:-2}               # idle seconds after each measurement (lets tunnel queues drain)
SS_METHOD=aes-128-gcm

usage() {
  cat <<EOF
usage: benchmarks/e2e/udp.sh [options]      (UDP; benchmarks/e2e/run.sh measures TCP)

$(common_usage)
  --rate R            iperf3 -b, offered load (default $RATE)
  --sizes LIST        comma list of iperf3 -l datagram sizes in bytes (default $SIZES)

Environment: BENCH_DURATION BENCH_ROUNDS BENCH_ONLY BENCH_WARMUP BENCH_PAUSE BENCH_UDP_RATE
BENCH_UDP_SIZES BENCH_BASE_PORT BENCH_PIN_LOAD BENCH_PIN_TUNNEL BENCH_OUT SDT_CMD SDT_TRANSPORT
SDT_START_TIMEOUT SDT_SERVER_ARGS SDT_CLIENT_ARGS SDT_TOKEN (use this token instead of 'sdt token').
EOF
}

parse_extra_opt() {
  case $1 in
    --rate)  need_arg "$@"; RATE=$2; EXTRA_SHIFT=2 ;;
    --sizes) need_arg "$@"; SIZES=$2; EXTRA_SHIFT=2 ;;
    *) return 1 ;;
  esac
}

e2e_parse_args "$@"
is_uint "$PAUSE" || die "BENCH_PAUSE: expected a whole number of seconds, got '$PAUSE'"
[[ $RATE =~ ^[0-9]+(\.[0-9]+)?[KMGkmg]?$ ]] || die "--rate: expected an iperf3 -b value such as 1G or 500M, got '$RATE'"
SIZE_LIST=()
IFS=, read -ra _sizes <<<"$SIZES"
for s in "${_sizes[@]}"; do
  [[ -z $s ]] && continue
  is_uint "$s" && ((s >= 32 && s <= 65000)) || die "--sizes: expected byte counts in 32..65000, got '$s'"
  [[ " ${SIZE_LIST[*]} " == *" $s "* ]] || SIZE_LIST+=("$s")
done
((${#SIZE_LIST[@]} > 0)) || die "--sizes: no size given"

# ---- tool check (and, only with --install, apt-get install) ------------------------------------
# Prints "tool package" for every missing tool.
missing_tools() {
  find_tools
  have iperf3    || echo "iperf3 iperf3"
  have socat     || echo "socat socat"
  have ss-server || echo "ss-server shadowsocks-libev"
  have ss-tunnel || echo "ss-tunnel shadowsocks-libev"
  have_java      || echo "java -"
  [[ -n $JSON_TOOL ]] || echo "jq/python3 jq"
  return 0
}
check_tools
have iperf3 && [[ -n $JSON_TOOL ]] || die "iperf3 (with jq or python3) is needed: nothing to measure"

e2e_init

# ---- paths ---------------------------------------------------------------------------------------
# Every path gets its own iperf3 server (TARGET port) and one entry port (ENTRY) that carries
# both TCP (iperf3's control connection) and UDP (its data) to that server.  A separate server per
# path keeps late datagrams that one tunnel still had queued when its test ended away from the
# next test, which would otherwise take such a datagram for its client's UDP hello and hang.
declare -A TARGET=() ENTRY=() SRV_PID=()

start_iperf_server() {   # start_iperf_server PATH: (re)starts PATH's server on TARGET[PATH]
  local p=$1
  [[ -n ${TARGET[$p]:-} ]] || { local t; pick_port t; TARGET[$p]=$t; }
  start_bg "iperf3-server-$p" "$WORK/iperf3-server-$p.log" \
    "${PIN_LOAD_CMD[@]}" iperf3 -s -B 127.0.0.1 -p "${TARGET[$p]}"
  SRV_PID[$p]=$LAST_PID
  wait_listen "$LAST_PID" "$START_TIMEOUT" "${TARGET[$p]}" || { log_tail "$WORK/iperf3-server-$p.log"; return 1; }
}

setup_direct() {
  start_iperf_server direct || { SKIP[direct]="iperf3 server did not start"; return 1; }
  ENTRY[direct]=${TARGET[direct]}
  DESC[direct]="no tunnel"
}

setup_socat() {
  have socat || { SKIP[socat]="socat not installed (apt: socat)"; return 1; }
  start_iperf_server socat || { SKIP[socat]="iperf3 server did not start"; return 1; }
  local e t=${TARGET[socat]}
  pick_port e
  start_bg socat-tcp "$WORK/socat-tcp.log" "${PIN_TUNNEL_CMD[@]}" \
    socat "TCP-LISTEN:$e,bind=127.0.0.1,fork,reuseaddr,nodelay" "TCP:127.0.0.1:$t,nodelay"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$e" || { log_tail "$WORK/socat-tcp.log"; SKIP[socat]="socat TCP relay did not start"; return 1; }
  # UDP4-LISTEN,fork: the first datagram from a new source forks a child whose socket is connected
  # to that source and to the target, so one iperf3 test = one child, and replies (iperf3's UDP
  # hello answer) go back to the source.  (UDP4-RECVFROM,fork would fork per datagram and send
  # each from a new port; iperf3 then loses its stream.)  -T 30 ends an idle child.
  start_bg socat-udp "$WORK/socat-udp.log" "${PIN_TUNNEL_CMD[@]}" \
    socat -T 30 "UDP4-LISTEN:$e,bind=127.0.0.1,fork,reuseaddr" "UDP4:127.0.0.1:$t"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$e/udp" || { log_tail "$WORK/socat-udp.log"; SKIP[socat]="socat UDP relay did not start"; return 1; }
  ENTRY[socat]=$e
  DESC[socat]="socat TCP-LISTEN,fork + socat -T 30 UDP4-LISTEN,fork -> UDP4 relays on one port, no encryption"
}

setup_shadowsocks() {
  have ss-server && have ss-tunnel || { SKIP[shadowsocks]="ss-server/ss-tunnel not installed (apt: shadowsocks-libev)"; return 1; }
  start_iperf_server shadowsocks || { SKIP[shadowsocks]="iperf3 server did not start"; return 1; }
  local d=$WORK/shadowsocks s e pw t=${TARGET[shadowsocks]}
  mkdir -m 700 "$d"
  pick_port s; pick_port e
  pw=$(head -c 18 /dev/urandom | base64 | tr -d '\n')
  # the password goes in 0600 config files, not on command lines
  (umask 077
   printf '{"server":"127.0.0.1","server_port":%d,"password":"%s","method":"%s","mode":"tcp_and_udp","timeout":60,"no_delay":true}\n' \
     "$s" "$pw" "$SS_METHOD" >"$d/server.json"
   printf '{"server":"127.0.0.1","server_port":%d,"local_address":"127.0.0.1","local_port":%d,"tunnel_address":"127.0.0.1:%d","password":"%s","method":"%s","mode":"tcp_and_udp","timeout":60,"no_delay":true}\n' \
     "$s" "$e" "$t" "$pw" "$SS_METHOD" >"$d/tunnel.json")
  start_bg ss-server "$WORK/ss-server.log" "${PIN_TUNNEL_CMD[@]}" ss-server -c "$d/server.json" -u
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$s" "$s/udp" || { log_tail "$WORK/ss-server.log"; SKIP[shadowsocks]="ss-server did not start"; return 1; }
  start_bg ss-tunnel "$WORK/ss-tunnel.log" "${PIN_TUNNEL_CMD[@]}" ss-tunnel -c "$d/tunnel.json" -u
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$e" "$e/udp" || { log_tail "$WORK/ss-tunnel.log"; SKIP[shadowsocks]="ss-tunnel did not start"; return 1; }
  ENTRY[shadowsocks]=$e
  DESC[shadowsocks]="shadowsocks-libev ss-tunnel -u -> ss-server -u (TCP and UDP relay), $SS_METHOD"
}

setup_sdt() {
  start_iperf_server sdt || { SKIP[sdt]="iperf3 server did not start"; return 1; }
  local e t=${TARGET[sdt]}
  pick_port e
  # TCP and UDP are separate port namespaces: one plain and one /udp tunnel on the same port
  start_sdt "127.0.0.1:$e:127.0.0.1:$t" "127.0.0.1:$e:127.0.0.1:$t/udp" || return 1
  ENTRY[sdt]=$e
  DESC[sdt]="$SDT_CONFIG, two -L on one port: TCP and /udp"
}

setup_paths

# ---- measurements --------------------------------------------------------------------------------
SAMPLES=$WORK/samples.tsv   # path  metric  round  value
: >"$SAMPLES"
FAILS=()

# udp_metrics JSONFILE -> "goodput_Mbit/s loss_% rx_kpps tx_kpps iperf3_lost_%", or nothing.
# From the client's JSON (iperf3 3.12): end.sum_sent = what the client sent (packets, seconds);
# end.sum_received = the server's counts sent back to the client (bytes received, its
# lost_percent).  Datagrams received = received bytes / blksize (every datagram is -l bytes).
# Loss = 1 - received / sent: unlike iperf3's lost_percent (gaps in the sequence numbers it saw)
# it also counts the datagrams still queued in a tunnel, or dropped, after the last one to arrive.
udp_metrics() {
  if [[ $JSON_TOOL == jq ]]; then
    jq -r 'if (.error // "") != "" then empty else
      .start.test_start.blksize as $l | .end.sum_sent as $s | .end.sum_received as $r |
      if ($l // 0) <= 0 or ($s.packets // 0) <= 0 or ($s.seconds // 0) <= 0 or ($r.seconds // 0) <= 0 then empty else
        ($r.bytes / $l) as $rx |
        "\($r.bits_per_second / 1e6) \([100 * ($s.packets - $rx) / $s.packets, 0] | max) \($rx / $r.seconds / 1e3) \($s.packets / $s.seconds / 1e3) \($r.lost_percent // 0)"
      end end' "$1" 2>/dev/null || true
  else
    python3 - "$1" <<'PY' 2>/dev/null || true
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    if not d.get("error"):
        l = d["start"]["test_start"]["blksize"]
        s, r = d["end"]["sum_sent"], d["end"]["sum_received"]
        if l > 0 and s["packets"] > 0 and s["seconds"] > 0 and r["seconds"] > 0:
            rx = r["bytes"] / l
            print(r["bits_per_second"] / 1e6, max(100 * (s["packets"] - rx) / s["packets"], 0),
                  rx / r["seconds"] / 1e3, s["packets"] / s["seconds"] / 1e3, r.get("lost_percent", 0))
except Exception:
    pass
PY
  fi
}

# run_udp PATH SIZE SECONDS TAG -> RESULT (see udp_metrics); returns 1 on failure.
# (Not called in $(...): a server restart here must be tracked by this shell.)
run_udp() {
  local path=$1 size=$2 secs=$3 tag=$4 out
  RESULT=
  out=$WORK/iperf3-$path-l$size-$tag.json
  kill -0 "${SRV_PID[$path]}" 2>/dev/null || { log "iperf3 server of $path gone, restarting"; start_iperf_server "$path" || true; }
  run_fg timeout $((secs + 20)) "${PIN_LOAD_CMD[@]}" iperf3 -c 127.0.0.1 -p "${ENTRY[$path]}" -u -b "$RATE" \
    -l "$size" -t "$secs" --json --connect-timeout 5000 >"$out" 2>"$out.err" </dev/null || true
  RESULT=$(udp_metrics "$out")
  if [[ -z $RESULT ]]; then
    log "  iperf3 -u -l $size via $path failed: $(grep -o '"error":[^,}]*' "$out" 2>/dev/null | head -1) $(head -c 200 "$out.err" 2>/dev/null)"
    # a failed test can leave the server stuck mid-test; start a fresh one
    stop_pid "${SRV_PID[$path]}"; start_iperf_server "$path" || true
    return 1
  fi
}

n_active=${#ACTIVE[@]}
per_round=$(( ${#SIZE_LIST[@]} * n_active * (DURATION + 1 + PAUSE) ))
log "paths: ${ACTIVE[*]}; sizes: ${SIZE_LIST[*]} B at $RATE; ${ROUNDS} round(s) x ~${per_round}s + warmup; ports from $BASE_PORT: ${PICKED[*]}"

if ((WARMUP > 0)); then
  for p in "${ACTIVE[@]}"; do
    log "warmup $p (${WARMUP}s, ${SIZE_LIST[0]} B)"
    run_udp "$p" "${SIZE_LIST[0]}" "$WARMUP" warmup || true
    sleep "$PAUSE"
  done
fi

METRICS=(mbps loss rxk txk iperf_loss)
for ((r = 1; r <= ROUNDS; r++)); do
  # rotate the order each round so that no path is always measured first
  order=()
  for ((i = 0; i < n_active; i++)); do order+=("${ACTIVE[$(( (i + r - 1) % n_active ))]}"); done
  for size in "${SIZE_LIST[@]}"; do
    for p in "${order[@]}"; do
      if run_udp "$p" "$size" "$DURATION" "r$r"; then
        read -r -a vals <<<"$RESULT"
        for ((k = 0; k < ${#METRICS[@]}; k++)); do record "$p" "$size:${METRICS[k]}" "$r" "${vals[k]}"; done
        log "round $r/$ROUNDS $p -l $size: $(printf '%.1f Mbit/s, loss %.1f %%, rx %.1f kpps, tx %.1f kpps' "${vals[@]:0:4}")"
      else
        FAILS+=("round $r: $p -l $size")
      fi
      sleep "$PAUSE"
    done
  done
done

# ---- report --------------------------------------------------------------------------------------
declare -A MED=()
for p in "${ACTIVE[@]}"; do
  for size in "${SIZE_LIST[@]}"; do
    for m in "${METRICS[@]}"; do MED[$p,$size,$m]=$(median "$p" "$size:$m"); done
  done
done

# pp_diff A B: A - B in percentage points (loss ratios explode when the other path loses ~0 %)
pp_diff() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {printf "%+.1f", a - b}' || printf '%s' -; }
# offered_kpps SIZE: iperf3 -b (k/m/g = 10^3/10^6/10^9 bit/s) as datagrams per second / 1000
offered_kpps() {
  awk -v r="$RATE" -v l="$1" 'BEGIN {u = tolower(substr(r, length(r))); m = 1
    if (u == "k") m = 1e3; else if (u == "m") m = 1e6; else if (u == "g") m = 1e9
    if (m > 1) r = substr(r, 1, length(r) - 1)
    printf "%.1f", r * m / (8 * l) / 1e3}'
}
sysctl_val() { cat "/proc/sys/net/core/$1" 2>/dev/null || echo '?'; }
REPORT=$WORK/report.txt
ROW='%-15s %14s %8s %9s %9s\n'
{
  echo
  echo "SDT end-to-end UDP benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  host_line
  echo "per measurement: iperf3 -u -b $RATE -l <size> -t ${DURATION} (no -O), rounds: ${ROUNDS} interleaved, warmup ${WARMUP}s/path, ${PAUSE}s pause after each; cells = median over rounds"
  echo "socket buffers: iperf3 defaults (no -w); net.core.rmem_default=$(sysctl_val rmem_default) rmem_max=$(sysctl_val rmem_max) wmem_default=$(sysctl_val wmem_default)"
  echo "pinning: load=${PIN_LOAD:-none} tunnel=${PIN_TUNNEL:-none}; tools: $(iperf3 --version 2>/dev/null | head -1 | awk '{print "iperf3 " $2}')$(have socat && socat -V 2>/dev/null | awk '/socat version/ {print ", socat " $3; exit}')$(have ss-server && { ss-server -h 2>&1 || true; } | awk '/shadowsocks-libev/ {print ", shadowsocks-libev " $2; exit}')"
  is_active sdt && echo "sdt: $SDT_CMD${SDT_TRANSPORT:+ (--transport $SDT_TRANSPORT)}"
  for size in "${SIZE_LIST[@]}"; do
    echo
    echo "$size-byte datagrams, offered $RATE ($(offered_kpps "$size") kpps)"
    printf "$ROW" path "goodput Mbit/s" "loss %" "rx kpps" "tx kpps"
    printf "$ROW" --------------- -------------- -------- --------- ---------
    for p in "${ACTIVE[@]}"; do
      printf "$ROW" "$p" "$(fmt '%.1f' "${MED[$p,$size,mbps]}")" "$(fmt '%.1f' "${MED[$p,$size,loss]}")" \
        "$(fmt '%.1f' "${MED[$p,$size,rxk]}")" "$(fmt '%.1f' "${MED[$p,$size,txk]}")"
    done
    if is_active sdt; then
      for base in direct socat shadowsocks; do
        is_active "$base" || continue
        printf "$ROW" "sdt/$base" \
          "$(ratio "${MED[sdt,$size,mbps]}" "${MED[$base,$size,mbps]}")" "$(pp_diff "${MED[sdt,$size,loss]}" "${MED[$base,$size,loss]}")" \
          "$(ratio "${MED[sdt,$size,rxk]}" "${MED[$base,$size,rxk]}")" "$(ratio "${MED[sdt,$size,txk]}" "${MED[$base,$size,txk]}")"
      done
    fi
  done
  echo
  echo "goodput and rx kpps: what the iperf3 server received; loss: 1 - received/sent datagrams;"
  echo "tx kpps: what the iperf3 client managed to send (below the offered rate when it is CPU-bound)"
  is_active sdt && echo "ratio rows: sdt value / other value (> 1 favours sdt), except loss: sdt - other in percentage points (< 0 favours sdt)"
  echo
  for p in "${ACTIVE[@]}"; do printf '  %-12s %s\n' "$p:" "${DESC[$p]}"; done
  for p in "${PATHS[@]}"; do [[ -n ${SKIP[$p]:-} ]] && printf '  %-12s SKIPPED: %s\n' "$p:" "${SKIP[$p]}"; done
  for p in "${ACTIVE[@]}"; do
    for size in "${SIZE_LIST[@]}"; do
      c=$(count "$p" "$size:mbps")
      ((c < ROUNDS)) && printf '  %-12s -l %s: only %d of %d rounds succeeded\n' "$p:" "$size" "$c" "$ROUNDS"
    done
  done
  ((${#FAILS[@]} > 0)) && printf '  failed: %s\n' "${FAILS[@]}"
  echo "compare numbers only within one run: loopback is CPU-bound and all processes share $(nproc) CPU(s)"
} >"$REPORT"

write_out "$REPORT"
exit 0
