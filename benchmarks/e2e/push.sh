#!/usr/bin/env bash
# SDT push benchmark: records per second and MB/s through `-L ...,push` in memory and with a durable
# spool (spool-dir=, fsync=never|interval|always), one sdt server and client on 127.0.0.1.
# A producer (socat) sends a file of newline records; a sink (socat) appends what arrives to a file;
# a run ends when the sink holds every byte. Each variant is warmed up with one untimed run.
# With rsyslogd and its RELP modules (Debian rsyslog, rsyslog-relp) two more variants: rsyslog
# forwarding to rsyslog over RELP, and the same two rsyslogs with sdt's ,push,relp between them
# (spool-dir=, fsync=interval); a run ends when the receiving rsyslog's file has every record.
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
VARIANTS=(memory never interval always)
RELP=no
if [[ -x /usr/sbin/rsyslogd ]] && compgen -G '/usr/lib/*/rsyslog/omrelp.so' >/dev/null; then
  RELP=yes; VARIANTS+=(rsyslog-relp sdt-relp)
else
  log "no rsyslogd with RELP modules: the RELP variants are left out (apt-get install rsyslog rsyslog-relp)"
fi
RECV=$(port)
declare -A SPEC PORTS
for v in "${VARIANTS[@]}"; do
  PORTS[$v]=$(port)
  case $v in
    memory) SPEC[$v]="127.0.0.1:${PORTS[$v]}:127.0.0.1:$SINK,push,record=256" ;;
    rsyslog-relp) ;;
    sdt-relp) PORTS[sdt-relp-in]=$(port)
      SPEC[$v]="127.0.0.1:${PORTS[sdt-relp-in]}:127.0.0.1:$RECV,push,relp,spool-dir=$WORK/spool-relp,fsync=interval" ;;
    *) SPEC[$v]="127.0.0.1:${PORTS[$v]}:127.0.0.1:$SINK,push,record=256,spool-dir=$WORK/spool-$v,fsync=$v" ;;
  esac
done
ARGS=(); for v in "${VARIANTS[@]}"; do [[ -n ${SPEC[$v]:-} ]] && ARGS+=(-L "${SPEC[$v]}"); done
"$SDT" server --listen 127.0.0.1:$SERVER --token-file "$WORK/token" --allow-target 127.0.0.1:$SINK \
  --allow-target 127.0.0.1:$RECV > "$WORK/server.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 60); do grep -q "server listening" "$WORK/server.log" && break; sleep 1; done
"$SDT" client --server 127.0.0.1:$SERVER --token-file "$WORK/token" "${ARGS[@]}" > "$WORK/client.log" 2>&1 & PIDS+=($!)
for i in $(seq 1 60); do grep -q "link up" "$WORK/client.log" && break; sleep 1; done

# one sink for the whole benchmark (every variant's egress keeps its own connection to it)
OUT=$WORK/sink.out
: > "$OUT"
socat -u TCP-LISTEN:$SINK,reuseaddr,fork OPEN:"$OUT",append >/dev/null 2>&1 & PIDS+=($!)
# RELP: a receiving rsyslog (imrelp into a file) and a sending one (plain TCP in, omrelp out: one port
# straight to the receiver, one through sdt); the same two rsyslogs serve both RELP variants. omrelp's
# window is raised from librelp's 128 to 1024 for both: with 128, imrelp's small answers meet Nagle and
# delayed ACKs and rsyslog-to-rsyslog ran at ~2,900 records/s here (40 ms per window), which would
# flatter sdt (its own RELP listener sets TCP_NODELAY)
ROUT=$WORK/relp.out
if [[ $RELP == yes ]]; then
  mkdir -p "$WORK/recv" "$WORK/send"
  cat > "$WORK/recv.conf" <<EOF
global(workDirectory="$WORK/recv")
module(load="imrelp")
template(name="m" type="string" string="%msg%\n")
ruleset(name="in") { action(type="omfile" file="$ROUT" template="m") }
input(type="imrelp" address="127.0.0.1" port="$RECV" ruleset="in")
EOF
  cat > "$WORK/send.conf" <<EOF
global(workDirectory="$WORK/send")
module(load="imtcp")
module(load="omrelp")
ruleset(name="direct") { action(type="omrelp" target="127.0.0.1" port="$RECV" windowSize="1024" queue.type="LinkedList" queue.size="1000000" action.resumeRetryCount="-1") }
ruleset(name="sdt") { action(type="omrelp" target="127.0.0.1" port="${PORTS[sdt-relp-in]}" windowSize="1024" queue.type="LinkedList" queue.size="1000000" action.resumeRetryCount="-1") }
input(type="imtcp" address="127.0.0.1" port="${PORTS[rsyslog-relp]}" ruleset="direct")
input(type="imtcp" address="127.0.0.1" port="${PORTS[sdt-relp]}" ruleset="sdt")
EOF
  : > "$ROUT"
  /usr/sbin/rsyslogd -n -f "$WORK/recv.conf" -i "$WORK/recv.pid" > "$WORK/recv.log" 2>&1 & PIDS+=($!)
  /usr/sbin/rsyslogd -n -f "$WORK/send.conf" -i "$WORK/send.pid" > "$WORK/send.log" 2>&1 & PIDS+=($!)
fi
sleep 1
# one run: seconds from the first byte sent until the sink holds every byte of the file once more
lines() { wc -l < "$ROUT"; }
run() {
  local v=$1 base want t0 t1
  if [[ $v == *relp ]]; then
    base=$(lines); want=$((base + RECORDS))
    t0=$(date +%s.%N)
    socat -u FILE:"$WORK/records" TCP:127.0.0.1:${PORTS[$v]} </dev/null >/dev/null 2>&1
    for i in $(seq 1 6000); do [[ $(lines) -ge $want ]] && break; sleep 0.02; done
    t1=$(date +%s.%N)
    [[ $(lines) -eq $want ]] || { echo "push.sh: $v: the receiving rsyslog has $(( $(lines) - base )) of $RECORDS records" >&2; exit 1; }
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
    return
  fi
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
printf '%-13s %14s %10s %10s %13s\n' variant records/s MB/s vs-memory vs-rsyslog
for v in "${VARIANTS[@]}"; do
  awk -v v="$v" -v s="${BEST[$v]}" -v n="$RECORDS" -v b="$BYTES" -v m="${BEST[memory]}" -v r="${BEST[rsyslog-relp]:-0}" \
    'BEGIN { printf "%-13s %14.0f %10.1f %10.2f %13s\n", v, n / s, b / s / 1e6, m / s, (r > 0 ? sprintf("%.2f", r / s) : "-") }'
done
