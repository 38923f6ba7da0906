// A vitest reporter that writes the errors of failed hooks and modules (a beforeAll that threw or
// timed out, an import that failed) to a JSON file. vitest's JSON report keeps only tests' errors:
// when a suite's beforeAll fails its tests are reported as skipped, and the reason is lost. CI reads
// this file to name the reason last in its output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface SuiteErrorsOptions {
  outputFile: string;
}

export interface SuiteError {
  file: string;
  /** The suite's full name; empty for the module itself. */
  suite: string;
  message: string;
}

export default class SuiteErrors implements Reporter {
  constructor(private readonly options: SuiteErrorsOptions) {}

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const found: SuiteError[] = [];
    for (const m of testModules) {
      const at = (suite: string, errors: ReturnType<TestModule['errors']>) => {
        for (const e of errors)
          found.push({ file: m.moduleId, suite, message: String(e.stack || e.message || e.name) });
      };
      at('', m.errors());
      for (const s of m.children.allSuites()) at(s.fullName, s.errors());
    }
    mkdirSync(dirname(this.options.outputFile), { recursive: true });
    writeFileSync(this.options.outputFile, JSON.stringify(found, null, 1));
  }
}
