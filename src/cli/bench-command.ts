// `lockstep bench` (and `npm run bench`): the per-cycle cost ratios of the flight computer's layers.
import type { Command } from 'commander';
import { formatBench, runBench } from '../bench/bench.js';
import { benchCampaign } from '../bench/campaign-bench.js';
import { benchFaultHooks, formatFaultHooksBench } from '../bench/fault-hooks-bench.js';
import { benchHardening, benchKernelHardening, formatHardeningBench } from '../bench/hardening-bench.js';
import { benchGoldenMemory, formatGoldenMemoryBench } from '../bench/memory-bench.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight } from '../mission/fly.js';
import { jsonText, OutputFile } from '../output/files.js';
import { benchTelemetryMemory, formatTelemetryMemoryBench } from '../bench/telemetry-memory-bench.js';
import { benchHil, formatHilBench } from '../bench/hil-bench.js';
import { integerOption } from './options.js';

interface BenchOptions {
  fsw?: string;
  rounds: number;
  cycles: number;
  checkpointInterval?: number;
  experiments: number;
  json?: string;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('measure the cost per cycle of a bare core, the lock-step pair, and the pair with checkpoint and spare')
    .option('--fsw <file.wasm>', 'flight-software module (default: the reference build)')
    .option('--rounds <n>', 'timed rounds per configuration', integerOption('--rounds', 1), 200)
    .option('--cycles <n>', 'cycles per round', integerOption('--cycles', 1), 250)
    .option('--checkpoint-interval <cycles>', 'cycles per checkpoint epoch', integerOption('--checkpoint-interval'))
    .option('--experiments <n>', 'experiments of the campaign benchmark (0: skip it)', integerOption('--experiments', 0), 100_000)
    .option('--json <file>', 'write the figures and ratios as JSON')
    .action(async (options: BenchOptions) => {
      // The JSON is opened before hours of measuring: a path that cannot be written is refused now.
      const json = options.json ? OutputFile.open(options.json) : null;
      try {
        await bench(options, json);
      } finally {
        json?.discard();
      }
    });
}

async function bench(options: BenchOptions, json: OutputFile | null): Promise<void> {
  const mission = parseMission({ fsw: options.fsw, checkpointInterval: options.checkpointInterval, upsets: { count: 0 } }, 'command line');
  const setup = prepareFlight(mission);
  const rounds = { rounds: options.rounds, cyclesPerRound: options.cycles };
  const result = runBench(setup, rounds);
  process.stdout.write(`${formatBench(result)}\n`);
  const faultHooks = benchFaultHooks(setup, rounds);
  process.stdout.write(`${formatFaultHooksBench(faultHooks)}\n`);
  const hardening = { ...benchHardening(setup, rounds), kernels: benchKernelHardening(rounds) };
  process.stdout.write(`${formatHardeningBench(hardening, hardening.kernels)}\n`);
  const memory = { goldenRun: benchGoldenMemory(setup), telemetry: benchTelemetryMemory() };
  process.stdout.write(`${formatGoldenMemoryBench(memory.goldenRun)}\n${formatTelemetryMemoryBench(memory.telemetry)}\n`);
  const hil = await benchHil();
  process.stdout.write(`${formatHilBench(hil)}\n`);
  const campaign = options.experiments > 0 ? await benchCampaign(setup, options.experiments) : null;
  const experimentVsLockstepCycle = campaign ? campaign.nsPerExperiment / result.nsPerCycle.pairSpare : null;
  if (campaign) {
    process.stdout.write(
      `  campaign (${campaign.experiments} experiments, horizon ${campaign.horizon}): ${Math.round(campaign.experimentsPerSecondOneJob)} experiments/s on 1 job, ${Math.round(campaign.experimentsPerSecond)} on ${campaign.jobs}; ` +
        `${(campaign.nsPerExperiment / 1000).toFixed(2)} µs per experiment = ${experimentVsLockstepCycle!.toFixed(2)} flight-computer cycles (${campaign.meanSimulatedLockstepCycles.toFixed(2)} lock-step cycles simulated on average)\n`,
    );
  }
  if (json) {
    json.write(
      jsonText({
        ...result,
        faultHooks,
        hardening,
        campaign,
        memory,
        ratios: { ...result.ratios, faultHooksVsPlain: faultHooks.ratio, ...hardening.ratios, ...(campaign ? { experimentVsLockstepCycle } : {}) },
      }),
    );
    json.commit();
  }
}
