// A whole campaign, as `lockstep campaign` and the library's `campaign()` run it: the flight software
// loaded, the targets chosen, the memory plan checked before any file, the golden run, the experiments
// (planned, or in rounds until the intervals are narrow enough) streamed to an optional results file, and
// the report. Options are checked here, each named by its command-line flag.
import { INPUT_CHANNELS } from '../abi/channels.js';
import { BASE_CONFIGS } from '../hardenings.js';
import { FAULT_KINDS, type FaultKind } from '../faults/fault.js';
import { Core } from '../core/core.js';
import { FlightModule } from '../core/flight-module.js';
import { rangeBytes } from '../faults/fault-space.js';
import { ConfigError, parseMission, scenarioOf, type Mission, type MissionInput } from '../mission/config.js';
import { specMission, CampaignContext, fingerprintOf, fswOf, hashFile, MEMORY_RANGES, SPEC_VERSION, type CampaignSpec, type MemoryRange } from './context.js';
import { CampaignPool, executeExperiments } from './execute.js';
import { CONFIG_PARTS, CONFIGS, CORES, TARGETS, type ConfigName, type ExperimentRecord, type FaultyCore, type Target } from './experiment.js';
import { BOOKKEEPING_BYTES_PER_EXPERIMENT, ENGINE_BYTES, GOLDEN_BUDGET_BYTES, goldenFixedBytesPerCycle, maxExperiments, maxGoldenCycles, missionCycles, plannedGoldenBytes, THREAD_BUDGET_BYTES } from './memory-plan.js';
import { campaignReport, faultSpaceOf, runtimeRatiosOf, siteTableFor, type CampaignReport } from './report.js';
import { RecordCollector, type ResultsFile, type ResultsHeader } from './results-file.js';
import { leveugleSampleSize } from './statistics.js';
import { marginMet, summarize, type CampaignSummary } from './summary.js';

/** A campaign option out of range, named by its flag: the command line's usage error (exit code 2). */
export class CampaignOptionError extends Error {}

export const DEFAULT_EXPERIMENTS = 10_000;
const SNAPSHOT_INTERVAL = 10;
const MiB = 1024 * 1024;

export interface CampaignRequest {
  /** The mission the experiments are drawn from, as a mission file holds it (its upsets are ignored: a campaign injects one fault per experiment). */
  readonly mission: MissionInput;
  /** The mission file it was read from, if any, for messages. */
  readonly missionFile?: string;
  /** What messages call the mission (default: the mission file, or "mission"). */
  readonly source?: string;
  /** Whether the mission's duration was given on the command line (--duration), for messages. */
  readonly durationGiven?: boolean;
  readonly experiments?: number;
  readonly margin?: number;
  readonly confidence?: number;
  readonly untilMargin?: number;
  /** Default: memory, global if the module has state globals, checkpoint. */
  readonly targets?: readonly Target[];
  readonly configs?: readonly ConfigName[];
  readonly cores?: readonly FaultyCore[];
  readonly memoryRange?: MemoryRange;
  readonly horizon?: number;
  readonly width?: number;
  /** What a fault in a core does, by turns: flip (default), stuck, dead, babbling. */
  readonly kinds?: readonly FaultKind[];
  /** Threads computing; undefined: every core for rounds of 20,000 experiments or more, one thread below. */
  readonly jobs?: number;
  /** Every core the machine offers, when jobs is not given. */
  readonly availableJobs?: number;
  readonly shard?: { readonly index: number; readonly count: number };
  readonly upsetRatePerBitPerDay?: number;
  readonly missionDays?: number;
  /**
   * Opens the outputs once the options are checked, before the golden run: a results file
   * (ResultsFile.prepare), to which the records are appended batch by batch, or null.
   */
  readonly openResults?: () => ResultsFile | null;
  readonly onProgress?: (text: string) => void;
}

export interface CampaignRun {
  readonly report: CampaignReport & { experimentsPerSecond: number; jobs: number };
  readonly summary: CampaignSummary;
  /** The records the report is of (what the HTML report draws the latency distribution from). */
  readonly records: readonly ExperimentRecord[];
}

function checkList<T extends string>(values: readonly T[], allowed: readonly T[], flag: string): T[] {
  for (const value of values) if (!allowed.includes(value)) throw new CampaignOptionError(`${flag}: "${value}" is not one of ${allowed.join(', ')}`);
  if (values.length === 0) throw new CampaignOptionError(`${flag}: give at least one of ${allowed.join(', ')}`);
  return [...new Set(values)];
}

/** Checks the request's options, each named by its flag. */
function checkRequest(request: CampaignRequest): void {
  const { horizon = 100, width = 1, confidence = 0.95, margin, untilMargin, upsetRatePerBitPerDay: rate, missionDays } = request;
  if (!Number.isInteger(horizon) || horizon < 1) throw new CampaignOptionError('--horizon: must be at least 1 cycle');
  if (!Number.isInteger(width) || width < 1 || width > 64) throw new CampaignOptionError('--width: must be between 1 and 64 bits');
  if (!(confidence > 0 && confidence < 1)) throw new CampaignOptionError('--confidence: must be between 0 and 1');
  if (margin !== undefined && !(margin > 0 && margin < 1)) throw new CampaignOptionError('--margin: must be between 0 and 1');
  if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new CampaignOptionError('--upset-rate: must be between 0 and 1 upsets per bit per day');
  if (missionDays !== undefined && !(missionDays > 0 && missionDays <= 365_250)) throw new CampaignOptionError('--mission-days: must be between 0 and 365,250 days');
  if (untilMargin !== undefined && !(untilMargin > 0 && untilMargin < 1)) throw new CampaignOptionError('--until-margin: must be between 0 and 1');
  if (request.jobs !== undefined && !(Number.isInteger(request.jobs) && request.jobs >= 1)) throw new CampaignOptionError('--jobs: must be at least 1');
}

export async function runCampaign(request: CampaignRequest): Promise<CampaignRun> {
  checkRequest(request);
  const configs = checkList(request.configs ?? BASE_CONFIGS, CONFIGS, '--configs');
  const cores = checkList(request.cores ?? ['A', 'B'], CORES, '--cores');
  const memoryRange = checkList([request.memoryRange ?? 'used'], MEMORY_RANGES, '--memory-range')[0];
  const requestedTargets = request.targets ? checkList(request.targets, TARGETS, '--targets') : null;
  const horizon = request.horizon ?? 100;
  const width = request.width ?? 1;
  const kinds = checkList(request.kinds ?? ['flip'], FAULT_KINDS, '--kinds');
  const confidence = request.confidence ?? 0.95;
  const shard = request.shard ?? { index: 0, count: 1 };
  const mission = parseMission({ ...request.mission, upsets: { count: 0 } }, request.source ?? request.missionFile ?? 'mission');
  const fsw = fswOf(mission);
  const module = FlightModule.fromFile(fsw, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages });
  const hasGlobals = module.stateGlobals.length > 0;
  if (requestedTargets?.includes('global') && !hasGlobals) throw new CampaignOptionError(`--targets: ${fsw} has no mutable globals; "global" has nothing to strike`);
  if (requestedTargets?.includes('replica') && (!module.persistent || mission.persistentStore.replication === 'off')) {
    throw new CampaignOptionError(`--targets: ${module.persistent ? `the mission turns replication off (persistentStore.replication)` : `${fsw} declares no persistent region (exports persistent_offset, persistent_length)`}; "replica" has nothing to strike`);
  }
  const targets: Target[] = requestedTargets ?? (hasGlobals ? ['memory', 'global', 'checkpoint'] : ['memory', 'checkpoint']);
  // The memory plan, before any experiment: the golden run must fit, and the experiments' bookkeeping beside it.
  const goldenBytes = planGoldenRun(mission, request, targets, configs, module);
  const mostExperiments = maxExperiments(goldenBytes);
  if (request.experiments !== undefined) planExperiments(`--experiments ${request.experiments}`, request.experiments, shard, mostExperiments, goldenBytes);
  const spec: CampaignSpec = {
    // The requirements judge a campaign; they are no part of what it is (its fingerprint).
    mission: { ...specMission(mission), requirements: undefined },
    fsw,
    fswSha256: hashFile(fsw),
    seed: mission.seed,
    targets,
    configs,
    horizon,
    width,
    snapshotInterval: SNAPSHOT_INTERVAL,
    cores,
    memoryRange,
    // Flips only: the spec (and fingerprint) of a campaign from before kinds existed.
    ...(kinds.length === 1 && kinds[0] === 'flip' ? {} : { kinds }),
  };
  const results = request.openResults?.() ?? null;
  const existingPlan = results?.existing?.header.plan;
  request.onProgress?.('golden run…');
  // Workers that will compute start their golden runs now, alongside this thread's.
  const threads = request.jobs ?? request.availableJobs ?? 1;
  const pool = threadsWanted(request, threads, existingPlan?.experiments, shard.count) ? new CampaignPool(threads - 1, spec) : null;
  try {
    // Flight software that fails with no upset is refused here (FlightSoftwareError), before any result is written.
    const context = new CampaignContext(spec);

    let planned = request.experiments ?? existingPlan?.experiments ?? DEFAULT_EXPERIMENTS;
    if (request.margin !== undefined && request.experiments === undefined && !existingPlan) {
      // Leveugle et al.: the sample for ±margin at the confidence, per target, over its fault space.
      const population = context.builds[0].cycles * rangeBytes(context.builds[0].memoryRanges) * 8;
      planned = targets.length * leveugleSampleSize({ population, margin: request.margin, confidence });
      planExperiments(`--margin ${request.margin}`, planned, shard, mostExperiments, goldenBytes, `needs ${planned} experiments, `);
    }
    const header: ResultsHeader = {
      lockstep: 'campaign',
      version: SPEC_VERSION,
      fingerprint: fingerprintOf(spec),
      spec,
      plan: { experiments: planned, shard },
      faultSpace: faultSpaceOf(context),
      runtimeRatios: runtimeRatiosOf(context),
      ...siteTableFor(context),
    };
    // --resume with no file yet starts it: a restarted job needs no special case.
    results?.start(header);
    const collector = new RecordCollector();
    for (const record of results?.existing?.records ?? []) collector.add(record, results!.path);

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
      const roundJobs = pool && (request.jobs !== undefined || total >= THREADED_EXPERIMENTS) ? threads : 1;
      if (total > 0) jobsUsed = Math.max(jobsUsed, roundJobs);
      await executeExperiments({
        spec,
        context,
        indices,
        jobs: roundJobs,
        batchSize: request.jobs !== undefined && total < THREADED_EXPERIMENTS ? 256 : 2048,
        pool: pool ?? undefined,
        onBatch: (batch) => {
          results?.append(batch);
          for (const record of batch) collector.add(record, 'this run');
          finished += batch.length;
          ran += batch.length;
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const rate = ran / Math.max(seconds, 1e-9);
          request.onProgress?.(`${finished}/${total} experiments, ${Math.round(rate)}/s, ${Math.ceil((total - finished) / Math.max(rate, 1e-9))} s left`);
        },
      });
    };

    // With --until-margin the campaign may end before its plan: it is complete up to where it stopped.
    let reached = planned;
    if (request.untilMargin !== undefined) {
      const round = 1_000 * targets.length;
      reached = 0;
      while (reached < planned) {
        const next = Math.min(planned, reached + round);
        await run(shardIndices(reached, next));
        reached = next;
        if (marginMet(summarize(collector.records(), configs, targets), request.untilMargin)) break;
      }
    } else {
      await run(shardIndices(0, planned));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const records = collector.records();
    const missionSeconds = request.missionDays !== undefined ? request.missionDays * 86_400 : context.builds[0].cycles * context.setup.scenario.controlPeriod;
    const { report: body, summary } = campaignReport({ ...header, plan: { ...header.plan, experiments: reached } }, records, {
      upsetRatePerBitPerDay: request.upsetRatePerBitPerDay,
      missionSeconds,
    });
    return { report: { ...body, experimentsPerSecond: ran > 0 ? ran / seconds : 0, jobs: jobsUsed }, summary, records };
  } finally {
    await pool?.destroy();
  }
}

/** Experiments a round needs before worker threads pay for their own golden runs (without --jobs). */
const THREADED_EXPERIMENTS = 20_000;

/**
 * Whether this run will compute on worker threads: with --jobs above 1, or with every core for enough
 * experiments (a --margin plan is not known before the golden run: assumed enough).
 */
function threadsWanted(request: CampaignRequest, threads: number, existingExperiments: number | undefined, shards: number): boolean {
  if (threads <= 1) return false;
  if (request.jobs !== undefined || request.margin !== undefined) return true;
  return (request.experiments ?? existingExperiments ?? DEFAULT_EXPERIMENTS) / shards >= THREADED_EXPERIMENTS;
}

/**
 * Refuses a campaign whose experiments this process (a shard: its share) cannot keep account of: at most
 * `most`, what the thread's budget holds beside the engine and golden runs of `goldenBytes` (memory-plan.ts).
 * `what` names the value at fault.
 */
function planExperiments(what: string, planned: number, shard: { index: number; count: number }, most: number, goldenBytes: number, needs = ''): void {
  if (planned < 1) throw new CampaignOptionError(`${what}: must be at least 1`);
  const share = planned > shard.index ? Math.ceil((planned - shard.index) / shard.count) : 0;
  if (share <= most) return;
  const runs = shard.count > 1 ? `shard ${shard.index}/${shard.count} would run ${share} experiments, ` : '';
  throw new CampaignOptionError(
    `${what}: ${needs}${runs}at most ${most} experiments in this process (about ${BOOKKEEPING_BYTES_PER_EXPERIMENT} B of bookkeeping each, in the ${THREAD_BUDGET_BYTES / MiB} MiB of a thread ` +
      `less ${ENGINE_BYTES / MiB} MiB for the engine and ${Math.ceil(goldenBytes / MiB)} MiB planned for the golden run); --shard i/N runs a share of a larger campaign`,
  );
}

/**
 * Refuses a mission whose golden run would not fit the golden-run budget of a thread (memory-plan.ts)
 * before flying it: its per-cycle data grows with the mission and must leave the snapshots some room.
 * Returns the bytes the golden runs of a thread are planned to take at most.
 */
function planGoldenRun(mission: Mission, request: CampaignRequest, targets: readonly Target[], configs: readonly ConfigName[], module: FlightModule): number {
  const hooked = targets.includes('result') || targets.includes('branch');
  const builds = new Set(configs.map((config) => CONFIG_PARTS[config].variant)).size;
  const shape = { snapshotInterval: SNAPSHOT_INTERVAL, builds, hooked, globals: module.stateGlobals.length };
  const longest = maxGoldenCycles(shape);
  const cycles = missionCycles(mission);
  const memoryBytes = new Core(module, 'probe', new Float64Array(INPUT_CHANNELS.length)).memoryBytes().length;
  if (cycles <= longest) return plannedGoldenBytes({ ...shape, cycles, memoryBytes });
  const scenario = scenarioOf(mission);
  const fromFile = !request.durationGiven && request.missionFile !== undefined;
  const message =
    `${fromFile ? `${request.missionFile}: duration` : '--duration'} ${scenario.duration}: a campaign's golden run of ${cycles} cycles would keep ${Math.ceil(goldenFixedBytesPerCycle(shape))} B per cycle per build ` +
    `before its snapshots, too much for the ${GOLDEN_BUDGET_BYTES / MiB} MiB a thread's golden runs get; at most ${Math.floor(longest * scenario.controlPeriod)} s with ${builds === 1 ? 'these targets' : `these targets and ${builds} builds`}`;
  throw fromFile ? new ConfigError(message) : new CampaignOptionError(message);
}
