/** @edgeseg/aggregator: Durable Object shells and the pure logic behind them. */
export { SegmentTally, type AddReportsResult } from './segment-tally.ts';
export { ModelRegistry, type PublishedModel } from './model-registry.ts';
export { lifecycleRelease, summariseTally, type LifecycleRelease, type LifecycleShare, type SegmentCount, type TallySummary } from './tally.ts';
export { importSigningKey, signModel, type SigningKey } from './signing.ts';
export { RoundShard, isRoundSealedError, type ShardItem, type RelayItem } from './round-shard.ts';
export { RoundCoordinator, uint32ToBase64, base64ToUint32, type CoordinatorEnv, type HelperRelease } from './round-coordinator.ts';
export { shardOf, bucketKey } from './round/shard-key.ts';
export { idDigest, type Bucket } from './round/bucket.ts';
export { publicRound, type RoundRecord, type PublicRound, type RoundResult } from './round/record.ts';
export { updateCentroids, type DecodedAggregate, type CentroidUpdate } from './round/kmeans-update.ts';
export { closeKmeansRound, selectorOf, type BatchSelector } from './round/close.ts';
export { K_SENTINEL, chooseK, padCandidate, type KCandidate } from './round/k-select.ts';
export { nextManifest, generatedLabels } from './round/next-model.ts';
export { centroidShift, shareShift, trainingDue, DEFAULT_TRAINING, type TrainingSettings } from './round/drift.ts';
export * from './training/index.ts';
export { KeyRing, type RingState } from './key-ring.ts';
export { currentModelSigningKey, keyRingOf, publishSignedModel, type RingSigningEnv } from './ring-signing.ts';
export { currentKey, hpkeKeyForShare, keptHpkeKeys, neededConfigIds, publishedSigningKeys, type HpkeKeyRow, type SigningKeyRow } from './key-rotation.ts';
