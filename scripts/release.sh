#!/usr/bin/env bash
# Makes the release tarball TARGET/sdt-VERSION-linux-x86_64.tar.gz (docs/INSTALL.md): one directory sdt-VERSION/
# that runs on a Linux x86_64 machine without a JDK:
#   runtime/      a Java runtime cut down with jlink to the modules of docker/Dockerfile's JLINK_MODULES
#   sdt.jar lib/  the application (lib/ as sdt.jar's manifest names it), lib/sdt.aot the JDK's AOT cache
#   native/       Netty's native libraries, taken out of their jars (java.library.path: nothing goes to /tmp)
#   bin/          the sdt and udp-encap-tun launchers (dist/bin/)
#   systemd/      sdt@, sdt-vpn@ and sdt-udp-encap-tun@ units (dist/systemd/)
#   completion/ man/man1/  bash and zsh completion and man pages, made from the command line (io.sdt.server.dist)
#   examples/ docs/ deploy/ README.md
# Run by the build (tunnel-server's package phase, after the jar, lib/ and the AOT cache); -Dsdt.release.skip=true
# skips it, and -Dsdt.aot.skip=true makes the release without an AOT cache.
# Fails the build only on a real error (a file missing, jlink failing), and never leaves a half-made or stale
# tarball: the old one goes first, the new one appears by rename once it is whole. On a machine that is not
# Linux x86_64 it makes none and says so (the runtime and native libraries would be the wrong ones).
# The jlink'd runtime is kept in TARGET/release/runtime and made again only when the JDK or the modules change.
# usage: scripts/release.sh JAVA_HOME TARGET VERSION [AOT_SKIP]
set -euo pipefail
java_home=$1 target=$2 version=$3 aot_skip=${4:-false}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="sdt-$version"
out="$target/$name-linux-x86_64.tar.gz"
work="$target/release"
stage="$work/$name"
started=$SECONDS

rm -f "$out" "$out.part"
trap 'rc=$?; rm -rf "$stage" "$out.part"; [ "$rc" = 0 ] || echo "release: error: no tarball (exit $rc)" >&2' EXIT
fail() {
  echo "release: error: $*" >&2
  exit 1
}

if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
  echo "release: skipped: this is $(uname -s) $(uname -m), and the tarball carries a Linux x86_64 runtime and libraries"
  exit 0
fi
for tool in java jlink; do
  [ -x "$java_home/bin/$tool" ] || fail "$java_home/bin/$tool is missing: build with a JDK 25 (jlink makes the runtime)"
done
[ -f "$target/sdt.jar" ] && [ -d "$target/lib" ] || fail "$target/sdt.jar or $target/lib is missing: run after package"
# one module list for the image and the tarball; JlinkModulesIT checks it against what jdeps finds
modules=$(sed -n 's/^ARG JLINK_MODULES=//p' "$root/docker/Dockerfile")
[ -n "$modules" ] || fail "no 'ARG JLINK_MODULES=' line in docker/Dockerfile"

mkdir -p "$work"
rm -rf "$stage"
mkdir -p "$stage"/{bin,lib,systemd,examples,docs}

# The runtime. Uncompressed modules (no --compress, unlike the image's zip-6): the tarball's gzip compresses them
# better than jlink's zip does (a tarball 8 MB smaller), jlink takes half the time (4 s instead of 7 s here), and
# classes the AOT cache lacks load faster; unpacked it is 96 MB instead of 64 MB.
jlink_flags="--strip-java-debug-attributes --no-man-pages --no-header-files"
key="$("$java_home/bin/java" -version 2>&1 | tr '\n' ' ')| $modules | $jlink_flags"
runtime="$work/runtime"
t=$SECONDS
if [ -x "$runtime/bin/java" ] && [ "$(cat "$runtime.key" 2>/dev/null)" = "$key" ]; then
  echo "release: runtime from $runtime (same JDK and modules)"
else
  rm -rf "$runtime" "$runtime.key"
  # shellcheck disable=SC2086
  "$java_home/bin/jlink" --add-modules "$modules" $jlink_flags --output "$runtime"
  printf '%s' "$key" >"$runtime.key"
fi
cp -a "$runtime" "$stage/runtime"
took="runtime $((SECONDS - t)) s"

# the application, with the modification times the AOT cache will record
cp -p "$target/sdt.jar" "$stage/"
cp -p "$target"/lib/*.jar "$stage/lib/"
# completion, man pages and native libraries, from the jars just copied, in one JVM
"$java_home/bin/java" -cp "$stage/sdt.jar" io.sdt.server.dist.DistFiles "$stage"

install -m 0755 "$root/dist/bin/sdt" "$root/dist/bin/udp-encap-tun" "$stage/bin/"
install -m 0644 "$root"/dist/systemd/*.service "$stage/systemd/"
install -m 0644 "$root"/examples/*.yaml "$stage/examples/"
install -m 0644 "$root"/docs/*.md "$stage/docs/"
install -m 0644 "$root/README.md" "$stage/"
# Prometheus rules, the Grafana dashboard and the Kubernetes manifests the README points at
mkdir -p "$stage/deploy"
cp -R "$root/deploy/." "$stage/deploy/"
chmod -R a+rX,go-w "$stage/deploy"
for f in LICENSE LICENSE.txt NOTICE; do
  [ ! -f "$root/$f" ] || install -m 0644 "$root/$f" "$stage/"
done

# The AOT cache, from a training run of `sdt demo` on this runtime and these jars (scripts/aot-train.sh, which
# never fails: without a cache the release starts more slowly). The JVM accepts it after the tree is unpacked
# anywhere else: it matches the runtime and the jars by their common path prefix, size and modification time.
t=$SECONDS
if [ "$aot_skip" = true ]; then
  echo "release: no AOT cache (-Dsdt.aot.skip=true)"
else
  bash "$root/scripts/aot-train.sh" "$stage/runtime/bin/java" "$stage/sdt.jar" "$stage/lib/sdt.aot"
  mv -f "$stage/lib/sdt.aot.log" "$work/aot-train.log"
  rm -f "$stage/lib/sdt.aot.config"
fi
took="$took, AOT cache $((SECONDS - t)) s"

chmod -R a+rX,go-w "$stage"
t=$SECONDS
sort=()
tar --sort=name -cf /dev/null -T /dev/null 2>/dev/null && sort=(--sort=name)
# gzip -4: 69 MB in 5 s here, where -6 takes 8.5 s for 67 MB
tar "${sort[@]}" --owner=0 --group=0 --numeric-owner -C "$work" -cf - "$name" | gzip -4 >"$out.part"
mv -f "$out.part" "$out"
took="$took, tar.gz $((SECONDS - t)) s"
echo "release: $out ($(($(stat -c %s "$out") / 1048576)) MiB) in $((SECONDS - started)) s ($took)"
