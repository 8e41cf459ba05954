#!/usr/bin/env bash
# TCP throughput of one connection through udp-encap-tun between two network namespaces, beside the
# same connection over the plain veth, in the same run. Needs root, ip, iperf3, python3 and the built
# jar (tunnel-server/target/sdt.jar). Installs nothing unless --install is given. Removes the
# namespaces and processes it made, also on failure or Ctrl-C. Documentation: docs/UDP-ENCAP-TUN.md.
#
#   S (server ns): veth vs 10.77.0.1 (encapsulated path) + 10.77.0.11 (plain path), TUN tuns 10.88.0.1/24
#   C (client ns): veth vc 10.77.0.2, TUN tunc 10.66.0.2/32, route 10.77.0.1/32 dev tunc
#   iperf3 -s in S; iperf3 -c 10.77.0.1 goes through the encapsulation, -c 10.77.0.11 over the veth.
set -euo pipefail

DURATION=10      # seconds per measurement
OMIT=2           # iperf3 --omit: seconds of slow start not counted
ROUNDS=2         # alternating rounds; the table shows the median
TUN_MTU=1400
VETH_MTU=1500
INSTALL=0
OFFLOAD=1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

usage() {
  cat <<USAGE
usage: benchmarks/e2e/encap.sh [options]
  --duration S    seconds per measurement (default $DURATION)
  --rounds N      rounds per path, alternating; the table shows the median (default $ROUNDS)
  --tun-mtu N     MTU of both TUNs (default $TUN_MTU; at most veth MTU - 8 avoids fragmentation)
  --veth-mtu N    MTU of the veth pair (default $VETH_MTU)
  --no-offload    run both programs with -Dsdt.encap.offload=false (one packet per TUN read and write)
  --install       apt-get install iperf3 if it is missing (only when given)
  -h, --help      this text
USAGE
}
die() { echo "encap.sh: $*" >&2; exit 2; }
log() { echo "[encap $(date +%H:%M:%S)] $*" >&2; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--duration needs seconds"; DURATION=$2; shift 2 ;;
    --rounds)   [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a number"; ROUNDS=$2; shift 2 ;;
    --tun-mtu)  [[ ${2:-} =~ ^[0-9]+$ ]] || die "--tun-mtu needs a number"; TUN_MTU=$2; shift 2 ;;
    --veth-mtu) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--veth-mtu needs a number"; VETH_MTU=$2; shift 2 ;;
    --install)  INSTALL=1; shift ;;
    --no-offload) OFFLOAD=0; shift ;;
    -h|--help)  usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, TUN devices)"
[[ -e /dev/net/tun ]] || die "/dev/net/tun is missing"
command -v ip >/dev/null || die "ip (iproute2) is missing"
command -v python3 >/dev/null || die "python3 is missing"
if ! command -v iperf3 >/dev/null; then
  if [[ $INSTALL -eq 1 ]]; then
    apt-get install -y iperf3 >&2
  else
    die "iperf3 is missing (give --install to apt-get install it)"
  fi
fi
[[ -f $ROOT/tunnel-server/target/sdt.jar && -d $ROOT/tunnel-server/target/lib ]] \
  || die "tunnel-server/target/sdt.jar is missing: build first (./mvnw -q install -DskipTests)"

SFX=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
NS_S=sdtb-s-$SFX
NS_C=sdtb-c-$SFX
WORK=$(mktemp -d /tmp/sdt-encap-bench.XXXXXX)
PIDS=()
NAMESPACES=()
cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

await_line() { # FILE REGEX: waits up to 30 s for a matching line
  for _ in $(seq 300); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $1:" >&2; tail -20 "$1" >&2
  die "no line matching '$2' in $1"
}

log "namespaces $NS_S and $NS_C"
ip netns add "$NS_S"; NAMESPACES+=("$NS_S")
ip netns add "$NS_C"; NAMESPACES+=("$NS_C")
ip link add vs netns "$NS_S" mtu "$VETH_MTU" type veth peer name vc netns "$NS_C" mtu "$VETH_MTU"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" addr add 10.77.0.1/24 dev vs
ip -n "$NS_S" addr add 10.77.0.11/24 dev vs
ip -n "$NS_S" link set vs up
ip -n "$NS_C" addr add 10.77.0.2/24 dev vc
ip -n "$NS_C" link set vc up
ip netns exec "$NS_C" sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.vc.rp_filter=2
printf 'bench-secret-%s-0123456789abcdef\n' "$SFX" > "$WORK/secret"
((OFFLOAD)) || export SDT_JAVA_OPTS="${SDT_JAVA_OPTS:-} -Dsdt.encap.offload=false"

ip -n "$NS_S" tuntap add dev tuns mode tun
ip -n "$NS_S" addr add 10.88.0.1/24 dev tuns
ip -n "$NS_S" link set tuns mtu "$TUN_MTU" up
SDT_LOG_LEVEL=info ip netns exec "$NS_S" "$ROOT/udp-encap-tun" --interface tuns --listen-port 12345 \
  --bind-to-interface vs --secret-file "$WORK/secret" > "$WORK/server.log" 2>&1 &
PIDS+=($!)
SDT_LOG_LEVEL=info ip netns exec "$NS_C" "$ROOT/udp-encap-tun" --interface tunc --listen-port 12345 \
  --bind-to-interface vc --endpoint-port 12345 --secret-file "$WORK/secret" > "$WORK/client.log" 2>&1 &
PIDS+=($!)
await_line "$WORK/server.log" 'udp-encap-tun server: TUN tuns'
await_line "$WORK/client.log" 'udp-encap-tun client: TUN tunc'
ip -n "$NS_C" addr add 10.66.0.2/32 dev tunc
ip -n "$NS_C" link set tunc mtu "$TUN_MTU" up
ip -n "$NS_C" route add 10.77.0.1/32 dev tunc src 10.66.0.2
await_line "$WORK/client.log" 'TUN tunc: first IPv4 address 10.66.0.2'

ip netns exec "$NS_S" iperf3 -s -p 5201 > "$WORK/iperf-server.log" 2>&1 &
PIDS+=($!)
sleep 1

cpu_ticks() { # PID: utime+stime in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
measure() { # ADDRESS -> prints "Mbit/s retransmits server-cpu% client-cpu%"
  local s0 c0 s1 c1 json
  s0=$(cpu_ticks "${PIDS[0]}"); c0=$(cpu_ticks "${PIDS[1]}")
  json=$(timeout $((DURATION + OMIT + 30)) ip netns exec "$NS_C" iperf3 -c "$1" -p 5201 -t "$DURATION" -O "$OMIT" -J)
  s1=$(cpu_ticks "${PIDS[0]}"); c1=$(cpu_ticks "${PIDS[1]}")
  python3 - "$json" $((s1 - s0)) $((c1 - c0)) "$((DURATION + OMIT))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
if "error" in r:
    sys.exit("iperf3: " + r["error"])
e = r["end"]
secs, hz = float(sys.argv[4]), int(sys.argv[5])
print("%.0f %d %.0f %.0f" % (e["sum_received"]["bits_per_second"] / 1e6, e["sum_sent"].get("retransmits", 0),
                             100.0 * int(sys.argv[2]) / hz / secs, 100.0 * int(sys.argv[3]) / hz / secs))
PY
}

log "warm-up through the encapsulation (authentication, JIT)"
timeout 40 ip netns exec "$NS_C" iperf3 -c 10.77.0.1 -p 5201 -t 3 > /dev/null
PLAIN=()
ENCAP=()
for r in $(seq "$ROUNDS"); do
  log "round $r/$ROUNDS: plain veth (10.77.0.11)"
  PLAIN+=("$(measure 10.77.0.11)")
  log "round $r/$ROUNDS: udp-encap-tun (10.77.0.1)"
  ENCAP+=("$(measure 10.77.0.1)")
done

median() { # FIELD ROWS...: median of column FIELD (1-based)
  local f=$1; shift
  printf '%s\n' "$@" | awk -v f="$f" '{print $f}' | sort -n \
    | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f", m}'
}
pm=$(median 1 "${PLAIN[@]}")
em=$(median 1 "${ENCAP[@]}")
echo
echo "One TCP connection, iperf3 client -> server, ${DURATION} s measured after ${OMIT} s omitted, median of $ROUNDS"
echo "$(nproc) CPUs, kernel $(uname -r), veth MTU $VETH_MTU, TUN MTU $TUN_MTU, TUN offloads $( ((OFFLOAD)) && echo on || echo off)"
echo "samples: Mbit/s retransmits cpu%-of-server-program cpu%-of-client-program"
printf '%-22s %10s %8s  %s\n' path Mbit/s retrans samples
printf '%-22s %10s %8s  %s\n' "plain veth" "$pm" "$(median 2 "${PLAIN[@]}")" "$(IFS='|'; echo "${PLAIN[*]}")"
printf '%-22s %10s %8s  %s\n' "udp-encap-tun" "$em" "$(median 2 "${ENCAP[@]}")" "$(IFS='|'; echo "${ENCAP[*]}")"
python3 -c 'import sys; p, e = float(sys.argv[1]), float(sys.argv[2]); print("%-22s %10.3f" % ("ratio encap/plain", e / p if p else 0))' "$pm" "$em"
echo
echo "server: $(grep -o 'counters: .*' "$WORK/server.log" | tail -1)"
echo "client: $(grep -o 'counters: .*' "$WORK/client.log" | tail -1)"
