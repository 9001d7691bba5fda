// `lockstep fly`: options → mission (validated by the mission schema) → the faulty run and its
// fault-free reference → a live progress line, the human summary, and --json / --telemetry files.
import type { Command } from 'commander';
import { simulateFaultFree } from '../mission/fault-free.js';
import { prepareFlight, simulate } from '../mission/fly.js';
import { jsonText, OutputSet } from '../output/files.js';
import { TelemetryCsv } from '../reports/telemetry.js';
import { formatFlightSummary, summarizeFlight } from '../reports/flight-summary.js';
import { addMissionOptions, missionOf, realTimeFactorOf, type MissionOptions } from './mission-options.js';
import { ProgressLine } from './progress.js';

interface FlyOptions extends MissionOptions {
  json?: string;
  telemetry?: string;
  quiet?: boolean;
}

export function registerFly(program: Command): void {
  addMissionOptions(program.command('fly').description('fly a mission: the flight computer in the loop with the spacecraft, upsets injected, summary at the end'))
    .option('--json <file>', 'write the summary as JSON')
    .option('--telemetry <file.csv>', 'write one row per cycle')
    .option('--quiet', 'no progress line and no summary on stdout')
    .action((options: FlyOptions) => flyAction(options));
}

function flyAction(options: FlyOptions): void {
  const mission = missionOf(options);
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
        realTimeFactor: realTimeFactorOf(options),
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
