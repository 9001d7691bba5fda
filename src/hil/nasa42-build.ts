// Building NASA 42 for hardware-in-the-loop runs: copy a 42 source tree into a cache folder named by the
// hash of what is copied (never build in the source: it is read-only in CI), fix the one known defect that
// stops its socket interface (see patchBufLens), and build the simulator headless with its AC socket
// interface (`make GUIFLAG= STANDALONEFLAG="-D _AC_STANDALONE_" 42`), in bounded time, its output kept in
// a log. A tree is built once: the next call with the same source returns the cached build at once. Two
// runs building the same tree at once each build in a folder of their own and the first to finish wins.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root (this file is src/hil/ or dist/hil/). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where 42's source is by default: beside the project (as in CI). */
export const DEFAULT_NASA42_SOURCE = resolve(PROJECT_ROOT, '../shared/nasa42');
/** Where builds are cached, one folder per source tree. */
export const DEFAULT_NASA42_CACHE = join(PROJECT_ROOT, 'build', 'nasa42');
export const DEFAULT_BUILD_TIMEOUT_MS = 300_000;

/** The make command line: headless (no GUI), with the AC socket interface, the simulator only. */
export const MAKE_ARGS: readonly string[] = ['GUIFLAG=', 'STANDALONEFLAG=-D _AC_STANDALONE_', '42'];

/** What is copied from a source tree: what make needs, the model files 42 reads at run time, the licence. */
const COPIED = ['Makefile', 'Source', 'Include', 'Kit', 'Model', 'License'] as const;
const REQUIRED = ['Makefile', 'Source/AutoCode/ScIPC.c', 'Source/42main.c', 'Include', 'Kit', 'Model'] as const;
/** Bounds on a source tree, so that a wrong --nasa42 folder is refused instead of copied for minutes. */
const MAX_FILES = 20_000;
const MAX_BYTES = 512 * 1024 * 1024;

export type Nasa42BuildErrorKind = 'source' | 'patch' | 'tools' | 'cache' | 'build' | 'timeout';

export class Nasa42BuildError extends Error {
  constructor(
    readonly kind: Nasa42BuildErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'Nasa42BuildError';
  }
}

export interface Nasa42Build {
  /** The build's folder: the patched copy of the source, `42`, `Model/`, `build.log`. */
  readonly dir: string;
  /** The simulator. */
  readonly binary: string;
  /** The model files (42's second argument). */
  readonly model: string;
  /** Hash of the copied source tree and of this build's recipe; names the folder. */
  readonly hash: string;
  /** Whether the defect was patched here or was already fixed in the source. */
  readonly patch: 'applied' | 'already-fixed';
  /** True when an earlier call had built it. */
  readonly cached: boolean;
  /** Wall time of the build (of the original build, when cached), s. */
  readonly seconds: number;
}

export interface BuildOptions {
  /** The 42 source tree (default ../shared/nasa42 beside the project). */
  source?: string;
  /** The cache folder (default build/nasa42 in the project). */
  cache?: string;
  /** Longest the make run may take, ms. */
  timeoutMs?: number;
}

interface Marker {
  readonly hash: string;
  readonly source: string;
  readonly patch: Nasa42Build['patch'];
  readonly seconds: number;
  readonly make: readonly string[];
  readonly builtAt: string;
}

const MARKER = 'lockstep-build.json';

// ---------------------------------------------------------------------------------------------------------
// The known defect (42 commit 11e3cc3, Source/AutoCode/ScIPC.c): WriteAcBufLensToSocket allocates three
// longs and then writes a terminating zero one byte past them. glibc aborts 42 at the first flight-software
// step of a standalone run ("malloc(): invalid next size (unsorted)"). The fix allocates one byte more.

const BUF_LENS_FUNCTION = /void\s+WriteAcBufLensToSocket\s*\([^)]*\)\s*\{([\s\S]*?)\n\}/;
const DEFECT = 'Msg = (char *) calloc(3,sizeof(long));';
const FIX = 'Msg = (char *) calloc(3*sizeof(long)+1,sizeof(char)); /* lockstep: room for the terminating zero */';
/** Allocations that already leave room for the terminator (ours, and the form 42 uses for the array sizes). */
const ALREADY_FIXED = ['calloc(3*sizeof(long)+1,sizeof(char))', 'calloc(3+1,sizeof(long))', 'calloc(4,sizeof(long))', 'calloc(3*sizeof(long)+1,1)'];

const squash = (text: string): string => text.replace(/\s+/g, '');

/** ScIPC.c with the defect fixed, or why it cannot be: the code must be exactly as lockstep knows it. */
export function patchBufLens(text: string): { text: string; patch: Nasa42Build['patch'] } {
  const body = BUF_LENS_FUNCTION.exec(text);
  if (!body) throw new Nasa42BuildError('patch', 'Source/AutoCode/ScIPC.c has no function WriteAcBufLensToSocket: this 42 differs from the one lockstep knows (commit 11e3cc3); see docs/nasa42.md');
  const calls = body[1].match(/calloc\s*\([^;]*\)/g) ?? [];
  const defects = body[1].split(DEFECT).length - 1;
  if (defects === 1 && calls.length === 1) {
    const start = body.index + body[0].indexOf(DEFECT);
    return { text: text.slice(0, start) + FIX + text.slice(start + DEFECT.length), patch: 'applied' };
  }
  if (calls.length === 1 && ALREADY_FIXED.includes(squash(calls[0]))) return { text, patch: 'already-fixed' };
  throw new Nasa42BuildError(
    'patch',
    `Source/AutoCode/ScIPC.c: WriteAcBufLensToSocket allocates ${calls.length === 1 ? squash(calls[0]) : `${calls.length} times`} where lockstep expects ${squash(DEFECT.slice(DEFECT.indexOf('calloc'), -1))}: this 42 differs from the one lockstep knows (commit 11e3cc3); check its buffer-length message by hand (docs/nasa42.md)`,
  );
}

// ---------------------------------------------------------------------------------------------------------

interface SourceFile {
  readonly path: string; // relative to the source tree
  readonly bytes: Buffer;
}

function checkSource(source: string): void {
  if (!existsSync(source)) throw new Nasa42BuildError('source', `${source}: no such folder (42's source; --nasa42 DIR names another)`);
  if (!statSync(source).isDirectory()) throw new Nasa42BuildError('source', `${source}: not a folder (42's source tree is)`);
  for (const entry of REQUIRED) {
    if (!existsSync(join(source, entry))) throw new Nasa42BuildError('source', `${source}: not a 42 source tree (no ${entry})`);
  }
}

/** Every file that is copied, in a fixed order, read once (for the hash and the copy). */
function readTree(source: string): SourceFile[] {
  const files: SourceFile[] = [];
  let bytes = 0;
  const visit = (path: string): void => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
      return;
    }
    if (!stat.isFile()) return;
    if (files.length >= MAX_FILES || (bytes += stat.size) > MAX_BYTES) {
      throw new Nasa42BuildError('source', `${source}: more than ${MAX_FILES} files or ${MAX_BYTES / 2 ** 20} MiB under ${COPIED.join(', ')}: not 42's source tree`);
    }
    files.push({ path: relative(source, path), bytes: readFileSync(path) });
  };
  for (const entry of COPIED) if (existsSync(join(source, entry))) visit(join(source, entry));
  return files;
}

function hashOf(files: readonly SourceFile[]): string {
  const hash = createHash('sha256');
  // The recipe is part of the name: another patch or make line is another build.
  hash.update(JSON.stringify({ make: MAKE_ARGS, fix: FIX }));
  for (const file of files) {
    hash.update(`${file.path}\0${file.bytes.length}\0`);
    hash.update(file.bytes);
  }
  return hash.digest('hex').slice(0, 16);
}

function readMarker(dir: string): Marker | null {
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
    return existsSync(join(dir, '42')) ? marker : null;
  } catch {
    return null;
  }
}

function result(dir: string, marker: Marker, cached: boolean): Nasa42Build {
  return { dir, binary: join(dir, '42'), model: join(dir, 'Model'), hash: marker.hash, patch: marker.patch, cached, seconds: marker.seconds };
}

function checkTools(): void {
  for (const tool of ['make', 'gcc']) {
    const probe = spawnSync(tool, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.error || probe.status !== 0) {
      const why = (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'is not installed' : 'does not run';
      throw new Nasa42BuildError('tools', `${tool} ${why}: building 42 needs gcc and make (Debian: apt-get install -y gcc make)`);
    }
  }
}

/** The first line of a build log that says what failed (an error, else the last line). */
function firstError(log: string): string {
  const lines = log.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.find((line) => /error|Error|No such file/.test(line)) ?? lines[lines.length - 1] ?? 'no output';
}

/** Runs make in `dir`, output to build.log, within the timeout (the whole process group killed past it). */
function make(dir: string, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }> {
  const log = openSync(join(dir, 'build.log'), 'w');
  return new Promise((resolveRun, reject) => {
    const child = spawn('make', MAKE_ARGS as string[], { cwd: dir, stdio: ['ignore', log, log], detached: true });
    let timedOut = false;
    const kill = (): void => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    // If lockstep itself exits mid-build, make and its compilers go with it.
    process.once('exit', kill);
    child.once('error', (error) => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      closeSync(log);
      reject(new Nasa42BuildError('tools', `make could not be started (${(error as NodeJS.ErrnoException).code ?? error.message})`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', kill);
      closeSync(log);
      resolveRun({ code, signal, timedOut });
    });
  });
}

/** 42 built from `source` (cached by content), or a Nasa42BuildError of one line. */
export async function buildNasa42(options: BuildOptions = {}): Promise<Nasa42Build> {
  const source = resolve(options.source ?? DEFAULT_NASA42_SOURCE);
  const cache = resolve(options.cache ?? DEFAULT_NASA42_CACHE);
  checkSource(source);
  const files = readTree(source);
  const hash = hashOf(files);
  const dir = join(cache, hash);
  const done = readMarker(dir);
  if (done) return result(dir, done, true);
  // A folder without its marker is no build (only a finished build is renamed into place): start over.
  rmSync(dir, { recursive: true, force: true });

  const scipc = files.find((file) => file.path === join('Source', 'AutoCode', 'ScIPC.c'));
  const patched = patchBufLens((scipc as SourceFile).bytes.toString('latin1'));
  checkTools();

  const work = `${dir}.tmp-${process.pid}-${Date.now()}`;
  const failed = `${dir}.failed`;
  try {
    for (const file of files) {
      const target = join(work, file.path);
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, file === scipc ? Buffer.from(patched.text, 'latin1') : file.bytes);
    }
    mkdirSync(join(work, 'Object'));
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw new Nasa42BuildError('cache', `cannot copy 42's source into ${cache} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }

  const started = Date.now();
  let run: Awaited<ReturnType<typeof make>>;
  try {
    run = await make(work, options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  const seconds = (Date.now() - started) / 1000;
  if (run.timedOut || run.code !== 0 || !existsSync(join(work, '42'))) {
    rmSync(failed, { recursive: true, force: true });
    renameSync(work, failed);
    const logPath = join(failed, 'build.log');
    if (run.timedOut) throw new Nasa42BuildError('timeout', `building 42 took longer than ${((options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS) / 1000).toFixed(0)} s and was stopped (log: ${logPath})`);
    const how = run.code === 0 ? 'made no 42 binary' : run.signal ? `was killed (${run.signal})` : `failed (exit ${run.code})`;
    throw new Nasa42BuildError('build', `make ${how} building 42: ${firstError(readFileSync(logPath, 'utf8'))} (log: ${logPath})`);
  }

  const marker: Marker = { hash, source, patch: patched.patch, seconds, make: MAKE_ARGS, builtAt: new Date().toISOString() };
  writeFileSync(join(work, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  try {
    renameSync(work, dir);
  } catch (error) {
    // Another run finished the same build first: keep its folder, drop ours.
    rmSync(work, { recursive: true, force: true });
    const theirs = readMarker(dir);
    if (theirs) return result(dir, theirs, true);
    throw new Nasa42BuildError('cache', `cannot move the build of 42 into ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return result(dir, marker, false);
}
