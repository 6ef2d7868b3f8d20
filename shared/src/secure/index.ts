/**
 * Secure aggregation primitives (DESIGN.md §5): fixed-point encoding of contributions,
 * Prio3 reports with validity proofs (`@divviup/prio3`), Field128 vectors for the
 * aggregators' sums and noise, HPKE sealing of the input shares, and the runtime
 * validators of the round wire contract. (Additive sharing mod 2^32 stays for the
 * simulator's fast share path.)
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
  MAX_D,
  MAX_GROUPS,
  MAX_K,
  MAX_SLICES,
  MAX_VECTOR_LENGTH,
  ROUND_ID_PATTERN,
  buildSecureContribution,
  buildSecureCountContribution,
  MAX_CONTRIBUTION_BODY_BYTES,
  MAX_SECURE_KMEANS_LENGTH,
  secureReportBytes,
  parseHpkeConfig,
  parseLocalContribution,
  parseRoundDescriptor,
  parseSecureContribution,
  sameHpkeConfig,
  sealSecureVector,
} from './contribution.ts';
export { openAndPrepare, type SealedReport } from './open-report.ts';
export {
  FIELD,
  FIELD_ELEMENT_BYTES,
  addFieldInto,
  addFieldNoise,
  combineFieldShares,
  decodeFieldVector,
  encodeFieldVector,
  fieldFromSigned,
  signedFromField,
  zeroFieldVector,
} from './field.ts';
export {
  NONCE_BYTES,
  SUMVEC_BITS,
  SUMVEC_OFFSET,
  VERIFY_KEY_BYTES,
  measurementOf,
  newVerifyKey,
  prepareReport,
  removeOffset,
  reportGroup,
  reportNonce,
  reportSizes,
  shardReport,
  vdafFor,
  verifyReport,
  type PreparedReport,
  type ReportVdaf,
} from './prio3.ts';
