// `lockstep fly`: options → mission (validated by the mission schema) → the faulty run and its
// fault-free reference → a live progress line, the human summary, --json / --telemetry / --junit / --report files,
// and a non-zero exit when a requirement is not met (the CI gates).
import type { Command } from 'commander';
import { prepareFlight } from '../mission/fly.js';
import { jsonText, OutputSet } from '../output/files.js';
import { FlightSeriesRecorder } from '../reports/html/flight-series.js';
import { flightReportHtml } from '../reports/html/flight-report.js';
import { reportAssets } from '../reports/html/page.js';
import { TelemetryCsv } from '../reports/telemetry.js';
import { flyMission } from '../reports/flight.js';
import { formatFlightSummary } from '../reports/flight-summary.js';
import { junitXml } from '../reports/junit.js';
import { addGateOptions, enforce, gatesOf, type GateCommandOptions } from './gate-options.js';
import { addMissionOptions, missionOf, realTimeFactorOf, type MissionOptions } from './mission-options.js';
import { ProgressLine } from './progress.js';

interface FlyOptions extends MissionOptions, GateCommandOptions {
  json?: string;
  telemetry?: string;
  report?: string;
  quiet?: boolean;
}

export function registerFly(program: Command): void {
  addGateOptions(
    addMissionOptions(program.command('fly').description('fly a mission: the flight computer in the loop with the spacecraft, upsets injected, summary at the end'))
      .option('--json <file>', 'write the summary as JSON')
      .option('--telemetry <file.csv>', 'write one row per cycle')
      .option('--report <file.html>', 'write an HTML report: pointing error with upsets, detections, failovers and controller states, cycle time against the deadline, the summary'),
  )
    .option('--quiet', 'no progress line and no summary on stdout')
    .action((options: FlyOptions) => flyAction(options));
}

function flyAction(options: FlyOptions): void {
  const mission = missionOf(options);
  const gates = gatesOf(options);
  const setup = prepareFlight(mission, undefined, options.config ?? 'command line');
  // Every output is opened before the first cycle: a path that cannot be written is refused now, and so
  // is a report whose pieces (uPlot, assets/report/) are missing.
  if (options.report) reportAssets();
  const outputs = new OutputSet([
    options.json ? { option: '--json', path: options.json } : null,
    options.telemetry ? { option: '--telemetry', path: options.telemetry } : null,
    options.junit ? { option: '--junit', path: options.junit } : null,
    options.report ? { option: '--report', path: options.report } : null,
  ]);
  const text = outputs.usesStandardOutput ? process.stderr : process.stdout;
  const summary = outputs.produce(() => {
    const progress = new ProgressLine(!options.quiet);
    const telemetryFile = outputs.get('--telemetry');
    const telemetry = telemetryFile ? new TelemetryCsv(telemetryFile, setup.flightModule.debugOutputs.map((output) => output.name)) : null;
    const reportFile = outputs.get('--report');
    const recorder = reportFile ? new FlightSeriesRecorder() : null;
    let flight;
    try {
      flight = flyMission(setup, {
        ...gates,
        onProgress: (phase, cycle, cycles) => progress.update(phase === 'fault-free' ? `fault-free reference ${cycle}/${cycles}` : `flying ${cycle}/${cycles} cycles`),
        onTelemetry:
          telemetry || recorder
            ? (row) => {
                telemetry?.add(row);
                recorder?.add(row);
              }
            : undefined,
        realTimeFactor: realTimeFactorOf(options),
      });
    } finally {
      progress.done();
    }
    telemetry?.flush();
    outputs.get('--json')?.write(jsonText(flight));
    if (reportFile && recorder) reportFile.write(flightReportHtml(flight, recorder.series()));
    outputs
      .get('--junit')
      ?.write(junitXml({ name: 'lockstep fly', classname: 'lockstep.fly', properties: { scenario: flight.scenario, seed: flight.seed, fsw: flight.fsw, spare: flight.spare, cycles: flight.cycles, upsetsInjected: flight.upsetsInjected }, verdicts: flight.requirements }));
    return flight;
  });
  if (!options.quiet) text.write(`${formatFlightSummary(summary)}\n`);
  // The outputs are the record of the flight, written whether or not it met its requirements.
  enforce(summary.requirements);
}
