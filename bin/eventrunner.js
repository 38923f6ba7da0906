#!/usr/bin/env node
// The eventrunner CLI: `operator`, `ingest`, `process` (what the pods run), `validate` and `test`.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
