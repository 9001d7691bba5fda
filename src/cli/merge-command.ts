// `lockstep merge`: joins the result files of a campaign's shards (or of interrupted and resumed runs)
// into one campaign: it refuses files of different campaigns, checks that an experiment present in two
// files has the same record in both, and prints (and writes) the table of the whole.
import type { Command } from 'commander';
import type { ExperimentRecord } from '../campaign/experiment.js';
import { readResults, ResultsFileError, ResultsWriter } from '../campaign/results-file.js';
import { formatSummary, summarize } from '../campaign/summary.js';
import { writeJson } from '../output/files.js';

interface MergeOptions {
  out?: string;
  force?: boolean;
  json?: string;
  quiet?: boolean;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the result files of a campaign\'s shards into one campaign and print its table')
    .argument('<files...>', 'result files (JSON Lines) of one campaign')
    .option('--out <file.jsonl>', 'write the merged records, in experiment order')
    .option('--force', 'replace an existing --out file')
    .option('--json <file>', 'write the summary as JSON')
    .option('--quiet', 'no table')
    .action((files: string[], options: MergeOptions) => mergeAction(files, options));
}

function mergeAction(files: string[], options: MergeOptions): void {
  const contents = files.map((file) => ({ file, ...readResults(file) }));
  const first = contents[0];
  for (const other of contents.slice(1)) {
    if (other.fingerprint !== first.fingerprint) {
      throw new ResultsFileError(`${other.file}: holds another campaign than ${first.file} (different flight software, mission, seed, targets, configurations, horizon or width)`);
    }
  }
  const byIndex = new Map<number, ExperimentRecord>();
  for (const { file, records } of contents) {
    for (const record of records) {
      const seen = byIndex.get(record.index);
      if (seen && JSON.stringify(seen) !== JSON.stringify(record)) {
        throw new ResultsFileError(`${file}: experiment ${record.index} has another result than in an earlier file (a different lockstep version?)`);
      }
      byIndex.set(record.index, record);
    }
  }
  const records = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const spec = first.spec;
  if (options.out) {
    // The merged file is a result file of the same campaign: it names the same flight software.
    const writer = ResultsWriter.create(options.out, spec, Boolean(options.force), '--force replaces it');
    writer.append(records);
    writer.close();
  }
  const summary = summarize(records, spec.configs, spec.targets);
  const missing = records.length > 0 ? records[records.length - 1].index + 1 - records.length : 0;
  if (options.json) {
    writeJson(options.json, { experiments: records.length, files: files.length, seed: spec.seed, targets: spec.targets, horizon: spec.horizon, width: spec.width, configs: summary.configs });
  }
  if (!options.quiet) {
    process.stdout.write(
      `lockstep merge — ${records.length} experiments from ${files.length} file(s)${missing > 0 ? `, ${missing} missing below the highest index` : ''}, seed ${spec.seed}\n${formatSummary(summary)}\n`,
    );
  }
}

