// Output files: a result is written whole or not at all, and a write that fails is reported, never lost.
// A regular file is written to a temporary file beside it (beside its target, for a symlink) and renamed
// over it when the run has succeeded, so an interrupted or failed run never leaves a half-written JSON or
// CSV where a reader expects a result. A FIFO, a character device (a terminal, /dev/stdout) or `-`
// (standard output) cannot be replaced by a rename: those are written as the output is produced. Every
// output of a command is opened before its work starts, so a path that cannot be written is refused before
// the first cycle, and two outputs that name the same file are refused outright.
import { closeSync, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export class OutputError extends Error {}

/** Why a write failed, in a user's words: a full disk is not a bug of lockstep. */
export function describeWriteError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full (ENOSPC)';
  if (code === 'EFBIG') return 'the file would exceed the size limit (EFBIG; see ulimit -f)';
  if (code === 'EDQUOT') return 'the disk quota is exhausted (EDQUOT)';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (error as Error).message;
}

/** Writes every byte of `data` to `fd`, however many writes it takes; a write that makes no progress fails. */
export function writeFully(fd: number, data: Uint8Array): void {
  let offset = 0;
  // Bounded: every pass writes at least one byte or throws.
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset);
    if (written <= 0) throw Object.assign(new Error('a write made no progress'), { code: 'EIO' });
    offset += written;
  }
}

const STANDARD_STREAMS: Readonly<Record<string, number>> = { '/dev/stdout': 1, '/dev/fd/1': 1, '/proc/self/fd/1': 1, '/dev/stderr': 2, '/dev/fd/2': 2, '/proc/self/fd/2': 2 };

/** Where an output goes: a regular file written by rename, or a stream written in place. */
type Target = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'stream'; readonly path: string; readonly fd?: number };

/** The file a path names, following symlinks (a dangling one to its would-be target). */
function finalPath(path: string): string {
  let current = resolve(path);
  // Bounded like the kernel's own symlink resolution.
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(current).isSymbolicLink()) return realpathOr(current);
      link = readlinkSync(current);
    } catch {
      return realpathOr(current);
    }
    current = isAbsolute(link) ? link : resolve(dirname(current), link);
  }
  throw new OutputError(`${path}: too many levels of symbolic links`);
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

function targetOf(path: string): Target {
  if (path === '-') return { kind: 'stream', path: '-', fd: 1 };
  if (path in STANDARD_STREAMS) return { kind: 'stream', path, fd: STANDARD_STREAMS[path] };
  const final = finalPath(path);
  let stats;
  try {
    stats = statSync(final);
  } catch {
    return { kind: 'file', path: final };
  }
  if (stats.isDirectory()) throw new OutputError(`${path}: is a directory; give a file name`);
  if (stats.isFIFO() || stats.isCharacterDevice() || stats.isSocket()) return { kind: 'stream', path: final };
  return { kind: 'file', path: final };
}

/** One output being produced: opened at the start, written as it comes, committed or discarded at the end. */
export class OutputFile {
  private fd: number;
  private readonly temporary: string | null;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly target: Target,
  ) {
    try {
      if (target.kind === 'stream') {
        this.temporary = null;
        this.fd = target.fd ?? openSync(target.path, 'w');
      } else {
        this.temporary = `${target.path}.tmp-${process.pid}`;
        this.fd = openSync(this.temporary, 'w');
      }
    } catch (error) {
      throw new OutputError(`${path}: cannot be written (${describeWriteError(error)})`);
    }
  }

  static open(path: string): OutputFile {
    return new OutputFile(path, targetOf(path));
  }

  /** The file this output ends up in (`-` for standard output): what two outputs must not share. */
  get destination(): string {
    return this.target.path;
  }

  write(data: string | Uint8Array): void {
    try {
      writeFully(this.fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    } catch (error) {
      throw new OutputError(`${this.path}: cannot be written (${describeWriteError(error)})`);
    }
  }

  /** Makes the output the result: flushed to disk and renamed over its target (a stream is only closed). */
  commit(): void {
    if (this.closed) return;
    try {
      if (this.temporary !== null) fsyncSync(this.fd);
      this.close();
      if (this.temporary !== null) renameSync(this.temporary, this.target.path);
    } catch (error) {
      this.discard();
      throw new OutputError(`${this.path}: cannot be written (${describeWriteError(error)})`);
    }
  }

  /** Drops what was written (a stream keeps what it already passed on). */
  discard(): void {
    this.close();
    if (this.temporary !== null) {
      try {
        unlinkSync(this.temporary);
      } catch {
        // never created, or already renamed
      }
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd > 2) closeSync(this.fd);
  }
}

export interface OutputRequest {
  /** The option that named it (`--json`), for messages. */
  readonly option: string;
  readonly path: string;
}

/**
 * Every output of one command, opened before the work starts and committed together after it: all or
 * nothing for regular files. Two options naming one file are refused before anything is opened.
 */
export class OutputSet {
  private readonly files = new Map<string, OutputFile>();

  constructor(requests: readonly (OutputRequest | null | undefined)[], also: readonly OutputRequest[] = []) {
    const given = requests.filter((request): request is OutputRequest => Boolean(request));
    checkDistinct([...given, ...also]);
    try {
      for (const request of given) this.files.set(request.option, OutputFile.open(request.path));
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /** The output of an option, if it was asked for. */
  get(option: string): OutputFile | undefined {
    return this.files.get(option);
  }

  commit(): void {
    try {
      for (const file of this.files.values()) file.commit();
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  discard(): void {
    for (const file of this.files.values()) file.discard();
  }

  /** Whether an output goes to standard output (so the human text must go elsewhere). */
  get usesStandardOutput(): boolean {
    return [...this.files.values()].some((file) => file.destination === '-' || file.destination === '/dev/stdout');
  }

  /** Runs `work` with the outputs open: commits them if it succeeds, discards them if it throws. */
  produce<T>(work: (outputs: OutputSet) => T): T {
    let result: T;
    try {
      result = work(this);
    } catch (error) {
      this.discard();
      throw error;
    }
    this.commit();
    return result;
  }

  async produceAsync<T>(work: (outputs: OutputSet) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await work(this);
    } catch (error) {
      this.discard();
      throw error;
    }
    this.commit();
    return result;
  }
}

/** Refuses two outputs (or an output and another file the command writes) that name one file. */
export function checkDistinct(requests: readonly OutputRequest[]): void {
  const seen = new Map<string, string>();
  for (const request of requests) {
    const target = targetOf(request.path);
    const destination = target.kind === 'stream' && target.fd !== undefined ? `fd ${target.fd}` : target.path;
    const earlier = seen.get(destination);
    if (earlier !== undefined) {
      throw new OutputError(`${earlier} and ${request.option} name the same file (${request.path}): give each output its own path`);
    }
    seen.set(destination, request.option);
  }
}

/** Writes one whole output at once (a command with a single output). */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const file = OutputFile.open(path);
  try {
    file.write(contents);
  } catch (error) {
    file.discard();
    throw error;
  }
  file.commit();
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, jsonText(value));
}
