#!/usr/bin/env bash
# SDT VPN lab: two network namespaces, A (client side, 192.168.77.1) and B (server side, 192.168.77.2),
# joined by a veth pair (or, with --wan, by the user-space delay line of wan.sh). For each path, from A
# to an iperf3 server in B: iperf3 TCP with one stream and with four (-P 4), and the average of 20 pings
# (0.2 s apart). Paths: veth (directly, the limit), sdt (the L3 VPN: sdt server --vpn 10.8.0.0/24 in B,
# sdt client --vpn in A, to 10.8.0.1; sdt-no-offload: the same with -Dsdt.vpn.offload=false, one IP
# packet per device read and write), wireguard-go (userspace WireGuard, MTU 1420, to 10.9.0.1) and
# openvpn (2.6, UDP, TLS with a throwaway PKI, AES-128-GCM, to 10.10.0.1) and socat (a TUN-to-UDP relay
# with no encryption and no offloads, one packet per system call: the floor of a user-space relay, to 10.11.0.1).
# Usage (root): benchmarks/e2e/vpn.sh [--duration 10] [--warmup 10] [--paths "veth sdt wireguard-go openvpn"]
#               [--wan RTT_MS,LOSS%] [--rate-mbit 1000] [--install]
# Each row: start the tunnel, wait (bounded) until a ping through it answers, an unrecorded iperf3 run of
# --warmup seconds (the JVM's JIT), iperf3 -t DURATION -O 2 with -P 1 and -P 4, 20 pings, stop the tunnel.
# Needs iproute2, iperf3, python3, ping; wireguard-go and wg (wireguard-tools) for its row; openvpn and
# openssl for its row; a built sdt (tunnel-server/target/sdt.jar) for its row; --wan needs the benchmarks
# module built (./mvnw -pl benchmarks -am package -DskipTests). --install apt-gets the missing tools.
# Documentation: benchmarks/README.md section 7.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DURATION=10
WARMUP=10
PATHS="veth sdt wireguard-go openvpn"
INSTALL=0
WAN=
RATE=1000
while (($#)); do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --paths) PATHS=$2; shift 2 ;;
    --wan) WAN=$2; shift 2 ;;
    --rate-mbit) RATE=$2; shift 2 ;;
    --install) INSTALL=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "vpn.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $DURATION =~ ^[0-9]+$ && $DURATION -gt 0 ]] || { echo "vpn.sh: --duration needs seconds > 0" >&2; exit 2; }
[[ $WARMUP =~ ^[0-9]+$ ]] || { echo "vpn.sh: --warmup needs seconds" >&2; exit 2; }
if [[ -n $WAN ]]; then
  [[ $WAN =~ ^([0-9.]+),([0-9.]+)%?$ ]] || { echo "vpn.sh: --wan needs RTT_MS,LOSS% (e.g. 20,0)" >&2; exit 2; }
  WAN_RTT=${BASH_REMATCH[1]} WAN_LOSS=${BASH_REMATCH[2]}
fi
[[ $(id -u) -eq 0 ]] || { echo "vpn.sh: needs root (network namespaces, TUN devices)" >&2; exit 2; }
log() { echo "[vpn $(date +%H:%M:%S)] $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---- tools: the missing ones, with their Debian packages; --install apt-gets them -----------------
declare -A PKG=([ip]=iproute2 [iperf3]=iperf3 [python3]=python3 [ping]=iputils-ping [ss]=iproute2
  [wireguard-go]=wireguard-go [wg]=wireguard-tools [openvpn]=openvpn [openssl]=openssl [socat]=socat)
need=(ip ss iperf3 python3 ping)
for p in $PATHS; do
  case $p in
    wireguard-go) need+=(wireguard-go wg) ;;
    openvpn) need+=(openvpn openssl) ;;
    socat) need+=(socat) ;;
  esac
done
missing=()
for t in "${need[@]}"; do have "$t" || missing+=("$t"); done
if ((${#missing[@]})) && ((INSTALL)); then
  pkgs=$(for t in "${missing[@]}"; do echo "${PKG[$t]}"; done | sort -u | tr '\n' ' ')
  log "--install: apt-get update && apt-get install -y --no-install-recommends $pkgs"
  apt-get update -q >&2
  # no recommends: wireguard-tools recommends a kernel image (for the WireGuard module)
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkgs >&2
  missing=()
  for t in "${need[@]}"; do have "$t" || missing+=("$t"); done
fi
for t in ip ss iperf3 python3 ping; do
  have "$t" || { echo "vpn.sh: needs $t (apt-get install ${PKG[$t]}, or rerun with --install)" >&2; exit 2; }
done
if [[ -n $WAN ]]; then
  [[ -d $ROOT/benchmarks/target/lib && -d $ROOT/benchmarks/target/classes ]] ||
    { echo "vpn.sh: --wan needs the delay line built: ./mvnw -pl benchmarks -am package -DskipTests" >&2; exit 2; }
  . "$ROOT/scripts/java-env.sh"
  sdt_select_jdk
fi

SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
WORK=$(mktemp -d /tmp/sdt-vpn.XXXXXX)
NA=sdtvpn-a-$SUF NB=sdtvpn-b-$SUF
# interface names are at most 15 characters; wireguard-go's control socket is /var/run/wireguard/NAME.sock,
# which the namespaces share, so the two WireGuard devices need names of their own (not wg0 twice)
VA=vpa$SUF VB=vpb$SUF WGA=wga$SUF WGB=wgb$SUF TA=swa$SUF TB=swb$SUF
DL_PID=
PIDS=        # what this script started and has not stopped yet (tunnels, iperf3 servers)

# stop_pids: end the processes in PIDS, by pid (TERM, then KILL after 5 s)
stop_pids() {
  local p
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $PIDS; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=
}

cleanup() {
  stop_pids
  # a process left in the lab's namespaces was started by this script (the names are this run's)
  ip netns pids "$NA" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids "$NB" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  if [[ -n $DL_PID ]]; then
    exec 3>&- || true   # the delay line's standard input closes: it prints its summary and exits
    for _ in $(seq 1 50); do kill -0 "$DL_PID" 2>/dev/null || break; sleep 0.1; done
    kill "$DL_PID" 2>/dev/null || true
    wait "$DL_PID" 2>/dev/null || true
    DL_PID=
  fi
  ip netns del "$NA" 2>/dev/null || true
  ip netns del "$NB" 2>/dev/null || true
  rm -f "/var/run/wireguard/$WGA.sock" "/var/run/wireguard/$WGB.sock"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the lab: A 192.168.77.1/24 and B 192.168.77.2/24, over a veth pair or the delay line ---------
lab_up() {
  ip netns add "$NA"; ip netns add "$NB"
  for ns in "$NA" "$NB"; do ip -n "$ns" link set lo up; done
  if [[ -z $WAN ]]; then
    ip link add "$VA" netns "$NA" type veth peer name "$VB" netns "$NB"
    LA=$VA LB=$VB
  else
    local oneway queue
    oneway=$(awk -v r="$WAN_RTT" 'BEGIN { print r / 2 }')
    queue=$(awk -v r="$WAN_RTT" -v m="$RATE" 'BEGIN { q = m * 1e6 / 8 * r / 1000; print (q > 1048576 ? int(q) : 1048576) }')
    mkfifo "$WORK/dl.in"
    "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
      -cp "$ROOT/benchmarks/target/classes:$ROOT/benchmarks/target/lib/*" io.sdt.bench.wan.DelayLine \
      "$TA" "$TB" "$oneway" 0 "$WAN_LOSS" "$RATE" "$queue" < "$WORK/dl.in" > "$WORK/dl.out" 2> "$WORK/dl.err" &
    DL_PID=$!
    exec 3> "$WORK/dl.in"
    for _ in $(seq 1 100); do grep -q ready "$WORK/dl.out" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$WORK/dl.out" || { cat "$WORK/dl.err" >&2; echo "vpn.sh: the delay line did not start" >&2; exit 1; }
    ip link set "$TA" netns "$NA"; ip link set "$TB" netns "$NB"
    LA=$TA LB=$TB
    # large socket buffers, as one would set for a long fat path (as wan.sh does)
    for ns in "$NA" "$NB"; do
      ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 67108864" net.ipv4.tcp_wmem="4096 16384 67108864"
    done
  fi
  ip -n "$NA" addr add 192.168.77.1/24 dev "$LA"; ip -n "$NB" addr add 192.168.77.2/24 dev "$LB"
  ip -n "$NA" link set "$LA" up; ip -n "$NB" link set "$LB" up
}

# alive PID...: all of them still run
alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done; }

# wait_ping ADDR SECONDS PID...: until one ping from A to ADDR answers; fails early if a PID ended
wait_ping() {
  local addr=$1 secs=$2 end
  shift 2
  end=$((SECONDS + secs))
  while ((SECONDS < end)); do
    ip netns exec "$NA" ping -c 1 -W 1 -q "$addr" >/dev/null 2>&1 3>&- && return 0
    alive "$@" || return 1
    sleep 0.2
  done
  return 1
}

# ---- the tunnels: each start_X starts both ends (pids into PIDS) and returns once a ping answers ----
start_sdt() {
  local jar=$ROOT/tunnel-server/target/sdt.jar s c opts="${SDT_JAVA_OPTS:-} ${1:-}"
  [[ -f $jar && -d $ROOT/tunnel-server/target/lib ]] ||
    { WHY="no built sdt ($jar; build it with ./mvnw -B -q -DskipTests -pl tunnel-server -am install)"; return 1; }
  [[ -s $WORK/token ]] || "$ROOT/sdt" token > "$WORK/token" 2> "$WORK/token.err" 3>&- ||
    { WHY="sdt token failed: $(tail -1 "$WORK/token.err")"; return 1; }
  ip netns exec "$NB" env SDT_JAVA_OPTS="$opts" "$ROOT/sdt" server --listen 192.168.77.2:7000 --token-file "$WORK/token" \
    --vpn 10.8.0.0/24 > "$WORK/sdt-server.log" 2>&1 3>&- &
  s=$!; PIDS="$PIDS $s"
  for _ in $(seq 1 300); do grep -q "server listening" "$WORK/sdt-server.log" && break; alive $s || break; sleep 0.1; done
  grep -q "server listening" "$WORK/sdt-server.log" ||
    { WHY="sdt server did not start: $(tail -1 "$WORK/sdt-server.log")"; return 1; }
  ip netns exec "$NA" env SDT_JAVA_OPTS="$opts" "$ROOT/sdt" client --server 192.168.77.2:7000 --token-file "$WORK/token" --vpn \
    > "$WORK/sdt-client.log" 2>&1 3>&- &
  c=$!; PIDS="$PIDS $c"
  wait_ping 10.8.0.1 60 $s $c || { WHY="no ping through sdt: $(tail -1 "$WORK/sdt-client.log")"; return 1; }
  log "$(grep -m1 -o 'VPN device.*' "$WORK/sdt-client.log" || true)"
}

start_wireguard() {
  local d=$WORK/wg a b
  mkdir -m 700 -p "$d"
  ( umask 077; wg genkey > "$d/a.key"; wg genkey > "$d/b.key" )
  wg pubkey < "$d/a.key" > "$d/a.pub"; wg pubkey < "$d/b.key" > "$d/b.pub"
  ip netns exec "$NB" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WGB" > "$WORK/wg-b.log" 2>&1 3>&- &
  b=$!; PIDS="$PIDS $b"
  ip netns exec "$NA" env WG_PROCESS_FOREGROUND=1 wireguard-go "$WGA" > "$WORK/wg-a.log" 2>&1 3>&- &
  a=$!; PIDS="$PIDS $a"
  for _ in $(seq 1 100); do
    [[ -S /var/run/wireguard/$WGA.sock && -S /var/run/wireguard/$WGB.sock ]] && break
    alive $a $b || break; sleep 0.1
  done
  [[ -S /var/run/wireguard/$WGA.sock && -S /var/run/wireguard/$WGB.sock ]] ||
    { WHY="wireguard-go did not start: $(tail -1 "$WORK/wg-a.log")"; return 1; }
  ip netns exec "$NB" wg set "$WGB" private-key "$d/b.key" listen-port 51820 \
    peer "$(cat "$d/a.pub")" allowed-ips 10.9.0.2/32
  ip netns exec "$NA" wg set "$WGA" private-key "$d/a.key" \
    peer "$(cat "$d/b.pub")" allowed-ips 10.9.0.1/32 endpoint 192.168.77.2:51820
  ip -n "$NB" addr add 10.9.0.1/24 dev "$WGB"; ip -n "$NA" addr add 10.9.0.2/24 dev "$WGA"
  ip -n "$NB" link set "$WGB" mtu 1420 up; ip -n "$NA" link set "$WGA" mtu 1420 up
  wait_ping 10.9.0.1 20 $a $b || { WHY="no ping through wireguard-go: $(tail -1 "$WORK/wg-a.log")"; return 1; }
}

start_socat() {
  local a b
  ip netns exec "$NB" socat TUN:10.11.0.1/24,tun-name=socb,iff-no-pi,iff-up \
    UDP:192.168.77.1:5556,bind=192.168.77.2:5555 > "$WORK/socat-b.log" 2>&1 3>&- &
  b=$!; PIDS="$PIDS $b"
  ip netns exec "$NA" socat TUN:10.11.0.2/24,tun-name=soca,iff-no-pi,iff-up \
    UDP:192.168.77.2:5555,bind=192.168.77.1:5556 > "$WORK/socat-a.log" 2>&1 3>&- &
  a=$!; PIDS="$PIDS $a"
  for _ in $(seq 1 50); do ip -n "$NA" link show soca >/dev/null 2>&1 && ip -n "$NB" link show socb >/dev/null 2>&1 && break; sleep 0.1; done
  # 1472 + 28 bytes of UDP/IPv4 fit the veth's 1500: no fragments
  ip -n "$NA" link set soca mtu 1472 2>/dev/null; ip -n "$NB" link set socb mtu 1472 2>/dev/null
  wait_ping 10.11.0.1 20 $a $b || { WHY="no ping through socat: $(tail -1 "$WORK/socat-a.log")"; return 1; }
}

start_openvpn() {
  local d=$WORK/ovpn s c common
  if [[ ! -d $d ]]; then
    mkdir -m 700 "$d"
    ( cd "$d"
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=sdt-vpn-ca \
        -keyout ca.key -out ca.pem
      for n in server client; do
        printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyAgreement\nextendedKeyUsage=%s\n' \
          "$([[ $n == server ]] && echo serverAuth || echo clientAuth)" > $n.ext
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=sdt-vpn-$n -keyout $n.key -out $n.csr
        openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile $n.ext -out $n.pem
      done ) > "$WORK/pki.log" 2>&1 || { WHY="openssl could not make the PKI: $(tail -1 "$WORK/pki.log")"; return 1; }
  fi
  common=(--dev tun --proto udp --cipher AES-128-GCM --data-ciphers AES-128-GCM --disable-dco
          --ca "$d/ca.pem" --dh none --verb 3 --ping 10)
  ip netns exec "$NB" openvpn "${common[@]}" --tls-server --local 192.168.77.2 --lport 1194 \
    --ifconfig 10.10.0.1 10.10.0.2 --cert "$d/server.pem" --key "$d/server.key" \
    > "$WORK/ovpn-s.log" 2>&1 3>&- &
  s=$!; PIDS="$PIDS $s"
  ip netns exec "$NA" openvpn "${common[@]}" --tls-client --remote 192.168.77.2 1194 --nobind \
    --remote-cert-tls server --ifconfig 10.10.0.2 10.10.0.1 --cert "$d/client.pem" --key "$d/client.key" \
    > "$WORK/ovpn-c.log" 2>&1 3>&- &
  c=$!; PIDS="$PIDS $c"
  wait_ping 10.10.0.1 30 $s $c || { WHY="no ping through openvpn: $(tail -1 "$WORK/ovpn-c.log")"; return 1; }
  log "$(grep -m1 -o 'Data Channel: cipher.*' "$WORK/ovpn-c.log" || grep -m1 -o 'Outgoing Data Channel.*' "$WORK/ovpn-c.log" || true)"
}

# ---- one row ------------------------------------------------------------------------------------
gbps() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%.3f" % (d["end"]["sum_received"]["bits_per_second"]/1e9))' "$1" 2>/dev/null || echo -; }

# measure NAME ADDR: iperf3 server in B bound to ADDR; warm-up, -P 1, -P 4, then 20 pings
measure() {
  local name=$1 addr=$2 srv ping
  ip netns exec "$NB" iperf3 -s -B "$addr" -p 5201 > "$WORK/iperf-s.log" 2>&1 3>&- &
  srv=$!; PIDS="$PIDS $srv"
  for _ in $(seq 1 50); do ip netns exec "$NB" ss -ltn 2>/dev/null | grep -q "$addr:5201 " && break; sleep 0.1; done
  if ((WARMUP > 0)); then
    timeout $((WARMUP + 30)) ip netns exec "$NA" iperf3 -c "$addr" -p 5201 -t "$WARMUP" > "$WORK/warmup.log" 2>&1 3>&- || true
    sleep 1
  fi
  timeout $((DURATION + 40)) ip netns exec "$NA" iperf3 -c "$addr" -p 5201 -t "$DURATION" -O 2 -J \
    > "$WORK/p1.json" 2>/dev/null 3>&- || true
  sleep 1
  timeout $((DURATION + 40)) ip netns exec "$NA" iperf3 -c "$addr" -p 5201 -t "$DURATION" -O 2 -P 4 -J \
    > "$WORK/p4.json" 2>/dev/null 3>&- || true
  sleep 1
  ping=$(ip netns exec "$NA" ping -c 20 -i 0.2 -q "$addr" 2>/dev/null 3>&- | awk -F/ '/^rtt|^round-trip/ { print $5 }' || true)
  R1[$name]=$(gbps "$WORK/p1.json"); R4[$name]=$(gbps "$WORK/p4.json"); RP[$name]=${ping:--}
  log "$name: ${R1[$name]} Gbit/s 1 stream, ${R4[$name]} Gbit/s 4 streams, ping ${RP[$name]} ms"
}

declare -A R1 R4 RP SKIP
ROWS=()
lab_up
ping=$(ip netns exec "$NA" ping -c 3 -i 0.2 -q 192.168.77.2 3>&- | awk -F/ '/^rtt/ { print $5 }' || true)
log "lab up: $NA (192.168.77.1) <-> $NB (192.168.77.2) over ${WAN:+the delay line, }${WAN:-veth}, ping ${ping:-?} ms"
for path in $PATHS; do
  WHY=
  case $path in
    veth|direct)
      path=$([[ -n $WAN ]] && echo direct || echo veth)
      ROWS+=("$path"); measure "$path" 192.168.77.2 ;;
    sdt)
      ROWS+=(sdt)
      if start_sdt; then measure sdt 10.8.0.1; else SKIP[sdt]=$WHY; fi ;;
    sdt-no-offload)
      ROWS+=(sdt-no-offload)
      if start_sdt -Dsdt.vpn.offload=false; then measure sdt-no-offload 10.8.0.1; else SKIP[sdt-no-offload]=$WHY; fi ;;
    wireguard-go)
      ROWS+=(wireguard-go)
      if ! have wireguard-go || ! have wg; then
        SKIP[wireguard-go]="wireguard-go or wg not installed (apt-get install wireguard-go wireguard-tools, or --install)"
      elif start_wireguard; then measure wireguard-go 10.9.0.1; else SKIP[wireguard-go]=$WHY; fi ;;
    socat)
      ROWS+=(socat)
      if ! have socat; then SKIP[socat]="socat not installed (apt-get install socat, or --install)"
      elif start_socat; then measure socat 10.11.0.1; else SKIP[socat]=$WHY; fi ;;
    openvpn)
      ROWS+=(openvpn)
      if ! have openvpn || ! have openssl; then
        SKIP[openvpn]="openvpn or openssl not installed (apt-get install openvpn openssl, or --install)"
      elif start_openvpn; then measure openvpn 10.10.0.1; else SKIP[openvpn]=$WHY; fi ;;
    *) log "unknown path $path (known: veth sdt sdt-no-offload wireguard-go openvpn socat)"; continue ;;
  esac
  [[ -n ${SKIP[${ROWS[-1]}]:-} ]] && log "${ROWS[-1]}: skipped: ${SKIP[${ROWS[-1]}]}"
  stop_pids
  sleep 1
done

echo
if [[ -n $WAN ]]; then
  link="the user-space delay line (RTT $WAN_RTT ms, loss $WAN_LOSS %, ${RATE} Mbit/s)"
else
  link="a veth pair"
fi
echo "SDT VPN lab, $(date -u '+%Y-%m-%d %H:%M:%SZ'), $(nproc) CPU(s), kernel $(uname -r); A and B over $link;"
echo "iperf3 TCP A -> B, Gbit/s received (-t $DURATION -O 2, after ${WARMUP} s of warm-up); ping: average of 20, 0.2 s apart"
printf '%-14s %14s %14s %12s\n' path "1-stream Gb/s" "4-stream Gb/s" "ping avg ms"
for r in "${ROWS[@]}"; do
  if [[ -n ${SKIP[$r]:-} ]]; then
    printf '%-14s %14s %14s %12s   (skipped: %s)\n' "$r" - - - "${SKIP[$r]}"
  else
    printf '%-14s %14s %14s %12s\n' "$r" "${R1[$r]}" "${R4[$r]}" "${RP[$r]}"
  fi
done
if [[ -n ${R1[sdt]:-} && ${R1[sdt]} != - ]]; then
  for r in "${ROWS[@]}"; do
    [[ $r == sdt || -z ${R1[$r]:-} || ${R1[$r]} == - ]] && continue
    awk -v s1="${R1[sdt]}" -v o1="${R1[$r]}" -v s4="${R4[sdt]}" -v o4="${R4[$r]}" -v n="$r" 'BEGIN {
      r4 = (s4 != "-" && o4 + 0 > 0) ? sprintf("%.2f", s4 / o4) : "-"
      if (o1 + 0 > 0) printf "sdt/%-13s %5.2f (1 stream), %s (4 streams)\n", n ":", s1 / o1, r4 }'
  done
fi
