/** The leader role: talks to devices, keeps its share of each round, asks the helper to release, and closes rounds. */
export { RoundCoordinator, MAX_CLOSE_ATTEMPTS, retryDelayS, type CoordinatorEnv } from './round-coordinator.ts';
export { RoundShard, RELAY_BATCH, type CloseSummary, type LeaderShardItem, type RelayItem } from './round-shard.ts';
export { ingestSecureReport, localShardItem, type LeaderIngest } from './ingest.ts';
export { openOnHelper, requestHelperAggregate, type HelperOpening, type HelperTarget } from './helper-client.ts';
