#!/usr/bin/env bash
# extra-flink.sh: builds hack/flink (flink-sql-harness: Apache Flink SQL at FLINK_VERSION, run
# in-process on a local mini cluster) into the eventrunner cache. The query engine's differential
# tests use it as an oracle and bench uses it as a per-core baseline (hack/flink/README.md).
# Maven's local repository is $ER_CACHE/m2, so the cache holds everything the harness runs from:
#   $ER_CACHE/flink-$FLINK_VERSION/{flink-sql-harness.jar,classpath}  and  $ER_BIN/flink-sql-harness
# Rebuilds only when the version, the harness sources or this script change.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

src="$ROOT_DIR/hack/flink"
bin="flink-sql-harness"
dest="$ER_CACHE/flink-$FLINK_VERSION"
m2="$ER_CACHE/m2"
retry="bash hack/tools/extra-flink.sh"
sources_hash() {
  (cd "$src" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum) | cat - "${BASH_SOURCE[0]}" \
    | sha256sum | cut -c1-16
}
stamp="$FLINK_VERSION-$(sources_hash)"

# Cached: same stamp, the wrapper and the jar present, and every jar of the classpath still there.
cached() {
  stamp_ok flink "$stamp" && [ -x "$ER_BIN/$bin" ] && [ -f "$dest/$bin.jar" ] && [ -s "$dest/classpath" ] || return 1
  local jar
  while IFS= read -r -d: jar || [ -n "$jar" ]; do [ -f "$jar" ] || return 1; done < "$dest/classpath"
}
if cached; then
  info "$bin (flink $FLINK_VERSION): cached"
  exit 0
fi

need_cmd mvn "install Maven (Debian: apt-get install maven), then run: $retry"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
need_cmd "$java" "install a Java 17 JDK (Debian: apt-get install openjdk-17-jdk-headless), then run: $retry"
command -v "${JAVA_HOME:+$JAVA_HOME/bin/}javac" >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless flink
java="$(readlink -f "$(command -v "$java")")"
major="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${major:-0}" -ge 17 ] 2>/dev/null \
  || die "Flink $FLINK_VERSION needs Java 17 or newer; $java is Java ${major:-unknown}" \
    "install openjdk-17-jdk-headless (or set JAVA_HOME to a JDK 17 or 21), then run: $retry"

step "Building $bin with Apache Flink $FLINK_VERSION (Maven repository: $m2)"
build="$ER_CACHE/build/flink-harness"
rm -rf "$build" "$dest.tmp"
mkdir -p "$dest.tmp"
log="$ER_CACHE/flink-build.log"
if ! JAVA_HOME="$(dirname "$(dirname "$java")")" mvn -B -f "$src/pom.xml" -Dmaven.repo.local="$m2" \
  -Dflink.version="$FLINK_VERSION" -Dharness.build.dir="$build" \
  package dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$dest.tmp/classpath" \
  >"$log" 2>&1; then
  grep -E '^\[(ERROR|WARNING)\]' "$log" | head -20 >&2
  rm -rf "$dest.tmp"
  die "building $bin with Flink $FLINK_VERSION failed (Maven log: $log)" \
    "check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml) and FLINK_VERSION in hack/versions.env, then run: $retry"
fi
cp "$build/$bin.jar" "$dest.tmp/$bin.jar"
rm -rf "$dest" && mv "$dest.tmp" "$dest"

# Flink's own launcher passes these to the JVM so that its serializers may reach into the JDK.
opens="-XX:+IgnoreUnrecognizedVMOptions"
for p in java.lang java.net java.io java.nio sun.nio.ch java.lang.reflect java.text java.time java.util \
  java.util.concurrent java.util.concurrent.atomic java.util.concurrent.locks; do
  opens="$opens --add-opens=java.base/$p=ALL-UNNAMED"
done
opens="$opens --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED"
cat > "$ER_BIN/$bin.tmp" <<WRAPPER
#!/usr/bin/env bash
# $bin: Apache Flink SQL $FLINK_VERSION in-process (hack/flink/README.md). Built by
# hack/tools/extra-flink.sh. Environment: FLINK_HARNESS_JAVA (default: the Java it was built with),
# FLINK_HARNESS_JAVA_OPTS, FLINK_HARNESS_LOG (Flink's log file), FLINK_HARNESS_DEBUG=1 (timings).
set -euo pipefail
dir="$dest"
# cases: many small jobs, where planning dominates and C2 compilation does not pay off.
jit=""
[ "\${1:-}" = cases ] && jit="-XX:TieredStopAtLevel=1"
exec "\${FLINK_HARNESS_JAVA:-$java}" \$jit \${FLINK_HARNESS_JAVA_OPTS:-} $opens \\
  -Dflink.harness.log="\${FLINK_HARNESS_LOG:-\${TMPDIR:-/tmp}/$bin.log}" \\
  -cp "\$dir/$bin.jar:\$(cat "\$dir/classpath")" io.eventrunner.flink.Harness "\$@"
WRAPPER
chmod +x "$ER_BIN/$bin.tmp" && mv "$ER_BIN/$bin.tmp" "$ER_BIN/$bin"
stamp_set flink "$stamp"
info "$bin: $ER_BIN/$bin ($(tr ':' '\n' < "$dest/classpath" | wc -l) jars from $m2)"
