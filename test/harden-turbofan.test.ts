// The hardening properties with every function compiled by V8's optimizing compiler (TurboFan), which
// folds, merges and reorders what its baseline compiler (Liftoff) executes as written: here the shadows'
// opacity and the checks' NaN tolerance matter. A file of its own: V8's flags hold for the whole process
// (vitest runs each test file in a process of its own) and are set before any module is compiled.
//
// TurboFan picks NaN payloads differently from Liftoff (by register allocation, which may commute an
// operation's operands, and by folding some operations on constants differently from the machine), for
// the original as much as the hardened module; so these programs canonicalize NaNs where their bits
// become observable (harden-programs.ts), and everything else is compared bit for bit.
import v8 from 'node:v8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordInputFrames } from '../src/bench/bench.js';
import { Core } from '../src/core/core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { CHECK_FAMILIES, hardenModule } from '../src/harden.js';
import { OPAQUE_ZERO_GLOBAL } from '../src/passes/opaque-zero.js';
import { COUNTDOWN_GLOBAL, MASK_GLOBAL, hardenWithFlipHook } from './harden-inject.js';
import { assemble, choicesArbitrary, inputArbitrary, observable, programText, runProgram } from './harden-programs.js';
import { agreeOn, COUNTED_LOOPS, inputsArbitrary, MODES, optimizeO3, perturbZeros, referenceBytes } from './harden-support.js';
import { outputBits, setupFor, wat } from './support.js';

v8.setFlagsFromString('--no-liftoff');

describe('under the optimizing compiler', () => {
  // A counted loop's exit check (counted-loops.ts) compares i with max(e, n), e being i on entry through
  // the opaque zero: TurboFan, which types a loop's induction variable, must not prove it away. With the
  // opaque zero set to all ones, e is ~i: the inner loop (unsigned, from 0) then expects ~0 at its exit,
  // and the outer one entered past its bound expects max(~a, n) ≠ a: each such run must fail.
  it('edges alone: a counted loop\'s exit check survives Binaryen -O3 and TurboFan', () => {
    const { binary } = hardenModule(wat(COUNTED_LOOPS), { mode: 'swift', families: ['edges'] });
    for (const build of [binary, optimizeO3(binary)]) {
      const compiled = new WebAssembly.Module(build as Uint8Array<ArrayBuffer>);
      const plain = new WebAssembly.Module(wat(COUNTED_LOOPS) as Uint8Array<ArrayBuffer>);
      const run = (module: WebAssembly.Module, a: number, n: number, perturb: boolean) => {
        const instance = new WebAssembly.Instance(module, { lockstep: { check_failed: () => { throw new Error('check'); } } });
        if (perturb) (instance.exports[OPAQUE_ZERO_GLOBAL] as WebAssembly.Global).value = -1;
        try {
          // Called often enough for TurboFan's code (there is no Liftoff here), then once more.
          let result = 0;
          for (let k = 0; k < 50; k++) result = (instance.exports.run as (a: number, n: number) => number)(a, n);
          return `ok ${result}`;
        } catch (error) {
          return (error as Error).message;
        }
      };
      for (const [a, n] of [[0, 4], [2, 5], [6, 2], [3, -1]] as const) {
        expect(run(compiled, a, n, false)).toBe(run(plain, a, n, false));
        expect(run(compiled, a, n, true), `run(${a}, ${n}) with the opaque zero perturbed`).toBe('check');
      }
    }
  });

  for (const mode of MODES) {
    it(`${mode}: a hardened program computes what the original computes`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), fc.boolean(), (choices, inputs, depth, copyLoads) =>
          agreeOn(programText(choices, depth, { canonicalNaNs: true }), { mode, families: [...CHECK_FAMILIES], swiftLoads: mode === 'swift' && copyLoads ? 'copy' : undefined }, inputs),
        ),
        { numRuns: 300 },
      );
    });

    it(`${mode}: the hardened reference flight software computes what the plain build computes, cycle by cycle`, () => {
      const setup = setupFor({});
      const frames = recordInputFrames(setup, 200);
      const plain = new Core(setup.flightModule, 'plain', frames[0]);
      const hardened = new Core(FlightModule.fromBytes(hardenModule(referenceBytes(), { mode }).binary, `adcs-${mode}`), mode, frames[0]);
      plain.boot(setup.computer.bootInstructions);
      hardened.boot(setup.computer.bootInstructions);
      for (const frame of frames) {
        plain.inputs = hardened.inputs = frame;
        plain.step(setup.computer.watchdogInstructions);
        expect(hardened.step(setup.computer.watchdogInstructions).status).toBe('ok');
        expect(outputBits(hardened.outputs)).toEqual(outputBits(plain.outputs));
      }
    });

    // Binaryen's -O3, then TurboFan: with every shadow made to differ (the opaque zeros set non-zero), the
    // optimized module fails the same check at the same point as the unoptimized one (or traps, or
    // completes, the same way): optimization kept every check that can run. A check -O3 deletes is one in
    // code it proved dead (after a call that always traps, say) or on a value it proved constant in both
    // copies.
    it(`${mode}: after Binaryen -O3, every check that runs still fails when a shadow differs`, () => {
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

  for (const [mode, swiftLoads] of [['swift', 'copy'], ['swift', 'reload'], ['eddi', undefined]] as const) {
    it(`${mode}${swiftLoads ? ` (loads: ${swiftLoads})` : ''}: a flipped value or shadow is caught by a check or a trap, or changes nothing`, () => {
      fc.assert(
        fc.property(
          choicesArbitrary,
          inputArbitrary,
          fc.array(fc.record({ at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), bit: fc.nat({ max: 63 }) }), { minLength: 1, maxLength: 6 }),
          (choices, input, flips) => {
            const { binary, sites } = hardenWithFlipHook(assemble(programText(choices, 4, { canonicalNaNs: true })), mode, CHECK_FAMILIES, { swiftLoads });
            fc.pre(sites > 0);
            const compiled = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
            const doubled = mode === 'eddi';
            const countdown = (exports: Record<string, unknown>) => exports[COUNTDOWN_GLOBAL] as WebAssembly.Global;
            let executed = 0;
            const golden = observable(runProgram(compiled, input, { doubled, afterRun: (exports) => (executed = -1 - (countdown(exports).value as number)) }));
            for (const flip of flips) {
              if (executed === 0) break;
              const outcome = observable(
                runProgram(compiled, input, {
                  doubled,
                  before: (exports) => {
                    countdown(exports).value = Math.floor(flip.at * executed);
                    (exports[MASK_GLOBAL] as WebAssembly.Global).value = 1n << BigInt(flip.bit);
                  },
                  afterRun: (exports) => (countdown(exports).value = -1),
                }),
              );
              if (outcome.result === golden.result || !/^(check|trap)/.test(outcome.result)) expect(outcome).toEqual(golden);
            }
          },
        ),
        { numRuns: 100 },
      );
    });
  }
});
