// The six configurations a mission can fly, as the trade study models them: how many cores, how they are
// grouped into processors (P1, P2…), what kind of spare, and how upsets act on the computer in its full and
// its degraded mode. Where a campaign measured a mode, its outcome counts are used; where not, the outcome is
// derived from the model and the assumption is written down here, in one place, and carried to the output.
import { OUTCOMES, type OutcomeName } from '../campaign/experiment.js';
import { PRIOR_WEIGHT } from './dirichlet.js';
import { tableOf, type MeasuredOutcomes, type StorageTarget } from './outcomes.js';
import { HOURS_PER_DAY, type FatalOutcomes, type StudyParameters } from './parameters.js';

export const CONFIGURATION_NAMES = ['single', 'pair', 'pair+cold', 'pair+hot', 'tmr', 'tmr+spare'] as const;
export type ConfigurationName = (typeof CONFIGURATION_NAMES)[number];

/**
 * What one upset does to the computer: nothing; outvoted by the voter (a detection, no cycle lost); a
 * rollback (the cycle's commands held); a failover to the spare in the period, or late; or the end of the
 * mission (silent corruption).
 */
export const EFFECTS = ['harmless', 'outvoted', 'rollback', 'failover', 'late-failover', 'fatal'] as const;
export type Effect = (typeof EFFECTS)[number];
export const EFFECT_INDEX: Readonly<Record<Effect, number>> = Object.fromEntries(EFFECTS.map((effect, i) => [effect, i])) as Record<Effect, number>;

export function effectOf(outcome: OutcomeName, fatal: FatalOutcomes): Effect {
  switch (outcome) {
    case 'masked':
    case 'latent':
      return 'harmless';
    case 'detected':
      return 'rollback';
    case 'recovered':
      return 'failover';
    case 'failover-failed':
      return 'late-failover';
    case 'sdc':
      return fatal === 'silent' ? 'fatal' : 'harmless';
    case 'pointing-violation':
      return 'fatal';
  }
}

/** Upsets on one target in one mode: their rate, and the posterior weights of their effects (Dirichlet alphas). */
export interface UpsetSource {
  readonly target: StorageTarget;
  readonly bits: number;
  readonly ratePerHour: number;
  /** Per effect (EFFECTS order): Σ (count + ½) over the outcomes with that effect; zero for effects none has. */
  readonly alphas: readonly number[];
}

export interface ModeResponse {
  /** Where its outcomes come from: a campaign configuration, or the derivation. */
  readonly basis: string;
  readonly measured: boolean;
  readonly sources: readonly UpsetSource[];
}

export type Structure = 'series' | 'spared-pair' | 'voting';

export interface Configuration {
  readonly name: ConfigurationName;
  readonly structure: Structure;
  /** Processors (units that fail and are replaced as one) and cores in each. */
  readonly units: number;
  readonly coresPerUnit: number;
  readonly spare: 'none' | 'hot' | 'cold';
  /** Upsets with everything working; and (spared pair, voting) with a unit lost. */
  readonly full: ModeResponse;
  readonly degraded: ModeResponse | null;
  /** What is assumed beyond the campaign's measurements. */
  readonly assumptions: readonly string[];
}

export function cores(configuration: Configuration): number {
  return configuration.units * configuration.coresPerUnit;
}

/** Effect weights from a campaign's counts: each outcome's count plus the prior's ½, summed per effect. */
function alphasOf(counts: Readonly<Record<OutcomeName, number>>, fatal: FatalOutcomes): number[] {
  const alphas = EFFECTS.map(() => 0);
  for (const outcome of OUTCOMES) alphas[EFFECT_INDEX[effectOf(outcome, fatal)]] += counts[outcome] + PRIOR_WEIGHT;
  return alphas;
}

function bitsOf(measured: MeasuredOutcomes, target: StorageTarget, exposedCores: number): number {
  if (target === 'checkpoint') return measured.checkpointBits;
  return (measured.bitsPerCore[target] ?? 0) * exposedCores;
}

/** A mode whose upsets act as the campaign measured for `config`, on `exposedCores` cores (and the checkpoint if measured). */
function measuredMode(measured: MeasuredOutcomes, config: string, exposedCores: number, neededBy: string, p: StudyParameters, basis = config): ModeResponse {
  const table = tableOf(measured, config, neededBy);
  const sources = Object.entries(table).map(([target, counts]) => {
    const bits = bitsOf(measured, target as StorageTarget, exposedCores);
    return { target: target as StorageTarget, bits, ratePerHour: (p.upsetRatePerBitPerDay * bits) / HOURS_PER_DAY, alphas: alphasOf(counts!.counts, p.fatal) };
  });
  return { basis, measured: basis === config, sources };
}

/**
 * Three voting cores: every single-core upset is outvoted and the core resynchronised from the majority.
 * Measured when the campaign judged `config` (`lockstep campaign --configs …,tmr,tmr+spare`): its
 * `recovered` is an outvote there (no failover, no cycle lost), so those weights count as outvoted.
 */
function voterMode(measured: MeasuredOutcomes, p: StudyParameters, config: 'tmr' | 'tmr+spare'): ModeResponse {
  const table = [config, 'tmr'].find((name) => measured.tables[name] && Object.keys(measured.tables[name]).length > 0);
  if (table) {
    const mode = measuredMode(measured, table, 3, config, p);
    const sources = mode.sources.map((source) => {
      const alphas = [...source.alphas];
      alphas[EFFECT_INDEX.outvoted] += alphas[EFFECT_INDEX.failover] + alphas[EFFECT_INDEX['late-failover']];
      alphas[EFFECT_INDEX.failover] = 0;
      alphas[EFFECT_INDEX['late-failover']] = 0;
      return { ...source, alphas };
    });
    return { ...mode, sources };
  }
  const sources = (['memory', 'global'] as const)
    .filter((target) => (measured.bitsPerCore[target] ?? 0) > 0)
    .map((target) => {
      const bits = bitsOf(measured, target, 3);
      const alphas = EFFECTS.map((effect) => (effect === 'outvoted' ? 1 : 0));
      return { target, bits, ratePerHour: (p.upsetRatePerBitPerDay * bits) / HOURS_PER_DAY, alphas };
    });
  return { basis: 'derived: the 2-of-3 voter masks any single-core upset', measured: false, sources };
}

const PERMANENT = 'a permanent fault is detected (comparator, voter or heartbeat) when it occurs, except in a powered-off spare, where it is found when the spare is booted';
const HOT_FAILOVER = 'a hot failover after a permanent fault is on time, as failovers after upsets are (recovered)';
const PAIR_LOSS = 'a lock-step pair that loses a core cannot tell which core is right: the pair is lost';
const SPARE_UPSETS = 'upsets in a spare are masked (it is reloaded before it flies), so a spare adds no exposure';

/** The six configurations, from a campaign's measurements and the study's parameters. */
export function configurationsOf(measured: MeasuredOutcomes, p: StudyParameters, names: readonly ConfigurationName[] = CONFIGURATION_NAMES): Configuration[] {
  const simplex = (name: string) => measuredMode(measured, 'pair', 2, `${name} in simplex`, p);
  const build: Record<ConfigurationName, () => Configuration> = {
    single: () => ({
      name: 'single', structure: 'series', units: 1, coresPerUnit: 1, spare: 'none',
      full: measuredMode(measured, 'single', 1, 'single', p), degraded: null,
      assumptions: ['a permanent fault of the lone core ends the mission', 'a crash or hang is rolled back, holding one cycle'],
    }),
    pair: () => ({
      name: 'pair', structure: 'series', units: 1, coresPerUnit: 2, spare: 'none',
      full: measuredMode(measured, 'pair', 2, 'pair', p), degraded: null,
      assumptions: [PAIR_LOSS, 'a detection rolls back to the checkpoint, holding one cycle'],
    }),
    'pair+hot': () => ({
      name: 'pair+hot', structure: 'spared-pair', units: 2, coresPerUnit: 2, spare: 'hot',
      full: measuredMode(measured, 'pair+spare', 2, 'pair+hot', p), degraded: simplex('pair+hot'),
      assumptions: [PERMANENT, HOT_FAILOVER, SPARE_UPSETS, PAIR_LOSS + ' when no spare is left'],
    }),
    'pair+cold': () => ({
      name: 'pair+cold', structure: 'spared-pair', units: 2, coresPerUnit: 2, spare: 'cold',
      full: measuredMode(measured, 'pair+spare', 2, 'pair+cold', p, "derived: pair+spare's measured outcomes, each failover a cold boot"),
      degraded: simplex('pair+cold'),
      assumptions: [
        `pair+cold's per-upset outcomes are pair+spare's, except that every failover boots the spare from scratch: ${p.coldBootSeconds} s of held commands and the state lost (as fly --spare cold)`,
        `the powered-off spare fails at ${p.dormantFactor} × the powered rate, unseen until it is booted; booting a dead spare leaves the primary in simplex (after a permanent fault of the primary: the mission is lost)`,
        PERMANENT, SPARE_UPSETS, PAIR_LOSS + ' when no spare is left',
      ],
    }),
    tmr: () => ({
      name: 'tmr', structure: 'voting', units: 3, coresPerUnit: 1, spare: 'none',
      full: voterMode(measured, p, 'tmr'), degraded: measuredMode(measured, 'pair', 2, 'tmr with a core lost', p),
      assumptions: ['three cores vote 2 of 3; an outvoted core is resynchronised from the majority, no cycle lost (the voter itself is not struck)', 'with a core lost the other two fly on as a lock-step pair (pair\'s measured outcomes)', PERMANENT, PAIR_LOSS],
    }),
    'tmr+spare': () => ({
      name: 'tmr+spare', structure: 'voting', units: 4, coresPerUnit: 1, spare: 'hot',
      full: voterMode(measured, p, 'tmr+spare'), degraded: measuredMode(measured, 'pair', 2, 'tmr+spare with two cores lost', p),
      assumptions: ['three cores vote 2 of 3 and a fourth, powered, replaces the first core lost (resynchronised from the majority)', 'with two cores lost the other two fly on as a lock-step pair', PERMANENT, SPARE_UPSETS, PAIR_LOSS],
    }),
  };
  return names.map((name) => build[name]());
}

/** Total upset rate of a mode, per hour. */
export function upsetRatePerHour(mode: ModeResponse): number {
  return mode.sources.reduce((sum, source) => sum + source.ratePerHour, 0);
}
