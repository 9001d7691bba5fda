// `lockstep campaign`: fuzz upset injection. Draws experiments (one fault each) from the campaign seed,
// runs them over worker threads, streams records to a JSON Lines file (resumable), and prints the table
// of outcomes per configuration and target with 95% intervals. `--shard i/N` runs every N-th experiment,
// for an indexed Kubernetes Job or a Slurm job array; `lockstep merge` joins the shards.
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import type { MemoryRange } from '../campaign/context.js';
import { CONFIGS, TARGETS, type ConfigName, type FaultyCore, type Target } from '../campaign/experiment.js';
import { formatCampaignReport } from '../campaign/report.js';
import { ResultsFile } from '../campaign/results-file.js';
import { DEFAULT_EXPERIMENTS, runCampaign } from '../campaign/run.js';
import { BASE_CONFIGS } from '../hardenings.js';
import type { FaultKind } from '../faults/fault.js';
import { parseMission, readMissionFile, type MissionInput } from '../mission/config.js';
import { checkDistinct, jsonText, OutputFile } from '../output/files.js';
import { campaignHeading, campaignReportHtml } from '../reports/html/campaign-report.js';
import { reportAssets } from '../reports/html/page.js';
import { junitXml } from '../reports/junit.js';
import { formatVerdicts, judgeCampaign, silentLimitsOf, type SilentLimits } from '../reports/requirements.js';
import { UsageError } from './errors.js';
import { enforce } from './gate-options.js';
import { integerOption, listOption, numberOption } from './options.js';
import { ProgressLine } from './progress.js';

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
  kinds?: string[];
  jobs?: number;
  shard?: string;
  shards?: number;
  out?: string;
  resume?: boolean;
  force?: boolean;
  upsetRate?: number;
  missionDays?: number;
  json?: string;
  junit?: string;
  report?: string;
  maxSilent: string[];
  quiet?: boolean;
}


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
    .option('--kinds <list>', 'what a fault in a core does, by turns: flip,stuck,dead,babbling (default flip)', listOption)
    .option('--jobs <n>', 'threads computing, at most every core (default: every core, for campaigns of 20,000 experiments or more)', integerOption('--jobs'))
    .option('--shard <i/N>', 'run every N-th experiment, starting at i (0-based)')
    .option('--shards <N>', 'run shard JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm) of N', integerOption('--shards'))
    .option('--out <file.jsonl>', 'stream the experiment records to this file')
    .option('--resume', 'continue the campaign in --out (if it exists): runs only the experiments it lacks')
    .option('--force', 'replace an existing --out file')
    .option('--upset-rate <r>', 'upsets per bit per day: report the failures a mission should expect', numberOption('--upset-rate'))
    .option('--mission-days <d>', 'length of the mission --upset-rate is applied to, days (default: the simulated mission)', numberOption('--mission-days'))
    .option('--json <file>', 'write the summary as JSON')
    .option('--max-silent <config=rate>', 'fail when the upper end of the 95% interval of the configuration\'s silent-failure rate exceeds rate, e.g. pair+spare=1e-3 (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--junit <file.xml>', 'write JUnit XML: one test case per --max-silent bound')
    .option('--report <file.html>', 'write an HTML report: outcome rates with their 95% intervals, detection latency, MWTF')
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
  const shard = parseShard(options.shard, options.shards, process.env);
  const jobs = options.jobs === undefined ? undefined : jobsFor(options.jobs);
  if (options.resume && !options.out) throw new UsageError('--resume: give the result file to continue with --out');
  const base: Record<string, unknown> = options.config ? { ...(readMissionFile(options.config) as object) } : {};
  if (options.fsw !== undefined) base.fsw = options.fsw;
  if (options.scenario !== undefined) base.scenario = options.scenario;
  if (options.duration !== undefined) base.duration = options.duration;
  if (options.seed !== undefined) base.seed = options.seed;
  const configs = parseList(options.configs, CONFIGS, '--configs') as ConfigName[];
  const mission = parseMission({ ...base, upsets: { count: 0 } }, options.config ?? 'command line');
  const limits = silentLimitsOf(mission, options.config ?? 'command line', maxSilentOf(options.maxSilent, configs));

  let json: OutputFile | null = null;
  let junit: OutputFile | null = null;
  let html: OutputFile | null = null;
  let results: ResultsFile | null = null;
  const progress = new ProgressLine(!options.quiet);
  try {
    const { report, summary, records } = await runCampaign({
      mission: base as MissionInput,
      missionFile: options.config,
      source: options.config ?? 'command line',
      durationGiven: options.duration !== undefined,
      experiments: options.experiments,
      margin: options.margin,
      confidence: options.confidence,
      untilMargin: options.untilMargin,
      targets: options.targets as Target[] | undefined,
      configs,
      cores: options.cores as FaultyCore[],
      memoryRange: options.memoryRange as MemoryRange,
      horizon: options.horizon,
      width: options.width,
      kinds: options.kinds as FaultKind[] | undefined,
      jobs,
      availableJobs: availableParallelism(),
      shard,
      upsetRatePerBitPerDay: options.upsetRate,
      missionDays: options.missionDays,
      // Every output is checked before the golden run: the results file is locked (or refused), the others opened.
      openResults: () => {
        const named = [
          ...(options.out ? [{ option: '--out', path: options.out }] : []),
          ...(options.json ? [{ option: '--json', path: options.json }] : []),
          ...(options.junit ? [{ option: '--junit', path: options.junit }] : []),
          ...(options.report ? [{ option: '--report', path: options.report }] : []),
        ];
        if (named.length > 1) checkDistinct(named);
        results = options.out ? ResultsFile.prepare(options.out, { resume: Boolean(options.resume), force: Boolean(options.force) }) : null;
        json = options.json ? OutputFile.open(options.json) : null;
        junit = options.junit ? OutputFile.open(options.junit) : null;
        if (options.report) reportAssets();
        html = options.report ? OutputFile.open(options.report) : null;
        return results;
      },
      onProgress: (text) => progress.update(text),
    });
    progress.done();
    const requirements = judgeCampaign(summary, limits, mission.requirements?.silentFailures?.id ?? null);
    const written = { ...report, requirements };
    // Narrowed by hand: TypeScript cannot see the assignments in the callback above.
    const jsonFile = json as OutputFile | null;
    const junitFile = junit as OutputFile | null;
    const htmlFile = html as OutputFile | null;
    jsonFile?.write(jsonText(written));
    junitFile?.write(
      junitXml({ name: 'lockstep campaign', classname: 'lockstep.campaign', properties: { seed: report.seed, fsw: report.fsw, experiments: report.experiments, configs: configs.join(','), targets: report.targets.join(',') }, verdicts: requirements }),
    );
    htmlFile?.write(campaignReportHtml({ report, summary, records, requirements, heading: campaignHeading(report) }));
    jsonFile?.commit();
    junitFile?.commit();
    htmlFile?.commit();
    if (!options.quiet) {
      process.stdout.write(
        `${campaignHeading(report, `${Math.round(report.experimentsPerSecond)} experiments/s on ${report.jobs} job(s)`)}\n${formatCampaignReport(report, summary)}\n${formatVerdicts(requirements).map((line) => `${line}\n`).join('')}`,
      );
    }
    enforce(requirements);
  } finally {
    progress.done();
    (json as OutputFile | null)?.discard();
    (junit as OutputFile | null)?.discard();
    (html as OutputFile | null)?.discard();
    (results as ResultsFile | null)?.close();
  }
}

/** --max-silent CONFIG=RATE, each configuration one of the campaign's. */
function maxSilentOf(given: readonly string[], configs: readonly ConfigName[]): SilentLimits {
  const limits: Partial<Record<ConfigName, number>> = {};
  for (const value of given) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    const config = match?.[1].trim() as ConfigName | undefined;
    const rate = match ? Number(match[2]) : Number.NaN;
    if (!match || !config) throw new UsageError(`--max-silent: "${value}" is not CONFIG=RATE (e.g. pair+spare=1e-3)`);
    if (!configs.includes(config)) throw new UsageError(`--max-silent: "${config}" is not among the campaign's configurations (${configs.join(', ')})`);
    if (match[2].trim() === '' || !(rate >= 0 && rate <= 1)) throw new UsageError(`--max-silent: "${match[2]}" is not a rate between 0 and 1`);
    limits[config] = rate;
  }
  return limits;
}


/** The threads computing: --jobs, or every core; never more threads than cores (said on stderr, in one line). */
function jobsFor(requested: number | undefined): number {
  const cores = availableParallelism();
  if (requested === undefined) return cores;
  if (requested < 1) throw new UsageError('--jobs: must be at least 1');
  if (requested <= cores) return requested;
  process.stderr.write(`lockstep: --jobs ${requested}: running ${cores} threads, the cores this machine offers (os.availableParallelism()); more would only take turns on them, each with its own golden run in memory\n`);
  return cores;
}
