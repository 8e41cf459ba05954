#!/usr/bin/env bash
# SDT end-to-end benchmark harness: iperf3 throughput and sockperf latency through
# direct / socat / ssh -L / stunnel / sdt -L, all on 127.0.0.1, in interleaved rounds.
# Documentation: benchmarks/README.md.  Installs nothing unless --install is given.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

ALL_PATHS=(direct socat ssh stunnel sdt)

# ---- defaults (each also settable from the environment) ---------------------------------------
DURATION=${BENCH_DURATION:-10}        # seconds per iperf3 / sockperf measurement
ROUNDS=${BENCH_ROUNDS:-2}             # interleaved rounds; the table shows the median
WARMUP=${BENCH_WARMUP:-2}             # seconds of unrecorded iperf3 traffic per path before round 1
OMIT=${BENCH_OMIT:-1}                 # iperf3 -O: leading seconds left out of each measurement
PAUSE=${BENCH_PAUSE:-1}               # seconds of idle between two measurements
ONLY=${BENCH_ONLY:-}                  # comma list of paths
BASE_PORT=${BENCH_BASE_PORT:-}        # first port to try; default: random in 20000-28999
SDT_CMD=${SDT_CMD:-$REPO_ROOT/sdt}    # how to run sdt (may contain arguments)
SDT_TRANSPORT=${SDT_TRANSPORT:-}      # --transport for both sdt ends (empty: sdt's default)
SDT_TIMEOUT=${SDT_START_TIMEOUT:-60}  # seconds allowed for `sdt token` and for each sdt end to bind
SDT_SERVER_ARGS=${SDT_SERVER_ARGS:-}  # extra words appended to `sdt server`
SDT_CLIENT_ARGS=${SDT_CLIENT_ARGS:-}  # extra words appended to `sdt client`
PIN_LOAD=${BENCH_PIN_LOAD:-}          # CPU list for iperf3/sockperf (taskset -c); empty: no pinning
PIN_TUNNEL=${BENCH_PIN_TUNNEL:-}      # CPU list for the tunnel processes; empty: no pinning
OUT_FILE=${BENCH_OUT:-}               # also write the report and raw samples to this file
INSTALL=0
START_TIMEOUT=15                      # seconds for non-sdt helpers (sshd, socat, ...) to bind

usage() {
  cat <<EOF
usage: benchmarks/e2e/run.sh [options]

  --duration S        seconds per measurement (default $DURATION)
  --rounds N          interleaved rounds; the table reports the median (default $ROUNDS)
  --only LIST         comma list of paths out of: ${ALL_PATHS[*]} (default: all)
  --sdt CMD           command that runs sdt (default: $REPO_ROOT/sdt)
  --transport T       sdt --transport for both ends (auto|io_uring|epoll|nio)
  --warmup S          unrecorded iperf3 seconds per path before round 1 (default $WARMUP; 0 = none)
  --base-port P       first port to probe for free ports (default: random in 20000-28999)
  --pin-load CPUS     run iperf3/sockperf under 'taskset -c CPUS' (default: no pinning)
  --pin-tunnel CPUS   run the tunnel processes under 'taskset -c CPUS' (default: no pinning)
  --out FILE          also write the report and the raw samples to FILE
  --install           apt-get install the missing tools first (only when given)
  -h, --help          this text

Environment: BENCH_DURATION BENCH_ROUNDS BENCH_ONLY BENCH_WARMUP BENCH_OMIT BENCH_PAUSE
BENCH_BASE_PORT BENCH_PIN_LOAD BENCH_PIN_TUNNEL BENCH_OUT SDT_CMD SDT_TRANSPORT
SDT_START_TIMEOUT SDT_SERVER_ARGS SDT_CLIENT_ARGS SDT_TOKEN (use this token instead of 'sdt token').
EOF
}

die() { echo "run.sh: $*" >&2; exit 2; }
log() { echo "[e2e $(date +%H:%M:%S)] $*" >&2; }

need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --duration)   need_arg "$@"; DURATION=$2; shift 2 ;;
    --rounds)     need_arg "$@"; ROUNDS=$2; shift 2 ;;
    --only)       need_arg "$@"; ONLY=$2; shift 2 ;;
    --sdt)        need_arg "$@"; SDT_CMD=$2; shift 2 ;;
    --transport)  need_arg "$@"; SDT_TRANSPORT=$2; shift 2 ;;
    --warmup)     need_arg "$@"; WARMUP=$2; shift 2 ;;
    --base-port)  need_arg "$@"; BASE_PORT=$2; shift 2 ;;
    --pin-load)   need_arg "$@"; PIN_LOAD=$2; shift 2 ;;
    --pin-tunnel) need_arg "$@"; PIN_TUNNEL=$2; shift 2 ;;
    --out)        need_arg "$@"; OUT_FILE=$2; shift 2 ;;
    --install)    INSTALL=1; shift ;;
    -h|--help)    usage; exit 0 ;;
    --*=*)        set -- "${1%%=*}" "${1#*=}" "${@:2}" ;;
    *)            usage >&2; die "unknown argument: $1" ;;
  esac
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$DURATION" && ((DURATION >= 1)) || die "--duration: expected a whole number of seconds >= 1, got '$DURATION'"
is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 100)) || die "--rounds: expected 1..100, got '$ROUNDS'"
is_uint "$WARMUP" || die "--warmup: expected a whole number of seconds, got '$WARMUP'"
is_uint "$OMIT" || die "BENCH_OMIT: expected a whole number of seconds, got '$OMIT'"
is_uint "$PAUSE" || die "BENCH_PAUSE: expected a whole number of seconds, got '$PAUSE'"
is_uint "$SDT_TIMEOUT" && ((SDT_TIMEOUT >= 1)) || die "SDT_START_TIMEOUT: expected seconds >= 1"
if [[ -n $BASE_PORT ]]; then
  is_uint "$BASE_PORT" && ((BASE_PORT >= 1024 && BASE_PORT <= 64000)) || die "--base-port: expected 1024..64000"
fi
case $SDT_TRANSPORT in ''|auto|io_uring|epoll|nio) ;; *) die "--transport: expected auto|io_uring|epoll|nio, got '$SDT_TRANSPORT'" ;; esac

PATHS=()
if [[ -z $ONLY ]]; then
  PATHS=("${ALL_PATHS[@]}")
else
  IFS=, read -ra wanted <<<"$ONLY"
  for w in "${wanted[@]}"; do
    [[ -z $w ]] && continue
    [[ " ${ALL_PATHS[*]} " == *" $w "* ]] || die "--only: unknown path '$w' (expected some of: ${ALL_PATHS[*]})"
    [[ " ${PATHS[*]} " == *" $w "* ]] || PATHS+=("$w")
  done
  ((${#PATHS[@]} > 0)) || die "--only: no path given"
fi

# ---- tool check (and, only with --install, apt-get install) ------------------------------------
SSHD_BIN='' STUNNEL_BIN='' JSON_TOOL=''
find_tools() {
  SSHD_BIN=
  local c
  for c in "$(command -v sshd 2>/dev/null || true)" /usr/sbin/sshd /usr/local/sbin/sshd; do
    if [[ -n $c && $c == /* && -x $c ]]; then SSHD_BIN=$c; break; fi
  done
  STUNNEL_BIN=$(command -v stunnel 2>/dev/null || command -v stunnel4 2>/dev/null || true)
  JSON_TOOL=
  if command -v jq >/dev/null 2>&1; then JSON_TOOL=jq
  elif command -v python3 >/dev/null 2>&1; then JSON_TOOL=python3; fi
}
have() { command -v "$1" >/dev/null 2>&1; }
have_java() { have java || [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME:-}/bin/java ]]; }

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

MISSING=$(missing_tools)
if [[ -n $MISSING ]]; then
  pkgs=$(awk '$2 != "-" {print $2}' <<<"$MISSING" | sort -u | paste -sd' ')
  log "missing tools: $(awk '{print $1}' <<<"$MISSING" | paste -sd' ')"
  [[ -n $pkgs ]] && log "  apt packages: $pkgs (sudo apt-get install $pkgs, or rerun with --install)"
  grep -q '^java ' <<<"$MISSING" && log "  java: install a JDK 25 (e.g. temurin-25-jdk) or set JAVA_HOME"
  if ((INSTALL)) && [[ -n $pkgs ]]; then
    SUDO=()
    if [[ $(id -u) -ne 0 ]]; then have sudo || die "--install needs root or sudo"; SUDO=(sudo); fi
    log "--install: apt-get update && apt-get install -y $pkgs"
    "${SUDO[@]}" apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y $pkgs
    MISSING=$(missing_tools)
    [[ -n $MISSING ]] && log "still missing: $(awk '{print $1}' <<<"$MISSING" | paste -sd' ')"
  fi
else
  log "all tools present"
fi
find_tools   # missing_tools ran in a subshell: set SSHD_BIN, STUNNEL_BIN, JSON_TOOL here

HAVE_IPERF=0 HAVE_SOCKPERF=0
have iperf3 && [[ -n $JSON_TOOL ]] && HAVE_IPERF=1
have sockperf && HAVE_SOCKPERF=1
((HAVE_IPERF || HAVE_SOCKPERF)) || die "neither iperf3 (with jq or python3) nor sockperf is usable: nothing to measure"
((HAVE_IPERF)) || log "note: iperf3 (or jq/python3) missing: throughput columns will be empty"
((HAVE_SOCKPERF)) || log "note: sockperf missing: latency columns will be empty"

PIN_LOAD_CMD=() PIN_TUNNEL_CMD=()
if [[ -n $PIN_LOAD || -n $PIN_TUNNEL ]]; then have taskset || die "--pin-*: taskset not found (util-linux)"; fi
[[ -n $PIN_LOAD ]] && PIN_LOAD_CMD=(taskset -c "$PIN_LOAD")
[[ -n $PIN_TUNNEL ]] && PIN_TUNNEL_CMD=(taskset -c "$PIN_TUNNEL")

SOCKPERF_RTT=()
SOCKPERF_KIND="half RTT (sockperf default)"
if ((HAVE_SOCKPERF)); then
  sp_help=$(sockperf ping-pong --help 2>&1 || true)   # not piped into grep -q: SIGPIPE + pipefail
  if [[ $sp_help == *--full-rtt* ]]; then SOCKPERF_RTT=(--full-rtt); SOCKPERF_KIND="full RTT"; fi
fi

# ---- process tracking and cleanup ---------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdt-e2e.XXXXXX")
PIDS=()            # every background process this script started, in start order
CREATED_RUN_SSHD=0

# Stops one process we started: TERM to its own process group (it was started under setsid,
# so the group id is its pid and holds its children, e.g. a java child of a launcher script),
# then TERM to the pid, a bounded wait, then KILL.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  [[ -n ${FG_PID:-} ]] && stop_pid "$FG_PID"
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  ((CREATED_RUN_SSHD)) && rmdir /run/sshd 2>/dev/null || true
  [[ -n ${WORK:-} && -d $WORK ]] && rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_bg NAME LOGFILE CMD...   -> sets LAST_PID
start_bg() {
  local name=$1 logf=$2
  shift 2
  setsid "$@" </dev/null >"$logf" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  log "started $name (pid $LAST_PID)"
}

# run_fg CMD...: runs a bounded foreground command as a tracked child and waits for it; `wait`
# (unlike a plain foreground command) returns at once when this script gets INT/TERM, and
# cleanup then stops FG_PID.
FG_PID=
run_fg() {
  local rc=0
  "$@" &
  FG_PID=$!
  wait "$FG_PID" || rc=$?
  FG_PID=
  return "$rc"
}

# ---- ports ---------------------------------------------------------------------------------------
# A port counts as taken if any IPv4/IPv6 TCP socket (any state) uses it as its local port.
PROC_TCP=(/proc/net/tcp)
[[ -r /proc/net/tcp6 ]] && PROC_TCP+=(/proc/net/tcp6)
port_in_use() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' "${PROC_TCP[@]}"
}
port_listening() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' "${PROC_TCP[@]}"
}
PICKED=()
# pick_port VAR: the next free port at or above the cursor, below the ephemeral range.
[[ -n $BASE_PORT ]] || BASE_PORT=$((20000 + RANDOM % 9000))
PORT_CURSOR=$BASE_PORT
pick_port() {
  local tries
  for ((tries = 0; tries < 2000; tries++)); do
    local p=$PORT_CURSOR
    PORT_CURSOR=$((PORT_CURSOR + 1))
    ((PORT_CURSOR > 65000)) && PORT_CURSOR=20000
    if ! port_in_use "$p"; then PICKED+=("$p"); printf -v "$1" '%s' "$p"; return 0; fi
  done
  die "no free port found from $BASE_PORT on"
}

# wait_listen PID TIMEOUT PORT...: 0 once every PORT is listening, 1 if PID died or time ran out.
wait_listen() {
  local pid=$1 timeout=$2 p ok
  shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS <= deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    ok=1
    for p in "$@"; do port_listening "$p" || { ok=0; break; }; done
    ((ok)) && return 0
    sleep 0.1
  done
  return 1
}
log_tail() { [[ -f $1 ]] && sed 's/^/    | /' "$1" | tail -n "${2:-8}" >&2 || true; }

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
declare -A ENTRY_IPERF=() ENTRY_SOCK=() SKIP=() DESC=()

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
  have ssh && have ssh-keygen || { SKIP[ssh]="ssh/ssh-keygen not installed (apt: openssh-client)"; return 1; }
  [[ -n $SSHD_BIN ]] || { SKIP[ssh]="sshd not installed (apt: openssh-server)"; return 1; }
  local d=$WORK/ssh user sshd_port a b
  user=$(id -un)
  mkdir -m 700 "$d"
  ssh-keygen -q -t ed25519 -N '' -C sdt-e2e-host -f "$d/host_ed25519" </dev/null >/dev/null &&
    ssh-keygen -q -t ed25519 -N '' -C sdt-e2e-user -f "$d/id_ed25519" </dev/null >/dev/null ||
    { SKIP[ssh]="ssh-keygen failed"; return 1; }
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  chmod 600 "$d/authorized_keys"
  pick_port sshd_port; pick_port a; pick_port b
  cat >"$d/sshd_config" <<EOF
Port $sshd_port
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowTcpForwarding local
X11Forwarding no
PrintMotd no
Ciphers aes128-gcm@openssh.com
LogLevel INFO
EOF
  if [[ $(id -u) -eq 0 && ! -d /run/sshd ]]; then
    mkdir -m 755 /run/sshd && CREATED_RUN_SSHD=1
  fi
  "$SSHD_BIN" -t -f "$d/sshd_config" >"$d/sshd-t.log" 2>&1 || { log_tail "$d/sshd-t.log"; SKIP[ssh]="sshd rejected its config"; return 1; }
  start_bg sshd "$WORK/sshd.log" "${PIN_TUNNEL_CMD[@]}" "$SSHD_BIN" -D -e -f "$d/sshd_config"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$sshd_port" || { log_tail "$WORK/sshd.log"; SKIP[ssh]="sshd did not start"; return 1; }
  start_bg ssh-client "$WORK/ssh-client.log" "${PIN_TUNNEL_CMD[@]}" \
    ssh -F /dev/null -N -T -c aes128-gcm@openssh.com -i "$d/id_ed25519" -p "$sshd_port" \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o ExitOnForwardFailure=yes -o Compression=no -o LogLevel=ERROR \
    -L "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" -L "127.0.0.1:$b:127.0.0.1:$SOCKPERF_PORT" \
    "$user@127.0.0.1"
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
  local -a sdt extra_s extra_c trans=()
  read -ra sdt <<<"$SDT_CMD"
  ((${#sdt[@]} > 0)) || { SKIP[sdt]="--sdt is empty"; return 1; }
  if [[ ${sdt[0]} == */* ]]; then
    [[ -x ${sdt[0]} && -f ${sdt[0]} ]] || { SKIP[sdt]="${sdt[0]} not found or not executable (the sdt launcher is not there yet?)"; return 1; }
  else
    have "${sdt[0]}" || { SKIP[sdt]="${sdt[0]} not found on PATH"; return 1; }
  fi
  have_java || { SKIP[sdt]="java not found (install a JDK 25 or set JAVA_HOME)"; return 1; }
  read -ra extra_s <<<"$SDT_SERVER_ARGS"
  read -ra extra_c <<<"$SDT_CLIENT_ARGS"
  [[ -n $SDT_TRANSPORT ]] && trans=(--transport "$SDT_TRANSPORT")
  local d=$WORK/sdt srv a b
  mkdir -m 700 "$d"
  if [[ -n ${SDT_TOKEN:-} ]]; then
    printf '%s\n' "$SDT_TOKEN" >"$d/token"
  else
    # bounded: timeout signals the whole process group, including a build the launcher may start
    if ! run_fg timeout "$SDT_TIMEOUT" "${sdt[@]}" token >"$d/token" 2>"$d/token.err" </dev/null; then
      log_tail "$d/token.err"; SKIP[sdt]="'$SDT_CMD token' failed or took over ${SDT_TIMEOUT}s"; return 1
    fi
  fi
  chmod 600 "$d/token"
  [[ -n $(tr -d '[:space:]' <"$d/token") ]] || { SKIP[sdt]="'$SDT_CMD token' printed nothing"; return 1; }
  pick_port srv; pick_port a; pick_port b
  start_bg sdt-server "$WORK/sdt-server.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" server \
    --listen "127.0.0.1:$srv" --token-file "$d/token" --allow-target '127.0.0.1:*' "${trans[@]}" "${extra_s[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$srv" || { log_tail "$WORK/sdt-server.log"; SKIP[sdt]="sdt server did not listen on 127.0.0.1:$srv within ${SDT_TIMEOUT}s"; return 1; }
  start_bg sdt-client "$WORK/sdt-client.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" client \
    --server "127.0.0.1:$srv" --token-file "$d/token" \
    -L "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" -L "127.0.0.1:$b:127.0.0.1:$SOCKPERF_PORT" "${trans[@]}" "${extra_c[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$a" "$b" || { log_tail "$WORK/sdt-client.log"; SKIP[sdt]="sdt client -L listeners not up within ${SDT_TIMEOUT}s"; return 1; }
  ENTRY_IPERF[sdt]=$a ENTRY_SOCK[sdt]=$b
  DESC[sdt]="sdt client -L -> sdt server${SDT_TRANSPORT:+, --transport $SDT_TRANSPORT}"
}

ACTIVE=()
for p in "${PATHS[@]}"; do
  log "setting up path: $p"
  n0=${#PIDS[@]}
  if "setup_$p"; then
    ACTIVE+=("$p")
  else
    log "SKIP $p: ${SKIP[$p]}"
    # stop whatever this path's setup had started, newest first, and forget those pids
    for ((i = ${#PIDS[@]} - 1; i >= n0; i--)); do stop_pid "${PIDS[i]}"; done
    PIDS=("${PIDS[@]:0:n0}")
  fi
done
((${#ACTIVE[@]} > 0)) || die "no path could be set up"

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

record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SAMPLES"; }

n_active=${#ACTIVE[@]}
per_round=$(( (HAVE_IPERF * 2 * (DURATION + OMIT + PAUSE) + HAVE_SOCKPERF * (DURATION + 1 + PAUSE)) * n_active ))
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
      esac
      sleep "$PAUSE"
    done
  done
done

# ---- report --------------------------------------------------------------------------------------
median() {   # median PATH METRIC -> value or empty
  awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {print $4}' "$SAMPLES" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
count() { awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {n++} END {print n + 0}' "$SAMPLES"; }
fmt() { [[ -n $2 ]] && printf "$1" "$2" || printf '%s' -; }
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}' || printf '%s' -; }

declare -A MED=()
for p in "${ACTIVE[@]}"; do
  for m in tp1 tp4 p50 p99; do MED[$p,$m]=$(median "$p" "$m"); done
done

REPORT=$WORK/report.txt
{
  echo
  echo "SDT end-to-end benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  echo "host: $(uname -sr), $(nproc) CPU(s): $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), all on 127.0.0.1"
  echo "per measurement: ${DURATION}s (iperf3 also -O ${OMIT}s omitted), rounds: ${ROUNDS} interleaved, warmup ${WARMUP}s/path; cells = median over rounds"
  echo "latency: sockperf TCP ping-pong, default 14 B messages, ${SOCKPERF_KIND}, microseconds"
  echo "pinning: load=${PIN_LOAD:-none} tunnel=${PIN_TUNNEL:-none}; tools: $(iperf3 --version 2>/dev/null | head -1 | awk '{print "iperf3 " $2}'), $(sockperf --version 2>/dev/null | awk '/version/ {print "sockperf " $3; exit}')"
  [[ " ${ACTIVE[*]} " == *" sdt "* ]] && echo "sdt: $SDT_CMD${SDT_TRANSPORT:+ (--transport $SDT_TRANSPORT)}"
  echo
  printf '%-9s %15s %15s %10s %10s\n' path "1-stream Gbit/s" "4-stream Gbit/s" "p50 us" "p99 us"
  printf '%-9s %15s %15s %10s %10s\n' --------- --------------- --------------- ---------- ----------
  for p in "${ACTIVE[@]}"; do
    printf '%-9s %15s %15s %10s %10s\n' "$p" \
      "$(fmt '%.2f' "${MED[$p,tp1]}")" "$(fmt '%.2f' "${MED[$p,tp4]}")" \
      "$(fmt '%.1f' "${MED[$p,p50]}")" "$(fmt '%.1f' "${MED[$p,p99]}")"
  done
  if [[ " ${ACTIVE[*]} " == *" sdt "* ]]; then
    for base in ssh socat; do
      [[ " ${ACTIVE[*]} " == *" $base "* ]] || continue
      printf '%-9s %15s %15s %10s %10s\n' "sdt/$base" \
        "$(ratio "${MED[sdt,tp1]}" "${MED[$base,tp1]}")" "$(ratio "${MED[sdt,tp4]}" "${MED[$base,tp4]}")" \
        "$(ratio "${MED[sdt,p50]}" "${MED[$base,p50]}")" "$(ratio "${MED[sdt,p99]}" "${MED[$base,p99]}")"
    done
    echo "(ratio rows: sdt value / other value; throughput > 1 and latency < 1 favour sdt)"
  fi
  echo
  for p in "${ACTIVE[@]}"; do printf '  %-8s %s\n' "$p:" "${DESC[$p]}"; done
  for p in "${PATHS[@]}"; do [[ -n ${SKIP[$p]:-} ]] && printf '  %-8s SKIPPED: %s\n' "$p:" "${SKIP[$p]}"; done
  for p in "${ACTIVE[@]}"; do
    for m in "${METRICS[@]}"; do
      mm=$m; [[ $m == lat ]] && mm=p50
      c=$(count "$p" "$mm")
      ((c < ROUNDS)) && printf '  %-8s %s: only %d of %d rounds succeeded\n' "$p:" "$m" "$c" "$ROUNDS"
    done
  done
  ((${#FAILS[@]} > 0)) && printf '  failed: %s\n' "${FAILS[@]}"
  echo "compare numbers only within one run: loopback is CPU-bound and all processes share $(nproc) CPU(s)"
} >"$REPORT"

cat "$REPORT"
if [[ -n $OUT_FILE ]]; then
  { cat "$REPORT"; echo; echo "# raw samples: path metric round value"; cat "$SAMPLES"; } >"$OUT_FILE"
  log "report and raw samples written to $OUT_FILE"
fi
exit 0
