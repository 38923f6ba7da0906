#!/usr/bin/env bash
# The static checks `npm test` runs before the tests: eslint, prettier and the type-check side by
# side (the 2 cores take them in about the time of the longest), then the build. The build emits
# without checking types again (`--noCheck`: the type-check just did; the output is the same as
# `npm run build`'s). Fails when any of them fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npx eslint . &
eslint=$!
npx prettier --check . &
prettier=$!
npm run --silent typecheck && npx tsc -p tsconfig.build.json --noCheck
built=$?
wait "$eslint"
linted=$?
wait "$prettier"
formatted=$?
[ "$linted" -eq 0 ] || echo "eslint failed (npx eslint .)" >&2
[ "$formatted" -eq 0 ] || echo "prettier found files to format (npx prettier --check .; --write fixes)" >&2
[ "$built" -eq 0 ] || echo "type-check or build failed (npm run typecheck, npm run build)" >&2
[ "$linted" -eq 0 ] && [ "$formatted" -eq 0 ] && [ "$built" -eq 0 ]
