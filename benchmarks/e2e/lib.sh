# shellcheck shell=bash disable=SC2034
# (SC2034: many variables here are read by the scripts that source this file)
# Helpers shared by benchmarks/e2e/run.sh (TCP) and benchmarks/e2e/udp.sh (UDP). Sourced, not run.
# The caller sets `set -euo pipefail`, E2E_SCRIPT (name used in errors), E2E_TAG (log prefix),
# ALL_PATHS, optionally E2E_DEFAULT_WARMUP, and defines usage() before calling e2e_parse_args.
# Documentation: benchmarks/README.md.

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_LIB_DIR/../.." && pwd)

# ---- common defaults (each also settable from the environment) ------------------------------------
DURATION=${BENCH_DURATION:-10}        # seconds per measurement
ROUNDS=${BENCH_ROUNDS:-2}             # interleaved rounds; the table shows the median
WARMUP=${BENCH_WARMUP:-${E2E_DEFAULT_WARMUP:-2}}  # unrecorded seconds of traffic per path before round 1
ONLY=${BENCH_ONLY:-}                  # comma list of paths
BASE_PORT=${BENCH_BASE_PORT:-}        # first port to try; default: random in 20000-28999
SDT_CMD=${SDT_CMD:-$REPO_ROOT/sdt}    # how to run sdt (may contain arguments)
SDT_TRANSPORT=${SDT_TRANSPORT:-}      # --transport for both sdt ends (empty: sdt's default)
SDT_TIMEOUT=${SDT_START_TIMEOUT:-60}  # seconds allowed for `sdt token` and for each sdt end to be up
SDT_SERVER_ARGS=${SDT_SERVER_ARGS:-}  # extra words appended to `sdt server`
SDT_CLIENT_ARGS=${SDT_CLIENT_ARGS:-}  # extra words appended to `sdt client`
PIN_LOAD=${BENCH_PIN_LOAD:-}          # CPU list for the load generators (taskset -c); empty: no pinning
PIN_TUNNEL=${BENCH_PIN_TUNNEL:-}      # CPU list for the tunnel processes; empty: no pinning
OUT_FILE=${BENCH_OUT:-}               # also write the report and raw samples to this file
INSTALL=0
START_TIMEOUT=15                      # seconds for non-sdt helpers (sshd, socat, ...) to bind

die() { echo "$E2E_SCRIPT: $*" >&2; exit 2; }
log() { echo "[$E2E_TAG $(date +%H:%M:%S)] $*" >&2; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
have() { command -v "$1" >/dev/null 2>&1; }
have_java() { have java || [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME:-}/bin/java ]]; }

# The option lines every script's usage() shows.
common_usage() {
  cat <<EOF
  --duration S        seconds per measurement (default $DURATION)
  --rounds N          interleaved rounds; the table reports the median (default $ROUNDS)
  --only LIST         comma list of paths out of: ${ALL_PATHS[*]} (default: all)
  --sdt CMD           command that runs sdt (default: $REPO_ROOT/sdt)
  --transport T       sdt --transport for both ends (auto|io_uring|epoll|nio)
  --warmup S          unrecorded seconds of traffic per path before round 1 (default $WARMUP; 0 = none)
  --base-port P       first port to probe for free ports (default: random in 20000-28999)
  --pin-load CPUS     run the load generators under 'taskset -c CPUS' (default: no pinning)
  --pin-tunnel CPUS   run the tunnel processes under 'taskset -c CPUS' (default: no pinning)
  --out FILE          also write the report and the raw samples to FILE
  --install           apt-get install the missing tools first (only when given)
  -h, --help          this text
EOF
}

# e2e_parse_args ARGS...: the common options.  A script may define parse_extra_opt, called as
# `parse_extra_opt OPTION [VALUE...]`; it returns 0 after setting EXTRA_SHIFT (words it consumed)
# or 1 when it does not know the option.
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value"; }
e2e_parse_args() {
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
      *)
        EXTRA_SHIFT=0
        if declare -F parse_extra_opt >/dev/null && parse_extra_opt "$@"; then
          shift "$EXTRA_SHIFT"
        else
          usage >&2; die "unknown argument: $1"
        fi ;;
    esac
  done
  is_uint "$DURATION" && ((DURATION >= 1)) || die "--duration: expected a whole number of seconds >= 1, got '$DURATION'"
  is_uint "$ROUNDS" && ((ROUNDS >= 1 && ROUNDS <= 100)) || die "--rounds: expected 1..100, got '$ROUNDS'"
  is_uint "$WARMUP" || die "--warmup: expected a whole number of seconds, got '$WARMUP'"
  is_uint "$SDT_TIMEOUT" && ((SDT_TIMEOUT >= 1)) || die "SDT_START_TIMEOUT: expected seconds >= 1"
  if [[ -n $BASE_PORT ]]; then
    is_uint "$BASE_PORT" && ((BASE_PORT >= 1024 && BASE_PORT <= 64000)) || die "--base-port: expected 1024..64000"
  fi
  case $SDT_TRANSPORT in ''|auto|io_uring|epoll|nio) ;; *) die "--transport: expected auto|io_uring|epoll|nio, got '$SDT_TRANSPORT'" ;; esac

  PATHS=()
  if [[ -z $ONLY ]]; then
    PATHS=("${ALL_PATHS[@]}")
  else
    local w wanted
    IFS=, read -ra wanted <<<"$ONLY"
    for w in "${wanted[@]}"; do
      [[ -z $w ]] && continue
      [[ " ${ALL_PATHS[*]} " == *" $w "* ]] || die "--only: unknown path '$w' (expected some of: ${ALL_PATHS[*]})"
      [[ " ${PATHS[*]} " == *" $w "* ]] || PATHS+=("$w")
    done
    ((${#PATHS[@]} > 0)) || die "--only: no path given"
  fi

  PIN_LOAD_CMD=() PIN_TUNNEL_CMD=()
  if [[ -n $PIN_LOAD || -n $PIN_TUNNEL ]]; then have taskset || die "--pin-*: taskset not found (util-linux)"; fi
  [[ -n $PIN_LOAD ]] && PIN_LOAD_CMD=(taskset -c "$PIN_LOAD")
  [[ -n $PIN_TUNNEL ]] && PIN_TUNNEL_CMD=(taskset -c "$PIN_TUNNEL")
  return 0
}

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

# check_tools: calls the script's missing_tools (prints "tool package" per missing tool, "-" for
# no apt package), logs what is missing and, with --install, apt-get installs it.
check_tools() {
  local missing pkgs
  missing=$(missing_tools)
  if [[ -n $missing ]]; then
    pkgs=$(awk '$2 != "-" {print $2}' <<<"$missing" | sort -u | paste -sd' ')
    log "missing tools: $(awk '{print $1}' <<<"$missing" | paste -sd' ')"
    [[ -n $pkgs ]] && log "  apt packages: $pkgs (sudo apt-get install $pkgs, or rerun with --install)"
    grep -q '^java ' <<<"$missing" && log "  java: install a JDK 25 (e.g. temurin-25-jdk) or set JAVA_HOME"
    if ((INSTALL)) && [[ -n $pkgs ]]; then
      local -a sudo=()
      if [[ $(id -u) -ne 0 ]]; then have sudo || die "--install needs root or sudo"; sudo=(sudo); fi
      log "--install: apt-get update && apt-get install -y $pkgs"
      "${sudo[@]}" apt-get update
      # shellcheck disable=SC2086
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y $pkgs
      missing=$(missing_tools)
      [[ -n $missing ]] && log "still missing: $(awk '{print $1}' <<<"$missing" | paste -sd' ')"
    fi
  else
    log "all tools present"
  fi
  find_tools   # missing_tools ran in a subshell: set SSHD_BIN, STUNNEL_BIN, JSON_TOOL here
}

# ---- process tracking and cleanup ---------------------------------------------------------------
PIDS=()            # every background process this script started, in start order
FG_PID=
CREATED_RUN_SSHD=0

# e2e_init: the work directory and the exit trap.  Call once, before starting anything.
e2e_init() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/sdt-$E2E_TAG.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Stops one process we started: TERM to its own process group (it was started under setsid,
# so the group id is its pid and holds its children, e.g. a java child of a launcher script or
# socat's forked children), then TERM to the pid, a bounded wait, then KILL.
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

# stop_since N: stops the processes started after the first N (newest first) and forgets them.
stop_since() {
  local n0=$1 i
  for ((i = ${#PIDS[@]} - 1; i >= n0; i--)); do stop_pid "${PIDS[i]}"; done
  PIDS=("${PIDS[@]:0:n0}")
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
run_fg() {
  local rc=0
  "$@" &
  FG_PID=$!
  wait "$FG_PID" || rc=$?
  FG_PID=
  return "$rc"
}

# ---- ports ---------------------------------------------------------------------------------------
# A port counts as taken if any IPv4/IPv6 TCP or UDP socket (any state) uses it as its local port,
# so that a picked port is free in both namespaces (the UDP paths bind TCP and UDP on one port).
PROC_TCP=(/proc/net/tcp) PROC_UDP=(/proc/net/udp)
[[ -r /proc/net/tcp6 ]] && PROC_TCP+=(/proc/net/tcp6)
[[ -r /proc/net/udp6 ]] && PROC_UDP+=(/proc/net/udp6)
port_in_use() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' "${PROC_TCP[@]}" "${PROC_UDP[@]}"
}
# port_ready PORT | PORT/udp: a TCP socket in LISTEN on PORT, or any UDP socket bound to PORT.
port_ready() {
  local hex files=("${PROC_TCP[@]}") state=0A
  if [[ $1 == */udp ]]; then files=("${PROC_UDP[@]}"); state=any; fi
  hex=$(printf ':%04X' "${1%/udp}")
  awk -v h="$hex" -v s="$state" 'FNR > 1 && (s == "any" || $4 == s) && substr($2, length($2) - 4) == h {f = 1} END {exit !f}' "${files[@]}"
}
PICKED=()
# pick_port VAR: the next free port at or above the cursor, below the ephemeral range.
pick_port() {
  local tries p
  if [[ -z ${PORT_CURSOR:-} ]]; then
    [[ -n $BASE_PORT ]] || BASE_PORT=$((20000 + RANDOM % 9000))
    PORT_CURSOR=$BASE_PORT
  fi
  for ((tries = 0; tries < 2000; tries++)); do
    p=$PORT_CURSOR
    PORT_CURSOR=$((PORT_CURSOR + 1))
    ((PORT_CURSOR > 65000)) && PORT_CURSOR=20000
    if ! port_in_use "$p"; then PICKED+=("$p"); printf -v "$1" '%s' "$p"; return 0; fi
  done
  die "no free port found from $BASE_PORT on"
}

# wait_listen PID TIMEOUT PORT...: 0 once every PORT is ready (PORT: TCP LISTEN, PORT/udp: UDP
# bound), 1 if PID died or time ran out.  Reads /proc only: no probe connection or datagram.
wait_listen() {
  local pid=$1 timeout=$2 p ok
  shift 2
  local deadline=$((SECONDS + timeout))
  while ((SECONDS <= deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    ok=1
    for p in "$@"; do port_ready "$p" || { ok=0; break; }; done
    ((ok)) && return 0
    sleep 0.1
  done
  return 1
}
# wait_log PID TIMEOUT FILE REGEX: 0 once FILE has a line matching REGEX, 1 if PID died or time ran out.
wait_log() {
  local pid=$1 timeout=$2 f=$3 re=$4
  local deadline=$((SECONDS + timeout))
  while ((SECONDS <= deadline)); do
    grep -Eq -- "$re" "$f" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
log_tail() { [[ -f $1 ]] && sed 's/^/    | /' "$1" | tail -n "${2:-8}" >&2 || true; }

# ---- paths ---------------------------------------------------------------------------------------
declare -A SKIP=() DESC=()

# setup_paths: runs setup_<path> for every path in PATHS; fills ACTIVE.  A failing setup sets
# SKIP[path]; whatever it had started is stopped.
setup_paths() {
  local p n0
  ACTIVE=()
  for p in "${PATHS[@]}"; do
    log "setting up path: $p"
    n0=${#PIDS[@]}
    if "setup_$p"; then
      ACTIVE+=("$p")
    else
      log "SKIP $p: ${SKIP[$p]}"
      stop_since "$n0"
    fi
  done
  ((${#ACTIVE[@]} > 0)) || die "no path could be set up"
}

# ---- sshd ----------------------------------------------------------------------------------------
# start_sshd PATH: a private sshd on 127.0.0.1 for a script's ssh path, with fresh ed25519 host and
# user keys under $WORK/ssh (local forwarding only, aes128-gcm).  Sets SSHD_PORT and SSH_CMD: the
# ssh client command up to its forwarding flags and destination, which the caller appends.  Sets
# SKIP[PATH] and returns 1 on failure.
start_sshd() {
  local path=$1 d=$WORK/ssh
  have ssh && have ssh-keygen || { SKIP[$path]="ssh/ssh-keygen not installed (apt: openssh-client)"; return 1; }
  [[ -n $SSHD_BIN ]] || { SKIP[$path]="sshd not installed (apt: openssh-server)"; return 1; }
  mkdir -m 700 "$d"
  ssh-keygen -q -t ed25519 -N '' -C sdt-e2e-host -f "$d/host_ed25519" </dev/null >/dev/null &&
    ssh-keygen -q -t ed25519 -N '' -C sdt-e2e-user -f "$d/id_ed25519" </dev/null >/dev/null ||
    { SKIP[$path]="ssh-keygen failed"; return 1; }
  cp "$d/id_ed25519.pub" "$d/authorized_keys"
  chmod 600 "$d/authorized_keys"
  pick_port SSHD_PORT
  cat >"$d/sshd_config" <<EOF
Port $SSHD_PORT
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
MaxSessions 1000
X11Forwarding no
PrintMotd no
Ciphers aes128-gcm@openssh.com
LogLevel INFO
EOF
  if [[ $(id -u) -eq 0 && ! -d /run/sshd ]]; then
    mkdir -m 755 /run/sshd && CREATED_RUN_SSHD=1
  fi
  "$SSHD_BIN" -t -f "$d/sshd_config" >"$d/sshd-t.log" 2>&1 || { log_tail "$d/sshd-t.log"; SKIP[$path]="sshd rejected its config"; return 1; }
  start_bg sshd "$WORK/sshd.log" "${PIN_TUNNEL_CMD[@]}" "$SSHD_BIN" -D -e -f "$d/sshd_config"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$SSHD_PORT" || { log_tail "$WORK/sshd.log"; SKIP[$path]="sshd did not start"; return 1; }
  SSH_CMD=(ssh -F /dev/null -N -T -c aes128-gcm@openssh.com -i "$d/id_ed25519" -p "$SSHD_PORT"
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
    -o ExitOnForwardFailure=yes -o Compression=no -o LogLevel=ERROR)
}

# ---- sdt -----------------------------------------------------------------------------------------
# start_sdt SPEC...: starts `sdt server` and `sdt client -L SPEC ...` (SPEC: BIND:PORT:HOST:PORT
# with an optional /udp) and waits until every -L listener is bound and the client logged
# 'link up'.  Sets SKIP[sdt] and returns 1 on failure.  A failed start is retried once after a
# pause (the jar may be in the middle of a rebuild).
SDT_CONFIG=''
start_sdt() {
  local -a sdt
  read -ra sdt <<<"$SDT_CMD"
  ((${#sdt[@]} > 0)) || { SKIP[sdt]="--sdt is empty"; return 1; }
  if [[ ${sdt[0]} == */* ]]; then
    [[ -x ${sdt[0]} && -f ${sdt[0]} ]] || { SKIP[sdt]="${sdt[0]} not found or not executable (the sdt launcher is not there yet?)"; return 1; }
  else
    have "${sdt[0]}" || { SKIP[sdt]="${sdt[0]} not found on PATH"; return 1; }
  fi
  have_java || { SKIP[sdt]="java not found (install a JDK 25 or set JAVA_HOME)"; return 1; }
  local n0=${#PIDS[@]} attempt
  for attempt in 1 2; do
    start_sdt_once "$@" && return 0
    ((attempt == 1)) || break
    log "sdt did not start (${SKIP[sdt]}); retrying once in 5 s"
    stop_since "$n0"
    sleep 5
  done
  return 1
}

# The launcher <repo>/sdt builds the jar with Maven when it is missing; a build must not overlap
# the run, so for that launcher wait (bounded) for a jar that someone else is rebuilding.
sdt_jar_ready() {
  [[ $SDT_CMD == "$REPO_ROOT/sdt" || $SDT_CMD == ./sdt ]] || return 0
  local jar=$REPO_ROOT/tunnel-server/target/sdt.jar lib=$REPO_ROOT/tunnel-server/target/lib
  local deadline=$((SECONDS + SDT_TIMEOUT))
  while ((SECONDS <= deadline)); do
    [[ -f $jar && -d $lib ]] && return 0
    sleep 1
  done
  return 1
}

start_sdt_once() {
  local -a sdt extra_s extra_c trans=() lspecs=() ready=()
  read -ra sdt <<<"$SDT_CMD"
  read -ra extra_s <<<"$SDT_SERVER_ARGS"
  read -ra extra_c <<<"$SDT_CLIENT_ARGS"
  [[ -n $SDT_TRANSPORT ]] && trans=(--transport "$SDT_TRANSPORT")
  local d=$WORK/sdt s p
  [[ -d $d ]] || mkdir -m 700 "$d"
  sdt_jar_ready || { SKIP[sdt]="$REPO_ROOT/tunnel-server/target/sdt.jar missing: build sdt first (the launcher would run Maven)"; return 1; }
  if [[ -n ${SDT_TOKEN:-} ]]; then
    printf '%s\n' "$SDT_TOKEN" >"$d/token"
  elif [[ ! -s $d/token ]]; then
    # bounded: timeout signals the whole process group, including a build the launcher may start
    if ! run_fg timeout "$SDT_TIMEOUT" "${sdt[@]}" token >"$d/token" 2>"$d/token.err" </dev/null; then
      rm -f "$d/token"
      log_tail "$d/token.err"; SKIP[sdt]="'$SDT_CMD token' failed or took over ${SDT_TIMEOUT}s"; return 1
    fi
  fi
  chmod 600 "$d/token"
  [[ -n $(tr -d '[:space:]' <"$d/token") ]] || { rm -f "$d/token"; SKIP[sdt]="'$SDT_CMD token' printed nothing"; return 1; }
  for s in "$@"; do
    lspecs+=(-L "$s")
    p=${s%/udp}; p=${p#*:}; p=${p%%:*}   # BIND:PORT:HOST:HPORT[/udp] -> PORT
    [[ $s == */udp ]] && p+=/udp
    ready+=("$p")
  done
  local srv
  pick_port srv
  start_bg sdt-server "$WORK/sdt-server.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" server \
    --listen "127.0.0.1:$srv" --token-file "$d/token" --allow-target '127.0.0.1:*' "${trans[@]}" "${extra_s[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$srv" || { log_tail "$WORK/sdt-server.log"; SKIP[sdt]="sdt server did not listen on 127.0.0.1:$srv (it exited, or ${SDT_TIMEOUT}s passed)"; return 1; }
  start_bg sdt-client "$WORK/sdt-client.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" client \
    --server "127.0.0.1:$srv" --token-file "$d/token" "${lspecs[@]}" "${trans[@]}" "${extra_c[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "${ready[@]}" || { log_tail "$WORK/sdt-client.log"; SKIP[sdt]="sdt client -L listeners (${ready[*]}) not up (it exited, or ${SDT_TIMEOUT}s passed)"; return 1; }
  wait_log "$LAST_PID" "$SDT_TIMEOUT" "$WORK/sdt-client.log" 'link up' || { log_tail "$WORK/sdt-client.log"; log_tail "$WORK/sdt-server.log"; SKIP[sdt]="sdt client logged no 'link up' (it exited, or ${SDT_TIMEOUT}s passed)"; return 1; }
  SDT_CONFIG="sdt client -L -> sdt server${SDT_TRANSPORT:+, --transport $SDT_TRANSPORT}"
}

# ---- samples and report helpers ------------------------------------------------------------------
# SAMPLES (tab-separated: path metric round value) is created by the script under $WORK.
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$SAMPLES"; }
median() {   # median PATH METRIC -> value or empty
  awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {print $4}' "$SAMPLES" | sort -g |
    awk '{v[NR] = $1} END {if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
count() { awk -F'\t' -v p="$1" -v m="$2" '$1 == p && $2 == m {n++} END {print n + 0}' "$SAMPLES"; }
fmt() { [[ -n $2 ]] && printf "$1" "$2" || printf '%s' -; }
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "-"}' || printf '%s' -; }
is_active() { [[ " ${ACTIVE[*]} " == *" $1 "* ]]; }
host_line() {
  echo "host: $(uname -sr), $(nproc) CPU(s): $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null), all on 127.0.0.1"
}
# write_out REPORT: prints the report and, with --out, writes it and the raw samples to OUT_FILE.
write_out() {
  cat "$1"
  if [[ -n $OUT_FILE ]]; then
    { cat "$1"; echo; echo "# raw samples: path metric round value"; cat "$SAMPLES"; } >"$OUT_FILE"
    log "report and raw samples written to $OUT_FILE"
  fi
}
