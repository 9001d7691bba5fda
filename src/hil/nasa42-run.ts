// Running 42 on a sim case as a child process, so that a flight computer can be its flight software: the
// case is copied into a run folder (42 writes its truth files beside its inputs), 42 is started there in a
// process group of its own, and it is always stopped — at the end of its run, by stop() (SIGTERM, then
// SIGKILL), or when lockstep itself exits. 42 listens on the fixed port 10001 + the spacecraft's index, so
// runs on one machine take turns: a lock per port (in the temporary folder) makes a second lockstep run
// wait for the first one's 42, and a port another program holds is refused before 42 starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { FileLock } from '../output/lock.js';
import { OutputError } from '../output/files.js';
import type { Nasa42Build } from './nasa42-build.js';
import { PROJECT_ROOT } from './nasa42-build.js';

/** lockstep's reference spacecraft as a 42 sim case (docs/nasa42.md). */
export const LOCKSTEP_CASE = join(PROJECT_ROOT, 'nasa42', 'lockstep-reference');
/** 42 listens on this port + the spacecraft's index (Source/42fsw.c). */
export const NASA42_BASE_PORT = 10001;
export const DEFAULT_PORT_WAIT_MS = 120_000;
const STOP_GRACE_MS = 2_000;
const KILL_WAIT_MS = 5_000;

export type Nasa42RunErrorKind = 'case' | 'port' | 'start' | 'exited' | 'timeout';

export class Nasa42RunError extends Error {
  constructor(
    readonly kind: Nasa42RunErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'Nasa42RunError';
  }
}

export interface Nasa42Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartOptions {
  build: Pick<Nasa42Build, 'binary' | 'model'>;
  /** The sim case folder (default: lockstep's reference spacecraft). */
  caseDir?: string;
  /** A new or empty folder: the case is copied there and 42 writes its truth files there. */
  runDir: string;
  /** Overrides the case's simulated duration (Inp_Sim.txt), s. */
  duration?: number;
  /** The spacecraft that lockstep flies: its index in Inp_Sim.txt (its port is 10001 + index). */
  spacecraft?: number;
  /** How long to wait for another lockstep run's 42 to free the port, ms. */
  portWaitMs?: number;
}

const DURATION_LINE = /^([ \t]*)(\S+)([ \t]+\S+[ \t]+!\s*Sim Duration, Step Size.*)$/m;

/** Inp_Sim.txt with another duration, or a refusal if its line is not where 42 reads it. */
export function withDuration(inpSim: string, duration: number): string {
  if (!(Number.isFinite(duration) && duration > 0)) throw new Nasa42RunError('case', `duration ${duration}: must be a positive number of seconds`);
  if (!DURATION_LINE.test(inpSim)) throw new Nasa42RunError('case', 'Inp_Sim.txt has no "Sim Duration, Step Size" line to set the duration in');
  return inpSim.replace(DURATION_LINE, (_, indent: string, _old: string, rest: string) => `${indent}${duration.toFixed(3)}${rest}`);
}

/** How an exit reads in a message. */
export function describeExit(exit: Nasa42Exit): string {
  if (exit.signal === 'SIGPIPE') return 'was stopped by SIGPIPE (its flight software closed the connection)';
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function lockPort(port: number, waitMs: number): Promise<FileLock> {
  const target = join(tmpdir(), `lockstep-nasa42-port-${port}`);
  const deadline = Date.now() + waitMs;
  // Bounded by the deadline: each pass sleeps 250 ms.
  for (;;) {
    try {
      return FileLock.acquire(target);
    } catch (error) {
      if (!(error instanceof OutputError)) throw error;
      if (Date.now() >= deadline) {
        throw new Nasa42RunError('port', `port ${port} is held by another lockstep run of 42 (${target}.lock) and was not freed within ${(waitMs / 1000).toFixed(0)} s`);
      }
    }
    await sleep(250);
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((answer) => {
    const server = createServer();
    server.once('error', () => answer(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => answer(true)));
  });
}

function copyCase(caseDir: string, runDir: string, duration: number | undefined): void {
  if (!existsSync(join(caseDir, 'Inp_Sim.txt'))) throw new Nasa42RunError('case', `${caseDir}: not a 42 sim case (no Inp_Sim.txt)`);
  if (existsSync(runDir) && readdirSync(runDir).length > 0) {
    throw new Nasa42RunError('case', `${runDir}: holds files already; a run of 42 needs a new or empty folder (it writes its truth files there)`);
  }
  mkdirSync(runDir, { recursive: true });
  for (const name of readdirSync(caseDir)) {
    if (statSync(join(caseDir, name)).isFile()) copyFileSync(join(caseDir, name), join(runDir, name));
  }
  if (duration !== undefined) writeFileSync(join(runDir, 'Inp_Sim.txt'), withDuration(readFileSync(join(runDir, 'Inp_Sim.txt'), 'utf8'), duration));
}

/** 42 running on a case, until it finishes or is stopped. */
export class Nasa42Process {
  private exit: Nasa42Exit | null = null;
  private readonly aborter = new AbortController();
  private readonly killOnExit = (): void => this.signalGroup('SIGKILL');
  /** Settles when 42 has exited (never rejects). */
  readonly exited: Promise<Nasa42Exit>;

  constructor(
    private readonly child: ChildProcess,
    private readonly lock: FileLock,
    readonly port: number,
    readonly runDir: string,
    readonly logPath: string,
  ) {
    process.once('exit', this.killOnExit);
    this.exited = new Promise((settle) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        process.removeListener('exit', this.killOnExit);
        lock.release();
        this.aborter.abort(new Nasa42RunError('exited', `42 ${describeExit(this.exit)} before its flight software connected: ${this.lastOutput()}`));
        settle(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Aborted when 42 exits: AcSession.connect stops retrying at once. */
  get exitSignal(): AbortSignal {
    return this.aborter.signal;
  }

  /** The last line 42 printed (its output is in logPath; 42 flushes it only when it exits). */
  lastOutput(): string {
    try {
      const lines = readFileSync(this.logPath, 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
      return lines[lines.length - 1] ?? `no output (${this.logPath})`;
    } catch {
      return `no output (${this.logPath})`;
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.exit !== null) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone
    }
  }

  private async exitWithin(ms: number): Promise<Nasa42Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((done) => {
      timer = setTimeout(() => done(null), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** 42's exit at the end of its run, or a `timeout` error (42 is left running: stop() it). */
  async waitForExit(timeoutMs: number): Promise<Nasa42Exit> {
    const exit = await this.exitWithin(timeoutMs);
    if (exit === null) throw new Nasa42RunError('timeout', `42 did not exit within ${(timeoutMs / 1000).toFixed(1)} s of the end of its run`);
    return exit;
  }

  /** Stops 42 if it still runs (SIGTERM to its group, SIGKILL after a grace period) and waits for it. */
  async stop(): Promise<Nasa42Exit> {
    if (this.exit !== null) return this.exit;
    this.signalGroup('SIGTERM');
    const polite = await this.exitWithin(STOP_GRACE_MS);
    if (polite !== null) return polite;
    this.signalGroup('SIGKILL');
    const killed = await this.exitWithin(KILL_WAIT_MS);
    if (killed === null) throw new Nasa42RunError('timeout', `42 (process ${this.pid}) did not die within ${(KILL_WAIT_MS / 1000).toFixed(0)} s of SIGKILL`);
    return killed;
  }
}

/** Starts 42 on a copy of the case in `runDir`; it then waits for its flight software on `port`. */
export async function startNasa42(options: StartOptions): Promise<Nasa42Process> {
  const caseDir = resolve(options.caseDir ?? LOCKSTEP_CASE);
  const runDir = resolve(options.runDir);
  const port = NASA42_BASE_PORT + (options.spacecraft ?? 0);
  if (!existsSync(options.build.binary)) throw new Nasa42RunError('start', `${options.build.binary}: no 42 here (npm run nasa42 builds it)`);
  copyCase(caseDir, runDir, options.duration);

  const lock = await lockPort(port, options.portWaitMs ?? DEFAULT_PORT_WAIT_MS);
  try {
    if (!(await portFree(port))) {
      throw new Nasa42RunError('port', `port ${port} is in use by another program: 42 listens on 10001 + the spacecraft's index and cannot move`);
    }
    const logPath = join(runDir, '42.log');
    const log = openSync(logPath, 'w');
    let child: ChildProcess;
    try {
      // 42 prefixes its arguments with "./": both must be relative to its working folder.
      child = spawn(options.build.binary, ['.', relative(runDir, options.build.model)], { cwd: runDir, detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    await new Promise<void>((started, failed) => {
      child.once('spawn', started);
      child.once('error', (error) => failed(new Nasa42RunError('start', `42 could not be started (${(error as NodeJS.ErrnoException).code ?? error.message})`)));
    });
    return new Nasa42Process(child, lock, port, runDir, logPath);
  } catch (error) {
    lock.release();
    throw error;
  }
}
