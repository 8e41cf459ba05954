#!/usr/bin/env bash
# SDT end-to-end benchmark: CPU per byte. iperf3 TCP (one stream) at a fixed offered rate (--rate) through
# ssh -L and sdt -L on 127.0.0.1, in interleaved rounds; for each measurement the CPU time (user + system,
# from /proc) of the tunnel's own processes (sdt: server and client JVMs; ssh: the ssh client and the sshd
# master with every process under it) divided by the bytes iperf3 moved: CPU-seconds per GiB. For sdt the
# report also gives the part of it spent by the JVMs' JIT compiler threads (C1/C2): a JVM still compiling
# after the warm-up shows there, not in the data path.
# SDT_ALT_CMD, SDT_ALT_JAVA_OPTS and/or SDT_ALT_ARGS add the path sdt-alt, an A/B in the same run: sdt started
# by SDT_ALT_CMD (another checkout's launcher, built; default: the same as sdt) with SDT_ALT_JAVA_OPTS appended to
# SDT_JAVA_OPTS and SDT_ALT_ARGS appended to both `sdt server` and `sdt client`; for example
# SDT_ALT_ARGS="--window 4m --window-max 4m" or SDT_ALT_JAVA_OPTS=-Dio.netty.allocator.type=pooled.
# Documentation: benchmarks/README.md.  Installs nothing unless --install is given.
set -euo pipefail

E2E_SCRIPT=cpu.sh E2E_TAG=e2e-cpu
E2E_DEFAULT_WARMUP=20
ALL_PATHS=(ssh sdt)
[[ -n ${SDT_ALT_CMD:-}${SDT_ALT_JAVA_OPTS:-}${SDT_ALT_ARGS:-} ]] && ALL_PATHS+=(sdt-alt)
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

RATE=${BENCH_RATE:-2G}
PAUSE=${BENCH_PAUSE:-1}

usage() {
  cat <<EOF
usage: benchmarks/e2e/cpu.sh [options]      (CPU-seconds per GiB of the tunnel processes at a fixed rate)

$(common_usage)
  --rate R            iperf3 -b: the offered rate, the same for every path (default $RATE)

Environment: BENCH_DURATION BENCH_ROUNDS BENCH_ONLY BENCH_WARMUP BENCH_RATE BENCH_PAUSE BENCH_BASE_PORT
BENCH_PIN_LOAD BENCH_PIN_TUNNEL BENCH_OUT SDT_CMD SDT_TRANSPORT SDT_START_TIMEOUT SDT_SERVER_ARGS
SDT_CLIENT_ARGS SDT_TOKEN.
EOF
}

parse_extra_opt() {
  case $1 in
    --rate) need_arg "$@"; RATE=$2; EXTRA_SHIFT=2 ;;
    *) return 1 ;;
  esac
}

e2e_parse_args "$@"
[[ $RATE =~ ^[0-9]+[KMG]?$ ]] || die "--rate: expected N[K|M|G] bits per second, got '$RATE'"

missing_tools() {
  find_tools
  have iperf3 || echo "iperf3 iperf3"
  have ssh || echo "ssh openssh-client"
  [[ -n $SSHD_BIN ]] || echo "sshd openssh-server"
  have_java || echo "java -"
  [[ -n $JSON_TOOL ]] || echo "jq/python3 jq"
  return 0
}
check_tools
have iperf3 && [[ -n $JSON_TOOL ]] || die "iperf3 and jq or python3 are needed"
e2e_init
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"

pick_port IPERF_PORT
start_bg iperf3-server "$WORK/iperf3-server.log" "${PIN_LOAD_CMD[@]}" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT"
wait_listen "$LAST_PID" "$START_TIMEOUT" "$IPERF_PORT" || { log_tail "$WORK/iperf3-server.log"; die "iperf3 server did not start"; }

declare -A ENTRY=() ROOTS=()

setup_ssh() {
  local a n0
  start_sshd ssh || return 1
  n0=$LAST_PID
  pick_port a
  start_bg ssh-client "$WORK/ssh-client.log" "${PIN_TUNNEL_CMD[@]}" "${SSH_CMD[@]}" \
    -L "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" "$(id -un)@127.0.0.1"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$a" || { log_tail "$WORK/ssh-client.log"; SKIP[ssh]="ssh -L did not come up"; return 1; }
  ENTRY[ssh]=$a
  ROOTS[ssh]="$n0 $LAST_PID"
  DESC[ssh]="OpenSSH ssh -N -L, aes128-gcm@openssh.com; CPU of ssh + sshd and its children"
}

# sdt_path PATH: a server and a client -L to iperf3 (as SDT_CMD, SDT_JAVA_OPTS... say), entered and counted as PATH
sdt_path() {
  local a n0=${#PIDS[@]}
  pick_port a
  start_sdt "127.0.0.1:$a:127.0.0.1:$IPERF_PORT" || { SKIP[$1]=${SKIP[sdt]}; return 1; }
  ENTRY[$1]=$a
  ROOTS[$1]="${PIDS[*]:$n0}"
}

setup_sdt() {
  sdt_path sdt || return 1
  DESC[sdt]="$SDT_CONFIG; CPU of the server and client JVMs"
}

setup_sdt-alt() {
  SDT_CMD=${SDT_ALT_CMD:-$SDT_CMD} SDT_JAVA_OPTS="${SDT_JAVA_OPTS:-} ${SDT_ALT_JAVA_OPTS:-}" \
    SDT_SERVER_ARGS="$SDT_SERVER_ARGS ${SDT_ALT_ARGS:-}" SDT_CLIENT_ARGS="$SDT_CLIENT_ARGS ${SDT_ALT_ARGS:-}" \
    sdt_path sdt-alt || return 1
  DESC[sdt-alt]="${SDT_ALT_CMD:-the same}${SDT_ALT_JAVA_OPTS:+ with SDT_JAVA_OPTS += $SDT_ALT_JAVA_OPTS}${SDT_ALT_ARGS:+ with arguments $SDT_ALT_ARGS}"
}

setup_paths

# tree_ticks PID...: user + system clock ticks of these processes and everything under them, now
tree_ticks() {
  local all=() p kids
  local -a todo=("$@")
  while ((${#todo[@]} > 0)); do
    p=${todo[0]}; todo=("${todo[@]:1}")
    [[ -r /proc/$p/stat ]] || continue
    all+=("$p")
    kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
    for k in $kids; do todo+=("$k"); done
  done
  local sum=0 jit=0 t task
  for p in "${all[@]}"; do
    # fields 14 and 15 after the command name (which may hold spaces: cut at the last ')')
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
    sum=$((sum + ${t:-0}))
    for task in /proc/"$p"/task/*; do   # a JVM's compiler threads: "C1 CompilerThre", "C2 CompilerThre"
      [[ $(cat "$task/comm" 2>/dev/null) == C[12]\ Compiler* ]] || continue
      t=$(sed 's/.*) //' "$task/stat" 2>/dev/null | awk '{print $12 + $13}') || t=0
      jit=$((jit + ${t:-0}))
    done
  done
  echo "$sum $jit"
}
HZ=$(getconf CLK_TCK)

# measure PATH SECONDS -> RESULT_GIB RESULT_CPU RESULT_JIT (CPU-seconds, the JIT's part), empty on failure
measure() {
  local path=$1 secs=$2 out t0 t1 j0 j1 bytes
  out=$WORK/iperf-$path.json
  RESULT_GIB= RESULT_CPU= RESULT_JIT=
  # shellcheck disable=SC2086
  read -r t0 j0 < <(tree_ticks ${ROOTS[$path]})
  run_fg timeout $((secs + 30)) "${PIN_LOAD_CMD[@]}" iperf3 -c 127.0.0.1 -p "${ENTRY[$path]}" -t "$secs" -b "$RATE" -J \
    >"$out" 2>/dev/null </dev/null || true
  # shellcheck disable=SC2086
  read -r t1 j1 < <(tree_ticks ${ROOTS[$path]})
  bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' "$out" 2>/dev/null || true)
  [[ -n $bytes && $bytes -gt 0 ]] || { log "  $path: iperf3 failed: $(head -c 300 "$out")"; return 1; }
  RESULT_GIB=$(awk -v b="$bytes" 'BEGIN {printf "%.3f", b / 1073741824}')
  RESULT_CPU=$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}')
  RESULT_JIT=$(awk -v t=$((j1 - j0)) -v hz="$HZ" 'BEGIN {printf "%.2f", t / hz}')
}

log "paths: ${ACTIVE[*]}; offered ${RATE}bit/s; ${ROUNDS} round(s) x ${DURATION}s after ${WARMUP}s warm-up each"
for p in "${ACTIVE[@]}"; do
  ((WARMUP > 0)) && { log "warmup $p (${WARMUP}s)"; measure "$p" "$WARMUP" || true; }
done
for ((r = 1; r <= ROUNDS; r++)); do
  for ((i = 0; i < ${#ACTIVE[@]}; i++)); do
    p=${ACTIVE[$(((i + r - 1) % ${#ACTIVE[@]}))]}
    sleep "$PAUSE"
    measure "$p" "$DURATION" || continue
    per=$(awk -v c="$RESULT_CPU" -v g="$RESULT_GIB" 'BEGIN {printf "%.3f", c / g}')
    record "$p" gib "$r" "$RESULT_GIB"
    record "$p" cpu_per_gib "$r" "$per"
    record "$p" jit_per_gib "$r" "$(awk -v c="$RESULT_JIT" -v g="$RESULT_GIB" 'BEGIN {printf "%.3f", c / g}')"
    log "round $r/$ROUNDS $p: ${RESULT_GIB} GiB, ${RESULT_CPU} CPU-s (JIT ${RESULT_JIT}), ${per} CPU-s/GiB"
  done
done

REPORT=$WORK/report.txt
{
  echo
  echo "SDT CPU-per-byte benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  host_line
  echo "iperf3 TCP one stream at ${RATE}bit/s offered, ${DURATION}s per measurement, ${ROUNDS} interleaved rounds, ${WARMUP}s warm-up per path; medians"
  echo
  printf '%-10s %10s %14s %14s\n' path "GiB moved" "CPU-s per GiB" "of which JIT"
  printf '%-10s %10s %14s %14s\n' ---------- ---------- -------------- --------------
  for p in "${ACTIVE[@]}"; do
    printf '%-10s %10s %14s %14s\n' "$p" "$(fmt '%.2f' "$(median "$p" gib)")" "$(fmt '%.3f' "$(median "$p" cpu_per_gib)")" \
      "$(fmt '%.3f' "$(median "$p" jit_per_gib)")"
  done
  if is_active sdt && is_active ssh; then
    printf '%-10s %10s %14s\n' "sdt/ssh" "$(ratio "$(median sdt gib)" "$(median ssh gib)")" \
      "$(ratio "$(median sdt cpu_per_gib)" "$(median ssh cpu_per_gib)")"
  fi
  if is_active sdt-alt; then
    for q in ssh sdt; do
      is_active $q && printf '%-10s %10s %14s\n' "alt/$q" "$(ratio "$(median sdt-alt gib)" "$(median $q gib)")" \
        "$(ratio "$(median sdt-alt cpu_per_gib)" "$(median $q cpu_per_gib)")"
    done
  fi
  echo
  for p in "${ACTIVE[@]}"; do printf '  %-8s %s\n' "$p:" "${DESC[$p]}"; done
  for p in "${PATHS[@]}"; do [[ -n ${SKIP[$p]:-} ]] && printf '  SKIPPED %s: %s\n' "$p" "${SKIP[$p]}"; done
  echo "compare numbers only within one run: all processes share $(nproc) CPU(s)"
} >"$REPORT"
write_out "$REPORT"
