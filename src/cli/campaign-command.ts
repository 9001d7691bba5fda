// `lockstep campaign`: fuzz upset injection. Draws experiments (one fault each) from the campaign seed,
// runs them over worker threads, streams records to a JSON Lines file (resumable), and prints the table
// of outcomes per configuration and target with 95% intervals. `--shard i/N` runs every N-th experiment,
// for an indexed Kubernetes Job or a Slurm job array; `lockstep merge` joins the shards.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { CampaignContext, fingerprintOf, fswOf, hashFile, MEMORY_RANGES, SPEC_VERSION, type CampaignSpec } from '../campaign/context.js';
import { CONFIG_PARTS, CONFIGS, CORES, TARGETS, type ConfigName, type ExperimentRecord, type Target } from '../campaign/experiment.js';
import { executeExperiments } from '../campaign/execute.js';
import { RecordCollector, ResultsFile, type ResultsHeader } from '../campaign/results-file.js';
import { campaignReport, faultSpaceOf, formatCampaignReport, runtimeRatiosOf } from '../campaign/report.js';
import { leveugleSampleSize } from '../campaign/statistics.js';
import { BOOKKEEPING_BYTES_PER_EXPERIMENT, ENGINE_BYTES, GOLDEN_BUDGET_BYTES, goldenFixedBytesPerCycle, maxExperiments, maxGoldenCycles, missionCycles, plannedGoldenBytes, THREAD_BUDGET_BYTES } from '../campaign/memory-plan.js';
import { INPUT_CHANNELS } from '../abi/channels.js';
import { Core } from '../core/core.js';
import { absoluteRates, formatSummary, marginMet, mwtfFigures, summarize, type CampaignSummary } from '../campaign/summary.js';
import { FlightModule } from '../core/flight-module.js';
import { rangeBytes, storageBitsByTarget } from '../faults/fault-space.js';
import { ConfigError, parseMission, readMissionFile, scenarioOf, type Mission } from '../mission/config.js';
import { checkDistinct, jsonText, OutputFile } from '../output/files.js';
import { UsageError } from './errors.js';
import { integerOption, listOption, numberOption } from './options.js';
import { ProgressLine } from './progress.js';
import { BASE_CONFIGS, type HardeningName } from '../hardenings.js';

interface CampaignOptions {
  config?: string;
  fsw?: string;
  scenario?: string;
  duration?: number;
  seed?: number;
  experiments?: number;
  margin?: number;
  confidence: number;
  untilMargin?: number;
  targets?: string[];
  configs: string[];
  cores: string[];
  memoryRange: string;
  horizon: number;
  width: number;
  jobs?: number;
  shard?: string;
  shards?: number;
  out?: string;
  resume?: boolean;
  force?: boolean;
  upsetRate?: number;
  missionDays?: number;
  json?: string;
  quiet?: boolean;
}

const DEFAULT_EXPERIMENTS = 10_000;
const SNAPSHOT_INTERVAL = 10;

export function registerCampaign(program: Command): void {
  program
    .command('campaign')
    .description('fuzz upset injection: experiments of one fault each, classified for failover, with 95% intervals')
    .option('--config <file>', 'mission file (spacecraft, flight software, flight computer)')
    .option('--fsw <file.wasm>', 'flight-software module (default: the mission\'s, or the reference build)')
    .option('--scenario <name>', 'reference | large')
    .option('--duration <seconds>', 'mission length the experiments are drawn from, s', numberOption('--duration'))
    .option('--seed <n>', 'campaign seed: draws the experiments and the mission\'s noise', integerOption('--seed'))
    .option('--experiments <n>', `experiments to run (default ${DEFAULT_EXPERIMENTS}, or planned from --margin)`, integerOption('--experiments', 1))
    .option('--margin <e>', 'plan the number of experiments for this margin per target (Leveugle et al.)', numberOption('--margin'))
    .option('--confidence <c>', 'confidence of --margin and --until-margin', numberOption('--confidence'), 0.95)
    .option('--until-margin <e>', 'run until every 95% interval is at most ±e (up to --experiments)', numberOption('--until-margin'))
    .option('--targets <list>', `where faults strike: ${TARGETS.join(',')} (default: memory, global if the module has state globals, checkpoint)`, listOption)
    .option('--configs <list>', `protection configurations: ${CONFIGS.join(',')}`, listOption, [...BASE_CONFIGS])
    .option('--cores <list>', 'which cores faults strike: A,B (the primary\'s) and spare', listOption, ['A', 'B'])
    .option('--memory-range <range>', 'memory faults strike the blocks the golden run reads or writes (used), or all of memory', 'used')
    .option('--horizon <cycles>', 'cycles an experiment runs after its fault at most', integerOption('--horizon'), 100)
    .option('--width <bits>', 'adjacent bits per fault', integerOption('--width'), 1)
    .option('--jobs <n>', 'threads computing, at most every core (default: every core, for campaigns of 20,000 experiments or more)', integerOption('--jobs'))
    .option('--shard <i/N>', 'run every N-th experiment, starting at i (0-based)')
    .option('--shards <N>', 'run shard JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) of N', integerOption('--shards'))
    .option('--out <file.jsonl>', 'stream the experiment records to this file')
    .option('--resume', 'continue the campaign in --out (if it exists): runs only the experiments it lacks')
    .option('--force', 'replace an existing --out file')
    .option('--upset-rate <r>', 'upsets per bit per day: report the failures a mission should expect', numberOption('--upset-rate'))
    .option('--mission-days <d>', 'length of the mission --upset-rate is applied to, days (default: the simulated mission)', numberOption('--mission-days'))
    .option('--json <file>', 'write the summary as JSON')
    .option('--quiet', 'no progress line and no table')
    .action((options: CampaignOptions) => campaignAction(options));
}

function parseList<T extends string>(values: string[], allowed: readonly T[], flag: string): T[] {
  for (const value of values) if (!allowed.includes(value as T)) throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  if (values.length === 0) throw new UsageError(`${flag}: give at least one of ${allowed.join(', ')}`);
  return [...new Set(values)] as T[];
}

/** The shard this process runs: --shard i/N, or --shards N with the index from the job scheduler. */
export function parseShard(shard: string | undefined, shards: number | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } {
  if (shard !== undefined) {
    const match = /^(\d+)\/(\d+)$/.exec(shard);
    if (!match) throw new UsageError(`--shard: "${shard}" is not i/N (e.g. 0/4)`);
    const index = Number(match[1]);
    const count = Number(match[2]);
    if (count < 1 || index >= count) throw new UsageError(`--shard: "${shard}": the index must be below the count (0/${count || 1} … ${Math.max(count - 1, 0)}/${count || 1})`);
    return { index, count };
  }
  if (shards !== undefined) {
    if (shards < 1) throw new UsageError('--shards: must be at least 1');
    const raw = env.JOB_COMPLETION_INDEX ?? (env.SLURM_ARRAY_TASK_ID !== undefined ? String(Number(env.SLURM_ARRAY_TASK_ID) - Number(env.SLURM_ARRAY_TASK_MIN ?? 0)) : undefined);
    if (raw === undefined) throw new UsageError('--shards: neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set; use --shard i/N');
    const index = Number(raw);
    if (!Number.isInteger(index) || index < 0 || index >= shards) throw new UsageError(`--shards ${shards}: the scheduler's index ${raw} is not between 0 and ${shards - 1}`);
    return { index, count: shards };
  }
  return { index: 0, count: 1 };
}

async function campaignAction(options: CampaignOptions): Promise<void> {
  const requestedTargets = options.targets ? parseList(options.targets, TARGETS, '--targets') : null;
  const configs = parseList(options.configs, CONFIGS, '--configs') as ConfigName[];
  const cores = parseList(options.cores, CORES, '--cores');
  if (options.horizon < 1) throw new UsageError('--horizon: must be at least 1 cycle');
  if (options.width < 1 || options.width > 64) throw new UsageError('--width: must be between 1 and 64 bits');
  if (!(options.confidence > 0 && options.confidence < 1)) throw new UsageError('--confidence: must be between 0 and 1');
  if (options.margin !== undefined && !(options.margin > 0 && options.margin < 1)) throw new UsageError('--margin: must be between 0 and 1');
  if (options.upsetRate !== undefined && !(options.upsetRate >= 0 && options.upsetRate <= 1)) throw new UsageError('--upset-rate: must be between 0 and 1 upsets per bit per day');
  if (options.missionDays !== undefined && !(options.missionDays > 0 && options.missionDays <= 365_250)) throw new UsageError('--mission-days: must be between 0 and 365,250 days');
  if (options.untilMargin !== undefined && !(options.untilMargin > 0 && options.untilMargin < 1)) throw new UsageError('--until-margin: must be between 0 and 1');
  if (options.resume && !options.out) throw new UsageError('--resume: give the result file to continue with --out');
  const shard = parseShard(options.shard, options.shards, process.env);
  const jobs = jobsFor(options.jobs);

  const base: Record<string, unknown> = options.config ? { ...(readMissionFile(options.config) as object) } : {};
  if (options.fsw !== undefined) base.fsw = options.fsw;
  if (options.scenario !== undefined) base.scenario = options.scenario;
  if (options.duration !== undefined) base.duration = options.duration;
  if (options.seed !== undefined) base.seed = options.seed;
  const mission = parseMission({ ...base, upsets: { count: 0 } }, options.config ?? 'command line');
  const fsw = fswOf(mission);
  const module = FlightModule.fromFile(fsw, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages });
  const hasGlobals = module.stateGlobals.length > 0;
  if (requestedTargets?.includes('global') && !hasGlobals) throw new UsageError(`--targets: ${fsw} has no mutable globals; "global" has nothing to strike`);
  if (requestedTargets?.includes('replica') && (!module.persistent || mission.persistentStore.replication === 'off')) {
    throw new UsageError(`--targets: ${module.persistent ? `the mission turns replication off (persistentStore.replication)` : `${fsw} declares no persistent region (exports persistent_offset, persistent_length)`}; "replica" has nothing to strike`);
  }
  const targets: Target[] = requestedTargets ?? (hasGlobals ? ['memory', 'global', 'checkpoint'] : ['memory', 'checkpoint']);
  // The memory plan, before any file: the golden run must fit, and the experiments' bookkeeping beside it.
  const goldenBytes = planGoldenRun(mission, options, targets, configs, module);
  const mostExperiments = maxExperiments(goldenBytes);
  if (options.experiments !== undefined) planExperiments(`--experiments ${options.experiments}`, options.experiments, shard, mostExperiments, goldenBytes);
  const spec: CampaignSpec = {
    mission: { ...mission, fsw: undefined },
    fsw,
    fswSha256: hashFile(fsw),
    seed: mission.seed,
    targets,
    configs,
    horizon: options.horizon,
    width: options.width,
    snapshotInterval: SNAPSHOT_INTERVAL,
    cores,
    memoryRange: parseList([options.memoryRange], MEMORY_RANGES, '--memory-range')[0],
  };

  // Every output is checked before the golden run: the results file is locked (or refused), the JSON opened.
  if (options.out) checkDistinct([{ option: '--out', path: options.out }, ...(options.json ? [{ option: '--json', path: options.json }] : [])]);
  const results = options.out ? ResultsFile.prepare(options.out, { resume: Boolean(options.resume), force: Boolean(options.force) }) : null;
  const existingPlan = results?.existing?.header.plan;
  let json: OutputFile | null = null;
  const progress = new ProgressLine(!options.quiet);
  try {
    json = options.json ? OutputFile.open(options.json) : null;
    progress.update('golden run…');
    // Flight software that fails with no upset is refused here (FlightSoftwareError), before any result is written.
    const context = new CampaignContext(spec);

    let planned = options.experiments ?? existingPlan?.experiments ?? DEFAULT_EXPERIMENTS;
    if (options.margin !== undefined && options.experiments === undefined && !existingPlan) {
      // Leveugle et al.: the sample for ±margin at the confidence, per target, over its fault space.
      const population = context.builds[0].cycles * rangeBytes(context.builds[0].memoryRanges) * 8;
      planned = targets.length * leveugleSampleSize({ population, margin: options.margin, confidence: options.confidence });
      planExperiments(`--margin ${options.margin}`, planned, shard, mostExperiments, goldenBytes, `needs ${planned} experiments, `);
    }
    const header: ResultsHeader = {
      lockstep: 'campaign',
      version: SPEC_VERSION,
      fingerprint: fingerprintOf(spec),
      spec,
      plan: { experiments: planned, shard },
      faultSpace: faultSpaceOf(context),
      runtimeRatios: runtimeRatiosOf(context),
    };
    // --resume with no file yet starts it: a restarted job needs no special case.
    results?.start(header);
    const collector = new RecordCollector();
    for (const record of results?.existing?.records ?? []) collector.add(record, options.out!);

    const started = process.hrtime.bigint();
    let ran = 0;
    /** The most threads any round of this run computed on: what the report says it ran on. */
    let jobsUsed = 1;
    const shardIndices = (from: number, to: number) => {
      const indices: number[] = [];
      for (let index = from; index < to; index++) if (index % shard.count === shard.index && !collector.has(index)) indices.push(index);
      return indices;
    };
    const run = async (indices: number[]) => {
      const total = indices.length;
      let finished = 0;
      // By default threads are used only for enough work: each must first build the golden run.
      const roundJobs = options.jobs !== undefined || total >= 20_000 ? jobs : 1;
      if (total > 0) jobsUsed = Math.max(jobsUsed, roundJobs);
      await executeExperiments({
        spec,
        context,
        indices,
        jobs: roundJobs,
        batchSize: options.jobs !== undefined && total < 20_000 ? 256 : 2048,
        onBatch: (batch) => {
          results?.append(batch);
          for (const record of batch) collector.add(record, 'this run');
          finished += batch.length;
          ran += batch.length;
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const rate = ran / Math.max(seconds, 1e-9);
          progress.update(`${finished}/${total} experiments, ${Math.round(rate)}/s, ${Math.ceil((total - finished) / Math.max(rate, 1e-9))} s left`);
        },
      });
    };

    // With --until-margin the campaign may end before its plan: it is complete up to where it stopped.
    let reached = planned;
    if (options.untilMargin !== undefined) {
      const round = 1_000 * targets.length;
      reached = 0;
      while (reached < planned) {
        const next = Math.min(planned, reached + round);
        await run(shardIndices(reached, next));
        reached = next;
        if (marginMet(summarize(collector.records(), configs, targets), options.untilMargin)) break;
      }
    } else {
      await run(shardIndices(0, planned));
    }
    progress.done();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const records = collector.records();
    const missionSeconds = options.missionDays !== undefined ? options.missionDays * 86_400 : context.builds[0].cycles * context.setup.scenario.controlPeriod;
    const { report: body, summary } = campaignReport({ ...header, plan: { ...header.plan, experiments: reached } }, records, {
      upsetRatePerBitPerDay: options.upsetRate,
      missionSeconds,
    });
    const report = { ...body, experimentsPerSecond: ran > 0 ? ran / seconds : 0, jobs: jobsUsed };
    if (json) {
      json.write(jsonText(report));
      json.commit();
    }
    if (!options.quiet) {
      process.stdout.write(
        `lockstep campaign — ${report.experiments} experiments${report.shard ? ` (shard ${report.shard})` : ''}, seed ${report.seed}, horizon ${report.horizon} cycles, ${Math.round(report.experimentsPerSecond)} experiments/s on ${report.jobs} job(s), ${report.meanSimulatedCycles.toFixed(1)} lock-step cycles simulated per experiment\n${formatCampaignReport(report, summary)}\n`,
      );
    }
  } finally {
    progress.done();
    json?.discard();
    results?.close();
  }
}

const MiB = 1024 * 1024;

/** The threads computing: --jobs, or every core; never more threads than cores (said on stderr, in one line). */
function jobsFor(requested: number | undefined): number {
  const cores = availableParallelism();
  if (requested === undefined) return cores;
  if (requested < 1) throw new UsageError('--jobs: must be at least 1');
  if (requested <= cores) return requested;
  process.stderr.write(`lockstep: --jobs ${requested}: running ${cores} threads, the cores this machine offers (os.availableParallelism()); more would only take turns on them, each with its own golden run in memory\n`);
  return cores;
}

/**
 * Refuses a campaign whose experiments this process (a shard: its share) cannot keep account of: at most
 * `most`, what the thread's budget holds beside the engine and golden runs of `goldenBytes` (memory-plan.ts).
 * `what` names the value at fault.
 */
function planExperiments(what: string, planned: number, shard: { index: number; count: number }, most: number, goldenBytes: number, needs = ''): void {
  if (planned < 1) throw new UsageError(`${what}: must be at least 1`);
  const share = planned > shard.index ? Math.ceil((planned - shard.index) / shard.count) : 0;
  if (share <= most) return;
  const runs = shard.count > 1 ? `shard ${shard.index}/${shard.count} would run ${share} experiments, ` : '';
  throw new UsageError(
    `${what}: ${needs}${runs}at most ${most} experiments in this process (about ${BOOKKEEPING_BYTES_PER_EXPERIMENT} B of bookkeeping each, in the ${THREAD_BUDGET_BYTES / MiB} MiB of a thread ` +
      `less ${ENGINE_BYTES / MiB} MiB for the engine and ${Math.ceil(goldenBytes / MiB)} MiB planned for the golden run); --shard i/N runs a share of a larger campaign`,
  );
}

/**
 * Refuses a mission whose golden run would not fit the golden-run budget of a thread (memory-plan.ts)
 * before flying it: its per-cycle data grows with the mission and must leave the snapshots some room.
 * Returns the bytes the golden runs of a thread are planned to take at most.
 */
function planGoldenRun(mission: Mission, options: CampaignOptions, targets: readonly Target[], configs: readonly ConfigName[], module: FlightModule): number {
  const hooked = targets.includes('result') || targets.includes('branch');
  const builds = new Set(configs.map((config) => CONFIG_PARTS[config].variant)).size;
  const shape = { snapshotInterval: SNAPSHOT_INTERVAL, builds, hooked, globals: module.stateGlobals.length };
  const longest = maxGoldenCycles(shape);
  const cycles = missionCycles(mission);
  const memoryBytes = new Core(module, 'probe', new Float64Array(INPUT_CHANNELS.length)).memoryBytes().length;
  if (cycles <= longest) return plannedGoldenBytes({ ...shape, cycles, memoryBytes });
  const scenario = scenarioOf(mission);
  const fromFile = options.duration === undefined && options.config !== undefined;
  const message =
    `${fromFile ? `${options.config}: duration` : '--duration'} ${scenario.duration}: a campaign's golden run of ${cycles} cycles would keep ${Math.ceil(goldenFixedBytesPerCycle(shape))} B per cycle per build ` +
    `before its snapshots, too much for the ${GOLDEN_BUDGET_BYTES / MiB} MiB a thread's golden runs get; at most ${Math.floor(longest * scenario.controlPeriod)} s with ${builds === 1 ? 'these targets' : `these targets and ${builds} builds`}`;
  throw fromFile ? new ConfigError(message) : new UsageError(message);
}
