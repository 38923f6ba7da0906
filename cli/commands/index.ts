// The subcommand table: one registerCommand() per subcommand; each module loads only when it runs.
import { registerCommand } from '../main.js';

export { registerCommand };

registerCommand('test', {
  summary: "run a Pipeline's rules offline on events and compare with expectations",
  load: () => import('./test.js'),
});
