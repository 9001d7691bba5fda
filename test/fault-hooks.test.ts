// The fault-hooks pass and its host helpers: unarmed, a hooked module is the plain one (bit for bit, on
// random modules and on the reference flight software); its counts are deterministic, exact (the
// unhooked copy's per-segment counts equal the hooked copy's per-site counts) and name the range of n;
// arming n flips exactly the n-th value-producing instruction or branch decision, whose site `fired`
// reports; flips work for every result type; on the reference flight software result flips are
// sometimes masked and sometimes reach the outputs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INPUT_CHANNELS, IN } from '../src/abi/channels.js';
import { recordInputFrames } from '../src/bench/bench.js';
import type { Core } from '../src/core/core.js';
import {
  armBranchFlip,
  armResultFlip,
  disarm,
  faultArmed,
  hasFaultHooks,
  MAX_FAULT_INDEX,
  prepareFaultModule,
  readFaultCounters,
  resetFaultCounters,
} from '../src/core/fault-core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import {
  BRANCH_COUNT_GLOBAL,
  BRANCH_COUNTDOWN_GLOBAL,
  FAULT_FIRED_GLOBAL,
  FAULT_MASK_GLOBAL,
  HOOKED_PREFIX,
  RESULT_COUNT_GLOBAL,
  RESULT_COUNTDOWN_GLOBAL,
  type FaultHooksReport,
} from '../src/passes/fault-hooks.js';
import { CORE_PASSES, FAULT_HOOK_PASSES, ModuleError, PASSES, transformBinary } from '../src/passes/index.js';
import { choicesArbitrary, randomModuleText, runModule, sameOutcome, watWithFeatures } from './random-module.js';
import { newCore, referenceFsw, setupFor, wat } from './support.js';

const BUDGET = 1_000_000;
/** Armed so far away that it never fires: the whole run takes the hooked code. */
const FAR = 2 ** 31 - 1;

function hooked(bytes: Uint8Array, passes: readonly string[] = ['fault-hooks']): { binary: Uint8Array; report: FaultHooksReport } {
  const { binary, reports } = transformBinary(bytes, passes, 'test.wasm');
  return { binary, report: reports.get('fault-hooks') as FaultHooksReport };
}

interface Arming {
  result?: number;
  branch?: number;
  mask?: bigint;
}

function arm(arming: Arming): (exports: Record<string, unknown>) => void {
  return (exports) => {
    const set = (name: string, value: number | bigint) => ((exports[name] as WebAssembly.Global).value = value);
    if (arming.mask !== undefined) set(FAULT_MASK_GLOBAL, arming.mask);
    if (arming.result !== undefined) set(RESULT_COUNTDOWN_GLOBAL, arming.result);
    if (arming.branch !== undefined) set(BRANCH_COUNTDOWN_GLOBAL, arming.branch);
  };
}

function counters(exports: Record<string, unknown>) {
  const get = (name: string) => (exports[name] as WebAssembly.Global).value as number;
  return {
    results: get(RESULT_COUNT_GLOBAL),
    branches: get(BRANCH_COUNT_GLOBAL),
    fired: get(FAULT_FIRED_GLOBAL),
    resultCountdown: get(RESULT_COUNTDOWN_GLOBAL),
    branchCountdown: get(BRANCH_COUNTDOWN_GLOBAL),
  };
}

describe('fault-hooks on random modules', () => {
  it('unarmed, or armed beyond the run, a hooked module runs exactly as the plain one, and both copies count alike', () => {
    fc.assert(
      fc.property(choicesArbitrary, (choices) => {
        const bytes = watWithFeatures(randomModuleText(choices));
        const plain = runModule(bytes);
        const { binary } = hooked(bytes);
        const unarmed = runModule(binary);
        expect(sameOutcome(unarmed, plain)).toBe(true);
        const far = runModule(binary, arm({ result: FAR, branch: FAR }));
        expect(sameOutcome(far, plain)).toBe(true);
        const negative = runModule(binary, arm({ result: -5, branch: -1 }));
        expect(sameOutcome(negative, plain)).toBe(true);
        expect(counters(negative.exports).resultCountdown).toBe(-5);
        const [u, f] = [counters(unarmed.exports), counters(far.exports)];
        expect(u.fired).toBe(0);
        expect(f.fired).toBe(0);
        // Counts are exact for runs that complete (a trap leaves them short or over).
        if (plain.result.startsWith('ok')) {
          expect(u.results).toBe(f.results);
          expect(u.branches).toBe(f.branches);
          expect(f.resultCountdown).toBe(FAR - f.results);
          expect(f.branchCountdown).toBe(FAR - f.branches);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('arming n flips exactly once when n is below the count, never at or beyond it', () => {
    fc.assert(
      fc.property(choicesArbitrary, fc.nat(), fc.nat(), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), (choices, r, b, mask) => {
        const bytes = watWithFeatures(randomModuleText(choices));
        const plain = runModule(bytes);
        fc.pre(plain.result.startsWith('ok'));
        const { binary, report } = hooked(bytes);
        const golden = counters(runModule(binary).exports);
        if (golden.results > 0) {
          const n = r % golden.results;
          const run = runModule(binary, arm({ result: n + 1, mask: BigInt.asIntN(64, mask) }));
          const after = counters(run.exports);
          expect(after.fired).toBeGreaterThan(0);
          expect(report.sites[after.fired - 1].kind).toBe('value');
          expect(after.resultCountdown).toBe(0);
          // A zero mask fires without changing anything.
          const silent = runModule(binary, arm({ result: n + 1, mask: 0n }));
          expect(sameOutcome(silent, plain)).toBe(true);
          expect(counters(silent.exports).fired).toBe(after.fired);
        }
        const beyond = runModule(binary, arm({ result: golden.results + 1 + (r % 3), mask: -1n }));
        expect(sameOutcome(beyond, plain)).toBe(true);
        expect(counters(beyond.exports).fired).toBe(0);
        if (golden.branches > 0) {
          const n = b % golden.branches;
          const run = runModule(binary, arm({ branch: n + 1 }));
          const after = counters(run.exports);
          expect(after.fired).toBeGreaterThan(0);
          expect(report.sites[after.fired - 1].kind).toBe('branch');
          expect(after.branchCountdown).toBe(0);
        }
        const noBranch = runModule(binary, arm({ branch: golden.branches + 1 }));
        expect(sameOutcome(noBranch, plain)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('the n-th flip is the n-th site executed: firing n = 0, 1, 2 ... with a zero mask lists the sites in execution order', () => {
    // A straight-line function: the order of execution is the order of the text.
    const bytes = watWithFeatures(`(module (memory (export "memory") 1)
      (global $g (export "g") (mut i32) (i32.const 0)) (global $g64 (export "g64") (mut i64) (i64.const 0))
      (global $gf (export "gf") (mut f64) (f64.const 0))
      (func (export "run") (result i32)
        (i32.mul (i32.add (i32.load (i32.const 0)) (i32.const 1)) (i32.sub (i32.const 9) (i32.load (i32.const 4))))))`);
    const { binary, report } = hooked(bytes);
    expect(report.sites.map((site) => site.instruction)).toEqual(['Load', 'Binary', 'Load', 'Binary', 'Binary']);
    const order = [0, 1, 2, 3, 4].map((n) => counters(runModule(binary, arm({ result: n + 1, mask: 0n })).exports).fired - 1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(counters(runModule(binary, arm({ result: 6, mask: 0n })).exports).fired).toBe(0);
  });
});

/** A flight module whose step works on memory: values at fixed addresses, results stored back. */
function flightModule(body: string, locals = ''): { module: FlightModule; report: FaultHooksReport } {
  const bytes = wat(`(module (memory (export "memory") 1) (func (export "init")) (func (export "step") ${locals} ${body}))`);
  const { flightModule: module, report } = prepareFaultModule(bytes, 'test.wat');
  return { module, report };
}

function memory(core: Core) {
  const buffer = core.memory.buffer;
  return { i32: new Int32Array(buffer), i64: new BigInt64Array(buffer), f32: new Float32Array(buffer), f64: new Float64Array(buffer) };
}

describe('result flips', () => {
  // mem[8] = ((mem[0] + 1) + 2) + 3: the load is site 0, the additions sites 1, 2, 3.
  const chain = () => flightModule('(i32.store (i32.const 8) (i32.add (i32.add (i32.add (i32.load (i32.const 0)) (i32.const 1)) (i32.const 2)) (i32.const 3)))');

  it('arming n flips exactly the n-th value-producing instruction of a chain of additions', () => {
    const { module, report } = chain();
    expect(report).toMatchObject({ valueSites: 4, branchSites: 0, functionsInstrumented: 1 });
    expect(report.sites.map((site) => [site.kind, site.instruction, site.type])).toEqual([
      ['value', 'Load', 'i32'],
      ['value', 'Binary', 'i32'],
      ['value', 'Binary', 'i32'],
      ['value', 'Binary', 'i32'],
    ]);
    const core = newCore(module);
    const mem = memory(core).i32;
    mem[0] = 100;
    resetFaultCounters(core);
    expect(core.step(BUDGET).status).toBe('ok');
    expect(mem[2]).toBe(106);
    expect(readFaultCounters(core)).toEqual({ results: 4, branches: 0, fired: null });
    const mask = 1 << 10;
    // Flipping the value after k additions: ((100 + partial) ^ mask) + rest.
    const partial = [0, 1, 3, 6];
    for (let n = 0; n < 4; n++) {
      resetFaultCounters(core);
      armResultFlip(core, n, BigInt(mask));
      expect(faultArmed(core)).toBe(true);
      core.step(BUDGET);
      expect(faultArmed(core)).toBe(false);
      expect(mem[2]).toBe(((100 + partial[n]) ^ mask) + (6 - partial[n]));
      expect(readFaultCounters(core)).toEqual({ results: 4, branches: 0, fired: n });
    }
    resetFaultCounters(core);
    armResultFlip(core, 4, BigInt(mask));
    core.step(BUDGET);
    expect(mem[2]).toBe(106);
    expect(readFaultCounters(core).fired).toBeNull();
    expect(faultArmed(core)).toBe(true);
    disarm(core);
    expect(faultArmed(core)).toBe(false);
  });

  it('n counts from the arming across cycles: n = 5 is the second cycle\'s add after the load', () => {
    const core = newCore(chain().module);
    const mem = memory(core).i32;
    armResultFlip(core, 5, 1n);
    core.step(BUDGET);
    expect(readFaultCounters(core).fired).toBeNull();
    mem[0] = 100;
    core.step(BUDGET);
    expect(mem[2]).toBe((101 ^ 1) + 5);
    expect(readFaultCounters(core)).toEqual({ results: 8, branches: 0, fired: 1 });
  });

  it('flips i64, f32 and f64 results through their bits: bit 63 of an f64 and bit 31 of an f32 negate', () => {
    const { module, report } = flightModule(`
      (i64.store (i32.const 16) (i64.mul (i64.load (i32.const 0)) (i64.const 3)))
      (f32.store (i32.const 24) (f32.mul (f32.load (i32.const 8)) (f32.const 2)))
      (f64.store (i32.const 32) (f64.add (f64.load (i32.const 40)) (f64.const 0.5)))`);
    expect(report.sites.map((site) => `${site.instruction}:${site.type}`)).toEqual([
      'Load:i64', 'Binary:i64', 'Load:f32', 'Binary:f32', 'Load:f64', 'Binary:f64',
    ]);
    const core = newCore(module);
    const mem = memory(core);
    const run = (n: number | null, mask: bigint) => {
      mem.i64[0] = 1234567890123n;
      mem.f32[2] = 1.25;
      mem.f64[5] = 2.25;
      resetFaultCounters(core);
      if (n !== null) armResultFlip(core, n, mask);
      core.step(BUDGET);
      return { i64: mem.i64[2], f32: mem.f32[6], f64: mem.f64[4], fired: readFaultCounters(core).fired };
    };
    expect(run(null, 0n)).toEqual({ i64: 3703703670369n, f32: 2.5, f64: 2.75, fired: null });
    expect(run(1, 1n << 40n)).toEqual({ i64: 3703703670369n ^ (1n << 40n), f32: 2.5, f64: 2.75, fired: 1 });
    expect(run(0, 1n << 40n)).toEqual({ i64: (1234567890123n ^ (1n << 40n)) * 3n, f32: 2.5, f64: 2.75, fired: 0 });
    expect(run(3, 1n << 31n)).toEqual({ i64: 3703703670369n, f32: -2.5, f64: 2.75, fired: 3 });
    // A 32-bit result takes the mask's halves folded together: bit 40 flips bit 8 of an f32, and bits 31
    // and 63 together cancel out.
    const bit8 = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([2.5]).buffer)[0] ^ (1 << 8)]).buffer)[0];
    expect(run(3, 1n << 40n)).toEqual({ i64: 3703703670369n, f32: bit8, f64: 2.75, fired: 3 });
    expect(run(3, (1n << 63n) | (1n << 31n))).toEqual({ i64: 3703703670369n, f32: 2.5, f64: 2.75, fired: 3 });
    expect(run(5, 1n << 63n)).toEqual({ i64: 3703703670369n, f32: 2.5, f64: -2.75, fired: 5 });
    expect(run(4, 1n << 63n)).toEqual({ i64: 3703703670369n, f32: 2.5, f64: -2.25 + 0.5, fired: 4 });
    // Bit 52, the lowest exponent bit of 2.75 (2^1 · 1.375, biased exponent 1024), doubles it.
    expect(run(5, 1n << 52n).f64).toBe(5.5);
  });

  it('a flip that makes a loop spin is stopped by the watchdog: the hooked code keeps the fuel checks', () => {
    // i counts down from mem[0] to 0; flipping bit 31 of one decrement sends it 2^31 away.
    const { module } = flightModule(
      `(local.set $i (i32.load (i32.const 0)))
       (loop $again (br_if $again (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
       (i32.store (i32.const 4) (i32.add (i32.load (i32.const 4)) (i32.const 1)))`,
      '(local $i i32)',
    );
    const core = newCore(module);
    const mem = memory(core).i32;
    mem[0] = 10;
    const normal = { ...core.step(BUDGET) };
    expect(normal.status).toBe('ok');
    armResultFlip(core, 3, 1n << 31n);
    const spun = core.step(BUDGET);
    expect(spun.status).toBe('watchdog');
    expect(spun.instructions).toBeGreaterThanOrEqual(BUDGET);
    expect(readFaultCounters(core).fired).not.toBeNull();
    // The core runs its next cycle normally, unhooked.
    expect(faultArmed(core)).toBe(false);
    expect({ ...core.step(BUDGET) }).toEqual(normal);
    expect(mem[1]).toBe(2);
  });

  it('calls are value sites: an imported bus read and a local function result flip like any other value', () => {
    const bytes = wat(`(module
      (import "bus" "gyro_x" (func $gyro (result f64)))
      (import "bus" "torque_x" (func $torque (param f64)))
      (memory (export "memory") 1)
      (func $twice (param f64) (result f64) (f64.add (local.get 0) (local.get 0)))
      (func (export "init"))
      (func (export "step") (call $torque (call $twice (call $gyro)))))`);
    const { flightModule: module, report } = prepareFaultModule(bytes, 'calls.wat');
    // $twice: its add; step: the bus read, then the call of $twice.
    expect(report.sites.map((site) => site.instruction)).toEqual(['Binary', 'Call', 'Call']);
    expect(report.sites[1].function).toBe(report.sites[2].function);
    expect(report.sites[0].function).not.toBe(report.sites[1].function);
    const core = newCore(module);
    core.inputs[IN.gyro_x] = 1.5;
    const torque = (n: number | null) => {
      resetFaultCounters(core);
      if (n !== null) armResultFlip(core, n, 1n << 63n);
      core.step(BUDGET);
      return [core.outputs.values[0], readFaultCounters(core).fired];
    };
    expect(torque(null)).toEqual([3, null]);
    expect(torque(0)).toEqual([-3, 1]); // the bus read
    expect(torque(1)).toEqual([-3, 0]); // the add inside $twice
    expect(torque(2)).toEqual([-3, 2]); // the result of the call of $twice
    expect(readFaultCounters(core).results).toBe(3);
  });
});

describe('branch flips', () => {
  // if (mem[0]) mem[8] = 1 else mem[8] = 2; then a loop of five iterations (br_if back edge), i -> mem[12].
  const branches = () =>
    flightModule(
      `(if (i32.load (i32.const 0)) (then (i32.store (i32.const 8) (i32.const 1))) (else (i32.store (i32.const 8) (i32.const 2))))
       (loop $again
         (local.set $i (i32.add (local.get $i) (i32.const 1)))
         (br_if $again (i32.lt_u (local.get $i) (i32.const 5))))
       (i32.store (i32.const 12) (local.get $i))
       (block $c (block $b (block $a (br_table $a $b $c (i32.load (i32.const 4))))
           (i32.store (i32.const 16) (i32.const 10)) (return))
         (i32.store (i32.const 16) (i32.const 20)) (return))
       (i32.store (i32.const 16) (i32.const 30))`,
      '(local $i i32)',
    );

  it('arming n inverts exactly the n-th branch decision: the if, each loop test, the br_table index', () => {
    const { module, report } = branches();
    expect(report.sites.filter((site) => site.kind === 'branch').map((site) => `${site.instruction}:${site.type}`)).toEqual([
      'If:condition',
      'Break:condition',
      'Switch:index',
    ]);
    const core = newCore(module);
    const mem = memory(core).i32;
    const run = (n: number | null, tableBit = 0) => {
      mem[0] = 1;
      mem[1] = 0;
      resetFaultCounters(core);
      if (n !== null) armBranchFlip(core, n, tableBit);
      expect(core.step(BUDGET).status).toBe('ok');
      const { branches: count, fired } = readFaultCounters(core);
      return { then: mem[2], iterations: mem[3], table: mem[4], count, fired: fired === null ? null : report.sites[fired].instruction };
    };
    expect(run(null)).toEqual({ then: 1, iterations: 5, table: 10, count: 7, fired: null });
    expect(run(0)).toEqual({ then: 2, iterations: 5, table: 10, count: 7, fired: 'If' });
    // The j-th loop test (n = j) stops the loop after j iterations; the last one makes it run once more.
    for (let j = 1; j <= 4; j++) expect(run(j)).toEqual({ then: 1, iterations: j, table: 10, count: 7 - (5 - j), fired: 'Break' });
    expect(run(5)).toEqual({ then: 1, iterations: 6, table: 10, count: 8, fired: 'Break' });
    // br_table index 0: bit 0 flipped is 1 ($b: 20), bit 1 is 2 ($c: 30), bit 5 is past the table (default $c).
    expect(run(6, 0)).toMatchObject({ table: 20, fired: 'Switch' });
    expect(run(6, 1)).toMatchObject({ table: 30, fired: 'Switch' });
    expect(run(6, 5)).toMatchObject({ table: 30, fired: 'Switch' });
    expect(run(7)).toMatchObject({ then: 1, iterations: 5, table: 10, fired: null });
  });

  it('a select condition is a branch decision, and the select a value site', () => {
    const { module, report } = flightModule('(i32.store (i32.const 8) (select (i32.const 11) (i32.const 22) (i32.load (i32.const 0))))');
    expect(report.sites.map((site) => `${site.kind}:${site.instruction}`)).toEqual(['value:Load', 'branch:Select', 'value:Select']);
    const core = newCore(module);
    const mem = memory(core).i32;
    mem[0] = 7;
    core.step(BUDGET);
    expect(mem[2]).toBe(11);
    armBranchFlip(core, 0);
    core.step(BUDGET);
    expect(mem[2]).toBe(22);
    expect(readFaultCounters(core)).toMatchObject({ results: 4, branches: 2, fired: 1 });
  });
});

describe('fault-hooks with the core passes', () => {
  const bytes = readFileSync(REFERENCE_FSW);
  const prepared = prepareFaultModule(bytes, REFERENCE_FSW);
  const hookedModule = prepared.flightModule;
  const report = prepared.report;

  it('runs last in FAULT_HOOK_PASSES, is registered, and reports the reference software\'s sites', () => {
    expect(FAULT_HOOK_PASSES).toEqual([...CORE_PASSES, 'fault-hooks']);
    expect(PASSES.get('fault-hooks')?.name).toBe('fault-hooks');
    expect(report.valueSites).toBeGreaterThan(100);
    expect(report.branchSites).toBeGreaterThan(5);
    expect(report.sites).toHaveLength(report.valueSites + report.branchSites);
    expect(report.sites.every((site, id) => site.id === id)).toBe(true);
    expect(report.functionsInstrumented).toBeGreaterThan(0);
    // No lockstep instrumentation is a site, and the hooked twins are not exported.
    expect(report.sites.every((site) => !site.function.startsWith('__lockstep_'))).toBe(true);
    const exported = WebAssembly.Module.exports(hookedModule.compiled).map((entry) => entry.name);
    expect(exported.filter((name) => name.startsWith(HOOKED_PREFIX))).toEqual([]);
    expect(exported).toEqual(expect.arrayContaining([RESULT_COUNTDOWN_GLOBAL, BRANCH_COUNTDOWN_GLOBAL, FAULT_MASK_GLOBAL, RESULT_COUNT_GLOBAL, BRANCH_COUNT_GLOBAL, FAULT_FIRED_GLOBAL]));
    // The hook globals are not part of a core's state.
    expect(hookedModule.stateGlobals).toEqual(referenceFsw().stateGlobals);
  });

  it('refuses to hook a module twice', () => {
    expect(() => transformBinary(bytes, [...FAULT_HOOK_PASSES, 'fault-hooks'], 'twice.wasm')).toThrow(ModuleError);
    expect(() => transformBinary(bytes, [...FAULT_HOOK_PASSES, 'fault-hooks'], 'twice.wasm')).toThrow(/applied twice/);
  });

  it('the host helpers refuse a core without hooks and an index out of range', () => {
    const plain = newCore(referenceFsw());
    expect(hasFaultHooks(plain)).toBe(false);
    expect(() => armResultFlip(plain, 0, 1n)).toThrow(/fault-hooks/);
    const core = newCore(hookedModule);
    expect(hasFaultHooks(core)).toBe(true);
    expect(() => armResultFlip(core, -1, 1n)).toThrow(RangeError);
    expect(() => armResultFlip(core, MAX_FAULT_INDEX + 1, 1n)).toThrow(RangeError);
    expect(() => armResultFlip(core, 1.5, 1n)).toThrow(RangeError);
    expect(() => armBranchFlip(core, 0, 32)).toThrow(RangeError);
    armResultFlip(core, MAX_FAULT_INDEX, -1n);
    expect(core.exportedGlobal(RESULT_COUNTDOWN_GLOBAL).value).toBe(2 ** 31 - 1);
    expect(core.exportedGlobal(FAULT_MASK_GLOBAL).value).toBe(-1n);
    armBranchFlip(core, 3, 7);
    expect(core.exportedGlobal(FAULT_MASK_GLOBAL).value).toBe(-32n | 7n);
    expect(() => prepareFaultModule(bytes, 'x', { passes: CORE_PASSES })).toThrow(/must end with fault-hooks/);
  });

  // Frames of a real closed-loop flight, then random ones, so both the usual paths and odd ones run.
  const setup = setupFor({ duration: 10 });
  const realFrames = recordInputFrames(setup, 60);
  const frameArbitrary = fc.tuple(fc.nat(realFrames.length - 1), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: INPUT_CHANNELS.length, maxLength: INPUT_CHANNELS.length }), fc.boolean(), fc.boolean()).map(([i, random, useRandom, valid]) => {
    if (!useRandom) return realFrames[i];
    const frame = Float64Array.from(random);
    frame[IN.dt] = 0.1;
    frame[IN.star_valid] = valid ? 1 : 0;
    return frame;
  });

  function bootPair() {
    const plain = newCore(referenceFsw(), 'plain');
    const hookedCore = newCore(hookedModule, 'hooked');
    const again = newCore(hookedModule, 'again');
    for (const core of [plain, hookedCore, again]) expect(core.boot(setup.computer.bootInstructions).status).toBe('ok');
    return { plain, hookedCore, again };
  }

  const sameState = (a: Core, b: Core) => Buffer.compare(a.memoryBytes(), b.memoryBytes()) === 0 && a.globals.every((global, i) => Object.is(global.value, b.globals[i].value));

  it('unarmed, a hooked core equals the plain one on the reference software: outputs, memory, globals, instructions, dirty blocks', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 12 }), (frames) => {
        const { plain, hookedCore, again } = bootPair();
        for (const frame of frames) {
          plain.inputs = hookedCore.inputs = again.inputs = frame;
          resetFaultCounters(hookedCore);
          resetFaultCounters(again);
          const expected = { ...plain.step(BUDGET) };
          expect({ ...hookedCore.step(BUDGET) }).toEqual(expected);
          expect({ ...again.step(BUDGET) }).toEqual(expected);
          expect(hookedCore.outputs.sameAs(plain.outputs)).toBe(true);
          expect(sameState(hookedCore, plain)).toBe(true);
          expect(hookedCore.dirtyBlocks()).toBe(plain.dirtyBlocks());
          // Counts per cycle are deterministic.
          const counts = readFaultCounters(hookedCore);
          expect(readFaultCounters(again)).toEqual(counts);
          expect(counts.fired).toBeNull();
          expect(counts.results).toBeGreaterThan(0);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('armed beyond the cycle, a hooked core runs its hooked code and still equals the plain one, with the same counts', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary, { minLength: 1, maxLength: 8 }), (frames) => {
        const { plain, hookedCore, again } = bootPair();
        for (const frame of frames) {
          plain.inputs = hookedCore.inputs = again.inputs = frame;
          resetFaultCounters(hookedCore);
          resetFaultCounters(again);
          armResultFlip(again, MAX_FAULT_INDEX, -1n);
          armBranchFlip(again, MAX_FAULT_INDEX);
          const expected = { ...plain.step(BUDGET) };
          expect({ ...hookedCore.step(BUDGET) }).toEqual(expected);
          expect({ ...again.step(BUDGET) }).toEqual(expected);
          expect(again.outputs.sameAs(plain.outputs)).toBe(true);
          expect(sameState(again, plain)).toBe(true);
          expect(readFaultCounters(again)).toEqual(readFaultCounters(hookedCore));
          expect(again.exportedGlobal(RESULT_COUNTDOWN_GLOBAL).value).toBe(2 ** 31 - 1 - readFaultCounters(again).results);
          disarm(again);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('the C flight program (examples/c-adcs, clang) too: unarmed and armed beyond the cycle it equals the plain build, with equal counts', () => {
    const path = fileURLToPath(new URL('../examples/c-adcs/adcs.wasm', import.meta.url));
    const plainModule = FlightModule.fromFile(path);
    const { flightModule: cModule, report: cReport } = prepareFaultModule(readFileSync(path), path);
    expect(cReport.valueSites).toBeGreaterThan(100);
    const cSetup = setupFor({ duration: 10, fsw: path }, plainModule);
    const [plain, unarmed, armed] = [newCore(plainModule), newCore(cModule), newCore(cModule)];
    for (const core of [plain, unarmed, armed]) expect(core.boot(cSetup.computer.bootInstructions).status).toBe('ok');
    for (const frame of recordInputFrames(cSetup, 30)) {
      plain.inputs = unarmed.inputs = armed.inputs = frame;
      resetFaultCounters(unarmed);
      resetFaultCounters(armed);
      armResultFlip(armed, MAX_FAULT_INDEX, 1n);
      armBranchFlip(armed, MAX_FAULT_INDEX);
      const expected = { ...plain.step(BUDGET) };
      expect({ ...unarmed.step(BUDGET) }).toEqual(expected);
      expect({ ...armed.step(BUDGET) }).toEqual(expected);
      for (const core of [unarmed, armed]) {
        expect(core.outputs.sameAs(plain.outputs)).toBe(true);
        expect(sameState(core, plain)).toBe(true);
      }
      expect(readFaultCounters(armed)).toEqual(readFaultCounters(unarmed));
      expect(readFaultCounters(unarmed).results).toBeGreaterThan(0);
    }
  });

  it('a result flip in a cycle of the reference software is sometimes masked, sometimes changes the outputs', () => {
    const { plain, hookedCore } = bootPair();
    // Fly a few cycles, then take the state before the next one.
    for (const frame of realFrames.slice(0, 20)) {
      plain.inputs = hookedCore.inputs = frame;
      plain.step(BUDGET);
      hookedCore.step(BUDGET);
    }
    const frame = realFrames[20];
    plain.inputs = hookedCore.inputs = frame;
    const memorySnapshot = Uint8Array.from(hookedCore.memoryBytes());
    const globalsSnapshot = hookedCore.globals.map((global) => global.value);
    const restore = () => {
      hookedCore.memoryBytes().set(memorySnapshot);
      hookedCore.globals.forEach((global, i) => (global.value = globalsSnapshot[i]));
    };
    plain.step(BUDGET);
    resetFaultCounters(hookedCore);
    hookedCore.step(BUDGET);
    const golden = readFaultCounters(hookedCore);
    expect(hookedCore.outputs.sameAs(plain.outputs)).toBe(true);
    expect(golden.results).toBeGreaterThan(50);
    const outcomes = { masked: 0, outputs: 0, trapOrWatchdog: 0 };
    const random = fc.sample(fc.tuple(fc.nat(golden.results - 1), fc.nat(63)), { numRuns: 200, seed: 7 });
    for (const [n, bit] of random) {
      restore();
      resetFaultCounters(hookedCore);
      armResultFlip(hookedCore, n, 1n << BigInt(bit));
      const result = hookedCore.step(BUDGET);
      const after = readFaultCounters(hookedCore);
      expect(after.fired).not.toBeNull();
      expect(report.sites[after.fired!].kind).toBe('value');
      disarm(hookedCore);
      if (result.status !== 'ok') outcomes.trapOrWatchdog++;
      else if (hookedCore.outputs.sameAs(plain.outputs)) outcomes.masked++;
      else outcomes.outputs++;
    }
    expect(outcomes.masked).toBeGreaterThan(0);
    expect(outcomes.outputs).toBeGreaterThan(0);
    // Restored and unarmed, the cycle is the golden one again.
    restore();
    resetFaultCounters(hookedCore);
    hookedCore.step(BUDGET);
    expect(hookedCore.outputs.sameAs(plain.outputs)).toBe(true);
    expect(readFaultCounters(hookedCore)).toEqual(golden);
  });

  it('a branch flip in a cycle of the reference software fires for every n below the count', () => {
    const { hookedCore } = bootPair();
    hookedCore.inputs = realFrames[5];
    const memorySnapshot = Uint8Array.from(hookedCore.memoryBytes());
    const globalsSnapshot = hookedCore.globals.map((global) => global.value);
    resetFaultCounters(hookedCore);
    hookedCore.step(BUDGET);
    const golden = readFaultCounters(hookedCore);
    expect(golden.branches).toBeGreaterThan(0);
    for (let n = 0; n <= golden.branches; n++) {
      hookedCore.memoryBytes().set(memorySnapshot);
      hookedCore.globals.forEach((global, i) => (global.value = globalsSnapshot[i]));
      resetFaultCounters(hookedCore);
      armBranchFlip(hookedCore, n);
      hookedCore.step(BUDGET);
      const fired = readFaultCounters(hookedCore).fired;
      if (n < golden.branches) expect(report.sites[fired!].kind).toBe('branch');
      else expect(fired).toBeNull();
      disarm(hookedCore);
    }
  });
});
