// The campaign's speed, as `lockstep bench` reports it: experiments per second on the reference mission
// with a 100-cycle horizon — in this thread, and over worker threads on every core — and the mean cost of
// an experiment expressed in cycles of the whole flight computer measured in the same run.
import { availableParallelism } from 'node:os';
import { CampaignContext, fswOf, hashFile, type CampaignSpec } from '../campaign/context.js';
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

export async function benchCampaign(setup: FlightSetup, experiments: number): Promise<CampaignBenchResult> {
  const fsw = fswOf(setup.mission);
  const spec: CampaignSpec = {
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
    // The workload these figures have always been taken on, so that they compare across versions: memory
    // faults over all of memory, where most end in the analytic skip. `used` memory (the campaign's
    // default) simulates far more cycles per experiment: meanSimulatedLockstepCycles says how many.
    memoryRange: 'all',
  };
  const context = new CampaignContext(spec);
  const indices = [...Array(experiments).keys()];
  // Warm-up: the engine tiers up the cores and the runner before anything is timed.
  for (let index = 0; index < Math.min(2000, experiments); index++) context.run(experiments + index);

  let simulated = 0;
  let start = process.hrtime.bigint();
  await executeExperiments({ spec, context, indices, jobs: 1, batchSize: 256, onBatch: (records) => records.forEach((record) => (simulated += record.simulated)) });
  const oneJobNs = Number(process.hrtime.bigint() - start);

  // Steady state over worker threads: the workers build their golden run before the clock starts.
  const jobs = availableParallelism();
  const pool = new CampaignPool(jobs - 1);
  let poolNs: number;
  try {
    await pool.warm(spec);
    start = process.hrtime.bigint();
    await executeExperiments({ spec, context, indices, jobs, batchSize: 2048, onBatch: () => undefined, pool });
    poolNs = Number(process.hrtime.bigint() - start);
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
