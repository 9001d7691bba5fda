// `lockstep tradestudy`: the probability of mission success over years, per configuration (single, pair,
// pair+cold, pair+hot, tmr, tmr+spare), by Monte Carlo from a campaign's measured per-upset outcomes, an
// orbit's upset rate, permanent failure rates and the health policy, with the Markov chain's closed form
// beside it as a cross-check. A table, and JSON with --json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { jsonText, OutputSet } from '../output/files.js';
import { CONFIGURATION_NAMES, type ConfigurationName } from '../tradestudy/configurations.js';
import { TradeStudyInputError } from '../tradestudy/errors.js';
import { readCampaignOutcomes, type MeasuredOutcomes } from '../tradestudy/outcomes.js';
import { checkParameters, FATAL_CHOICES, type FatalOutcomes, type StudyParameters } from '../tradestudy/parameters.js';
import { presetNamed, UPSET_PRESETS } from '../tradestudy/presets.js';
import { formatTradeStudy, runTradeStudy } from '../tradestudy/study.js';
import { UsageError } from './errors.js';
import { integerOption, listOption, numberOption } from './options.js';

interface TradeStudyOptions {
  campaign?: string;
  experiments?: number;
  preset?: string;
  upsetRate?: number;
  fit: number;
  dormantFactor: number;
  repairHours?: number;
  failThreshold: number;
  failWindow: number;
  years: number;
  fatal: string;
  period: number;
  coldBoot: number;
  configs: string[];
  trials: number;
  seed: number;
  markov: boolean;
  jobs?: number;
  json?: string | boolean;
  quiet?: boolean;
}

const MAX_TRIALS = 10_000_000;
/** Trials over all configurations from which the Monte Carlo runs on every core by default. */
const PARALLEL_TRIALS = 200_000;

export function registerTradeStudy(program: Command): void {
  program
    .command('tradestudy')
    .description('probability of mission success over years per configuration (single … tmr+spare), by Monte Carlo and Markov chain, from a campaign')
    .option('--campaign <summary.json>', 'a campaign summary (lockstep campaign --json FILE) giving the per-upset outcomes')
    .option('--experiments <n>', 'with no --campaign: run a campaign of n experiments first (single, pair, pair+spare)', integerOption('--experiments', 1))
    .option('--preset <name>', `upset rate of an environment: ${UPSET_PRESETS.map((preset) => `${preset.name} (${preset.upsetRatePerBitPerDay})`).join(', ')}`)
    .option('--upset-rate <r>', 'upsets per bit per day', numberOption('--upset-rate'))
    .option('--fit <n>', 'permanent failures per 10⁹ hours of one core', numberOption('--fit'), 1000)
    .option('--dormant-factor <f>', 'a powered-off (cold) spare fails at this fraction of the powered rate', numberOption('--dormant-factor'), 0.1)
    .option('--repair-hours <h>', 'mean hours to repair (power-cycle, reintegrate) a processor with a permanent fault (default: no repair)', numberOption('--repair-hours'))
    .option('--fail-threshold <n>', 'detections within --fail-window that declare a processor failed, never reintegrated (0: never)', integerOption('--fail-threshold', 0), 0)
    .option('--fail-window <hours>', 'the fail count\'s window, hours', numberOption('--fail-window'), 1)
    .option('--years <n>', 'mission length, years', numberOption('--years'), 5)
    .option('--fatal <outcomes>', 'upset outcomes that end the mission: silent (sdc and pointing violations) or pointing', 'silent')
    .option('--period <s>', 'control period, s', numberOption('--period'), 0.1)
    .option('--cold-boot <s>', 'time a cold spare needs to boot, s', numberOption('--cold-boot'), 1)
    .option('--configs <list>', `configurations: ${CONFIGURATION_NAMES.join(',')}`, listOption, [...CONFIGURATION_NAMES])
    .option('--trials <n>', 'Monte Carlo missions per configuration', integerOption('--trials', 1, MAX_TRIALS), 100_000)
    .option('--seed <n>', 'seed of the Monte Carlo and of the posterior draws', integerOption('--seed'), 1)
    .option('--no-markov', 'skip the Markov chain cross-check')
    .option('--jobs <n>', 'threads for the Monte Carlo (default: every core from 200,000 trials over all configurations); the figures do not depend on it', integerOption('--jobs', 1, 256))
    .option('--json [file]', 'write the study as JSON (with no file: to standard output, and the table to standard error)')
    .option('--quiet', 'no table')
    .action((options: TradeStudyOptions) => tradeStudyAction(options));
}

function upsetRateOf(options: TradeStudyOptions): { rate: number; preset: string | null } {
  if (options.preset !== undefined && options.upsetRate !== undefined) throw new UsageError('give --preset or --upset-rate, not both');
  if (options.preset !== undefined) {
    const preset = presetNamed(options.preset);
    if (!preset) throw new UsageError(`--preset: unknown environment "${options.preset}" (known: ${UPSET_PRESETS.map((known) => known.name).join(', ')})`);
    return { rate: preset.upsetRatePerBitPerDay, preset: preset.name };
  }
  if (options.upsetRate !== undefined) return { rate: options.upsetRate, preset: null };
  throw new UsageError(`give the environment: --preset ${UPSET_PRESETS.map((preset) => preset.name).join('|')} or --upset-rate R (upsets per bit per day)`);
}

function configurationsOf(list: readonly string[]): ConfigurationName[] {
  const unknown = list.filter((name) => !(CONFIGURATION_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new UsageError(`--configs: unknown configuration "${unknown[0]}" (known: ${CONFIGURATION_NAMES.join(', ')})`);
  if (list.length === 0) throw new UsageError('--configs: name at least one configuration');
  return CONFIGURATION_NAMES.filter((name) => list.includes(name));
}

/** The campaign's outcomes: from its summary, or from a campaign this command runs (the same CLI, in a child process). */
function measuredOf(options: TradeStudyOptions): MeasuredOutcomes {
  if (options.campaign !== undefined && options.experiments !== undefined) throw new UsageError('give --campaign or --experiments, not both');
  if (options.campaign !== undefined) return readCampaignOutcomes(options.campaign);
  if (options.experiments === undefined) throw new UsageError('give the per-upset outcomes: --campaign FILE (lockstep campaign --json FILE writes it) or --experiments N to run a campaign');
  const directory = mkdtempSync(join(tmpdir(), 'lockstep-tradestudy-'));
  const summary = join(directory, 'campaign.json');
  try {
    const bin = fileURLToPath(new URL('../../bin/lockstep.js', import.meta.url));
    const args = [bin, 'campaign', '--experiments', String(options.experiments), '--seed', String(options.seed), '--json', summary, '--quiet'];
    try {
      execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    } catch (error) {
      throw new TradeStudyInputError(`the campaign (lockstep ${args.slice(1).join(' ')}) failed with exit code ${(error as { status?: number }).status ?? 'unknown'}`);
    }
    const measured = readCampaignOutcomes(summary);
    return { ...measured, file: `lockstep campaign --seed ${options.seed}, run now` };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function tradeStudyAction(options: TradeStudyOptions): Promise<void> {
  const { rate, preset } = upsetRateOf(options);
  const configurations = configurationsOf(options.configs);
  if (!(FATAL_CHOICES as readonly string[]).includes(options.fatal)) throw new UsageError(`--fatal: "${options.fatal}" is not one of ${FATAL_CHOICES.join(', ')}`);
  const parameters: StudyParameters = {
    upsetRatePerBitPerDay: rate,
    fitPerCore: options.fit,
    dormantFactor: options.dormantFactor,
    policy: { failThreshold: options.failThreshold, windowHours: options.failWindow, repairHours: options.repairHours ?? null },
    missionYears: options.years,
    fatal: options.fatal as FatalOutcomes,
    controlPeriodSeconds: options.period,
    coldBootSeconds: options.coldBoot,
  };
  try {
    checkParameters(parameters);
  } catch (error) {
    // Here every parameter came from an option: a value out of range is a usage mistake.
    if (error instanceof TradeStudyInputError) throw new UsageError(error.message);
    throw error;
  }
  const jsonPath = options.json === true ? '-' : options.json || undefined;
  const outputs = new OutputSet([jsonPath ? { option: '--json', path: jsonPath } : null]);
  // Every core for a large study (the figures do not depend on it); one thread for a small one, which would
  // spend more on starting workers than on its trials.
  const jobs = options.jobs ?? (options.trials * configurations.length >= PARALLEL_TRIALS ? availableParallelism() : 1);
  await outputs.produceAsync(async () => {
    const study = await runTradeStudy({ measured: measuredOf(options), seed: options.seed, trials: options.trials, configurations, preset, markov: options.markov, parameters, jobs });
    outputs.get('--json')?.write(jsonText(study));
    // With the JSON on standard output, the table goes to standard error (as every command does).
    if (!options.quiet) (outputs.usesStandardOutput ? process.stderr : process.stdout).write(`${formatTradeStudy(study)}\n`);
  });
}
