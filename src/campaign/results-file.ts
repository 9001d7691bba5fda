// The campaign's result file: JSON Lines, a header naming the campaign (its spec and fingerprint, the plan
// of experiments and shard, and what the summary needs of the golden run: the fault space and the hardened
// builds' runtime ratios), then one record per experiment, appended and flushed as results come. It is
// evidence, so it is never silently wrong:
// - one run writes it at a time (an exclusive lock beside it);
// - every append is written whole or reported (a full disk is an output error, not a short file);
// - a killed run leaves at most one partial last line, which --resume cuts off before appending, and a run
//   killed as it created the file leaves an incomplete header, from which --resume starts over;
// - reading it, a row that cannot belong to the campaign (an index outside the plan or the shard, a target
//   or configuration it does not have) refuses the file, naming the line; a row repeated is counted once,
//   through the same collector that merges shards, and a row repeated with another result refuses it.
import { closeSync, fsyncSync, openSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describeWriteError, OutputError, OutputFile, writeFully } from '../output/files.js';
import { FileLock } from '../output/lock.js';
import type { HardeningName } from '../hardenings.js';
import { CONFIGS, OUTCOMES, TARGETS, type ExperimentRecord } from './experiment.js';
import { CAMPAIGN_IDENTITY, fingerprintOf, SPEC_VERSION, VARIANT_ORDER, type CampaignSpec } from './context.js';
import { ATTRIBUTED_TARGETS, firstBuildOf, siteTableProblem, type SiteTable } from './attribution.js';

export class ResultsFileError extends Error {}

/** Result files that leave experiments of their campaign's plan out, where a whole campaign was asked for. */
export class IncompleteResultsError extends Error {}

/** Which experiments a file is to hold: indices below `experiments`, every `shard.count`-th from `shard.index`. */
export interface CampaignPlan {
  readonly experiments: number;
  readonly shard: { readonly index: number; readonly count: number };
}

/** The fault space the rates are per, as the summary reports it (from the golden run). */
export interface FaultSpaceReport {
  readonly memoryRange: string;
  readonly memoryBitsPerCore: number;
  readonly [target: string]: unknown;
}

export interface ResultsHeader {
  readonly lockstep: 'campaign';
  readonly version: number;
  readonly fingerprint: string;
  readonly spec: CampaignSpec;
  readonly plan: CampaignPlan;
  readonly faultSpace: FaultSpaceReport;
  /** Modelled runtime of each hardened build over the plain one (for MWTF). */
  readonly runtimeRatios: Partial<Record<HardeningName, number>>;
  /**
   * Campaigns with result or branch targets: the function (and source line) of each fault-hook site of
   * each build, which rows' `site` index. Absent in files written before lockstep recorded sites: those
   * are read as before, without attribution to functions.
   */
  readonly sites?: SiteTable;
}

export interface ResultsContents {
  readonly header: ResultsHeader;
  /** Every experiment once, by index. */
  readonly records: ExperimentRecord[];
  /** Rows that repeated an experiment already read (the same result): counted once. */
  readonly duplicates: number;
  /** Bytes of complete lines: a resumed run appends after them. */
  readonly completeBytes: number;
}

/** Experiments gathered from result files (or runs) by index: each once; another result for one is refused. */
export class RecordCollector {
  private readonly byIndex = new Map<number, { record: ExperimentRecord; text: string; where: string }>();
  duplicates = 0;

  add(record: ExperimentRecord, where: string, text = JSON.stringify(record)): void {
    const seen = this.byIndex.get(record.index);
    if (seen) {
      if (seen.text !== text) throw new ResultsFileError(`${where}: experiment ${record.index} has another result than at ${seen.where} (a different lockstep version, or an edited file?)`);
      this.duplicates++;
      return;
    }
    this.byIndex.set(record.index, { record, text, where });
  }

  has(index: number): boolean {
    return this.byIndex.has(index);
  }

  get size(): number {
    return this.byIndex.size;
  }

  /** The records in experiment order. */
  records(): ExperimentRecord[] {
    return [...this.byIndex.values()].map((entry) => entry.record).sort((a, b) => a.index - b.index);
  }
}

/** Why a row cannot belong to the campaign of `header`, or null when it can. */
function rowProblem(value: unknown, header: ResultsHeader): string | null {
  if (!value || typeof value !== 'object') return 'is not an experiment record';
  const record = value as Record<string, unknown>;
  if (!Number.isSafeInteger(record.index)) return 'is not an experiment record (no whole index)';
  const index = record.index as number;
  const { experiments, shard } = header.plan;
  if (index < 0 || index >= experiments) return `holds experiment ${index}, outside the campaign's ${experiments} (0 to ${experiments - 1})`;
  if (index % shard.count !== shard.index) return `holds experiment ${index}, which is not in shard ${shard.index}/${shard.count} (another shard's row)`;
  if (!TARGETS.includes(record.target as never)) return 'is not an experiment record (no known target)';
  if (!header.spec.targets.includes(record.target as never)) return `holds a ${String(record.target)} experiment; the campaign strikes ${header.spec.targets.join(', ')}`;
  if (typeof record.outcomes !== 'object' || !record.outcomes) return 'is not an experiment record (no outcomes)';
  for (const [config, outcome] of Object.entries(record.outcomes as Record<string, { outcome?: string }>)) {
    if (!CONFIGS.includes(config as never) || !header.spec.configs.includes(config as never)) return `has an outcome for configuration "${config}", which the campaign does not judge (${header.spec.configs.join(', ')})`;
    if (!OUTCOMES.includes(outcome?.outcome as never)) return `has an unknown outcome for ${config}`;
  }
  return siteProblem(record, header);
}

/** Why a row's fault sites (`site`, `variants.<v>.site`) cannot be sites of the campaign's builds, or null. */
function siteProblem(record: Record<string, unknown>, header: ResultsHeader): string | null {
  const variants = (record.variants ?? {}) as Record<string, { site?: unknown } | undefined>;
  const first = firstBuildOf(header.spec.configs, VARIANT_ORDER);
  const claims: Array<[string, unknown, string]> = [['site', record.site, first], ...Object.entries(variants).map(([variant, entry]): [string, unknown, string] => [`variants.${variant}.site`, entry?.site, variant])];
  for (const [field, site, variant] of claims) {
    if (site === undefined) continue;
    if (!ATTRIBUTED_TARGETS.includes(record.target as never)) return `has a ${field} on a ${String(record.target)} experiment (only result and branch faults strike a site)`;
    const sites = header.sites?.builds[variant as keyof SiteTable['builds']];
    if (!Number.isSafeInteger(site) || (site as number) < 0 || (sites !== undefined && (site as number) >= sites.length)) {
      return `has ${field} ${JSON.stringify(site)}, not a fault site of the ${variant} build${sites ? ` (0 to ${sites.length - 1})` : ''}`;
    }
  }
  return null;
}

/** A file with no complete header: a run killed as it created the file. --resume starts such a file over. */
export class IncompleteHeaderError extends ResultsFileError {}

function parseHeader(path: string, line: string | undefined): ResultsHeader {
  let header: ResultsHeader;
  try {
    header = JSON.parse(line ?? '') as ResultsHeader;
  } catch {
    throw new ResultsFileError(`${path}: not a lockstep campaign result file (its first line is not a campaign header)`);
  }
  if (header?.lockstep !== 'campaign' || typeof header.fingerprint !== 'string' || !header.spec) {
    throw new ResultsFileError(`${path}: not a lockstep campaign result file (its first line is not a campaign header)`);
  }
  if (header.version !== SPEC_VERSION) throw new ResultsFileError(`${path}: written by result-file version ${header.version}; this lockstep reads version ${SPEC_VERSION}`);
  if (fingerprintOf(header.spec) !== header.fingerprint) throw new ResultsFileError(`${path}: its header's fingerprint does not match its spec (edited by hand?)`);
  const plan = header.plan;
  if (!plan || !Number.isSafeInteger(plan.experiments) || plan.experiments < 1 || !plan.shard || !Number.isSafeInteger(plan.shard.count) || plan.shard.count < 1 || !Number.isSafeInteger(plan.shard.index) || plan.shard.index < 0 || plan.shard.index >= plan.shard.count) {
    throw new ResultsFileError(`${path}: its header has no valid plan of experiments`);
  }
  if (header.sites !== undefined) {
    const problem = siteTableProblem(header.sites);
    if (problem) throw new ResultsFileError(`${path}: its header's sites ${problem}`);
  }
  return header;
}

/** Reads a result file: its header and its complete rows, checked and each experiment once; a partial last line is ignored. */
export function readResults(path: string): ResultsContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ResultsFileError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const lastNewline = text.lastIndexOf('\n');
  if (lastNewline < 0) throw new IncompleteHeaderError(`${path}: has no complete campaign header (a run killed as it created the file?)`);
  const complete = text.slice(0, lastNewline);
  const lines = complete.split('\n');
  const header = parseHeader(path, lines[0]);
  const collector = new RecordCollector();
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(lines[i]);
    } catch {
      throw new ResultsFileError(`${path}: line ${i + 1} is not JSON (a torn row in the middle of the file)`);
    }
    const problem = rowProblem(record, header);
    if (problem) throw new ResultsFileError(`${path}: line ${i + 1} ${problem}`);
    collector.add(record as ExperimentRecord, `${path}: line ${i + 1}`, lines[i]);
  }
  return { header, records: collector.records(), duplicates: collector.duplicates, completeBytes: Buffer.byteLength(complete, 'utf8') + 1 };
}

/** Whether a path holds a file (not a directory); refuses a directory. */
function existingFile(path: string): boolean {
  try {
    if (statSync(path).isDirectory()) throw new OutputError(`${path}: is a directory; name the result file to write (e.g. ${join(path, 'campaign.jsonl')})`);
    return true;
  } catch (error) {
    if (error instanceof OutputError) throw error;
    return false;
  }
}

export interface OpenResultsOptions {
  /** Continue the file if it exists. */
  readonly resume: boolean;
  /** Replace the file if it exists. */
  readonly force: boolean;
}

/**
 * A campaign's result file, locked for this run from before the golden run is recorded until the run ends:
 * `prepare` checks the path and reads what a resumed run continues; `start` writes the header (or checks
 * the existing one) once the campaign's plan and fault space are known.
 */
export class ResultsFile {
  private fd: number | null = null;

  private constructor(
    readonly path: string,
    private readonly lock: FileLock,
    /** What the file held, when it is resumed. */
    readonly existing: ResultsContents | null,
    private readonly options: OpenResultsOptions,
  ) {}

  static prepare(path: string, options: OpenResultsOptions): ResultsFile {
    const exists = existingFile(path);
    if (exists && !options.resume && !options.force) throw new OutputError(`${path}: exists already (--resume continues it, --force replaces it)`);
    const lock = FileLock.acquire(path);
    try {
      let existing: ResultsContents | null = null;
      if (exists && options.resume) {
        try {
          existing = readResults(path);
        } catch (error) {
          // Killed as it created the file: nothing of the campaign is in it yet, so it starts over.
          if (!(error instanceof IncompleteHeaderError)) throw error;
        }
      }
      return new ResultsFile(path, lock, existing, options);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Starts writing: a new file gets `header`; a resumed one must hold the same campaign and shard, and is
   * cut after its last complete row. A resumed file may be extended to more experiments (its header is
   * rewritten), never shrunk below what it holds.
   */
  start(newHeader: ResultsHeader): void {
    const existing = this.existing;
    if (!existing) {
      this.createWith(newHeader, []);
      return;
    }
    const old = existing.header;
    // A file written before sites were recorded stays without them: its old rows name none, so the
    // campaign is not attributed to functions rather than attributed in part.
    const { sites: _sites, ...withoutSites } = newHeader;
    const header: ResultsHeader = old.sites === undefined ? withoutSites : newHeader;
    if (old.fingerprint !== header.fingerprint) {
      throw new ResultsFileError(`${this.path}: holds another campaign (different ${CAMPAIGN_IDENTITY}); not resumed, left untouched`);
    }
    if (old.plan.shard.index !== header.plan.shard.index || old.plan.shard.count !== header.plan.shard.count) {
      throw new ResultsFileError(`${this.path}: holds shard ${old.plan.shard.index}/${old.plan.shard.count}, not ${header.plan.shard.index}/${header.plan.shard.count}; not resumed, left untouched`);
    }
    if (header.plan.experiments < old.plan.experiments) {
      throw new ResultsFileError(`${this.path}: plans ${old.plan.experiments} experiments; resume it with --experiments ${old.plan.experiments} (or more, to extend it), not ${header.plan.experiments}`);
    }
    if (header.plan.experiments > old.plan.experiments || existing.duplicates > 0) {
      // The header changes, or repeated rows go: the file is rewritten whole, atomically, with its rows once.
      this.closeFd();
      this.createWith(header, existing.records);
      return;
    }
    try {
      truncateSync(this.path, existing.completeBytes);
      this.fd = openSync(this.path, 'a');
    } catch (error) {
      throw new OutputError(`${this.path}: cannot be written (${describeWriteError(error)})`);
    }
  }

  private createWith(header: ResultsHeader, records: readonly ExperimentRecord[]): void {
    const file = OutputFile.open(this.path);
    try {
      file.write(`${JSON.stringify(header)}\n`);
      if (records.length > 0) file.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    } catch (error) {
      file.discard();
      throw error;
    }
    file.commit();
    try {
      this.fd = openSync(this.path, 'a');
    } catch (error) {
      throw new OutputError(`${this.path}: cannot be written (${describeWriteError(error)})`);
    }
  }

  /** Appends rows, whole, flushed to disk; a failure (a full disk) is an output error, never a short file. */
  append(records: readonly ExperimentRecord[]): void {
    if (records.length === 0) return;
    if (this.fd === null) throw new Error('results file: append before start');
    try {
      writeFully(this.fd, Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''), 'utf8'));
      fsyncSync(this.fd);
    } catch (error) {
      throw new OutputError(`${this.path}: cannot be written (${describeWriteError(error)}); the rows before this batch are kept, and --resume continues from them`);
    }
  }

  private closeFd(): void {
    if (this.fd !== null) {
      const fd = this.fd;
      this.fd = null;
      closeSync(fd);
    }
  }

  /** Closes the file and releases its lock. */
  close(): void {
    try {
      this.closeFd();
    } finally {
      this.lock.release();
    }
  }

  get force(): boolean {
    return this.options.force;
  }
}

/** A whole result file's text (merge writes one at once): the header and the rows, one per line. */
export function resultsText(header: ResultsHeader, records: readonly ExperimentRecord[]): string {
  return `${JSON.stringify(header)}\n${records.map((record) => `${JSON.stringify(record)}\n`).join('')}`;
}
