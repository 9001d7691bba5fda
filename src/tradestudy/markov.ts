// The closed-form cross-check: each configuration, with constant rates and no fail-count policy, is a small
// continuous-time Markov chain (states by how many processors still fly, and whether a cold spare is secretly
// dead) with mission loss absorbing. Its transient solution P(T) = exp(QT) is computed exactly (to rounding)
// by scaling and squaring, a bounded number of small matrix products. The per-upset outcome probabilities
// are uncertain (a campaign measured them), so the chain is solved for many draws from their posterior and
// averaged. The Monte Carlo must agree with it; where the two differ, one of them is wrong.
import { SeededRandom } from '../random.js';
import { EFFECT_INDEX, type Configuration, type ModeResponse } from './configurations.js';
import { dirichletDraw, dirichletMean } from './dirichlet.js';
import { coreFailureRatePerHour, HOURS_PER_YEAR, type StudyParameters } from './parameters.js';

/** A generator matrix: rates[i][j] from state i to j (i ≠ j); the diagonal is implied. */
export interface Chain {
  readonly states: readonly string[];
  readonly rates: readonly (readonly number[])[];
  readonly start: number;
  /** The absorbing state of mission loss. */
  readonly lost: number;
}

/** Taylor terms of exp(A) once ‖A‖ ≤ ½: the first omitted term is below ½¹³/13! ≈ 2e-14. */
const TAYLOR_TERMS = 12;
/** Squarings at most: ‖QT‖ up to 2⁶⁰, far beyond any mission's rates × time. */
const MAX_SQUARINGS = 60;

/**
 * P(T) = exp(QT) by scaling and squaring (Moler and Van Loan's "method 3"): exp(A) = exp(A/2ˢ)^(2ˢ), with
 * exp(A/2ˢ) from its Taylor series once ‖A/2ˢ‖ ≤ ½, in Horner form. The squarings multiply nonnegative
 * matrices, so the result is exact to rounding: a few dozen products of n × n matrices (n ≤ 4), whatever the
 * rates (a repair a day over years included). Matrices are row-major in one array, to solve fast.
 */
export function transitionMatrix(chain: Chain, t: number): Float64Array {
  const n = chain.states.length;
  const a = new Float64Array(n * n);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let exit = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      a[i * n + j] = chain.rates[i][j] * t;
      exit += a[i * n + j];
    }
    a[i * n + i] = -exit;
    norm = Math.max(norm, 2 * exit);
  }
  if (!Number.isFinite(norm)) throw new RangeError('markov: rates × mission time are not finite');
  const squarings = norm > 0.5 ? Math.ceil(Math.log2(norm / 0.5)) : 0;
  if (squarings > MAX_SQUARINGS) throw new RangeError(`markov: rates × mission time (${norm.toExponential(2)}) too large to solve`);
  const scale = 2 ** -squarings;
  for (let i = 0; i < a.length; i++) a[i] *= scale;
  // Horner: exp(A) ≈ I + A(I + A/2(I + A/3(… (I + A/K)))).
  let result = new Float64Array(n * n);
  let scratch = new Float64Array(n * n);
  for (let i = 0; i < n; i++) result[i * n + i] = 1;
  for (let k = TAYLOR_TERMS; k >= 1; k--) {
    multiplyInto(scratch, a, result, n);
    for (let i = 0; i < scratch.length; i++) scratch[i] /= k;
    for (let i = 0; i < n; i++) scratch[i * n + i] += 1;
    [result, scratch] = [scratch, result];
  }
  for (let s = 0; s < squarings; s++) {
    multiplyInto(scratch, result, result, n);
    [result, scratch] = [scratch, result];
  }
  return result;
}

/** out = x · y for n × n row-major matrices (out distinct from both). */
function multiplyInto(out: Float64Array, x: Float64Array, y: Float64Array, n: number): void {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const value = x[i * n + k];
      if (value !== 0) for (let j = 0; j < n; j++) out[i * n + j] += value * y[k * n + j];
    }
  }
}

/** The state distribution at time t from the chain's start. */
export function transient(chain: Chain, t: number): Float64Array {
  const n = chain.states.length;
  return transitionMatrix(chain, t).slice(chain.start * n, chain.start * n + n);
}

/** Rates of a mode under one draw of its effect probabilities: fatal upsets, and upsets that call for a failover. */
export interface ModeRates {
  readonly fatal: number;
  readonly failover: number;
}

/**
 * The chain needs only two classes of each source's effects, fatal and failover (in time or late): by the
 * Dirichlet's aggregation property their probabilities, with the rest, are Dirichlet with summed weights.
 */
function aggregatedAlphas(alphas: readonly number[]): [fatal: number, failover: number, rest: number] {
  const fatal = alphas[EFFECT_INDEX.fatal];
  const failover = alphas[EFFECT_INDEX.failover] + alphas[EFFECT_INDEX['late-failover']];
  const total = alphas.reduce((sum, alpha) => sum + alpha, 0);
  return [fatal, failover, total - fatal - failover];
}

/** The mode's rates from each source's [fatal, failover, rest] probabilities. */
function modeRates(mode: ModeResponse, probabilities: readonly ArrayLike<number>[]): ModeRates {
  let fatal = 0;
  let failover = 0;
  mode.sources.forEach((source, i) => {
    fatal += source.ratePerHour * probabilities[i][0];
    failover += source.ratePerHour * probabilities[i][1];
  });
  return { fatal, failover };
}

/** The chain of a configuration, with its modes' rates given. */
export function chainOf(configuration: Configuration, p: StudyParameters, full: ModeRates, degraded: ModeRates | null): Chain {
  const lambda = coreFailureRatePerHour(p);
  const unit = configuration.coresPerUnit * lambda;
  const mu = p.policy.repairHours === null ? 0 : 1 / p.policy.repairHours;
  const matrix = (n: number) => Array.from({ length: n }, () => new Array<number>(n).fill(0));
  switch (configuration.structure) {
    case 'series': {
      const rates = matrix(2);
      rates[0][1] = unit + full.fatal;
      return { states: ['up', 'lost'], rates, start: 0, lost: 1 };
    }
    case 'spared-pair': {
      const simplex = degraded!;
      if (configuration.spare === 'hot') {
        const rates = matrix(3); // duplex, simplex, lost
        rates[0][1] = 2 * unit;
        rates[0][2] = full.fatal;
        rates[1][0] = mu;
        rates[1][2] = unit + simplex.fatal;
        return { states: ['duplex', 'simplex', 'lost'], rates, start: 0, lost: 2 };
      }
      const rates = matrix(4); // duplex, duplex with a dead cold spare, simplex, lost
      rates[0][1] = unit * p.dormantFactor;
      rates[0][2] = unit;
      rates[0][3] = full.fatal;
      rates[1][2] = full.failover; // a failover boots the dead spare: found, simplex
      rates[1][3] = unit + full.fatal;
      rates[2][0] = mu;
      rates[2][3] = unit + simplex.fatal;
      return { states: ['duplex', 'duplex (spare dead, unseen)', 'simplex', 'lost'], rates, start: 0, lost: 3 };
    }
    case 'voting': {
      // States: units up from all of them down to two (a pair), then lost.
      const levels = configuration.units - 1; // units, units − 1, …, 2
      const n = levels + 1;
      const rates = matrix(n);
      for (let s = 0; s < levels; s++) {
        const up = configuration.units - s;
        const mode = up >= 3 ? full : degraded!;
        rates[s][s + 1] = up * unit;
        if (up === 2) rates[s][n - 1] = up * unit + mode.fatal;
        else rates[s][n - 1] += mode.fatal;
        if (s > 0) rates[s][s - 1] = s * mu;
      }
      // From two up, a third fault leaves a lone core: lost (state s + 1 is `lost` there).
      const states = [...Array.from({ length: levels }, (_, s) => `${configuration.units - s} up`), 'lost'];
      return { states, rates, start: 0, lost: n - 1 };
    }
  }
}

export interface MarkovFigure {
  /** P(mission success) averaged over the posterior of the per-upset outcomes (what the Monte Carlo estimates). */
  readonly value: number;
  /** 2.5% and 97.5% quantiles of P(mission success) over that posterior: the campaign's share of the uncertainty. */
  readonly credible95: readonly [number, number];
  /** At the posterior mean of the outcome probabilities. */
  readonly atPosteriorMean: number;
  readonly states: readonly string[];
  readonly posteriorDraws: number;
  /** Of `value`, from the finite number of posterior draws: σ / √draws. */
  readonly standardError: number;
}

/** Posterior draws the Markov figure averages over. */
export const MIN_MARKOV_DRAWS = 20_000;
export const MAX_MARKOV_DRAWS = 200_000;

/** P(success) = 1 − P(lost at T), averaged over draws of the outcome probabilities from their posterior. */
export function markovFigure(configuration: Configuration, p: StudyParameters, seed: number, draws = MIN_MARKOV_DRAWS): MarkovFigure {
  const random = SeededRandom.wide(seed, `tradestudy/markov/${configuration.name}`);
  const hours = p.missionYears * HOURS_PER_YEAR;
  const success = (full: ModeRates, degraded: ModeRates | null) => {
    const chain = chainOf(configuration, p, full, degraded);
    return 1 - transient(chain, hours)[chain.lost];
  };
  const aggregated = (mode: ModeResponse | null) => mode?.sources.map((source) => aggregatedAlphas(source.alphas)) ?? [];
  const fullAlphas = aggregated(configuration.full);
  const degradedAlphas = aggregated(configuration.degraded);
  const drawRates = (mode: ModeResponse | null, alphas: number[][]) => (mode ? modeRates(mode, alphas.map((weights) => dirichletDraw(weights, random))) : null);
  const values: number[] = [];
  for (let i = 0; i < draws; i++) values.push(success(drawRates(configuration.full, fullAlphas)!, drawRates(configuration.degraded, degradedAlphas)));
  const meanRates = (mode: ModeResponse | null) => {
    if (!mode) return null;
    return modeRates(mode, mode.sources.map((source) => dirichletMean(aggregatedAlphas(source.alphas))));
  };
  const sorted = [...values].sort((a, b) => a - b);
  const quantile = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1);
  return {
    value: mean,
    credible95: [quantile(0.025), quantile(0.975)],
    atPosteriorMean: success(meanRates(configuration.full)!, meanRates(configuration.degraded)),
    states: chainOf(configuration, p, meanRates(configuration.full)!, meanRates(configuration.degraded)).states,
    posteriorDraws: draws,
    standardError: Math.sqrt(variance / values.length),
  };
}
