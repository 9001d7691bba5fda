// Running experiments over several threads (src/campaign/execute.ts): every experiment is handed on once,
// with the record this thread computes for it, in batches of the size asked for; and a failure in a worker
// or in the caller's handler ends the run with that error instead of hanging it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CampaignContext, hashFile, type CampaignSpec } from '../src/campaign/context.js';
import { CampaignPool, CLAIM, executeExperiments } from '../src/campaign/execute.js';
import type { ExperimentRecord } from '../src/campaign/experiment.js';
import { parseMission } from '../src/mission/config.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';

const spec: CampaignSpec = {
  mission: parseMission({ duration: 60, upsets: { count: 0 } }, 'test'),
  fsw: REFERENCE_FSW,
  fswSha256: hashFile(REFERENCE_FSW),
  seed: 21,
  targets: ['memory', 'checkpoint'],
  configs: ['single', 'pair', 'pair+spare'],
  horizon: 100,
  width: 1,
  snapshotInterval: 10,
  cores: ['A', 'B'],
  memoryRange: 'used',
};

let context: CampaignContext;
let pool: CampaignPool;
beforeAll(async () => {
  context = new CampaignContext(spec);
  pool = new CampaignPool(2);
  await pool.warm(spec);
});
afterAll(() => pool.destroy());

describe('executeExperiments over threads', () => {
  it('hands on every experiment once, as this thread computes it, in batches of the size asked for', async () => {
    // Not contiguous, as with a shard or a resumed run, and more than a claim per thread.
    const indices = Array.from({ length: 40 * CLAIM + 7 }, (_, i) => 3 * i + 1);
    // This thread is slowed down, so that the workers compute most records: theirs must equal its own.
    let here = 0;
    const slow = {
      run: (index: number) => {
        here++;
        for (const until = performance.now() + 2; performance.now() < until; );
        return context.run(index);
      },
    } as CampaignContext;
    const batches: ExperimentRecord[][] = [];
    await executeExperiments({ spec, context: slow, indices, jobs: 3, batchSize: 100, onBatch: (records) => batches.push(records), pool });
    expect(here).toBeLessThan(indices.length / 2);
    expect(batches.slice(0, -1).every((batch) => batch.length >= 100)).toBe(true);
    const records = batches.flat().sort((a, b) => a.index - b.index);
    expect(records.map((record) => record.index)).toEqual(indices);
    expect(records).toEqual(indices.map((index) => context.run(index)));
  });

  it('ends with the error of a worker that fails, without running the rest', async () => {
    // The worker refuses the spec as it starts; this thread alone would take many seconds over the rest.
    const stale = { ...spec, fswSha256: '0'.repeat(64) };
    let ran = 0;
    const run = executeExperiments({ spec: stale, context, indices: [...Array(100_000).keys()], jobs: 2, batchSize: 64, onBatch: (records) => (ran += records.length) });
    await expect(run).rejects.toThrow(/SHA-256 changed/);
    expect(ran).toBeLessThan(100_000);
  });

  it('runs on a pool whose workers built the golden run as they started, and reports a failure of that build', async () => {
    const early = new CampaignPool(1, spec);
    const failing = new CampaignPool(1, { ...spec, fswSha256: '0'.repeat(64) });
    try {
      // Once its first task returns, the worker holds the context it built as it started.
      await early.warm(spec);
      const indices = Array.from({ length: 10 * CLAIM }, (_, i) => i);
      let here = 0;
      const slow = {
        run: (index: number) => {
          here++;
          for (const until = performance.now() + 5; performance.now() < until; );
          return context.run(index);
        },
      } as CampaignContext;
      const records: ExperimentRecord[] = [];
      await executeExperiments({ spec, context: slow, indices, jobs: 2, batchSize: 64, onBatch: (batch) => records.push(...batch), pool: early });
      expect(here).toBeLessThan(indices.length);
      expect(records.sort((a, b) => a.index - b.index)).toEqual(indices.map((index) => context.run(index)));
      const run = executeExperiments({ spec: { ...spec, fswSha256: '0'.repeat(64) }, context, indices: [...Array(100_000).keys()], jobs: 2, batchSize: 64, onBatch: () => undefined, pool: failing });
      await expect(run).rejects.toThrow(/SHA-256 changed/);
    } finally {
      await Promise.all([early.destroy(), failing.destroy()]);
    }
  });

  it('ends with the error of the handler, and stops handing on records', async () => {
    let calls = 0;
    const run = executeExperiments({
      spec,
      context,
      indices: [...Array(20 * CLAIM).keys()],
      jobs: 3,
      batchSize: CLAIM,
      onBatch: () => {
        calls++;
        throw new Error('disk full');
      },
      pool,
    });
    await expect(run).rejects.toThrow('disk full');
    expect(calls).toBe(1);
  });
});
