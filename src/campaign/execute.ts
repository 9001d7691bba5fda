// Runs a list of experiments, in this thread (one job) or over a pool of worker threads (Piscina), in
// batches, handing each finished batch to the caller (who appends it to the result file). Every record
// depends only on the spec and its index, so the records are the same whatever the number of workers;
// only the order in which batches finish varies.
import { Piscina } from 'piscina';
import type { CampaignContext, CampaignSpec } from './context.js';
import type { ExperimentRecord } from './experiment.js';

export interface ExecuteOptions {
  readonly spec: CampaignSpec;
  /** The context of this thread, used when jobs is 1. */
  readonly context: CampaignContext;
  readonly indices: readonly number[];
  /** Threads computing: this one and jobs − 1 workers. */
  readonly jobs: number;
  readonly batchSize: number;
  readonly onBatch: (records: ExperimentRecord[]) => void;
  /** A pool of jobs − 1 workers to reuse (they keep their golden run); one is made and destroyed otherwise. */
  readonly pool?: CampaignPool;
}

/** Worker threads that keep a campaign's context (the golden run, the compiled cores) between runs. */
export class CampaignPool {
  readonly piscina: Piscina;

  constructor(readonly jobs: number) {
    this.piscina = new Piscina({
      // The compiled worker, whether this module runs from dist/ or (under the test runner) from src/.
      filename: new URL('../../dist/campaign/worker.js', import.meta.url).href,
      minThreads: jobs,
      maxThreads: jobs,
      idleTimeout: 60_000,
    });
  }

  run(spec: CampaignSpec, indices: number[]): Promise<ExperimentRecord[]> {
    return this.piscina.run({ spec, indices }) as Promise<ExperimentRecord[]>;
  }

  /** Has every worker build the campaign's context, so that timing starts with warm workers. */
  async warm(spec: CampaignSpec): Promise<void> {
    await Promise.all(Array.from({ length: this.jobs }, () => this.run(spec, [])));
  }

  destroy(): Promise<void> {
    return this.piscina.destroy();
  }
}

export async function executeExperiments(options: ExecuteOptions): Promise<void> {
  const { indices, batchSize } = options;
  const batches: number[][] = [];
  for (let i = 0; i < indices.length; i += batchSize) batches.push(indices.slice(i, i + batchSize));
  if (options.jobs <= 1) {
    for (const batch of batches) options.onBatch(batch.map((index) => options.context.run(index)));
    return;
  }
  // This thread is one of the jobs: it runs batches itself while jobs − 1 workers run theirs, so that
  // n cores do n threads' work (handing results back costs the main thread as much as computing them).
  const pool = options.pool ?? new CampaignPool(options.jobs - 1);
  try {
    const inFlight = new Set<Promise<void>>();
    let next = 0;
    while (next < batches.length) {
      if (inFlight.size < pool.jobs * 2) {
        const task = pool.run(options.spec, batches[next++]).then((records) => options.onBatch(records));
        inFlight.add(task);
        task.finally(() => inFlight.delete(task)).catch(() => undefined);
        continue;
      }
      options.onBatch(batches[next++].map((index) => options.context.run(index)));
      // Let finished workers' batches through before the next local one.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(inFlight);
  } finally {
    if (!options.pool) await pool.destroy();
  }
}
