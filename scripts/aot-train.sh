#!/usr/bin/env bash
# Makes the JDK's ahead-of-time cache for sdt (JEP 483 class loading and linking, JEP 514 one-step
# -XX:AOTCacheOutput, JEP 515 method profiles) from a training run of `sdt demo`: a server and a client in
# one JVM carry TCP and UDP forwards over a TLS link, so the cache holds the classes, links and profiles of
# both roles' start and data paths. Run by the build (tunnel-server's package phase); ./sdt and the Docker
# image use the cache when it is there and valid, and start without it otherwise.
# Never fails the build: without a cache sdt only starts more slowly.
# usage: scripts/aot-train.sh JAVA JAR CACHE
set -u
java=$1 jar=$2 cache=$3
rm -f "$cache" "$cache.config"
# the flags ./sdt runs with (the cache records the GC and the module options it was made under)
if timeout 120 "$java" -XX:AOTCacheOutput="$cache" --enable-native-access=ALL-UNNAMED \
    --sun-misc-unsafe-memory-access=allow -XX:+UseParallelGC -Dio.netty.leakDetection.level=disabled \
    -jar "$jar" demo >"$cache.log" 2>&1 && [ -s "$cache" ]; then
  echo "aot-train: AOT cache $cache ($(($(stat -c %s "$cache") / 1048576)) MiB) from a training run of sdt demo"
else
  echo "aot-train: no AOT cache (the training run failed; sdt starts without one): see $cache.log" >&2
  rm -f "$cache"
fi
exit 0
