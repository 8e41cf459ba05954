#!/usr/bin/env bash
# Footprint benchmark: how fast sdt starts, how soon it is fast, and how much memory it holds, through
# ./sdt on loopback, with the build's AOT cache (aot) and without it (cold, SDT_AOT=off), for each JVM
# variant asked for (default: ParallelGC and a 16 MiB young generation as ./sdt runs; wide-young: the JVM's
# own young generation sizing, -XX:NewRatio=2, as ./sdt ran before 2026-12-06; no-replay: the cache's method
# profiles (JEP 515) not used, -XX:-AOTReplayTraining; serial: -XX:+UseSerialGC;
# g1: -XX:+UseG1GC; small: ParallelGC with -Xmx64m -XX:MaxDirectMemorySize=64m -Xss512k; capped: ParallelGC, -Xms16m -Xmx256m
# -XX:MaxDirectMemorySize=1g; capped-serial: the same with SerialGC; arenas2: the default with glibc's
# MALLOC_ARENA_MAX=2 in the environment, at most two malloc arenas instead of up to eight per core).
#   start: launch of `sdt server` to its link port listening; launch of `sdt client` to its -L port
#          listening and to its 'link up' line (medians over --rounds launches)
#   rss:   VmRSS of the server and the client after 5 s idle with one -L tunnel and its link up
#   first 5 s: iperf3 TCP (one stream) through -L for 5 s right after the link came up, then 20 s of
#          warm-up, then 5 s again (warm); the fraction first/warm. UDP (iperf3 -u at --udp-rate) the same
#          way, default variant only.
#   idle connections: with the cache, per variant: 200 connections opened and closed (warm), RSS of each
#          node after 5 s; then --conns N connections through -L (each carried one byte there and back,
#          IdleConnections.java) held idle, RSS again after 5 s; (RSS at N - RSS at 0) / N per node
# Usage: benchmarks/e2e/footprint.sh [--rounds 3]
#        [--variants "default wide-young no-replay serial g1 small capped capped-serial arenas2"]
#        [--udp-rate 500M] [--conns 10000]   (default variants: default serial g1 small; --conns 0 skips)
# Needs iperf3 and python3 and a built sdt (./mvnw -q install -DskipTests makes the jar and the AOT cache).
# Ends what it started, by pid. Compare figures only within one run. Documentation: benchmarks/README.md.
set -euo pipefail

ROUNDS=3
VARIANTS="default serial g1 small"
UDP_RATE=500M
CONNS=10000
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --udp-rate) UDP_RATE=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ {exit} NR > 1 {print}' "$0"; exit 0 ;;
    *) echo "footprint.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# shellcheck source=../../scripts/java-env.sh
. "$ROOT/scripts/java-env.sh"
sdt_select_jdk > /dev/null || { echo "footprint.sh: no JDK 25 for the idle-connection client" >&2; exit 2; }
for t in iperf3 python3; do command -v $t >/dev/null || { echo "footprint.sh: $t is missing" >&2; exit 2; }; done
[[ -f $ROOT/tunnel-server/target/sdt.jar ]] || { echo "footprint.sh: build sdt first (./mvnw -q install -DskipTests)" >&2; exit 2; }
[[ -f $ROOT/tunnel-server/target/sdt.aot ]] || echo "footprint.sh: no AOT cache (tunnel-server/target/sdt.aot): the aot rows run without one" >&2

WORK=$(mktemp -d /tmp/sdt-footprint.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "[footprint $(date +%H:%M:%S)] $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
# listening PORT: a TCP socket in LISTEN on PORT (Java's sockets are IPv6 ones, bound to ::ffff:127.0.0.1)
PROC_TCP=(/proc/net/tcp)
[[ -r /proc/net/tcp6 ]] && PROC_TCP+=(/proc/net/tcp6)
listening() { awk -v h="$(printf ':%04X' "$1")" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' "${PROC_TCP[@]}"; }
# await CONDITION... : polls every 5 ms (plus the check's own time), at most 60 s; 1 on timeout
await() { local end=$((SECONDS + 60)); while ((SECONDS <= end)); do "$@" && return 0; sleep 0.005; done; return 1; }
has_line() { grep -q "$2" "$1" 2>/dev/null; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
median() { python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:] if x]; print("%.0f" % statistics.median(v) if v else "-")' "$@"; }
opts_of() {
  case $1 in
    default) echo "" ;;
    wide-young) echo "-XX:NewRatio=2" ;;
    no-replay) echo "-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining" ;;
    serial) echo "-XX:+UseSerialGC" ;;
    g1) echo "-XX:+UseG1GC" ;;
    small) echo "-XX:+UseParallelGC -Xmx64m -XX:MaxDirectMemorySize=64m -Xss512k" ;;
    capped) echo "-XX:+UseParallelGC -Xms16m -Xmx256m -XX:MaxDirectMemorySize=1g" ;;
    capped-serial) echo "-XX:+UseSerialGC -Xms16m -Xmx256m -XX:MaxDirectMemorySize=1g" ;;
    arenas2) echo "" ;;
    *) echo "footprint.sh: unknown variant $1" >&2; exit 2 ;;
  esac
}
# env_of VARIANT: the environment the variant adds (VAR=VALUE words for env(1))
env_of() {
  case $1 in
    arenas2) echo "MALLOC_ARENA_MAX=2" ;;
    *) echo "SDT_FOOTPRINT_VARIANT=$1" ;;
  esac
}

"$ROOT/sdt" token > "$WORK/token"
IPERF=$(free_port)
iperf3 -s -B 127.0.0.1 -p "$IPERF" > "$WORK/iperf-s.log" 2>&1 & PIDS+=($!)
await listening "$IPERF"
IDLE=$(free_port)
"$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/IdleConnections.java" serve "$IDLE" > "$WORK/idle-target.log" 2>&1 & PIDS+=($!)
await listening "$IDLE"

declare -A R  # results: key "variant mode metric"
SERVER_PID= CLIENT_PID=
# start_pair VARIANT MODE: a server and a client with -L to iperf3: LT for TCP, LU for UDP (its TCP too: iperf3's
# control connection goes to the same port as its datagrams); records start times
start_pair() {
  local v=$1 mode=$2 srv lt lu t0 aot=on
  [[ $mode == cold ]] && aot=off
  srv=$(free_port); LT=$(free_port); LU=$(free_port); LI=$(free_port)
  t0=$(now_ms)
  env $(env_of "$v") SDT_AOT=$aot SDT_JAVA_OPTS="$(opts_of "$v")" "$ROOT/sdt" server --listen "127.0.0.1:$srv" --token-file "$WORK/token" \
    --allow-target "127.0.0.1:$IPERF" --allow-target "127.0.0.1:$IDLE" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!; PIDS+=($SERVER_PID)
  await listening "$srv" || { tail "$WORK/server.log" >&2; return 1; }
  START_SERVER=$(($(now_ms) - t0))
  t0=$(now_ms)
  env $(env_of "$v") SDT_AOT=$aot SDT_JAVA_OPTS="$(opts_of "$v")" "$ROOT/sdt" client --server "127.0.0.1:$srv" --token-file "$WORK/token" \
    -L "$LT:127.0.0.1:$IPERF" -L "$LU:127.0.0.1:$IPERF/udp" -L "$LU:127.0.0.1:$IPERF" \
    -L "$LI:127.0.0.1:$IDLE" > "$WORK/client.log" 2>&1 &
  CLIENT_PID=$!; PIDS+=($CLIENT_PID)
  await listening "$LT" || { tail "$WORK/client.log" >&2; return 1; }
  START_CLIENT=$(($(now_ms) - t0))
  await has_line "$WORK/client.log" "link up" || { tail "$WORK/client.log" >&2; return 1; }
  START_LINK=$(($(now_ms) - t0))
}
stop_pair() {
  kill "$CLIENT_PID" "$SERVER_PID" 2>/dev/null || true
  wait "$CLIENT_PID" "$SERVER_PID" 2>/dev/null || true
}
tcp_gbit() { # tcp_gbit SECONDS -> Gbit/s through -L
  timeout $(($1 + 30)) iperf3 -c 127.0.0.1 -p "$LT" -t "$1" -J 2>/dev/null |
    python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))' 2>/dev/null || echo ""
}
udp_gbit() { # udp_gbit SECONDS -> goodput Gbit/s through -L .../udp at UDP_RATE
  timeout $(($1 + 30)) iperf3 -c 127.0.0.1 -p "$LU" -u -b "$UDP_RATE" -l 1400 -t "$1" -J 2>/dev/null |
    python3 -c 'import json,sys; e=json.load(sys.stdin)["end"]["sum"]; print("%.3f" % (e["bits_per_second"]*(1-e["lost_percent"]/100)/1e9))' 2>/dev/null || echo ""
}
# idle_conns VARIANT: RSS per idle connection through the pair started last (see the header)
idle_conns() {
  local v=$1 hp
  "$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/IdleConnections.java" hold "$LI" 200 < /dev/null > "$WORK/warm.log" 2>&1
  sleep 5
  R[$v conns_s0]=$(rss_kib "$SERVER_PID"); R[$v conns_c0]=$(rss_kib "$CLIENT_PID")
  rm -f "$WORK/hold.in"; mkfifo "$WORK/hold.in"
  "$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/IdleConnections.java" hold "$LI" "$CONNS" < "$WORK/hold.in" > "$WORK/hold.log" 2>&1 &
  hp=$!; PIDS+=($hp)
  exec 9> "$WORK/hold.in"   # the holder keeps its connections until this closes
  local end=$((SECONDS + 300))
  while ! grep -q '^held' "$WORK/hold.log" && ((SECONDS < end)) && kill -0 "$hp" 2>/dev/null; do sleep 0.2; done
  R[$v conns_held]=$(awk '/^held/ {print $2 "/" $2 + $4}' "$WORK/hold.log")
  sleep 5
  R[$v conns_s1]=$(rss_kib "$SERVER_PID"); R[$v conns_c1]=$(rss_kib "$CLIENT_PID")
  exec 9>&-
  wait "$hp" 2>/dev/null || true
  log "$v: idle connections held ${R[$v conns_held]:-none}; rss server ${R[$v conns_s0]} -> ${R[$v conns_s1]}, client ${R[$v conns_c0]} -> ${R[$v conns_c1]} KiB"
}

for v in $VARIANTS; do
  opts_of "$v" > /dev/null
  if ((CONNS > 0)); then
    if start_pair "$v" aot; then idle_conns "$v"; else log "$v: did not start for idle connections"; fi
    stop_pair
  fi
  for mode in cold aot; do
    ss=() cs=() ls=()
    for ((r = 1; r <= ROUNDS; r++)); do
      start_pair "$v" "$mode" || { log "$v/$mode: did not start"; stop_pair; continue; }
      ss+=("$START_SERVER"); cs+=("$START_CLIENT"); ls+=("$START_LINK")
      if ((r == 1)); then
        # right after start: the first 5 s, then idle RSS, then warm
        R[$v $mode tcp_first]=$(tcp_gbit 5)
        if [[ $v == default ]]; then R[$v $mode udp_first]=$(udp_gbit 5); fi
        sleep 5
        R[$v $mode rss_server]=$(rss_kib "$SERVER_PID"); R[$v $mode rss_client]=$(rss_kib "$CLIENT_PID")
        tcp_gbit 20 > /dev/null
        R[$v $mode tcp_warm]=$(tcp_gbit 5)
        if [[ $v == default ]]; then udp_gbit 20 > /dev/null; R[$v $mode udp_warm]=$(udp_gbit 5); fi
        log "$v/$mode: tcp first ${R[$v $mode tcp_first]} warm ${R[$v $mode tcp_warm]} Gbit/s; rss server ${R[$v $mode rss_server]} client ${R[$v $mode rss_client]} KiB"
      fi
      stop_pair
      log "$v/$mode round $r: server ${START_SERVER} ms, client listening ${START_CLIENT} ms, link up ${START_LINK} ms"
    done
    R[$v $mode start_server]=$(median "${ss[@]}"); R[$v $mode start_client]=$(median "${cs[@]}"); R[$v $mode start_link]=$(median "${ls[@]}")
  done
done

echo
echo "SDT footprint benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) CPU(s), sdt $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)"
echo "start: launch of ./sdt to listening / to 'link up', median of $ROUNDS; rss after 5 s idle; first 5 s vs warm (after 20 s more)"
printf '%-8s %-5s %9s %9s %9s %11s %11s %9s %9s %6s %9s %9s %6s\n' variant mode "srv ms" "cli ms" "link ms" \
  "srv MiB" "cli MiB" "tcp 1st" "tcp warm" frac "udp 1st" "udp warm" frac
for v in $VARIANTS; do
  for mode in cold aot; do
    python3 - "$v" "$mode" "${R[$v $mode start_server]:-}" "${R[$v $mode start_client]:-}" "${R[$v $mode start_link]:-}" \
      "${R[$v $mode rss_server]:-}" "${R[$v $mode rss_client]:-}" "${R[$v $mode tcp_first]:-}" "${R[$v $mode tcp_warm]:-}" \
      "${R[$v $mode udp_first]:-}" "${R[$v $mode udp_warm]:-}" <<'PY'
import sys
v, m, *x = sys.argv[1:]
num = lambda s: float(s) if s not in ("", "-") else None
s, c, l, rs, rc, t1, tw, u1, uw = map(num, x)
f = lambda a, fmt: (fmt % a) if a is not None else "-"
fr = lambda a, b: "%.2f" % (a / b) if a is not None and b else "-"
print("%-8s %-5s %9s %9s %9s %11s %11s %9s %9s %6s %9s %9s %6s" % (v, m, f(s, "%.0f"), f(c, "%.0f"), f(l, "%.0f"),
      f(rs and rs / 1024, "%.1f"), f(rc and rc / 1024, "%.1f"), f(t1, "%.2f"), f(tw, "%.2f"), fr(t1, tw),
      f(u1, "%.3f"), f(uw, "%.3f"), fr(u1, uw)))
PY
  done
done
echo "Gbit/s through one -L (iperf3 TCP one stream; UDP goodput at $UDP_RATE offered, 1400-byte datagrams)"
if ((CONNS > 0)); then
  echo
  echo "idle connections through -L, with the AOT cache: RSS after 200 warm-up connections, then with $CONNS held idle"
  printf '%-14s %9s %11s %11s %11s %11s %13s %13s\n' variant held "srv 0 MiB" "srv N MiB" "cli 0 MiB" "cli N MiB" "srv KiB/conn" "cli KiB/conn"
  for v in $VARIANTS; do
    python3 - "$v" "${R[$v conns_held]:-}" "${R[$v conns_s0]:-}" "${R[$v conns_s1]:-}" "${R[$v conns_c0]:-}" "${R[$v conns_c1]:-}" <<'PY'
import sys
v, held, *x = sys.argv[1:]
s0, s1, c0, c1 = [float(a) if a else None for a in x]
n = int(held.split("/")[0]) if held else 0
mib = lambda a: "%.1f" % (a / 1024) if a is not None else "-"
per = lambda a, b: "%.2f" % ((b - a) / n) if n and a is not None and b is not None else "-"
print("%-14s %9s %11s %11s %11s %11s %13s %13s" % (v, held or "-", mib(s0), mib(s1), mib(c0), mib(c1), per(s0, s1), per(c0, c1)))
PY
  done
fi
