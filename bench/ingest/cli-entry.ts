// Runs `eventrunner` from source, as bin/eventrunner.js does from the build.
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
