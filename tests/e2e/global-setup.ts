import type { TestProject } from 'vitest/node';
import { assertChromium } from '../support/chromium.ts';
import { startStack, type RunningStack } from '../support/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    /** The shared stack's helper aggregator. */
    helperUrl: string;
    authJwk: string;
    modelJwk: string;
  }
}

let stack: RunningStack | undefined;

/**
 * One real stack for every browser test; K_THRESHOLD 1 so a handful of reports shows.
 * These tests watch the randomized reports (GRR) leave the page, so the stack counts by
 * GRR explicitly (two-aggregator stacks count securely by default).
 */
export async function setup(project: TestProject): Promise<void> {
  assertChromium();
  stack = await startStack({ K_THRESHOLD: '1', MEASUREMENT: 'grr' });
  project.provide('baseUrl', stack.baseUrl);
  project.provide('helperUrl', stack.helperUrl);
  project.provide('authJwk', stack.authJwk);
  project.provide('modelJwk', stack.modelJwk);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
}
