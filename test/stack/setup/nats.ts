// vitest globalSetup: starts (or shares) the test stack's nats server for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('nats', await acquire('nats'));
}

export async function teardown(): Promise<void> {
  await release('nats');
}
