// vitest globalSetup: starts (or shares) the test stack's 3-node NATS JetStream cluster for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('nats-cluster', await acquire('nats-cluster'));
}

export async function teardown(): Promise<void> {
  await release('nats-cluster');
}
