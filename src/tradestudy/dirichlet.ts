// Draws of the per-upset outcome probabilities from their posterior given a campaign's counts, so that a trade
// study carries the campaign's uncertainty instead of treating its rates as exact. The posterior of a
// multinomial's probabilities under Jeffreys' prior (½ per outcome) is Dirichlet(counts + ½), sampled as
// normalised Gamma variates (Marsaglia and Tsang, ACM TOMS 26, 2000); every loop is bounded.
import type { SeededRandom } from '../random.js';

/** Jeffreys' prior weight per outcome class. */
export const PRIOR_WEIGHT = 0.5;
const MAX_TRIES = 1000;

/** A Gamma(shape, 1) variate. */
export function gammaVariate(shape: number, random: SeededRandom): number {
  if (!(shape > 0 && Number.isFinite(shape))) throw new RangeError(`gammaVariate: shape must be positive and finite, not ${shape}`);
  // Below 1, Marsaglia–Tsang's boost: Gamma(a) = Gamma(a + 1) · U^(1/a).
  if (shape < 1) return gammaVariate(shape + 1, random) * Math.pow(1 - random.uniform(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const x = random.normal();
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = 1 - random.uniform(); // (0, 1]: its logarithm is finite
    if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
  throw new Error(`gammaVariate: no sample accepted in ${MAX_TRIES} tries (generator broken)`);
}

/** One draw of Dirichlet(alphas): probabilities that sum to 1. A zero alpha is a class that cannot occur. */
export function dirichletDraw(alphas: readonly number[], random: SeededRandom): Float64Array {
  const draw = new Float64Array(alphas.length);
  let sum = 0;
  for (let i = 0; i < alphas.length; i++) {
    draw[i] = alphas[i] > 0 ? gammaVariate(alphas[i], random) : 0;
    sum += draw[i];
  }
  if (!(sum > 0)) throw new RangeError('dirichletDraw: no class has a positive weight');
  for (let i = 0; i < draw.length; i++) draw[i] /= sum;
  return draw;
}

/** The posterior mean of each class: alpha / Σ alpha. */
export function dirichletMean(alphas: readonly number[]): Float64Array {
  const total = alphas.reduce((sum, alpha) => sum + alpha, 0);
  return Float64Array.from(alphas, (alpha) => alpha / total);
}
