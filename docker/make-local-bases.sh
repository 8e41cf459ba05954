#!/usr/bin/env bash
# Makes the two base images docker/Dockerfile builds on, from Debian packages and a local JDK,
# without any container registry (these machines cannot pull from one):
#   RUNTIME image  a minimal Debian (mmdebstrap, variant essential, plus passwd for useradd), docs,
#                  man pages and locales left out: stands in for debian:trixie-slim
#   JDK image      the same Debian plus the JDK 25 in $JAVA_HOME at /opt/java/openjdk, JAVA_HOME
#                  and PATH set as in eclipse-temurin: stands in for eclipse-temurin:25-jdk
# Both are loaded with `docker import`; then a throwaway container proves the engine can run one.
#
# Usage: docker/make-local-bases.sh [RUNTIME_IMAGE_NAME [JDK_IMAGE_NAME]]
#   defaults: sdt-local/debian:trixie-slim  sdt-local/temurin:25-jdk
# Environment: JAVA_HOME (a JDK 25, required), SDT_BASE_SUITE (default trixie),
#   SDT_DEBIAN_MIRROR (a mirror URI; default: mmdebstrap's own, plus the updates and security
#   suites for a stable release),
#   SDT_DOCKER_CACHE (default /var/tmp/sdt-docker/cache: the Debian root file system tarball is
#   kept there for SDT_BASE_MAX_AGE_DAYS days (default 7) so later runs skip mmdebstrap; never
#   required: without it, or when it is not writable, the tarball is made afresh).
# Prints on stdout: "RUNTIME_IMAGE=NAME" and "JDK_IMAGE=NAME".
# Exit codes: 0 done; 3 cannot be done on this machine (a tool or the package mirror is missing;
# reason on stderr, last line "make-local-bases: unavailable: REASON"); 1 anything else.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

runtime_image="${1:-sdt-local/debian:trixie-slim}"
jdk_image="${2:-sdt-local/temurin:25-jdk}"
suite="${SDT_BASE_SUITE:-trixie}"
mirror="${SDT_DEBIAN_MIRROR:-}"
cache="${SDT_DOCKER_CACHE:-/var/tmp/sdt-docker/cache}"
max_age_days="${SDT_BASE_MAX_AGE_DAYS:-7}"
# Bump when the root file system recipe below changes, so cached tarballs of the old one go unused.
recipe=2

log() { echo "make-local-bases: $*" >&2; }
unavailable() {
  echo "make-local-bases: unavailable: $*" >&2
  exit 3
}

command -v docker >/dev/null 2>&1 || unavailable "no docker command"
timeout 10 docker info >/dev/null 2>&1 || unavailable "no Docker engine answers (docker/start-engine.sh starts one)"
[[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/jlink" ]] || unavailable "JAVA_HOME must name a JDK 25 with jlink (JAVA_HOME=${JAVA_HOME:-unset})"
grep -q '^JAVA_VERSION="25' "$JAVA_HOME/release" 2>/dev/null || unavailable "JAVA_HOME=$JAVA_HOME is not a JDK 25 ($(grep '^JAVA_VERSION=' "$JAVA_HOME/release" 2>/dev/null || echo 'no release file'))"

scratch=()
trap 'rm -rf "${scratch[@]}"' EXIT
if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w "$cache" ]]; then
  cache="$(mktemp -d)"
  scratch+=("$cache")
  log "cache not writable; using $cache for this run only"
fi
rootfs="$cache/debian-$suite-essential-r$recipe.tar"

# ---- the Debian root file system ----------------------------------------------------------------
if [[ -f "$rootfs" ]] && [[ -z "$(find "$rootfs" -mtime +"$max_age_days" 2>/dev/null)" ]]; then
  log "using cached $rootfs"
else
  command -v mmdebstrap >/dev/null 2>&1 || unavailable "mmdebstrap is not installed (apt-get install mmdebstrap)"
  [[ $(id -u) -eq 0 ]] || unavailable "mmdebstrap --mode=root needs root (running as uid $(id -u))"
  log "bootstrapping Debian $suite from ${mirror:-the default mirror} (about a minute) ..."
  started=$SECONDS
  partial="$rootfs.partial.$$"
  # --variant=essential: the Essential: yes packages (bash, coreutils, dash, ...), no apt; passwd
  # brings useradd/groupadd. path-exclude drops what a server image never reads.
  if ! mmdebstrap --quiet --mode=root --variant=essential --include=passwd --format=tar \
      --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-exclude=/usr/share/info/*' \
      "$suite" "$partial" ${mirror:+"$mirror"} >"$partial.log" 2>&1; then
    tail -5 "$partial.log" >&2
    fetch_error=$(grep -m1 -E 'Could not resolve|Failed to fetch|Temporary failure|Unable to connect|Connection (refused|timed out)' "$partial.log" || true)
    rm -f "$partial" "$partial.log"
    [[ -z "$fetch_error" ]] || unavailable "the Debian mirror cannot be reached: $fetch_error"
    log "mmdebstrap failed"
    exit 1
  fi
  rm -f "$partial.log"
  mv "$partial" "$rootfs"
  log "bootstrapped in $((SECONDS - started))s: $(du -h "$rootfs" | cut -f1)"
fi

path_env='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# ---- the runtime base ---------------------------------------------------------------------------
docker import --change "ENV $path_env" --change 'CMD ["bash"]' \
  --message "local stand-in for debian:$suite-slim (make-local-bases.sh)" \
  "$rootfs" "$runtime_image" >/dev/null
log "imported $runtime_image"

# Can this engine run a container at all? (Some sandboxes let dockerd start but not runc.)
if ! out=$(docker run --rm --network none "$runtime_image" true 2>&1); then
  unavailable "the engine cannot run a container: $(tail -1 <<<"$out")"
fi

# ---- the JDK base: the same root file system plus the JDK ----------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/sdt-jdk-base.XXXXXX")"
scratch+=("$work")
cp "$rootfs" "$work/jdk.tar"
mkdir -p "$work/dirs/opt/java"
# --dereference: a packaged JDK links lib/security/cacerts to the host's /etc/ssl/certs/java.
tar --append -f "$work/jdk.tar" --owner=0 --group=0 --numeric-owner -C "$work/dirs" ./opt/java
tar --append -f "$work/jdk.tar" --owner=0 --group=0 --numeric-owner --dereference \
  --transform 's,^\.,./opt/java/openjdk,S' -C "$JAVA_HOME" .
docker import \
  --change 'ENV JAVA_HOME=/opt/java/openjdk' \
  --change "ENV PATH=/opt/java/openjdk/bin:${path_env#PATH=}" \
  --change 'CMD ["jshell"]' \
  --message "local stand-in for eclipse-temurin:25-jdk from $JAVA_HOME (make-local-bases.sh)" \
  "$work/jdk.tar" "$jdk_image" >/dev/null
log "imported $jdk_image ($(grep '^JAVA_RUNTIME_VERSION=' "$JAVA_HOME/release" | cut -d'"' -f2))"

echo "RUNTIME_IMAGE=$runtime_image"
echo "JDK_IMAGE=$jdk_image"
