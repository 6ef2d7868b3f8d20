/**
 * `--encrypt`: puts the real sealing back. Every simulated device seals its contribution
 * to the trained model's round with `buildSecureContribution` (AES-CTR helper seed via
 * `splitWithSeed`, HPKE to both aggregators' keys made for the run), timed per device.
 * A sample is opened again with `openShare` + `expandSeed` to check that leader share +
 * helper share give back exactly the encoded vector, so the sealed path is the one the
 * in-process sums stand for.
 */
import { flattenCentroids, seededRandom, type RoundDescriptor } from '@edgeseg/shared';
import {
  buildSecureContribution,
  bytesToUint32LE,
  combineShares,
  CONTRIBUTION_INFO,
  contributionAad,
  roundDigest,
  encodeKmeansContribution,
  expandSeed,
  generateHpkeKeyPair,
  importHpkePrivateKey,
  openShare,
  vectorLength,
} from '@edgeseg/shared/secure';
import type { SimOptions } from './args.ts';
import { deviceSeed } from './population.ts';
import { ENCODING, type SimRun } from './simulate.ts';

/** Devices opened again to check the shares (opening is the servers' cost, not the device's). */
const CHECKED = 20;

/**
 * Seals one contribution per device and returns the sealing time per device.
 *
 * @example
 * run.result.encryption = await measureEncryption(opts, run);
 */
export async function measureEncryption(opts: SimOptions, sim: SimRun): Promise<{ devices: number; secondsPerDevice: number }> {
  const { population: pop, privateCentroids } = sim;
  const k = opts.k;
  const d = pop.d;
  const [leader, helper] = await Promise.all([generateHpkeKeyPair(1), generateHpkeKeyPair(2)]);
  const centroids = Array.from({ length: k }, (_, c) => Array.from(privateCentroids.subarray(c * d, c * d + d)));
  const round: RoundDescriptor = {
    round_id: 'sim-encrypt',
    kind: 'kmeans',
    mode: 'secure',
    model_version: 1,
    k,
    d,
    slices: [centroids],
    groups: opts.groups,
    encoding: ENCODING,
    epsilon: opts.epsilon,
    delta: opts.delta,
    opens_at: Math.floor(Date.now() / 1000),
    closes_at: Math.floor(Date.now() / 1000) + 3600,
    min_batch: 1,
    hpke: { leader: leader.config, helper: helper.config },
  };
  const digest = await roundDigest(round);
  const leaderKey = await importHpkePrivateKey(leader.privateKeyJwk);
  const helperKey = await importHpkePrivateKey(helper.privateKeyJwk);
  const flat = flattenCentroids(centroids);
  const L = vectorLength('kmeans', k, d);
  let sealing = 0;
  for (let i = 0; i < pop.n; i++) {
    const x = pop.matrix.subarray(i * d, i * d + d);
    const id = `sim-device-${String(i).padStart(10, '0')}`;
    const t = performance.now();
    const { body } = await buildSecureContribution(round, x, id, seededRandom(deviceSeed(opts.seed, i)));
    sealing += performance.now() - t;
    if (i < CHECKED) {
      const leaderShare = bytesToUint32LE(await openShare(leaderKey, body.leader, CONTRIBUTION_INFO, contributionAad(body, 'leader', digest)));
      const seed = await openShare(helperKey, body.helper, CONTRIBUTION_INFO, contributionAad(body, 'helper', digest));
      const vector = combineShares(leaderShare, await expandSeed(seed, L));
      // The same device randomness re-encodes the same vector (slice draw first, as buildSecureContribution does).
      const random = seededRandom(deviceSeed(opts.seed, i));
      random(new Uint32Array(1));
      const expected = encodeKmeansContribution(x, flat, ENCODING, random).vector;
      if (!vector.every((v, j) => v === expected[j])) throw new Error(`--encrypt: device ${i}'s opened shares do not add up to its encoded vector`);
    }
    if (i % 10_000 === 9_999) process.stderr.write(`sealed ${i + 1} of ${pop.n}\n`);
  }
  return { devices: pop.n, secondsPerDevice: sealing / 1000 / pop.n };
}
