// vitest globalSetup: starts (or shares) the test stack's kube server for the projects that need it.
import type { TestProject } from 'vitest/node';
import { acquire, release } from '../registry.js';

export async function setup(project: TestProject): Promise<void> {
  project.provide('kube', await acquire('kube'));
}

export async function teardown(): Promise<void> {
  await release('kube');
}
