/**
 * Differential privacy on integers: exact Bernoulli, discrete Laplace and discrete
 * Gaussian samplers (CKS20), noise on additive shares, their exact laws and zCDP accounting.
 */
export * from './rational.ts';
export * from './bits.ts';
export * from './bernoulli.ts';
export * from './laplace.ts';
export * from './gaussian.ts';
export * from './noise.ts';
export * from './distribution.ts';
export * from './accounting.ts';
