// Selective hardening (`lockstep harden --profile C.jsonl --budget 1.3`): hardens the parts of the flight
// software that remove the most of the silent failures a plain-build campaign found, within a predicted
// runtime ratio (the choice: select.ts). This file
// gathers the numbers the choice needs and builds and times the result:
// - silent failures per function and target, from the profile campaign through the campaign's own
//   attribution (campaign/attribution.ts, which holds the silent-failure rule);
// - a function's levels of hardening: with control-flow checking in the mode, first the `edges` family
//   alone (it catches every inverted branch decision, the `branch` target), then the mode's families
//   but `branches` (which catch corrupted results, the `result` target, too);
// - each level's added runtime per function, predicted from the per-function dynamic instruction counts
//   of the plain build and of the build with that level everywhere (profile-functions.ts), each level's
//   instructions weighed by its measured time per added instruction (side-by-side timings of the plain
//   build and the whole-module level builds, as the bench times them, the median of three);
// - and the measured runtime ratio of the chosen build, timed beside the plain one the same way; a
//   choice that measures over the budget is made again within the budget less the excess.
import { createHash } from 'node:crypto';
import { ATTRIBUTED_TARGETS, attribute, firstBuildOf } from '../campaign/attribution.js';
import { VARIANT_ORDER } from '../campaign/context.js';
import type { Target } from '../campaign/experiment.js';
import { readResults, ResultsFileError, type ResultsContents } from '../campaign/results-file.js';
import { timeBuilds } from '../bench/hardening-bench.js';
import type { BenchOptions } from '../bench/bench.js';
import { FlightModule } from '../core/flight-module.js';
import { hardenModule, type CheckFamily, type HardenOptions, type HardenReport } from '../harden.js';
import { missionTiming, type Mission } from '../mission/config.js';
import { prepareFlight, type FlightSetup } from '../mission/fly.js';
import { inspectFlightBytes } from '../mission/inspect.js';
import { ModuleError } from '../passes/index.js';
import { chooseParts, type Candidate } from './select.js';

/** The profile campaign's configuration: the plain build on a lone core. */
const PROFILE_CONFIG = 'single';
/** Fault-free cycles flown to count each build's instructions per function. */
const PROFILE_CYCLES = 300;
/**
 * Side-by-side timing of the builds: rounds of cycles, medians (bench/interleaved.ts). Long enough for
 * V8 to tier every build up: shorter runs time its baseline compiler, and ratios come out off by half.
 */
export const SELECTIVE_TIMING: BenchOptions = { rounds: 100, cyclesPerRound: 500 };
/**
 * Side-by-side timings whose median ratio is taken, for the calibration of the levels and for the chosen
 * build: one timing moves with the load of a shared machine, and a level calibrated low buys a choice that
 * measures over the budget.
 */
export const SELECTIVE_TIMING_RUNS = 3;

/** Each build's time over the plain build's in each of `runs` side-by-side timings (timeBuilds). */
export function timedRatios<Name extends string>(setup: FlightSetup, builds: Readonly<Record<Name, Uint8Array>>, timing: BenchOptions, runs = SELECTIVE_TIMING_RUNS): Record<Name, number[]> {
  const ratios = Object.fromEntries(Object.keys(builds).map((name) => [name, [] as number[]])) as Record<Name, number[]>;
  for (let run = 0; run < runs; run++) {
    const ns = timeBuilds(setup, builds, timing);
    for (const name of Object.keys(builds) as Name[]) ratios[name].push(ns[name] / ns.plain);
  }
  return ratios;
}

const median = (list: readonly number[]) => [...list].sort((a, b) => a - b)[list.length >> 1];

/** Each build's time over the plain build's: the median of `runs` side-by-side timings. */
export function medianRatios<Name extends string>(setup: FlightSetup, builds: Readonly<Record<Name, Uint8Array>>, timing: BenchOptions, runs = SELECTIVE_TIMING_RUNS): Record<Name, number> {
  return Object.fromEntries(Object.entries<number[]>(timedRatios(setup, builds, timing, runs)).map(([name, list]) => [name, median(list)])) as Record<Name, number>;
}

/** What a level of hardening catches, by the campaign target whose silent failures it removes. */
function targetsCovered(families: readonly CheckFamily[]): Target[] {
  const covered: Target[] = [];
  if (families.some((family) => family !== 'edges')) covered.push('result');
  if (families.includes('edges')) covered.push('branch');
  return covered;
}

/**
 * A function's levels of hardening under the mode's families. With control-flow checking: `edges` alone
 * first, then the mode's families less `branches` — a branch condition's check is redundant with the
 * edges, which catch every decision its corruption inverts, and it is the costly family in loops.
 */
export function hardeningLevels(families: readonly CheckFamily[]): Array<{ families: readonly CheckFamily[]; covers: Target[] }> {
  const levels = families.includes('edges') && families.length > 1 ? [['edges'] as const, families.filter((family) => family !== 'branches')] : [families];
  return levels.map((level) => ({ families: level, covers: targetsCovered(level) }));
}

export interface SilenceProfile {
  readonly file: string;
  /** Result and branch experiments of the plain lone core, and how many of them failed silently. */
  readonly experiments: number;
  readonly silent: number;
  /** Silent failures by function and target. */
  readonly byFunction: ReadonlyMap<string, Readonly<Partial<Record<Target, number>>>>;
  /** The mission the campaign flew. */
  readonly mission: Mission;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A profile that cannot be used: one line naming the option and the file. */
function profileError(path: string, detail: string): ResultsFileError {
  return new ResultsFileError(`--profile ${path}: ${detail}`);
}

function readProfileFile(path: string): ResultsContents {
  try {
    return readResults(path);
  } catch (error) {
    if (error instanceof ResultsFileError) throw profileError(path, error.message.startsWith(`${path}: `) ? error.message.slice(path.length + 2) : error.message);
    throw error;
  }
}

/** The silent failures of a plain-build campaign of `bytes` (`source`), by function; refuses another module's campaign or one without instruction-level experiments. */
export function readSilenceProfile(path: string, bytes: Uint8Array, source: string): SilenceProfile {
  const { header, records } = readProfileFile(path);
  const how = `profile it with: lockstep campaign --fsw ${source} --targets result,branch --configs single --out ${path}`;
  const own = sha256(bytes);
  if (header.spec.fswSha256 !== own) {
    throw profileError(path, `a campaign of another flight software (SHA-256 ${header.spec.fswSha256.slice(0, 12)}…), not of ${source} (${own.slice(0, 12)}…); ${how}`);
  }
  const targets = ATTRIBUTED_TARGETS.filter((target) => header.spec.targets.includes(target));
  if (!header.spec.configs.includes(PROFILE_CONFIG) || targets.length === 0 || !header.sites) {
    throw profileError(path, `holds no result or branch experiments of configuration single (it strikes ${header.spec.targets.join(', ')} under ${header.spec.configs.join(', ')}); ${how}`);
  }
  const firstBuild = firstBuildOf(header.spec.configs, VARIANT_ORDER);
  const byFunction = new Map<string, Partial<Record<Target, number>>>();
  let experiments = 0;
  let silent = 0;
  for (const target of targets) {
    const attribution = attribute(records, header.sites, [PROFILE_CONFIG], [target], firstBuild);
    for (const entry of attribution?.byFunction ?? []) {
      const table = entry.configs[PROFILE_CONFIG];
      if (!table) continue;
      experiments += table.experiments;
      silent += table.silent.count;
      if (entry.name === null || table.silent.count === 0) continue;
      byFunction.set(entry.name, { ...byFunction.get(entry.name), [target]: table.silent.count });
    }
  }
  if (experiments === 0) throw profileError(path, `holds no result or branch experiments of configuration single yet; ${how}`);
  return { file: path, experiments, silent, byFunction, mission: header.spec.mission };
}

/** The options of the hardening being applied in part: the named hardening's, less what the choice decides. */
export type BaseHardening = Omit<HardenOptions, 'functions' | 'functionFamilies'> & { readonly families: readonly CheckFamily[] };

export interface SelectedPart {
  readonly function: string;
  readonly families: readonly CheckFamily[];
  /** The function's silent failures in the profile, by target, and those this part is predicted to remove. */
  readonly silent: Readonly<Partial<Record<Target, number>>>;
  readonly silentRemoved: number;
  /** Predicted added runtime, as a fraction of the plain build's. */
  readonly addedCost: number;
}

export interface LevelCalibration {
  readonly families: readonly CheckFamily[];
  /** The whole module at this level over the plain build: dynamic instructions, and time measured side by side. */
  readonly instructionRatio: number;
  readonly runtimeRatio: number;
}

export interface SelectiveReport {
  readonly budget: number;
  readonly profile: { readonly file: string; readonly experiments: number; readonly silent: number };
  readonly parts: readonly SelectedPart[];
  /** Silent failures of the profile the chosen parts are predicted to remove, and their share of all. */
  readonly silentCovered: { readonly count: number; readonly share: number };
  readonly predictedRatio: number;
  /** The chosen build's time per cycle over the plain build's, side by side on the mission's fault-free cycles. */
  readonly measuredRatio: number;
  /**
   * The predicted ratio the parts were chosen within: the budget, or less when a choice within the budget
   * measured over it (hardenSelectively chooses again within the budget less the excess).
   */
  readonly choiceBudget: number;
  readonly levels: readonly LevelCalibration[];
  readonly hardening: HardenReport;
}

type InstructionProfile = { total: number; byFunction: Map<string, number> };

function instructionProfile(bytes: Uint8Array, source: string, mission: Mission, cycles: number): InstructionProfile {
  const { result } = inspectFlightBytes(bytes, source, mission, cycles, { profile: true });
  if (!result.conforms || !result.profile || !result.cycleCost) throw new ModuleError(source, `cannot be profiled fault-free (${result.problems[0] ?? 'no cycle flown'})`);
  return { total: result.cycleCost.meanInstructions * result.cycleCost.cycles, byFunction: new Map(result.profile.functions.map((entry) => [entry.name, entry.total])) };
}

/** What the choice is made from: each function's levels with their predicted gains and costs, and how costs were calibrated. */
export interface SelectiveCandidates {
  readonly profile: SilenceProfile;
  readonly candidates: readonly Candidate<{ families: readonly CheckFamily[] }>[];
  readonly levels: readonly LevelCalibration[];
  /** The mission's fault-free flight with the plain build, for timing builds beside it. */
  readonly setup: FlightSetup;
}

/**
 * The candidates of selective hardening: the profile's silent failures by function, and each level's
 * added runtime per function, predicted from instruction counts weighed by the level's measured time per
 * added instruction. Separate from the choice, so that several budgets are chosen from one calibration.
 */
export function selectiveCandidates(bytes: Uint8Array, base: BaseHardening, profilePath: string, timing: BenchOptions = SELECTIVE_TIMING): SelectiveCandidates {
  const source = base.source ?? 'module';
  const profile = readSilenceProfile(profilePath, bytes, source);
  const mission: Mission = { ...profile.mission, upsets: { ...profile.mission.upsets, count: 0, file: undefined } };
  const cycles = Math.max(1, Math.min(PROFILE_CYCLES, missionTiming(mission, profilePath).cycles));
  const setup = prepareFlight(mission, FlightModule.fromBytes(bytes, source, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages }), profilePath);

  const levels = hardeningLevels(base.families);
  const plain = instructionProfile(bytes, source, mission, cycles);
  const levelBuilds = levels.map((level) => hardenModule(bytes, { ...base, families: level.families }).binary);
  const levelProfiles = levelBuilds.map((build, i) => instructionProfile(build, `${source} (level ${i})`, mission, cycles));
  const levelRatios = medianRatios(setup, Object.fromEntries(levelBuilds.map((build, i) => [`level${i}`, build])), timing);
  const calibration: LevelCalibration[] = levels.map((level, i) => ({
    families: level.families,
    instructionRatio: levelProfiles[i].total / plain.total,
    runtimeRatio: levelRatios[`level${i}`],
  }));
  // Time per added instruction, relative to the plain build's per instruction: what an added instruction costs at this level.
  const weight = calibration.map((level) => (level.instructionRatio > 1 ? Math.max(0, level.runtimeRatio - 1) / (level.instructionRatio - 1) : 0));
  const candidates = [...profile.byFunction].map(([name, silent]) => ({
    function: name,
    levels: levels.map((level, i) => ({
      silentRemoved: level.covers.reduce((sum, target) => sum + (silent[target] ?? 0), 0),
      addedCost: (weight[i] * Math.max(0, (levelProfiles[i].byFunction.get(name) ?? 0) - (plain.byFunction.get(name) ?? 0))) / plain.total,
      detail: { families: level.families },
    })),
  }));
  return { profile, candidates, levels: calibration, setup };
}

/** Chooses within `budget` (a predicted ratio) among `from`'s candidates and builds the choice (not timed). */
export function buildSelection(bytes: Uint8Array, base: BaseHardening, from: SelectiveCandidates, budget: number): { binary: Uint8Array; report: Omit<SelectiveReport, 'measuredRatio' | 'choiceBudget'> } {
  const { profile } = from;
  const selection = chooseParts(from.candidates, budget);
  const plan = Object.fromEntries(selection.parts.map((part) => [part.function, part.detail.families]));
  const { binary, report: hardening } = hardenModule(bytes, { ...base, functionFamilies: plan });
  return {
    binary,
    report: {
      budget,
      profile: { file: profile.file, experiments: profile.experiments, silent: profile.silent },
      parts: selection.parts.map((part) => ({
        function: part.function,
        families: part.detail.families,
        silent: profile.byFunction.get(part.function) ?? {},
        silentRemoved: part.silentRemoved,
        addedCost: part.addedCost,
      })),
      silentCovered: { count: selection.silentRemoved, share: profile.silent > 0 ? selection.silentRemoved / profile.silent : 0 },
      predictedRatio: selection.predictedRatio,
      levels: from.levels,
      hardening,
    },
  };
}

/** Choices made at most: the first within the budget, then within the budget less each excess measured. */
const MAX_CHOICES = 3;

/**
 * Chooses within `budget` and builds and times the choice; when it measures over the budget in any of
 * its timings (a prediction is off by the timing's noise and by what a level's mean cost per instruction
 * misses in one function), chooses again within the budget less the excess of the slowest timing, at
 * most MAX_CHOICES times, and keeps the last choice. The budget bounds the measured ratio, not only the
 * predicted one; the reported ratio is the timings' median.
 */
export function buildWithinBudget(
  bytes: Uint8Array,
  base: BaseHardening,
  from: SelectiveCandidates,
  budget: number,
  timing: BenchOptions = SELECTIVE_TIMING,
  /** The build's measured ratios, one per timing (tests give their own). */
  measure: (binary: Uint8Array, report: Omit<SelectiveReport, 'measuredRatio' | 'choiceBudget'>) => readonly number[] = (binary) => timedRatios(from.setup, { selected: binary }, timing).selected,
): { binary: Uint8Array; report: SelectiveReport } {
  let within = budget;
  for (let choice = 1; ; choice++) {
    const { binary, report } = buildSelection(bytes, base, from, within);
    const ratios = report.parts.length === 0 ? [1] : measure(binary, report);
    const measuredRatio = median(ratios);
    const excess = Math.max(...ratios) - budget;
    if (excess <= 0 || choice === MAX_CHOICES || report.parts.length === 0) return { binary, report: { ...report, budget, measuredRatio, choiceBudget: within } };
    within = Math.max(1, within - excess);
  }
}

/** Hardens `bytes` in part within `budget`, as the profile campaign at `profilePath` directs; `timing` says how long builds are timed. */
export function hardenSelectively(bytes: Uint8Array, base: BaseHardening, profilePath: string, budget: number, timing: BenchOptions = SELECTIVE_TIMING): { binary: Uint8Array; report: SelectiveReport } {
  return buildWithinBudget(bytes, base, selectiveCandidates(bytes, base, profilePath, timing), budget, timing);
}
