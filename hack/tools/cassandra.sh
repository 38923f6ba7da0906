#!/usr/bin/env bash
# Fetches Apache Cassandra (cassandra-all and its runtime dependencies) from Maven Central into the
# cache. The test stack starts it from that classpath with a minimal single-node config.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

dest="$ER_CACHE/cassandra-$CASSANDRA_VERSION"
if stamp_ok cassandra "$CASSANDRA_VERSION" && [ -f "$dest/lib/cassandra-all-$CASSANDRA_VERSION.jar" ]; then
  info "cassandra $CASSANDRA_VERSION: cached"
  exit 0
fi
need_cmd java "install a Java 17 JDK (Debian: apt-get install openjdk-17-jre-headless)"
need_cmd mvn "install Maven (Debian: apt-get install maven)"
java -version 2>&1 | grep -qE 'version "(11|17)\.' \
  || info "warning: Cassandra 5.0 supports Java 11 and 17; found: $(java -version 2>&1 | head -1)"
step "Fetching Cassandra $CASSANDRA_VERSION from Maven Central"
rm -rf "$dest.tmp"
mvn -B -q -f "$HACK_DIR/tools/cassandra/pom.xml" -Dcassandra.version="$CASSANDRA_VERSION" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest.tmp/lib" \
  || die "Maven could not fetch org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION" \
    "check that Maven Central is reachable (mvn -v; ~/.m2/settings.xml) and the version in hack/versions.env"
rm -rf "$dest" && mv "$dest.tmp" "$dest"
stamp_set cassandra "$CASSANDRA_VERSION"
info "cassandra: $(ls "$dest/lib" | wc -l) jars in $dest/lib"
