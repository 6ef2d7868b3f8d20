/**
 * @edgeseg/shared: what device and edge must agree on. No DOM, no Worker globals,
 * no side effects on import.
 */
export * from './validate.ts';
export * from './random.ts';
export * from './period.ts';
export * from './events.ts';
export * from './features/schema.ts';
export * from './features/state.ts';
export * from './features/vector.ts';
export * from './manifest.ts';
export * from './assign.ts';
export * from './lifecycle.ts';
export * from './grr.ts';
export * from './reports.ts';
export * from './rounds.ts';
export * from './dp/index.ts';
export * from './secure/index.ts';
