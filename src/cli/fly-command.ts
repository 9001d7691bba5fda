// `lockstep fly`: options → mission (validated by the mission schema) → the faulty run and its
// fault-free reference → a live progress line, the human summary, and --json / --telemetry files.
import type { Command } from 'commander';
import { STORAGE_TARGETS } from '../faults/fault.js';
import { HARDENING_NAMES } from '../hardenings.js';
import { parseMission, readMissionFile, type MissionInput } from '../mission/config.js';
import { simulateFaultFree } from '../mission/fault-free.js';
import { prepareFlight, simulate, type TelemetryRow } from '../mission/fly.js';
import { writeFileAtomic, writeJson } from '../output/files.js';
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
    .option('--no-lockstep', 'one core per processor, no comparator: see what upsets do unprotected')
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
  const progress = new ProgressLine(!options.quiet);
  const rows: TelemetryRow[] = [];
  let faultFree, run;
  try {
    // Flight software that fails with no upset is refused here, before the faulty run and any output.
    faultFree = simulateFaultFree(setup, (cycle, cycles) => progress.update(`fault-free reference ${cycle}/${cycles}`));
    run = simulate(setup, {
      upsets: setup.upsets,
      oracle: true,
      onProgress: (cycle, cycles) => progress.update(`flying ${cycle}/${cycles} cycles`),
      onTelemetry: options.telemetry ? (row) => rows.push(row) : undefined,
    });
  } finally {
    progress.done();
  }
  const summary = summarizeFlight(setup, run, faultFree);
  if (options.json) writeJson(options.json, summary);
  if (options.telemetry) writeFileAtomic(options.telemetry, telemetryCsv(rows));
  if (!options.quiet) process.stdout.write(`${formatFlightSummary(summary)}\n`);
}

function telemetryCsv(rows: readonly TelemetryRow[]): string {
  const header = 'cycle,time_s,pointing_error_deg,torque_x,torque_y,torque_z,mode,released,detection,failover,missed_deadline,modelled_ms';
  const lines = rows.map((row) =>
    [row.cycle, row.time, row.pointingErrorDeg, ...row.torque, row.mode, row.released ? 1 : 0, row.detection, row.failover ? 1 : 0, row.missedDeadline ? 1 : 0, row.modelledMs].join(','),
  );
  return `${header}\n${lines.join('\n')}\n`;
}
