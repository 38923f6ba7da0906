#!/usr/bin/env bash
# Installs ClickHouse from Debian's packages (clickhouse-server 18.16 on bookworm). It is old:
# docs/clickhouse.md lists what the code may rely on and where modern ClickHouse differs.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null 2>&1; then
  info "clickhouse-server: installed ($(dpkg-query -W -f='${Version}' "$CLICKHOUSE_DEBIAN_PACKAGE" 2>/dev/null || echo unknown))"
  exit 0
fi
step "Installing $CLICKHOUSE_DEBIAN_PACKAGE from Debian"
apt_install "$CLICKHOUSE_DEBIAN_PACKAGE" clickhouse
# The package may start a system-wide server; the test stack runs its own on a free port instead.
sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
$sudo_cmd service clickhouse-server stop >/dev/null 2>&1 || true
info "clickhouse-server: $(dpkg-query -W -f='${Version}' "$CLICKHOUSE_DEBIAN_PACKAGE")"
