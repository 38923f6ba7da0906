#!/usr/bin/env bash
# Builds kube-apiserver and kubectl from the k8s.io/kubernetes Go module at KUBERNETES_VERSION.
# `go install k8s.io/kubernetes/cmd/...` is refused because kubernetes' go.mod replaces its
# staging modules with local paths, so a wrapper module requires kubernetes and points every
# k8s.io staging module at the matching v0.x release.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

name=kube
if stamp_ok "$name" "$KUBERNETES_VERSION" && [ -x "$ER_BIN/kube-apiserver" ] && [ -x "$ER_BIN/kubectl" ]; then
  info "kube-apiserver and kubectl $KUBERNETES_VERSION: cached"
  exit 0
fi
need_cmd go "install Go 1.26 or newer (https://go.dev/doc/install) and re-run npm run tools"

step "Building kube-apiserver and kubectl $KUBERNETES_VERSION (cold: about 4 minutes on 2 cores)"
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
patch="${KUBERNETES_VERSION##*.}"
staging_version="v0.${minor}.${patch}"
work="$ER_CACHE/build/kube"
go_wrapper_module "$work" kube

info "resolving k8s.io/kubernetes $KUBERNETES_VERSION"
modfile="$(cd "$work" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -f "$modfile" ] || die "could not download k8s.io/kubernetes@$KUBERNETES_VERSION" \
  "check that the Go module proxy is reachable (go env GOPROXY) and the version in hack/versions.env exists"

{
  printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
  grep -E '=> \./staging/' "$modfile" | awk -v v="$staging_version" '{printf "\t%s => %s %s\n", $1, $1, v}'
  printf ')\n'
} >> "$work/go.mod"
cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

info "go mod tidy (downloads the apiserver's dependencies once; later builds reuse GOMODCACHE)"
(cd "$work" && go mod tidy) || die "go mod tidy failed for the kube wrapper module" \
  "see the error above; a missing staging module version usually means KUBERNETES_VERSION and the v0.x staging tag disagree"

ts="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$ts"
done
for cmd in kube-apiserver kubectl; do
  info "go build $cmd"
  (cd "$work" && go build -trimpath -ldflags "$ldflags" -o "$ER_BIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd") \
    || die "building $cmd failed" "see the compiler output above; a build needs ~4 GB of free memory"
  mv "$ER_BIN/$cmd.tmp" "$ER_BIN/$cmd"
done
"$ER_BIN/kube-apiserver" --version | grep -q "$KUBERNETES_VERSION" \
  || die "kube-apiserver does not report $KUBERNETES_VERSION" "delete $ER_BIN/kube-apiserver and re-run npm run tools"
stamp_set "$name" "$KUBERNETES_VERSION"
info "kube-apiserver: $("$ER_BIN/kube-apiserver" --version)"
