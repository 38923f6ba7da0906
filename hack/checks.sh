#!/usr/bin/env bash
# The static checks `npm test` runs before the tests: lint (eslint, prettier) beside the type-check
# and the build, which is what the 2 cores allow at once (about half the time of one after another).
# Fails when any of them fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent lint &
lint=$!
npm run --silent typecheck && npm run --silent build
built=$?
wait "$lint"
linted=$?
[ "$linted" -eq 0 ] || echo "lint failed (npm run lint)" >&2
[ "$built" -eq 0 ] || echo "type-check or build failed (npm run typecheck, npm run build)" >&2
[ "$linted" -eq 0 ] && [ "$built" -eq 0 ]
