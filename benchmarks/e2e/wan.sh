#!/usr/bin/env bash
# SDT WAN lab: two network namespaces joined by a user-space delay line (benchmarks' DelayLine: these
# machines have no netem), with a chosen RTT, jitter, loss and bottleneck rate, and iperf3 across it.
# For each RTT and loss: iperf3 with one stream and four through the lab alone ("direct": its ceiling),
# through sdt -L with the defaults, and through sdt -L with the fixed 4 MiB windows of before.
# Usage (root): benchmarks/e2e/wan.sh [--rtt "0 20 100 200"] [--loss "0 0.1 1"] [--rate-mbit 1000]
#               [--duration 10]
# Documentation: benchmarks/README.md section 6. Needs iproute2, iperf3, python3; builds nothing: run
# ./mvnw -pl benchmarks -am package -DskipTests first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RTTS="0 20 100 200"
LOSSES="0"
RATE=1000
DURATION=10
while (($#)); do
  case $1 in
    --rtt) RTTS=$2; shift 2 ;;
    --loss) LOSSES=$2; shift 2 ;;
    --rate-mbit) RATE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "wan.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "wan.sh: needs root (network namespaces, TUN devices)" >&2; exit 2; }
for t in ip iperf3 python3; do command -v $t >/dev/null || { echo "wan.sh: needs $t" >&2; exit 2; }; done
[[ -d $ROOT/benchmarks/target/lib ]] || { echo "wan.sh: build first: ./mvnw -pl benchmarks -am package -DskipTests" >&2; exit 2; }
. "$ROOT/scripts/java-env.sh"
sdt_select_jdk
CP="$ROOT/benchmarks/target/classes:$ROOT/benchmarks/target/lib/*"
WORK=$(mktemp -d /tmp/sdt-wan.XXXXXX)
NA=sdtwan-a-$$ NB=sdtwan-b-$$ TA=swa$$ TB=swb$$
DL_PID=
log() { echo "[wan $(date +%H:%M:%S)] $*" >&2; }

lab_down() {
  # what runs in the lab's namespaces is ours (iperf3, tunnels): end it first
  ip netns pids "$NA" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids "$NB" 2>/dev/null | xargs -r kill 2>/dev/null || true
  if [[ -n $DL_PID ]]; then
    exec 3>&- || true   # the delay line's standard input closes: it prints its summary and exits
    wait "$DL_PID" 2>/dev/null || true
    DL_PID=
  fi
  ip netns del "$NA" 2>/dev/null || true
  ip netns del "$NB" 2>/dev/null || true
}
trap 'lab_down; rm -rf "$WORK"' EXIT

# lab_up RTT_MS LOSS_PERCENT: the path, one way half the RTT; bottleneck queue = max(1 MB, one BDP)
lab_up() {
  local rtt=$1 loss=$2 oneway queue
  oneway=$(awk -v r="$rtt" 'BEGIN { print r / 2 }')
  queue=$(awk -v r="$rtt" -v m="$RATE" 'BEGIN { q = m * 1e6 / 8 * r / 1000; print (q > 1048576 ? int(q) : 1048576) }')
  rm -f "$WORK/dl.in"; mkfifo "$WORK/dl.in"
  "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" io.sdt.bench.wan.DelayLine \
    "$TA" "$TB" "$oneway" 0 "$loss" "$RATE" "$queue" < "$WORK/dl.in" > "$WORK/dl.out" 2> "$WORK/dl.err" &
  DL_PID=$!
  exec 3> "$WORK/dl.in"
  for _ in $(seq 1 100); do grep -q ready "$WORK/dl.out" 2>/dev/null && break; sleep 0.1; done
  grep -q ready "$WORK/dl.out" || { cat "$WORK/dl.err" >&2; echo "wan.sh: the delay line did not start" >&2; exit 1; }
  ip netns add "$NA"; ip netns add "$NB"
  ip link set "$TA" netns "$NA"; ip link set "$TB" netns "$NB"
  ip -n "$NA" addr add 10.201.0.1/24 dev "$TA"; ip -n "$NB" addr add 10.201.0.2/24 dev "$TB"
  for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
  ip -n "$NA" link set "$TA" up; ip -n "$NB" link set "$TB" up
  # large socket buffers, as one would set for a long fat path
  for ns in "$NA" "$NB"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 67108864" net.ipv4.tcp_wmem="4096 16384 67108864"
  done
}

# sdt_row RTT LOSS VARIANT: an sdt server in B (link on 10.201.0.2:7000), a client in A with one -L to B's
# iperf3; VARIANT sdt = the defaults (windows that size themselves), sdt-fixed4m = the fixed 4 MiB windows
# of before (--window 4m --window-max 4m)
sdt_row() {
  local rtt=$1 loss=$2 variant=$3 args=() i
  [[ $variant == sdt-fixed4m ]] && args=(--window 4m --window-max 4m)
  [[ $variant == sdt-fixed32m ]] && args=(--window 32m --window-max 32m)
  ip netns exec "$NB" "$ROOT/sdt" server --listen 10.201.0.2:7000 --token-file "$WORK/token" \
    --allow-target 127.0.0.1:5201 "${args[@]}" > "$WORK/sdt-server.log" 2>&1 3>&- &
  for i in $(seq 1 100); do grep -q "server listening" "$WORK/sdt-server.log" && break; sleep 0.1; done
  ip netns exec "$NA" "$ROOT/sdt" client --server 10.201.0.2:7000 --token-file "$WORK/token" \
    -L 127.0.0.1:5301:127.0.0.1:5201 "${args[@]}" > "$WORK/sdt-client.log" 2>&1 3>&- &
  for i in $(seq 1 200); do grep -q "link up" "$WORK/sdt-client.log" && break; sleep 0.1; done
  ip netns exec "$NA" iperf3 -c 127.0.0.1 -p 5301 -t "$DURATION" -O 2 -J > "$WORK/s1.json" 2>/dev/null 3>&- || true
  ip netns exec "$NA" iperf3 -c 127.0.0.1 -p 5301 -t "$DURATION" -O 2 -P 4 -J > "$WORK/s4.json" 2>/dev/null 3>&- || true
  printf '%-8s %-7s %-10s %12s %12s\n' "$rtt" "$loss" "$variant" "$(gbps "$WORK/s1.json")" "$(gbps "$WORK/s4.json")" \
    >> "$WORK/table"
  log "$(tail -1 "$WORK/table")"
  for p in $(ip netns pids "$NA"; ip netns pids "$NB"); do
    grep -q sdt.jar "/proc/$p/cmdline" 2>/dev/null && kill "$p" 2>/dev/null || true
  done
  sleep 1
}

gbps() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$1" 2>/dev/null || echo -; }

SDT_VARIANTS=${SDT_VARIANTS:-"sdt sdt-fixed4m"}
"$ROOT/sdt" token > "$WORK/token"
printf '%-8s %-7s %-10s %12s %12s\n' "rtt ms" "loss %" path "1-stream" "4-stream" > "$WORK/table"
for rtt in $RTTS; do
  for loss in $LOSSES; do
    lab_up "$rtt" "$loss"
    ip netns exec "$NB" iperf3 -s -p 5201 -D --logfile "$WORK/iperf-s.log" 3>&-
    sleep 0.5
    ping=$(command -v ping >/dev/null && ip netns exec "$NA" ping -c 3 -i 0.2 -q 10.201.0.2 | awk -F/ '/rtt/ { print $5 }' || true)
    log "rtt $rtt ms (ping says ${ping:-?} ms), loss $loss %: direct"
    ip netns exec "$NA" iperf3 -c 10.201.0.2 -p 5201 -t "$DURATION" -O 2 -J > "$WORK/d1.json" 2>/dev/null 3>&- || true
    ip netns exec "$NA" iperf3 -c 10.201.0.2 -p 5201 -t "$DURATION" -O 2 -P 4 -J > "$WORK/d4.json" 2>/dev/null 3>&- || true
    printf '%-8s %-7s %-10s %12s %12s\n' "$rtt" "$loss" direct "$(gbps "$WORK/d1.json")" "$(gbps "$WORK/d4.json")" >> "$WORK/table"
    log "$(tail -1 "$WORK/table")"
    for variant in $SDT_VARIANTS; do
      sdt_row "$rtt" "$loss" "$variant"
    done
    lab_down
    log "delay line: $(tail -1 "$WORK/dl.out")"
  done
done
echo
echo "SDT WAN lab, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) CPU(s); bottleneck ${RATE} Mbit/s, Gbit/s received by iperf3 (-t $DURATION -O 2)"
cat "$WORK/table"
