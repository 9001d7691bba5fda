// The Monte Carlo over worker threads (Piscina): the blocks of every configuration are handed out in tasks
// of a few blocks, and each configuration's blocks are added in block order when all are back, so that the
// figures are exactly those of one thread. With one job, everything runs in this thread.
import { Piscina } from 'piscina';
import type { Configuration } from './configurations.js';
import { addBlock, blocksOf, emptyTotals, runTrials, type BlockTotals } from './monte-carlo.js';
import type { StudyParameters } from './parameters.js';
import type { BlockTask } from './worker.js';

/** Blocks per task: enough that a task's messages cost nothing against its trials. */
const BLOCKS_PER_TASK = 8;

export async function runAllTrials(
  configurations: readonly Configuration[],
  parameters: StudyParameters,
  seed: number,
  trials: number,
  jobs: number,
): Promise<BlockTotals[]> {
  const blocks = blocksOf(trials);
  if (jobs <= 1 || blocks.length * configurations.length <= 1) return configurations.map((configuration) => runTrials(configuration, parameters, seed, trials));
  const pool = new Piscina({ filename: new URL('../../dist/tradestudy/worker.js', import.meta.url).href, minThreads: jobs, maxThreads: jobs });
  try {
    return await Promise.all(
      configurations.map(async (configuration) => {
        const tasks: BlockTask[] = [];
        for (let i = 0; i < blocks.length; i += BLOCKS_PER_TASK) tasks.push({ configuration, parameters, seed, blocks: blocks.slice(i, i + BLOCKS_PER_TASK) });
        const parts = (await Promise.all(tasks.map((task) => pool.run(task) as Promise<BlockTotals[]>))).flat();
        const totals = emptyTotals();
        for (const part of parts) addBlock(totals, part);
        return totals;
      }),
    );
  } finally {
    await pool.destroy();
  }
}
