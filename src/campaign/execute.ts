// Runs a list of experiments, in this thread (one job) or with worker threads (Piscina) alongside, and
// hands the finished records to the caller in batches (who appends them to the result file). Every record
// depends only on the spec and its index, so the records are the same whatever the number of workers;
// only the order in which they finish varies.
//
// With several jobs, every thread — this one and jobs − 1 workers — claims the next few experiments from
// one shared counter until none are left. Measured on two cores (docs/performance.md), the earlier scheme
// (Piscina tasks of whole batches, handed out by this thread between batches of its own) left the worker
// idle while this thread computed: a task is dispatched only when this thread's event loop turns. It also
// let one thread finish up to two batches after the other had nothing left. Claiming from a shared counter
// needs no dispatch, and the last claims are small, so the threads finish together.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { CampaignContext, CampaignSpec } from './context.js';
import type { ExperimentRecord } from './experiment.js';

export interface ExecuteOptions {
  readonly spec: CampaignSpec;
  /** The context of this thread, which computes too. */
  readonly context: CampaignContext;
  readonly indices: readonly number[];
  /** Threads computing: this one and jobs − 1 workers. */
  readonly jobs: number;
  /** Records per call of onBatch (the last may hold fewer). */
  readonly batchSize: number;
  readonly onBatch: (records: ExperimentRecord[]) => void;
  /**
   * A pool of jobs − 1 workers to reuse (they keep their golden run), owned by the caller; one is made and
   * destroyed otherwise. The run does not wait for its workers to return: only for every record.
   */
  readonly pool?: CampaignPool;
}

/**
 * Experiments a thread claims at a time: small enough that the threads finish within a few milliseconds
 * of one another, large enough that claiming and posting cost nothing measurable.
 */
export const CLAIM = 32;

/** A worker's share of a run: the campaign, the work to claim from, and the port its records go back on. */
export interface WorkerTask {
  readonly spec: CampaignSpec;
  /** Int32Array over a SharedArrayBuffer: [next position to claim, ...indices]. */
  readonly work: SharedArrayBuffer;
  /** Where the worker posts each claim's records, as JSON; null to only build the context (warm-up). */
  readonly port: MessagePort | null;
}

/** Worker threads that keep a campaign's context (the golden run, the compiled cores) between runs. */
export class CampaignPool {
  readonly piscina: Piscina;

  /**
   * With `spec`, every worker starts building that campaign's context as soon as its thread starts, in
   * parallel with whatever the caller does meanwhile (its own golden run).
   */
  constructor(
    readonly jobs: number,
    spec?: CampaignSpec,
  ) {
    this.piscina = new Piscina({
      // The compiled worker, whether this module runs from dist/ or (under the test runner) from src/.
      filename: new URL('../../dist/campaign/worker.js', import.meta.url).href,
      minThreads: jobs,
      maxThreads: jobs,
      idleTimeout: 60_000,
      workerData: spec ? { campaignSpec: spec } : undefined,
    });
  }

  /** Starts a worker on `work`; resolves when it finds nothing left to claim. */
  run(task: WorkerTask): Promise<void> {
    return this.piscina.run(task, { transferList: task.port ? [task.port] : [] }) as Promise<void>;
  }

  /**
   * Has every worker build the campaign's context and run `warmup` experiments (indices outside the
   * campaign's), so that timing starts with warm workers.
   */
  async warm(spec: CampaignSpec, warmup: readonly number[] = []): Promise<void> {
    await Promise.all(Array.from({ length: this.jobs }, () => this.run({ spec, work: sharedWork(warmup), port: null })));
  }

  destroy(): Promise<void> {
    return this.piscina.destroy();
  }
}

/** Claims the next experiments of `work`: their positions [from, to), or null when none are left. */
export function claim(work: Int32Array): [number, number] | null {
  const total = work.length - 1;
  const from = Atomics.add(work, 0, CLAIM);
  return from < total ? [from, Math.min(total, from + CLAIM)] : null;
}

/** Runs the experiments at positions [from, to) of `work`. */
export function runClaim(context: CampaignContext, work: Int32Array, [from, to]: [number, number]): ExperimentRecord[] {
  const records: ExperimentRecord[] = [];
  for (let position = from; position < to; position++) records.push(context.run(work[position + 1]));
  return records;
}

function sharedWork(indices: readonly number[]): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(4 * (indices.length + 1));
  new Int32Array(buffer).set(indices, 1);
  return buffer;
}

export async function executeExperiments(options: ExecuteOptions): Promise<void> {
  const { indices, batchSize, context } = options;
  if (options.jobs <= 1) {
    for (let i = 0; i < indices.length; i += batchSize) options.onBatch(indices.slice(i, i + batchSize).map((index) => context.run(index)));
    return;
  }
  const buffer = sharedWork(indices);
  const work = new Int32Array(buffer);
  // The run ends when every record is in (or on the first failure), not when every worker has returned: a
  // worker still building its golden run when the others have done all the work adds nothing, and a pool
  // made for this run is destroyed rather than waited for. So more jobs are never slower than one.
  let received = 0;
  let complete = false;
  let failure = null as { error: unknown } | null;
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  const stop = (error: unknown) => {
    if (failure || complete) return; // after the last record, a destroyed pool's workers fail: no matter
    failure = { error };
    Atomics.store(work, 0, indices.length); // nothing more to claim: every thread stops after its claim
    end();
  };
  // Records of every thread, handed on in batches of batchSize.
  let pending: ExperimentRecord[] = [];
  const accept = (records: ExperimentRecord[]) => {
    if (failure) return;
    received += records.length;
    for (const record of records) pending.push(record);
    if (pending.length < batchSize && received < indices.length) return;
    const batch = pending;
    pending = [];
    try {
      options.onBatch(batch);
    } catch (error) {
      stop(error);
      return;
    }
    if (received === indices.length) {
      complete = true;
      end();
    }
  };
  if (indices.length === 0) {
    complete = true;
    end();
  }

  const pool = options.pool ?? new CampaignPool(options.jobs - 1);
  const ports: MessagePort[] = [];
  for (let i = 0; i < pool.jobs; i++) {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (claimed: string) => accept(JSON.parse(claimed) as ExperimentRecord[]));
    ports.push(port1);
    void pool.run({ spec: options.spec, work: buffer, port: port2 }).catch(stop);
  }
  try {
    for (let range = claim(work); range; range = claim(work)) {
      let records: ExperimentRecord[];
      try {
        records = runClaim(context, work, range);
      } catch (error) {
        stop(error);
        break;
      }
      accept(records);
      // Let the workers' records in.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await ended;
    if (failure) throw failure.error;
  } finally {
    for (const port of ports) port.close();
    // A worker still building its golden run finds nothing left to claim when it gets there; a task of a
    // finished run that fails later is ignored (stop), and the caller's pool is the caller's to destroy.
    if (!options.pool) await pool.destroy();
  }
}
