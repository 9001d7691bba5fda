// `lockstep bench` (and `npm run bench`): the per-cycle cost ratios of the flight computer's layers.
import type { Command } from 'commander';
import { formatBench, runBench } from '../bench/bench.js';
import { relative, resolve } from 'node:path';
import { benchCampaign, benchInstructionCampaign, benchScaling, C_EXAMPLE_FSW, SCALING_EXPERIMENTS, type CampaignScaling } from '../bench/campaign-bench.js';
import { benchFaultHooks, formatFaultHooksBench } from '../bench/fault-hooks-bench.js';
import { benchHardening, benchKernelHardening, formatHardeningBench } from '../bench/hardening-bench.js';
import { benchGoldenMemory, formatGoldenMemoryBench } from '../bench/memory-bench.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight, REFERENCE_FSW } from '../mission/fly.js';
import { jsonText, OutputFile } from '../output/files.js';
import { benchTelemetryMemory, formatTelemetryMemoryBench } from '../bench/telemetry-memory-bench.js';
import { benchHil, formatHilBench } from '../bench/hil-bench.js';
import { benchLink, formatLinkBench, type LinkBenchResult } from '../bench/link-bench.js';
import { integerOption } from './options.js';

interface BenchOptions {
  fsw?: string;
  rounds: number;
  cycles: number;
  checkpointInterval?: number;
  experiments: number;
  instructionExperiments: number;
  scalingRounds: number;
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
    .option('--instruction-experiments <n>', 'experiments per target of the result and branch campaign benchmark (0: skip it)', integerOption('--instruction-experiments', 0), 20_000)
    .option('--scaling-rounds <n>', 'rounds of 1 and 2 jobs on 20,000 experiments per flight software (0: skip it)', integerOption('--scaling-rounds', 0), 3)
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
  const missionFor = (fsw: string | undefined) => parseMission({ fsw, checkpointInterval: options.checkpointInterval, upsets: { count: 0 } }, 'command line');
  const setup = prepareFlight(missionFor(options.fsw));
  const rounds = { rounds: options.rounds, cyclesPerRound: options.cycles };
  const result = runBench(setup, rounds);
  process.stdout.write(`${formatBench(result)}\n`);
  const faultHooks = benchFaultHooks(setup, rounds);
  process.stdout.write(`${formatFaultHooksBench(faultHooks)}\n`);
  const hardening = { ...benchHardening(setup, rounds), kernels: benchKernelHardening(rounds) };
  process.stdout.write(`${formatHardeningBench(hardening, hardening.kernels)}\n`);
  // The checkpoint stream's encodings on the flight software benched and both shipped programs.
  const link: LinkBenchResult[] = [];
  for (const fsw of new Set([resolve(options.fsw ?? REFERENCE_FSW), REFERENCE_FSW, C_EXAMPLE_FSW])) {
    const measured = benchLink(fsw === resolve(options.fsw ?? REFERENCE_FSW) ? setup : prepareFlight(missionFor(fsw)), Math.max(3, Math.ceil(options.rounds / 10)));
    process.stdout.write(`${formatLinkBench(measured, relative(process.cwd(), fsw))}\n`);
    link.push(measured);
  }
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
  const instructionLevel = options.instructionExperiments > 0 ? benchInstructionCampaign(setup, options.instructionExperiments) : null;
  if (instructionLevel) {
    const figure = (target: 'result' | 'branch') => `${target} ${Math.round(instructionLevel[target].experimentsPerSecond)}/s (${instructionLevel[target].meanSimulatedLockstepCycles.toFixed(1)} lock-step cycles each)`;
    process.stdout.write(`  instruction-level campaign (${instructionLevel.experiments} experiments per target, 1 thread): ${figure('result')}, ${figure('branch')} (goal ≥ ${instructionLevel.goal}/s each)\n`);
  }
  // How the campaign scales with jobs, on both shipped flight programs and the one benched.
  const scaling: CampaignScaling[] = [];
  if (options.scalingRounds > 0) {
    for (const fsw of new Set([resolve(options.fsw ?? REFERENCE_FSW), REFERENCE_FSW, C_EXAMPLE_FSW])) {
      const scaled = await benchScaling(prepareFlight(missionFor(fsw)), SCALING_EXPERIMENTS, options.scalingRounds);
      process.stdout.write(
        `  campaign scaling, ${relative(process.cwd(), scaled.fsw)} (${scaled.experiments} experiments, medians of ${scaled.rounds} rounds): ${Math.round(scaled.experimentsPerSecondOneJob)} experiments/s on 1 job, ${Math.round(scaled.experimentsPerSecondTwoJobs)} on 2 = ${scaled.ratio.toFixed(2)}×\n`,
      );
      scaling.push(scaled);
    }
  }
  if (json) {
    json.write(
      jsonText({
        ...result,
        faultHooks,
        hardening,
        link,
        campaign: campaign || scaling.length > 0 || instructionLevel ? { ...campaign, scaling, instructionLevel } : null,
        memory,
        ratios: { ...result.ratios, faultHooksVsPlain: faultHooks.ratio, ...hardening.ratios, ...(campaign ? { experimentVsLockstepCycle } : {}) },
      }),
    );
    json.commit();
  }
}
