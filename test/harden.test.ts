// SWIFT and EDDI (src/passes/swift.ts, eddi.ts, hardening-common.ts; src/harden.ts): a hardened module
// computes bit for bit what the original computes, on generated programs and inputs and on the reference
// flight software cycle by cycle; a flipped bit in a value or a shadow is caught; the checks survive
// Binaryen's -O3; options, errors and the report.
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordInputFrames } from '../src/bench/bench.js';
import { Core } from '../src/core/core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { CHECK_IMPORT, CHECK_MODULE } from '../src/core/traps.js';
import { CHECK_FAMILIES, hardenModule, type CheckFamily, type HardenOptions } from '../src/harden.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import binaryen, { SUPPORTED_FEATURES } from '../src/passes/binaryen.js';
import { definedFunctions, walkPostOrder } from '../src/passes/expressions.js';
import {
  DEFAULT_FAMILIES,
  OPAQUE_ZERO_F32_GLOBAL,
  OPAQUE_ZERO_F64_GLOBAL,
  OPAQUE_ZERO_GLOBAL,
  OPAQUE_ZERO_I64_GLOBAL,
  hardenInPlace,
} from '../src/passes/hardening-common.js';
import { readModule } from '../src/passes/index.js';
import { assemble, choicesArbitrary, inputArbitrary, observable, programText, runEveryKindModule, runProgram } from './harden-programs.js';
import { COUNTDOWN_GLOBAL, MASK_GLOBAL, hardenWithFlipHook } from './harden-inject.js';
import { choicesArbitrary as everyKindChoices, randomModuleText, watWithFeatures } from './random-module.js';
import { fly, outputBits, setupFor } from './support.js';

const MODES = ['swift', 'eddi'] as const;

/** Original and hardened agree on every input: result bits or trap, memory, globals, host calls. */
function agreeOn(text: string, options: HardenOptions, inputs: ReadonlyArray<Parameters<typeof runProgram>[1]>): void {
  const original = assemble(text);
  const { binary } = hardenModule(original, options);
  const plain = new WebAssembly.Module(original as Uint8Array<ArrayBuffer>);
  const hardened = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
  for (const input of inputs) {
    const expected = runProgram(plain, input);
    const actual = runProgram(hardened, input, { doubled: options.mode === 'eddi' });
    expect(observable(actual)).toEqual(observable(expected));
    // EDDI: shadow memory is a copy of the program's, whatever happened (a trap included).
    if (options.mode === 'eddi') expect(actual.shadow).toBe(actual.memory);
  }
}

const inputsArbitrary = fc.array(inputArbitrary, { minLength: 1, maxLength: 4 });

describe('semantics: a hardened program computes what the original computes', () => {
  for (const mode of MODES) {
    it(`${mode}: same result bits or trap, same memory, globals and host calls, on generated programs and inputs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, (choices, inputs) => agreeOn(programText(choices), { mode }, inputs)),
        { numRuns: 300 },
      );
    });

    it(`${mode}: the same with any set of check families (none included) and deeper programs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, fc.subarray([...CHECK_FAMILIES]), fc.integer({ min: 2, max: 6 }), (choices, inputs, families, depth) =>
          agreeOn(programText(choices, depth), { mode, families: families as CheckFamily[] }, inputs),
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

  // V8's optimizing compiler picks NaN payloads differently from its baseline compiler (by register
  // allocation, and by folding some operations on constants), for the original as much as the hardened
  // module; these programs canonicalize NaNs where their bits become observable (harden-programs.ts),
  // so that everything else is compared bit for bit with every function compiled by TurboFan, where the
  // shadows' opacity and the checks' NaN tolerance matter.
  describe('with every function compiled by the optimizing compiler', () => {
    beforeAll(() => v8.setFlagsFromString('--no-liftoff'));
    afterAll(() => v8.setFlagsFromString('--liftoff'));
    for (const mode of MODES) {
      it(`${mode}: same observable outcome`, () => {
        fc.assert(
          fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), (choices, inputs, depth) =>
            agreeOn(programText(choices, depth, { canonicalNaNs: true }), { mode, families: [...CHECK_FAMILIES] }, inputs),
          ),
          { numRuns: 300 },
        );
      });
    }
  });
});

describe('detection: a flipped bit in a value or in its shadow is caught', () => {
  for (const mode of MODES) {
    it(`${mode}: flipping any bit of any computed value or shadow, at any execution, is caught by a check or a trap, or changes nothing`, () => {
      let detected = 0;
      let masked = 0;
      fc.assert(
        fc.property(
          choicesArbitrary,
          inputArbitrary,
          fc.array(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bit: fc.nat({ max: 63 }) }), { minLength: 1, maxLength: 8 }),
          (choices, input, flips) => {
            // NaNs canonicalized where observable: the checks take two NaNs as equal (hardening-common.ts),
            // so a flip that leaves a NaN a NaN (its sign, its payload) goes unseen, by design.
            const original = assemble(programText(choices, 4, { canonicalNaNs: true }));
            const { binary, sites } = hardenWithFlipHook(original, mode, CHECK_FAMILIES);
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
      if (process.env.SHOW) console.log(mode, { detected, masked });
      expect(detected).toBeGreaterThan(masked / 10);
    });
  }
});

/** The check sites (the constants passed to lockstep.check_failed) a binary still calls. */
function checkSites(binary: Uint8Array): Map<number, number> {
  const module = binaryen.readBinary(binary);
  try {
    module.setFeatures(SUPPORTED_FEATURES);
    let target = '';
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module === CHECK_MODULE && info.base === CHECK_IMPORT) target = info.name;
    }
    const sites = new Map<number, number>();
    for (const fn of definedFunctions(module)) {
      const info = binaryen.getFunctionInfo(fn);
      walkPostOrder(info.body, info.name, (expr) => {
        if (binaryen.getExpressionId(expr) !== binaryen.CallId || binaryen.Call.getTarget(expr) !== target) return;
        const site = binaryen.Call.getOperandAt(expr, 0);
        const id = binaryen.getExpressionId(site) === binaryen.ConstId ? (binaryen.Const.getValueI32(site) as number) : -1;
        sites.set(id, (sites.get(id) ?? 0) + 1);
      });
    }
    return sites;
  } finally {
    module.dispose();
  }
}

/**
 * Binaryen's -O3 (optimizeLevel 3, shrinkLevel 0), the way wasm-opt -O3 runs it; level 4 (-O4) flattens
 * first and eliminates common subexpressions across the flattened locals (local-cse), which is what
 * merges a computation with its shadow when nothing keeps them apart.
 */
function optimizeO3(binary: Uint8Array, level = 3): Uint8Array {
  const module = binaryen.readBinary(binary);
  const [optimize, shrink] = [binaryen.getOptimizeLevel(), binaryen.getShrinkLevel()];
  try {
    module.setFeatures(SUPPORTED_FEATURES);
    binaryen.setOptimizeLevel(level);
    binaryen.setShrinkLevel(0);
    module.optimize();
    if (!module.validate()) throw new Error('-O3 produced an invalid module');
    return module.emitBinary();
  } finally {
    binaryen.setOptimizeLevel(optimize);
    binaryen.setShrinkLevel(shrink);
    module.dispose();
  }
}

const referenceBytes = () => new Uint8Array(readFileSync(REFERENCE_FSW));

/** Makes every shadow differ from its value: the opaque zeros are no longer zero. */
function perturbZeros(exports: Record<string, unknown>): void {
  (exports[OPAQUE_ZERO_GLOBAL] as WebAssembly.Global).value = 1;
  (exports[OPAQUE_ZERO_I64_GLOBAL] as WebAssembly.Global).value = 1n;
  (exports[OPAQUE_ZERO_F32_GLOBAL] as WebAssembly.Global).value = 1;
  (exports[OPAQUE_ZERO_F64_GLOBAL] as WebAssembly.Global).value = 1;
}

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
      const module = readModule(referenceBytes(), 'adcs');
      let binary: Uint8Array;
      try {
        hardenInPlace(module, { mode, families: new Set(DEFAULT_FAMILIES), hardens: () => true, opaque: false });
        binary = module.emitBinary();
      } finally {
        module.dispose();
      }
      const before = checkSites(binary).size;
      const after = checkSites(optimizeO3(binary, 4)).size;
      expect(before).toBe(hardenModule(referenceBytes(), { mode }).report.checks.total);
      // SWIFT copies loaded values into shadows, which -O4 sees through (measured: 77 of 117 left); EDDI
      // loads shadows from shadow memory, which keeps more of them apart (101 of 117).
      expect(after).toBeLessThan(before * (mode === 'swift' ? 0.75 : 0.9));
    });
  }

  // Binaryen's -O3 then V8's TurboFan: with every shadow made to differ (the opaque zeros set non-zero), the
  // optimized module fails the same check at the same point as the unoptimized one (or traps, or completes,
  // the same way): optimization kept every check that can run. A check -O3 deletes is one in code it proved
  // dead (after a call that always traps, say) or on a value it proved constant in both copies.
  describe('with every function compiled by the optimizing compiler', () => {
    beforeAll(() => v8.setFlagsFromString('--no-liftoff'));
    afterAll(() => v8.setFlagsFromString('--liftoff'));
    for (const mode of MODES) {
      it(`${mode}: on generated programs, Binaryen -O3 leaves every check that runs, and V8 too`, () => {
        let fired = 0;
        fc.assert(
          fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), (choices, inputs, depth) => {
            const original = assemble(programText(choices, depth, { canonicalNaNs: true }));
            const { binary } = hardenModule(original, { mode, families: [...CHECK_FAMILIES] });
            const hardened = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
            const optimized = new WebAssembly.Module(optimizeO3(binary) as Uint8Array<ArrayBuffer>);
            const doubled = mode === 'eddi';
            for (const input of inputs) {
              const expected = observable(runProgram(hardened, input, { doubled, before: perturbZeros }));
              expect(observable(runProgram(optimized, input, { doubled, before: perturbZeros }))).toEqual(expected);
              if (expected.result.startsWith('check')) fired++;
            }
          }),
          { numRuns: 200 },
        );
        expect(fired).toBeGreaterThan(200);
      });
    }
  });
});

describe('the reference flight software hardened', () => {
  for (const mode of MODES) {
    it(`${mode}: outputs and memory identical to the plain build, cycle by cycle, on recorded inputs`, () => {
      const setup = setupFor({});
      const frames = recordInputFrames(setup, 500);
      const { binary } = hardenModule(referenceBytes(), { mode });
      const plain = new Core(setup.flightModule, 'plain', frames[0]);
      const hardened = new Core(FlightModule.fromBytes(binary, `adcs-${mode}`), mode, frames[0]);
      const programMemory = () => {
        const bytes = hardened.memoryBytes();
        return mode === 'eddi' ? bytes.subarray(bytes.length / 2) : bytes;
      };
      const sameState = () => {
        expect(Buffer.compare(programMemory(), plain.memoryBytes())).toBe(0);
        if (mode === 'eddi') expect(Buffer.compare(hardened.memoryBytes().subarray(0, plain.memoryBytes().length), plain.memoryBytes())).toBe(0);
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
