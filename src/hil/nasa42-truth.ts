// 42's truth, as it writes it into the run folder at every file-output step of its Inp_Sim.txt: the time
// (time.42, s since the start of the run), the attitude qbn (qbn.42, body from inertial, scalar last — the
// same four numbers as lockstep's q_body_from_inertial), the body rate wbn (wbn.42, rad/s in body axes)
// and, when the spacecraft has wheels, their momentum (Hwhl.42, N·m·s). Rows are written together; a last
// line cut short (42 stopped mid-write) is left out, and all series are cut to the rows every file has.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class Nasa42TruthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Nasa42TruthError';
  }
}

export interface Nasa42Truth {
  readonly time: number[];
  readonly qbn: number[][];
  readonly wbn: number[][];
  /** One column per wheel; empty when 42 wrote no Hwhl.42. */
  readonly Hwhl: number[][];
}

/** A truth file larger than this is not one 42 wrote for lockstep (a day at 10 Hz is about 70 MB of qbn). */
const MAX_BYTES = 512 * 1024 * 1024;

function rows(path: string, columns: number | null): number[][] {
  if (!existsSync(path)) throw new Nasa42TruthError(`${path}: missing (does the case's Inp_Sim.txt set a file output interval, and did 42 run?)`);
  if (statSync(path).size > MAX_BYTES) throw new Nasa42TruthError(`${path}: larger than ${MAX_BYTES / 2 ** 20} MiB`);
  const text = readFileSync(path, 'utf8');
  // A line without its newline was cut short.
  const lines = text.split('\n').slice(0, -1);
  return lines.map((line, i) => {
    const values = line.trim().split(/\s+/).map(Number);
    if ((columns !== null && values.length !== columns) || values.some((v) => Number.isNaN(v))) {
      throw new Nasa42TruthError(`${path}: line ${i + 1} is not ${columns ?? 'a row of'} numbers: ${JSON.stringify(line.slice(0, 80))}`);
    }
    return values;
  });
}

/** 42's truth from the run folder. */
export function readTruth(runDir: string): Nasa42Truth {
  const time = rows(join(runDir, 'time.42'), 1).map((row) => row[0]);
  const qbn = rows(join(runDir, 'qbn.42'), 4);
  const wbn = rows(join(runDir, 'wbn.42'), 3);
  const Hwhl = existsSync(join(runDir, 'Hwhl.42')) ? rows(join(runDir, 'Hwhl.42'), null) : [];
  const n = Math.min(time.length, qbn.length, wbn.length, Hwhl.length === 0 ? Infinity : Hwhl.length);
  return { time: time.slice(0, n), qbn: qbn.slice(0, n), wbn: wbn.slice(0, n), Hwhl: Hwhl.slice(0, n) };
}
