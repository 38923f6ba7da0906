#!/usr/bin/env bash
# extra-lua.sh: installs the Lua 5.1 interpreter from Debian. Argo CD runs resource health checks
# in gopher-lua, a Lua 5.1 implementation, so the chart's Argo CD health script
# (charts/eventrunner/argocd/health.lua) is tested under Lua 5.1 by test/unit/chart/argocd.test.ts.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

pkg=lua5.1
if command -v lua5.1 >/dev/null 2>&1; then
  info "lua5.1: installed ($(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo unknown))"
  exit 0
fi
step "Installing $pkg from Debian"
need_cmd apt-get "install Lua 5.1 yourself and put lua5.1 on PATH"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "installing $pkg needs root" \
    "run: sudo apt-get install -y $pkg, then npm run tools again"
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "$pkg" >"$ER_CACHE/lua-apt.log" 2>&1; then
  info "package lists may be stale: apt-get update"
  $sudo apt-get update >>"$ER_CACHE/lua-apt.log" 2>&1 || true
  $sudo apt-get install -y --no-install-recommends "$pkg" >>"$ER_CACHE/lua-apt.log" 2>&1 \
    || die "apt-get install $pkg failed (log: $ER_CACHE/lua-apt.log)" \
      "check that Debian's package mirror is reachable and run npm run tools again"
fi
info "lua5.1: $(command -v lua5.1)"
