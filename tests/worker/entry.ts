/**
 * The worker tests' main module: the leader Worker exactly as deployed, plus the
 * helper's Durable Object classes, so tests that need the helper run it in the same
 * workerd under its own bindings (HELPER_COORDINATOR, HELPER_SHARD) and storage.
 */
export { default } from '../../worker/src/index.ts';
export * from '../../worker/src/index.ts';
export { HelperCoordinator, HelperShard } from '@edgeseg/aggregator';
