#!/usr/bin/env bash
# Installs ClickHouse from Debian's packages (clickhouse-server 18.16 on bookworm). It is old:
# docs/clickhouse.md lists what the code may rely on and where modern ClickHouse differs.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null 2>&1; then
  info "clickhouse-server: installed ($(dpkg-query -W -f='${Version}' "$CLICKHOUSE_DEBIAN_PACKAGE" 2>/dev/null || echo unknown))"
  exit 0
fi
step "Installing $CLICKHOUSE_DEBIAN_PACKAGE from Debian"
need_cmd apt-get "install ClickHouse yourself and put clickhouse-server on PATH"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "installing clickhouse-server needs root" \
    "run: sudo apt-get install -y $CLICKHOUSE_DEBIAN_PACKAGE, then npm run tools again"
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y --no-install-recommends "$CLICKHOUSE_DEBIAN_PACKAGE" >"$ER_CACHE/clickhouse-apt.log" 2>&1; then
  info "package lists may be stale: apt-get update"
  $sudo apt-get update >>"$ER_CACHE/clickhouse-apt.log" 2>&1 || true
  $sudo apt-get install -y --no-install-recommends "$CLICKHOUSE_DEBIAN_PACKAGE" >>"$ER_CACHE/clickhouse-apt.log" 2>&1 \
    || die "apt-get install $CLICKHOUSE_DEBIAN_PACKAGE failed (log: $ER_CACHE/clickhouse-apt.log)" \
      "check that Debian's package mirror is reachable and run npm run tools again"
fi
# The package may start a system-wide server; the test stack runs its own on a free port instead.
$sudo service clickhouse-server stop >/dev/null 2>&1 || true
info "clickhouse-server: $(dpkg-query -W -f='${Version}' "$CLICKHOUSE_DEBIAN_PACKAGE")"
