// SWIFT and EDDI (src/passes/swift.ts, eddi.ts, duplicate.ts, checks.ts, opaque-zero.ts; src/harden.ts): a hardened module
// computes bit for bit what the original computes, on generated programs and inputs and on the reference
// flight software cycle by cycle; a flipped bit in a value or a shadow is caught; the checks survive
// Binaryen's -O3; options, errors, the report and the command line. The same properties with every
// function compiled by V8's optimizing compiler: harden-turbofan.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInputFrames } from '../src/bench/bench.js';
import { benchHardening, benchKernelHardening, formatHardeningBench, kernelPath, KERNELS } from '../src/bench/hardening-bench.js';
import { HARDENINGS, HARDENING_NAMES } from '../src/hardenings.js';
import { Core } from '../src/core/core.js';
import { inspectModule } from '../src/abi/contract.js';
import { prepareFaultModule } from '../src/core/fault-core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { EXIT } from '../src/cli/errors.js';
import { CHECK_FAMILIES, DEFAULT_FAMILIES, hardenInPlace, hardenModule, HardenOptionsError, type CheckFamily, type HardenOptions } from '../src/harden.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import binaryen from '../src/passes/binaryen.js';
import { definedFunctions } from '../src/passes/expressions.js';
import { CHECK_IMPORT, CHECK_MODULE } from '../src/passes/checks.js';
import { OPAQUE_ZERO_F64_GLOBAL, OPAQUE_ZERO_GLOBAL } from '../src/passes/opaque-zero.js';
import { ModuleError, readModule, transformBinary } from '../src/passes/index.js';
import { assemble, choicesArbitrary, inputArbitrary, observable, programText, runEveryKindModule, runProgram } from './harden-programs.js';
import { COUNTDOWN_GLOBAL, MASK_GLOBAL, hardenWithFlipHook } from './harden-inject.js';
import { choicesArbitrary as everyKindChoices, randomModuleText, watWithFeatures } from './random-module.js';
import { agreeOn, checkSites, cli, inputsArbitrary, MODES, optimizeO3, referenceBytes } from './harden-support.js';
import { fly, outputBits, setupFor, wat } from './support.js';

describe('semantics: a hardened program computes what the original computes', () => {
  for (const mode of MODES) {
    it(`${mode}: same result bits or trap, same memory, globals and host calls, on generated programs and inputs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, (choices, inputs) => agreeOn(programText(choices), { mode }, inputs)),
        { numRuns: 300 },
      );
    });

    it(`${mode}: the same with any set of check families (none included), loads reloaded or copied, and deeper programs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, fc.subarray([...CHECK_FAMILIES]), fc.integer({ min: 2, max: 6 }), fc.boolean(), (choices, inputs, families, depth, copyLoads) =>
          agreeOn(programText(choices, depth), { mode, families: families as CheckFamily[], swiftLoads: mode === 'swift' && copyLoads ? 'copy' : undefined }, inputs),
        ),
        { numRuns: 150 },
      );
    });
  }

  for (const mode of MODES) {
    it(`${mode}: the same on random modules using every expression kind (SIMD, tuples, bulk memory, br_table with values...)`, () => {
      fc.assert(
        fc.property(everyKindChoices, (choices) => {
          const original = watWithFeatures(randomModuleText(choices));
          const { binary } = hardenModule(original, { mode, families: [...CHECK_FAMILIES] });
          const expected = runEveryKindModule(new WebAssembly.Module(original as Uint8Array<ArrayBuffer>));
          const actual = runEveryKindModule(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), { doubled: mode === 'eddi' });
          expect(observable(actual)).toEqual(observable(expected));
          if (mode === 'eddi') expect(actual.shadow).toBe(actual.memory);
        }),
        { numRuns: 300 },
      );
    });
  }

});

describe('detection: a flipped bit in a value or in its shadow is caught', () => {
  for (const [mode, swiftLoads] of [['swift', 'copy'], ['swift', 'reload'], ['eddi', undefined]] as const) {
    it(`${mode}${swiftLoads ? ` (loads: ${swiftLoads})` : ''}: flipping any bit of any computed value or shadow, at any execution, is caught by a check or a trap, or changes nothing`, () => {
      let detected = 0;
      let masked = 0;
      fc.assert(
        fc.property(
          choicesArbitrary,
          inputArbitrary,
          fc.array(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bit: fc.nat({ max: 63 }) }), { minLength: 1, maxLength: 8 }),
          (choices, input, flips) => {
            // NaNs canonicalized where observable: the checks take two NaNs as equal (checks.ts),
            // so a flip that leaves a NaN a NaN (its sign, its payload) goes unseen, by design.
            const original = assemble(programText(choices, 4, { canonicalNaNs: true }));
            const { binary, sites } = hardenWithFlipHook(original, mode, CHECK_FAMILIES, { swiftLoads });
            fc.pre(sites > 0);
            const compiled = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
            const doubled = mode === 'eddi';
            const countdown = (exports: Record<string, unknown>) => exports[COUNTDOWN_GLOBAL] as WebAssembly.Global;
            let executed = 0;
            const golden = observable(
              runProgram(compiled, input, { doubled, afterRun: (exports) => (executed = -1 - (countdown(exports).value as number)) }),
            );
            expect(golden).toEqual(observable(runProgram(new WebAssembly.Module(original as Uint8Array<ArrayBuffer>), input)));
            for (const flip of flips) {
              if (executed === 0) break;
              const n = Math.floor(flip.at * executed);
              const outcome = observable(
                runProgram(compiled, input, {
                  doubled,
                  before: (exports) => {
                    countdown(exports).value = n;
                    (exports[MASK_GLOBAL] as WebAssembly.Global).value = 1n << BigInt(flip.bit);
                  },
                  afterRun: (exports) => (countdown(exports).value = -1),
                }),
              );
              if (outcome.result !== golden.result && /^(check|trap)/.test(outcome.result)) detected++;
              else {
                // Not detected: then nothing observable changed (no silent corruption).
                expect(outcome).toEqual(golden);
                masked++;
              }
            }
          },
        ),
        { numRuns: 150 },
      );
      expect(detected).toBeGreaterThan(masked / 10);
    });
  }
});





describe('the checks survive the optimizers', () => {
  for (const mode of MODES) {
    it(`${mode}: every check site of the hardened reference flight software is still called after Binaryen -O3, and still detects`, () => {
      const { binary, report } = hardenModule(referenceBytes(), { mode });
      const before = checkSites(binary);
      expect([...before.keys()].sort((a, b) => a - b)).toEqual(report.sites.map((site) => site.id));
      const optimized = optimizeO3(binary);
      expect(optimized.length).toBeLessThan(binary.length);
      const after = checkSites(optimized);
      // Every site is still there (inlining may copy one; none folded away, none merged), after -O4 too.
      expect([...after.keys()].sort((a, b) => a - b)).toEqual([...before.keys()].sort((a, b) => a - b));
      expect([...checkSites(optimizeO3(binary, 4)).keys()].sort((a, b) => a - b)).toEqual([...before.keys()].sort((a, b) => a - b));

      // The optimized module flies as the plain one does, and shadows made to differ are still caught.
      const setup = setupFor({});
      const frames = recordInputFrames(setup, 20);
      const plain = new Core(setup.flightModule, 'plain', frames[0]);
      const hardened = new Core(FlightModule.fromBytes(optimized, `adcs-${mode}-O3`), mode, frames[0]);
      plain.boot(setup.computer.bootInstructions);
      expect(hardened.boot(setup.computer.bootInstructions).status).toBe('ok');
      for (const frame of frames.slice(0, 10)) {
        plain.inputs = hardened.inputs = frame;
        plain.step(setup.computer.watchdogInstructions);
        expect(hardened.step(setup.computer.watchdogInstructions).status).toBe('ok');
        expect(outputBits(hardened.outputs)).toEqual(outputBits(plain.outputs));
      }
      hardened.exportedGlobal(OPAQUE_ZERO_F64_GLOBAL).value = 1;
      hardened.inputs = frames[10];
      expect(hardened.step(setup.computer.watchdogInstructions).status).toBe('check');
    });

    it(`${mode}: without the opaque zero (the control experiment), Binaryen -O4 merges shadows with their values and deletes checks`, () => {
      // Loads shadowed by a copy (SWIFT as the paper has it) are what -O4 sees through best (measured: 77
      // of 117 checks left); loads done twice (SWIFT's default) or from shadow memory (EDDI) keep more of
      // the shadows apart (101 of 117).
      const loadings = mode === 'swift' ? (['copy', 'reload'] as const) : ([undefined] as const);
      for (const swiftLoads of loadings) {
        const module = readModule(referenceBytes(), 'adcs');
        let binary: Uint8Array;
        try {
          hardenInPlace(module, { mode, families: new Set(DEFAULT_FAMILIES), hardens: () => true, opaque: false, swiftLoads });
          binary = module.emitBinary();
        } finally {
          module.dispose();
        }
        const before = checkSites(binary).size;
        const after = checkSites(optimizeO3(binary, 4)).size;
        expect(before).toBe(hardenModule(referenceBytes(), { mode, swiftLoads }).report.checks.total);
        expect(after, swiftLoads).toBeLessThan(before * (swiftLoads === 'copy' ? 0.75 : 0.9));
      }
    });
  }

});

describe('hardened builds compute what the plain ones do: outputs and memory, cycle by cycle, on recorded inputs', () => {
  const modules: Array<[string, string, number]> = [['reference flight software', REFERENCE_FSW, 500], ...KERNELS.map((kernel): [string, string, number] => [kernel, kernelPath(kernel), 100])];
  for (const [name, path, cycles] of modules) {
    it.each(HARDENING_NAMES)(`${name}, %s`, (hardening) => {
      const module = FlightModule.fromFile(path);
      const setup = setupFor({ fsw: path }, module);
      const frames = recordInputFrames(setup, cycles);
      const eddi = HARDENINGS[hardening].mode === 'eddi';
      const { binary } = hardenModule(readFileSync(path), { ...HARDENINGS[hardening], source: path });
      const plain = new Core(module, 'plain', frames[0]);
      const hardened = new Core(FlightModule.fromBytes(binary, `${name} (${hardening})`), hardening, frames[0]);
      const programMemory = () => {
        const bytes = hardened.memoryBytes();
        return eddi ? bytes.subarray(bytes.length / 2) : bytes;
      };
      const sameState = () => {
        expect(Buffer.compare(programMemory(), plain.memoryBytes())).toBe(0);
        if (eddi) expect(Buffer.compare(hardened.memoryBytes().subarray(0, plain.memoryBytes().length), plain.memoryBytes())).toBe(0);
      };
      plain.boot(setup.computer.bootInstructions);
      expect(hardened.boot(setup.computer.bootInstructions).status).toBe('ok');
      sameState();
      for (const frame of frames) {
        plain.inputs = hardened.inputs = frame;
        expect(plain.step(setup.computer.watchdogInstructions).status).toBe('ok');
        expect(hardened.step(setup.computer.watchdogInstructions).status).toBe('ok');
        expect(outputBits(hardened.outputs)).toEqual(outputBits(plain.outputs));
        sameState();
      }
    });
  }
});

describe('the reference flight software hardened', () => {
  for (const mode of MODES) {
    it(`${mode}: flies the reference mission in the flight computer with the plain build's command stream`, () => {
      const { binary } = hardenModule(referenceBytes(), { mode });
      const module = FlightModule.fromBytes(binary, `adcs-${mode}`);
      const plain = fly(setupFor({ duration: 60 }), []).result;
      const hardened = fly(setupFor({ duration: 60 }, module), []).result;
      expect(hardened.commandDigest).toBe(plain.commandDigest);
      expect(hardened.detections).toEqual(plain.detections);
    });
  }

  it('eddi: a flipped bit anywhere in either copy of memory is caught by a check, or changes no output, within the next cycles', () => {
    const setup = setupFor({});
    const frames = recordInputFrames(setup, 60);
    const { binary } = hardenModule(referenceBytes(), { mode: 'eddi' });
    const module = FlightModule.fromBytes(binary, 'adcs-eddi');
    const golden = new Core(module, 'golden', frames[0]);
    golden.boot(setup.computer.bootInstructions);
    const goldenOutputs: string[] = [];
    for (const frame of frames) {
      golden.inputs = frame;
      golden.step(setup.computer.watchdogInstructions);
      goldenOutputs.push(JSON.stringify(outputBits(golden.outputs)));
    }
    // Addresses the software uses (either copy), from its memory after the flight.
    const used: number[] = [];
    golden.memoryBytes().forEach((byte, address) => byte !== 0 && used.push(address));
    const outcomes = { detected: 0, masked: 0 };
    fc.assert(
      fc.property(fc.nat({ max: used.length - 1 }), fc.nat({ max: 7 }), fc.integer({ min: 0, max: 30 }), (which, bit, cycle) => {
        const core = new Core(module, 'faulty', frames[0]);
        core.boot(setup.computer.bootInstructions);
        for (let c = 0; c < cycle; c++) {
          core.inputs = frames[c];
          core.step(setup.computer.watchdogInstructions);
        }
        core.memoryBytes()[used[which]] ^= 1 << bit;
        for (let c = cycle; c < frames.length; c++) {
          core.inputs = frames[c];
          const status = core.step(setup.computer.watchdogInstructions).status;
          if (status !== 'ok') {
            expect(status).toBe('check');
            outcomes.detected++;
            return;
          }
          expect(JSON.stringify(outputBits(core.outputs))).toBe(goldenOutputs[c]);
        }
        outcomes.masked++;
      }),
      { numRuns: 150 },
    );
    // Much of the state is overwritten before it is read again (a flip there changes nothing).
    expect(outcomes.detected).toBeGreaterThan(20);
  });
});

/** The functions a binary defines, by Binaryen name (the index when the binary has no names). */
function functionNames(bytes: Uint8Array): string[] {
  const module = readModule(bytes, 'names');
  try {
    return definedFunctions(module).map((fn) => binaryen.getFunctionInfo(fn).name);
  } finally {
    module.dispose();
  }
}

describe('options and report', () => {
  it('reports what was duplicated and checked, by family and site, and the cost in bytes', () => {
    const bytes = referenceBytes();
    for (const mode of MODES) {
      const { binary, report } = hardenModule(bytes, { mode });
      expect(report.mode).toBe(mode);
      expect(report.families).toEqual(DEFAULT_FAMILIES);
      expect(report.functions.hardened).toEqual(functionNames(bytes));
      expect(report.functions.leftAlone).toEqual([]);
      expect(report.instructionsDuplicated).toBeGreaterThan(300);
      expect(report.checks.total).toBe(report.sites.length);
      expect(Object.values(report.checks.byFamily).reduce((a, b) => a + b, 0)).toBe(report.checks.total);
      expect(report.checks.byFamily.stores).toBeGreaterThan(50);
      expect(report.checks.byFamily.branches).toBeGreaterThan(20);
      expect(report.checks.byFamily.loads).toBe(0);
      expect(report.sites.map((site) => site.id)).toEqual(report.sites.map((_, i) => i));
      expect(report.bytes).toEqual({ original: bytes.length, hardened: binary.length, ratio: binary.length / bytes.length });
      expect(report.loadShadows).toBe(mode === 'eddi' ? 'shadow memory' : 'reloaded');
      expect(report.memory).toEqual(mode === 'eddi' ? { originalPages: 1, hardenedPages: 2, programOffset: 65536 } : null);
      expect(WebAssembly.Module.imports(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>))).toContainEqual({ module: CHECK_MODULE, name: CHECK_IMPORT, kind: 'function' });
    }
    expect(hardenModule(bytes, { mode: 'swift', swiftLoads: 'copy' }).report.loadShadows).toBe('copied');
    expect(hardenModule(bytes, { mode: 'swift', swiftLoads: 'reload' }).binary).toEqual(hardenModule(bytes, { mode: 'swift' }).binary);
  });

  it('calls a pure import again for the shadow: a wrong first answer is caught, and the report counts the calls', () => {
    const bytes = wat(`(module (import "bus" "gyro" (func $gyro (result f64))) (import "env" "clock" (func $clock (result f64)))
      (memory (export "memory") 1)
      (func (export "step") (f64.store (i32.const 8) (f64.add (call $gyro) (call $clock)))))`);
    const run = (binary: Uint8Array, gyro: () => number) => {
      const calls = { gyro: 0, clock: 0, checks: [] as number[] };
      const instance = new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), {
        bus: { gyro: () => (calls.gyro++, gyro()) },
        env: { clock: () => (calls.clock++, 2.5) },
        [CHECK_MODULE]: { [CHECK_IMPORT]: (site: number) => void calls.checks.push(site) },
      });
      let trapped = false;
      try {
        (instance.exports.step as () => void)();
      } catch {
        trapped = true;
      }
      return { ...calls, trapped, stored: new Float64Array((instance.exports.memory as WebAssembly.Memory).buffer, 8, 1)[0] };
    };
    for (const mode of MODES) {
      const { binary, report } = hardenModule(bytes, { mode, pureImports: ['bus.*'] });
      expect(report.importCallsRepeated).toBe(1);
      // Only the pure one is asked twice; the stored value is the plain build's.
      expect(run(binary, () => 1.25)).toMatchObject({ gyro: 2, clock: 1, checks: [], trapped: false, stored: 3.75 });
      // A first answer that differs from the second (a flipped result) is a detection before the store.
      let answer = 0;
      const flipped = run(binary, () => (answer++ === 0 ? 1.5 : 1.25));
      expect(flipped.checks).toHaveLength(1);
      expect(flipped).toMatchObject({ trapped: true, stored: 0 });
      // Named one by one, or not at all: the result is copied and a wrong answer goes through.
      expect(hardenModule(bytes, { mode, pureImports: ['bus.gyro'] }).report.importCallsRepeated).toBe(1);
      const copied = hardenModule(bytes, { mode }).binary;
      answer = 0;
      expect(run(copied, () => (answer++ === 0 ? 1.5 : 1.25))).toMatchObject({ gyro: 1, checks: [], trapped: false, stored: 4 });
    }
    expect(() => hardenModule(bytes, { mode: 'swift', pureImports: ['bus'] })).toThrow(/pureImports: "bus" names no import/);
  });

  it("checks a branch's decision in the arm taken: a shadow condition going the other way is caught, one going the same way changes nothing", () => {
    // The shadow of $c is $c xor the opaque zero, which the test sets: 2 turns 1 into 3 (the same way) and
    // 0 into 2 (the other way); 1 turns 1 into 0.
    const bytes = wat(`(module (memory (export "memory") 1)
      (func (export "if") (param $c i32) (result i32) (if (result i32) (local.get $c) (then (i32.const 10)) (else (i32.const 20))))
      (func (export "br_if") (param $c i32) (result i32) (block $taken (br_if $taken (local.get $c)) (return (i32.const 30))) (i32.const 40)))`);
    for (const mode of MODES) {
      const compiled = new WebAssembly.Module(hardenModule(bytes, { mode, families: ['branches'] }).binary as Uint8Array<ArrayBuffer>);
      const run = (name: string, c: number, zero: number) => {
        const checks: number[] = [];
        const instance = new WebAssembly.Instance(compiled, { [CHECK_MODULE]: { [CHECK_IMPORT]: (site: number) => void checks.push(site) } });
        (instance.exports[OPAQUE_ZERO_GLOBAL] as WebAssembly.Global).value = zero;
        try {
          return { result: (instance.exports[name] as (c: number) => number)(c), checks };
        } catch {
          return { result: 'trap', checks };
        }
      };
      for (const [name, taken, notTaken] of [['if', 10, 20], ['br_if', 40, 30]] as const) {
        expect(run(name, 1, 0)).toEqual({ result: taken, checks: [] });
        expect(run(name, 0, 0)).toEqual({ result: notTaken, checks: [] });
        expect(run(name, 1, 2)).toEqual({ result: taken, checks: [] });
        expect(run(name, 0, 2)).toMatchObject({ result: 'trap', checks: [expect.any(Number)] });
        expect(run(name, 1, 1)).toMatchObject({ result: 'trap', checks: [expect.any(Number)] });
      }
    }
  });

  it('inserts only the check families asked for', () => {
    for (const families of [[], ['stores'], ['branches', 'returns'], [...CHECK_FAMILIES]] as CheckFamily[][]) {
      const { report } = hardenModule(referenceBytes(), { mode: 'swift', families });
      expect(report.families).toEqual(CHECK_FAMILIES.filter((family) => families.includes(family)));
      for (const family of CHECK_FAMILIES) if (!families.includes(family)) expect(report.checks.byFamily[family]).toBe(0);
      if (families.length === 0) expect(report.checks.total).toBe(0);
      else expect(report.checks.total).toBeGreaterThan(0);
    }
    // Most loads of the reference software are at constant addresses: nothing to compare there.
    expect(hardenModule(referenceBytes(), { mode: 'swift', families: ['loads'] }).report.checks.byFamily.loads).toBeGreaterThan(10);
  });

  it('hardens only the functions asked for, by name or export name, or all but those left alone', () => {
    const bytes = referenceBytes();
    const names = functionNames(bytes);
    const only = hardenModule(bytes, { mode: 'swift', functions: { include: ['step'] } }).report;
    expect(only.functions.hardened).toHaveLength(1);
    expect(only.functions.leftAlone).toHaveLength(names.length - 1);
    expect(only.sites.every((site) => site.function === only.functions.hardened[0])).toBe(true);
    const skip = hardenModule(bytes, { mode: 'eddi', functions: { exclude: ['step', names[0]] } }).report;
    expect(skip.functions.leftAlone).toEqual(expect.arrayContaining([names[0], only.functions.hardened[0]]));
    expect(skip.functions.hardened).toHaveLength(names.length - 2);
  });

  for (const mode of MODES) {
    it(`${mode}: functions left alone keep the shadows coherent (global writes, and under EDDI stores), so no check fails spuriously`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 5 }), fc.nat(), (choices, inputs, depth, pick) => {
          const text = programText(choices, depth);
          const names = functionNames(assemble(text));
          // Any subset of the functions, by bits of `pick`.
          const include = names.filter((_, i) => (pick >> i) & 1);
          agreeOn(text, { mode, families: [...CHECK_FAMILIES], functions: { include } }, inputs);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('the passes are registered by name and run with the default families', () => {
    for (const mode of MODES) {
      const { binary, reports } = transformBinary(referenceBytes(), [mode], 'adcs');
      expect((reports.get(mode) as { checks: { total: number } }).checks.total).toBe(hardenModule(referenceBytes(), { mode }).report.checks.total);
      expect(binary).toEqual(hardenModule(referenceBytes(), { mode }).binary);
    }
  });
});

describe('names survive hardening and the core passes', () => {
  const C_ADCS = fileURLToPath(new URL('../examples/c-adcs/adcs.wasm', import.meta.url));
  const named = (name: string) => !/^\d+$|^function #|^global\$\d+$/.test(name);

  it.each(HARDENING_NAMES)('the C flight program, %s: inspect, the fault sites replay describes and the core name functions and globals as the source does', (hardening) => {
    const bytes = new Uint8Array(readFileSync(C_ADCS));
    const { binary } = hardenModule(bytes, { ...HARDENINGS[hardening], source: C_ADCS });
    const plain = inspectModule(bytes, C_ADCS);
    const report = inspectModule(binary, `${C_ADCS} (${hardening})`);
    expect(report.functions.largest.map((entry) => entry.name)).toEqual(expect.arrayContaining(['step', 'estimator_star_update', 'estimator_propagate']));
    expect(report.functions.largest.every((entry) => named(entry.name))).toBe(true);
    expect(new Set(report.functions.largest.map((entry) => entry.name))).toEqual(new Set(plain.functions.largest.map((entry) => entry.name)));
    expect(report.globals.every((global) => named(global.name))).toBe(true);
    // What replay says of a result or branch fault: "... in function estimator_star_update".
    const { flightModule, report: hooks } = prepareFaultModule(binary, C_ADCS);
    expect(hooks.sites.every((site) => named(site.function))).toBe(true);
    expect(new Set(hooks.sites.map((site) => site.function))).toContain('estimator_star_update');
    expect(flightModule.stateGlobals.map((global) => global.name)).toEqual(expect.arrayContaining(['__stack_pointer', OPAQUE_ZERO_F64_GLOBAL]));
    // Binaryen's debug-info flag, global state, is as it was.
    expect(binaryen.getDebugInfo()).toBe(false);
  });

  it('the reference flight software (asc keeps no names): functions as the plain build calls them, the hardening\'s state globals by name', () => {
    for (const mode of MODES) {
      const { binary } = hardenModule(referenceBytes(), { mode });
      const names = (bytes: Uint8Array) => inspectModule(bytes, 'adcs').functions.largest.map((entry) => entry.name).sort();
      expect(names(binary)).toEqual(names(referenceBytes()));
      const core = FlightModule.fromBytes(binary, `adcs (${mode})`);
      expect(core.stateGlobals.every((global) => named(global.name))).toBe(true);
      expect(core.stateGlobals.map((global) => global.name)).toContain(OPAQUE_ZERO_F64_GLOBAL);
    }
  });
});

describe('errors', () => {
  it('refuses what is not a module, does not validate, or uses unsupported features, naming the source', () => {
    expect(() => hardenModule(new TextEncoder().encode('(module)'), { mode: 'swift', source: 'text.wat' })).toThrow(/text\.wat: not a WebAssembly binary/);
    expect(() => hardenModule(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5]), { mode: 'eddi', source: 'cut.wasm' })).toThrow(ModuleError);
    const threads = binaryen.parseText('(module (memory 1 1 shared) (func (export "f") (result i32) (i32.atomic.load (i32.const 0))))');
    threads.setFeatures(binaryen.Features.All);
    const bytes = threads.emitBinary();
    threads.dispose();
    expect(() => hardenModule(bytes, { mode: 'swift', source: 'threads.wasm' })).toThrow(/threads\.wasm: uses threads \(atomics, shared memory\), which lockstep does not support; compile without it \(clang: -mcpu=mvp/);
  });

  it('names the function and the instruction it cannot harden', () => {
    const module = binaryen.parseText('(module (memory 1 1 shared) (func $spin (param i32) (result i32) (i32.atomic.rmw.add (local.get 0) (i32.const 1))))');
    module.setFeatures(binaryen.Features.All);
    try {
      expect(() => hardenInPlace(module, { mode: 'swift', families: new Set(DEFAULT_FAMILIES), hardens: () => true })).toThrow(
        /function spin: the AtomicRMW instruction is not supported/,
      );
    } finally {
      module.dispose();
    }
  });

  it('refuses a module hardened already, EDDI on memory it cannot double, and bad options', () => {
    const hardened = hardenModule(referenceBytes(), { mode: 'swift' }).binary;
    expect(() => hardenModule(hardened, { mode: 'eddi', source: 'twice.wasm' })).toThrow(/twice\.wasm: the module is hardened already/);
    expect(() => hardenModule(assemble('(module (import "env" "memory" (memory 1)) (func (export "f")))'), { mode: 'eddi', source: 'imported.wasm' })).toThrow(
      /imported\.wasm: EDDI needs the module to define its memory/,
    );
    expect(() => hardenModule(assemble('(module (memory 40000) (func (export "f")))'), { mode: 'eddi', source: 'big.wasm' })).toThrow(/big\.wasm: EDDI doubles memory: 40000 pages/);
    expect(hardenModule(assemble('(module (memory 40000) (func (export "f")))'), { mode: 'swift' }).report.memory).toBeNull();
    const bad: Array<[HardenOptions, RegExp]> = [
      [{ mode: 'tmr' as 'swift' }, /mode: "tmr" is not a hardening mode/],
      [{ mode: 'swift', families: ['everything' as CheckFamily] }, /"everything" is not a check family/],
      [{ mode: 'swift', functions: { include: ['step'], exclude: ['init'] } }, /not both/],
      [{ mode: 'swift', functions: { include: ['navigate'] } }, /defines no function "navigate" \(functions: .*step/],
      [{ mode: 'eddi', functions: { exclude: ['navigate'] } }, /functions\.exclude: .* "navigate"/],
    ];
    for (const [options, message] of bad) {
      expect(() => hardenModule(referenceBytes(), options)).toThrow(HardenOptionsError);
      expect(() => hardenModule(referenceBytes(), options)).toThrow(message);
    }
  });
});

describe('lockstep harden', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lockstep-harden-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));


  it('--only, --skip, --checks, --copy-loads, --pure-imports and --json reach the library, and the module is written', async () => {
    const output = join(dir, 'only.wasm');
    const json = join(dir, 'only.json');
    const result = await cli(['harden', REFERENCE_FSW, '-o', output, '--mode', 'swift', '--only', 'step', '--checks', 'stores,branches', '--copy-loads', '--pure-imports', 'bus.*', '--json', json]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(swift, loads copied\)/);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.functions.hardened).toHaveLength(1);
    expect(report.families).toEqual(['stores', 'branches']);
    expect(report.loadShadows).toBe('copied');
    expect(report.importCallsRepeated).toBeGreaterThan(10);
    expect(result.stdout).toMatch(/import calls made twice \d+/);
    expect(new Uint8Array(readFileSync(output))).toEqual(
      hardenModule(referenceBytes(), { mode: 'swift', functions: { include: ['step'] }, families: ['stores', 'branches'], swiftLoads: 'copy', pureImports: ['bus.*'], source: REFERENCE_FSW })
        .binary,
    );
    const skip = await cli(['harden', REFERENCE_FSW, '-o', join(dir, 'skip.wasm'), '--mode', 'eddi', '--skip', 'init']);
    expect(skip.code).toBe(0);
    expect(skip.stdout).toMatch(/left alone: /);
    expect(skip.stdout).toMatch(/memory\s+1 → 2 pages/);
  });

  it('answers bad options with the flag at fault, exit code 2 and no output file', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--only', 'step', '--skip', 'init'], /--only and --skip: give one of them/],
      [['--only', 'navigate'], /--only: .* defines no function "navigate"/],
      [['--skip', 'navigate'], /--skip: .* defines no function "navigate"/],
      [['--checks', 'stores,everything'], /--checks: "everything" is not a check family/],
    ];
    for (const [extra, message] of cases) {
      const output = join(dir, 'bad.wasm');
      const result = await cli(['harden', REFERENCE_FSW, '-o', output, '--mode', 'swift', ...extra]);
      expect(result.code, extra.join(' ')).toBe(EXIT.usage);
      expect(result.stderr).toMatch(message);
      expect(existsSync(output)).toBe(false);
    }
    const eddi = await cli(['harden', REFERENCE_FSW, '-o', join(dir, 'bad.wasm'), '--mode', 'eddi', '--copy-loads']);
    expect(eddi.code).toBe(EXIT.usage);
    expect(eddi.stderr).toMatch(/--copy-loads: EDDI loads shadows from shadow memory/);
    expect(existsSync(join(dir, 'bad.wasm'))).toBe(false);
    expect(() => hardenModule(referenceBytes(), { mode: 'swift', swiftLoads: 'twice' as 'copy' })).toThrow(/swiftLoads: "twice" is not a way of shadowing loads \(reload, copy\)/);
  });
});

describe('benchHardening', () => {
  it('times the plain, SWIFT (reloading and copying loads) and EDDI builds side by side and gives their ratios', () => {
    const result = benchHardening(setupFor({}), { rounds: 3, cyclesPerRound: 20 });
    expect(Object.keys(result.nsPerCycle).sort()).toEqual(['eddi', 'eddiCfc', 'plain', 'swift', 'swiftBus', 'swiftCfc', 'swiftCopy']);
    for (const ns of Object.values(result.nsPerCycle)) expect(ns).toBeGreaterThan(0);
    expect(result.ratios.swiftVsPlain).toBeCloseTo(result.nsPerCycle.swift / result.nsPerCycle.plain, 10);
    expect(result.ratios.swiftCopyVsPlain).toBeCloseTo(result.nsPerCycle.swiftCopy / result.nsPerCycle.plain, 10);
    expect(result.ratios.swiftBusVsPlain).toBeCloseTo(result.nsPerCycle.swiftBus / result.nsPerCycle.plain, 10);
    expect(result.ratios.eddiVsPlain).toBeCloseTo(result.nsPerCycle.eddi / result.nsPerCycle.plain, 10);
    expect(result.ratios.swiftCfcVsPlain).toBeCloseTo(result.nsPerCycle.swiftCfc / result.nsPerCycle.plain, 10);
    expect(result.ratios.eddiCfcVsPlain).toBeCloseTo(result.nsPerCycle.eddiCfc / result.nsPerCycle.plain, 10);
    const text = formatHardeningBench(result);
    for (const name of HARDENING_NAMES) expect(text).toContain(`  ${name} `);
    expect(text).toMatch(/swift +SWIFT, loads loaded again +[\d.]+ µs\/cycle +[\d.]+× plain \(goal ≤ 1\.5×\)/);
    expect(text).toMatch(/eddi +EDDI.* plain \(goal ≤ 2\.0×\)/);
  });

  it('times each kernel the same way', () => {
    const kernels = benchKernelHardening({ rounds: 2, cyclesPerRound: 5 });
    expect(Object.keys(kernels)).toEqual(['matmul', 'crc32', 'quicksort', 'sha256']);
    for (const figures of Object.values(kernels)) expect(figures.ratios.swiftVsPlain).toBeGreaterThan(0);
    expect(formatHardeningBench(kernels.matmul!, kernels)).toMatch(/sha256 +plain .*; swift .*×, swift-copy .*×, swift-bus .*×, eddi .*×/);
  });
});
