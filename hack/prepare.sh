#!/usr/bin/env bash
# Makes a fresh checkout ready: npm dependencies (when missing or older than the lockfile) and the
# provisioned servers (npm run tools). `npm test` and `npm run demo` call it first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT_DIR"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "Installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund || die "npm ci failed" "check that the npm registry is reachable, then re-run"
fi
bash "$HACK_DIR/tools.sh"
