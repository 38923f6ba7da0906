#!/usr/bin/env bash
# `npm test` once hack/prepare.sh has run: builds dist/ (some tests run the built CLI), then runs
# the static checks (hack/checks.sh: eslint, prettier and the type-check) beside the tests — the
# tests spend their first half-minute waiting for servers to start, and most of their time waiting
# on servers and processes. Arguments go to vitest. Fails when the build, a check or a test fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Emits without checking types (`--noCheck`: the type-check runs beside the tests); the output is
# the same as `npm run build`'s.
npx tsc -p tsconfig.build.json --noCheck || {
  echo "build failed (npm run build)" >&2
  exit 1
}
bash hack/checks.sh &
checks=$!
npx vitest run "$@"
tested=$?
wait "$checks"
checked=$?
[ "$checked" -eq 0 ] || echo "static checks failed (bash hack/checks.sh)" >&2
[ "$tested" -eq 0 ] && [ "$checked" -eq 0 ]
