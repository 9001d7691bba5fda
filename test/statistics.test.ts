// Campaign statistics: the intervals, quantiles and sample sizes reproduce published values, the numerical
// building blocks (log-gamma, the incomplete beta function and its inverse) agree with closed forms and with
// each other, and the properties a report relies on hold: intervals contain the rate, stay in [0, 1], shrink
// with more runs, and the reported (exact) interval covers the true rate at least as often as it claims,
// computed exactly over n up to 100,000 and rates down to 1e-6, where Wilson's does not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clopperPearsonInterval,
  clopperPearsonUpperBound,
  failuresPerMission,
  interval,
  intervalHalfWidth,
  inverseRegularizedIncompleteBeta,
  leveugleSampleSize,
  logBeta,
  logGamma,
  marginReached,
  mwtf,
  mwtfInterval,
  normalQuantile,
  rate,
  regularizedIncompleteBeta,
  summarizeCount,
  wilsonInterval,
  zForConfidence,
  type Interval,
} from '../src/campaign/statistics.js';

/** Both ends of an interval to `digits` decimals. */
function expectInterval(actual: Interval, expected: readonly [number, number], digits: number): void {
  expect(actual[0]).toBeCloseTo(expected[0], digits);
  expect(actual[1]).toBeCloseTo(expected[1], digits);
}

/** |actual − expected| ≤ relative·|expected|. */
function expectRelative(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}

/**
 * P(Bin(n, p) = k), through logs. The binomial coefficient is 1 / ((n + 1)·B(k + 1, n − k + 1)), taken from
 * logBeta rather than as a difference of three log-gammas: at n = 100,000 those are about 10⁶ each, and their
 * rounding would cost the pmf nine digits.
 */
function binomialPmf(k: number, n: number, p: number): number {
  return Math.exp(-Math.log(n + 1) - logBeta(k + 1, n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** The Beta(a, b) density, for the tolerance of the round trip. */
function betaDensity(x: number, a: number, b: number): number {
  return Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logBeta(a, b));
}

/** Positive shape parameters spread over eight decades, as campaigns of 1 to 10⁷ runs produce. */
const shape = fc.double({ min: -0.5, max: 6.5, noNaN: true }).map((exponent) => 10 ** exponent);
/** A tail probability away from the ends, where the round trip is well conditioned. */
const probability = fc.double({ min: 1e-6, max: 1 - 1e-6, noNaN: true });
/** A count and its trials. */
const counts = fc.integer({ min: 1, max: 100_000 }).chain((trials) => fc.tuple(fc.integer({ min: 0, max: trials }), fc.constant(trials)));

describe('normal quantile', () => {
  it('gives the published critical values', () => {
    // z for 95%, two-sided: 1.959963984540054 (to the digits every statistics library prints).
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(zForConfidence(0.95)).toBeCloseTo(1.959963984540054, 12);
    // Standard normal tables (six decimals): 90%, 95% one-sided, 99%, 99.8%.
    expect(normalQuantile(0.95)).toBeCloseTo(1.644854, 6);
    expect(normalQuantile(0.9)).toBeCloseTo(1.281552, 6);
    expect(zForConfidence(0.99)).toBeCloseTo(2.575829, 6);
    expect(zForConfidence(0.998)).toBeCloseTo(3.090232, 6);
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('is odd about ½, increasing, and infinite only at 0 and 1', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-300, max: 0.5, noNaN: true }), (p) => {
        // Symmetry is checkable only where 1 − p still holds p's digits.
        if (p > 1e-8) expect(normalQuantile(p) + normalQuantile(1 - p)).toBeCloseTo(0, 7);
        expect(normalQuantile(p)).toBeLessThanOrEqual(normalQuantile(Math.min(0.5, p * 1.01)));
        expect(Number.isFinite(normalQuantile(p))).toBe(true);
      }),
    );
    expect(normalQuantile(1e-300)).toBeCloseTo(-37.0471, 3); // beyond every table; finite and negative
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
    expect(() => zForConfidence(95)).toThrow(RangeError);
  });
});

describe('log-gamma and log-beta', () => {
  it('match factorials and Γ(½) = √π', () => {
    expect(logGamma(1)).toBeCloseTo(0, 14);
    expect(logGamma(2)).toBeCloseTo(0, 14);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 14);
    expect(logGamma(10)).toBeCloseTo(Math.log(362_880), 12); // 9!
    // ln 99! (Lanczos below 10, Stirling from 10: both sides of the switch are checked).
    let lnFactorial = 0;
    for (let i = 2; i <= 99; i++) lnFactorial += Math.log(i);
    expectRelative(logGamma(100), lnFactorial, 1e-14);
  });

  it('satisfies Γ(x + 1) = x·Γ(x) across the Lanczos/Stirling switch', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (x) => {
        // To a few units in the last place of ln Γ(x + 1), which is about 10⁷ at the top of the range.
        expect(Math.abs(logGamma(x + 1) - logGamma(x) - Math.log(x))).toBeLessThanOrEqual(1e-14 * Math.max(1, logGamma(x + 1)));
      }),
    );
  });

  it('gives B(1, b) = 1/b and B(a + 1, b) = B(a, b)·a/(a + b) without cancellation', () => {
    fc.assert(
      fc.property(shape, shape, (a, b) => {
        expect(logBeta(1, b)).toBeCloseTo(-Math.log(b), 10);
        const step = logBeta(a + 1, b) - logBeta(a, b) - Math.log(a / (a + b));
        expect(Math.abs(step)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(logBeta(a, b))));
        expect(logBeta(a, b)).toBe(logBeta(b, a));
      }),
    );
  });
});

describe('regularized incomplete beta and its inverse', () => {
  it('matches the closed forms I_x(1, b) = 1 − (1 − x)^b and I_x(a, 1) = x^a', () => {
    for (const [x, b] of [
      [0.1, 3],
      [0.5, 10],
      [1e-5, 100_000],
      [0.9, 0.5],
    ]) {
      expectRelative(regularizedIncompleteBeta(x, 1, b), -Math.expm1(b * Math.log1p(-x)), 1e-13);
      expectRelative(regularizedIncompleteBeta(x, b, 1), x ** b, 1e-12);
    }
    // I_½(a, a) = ½ by symmetry.
    expect(regularizedIncompleteBeta(0.5, 7, 7)).toBeCloseTo(0.5, 14);
    expect(regularizedIncompleteBeta(0.5, 5e5, 5e5)).toBeCloseTo(0.5, 9);
  });

  it('is inverted to the closed form of the exact bound at zero failures', () => {
    // BetaInv(1 − α/2; 1, n) = 1 − (α/2)^(1/n): the exact 95% upper bound for 0 in n.
    for (const n of [1, 10, 3000, 1_000_000]) {
      expectRelative(inverseRegularizedIncompleteBeta(0.975, 1, n), -Math.expm1(Math.log(0.025) / n), 1e-10);
      expectRelative(inverseRegularizedIncompleteBeta(0.025, 1, n, 'upper'), -Math.expm1(Math.log(0.025) / n), 1e-10);
    }
  });

  it('round-trips: I(BetaInv(p)) = p in either tail', () => {
    fc.assert(
      fc.property(probability, shape, shape, (p, a, b) => {
        const x = inverseRegularizedIncompleteBeta(p, a, b);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(1);
        // Relative to the smaller tail, plus what a few units in the last place of x are worth: near 1 the
        // doubles are 1.1e-16 apart, and a steep density turns that spacing into a visible step in the tail.
        const smallerTail = Math.min(p, 1 - p);
        // A root within 1e-12 of 1 (a shape below 1 can put it at 1 − 1e-17) has no double close enough to check.
        const ulps = (at: number) => 4 * Number.EPSILON * at * betaDensity(at, a, b);
        if (x < 1 - 1e-12) expect(Math.abs(regularizedIncompleteBeta(x, a, b) - p)).toBeLessThanOrEqual(1e-8 * smallerTail + ulps(x) + 1e-15);
        const y = inverseRegularizedIncompleteBeta(p, a, b, 'upper');
        if (y < 1 - 1e-12) expect(Math.abs(1 - regularizedIncompleteBeta(y, a, b) - p)).toBeLessThanOrEqual(1e-8 * smallerTail + ulps(y) + 1e-15);
      }),
    );
  });

  it('round-trips: BetaInv(I(x)) = x', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 200, noNaN: true }), fc.double({ min: 0.5, max: 200, noNaN: true }), (x, a, b) => {
        const p = regularizedIncompleteBeta(x, a, b);
        // A tail of 1e-10 stored as 1 − 1e-10 keeps only six digits; only well-conditioned points say anything.
        fc.pre(p > 1e-6 && p < 1 - 1e-6);
        expect(inverseRegularizedIncompleteBeta(p, a, b)).toBeCloseTo(x, 7);
      }),
    );
  });

  it('rejects arguments outside the domain', () => {
    expect(() => regularizedIncompleteBeta(1.5, 1, 1)).toThrow(RangeError);
    expect(() => regularizedIncompleteBeta(0.5, 0, 1)).toThrow(RangeError);
    expect(() => inverseRegularizedIncompleteBeta(-0.1, 1, 1)).toThrow(RangeError);
    expect(() => logGamma(0)).toThrow(RangeError);
  });
});

describe('Wilson interval', () => {
  it('reproduces Newcombe (1998) and the closed forms at 0, n/2 and n', () => {
    // Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven methods",
    // Statistics in Medicine 17:857–872, 1998, Table II, method 3 (score, no continuity correction).
    expectInterval(wilsonInterval(81, 263), [0.2553, 0.3662], 4);
    expectInterval(wilsonInterval(15, 148), [0.0624, 0.1605], 4);
    expectInterval(wilsonInterval(0, 20), [0, 0.1611], 4);
    expectInterval(wilsonInterval(1, 29), [0.0061, 0.1718], 4);
    // 0/10, 5/10, 10/10: the upper end at 0 is z²/(n + z²) = 0.2775; 5/10 is symmetric about ½.
    const z2 = zForConfidence(0.95) ** 2;
    expect(wilsonInterval(0, 10)).toEqual([0, z2 / (10 + z2)]);
    expectInterval(wilsonInterval(0, 10), [0, 0.2775], 4);
    expectInterval(wilsonInterval(5, 10), [0.2366, 0.7634], 4);
    expectInterval(wilsonInterval(10, 10), [0.7225, 1], 4);
    expect(wilsonInterval(10, 10)[1]).toBe(1);
  });

  it('is vacuous without trials and rejects impossible counts', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
    expect(() => wilsonInterval(3, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1.5, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(-1, 2)).toThrow(RangeError);
    expect(() => wilsonInterval(1, 2, 1)).toThrow(RangeError);
  });
});

describe('Clopper–Pearson interval', () => {
  it('reproduces Newcombe (1998) and the exact values at 0, 5 and 10 in 10', () => {
    // Newcombe 1998, Table II, method 5 (exact, Clopper–Pearson).
    expectInterval(clopperPearsonInterval(81, 263), [0.2527, 0.3676], 4);
    expectInterval(clopperPearsonInterval(15, 148), [0.0578, 0.1617], 4);
    expectInterval(clopperPearsonInterval(0, 20), [0, 0.1684], 4);
    expectInterval(clopperPearsonInterval(1, 29), [0.0009, 0.1776], 4);
    // 0/10: 1 − 0.025^(1/10) = 0.3085; 10/10 its mirror; 5/10: [0.1871, 0.8129].
    expectInterval(clopperPearsonInterval(0, 10), [0, 0.3085], 4);
    expectInterval(clopperPearsonInterval(10, 10), [0.6915, 1], 4);
    expectInterval(clopperPearsonInterval(5, 10), [0.1871, 0.8129], 4);
    // 5 survivors in 25 (Conover's tables, as worked at influentialpoints.com): 0.068 to 0.407.
    expectInterval(clopperPearsonInterval(5, 25), [0.068, 0.407], 3);
  });

  it('gives the anchors: 0 failures in 3,000 runs', () => {
    // Two-sided 95%: 1 − 0.025^(1/3000) = 0.0012289, i.e. 0.12%.
    const [lo, hi] = clopperPearsonInterval(0, 3000);
    expect(lo).toBe(0);
    expect(hi).toBeCloseTo(0.0012289, 7);
    // One-sided 95%: 1 − 0.05^(1/3000) = 0.000998, the "about 0.1%" of anchors.md, just under the rule of three (3/n).
    const upper = clopperPearsonUpperBound(0, 3000);
    expect(upper).toBeCloseTo(0.000998, 6);
    expect(upper).toBeLessThan(3 / 3000);
    // 0 silent corruptions in 100,000 runs: a real bound, 3.69e-5.
    expect(clopperPearsonInterval(0, 100_000)[1]).toBeCloseTo(3.6888e-5, 9);
  });

  it('is defined by its two binomial tails, each α/2', () => {
    fc.assert(
      fc.property(counts, ([k, n]) => {
        const [lo, hi] = clopperPearsonInterval(k, n);
        // P(Bin(n, lo) ≥ k) = I_lo(k, n − k + 1) = α/2 and P(Bin(n, hi) ≤ k) = 1 − I_hi(k + 1, n − k) = α/2.
        if (k > 0) expectRelative(regularizedIncompleteBeta(lo, k, n - k + 1), 0.025, 1e-7);
        if (k < n) expectRelative(1 - regularizedIncompleteBeta(hi, k + 1, n - k), 0.025, 1e-7);
      }),
    );
  });

  it('covers the true rate at least as often as it claims, for every rate', () => {
    // Clopper & Pearson's guarantee, checked exactly: sum the binomial probabilities of the counts whose
    // interval contains p.
    for (const n of [10, 37, 120]) {
      const intervals = Array.from({ length: n + 1 }, (_, k) => clopperPearsonInterval(k, n));
      fc.assert(
        fc.property(fc.double({ min: 1e-4, max: 1 - 1e-4, noNaN: true }), (p) => {
          let coverage = 0;
          intervals.forEach(([lo, hi], k) => {
            if (lo <= p && p <= hi) coverage += binomialPmf(k, n, p);
          });
          expect(coverage).toBeGreaterThanOrEqual(0.95 - 1e-9);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('one-sided bound lies between the rate and the two-sided upper end', () => {
    fc.assert(
      fc.property(counts, ([k, n]) => {
        const bound = clopperPearsonUpperBound(k, n);
        expect(bound).toBeGreaterThanOrEqual(k / n);
        expect(bound).toBeLessThanOrEqual(clopperPearsonInterval(k, n)[1]);
      }),
    );
  });
});

type Method = (successes: number, trials: number) => Interval;

/** The interval campaigns reported before: Wilson, Clopper–Pearson at 0 and at all. */
function wilsonExactAtEnds(successes: number, trials: number): Interval {
  return successes === 0 || successes === trials ? clopperPearsonInterval(successes, trials) : wilsonInterval(successes, trials);
}

/** The campaign sizes the coverage is computed for: from a quick look to a long campaign. */
const COVERAGE_TRIALS = [10, 20, 50, 100, 200, 500, 1000, 2000, 10_000, 100_000];

/** Rates 10^(−6 + j/8) up to ½ (eight a decade, so 1e-4 and 1e-3 are on the grid), ½, and their mirrors 1 − p. */
function gridRates(): number[] {
  const rates: number[] = [];
  for (let j = 0; j <= 45; j++) rates.push(10 ** (-6 + j / 8));
  rates.push(0.5);
  return [...rates, ...rates.map((p) => 1 - p)];
}

/**
 * Rates a hair outside either end of the intervals for the counts 0…5 and n − 5…n. Coverage drops as p leaves
 * an interval, so its lowest values near 0 and 1 lie just there, between the grid's points.
 */
function edgeRates(intervalOf: (k: number) => Interval, n: number): number[] {
  const rates: number[] = [];
  const counts = [...Array(Math.min(n, 5) + 1).keys()].flatMap((k) => [k, n - k]);
  for (const k of counts) {
    const [lo, hi] = intervalOf(k);
    if (lo > 0) rates.push(lo - 1e-9 * Math.min(lo, 1 - lo));
    if (hi < 1) rates.push(hi + 1e-9 * Math.min(hi, 1 - hi));
  }
  return rates;
}

/** method(k, n) for a fixed n, memoized by k: the grid asks for the same counts at many rates. */
function intervalsFor(method: Method, n: number): (k: number) => Interval {
  const memo = new Map<number, Interval>();
  return (k) => {
    let found = memo.get(k);
    if (found === undefined) {
      found = method(k, n);
      memo.set(k, found);
    }
    return found;
  };
}

/**
 * The counts that carry Bin(n, p)'s mass: np ± (8 standard deviations + 8), inside [0, n]. Outside, the mass is
 * of order 1e-15 (the + 8 is for small np, where the tail is Poisson); `coverageAt` returns the mass it summed,
 * so the tests check that instead of trusting this.
 */
function massWindow(n: number, p: number): [from: number, to: number] {
  const reach = 8 * Math.sqrt(n * p * (1 - p)) + 8;
  return [Math.max(0, Math.floor(n * p - reach)), Math.min(n, Math.ceil(n * p + reach))];
}

/** Exact coverage at rate p: the sum of P(Bin(n, p) = k) over the counts whose interval contains p. */
function coverageAt(intervalOf: (k: number) => Interval, n: number, p: number): { coverage: number; mass: number } {
  const [from, to] = massWindow(n, p);
  let coverage = 0;
  let mass = 0;
  for (let k = from; k <= to; k++) {
    const pmf = binomialPmf(k, n, p);
    const [lo, hi] = intervalOf(k);
    mass += pmf;
    if (lo <= p && p <= hi) coverage += pmf;
  }
  return { coverage, mass };
}

/** The lowest exact coverage of `method` over the grid and edge rates for each n, and where it is. */
function lowestCoverage(method: Method, trials: readonly number[]): { coverage: number; n: number; p: number } {
  let lowest = { coverage: Infinity, n: 0, p: 0 };
  for (const n of trials) {
    const intervalOf = intervalsFor(method, n);
    for (const p of [...gridRates(), ...edgeRates(intervalOf, n)]) {
      const { coverage, mass } = coverageAt(intervalOf, n, p);
      expect(Math.abs(mass - 1)).toBeLessThan(1e-9);
      if (coverage < lowest.coverage) lowest = { coverage, n, p };
    }
  }
  return lowest;
}

describe('coverage, computed exactly', () => {
  it('sums the binomial probabilities as an independent calculation does', () => {
    // scipy.stats: sum of binom.pmf(k, n, p) over the k whose interval (beta.ppf, and Wilson by its formula)
    // contains p: 0.9047921471 and 0.9048328936 for Wilson, 0.9953619316 for the exact interval.
    expect(coverageAt(intervalsFor(wilsonExactAtEnds, 100), 100, 0.001).coverage).toBeCloseTo(0.9047921471, 9);
    expect(coverageAt(intervalsFor(wilsonExactAtEnds, 1000), 1000, 1e-4).coverage).toBeCloseTo(0.9048328936, 9);
    expect(coverageAt(intervalsFor(interval, 100), 100, 0.001).coverage).toBeCloseTo(0.9953619316, 9);
  });

  it('the reported interval covers the true rate at least 95% of the time, for n up to 100,000 and rates from 1e-6 to 1 − 1e-6', () => {
    // Clopper and Pearson's guarantee; the 1e-9 is the rounding of sums of up to a few thousand probabilities.
    const lowest = lowestCoverage(interval, COVERAGE_TRIALS);
    expect(lowest.coverage, `at n = ${lowest.n}, p = ${lowest.p}`).toBeGreaterThanOrEqual(0.95 - 1e-9);
  });

  it('so does it at 97.5%, the level mwtfInterval takes each rate at', () => {
    const lowest = lowestCoverage((k, n) => interval(k, n, 0.975), [20, 100, 1000, 100_000]);
    expect(lowest.coverage, `at n = ${lowest.n}, p = ${lowest.p}`).toBeGreaterThanOrEqual(0.975 - 1e-9);
  });

  it('the same calculation fails the interval reported before (Wilson, exact at 0 and at all) near a count of 1', () => {
    // Wilson's lower end at 1 failure is about 0.18/n, above rates that often give 1 failure: for np just
    // below it the coverage is only P(no failure) ≈ e^(−0.18) = 0.84 (0.835 at n = 10, 0.838 from n = 100).
    const lowest = lowestCoverage(wilsonExactAtEnds, COVERAGE_TRIALS);
    expect(lowest.coverage).toBeLessThan(0.94);
    expect(lowest.coverage).toBeCloseTo(0.835, 3);
    expect(coverageAt(intervalsFor(wilsonExactAtEnds, 100), 100, 0.001).coverage).toBeLessThan(0.94);
  });
});

describe('intervals: properties', () => {
  const methods = { wilson: wilsonInterval, clopperPearson: clopperPearsonInterval, reported: interval };

  for (const [name, method] of Object.entries(methods)) {
    it(`${name}: contains the rate and stays inside [0, 1]`, () => {
      fc.assert(
        fc.property(counts, fc.constantFrom(0.8, 0.9, 0.95, 0.99, 0.999), ([k, n], confidence) => {
          const [lo, hi] = method(k, n, confidence);
          expect(0 <= lo && lo <= k / n && k / n <= hi && hi <= 1).toBe(true);
        }),
      );
    });

    it(`${name}: narrows with more runs at the same rate, and widens with confidence`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 2, max: 50 }), (n, kRaw, m) => {
          const k = kRaw % (n + 1);
          const [lo, hi] = method(k, n);
          const [loMore, hiMore] = method(m * k, m * n);
          expect(hiMore - loMore).toBeLessThan(hi - lo);
          const [lo99, hi99] = method(k, n, 0.99);
          expect(hi99 - lo99).toBeGreaterThan(hi - lo);
        }),
      );
    });
  }

  it('exact intervals contain Wilson for up to 45 runs; beyond, Wilson reaches further at 0 and n', () => {
    // At 95%, for n ≤ 45 Clopper–Pearson contains Wilson for every count. From 46 runs on, Wilson's outer end
    // at 0 failures, z²/(n + z²) ≈ 3.84/n, passes the exact 1 − 0.025^(1/n) ≈ 3.69/n (and mirrored at n).
    for (let n = 1; n <= 45; n++) {
      for (let k = 0; k <= n; k++) {
        const [wLo, wHi] = wilsonInterval(k, n);
        const [cLo, cHi] = clopperPearsonInterval(k, n);
        expect(cLo).toBeLessThanOrEqual(wLo + 1e-15);
        expect(cHi).toBeGreaterThanOrEqual(wHi - 1e-15);
      }
    }
    expect(wilsonInterval(0, 45)[1]).toBeLessThan(clopperPearsonInterval(0, 45)[1]);
    expect(wilsonInterval(0, 46)[1]).toBeGreaterThan(clopperPearsonInterval(0, 46)[1]);
    expect(wilsonInterval(46, 46)[0]).toBeLessThan(clopperPearsonInterval(46, 46)[0]);
  });

  it('the reported interval is Clopper–Pearson at every count', () => {
    expect(interval(0, 3000)).toEqual(clopperPearsonInterval(0, 3000));
    expect(interval(3000, 3000)).toEqual(clopperPearsonInterval(3000, 3000));
    expect(interval(81, 263, 0.99)).toEqual(clopperPearsonInterval(81, 263, 0.99));
    expect(interval(0, 0)).toEqual([0, 1]);
    // 1 in 3,000, where Wilson's lower end (5.9e-5) was too high to cover rates just below it: the exact one is
    // 8.4392e-6 to 1.8558e-3 (scipy.stats.beta.ppf(0.025, 1, 3000) and beta.isf(0.025, 2, 2999)).
    expectRelative(interval(1, 3000)[0], 8.439233717563411e-6, 1e-9);
    expectRelative(interval(1, 3000)[1], 1.855799994491922e-3, 1e-9);
    expect(wilsonInterval(1, 3000)[0]).toBeGreaterThan(5.8e-5);
  });
});

describe('summaries and the margin reached', () => {
  it('summarizes a count with its rate and 95% interval', () => {
    expect(summarizeCount(0, 3000)).toEqual({ count: 0, rate: 0, ci95: clopperPearsonInterval(0, 3000) });
    expect(summarizeCount(81, 263)).toEqual({ count: 81, rate: 81 / 263, ci95: clopperPearsonInterval(81, 263) });
    // Newcombe (1998), Table II, method 5.
    expectInterval(summarizeCount(81, 263).ci95, [0.2527, 0.3676], 4);
    expect(rate(3, 4)).toBe(0.75);
    expect(() => rate(0, 0)).toThrow(RangeError);
    expect(() => summarizeCount(0, 0)).toThrow(RangeError);
  });

  it('measures the half-width on the wider side of an asymmetric interval', () => {
    const zero = summarizeCount(0, 3000);
    expect(intervalHalfWidth(zero)).toBe(zero.ci95[1]);
    const some = summarizeCount(1, 3000);
    expect(intervalHalfWidth(some)).toBe(some.ci95[1] - some.rate);
    expect(intervalHalfWidth({ rate: 0.5, ci95: [0.4, 0.55] })).toBeCloseTo(0.1, 15);
  });

  it('is reached only when every class is within the margin', () => {
    // ±1% at 95% with p = ½: Leveugle's normal approximation says 9,604 runs; the exact interval reaches
    // 1.00506% there (scipy: beta.isf(0.025, 4803, 4802) − ½) and is within 1% from 9,702 runs (1.000499% at 9,700).
    const at = (trials: number) => [summarizeCount(Math.floor(trials / 2), trials), summarizeCount(0, trials)];
    expect(intervalHalfWidth(summarizeCount(4802, 9604))).toBeCloseTo(0.0100506, 7);
    expect(marginReached(at(9702), 0.01)).toBe(true);
    expect(marginReached(at(9700), 0.01)).toBe(false);
    expect(marginReached(at(9604), 0.01)).toBe(false);
    expect(marginReached([summarizeCount(0, 100), summarizeCount(50, 100_000)], 0.01)).toBe(false);
    expect(() => marginReached([], 0.01)).toThrow(RangeError);
    expect(() => marginReached(at(100), 0)).toThrow(RangeError);
  });

  it('agrees with the sample size: Leveugle’s n for ±e leaves every reported interval within e + 1/(2n)', () => {
    fc.assert(
      fc.property(fc.constantFrom(0.005, 0.01, 0.02, 0.05), fc.double({ min: 0, max: 1, noNaN: true }), (margin, share) => {
        const n = leveugleSampleSize({ population: Infinity, margin });
        const k = Math.round(share * n);
        // The exact interval is the normal approximation widened by about a continuity correction, half a run.
        expect(intervalHalfWidth(summarizeCount(k, n))).toBeLessThanOrEqual(margin + 0.5 / n);
      }),
    );
  });
});

describe('Leveugle sample size', () => {
  it('needs 9,604 runs for ±1% at 95% in a large fault space, with the paper’s t = 1.96 or the exact quantile', () => {
    // Leveugle, Calvez, Maistri & Vanhauwaert, DATE 2009; anchors.md.
    expect(leveugleSampleSize({ population: Infinity, margin: 0.01 })).toBe(9604);
    expect(leveugleSampleSize({ population: Infinity, margin: 0.01, t: 1.96 })).toBe(9604);
    // 1.96² is not exactly 3.8416 in binary: the formula gives 9603.999999999998, not 9604.000000000002.
    expect(leveugleSampleSize({ population: 2 ** 40, margin: 0.01, t: 1.96 })).toBe(9604);
    expect(leveugleSampleSize({ population: Infinity, margin: 0.05 })).toBe(385);
    expect(leveugleSampleSize({ population: Infinity, margin: 0.01, confidence: 0.99 })).toBe(16588);
  });

  it('reproduces Krejcie & Morgan’s table (same formula, χ² = 3.841, ±5%)', () => {
    // Krejcie & Morgan, Educational and Psychological Measurement 30:607–610, 1970: N = 100 → 80,
    // N = 1,000 → 278, N = 10,000 → 370.
    const t = Math.sqrt(3.841);
    expect(leveugleSampleSize({ population: 100, margin: 0.05, t })).toBe(80);
    expect(leveugleSampleSize({ population: 1000, margin: 0.05, t })).toBe(278);
    expect(leveugleSampleSize({ population: 10_000, margin: 0.05, t })).toBe(370);
  });

  it('never exceeds the population, grows with it towards the limit, and shrinks with an unlikely p', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.constantFrom(0.001, 0.01, 0.05), (N, margin) => {
        const n = leveugleSampleSize({ population: N, margin });
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(N);
        expect(leveugleSampleSize({ population: N + 1000, margin })).toBeGreaterThanOrEqual(n);
        expect(n).toBeLessThanOrEqual(leveugleSampleSize({ population: Infinity, margin }));
        expect(leveugleSampleSize({ population: N, margin, p: 0.1 })).toBeLessThanOrEqual(n);
      }),
    );
    expect(leveugleSampleSize({ population: 1, margin: 0.01 })).toBe(1);
    expect(() => leveugleSampleSize({ population: 0, margin: 0.01 })).toThrow(RangeError);
    expect(() => leveugleSampleSize({ population: Infinity, margin: 1 })).toThrow(RangeError);
    expect(() => leveugleSampleSize({ population: Infinity, margin: 0.01, p: 0 })).toThrow(RangeError);
  });
});

describe('mean work to failure', () => {
  it('charges protection for its slowdown', () => {
    // COAST-like aggregates (anchors.md): 2.6× runtime, SDC 14.6% unprotected, 1.0% protected → 5.6×. (COAST's
    // published 18.6× averages per-benchmark ratios, so it is not reproducible from the aggregates.)
    expect(mwtf({ runtimeRatio: 2.6, unprotectedSdcRate: 0.146, protectedSdcRate: 0.01 })).toBeCloseTo(5.615385, 6);
    expect(mwtf({ runtimeRatio: 1, unprotectedSdcRate: 0.1, protectedSdcRate: 0.1 })).toBe(1);
    expect(mwtf({ runtimeRatio: 2, unprotectedSdcRate: 0.1, protectedSdcRate: 0 })).toBe(Infinity);
    expect(mwtf({ runtimeRatio: 2, unprotectedSdcRate: 0, protectedSdcRate: 0 })).toBeNaN();
    expect(() => mwtf({ runtimeRatio: 0, unprotectedSdcRate: 0.1, protectedSdcRate: 0.1 })).toThrow(RangeError);
  });

  it('bounds MWTF from the counts, with a finite lower end when protection showed no SDC', () => {
    const [lo, hi] = mwtfInterval({ runtimeRatio: 2, unprotected: { count: 300, trials: 3000 }, protected: { count: 0, trials: 3000 } });
    expect(hi).toBe(Infinity);
    // Each rate at 97.5%: unprotected exact lower bound over protected exact upper bound 1 − 0.0125^(1/3000).
    // scipy: beta.ppf(0.0125, 300, 2701) / (1 − 0.0125^(1/3000)) / 2 = 0.08805705114 / 0.00145960928 / 2.
    const [uLo] = clopperPearsonInterval(300, 3000, 0.975);
    expect(lo).toBeCloseTo(uLo / -Math.expm1(Math.log(0.0125) / 3000) / 2, 10);
    expectRelative(lo, 30.164596955278416, 1e-9);
    fc.assert(
      fc.property(counts, counts, fc.double({ min: 0.5, max: 5, noNaN: true }), ([uk, un], [pk, pn], runtimeRatio) => {
        const [mLo, mHi] = mwtfInterval({ runtimeRatio, unprotected: { count: uk, trials: un }, protected: { count: pk, trials: pn } });
        expect(mLo).toBeLessThanOrEqual(mHi);
        if (pk > 0) {
          const point = mwtf({ runtimeRatio, unprotectedSdcRate: uk / un, protectedSdcRate: pk / pn });
          expect(mLo).toBeLessThanOrEqual(point * (1 + 1e-12));
          expect(point).toBeLessThanOrEqual(mHi * (1 + 1e-12));
        }
      }),
    );
  });
});

describe('failures per mission', () => {
  it('scales the per-upset rate and its interval by the upsets expected in the mission', () => {
    // 10⁻⁶ upsets/bit/day on 10⁶ bits for 10 days: 10 upsets; 0 SDC in 3,000 runs → at most 0.12 SDC per mission.
    const outcome = summarizeCount(0, 3000);
    const result = failuresPerMission({ outcome, bits: 1_000_000, upsetRatePerBitPerDay: 1e-6, missionSeconds: 10 * 86_400 });
    expect(result.expectedUpsets).toBeCloseTo(10, 12);
    expect(result.expectedFailures).toBe(0);
    expect(result.ci95[0]).toBe(0);
    expect(result.ci95[1]).toBeCloseTo(0.012289, 6);
    const some = failuresPerMission({ outcome: summarizeCount(30, 3000), bits: 512, upsetRatePerBitPerDay: 0.5, missionSeconds: 43_200 });
    expect(some.expectedUpsets).toBe(128);
    expect(some.expectedFailures).toBeCloseTo(1.28, 12);
    expect(some.ci95[0]).toBeLessThan(1.28);
    expect(some.ci95[1]).toBeGreaterThan(1.28);
    expect(() => failuresPerMission({ outcome, bits: -1, upsetRatePerBitPerDay: 1, missionSeconds: 1 })).toThrow(RangeError);
    expect(() => failuresPerMission({ outcome: { rate: 0.5, ci95: [0.6, 0.4] }, bits: 1, upsetRatePerBitPerDay: 1, missionSeconds: 1 })).toThrow(RangeError);
  });
});
