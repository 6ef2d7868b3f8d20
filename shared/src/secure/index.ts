/**
 * Secure aggregation primitives (DESIGN.md §5): fixed-point encoding of contributions,
 * additive sharing mod 2^32 with a seed-compressed helper share, HPKE sealing of the
 * shares, and the runtime validators of the round wire contract.
 */
export { base64urlLength, base64urlToBytes, bytesToBase64url, bytesToUint32LE, isBase64url, uint32ToBytesLE, utf8 } from './bytes.ts';
export {
  MAX_ENCODING_BOUND,
  decodeCountAggregate,
  decodeKmeansAggregate,
  encodeCountContribution,
  encodeKmeansContribution,
  encodingScales,
  maxDevicesPerGroup,
  validateEncoding,
  vectorLength,
  type EncodingScales,
  type KmeansAggregate,
} from './encode.ts';
export { MAX_EXPANDED_WORDS, SEED_BYTES, addInto, combineShares, expandSeed, splitWithSeed } from './shares.ts';
export {
  CONTRIBUTION_INFO,
  HPKE_ENC_BYTES,
  HPKE_TAG_BYTES,
  ShareOpenError,
  contributionAad,
  generateHpkeKeyPair,
  hpkeConfigFromJwk,
  importHpkePrivateKey,
  openShare,
  sealShare,
  type AggregatorRole,
  type HpkePrivateJwk,
  type HpkeRecipientKey,
} from './hpke.ts';
export type { CryptoKeyLike, EcJwkFields } from './webcrypto.ts';
export { ROUND_DIGEST_BYTES, roundDigest, roundDigestInput } from './round-digest.ts';
export {
  CONTRIBUTION_ID_PATTERN,
  HELPER_CIPHERTEXT_BYTES,
  MAX_D,
  MAX_GROUPS,
  MAX_K,
  MAX_SLICES,
  MAX_VECTOR_LENGTH,
  ROUND_ID_PATTERN,
  buildSecureContribution,
  buildSecureCountContribution,
  leaderCiphertextBytes,
  parseHpkeConfig,
  parseLocalContribution,
  parseRoundDescriptor,
  parseSecureContribution,
  sameHpkeConfig,
  sealSecureVector,
} from './contribution.ts';
