/** Worker entry point: the API app plus the Durable Object classes wrangler binds. */
import { createApp } from './app.ts';

export { ModelRegistry, SegmentTally } from '@edgeseg/aggregator';

export default createApp();
