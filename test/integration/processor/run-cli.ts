// Runs the eventrunner CLI from source, so tests exercise `eventrunner process` as pods run it.
import { main } from '../../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
