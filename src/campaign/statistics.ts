// Statistics for upset-injection campaigns: how many runs to make, and what the counts they produce allow
// one to claim. Published injectors report a rate with a Wald interval (p ± z·√(p(1−p)/n)), which has zero
// width at zero failures, exactly the result failover validation hopes for; the intervals here stay honest
// there. Everything is a small pure function of plain numbers, implemented here from well-known algorithms
// (Wichura's AS241, Lanczos and Stirling for log-gamma, the Numerical Recipes continued fraction for the
// incomplete beta function) rather than taken from a dependency, with every loop bounded.

/** A closed interval [lo, hi] on a proportion or a rate. */
export type Interval = readonly [lo: number, hi: number];

/** A count of one outcome class among a campaign's runs, as campaigns report it. */
export interface CountSummary {
  readonly count: number;
  /** count / trials. */
  readonly rate: number;
  /** The 95% interval of `interval()`: Clopper–Pearson, whose coverage is at least 95% for every true rate. */
  readonly ci95: Interval;
}

const LN_SQRT_2PI = 0.918938533204672741780329736406; // ln √(2π)
/** The same day as src/faults/draw.ts; not imported, so that this module stays a leaf with no model behind it. */
const SECONDS_PER_DAY = 86_400;

// ---------------------------------------------------------------------------------------------------------
// Argument checks: a campaign that passes a fractional count or a confidence of 95 (not 0.95) has a bug, and
// a number computed from it would be printed as if it meant something.

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must lie strictly between 0 and 1, not ${confidence}`);
}

function checkCounts(successes: number, trials: number): void {
  if (!Number.isSafeInteger(trials) || trials < 0) throw new RangeError(`trials must be a whole number ≥ 0, not ${trials}`);
  if (!Number.isSafeInteger(successes) || successes < 0 || successes > trials) {
    throw new RangeError(`the count must be a whole number from 0 to trials (${trials}), not ${successes}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The normal quantile.

const AS241_A = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125, 45921.953931549871457,
  67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const AS241_B = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867, 39307.89580009271061,
  28729.085735721942674, 5226.495278852854561,
];
const AS241_C = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504, 1.27045825245236838258,
  0.24178072517745061177, 0.0227238449892691845833, 0.00077454501427834140764,
];
const AS241_D = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 0.00054759380849953449460, 1.05075007164441684324e-9,
];
const AS241_E = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123, 0.026532189526576123093,
  0.0012426609473880784386, 0.0000271155556874348757815, 2.01033439929228813265e-7,
];
const AS241_F = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 0.00078686913114561329059,
  0.0000184631831751005468180, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

/** c[0] + c[1]·x + … by Horner's rule. */
function polynomial(c: readonly number[], x: number): number {
  let value = 0;
  for (let i = c.length - 1; i >= 0; i--) value = value * x + c[i];
  return value;
}

/**
 * Φ⁻¹(p), the standard normal quantile. Wichura's AS241 (PPND16, Applied Statistics 37, 1988) rather than
 * Acklam's approximation: it is accurate to about 1e-16 without a refinement step, so the z behind every
 * interval and sample size is the true quantile, not a table's 1.96.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: p must lie in [0, 1], not ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(AS241_A, r)) / polynomial(AS241_B, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = polynomial(AS241_C, r) / polynomial(AS241_D, r);
  } else {
    r -= 5;
    value = polynomial(AS241_E, r) / polynomial(AS241_F, r);
  }
  return q < 0 ? -value : value;
}

/**
 * The two-sided critical value z for a confidence level (1.959964… for 0.95). Computed from the lower tail,
 * −Φ⁻¹((1 − c)/2), because 1 − (1 − c)/2 would round away the digits that matter when c is close to 1.
 */
export function zForConfidence(confidence: number): number {
  checkConfidence(confidence);
  return -normalQuantile((1 - confidence) / 2);
}

// ---------------------------------------------------------------------------------------------------------
// Log-gamma, log-beta and the regularized incomplete beta function, for the exact (Clopper–Pearson) interval.

/** Lanczos coefficients for g = 7, n = 9 (Godfrey's set, the one quoted with the Lanczos approximation on Wikipedia). */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * ln Γ(x) − [(x − ½)·ln x − x + ln √(2π)], the remainder of Stirling's formula, by its asymptotic series
 * (Bernoulli numbers B₂ … B₁₄). Kept separate because log-beta of two large arguments is a difference of
 * huge log-gammas whose leading terms cancel; subtracting the small remainders instead keeps full precision.
 * For x ≥ 10 the first omitted term is below 3e-17.
 */
function stirlingRemainder(x: number): number {
  const x2 = 1 / (x * x);
  return (
    (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 * (1 / 1188 - x2 * (691 / 360360 - x2 / 156)))))) / x
  );
}

/**
 * ln Γ(x) for x > 0. Lanczos (g = 7) below 10, where it is good to about 1e-15, and Stirling with its
 * remainder series above, where the remainder is tiny and the result is as precise as the logarithm.
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be positive, not ${x}`);
  if (x === Infinity) return Infinity;
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingRemainder(x);
  // Reflection: the Lanczos sum is accurate for x ≥ ½ only.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/**
 * ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), arranged (as R's lbeta is) so that large arguments do not
 * cancel: for a campaign of 100,000 runs the three log-gammas are about 10⁶ each, and their plain difference
 * would lose six digits of the beta function and so of the exact interval.
 */
export function logBeta(a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`logBeta: a and b must be positive, not ${a}, ${b}`);
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const remainder = stirlingRemainder(p) + stirlingRemainder(q) - stirlingRemainder(p + q);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + remainder + (p - 0.5) * Math.log(p / (p + q)) + q * Math.log1p(-p / (p + q));
  }
  if (q >= 10) {
    const remainder = stirlingRemainder(q) - stirlingRemainder(p + q);
    return logGamma(p) + remainder + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

/**
 * The continued fraction for I_x(a, b), evaluated by the modified Lentz method (Numerical Recipes, betacf).
 * It converges in O(√max(a, b)) terms when x < (a + 1)/(a + b + 2); the bound on terms is generous for that,
 * and a fraction that has not converged by then is an error, not a number.
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const epsilon = 1e-16;
  const maxTerms = 1000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= maxTerms; m++) {
    const m2 = 2 * m;
    // Even step.
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // Odd step.
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) <= epsilon) return h;
  }
  throw new Error(`incomplete beta: continued fraction did not converge for a=${a}, b=${b}, x=${x}`);
}

/**
 * ln of x^a·(1 − x)^b / B(a, b), the factor in front of the continued fraction, on either side. ln(1 − x) is
 * taken as log1p(−x) from x itself: forming 1 − x first rounds it, and b·ln(1 − x) multiplies that rounding by
 * b (10⁹ runs would lose eight digits of a bound near 5e-9).
 */
function logBetaFront(x: number, a: number, b: number): number {
  return a * Math.log(x) + b * Math.log1p(-x) - logBeta(a, b);
}

function checkShape(a: number, b: number): void {
  if (!(a > 0 && b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) {
    throw new RangeError(`incomplete beta: a and b must be positive and finite, not ${a}, ${b}`);
  }
}

/**
 * Both tails of Beta(a, b) at x, [I_x(a, b), 1 − I_x(a, b)], each computed directly where it is the small one
 * so that neither is a difference from 1 when it matters: the exact interval's bounds are quantiles at α/2 in
 * one tail or the other, and a tail of 0.025 obtained as 1 − 0.975… would carry the error of its complement.
 * The continued fraction converges fast for x < (a + 1)/(a + b + 2); on the other side the symmetry
 * I_x(a, b) = 1 − I_{1−x}(b, a) gives the upper tail from the fraction with the roles of a and b exchanged.
 */
function betaTails(x: number, a: number, b: number): [lower: number, upper: number] {
  if (x <= 0) return [0, 1];
  if (x >= 1) return [1, 0];
  const front = Math.exp(logBetaFront(x, a, b));
  if (x < (a + 1) / (a + b + 2)) {
    const lower = (front * betaContinuedFraction(a, b, x)) / a;
    return [lower, 1 - lower];
  }
  const upper = (front * betaContinuedFraction(b, a, 1 - x)) / b;
  return [1 - upper, upper];
}

/**
 * The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b): the binomial tail the
 * exact interval is defined by, since P(Bin(n, p) ≥ k) = I_p(k, n − k + 1).
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  checkShape(a, b);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`incomplete beta: x must lie in [0, 1], not ${x}`);
  return betaTails(x, a, b)[0];
}

/** The Beta(a, b) density at x, the derivative Newton's method needs; computed in logs so it cannot overflow. */
function betaDensity(x: number, a: number, b: number): number {
  return Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logBeta(a, b));
}

/**
 * The beta quantile: the x in [0, 1] whose lower tail I_x(a, b) is p, or with tail 'upper' whose upper tail
 * 1 − I_x(a, b) is p. The exact interval's bounds are read from it, each as a tail of α/2, so that neither
 * the target nor the answer is ever a difference from 1 that has lost digits.
 * Newton's method, safeguarded by a bracket that every evaluation narrows: a step that would leave the bracket
 * (or a density that underflows) becomes a bisection, so convergence does not depend on the starting point.
 * Stops when x is known to 1e-12 of itself (or of 1 − x, whichever is smaller, down to a few ulps) or when no
 * other double is left in the bracket; throws if neither happens within a fixed number of iterations.
 */
export function inverseRegularizedIncompleteBeta(p: number, a: number, b: number, tail: 'lower' | 'upper' = 'lower'): number {
  checkShape(a, b);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`inverse incomplete beta: p must lie in [0, 1], not ${p}`);
  const upper = tail === 'upper';
  if (p === 0) return upper ? 1 : 0;
  if (p === 1) return upper ? 0 : 1;
  const tolerance = 1e-12;
  const maxIterations = 500;
  let lo = 0;
  let hi = 1;
  let x = a / (a + b); // the mean: close to every quantile a campaign asks for once n is large
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const tails = betaTails(x, a, b);
    // g increases with x in both cases, with derivative the density.
    const g = upper ? p - tails[1] : tails[0] - p;
    if (g === 0) return x;
    if (g < 0) lo = x;
    else hi = x;
    let next = x - g / betaDensity(x, a, b);
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (next === lo || next === hi) return next; // no double left between the ends of the bracket
    const resolution = Math.max(tolerance * Math.min(next, 1 - next), 4 * Number.EPSILON * next);
    if (Math.abs(next - x) <= resolution || hi - lo <= resolution) return next;
    x = next;
  }
  throw new Error(`inverse incomplete beta: no convergence for p=${p}, a=${a}, b=${b}, tail ${tail}`);
}

// ---------------------------------------------------------------------------------------------------------
// Intervals on a proportion.

/**
 * The Wilson score interval (no continuity correction) for `successes` in `trials`. Better than the Wald
 * interval the injection literature uses (Brown, Cai & DasGupta, Statistical Science 2001): it never leaves
 * [0, 1] and has a real width at zero failures. Campaigns no longer report it: its lower end at a count of 1
 * (about 0.18/n) is too high, so its coverage falls to 90.5% at n = 100, p = 0.001 and to 84% for rates just
 * below that end (docs/statistics.md): the regime of rare silent failures. Kept for comparison, as the
 * coverage test's counter-example. With no trials there is no information: [0, 1].
 */
export function wilsonInterval(successes: number, trials: number, confidence = 0.95): Interval {
  checkCounts(successes, trials);
  const z = zForConfidence(confidence);
  if (trials === 0) return [0, 1];
  const z2 = z * z;
  const centre = (successes + z2 / 2) / (trials + z2);
  const half = (z / (trials + z2)) * Math.sqrt((successes * (trials - successes)) / trials + z2 / 4);
  // At the ends the formula gives exactly 0 and 1 in exact arithmetic; pin them so rounding cannot show −1e-18.
  const lo = successes === 0 ? 0 : Math.max(0, centre - half);
  const hi = successes === trials ? 1 : Math.min(1, centre + half);
  return [lo, hi];
}

/** (α/2)^(1/n), computed through logs: the closed form of the exact bound when the count is 0 or n. */
function boundaryBound(alphaHalf: number, trials: number): number {
  return Math.exp(Math.log(alphaHalf) / trials);
}

/**
 * The Clopper–Pearson ("exact") interval: the set of rates not rejected by either one-sided binomial test at
 * level α/2. Its coverage is at least the nominal confidence for every true rate, which is what a claim like
 * "fewer than 0.12% of upsets go undetected" needs. lo = BetaInv(α/2; k, n − k + 1), hi = BetaInv(1 − α/2;
 * k + 1, n − k), with lo = 0 when k = 0 and hi = 1 when k = n. The other end at k = 0 and k = n has the closed
 * form 1 − (α/2)^(1/n) (and its mirror), used directly: exact, and free of iteration even for huge n.
 */
export function clopperPearsonInterval(successes: number, trials: number, confidence = 0.95): Interval {
  checkCounts(successes, trials);
  checkConfidence(confidence);
  if (trials === 0) return [0, 1];
  const alphaHalf = (1 - confidence) / 2;
  const k = successes;
  const n = trials;
  if (k === 0) return [0, -Math.expm1(Math.log(alphaHalf) / n)];
  if (k === n) return [boundaryBound(alphaHalf, n), 1];
  // hi = BetaInv(1 − α/2; k + 1, n − k), solved as the point whose upper tail is α/2.
  return [inverseRegularizedIncompleteBeta(alphaHalf, k, n - k + 1), inverseRegularizedIncompleteBeta(alphaHalf, k + 1, n - k, 'upper')];
}

/**
 * The one-sided exact upper bound: the largest rate not rejected at level 1 − confidence. This is the figure
 * behind "0 failures in 3,000 runs → below 0.1% with 95% confidence" and the rule of three (3/n);
 * a two-sided 95% interval's upper end is a 97.5% one-sided bound, 0.123% for the same runs.
 */
export function clopperPearsonUpperBound(successes: number, trials: number, confidence = 0.95): number {
  checkCounts(successes, trials);
  checkConfidence(confidence);
  if (trials === 0 || successes === trials) return 1;
  if (successes === 0) return -Math.expm1(Math.log(1 - confidence) / trials);
  return inverseRegularizedIncompleteBeta(1 - confidence, successes + 1, trials - successes, 'upper');
}

/**
 * The interval campaigns report: Clopper–Pearson for every count. Chosen by computing coverage exactly over
 * n from 10 to 100,000 and rates from 1e-6 to 1 − 1e-6 (docs/statistics.md): every approximate interval
 * measured (Wilson, Brown–Cai–DasGupta's modified Wilson, Jeffreys, mid-p) falls to 92% or below somewhere,
 * Wilson to 84% at a count of 1, and a signed-off rate needs a guarantee, not a usual case. The exact
 * interval's coverage is at least the confidence for every rate (a theorem, checked by the test), and it
 * costs little: its expected width is 2% above Wilson's on average over that grid, at most 7% from 100 runs
 * on. (Wilson with continuity correction also held 94.9%, but is 17% wider than Wilson on average.)
 */
export function interval(successes: number, trials: number, confidence = 0.95): Interval {
  return clopperPearsonInterval(successes, trials, confidence);
}

/** The observed rate. Zero trials is an error rather than 0 or NaN, which a report would print as a result. */
export function rate(count: number, trials: number): number {
  checkCounts(count, trials);
  if (trials === 0) throw new RangeError('rate: no trials, so no rate');
  return count / trials;
}

/** One outcome class of a campaign as it is reported: the count, its rate and the 95% interval of `interval()`. */
export function summarizeCount(count: number, trials: number): CountSummary {
  return { count, rate: rate(count, trials), ci95: interval(count, trials, 0.95) };
}

/**
 * How far the interval reaches from the rate on its wider side. The exact interval is not symmetric about
 * the rate, so the margin a campaign has reached is the larger of the two distances, not half the width.
 */
export function intervalHalfWidth(summary: Pick<CountSummary, 'rate' | 'ci95'>): number {
  const [lo, hi] = summary.ci95;
  return Math.max(hi - summary.rate, summary.rate - lo);
}

/**
 * `--until-margin`: true once every outcome class's interval reaches no further than `margin` from its rate.
 * An empty list is an error rather than a vacuous true, which would end a campaign before its first run.
 */
export function marginReached(summaries: readonly Pick<CountSummary, 'rate' | 'ci95'>[], margin: number): boolean {
  if (!(margin > 0 && margin < 1)) throw new RangeError(`margin must lie strictly between 0 and 1, not ${margin}`);
  if (summaries.length === 0) throw new RangeError('marginReached: no outcome classes to measure');
  return summaries.every((summary) => intervalHalfWidth(summary) <= margin);
}

// ---------------------------------------------------------------------------------------------------------
// Planning a campaign.

export interface SampleSizeOptions {
  /** Size of the fault space sampled (bits × cycles, say); Infinity for the large-population limit. */
  readonly population: number;
  /** The margin of error e, as a proportion (0.01 for ±1%). */
  readonly margin: number;
  /** Confidence level; default 0.95. */
  readonly confidence?: number;
  /** The expected proportion; 0.5, the default, is the worst case and so the safe choice. */
  readonly p?: number;
  /**
   * The cut-off t, overriding the one from `confidence`. Leveugle et al. tabulate it rounded (1.96 for 95%);
   * the default is the exact normal quantile (1.959964…). Both give 9,604 runs for ±1% at 95%.
   */
  readonly t?: number;
}

/**
 * Runs needed to estimate a proportion within ±e at a confidence level (Leveugle, Calvez, Maistri and
 * Vanhauwaert, "Statistical fault injection: quantified error and confidence", DATE 2009):
 * n = N·t²·p(1−p) / (e²(N − 1) + t²·p(1−p)), and t²·p(1−p)/e² as N → ∞. The finite-population form matters:
 * a small fault space is covered in fewer runs than the limit suggests. The result is rounded up, after
 * shaving a relative 1e-12 so that floating-point residue (1.96² is not exactly 3.8416) cannot add a run.
 * Like the paper's formula this is a normal approximation, so it plans a campaign; the intervals above judge it,
 * and the exact interval is a little wider than the approximation: `marginReached` finds ±1% at 95% for a
 * half-and-half split from about 9,700 runs, not 9,604.
 */
export function leveugleSampleSize(options: SampleSizeOptions): number {
  const { population: N, margin: e, confidence = 0.95, p = 0.5 } = options;
  if (!(N === Infinity || (Number.isSafeInteger(N) && N >= 1))) throw new RangeError(`population must be a whole number ≥ 1 or Infinity, not ${N}`);
  if (!(e > 0 && e < 1)) throw new RangeError(`margin must lie strictly between 0 and 1, not ${e}`);
  if (!(p > 0 && p < 1)) throw new RangeError(`p must lie strictly between 0 and 1, not ${p}`);
  const t = options.t ?? zForConfidence(confidence);
  if (!(t > 0 && Number.isFinite(t))) throw new RangeError(`t must be positive and finite, not ${t}`);
  const variance = t * t * p * (1 - p);
  const n = N === Infinity ? variance / (e * e) : (N * variance) / (e * e * (N - 1) + variance);
  return Math.min(N, Math.ceil(n * (1 - 1e-12)));
}

// ---------------------------------------------------------------------------------------------------------
// From rates to engineering figures.

export interface MwtfOptions {
  /** Protected runtime ÷ unprotected runtime (2.6 for COAST's duplication). */
  readonly runtimeRatio: number;
  /** Silent-data-corruption rate per injected upset without protection. */
  readonly unprotectedSdcRate: number;
  /** The same with protection. */
  readonly protectedSdcRate: number;
}

function checkRuntimeRatio(runtimeRatio: number): void {
  if (!(runtimeRatio > 0 && Number.isFinite(runtimeRatio))) throw new RangeError(`runtimeRatio must be positive and finite, not ${runtimeRatio}`);
}

function checkRate(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must lie in [0, 1], not ${value}`);
}

/**
 * Mean work to failure relative to the unprotected program (COAST: Chielle et al., IEEE Trans. Nuclear Science 2019): (1 / runtime ratio) ×
 * (unprotected SDC rate / protected SDC rate). It charges protection for its slowdown, since a slower program
 * is exposed to more upsets per unit of work. With no protected SDC observed the point estimate is Infinity
 * (and NaN if neither build showed any: there is nothing to compare); report `mwtfInterval`'s lower end then.
 */
export function mwtf(options: MwtfOptions): number {
  const { runtimeRatio, unprotectedSdcRate, protectedSdcRate } = options;
  checkRuntimeRatio(runtimeRatio);
  checkRate('unprotectedSdcRate', unprotectedSdcRate);
  checkRate('protectedSdcRate', protectedSdcRate);
  if (protectedSdcRate === 0) return unprotectedSdcRate === 0 ? NaN : Infinity;
  return unprotectedSdcRate / protectedSdcRate / runtimeRatio;
}

export interface MwtfIntervalOptions {
  readonly runtimeRatio: number;
  /** SDC count and runs of the unprotected campaign. */
  readonly unprotected: { readonly count: number; readonly trials: number };
  /** SDC count and runs of the protected campaign. */
  readonly protected: { readonly count: number; readonly trials: number };
  readonly confidence?: number;
}

/**
 * An interval on MWTF from the two campaigns' counts: the ratio's lowest value pairs the unprotected lower bound
 * with the protected upper bound, and its highest the reverse. Each rate's interval is taken at confidence
 * 1 − α/2, so that both hold together with probability at least 1 − α (Bonferroni) whatever the correlation;
 * since each exact interval covers its rate at least that often, the guarantee is real, and conservative. With no protected SDC the upper end is Infinity and the lower end is the
 * claim to make: "MWTF at least L at 95%".
 */
export function mwtfInterval(options: MwtfIntervalOptions): Interval {
  const { runtimeRatio, unprotected, confidence = 0.95 } = options;
  const guarded = options.protected;
  checkRuntimeRatio(runtimeRatio);
  checkConfidence(confidence);
  const each = 1 - (1 - confidence) / 2;
  const [uLo, uHi] = interval(unprotected.count, unprotected.trials, each);
  const [pLo, pHi] = interval(guarded.count, guarded.trials, each);
  const lo = uLo / pHi / runtimeRatio;
  const hi = pLo === 0 ? Infinity : uHi / pLo / runtimeRatio;
  return [lo, hi];
}

export interface MissionFailureOptions {
  /** The outcome class per injected upset (say, silent corruption), as `summarizeCount` gives it. */
  readonly outcome: Pick<CountSummary, 'rate' | 'ci95'>;
  /** Bits exposed to upsets (the fault space's size in bits). */
  readonly bits: number;
  /** The environment's upset rate, per bit per day (as radiation-environment tools quote it). */
  readonly upsetRatePerBitPerDay: number;
  /** Mission duration in seconds (cycles × control period, for a flight). */
  readonly missionSeconds: number;
}

export interface MissionFailures {
  /** Upsets expected over the mission: rate per bit per day × bits × days. */
  readonly expectedUpsets: number;
  /** Of those, the expected number with this outcome: expected upsets × outcome rate. */
  readonly expectedFailures: number;
  /** The outcome rate's interval scaled the same way. */
  readonly ci95: Interval;
}

/**
 * Turns a per-upset outcome rate from an injection campaign into expected failures over a mission, which is
 * what a reader of a reliability claim needs (a 0.1% SDC rate means little until it is "0.02 per mission").
 * Expected upsets are taken as known (the environment's rate is an input here, not an estimate), so only the
 * outcome rate's interval is carried through, by scaling its bounds. This assumes, like single-upset
 * injection itself, that upsets are rare enough to act independently of each other.
 */
export function failuresPerMission(options: MissionFailureOptions): MissionFailures {
  const { outcome, bits, upsetRatePerBitPerDay, missionSeconds } = options;
  if (!(Number.isSafeInteger(bits) && bits >= 0)) throw new RangeError(`bits must be a whole number ≥ 0, not ${bits}`);
  if (!(upsetRatePerBitPerDay >= 0 && Number.isFinite(upsetRatePerBitPerDay))) {
    throw new RangeError(`upsetRatePerBitPerDay must be ≥ 0 and finite, not ${upsetRatePerBitPerDay}`);
  }
  if (!(missionSeconds >= 0 && Number.isFinite(missionSeconds))) throw new RangeError(`missionSeconds must be ≥ 0 and finite, not ${missionSeconds}`);
  checkRate('outcome rate', outcome.rate);
  const [lo, hi] = outcome.ci95;
  checkRate('outcome interval lower bound', lo);
  checkRate('outcome interval upper bound', hi);
  if (lo > hi) throw new RangeError(`outcome interval [${lo}, ${hi}] is reversed`);
  const expectedUpsets = upsetRatePerBitPerDay * bits * (missionSeconds / SECONDS_PER_DAY);
  return { expectedUpsets, expectedFailures: expectedUpsets * outcome.rate, ci95: [expectedUpsets * lo, expectedUpsets * hi] };
}
