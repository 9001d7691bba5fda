// The golden run's memory, as `lockstep bench` reports it (memory.goldenRun): the bytes a campaign's
// golden run keeps per cycle of mission, measured as what the engine holds (heap and array buffers after
// a full garbage collection) for two mission lengths, so that everything else a campaign context holds
// (compiled cores, the runner) cancels out; with the bytes the golden run counts for itself, and the
// projection to a one-day mission against the golden-run budget of a thread (memory-plan.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CampaignContext, campaignSpecOf, fswOf } from '../campaign/context.js';
import type { Target } from '../campaign/experiment.js';
import { goldenRunBytes } from '../campaign/golden.js';
import { GOLDEN_BUDGET_BYTES, THREAD_BUDGET_BYTES } from '../campaign/memory-plan.js';
import type { FlightSetup } from '../mission/fly.js';

export interface GoldenMemoryBenchResult {
  fsw: string;
  /** Mission lengths measured, cycles. */
  cycles: readonly [number, number];
  /** Snapshot interval the golden runs were stored at (the campaign's, unless the budget spaced them). */
  snapshotInterval: number;
  /** Engine bytes per cycle: the difference between the two golden runs over their difference in cycles. */
  bytesPerCycle: number;
  /** Bytes per cycle the longer golden run counts for itself (goldenRunBytes). */
  accountedBytesPerCycle: number;
  /** A one-day mission (864,000 cycles at 10 Hz): its campaign context, golden run included (the longer measurement, plus bytesPerCycle per further cycle). */
  oneDayCycles: number;
  projectedOneDayBytes: number;
  /** What a thread's golden runs may hold, and the thread's whole budget. */
  goldenBudgetBytes: number;
  threadBudgetBytes: number;
}

const ONE_DAY_SECONDS = 86_400;

/** Collects garbage (`lockstep bench` runs without --expose-gc: the flag is set, and gc taken from a fresh context). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function heldBytes(gc: () => void): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

export function benchGoldenMemory(setup: FlightSetup, seconds: readonly [number, number] = [600, 3_600]): GoldenMemoryBenchResult {
  const fsw = fswOf(setup.mission);
  // The campaign's defaults: memory faults in the used blocks, global faults when the module has globals.
  const targets: Target[] = setup.flightModule.stateGlobals.length > 0 ? ['memory', 'global', 'checkpoint'] : ['memory', 'checkpoint'];
  const specFor = (duration: number) => campaignSpecOf({ ...setup.mission, duration }, { targets });
  const gc = collector();
  // Each context is released before the next is measured: only the figures are kept.
  const measure = (duration: number) => {
    const before = heldBytes(gc);
    const context = new CampaignContext(specFor(duration));
    const held = heldBytes(gc) - before;
    const golden = context.golden;
    return { held, cycles: golden.cycles, interval: golden.snapshots.interval, accounted: goldenRunBytes(golden).total };
  };
  const short = measure(seconds[0]);
  const long = measure(seconds[1]);
  const bytesPerCycle = (long.held - short.held) / (long.cycles - short.cycles);
  const oneDayCycles = Math.round(ONE_DAY_SECONDS / setup.scenario.controlPeriod);
  return {
    fsw,
    cycles: [short.cycles, long.cycles],
    snapshotInterval: long.interval,
    bytesPerCycle,
    accountedBytesPerCycle: long.accounted / long.cycles,
    oneDayCycles,
    projectedOneDayBytes: long.held + bytesPerCycle * (oneDayCycles - long.cycles),
    goldenBudgetBytes: GOLDEN_BUDGET_BYTES,
    threadBudgetBytes: THREAD_BUDGET_BYTES,
  };
}

export function formatGoldenMemoryBench(result: GoldenMemoryBenchResult): string {
  const MiB = 1024 * 1024;
  return (
    `  golden run (${result.cycles[0]} and ${result.cycles[1]} cycles, snapshots every ${result.snapshotInterval}): ${result.bytesPerCycle.toFixed(0)} B per cycle ` +
    `(${result.accountedBytesPerCycle.toFixed(0)} counted); a one-day mission's ${(result.projectedOneDayBytes / MiB).toFixed(0)} MiB of the ${result.goldenBudgetBytes / MiB} MiB its thread's golden runs may hold`
  );
}
