// vitest globalSetup: starts (or shares) the test stack's 3-node Cassandra cluster for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('cassandra-cluster', await acquire('cassandra-cluster'));
}

export async function teardown(): Promise<void> {
  await release('cassandra-cluster');
}
