#!/usr/bin/env bash
# extra-chromium.sh: installs Chromium from Debian for the dashboard's browser tests
# (test/e2e/dashboard.test.ts drives it headless with playwright-core over the DevTools protocol;
# playwright's own browser download is not used). Linked as $ER_BIN/chromium, where the tests look.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

pkg="$CHROMIUM_DEBIAN_PACKAGE"
if ! command -v chromium >/dev/null 2>&1; then
  step "Installing $pkg from Debian"
  apt_install "$pkg" chromium
fi
# The browser binary itself, not Debian's /usr/bin/chromium launcher script, which reads desktop
# settings and adds flags of its own.
bin=/usr/lib/chromium/chromium
[ -x "$bin" ] || bin="$(command -v chromium)"
ln -sf "$bin" "$ER_BIN/chromium"
info "chromium: $(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo unknown) -> $ER_BIN/chromium"
