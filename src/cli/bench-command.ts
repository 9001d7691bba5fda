// `lockstep bench` (and `npm run bench`): the per-cycle cost ratios of the flight computer's layers.
import type { Command } from 'commander';
import { formatBench, runBench } from '../bench/bench.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight } from '../mission/fly.js';
import { writeJson } from '../reports/files.js';
import { integerOption } from './options.js';

interface BenchOptions {
  fsw?: string;
  rounds: number;
  cycles: number;
  checkpointInterval?: number;
  json?: string;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the cost per cycle of a bare core, the lock-step pair, and the pair with checkpoint and spare')
    .option('--fsw <file.wasm>', 'flight-software module (default: the reference build)')
    .option('--rounds <n>', 'timed rounds per configuration', integerOption('--rounds'), 200)
    .option('--cycles <n>', 'cycles per round', integerOption('--cycles'), 250)
    .option('--checkpoint-interval <cycles>', 'cycles per checkpoint epoch', integerOption('--checkpoint-interval'))
    .option('--json <file>', 'write the figures and ratios as JSON')
    .action((options: BenchOptions) => {
      const mission = parseMission({ fsw: options.fsw, checkpointInterval: options.checkpointInterval, upsets: { count: 0 } }, 'command line');
      const result = runBench(prepareFlight(mission), { rounds: Math.max(1, options.rounds), cyclesPerRound: Math.max(1, options.cycles) });
      if (options.json) writeJson(options.json, result);
      process.stdout.write(`${formatBench(result)}\n`);
    });
}
