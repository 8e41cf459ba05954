#!/usr/bin/env bash
# SDT end-to-end benchmark: connection setup rate through a SOCKS5 proxy, new CONNECTs per second
# to a local target (which writes one byte and closes), through direct / microsocks / ssh -D /
# sdt -D, and sdt -D over two servers with two links each (sdt-fleet: --server A --server B --links 2),
# all on 127.0.0.1, in interleaved rounds.  The load client is ConnectRate.java (JDK only).
# Documentation: benchmarks/README.md.  Installs nothing unless --install is given.
set -euo pipefail

E2E_SCRIPT=connect.sh E2E_TAG=e2e-connect
E2E_DEFAULT_WARMUP=40  # sdt needs 30-40 s of connects before C2 has compiled its setup path
ALL_PATHS=(direct microsocks ssh sdt sdt-fleet)
# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

WORKERS=${BENCH_WORKERS:-16}          # concurrent connecting threads of the load client
PAUSE=${BENCH_PAUSE:-1}

usage() {
  cat <<EOF
usage: benchmarks/e2e/connect.sh [options]      (connection setup rate through SOCKS5 proxies)

$(common_usage)
  --workers N         concurrent connecting threads of the load client (default $WORKERS)

Environment: BENCH_DURATION BENCH_ROUNDS BENCH_ONLY BENCH_WARMUP BENCH_WORKERS BENCH_PAUSE
BENCH_BASE_PORT BENCH_PIN_LOAD BENCH_PIN_TUNNEL BENCH_OUT SDT_CMD SDT_TRANSPORT SDT_START_TIMEOUT
SDT_SERVER_ARGS SDT_CLIENT_ARGS SDT_TOKEN.
EOF
}

parse_extra_opt() {
  case $1 in
    --workers) need_arg "$@"; WORKERS=$2; EXTRA_SHIFT=2 ;;
    *) return 1 ;;
  esac
}

e2e_parse_args "$@"
is_uint "$WORKERS" && ((WORKERS >= 1 && WORKERS <= 1000)) || die "--workers: expected 1..1000, got '$WORKERS'"

missing_tools() {
  find_tools
  have_java || echo "java -"
  have microsocks || echo "microsocks microsocks"
  have ssh || echo "ssh openssh-client"
  [[ -n $SSHD_BIN ]] || echo "sshd openssh-server"
}
check_tools
e2e_init
SAMPLES=$WORK/samples.tsv
: >"$SAMPLES"
# the load client needs a JDK 25 (single-file source launch); pick it the way ./sdt does
# shellcheck source=../../scripts/java-env.sh
. "$REPO_ROOT/scripts/java-env.sh"
sdt_select_jdk >/dev/null || die "no JDK 25 found for the load client (install temurin-25-jdk or set JAVA_HOME)"
JAVA=$JAVA_HOME/bin/java
LOADER=$E2E_LIB_DIR/ConnectRate.java

pick_port TARGET_PORT
start_bg target "$WORK/target.log" "${PIN_LOAD_CMD[@]}" "$JAVA" "$LOADER" serve "$TARGET_PORT"
wait_listen "$LAST_PID" 30 "$TARGET_PORT" || { log_tail "$WORK/target.log"; die "the target did not start"; }

declare -A ENTRY=() SKIP=() DESC=()

setup_direct() {
  ENTRY[direct]=$TARGET_PORT
  DESC[direct]="no proxy: connect to the target directly"
}

setup_microsocks() {
  have microsocks || { SKIP[microsocks]="microsocks not installed (apt: microsocks)"; return 1; }
  local entry
  pick_port entry
  start_bg microsocks "$WORK/microsocks.log" "${PIN_TUNNEL_CMD[@]}" microsocks -i 127.0.0.1 -p "$entry"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$entry" || { log_tail "$WORK/microsocks.log"; SKIP[microsocks]="microsocks did not start"; return 1; }
  ENTRY[microsocks]=$entry
  DESC[microsocks]="microsocks $(dpkg-query -W -f '${Version}' microsocks 2>/dev/null || true), plain SOCKS5, no tunnel"
}

setup_ssh() {
  local entry
  start_sshd ssh || return 1
  pick_port entry
  start_bg ssh-client "$WORK/ssh-client.log" "${PIN_TUNNEL_CMD[@]}" "${SSH_CMD[@]}" \
    -D "127.0.0.1:$entry" "$(id -un)@127.0.0.1"
  wait_listen "$LAST_PID" "$START_TIMEOUT" "$entry" || { log_tail "$WORK/ssh-client.log"; log_tail "$WORK/sshd.log"; SKIP[ssh]="ssh -D did not come up"; return 1; }
  ENTRY[ssh]=$entry
  DESC[ssh]="OpenSSH ssh -N -D, aes128-gcm@openssh.com, ed25519 keys"
}

setup_sdt() {
  local entry
  pick_port entry
  # start_sdt takes -L specs; a -D listener goes in through the client's extra words
  SDT_CLIENT_ARGS="$SDT_CLIENT_ARGS -D 127.0.0.1:$entry"
  start_sdt || return 1
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$entry" || { log_tail "$WORK/sdt-client.log"; SKIP[sdt]="sdt -D listener not up"; return 1; }
  ENTRY[sdt]=$entry
  DESC[sdt]="sdt client -D -> sdt server (--allow-target 127.0.0.1:*)${SDT_TRANSPORT:+, --transport $SDT_TRANSPORT}"
}

# sdt-fleet: one client, two servers, two links to each; the -D channels spread over the four links
setup_sdt-fleet() {
  local -a sdt trans=()
  read -ra sdt <<<"$SDT_CMD"
  [[ -n $SDT_TRANSPORT ]] && trans=(--transport "$SDT_TRANSPORT")
  local d=$WORK/sdt entry a b
  if [[ ! -s $d/token ]]; then
    [[ -d $d ]] || mkdir -m 700 "$d"
    run_fg timeout "$SDT_TIMEOUT" "${sdt[@]}" token >"$d/token" 2>/dev/null </dev/null ||
      { SKIP[sdt-fleet]="'$SDT_CMD token' failed"; return 1; }
    chmod 600 "$d/token"
  fi
  pick_port a
  pick_port b
  pick_port entry
  start_bg sdt-server-a "$WORK/sdt-server-a.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" server \
    --listen "127.0.0.1:$a" --token-file "$d/token" --allow-target '127.0.0.1:*' "${trans[@]}"
  start_bg sdt-server-b "$WORK/sdt-server-b.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" server \
    --listen "127.0.0.1:$b" --token-file "$d/token" --allow-target '127.0.0.1:*' "${trans[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$a" "$b" || { log_tail "$WORK/sdt-server-a.log"; SKIP[sdt-fleet]="the two sdt servers did not listen"; return 1; }
  start_bg sdt-fleet-client "$WORK/sdt-fleet-client.log" "${PIN_TUNNEL_CMD[@]}" "${sdt[@]}" client \
    --server "127.0.0.1:$a" --server "127.0.0.1:$b" --links 2 --token-file "$d/token" -D "127.0.0.1:$entry" "${trans[@]}"
  wait_listen "$LAST_PID" "$SDT_TIMEOUT" "$entry" || { log_tail "$WORK/sdt-fleet-client.log"; SKIP[sdt-fleet]="sdt -D listener not up"; return 1; }
  local deadline=$((SECONDS + SDT_TIMEOUT))
  while (($(grep -c 'link up' "$WORK/sdt-fleet-client.log") < 4)); do
    ((SECONDS <= deadline)) || { log_tail "$WORK/sdt-fleet-client.log"; SKIP[sdt-fleet]="not all four links came up"; return 1; }
    sleep 0.2
  done
  ENTRY[sdt-fleet]=$entry
  DESC[sdt-fleet]="sdt client -D --server A --server B --links 2 (four links) -> two sdt servers${SDT_TRANSPORT:+, --transport $SDT_TRANSPORT}"
}

setup_paths

# run_load PATH SECONDS -> RESULT: connects per second (empty on failure)
run_load() {
  local path=$1 secs=$2 kind=socks5 out
  [[ $path == direct ]] && kind=direct
  out=$WORK/load-$path.txt
  RESULT=
  run_fg timeout $((secs + 60)) "${PIN_LOAD_CMD[@]}" "$JAVA" "$LOADER" load "$kind" "${ENTRY[$path]}" "$TARGET_PORT" \
    "$WORKERS" "$secs" >"$out" 2>&1 </dev/null || true
  read -r _ rate _ okn _ failn _ < <(grep '^connects_per_s' "$out" || true) || true
  [[ -n ${rate:-} ]] || { log "  load via $path failed: $(head -c 300 "$out")"; return 1; }
  ((failn > 0)) && log "  $path: $failn failed connects (ok $okn)"
  RESULT=$rate
}

n_active=${#ACTIVE[@]}
log "paths: ${ACTIVE[*]}; ${WORKERS} workers; ${ROUNDS} round(s) x ${n_active} x ${DURATION}s + warmup; ports: ${PICKED[*]}"
if ((WARMUP > 0)); then
  for p in "${ACTIVE[@]}"; do
    log "warmup $p (${WARMUP}s)"
    run_load "$p" "$WARMUP" || true
    sleep "$PAUSE"
  done
fi
for ((r = 1; r <= ROUNDS; r++)); do
  order=()
  for ((i = 0; i < n_active; i++)); do order+=("${ACTIVE[$(( (i + r - 1) % n_active ))]}"); done
  for p in "${order[@]}"; do
    if run_load "$p" "$DURATION"; then
      record "$p" cps "$r" "$RESULT"
      log "round $r/$ROUNDS $p: $RESULT connects/s"
    fi
    sleep "$PAUSE"
  done
done

REPORT=$WORK/report.txt
{
  echo
  echo "SDT connection setup benchmark, $(date -u '+%Y-%m-%d %H:%M:%SZ')"
  host_line
  echo "per measurement: ${DURATION}s, ${WORKERS} connecting threads; rounds: ${ROUNDS} interleaved, warmup ${WARMUP}s/path; cells = median over rounds"
  echo "one connect = TCP connect, SOCKS5 greeting + CONNECT 127.0.0.1 (IPv4), the target's one byte, close"
  echo "pinning: load=${PIN_LOAD:-none} tunnel=${PIN_TUNNEL:-none}"
  echo
  printf '%-12s %12s\n' path "connects/s"
  printf '%-12s %12s\n' ------------ ------------
  for p in "${ACTIVE[@]}"; do printf '%-12s %12s\n' "$p" "$(fmt '%.0f' "$(median "$p" cps)")"; done
  if is_active sdt; then
    for o in ssh microsocks direct; do
      is_active "$o" && printf '%-12s %12s\n' "sdt/$o" "$(ratio "$(median sdt cps)" "$(median "$o" cps)")"
    done
  fi
  if is_active sdt-fleet && is_active sdt; then
    printf '%-12s %12s\n' "fleet/sdt" "$(ratio "$(median sdt-fleet cps)" "$(median sdt cps)")"
  fi
  echo
  for p in "${ACTIVE[@]}"; do printf '  %-11s %s\n' "$p:" "${DESC[$p]}"; done
  for p in "${PATHS[@]}"; do [[ -n ${SKIP[$p]:-} ]] && printf '  SKIPPED %s: %s\n' "$p" "${SKIP[$p]}"; done
  echo "compare numbers only within one run: all processes share $(nproc) CPU(s)"
} >"$REPORT"
write_out "$REPORT"
