// A reader that stops reading (`eventrunner test ... | head -1`) closes the pipe under stdout, and
// the next write fails with EPIPE. Unix tools end quietly then; without a listener Node would throw
// the error from the stream and print a stack trace. Exit status 0, because the reader has taken
// what it wanted and a `set -o pipefail` script should not fail for reading only the first lines.
let installed = false;

/** Ends the process quietly, with status 0, when stdout or stderr is a pipe whose reader has gone. */
export function exitQuietlyOnClosedOutput(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}
