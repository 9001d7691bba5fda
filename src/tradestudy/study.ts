// A whole trade study: for each configuration, the Monte Carlo's probability of mission success with its
// exact 95% interval, the Markov chain's value beside it, missed control cycles per year and time degraded
// with their intervals, and the hardware each costs; as JSON and as the table the command prints.
import { interval, zForConfidence, type Interval } from '../campaign/statistics.js';
import { configurationsOf, cores, upsetRatePerHour, type Configuration, type ConfigurationName } from './configurations.js';
import { markovFigure, MAX_MARKOV_DRAWS, MIN_MARKOV_DRAWS, type MarkovFigure } from './markov.js';
import type { BlockTotals, Moments } from './monte-carlo.js';
import { runAllTrials } from './parallel.js';
import type { MeasuredOutcomes } from './outcomes.js';
import { checkParameters, HOURS_PER_DAY, HOURS_PER_YEAR, type StudyParameters } from './parameters.js';

const DAYS_PER_YEAR = HOURS_PER_YEAR / HOURS_PER_DAY;

export interface MeanFigure {
  readonly mean: number;
  readonly ci95: Interval;
}

export interface ConfigurationResult {
  readonly name: ConfigurationName;
  readonly pMissionSuccess: number;
  /** Clopper–Pearson over the trials: each trial drew its own outcome probabilities from the posterior. */
  readonly ci95: Interval;
  readonly markov: MarkovFigure | null;
  readonly markovNote?: string;
  readonly successes: number;
  readonly trials: number;
  readonly missedCyclesPerYear: MeanFigure;
  /** Fraction of the mission flown with a processor lost (or a cold spare dead unseen), until the end or the loss. */
  readonly degradedFraction: MeanFigure;
  /** The same as days a year: the fraction × 365.25. */
  readonly degradedDaysPerYear: MeanFigure;
  readonly upsetsPerYear: number;
  readonly hardware: { readonly cores: number; readonly processors: number; readonly spare: string; readonly linkBytesPerDay: null; readonly note: string };
  /** Which figures come from the campaign and which from the model, with the assumptions. */
  readonly outcomes: { readonly full: { basis: string; measured: boolean }; readonly degraded: { basis: string; measured: boolean } | null };
  readonly assumptions: readonly string[];
  readonly maxEventsPerTrial: number;
}

export interface TradeStudy {
  readonly lockstep: 'tradestudy';
  readonly version: 1;
  readonly seed: number;
  readonly trials: number;
  readonly missionYears: number;
  readonly preset: string | null;
  readonly upsetRatePerBitPerDay: number;
  readonly fitPerCore: number;
  readonly dormantFactor: number;
  readonly policy: StudyParameters['policy'];
  readonly fatal: StudyParameters['fatal'];
  readonly controlPeriodSeconds: number;
  readonly coldBootSeconds: number;
  readonly campaign: { readonly file: string; readonly experiments: number; readonly seed: number | null; readonly fsw: string | null; readonly bitsPerCore: MeasuredOutcomes['bitsPerCore']; readonly checkpointBits: number };
  readonly configurations: readonly ConfigurationResult[];
}

export interface StudyOptions {
  readonly parameters: StudyParameters;
  readonly measured: MeasuredOutcomes;
  readonly seed: number;
  readonly trials: number;
  readonly configurations?: readonly ConfigurationName[];
  readonly preset?: string | null;
  /** Skip the Markov chain (it costs a small solve per posterior draw). */
  readonly markov?: boolean;
  /** Threads for the Monte Carlo (1: this one); the figures do not depend on it. */
  readonly jobs?: number;
}

/** Mean and normal-approximation 95% interval of a per-trial figure (never below 0: the figures are counts and fractions). */
export function meanFigure(moments: Moments): MeanFigure {
  const mean = moments.sum / moments.n;
  const variance = moments.n > 1 ? Math.max(0, (moments.sumSquares - moments.n * mean * mean) / (moments.n - 1)) : 0;
  const half = zForConfidence(0.95) * Math.sqrt(variance / moments.n);
  return { mean, ci95: [Math.max(0, mean - half), mean + half] };
}

/** Why a configuration has no Markov figure, or undefined when it has one. */
function markovNoteOf(options: StudyOptions): string | undefined {
  if (options.markov === false) return 'not computed (--no-markov)';
  if (options.parameters.policy.failThreshold > 0) return 'none: a fail count in a time window is not a constant-rate (Markov) process';
  return undefined;
}

function markovOf(configuration: Configuration, options: StudyOptions): MarkovFigure | null {
  if (markovNoteOf(options)) return null;
  return markovFigure(configuration, options.parameters, options.seed, Math.min(MAX_MARKOV_DRAWS, Math.max(MIN_MARKOV_DRAWS, options.trials)));
}

function resultOf(configuration: Configuration, totals: BlockTotals, markov: MarkovFigure | null, options: StudyOptions): ConfigurationResult {
  const degraded = meanFigure(totals.degradedFraction);
  const markovNote = markovNoteOf(options);
  return {
    name: configuration.name,
    pMissionSuccess: totals.successes / totals.trials,
    ci95: interval(totals.successes, totals.trials),
    markov,
    ...(markovNote ? { markovNote } : {}),
    successes: totals.successes,
    trials: totals.trials,
    missedCyclesPerYear: meanFigure(totals.missedPerYear),
    degradedFraction: degraded,
    degradedDaysPerYear: { mean: degraded.mean * DAYS_PER_YEAR, ci95: [degraded.ci95[0] * DAYS_PER_YEAR, degraded.ci95[1] * DAYS_PER_YEAR] },
    upsetsPerYear: upsetRatePerHour(configuration.full) * HOURS_PER_YEAR,
    hardware: {
      cores: cores(configuration),
      processors: configuration.units,
      spare: configuration.spare,
      linkBytesPerDay: null,
      note: 'cores only: link traffic needs a fly run of the configuration, which the study does not make',
    },
    outcomes: {
      full: { basis: configuration.full.basis, measured: configuration.full.measured },
      degraded: configuration.degraded ? { basis: configuration.degraded.basis, measured: configuration.degraded.measured } : null,
    },
    assumptions: configuration.assumptions,
    maxEventsPerTrial: totals.maxEvents,
  };
}

export async function runTradeStudy(options: StudyOptions): Promise<TradeStudy> {
  const { parameters, measured } = options;
  checkParameters(parameters);
  const configurations = configurationsOf(measured, parameters, options.configurations);
  const pending = runAllTrials(configurations, parameters, options.seed, options.trials, options.jobs ?? 1);
  // The chains are solved in this thread while the workers (if any) run the trials.
  const markovs = configurations.map((configuration) => markovOf(configuration, options));
  const totals = await pending;
  return {
    lockstep: 'tradestudy',
    version: 1,
    seed: options.seed,
    trials: options.trials,
    missionYears: parameters.missionYears,
    preset: options.preset ?? null,
    upsetRatePerBitPerDay: parameters.upsetRatePerBitPerDay,
    fitPerCore: parameters.fitPerCore,
    dormantFactor: parameters.dormantFactor,
    policy: parameters.policy,
    fatal: parameters.fatal,
    controlPeriodSeconds: parameters.controlPeriodSeconds,
    coldBootSeconds: parameters.coldBootSeconds,
    campaign: { file: measured.file, experiments: measured.experiments, seed: measured.seed, fsw: measured.fsw, bitsPerCore: measured.bitsPerCore, checkpointBits: measured.checkpointBits },
    configurations: configurations.map((configuration, i) => resultOf(configuration, totals[i], markovs[i], options)),
  };
}

const probability = (value: number) => value.toFixed(value > 0.9999 ? 6 : 4);
const range = ([lo, hi]: Interval, format: (value: number) => string) => `[${format(lo)}, ${format(hi)}]`;
const small = (value: number) => (value === 0 ? '0' : value < 0.01 ? value.toExponential(1) : value.toPrecision(3));

/** The table the command prints. */
export function formatTradeStudy(study: TradeStudy): string {
  const rate = `${study.upsetRatePerBitPerDay} upsets/bit/day${study.preset ? ` (${study.preset})` : ''}`;
  const repair = study.policy.repairHours === null ? 'no repair' : `repair in ${study.policy.repairHours} h`;
  const threshold = study.policy.failThreshold > 0 ? `, ${study.policy.failThreshold} detections in ${study.policy.windowHours} h fail a processor` : '';
  const lines = [
    `lockstep tradestudy — ${study.missionYears} years, ${rate}, ${study.fitPerCore} FIT per core, ${repair}${threshold}; ${study.trials} trials, seed ${study.seed}`,
    `  per-upset outcomes from ${study.campaign.file} (${study.campaign.experiments} experiments); mission lost on ${study.fatal === 'silent' ? 'any silent corruption (sdc, pointing violation)' : 'a pointing violation'} or the last processor lost`,
    `    ${'configuration'.padEnd(13)} ${'cores'.padStart(5)}  ${'P(mission success) [95%]'.padEnd(30)} ${'Markov'.padEnd(9)} ${'campaign range'.padEnd(20)} ${'missed cycles/yr [95%]'.padEnd(28)} ${'time degraded [95%]'.padEnd(26)} outcomes`,
  ];
  for (const c of study.configurations) {
    const success = `${probability(c.pMissionSuccess)} ${range(c.ci95, probability)}`;
    const markov = c.markov ? probability(c.markov.value) : '—';
    const credible = c.markov ? range(c.markov.credible95, probability) : '—';
    const missed = `${small(c.missedCyclesPerYear.mean)} ${range(c.missedCyclesPerYear.ci95, small)}`;
    const degraded = `${(c.degradedFraction.mean * 100).toFixed(2)}% ${range(c.degradedFraction.ci95, (v) => (v * 100).toFixed(2))}`;
    const basis = `${c.outcomes.full.measured ? 'measured' : 'derived'}${c.outcomes.degraded ? `, degraded ${c.outcomes.degraded.measured ? 'measured' : 'derived'}` : ''}`;
    lines.push(`    ${c.name.padEnd(13)} ${String(c.hardware.cores).padStart(5)}  ${success.padEnd(30)} ${markov.padEnd(9)} ${credible.padEnd(20)} ${missed.padEnd(28)} ${degraded.padEnd(26)} ${basis}`);
  }
  const outside = study.configurations.filter((c) => c.markov && (c.markov.value < c.ci95[0] || c.markov.value > c.ci95[1]));
  if (outside.length > 0) lines.push(`  WARNING: the Markov value lies outside the Monte Carlo interval for ${outside.map((c) => c.name).join(', ')}`);
  lines.push('  [95%]: the Monte Carlo\'s interval on P(success) given the campaign (each trial draws the per-upset outcomes from their posterior);');
  lines.push('  campaign range: 2.5–97.5% of the Markov chain\'s P(success) over that posterior, what a larger campaign could narrow.');
  lines.push('  hardware cost in cores only: link traffic needs a fly run of each configuration (not made). Derived outcomes and assumptions: --json.');
  return lines.join('\n');
}
