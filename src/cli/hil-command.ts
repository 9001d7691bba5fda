// `lockstep hil`: the flight computer as NASA 42's flight software. By default it builds 42 (cached) from
// a source tree, starts it on lockstep's reference case (or --case), flies the mission over 42's socket,
// stops it and writes the summary judged from 42's truth; --connect flies against a 42 already running.
// A run that breaks off still writes the summary of the cycles flown, marked incomplete, and exits with
// the code of what broke it.
import type { Command } from 'commander';
import { flyWithNasa42, type HilOptions } from '../hil/hil.js';
import { prepareFlight } from '../mission/fly.js';
import { jsonText, OutputSet } from '../output/files.js';
import { formatHilSummary, summarizeHil } from '../reports/hil-summary.js';
import { junitXml } from '../reports/junit.js';
import { UsageError } from './errors.js';
import { addGateOptions, enforce, gatesOf, type GateCommandOptions } from './gate-options.js';
import { addMissionOptions, missionOf, realTimeFactorOf, type MissionOptions } from './mission-options.js';
import { integerOption } from './options.js';
import { ProgressLine } from './progress.js';

interface HilCommandOptions extends MissionOptions, GateCommandOptions {
  nasa42?: string;
  case?: string;
  runDir?: string;
  connect?: string;
  truth?: string;
  spacecraft?: number;
  json?: string;
  quiet?: boolean;
}

export function registerHil(program: Command): void {
  addGateOptions(addMissionOptions(program.command('hil').description('fly the flight computer as NASA 42\'s flight software (hardware-in-the-loop), judged from 42\'s truth'))
    .option('--nasa42 <dir>', '42\'s source tree, built (cached) and started by lockstep (default: ../shared/nasa42 beside the project)')
    .option('--case <dir>', 'the 42 sim case (default: lockstep\'s reference spacecraft, nasa42/lockstep-reference)')
    .option('--run-dir <dir>', 'a new or empty folder where 42 runs and writes its truth (kept; default: a temporary one)')
    .option('--connect <[host:]port>', 'fly against a 42 already running, instead of starting one')
    .option('--truth <dir>', 'with --connect: the folder where that 42 writes its truth files')
    .option('--spacecraft <index>', 'the spacecraft of the case lockstep flies (its port is 10001 + index)', integerOption('--spacecraft', 0), 0)
    .option('--json <file>', 'write the summary as JSON (written also when the run breaks off, marked incomplete)'))
    .option('--quiet', 'no progress line and no summary on stdout')
    .action((options: HilCommandOptions) => hilAction(options));
}

function peerOf(options: HilCommandOptions): HilOptions['nasa42'] {
  if (options.connect === undefined) {
    if (options.truth !== undefined) throw new UsageError('--truth: only with --connect (lockstep reads the truth of the 42 it starts itself)');
    return { source: options.nasa42, caseDir: options.case, runDir: options.runDir };
  }
  if (options.nasa42 !== undefined || options.case !== undefined || options.runDir !== undefined) throw new UsageError('--connect: give it alone, without --nasa42, --case or --run-dir (those start a 42 of lockstep\'s own)');
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(options.connect);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port < 1 || port > 65535) throw new UsageError(`--connect: "${options.connect}" is not [host:]port`);
  return { host: match[1], port, truthDir: options.truth };
}

async function hilAction(options: HilCommandOptions): Promise<void> {
  const mission = missionOf(options);
  const peer = peerOf(options);
  const gates = gatesOf(options);
  const setup = prepareFlight(mission, undefined, options.config ?? 'command line');
  const outputs = new OutputSet([options.json ? { option: '--json', path: options.json } : null, options.junit ? { option: '--junit', path: options.junit } : null]);
  const text = outputs.usesStandardOutput ? process.stderr : process.stdout;
  const progress = new ProgressLine(!options.quiet);
  let hil;
  try {
    hil = await flyWithNasa42({ setup, nasa42: peer, realTimeFactor: realTimeFactorOf(options), spacecraft: options.spacecraft, onProgress: (cycle) => progress.update(`flying with 42: ${cycle}/${setup.cycles} cycles`) });
  } catch (error) {
    outputs.discard();
    throw error;
  } finally {
    progress.done();
  }
  const summary = summarizeHil(setup, hil, gates);
  // The summary is the record of what was flown, whole or broken off: it is written either way.
  outputs.produce(() => {
    outputs.get('--json')?.write(jsonText(summary));
    outputs
      .get('--junit')
      ?.write(junitXml({ name: 'lockstep hil', classname: 'lockstep.hil', properties: { simulator: '42', seed: summary.seed, fsw: summary.fsw, spare: summary.spare, cycles: summary.cycles, complete: summary.complete }, verdicts: summary.requirements }));
  });
  if (!options.quiet) text.write(`${formatHilSummary(summary)}\n`);
  // A run that broke off exits with the code of what broke it; its requirements were not judged.
  if (hil.failure) throw hil.failure;
  enforce(summary.requirements);
}
