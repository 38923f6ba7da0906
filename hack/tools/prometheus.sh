#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's packages (2.42 on bookworm) and links them into
# the eventrunner cache, where the test stack looks for its binaries. The tests use Prometheus to
# scrape the workloads and run every dashboard and alert query; promtool checks and unit-tests the
# chart's alerting rules. Building Prometheus from the Go module proxy would need its web UI built
# with npm as well; the Debian package is the same server, prebuilt.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  step "Installing $PROMETHEUS_DEBIAN_PACKAGE from Debian"
  apt_install "$PROMETHEUS_DEBIAN_PACKAGE" prometheus
  # The package may start a system-wide server; the test stack runs its own on a free port instead.
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd service prometheus stop >/dev/null 2>&1 || true
fi
ln -sf "$(command -v prometheus)" "$ER_BIN/prometheus"
ln -sf "$(command -v promtool)" "$ER_BIN/promtool"
info "prometheus: $(dpkg-query -W -f='${Version}' "$PROMETHEUS_DEBIAN_PACKAGE" 2>/dev/null || echo unknown)"
