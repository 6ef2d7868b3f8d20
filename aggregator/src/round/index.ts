/**
 * `@edgeseg/aggregator/rounds`: the pure round logic without the Durable Object shells
 * (no `cloudflare:workers` import), for the simulator, benchmarks and round planning.
 */
export { addToBucket, bucketIn, emptyBucket, idDigest, mergeBucket, type Bucket } from './bucket.ts';
export { agreeOnBatch, closeKmeansRound, RETRYABLE_RELEASE_RULES, RetryCloseLater, selectorOf, type AgreedBatch, type BatchSelector, type CloseDeps, type CloseOutcome, type HelperAggregate } from './close.ts';
export { closeCountsRound, type CountsOutcome } from './close-counts.ts';
export { centroidShift, shareShift, trainingDue, DEFAULT_TRAINING, type TrainingSettings } from './drift.ts';
export { K_SENTINEL, chooseK, liveRows, padCandidate, scoreCandidate, trimToLive, type KCandidate } from './k-select.ts';
export { updateCentroids, type CentroidUpdate, type DecodedAggregate } from './kmeans-update.ts';
export { generatedLabels, nextManifest } from './next-model.ts';
export { countNoiseVariance, mechanismOf, publicRound, roundSigma2, type PublicRound, type RoundRecord, type RoundResult, type RoundState } from './record.ts';
export { bucketKey, shardOf } from './shard-key.ts';
export { base64ToFieldVector, fieldVectorToBase64 } from './wire.ts';
export { TRAINING_ENCODING } from '../training/encoding.ts';
export { dataIndependentStart, START_HALF_WIDTH } from '../training/schedule.ts';
