// The subcommand table: one registerCommand() per subcommand; each module loads only when it runs.
import { registerCommand } from '../main.js';

export { registerCommand };
