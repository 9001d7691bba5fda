// Faults: bit flips land exactly where asked, random schedules are reproducible and spread over the bits
// of the chosen targets only (and of the chosen memory ranges), scripted upset files are validated field
// by field, and globals have their bits flipped according to their real type.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlightComputer } from '../src/computer/flight-computer.js';
import { FlightModule } from '../src/core/flight-module.js';
import { BITS_OF_TYPE, GlobalSlots } from '../src/core/global-slots.js';
import type { ValueTypeName } from '../src/passes/export-state.js';
import { drawFault, MAX_UPSETS, randomFaults, SECONDS_PER_DAY, type RandomFaultPlan } from '../src/faults/draw.js';
import { FaultError, flipBits, type Fault, type FaultTarget } from '../src/faults/fault.js';
import { faultDomains, type FaultSpaceShape } from '../src/faults/fault-space.js';
import { readUpsetFile, UpsetFileError } from '../src/faults/upset-file.js';
import { deriveSeed, SeededRandom } from '../src/random.js';
import { setupFor, wat } from './support.js';

const TYPES: readonly ValueTypeName[] = ['i32', 'i64', 'f32', 'f64'];

/** A flight module with one mutable global of each type (and the bus untouched). */
const GLOBALS_FSW = `(module
  (memory (export "memory") 1)
  (global $i32 (mut i32) (i32.const 0))
  (global $i64 (mut i64) (i64.const 0))
  (global $f32 (mut f32) (f32.const 0))
  (global $f64 (mut f64) (f64.const 0))
  (func (export "init")
    (global.set $i32 (i32.const 123456789))
    (global.set $i64 (i64.const -9876543210123))
    (global.set $f32 (f32.const 3.25))
    (global.set $f64 (f64.const -1.0e-3)))
  (func (export "step")))`;

function globalsComputer(): FlightComputer {
  const module = FlightModule.fromBytes(wat(GLOBALS_FSW, { names: true }), 'globals.wat');
  const setup = setupFor({ duration: 1 }, module);
  const computer = new FlightComputer(module, setup.computer);
  expect(computer.boot().verdict).toBe('agreed');
  return computer;
}

/** Flipped bit positions (byte * 8 + bit) between two equally long byte arrays. */
function flippedBits(before: Uint8Array, after: Uint8Array): number[] {
  const bits: number[] = [];
  for (let i = 0; i < before.length; i++) {
    const diff = before[i] ^ after[i];
    for (let b = 0; b < 8; b++) if (diff & (1 << b)) bits.push(i * 8 + b);
  }
  return bits;
}

const range = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);

describe('flipBits', () => {
  const flip = fc
    .uint8Array({ minLength: 1, maxLength: 64 })
    .chain((bytes) =>
      fc
        .integer({ min: 1, max: Math.min(64, bytes.length * 8) })
        .chain((width) => fc.integer({ min: 0, max: bytes.length * 8 - width }).map((first) => ({ bytes, width, address: first >> 3, bit: first & 7 }))),
    );

  it('flips exactly the requested bits, and flipping again restores the bytes', () => {
    fc.assert(
      fc.property(flip, ({ bytes, width, address, bit }) => {
        const before = Uint8Array.from(bytes);
        flipBits(bytes, address, bit, width);
        expect(flippedBits(before, bytes)).toEqual(range(address * 8 + bit, width));
        flipBits(bytes, address, bit, width);
        expect(bytes).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bits outside the target without touching it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (bytes, width, beyond) => {
        const before = Uint8Array.from(bytes);
        const first = bytes.length * 8 - width + beyond; // runs past the end by `beyond` bits
        expect(() => flipBits(bytes, first >> 3, first & 7, width)).toThrow(FaultError);
        expect(() => flipBits(bytes, -1, 0, 1)).toThrow(FaultError);
        expect(bytes).toEqual(before);
      }),
    );
    expect(() => flipBits(new Uint8Array(4), 3, 7, 2)).toThrow(/outside the 4 bytes/);
  });
});

type RandomUpsetPlan = RandomFaultPlan & { readonly targets: readonly FaultTarget[] };
/** fly's random upsets: drawn over the domains of the targets, on every core. */
const randomUpsets = (shape: FaultSpaceShape, p: RandomUpsetPlan) => randomFaults(faultDomains(shape, p.targets), p);
const applyUpset = (computer: FlightComputer, fault: Fault) => computer.strike(fault);

describe('randomFaults', () => {
  const shape = { memoryBytes: 256, globalTypes: ['i32', 'f64', 'i64', 'f32'] as ValueTypeName[] };
  const plan = (overrides: Partial<RandomUpsetPlan> = {}): RandomUpsetPlan => ({
    seed: 1,
    cycles: 1000,
    controlPeriod: 0.1,
    targets: ['memory', 'global', 'checkpoint'],
    count: 400,
    width: 1,
    ...overrides,
  });

  function expectValid(upsets: readonly Fault[], p: RandomUpsetPlan, s = shape): void {
    for (const upset of upsets) {
      expect(p.targets).toContain(upset.target);
      const inGlobalDomain = upset.target === 'global' || (upset.target === 'checkpoint' && upset.region === 'global');
      // A multi-bit upset wider than a global flips the whole global, no more.
      const widest = inGlobalDomain ? BITS_OF_TYPE[s.globalTypes[upset.location]] : p.width;
      expect(upset.width).toBe(Math.min(p.width, widest));
      expect(upset.cycle).toBeGreaterThanOrEqual(0);
      expect(upset.cycle).toBeLessThan(p.cycles);
      const inGlobal = upset.target === 'global' || (upset.target === 'checkpoint' && upset.region === 'global');
      if (inGlobal) {
        expect(upset.location).toBeGreaterThanOrEqual(0);
        expect(upset.location).toBeLessThan(s.globalTypes.length);
        expect(upset.bit).toBeGreaterThanOrEqual(0);
        expect(upset.bit + upset.width).toBeLessThanOrEqual(BITS_OF_TYPE[s.globalTypes[upset.location]]);
      } else {
        expect(upset.bit).toBeGreaterThanOrEqual(0);
        expect(upset.bit).toBeLessThan(8);
        expect(upset.location).toBeGreaterThanOrEqual(0);
        expect(upset.location * 8 + upset.bit + upset.width).toBeLessThanOrEqual(s.memoryBytes * 8);
      }
      if (upset.target === 'checkpoint') {
        expect(['memory', 'global']).toContain(upset.region);
      } else {
        expect(['primary', 'spare']).toContain(upset.processor);
        expect(['A', 'B']).toContain(upset.core);
      }
    }
    for (let i = 1; i < upsets.length; i++) expect(upsets[i].cycle).toBeGreaterThanOrEqual(upsets[i - 1].cycle);
  }

  it('is deterministic per seed, and another seed gives another schedule', () => {
    const a = randomUpsets(shape, plan({ seed: 42 }));
    expect(randomUpsets(shape, plan({ seed: 42 }))).toEqual(a);
    const b = randomUpsets(shape, plan({ seed: 43 }));
    expect(b).not.toEqual(a);
    expect(a).toHaveLength(400);
    expect(b).toHaveLength(400);
  });

  it('strikes only the chosen targets, each of them, and stays inside them', () => {
    const subsets: FaultTarget[][] = [['memory'], ['global'], ['checkpoint'], ['memory', 'global'], ['global', 'checkpoint'], ['memory', 'checkpoint'], ['memory', 'global', 'checkpoint']];
    for (const targets of subsets) {
      const p = plan({ targets, seed: 9 });
      const upsets = randomUpsets(shape, p);
      expect(upsets).toHaveLength(400);
      expectValid(upsets, p);
      expect(new Set(upsets.map((upset) => upset.target))).toEqual(new Set(targets));
    }
  });

  it('spreads uniformly over the bits: by core, and memory against globals in proportion to their bits', () => {
    const p = plan({ count: 4000, targets: ['memory', 'global'], seed: 5 });
    const upsets = randomUpsets(shape, p);
    expectValid(upsets, p);
    const byCore = new Map<string, number>();
    for (const upset of upsets) byCore.set(`${upset.processor}.${upset.core}`, (byCore.get(`${upset.processor}.${upset.core}`) ?? 0) + 1);
    expect([...byCore.keys()].sort()).toEqual(['primary.A', 'primary.B', 'spare.A', 'spare.B']);
    for (const count of byCore.values()) expect(Math.abs(count - 1000)).toBeLessThan(150);
    const globalBits = 32 + 64 + 64 + 32;
    const expectedGlobalShare = globalBits / (globalBits + shape.memoryBytes * 8);
    const share = upsets.filter((upset) => upset.target === 'global').length / upsets.length;
    expect(Math.abs(share - expectedGlobalShare)).toBeLessThan(0.03);
    const byGlobal = TYPES.map((_, index) => upsets.filter((upset) => upset.target === 'global' && upset.location === index).length);
    expect(byGlobal[1]).toBeGreaterThan(byGlobal[0] * 1.4); // a 64-bit global is hit about twice as often as a 32-bit one
  });

  it('respects the width for every width a 32-bit global can hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (width, seed) => {
        const p = plan({ width, seed, count: 60 });
        expectValid(randomUpsets(shape, p), p);
      }),
      { numRuns: 60 },
    );
  });

  it('clips a width beyond a global to the whole global (every placed upset can be applied)', () => {
    const p = plan({ width: 40, targets: ['global'], seed: 3, count: 100 });
    const computer = globalsComputer();
    const computerShape = { memoryBytes: 65536, globalTypes: computer.flightModule.stateGlobals.map((global) => global.type) };
    const upsets = randomUpsets(computerShape, p);
    expectValid(upsets, p, computerShape);
    for (const upset of upsets) applyUpset(computer, upset);
  });

  it('keeps multi-bit upsets inside memory, up to the last bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 1000 }), (width, seed) => {
        const p = plan({ width, seed, count: 80, targets: ['memory', 'checkpoint'] });
        const upsets = randomUpsets({ memoryBytes: 9, globalTypes: [] }, p);
        expectValid(upsets, p, { memoryBytes: 9, globalTypes: [] });
        expect(upsets.every((upset) => upset.target !== 'checkpoint' || upset.region === 'memory')).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('draws a Poisson number of upsets for a rate, with the expected mean', () => {
    const bits = 4 * (shape.memoryBytes * 8 + 192) + (shape.memoryBytes * 8 + 192);
    const duration = 1000 * 0.1;
    const rate = (200 * SECONDS_PER_DAY) / (bits * duration); // 200 upsets expected
    const counts = range(1, 20).map((seed) => randomUpsets(shape, plan({ count: undefined, ratePerBitPerDay: rate, seed })).length);
    const mean = counts.reduce((sum, n) => sum + n, 0) / counts.length;
    expect(mean).toBeGreaterThan(185);
    expect(mean).toBeLessThan(215);
    expect(new Set(counts).size).toBeGreaterThan(5);
    const p = plan({ count: undefined, ratePerBitPerDay: rate, seed: 4 });
    expectValid(randomUpsets(shape, p), p);
    expect(randomUpsets(shape, plan({ count: undefined, ratePerBitPerDay: 0 }))).toEqual([]);
  });

  it('refuses schedules beyond the upset limit, and has nothing to strike in an empty fault space', () => {
    expect(() => randomUpsets(shape, plan({ count: MAX_UPSETS + 1 }))).toThrow(RangeError);
    // 1 upset per bit per day over 11 200 bits for 100 days: about 1.1e6 upsets
    expect(() => randomUpsets(shape, plan({ count: undefined, ratePerBitPerDay: 1, cycles: 86_400_000 }))).toThrow(/at most/);
    expect(randomUpsets({ memoryBytes: 256, globalTypes: [] }, plan({ targets: ['global'] }))).toEqual([]);
    expect(randomUpsets(shape, plan({ cycles: 0 }))).toEqual([]);
  });
});

describe('readUpsetFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-upsets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const file = (contents: unknown) => {
    const path = join(dir, `upsets-${files++}.json`);
    writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
    return path;
  };
  const errorOf = (path: string): string => {
    try {
      readUpsetFile(path);
    } catch (error) {
      expect(error).toBeInstanceOf(UpsetFileError);
      const message = (error as Error).message;
      expect(message.startsWith(`${path}: `)).toBe(true);
      expect(message).not.toContain('\n');
      return message;
    }
    throw new Error('expected an UpsetFileError');
  };

  it('reads a valid file: defaults filled, location from address or global, sorted by cycle', () => {
    const path = file({
      upsets: [
        { cycle: 300, target: 'global', processor: 'spare', core: 'B', global: 2, bit: 17, width: 3 },
        { cycle: 120, target: 'memory', address: 1024, bit: 3 },
        { cycle: 200, target: 'checkpoint', region: 'global', global: 1, bit: 63 },
        { cycle: 150, target: 'checkpoint', address: 77, bit: 0 },
      ],
    });
    expect(readUpsetFile(path)).toEqual([
      { cycle: 120, target: 'memory', processor: 'primary', core: 'A', location: 1024, bit: 3, width: 1 },
      { cycle: 150, target: 'checkpoint', region: 'memory', location: 77, bit: 0, width: 1 },
      { cycle: 200, target: 'checkpoint', region: 'global', location: 1, bit: 63, width: 1 },
      { cycle: 300, target: 'global', processor: 'spare', core: 'B', location: 2, bit: 17, width: 3 },
    ]);
    expect(readUpsetFile(file({ upsets: [] }))).toEqual([]);
  });

  it('names the field at fault', () => {
    const ok = { cycle: 1, target: 'memory', address: 8, bit: 0 };
    expect(errorOf(file({ upsets: [{ ...ok, bit: '3' }] }))).toMatch(/: upsets\[0\]\.bit: .*number/);
    expect(errorOf(file({ upsets: [ok, { ...ok, cycle: -1 }] }))).toMatch(/: upsets\[1\]\.cycle: /);
    expect(errorOf(file({ upsets: [{ ...ok, bit: 64 }] }))).toMatch(/: upsets\[0\]\.bit: /);
    expect(errorOf(file({ upsets: [{ ...ok, width: 0 }] }))).toMatch(/: upsets\[0\]\.width: /);
    expect(errorOf(file({ upsets: [{ ...ok, cycle: 2.5 }] }))).toMatch(/: upsets\[0\]\.cycle: /);
    expect(errorOf(file({ upsets: [{ ...ok, target: 'register' }] }))).toMatch(/: upsets\[0\]\.target: /);
    expect(errorOf(file({ upsets: [{ ...ok, core: 'C' }] }))).toMatch(/: upsets\[0\]\.core: /);
    expect(errorOf(file({ upsets: [{ ...ok, processor: 'backup' }] }))).toMatch(/: upsets\[0\]\.processor: /);
    expect(errorOf(file({ upsets: [ok, ok, { ...ok, adress: 8 }] }))).toMatch(/: upsets\[2\].*adress/);
    const { address: _address, ...noAddress } = ok;
    expect(errorOf(file({ upsets: [noAddress] }))).toMatch(/: upsets\[0\]\.address: required/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'global', bit: 0 }] }))).toMatch(/: upsets\[0\]\.global: required/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'checkpoint', region: 'global', address: 4, bit: 0 }] }))).toMatch(/: upsets\[0\]\.global: required/);
    expect(errorOf(file({ upsets: [{ cycle: 1, bit: 0, address: 3 }] }))).toMatch(/: upsets\[0\]\.target: /);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'result', bit: 0, address: 3 }] }))).toMatch(/: upsets\[0\]\.instruction: required/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'memory', bit: 0, address: 3, global: 1 }] }))).toMatch(/: upsets\[0\]\.global: not a field of a memory upset \(give address\)/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'memory', address: 3 }] }))).toMatch(/: upsets\[0\]\.bit: required/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'checkpoint', processor: 'spare', address: 3, bit: 0 }] }))).toMatch(/: upsets\[0\]\.processor: not a field of a checkpoint upset/);
    expect(errorOf(file({ upsets: [{ cycle: 1, target: 'memory', region: 'global', address: 3, bit: 0 }] }))).toMatch(/: upsets\[0\]\.region: not a field of a memory upset/);
  });

  it('refuses an upset after the mission\'s last cycle, naming its place in the file', () => {
    const ok = { cycle: 1, target: 'memory', address: 8, bit: 0 };
    const path = file({ upsets: [{ ...ok, cycle: 99 }, { ...ok, cycle: 100 }, ok] });
    expect(readUpsetFile(path, 101)).toHaveLength(3);
    try {
      readUpsetFile(path, 100);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(UpsetFileError);
      expect((error as Error).message).toBe(`${path}: upsets[1].cycle: 100 is after the mission's last cycle, 99 (100 cycles: duration / controlPeriod)`);
    }
  });

  it('reads instruction faults: the n-th result or branch decision of the cycle, of any core', () => {
    const path = file({
      upsets: [
        { cycle: 7, target: 'branch', core: 'B', instruction: 12 },
        { cycle: 5, target: 'result', processor: 'spare', instruction: 40, bit: 62, width: 2 },
      ],
    });
    expect(readUpsetFile(path)).toEqual([
      { cycle: 5, target: 'result', processor: 'spare', core: 'A', location: 40, bit: 62, width: 2 },
      { cycle: 7, target: 'branch', processor: 'primary', core: 'B', location: 12, bit: 0, width: 1 },
    ]);
  });

  it('names the file and the problem for unreadable, non-JSON and mis-shaped files', () => {
    expect(errorOf(join(dir, 'missing.json'))).toMatch(/cannot be read \(ENOENT\)/);
    expect(errorOf(file('{ "upsets": [ '))).toMatch(/not valid JSON/);
    expect(errorOf(file({ upsets: [], extra: true }))).toMatch(/extra/);
    expect(errorOf(file([]))).toMatch(/\(top level\)/);
    expect(errorOf(file({ upsets: {} }))).toMatch(/: upsets: /);
  });
});

describe('drawFault', () => {
  it('strikes only the given memory ranges, uniformly over their bits', () => {
    const ranges = [[64, 128], [1024, 1040], [4000, 4096]] as const;
    const domains = faultDomains({ memoryBytes: 8192, memoryRanges: ranges, globalTypes: [] }, ['memory'], [{ processor: 'primary', core: 'A' }]);
    expect(domains).toHaveLength(1);
    expect(domains[0].bits).toBe((64 + 16 + 96) * 8);
    const random = new SeededRandom(11, 'ranges');
    const perRange = [0, 0, 0];
    for (let i = 0; i < 6000; i++) {
      const fault = drawFault(random, domains, 3, 1);
      const index = ranges.findIndex(([start, end]) => fault.location >= start && fault.location < end);
      expect(index).toBeGreaterThanOrEqual(0);
      perRange[index]++;
    }
    // In proportion to the ranges' sizes (64 : 16 : 96 bytes).
    expect(Math.abs(perRange[0] / 6000 - 64 / 176)).toBeLessThan(0.03);
    expect(Math.abs(perRange[1] / 6000 - 16 / 176)).toBeLessThan(0.03);
    expect(Math.abs(perRange[2] / 6000 - 96 / 176)).toBeLessThan(0.03);
  });

  it('places an instruction fault among the sites the cycle executes, or nowhere when it executes none', () => {
    const sites = Int32Array.from([5, 0, 1000]);
    const domains = faultDomains({ memoryBytes: 0, globalTypes: [], resultSites: sites, branchSites: sites }, ['result'], [{ processor: 'primary', core: 'A' }, { processor: 'primary', core: 'B' }]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 ** 31 }), (cycle, seed) => {
        const fault = drawFault(new SeededRandom(seed, 'x'), domains, cycle, 1);
        expect(fault.target).toBe('result');
        expect(fault.cycle).toBe(cycle);
        if (sites[cycle] === 0) expect(fault.location).toBe(-1);
        else expect(fault.location).toBeLessThan(sites[cycle]);
        expect(fault.location).toBeGreaterThanOrEqual(-1);
        expect(fault.bit).toBeLessThan(64);
      }),
      { numRuns: 200 },
    );
  });
});

describe('experiment streams', () => {
  it('two experiments whose 32-bit stream seeds collide still draw different faults (128-bit stream states)', () => {
    // Found by search: the narrow seeds of experiments 383689 and 1583512 of seed 1 are equal.
    expect(deriveSeed(1, 'experiment:383689')).toBe(deriveSeed(1, 'experiment:1583512'));
    const narrow = [new SeededRandom(1, 'experiment:383689'), new SeededRandom(1, 'experiment:1583512')].map((random) => [random.int(0, 2 ** 31), random.int(0, 2 ** 31)]);
    expect(narrow[0]).toEqual(narrow[1]);
    const wide = [SeededRandom.wide(1, 'experiment:383689'), SeededRandom.wide(1, 'experiment:1583512')].map((random) => [random.int(0, 2 ** 31), random.int(0, 2 ** 31)]);
    expect(wide[0]).not.toEqual(wide[1]);
    // Still a function of (seed, label) alone.
    const again = SeededRandom.wide(1, 'experiment:383689');
    expect([again.int(0, 2 ** 31), again.int(0, 2 ** 31)]).toEqual(wide[0]);
  });
});

describe('GlobalSlots', () => {
  /** The value of a type whose bit pattern is `bits`, read through a DataView (independent of GlobalSlots). */
  function valueOf(type: ValueTypeName, bytes: Uint8Array): number | bigint {
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    if (type === 'i32') return view.getInt32(0, true);
    if (type === 'f32') return view.getFloat32(0, true);
    if (type === 'f64') return view.getFloat64(0, true);
    return view.getBigInt64(0, true);
  }

  const valueFor = (type: ValueTypeName) =>
    type === 'i32'
      ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
      : type === 'i64'
        ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
        : type === 'f32'
          ? fc.float({ noNaN: true })
          : fc.double({ noNaN: true });

  for (const type of TYPES) {
    it(`flips exactly the requested bits of an ${type}, and flipping again restores it`, () => {
      const bits = BITS_OF_TYPE[type];
      const flip = fc.integer({ min: 1, max: bits }).chain((width) => fc.record({ width: fc.constant(width), bit: fc.integer({ min: 0, max: bits - width }) }));
      fc.assert(
        fc.property(valueFor(type), flip, fc.integer({ min: 0, max: 3 }), (value, { width, bit }, index) => {
          const types: ValueTypeName[] = ['f64', 'i32', 'i64', 'f32'];
          types[index] = type;
          const slots = new GlobalSlots(types);
          slots.store(index, value);
          expect(Object.is(slots.load(index), value)).toBe(true);
          const before = Uint8Array.from(slots.bytes);
          slots.flip(index, bit, width);
          expect(flippedBits(before, slots.bytes)).toEqual(range(index * 64 + bit, width));
          const flipped = slots.load(index);
          const expected = valueOf(type, slots.bytes.subarray(index * 8, index * 8 + 8));
          if (typeof expected === 'number' && Number.isNaN(expected)) expect(Number.isNaN(flipped)).toBe(true);
          else expect(Object.is(flipped, expected)).toBe(true);
          slots.flip(index, bit, width);
          expect(slots.bytes).toEqual(before);
          expect(Object.is(slots.load(index), value)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('knows the width of each type', () => {
    const slots = new GlobalSlots(['i32', 'i64', 'f32', 'f64']);
    slots.store(0, 1);
    slots.flip(0, 31);
    expect(slots.load(0)).toBe(-(2 ** 31) + 1);
    slots.store(1, 0n);
    slots.flip(1, 63);
    expect(slots.load(1)).toBe(-(2n ** 63n));
    slots.store(2, 1);
    slots.flip(2, 31);
    expect(slots.load(2)).toBe(-1);
    slots.store(3, 2);
    slots.flip(3, 63);
    expect(slots.load(3)).toBe(-2);
    expect(() => slots.flip(0, 32)).toThrow(RangeError);
    expect(() => slots.flip(2, 30, 3)).toThrow(RangeError);
    expect(() => slots.flip(1, 63, 2)).toThrow(RangeError);
    expect(() => slots.flip(3, -1)).toThrow(RangeError);
  });

  it('upsets in the globals of a core round-trip through the core for every type', () => {
    const computer = globalsComputer();
    const core = computer.primary.cores[1];
    const other = computer.primary.cores[0];
    const initial = core.globals.map((global) => global.value);
    expect(initial).toEqual([123456789, -9876543210123n, 3.25, -1.0e-3]);
    const upset = (location: number, bit: number, width = 1): Fault => ({ cycle: 0, target: 'global', processor: 'primary', core: 'B', location, bit, width });
    applyUpset(computer, upset(0, 4));
    expect(core.globals[0].value).toBe(123456789 ^ 16);
    applyUpset(computer, upset(1, 40, 2));
    expect(core.globals[1].value).toBe(-9876543210123n ^ (3n << 40n));
    applyUpset(computer, upset(2, 23)); // lowest exponent bit: 3.25 = 1.625·2^1 → 1.625·2^2
    expect(core.globals[2].value).toBe(6.5);
    applyUpset(computer, upset(3, 63));
    expect(core.globals[3].value).toBe(1.0e-3);
    for (const [location, bit, width] of [[0, 4, 1], [1, 40, 2], [2, 23, 1], [3, 63, 1]]) applyUpset(computer, upset(location, bit, width));
    expect(core.globals.map((global) => global.value)).toEqual(initial);
    expect(other.globals.map((global) => global.value)).toEqual(initial);
    expect(() => applyUpset(computer, upset(4, 0))).toThrow(FaultError);
  });

  it('upsets in the checkpoint\'s global slots and memory land in the checkpoint only', () => {
    const computer = globalsComputer();
    const checkpoint = computer.checkpoint;
    const before = checkpoint.globals.load(1);
    applyUpset(computer, { cycle: 0, target: 'checkpoint', region: 'global', location: 1, bit: 0, width: 1 });
    expect(checkpoint.globals.load(1)).toBe((before as bigint) ^ 1n);
    expect(computer.primary.cores[0].globals[1].value).toBe(before);
    const byte = checkpoint.memory[100];
    applyUpset(computer, { cycle: 0, target: 'checkpoint', region: 'memory', location: 100, bit: 7, width: 1 });
    expect(checkpoint.memory[100]).toBe(byte ^ 0x80);
    expect(computer.primary.cores[0].memoryBytes()[100]).toBe(byte);
    expect(() => applyUpset(computer, { cycle: 0, target: 'checkpoint', region: 'memory', location: checkpoint.memoryLength, bit: 0, width: 1 })).toThrow(FaultError);
  });

  it('a scripted upset beyond the bits of a core\'s global is refused as an FaultError', () => {
    const computer = globalsComputer();
    expect(() => applyUpset(computer, { cycle: 0, target: 'global', processor: 'primary', core: 'A', location: 0, bit: 40, width: 1 })).toThrow(FaultError);
  });

  it('a checkpoint upset in a global that does not exist is refused as an FaultError', () => {
    const computer = globalsComputer();
    expect(() => applyUpset(computer, { cycle: 0, target: 'checkpoint', region: 'global', location: 4, bit: 0, width: 1 })).toThrow(FaultError);
  });
});
