#!/usr/bin/env bash
# prometheus-operator-crds.sh: generates the monitoring.coreos.com CRDs (PodMonitor, ServiceMonitor,
# PrometheusRule, …) of prometheus-operator PROMETHEUS_OPERATOR_VERSION into the eventrunner cache,
# the way that project makes its own: controller-gen (sigs.k8s.io/controller-tools at
# CONTROLLER_TOOLS_VERSION) run over the API types of its Go module
# github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring. The chart test installs
# them on the test kube-apiserver and has it validate the chart's monitoring objects.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

name="prometheus-operator-crds"
module="github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring"
out="$ER_CACHE/$name"
stamp="$PROMETHEUS_OPERATOR_VERSION-$CONTROLLER_TOOLS_VERSION"
if stamp_ok "$name" "$stamp" && [ -f "$out/monitoring.coreos.com_podmonitors.yaml" ]; then
  info "$name $PROMETHEUS_OPERATOR_VERSION: cached"
  exit 0
fi
need_cmd go "install Go 1.26 or newer and re-run npm run tools"
bash "$HACK_DIR/tools/go-install.sh" controller-gen "$CONTROLLER_TOOLS_VERSION" \
  sigs.k8s.io/controller-tools/cmd/controller-gen controller-gen
step "Generating the prometheus-operator $PROMETHEUS_OPERATOR_VERSION CRDs"
work="$ER_CACHE/build/$name"
go_wrapper_module "$work" "$name"
# controller-gen loads the API package with its imports, so the wrapper module must import it.
printf 'package tools\n\nimport _ "%s/v1"\n' "$module" > "$work/tools.go"
rm -rf "$out.tmp"
(cd "$work" && go get "$module@$PROMETHEUS_OPERATOR_VERSION" && go mod tidy \
  && "$ER_BIN/controller-gen" crd:crdVersions=v1 paths="$module/v1" output:crd:dir="$out.tmp") \
  || die "generating the prometheus-operator CRDs failed" \
    "see the Go error above; check PROMETHEUS_OPERATOR_VERSION and CONTROLLER_TOOLS_VERSION in hack/versions.env"
rm -rf "$out"
mv "$out.tmp" "$out"
stamp_set "$name" "$stamp"
info "$name: $out"
