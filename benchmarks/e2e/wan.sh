#!/usr/bin/env bash
# SDT WAN lab: two network namespaces joined by a user-space delay line (benchmarks' DelayLine: these
# machines have no netem), with a chosen RTT, jitter, loss and bottleneck rate.
# For each RTT and loss, through the lab alone ("direct": its ceiling), sdt -L (the defaults, plus any
# SDT_VARIANTS: sdt-fixed4m, sdt-fixed32m), ssh -L (aes128-gcm) and stunnel: iperf3 with one stream and
# four, and the interactive p99 (sockperf ping-pong, full round trip) idle and under bulk (one iperf3
# stream through another entry of the same tunnel). Optional rows: --udp MBIT (iperf3 UDP goodput and
# loss, direct and sdt -L /udp) and --router (connects per second, 16 workers: SOCKS5 through sdt -D and
# ssh -D to a target that speaks first; and to one that waits for the client's byte, through -D, sdt's
# -D ...,optimistic and -L, where early data saves a round trip). --router-only leaves out the iperf3 and
# sockperf rows. SDT_BASE=DIR with --paths "... sdt-base" adds DIR/sdt (another checkout, built), for an A/B.
# Usage (root): benchmarks/e2e/wan.sh [--rtt "0 20 100 200"] [--loss "0 0.1 1"] [--rate-mbit 1000]
#               [--duration 10] [--paths "direct sdt ssh stunnel"] [--udp MBIT] [--router] [--router-only]
# Documentation: benchmarks/README.md section 6. Needs iproute2, iperf3, python3 (sockperf, ssh and
# sshd, stunnel4 and openssl for their columns and rows; a missing one leaves them out); builds
# nothing: run ./mvnw -pl benchmarks -am package -DskipTests first.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RTTS="0 20 100 200"
LOSSES="0"
RATE=1000
DURATION=10
PATHS="direct sdt ssh stunnel"
UDP_MBIT=0
ROUTER=0
BULK=1
while (($#)); do
  case $1 in
    --rtt) RTTS=$2; shift 2 ;;
    --loss) LOSSES=$2; shift 2 ;;
    --rate-mbit) RATE=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --paths) PATHS=$2; shift 2 ;;
    --udp) UDP_MBIT=$2; shift 2 ;;
    --router) ROUTER=1; shift ;;
    --router-only) ROUTER=1; BULK=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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


# ---- what runs in the lab ------------------------------------------------------------------------
# B (10.201.0.2) runs iperf3 on :5201, sockperf on :11111 and (--router) the ConnectRate targets on
# :5401 (speaks first) and :5402 (answers the client's byte); every tunnel has entries in A:
# 127.0.0.1:5301 -> iperf3, :5311 -> sockperf, :5331 -> :5402, a SOCKS5 proxy on :1080, sdt also :5321
# TCP and UDP -> iperf3 (iperf3's UDP test has a TCP control connection on the same port) and an
# optimistic SOCKS5 proxy on :1081.
TUNNEL_PIDS=

# stop_tunnels: the tunnel processes this script started, by pid
stop_tunnels() {
  local p
  for p in $TUNNEL_PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $TUNNEL_PIDS; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  TUNNEL_PIDS=
  sleep 0.5
}

# start_sdt VARIANT SPEC...: sdt server in B (link on 10.201.0.2:7000), client in A with SPECs
start_sdt() {
  local variant=$1 args=() i sdt=$ROOT/sdt
  shift
  [[ $variant == sdt-fixed4m ]] && args=(--window 4m --window-max 4m)
  [[ $variant == sdt-fixed32m ]] && args=(--window 32m --window-max 32m)
  [[ $variant == sdt-base ]] && sdt=$SDT_BASE/sdt
  ip netns exec "$NB" "$sdt" server --listen 10.201.0.2:7000 --token-file "$WORK/token" \
    --allow-target '127.0.0.1:*' "${args[@]}" > "$WORK/sdt-server.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  for i in $(seq 1 100); do grep -q "server listening" "$WORK/sdt-server.log" && break; sleep 0.1; done
  ip netns exec "$NA" "$sdt" client --server 10.201.0.2:7000 --token-file "$WORK/token" \
    "$@" "${args[@]}" > "$WORK/sdt-client.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  for i in $(seq 1 200); do grep -q "link up" "$WORK/sdt-client.log" && break; sleep 0.1; done
  grep -q "link up" "$WORK/sdt-client.log"
}

# start_ssh: sshd in B on 10.201.0.2:2222 (fresh keys), ssh in A with the same entries as sdt (aes128-gcm)
start_ssh() {
  local d=$WORK/ssh i
  if [[ ! -d $d ]]; then
    mkdir -m 700 "$d"
    ssh-keygen -q -t ed25519 -N "" -f "$d/host" </dev/null >/dev/null
    ssh-keygen -q -t ed25519 -N "" -f "$d/id" </dev/null >/dev/null
    cp "$d/id.pub" "$d/authorized_keys"; chmod 600 "$d/authorized_keys"
    cat > "$d/sshd_config" <<EOF
Port 2222
ListenAddress 10.201.0.2
HostKey $d/host
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding yes
MaxSessions 1000
Ciphers aes128-gcm@openssh.com
EOF
    mkdir -p /run/sshd
  fi
  ip netns exec "$NB" "$(command -v sshd || echo /usr/sbin/sshd)" -D -e -f "$d/sshd_config" \
    > "$WORK/sshd.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  sleep 0.5
  ip netns exec "$NA" ssh -F /dev/null -N -T -c aes128-gcm@openssh.com -i "$d/id" -p 2222 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ExitOnForwardFailure=yes \
    -o LogLevel=ERROR -L 127.0.0.1:5301:127.0.0.1:5201 -L 127.0.0.1:5311:127.0.0.1:11111 -D 127.0.0.1:1080 \
    -L 127.0.0.1:5331:127.0.0.1:5402 \
    root@10.201.0.2 > "$WORK/ssh.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  for i in $(seq 1 100); do
    ip netns exec "$NA" ss -ltn 2>/dev/null | grep -q '127.0.0.1:1080 ' && return 0
    sleep 0.1
  done
  return 1
}

# start_stunnel: TLS server in B (10.201.0.2:7443 -> iperf3, :7444 -> sockperf), client in A
start_stunnel() {
  local d=$WORK/stunnel
  if [[ ! -d $d ]]; then
    mkdir -m 700 "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sdt-wan \
      -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1
    printf 'foreground = yes\npid =\n[iperf]\naccept = 10.201.0.2:7443\nconnect = 127.0.0.1:5201\ncert = %s\nkey = %s\n[sockperf]\naccept = 10.201.0.2:7444\nconnect = 127.0.0.1:11111\ncert = %s\nkey = %s\n' \
      "$d/cert.pem" "$d/key.pem" "$d/cert.pem" "$d/key.pem" > "$d/server.conf"
    printf 'foreground = yes\npid =\nclient = yes\n[iperf]\naccept = 127.0.0.1:5301\nconnect = 10.201.0.2:7443\n[sockperf]\naccept = 127.0.0.1:5311\nconnect = 10.201.0.2:7444\n' \
      > "$d/client.conf"
  fi
  ip netns exec "$NB" stunnel "$d/server.conf" > "$WORK/stunnel-s.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  ip netns exec "$NA" stunnel "$d/client.conf" > "$WORK/stunnel-c.log" 2>&1 3>&- &
  TUNNEL_PIDS="$TUNNEL_PIDS $!"
  sleep 1
}

gbps() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$1" 2>/dev/null || echo -; }

# p99_ms HOST PORT SECONDS: sockperf ping-pong p99 from A (full round trip where sockperf can), in ms
p99_ms() {
  local out=$WORK/sockperf.log v
  command -v sockperf >/dev/null || { echo -; return; }
  timeout $(($3 + 20)) ip netns exec "$NA" sockperf ping-pong --tcp -i "$1" -p "$2" -t "$3" "${SP_RTT[@]}" \
    > "$out" 2>&1 3>&- < /dev/null || true
  v=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | awk '/percentile 99\.000 =/ {print $NF; exit}')
  if [[ -n $v ]]; then awk -v u="$v" 'BEGIN { printf "%.2f", u / 1000 }'; else echo -; fi
}

# measure PATH HOST IPERF_PORT SOCKPERF_PORT: one row of the main table
measure() {
  local path=$1 host=$2 ip=$3 sp=$4 idle bulk bulk_pid
  ip netns exec "$NA" iperf3 -c "$host" -p "$ip" -t "$DURATION" -O 2 -J > "$WORK/s1.json" 2>/dev/null 3>&- || true
  ip netns exec "$NA" iperf3 -c "$host" -p "$ip" -t "$DURATION" -O 2 -P 4 -J > "$WORK/s4.json" 2>/dev/null 3>&- || true
  idle=$(p99_ms "$host" "$sp" "$DURATION")
  ip netns exec "$NA" iperf3 -c "$host" -p "$ip" -t $((DURATION + 6)) > "$WORK/bulk.log" 2>&1 3>&- &
  bulk_pid=$!
  sleep 3   # the bulk stream is at speed and the queues it fills are full
  bulk=$(p99_ms "$host" "$sp" "$DURATION")
  wait "$bulk_pid" 2>/dev/null || true
  printf '%-8s %-7s %-12s %10s %10s %12s %12s\n' "$RTT" "$LOSS" "$path" "$(gbps "$WORK/s1.json")" \
    "$(gbps "$WORK/s4.json")" "$idle" "$bulk" >> "$WORK/table"
  log "$(tail -1 "$WORK/table")"
}

# udp_row PATH HOST PORT: iperf3 UDP offered at UDP_MBIT in 1,400-byte datagrams: goodput and loss
udp_row() {
  ip netns exec "$NA" iperf3 -u -c "$2" -p "$3" -b "${UDP_MBIT}M" -l 1400 -t "$DURATION" -J \
    > "$WORK/u.json" 2>/dev/null 3>&- || true
  python3 -c '
import json, sys
f, rtt, loss, path, mbit = sys.argv[1:]
try:
    s = json.load(open(f))["end"]["sum"]
    print("%-8s %-7s %-12s %10s %12.3f %10.2f" % (rtt, loss, path, mbit,
          s["bits_per_second"] * (1 - s["lost_percent"] / 100) / 1e9, s["lost_percent"]))
except Exception:
    print("%-8s %-7s %-12s %10s %12s %10s" % (rtt, loss, path, mbit, "-", "-"))
' "$WORK/u.json" "$RTT" "$LOSS" "$1" "$UDP_MBIT" >> "$WORK/udp"
  log "$(tail -1 "$WORK/udp")"
}

# router_row PATH: connects per second from A, 16 workers (benchmarks/e2e/ConnectRate.java): SOCKS5 through
# 127.0.0.1:1080 to B's target that speaks first; then to B's target that waits for the client's byte
# ("request"): through :1080, through :1081 (sdt's optimistic -D, where the path has one) and through the
# -L entry :5331
router_row() {
  local kind=$1 entry=$2 target=$3 name=$4 req=${5:-} r
  r=$(timeout $((DURATION + 60)) ip netns exec "$NA" "$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/ConnectRate.java" \
    load "$kind" "$entry" "$target" 16 "$DURATION" $req 2>/dev/null 3>&- | awk '/connects_per_s/ {print $2, $6, $8}' || true)
  read -r rate failed ms <<< "${r:-- - -}"
  printf '%-8s %-7s %-26s %12s %8s %10s\n' "$RTT" "$LOSS" "$name" "$rate" "$failed" "$ms" >> "$WORK/router"
  log "$(tail -1 "$WORK/router")"
}
router_rows() {
  router_row socks5 1080 5401 "$1 -D"
  router_row socks5 1080 5402 "$1 -D request" request
  if [[ $1 == sdt ]]; then router_row socks5 1081 5402 "$1 -D,optimistic request" request; fi
  router_row direct 5331 5402 "$1 -L request" request
}

SP_RTT=()
if command -v sockperf >/dev/null && [[ $(sockperf ping-pong --help 2>&1 || true) == *--full-rtt* ]]; then
  SP_RTT=(--full-rtt)
fi
SDT_VARIANTS=${SDT_VARIANTS:-}
"$ROOT/sdt" token > "$WORK/token"
printf '%-8s %-7s %-12s %10s %10s %12s %12s\n' "rtt ms" "loss %" path "1-stream" "4-stream" \
  "p99 idle ms" "p99 bulk ms" > "$WORK/table"
printf '%-8s %-7s %-12s %10s %12s %10s\n' "rtt ms" "loss %" path "offered" "goodput Gb/s" "lost %" > "$WORK/udp"
printf '%-8s %-7s %-26s %12s %8s %10s\n' "rtt ms" "loss %" path "connects/s" "failed" "ms/connect" > "$WORK/router"
for RTT in $RTTS; do
  for LOSS in $LOSSES; do
    lab_up "$RTT" "$LOSS"
    ip netns exec "$NB" iperf3 -s -p 5201 -D --logfile "$WORK/iperf-s.log" 3>&-
    if command -v sockperf >/dev/null; then
      ip netns exec "$NB" sockperf server --tcp -i 0.0.0.0 -p 11111 > "$WORK/sockperf-s.log" 2>&1 3>&- &
    fi
    if ((ROUTER)); then
      ip netns exec "$NB" "$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/ConnectRate.java" serve 5401 \
        > "$WORK/target.log" 2>&1 3>&- &
      ip netns exec "$NB" "$JAVA_HOME/bin/java" "$ROOT/benchmarks/e2e/ConnectRate.java" serve 5402 request \
        > "$WORK/target-request.log" 2>&1 3>&- &
    fi
    sleep 1
    ping=$(command -v ping >/dev/null && ip netns exec "$NA" ping -c 3 -i 0.2 -q 10.201.0.2 | awk -F/ '/rtt/ { print $5 }' || true)
    log "rtt $RTT ms (ping says ${ping:-?} ms), loss $LOSS %"
    for path in $PATHS $SDT_VARIANTS; do
      case $path in
        direct)
          if ((!BULK)); then continue; fi
          measure direct 10.201.0.2 5201 11111
          if ((UDP_MBIT > 0)); then udp_row direct 10.201.0.2 5201; fi ;;
        sdt*)
          optimistic=(-D 127.0.0.1:1081,optimistic)
          [[ $path == sdt-base ]] && optimistic=()   # a tree from before the option
          if start_sdt "$path" -L 127.0.0.1:5301:127.0.0.1:5201 -L 127.0.0.1:5311:127.0.0.1:11111 \
              -L 127.0.0.1:5321:127.0.0.1:5201 -L 127.0.0.1:5321:127.0.0.1:5201/udp -D 127.0.0.1:1080 \
              -L 127.0.0.1:5331:127.0.0.1:5402 "${optimistic[@]}"; then
            if ((BULK)); then measure "$path" 127.0.0.1 5301 5311; fi
            if ((UDP_MBIT > 0)); then udp_row "$path" 127.0.0.1 5321; fi
            if ((ROUTER)); then router_rows "$path"; fi
          else
            log "$path did not start"; tail -5 "$WORK/sdt-client.log" >&2
          fi
          stop_tunnels ;;
        ssh)
          if ! command -v ssh >/dev/null; then log "ssh not installed: no ssh row"; continue; fi
          if start_ssh; then
            if ((BULK)); then measure ssh 127.0.0.1 5301 5311; fi
            if ((ROUTER)); then router_rows ssh; fi
          else
            log "ssh did not start"; tail -5 "$WORK/ssh.log" "$WORK/sshd.log" >&2
          fi
          stop_tunnels ;;
        stunnel)
          if ! command -v stunnel >/dev/null; then log "stunnel not installed: no stunnel row"; continue; fi
          if ((!BULK)); then continue; fi
          start_stunnel
          measure stunnel 127.0.0.1 5301 5311
          stop_tunnels ;;
        *) log "unknown path $path" ;;
      esac
    done
    lab_down
    log "delay line: $(tail -1 "$WORK/dl.out")"
  done
done
echo
echo "SDT WAN lab, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) CPU(s); bottleneck ${RATE} Mbit/s"
if ((BULK)); then
  echo "iperf3 Gbit/s received (-t $DURATION -O 2); sockperf p99 of the round trip in ms, idle and while one iperf3"
  echo "stream runs through the same tunnel"
fi
if ((BULK)); then cat "$WORK/table"; fi
if ((UDP_MBIT > 0)); then echo; cat "$WORK/udp"; fi
if ((ROUTER)); then echo; cat "$WORK/router"; fi
