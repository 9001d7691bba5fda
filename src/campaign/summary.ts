// The campaign table: for each configuration, and for each target within it, how many experiments ended
// in each outcome, the rate and its 95% interval (Clopper–Pearson: at least 95% coverage at every rate, and
// "0 SDC in 100,000" a real upper bound), the detection causes and latencies; and, from the fault
// space of each target, what an upset rate per bit per day means in failures per mission.
import { countsByCause, type DetectionCause } from '../computer/flight-computer.js';
import { CONFIGS, OUTCOMES, type ConfigName, type ExperimentRecord, type OutcomeName, type Target } from './experiment.js';
import { failuresPerMission, marginReached, mwtf, mwtfInterval, summarizeCount, type CountSummary } from './statistics.js';
import { HARDENING_NAMES, type HardeningName } from '../hardenings.js';

export interface OutcomeTable {
  experiments: number;
  outcomes: Record<OutcomeName, CountSummary>;
  /**
   * The silent failures: sdc and pointing violations (an sdc the closed loop turned into a pointing error),
   * the figure a coverage goal ("silent data corruption at most 0.5%") and MWTF are about.
   */
  silent: CountSummary;
  causes: Record<DetectionCause, number>;
  /** Cycles from injection to detection, over the detected (and recovered, failover-failed) experiments. */
  detectionLatency: { mean: number; max: number } | null;
}

export interface ConfigSummary extends OutcomeTable {
  targets: Partial<Record<Target, OutcomeTable>>;
}

export interface CampaignSummary {
  experiments: number;
  configs: Partial<Record<ConfigName, ConfigSummary>>;
}

const DETECTION_OUTCOMES: ReadonlySet<OutcomeName> = new Set(['detected', 'recovered', 'failover-failed']);

function table(records: readonly ExperimentRecord[], config: ConfigName): OutcomeTable {
  const counts = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<OutcomeName, number>;
  const causes = countsByCause();
  let trials = 0;
  let latencySum = 0;
  let latencyCount = 0;
  let latencyMax = 0;
  for (const record of records) {
    const outcome = record.outcomes[config];
    if (!outcome) continue;
    trials++;
    counts[outcome.outcome]++;
    if (DETECTION_OUTCOMES.has(outcome.outcome)) {
      if (outcome.cause) causes[outcome.cause]++;
      if (outcome.latency !== undefined) {
        latencySum += outcome.latency;
        latencyCount++;
        latencyMax = Math.max(latencyMax, outcome.latency);
      }
    }
  }
  const outcomes = Object.fromEntries(
    OUTCOMES.map((outcome) => [outcome, trials > 0 ? summarizeCount(counts[outcome], trials) : { count: 0, rate: 0, ci95: [0, 1] as const }]),
  ) as Record<OutcomeName, CountSummary>;
  const silent = trials > 0 ? summarizeCount(counts.sdc + counts['pointing-violation'], trials) : { count: 0, rate: 0, ci95: [0, 1] as const };
  return { experiments: trials, outcomes, silent, causes, detectionLatency: latencyCount > 0 ? { mean: latencySum / latencyCount, max: latencyMax } : null };
}

export function summarize(records: readonly ExperimentRecord[], configs: readonly ConfigName[], targets: readonly Target[]): CampaignSummary {
  const summary: CampaignSummary = { experiments: records.length, configs: {} };
  for (const config of CONFIGS) {
    if (!configs.includes(config)) continue;
    const perTarget: Partial<Record<Target, OutcomeTable>> = {};
    for (const target of targets) {
      const subset = records.filter((record) => record.target === target);
      const entry = table(subset, config);
      if (entry.experiments > 0) perTarget[target] = entry;
    }
    summary.configs[config] = { ...table(records, config), targets: perTarget };
  }
  return summary;
}

/** Whether every interval of every outcome, per configuration and target, is at most `margin` wide (±). */
export function marginMet(summary: CampaignSummary, margin: number): boolean {
  const tables = Object.values(summary.configs).flatMap((config) => Object.values(config.targets));
  if (tables.length === 0 || tables.some((entry) => entry.experiments === 0)) return false;
  return marginReached(tables.flatMap((entry) => Object.values(entry.outcomes)), margin);
}

/** Bits an upset can strike in each storage target, over the campaign's cores (the fault space per cycle). */
export type TargetBits = Readonly<Partial<Record<Target, number>>>;

export interface AbsoluteRates {
  readonly upsetRatePerBitPerDay: number;
  readonly missionSeconds: number;
  /** Per configuration: upsets the targets receive in a mission, and the harmful outcomes expected (sdc, pointing violation, failed failover). */
  readonly configs: Partial<Record<ConfigName, { expectedUpsets: number; expectedFailures: number; ci95: readonly [number, number] }>>;
}

/** What an upset rate per bit per day means for a mission, summed over the campaign's targets. */
export function absoluteRates(summary: CampaignSummary, bits: TargetBits, upsetRatePerBitPerDay: number, missionSeconds: number): AbsoluteRates {
  const configs: AbsoluteRates['configs'] = {};
  for (const [config, entry] of Object.entries(summary.configs) as Array<[ConfigName, ConfigSummary]>) {
    let expectedUpsets = 0;
    let expectedFailures = 0;
    let lo = 0;
    let hi = 0;
    for (const [target, table] of Object.entries(entry.targets) as Array<[Target, OutcomeTable]>) {
      const targetBits = bits[target];
      if (targetBits === undefined || table.experiments === 0) continue;
      const part = missionFailures(table, targetBits, upsetRatePerBitPerDay, missionSeconds);
      expectedUpsets += part.expectedUpsets;
      expectedFailures += part.expectedFailures;
      lo += part.ci95[0];
      hi += part.ci95[1];
    }
    configs[config] = { expectedUpsets, expectedFailures, ci95: [lo, hi] };
  }
  return { upsetRatePerBitPerDay, missionSeconds, configs };
}

/** Failures a mission should expect from one target: upsets it receives × the rate of harmful outcomes. */
export function missionFailures(entry: OutcomeTable, bits: number, upsetRatePerBitPerDay: number, missionSeconds: number) {
  const harmful = entry.silent.count + entry.outcomes['failover-failed'].count;
  return failuresPerMission({ outcome: summarizeCount(harmful, entry.experiments), bits, upsetRatePerBitPerDay, missionSeconds });
}

const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;
const bound = (rate: number) => (rate * 100).toFixed(rate > 0 && rate < 0.001 ? 3 : 2);

function cell(entry: OutcomeTable | undefined, outcome: OutcomeName | 'silent'): string {
  if (!entry || entry.experiments === 0) return '—';
  const { count, rate, ci95 } = outcome === 'silent' ? entry.silent : entry.outcomes[outcome];
  return `${String(count).padStart(6)} ${percent(rate).padStart(7)} [${bound(ci95[0])}, ${bound(ci95[1])}]`;
}

/** Configurations side by side: per target (and over all targets), one row per outcome, count, rate, 95% interval. */
export function formatSummary(summary: CampaignSummary): string {
  const configs = Object.keys(summary.configs) as ConfigName[];
  const targets = [...new Set(configs.flatMap((config) => Object.keys(summary.configs[config]!.targets)))] as Target[];
  const width = 30;
  const lines: string[] = [];
  const section = (title: string, entryOf: (config: ConfigName) => OutcomeTable | undefined) => {
    const sizes = configs.map((config) => entryOf(config)?.experiments ?? 0);
    lines.push(`  ${title} (${sizes.map((n, i) => `${configs[i]} ${n}`).join(', ')} experiments)`);
    lines.push(`    ${'outcome'.padEnd(20)}${configs.map((config) => config.padStart(width)).join('')}`);
    for (const outcome of OUTCOMES) lines.push(`    ${outcome.padEnd(20)}${configs.map((config) => cell(entryOf(config), outcome).padStart(width)).join('')}`);
    lines.push(`    ${'sdc + pointing'.padEnd(20)}${configs.map((config) => cell(entryOf(config), 'silent').padStart(width)).join('')}`);
    const latencies = configs.map((config) => entryOf(config)?.detectionLatency);
    if (latencies.some(Boolean)) {
      lines.push(`    ${'latency (cycles)'.padEnd(20)}${latencies.map((latency) => (latency ? `mean ${latency.mean.toFixed(1)}, max ${latency.max}` : '—').padStart(width)).join('')}`);
    }
  };
  for (const target of targets) section(target, (config) => summary.configs[config]!.targets[target]);
  if (targets.length > 1) section('all targets', (config) => summary.configs[config]);
  return lines.join('\n');
}

export interface MwtfFigure {
  /** Modelled runtime of the hardened build over the plain one: instructions per cycle of their golden runs. */
  readonly runtimeRatio: number;
  readonly value: number;
  readonly ci95: readonly [number, number];
}

/**
 * Mean work to failure of each hardened single-core configuration against the plain lone core
 * (COAST: Chielle et al., IEEE Trans. Nuclear Science 2019): (1 / runtime ratio) × (unprotected SDC rate / protected SDC rate), counting as
 * failures the silent ones (sdc and pointing violations). Infinite when the hardened build had none: its
 * interval's lower end is then the figure to quote.
 */
export function mwtfFigures(summary: CampaignSummary, runtimeRatios: Partial<Record<HardeningName, number>>): Partial<Record<HardeningName, MwtfFigure>> {
  const plain = summary.configs.single;
  if (!plain || plain.experiments === 0) return {};
  const figures: Partial<Record<HardeningName, MwtfFigure>> = {};
  for (const variant of HARDENING_NAMES) {
    const hardened = summary.configs[variant];
    const runtimeRatio = runtimeRatios[variant];
    if (!hardened || hardened.experiments === 0 || runtimeRatio === undefined) continue;
    const unprotectedRate = plain.silent.count / plain.experiments;
    const protectedRate = hardened.silent.count / hardened.experiments;
    figures[variant] = {
      runtimeRatio,
      value: protectedRate === 0 ? (unprotectedRate === 0 ? Number.NaN : Number.POSITIVE_INFINITY) : mwtf({ runtimeRatio, unprotectedSdcRate: unprotectedRate, protectedSdcRate: protectedRate }),
      ci95: mwtfInterval({
        runtimeRatio,
        unprotected: { count: plain.silent.count, trials: plain.experiments },
        protected: { count: hardened.silent.count, trials: hardened.experiments },
      }),
    };
  }
  return figures;
}
