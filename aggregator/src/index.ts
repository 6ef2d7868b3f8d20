/** @edgeseg/aggregator: Durable Object shells and the pure logic behind them. */
export { SegmentTally, type AddReportsResult } from './segment-tally.ts';
export { ModelRegistry, type PublishedModel } from './model-registry.ts';
export { summariseTally, type SegmentCount, type TallySummary } from './tally.ts';
