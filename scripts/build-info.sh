#!/usr/bin/env bash
# Writes what `sdt --version` says about the build: the project version, the git commit it was built from
# (with -dirty when tracked files differ from it) and the build date. Run by the build (tunnel-server's
# generate-resources phase) into target/classes/io/sdt/server/build-info.properties.
# Never fails the build: without git, or outside a checkout, the commit is "unknown". The file is rewritten
# only when its content changes, so a build that changed nothing leaves the jar alone.
# SOURCE_DATE_EPOCH, when set, gives the build date (reproducible builds).
# usage: scripts/build-info.sh OUT.properties VERSION
set -u
out=$1 version=$2
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
commit=unknown
if command -v git >/dev/null 2>&1 && c=$(git -C "$root" rev-parse --short HEAD 2>/dev/null) && [ -n "$c" ]; then
  commit=$c
  git -C "$root" diff --quiet HEAD -- 2>/dev/null || commit="$commit-dirty"
fi
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  built=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F 2>/dev/null || echo unknown)
else
  built=$(date -u +%F)
fi
mkdir -p "$(dirname "$out")" || exit 0
tmp="$out.tmp.$$"
printf 'version=%s\ncommit=%s\nbuilt=%s\n' "$version" "$commit" "$built" >"$tmp" || { rm -f "$tmp"; exit 0; }
if cmp -s "$tmp" "$out"; then
  rm -f "$tmp"
else
  mv -f "$tmp" "$out" || rm -f "$tmp"
fi
exit 0
