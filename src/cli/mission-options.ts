// The options that describe the mission a flight flies, shared by `fly` and `hil`: a mission file and the
// fields the command line overrides, turned into one mission input the mission schema validates.
import type { Command } from 'commander';
import { RANDOM_TARGETS } from '../faults/fault.js';
import { HARDENING_NAMES } from '../hardenings.js';
import { parseMission, readMissionFile, type Mission, type MissionInput } from '../mission/config.js';
import { UsageError } from './errors.js';
import { integerOption, listOption, numberOption } from './options.js';

export interface MissionOptions {
  config?: string;
  scenario?: string;
  duration?: number;
  seed?: number;
  fsw?: string;
  spare?: string;
  redundancy?: string;
  harden?: string;
  stateCompare?: boolean;
  lockstep?: boolean;
  clockHz?: number;
  checkpointInterval?: number;
  replication?: string;
  reintegration?: string;
  linkBandwidth?: number;
  linkCompression?: string;
  upsets?: number;
  upsetRate?: number;
  upsetFile?: string;
  upsetTargets?: string[];
  upsetWidth?: number;
  upsetKinds?: string[];
  realtime?: boolean | number;
}

/** Adds the mission's options (and --realtime) to a command. */
export function addMissionOptions(command: Command): Command {
  return command
    .option('--config <file>', 'mission file (JSON); options given on the command line override it')
    .option('--scenario <name>', 'reference | large')
    .option('--duration <seconds>', 'mission length, s', numberOption('--duration'))
    .option('--seed <n>', 'seed of every random stream', integerOption('--seed'))
    .option('--fsw <file.wasm>', 'flight-software module (default: the reference build)')
    .option('--harden <name>', `fly the flight software hardened: ${HARDENING_NAMES.join(' | ')}`)
    .option('--spare <mode>', 'hot | cold | none')
    .option('--redundancy <kind>', 'pair (two cores in lock-step per processor) | tmr (three cores voting, P4 their spare)')
    .option('--no-lockstep', 'one core per processor, no comparator: with --spare none, what a campaign\'s single configuration flies')
    .option('--no-state-compare', 'compare only the cores\' outputs, not their whole state')
    .option('--clock-hz <n>', 'modelled CPU speed, instructions per second', numberOption('--clock-hz'))
    .option('--checkpoint-interval <cycles>', 'cycles per checkpoint epoch (state compared and committed at its end)', integerOption('--checkpoint-interval'))
    .option('--replication <mode>', 'how the persistent region reaches the other processor: sync | async | off')
    .option('--reintegration <mode>', 'how a failed processor comes back as spare over the link: precopy | stop-and-copy | instant')
    .option('--link-bandwidth <bytes/s>', 'payload bytes per second of the cross-strap link between the processors', numberOption('--link-bandwidth'))
    .option('--link-compression <mode>', 'how commits cross the link: predictive | xor-zero-run | none')
    .option('--upsets <n>', 'random upsets spread uniformly over the mission (default 20)', integerOption('--upsets'))
    .option('--upset-rate <r>', 'random upsets as a Poisson process, per bit per day', numberOption('--upset-rate'))
    .option('--upset-file <file>', 'scripted upsets (JSON)')
    .option('--upset-targets <list>', `where random upsets strike: ${RANDOM_TARGETS.join(',')}`, listOption)
    .option('--upset-width <bits>', 'adjacent bits flipped per random upset', integerOption('--upset-width'))
    .option('--upset-kinds <list>', 'what a random upset in a core does, drawn among: flip,stuck,dead,babbling (default flip)', listOption)
    .option('--realtime [factor]', 'start each cycle on its wall-clock period boundary (factor: simulated seconds per second, default 1) and report latency, jitter and overruns', realTimeFactor);
}

function realTimeFactor(value: string): number {
  const factor = Number(value);
  if (!(factor > 0 && factor <= 1000)) throw new UsageError(`--realtime: "${value}" is not a speed-up factor between 0 and 1000 (1: real time)`);
  return factor;
}

/** The speed-up factor --realtime asked for, or undefined when the flight runs as fast as it goes. */
export function realTimeFactorOf(options: MissionOptions): number | undefined {
  return options.realtime === undefined || options.realtime === false ? undefined : options.realtime === true ? 1 : options.realtime;
}

/** The mission the options describe, validated (a mission file's fields, overridden by the command line's). */
export function missionOf(options: MissionOptions): Mission {
  const given = [options.upsets, options.upsetRate, options.upsetFile].filter((value) => value !== undefined).length;
  if (given > 1) throw new UsageError('give only one of --upsets, --upset-rate and --upset-file');
  return parseMission(missionInputOf(options), options.config ?? 'command line');
}

function missionInputOf(options: MissionOptions): MissionInput {
  const base: Record<string, unknown> = options.config ? { ...(readMissionFile(options.config) as object) } : {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) base[key] = value;
  };
  set('scenario', options.scenario);
  set('duration', options.duration);
  set('seed', options.seed);
  set('fsw', options.fsw);
  set('spare', options.spare);
  set('redundancy', options.redundancy);
  set('harden', options.harden);
  if (options.stateCompare === false) base.compareState = false;
  if (options.lockstep === false) base.lockstep = false;
  set('clockHz', options.clockHz);
  set('checkpointInterval', options.checkpointInterval);
  if (options.replication !== undefined) base.persistentStore = { ...((base.persistentStore as object | undefined) ?? {}), replication: options.replication };
  set('reintegration', options.reintegration);
  if (options.linkBandwidth !== undefined || options.linkCompression !== undefined) {
    const link: Record<string, unknown> = { ...((base.link as object | undefined) ?? {}) };
    if (options.linkBandwidth !== undefined) link.bandwidthBytesPerSecond = options.linkBandwidth;
    if (options.linkCompression !== undefined) link.compression = options.linkCompression;
    base.link = link;
  }
  const upsetChoice =
    options.upsets !== undefined ? { count: options.upsets } : options.upsetRate !== undefined ? { ratePerBitPerDay: options.upsetRate } : options.upsetFile !== undefined ? { file: options.upsetFile } : null;
  if (upsetChoice || options.upsetTargets || options.upsetWidth !== undefined || options.upsetKinds) {
    const upsets: Record<string, unknown> = { ...((base.upsets as object | undefined) ?? {}) };
    if (upsetChoice) {
      delete upsets.count;
      delete upsets.ratePerBitPerDay;
      delete upsets.file;
      Object.assign(upsets, upsetChoice);
    }
    if (options.upsetTargets) upsets.targets = options.upsetTargets;
    if (options.upsetWidth !== undefined) upsets.width = options.upsetWidth;
    if (options.upsetKinds !== undefined) upsets.kinds = options.upsetKinds;
    base.upsets = upsets;
  }
  return base as MissionInput;
}
