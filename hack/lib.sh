#!/usr/bin/env bash
# Shared helpers for eventrunner's provisioning scripts. Source it; do not run it.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$HACK_DIR/.." && pwd)"
# shellcheck source=versions.env
source "$HACK_DIR/versions.env"

ER_CACHE="${EVENTRUNNER_CACHE:-$HOME/.cache/eventrunner}"
ER_BIN="$ER_CACHE/bin"
mkdir -p "$ER_BIN"

# Go builds are static and reproducible; keep Go's own caches where Go keeps them.
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--mod=mod}"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
info() { printf '    %s\n' "$*" >&2; }
die() {
  printf '\033[31merror:\033[0m %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '       what to do: %s\n' "$2" >&2
  exit 1
}

# stamp_ok NAME VERSION: true when NAME was already provisioned at VERSION.
stamp_ok() { [ -f "$ER_CACHE/stamps/$1" ] && [ "$(cat "$ER_CACHE/stamps/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$ER_CACHE/stamps"; printf '%s' "$2" > "$ER_CACHE/stamps/$1"; }

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed" "$2"
}

# go_tool_module DIR MODULE VERSION: prepare a throwaway wrapper module that requires MODULE@VERSION.
go_wrapper_module() {
  local dir="$1" name="$2"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf 'module eventrunner.io/tools/%s\n\ngo 1.26\n' "$name" > "$dir/go.mod"
}

# apt_install PACKAGE LOGNAME: installs a Debian package (with sudo when not root), refreshing the
# package lists once if the first attempt fails; dies with what to do.
apt_install() {
  local pkg="$1" log="$ER_CACHE/$2-apt.log" sudo=""
  need_cmd apt-get "install $pkg yourself and re-run npm run tools"
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "installing $pkg needs root" \
      "run: sudo apt-get install -y $pkg, then npm run tools again"
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends "$pkg" >"$log" 2>&1; then
    info "package lists may be stale: apt-get update"
    $sudo apt-get update >>"$log" 2>&1 || true
    $sudo apt-get install -y --no-install-recommends "$pkg" >>"$log" 2>&1 \
      || die "apt-get install $pkg failed (log: $log)" \
        "check that Debian's package mirror is reachable and run npm run tools again"
  fi
}
