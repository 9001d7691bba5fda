// What a campaign may hold in memory, planned before it starts. Every thread computing (the main thread
// and each worker) keeps the golden run of every build it flies; the golden runs of one thread get at
// most GOLDEN_BUDGET_BYTES of a THREAD_BUDGET_BYTES whose rest is the engine (ENGINE_BYTES: compiled
// cores, module passes) and, in the main thread, the campaign's bookkeeping. Per-cycle data is a fixed
// cost (golden.ts); the snapshots get what is left, and space themselves out to fit (golden-snapshots.ts).
// A mission too long for the per-cycle data to leave the snapshots MIN_SNAPSHOT_BUDGET_BYTES is refused
// before anything runs; so is an experiment count whose bookkeeping would not fit beside the golden run
// planned. `lockstep bench` reports what a golden run costs (memory.goldenRun).
import { scenarioOf, type Mission } from '../mission/config.js';
import { goldenBytesPerCycle } from './golden.js';
import { SNAPSHOT_OVERHEAD_BYTES } from './golden-snapshots.js';

const MiB = 1024 * 1024;

/** What each thread computing may use: a one-day mission's campaign fits here, for both example flight programs. */
export const THREAD_BUDGET_BYTES = 1024 * MiB;
/** What the golden runs of one thread (every build's) may hold: a one-day mission's is about 530 MiB. */
export const GOLDEN_BUDGET_BYTES = 576 * MiB;
/** The least the snapshots of one build are given: below it, experiments would restore from too far back. */
export const MIN_SNAPSHOT_BUDGET_BYTES = 32 * MiB;

/** What the golden-run plan depends on. */
export interface GoldenShape {
  readonly cycles: number;
  /** The campaign's snapshot interval: the packed columns hold one slot per interval. */
  readonly snapshotInterval: number;
  /** Builds the campaign flies (the plain one and each hardening): one golden run each. */
  readonly builds: number;
  /** Whether the golden runs count fault-hook sites (result and branch targets). */
  readonly hooked: boolean;
  /** The flight software's state globals. */
  readonly globals: number;
}

/** Spacecraft slots of a packed snapshot: state, command, applied torque, noise generator, spare draw. */
const SPACECRAFT_SLOTS = 10 + 3 + 3 + 4 + 2;

/** One build's golden-run bytes that do not depend on the budget: the per-cycle arrays and the snapshots' packed columns. */
export function goldenFixedBytes(shape: GoldenShape): number {
  const slots = Math.ceil(shape.cycles / shape.snapshotInterval);
  return shape.cycles * goldenBytesPerCycle(shape.hooked) + slots * (4 + 8 * SPACECRAFT_SLOTS + 16 * shape.globals);
}

/** The budget of one build's stored snapshot ranges (never below MIN_SNAPSHOT_BUDGET_BYTES: planGolden refuses such missions). */
export function snapshotBudget(shape: GoldenShape): number {
  return Math.max(MIN_SNAPSHOT_BUDGET_BYTES, Math.floor(GOLDEN_BUDGET_BYTES / shape.builds - goldenFixedBytes(shape)));
}

/** One build's fixed golden-run bytes per cycle (goldenFixedBytes over a whole snapshot interval). */
export function goldenFixedBytesPerCycle(shape: Omit<GoldenShape, 'cycles'>): number {
  return goldenFixedBytes({ ...shape, cycles: shape.snapshotInterval }) / shape.snapshotInterval;
}

/** The longest golden run, in cycles, whose fixed bytes leave every build's snapshots their least budget. */
export function maxGoldenCycles(shape: Omit<GoldenShape, 'cycles'>): number {
  return Math.floor((GOLDEN_BUDGET_BYTES / shape.builds - MIN_SNAPSHOT_BUDGET_BYTES) / goldenFixedBytesPerCycle(shape));
}

/** The mission's length in control cycles, as prepareFlight counts them. */
export function missionCycles(mission: Mission): number {
  const scenario = scenarioOf(mission);
  return Math.round(scenario.duration / scenario.controlPeriod);
}

/**
 * The golden runs' bytes a campaign plans for one thread, at most: the fixed bytes and base image of each
 * build, and snapshots of its whole memory (`memoryBytes`, the plain build's at launch) every interval, or
 * the snapshot budget if less. Snapshots keep only the blocks written, so they usually take much less.
 */
export function plannedGoldenBytes(shape: GoldenShape & { readonly memoryBytes: number }): number {
  const slots = Math.ceil(shape.cycles / shape.snapshotInterval);
  const snapshots = Math.min(snapshotBudget(shape), slots * (shape.memoryBytes + SNAPSHOT_OVERHEAD_BYTES));
  return shape.builds * (goldenFixedBytes(shape) + snapshots + shape.memoryBytes);
}

/** A thread's engine: the runtime, the compiled cores and the module passes, whatever the mission (about 240 MB measured). */
export const ENGINE_BYTES = 256 * MiB;

/**
 * The main thread's bookkeeping per experiment, rounded up from the growth of a campaign's peak resident
 * memory between 10,000 and 300,000 experiments (20 s mission): 1,470 B on one thread, 1,580 B on two
 * (the records a worker hands over), 1,310 B resuming (the results file read whole and parsed). Records
 * kept for the summary, the set of those done, the lists of experiments to run, and the collector's slack.
 */
export const BOOKKEEPING_BYTES_PER_EXPERIMENT = 1_600;

/** The most experiments the main thread (a shard: its share) keeps account of beside golden runs of `goldenBytes`. */
export function maxExperiments(goldenBytes: number): number {
  return Math.max(0, Math.floor((THREAD_BUDGET_BYTES - ENGINE_BYTES - goldenBytes) / BOOKKEEPING_BYTES_PER_EXPERIMENT));
}
