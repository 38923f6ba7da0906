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
apt_install "$pkg" lua
info "lua5.1: $(command -v lua5.1)"
