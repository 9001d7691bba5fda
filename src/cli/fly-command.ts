// `lockstep fly`: options → mission (validated by the mission schema) → the faulty run and its
// fault-free reference → a live progress line, the human summary, and --json / --telemetry files.
import type { Command } from 'commander';
import { STORAGE_TARGETS } from '../faults/fault.js';
import { HARDENING_NAMES } from '../hardenings.js';
import { parseMission, readMissionFile, type MissionInput } from '../mission/config.js';
import { simulateFaultFree } from '../mission/fault-free.js';
import { prepareFlight, simulate } from '../mission/fly.js';
import { jsonText, OutputSet } from '../output/files.js';
import { TelemetryCsv } from '../reports/telemetry.js';
import { formatFlightSummary, summarizeFlight } from '../reports/flight-summary.js';
import { UsageError } from './errors.js';
import { integerOption, listOption, numberOption } from './options.js';
import { ProgressLine } from './progress.js';

interface FlyOptions {
  config?: string;
  scenario?: string;
  duration?: number;
  seed?: number;
  fsw?: string;
  spare?: string;
  harden?: string;
  stateCompare?: boolean;
  lockstep?: boolean;
  clockHz?: number;
  checkpointInterval?: number;
  upsets?: number;
  upsetRate?: number;
  upsetFile?: string;
  upsetTargets?: string[];
  upsetWidth?: number;
  json?: string;
  telemetry?: string;
  quiet?: boolean;
}

export function registerFly(program: Command): void {
  program
    .command('fly')
    .description('fly a mission: the flight computer in the loop with the spacecraft, upsets injected, summary at the end')
    .option('--config <file>', 'mission file (JSON); options given on the command line override it')
    .option('--scenario <name>', 'reference | large')
    .option('--duration <seconds>', 'mission length, s', numberOption('--duration'))
    .option('--seed <n>', 'seed of every random stream', integerOption('--seed'))
    .option('--fsw <file.wasm>', 'flight-software module (default: the reference build)')
    .option('--harden <name>', `fly the flight software hardened: ${HARDENING_NAMES.join(' | ')}`)
    .option('--spare <mode>', 'hot | cold | none')
    .option('--no-lockstep', 'one core per processor, no comparator: with --spare none, what a campaign\'s single configuration flies')
    .option('--no-state-compare', 'compare only the cores\' outputs, not their whole state')
    .option('--clock-hz <n>', 'modelled CPU speed, instructions per second', numberOption('--clock-hz'))
    .option('--checkpoint-interval <cycles>', 'cycles per checkpoint epoch (state compared and committed at its end)', integerOption('--checkpoint-interval'))
    .option('--upsets <n>', 'random upsets spread uniformly over the mission (default 20)', integerOption('--upsets'))
    .option('--upset-rate <r>', 'random upsets as a Poisson process, per bit per day', numberOption('--upset-rate'))
    .option('--upset-file <file>', 'scripted upsets (JSON)')
    .option('--upset-targets <list>', `where random upsets strike: ${STORAGE_TARGETS.join(',')}`, listOption)
    .option('--upset-width <bits>', 'adjacent bits flipped per random upset', integerOption('--upset-width'))
    .option('--json <file>', 'write the summary as JSON')
    .option('--telemetry <file.csv>', 'write one row per cycle')
    .option('--quiet', 'no progress line and no summary on stdout')
    .action((options: FlyOptions) => flyAction(options));
}

function missionFromOptions(options: FlyOptions): MissionInput {
  const base: Record<string, unknown> = options.config ? { ...(readMissionFile(options.config) as object) } : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) base[key] = value;
  };
  set('scenario', options.scenario);
  set('duration', options.duration);
  set('seed', options.seed);
  set('fsw', options.fsw);
  set('spare', options.spare);
  set('harden', options.harden);
  if (options.stateCompare === false) base.compareState = false;
  if (options.lockstep === false) base.lockstep = false;
  set('clockHz', options.clockHz);
  set('checkpointInterval', options.checkpointInterval);
  const upsetChoice =
    options.upsets !== undefined ? { count: options.upsets } : options.upsetRate !== undefined ? { ratePerBitPerDay: options.upsetRate } : options.upsetFile !== undefined ? { file: options.upsetFile } : null;
  if (upsetChoice || options.upsetTargets || options.upsetWidth !== undefined) {
    const upsets: Record<string, unknown> = { ...((base.upsets as object | undefined) ?? {}) };
    if (upsetChoice) {
      delete upsets.count;
      delete upsets.ratePerBitPerDay;
      delete upsets.file;
      Object.assign(upsets, upsetChoice);
    }
    if (options.upsetTargets) upsets.targets = options.upsetTargets;
    if (options.upsetWidth !== undefined) upsets.width = options.upsetWidth;
    base.upsets = upsets;
  }
  return base as MissionInput;
}

function flyAction(options: FlyOptions): void {
  const given = [options.upsets, options.upsetRate, options.upsetFile].filter((value) => value !== undefined).length;
  if (given > 1) throw new UsageError('give only one of --upsets, --upset-rate and --upset-file');
  const mission = parseMission(missionFromOptions(options), options.config ?? 'command line');
  const setup = prepareFlight(mission, undefined, options.config ?? 'command line');
  // Every output is opened before the first cycle: a path that cannot be written is refused now.
  const outputs = new OutputSet([options.json ? { option: '--json', path: options.json } : null, options.telemetry ? { option: '--telemetry', path: options.telemetry } : null]);
  const text = outputs.usesStandardOutput ? process.stderr : process.stdout;
  const summary = outputs.produce(() => {
    const progress = new ProgressLine(!options.quiet);
    const telemetryFile = outputs.get('--telemetry');
    const telemetry = telemetryFile ? new TelemetryCsv(telemetryFile) : null;
    let faultFree, run;
    try {
      // Flight software that fails with no upset is refused here, before the faulty run.
      faultFree = simulateFaultFree(setup, (cycle, cycles) => progress.update(`fault-free reference ${cycle}/${cycles}`));
      run = simulate(setup, {
        upsets: setup.upsets,
        oracle: true,
        onProgress: (cycle, cycles) => progress.update(`flying ${cycle}/${cycles} cycles`),
        onTelemetry: telemetry ? (row) => telemetry.add(row) : undefined,
      });
    } finally {
      progress.done();
    }
    telemetry?.flush();
    const flight = summarizeFlight(setup, run, faultFree);
    outputs.get('--json')?.write(jsonText(flight));
    return flight;
  });
  if (!options.quiet) text.write(`${formatFlightSummary(summary)}\n`);
}
