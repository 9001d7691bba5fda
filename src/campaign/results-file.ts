// The campaign's result file: JSON Lines, a header naming the campaign (its spec and fingerprint), then
// one record per experiment, appended and flushed as results come. A killed run leaves at most one
// partial last line, which --resume cuts off before appending; --resume and merge refuse a file whose
// fingerprint is another campaign's, and leave it untouched.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OutputError } from '../output/files.js';
import { CONFIGS, OUTCOMES, TARGETS, type ExperimentRecord } from './experiment.js';
import { fingerprintOf, SPEC_VERSION, type CampaignSpec } from './context.js';

export class ResultsFileError extends Error {}

interface Header {
  readonly lockstep: 'campaign';
  readonly version: number;
  readonly fingerprint: string;
  readonly spec: CampaignSpec;
}

export interface ResultsContents {
  readonly spec: CampaignSpec;
  readonly fingerprint: string;
  readonly records: ExperimentRecord[];
  /** Bytes of complete lines: a resumed run appends after them. */
  readonly completeBytes: number;
}

function isRecord(value: unknown): value is ExperimentRecord {
  if (!value || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  if (!Number.isInteger(record.index) || !TARGETS.includes(record.target as never) || typeof record.outcomes !== 'object' || !record.outcomes) return false;
  return Object.entries(record.outcomes as Record<string, { outcome?: string }>).every(
    ([config, outcome]) => CONFIGS.includes(config as never) && OUTCOMES.includes(outcome?.outcome as never),
  );
}

/** Reads a result file: its header, its complete records; a partial last line is ignored. */
export function readResults(path: string): ResultsContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ResultsFileError(`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline);
  const lines = complete.split('\n');
  let header: Header;
  try {
    header = JSON.parse(lines[0]) as Header;
  } catch {
    throw new ResultsFileError(`${path}: not a lockstep campaign result file (its first line is not a campaign header)`);
  }
  if (header?.lockstep !== 'campaign' || typeof header.fingerprint !== 'string' || !header.spec) {
    throw new ResultsFileError(`${path}: not a lockstep campaign result file (its first line is not a campaign header)`);
  }
  if (header.version !== SPEC_VERSION) throw new ResultsFileError(`${path}: written by result-file version ${header.version}; this lockstep reads version ${SPEC_VERSION}`);
  if (fingerprintOf(header.spec) !== header.fingerprint) throw new ResultsFileError(`${path}: its header's fingerprint does not match its spec (edited by hand?)`);
  const records: ExperimentRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(lines[i]);
    } catch {
      throw new ResultsFileError(`${path}: line ${i + 1} is not JSON`);
    }
    if (!isRecord(record)) throw new ResultsFileError(`${path}: line ${i + 1} is not an experiment record`);
    records.push(record);
  }
  return { spec: header.spec, fingerprint: header.fingerprint, records, completeBytes: lastNewline < 0 ? 0 : Buffer.byteLength(complete, 'utf8') + 1 };
}

/** Appends records to a result file, flushed to disk batch by batch. */
export class ResultsWriter {
  private readonly fd: number;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  /**
   * Starts a new file (refusing to replace an existing one unless `force`, and a directory). `hint` names
   * what the calling command offers for an existing file: only flags it has.
   */
  static create(path: string, spec: CampaignSpec, force: boolean, hint = '--resume continues it, --force replaces it'): ResultsWriter {
    if (existsSync(path) && statSync(path).isDirectory()) throw new OutputError(`${path}: is a directory; name the result file to write (e.g. ${join(path, 'campaign.jsonl')})`);
    if (existsSync(path) && !force) throw new OutputError(`${path}: exists already (${hint})`);
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (error) {
      throw new OutputError(`${path}: cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const header: Header = { lockstep: 'campaign', version: SPEC_VERSION, fingerprint: fingerprintOf(spec), spec };
    writeSync(fd, `${JSON.stringify(header)}\n`);
    fsyncSync(fd);
    return new ResultsWriter(path, fd);
  }

  /** Continues an existing file of the same campaign, cutting off a partial last line. */
  static resume(path: string, spec: CampaignSpec, contents: ResultsContents): ResultsWriter {
    if (contents.fingerprint !== fingerprintOf(spec)) {
      throw new ResultsFileError(`${path}: holds another campaign (different flight software, mission, seed, targets, configurations, horizon or width); not resumed, left untouched`);
    }
    truncateSync(path, contents.completeBytes);
    return new ResultsWriter(path, openSync(path, 'a'));
  }

  append(records: readonly ExperimentRecord[]): void {
    if (records.length === 0) return;
    writeSync(this.fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
