#!/usr/bin/env bash
# go-install.sh NAME VERSION PACKAGE [BINARY] [LDFLAGS]
# Builds PACKAGE@VERSION from the Go module proxy into the eventrunner cache. When the module's own
# go.mod has replace directives (which `go install pkg@version` refuses), it builds from a wrapper
# module that requires it instead.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

name="$1" version="$2" pkg="$3" bin="${4:-$1}" ldflags="${5:-}"
if stamp_ok "$name" "$version" && [ -x "$ER_BIN/$bin" ]; then
  info "$bin $version: cached"
  exit 0
fi
need_cmd go "install Go 1.26 or newer and re-run npm run tools"
step "Building $bin $version from $pkg"
if ! GOBIN="$ER_BIN" go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" 2>"$ER_CACHE/$name-install.err"; then
  if grep -q "replace directives" "$ER_CACHE/$name-install.err"; then
    info "module has replace directives: building through a wrapper module"
    work="$ER_CACHE/build/$name"
    go_wrapper_module "$work" "$name"
    printf 'package tools\n' > "$work/doc.go"
    (cd "$work" && go get "$pkg@$version" && go build -trimpath -ldflags "-s -w $ldflags" -o "$ER_BIN/$bin" "$pkg") \
      || die "building $bin $version failed" "see the Go error above; check the version in hack/versions.env"
  else
    cat "$ER_CACHE/$name-install.err" >&2
    die "go install $pkg@$version failed" "see the Go error above; check the version in hack/versions.env and that the Go module proxy is reachable"
  fi
fi
stamp_set "$name" "$version"
info "$bin: $ER_BIN/$bin"
