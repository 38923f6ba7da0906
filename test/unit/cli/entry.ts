// Runs the eventrunner CLI from source exactly as bin/eventrunner.js runs it from the build.
import { main } from '../../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
