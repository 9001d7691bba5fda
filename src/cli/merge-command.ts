// `lockstep merge`: joins the result files of a campaign's shards (or of interrupted and resumed runs)
// into one campaign: it refuses files of different campaigns, counts an experiment present in two files
// once (refusing two different results for it), and prints and writes the report a campaign run whole
// would, saying which experiments of the plan are missing. An incomplete merge is refused unless
// --allow-incomplete says the partial table is wanted.
import type { Command } from 'commander';
import { CAMPAIGN_IDENTITY } from '../campaign/context.js';
import { campaignReport, formatCampaignReport } from '../campaign/report.js';
import { IncompleteResultsError, readResults, RecordCollector, ResultsFileError, resultsText, type CampaignPlan, type ResultsHeader } from '../campaign/results-file.js';
import { existsSync } from 'node:fs';
import { jsonText, OutputError, OutputSet, type OutputRequest } from '../output/files.js';
import { FileLock } from '../output/lock.js';
import { campaignHeading, campaignReportHtml } from '../reports/html/campaign-report.js';
import { reportAssets } from '../reports/html/page.js';

interface MergeOptions {
  out?: string;
  force?: boolean;
  json?: string;
  report?: string;
  quiet?: boolean;
  allowIncomplete?: boolean;
}

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('join the result files of a campaign\'s shards into one campaign and print its table')
    .argument('<files...>', 'result files (JSON Lines) of one campaign')
    .option('--out <file.jsonl>', 'write the merged records, in experiment order')
    .option('--force', 'replace an existing --out file')
    .option('--json <file>', 'write the summary as JSON')
    .option('--report <file.html>', 'write an HTML report: outcome rates with their 95% intervals, detection latency, MWTF')
    .option('--allow-incomplete', 'merge even when experiments of the plan are missing (the report says which)')
    .option('--quiet', 'no table')
    .action((files: string[], options: MergeOptions) => mergeAction(files, options));
}

function mergeAction(files: string[], options: MergeOptions): void {
  const requests: OutputRequest[] = [
    ...(options.out ? [{ option: '--out', path: options.out }] : []),
    ...(options.json ? [{ option: '--json', path: options.json }] : []),
    ...(options.report ? [{ option: '--report', path: options.report }] : []),
  ];
  if (options.out && existsSync(options.out) && !options.force) throw new OutputError(`${options.out}: exists already (--force replaces it)`);
  // An input is never an output: the merge must not overwrite a shard it reads.
  const inputs = files.map((file, i) => ({ option: `input ${i + 1}`, path: file }));
  const lock = options.out ? FileLock.acquire(options.out) : null;
  try {
    if (options.report) reportAssets();
    const outputs = new OutputSet(requests, inputs);
    outputs.produce(() => merge(files, options, outputs));
  } finally {
    lock?.release();
  }
}

function merge(files: string[], options: MergeOptions, outputs: OutputSet): void {
  const contents = files.map((file) => ({ file, ...readResults(file) }));
  const first = contents[0];
  for (const other of contents.slice(1)) {
    if (other.header.fingerprint !== first.header.fingerprint) {
      throw new ResultsFileError(`${other.file}: holds another campaign than ${first.file} (different ${CAMPAIGN_IDENTITY})`);
    }
  }
  const collector = new RecordCollector();
  for (const { file, records } of contents) for (const record of records) collector.add(record, file);
  const records = collector.records();
  // The plan of the whole: the largest any file names; the shards the files are (all of them, if one is whole).
  const shards = uniqueShards(contents.map((content) => content.header.plan.shard));
  const plan: CampaignPlan = { experiments: Math.max(...contents.map((content) => content.header.plan.experiments)), shard: { index: 0, count: 1 } };
  const header: ResultsHeader = { ...first.header, plan };
  // Complete means every experiment of the plan: shards the files do not cover count as missing.
  const { report, summary } = campaignReport(header, records);
  const incomplete = !report.complete && !coversAll(shards) ? ` (the files are shards ${shards.map((shard) => `${shard.index}/${shard.count}`).join(', ')}; others are missing)` : '';
  if (!report.complete && !options.allowIncomplete) {
    const ranges = report.missing.ranges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
    const listed = report.missing.ranges.reduce((sum, [a, b]) => sum + b - a + 1, 0);
    throw new IncompleteResultsError(
      `${report.missing.count} of the campaign's ${plan.experiments} experiments are missing from the files (${ranges}${report.missing.count > listed ? ', …' : ''})${incomplete}; merge the missing shards, resume the interrupted runs, or give --allow-incomplete for the partial table`,
    );
  }
  const out = outputs.get('--out');
  if (out) out.write(resultsText({ ...header, plan: coversAll(shards) ? plan : { ...plan, shard: shards.length === 1 ? shards[0] : plan.shard } }, records));
  const merged = { ...report, files: files.length, duplicates: collector.duplicates + contents.reduce((sum, content) => sum + content.duplicates, 0) };
  outputs.get('--json')?.write(jsonText(merged));
  // The page of the campaign run whole: a merged campaign reports exactly what it would.
  outputs.get('--report')?.write(campaignReportHtml({ report, summary, records, requirements: [], heading: campaignHeading(report) }));
  if (!options.quiet) {
    process.stdout.write(`lockstep merge — ${records.length} experiments from ${files.length} file(s), seed ${report.seed}\n${formatCampaignReport(report, summary)}\n`);
  }
}

function uniqueShards(shards: readonly CampaignPlan['shard'][]): CampaignPlan['shard'][] {
  const seen = new Map<string, CampaignPlan['shard']>();
  for (const shard of shards) seen.set(`${shard.index}/${shard.count}`, shard);
  return [...seen.values()];
}

/** Whether the shards together name every experiment: one whole file, or every shard of one count. */
function coversAll(shards: readonly CampaignPlan['shard'][]): boolean {
  if (shards.some((shard) => shard.count === 1)) return true;
  const count = shards[0]?.count;
  return count !== undefined && shards.every((shard) => shard.count === count) && new Set(shards.map((shard) => shard.index)).size === count;
}
