// A vitest reporter that only starts servers: when a run starts, it starts at once every server
// the run's projects name (their globalSetup files would otherwise start them one after another,
// project by project), and lets go of them when the run ends. vitest.config.ts passes each
// project's servers.
import type { Reporter, TestSpecification } from 'vitest/node';
import type { ServerKind } from './env.js';
import { prestart } from './registry.js';

export interface StartServersOptions {
  /** Project name → the servers its globalSetup files start. */
  servers: Record<string, ServerKind[]>;
}

export default class StartServers implements Reporter {
  private release: (() => Promise<void>) | undefined;

  constructor(private readonly options: StartServersOptions) {}

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    const kinds = new Set(specifications.flatMap((s) => this.options.servers[s.project.name] ?? []));
    const previous = this.release;
    this.release = prestart([...kinds]);
    void previous?.();
  }

  async onTestRunEnd(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    await release?.();
  }
}
