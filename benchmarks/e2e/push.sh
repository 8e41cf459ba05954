#!/usr/bin/env bash
# SDT push benchmark: records per second and MB/s through `-L ...,push` in memory and with a durable
# spool (spool-dir=, fsync=never|interval|always), one sdt server and client on 127.0.0.1.
# A producer (socat) sends a file of newline records; a sink (socat) appends what arrives to a file;
# a run ends when the sink holds every byte. Each variant is warmed up with one untimed run.
# Usage: benchmarks/e2e/push.sh [--records N] [--rounds N] [--sdt CMD]
# Documentation: benchmarks/README.md. Needs socat. Installs nothing.
set -euo pipefail
RECORDS=500000
ROUNDS=3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SDT=$ROOT/sdt
while (($#)); do
  case $1 in
    --records) RECORDS=$2; shift 2 ;;
    --rounds)  ROUNDS=$2; shift 2 ;;
    --sdt)     SDT=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "push.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v socat >/dev/null || { echo "push.sh: needs socat (apt-get install socat)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/sdt-push-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
log() { echo "[push $(date +%H:%M:%S)] $*" >&2; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# records of 60-160 bytes, like syslog lines
awk -v n="$RECORDS" 'BEGIN { for (i = 0; i < n; i++) { printf "<13>Dec  6 12:00:00 host app[%d]: record %d ", i % 997, i;
  for (j = 0; j < i % 100; j++) printf "x"; printf "\n" } }' > "$WORK/records"
BYTES=$(stat -c %s "$WORK/records")
log "$RECORDS records, $BYTES bytes"

"$SDT" token > "$WORK/token"
SERVER=$(port); SINK=$(port)
"$SDT" server --listen 127.0.0.1:$SERVER --token-file "$WORK/token" --allow-target 127.0.0.1:$SINK \
  > "$WORK/server.log" 2>&1 & PIDS+=($!)
VARIANTS=(memory never interval always)
declare -A SPEC PORTS
for v in "${VARIANTS[@]}"; do
  PORTS[$v]=$(port)
  case $v in
    memory) SPEC[$v]="127.0.0.1:${PORTS[$v]}:127.0.0.1:$SINK,push,record=256" ;;
    *) SPEC[$v]="127.0.0.1:${PORTS[$v]}:127.0.0.1:$SINK,push,record=256,spool-dir=$WORK/spool-$v,fsync=$v" ;;
  esac
done
ARGS=(); for v in "${VARIANTS[@]}"; do ARGS+=(-L "${SPEC[$v]}"); done
for i in $(seq 1 60); do grep -q "server listening" "$WORK/server.log" && break; sleep 1; done
"$SDT" client --server 127.0.0.1:$SERVER --token-file "$WORK/token" "${ARGS[@]}" > "$WORK/client.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 60); do grep -q "link up" "$WORK/client.log" && break; sleep 1; done

# one sink for the whole benchmark (every variant's egress keeps its own connection to it)
OUT=$WORK/sink.out
: > "$OUT"
socat -u TCP-LISTEN:$SINK,reuseaddr,fork OPEN:"$OUT",append >/dev/null 2>&1 & PIDS+=($!)
sleep 0.3
# one run: seconds from the first byte sent until the sink holds every byte of the file once more
run() {
  local v=$1 base want t0 t1
  base=$(stat -c %s "$OUT"); want=$((base + BYTES))
  t0=$(date +%s.%N)
  socat -u FILE:"$WORK/records" TCP:127.0.0.1:${PORTS[$v]} </dev/null >/dev/null 2>&1
  for i in $(seq 1 12000); do [[ $(stat -c %s "$OUT") -ge $want ]] && break; sleep 0.005; done
  t1=$(date +%s.%N)
  [[ $(stat -c %s "$OUT") -eq $want ]] || { echo "push.sh: $v: sink has $(( $(stat -c %s "$OUT") - base )) of $BYTES bytes" >&2; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
for v in "${VARIANTS[@]}"; do log "warm-up $v: $(run "$v") s (not recorded)"; done
declare -A BEST
for r in $(seq 1 "$ROUNDS"); do
  for v in "${VARIANTS[@]}"; do
    s=$(run "$v"); log "round $r $v: $s s"
    [[ -z ${BEST[$v]:-} ]] && BEST[$v]=$s
    BEST[$v]=$(awk -v a="${BEST[$v]}" -v b="$s" 'BEGIN { print (b < a ? b : a) }')
  done
done
printf '\nSDT push, %d records (%d bytes) per run, best of %d interleaved rounds after one warm-up run each\n' \
  "$RECORDS" "$BYTES" "$ROUNDS"
printf '%-10s %14s %10s %14s\n' variant records/s MB/s vs-memory
for v in "${VARIANTS[@]}"; do
  awk -v v="$v" -v s="${BEST[$v]}" -v n="$RECORDS" -v b="$BYTES" -v m="${BEST[memory]}" \
    'BEGIN { printf "%-10s %14.0f %10.1f %14.2f\n", v, n / s, b / s / 1e6, m / s }'
done
