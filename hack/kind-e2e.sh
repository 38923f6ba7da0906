#!/usr/bin/env bash
# kind-e2e.sh: the quickstart on a real (kind) Kubernetes cluster, for anyone with Docker.
#
#   1. creates a kind cluster (or reuses one of the same name),
#   2. builds the eventrunner image and loads it into the cluster,
#   3. starts NATS, Cassandra and ClickHouse in the cluster (examples/kind/),
#   4. installs the Helm chart (charts/eventrunner) with that image,
#   5. applies examples/quickstart, waits for every resource to be Ready,
#   6. sends the quickstart events (twice: redelivery must not duplicate rows) through the HTTP
#      ingest, and checks the rows in Cassandra and ClickHouse and the dead letters against what
#      `eventrunner test` says the rules do with those events.
#
# Needs docker, kind, kubectl, helm and jq on PATH. Deletes the cluster at the end unless
# KEEP_CLUSTER=1. Settings: KIND_CLUSTER (eventrunner-e2e), IMAGE (eventrunner:e2e).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLUSTER="${KIND_CLUSTER:-eventrunner-e2e}"
IMAGE="${IMAGE:-eventrunner:e2e}"
RELEASE=eventrunner
RELEASE_NS=eventrunner-system
APP_NS=default
QS="$ROOT/examples/quickstart"
TOKEN=change-me-checkout-token # from examples/quickstart/eventsource.yaml
PORT=18080

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
for cmd in docker kind kubectl helm jq curl; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is not installed (needed: docker kind kubectl helm jq curl)"
done

pf_pid=""
cleanup() {
  status=$?
  [ -n "$pf_pid" ] && kill "$pf_pid" 2>/dev/null || true
  if [ "$status" != 0 ]; then
    step "FAILED (exit $status); cluster state for the record"
    kubectl get eventrunner,deployments,pods -A -o wide || true
    kubectl describe eventsources,sinks,pipelines -n "$APP_NS" || true
    kubectl logs -n "$RELEASE_NS" "deployment/$RELEASE" --tail=200 || true
    kubectl logs -n "$APP_NS" deployment/shop-ingest --tail=100 || true
    kubectl logs -n "$APP_NS" deployment/orders-processor --tail=100 || true
  fi
  if [ "${KEEP_CLUSTER:-0}" != 1 ]; then
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
  fi
  exit "$status"
}
trap cleanup EXIT

# waitfor SECONDS DESCRIPTION COMMAND...: retries COMMAND every 3s until it succeeds.
waitfor() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 3
  done
}

step "kind cluster $CLUSTER"
if ! kind get clusters | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

step "Building $IMAGE and loading it into the cluster"
docker build -t "$IMAGE" "$ROOT"
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "NATS, Cassandra and ClickHouse (examples/kind)"
kubectl apply -n "$APP_NS" -f "$ROOT/examples/kind/"
kubectl rollout status -n "$APP_NS" deployment/nats deployment/clickhouse deployment/cassandra --timeout=6m

step "helm install $RELEASE (charts/eventrunner)"
helm upgrade --install "$RELEASE" "$ROOT/charts/eventrunner" \
  --namespace "$RELEASE_NS" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set nats.url="nats://nats.$APP_NS.svc:4222" \
  --wait --timeout 3m

step "examples/quickstart"
kubectl apply -n "$APP_NS" -f "$QS/eventsource.yaml" -f "$QS/sinks.yaml" -f "$QS/pipeline.yaml"
kubectl wait -n "$APP_NS" --for=condition=Ready --timeout=5m \
  eventsource/shop sink/orders-scylla sink/orders-clickhouse pipeline/orders
kubectl get eventrunner -n "$APP_NS"

step "What the rules do with the quickstart events (eventrunner test, in the image)"
expected="$(docker run --rm -v "$QS:/quickstart:ro" "$IMAGE" \
  test -f /quickstart/pipeline.yaml --events /quickstart/events.jsonl | jq -s '{
    store: [.[] | select(.outcome == "routed" and (.routes | index("store"))) | .id] | unique | length,
    analytics: [.[] | select(.outcome == "routed" and (.routes | index("analytics"))) | .id] | unique | length,
    deadletter: [.[] | select(.outcome == "deadletter") | .id] | unique | length
  }')"
echo "$expected"
want_store=$(jq .store <<<"$expected")
want_analytics=$(jq .analytics <<<"$expected")
want_dlq=$(jq .deadletter <<<"$expected")
[ "$want_store" -gt 0 ] && [ "$want_analytics" -gt 0 ] || die "the quickstart routes nothing; nothing to check"

step "Sending the events through the ingest Service (twice)"
kubectl port-forward -n "$APP_NS" svc/shop-ingest "$PORT:8080" >/dev/null 2>&1 &
pf_pid=$!
# Any HTTP answer means the port-forward is up (a GET is refused with an error status, fine here).
waitfor 30 "the port-forward to the ingest Service" curl -s -o /dev/null -m 2 "http://127.0.0.1:$PORT/events"
for round in 1 2; do
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    curl -fsS -m 10 -o /dev/null -X POST "http://127.0.0.1:$PORT/events" \
      -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/cloudevents+json' \
      --data-binary "$line" || die "ingest refused an event (round $round): $line"
  done <"$QS/events.jsonl"
done

step "Rows in the sinks"
cassandra_rows() {
  kubectl exec -n "$APP_NS" deployment/cassandra -- cqlsh -u cassandra -p cassandra \
    -e 'SELECT count(*) FROM shop.orders' 2>/dev/null | awk '/^ *[0-9]+ *$/ {print $1; exit}'
}
clickhouse_rows() {
  kubectl exec -n "$APP_NS" deployment/clickhouse -- clickhouse-client \
    -q 'SELECT count() FROM analytics.orders FINAL' 2>/dev/null
}
dead_letters() {
  kubectl get pipeline -n "$APP_NS" orders -o jsonpath='{.status.deadLetters}'
}
check() {
  got_store=$(cassandra_rows || true)
  got_analytics=$(clickhouse_rows || true)
  got_dlq=$(dead_letters || true)
  echo "  cassandra shop.orders: ${got_store:-?}/$want_store  clickhouse analytics.orders: ${got_analytics:-?}/$want_analytics  dead letters: ${got_dlq:-?}/$want_dlq"
  [ "$got_store" = "$want_store" ] && [ "$got_analytics" = "$want_analytics" ] && [ "$got_dlq" = "$want_dlq" ]
}
waitfor 180 "the rows the rules route to each sink" check

kubectl get eventrunner -n "$APP_NS" -o wide
step "kind e2e passed"
