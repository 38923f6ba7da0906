// Runs the eventrunner CLI from source, as bin/eventrunner.js does from the build.
import { main } from '../../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
