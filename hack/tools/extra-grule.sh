#!/usr/bin/env bash
# extra-grule.sh: builds hack/grule (a small harness around the Grule rule engine,
# github.com/hyperjumptech/grule-rule-engine at GRULE_VERSION) into the eventrunner cache as
# grule-harness. The rule engine's differential test and bench/rules run it to compare
# eventrunner's compiled GRL with Grule itself. Rebuilds only when the version or the harness changes.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

src="$ROOT_DIR/hack/grule"
bin="grule-harness"
# The stamp covers the pinned version and the harness sources, so editing main.go rebuilds it.
stamp="$GRULE_VERSION-$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
if stamp_ok grule "$stamp" && [ -x "$ER_BIN/$bin" ]; then
  info "$bin (grule $GRULE_VERSION): cached"
  exit 0
fi
need_cmd go "install Go 1.26 or newer and re-run npm run tools"
grep -q "github.com/hyperjumptech/grule-rule-engine $GRULE_VERSION\$" "$src/go.mod" \
  || die "hack/grule/go.mod does not require grule-rule-engine $GRULE_VERSION" \
    "run: cd hack/grule && go get github.com/hyperjumptech/grule-rule-engine@$GRULE_VERSION && go mod tidy"
step "Building $bin with grule-rule-engine $GRULE_VERSION"
(cd "$src" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$ER_BIN/$bin" .) \
  || die "building $bin failed" "see the Go error above; check that the Go module proxy is reachable"
stamp_set grule "$stamp"
info "$bin: $ER_BIN/$bin"
