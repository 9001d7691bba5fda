// Hardware-in-the-loop with NASA 42: the flight computer — pair, comparator, spare, checkpoint epochs,
// upsets — takes the place of 42's flight software. Every 42 flight-software step is one control cycle:
// 42's sensor readings become the bus's input frame (through the mission's mapping), the computer runs
// the cycle, and the commands it released go back to 42. The verdicts come from 42's own truth, not from
// lockstep's estimate: the pointing error is computed from the attitude 42 wrote, and the truth files are
// digested, so that a run with upsets can be shown to leave the spacecraft exactly where the fault-free
// run left it. A run that breaks off (42 dying, a peer speaking nonsense) still yields the summary of the
// cycles flown, marked incomplete; 42 is always stopped.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INPUT_CHANNELS } from '../abi/channels.js';
import { Flight, type FlightSetup, type RunResult } from '../mission/fly.js';
import { angleBetweenDeg, type Quat } from '../plant/quaternion.js';
import { AcProtocolError } from './ac-errors.js';
import { AcSession } from './ac-session.js';
import { BusMapping, MappingError } from './mapping.js';
import { buildNasa42 } from './nasa42-build.js';
import { NASA42_BASE_PORT, startNasa42, type Nasa42Process } from './nasa42-run.js';
import { readTruth } from './nasa42-truth.js';

/** Truth files a run's digest covers, in this order. */
export const TRUTH_FILES = ['time.42', 'qbn.42', 'wbn.42', 'Hwhl.42'] as const;
/** How long 42 may take to finish once the last step was answered, ms. */
const EXIT_WAIT_MS = 60_000;

export interface HilOptions {
  readonly setup: FlightSetup;
  /** Where 42 comes from: a source tree to build and start (cached), or a 42 already running. */
  readonly nasa42: { readonly source?: string; readonly caseDir?: string; readonly runDir?: string } | { readonly host?: string; readonly port: number; readonly truthDir?: string };
  readonly realTimeFactor?: number;
  /** The spacecraft of the case lockstep flies (its index; its port is 10001 + index). */
  readonly spacecraft?: number;
  readonly onProgress?: (cycle: number) => void;
}

export interface HilRun {
  readonly run: RunResult;
  /** SHA-256 of 42's truth files of the run, or null when none could be read. */
  readonly truthDigest: string | null;
  /** Whether 42 flew the whole mission and finished normally. */
  readonly complete: boolean;
  /** Why the run broke off, when it did (one line). */
  readonly failure: Error | null;
  /** 42's flight-software period, s. */
  readonly period: number | null;
  /** Where the wall-clock time of the exchanges went (machine-dependent; for the benchmark). */
  readonly wallClock: HilWallClock;
}

export interface HilWallClock {
  /** From the connection to the last step answered, s. */
  readonly seconds: number;
  /** Simulated seconds per wall-clock second over the steps flown. */
  readonly realTimeFactor: number;
  /** The flight computer's share of a step (mapping in, the cycle, mapping out), µs. */
  readonly flightComputerUsPerCycle: number;
  /** The bridge's: from sending a step's commands to holding the next step's inputs (42's step included), µs. */
  readonly bridgeUsPerCycle: number;
}

/** The digest of 42's truth files: their names and bytes, in a fixed order. */
export function truthDigestOf(dir: string): string | null {
  const hash = createHash('sha256');
  let any = false;
  for (const name of TRUTH_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    any = true;
    hash.update(`${name}\n`);
    hash.update(readFileSync(path));
  }
  return any ? hash.digest('hex') : null;
}

/** Flies the mission against 42 and judges it from 42's truth. Never throws for a peer's failure: it is in `failure`. */
export async function flyWithNasa42(options: HilOptions): Promise<HilRun> {
  const { setup } = options;
  const { scenario } = setup;
  const managed = 'port' in options.nasa42 ? null : options.nasa42;
  const external = 'port' in options.nasa42 ? options.nasa42 : null;
  // 42 runs the flight software at t = 0, DT, …, duration: one step more than the mission's cycles.
  const flight = new Flight(setup, { upsets: setup.upsets, oracle: true, realTimeFactor: options.realTimeFactor, maxCycles: setup.cycles + 1 });
  const frame = new Float64Array(INPUT_CHANNELS.length);
  let process42: Nasa42Process | null = null;
  let session: AcSession | null = null;
  let failure: Error | null = null;
  let period: number | null = null;
  let finished = false;
  let connected = 0n;
  let lastStep = 0n;
  let steps = 0;
  let bridgeNs = 0n;
  let computerNs = 0n;
  const ownRunDir = managed && !managed.runDir ? mkdtempSync(join(tmpdir(), 'lockstep-hil-')) : null;
  const runDir = managed ? (managed.runDir ?? ownRunDir!) : (external?.truthDir ?? null);
  try {
    let signal: AbortSignal | undefined;
    let port: number;
    if (managed) {
      const build = await buildNasa42({ source: managed.source });
      process42 = await startNasa42({ build, caseDir: managed.caseDir, runDir: runDir!, duration: setup.cycles * scenario.controlPeriod, spacecraft: options.spacecraft });
      signal = process42.exitSignal;
      port = process42.port;
    } else port = external!.port;
    session = await AcSession.connect({ host: external?.host, port: port ?? NASA42_BASE_PORT, signal });
    period = session.table.DT;
    if (Math.abs(period - scenario.controlPeriod) > 1e-9 * scenario.controlPeriod) {
      throw new MappingError(`42 runs the flight software every ${period} s; the mission's control period is ${scenario.controlPeriod} s (make them equal: the case's FSW sample time, or the mission's controlPeriod)`);
    }
    const mapping = BusMapping.compile(session, setup.mission.hil, scenario.targetAttitude as Quat, 'mission');
    connected = process.hrtime.bigint();
    for (let cycle = 0; ; cycle++) {
      const waiting = process.hrtime.bigint();
      const step = await session.receive();
      if (step === null) break;
      const computing = process.hrtime.bigint();
      bridgeNs += computing - waiting;
      if (cycle > setup.cycles) throw new AcProtocolError('excess', `42 asked for flight-software step ${cycle}, past the mission's ${setup.cycles} cycles (is the case's duration the mission's?)`);
      flight.awaitBoundary(cycle);
      mapping.readInputs(step, period, frame);
      flight.runCycle(cycle, frame);
      const outputs = session.outputTemplate();
      mapping.writeOutputs(flight.applied, outputs);
      const sending = process.hrtime.bigint();
      computerNs += sending - computing;
      await session.send(outputs);
      bridgeNs += process.hrtime.bigint() - sending;
      lastStep = process.hrtime.bigint();
      steps = cycle + 1;
      if (options.onProgress && (cycle & 255) === 0) options.onProgress(cycle);
    }
    if (process42) {
      const exit = await process42.waitForExit(EXIT_WAIT_MS);
      if (exit.code !== 0) throw new AcProtocolError('closed', `42 ended its run abnormally (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}): ${process42.lastOutput()}`);
    }
    finished = true;
  } catch (error) {
    failure = error as Error;
  } finally {
    session?.close();
    if (process42) {
      try {
        await process42.stop();
      } catch (error) {
        failure ??= error as Error;
      }
    }
  }

  // The verdicts from 42's truth: the attitude after each step against the mission's target.
  let truthDigest: string | null = null;
  if (runDir && period !== null) {
    try {
      const truth = readTruth(runDir);
      const target = scenario.targetAttitude as Quat;
      for (let row = 0; row < truth.time.length; row++) {
        // The row at t = (c + 1)·DT is the spacecraft after the commands of cycle c.
        const cycle = Math.round(truth.time[row] / period) - 1;
        if (cycle >= 0) flight.notePointing(cycle, angleBetweenDeg(target, truth.qbn[row] as Quat));
      }
      truthDigest = truthDigestOf(runDir);
    } catch (error) {
      failure ??= error as Error;
    }
  }
  if (ownRunDir && finished && failure === null) rmSync(ownRunDir, { recursive: true, force: true });
  const run = flight.finish();
  const seconds = steps > 0 ? Number(lastStep - connected) / 1e9 : 0;
  const wallClock: HilWallClock = {
    seconds,
    realTimeFactor: seconds > 0 ? (steps * scenario.controlPeriod) / seconds : 0,
    flightComputerUsPerCycle: steps > 0 ? Number(computerNs) / 1e3 / steps : 0,
    bridgeUsPerCycle: steps > 0 ? Number(bridgeNs) / 1e3 / steps : 0,
  };
  return { run, truthDigest, complete: finished && failure === null && run.cycles >= setup.cycles, failure, period, wallClock };
}
