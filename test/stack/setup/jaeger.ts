// vitest globalSetup: starts (or shares) the test stack's jaeger server for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('jaeger', await acquire('jaeger'));
}

export async function teardown(): Promise<void> {
  await release('jaeger');
}
