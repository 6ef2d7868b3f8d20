/**
 * Statistical tests of the exact samplers against their exact laws. Most runs use the
 * seeded source (deterministic: a pass is a pass forever); a smaller run of each uses
 * crypto.getRandomValues, the source the product uses. Thresholds: χ² below its 0.999
 * quantile, and mean / variance / tail counts within 4 standard errors (two-sided
 * p ≈ 6·10⁻⁵): each crypto χ² fails spuriously once in 1,000 runs, all crypto runs in this
 * file together in well under 1% of runs.
 */
import { describe, expect, it } from 'vitest';
import { cryptoRandom, seededRandom } from '../random.ts';
import { bernoulliExpRatio, bernoulliExpRatioBig, bernoulliRatio, bernoulliRatioBig, sampleBernoulli, sampleBernoulliExp } from './bernoulli.ts';
import { RandomBits } from './bits.ts';
import { discreteGaussianLaw, discreteLaplaceLaw, type IntegerNoiseLaw } from './distribution.ts';
import { discreteGaussianSampler, sampleDiscreteGaussian } from './gaussian.ts';
import { discreteLaplaceSampler, sampleDiscreteLaplace } from './laplace.ts';
import { rationalToNumber, type Rational } from './rational.ts';

// ── χ² quantiles from the regularised incomplete gamma function (Numerical Recipes §6.2) ──

function logGamma(x: number): number {
  const cof = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  let tmp = x + 5.5;
  tmp -= (x + 0.5) * Math.log(tmp);
  let ser = 1.000000000190015;
  for (const c of cof) ser += c / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** P(a, x) = γ(a, x)/Γ(a): series below a + 1, Lentz's continued fraction above. */
function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    while (Math.abs(del) > Math.abs(sum) * 1e-16) {
      del *= x / ++ap;
      sum += del;
    }
    return sum * front;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return 1 - front * h;
}

/** Upper `p` quantile of χ² with `df` degrees of freedom, by bisection on the CDF. */
function chi2Quantile(df: number, p = 0.999): number {
  let lo = 0;
  let hi = df + 30 * Math.sqrt(df) + 60;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (gammaP(df / 2, mid / 2) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

// ── Goodness of fit helpers ──

interface Moments {
  n: number;
  mean: number;
  /** Σx²/n: the variance estimate for a law whose mean is known to be 0. */
  secondMoment: number;
  counts: Map<number, number>;
}

function draw(n: number, next: () => number): Moments {
  let sum = 0;
  let sumSq = 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const x = next();
    sum += x;
    sumSq += x * x;
    counts.set(x, (counts.get(x) ?? 0) + 1);
  }
  return { n, mean: sum / n, secondMoment: sumSq / n, counts };
}

/**
 * χ² statistic and degrees of freedom against `law` over consecutive integer bins (the two
 * end bins take the tails). A bin closes once it expects `target` samples, or earlier, with
 * at least `minExpected`, where the next point alone fills a bin: a wide law gets about
 * n/target equal bins, a narrow one keeps every well-populated point separate.
 */
function chiSquareFit(m: Moments, law: IntegerNoiseLaw, target: number, minExpected = 100): { chi2: number; df: number; bins: number } {
  // Points with any mass worth binning; the mass beyond ±reach goes to the end points.
  let reach = 0;
  while (law.tail(reach) * m.n > 1e-3) reach++;
  const probs: number[] = [];
  for (let x = -reach; x <= reach; x++) probs.push(law.pmf(x));
  probs[0] = (probs[0] as number) + law.tail(reach) / 2;
  probs[probs.length - 1] = (probs[probs.length - 1] as number) + law.tail(reach) / 2;
  // Greedy bins left to right; never leave fewer than `minExpected` for the last bin.
  const upper: number[] = []; // inclusive upper edge of every bin but the last
  const expected: number[] = [];
  let acc = 0;
  let remaining = 1;
  probs.forEach((p, i) => {
    acc += p;
    remaining -= p;
    const full = acc * m.n >= target || (acc * m.n >= minExpected && (probs[i + 1] ?? 0) * m.n >= target);
    if (full && remaining * m.n >= minExpected) {
      upper.push(i - reach);
      expected.push(acc * m.n);
      acc = 0;
    }
  });
  expected.push(acc * m.n);
  const observed = new Array<number>(expected.length).fill(0);
  for (const [x, c] of m.counts) {
    const b = upper.findIndex((u) => x <= u);
    const bin = b < 0 ? upper.length : b;
    observed[bin] = (observed[bin] as number) + c;
  }
  const chi2 = observed.reduce((s, o, i) => s + (o - (expected[i] as number)) ** 2 / (expected[i] as number), 0);
  return { chi2, df: expected.length - 1, bins: expected.length };
}

/** Mean, variance, tail mass beyond 3σ (σ² = the law's variance) and χ² against `law`. */
function expectMatchesLaw(m: Moments, law: IntegerNoiseLaw, tailAt: number, label: string, { live = false } = {}): void {
  // A seeded source gives the same samples every run, so the usual 4σ / 0.999 bounds are
  // checked once and for all. A live source (crypto.getRandomValues) draws new samples
  // every run: 5σ / 0.99999 keeps a correct sampler's false alarms under 1 in 20,000
  // runs for all five checks, so CI does not go red by chance.
  const z = live ? 5 : 4;
  const { n } = m;
  const sdMean = Math.sqrt(law.variance / n);
  expect(Math.abs(m.mean), `${label}: mean ${m.mean} vs 0 (SE ${sdMean})`).toBeLessThan(z * sdMean);

  const sdVar = Math.sqrt((law.fourthMoment - law.variance ** 2) / n);
  expect(Math.abs(m.secondMoment - law.variance), `${label}: variance ${m.secondMoment} vs exact ${law.variance} (SE ${sdVar})`).toBeLessThan(z * sdVar);

  const pTail = law.tail(tailAt);
  let tailCount = 0;
  for (const [x, c] of m.counts) if (Math.abs(x) > tailAt) tailCount += c;
  const sdTail = Math.sqrt(n * pTail * (1 - pTail));
  expect(Math.abs(tailCount - n * pTail), `${label}: ${tailCount} beyond ${tailAt} vs ${n * pTail} expected (SE ${sdTail})`).toBeLessThan(z * Math.max(sdTail, 1));

  const { chi2, df, bins } = chiSquareFit(m, law, n / 40);
  expect(bins, `${label}: bins`).toBeGreaterThanOrEqual(3);
  expect(chi2, `${label}: χ² ${chi2.toFixed(1)} on ${df} df`).toBeLessThan(chi2Quantile(df, live ? 0.99999 : 0.999));
}

const R = (num: bigint, den = 1n): Rational => ({ num, den });

describe('χ² quantiles used below', () => {
  it('match the tables (16.27 at 3 df, 24.32 at 7 df, 59.70 at 30 df)', () => {
    expect(chi2Quantile(3)).toBeCloseTo(16.27, 1);
    expect(chi2Quantile(7)).toBeCloseTo(24.32, 1);
    expect(chi2Quantile(30)).toBeCloseTo(59.7, 1);
  });
});

describe('Bernoulli(p) and Bernoulli(exp(−γ)), exact', () => {
  /** Frequency of `true` in n trials against p, as a 1-df χ² (house style: 0.999 quantile; 0.99999 for a live source, see expectMatchesLaw). */
  function expectFrequency(n: number, p: number, trial: () => boolean, label: string, { live = false } = {}): void {
    let hits = 0;
    for (let i = 0; i < n; i++) if (trial()) hits++;
    if (p === 0 || p === 1) {
      expect(hits, label).toBe(p * n);
      return;
    }
    const chi2 = (hits - n * p) ** 2 / (n * p) + (n - hits - n * (1 - p)) ** 2 / (n * (1 - p));
    expect(chi2, `${label}: ${hits}/${n} vs p = ${p}`).toBeLessThan(chi2Quantile(1, live ? 0.99999 : 0.999));
  }

  it('Bernoulli(n/d) hits p for small, awkward and huge denominators (200,000 trials each, seeded)', () => {
    const bits = new RandomBits(seededRandom(11));
    for (const [n, d] of [[1, 3], [2, 7], [1, 2], [999_999, 1_000_000], [3, 2 ** 52]] as const) {
      expectFrequency(200_000, n / d, () => bernoulliRatio(bits, n, d), `Bernoulli(${n}/${d})`);
    }
    const big = 3n ** 60n;
    expectFrequency(200_000, 1 / 3, () => bernoulliRatioBig(bits, big / 3n, big), 'Bernoulli(3^59/3^60) in BigInt');
    expectFrequency(1000, 0, () => bernoulliRatio(bits, 0, 5), 'Bernoulli(0)');
    expectFrequency(1000, 1, () => bernoulliRatio(bits, 5, 5), 'Bernoulli(1)');
  });

  it('Bernoulli(exp(−γ)) for γ ∈ {0, 1/3, 1, 5/2, 7} (200,000 trials each, seeded)', () => {
    const bits = new RandomBits(seededRandom(12));
    for (const [n, d] of [[0, 1], [1, 3], [1, 1], [5, 2], [7, 1]] as const) {
      expectFrequency(200_000, Math.exp(-n / d), () => bernoulliExpRatio(bits, n, d), `Bernoulli(exp(−${n}/${d}))`);
    }
  });

  it('the public one-shot trials take rationals, including ones only BigInt can hold', () => {
    const random = seededRandom(13);
    expectFrequency(100_000, 0.3, () => sampleBernoulli(R(3n, 10n), random), 'sampleBernoulli(3/10)');
    const huge = 10n ** 30n;
    expectFrequency(100_000, Math.exp(-1), () => sampleBernoulliExp(R(huge + 1n, huge), random), 'sampleBernoulliExp((10^30+1)/10^30)');
    expectFrequency(100_000, Math.exp(-0.75), () => sampleBernoulliExp(R(3n, 4n), random), 'sampleBernoulliExp(3/4)');
    expect(() => sampleBernoulliExp(R(-1n, 2n), random)).toThrow(RangeError);
  });

  it('Number and BigInt paths read the same bits and answer the same (2,000 random n/d pairs)', () => {
    const params = new RandomBits(seededRandom(14));
    for (let i = 0; i < 2000; i++) {
      const d = 1 + params.below(1_000_000);
      const n = params.below(5 * d);
      const seed = params.word();
      const a = new RandomBits(seededRandom(seed));
      const b = new RandomBits(seededRandom(seed));
      expect(bernoulliRatio(a, n, d)).toBe(bernoulliRatioBig(b, BigInt(n), BigInt(d)));
      expect(bernoulliExpRatio(a, n, d)).toBe(bernoulliExpRatioBig(b, BigInt(n), BigInt(d)));
      expect(a.word()).toBe(b.word()); // and consumed exactly as many bits
    }
  });

  it('Bernoulli(exp(−γ)) from crypto.getRandomValues (50,000 trials each)', () => {
    const bits = new RandomBits(cryptoRandom);
    for (const [n, d] of [[1, 2], [3, 1]] as const) {
      expectFrequency(50_000, Math.exp(-n / d), () => bernoulliExpRatio(bits, n, d), `crypto Bernoulli(exp(−${n}/${d}))`, { live: true });
    }
  });
});

describe('discrete Laplace Lap_Z(t/s), exact', () => {
  const cases: [string, Rational][] = [
    ['1/2', R(1n, 2n)],
    ['1', R(1n)],
    ['3/2', R(3n, 2n)],
    ['10', R(10n)],
    ['1000/7', R(1000n, 7n)],
  ];
  for (const [label, scale] of cases) {
    it(`scale ${label}: mean 0, exact variance, P(|X| > 3·scale), χ² (200,000 samples, seeded)`, () => {
      const m = draw(200_000, discreteLaplaceSampler(scale, seededRandom(20)));
      expectMatchesLaw(m, discreteLaplaceLaw(scale), 3 * rationalToNumber(scale), `Lap_Z(${label})`);
    });
  }

  it('a scale whose numerator exceeds 2^32 runs on BigInt with the same law (20,000 samples, seeded)', () => {
    const scale = R(2n ** 33n + 1n, 2n ** 30n); // ≈ 8, but t > 2^32
    const m = draw(20_000, discreteLaplaceSampler(scale, seededRandom(21)));
    expectMatchesLaw(m, discreteLaplaceLaw(scale), 24, 'Lap_Z((2^33+1)/2^30)');
  });

  it('scale 3/2 from crypto.getRandomValues (50,000 samples, one-shot calls)', () => {
    const m = draw(50_000, () => sampleDiscreteLaplace(R(3n, 2n), cryptoRandom));
    expectMatchesLaw(m, discreteLaplaceLaw(1.5), 4.5, 'crypto Lap_Z(3/2)', { live: true });
  });
});

describe('discrete Gaussian N_Z(0, σ²), exact', () => {
  const cases: [string, Rational][] = [
    ['1/4', R(1n, 4n)],
    ['1/2', R(1n, 2n)],
    ['4', R(4n)],
    ['100', R(100n)],
    ['10^4', R(10_000n)],
  ];
  for (const [label, sigma2] of cases) {
    it(`σ² = ${label}: mean 0, exact variance, P(|X| > 3σ), χ² (300,000 samples, seeded)`, () => {
      const m = draw(300_000, discreteGaussianSampler(sigma2, seededRandom(30)));
      expectMatchesLaw(m, discreteGaussianLaw(sigma2), 3 * Math.sqrt(rationalToNumber(sigma2)), `N_Z(0, ${label})`);
    });
  }

  it('has the discrete law’s variance, not σ², where they differ (σ² = 1/4 → 0.2150)', () => {
    const law = discreteGaussianLaw(R(1n, 4n));
    expect(law.variance).toBeCloseTo(0.215, 3);
    const n = 300_000;
    const m = draw(n, discreteGaussianSampler(R(1n, 4n), seededRandom(31)));
    const se = Math.sqrt((law.fourthMoment - law.variance ** 2) / n);
    expect(Math.abs(m.secondMoment - 0.25)).toBeGreaterThan(20 * se);
    // And for large σ the two agree to many digits (Poisson summation: error ~ e^(−2π²σ²)).
    expect(discreteGaussianLaw(R(100n)).variance).toBeCloseTo(100, 9);
  });

  it('a σ² with a 2^40 denominator takes the BigInt acceptance path, same law (50,000 samples, seeded)', () => {
    const sigma2 = R(100n * 2n ** 40n + 1n, 2n ** 40n);
    const m = draw(50_000, discreteGaussianSampler(sigma2, seededRandom(32)));
    expectMatchesLaw(m, discreteGaussianLaw(sigma2), 30, 'N_Z(0, 100 + 2^−40)');
  });

  it('σ = 10^10 runs entirely on BigInt and returns safe integers of the right spread (5,000 samples, seeded)', () => {
    const n = 5000;
    const m = draw(n, discreteGaussianSampler(R(10n ** 20n), seededRandom(33)));
    const variance = 1e20; // the discrete and continuous variances agree to ~e^(−2π²·10^20)
    expect(Math.abs(m.mean)).toBeLessThan(4 * Math.sqrt(variance / n));
    expect(Math.abs(m.secondMoment / variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    for (const x of m.counts.keys()) expect(Number.isSafeInteger(x)).toBe(true);
  });

  for (const [label, sigma2] of [['4', R(4n)], ['10^4', R(10_000n)]] as const) {
    it(`σ² = ${label} from crypto.getRandomValues (50,000 samples)`, () => {
      const m = draw(50_000, discreteGaussianSampler(sigma2, cryptoRandom));
      expectMatchesLaw(m, discreteGaussianLaw(sigma2), 3 * Math.sqrt(rationalToNumber(sigma2)), `crypto N_Z(0, ${label})`, { live: true });
    });
  }

  it('one-shot samples from crypto.getRandomValues follow the same law (σ² = 100, 30,000 samples)', () => {
    const m = draw(30_000, () => sampleDiscreteGaussian(R(100n), cryptoRandom));
    expectMatchesLaw(m, discreteGaussianLaw(100), 30, 'crypto one-shot N_Z(0, 100)', { live: true });
  });

  it('is deterministic for a seeded source and refuses σ² ≤ 0', () => {
    const a = discreteGaussianSampler(R(50n), seededRandom(7));
    const b = discreteGaussianSampler(R(50n), seededRandom(7));
    for (let i = 0; i < 100; i++) expect(a()).toBe(b());
    expect(() => discreteGaussianSampler(R(0n))).toThrow(RangeError);
    expect(() => discreteGaussianSampler(R(-1n, 2n))).toThrow(RangeError);
  });
});
