# Sourced by ./sdt and .ci/run: selects a JDK 25 into JAVA_HOME or fails with a clear message.
# Order: $JAVA_HOME if it is 25+, then Temurin 25 under /usr/lib/jvm, then any JDK 25+ there, then java on PATH.
# The JDK's version: from its `release` file (every JDK 9+ has one) without starting a JVM, which would take
# ~50 ms of each ./sdt start; from the JVM's own properties where there is no such file.
sdt_java_major() {
  local v
  [ -r "$1/release" ] && v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -1)
  [ -n "${v:-}" ] && { echo "$v"; return; }
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}
sdt_select_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk* /usr/lib/jvm/*25* /usr/lib/jvm/* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(sdt_java_major "$c")
    if [ -n "$v" ] && [ "${v%%.*}" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME="$c"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "error: SDT needs a JDK 25 and none was found (looked at \$JAVA_HOME, /usr/lib/jvm and java on PATH)." >&2
  echo "       Install Temurin 25 (e.g. apt-get install temurin-25-jdk) or set JAVA_HOME to a JDK 25." >&2
  return 1
}
# Maven under JDK 25 prints Unsafe warnings from its bundled libraries (research P7).
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
