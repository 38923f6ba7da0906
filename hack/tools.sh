#!/usr/bin/env bash
# `npm run tools`: provisions every server and tool eventrunner's tests, benchmarks and demo use,
# from the package registries, into ~/.cache/eventrunner (override with EVENTRUNNER_CACHE).
# Idempotent: a second run finds everything cached and does no work. Versions: hack/versions.env.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
T="$HACK_DIR/tools"
started=$SECONDS

step "eventrunner tools -> $ER_CACHE (versions pinned in hack/versions.env)"
# Jaeger, the trace backend of the observability tests, is the largest build. Its all-in-one
# distribution (collector, query API and in-memory storage in one binary) needs ~0.7 GB of modules
# and about 7 minutes cold on two cores; the v2 binary (cmd/jaeger, which links the whole
# OpenTelemetry collector and its exporters) needed 1.3 GB and 24 minutes. It builds in the
# background while the others download and build.
jaeger_log="$ER_CACHE/jaeger-build.log"
bash "$T/go-install.sh" jaeger-all-in-one "$JAEGER_VERSION" github.com/jaegertracing/jaeger/cmd/all-in-one \
  jaeger-all-in-one >"$jaeger_log" 2>&1 &
jaeger_pid=$!
# The prometheus-operator CRDs (controller-gen over its API module: ~0.3 GB of modules) likewise.
crds_log="$ER_CACHE/prometheus-operator-crds.log"
bash "$T/prometheus-operator-crds.sh" >"$crds_log" 2>&1 &
crds_pid=$!
bash "$T/clickhouse.sh"
bash "$T/kube.sh"
bash "$T/go-install.sh" etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd
bash "$T/go-install.sh" nats-server "$NATS_SERVER_VERSION" github.com/nats-io/nats-server/v2 nats-server
bash "$T/go-install.sh" natscli "$NATSCLI_VERSION" github.com/nats-io/natscli/nats nats
bash "$T/go-install.sh" helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
bash "$T/cassandra.sh"
bash "$T/prometheus.sh"
for extra in "$T"/extra-*.sh; do
  [ -e "$extra" ] && bash "$extra"
done
if ! wait "$jaeger_pid"; then
  cat "$jaeger_log" >&2
  die "building Jaeger $JAEGER_VERSION failed (log: $jaeger_log)" "see the Go error above; check JAEGER_VERSION in hack/versions.env"
fi
cat "$jaeger_log" >&2
if ! wait "$crds_pid"; then
  cat "$crds_log" >&2
  die "generating the prometheus-operator CRDs failed (log: $crds_log)" \
    "see the Go error above; check PROMETHEUS_OPERATOR_VERSION and CONTROLLER_TOOLS_VERSION in hack/versions.env"
fi
cat "$crds_log" >&2
step "tools ready in $((SECONDS - started))s: $ER_BIN"
