// The campaign's speed, as `lockstep bench` reports it: experiments per second on the reference mission
// with a 100-cycle horizon — in this thread, and over worker threads on every core — and the mean cost of
// an experiment expressed in cycles of the whole flight computer measured in the same run. Then how the
// campaign scales: experiments per second at 2 jobs over 1 job, per flight software, with 1 and 2 jobs
// timed alternately in the same run so that the ratio survives a shared machine. And the rate of
// instruction-level experiments (flipped results, inverted branches) on one thread, which selective
// hardening's profiling campaigns run.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CampaignContext, fswOf, hashFile, type CampaignSpec, type MemoryRange } from '../campaign/context.js';
import { CampaignPool, executeExperiments } from '../campaign/execute.js';
import type { FlightSetup } from '../mission/fly.js';

export interface CampaignBenchResult {
  experiments: number;
  horizon: number;
  nsPerExperiment: number;
  experimentsPerSecondOneJob: number;
  jobs: number;
  experimentsPerSecond: number;
  meanSimulatedLockstepCycles: number;
}

export interface CampaignScaling {
  fsw: string;
  experiments: number;
  rounds: number;
  /** Medians over the rounds. */
  experimentsPerSecondOneJob: number;
  experimentsPerSecondTwoJobs: number;
  /** The median over the rounds of each round's 2-job rate over its 1-job rate. */
  ratio: number;
}

/** The C flight program the project ships (examples/c-adcs), whose scaling the bench reports beside the reference's. */
export const C_EXAMPLE_FSW = fileURLToPath(new URL('../../examples/c-adcs/adcs.wasm', import.meta.url));

/** The campaign size of the scaling figure: where `lockstep campaign` starts using every core by default. */
export const SCALING_EXPERIMENTS = 20_000;

/** Experiments run untimed in every thread first, so that the engine has tiered up the cores and the runner. */
const WARMUP = 2000;

/** The campaign every campaign benchmark runs: the mission's, all storage targets, the three base configurations. */
function benchSpec(setup: FlightSetup, memoryRange: MemoryRange): CampaignSpec {
  const fsw = fswOf(setup.mission);
  return {
    mission: { ...setup.mission, fsw: undefined },
    fsw,
    fswSha256: hashFile(fsw),
    seed: setup.mission.seed,
    targets: setup.flightModule.stateGlobals.length > 0 ? ['memory', 'global', 'checkpoint'] : ['memory', 'checkpoint'],
    configs: ['single', 'pair', 'pair+spare'],
    horizon: 100,
    width: 1,
    snapshotInterval: 10,
    cores: ['A', 'B'],
    memoryRange,
  };
}

export interface InstructionCampaignBench {
  experiments: number;
  /** Per target, on one thread in steady state: the campaign's default configurations and horizon. */
  result: { experimentsPerSecond: number; meanSimulatedLockstepCycles: number };
  branch: { experimentsPerSecond: number; meanSimulatedLockstepCycles: number };
  /** The aim for both, experiments per second per thread. */
  goal: number;
}

export const INSTRUCTION_RATE_GOAL = 10_000;

/** Experiments per second of one instruction-level target at a time, in this thread, after a warm-up. */
export function benchInstructionCampaign(setup: FlightSetup, experiments: number): InstructionCampaignBench {
  const rate = (target: 'result' | 'branch') => {
    const spec: CampaignSpec = { ...benchSpec(setup, 'used'), targets: [target] };
    const context = new CampaignContext(spec);
    for (const index of warmupIndices(experiments)) context.run(index);
    let simulated = 0;
    const start = process.hrtime.bigint();
    for (let index = 0; index < experiments; index++) simulated += context.run(index).simulated;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { experimentsPerSecond: experiments / seconds, meanSimulatedLockstepCycles: simulated / experiments / 2 };
  };
  return { experiments, result: rate('result'), branch: rate('branch'), goal: INSTRUCTION_RATE_GOAL };
}

/** The indices run to warm up a campaign of `experiments`: outside it, so that no timed experiment is repeated. */
function warmupIndices(experiments: number): number[] {
  return Array.from({ length: WARMUP }, (_, i) => experiments + i);
}

/** Runs `experiments` on `jobs` threads and returns the nanoseconds taken. */
async function timeRun(spec: CampaignSpec, context: CampaignContext, experiments: number, jobs: number, pool: CampaignPool | undefined, onBatch: (records: readonly { simulated: number }[]) => void = () => undefined): Promise<number> {
  const indices = [...Array(experiments).keys()];
  const start = process.hrtime.bigint();
  await executeExperiments({ spec, context, indices, jobs, batchSize: jobs === 1 ? 256 : 2048, onBatch, pool });
  return Number(process.hrtime.bigint() - start);
}

export async function benchCampaign(setup: FlightSetup, experiments: number): Promise<CampaignBenchResult> {
  // The workload these figures have always been taken on, so that they compare across versions: memory
  // faults over all of memory, where most end in the analytic skip. `used` memory (the campaign's
  // default) simulates far more cycles per experiment: meanSimulatedLockstepCycles says how many.
  const spec = benchSpec(setup, 'all');
  const context = new CampaignContext(spec);
  for (const index of warmupIndices(experiments)) context.run(index);

  let simulated = 0;
  const oneJobNs = await timeRun(spec, context, experiments, 1, undefined, (records) => records.forEach((record) => (simulated += record.simulated)));

  // Steady state over worker threads: the workers build their golden run and warm up before the clock starts.
  const jobs = availableParallelism();
  const pool = new CampaignPool(jobs - 1);
  let poolNs: number;
  try {
    await pool.warm(spec, warmupIndices(experiments));
    poolNs = await timeRun(spec, context, experiments, jobs, pool);
  } finally {
    await pool.destroy();
  }
  return {
    experiments,
    horizon: spec.horizon,
    nsPerExperiment: oneJobNs / experiments,
    experimentsPerSecondOneJob: experiments / (oneJobNs / 1e9),
    jobs,
    experimentsPerSecond: experiments / (poolNs / 1e9),
    meanSimulatedLockstepCycles: simulated / experiments / 2,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Experiments per second at 2 jobs over 1 job on a campaign of `experiments`, in steady state (the
 * worker built its golden run and warmed up before timing, as the thread's own context did). Each round
 * times both, the order alternating.
 */
export async function benchScaling(setup: FlightSetup, experiments: number, rounds: number): Promise<CampaignScaling> {
  // The campaign's default workload (memory faults over the used memory), as `lockstep campaign` runs it.
  const spec = benchSpec(setup, 'used');
  const context = new CampaignContext(spec);
  const warmup = warmupIndices(experiments);
  for (const index of warmup) context.run(index);
  const pool = new CampaignPool(1);
  const rates: Record<1 | 2, number[]> = { 1: [], 2: [] };
  try {
    await pool.warm(spec, warmup);
    for (let round = 0; round < rounds; round++) {
      for (const jobs of round % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
        rates[jobs].push(experiments / ((await timeRun(spec, context, experiments, jobs, pool)) / 1e9));
      }
    }
  } finally {
    await pool.destroy();
  }
  return {
    fsw: spec.fsw,
    experiments,
    rounds,
    experimentsPerSecondOneJob: median(rates[1]),
    experimentsPerSecondTwoJobs: median(rates[2]),
    ratio: median(rates[2].map((rate, round) => rate / rates[1][round])),
  };
}
