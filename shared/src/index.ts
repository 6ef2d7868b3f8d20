/**
 * @edgeseg/shared: what device and edge must agree on. No DOM, no Worker globals,
 * no side effects on import. Secure aggregation (`@edgeseg/shared/secure`, with HPKE)
 * and the DP samplers (`@edgeseg/shared/dp`) are separate entry points, so the core SDK
 * bundle never pulls them in.
 */
export * from './validate.ts';
export * from './random.ts';
export * from './period.ts';
export * from './events.ts';
export * from './features/schema.ts';
export * from './features/state.ts';
export * from './features/vector.ts';
export * from './manifest.ts';
export * from './model-etag.ts';
export * from './assign.ts';
export * from './lifecycle.ts';
export * from './budget.ts';
export * from './grr.ts';
export * from './reports.ts';
export * from './rounds.ts';
export * from './counts-measure.ts';
export * from './campaigns.ts';
export * from './impressions.ts';
export * from './profile.ts';
export * from './kmeans/index.ts';
