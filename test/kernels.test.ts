// The benchmark kernels (kernels/, built by scripts/build-kernels.mjs into build/kernels/; issue 4):
// each is flight software by the ABI, boots, computes one classic kernel per cycle on data generated
// from the cycle number, and writes the same four words as an independent JavaScript implementation on
// the same data — matmul against a triple loop, CRC-32 against a bitwise CRC-32, quicksort against
// Array.prototype.sort, SHA-256 against node:crypto — and each flies a short mission with `lockstep fly`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUS_MODULE, IN, INPUT_CHANNELS, OUT, OUTPUT_CHANNELS } from '../src/abi/channels.js';
import { KERNELS, kernelPath, type Kernel } from '../src/bench/hardening-bench.js';
import { Core } from '../src/core/core.js';
import { FlightModule } from '../src/core/flight-module.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BUDGET = 1e8;
/** The mission's control period (the reference scenario's), and the cycles each kernel is checked on. */
const DT = 0.1;
const CYCLES = [0, 1, 2, 3, 7, 100, 4321, 65_536, 1_000_003];

type Words = [number, number, number, number];


// The data generator of kernels/common.ts, in JavaScript.

function cycleNumber(time: number, dt: number): number {
  const cycles = time / dt;
  if (!(cycles >= 0 && cycles < 4294967295.5)) return 0;
  return Math.floor(cycles + 0.5);
}
const seed = (cycle: number, salt: number) => (Math.imul(cycle, 0x9e3779b9) + salt) >>> 0;
const next = (state: number) => (Math.imul(state, 1664525) + 1013904223) >>> 0;
/** `count` successive generator states after `state` (the generator's values), and the last state. */
function generate(state: number, count: number): { values: number[]; state: number } {
  const values: number[] = [];
  for (let i = 0; i < count; i++) values.push((state = next(state)));
  return { values, state };
}
const salt = (tag: string) => Buffer.from(tag, 'latin1').readUInt32BE(0);

// Independent implementations of the kernels (kernels/*.ts document the outputs).

function matmul(cycle: number): Words {
  const N = 16;
  const a = generate(seed(cycle, salt('matm')), N * N);
  const b = generate(a.state, N * N);
  const entry = (value: number) => (value >>> 16) - 32768;
  const A = a.values.map(entry);
  const B = b.values.map(entry);
  const C: number[] = [];
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      let sum = 0;
      for (let k = 0; k < N; k++) sum = (sum + Math.imul(A[i * N + k], B[k * N + j])) | 0;
      C.push(sum);
    }
  }
  let total = 0;
  let weighted = 0;
  let trace = 0;
  let folded = 0;
  C.forEach((value, i) => {
    total = (total + value) >>> 0;
    weighted = (weighted + Math.imul(value, i + 1)) >>> 0;
    folded = (folded ^ value) >>> 0;
  });
  for (let i = 0; i < N; i++) trace = (trace + C[i * N + i]) >>> 0;
  return [total, weighted, trace, folded];
}

/** CRC-32 (IEEE 802.3, reflected), bit by bit: no table, so it shares nothing with the kernel's. */
function crc32Bitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A cycle's data as bytes: the generator's values, stored little-endian. */
function bytesOf(values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeUInt32LE(value, 4 * i));
  return bytes;
}

function crc32(cycle: number): Words {
  const buffer = bytesOf(generate(seed(cycle, salt('crc3')), 256).values);
  expect(buffer.length).toBe(1024);
  return [crc32Bitwise(buffer), 0xcbf43926, cycle, 1];
}

function quicksort(cycle: number): Words {
  const values = generate(seed(cycle, salt('qsor')), 256).values.map((value) => value | 0);
  const sorted = [...values].sort((x, y) => x - y);
  let weighted = 0;
  let total = 0;
  sorted.forEach((value, i) => {
    weighted = (weighted + Math.imul(value, i + 1)) >>> 0;
    total = (total + value) >>> 0;
  });
  return [weighted, total, sorted[128] >>> 0, 1];
}

function sha256(cycle: number): Words {
  const message = bytesOf(generate(seed(cycle, salt('sha2')), 64).values);
  expect(message.length).toBe(256);
  const digest = createHash('sha256').update(message).digest();
  const h = (i: number) => digest.readUInt32BE(4 * i);
  return [(h(0) ^ h(4)) >>> 0, (h(1) ^ h(5)) >>> 0, (h(2) ^ h(6)) >>> 0, (h(3) ^ h(7)) >>> 0];
}

const EXPECTED: Record<Kernel, (cycle: number) => Words> = { matmul, crc32, quicksort, sha256 };

// Running a kernel on a core.

interface Booted {
  core: Core;
  inputs: Float64Array;
}

function boot(name: Kernel): Booted {
  const inputs = new Float64Array(INPUT_CHANNELS.length);
  const core = new Core(FlightModule.fromFile(kernelPath(name)), 'k', inputs);
  expect(core.boot(BUDGET).status).toBe('ok');
  return { core, inputs };
}

/** One cycle at `time` (the mission's time of a cycle: cycle × control period); its outputs and cost. */
function cycleAt({ core, inputs }: Booted, time: number, dt = DT): { words: Words; instructions: number } {
  inputs[IN.time] = time;
  inputs[IN.dt] = dt;
  const result = core.step(BUDGET);
  expect(result.status).toBe('ok');
  expect(core.outputs.writtenMask).toBe((1 << OUTPUT_CHANNELS.length) - 1);
  const values = core.outputs.values;
  const words: Words = [values[OUT.torque_x], values[OUT.torque_y], values[OUT.torque_z], values[OUT.mode]];
  return { words, instructions: result.instructions };
}

describe('the sanity of the JavaScript references', () => {
  it('CRC-32 of "123456789" is the standard check value 0xCBF43926', () => {
    expect(crc32Bitwise(Buffer.from('123456789', 'latin1'))).toBe(0xcbf43926);
  });

  it('the cycle number is round(time / dt), 0 when that is no number in range', () => {
    expect(cycleNumber(4321 * DT, DT)).toBe(4321);
    expect(cycleNumber(0.149, 0.1)).toBe(1);
    expect(cycleNumber(1, 0)).toBe(0);
    expect(cycleNumber(Number.NaN, 0.1)).toBe(0);
    expect(cycleNumber(-1, 0.1)).toBe(0);
  });
});

describe.each(KERNELS)('kernel %s', (name) => {
  let kernel: Booted;
  beforeAll(() => {
    kernel = boot(name);
  });

  it('follows the ABI: imports only time, dt and the four outputs from the bus, exports init, step, memory', () => {
    const compiled = new WebAssembly.Module(readFileSync(kernelPath(name)));
    const imports = WebAssembly.Module.imports(compiled);
    for (const { module, kind } of imports) {
      expect(module).toBe(BUS_MODULE);
      expect(kind).toBe('function');
    }
    expect(imports.map(({ name: field }) => field).sort()).toEqual(['dt', 'mode', 'time', 'torque_x', 'torque_y', 'torque_z']);
    expect(WebAssembly.Module.exports(compiled).map(({ name: field }) => field).sort()).toEqual(['init', 'memory', 'step']);
    const module = FlightModule.fromFile(kernelPath(name));
    expect(module.stateGlobals).toEqual([]);
  });

  it('writes, each cycle, the words an independent implementation computes on the same data', () => {
    for (const cycle of CYCLES) {
      const { words } = cycleAt(kernel, cycle * DT);
      for (const word of words) {
        expect(Number.isInteger(word) && word >= 0 && word < 2 ** 32).toBe(true);
      }
      expect(words, `cycle ${cycle}`).toEqual(EXPECTED[name](cycle));
    }
  });

  it('depends only on the cycle: a cycle repeated after others, or on a fresh core, gives the same words', () => {
    const first = cycleAt(kernel, 42 * DT).words;
    cycleAt(kernel, 43 * DT);
    expect(cycleAt(kernel, 42 * DT).words).toEqual(first);
    expect(cycleAt(boot(name), 42 * DT).words).toEqual(first);
    // The same cycle at another control period.
    expect(cycleAt(kernel, 42 * 0.25, 0.25).words).toEqual(first);
  });

  it('never traps on odd inputs: dt 0, NaN time or negative time are cycle 0', () => {
    const zero = EXPECTED[name](0);
    expect(cycleAt(kernel, 5, 0).words).toEqual(zero);
    expect(cycleAt(kernel, Number.NaN, DT).words).toEqual(zero);
    expect(cycleAt(kernel, -3, DT).words).toEqual(zero);
  });

  it('costs a moderate, steady number of instructions and allocates nothing', () => {
    const costs = CYCLES.map((cycle) => cycleAt(kernel, cycle * DT).instructions);
    for (const cost of costs) {
      expect(cost).toBeGreaterThan(5_000);
      expect(cost).toBeLessThan(60_000);
    }
    expect(kernel.core.memory.buffer.byteLength).toBe(65_536);
  });
});

describe('the kernels fly', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-kernels-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fly(name: Kernel, extra: readonly string[] = []) {
    const out = join(dir, `${name}-${extra.length}.json`);
    const run = spawnSync(
      process.execPath,
      ['bin/lockstep.js', 'fly', '--fsw', `build/kernels/${name}.wasm`, '--duration', '5', '--quiet', '--json', out, ...extra],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return JSON.parse(readFileSync(out, 'utf8'));
  }

  it.each(KERNELS)('lockstep fly --fsw build/kernels/%s.wasm --duration 5 (20 random upsets) exits 0 and writes its summary', (name) => {
    // 20 upsets in 50 cycles: under pre-copy a second one would land in the seconds without a spare
    // (a rollback, by design: test/reintegration.test.ts); here the spare is back at once.
    const summary = fly(name, ['--reintegration', 'instant']);
    expect(summary.cycles).toBe(50);
    expect(summary.upsetsInjected).toBe(20);
    expect(summary.missedDeadlines).toBe(0);
  });

  it.each(KERNELS)('%s flies without upsets with nothing detected and every cycle within its deadline', (name) => {
    const summary = fly(name, ['--upsets', '0']);
    expect(summary.cycles).toBe(50);
    expect(summary.detections).toMatchObject({ mismatch: 0, trap: 0, watchdog: 0 });
    expect(summary.failovers).toBe(0);
    expect(summary.missedDeadlines).toBe(0);
    expect(summary.matchesFaultFree).toBe(true);
  });
});
