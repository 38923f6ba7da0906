// vitest globalSetup: starts (or shares) the test stack's prometheus server for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('prometheus', await acquire('prometheus'));
}

export async function teardown(): Promise<void> {
  await release('prometheus');
}
