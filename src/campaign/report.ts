// The campaign's report — what `campaign --json` and `merge --json` write and what both print — built in
// one place from a result file's header and its records, so that a merged campaign reports exactly what
// the same campaign run whole would: the table, the fault space, MWTF, the mean cost of an experiment,
// and which experiments of the plan are missing.
import { rangeBytes, storageBitsByTarget } from '../faults/fault-space.js';
import { VARIANT_ORDER, type CampaignContext } from './context.js';
import { ATTRIBUTED_TARGETS, attribute, firstBuildOf, formatAttribution, siteTableOf, type Attribution, type SiteTable } from './attribution.js';
import type { ConfigName, ExperimentRecord } from './experiment.js';
import type { CampaignPlan, FaultSpaceReport, ResultsHeader } from './results-file.js';
import { absoluteRates, formatSummary, mwtfFigures, summarize, type AbsoluteRates, type CampaignSummary, type MwtfFigure, type TargetBits } from './summary.js';
import type { HardeningName } from '../hardenings.js';

/** The fault space of a campaign's first build, as its header records it. */
export function faultSpaceOf(context: CampaignContext): FaultSpaceReport {
  const build = context.builds[0];
  const bits = storageBitsByTarget(Object.values(build.domains).flat());
  return {
    memoryRange: context.spec.memoryRange,
    memoryBitsPerCore: rangeBytes(build.memoryRanges) * 8,
    ...Object.fromEntries(Object.entries(bits).map(([target, count]) => [target, { bits: count ?? 0, bitCycles: (count ?? 0) * build.cycles }])),
  };
}

/** The header's site table, for a campaign with result or branch targets (else nothing). */
export function siteTableFor(context: CampaignContext): { sites?: SiteTable } {
  if (!ATTRIBUTED_TARGETS.some((target) => context.spec.targets.includes(target))) return {};
  const plain = context.builds.find((build) => build.variant === 'plain');
  const lines = plain && plain.siteSources.some((site) => site.line !== undefined) ? plain.lineSource : null;
  return { sites: siteTableOf(context.builds, lines, plain?.functionLines ?? new Map()) };
}

/** Bits per storage target, read back from a recorded fault space. */
function targetBits(faultSpace: FaultSpaceReport): TargetBits {
  const bits: Record<string, number> = {};
  for (const [target, entry] of Object.entries(faultSpace)) {
    if (entry && typeof entry === 'object' && typeof (entry as { bits?: unknown }).bits === 'number') bits[target] = (entry as { bits: number }).bits;
  }
  return bits;
}

/** Each hardened build's modelled runtime over the plain build's: instructions per cycle of their golden runs. */
export function runtimeRatiosOf(context: CampaignContext): Partial<Record<HardeningName, number>> {
  const mean = (instructions: Int32Array) => instructions.reduce((sum, count) => sum + count, 0) / instructions.length;
  const plain = context.builds.find((build) => build.variant === 'plain');
  if (!plain) return {};
  const ratios: Partial<Record<HardeningName, number>> = {};
  for (const build of context.builds) if (build.variant !== 'plain') ratios[build.variant] = mean(build.golden.instructions) / mean(plain.golden.instructions);
  return ratios;
}

/** Which experiments of a plan have no record: their count and the first runs of indices. */
export interface Missing {
  readonly count: number;
  /** Up to the first ten runs of missing indices, [first, last]. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
}

export function missingOf(records: readonly ExperimentRecord[], plan: CampaignPlan, shards: readonly CampaignPlan['shard'][] = [plan.shard]): Missing {
  const present = new Set(records.map((record) => record.index));
  const ranges: Array<[number, number]> = [];
  let count = 0;
  let open: [number, number] | null = null;
  const wanted = (index: number) => shards.some((shard) => index % shard.count === shard.index);
  // Bounded by the plan, which the results file and the command line keep within MAX_EXPERIMENTS.
  for (let index = 0; index < plan.experiments; index++) {
    if (!wanted(index) || present.has(index)) continue;
    count++;
    if (open && open[1] === index - 1) open[1] = index;
    else {
      open = [index, index];
      if (ranges.length < 10) ranges.push(open);
    }
  }
  return { count, ranges };
}

export interface CampaignReport {
  experiments: number;
  /** The plan the records are of, and whether every experiment of it (in the file's shards) is there. */
  plannedExperiments: number;
  complete: boolean;
  missing: Missing;
  shard: string | null;
  seed: number;
  fsw: string;
  targets: readonly string[];
  horizon: number;
  width: number;
  meanSimulatedCycles: number;
  faultSpace: FaultSpaceReport;
  mwtf: Partial<Record<HardeningName, MwtfFigure>>;
  perMission?: AbsoluteRates;
  configs: CampaignSummary['configs'];
  /**
   * Result and branch experiments by the function (and source line) of the instruction they struck, per
   * configuration (attribution.ts); absent without such targets, or for a file that predates site tables.
   */
  byFunction?: Attribution['byFunction'];
  byLine?: Attribution['byLine'];
  attribution?: { targets: Attribution['targets']; experiments: number; lines: SiteTable['lines'] };
}

export interface ReportOptions {
  readonly shards?: readonly CampaignPlan['shard'][];
  readonly upsetRatePerBitPerDay?: number;
  readonly missionSeconds?: number;
}

/** The report of the records of a campaign whose result file has `header`. */
export function campaignReport(header: ResultsHeader, records: readonly ExperimentRecord[], options: ReportOptions = {}): { report: CampaignReport; summary: CampaignSummary } {
  const { spec, plan } = header;
  const summary = summarize(records, spec.configs, spec.targets);
  const attribution = attribute(records, header.sites, spec.configs, spec.targets, firstBuildOf(spec.configs, VARIANT_ORDER));
  const shards = options.shards ?? [plan.shard];
  const missing = missingOf(records, plan, shards);
  const report: CampaignReport = {
    experiments: records.length,
    plannedExperiments: plan.experiments,
    complete: missing.count === 0,
    missing,
    shard: shards.length === 1 && shards[0].count > 1 ? `${shards[0].index}/${shards[0].count}` : null,
    seed: spec.seed,
    fsw: spec.fsw,
    targets: spec.targets,
    horizon: spec.horizon,
    width: spec.width,
    meanSimulatedCycles: records.length > 0 ? records.reduce((sum, record) => sum + record.simulated, 0) / records.length / 2 : 0,
    faultSpace: header.faultSpace,
    mwtf: mwtfFigures(summary, header.runtimeRatios),
    ...(options.upsetRatePerBitPerDay !== undefined && options.missionSeconds !== undefined
      ? { perMission: absoluteRates(summary, targetBits(header.faultSpace), options.upsetRatePerBitPerDay, options.missionSeconds) }
      : {}),
    configs: summary.configs,
    ...(attribution
      ? {
          attribution: { targets: attribution.targets, experiments: attribution.experiments, lines: attribution.lines },
          byFunction: attribution.byFunction,
          ...(attribution.byLine ? { byLine: attribution.byLine } : {}),
        }
      : {}),
  };
  return { report, summary };
}

/** The text both commands print after their first line: fault space, missing experiments, the table, MWTF, per-mission rates. */
export function formatCampaignReport(report: CampaignReport, summary: CampaignSummary): string {
  const memory = report.faultSpace.memoryRange === 'used' ? 'the memory the golden run reads or writes' : 'all of memory';
  const lines = [`  memory faults strike ${memory}: ${report.faultSpace.memoryBitsPerCore} bits per core (--memory-range ${report.faultSpace.memoryRange})`];
  if (!report.complete) {
    const ranges = report.missing.ranges.map(([first, last]) => (first === last ? `${first}` : `${first}–${last}`)).join(', ');
    lines.push(`  INCOMPLETE: ${report.missing.count} of the ${report.plannedExperiments} planned experiments are missing (${ranges}${report.missing.count > report.missing.ranges.reduce((sum, [a, b]) => sum + b - a + 1, 0) ? ', …' : ''})`);
  }
  lines.push(formatSummary(summary));
  if (report.attribution && report.byFunction) lines.push(formatAttribution({ ...report.attribution, byFunction: report.byFunction }, Object.keys(summary.configs) as ConfigName[]));
  for (const [variant, figure] of Object.entries(report.mwtf)) {
    // No silent failure in the hardened build: the figure is unbounded, its interval's lower end is what a sample this size shows.
    const value =
      figure!.value === Number.POSITIVE_INFINITY
        ? `≥ ${figure!.ci95[0].toPrecision(3)} (no silent failure in ${summary.configs[variant as ConfigName]!.experiments})`
        : `${figure!.value.toPrecision(3)} [${figure!.ci95[0].toPrecision(3)}, ${figure!.ci95[1].toPrecision(3)}]`;
    lines.push(`  MWTF ${variant} vs single: ${value} (runtime ${figure!.runtimeRatio.toFixed(2)}× in instructions)`);
  }
  if (report.perMission) {
    for (const [config, rates] of Object.entries(report.perMission.configs)) {
      lines.push(
        `  per mission at ${report.perMission.upsetRatePerBitPerDay} upsets/bit/day (${report.perMission.missionSeconds} s): ${config} ${rates!.expectedUpsets.toPrecision(3)} upsets, ${rates!.expectedFailures.toPrecision(3)} harmful outcomes expected [${rates!.ci95[0].toPrecision(3)}, ${rates!.ci95[1].toPrecision(3)}]`,
      );
    }
  }
  return lines.join('\n');
}
