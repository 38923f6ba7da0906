#!/usr/bin/env bash
# The static checks `npm test` runs beside the tests (hack/test.sh): eslint, prettier and the
# type-check side by side (the 2 cores take them in about the time of the longest). Fails when any
# of them fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx eslint . &
eslint=$!
npx prettier --check . &
prettier=$!
npm run --silent typecheck
typed=$?
wait "$eslint"
linted=$?
wait "$prettier"
formatted=$?
[ "$linted" -eq 0 ] || echo "eslint failed (npx eslint .)" >&2
[ "$formatted" -eq 0 ] || echo "prettier found files to format (npx prettier --check .; --write fixes)" >&2
[ "$typed" -eq 0 ] || echo "type-check failed (npm run typecheck)" >&2
[ "$linted" -eq 0 ] && [ "$formatted" -eq 0 ] && [ "$typed" -eq 0 ]
