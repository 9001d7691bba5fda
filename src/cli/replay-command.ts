// `lockstep replay FILE.jsonl --index I`: re-runs one experiment of a campaign alone and explains it —
// where the fault struck, what the faulty core did cycle by cycle, when and how it was detected or why
// it was masked — and checks that the result equals the stored record.
import type { Command } from 'commander';
import { CampaignContext, fingerprintOf } from '../campaign/context.js';
import { readResults, ResultsFileError } from '../campaign/results-file.js';
import type { ExperimentRecord } from '../campaign/experiment.js';
import { describeDetection } from '../computer/flight-computer.js';
import { describeFault, describeFaultTime } from '../faults/describe.js';
import { integerOption } from './options.js';

interface ReplayOptions {
  index: number;
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('re-run one experiment of a campaign alone and explain what the fault did')
    .argument('<file.jsonl>', 'the campaign\'s result file')
    .requiredOption('--index <i>', 'the experiment\'s index', integerOption('--index', 0))
    .action((file: string, options: ReplayOptions) => replayAction(file, options));
}

/** A record without the fault sites it names, to compare it with a row of a file that records none. */
function withoutSites(record: ExperimentRecord): ExperimentRecord {
  const { site: _site, variants, ...rest } = record;
  if (!variants) return rest;
  return { ...rest, variants: Object.fromEntries(Object.entries(variants).map(([variant, entry]) => [variant, { location: entry!.location, bit: entry!.bit, width: entry!.width }])) };
}

function replayAction(file: string, options: ReplayOptions): void {
  const contents = readResults(file);
  const context = new CampaignContext(contents.header.spec);
  if (fingerprintOf(context.spec) !== contents.header.fingerprint) throw new ResultsFileError(`${file}: its campaign cannot be rebuilt here`);
  const experiment = context.experiment(options.index);
  const lines: string[] = [];
  for (const build of context.builds) {
    const label = context.builds.length > 1 ? `[${build.variant}] ` : '';
    build.runner.tracer = (cycle, event) => lines.push(`  cycle ${String(cycle).padStart(5)}  ${label}${event}`);
    build.runner.describeSite = (id) => {
      const site = build.faultSites[id];
      if (!site) return 'unknown site';
      const source = build.siteSources[id];
      const where = source?.file !== undefined ? ` at ${source.file}:${source.line}` : '';
      return `${site.kind === 'value' ? `${site.type} result of a ${site.instruction}` : `${site.type} of a ${site.instruction}`} in function ${site.function}${where}`;
    };
  }
  const record = context.run(options.index);
  for (const build of context.builds) build.runner.tracer = undefined;
  const stored = contents.records.find((candidate) => candidate.index === options.index);
  // A row written before lockstep recorded fault sites has none: the rest of it must still reproduce.
  const comparable = (row: ExperimentRecord) => (contents.header.sites === undefined ? withoutSites(row) : row);
  const reproduced = stored !== undefined && JSON.stringify(comparable(stored)) === JSON.stringify(comparable(record));
  const names = context.runner.module.stateGlobals.map((global) => global.name);
  const out = [
    `lockstep replay — experiment ${options.index} of ${file}`,
    `  fault         ${describeFault(experiment, names)}, ${describeFaultTime(experiment)}`,
    ...lines,
    '  outcomes',
    ...Object.entries(record.outcomes).map(
      ([config, outcome]) =>
        `    ${config.padEnd(11)} ${outcome.outcome}${outcome.cause ? ` by ${describeDetection({ cause: outcome.cause, mismatch: outcome.mismatch, trap: outcome.trap, abort: outcome.abort })}` : ''}${outcome.latency !== undefined ? `, after ${outcome.latency} cycle(s)` : ''}`,
    ),
    stored
      ? reproduced
        ? '  the stored record is reproduced exactly'
        : `  DIFFERS from the stored record: ${JSON.stringify(stored.outcomes)}`
      : '  (this experiment is not in the file: run by another shard, or not yet)',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (stored && !reproduced) throw new ResultsFileError(`${file}: experiment ${options.index} did not reproduce`);
}
