// vitest globalSetup: starts (or shares) the test stack's clickhouse server for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('clickhouse', await acquire('clickhouse'));
}

export async function teardown(): Promise<void> {
  await release('clickhouse');
}
