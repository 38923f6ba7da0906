#!/usr/bin/env bash
# `npm run tools`: provisions every server and tool eventrunner's tests, benchmarks and demo use,
# from the package registries, into ~/.cache/eventrunner (override with EVENTRUNNER_CACHE).
# Idempotent: a second run finds everything cached and does no work. Versions: hack/versions.env.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
T="$HACK_DIR/tools"
started=$SECONDS

step "eventrunner tools -> $ER_CACHE (versions pinned in hack/versions.env)"
bash "$T/clickhouse.sh"
bash "$T/kube.sh"
bash "$T/go-install.sh" etcd "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd
bash "$T/go-install.sh" nats-server "$NATS_SERVER_VERSION" github.com/nats-io/nats-server/v2 nats-server
bash "$T/go-install.sh" natscli "$NATSCLI_VERSION" github.com/nats-io/natscli/nats nats
bash "$T/go-install.sh" helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm helm \
  "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
bash "$T/cassandra.sh"
for extra in "$T"/extra-*.sh; do
  [ -e "$extra" ] && bash "$extra"
done
step "tools ready in $((SECONDS - started))s: $ER_BIN"
