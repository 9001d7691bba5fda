// A worker thread of a trade study: runs the blocks of trials it is given and returns each block's totals,
// which the calling thread adds in block order. A block depends only on the seed, the configuration and
// its index, so the study is the same whatever the number of workers.
import type { Configuration } from './configurations.js';
import { MissionSimulator, runBlock, type BlockTotals } from './monte-carlo.js';
import type { StudyParameters } from './parameters.js';

export interface BlockTask {
  readonly configuration: Configuration;
  readonly parameters: StudyParameters;
  readonly seed: number;
  readonly blocks: ReadonlyArray<readonly [block: number, count: number]>;
}

export default function runBlocks(task: BlockTask): BlockTotals[] {
  const simulator = new MissionSimulator(task.configuration, task.parameters);
  return task.blocks.map(([block, count]) => runBlock(simulator, task.seed, block, count));
}
