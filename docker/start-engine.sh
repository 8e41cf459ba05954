#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine, starting Debian's dockerd (package docker.io)
# when none does. Used by the Docker test (DockerImageIT) and by hand; docs/DOCKER.md.
#
# Prints one line on stdout:  "running"          an engine already answered; nothing was started
#                             "started PID LOG"  this script started dockerd (stop it: kill PID)
# Exit codes: 0 an engine answers; 3 no engine can run here (reason on stderr, last line:
# "start-engine: unavailable: REASON"); 1 anything else.
#
# The engine it starts leaves the host's networking as it was: no iptables rules, no IP
# forwarding, no docker0 bridge (--iptables=false --ip6tables=false --ip-forward=false
# --bridge=none). Containers on a user-defined network still reach each other and the host, and
# published ports work (docker-proxy), but they have no NAT to the outside, which tests do not
# need. If the storage driver fails (some sandboxes refuse overlayfs), it tries vfs.
# State: $SDT_DOCKER_STATE (default /var/tmp/sdt-docker).
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

state="${SDT_DOCKER_STATE:-/var/tmp/sdt-docker}"
wait_seconds="${SDT_DOCKER_START_TIMEOUT:-40}"

unavailable() {
  echo "start-engine: unavailable: $*" >&2
  exit 3
}

answers() {
  timeout 10 docker info >/dev/null 2>&1
}

command -v docker >/dev/null 2>&1 || unavailable "no docker command (apt-get install docker.io)"
if answers; then
  echo running
  exit 0
fi
command -v dockerd >/dev/null 2>&1 || unavailable "no Docker engine answers and dockerd is not installed (apt-get install docker.io)"
[[ $(id -u) -eq 0 ]] || unavailable "no Docker engine answers and starting dockerd needs root (running as uid $(id -u))"
if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != unix:///var/run/docker.sock ]]; then
  unavailable "DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local engine in its place"
fi
mkdir -p "$state"

# One attempt: start dockerd with the given options, wait until it answers or dies.
# Leaves the pid in $pid on success; on failure prints dockerd's last error line to stderr.
attempt() {
  local log="$state/dockerd.log"
  : >"$log"
  # setsid: the engine outlives this script and is not in the caller's process group.
  setsid dockerd --pidfile "$state/dockerd.pid" "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  local deadline=$((SECONDS + wait_seconds))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      local why
      why=$(grep -E 'level=(fatal|error)|failed to start' "$log" | tail -1 | sed -E 's/.*msg="?([^"]*)"?.*/\1/')
      why="${why:-dockerd exited: $(tail -1 "$log")}"
      echo "start-engine: dockerd $* failed: $why" >&2
      reasons+=("dockerd $*: $why")
      return 1
    fi
    if answers; then
      return 0
    fi
    sleep 0.5
  done
  local why
  why="did not answer within ${wait_seconds}s (last log line: $(tail -1 "$log"))"
  echo "start-engine: dockerd $* $why" >&2
  reasons+=("dockerd $*: $why")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}

reasons=()
quiet="--iptables=false --ip6tables=false --ip-forward=false --bridge=none"
for options in "$quiet" "$quiet --storage-driver=vfs"; do
  # shellcheck disable=SC2086 # options are words
  if attempt $options; then
    echo "started $pid $state/dockerd.log"
    exit 0
  fi
done
unavailable "dockerd cannot run here: $(printf '%s; ' "${reasons[@]}")"
