#!/usr/bin/env bash
# Reach benchmark: one sdt server on loopback (raw links and --ws-path /tunnel on one port) and, in turn, a
# client over each way of reaching it: raw TLS, ws:// straight to the server, wss:// through nginx (TLS
# terminated there, plain WebSocket to the server), and raw TLS through tinyproxy (HTTP CONNECT). For each:
# iperf3 TCP through the client's -L (one stream), and the p50 and p99 of a sockperf ping-pong (64 bytes)
# through another -L. Ratios are against the raw row of the same run.
# Usage: benchmarks/e2e/reach.sh [--duration 8] [--warmup 10] [--paths "raw ws wss-nginx http-proxy"]
# Needs iperf3, sockperf, python3, openssl; nginx (Debian nginx-light) and tinyproxy for their rows; a built
# sdt (tunnel-server/target/sdt.jar). Ends what it started, by pid; leaves nothing behind.
# Documentation: benchmarks/README.md section 8.
set -euo pipefail

DURATION=8
WARMUP=10
PATHS="raw ws wss-nginx http-proxy"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --paths) PATHS=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "reach.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
log() { echo "[reach $(date +%H:%M:%S)] $*" >&2; }
for t in iperf3 sockperf python3 openssl; do command -v $t >/dev/null || { echo "reach.sh: $t is missing" >&2; exit 2; }; done
[[ -f $ROOT/tunnel-server/target/sdt.jar ]] || { echo "reach.sh: build sdt first (./mvnw -q install -DskipTests)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/sdt-reach.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
await_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
await_line() { for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }

SRV=$(free_port); IPERF=$(free_port); SOCK=$(free_port)
"$ROOT/sdt" token > "$WORK/token"
iperf3 -s -B 127.0.0.1 -p "$IPERF" > "$WORK/iperf-s.log" 2>&1 & PIDS+=($!)
sockperf server --tcp -i 127.0.0.1 -p "$SOCK" > "$WORK/sockperf-s.log" 2>&1 & PIDS+=($!)
"$ROOT/sdt" server --listen "127.0.0.1:$SRV" --token-file "$WORK/token" --ws-path /tunnel \
  --allow-target "127.0.0.1:$IPERF" --allow-target "127.0.0.1:$SOCK" > "$WORK/server.log" 2>&1 & PIDS+=($!)
await_line "$WORK/server.log" "server listening" || { tail "$WORK/server.log" >&2; exit 1; }
await_port "$IPERF"; await_port "$SOCK"

declare -A R P50 P99 WHY
start_front() { # the front for a path: echoes the client's --server (and extra flags) or fails with WHY
  case $1 in
    raw) echo "127.0.0.1:$SRV" ;;
    ws) echo "ws://127.0.0.1:$SRV/tunnel" ;;
    wss-nginx)
      command -v nginx >/dev/null || { WHY[$1]="nginx not installed (apt-get install nginx-light)"; return 1; }
      local n; n=$(free_port); mkdir -p "$WORK/nginx/tmp"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/nginx/key.pem" -out "$WORK/nginx/cert.pem" >/dev/null 2>&1
      cat > "$WORK/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $WORK/nginx/tmp; proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp; uwsgi_temp_path $WORK/nginx/tmp; scgi_temp_path $WORK/nginx/tmp;
  server { listen 127.0.0.1:$n ssl; ssl_certificate $WORK/nginx/cert.pem; ssl_certificate_key $WORK/nginx/key.pem;
    location /tunnel { proxy_pass http://127.0.0.1:$SRV; proxy_http_version 1.1; proxy_buffering off;
      proxy_set_header Upgrade \$http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 1h; } } }
EOF
      nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" > "$WORK/nginx/out.log" 2>&1 & PIDS+=($!)
      await_port "$n" || { WHY[$1]="nginx did not start: $(tail -1 "$WORK/nginx/error.log")"; return 1; }
      echo "wss://127.0.0.1:$n/tunnel --ws-ca $WORK/nginx/cert.pem" ;;
    http-proxy)
      command -v tinyproxy >/dev/null || { WHY[$1]="tinyproxy not installed (apt-get install tinyproxy)"; return 1; }
      local t; t=$(free_port)
      printf 'Port %s\nListen 127.0.0.1\nTimeout 600\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Warning\n' "$t" > "$WORK/tinyproxy.conf"
      tinyproxy -d -c "$WORK/tinyproxy.conf" > "$WORK/tinyproxy.log" 2>&1 & PIDS+=($!)
      await_port "$t" || { WHY[$1]="tinyproxy did not start"; return 1; }
      echo "127.0.0.1:$SRV --proxy http://127.0.0.1:$t" ;;
  esac
}

for path in $PATHS; do
  front=$(start_front "$path") || { log "$path: skipped: ${WHY[$path]}"; continue; }
  LI=$(free_port); LS=$(free_port)
  # shellcheck disable=SC2086
  "$ROOT/sdt" client --server $front --token-file "$WORK/token" -L "$LI:127.0.0.1:$IPERF" -L "$LS:127.0.0.1:$SOCK" \
    > "$WORK/client-$path.log" 2>&1 &
  c=$!; PIDS+=($c)
  await_line "$WORK/client-$path.log" "link up" || { WHY[$path]="no link: $(tail -1 "$WORK/client-$path.log")"; kill $c; continue; }
  await_port "$LI"
  log "$path: $(grep -m1 -o 'link up.*' "$WORK/client-$path.log")"
  ((WARMUP > 0)) && timeout $((WARMUP + 20)) iperf3 -c 127.0.0.1 -p "$LI" -t "$WARMUP" > /dev/null 2>&1 || true
  timeout $((DURATION + 30)) iperf3 -c 127.0.0.1 -p "$LI" -t "$DURATION" -O 2 -J > "$WORK/$path.json" 2>/dev/null || true
  R[$path]=$(python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e9))' "$WORK/$path.json" 2>/dev/null || echo -)
  timeout 30 sockperf ping-pong --tcp -i 127.0.0.1 -p "$LS" -t 5 -m 64 > "$WORK/$path.sp" 2>&1 < /dev/null || true
  P50[$path]=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$path.sp" | awk '/percentile 50\.000 =/ {print $NF; exit}')
  P99[$path]=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/$path.sp" | awk '/percentile 99\.000 =/ {print $NF; exit}')
  log "$path: ${R[$path]} Gbit/s, ping-pong p50 ${P50[$path]:--} us, p99 ${P99[$path]:--} us"
  kill $c; wait $c 2>/dev/null || true
done

echo
echo "SDT reach benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) CPU(s); one server on loopback; iperf3 one stream"
echo "-t $DURATION -O 2 after ${WARMUP} s of warm-up; sockperf ping-pong 64 B for 5 s (half round trip, us)"
printf '%-12s %12s %10s %10s %14s %12s\n' path "Gbit/s" "p50 us" "p99 us" "Gbit/s vs raw" "p50 vs raw"
for path in $PATHS; do
  if [[ -z ${R[$path]:-} ]]; then printf '%-12s %12s   (skipped: %s)\n' "$path" - "${WHY[$path]:-}"; continue; fi
  python3 - "$path" "${R[$path]}" "${P50[$path]:-0}" "${P99[$path]:-0}" "${R[raw]:-0}" "${P50[raw]:-0}" <<'PY'
import sys
p, r, p50, p99, rr, rp = sys.argv[1], *[float(x) if x not in ("", "-") else 0.0 for x in sys.argv[2:]]
f = lambda a, b: "%.2f" % (a / b) if b else "-"
print("%-12s %12.3f %10.1f %10.1f %14s %12s" % (p, r, p50, p99, f(r, rr), f(p50, rp)))
PY
done
